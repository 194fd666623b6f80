/* pm-rating.c: rating a piece against the packages in force
 *
 * The hot path (pm_rating_quote) takes the lock only long enough to pick and reference the
 * package in force, then works on immutable data with integer arithmetic and fixed-size
 * output. It allocates only to build an error.
 */
#include "pm-rating.h"

#include <string.h>
#include <glib/gstdio.h>

#include "pm-clock.h"

G_DEFINE_QUARK (pm-rating-error-quark, pm_rating_error)

#define MILS_PER_INCH 1000
#define CUBIC_INCHES_PER_FOOT 1728
/* Non-rectangular parcels: volume × 0.785 before the dimensional-weight divisor. */
#define NONRECTANGULAR_FACTOR 785

struct _PmRating
{
  gint              ref_count;
  GMutex            lock;          /* guards packages, zone_chart and zone_lookup */
  GPtrArray        *packages;      /* PmRatePackage, by effective date ascending */
  PmZoneChart      *zone_chart;    /* owned when zone_owned, else the caller's */
  PmZoneLookupFunc  zone_lookup;
  gboolean          zone_owned;
};

PmRating *
pm_rating_new (void)
{
  PmRating *self = g_new0 (PmRating, 1);

  self->ref_count = 1;
  g_mutex_init (&self->lock);
  self->packages = g_ptr_array_new_with_free_func ((GDestroyNotify) pm_rate_package_unref);
  return self;
}

PmRating *
pm_rating_ref (PmRating *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_int_inc (&self->ref_count);
  return self;
}

void
pm_rating_unref (PmRating *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_int_dec_and_test (&self->ref_count))
    return;
  g_ptr_array_unref (self->packages);
  if (self->zone_owned)
    pm_zone_chart_unref (self->zone_chart);
  g_mutex_clear (&self->lock);
  g_free (self);
}

static void
set_zones (PmRating         *self,
           PmZoneChart      *chart,
           PmZoneLookupFunc  lookup,
           gboolean          owned)
{
  PmZoneChart *old_chart;
  gboolean old_owned;

  g_mutex_lock (&self->lock);
  old_chart = self->zone_chart;
  old_owned = self->zone_owned;
  self->zone_chart = chart;
  self->zone_lookup = lookup;
  self->zone_owned = owned;
  g_mutex_unlock (&self->lock);

  /* A quote in progress holds its own reference, so the old chart may go now. */
  if (old_owned && old_chart != NULL)
    pm_zone_chart_unref (old_chart);
}

void
pm_rating_set_zone_chart (PmRating         *self,
                          PmZoneChart      *chart,
                          PmZoneLookupFunc  lookup)
{
  g_return_if_fail (self != NULL);

  set_zones (self, chart, lookup, FALSE);
}

void
pm_rating_set_zones (PmRating    *self,
                     PmZoneChart *chart)
{
  g_return_if_fail (self != NULL);

  if (chart == NULL)
    set_zones (self, NULL, NULL, FALSE);
  else
    set_zones (self, pm_zone_chart_ref (chart), pm_zone_chart_lookup, TRUE);
}

static gint
compare_effective (gconstpointer a,
                   gconstpointer b)
{
  const PmRatePackage *pa = *(PmRatePackage *const *) a;
  const PmRatePackage *pb = *(PmRatePackage *const *) b;

  return (pa->effective > pb->effective) - (pa->effective < pb->effective);
}

guint
pm_rating_get_installed_version (PmRating   *self,
                                 const char *package_id)
{
  guint version = 0;

  g_return_val_if_fail (self != NULL, 0);
  g_return_val_if_fail (package_id != NULL, 0);

  g_mutex_lock (&self->lock);
  for (guint i = 0; i < self->packages->len; i++)
    {
      PmRatePackage *package = g_ptr_array_index (self->packages, i);

      if (strcmp (package->id, package_id) == 0)
        version = package->version;
    }
  g_mutex_unlock (&self->lock);
  return version;
}

gboolean
pm_rating_add_package (PmRating      *self,
                       PmRatePackage *package,
                       GError       **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (package != NULL, FALSE);

  g_mutex_lock (&self->lock);
  for (guint i = 0; i < self->packages->len; i++)
    {
      PmRatePackage *installed = g_ptr_array_index (self->packages, i);

      if (strcmp (installed->id, package->id) != 0)
        continue;
      if (installed->version > package->version)
        {
          g_set_error (error, PM_RATING_ERROR, PM_RATING_ERROR_OLDER_PACKAGE,
                       "The rate package “%s” version %u is older than the installed "
                       "version %u; the installed one stays in force", package->id,
                       package->version, installed->version);
          g_mutex_unlock (&self->lock);
          return FALSE;
        }
      g_ptr_array_remove_index (self->packages, i);
      break;
    }
  g_ptr_array_add (self->packages, pm_rate_package_ref (package));
  g_ptr_array_sort (self->packages, compare_effective);
  g_mutex_unlock (&self->lock);

  g_debug ("Rate package %s version %u installed (in force from %u)", package->id,
           package->version, package->effective);
  return TRUE;
}

gboolean
pm_rating_install (PmRating    *self,
                   GBytes      *signature_file,
                   GBytes      *content,
                   PmVerifyKey *trusted_key,
                   GError     **error)
{
  g_autoptr (PmPackageInfo) info = NULL;
  g_autoptr (PmRatePackage) package = NULL;
  PmPackagePolicy policy = {
    .content_type = PM_PACKAGE_CONTENT_TYPE_RATES,
    .max_length = PM_RATE_PACKAGE_MAX_BYTES,
  };
  const char *xml;
  gsize length;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (content != NULL, FALSE);
  g_return_val_if_fail (trusted_key != NULL, FALSE);

  /* The installed version can only be known once the signed name is, so the version
   * check follows verification; still nothing is parsed before it passes, and
   * pm_rating_add_package() checks again under the lock. */
  info = pm_package_verify (signature_file, content, trusted_key, &policy, error);
  if (info == NULL)
    return FALSE;
  policy.installed_version = pm_rating_get_installed_version (self, info->name);
  if (info->version < policy.installed_version)
    {
      g_set_error (error, PM_PACKAGE_ERROR, PM_PACKAGE_ERROR_OLDER_VERSION,
                   "The package “%s” is version %u, older than the installed version %u; "
                   "the installed one stays in force", info->name, info->version,
                   policy.installed_version);
      return FALSE;
    }

  xml = g_bytes_get_data (content, &length);
  package = pm_rate_package_parse (xml, length, error);
  if (package == NULL)
    {
      g_prefix_error (error, "The package “%s” was refused: ", info->name);
      return FALSE;
    }
  if (strcmp (package->id, info->name) != 0 || package->version != info->version)
    {
      g_set_error (error, PM_PACKAGE_ERROR, PM_PACKAGE_ERROR_WRONG_NAME,
                   "The package signed as “%s” version %u says it is “%s” version %u; it "
                   "was not used", info->name, info->version, package->id, package->version);
      return FALSE;
    }

  return pm_rating_add_package (self, package, error);
}

