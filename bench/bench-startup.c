/* bench-startup.c: how fast postmeter shows its Lock page, and how much memory it holds
 *
 * Under one private Xvfb and session bus, starts `postmeter --windowed` (on a state folder
 * prepared with one supervisor, so the Lock page is what comes up), a minimal GTK 4
 * window and a minimal AdwApplication window, N times each in turn. For each start it
 * measures the time from just before exec to the first painted frame (the program writes
 * the CLOCK_MONOTONIC time of that frame to POSTMETER_FIRST_FRAME_FILE) and the resident
 * memory (VmRSS) once that frame is out; each program also reports the CPU time of all
 * its threads until that frame, the work done, which a busy shared machine disturbs far
 * less than the time taken. It prints every run, the medians and postmeter's
 * ratio to the minimal GTK 4 window, which is the one the aim is set against, once with
 * GTK's default renderer and once with the cairo renderer. The AdwApplication window is
 * only a second yardstick: it shows how much of the difference libadwaita itself brings
 * (its stylesheet, the application's D-Bus registration) and how much is postmeter's.
 *
 * Usage: bench-startup [RUNS]   (default 9)
 */
#include <gio/gio.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "pm-access.h"

#define SUPERVISOR_CODE "2468"

typedef struct
{
  double start_ms;
  double cpu_ms;
  double rss_mib;
} Run;

typedef enum
{
  FIGURE_START,
  FIGURE_CPU,
  FIGURE_RSS,
} Figure;

static void
child_setup (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

static GSubprocess *
start_xvfb (GError **error)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) xvfb = NULL;
  int fds[2];
  char buffer[32] = { 0 };
  gsize used = 0;
  g_autofree char *display = NULL;

  if (!g_unix_open_pipe (fds, FD_CLOEXEC, error))
    return NULL;

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                        G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_subprocess_launcher_take_fd (launcher, fds[1], 3);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  xvfb = g_subprocess_launcher_spawn (launcher, error, "Xvfb", "-displayfd", "3",
                                      "-screen", "0", "1280x800x24", "-nolisten", "tcp",
                                      "-noreset", NULL);
  if (xvfb == NULL)
    {
      close (fds[0]);
      return NULL;
    }

  while (strchr (buffer, '\n') == NULL && used < sizeof buffer - 1)
    {
      struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
      gssize n;

      if (poll (&pfd, 1, 15000) <= 0)
        break;
      n = read (fds[0], buffer + used, sizeof buffer - 1 - used);
      if (n <= 0)
        break;
      used += (gsize) n;
    }
  close (fds[0]);

  if (strchr (buffer, '\n') == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Xvfb did not start");
      return NULL;
    }

  display = g_strdup_printf (":%d", atoi (buffer));
  g_setenv ("DISPLAY", display, TRUE);
  return g_steal_pointer (&xvfb);
}

typedef struct
{
  gboolean  done;
  GError   *error;
} SetUp;

/* A state folder with one supervisor, made through PmAccess as the kiosk would. */
static void
set_up_done_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  SetUp *set_up = user_data;
  g_autoptr(PmUser) user = pm_access_set_up_finish (PM_ACCESS (source), result,
                                                    &set_up->error);

  set_up->done = TRUE;
}

static gboolean
prepare_state_dir (const char  *state_dir,
                   GError     **error)
{
  g_autofree char *path = g_build_filename (state_dir, "postmeter.db", NULL);
  g_autoptr(PmStore) store = NULL;
  g_autoptr(PmAccess) access = NULL;
  SetUp set_up = { FALSE, NULL };

  store = pm_store_open (path, error);
  if (store == NULL)
    return FALSE;

  access = pm_access_new (store);
  pm_access_set_up_async (access, "Bench Supervisor", SUPERVISOR_CODE, NULL,
                          set_up_done_cb, &set_up);
  while (!set_up.done)
    g_main_context_iteration (NULL, TRUE);

  /* Let the store finish the write before the kiosk opens the same file. */
  g_clear_object (&access);
  pm_store_close (store);

  if (set_up.error != NULL)
    {
      g_propagate_error (error, set_up.error);
      return FALSE;
    }
  return TRUE;
}

static double
read_rss_mib (GPid pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/status", (int) pid);
  g_autofree char *contents = NULL;
  const char *line;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return -1;

  line = strstr (contents, "VmRSS:");
  if (line == NULL)
    return -1;

  return g_ascii_strtod (line + strlen ("VmRSS:"), NULL) / 1024.0;
}

