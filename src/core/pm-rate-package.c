/* pm-rate-package.c: the rate package XML reader
 *
 * The document is refused before libxml2 sees it if it declares a DTD or entities, so no
 * expansion can happen whatever the parser's defaults; libxml2 then reads it with network
 * access off. Every number goes through the same exact parsers as the rest of Postmeter
 * (pm_money_parse, pm_weight_parse), so a price or a break means the same here as on
 * screen.
 */
#include "pm-rate-package.h"

#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

G_DEFINE_QUARK (pm-rate-package-error-quark, pm_rate_package_error)

#define FORMAT_VERSION "1"

/* ---- names ---- */

static const char *const class_ids[PM_MAIL_CLASS_COUNT] = {
  "first-class", "first-class-international", "ground-advantage", "priority-mail",
  "priority-mail-express",
};
static const char *const class_names[PM_MAIL_CLASS_COUNT] = {
  "First-Class Mail", "First-Class Mail International", "USPS Ground Advantage",
  "Priority Mail", "Priority Mail Express",
};
static const char *const shape_ids[PM_SHAPE_COUNT] = { "letter", "postcard", "flat", "parcel" };
static const char *const price_list_ids[PM_PRICE_LIST_COUNT] = {
  "metered", "stamped", "commercial", "retail",
};
static const char *const status_ids[] = { "confirmed", "secondary", "provisional" };
static const char *const service_ids[PM_SERVICE_COUNT] = {
  "certified-mail", "return-receipt", "return-receipt-electronic",
  "signature-confirmation", "insurance",
};
static const char *const surcharge_ids[] = { "nonmachinable", "length-over", "volume-over" };

static int
find_name (const char *const *names,
           gsize              n_names,
           const char        *text)
{
  if (text == NULL)
    return -1;
  for (gsize i = 0; i < n_names; i++)
    if (g_strcmp0 (names[i], text) == 0)
      return (int) i;
  return -1;
}

const char *
pm_mail_class_to_string (PmMailClass mail_class)
{
  g_return_val_if_fail ((guint) mail_class < PM_MAIL_CLASS_COUNT, NULL);
  return class_ids[mail_class];
}

const char *
pm_mail_class_get_name (PmMailClass mail_class)
{
  g_return_val_if_fail ((guint) mail_class < PM_MAIL_CLASS_COUNT, NULL);
  return class_names[mail_class];
}

gboolean
pm_mail_class_from_string (const char  *text,
                           PmMailClass *out_class)
{
  int i = find_name (class_ids, PM_MAIL_CLASS_COUNT, text);

  if (i < 0)
    return FALSE;
  *out_class = (PmMailClass) i;
  return TRUE;
}

const char *
pm_shape_to_string (PmShape shape)
{
  g_return_val_if_fail ((guint) shape < PM_SHAPE_COUNT, NULL);
  return shape_ids[shape];
}

gboolean
pm_shape_from_string (const char *text,
                      PmShape    *out_shape)
{
  int i = find_name (shape_ids, PM_SHAPE_COUNT, text);

  if (i < 0)
    return FALSE;
  *out_shape = (PmShape) i;
  return TRUE;
}

const char *
pm_service_to_string (PmService service)
{
  for (guint i = 0; i < PM_SERVICE_COUNT; i++)
    if (service == (PmService) (1u << i))
      return service_ids[i];
  g_return_val_if_reached (NULL);
}

gboolean
pm_service_from_string (const char *text,
                        PmService  *out_service)
{
  int i = find_name (service_ids, PM_SERVICE_COUNT, text);

  if (i < 0)
    return FALSE;
  *out_service = (PmService) (1u << i);
  return TRUE;
}

/* ---- dates ---- */

gboolean
pm_rate_date_parse (const char *text,
                    PmRateDate *out_date)
{
  guint year, month, day;

  if (text == NULL || strlen (text) != 10 || text[4] != '-' || text[7] != '-')
    return FALSE;
  for (int i = 0; i < 10; i++)
    if (i != 4 && i != 7 && !g_ascii_isdigit (text[i]))
      return FALSE;

  year = (guint) g_ascii_strtoull (text, NULL, 10);
  month = (guint) g_ascii_strtoull (text + 5, NULL, 10);
  day = (guint) g_ascii_strtoull (text + 8, NULL, 10);
  if (year < 1970 || year > 9999 || !g_date_valid_dmy (day, month, year))
    return FALSE;

  *out_date = year * 10000 + month * 100 + day;
  return TRUE;
}

