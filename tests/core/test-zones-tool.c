/* test-zones-tool.c: postmeter-zones imports the zone-chart CSV and looks zones up
 *
 * Runs the built tool on a CSV written here (lines of the 2018 chart for origin 606),
 * reads the data file it writes with the library, and checks that a malformed CSV writes
 * nothing.
 */
#include <string.h>
#include <glib/gstdio.h>

#include "pm-zone-chart.h"

#define SOURCE "test CSV, lines of the June 2018 chart"

static const char csv[] =
  "origin_zip,dest_zip_start,dest_zip_end,zone,modifier_1,modifier_2\n"
  "606,600,608,1,*,NA\n"
  "606,940,941,8,NA,NA\n"
  "606,969,969,9,NA,+\n"
  "900,969,969,9,NA,+\n";

static int
run_tool (const char *const *arguments,
          char              **out_stdout,
          char              **out_stderr)
{
  g_autoptr (GPtrArray) args = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  int status = 0;

  g_ptr_array_add (args, g_build_filename (g_getenv ("POSTMETER_BUILD_ROOT"), "src", "tools",
                                           "postmeter-zones", NULL));
  for (guint i = 0; arguments[i] != NULL; i++)
    g_ptr_array_add (args, g_strdup (arguments[i]));
  g_ptr_array_add (args, NULL);

  g_assert_true (g_spawn_sync (NULL, (char **) args->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               out_stdout, out_stderr, &status, &error));
  g_assert_no_error (error);
  return status;
}

static void
test_import_and_lookup (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("pm-zones-tool-XXXXXX", &error);
  g_autofree char *csv_path = g_build_filename (dir, "chart.csv", NULL);
  g_autofree char *out_dir = g_build_filename (dir, "zones", NULL);
  g_autofree char *file = g_build_filename (out_dir, "zone-chart-606.txt", NULL);
  g_autofree char *other = g_build_filename (out_dir, "zone-chart-900.txt", NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr (PmZoneChart) chart = pm_zone_chart_new ();
  guint zone = 0;
  guint flags = 0;
  const char *import[] = { "import", "--csv", csv_path, "--published", "2018-06",
                           "--source", SOURCE, "--out", out_dir, "606", NULL };
  const char *lookup[] = { "lookup", "--zones", out_dir, "60601", "96960", NULL };
  const char *unknown[] = { "lookup", "--zones", out_dir, "60601", "00201", NULL };

  g_assert_no_error (error);
  g_assert_true (g_file_set_contents (csv_path, csv, -1, NULL));

  g_assert_cmpint (run_tool (import, &out, &err), ==, 0);
  g_assert_nonnull (strstr (out, "zone-chart-606.txt: origin 606"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  /* Only the origins asked for. */
  g_assert_false (g_file_test (other, G_FILE_TEST_EXISTS));

  /* The file reads back with the library and says where it comes from. */
  g_assert_true (pm_zone_chart_load_file (chart, file, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (pm_zone_chart_get_source (chart, "606"), ==, SOURCE);
  g_assert_true (pm_zone_chart_lookup (chart, PM_MAIL_CLASS_PRIORITY_MAIL, "60601", "94105",
                                       &zone, &flags, &error));
  g_assert_cmpuint (zone, ==, 8);
  g_assert_cmphex (flags, ==, PM_ZONE_FLAG_NOT_CURRENT);

  g_assert_cmpint (run_tool (lookup, &out, &err), ==, 0);
  g_assert_nonnull (strstr (out, "zone 9\n"));
  g_assert_nonnull (strstr (out, "5-digit exceptions"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (run_tool (unknown, &out, &err), !=, 0);
  g_assert_nonnull (strstr (err, "00201 is not in the zone chart for origin 606"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_unlink (file);
  g_rmdir (out_dir);
  g_unlink (csv_path);
  g_rmdir (dir);
}

static void
test_malformed_writes_nothing (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("pm-zones-tool-XXXXXX", &error);
  g_autofree char *csv_path = g_build_filename (dir, "chart.csv", NULL);
  g_autofree char *out_dir = g_build_filename (dir, "zones", NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *bad = g_strconcat (csv, "606,970,975,X,NA,NA\n", NULL);
  const char *import[] = { "import", "--csv", csv_path, "--published", "2018-06",
                           "--source", SOURCE, "--out", out_dir, "606", NULL };

  g_assert_no_error (error);
  g_assert_true (g_file_set_contents (csv_path, bad, -1, NULL));
  g_assert_cmpint (run_tool (import, &out, &err), !=, 0);
  g_assert_nonnull (strstr (err, "line 6: the zone must be 1 to 9"));
  g_assert_false (g_file_test (out_dir, G_FILE_TEST_EXISTS));

  g_unlink (csv_path);
  g_rmdir (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/core/zones-tool/import-and-lookup", test_import_and_lookup);
  g_test_add_func ("/core/zones-tool/malformed-writes-nothing", test_malformed_writes_nothing);

  return g_test_run ();
}
