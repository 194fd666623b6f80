/* pm-net-client.c
 *
 * Two kinds of code live here. The public entry points run on the caller's thread: they
 * check the allowlist, make the GTask (so the answer comes back to the caller's context)
 * and hand the work to the network thread with g_main_context_invoke (). Everything named
 * net_thread_* runs on the network thread and asserts it; the SoupSession is made and used
 * there only.
 */
#include "pm-net-client.h"

#include <string.h>

#include "pm-net-private.h"
#include "pm-protocol.h"

G_DEFINE_QUARK (pm-net-error-quark, pm_net_error)

#define DEFAULT_MAX_BODY   (4 * 1024 * 1024)
#define READ_CHUNK         (64 * 1024)

GError *
pm_net_protocol_error (const char   *what,
                       const GError *cause)
{
  return g_error_new (PM_NET_ERROR, PM_NET_ERROR_PROTOCOL,
                      "The data center's %s could not be used: %s", what, cause->message);
}

/* ---- errors and retries ------------------------------------------------------------ */

gboolean
pm_net_error_is_retryable (const GError *error)
{
  if (error == NULL || error->domain != PM_NET_ERROR)
    return FALSE;
  switch (error->code)
    {
    case PM_NET_ERROR_DNS:
    case PM_NET_ERROR_CONNECT:
    case PM_NET_ERROR_TIMEOUT:
    case PM_NET_ERROR_TRANSPORT:
    case PM_NET_ERROR_SERVER:
    case PM_NET_ERROR_PORTAL:
    case PM_NET_ERROR_MISMATCH:
    case PM_NET_ERROR_PROTOCOL:
    case PM_NET_ERROR_SIGNATURE:
      return TRUE;
    default:
      return FALSE;
    }
}

guint
pm_net_retry_delay_ms (guint attempt)
{
  guint64 base = 500;
  guint64 cap = 5 * 60 * 1000;
  guint64 delay;

  attempt = MIN (MAX (attempt, 1), 20);
  delay = MIN (cap, base << (attempt - 1));
  /* Full jitter keeps a fleet of machines from retrying in step after an outage. */
  return (guint) (delay / 2 + g_random_int_range (0, (gint32) (delay / 2) + 1));
}

/* ---- allowlist --------------------------------------------------------------------- */

typedef struct
{
  char  *scheme;
  char  *host;
  guint  port;
} AllowEntry;

struct _PmAllowlist
{
  gatomicrefcount ref_count;
  GMutex          lock;
  GArray         *entries;          /* of AllowEntry; guarded by lock */
};

static void
allow_entry_clear (AllowEntry *entry)
{
  g_free (entry->scheme);
  g_free (entry->host);
}

PmAllowlist *
pm_allowlist_new (void)
{
  PmAllowlist *list = g_new0 (PmAllowlist, 1);

  g_atomic_ref_count_init (&list->ref_count);
  g_mutex_init (&list->lock);
  list->entries = g_array_new (FALSE, TRUE, sizeof (AllowEntry));
  g_array_set_clear_func (list->entries, (GDestroyNotify) allow_entry_clear);
  return list;
}

PmAllowlist *
pm_allowlist_ref (PmAllowlist *list)
{
  g_atomic_ref_count_inc (&list->ref_count);
  return list;
}

void
pm_allowlist_unref (PmAllowlist *list)
{
  if (list == NULL || !g_atomic_ref_count_dec (&list->ref_count))
    return;
  g_array_unref (list->entries);
  g_mutex_clear (&list->lock);
  g_free (list);
}

void
pm_allowlist_add (PmAllowlist *list,
                  const char  *scheme,
                  const char  *host,
                  guint        port)
{
  AllowEntry entry;

  g_return_if_fail (list != NULL && scheme != NULL && host != NULL && port > 0);

  entry.scheme = g_ascii_strdown (scheme, -1);
  entry.host = g_ascii_strdown (host, -1);
  entry.port = port;
  g_mutex_lock (&list->lock);
  g_array_append_val (list->entries, entry);
  g_mutex_unlock (&list->lock);
}

