/* pm-store-pieces.c: pieces and print jobs
 *
 * Work functions run on the store thread; the blocking and async wrappers only queue
 * work.
 */
#include "pm-store-pieces.h"

#include "pm-clock.h"
#include "pm-store-outbox.h"
#include "pm-store-private.h"

static const char *const mode_names[] = {
  "postage", "additional", "key-in", "re-date", "date-stamp", "graphic",
};
static const char *const print_state_names[] = {
  "pending", "printed", "failed", "unknown",
};
static const char *const job_kind_names[] = { "envelope", "label", "report" };
static const char *const job_state_names[] = {
  "queued", "printing", "done", "failed", "cancelled",
};
static const char *const ink_source_names[] = { "none", "model", "printer" };

static gboolean
name_index (const char *const *names,
            gsize              n_names,
            const char        *text,
            int               *out_index)
{
  for (gsize i = 0; i < n_names; i++)
    if (g_strcmp0 (names[i], text) == 0)
      {
        *out_index = (int) i;
        return TRUE;
      }

  return FALSE;
}

const char *
pm_piece_mode_to_string (PmPieceMode mode)
{
  g_return_val_if_fail ((gsize) mode < G_N_ELEMENTS (mode_names), NULL);
  return mode_names[mode];
}

gboolean
pm_piece_mode_from_string (const char  *text,
                           PmPieceMode *out_mode)
{
  int index;

  if (!name_index (mode_names, G_N_ELEMENTS (mode_names), text, &index))
    return FALSE;
  *out_mode = index;
  return TRUE;
}

const char *
pm_print_state_to_string (PmPrintState state)
{
  g_return_val_if_fail ((gsize) state < G_N_ELEMENTS (print_state_names), NULL);
  return print_state_names[state];
}

gboolean
pm_print_state_from_string (const char   *text,
                            PmPrintState *out_state)
{
  int index;

  if (!name_index (print_state_names, G_N_ELEMENTS (print_state_names), text, &index))
    return FALSE;
  *out_state = index;
  return TRUE;
}

PmPiece *
pm_piece_new (void)
{
  return g_new0 (PmPiece, 1);
}

PmPiece *
pm_piece_copy (const PmPiece *piece)
{
  PmPiece *copy;

  g_return_val_if_fail (piece != NULL, NULL);

  copy = g_new (PmPiece, 1);
  *copy = *piece;
  copy->psd_serial = g_strdup (piece->psd_serial);
  copy->class_code = g_strdup (piece->class_code);
  copy->services = g_strdup (piece->services);
  copy->weight = g_strdup (piece->weight);
  copy->origin_zip = g_strdup (piece->origin_zip);
  copy->destination_zip = g_strdup (piece->destination_zip);
  copy->indicium = piece->indicium != NULL ? g_bytes_ref (piece->indicium) : NULL;
  copy->print_detail = g_strdup (piece->print_detail);
  return copy;
}

void
pm_piece_free (PmPiece *piece)
{
  if (piece == NULL)
    return;

  g_free (piece->psd_serial);
  g_free (piece->class_code);
  g_free (piece->services);
  g_free (piece->weight);
  g_free (piece->origin_zip);
  g_free (piece->destination_zip);
  g_clear_pointer (&piece->indicium, g_bytes_unref);
  g_free (piece->print_detail);
  g_free (piece);
}

void
pm_piece_day_free (PmPieceDay *day)
{
  if (day == NULL)
    return;

  g_clear_pointer (&day->pieces, g_ptr_array_unref);
  g_free (day);
}

static const char *
or_empty (const char *text)
{
  return text != NULL ? text : "";
}

static char *
column_dup (sqlite3_stmt *stmt,
            int           column)
{
  const char *text = (const char *) sqlite3_column_text (stmt, column);

  return text != NULL && *text != '\0' ? g_strdup (text) : NULL;
}

static void
bind_id_or_null (sqlite3_stmt *stmt,
                 int           index,
                 gint64        id)
{
  if (id > 0)
    sqlite3_bind_int64 (stmt, index, id);
  else
    sqlite3_bind_null (stmt, index);
}

#define PIECE_COLUMNS \
  "id, psd_serial, piece_count, ascending_after, descending_after, postage_mills, " \
  "date_of_mailing, mode, class_code, services, weight, origin_zip, destination_zip, " \
  "account_id, user_id, indicium, print_state, print_detail, created_at, printed_at"

