/* test-store-records.c: pieces, print jobs, the upload outbox, refills, packages,
 * settings and cost accounts */
#include <glib/gstdio.h>
#include <string.h>

#include "pm-clock.h"
#include "pm-store-audit.h"
#include "pm-store-outbox.h"
#include "pm-store-pieces.h"
#include "pm-store-records.h"

typedef struct
{
  char    *dir;
  char    *path;
  PmStore *store;
} Fixture;

/* 2026-03-02 09:30:00 in Chicago (15:30 UTC), TZ is set by the test environment. */
#define START_US G_GINT64_CONSTANT (1772465400000000)

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  pm_clock_set_override_us (START_US);
  f->dir = g_dir_make_tmp ("pm-records-XXXXXX", &error);
  g_assert_no_error (error);
  f->path = g_build_filename (f->dir, "postmeter.db", NULL);
  f->store = pm_store_open (f->path, &error);
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *wal = g_strconcat (f->path, "-wal", NULL);
  g_autofree char *shm = g_strconcat (f->path, "-shm", NULL);

  g_clear_object (&f->store);
  g_unlink (f->path);
  g_unlink (wal);
  g_unlink (shm);
  g_rmdir (f->dir);
  g_free (f->path);
  g_free (f->dir);
  pm_clock_clear_override ();
}

static gint64
side_int (const char *path,
          const char *sql)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  gint64 value;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  value = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return value;
}

/* A First-Class letter at $0.73 from a PSD that had $100.00. */
static PmPiece *
letter (gint64 piece_count)
{
  PmPiece *piece = pm_piece_new ();

  piece->psd_serial = g_strdup ("SPSD-000042");
  piece->piece_count = piece_count;
  piece->postage = 730;
  piece->ascending_after = 730 * piece_count;
  piece->descending_after = 100000 - 730 * piece_count;
  piece->date_of_mailing = 20260302;
  piece->mode = PM_PIECE_MODE_POSTAGE;
  piece->class_code = g_strdup ("FCM-LETTER");
  piece->weight = g_strdup ("0.8 oz");
  piece->origin_zip = g_strdup ("60601");
  piece->account_id = PM_COST_ACCOUNT_GENERAL_ID;
  piece->indicium = g_bytes_new_static ("\x01\x02\x03", 3);
  return piece;
}

/* ---- Pieces ---- */

static void
test_piece_insert_idempotent (Fixture       *f,
                              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PmPiece) first = letter (1);
  g_autoptr(PmPiece) again = letter (1);
  g_autoptr(PmPiece) other = letter (1);
  gboolean already = TRUE;
  gint64 max = -1;

  g_assert_true (pm_store_insert_piece (f->store, first, &already, &error));
  g_assert_no_error (error);
  g_assert_false (already);
  g_assert_cmpint (first->id, >, 0);
  g_assert_cmpint (first->created_at, ==, START_US);

  g_assert_true (pm_store_insert_piece (f->store, again, &already, &error));
  g_assert_true (already);
  g_assert_cmpint (again->id, ==, first->id);
  g_assert_cmpint (side_int (f->path, "SELECT count(*) FROM pieces"), ==, 1);

  /* The same debit with other amounts is a fault, not a retry. */
  other->postage = 1000;
  g_assert_false (pm_store_insert_piece (f->store, other, &already, &error));
  g_assert_error (error, PM_STORE_ERROR, PM_STORE_ERROR_CONSTRAINT);
  g_clear_error (&error);

  g_assert_true (pm_store_get_max_piece_count (f->store, "SPSD-000042", &max, &error));
  g_assert_cmpint (max, ==, 1);
  g_assert_true (pm_store_get_max_piece_count (f->store, "OTHER", &max, &error));
  g_assert_cmpint (max, ==, 0);
}

static void
test_piece_bad_input (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PmPiece) piece = letter (1);

  piece->date_of_mailing = 20260230;
  g_assert_false (pm_store_insert_piece (f->store, piece, NULL, &error));
  g_assert_error (error, PM_STORE_ERROR, PM_STORE_ERROR_INVALID);
  g_clear_error (&error);

  piece->date_of_mailing = 20260302;
  piece->account_id = 999;   /* no such account: the foreign key refuses it */
  g_assert_false (pm_store_insert_piece (f->store, piece, NULL, &error));
  g_assert_error (error, PM_STORE_ERROR, PM_STORE_ERROR_CONSTRAINT);
  g_assert_cmpint (side_int (f->path, "SELECT count(*) FROM pieces"), ==, 0);
}

