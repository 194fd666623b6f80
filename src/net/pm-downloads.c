/* pm-downloads.c: the downloads service
 *
 * The signed list, resumable fetches, verification, staging, the atomic install and the
 * confirmation. Installing is blocking file I/O and is meant for a worker thread.
 *
 * Public functions run on the caller's thread; their callbacks come back to the caller's
 * main context (the PmNetClient does the I/O on the network thread).
 */
#include "pm-net-services.h"

#include <errno.h>
#include <glib/gstdio.h>

#include "pm-net-private.h"
#include "pm-clock.h"
#include "pm-package.h"

typedef struct
{
  PmVerifyKey *provider_key;
  char        *model;
  char        *authority;
} ManifestData;

static void
manifest_data_free (ManifestData *data)
{
  pm_verify_key_unref (data->provider_key);
  g_free (data->model);
  g_free (data->authority);
  g_free (data);
}

static void
manifest_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ManifestData *data = g_task_get_task_data (task);
  g_autoptr(PmNetResponse) response = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GBytes) signature = NULL;
  g_autoptr(PmManifest) manifest = NULL;
  g_autoptr(GError) error = NULL;
  gint64 now = pm_clock_now_s ();

  response = pm_net_client_call_finish (PM_NET_CLIENT (source), result, &error);
  if (response == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (!pm_signed_manifest_parse (response->body, &body, &signature, &error))
    {
      g_task_return_error (task, pm_net_protocol_error ("download list", error));
      return;
    }
  /* Verify before parse: the manifest's own bytes are read only once they are vouched for. */
  if (!pm_verify_key_verify (data->provider_key, g_bytes_get_data (body, NULL),
                             g_bytes_get_size (body), g_bytes_get_data (signature, NULL)))
    {
      g_task_return_new_error (task, PM_NET_ERROR, PM_NET_ERROR_SIGNATURE,
                               "The download list is not signed by the provider; nothing "
                               "was downloaded and the installed packages stay in force");
      return;
    }
  manifest = pm_manifest_parse (body, &error);
  if (manifest == NULL)
    {
      g_task_return_error (task, pm_net_protocol_error ("download list", error));
      return;
    }
  if (manifest->expires_at <= now)
    {
      g_task_return_new_error (task, PM_NET_ERROR, PM_NET_ERROR_STALE,
                               "The download list has expired (an old copy may be replayed "
                               "by something between the machine and the data center); "
                               "nothing was downloaded");
      return;
    }
  if ((data->model != NULL && g_strcmp0 (data->model, manifest->model) != 0) ||
      (data->authority != NULL && g_strcmp0 (data->authority, manifest->authority) != 0))
    {
      g_task_return_new_error (task, PM_NET_ERROR, PM_NET_ERROR_MISMATCH,
                               "The download list is for %s machines under %s, not this "
                               "one; nothing was downloaded", manifest->model,
                               manifest->authority);
      return;
    }
  g_task_return_pointer (task, g_steal_pointer (&manifest), (GDestroyNotify) pm_manifest_free);
}

void
pm_downloads_fetch_manifest_async (PmNetClient         *client,
                                   PmVerifyKey         *provider_key,
                                   const char          *model,
                                   const char          *authority,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  GTask *task = g_task_new (client, cancellable, callback, user_data);
  ManifestData *data = g_new0 (ManifestData, 1);
  g_autoptr(GError) error = NULL;
  PmNetRequest *net;

  g_task_set_source_tag (task, pm_downloads_fetch_manifest_async);
  data->provider_key = pm_verify_key_ref (provider_key);
  data->model = g_strdup (model);
  data->authority = g_strdup (authority);
  g_task_set_task_data (task, data, (GDestroyNotify) manifest_data_free);

  net = pm_net_client_new_service_request (client, PM_REMOTE_SERVICE_DOWNLOADS, "GET", "/manifest",
                                           &error);
  if (net == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      g_object_unref (task);
      return;
    }
  pm_net_client_call_async (client, net, cancellable, manifest_cb, task);
}