static GUri *
parse_url (const char *url,
           GError    **error)
{
  g_autoptr(GUri) uri = g_uri_parse (url, G_URI_FLAGS_ENCODED, NULL);

  if (uri == NULL || g_uri_get_host (uri) == NULL ||
      (g_strcmp0 (g_uri_get_scheme (uri), "https") != 0 &&
       g_strcmp0 (g_uri_get_scheme (uri), "http") != 0))
    {
      g_set_error (error, PM_NET_ERROR, PM_NET_ERROR_NOT_ALLOWED,
                   "“%.200s” is not a web address the machine can use", url);
      return NULL;
    }
  return g_steal_pointer (&uri);
}

static guint
uri_port (GUri *uri)
{
  int port = g_uri_get_port (uri);

  if (port > 0)
    return (guint) port;
  return g_strcmp0 (g_uri_get_scheme (uri), "https") == 0 ? 443 : 80;
}

gboolean
pm_allowlist_add_url (PmAllowlist *list,
                      const char  *url,
                      GError     **error)
{
  g_autoptr(GUri) uri = parse_url (url, error);

  if (uri == NULL)
    return FALSE;
  pm_allowlist_add (list, g_uri_get_scheme (uri), g_uri_get_host (uri), uri_port (uri));
  return TRUE;
}

gboolean
pm_allowlist_check (PmAllowlist *list,
                    const char  *url,
                    GError     **error)
{
  g_autoptr(GUri) uri = parse_url (url, error);
  g_autofree char *host = NULL;
  gboolean found = FALSE;
  guint port;

  if (uri == NULL)
    return FALSE;
  host = g_ascii_strdown (g_uri_get_host (uri), -1);
  port = uri_port (uri);

  g_mutex_lock (&list->lock);
  for (guint i = 0; i < list->entries->len && !found; i++)
    {
      AllowEntry *e = &g_array_index (list->entries, AllowEntry, i);

      found = e->port == port && g_str_equal (e->host, host) &&
              g_str_equal (e->scheme, g_uri_get_scheme (uri));
    }
  g_mutex_unlock (&list->lock);

  if (!found)
    {
      g_warning ("Refused a request to %s://%s:%u: not on the allowlist",
                 g_uri_get_scheme (uri), host, port);
      g_set_error (error, PM_NET_ERROR, PM_NET_ERROR_NOT_ALLOWED,
                   "The machine does not connect to %s://%s:%u: it is not one of the "
                   "provider's addresses, so nothing was sent",
                   g_uri_get_scheme (uri), host, port);
      return FALSE;
    }
  return TRUE;
}

/* ---- requests and responses -------------------------------------------------------- */

PmNetRequest *
pm_net_request_new (const char *method,
                    const char *url)
{
  PmNetRequest *request = g_new0 (PmNetRequest, 1);

  request->method = g_strdup (method);
  request->url = g_strdup (url);
  return request;
}

void
pm_net_request_add_header (PmNetRequest *request,
                           const char   *name,
                           const char   *value)
{
  guint n = request->headers != NULL ? g_strv_length (request->headers) : 0;

  request->headers = g_renew (char *, request->headers, n + 3);
  request->headers[n] = g_strdup (name);
  request->headers[n + 1] = g_strdup (value);
  request->headers[n + 2] = NULL;
}

void
pm_net_request_free (PmNetRequest *request)
{
  if (request == NULL)
    return;
  g_free (request->method);
  g_free (request->url);
  g_free (request->content_type);
  g_clear_pointer (&request->body, g_bytes_unref);
  g_strfreev (request->headers);
  g_free (request->sink_file);
  g_free (request);
}

void
pm_net_response_free (PmNetResponse *response)
{
  if (response == NULL)
    return;
  g_clear_pointer (&response->headers, soup_message_headers_unref);
  g_clear_pointer (&response->body, g_bytes_unref);
  g_free (response);
}

/* ---- the client -------------------------------------------------------------------- */

struct _PmNetClient
{
  GObject parent_instance;

  /* Set before the thread starts, then read-only. */
  PmAllowlist  *allowlist;
  char         *ca_file;
  guint         timeout_s;
  GMainContext *context;          /* the network thread's context */
  GThread      *thread;

  /* Owned by the network thread; the client only borrows it to stop the thread. */
  GMainLoop    *loop;
  SoupSession  *session;

