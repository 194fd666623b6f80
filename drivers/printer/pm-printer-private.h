/* pm-printer-private.h: what the printer backends share and nobody else calls
 *
 * PmPrintWorker is a backend's own thread: it runs queued tasks one after the other, in the
 * order they were pushed. A task's source object is the printer; for a job its task data is
 * the PmPrintJob. Worker functions report a job's progress with pm_print_job_post_state ()
 * and end it with pm_print_job_post_result (), which hand the change to the caller's main
 * context, where the job is updated, "job-changed" is emitted and the task returns.
 */
#pragma once

#include "pm-printer.h"

G_BEGIN_DECLS

typedef struct _PmPrintWorker PmPrintWorker;

typedef void (*PmPrintWorkerFunc) (GTask        *task,
                                   gpointer      source_object,
                                   gpointer      task_data,
                                   GCancellable *cancellable);

PmPrintWorker *pm_print_worker_new        (const char        *thread_name);
void           pm_print_worker_free       (PmPrintWorker     *worker);
void           pm_print_worker_push       (PmPrintWorker     *worker,
                                           GTask             *task,
                                           PmPrintWorkerFunc  func);
gboolean       pm_print_worker_is_current (PmPrintWorker     *worker);

/* A job submitted to a backend's worker: the task's source tag is @source_tag, its task data
 * @job, and @func runs the job on @worker; pm_print_worker_submit_finish () ends it. */
void           pm_print_worker_submit     (PmPrintWorker      *worker,
                                           PmPrinter          *printer,
                                           PmPrintJob         *job,
                                           gpointer            source_tag,
                                           PmPrintWorkerFunc   func,
                                           GCancellable       *cancellable,
                                           GAsyncReadyCallback callback,
                                           gpointer            user_data);
gboolean       pm_print_worker_submit_finish (PmPrinter     *printer,
                                              GAsyncResult  *result,
                                              GError       **error);

/* What a backend's query_state task returns with g_task_return_pointer () and
 * pm_print_state_result_free (); pm_print_worker_query_state_finish () takes it apart. */
typedef struct
{
  PmPrinterState   state;
  char           **reasons;
} PmPrintStateResult;

void           pm_print_state_result_free (gpointer           data);
PmPrinterState pm_print_worker_query_state_finish (PmPrinter     *printer,
                                                   GAsyncResult  *result,
                                                   char        ***out_reasons,
                                                   GError       **error);

typedef struct
{
  guint        impressions;
  guint64      ink_nanolitres;
  PmInkSource  ink_source;
  char       **output_files;  /* owned by the caller of post_result; copied */
} PmPrintJobResult;

void           pm_print_job_post_state    (GTask                  *task,
                                           PmPrintJobState         state,
                                           const char             *backend_ref);
void           pm_print_job_post_result   (GTask                  *task,
                                           const PmPrintJobResult *result,
                                           GError                 *error);
/* pm_print_job_post_result () with @error, if set, prefixed "Job <id> (<title>) failed: ". */
void           pm_print_job_post_outcome  (GTask                  *task,
                                           const PmPrintJobResult *result,
                                           GError                 *error);

/* Renders a job's page painter (worker thread): a one-page PDF the page's size in points,
 * or an opaque white PNG at @dpi. 203 dpi keeps a label one pixel per thermal dot. */
#define PM_PRINT_PNG_DPI 203.0

GBytes        *pm_print_job_render_pdf    (PmPrintJob             *job,
                                           GError                **error);
GBytes        *pm_print_job_render_png    (PmPrintJob             *job,
                                           double                  dpi,
                                           GError                **error);

G_END_DECLS
