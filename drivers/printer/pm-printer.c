/* pm-printer.c: the PmPrinter interface, PmPrintJob and the backends' worker thread
 *
 * The interface wrapper is where the "never print twice" rule lives: every backend gets it,
 * whatever it does underneath. A job id is claimed per printer before the job is queued, and
 * a claimed id is never released, not even when the job fails.
 */
#include "pm-printer-private.h"

#include "pm-clock.h"

#include <cairo-pdf.h>

#include <string.h>

G_DEFINE_QUARK (pm-printer-error-quark, pm_printer_error)

/* Ink per impression.
 *
 * Thermal label printers (direct thermal and the usual ZPL/EPL models) use no ink. For an
 * inkjet envelope printer the figure is an estimate for one indicium impression: the Data
 * Matrix and its text cover about one square inch at about 40 % coverage; at 600 x 600 dpi
 * that is about 144,000 drops, and at about 8 picolitres a drop, 1.2 microlitres, plus the
 * date and amount lines: 1.5 microlitres in all. A printer whose marker levels drop during a
 * job and whose cartridge size is known here is measured instead. */
static const PmInkModel ink_models[] = {
  { "zebra", 0, 0 },
  { "zpl", 0, 0 },
  { "epl", 0, 0 },
  { "dymo", 0, 0 },
  { "rollo", 0, 0 },
  { "thermal", 0, 0 },
  { "", 1500, 0 },   /* any other printer: a generic inkjet */
};

const PmInkModel *
pm_ink_model_lookup (const char *make_and_model)
{
  g_autofree char *folded = g_utf8_strdown (make_and_model != NULL ? make_and_model : "", -1);
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (ink_models); i++)
    if (strstr (folded, ink_models[i].model) != NULL)
      return &ink_models[i];

  return &ink_models[G_N_ELEMENTS (ink_models) - 1];
}

/* State names */

const char *
pm_printer_state_to_string (PmPrinterState state)
{
  switch (state)
    {
    case PM_PRINTER_STATE_READY: return "ready";
    case PM_PRINTER_STATE_BUSY: return "busy";
    case PM_PRINTER_STATE_OFFLINE: return "offline";
    case PM_PRINTER_STATE_OUT_OF_PAPER: return "out of paper";
    case PM_PRINTER_STATE_OUT_OF_INK: return "out of ink or ribbon";
    case PM_PRINTER_STATE_JAMMED: return "jammed";
    case PM_PRINTER_STATE_UNKNOWN:
    default:
      return "unknown";
    }
}

const char *
pm_print_format_to_string (PmPrintFormat format)
{
  switch (format)
    {
    case PM_PRINT_FORMAT_PDF: return "PDF";
    case PM_PRINT_FORMAT_PNG: return "PNG";
    case PM_PRINT_FORMAT_ZPL: return "ZPL";
    case PM_PRINT_FORMAT_EPL: return "EPL";
    case PM_PRINT_FORMAT_RAW:
    default:
      return "raw";
    }
}

const char *
pm_print_format_extension (PmPrintFormat format)
{
  switch (format)
    {
    case PM_PRINT_FORMAT_PDF: return "pdf";
    case PM_PRINT_FORMAT_PNG: return "png";
    case PM_PRINT_FORMAT_ZPL: return "zpl";
    case PM_PRINT_FORMAT_EPL: return "epl";
    case PM_PRINT_FORMAT_RAW:
    default:
      return "prn";
    }
}

const char *
pm_print_job_state_to_string (PmPrintJobState state)
{
  switch (state)
    {
    case PM_PRINT_JOB_NEW: return "new";
    case PM_PRINT_JOB_QUEUED: return "queued";
    case PM_PRINT_JOB_SENDING: return "sending";
    case PM_PRINT_JOB_PRINTING: return "printing";
    case PM_PRINT_JOB_DONE: return "done";
    case PM_PRINT_JOB_FAILED:
    default:
      return "failed";
    }
}

/* Maps IPP printer-state-reasons keywords. A reason may carry a severity suffix; "-warning"
 * and "-report" do not stop printing, except "offline-report", which is how CUPS says the
 * device does not answer. The worst problem wins. */