  /* Made on the network thread during start-up, read-only after. */
  GTlsDatabase *tls_database;

  /* Start-up handshake: guarded by lock. */
  GMutex        lock;
  GCond         ready_cond;
  gboolean      ready;
  GError       *start_error;

  /* The data center session: guarded by lock, any thread. */
  char         *device_id;
  char         *token;
  char         *service_urls[PM_REMOTE_SERVICE_COUNT];
};

G_DEFINE_FINAL_TYPE (PmNetClient, pm_net_client, G_TYPE_OBJECT)

static void
assert_net_thread (PmNetClient *self)
{
  g_assert (g_main_context_is_owner (self->context));
}

/* What the network thread needs to shut down, kept apart from the client: the client may
 * be finalized on the network thread itself, when a request held its last reference. */
typedef struct
{
  SoupSession *session;
  GMainLoop   *loop;
} Shutdown;

static gboolean
net_thread_shutdown_cb (gpointer data)
{
  Shutdown *shutdown = data;

  /* Drop live connections and the session here, on its own thread. */
  soup_session_abort (shutdown->session);
  g_object_unref (shutdown->session);
  g_main_loop_quit (shutdown->loop);
  g_main_loop_unref (shutdown->loop);
  g_free (shutdown);
  return G_SOURCE_REMOVE;
}

static void
pm_net_client_finalize (GObject *object)
{
  PmNetClient *self = PM_NET_CLIENT (object);

  if (self->thread != NULL)
    {
      Shutdown *shutdown = g_new0 (Shutdown, 1);
      GSource *idle = g_idle_source_new ();

      shutdown->session = g_steal_pointer (&self->session);
      shutdown->loop = g_main_loop_ref (self->loop);
      g_source_set_callback (idle, net_thread_shutdown_cb, shutdown, NULL);
      g_source_attach (idle, self->context);
      g_source_unref (idle);
      if (g_thread_self () == self->thread)
        g_thread_unref (self->thread);
      else
        g_thread_join (self->thread);
    }
  g_clear_object (&self->tls_database);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_clear_pointer (&self->allowlist, pm_allowlist_unref);
  g_clear_error (&self->start_error);
  g_free (self->ca_file);
  g_free (self->device_id);
  g_free (self->token);
  for (guint i = 0; i < PM_REMOTE_SERVICE_COUNT; i++)
    g_free (self->service_urls[i]);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->ready_cond);

  G_OBJECT_CLASS (pm_net_client_parent_class)->finalize (object);
}

static void
pm_net_client_class_init (PmNetClientClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = pm_net_client_finalize;
}

static void
pm_net_client_init (PmNetClient *self)
{
  g_mutex_init (&self->lock);
  g_cond_init (&self->ready_cond);
}

static gpointer
net_thread_main (gpointer data)
{
  PmNetClient *self = data;
  g_autoptr(GError) error = NULL;
  GMainContext *context = g_main_context_ref (self->context);
  GMainLoop *loop = g_main_loop_new (context, FALSE);
  gboolean started;

  g_main_context_push_thread_default (context);
  self->loop = loop;

  self->tls_database = g_tls_file_database_new (self->ca_file, &error);
  if (self->tls_database != NULL)
    {
      /* Configured here, before any request, on the thread that will use it. The default
       * proxy resolver is the desktop's; redirects are never followed (see send). */
      self->session = soup_session_new_with_options ("timeout", self->timeout_s,
                                                     "idle-timeout", 30,
                                                     "tls-database", self->tls_database,
                                                     "user-agent", "Postmeter/" PM_VERSION,
                                                     "max-conns-per-host", 2,
                                                     NULL);
    }
  started = self->session != NULL;

  g_mutex_lock (&self->lock);
  if (!started)
    {
      self->start_error = g_error_new (PM_NET_ERROR, PM_NET_ERROR_CA,
                                       "The provider's certificate authority %s cannot be "
                                       "read (%s); the machine cannot trust any server",
                                       self->ca_file, error->message);
    }
  self->ready = TRUE;
  g_cond_signal (&self->ready_cond);
  g_mutex_unlock (&self->lock);

  /* From here on, self may be finalized at any moment: use only the locals. */
  if (started)
    g_main_loop_run (loop);

  g_main_context_pop_thread_default (context);
  g_main_loop_unref (loop);
  g_main_context_unref (context);
  return NULL;
}