static gint
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

gboolean
pm_rating_install_file (PmRating    *self,
                        const char  *file,
                        const char  *signature_file,
                        PmVerifyKey *trusted_key,
                        GError     **error)
{
  g_autoptr (GBytes) signature = NULL;
  g_autoptr (GBytes) content = NULL;
  char *data = NULL;
  gsize length = 0;
  GStatBuf st;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (file != NULL && signature_file != NULL, FALSE);

  /* Sizes first, so a huge file is refused before it is read. */
  if ((g_stat (signature_file, &st) == 0 && st.st_size > PM_PACKAGE_MAX_SIGNATURE_BYTES)
      || (g_stat (file, &st) == 0 && st.st_size > PM_RATE_PACKAGE_MAX_BYTES))
    {
      g_set_error (error, PM_PACKAGE_ERROR, PM_PACKAGE_ERROR_TOO_LARGE,
                   "the package or its signature is larger than a rate package may be; "
                   "it was not read");
      return FALSE;
    }
  if (g_file_test (signature_file, G_FILE_TEST_EXISTS))
    {
      if (!g_file_get_contents (signature_file, &data, &length, error))
        return FALSE;
      signature = g_bytes_new_take (data, length);
    }
  if (!g_file_get_contents (file, &data, &length, error))
    return FALSE;
  content = g_bytes_new_take (data, length);

  return pm_rating_install (self, signature, content, trusted_key, error);
}

GPtrArray *
pm_rating_list_packages (const char  *path,
                         GError     **error)
{
  g_autoptr (GDir) dir = NULL;
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  GPtrArray *files;
  const char *name;

  g_return_val_if_fail (path != NULL, NULL);

  dir = g_dir_open (path, 0, error);
  if (dir == NULL)
    return NULL;
  while ((name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_suffix (name, ".xml"))
      g_ptr_array_add (names, g_strdup (name));
  /* Directory order is arbitrary; install in name order so errors are reproducible. */
  g_ptr_array_sort (names, compare_names);

  files = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < names->len; i++)
    g_ptr_array_add (files, g_build_filename (path, g_ptr_array_index (names, i), NULL));
  return files;
}

gboolean
pm_rating_install_directory (PmRating    *self,
                             const char  *path,
                             PmVerifyKey *trusted_key,
                             GError     **error)
{
  g_autoptr (GPtrArray) files = NULL;

  g_return_val_if_fail (self != NULL, FALSE);

  files = pm_rating_list_packages (path, error);
  if (files == NULL)
    return FALSE;

  for (guint i = 0; i < files->len; i++)
    {
      const char *file = g_ptr_array_index (files, i);
      g_autofree char *sig_file = g_strconcat (file, ".sig", NULL);

      if (!pm_rating_install_file (self, file, sig_file, trusted_key, error))
        {
          g_autofree char *base = g_path_get_basename (file);

          g_prefix_error (error, "%s: ", base);
          return FALSE;
        }
    }
  return TRUE;
}

PmRatePackage *
pm_rating_dup_package_for_date (PmRating   *self,
                                PmRateDate  date)
{
  PmRatePackage *found = NULL;

  g_return_val_if_fail (self != NULL, NULL);

  g_mutex_lock (&self->lock);
  for (guint i = self->packages->len; i > 0; i--)
    {
      PmRatePackage *package = g_ptr_array_index (self->packages, i - 1);

      if (package->effective <= date)
        {
          found = pm_rate_package_ref (package);
          break;
        }
    }
  g_mutex_unlock (&self->lock);
  return found;
}

/* ---- quotes ---- */

void
pm_quote_clear (PmQuote *quote)
{
  g_return_if_fail (quote != NULL);

  g_clear_pointer (&quote->package, pm_rate_package_unref);
  memset (quote, 0, sizeof *quote);
}

const char *
pm_quote_warning_to_string (PmQuoteWarning warning)
{
  switch (warning)
    {
    case PM_QUOTE_WARNING_SECONDARY_SOURCE:
      return "This price comes from a secondary source, not from USPS directly; check it "
             "against the current Notice 123.";
    case PM_QUOTE_WARNING_PROVISIONAL:
      return "This price is provisional (derived or not yet confirmed); check it against the "
             "current Notice 123.";
    case PM_QUOTE_WARNING_PARTIAL_TABLE:
      return "The price table this comes from is incomplete; other weights or zones may "
             "have no price.";
    case PM_QUOTE_WARNING_DIMENSIONAL_WEIGHT:
      return "The parcel is priced by its size (dimensional weight), not by its weight.";
    case PM_QUOTE_WARNING_SIZE_NOT_GIVEN:
      return "No size was given, so the size limits were not checked; measure the piece "
             "if it may be larger than the class allows.";
    case PM_QUOTE_WARNING_NONMACHINABLE:
      return "The letter is nonmachinable (rigid, square, too thick for its size, or "
             "marked so), so the nonmachinable surcharge applies.";
    case PM_QUOTE_WARNING_DIMENSIONAL_CAPPED:
      return "The dimensional weight is above the class limit; the highest weight price "
             "applies.";
    case PM_QUOTE_WARNING_ZONE_EXCEPTIONS:
      return "USPS gives some ZIP Codes in the destination's area a zone of their own, and "
             "the installed zone chart does not list them; the zone is the area's. Check "
             "the zone for this ZIP Code at postcalc.usps.com.";
    case PM_QUOTE_WARNING_ZONE_CHART_OLD:
      return "The zone comes from an older USPS zone chart, not the current one; zones "
             "change little from year to year, but check it at postcalc.usps.com.";
    default:
      return NULL;
    }
}

