/* test-zone-chart.c: zones from origin and destination ZIP Codes
 *
 * The shipped charts are checked against zones typed from the June 2018 chart
 * (shared/data/usps-zone-chart-2018.csv), not read back from the data files. Exceptions,
 * the importer and the data file reader are checked with small charts written here.
 */
#include "pm-clock.h"
#include "pm-package.h"
#include "pm-zone-chart.h"

#include <string.h>
#include <glib/gstdio.h>

static PmVerifyKey *
demo_key (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (g_getenv ("POSTMETER_SOURCE_ROOT"), "data", "keys",
                                            "demo-provider.pub", NULL);
  PmVerifyKey *key = pm_package_load_key (path, &error);

  g_assert_no_error (error);
  return key;
}

/* The shipped charts, each checked against its signature by the demo provider key. */
static PmZoneChart *
load_shipped (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PmVerifyKey) key = demo_key ();
  g_autofree char *dir = NULL;
  const char *root = g_getenv ("POSTMETER_SOURCE_ROOT");
  PmZoneChart *chart = pm_zone_chart_new ();

  g_assert_nonnull (root);
  dir = g_build_filename (root, "data", "zones", NULL);
  g_assert_true (pm_zone_chart_install_directory (chart, dir, key, &error));
  g_assert_no_error (error);
  return chart;
}

static void
expect_zone (PmZoneChart *chart,
             PmMailClass  mail_class,
             const char  *origin,
             const char  *destination,
             guint        zone,
             guint        flags)
{
  g_autoptr (GError) error = NULL;
  guint found = 0;
  guint found_flags = 0;

  g_test_message ("%s -> %s", origin, destination);
  if (!pm_zone_chart_lookup (chart, mail_class, origin, destination, &found, &found_flags,
                             &error))
    g_error ("%s -> %s refused: %s", origin, destination, error->message);
  g_assert_cmpuint (found, ==, zone);
  g_assert_cmphex (found_flags, ==, flags);
}

static void
expect_refused (PmZoneChart      *chart,
                const char       *origin,
                const char       *destination,
                PmZoneChartError  code,
                const char       *fragment)
{
  g_autoptr (GError) error = NULL;
  guint zone = 77;
  guint flags = 77;

  g_assert_false (pm_zone_chart_lookup (chart, PM_MAIL_CLASS_PRIORITY_MAIL, origin,
                                        destination, &zone, &flags, &error));
  g_assert_error (error, PM_ZONE_CHART_ERROR, (gint) code);
  g_test_message ("%s", error->message);
  if (strstr (error->message, fragment) == NULL)
    g_error ("“%s” not in “%s”", fragment, error->message);
  g_assert_cmpuint (zone, ==, 77);
}

#define OLD PM_ZONE_FLAG_NOT_CURRENT
#define NDC PM_ZONE_FLAG_SAME_NDC
#define MISSING PM_ZONE_FLAG_EXCEPTIONS_MISSING

