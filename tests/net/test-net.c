/* test-net.c: the machine's network side against the reference data center over TLS, and
 * against servers that misbehave on purpose. */
#include <string.h>

#include "pm-clock.h"
#include "pm-connectivity.h"
#include "pm-net-services.h"
#include "pm-package.h"
#include "pm-psd-message.h"
#include "pm-test-datacenter.h"

static PmTestDatacenter *dc;   /* one data center for the whole program */

/* A fresh folder inside this test's isolated directories (removed with them). */
static char *
test_make_dir (const char *name)
{
  char *path = g_build_filename (g_get_user_cache_dir (), name, NULL);

  g_assert_cmpint (g_mkdir_with_parents (path, 0700), ==, 0);
  return path;
}

typedef struct
{
  gboolean      done;
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

static void
waiter_clear (Waiter *w)
{
  g_clear_object (&w->result);
  w->done = FALSE;
}

static PmNetClient *
signed_in_client (void)
{
  PmNetClient *client = pm_test_datacenter_client (dc, 0, 10);

  pm_test_datacenter_authenticate (dc, client);
  return client;
}

static PmFundsRequest *
refill_request (PmMills amount,
                gint64  sequence)
{
  PmFundsRequest *r = g_new0 (PmFundsRequest, 1);

  r->kind = PM_FUNDS_REFILL;
  r->psd_serial = g_strdup_printf ("%u", PM_TEST_PSD_SERIAL);
  r->amount = amount;
  r->sequence = sequence;
  return r;
}

static PmFundsResponse *
call_funds (PmNetClient     *client,
            PmFundsRequest  *request,
            PmVerifyKey     *key,
            GError         **error)
{
  Waiter w = { 0 };
  PmFundsResponse *response;

  pm_funds_call_async (client, request, key, NULL, waiter_cb, &w);
  pm_test_wait (&w.done);
  response = pm_funds_call_finish (client, w.result, error);
  waiter_clear (&w);
  return response;
}

/* ---- allowlist --------------------------------------------------------------------- */

static gboolean
incoming_cb (GSocketService    *service,
             GSocketConnection *connection,
             GObject           *source,
             gpointer           user_data)
{
  gboolean *seen = user_data;

  *seen = TRUE;
  return FALSE;
}

static gboolean
timeout_done_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
test_allowlist_refused_before_connect (void)
{
  g_autoptr(PmNetClient) client = pm_test_datacenter_client (dc, 0, 5);
  g_autoptr(GSocketService) service = g_socket_service_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(PmNetResponse) response = NULL;
  g_autofree char *url = NULL;
  gboolean seen = FALSE, slept = FALSE;
  Waiter w = { 0 };
  guint16 port;

  port = g_socket_listener_add_any_inet_port (G_SOCKET_LISTENER (service), NULL, &error);
  g_assert_no_error (error);
  g_signal_connect (service, "incoming", G_CALLBACK (incoming_cb), &seen);
  g_socket_service_start (service);

  url = g_strdup_printf ("https://127.0.0.1:%u/funds", port);
  g_test_expect_message ("postmeter-net", G_LOG_LEVEL_WARNING, "*not on the allowlist*");
  pm_net_client_send_async (client, pm_net_request_new ("GET", url), NULL, waiter_cb, &w);
  pm_test_wait (&w.done);
  response = pm_net_client_send_finish (client, w.result, &error);
  g_test_assert_expected_messages ();
  g_assert_error (error, PM_NET_ERROR, PM_NET_ERROR_NOT_ALLOWED);
  g_assert_null (response);

  /* Give a connection every chance to arrive: none may. */
  g_timeout_add (300, timeout_done_cb, &slept);
  pm_test_wait (&slept);
  g_assert_false (seen);

  /* The same host on the allowed port, but plain http where only https is allowed. */
  g_clear_error (&error);
  g_assert_false (pm_allowlist_check (pm_net_client_get_allowlist (client),
                                      "ftp://127.0.0.1/x", &error));
  g_assert_error (error, PM_NET_ERROR, PM_NET_ERROR_NOT_ALLOWED);
  waiter_clear (&w);
}

/* A caller on another thread, with its own main context, gets its answer there. */
typedef struct
{
  PmNetClient *client;
  char        *url;
  GThread     *callback_thread;
  guint        status;
  gboolean     done;
} ThreadCall;

static void
thread_call_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  ThreadCall *call = user_data;
  g_autoptr(PmNetResponse) response = NULL;

  response = pm_net_client_send_finish (call->client, result, NULL);
  call->callback_thread = g_thread_self ();
  call->status = response != NULL ? response->status : 0;
  call->done = TRUE;
}

static gpointer
caller_thread (gpointer user_data)
{
  ThreadCall *call = user_data;
  GMainContext *context = g_main_context_new ();

  g_main_context_push_thread_default (context);
  pm_net_client_send_async (call->client, pm_net_request_new ("GET", call->url), NULL,
                            thread_call_cb, call);
  while (!call->done)
    g_main_context_iteration (context, TRUE);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  return g_thread_self ();
}

static void
test_answer_on_caller_context (void)
{
  g_autoptr(PmNetClient) client = pm_test_datacenter_client (dc, 0, 5);
  ThreadCall call = { client, NULL, NULL, 0, FALSE };
  GThread *thread;
  GThread *ran_on;

  call.url = pm_test_datacenter_url (dc, "/generate_204");
  thread = g_thread_new ("caller", caller_thread, &call);
  ran_on = g_thread_join (thread);
  g_assert_true (call.callback_thread == ran_on);
  g_assert_cmpuint (call.status, ==, 204);
  g_free (call.url);
}

static void
test_client_errors (void)
{
  g_autoptr(PmAllowlist) allowlist = pm_allowlist_new ();
  g_autoptr(PmNetClient) broken = NULL;
  g_autoptr(PmNetClient) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(PmNetRequest) request = NULL;

  /* No CA, no client: the machine must never fall back to trusting anyone. */
  broken = pm_net_client_new ("/nonexistent/ca.pem", allowlist, 5, &error);
  g_assert_null (broken);
  g_assert_error (error, PM_NET_ERROR, PM_NET_ERROR_CA);
  g_assert_nonnull (strstr (error->message, "cannot trust any server"));
  g_clear_error (&error);

  /* Before the distributor answered there is no service to call. */
  client = pm_test_datacenter_client (dc, 0, 5);
  request = pm_net_client_new_service_request (client, PM_REMOTE_SERVICE_UPLOADS, "POST",
                                               "/batches", &error);
  g_assert_null (request);
  g_assert_error (error, PM_NET_ERROR, PM_NET_ERROR_NOT_AUTHENTICATED);
}

/* ---- connectivity ------------------------------------------------------------------ */

static void
portal_200 (SoupServerMessage *msg,
            const char        *path,
            gpointer           user_data)
{
  soup_server_message_set_status (msg, 200, NULL);
  soup_server_message_set_response (msg, "text/html", SOUP_MEMORY_STATIC,
                                    "<html>Sign in to Guest Wi-Fi</html>", 35);
}