PmPrinterState
pm_printer_state_from_reasons (const char * const *reasons,
                               gboolean            stopped)
{
  gboolean offline = stopped, jammed = FALSE, paper = FALSE, ink = FALSE;
  gsize i;

  for (i = 0; reasons != NULL && reasons[i] != NULL; i++)
    {
      g_autofree char *keyword = g_strdup (reasons[i]);
      gboolean advisory = FALSE;

      if (g_str_has_suffix (keyword, "-error"))
        keyword[strlen (keyword) - strlen ("-error")] = '\0';
      else if (g_str_has_suffix (keyword, "-warning"))
        {
          keyword[strlen (keyword) - strlen ("-warning")] = '\0';
          advisory = TRUE;
        }
      else if (g_str_has_suffix (keyword, "-report"))
        {
          keyword[strlen (keyword) - strlen ("-report")] = '\0';
          advisory = !g_str_equal (keyword, "offline");
        }

      if (advisory)
        continue;

      if (g_str_equal (keyword, "offline") || g_str_equal (keyword, "shutdown") ||
          g_str_equal (keyword, "paused") || g_str_equal (keyword, "timed-out"))
        offline = TRUE;
      else if (g_str_equal (keyword, "media-jam") || g_str_equal (keyword, "jam"))
        jammed = TRUE;
      else if (g_str_equal (keyword, "media-empty") || g_str_equal (keyword, "media-needed"))
        paper = TRUE;
      else if (g_str_equal (keyword, "marker-supply-empty") ||
               g_str_equal (keyword, "toner-empty") ||
               g_str_equal (keyword, "marker-ink-empty") ||
               g_str_equal (keyword, "ribbon-empty"))
        ink = TRUE;
    }

  if (offline)
    return PM_PRINTER_STATE_OFFLINE;
  if (jammed)
    return PM_PRINTER_STATE_JAMMED;
  if (paper)
    return PM_PRINTER_STATE_OUT_OF_PAPER;
  if (ink)
    return PM_PRINTER_STATE_OUT_OF_INK;

  return PM_PRINTER_STATE_READY;
}

/* PmPrintJob */

struct _PmPrintJob
{
  GObject parent_instance;

  /* Set at creation, never changed: read by the worker thread. */
  char           *id;
  PmPrintKind     kind;
  PmPrintFormat   format;
  char           *title;
  char           *piece_id;
  GBytes         *data;
  guint           pages;
  double          page_width;
  double          page_height;
  double          resolution;
  PmPagePainter   painter;
  gpointer        painter_data;
  GDestroyNotify  painter_destroy;

  /* Changed only on the submitting thread's main context. */
  PmPrintJobState state;
  GError         *error;
  char           *backend_ref;
  char          **output_files;
  guint           impressions;
  guint64         ink_nanolitres;
  PmInkSource     ink_source;
  gint64          finished_us;
};

G_DEFINE_FINAL_TYPE (PmPrintJob, pm_print_job, G_TYPE_OBJECT)

static void
pm_print_job_finalize (GObject *object)
{
  PmPrintJob *self = PM_PRINT_JOB (object);

  if (self->painter_destroy != NULL)
    self->painter_destroy (self->painter_data);
  g_free (self->id);
  g_free (self->title);
  g_free (self->piece_id);
  g_clear_pointer (&self->data, g_bytes_unref);
  g_clear_error (&self->error);
  g_free (self->backend_ref);
  g_strfreev (self->output_files);

  G_OBJECT_CLASS (pm_print_job_parent_class)->finalize (object);
}

static void
pm_print_job_class_init (PmPrintJobClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = pm_print_job_finalize;
}

static void
pm_print_job_init (PmPrintJob *self)
{
  self->pages = 1;
}

/**
 * pm_print_job_new:
 * @id: unique for the life of the machine (a printer refuses an id twice)
 * @data: the document in @format; may be %NULL only when a page painter is set later
 */