static void
test_shipped (void)
{
  static const struct
  {
    const char *origin;
    const char *destination;
    guint       zone;
    guint       flags;
  } cases[] = {
    { "60601", "60614", 1, OLD | NDC },        /* 606: 600-608 zone 1 * */
    { "60601", "46201", 2, OLD },              /* 460-462 zone 2 */
    { "60601", "46350", 1, OLD | NDC },        /* 463-464 zone 1 * */
    { "60601", "43215", 3, OLD },
    { "60601", "30303", 4, OLD },
    { "60601", "10001", 5, OLD },
    { "60601", "80202", 5, OLD },
    { "60601", "09012", 5, OLD | MISSING },    /* 090-098 zone 5 + */
    { "60601", "33101", 6, OLD },
    { "60601", "85001", 7, OLD },
    { "60601", "94105", 8, OLD },
    { "60601", "00601", 8, OLD },              /* Puerto Rico */
    { "60601", "99501", 8, OLD },              /* Anchorage */
    { "60601", "96960", 9, OLD | MISSING },    /* 969 zone 9 +: Marshall Islands */
    { "60601", "96939", 9, OLD | MISSING },    /* Palau */
    /* ZIP+4 and the ways people type it; only the first five digits count. */
    { "60601-1234", "94105-1804", 8, OLD },
    { "60601", "94105 1804", 8, OLD },
    { "60601", " 941051804 ", 8, OLD },
    /* Other shipped origins. */
    { "90001", "10001", 8, OLD },
    { "90012", "96910", 9, OLD | MISSING },
    { "96813", "96910", 1, OLD | NDC },        /* Honolulu to Guam: same NDC */
    { "99501", "99601", 1, OLD | NDC },
    { "10001", "60601", 5, OLD },
    { "94105", "94110", 1, OLD | NDC },
    { "30303", "30303", 1, OLD | NDC },
    { "75001", "75201", 1, OLD | NDC },
    { "20001", "20001", 1, OLD | NDC },
    { "20001", "96960", 9, OLD | MISSING },
  };
  g_autoptr (PmZoneChart) chart = load_shipped ();
  g_auto (GStrv) origins = pm_zone_chart_list_origins (chart);
  const char *expected[] = { "100", "200", "303", "606", "750", "900", "941", "968", "995",
                             NULL };

  g_assert_cmpstrv (origins, expected);
  g_assert_cmpstr (pm_zone_chart_get_published (chart, "606"), ==, "2018-06");
  g_assert_nonnull (strstr (pm_zone_chart_get_source (chart, "606"), "June 2018"));

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    expect_zone (chart, PM_MAIL_CLASS_PRIORITY_MAIL, cases[i].origin, cases[i].destination,
                 cases[i].zone, cases[i].flags);

  /* 3-digit ZIPs the chart does not list, and ZIP Codes that are not ZIP Codes. */
  expect_refused (chart, "60601", "00201", PM_ZONE_CHART_ERROR_UNKNOWN_DESTINATION,
                  "Destination ZIP: 00201 is not in the zone chart for origin 606");
  expect_refused (chart, "60601", "21301", PM_ZONE_CHART_ERROR_UNKNOWN_DESTINATION,
                  "beginning 213");
  expect_refused (chart, "60601", "6060", PM_ZONE_CHART_ERROR_MALFORMED_ZIP,
                  "Destination ZIP: “6060” has 4 digits");
  expect_refused (chart, "60601", "94l05", PM_ZONE_CHART_ERROR_MALFORMED_ZIP,
                  "Destination ZIP: “94l05” is not a ZIP Code");
  expect_refused (chart, "60601", "00012", PM_ZONE_CHART_ERROR_MALFORMED_ZIP,
                  "no ZIP Code begins with 000");
  expect_refused (chart, "60601", "", PM_ZONE_CHART_ERROR_MALFORMED_ZIP,
                  "enter the destination ZIP Code");
  expect_refused (chart, "12345", "60601", PM_ZONE_CHART_ERROR_UNKNOWN_ORIGIN,
                  "Origin ZIP: no zone chart is installed for origin 123");
  expect_refused (chart, "606", "60601", PM_ZONE_CHART_ERROR_MALFORMED_ZIP, "Origin ZIP");
}

/* A small chart with every kind of line, exceptions included. */
static const char exceptions_chart[] =
  "# test chart\n"
  "Postmeter-Zone-Chart: 1\n"
  "Origin: 606\n"
  "Published: 2026-01-18\n"
  "Current: yes\n"
  "Exceptions: included\n"
  "Source: test chart written for test-zone-chart.c\n"
  "\n"
  "600 608 1 *\n"
  "900 908 7\n"
  "963 968 8\n"
  "969 969 9 +\n"
  "970 986 7 +\n"
  "96910 96932 8\n"
  "96950 96952 8 priority-mail\n"
  "96950 96950 7\n"
  "97030 97030 6 ground-advantage\n";

