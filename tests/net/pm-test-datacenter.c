/* pm-test-datacenter.c: test fixture, see the header */
#include "pm-test-datacenter.h"

#include <glib/gstdio.h>

#include "pm-dc-pki.h"

/* ---- waiting ----------------------------------------------------------------------- */

void
pm_test_wait (gboolean *done)
{
  while (!*done)
    g_main_context_iteration (NULL, TRUE);
}

/* ---- the server thread ------------------------------------------------------------- */

typedef struct
{
  GSourceFunc func;
  gpointer    data;
  GMutex      lock;
  GCond       cond;
  gboolean    done;
} Call;

static gboolean
call_cb (gpointer user_data)
{
  Call *call = user_data;

  call->func (call->data);
  g_mutex_lock (&call->lock);
  call->done = TRUE;
  g_cond_signal (&call->cond);
  g_mutex_unlock (&call->lock);
  return G_SOURCE_REMOVE;
}

void
pm_test_datacenter_call (PmTestDatacenter *dc,
                         GSourceFunc       func,
                         gpointer          data)
{
  Call call = { func, data };

  g_mutex_init (&call.lock);
  g_cond_init (&call.cond);
  g_main_context_invoke (dc->context, call_cb, &call);
  g_mutex_lock (&call.lock);
  while (!call.done)
    g_cond_wait (&call.cond, &call.lock);
  g_mutex_unlock (&call.lock);
  g_mutex_clear (&call.lock);
  g_cond_clear (&call.cond);
}

static gpointer
server_thread (gpointer user_data)
{
  PmTestDatacenter *dc = user_data;

  g_main_context_push_thread_default (dc->context);
  g_main_loop_run (dc->loop);
  g_main_context_pop_thread_default (dc->context);
  return NULL;
}

static gboolean
start_server_cb (gpointer user_data)
{
  PmTestDatacenter *dc = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(PmVerifyKey) psd_public = NULL;
  g_autoptr(GBytes) pem = NULL;
  g_autofree char *pem_text = NULL;

  dc->server = pm_dc_server_new (dc->directory, &error);
  g_assert_no_error (error);
  pm_dc_server_listen (dc->server, "127.0.0.1", 0, 0, &error);
  g_assert_no_error (error);
  dc->https_port = pm_dc_server_get_https_port (dc->server);
  dc->http_port = pm_dc_server_get_http_port (dc->server);

  psd_public = pm_signing_key_get_verify_key (dc->psd_key);
  pem = pm_verify_key_to_pem (psd_public);
  pem_text = g_strndup (g_bytes_get_data (pem, NULL), g_bytes_get_size (pem));
  pm_dc_server_register_device (dc->server, PM_TEST_PSD_SERIAL, pem_text, "ACME-001",
                                60601, &dc->device_id, &error);
  g_assert_no_error (error);
  pm_dc_server_fund_account (dc->server, "ACME-001", 1000 * PM_MILLS_PER_DOLLAR, NULL,
                             &error);
  g_assert_no_error (error);
  return G_SOURCE_REMOVE;
}

PmTestDatacenter *
pm_test_datacenter_start (const char *host)
{
  PmTestDatacenter *dc = g_new0 (PmTestDatacenter, 1);
  g_autoptr(GError) error = NULL;
  g_autofree char *provider_file = NULL;
  g_autofree char *pem = NULL;
  g_autofree char *demo_key = g_build_filename (PM_SOURCE_DATADIR, "keys",
                                                "demo-provider.key", NULL);

  dc->directory = g_dir_make_tmp ("pm-dc-XXXXXX", &error);
  g_assert_no_error (error);
  /* One provider key, as on a real machine: the data center signs with the key the
   * shipped rate packages are signed with, so a kiosk that trusts its key accepts them. */
  pm_dc_pki_create_with_key (dc->directory, host != NULL ? host : "127.0.0.1", demo_key,
                             &error);
  g_assert_no_error (error);
  dc->ca_file = g_build_filename (dc->directory, "ca.pem", NULL);

  provider_file = g_build_filename (dc->directory, "provider-key.pem", NULL);
  g_file_get_contents (provider_file, &pem, NULL, &error);
  g_assert_no_error (error);
  dc->provider_signing = pm_signing_key_new_from_pem (pem, -1, &error);
  g_assert_no_error (error);
  dc->provider_key = pm_signing_key_get_verify_key (dc->provider_signing);
  dc->psd_key = pm_signing_key_generate (&error);
  g_assert_no_error (error);

  dc->context = g_main_context_new ();
  dc->loop = g_main_loop_new (dc->context, FALSE);
  dc->thread = g_thread_new ("test-datacenter", server_thread, dc);
  pm_test_datacenter_call (dc, start_server_cb, dc);
  return dc;
}

