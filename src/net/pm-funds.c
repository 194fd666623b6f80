/* pm-funds.c: the funds service
 *
 * Refills, inspections, operational blocks, replacement PSDs and the refill history. Every
 * signed answer is verified with the provider key and checked against the request before
 * it is returned; the PSD alone decides whether to apply it.
 *
 * Public functions run on the caller's thread; their callbacks come back to the caller's
 * main context (the PmNetClient does the I/O on the network thread).
 */
#include "pm-net-services.h"

#include <string.h>

#include "pm-net-private.h"
#include "pm-psd-message.h"

typedef struct
{
  PmFundsRequest *request;
  PmVerifyKey    *provider_key;
} FundsData;

static void
funds_data_free (FundsData *data)
{
  pm_funds_request_free (data->request);
  g_clear_pointer (&data->provider_key, pm_verify_key_unref);
  g_free (data);
}

static gboolean
check_refill (const PmFundsRequest  *request,
              const PmFundsResponse *response,
              PmVerifyKey           *key,
              GError               **error)
{
  g_autoptr(GError) local_error = NULL;
  PmPostageValueDownload pvd;
  guint64 serial = 0;

  g_ascii_string_to_unsigned (request->psd_serial, 10, 0, G_MAXUINT32, &serial, NULL);
  if (response->psd_message == NULL ||
      !pm_postage_value_download_verify (response->psd_message, key, &pvd, &local_error))
    {
      g_set_error (error, PM_NET_ERROR, PM_NET_ERROR_SIGNATURE,
                   "The refill from the data center is not signed by the provider (%s); "
                   "it was not applied and no funds moved on the machine",
                   local_error != NULL ? local_error->message : "no signed message");
      return FALSE;
    }
  if (pvd.psd_serial != serial)
    {
      g_set_error (error, PM_NET_ERROR, PM_NET_ERROR_MISMATCH,
                   "The refill is for PSD %u, not this machine's PSD %s; it was not "
                   "applied", pvd.psd_serial, request->psd_serial);
      return FALSE;
    }
  if ((gint64) pvd.sequence != request->sequence || response->sequence != request->sequence)
    {
      g_set_error (error, PM_NET_ERROR, PM_NET_ERROR_MISMATCH,
                   "The data center sent refill number %u but the PSD expects number %"
                   G_GINT64_FORMAT " (%s); it was not applied. Call the provider if this "
                   "repeats", pvd.sequence, request->sequence,
                   (gint64) pvd.sequence < request->sequence ? "a replay of an old refill"
                                                             : "a refill was skipped");
      return FALSE;
    }
  if (pvd.amount != request->amount || response->amount != request->amount)
    {
      g_autofree char *asked = pm_money_format (request->amount);
      g_autofree char *got = pm_money_format (pvd.amount);

      /* The usual cause: an earlier refill of that amount was charged at the data center
       * but never reached the PSD (it failed to write), so the data center answers the
       * same refill number with it again. Asking for exactly that amount applies it. */
      g_set_error (error, PM_NET_ERROR, PM_NET_ERROR_MISMATCH,
                   "A refill of %s was asked for but the data center's refill is for %s; "
                   "it was not applied. If an earlier refill of %s was charged but never "
                   "reached the meter, refill exactly %s to apply it, then refill again",
                   asked, got, got, got);
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_audit (const PmFundsRequest  *request,
             const PmFundsResponse *response,
             PmVerifyKey           *key,
             GError               **error)
{
  g_autoptr(GError) local_error = NULL;
  PmAuditAnswer answer;
  guint8 digest[PM_PSD_KEY_DIGEST_LENGTH];

  if (response->psd_message == NULL ||
      !pm_audit_answer_verify (response->psd_message, key, &answer, &local_error))
    {
      g_set_error (error, PM_NET_ERROR, PM_NET_ERROR_SIGNATURE,
                   "The inspection answer is not signed by the provider (%s); it was not "
                   "applied", local_error != NULL ? local_error->message : "none sent");
      return FALSE;
    }
  pm_psd_message_digest (request->psd_message, digest);
  if (memcmp (digest, answer.request_digest, sizeof digest) != 0)
    {
      g_set_error (error, PM_NET_ERROR, PM_NET_ERROR_MISMATCH,
                   "The inspection answer is for another inspection request; it was not "
                   "applied");
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_block (const PmFundsRequest  *request,
             const PmFundsResponse *response,
             PmVerifyKey           *key,
             GError               **error)
{
  g_autoptr(GError) local_error = NULL;
  PmOperationalBlock block;
  guint64 serial = 0;

  g_ascii_string_to_unsigned (request->psd_serial, 10, 0, G_MAXUINT32, &serial, NULL);
  if (response->psd_message == NULL ||
      !pm_operational_block_verify (response->psd_message, key, &block, &local_error))
    {
      g_set_error (error, PM_NET_ERROR, PM_NET_ERROR_SIGNATURE,
                   "The PSD configuration is not signed by the provider (%s); it was not "
                   "applied", local_error != NULL ? local_error->message : "none sent");
      return FALSE;
    }
  if (block.psd_serial != serial)
    {
      g_set_error (error, PM_NET_ERROR, PM_NET_ERROR_MISMATCH,
                   "The PSD configuration is for PSD %u, not %s; it was not applied",
                   block.psd_serial, request->psd_serial);
      return FALSE;
    }
  return TRUE;
}

static void
funds_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  FundsData *data = g_task_get_task_data (task);
  g_autoptr(PmNetResponse) response = NULL;
  g_autoptr(PmFundsResponse) funds = NULL;
  g_autoptr(GError) error = NULL;
  gboolean ok = TRUE;

  response = pm_net_client_call_finish (PM_NET_CLIENT (source), result, &error);
  if (response == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  funds = pm_funds_response_parse (response->body, &error);
  if (funds == NULL)
    {
      g_task_return_error (task, pm_net_protocol_error ("funds answer", error));
      return;
    }
  if (funds->kind != data->request->kind)
    {
      g_task_return_new_error (task, PM_NET_ERROR, PM_NET_ERROR_MISMATCH,
                               "The data center answered a %s request with a %s answer",
                               pm_funds_kind_to_string (data->request->kind),
                               pm_funds_kind_to_string (funds->kind));
      return;
    }

  switch (data->request->kind)
    {
    case PM_FUNDS_REFILL:
      ok = check_refill (data->request, funds, data->provider_key, &error);
      break;
    case PM_FUNDS_AUDIT:
      ok = check_audit (data->request, funds, data->provider_key, &error);
      break;
    case PM_FUNDS_OPERATIONAL_BLOCK:
    case PM_FUNDS_REPLACEMENT:
      ok = check_block (data->request, funds, data->provider_key, &error);
      break;
    case PM_FUNDS_HISTORY:
    default:
      break;
    }
  if (!ok)
    {
      g_warning ("%s", error->message);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_task_return_pointer (task, g_steal_pointer (&funds),
                         (GDestroyNotify) pm_funds_response_free);
}

void
pm_funds_call_async (PmNetClient         *client,
                     PmFundsRequest      *request,
                     PmVerifyKey         *provider_key,
                     GCancellable        *cancellable,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  GTask *task = g_task_new (client, cancellable, callback, user_data);
  FundsData *data = g_new0 (FundsData, 1);
  g_autoptr(GError) error = NULL;
  PmNetRequest *net;

  g_task_set_source_tag (task, pm_funds_call_async);
  data->request = request;
  data->provider_key = pm_verify_key_ref (provider_key);
  g_task_set_task_data (task, data, (GDestroyNotify) funds_data_free);

  net = pm_net_client_new_service_request (client, PM_REMOTE_SERVICE_FUNDS, "POST", "", &error);
  if (net == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      g_object_unref (task);
      return;
    }
  g_free (request->device_id);
  request->device_id = pm_net_client_dup_device_id (client);
  if (request->request_id == NULL)
    request->request_id = g_uuid_string_random ();
  net->content_type = g_strdup (PM_NET_XML_TYPE);
  net->body = pm_funds_request_build (request);
  pm_net_client_call_async (client, net, cancellable, funds_cb, task);
}

PmFundsResponse *
pm_funds_call_finish (PmNetClient  *client,
                      GAsyncResult *result,
                      GError      **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}
