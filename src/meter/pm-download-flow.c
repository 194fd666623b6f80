/* pm-download-flow.c: the manifest, each newer package, installing and confirming
 *
 * Runs on the connection's thread; file work (reading what is installed, installing,
 * activating) runs on GTask worker threads.
 */
#include "pm-download-flow.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "pm-clock.h"
#include "pm-connection-private.h"
#include "pm-rating.h"
#include "pm-store-records.h"

#define PENDING_DIR  "pending"
#define STAGING_DIR  "staging"

void
pm_download_outcome_free (PmDownloadOutcome *outcome)
{
  if (outcome == NULL)
    return;
  g_clear_pointer (&outcome->names, g_ptr_array_unref);
  g_free (outcome);
}

static gint64
version_of_link (const char *dir,
                 const char *type,
                 const char *name)
{
  g_autofree char *link_name = g_strdup_printf ("%s-%s", type, name);
  g_autofree char *link_path = g_build_filename (dir, link_name, NULL);
  g_autofree char *target = g_file_read_link (link_path, NULL);
  const char *dash;
  guint64 version = 0;

  if (target == NULL || !g_str_has_prefix (target, link_name))
    return 0;
  dash = strrchr (target, '-');
  if (dash == NULL || !g_ascii_string_to_unsigned (dash + 1, 10, 1, G_MAXINT64, &version, NULL))
    return 0;
  return (gint64) version;
}

gint64
pm_download_flow_installed_version (const char *install_dir,
                                    const char *type,
                                    const char *name,
                                    gint64     *out_staged_version)
{
  g_autofree char *pending = g_build_filename (install_dir, PENDING_DIR, NULL);

  if (out_staged_version != NULL)
    *out_staged_version = version_of_link (pending, type, name);
  return version_of_link (install_dir, type, name);
}

static char *
describe (const PmManifestPackage *package)
{
  g_autofree char *effective = NULL;

  if (package->effective == NULL)
    return g_strdup_printf ("%s %s %" G_GINT64_FORMAT, package->type, package->name,
                            package->version);
  effective = g_strdup_printf ("%04u-%02u-%02u", g_date_get_year (package->effective),
                               g_date_get_month (package->effective),
                               g_date_get_day (package->effective));
  return g_strdup_printf (_("%s %s %" G_GINT64_FORMAT " (from %s)"), package->type,
                          package->name, package->version, effective);
}

/* ---- a run ---------------------------------------------------------------------------- */

typedef struct
{
  PmDownloadProgressFunc progress;
  gpointer               progress_data;
  GDestroyNotify         progress_destroy;
  PmManifest            *manifest;
  GPtrArray             *wanted;        /* of PmManifestPackage, borrowed from manifest */
  GArray                *have;          /* gint64: the newest version on the machine */
  guint                  index;
  char                  *staged_path;
  gboolean               staged_only;   /* the package waits for its effective date */
  GError                *first_error;
  PmDownloadOutcome     *outcome;
} RunData;

static void
run_data_free (RunData *data)
{
  if (data->progress_destroy != NULL)
    data->progress_destroy (data->progress_data);
  g_clear_pointer (&data->manifest, pm_manifest_free);
  g_clear_pointer (&data->wanted, g_ptr_array_unref);
  g_clear_pointer (&data->have, g_array_unref);
  g_free (data->staged_path);
  g_clear_error (&data->first_error);
  pm_download_outcome_free (data->outcome);
  g_free (data);
}

static void fetch_next (GTask *task);

static void
run_end (GTask *task)
{
  PmConnection *self = g_task_get_source_object (task);
  RunData *data = g_task_get_task_data (task);

  self->downloading = FALSE;
  pm_connection_set_download_progress (self, NULL, 0, 0);
  pm_connection_release (self);
  if (data->first_error != NULL)
    {
      pm_connection_note_error (self, data->first_error);
      g_task_return_error (task, g_steal_pointer (&data->first_error));
    }
  else
    g_task_return_pointer (task, g_steal_pointer (&data->outcome),
                           (GDestroyNotify) pm_download_outcome_free);
  g_object_unref (task);
}