PmPrintJob *
pm_print_job_new (const char   *id,
                  PmPrintKind   kind,
                  PmPrintFormat format,
                  const char   *title,
                  const char   *piece_id,
                  GBytes       *data)
{
  PmPrintJob *self;

  g_return_val_if_fail (id != NULL && *id != '\0', NULL);

  self = g_object_new (PM_TYPE_PRINT_JOB, NULL);
  self->id = g_strdup (id);
  self->kind = kind;
  self->format = format;
  self->title = g_strdup (title != NULL ? title : id);
  self->piece_id = g_strdup (piece_id);
  self->data = data != NULL ? g_bytes_ref (data) : NULL;

  return self;
}

/**
 * pm_print_job_set_page_painter:
 *
 * Lets a backend that makes its own files (the folder printer) draw the page as PDF and
 * PNG. @painter runs on the printer's worker thread.
 */
void
pm_print_job_set_page_painter (PmPrintJob    *self,
                               double         width_points,
                               double         height_points,
                               PmPagePainter  painter,
                               gpointer       user_data,
                               GDestroyNotify destroy)
{
  g_return_if_fail (PM_IS_PRINT_JOB (self));
  g_return_if_fail (self->state == PM_PRINT_JOB_NEW);

  if (self->painter_destroy != NULL)
    self->painter_destroy (self->painter_data);
  self->page_width = width_points;
  self->page_height = height_points;
  self->painter = painter;
  self->painter_data = user_data;
  self->painter_destroy = destroy;
}

void
pm_print_job_set_pages (PmPrintJob *self,
                        guint       pages)
{
  g_return_if_fail (PM_IS_PRINT_JOB (self));
  g_return_if_fail (self->state == PM_PRINT_JOB_NEW);

  self->pages = pages;
}

void
pm_print_job_set_resolution (PmPrintJob *self,
                             double      dpi)
{
  g_return_if_fail (PM_IS_PRINT_JOB (self));
  g_return_if_fail (self->state == PM_PRINT_JOB_NEW);
  g_return_if_fail (dpi >= 0);

  self->resolution = dpi;
}

double
pm_print_job_get_resolution (PmPrintJob *self)
{
  g_return_val_if_fail (PM_IS_PRINT_JOB (self), 0);
  return self->resolution;
}

const char *
pm_print_job_get_id (PmPrintJob *self)
{
  g_return_val_if_fail (PM_IS_PRINT_JOB (self), NULL);
  return self->id;
}

PmPrintKind
pm_print_job_get_kind (PmPrintJob *self)
{
  g_return_val_if_fail (PM_IS_PRINT_JOB (self), PM_PRINT_KIND_REPORT);
  return self->kind;
}

PmPrintFormat
pm_print_job_get_format (PmPrintJob *self)
{
  g_return_val_if_fail (PM_IS_PRINT_JOB (self), PM_PRINT_FORMAT_RAW);
  return self->format;
}

const char *
pm_print_job_get_title (PmPrintJob *self)
{
  g_return_val_if_fail (PM_IS_PRINT_JOB (self), NULL);
  return self->title;
}

const char *
pm_print_job_get_piece_id (PmPrintJob *self)
{
  g_return_val_if_fail (PM_IS_PRINT_JOB (self), NULL);
  return self->piece_id;
}

GBytes *
pm_print_job_get_data (PmPrintJob *self)
{
  g_return_val_if_fail (PM_IS_PRINT_JOB (self), NULL);
  return self->data;
}

guint
pm_print_job_get_pages (PmPrintJob *self)
{
  g_return_val_if_fail (PM_IS_PRINT_JOB (self), 0);
  return self->pages;
}

PmPrintJobState
pm_print_job_get_state (PmPrintJob *self)
{
  g_return_val_if_fail (PM_IS_PRINT_JOB (self), PM_PRINT_JOB_FAILED);
  return self->state;
}

const GError *
pm_print_job_get_error (PmPrintJob *self)
{
  g_return_val_if_fail (PM_IS_PRINT_JOB (self), NULL);
  return self->error;
}

const char *
pm_print_job_get_backend_ref (PmPrintJob *self)
{
  g_return_val_if_fail (PM_IS_PRINT_JOB (self), NULL);
  return self->backend_ref;
}

const char * const *
pm_print_job_get_output_files (PmPrintJob *self)
{
  g_return_val_if_fail (PM_IS_PRINT_JOB (self), NULL);
  return (const char * const *) self->output_files;
}