PmRateDate
pm_rate_date_from_gdate (const GDate *date)
{
  g_return_val_if_fail (date != NULL && g_date_valid (date), 0);

  return g_date_get_year (date) * 10000 + g_date_get_month (date) * 100
         + g_date_get_day (date);
}

PmRateDate
pm_rate_date_today (void)
{
  GDate *today = pm_clock_today_local ();
  PmRateDate date = pm_rate_date_from_gdate (today);

  g_date_free (today);
  return date;
}

/* Working state of one quote: the request's facts in the units rating compares. */
typedef struct
{
  PmRating            *self;
  const PmRateRequest *request;
  int                  depth;          /* alternatives are rated at depth 1, never deeper */
  gint64               picograms;
  guint32              dims[3];        /* sorted: [0] longest */
  gboolean             measured;
  PmMailClass          mail_class;
  PmShape              shape;
} Rater;

static gboolean rate (Rater   *rater,
                      PmQuote *quote,
                      GError **error);

/* The price of the same piece another way, for an error message that says what works;
 * empty when it has none either. */
static char *
alternative (Rater       *rater,
             PmMailClass  mail_class,
             PmShape      shape,
             const char  *description)
{
  PmRateRequest request;
  Rater other;
  g_auto (PmQuote) quote = { 0 };
  g_autofree char *price = NULL;

  if (rater->depth > 0)
    return g_strdup ("");

  request = *rater->request;
  request.mail_class = mail_class;
  request.piece.shape = shape;
  if (shape == PM_SHAPE_FLAT || shape == PM_SHAPE_PARCEL)
    request.piece.flags &= ~(guint) PM_PIECE_NONMACHINABLE;
  other = *rater;
  other.request = &request;
  other.depth = 1;
  other.mail_class = mail_class;
  other.shape = shape;

  if (!rate (&other, &quote, NULL))
    return g_strdup_printf (" Send it as %s.", description);
  price = pm_money_format (quote.total);
  return g_strdup_printf (" As %s it costs %s.", description, price);
}

static char *
format_inches (guint32 mils)
{
  GString *out = g_string_new (NULL);

  g_string_append_printf (out, "%u", mils / MILS_PER_INCH);
  if (mils % MILS_PER_INCH != 0)
    {
      char fraction[8];
      int n = g_snprintf (fraction, sizeof fraction, "%03u", mils % MILS_PER_INCH);

      while (n > 0 && fraction[n - 1] == '0')
        fraction[--n] = '\0';
      g_string_append_printf (out, ".%s", fraction);
    }
  g_string_append (out, " in");
  return g_string_free (out, FALSE);
}

static const char *
product_description (PmMailClass mail_class,
                     PmShape     shape)
{
  if (mail_class == PM_MAIL_CLASS_FIRST_CLASS)
    {
      switch (shape)
        {
        case PM_SHAPE_LETTER:
          return "a First-Class Mail letter";
        case PM_SHAPE_POSTCARD:
          return "a First-Class Mail postcard";
        case PM_SHAPE_FLAT:
          return "a First-Class Mail large envelope";
        case PM_SHAPE_PARCEL:
        default:
          return "a First-Class Mail parcel";
        }
    }
  if (mail_class == PM_MAIL_CLASS_FIRST_CLASS_INTERNATIONAL)
    return shape == PM_SHAPE_FLAT ? "a First-Class Mail International large envelope"
                                  : "a First-Class Mail International letter";
  if (mail_class == PM_MAIL_CLASS_GROUND_ADVANTAGE)
    return "USPS Ground Advantage";
  if (mail_class == PM_MAIL_CLASS_PRIORITY_MAIL)
    return "Priority Mail";
  return "Priority Mail Express";
}

static gboolean
is_shipping_class (PmMailClass mail_class)
{
  return mail_class == PM_MAIL_CLASS_GROUND_ADVANTAGE
         || mail_class == PM_MAIL_CLASS_PRIORITY_MAIL
         || mail_class == PM_MAIL_CLASS_PRIORITY_MAIL_EXPRESS;
}

/* What to suggest when the piece is too heavy or too large for its product. */
static char *
suggest_bigger (Rater *rater)
{
  g_autofree char *ground = NULL;
  g_autofree char *priority = NULL;

  if (rater->mail_class == PM_MAIL_CLASS_FIRST_CLASS
      && (rater->shape == PM_SHAPE_LETTER || rater->shape == PM_SHAPE_POSTCARD))
    {
      if (rater->shape == PM_SHAPE_POSTCARD)
        return alternative (rater, PM_MAIL_CLASS_FIRST_CLASS, PM_SHAPE_LETTER, "a letter");
      return alternative (rater, PM_MAIL_CLASS_FIRST_CLASS, PM_SHAPE_FLAT,
                          "a large envelope (flat)");
    }
  /* International pieces have no domestic alternative, and no international large
   * envelope or parcel prices are in the packages yet. */
  if (rater->mail_class == PM_MAIL_CLASS_FIRST_CLASS_INTERNATIONAL)
    return g_strdup (" Send it as an international large envelope or package at the "
                     "counter.");
  if (rater->mail_class == PM_MAIL_CLASS_FIRST_CLASS)
    {
      ground = alternative (rater, PM_MAIL_CLASS_GROUND_ADVANTAGE, PM_SHAPE_PARCEL,
                            "a USPS Ground Advantage parcel");
      priority = alternative (rater, PM_MAIL_CLASS_PRIORITY_MAIL, PM_SHAPE_PARCEL,
                              "Priority Mail");
      if (rater->depth == 0 && (rater->request->destination_zip == NULL
                                || *rater->request->destination_zip == '\0'))
        return g_strdup (" Send it as USPS Ground Advantage or Priority Mail (give the "
                         "destination ZIP for the price).");
      return g_strconcat (ground, priority, NULL);
    }
  return g_strdup (" No USPS class takes a single piece above 70 lb; split the shipment "
                   "into lighter pieces.");
}

