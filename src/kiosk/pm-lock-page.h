/* pm-lock-page.h: the Lock page, where everyone signs in with an access code
 *
 * Actions: lock.digit (s), lock.backspace, lock.clear, lock.submit.
 * Signal: ::signed-in (PmUser) once PmAccess accepts a code.
 */
#pragma once

#include <gtk/gtk.h>

#include "pm-access.h"

G_BEGIN_DECLS

#define PM_TYPE_LOCK_PAGE (pm_lock_page_get_type ())
G_DECLARE_FINAL_TYPE (PmLockPage, pm_lock_page, PM, LOCK_PAGE, GtkWidget)

void        pm_lock_page_set_access  (PmLockPage *self,
                                      PmAccess   *access);
void        pm_lock_page_reset       (PmLockPage *self);
const char *pm_lock_page_get_message (PmLockPage *self);
gboolean    pm_lock_page_get_busy    (PmLockPage *self);
gboolean    pm_lock_page_get_locked_out (PmLockPage *self);

G_END_DECLS