static void
test_piece_print_state (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PmPiece) piece = letter (1);
  g_autoptr(GDate) today = NULL;
  g_autoptr(PmPieceDay) day = NULL;

  g_assert_true (pm_store_insert_piece (f->store, piece, NULL, &error));
  pm_clock_advance_s (2);
  g_assert_true (pm_store_set_print_state (f->store, piece->id, PM_PRINT_STATE_PRINTED,
                                           "envelope printer", &error));
  g_assert_no_error (error);

  today = pm_clock_today_local ();
  day = pm_store_list_day (f->store, today, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (day->pieces->len, ==, 1);
  {
    PmPiece *stored = g_ptr_array_index (day->pieces, 0);

    g_assert_cmpint (stored->print_state, ==, PM_PRINT_STATE_PRINTED);
    g_assert_cmpint (stored->printed_at, ==, START_US + 2 * G_USEC_PER_SEC);
    g_assert_cmpstr (stored->print_detail, ==, "envelope printer");
    g_assert_cmpstr (stored->class_code, ==, "FCM-LETTER");
    g_assert_null (stored->destination_zip);
    g_assert_cmpuint (g_bytes_get_size (stored->indicium), ==, 3);
  }

  g_assert_false (pm_store_set_print_state (f->store, 999, PM_PRINT_STATE_FAILED, NULL,
                                            &error));
  g_assert_error (error, PM_STORE_ERROR, PM_STORE_ERROR_NOT_FOUND);
}

static void
test_piece_reconcile (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PmPiece) printed = letter (1);
  g_autoptr(PmPiece) pending = letter (2);
  g_autoptr(PmPiece) stored = NULL;
  gint64 count = -1;

  g_assert_true (pm_store_insert_piece (f->store, printed, NULL, &error));
  g_assert_true (pm_store_insert_piece (f->store, pending, NULL, &error));
  g_assert_true (pm_store_set_print_state (f->store, printed->id, PM_PRINT_STATE_PRINTED,
                                           NULL, &error));

  g_assert_true (pm_store_mark_interrupted_pieces (f->store, &count, &error));
  g_assert_no_error (error);
  g_assert_cmpint (count, ==, 1);

  stored = pm_store_get_piece (f->store, "SPSD-000042", 2, &error);
  g_assert_no_error (error);
  g_assert_cmpint (stored->print_state, ==, PM_PRINT_STATE_UNKNOWN);
  g_assert_cmpint (stored->descending_after, ==, 100000 - 2 * 730);
  g_clear_pointer (&stored, pm_piece_free);

  stored = pm_store_get_piece (f->store, "SPSD-000042", 1, &error);
  g_assert_cmpint (stored->print_state, ==, PM_PRINT_STATE_PRINTED);
  g_clear_pointer (&stored, pm_piece_free);

  stored = pm_store_get_piece (f->store, "SPSD-000042", 3, &error);
  g_assert_null (stored);
  g_assert_error (error, PM_STORE_ERROR, PM_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_assert_true (pm_store_mark_interrupted_pieces (f->store, &count, &error));
  g_assert_cmpint (count, ==, 0);
}

