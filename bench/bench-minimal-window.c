/* bench-minimal-window.c: the yardstick for bench-startup
 *
 * The smallest honest GTK 4 program: one 1280x800 window with one label. Like postmeter,
 * it writes the CLOCK_MONOTONIC time of its first painted frame, and its CPU time until
 * then, to the file named by POSTMETER_FIRST_FRAME_FILE, so both are timed the same way.
 */
#include <gtk/gtk.h>
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
  line = g_strdup_printf ("%" G_GINT64_FORMAT " minimal %" G_GINT64_FORMAT "\n",
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
destroy_cb (GtkWidget *window,
            gpointer   user_data)
{
  *(gboolean *) user_data = TRUE;
}

int
main (int   argc,
      char *argv[])
{
  GtkWidget *window;
  gboolean done = FALSE;

  gtk_init ();

  window = gtk_window_new ();
  gtk_window_set_title (GTK_WINDOW (window), "Minimal");
  gtk_window_set_default_size (GTK_WINDOW (window), 1280, 800);
  gtk_window_set_child (GTK_WINDOW (window), gtk_label_new ("Minimal GTK 4 window"));
  g_signal_connect (window, "realize", G_CALLBACK (realize_cb), NULL);
  g_signal_connect (window, "destroy", G_CALLBACK (destroy_cb), &done);
  gtk_window_present (GTK_WINDOW (window));

  while (!done)
    g_main_context_iteration (NULL, TRUE);

  return 0;
}
