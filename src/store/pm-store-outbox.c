/* pm-store-outbox.c: the upload outbox
 *
 * Work functions run on the store thread; the blocking and async wrappers only queue
 * work.
 */
#include "pm-store-outbox.h"

#include <string.h>

#include "pm-clock.h"
#include "pm-protocol.h"
#include "pm-store-private.h"

#define UUID_LENGTH 36

static const char *const state_names[] = { "OPEN", "SEALED", "SENT", "ACKED" };

void
pm_upload_batch_free (PmUploadBatch *batch)
{
  if (batch == NULL)
    return;

  g_free (batch->id);
  g_clear_pointer (&batch->payload, g_bytes_unref);
  g_free (batch->payload_sha256);
  g_free (batch);
}

gboolean
pm_store_outbox_enqueue (sqlite3  *db,
                         GBytes   *payload,
                         gint64    piece_id,
                         gint64   *out_seq,
                         GError  **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *uuid = g_uuid_string_random ();
  gconstpointer bytes;
  gsize size;

  PM_STORE_ASSERT_THREAD ();
  g_return_val_if_fail (payload != NULL, FALSE);

  bytes = g_bytes_get_data (payload, &size);
  if (size == 0 || size > G_MAXINT32)
    {
      g_set_error (error, PM_STORE_ERROR, PM_STORE_ERROR_INVALID,
                   "The upload record was not queued: it is %s. This is a fault in "
                   "Postmeter; call support",
                   size == 0 ? "empty" : "too large");
      return FALSE;
    }

  stmt = pm_store_prepare (db, "INSERT INTO upload_records (uuid, payload, created_at, "
                               "piece_id) VALUES (?, ?, ?, ?)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, uuid, -1, SQLITE_TRANSIENT);
  sqlite3_bind_blob (stmt, 2, bytes, (int) size, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 3, pm_clock_now_us ());
  if (piece_id > 0)
    sqlite3_bind_int64 (stmt, 4, piece_id);
  else
    sqlite3_bind_null (stmt, 4);

  if (!pm_store_step_done (db, stmt, "Could not queue the upload record", error))
    return FALSE;

  if (out_seq != NULL)
    *out_seq = sqlite3_last_insert_rowid (db);
  return TRUE;
}

typedef struct
{
  GBytes *payload;
  gint64  seq;
} EnqueueData;

static gboolean
enqueue_work (sqlite3  *db,
              gpointer  data,
              GError  **error)
{
  EnqueueData *enqueue = data;

  return pm_store_outbox_enqueue (db, enqueue->payload, 0, &enqueue->seq, error);
}

gboolean
pm_store_enqueue_upload (PmStore  *store,
                         GBytes   *payload,
                         gint64   *out_seq,
                         GError  **error)
{
  EnqueueData data = { payload, 0 };

  g_return_val_if_fail (PM_IS_STORE (store), FALSE);
  g_return_val_if_fail (payload != NULL, FALSE);

  if (!pm_store_run_sync (store, enqueue_work, &data, NULL, error))
    return FALSE;

  if (out_seq != NULL)
    *out_seq = data.seq;
  return TRUE;
}

/* ---- Sealing ---- */

#define BATCH_COLUMNS "id, state, payload, payload_sha256, first_seq, last_seq, count, " \
                      "attempts, next_attempt_at, sealed_at"

static PmUploadBatch *
batch_from_row (sqlite3_stmt *stmt)
{
  PmUploadBatch *batch = g_new0 (PmUploadBatch, 1);
  const char *state = (const char *) sqlite3_column_text (stmt, 1);
  const void *blob = sqlite3_column_blob (stmt, 2);

  batch->id = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  for (gsize i = 0; i < G_N_ELEMENTS (state_names); i++)
    if (g_strcmp0 (state, state_names[i]) == 0)
      batch->state = i;
  if (blob != NULL)
    batch->payload = g_bytes_new (blob, sqlite3_column_bytes (stmt, 2));
  batch->payload_sha256 = g_strdup ((const char *) sqlite3_column_text (stmt, 3));
  batch->first_seq = sqlite3_column_int64 (stmt, 4);
  batch->last_seq = sqlite3_column_int64 (stmt, 5);
  batch->count = sqlite3_column_int64 (stmt, 6);
  batch->attempts = sqlite3_column_int64 (stmt, 7);
  batch->next_attempt_at = sqlite3_column_int64 (stmt, 8);
  batch->sealed_at = sqlite3_column_int64 (stmt, 9);
  return batch;
}

static void
put_u32 (GByteArray *out,
         guint32     value)
{
  guint32 le = GUINT32_TO_LE (value);

  g_byte_array_append (out, (const guint8 *) &le, 4);
}

static void
put_u64 (GByteArray *out,
         guint64     value)
{
  guint64 le = GUINT64_TO_LE (value);

  g_byte_array_append (out, (const guint8 *) &le, 8);
}

typedef struct
{
  guint          max_records;
  const char    *device_id;  /* NULL: the PMUB layout; else the uploads service's message */
  PmUploadBatch *batch;   /* out */
} SealData;

/* The uploads service's message for the records of one batch: what goes on the wire,
 * sealed here once so that every retry sends these very bytes. */
static GBytes *
seal_for_device (sqlite3     *db,
                 const char  *batch_id,
                 const char  *device_id,
                 gint64       first,
                 gint64       last,
                 GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(PmWireBatch) wire = pm_wire_batch_new (batch_id, device_id);
  g_autoptr(GError) local_error = NULL;
  GBytes *sealed;
  int rc;

  stmt = pm_store_prepare (db, "SELECT seq, uuid, payload, created_at FROM upload_records "
                               "WHERE batch_id IS NULL AND seq BETWEEN ? AND ? "
                               "ORDER BY seq", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, first);
  sqlite3_bind_int64 (stmt, 2, last);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      g_autoptr(GBytes) payload = g_bytes_new (sqlite3_column_blob (stmt, 2),
                                               sqlite3_column_bytes (stmt, 2));

      g_ptr_array_add (wire->records,
                       pm_upload_record_new (sqlite3_column_int64 (stmt, 0),
                                             sqlite3_column_int64 (stmt, 3) / G_USEC_PER_SEC,
                                             (const char *) sqlite3_column_text (stmt, 1),
                                             payload));
    }
  if (rc != SQLITE_DONE)
    {
      pm_store_set_error_from_sqlite (error, db, rc, "Could not read the outbox");
      return NULL;
    }

  sealed = pm_wire_batch_seal (wire, &local_error);
  if (sealed == NULL)
    g_set_error (error, PM_STORE_ERROR, PM_STORE_ERROR_INVALID,
                 "The upload batch could not be sealed: %s", local_error->message);
  return sealed;
}