static void
day_cb (GObject      *source,
        GAsyncResult *result,
        gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static void
test_piece_day (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PmPieceDay) day = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  GDate *march2 = g_date_new_dmy (2, G_DATE_MARCH, 2026);
  GDate *march3 = g_date_new_dmy (3, G_DATE_MARCH, 2026);
  /* Local times in Chicago (UTC-6 in March before the change). */
  const gint64 times_s[] = {
    1772431200,        /* 2026-03-02 00:00:00 local: first second of the day */
    1772465400,        /* 09:30 */
    1772517599,        /* 23:59:59 local */
    1772517600,        /* 2026-03-03 00:00:00 local: the next day */
  };
  const PmPrintState states[] = { PM_PRINT_STATE_PRINTED, PM_PRINT_STATE_FAILED,
                                  PM_PRINT_STATE_PENDING, PM_PRINT_STATE_PRINTED };

  for (guint i = 0; i < G_N_ELEMENTS (times_s); i++)
    {
      g_autoptr(PmPiece) piece = letter (i + 1);

      piece->created_at = times_s[i] * G_USEC_PER_SEC;
      piece->print_state = states[i];
      g_assert_true (pm_store_insert_piece (f->store, piece, NULL, &error));
      g_assert_no_error (error);
    }

  day = pm_store_list_day (f->store, march2, &error);
  g_assert_no_error (error);
  g_assert_cmpint (day->count, ==, 3);
  g_assert_cmpint (day->postage_total, ==, 3 * 730);
  g_assert_cmpint (day->printed, ==, 1);
  g_assert_cmpint (day->failed, ==, 1);
  g_assert_cmpint (day->pending, ==, 1);
  g_assert_cmpint (((PmPiece *) day->pieces->pdata[0])->piece_count, ==, 1);
  g_assert_cmpint (((PmPiece *) day->pieces->pdata[2])->piece_count, ==, 3);
  g_clear_pointer (&day, pm_piece_day_free);

  pm_store_list_day_async (f->store, march3, NULL, day_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  day = pm_store_list_day_finish (f->store, result, &error);
  g_assert_no_error (error);
  g_assert_cmpint (day->count, ==, 1);
  g_assert_cmpint (((PmPiece *) day->pieces->pdata[0])->piece_count, ==, 4);

  g_date_free (march2);
  g_date_free (march3);
}

static void
test_piece_day_dst (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PmPieceDay) day = NULL;
  GDate *march8 = g_date_new_dmy (8, G_DATE_MARCH, 2026);
  g_autoptr(PmPiece) late = letter (1);
  g_autoptr(PmPiece) next = letter (2);

  /* 2026-03-08 is 23 hours long in Chicago: 23:30 CDT is 04:30 UTC on the 9th. */
  late->created_at = G_GINT64_CONSTANT (1773030600) * G_USEC_PER_SEC;
  next->created_at = G_GINT64_CONSTANT (1773032400) * G_USEC_PER_SEC; /* 00:00 CDT 9th */
  g_assert_true (pm_store_insert_piece (f->store, late, NULL, &error));
  g_assert_true (pm_store_insert_piece (f->store, next, NULL, &error));

  day = pm_store_list_day (f->store, march8, &error);
  g_assert_no_error (error);
  g_assert_cmpint (day->count, ==, 1);
  g_assert_cmpint (((PmPiece *) day->pieces->pdata[0])->piece_count, ==, 1);
  g_date_free (march8);
}

/* ---- Print jobs ---- */

static void
test_print_jobs (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PmPiece) piece = letter (1);
  g_autoptr(PmStorePrintJob) stored = NULL;
  PmStorePrintJob job = { 0 };

  g_assert_true (pm_store_insert_piece (f->store, piece, NULL, &error));

  job.piece_id = piece->id;
  job.printer = (char *) "Envelope printer";
  job.kind = PM_STORE_PRINT_JOB_ENVELOPE;
  job.state = PM_STORE_PRINT_JOB_QUEUED;
  g_assert_true (pm_store_insert_print_job (f->store, &job, &error));
  g_assert_no_error (error);
  g_assert_cmpint (job.id, >, 0);

  pm_clock_advance_s (3);
  g_assert_true (pm_store_update_print_job (f->store, job.id, PM_STORE_PRINT_JOB_DONE, 1, 42,
                                            "printed", &error));
  g_assert_no_error (error);

  stored = pm_store_get_print_job (f->store, job.id, &error);
  g_assert_no_error (error);
  g_assert_cmpint (stored->piece_id, ==, piece->id);
  g_assert_cmpstr (stored->printer, ==, "Envelope printer");
  g_assert_cmpint (stored->kind, ==, PM_STORE_PRINT_JOB_ENVELOPE);
  g_assert_cmpint (stored->state, ==, PM_STORE_PRINT_JOB_DONE);
  g_assert_cmpint (stored->impressions, ==, 1);
  g_assert_cmpint (stored->ink_microlitres_estimate, ==, 42);
  g_assert_cmpint (stored->created_at, ==, START_US);
  g_assert_cmpint (stored->finished_at, ==, START_US + 3 * G_USEC_PER_SEC);

  /* Whole microlitres are an estimate: the model's. */
  g_assert_cmpint (stored->ink_nanolitres, ==, 42000);
  g_assert_cmpint (stored->ink_source, ==, PM_STORE_INK_MODEL);
  g_assert_null (stored->printer_job_ref);

  g_assert_false (pm_store_update_print_job (f->store, 999, PM_STORE_PRINT_JOB_FAILED, 0, 0,
                                             NULL, &error));
  g_assert_error (error, PM_STORE_ERROR, PM_STORE_ERROR_NOT_FOUND);
}

static gint64
queue_job (Fixture             *f,
           const char          *printer,
           PmStorePrintJobKind  kind)
{
  g_autoptr(GError) error = NULL;
  PmStorePrintJob job = { 0 };

  job.printer = (char *) printer;
  job.kind = kind;
  job.state = PM_STORE_PRINT_JOB_QUEUED;
  g_assert_true (pm_store_insert_print_job (f->store, &job, &error));
  g_assert_no_error (error);
  return job.id;
}

