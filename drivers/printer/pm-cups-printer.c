/* pm-cups-printer.c: jobs to a CUPS queue, followed to the end
 *
 * All libcups calls run on the printer's worker thread, each job on its own connection.
 * The job is sent once; whatever happens after the first byte left, it is never resent
 * here, because CUPS may already have printed it.
 */
/* memfd_create under -std=c17 */
#define _GNU_SOURCE

#include "pm-cups-printer.h"

#include "pm-printer-private.h"

#include <cups/cups.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define CONNECT_TIMEOUT_MS 15000

struct _PmCupsPrinter
{
  GObject parent_instance;

  /* Set at construction, read by the worker. */
  char          *name;
  char          *queue;
  char          *host;        /* NULL: the system's CUPS */
  int            port;
  guint          poll_ms;     /* atomic */
  guint          timeout_s;   /* atomic */
  PmPrintWorker *worker;      /* owned */
};

static void pm_cups_printer_iface_init (PmPrinterInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (PmCupsPrinter, pm_cups_printer, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (PM_TYPE_PRINTER,
                                                      pm_cups_printer_iface_init))

static void
pm_cups_printer_finalize (GObject *object)
{
  PmCupsPrinter *self = PM_CUPS_PRINTER (object);

  pm_print_worker_free (self->worker);
  g_free (self->name);
  g_free (self->queue);
  g_free (self->host);

  G_OBJECT_CLASS (pm_cups_printer_parent_class)->finalize (object);
}

static void
pm_cups_printer_class_init (PmCupsPrinterClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = pm_cups_printer_finalize;
}

static void
pm_cups_printer_init (PmCupsPrinter *self)
{
  self->poll_ms = PM_CUPS_PRINTER_DEFAULT_POLL_MS;
  self->timeout_s = PM_CUPS_PRINTER_DEFAULT_TIMEOUT_S;
}

PmCupsPrinter *
pm_cups_printer_new (const char *name,
                     const char *queue,
                     const char *server)
{
  PmCupsPrinter *self;

  g_return_val_if_fail (queue != NULL && *queue != '\0', NULL);

  self = g_object_new (PM_TYPE_CUPS_PRINTER, NULL);
  self->queue = g_strdup (queue);
  self->name = g_strdup (name != NULL ? name : queue);

  /* "host:port", except for a socket path, which has no port. */
  if (server != NULL && *server != '\0')
    {
      const char *colon = server[0] != '/' ? strrchr (server, ':') : NULL;
      guint64 port = 0;

      if (colon != NULL
          && g_ascii_string_to_unsigned (colon + 1, 10, 1, 65535, &port, NULL))
        {
          self->host = g_strndup (server, colon - server);
          self->port = (int) port;
        }
      else
        {
          self->host = g_strdup (server);
          self->port = 0;
        }
    }

  self->worker = pm_print_worker_new ("pm-print-cups");
  return self;
}

const char *
pm_cups_printer_get_queue (PmCupsPrinter *self)
{
  g_return_val_if_fail (PM_IS_CUPS_PRINTER (self), NULL);
  return self->queue;
}

void
pm_cups_printer_set_follow (PmCupsPrinter *self,
                            guint          poll_ms,
                            guint          timeout_s)
{
  g_return_if_fail (PM_IS_CUPS_PRINTER (self));
  g_return_if_fail (poll_ms > 0 && timeout_s > 0);

  g_atomic_int_set (&self->poll_ms, poll_ms);
  g_atomic_int_set (&self->timeout_s, timeout_s);
}

static const char *
pm_cups_printer_get_name (PmPrinter *printer)
{
  return PM_CUPS_PRINTER (printer)->name;
}

static gboolean
pm_cups_printer_supports_format (PmPrinter    *printer,
                                 PmPrintFormat format)
{
  /* Whether the queue's printer understands the bytes is the queue's business: a raw
   * label queue takes ZPL or EPL, an envelope printer's queue PDF or PNG. */
  return TRUE;
}

/* Worker: talking to CUPS */

static http_t *
cups_connect (PmCupsPrinter *self,
              GError       **error)
{
  const char *host = self->host != NULL ? self->host : cupsServer ();
  int port = self->host != NULL && self->port != 0 ? self->port : ippPort ();
  http_t *http;

  http = httpConnect2 (host, port, NULL, AF_UNSPEC, HTTP_ENCRYPTION_IF_REQUESTED, 1,
                       CONNECT_TIMEOUT_MS, NULL);
  if (http == NULL)
    {
      g_set_error (error, PM_PRINTER_ERROR, PM_PRINTER_ERROR_OFFLINE,
                   "Cannot reach the print service at %s (%s); check that CUPS is running",
                   host, cupsLastErrorString ());
      return NULL;
    }

  return http;
}

static char *
printer_uri (PmCupsPrinter *self)
{
  char uri[HTTP_MAX_URI];

  httpAssembleURIf (HTTP_URI_CODING_ALL, uri, sizeof uri, "ipp", NULL, "localhost",
                    ippPort (), "/printers/%s", self->queue);
  return g_strdup (uri);
}

typedef struct
{
  gboolean  found;
  int       state;            /* ipp_pstate_t */
  gboolean  accepting;
  char    **reasons;
  char     *make_and_model;
  char     *message;
} QueueStatus;

static void
queue_status_clear (QueueStatus *status)
{
  g_strfreev (status->reasons);
  g_free (status->make_and_model);
  g_free (status->message);
  memset (status, 0, sizeof *status);
}

static char **
strings_of (ipp_attribute_t *attr)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  for (int i = 0; attr != NULL && i < ippGetCount (attr); i++)
    {
      const char *value = ippGetString (attr, i, NULL);

      if (value != NULL && !g_str_equal (value, "none"))
        g_strv_builder_add (builder, value);
    }

  return g_strv_builder_end (builder);
}

