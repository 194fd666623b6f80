/* postmeter-zones: import USPS zone charts and look zones up
 *
 *   postmeter-zones import --csv CHART.csv --published YYYY-MM --source TEXT [--current]
 *                          --out DIR ORIGIN...
 *   postmeter-zones sign --key PRIVATE.key --expires YYYY-MM-DD [--version N] FILE...
 *   postmeter-zones lookup --zones DIR [--key PUBLIC.pub] [--class CLASS] FROM-ZIP TO-ZIP
 *   postmeter-zones list --zones DIR [--key PUBLIC.pub]
 *
 * import reads the public zone-chart CSV layout (origin_zip, dest_zip_start, dest_zip_end,
 * zone, modifier_1, modifier_2) and writes one data file per origin,
 * DIR/zone-chart-ORIGIN.txt, in the format data/zones/README.md describes. Files are
 * written only once the whole CSV has been read without fault. sign writes FILE.sig, the
 * detached signature a meter checks before it reads a chart (the name it signs is
 * "zone-chart-ORIGIN", from the file's own Origin line). With --key, lookup and list use
 * only correctly signed files. A command-line tool, so it prints.
 */
#include <stdio.h>
#include <string.h>

#include "pm-package.h"
#include "pm-zone-chart.h"

static char *csv_path;
static char *published;
static char *source;
static char *out_dir;
static char *zones_dir;
static char *class_text = "priority-mail";
static gboolean current;
static char *key_path;
static char *expires_text;
static gint version = 1;

static const GOptionEntry entries[] = {
  { "csv", 0, 0, G_OPTION_ARG_FILENAME, &csv_path, "Zone chart in the public CSV layout",
    "FILE" },
  { "published", 0, 0, G_OPTION_ARG_STRING, &published, "When USPS published the chart",
    "YYYY-MM" },
  { "source", 0, 0, G_OPTION_ARG_STRING, &source, "Where the chart comes from", "TEXT" },
  { "current", 0, 0, G_OPTION_ARG_NONE, &current, "The chart is the one in force now", NULL },
  { "out", 0, 0, G_OPTION_ARG_FILENAME, &out_dir, "Folder for the data files", "DIR" },
  { "zones", 0, 0, G_OPTION_ARG_FILENAME, &zones_dir, "Folder of zone chart data files",
    "DIR" },
  { "class", 0, 0, G_OPTION_ARG_STRING, &class_text, "Class, for class-only exceptions",
    "CLASS" },
  { "key", 0, 0, G_OPTION_ARG_FILENAME, &key_path, "Private key (sign) or public key",
    "FILE" },
  { "expires", 0, 0, G_OPTION_ARG_STRING, &expires_text, "Signature expiry", "YYYY-MM-DD" },
  { "version", 0, 0, G_OPTION_ARG_INT, &version, "Version the signature states", "N" },
  { NULL }
};

static int
fail (GError *error)
{
  fprintf (stderr, "postmeter-zones: %s\n", error->message);
  g_error_free (error);
  return 1;
}

static int
usage (void)
{
  fprintf (stderr,
           "Usage:\n"
           "  postmeter-zones import --csv CHART.csv --published YYYY-MM --source TEXT\n"
           "      [--current] --out DIR ORIGIN...\n"
           "  postmeter-zones sign --key PRIVATE.key --expires YYYY-MM-DD [--version N]\n"
           "      FILE...\n"
           "  postmeter-zones lookup --zones DIR [--key PUBLIC.pub] [--class CLASS]\n"
           "      FROM-ZIP TO-ZIP\n"
           "  postmeter-zones list --zones DIR [--key PUBLIC.pub]\n");
  return 2;
}

static int
run_import (char **origins)
{
  g_autoptr (PmZoneChart) chart = pm_zone_chart_new ();
  g_autofree char *data = NULL;
  gsize length = 0;
  GError *error = NULL;

  if (csv_path == NULL || published == NULL || source == NULL || out_dir == NULL
      || origins[0] == NULL)
    return usage ();

  if (!g_file_get_contents (csv_path, &data, &length, &error))
    return fail (error);
  if (!pm_zone_chart_import_csv (chart, data, length, (const char * const *) origins,
                                 published, source, current, &error))
    {
      g_prefix_error (&error, "%s: ", csv_path);
      return fail (error);
    }
  if (g_mkdir_with_parents (out_dir, 0755) != 0)
    {
      fprintf (stderr, "postmeter-zones: cannot create %s\n", out_dir);
      return 1;
    }

  for (guint i = 0; origins[i] != NULL; i++)
    {
      g_autofree char *text = pm_zone_chart_to_data (chart, origins[i]);
      g_autofree char *name = g_strdup_printf ("zone-chart-%s.txt", origins[i]);
      g_autofree char *path = g_build_filename (out_dir, name, NULL);
      g_autoptr (PmZoneChart) check = pm_zone_chart_new ();

      /* What is written must read back. */
      if (!pm_zone_chart_load_data (check, text, strlen (text), &error))
        return fail (error);
      if (!g_file_set_contents (path, text, -1, &error))
        return fail (error);
      printf ("%s: origin %s\n", path, origins[i]);
    }
  return 0;
}