char *
pm_rate_date_format (PmRateDate date)
{
  static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
                                        "Aug", "Sep", "Oct", "Nov", "Dec" };
  guint month = (date / 100) % 100;

  if (month < 1 || month > 12)
    return g_strdup_printf ("%u", date);
  return g_strdup_printf ("%u %s %u", date % 100, months[month - 1], date / 10000);
}

gboolean
pm_rate_date_in_force (PmRateDate effective,
                       PmRateDate ends,
                       PmRateDate date)
{
  return date >= effective && (ends == 0 || date < ends);
}

/* ---- lookups ---- */

const PmRateProduct *
pm_rate_package_find_product (PmRatePackage *self,
                              PmMailClass    mail_class,
                              PmShape        shape)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail ((guint) mail_class < PM_MAIL_CLASS_COUNT, NULL);
  g_return_val_if_fail ((guint) shape < PM_SHAPE_COUNT, NULL);

  return self->by_class_shape[mail_class][shape];
}

const PmExtraService *
pm_rate_package_find_service (PmRatePackage *self,
                              PmService      service)
{
  g_return_val_if_fail (self != NULL, NULL);

  for (guint i = 0; i < self->n_services; i++)
    if (self->services[i].service == service)
      return &self->services[i];
  return NULL;
}

const PmRateTable *
pm_rate_product_find_table (const PmRateProduct *product,
                            PmPriceList          price_list,
                            PmRateDate           date)
{
  g_return_val_if_fail (product != NULL, NULL);

  for (guint i = 0; i < product->n_tables; i++)
    {
      const PmRateTable *table = &product->tables[i];

      if (table->price_list == price_list
          && pm_rate_date_in_force (table->effective, table->ends, date))
        return table;
    }
  return NULL;
}

PmMills
pm_rate_table_lookup (const PmRateTable *table,
                      gint64             picograms,
                      guint              zone,
                      guint             *out_break_index)
{
  guint low = 0;
  guint high;
  guint column = 0;

  /* Binary search for the first inclusive upper bound at or above the weight. */
  high = table->n_breaks;
  while (low < high)
    {
      guint middle = (low + high) / 2;

      if (table->break_picograms[middle] < picograms)
        low = middle + 1;
      else
        high = middle;
    }

  if (out_break_index != NULL)
    *out_break_index = low;
  if (low == table->n_breaks)
    return -2;

  if (table->zoned)
    {
      if (zone < 1 || zone > PM_RATE_PACKAGE_MAX_ZONES)
        return PM_RATE_NO_PRICE;
      column = zone - 1;
    }
  return table->prices[low * PM_RATE_PACKAGE_MAX_ZONES + column];
}

/* ---- life cycle ---- */

PmRatePackage *
pm_rate_package_ref (PmRatePackage *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_int_inc (&self->ref_count);
  return self;
}

static void
table_clear (PmRateTable *table)
{
  g_free (table->id);
  g_free (table->source);
  g_free (table->note);
  g_free (table->break_picograms);
  g_strfreev (table->break_labels);
  g_free (table->break_status);
  g_free (table->prices);
}

void
pm_rate_package_unref (PmRatePackage *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_int_dec_and_test (&self->ref_count))
    return;

  for (guint i = 0; i < self->n_products; i++)
    {
      PmRateProduct *product = &self->products[i];

      for (guint t = 0; t < product->n_tables; t++)
        table_clear (&product->tables[t]);
      g_free (product->tables);
      g_free (product->name);
    }
  for (guint i = 0; i < self->n_surcharges; i++)
    {
      g_free (self->surcharges[i].id);
      g_free (self->surcharges[i].name);
      g_free (self->surcharges[i].group);
      g_free (self->surcharges[i].source);
    }
  for (guint i = 0; i < self->n_services; i++)
    {
      g_free (self->services[i].name);
      g_free (self->services[i].source);
      g_free (self->services[i].tier_limits);
      g_free (self->services[i].tier_prices);
    }
  g_free (self->products);
  g_free (self->surcharges);
  g_free (self->services);
  g_free (self->id);
  g_free (self->title);
  g_free (self->carrier);
  g_free (self);
}

/* ---- reading ---- */

typedef struct
{
  GError **error;
} Reader;

static gboolean
invalid (GError    **error,
         xmlNode    *node,
         const char *format,
         ...) G_GNUC_PRINTF (3, 4);