guint
pm_print_job_get_impressions (PmPrintJob *self)
{
  g_return_val_if_fail (PM_IS_PRINT_JOB (self), 0);
  return self->impressions;
}

guint64
pm_print_job_get_ink_nanolitres (PmPrintJob *self)
{
  g_return_val_if_fail (PM_IS_PRINT_JOB (self), 0);
  return self->ink_nanolitres;
}

PmInkSource
pm_print_job_get_ink_source (PmPrintJob *self)
{
  g_return_val_if_fail (PM_IS_PRINT_JOB (self), PM_INK_SOURCE_NONE);
  return self->ink_source;
}

gint64
pm_print_job_get_finished_us (PmPrintJob *self)
{
  g_return_val_if_fail (PM_IS_PRINT_JOB (self), 0);
  return self->finished_us;
}

gboolean
pm_print_job_has_page_painter (PmPrintJob *self)
{
  g_return_val_if_fail (PM_IS_PRINT_JOB (self), FALSE);
  return self->painter != NULL;
}

gboolean
pm_print_job_paint_page (PmPrintJob *self,
                         cairo_t    *cr,
                         double     *out_width_points,
                         double     *out_height_points,
                         GError    **error)
{
  g_return_val_if_fail (PM_IS_PRINT_JOB (self), FALSE);
  g_return_val_if_fail (self->painter != NULL, FALSE);

  if (out_width_points != NULL)
    *out_width_points = self->page_width;
  if (out_height_points != NULL)
    *out_height_points = self->page_height;
  if (cr == NULL)
    return TRUE;

  return self->painter (cr, self->painter_data, error);
}

/* PmPrinter */

G_DEFINE_INTERFACE (PmPrinter, pm_printer, G_TYPE_OBJECT)

enum
{
  SIGNAL_JOB_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* Job ids each printer has accepted, kept for the printer's lifetime. Guarded by
 * claimed_lock because jobs may be submitted from more than one thread. */
static GMutex claimed_lock;
static GQuark claimed_quark;

static void
pm_printer_default_init (PmPrinterInterface *iface)
{
  claimed_quark = g_quark_from_static_string ("pm-printer-claimed-job-ids");

  /**
   * PmPrinter::job-changed:
   * @job: the job whose state, error or usage changed
   *
   * Emitted on the submitting thread's main context.
   */
  signals[SIGNAL_JOB_CHANGED] =
    g_signal_new ("job-changed", G_TYPE_FROM_INTERFACE (iface), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, PM_TYPE_PRINT_JOB);
}

const char *
pm_printer_get_name (PmPrinter *self)
{
  g_return_val_if_fail (PM_IS_PRINTER (self), NULL);

  return PM_PRINTER_GET_IFACE (self)->get_name (self);
}

gboolean
pm_printer_supports_format (PmPrinter    *self,
                            PmPrintFormat format)
{
  g_return_val_if_fail (PM_IS_PRINTER (self), FALSE);

  return PM_PRINTER_GET_IFACE (self)->supports_format (self, format);
}

static gboolean
claim_job_id (PmPrinter  *self,
              const char *id)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&claimed_lock);
  GHashTable *claimed = g_object_get_qdata (G_OBJECT (self), claimed_quark);

  if (claimed == NULL)
    {
      claimed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      g_object_set_qdata_full (G_OBJECT (self), claimed_quark, claimed,
                               (GDestroyNotify) g_hash_table_unref);
    }

  return g_hash_table_add (claimed, g_strdup (id));
}

static void
set_job_state (PmPrinter      *printer,
               PmPrintJob     *job,
               PmPrintJobState state)
{
  job->state = state;
  g_signal_emit (printer, signals[SIGNAL_JOB_CHANGED], 0, job);
}

/**
 * pm_printer_submit_async:
 *
 * Sends @job to the printer and follows it until it is done or has failed. The job's id is
 * claimed first: a job with an id this printer has seen before fails at once with
 * %PM_PRINTER_ERROR_DUPLICATE_JOB and nothing is printed.
 */
