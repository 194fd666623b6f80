/* pm-store-audit.c: the hash-chained audit log
 *
 * The work functions here run on the store thread; the blocking and async wrappers run
 * on the caller's thread and only queue work.
 */
#include "pm-store-audit.h"

#include <string.h>

#include "pm-clock.h"
#include "pm-store-private.h"

#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"

void
pm_audit_entry_free (PmAuditEntry *entry)
{
  if (entry == NULL)
    return;

  g_free (entry->event);
  g_free (entry->detail);
  g_free (entry->prev_hash);
  g_free (entry->row_hash);
  g_free (entry);
}

static void
add_field (GChecksum  *checksum,
           const char *text)
{
  g_autofree char *length = g_strdup_printf ("%zu:", strlen (text));

  g_checksum_update (checksum, (const guchar *) length, -1);
  g_checksum_update (checksum, (const guchar *) text, -1);
  g_checksum_update (checksum, (const guchar *) ";", 1);
}

static void
add_number (GChecksum *checksum,
            gint64     number)
{
  g_autofree char *text = g_strdup_printf ("%" G_GINT64_FORMAT, number);

  add_field (checksum, text);
}

static char *
row_hash (gint64      id,
          gint64      at_us,
          const char *event,
          gint64      user_id,
          const char *detail,
          const char *prev_hash)
{
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);

  add_number (checksum, id);
  add_number (checksum, at_us);
  add_field (checksum, event);
  if (user_id > 0)
    add_number (checksum, user_id);
  else
    add_field (checksum, "");
  add_field (checksum, detail);
  add_field (checksum, prev_hash);

  return g_strdup (g_checksum_get_string (checksum));
}

