/* test-rate-package.c: the rate package XML reader */
#include "pm-rate-package.h"

#include <string.h>

#define HEAD "<rate-package format=\"1\" id=\"t\" version=\"1\" effective=\"2026-07-12\" " \
             "carrier=\"USPS\">"
#define PRODUCT_OPEN "<product class=\"ground-advantage\" shape=\"parcel\" name=\"GA\">" \
                     "<limits max-weight=\"70 lb\" max-length-girth=\"108 in\"/>" \
                     "<dim-weight over=\"1728\" divisor=\"166\"/>"
#define TABLE_OPEN(attrs) "<table id=\"ga\" prices=\"retail\" effective=\"2026-07-12\" " \
                          "status=\"secondary\" " attrs "><source>test</source>"
#define ROWS "<row upto=\"4 oz\">7.20 7.25 7.35 7.50 7.80 7.90 8.10 8.40 8.40</row>" \
             "<row upto=\"15.999 oz\">9.10 9.45 9.75 10.10 10.65 11.00 11.55 12.45 12.45</row>" \
             "<row upto=\"70 lb\">59.05 62.85 68.75 89.20 117.00 138.50 158.00 177.80 177.80</row>"
#define TAIL "</table></product></rate-package>"

static const char good[] = HEAD PRODUCT_OPEN TABLE_OPEN ("complete=\"true\" zoned=\"true\"")
  ROWS TAIL;

static PmRatePackage *
parse (const char *xml,
       GError    **error)
{
  return pm_rate_package_parse (xml, strlen (xml), error);
}

static void
test_good (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PmRatePackage) package = parse (good, &error);
  const PmRateProduct *product;
  const PmRateTable *table;
  guint index;

  g_assert_no_error (error);
  g_assert_cmpstr (package->id, ==, "t");
  g_assert_cmpuint (package->effective, ==, 20260712);
  product = pm_rate_package_find_product (package, PM_MAIL_CLASS_GROUND_ADVANTAGE,
                                          PM_SHAPE_PARCEL);
  g_assert_nonnull (product);
  g_assert_null (pm_rate_package_find_product (package, PM_MAIL_CLASS_PRIORITY_MAIL,
                                               PM_SHAPE_PARCEL));
  g_assert_cmpint (product->max_picograms, ==, 70 * PM_PICOGRAMS_PER_POUND);
  g_assert_cmpuint (product->max_length_girth, ==, 108000);
  g_assert_cmpuint (product->dim_divisor, ==, 166);

  g_assert_null (pm_rate_product_find_table (product, PM_PRICE_LIST_RETAIL, 20260711));
  g_assert_null (pm_rate_product_find_table (product, PM_PRICE_LIST_COMMERCIAL, 20260712));
  table = pm_rate_product_find_table (product, PM_PRICE_LIST_RETAIL, 20260712);
  g_assert_nonnull (table);
  g_assert_cmpuint (table->n_breaks, ==, 3);
  g_assert_cmpint (table->break_picograms[1], ==, 15999 * (PM_PICOGRAMS_PER_OUNCE / 1000));

  /* Inclusive upper bounds, exactly. */
  g_assert_cmpint (pm_rate_table_lookup (table, 4 * PM_PICOGRAMS_PER_OUNCE, 1, &index), ==, 7200);
  g_assert_cmpuint (index, ==, 0);
  g_assert_cmpint (pm_rate_table_lookup (table, 4 * PM_PICOGRAMS_PER_OUNCE + 1, 9, &index), ==,
                   12450);
  g_assert_cmpint (pm_rate_table_lookup (table, 1, 5, NULL), ==, 7800);
  g_assert_cmpint (pm_rate_table_lookup (table, 70 * PM_PICOGRAMS_PER_POUND, 5, NULL), ==,
                   117000);
  g_assert_cmpint (pm_rate_table_lookup (table, 70 * PM_PICOGRAMS_PER_POUND + 1, 5, &index), ==,
                   -2);
  g_assert_cmpuint (index, ==, 3);
  g_assert_cmpint (pm_rate_table_lookup (table, 1, 0, NULL), ==, PM_RATE_NO_PRICE);
  g_assert_cmpint (pm_rate_table_lookup (table, 1, 10, NULL), ==, PM_RATE_NO_PRICE);
}