static void
keep_error (RunData *data,
            GError  *error)
{
  if (data->first_error == NULL)
    data->first_error = error;
  else
    g_error_free (error);
}

static void
confirmed_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  GTask *task = user_data;
  RunData *data = g_task_get_task_data (task);
  GError *error = NULL;

  if (!pm_downloads_confirm_finish (PM_NET_CLIENT (source), result, &error))
    keep_error (data, error);
  data->index++;
  fetch_next (task);
}

static void
confirm (GTask      *task,
         gboolean    installed,
         const char *detail)
{
  PmConnection *self = g_task_get_source_object (task);
  RunData *data = g_task_get_task_data (task);
  const PmManifestPackage *package = g_ptr_array_index (data->wanted, data->index);

  pm_downloads_confirm_async (self->client, package, installed, detail,
                              g_task_get_cancellable (task), confirmed_cb, task);
}

static gboolean
write_pending_info (const PmManifestPackage *package,
                    const char              *pending_dir,
                    GError                 **error)
{
  g_autoptr(GKeyFile) info = g_key_file_new ();
  g_autofree char *file = g_strdup_printf ("%s-%s.info", package->type, package->name);
  g_autofree char *path = g_build_filename (pending_dir, file, NULL);
  g_autofree char *effective = g_strdup_printf ("%04u-%02u-%02u",
                                                g_date_get_year (package->effective),
                                                g_date_get_month (package->effective),
                                                g_date_get_day (package->effective));

  g_key_file_set_string (info, "package", "type", package->type);
  g_key_file_set_string (info, "package", "name", package->name);
  g_key_file_set_int64 (info, "package", "version", package->version);
  g_key_file_set_int64 (info, "package", "length", package->length);
  g_key_file_set_string (info, "package", "sha256", package->sha256);
  g_key_file_set_string (info, "package", "effective", effective);
  return g_key_file_save_to_file (info, path, error);
}

static void
install_thread (GTask        *worker,
                gpointer      source,
                gpointer      task_data,
                GCancellable *cancellable)
{
  PmConnection *self = source;
  GTask *task = task_data;
  RunData *data = g_task_get_task_data (task);
  const PmManifestPackage *package = g_ptr_array_index (data->wanted, data->index);
  g_autoptr(GDate) today = pm_clock_today_local ();
  g_autoptr(PmInstalledPackage) record = g_new0 (PmInstalledPackage, 1);
  g_autofree char *dir = NULL;
  g_autofree char *installed = NULL;
  GError *error = NULL;

  /* A signature vouches for the bytes, not that they are rates: a rate package must also
   * read as one, under its signed name and version, before it replaces anything. */
  if (g_strcmp0 (package->type, "rates") == 0)
    {
      g_autoptr(PmRating) scratch = pm_rating_new ();
      g_autofree char *sig = g_strconcat (data->staged_path, ".sig", NULL);

      if (!pm_rating_install_file (scratch, data->staged_path, sig, self->provider_key,
                                   &error))
        {
          g_prefix_error (&error, _("The rate package %s was refused: "), package->name);
          g_unlink (data->staged_path);
          g_unlink (sig);
          g_task_return_error (worker, error);
          return;
        }
    }

  data->staged_only = !pm_downloads_is_in_effect (package, today);
  dir = data->staged_only ? g_build_filename (self->config.install_dir, PENDING_DIR, NULL)
                          : g_strdup (self->config.install_dir);
  if (g_mkdir_with_parents (dir, 0755) != 0 ||
      !pm_downloads_install (package, data->staged_path, dir, &error) ||
      (data->staged_only && !write_pending_info (package, dir, &error)))
    {
      if (error == NULL)
        error = g_error_new (PM_NET_ERROR, PM_NET_ERROR_IO, _("Could not create %s: %s"), dir,
                             g_strerror (errno));
      g_task_return_error (worker, error);
      return;
    }

  installed = pm_downloads_get_installed_path (dir, package->type, package->name);
  record->type = g_strdup (package->type);
  record->version = g_strdup_printf ("%" G_GINT64_FORMAT, package->version);
  record->sha256 = g_strdup (package->sha256);
  record->path = g_strdup (installed);
  if (package->effective != NULL)
    record->effective = g_date_get_year (package->effective) * 10000 +
                        g_date_get_month (package->effective) * 100 +
                        g_date_get_day (package->effective);
  if (!pm_store_record_installed_package (self->store, record, &error))
    {
      g_task_return_error (worker, error);
      return;
    }
  g_task_return_boolean (worker, TRUE);
}

