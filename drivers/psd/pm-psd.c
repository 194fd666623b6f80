/* pm-psd.c: the PSD interface, its boxed types and its worker thread
 *
 * Each PSD instance gets one worker thread, made on first use. Every call, _async or _sync,
 * becomes a job on that thread's queue, so operations run one at a time, on that thread, in
 * the order they were asked for. An async result goes back through its GTask to the main
 * context that was the caller's thread default; a blocking caller waits on a condition.
 */
#include "pm-psd.h"

#include <string.h>

G_DEFINE_QUARK (pm-psd-error-quark, pm_psd_error)
G_DEFINE_INTERFACE (PmPsd, pm_psd, G_TYPE_OBJECT)
G_DEFINE_BOXED_TYPE (PmPsdStatus, pm_psd_status, pm_psd_status_copy, pm_psd_status_free)
G_DEFINE_BOXED_TYPE (PmPsdDebitResult, pm_psd_debit_result, pm_psd_debit_result_copy,
                     pm_psd_debit_result_free)

static void
pm_psd_default_init (PmPsdInterface *iface)
{
}

/* status and results */

PmPsdStatus *
pm_psd_status_copy (const PmPsdStatus *status)
{
  PmPsdStatus *copy;

  g_return_val_if_fail (status != NULL, NULL);

  copy = g_memdup2 (status, sizeof *status);
  copy->lock_message = g_strdup (status->lock_message);

  return copy;
}

void
pm_psd_status_free (PmPsdStatus *status)
{
  if (status == NULL)
    return;

  g_free (status->lock_message);
  g_free (status);
}

gboolean
pm_psd_status_is_locked (const PmPsdStatus *status)
{
  g_return_val_if_fail (status != NULL, TRUE);

  return status->lock_reason != PM_PSD_LOCK_NONE;
}

const char *
pm_psd_lock_reason_to_string (PmPsdLockReason reason)
{
  switch (reason)
    {
    case PM_PSD_LOCK_NONE:
      return "not locked";
    case PM_PSD_LOCK_WATCHDOG:
      return "inspection overdue";
    case PM_PSD_LOCK_MANUAL:
      return "locked on request";
    case PM_PSD_LOCK_DAMAGED:
      return "damaged state";
    case PM_PSD_LOCK_WITHDRAWN:
      return "withdrawn from service";
    default:
      return "unknown";
    }
}

const char *
pm_psd_inspection_state_to_string (PmPsdInspectionState state)
{
  switch (state)
    {
    case PM_PSD_INSPECTION_OK:
      return "OK";
    case PM_PSD_INSPECTION_WARNING:
      return "inspection due";
    case PM_PSD_INSPECTION_LOCKED:
      return "inspection required";
    default:
      return "unknown";
    }
}

PmPsdDebitResult *
pm_psd_debit_result_copy (const PmPsdDebitResult *result)
{
  PmPsdDebitResult *copy;

  g_return_val_if_fail (result != NULL, NULL);

  copy = g_new0 (PmPsdDebitResult, 1);
  copy->indicium = result->indicium != NULL ? g_bytes_ref (result->indicium) : NULL;
  copy->entry = result->entry;
  copy->status = result->status != NULL ? pm_psd_status_copy (result->status) : NULL;

  return copy;
}

void
pm_psd_debit_result_free (PmPsdDebitResult *result)
{
  if (result == NULL)
    return;

  g_clear_pointer (&result->indicium, g_bytes_unref);
  g_clear_pointer (&result->status, pm_psd_status_free);
  g_free (result);
}

/* the worker */

typedef struct
{
  GThreadPool *pool;     /* one exclusive thread; owned */
  GThread     *thread;   /* that thread, once it has run a job; atomic, set only by it */
} Worker;

typedef enum
{
  OP_STATUS,
  OP_INSTALL,
  OP_DEBIT,
  OP_REFILL,
  OP_AUDIT_REQUEST,
  OP_AUDIT_ANSWER,
  OP_LOCK,
  OP_WITHDRAW,
  OP_JOURNAL,
  OP_CERTIFICATE,
} OpKind;

typedef struct
{
  OpKind             kind;
  GBytes            *message;     /* owned; install, refill, audit answer */
  PmPsdDebitRequest  request;     /* debit */
  char              *reason;      /* owned; lock */
  guint              max_entries; /* journal */
} Op;

