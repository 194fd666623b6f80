/* pm-folder-printer.c: files each job as PDF and PNG (and its ZPL or EPL) in a folder
 *
 * Runs its file I/O on its own worker thread. Each job writes "<id>.<ext>" files; a file that
 * already exists is never overwritten, so a job id reused after a restart fails instead of
 * replacing the record of the earlier piece.
 */
/* O_CLOEXEC and friends under -std=c17 */
#define _GNU_SOURCE

#include "pm-folder-printer.h"

#include "pm-printer-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

struct _PmFolderPrinter
{
  GObject parent_instance;

  char          *name;    /* owned, read-only after construction */
  char          *folder;  /* owned, read-only after construction */
  PmPrintWorker *worker;  /* owned */
};

static void pm_folder_printer_iface_init (PmPrinterInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (PmFolderPrinter, pm_folder_printer, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (PM_TYPE_PRINTER,
                                                      pm_folder_printer_iface_init))

static void
pm_folder_printer_finalize (GObject *object)
{
  PmFolderPrinter *self = PM_FOLDER_PRINTER (object);

  pm_print_worker_free (self->worker);
  g_free (self->name);
  g_free (self->folder);

  G_OBJECT_CLASS (pm_folder_printer_parent_class)->finalize (object);
}

static void
pm_folder_printer_class_init (PmFolderPrinterClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = pm_folder_printer_finalize;
}

static void
pm_folder_printer_init (PmFolderPrinter *self)
{
}

PmFolderPrinter *
pm_folder_printer_new (const char *name,
                       const char *folder)
{
  PmFolderPrinter *self;

  g_return_val_if_fail (folder != NULL, NULL);

  self = g_object_new (PM_TYPE_FOLDER_PRINTER, NULL);
  self->name = g_strdup (name != NULL ? name : "Folder printer");
  self->folder = g_strdup (folder);
  self->worker = pm_print_worker_new ("pm-print-folder");

  return self;
}

const char *
pm_folder_printer_get_folder (PmFolderPrinter *self)
{
  g_return_val_if_fail (PM_IS_FOLDER_PRINTER (self), NULL);
  return self->folder;
}

static const char *
pm_folder_printer_get_name (PmPrinter *printer)
{
  return PM_FOLDER_PRINTER (printer)->name;
}

static gboolean
pm_folder_printer_supports_format (PmPrinter    *printer,
                                   PmPrintFormat format)
{
  return TRUE;
}

/* Keeps letters, digits, '-' and '.', so an id cannot climb out of the folder. */
static char *
safe_file_stem (const char *id)
{
  char *stem = g_strdup (id);
  char *p;

  for (p = stem; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '.')
      *p = '_';
  if (stem[0] == '.')
    stem[0] = '_';

  return stem;
}

/* Writes @data to @path, which must not exist yet, and syncs it. */
static gboolean
write_new_file (const char *path,
                const void *data,
                gsize       length,
                GError    **error)
{
  const guint8 *p = data;
  int fd;

  fd = g_open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0)
    {
      int saved = errno;

      g_set_error (error, PM_PRINTER_ERROR,
                   saved == EEXIST ? PM_PRINTER_ERROR_DUPLICATE_JOB : PM_PRINTER_ERROR_IO,
                   saved == EEXIST ? "%s already exists; the job was printed before and is "
                                     "not written again"
                                   : "Cannot create %s: %s",
                   path, g_strerror (saved));
      return FALSE;
    }

  while (length > 0)
    {
      gssize n = write (fd, p, length);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;

          g_set_error (error, PM_PRINTER_ERROR, PM_PRINTER_ERROR_IO,
                       "Cannot write %s: %s", path, g_strerror (saved));
          close (fd);
          g_unlink (path);
          return FALSE;
        }
      p += n;
      length -= (gsize) n;
    }

  if (fsync (fd) != 0 || close (fd) != 0)
    {
      g_set_error (error, PM_PRINTER_ERROR, PM_PRINTER_ERROR_IO,
                   "Cannot save %s: %s", path, g_strerror (errno));
      return FALSE;
    }

  return TRUE;
}

static gboolean
file_one (GPtrArray  *written,
          const char *folder,
          const char *stem,
          const char *extension,
          GBytes     *bytes,
          GError    **error)
{
  g_autofree char *name = g_strdup_printf ("%s.%s", stem, extension);
  g_autofree char *path = g_build_filename (folder, name, NULL);
  gsize length;
  const void *data = g_bytes_get_data (bytes, &length);

  if (!write_new_file (path, data, length, error))
    return FALSE;

  g_ptr_array_add (written, g_steal_pointer (&path));
  return TRUE;
}

