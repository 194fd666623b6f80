/* pm-raw-printer.c: printer-language bytes to a socket or a device file
 *
 * All I/O runs on the printer's own worker thread. A job is written once: when the connection
 * breaks or the printer stops taking data, the job fails with the number of bytes that went
 * out, and it is never resent automatically, because the printer may already have printed it.
 */
/* O_CLOEXEC and friends under -std=c17 */
#define _GNU_SOURCE

#include "pm-raw-printer.h"

#include "pm-printer-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <linux/lp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define DEFAULT_TIMEOUT_S 15

struct _PmRawPrinter
{
  GObject parent_instance;

  /* Set at construction, read by the worker. */
  char          *name;
  char          *host;          /* socket target, or NULL */
  guint16        port;
  char          *device_path;   /* device target, or NULL */
  guint          timeout_s;     /* atomic: set from any thread, read by the worker */
  PmPrintWorker *worker;        /* owned */
};

static void pm_raw_printer_iface_init (PmPrinterInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (PmRawPrinter, pm_raw_printer, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (PM_TYPE_PRINTER,
                                                      pm_raw_printer_iface_init))

static void
pm_raw_printer_finalize (GObject *object)
{
  PmRawPrinter *self = PM_RAW_PRINTER (object);

  pm_print_worker_free (self->worker);
  g_free (self->name);
  g_free (self->host);
  g_free (self->device_path);

  G_OBJECT_CLASS (pm_raw_printer_parent_class)->finalize (object);
}

static void
pm_raw_printer_class_init (PmRawPrinterClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = pm_raw_printer_finalize;
}

static void
pm_raw_printer_init (PmRawPrinter *self)
{
  self->timeout_s = DEFAULT_TIMEOUT_S;
}

PmRawPrinter *
pm_raw_printer_new_socket (const char *name,
                           const char *host,
                           guint16     port)
{
  PmRawPrinter *self;

  g_return_val_if_fail (host != NULL, NULL);

  self = g_object_new (PM_TYPE_RAW_PRINTER, NULL);
  self->host = g_strdup (host);
  self->port = port != 0 ? port : PM_RAW_PRINTER_DEFAULT_PORT;
  self->name = name != NULL ? g_strdup (name)
                            : g_strdup_printf ("Label printer at %s:%u", host, self->port);
  self->worker = pm_print_worker_new ("pm-print-raw");

  return self;
}

PmRawPrinter *
pm_raw_printer_new_device (const char *name,
                           const char *device_path)
{
  PmRawPrinter *self;

  g_return_val_if_fail (device_path != NULL, NULL);

  self = g_object_new (PM_TYPE_RAW_PRINTER, NULL);
  self->device_path = g_strdup (device_path);
  self->name = name != NULL ? g_strdup (name)
                            : g_strdup_printf ("Label printer on %s", device_path);
  self->worker = pm_print_worker_new ("pm-print-raw");

  return self;
}

/* How long to wait for the connection and for the printer to take more data. */
void
pm_raw_printer_set_timeout (PmRawPrinter *self,
                            guint         seconds)
{
  g_return_if_fail (PM_IS_RAW_PRINTER (self));
  g_return_if_fail (seconds > 0);

  g_atomic_int_set (&self->timeout_s, seconds);
}

static const char *
pm_raw_printer_get_name (PmPrinter *printer)
{
  return PM_RAW_PRINTER (printer)->name;
}

static gboolean
pm_raw_printer_supports_format (PmPrinter    *printer,
                                PmPrintFormat format)
{
  /* The bytes go to the printer as they are: only its own languages make sense. */
  return format == PM_PRINT_FORMAT_ZPL || format == PM_PRINT_FORMAT_EPL ||
         format == PM_PRINT_FORMAT_RAW;
}

static GSocketConnection *
connect_socket (PmRawPrinter *self,
                GCancellable *cancellable,
                GError      **error)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GError) local_error = NULL;
  GSocketConnection *connection;

  g_socket_client_set_timeout (client, g_atomic_int_get (&self->timeout_s));
  /* A label printer sits on the office network: never go through a web proxy to it. */
  g_socket_client_set_enable_proxy (client, FALSE);
  connection = g_socket_client_connect_to_host (client, self->host, self->port, cancellable,
                                                &local_error);
  if (connection == NULL)
    {
      g_set_error (error, PM_PRINTER_ERROR,
                   g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
                     ? PM_PRINTER_ERROR_CANCELLED : PM_PRINTER_ERROR_OFFLINE,
                   "Cannot reach the label printer at %s:%u (%s); check that it is switched "
                   "on and connected to the network",
                   self->host, self->port, local_error->message);
      return NULL;
    }

  return connection;
}