static PmPiece *
piece_from_row (sqlite3_stmt *stmt)
{
  PmPiece *piece = pm_piece_new ();
  const void *blob;

  piece->id = sqlite3_column_int64 (stmt, 0);
  piece->psd_serial = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
  piece->piece_count = sqlite3_column_int64 (stmt, 2);
  piece->ascending_after = sqlite3_column_int64 (stmt, 3);
  piece->descending_after = sqlite3_column_int64 (stmt, 4);
  piece->postage = sqlite3_column_int64 (stmt, 5);
  piece->date_of_mailing = (guint32) sqlite3_column_int64 (stmt, 6);
  if (!pm_piece_mode_from_string ((const char *) sqlite3_column_text (stmt, 7),
                                  &piece->mode))
    piece->mode = PM_PIECE_MODE_POSTAGE;
  piece->class_code = column_dup (stmt, 8);
  piece->services = column_dup (stmt, 9);
  piece->weight = column_dup (stmt, 10);
  piece->origin_zip = column_dup (stmt, 11);
  piece->destination_zip = column_dup (stmt, 12);
  piece->account_id = sqlite3_column_int64 (stmt, 13);
  piece->user_id = sqlite3_column_int64 (stmt, 14);
  blob = sqlite3_column_blob (stmt, 15);
  if (blob != NULL)
    piece->indicium = g_bytes_new (blob, sqlite3_column_bytes (stmt, 15));
  if (!pm_print_state_from_string ((const char *) sqlite3_column_text (stmt, 16),
                                   &piece->print_state))
    piece->print_state = PM_PRINT_STATE_UNKNOWN;
  piece->print_detail = column_dup (stmt, 17);
  piece->created_at = sqlite3_column_int64 (stmt, 18);
  piece->printed_at = sqlite3_column_int64 (stmt, 19);
  return piece;
}

static gboolean
check_piece (const PmPiece  *piece,
             GError        **error)
{
  const char *problem = NULL;
  guint32 d = piece->date_of_mailing;

  if (piece->psd_serial == NULL || *piece->psd_serial == '\0')
    problem = "it names no postage device";
  else if (piece->piece_count < 0)
    problem = "its piece count is negative";
  else if (piece->postage < 0 || piece->ascending_after < 0)
    problem = "an amount is negative";
  else if ((gsize) piece->mode >= G_N_ELEMENTS (mode_names))
    problem = "its print mode is unknown";
  else if ((gsize) piece->print_state >= G_N_ELEMENTS (print_state_names))
    problem = "its print state is unknown";
  else if (!g_date_valid_dmy (d % 100, (d / 100) % 100, d / 10000))
    problem = "its date of mailing is not a date";

  if (problem == NULL)
    return TRUE;

  g_set_error (error, PM_STORE_ERROR, PM_STORE_ERROR_INVALID,
               "The piece was not recorded: %s. This is a fault in Postmeter; call "
               "support",
               problem);
  return FALSE;
}

/* The stored row for the same debit, or NULL (error unset) when there is none. */
static PmPiece *
find_debit (sqlite3     *db,
            const char  *psd_serial,
            gint64       piece_count,
            GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  stmt = pm_store_prepare (db, "SELECT " PIECE_COLUMNS " FROM pieces "
                               "WHERE psd_serial = ? AND piece_count = ?", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, psd_serial, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 2, piece_count);

  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    return piece_from_row (stmt);
  if (rc != SQLITE_DONE)
    pm_store_set_error_from_sqlite (error, db, rc, "Could not look up the piece");
  return NULL;
}