static void
test_exceptions (void)
{
  g_autoptr (PmZoneChart) chart = pm_zone_chart_new ();
  g_autoptr (GError) error = NULL;
  const PmMailClass pm = PM_MAIL_CLASS_PRIORITY_MAIL;
  const PmMailClass ga = PM_MAIL_CLASS_GROUND_ADVANTAGE;
  const guint exc = PM_ZONE_FLAG_EXCEPTION;
  g_autofree char *data = NULL;
  g_autoptr (PmZoneChart) copy = pm_zone_chart_new ();

  g_assert_true (pm_zone_chart_load_data (chart, exceptions_chart, strlen (exceptions_chart),
                                          &error));
  g_assert_no_error (error);

  /* Range edges: the exception covers 96910 to 96932 only. */
  expect_zone (chart, pm, "60601", "96909", 9, 0);
  expect_zone (chart, pm, "60601", "96910", 8, exc);
  expect_zone (chart, pm, "60601", "96932", 8, exc);
  expect_zone (chart, pm, "60601", "96933", 9, 0);
  /* A class's own exception wins over one for every class; others get the latter. */
  expect_zone (chart, pm, "60601", "96950", 8, exc);
  expect_zone (chart, ga, "60601", "96950", 7, exc);
  expect_zone (chart, pm, "60601", "96951", 8, exc);
  expect_zone (chart, ga, "60601", "96951", 9, 0);
  expect_zone (chart, ga, "60601", "97030", 6, exc);
  expect_zone (chart, pm, "60601", "97030", 7, 0);
  /* With the exceptions included, a "+" range without one is simply its zone. */
  expect_zone (chart, pm, "60601", "97101", 7, 0);
  expect_zone (chart, pm, "60601", "60614", 1, PM_ZONE_FLAG_SAME_NDC);

  /* Exceptions added through the API, and their overlaps refused. */
  g_assert_true (pm_zone_chart_add_exception (chart, "606", "90210", "90212", 8, FALSE, 0,
                                              &error));
  g_assert_no_error (error);
  expect_zone (chart, pm, "60601", "90209", 7, 0);
  expect_zone (chart, pm, "60601", "90211", 8, exc);
  g_assert_false (pm_zone_chart_add_exception (chart, "606", "90212", "90299", 6, FALSE, 0,
                                               &error));
  g_assert_error (error, PM_ZONE_CHART_ERROR, PM_ZONE_CHART_ERROR_CONFLICT);
  g_clear_error (&error);
  g_assert_false (pm_zone_chart_add_exception (chart, "607", "90212", "90299", 6, FALSE, 0,
                                               &error));
  g_assert_error (error, PM_ZONE_CHART_ERROR, PM_ZONE_CHART_ERROR_UNKNOWN_ORIGIN);
  g_clear_error (&error);
  g_assert_false (pm_zone_chart_add_exception (chart, "606", "90299", "90212", 6, FALSE, 0,
                                               &error));
  g_assert_error (error, PM_ZONE_CHART_ERROR, PM_ZONE_CHART_ERROR_MALFORMED);
  g_clear_error (&error);
  g_assert_false (pm_zone_chart_add_exception (chart, "606", "90300", "90300", 10, FALSE, 0,
                                               &error));
  g_assert_error (error, PM_ZONE_CHART_ERROR, PM_ZONE_CHART_ERROR_MALFORMED);
  g_clear_error (&error);

  /* Written out and read back, the chart answers the same. */
  data = pm_zone_chart_to_data (chart, "606");
  g_assert_true (pm_zone_chart_load_data (copy, data, strlen (data), &error));
  g_assert_no_error (error);
  expect_zone (copy, ga, "60601", "96950", 7, exc);
  expect_zone (copy, pm, "60601", "96950", 8, exc);
  expect_zone (copy, pm, "60601", "90211", 8, exc);
  expect_zone (copy, ga, "60601", "97030", 6, exc);
  expect_zone (copy, pm, "60601", "96933", 9, 0);

  /* The same origin twice is refused. */
  g_assert_false (pm_zone_chart_load_data (chart, data, strlen (data), &error));
  g_assert_error (error, PM_ZONE_CHART_ERROR, PM_ZONE_CHART_ERROR_CONFLICT);
}

#define HEADER \
  "Postmeter-Zone-Chart: 1\nOrigin: 606\nPublished: 2018-06\nCurrent: no\n" \
  "Exceptions: not-included\nSource: test\n"

