/* pm-store-records.c: cost accounts, refills, installed packages, settings
 *
 * Work functions run on the store thread; the blocking and async wrappers only queue
 * work.
 */
#include "pm-store-records.h"

#include <string.h>

#include "pm-clock.h"
#include "pm-store-audit.h"
#include "pm-store-private.h"

static char *
column_dup (sqlite3_stmt *stmt,
            int           column)
{
  const char *text = (const char *) sqlite3_column_text (stmt, column);

  return g_strdup (text != NULL ? text : "");
}

static gboolean
invalid (GError     **error,
         const char  *message)
{
  g_set_error_literal (error, PM_STORE_ERROR, PM_STORE_ERROR_INVALID, message);
  return FALSE;
}

/* ---- Cost accounts ---- */

void
pm_cost_account_free (PmCostAccount *account)
{
  if (account == NULL)
    return;

  g_free (account->code);
  g_free (account->name);
  g_free (account->description);
  g_free (account);
}

static gboolean
text_fits (const char *text,
           glong       min_chars,
           glong       max_chars)
{
  glong chars;

  if (text == NULL)
    return min_chars == 0;
  if (!g_utf8_validate (text, -1, NULL))
    return FALSE;

  chars = g_utf8_strlen (text, -1);
  return chars >= min_chars && chars <= max_chars;
}

