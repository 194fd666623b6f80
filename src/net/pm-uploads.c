/* pm-uploads.c: the uploads service: sealed batches sent unchanged until a matching receipt
 *
 * Public functions run on the caller's thread; their callbacks come back to the caller's
 * main context (the PmNetClient does the I/O on the network thread).
 */
#include "pm-net-services.h"

#include "pm-net-private.h"

typedef struct
{
  char        *batch_id;
  char        *device_id;
  GBytes      *sealed;
  gint64       first_seq;
  gint64       last_seq;
  PmVerifyKey *provider_key;
} UploadData;

static void
upload_data_free (UploadData *data)
{
  g_free (data->batch_id);
  g_free (data->device_id);
  g_bytes_unref (data->sealed);
  pm_verify_key_unref (data->provider_key);
  g_free (data);
}

gboolean
pm_uploads_check_receipt (const PmWireReceipt *receipt,
                          const char            *batch_id,
                          const char            *device_id,
                          GBytes                *sealed,
                          gint64                 first_seq,
                          gint64                 last_seq,
                          PmVerifyKey           *provider_key,
                          GError               **error)
{
  g_autoptr(GBytes) text = pm_wire_receipt_signed_text (receipt);
  g_autofree char *sha256 = pm_protocol_sha256_hex (sealed);

  if (!pm_verify_key_verify (provider_key, g_bytes_get_data (text, NULL),
                             g_bytes_get_size (text), receipt->signature))
    {
      g_set_error (error, PM_NET_ERROR, PM_NET_ERROR_SIGNATURE,
                   "The upload receipt for batch %s is not signed by the provider; the "
                   "records are kept and the batch will be sent again", batch_id);
      return FALSE;
    }
  if (g_strcmp0 (receipt->batch_id, batch_id) != 0 ||
      g_strcmp0 (receipt->device_id, device_id) != 0 ||
      g_strcmp0 (receipt->sha256, sha256) != 0 ||
      receipt->first_seq != first_seq || receipt->last_seq != last_seq ||
      receipt->count != last_seq - first_seq + 1)
    {
      g_set_error (error, PM_NET_ERROR, PM_NET_ERROR_MISMATCH,
                   "The upload receipt does not match batch %s (records %" G_GINT64_FORMAT
                   " to %" G_GINT64_FORMAT "); the records are kept and the batch will "
                   "be sent again unchanged", batch_id, first_seq, last_seq);
      return FALSE;
    }
  return TRUE;
}

static void
upload_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  UploadData *data = g_task_get_task_data (task);
  g_autoptr(PmNetResponse) response = NULL;
  g_autoptr(PmWireReceipt) receipt = NULL;
  g_autoptr(GError) error = NULL;

  response = pm_net_client_call_finish (PM_NET_CLIENT (source), result, &error);
  if (response == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  receipt = pm_wire_receipt_parse (response->body, &error);
  if (receipt == NULL)
    {
      g_task_return_error (task, pm_net_protocol_error ("upload receipt", error));
      return;
    }
  if (!pm_uploads_check_receipt (receipt, data->batch_id, data->device_id, data->sealed,
                                 data->first_seq, data->last_seq, data->provider_key,
                                 &error))
    {
      g_warning ("%s", error->message);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_task_return_pointer (task, g_steal_pointer (&receipt),
                         (GDestroyNotify) pm_wire_receipt_free);
}

void
pm_uploads_send_async (PmNetClient         *client,
                       const char          *batch_id,
                       GBytes              *sealed,
                       gint64               first_seq,
                       gint64               last_seq,
                       PmVerifyKey         *provider_key,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  GTask *task = g_task_new (client, cancellable, callback, user_data);
  UploadData *data = g_new0 (UploadData, 1);
  g_autoptr(GError) error = NULL;
  PmNetRequest *net;

  g_task_set_source_tag (task, pm_uploads_send_async);
  data->batch_id = g_strdup (batch_id);
  data->device_id = pm_net_client_dup_device_id (client);
  data->sealed = g_bytes_ref (sealed);
  data->first_seq = first_seq;
  data->last_seq = last_seq;
  data->provider_key = pm_verify_key_ref (provider_key);
  g_task_set_task_data (task, data, (GDestroyNotify) upload_data_free);

  net = pm_net_client_new_service_request (client, PM_REMOTE_SERVICE_UPLOADS, "POST", "/batches",
                                           &error);
  if (net == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      g_object_unref (task);
      return;
    }
  /* The sealed bytes go out as they are, every time, under the same key. */
  net->content_type = g_strdup ("application/gzip");
  net->body = g_bytes_ref (sealed);
  net->idempotent = TRUE;
  pm_net_request_add_header (net, "Idempotency-Key", batch_id);
  pm_net_client_call_async (client, net, cancellable, upload_cb, task);
}

PmWireReceipt *
pm_uploads_send_finish (PmNetClient  *client,
                        GAsyncResult *result,
                        GError      **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

PmUploadsDue
pm_uploads_get_due (gint64   now_s,
                    gint64   oldest_unsent_s,
                    gint64   last_success_s,
                    char   **out_words)
{
  PmUploadsDue due = PM_UPLOADS_UP_TO_DATE;
  g_autofree char *words = NULL;

  if (oldest_unsent_s >= 0 && now_s - oldest_unsent_s > PM_UPLOADS_MAX_RECORD_AGE_S)
    {
      gint64 days = (now_s - oldest_unsent_s) / (24 * 3600);

      due = PM_UPLOADS_OVERDUE;
      words = g_strdup_printf ("Postage records from %" G_GINT64_FORMAT " days ago have not "
                               "reached the data center; the provider requires them within "
                               "3 days. Connect the machine to the network now", days);
    }
  else if (oldest_unsent_s >= 0 &&
           (last_success_s < 0 || now_s - last_success_s >= PM_UPLOADS_INTERVAL_S))
    {
      due = PM_UPLOADS_DUE;
      words = g_strdup ("An upload of postage records is due; it runs as soon as the "
                        "machine is online");
    }
  else
    words = g_strdup (oldest_unsent_s >= 0 ? "Postage records are uploaded on schedule"
                                           : "All postage records are uploaded");

  if (out_words != NULL)
    *out_words = g_steal_pointer (&words);
  return due;
}
