/* pm-application.h: the postmeter program
 *
 * Options: --windowed (development: an ordinary window instead of the full-screen kiosk)
 * and --state-dir DIR (where the store and device state live; default: the GSettings key
 * state-directory, else XDG_DATA_HOME/postmeter).
 *
 * App actions: app.log-out, app.reopen-store.
 *
 * Once the store is open, the application opens the machine's devices: the software PSD
 * in <state-dir>/psd, the rate packages, the scale and the printer, and makes the print
 * path. When the GSettings keys name a data center (pm-settings-keys.h) it then makes the
 * connection to it off the main thread, sharing the same PSD; the "connection" property
 * tells when it is there. The status line follows the connection.
 *
 * Signal: "devices-changed", when the devices are opened or fail to open.
 */
#pragma once

#include <adwaita.h>

#include "pm-connection.h"
#include "pm-print-flow.h"
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

/* The machine's devices, opened at start from the state folder and GSettings (see
 * pm-application.c, "Devices"). NULL until they are open; the "devices-changed" signal
 * says when they are, or when opening failed (pm_application_get_devices_error()). */
PmPsd         *pm_application_get_psd        (PmApplication *self);
PmScale       *pm_application_get_scale      (PmApplication *self);
PmPrinter     *pm_application_get_printer    (PmApplication *self);
PmRating      *pm_application_get_rating     (PmApplication *self);
PmPrintFlow   *pm_application_get_print_flow (PmApplication *self);
PmStore       *pm_application_get_store      (PmApplication *self);
const GError  *pm_application_get_devices_error (PmApplication *self);

G_END_DECLS
