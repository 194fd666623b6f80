/* pm-store.c: the store thread and its queue
 *
 * The store thread is the only thread that touches the sqlite3 connection. Everything
 * else reaches it through Request messages on an ordered GAsyncQueue; work runs one
 * request at a time, so writes keep the order in which they were queued, whichever
 * thread queued them.
 */
#include "pm-store-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "pm-clock.h"

#define BUSY_TIMEOUT_MS 5000
#define IDLE_CHECKPOINT_US (5 * G_USEC_PER_SEC)

G_DEFINE_QUARK (pm-store-error-quark, pm_store_error)

typedef enum
{
  REQUEST_OPEN,
  REQUEST_RUN,
  REQUEST_QUIT,
} RequestKind;

/* A blocked caller of pm_store_run_sync() waits on this. */
typedef struct
{
  GMutex   mutex;
  GCond    cond;
  gboolean done;
  gboolean ok;
  GError  *error;
} SyncWait;

typedef struct
{
  RequestKind     kind;
  PmStoreWork     work;
  gpointer        data;       /* for sync requests: the caller's; else in task_data */
  GTask          *task;       /* owned; NULL for sync requests */
  SyncWait       *wait;       /* the caller's; NULL for async requests */
  GCancellable   *cancellable;/* owned */
} Request;

/* What the store thread needs. It is shared between the PmStore and its thread, each
 * holding a reference, so that the thread can finish cleanly even when the last
 * reference to the PmStore is dropped on the store thread itself. */
typedef struct
{
  gatomicrefcount ref;

  char         *path;           /* immutable after construction */
  int           target_version; /* immutable after construction */
  int           schema_version; /* written by the store thread before open returns */

  sqlite3      *db;             /* store thread only */
  GAsyncQueue  *queue;          /* of Request*, any thread pushes */

  GMutex        lock;           /* guards closed */
  gboolean      closed;
} StoreCore;

struct _PmStore
{
  GObject       parent_instance;

  StoreCore    *core;           /* owned, one reference */
  GThread      *thread;         /* owned; joined by pm_store_close() */
};

G_DEFINE_FINAL_TYPE (PmStore, pm_store, G_TYPE_OBJECT)

static _Thread_local gboolean on_store_thread;

gboolean
pm_store_is_store_thread (void)
{
  return on_store_thread;
}

static StoreCore *
core_new (const char *path,
          int         target_version)
{
  StoreCore *core = g_new0 (StoreCore, 1);

  g_atomic_ref_count_init (&core->ref);
  core->path = g_strdup (path);
  core->target_version = target_version;
  core->schema_version = -1;
  core->queue = g_async_queue_new ();
  g_mutex_init (&core->lock);
  return core;
}

static StoreCore *
core_ref (StoreCore *core)
{
  g_atomic_ref_count_inc (&core->ref);
  return core;
}

static void
core_unref (StoreCore *core)
{
  if (!g_atomic_ref_count_dec (&core->ref))
    return;

  g_assert (core->db == NULL);
  g_async_queue_unref (core->queue);
  g_mutex_clear (&core->lock);
  g_free (core->path);
  g_free (core);
}

/* ---- Errors ---- */

gboolean
pm_store_set_error_from_sqlite (GError     **error,
                                sqlite3     *db,
                                int          rc,
                                const char  *what)
{
  const char *detail = db != NULL ? sqlite3_errmsg (db) : sqlite3_errstr (rc);
  int code;
  const char *advice;

  switch (rc & 0xff)
    {
    case SQLITE_FULL:
      code = PM_STORE_ERROR_DISK_FULL;
      advice = "the disk is full, so nothing was saved. Free space on the disk "
               "(support can clear old logs), then try again";
      break;
    case SQLITE_READONLY:
      code = PM_STORE_ERROR_READ_ONLY;
      advice = "the database cannot be written, so nothing was saved. Check that the "
               "disk is not mounted read-only and that Postmeter owns its files";
      break;
    case SQLITE_IOERR:
      code = PM_STORE_ERROR_IO;
      advice = "the disk reported an error, so nothing was saved. Call support: the "
               "disk may be failing";
      break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      code = PM_STORE_ERROR_CORRUPT;
      advice = "the database is damaged. Printing is stopped so no postage is lost; "
               "call support and do not delete the file";
      break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      code = PM_STORE_ERROR_BUSY;
      advice = "another program is holding the database. Close it and try again";
      break;
    case SQLITE_CONSTRAINT:
      code = PM_STORE_ERROR_CONSTRAINT;
      advice = "the change breaks a rule of the database and was not saved";
      break;
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      code = PM_STORE_ERROR_CANT_OPEN;
      advice = "the database file cannot be opened. Check that its folder exists and "
               "that Postmeter may use it";
      break;
    default:
      code = PM_STORE_ERROR_FAILED;
      advice = "the database failed. Try again, and call support if it keeps failing";
      break;
    }

  g_set_error (error, PM_STORE_ERROR, code, "%s: %s (%s)", what, advice, detail);
  return FALSE;
}

