/* test-store-crash.c: kill the print path at random points, reopen, check invariants
 *
 * A child process (this program run with --child) records pieces with their upload
 * records as fast as it can, marks each printed, and now and then seals and
 * acknowledges a batch. The parent kills it with SIGKILL after a random delay, opens
 * the database again and checks that nothing is half-written: the file is intact, the
 * piece counts run without a gap, every recorded piece has exactly one upload record
 * (or an acknowledged one), and no record is left in a state that could send it twice.
 */
#include <glib/gstdio.h>
#include <signal.h>
#include <sys/wait.h>

#include "pm-store-audit.h"
#include "pm-store-outbox.h"
#include "pm-store-pieces.h"

#define ROUNDS 8

static int
run_child (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PmStore) store = pm_store_open (path, &error);
  g_autoptr(GBytes) record = g_bytes_new_static ("transaction-record", 18);
  gint64 count = 0;

  if (store == NULL || !pm_store_get_max_piece_count (store, "CRASH-PSD", &count, &error))
    g_error ("child: %s", error->message);

  for (;;)
    {
      g_autoptr(PmPiece) piece = pm_piece_new ();

      count++;
      piece->psd_serial = g_strdup ("CRASH-PSD");
      piece->piece_count = count;
      piece->postage = 730;
      piece->ascending_after = 730 * count;
      piece->descending_after = 0;
      piece->date_of_mailing = 20260302;
      if (!pm_store_insert_piece_with_upload (store, piece, record, NULL, NULL, &error)
          || !pm_store_set_print_state (store, piece->id, PM_PRINT_STATE_PRINTED, NULL,
                                        &error)
          || !pm_store_append_audit (store, "test-piece", 0, NULL, &error))
        g_error ("child: %s", error->message);

      if (count % 7 == 0)
        {
          g_autoptr(PmUploadBatch) batch = pm_store_seal_upload_batch (store, 5, &error);

          if (batch != NULL)
            {
              PmUploadReceipt receipt = { batch->id, batch->payload_sha256,
                                          batch->first_seq, batch->last_seq,
                                          batch->count, "ok" };

              if (!pm_store_acknowledge_upload (store, &receipt, &error))
                g_error ("child: %s", error->message);
            }
        }
    }

  return 0;
}

static gint64
query_int (sqlite3    *db,
           const char *sql)
{
  sqlite3_stmt *stmt = NULL;
  gint64 value;

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  value = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  return value;
}

static void
check_invariants (const char *path,
                  gint64     *out_pieces)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PmStore) store = NULL;
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  gint64 pieces;

  /* Opening runs quick_check; then the full chain of the audit log. */
  store = pm_store_open (path, &error);
  g_assert_no_error (error);
  g_assert_true (pm_store_verify_audit_log (store, NULL, NULL, &error));
  g_assert_no_error (error);

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  sqlite3_prepare_v2 (db, "PRAGMA integrity_check", -1, &stmt, NULL);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  g_assert_cmpstr ((const char *) sqlite3_column_text (stmt, 0), ==, "ok");
  sqlite3_finalize (stmt);

  /* Piece counts 1..N with no gap and no double. */
  pieces = query_int (db, "SELECT count(*) FROM pieces");
  g_assert_cmpint (query_int (db, "SELECT coalesce (max (piece_count), 0) FROM pieces"),
                   ==, pieces);
  g_assert_cmpint (query_int (db, "SELECT count (DISTINCT piece_count) FROM pieces"),
                   ==, pieces);

  /* Every piece's record is either waiting (once) or in an acknowledged batch. */
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM pieces p WHERE "
                                  "(SELECT count(*) FROM upload_records r "
                                  " WHERE r.piece_id = p.id) > 1"), ==, 0);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM upload_records") +
                   query_int (db, "SELECT coalesce (sum (count), 0) FROM upload_batches "
                                  "WHERE state = 'ACKED'"), ==, pieces);
  g_assert_cmpint (query_int (db, "SELECT coalesce (sum (count), 0) FROM ack_log"), ==,
                   query_int (db, "SELECT coalesce (sum (count), 0) FROM upload_batches "
                                  "WHERE state = 'ACKED'"));
  /* No record of an acknowledged batch is left to be sent again. */
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM upload_records r JOIN "
                                  "upload_batches b ON b.id = r.batch_id "
                                  "WHERE b.state = 'ACKED'"), ==, 0);
  sqlite3_close (db);

  *out_pieces = pieces;
}

static void
test_kill_anywhere (void)
{
  g_autofree char *dir = g_dir_make_tmp ("pm-crash-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "postmeter.db", NULL);
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
  gint64 before = 0;

  g_assert_nonnull (self);

  for (int round = 0; round < ROUNDS; round++)
    {
      const char *argv[] = { self, "--child", path, NULL };
      g_autoptr(GError) error = NULL;
      GPid pid;
      int status;
      gint64 after = 0;
      guint delay_ms = g_test_rand_int_range (30, 250);

      g_assert_true (g_spawn_async (NULL, (char **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                                    NULL, NULL, &pid, &error));
      g_assert_no_error (error);
      g_usleep (delay_ms * 1000);
      kill (pid, SIGKILL);
      g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
      g_assert_true (WIFSIGNALED (status));
      g_spawn_close_pid (pid);

      check_invariants (path, &after);
      g_test_message ("round %d: killed after %u ms with %" G_GINT64_FORMAT " pieces",
                      round, delay_ms, after);
      /* Committed pieces are never lost between rounds. */
      g_assert_cmpint (after, >=, before);
      before = after;
    }

  g_assert_cmpint (before, >, 0);
}

int
main (int   argc,
      char *argv[])
{
  if (argc == 3 && g_strcmp0 (argv[1], "--child") == 0)
    return run_child (argv[2]);

  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  g_test_add_func ("/store/crash/kill-anywhere", test_kill_anywhere);
  return g_test_run ();
}