#define HOUR_LATER (START_US + G_GINT64_CONSTANT (3600) * G_USEC_PER_SEC)

static void
test_print_usage (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PmStorePrintJob) stored = NULL;
  PmStorePrintUsageTotals totals;
  /* An inkjet envelope printer's model: 1.5 microlitres an impression. */
  PmStorePrintUsage envelope = { 1, 1500, PM_STORE_INK_MODEL, "envelopes-17" };
  PmStorePrintUsage measured = { 2, 3100, PM_STORE_INK_PRINTER, "envelopes-18" };
  PmStorePrintUsage label = { 1, 0, PM_STORE_INK_NONE, "labels-4" };
  PmStorePrintUsage failed = { 0, 0, PM_STORE_INK_NONE, "labels-5" };
  PmStorePrintUsage bad = { 1, 1500, PM_STORE_INK_NONE, NULL };
  gint64 first, id;

  first = queue_job (f, "Envelope printer", PM_STORE_PRINT_JOB_ENVELOPE);
  pm_clock_advance_s (2);
  g_assert_true (pm_store_record_print_usage (f->store, first, PM_STORE_PRINT_JOB_DONE,
                                              &envelope, "printed", &error));
  g_assert_no_error (error);

  stored = pm_store_get_print_job (f->store, first, &error);
  g_assert_no_error (error);
  g_assert_cmpint (stored->state, ==, PM_STORE_PRINT_JOB_DONE);
  g_assert_cmpint (stored->impressions, ==, 1);
  g_assert_cmpint (stored->ink_nanolitres, ==, 1500);
  /* Rounded up, never down to nothing. */
  g_assert_cmpint (stored->ink_microlitres_estimate, ==, 2);
  g_assert_cmpint (stored->ink_source, ==, PM_STORE_INK_MODEL);
  g_assert_cmpstr (stored->printer_job_ref, ==, "envelopes-17");
  g_assert_cmpint (stored->finished_at, ==, START_US + 2 * G_USEC_PER_SEC);

  /* A thousand envelope impressions add up to 1.5 ml, not to 1 or 2. */
  for (int i = 0; i < 999; i++)
    {
      id = queue_job (f, "Envelope printer", PM_STORE_PRINT_JOB_ENVELOPE);
      g_assert_true (pm_store_record_print_usage (f->store, id, PM_STORE_PRINT_JOB_DONE,
                                                  &envelope, NULL, &error));
    }
  id = queue_job (f, "Envelope printer", PM_STORE_PRINT_JOB_ENVELOPE);
  g_assert_true (pm_store_record_print_usage (f->store, id, PM_STORE_PRINT_JOB_DONE,
                                              &measured, NULL, &error));
  id = queue_job (f, "Label printer", PM_STORE_PRINT_JOB_LABEL);
  g_assert_true (pm_store_record_print_usage (f->store, id, PM_STORE_PRINT_JOB_DONE, &label,
                                              NULL, &error));
  id = queue_job (f, "Label printer", PM_STORE_PRINT_JOB_LABEL);
  g_assert_true (pm_store_record_print_usage (f->store, id, PM_STORE_PRINT_JOB_FAILED,
                                              &failed, "Label printer is out of labels",
                                              &error));
  g_assert_no_error (error);

  g_assert_true (pm_store_sum_print_usage (f->store, "Envelope printer", START_US,
                                           HOUR_LATER, &totals, &error));
  g_assert_no_error (error);
  g_assert_cmpint (totals.jobs, ==, 1001);
  g_assert_cmpint (totals.jobs_done, ==, 1001);
  g_assert_cmpint (totals.jobs_failed, ==, 0);
  g_assert_cmpint (totals.impressions, ==, 1002);
  g_assert_cmpint (totals.ink_nanolitres, ==, 1000 * 1500 + 3100);
  g_assert_cmpint (totals.ink_nanolitres_measured, ==, 3100);

  g_assert_true (pm_store_sum_print_usage (f->store, "Label printer", START_US,
                                           HOUR_LATER, &totals, &error));
  g_assert_cmpint (totals.jobs, ==, 2);
  g_assert_cmpint (totals.jobs_done, ==, 1);
  g_assert_cmpint (totals.jobs_failed, ==, 1);
  g_assert_cmpint (totals.impressions, ==, 1);
  g_assert_cmpint (totals.ink_nanolitres, ==, 0);

  /* All printers; and a period before any job. */
  g_assert_true (pm_store_sum_print_usage (f->store, NULL, START_US,
                                           HOUR_LATER, &totals, &error));
  g_assert_cmpint (totals.jobs, ==, 1003);
  g_assert_true (pm_store_sum_print_usage (f->store, NULL, 0, START_US, &totals, &error));
  g_assert_cmpint (totals.jobs, ==, 0);
  g_assert_cmpint (totals.ink_nanolitres, ==, 0);

  /* Ink with no source, and a job that does not exist, change nothing. */
  g_assert_false (pm_store_record_print_usage (f->store, first, PM_STORE_PRINT_JOB_DONE,
                                               &bad, NULL, &error));
  g_assert_error (error, PM_STORE_ERROR, PM_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (pm_store_record_print_usage (f->store, 99999, PM_STORE_PRINT_JOB_DONE,
                                               &envelope, NULL, &error));
  g_assert_error (error, PM_STORE_ERROR, PM_STORE_ERROR_NOT_FOUND);
  g_clear_pointer (&stored, pm_store_print_job_free);
  stored = pm_store_get_print_job (f->store, first, NULL);
  g_assert_cmpint (stored->ink_nanolitres, ==, 1500);
}