static gboolean
stop_server_cb (gpointer user_data)
{
  PmTestDatacenter *dc = user_data;

  pm_dc_server_disconnect (dc->server);
  g_clear_object (&dc->server);
  g_main_loop_quit (dc->loop);
  return G_SOURCE_REMOVE;
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

void
pm_test_datacenter_stop (PmTestDatacenter *dc)
{
  g_main_context_invoke (dc->context, stop_server_cb, dc);
  g_thread_join (dc->thread);
  g_main_loop_unref (dc->loop);
  g_main_context_unref (dc->context);
  remove_tree (dc->directory);
  pm_signing_key_unref (dc->psd_key);
  pm_signing_key_unref (dc->provider_signing);
  pm_verify_key_unref (dc->provider_key);
  g_free (dc->device_id);
  g_free (dc->ca_file);
  g_free (dc->directory);
  g_free (dc);
}

char *
pm_test_datacenter_url (PmTestDatacenter *dc,
                        const char       *path)
{
  return g_strdup_printf ("https://127.0.0.1:%u%s", dc->https_port, path);
}

PmNetClient *
pm_test_datacenter_client (PmTestDatacenter *dc,
                           guint             extra_port,
                           guint             timeout_s)
{
  g_autoptr(PmAllowlist) allowlist = pm_allowlist_new ();
  g_autoptr(GError) error = NULL;
  PmNetClient *client;

  pm_allowlist_add (allowlist, "https", "127.0.0.1", dc->https_port);
  pm_allowlist_add (allowlist, "http", "127.0.0.1", dc->http_port);
  if (extra_port != 0)
    {
      pm_allowlist_add (allowlist, "https", "127.0.0.1", extra_port);
      pm_allowlist_add (allowlist, "http", "127.0.0.1", extra_port);
    }
  client = pm_net_client_new (dc->ca_file, allowlist, timeout_s, &error);
  g_assert_no_error (error);
  return client;
}

typedef struct
{
  gboolean     done;
  GAsyncResult *result;
} Waiter;

static void
waiter_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  Waiter *w = user_data;

  w->result = g_object_ref (result);
  w->done = TRUE;
}

#include "pm-net-services.h"

