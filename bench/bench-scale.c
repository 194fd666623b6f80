/* bench-scale: how fast a scale's weight reaches the main context, and what an idle scale
 * costs
 *
 *   latency  bytes arriving from the scale to the "reading" signal on the main context,
 *            for a USB HID scale (reports on a SOCK_SEQPACKET pseudo-device) and for an
 *            NCI serial scale (replies from a fake scale on a pseudo-terminal)
 *   idle     CPU time and thread wake-ups over an idle interval with each scale attached:
 *            the HID scale repeating its stable weight five times a second, the serial
 *            scale asked at the driver's default pace
 *
 * The drivers are the real ones; only the device is simulated. Figures are printed, never
 * judged: run it on a quiet machine.
 *
 *   bench-scale [--readings N] [--idle-seconds S]
 */
#define _GNU_SOURCE

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pm-hid-scale.h"
#include "pm-hid-scale-report.h"
#include "pm-serial-scale.h"

static int n_readings = 2000;
static int idle_seconds = 60;

static gint64 received_at;
static gboolean got_stable;

static void
reading_cb (PmScale              *scale,
            const PmScaleReading *reading,
            gpointer              user_data)
{
  guint *count = user_data;

  if (reading->state == PM_SCALE_STATE_STABLE)
    {
      received_at = g_get_monotonic_time ();
      got_stable = TRUE;
    }
  if (count != NULL)
    (*count)++;
}

static int
compare_gint64 (const void *a,
                const void *b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

static void
print_latency (const char *what,
               GArray     *samples)
{
  gint64 *v = (gint64 *) samples->data;
  guint n = samples->len;

  qsort (v, n, sizeof *v, compare_gint64);
  printf ("%-34s n=%u  median %6" G_GINT64_FORMAT " us  p99 %6" G_GINT64_FORMAT
          " us  max %6" G_GINT64_FORMAT " us\n", what, n, v[n / 2], v[(n * 99) / 100],
          v[n - 1]);
}

static void
set_flag_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
}

/* Sleeps in the main context's poll until the reading arrives, as the kiosk would. */
static gboolean
wait_stable (guint timeout_s)
{
  gboolean expired = FALSE;
  guint guard = g_timeout_add_once (timeout_s * 1000, set_flag_cb, &expired);

  got_stable = FALSE;
  while (!got_stable && !expired)
    g_main_context_iteration (NULL, TRUE);
  if (!expired)
    g_source_remove (guard);
  return got_stable;
}

/* Per thread, from /proc: CPU time in nanoseconds (schedstat) and context switches,
 * each one a wake-up or a preemption. */
typedef struct
{
  char    name[32];
  guint64 cpu_ns;
  guint64 switches;    /* voluntary: the thread went to sleep and was woken */
  guint64 preempted;   /* involuntary: another process took the core */
} ThreadStat;

static GHashTable *
thread_stats (void)
{
  GHashTable *stats = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  DIR *dir = opendir ("/proc/self/task");
  struct dirent *entry;

  while (dir != NULL && (entry = readdir (dir)) != NULL)
    {
      g_autofree char *status = NULL;
      g_autofree char *schedstat = NULL;
      g_autofree char *path = NULL;
      g_auto(GStrv) lines = NULL;
      ThreadStat *stat;

      if (entry->d_name[0] == '.')
        continue;
      path = g_strdup_printf ("/proc/self/task/%s/status", entry->d_name);
      if (!g_file_get_contents (path, &status, NULL, NULL))
        continue;
      g_free (path);
      path = g_strdup_printf ("/proc/self/task/%s/schedstat", entry->d_name);
      if (!g_file_get_contents (path, &schedstat, NULL, NULL))
        continue;

      stat = g_new0 (ThreadStat, 1);
      stat->cpu_ns = g_ascii_strtoull (schedstat, NULL, 10);
      lines = g_strsplit (status, "\n", -1);
      for (guint i = 0; lines[i] != NULL; i++)
        {
          if (g_str_has_prefix (lines[i], "Name:"))
            g_strlcpy (stat->name, g_strstrip (lines[i] + 5), sizeof stat->name);
          else if (g_str_has_prefix (lines[i], "voluntary_ctxt_switches:"))
            stat->switches = g_ascii_strtoull (strchr (lines[i], ':') + 1, NULL, 10);
          else if (g_str_has_prefix (lines[i], "nonvoluntary_ctxt_switches:"))
            stat->preempted = g_ascii_strtoull (strchr (lines[i], ':') + 1, NULL, 10);
        }
      g_hash_table_insert (stats, g_strdup (entry->d_name), stat);
    }
  if (dir != NULL)
    closedir (dir);

  return stats;
}

