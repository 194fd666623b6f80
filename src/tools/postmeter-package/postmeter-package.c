/* postmeter-package: sign, verify and try out rate packages
 *
 *   postmeter-package genkey PRIVATE.key PUBLIC.pub
 *   postmeter-package sign --key PRIVATE.key --expires YYYY-MM-DD PACKAGE.xml
 *   postmeter-package verify --key PUBLIC.pub [--installed-version N] PACKAGE.xml
 *   postmeter-package quote --key PUBLIC.pub --rates DIR --class CLASS --shape SHAPE
 *                           --weight "3.5 oz" [--date YYYY-MM-DD]
 *                           [--zones DIR --from ZIP --to ZIP | --zone N] ...
 *
 * Signing reads the package's id and version from the XML itself, so the signature can
 * never disagree with the package it covers. A command-line tool, so it prints.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pm-clock.h"
#include "pm-package.h"
#include "pm-rate-package.h"
#include "pm-rating.h"

static int
fail (GError *error)
{
  fprintf (stderr, "postmeter-package: %s\n", error->message);
  g_error_free (error);
  return 1;
}

static int
usage (void)
{
  fprintf (stderr,
           "Usage:\n"
           "  postmeter-package genkey PRIVATE.key PUBLIC.pub\n"
           "  postmeter-package sign --key PRIVATE.key --expires YYYY-MM-DD PACKAGE.xml\n"
           "  postmeter-package verify --key PUBLIC.pub [--installed-version N] PACKAGE.xml\n"
           "  postmeter-package quote --key PUBLIC.pub --rates DIR --class CLASS\n"
           "      [--shape letter|postcard|flat|parcel] --weight WEIGHT [--date YYYY-MM-DD]\n"
           "      [--size \"L W T\" (inches)] [--zones DIR --from ZIP --to ZIP | --zone N]\n"
           "      [--retail] [--nonmachinable]\n"
           "      [--service NAME]... [--declared-value AMOUNT]\n"
           "Classes: first-class, first-class-international, ground-advantage,\n"
           "         priority-mail, priority-mail-express\n");
  return 2;
}

static int
run_genkey (int    argc,
            char **argv)
{
  g_autoptr (PmSigningKey) key = NULL;
  g_autoptr (PmVerifyKey) verify_key = NULL;
  g_autoptr (GBytes) private_pem = NULL;
  g_autoptr (GBytes) public_pem = NULL;
  g_autofree char *fingerprint = NULL;
  GError *error = NULL;

  if (argc != 4)
    return usage ();

  key = pm_signing_key_generate (&error);
  if (key == NULL)
    return fail (error);
  verify_key = pm_signing_key_get_verify_key (key);
  private_pem = pm_signing_key_to_pem (key);
  public_pem = pm_verify_key_to_pem (verify_key);

  if (!g_file_set_contents_full (argv[2], g_bytes_get_data (private_pem, NULL),
                                 g_bytes_get_size (private_pem),
                                 G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error)
      || !g_file_set_contents (argv[3], g_bytes_get_data (public_pem, NULL),
                               g_bytes_get_size (public_pem), &error))
    return fail (error);

  fingerprint = pm_verify_key_fingerprint (verify_key);
  printf ("Key pair written; public key fingerprint %s\n", fingerprint);
  return 0;
}

static char *key_path;
static char *expires_text;
static char *rates_dir;
static char *zones_dir;
static char *class_text;
static char *shape_text = "parcel";
static char *weight_text;
static char *date_text;
static char *size_text;
static char *origin_zip;
static char *destination_zip;
static char *declared_text;
static char **service_texts;
static gint installed_version;
static gint zone_override;
static gboolean retail;
static gboolean nonmachinable;

static const GOptionEntry entries[] = {
  { "key", 0, 0, G_OPTION_ARG_FILENAME, &key_path, "Private key (sign) or public key", "FILE" },
  { "expires", 0, 0, G_OPTION_ARG_STRING, &expires_text, "Signature expiry", "YYYY-MM-DD" },
  { "installed-version", 0, 0, G_OPTION_ARG_INT, &installed_version,
    "Refuse packages older than this", "N" },
  { "rates", 0, 0, G_OPTION_ARG_FILENAME, &rates_dir, "Folder of signed packages", "DIR" },
  { "zones", 0, 0, G_OPTION_ARG_FILENAME, &zones_dir, "Folder of zone charts", "DIR" },
  { "class", 0, 0, G_OPTION_ARG_STRING, &class_text, "Class of mail", "CLASS" },
  { "shape", 0, 0, G_OPTION_ARG_STRING, &shape_text, "Shape of the piece", "SHAPE" },
  { "weight", 0, 0, G_OPTION_ARG_STRING, &weight_text, "Weight, e.g. \"2 lb 3.4 oz\"", "W" },
  { "date", 0, 0, G_OPTION_ARG_STRING, &date_text, "Date of mailing", "YYYY-MM-DD" },
  { "size", 0, 0, G_OPTION_ARG_STRING, &size_text, "Sides in inches", "\"L W T\"" },
  { "from", 0, 0, G_OPTION_ARG_STRING, &origin_zip, "Origin ZIP", "ZIP" },
  { "to", 0, 0, G_OPTION_ARG_STRING, &destination_zip, "Destination ZIP", "ZIP" },
  { "zone", 0, 0, G_OPTION_ARG_INT, &zone_override, "Zone, instead of a zone chart", "N" },
  { "retail", 0, 0, G_OPTION_ARG_NONE, &retail, "Retail (stamped) prices", NULL },
  { "nonmachinable", 0, 0, G_OPTION_ARG_NONE, &nonmachinable, "Nonmachinable piece", NULL },
  { "service", 0, 0, G_OPTION_ARG_STRING_ARRAY, &service_texts, "Extra service", "NAME" },
  { "declared-value", 0, 0, G_OPTION_ARG_STRING, &declared_text, "Value to insure", "AMOUNT" },
  { NULL }
};

static gboolean
read_file (const char *path,
           GBytes    **out,
           GError    **error)
{
  char *data = NULL;
  gsize length = 0;

  if (!g_file_get_contents (path, &data, &length, error))
    return FALSE;
  *out = g_bytes_new_take (data, length);
  return TRUE;
}

static int
run_sign (const char *path)
{
  g_autoptr (GBytes) pem = NULL;
  g_autoptr (GBytes) content = NULL;
  g_autoptr (GBytes) signature = NULL;
  g_autoptr (PmSigningKey) key = NULL;
  g_autoptr (PmRatePackage) package = NULL;
  g_autoptr (GDateTime) expires = NULL;
  g_autofree char *signature_path = NULL;
  g_autofree char *iso = NULL;
  GError *error = NULL;

  if (key_path == NULL || expires_text == NULL)
    return usage ();
  iso = g_strconcat (expires_text, "T00:00:00Z", NULL);
  expires = g_date_time_new_from_iso8601 (iso, NULL);
  if (expires == NULL)
    {
      fprintf (stderr, "postmeter-package: --expires wants a date like 2028-01-01\n");
      return 2;
    }

  if (!read_file (key_path, &pem, &error))
    return fail (error);
  key = pm_signing_key_new_from_pem (g_bytes_get_data (pem, NULL), g_bytes_get_size (pem),
                                     &error);
  if (key == NULL || !read_file (path, &content, &error))
    return fail (error);

  /* A rate package that does not parse must not be signed. */
  package = pm_rate_package_parse (g_bytes_get_data (content, NULL),
                                   g_bytes_get_size (content), &error);
  if (package == NULL)
    return fail (error);

  signature = pm_package_sign (key, package->id, PM_PACKAGE_CONTENT_TYPE_RATES,
                               package->version, g_date_time_to_unix (expires), content,
                               &error);
  if (signature == NULL)
    return fail (error);

  signature_path = g_strconcat (path, ".sig", NULL);
  if (!g_file_set_contents (signature_path, g_bytes_get_data (signature, NULL),
                            g_bytes_get_size (signature), &error))
    return fail (error);
  printf ("Signed %s version %u: %s\n", package->id, package->version, signature_path);
  return 0;
}