/* ---- Outbox ---- */

static guint32
read_u32 (const guint8 *p)
{
  guint32 v;

  memcpy (&v, p, 4);
  return GUINT32_FROM_LE (v);
}

static guint64
read_u64 (const guint8 *p)
{
  guint64 v;

  memcpy (&v, p, 8);
  return GUINT64_FROM_LE (v);
}

static void
test_outbox_with_piece (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PmPiece) piece = letter (1);
  g_autoptr(PmPiece) again = letter (1);
  g_autoptr(PmPiece) bad = letter (2);
  g_autoptr(GBytes) record = g_bytes_new_static ("piece-1", 7);
  g_autoptr(GBytes) empty = g_bytes_new_static ("", 0);
  gboolean already = TRUE;
  gint64 seq = 0, seq_again = 0;

  g_assert_true (pm_store_insert_piece_with_upload (f->store, piece, record, &already,
                                                    &seq, &error));
  g_assert_no_error (error);
  g_assert_false (already);
  g_assert_cmpint (seq, ==, 1);

  /* Repeating the debit queues nothing new. */
  g_assert_true (pm_store_insert_piece_with_upload (f->store, again, record, &already,
                                                    &seq_again, &error));
  g_assert_true (already);
  g_assert_cmpint (seq_again, ==, seq);
  g_assert_cmpint (side_int (f->path, "SELECT count(*) FROM upload_records"), ==, 1);

  /* When the record cannot be queued, the piece is not recorded either. */
  g_assert_false (pm_store_insert_piece_with_upload (f->store, bad, empty, NULL, NULL,
                                                     &error));
  g_assert_error (error, PM_STORE_ERROR, PM_STORE_ERROR_INVALID);
  g_assert_cmpint (side_int (f->path, "SELECT count(*) FROM pieces"), ==, 1);
}