/* What to do with a parcel above a class's length plus girth (postal.md section 8: USPS
 * Ground Advantage takes up to 130 in, above 108 in at its oversized price; Priority Mail
 * up to 108 in). */
#define OVERSIZED_MAX_LENGTH_GIRTH (130 * MILS_PER_INCH)

static const char *
oversize_advice (Rater   *rater,
                 guint64  length_girth)
{
  if (length_girth > OVERSIZED_MAX_LENGTH_GIRTH)
    return " No USPS class takes a parcel above 130 in length plus girth; make it smaller "
           "or split it.";
  if (rater->mail_class == PM_MAIL_CLASS_GROUND_ADVANTAGE)
    return " USPS Ground Advantage takes it up to 130 in at the oversized price, which this "
           "rate package does not have; key in the postage from the current USPS price list.";
  return " Only USPS Ground Advantage takes parcels up to 130 in, at its oversized price; "
         "send it that way and key in the postage from the current USPS price list.";
}

static gboolean
check_size (Rater               *rater,
            const PmRateProduct *product,
            GError             **error)
{
  const guint32 *d = rater->dims;
  const char *what = product_description (rater->mail_class, rater->shape);
  guint32 limit = 0;
  guint32 actual = 0;
  const char *dimension = NULL;

  if (!rater->measured)
    return TRUE;

  if (d[0] < product->min_length || d[1] < product->min_height || d[2] < product->min_thickness)
    {
      g_autofree char *min_l = format_inches (product->min_length);
      g_autofree char *min_h = format_inches (product->min_height);
      g_autofree char *min_t = format_inches (product->min_thickness);

      g_set_error (error, PM_RATING_ERROR, PM_RATING_ERROR_TOO_SMALL,
                   "Size: the piece is smaller than %s may be (at least %s × %s, %s "
                   "thick); it cannot be mailed like this", what, min_l, min_h, min_t);
      return FALSE;
    }

  if (product->max_length != 0 && d[0] > product->max_length)
    limit = product->max_length, actual = d[0], dimension = "long";
  else if (product->max_height != 0 && d[1] > product->max_height)
    limit = product->max_height, actual = d[1], dimension = "high";
  else if (product->max_thickness != 0 && d[2] > product->max_thickness)
    limit = product->max_thickness, actual = d[2], dimension = "thick";

  if (dimension == NULL && product->max_length_girth != 0)
    {
      guint64 length_girth = (guint64) d[0] + 2 * ((guint64) d[1] + d[2]);

      if (length_girth > product->max_length_girth)
        {
          g_autofree char *text_limit = format_inches (product->max_length_girth);
          g_autofree char *text_actual = format_inches ((guint32) MIN (length_girth,
                                                                       G_MAXUINT32));

          g_set_error (error, PM_RATING_ERROR, PM_RATING_ERROR_TOO_LARGE,
                       "Size: length plus girth is %s, above the %s this package prices "
                       "for %s.%s", text_actual, text_limit, what,
                       oversize_advice (rater, length_girth));
          return FALSE;
        }
    }

  if (dimension != NULL)
    {
      g_autofree char *text_limit = format_inches (limit);
      g_autofree char *text_actual = format_inches (actual);
      g_autofree char *suggestion = suggest_bigger (rater);

      g_set_error (error, PM_RATING_ERROR, PM_RATING_ERROR_TOO_LARGE,
                   "Size: the piece is %s %s, more than the %s %s may be.%s", text_actual,
                   dimension, text_limit, what, suggestion);
      return FALSE;
    }
  return TRUE;
}

/* Letters are nonmachinable when marked so, rigid, or with a length/height ratio outside
 * 1.3 to 2.5 (DMM 101.1.2). */
static gboolean
letter_is_nonmachinable (Rater *rater)
{
  const guint32 *d = rater->dims;

  if (rater->request->piece.flags & (PM_PIECE_NONMACHINABLE | PM_PIECE_RIGID))
    return TRUE;
  if (!rater->measured || d[1] == 0)
    return FALSE;
  return (guint64) d[0] * 10 < (guint64) d[1] * 13 || (guint64) d[0] * 10 > (guint64) d[1] * 25;
}

static gboolean
add_line (PmQuote        *quote,
          PmQuoteLineKind kind,
          const char     *label,
          PmMills         amount,
          GError        **error)
{
  if (quote->n_lines == PM_QUOTE_MAX_LINES || !pm_money_add (quote->total, amount, &quote->total))
    {
      g_set_error (error, PM_RATING_ERROR, PM_RATING_ERROR_NO_PRICE,
                   "The quote has more charges than it can hold");
      return FALSE;
    }
  quote->lines[quote->n_lines].kind = kind;
  quote->lines[quote->n_lines].label = label;
  quote->lines[quote->n_lines].amount = amount;
  quote->n_lines++;
  return TRUE;
}

static void
note_status (PmQuote      *quote,
             PmRateStatus  status)
{
  if (status == PM_RATE_STATUS_SECONDARY)
    quote->warnings |= PM_QUOTE_WARNING_SECONDARY_SOURCE;
  else if (status == PM_RATE_STATUS_PROVISIONAL)
    quote->warnings |= PM_QUOTE_WARNING_PROVISIONAL;
}

/* Price lists in the order each channel tries them. */
static const PmPriceList meter_lists[] = { PM_PRICE_LIST_METERED, PM_PRICE_LIST_COMMERCIAL,
                                           PM_PRICE_LIST_RETAIL };
static const PmPriceList retail_lists[] = { PM_PRICE_LIST_STAMPED, PM_PRICE_LIST_RETAIL };