gboolean
pm_store_pieces_insert (sqlite3   *db,
                        PmPiece   *piece,
                        gboolean  *out_already,
                        GError   **error)
{
  g_autoptr(PmPiece) existing = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  GError *local_error = NULL;

  PM_STORE_ASSERT_THREAD ();
  g_return_val_if_fail (piece != NULL, FALSE);

  if (out_already != NULL)
    *out_already = FALSE;

  if (!check_piece (piece, error))
    return FALSE;

  existing = find_debit (db, piece->psd_serial, piece->piece_count, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return FALSE;
    }

  if (existing != NULL)
    {
      if (existing->postage != piece->postage
          || existing->ascending_after != piece->ascending_after
          || existing->descending_after != piece->descending_after)
        {
          g_set_error (error, PM_STORE_ERROR, PM_STORE_ERROR_CONSTRAINT,
                       "Debit %" G_GINT64_FORMAT " of postage device %s is already "
                       "recorded with other amounts. Printing is stopped; call "
                       "support to reconcile the device with the records",
                       piece->piece_count, piece->psd_serial);
          return FALSE;
        }

      piece->id = existing->id;
      if (out_already != NULL)
        *out_already = TRUE;
      return TRUE;
    }

  if (piece->created_at == 0)
    piece->created_at = pm_clock_now_us ();

  stmt = pm_store_prepare (db, "INSERT INTO pieces (psd_serial, piece_count, "
                               "ascending_after, descending_after, postage_mills, "
                               "date_of_mailing, mode, class_code, services, weight, "
                               "origin_zip, destination_zip, account_id, user_id, "
                               "indicium, print_state, print_detail, created_at, "
                               "printed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                               "?, ?, ?, ?, ?, ?, ?, ?)", error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_text (stmt, 1, piece->psd_serial, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 2, piece->piece_count);
  sqlite3_bind_int64 (stmt, 3, piece->ascending_after);
  sqlite3_bind_int64 (stmt, 4, piece->descending_after);
  sqlite3_bind_int64 (stmt, 5, piece->postage);
  sqlite3_bind_int64 (stmt, 6, piece->date_of_mailing);
  sqlite3_bind_text (stmt, 7, mode_names[piece->mode], -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 8, or_empty (piece->class_code), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 9, or_empty (piece->services), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 10, or_empty (piece->weight), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 11, or_empty (piece->origin_zip), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 12, or_empty (piece->destination_zip), -1, SQLITE_TRANSIENT);
  bind_id_or_null (stmt, 13, piece->account_id);
  bind_id_or_null (stmt, 14, piece->user_id);
  if (piece->indicium != NULL)
    {
      gsize size;
      gconstpointer bytes = g_bytes_get_data (piece->indicium, &size);

      sqlite3_bind_blob (stmt, 15, bytes, (int) size, SQLITE_TRANSIENT);
    }
  else
    sqlite3_bind_null (stmt, 15);
  sqlite3_bind_text (stmt, 16, print_state_names[piece->print_state], -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 17, or_empty (piece->print_detail), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 18, piece->created_at);
  bind_id_or_null (stmt, 19, piece->printed_at);

  if (!pm_store_step_done (db, stmt, "Could not record the piece", error))
    return FALSE;

  piece->id = sqlite3_last_insert_rowid (db);
  return TRUE;
}

