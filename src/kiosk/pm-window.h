/* pm-window.h: the one kiosk window
 *
 * A stack of pages: "loading", "lock", "setup" (first start), "home", "mail" (Print on
 * envelopes), "settings", "users", "funds", "network" (Settings > Network),
 * "connection-test" (Test connection),
 * "unbuilt" (a screen not in this version) and "service" (the meter cannot run). A top
 * bar (who is signed in, Home, Log out) and the status line show while someone is signed in.
 *
 * Window actions: win.open-page (s), win.go-home, win.lock, win.show-toast (s),
 * win.dismiss-notice.
 * Everyone signs in through the Lock page and PmAccess; win.lock, app.log-out and the idle
 * timer (GSettings idle-lock-seconds) sign out through PmAccess and show the Lock page.
 */
#pragma once

#include <adwaita.h>

#include "pm-access.h"
#include "pm-connection.h"
#include "pm-status.h"

G_BEGIN_DECLS

#define PM_TYPE_WINDOW (pm_window_get_type ())
G_DECLARE_FINAL_TYPE (PmWindow, pm_window, PM, WINDOW, AdwApplicationWindow)

PmWindow     *pm_window_new              (GtkApplication *application,
                                          gboolean        kiosk);

void          pm_window_set_access       (PmWindow       *self,
                                          PmAccess       *access);
void          pm_window_set_connection   (PmWindow       *self,
                                          PmConnection   *connection,
                                          const char     *problem);
void          pm_window_set_state_dir    (PmWindow       *self,
                                          const char     *state_dir);
void          pm_window_show_loading     (PmWindow       *self);
void          pm_window_show_service     (PmWindow       *self,
                                          const char     *what_happened,
                                          const char     *what_to_do,
                                          const char     *details);
void          pm_window_lock             (PmWindow       *self,
                                          const char     *reason);
void          pm_window_show_toast       (PmWindow       *self,
                                          const char     *text);

PmStatus     *pm_window_get_status       (PmWindow       *self);
const PmUser *pm_window_get_user         (PmWindow       *self);
const char   *pm_window_get_page_name    (PmWindow       *self);
GtkWidget    *pm_window_get_page         (PmWindow       *self,
                                          const char     *name);
const char   *pm_window_get_last_toast   (PmWindow       *self);

G_END_DECLS