static void
print_package (PmRatePackage *package)
{
  g_autofree char *effective = pm_rate_date_format (package->effective);

  printf ("Rate package %s version %u, in force from %s: %s\n", package->id, package->version,
          effective, package->title);
  for (guint i = 0; i < package->n_products; i++)
    {
      const PmRateProduct *product = &package->products[i];

      for (guint t = 0; t < product->n_tables; t++)
        {
          const PmRateTable *table = &product->tables[t];
          g_autofree char *from = pm_rate_date_format (table->effective);
          g_autofree char *to = table->ends != 0 ? pm_rate_date_format (table->ends)
                                                 : g_strdup ("");
          static const char *const statuses[] = { "confirmed", "secondary", "provisional" };

          printf ("  %-36s %-28s %s%s%s, %u rows, %s%s\n", product->name, table->id, from,
                  table->ends != 0 ? " to " : " on", table->ends != 0 ? to : "",
                  table->n_breaks, statuses[table->status],
                  table->complete ? "" : ", PARTIAL");
        }
    }
}

static int
run_verify (const char *path)
{
  g_autoptr (PmVerifyKey) key = NULL;
  g_autoptr (GBytes) content = NULL;
  g_autoptr (PmPackageInfo) info = NULL;
  g_autoptr (PmRatePackage) package = NULL;
  g_autofree char *expires = NULL;
  g_autoptr (GDateTime) expiry = NULL;
  PmPackagePolicy policy = {
    .content_type = PM_PACKAGE_CONTENT_TYPE_RATES,
    .max_length = PM_RATE_PACKAGE_MAX_BYTES,
  };
  GError *error = NULL;

  if (key_path == NULL)
    return usage ();
  policy.installed_version = (guint) MAX (installed_version, 0);

  key = pm_package_load_key (key_path, &error);
  if (key == NULL)
    return fail (error);
  content = pm_package_load_file (path, key, &policy, &info, &error);
  if (content == NULL)
    return fail (error);
  package = pm_rate_package_parse (g_bytes_get_data (content, NULL),
                                   g_bytes_get_size (content), &error);
  if (package == NULL)
    return fail (error);

  expiry = g_date_time_new_from_unix_utc (info->expires);
  expires = g_date_time_format_iso8601 (expiry);
  printf ("Signature good: %s version %u, %" G_GSIZE_FORMAT " bytes, expires %s\n",
          info->name, info->version, info->length, expires);
  print_package (package);
  return 0;
}

