/* pm-store-schema.c: the numbered migrations (store thread only)
 *
 * The schema version is PRAGMA user_version. Migration N takes a database at version
 * N - 1 to version N, inside one transaction that also sets the version, so a crash or
 * a full disk leaves the database wholly at one version or the next. A migration, once
 * released, never changes: a new need is a new migration.
 */
#include "pm-store-private.h"

#include "pm-clock.h"

typedef struct
{
  int         version;
  const char *what;
  const char *sql;
} Migration;

static const Migration migrations[] = {
  { 1, "users, access codes, audit log, cost accounts and settings",
    "CREATE TABLE users ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL CHECK (length (name) BETWEEN 1 AND 64),"
    "  role TEXT NOT NULL CHECK (role IN ('operator', 'supervisor', 'support')),"
    "  code_hash TEXT NOT NULL,"
    "  active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),"
    "  created_at INTEGER NOT NULL,"
    "  last_sign_in INTEGER NOT NULL DEFAULT 0);"
    /* One row: the keypad's failure count and lockout, kept across restarts. */
    "CREATE TABLE access_state ("
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  failures INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0),"
    "  locked_until_us INTEGER NOT NULL DEFAULT 0);"
    "INSERT INTO access_state (id) VALUES (1);"
    /* Rows are never deleted, so ids are dense and the chain has no gaps. user_id has
     * no foreign key: a log row must never stop anything from being recorded. */
    "CREATE TABLE audit_log ("
    "  id INTEGER PRIMARY KEY,"
    "  at_us INTEGER NOT NULL,"
    "  event TEXT NOT NULL,"
    "  user_id INTEGER,"
    "  detail TEXT NOT NULL DEFAULT '',"
    "  prev_hash TEXT NOT NULL,"
    "  row_hash TEXT NOT NULL);"
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log"
    "  BEGIN SELECT RAISE (ABORT, 'the audit log is append-only'); END;"
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log"
    "  BEGIN SELECT RAISE (ABORT, 'the audit log is append-only'); END;"
    "CREATE TABLE cost_accounts ("
    "  id INTEGER PRIMARY KEY,"
    "  parent_id INTEGER REFERENCES cost_accounts (id),"
    "  code TEXT NOT NULL UNIQUE CHECK (length (code) BETWEEN 1 AND 32),"
    "  name TEXT NOT NULL CHECK (length (name) BETWEEN 1 AND 75),"
    "  description TEXT NOT NULL DEFAULT '' CHECK (length (description) <= 150),"
    "  active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),"
    "  created INTEGER NOT NULL);"
    "CREATE INDEX cost_accounts_by_parent ON cost_accounts (parent_id);"
    "INSERT INTO cost_accounts (id, code, name, description, created)"
    "  VALUES (1, 'GENERAL', 'General', 'Mail not charged to another account',"
    "          :now_s);"
    "CREATE TABLE settings_kv ("
    "  key TEXT PRIMARY KEY,"
    "  value TEXT NOT NULL,"
    "  updated_at INTEGER NOT NULL);" },

  { 2, "pieces and print jobs",
    "CREATE TABLE pieces ("
    "  id INTEGER PRIMARY KEY,"
    "  psd_serial TEXT NOT NULL,"
    "  piece_count INTEGER NOT NULL CHECK (piece_count >= 0),"
    "  ascending_after INTEGER NOT NULL CHECK (ascending_after >= 0),"
    "  descending_after INTEGER NOT NULL,"
    "  postage_mills INTEGER NOT NULL CHECK (postage_mills >= 0),"
    "  date_of_mailing INTEGER NOT NULL"
    "    CHECK (date_of_mailing BETWEEN 19700101 AND 99991231),"
    "  mode TEXT NOT NULL CHECK (mode IN ('postage', 'additional', 'key-in',"
    "                                     're-date', 'date-stamp', 'graphic')),"
    "  class_code TEXT NOT NULL DEFAULT '',"
    "  services TEXT NOT NULL DEFAULT '',"
    "  weight TEXT NOT NULL DEFAULT '',"
    "  origin_zip TEXT NOT NULL DEFAULT '',"
    "  destination_zip TEXT NOT NULL DEFAULT '',"
    "  account_id INTEGER REFERENCES cost_accounts (id),"
    "  user_id INTEGER REFERENCES users (id),"
    "  indicium BLOB,"
    "  print_state TEXT NOT NULL DEFAULT 'pending'"
    "    CHECK (print_state IN ('pending', 'printed', 'failed', 'unknown')),"
    "  print_detail TEXT NOT NULL DEFAULT '',"
    "  created_at INTEGER NOT NULL,"
    "  printed_at INTEGER,"
    "  UNIQUE (psd_serial, piece_count));"
    "CREATE INDEX pieces_by_created ON pieces (created_at);"
    "CREATE TABLE print_jobs ("
    "  id INTEGER PRIMARY KEY,"
    "  piece_id INTEGER REFERENCES pieces (id),"
    "  printer TEXT NOT NULL,"
    "  kind TEXT NOT NULL CHECK (kind IN ('envelope', 'label', 'report')),"
    "  impressions INTEGER NOT NULL DEFAULT 0 CHECK (impressions >= 0),"
    "  ink_microlitres_estimate INTEGER NOT NULL DEFAULT 0"
    "    CHECK (ink_microlitres_estimate >= 0),"
    "  state TEXT NOT NULL CHECK (state IN ('queued', 'printing', 'done', 'failed',"
    "                                       'cancelled')),"
    "  detail TEXT NOT NULL DEFAULT '',"
    "  created_at INTEGER NOT NULL,"
    "  finished_at INTEGER);"
    "CREATE INDEX print_jobs_by_created ON print_jobs (created_at);" },

  { 3, "the upload outbox",
    "CREATE TABLE upload_batches ("
    "  id TEXT PRIMARY KEY,"
    "  state TEXT NOT NULL CHECK (state IN ('OPEN', 'SEALED', 'SENT', 'ACKED')),"
    "  payload BLOB,"
    "  payload_sha256 TEXT,"
    "  first_seq INTEGER,"
    "  last_seq INTEGER,"
    "  count INTEGER,"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_attempt_at INTEGER NOT NULL DEFAULT 0,"
    "  receipt TEXT,"
    "  sealed_at INTEGER,"
    "  acked_at INTEGER);"
    /* AUTOINCREMENT: a seq is never reused after its record is deleted, so the data
     * center can spot a gap. */
    "CREATE TABLE upload_records ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  uuid TEXT NOT NULL UNIQUE,"
    "  payload BLOB NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  piece_id INTEGER REFERENCES pieces (id),"
    "  batch_id TEXT REFERENCES upload_batches (id));"
    "CREATE INDEX upload_records_by_batch ON upload_records (batch_id);"
    "CREATE TABLE ack_log ("
    "  batch_id TEXT NOT NULL,"
    "  receipt TEXT NOT NULL,"
    "  first_seq INTEGER NOT NULL,"
    "  last_seq INTEGER NOT NULL,"
    "  count INTEGER NOT NULL,"
    "  acked_at INTEGER NOT NULL);" },

  { 4, "refills and installed packages",
    "CREATE TABLE refills ("
    "  id INTEGER PRIMARY KEY,"
    "  psd_serial TEXT NOT NULL,"
    "  sequence INTEGER NOT NULL CHECK (sequence > 0),"
    "  amount_mills INTEGER NOT NULL CHECK (amount_mills > 0),"
    "  receipt TEXT NOT NULL DEFAULT '',"
    "  applied_at INTEGER NOT NULL,"
    "  UNIQUE (psd_serial, sequence));"
    "CREATE TABLE installed_packages ("
    "  id INTEGER PRIMARY KEY,"
    "  type TEXT NOT NULL,"
    "  version TEXT NOT NULL,"
    "  sha256 TEXT NOT NULL CHECK (length (sha256) = 64),"
    "  path TEXT NOT NULL,"
    "  effective INTEGER NOT NULL,"
    "  installed_at INTEGER NOT NULL,"
    "  UNIQUE (type, version));" },

  /* Ink per job in nanolitres: an impression uses about 1.5 microlitres, so whole
   * microlitres per job would round a day's total by a third. Earlier estimates carry
   * over as the model figures they were. */
  { 5, "print job usage: ink in nanolitres, its source, the printer's job reference",
    "ALTER TABLE print_jobs ADD COLUMN ink_nanolitres INTEGER NOT NULL DEFAULT 0"
    "  CHECK (ink_nanolitres >= 0);"
    "ALTER TABLE print_jobs ADD COLUMN ink_source TEXT NOT NULL DEFAULT 'none'"
    "  CHECK (ink_source IN ('none', 'model', 'printer'));"
    "ALTER TABLE print_jobs ADD COLUMN printer_job_ref TEXT NOT NULL DEFAULT '';"
    "UPDATE print_jobs SET ink_nanolitres = ink_microlitres_estimate * 1000,"
    "  ink_source = CASE WHEN ink_microlitres_estimate > 0 THEN 'model' ELSE 'none' END;"
    "CREATE INDEX print_jobs_by_printer ON print_jobs (printer, created_at);" },
};