static void
test_outbox_cycle (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PmUploadBatch) batch = NULL;
  g_autoptr(PmUploadBatch) resend = NULL;
  g_autoptr(PmUploadBatch) next = NULL;
  g_autofree char *sha = NULL;
  const guint8 *bytes;
  gsize size;
  gint64 oldest = -1, waiting = -1;

  g_assert_true (pm_store_get_upload_backlog (f->store, &oldest, &waiting, &error));
  g_assert_cmpint (oldest, ==, 0);
  g_assert_cmpint (waiting, ==, 0);
  batch = pm_store_seal_upload_batch (f->store, 10, &error);
  g_assert_no_error (error);
  g_assert_null (batch);

  for (int i = 0; i < 5; i++)
    {
      g_autofree char *text = g_strdup_printf ("record-%d", i);
      g_autoptr(GBytes) payload = g_bytes_new (text, strlen (text));
      gint64 seq = 0;

      g_assert_true (pm_store_enqueue_upload (f->store, payload, &seq, &error));
      g_assert_cmpint (seq, ==, i + 1);
      pm_clock_advance_s (60);
    }

  g_assert_true (pm_store_get_upload_backlog (f->store, &oldest, &waiting, &error));
  g_assert_cmpint (oldest, ==, START_US);
  g_assert_cmpint (waiting, ==, 5);

  /* Seal three: the bytes follow the documented layout exactly. */
  batch = pm_store_seal_upload_batch (f->store, 3, &error);
  g_assert_no_error (error);
  g_assert_nonnull (batch);
  g_assert_cmpint (batch->first_seq, ==, 1);
  g_assert_cmpint (batch->last_seq, ==, 3);
  g_assert_cmpint (batch->count, ==, 3);
  bytes = g_bytes_get_data (batch->payload, &size);
  g_assert_cmpmem (bytes, 5, "PMUB\x01", 5);
  g_assert_cmpuint (read_u32 (bytes + 5), ==, 3);
  g_assert_cmpuint (read_u64 (bytes + 9), ==, 1);
  g_assert_cmpuint (read_u32 (bytes + 9 + 8 + 36), ==, 8);
  g_assert_cmpmem (bytes + 9 + 8 + 36 + 4, 8, "record-0", 8);
  g_assert_cmpuint (size, ==, 9 + 3 * (8 + 36 + 4 + 8));
  sha = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, batch->payload);
  g_assert_cmpstr (sha, ==, batch->payload_sha256);

  /* Until acknowledged, sealing again gives the same batch, byte for byte. */
  g_assert_true (pm_store_mark_upload_sent (f->store, batch->id, START_US + 1, &error));
  g_assert_no_error (error);
  resend = pm_store_seal_upload_batch (f->store, 3, &error);
  g_assert_cmpstr (resend->id, ==, batch->id);
  g_assert_true (g_bytes_equal (resend->payload, batch->payload));
  g_assert_cmpint (resend->state, ==, PM_UPLOAD_BATCH_SENT);
  g_assert_cmpint (resend->attempts, ==, 1);

  /* A receipt that does not match changes nothing. */
  {
    PmUploadReceipt wrong_hash = { batch->id, "00", 1, 3, 3, "r" };
    PmUploadReceipt wrong_range = { batch->id, batch->payload_sha256, 1, 4, 3, "r" };
    PmUploadReceipt wrong_count = { batch->id, batch->payload_sha256, 1, 3, 2, "r" };
    PmUploadReceipt wrong_batch = { "nope", batch->payload_sha256, 1, 3, 3, "r" };
    const PmUploadReceipt *wrong[] = { &wrong_hash, &wrong_range, &wrong_count,
                                       &wrong_batch };

    for (guint i = 0; i < G_N_ELEMENTS (wrong); i++)
      {
        g_assert_false (pm_store_acknowledge_upload (f->store, wrong[i], &error));
        g_assert_error (error, PM_STORE_ERROR, PM_STORE_ERROR_RECEIPT_MISMATCH);
        g_clear_error (&error);
      }
    g_assert_cmpint (side_int (f->path, "SELECT count(*) FROM upload_records"), ==, 5);
    g_assert_cmpint (side_int (f->path, "SELECT count(*) FROM ack_log"), ==, 0);
  }

  /* The right receipt deletes exactly the batch's records, once. */
  {
    PmUploadReceipt receipt = { batch->id, batch->payload_sha256, 1, 3, 3,
                                "<receipt batch='…'/>" };

    g_assert_true (pm_store_acknowledge_upload (f->store, &receipt, &error));
    g_assert_no_error (error);
    g_assert_true (pm_store_acknowledge_upload (f->store, &receipt, &error));
    g_assert_no_error (error);
  }
  g_assert_cmpint (side_int (f->path, "SELECT count(*) FROM upload_records"), ==, 2);
  g_assert_cmpint (side_int (f->path, "SELECT min(seq) FROM upload_records"), ==, 4);
  g_assert_cmpint (side_int (f->path, "SELECT count(*) FROM ack_log"), ==, 1);

  g_assert_true (pm_store_get_upload_backlog (f->store, &oldest, &waiting, &error));
  g_assert_cmpint (oldest, ==, START_US + 3 * 60 * G_USEC_PER_SEC);
  g_assert_cmpint (waiting, ==, 2);

  next = pm_store_seal_upload_batch (f->store, 10, &error);
  g_assert_cmpint (next->first_seq, ==, 4);
  g_assert_cmpint (next->last_seq, ==, 5);
  g_assert_cmpstr (next->id, !=, batch->id);
}

/* ---- Refills, packages, settings, accounts ---- */

static void
test_refills (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list = NULL;
  PmRefill first = { 0, (char *) "SPSD-000042", 1, 50000, (char *) "rcpt-1", 0 };
  PmRefill second = { 0, (char *) "SPSD-000042", 2, 25000, NULL, 0 };
  PmRefill replay = first;
  gboolean already = TRUE;

  g_assert_true (pm_store_record_refill (f->store, &first, &already, &error));
  g_assert_no_error (error);
  g_assert_false (already);
  pm_clock_advance_s (10);
  g_assert_true (pm_store_record_refill (f->store, &second, &already, &error));

  replay.id = 0;
  g_assert_true (pm_store_record_refill (f->store, &replay, &already, &error));
  g_assert_true (already);
  g_assert_cmpint (replay.id, ==, first.id);
  replay.amount = 1;
  g_assert_false (pm_store_record_refill (f->store, &replay, &already, &error));
  g_assert_error (error, PM_STORE_ERROR, PM_STORE_ERROR_CONSTRAINT);
  g_clear_error (&error);

  list = pm_store_list_refills (f->store, 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 2);
  g_assert_cmpint (((PmRefill *) list->pdata[0])->sequence, ==, 2);
  g_assert_cmpint (((PmRefill *) list->pdata[1])->amount, ==, 50000);
  g_assert_cmpstr (((PmRefill *) list->pdata[1])->receipt, ==, "rcpt-1");
}

