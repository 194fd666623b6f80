/* pm-application.h: the postmeter program
 *
 * Options: --windowed (development: an ordinary window instead of the full-screen kiosk)
 * and --state-dir DIR (where the store and device state live; default: the GSettings key
 * state-directory, else XDG_DATA_HOME/postmeter).
 *
 * App actions: app.log-out, app.reopen-store.
 *
 * Once the store is open, the application opens the software PSD in <state-dir>/psd and,
 * when the GSettings keys name a data center (pm-settings-keys.h), makes the connection
 * to it off the main thread; the "connection" property tells when it is there. The status
 * line follows the connection.
 */
#pragma once

#include <adwaita.h>

#include "pm-connection.h"
#include "pm-psd.h"
#include "pm-window.h"

G_BEGIN_DECLS

#define PM_TYPE_APPLICATION (pm_application_get_type ())
G_DECLARE_FINAL_TYPE (PmApplication, pm_application, PM, APPLICATION, AdwApplication)

PmApplication *pm_application_new           (void);
PmWindow      *pm_application_get_window    (PmApplication *self);
const char    *pm_application_get_state_dir (PmApplication *self);
PmAccess      *pm_application_get_access    (PmApplication *self);

PmConnection  *pm_application_get_connection (PmApplication *self);

PmPsd         *pm_application_get_psd       (PmApplication *self);

G_END_DECLS