PmNetClient *
pm_net_client_new (const char  *ca_file,
                   PmAllowlist *allowlist,
                   guint        timeout_s,
                   GError     **error)
{
  g_autoptr(PmNetClient) self = NULL;

  g_return_val_if_fail (ca_file != NULL && allowlist != NULL, NULL);

  if (!g_tls_backend_supports_tls (g_tls_backend_get_default ()))
    {
      g_set_error (error, PM_NET_ERROR, PM_NET_ERROR_NO_TLS,
                   "This system cannot make secure connections: the glib-networking "
                   "package is missing. Install it and start Postmeter again");
      return NULL;
    }

  /* libsoup 3.2 has no per-message switch; HTTP/2 fixes arrived only in 3.3, so stay on
   * HTTP/1.1. Set before the session exists; a program that starts threads earlier should
   * set it itself at the top of main (setenv is not thread safe). */
  if (g_getenv ("SOUP_FORCE_HTTP1") == NULL)
    g_setenv ("SOUP_FORCE_HTTP1", "1", TRUE);

  self = g_object_new (PM_TYPE_NET_CLIENT, NULL);
  self->ca_file = g_strdup (ca_file);
  self->allowlist = pm_allowlist_ref (allowlist);
  self->timeout_s = timeout_s > 0 ? timeout_s : 30;
  self->context = g_main_context_new ();
  self->thread = g_thread_new ("postmeter-net", net_thread_main, self);

  g_mutex_lock (&self->lock);
  while (!self->ready)
    g_cond_wait (&self->ready_cond, &self->lock);
  g_mutex_unlock (&self->lock);

  if (self->start_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&self->start_error));
      g_thread_join (self->thread);
      self->thread = NULL;
      self->loop = NULL;
      return NULL;
    }

  return g_steal_pointer (&self);
}

PmAllowlist *
pm_net_client_get_allowlist (PmNetClient *self)
{
  return self->allowlist;
}

GTlsDatabase *
pm_net_client_get_tls_database (PmNetClient *self)
{
  return self->tls_database;
}

GMainContext *
pm_net_client_get_context (PmNetClient *self)
{
  return self->context;
}

/* ---- session ----------------------------------------------------------------------- */

void
pm_net_client_set_session (PmNetClient        *self,
                           const char         *device_id,
                           const char         *token,
                           const char * const *service_urls)
{
  g_mutex_lock (&self->lock);
  g_free (self->device_id);
  self->device_id = g_strdup (device_id);
  g_free (self->token);
  self->token = g_strdup (token);
  for (guint i = 0; i < PM_REMOTE_SERVICE_COUNT; i++)
    {
      g_free (self->service_urls[i]);
      self->service_urls[i] = service_urls != NULL ? g_strdup (service_urls[i]) : NULL;
    }
  g_mutex_unlock (&self->lock);
}

char *
pm_net_client_dup_device_id (PmNetClient *self)
{
  char *copy;

  g_mutex_lock (&self->lock);
  copy = g_strdup (self->device_id);
  g_mutex_unlock (&self->lock);
  return copy;
}

char *
pm_net_client_dup_token (PmNetClient *self)
{
  char *copy;

  g_mutex_lock (&self->lock);
  copy = g_strdup (self->token);
  g_mutex_unlock (&self->lock);
  return copy;
}

char *
pm_net_client_dup_service_url (PmNetClient *self,
                               guint        service)
{
  char *copy;

  g_return_val_if_fail (service < PM_REMOTE_SERVICE_COUNT, NULL);
  g_mutex_lock (&self->lock);
  copy = g_strdup (self->service_urls[service]);
  g_mutex_unlock (&self->lock);
  return copy;
}