PmManifest *
pm_downloads_fetch_manifest_finish (PmNetClient  *client,
                                    GAsyncResult *result,
                                    GError      **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

typedef struct
{
  PmNetClient *client;            /* strong */
  char        *url;
  char        *part_path;
  char        *staged_path;
  char        *type;
  char        *name;
  gint64       version;
  gint64       length;
  char        *sha256;
  gint64       resumed_from;
  gint64       installed_version;
  PmVerifyKey *package_key;
} PackageData;

static void
package_data_free (PackageData *data)
{
  g_object_unref (data->client);
  g_free (data->url);
  g_free (data->part_path);
  g_free (data->staged_path);
  g_free (data->type);
  g_free (data->name);
  g_free (data->sha256);
  pm_verify_key_unref (data->package_key);
  g_free (data);
}

static GBytes *
map_file (const char *path,
          GError    **error)
{
  g_autoptr(GMappedFile) mapped = g_mapped_file_new (path, FALSE, error);

  if (mapped == NULL)
    return NULL;
  return g_mapped_file_get_bytes (mapped);
}

char *
pm_downloads_content_type (const char *type)
{
  if (g_strcmp0 (type, "rates") == 0)
    return g_strdup (PM_PACKAGE_CONTENT_TYPE_RATES);
  return g_strdup_printf ("application/vnd.postmeter.%s", type);
}

static void
signature_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PackageData *data = g_task_get_task_data (task);
  g_autoptr(PmNetResponse) response = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) content = NULL;
  g_autoptr(PmPackageInfo) info = NULL;
  g_autofree char *content_type = pm_downloads_content_type (data->type);
  g_autofree char *staged_sig = g_strconcat (data->staged_path, ".sig", NULL);
  PmPackagePolicy policy = { 0 };

  response = pm_net_client_call_finish (PM_NET_CLIENT (source), result, &error);
  if (response == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  /* The package's own signature, by the provider's package key: name, type, version,
   * length, hash and expiry. */
  content = map_file (data->part_path, &error);
  if (content == NULL)
    {
      g_task_return_new_error (task, PM_NET_ERROR, PM_NET_ERROR_IO,
                               "The downloaded file cannot be read back: %s", error->message);
      return;
    }
  policy.content_type = content_type;
  policy.name = data->name;
  policy.installed_version = (guint) MAX (data->installed_version, 0);
  info = pm_package_verify (response->body, content, data->package_key, &policy, &error);
  if (info == NULL || (gint64) info->version != data->version)
    {
      g_unlink (data->part_path);
      g_task_return_new_error (task, PM_NET_ERROR, PM_NET_ERROR_SIGNATURE,
                               "The package %s is not signed as the provider's version %"
                               G_GINT64_FORMAT " (%s); it was discarded and the installed "
                               "one stays in force", data->name, data->version,
                               error != NULL ? error->message : "another version");
      return;
    }

  if (!g_file_set_contents_full (staged_sig, g_bytes_get_data (response->body, NULL),
                                 (gssize) g_bytes_get_size (response->body),
                                 G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error) ||
      g_rename (data->part_path, data->staged_path) != 0)
    {
      g_task_return_new_error (task, PM_NET_ERROR, PM_NET_ERROR_IO,
                               "The package could not be staged: %s",
                               error != NULL ? error->message : g_strerror (errno));
      return;
    }
  g_task_return_pointer (task, g_strdup (data->staged_path), g_free);
}