static void
test_packages (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list = NULL;
  const char *sha_a = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
  const char *sha_b = "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752";
  PmInstalledPackage jan = { 0, (char *) "rates", (char *) "2026.1", (char *) sha_a,
                             (char *) "/var/lib/postmeter/rates/2026.1.xml", 20260118, 0 };
  PmInstalledPackage jul = { 0, (char *) "rates", (char *) "2026.7", (char *) sha_b,
                             (char *) "/var/lib/postmeter/rates/2026.7.xml", 20260712, 0 };
  PmInstalledPackage clash = jan;

  g_assert_true (pm_store_record_installed_package (f->store, &jul, &error));
  g_assert_no_error (error);
  g_assert_true (pm_store_record_installed_package (f->store, &jan, &error));
  g_assert_no_error (error);

  clash.sha256 = (char *) sha_b;
  g_assert_false (pm_store_record_installed_package (f->store, &clash, &error));
  g_assert_error (error, PM_STORE_ERROR, PM_STORE_ERROR_CONSTRAINT);
  g_clear_error (&error);

  clash.sha256 = (char *) "abc";
  g_assert_false (pm_store_record_installed_package (f->store, &clash, &error));
  g_assert_error (error, PM_STORE_ERROR, PM_STORE_ERROR_INVALID);
  g_clear_error (&error);

  list = pm_store_list_installed_packages (f->store, "rates", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 2);
  g_assert_cmpstr (((PmInstalledPackage *) list->pdata[0])->version, ==, "2026.1");
  g_assert_cmpuint (((PmInstalledPackage *) list->pdata[1])->effective, ==, 20260712);
  g_clear_pointer (&list, g_ptr_array_unref);

  list = pm_store_list_installed_packages (f->store, "graphics", &error);
  g_assert_cmpuint (list->len, ==, 0);
}