static gboolean
invalid (GError    **error,
         xmlNode    *node,
         const char *format,
         ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  g_set_error (error, PM_RATE_PACKAGE_ERROR, PM_RATE_PACKAGE_ERROR_INVALID,
               "Rate package, line %ld, <%s>: %s", node != NULL ? xmlGetLineNo (node) : 0L,
               node != NULL ? (const char *) node->name : "?", message);
  return FALSE;
}

static gboolean
is_element (xmlNode    *node,
            const char *name)
{
  return node->type == XML_ELEMENT_NODE && strcmp ((const char *) node->name, name) == 0;
}

/* An attribute as a string owned by the caller, or NULL. */
static char *
get_attr (xmlNode    *node,
          const char *name)
{
  xmlChar *value = xmlGetNoNsProp (node, (const xmlChar *) name);
  char *copy;

  if (value == NULL)
    return NULL;
  copy = g_strdup ((const char *) value);
  xmlFree (value);
  return copy;
}

static char *
get_text (xmlNode *node)
{
  xmlChar *value = xmlNodeGetContent (node);
  char *copy;

  if (value == NULL)
    return g_strdup ("");
  copy = g_strstrip (g_strdup ((const char *) value));
  xmlFree (value);
  return copy;
}

static gboolean
require_attr (xmlNode    *node,
              const char *name,
              char      **out_value,
              GError    **error)
{
  *out_value = get_attr (node, name);
  if (*out_value == NULL || **out_value == '\0')
    return invalid (error, node, "the attribute “%s” is missing", name);
  return TRUE;
}

static gboolean
read_date (xmlNode    *node,
           const char *name,
           gboolean    required,
           PmRateDate *out_date,
           GError    **error)
{
  g_autofree char *text = get_attr (node, name);

  *out_date = 0;
  if (text == NULL || *text == '\0')
    {
      if (required)
        return invalid (error, node, "the date “%s” is missing", name);
      return TRUE;
    }
  if (!pm_rate_date_parse (text, out_date))
    return invalid (error, node, "“%s” is not a date (YYYY-MM-DD) in “%s”", text, name);
  return TRUE;
}

static gboolean
read_money (xmlNode    *node,
            const char *text,
            PmMills    *out_mills,
            GError    **error)
{
  g_autoptr (GError) local_error = NULL;

  if (!pm_money_parse (text, out_mills, &local_error))
    return invalid (error, node, "%s", local_error->message);
  return TRUE;
}

static gboolean
read_weight (xmlNode    *node,
             const char *text,
             gint64     *out_picograms,
             GError    **error)
{
  g_autoptr (GError) local_error = NULL;
  PmWeight weight;

  if (!pm_weight_parse (text, &weight, &local_error))
    return invalid (error, node, "%s", local_error->message);
  if (!pm_weight_to_picograms (&weight, out_picograms) || *out_picograms <= 0)
    return invalid (error, node, "the weight “%s” must be above zero", text);
  return TRUE;
}

/* "11.5 in" to thousandths of an inch. */
static gboolean
read_inches (xmlNode    *node,
             const char *name,
             guint32    *out_mils,
             GError    **error)
{
  g_autofree char *text = get_attr (node, name);
  const char *p;
  guint64 whole = 0;
  guint64 fraction = 0;
  int decimals = 0;

  *out_mils = 0;
  if (text == NULL)
    return TRUE;

  p = text;
  if (!g_ascii_isdigit (*p))
    goto bad;
  while (g_ascii_isdigit (*p) && whole < 100000)
    whole = whole * 10 + (guint64) (*p++ - '0');
  if (*p == '.')
    {
      p++;
      while (g_ascii_isdigit (*p))
        {
          if (++decimals > 3)
            goto bad;
          fraction = fraction * 10 + (guint64) (*p++ - '0');
        }
    }
  for (; decimals < 3; decimals++)
    fraction *= 10;
  if (strcmp (p, " in") != 0 || whole >= 100000)
    goto bad;

  *out_mils = (guint32) (whole * 1000 + fraction);
  return TRUE;

bad:
  return invalid (error, node, "“%s” in “%s” is not a length like 11.5 in (at most three "
                  "decimals)", text, name);
}

