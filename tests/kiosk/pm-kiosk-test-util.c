/* pm-kiosk-test-util.c: the plumbing the kiosk test programs share */
#include "pm-kiosk-test-util.h"

#include <glib/gstdio.h>
#include <glib-unix.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

static GSubprocess *xvfb;
static GTestDBus   *bus;
static char        *xvfb_skip_reason;

/* Session -------------------------------------------------------------------------------- */

/* Sets the environment GTK needs under Xvfb and brings up a private session bus, so GTK
 * and GApplication find one and nothing leaks out. The bus clears DISPLAY, so this comes
 * before pm_kiosk_test_start_xvfb (). */
void
pm_kiosk_test_start_session (void)
{
  /* The private bus has no accessibility service to offer. */
  g_setenv ("GTK_A11Y", "none", TRUE);
  /* Software GL under Xvfb costs seconds of CPU; cairo draws the same pages cheaply. */
  g_setenv ("GSK_RENDERER", "cairo", TRUE);

  bus = g_test_dbus_new (G_TEST_DBUS_NONE);
  g_test_dbus_up (bus);
}

/* Runs in the child before exec: Xvfb goes when the test goes, even on a crash. */
static void
xvfb_child_setup (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

/* Starts Xvfb on a display it picks and points DISPLAY at it. Without Xvfb installed
 * this returns TRUE and pm_kiosk_test_skip_reason () says why the window tests skip. */
gboolean
pm_kiosk_test_start_xvfb (GError **error)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autofree char *program = g_find_program_in_path ("Xvfb");
  int fds[2];
  char buffer[32] = { 0 };
  gsize used = 0;
  struct pollfd pfd;
  gint64 deadline;
  g_autofree char *display = NULL;

  if (program == NULL)
    {
      xvfb_skip_reason = g_strdup ("Xvfb is not installed (Debian package xvfb); "
                                   "the kiosk window cannot be tested without a display");
      return TRUE;
    }

  if (!g_unix_open_pipe (fds, FD_CLOEXEC, error))
    return FALSE;

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                        G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_subprocess_launcher_take_fd (launcher, fds[1], 3);
  g_subprocess_launcher_set_child_setup (launcher, xvfb_child_setup, NULL, NULL);
  xvfb = g_subprocess_launcher_spawn (launcher, error, program, "-displayfd", "3",
                                      "-screen", "0", "1280x800x24", "-nolisten", "tcp",
                                      "-noreset", NULL);
  if (xvfb == NULL)
    {
      close (fds[0]);
      return FALSE;
    }

  /* Xvfb writes the display number and a newline once it is ready. */
  deadline = g_get_monotonic_time () + 15 * G_USEC_PER_SEC;
  while (strchr (buffer, '\n') == NULL && used < sizeof buffer - 1)
    {
      gssize n;

      pfd.fd = fds[0];
      pfd.events = POLLIN;
      if (poll (&pfd, 1, 200) <= 0)
        {
          if (g_get_monotonic_time () > deadline)
            break;
          continue;
        }

      n = read (fds[0], buffer + used, sizeof buffer - 1 - used);
      if (n <= 0)
        break;
      used += (gsize) n;
    }
  close (fds[0]);

  if (strchr (buffer, '\n') == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "Xvfb did not say which display it opened");
      return FALSE;
    }

  display = g_strdup_printf (":%d", atoi (buffer));
  g_setenv ("DISPLAY", display, TRUE);
  g_setenv ("GDK_BACKEND", "x11", TRUE);
  g_test_message ("Xvfb on display %s", display);
  return TRUE;
}

/* Why the window tests skip, or NULL when there is a display. */
const char *
pm_kiosk_test_skip_reason (void)
{
  return xvfb_skip_reason;
}

/* Closes the display, stops Xvfb and the bus. Call after the application is gone. */
void
pm_kiosk_test_stop_session (void)
{
  /* Let go of the display before it goes away, or the next main loop turn (the bus
   * shutting down) finds a dead X connection and exits the program. */
  if (xvfb_skip_reason == NULL && gdk_display_get_default () != NULL)
    gdk_display_close (gdk_display_get_default ());

  if (xvfb != NULL)
    {
      g_subprocess_send_signal (xvfb, SIGTERM);
      g_subprocess_wait (xvfb, NULL, NULL);
      g_clear_object (&xvfb);
    }

  /* GTK keeps its session bus connection to the end of the process, so stop the bus
   * without waiting for that connection to go; releasing the GTestDBus would wait for it
   * (30 s, then a warning), so it is left to the end of the process. */
  if (bus != NULL)
    g_test_dbus_stop (bus);
}

/* Waiting and acting --------------------------------------------------------------------- */

/* Turns the main context until CONDITION holds; FALSE after TIMEOUT_S seconds. */
gboolean
pm_kiosk_test_wait_until (PmKioskTestCondition condition,
                          gpointer             data,
                          guint                timeout_s)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_s * G_USEC_PER_SEC;

  while (!condition (data))
    {
      if (g_get_monotonic_time () > deadline)
        return FALSE;
      if (!g_main_context_iteration (NULL, FALSE))
        g_usleep (2000);
    }

  return TRUE;
}

void
pm_kiosk_test_spin_for_ms (guint ms)
{
  gint64 until = g_get_monotonic_time () + (gint64) ms * 1000;

  while (g_get_monotonic_time () < until)
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (2000);
}

void
pm_kiosk_test_act (GtkWidget  *widget,
                   const char *action,
                   const char *string_parameter)
{
  gboolean found;

  if (string_parameter != NULL)
    found = gtk_widget_activate_action (widget, action, "s", string_parameter);
  else
    found = gtk_widget_activate_action (widget, action, NULL);

  if (!found)
    g_error ("No action %s here", action);
}

/* Renders WIDGET as it is now into screenshots/NAME.png in the build folder. */
void
pm_kiosk_test_save_screenshot (GtkWidget  *widget,
                               const char *name)
{
  const char *build_root = g_getenv ("POSTMETER_BUILD_ROOT");
  g_autofree char *folder = NULL;
  g_autofree char *file = NULL;
  g_autofree char *file_name = g_strconcat (name, ".png", NULL);
  g_autoptr(GdkPaintable) paintable = NULL;
  g_autoptr(GtkSnapshot) snapshot = NULL;
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  GskRenderer *renderer;
  int width, height;

  /* Let transitions finish and the frame clock lay the page out. */
  pm_kiosk_test_spin_for_ms (450);

  folder = g_build_filename (build_root != NULL ? build_root : g_get_tmp_dir (),
                             "screenshots", NULL);
  g_assert_cmpint (g_mkdir_with_parents (folder, 0755), ==, 0);
  file = g_build_filename (folder, file_name, NULL);

  width = gtk_widget_get_width (widget);
  height = gtk_widget_get_height (widget);
  g_assert_cmpint (width, >, 0);
  g_assert_cmpint (height, >, 0);

  paintable = gtk_widget_paintable_new (widget);
  snapshot = gtk_snapshot_new ();
  gdk_paintable_snapshot (paintable, snapshot, width, height);
  node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
  g_assert_nonnull (node);

  renderer = gtk_native_get_renderer (GTK_NATIVE (widget));
  texture = gsk_renderer_render_texture (renderer, node,
                                         &GRAPHENE_RECT_INIT (0, 0, width, height));
  g_assert_true (gdk_texture_save_to_png (texture, file));
  g_test_message ("Screenshot: %s", file);
}

/* Removes a state folder and everything in it; symlinks are removed, not followed. */
void
pm_kiosk_test_remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        pm_kiosk_test_remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}