static void
setting_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static void
test_settings (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GPtrArray) audit = NULL;
  gint64 value = 0;

  g_assert_true (pm_store_get_setting_int (f->store, PM_STORE_SETTING_LOW_FUNDS_MILLS,
                                           25000, &value, &error));
  g_assert_cmpint (value, ==, 25000);

  g_assert_true (pm_store_set_setting_int (f->store, PM_STORE_SETTING_LOW_FUNDS_MILLS,
                                           50000, 0, &error));
  g_assert_true (pm_store_set_setting_int (f->store, PM_STORE_SETTING_LOW_FUNDS_MILLS,
                                           40000, 0, &error));
  g_assert_no_error (error);

  pm_store_get_setting_int_async (f->store, PM_STORE_SETTING_LOW_FUNDS_MILLS, 1, NULL,
                                  setting_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (pm_store_get_setting_int_finish (f->store, result, &value, &error));
  g_assert_cmpint (value, ==, 40000);

  audit = pm_store_list_audit (f->store, 0, 10, &error);
  g_assert_cmpuint (audit->len, ==, 2);
  g_assert_cmpstr (((PmAuditEntry *) audit->pdata[1])->detail, ==,
                   "low-funds-threshold-mills = 40000");
  g_clear_pointer (&audit, g_ptr_array_unref);
  g_clear_object (&result);

  /* Saved from the screen: on the store's thread, audited with the supervisor's id. */
  pm_store_set_setting_int_async (f->store, PM_STORE_SETTING_KEY_IN_CONFIRM_MILLS, 35000, 7,
                                  NULL, setting_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (pm_store_set_setting_int_finish (f->store, result, &error));
  g_assert_no_error (error);
  g_assert_true (pm_store_get_setting_int (f->store, PM_STORE_SETTING_KEY_IN_CONFIRM_MILLS,
                                           20000, &value, &error));
  g_assert_cmpint (value, ==, 35000);
  audit = pm_store_list_audit (f->store, 0, 10, &error);
  g_assert_cmpuint (audit->len, ==, 3);
  g_assert_cmpstr (((PmAuditEntry *) audit->pdata[2])->event, ==, PM_AUDIT_SETTING);
  g_assert_cmpint (((PmAuditEntry *) audit->pdata[2])->user_id, ==, 7);
  g_assert_cmpstr (((PmAuditEntry *) audit->pdata[2])->detail, ==,
                   "key-in-confirm-threshold-mills = 35000");
}

static void
test_cost_accounts (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list = NULL;
  g_autofree char *long_name = g_strnfill (76, 'x');
  g_autofree char *max_name = g_strnfill (75, 'x');
  g_autofree char *long_description = g_strnfill (151, 'd');
  PmCostAccount sales = { 0, 0, (char *) "SALES", (char *) "Sales", NULL, FALSE, 0 };
  PmCostAccount east = { 0, 0, (char *) "SALES-E", (char *) "Sales – East",
                         (char *) "Eastern region", FALSE, 0 };
  PmCostAccount bad = { 0, 0, (char *) "BAD", long_name, NULL, FALSE, 0 };

  list = pm_store_list_cost_accounts (f->store, TRUE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 1);
  g_assert_cmpstr (((PmCostAccount *) list->pdata[0])->name, ==, "General");
  g_clear_pointer (&list, g_ptr_array_unref);

  g_assert_true (pm_store_add_cost_account (f->store, &sales, &error));
  g_assert_no_error (error);
  east.parent_id = sales.id;
  g_assert_true (pm_store_add_cost_account (f->store, &east, &error));
  g_assert_no_error (error);

  g_assert_false (pm_store_add_cost_account (f->store, &bad, &error));
  g_assert_error (error, PM_STORE_ERROR, PM_STORE_ERROR_INVALID);
  g_clear_error (&error);
  bad.name = max_name;
  bad.description = long_description;
  g_assert_false (pm_store_add_cost_account (f->store, &bad, &error));
  g_assert_error (error, PM_STORE_ERROR, PM_STORE_ERROR_INVALID);
  g_clear_error (&error);
  bad.description = NULL;
  bad.code = (char *) "SALES";
  g_assert_false (pm_store_add_cost_account (f->store, &bad, &error));
  g_assert_error (error, PM_STORE_ERROR, PM_STORE_ERROR_CONSTRAINT);
  g_clear_error (&error);
  bad.code = (char *) "BAD";
  g_assert_true (pm_store_add_cost_account (f->store, &bad, &error));
  g_assert_no_error (error);

  g_assert_false (pm_store_set_cost_account_active (f->store, PM_COST_ACCOUNT_GENERAL_ID,
                                                    FALSE, &error));
  g_assert_error (error, PM_STORE_ERROR, PM_STORE_ERROR_INVALID);
  g_clear_error (&error);

  g_assert_true (pm_store_set_cost_account_active (f->store, sales.id, FALSE, &error));
  {
    PmCostAccount west = { 0, sales.id, (char *) "SALES-W", (char *) "Sales – West",
                           NULL, FALSE, 0 };
    g_assert_false (pm_store_add_cost_account (f->store, &west, &error));
    g_assert_error (error, PM_STORE_ERROR, PM_STORE_ERROR_INVALID);
    g_clear_error (&error);
  }

  list = pm_store_list_cost_accounts (f->store, TRUE, &error);
  g_assert_cmpuint (list->len, ==, 3);   /* BAD, GENERAL, SALES-E */
  g_assert_cmpstr (((PmCostAccount *) list->pdata[2])->name, ==, "Sales – East");
  g_assert_cmpint (((PmCostAccount *) list->pdata[2])->parent_id, ==, sales.id);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("/store/pieces/insert-idempotent", test_piece_insert_idempotent);
  ADD ("/store/pieces/bad-input", test_piece_bad_input);
  ADD ("/store/pieces/print-state", test_piece_print_state);
  ADD ("/store/pieces/reconcile", test_piece_reconcile);
  ADD ("/store/pieces/local-day", test_piece_day);
  ADD ("/store/pieces/local-day-dst", test_piece_day_dst);
  ADD ("/store/print-jobs/insert-update", test_print_jobs);
  ADD ("/store/print-jobs/usage", test_print_usage);
  ADD ("/store/outbox/with-piece", test_outbox_with_piece);
  ADD ("/store/outbox/seal-send-acknowledge", test_outbox_cycle);
  ADD ("/store/refills/history", test_refills);
  ADD ("/store/packages/installed", test_packages);
  ADD ("/store/settings/thresholds", test_settings);
  ADD ("/store/cost-accounts/tree", test_cost_accounts);

  return g_test_run ();
}