static void
test_shipped (void)
{
  static const char *const files[] = { "usps-2025-07-13.xml", "usps-2026-07-12.xml" };
  const char *root = g_getenv ("POSTMETER_SOURCE_ROOT");

  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *path = g_build_filename (root, "data", "rates", files[i], NULL);
      g_autofree char *xml = NULL;
      gsize length;
      g_autoptr (GError) error = NULL;
      g_autoptr (PmRatePackage) package = NULL;

      g_assert_true (g_file_get_contents (path, &xml, &length, NULL));
      package = pm_rate_package_parse (xml, length, &error);
      g_assert_no_error (error);

      /* Every table names its source; every partial one says why. */
      for (guint p = 0; p < package->n_products; p++)
        for (guint t = 0; t < package->products[p].n_tables; t++)
          {
            const PmRateTable *table = &package->products[p].tables[t];

            g_assert_true (table->source != NULL && strlen (table->source) > 10);
            if (!table->complete)
              g_assert_true (table->note != NULL && *table->note != '\0');
          }
    }
}

typedef struct
{
  const char         *name;
  const char         *xml;
  PmRatePackageError  code;
  const char         *fragment;
} Bad;

static void
test_bad (void)
{
  static const Bad cases[] = {
    { "not xml", "<rate-package", PM_RATE_PACKAGE_ERROR_MALFORMED_XML, "well-formed" },
    { "empty", "", PM_RATE_PACKAGE_ERROR_MALFORMED_XML, NULL },
    { "doctype",
      "<!DOCTYPE rate-package SYSTEM \"http://example.com/x.dtd\">" HEAD "</rate-package>",
      PM_RATE_PACKAGE_ERROR_FORBIDDEN_MARKUP, "DTD" },
    { "external entity", "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM "
      "\"file:///etc/passwd\">]><r>&x;</r>", PM_RATE_PACKAGE_ERROR_FORBIDDEN_MARKUP, NULL },
    { "billion laughs", "<!DOCTYPE r [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]><r>&b;</r>",
      PM_RATE_PACKAGE_ERROR_FORBIDDEN_MARKUP, NULL },
    { "other root", "<rates/>", PM_RATE_PACKAGE_ERROR_INVALID, "not a rate package" },
    { "format", "<rate-package format=\"2\"/>", PM_RATE_PACKAGE_ERROR_INVALID, "format" },
    { "no products", HEAD "</rate-package>", PM_RATE_PACKAGE_ERROR_INVALID, "no products" },
    { "bad date", "<rate-package format=\"1\" id=\"t\" version=\"1\" effective=\"2026-02-30\" "
      "carrier=\"USPS\"/>", PM_RATE_PACKAGE_ERROR_INVALID, "2026-02-30" },
    { "zero version", "<rate-package format=\"1\" id=\"t\" version=\"0\" effective=\"2026-07-12\" "
      "carrier=\"USPS\"/>", PM_RATE_PACKAGE_ERROR_INVALID, "version" },
    { "falling breaks", HEAD PRODUCT_OPEN TABLE_OPEN ("complete=\"true\"")
      "<source>s</source><row upto=\"8 oz\">1.00</row><row upto=\"4 oz\">2.00</row>" TAIL,
      PM_RATE_PACKAGE_ERROR_INVALID, "must rise" },
    { "equal breaks", HEAD PRODUCT_OPEN TABLE_OPEN ("complete=\"true\"")
      "<row upto=\"1 lb\">1.00</row><row upto=\"16 oz\">2.00</row>" TAIL,
      PM_RATE_PACKAGE_ERROR_INVALID, "must rise" },
    { "complete with gaps", HEAD PRODUCT_OPEN TABLE_OPEN ("complete=\"true\" zoned=\"true\"")
      "<row upto=\"4 oz\">7.20 - 7.35 7.50 7.80 7.90 8.10 8.40 8.40</row>" TAIL,
      PM_RATE_PACKAGE_ERROR_INVALID, "marked complete" },
    { "partial without note", HEAD PRODUCT_OPEN TABLE_OPEN ("complete=\"false\"")
      "<row upto=\"4 oz\">7.20</row>" TAIL, PM_RATE_PACKAGE_ERROR_INVALID, "<note>" },
    { "eight zones", HEAD PRODUCT_OPEN TABLE_OPEN ("complete=\"true\" zoned=\"true\"")
      "<row upto=\"4 oz\">7.20 7.25 7.35 7.50 7.80 7.90 8.10 8.40</row>" TAIL,
      PM_RATE_PACKAGE_ERROR_INVALID, "8 prices where 9" },
    { "bad price", HEAD PRODUCT_OPEN TABLE_OPEN ("complete=\"true\"")
      "<row upto=\"4 oz\">7.2x</row>" TAIL, PM_RATE_PACKAGE_ERROR_INVALID, "7.2x" },
    { "negative price", HEAD PRODUCT_OPEN TABLE_OPEN ("complete=\"true\"")
      "<row upto=\"4 oz\">-7.20</row>" TAIL, PM_RATE_PACKAGE_ERROR_INVALID, "negative" },
    { "weight without unit", HEAD PRODUCT_OPEN TABLE_OPEN ("complete=\"true\"")
      "<row upto=\"4\">7.20</row>" TAIL, PM_RATE_PACKAGE_ERROR_INVALID, "no unit" },
    { "no source", HEAD PRODUCT_OPEN "<table id=\"ga\" prices=\"retail\" effective=\"2026-07-12\" "
      "status=\"secondary\" complete=\"true\"><row upto=\"4 oz\">7.20</row>" TAIL,
      PM_RATE_PACKAGE_ERROR_INVALID, "<source>" },
    { "unknown status", HEAD PRODUCT_OPEN "<table id=\"ga\" prices=\"retail\" "
      "effective=\"2026-07-12\" status=\"rumour\" complete=\"true\"><source>s</source>"
      "<row upto=\"4 oz\">7.20</row>" TAIL, PM_RATE_PACKAGE_ERROR_INVALID, "rumour" },
    { "ends before it starts",
      HEAD PRODUCT_OPEN TABLE_OPEN ("complete=\"true\" ends=\"2026-07-12\"")
      "<row upto=\"4 oz\">7.20</row>" TAIL, PM_RATE_PACKAGE_ERROR_INVALID, "ends before" },
    { "overlapping tables", HEAD PRODUCT_OPEN TABLE_OPEN ("complete=\"true\"")
      "<row upto=\"4 oz\">7.20</row></table>"
      "<table id=\"ga2\" prices=\"retail\" effective=\"2026-10-04\" status=\"secondary\" "
      "complete=\"true\"><source>s</source><row upto=\"4 oz\">7.90</row>" TAIL,
      PM_RATE_PACKAGE_ERROR_INVALID, "overlap" },
    { "unknown class", HEAD "<product class=\"parcel-post\" shape=\"parcel\" name=\"x\"/>"
      "</rate-package>", PM_RATE_PACKAGE_ERROR_INVALID, "parcel-post" },
    { "bad length", HEAD "<product class=\"first-class\" shape=\"letter\" name=\"x\">"
      "<limits max-length=\"11.5\"/></product></rate-package>", PM_RATE_PACKAGE_ERROR_INVALID,
      "11.5" },
    { "unknown element", HEAD "<script/></rate-package>", PM_RATE_PACKAGE_ERROR_INVALID,
      "does not have" },
    { "bad limits after a table", HEAD PRODUCT_OPEN TABLE_OPEN ("complete=\"true\"")
      "<row upto=\"4 oz\">7.20</row></table><limits max-weight=\"heavy\"/>"
      "</product></rate-package>", PM_RATE_PACKAGE_ERROR_INVALID, "heavy" },
    { "bad table after a table", HEAD PRODUCT_OPEN TABLE_OPEN ("complete=\"true\"")
      "<row upto=\"4 oz\">7.20</row></table>" TABLE_OPEN ("complete=\"maybe\"") TAIL,
      PM_RATE_PACKAGE_ERROR_INVALID, "true or false" },
    { "bad second product", HEAD PRODUCT_OPEN TABLE_OPEN ("complete=\"true\"")
      "<row upto=\"4 oz\">7.20</row></table></product>" PRODUCT_OPEN TABLE_OPEN
      ("complete=\"true\"") "<row upto=\"4 oz\">7.20</row>" TAIL,
      PM_RATE_PACKAGE_ERROR_INVALID, "a second product" },
    { "service tiers falling", HEAD PRODUCT_OPEN TABLE_OPEN ("complete=\"true\"")
      "<row upto=\"4 oz\">7.20</row></table></product><service id=\"insurance\" "
      "name=\"Insurance\" classes=\"ground-advantage\" effective=\"2026-07-12\" "
      "status=\"secondary\"><source>s</source><tier upto=\"100.00\" price=\"3.50\"/>"
      "<tier upto=\"50.00\" price=\"2.80\"/></service></rate-package>",
      PM_RATE_PACKAGE_ERROR_INVALID, "must rise" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (PmRatePackage) package = NULL;

      g_test_message ("case: %s", cases[i].name);
      package = parse (cases[i].xml, &error);
      g_assert_null (package);
      g_assert_error (error, PM_RATE_PACKAGE_ERROR, (gint) cases[i].code);
      g_test_message ("%s", error->message);
      if (cases[i].fragment != NULL && strstr (error->message, cases[i].fragment) == NULL)
        g_error ("“%s” not in “%s”", cases[i].fragment, error->message);
    }
}

static void
test_too_large (void)
{
  gsize length = PM_RATE_PACKAGE_MAX_BYTES + 1;
  g_autofree char *xml = g_malloc (length);
  g_autoptr (GError) error = NULL;

  memset (xml, ' ', length);
  g_assert_null (pm_rate_package_parse (xml, length, &error));
  g_assert_error (error, PM_RATE_PACKAGE_ERROR, PM_RATE_PACKAGE_ERROR_TOO_LARGE);
}

static void
test_dates_and_names (void)
{
  PmRateDate date = 0;
  g_autofree char *text = NULL;
  PmMailClass mail_class;
  PmService service;

  g_assert_true (pm_rate_date_parse ("2026-07-12", &date));
  g_assert_cmpuint (date, ==, 20260712);
  g_assert_true (pm_rate_date_parse ("2028-02-29", &date));
  g_assert_false (pm_rate_date_parse ("2026-02-29", &date));
  g_assert_false (pm_rate_date_parse ("2026-7-12", &date));
  g_assert_false (pm_rate_date_parse ("2026-07-12T00", &date));
  g_assert_false (pm_rate_date_parse ("20260712", &date));
  text = pm_rate_date_format (20260712);
  g_assert_cmpstr (text, ==, "12 Jul 2026");

  g_assert_true (pm_rate_date_in_force (20251005, 20260118, 20251005));
  g_assert_true (pm_rate_date_in_force (20251005, 20260118, 20260117));
  g_assert_false (pm_rate_date_in_force (20251005, 20260118, 20260118));
  g_assert_false (pm_rate_date_in_force (20251005, 20260118, 20251004));
  g_assert_true (pm_rate_date_in_force (20251005, 0, 99991231));

  g_assert_true (pm_mail_class_from_string ("priority-mail-express", &mail_class));
  g_assert_cmpint (mail_class, ==, PM_MAIL_CLASS_PRIORITY_MAIL_EXPRESS);
  g_assert_cmpstr (pm_mail_class_get_name (mail_class), ==, "Priority Mail Express");
  g_assert_false (pm_mail_class_from_string ("Priority Mail", &mail_class));
  g_assert_true (pm_service_from_string ("insurance", &service));
  g_assert_cmpint (service, ==, PM_SERVICE_INSURANCE);
  g_assert_cmpstr (pm_service_to_string (PM_SERVICE_RETURN_RECEIPT), ==, "return-receipt");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/core/rate-package/parse/good", test_good);
  g_test_add_func ("/core/rate-package/parse/shipped", test_shipped);
  g_test_add_func ("/core/rate-package/parse/refused", test_bad);
  g_test_add_func ("/core/rate-package/parse/too-large", test_too_large);
  g_test_add_func ("/core/rate-package/dates-and-names", test_dates_and_names);

  return g_test_run ();
}
