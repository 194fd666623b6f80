/* pm-connectivity.c
 *
 * The check goes through pm_net_client_send_async () like any request. The probe runs its
 * steps on the network thread (started there with g_main_context_invoke, so every GIO
 * callback lands on that thread's context) and returns its results to the caller's
 * context through a GTask.
 */
#include "pm-connectivity.h"

#include "pm-protocol.h"

#define PROBE_STEP_TIMEOUT_S 10

/* ---- check ------------------------------------------------------------------------- */

void
pm_connectivity_result_free (PmConnectivityResult *result)
{
  if (result == NULL)
    return;
  g_free (result->url);
  g_free (result->host);
  g_free (result->content_type);
  g_free (result->location);
  g_free (result->failure);
  g_free (result->explanation);
  g_free (result);
}

gboolean
pm_connectivity_result_is_web_page (const PmConnectivityResult *result)
{
  g_return_val_if_fail (result != NULL, FALSE);

  return g_strcmp0 (result->content_type, "text/html") == 0 ||
         g_strcmp0 (result->content_type, "application/xhtml+xml") == 0;
}

static void
check_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  const char *url = g_task_get_task_data (task);
  g_autoptr(PmConnectivityResult) r = g_new0 (PmConnectivityResult, 1);
  g_autoptr(GUri) uri = g_uri_parse (url, G_URI_FLAGS_ENCODED, NULL);
  g_autoptr(PmNetResponse) response = NULL;
  g_autoptr(GError) error = NULL;

  r->url = g_strdup (url);
  if (uri != NULL && g_uri_get_host (uri) != NULL)
    {
      r->host = g_strdup (g_uri_get_host (uri));
      r->port = g_uri_get_port (uri) > 0 ? (guint) g_uri_get_port (uri)
                                         : g_strcmp0 (g_uri_get_scheme (uri), "https") == 0
                                             ? 443 : 80;
    }
  else
    r->host = g_strdup (url);

  response = pm_net_client_send_finish (PM_NET_CLIENT (source), result, &error);
  if (response == NULL)
    {
      if (g_error_matches (error, PM_NET_ERROR, PM_NET_ERROR_NOT_ALLOWED))
        {
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }
      r->state = PM_CONNECTIVITY_OFFLINE;
      r->failure = g_strdup (error->message);
      r->explanation = g_strdup_printf ("Offline: %s", error->message);
    }
  else if (response->status == 204)
    {
      r->state = PM_CONNECTIVITY_ONLINE;
      r->http_status = 204;
      r->explanation = g_strdup ("Online");
    }
  else
    {
      const char *what = response->status == 511 ?
        "a captive portal asks for a network sign-in" :
        SOUP_STATUS_IS_REDIRECTION (response->status) ?
        "a captive portal or web filter redirected it" :
        "a proxy, captive portal or web filter answered in the data center's place";
      const char *type = soup_message_headers_get_content_type (response->headers, NULL);

      r->state = PM_CONNECTIVITY_PORTAL;
      r->http_status = response->status;
      r->content_type = type != NULL ? g_ascii_strdown (type, -1) : NULL;
      r->location = g_strdup (soup_message_headers_get_one (response->headers, "Location"));
      r->explanation = g_strdup_printf ("Not online: the connectivity check at %s answered "
                                        "%u instead of 204 No Content, so %s. Allow the "
                                        "machine to reach %s directly, without "
                                        "interception or sign-in", r->host,
                                        response->status, what, r->url);
    }
  g_task_return_pointer (task, g_steal_pointer (&r),
                         (GDestroyNotify) pm_connectivity_result_free);
}

void
pm_connectivity_check_async (PmNetClient         *client,
                             const char          *url,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  GTask *task = g_task_new (client, cancellable, callback, user_data);
  PmNetRequest *request = pm_net_request_new ("GET", url);

  g_task_set_source_tag (task, pm_connectivity_check_async);
  g_task_set_task_data (task, g_strdup (url), g_free);
  request->deadline_s = PROBE_STEP_TIMEOUT_S;
  request->max_body = 64 * 1024;
  pm_net_client_send_async (client, request, cancellable, check_cb, task);
}

