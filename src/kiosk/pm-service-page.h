/* pm-service-page.h: shown instead of everything else when the meter cannot run safely
 *
 * For now that is a store that cannot be opened or fails its check at start. The page
 * says what happened and what to do; nothing on it can print.
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define PM_TYPE_SERVICE_PAGE (pm_service_page_get_type ())
G_DECLARE_FINAL_TYPE (PmServicePage, pm_service_page, PM, SERVICE_PAGE, GtkWidget)

void        pm_service_page_set_problem (PmServicePage *self,
                                         const char    *what_happened,
                                         const char    *what_to_do,
                                         const char    *details);
const char *pm_service_page_get_what_happened (PmServicePage *self);

G_END_DECLS