static gboolean
read_uint (xmlNode    *node,
           const char *name,
           guint32     max,
           guint32    *out_value,
           GError    **error)
{
  g_autofree char *text = get_attr (node, name);
  guint64 value;

  *out_value = 0;
  if (text == NULL)
    return TRUE;
  if (!g_ascii_string_to_unsigned (text, 10, 0, max, &value, NULL))
    return invalid (error, node, "“%s” in “%s” is not a whole number up to %u", text, name,
                    max);
  *out_value = (guint32) value;
  return TRUE;
}

static gboolean
read_enum (xmlNode           *node,
           const char        *name,
           const char *const *names,
           gsize              n_names,
           int                fallback,
           int               *out_value,
           GError           **error)
{
  g_autofree char *text = get_attr (node, name);

  if (text == NULL)
    {
      if (fallback < 0)
        return invalid (error, node, "the attribute “%s” is missing", name);
      *out_value = fallback;
      return TRUE;
    }
  *out_value = find_name (names, n_names, text);
  if (*out_value < 0)
    return invalid (error, node, "“%s” is not a known value for “%s”", text, name);
  return TRUE;
}

/* A space-separated list of names into a bit set. */
static gboolean
read_set (xmlNode           *node,
          const char        *name,
          const char *const *names,
          gsize              n_names,
          guint             *out_set,
          GError           **error)
{
  g_autofree char *text = get_attr (node, name);
  g_auto (GStrv) words = NULL;

  *out_set = 0;
  if (text == NULL)
    return invalid (error, node, "the attribute “%s” is missing", name);
  words = g_strsplit_set (text, " \t\n", -1);
  for (guint i = 0; words[i] != NULL; i++)
    {
      int value;

      if (*words[i] == '\0')
        continue;
      value = find_name (names, n_names, words[i]);
      if (value < 0)
        return invalid (error, node, "“%s” is not a known value for “%s”", words[i], name);
      *out_set |= 1u << value;
    }
  if (*out_set == 0)
    return invalid (error, node, "“%s” lists nothing", name);
  return TRUE;
}

static gboolean
read_status (xmlNode      *node,
             PmRateStatus *out_status,
             GError      **error)
{
  int value;

  if (!read_enum (node, "status", status_ids, G_N_ELEMENTS (status_ids), -1, &value, error))
    return FALSE;
  *out_status = (PmRateStatus) value;
  return TRUE;
}

/* The text of the first child element with this name, or NULL. */
static char *
child_text (xmlNode    *node,
            const char *name)
{
  for (xmlNode *child = node->children; child != NULL; child = child->next)
    if (is_element (child, name))
      return get_text (child);
  return NULL;
}

static gboolean
read_source (xmlNode  *node,
             char    **out_source,
             GError  **error)
{
  *out_source = child_text (node, "source");
  if (*out_source == NULL || **out_source == '\0')
    return invalid (error, node, "every price needs a <source> saying where it comes from");
  return TRUE;
}

static gboolean
read_row_prices (xmlNode     *row,
                 PmRateTable *table,
                 PmMills     *prices,
                 gboolean    *inout_any_missing,
                 GError     **error)
{
  g_autofree char *text = get_text (row);
  g_auto (GStrv) words = g_strsplit_set (text, " \t\n", -1);
  guint expected = table->zoned ? PM_RATE_PACKAGE_MAX_ZONES : 1;
  guint n = 0;
  gboolean any_price = FALSE;

  for (guint i = 0; words[i] != NULL; i++)
    {
      if (*words[i] == '\0')
        continue;
      if (n == expected)
        return invalid (error, row, "more than %u prices", expected);
      if (strcmp (words[i], "-") == 0)
        {
          prices[n++] = PM_RATE_NO_PRICE;
          *inout_any_missing = TRUE;
          continue;
        }
      if (!read_money (row, words[i], &prices[n++], error))
        return FALSE;
      any_price = TRUE;
    }
  if (n != expected)
    return invalid (error, row, "%u prices where %u are needed (one per zone 1 to 9, “-” "
                    "where none is published)", n, expected);
  /* A partial table lists the breaks it has no price for, so a weight between two
   * published breaks can never take the next published price. */
  if (!any_price && table->complete)
    return invalid (error, row, "a row with no price at all in a table marked complete");
  for (guint i = n; i < PM_RATE_PACKAGE_MAX_ZONES; i++)
    prices[i] = PM_RATE_NO_PRICE;
  return TRUE;
}