static gboolean
send_to_socket (PmRawPrinter *self,
                GBytes       *data,
                gsize        *out_sent,
                GCancellable *cancellable,
                GError      **error)
{
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GError) local_error = NULL;
  GOutputStream *out;
  gsize length;
  const guint8 *bytes = g_bytes_get_data (data, &length);

  connection = connect_socket (self, cancellable, error);
  if (connection == NULL)
    return FALSE;

  /* The client's timeout also bounds each write: a printer that stops reading (paper out,
   * head open, hung) makes the write fail instead of blocking forever. */
  out = g_io_stream_get_output_stream (G_IO_STREAM (connection));
  if (!g_output_stream_write_all (out, bytes, length, out_sent, cancellable, &local_error) ||
      !g_io_stream_close (G_IO_STREAM (connection), cancellable, &local_error))
    {
      gboolean timed_out = g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);

      g_set_error (error, PM_PRINTER_ERROR,
                   timed_out ? PM_PRINTER_ERROR_TIMED_OUT : PM_PRINTER_ERROR_IO,
                   "The label printer at %s:%u stopped taking data after %" G_GSIZE_FORMAT
                   " of %" G_GSIZE_FORMAT " bytes (%s). Check the printer; the label may be "
                   "incomplete, so reprint it only after checking",
                   self->host, self->port, *out_sent, length, local_error->message);
      return FALSE;
    }

  return TRUE;
}

static gboolean
send_to_device (PmRawPrinter *self,
                GBytes       *data,
                gsize        *out_sent,
                GCancellable *cancellable,
                GError      **error)
{
  gsize length;
  const guint8 *bytes = g_bytes_get_data (data, &length);
  int timeout_ms = (int) g_atomic_int_get (&self->timeout_s) * 1000;
  int fd;

  /* No O_CREAT: the device must exist; a typo must not create a file in /dev. */
  fd = g_open (self->device_path, O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC, 0);
  if (fd < 0)
    {
      int saved = errno;

      g_set_error (error, PM_PRINTER_ERROR,
                   saved == ENOENT || saved == ENODEV || saved == ENXIO
                     ? PM_PRINTER_ERROR_NOT_FOUND : PM_PRINTER_ERROR_OFFLINE,
                   "Cannot open the label printer %s (%s); check that it is plugged in "
                   "and switched on",
                   self->device_path, g_strerror (saved));
      return FALSE;
    }

  *out_sent = 0;
  while (*out_sent < length)
    {
      struct pollfd pfd = { .fd = fd, .events = POLLOUT };
      gssize n;
      int ready;

      if (g_cancellable_is_cancelled (cancellable))
        break;

      ready = poll (&pfd, 1, timeout_ms);
      if (ready < 0 && errno == EINTR)
        continue;
      if (ready == 0)
        {
          errno = ETIMEDOUT;
          break;
        }
      n = write (fd, bytes + *out_sent, length - *out_sent);
      if (n < 0 && (errno == EINTR || errno == EAGAIN))
        continue;
      if (n < 0)
        break;
      *out_sent += (gsize) n;
    }

  if (*out_sent < length)
    {
      int saved = errno;

      g_set_error (error, PM_PRINTER_ERROR,
                   g_cancellable_is_cancelled (cancellable) ? PM_PRINTER_ERROR_CANCELLED :
                   saved == ETIMEDOUT ? PM_PRINTER_ERROR_TIMED_OUT : PM_PRINTER_ERROR_IO,
                   "The label printer %s stopped taking data after %" G_GSIZE_FORMAT
                   " of %" G_GSIZE_FORMAT " bytes (%s). Check the printer; the label may "
                   "be incomplete, so reprint it only after checking",
                   self->device_path, *out_sent, length,
                   g_cancellable_is_cancelled (cancellable) ? "cancelled"
                                                           : g_strerror (saved));
      close (fd);
      return FALSE;
    }

  if (close (fd) != 0)
    {
      g_set_error (error, PM_PRINTER_ERROR, PM_PRINTER_ERROR_IO,
                   "Finishing the job on %s failed: %s", self->device_path,
                   g_strerror (errno));
      return FALSE;
    }

  return TRUE;
}