gboolean
pm_store_pieces_set_print_state (sqlite3       *db,
                                 gint64         piece_id,
                                 PmPrintState   state,
                                 const char    *detail,
                                 GError       **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  PM_STORE_ASSERT_THREAD ();
  g_return_val_if_fail ((gsize) state < G_N_ELEMENTS (print_state_names), FALSE);

  stmt = pm_store_prepare (db, "UPDATE pieces SET print_state = ?, print_detail = ?, "
                               "printed_at = CASE WHEN ?3 = 'printed' THEN ? "
                               "ELSE printed_at END WHERE id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, print_state_names[state], -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, or_empty (detail), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, print_state_names[state], -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 4, pm_clock_now_us ());
  sqlite3_bind_int64 (stmt, 5, piece_id);

  if (!pm_store_step_done (db, stmt, "Could not record whether the piece printed",
                           error))
    return FALSE;

  if (sqlite3_changes (db) == 0)
    {
      g_set_error (error, PM_STORE_ERROR, PM_STORE_ERROR_NOT_FOUND,
                   "There is no piece number %" G_GINT64_FORMAT, piece_id);
      return FALSE;
    }

  return TRUE;
}

gboolean
pm_store_pieces_max_count (sqlite3     *db,
                           const char  *psd_serial,
                           gint64      *out_piece_count,
                           GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  PM_STORE_ASSERT_THREAD ();

  stmt = pm_store_prepare (db, "SELECT coalesce (max (piece_count), 0) FROM pieces "
                               "WHERE psd_serial = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, psd_serial, -1, SQLITE_TRANSIENT);

  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    return pm_store_set_error_from_sqlite (error, db, rc, "Could not read the pieces");

  *out_piece_count = sqlite3_column_int64 (stmt, 0);
  return TRUE;
}

/* ---- Blocking and async wrappers ---- */

typedef struct
{
  PmPiece  *piece;
  GBytes   *payload;
  gboolean  already;
  gint64    seq;
} InsertData;

static gboolean
insert_work (sqlite3  *db,
             gpointer  data,
             GError  **error)
{
  InsertData *insert = data;

  if (!pm_store_pieces_insert (db, insert->piece, &insert->already, error))
    return FALSE;

  if (insert->payload == NULL)
    return TRUE;

  if (insert->already)
    {
      g_autoptr(sqlite3_stmt) stmt = NULL;

      /* The record went in with the first insert; report its seq. */
      stmt = pm_store_prepare (db, "SELECT seq FROM upload_records WHERE piece_id = ?",
                               error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, insert->piece->id);
      insert->seq = sqlite3_step (stmt) == SQLITE_ROW ? sqlite3_column_int64 (stmt, 0)
                                                      : 0;
      return TRUE;
    }

  return pm_store_outbox_enqueue (db, insert->payload, insert->piece->id, &insert->seq,
                                  error);
}

gboolean
pm_store_insert_piece (PmStore   *store,
                       PmPiece   *piece,
                       gboolean  *out_already,
                       GError   **error)
{
  InsertData data = { piece, NULL, FALSE, 0 };

  g_return_val_if_fail (PM_IS_STORE (store), FALSE);
  g_return_val_if_fail (piece != NULL, FALSE);

  if (!pm_store_run_sync (store, insert_work, &data, NULL, error))
    return FALSE;

  if (out_already != NULL)
    *out_already = data.already;
  return TRUE;
}

gboolean
pm_store_insert_piece_with_upload (PmStore   *store,
                                   PmPiece   *piece,
                                   GBytes    *record_payload,
                                   gboolean  *out_already,
                                   gint64    *out_seq,
                                   GError   **error)
{
  InsertData data = { piece, record_payload, FALSE, 0 };

  g_return_val_if_fail (PM_IS_STORE (store), FALSE);
  g_return_val_if_fail (piece != NULL, FALSE);
  g_return_val_if_fail (record_payload != NULL, FALSE);

  if (!pm_store_run_sync (store, insert_work, &data, NULL, error))
    return FALSE;

  if (out_already != NULL)
    *out_already = data.already;
  if (out_seq != NULL)
    *out_seq = data.seq;
  return TRUE;
}

typedef struct
{
  gint64        piece_id;
  PmPrintState  state;
  const char   *detail;
} StateData;

static gboolean
state_work (sqlite3  *db,
            gpointer  data,
            GError  **error)
{
  StateData *state = data;

  return pm_store_pieces_set_print_state (db, state->piece_id, state->state,
                                          state->detail, error);
}

gboolean
pm_store_set_print_state (PmStore       *store,
                          gint64         piece_id,
                          PmPrintState   state,
                          const char    *detail,
                          GError       **error)
{
  StateData data = { piece_id, state, detail };

  g_return_val_if_fail (PM_IS_STORE (store), FALSE);

  return pm_store_run_sync (store, state_work, &data, NULL, error);
}

typedef struct
{
  const char *psd_serial;
  gint64      count;
} MaxData;

static gboolean
max_work (sqlite3  *db,
          gpointer  data,
          GError  **error)
{
  MaxData *max = data;

  return pm_store_pieces_max_count (db, max->psd_serial, &max->count, error);
}

gboolean
pm_store_get_max_piece_count (PmStore     *store,
                              const char  *psd_serial,
                              gint64      *out_piece_count,
                              GError     **error)
{
  MaxData data = { psd_serial, 0 };

  g_return_val_if_fail (PM_IS_STORE (store), FALSE);
  g_return_val_if_fail (psd_serial != NULL, FALSE);

  if (!pm_store_run_sync (store, max_work, &data, NULL, error))
    return FALSE;

  *out_piece_count = data.count;
  return TRUE;
}

typedef struct
{
  const char *psd_serial;
  gint64      piece_count;
  PmPiece    *piece;      /* out */
} GetData;

static gboolean
get_work (sqlite3  *db,
          gpointer  data,
          GError  **error)
{
  GetData *get = data;
  GError *local_error = NULL;

  PM_STORE_ASSERT_THREAD ();

  get->piece = find_debit (db, get->psd_serial, get->piece_count, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return FALSE;
    }
  if (get->piece == NULL)
    {
      g_set_error (error, PM_STORE_ERROR, PM_STORE_ERROR_NOT_FOUND,
                   "Debit %" G_GINT64_FORMAT " of postage device %s is not recorded",
                   get->piece_count, get->psd_serial);
      return FALSE;
    }
  return TRUE;
}

PmPiece *
pm_store_get_piece (PmStore     *store,
                    const char  *psd_serial,
                    gint64       piece_count,
                    GError     **error)
{
  GetData data = { psd_serial, piece_count, NULL };

  g_return_val_if_fail (PM_IS_STORE (store), NULL);
  g_return_val_if_fail (psd_serial != NULL, NULL);

  if (!pm_store_run_sync (store, get_work, &data, NULL, error))
    return NULL;
  return data.piece;
}

static gboolean
interrupted_work (sqlite3  *db,
                  gpointer  data,
                  GError  **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  PM_STORE_ASSERT_THREAD ();

  stmt = pm_store_prepare (db, "UPDATE pieces SET print_state = 'unknown', "
                               "print_detail = 'Postmeter stopped before the printer "
                               "confirmed this piece' WHERE print_state = 'pending'",
                           error);
  if (stmt == NULL)
    return FALSE;
  if (!pm_store_step_done (db, stmt, "Could not update the interrupted pieces", error))
    return FALSE;

  *(gint64 *) data = sqlite3_changes (db);
  return TRUE;
}

gboolean
pm_store_mark_interrupted_pieces (PmStore  *store,
                                  gint64   *out_count,
                                  GError  **error)
{
  gint64 count = 0;

  g_return_val_if_fail (PM_IS_STORE (store), FALSE);

  if (!pm_store_run_sync (store, interrupted_work, &count, NULL, error))
    return FALSE;

  if (count > 0)
    g_message ("%" G_GINT64_FORMAT " pieces were debited but not confirmed printed "
               "before Postmeter stopped; marked for checking", count);
  if (out_count != NULL)
    *out_count = count;
  return TRUE;
}

typedef struct
{
  gint64      from_us;   /* local midnight starting the day */
  gint64      to_us;     /* the next local midnight */
  PmPieceDay *day;
} DayData;

static void
day_data_free (DayData *data)
{
  pm_piece_day_free (data->day);
  g_free (data);
}

static gint64
local_midnight_us (GDate *date)
{
  g_autoptr(GDateTime) midnight =
    g_date_time_new_local (g_date_get_year (date), g_date_get_month (date),
                           g_date_get_day (date), 0, 0, 0);

  return g_date_time_to_unix (midnight) * G_USEC_PER_SEC;
}

static DayData *
day_data_new (GDate *date)
{
  DayData *data = g_new0 (DayData, 1);
  GDate next = *date;

  /* Days are not always 24 hours long: take the next day's midnight. */
  g_date_add_days (&next, 1);
  data->from_us = local_midnight_us (date);
  data->to_us = local_midnight_us (&next);
  return data;
}

static gboolean
day_work (sqlite3  *db,
          gpointer  data,
          GError  **error)
{
  DayData *day_data = data;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  PmPieceDay *day;
  int rc;

  PM_STORE_ASSERT_THREAD ();

  stmt = pm_store_prepare (db, "SELECT " PIECE_COLUMNS " FROM pieces "
                               "WHERE created_at >= ? AND created_at < ? "
                               "ORDER BY created_at, id", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, day_data->from_us);
  sqlite3_bind_int64 (stmt, 2, day_data->to_us);

  day = g_new0 (PmPieceDay, 1);
  day->pieces = g_ptr_array_new_with_free_func ((GDestroyNotify) pm_piece_free);
  day_data->day = day;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      PmPiece *piece = piece_from_row (stmt);

      day->count++;
      day->postage_total += piece->postage;
      if (piece->print_state == PM_PRINT_STATE_PRINTED)
        day->printed++;
      else if (piece->print_state == PM_PRINT_STATE_FAILED)
        day->failed++;
      else
        day->pending++;
      g_ptr_array_add (day->pieces, piece);
    }

  if (rc != SQLITE_DONE)
    return pm_store_set_error_from_sqlite (error, db, rc, "Could not read the day's pieces");
  return TRUE;
}

PmPieceDay *
pm_store_list_day (PmStore  *store,
                   GDate    *day,
                   GError  **error)
{
  DayData *data;
  PmPieceDay *result = NULL;

  g_return_val_if_fail (PM_IS_STORE (store), NULL);
  g_return_val_if_fail (day != NULL && g_date_valid (day), NULL);

  data = day_data_new (day);
  if (pm_store_run_sync (store, day_work, data, NULL, error))
    result = g_steal_pointer (&data->day);
  day_data_free (data);
  return result;
}

void
pm_store_list_day_async (PmStore             *store,
                         GDate               *day,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  g_return_if_fail (PM_IS_STORE (store));
  g_return_if_fail (day != NULL && g_date_valid (day));

  pm_store_call_async (store, day_work, day_data_new (day),
                       (GDestroyNotify) day_data_free, cancellable, callback, user_data,
                       pm_store_list_day_async);
}

PmPieceDay *
pm_store_list_day_finish (PmStore       *store,
                          GAsyncResult  *result,
                          GError       **error)
{
  DayData *data = pm_store_call_finish (store, result, pm_store_list_day_async, error);

  return data != NULL ? g_steal_pointer (&data->day) : NULL;
}

/* ---- Print jobs ---- */

void
pm_store_print_job_free (PmStorePrintJob *job)
{
  if (job == NULL)
    return;

  g_free (job->printer);
  g_free (job->detail);
  g_free (job->printer_job_ref);
  g_free (job);
}

static gboolean
job_insert_work (sqlite3  *db,
                 gpointer  data,
                 GError  **error)
{
  PmStorePrintJob *job = data;
  g_autoptr(sqlite3_stmt) stmt = NULL;

  PM_STORE_ASSERT_THREAD ();

  if (job->created_at == 0)
    job->created_at = pm_clock_now_us ();
  /* The two ink figures say the same thing at two precisions. */
  if (job->ink_nanolitres == 0 && job->ink_microlitres_estimate > 0)
    job->ink_nanolitres = job->ink_microlitres_estimate * 1000;
  else if (job->ink_nanolitres > 0)
    job->ink_microlitres_estimate = (job->ink_nanolitres + 999) / 1000;

  stmt = pm_store_prepare (db, "INSERT INTO print_jobs (piece_id, printer, kind, "
                               "impressions, ink_microlitres_estimate, state, detail, "
                               "created_at, finished_at, ink_nanolitres, ink_source, "
                               "printer_job_ref) "
                               "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", error);
  if (stmt == NULL)
    return FALSE;
  bind_id_or_null (stmt, 1, job->piece_id);
  sqlite3_bind_text (stmt, 2, job->printer, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, job_kind_names[job->kind], -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 4, job->impressions);
  sqlite3_bind_int64 (stmt, 5, job->ink_microlitres_estimate);
  sqlite3_bind_text (stmt, 6, job_state_names[job->state], -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 7, or_empty (job->detail), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 8, job->created_at);
  bind_id_or_null (stmt, 9, job->finished_at);
  sqlite3_bind_int64 (stmt, 10, job->ink_nanolitres);
  sqlite3_bind_text (stmt, 11, ink_source_names[job->ink_source], -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 12, or_empty (job->printer_job_ref), -1, SQLITE_TRANSIENT);

  if (!pm_store_step_done (db, stmt, "Could not record the print job", error))
    return FALSE;

  job->id = sqlite3_last_insert_rowid (db);
  return TRUE;
}

gboolean
pm_store_print_jobs_insert (sqlite3          *db,
                            PmStorePrintJob  *job,
                            GError          **error)
{
  g_return_val_if_fail (job != NULL && job->printer != NULL, FALSE);
  g_return_val_if_fail ((gsize) job->kind < G_N_ELEMENTS (job_kind_names), FALSE);
  g_return_val_if_fail ((gsize) job->state < G_N_ELEMENTS (job_state_names), FALSE);
  g_return_val_if_fail ((gsize) job->ink_source < G_N_ELEMENTS (ink_source_names), FALSE);
  g_return_val_if_fail (job->impressions >= 0 && job->ink_nanolitres >= 0
                        && job->ink_microlitres_estimate >= 0, FALSE);

  return job_insert_work (db, job, error);
}

gboolean
pm_store_insert_print_job (PmStore     *store,
                           PmStorePrintJob  *job,
                           GError     **error)
{
  g_return_val_if_fail (PM_IS_STORE (store), FALSE);
  g_return_val_if_fail (job != NULL && job->printer != NULL, FALSE);
  g_return_val_if_fail ((gsize) job->kind < G_N_ELEMENTS (job_kind_names), FALSE);
  g_return_val_if_fail ((gsize) job->state < G_N_ELEMENTS (job_state_names), FALSE);
  g_return_val_if_fail ((gsize) job->ink_source < G_N_ELEMENTS (ink_source_names), FALSE);
  g_return_val_if_fail (job->impressions >= 0 && job->ink_nanolitres >= 0
                        && job->ink_microlitres_estimate >= 0, FALSE);

  return pm_store_run_sync (store, job_insert_work, job, NULL, error);
}

typedef struct
{
  gint64           id;
  PmStorePrintJobState  state;
  gint64           impressions;
  gint64           ink;
  const char      *detail;
  PmStorePrintJob      *job;     /* out, for get */
} JobData;

static gboolean
job_update_work (sqlite3  *db,
                 gpointer  data,
                 GError  **error)
{
  JobData *update = data;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gboolean finished = update->state >= PM_STORE_PRINT_JOB_DONE;

  PM_STORE_ASSERT_THREAD ();

  /* A figure in whole microlitres is an estimate, so its source is the model. */
  stmt = pm_store_prepare (db, "UPDATE print_jobs SET state = ?, impressions = ?, "
                               "ink_microlitres_estimate = ?, detail = ?, "
                               "finished_at = CASE WHEN ? THEN ? ELSE NULL END, "
                               "ink_nanolitres = ?3 * 1000, "
                               "ink_source = CASE WHEN ?3 > 0 THEN 'model' ELSE 'none' END "
                               "WHERE id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, job_state_names[update->state], -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, update->impressions);
  sqlite3_bind_int64 (stmt, 3, update->ink);
  sqlite3_bind_text (stmt, 4, or_empty (update->detail), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int (stmt, 5, finished ? 1 : 0);
  sqlite3_bind_int64 (stmt, 6, pm_clock_now_us ());
  sqlite3_bind_int64 (stmt, 7, update->id);

  if (!pm_store_step_done (db, stmt, "Could not update the print job", error))
    return FALSE;
  if (sqlite3_changes (db) == 0)
    {
      g_set_error (error, PM_STORE_ERROR, PM_STORE_ERROR_NOT_FOUND,
                   "There is no print job number %" G_GINT64_FORMAT, update->id);
      return FALSE;
    }
  return TRUE;
}

gboolean
pm_store_update_print_job (PmStore          *store,
                           gint64            job_id,
                           PmStorePrintJobState   state,
                           gint64            impressions,
                           gint64            ink_microlitres_estimate,
                           const char       *detail,
                           GError          **error)
{
  JobData data = { job_id, state, impressions, ink_microlitres_estimate, detail, NULL };

  g_return_val_if_fail (PM_IS_STORE (store), FALSE);
  g_return_val_if_fail ((gsize) state < G_N_ELEMENTS (job_state_names), FALSE);
  g_return_val_if_fail (impressions >= 0 && ink_microlitres_estimate >= 0, FALSE);

  return pm_store_run_sync (store, job_update_work, &data, NULL, error);
}

static gboolean
job_get_work (sqlite3  *db,
              gpointer  data,
              GError  **error)
{
  JobData *get = data;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  PmStorePrintJob *job;
  int index;
  int rc;

  PM_STORE_ASSERT_THREAD ();

  stmt = pm_store_prepare (db, "SELECT id, piece_id, printer, kind, impressions, "
                               "ink_microlitres_estimate, state, detail, created_at, "
                               "finished_at, ink_nanolitres, ink_source, printer_job_ref "
                               "FROM print_jobs WHERE id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, get->id);

  rc = sqlite3_step (stmt);
  if (rc == SQLITE_DONE)
    {
      g_set_error (error, PM_STORE_ERROR, PM_STORE_ERROR_NOT_FOUND,
                   "There is no print job number %" G_GINT64_FORMAT, get->id);
      return FALSE;
    }
  if (rc != SQLITE_ROW)
    return pm_store_set_error_from_sqlite (error, db, rc, "Could not read the print job");

  job = g_new0 (PmStorePrintJob, 1);
  job->id = sqlite3_column_int64 (stmt, 0);
  job->piece_id = sqlite3_column_int64 (stmt, 1);
  job->printer = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
  if (name_index (job_kind_names, G_N_ELEMENTS (job_kind_names),
                  (const char *) sqlite3_column_text (stmt, 3), &index))
    job->kind = index;
  job->impressions = sqlite3_column_int64 (stmt, 4);
  job->ink_microlitres_estimate = sqlite3_column_int64 (stmt, 5);
  if (name_index (job_state_names, G_N_ELEMENTS (job_state_names),
                  (const char *) sqlite3_column_text (stmt, 6), &index))
    job->state = index;
  job->detail = column_dup (stmt, 7);
  job->created_at = sqlite3_column_int64 (stmt, 8);
  job->finished_at = sqlite3_column_int64 (stmt, 9);
  job->ink_nanolitres = sqlite3_column_int64 (stmt, 10);
  if (name_index (ink_source_names, G_N_ELEMENTS (ink_source_names),
                  (const char *) sqlite3_column_text (stmt, 11), &index))
    job->ink_source = index;
  job->printer_job_ref = column_dup (stmt, 12);
  get->job = job;
  return TRUE;
}

PmStorePrintJob *
pm_store_get_print_job (PmStore  *store,
                        gint64    job_id,
                        GError  **error)
{
  JobData data = { job_id, 0, 0, 0, NULL, NULL };

  g_return_val_if_fail (PM_IS_STORE (store), NULL);

  if (!pm_store_run_sync (store, job_get_work, &data, NULL, error))
    {
      pm_store_print_job_free (data.job);
      return NULL;
    }
  return data.job;
}

const char *
pm_store_ink_source_to_string (PmStoreInkSource source)
{
  g_return_val_if_fail ((gsize) source < G_N_ELEMENTS (ink_source_names), "none");
  return ink_source_names[source];
}

typedef struct
{
  gint64                   id;
  PmStorePrintJobState     state;
  const PmStorePrintUsage *usage;
  const char              *detail;
} UsageData;

static gboolean
usage_record_work (sqlite3  *db,
                   gpointer  data,
                   GError  **error)
{
  UsageData *record = data;
  const PmStorePrintUsage *usage = record->usage;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gboolean finished = record->state >= PM_STORE_PRINT_JOB_DONE;

  PM_STORE_ASSERT_THREAD ();

  stmt = pm_store_prepare (db, "UPDATE print_jobs SET state = ?, impressions = ?, "
                               "ink_nanolitres = ?, ink_microlitres_estimate = ?, "
                               "ink_source = ?, printer_job_ref = ?, detail = ?, "
                               "finished_at = CASE WHEN ? THEN ? ELSE NULL END "
                               "WHERE id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, job_state_names[record->state], -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, usage->impressions);
  sqlite3_bind_int64 (stmt, 3, usage->ink_nanolitres);
  sqlite3_bind_int64 (stmt, 4, (usage->ink_nanolitres + 999) / 1000);
  sqlite3_bind_text (stmt, 5, ink_source_names[usage->ink_source], -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 6, or_empty (usage->printer_job_ref), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 7, or_empty (record->detail), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int (stmt, 8, finished ? 1 : 0);
  sqlite3_bind_int64 (stmt, 9, pm_clock_now_us ());
  sqlite3_bind_int64 (stmt, 10, record->id);

  if (!pm_store_step_done (db, stmt, "Could not record the print job's usage", error))
    return FALSE;
  if (sqlite3_changes (db) == 0)
    {
      g_set_error (error, PM_STORE_ERROR, PM_STORE_ERROR_NOT_FOUND,
                   "There is no print job number %" G_GINT64_FORMAT, record->id);
      return FALSE;
    }
  return TRUE;
}

gboolean
pm_store_record_print_usage (PmStore                 *store,
                             gint64                   job_id,
                             PmStorePrintJobState     state,
                             const PmStorePrintUsage *usage,
                             const char              *detail,
                             GError                 **error)
{
  UsageData data = { job_id, state, usage, detail };

  g_return_val_if_fail (PM_IS_STORE (store), FALSE);
  g_return_val_if_fail (usage != NULL, FALSE);
  g_return_val_if_fail ((gsize) state < G_N_ELEMENTS (job_state_names), FALSE);
  g_return_val_if_fail ((gsize) usage->ink_source < G_N_ELEMENTS (ink_source_names), FALSE);

  if (usage->impressions < 0 || usage->ink_nanolitres < 0
      || (usage->ink_source == PM_STORE_INK_NONE && usage->ink_nanolitres > 0))
    {
      g_set_error (error, PM_STORE_ERROR, PM_STORE_ERROR_INVALID,
                   "Print job %" G_GINT64_FORMAT ": %" G_GINT64_FORMAT " impressions and "
                   "%" G_GINT64_FORMAT " nl of ink from %s cannot be recorded",
                   job_id, usage->impressions, usage->ink_nanolitres,
                   ink_source_names[usage->ink_source]);
      return FALSE;
    }

  return pm_store_run_sync (store, usage_record_work, &data, NULL, error);
}

typedef struct
{
  const char              *printer;
  gint64                   from_us;
  gint64                   to_us;
  PmStorePrintUsageTotals  totals;
} SumData;

static gboolean
usage_sum_work (sqlite3  *db,
                gpointer  data,
                GError  **error)
{
  SumData *sum = data;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  PM_STORE_ASSERT_THREAD ();

  stmt = pm_store_prepare (db, "SELECT count(*), "
                               "coalesce (sum (state = 'done'), 0), "
                               "coalesce (sum (state IN ('failed', 'cancelled')), 0), "
                               "coalesce (sum (impressions), 0), "
                               "coalesce (sum (ink_nanolitres), 0), "
                               "coalesce (sum (CASE WHEN ink_source = 'printer' "
                               "               THEN ink_nanolitres ELSE 0 END), 0) "
                               "FROM print_jobs "
                               "WHERE created_at >= ? AND created_at < ? "
                               "AND (?3 IS NULL OR printer = ?3)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, sum->from_us);
  sqlite3_bind_int64 (stmt, 2, sum->to_us);
  if (sum->printer != NULL)
    sqlite3_bind_text (stmt, 3, sum->printer, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null (stmt, 3);

  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    return pm_store_set_error_from_sqlite (error, db, rc, "Could not add up printer usage");

  sum->totals.jobs = sqlite3_column_int64 (stmt, 0);
  sum->totals.jobs_done = sqlite3_column_int64 (stmt, 1);
  sum->totals.jobs_failed = sqlite3_column_int64 (stmt, 2);
  sum->totals.impressions = sqlite3_column_int64 (stmt, 3);
  sum->totals.ink_nanolitres = sqlite3_column_int64 (stmt, 4);
  sum->totals.ink_nanolitres_measured = sqlite3_column_int64 (stmt, 5);
  return TRUE;
}

gboolean
pm_store_sum_print_usage (PmStore                 *store,
                          const char              *printer,
                          gint64                   from_us,
                          gint64                   to_us,
                          PmStorePrintUsageTotals *out_totals,
                          GError                 **error)
{
  SumData data = { printer, from_us, to_us, { 0 } };

  g_return_val_if_fail (PM_IS_STORE (store), FALSE);
  g_return_val_if_fail (out_totals != NULL, FALSE);
  g_return_val_if_fail (from_us <= to_us, FALSE);

  memset (out_totals, 0, sizeof *out_totals);
  if (!pm_store_run_sync (store, usage_sum_work, &data, NULL, error))
    return FALSE;

  *out_totals = data.totals;
  return TRUE;
}