PmConnectivityResult *
pm_connectivity_check_finish_result (PmNetClient  *client,
                                     GAsyncResult *result,
                                     GError      **error)
{
  g_return_val_if_fail (g_task_is_valid (result, client), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

PmConnectivityState
pm_connectivity_check_finish (PmNetClient  *client,
                              GAsyncResult *result,
                              char        **out_explanation,
                              GError      **error)
{
  g_autoptr(PmConnectivityResult) r = pm_connectivity_check_finish_result (client, result,
                                                                         error);

  if (out_explanation != NULL)
    *out_explanation = r != NULL ? g_steal_pointer (&r->explanation) : NULL;
  return r != NULL ? r->state : PM_CONNECTIVITY_OFFLINE;
}

/* ---- probe ------------------------------------------------------------------------- */

static const char * const step_names[PM_PROBE_N_STEPS] = {
  "allowlist", "DNS", "TCP", "TLS", "HTTP",
};

const char *
pm_probe_step_to_string (PmProbeStep step)
{
  g_return_val_if_fail (step < PM_PROBE_N_STEPS, NULL);
  return step_names[step];
}

void
pm_probe_result_free (PmProbeResult *result)
{
  if (result == NULL)
    return;
  g_free (result->service);
  g_free (result->url);
  g_free (result->host);
  g_free (result->address);
  g_free (result->advice);
  for (guint i = 0; i < PM_PROBE_N_STEPS; i++)
    g_free (result->detail[i]);
  g_free (result);
}

gboolean
pm_probe_result_passed (const PmProbeResult *result)
{
  for (guint i = 0; i < PM_PROBE_N_STEPS; i++)
    if (result->outcome[i] != PM_PROBE_PASSED && result->outcome[i] != PM_PROBE_SKIPPED)
      return FALSE;
  return TRUE;
}

typedef struct
{
  PmNetClient  *client;           /* strong */
  GTask        *task;             /* strong; returns to the caller's context */
  GPtrArray    *results;          /* of PmProbeResult */
  guint         index;
  GCancellable *cancellable;      /* may be NULL */
  GSocketConnection *connection;  /* network thread */
  GIOStream    *tls;              /* network thread */
  GSource      *timeout;          /* network thread */
  GCancellable *step_cancellable; /* network thread */
} Probe;

static void probe_next (Probe *probe);

static void
probe_free (Probe *probe)
{
  g_clear_object (&probe->connection);
  g_clear_object (&probe->tls);
  g_clear_object (&probe->step_cancellable);
  g_clear_object (&probe->cancellable);
  g_ptr_array_unref (probe->results);
  g_object_unref (probe->client);
  g_free (probe);
}

static PmProbeResult *
current (Probe *probe)
{
  return g_ptr_array_index (probe->results, probe->index);
}

static gboolean
step_timeout_cb (gpointer user_data)
{
  Probe *probe = user_data;

  g_cancellable_cancel (probe->step_cancellable);
  return G_SOURCE_CONTINUE;
}

/* Each step gets its own deadline so a firewall that drops packets cannot stall the
 * screen. */
static GCancellable *
begin_step (Probe *probe)
{
  if (probe->timeout != NULL)
    {
      g_source_destroy (probe->timeout);
      g_source_unref (probe->timeout);
    }
  g_clear_object (&probe->step_cancellable);
  probe->step_cancellable = g_cancellable_new ();
  if (probe->cancellable != NULL)
    g_signal_connect_object (probe->cancellable, "cancelled",
                             G_CALLBACK (g_cancellable_cancel), probe->step_cancellable,
                             G_CONNECT_SWAPPED);
  probe->timeout = g_timeout_source_new_seconds (PROBE_STEP_TIMEOUT_S);
  g_source_set_callback (probe->timeout, step_timeout_cb, probe, NULL);
  g_source_attach (probe->timeout, g_main_context_get_thread_default ());
  return probe->step_cancellable;
}

static void
fail_step (Probe      *probe,
           PmProbeStep step,
           const char *detail,
           char       *advice)
{
  PmProbeResult *r = current (probe);

  r->outcome[step] = PM_PROBE_FAILED;
  r->detail[step] = g_strdup (detail);
  r->advice = advice;
  g_debug ("Probe of %s failed at %s: %s", r->service, step_names[step], detail);
  probe->index++;
  probe_next (probe);
}

static void
pass_step (Probe      *probe,
           PmProbeStep step,
           char       *detail)
{
  PmProbeResult *r = current (probe);

  r->outcome[step] = PM_PROBE_PASSED;
  r->detail[step] = detail;
}

static void
http_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Probe *probe = user_data;
  PmProbeResult *r = current (probe);
  g_autoptr(PmNetResponse) response = NULL;
  g_autoptr(GError) error = NULL;

  response = pm_net_client_send_finish (PM_NET_CLIENT (source), result, &error);
  if (response == NULL)
    {
      fail_step (probe, PM_PROBE_STEP_HTTP, error->message,
                 g_strdup_printf ("The connection to %s:%u opens but HTTP requests do not "
                                  "get through; a proxy or filter may be blocking them",
                                  r->host, r->port));
      return;
    }
  r->http_status = response->status;
  /* Any answer from the data center itself passes; a service that needs a session may
   * refuse the bare request, which still proves the path is open. Only the 204 check's
   * answer says more. */
  if (g_strcmp0 (r->service, "connectivity") == 0 && response->status != 204)
    {
      fail_step (probe, PM_PROBE_STEP_HTTP, "answered, but not with 204",
                 g_strdup_printf ("Something other than the data center answers at %s "
                                  "(status %u): a captive portal, proxy or web filter. "
                                  "Let the machine reach it directly", r->url,
                                  response->status));
      return;
    }
  pass_step (probe, PM_PROBE_STEP_HTTP, g_strdup_printf ("status %u", response->status));
  probe->index++;
  probe_next (probe);
}

static void
start_http (Probe *probe)
{
  PmProbeResult *r = current (probe);
  PmNetRequest *request = pm_net_request_new ("GET", r->url);

  request->deadline_s = PROBE_STEP_TIMEOUT_S;
  request->max_body = 64 * 1024;
  pm_net_client_send_async (probe->client, request, probe->cancellable, http_cb, probe);
}

static void
tls_cb (GObject      *source,
        GAsyncResult *result,
        gpointer      user_data)
{
  Probe *probe = user_data;
  PmProbeResult *r = current (probe);
  g_autoptr(GError) error = NULL;

  if (!g_tls_connection_handshake_finish (G_TLS_CONNECTION (source), result, &error))
    {
      g_clear_object (&probe->tls);
      fail_step (probe, PM_PROBE_STEP_TLS, error->message,
                 g_strdup_printf ("%s:%u accepts connections but does not present the "
                                  "provider's certificate. A firewall or proxy that "
                                  "inspects HTTPS is in the way: exempt %s from TLS "
                                  "inspection", r->host, r->port, r->host));
      return;
    }
  g_io_stream_close (probe->tls, NULL, NULL);
  g_clear_object (&probe->tls);
  g_clear_object (&probe->connection);
  pass_step (probe, PM_PROBE_STEP_TLS, g_strdup ("provider certificate verified"));
  start_http (probe);
}

static void
tcp_cb (GObject      *source,
        GAsyncResult *result,
        gpointer      user_data)
{
  Probe *probe = user_data;
  PmProbeResult *r = current (probe);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketConnectable) identity = NULL;

  probe->connection = g_socket_client_connect_finish (G_SOCKET_CLIENT (source), result,
                                                      &error);
  if (probe->connection == NULL)
    {
      fail_step (probe, PM_PROBE_STEP_TCP, error->message,
                 g_strdup_printf ("No TCP connection to %s port %u. The firewall must "
                                  "allow outgoing TCP from this machine to %s (%s) on port "
                                  "%u", r->host, r->port, r->host, r->address, r->port));
      return;
    }
  pass_step (probe, PM_PROBE_STEP_TCP, g_strdup_printf ("connected to %s:%u", r->address,
                                                        r->port));

  if (!g_str_has_prefix (r->url, "https:"))
    {
      r->outcome[PM_PROBE_STEP_TLS] = PM_PROBE_SKIPPED;
      g_clear_object (&probe->connection);
      start_http (probe);
      return;
    }

  identity = g_network_address_new (r->host, (guint16) r->port);
  probe->tls = g_tls_client_connection_new (G_IO_STREAM (probe->connection), identity,
                                            &error);
  if (probe->tls == NULL)
    {
      fail_step (probe, PM_PROBE_STEP_TLS, error->message,
                 g_strdup ("TLS is not available on this system; install glib-networking"));
      return;
    }
  g_tls_connection_set_database (G_TLS_CONNECTION (probe->tls),
                                 pm_net_client_get_tls_database (probe->client));
  g_tls_connection_handshake_async (G_TLS_CONNECTION (probe->tls), G_PRIORITY_DEFAULT,
                                    begin_step (probe), tls_cb, probe);
}