gboolean
pm_store_audit_append (sqlite3     *db,
                       const char  *event,
                       gint64       user_id,
                       const char  *detail,
                       GError     **error)
{
  g_autoptr(sqlite3_stmt) last = NULL;
  g_autoptr(sqlite3_stmt) insert = NULL;
  g_autofree char *prev_hash = NULL;
  g_autofree char *hash = NULL;
  gint64 id = 1;
  gint64 at_us = pm_clock_now_us ();
  int rc;

  PM_STORE_ASSERT_THREAD ();
  g_return_val_if_fail (event != NULL && *event != '\0', FALSE);

  if (detail == NULL)
    detail = "";

  last = pm_store_prepare (db, "SELECT id, row_hash FROM audit_log "
                               "ORDER BY id DESC LIMIT 1", error);
  if (last == NULL)
    return FALSE;

  rc = sqlite3_step (last);
  if (rc == SQLITE_ROW)
    {
      id = sqlite3_column_int64 (last, 0) + 1;
      prev_hash = g_strdup ((const char *) sqlite3_column_text (last, 1));
    }
  else if (rc == SQLITE_DONE)
    prev_hash = g_strdup (ZERO_HASH);
  else
    return pm_store_set_error_from_sqlite (error, db, rc,
                                           "Could not read the audit log");

  hash = row_hash (id, at_us, event, user_id, detail, prev_hash);

  insert = pm_store_prepare (db, "INSERT INTO audit_log (id, at_us, event, user_id, "
                                 "detail, prev_hash, row_hash) "
                                 "VALUES (?, ?, ?, ?, ?, ?, ?)", error);
  if (insert == NULL)
    return FALSE;

  sqlite3_bind_int64 (insert, 1, id);
  sqlite3_bind_int64 (insert, 2, at_us);
  sqlite3_bind_text (insert, 3, event, -1, SQLITE_TRANSIENT);
  if (user_id > 0)
    sqlite3_bind_int64 (insert, 4, user_id);
  else
    sqlite3_bind_null (insert, 4);
  sqlite3_bind_text (insert, 5, detail, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (insert, 6, prev_hash, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (insert, 7, hash, -1, SQLITE_TRANSIENT);

  return pm_store_step_done (db, insert, "Could not write to the audit log", error);
}

static const char *
column_text (sqlite3_stmt *stmt,
             int           column)
{
  const char *text = (const char *) sqlite3_column_text (stmt, column);

  return text != NULL ? text : "";
}

static gboolean
broken (GError     **error,
        gint64      *out_first_broken,
        gint64       id,
        const char  *why)
{
  if (out_first_broken != NULL)
    *out_first_broken = id;

  g_set_error (error, PM_STORE_ERROR, PM_STORE_ERROR_AUDIT_CHAIN_BROKEN,
               "The audit log was altered at row %" G_GINT64_FORMAT " (%s), so it cannot "
               "be trusted from that row on. Leave the database as it is and call "
               "support",
               id, why);
  return FALSE;
}

gboolean
pm_store_audit_verify (sqlite3  *db,
                       gint64   *out_rows,
                       gint64   *out_first_broken,
                       GError  **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *expected_prev = g_strdup (ZERO_HASH);
  gint64 expected_id = 1;
  int rc;

  PM_STORE_ASSERT_THREAD ();

  if (out_first_broken != NULL)
    *out_first_broken = 0;

  stmt = pm_store_prepare (db, "SELECT id, at_us, event, user_id, detail, prev_hash, "
                               "row_hash FROM audit_log ORDER BY id", error);
  if (stmt == NULL)
    return FALSE;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 id = sqlite3_column_int64 (stmt, 0);
      const char *prev_hash = column_text (stmt, 5);
      const char *stored_hash = column_text (stmt, 6);
      g_autofree char *hash = NULL;

      if (id != expected_id)
        return broken (error, out_first_broken, id, id > expected_id
                       ? "rows before it were removed" : "its number is out of order");

      if (strcmp (prev_hash, expected_prev) != 0)
        return broken (error, out_first_broken, id,
                       "it does not follow from the row before it");

      hash = row_hash (id, sqlite3_column_int64 (stmt, 1), column_text (stmt, 2),
                       sqlite3_column_int64 (stmt, 3), column_text (stmt, 4), prev_hash);
      if (strcmp (hash, stored_hash) != 0)
        return broken (error, out_first_broken, id,
                       "its contents do not match its hash");

      g_free (expected_prev);
      expected_prev = g_steal_pointer (&hash);
      expected_id++;
    }

  if (rc != SQLITE_DONE)
    return pm_store_set_error_from_sqlite (error, db, rc,
                                           "Could not read the audit log");

  if (out_rows != NULL)
    *out_rows = expected_id - 1;
  return TRUE;
}

/* ---- Blocking and async wrappers ---- */

typedef struct
{
  const char *event;
  gint64      user_id;
  const char *detail;
} AppendData;

static gboolean
append_work (sqlite3  *db,
             gpointer  data,
             GError  **error)
{
  AppendData *append = data;

  return pm_store_audit_append (db, append->event, append->user_id, append->detail,
                                error);
}

gboolean
pm_store_append_audit (PmStore     *store,
                       const char  *event,
                       gint64       user_id,
                       const char  *detail,
                       GError     **error)
{
  AppendData data = { event, user_id, detail };

  g_return_val_if_fail (PM_IS_STORE (store), FALSE);
  g_return_val_if_fail (event != NULL, FALSE);

  return pm_store_run_sync (store, append_work, &data, NULL, error);
}

static void
append_data_free (gpointer p)
{
  AppendData *append = p;

  g_free ((char *) append->event);
  g_free ((char *) append->detail);
  g_free (append);
}

void
pm_store_append_audit_async (PmStore             *store,
                             const char          *event,
                             gint64               user_id,
                             const char          *detail,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  AppendData *data;

  g_return_if_fail (PM_IS_STORE (store));
  g_return_if_fail (event != NULL);

  data = g_new0 (AppendData, 1);
  data->event = g_strdup (event);
  data->user_id = user_id;
  data->detail = g_strdup (detail);
  pm_store_run_async (store, append_work, data, append_data_free, cancellable, callback,
                      user_data);
}

gboolean
pm_store_append_audit_finish (PmStore       *store,
                              GAsyncResult  *result,
                              GError       **error)
{
  return pm_store_run_finish (store, result, error);
}

typedef struct
{
  gint64 rows;
  gint64 first_broken;
} VerifyData;

static gboolean
verify_work (sqlite3  *db,
             gpointer  data,
             GError  **error)
{
  VerifyData *verify = data;

  return pm_store_audit_verify (db, &verify->rows, &verify->first_broken, error);
}

gboolean
pm_store_verify_audit_log (PmStore  *store,
                           gint64   *out_rows,
                           gint64   *out_first_broken,
                           GError  **error)
{
  VerifyData data = { 0, 0 };
  gboolean ok;

  g_return_val_if_fail (PM_IS_STORE (store), FALSE);

  ok = pm_store_run_sync (store, verify_work, &data, NULL, error);
  if (out_rows != NULL)
    *out_rows = data.rows;
  if (out_first_broken != NULL)
    *out_first_broken = data.first_broken;
  return ok;
}

void
pm_store_verify_audit_log_async (PmStore             *store,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_return_if_fail (PM_IS_STORE (store));

  pm_store_call_async (store, verify_work, g_new0 (VerifyData, 1), g_free, cancellable,
                       callback, user_data, pm_store_verify_audit_log_async);
}

gboolean
pm_store_verify_audit_log_finish (PmStore       *store,
                                  GAsyncResult  *result,
                                  gint64        *out_rows,
                                  gint64        *out_first_broken,
                                  GError       **error)
{
  VerifyData *data;

  /* The task keeps its data even when the work failed, so the broken row is known. */
  data = g_task_get_task_data (G_TASK (result));
  if (out_rows != NULL)
    *out_rows = data != NULL ? data->rows : 0;
  if (out_first_broken != NULL)
    *out_first_broken = data != NULL ? data->first_broken : 0;

  return pm_store_call_finish (store, result, pm_store_verify_audit_log_async,
                               error) != NULL;
}

typedef struct
{
  gint64     after_id;
  guint      limit;
  GPtrArray *entries;
} ListData;

static gboolean
list_work (sqlite3  *db,
           gpointer  data,
           GError  **error)
{
  ListData *list = data;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  PM_STORE_ASSERT_THREAD ();

  stmt = pm_store_prepare (db, "SELECT id, at_us, event, user_id, detail, prev_hash, "
                               "row_hash FROM audit_log WHERE id > ? ORDER BY id "
                               "LIMIT ?", error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_int64 (stmt, 1, list->after_id);
  sqlite3_bind_int64 (stmt, 2, list->limit);

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      PmAuditEntry *entry = g_new0 (PmAuditEntry, 1);

      entry->id = sqlite3_column_int64 (stmt, 0);
      entry->at_us = sqlite3_column_int64 (stmt, 1);
      entry->event = g_strdup (column_text (stmt, 2));
      entry->user_id = sqlite3_column_int64 (stmt, 3);
      entry->detail = g_strdup (column_text (stmt, 4));
      entry->prev_hash = g_strdup (column_text (stmt, 5));
      entry->row_hash = g_strdup (column_text (stmt, 6));
      g_ptr_array_add (list->entries, entry);
    }

  if (rc != SQLITE_DONE)
    return pm_store_set_error_from_sqlite (error, db, rc,
                                           "Could not read the audit log");
  return TRUE;
}

GPtrArray *
pm_store_list_audit (PmStore  *store,
                     gint64    after_id,
                     guint     limit,
                     GError  **error)
{
  g_autoptr(GPtrArray) entries =
    g_ptr_array_new_with_free_func ((GDestroyNotify) pm_audit_entry_free);
  ListData data = { after_id, limit, entries };

  g_return_val_if_fail (PM_IS_STORE (store), NULL);

  if (!pm_store_run_sync (store, list_work, &data, NULL, error))
    return NULL;

  return g_steal_pointer (&entries);
}