static gboolean
find_zone (Rater   *rater,
           guint   *out_zone,
           guint   *out_flags,
           GError **error)
{
  const PmRateRequest *request = rater->request;
  PmZoneChart *chart;
  PmZoneLookupFunc lookup;
  gboolean owned;
  gboolean found;
  GError *local_error = NULL;
  const char *what = product_description (rater->mail_class, rater->shape);

  if (request->origin_zip == NULL || *request->origin_zip == '\0')
    {
      g_set_error (error, PM_RATING_ERROR, PM_RATING_ERROR_ORIGIN_REQUIRED,
                   "Origin ZIP: %s is priced by zone, and the meter's origin ZIP is not "
                   "set; ask the supervisor to set it", what);
      return FALSE;
    }
  if (request->destination_zip == NULL || *request->destination_zip == '\0')
    {
      g_set_error (error, PM_RATING_ERROR, PM_RATING_ERROR_DESTINATION_REQUIRED,
                   "Destination ZIP: %s is priced by zone; enter the destination ZIP code",
                   what);
      return FALSE;
    }

  g_mutex_lock (&rater->self->lock);
  chart = rater->self->zone_chart;
  lookup = rater->self->zone_lookup;
  owned = rater->self->zone_owned;
  if (owned)
    pm_zone_chart_ref (chart);
  g_mutex_unlock (&rater->self->lock);

  if (lookup == NULL)
    {
      g_set_error (error, PM_RATING_ERROR, PM_RATING_ERROR_ZONE,
                   "Destination ZIP: no zone chart is installed, so %s cannot be priced; "
                   "ask the supervisor to install the zone chart for the meter's origin",
                   what);
      return FALSE;
    }
  found = lookup (chart, rater->mail_class, request->origin_zip, request->destination_zip,
                  out_zone, out_flags, error != NULL ? &local_error : NULL);
  if (owned)
    pm_zone_chart_unref (chart);
  if (!found)
    {
      /* The chart's messages already name the field and say what to do. */
      if (local_error != NULL)
        {
          g_set_error_literal (error, PM_RATING_ERROR, PM_RATING_ERROR_ZONE,
                               local_error->message);
          g_error_free (local_error);
        }
      else
        g_set_error_literal (error, PM_RATING_ERROR, PM_RATING_ERROR_ZONE,
                             "Destination ZIP: the zone chart has no zone for it");
      return FALSE;
    }
  if (*out_zone < 1 || *out_zone > PM_RATE_PACKAGE_MAX_ZONES)
    {
      g_set_error (error, PM_RATING_ERROR, PM_RATING_ERROR_ZONE,
                   "Destination ZIP: the zone chart gave zone %u, which is not 1 to 9",
                   *out_zone);
      return FALSE;
    }
  return TRUE;
}

/* Dimensional weight in picograms, or 0 when it does not apply. */
static gint64
dimensional_picograms (Rater               *rater,
                       const PmRateProduct *product)
{
  unsigned __int128 volume = 1;
  unsigned __int128 pounds;
  unsigned __int128 numerator;
  unsigned __int128 denominator;

  if (product->dim_divisor == 0 || !rater->measured)
    return 0;

  /* Each side to the nearest inch, as the rule says; 128 bits so no side, however
   * absurd, can wrap the product. */
  for (int i = 0; i < 3; i++)
    volume *= ((guint64) rater->dims[i] + MILS_PER_INCH / 2) / MILS_PER_INCH;
  if (volume <= product->dim_threshold)
    return 0;

  numerator = volume;
  denominator = product->dim_divisor;
  if (rater->request->piece.flags & PM_PIECE_NONRECTANGULAR)
    {
      numerator *= NONRECTANGULAR_FACTOR;
      denominator *= 1000;
    }
  pounds = numerator / denominator + (numerator % denominator != 0);
  if (pounds > (unsigned __int128) (G_MAXINT64 / PM_PICOGRAMS_PER_POUND))
    return G_MAXINT64;
  return (gint64) pounds * PM_PICOGRAMS_PER_POUND;
}

static gboolean
no_price_error (Rater             *rater,
                const PmRateTable *table,
                guint              break_index,
                guint              zone,
                GError           **error)
{
  const char *what = product_description (rater->mail_class, rater->shape);
  g_autofree char *weight = NULL;
  if (error == NULL)
    return FALSE;
  weight = pm_weight_format (&rater->request->piece.weight);

  if (break_index < table->n_breaks && table->zoned)
    g_set_error (error, PM_RATING_ERROR, PM_RATING_ERROR_NO_PRICE,
                 "Weight: no published price for %s up to %s to zone %u in the rate table "
                 "“%s” (%s); choose another class or key in the postage from the "
                 "current USPS price list", what, table->break_labels[break_index], zone,
                 table->id, table->note != NULL ? table->note : "incomplete");
  else if (break_index < table->n_breaks)
    g_set_error (error, PM_RATING_ERROR, PM_RATING_ERROR_NO_PRICE,
                 "Weight: no published price for %s up to %s in the rate table “%s” (%s); "
                 "choose another class or key in the postage from the current USPS price "
                 "list", what, table->break_labels[break_index], table->id,
                 table->note != NULL ? table->note : "incomplete");
  else
    g_set_error (error, PM_RATING_ERROR, PM_RATING_ERROR_NO_PRICE,
                 "Weight: %s is above the last weight (%s) in the rate table “%s”", weight,
                 table->break_labels[table->n_breaks - 1], table->id);
  return FALSE;
}

static gboolean
too_heavy_error (Rater               *rater,
                 const PmRateProduct *product,
                 GError             **error)
{
  g_autofree char *weight = NULL;
  g_autofree char *limit = NULL;
  g_autofree char *suggestion = NULL;
  PmWeight limit_weight;

  if (error == NULL)
    return FALSE;
  weight = pm_weight_format (&rater->request->piece.weight);
  /* Limits are whole tenths of an ounce (3.5 oz, 13 oz) or whole pounds (70 lb). */
  if (product->max_picograms % PM_PICOGRAMS_PER_POUND == 0)
    limit_weight = pm_weight_make (product->max_picograms / PM_PICOGRAMS_PER_POUND, 0,
                                   PM_WEIGHT_UNIT_POUND);
  else
    limit_weight = pm_weight_make (product->max_picograms / (PM_PICOGRAMS_PER_OUNCE / 10), -1,
                                   PM_WEIGHT_UNIT_OUNCE);
  limit = pm_weight_format (&limit_weight);
  suggestion = suggest_bigger (rater);
  g_set_error (error, PM_RATING_ERROR, PM_RATING_ERROR_TOO_HEAVY,
               "Weight: %s is too heavy for %s (%s at most).%s", weight,
               product_description (rater->mail_class, rater->shape), limit, suggestion);
  return FALSE;
}