void
pm_test_datacenter_authenticate (PmTestDatacenter *dc,
                                 PmNetClient      *client)
{
  g_autoptr(PmVerifyKey) psd_public = pm_signing_key_get_verify_key (dc->psd_key);
  g_autofree char *url = pm_test_datacenter_url (dc, "/distributor/authenticate");
  g_autoptr(PmAuthResponse) auth = NULL;
  g_autoptr(GError) error = NULL;
  PmAuthRequest request = { 0 };
  Waiter w = { 0 };
  gint64 skew = 0;

  request.psd_serial = g_strdup_printf ("%u", PM_TEST_PSD_SERIAL);
  request.certificate = pm_verify_key_to_pem (psd_public);
  request.software_version = g_strdup ("0.1.0");
  request.model = g_strdup ("PMSW");
  pm_distributor_authenticate_async (client, url, &request, NULL, waiter_cb, &w);
  pm_test_wait (&w.done);
  auth = pm_distributor_authenticate_finish (client, w.result, &skew, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (auth->device_id, ==, dc->device_id);
  g_object_unref (w.result);
  g_free (request.psd_serial);
  g_bytes_unref (request.certificate);
  g_free (request.software_version);
  g_free (request.model);
}

/* ---- hostile server ---------------------------------------------------------------- */

struct _PmTestHostile
{
  PmTestDatacenter *dc;
  gboolean          other_ca;
  gboolean          plain;          /* plain HTTP, for the connectivity check */
  char             *other_dir;
  SoupServer       *server;
  guint             port;
  PmTestHostileFunc func;
  gpointer          user_data;
};

static void
hostile_handler (SoupServer        *server,
                 SoupServerMessage *msg,
                 const char        *path,
                 GHashTable        *query,
                 gpointer           user_data)
{
  PmTestHostile *hostile = user_data;

  hostile->func (msg, path, hostile->user_data);
}

static gboolean
hostile_start_cb (gpointer user_data)
{
  PmTestHostile *hostile = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GTlsCertificate) cert = NULL;
  g_autofree char *cert_file = NULL;
  g_autofree char *key_file = NULL;
  const char *dir = hostile->other_ca ? hostile->other_dir : hostile->dc->directory;
  GSList *uris;

  if (hostile->plain)
    {
      hostile->server = soup_server_new (NULL, NULL);
      soup_server_add_handler (hostile->server, NULL, hostile_handler, hostile, NULL);
      soup_server_listen_local (hostile->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
      g_assert_no_error (error);
      uris = soup_server_get_uris (hostile->server);
      hostile->port = (guint) g_uri_get_port (uris->data);
      g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
      return G_SOURCE_REMOVE;
    }

  cert_file = g_build_filename (dir, "server.pem", NULL);
  key_file = g_build_filename (dir, "server-key.pem", NULL);
  cert = g_tls_certificate_new_from_files (cert_file, key_file, &error);
  g_assert_no_error (error);
  hostile->server = soup_server_new ("tls-certificate", cert, NULL);
  soup_server_add_handler (hostile->server, NULL, hostile_handler, hostile, NULL);
  soup_server_listen_local (hostile->server, 0, SOUP_SERVER_LISTEN_HTTPS |
                            SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);
  uris = soup_server_get_uris (hostile->server);
  hostile->port = (guint) g_uri_get_port (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  return G_SOURCE_REMOVE;
}

PmTestHostile *
pm_test_hostile_start (PmTestDatacenter  *dc,
                       gboolean           other_ca,
                       PmTestHostileFunc  func,
                       gpointer           user_data)
{
  PmTestHostile *hostile = g_new0 (PmTestHostile, 1);
  g_autoptr(GError) error = NULL;

  hostile->dc = dc;
  hostile->other_ca = other_ca;
  hostile->func = func;
  hostile->user_data = user_data;
  if (other_ca)
    {
      hostile->other_dir = g_dir_make_tmp ("pm-other-ca-XXXXXX", &error);
      g_assert_no_error (error);
      pm_dc_pki_create (hostile->other_dir, "127.0.0.1", &error);
      g_assert_no_error (error);
    }
  pm_test_datacenter_call (dc, hostile_start_cb, hostile);
  return hostile;
}

PmTestHostile *
pm_test_hostile_start_plain (PmTestDatacenter  *dc,
                             PmTestHostileFunc  func,
                             gpointer           user_data)
{
  PmTestHostile *hostile = g_new0 (PmTestHostile, 1);

  hostile->dc = dc;
  hostile->plain = TRUE;
  hostile->func = func;
  hostile->user_data = user_data;
  pm_test_datacenter_call (dc, hostile_start_cb, hostile);
  return hostile;
}

guint
pm_test_closed_port (void)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;
  guint port;

  /* Bound and closed again without listening: a connection to it is refused, as a
   * firewall that rejects it would. */
  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                         &error);
  g_assert_no_error (error);
  g_socket_bind (socket, address, FALSE, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_socket_close (socket, NULL);
  return port;
}

guint
pm_test_hostile_get_port (PmTestHostile *hostile)
{
  return hostile->port;
}

static gboolean
hostile_stop_cb (gpointer user_data)
{
  PmTestHostile *hostile = user_data;

  soup_server_disconnect (hostile->server);
  g_clear_object (&hostile->server);
  return G_SOURCE_REMOVE;
}

void
pm_test_hostile_stop (PmTestHostile *hostile)
{
  pm_test_datacenter_call (hostile->dc, hostile_stop_cb, hostile);
  if (hostile->other_dir != NULL)
    remove_tree (hostile->other_dir);
  g_free (hostile->other_dir);
  g_free (hostile);
}

/* ---- throttling, cutting relay ----------------------------------------------------- */

struct _PmTestRelay
{
  GSocket      *listener;
  guint         port;
  guint         target_port;
  guint         rate;
  guint         max_cuts;
  guint         cut_window;
  GRand        *rand;           /* accept thread only */
  GThread      *accept_thread;
  GCancellable *cancellable;
  GMutex        lock;
  GPtrArray    *threads;        /* of GThread; guarded by lock */
  GPtrArray    *sockets;        /* of GSocket; guarded by lock */
  guint64       up;             /* guarded by lock */
  guint64       down;           /* guarded by lock */
  guint         cuts;           /* guarded by lock */
  guint         connections;    /* accept thread only */
};

typedef struct
{
  PmTestRelay *relay;
  GSocket     *from;            /* strong */
  GSocket     *to;              /* strong */
  gboolean     upstream;
  gint64       cut_at;          /* bytes; -1: never */
} Pump;

static gboolean
send_all (GSocket      *socket,
          const char   *buffer,
          gsize         length,
          GCancellable *cancellable)
{
  while (length > 0)
    {
      gssize n = g_socket_send (socket, buffer, length, cancellable, NULL);

      if (n <= 0)
        return FALSE;
      buffer += n;
      length -= (gsize) n;
    }
  return TRUE;
}

static gpointer
pump_thread (gpointer user_data)
{
  Pump *pump = user_data;
  PmTestRelay *relay = pump->relay;
  gsize chunk = MAX (relay->rate / 50, 64);
  g_autofree char *buffer = g_malloc (chunk);
  gint64 passed = 0;
  gint64 start = g_get_monotonic_time ();

  for (;;)
    {
      gssize n = g_socket_receive (pump->from, buffer, chunk, relay->cancellable, NULL);
      gint64 due;

      if (n <= 0)
        break;
      if (pump->cut_at >= 0 && passed + n > pump->cut_at)
        {
          /* The cut: part of the chunk goes through, then the line drops. */
          send_all (pump->to, buffer, (gsize) (pump->cut_at - passed), relay->cancellable);
          g_mutex_lock (&relay->lock);
          relay->cuts++;
          g_mutex_unlock (&relay->lock);
          break;
        }
      if (!send_all (pump->to, buffer, (gsize) n, relay->cancellable))
        break;
      passed += n;
      g_mutex_lock (&relay->lock);
      if (pump->upstream)
        relay->up += (guint64) n;
      else
        relay->down += (guint64) n;
      g_mutex_unlock (&relay->lock);

      /* Hold the average at the link's rate. */
      due = start + passed * G_USEC_PER_SEC / relay->rate;
      if (due > g_get_monotonic_time ())
        g_usleep ((gulong) (due - g_get_monotonic_time ()));
    }

  g_socket_shutdown (pump->from, TRUE, TRUE, NULL);
  g_socket_shutdown (pump->to, TRUE, TRUE, NULL);
  g_object_unref (pump->from);
  g_object_unref (pump->to);
  g_free (pump);
  return NULL;
}

static void
start_pump (PmTestRelay *relay,
            GSocket     *from,
            GSocket     *to,
            gboolean     upstream,
            gint64       cut_at)
{
  Pump *pump = g_new0 (Pump, 1);

  pump->relay = relay;
  pump->from = g_object_ref (from);
  pump->to = g_object_ref (to);
  pump->upstream = upstream;
  pump->cut_at = cut_at;
  g_mutex_lock (&relay->lock);
  g_ptr_array_add (relay->threads, g_thread_new ("relay-pump", pump_thread, pump));
  g_mutex_unlock (&relay->lock);
}

static gpointer
accept_thread (gpointer user_data)
{
  PmTestRelay *relay = user_data;

  for (;;)
    {
      g_autoptr(GSocket) client = g_socket_accept (relay->listener, relay->cancellable, NULL);
      g_autoptr(GSocket) server = NULL;
      g_autoptr(GInetAddress) loopback = NULL;
      g_autoptr(GSocketAddress) target = NULL;
      gint64 cut_up = -1, cut_down = -1;

      if (client == NULL)
        break;
      loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
      target = g_inet_socket_address_new (loopback, (guint16) relay->target_port);
      server = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                             G_SOCKET_PROTOCOL_TCP, NULL);
      if (server == NULL || !g_socket_connect (server, target, relay->cancellable, NULL))
        continue;

      if (relay->connections++ < relay->max_cuts)
        {
          /* Answers are small (a handshake and a receipt), so a cut on the way down
           * falls within their first 1,200 bytes. */
          if (g_rand_boolean (relay->rand))
            cut_up = g_rand_int_range (relay->rand, 1, (gint32) relay->cut_window);
          else
            cut_down = g_rand_int_range (relay->rand, 1, MIN (1200, (gint32) relay->cut_window));
        }
      g_mutex_lock (&relay->lock);
      g_ptr_array_add (relay->sockets, g_object_ref (client));
      g_ptr_array_add (relay->sockets, g_object_ref (server));
      g_mutex_unlock (&relay->lock);
      start_pump (relay, client, server, TRUE, cut_up);
      start_pump (relay, server, client, FALSE, cut_down);
    }
  return NULL;
}