typedef struct
{
  GHashTable *threads;
  gint64      wall;
} Meter;

static void
meter_start (Meter *meter)
{
  meter->threads = thread_stats ();
  meter->wall = g_get_monotonic_time ();
}

/* Prints each thread's share of the interval: the main context, the driver's worker
 * and the simulated device. */
static void
meter_print (Meter      *meter,
             const char *what,
             guint       device_events,
             guint       readings)
{
  double seconds = (double) (g_get_monotonic_time () - meter->wall) / G_USEC_PER_SEC;
  g_autoptr(GHashTable) now = thread_stats ();
  GHashTableIter iter;
  gpointer key, value;
  double driver_ms = 0;
  guint64 driver_switches = 0;

  printf ("%s, %.0f s, %u device exchanges, %u readings:\n", what, seconds, device_events,
          readings);
  g_hash_table_iter_init (&iter, now);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      ThreadStat *after = value;
      ThreadStat *before = g_hash_table_lookup (meter->threads, key);
      guint64 cpu = after->cpu_ns - (before != NULL ? before->cpu_ns : 0);
      guint64 switches = after->switches - (before != NULL ? before->switches : 0);
      guint64 preempted = after->preempted - (before != NULL ? before->preempted : 0);
      gboolean driver = g_str_has_prefix (after->name, "pm-scale")
                        || g_str_equal (after->name, "bench-scale");

      if (cpu == 0 && switches == 0 && preempted == 0)
        continue;
      printf ("  %-16s CPU %8.3f ms  %6" G_GUINT64_FORMAT " wake-ups (%.2f per exchange), "
              "%" G_GUINT64_FORMAT " preempted%s\n", after->name, cpu / 1e6, switches,
              device_events > 0 ? (double) switches / device_events : 0.0, preempted,
              driver ? "" : "  [simulated device]");
      if (driver)
        {
          driver_ms += cpu / 1e6;
          driver_switches += switches;
        }
    }
  printf ("  driver and main context: CPU %.3f ms (%.4f %% of one core), %.2f wake-ups per "
          "exchange\n", driver_ms, driver_ms / 10.0 / seconds,
          device_events > 0 ? (double) driver_switches / device_events : 0.0);
  g_clear_pointer (&meter->threads, g_hash_table_unref);
}

static void
run_main_for (int seconds)
{
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);

  g_timeout_add_once ((guint) seconds * 1000, (GSourceOnceFunc) g_main_loop_quit, loop);
  g_main_loop_run (loop);
}

/* HID */

typedef struct
{
  int   fd;
  int   seconds;
  guint sent;
} Feeder;

/* The scale's own pace: a report every 200 ms, the same stable weight. */
static gpointer
hid_feeder_thread (gpointer data)
{
  Feeder *feeder = data;
  guint8 report[PM_HID_SCALE_REPORT_SIZE];
  gint64 end = g_get_monotonic_time () + (gint64) feeder->seconds * G_USEC_PER_SEC;

  pm_hid_scale_report_build (report, PM_HID_SCALE_STATUS_STABLE, PM_HID_SCALE_UNIT_OUNCE,
                             -1, 35);
  while (g_get_monotonic_time () < end)
    {
      if (write (feeder->fd, report, sizeof report) == sizeof report)
        feeder->sent++;
      g_usleep (200 * 1000);
    }

  return NULL;
}