static void
test_data_malformed (void)
{
  static const struct
  {
    const char      *data;
    PmZoneChartError code;
    const char      *fragment;
  } cases[] = {
    { "", PM_ZONE_CHART_ERROR_MALFORMED, "no zones" },
    { HEADER, PM_ZONE_CHART_ERROR_MALFORMED, "no zones" },
    { "Postmeter-Zone-Chart: 2\n", PM_ZONE_CHART_ERROR_MALFORMED, "line 1: not a Postmeter" },
    { "005 005 5\n", PM_ZONE_CHART_ERROR_MALFORMED, "line 1: a zone before the header" },
    { "Postmeter-Zone-Chart: 1\nOrigin: 606\n005 005 5\n", PM_ZONE_CHART_ERROR_MALFORMED,
      "line 3: a zone before the header" },
    { "Postmeter-Zone-Chart: 1\nPublished: 2018-06\n", PM_ZONE_CHART_ERROR_MALFORMED,
      "line 2: the Origin line must come first" },
    { "Postmeter-Zone-Chart: 1\nOrigin: 60\n", PM_ZONE_CHART_ERROR_MALFORMED,
      "line 2: “60” is not a valid Origin" },
    { "Postmeter-Zone-Chart: 1\nOrigin: 606\nPublished: 2018-13\n",
      PM_ZONE_CHART_ERROR_MALFORMED, "line 3: “2018-13”" },
    { "Postmeter-Zone-Chart: 1\nOrigin: 606\nCurrent: maybe\n", PM_ZONE_CHART_ERROR_MALFORMED,
      "line 3" },
    { "Postmeter-Zone-Chart: 1\nOrigin: 606\nOrigin: 607\n", PM_ZONE_CHART_ERROR_MALFORMED,
      "line 3: unknown or repeated header “Origin”" },
    { "Postmeter-Zone-Chart: 1\nOrigin: 606\nZones 5\n", PM_ZONE_CHART_ERROR_MALFORMED,
      "line 3: expected a “Field: value”" },
    { HEADER "005 005 0\n", PM_ZONE_CHART_ERROR_MALFORMED, "line 7: expected" },
    { HEADER "005 005 10\n", PM_ZONE_CHART_ERROR_MALFORMED, "line 7" },
    { HEADER "006 005 5\n", PM_ZONE_CHART_ERROR_MALFORMED, "line 7" },
    { HEADER "005 5\n", PM_ZONE_CHART_ERROR_MALFORMED, "line 7" },
    { HEADER "005 005 5 * extra\n", PM_ZONE_CHART_ERROR_MALFORMED, "line 7" },
    { HEADER "005 005 5 **\n", PM_ZONE_CHART_ERROR_MALFORMED, "line 7" },
    { HEADER "005 005 5 x\n", PM_ZONE_CHART_ERROR_MALFORMED, "line 7" },
    { HEADER "05 005 5\n", PM_ZONE_CHART_ERROR_MALFORMED, "line 7" },
    { HEADER "0050 0059 5\n", PM_ZONE_CHART_ERROR_MALFORMED, "line 7" },
    { HEADER "00501 00501 5 letters\n", PM_ZONE_CHART_ERROR_MALFORMED, "line 7" },
    { HEADER "005 010 5\n008 012 6\n", PM_ZONE_CHART_ERROR_CONFLICT,
      "line 8: origin 606, destination 008 is already in zone 5" },
    { HEADER "005 010 5\n00501 00510 5\n00505 00520 6\n", PM_ZONE_CHART_ERROR_CONFLICT,
      "line 9: origin 606, the exception for 00505 to 00520 overlaps" },
    { HEADER "005 005 5\x01\n", PM_ZONE_CHART_ERROR_MALFORMED, "line 7: a control character" },
    { HEADER "005 005 5 \xff\n", PM_ZONE_CHART_ERROR_MALFORMED, "line 7: not valid UTF-8" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (PmZoneChart) chart = pm_zone_chart_new ();
      g_autoptr (GError) error = NULL;
      g_auto (GStrv) origins = NULL;

      g_assert_false (pm_zone_chart_load_data (chart, cases[i].data, strlen (cases[i].data),
                                               &error));
      g_assert_error (error, PM_ZONE_CHART_ERROR, (gint) cases[i].code);
      g_test_message ("case %" G_GSIZE_FORMAT ": %s", i, error->message);
      if (strstr (error->message, cases[i].fragment) == NULL)
        g_error ("case %" G_GSIZE_FORMAT ": “%s” not in “%s”", i, cases[i].fragment,
                 error->message);
      /* Nothing of a refused file is kept. */
      origins = pm_zone_chart_list_origins (chart);
      g_assert_cmpuint (g_strv_length (origins), ==, 0);
    }
}

/* Lines of the 2018 CSV for origin 606 and 005, written the ways CSVs come. */
static const char good_csv[] =
  "\xef\xbb\xbf\"origin_zip\",\"dest_zip_start\",\"dest_zip_end\",\"zone\",\"modifier_1\","
  "\"modifier_2\"\r\n"
  "005,005,005,1,*,NA\r\n"
  "005,969,969,9,NA,+\r\n"
  "606,090,098,5,NA,+\n"
  "606,463,464,1,*,NA\n"
  "\"606\",\"600\",\"608\",\"1\",\"*\",\"NA\"\n"
  "606,609,609,2,,\n"
  "606,969,969,9,NA,+\n"
  "\n";

static void
test_csv_import (void)
{
  g_autoptr (PmZoneChart) chart = pm_zone_chart_new ();
  g_autoptr (PmZoneChart) all = pm_zone_chart_new ();
  g_autoptr (PmZoneChart) copy = pm_zone_chart_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *data = NULL;
  const char *only_606[] = { "606", NULL };
  const PmMailClass pm = PM_MAIL_CLASS_PRIORITY_MAIL;

  g_assert_true (pm_zone_chart_import_csv (chart, good_csv, strlen (good_csv), only_606,
                                           "2018-06", "test CSV", FALSE, &error));
  g_assert_no_error (error);
  g_assert_true (pm_zone_chart_has_origin (chart, "606"));
  g_assert_false (pm_zone_chart_has_origin (chart, "005"));
  expect_zone (chart, pm, "60601", "09012", 5, OLD | MISSING);
  expect_zone (chart, pm, "60601", "46401", 1, OLD | NDC);
  expect_zone (chart, pm, "60601", "60001", 1, OLD | NDC);
  expect_zone (chart, pm, "60601", "60901", 2, OLD);
  expect_zone (chart, pm, "60601", "96960", 9, OLD | MISSING);
  expect_refused (chart, "60601", "46501", PM_ZONE_CHART_ERROR_UNKNOWN_DESTINATION, "465");

  /* Written as a data file and read back, the same zones. */
  data = pm_zone_chart_to_data (chart, "606");
  g_assert_nonnull (strstr (data, "\n600 608 1 *\n609 609 2\n"));
  g_assert_true (pm_zone_chart_load_data (copy, data, strlen (data), &error));
  g_assert_no_error (error);
  expect_zone (copy, pm, "60601", "09012", 5, OLD | MISSING);
  expect_zone (copy, pm, "60601", "96960", 9, OLD | MISSING);
  g_assert_cmpstr (pm_zone_chart_get_source (copy, "606"), ==, "test CSV");

  /* Every origin, and a chart marked current: no "old chart" flag. */
  g_assert_true (pm_zone_chart_import_csv (all, good_csv, strlen (good_csv), NULL,
                                           "2026-01-18", "test CSV", TRUE, &error));
  g_assert_no_error (error);
  expect_zone (all, pm, "00501", "00501", 1, NDC);
  expect_zone (all, pm, "00501", "96950", 9, MISSING);

  /* An origin already loaded, or one the CSV does not have. */
  g_assert_false (pm_zone_chart_import_csv (chart, good_csv, strlen (good_csv), only_606,
                                            "2018-06", "test CSV", FALSE, &error));
  g_assert_error (error, PM_ZONE_CHART_ERROR, PM_ZONE_CHART_ERROR_CONFLICT);
  g_clear_error (&error);
  {
    const char *missing[] = { "100", NULL };
    const char *bad[] = { "1000", NULL };

    g_assert_false (pm_zone_chart_import_csv (copy, good_csv, strlen (good_csv), missing,
                                              "2018-06", "test CSV", FALSE, &error));
    g_assert_error (error, PM_ZONE_CHART_ERROR, PM_ZONE_CHART_ERROR_UNKNOWN_ORIGIN);
    g_clear_error (&error);
    g_assert_false (pm_zone_chart_import_csv (copy, good_csv, strlen (good_csv), bad,
                                              "2018-06", "test CSV", FALSE, &error));
    g_assert_error (error, PM_ZONE_CHART_ERROR, PM_ZONE_CHART_ERROR_MALFORMED_ZIP);
    g_clear_error (&error);
    g_assert_false (pm_zone_chart_import_csv (copy, good_csv, strlen (good_csv), NULL,
                                              "June 2018", "test CSV", FALSE, &error));
    g_assert_error (error, PM_ZONE_CHART_ERROR, PM_ZONE_CHART_ERROR_MALFORMED);
  }
}

#define CSV_HEAD "origin_zip,dest_zip_start,dest_zip_end,zone,modifier_1,modifier_2\n"
#define CSV_OK "606,600,608,1,*,NA\n"

static void
test_csv_malformed (void)
{
  static const struct
  {
    const char      *csv;
    PmZoneChartError code;
    const char      *fragment;
  } cases[] = {
    { "", PM_ZONE_CHART_ERROR_MALFORMED, "the CSV is empty" },
    { "origin,start,end,zone\n" CSV_OK, PM_ZONE_CHART_ERROR_MALFORMED,
      "line 1: expected the header" },
    { CSV_OK, PM_ZONE_CHART_ERROR_MALFORMED, "line 1: expected the header" },
    { CSV_HEAD CSV_OK "606,609,609,2,NA\n", PM_ZONE_CHART_ERROR_MALFORMED,
      "line 3: expected 6 comma-separated fields" },
    { CSV_HEAD CSV_OK "606,609,609,2,NA,NA,NA\n", PM_ZONE_CHART_ERROR_MALFORMED,
      "line 3: expected 6" },
    { CSV_HEAD CSV_OK "606,9,9,2,NA,NA\n", PM_ZONE_CHART_ERROR_MALFORMED,
      "line 3: origin_zip, dest_zip_start and dest_zip_end must be 3-digit ZIPs" },
    { CSV_HEAD "6O6,609,609,2,NA,NA\n", PM_ZONE_CHART_ERROR_MALFORMED, "line 2: origin_zip" },
    { CSV_HEAD "606,60a,609,2,NA,NA\n", PM_ZONE_CHART_ERROR_MALFORMED, "line 2" },
    { CSV_HEAD "606,-09,609,2,NA,NA\n", PM_ZONE_CHART_ERROR_MALFORMED, "line 2" },
    { CSV_HEAD CSV_OK "606,612,609,2,NA,NA\n", PM_ZONE_CHART_ERROR_MALFORMED,
      "line 3: the range 612 to 609 ends before it starts" },
    { CSV_HEAD "606,609,609,0,NA,NA\n", PM_ZONE_CHART_ERROR_MALFORMED,
      "line 2: the zone must be 1 to 9" },
    { CSV_HEAD "606,609,609,10,NA,NA\n", PM_ZONE_CHART_ERROR_MALFORMED, "line 2: the zone" },
    { CSV_HEAD "606,609,609,,NA,NA\n", PM_ZONE_CHART_ERROR_MALFORMED, "line 2: the zone" },
    { CSV_HEAD "606,609,609,2,+,NA\n", PM_ZONE_CHART_ERROR_MALFORMED,
      "line 2: modifier_1 must be" },
    { CSV_HEAD "606,609,609,2,NA,*\n", PM_ZONE_CHART_ERROR_MALFORMED,
      "line 2: modifier_2 must be" },
    { CSV_HEAD CSV_OK "606,605,610,2,NA,NA\n", PM_ZONE_CHART_ERROR_CONFLICT,
      "line 3: origin 606, destination 605 is already in zone 1" },
    { CSV_HEAD CSV_OK "606,609,609,2,NA,NA\x00\n", PM_ZONE_CHART_ERROR_MALFORMED,
      "line 3: a control character" },
    { CSV_HEAD CSV_OK "606,609,609,2,N\xc3,NA\n", PM_ZONE_CHART_ERROR_MALFORMED,
      "line 3: not valid UTF-8" },
  };
  /* A NUL inside a line needs its real length. */
  static const char with_nul[] = CSV_HEAD CSV_OK "606,609,609,2,NA,NA\x00\n";
  const char *only_606[] = { "606", NULL };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (PmZoneChart) chart = pm_zone_chart_new ();
      g_autoptr (GError) error = NULL;
      gsize length = strlen (cases[i].csv);

      if (strstr (cases[i].fragment, "control character") != NULL)
        length = sizeof with_nul - 1;
      g_assert_false (pm_zone_chart_import_csv (chart, cases[i].csv, length, only_606,
                                                "2018-06", "test", FALSE, &error));
      g_assert_error (error, PM_ZONE_CHART_ERROR, (gint) cases[i].code);
      g_test_message ("case %" G_GSIZE_FORMAT ": %s", i, error->message);
      if (strstr (error->message, cases[i].fragment) == NULL)
        g_error ("case %" G_GSIZE_FORMAT ": “%s” not in “%s”", i, cases[i].fragment,
                 error->message);
      /* A malformed line anywhere refuses every origin, even those before it. */
      g_assert_false (pm_zone_chart_has_origin (chart, "606"));

      /* The chart is still usable: a good import after the refused one works. */
      g_assert_true (pm_zone_chart_import_csv (chart, CSV_HEAD CSV_OK,
                                               strlen (CSV_HEAD CSV_OK), only_606, "2018-06",
                                               "test", FALSE, NULL));
      expect_zone (chart, PM_MAIL_CLASS_PRIORITY_MAIL, "60601", "60601", 1, OLD | NDC);
    }
}

