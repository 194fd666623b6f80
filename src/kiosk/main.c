/* main.c: the postmeter kiosk */
#include <glib/gi18n.h>
#include <locale.h>
#include <string.h>

#include "pm-application.h"
#include "pm-log.h"

static gboolean
asks_for_window (int    argc,
                 char **argv)
{
  for (int i = 1; i < argc; i++)
    if (strcmp (argv[i], "--windowed") == 0 || strcmp (argv[i], "-w") == 0)
      return TRUE;

  return FALSE;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(PmApplication) app = NULL;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, PM_LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  pm_log_init ();

  /* GTK_DEBUG=interactive would open the inspector at start; a kiosk never does. */
  if (!asks_for_window (argc, argv) && g_getenv ("GTK_DEBUG") != NULL)
    {
      g_warning ("Ignoring GTK_DEBUG: debugging is off in kiosk mode");
      g_unsetenv ("GTK_DEBUG");
    }

  app = pm_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