static void
test_connectivity_check (void)
{
  g_autoptr(PmNetClient) client = pm_test_datacenter_client (dc, 0, 5);
  g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u/generate_204", dc->http_port);
  g_autofree char *explanation = NULL;
  g_autoptr(GError) error = NULL;
  Waiter w = { 0 };
  PmConnectivityState state;

  pm_connectivity_check_async (client, url, NULL, waiter_cb, &w);
  pm_test_wait (&w.done);
  state = pm_connectivity_check_finish (client, w.result, &explanation, &error);
  g_assert_no_error (error);
  g_assert_cmpint (state, ==, PM_CONNECTIVITY_ONLINE);
  waiter_clear (&w);

  pm_connectivity_check_async (client, url, NULL, waiter_cb, &w);
  pm_test_wait (&w.done);
  {
    g_autoptr(PmConnectivityResult) r = pm_connectivity_check_finish_result (client, w.result,
                                                                           &error);

    g_assert_no_error (error);
    g_assert_cmpint (r->state, ==, PM_CONNECTIVITY_ONLINE);
    g_assert_cmpuint (r->http_status, ==, 204);
    g_assert_cmpuint (r->port, ==, dc->http_port);
    g_assert_null (r->failure);
    g_assert_false (pm_connectivity_result_is_web_page (r));
  }
  waiter_clear (&w);
}

static void
test_connectivity_portal (void)
{
  PmTestHostile *portal = pm_test_hostile_start (dc, FALSE, portal_200, NULL);
  g_autoptr(PmNetClient) client = pm_test_datacenter_client (dc,
                                                             pm_test_hostile_get_port (portal),
                                                             5);
  g_autofree char *url = g_strdup_printf ("https://127.0.0.1:%u/generate_204",
                                          pm_test_hostile_get_port (portal));
  g_autofree char *explanation = NULL;
  g_autoptr(GError) error = NULL;
  Waiter w = { 0 };
  PmConnectivityState state;

  pm_connectivity_check_async (client, url, NULL, waiter_cb, &w);
  pm_test_wait (&w.done);
  state = pm_connectivity_check_finish (client, w.result, &explanation, &error);
  g_assert_no_error (error);
  g_assert_cmpint (state, ==, PM_CONNECTIVITY_PORTAL);
  g_assert_nonnull (strstr (explanation, "200 instead of 204"));
  g_assert_nonnull (strstr (explanation, "captive portal"));
  waiter_clear (&w);

  /* What the meter puts in its own words: the status, the page's type, the address. */
  pm_connectivity_check_async (client, url, NULL, waiter_cb, &w);
  pm_test_wait (&w.done);
  {
    g_autoptr(PmConnectivityResult) r = pm_connectivity_check_finish_result (client, w.result,
                                                                           &error);

    g_assert_no_error (error);
    g_assert_cmpint (r->state, ==, PM_CONNECTIVITY_PORTAL);
    g_assert_cmpuint (r->http_status, ==, 200);
    g_assert_cmpstr (r->content_type, ==, "text/html");
    g_assert_true (pm_connectivity_result_is_web_page (r));
    g_assert_cmpstr (r->url, ==, url);
    g_assert_cmpstr (r->host, ==, "127.0.0.1");
    g_assert_cmpuint (r->port, ==, pm_test_hostile_get_port (portal));
    g_assert_null (r->failure);
    g_assert_null (r->location);
  }
  waiter_clear (&w);
  pm_test_hostile_stop (portal);
}