/* A blocking caller waits on this while the worker runs its operation. */
typedef struct
{
  GMutex          lock;
  GCond           cond;
  gboolean        done;
  gpointer        result;
  GError         *error;
} SyncWait;

/* One queued operation: either a GTask (async) or a SyncWait (blocking). */
typedef struct
{
  PmPsd     *psd;      /* a reference for async jobs; borrowed for blocking ones */
  Op        *op;       /* owned */
  GTask     *task;     /* owned; NULL for a blocking job */
  SyncWait  *wait;     /* the caller's; NULL for an async job */
} Job;

static GQuark worker_quark;

static void
op_free (Op *op)
{
  g_clear_pointer (&op->message, g_bytes_unref);
  g_free (op->reason);
  g_free (op);
}

static void
worker_free (Worker *worker)
{
  /* Do not wait: this may run on the worker thread itself when a job drops the last
   * reference. Queued jobs hold references, so the queue is empty here. */
  g_thread_pool_free (worker->pool, FALSE, FALSE);
  g_free (worker);
}

static gpointer
run_op (PmPsd          *psd,
        Op             *op,
        GDestroyNotify *out_free,
        GError        **error)
{
  PmPsdInterface *iface = PM_PSD_GET_IFACE (psd);

  *out_free = (GDestroyNotify) pm_psd_status_free;

  switch (op->kind)
    {
    case OP_STATUS:
      return iface->get_status (psd, error);
    case OP_INSTALL:
      return iface->install_operational_block (psd, op->message, error);
    case OP_DEBIT:
      *out_free = (GDestroyNotify) pm_psd_debit_result_free;
      return iface->debit (psd, &op->request, error);
    case OP_REFILL:
      return iface->refill (psd, op->message, error);
    case OP_AUDIT_REQUEST:
      *out_free = (GDestroyNotify) g_bytes_unref;
      return iface->make_audit_request (psd, error);
    case OP_AUDIT_ANSWER:
      return iface->apply_audit_answer (psd, op->message, error);
    case OP_LOCK:
      return iface->lock (psd, op->reason, error);
    case OP_WITHDRAW:
      *out_free = (GDestroyNotify) g_bytes_unref;
      return iface->withdraw (psd, error);
    case OP_JOURNAL:
      *out_free = (GDestroyNotify) g_ptr_array_unref;
      return iface->get_journal (psd, op->max_entries, error);
    case OP_CERTIFICATE:
      *out_free = (GDestroyNotify) g_bytes_unref;
      if (iface->get_certificate == NULL)
        {
          g_set_error (error, PM_PSD_ERROR, PM_PSD_ERROR_INVALID,
                       "This PSD cannot give its certificate");
          return NULL;
        }
      return iface->get_certificate (psd, error);
    default:
      g_assert_not_reached ();
    }
}

static void
worker_run_cb (gpointer data,
               gpointer user_data)
{
  Job *job = data;
  Worker *worker = user_data;
  GError *error = NULL;
  GDestroyNotify free_func;
  gpointer result;

  g_atomic_pointer_set (&worker->thread, g_thread_self ());

  if (job->task != NULL)
    {
      if (!g_task_return_error_if_cancelled (job->task))
        {
          result = run_op (job->psd, job->op, &free_func, &error);
          if (result == NULL)
            g_task_return_error (job->task, error);
          else
            g_task_return_pointer (job->task, result, free_func);
        }

      op_free (job->op);
      g_object_unref (job->task);
      g_object_unref (job->psd);
      g_free (job);
      return;
    }

  result = run_op (job->psd, job->op, &free_func, &error);
  op_free (job->op);

  g_mutex_lock (&job->wait->lock);
  job->wait->result = result;
  job->wait->error = error;
  job->wait->done = TRUE;
  g_cond_signal (&job->wait->cond);
  g_mutex_unlock (&job->wait->lock);
  g_free (job);
}

static Worker *
get_worker (PmPsd *psd)
{
  static GMutex creation_lock;
  Worker *worker;

  if (worker_quark == 0)
    worker_quark = g_quark_from_static_string ("pm-psd-worker");

  g_mutex_lock (&creation_lock);
  worker = g_object_get_qdata (G_OBJECT (psd), worker_quark);
  if (worker == NULL)
    {
      worker = g_new0 (Worker, 1);
      worker->pool = g_thread_pool_new (worker_run_cb, worker, 1, TRUE, NULL);
      g_object_set_qdata_full (G_OBJECT (psd), worker_quark, worker,
                               (GDestroyNotify) worker_free);
    }
  g_mutex_unlock (&creation_lock);

  return worker;
}

