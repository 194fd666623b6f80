/* pm-distributor.c: the distributor: sign in, service addresses, clock skew
 *
 * Public functions run on the caller's thread; their callbacks come back to the caller's
 * main context (the PmNetClient does the I/O on the network thread).
 */
#include "pm-net-services.h"

#include "pm-net-private.h"
#include "pm-clock.h"

static void
authenticate_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PmNetClient *client = PM_NET_CLIENT (source);
  g_autoptr(PmNetResponse) response = NULL;
  g_autoptr(PmAuthResponse) auth = NULL;
  g_autoptr(GError) error = NULL;
  gint64 *skew = g_new (gint64, 1);

  response = pm_net_client_call_finish (client, result, &error);
  if (response == NULL)
    {
      g_free (skew);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  auth = pm_auth_response_parse (response->body, &error);
  if (auth == NULL)
    {
      g_free (skew);
      g_task_return_error (task, pm_net_protocol_error ("sign-in answer", error));
      return;
    }

  *skew = auth->server_time_s - pm_clock_now_s ();
  g_object_set_data_full (G_OBJECT (task), "skew", skew, g_free);
  pm_net_client_set_session (client, auth->device_id, auth->token,
                             (const char * const *) auth->service_urls);
  g_message ("Signed in to the data center as %s", auth->device_id);
  if (ABS (*skew) > PM_DISTRIBUTOR_MAX_SKEW_S)
    g_warning ("The machine's clock is %" G_GINT64_FORMAT " s off the data center's", *skew);
  g_task_return_pointer (task, g_steal_pointer (&auth), (GDestroyNotify) pm_auth_response_free);
}

void
pm_distributor_authenticate_async (PmNetClient         *client,
                                   const char          *url,
                                   const PmAuthRequest *request,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  GTask *task = g_task_new (client, cancellable, callback, user_data);
  PmNetRequest *net = pm_net_request_new ("POST", url);

  g_task_set_source_tag (task, pm_distributor_authenticate_async);
  net->content_type = g_strdup (PM_NET_XML_TYPE);
  net->body = pm_auth_request_build (request);
  pm_net_client_call_async (client, net, cancellable, authenticate_cb, task);
}

PmAuthResponse *
pm_distributor_authenticate_finish (PmNetClient  *client,
                                    GAsyncResult *result,
                                    gint64       *out_skew_s,
                                    GError      **error)
{
  PmAuthResponse *auth = g_task_propagate_pointer (G_TASK (result), error);
  gint64 *skew = g_object_get_data (G_OBJECT (result), "skew");

  if (auth != NULL && out_skew_s != NULL)
    *out_skew_s = skew != NULL ? *skew : 0;
  return auth;
}

char *
pm_distributor_describe_skew (gint64 skew_s)
{
  gint64 minutes = ABS (skew_s) / 60;

  if (ABS (skew_s) <= PM_DISTRIBUTOR_MAX_SKEW_S)
    return NULL;
  return g_strdup_printf ("The machine's clock is %" G_GINT64_FORMAT " minutes %s the data "
                          "center's. Set the system clock (or its time server) right; "
                          "postage dates and inspections depend on it", minutes,
                          skew_s > 0 ? "behind" : "ahead of");
}