static void
package_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  GTask *task = user_data;
  PackageData *data = g_task_get_task_data (task);
  g_autoptr(PmNetResponse) response = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) content = NULL;
  g_autofree char *sha256 = NULL;
  g_autofree char *sig_url = NULL;
  PmNetRequest *request;
  gint64 length;

  response = pm_net_client_call_finish (PM_NET_CLIENT (source), result, &error);
  if (response == NULL)
    {
      /* The partial file stays for the next attempt to resume. */
      g_task_return_error (task, g_steal_pointer (&error));
      g_object_unref (task);
      return;
    }
  if (data->resumed_from > 0 && response->status != SOUP_STATUS_PARTIAL_CONTENT)
    {
      /* The server ignored the range and sent the whole file after the part: start over. */
      g_unlink (data->part_path);
      g_task_return_new_error (task, PM_NET_ERROR, PM_NET_ERROR_TRANSPORT,
                               "The download could not be resumed; it will start again");
      g_object_unref (task);
      return;
    }

  /* Re-verify the whole file against the signed list, resumed or not. */
  content = map_file (data->part_path, &error);
  if (content == NULL)
    {
      g_task_return_new_error (task, PM_NET_ERROR, PM_NET_ERROR_IO,
                               "The downloaded file cannot be read back: %s", error->message);
      g_object_unref (task);
      return;
    }
  length = (gint64) g_bytes_get_size (content);
  sha256 = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, content);
  if (length != data->length || g_strcmp0 (sha256, data->sha256) != 0)
    {
      g_unlink (data->part_path);
      g_task_return_new_error (task, PM_NET_ERROR, PM_NET_ERROR_MISMATCH,
                               "The downloaded package is not the one the signed list "
                               "describes (%" G_GINT64_FORMAT " bytes instead of %"
                               G_GINT64_FORMAT ", or a different checksum); it was "
                               "discarded and the installed one stays in force", length,
                               data->length);
      g_object_unref (task);
      return;
    }

  /* Then its detached signature file, from beside it. */
  sig_url = g_strconcat (data->url, ".sig", NULL);
  request = pm_net_request_new ("GET", sig_url);
  {
    g_autofree char *token = pm_net_client_dup_token (data->client);
    g_autofree char *authorization = g_strconcat ("Bearer ", token, NULL);

    pm_net_request_add_header (request, "Authorization", authorization);
  }
  request->max_body = PM_PACKAGE_MAX_SIGNATURE_BYTES;
  pm_net_client_call_async (data->client, request, g_task_get_cancellable (task),
                            signature_cb, task);
}