void
pm_printer_submit_async (PmPrinter          *self,
                         PmPrintJob         *job,
                         GCancellable       *cancellable,
                         GAsyncReadyCallback callback,
                         gpointer            user_data)
{
  g_return_if_fail (PM_IS_PRINTER (self));
  g_return_if_fail (PM_IS_PRINT_JOB (job));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  if (job->state != PM_PRINT_JOB_NEW || !claim_job_id (self, job->id))
    {
      g_task_report_new_error (self, callback, user_data, pm_printer_submit_async,
                               PM_PRINTER_ERROR, PM_PRINTER_ERROR_DUPLICATE_JOB,
                               "Job %s was already sent to %s; it is not sent again. "
                               "To print the piece again, make a reprint job",
                               job->id, pm_printer_get_name (self));
      return;
    }

  if (!pm_printer_supports_format (self, job->format))
    {
      g_autoptr(GError) error = NULL;

      g_set_error (&error, PM_PRINTER_ERROR, PM_PRINTER_ERROR_UNSUPPORTED_FORMAT,
                   "%s cannot print %s documents; job %s was not sent. "
                   "Choose a printer for this kind of document in Settings",
                   pm_printer_get_name (self), pm_print_format_to_string (job->format),
                   job->id);
      job->error = g_error_copy (error);
      job->finished_us = pm_clock_now_us ();
      set_job_state (self, job, PM_PRINT_JOB_FAILED);
      g_task_report_error (self, callback, user_data, pm_printer_submit_async,
                           g_steal_pointer (&error));
      return;
    }

  set_job_state (self, job, PM_PRINT_JOB_QUEUED);
  PM_PRINTER_GET_IFACE (self)->submit_async (self, job, cancellable, callback, user_data);
}

gboolean
pm_printer_submit_finish (PmPrinter    *self,
                          GAsyncResult *result,
                          GError      **error)
{
  g_return_val_if_fail (PM_IS_PRINTER (self), FALSE);

  if (g_async_result_is_tagged (result, pm_printer_submit_async))
    return g_task_propagate_boolean (G_TASK (result), error);

  return PM_PRINTER_GET_IFACE (self)->submit_finish (self, result, error);
}

void
pm_printer_query_state_async (PmPrinter          *self,
                              GCancellable       *cancellable,
                              GAsyncReadyCallback callback,
                              gpointer            user_data)
{
  g_return_if_fail (PM_IS_PRINTER (self));

  PM_PRINTER_GET_IFACE (self)->query_state_async (self, cancellable, callback, user_data);
}

/**
 * pm_printer_query_state_finish:
 * @out_reasons: (out) (optional): the printer's own reason keywords, where it gives them
 */
PmPrinterState
pm_printer_query_state_finish (PmPrinter    *self,
                               GAsyncResult *result,
                               char       ***out_reasons,
                               GError      **error)
{
  g_return_val_if_fail (PM_IS_PRINTER (self), PM_PRINTER_STATE_UNKNOWN);

  if (out_reasons != NULL)
    *out_reasons = NULL;

  return PM_PRINTER_GET_IFACE (self)->query_state_finish (self, result, out_reasons, error);
}

/* Job updates, from a worker thread to the submitting context */

typedef struct
{
  GTask           *task;         /* owned */
  gboolean         final;
  PmPrintJobState  state;
  char            *backend_ref;
  PmPrintJobResult result;
  GError          *error;
} JobUpdate;

static void
job_update_free (gpointer data)
{
  JobUpdate *update = data;

  g_clear_object (&update->task);
  g_free (update->backend_ref);
  g_strfreev (update->result.output_files);
  g_clear_error (&update->error);
  g_free (update);
}

