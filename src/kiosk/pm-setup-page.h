/* pm-setup-page.h: First start, on a machine with no users yet
 *
 * Asks for the first supervisor's name, then an access code twice, and creates that user
 * through PmAccess.
 *
 * Actions: setup.next, setup.back, setup.digit (s), setup.backspace, setup.clear,
 * setup.submit. Signal: ::set-up (PmUser) once the supervisor exists.
 */
#pragma once

#include <gtk/gtk.h>

#include "pm-access.h"

G_BEGIN_DECLS

#define PM_TYPE_SETUP_PAGE (pm_setup_page_get_type ())
G_DECLARE_FINAL_TYPE (PmSetupPage, pm_setup_page, PM, SETUP_PAGE, GtkWidget)

void        pm_setup_page_set_access  (PmSetupPage *self,
                                       PmAccess    *access);
void        pm_setup_page_reset       (PmSetupPage *self);
void        pm_setup_page_set_name    (PmSetupPage *self,
                                       const char  *name);
const char *pm_setup_page_get_step    (PmSetupPage *self);
const char *pm_setup_page_get_message (PmSetupPage *self);

G_END_DECLS