sqlite3_stmt *
pm_store_prepare (sqlite3     *db,
                  const char  *sql,
                  GError     **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc;

  PM_STORE_ASSERT_THREAD ();

  rc = sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL);
  if (rc != SQLITE_OK)
    {
      pm_store_set_error_from_sqlite (error, db, rc, "Could not prepare a database query");
      sqlite3_finalize (stmt);
      return NULL;
    }

  return stmt;
}

gboolean
pm_store_step_done (sqlite3      *db,
                    sqlite3_stmt *stmt,
                    const char   *what,
                    GError      **error)
{
  int rc;

  PM_STORE_ASSERT_THREAD ();

  rc = sqlite3_step (stmt);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    return pm_store_set_error_from_sqlite (error, db, rc, what);

  return TRUE;
}

gboolean
pm_store_exec (sqlite3     *db,
               const char  *sql,
               const char  *what,
               GError     **error)
{
  int rc;

  PM_STORE_ASSERT_THREAD ();

  rc = sqlite3_exec (db, sql, NULL, NULL, NULL);
  if (rc != SQLITE_OK)
    return pm_store_set_error_from_sqlite (error, db, rc, what);

  return TRUE;
}

/* ---- Opening, on the store thread ---- */

static gboolean
check_writable (const char  *path,
                GError     **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  const char *what = NULL;
  int saved_errno = 0;

  /* SQLite would quietly fall back to reading only, and WAL needs to create files
   * beside the database: say so before anything else goes wrong. */
  if (g_access (dir, W_OK) != 0)
    {
      saved_errno = errno;
      what = dir;
    }
  else if (g_file_test (path, G_FILE_TEST_EXISTS) && g_access (path, W_OK) != 0)
    {
      saved_errno = errno;
      what = path;
    }

  if (what == NULL)
    return TRUE;

  if (saved_errno == ENOENT)
    {
      g_set_error (error, PM_STORE_ERROR, PM_STORE_ERROR_CANT_OPEN,
                   "The folder for the postage database, %s, does not exist. Create it "
                   "or check the configured path",
                   dir);
      return FALSE;
    }

  g_set_error (error, PM_STORE_ERROR, PM_STORE_ERROR_READ_ONLY,
               "The postage database cannot be written: %s is %s. Postmeter must "
               "record every piece it prints, so it cannot print. Check that the disk "
               "is not mounted read-only and that Postmeter owns %s",
               what,
               saved_errno == EROFS ? "on a read-only file system" : "read-only",
               what);
  return FALSE;
}

static gboolean
pragma_text (sqlite3     *db,
             const char  *sql,
             char       **out_text,
             GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  stmt = pm_store_prepare (db, sql, error);
  if (stmt == NULL)
    return FALSE;

  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    return pm_store_set_error_from_sqlite (error, db, rc,
                                           "Could not read the postage database");

  *out_text = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  return TRUE;
}

static gboolean
corrupt_error (GError     **error,
               const char  *path,
               const char  *detail)
{
  g_set_error (error, PM_STORE_ERROR, PM_STORE_ERROR_CORRUPT,
               "The postage database %s is damaged (%s). Printing is stopped so that no "
               "postage is lost or counted twice. Call support: keep the file, as the "
               "records can be rebuilt from it and from the postage device",
               path, detail);
  return FALSE;
}