static gboolean
job_update_apply_cb (gpointer data)
{
  JobUpdate *update = data;
  PmPrinter *printer = g_task_get_source_object (update->task);
  PmPrintJob *job = g_task_get_task_data (update->task);

  if (update->backend_ref != NULL)
    {
      g_free (job->backend_ref);
      job->backend_ref = g_strdup (update->backend_ref);
    }

  if (!update->final)
    {
      set_job_state (printer, job, update->state);
      return G_SOURCE_REMOVE;
    }

  job->impressions = update->result.impressions;
  job->ink_nanolitres = update->result.ink_nanolitres;
  job->ink_source = update->result.ink_source;
  g_strfreev (job->output_files);
  job->output_files = g_strdupv (update->result.output_files);
  job->finished_us = pm_clock_now_us ();
  g_clear_error (&job->error);

  if (update->error != NULL)
    {
      job->error = g_error_copy (update->error);
      g_message ("Print job %s (%s) on %s failed: %s", job->id, job->title,
                 pm_printer_get_name (printer), update->error->message);
      set_job_state (printer, job, PM_PRINT_JOB_FAILED);
      g_task_return_error (update->task, g_steal_pointer (&update->error));
    }
  else
    {
      g_message ("Print job %s (%s) done on %s: %u impression(s)", job->id, job->title,
                 pm_printer_get_name (printer), job->impressions);
      set_job_state (printer, job, PM_PRINT_JOB_DONE);
      g_task_return_boolean (update->task, TRUE);
    }

  return G_SOURCE_REMOVE;
}

static void
job_update_post (JobUpdate *update)
{
  g_main_context_invoke_full (g_task_get_context (update->task), G_PRIORITY_DEFAULT,
                              job_update_apply_cb, update, job_update_free);
}

void
pm_print_job_post_state (GTask          *task,
                         PmPrintJobState state,
                         const char     *backend_ref)
{
  JobUpdate *update = g_new0 (JobUpdate, 1);

  update->task = g_object_ref (task);
  update->state = state;
  update->backend_ref = g_strdup (backend_ref);
  job_update_post (update);
}

/* Takes @error. */
void
pm_print_job_post_result (GTask                  *task,
                          const PmPrintJobResult *result,
                          GError                 *error)
{
  JobUpdate *update = g_new0 (JobUpdate, 1);

  update->task = g_object_ref (task);
  update->final = TRUE;
  if (result != NULL)
    {
      update->result = *result;
      update->result.output_files = g_strdupv (result->output_files);
    }
  update->error = error;
  job_update_post (update);
}

/* Takes @error. */
void
pm_print_job_post_outcome (GTask                  *task,
                           const PmPrintJobResult *result,
                           GError                 *error)
{
  PmPrintJob *job = g_task_get_task_data (task);

  if (error != NULL)
    g_prefix_error (&error, "Job %s (%s) failed: ", pm_print_job_get_id (job),
                    pm_print_job_get_title (job));
  pm_print_job_post_result (task, result, error);
}

/* PmPrintWorker */

struct _PmPrintWorker
{
  GThread     *thread;  /* owned; joined in pm_print_worker_free () */
  GAsyncQueue *queue;   /* owned; WorkItem, a NULL task asks the thread to stop */
};

typedef struct
{
  GTask            *task;
  PmPrintWorkerFunc func;
} WorkItem;

static gpointer
worker_thread_main (gpointer data)
{
  GAsyncQueue *queue = data;

  for (;;)
    {
      WorkItem *item = g_async_queue_pop (queue);
      GTask *task = item->task;

      if (task == NULL)
        {
          g_free (item);
          break;
        }

      item->func (task, g_task_get_source_object (task), g_task_get_task_data (task),
                  g_task_get_cancellable (task));
      g_object_unref (task);
      g_free (item);
    }

  g_async_queue_unref (queue);

  return NULL;
}

PmPrintWorker *
pm_print_worker_new (const char *thread_name)
{
  PmPrintWorker *worker = g_new0 (PmPrintWorker, 1);

  worker->queue = g_async_queue_new ();
  worker->thread = g_thread_new (thread_name, worker_thread_main,
                                 g_async_queue_ref (worker->queue));

  return worker;
}

void
pm_print_worker_free (PmPrintWorker *worker)
{
  WorkItem *stop;

  if (worker == NULL)
    return;

  stop = g_new0 (WorkItem, 1);
  g_async_queue_push (worker->queue, stop);

  /* Queued tasks hold the printer, so the last reference normally goes on the submitting
   * thread; should it go on the worker itself, let the thread end on its own. */
  if (g_thread_self () == worker->thread)
    g_thread_unref (worker->thread);
  else
    g_thread_join (worker->thread);

  g_async_queue_unref (worker->queue);
  g_free (worker);
}