static void
installed_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  GTask *task = user_data;
  RunData *data = g_task_get_task_data (task);
  const PmManifestPackage *package = g_ptr_array_index (data->wanted, data->index);
  g_autofree char *name = describe (package);
  GError *error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_autofree char *detail = g_strdup (error->message);

      keep_error (data, error);
      confirm (task, FALSE, detail);
      return;
    }
  if (data->staged_only)
    {
      data->outcome->staged++;
      g_message ("Staged %s until its effective date", name);
      confirm (task, TRUE, "staged until its effective date");
    }
  else
    {
      data->outcome->installed++;
      confirm (task, TRUE, NULL);
    }
  g_ptr_array_add (data->outcome->names, g_steal_pointer (&name));
}

static void
fetched_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  GTask *task = user_data;
  PmConnection *self = g_task_get_source_object (task);
  RunData *data = g_task_get_task_data (task);
  g_autoptr(GTask) worker = NULL;
  GError *error = NULL;

  g_clear_pointer (&data->staged_path, g_free);
  data->staged_path = pm_downloads_fetch_package_finish (PM_NET_CLIENT (source), result,
                                                         &error);
  if (data->staged_path == NULL)
    {
      g_autofree char *detail = g_strdup (error->message);

      /* The installed package stays in force; the data center hears why. */
      keep_error (data, error);
      confirm (task, FALSE, detail);
      return;
    }
  data->outcome->fetched++;
  worker = g_task_new (self, NULL, installed_cb, task);
  g_task_set_task_data (worker, task, NULL);
  g_task_run_in_thread (worker, install_thread);
}

static void
progress_cb (gint64   received,
             gint64   total,
             gpointer user_data)
{
  GTask *task = user_data;
  RunData *data = g_task_get_task_data (task);
  const PmManifestPackage *package = g_ptr_array_index (data->wanted, data->index);
  g_autofree char *name = g_strdup_printf ("%s %s %" G_GINT64_FORMAT, package->type,
                                           package->name, package->version);

  pm_connection_set_download_progress (g_task_get_source_object (task), name, received,
                                       total);
  if (data->progress != NULL)
    data->progress (g_ptr_array_index (data->wanted, data->index), data->index,
                    data->wanted->len, received, total, data->progress_data);
}

static void
fetch_next (GTask *task)
{
  PmConnection *self = g_task_get_source_object (task);
  RunData *data = g_task_get_task_data (task);
  g_autofree char *staging = NULL;

  if (data->index >= data->wanted->len ||
      g_cancellable_is_cancelled (g_task_get_cancellable (task)))
    {
      run_end (task);
      return;
    }
  staging = g_build_filename (self->config.install_dir, STAGING_DIR, NULL);
  pm_downloads_fetch_package_async (self->client, g_ptr_array_index (data->wanted, data->index),
                                    self->provider_key, staging,
                                    g_array_index (data->have, gint64, data->index),
                                    progress_cb, task, g_task_get_cancellable (task),
                                    fetched_cb, task);
}

