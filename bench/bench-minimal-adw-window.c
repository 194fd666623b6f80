/* bench-minimal-adw-window.c: a second yardstick for bench-startup
 *
 * The smallest libadwaita program: an AdwApplication (not unique, like postmeter) whose
 * one 1280x800 AdwApplicationWindow holds one label. Between the minimal GTK 4 window
 * and postmeter, it shows how much of postmeter's start-up is libadwaita's own (its
 * stylesheet, the application's D-Bus registration) and how much is postmeter's. Like
 * the others, it writes the CLOCK_MONOTONIC time of its first painted frame, and its CPU
 * time until then, to the file named by POSTMETER_FIRST_FRAME_FILE.
 */
#include <adwaita.h>
#include <time.h>

static gulong after_paint_id;

static void
after_paint_cb (GdkFrameClock *clock,
                gpointer       user_data)
{
  const char *path = g_getenv ("POSTMETER_FIRST_FRAME_FILE");
  g_autofree char *line = NULL;
  struct timespec cpu;

  g_clear_signal_handler (&after_paint_id, clock);
  if (path == NULL)
    return;

  /* The time of the frame and the CPU time of all threads so far, as postmeter writes. */
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &cpu);
  line = g_strdup_printf ("%" G_GINT64_FORMAT " minimal-adw %" G_GINT64_FORMAT "\n",
                          g_get_monotonic_time (),
                          (gint64) cpu.tv_sec * G_USEC_PER_SEC + cpu.tv_nsec / 1000);
  g_file_set_contents (path, line, -1, NULL);
}

static void
realize_cb (GtkWidget *window,
            gpointer   user_data)
{
  after_paint_id = g_signal_connect (gtk_widget_get_frame_clock (window), "after-paint",
                                     G_CALLBACK (after_paint_cb), NULL);
}

static void
activate_cb (GApplication *app,
             gpointer      user_data)
{
  GtkWidget *window = adw_application_window_new (GTK_APPLICATION (app));

  gtk_window_set_title (GTK_WINDOW (window), "Minimal");
  gtk_window_set_default_size (GTK_WINDOW (window), 1280, 800);
  adw_application_window_set_content (ADW_APPLICATION_WINDOW (window),
                                      gtk_label_new ("Minimal AdwApplication window"));
  g_signal_connect (window, "realize", G_CALLBACK (realize_cb), NULL);
  gtk_window_present (GTK_WINDOW (window));
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(AdwApplication) app = NULL;

  app = adw_application_new ("org.postmeter.BenchMinimal", G_APPLICATION_NON_UNIQUE);
  g_signal_connect (app, "activate", G_CALLBACK (activate_cb), NULL);

  return g_application_run (G_APPLICATION (app), argc, argv);
}