G_STATIC_ASSERT (G_N_ELEMENTS (migrations) == PM_STORE_SCHEMA_VERSION);

int
pm_store_schema_get_version (sqlite3  *db,
                             GError  **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  PM_STORE_ASSERT_THREAD ();

  stmt = pm_store_prepare (db, "PRAGMA user_version", error);
  if (stmt == NULL)
    return -1;

  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    {
      pm_store_set_error_from_sqlite (error, db, rc, "Could not read the schema version");
      return -1;
    }

  return sqlite3_column_int (stmt, 0);
}

/* Runs every statement of @sql, binding :now_s where a statement asks for it. */
static gboolean
run_script (sqlite3     *db,
            const char  *sql,
            const char  *what,
            GError     **error)
{
  const char *next = sql;

  while (next != NULL && *next != '\0')
    {
      g_autoptr(sqlite3_stmt) stmt = NULL;
      const char *tail = NULL;
      int index;
      int rc;

      rc = sqlite3_prepare_v2 (db, next, -1, &stmt, &tail);
      if (rc != SQLITE_OK)
        return pm_store_set_error_from_sqlite (error, db, rc, what);
      next = tail;
      if (stmt == NULL)
        continue;   /* trailing white space */

      index = sqlite3_bind_parameter_index (stmt, ":now_s");
      if (index > 0)
        sqlite3_bind_int64 (stmt, index, pm_clock_now_s ());

      if (!pm_store_step_done (db, stmt, what, error))
        return FALSE;
    }

  return TRUE;
}

