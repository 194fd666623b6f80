/* pm-access.h: who may use the machine
 *
 * Users have a role and an access code of 4 to 8 digits. Codes are kept only as slow KDF
 * hashes in the store. Signing in takes a code alone; after five wrong codes in a row the
 * keypad locks for a time that grows with each further failure, and the lockout is kept in
 * the store so a restart does not clear it.
 *
 * Every call is asynchronous: hashing and the store run off the main thread, and results
 * come back on the caller's thread-default main context.
 */
#pragma once

#include <gio/gio.h>

#include "pm-store.h"

G_BEGIN_DECLS

typedef enum
{
  PM_ROLE_OPERATOR,
  PM_ROLE_SUPERVISOR,
  PM_ROLE_SUPPORT,
} PmRole;

const char *pm_role_to_string   (PmRole role);  /* "operator", ... (stored form) */
const char *pm_role_display_name (PmRole role); /* translated, for screens */

#define PM_TYPE_USER (pm_user_get_type ())

typedef struct
{
  gint64    id;
  char     *name;
  PmRole    role;
  gboolean  active;
  gint64    created_at;      /* seconds since the epoch */
  gint64    last_sign_in;    /* seconds since the epoch, 0 if never */
} PmUser;

GType   pm_user_get_type (void);
PmUser *pm_user_copy     (const PmUser *user);
void    pm_user_free     (PmUser *user);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmUser, pm_user_free)

#define PM_ACCESS_ERROR (pm_access_error_quark ())

typedef enum
{
  PM_ACCESS_ERROR_MALFORMED_CODE,  /* empty, too short or long, not digits */
  PM_ACCESS_ERROR_WRONG_CODE,
  PM_ACCESS_ERROR_LOCKED_OUT,      /* see pm_access_get_locked_until() */
  PM_ACCESS_ERROR_CODE_IN_USE,     /* another user already has this code */
  PM_ACCESS_ERROR_NOT_PERMITTED,   /* the acting user's role may not do this */
  PM_ACCESS_ERROR_NO_SUCH_USER,
  PM_ACCESS_ERROR_LAST_SUPERVISOR, /* would leave no active supervisor */
  PM_ACCESS_ERROR_INVALID_NAME,
  PM_ACCESS_ERROR_ALREADY_SET_UP,  /* first start asked for on a machine with users */
  PM_ACCESS_ERROR_STORE,           /* the store failed; the message says how */
} PmAccessError;

GQuark pm_access_error_quark (void);

#define PM_ACCESS_CODE_MIN_DIGITS 4
#define PM_ACCESS_CODE_MAX_DIGITS 8
#define PM_ACCESS_FAILURES_BEFORE_LOCKOUT 5

#define PM_TYPE_ACCESS (pm_access_get_type ())
G_DECLARE_FINAL_TYPE (PmAccess, pm_access, PM, ACCESS, GObject)

PmAccess  *pm_access_new                    (PmStore             *store);

/* Checks the form of a code (no hashing): for the keypad's immediate message. */
gboolean   pm_access_check_code_form        (const char          *code,
                                             GError             **error);

void       pm_access_has_users_async        (PmAccess            *self,
                                             GCancellable        *cancellable,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data);
gboolean   pm_access_has_users_finish       (PmAccess            *self,
                                             GAsyncResult        *result,
                                             gboolean            *out_has_users,
                                             GError             **error);

/* First start only: creates the first supervisor. */
void       pm_access_set_up_async           (PmAccess            *self,
                                             const char          *supervisor_name,
                                             const char          *code,
                                             GCancellable        *cancellable,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data);
PmUser    *pm_access_set_up_finish          (PmAccess            *self,
                                             GAsyncResult        *result,
                                             GError             **error);

void       pm_access_sign_in_async          (PmAccess            *self,
                                             const char          *code,
                                             GCancellable        *cancellable,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data);
PmUser    *pm_access_sign_in_finish         (PmAccess            *self,
                                             GAsyncResult        *result,
                                             GError             **error);

void       pm_access_sign_out               (PmAccess            *self,
                                             const PmUser        *user,
                                             const char          *reason);

/* Microseconds since the epoch until which the keypad is locked; 0 when it is not. Kept up
 * to date after every sign-in attempt and loaded from the store at start. */
void       pm_access_get_locked_until_async  (PmAccess            *self,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
gboolean   pm_access_get_locked_until_finish (PmAccess            *self,
                                              GAsyncResult        *result,
                                              gint64              *out_until_us,
                                              GError             **error);

/* Supervisor work: the actor must be an active supervisor. Results: a GPtrArray of PmUser. */
void       pm_access_list_users_async       (PmAccess            *self,
                                             GCancellable        *cancellable,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data);
GPtrArray *pm_access_list_users_finish      (PmAccess            *self,
                                             GAsyncResult        *result,
                                             GError             **error);

void       pm_access_add_user_async         (PmAccess            *self,
                                             const PmUser        *actor,
                                             const char          *name,
                                             PmRole               role,
                                             const char          *code,
                                             GCancellable        *cancellable,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data);
PmUser    *pm_access_add_user_finish        (PmAccess            *self,
                                             GAsyncResult        *result,
                                             GError             **error);

void       pm_access_set_user_active_async  (PmAccess            *self,
                                             const PmUser        *actor,
                                             gint64               user_id,
                                             gboolean             active,
                                             GCancellable        *cancellable,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data);
gboolean   pm_access_set_user_active_finish (PmAccess            *self,
                                             GAsyncResult        *result,
                                             GError             **error);

void       pm_access_set_user_code_async    (PmAccess            *self,
                                             const PmUser        *actor,
                                             gint64               user_id,
                                             const char          *code,
                                             GCancellable        *cancellable,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data);
gboolean   pm_access_set_user_code_finish   (PmAccess            *self,
                                             GAsyncResult        *result,
                                             GError             **error);

G_END_DECLS