static gboolean
read_table (xmlNode     *node,
            PmRateTable *table,
            GError     **error)
{
  g_autofree char *complete = NULL;
  g_autofree char *zoned = NULL;
  g_autoptr (GArray) breaks = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr (GArray) prices = g_array_new (FALSE, FALSE, sizeof (PmMills));
  g_autoptr (GPtrArray) labels = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GByteArray) statuses = g_byte_array_new ();
  gboolean any_missing = FALSE;
  int value;

  if (!require_attr (node, "id", &table->id, error)
      || !read_date (node, "effective", TRUE, &table->effective, error)
      || !read_date (node, "ends", FALSE, &table->ends, error)
      || !read_enum (node, "prices", price_list_ids, PM_PRICE_LIST_COUNT, -1, &value, error))
    return FALSE;
  table->price_list = (PmPriceList) value;
  if (!read_status (node, &table->status, error) || !read_source (node, &table->source, error))
    return FALSE;
  if (table->ends != 0 && table->ends <= table->effective)
    return invalid (error, node, "the table ends before it takes effect");

  complete = get_attr (node, "complete");
  zoned = get_attr (node, "zoned");
  if (g_strcmp0 (complete, "true") != 0 && g_strcmp0 (complete, "false") != 0)
    return invalid (error, node, "“complete” must be true or false");
  table->complete = g_strcmp0 (complete, "true") == 0;
  table->zoned = g_strcmp0 (zoned, "true") == 0;
  table->note = child_text (node, "note");
  if (!table->complete && (table->note == NULL || *table->note == '\0'))
    return invalid (error, node, "a partial table needs a <note> saying what is missing");

  for (xmlNode *row = node->children; row != NULL; row = row->next)
    {
      g_autofree char *upto = NULL;
      gint64 picograms;
      PmMills row_prices[PM_RATE_PACKAGE_MAX_ZONES];

      if (!is_element (row, "row"))
        continue;
      if (!require_attr (row, "upto", &upto, error) || !read_weight (row, upto, &picograms, error))
        return FALSE;
      if (breaks->len > 0 && picograms <= g_array_index (breaks, gint64, breaks->len - 1))
        return invalid (error, row, "weight breaks must rise: “%s” is not above the row "
                        "before", upto);
      if (!read_row_prices (row, table, row_prices, &any_missing, error))
        return FALSE;

      if (xmlHasProp (row, (const xmlChar *) "status"))
        {
          PmRateStatus row_status;

          if (!read_status (row, &row_status, error))
            return FALSE;
          g_byte_array_append (statuses, (const guint8 *) &(guint8) { row_status }, 1);
        }
      else
        g_byte_array_append (statuses, (const guint8 *) &(guint8) { table->status }, 1);

      g_array_append_val (breaks, picograms);
      g_array_append_vals (prices, row_prices, PM_RATE_PACKAGE_MAX_ZONES);
      g_ptr_array_add (labels, g_steal_pointer (&upto));
    }

  if (breaks->len == 0)
    return invalid (error, node, "the table has no rows");
  if (any_missing && table->complete)
    return invalid (error, node, "a table marked complete has prices marked “-”");

  g_ptr_array_add (labels, NULL);
  table->n_breaks = breaks->len;
  table->break_picograms = (gint64 *) g_array_free (g_steal_pointer (&breaks), FALSE);
  table->prices = (PmMills *) g_array_free (g_steal_pointer (&prices), FALSE);
  table->break_labels = (char **) g_ptr_array_free (g_steal_pointer (&labels), FALSE);
  table->break_status = g_byte_array_free (g_steal_pointer (&statuses), FALSE);
  return TRUE;
}