static void
compare_thread (GTask        *worker,
                gpointer      source,
                gpointer      task_data,
                GCancellable *cancellable)
{
  PmConnection *self = source;
  RunData *data = task_data;
  g_autofree char *staging = g_build_filename (self->config.install_dir, STAGING_DIR, NULL);

  g_mkdir_with_parents (staging, 0755);
  for (guint i = 0; i < data->manifest->packages->len; i++)
    {
      PmManifestPackage *package = g_ptr_array_index (data->manifest->packages, i);
      gint64 staged = 0;
      gint64 installed = pm_download_flow_installed_version (self->config.install_dir,
                                                             package->type, package->name,
                                                             &staged);
      gint64 have = MAX (installed, staged);

      if (package->version > have)
        {
          g_ptr_array_add (data->wanted, package);
          g_array_append_val (data->have, have);
        }
    }
  g_task_return_boolean (worker, TRUE);
}

static void
compared_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  GTask *task = user_data;

  g_task_propagate_boolean (G_TASK (result), NULL);
  fetch_next (task);
}

static void
manifest_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  GTask *task = user_data;
  PmConnection *self = g_task_get_source_object (task);
  RunData *data = g_task_get_task_data (task);
  g_autoptr(GTask) worker = NULL;
  GError *error = NULL;

  data->manifest = pm_downloads_fetch_manifest_finish (PM_NET_CLIENT (source), result, &error);
  if (data->manifest == NULL)
    {
      keep_error (data, error);
      run_end (task);
      return;
    }
  worker = g_task_new (self, NULL, compared_cb, task);
  g_task_set_task_data (worker, data, NULL);
  g_task_run_in_thread (worker, compare_thread);
}

static void
run_session_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  GTask *task = user_data;
  PmConnection *self = PM_CONNECTION (source);
  RunData *data = g_task_get_task_data (task);
  GError *error = NULL;

  if (!pm_connection_ensure_session_finish (self, result, &error))
    {
      keep_error (data, error);
      run_end (task);
      return;
    }
  pm_downloads_fetch_manifest_async (self->client, self->provider_key, "PMSW", NULL,
                                     g_task_get_cancellable (task), manifest_cb, task);
}

void
pm_download_flow_run_async (PmConnection           *connection,
                            PmDownloadProgressFunc  progress,
                            gpointer                progress_data,
                            GDestroyNotify          progress_destroy,
                            GCancellable           *cancellable,
                            GAsyncReadyCallback     callback,
                            gpointer                user_data)
{
  GTask *task;
  RunData *data;

  g_return_if_fail (PM_IS_CONNECTION (connection));

  task = g_task_new (connection, cancellable, callback, user_data);
  g_task_set_source_tag (task, pm_download_flow_run_async);
  if (connection->config.install_dir == NULL || connection->downloading)
    {
      if (progress_destroy != NULL)
        progress_destroy (progress_data);
      g_task_return_new_error (task, PM_CONNECTION_ERROR,
                               connection->downloading ? PM_CONNECTION_ERROR_BUSY
                                                       : PM_CONNECTION_ERROR_CONFIG,
                               connection->downloading
                                 ? _("A download is already running")
                                 : _("No folder for installed packages is set up"));
      g_object_unref (task);
      return;
    }

  data = g_new0 (RunData, 1);
  data->progress = progress;
  data->progress_data = progress_data;
  data->progress_destroy = progress_destroy;
  data->wanted = g_ptr_array_new ();
  data->have = g_array_new (FALSE, FALSE, sizeof (gint64));
  data->outcome = g_new0 (PmDownloadOutcome, 1);
  data->outcome->names = g_ptr_array_new_with_free_func (g_free);
  g_task_set_task_data (task, data, (GDestroyNotify) run_data_free);
  connection->downloading = TRUE;
  pm_connection_hold (connection);
  pm_connection_ensure_session_async (connection, cancellable, run_session_cb, task);
}