static gboolean
run_once (const char * const *argv,
          const char          *mark_file,
          Run                 *run,
          GError             **error)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) child = NULL;
  g_autofree char *contents = NULL;
  gint64 started_us, frame_us, cpu_us, deadline;
  char *end;
  GPid pid;

  g_unlink (mark_file);
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                        G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_subprocess_launcher_setenv (launcher, "POSTMETER_FIRST_FRAME_FILE", mark_file, TRUE);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);

  started_us = g_get_monotonic_time ();
  child = g_subprocess_launcher_spawnv (launcher, argv, error);
  if (child == NULL)
    return FALSE;
  pid = atoi (g_subprocess_get_identifier (child));

  deadline = started_us + 60 * G_USEC_PER_SEC;
  while (!g_file_get_contents (mark_file, &contents, NULL, NULL) || *contents == '\0')
    {
      g_clear_pointer (&contents, g_free);
      if (g_get_monotonic_time () > deadline)
        {
          g_subprocess_force_exit (child);
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                       "%s showed no frame within 60 s", argv[0]);
          return FALSE;
        }
      g_usleep (2000);
    }

  /* postmeter names the page it painted: anything but Lock means the run measured the
   * wrong thing (a damaged state folder, a first start). */
  if (g_strcmp0 (argv[0], PM_BENCH_POSTMETER) == 0 && strstr (contents, " lock") == NULL)
    {
      g_subprocess_force_exit (child);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "postmeter's first frame was not the Lock page: %s", contents);
      return FALSE;
    }

  /* "FRAME_TIME_US PAGE CPU_TIME_US" */
  frame_us = g_ascii_strtoll (contents, &end, 10);
  end = strchr (end + 1, ' ');
  cpu_us = end != NULL ? g_ascii_strtoll (end + 1, NULL, 10) : 0;
  if (frame_us <= started_us || cpu_us <= 0)
    {
      g_subprocess_force_exit (child);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s wrote a first-frame mark the benchmark cannot read: %s", argv[0],
                   contents);
      return FALSE;
    }
  run->start_ms = (double) (frame_us - started_us) / 1000.0;
  run->cpu_ms = (double) cpu_us / 1000.0;

  /* Memory once the first frame is out and the start-up work has settled. */
  g_usleep (300 * 1000);
  run->rss_mib = read_rss_mib (pid);

  g_subprocess_send_signal (child, SIGTERM);
  g_subprocess_wait (child, NULL, NULL);
  return TRUE;
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