static gboolean
check_integrity (StoreCore *self,
                 GError  **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *result = NULL;

  if (!pragma_text (self->db, "PRAGMA quick_check(1)", &result, &local_error))
    {
      if (g_error_matches (local_error, PM_STORE_ERROR, PM_STORE_ERROR_CORRUPT))
        return corrupt_error (error, self->path, "the file could not be read");
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  if (g_strcmp0 (result, "ok") != 0)
    return corrupt_error (error, self->path, result);

  return TRUE;
}

/* The database holds the users' code hashes and every piece: it is for the meter's own
 * user only. A new file is made 0600 before SQLite opens it (its journal files take the
 * same rights); an existing one loses any rights for group and others, and keeps the rest
 * (a file made read-only stays read-only). */
static void
keep_private (const char *path)
{
  GStatBuf st;
  int fd = g_open (path, O_WRONLY | O_CREAT | O_EXCL, 0600);

  if (fd >= 0)
    {
      close (fd);
      return;
    }
  if (g_stat (path, &st) == 0 && (st.st_mode & 077) != 0)
    g_chmod (path, st.st_mode & 0700);
}

static gboolean
open_database (StoreCore *self,
               GError  **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *mode = NULL;
  int rc;

  PM_STORE_ASSERT_THREAD ();

  if (!check_writable (self->path, error))
    return FALSE;
  keep_private (self->path);

  rc = sqlite3_open_v2 (self->path, &self->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL);
  if (rc != SQLITE_OK)
    {
      pm_store_set_error_from_sqlite (error, self->db, rc,
                                      "Could not open the postage database");
      return FALSE;
    }

  sqlite3_extended_result_codes (self->db, 1);
  sqlite3_busy_timeout (self->db, BUSY_TIMEOUT_MS);

  if (sqlite3_db_readonly (self->db, "main") == 1)
    {
      g_set_error (error, PM_STORE_ERROR, PM_STORE_ERROR_READ_ONLY,
                   "The postage database %s could only be opened for reading. Postmeter "
                   "must record every piece it prints, so it cannot print. Check that "
                   "the disk is not mounted read-only",
                   self->path);
      return FALSE;
    }

  /* The first statement reads the header: a file that is not a database fails here. */
  if (!pragma_text (self->db, "PRAGMA journal_mode=WAL", &mode, &local_error))
    {
      if (g_error_matches (local_error, PM_STORE_ERROR, PM_STORE_ERROR_CORRUPT))
        return corrupt_error (error, self->path, "it is not a Postmeter database");
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  if (g_ascii_strcasecmp (mode, "wal") != 0)
    {
      g_set_error (error, PM_STORE_ERROR, PM_STORE_ERROR_FAILED,
                   "The postage database %s could not use write-ahead logging (it is in "
                   "\"%s\" mode). Move it to a local disk",
                   self->path, mode);
      return FALSE;
    }

  /* synchronous is per connection: a printed piece must survive a power cut. */
  if (!pm_store_exec (self->db,
                      "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
                      "Could not set up the postage database", error))
    return FALSE;

  if (!check_integrity (self, error))
    return FALSE;

  if (!pm_store_schema_migrate (self->db, self->target_version, error))
    {
      g_prefix_error (error, "The postage database %s could not be updated: ",
                      self->path);
      return FALSE;
    }

  self->schema_version = pm_store_schema_get_version (self->db, error);
  if (self->schema_version < 0)
    return FALSE;

  g_debug ("Opened %s at schema version %d", self->path, self->schema_version);
  return TRUE;
}

/* ---- Running work ---- */

static gboolean
run_in_transaction (StoreCore    *self,
                    PmStoreWork   work,
                    gpointer      data,
                    GError      **error)
{
  g_autoptr(GError) local_error = NULL;
  int rc;

  PM_STORE_ASSERT_THREAD ();

  if (self->db == NULL)
    {
      g_set_error (error, PM_STORE_ERROR, PM_STORE_ERROR_CLOSED,
                   "The postage database is not open");
      return FALSE;
    }

  rc = sqlite3_exec (self->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
  if (rc != SQLITE_OK)
    return pm_store_set_error_from_sqlite (error, self->db, rc,
                                           "Could not start a database transaction");

  if (work (self->db, data, &local_error))
    {
      rc = sqlite3_exec (self->db, "COMMIT", NULL, NULL, NULL);
      if (rc == SQLITE_OK)
        return TRUE;
      pm_store_set_error_from_sqlite (&local_error, self->db, rc,
                                      "Could not save the change");
    }

  /* SQLite may have rolled back already (a full disk does that). */
  if (!sqlite3_get_autocommit (self->db))
    sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);

  if (local_error == NULL)
    g_set_error (&local_error, PM_STORE_ERROR, PM_STORE_ERROR_FAILED,
                 "A database step failed without saying why; nothing was saved");

  g_propagate_error (error, g_steal_pointer (&local_error));
  return FALSE;
}

static void
request_free (Request *request)
{
  g_clear_object (&request->task);
  g_clear_object (&request->cancellable);
  g_free (request);
}

static void
request_complete (Request  *request,
                  gboolean  ok,
                  GError   *error)
{
  if (request->wait != NULL)
    {
      SyncWait *wait = request->wait;

      g_mutex_lock (&wait->mutex);
      wait->ok = ok;
      wait->error = error;
      wait->done = TRUE;
      g_cond_signal (&wait->cond);
      g_mutex_unlock (&wait->mutex);
    }
  else if (request->task == NULL)
    g_clear_error (&error);   /* quit: nobody waits for it */
  else if (ok)
    g_task_return_boolean (request->task, TRUE);
  else
    g_task_return_error (request->task, error);
}

static gpointer
store_thread_main (gpointer user_data)
{
  StoreCore *self = user_data;   /* the thread's own reference */
  gboolean quit = FALSE;
  int checkpointed_changes = 0;

  on_store_thread = TRUE;

  while (!quit)
    {
      Request *request;
      GError *error = NULL;
      gboolean ok = FALSE;
      gpointer data;

      /* After writes, an idle spell folds the write-ahead log back into the database,
       * so the log does not grow for as long as the kiosk runs. */
      if (self->db != NULL && sqlite3_total_changes (self->db) != checkpointed_changes)
        {
          request = g_async_queue_timeout_pop (self->queue, IDLE_CHECKPOINT_US);
          if (request == NULL)
            {
              int rc = sqlite3_exec (self->db, "PRAGMA wal_checkpoint(TRUNCATE)",
                                     NULL, NULL, NULL);

              /* A checkpoint that cannot run now loses nothing: the log still holds
               * every commit, and the next idle spell tries again. */
              if (rc != SQLITE_OK)
                g_debug ("Idle checkpoint postponed: %s", sqlite3_errstr (rc));
              checkpointed_changes = sqlite3_total_changes (self->db);
              continue;
            }
        }
      else
        request = g_async_queue_pop (self->queue);

      data = request->task != NULL ? g_task_get_task_data (request->task)
                                   : request->data;

      switch (request->kind)
        {
        case REQUEST_OPEN:
          ok = open_database (self, &error);
          if (!ok && self->db != NULL)
            {
              sqlite3_close_v2 (self->db);
              self->db = NULL;
            }
          break;

        case REQUEST_RUN:
          if (g_cancellable_set_error_if_cancelled (request->cancellable, &error))
            ok = FALSE;
          else
            ok = run_in_transaction (self, request->work, data, &error);
          break;

        case REQUEST_QUIT:
          if (self->db != NULL)
            {
              /* Folds the log back into the database so the file stands alone. */
              sqlite3_exec (self->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
              sqlite3_close_v2 (self->db);
              self->db = NULL;
            }
          ok = TRUE;
          quit = TRUE;
          break;

        default:
          g_assert_not_reached ();
        }

      request_complete (request, ok, error);
      request_free (request);
    }

  on_store_thread = FALSE;
  core_unref (self);
  return NULL;
}

/* Queues @request, or fails it at once when the store is closed. */
static void
push_request (StoreCore *self,
              Request *request)
{
  gboolean closed;

  g_mutex_lock (&self->lock);
  closed = self->closed;
  if (!closed)
    g_async_queue_push (self->queue, request);
  g_mutex_unlock (&self->lock);

  if (closed)
    {
      request_complete (request, FALSE,
                        g_error_new (PM_STORE_ERROR, PM_STORE_ERROR_CLOSED,
                                     "The postage database is closed; restart "
                                     "Postmeter"));
      request_free (request);
    }
}

void
pm_store_call_async (PmStore             *self,
                     PmStoreWork          work,
                     gpointer             data,
                     GDestroyNotify       destroy,
                     GCancellable        *cancellable,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data,
                     gpointer             source_tag)
{
  Request *request;

  g_return_if_fail (PM_IS_STORE (self));
  g_return_if_fail (work != NULL);

  request = g_new0 (Request, 1);
  request->kind = REQUEST_RUN;
  request->work = work;
  request->task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (request->task, source_tag);
  g_task_set_task_data (request->task, data, destroy);
  request->cancellable = cancellable != NULL ? g_object_ref (cancellable) : NULL;

  push_request (self->core, request);
}

gpointer
pm_store_call_finish (PmStore       *self,
                      GAsyncResult  *result,
                      gpointer       source_tag,
                      GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, NULL);

  if (!g_task_propagate_boolean (G_TASK (result), error))
    return NULL;

  return g_task_get_task_data (G_TASK (result));
}

void
pm_store_run_async (PmStore             *self,
                    PmStoreWork          work,
                    gpointer             data,
                    GDestroyNotify       destroy,
                    GCancellable        *cancellable,
                    GAsyncReadyCallback  callback,
                    gpointer             user_data)
{
  pm_store_call_async (self, work, data, destroy, cancellable, callback, user_data,
                       pm_store_run_async);
}

gboolean
pm_store_run_finish (PmStore       *self,
                     GAsyncResult  *result,
                     GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == pm_store_run_async,
                        FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static gboolean
wait_for (PmStore      *self,
          RequestKind   kind,
          PmStoreWork   work,
          gpointer      data,
          GCancellable *cancellable,
          GError      **error)
{
  SyncWait wait = { 0 };
  Request *request;
  gboolean ok;

  g_mutex_init (&wait.mutex);
  g_cond_init (&wait.cond);

  request = g_new0 (Request, 1);
  request->kind = kind;
  request->work = work;
  request->data = data;
  request->wait = &wait;
  request->cancellable = cancellable != NULL ? g_object_ref (cancellable) : NULL;

  push_request (self->core, request);

  g_mutex_lock (&wait.mutex);
  while (!wait.done)
    g_cond_wait (&wait.cond, &wait.mutex);
  g_mutex_unlock (&wait.mutex);

  ok = wait.ok;
  if (!ok)
    g_propagate_error (error, wait.error);
  else
    g_clear_error (&wait.error);

  g_mutex_clear (&wait.mutex);
  g_cond_clear (&wait.cond);
  return ok;
}

gboolean
pm_store_run_sync (PmStore       *self,
                   PmStoreWork    work,
                   gpointer       data,
                   GCancellable  *cancellable,
                   GError       **error)
{
  g_return_val_if_fail (PM_IS_STORE (self), FALSE);
  g_return_val_if_fail (work != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  /* Waiting on our own queue would never end. */
  g_return_val_if_fail (!pm_store_is_store_thread (), FALSE);

  return wait_for (self, REQUEST_RUN, work, data, cancellable, error);
}

/* ---- Life cycle ---- */

static PmStore *
store_new (const char *path,
           int         target_version)
{
  PmStore *self = g_object_new (PM_TYPE_STORE, NULL);

  self->core = core_new (path, target_version);
  self->thread = g_thread_new ("pm-store", store_thread_main, core_ref (self->core));
  return self;
}

static PmStore *
open_sync (const char  *path,
           int          target_version,
           GError     **error)
{
  g_autoptr(PmStore) self = store_new (path, target_version);

  if (!wait_for (self, REQUEST_OPEN, NULL, NULL, NULL, error))
    return NULL;

  return g_steal_pointer (&self);
}

PmStore *
pm_store_open (const char  *path,
               GError     **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return open_sync (path, PM_STORE_SCHEMA_VERSION, error);
}

PmStore *
pm_store_open_at_version_for_testing (const char  *path,
                                      int          version,
                                      GError     **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (version >= 0 && version <= PM_STORE_SCHEMA_VERSION, NULL);

  return open_sync (path, version, error);
}

static void
open_thread_cb (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  GError *error = NULL;
  PmStore *store = open_sync (task_data, PM_STORE_SCHEMA_VERSION, &error);

  if (store == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, store, g_object_unref);
}

void
pm_store_open_async (const char          *path,
                     GCancellable        *cancellable,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (path != NULL);

  /* Waiting for the open is cheap next to a sign-in; a short-lived helper thread keeps
   * the caller's thread free while the store thread does the work. */
  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, pm_store_open_async);
  g_task_set_task_data (task, g_strdup (path), g_free);
  g_task_run_in_thread (task, open_thread_cb);
}

PmStore *
pm_store_open_finish (GAsyncResult  *result,
                      GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

const char *
pm_store_get_path (PmStore *self)
{
  g_return_val_if_fail (PM_IS_STORE (self), NULL);

  return self->core->path;
}

int
pm_store_get_schema_version (PmStore *self)
{
  g_return_val_if_fail (PM_IS_STORE (self), -1);

  return self->core->schema_version;
}

void
pm_store_close (PmStore *self)
{
  Request *request;
  GThread *thread;

  g_return_if_fail (PM_IS_STORE (self));

  g_mutex_lock (&self->core->lock);
  if (self->core->closed)
    {
      g_mutex_unlock (&self->core->lock);
      return;
    }
  request = g_new0 (Request, 1);
  request->kind = REQUEST_QUIT;
  g_async_queue_push (self->core->queue, request);
  self->core->closed = TRUE;
  g_mutex_unlock (&self->core->lock);

  thread = g_steal_pointer (&self->thread);
  if (thread == g_thread_self ())
    g_thread_unref (thread);   /* the last reference went on the store thread itself */
  else
    g_thread_join (thread);
}

static void
pm_store_finalize (GObject *object)
{
  PmStore *self = PM_STORE (object);

  pm_store_close (self);
  core_unref (self->core);

  G_OBJECT_CLASS (pm_store_parent_class)->finalize (object);
}

static void
pm_store_class_init (PmStoreClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = pm_store_finalize;
}

static void
pm_store_init (PmStore *self)
{
}