gboolean
pm_psd_is_worker_thread (PmPsd *psd)
{
  Worker *worker;

  g_return_val_if_fail (PM_IS_PSD (psd), FALSE);

  worker = worker_quark != 0 ? g_object_get_qdata (G_OBJECT (psd), worker_quark) : NULL;

  return worker != NULL && g_atomic_pointer_get (&worker->thread) == g_thread_self ();
}

static void
queue_op (PmPsd               *psd,
          Op                  *op,
          gpointer             source_tag,
          GCancellable        *cancellable,
          GAsyncReadyCallback  callback,
          gpointer             user_data)
{
  Worker *worker = get_worker (psd);
  Job *job = g_new0 (Job, 1);

  /* The task is made here so its callback runs on this thread's default context. */
  job->task = g_task_new (psd, cancellable, callback, user_data);
  g_task_set_source_tag (job->task, source_tag);
  job->psd = g_object_ref (psd);
  job->op = op;
  g_thread_pool_push (worker->pool, job, NULL);
}

static gpointer
run_sync (PmPsd   *psd,
          Op      *op,
          GError **error)
{
  Worker *worker = get_worker (psd);
  Job *job = g_new0 (Job, 1);
  SyncWait wait = { 0 };

  g_return_val_if_fail (!pm_psd_is_worker_thread (psd), NULL);

  g_mutex_init (&wait.lock);
  g_cond_init (&wait.cond);
  job->psd = psd;
  job->op = op;
  job->wait = &wait;

  g_mutex_lock (&wait.lock);
  g_thread_pool_push (worker->pool, job, NULL);
  while (!wait.done)
    g_cond_wait (&wait.cond, &wait.lock);
  g_mutex_unlock (&wait.lock);

  g_mutex_clear (&wait.lock);
  g_cond_clear (&wait.cond);

  if (wait.error != NULL)
    g_propagate_error (error, wait.error);

  return wait.result;
}

static gpointer
finish_op (PmPsd         *psd,
           GAsyncResult  *result,
           gpointer       source_tag,
           GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, psd), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static Op *
op_new (OpKind kind)
{
  Op *op = g_new0 (Op, 1);

  op->kind = kind;
  return op;
}

static Op *
op_new_message (OpKind  kind,
                GBytes *message)
{
  Op *op = op_new (kind);

  op->message = g_bytes_ref (message);
  return op;
}

static Op *
op_new_debit (const PmPsdDebitRequest *request)
{
  Op *op = op_new (OP_DEBIT);

  op->request = *request;
  return op;
}

static Op *
op_new_lock (const char *reason)
{
  Op *op = op_new (OP_LOCK);

  op->reason = g_strdup (reason);
  return op;
}

static Op *
op_new_journal (guint max_entries)
{
  Op *op = op_new (OP_JOURNAL);

  op->max_entries = max_entries;
  return op;
}

/* public entry points */

guint32
pm_psd_get_serial (PmPsd *psd)
{
  g_return_val_if_fail (PM_IS_PSD (psd), 0);

  return PM_PSD_GET_IFACE (psd)->get_serial (psd);
}

PmVerifyKey *
pm_psd_get_public_key (PmPsd *psd)
{
  g_return_val_if_fail (PM_IS_PSD (psd), NULL);

  return PM_PSD_GET_IFACE (psd)->get_public_key (psd);
}