static void
dns_cb (GObject      *source,
        GAsyncResult *result,
        gpointer      user_data)
{
  Probe *probe = user_data;
  PmProbeResult *r = current (probe);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketClient) socket_client = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  GList *addresses;

  addresses = g_resolver_lookup_by_name_finish (G_RESOLVER (source), result, &error);
  if (addresses == NULL)
    {
      fail_step (probe, PM_PROBE_STEP_DNS, error->message,
                 g_strdup_printf ("The name %s does not resolve. Check the machine's DNS "
                                  "server, or ask IT to let it resolve this name", r->host));
      return;
    }
  r->address = g_inet_address_to_string (addresses->data);
  pass_step (probe, PM_PROBE_STEP_DNS, g_strdup (r->address));

  /* TCP to the address itself, bypassing any proxy, so the step says whether the
   * firewall lets this machine through. */
  address = g_inet_socket_address_new (addresses->data, (guint16) r->port);
  g_resolver_free_addresses (addresses);
  socket_client = g_socket_client_new ();
  g_socket_client_set_enable_proxy (socket_client, FALSE);
  g_socket_client_connect_async (socket_client, G_SOCKET_CONNECTABLE (address),
                                 begin_step (probe), tcp_cb, probe);
}

/* Through a proxy the machine never connects to the data center itself: the name lookup
 * and the connection are the proxy's, so only the HTTP step (which goes through it, TLS
 * included) says anything. */