static int
compare_doubles (const void *a,
                 const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

static double
median (const Run *runs,
        guint      n,
        Figure     figure)
{
  g_autofree double *values = g_new (double, n);

  for (guint i = 0; i < n; i++)
    values[i] = figure == FIGURE_RSS ? runs[i].rss_mib :
                figure == FIGURE_CPU ? runs[i].cpu_ms : runs[i].start_ms;
  qsort (values, n, sizeof (double), compare_doubles);

  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2.0;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) xvfb = NULL;
  GTestDBus *bus = NULL;  /* kept to the end: releasing it waits for GIO's bus connection */
  g_autofree char *tmp = NULL;
  g_autofree char *state_dir = NULL;
  g_autofree char *mark_file = NULL;
  g_autofree Run *kiosk_runs = NULL;
  g_autofree Run *minimal_runs = NULL;
  g_autofree Run *adw_runs = NULL;
  guint n = argc > 1 ? (guint) atoi (argv[1]) : 9;
  const char *kiosk_argv[] = { PM_BENCH_POSTMETER, "--windowed", "--state-dir", NULL, NULL };
  const char *minimal_argv[] = { PM_BENCH_MINIMAL, NULL };
  const char *adw_argv[] = { PM_BENCH_MINIMAL_ADW, NULL };
  double kiosk_ms, minimal_ms, adw_ms, kiosk_cpu, minimal_cpu, adw_cpu;
  double kiosk_mib, minimal_mib, adw_mib;
  static const char *renderers[] = { NULL, "cairo" };

  if (n == 0)
    n = 9;

  /* The same settings for both programs: the build's schema, kept in memory. */
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  g_setenv ("GSETTINGS_SCHEMA_DIR", PM_BENCH_SCHEMA_DIR, TRUE);
  g_setenv ("GDK_BACKEND", "x11", TRUE);
  g_setenv ("GTK_A11Y", "none", TRUE);
  g_unsetenv ("POSTMETER_FIRST_FRAME_FILE");

  bus = g_test_dbus_new (G_TEST_DBUS_NONE);
  g_test_dbus_up (bus);
  xvfb = start_xvfb (&error);
  if (xvfb == NULL)
    {
      g_printerr ("bench-startup: %s (is the xvfb package installed?)\n", error->message);
      return 1;
    }

  tmp = g_dir_make_tmp ("postmeter-bench-XXXXXX", &error);
  if (tmp == NULL)
    {
      g_printerr ("bench-startup: %s\n", error->message);
      return 1;
    }
  state_dir = g_build_filename (tmp, "state", NULL);
  g_mkdir_with_parents (state_dir, 0700);
  mark_file = g_build_filename (tmp, "first-frame", NULL);
  kiosk_argv[3] = state_dir;

  if (!prepare_state_dir (state_dir, &error))
    {
      g_printerr ("bench-startup: could not prepare a supervisor: %s\n", error->message);
      return 1;
    }

  kiosk_runs = g_new0 (Run, n);
  minimal_runs = g_new0 (Run, n);
  adw_runs = g_new0 (Run, n);

  /* Twice: with GTK's default renderer (OpenGL; under Xvfb that is Mesa's software
   * rasteriser, where every new shader costs milliseconds) and with the cairo renderer,
   * which is what a machine without working OpenGL gets. */
  for (guint r = 0; r < G_N_ELEMENTS (renderers); r++)
    {
      if (renderers[r] != NULL)
        g_setenv ("GSK_RENDERER", renderers[r], TRUE);
      else
        g_unsetenv ("GSK_RENDERER");

      g_print ("\nrenderer: %s\n", renderers[r] != NULL ? renderers[r] : "GTK's default");
      g_print ("       ------- postmeter -------  -------- minimal --------"
               "  ------ minimal-adw ------\n");
      g_print ("run    first     CPU    VmRSS    first     CPU    VmRSS"
               "    first     CPU    VmRSS\n");
      g_print ("       frame ms  ms     MiB      frame ms  ms     MiB"
               "      frame ms  ms     MiB\n");
      for (guint i = 0; i < n; i++)
        {
          /* Alternate, so a slow moment of the machine hits all alike. */
          if (!run_once (minimal_argv, mark_file, &minimal_runs[i], &error) ||
              !run_once (kiosk_argv, mark_file, &kiosk_runs[i], &error) ||
              !run_once (adw_argv, mark_file, &adw_runs[i], &error))
            {
              g_printerr ("bench-startup: %s\n", error->message);
              return 1;
            }
          g_print ("%3u  %8.1f  %6.1f  %6.1f   %8.1f  %6.1f  %6.1f   %8.1f  %6.1f  %6.1f\n",
                   i + 1, kiosk_runs[i].start_ms, kiosk_runs[i].cpu_ms, kiosk_runs[i].rss_mib,
                   minimal_runs[i].start_ms, minimal_runs[i].cpu_ms, minimal_runs[i].rss_mib,
                   adw_runs[i].start_ms, adw_runs[i].cpu_ms, adw_runs[i].rss_mib);
        }

      kiosk_ms = median (kiosk_runs, n, FIGURE_START);
      minimal_ms = median (minimal_runs, n, FIGURE_START);
      adw_ms = median (adw_runs, n, FIGURE_START);
      kiosk_cpu = median (kiosk_runs, n, FIGURE_CPU);
      minimal_cpu = median (minimal_runs, n, FIGURE_CPU);
      adw_cpu = median (adw_runs, n, FIGURE_CPU);
      kiosk_mib = median (kiosk_runs, n, FIGURE_RSS);
      minimal_mib = median (minimal_runs, n, FIGURE_RSS);
      adw_mib = median (adw_runs, n, FIGURE_RSS);

      g_print ("median of %u runs each (renderer: %s):\n", n,
               renderers[r] != NULL ? renderers[r] : "GTK's default");
      g_print ("  exec to first frame   postmeter (Lock page) %.1f ms   minimal window %.1f ms"
               "   ratio %.2f (aim <= 1.5)\n", kiosk_ms, minimal_ms, kiosk_ms / minimal_ms);
      g_print ("  VmRSS after start     postmeter %.1f MiB   minimal window %.1f MiB"
               "   ratio %.2f (aim <= 1.5)\n", kiosk_mib, minimal_mib, kiosk_mib / minimal_mib);
      g_print ("  CPU to first frame    postmeter %.1f ms   minimal window %.1f ms"
               "   ratio %.2f (the work done, all threads)\n", kiosk_cpu, minimal_cpu,
               kiosk_cpu / minimal_cpu);
      g_print ("  for comparison only, minimal AdwApplication window: first frame %.1f ms,"
               " CPU %.1f ms, VmRSS %.1f MiB (ratios to the minimal GTK 4 window %.2f, %.2f,"
               " %.2f; postmeter's ratios to it %.2f, %.2f, %.2f)\n", adw_ms, adw_cpu, adw_mib,
               adw_ms / minimal_ms, adw_cpu / minimal_cpu, adw_mib / minimal_mib,
               kiosk_ms / adw_ms, kiosk_cpu / adw_cpu, kiosk_mib / adw_mib);
    }

  g_subprocess_send_signal (xvfb, SIGTERM);
  g_subprocess_wait (xvfb, NULL, NULL);
  g_test_dbus_stop (bus);
  remove_tree (tmp);
  return 0;
}
