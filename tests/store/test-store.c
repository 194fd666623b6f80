/* test-store.c: the store thread, its queue, migrations, the audit chain and the
 * failures a mailroom disk can produce. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sys/mount.h>
#include <unistd.h>

#include "pm-clock.h"
#include "pm-store.h"
#include "pm-store-audit.h"
#include "pm-store-users.h"

/* Counts messages of ours at warning, critical or message level: errors must come back
 * to the caller, not go to the log. */
static guint logged_messages;

static GLogWriterOutput
count_writer (GLogLevelFlags   level,
              const GLogField *fields,
              gsize            n_fields,
              gpointer         user_data)
{
  for (gsize i = 0; i < n_fields; i++)
    if (g_strcmp0 (fields[i].key, "GLIB_DOMAIN") == 0
        && g_strcmp0 (fields[i].value, "postmeter-store") == 0
        && (level & (G_LOG_LEVEL_WARNING | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR)))
      logged_messages++;

  return g_log_writer_default (level, fields, n_fields, user_data);
}

typedef struct
{
  char    *dir;
  char    *path;
  PmStore *store;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp ("pm-store-XXXXXX", &error);
  g_assert_no_error (error);
  f->path = g_build_filename (f->dir, "postmeter.db", NULL);
  f->store = pm_store_open (f->path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (f->store);
}

static void
remove_tree (const char *dir)
{
  g_autoptr(GDir) handle = g_dir_open (dir, 0, NULL);
  const char *name;

  if (handle == NULL)
    return;
  while ((name = g_dir_read_name (handle)) != NULL)
    {
      g_autofree char *child = g_build_filename (dir, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (dir);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_clear_object (&f->store);
  remove_tree (f->dir);
  g_free (f->path);
  g_free (f->dir);
}

/* A second connection, as another program (or someone with the sqlite3 tool) would
 * open the file. */
static sqlite3 *
open_side (const char *path)
{
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 5000);
  return db;
}

static gint64
side_int (sqlite3    *db,
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

/* ---- Work functions used by the tests ---- */

static gboolean
create_log_work (sqlite3  *db,
                 gpointer  data,
                 GError  **error)
{
  PM_STORE_ASSERT_THREAD ();
  return pm_store_exec (db, "CREATE TABLE IF NOT EXISTS test_log ("
                            "  id INTEGER PRIMARY KEY, writer INTEGER, n INTEGER)",
                        "Could not create the test table", error);
}

typedef struct
{
  int writer;
  int n;
} LogRow;

static gboolean
insert_log_work (sqlite3  *db,
                 gpointer  data,
                 GError  **error)
{
  LogRow *row = data;
  g_autoptr(sqlite3_stmt) stmt = NULL;

  PM_STORE_ASSERT_THREAD ();
  stmt = pm_store_prepare (db, "INSERT INTO test_log (writer, n) VALUES (?, ?)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int (stmt, 1, row->writer);
  sqlite3_bind_int (stmt, 2, row->n);
  return pm_store_step_done (db, stmt, "Could not write the test row", error);
}

/* Writes a row, then fails: the row must not survive. */
static gboolean
insert_then_fail_work (sqlite3  *db,
                       gpointer  data,
                       GError  **error)
{
  if (!insert_log_work (db, data, error))
    return FALSE;

  g_set_error (error, PM_STORE_ERROR, PM_STORE_ERROR_INVALID, "refused by the test");
  return FALSE;
}

static gboolean
bad_sql_work (sqlite3  *db,
              gpointer  data,
              GError  **error)
{
  g_autoptr(sqlite3_stmt) stmt = pm_store_prepare (db, "SELECT * FROM no_such_thing",
                                                   error);

  return stmt != NULL;
}

static gboolean
thread_flag_work (sqlite3  *db,
                  gpointer  data,
                  GError  **error)
{
  *(gboolean *) data = pm_store_is_store_thread ();
  return TRUE;
}

/* ---- Opening ---- */

static void
test_open_settings (Fixture       *f,
                    gconstpointer  data)
{
  sqlite3 *db = open_side (f->path);
  g_autoptr(GError) error = NULL;
  gboolean on_thread = FALSE;

  g_assert_cmpint (pm_store_get_schema_version (f->store), ==, PM_STORE_SCHEMA_VERSION);
  g_assert_cmpint (side_int (db, "PRAGMA user_version"), ==, PM_STORE_SCHEMA_VERSION);
  /* WAL is persistent, so a second connection sees it. */
  {
    sqlite3_stmt *stmt = NULL;
    sqlite3_prepare_v2 (db, "PRAGMA journal_mode", -1, &stmt, NULL);
    g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
    g_assert_cmpstr ((const char *) sqlite3_column_text (stmt, 0), ==, "wal");
    sqlite3_finalize (stmt);
  }
  /* The General cost account exists from the first migration. */
  g_assert_cmpint (side_int (db, "SELECT count(*) FROM cost_accounts WHERE "
                                 "name = 'General'"), ==, 1);
  sqlite3_close (db);

  g_assert_false (pm_store_is_store_thread ());
  g_assert_true (pm_store_run_sync (f->store, thread_flag_work, &on_thread, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (on_thread);
}

typedef struct
{
  int synchronous;
  int foreign_keys;
  int busy_timeout;
} PragmaValues;

static gboolean
pragma_work (sqlite3  *db,
             gpointer  data,
             GError  **error)
{
  PragmaValues *values = data;
  const char *sql[] = { "PRAGMA synchronous", "PRAGMA foreign_keys",
                        "PRAGMA busy_timeout" };
  int *out[] = { &values->synchronous, &values->foreign_keys, &values->busy_timeout };

  for (guint i = 0; i < G_N_ELEMENTS (sql); i++)
    {
      g_autoptr(sqlite3_stmt) stmt = pm_store_prepare (db, sql[i], error);

      if (stmt == NULL || sqlite3_step (stmt) != SQLITE_ROW)
        return FALSE;
      *out[i] = sqlite3_column_int (stmt, 0);
    }
  return TRUE;
}

static void
test_open_pragmas (Fixture       *f,
                   gconstpointer  data)
{
  PragmaValues values = { -1, -1, -1 };
  g_autoptr(GError) error = NULL;

  g_assert_true (pm_store_run_sync (f->store, pragma_work, &values, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (values.synchronous, ==, 2);   /* FULL */
  g_assert_cmpint (values.foreign_keys, ==, 1);
  g_assert_cmpint (values.busy_timeout, >, 0);

  /* The database and its write-ahead log are the meter user's alone: they hold the code
   * hashes and every piece. */
  {
    g_autofree char *wal = g_strconcat (f->path, "-wal", NULL);
    GStatBuf st;

    g_assert_cmpint (g_stat (f->path, &st), ==, 0);
    g_assert_cmpint (st.st_mode & 0777, ==, 0600);
    g_assert_cmpint (g_stat (wal, &st), ==, 0);
    g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  }
}

static void
test_idle_checkpoint (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *wal = g_strconcat (f->path, "-wal", NULL);
  GStatBuf st;
  LogRow row = { 1, 1 };

  g_assert_true (pm_store_run_sync (f->store, create_log_work, NULL, NULL, &error));
  g_assert_true (pm_store_run_sync (f->store, insert_log_work, &row, NULL, &error));
  g_assert_cmpint (g_stat (wal, &st), ==, 0);
  g_assert_cmpint (st.st_size, >, 0);

  /* Five seconds without work fold the log back into the database. */
  for (int i = 0; i < 80 && (g_stat (wal, &st) != 0 || st.st_size > 0); i++)
    g_usleep (100000);
  g_assert_cmpint (st.st_size, ==, 0);
}

/* ---- Ordering ---- */

#define WRITERS 4
#define ROWS_PER_WRITER 40

typedef struct
{
  PmStore *store;
  int      writer;
} WriterArgs;

static gpointer
writer_thread (gpointer data)
{
  WriterArgs *args = data;

  for (int n = 0; n < ROWS_PER_WRITER; n++)
    {
      g_autoptr(GError) error = NULL;
      LogRow row = { args->writer, n };

      g_assert_true (pm_store_run_sync (args->store, insert_log_work, &row, NULL, &error));
      g_assert_no_error (error);
    }

  return NULL;
}

static void
test_order_threads (Fixture       *f,
                    gconstpointer  data)
{
  GThread *threads[WRITERS];
  WriterArgs args[WRITERS];
  g_autoptr(GError) error = NULL;
  sqlite3 *db;
  sqlite3_stmt *stmt = NULL;
  int last[WRITERS];

  g_assert_true (pm_store_run_sync (f->store, create_log_work, NULL, NULL, &error));

  for (int i = 0; i < WRITERS; i++)
    {
      args[i] = (WriterArgs) { f->store, i };
      threads[i] = g_thread_new ("writer", writer_thread, &args[i]);
    }
  for (int i = 0; i < WRITERS; i++)
    g_thread_join (threads[i]);

  /* Every row arrived once, and each writer's rows are in the order it wrote them. */
  db = open_side (f->path);
  g_assert_cmpint (side_int (db, "SELECT count(*) FROM test_log"), ==,
                   WRITERS * ROWS_PER_WRITER);
  for (int i = 0; i < WRITERS; i++)
    last[i] = -1;
  sqlite3_prepare_v2 (db, "SELECT writer, n FROM test_log ORDER BY id", -1, &stmt, NULL);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      int writer = sqlite3_column_int (stmt, 0);
      int n = sqlite3_column_int (stmt, 1);

      g_assert_cmpint (n, ==, last[writer] + 1);
      last[writer] = n;
    }
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  for (int i = 0; i < WRITERS; i++)
    g_assert_cmpint (last[i], ==, ROWS_PER_WRITER - 1);
}

typedef struct
{
  GArray *finished;     /* of int, in callback order */
  int     pending;
  GThread *caller;
} AsyncOrder;

static void
async_write_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  AsyncOrder *order = user_data;
  g_autoptr(GError) error = NULL;
  int n = GPOINTER_TO_INT (g_task_get_task_data (G_TASK (result)) != NULL
                           ? ((LogRow *) g_task_get_task_data (G_TASK (result)))->n
                           : -1);

  g_assert_true (pm_store_run_finish (PM_STORE (source), result, &error));
  g_assert_no_error (error);
  /* Results come back on the caller's own thread. */
  g_assert_true (g_thread_self () == order->caller);
  g_array_append_val (order->finished, n);
  order->pending--;
}

static void
test_order_async (Fixture       *f,
                  gconstpointer  data)
{
  AsyncOrder order = { g_array_new (FALSE, FALSE, sizeof (int)), 0, g_thread_self () };
  g_autoptr(GError) error = NULL;
  sqlite3 *db;

  g_assert_true (pm_store_run_sync (f->store, create_log_work, NULL, NULL, &error));

  for (int n = 0; n < 50; n++)
    {
      LogRow *row = g_new (LogRow, 1);

      *row = (LogRow) { 9, n };
      order.pending++;
      pm_store_run_async (f->store, insert_log_work, row, g_free, NULL,
                          async_write_cb, &order);
    }
  while (order.pending > 0)
    g_main_context_iteration (NULL, TRUE);

  for (int n = 0; n < 50; n++)
    g_assert_cmpint (g_array_index (order.finished, int, n), ==, n);

  db = open_side (f->path);
  g_assert_cmpint (side_int (db, "SELECT count(*) FROM test_log WHERE writer = 9 AND "
                                 "n = id - 1"), ==, 50);
  sqlite3_close (db);
  g_array_unref (order.finished);
}

/* ---- Errors come back, roll back, and are not logged ---- */

static void
cancelled_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (pm_store_run_finish (PM_STORE (source), result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  *(gboolean *) user_data = TRUE;
}

static void
test_errors_returned (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  LogRow row = { 1, 1 };
  gboolean done = FALSE;
  guint before = logged_messages;
  sqlite3 *db;

  g_assert_true (pm_store_run_sync (f->store, create_log_work, NULL, NULL, &error));

  /* A failing work function rolls back what it wrote. */
  g_assert_false (pm_store_run_sync (f->store, insert_then_fail_work, &row, NULL, &error));
  g_assert_error (error, PM_STORE_ERROR, PM_STORE_ERROR_INVALID);
  g_clear_error (&error);

  /* A statement SQLite refuses comes back as an error too. */
  g_assert_false (pm_store_run_sync (f->store, bad_sql_work, NULL, NULL, &error));
  g_assert_error (error, PM_STORE_ERROR, PM_STORE_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "no such table"));
  g_clear_error (&error);

  /* Work cancelled before it runs never runs. */
  g_cancellable_cancel (cancellable);
  pm_store_run_async (f->store, insert_log_work, g_memdup2 (&row, sizeof row), g_free,
                      cancellable, cancelled_cb, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);

  db = open_side (f->path);
  g_assert_cmpint (side_int (db, "SELECT count(*) FROM test_log"), ==, 0);
  sqlite3_close (db);

  /* After close, requests fail plainly. */
  pm_store_close (f->store);
  g_assert_false (pm_store_run_sync (f->store, create_log_work, NULL, NULL, &error));
  g_assert_error (error, PM_STORE_ERROR, PM_STORE_ERROR_CLOSED);

  g_assert_cmpuint (logged_messages, ==, before);
}

/* ---- Migrations ---- */

static gboolean
table_exists (sqlite3    *db,
              const char *table)
{
  sqlite3_stmt *stmt = NULL;
  gboolean exists;

  sqlite3_prepare_v2 (db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND "
                          "name = ?", -1, &stmt, NULL);
  sqlite3_bind_text (stmt, 1, table, -1, SQLITE_STATIC);
  exists = sqlite3_step (stmt) == SQLITE_ROW;
  sqlite3_finalize (stmt);
  return exists;
}

static void
side_exec (sqlite3    *db,
           const char *sql)
{
  char *message = NULL;

  if (sqlite3_exec (db, sql, NULL, NULL, &message) != SQLITE_OK)
    g_error ("%s: %s", sql, message);
}

/* Tables each version adds, and a row written at the version before, which must
 * survive the migration. */
static const struct
{
  const char *tables[3];
  const char *seed_before;
  const char *check_after;
} migration_cases[PM_STORE_SCHEMA_VERSION + 1] = {
  [1] = { { "users", "audit_log", "cost_accounts" }, NULL, NULL },
  [2] = { { "pieces", "print_jobs", NULL },
          "INSERT INTO users (name, role, code_hash, created_at) "
          "VALUES ('Ann', 'supervisor', 'x', 1)",
          "SELECT count(*) FROM users WHERE name = 'Ann'" },
  [3] = { { "upload_records", "upload_batches", "ack_log" },
          "INSERT INTO pieces (psd_serial, piece_count, ascending_after, "
          "descending_after, postage_mills, date_of_mailing, mode, created_at) "
          "VALUES ('PSD1', 1, 730, 99270, 730, 20260105, 'postage', 1)",
          "SELECT count(*) FROM pieces WHERE postage_mills = 730" },
  [4] = { { "refills", "installed_packages", NULL },
          "INSERT INTO upload_records (uuid, payload, created_at) "
          "VALUES ('u-1', x'01', 1)",
          "SELECT count(*) FROM upload_records WHERE uuid = 'u-1'" },
  /* Columns, not tables: an earlier estimate carries over as the model's figure. */
  [5] = { { NULL, NULL, NULL },
          "INSERT INTO print_jobs (printer, kind, impressions, ink_microlitres_estimate, "
          "state, created_at) VALUES ('Envelope printer', 'envelope', 2, 3, 'done', 1)",
          "SELECT count(*) FROM print_jobs WHERE ink_nanolitres = 3000 "
          "AND ink_source = 'model' AND printer_job_ref = ''" },
  [6] = { { "presets", NULL, NULL },
          "INSERT INTO refills (psd_serial, sequence, amount_mills, applied_at) "
          "VALUES ('PSD1', 1, 500000, 1)",
          "SELECT count(*) FROM refills WHERE amount_mills = 500000" },
};

static void
test_migration (gconstpointer data)
{
  int version = GPOINTER_TO_INT (data);
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("pm-migrate-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "postmeter.db", NULL);
  g_autoptr(PmStore) store = NULL;
  sqlite3 *db;

  store = pm_store_open_at_version_for_testing (path, version - 1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (pm_store_get_schema_version (store), ==, version - 1);
  g_clear_object (&store);

  db = open_side (path);
  for (guint i = 0; i < 3 && migration_cases[version].tables[i] != NULL; i++)
    g_assert_false (table_exists (db, migration_cases[version].tables[i]));
  if (migration_cases[version].seed_before != NULL)
    side_exec (db, migration_cases[version].seed_before);
  sqlite3_close (db);

  store = pm_store_open_at_version_for_testing (path, version, &error);
  g_assert_no_error (error);
  g_assert_cmpint (pm_store_get_schema_version (store), ==, version);
  g_clear_object (&store);

  db = open_side (path);
  g_assert_cmpint (side_int (db, "PRAGMA user_version"), ==, version);
  for (guint i = 0; i < 3 && migration_cases[version].tables[i] != NULL; i++)
    g_assert_true (table_exists (db, migration_cases[version].tables[i]));
  if (migration_cases[version].check_after != NULL)
    g_assert_cmpint (side_int (db, migration_cases[version].check_after), ==, 1);
  g_assert_cmpint (side_int (db, "SELECT count(*) FROM pragma_foreign_key_check"), ==, 0);
  sqlite3_close (db);

  remove_tree (dir);
}

static void
test_migration_too_new (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PmStore) store = NULL;
  sqlite3 *db;

  g_clear_object (&f->store);
  db = open_side (f->path);
  side_exec (db, "PRAGMA user_version = 99");
  sqlite3_close (db);

  store = pm_store_open (f->path, &error);
  g_assert_null (store);
  g_assert_error (error, PM_STORE_ERROR, PM_STORE_ERROR_TOO_NEW);
  g_assert_nonnull (strstr (error->message, "newer version"));
}

/* ---- Audit chain ---- */

static void
test_audit_chain (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) entries = NULL;
  gint64 rows = 0, broken = -1;
  sqlite3 *db;

  for (int i = 1; i <= 5; i++)
    {
      g_autofree char *detail = g_strdup_printf ("event %d", i);

      g_assert_true (pm_store_append_audit (f->store, PM_AUDIT_SIGN_IN, i, detail, &error));
      g_assert_no_error (error);
    }

  g_assert_true (pm_store_verify_audit_log (f->store, &rows, &broken, &error));
  g_assert_no_error (error);
  g_assert_cmpint (rows, ==, 5);
  g_assert_cmpint (broken, ==, 0);

  entries = pm_store_list_audit (f->store, 0, 100, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, ==, 5);
  g_assert_cmpstr (((PmAuditEntry *) entries->pdata[0])->prev_hash, ==,
                   "0000000000000000000000000000000000000000000000000000000000000000");
  for (guint i = 1; i < entries->len; i++)
    g_assert_cmpstr (((PmAuditEntry *) entries->pdata[i])->prev_hash, ==,
                     ((PmAuditEntry *) entries->pdata[i - 1])->row_hash);

  /* The triggers refuse changes through SQL. */
  db = open_side (f->path);
  g_assert_cmpint (sqlite3_exec (db, "UPDATE audit_log SET detail = 'x' WHERE id = 3",
                                 NULL, NULL, NULL), ==, SQLITE_CONSTRAINT);
  g_assert_cmpint (sqlite3_exec (db, "DELETE FROM audit_log WHERE id = 5",
                                 NULL, NULL, NULL), ==, SQLITE_CONSTRAINT);

  /* Someone who removes the triggers and edits a row is still found. */
  side_exec (db, "DROP TRIGGER audit_log_no_update");
  side_exec (db, "UPDATE audit_log SET detail = 'event 33' WHERE id = 3");
  sqlite3_close (db);

  g_assert_false (pm_store_verify_audit_log (f->store, &rows, &broken, &error));
  g_assert_error (error, PM_STORE_ERROR, PM_STORE_ERROR_AUDIT_CHAIN_BROKEN);
  g_assert_cmpint (broken, ==, 3);
  g_assert_nonnull (strstr (error->message, "row 3"));
}

static void
test_audit_chain_removed_row (Fixture       *f,
                              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  gint64 broken = -1;
  sqlite3 *db;

  for (int i = 1; i <= 4; i++)
    g_assert_true (pm_store_append_audit (f->store, PM_AUDIT_WRONG_CODE, 0, NULL, &error));

  db = open_side (f->path);
  side_exec (db, "DROP TRIGGER audit_log_no_delete");
  side_exec (db, "DELETE FROM audit_log WHERE id = 2");
  sqlite3_close (db);

  g_assert_false (pm_store_verify_audit_log (f->store, NULL, &broken, &error));
  g_assert_error (error, PM_STORE_ERROR, PM_STORE_ERROR_AUDIT_CHAIN_BROKEN);
  g_assert_cmpint (broken, ==, 3);
}

static void
verify_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  gint64 rows = -1, broken = -1;

  g_assert_true (pm_store_verify_audit_log_finish (PM_STORE (source), result, &rows,
                                                   &broken, &error));
  g_assert_no_error (error);
  g_assert_cmpint (rows, ==, 2);
  g_assert_cmpint (broken, ==, 0);
  *(gboolean *) user_data = TRUE;
}

static void
test_audit_async (Fixture       *f,
                  gconstpointer  data)
{
  gboolean done = FALSE;

  g_assert_true (pm_store_append_audit (f->store, PM_AUDIT_LOCKOUT, 0, "a", NULL));
  g_assert_true (pm_store_append_audit (f->store, PM_AUDIT_SIGN_OUT, 1, "b", NULL));
  pm_store_verify_audit_log_async (f->store, NULL, verify_cb, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

/* ---- Damaged, read-only and full disks ---- */

static void
test_corrupt_not_database (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PmStore) store = NULL;
  g_autofree char *path = g_build_filename (f->dir, "garbage.db", NULL);
  g_autofree char *junk = g_strnfill (8192, 'Z');

  g_assert_true (g_file_set_contents (path, junk, -1, NULL));
  store = pm_store_open (path, &error);
  g_assert_null (store);
  g_assert_error (error, PM_STORE_ERROR, PM_STORE_ERROR_CORRUPT);
  g_assert_nonnull (strstr (error->message, "damaged"));
  g_assert_nonnull (strstr (error->message, "Call support"));
}

static void
test_corrupt_damaged_page (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PmStore) store = NULL;
  g_autofree char *contents = NULL;
  gsize length = 0;
  sqlite3 *db;
  gint64 page_size;
  gint64 root;

  /* Give the users table pages of its own, then close so the log folds into the file. */
  g_assert_true (pm_store_run_sync (f->store, create_log_work, NULL, NULL, &error));
  for (int n = 0; n < 300; n++)
    {
      LogRow row = { 7, n };
      g_assert_true (pm_store_run_sync (f->store, insert_log_work, &row, NULL, &error));
    }
  g_clear_object (&f->store);

  db = open_side (f->path);
  page_size = side_int (db, "PRAGMA page_size");
  root = side_int (db, "SELECT rootpage FROM sqlite_master WHERE name = 'test_log'");
  sqlite3_close (db);

  /* Scribble over the table's root page, past its header. */
  g_assert_true (g_file_get_contents (f->path, &contents, &length, NULL));
  g_assert_cmpint ((gint64) length, >=, root * page_size);
  memset (contents + (root - 1) * page_size, 0x5a, page_size);
  g_assert_true (g_file_set_contents (f->path, contents, length, NULL));

  store = pm_store_open (f->path, &error);
  g_assert_null (store);
  g_assert_error (error, PM_STORE_ERROR, PM_STORE_ERROR_CORRUPT);
}

static void
test_read_only_file (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PmStore) store = NULL;

  if (geteuid () == 0)
    {
      /* root may write any file whatever its mode; the mount test covers root. */
      g_test_skip ("file modes do not bind root");
      return;
    }

  g_clear_object (&f->store);
  g_assert_cmpint (g_chmod (f->path, 0444), ==, 0);
  store = pm_store_open (f->path, &error);
  g_assert_null (store);
  g_assert_error (error, PM_STORE_ERROR, PM_STORE_ERROR_READ_ONLY);
  g_assert_nonnull (strstr (error->message, "read-only"));
}

/* Mounts a small tmpfs on @dir; FALSE when this process may not mount. The mount is
 * made in a mount namespace of this process's own, so it can never outlive the test,
 * even when an assertion stops it half-way. */
static gboolean
mount_tmpfs (const char *dir,
             const char *options)
{
  static int private_namespace = -1;

  if (private_namespace < 0)
    private_namespace = unshare (CLONE_NEWNS) == 0
                        && mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0;
  if (!private_namespace)
    return FALSE;

  return mount ("tmpfs", dir, "tmpfs", 0, options) == 0;
}

static void
test_read_only_mount (Fixture       *f,
                      gconstpointer  data)
{
  g_autofree char *mnt = g_build_filename (f->dir, "ro", NULL);
  g_autofree char *path = g_build_filename (mnt, "postmeter.db", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PmStore) store = NULL;

  g_mkdir (mnt, 0700);
  if (!mount_tmpfs (mnt, "size=4m"))
    {
      g_test_skip ("cannot mount a tmpfs here");
      return;
    }

  store = pm_store_open (path, &error);
  g_assert_no_error (error);
  g_clear_object (&store);

  g_assert_cmpint (mount ("tmpfs", mnt, "tmpfs", MS_REMOUNT | MS_RDONLY, "size=4m"), ==, 0);
  store = pm_store_open (path, &error);
  g_assert_null (store);
  g_assert_error (error, PM_STORE_ERROR, PM_STORE_ERROR_READ_ONLY);
  g_assert_nonnull (strstr (error->message, "read-only"));

  g_assert_cmpint (umount (mnt), ==, 0);
}

typedef struct
{
  int pages;
} PageLimit;

static gboolean
limit_pages_work (sqlite3  *db,
                  gpointer  data,
                  GError  **error)
{
  g_autofree char *sql = NULL;
  g_autoptr(sqlite3_stmt) count = pm_store_prepare (db, "PRAGMA page_count", error);

  if (count == NULL || sqlite3_step (count) != SQLITE_ROW)
    return FALSE;
  sql = g_strdup_printf ("PRAGMA max_page_count = %d",
                         sqlite3_column_int (count, 0) + ((PageLimit *) data)->pages);
  return pm_store_exec (db, sql, "Could not limit the database", error);
}

static gboolean
big_rows_work (sqlite3  *db,
               gpointer  data,
               GError  **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  if (!pm_store_exec (db, "CREATE TABLE IF NOT EXISTS blobs (b BLOB)",
                      "Could not create the test table", error))
    return FALSE;
  stmt = pm_store_prepare (db, "INSERT INTO blobs VALUES (zeroblob (?))", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int (stmt, 1, GPOINTER_TO_INT (data));
  return pm_store_step_done (db, stmt, "Could not save the piece", error);
}

static void
check_full (PmStore    *store,
            const char *path)
{
  g_autoptr(GError) error = NULL;
  guint before = logged_messages;
  sqlite3 *db;

  /* Small rows fit; then one that cannot fit fails plainly and leaves nothing. */
  g_assert_true (pm_store_run_sync (store, big_rows_work, GINT_TO_POINTER (100), NULL,
                                    &error));
  g_assert_no_error (error);
  g_assert_false (pm_store_run_sync (store, big_rows_work, GINT_TO_POINTER (8 << 20),
                                     NULL, &error));
  g_assert_error (error, PM_STORE_ERROR, PM_STORE_ERROR_DISK_FULL);
  g_assert_nonnull (strstr (error->message, "Could not save the piece"));
  g_assert_nonnull (strstr (error->message, "disk is full"));
  g_assert_cmpuint (logged_messages, ==, before);

  /* The store still works for what fits. */
  g_clear_error (&error);
  g_assert_true (pm_store_run_sync (store, big_rows_work, GINT_TO_POINTER (10), NULL,
                                    &error));
  g_assert_no_error (error);

  db = open_side (path);
  g_assert_cmpint (side_int (db, "SELECT count(*) FROM blobs"), ==, 2);
  g_assert_cmpint (side_int (db, "SELECT max(length (b)) FROM blobs"), ==, 100);
  sqlite3_close (db);
}

static void
test_full_page_limit (Fixture       *f,
                      gconstpointer  data)
{
  PageLimit limit = { 40 };
  g_autoptr(GError) error = NULL;

  g_assert_true (pm_store_run_sync (f->store, limit_pages_work, &limit, NULL, &error));
  g_assert_no_error (error);
  check_full (f->store, f->path);
}

static void
test_full_tmpfs (Fixture       *f,
                 gconstpointer  data)
{
  g_autofree char *mnt = g_build_filename (f->dir, "small", NULL);
  g_autofree char *path = g_build_filename (mnt, "postmeter.db", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PmStore) store = NULL;

  g_mkdir (mnt, 0700);
  if (!mount_tmpfs (mnt, "size=1m"))
    {
      g_test_skip ("cannot mount a tmpfs here");
      return;
    }

  store = pm_store_open (path, &error);
  g_assert_no_error (error);
  check_full (store, path);
  g_clear_object (&store);

  g_assert_cmpint (umount (mnt), ==, 0);
}

static void
test_missing_folder (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PmStore) store = pm_store_open ("/nonexistent-postmeter/x/postmeter.db",
                                            &error);

  g_assert_null (store);
  g_assert_error (error, PM_STORE_ERROR, PM_STORE_ERROR_CANT_OPEN);
  g_assert_nonnull (strstr (error->message, "does not exist"));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  g_log_set_writer_func (count_writer, NULL, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("/store/open/settings", test_open_settings);
  ADD ("/store/open/pragmas", test_open_pragmas);
  g_test_add_func ("/store/open/missing-folder", test_missing_folder);
  ADD ("/store/open/idle-checkpoint", test_idle_checkpoint);
  ADD ("/store/order/threads", test_order_threads);
  ADD ("/store/order/async", test_order_async);
  ADD ("/store/errors/returned", test_errors_returned);
  for (int v = 1; v <= PM_STORE_SCHEMA_VERSION; v++)
    {
      g_autofree char *path = g_strdup_printf ("/store/migrations/from-%d-to-%d", v - 1, v);
      g_test_add_data_func (path, GINT_TO_POINTER (v), test_migration);
    }
  ADD ("/store/migrations/too-new", test_migration_too_new);
  ADD ("/store/audit/tampered-row", test_audit_chain);
  ADD ("/store/audit/removed-row", test_audit_chain_removed_row);
  ADD ("/store/audit/async", test_audit_async);
  ADD ("/store/corrupt/not-a-database", test_corrupt_not_database);
  ADD ("/store/corrupt/damaged-page", test_corrupt_damaged_page);
  ADD ("/store/read-only/file", test_read_only_file);
  ADD ("/store/read-only/mount", test_read_only_mount);
  ADD ("/store/full/page-limit", test_full_page_limit);
  ADD ("/store/full/tmpfs", test_full_tmpfs);

  return g_test_run ();
}
