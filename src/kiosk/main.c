/* main.c: the postmeter kiosk */
#include <glib/gi18n.h>
#include <locale.h>

#include "pm-application.h"
#include "pm-log.h"

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

  app = pm_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