void
pm_downloads_fetch_package_async (PmNetClient             *client,
                                  const PmManifestPackage *package,
                                  PmVerifyKey             *package_key,
                                  const char              *staging_dir,
                                  gint64                   installed_version,
                                  PmNetProgressFunc        progress,
                                  gpointer                 progress_data,
                                  GCancellable            *cancellable,
                                  GAsyncReadyCallback      callback,
                                  gpointer                 user_data)
{
  GTask *task = g_task_new (client, cancellable, callback, user_data);
  PackageData *data = g_new0 (PackageData, 1);
  g_autofree char *base = g_strdup_printf ("%s-%s-%" G_GINT64_FORMAT, package->type,
                                           package->name, package->version);
  g_autofree char *part = g_strconcat (base, ".part", NULL);
  g_autoptr(GUri) service = NULL;
  g_autofree char *service_url = NULL;
  g_autofree char *token = NULL;
  g_autofree char *authorization = NULL;
  PmNetRequest *net;
  GStatBuf st;

  g_task_set_source_tag (task, pm_downloads_fetch_package_async);
  data->client = g_object_ref (client);
  data->part_path = g_build_filename (staging_dir, part, NULL);
  data->staged_path = g_build_filename (staging_dir, base, NULL);
  data->type = g_strdup (package->type);
  data->name = g_strdup (package->name);
  data->version = package->version;
  data->length = package->length;
  data->sha256 = g_strdup (package->sha256);
  data->installed_version = installed_version;
  data->package_key = pm_verify_key_ref (package_key);
  g_task_set_task_data (task, data, (GDestroyNotify) package_data_free);

  if (package->version <= installed_version)
    {
      g_task_return_new_error (task, PM_NET_ERROR, PM_NET_ERROR_STALE,
                               "%s %s version %" G_GINT64_FORMAT " is not newer than the "
                               "installed version %" G_GINT64_FORMAT "; it was not "
                               "downloaded", package->type, package->name, package->version,
                               installed_version);
      g_object_unref (task);
      return;
    }

  /* The package lives on the downloads service's host, at the path the signed list gives. */
  service_url = pm_net_client_dup_service_url (client, PM_REMOTE_SERVICE_DOWNLOADS);
  token = pm_net_client_dup_token (client);
  if (service_url == NULL || token == NULL ||
      (service = g_uri_parse (service_url, G_URI_FLAGS_ENCODED, NULL)) == NULL)
    {
      g_task_return_new_error (task, PM_NET_ERROR, PM_NET_ERROR_NOT_AUTHENTICATED,
                               "The machine has not signed in to the data center yet");
      g_object_unref (task);
      return;
    }
  data->url = g_strdup_printf ("%s://%s:%d%s", g_uri_get_scheme (service),
                               g_uri_get_host (service),
                               g_uri_get_port (service) > 0 ? g_uri_get_port (service) : 443,
                               package->path);
  net = pm_net_request_new ("GET", data->url);
  authorization = g_strconcat ("Bearer ", token, NULL);
  pm_net_request_add_header (net, "Authorization", authorization);

  if (g_mkdir_with_parents (staging_dir, 0700) != 0)
    {
      pm_net_request_free (net);
      g_task_return_new_error (task, PM_NET_ERROR, PM_NET_ERROR_IO,
                               "The staging folder %s cannot be made", staging_dir);
      g_object_unref (task);
      return;
    }
  if (g_stat (data->part_path, &st) == 0)
    {
      if (st.st_size > 0 && st.st_size < package->length)
        {
          g_autofree char *range = g_strdup_printf ("bytes=%" G_GINT64_FORMAT "-",
                                                    (gint64) st.st_size);

          data->resumed_from = st.st_size;
          pm_net_request_add_header (net, "Range", range);
          g_message ("Resuming %s at byte %" G_GINT64_FORMAT, base, data->resumed_from);
        }
      else
        g_unlink (data->part_path);
    }

  net->sink_file = g_strdup (data->part_path);
  net->max_body = (gsize) (package->length - data->resumed_from);
  net->progress = progress;
  net->progress_data = progress_data;
  pm_net_client_call_async (client, net, cancellable, package_cb, task);
}

