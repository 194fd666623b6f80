/* pm-store-users.h: users, their code hashes and the keypad's lockout state
 *
 * These are work-function helpers: call them inside pm_store_run_*() work, on the store
 * thread, so a check and the change it allows commit together. The access workflow
 * (src/meter/pm-access.c) is their caller; roles are kept as their stored strings
 * ("operator", "supervisor", "support").
 */
#pragma once

#include "pm-store.h"

G_BEGIN_DECLS

typedef struct
{
  gint64    id;
  char     *name;
  char     *role;
  char     *code_hash;     /* the stored KDF string, never a code */
  gboolean  active;
  gint64    created_at;    /* seconds since the epoch */
  gint64    last_sign_in;  /* seconds since the epoch, 0 if never */
} PmStoreUser;

void pm_store_user_free (PmStoreUser *user);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmStoreUser, pm_store_user_free)

/* A GPtrArray of PmStoreUser, by id. */
GPtrArray   *pm_store_users_list          (sqlite3     *db,
                                           gboolean     active_only,
                                           GError     **error);
/* PM_STORE_ERROR_NOT_FOUND when there is no such user. */
PmStoreUser *pm_store_users_get           (sqlite3     *db,
                                           gint64       id,
                                           GError     **error);
gint64       pm_store_users_count         (sqlite3     *db,
                                           const char  *role,      /* NULL: any role */
                                           gboolean     active_only,
                                           GError     **error);    /* -1 on error */
gboolean     pm_store_users_insert        (sqlite3     *db,
                                           const char  *name,
                                           const char  *role,
                                           const char  *code_hash,
                                           gint64      *out_id,
                                           GError     **error);
gboolean     pm_store_users_set_active    (sqlite3     *db,
                                           gint64       id,
                                           gboolean     active,
                                           GError     **error);
gboolean     pm_store_users_set_code_hash (sqlite3     *db,
                                           gint64       id,
                                           const char  *code_hash,
                                           GError     **error);
gboolean     pm_store_users_set_last_sign_in (sqlite3  *db,
                                              gint64    id,
                                              gint64    at_s,
                                              GError  **error);

/* The keypad's consecutive wrong codes and the lockout end (µs since the epoch, 0 for
 * none). */
gboolean     pm_store_access_state_get    (sqlite3     *db,
                                           gint64      *out_failures,
                                           gint64      *out_locked_until_us,
                                           GError     **error);
gboolean     pm_store_access_state_set    (sqlite3     *db,
                                           gint64       failures,
                                           gint64       locked_until_us,
                                           GError     **error);

G_END_DECLS