PmNetRequest *
pm_net_client_new_service_request (PmNetClient *self,
                                   guint        service,
                                   const char  *method,
                                   const char  *suffix,
                                   GError     **error)
{
  g_autofree char *base = pm_net_client_dup_service_url (self, service);
  g_autofree char *token = pm_net_client_dup_token (self);
  g_autofree char *url = NULL;
  g_autofree char *authorization = NULL;
  PmNetRequest *request;

  if (base == NULL || token == NULL)
    {
      g_set_error (error, PM_NET_ERROR, PM_NET_ERROR_NOT_AUTHENTICATED,
                   "The machine has not signed in to the data center yet (the %s service "
                   "address comes from the distributor); connect first",
                   pm_remote_service_to_string (service));
      return NULL;
    }
  url = g_strconcat (base, suffix, NULL);
  authorization = g_strconcat ("Bearer ", token, NULL);
  request = pm_net_request_new (method, url);
  pm_net_request_add_header (request, "Authorization", authorization);
  return request;
}

/* ---- sending (network thread) ------------------------------------------------------ */

typedef struct
{
  PmNetClient   *client;          /* strong */
  PmNetRequest  *request;         /* owned */
  GMainContext  *caller_context;  /* for progress */
  SoupMessage   *message;         /* network thread */
  GInputStream  *stream;          /* network thread */
  GOutputStream *sink;            /* network thread; may be NULL */
  GByteArray    *body;            /* network thread */
  GCancellable  *cancellable;     /* internal: user cancel or deadline */
  GCancellable  *user_cancellable;
  gulong         cancel_handler;
  GSource       *deadline;
  gboolean       timed_out;
  gint64         received;
  gint64         total;
} SendData;

static void
send_data_free (SendData *data)
{
  if (data->deadline != NULL)
    {
      g_source_destroy (data->deadline);
      g_source_unref (data->deadline);
    }
  if (data->user_cancellable != NULL)
    {
      g_cancellable_disconnect (data->user_cancellable, data->cancel_handler);
      g_object_unref (data->user_cancellable);
    }
  g_clear_object (&data->cancellable);
  g_clear_object (&data->message);
  g_clear_object (&data->stream);
  g_clear_object (&data->sink);
  g_clear_pointer (&data->body, g_byte_array_unref);
  g_clear_pointer (&data->caller_context, g_main_context_unref);
  pm_net_request_free (data->request);
  g_object_unref (data->client);
  g_free (data);
}

static char *
request_host (PmNetRequest *request)
{
  g_autoptr(GUri) uri = g_uri_parse (request->url, G_URI_FLAGS_ENCODED, NULL);

  if (uri == NULL)
    return g_strdup ("the server");
  return g_strdup_printf ("%s:%u", g_uri_get_host (uri), uri_port (uri));
}

/* Turns a transport error into words an IT administrator can act on. */
static GError *
describe_transport_error (SendData     *data,
                          const GError *error)
{
  g_autofree char *host = request_host (data->request);

  if (data->timed_out)
    return g_error_new (PM_NET_ERROR, PM_NET_ERROR_TIMEOUT,
                        "%s did not answer within %u seconds; the line may be too slow "
                        "or a firewall may be holding the connection", host,
                        data->request->deadline_s);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return g_error_new (PM_NET_ERROR, PM_NET_ERROR_CANCELLED, "The request was cancelled");
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return g_error_new (PM_NET_ERROR, PM_NET_ERROR_TIMEOUT,
                        "%s stopped answering; the line may be too slow or a firewall "
                        "may be holding the connection", host);
  if (error->domain == G_TLS_ERROR && error->code != G_TLS_ERROR_BAD_CERTIFICATE)
    return g_error_new (PM_NET_ERROR, PM_NET_ERROR_TRANSPORT,
                        "The secure connection to %s failed (%s); it will be tried again. "
                        "If this repeats, something on the way is not passing TLS through "
                        "untouched", host, error->message);
  if (error->domain == G_TLS_ERROR)
    return g_error_new (PM_NET_ERROR, PM_NET_ERROR_TLS,
                        "%s did not prove it is the provider's data center (its certificate "
                        "is not from the provider's authority: %s). A firewall that "
                        "inspects HTTPS must let this host through untouched", host,
                        error->message);
  if (error->domain == G_RESOLVER_ERROR)
    return g_error_new (PM_NET_ERROR, PM_NET_ERROR_DNS,
                        "The name of %s does not resolve (%s); check the DNS server "
                        "settings", host, error->message);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED) ||
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_HOST_UNREACHABLE) ||
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NETWORK_UNREACHABLE))
    return g_error_new (PM_NET_ERROR, PM_NET_ERROR_CONNECT,
                        "No connection to %s (%s); a firewall must allow outgoing "
                        "connections to this host and port", host, error->message);
  return g_error_new (PM_NET_ERROR, PM_NET_ERROR_TRANSPORT,
                      "The connection to %s broke (%s); it will be tried again", host,
                      error->message);
}