void
pm_print_worker_push (PmPrintWorker    *worker,
                      GTask            *task,
                      PmPrintWorkerFunc func)
{
  WorkItem *item = g_new0 (WorkItem, 1);

  item->task = g_object_ref (task);
  item->func = func;
  g_async_queue_push (worker->queue, item);
}

gboolean
pm_print_worker_is_current (PmPrintWorker *worker)
{
  return g_thread_self () == worker->thread;
}

void
pm_print_worker_submit (PmPrintWorker      *worker,
                        PmPrinter          *printer,
                        PmPrintJob         *job,
                        gpointer            source_tag,
                        PmPrintWorkerFunc   func,
                        GCancellable       *cancellable,
                        GAsyncReadyCallback callback,
                        gpointer            user_data)
{
  g_autoptr(GTask) task = g_task_new (printer, cancellable, callback, user_data);

  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, g_object_ref (job), g_object_unref);
  pm_print_worker_push (worker, task, func);
}

gboolean
pm_print_worker_submit_finish (PmPrinter     *printer,
                               GAsyncResult  *result,
                               GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
pm_print_state_result_free (gpointer data)
{
  PmPrintStateResult *result = data;

  g_strfreev (result->reasons);
  g_free (result);
}

PmPrinterState
pm_print_worker_query_state_finish (PmPrinter     *printer,
                                    GAsyncResult  *result,
                                    char        ***out_reasons,
                                    GError       **error)
{
  PmPrintStateResult *state = g_task_propagate_pointer (G_TASK (result), error);
  PmPrinterState value;

  if (state == NULL)
    return PM_PRINTER_STATE_UNKNOWN;

  value = state->state;
  if (out_reasons != NULL)
    *out_reasons = g_steal_pointer (&state->reasons);
  pm_print_state_result_free (state);

  return value;
}

/* Rendering */

static cairo_status_t
append_cb (void                *closure,
           const unsigned char *data,
           unsigned int         length)
{
  g_byte_array_append (closure, data, length);
  return CAIRO_STATUS_SUCCESS;
}

GBytes *
pm_print_job_render_pdf (PmPrintJob *job,
                         GError    **error)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();
  cairo_surface_t *surface;
  cairo_t *cr;
  gboolean ok;
  cairo_status_t status;

  g_return_val_if_fail (job->painter != NULL, NULL);

  surface = cairo_pdf_surface_create_for_stream (append_cb, out, job->page_width,
                                                 job->page_height);
  cairo_pdf_surface_set_metadata (surface, CAIRO_PDF_METADATA_TITLE, job->title);
  cairo_pdf_surface_set_metadata (surface, CAIRO_PDF_METADATA_CREATOR, "Postmeter");
  cr = cairo_create (surface);
  ok = job->painter (cr, job->painter_data, error);
  cairo_destroy (cr);
  cairo_surface_finish (surface);
  status = cairo_surface_status (surface);
  cairo_surface_destroy (surface);

  if (!ok)
    return NULL;
  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, PM_PRINTER_ERROR, PM_PRINTER_ERROR_IO,
                   "Cannot make the PDF: %s", cairo_status_to_string (status));
      return NULL;
    }

  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

GBytes *
pm_print_job_render_png (PmPrintJob *job,
                         double      dpi,
                         GError    **error)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();
  cairo_surface_t *surface;
  cairo_t *cr;
  const double scale = dpi / 72.0;
  gboolean ok;
  cairo_status_t status = CAIRO_STATUS_SUCCESS;

  g_return_val_if_fail (job->painter != NULL, NULL);

  surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24,
                                        (int) (job->page_width * scale + 0.5),
                                        (int) (job->page_height * scale + 0.5));
  cr = cairo_create (surface);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  cairo_scale (cr, scale, scale);
  ok = job->painter (cr, job->painter_data, error);
  cairo_destroy (cr);
  if (ok)
    status = cairo_surface_write_to_png_stream (surface, append_cb, out);
  cairo_surface_destroy (surface);

  if (!ok)
    return NULL;
  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, PM_PRINTER_ERROR, PM_PRINTER_ERROR_IO,
                   "Cannot make the PNG: %s", cairo_status_to_string (status));
      return NULL;
    }

  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}