static void
run_job_in_worker (GTask        *task,
                   gpointer      source_object,
                   gpointer      task_data,
                   GCancellable *cancellable)
{
  PmFolderPrinter *self = source_object;
  PmPrintJob *job = task_data;
  g_autoptr(GPtrArray) written = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *stem = safe_file_stem (pm_print_job_get_id (job));
  g_autoptr(GError) error = NULL;
  PmPrintJobResult result = { 0 };
  PmPrintFormat format = pm_print_job_get_format (job);
  double resolution = pm_print_job_get_resolution (job);
  GBytes *data = pm_print_job_get_data (job);
  guint i;

  g_assert (pm_print_worker_is_current (self->worker));

  if (resolution <= 0)
    resolution = PM_PRINT_PNG_DPI;

  if (g_cancellable_set_error_if_cancelled (cancellable, &error))
    goto out;

  pm_print_job_post_state (task, PM_PRINT_JOB_SENDING, NULL);

  if (g_mkdir_with_parents (self->folder, 0755) != 0)
    {
      g_set_error (&error, PM_PRINTER_ERROR, PM_PRINTER_ERROR_NOT_FOUND,
                   "Cannot create the output folder %s: %s", self->folder,
                   g_strerror (errno));
      goto out;
    }

  if (pm_print_job_has_page_painter (job))
    {
      g_autoptr(GBytes) pdf = NULL;
      g_autoptr(GBytes) png = NULL;

      if (format == PM_PRINT_FORMAT_PDF && data != NULL)
        pdf = g_bytes_ref (data);
      else
        pdf = pm_print_job_render_pdf (job, &error);
      if (pdf == NULL || !file_one (written, self->folder, stem, "pdf", pdf, &error))
        goto out;

      if (format == PM_PRINT_FORMAT_PNG && data != NULL)
        png = g_bytes_ref (data);
      else
        png = pm_print_job_render_png (job, resolution, &error);
      if (png == NULL || !file_one (written, self->folder, stem, "png", png, &error))
        goto out;
      if (data != NULL && format != PM_PRINT_FORMAT_PDF && format != PM_PRINT_FORMAT_PNG &&
          !file_one (written, self->folder, stem, pm_print_format_extension (format), data,
                     &error))
        goto out;
    }
  else if (data != NULL)
    {
      if (!file_one (written, self->folder, stem, pm_print_format_extension (format), data,
                     &error))
        goto out;
    }
  else
    {
      g_set_error (&error, PM_PRINTER_ERROR, PM_PRINTER_ERROR_JOB_FAILED,
                   "Job %s has nothing to print", pm_print_job_get_id (job));
      goto out;
    }

  result.impressions = pm_print_job_get_pages (job);
  if (pm_print_job_get_kind (job) == PM_PRINT_KIND_ENVELOPE)
    {
      const PmInkModel *model = pm_ink_model_lookup (NULL);

      result.ink_nanolitres = (guint64) model->nanolitres_per_impression * result.impressions;
      result.ink_source = PM_INK_SOURCE_MODEL;
    }

out:
  if (error != NULL)
    {
      /* Leave no half-filed job behind. */
      for (i = 0; i < written->len; i++)
        g_unlink (g_ptr_array_index (written, i));
      g_ptr_array_set_size (written, 0);
      g_prefix_error (&error, "Job %s (%s): ", pm_print_job_get_id (job),
                      pm_print_job_get_title (job));
    }
  g_ptr_array_add (written, NULL);
  result.output_files = (char **) written->pdata;
  pm_print_job_post_result (task, &result, g_steal_pointer (&error));
}

static void
pm_folder_printer_submit_async (PmPrinter          *printer,
                                PmPrintJob         *job,
                                GCancellable       *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer            user_data)
{
  PmFolderPrinter *self = PM_FOLDER_PRINTER (printer);

  pm_print_worker_submit (self->worker, printer, job, pm_folder_printer_submit_async,
                          run_job_in_worker, cancellable, callback, user_data);
}

static void
query_state_in_worker (GTask        *task,
                       gpointer      source_object,
                       gpointer      task_data,
                       GCancellable *cancellable)
{
  PmFolderPrinter *self = source_object;

  if (g_file_test (self->folder, G_FILE_TEST_IS_DIR) && access (self->folder, W_OK) == 0)
    g_task_return_int (task, PM_PRINTER_STATE_READY);
  else
    g_task_return_new_error (task, PM_PRINTER_ERROR, PM_PRINTER_ERROR_NOT_FOUND,
                             "The output folder %s does not exist or cannot be written",
                             self->folder);
}

static void
pm_folder_printer_query_state_async (PmPrinter          *printer,
                                     GCancellable       *cancellable,
                                     GAsyncReadyCallback callback,
                                     gpointer            user_data)
{
  PmFolderPrinter *self = PM_FOLDER_PRINTER (printer);
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, pm_folder_printer_query_state_async);
  pm_print_worker_push (self->worker, task, query_state_in_worker);
}

static PmPrinterState
pm_folder_printer_query_state_finish (PmPrinter    *printer,
                                      GAsyncResult *result,
                                      char       ***out_reasons,
                                      GError      **error)
{
  g_autoptr(GError) local_error = NULL;
  gssize state = g_task_propagate_int (G_TASK (result), &local_error);

  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return PM_PRINTER_STATE_OFFLINE;
    }

  return (PmPrinterState) state;
}

static void
pm_folder_printer_iface_init (PmPrinterInterface *iface)
{
  iface->get_name = pm_folder_printer_get_name;
  iface->supports_format = pm_folder_printer_supports_format;
  iface->submit_async = pm_folder_printer_submit_async;
  iface->submit_finish = pm_print_worker_submit_finish;
  iface->query_state_async = pm_folder_printer_query_state_async;
  iface->query_state_finish = pm_folder_printer_query_state_finish;
}