static gboolean
read_product (xmlNode       *node,
              PmRateProduct *product,
              GError       **error)
{
  g_autoptr (GArray) tables = NULL;
  int value;

  if (!read_enum (node, "class", class_ids, PM_MAIL_CLASS_COUNT, -1, &value, error))
    return FALSE;
  product->mail_class = (PmMailClass) value;
  if (!read_enum (node, "shape", shape_ids, PM_SHAPE_COUNT, -1, &value, error))
    return FALSE;
  product->shape = (PmShape) value;
  if (!require_attr (node, "name", &product->name, error))
    return FALSE;

  tables = g_array_new (FALSE, TRUE, sizeof (PmRateTable));
  /* Tables read so far are released with the array if a later element fails; on success
   * the array hands them over without clearing them. */
  g_array_set_clear_func (tables, (GDestroyNotify) table_clear);
  for (xmlNode *child = node->children; child != NULL; child = child->next)
    {
      if (is_element (child, "limits"))
        {
          g_autofree char *max_weight = get_attr (child, "max-weight");

          if (max_weight != NULL
              && !read_weight (child, max_weight, &product->max_picograms, error))
            return FALSE;
          if (!read_inches (child, "min-length", &product->min_length, error)
              || !read_inches (child, "min-height", &product->min_height, error)
              || !read_inches (child, "min-thickness", &product->min_thickness, error)
              || !read_inches (child, "max-length", &product->max_length, error)
              || !read_inches (child, "max-height", &product->max_height, error)
              || !read_inches (child, "max-thickness", &product->max_thickness, error)
              || !read_inches (child, "max-length-girth", &product->max_length_girth, error))
            return FALSE;
        }
      else if (is_element (child, "dim-weight"))
        {
          if (!read_uint (child, "over", 1000000, &product->dim_threshold, error)
              || !read_uint (child, "divisor", 10000, &product->dim_divisor, error))
            return FALSE;
          if (product->dim_divisor == 0)
            return invalid (error, child, "the divisor must be above zero");
        }
      else if (is_element (child, "table"))
        {
          PmRateTable table = { 0 };

          if (!read_table (child, &table, error))
            {
              table_clear (&table);
              return FALSE;
            }
          g_array_append_val (tables, table);
        }
    }

  product->n_tables = tables->len;
  product->tables = (PmRateTable *) g_array_free (g_steal_pointer (&tables), FALSE);
  if (product->n_tables == 0)
    return invalid (error, node, "the product has no price table");

  /* Two tables of one price list in force on the same day would make the price depend on
   * their order in the file. */
  for (guint i = 0; i < product->n_tables; i++)
    for (guint j = i + 1; j < product->n_tables; j++)
      {
        const PmRateTable *a = &product->tables[i];
        const PmRateTable *b = &product->tables[j];
        gboolean apart = (a->ends != 0 && a->ends <= b->effective)
                         || (b->ends != 0 && b->ends <= a->effective);

        if (a->price_list == b->price_list && !apart)
          return invalid (error, node, "the tables “%s” and “%s” overlap in time", a->id,
                          b->id);
      }
  return TRUE;
}

static gboolean
read_surcharge (xmlNode     *node,
                PmSurcharge *surcharge,
                GError     **error)
{
  g_autofree char *price = NULL;
  int value;

  if (!require_attr (node, "id", &surcharge->id, error)
      || !require_attr (node, "name", &surcharge->name, error)
      || !read_enum (node, "kind", surcharge_ids, G_N_ELEMENTS (surcharge_ids), -1, &value,
                     error))
    return FALSE;
  surcharge->kind = (PmSurchargeKind) value;
  surcharge->group = get_attr (node, "group");
  if (surcharge->group == NULL)
    surcharge->group = g_strdup (surcharge->id);

  if (surcharge->kind == PM_SURCHARGE_LENGTH_OVER)
    {
      if (!read_inches (node, "threshold", &surcharge->threshold, error))
        return FALSE;
      if (surcharge->threshold == 0)
        return invalid (error, node, "a length surcharge needs a threshold like 22 in");
    }
  else if (surcharge->kind == PM_SURCHARGE_VOLUME_OVER)
    {
      if (!read_uint (node, "threshold", 100000000, &surcharge->threshold, error))
        return FALSE;
      if (surcharge->threshold == 0)
        return invalid (error, node, "a volume surcharge needs a threshold in cubic inches");
    }

  if (!read_set (node, "classes", class_ids, PM_MAIL_CLASS_COUNT, &surcharge->classes, error)
      || !read_set (node, "shapes", shape_ids, PM_SHAPE_COUNT, &surcharge->shapes, error)
      || !require_attr (node, "price", &price, error)
      || !read_money (node, price, &surcharge->price, error)
      || !read_date (node, "effective", TRUE, &surcharge->effective, error)
      || !read_date (node, "ends", FALSE, &surcharge->ends, error)
      || !read_status (node, &surcharge->status, error)
      || !read_source (node, &surcharge->source, error))
    return FALSE;
  return TRUE;
}