static gboolean
get_queue_status (PmCupsPrinter *self,
                  http_t        *http,
                  QueueStatus   *status,
                  GError       **error)
{
  static const char * const wanted[] = {
    "printer-state", "printer-state-reasons", "printer-is-accepting-jobs",
    "printer-make-and-model", "printer-state-message",
  };
  g_autofree char *uri = printer_uri (self);
  ipp_t *request = ippNewRequest (IPP_OP_GET_PRINTER_ATTRIBUTES);
  ipp_t *response;
  ipp_attribute_t *attr;

  memset (status, 0, sizeof *status);

  ippAddString (request, IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", NULL, uri);
  ippAddString (request, IPP_TAG_OPERATION, IPP_TAG_NAME, "requesting-user-name", NULL,
                cupsUser ());
  ippAddStrings (request, IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "requested-attributes",
                 G_N_ELEMENTS (wanted), NULL, wanted);
  response = cupsDoRequest (http, request, "/");

  if (cupsLastError () == IPP_STATUS_ERROR_NOT_FOUND)
    {
      ippDelete (response);
      return TRUE;   /* found stays FALSE */
    }
  if (response == NULL || cupsLastError () > IPP_STATUS_OK_CONFLICTING)
    {
      g_set_error (error, PM_PRINTER_ERROR, PM_PRINTER_ERROR_OFFLINE,
                   "The print service did not say how %s is (%s)", self->queue,
                   cupsLastErrorString ());
      ippDelete (response);
      return FALSE;
    }

  status->found = TRUE;
  attr = ippFindAttribute (response, "printer-state", IPP_TAG_ENUM);
  status->state = attr != NULL ? ippGetInteger (attr, 0) : IPP_PSTATE_IDLE;
  attr = ippFindAttribute (response, "printer-is-accepting-jobs", IPP_TAG_BOOLEAN);
  status->accepting = attr == NULL || ippGetBoolean (attr, 0);
  status->reasons = strings_of (ippFindAttribute (response, "printer-state-reasons",
                                                  IPP_TAG_KEYWORD));
  attr = ippFindAttribute (response, "printer-make-and-model", IPP_TAG_TEXT);
  status->make_and_model = g_strdup (attr != NULL ? ippGetString (attr, 0, NULL) : NULL);
  attr = ippFindAttribute (response, "printer-state-message", IPP_TAG_TEXT);
  status->message = g_strdup (attr != NULL ? ippGetString (attr, 0, NULL) : NULL);

  ippDelete (response);
  return TRUE;
}

static PmPrinterState
queue_state (const QueueStatus *status)
{
  PmPrinterState state;

  if (!status->found)
    return PM_PRINTER_STATE_OFFLINE;

  state = pm_printer_state_from_reasons ((const char * const *) status->reasons,
                                         status->state == IPP_PSTATE_STOPPED
                                         || !status->accepting);
  if (state == PM_PRINTER_STATE_READY && status->state == IPP_PSTATE_PROCESSING)
    return PM_PRINTER_STATE_BUSY;
  return state;
}

/* The error for a queue that cannot print now, in the operator's words. */
static void
set_queue_error (PmCupsPrinter     *self,
                 const QueueStatus *status,
                 GError           **error)
{
  PmPrinterState state = queue_state (status);
  int code;
  const char *what;

  switch (state)
    {
    case PM_PRINTER_STATE_JAMMED:
      code = PM_PRINTER_ERROR_JAMMED;
      what = "is jammed; clear the paper path";
      break;
    case PM_PRINTER_STATE_OUT_OF_PAPER:
      code = PM_PRINTER_ERROR_OUT_OF_PAPER;
      what = "is out of paper or labels; load more";
      break;
    case PM_PRINTER_STATE_OUT_OF_INK:
      code = PM_PRINTER_ERROR_OUT_OF_INK;
      what = "is out of ink or ribbon; replace it";
      break;
    default:
      code = PM_PRINTER_ERROR_OFFLINE;
      what = !status->accepting ? "does not accept jobs; enable the queue in the printer "
                                  "settings"
                                : "is stopped or offline; check that it is switched on and "
                                  "resume the queue";
      break;
    }

  g_set_error (error, PM_PRINTER_ERROR, code, "%s %s%s%s%s", self->name, what,
               status->message != NULL && *status->message != '\0' ? " (" : "",
               status->message != NULL ? status->message : "",
               status->message != NULL && *status->message != '\0' ? ")" : "");
}

static const char *
cups_format (PmPrintFormat format)
{
  switch (format)
    {
    case PM_PRINT_FORMAT_PDF: return CUPS_FORMAT_PDF;
    case PM_PRINT_FORMAT_PNG: return "image/png";
    case PM_PRINT_FORMAT_ZPL:
    case PM_PRINT_FORMAT_EPL:
    case PM_PRINT_FORMAT_RAW:
    default:
      return CUPS_FORMAT_RAW;
    }
}

typedef struct
{
  int      state;        /* ipp_jstate_t, 0 when unknown */
  int      impressions;
  char   **reasons;
} JobStatus;

static gboolean
get_job_status (PmCupsPrinter *self,
                http_t        *http,
                int            job_id,
                JobStatus     *status)
{
  static const char * const wanted[] = {
    "job-state", "job-state-reasons", "job-impressions-completed",
  };
  g_autofree char *uri = printer_uri (self);
  ipp_t *request = ippNewRequest (IPP_OP_GET_JOB_ATTRIBUTES);
  ipp_t *response;
  ipp_attribute_t *attr;

  memset (status, 0, sizeof *status);

  ippAddString (request, IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", NULL, uri);
  ippAddInteger (request, IPP_TAG_OPERATION, IPP_TAG_INTEGER, "job-id", job_id);
  ippAddString (request, IPP_TAG_OPERATION, IPP_TAG_NAME, "requesting-user-name", NULL,
                cupsUser ());
  ippAddStrings (request, IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "requested-attributes",
                 G_N_ELEMENTS (wanted), NULL, wanted);
  response = cupsDoRequest (http, request, "/");
  if (response == NULL || cupsLastError () > IPP_STATUS_OK_CONFLICTING)
    {
      ippDelete (response);
      return FALSE;
    }

  attr = ippFindAttribute (response, "job-state", IPP_TAG_ENUM);
  status->state = attr != NULL ? ippGetInteger (attr, 0) : 0;
  attr = ippFindAttribute (response, "job-impressions-completed", IPP_TAG_INTEGER);
  status->impressions = attr != NULL ? ippGetInteger (attr, 0) : 0;
  status->reasons = strings_of (ippFindAttribute (response, "job-state-reasons",
                                                  IPP_TAG_KEYWORD));
  ippDelete (response);
  return TRUE;
}

static GBytes *
document_bytes (PmPrintJob *job,
                GError    **error)
{
  GBytes *data = pm_print_job_get_data (job);

  if (data != NULL && g_bytes_get_size (data) > 0)
    return g_bytes_ref (data);

  if (pm_print_job_has_page_painter (job))
    {
      switch (pm_print_job_get_format (job))
        {
        case PM_PRINT_FORMAT_PDF:
          return pm_print_job_render_pdf (job, error);
        case PM_PRINT_FORMAT_PNG:
          return pm_print_job_render_png (job, pm_print_job_get_resolution (job) > 0
                                                 ? pm_print_job_get_resolution (job)
                                                 : 300.0, error);
        default:
          break;
        }
    }

  g_set_error (error, PM_PRINTER_ERROR, PM_PRINTER_ERROR_JOB_FAILED,
               "The job has no printer data");
  return NULL;
}

static gboolean
write_all (int           fd,
           const guint8 *bytes,
           gsize         length)
{
  gsize done = 0;

  while (done < length)
    {
      gssize n = write (fd, bytes + done, length - done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      done += (gsize) n;
    }

  return TRUE;
}

static void
cancel_in_cups (PmCupsPrinter *self,
                http_t        *http,
                int            job_id)
{
  if (cupsCancelJob2 (http, self->queue, job_id, 0) != IPP_STATUS_OK)
    g_warning ("Could not cancel job %s-%d in CUPS: %s", self->queue, job_id,
               cupsLastErrorString ());
}

/* Create-Job, then Send-Document with the bytes: the job exists in CUPS before any byte
 * leaves, so a transfer that breaks can be canceled by its id. Returns the id, or 0. */
static int
send_document (PmCupsPrinter *self,
               http_t        *http,
               PmPrintJob    *job,
               GBytes        *document,
               GError       **error)
{
  g_autofree char *title = g_strdup_printf ("%s (%s)", pm_print_job_get_title (job),
                                            pm_print_job_get_id (job));
  g_autofree char *uri = printer_uri (self);
  g_autofree char *resource = g_strdup_printf ("/printers/%s", self->queue);
  const char *format = cups_format (pm_print_job_get_format (job));
  gsize length;
  const guint8 *bytes = g_bytes_get_data (document, &length);
  ipp_t *request, *response;
  ipp_attribute_t *attr;
  ipp_status_t status;
  int job_id = 0;
  gboolean sent;
  int fd;

  request = ippNewRequest (IPP_OP_CREATE_JOB);
  ippAddString (request, IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", NULL, uri);
  ippAddString (request, IPP_TAG_OPERATION, IPP_TAG_NAME, "requesting-user-name", NULL,
                cupsUser ());
  ippAddString (request, IPP_TAG_OPERATION, IPP_TAG_NAME, "job-name", NULL, title);
  /* Raw bytes must pass every filter untouched, whatever the queue's driver is. */
  if (g_str_equal (format, CUPS_FORMAT_RAW))
    ippAddString (request, IPP_TAG_JOB, IPP_TAG_KEYWORD, "raw", NULL, "true");
  response = cupsDoRequest (http, request, resource);
  status = cupsLastError ();
  attr = response != NULL ? ippFindAttribute (response, "job-id", IPP_TAG_INTEGER) : NULL;
  if (attr != NULL && status <= IPP_STATUS_OK_CONFLICTING)
    job_id = ippGetInteger (attr, 0);
  ippDelete (response);

  if (job_id == 0)
    {
      g_set_error (error, PM_PRINTER_ERROR,
                   status == IPP_STATUS_ERROR_NOT_FOUND ? PM_PRINTER_ERROR_NOT_FOUND
                   : status == IPP_STATUS_ERROR_NOT_ACCEPTING_JOBS ? PM_PRINTER_ERROR_OFFLINE
                   : PM_PRINTER_ERROR_JOB_FAILED,
                   "%s did not take the job (%s)", self->name, cupsLastErrorString ());
      return 0;
    }

  request = ippNewRequest (IPP_OP_SEND_DOCUMENT);
  ippAddString (request, IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", NULL, uri);
  ippAddInteger (request, IPP_TAG_OPERATION, IPP_TAG_INTEGER, "job-id", job_id);
  ippAddString (request, IPP_TAG_OPERATION, IPP_TAG_NAME, "requesting-user-name", NULL,
                cupsUser ());
  ippAddString (request, IPP_TAG_OPERATION, IPP_TAG_NAME, "document-name", NULL,
                pm_print_job_get_id (job));
  ippAddString (request, IPP_TAG_OPERATION, IPP_TAG_MIMETYPE, "document-format", NULL,
                format);
  ippAddBoolean (request, IPP_TAG_OPERATION, "last-document", 1);

  /* libcups reads the document from a descriptor: an anonymous memory file keeps the
   * label's bytes off the disk. */
  response = NULL;
  fd = memfd_create ("postmeter-print-job", MFD_CLOEXEC);
  if (fd >= 0 && write_all (fd, bytes, length) && lseek (fd, 0, SEEK_SET) == 0)
    response = cupsDoIORequest (http, request, resource, fd, -1);
  else
    ippDelete (request);
  status = cupsLastError ();
  sent = response != NULL && status <= IPP_STATUS_OK_CONFLICTING;
  if (fd >= 0)
    close (fd);
  ippDelete (response);

  if (!sent)
    {
      g_set_error (error, PM_PRINTER_ERROR, PM_PRINTER_ERROR_IO,
                   "Sending the document to %s failed (%s)", self->name,
                   cupsLastErrorString ());
      cancel_in_cups (self, http, job_id);
      return 0;
    }

  return job_id;
}

static gboolean
follow_job (PmCupsPrinter    *self,
            http_t           *http,
            int               job_id,
            PmPrintJob       *job,
            GCancellable     *cancellable,
            PmPrintJobResult *result,
            GError          **error)
{
  gint64 deadline = g_get_monotonic_time ()
                    + (gint64) g_atomic_int_get (&self->timeout_s) * G_USEC_PER_SEC;

  for (;;)
    {
      JobStatus job_status;
      QueueStatus queue_status;
      g_autofree char *reasons = NULL;

      if (!get_job_status (self, http, job_id, &job_status))
        {
          g_set_error (error, PM_PRINTER_ERROR, PM_PRINTER_ERROR_IO,
                       "Lost track of job %d on %s (%s); check the printer before "
                       "reprinting", job_id, self->name, cupsLastErrorString ());
          return FALSE;
        }
      reasons = g_strjoinv (", ", job_status.reasons);
      g_strfreev (job_status.reasons);

      switch (job_status.state)
        {
        case IPP_JSTATE_COMPLETED:
          result->impressions = job_status.impressions > 0 ? (guint) job_status.impressions
                                                           : pm_print_job_get_pages (job);
          return TRUE;

        case IPP_JSTATE_CANCELED:
        case IPP_JSTATE_ABORTED:
          if (get_queue_status (self, http, &queue_status, NULL)
              && queue_state (&queue_status) != PM_PRINTER_STATE_READY
              && queue_state (&queue_status) != PM_PRINTER_STATE_BUSY)
            set_queue_error (self, &queue_status, error);
          else
            g_set_error (error, PM_PRINTER_ERROR, PM_PRINTER_ERROR_JOB_FAILED,
                         "The print system %s the job (%s)",
                         job_status.state == IPP_JSTATE_CANCELED ? "canceled" : "aborted",
                         reasons);
          queue_status_clear (&queue_status);
          return FALSE;

        default:
          break;
        }

      /* Still to print: a queue that stops or refuses would keep it for ever. */
      if (!get_queue_status (self, http, &queue_status, error))
        return FALSE;
      if (!queue_status.found || queue_status.state == IPP_PSTATE_STOPPED
          || job_status.state == IPP_JSTATE_STOPPED || job_status.state == IPP_JSTATE_HELD)
        {
          cancel_in_cups (self, http, job_id);
          set_queue_error (self, &queue_status, error);
          g_prefix_error (error, "Canceled in CUPS so it cannot print later: ");
          queue_status_clear (&queue_status);
          return FALSE;
        }
      queue_status_clear (&queue_status);

      if (g_cancellable_is_cancelled (cancellable))
        {
          cancel_in_cups (self, http, job_id);
          g_set_error (error, PM_PRINTER_ERROR, PM_PRINTER_ERROR_CANCELLED,
                       "The job was canceled before it printed");
          return FALSE;
        }
      if (g_get_monotonic_time () > deadline)
        {
          cancel_in_cups (self, http, job_id);
          g_set_error (error, PM_PRINTER_ERROR, PM_PRINTER_ERROR_TIMED_OUT,
                       "%s did not print the job in time (%s); it was canceled in CUPS. "
                       "Check the printer before reprinting", self->name, reasons);
          return FALSE;
        }

      g_usleep ((gulong) g_atomic_int_get (&self->poll_ms) * 1000);
    }
}

static void
run_job_in_worker (GTask        *task,
                   gpointer      source_object,
                   gpointer      task_data,
                   GCancellable *cancellable)
{
  PmCupsPrinter *self = source_object;
  PmPrintJob *job = task_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) document = NULL;
  g_autofree char *make_and_model = NULL;
  g_autofree char *backend_ref = NULL;
  PmPrintJobResult result = { 0 };
  QueueStatus queue_status;
  http_t *http = NULL;
  int job_id;

  g_assert (pm_print_worker_is_current (self->worker));

  if (g_cancellable_set_error_if_cancelled (cancellable, &error))
    goto out;

  document = document_bytes (job, &error);
  if (document == NULL)
    goto out;

  http = cups_connect (self, &error);
  if (http == NULL)
    goto out;

  /* A queue that cannot print now is said before a job is left waiting in it. */
  if (!get_queue_status (self, http, &queue_status, &error))
    goto out;
  if (!queue_status.found)
    {
      g_set_error (&error, PM_PRINTER_ERROR, PM_PRINTER_ERROR_NOT_FOUND,
                   "There is no print queue called %s; choose the printer again in "
                   "Settings", self->queue);
      goto out;
    }
  if (queue_status.state == IPP_PSTATE_STOPPED || !queue_status.accepting)
    {
      set_queue_error (self, &queue_status, &error);
      queue_status_clear (&queue_status);
      goto out;
    }
  make_and_model = g_steal_pointer (&queue_status.make_and_model);
  queue_status_clear (&queue_status);

  pm_print_job_post_state (task, PM_PRINT_JOB_SENDING, NULL);
  job_id = send_document (self, http, job, document, &error);
  if (job_id == 0)
    goto out;

  backend_ref = g_strdup_printf ("%s-%d", self->queue, job_id);
  g_debug ("Job %s is %s: %" G_GSIZE_FORMAT " bytes of %s", pm_print_job_get_id (job),
           backend_ref, g_bytes_get_size (document),
           cups_format (pm_print_job_get_format (job)));
  pm_print_job_post_state (task, PM_PRINT_JOB_PRINTING, backend_ref);

  if (follow_job (self, http, job_id, job, cancellable, &result, &error))
    {
      const PmInkModel *model = pm_ink_model_lookup (make_and_model);

      /* CUPS reports no ink use per job: the model's figure per impression stands. */
      result.ink_nanolitres = (guint64) model->nanolitres_per_impression * result.impressions;
      result.ink_source = model->nanolitres_per_impression > 0 ? PM_INK_SOURCE_MODEL
                                                               : PM_INK_SOURCE_NONE;
    }

out:
  if (http != NULL)
    httpClose (http);
  pm_print_job_post_outcome (task, &result, g_steal_pointer (&error));
}

static void
pm_cups_printer_submit_async (PmPrinter          *printer,
                              PmPrintJob         *job,
                              GCancellable       *cancellable,
                              GAsyncReadyCallback callback,
                              gpointer            user_data)
{
  PmCupsPrinter *self = PM_CUPS_PRINTER (printer);

  pm_print_worker_submit (self->worker, printer, job, pm_cups_printer_submit_async,
                          run_job_in_worker, cancellable, callback, user_data);
}

static void
query_state_in_worker (GTask        *task,
                       gpointer      source_object,
                       gpointer      task_data,
                       GCancellable *cancellable)
{
  PmCupsPrinter *self = source_object;
  PmPrintStateResult *result;
  QueueStatus status;
  GError *error = NULL;
  http_t *http = cups_connect (self, &error);

  if (http == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  if (!get_queue_status (self, http, &status, &error))
    {
      httpClose (http);
      g_task_return_error (task, error);
      return;
    }
  httpClose (http);

  if (!status.found)
    {
      g_task_return_new_error (task, PM_PRINTER_ERROR, PM_PRINTER_ERROR_NOT_FOUND,
                               "There is no print queue called %s", self->queue);
      return;
    }

  result = g_new0 (PmPrintStateResult, 1);
  result->state = queue_state (&status);
  result->reasons = g_steal_pointer (&status.reasons);
  if (status.state == IPP_PSTATE_STOPPED || !status.accepting)
    {
      g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

      /* Say why in the same keywords the rest of the reasons use. */
      g_strv_builder_addv (builder, (const char **) result->reasons);
      g_strv_builder_add (builder, status.state == IPP_PSTATE_STOPPED ? "paused"
                                                                     : "offline-report");
      g_strfreev (result->reasons);
      result->reasons = g_strv_builder_end (builder);
    }
  queue_status_clear (&status);
  g_task_return_pointer (task, result, pm_print_state_result_free);
}

static void
pm_cups_printer_query_state_async (PmPrinter          *printer,
                                   GCancellable       *cancellable,
                                   GAsyncReadyCallback callback,
                                   gpointer            user_data)
{
  PmCupsPrinter *self = PM_CUPS_PRINTER (printer);
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, pm_cups_printer_query_state_async);
  pm_print_worker_push (self->worker, task, query_state_in_worker);
}

static void
pm_cups_printer_iface_init (PmPrinterInterface *iface)
{
  iface->get_name = pm_cups_printer_get_name;
  iface->supports_format = pm_cups_printer_supports_format;
  iface->submit_async = pm_cups_printer_submit_async;
  iface->submit_finish = pm_print_worker_submit_finish;
  iface->query_state_async = pm_cups_printer_query_state_async;
  iface->query_state_finish = pm_print_worker_query_state_finish;
}
