/* pm-home-page.h: Home, the tiles that lead to every job */
#pragma once

#include <gtk/gtk.h>

#include "pm-access.h"

G_BEGIN_DECLS

#define PM_TYPE_HOME_PAGE (pm_home_page_get_type ())
G_DECLARE_FINAL_TYPE (PmHomePage, pm_home_page, PM, HOME_PAGE, GtkWidget)

void pm_home_page_set_user (PmHomePage   *self,
                            const PmUser *user);

G_END_DECLS
