/* pm-users-page.h: Settings > Users, for supervisors
 *
 * Lists every user with role and state; adds a user (name, role, a code typed twice);
 * disables and enables users; sets a new code. Everything goes through PmAccess with the
 * signed-in supervisor as the actor, so the rules (and the audit log) are PmAccess's.
 *
 * Actions: users.add, users.recode (x), users.disable (x), users.enable (x), users.role
 * (s, stateful), users.next, users.cancel, users.digit (s), users.backspace, users.clear,
 * users.submit, users.refresh.
 */
#pragma once

#include <gtk/gtk.h>

#include "pm-access.h"

G_BEGIN_DECLS

#define PM_TYPE_USERS_PAGE (pm_users_page_get_type ())
G_DECLARE_FINAL_TYPE (PmUsersPage, pm_users_page, PM, USERS_PAGE, GtkWidget)

void          pm_users_page_set_access   (PmUsersPage  *self,
                                          PmAccess     *access);
void          pm_users_page_set_actor    (PmUsersPage  *self,
                                          const PmUser *actor);
void          pm_users_page_refresh      (PmUsersPage  *self);
void          pm_users_page_set_name     (PmUsersPage  *self,
                                          const char   *name);

GPtrArray    *pm_users_page_get_users    (PmUsersPage  *self);
const PmUser *pm_users_page_find_user    (PmUsersPage  *self,
                                          const char   *name);
const char   *pm_users_page_get_step     (PmUsersPage  *self);
const char   *pm_users_page_get_message  (PmUsersPage  *self);
gboolean      pm_users_page_get_busy     (PmUsersPage  *self);

G_END_DECLS