char *
pm_downloads_fetch_package_finish (PmNetClient  *client,
                                   GAsyncResult *result,
                                   GError      **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

char *
pm_downloads_get_installed_path (const char *install_dir,
                                 const char *type,
                                 const char *name)
{
  g_autofree char *link_name = g_strdup_printf ("%s-%s", type, name);

  return g_build_filename (install_dir, link_name, "package", NULL);
}

static gboolean
copy_durably (const char *from,
              const char *to,
              GError    **error)
{
  g_autofree char *contents = NULL;
  gsize length = 0;

  return g_file_get_contents (from, &contents, &length, error) &&
         g_file_set_contents_full (to, contents, (gssize) length,
                                   G_FILE_SET_CONTENTS_CONSISTENT |
                                   G_FILE_SET_CONTENTS_DURABLE, 0644, error);
}

gboolean
pm_downloads_install (const PmManifestPackage *package,
                      const char              *staged_path,
                      const char              *install_dir,
                      GError                 **error)
{
  g_autofree char *link_name = g_strdup_printf ("%s-%s", package->type, package->name);
  g_autofree char *version_dir_name = g_strdup_printf ("%s-%" G_GINT64_FORMAT, link_name,
                                                       package->version);
  g_autofree char *version_dir = g_build_filename (install_dir, version_dir_name, NULL);
  g_autofree char *content = g_build_filename (version_dir, "package", NULL);
  g_autofree char *content_sig = g_build_filename (version_dir, "package.sig", NULL);
  g_autofree char *staged_sig = g_strconcat (staged_path, ".sig", NULL);
  g_autofree char *link_path = g_build_filename (install_dir, link_name, NULL);
  g_autofree char *link_new = g_strconcat (link_path, ".new", NULL);
  g_autofree char *previous = NULL;
  g_autoptr(GFile) new_link = NULL;
  g_autoptr(GDir) dir = NULL;
  const char *entry;

  /* The new version goes into its own folder, written durably; the package in force is
   * a symbolic link swapped with one rename, so a reader sees the old pair or the new
   * pair, never a mix. */
  if (g_mkdir_with_parents (version_dir, 0755) != 0 ||
      !copy_durably (staged_sig, content_sig, error) ||
      !copy_durably (staged_path, content, error))
    {
      g_prefix_error (error, "The package could not be installed: ");
      return FALSE;
    }
  previous = g_file_read_link (link_path, NULL);
  g_unlink (link_new);
  new_link = g_file_new_for_path (link_new);
  if (!g_file_make_symbolic_link (new_link, version_dir_name, NULL, error))
    {
      g_prefix_error (error, "The new package could not be swapped in: ");
      return FALSE;
    }
  if (g_rename (link_new, link_path) != 0)
    {
      g_set_error (error, PM_NET_ERROR, PM_NET_ERROR_IO,
                   "The new package could not be swapped in: %s", g_strerror (errno));
      return FALSE;
    }
  g_unlink (staged_path);
  g_unlink (staged_sig);

  /* Keep the version just replaced (the fallback until the new one is proven); older ones
   * go. */
  dir = g_dir_open (install_dir, 0, NULL);
  while (dir != NULL && (entry = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *prefix = g_strconcat (link_name, "-", NULL);
      g_autofree char *path = NULL;
      g_autofree char *inner = NULL;
      g_autofree char *inner_sig = NULL;

      if (!g_str_has_prefix (entry, prefix) || g_strcmp0 (entry, version_dir_name) == 0 ||
          g_strcmp0 (entry, previous) == 0)
        continue;
      path = g_build_filename (install_dir, entry, NULL);
      inner = g_build_filename (path, "package", NULL);
      inner_sig = g_build_filename (path, "package.sig", NULL);
      g_unlink (inner);
      g_unlink (inner_sig);
      g_rmdir (path);
    }

  g_message ("Installed %s %s version %" G_GINT64_FORMAT, package->type, package->name,
             package->version);
  return TRUE;
}

gboolean
pm_downloads_is_in_effect (const PmManifestPackage *package,
                           const GDate             *today)
{
  if (package->effective == NULL)
    return TRUE;
  return g_date_compare (package->effective, today) <= 0;
}

static void
confirm_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(PmNetResponse) response = NULL;
  GError *error = NULL;

  response = pm_net_client_call_finish (PM_NET_CLIENT (source), result, &error);
  if (response == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

void
pm_downloads_confirm_async (PmNetClient             *client,
                            const PmManifestPackage *package,
                            gboolean                 installed,
                            const char              *detail,
                            GCancellable            *cancellable,
                            GAsyncReadyCallback      callback,
                            gpointer                 user_data)
{
  GTask *task = g_task_new (client, cancellable, callback, user_data);
  g_autoptr(GError) error = NULL;
  g_autofree char *device_id = pm_net_client_dup_device_id (client);
  PmInstallConfirmation c = { 0 };
  PmNetRequest *net;

  g_task_set_source_tag (task, pm_downloads_confirm_async);
  net = pm_net_client_new_service_request (client, PM_REMOTE_SERVICE_DOWNLOADS, "POST", "/confirm",
                                           &error);
  if (net == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      g_object_unref (task);
      return;
    }
  c.device_id = device_id;
  c.type = package->type;
  c.name = package->name;
  c.package_version = package->version;
  c.installed = installed;
  c.detail = (char *) detail;
  net->content_type = g_strdup (PM_NET_XML_TYPE);
  net->body = pm_install_confirmation_build (&c);
  pm_net_client_call_async (client, net, cancellable, confirm_cb, task);
}

gboolean
pm_downloads_confirm_finish (PmNetClient  *client,
                             GAsyncResult *result,
                             GError      **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}