#define DEFINE_ASYNC(name, rettype, make_op, ...)                                       \
  void                                                                                  \
  pm_psd_##name##_async (PmPsd *psd, __VA_ARGS__ GCancellable *cancellable,             \
                         GAsyncReadyCallback callback, gpointer user_data)              \
  {                                                                                     \
    g_return_if_fail (PM_IS_PSD (psd));                                                 \
    queue_op (psd, make_op, pm_psd_##name##_async, cancellable, callback, user_data);   \
  }                                                                                     \
                                                                                        \
  rettype                                                                               \
  pm_psd_##name##_finish (PmPsd *psd, GAsyncResult *result, GError **error)             \
  {                                                                                     \
    return finish_op (psd, result, pm_psd_##name##_async, error);                       \
  }

DEFINE_ASYNC (get_status, PmPsdStatus *, op_new (OP_STATUS), )
DEFINE_ASYNC (install_operational_block, PmPsdStatus *, op_new_message (OP_INSTALL, block),
              GBytes *block,)
DEFINE_ASYNC (debit, PmPsdDebitResult *, op_new_debit (request),
              const PmPsdDebitRequest *request,)
DEFINE_ASYNC (refill, PmPsdStatus *, op_new_message (OP_REFILL, download), GBytes *download,)
DEFINE_ASYNC (make_audit_request, GBytes *, op_new (OP_AUDIT_REQUEST), )
DEFINE_ASYNC (apply_audit_answer, PmPsdStatus *, op_new_message (OP_AUDIT_ANSWER, answer),
              GBytes *answer,)
DEFINE_ASYNC (lock, PmPsdStatus *, op_new_lock (reason), const char *reason,)
DEFINE_ASYNC (withdraw, GBytes *, op_new (OP_WITHDRAW), )
DEFINE_ASYNC (get_journal, GPtrArray *, op_new_journal (max_entries), guint max_entries,)
DEFINE_ASYNC (get_certificate, GBytes *, op_new (OP_CERTIFICATE), )

PmPsdStatus *
pm_psd_get_status_sync (PmPsd   *psd,
                        GError **error)
{
  g_return_val_if_fail (PM_IS_PSD (psd), NULL);

  return run_sync (psd, op_new (OP_STATUS), error);
}

PmPsdStatus *
pm_psd_install_operational_block_sync (PmPsd   *psd,
                                       GBytes  *block,
                                       GError **error)
{
  g_return_val_if_fail (PM_IS_PSD (psd) && block != NULL, NULL);

  return run_sync (psd, op_new_message (OP_INSTALL, block), error);
}

PmPsdDebitResult *
pm_psd_debit_sync (PmPsd                   *psd,
                   const PmPsdDebitRequest *request,
                   GError                 **error)
{
  g_return_val_if_fail (PM_IS_PSD (psd) && request != NULL, NULL);

  return run_sync (psd, op_new_debit (request), error);
}

PmPsdStatus *
pm_psd_refill_sync (PmPsd   *psd,
                    GBytes  *download,
                    GError **error)
{
  g_return_val_if_fail (PM_IS_PSD (psd) && download != NULL, NULL);

  return run_sync (psd, op_new_message (OP_REFILL, download), error);
}

GBytes *
pm_psd_make_audit_request_sync (PmPsd   *psd,
                                GError **error)
{
  g_return_val_if_fail (PM_IS_PSD (psd), NULL);

  return run_sync (psd, op_new (OP_AUDIT_REQUEST), error);
}

PmPsdStatus *
pm_psd_apply_audit_answer_sync (PmPsd   *psd,
                                GBytes  *answer,
                                GError **error)
{
  g_return_val_if_fail (PM_IS_PSD (psd) && answer != NULL, NULL);

  return run_sync (psd, op_new_message (OP_AUDIT_ANSWER, answer), error);
}

PmPsdStatus *
pm_psd_lock_sync (PmPsd       *psd,
                  const char  *reason,
                  GError     **error)
{
  g_return_val_if_fail (PM_IS_PSD (psd), NULL);

  return run_sync (psd, op_new_lock (reason), error);
}

GBytes *
pm_psd_withdraw_sync (PmPsd   *psd,
                      GError **error)
{
  g_return_val_if_fail (PM_IS_PSD (psd), NULL);

  return run_sync (psd, op_new (OP_WITHDRAW), error);
}

GPtrArray *
pm_psd_get_journal_sync (PmPsd   *psd,
                         guint    max_entries,
                         GError **error)
{
  g_return_val_if_fail (PM_IS_PSD (psd), NULL);

  return run_sync (psd, op_new_journal (max_entries), error);
}

GBytes *
pm_psd_get_certificate_sync (PmPsd   *psd,
                             GError **error)
{
  g_return_val_if_fail (PM_IS_PSD (psd), NULL);

  return run_sync (psd, op_new (OP_CERTIFICATE), error);
}