static gboolean
add_surcharges (Rater         *rater,
                PmRatePackage *package,
                gboolean       nonmachinable,
                PmQuote       *quote,
                GError       **error)
{
  /* The volume in cubic thousandths of an inch, exactly: a parcel a hair above the
   * threshold pays the fee; 128 bits because three 32-bit sides can pass 64. */
  unsigned __int128 volume = (unsigned __int128) rater->dims[0] * rater->dims[1]
                             * rater->dims[2];
  const unsigned __int128 cubic_mils_per_inch = (unsigned __int128) MILS_PER_INCH
                                                * MILS_PER_INCH * MILS_PER_INCH;

  for (guint i = 0; i < package->n_surcharges; i++)
    {
      const PmSurcharge *s = &package->surcharges[i];
      gboolean applies;

      if (!(s->classes & (1u << rater->mail_class)) || !(s->shapes & (1u << rater->shape))
          || !pm_rate_date_in_force (s->effective, s->ends, rater->request->date))
        continue;

      switch (s->kind)
        {
        case PM_SURCHARGE_NONMACHINABLE:
          applies = nonmachinable;
          break;
        case PM_SURCHARGE_LENGTH_OVER:
          applies = rater->measured && rater->dims[0] > s->threshold;
          break;
        case PM_SURCHARGE_VOLUME_OVER:
          applies = rater->measured && volume > s->threshold * cubic_mils_per_inch;
          break;
        default:
          applies = FALSE;
        }
      if (!applies)
        continue;

      /* Within a group only the highest threshold reached is charged. */
      for (guint j = 0; j < package->n_surcharges && applies; j++)
        {
          const PmSurcharge *other = &package->surcharges[j];
          gboolean other_applies;

          if (j == i || strcmp (other->group, s->group) != 0 || other->kind != s->kind
              || other->threshold <= s->threshold
              || !(other->classes & (1u << rater->mail_class))
              || !(other->shapes & (1u << rater->shape))
              || !pm_rate_date_in_force (other->effective, other->ends, rater->request->date))
            continue;
          other_applies = s->kind == PM_SURCHARGE_LENGTH_OVER
                          ? rater->dims[0] > other->threshold
                          : volume > other->threshold * cubic_mils_per_inch;
          if (other_applies)
            applies = FALSE;
        }
      if (!applies)
        continue;

      note_status (quote, s->status);
      if (s->kind == PM_SURCHARGE_NONMACHINABLE)
        quote->warnings |= PM_QUOTE_WARNING_NONMACHINABLE;
      if (!add_line (quote, PM_QUOTE_LINE_SURCHARGE, s->name, s->price, error))
        return FALSE;
    }
  return TRUE;
}

static const PmExtraService *
find_service (PmRatePackage  *package,
              PmService       service,
              PmPriceChannel  channel,
              PmRateDate      date)
{
  const PmExtraService *any = NULL;
  PmPriceList preferred = channel == PM_PRICE_CHANNEL_METER ? PM_PRICE_LIST_COMMERCIAL
                                                            : PM_PRICE_LIST_RETAIL;
  const PmExtraService *other = NULL;

  for (guint i = 0; i < package->n_services; i++)
    {
      const PmExtraService *s = &package->services[i];

      if (s->service != service || !pm_rate_date_in_force (s->effective, s->ends, date))
        continue;
      if (s->price_list == (int) preferred)
        return s;
      if (s->price_list < 0)
        any = s;
      else
        other = s;
    }
  /* A meter without a commercial fee pays the retail one. */
  if (any != NULL)
    return any;
  if (channel == PM_PRICE_CHANNEL_METER)
    return other;
  return NULL;
}