static gboolean
seal_work (sqlite3  *db,
           gpointer  data,
           GError  **error)
{
  SealData *seal = data;
  g_autoptr(sqlite3_stmt) pending = NULL;
  g_autoptr(sqlite3_stmt) records = NULL;
  g_autoptr(sqlite3_stmt) insert = NULL;
  g_autoptr(sqlite3_stmt) assign = NULL;
  g_autoptr(GByteArray) body = NULL;
  g_autofree char *id = NULL;
  g_autofree char *sha256 = NULL;
  gint64 first = 0, last = 0, count = 0;
  gint64 now = pm_clock_now_us ();
  guint8 version = PM_UPLOAD_BATCH_VERSION;
  gsize count_offset;
  int rc;

  PM_STORE_ASSERT_THREAD ();

  /* A batch already sealed goes again, unchanged, before anything new. */
  pending = pm_store_prepare (db, "SELECT " BATCH_COLUMNS " FROM upload_batches "
                                  "WHERE state IN ('SEALED', 'SENT') "
                                  "ORDER BY first_seq LIMIT 1", error);
  if (pending == NULL)
    return FALSE;
  rc = sqlite3_step (pending);
  if (rc == SQLITE_ROW)
    {
      seal->batch = batch_from_row (pending);
      return TRUE;
    }
  if (rc != SQLITE_DONE)
    return pm_store_set_error_from_sqlite (error, db, rc, "Could not read the outbox");

  records = pm_store_prepare (db, "SELECT seq, uuid, payload FROM upload_records "
                                  "WHERE batch_id IS NULL ORDER BY seq LIMIT ?", error);
  if (records == NULL)
    return FALSE;
  sqlite3_bind_int64 (records, 1, seal->max_records);

  body = g_byte_array_new ();
  g_byte_array_append (body, (const guint8 *) "PMUB", 4);
  g_byte_array_append (body, &version, 1);
  count_offset = body->len;
  put_u32 (body, 0);

  while ((rc = sqlite3_step (records)) == SQLITE_ROW)
    {
      gint64 seq = sqlite3_column_int64 (records, 0);
      const char *uuid = (const char *) sqlite3_column_text (records, 1);
      const void *payload = sqlite3_column_blob (records, 2);
      int size = sqlite3_column_bytes (records, 2);

      g_assert (uuid != NULL && strlen (uuid) == UUID_LENGTH);
      if (count == 0)
        first = seq;
      last = seq;
      count++;

      put_u64 (body, (guint64) seq);
      g_byte_array_append (body, (const guint8 *) uuid, UUID_LENGTH);
      put_u32 (body, (guint32) size);
      g_byte_array_append (body, payload, (guint) size);
    }
  if (rc != SQLITE_DONE)
    return pm_store_set_error_from_sqlite (error, db, rc, "Could not read the outbox");

  if (count == 0)
    return TRUE;   /* nothing waits */

  {
    guint32 le = GUINT32_TO_LE ((guint32) count);
    memcpy (body->data + count_offset, &le, 4);
  }

  id = g_uuid_string_random ();
  if (seal->device_id != NULL)
    {
      g_autoptr(GBytes) wire = seal_for_device (db, id, seal->device_id, first, last, error);
      gsize size;
      const guint8 *bytes;

      if (wire == NULL)
        return FALSE;
      bytes = g_bytes_get_data (wire, &size);
      g_byte_array_set_size (body, 0);
      g_byte_array_append (body, bytes, (guint) size);
    }
  sha256 = g_compute_checksum_for_data (G_CHECKSUM_SHA256, body->data, body->len);

  insert = pm_store_prepare (db, "INSERT INTO upload_batches (id, state, payload, "
                                 "payload_sha256, first_seq, last_seq, count, "
                                 "sealed_at) VALUES (?, 'SEALED', ?, ?, ?, ?, ?, ?)",
                             error);
  if (insert == NULL)
    return FALSE;
  sqlite3_bind_text (insert, 1, id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_blob (insert, 2, body->data, (int) body->len, SQLITE_TRANSIENT);
  sqlite3_bind_text (insert, 3, sha256, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (insert, 4, first);
  sqlite3_bind_int64 (insert, 5, last);
  sqlite3_bind_int64 (insert, 6, count);
  sqlite3_bind_int64 (insert, 7, now);
  if (!pm_store_step_done (db, insert, "Could not seal the upload batch", error))
    return FALSE;

  assign = pm_store_prepare (db, "UPDATE upload_records SET batch_id = ? "
                                 "WHERE batch_id IS NULL AND seq BETWEEN ? AND ?", error);
  if (assign == NULL)
    return FALSE;
  sqlite3_bind_text (assign, 1, id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (assign, 2, first);
  sqlite3_bind_int64 (assign, 3, last);
  if (!pm_store_step_done (db, assign, "Could not seal the upload batch", error))
    return FALSE;
  g_assert (sqlite3_changes (db) == count);

  seal->batch = g_new0 (PmUploadBatch, 1);
  seal->batch->id = g_steal_pointer (&id);
  seal->batch->state = PM_UPLOAD_BATCH_SEALED;
  seal->batch->payload = g_byte_array_free_to_bytes (g_steal_pointer (&body));
  seal->batch->payload_sha256 = g_steal_pointer (&sha256);
  seal->batch->first_seq = first;
  seal->batch->last_seq = last;
  seal->batch->count = count;
  seal->batch->sealed_at = now;
  return TRUE;
}

PmUploadBatch *
pm_store_seal_upload_batch (PmStore  *store,
                            guint     max_records,
                            GError  **error)
{
  SealData data = { max_records, NULL, NULL };

  g_return_val_if_fail (PM_IS_STORE (store), NULL);
  g_return_val_if_fail (max_records > 0, NULL);

  if (!pm_store_run_sync (store, seal_work, &data, NULL, error))
    {
      pm_upload_batch_free (data.batch);
      return NULL;
    }
  return data.batch;
}

PmUploadBatch *
pm_store_seal_upload_batch_for_device (PmStore     *store,
                                       const char  *device_id,
                                       guint        max_records,
                                       GError     **error)
{
  SealData data = { max_records, device_id, NULL };

  g_return_val_if_fail (PM_IS_STORE (store), NULL);
  g_return_val_if_fail (device_id != NULL, NULL);
  g_return_val_if_fail (max_records > 0 && max_records <= PM_PROTOCOL_MAX_BATCH_RECORDS, NULL);

  if (!pm_store_run_sync (store, seal_work, &data, NULL, error))
    {
      pm_upload_batch_free (data.batch);
      return NULL;
    }
  return data.batch;
}

/* ---- Sending and acknowledging ---- */

typedef struct
{
  const char *batch_id;
  gint64      next_attempt_at;
} SentData;

static gboolean
sent_work (sqlite3  *db,
           gpointer  data,
           GError  **error)
{
  SentData *sent = data;
  g_autoptr(sqlite3_stmt) stmt = NULL;

  PM_STORE_ASSERT_THREAD ();

  stmt = pm_store_prepare (db, "UPDATE upload_batches SET state = 'SENT', "
                               "attempts = attempts + 1, next_attempt_at = ? "
                               "WHERE id = ? AND state IN ('SEALED', 'SENT')", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, sent->next_attempt_at);
  sqlite3_bind_text (stmt, 2, sent->batch_id, -1, SQLITE_TRANSIENT);
  if (!pm_store_step_done (db, stmt, "Could not record the upload", error))
    return FALSE;

  if (sqlite3_changes (db) == 0)
    {
      g_set_error (error, PM_STORE_ERROR, PM_STORE_ERROR_NOT_FOUND,
                   "Upload batch %s is not waiting to be sent", sent->batch_id);
      return FALSE;
    }
  return TRUE;
}

gboolean
pm_store_mark_upload_sent (PmStore     *store,
                           const char  *batch_id,
                           gint64       next_attempt_at_us,
                           GError     **error)
{
  SentData data = { batch_id, next_attempt_at_us };

  g_return_val_if_fail (PM_IS_STORE (store), FALSE);
  g_return_val_if_fail (batch_id != NULL, FALSE);

  return pm_store_run_sync (store, sent_work, &data, NULL, error);
}

static gboolean
mismatch (GError     **error,
          const char  *batch_id,
          const char  *what)
{
  g_set_error (error, PM_STORE_ERROR, PM_STORE_ERROR_RECEIPT_MISMATCH,
               "The data center's receipt for upload batch %s does not match what was "
               "sent (%s). The records are kept and will be sent again; if this "
               "repeats, call support",
               batch_id, what);
  return FALSE;
}

static gboolean
ack_work (sqlite3  *db,
          gpointer  data,
          GError  **error)
{
  const PmUploadReceipt *receipt = data;
  g_autoptr(sqlite3_stmt) get = NULL;
  g_autoptr(sqlite3_stmt) log = NULL;
  g_autoptr(sqlite3_stmt) del = NULL;
  g_autoptr(sqlite3_stmt) mark = NULL;
  g_autoptr(PmUploadBatch) batch = NULL;
  gint64 now = pm_clock_now_us ();
  int rc;

  PM_STORE_ASSERT_THREAD ();

  get = pm_store_prepare (db, "SELECT " BATCH_COLUMNS " FROM upload_batches "
                              "WHERE id = ?", error);
  if (get == NULL)
    return FALSE;
  sqlite3_bind_text (get, 1, receipt->batch_id, -1, SQLITE_TRANSIENT);
  rc = sqlite3_step (get);
  if (rc == SQLITE_DONE)
    return mismatch (error, receipt->batch_id, "no such batch was sealed here");
  if (rc != SQLITE_ROW)
    return pm_store_set_error_from_sqlite (error, db, rc, "Could not read the outbox");
  batch = batch_from_row (get);

  if (g_ascii_strcasecmp (batch->payload_sha256, receipt->payload_sha256 != NULL
                                                 ? receipt->payload_sha256 : "") != 0)
    return mismatch (error, receipt->batch_id, "the hash differs");
  if (batch->first_seq != receipt->first_seq || batch->last_seq != receipt->last_seq)
    return mismatch (error, receipt->batch_id, "the record numbers differ");
  if (batch->count != receipt->count)
    return mismatch (error, receipt->batch_id, "the record count differs");

  /* The same receipt twice (a retry after a crash) is fine and changes nothing. */
  if (batch->state == PM_UPLOAD_BATCH_ACKED)
    return TRUE;

  log = pm_store_prepare (db, "INSERT INTO ack_log (batch_id, receipt, first_seq, "
                              "last_seq, count, acked_at) VALUES (?, ?, ?, ?, ?, ?)",
                          error);
  if (log == NULL)
    return FALSE;
  sqlite3_bind_text (log, 1, batch->id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (log, 2, receipt->receipt != NULL ? receipt->receipt : "", -1,
                     SQLITE_TRANSIENT);
  sqlite3_bind_int64 (log, 3, batch->first_seq);
  sqlite3_bind_int64 (log, 4, batch->last_seq);
  sqlite3_bind_int64 (log, 5, batch->count);
  sqlite3_bind_int64 (log, 6, now);
  if (!pm_store_step_done (db, log, "Could not record the upload receipt", error))
    return FALSE;

  del = pm_store_prepare (db, "DELETE FROM upload_records WHERE batch_id = ?", error);
  if (del == NULL)
    return FALSE;
  sqlite3_bind_text (del, 1, batch->id, -1, SQLITE_TRANSIENT);
  if (!pm_store_step_done (db, del, "Could not remove the uploaded records", error))
    return FALSE;
  if (sqlite3_changes (db) != batch->count)
    {
      g_set_error (error, PM_STORE_ERROR, PM_STORE_ERROR_FAILED,
                   "Upload batch %s should hold %" G_GINT64_FORMAT " records but holds "
                   "%d; nothing was removed. Call support",
                   batch->id, batch->count, sqlite3_changes (db));
      return FALSE;
    }

  mark = pm_store_prepare (db, "UPDATE upload_batches SET state = 'ACKED', "
                               "receipt = ?, acked_at = ?, payload = NULL "
                               "WHERE id = ?", error);
  if (mark == NULL)
    return FALSE;
  sqlite3_bind_text (mark, 1, receipt->receipt != NULL ? receipt->receipt : "", -1,
                     SQLITE_TRANSIENT);
  sqlite3_bind_int64 (mark, 2, now);
  sqlite3_bind_text (mark, 3, batch->id, -1, SQLITE_TRANSIENT);
  return pm_store_step_done (db, mark, "Could not record the upload receipt", error);
}

gboolean
pm_store_acknowledge_upload (PmStore                *store,
                             const PmUploadReceipt  *receipt,
                             GError                **error)
{
  g_return_val_if_fail (PM_IS_STORE (store), FALSE);
  g_return_val_if_fail (receipt != NULL && receipt->batch_id != NULL, FALSE);

  if (!pm_store_run_sync (store, ack_work, (gpointer) receipt, NULL, error))
    return FALSE;

  g_message ("Upload batch %s acknowledged (records %" G_GINT64_FORMAT " to %"
             G_GINT64_FORMAT ")", receipt->batch_id, receipt->first_seq,
             receipt->last_seq);
  return TRUE;
}

/* ---- Backlog ---- */

typedef struct
{
  gint64 oldest;
  gint64 waiting;
  gint64 last_ack;
} BacklogData;

static gboolean
backlog_work (sqlite3  *db,
              gpointer  data,
              GError  **error)
{
  BacklogData *backlog = data;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  PM_STORE_ASSERT_THREAD ();

  stmt = pm_store_prepare (db, "SELECT coalesce (min (created_at), 0), count (*) "
                               "FROM upload_records", error);
  if (stmt == NULL)
    return FALSE;
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    return pm_store_set_error_from_sqlite (error, db, rc, "Could not read the outbox");

  backlog->oldest = sqlite3_column_int64 (stmt, 0);
  backlog->waiting = sqlite3_column_int64 (stmt, 1);
  g_clear_pointer (&stmt, sqlite3_finalize);

  stmt = pm_store_prepare (db, "SELECT coalesce (max (acked_at), 0) FROM ack_log", error);
  if (stmt == NULL)
    return FALSE;
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    return pm_store_set_error_from_sqlite (error, db, rc, "Could not read the outbox");
  backlog->last_ack = sqlite3_column_int64 (stmt, 0);
  return TRUE;
}

gboolean
pm_store_get_upload_state (PmStore  *store,
                           gint64   *out_oldest_created_at_us,
                           gint64   *out_waiting,
                           gint64   *out_last_ack_us,
                           GError  **error)
{
  BacklogData data = { 0, 0, 0 };

  g_return_val_if_fail (PM_IS_STORE (store), FALSE);

  if (!pm_store_run_sync (store, backlog_work, &data, NULL, error))
    return FALSE;

  if (out_oldest_created_at_us != NULL)
    *out_oldest_created_at_us = data.oldest;
  if (out_waiting != NULL)
    *out_waiting = data.waiting;
  if (out_last_ack_us != NULL)
    *out_last_ack_us = data.last_ack;
  return TRUE;
}

gboolean
pm_store_get_upload_backlog (PmStore  *store,
                             gint64   *out_oldest_created_at_us,
                             gint64   *out_waiting,
                             GError  **error)
{
  BacklogData data = { 0, 0 };

  g_return_val_if_fail (PM_IS_STORE (store), FALSE);

  if (!pm_store_run_sync (store, backlog_work, &data, NULL, error))
    return FALSE;

  if (out_oldest_created_at_us != NULL)
    *out_oldest_created_at_us = data.oldest;
  if (out_waiting != NULL)
    *out_waiting = data.waiting;
  return TRUE;
}

void
pm_store_get_upload_backlog_async (PmStore             *store,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_return_if_fail (PM_IS_STORE (store));

  pm_store_call_async (store, backlog_work, g_new0 (BacklogData, 1), g_free,
                       cancellable, callback, user_data,
                       pm_store_get_upload_backlog_async);
}

gboolean
pm_store_get_upload_backlog_finish (PmStore       *store,
                                    GAsyncResult  *result,
                                    gint64        *out_oldest_created_at_us,
                                    gint64        *out_waiting,
                                    GError       **error)
{
  BacklogData *data = pm_store_call_finish (store, result,
                                            pm_store_get_upload_backlog_async, error);

  if (data == NULL)
    return FALSE;

  if (out_oldest_created_at_us != NULL)
    *out_oldest_created_at_us = data->oldest;
  if (out_waiting != NULL)
    *out_waiting = data->waiting;
  return TRUE;
}