static gboolean
read_service (xmlNode        *node,
              PmExtraService *service,
              GError        **error)
{
  g_autofree char *id = NULL;
  g_autofree char *requires = NULL;
  g_autofree char *price = NULL;
  g_autoptr (GArray) limits = g_array_new (FALSE, FALSE, sizeof (PmMills));
  g_autoptr (GArray) prices = g_array_new (FALSE, FALSE, sizeof (PmMills));

  if (!require_attr (node, "id", &id, error))
    return FALSE;
  if (!pm_service_from_string (id, &service->service))
    return invalid (error, node, "“%s” is not a known extra service", id);
  if (!read_enum (node, "prices", price_list_ids, PM_PRICE_LIST_COUNT, G_MAXINT,
                  &service->price_list, error))
    return FALSE;
  if (service->price_list == G_MAXINT)
    service->price_list = -1;
  requires = get_attr (node, "requires");
  if (requires != NULL && !pm_service_from_string (requires, &service->requires))
    return invalid (error, node, "“%s” is not a known extra service", requires);

  if (!require_attr (node, "name", &service->name, error)
      || !read_set (node, "classes", class_ids, PM_MAIL_CLASS_COUNT, &service->classes, error)
      || !read_date (node, "effective", TRUE, &service->effective, error)
      || !read_date (node, "ends", FALSE, &service->ends, error)
      || !read_status (node, &service->status, error)
      || !read_source (node, &service->source, error))
    return FALSE;

  price = get_attr (node, "price");
  if (price != NULL)
    {
      PmMills fee;
      PmMills none = 0;

      if (!read_money (node, price, &fee, error))
        return FALSE;
      g_array_append_val (limits, none);
      g_array_append_val (prices, fee);
    }

  for (xmlNode *tier = node->children; tier != NULL; tier = tier->next)
    {
      g_autofree char *upto = NULL;
      g_autofree char *tier_price = NULL;
      PmMills limit, fee;

      if (!is_element (tier, "tier"))
        continue;
      if (price != NULL)
        return invalid (error, tier, "a service has either a price or tiers, not both");
      if (!require_attr (tier, "upto", &upto, error) || !read_money (tier, upto, &limit, error)
          || !require_attr (tier, "price", &tier_price, error)
          || !read_money (tier, tier_price, &fee, error))
        return FALSE;
      if (limit == 0 || (limits->len > 0 && limit <= g_array_index (limits, PmMills,
                                                                     limits->len - 1)))
        return invalid (error, tier, "declared-value tiers must rise and be above zero");
      g_array_append_val (limits, limit);
      g_array_append_val (prices, fee);
    }

  if (limits->len == 0)
    return invalid (error, node, "the service has no price");

  service->n_tiers = limits->len;
  service->tier_limits = (PmMills *) g_array_free (g_steal_pointer (&limits), FALSE);
  service->tier_prices = (PmMills *) g_array_free (g_steal_pointer (&prices), FALSE);
  return TRUE;
}

static gboolean
read_package (xmlNode       *root,
              PmRatePackage *self,
              GError       **error)
{
  g_autofree char *format = NULL;
  g_autofree char *version = NULL;
  guint64 number;
  guint n_products = 0, n_surcharges = 0, n_services = 0;

  if (!is_element (root, "rate-package"))
    return invalid (error, root, "the document is not a rate package");
  format = get_attr (root, "format");
  if (g_strcmp0 (format, FORMAT_VERSION) != 0)
    return invalid (error, root, "format “%s” is not one this version of Postmeter reads "
                    "(it reads format " FORMAT_VERSION ")", format != NULL ? format : "");
  if (!require_attr (root, "id", &self->id, error)
      || !require_attr (root, "version", &version, error))
    return FALSE;
  if (!g_ascii_string_to_unsigned (version, 10, 1, G_MAXUINT32, &number, NULL))
    return invalid (error, root, "the version must be a whole number from 1");
  self->version = (guint) number;
  if (!read_date (root, "effective", TRUE, &self->effective, error)
      || !require_attr (root, "carrier", &self->carrier, error))
    return FALSE;
  self->title = child_text (root, "title");
  if (self->title == NULL)
    self->title = g_strdup (self->id);

  for (xmlNode *child = root->children; child != NULL; child = child->next)
    {
      n_products += is_element (child, "product");
      n_surcharges += is_element (child, "surcharge");
      n_services += is_element (child, "service");
    }
  self->products = g_new0 (PmRateProduct, n_products);
  self->surcharges = g_new0 (PmSurcharge, n_surcharges);
  self->services = g_new0 (PmExtraService, n_services);

  /* Counts rise one by one so that a failure part-way frees exactly what was read. */
  for (xmlNode *child = root->children; child != NULL; child = child->next)
    {
      if (is_element (child, "product"))
        {
          PmRateProduct *product = &self->products[self->n_products++];

          if (!read_product (child, product, error))
            return FALSE;
          if (self->by_class_shape[product->mail_class][product->shape] != NULL)
            return invalid (error, child, "a second product for %s %s",
                            class_ids[product->mail_class], shape_ids[product->shape]);
          self->by_class_shape[product->mail_class][product->shape] = product;
        }
      else if (is_element (child, "surcharge"))
        {
          if (!read_surcharge (child, &self->surcharges[self->n_surcharges++], error))
            return FALSE;
        }
      else if (is_element (child, "service"))
        {
          if (!read_service (child, &self->services[self->n_services++], error))
            return FALSE;
        }
      else if (child->type == XML_ELEMENT_NODE && !is_element (child, "title")
               && !is_element (child, "source") && !is_element (child, "note"))
        {
          return invalid (error, child, "an element this format does not have");
        }
    }

  if (self->n_products == 0)
    return invalid (error, root, "the package has no products");
  return TRUE;
}