typedef struct
{
  PmNetProgressFunc func;
  gpointer          user_data;
  gint64            received;
  gint64            total;
} ProgressCall;

static gboolean
progress_cb (gpointer user_data)
{
  ProgressCall *call = user_data;

  call->func (call->received, call->total, call->user_data);
  return G_SOURCE_REMOVE;
}

static void
report_progress (SendData *data)
{
  ProgressCall *call;

  if (data->request->progress == NULL)
    return;
  call = g_new0 (ProgressCall, 1);
  call->func = data->request->progress;
  call->user_data = data->request->progress_data;
  call->received = data->received;
  call->total = data->total;
  g_main_context_invoke_full (data->caller_context, G_PRIORITY_DEFAULT, progress_cb,
                              call, g_free);
}

/* libsoup objects are released on the network thread, before the answer travels back. */
static void
net_thread_release (SendData *data)
{
  if (data->deadline != NULL)
    {
      g_source_destroy (data->deadline);
      g_clear_pointer (&data->deadline, g_source_unref);
    }
  if (data->stream != NULL)
    g_input_stream_close (data->stream, NULL, NULL);
  g_clear_object (&data->stream);
  g_clear_object (&data->message);
}

static void
net_thread_return_error (GTask  *task,
                         GError *error)
{
  SendData *data = g_task_get_task_data (task);

  net_thread_release (data);
  g_task_return_error (task, error);
  g_object_unref (task);
}

static void net_thread_read_cb (GObject      *source,
                                GAsyncResult *result,
                                gpointer      user_data);

static void
net_thread_finish (GTask *task)
{
  SendData *data = g_task_get_task_data (task);
  PmNetResponse *response = g_new0 (PmNetResponse, 1);

  response->status = soup_message_get_status (data->message);
  response->headers = soup_message_headers_ref (
    soup_message_get_response_headers (data->message));
  response->body = g_byte_array_free_to_bytes (g_steal_pointer (&data->body));
  response->received = data->received;
  if (data->sink != NULL && !g_output_stream_close (data->sink, NULL, NULL))
    {
      pm_net_response_free (response);
      net_thread_return_error (task, g_error_new (PM_NET_ERROR, PM_NET_ERROR_IO,
                               "The download could not be saved to disk"));
      return;
    }
  net_thread_release (data);
  g_task_return_pointer (task, response, (GDestroyNotify) pm_net_response_free);
  g_object_unref (task);
}

static void
net_thread_read_next (GTask *task)
{
  SendData *data = g_task_get_task_data (task);

  g_input_stream_read_bytes_async (data->stream, READ_CHUNK, G_PRIORITY_DEFAULT,
                                   data->cancellable, net_thread_read_cb, task);
}

static void
net_thread_read_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  GTask *task = user_data;
  SendData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) chunk = NULL;
  gsize max_body = data->request->max_body != 0 ? data->request->max_body : DEFAULT_MAX_BODY;
  gsize length;

  assert_net_thread (data->client);

  chunk = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), result, &error);
  if (chunk == NULL)
    {
      net_thread_return_error (task, describe_transport_error (data, error));
      return;
    }
  length = g_bytes_get_size (chunk);
  if (length == 0)
    {
      net_thread_finish (task);
      return;
    }

  data->received += (gint64) length;
  if ((guint64) data->received > max_body)
    {
      g_autofree char *host = request_host (data->request);

      g_cancellable_cancel (data->cancellable);
      net_thread_return_error (task, g_error_new (PM_NET_ERROR, PM_NET_ERROR_TOO_LARGE,
                               "%s sent more than the %" G_GSIZE_FORMAT " bytes this answer "
                               "may have; reading stopped and nothing was used", host,
                               max_body));
      return;
    }

  if (data->sink != NULL)
    {
      if (!g_output_stream_write_all (data->sink, g_bytes_get_data (chunk, NULL), length,
                                      NULL, NULL, &error))
        {
          net_thread_return_error (task, g_error_new (PM_NET_ERROR, PM_NET_ERROR_IO,
                                   "The download could not be saved: %s", error->message));
          return;
        }
    }
  else
    g_byte_array_append (data->body, g_bytes_get_data (chunk, NULL), (guint) length);

  report_progress (data);
  net_thread_read_next (task);
}