static gboolean
fixed_zone (PmZoneChart *chart,
            PmMailClass  mail_class,
            const char  *origin,
            const char  *destination,
            guint       *out_zone,
            guint       *out_flags,
            GError     **error)
{
  *out_zone = (guint) zone_override;
  *out_flags = 0;
  return TRUE;
}

static int
run_quote (void)
{
  g_autoptr (PmVerifyKey) key = NULL;
  g_autoptr (PmRating) rating = NULL;
  g_auto (PmQuote) quote = { 0 };
  g_autofree char *text = NULL;
  PmRateRequest request = { 0 };
  GError *error = NULL;

  if (key_path == NULL || rates_dir == NULL || class_text == NULL || weight_text == NULL)
    return usage ();

  key = pm_package_load_key (key_path, &error);
  if (key == NULL)
    return fail (error);
  rating = pm_rating_new ();
  if (!pm_rating_install_directory (rating, rates_dir, key, &error))
    return fail (error);
  if (zones_dir != NULL && zone_override <= 0)
    {
      g_autoptr (PmZoneChart) chart = pm_zone_chart_new ();

      if (!pm_zone_chart_install_directory (chart, zones_dir, key, &error))
        return fail (error);
      pm_rating_set_zones (rating, chart);
    }
  if (zone_override > 0)
    {
      pm_rating_set_zone_chart (rating, NULL, fixed_zone);
      if (origin_zip == NULL)
        origin_zip = "00000";
      if (destination_zip == NULL)
        destination_zip = "00000";
    }

  if (!pm_mail_class_from_string (class_text, &request.mail_class)
      || !pm_shape_from_string (shape_text, &request.piece.shape))
    return usage ();
  if (!pm_weight_parse (weight_text, &request.piece.weight, &error))
    return fail (error);
  if (size_text != NULL)
    {
      double l, w, t;

      /* A command-line convenience only: sides are rounded to thousandths of an inch. */
      if (sscanf (size_text, "%lf %lf %lf", &l, &w, &t) != 3)
        return usage ();
      request.piece.length = (guint32) (l * 1000 + 0.5);
      request.piece.width = (guint32) (w * 1000 + 0.5);
      request.piece.thickness = (guint32) (t * 1000 + 0.5);
    }
  if (nonmachinable)
    request.piece.flags |= PM_PIECE_NONMACHINABLE;
  for (guint i = 0; service_texts != NULL && service_texts[i] != NULL; i++)
    {
      PmService service;

      if (!pm_service_from_string (service_texts[i], &service))
        return usage ();
      request.services |= service;
    }
  if (declared_text != NULL && !pm_money_parse_field ("Declared value", declared_text,
                                                      &request.declared_value, &error))
    return fail (error);
  if (date_text != NULL)
    {
      if (!pm_rate_date_parse (date_text, &request.date))
        return usage ();
    }
  else
    request.date = pm_rate_date_today ();
  request.channel = retail ? PM_PRICE_CHANNEL_RETAIL : PM_PRICE_CHANNEL_METER;
  request.origin_zip = origin_zip;
  request.destination_zip = destination_zip;

  if (!pm_rating_quote (rating, &request, &quote, &error))
    return fail (error);
  text = pm_quote_to_string (&quote);
  fputs (text, stdout);
  return 0;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr (GOptionContext) context = NULL;
  GError *error = NULL;
  const char *command;

  if (argc < 2)
    return usage ();
  command = argv[1];
  if (strcmp (command, "genkey") == 0)
    return run_genkey (argc, argv);

  context = g_option_context_new ("COMMAND [PACKAGE.xml]");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return fail (error);

  if (strcmp (command, "sign") == 0 && argc == 3)
    return run_sign (argv[2]);
  if (strcmp (command, "verify") == 0 && argc == 3)
    return run_verify (argv[2]);
  if (strcmp (command, "quote") == 0 && argc == 2)
    return run_quote ();
  return usage ();
}