/* Any "<!" other than a comment or CDATA opens a DOCTYPE, ENTITY or similar declaration. */
static gboolean
has_declarations (const char *xml,
                  gsize       length)
{
  for (gsize i = 0; i + 1 < length; i++)
    {
      if (xml[i] != '<' || xml[i + 1] != '!')
        continue;
      if (length - i >= 4 && memcmp (xml + i, "<!--", 4) == 0)
        continue;
      if (length - i >= 9 && memcmp (xml + i, "<![CDATA[", 9) == 0)
        continue;
      return TRUE;
    }
  return FALSE;
}

PmRatePackage *
pm_rate_package_parse (const char *xml,
                       gsize       length,
                       GError    **error)
{
  g_autoptr (PmRatePackage) self = NULL;
  xmlParserCtxtPtr context;
  xmlDocPtr doc;
  gboolean ok;

  g_return_val_if_fail (xml != NULL || length == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (length > PM_RATE_PACKAGE_MAX_BYTES)
    {
      g_set_error (error, PM_RATE_PACKAGE_ERROR, PM_RATE_PACKAGE_ERROR_TOO_LARGE,
                   "The rate package is %" G_GSIZE_FORMAT " bytes, more than the %d a "
                   "package may have", length, PM_RATE_PACKAGE_MAX_BYTES);
      return NULL;
    }
  if (length > G_MAXINT)
    length = G_MAXINT;
  if (has_declarations (xml, length) || memchr (xml, '\0', length) != NULL)
    {
      g_set_error (error, PM_RATE_PACKAGE_ERROR, PM_RATE_PACKAGE_ERROR_FORBIDDEN_MARKUP,
                   "The rate package contains a DTD, an entity declaration or a NUL byte, "
                   "which rate packages never have; it was refused unread");
      return NULL;
    }

  context = xmlNewParserCtxt ();
  if (context == NULL)
    {
      g_set_error (error, PM_RATE_PACKAGE_ERROR, PM_RATE_PACKAGE_ERROR_MALFORMED_XML,
                   "The XML reader could not start");
      return NULL;
    }
  doc = xmlCtxtReadMemory (context, xml, (int) length, "rate-package.xml", "UTF-8",
                           XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING
                           | XML_PARSE_NOCDATA);
  if (doc == NULL || xmlDocGetRootElement (doc) == NULL || doc->intSubset != NULL
      || doc->extSubset != NULL)
    {
      const xmlError *last = xmlCtxtGetLastError (context);

      g_set_error (error, PM_RATE_PACKAGE_ERROR, PM_RATE_PACKAGE_ERROR_MALFORMED_XML,
                   "The rate package is not well-formed XML (line %d: %s)",
                   last != NULL ? last->line : 0,
                   last != NULL && last->message != NULL ? g_strstrip (last->message)
                                                         : "no root element");
      if (doc != NULL)
        xmlFreeDoc (doc);
      xmlFreeParserCtxt (context);
      return NULL;
    }

  self = g_new0 (PmRatePackage, 1);
  self->ref_count = 1;
  ok = read_package (xmlDocGetRootElement (doc), self, error);

  xmlFreeDoc (doc);
  xmlFreeParserCtxt (context);

  if (!ok)
    return NULL;
  return g_steal_pointer (&self);
}