PmDownloadOutcome *
pm_download_flow_run_finish (PmConnection  *connection,
                             GAsyncResult  *result,
                             GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- activation on the effective date ------------------------------------------------- */

static gboolean
activate_one (const char  *install_dir,
              const char  *pending_dir,
              const char  *info_name,
              const GDate *today,
              gboolean    *out_activated,
              GError     **error)
{
  g_autofree char *info_path = g_build_filename (pending_dir, info_name, NULL);
  g_autoptr(GKeyFile) info = g_key_file_new ();
  g_autoptr(PmManifestPackage) package = g_new0 (PmManifestPackage, 1);
  g_autofree char *effective = NULL;
  g_autofree char *version_dir = NULL;
  g_autofree char *staged = NULL;
  g_autofree char *link_path = NULL;
  g_autofree char *link_name = NULL;
  int y, m, d;

  *out_activated = FALSE;
  if (!g_key_file_load_from_file (info, info_path, G_KEY_FILE_NONE, error))
    return FALSE;
  package->type = g_key_file_get_string (info, "package", "type", NULL);
  package->name = g_key_file_get_string (info, "package", "name", NULL);
  package->version = g_key_file_get_int64 (info, "package", "version", NULL);
  package->length = g_key_file_get_int64 (info, "package", "length", NULL);
  package->sha256 = g_key_file_get_string (info, "package", "sha256", NULL);
  effective = g_key_file_get_string (info, "package", "effective", NULL);
  if (package->type == NULL || package->name == NULL || effective == NULL ||
      sscanf (effective, "%d-%d-%d", &y, &m, &d) != 3 || !g_date_valid_dmy (d, m, y))
    {
      g_set_error (error, PM_NET_ERROR, PM_NET_ERROR_IO,
                   _("The staged package described by %s is unreadable"), info_path);
      return FALSE;
    }
  package->effective = g_date_new_dmy (d, m, y);
  if (!pm_downloads_is_in_effect (package, today))
    return TRUE;

  link_name = g_strdup_printf ("%s-%s", package->type, package->name);
  version_dir = g_strdup_printf ("%s-%" G_GINT64_FORMAT, link_name, package->version);
  staged = g_build_filename (pending_dir, version_dir, "package", NULL);
  if (!pm_downloads_install (package, staged, install_dir, error))
    return FALSE;

  /* Installed: the staged copy goes (install removed its files). */
  link_path = g_build_filename (pending_dir, link_name, NULL);
  g_unlink (link_path);
  {
    g_autofree char *dir = g_build_filename (pending_dir, version_dir, NULL);

    g_rmdir (dir);
  }
  g_unlink (info_path);
  g_message ("Activated %s %s version %" G_GINT64_FORMAT " on its effective date %s",
             package->type, package->name, package->version, effective);
  *out_activated = TRUE;
  return TRUE;
}

static void
activate_thread (GTask        *task,
                 gpointer      source,
                 gpointer      task_data,
                 GCancellable *cancellable)
{
  PmConnection *self = source;
  g_autofree char *pending = g_build_filename (self->config.install_dir, PENDING_DIR, NULL);
  g_autoptr(GDir) dir = g_dir_open (pending, 0, NULL);
  g_autoptr(GDate) today = pm_clock_today_local ();
  GError *first_error = NULL;
  const char *entry;
  guint count = 0;

  while (dir != NULL && (entry = g_dir_read_name (dir)) != NULL)
    {
      GError *error = NULL;
      gboolean activated = FALSE;

      if (!g_str_has_suffix (entry, ".info"))
        continue;
      if (!activate_one (self->config.install_dir, pending, entry, today, &activated, &error))
        {
          if (first_error == NULL)
            first_error = error;
          else
            g_error_free (error);
        }
      count += activated ? 1 : 0;
    }
  if (first_error != NULL)
    g_task_return_error (task, first_error);
  else
    g_task_return_int (task, count);
}

void
pm_download_flow_activate_async (PmConnection        *connection,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (PM_IS_CONNECTION (connection));

  task = g_task_new (connection, cancellable, callback, user_data);
  g_task_set_source_tag (task, pm_download_flow_activate_async);
  if (connection->config.install_dir == NULL)
    {
      g_task_return_int (task, 0);
      return;
    }
  g_task_run_in_thread (task, activate_thread);
}

guint
pm_download_flow_activate_finish (PmConnection  *connection,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  gssize count = g_task_propagate_int (G_TASK (result), error);

  return count < 0 ? 0 : (guint) count;
}