static void
bench_hid (void)
{
  int fds[2];
  g_autoptr(PmHidScale) scale = NULL;
  g_autoptr(GArray) samples = g_array_new (FALSE, FALSE, sizeof (gint64));
  guint8 report[PM_HID_SCALE_REPORT_SIZE];
  guint readings = 0;
  Meter meter;

  g_assert (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) == 0);
  scale = pm_hid_scale_new_for_fd (fds[0], "bench HID scale");
  g_signal_connect (scale, "reading", G_CALLBACK (reading_cb), NULL);
  pm_scale_start (PM_SCALE (scale), NULL);

  /* The stale first report, then an empty platform. */
  pm_hid_scale_report_build (report, PM_HID_SCALE_STATUS_ZERO, PM_HID_SCALE_UNIT_OUNCE, -1, 0);
  for (int i = 0; i < 2; i++)
    if (write (fds[1], report, sizeof report) != sizeof report)
      g_error ("write failed");

  for (int i = 0; i < n_readings; i++)
    {
      pm_hid_scale_report_build (report, PM_HID_SCALE_STATUS_STABLE, PM_HID_SCALE_UNIT_OUNCE,
                                 -1, (guint16) (10 + i % 500));
      gint64 sent_at = g_get_monotonic_time ();

      if (write (fds[1], report, sizeof report) != sizeof report)
        g_error ("write failed");
      if (!wait_stable (5))
        g_error ("no reading");
      g_array_append_val (samples, (gint64) { received_at - sent_at });
    }
  print_latency ("HID report -> stable reading", samples);

  /* Idle: the scale repeats its weight five times a second, as a Dymo does. */
  g_signal_handlers_disconnect_by_func (scale, reading_cb, NULL);
  g_signal_connect (scale, "reading", G_CALLBACK (reading_cb), &readings);
  {
    Feeder feeder = { .fd = fds[1], .seconds = idle_seconds };
    GThread *thread;

    meter_start (&meter);
    thread = g_thread_new ("hid-feeder", hid_feeder_thread, &feeder);
    run_main_for (idle_seconds + 1);
    g_thread_join (thread);
    meter_print (&meter, "HID idle, 5 reports/s", feeder.sent, readings);
  }

  pm_scale_stop (PM_SCALE (scale));
  close (fds[1]);
}

/* NCI on a pseudo-terminal */

typedef struct
{
  int       master;
  int       wake[2];
  GThread  *thread;
  gint         weight;    /* atomic: hundredths of a pound in the next reply */
  gint         answered;  /* atomic */
  GAsyncQueue *stamps;    /* gint64 *: when each reply went out, in order */
} FakeNci;

static gpointer
fake_nci_thread (gpointer data)
{
  FakeNci *fake = data;
  GString *pending = g_string_new (NULL);

  for (;;)
    {
      struct pollfd pfd[2] = {
        { .fd = fake->master, .events = POLLIN },
        { .fd = fake->wake[0], .events = POLLIN },
      };
      char buffer[64];
      gssize n;
      char *cr;

      if (poll (pfd, 2, -1) < 0)
        continue;
      if (pfd[1].revents != 0)
        break;
      n = read (fake->master, buffer, sizeof buffer);
      if (n <= 0)
        continue;
      g_string_append_len (pending, buffer, n);
      while ((cr = strchr (pending->str, '\r')) != NULL)
        {
          int w = g_atomic_int_get (&fake->weight);
          g_autofree char *reply = w == 0
            ? g_strdup ("\n0000.00LB\r\n20\r\x03")
            : g_strdup_printf ("\n%04d.%02dLB\r\n00\r\x03", w / 100, w % 100);

          g_string_erase (pending, 0, cr - pending->str + 1);
          g_async_queue_push (fake->stamps, g_memdup2 (&(gint64) { g_get_monotonic_time () },
                                                       sizeof (gint64)));
          if (write (fake->master, reply, strlen (reply)) < 0)
            break;
          g_atomic_int_inc (&fake->answered);
        }
    }

  g_string_free (pending, TRUE);
  return NULL;
}

typedef struct
{
  GAsyncQueue *stamps;   /* borrowed */
  GArray      *samples;  /* borrowed */
  guint        wanted;
} Pairing;

static void
paired_reading_cb (PmScale              *scale,
                   const PmScaleReading *reading,
                   gpointer              user_data)
{
  Pairing *pairing = user_data;
  gint64 now = g_get_monotonic_time ();
  g_autofree gint64 *stamp = g_async_queue_timeout_pop (pairing->stamps, G_USEC_PER_SEC);

  if (stamp == NULL)
    g_error ("a reading came without a reply");
  if (reading->state == PM_SCALE_STATE_STABLE && pairing->samples->len < pairing->wanted)
    g_array_append_val (pairing->samples, (gint64) { now - *stamp });
}