static void
test_probe (void)
{
  PmTestHostile *other = pm_test_hostile_start (dc, TRUE, portal_200, NULL);
  guint other_port = pm_test_hostile_get_port (other);
  g_autoptr(PmNetClient) client = pm_test_datacenter_client (dc, other_port, 5);
  g_autoptr(GPtrArray) results = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *funds = pm_test_datacenter_url (dc, "/funds");
  g_autofree char *check = g_strdup_printf ("http://127.0.0.1:%u/generate_204", dc->http_port);
  g_autofree char *wrong_ca = g_strdup_printf ("https://127.0.0.1:%u/funds", other_port);
  g_autofree char *off_list = g_strdup ("https://127.0.0.1:1/uploads");
  const char *services[] = { "funds", "connectivity", "uploads", "health", NULL };
  const char *urls[] = { funds, check, wrong_ca, off_list, NULL };
  PmProbeResult *r;
  Waiter w = { 0 };

  pm_connectivity_probe_async (client, services, urls, NULL, waiter_cb, &w);
  g_test_expect_message ("postmeter-net", G_LOG_LEVEL_WARNING, "*not on the allowlist*");
  pm_test_wait (&w.done);
  g_test_assert_expected_messages ();
  results = pm_connectivity_probe_finish (client, w.result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (results->len, ==, 4);

  /* The data center: every step passes; funds refuses a bare GET, which still proves the
   * path is open. */
  r = g_ptr_array_index (results, 0);
  g_assert_true (pm_probe_result_passed (r));
  g_assert_cmpstr (r->address, ==, "127.0.0.1");
  g_assert_cmpuint (r->port, ==, dc->https_port);
  g_assert_cmpuint (r->http_status, ==, 405);
  g_assert_null (r->advice);

  r = g_ptr_array_index (results, 1);
  g_assert_true (pm_probe_result_passed (r));
  g_assert_cmpint (r->outcome[PM_PROBE_STEP_TLS], ==, PM_PROBE_SKIPPED);
  g_assert_cmpuint (r->http_status, ==, 204);

  /* A server with another CA's certificate: TCP passes, TLS fails, and the advice names
   * HTTPS inspection. */
  r = g_ptr_array_index (results, 2);
  g_assert_cmpint (r->outcome[PM_PROBE_STEP_TCP], ==, PM_PROBE_PASSED);
  g_assert_cmpint (r->outcome[PM_PROBE_STEP_TLS], ==, PM_PROBE_FAILED);
  g_assert_cmpint (r->outcome[PM_PROBE_STEP_HTTP], ==, PM_PROBE_NOT_RUN);
  g_assert_nonnull (strstr (r->advice, "TLS inspection"));

  r = g_ptr_array_index (results, 3);
  g_assert_cmpint (r->outcome[PM_PROBE_STEP_ALLOWLIST], ==, PM_PROBE_FAILED);
  g_assert_cmpint (r->outcome[PM_PROBE_STEP_DNS], ==, PM_PROBE_NOT_RUN);

  waiter_clear (&w);
  pm_test_hostile_stop (other);
}

static void
test_probe_closed_port (void)
{
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autoptr(PmNetClient) client = NULL;
  g_autoptr(GPtrArray) results = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;
  const char *services[] = { "uploads", NULL };
  const char *urls[2] = { NULL, NULL };
  PmProbeResult *r;
  Waiter w = { 0 };
  guint16 port;

  /* Find a free port, then close it: nothing listens there. */
  port = g_socket_listener_add_any_inet_port (listener, NULL, &error);
  g_assert_no_error (error);
  g_socket_listener_close (listener);
  client = pm_test_datacenter_client (dc, port, 5);
  url = g_strdup_printf ("https://127.0.0.1:%u/uploads", port);
  urls[0] = url;

  pm_connectivity_probe_async (client, services, urls, NULL, waiter_cb, &w);
  pm_test_wait (&w.done);
  results = pm_connectivity_probe_finish (client, w.result, &error);
  g_assert_no_error (error);
  r = g_ptr_array_index (results, 0);
  g_assert_cmpint (r->outcome[PM_PROBE_STEP_DNS], ==, PM_PROBE_PASSED);
  g_assert_cmpint (r->outcome[PM_PROBE_STEP_TCP], ==, PM_PROBE_FAILED);
  g_assert_nonnull (strstr (r->advice, "firewall must allow outgoing TCP"));
  waiter_clear (&w);
}

/* ---- distributor ------------------------------------------------------------------- */

static void
test_distributor_authenticate (void)
{
  g_autoptr(PmNetClient) client = pm_test_datacenter_client (dc, 0, 5);
  g_autofree char *funds = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *token = NULL;
  g_autofree char *skew_text = NULL;

  g_assert_null (pm_net_client_dup_token (client));
  pm_test_datacenter_authenticate (dc, client);
  funds = pm_net_client_dup_service_url (client, PM_REMOTE_SERVICE_FUNDS);
  expected = g_strdup_printf ("https://127.0.0.1:%u/funds", dc->https_port);
  g_assert_cmpstr (funds, ==, expected);
  token = pm_net_client_dup_token (client);
  g_assert_cmpuint (strlen (token), ==, 32);

  g_assert_null (pm_distributor_describe_skew (30));
  skew_text = pm_distributor_describe_skew (-600);
  g_assert_nonnull (strstr (skew_text, "10 minutes ahead of"));
}

static void
test_distributor_wrong_key (void)
{
  g_autoptr(PmNetClient) client = pm_test_datacenter_client (dc, 0, 5);
  g_autoptr(PmSigningKey) other = pm_signing_key_generate (NULL);
  g_autoptr(PmVerifyKey) other_public = pm_signing_key_get_verify_key (other);
  g_autofree char *url = pm_test_datacenter_url (dc, "/distributor/authenticate");
  g_autoptr(PmAuthResponse) auth = NULL;
  g_autoptr(GError) error = NULL;
  PmAuthRequest request = { 0 };
  Waiter w = { 0 };

  request.psd_serial = g_strdup_printf ("%u", PM_TEST_PSD_SERIAL);
  request.certificate = pm_verify_key_to_pem (other_public);
  request.software_version = "0.1.0";
  request.model = "PMSW";
  pm_distributor_authenticate_async (client, url, &request, NULL, waiter_cb, &w);
  pm_test_wait (&w.done);
  auth = pm_distributor_authenticate_finish (client, w.result, NULL, &error);
  g_assert_error (error, PM_NET_ERROR, PM_NET_ERROR_CLIENT);
  g_assert_nonnull (strstr (error->message, "does not match the one registered"));
  g_assert_null (pm_net_client_dup_token (client));
  g_free (request.psd_serial);
  g_bytes_unref (request.certificate);
  waiter_clear (&w);
}

/* ---- funds ------------------------------------------------------------------------- */

static gboolean
balance_cb (gpointer data)
{
  PmMills *balance = data;

  pm_dc_server_get_balance (dc->server, "ACME-001", balance, NULL);
  return G_SOURCE_REMOVE;
}

static PmMills
dc_balance (void)
{
  PmMills balance = -1;

  pm_test_datacenter_call (dc, balance_cb, &balance);
  return balance;
}

static void
test_funds_refill (void)
{
  g_autoptr(PmNetClient) client = signed_in_client ();
  g_autoptr(PmFundsResponse) first = NULL;
  g_autoptr(PmFundsResponse) again = NULL;
  g_autoptr(PmFundsResponse) too_big = NULL;
  g_autoptr(PmFundsResponse) history = NULL;
  g_autoptr(GError) error = NULL;
  PmFundsRequest *request;
  PmPostageValueDownload pvd;
  PmMills before = dc_balance ();

  /* Refill $250.00 as the PSD's first refill. */
  request = refill_request (250 * PM_MILLS_PER_DOLLAR, 1);
  request->request_id = g_strdup ("refill-0001");
  first = call_funds (client, request, dc->provider_key, &error);
  g_assert_no_error (error);
  g_assert_cmpint (first->amount, ==, 250000);
  g_assert_cmpint (first->sequence, ==, 1);
  g_assert_cmpint (first->balance, ==, before - 250000);
  g_assert_true (pm_postage_value_download_verify (first->psd_message, dc->provider_key,
                                                   &pvd, &error));
  g_assert_cmpuint (pvd.psd_serial, ==, PM_TEST_PSD_SERIAL);
  g_assert_cmpuint (pvd.sequence, ==, 1);
  g_assert_cmpint (dc_balance (), ==, before - 250000);

  /* The answer was lost: the same request again gets the same refill, charged once. */
  request = refill_request (250 * PM_MILLS_PER_DOLLAR, 1);
  request->request_id = g_strdup ("refill-0001");
  again = call_funds (client, request, dc->provider_key, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (again->receipt_id, ==, first->receipt_id);
  g_assert_true (g_bytes_equal (again->psd_message, first->psd_message));
  g_assert_cmpint (dc_balance (), ==, before - 250000);

  /* Above the provider's limit: refused with the limits in words, nothing charged. */
  request = refill_request (20000 * PM_MILLS_PER_DOLLAR, 2);
  too_big = call_funds (client, request, dc->provider_key, &error);
  g_assert_error (error, PM_NET_ERROR, PM_NET_ERROR_CLIENT);
  g_assert_nonnull (strstr (error->message, "between $1.00 and $10,000.00"));
  g_assert_null (too_big);
  g_clear_error (&error);

  /* More than the account holds. */
  request = refill_request (900 * PM_MILLS_PER_DOLLAR, 2);
  too_big = call_funds (client, request, dc->provider_key, &error);
  g_assert_error (error, PM_NET_ERROR, PM_NET_ERROR_CLIENT);
  g_assert_nonnull (strstr (error->message, "does not hold $900.00"));
  g_clear_error (&error);
  g_assert_cmpint (dc_balance (), ==, before - 250000);

  /* The history lists the receipt. */
  request = g_new0 (PmFundsRequest, 1);
  request->kind = PM_FUNDS_HISTORY;
  request->psd_serial = g_strdup_printf ("%u", PM_TEST_PSD_SERIAL);
  request->amount = request->sequence = -1;
  history = call_funds (client, request, dc->provider_key, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (history->history->len, ==, 1);
  g_assert_cmpstr (((PmRefillReceipt *) g_ptr_array_index (history->history, 0))->receipt_id,
                   ==, first->receipt_id);
}

static void
test_funds_audit_and_block (void)
{
  g_autoptr(PmNetClient) client = signed_in_client ();
  g_autoptr(PmFundsResponse) answer = NULL;
  g_autoptr(PmFundsResponse) block = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(PmVerifyKey) psd_public = pm_signing_key_get_verify_key (dc->psd_key);
  PmAuditRequest audit = { 0 };
  PmAuditAnswer result;
  PmOperationalBlock ob;
  PmFundsRequest *request;
  guint8 psd_digest[32];

  audit.psd_serial = PM_TEST_PSD_SERIAL;
  audit.certificate_serial = PM_TEST_PSD_SERIAL;
  memset (audit.nonce, 7, sizeof audit.nonce);
  audit.made_at = pm_clock_now_s ();
  audit.ascending = 12345;
  audit.descending = 237655;
  audit.control_sum = 250000;
  audit.piece_count = 17;

  request = g_new0 (PmFundsRequest, 1);
  request->kind = PM_FUNDS_AUDIT;
  request->psd_serial = g_strdup_printf ("%u", PM_TEST_PSD_SERIAL);
  request->amount = request->sequence = -1;
  request->psd_message = pm_audit_request_sign (&audit, dc->psd_key, &error);
  g_assert_no_error (error);
  answer = call_funds (client, request, dc->provider_key, &error);
  g_assert_no_error (error);
  g_assert_true (pm_audit_answer_verify (answer->psd_message, dc->provider_key, &result,
                                         &error));
  g_assert_cmpuint (result.result, ==, PM_AUDIT_RESULT_ACCEPTED);
  g_assert_cmpmem (result.nonce, 16, audit.nonce, 16);
  g_assert_cmpint (answer->next_inspection, ==, result.answered_at + 90 * 24 * 3600);

  request = g_new0 (PmFundsRequest, 1);
  request->kind = PM_FUNDS_OPERATIONAL_BLOCK;
  request->psd_serial = g_strdup_printf ("%u", PM_TEST_PSD_SERIAL);
  request->amount = request->sequence = -1;
  block = call_funds (client, request, dc->provider_key, &error);
  g_assert_no_error (error);
  g_assert_true (pm_operational_block_verify (block->psd_message, dc->provider_key, &ob,
                                              &error));
  pm_psd_key_digest (psd_public, psd_digest);
  g_assert_cmpmem (ob.psd_key_digest, 32, psd_digest, 32);
  g_assert_cmpuint (ob.origin_zip, ==, 60601);
}

/* A funds server that answers refills with what the test forges. */
typedef struct
{
  guint32 sequence;
  PmMills amount;
  gboolean sign_with_other_key;
  gboolean no_message;
} ForgedRefill;

static void
forged_refill (SoupServerMessage *msg,
               const char        *path,
               gpointer           user_data)
{
  ForgedRefill *forged = user_data;
  g_autoptr(PmSigningKey) other = pm_signing_key_generate (NULL);
  g_autoptr(GBytes) body = NULL;
  PmPostageValueDownload pvd = { PM_TEST_PSD_SERIAL, forged->sequence, forged->amount,
                                 pm_clock_now_s () };
  PmFundsResponse response = { 0 };

  response.kind = PM_FUNDS_REFILL;
  response.receipt_id = (char *) "R-forged-0001";
  response.issued_at = pvd.issued_at;
  response.amount = forged->amount;
  response.sequence = forged->sequence;
  response.balance = 0;
  response.next_inspection = -1;
  if (!forged->no_message)
    response.psd_message = pm_postage_value_download_sign (&pvd, forged->sign_with_other_key ?
                                                           other : dc->provider_signing, NULL);
  body = pm_funds_response_build (&response);
  soup_server_message_set_status (msg, 200, NULL);
  soup_server_message_set_response (msg, "application/xml", SOUP_MEMORY_COPY,
                                    g_bytes_get_data (body, NULL), g_bytes_get_size (body));
  g_clear_pointer (&response.psd_message, g_bytes_unref);
}

static PmNetClient *
client_pointed_at (PmTestHostile *hostile)
{
  guint port = pm_test_hostile_get_port (hostile);
  PmNetClient *client = pm_test_datacenter_client (dc, port, 3);
  g_autofree char *base = g_strdup_printf ("https://127.0.0.1:%u", port);
  const char *urls[PM_REMOTE_SERVICE_COUNT] = { 0 };

  for (guint i = 0; i < PM_REMOTE_SERVICE_COUNT; i++)
    urls[i] = base;
  pm_net_client_set_session (client, dc->device_id, "0123456789abcdef0123", urls);
  return client;
}

static void
test_hostile_refills (void)
{
  ForgedRefill forged = { 0 };
  PmTestHostile *hostile = pm_test_hostile_start (dc, FALSE, forged_refill, &forged);
  g_autoptr(PmNetClient) client = client_pointed_at (hostile);
  struct {
    guint32 sequence;
    PmMills amount;
    gboolean other_key;
    gboolean no_message;
    int code;
    const char *words;
  } cases[] = {
    { 5, 100000, FALSE, FALSE, PM_NET_ERROR_MISMATCH, "a replay of an old refill" },
    { 7, 100000, FALSE, FALSE, PM_NET_ERROR_MISMATCH, "a refill was skipped" },
    { 6, 100000, TRUE, FALSE, PM_NET_ERROR_SIGNATURE, "not signed by the provider" },
    { 6, 100000, FALSE, TRUE, PM_NET_ERROR_SIGNATURE, "not signed by the provider" },
    { 6, 900000, FALSE, FALSE, PM_NET_ERROR_MISMATCH,
      "refill is for $900.00; it was not applied. If an earlier refill of $900.00 was "
      "charged but never reached the meter, refill exactly $900.00 to apply it" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(PmFundsResponse) response = NULL;

      forged.sequence = cases[i].sequence;
      forged.amount = cases[i].amount;
      forged.sign_with_other_key = cases[i].other_key;
      forged.no_message = cases[i].no_message;
      g_test_expect_message ("postmeter-net", G_LOG_LEVEL_WARNING, "*");
      response = call_funds (client, refill_request (100 * PM_MILLS_PER_DOLLAR, 6),
                             dc->provider_key, &error);
      g_test_assert_expected_messages ();
      g_assert_null (response);
      g_assert_error (error, PM_NET_ERROR, cases[i].code);
      g_assert_nonnull (strstr (error->message, cases[i].words));
    }

  pm_test_hostile_stop (hostile);
}

/* ---- hostile answers in general ---------------------------------------------------- */

typedef enum
{
  MODE_MALFORMED,
  MODE_ENTITIES,
  MODE_HUGE,
  MODE_500,
  MODE_404_HTML,
  MODE_REDIRECT,
  MODE_STALL,
} HostileMode;

static void
hostile_answer (SoupServerMessage *msg,
                const char        *path,
                gpointer           user_data)
{
  HostileMode mode = GPOINTER_TO_INT (user_data);
  static const char entities[] =
    "<?xml version=\"1.0\"?>\n<!DOCTYPE lol [<!ENTITY a \"aaaaaaaaaa\">"
    "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;\">]>"
    "<funds-response version=\"1\" kind=\"refill\"><receipt-id>&c;</receipt-id>"
    "</funds-response>";

  switch (mode)
    {
    case MODE_MALFORMED:
      soup_server_message_set_status (msg, 200, NULL);
      soup_server_message_set_response (msg, "application/xml", SOUP_MEMORY_STATIC,
                                        "<funds-response version=\"1\"><receipt", 36);
      break;
    case MODE_ENTITIES:
      soup_server_message_set_status (msg, 200, NULL);
      soup_server_message_set_response (msg, "application/xml", SOUP_MEMORY_STATIC,
                                        entities, strlen (entities));
      break;
    case MODE_HUGE:
      {
        gsize size = 6 * 1024 * 1024;
        char *big = g_malloc (size);

        memset (big, ' ', size);
        soup_server_message_set_status (msg, 200, NULL);
        soup_server_message_set_response (msg, "application/xml", SOUP_MEMORY_TAKE, big, size);
      }
      break;
    case MODE_500:
      soup_server_message_set_status (msg, 500, NULL);
      break;
    case MODE_404_HTML:
      soup_server_message_set_status (msg, 404, NULL);
      soup_server_message_set_response (msg, "text/html", SOUP_MEMORY_STATIC,
                                        "<html>blocked by policy</html>", 30);
      break;
    case MODE_REDIRECT:
      soup_server_message_set_redirect (msg, 302, "https://portal.example/login");
      break;
    case MODE_STALL:
      /* Never answered: the client's timeout must end it. */
      soup_server_message_pause (msg);
      break;
    }
}

static void
test_hostile_answers (void)
{
  struct {
    HostileMode mode;
    GQuark domain;
    int code;
    const char *words;
  } cases[] = {
    { MODE_MALFORMED, 0, PM_NET_ERROR_PROTOCOL, "not well-formed" },
    { MODE_ENTITIES, 0, PM_NET_ERROR_PROTOCOL, "refused unread" },
    { MODE_HUGE, 0, PM_NET_ERROR_TOO_LARGE, "reading stopped" },
    { MODE_500, 0, PM_NET_ERROR_SERVER, "answered 500" },
    { MODE_404_HTML, 0, PM_NET_ERROR_CLIENT, "a proxy or filter may be answering" },
    { MODE_REDIRECT, 0, PM_NET_ERROR_REDIRECT, "portal.example" },
    { MODE_STALL, 0, PM_NET_ERROR_TIMEOUT, "stopped answering" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      PmTestHostile *hostile = pm_test_hostile_start (dc, FALSE, hostile_answer,
                                                      GINT_TO_POINTER (cases[i].mode));
      g_autoptr(PmNetClient) client = client_pointed_at (hostile);
      g_autoptr(GError) error = NULL;
      g_autoptr(PmFundsResponse) response = NULL;

      response = call_funds (client, refill_request (100 * PM_MILLS_PER_DOLLAR, 1),
                             dc->provider_key, &error);
      g_assert_null (response);
      g_assert_error (error, PM_NET_ERROR, cases[i].code);
      if (strstr (error->message, cases[i].words) == NULL)
        g_error ("case %u: “%s” lacks “%s”", i, error->message, cases[i].words);
      g_clear_object (&client);
      pm_test_hostile_stop (hostile);
    }
}

static void
test_hostile_other_ca (void)
{
  PmTestHostile *hostile = pm_test_hostile_start (dc, TRUE, portal_200, NULL);
  g_autoptr(PmNetClient) client = client_pointed_at (hostile);
  g_autoptr(GError) error = NULL;
  g_autoptr(PmFundsResponse) response = NULL;

  response = call_funds (client, refill_request (100 * PM_MILLS_PER_DOLLAR, 1),
                         dc->provider_key, &error);
  g_assert_null (response);
  g_assert_error (error, PM_NET_ERROR, PM_NET_ERROR_TLS);
  g_assert_nonnull (strstr (error->message, "inspects HTTPS"));
  g_clear_object (&client);
  pm_test_hostile_stop (hostile);
}

/* ---- uploads ----------------------------------------------------------------------- */

static PmWireBatch *
make_batch (const char *batch_id,
            gint64      first,
            gint64      count)
{
  PmWireBatch *batch = pm_wire_batch_new (batch_id, dc->device_id);

  for (gint64 seq = first; seq < first + count; seq++)
    {
      guint8 payload[96];
      g_autoptr(GBytes) bytes = NULL;

      for (guint i = 0; i < sizeof payload; i++)
        payload[i] = (guint8) (i < 32 ? (seq >> (i % 8)) : g_random_int ());
      bytes = g_bytes_new (payload, sizeof payload);
      g_ptr_array_add (batch->records, pm_upload_record_new (seq, 1764000000 + seq, NULL,
                                                             bytes));
    }
  return batch;
}

static PmWireReceipt *
send_batch (PmNetClient *client,
            const char  *batch_id,
            GBytes      *sealed,
            gint64       first,
            gint64       last,
            GError     **error)
{
  Waiter w = { 0 };
  PmWireReceipt *receipt;

  pm_uploads_send_async (client, batch_id, sealed, first, last, dc->provider_key, NULL,
                         waiter_cb, &w);
  pm_test_wait (&w.done);
  receipt = pm_uploads_send_finish (client, w.result, error);
  waiter_clear (&w);
  return receipt;
}

typedef struct
{
  gint64 count, min, max, batches;
} Counts;

static gboolean
count_cb (gpointer data)
{
  Counts *c = data;

  c->count = pm_dc_server_count_records (dc->server, dc->device_id, &c->min, &c->max);
  c->batches = pm_dc_server_count_batches (dc->server, dc->device_id);
  return G_SOURCE_REMOVE;
}

static void
test_uploads_dedup (void)
{
  g_autoptr(PmNetClient) client = signed_in_client ();
  g_autoptr(PmWireBatch) batch = make_batch ("b-000001", 1, 100);
  g_autoptr(PmWireBatch) overlap = make_batch ("b-000002", 51, 100);
  g_autoptr(GBytes) sealed = pm_wire_batch_seal (batch, NULL);
  g_autoptr(GBytes) sealed2 = pm_wire_batch_seal (overlap, NULL);
  g_autoptr(PmWireReceipt) first = NULL;
  g_autoptr(PmWireReceipt) again = NULL;
  g_autoptr(PmWireReceipt) third = NULL;
  g_autoptr(GError) error = NULL;
  Counts c;

  first = send_batch (client, "b-000001", sealed, 1, 100, &error);
  g_assert_no_error (error);
  g_assert_cmpint (first->count, ==, 100);
  g_assert_cmpint (first->highest_contiguous_seq, ==, 100);

  /* Resent unchanged: the same receipt, nothing stored twice. */
  again = send_batch (client, "b-000001", sealed, 1, 100, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (again->receipt_id, ==, first->receipt_id);

  /* The same key with other bytes is refused. */
  third = send_batch (client, "b-000001", sealed2, 51, 150, &error);
  g_assert_error (error, PM_NET_ERROR, PM_NET_ERROR_CLIENT);
  g_assert_nonnull (strstr (error->message, "already used for different contents"));
  g_clear_error (&error);

  /* Records 51..100 again under a new batch: kept once. */
  third = send_batch (client, "b-000002", sealed2, 51, 150, &error);
  g_assert_no_error (error);
  g_assert_cmpint (third->highest_contiguous_seq, ==, 150);

  pm_test_datacenter_call (dc, count_cb, &c);
  g_assert_cmpint (c.count, ==, 150);
  g_assert_cmpint (c.min, ==, 1);
  g_assert_cmpint (c.max, ==, 150);
}

static void
wrong_receipt (SoupServerMessage *msg,
               const char        *path,
               gpointer           user_data)
{
  PmWireReceipt r = { 0 };
  g_autoptr(GBytes) text = NULL;
  g_autoptr(GBytes) body = NULL;

  /* Properly signed, but for records 1..99 of the batch of 100. */
  r.receipt_id = (char *) "U-1";
  r.batch_id = (char *) "b-hostile";
  r.device_id = dc->device_id;
  r.first_seq = 1;
  r.last_seq = 99;
  r.count = 99;
  r.sha256 = user_data;
  r.highest_contiguous_seq = 99;
  r.received_at = 1;
  text = pm_wire_receipt_signed_text (&r);
  pm_signing_key_sign (dc->provider_signing, g_bytes_get_data (text, NULL),
                       g_bytes_get_size (text), r.signature, NULL);
  body = pm_wire_receipt_build (&r);
  soup_server_message_set_status (msg, 200, NULL);
  soup_server_message_set_response (msg, "application/xml", SOUP_MEMORY_COPY,
                                    g_bytes_get_data (body, NULL), g_bytes_get_size (body));
}

static void
test_uploads_mismatched_receipt (void)
{
  g_autoptr(PmWireBatch) batch = make_batch ("b-hostile", 1, 100);
  g_autoptr(GBytes) sealed = pm_wire_batch_seal (batch, NULL);
  g_autofree char *sha = pm_protocol_sha256_hex (sealed);
  PmTestHostile *hostile = pm_test_hostile_start (dc, FALSE, wrong_receipt, sha);
  g_autoptr(PmNetClient) client = client_pointed_at (hostile);
  g_autoptr(PmWireReceipt) receipt = NULL;
  g_autoptr(GError) error = NULL;

  g_test_expect_message ("postmeter-net", G_LOG_LEVEL_WARNING, "*does not match batch*");
  receipt = send_batch (client, "b-hostile", sealed, 1, 100, &error);
  g_test_assert_expected_messages ();
  g_assert_null (receipt);
  g_assert_error (error, PM_NET_ERROR, PM_NET_ERROR_MISMATCH);
  g_assert_true (pm_net_error_is_retryable (error));
  g_clear_object (&client);
  pm_test_hostile_stop (hostile);
}

/* A day of 5,000 pieces through a 384 kbit/s link that is cut at six random points (on the
 * way up mid-batch, or on the way down before the receipt arrives): every batch is resent
 * unchanged until its receipt matches, and the data center holds every record once. About
 * 10 s on the build machine. */
static void
test_uploads_throttled_with_cuts (gconstpointer data)
{
  gint64 total = GPOINTER_TO_INT (data);
  const gint64 per_batch = 500;
  PmTestRelay *relay = pm_test_relay_start (dc->https_port, 384000 / 8, 6, 30000,
                                            g_test_rand_int ());
  g_autoptr(PmNetClient) client = pm_test_datacenter_client (dc, pm_test_relay_get_port (relay),
                                                             15);
  g_autofree char *relay_base = g_strdup_printf ("https://127.0.0.1:%u/uploads",
                                                 pm_test_relay_get_port (relay));
  const char *urls[PM_REMOTE_SERVICE_COUNT] = { 0 };
  g_autofree char *token = NULL;
  Counts before, after;
  gint64 start_seq;
  guint attempts = 0;

  pm_test_datacenter_authenticate (dc, client);
  token = pm_net_client_dup_token (client);
  urls[PM_REMOTE_SERVICE_UPLOADS] = relay_base;
  pm_net_client_set_session (client, dc->device_id, token, urls);
  pm_test_datacenter_call (dc, count_cb, &before);
  start_seq = before.max + 1;

  for (gint64 first = start_seq; first < start_seq + total; first += per_batch)
    {
      g_autofree char *id = g_strdup_printf ("t-%08" G_GINT64_FORMAT, first);
      g_autoptr(PmWireBatch) batch = make_batch (id, first, per_batch);
      g_autoptr(GBytes) sealed = pm_wire_batch_seal (batch, NULL);

      /* Resend the same sealed bytes until a matching receipt arrives. */
      for (;;)
        {
          g_autoptr(GError) error = NULL;
          g_autoptr(PmWireReceipt) receipt = NULL;

          attempts++;
          g_assert_cmpuint (attempts, <, 100);
          receipt = send_batch (client, id, sealed, first, first + per_batch - 1, &error);
          if (receipt != NULL)
            break;
          g_test_message ("batch %s: %s; sending it again", id, error->message);
          g_assert_true (pm_net_error_is_retryable (error));
        }
    }

  pm_test_datacenter_call (dc, count_cb, &after);
  g_assert_cmpint (after.count - before.count, ==, total);
  g_assert_cmpint (after.max, ==, start_seq + total - 1);
  g_test_message ("%u attempts, %u cuts, %" G_GUINT64_FORMAT " bytes up (%.0f per record)",
                  attempts, pm_test_relay_cuts (relay), pm_test_relay_bytes_up (relay),
                  (double) pm_test_relay_bytes_up (relay) / (double) total);
  g_assert_cmpuint (pm_test_relay_cuts (relay), >=, 1);
  g_clear_object (&client);
  pm_test_relay_stop (relay);
}

/* ---- downloads --------------------------------------------------------------------- */

typedef struct
{
  const char *file;
  const char *effective;
  gint64      version;
} Publish;

static gboolean
publish_cb (gpointer data)
{
  Publish *p = data;
  g_autoptr(GError) error = NULL;

  pm_dc_server_publish_package (dc->server, p->file, "rates", "usps-domestic", p->version,
                                p->effective, &error);
  g_assert_no_error (error);
  return G_SOURCE_REMOVE;
}

static void
progress_cb (gint64   received,
             gint64   total,
             gpointer user_data)
{
  gint64 *last = user_data;

  g_assert_cmpint (received, >, *last);
  *last = received;
}

static void
test_downloads (void)
{
  g_autoptr(PmNetClient) client = signed_in_client ();
  g_autofree char *work = test_make_dir ("pm-downloads");
  g_autofree char *source = g_build_filename (work, "rates.xml", NULL);
  g_autofree char *staging = g_build_filename (work, "staging", NULL);
  g_autofree char *installed = g_build_filename (work, "installed", NULL);
  g_autofree char *part = NULL;
  g_autofree char *staged = NULL;
  g_autofree char *content = NULL;
  g_autofree char *in_force = NULL;
  g_autoptr(GString) package = g_string_new ("<rates>");
  g_autoptr(PmManifest) manifest = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GDate) day = NULL;
  PmManifestPackage *p = NULL;
  Publish publish = { NULL, "2026-07-12", 3 };
  PmPackagePolicy policy = { 0 };
  g_autoptr(GBytes) loaded = NULL;
  g_autoptr(PmPackageInfo) info = NULL;
  gint64 last_progress = 0;
  Waiter w = { 0 };

  for (int i = 0; i < 4000; i++)
    g_string_append_printf (package, "<price oz=\"%d\" mills=\"%d\"/>", i, 730 + i * 280);
  g_string_append (package, "</rates>");
  g_file_set_contents (source, package->str, (gssize) package->len, &error);
  g_assert_no_error (error);
  publish.file = source;
  pm_test_datacenter_call (dc, publish_cb, &publish);

  pm_downloads_fetch_manifest_async (client, dc->provider_key, "PMSW", "US", NULL, waiter_cb,
                                     &w);
  pm_test_wait (&w.done);
  manifest = pm_downloads_fetch_manifest_finish (client, w.result, &error);
  g_assert_no_error (error);
  waiter_clear (&w);
  for (guint i = 0; i < manifest->packages->len; i++)
    if (g_strcmp0 (((PmManifestPackage *) manifest->packages->pdata[i])->name,
                   "usps-domestic") == 0)
      p = manifest->packages->pdata[i];
  g_assert_nonnull (p);
  g_assert_cmpint (p->length, ==, package->len);
  g_assert_cmpint (p->version, ==, 3);

  /* Not newer than the installed version: refused without a download. */
  pm_downloads_fetch_package_async (client, p, dc->provider_key, staging, 3, NULL, NULL, NULL,
                                    waiter_cb, &w);
  pm_test_wait (&w.done);
  staged = pm_downloads_fetch_package_finish (client, w.result, &error);
  g_assert_error (error, PM_NET_ERROR, PM_NET_ERROR_STALE);
  g_clear_error (&error);
  waiter_clear (&w);

  /* An earlier attempt left the first 10,000 bytes: the fetch resumes from there. */
  g_mkdir_with_parents (staging, 0700);
  part = g_strdup_printf ("%s/rates-usps-domestic-3.part", staging);
  g_file_set_contents (part, package->str, 10000, &error);
  g_assert_no_error (error);
  pm_downloads_fetch_package_async (client, p, dc->provider_key, staging, 2, progress_cb,
                                    &last_progress, NULL, waiter_cb, &w);
  pm_test_wait (&w.done);
  staged = pm_downloads_fetch_package_finish (client, w.result, &error);
  g_assert_no_error (error);
  waiter_clear (&w);
  g_assert_cmpint (last_progress, ==, (gint64) package->len - 10000);
  g_assert_false (g_file_test (part, G_FILE_TEST_EXISTS));

  pm_downloads_install (p, staged, installed, &error);
  g_assert_no_error (error);
  in_force = pm_downloads_get_installed_path (installed, "rates", "usps-domestic");
  g_file_get_contents (in_force, &content, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (content, ==, package->str);

  /* What is in force loads and verifies with the package code, signature and all. */
  policy.content_type = PM_PACKAGE_CONTENT_TYPE_RATES;
  policy.name = "usps-domestic";
  loaded = pm_package_load_file (in_force, dc->provider_key, &policy, &info, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (info->version, ==, 3);
  g_assert_cmpuint (g_bytes_get_size (loaded), ==, package->len);

  day = g_date_new_dmy (11, 7, 2026);
  g_assert_false (pm_downloads_is_in_effect (p, day));
  g_date_add_days (day, 1);
  g_assert_true (pm_downloads_is_in_effect (p, day));

  pm_downloads_confirm_async (client, p, TRUE, NULL, NULL, waiter_cb, &w);
  pm_test_wait (&w.done);
  g_assert_true (pm_downloads_confirm_finish (client, w.result, &error));
  g_assert_no_error (error);
  waiter_clear (&w);
}

static void
bad_manifest (SoupServerMessage *msg,
              const char        *path,
              gpointer           user_data)
{
  PmManifest manifest = { 1, pm_clock_now_s (), pm_clock_now_s () + 3600, (char *) "PMSW",
                          (char *) "US", NULL };
  g_autoptr(GBytes) body = pm_manifest_build (&manifest);
  g_autoptr(PmSigningKey) other = pm_signing_key_generate (NULL);
  g_autoptr(GBytes) answer = NULL;
  guint8 signature[64];

  pm_signing_key_sign (other, g_bytes_get_data (body, NULL), g_bytes_get_size (body),
                       signature, NULL);
  answer = pm_signed_manifest_build (body, signature);
  soup_server_message_set_status (msg, 200, NULL);
  soup_server_message_set_response (msg, "application/xml", SOUP_MEMORY_COPY,
                                    g_bytes_get_data (answer, NULL), g_bytes_get_size (answer));
}

static void
test_downloads_bad_signature (void)
{
  PmTestHostile *hostile = pm_test_hostile_start (dc, FALSE, bad_manifest, NULL);
  g_autoptr(PmNetClient) client = client_pointed_at (hostile);
  g_autoptr(PmManifest) manifest = NULL;
  g_autoptr(GError) error = NULL;
  Waiter w = { 0 };

  pm_downloads_fetch_manifest_async (client, dc->provider_key, "PMSW", "US", NULL, waiter_cb,
                                     &w);
  pm_test_wait (&w.done);
  manifest = pm_downloads_fetch_manifest_finish (client, w.result, &error);
  g_assert_null (manifest);
  g_assert_error (error, PM_NET_ERROR, PM_NET_ERROR_SIGNATURE);
  g_assert_nonnull (strstr (error->message, "installed packages stay in force"));
  waiter_clear (&w);
  g_clear_object (&client);
  pm_test_hostile_stop (hostile);
}

/* The signed list describes one package; the server sends other bytes of the same length. */
static void
swapped_package (SoupServerMessage *msg,
                 const char        *path,
                 gpointer           user_data)
{
  static const char good[] = "<rates>the provider's prices</rates>";
  static const char evil[] = "<rates>an attacker's prices!</rates>";

  gboolean forged_signature = GPOINTER_TO_INT (user_data);

  if (g_str_has_suffix (path, ".sig"))
    {
      g_autoptr(PmSigningKey) other = pm_signing_key_generate (NULL);
      g_autoptr(GBytes) content = g_bytes_new_static (good, sizeof good - 1);
      g_autoptr(GBytes) sig = pm_package_sign (other, "usps-domestic",
                                               PM_PACKAGE_CONTENT_TYPE_RATES, 9,
                                               pm_clock_now_s () + 3600, content, NULL);

      soup_server_message_set_status (msg, 200, NULL);
      soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_COPY,
                                        g_bytes_get_data (sig, NULL), g_bytes_get_size (sig));
      return;
    }
  if (g_str_has_suffix (path, "/manifest"))
    {
      g_autoptr(PmManifest) manifest = g_new0 (PmManifest, 1);
      PmManifestPackage *p = g_new0 (PmManifestPackage, 1);
      g_autoptr(GBytes) body = NULL;
      g_autoptr(GBytes) answer = NULL;
      guint8 signature[64];

      manifest->serial = 2;
      manifest->issued_at = pm_clock_now_s ();
      manifest->expires_at = manifest->issued_at + 3600;
      manifest->model = g_strdup ("PMSW");
      manifest->authority = g_strdup ("US");
      manifest->packages = g_ptr_array_new_with_free_func (
        (GDestroyNotify) pm_manifest_package_free);
      p->type = g_strdup ("rates");
      p->name = g_strdup ("usps-domestic");
      p->version = 9;
      p->length = sizeof good - 1;
      p->sha256 = g_compute_checksum_for_string (G_CHECKSUM_SHA256, good, -1);
      p->path = g_strdup ("/downloads/packages/rates-usps-domestic-9");
      g_ptr_array_add (manifest->packages, p);
      body = pm_manifest_build (manifest);
      pm_signing_key_sign (dc->provider_signing, g_bytes_get_data (body, NULL),
                           g_bytes_get_size (body), signature, NULL);
      answer = pm_signed_manifest_build (body, signature);
      soup_server_message_set_status (msg, 200, NULL);
      soup_server_message_set_response (msg, "application/xml", SOUP_MEMORY_COPY,
                                        g_bytes_get_data (answer, NULL),
                                        g_bytes_get_size (answer));
      return;
    }
  g_assert_cmpuint (sizeof good, ==, sizeof evil);
  soup_server_message_set_status (msg, 200, NULL);
  soup_server_message_set_response (msg, "application/octet-stream", SOUP_MEMORY_STATIC,
                                    forged_signature ? good : evil, sizeof evil - 1);
}

/* data: TRUE for the right bytes with a signature file from another key, FALSE for other
 * bytes than the signed list describes. */
static void
test_downloads_swapped_package (gconstpointer test_data)
{
  gboolean forged_signature = GPOINTER_TO_INT (test_data);
  int expected;
  PmTestHostile *hostile = pm_test_hostile_start (dc, FALSE, swapped_package,
                                                  GINT_TO_POINTER (forged_signature));
  g_autoptr(PmNetClient) client = client_pointed_at (hostile);
  g_autofree char *staging = test_make_dir ("pm-swapped");
  g_autofree char *staged = NULL;
  g_autoptr(PmManifest) manifest = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) dir = NULL;
  Waiter w = { 0 };

  pm_downloads_fetch_manifest_async (client, dc->provider_key, "PMSW", "US", NULL, waiter_cb,
                                     &w);
  pm_test_wait (&w.done);
  manifest = pm_downloads_fetch_manifest_finish (client, w.result, &error);
  g_assert_no_error (error);
  waiter_clear (&w);

  pm_downloads_fetch_package_async (client, manifest->packages->pdata[0], dc->provider_key,
                                    staging, 8, NULL, NULL, NULL, waiter_cb, &w);
  pm_test_wait (&w.done);
  staged = pm_downloads_fetch_package_finish (client, w.result, &error);
  g_assert_null (staged);
  expected = forged_signature ? PM_NET_ERROR_SIGNATURE : PM_NET_ERROR_MISMATCH;
  g_assert_error (error, PM_NET_ERROR, expected);
  g_assert_nonnull (strstr (error->message, "installed one stays in force"));
  waiter_clear (&w);

  /* Nothing is left in the staging folder to be installed by mistake. */
  dir = g_dir_open (staging, 0, NULL);
  g_assert_null (g_dir_read_name (dir));

  g_clear_object (&client);
  pm_test_hostile_stop (hostile);
}

/* ---- accounting and health --------------------------------------------------------- */

static PmWireAccount *
account (const char *id,
         const char *name,
         gint64      revision)
{
  PmWireAccount *a = g_new0 (PmWireAccount, 1);

  a->id = g_strdup (id);
  a->name = g_strdup (name);
  a->active = TRUE;
  a->revision = revision;
  return a;
}

static void
test_accounting (void)
{
  g_autoptr(PmNetClient) client = signed_in_client ();
  g_autoptr(PmAccountsSync) local = pm_accounts_sync_new (NULL);
  g_autoptr(PmAccountsSync) remote = NULL;
  g_autoptr(PmAccountsSync) local2 = pm_accounts_sync_new (NULL);
  g_autoptr(PmAccountsSync) remote2 = NULL;
  g_autoptr(GPtrArray) merged = NULL;
  g_autoptr(GError) error = NULL;
  PmAccountUsage *usage = g_new0 (PmAccountUsage, 1);
  Waiter w = { 0 };

  g_ptr_array_add (local->accounts, account ("LEGAL", "Legal", 2));
  g_ptr_array_add (local->accounts, account ("HR", "Human resources", 1));
  usage->account = g_strdup ("LEGAL");
  usage->date = g_date_new_dmy (3, 12, 2026);
  usage->pieces = 12;
  usage->postage = 8760;
  g_ptr_array_add (local->usage, usage);

  pm_accounting_sync_async (client, local, NULL, waiter_cb, &w);
  pm_test_wait (&w.done);
  remote = pm_accounting_sync_finish (client, w.result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (remote->accounts->len, ==, 2);
  waiter_clear (&w);

  /* An older revision from another machine does not overwrite; a tie keeps the data
   * center's copy. */
  g_ptr_array_add (local2->accounts, account ("LEGAL", "Legal (old)", 1));
  g_ptr_array_add (local2->accounts, account ("HR", "HR renamed on a tie", 1));
  pm_accounting_sync_async (client, local2, NULL, waiter_cb, &w);
  pm_test_wait (&w.done);
  remote2 = pm_accounting_sync_finish (client, w.result, &error);
  g_assert_no_error (error);
  waiter_clear (&w);
  merged = pm_accounting_merge (local2->accounts, remote2->accounts);
  g_assert_cmpuint (merged->len, ==, 2);
  g_assert_cmpstr (((PmWireAccount *) merged->pdata[0])->name, ==, "Legal");
  g_assert_cmpstr (((PmWireAccount *) merged->pdata[1])->name, ==, "Human resources");
}

static void
test_health (void)
{
  g_autoptr(PmNetClient) client = signed_in_client ();
  g_autoptr(PmHealthRecord) record = pm_health_record_new (dc->device_id);
  g_autoptr(GError) error = NULL;
  int percent = 35;
  Waiter w = { 0 };

  record->taken_at = 1764770000;
  record->uptime_s = 86400;
  record->disk_free_bytes = 12000000000;
  record->disk_total_bytes = 32000000000;
  record->errors_24h = 2;
  g_free (record->psd_state);
  record->psd_state = g_strdup ("ready");
  g_ptr_array_add (record->supply_names, g_strdup ("ink"));
  g_array_append_val (record->supply_percent, percent);

  pm_health_put_async (client, record, NULL, waiter_cb, &w);
  pm_test_wait (&w.done);
  g_assert_true (pm_health_put_finish (client, w.result, &error));
  g_assert_no_error (error);
  waiter_clear (&w);
}

static void
test_uploads_due (void)
{
  const gint64 now = 1764770000, h = 3600;
  struct {
    gint64 oldest, last;
    PmUploadsDue due;
    const char *words;
  } cases[] = {
    { -1, -1, PM_UPLOADS_UP_TO_DATE, "All postage records are uploaded" },
    { now - h, now - 2 * h, PM_UPLOADS_UP_TO_DATE, "on schedule" },
    { now - h, -1, PM_UPLOADS_DUE, "is due" },
    { now - 25 * h, now - 24 * h, PM_UPLOADS_DUE, "is due" },
    { now - 72 * h, now - 30 * h, PM_UPLOADS_DUE, "is due" },          /* exactly 3 days */
    { now - 72 * h - 1, now - 30 * h, PM_UPLOADS_OVERDUE, "from 3 days ago" },
    { now - 100 * h, now - h, PM_UPLOADS_OVERDUE, "from 4 days ago" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *words = NULL;

      g_assert_cmpint (pm_uploads_get_due (now, cases[i].oldest, cases[i].last, &words), ==,
                       cases[i].due);
      g_assert_nonnull (strstr (words, cases[i].words));
    }
}

/* ---- retry policy ------------------------------------------------------------------ */

static void
test_retry_delay (void)
{
  for (guint attempt = 1; attempt < 30; attempt++)
    {
      guint64 full = MIN ((guint64) 500 << MIN (attempt - 1, 19), 300000);
      guint delay = pm_net_retry_delay_ms (attempt);

      g_assert_cmpuint (delay, >=, full / 2);
      g_assert_cmpuint (delay, <=, full);
    }
}

int
main (int    argc,
      char **argv)
{
  int status;

  g_setenv ("SOUP_FORCE_HTTP1", "1", TRUE);
  /* The isolated test folders hold no desktop proxy settings; loopback needs no proxy. */
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  dc = pm_test_datacenter_start ("127.0.0.1");

  g_test_add_func ("/net/client/allowlist/refused-before-connect",
                   test_allowlist_refused_before_connect);
  g_test_add_func ("/net/client/retry-delay", test_retry_delay);
  g_test_add_func ("/net/client/errors", test_client_errors);
  g_test_add_func ("/net/client/answer-on-caller-context", test_answer_on_caller_context);
  g_test_add_func ("/net/connectivity/check/204", test_connectivity_check);
  g_test_add_func ("/net/connectivity/check/portal-200", test_connectivity_portal);
  g_test_add_func ("/net/connectivity/probe/services", test_probe);
  g_test_add_func ("/net/connectivity/probe/closed-port", test_probe_closed_port);
  g_test_add_func ("/net/distributor/authenticate", test_distributor_authenticate);
  g_test_add_func ("/net/distributor/wrong-key", test_distributor_wrong_key);
  g_test_add_func ("/net/funds/refill", test_funds_refill);
  g_test_add_func ("/net/funds/audit-and-block", test_funds_audit_and_block);
  g_test_add_func ("/net/funds/hostile-refills", test_hostile_refills);
  g_test_add_func ("/net/hostile/answers", test_hostile_answers);
  g_test_add_func ("/net/hostile/other-ca", test_hostile_other_ca);
  g_test_add_func ("/net/uploads/dedup", test_uploads_dedup);
  g_test_add_func ("/net/uploads/mismatched-receipt", test_uploads_mismatched_receipt);
  g_test_add_func ("/net/uploads/due", test_uploads_due);
  g_test_add_data_func ("/net/uploads/throttled-with-cuts/5000", GINT_TO_POINTER (5000),
                        test_uploads_throttled_with_cuts);
  g_test_add_func ("/net/downloads/fetch-resume-install", test_downloads);
  g_test_add_func ("/net/downloads/bad-signature", test_downloads_bad_signature);
  g_test_add_data_func ("/net/downloads/swapped-package", GINT_TO_POINTER (FALSE),
                        test_downloads_swapped_package);
  g_test_add_data_func ("/net/downloads/foreign-signature", GINT_TO_POINTER (TRUE),
                        test_downloads_swapped_package);
  g_test_add_func ("/net/accounting/sync-and-merge", test_accounting);
  g_test_add_func ("/net/health/put", test_health);

  status = g_test_run ();
  pm_test_datacenter_stop (dc);
  return status;
}
