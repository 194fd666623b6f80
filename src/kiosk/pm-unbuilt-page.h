/* pm-unbuilt-page.h: what a screen that is not in this version shows
 *
 * It says plainly that the screen is not available yet, and nothing else: no sample
 * figures, no pretend buttons.
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define PM_TYPE_UNBUILT_PAGE (pm_unbuilt_page_get_type ())
G_DECLARE_FINAL_TYPE (PmUnbuiltPage, pm_unbuilt_page, PM, UNBUILT_PAGE, GtkWidget)

void        pm_unbuilt_page_set_screen (PmUnbuiltPage *self,
                                        const char    *title,
                                        const char    *icon_name);
const char *pm_unbuilt_page_get_title  (PmUnbuiltPage *self);

G_END_DECLS
