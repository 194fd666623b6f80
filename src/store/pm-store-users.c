/* pm-store-users.c: users and lockout state (store thread only) */
#include "pm-store-users.h"

#include "pm-clock.h"

void
pm_store_user_free (PmStoreUser *user)
{
  if (user == NULL)
    return;

  g_free (user->name);
  g_free (user->role);
  g_free (user->code_hash);
  g_free (user);
}

#define USER_COLUMNS "id, name, role, code_hash, active, created_at, last_sign_in"

static PmStoreUser *
user_from_row (sqlite3_stmt *stmt)
{
  PmStoreUser *user = g_new0 (PmStoreUser, 1);

  user->id = sqlite3_column_int64 (stmt, 0);
  user->name = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
  user->role = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
  user->code_hash = g_strdup ((const char *) sqlite3_column_text (stmt, 3));
  user->active = sqlite3_column_int (stmt, 4) != 0;
  user->created_at = sqlite3_column_int64 (stmt, 5);
  user->last_sign_in = sqlite3_column_int64 (stmt, 6);
  return user;
}

GPtrArray *
pm_store_users_list (sqlite3   *db,
                     gboolean   active_only,
                     GError   **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GPtrArray) users =
    g_ptr_array_new_with_free_func ((GDestroyNotify) pm_store_user_free);
  int rc;

  PM_STORE_ASSERT_THREAD ();

  stmt = pm_store_prepare (db, "SELECT " USER_COLUMNS " FROM users "
                               "WHERE active = 1 OR ?1 = 0 ORDER BY id", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int (stmt, 1, active_only ? 1 : 0);

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (users, user_from_row (stmt));

  if (rc != SQLITE_DONE)
    {
      pm_store_set_error_from_sqlite (error, db, rc, "Could not read the users");
      return NULL;
    }

  return g_steal_pointer (&users);
}

PmStoreUser *
pm_store_users_get (sqlite3  *db,
                    gint64    id,
                    GError  **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  PM_STORE_ASSERT_THREAD ();

  stmt = pm_store_prepare (db, "SELECT " USER_COLUMNS " FROM users WHERE id = ?",
                           error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, id);

  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    return user_from_row (stmt);

  if (rc == SQLITE_DONE)
    g_set_error (error, PM_STORE_ERROR, PM_STORE_ERROR_NOT_FOUND,
                 "There is no user number %" G_GINT64_FORMAT, id);
  else
    pm_store_set_error_from_sqlite (error, db, rc, "Could not read the user");
  return NULL;
}

gint64
pm_store_users_count (sqlite3     *db,
                      const char  *role,
                      gboolean     active_only,
                      GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  PM_STORE_ASSERT_THREAD ();

  stmt = pm_store_prepare (db, "SELECT count(*) FROM users "
                               "WHERE (?1 IS NULL OR role = ?1) "
                               "AND (active = 1 OR ?2 = 0)", error);
  if (stmt == NULL)
    return -1;
  if (role != NULL)
    sqlite3_bind_text (stmt, 1, role, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int (stmt, 2, active_only ? 1 : 0);

  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    {
      pm_store_set_error_from_sqlite (error, db, rc, "Could not count the users");
      return -1;
    }

  return sqlite3_column_int64 (stmt, 0);
}

gboolean
pm_store_users_insert (sqlite3     *db,
                       const char  *name,
                       const char  *role,
                       const char  *code_hash,
                       gint64      *out_id,
                       GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  PM_STORE_ASSERT_THREAD ();
  g_return_val_if_fail (name != NULL && role != NULL && code_hash != NULL, FALSE);

  stmt = pm_store_prepare (db, "INSERT INTO users (name, role, code_hash, created_at) "
                               "VALUES (?, ?, ?, ?)", error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, role, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, code_hash, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 4, pm_clock_now_s ());

  if (!pm_store_step_done (db, stmt, "Could not add the user", error))
    return FALSE;

  if (out_id != NULL)
    *out_id = sqlite3_last_insert_rowid (db);
  return TRUE;
}

/* Runs a one-row UPDATE on users and reports a missing user. */
static gboolean
update_user (sqlite3      *db,
             sqlite3_stmt *stmt,
             gint64        id,
             GError      **error)
{
  if (!pm_store_step_done (db, stmt, "Could not change the user", error))
    return FALSE;

  if (sqlite3_changes (db) == 0)
    {
      g_set_error (error, PM_STORE_ERROR, PM_STORE_ERROR_NOT_FOUND,
                   "There is no user number %" G_GINT64_FORMAT, id);
      return FALSE;
    }

  return TRUE;
}

gboolean
pm_store_users_set_active (sqlite3   *db,
                           gint64     id,
                           gboolean   active,
                           GError   **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  PM_STORE_ASSERT_THREAD ();

  stmt = pm_store_prepare (db, "UPDATE users SET active = ? WHERE id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int (stmt, 1, active ? 1 : 0);
  sqlite3_bind_int64 (stmt, 2, id);

  return update_user (db, stmt, id, error);
}

gboolean
pm_store_users_set_code_hash (sqlite3     *db,
                              gint64       id,
                              const char  *code_hash,
                              GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  PM_STORE_ASSERT_THREAD ();
  g_return_val_if_fail (code_hash != NULL, FALSE);

  stmt = pm_store_prepare (db, "UPDATE users SET code_hash = ? WHERE id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, code_hash, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 2, id);

  return update_user (db, stmt, id, error);
}

gboolean
pm_store_users_set_last_sign_in (sqlite3  *db,
                                 gint64    id,
                                 gint64    at_s,
                                 GError  **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  PM_STORE_ASSERT_THREAD ();

  stmt = pm_store_prepare (db, "UPDATE users SET last_sign_in = ? WHERE id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, at_s);
  sqlite3_bind_int64 (stmt, 2, id);

  return update_user (db, stmt, id, error);
}

gboolean
pm_store_access_state_get (sqlite3  *db,
                           gint64   *out_failures,
                           gint64   *out_locked_until_us,
                           GError  **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  PM_STORE_ASSERT_THREAD ();

  stmt = pm_store_prepare (db, "SELECT failures, locked_until_us FROM access_state "
                               "WHERE id = 1", error);
  if (stmt == NULL)
    return FALSE;

  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    {
      if (rc == SQLITE_DONE)
        g_set_error (error, PM_STORE_ERROR, PM_STORE_ERROR_CORRUPT,
                     "The keypad's lockout record is missing from the postage "
                     "database; call support");
      else
        pm_store_set_error_from_sqlite (error, db, rc,
                                        "Could not read the keypad's lockout state");
      return FALSE;
    }

  *out_failures = sqlite3_column_int64 (stmt, 0);
  *out_locked_until_us = sqlite3_column_int64 (stmt, 1);
  return TRUE;
}

gboolean
pm_store_access_state_set (sqlite3  *db,
                           gint64    failures,
                           gint64    locked_until_us,
                           GError  **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  PM_STORE_ASSERT_THREAD ();

  stmt = pm_store_prepare (db, "UPDATE access_state SET failures = ?, "
                               "locked_until_us = ? WHERE id = 1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, failures);
  sqlite3_bind_int64 (stmt, 2, locked_until_us);

  return pm_store_step_done (db, stmt, "Could not save the keypad's lockout state",
                             error);
}