static void
proxy_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  Probe *probe = user_data;
  PmProbeResult *r = current (probe);
  g_auto(GStrv) proxies = NULL;

  proxies = g_proxy_resolver_lookup_finish (G_PROXY_RESOLVER (source), result, NULL);
  if (proxies != NULL && proxies[0] != NULL && g_strcmp0 (proxies[0], "direct://") != 0)
    {
      for (guint step = PM_PROBE_STEP_DNS; step < PM_PROBE_STEP_HTTP; step++)
        {
          r->outcome[step] = PM_PROBE_SKIPPED;
          r->detail[step] = g_strdup_printf ("through the proxy %s", proxies[0]);
        }
      start_http (probe);
      return;
    }
  g_resolver_lookup_by_name_async (g_resolver_get_default (), r->host, begin_step (probe),
                                   dns_cb, probe);
}

static void
probe_next (Probe *probe)
{
  PmProbeResult *r;
  g_autoptr(GError) error = NULL;

  g_assert (g_main_context_is_owner (pm_net_client_get_context (probe->client)));

  if (probe->index >= probe->results->len)
    {
      GTask *task = g_steal_pointer (&probe->task);

      if (probe->timeout != NULL)
        {
          g_source_destroy (probe->timeout);
          g_clear_pointer (&probe->timeout, g_source_unref);
        }
      g_task_return_pointer (task, g_ptr_array_ref (probe->results),
                             (GDestroyNotify) g_ptr_array_unref);
      g_object_unref (task);
      probe_free (probe);
      return;
    }

  r = current (probe);
  if (!pm_allowlist_check (pm_net_client_get_allowlist (probe->client), r->url, &error))
    {
      fail_step (probe, PM_PROBE_STEP_ALLOWLIST, error->message,
                 g_strdup_printf ("%s is not among the provider's addresses this machine "
                                  "may use; check the data center address in Settings",
                                  r->url));
      return;
    }
  pass_step (probe, PM_PROBE_STEP_ALLOWLIST, NULL);
  g_proxy_resolver_lookup_async (g_proxy_resolver_get_default (), r->url, begin_step (probe),
                                 proxy_cb, probe);
}

static gboolean
probe_start_cb (gpointer user_data)
{
  probe_next (user_data);
  return G_SOURCE_REMOVE;
}

void
pm_connectivity_probe_async (PmNetClient         *client,
                             const char * const  *services,
                             const char * const  *urls,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  Probe *probe = g_new0 (Probe, 1);

  probe->client = g_object_ref (client);
  probe->task = g_task_new (client, cancellable, callback, user_data);
  g_task_set_source_tag (probe->task, pm_connectivity_probe_async);
  probe->cancellable = cancellable != NULL ? g_object_ref (cancellable) : NULL;
  probe->results = g_ptr_array_new_with_free_func ((GDestroyNotify) pm_probe_result_free);

  for (guint i = 0; services[i] != NULL && urls[i] != NULL; i++)
    {
      PmProbeResult *r = g_new0 (PmProbeResult, 1);
      g_autoptr(GUri) uri = g_uri_parse (urls[i], G_URI_FLAGS_ENCODED, NULL);

      r->service = g_strdup (services[i]);
      r->url = g_strdup (urls[i]);
      if (uri != NULL && g_uri_get_host (uri) != NULL)
        {
          r->host = g_strdup (g_uri_get_host (uri));
          r->port = g_uri_get_port (uri) > 0 ? (guint) g_uri_get_port (uri) :
                    g_strcmp0 (g_uri_get_scheme (uri), "https") == 0 ? 443 : 80;
        }
      else
        r->host = g_strdup ("");
      g_ptr_array_add (probe->results, r);
    }

  g_main_context_invoke (pm_net_client_get_context (client), probe_start_cb, probe);
}

GPtrArray *
pm_connectivity_probe_finish (PmNetClient  *client,
                              GAsyncResult *result,
                              GError      **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}
