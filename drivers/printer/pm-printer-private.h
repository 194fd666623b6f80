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

/* Renders a job's page painter (worker thread): a one-page PDF the page's size in points,
 * or an opaque white PNG at @dpi. 203 dpi keeps a label one pixel per thermal dot. */
#define PM_PRINT_PNG_DPI 203.0

GBytes        *pm_print_job_render_pdf    (PmPrintJob             *job,
                                           GError                **error);
GBytes        *pm_print_job_render_png    (PmPrintJob             *job,
                                           double                  dpi,
                                           GError                **error);

G_END_DECLS