static void
net_thread_sent_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  GTask *task = user_data;
  SendData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  SoupMessageHeaders *headers;
  guint status;

  assert_net_thread (data->client);

  data->stream = soup_session_send_finish (SOUP_SESSION (source), result, &error);
  if (data->stream == NULL)
    {
      net_thread_return_error (task, describe_transport_error (data, error));
      return;
    }

  status = soup_message_get_status (data->message);
  headers = soup_message_get_response_headers (data->message);
  data->total = soup_message_headers_get_content_length (headers);
  if (soup_message_headers_get_encoding (headers) != SOUP_ENCODING_CONTENT_LENGTH)
    data->total = -1;

  /* Keep the body only for answers that will be used; a sink gets 2xx bodies only. */
  if (data->request->sink_file != NULL && SOUP_STATUS_IS_SUCCESSFUL (status))
    {
      g_autoptr(GFile) file = g_file_new_for_path (data->request->sink_file);

      data->sink = G_OUTPUT_STREAM (g_file_append_to (file, G_FILE_CREATE_PRIVATE, NULL,
                                                      &error));
      if (data->sink == NULL)
        {
          net_thread_return_error (task, g_error_new (PM_NET_ERROR, PM_NET_ERROR_IO,
                                   "The download cannot be saved: %s", error->message));
          return;
        }
    }

  net_thread_read_next (task);
}

static gboolean
deadline_cb (gpointer user_data)
{
  SendData *data = user_data;

  data->timed_out = TRUE;
  g_cancellable_cancel (data->cancellable);
  return G_SOURCE_REMOVE;
}

static void
user_cancelled_cb (GCancellable *user_cancellable,
                   gpointer      user_data)
{
  GCancellable *internal = user_data;

  g_cancellable_cancel (internal);
}

static gboolean
net_thread_start_cb (gpointer user_data)
{
  GTask *task = user_data;
  SendData *data = g_task_get_task_data (task);
  PmNetRequest *request = data->request;
  SoupMessageHeaders *headers;
  SoupMessageFlags flags = SOUP_MESSAGE_NO_REDIRECT;

  assert_net_thread (data->client);

  data->message = soup_message_new (request->method, request->url);
  if (data->message == NULL)
    {
      net_thread_return_error (task, g_error_new (PM_NET_ERROR, PM_NET_ERROR_NOT_ALLOWED,
                               "“%.200s” is not a usable address", request->url));
      return G_SOURCE_REMOVE;
    }
  if (request->idempotent)
    flags |= SOUP_MESSAGE_IDEMPOTENT;
  soup_message_set_flags (data->message, flags);

  headers = soup_message_get_request_headers (data->message);
  for (guint i = 0; request->headers != NULL && request->headers[i] != NULL; i += 2)
    soup_message_headers_replace (headers, request->headers[i], request->headers[i + 1]);
  if (request->body != NULL)
    soup_message_set_request_body_from_bytes (data->message, request->content_type,
                                              request->body);

  if (request->deadline_s > 0)
    {
      data->deadline = g_timeout_source_new_seconds (request->deadline_s);
      g_source_set_callback (data->deadline, deadline_cb, data, NULL);
      g_source_attach (data->deadline, data->client->context);
    }

  soup_session_send_async (data->client->session, data->message, G_PRIORITY_DEFAULT,
                           data->cancellable, net_thread_sent_cb, task);
  return G_SOURCE_REMOVE;
}