static gboolean
add_services (Rater         *rater,
              PmRatePackage *package,
              PmQuote       *quote,
              GError       **error)
{
  const PmRateRequest *request = rater->request;

  for (guint bit = 0; bit < PM_SERVICE_COUNT; bit++)
    {
      PmService service = (PmService) (1u << bit);
      const PmExtraService *s;
      PmMills fee = 0;

      if (!(request->services & service))
        continue;

      s = find_service (package, service, request->channel, request->date);
      if (s == NULL)
        {
          g_autofree char *date = pm_rate_date_format (request->date);

          g_set_error (error, PM_RATING_ERROR, PM_RATING_ERROR_SERVICE_NOT_AVAILABLE,
                       "Extra services: the rate package in force on %s (“%s”) has no "
                       "published fee for %s; remove it or key in the fee", date,
                       package->id, pm_service_to_string (service));
          return FALSE;
        }
      if (!(s->classes & (1u << rater->mail_class)))
        {
          GString *classes = g_string_new (NULL);

          for (guint c = 0; c < PM_MAIL_CLASS_COUNT; c++)
            if (s->classes & (1u << c))
              g_string_append_printf (classes, "%s%s", classes->len > 0 ? ", " : "",
                                      pm_mail_class_get_name ((PmMailClass) c));
          g_set_error (error, PM_RATING_ERROR, PM_RATING_ERROR_SERVICE_NOT_AVAILABLE,
                       "Extra services: %s cannot be added to %s; it is available with %s",
                       s->name, pm_mail_class_get_name (rater->mail_class), classes->str);
          g_string_free (classes, TRUE);
          return FALSE;
        }
      if (s->requires != 0 && !(request->services & s->requires))
        {
          const PmExtraService *needed = pm_rate_package_find_service (package, s->requires);

          g_set_error (error, PM_RATING_ERROR, PM_RATING_ERROR_SERVICE_NOT_AVAILABLE,
                       "Extra services: %s needs %s as well; add it", s->name,
                       needed != NULL ? needed->name : pm_service_to_string (s->requires));
          return FALSE;
        }

      if (s->n_tiers == 1 && s->tier_limits[0] == 0)
        fee = s->tier_prices[0];
      else
        {
          guint t;

          if (request->declared_value <= 0)
            {
              g_set_error (error, PM_RATING_ERROR, PM_RATING_ERROR_DECLARED_VALUE,
                           "Declared value: %s needs the value of the contents; enter it",
                           s->name);
              return FALSE;
            }
          for (t = 0; t < s->n_tiers && request->declared_value > s->tier_limits[t]; t++)
            ;
          if (t == s->n_tiers)
            {
              g_autofree char *value = pm_money_format (request->declared_value);
              g_autofree char *top = pm_money_format (s->tier_limits[s->n_tiers - 1]);

              g_set_error (error, PM_RATING_ERROR, PM_RATING_ERROR_DECLARED_VALUE,
                           "Declared value: %s is above %s, the highest value with a "
                           "published %s fee in this package; insure it at the counter",
                           value, top, s->name);
              return FALSE;
            }
          fee = s->tier_prices[t];
        }

      note_status (quote, s->status);
      if (!add_line (quote, PM_QUOTE_LINE_SERVICE, s->name, fee, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
rate_with_package (Rater         *rater,
                   PmRatePackage *package,
                   PmQuote       *quote,
                   GError       **error)
{
  const PmRateRequest *request = rater->request;
  const PmRateProduct *product;
  const PmRateTable *table = NULL;
  const PmPriceList *lists;
  gsize n_lists;
  gboolean nonmachinable = FALSE;
  gint64 billed;
  guint zone = 0;
  guint zone_flags = 0;
  guint break_index = 0;
  PmMills price = PM_RATE_NO_PRICE;
  const char *what;

  product = package->by_class_shape[rater->mail_class][rater->shape];
  what = product_description (rater->mail_class, rater->shape);
  if (product == NULL)
    {
      g_autofree char *date = pm_rate_date_format (request->date);

      g_set_error (error, PM_RATING_ERROR, PM_RATING_ERROR_CLASS_NOT_AVAILABLE,
                   "Class: the rate package in force on %s (“%s”) has no published price "
                   "for %s; choose another class or key in the postage", date, package->id,
                   what);
      return FALSE;
    }

  /* Size and shape first: they decide the product, and weight only prices it. */
  if (!check_size (rater, product, error))
    return FALSE;

  if (rater->mail_class == PM_MAIL_CLASS_FIRST_CLASS
      || rater->mail_class == PM_MAIL_CLASS_FIRST_CLASS_INTERNATIONAL)
    {
      if (rater->shape == PM_SHAPE_LETTER)
        nonmachinable = letter_is_nonmachinable (rater);
      else if ((rater->shape == PM_SHAPE_POSTCARD
                && (request->piece.flags & (PM_PIECE_NONMACHINABLE | PM_PIECE_RIGID)))
               || (rater->shape == PM_SHAPE_FLAT && (request->piece.flags & PM_PIECE_RIGID)))
        {
          g_autofree char *suggestion = NULL;

          if (rater->shape == PM_SHAPE_POSTCARD)
            suggestion = alternative (rater, rater->mail_class, PM_SHAPE_LETTER,
                                      "a nonmachinable letter");
          else
            suggestion = alternative (rater, PM_MAIL_CLASS_GROUND_ADVANTAGE, PM_SHAPE_PARCEL,
                                      "a USPS Ground Advantage parcel");
          if (error != NULL)
            g_set_error (error, PM_RATING_ERROR, PM_RATING_ERROR_NONMACHINABLE,
                         "Shape: a %s %s cannot go at the %s price.%s",
                         rater->shape == PM_SHAPE_POSTCARD ? "nonmachinable" : "rigid",
                         rater->shape == PM_SHAPE_POSTCARD ? "card" : "large envelope", what,
                         suggestion);
          return FALSE;
        }
    }

  if (product->max_picograms != 0 && rater->picograms > product->max_picograms)
    return too_heavy_error (rater, product, error);

  /* Dimensional weight, capped at the product's limit (a light but huge parcel pays the
   * highest weight price, it is not refused). */
  billed = rater->picograms;
  {
    gint64 dimensional = dimensional_picograms (rater, product);

    if (dimensional > billed)
      {
        billed = dimensional;
        quote->warnings |= PM_QUOTE_WARNING_DIMENSIONAL_WEIGHT;
        if (product->max_picograms != 0 && billed > product->max_picograms)
          {
            billed = product->max_picograms;
            quote->warnings |= PM_QUOTE_WARNING_DIMENSIONAL_CAPPED;
          }
      }
  }

  if (request->channel == PM_PRICE_CHANNEL_METER)
    lists = meter_lists, n_lists = G_N_ELEMENTS (meter_lists);
  else
    lists = retail_lists, n_lists = G_N_ELEMENTS (retail_lists);

  for (gsize i = 0; i < n_lists && table == NULL; i++)
    table = pm_rate_product_find_table (product, lists[i], request->date);
  if (table == NULL)
    {
      g_autofree char *date = pm_rate_date_format (request->date);

      g_set_error (error, PM_RATING_ERROR, PM_RATING_ERROR_CLASS_NOT_AVAILABLE,
                   "Class: the rate package “%s” has no %s prices for %s in force on %s; "
                   "choose another class or key in the postage", package->id,
                   request->channel == PM_PRICE_CHANNEL_METER ? "meter" : "retail", what,
                   date);
      return FALSE;
    }

  if (table->zoned && !find_zone (rater, &zone, &zone_flags, error))
    return FALSE;

  price = pm_rate_table_lookup (table, billed, zone, &break_index);
  if (price < 0)
    {
      /* The table's own limit is below the product's: that is a missing price. */
      rater->picograms = billed;
      return no_price_error (rater, table, break_index, zone, error);
    }

  quote->zone = table->zoned ? zone : 0;
  quote->zone_flags = table->zoned ? zone_flags : 0;
  if (quote->zone_flags & PM_ZONE_FLAG_EXCEPTIONS_MISSING)
    quote->warnings |= PM_QUOTE_WARNING_ZONE_EXCEPTIONS;
  if (quote->zone_flags & PM_ZONE_FLAG_NOT_CURRENT)
    quote->warnings |= PM_QUOTE_WARNING_ZONE_CHART_OLD;
  quote->billed_picograms = billed;
  quote->weight_break = table->break_labels[break_index];
  quote->table = table;
  note_status (quote, (PmRateStatus) table->break_status[break_index]);
  if (!table->complete)
    quote->warnings |= PM_QUOTE_WARNING_PARTIAL_TABLE;
  if (!rater->measured)
    quote->warnings |= PM_QUOTE_WARNING_SIZE_NOT_GIVEN;

  if (!add_line (quote, PM_QUOTE_LINE_POSTAGE, product->name, price, error)
      || !add_surcharges (rater, package, nonmachinable, quote, error)
      || !add_services (rater, package, quote, error))
    return FALSE;

  return TRUE;
}

static gboolean
rate (Rater   *rater,
      PmQuote *quote,
      GError **error)
{
  g_autoptr (PmRatePackage) package = NULL;
  const PmRateRequest *request = rater->request;

  memset (quote, 0, sizeof *quote);

  package = pm_rating_dup_package_for_date (rater->self, request->date);
  if (package == NULL)
    {
      g_autofree char *date = pm_rate_date_format (request->date);

      g_set_error (error, PM_RATING_ERROR, PM_RATING_ERROR_NO_PACKAGE,
                   "Date of mailing: no rate package is in force on %s; install the rate "
                   "package for that date", date);
      return FALSE;
    }

  if (!rate_with_package (rater, package, quote, error))
    {
      memset (quote, 0, sizeof *quote);
      return FALSE;
    }
  quote->package = g_steal_pointer (&package);
  return TRUE;
}

gboolean
pm_rating_quote (PmRating            *self,
                 const PmRateRequest *request,
                 PmQuote             *out_quote,
                 GError             **error)
{
  Rater rater = { 0 };
  guint32 a, b, c, t;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (request != NULL, FALSE);
  g_return_val_if_fail (out_quote != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  memset (out_quote, 0, sizeof *out_quote);

  if ((guint) request->mail_class >= PM_MAIL_CLASS_COUNT
      || (guint) request->piece.shape >= PM_SHAPE_COUNT)
    {
      g_set_error (error, PM_RATING_ERROR, PM_RATING_ERROR_INVALID_PIECE,
                   "Class: choose a class of mail and the shape of the piece");
      return FALSE;
    }
  if (!pm_weight_to_picograms (&request->piece.weight, &rater.picograms)
      || rater.picograms > PM_WEIGHT_MAX_PICOGRAMS)
    {
      g_set_error (error, PM_RATING_ERROR, PM_RATING_ERROR_TOO_HEAVY,
                   "Weight: the weight is beyond any postal limit; check the scale");
      return FALSE;
    }
  if (rater.picograms <= 0)
    {
      g_set_error (error, PM_RATING_ERROR, PM_RATING_ERROR_INVALID_PIECE,
                   "Weight: the piece weighs %s; put it on the scale and wait for a "
                   "stable weight", rater.picograms == 0 ? "nothing" : "less than nothing");
      return FALSE;
    }
  if (request->date < 19700101 || request->date > 99991231)
    {
      g_set_error (error, PM_RATING_ERROR, PM_RATING_ERROR_NO_PACKAGE,
                   "Date of mailing: no date was given");
      return FALSE;
    }

  /* Sort the sides: longest first. */
  a = request->piece.length, b = request->piece.width, c = request->piece.thickness;
  if (a < b)
    t = a, a = b, b = t;
  if (b < c)
    t = b, b = c, c = t;
  if (a < b)
    t = a, a = b, b = t;
  rater.dims[0] = a, rater.dims[1] = b, rater.dims[2] = c;
  rater.measured = a != 0 || b != 0 || c != 0;
  if (rater.measured && c == 0)
    {
      g_set_error (error, PM_RATING_ERROR, PM_RATING_ERROR_INVALID_PIECE,
                   "Size: give all three sides (length, width and thickness), or none");
      return FALSE;
    }

  rater.self = self;
  rater.request = request;
  rater.mail_class = request->mail_class;
  /* Shipping classes price every shape as a parcel. */
  rater.shape = is_shipping_class (request->mail_class) ? PM_SHAPE_PARCEL : request->piece.shape;

  return rate (&rater, out_quote, error);
}

char *
pm_quote_to_string (const PmQuote *quote)
{
  GString *out;
  g_autofree char *total = NULL;

  g_return_val_if_fail (quote != NULL, NULL);

  out = g_string_new (NULL);
  for (guint i = 0; i < quote->n_lines; i++)
    {
      g_autofree char *amount = pm_money_format (quote->lines[i].amount);

      g_string_append_printf (out, "%-44s %10s\n", quote->lines[i].label, amount);
    }
  total = pm_money_format (quote->total);
  g_string_append_printf (out, "%-44s %10s\n", "Total", total);
  if (quote->weight_break != NULL)
    g_string_append_printf (out, "Priced at: up to %s%s", quote->weight_break,
                            quote->zone != 0 ? "" : "\n");
  if (quote->zone != 0)
    g_string_append_printf (out, ", zone %u\n", quote->zone);
  if (quote->package != NULL)
    g_string_append_printf (out, "Rate package: %s version %u, table %s\n", quote->package->id,
                            quote->package->version, quote->table != NULL ? quote->table->id : "");
  for (guint bit = 0; bit < PM_QUOTE_WARNING_COUNT; bit++)
    if (quote->warnings & (1u << bit))
      g_string_append_printf (out, "Note: %s\n",
                              pm_quote_warning_to_string ((PmQuoteWarning) (1u << bit)));
  return g_string_free (out, FALSE);
}