static void
test_load_errors (void)
{
  g_autoptr (PmZoneChart) chart = pm_zone_chart_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("pm-zones-XXXXXX", &error);
  g_autofree char *bad = NULL;
  g_autofree char *good = NULL;

  g_assert_no_error (error);
  g_assert_false (pm_zone_chart_load_directory (chart, "/nonexistent/zones", &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_clear_error (&error);

  /* A folder with a good chart and a bad one: the error names the bad file. */
  good = g_build_filename (dir, "zone-chart-606.txt", NULL);
  bad = g_build_filename (dir, "zone-chart-900.txt", NULL);
  g_assert_true (g_file_set_contents (good, HEADER "600 608 1 *\n", -1, NULL));
  g_assert_true (g_file_set_contents (bad, HEADER "600 608 1 *\n600 600 2\n", -1, NULL));
  g_assert_false (pm_zone_chart_load_directory (chart, dir, &error));
  g_assert_error (error, PM_ZONE_CHART_ERROR, PM_ZONE_CHART_ERROR_CONFLICT);
  g_assert_nonnull (strstr (error->message, "zone-chart-900.txt: line 8"));

  g_unlink (good);
  g_unlink (bad);
  g_rmdir (dir);
}

/* A signed chart is used only as signed: each way of tampering is refused, names the
 * file, and loads nothing. */
static void
expect_install_refused (PmVerifyKey *key,
                        const char  *dir,
                        const char  *file,
                        GQuark       domain,
                        gint         code)
{
  g_autoptr (PmZoneChart) chart = pm_zone_chart_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (dir, file, NULL);
  g_auto (GStrv) origins = NULL;

  g_assert_false (pm_zone_chart_install_file (chart, path, key, &error));
  g_assert_error (error, domain, code);
  g_test_message ("%s", error->message);
  g_assert_true (g_str_has_prefix (error->message, file));
  origins = pm_zone_chart_list_origins (chart);
  g_assert_cmpuint (g_strv_length (origins), ==, 0);
}

static void
write_signed (PmSigningKey *key,
              const char   *dir,
              const char   *file,
              const char   *name,
              const char   *text,
              gint64        expires)
{
  g_autoptr (GBytes) content = g_bytes_new (text, strlen (text));
  g_autoptr (GBytes) signature = NULL;
  g_autofree char *path = g_build_filename (dir, file, NULL);
  g_autofree char *sig_path = g_strconcat (path, ".sig", NULL);

  signature = pm_package_sign (key, name, PM_ZONE_CHART_CONTENT_TYPE, 1, expires, content,
                               NULL);
  g_assert_nonnull (signature);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  g_assert_true (g_file_set_contents (sig_path, g_bytes_get_data (signature, NULL),
                                      g_bytes_get_size (signature), NULL));
}

static void
write_file (const char *dir,
            const char *name,
            const char *suffix,
            const char *text)
{
  g_autofree char *file = g_strconcat (name, suffix, NULL);
  g_autofree char *path = g_build_filename (dir, file, NULL);

  g_assert_true (g_file_set_contents (path, text, -1, NULL));
}

static void
test_signed (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PmVerifyKey) key = demo_key ();
  g_autoptr (PmSigningKey) other = pm_signing_key_generate (NULL);
  g_autoptr (PmVerifyKey) other_public = pm_signing_key_get_verify_key (other);
  g_autofree char *dir = g_dir_make_tmp ("pm-zones-signed-XXXXXX", &error);
  g_autofree char *source = g_build_filename (g_getenv ("POSTMETER_SOURCE_ROOT"), "data",
                                              "zones", "zone-chart-606.txt", NULL);
  g_autofree char *source_sig = g_strconcat (source, ".sig", NULL);
  g_autofree char *shipped = g_build_filename (dir, "zone-chart-606.txt", NULL);
  g_autofree char *text = NULL;
  g_autofree char *signature = NULL;
  g_autofree char *tampered = NULL;
  g_autoptr (PmZoneChart) chart = pm_zone_chart_new ();
  const gint64 expires = 1893456000;   /* 2030-01-01 */
  static const char *const files[] = { "zone-chart-606.txt", "zone-chart-900.txt",
                                       "zone-chart-100.txt", "zone-chart-200.txt",
                                       "zone-chart-303.txt", "zone-chart-750.txt" };
  char *row;

  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (source, &text, NULL, NULL));
  g_assert_true (g_file_get_contents (source_sig, &signature, NULL, NULL));

  /* As shipped: accepted. */
  write_file (dir, files[0], "", text);
  write_file (dir, files[0], ".sig", signature);
  g_assert_true (pm_zone_chart_install_file (chart, shipped, key, &error));
  g_assert_no_error (error);
  expect_zone (chart, PM_MAIL_CLASS_PRIORITY_MAIL, "60601", "96960", 9, OLD | MISSING);

  /* One byte changed: the zone 5 row for 010 to 089 made zone 6. */
  tampered = g_strdup (text);
  row = strstr (tampered, "\n010 089 5\n");
  g_assert_nonnull (row);
  row[9] = '6';
  write_file (dir, files[0], "", tampered);
  expect_install_refused (key, dir, files[0], PM_PACKAGE_ERROR, PM_PACKAGE_ERROR_TAMPERED);

  /* Renamed: the 606 chart and its signature as zone-chart-900.txt. */
  write_file (dir, files[1], "", text);
  write_file (dir, files[1], ".sig", signature);
  expect_install_refused (key, dir, files[1], PM_PACKAGE_ERROR, PM_PACKAGE_ERROR_WRONG_NAME);

  /* No signature. */
  write_file (dir, files[2], "", text);
  expect_install_refused (key, dir, files[2], PM_PACKAGE_ERROR, PM_PACKAGE_ERROR_STRIPPED);

  /* Signed by a key the machine does not trust. */
  write_signed (other, dir, files[3], "zone-chart-200", text, expires);
  expect_install_refused (key, dir, files[3], PM_PACKAGE_ERROR, PM_PACKAGE_ERROR_WRONG_KEY);

  /* Past its expiry: signed in 2019 to expire on 1 Jan 2020. */
  pm_clock_set_override_us (G_GINT64_CONSTANT (1546300800) * G_USEC_PER_SEC);
  write_signed (other, dir, files[4], "zone-chart-303", text, 1577836800);
  pm_clock_clear_override ();
  expect_install_refused (other_public, dir, files[4], PM_PACKAGE_ERROR,
                          PM_PACKAGE_ERROR_EXPIRED);

  /* Correctly signed under a name that is not its origin's: 606's chart as 750. */
  write_signed (other, dir, files[5], "zone-chart-750", text, expires);
  expect_install_refused (other_public, dir, files[5], PM_ZONE_CHART_ERROR,
                          PM_ZONE_CHART_ERROR_CONFLICT);

  /* A folder with a refused file stops there, naming it. */
  g_assert_false (pm_zone_chart_install_directory (chart, dir, key, &error));
  g_assert_error (error, PM_PACKAGE_ERROR, PM_PACKAGE_ERROR_STRIPPED);
  g_assert_true (g_str_has_prefix (error->message, "zone-chart-100.txt: "));

  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *path = g_build_filename (dir, files[i], NULL);
      g_autofree char *sig_path = g_strconcat (path, ".sig", NULL);

      g_unlink (path);
      g_unlink (sig_path);
    }
  g_rmdir (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/core/zone-chart/shipped/lookups", test_shipped);
  g_test_add_func ("/core/zone-chart/exceptions", test_exceptions);
  g_test_add_func ("/core/zone-chart/data/malformed", test_data_malformed);
  g_test_add_func ("/core/zone-chart/csv/import", test_csv_import);
  g_test_add_func ("/core/zone-chart/csv/malformed", test_csv_malformed);
  g_test_add_func ("/core/zone-chart/load-errors", test_load_errors);
  g_test_add_func ("/core/zone-chart/signed", test_signed);

  return g_test_run ();
}
