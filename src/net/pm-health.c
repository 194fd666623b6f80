/* pm-health.c: the health service: S3-style PUT with content checksums
 *
 * Public functions run on the caller's thread; their callbacks come back to the caller's
 * main context (the PmNetClient does the I/O on the network thread).
 */
#include "pm-net-services.h"

#include "pm-net-private.h"

static void
health_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  const char *md5_hex = g_task_get_task_data (task);
  g_autoptr(PmNetResponse) response = NULL;
  g_autofree char *expected = NULL;
  GError *error = NULL;
  const char *etag;

  response = pm_net_client_call_finish (PM_NET_CLIENT (source), result, &error);
  if (response == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  etag = soup_message_headers_get_one (response->headers, "ETag");
  expected = g_strdup_printf ("\"%s\"", md5_hex);
  if (g_strcmp0 (etag, expected) != 0)
    {
      g_task_return_new_error (task, PM_NET_ERROR, PM_NET_ERROR_MISMATCH,
                               "The health record was not stored intact (checksum "
                               "mismatch); it will be sent again");
      return;
    }
  g_task_return_boolean (task, TRUE);
}

void
pm_health_put_async (PmNetClient          *client,
                     const PmHealthRecord *record,
                     GCancellable         *cancellable,
                     GAsyncReadyCallback   callback,
                     gpointer              user_data)
{
  GTask *task = g_task_new (client, cancellable, callback, user_data);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = pm_health_record_build (record);
  g_autofree char *device_id = pm_net_client_dup_device_id (client);
  g_autofree char *sha_hex = pm_protocol_sha256_hex (body);
  g_autofree char *suffix = NULL;
  g_autofree char *md5_b64 = NULL;
  g_autofree char *sha_b64 = NULL;
  guint8 digest[32];
  gsize digest_length;
  PmNetRequest *net;

  g_task_set_source_tag (task, pm_health_put_async);
  g_task_set_task_data (task, g_compute_checksum_for_bytes (G_CHECKSUM_MD5, body), g_free);

  /* A content-addressed key: the same record always lands in the same place. */
  suffix = g_strdup_printf ("/%s/%s.xml", device_id != NULL ? device_id : "-", sha_hex);
  net = pm_net_client_new_service_request (client, PM_REMOTE_SERVICE_HEALTH, "PUT", suffix, &error);
  if (net == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      g_object_unref (task);
      return;
    }
  for (int i = 0; i < 2; i++)
    {
      g_autoptr(GChecksum) sum = g_checksum_new (i == 0 ? G_CHECKSUM_MD5 : G_CHECKSUM_SHA256);

      digest_length = sizeof digest;
      g_checksum_update (sum, g_bytes_get_data (body, NULL), g_bytes_get_size (body));
      g_checksum_get_digest (sum, digest, &digest_length);
      if (i == 0)
        md5_b64 = g_base64_encode (digest, digest_length);
      else
        sha_b64 = g_base64_encode (digest, digest_length);
    }
  pm_net_request_add_header (net, "Content-MD5", md5_b64);
  pm_net_request_add_header (net, "x-amz-checksum-sha256", sha_b64);
  net->content_type = g_strdup (PM_NET_XML_TYPE);
  net->body = g_bytes_ref (body);
  net->idempotent = TRUE;
  pm_net_client_call_async (client, net, cancellable, health_cb, task);
}

gboolean
pm_health_put_finish (PmNetClient  *client,
                      GAsyncResult *result,
                      GError      **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}
