/* pm-service-page.h: the Service page
 *
 * Shown instead of everything else when the meter cannot run safely (for now, a store that
 * cannot be opened or fails its check at start): it says what happened and what to do, and
 * nothing on it can print. Support staff also open it from the service menu to use its
 * tools. In both, "Send error log to the provider" sends the program's latest warnings and
 * errors to the data center.
 */
#pragma once

#include <gtk/gtk.h>

#include "pm-connection.h"

G_BEGIN_DECLS

#define PM_TYPE_SERVICE_PAGE (pm_service_page_get_type ())
G_DECLARE_FINAL_TYPE (PmServicePage, pm_service_page, PM, SERVICE_PAGE, GtkWidget)

void        pm_service_page_set_problem (PmServicePage *self,
                                         const char    *what_happened,
                                         const char    *what_to_do,
                                         const char    *details);
const char *pm_service_page_get_what_happened (PmServicePage *self);
/* The tools for support staff, with no fault to report. */
void        pm_service_page_show_tools  (PmServicePage *self);
gboolean    pm_service_page_is_fault    (PmServicePage *self);

/* connection NULL: problem says why there is none. */
void        pm_service_page_set_connection (PmServicePage *self,
                                            PmConnection  *connection,
                                            const char    *problem);
/* What the last "Send error log" said, NULL before the first; TRUE while it runs. */
const char *pm_service_page_get_log_status (PmServicePage *self);
gboolean    pm_service_page_is_sending     (PmServicePage *self);

G_END_DECLS