static gboolean
account_add_work (sqlite3  *db,
                  gpointer  data,
                  GError  **error)
{
  PmCostAccount *account = data;
  g_autoptr(sqlite3_stmt) parent = NULL;
  g_autoptr(sqlite3_stmt) taken = NULL;
  g_autoptr(sqlite3_stmt) insert = NULL;
  int rc;

  PM_STORE_ASSERT_THREAD ();

  if (account->parent_id > 0)
    {
      parent = pm_store_prepare (db, "SELECT active FROM cost_accounts WHERE id = ?",
                                 error);
      if (parent == NULL)
        return FALSE;
      sqlite3_bind_int64 (parent, 1, account->parent_id);
      rc = sqlite3_step (parent);
      if (rc == SQLITE_DONE)
        return invalid (error, "The parent account no longer exists. Reload the list "
                               "of accounts");
      if (rc != SQLITE_ROW)
        return pm_store_set_error_from_sqlite (error, db, rc,
                                               "Could not read the cost accounts");
      if (sqlite3_column_int (parent, 0) == 0)
        return invalid (error, "The parent account is disabled. Enable it first");
    }

  taken = pm_store_prepare (db, "SELECT 1 FROM cost_accounts WHERE code = ?", error);
  if (taken == NULL)
    return FALSE;
  sqlite3_bind_text (taken, 1, account->code, -1, SQLITE_TRANSIENT);
  rc = sqlite3_step (taken);
  if (rc == SQLITE_ROW)
    {
      g_set_error (error, PM_STORE_ERROR, PM_STORE_ERROR_CONSTRAINT,
                   "Another cost account already has the code %s. Choose another code",
                   account->code);
      return FALSE;
    }
  if (rc != SQLITE_DONE)
    return pm_store_set_error_from_sqlite (error, db, rc,
                                           "Could not read the cost accounts");

  account->created = pm_clock_now_s ();
  insert = pm_store_prepare (db, "INSERT INTO cost_accounts (parent_id, code, name, "
                                 "description, active, created) "
                                 "VALUES (?, ?, ?, ?, 1, ?)", error);
  if (insert == NULL)
    return FALSE;
  if (account->parent_id > 0)
    sqlite3_bind_int64 (insert, 1, account->parent_id);
  else
    sqlite3_bind_null (insert, 1);
  sqlite3_bind_text (insert, 2, account->code, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (insert, 3, account->name, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (insert, 4, account->description != NULL ? account->description : "",
                     -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (insert, 5, account->created);
  if (!pm_store_step_done (db, insert, "Could not add the cost account", error))
    return FALSE;

  account->id = sqlite3_last_insert_rowid (db);
  account->active = TRUE;
  return TRUE;
}

gboolean
pm_store_add_cost_account (PmStore        *store,
                           PmCostAccount  *account,
                           GError        **error)
{
  g_return_val_if_fail (PM_IS_STORE (store), FALSE);
  g_return_val_if_fail (account != NULL, FALSE);

  if (!text_fits (account->name, 1, PM_COST_ACCOUNT_NAME_MAX))
    return invalid (error, "An account name has 1 to 75 characters");
  if (!text_fits (account->description, 0, PM_COST_ACCOUNT_DESCRIPTION_MAX))
    return invalid (error, "An account description has at most 150 characters");
  if (!text_fits (account->code, 1, PM_COST_ACCOUNT_CODE_MAX))
    return invalid (error, "An account code has 1 to 32 characters");

  return pm_store_run_sync (store, account_add_work, account, NULL, error);
}

typedef struct
{
  gint64   id;
  gboolean active;
} ActiveData;

static gboolean
account_active_work (sqlite3  *db,
                     gpointer  data,
                     GError  **error)
{
  ActiveData *change = data;
  g_autoptr(sqlite3_stmt) stmt = NULL;

  PM_STORE_ASSERT_THREAD ();

  stmt = pm_store_prepare (db, "UPDATE cost_accounts SET active = ? WHERE id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int (stmt, 1, change->active ? 1 : 0);
  sqlite3_bind_int64 (stmt, 2, change->id);
  if (!pm_store_step_done (db, stmt, "Could not change the cost account", error))
    return FALSE;
  if (sqlite3_changes (db) == 0)
    {
      g_set_error (error, PM_STORE_ERROR, PM_STORE_ERROR_NOT_FOUND,
                   "There is no cost account number %" G_GINT64_FORMAT, change->id);
      return FALSE;
    }
  return TRUE;
}

gboolean
pm_store_set_cost_account_active (PmStore   *store,
                                  gint64     account_id,
                                  gboolean   active,
                                  GError   **error)
{
  ActiveData data = { account_id, active };

  g_return_val_if_fail (PM_IS_STORE (store), FALSE);

  if (!active && account_id == PM_COST_ACCOUNT_GENERAL_ID)
    return invalid (error, "The General account cannot be disabled: mail not charged "
                           "to another account goes there");

  return pm_store_run_sync (store, account_active_work, &data, NULL, error);
}

typedef struct
{
  gboolean   active_only;
  GPtrArray *accounts;
} AccountList;

static void
account_list_free (AccountList *list)
{
  g_clear_pointer (&list->accounts, g_ptr_array_unref);
  g_free (list);
}

static gboolean
account_list_work (sqlite3  *db,
                   gpointer  data,
                   GError  **error)
{
  AccountList *list = data;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  PM_STORE_ASSERT_THREAD ();

  stmt = pm_store_prepare (db, "SELECT id, parent_id, code, name, description, active, "
                               "created FROM cost_accounts "
                               "WHERE active = 1 OR ? = 0 ORDER BY code", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int (stmt, 1, list->active_only ? 1 : 0);

  list->accounts = g_ptr_array_new_with_free_func ((GDestroyNotify) pm_cost_account_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      PmCostAccount *account = g_new0 (PmCostAccount, 1);

      account->id = sqlite3_column_int64 (stmt, 0);
      account->parent_id = sqlite3_column_int64 (stmt, 1);
      account->code = column_dup (stmt, 2);
      account->name = column_dup (stmt, 3);
      account->description = column_dup (stmt, 4);
      account->active = sqlite3_column_int (stmt, 5) != 0;
      account->created = sqlite3_column_int64 (stmt, 6);
      g_ptr_array_add (list->accounts, account);
    }
  if (rc != SQLITE_DONE)
    return pm_store_set_error_from_sqlite (error, db, rc,
                                           "Could not read the cost accounts");
  return TRUE;
}

GPtrArray *
pm_store_list_cost_accounts (PmStore   *store,
                             gboolean   active_only,
                             GError   **error)
{
  AccountList list = { active_only, NULL };

  g_return_val_if_fail (PM_IS_STORE (store), NULL);

  if (!pm_store_run_sync (store, account_list_work, &list, NULL, error))
    {
      g_clear_pointer (&list.accounts, g_ptr_array_unref);
      return NULL;
    }
  return list.accounts;
}

void
pm_store_list_cost_accounts_async (PmStore             *store,
                                   gboolean             active_only,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  AccountList *list;

  g_return_if_fail (PM_IS_STORE (store));

  list = g_new0 (AccountList, 1);
  list->active_only = active_only;
  pm_store_call_async (store, account_list_work, list,
                       (GDestroyNotify) account_list_free, cancellable, callback,
                       user_data, pm_store_list_cost_accounts_async);
}

GPtrArray *
pm_store_list_cost_accounts_finish (PmStore       *store,
                                    GAsyncResult  *result,
                                    GError       **error)
{
  AccountList *list = pm_store_call_finish (store, result,
                                            pm_store_list_cost_accounts_async, error);

  return list != NULL ? g_steal_pointer (&list->accounts) : NULL;
}

/* ---- Refills ---- */

void
pm_refill_free (PmRefill *refill)
{
  if (refill == NULL)
    return;

  g_free (refill->psd_serial);
  g_free (refill->receipt);
  g_free (refill);
}

typedef struct
{
  PmRefill *refill;
  gboolean  already;
} RefillData;

static gboolean
refill_work (sqlite3  *db,
             gpointer  data,
             GError  **error)
{
  RefillData *insert = data;
  PmRefill *refill = insert->refill;
  g_autoptr(sqlite3_stmt) existing = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  PM_STORE_ASSERT_THREAD ();

  existing = pm_store_prepare (db, "SELECT id, amount_mills FROM refills "
                                   "WHERE psd_serial = ? AND sequence = ?", error);
  if (existing == NULL)
    return FALSE;
  sqlite3_bind_text (existing, 1, refill->psd_serial, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (existing, 2, refill->sequence);
  rc = sqlite3_step (existing);
  if (rc == SQLITE_ROW)
    {
      if (sqlite3_column_int64 (existing, 1) != refill->amount)
        {
          g_set_error (error, PM_STORE_ERROR, PM_STORE_ERROR_CONSTRAINT,
                       "Refill %" G_GINT64_FORMAT " of postage device %s is already "
                       "recorded with another amount. Call support to reconcile the "
                       "device with the data center",
                       refill->sequence, refill->psd_serial);
          return FALSE;
        }
      refill->id = sqlite3_column_int64 (existing, 0);
      insert->already = TRUE;
      return TRUE;
    }
  if (rc != SQLITE_DONE)
    return pm_store_set_error_from_sqlite (error, db, rc, "Could not read the refills");

  if (refill->applied_at == 0)
    refill->applied_at = pm_clock_now_us ();

  stmt = pm_store_prepare (db, "INSERT INTO refills (psd_serial, sequence, amount_mills, "
                               "receipt, applied_at) VALUES (?, ?, ?, ?, ?)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, refill->psd_serial, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 2, refill->sequence);
  sqlite3_bind_int64 (stmt, 3, refill->amount);
  sqlite3_bind_text (stmt, 4, refill->receipt != NULL ? refill->receipt : "", -1,
                     SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 5, refill->applied_at);
  if (!pm_store_step_done (db, stmt, "Could not record the refill", error))
    return FALSE;

  refill->id = sqlite3_last_insert_rowid (db);
  return TRUE;
}

gboolean
pm_store_record_refill (PmStore   *store,
                        PmRefill  *refill,
                        gboolean  *out_already,
                        GError   **error)
{
  RefillData data = { refill, FALSE };

  g_return_val_if_fail (PM_IS_STORE (store), FALSE);
  g_return_val_if_fail (refill != NULL, FALSE);

  if (refill->psd_serial == NULL || *refill->psd_serial == '\0')
    return invalid (error, "The refill names no postage device; it was not recorded");
  if (refill->sequence <= 0 || refill->amount <= 0 || refill->amount > PM_MILLS_MAX)
    return invalid (error, "The refill's sequence number or amount is out of range; it "
                           "was not recorded");

  if (!pm_store_run_sync (store, refill_work, &data, NULL, error))
    return FALSE;

  if (out_already != NULL)
    *out_already = data.already;
  return TRUE;
}

typedef struct
{
  guint      limit;
  GPtrArray *refills;
} RefillList;

static gboolean
refill_list_work (sqlite3  *db,
                  gpointer  data,
                  GError  **error)
{
  RefillList *list = data;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  PM_STORE_ASSERT_THREAD ();

  stmt = pm_store_prepare (db, "SELECT id, psd_serial, sequence, amount_mills, receipt, "
                               "applied_at FROM refills "
                               "ORDER BY applied_at DESC, id DESC LIMIT ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, list->limit);

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      PmRefill *refill = g_new0 (PmRefill, 1);

      refill->id = sqlite3_column_int64 (stmt, 0);
      refill->psd_serial = column_dup (stmt, 1);
      refill->sequence = sqlite3_column_int64 (stmt, 2);
      refill->amount = sqlite3_column_int64 (stmt, 3);
      refill->receipt = column_dup (stmt, 4);
      refill->applied_at = sqlite3_column_int64 (stmt, 5);
      g_ptr_array_add (list->refills, refill);
    }
  if (rc != SQLITE_DONE)
    return pm_store_set_error_from_sqlite (error, db, rc, "Could not read the refills");
  return TRUE;
}

GPtrArray *
pm_store_list_refills (PmStore  *store,
                       guint     limit,
                       GError  **error)
{
  g_autoptr(GPtrArray) refills =
    g_ptr_array_new_with_free_func ((GDestroyNotify) pm_refill_free);
  RefillList list = { limit, refills };

  g_return_val_if_fail (PM_IS_STORE (store), NULL);

  if (!pm_store_run_sync (store, refill_list_work, &list, NULL, error))
    return NULL;
  return g_steal_pointer (&refills);
}

/* ---- Installed packages ---- */

void
pm_installed_package_free (PmInstalledPackage *package)
{
  if (package == NULL)
    return;

  g_free (package->type);
  g_free (package->version);
  g_free (package->sha256);
  g_free (package->path);
  g_free (package);
}

static gboolean
package_work (sqlite3  *db,
              gpointer  data,
              GError  **error)
{
  PmInstalledPackage *package = data;
  g_autoptr(sqlite3_stmt) existing = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  PM_STORE_ASSERT_THREAD ();

  existing = pm_store_prepare (db, "SELECT id, sha256 FROM installed_packages "
                                   "WHERE type = ? AND version = ?", error);
  if (existing == NULL)
    return FALSE;
  sqlite3_bind_text (existing, 1, package->type, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (existing, 2, package->version, -1, SQLITE_TRANSIENT);
  rc = sqlite3_step (existing);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return pm_store_set_error_from_sqlite (error, db, rc,
                                           "Could not read the installed packages");

  if (package->installed_at == 0)
    package->installed_at = pm_clock_now_us ();

  if (rc == SQLITE_ROW)
    {
      if (g_ascii_strcasecmp ((const char *) sqlite3_column_text (existing, 1),
                              package->sha256) != 0)
        {
          g_set_error (error, PM_STORE_ERROR, PM_STORE_ERROR_CONSTRAINT,
                       "A different %s package with version %s is already installed. "
                       "The new one was not recorded; call support",
                       package->type, package->version);
          return FALSE;
        }

      package->id = sqlite3_column_int64 (existing, 0);
      stmt = pm_store_prepare (db, "UPDATE installed_packages SET path = ? WHERE id = ?",
                               error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_text (stmt, 1, package->path, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (stmt, 2, package->id);
      return pm_store_step_done (db, stmt, "Could not record the package", error);
    }

  stmt = pm_store_prepare (db, "INSERT INTO installed_packages (type, version, sha256, "
                               "path, effective, installed_at) "
                               "VALUES (?, ?, lower (?), ?, ?, ?)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, package->type, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, package->version, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, package->sha256, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 4, package->path, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 5, package->effective);
  sqlite3_bind_int64 (stmt, 6, package->installed_at);
  if (!pm_store_step_done (db, stmt, "Could not record the package", error))
    return FALSE;

  package->id = sqlite3_last_insert_rowid (db);
  return TRUE;
}

gboolean
pm_store_record_installed_package (PmStore             *store,
                                   PmInstalledPackage  *package,
                                   GError             **error)
{
  g_return_val_if_fail (PM_IS_STORE (store), FALSE);
  g_return_val_if_fail (package != NULL, FALSE);

  if (package->type == NULL || *package->type == '\0'
      || package->version == NULL || *package->version == '\0'
      || package->path == NULL || *package->path == '\0')
    return invalid (error, "The package record lacks its type, version or path");
  if (package->sha256 == NULL || strlen (package->sha256) != 64
      || strspn (package->sha256, "0123456789abcdefABCDEF") != 64)
    return invalid (error, "The package's SHA-256 is not 64 hexadecimal digits");
  if (!g_date_valid_dmy (package->effective % 100, (package->effective / 100) % 100,
                         package->effective / 10000))
    return invalid (error, "The package's effective date is not a date");

  return pm_store_run_sync (store, package_work, package, NULL, error);
}

typedef struct
{
  const char *type;
  GPtrArray  *packages;
} PackageList;

static gboolean
package_list_work (sqlite3  *db,
                   gpointer  data,
                   GError  **error)
{
  PackageList *list = data;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  PM_STORE_ASSERT_THREAD ();

  stmt = pm_store_prepare (db, "SELECT id, type, version, sha256, path, effective, "
                               "installed_at FROM installed_packages "
                               "WHERE ?1 IS NULL OR type = ?1 "
                               "ORDER BY type, effective, installed_at, id", error);
  if (stmt == NULL)
    return FALSE;
  if (list->type != NULL)
    sqlite3_bind_text (stmt, 1, list->type, -1, SQLITE_TRANSIENT);

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      PmInstalledPackage *package = g_new0 (PmInstalledPackage, 1);

      package->id = sqlite3_column_int64 (stmt, 0);
      package->type = column_dup (stmt, 1);
      package->version = column_dup (stmt, 2);
      package->sha256 = column_dup (stmt, 3);
      package->path = column_dup (stmt, 4);
      package->effective = (guint32) sqlite3_column_int64 (stmt, 5);
      package->installed_at = sqlite3_column_int64 (stmt, 6);
      g_ptr_array_add (list->packages, package);
    }
  if (rc != SQLITE_DONE)
    return pm_store_set_error_from_sqlite (error, db, rc,
                                           "Could not read the installed packages");
  return TRUE;
}

GPtrArray *
pm_store_list_installed_packages (PmStore     *store,
                                  const char  *type,
                                  GError     **error)
{
  g_autoptr(GPtrArray) packages =
    g_ptr_array_new_with_free_func ((GDestroyNotify) pm_installed_package_free);
  PackageList list = { type, packages };

  g_return_val_if_fail (PM_IS_STORE (store), NULL);

  if (!pm_store_run_sync (store, package_list_work, &list, NULL, error))
    return NULL;
  return g_steal_pointer (&packages);
}

/* ---- Settings ---- */

typedef struct
{
  char   *key;
  gint64  value;       /* in: the default (get) or the new value (set) */
  gint64  user_id;
} SettingData;

static void
setting_data_free (SettingData *data)
{
  g_free (data->key);
  g_free (data);
}

static gboolean
setting_get_work (sqlite3  *db,
                  gpointer  data,
                  GError  **error)
{
  SettingData *setting = data;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  const char *text;
  gint64 value;
  int rc;

  PM_STORE_ASSERT_THREAD ();

  stmt = pm_store_prepare (db, "SELECT value FROM settings_kv WHERE key = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, setting->key, -1, SQLITE_TRANSIENT);

  rc = sqlite3_step (stmt);
  if (rc == SQLITE_DONE)
    return TRUE;   /* never set: the default stays */
  if (rc != SQLITE_ROW)
    return pm_store_set_error_from_sqlite (error, db, rc, "Could not read the settings");

  text = (const char *) sqlite3_column_text (stmt, 0);
  if (!g_ascii_string_to_signed (text, 10, G_MININT64, G_MAXINT64, &value, NULL))
    {
      g_set_error (error, PM_STORE_ERROR, PM_STORE_ERROR_CORRUPT,
                   "The setting %s holds \"%s\", which is not a number. A supervisor "
                   "should set it again",
                   setting->key, text);
      return FALSE;
    }

  setting->value = value;
  return TRUE;
}

static gboolean
setting_set_work (sqlite3  *db,
                  gpointer  data,
                  GError  **error)
{
  SettingData *setting = data;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *text = g_strdup_printf ("%" G_GINT64_FORMAT, setting->value);
  g_autofree char *detail = g_strdup_printf ("%s = %s", setting->key, text);

  PM_STORE_ASSERT_THREAD ();

  stmt = pm_store_prepare (db, "INSERT INTO settings_kv (key, value, updated_at) "
                               "VALUES (?1, ?2, ?3) ON CONFLICT (key) DO UPDATE "
                               "SET value = ?2, updated_at = ?3", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, setting->key, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, text, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 3, pm_clock_now_s ());
  if (!pm_store_step_done (db, stmt, "Could not save the setting", error))
    return FALSE;

  return pm_store_audit_append (db, PM_AUDIT_SETTING, setting->user_id, detail, error);
}

gboolean
pm_store_get_setting_int (PmStore     *store,
                          const char  *key,
                          gint64       default_value,
                          gint64      *out_value,
                          GError     **error)
{
  SettingData data = { (char *) key, default_value, 0 };

  g_return_val_if_fail (PM_IS_STORE (store), FALSE);
  g_return_val_if_fail (key != NULL && out_value != NULL, FALSE);

  if (!pm_store_run_sync (store, setting_get_work, &data, NULL, error))
    return FALSE;

  *out_value = data.value;
  return TRUE;
}

gboolean
pm_store_set_setting_int (PmStore     *store,
                          const char  *key,
                          gint64       value,
                          gint64       user_id,
                          GError     **error)
{
  SettingData data = { (char *) key, value, user_id };

  g_return_val_if_fail (PM_IS_STORE (store), FALSE);
  g_return_val_if_fail (key != NULL && *key != '\0', FALSE);

  return pm_store_run_sync (store, setting_set_work, &data, NULL, error);
}

void
pm_store_get_setting_int_async (PmStore             *store,
                                const char          *key,
                                gint64               default_value,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  SettingData *data;

  g_return_if_fail (PM_IS_STORE (store));
  g_return_if_fail (key != NULL);

  data = g_new0 (SettingData, 1);
  data->key = g_strdup (key);
  data->value = default_value;
  pm_store_call_async (store, setting_get_work, data, (GDestroyNotify) setting_data_free,
                       cancellable, callback, user_data, pm_store_get_setting_int_async);
}

void
pm_store_set_setting_int_async (PmStore             *store,
                                const char          *key,
                                gint64               value,
                                gint64               user_id,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  SettingData *data;

  g_return_if_fail (PM_IS_STORE (store));
  g_return_if_fail (key != NULL && *key != '\0');

  data = g_new0 (SettingData, 1);
  data->key = g_strdup (key);
  data->value = value;
  data->user_id = user_id;
  pm_store_call_async (store, setting_set_work, data, (GDestroyNotify) setting_data_free,
                       cancellable, callback, user_data, pm_store_set_setting_int_async);
}

gboolean
pm_store_set_setting_int_finish (PmStore       *store,
                                 GAsyncResult  *result,
                                 GError       **error)
{
  return pm_store_call_finish (store, result, pm_store_set_setting_int_async, error) != NULL;
}

gboolean
pm_store_get_setting_int_finish (PmStore       *store,
                                 GAsyncResult  *result,
                                 gint64        *out_value,
                                 GError       **error)
{
  SettingData *data = pm_store_call_finish (store, result,
                                            pm_store_get_setting_int_async, error);

  if (data == NULL)
    return FALSE;

  if (out_value != NULL)
    *out_value = data->value;
  return TRUE;
}