static gboolean
apply (sqlite3          *db,
       const Migration  *migration,
       GError          **error)
{
  g_autofree char *set_version = NULL;
  g_autofree char *what = NULL;
  int rc;

  what = g_strdup_printf ("Could not add %s (schema version %d)",
                          migration->what, migration->version);

  rc = sqlite3_exec (db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
  if (rc != SQLITE_OK)
    return pm_store_set_error_from_sqlite (error, db, rc, what);

  set_version = g_strdup_printf ("PRAGMA user_version = %d", migration->version);
  if (!run_script (db, migration->sql, what, error)
      || !run_script (db, set_version, what, error))
    {
      if (!sqlite3_get_autocommit (db))
        sqlite3_exec (db, "ROLLBACK", NULL, NULL, NULL);
      return FALSE;
    }

  rc = sqlite3_exec (db, "COMMIT", NULL, NULL, NULL);
  if (rc != SQLITE_OK)
    {
      pm_store_set_error_from_sqlite (error, db, rc, what);
      if (!sqlite3_get_autocommit (db))
        sqlite3_exec (db, "ROLLBACK", NULL, NULL, NULL);
      return FALSE;
    }

  return TRUE;
}

gboolean
pm_store_schema_migrate (sqlite3  *db,
                         int       target,
                         GError  **error)
{
  int version;

  PM_STORE_ASSERT_THREAD ();

  version = pm_store_schema_get_version (db, error);
  if (version < 0)
    return FALSE;

  if (version > PM_STORE_SCHEMA_VERSION)
    {
      g_set_error (error, PM_STORE_ERROR, PM_STORE_ERROR_TOO_NEW,
                   "it was written by a newer version of Postmeter (schema %d; this "
                   "version knows up to %d). Install that version again",
                   version, PM_STORE_SCHEMA_VERSION);
      return FALSE;
    }

  for (gsize i = 0; i < G_N_ELEMENTS (migrations); i++)
    {
      const Migration *migration = &migrations[i];

      g_assert (migration->version == (int) i + 1);
      if (migration->version <= version || migration->version > target)
        continue;

      if (!apply (db, migration, error))
        return FALSE;

      /* Creating a new database is routine; upgrading one is worth a journal line. */
      if (version > 0)
        g_message ("Postage database upgraded to schema version %d (%s)",
                   migration->version, migration->what);
      else
        g_debug ("Postage database schema version %d created (%s)",
                 migration->version, migration->what);
    }

  return TRUE;
}
