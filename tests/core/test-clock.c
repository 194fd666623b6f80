/* test-clock.c: the overridable clock */
#include "pm-clock.h"

static void
test_override (void)
{
  /* 2026-07-12 05:00:00 UTC is 00:00 in Chicago (CDT, UTC-5), the first minute of the day. */
  const gint64 midnight_chicago = G_GINT64_CONSTANT (1783832400);
  g_autoptr(GDateTime) local = NULL;
  GDate *today;

  pm_clock_set_override_us (midnight_chicago * G_USEC_PER_SEC);
  g_assert_cmpint (pm_clock_now_s (), ==, midnight_chicago);

  local = pm_clock_now_local ();
  g_assert_cmpint (g_date_time_get_hour (local), ==, 0);
  today = pm_clock_today_local ();
  g_assert_cmpint (g_date_get_year (today), ==, 2026);
  g_assert_cmpint (g_date_get_month (today), ==, 7);
  g_assert_cmpint (g_date_get_day (today), ==, 12);
  g_date_free (today);

  /* One second earlier is still the 11th locally, though already the 12th in UTC. */
  pm_clock_advance_s (-1);
  today = pm_clock_today_local ();
  g_assert_cmpint (g_date_get_day (today), ==, 11);
  g_date_free (today);

  pm_clock_clear_override ();
  g_assert_cmpint (ABS (pm_clock_now_us () - g_get_real_time ()), <, 5 * G_USEC_PER_SEC);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/core/clock/override", test_override);

  return g_test_run ();
}