void
pm_net_client_send_async (PmNetClient         *self,
                          PmNetRequest        *request,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_autoptr(GError) error = NULL;
  GTask *task;
  SendData *data;

  g_return_if_fail (PM_IS_NET_CLIENT (self));
  g_return_if_fail (request != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, pm_net_client_send_async);
  g_task_set_check_cancellable (task, FALSE);

  /* Refused here, on the caller's thread: no lookup, no connection, no packet. */
  if (!pm_allowlist_check (self->allowlist, request->url, &error))
    {
      pm_net_request_free (request);
      g_task_return_error (task, g_steal_pointer (&error));
      g_object_unref (task);
      return;
    }

  data = g_new0 (SendData, 1);
  data->client = g_object_ref (self);
  data->request = request;
  data->caller_context = g_main_context_ref_thread_default ();
  data->body = g_byte_array_new ();
  data->cancellable = g_cancellable_new ();
  data->total = -1;
  if (cancellable != NULL)
    {
      data->user_cancellable = g_object_ref (cancellable);
      data->cancel_handler = g_cancellable_connect (cancellable,
                                                    G_CALLBACK (user_cancelled_cb),
                                                    g_object_ref (data->cancellable),
                                                    g_object_unref);
    }
  g_task_set_task_data (task, data, (GDestroyNotify) send_data_free);

  g_main_context_invoke (self->context, net_thread_start_cb, task);
}

PmNetResponse *
pm_net_client_send_finish (PmNetClient  *self,
                           GAsyncResult *result,
                           GError      **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- calls: sends whose status is checked ------------------------------------------ */

static GError *
describe_status (PmNetResponse *response,
                 const char    *url)
{
  g_autoptr(GUri) uri = g_uri_parse (url, G_URI_FLAGS_ENCODED, NULL);
  g_autofree char *code = NULL;
  g_autofree char *sentence = NULL;
  const char *host = uri != NULL ? g_uri_get_host (uri) : "the server";
  guint status = response->status;

  if (SOUP_STATUS_IS_REDIRECTION (status))
    {
      const char *location = soup_message_headers_get_one (response->headers, "Location");

      return g_error_new (PM_NET_ERROR, PM_NET_ERROR_REDIRECT,
                          "%s redirected the machine to %.200s, which it does not follow; "
                          "a proxy or web filter may be rewriting requests to the data "
                          "center", host, location != NULL ? location : "another address");
    }

  /* The data center explains its refusals in an <error> message; anything else answering
   * is a proxy, portal or filter. */
  if (response->body != NULL && g_bytes_get_size (response->body) > 0 &&
      pm_protocol_error_parse (response->body, &code, &sentence, NULL))
    return g_error_new (PM_NET_ERROR, status >= 500 ? PM_NET_ERROR_SERVER : PM_NET_ERROR_CLIENT,
                        "The data center refused the request (%u, %s): %s", status, code,
                        sentence);

  if (status >= 500)
    return g_error_new (PM_NET_ERROR, PM_NET_ERROR_SERVER,
                        "%s answered %u: the data center has a fault or is being "
                        "maintained; the machine will try again later", host, status);
  if (status == 407)
    return g_error_new (PM_NET_ERROR, PM_NET_ERROR_CLIENT,
                        "The proxy server asks for a login (407); the machine cannot log in "
                        "to proxies, so let it through without authentication");
  return g_error_new (PM_NET_ERROR, PM_NET_ERROR_CLIENT,
                      "%s refused the request with status %u and no explanation; "
                      "a proxy or filter may be answering instead of the data center",
                      host, status);
}

static void
call_sent_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(PmNetResponse) response = NULL;
  const char *url = g_task_get_task_data (task);

  response = pm_net_client_send_finish (PM_NET_CLIENT (source), result, &error);
  if (response == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (!SOUP_STATUS_IS_SUCCESSFUL (response->status))
    {
      g_task_return_error (task, describe_status (response, url));
      return;
    }
  g_task_return_pointer (task, g_steal_pointer (&response),
                         (GDestroyNotify) pm_net_response_free);
}

void
pm_net_client_call_async (PmNetClient         *self,
                          PmNetRequest        *request,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, pm_net_client_call_async);
  g_task_set_task_data (task, g_strdup (request->url), g_free);
  pm_net_client_send_async (self, request, cancellable, call_sent_cb, task);
}

PmNetResponse *
pm_net_client_call_finish (PmNetClient  *self,
                           GAsyncResult *result,
                           GError      **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
