/* pm-store.h: the SQLite store, on its own thread
 *
 * One thread owns the only connection to the database. Callers hand it work as
 * messages on a queue: each piece of work runs inside its own transaction
 * (BEGIN IMMEDIATE ... COMMIT, rolled back if the work fails), work runs in the order
 * it was queued, and the result or GError comes back on the caller's thread-default main
 * context (`_async`/`_finish`), or to a blocked caller (`_sync`, for worker threads and
 * command-line tools; never from the main thread of the kiosk).
 *
 * Typed calls for each kind of record sit on top of this in pm-store-*.h. A work
 * function receives the connection and runs on the store thread only; it must return
 * errors through the GError and never keep the connection or a statement.
 *
 * Opening sets WAL, synchronous=FULL, foreign keys and a busy timeout, brings the schema
 * up to date through numbered migrations (PRAGMA user_version), and runs quick_check:
 * a damaged file is refused with PM_STORE_ERROR_CORRUPT rather than used.
 */
#pragma once

#include <gio/gio.h>
#include <sqlite3.h>

G_BEGIN_DECLS

#define PM_STORE_ERROR (pm_store_error_quark ())

typedef enum
{
  PM_STORE_ERROR_FAILED,             /* anything not listed below */
  PM_STORE_ERROR_CANT_OPEN,          /* missing folder, no permission */
  PM_STORE_ERROR_CORRUPT,            /* damaged or not a database: stop printing */
  PM_STORE_ERROR_DISK_FULL,
  PM_STORE_ERROR_READ_ONLY,          /* file or file system cannot be written */
  PM_STORE_ERROR_IO,                 /* the disk reported a read or write error */
  PM_STORE_ERROR_BUSY,               /* another program holds the database */
  PM_STORE_ERROR_CONSTRAINT,         /* a rule of the schema refused the change */
  PM_STORE_ERROR_TOO_NEW,            /* written by a newer Postmeter */
  PM_STORE_ERROR_CLOSED,             /* the store was closed */
  PM_STORE_ERROR_NOT_FOUND,          /* no such record */
  PM_STORE_ERROR_INVALID,            /* a value the store does not accept */
  PM_STORE_ERROR_AUDIT_CHAIN_BROKEN, /* the audit log was altered; see the message */
  PM_STORE_ERROR_RECEIPT_MISMATCH,   /* an upload receipt does not match its batch */
} PmStoreError;

GQuark pm_store_error_quark (void);

/* The schema version this build writes and expects. */
#define PM_STORE_SCHEMA_VERSION 5

/* Runs on the store thread inside one transaction. Return FALSE with @error set to roll
 * the transaction back. */
typedef gboolean (*PmStoreWork) (sqlite3  *db,
                                 gpointer  data,
                                 GError  **error);

#define PM_TYPE_STORE (pm_store_get_type ())
G_DECLARE_FINAL_TYPE (PmStore, pm_store, PM, STORE, GObject)

/* Opening blocks until the database is ready: use pm_store_open_async() on the main
 * thread. */
PmStore    *pm_store_open               (const char           *path,
                                         GError              **error);
void        pm_store_open_async         (const char           *path,
                                         GCancellable         *cancellable,
                                         GAsyncReadyCallback   callback,
                                         gpointer              user_data);
PmStore    *pm_store_open_finish        (GAsyncResult         *result,
                                         GError              **error);

/* TEST ONLY: opens with the schema brought up to @version and no further, so migration
 * tests can start from the version before the one they test. */
PmStore    *pm_store_open_at_version_for_testing (const char  *path,
                                                  int          version,
                                                  GError     **error);

const char *pm_store_get_path           (PmStore              *self);
int         pm_store_get_schema_version (PmStore              *self);

/* Runs the work already queued, then closes the connection; later requests fail with
 * PM_STORE_ERROR_CLOSED. Blocks until the database is closed. Also done on finalize. */
void        pm_store_close              (PmStore              *self);

void        pm_store_run_async          (PmStore              *self,
                                         PmStoreWork           work,
                                         gpointer              data,
                                         GDestroyNotify        destroy,
                                         GCancellable         *cancellable,
                                         GAsyncReadyCallback   callback,
                                         gpointer              user_data);
gboolean    pm_store_run_finish         (PmStore              *self,
                                         GAsyncResult         *result,
                                         GError              **error);

/* Blocks until @work has run. Not on the store thread itself, and not on a thread that
 * must stay responsive. @data stays owned by the caller. */
gboolean    pm_store_run_sync           (PmStore              *self,
                                         PmStoreWork           work,
                                         gpointer              data,
                                         GCancellable         *cancellable,
                                         GError              **error);

/* ---- For work functions (store thread only) ---- */

gboolean      pm_store_is_store_thread  (void);
#define PM_STORE_ASSERT_THREAD() g_assert (pm_store_is_store_thread ())

/* Sets @error from an SQLite result code, with a plain message that begins with @what
 * ("Could not save the piece") and says what to do. Always returns FALSE. */
gboolean      pm_store_set_error_from_sqlite (GError  **error,
                                              sqlite3  *db,
                                              int       rc,
                                              const char *what);

/* Prepares @sql; on failure sets @error and returns NULL. */
sqlite3_stmt *pm_store_prepare          (sqlite3     *db,
                                         const char  *sql,
                                         GError     **error);
/* Steps a statement that returns no rows. */
gboolean      pm_store_step_done        (sqlite3      *db,
                                         sqlite3_stmt *stmt,
                                         const char   *what,
                                         GError      **error);
/* Runs SQL with no parameters (schema, pragmas). */
gboolean      pm_store_exec             (sqlite3     *db,
                                         const char  *sql,
                                         const char  *what,
                                         GError     **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)

G_END_DECLS
