/* pm-clock.c
 *
 * The clock reads the system's real time unless a test has set an override, either through
 * pm_clock_set_override_us() or, for whole processes started by a test (the kiosk under
 * Xvfb, a child killed mid-print), through POSTMETER_FAKE_TIME: seconds since the epoch,
 * optionally followed by "+" to let that fake time run on from the moment the process
 * started.
 */
#include "pm-clock.h"

#include <stdatomic.h>

/* Zero means "no override". Any thread may ask the time, so both are atomic. */
static _Atomic gint64 override_us;
static gint64 env_base_us;
static gint64 env_started_us;
static gsize env_checked;

static void
read_environment (void)
{
  const char *value;
  char *end = NULL;
  gint64 seconds;

  if (!g_once_init_enter (&env_checked))
    return;

  value = g_getenv ("POSTMETER_FAKE_TIME");
  if (value != NULL && *value != '\0')
    {
      seconds = g_ascii_strtoll (value, &end, 10);
      if (end != value && seconds > 0)
        {
          env_base_us = seconds * G_USEC_PER_SEC;
          if (*end == '+')
            env_started_us = g_get_monotonic_time ();
        }
    }

  g_once_init_leave (&env_checked, 1);
}

gint64
pm_clock_now_us (void)
{
  gint64 fixed;

  read_environment ();

  fixed = atomic_load (&override_us);
  if (fixed != 0)
    return fixed;

  if (env_base_us != 0)
    {
      if (env_started_us != 0)
        return env_base_us + (g_get_monotonic_time () - env_started_us);
      return env_base_us;
    }

  return g_get_real_time ();
}

gint64
pm_clock_now_s (void)
{
  return pm_clock_now_us () / G_USEC_PER_SEC;
}

GDateTime *
pm_clock_now_local (void)
{
  gint64 now = pm_clock_now_us ();
  g_autoptr(GDateTime) local = g_date_time_new_from_unix_local (now / G_USEC_PER_SEC);

  return g_date_time_add (local, now % G_USEC_PER_SEC);
}

GDate *
pm_clock_today_local (void)
{
  g_autoptr(GDateTime) now = pm_clock_now_local ();

  return g_date_new_dmy (g_date_time_get_day_of_month (now),
                         g_date_time_get_month (now),
                         g_date_time_get_year (now));
}

void
pm_clock_set_override_us (gint64 now_us)
{
  g_return_if_fail (now_us > 0);

  atomic_store (&override_us, now_us);
}

void
pm_clock_clear_override (void)
{
  atomic_store (&override_us, 0);
}

void
pm_clock_advance_s (gint64 seconds)
{
  pm_clock_set_override_us (pm_clock_now_us () + seconds * G_USEC_PER_SEC);
}