static void
run_job_in_worker (GTask        *task,
                   gpointer      source_object,
                   gpointer      task_data,
                   GCancellable *cancellable)
{
  PmRawPrinter *self = source_object;
  PmPrintJob *job = task_data;
  g_autoptr(GError) error = NULL;
  PmPrintJobResult result = { 0 };
  GBytes *data = pm_print_job_get_data (job);
  gsize sent = 0;
  gboolean ok;

  g_assert (pm_print_worker_is_current (self->worker));

  if (g_cancellable_set_error_if_cancelled (cancellable, &error))
    goto out;
  if (data == NULL || g_bytes_get_size (data) == 0)
    {
      g_set_error (&error, PM_PRINTER_ERROR, PM_PRINTER_ERROR_JOB_FAILED,
                   "The job has no printer data");
      goto out;
    }

  pm_print_job_post_state (task, PM_PRINT_JOB_SENDING, NULL);
  if (self->host != NULL)
    ok = send_to_socket (self, data, &sent, cancellable, &error);
  else
    ok = send_to_device (self, data, &sent, cancellable, &error);
  g_debug ("Job %s: %" G_GSIZE_FORMAT " bytes sent to %s", pm_print_job_get_id (job), sent,
           self->name);

  if (ok)
    {
      /* Thermal label printers use no ink; a raw printer reports nothing back. */
      result.impressions = pm_print_job_get_pages (job);
      result.ink_source = PM_INK_SOURCE_NONE;
    }

out:
  pm_print_job_post_outcome (task, &result, g_steal_pointer (&error));
}

static void
pm_raw_printer_submit_async (PmPrinter          *printer,
                             PmPrintJob         *job,
                             GCancellable       *cancellable,
                             GAsyncReadyCallback callback,
                             gpointer            user_data)
{
  PmRawPrinter *self = PM_RAW_PRINTER (printer);

  pm_print_worker_submit (self->worker, printer, job, pm_raw_printer_submit_async,
                          run_job_in_worker, cancellable, callback, user_data);
}

static void
query_state_in_worker (GTask        *task,
                       gpointer      source_object,
                       gpointer      task_data,
                       GCancellable *cancellable)
{
  PmRawPrinter *self = source_object;
  PmPrintStateResult *result = g_new0 (PmPrintStateResult, 1);
  g_autoptr(GStrvBuilder) reasons = g_strv_builder_new ();

  if (self->host != NULL)
    {
      g_autoptr(GSocketConnection) connection = NULL;

      /* A raw socket tells nothing beyond whether the printer answers. */
      connection = connect_socket (self, cancellable, NULL);
      result->state = connection != NULL ? PM_PRINTER_STATE_READY : PM_PRINTER_STATE_OFFLINE;
      if (connection == NULL)
        g_strv_builder_add (reasons, "offline-report");
    }
  else
    {
      int fd = g_open (self->device_path, O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC, 0);
      int status = 0;

      if (fd < 0)
        {
          result->state = PM_PRINTER_STATE_OFFLINE;
          g_strv_builder_add (reasons, "offline-report");
        }
      else if (ioctl (fd, LPGETSTATUS, &status) == 0)
        {
          /* The parallel-port status lines, which usblp emulates. */
          if (status & LP_POUTPA)
            g_strv_builder_add (reasons, "media-empty-error");
          if (!(status & LP_PSELECD))
            g_strv_builder_add (reasons, "offline-report");
          if (!(status & LP_PERRORP))
            g_strv_builder_add (reasons, "other-error");
          result->state = PM_PRINTER_STATE_READY;
        }
      else
        result->state = PM_PRINTER_STATE_UNKNOWN;

      if (fd >= 0)
        close (fd);
    }

  result->reasons = g_strv_builder_end (reasons);
  if (result->state == PM_PRINTER_STATE_READY)
    result->state = pm_printer_state_from_reasons ((const char * const *) result->reasons,
                                                   FALSE);
  g_task_return_pointer (task, result, pm_print_state_result_free);
}

static void
pm_raw_printer_query_state_async (PmPrinter          *printer,
                                  GCancellable       *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer            user_data)
{
  PmRawPrinter *self = PM_RAW_PRINTER (printer);
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, pm_raw_printer_query_state_async);
  pm_print_worker_push (self->worker, task, query_state_in_worker);
}

static void
pm_raw_printer_iface_init (PmPrinterInterface *iface)
{
  iface->get_name = pm_raw_printer_get_name;
  iface->supports_format = pm_raw_printer_supports_format;
  iface->submit_async = pm_raw_printer_submit_async;
  iface->submit_finish = pm_print_worker_submit_finish;
  iface->query_state_async = pm_raw_printer_query_state_async;
  iface->query_state_finish = pm_print_worker_query_state_finish;
}