static void
bench_nci (void)
{
  FakeNci fake = { 0 };
  g_autoptr(PmSerialScale) scale = NULL;
  g_autoptr(GArray) samples = g_array_new (FALSE, FALSE, sizeof (gint64));
  PmSerialSettings settings;
  Pairing pairing;
  int keep;
  guint readings = 0;
  Meter meter;

  fake.master = posix_openpt (O_RDWR | O_NOCTTY | O_CLOEXEC);
  g_assert (fake.master >= 0 && grantpt (fake.master) == 0 && unlockpt (fake.master) == 0);
  keep = open (ptsname (fake.master), O_RDWR | O_NOCTTY | O_CLOEXEC);
  g_assert (pipe2 (fake.wake, O_CLOEXEC) == 0);
  fake.stamps = g_async_queue_new_full (g_free);
  fake.thread = g_thread_new ("fake-nci", fake_nci_thread, &fake);

  /* Latency: asked as fast as it answers. */
  pm_serial_settings_init_for (&settings, PM_SCALE_PROTOCOL_NCI_SCP01);
  settings.poll_interval_ms = 1;
  scale = pm_serial_scale_new (ptsname (fake.master), PM_SCALE_PROTOCOL_NCI_SCP01, &settings,
                               NULL);
  /* Every reply makes one reading, whatever its state: each reading takes the time of
   * its reply, in order, and the stable ones are timed. */
  g_atomic_int_set (&fake.weight, 125);
  pairing.stamps = fake.stamps;
  pairing.samples = samples;
  pairing.wanted = (guint) n_readings / 4;
  g_signal_connect (scale, "reading", G_CALLBACK (paired_reading_cb), &pairing);
  pm_scale_start (PM_SCALE (scale), NULL);
  while (samples->len < pairing.wanted)
    g_main_context_iteration (NULL, TRUE);
  g_signal_handlers_disconnect_by_func (scale, paired_reading_cb, &pairing);
  print_latency ("NCI reply on pty -> stable reading", samples);
  pm_scale_stop (PM_SCALE (scale));
  g_clear_object (&scale);

  /* Idle at the driver's default pace. */
  scale = pm_serial_scale_new (ptsname (fake.master), PM_SCALE_PROTOCOL_NCI_SCP01, NULL, NULL);
  g_signal_connect (scale, "reading", G_CALLBACK (reading_cb), &readings);
  pm_scale_start (PM_SCALE (scale), NULL);
  run_main_for (1);
  readings = 0;
  g_atomic_int_set (&fake.answered, 0);
  meter_start (&meter);
  run_main_for (idle_seconds);
  meter_print (&meter, "NCI idle, default pace", (guint) g_atomic_int_get (&fake.answered),
               readings);
  pm_scale_stop (PM_SCALE (scale));

  if (write (fake.wake[1], "x", 1) != 1)
    g_error ("cannot stop the fake scale");
  g_thread_join (fake.thread);
  g_async_queue_unref (fake.stamps);
  close (keep);
  close (fake.master);
}

int
main (int   argc,
      char *argv[])
{
  GOptionEntry entries[] = {
    { "readings", 0, 0, G_OPTION_ARG_INT, &n_readings, "Readings to time", "N" },
    { "idle-seconds", 0, 0, G_OPTION_ARG_INT, &idle_seconds, "Idle interval", "S" },
    { NULL }
  };
  g_autoptr(GOptionContext) options = g_option_context_new ("- scale latency and idle cost");
  g_autoptr(GError) error = NULL;

  g_option_context_add_main_entries (options, entries, NULL);
  if (!g_option_context_parse (options, &argc, &argv, &error) || n_readings < 100
      || idle_seconds < 1)
    {
      fprintf (stderr, "%s\n", error != NULL ? error->message : "bad arguments");
      return 2;
    }

  printf ("bench-scale: %d readings, %d s idle\n", n_readings, idle_seconds);
  bench_hid ();
  bench_nci ();

  return 0;
}