static int
run_sign (char **files)
{
  g_autoptr (PmSigningKey) key = NULL;
  g_autoptr (GDateTime) expires = NULL;
  g_autofree char *iso = NULL;
  g_autofree char *pem = NULL;
  gsize pem_length = 0;
  GError *error = NULL;

  if (key_path == NULL || expires_text == NULL || files[0] == NULL || version < 1)
    return usage ();
  iso = g_strconcat (expires_text, "T00:00:00Z", NULL);
  expires = g_date_time_new_from_iso8601 (iso, NULL);
  if (expires == NULL)
    {
      fprintf (stderr, "postmeter-zones: --expires wants a date like 2030-01-01\n");
      return 2;
    }
  if (!g_file_get_contents (key_path, &pem, &pem_length, &error))
    return fail (error);
  key = pm_signing_key_new_from_pem (pem, pem_length, &error);
  if (key == NULL)
    return fail (error);

  for (guint i = 0; files[i] != NULL; i++)
    {
      g_autoptr (PmZoneChart) chart = pm_zone_chart_new ();
      g_autoptr (GBytes) content = NULL;
      g_autoptr (GBytes) signature = NULL;
      g_auto (GStrv) origins = NULL;
      g_autofree char *name = NULL;
      g_autofree char *file_name = NULL;
      g_autofree char *base = g_path_get_basename (files[i]);
      g_autofree char *signature_path = g_strconcat (files[i], ".sig", NULL);
      char *data = NULL;
      gsize length = 0;

      /* A chart that does not read, or whose file name is not its origin's, is not
       * signed: the meter would refuse it. */
      if (!g_file_get_contents (files[i], &data, &length, &error))
        return fail (error);
      content = g_bytes_new_take (data, length);
      if (!pm_zone_chart_load_data (chart, data, length, &error))
        {
          g_prefix_error (&error, "%s: ", base);
          return fail (error);
        }
      origins = pm_zone_chart_list_origins (chart);
      name = pm_zone_chart_package_name (origins[0]);
      file_name = g_strconcat (name, ".txt", NULL);
      if (strcmp (base, file_name) != 0)
        {
          fprintf (stderr, "postmeter-zones: %s holds origin %s; name it %s\n", base,
                   origins[0], file_name);
          return 1;
        }

      signature = pm_package_sign (key, name, PM_ZONE_CHART_CONTENT_TYPE, (guint) version,
                                   g_date_time_to_unix (expires), content, &error);
      if (signature == NULL
          || !g_file_set_contents (signature_path, g_bytes_get_data (signature, NULL),
                                   g_bytes_get_size (signature), &error))
        return fail (error);
      printf ("Signed %s version %d: %s\n", name, version, signature_path);
    }
  return 0;
}

/* The charts of a folder: signed ones only when a public key is given. */
static gboolean
load_charts (PmZoneChart  *chart,
             GError      **error)
{
  g_autoptr (PmVerifyKey) key = NULL;

  if (key_path == NULL)
    return pm_zone_chart_load_directory (chart, zones_dir, error);
  key = pm_package_load_key (key_path, error);
  return key != NULL && pm_zone_chart_install_directory (chart, zones_dir, key, error);
}

static int
run_lookup (const char *from,
            const char *to)
{
  g_autoptr (PmZoneChart) chart = pm_zone_chart_new ();
  PmMailClass mail_class;
  GError *error = NULL;
  guint zone = 0;
  guint flags = 0;

  if (zones_dir == NULL || !pm_mail_class_from_string (class_text, &mail_class))
    return usage ();
  if (!load_charts (chart, &error)
      || !pm_zone_chart_lookup (chart, mail_class, from, to, &zone, &flags, &error))
    return fail (error);

  printf ("zone %u\n", zone);
  if (flags & PM_ZONE_FLAG_SAME_NDC)
    printf ("same network distribution center (*)\n");
  if (flags & PM_ZONE_FLAG_EXCEPTION)
    printf ("from a 5-digit exception\n");
  if (flags & PM_ZONE_FLAG_EXCEPTIONS_MISSING)
    printf ("USPS lists 5-digit exceptions here (+) that this chart does not have\n");
  if (flags & PM_ZONE_FLAG_NOT_CURRENT)
    printf ("not the current chart\n");
  return 0;
}

static int
run_list (void)
{
  g_autoptr (PmZoneChart) chart = pm_zone_chart_new ();
  g_auto (GStrv) origins = NULL;
  GError *error = NULL;

  if (zones_dir == NULL)
    return usage ();
  if (!load_charts (chart, &error))
    return fail (error);
  origins = pm_zone_chart_list_origins (chart);
  for (guint i = 0; origins[i] != NULL; i++)
    printf ("%s  published %s  %s\n", origins[i],
            pm_zone_chart_get_published (chart, origins[i]),
            pm_zone_chart_get_source (chart, origins[i]));
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

  context = g_option_context_new ("COMMAND ...");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return fail (error);

  if (strcmp (command, "import") == 0)
    return run_import (argv + 2);
  if (strcmp (command, "sign") == 0)
    return run_sign (argv + 2);
  if (strcmp (command, "lookup") == 0 && argc == 4)
    return run_lookup (argv[2], argv[3]);
  if (strcmp (command, "list") == 0 && argc == 2)
    return run_list ();
  return usage ();
}