PmTestRelay *
pm_test_relay_start (guint   target_port,
                     guint   bytes_per_second,
                     guint   max_cuts,
                     guint   cut_window,
                     guint32 seed)
{
  PmTestRelay *relay = g_new0 (PmTestRelay, 1);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;

  relay->target_port = target_port;
  relay->rate = bytes_per_second;
  relay->max_cuts = max_cuts;
  relay->cut_window = MAX (cut_window, 2);
  relay->rand = g_rand_new_with_seed (seed);
  relay->cancellable = g_cancellable_new ();
  relay->threads = g_ptr_array_new ();
  relay->sockets = g_ptr_array_new_with_free_func (g_object_unref);
  g_mutex_init (&relay->lock);

  relay->listener = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                  G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_socket_bind (relay->listener, address, TRUE, &error);
  g_assert_no_error (error);
  g_socket_listen (relay->listener, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (relay->listener, &error);
  relay->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  relay->accept_thread = g_thread_new ("relay-accept", accept_thread, relay);
  return relay;
}

guint
pm_test_relay_get_port (PmTestRelay *relay)
{
  return relay->port;
}

guint64
pm_test_relay_bytes_up (PmTestRelay *relay)
{
  guint64 n;

  g_mutex_lock (&relay->lock);
  n = relay->up;
  g_mutex_unlock (&relay->lock);
  return n;
}

guint64
pm_test_relay_bytes_down (PmTestRelay *relay)
{
  guint64 n;

  g_mutex_lock (&relay->lock);
  n = relay->down;
  g_mutex_unlock (&relay->lock);
  return n;
}

guint
pm_test_relay_cuts (PmTestRelay *relay)
{
  guint n;

  g_mutex_lock (&relay->lock);
  n = relay->cuts;
  g_mutex_unlock (&relay->lock);
  return n;
}

void
pm_test_relay_stop (PmTestRelay *relay)
{
  g_cancellable_cancel (relay->cancellable);
  g_thread_join (relay->accept_thread);
  g_mutex_lock (&relay->lock);
  for (guint i = 0; i < relay->sockets->len; i++)
    g_socket_shutdown (g_ptr_array_index (relay->sockets, i), TRUE, TRUE, NULL);
  g_mutex_unlock (&relay->lock);
  for (guint i = 0; i < relay->threads->len; i++)
    g_thread_join (g_ptr_array_index (relay->threads, i));
  g_ptr_array_unref (relay->threads);
  g_ptr_array_unref (relay->sockets);
  g_object_unref (relay->listener);
  g_object_unref (relay->cancellable);
  g_rand_free (relay->rand);
  g_mutex_clear (&relay->lock);
  g_free (relay);
}
