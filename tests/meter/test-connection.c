/* test-connection.c: the data center workflows end to end, with a software PSD, a real
 * store and the reference data center on loopback over TLS. */
#include <string.h>

#include <glib/gstdio.h>

#include "pm-clock.h"
#include "pm-connection.h"
#include "pm-download-flow.h"
#include "pm-funds-flow.h"
#include "pm-log.h"
#include "pm-psd-message.h"
#include "pm-software-psd.h"
#include "pm-store-outbox.h"
#include "pm-store-records.h"
#include "pm-test-datacenter.h"
#include "pm-upload-flow.h"

#define METER_PSD_SERIAL 4200001
#define METER_ACCOUNT    "ACME-METER"

static PmTestDatacenter *dc;

typedef struct
{
  char         *dir;
  PmSoftwarePsd *psd;
  PmStore      *store;
  PmConnection *connection;
  char         *device_id;
} Meter;

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

#define WAIT(w) G_STMT_START { pm_test_wait (&(w).done); } G_STMT_END

static void
waiter_clear (Waiter *w)
{
  g_clear_object (&w->result);
  w->done = FALSE;
}

typedef struct
{
  guint32  serial;
  char    *pem;
  char    *device_id;
  PmMills  fund;
} Register;

static gboolean
register_cb (gpointer data)
{
  Register *r = data;
  g_autoptr(GError) error = NULL;

  pm_dc_server_register_device (dc->server, r->serial, r->pem, METER_ACCOUNT, 60601,
                                &r->device_id, &error);
  g_assert_no_error (error);
  if (r->fund > 0)
    {
      pm_dc_server_fund_account (dc->server, METER_ACCOUNT, r->fund, NULL, &error);
      g_assert_no_error (error);
    }
  return G_SOURCE_REMOVE;
}

typedef struct
{
  const char *account;
  PmMills     balance;
} Balance;

static gboolean
balance_cb (gpointer data)
{
  Balance *b = data;

  g_assert_true (pm_dc_server_get_balance (dc->server, b->account, &b->balance, NULL));
  return G_SOURCE_REMOVE;
}

static PmMills
datacenter_balance (void)
{
  Balance b = { METER_ACCOUNT, -1 };

  pm_test_datacenter_call (dc, balance_cb, &b);
  return b.balance;
}

static PmConnectionConfig
config_for (const char *dir,
            const char *datacenter_url,
            const char *check_url)
{
  PmConnectionConfig config = { 0 };
  g_autofree char *base = pm_test_datacenter_url (dc, "");

  config.datacenter_url = g_strdup (datacenter_url != NULL ? datacenter_url : base);
  config.connectivity_url = check_url != NULL ? g_strdup (check_url)
                                              : g_strdup_printf ("http://127.0.0.1:%u/"
                                                                 "generate_204",
                                                                 dc->http_port);
  config.ca_file = g_strdup (dc->ca_file);
  config.provider_key_file = g_build_filename (dc->directory, "provider.pub.pem", NULL);
  config.install_dir = g_build_filename (dir, "packages", NULL);
  config.timeout_s = 15;
  config.audit_at_every_refill = TRUE;
  return config;
}

/* A new machine: a software PSD of its own registered with the data center, a store and a
 * connection. fund: what goes into the customer account first; check_url: the
 * connectivity check's address, NULL for the data center's own. */
static Meter *
meter_new_full (guint32     serial,
                PmMills     fund,
                const char *datacenter_url,
                const char *check_url,
                gboolean    registered)
{
  Meter *m = g_new0 (Meter, 1);
  g_autoptr(GError) error = NULL;
  g_autofree char *psd_dir = NULL;
  g_autofree char *store_path = NULL;
  g_autoptr(PmVerifyKey) key = NULL;
  g_autoptr(GBytes) pem = NULL;
  PmConnectionConfig config;
  Register r = { serial, NULL, NULL, fund };

  m->dir = g_dir_make_tmp ("pm-meter-XXXXXX", &error);
  g_assert_no_error (error);
  psd_dir = g_build_filename (m->dir, "psd", NULL);
  g_assert_cmpint (g_mkdir_with_parents (psd_dir, 0700), ==, 0);
  m->psd = pm_software_psd_open (psd_dir, dc->provider_key, serial, &error);
  g_assert_no_error (error);
  store_path = g_build_filename (m->dir, "postmeter.db", NULL);
  m->store = pm_store_open (store_path, &error);
  g_assert_no_error (error);

  key = pm_psd_get_public_key (PM_PSD (m->psd));
  pem = pm_verify_key_to_pem (key);
  r.pem = g_strndup (g_bytes_get_data (pem, NULL), g_bytes_get_size (pem));
  if (registered)
    pm_test_datacenter_call (dc, register_cb, &r);
  m->device_id = r.device_id;
  g_free (r.pem);

  config = config_for (m->dir, datacenter_url, check_url);
  m->connection = pm_connection_new (&config, PM_PSD (m->psd), m->store, &error);
  g_assert_no_error (error);
  pm_connection_config_clear (&config);
  return m;
}

static Meter *
meter_new (guint32     serial,
           PmMills     fund,
           const char *datacenter_url)
{
  return meter_new_full (serial, fund, datacenter_url, NULL, TRUE);
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

static void
meter_free (Meter *m)
{
  g_clear_object (&m->connection);
  pm_store_close (m->store);
  g_clear_object (&m->store);
  g_clear_object (&m->psd);
  remove_tree (m->dir);
  g_free (m->dir);
  g_free (m->device_id);
  g_free (m);
}

static PmPsdStatus *
install_block (Meter *m)
{
  Waiter w = { 0 };
  g_autoptr(GError) error = NULL;
  PmPsdStatus *status;

  pm_funds_flow_install_block_async (m->connection, NULL, waiter_cb, &w);
  WAIT (w);
  status = pm_funds_flow_install_block_finish (m->connection, w.result, &error);
  g_assert_no_error (error);
  waiter_clear (&w);
  return status;
}

static PmRefillOutcome *
refill (Meter   *m,
        PmMills  amount,
        GError **error)
{
  Waiter w = { 0 };
  PmRefillOutcome *outcome;

  pm_funds_flow_refill_async (m->connection, amount, NULL, waiter_cb, &w);
  WAIT (w);
  outcome = pm_funds_flow_refill_finish (m->connection, w.result, error);
  waiter_clear (&w);
  return outcome;
}

static PmPsdStatus *
psd_status (Meter *m)
{
  g_autoptr(GError) error = NULL;
  PmPsdStatus *status = pm_psd_get_status_sync (PM_PSD (m->psd), &error);

  g_assert_no_error (error);
  return status;
}

/* ---- funds ---------------------------------------------------------------------------- */

static void
test_install_refill_inspect (void)
{
  Meter *m = meter_new (METER_PSD_SERIAL, 2000 * PM_MILLS_PER_DOLLAR, NULL);
  g_autoptr(PmPsdStatus) before = psd_status (m);
  g_autoptr(PmPsdStatus) block = NULL;
  g_autoptr(PmRefillOutcome) first = NULL;
  g_autoptr(PmRefillOutcome) second = NULL;
  g_autoptr(PmFundsResponse) history = NULL;
  g_autoptr(GPtrArray) refills = NULL;
  g_autoptr(GError) error = NULL;
  PmMills balance_before = datacenter_balance ();
  PmMills min = 0, max = 0;
  const char *text = NULL;
  Waiter w = { 0 };

  /* Install: the provider's operational block goes into a PSD that had none. */
  g_assert_false (before->has_operational_block);
  error = NULL;
  g_assert_null (refill (m, 100 * PM_MILLS_PER_DOLLAR, &error));
  g_assert_error (error, PM_CONNECTION_ERROR, PM_CONNECTION_ERROR_PSD);
  g_assert_nonnull (strstr (error->message, "not set up"));
  g_clear_error (&error);

  block = install_block (m);
  g_assert_true (block->has_operational_block);
  g_assert_cmpuint (block->origin_zip, ==, 60601);
  g_assert_cmpint (block->descending, ==, 0);

  /* Refill: an inspection first (every refill, as configured), then $500.00. */
  first = refill (m, 500 * PM_MILLS_PER_DOLLAR, &error);
  g_assert_no_error (error);
  g_assert_true (first->inspected);
  g_assert_cmpint (first->sequence, ==, 1);
  g_assert_cmpint (first->amount, ==, 500 * PM_MILLS_PER_DOLLAR);
  g_assert_cmpint (first->status->descending, ==, 500 * PM_MILLS_PER_DOLLAR);
  g_assert_cmpint (first->status->control_sum, ==, 500 * PM_MILLS_PER_DOLLAR);
  g_assert_cmpint (first->status->last_refill_sequence, ==, 1);
  g_assert_cmpint (first->status->last_inspection, >, 0);
  g_assert_cmpint (first->balance, ==, balance_before - 500 * PM_MILLS_PER_DOLLAR);
  g_assert_cmpint (datacenter_balance (), ==, balance_before - 500 * PM_MILLS_PER_DOLLAR);

  second = refill (m, 250500, &error);
  g_assert_no_error (error);
  g_assert_cmpint (second->sequence, ==, 2);
  g_assert_cmpint (second->status->descending, ==, 750500);

  /* The store keeps both, newest first, with their receipts. */
  refills = pm_store_list_refills (m->store, 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (refills->len, ==, 2);
  g_assert_cmpint (((PmRefill *) refills->pdata[0])->sequence, ==, 2);
  g_assert_cmpint (((PmRefill *) refills->pdata[0])->amount, ==, 250500);
  g_assert_cmpstr (((PmRefill *) refills->pdata[0])->receipt, ==, second->receipt_id);

  /* History from the data center, with the balance and the limits. */
  pm_funds_flow_history_async (m->connection, NULL, waiter_cb, &w);
  WAIT (w);
  history = pm_funds_flow_history_finish (m->connection, w.result, &error);
  waiter_clear (&w);
  g_assert_no_error (error);
  g_assert_cmpuint (history->history->len, ==, 2);
  g_assert_cmpstr (((PmRefillReceipt *) history->history->pdata[0])->receipt_id, ==,
                   second->receipt_id);
  g_assert_cmpint (pm_connection_get_account_balance (m->connection), ==,
                   balance_before - 750500);
  pm_connection_get_refill_limits (m->connection, &min, &max);
  g_assert_cmpint (min, ==, 1 * PM_MILLS_PER_DOLLAR);
  g_assert_cmpint (max, ==, 10000 * PM_MILLS_PER_DOLLAR);

  /* Outside the provider's limits: refused by the data center, nothing moves. */
  g_assert_null (refill (m, 500, &error));
  g_assert_error (error, PM_NET_ERROR, PM_NET_ERROR_CLIENT);
  g_assert_nonnull (strstr (error->message, "between $1.00 and $10,000.00"));
  g_clear_error (&error);
  {
    g_autoptr(PmPsdStatus) after = psd_status (m);

    g_assert_cmpint (after->descending, ==, 750500);
    g_assert_cmpint (after->last_refill_sequence, ==, 2);
  }

  /* The status line's topics follow. */
  g_assert_cmpint (pm_connection_get_topic (m->connection, PM_CONNECTION_TOPIC_FUNDS, &text,
                                            NULL), ==, PM_CONNECTION_LEVEL_OK);
  g_assert_cmpstr (text, ==, "$750.50");
  g_assert_cmpint (pm_connection_get_topic (m->connection, PM_CONNECTION_TOPIC_INSPECTION,
                                            &text, NULL), ==, PM_CONNECTION_LEVEL_OK);
  g_assert_true (g_str_has_prefix (text, "Next "));
  meter_free (m);
}

/* A hostile funds service: replayed and skipped refills, forged signatures. The net layer
 * refuses them; the PSD's registers do not move. */
typedef struct
{
  guint32 sequence;
  gboolean other_key;
} Forge;

static void
forged_refill (SoupServerMessage *msg,
               const char        *path,
               gpointer           user_data)
{
  Forge *forge = user_data;
  g_autoptr(PmFundsRequest) request = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GBytes) answer = NULL;
  g_autoptr(PmSigningKey) other = NULL;
  PmFundsResponse response = { 0 };
  PmPostageValueDownload pvd = { 0 };
  SoupMessageBody *request_body = soup_server_message_get_request_body (msg);

  if (g_str_has_prefix (path, "/distributor"))
    {
      soup_server_message_set_status (msg, 404, NULL);
      return;
    }
  body = soup_message_body_flatten (request_body);
  request = pm_funds_request_parse (body, NULL);
  g_assert_nonnull (request);
  if (request->kind == PM_FUNDS_AUDIT)
    {
      soup_server_message_set_status (msg, 503, NULL);
      return;
    }
  pvd.psd_serial = METER_PSD_SERIAL + 1;
  pvd.sequence = forge->sequence;
  pvd.amount = request->amount;
  pvd.issued_at = pm_clock_now_s ();
  other = forge->other_key ? pm_signing_key_generate (NULL) : NULL;
  response.kind = PM_FUNDS_REFILL;
  response.receipt_id = (char *) "R-forged-0001";
  response.issued_at = pvd.issued_at;
  response.amount = request->amount;
  response.sequence = forge->sequence;
  response.balance = response.next_inspection = -1;
  response.refill_minimum = response.refill_maximum = -1;
  response.psd_message = pm_postage_value_download_sign (&pvd, other != NULL ? other
                                                               : dc->provider_signing, NULL);
  answer = pm_funds_response_build (&response);
  g_bytes_unref (response.psd_message);
  soup_server_message_set_status (msg, 200, NULL);
  soup_server_message_set_response (msg, "application/xml", SOUP_MEMORY_COPY,
                                    g_bytes_get_data (answer, NULL), g_bytes_get_size (answer));
}

static void
point_funds_at (Meter *m,
                guint  port)
{
  const char *urls[PM_REMOTE_SERVICE_COUNT] = { 0 };
  g_autofree char *base = g_strdup_printf ("https://127.0.0.1:%u/funds", port);
  PmNetClient *client = pm_connection_get_client (m->connection);
  g_autofree char *token = pm_net_client_dup_token (client);
  g_autofree char *device = pm_net_client_dup_device_id (client);
  g_autofree char *uploads = g_strdup_printf ("https://127.0.0.1:%u/uploads", port);

  urls[PM_REMOTE_SERVICE_FUNDS] = base;
  urls[PM_REMOTE_SERVICE_UPLOADS] = uploads;
  pm_net_client_set_session (client, device, token, urls);
}

static void
test_hostile_refills (void)
{
  Meter *m = meter_new (METER_PSD_SERIAL + 1, 1000 * PM_MILLS_PER_DOLLAR, NULL);
  g_autoptr(PmPsdStatus) block = install_block (m);
  g_autoptr(PmRefillOutcome) good = refill (m, 100 * PM_MILLS_PER_DOLLAR, NULL);
  Forge forge = { 0 };
  PmTestHostile *hostile = NULL;
  PmConnectionConfig config;
  g_autoptr(PmConnection) pointed = NULL;
  g_autoptr(GError) error = NULL;
  struct {
    guint32 sequence;
    gboolean other_key;
    int code;
  } cases[] = {
    { 1, FALSE, PM_NET_ERROR_MISMATCH },    /* replay of refill 1 */
    { 3, FALSE, PM_NET_ERROR_MISMATCH },    /* refill 2 skipped */
    { 2, TRUE, PM_NET_ERROR_SIGNATURE },    /* not the provider's key */
  };

  g_assert_nonnull (good);
  g_assert_cmpint (good->status->descending, ==, 100 * PM_MILLS_PER_DOLLAR);

  /* The hostile server answers on its own port: a connection that allows it. */
  hostile = pm_test_hostile_start (dc, FALSE, forged_refill, &forge);
  config = config_for (m->dir, NULL, NULL);
  config.audit_at_every_refill = FALSE;
  {
    g_autoptr(PmAllowlist) list = NULL;

    pointed = pm_connection_new (&config, PM_PSD (m->psd), m->store, &error);
    g_assert_no_error (error);
    list = pm_allowlist_ref (pm_net_client_get_allowlist (pm_connection_get_client (pointed)));
    pm_allowlist_add (list, "https", "127.0.0.1", pm_test_hostile_get_port (hostile));
  }
  pm_connection_config_clear (&config);
  {
    Meter pointed_meter = { .connection = pointed };
    Waiter w = { 0 };

    pm_connection_sign_in_async (pointed, NULL, waiter_cb, &w);
    WAIT (w);
    g_assert_true (pm_connection_sign_in_finish (pointed, w.result, &error));
    waiter_clear (&w);
    point_funds_at (&pointed_meter, pm_test_hostile_get_port (hostile));

    for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
      {
        g_autoptr(PmRefillOutcome) outcome = NULL;
        g_autoptr(PmPsdStatus) after = NULL;

        forge.sequence = cases[i].sequence;
        forge.other_key = cases[i].other_key;
        g_test_expect_message ("postmeter-net", G_LOG_LEVEL_WARNING, "*");
        pm_funds_flow_refill_async (pointed, 50 * PM_MILLS_PER_DOLLAR, NULL, waiter_cb, &w);
        WAIT (w);
        outcome = pm_funds_flow_refill_finish (pointed, w.result, &error);
        waiter_clear (&w);
        g_test_assert_expected_messages ();
        g_assert_null (outcome);
        g_assert_error (error, PM_NET_ERROR, cases[i].code);
        g_clear_error (&error);

        after = psd_status (m);
        g_assert_cmpint (after->descending, ==, 100 * PM_MILLS_PER_DOLLAR);
        g_assert_cmpint (after->control_sum, ==, 100 * PM_MILLS_PER_DOLLAR);
        g_assert_cmpint (after->last_refill_sequence, ==, 1);
      }
  }
  g_clear_object (&pointed);
  pm_test_hostile_stop (hostile);
  meter_free (m);
}

/* Every kind of hostile answer to a refill and to an inspection, from a server on the
 * provider's CA or on another: a clear message, and the PSD exactly as it was. */
typedef enum
{
  HOSTILE_MALFORMED,
  HOSTILE_ENTITIES,
  HOSTILE_HUGE,
  HOSTILE_UNSIGNED,
  HOSTILE_403,
  HOSTILE_503,
  HOSTILE_PORTAL_200,
  HOSTILE_STALL,
  HOSTILE_RESET,
} HostileKind;

static void
hostile_funds (SoupServerMessage *msg,
               const char        *path,
               gpointer           user_data)
{
  HostileKind kind = GPOINTER_TO_INT (user_data);
  static const char entities[] =
    "<?xml version=\"1.0\"?>\n<!DOCTYPE x [<!ENTITY a \"aaaaaaaaaa\">"
    "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]>"
    "<funds-response version=\"1\" kind=\"refill\"><receipt-id>&b;</receipt-id>"
    "</funds-response>";
  static const char portal[] = "<html><body>Welcome to the guest network. "
                               "Accept the terms to continue.</body></html>";

  switch (kind)
    {
    case HOSTILE_MALFORMED:
      soup_server_message_set_status (msg, 200, NULL);
      soup_server_message_set_response (msg, "application/xml", SOUP_MEMORY_STATIC,
                                        "<funds-response version=\"1\"><rece", 33);
      break;
    case HOSTILE_ENTITIES:
      soup_server_message_set_status (msg, 200, NULL);
      soup_server_message_set_response (msg, "application/xml", SOUP_MEMORY_STATIC,
                                        entities, strlen (entities));
      break;
    case HOSTILE_HUGE:
      {
        gsize size = 5 * 1024 * 1024;
        char *big = g_malloc (size);

        memset (big, ' ', size);
        soup_server_message_set_status (msg, 200, NULL);
        soup_server_message_set_response (msg, "application/xml", SOUP_MEMORY_TAKE, big,
                                          size);
      }
      break;
    case HOSTILE_UNSIGNED:
      {
        PmFundsResponse response = { 0 };
        g_autoptr(GBytes) answer = NULL;

        /* A well-formed answer with no signed message for the PSD. */
        response.kind = PM_FUNDS_REFILL;
        response.receipt_id = (char *) "R-unsigned-0001";
        response.issued_at = pm_clock_now_s ();
        response.amount = 50 * PM_MILLS_PER_DOLLAR;
        response.sequence = 2;
        response.balance = response.next_inspection = -1;
        response.refill_minimum = response.refill_maximum = -1;
        answer = pm_funds_response_build (&response);
        soup_server_message_set_status (msg, 200, NULL);
        soup_server_message_set_response (msg, "application/xml", SOUP_MEMORY_COPY,
                                          g_bytes_get_data (answer, NULL),
                                          g_bytes_get_size (answer));
      }
      break;
    case HOSTILE_403:
      soup_server_message_set_status (msg, 403, NULL);
      soup_server_message_set_response (msg, "text/html", SOUP_MEMORY_STATIC,
                                        "<html>Forbidden by policy</html>", 32);
      break;
    case HOSTILE_503:
      soup_server_message_set_status (msg, 503, NULL);
      break;
    case HOSTILE_PORTAL_200:
      soup_server_message_set_status (msg, 200, NULL);
      soup_server_message_set_response (msg, "text/html", SOUP_MEMORY_STATIC, portal,
                                        strlen (portal));
      break;
    case HOSTILE_STALL:
      soup_server_message_pause (msg);
      break;
    case HOSTILE_RESET:
      {
        GSocket *socket = soup_server_message_get_socket (msg);

        /* The connection drops with the request read and no answer sent. */
        if (socket != NULL)
          g_socket_shutdown (socket, TRUE, TRUE, NULL);
        soup_server_message_pause (msg);
      }
      break;
    }
}

static void
test_hostile_answers_leave_psd (void)
{
  Meter *m = meter_new (METER_PSD_SERIAL + 7, 1000 * PM_MILLS_PER_DOLLAR, NULL);
  g_autoptr(PmPsdStatus) block = install_block (m);
  g_autoptr(PmRefillOutcome) good = refill (m, 100 * PM_MILLS_PER_DOLLAR, NULL);
  g_autoptr(PmPsdStatus) before = psd_status (m);
  PmMills balance = datacenter_balance ();
  GLogLevelFlags fatal;
  struct {
    HostileKind kind;
    gboolean    other_ca;
    int         code;
  } cases[] = {
    { HOSTILE_MALFORMED, FALSE, PM_NET_ERROR_PROTOCOL },
    { HOSTILE_ENTITIES, FALSE, PM_NET_ERROR_PROTOCOL },
    { HOSTILE_HUGE, FALSE, PM_NET_ERROR_TOO_LARGE },
    { HOSTILE_UNSIGNED, FALSE, PM_NET_ERROR_SIGNATURE },
    { HOSTILE_403, FALSE, PM_NET_ERROR_CLIENT },
    { HOSTILE_503, FALSE, PM_NET_ERROR_SERVER },
    { HOSTILE_PORTAL_200, FALSE, PM_NET_ERROR_PROTOCOL },
    { HOSTILE_PORTAL_200, TRUE, PM_NET_ERROR_TLS },
    { HOSTILE_STALL, FALSE, PM_NET_ERROR_TIMEOUT },
    { HOSTILE_RESET, FALSE, -1 },
  };

  g_assert_nonnull (good);

  /* The network layer warns about a forged answer, as it should: here that is expected,
   * so warnings are not fatal for this test (criticals still are). */
  fatal = g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      PmTestHostile *hostile = pm_test_hostile_start (dc, cases[i].other_ca, hostile_funds,
                                                      GINT_TO_POINTER (cases[i].kind));
      PmConnectionConfig config = config_for (m->dir, NULL, NULL);
      g_autoptr(PmConnection) pointed = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(PmPsdStatus) after = NULL;
      Meter pointed_meter = { 0 };
      Waiter w = { 0 };

      /* Short timeouts so the stall ends soon; the sign-in goes to the real data center. */
      config.timeout_s = 3;
      config.audit_at_every_refill = FALSE;
      pointed = pm_connection_new (&config, PM_PSD (m->psd), m->store, &error);
      g_assert_no_error (error);
      pm_connection_config_clear (&config);
      pm_allowlist_add (pm_net_client_get_allowlist (pm_connection_get_client (pointed)),
                        "https", "127.0.0.1", pm_test_hostile_get_port (hostile));
      pm_connection_sign_in_async (pointed, NULL, waiter_cb, &w);
      WAIT (w);
      g_assert_true (pm_connection_sign_in_finish (pointed, w.result, &error));
      waiter_clear (&w);
      pointed_meter.connection = pointed;
      point_funds_at (&pointed_meter, pm_test_hostile_get_port (hostile));

      /* A refill. */
      {
        g_autoptr(PmRefillOutcome) outcome = NULL;

        pm_funds_flow_refill_async (pointed, 50 * PM_MILLS_PER_DOLLAR, NULL, waiter_cb, &w);
        WAIT (w);
        outcome = pm_funds_flow_refill_finish (pointed, w.result, &error);
        waiter_clear (&w);
        g_assert_null (outcome);
        g_assert_nonnull (error);
        if (cases[i].code >= 0)
          g_assert_error (error, PM_NET_ERROR, cases[i].code);
        else
          g_assert_true (error->domain == PM_NET_ERROR);
        g_assert_cmpuint (strlen (error->message), >, 20);
        g_test_message ("case %u, refill: %s", i, error->message);
        g_clear_error (&error);
      }

      /* An inspection. */
      {
        g_autoptr(PmPsdStatus) inspected = NULL;

        pm_funds_flow_inspect_async (pointed, NULL, waiter_cb, &w);
        WAIT (w);
        inspected = pm_funds_flow_inspect_finish (pointed, w.result, &error);
        waiter_clear (&w);
        g_assert_null (inspected);
        g_assert_nonnull (error);
        g_test_message ("case %u, inspection: %s", i, error->message);
        g_clear_error (&error);
      }

      after = psd_status (m);
      g_assert_cmpint (after->descending, ==, before->descending);
      g_assert_cmpint (after->ascending, ==, before->ascending);
      g_assert_cmpint (after->control_sum, ==, before->control_sum);
      g_assert_cmpint (after->last_refill_sequence, ==, before->last_refill_sequence);
      g_assert_cmpint (after->last_inspection, ==, before->last_inspection);
      g_assert_cmpint (after->inspection_due, ==, before->inspection_due);
      g_assert_cmpint (datacenter_balance (), ==, balance);

      g_clear_object (&pointed);
      pm_test_hostile_stop (hostile);
    }
  g_log_set_always_fatal (fatal);
  meter_free (m);
}

/* ---- uploads ------------------------------------------------------------------------------ */

static void
enqueue_day (Meter  *m,
             gint64  count)
{
  for (gint64 i = 0; i < count; i++)
    {
      guint8 payload[96];
      g_autoptr(GBytes) bytes = NULL;
      g_autoptr(GError) error = NULL;

      /* Fixed-width fields (registers, postage, dates, ZIPs) then a signature. */
      for (guint b = 0; b < 32; b++)
        payload[b] = (guint8) ((i * 7 + b) >> (b % 4));
      for (guint b = 32; b < sizeof payload; b++)
        payload[b] = (guint8) g_test_rand_int ();
      bytes = g_bytes_new (payload, sizeof payload);
      g_assert_true (pm_store_enqueue_upload (m->store, bytes, NULL, &error));
      g_assert_no_error (error);
    }
}

typedef struct
{
  const char *device_id;
  gint64 count, min, max, batches;
} Counts;

static gboolean
count_cb (gpointer data)
{
  Counts *c = data;

  c->count = pm_dc_server_count_records (dc->server, c->device_id, &c->min, &c->max);
  c->batches = pm_dc_server_count_batches (dc->server, c->device_id);
  return G_SOURCE_REMOVE;
}

static gint64
waiting (Meter *m)
{
  gint64 oldest = 0, count = -1;

  g_assert_true (pm_store_get_upload_backlog (m->store, &oldest, &count, NULL));
  return count;
}

static gint64
upload (PmConnection *connection,
        GError      **error)
{
  Waiter w = { 0 };
  gint64 sent;

  pm_upload_flow_run_async (connection, NULL, waiter_cb, &w);
  WAIT (w);
  sent = pm_upload_flow_run_finish (connection, w.result, error);
  waiter_clear (&w);
  return sent;
}

static void
test_upload_store_to_datacenter (void)
{
  Meter *m = meter_new (METER_PSD_SERIAL + 2, 0, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PmUploadState) state = NULL;
  Counts c = { m->device_id };
  Waiter w = { 0 };

  enqueue_day (m, 1234);
  pm_upload_flow_get_state_async (m->connection, NULL, waiter_cb, &w);
  WAIT (w);
  state = pm_upload_flow_get_state_finish (m->connection, w.result, &error);
  waiter_clear (&w);
  g_assert_no_error (error);
  g_assert_cmpint (state->waiting, ==, 1234);
  g_assert_cmpint (state->last_success_s, ==, -1);
  g_assert_cmpint (state->due, ==, PM_UPLOADS_DUE);

  g_assert_cmpint (upload (m->connection, &error), ==, 1234);
  g_assert_no_error (error);
  g_assert_cmpint (waiting (m), ==, 0);
  pm_test_datacenter_call (dc, count_cb, &c);
  g_assert_cmpint (c.count, ==, 1234);
  g_assert_cmpint (c.min, ==, 1);
  g_assert_cmpint (c.max, ==, 1234);
  g_assert_cmpint (c.batches, ==, 3);   /* 500 + 500 + 234 */

  /* Nothing waits: a second run sends nothing. */
  g_assert_cmpint (upload (m->connection, &error), ==, 0);
  g_assert_no_error (error);

  g_clear_pointer (&state, pm_upload_state_free);
  pm_upload_flow_get_state_async (m->connection, NULL, waiter_cb, &w);
  WAIT (w);
  state = pm_upload_flow_get_state_finish (m->connection, w.result, &error);
  waiter_clear (&w);
  g_assert_cmpint (state->due, ==, PM_UPLOADS_UP_TO_DATE);
  g_assert_cmpint (state->last_success_s, >, 0);
  meter_free (m);
}

/* A receipt that does not match the batch: nothing is deleted, and the next run sends the
 * very same batch (same id, same bytes) to the real data center. */
static void
wrong_receipt (SoupServerMessage *msg,
               const char        *path,
               gpointer           user_data)
{
  PmWireReceipt r = { 0 };
  g_autoptr(GBytes) text = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GBytes) sealed = soup_message_body_flatten (
    soup_server_message_get_request_body (msg));
  g_autoptr(PmWireBatch) batch = pm_wire_batch_parse (sealed, NULL);
  g_autofree char *sha = pm_protocol_sha256_hex (sealed);
  GPtrArray *seen = user_data;

  g_assert_nonnull (batch);
  g_ptr_array_add (seen, g_strdup (batch->batch_id));
  g_ptr_array_add (seen, g_strdup (sha));
  r.receipt_id = (char *) "U-hostile-1";
  r.batch_id = batch->batch_id;
  r.device_id = batch->device_id;
  r.first_seq = batch->first_seq;
  r.last_seq = batch->last_seq - 1;
  r.count = batch->last_seq - batch->first_seq;
  r.sha256 = sha;
  r.highest_contiguous_seq = r.last_seq;
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
test_upload_mismatched_receipt (void)
{
  Meter *m = meter_new (METER_PSD_SERIAL + 3, 0, NULL);
  g_autoptr(GPtrArray) seen = g_ptr_array_new_with_free_func (g_free);
  PmTestHostile *hostile = pm_test_hostile_start (dc, FALSE, wrong_receipt, seen);
  g_autoptr(PmAllowlist) list = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(PmUploadBatch) resealed = NULL;
  Counts c = { m->device_id };
  Waiter w = { 0 };
  gint64 sent;

  enqueue_day (m, 40);
  list = pm_allowlist_ref (pm_net_client_get_allowlist (pm_connection_get_client (m->connection)));
  pm_allowlist_add (list, "https", "127.0.0.1", pm_test_hostile_get_port (hostile));
  pm_connection_sign_in_async (m->connection, NULL, waiter_cb, &w);
  WAIT (w);
  g_assert_true (pm_connection_sign_in_finish (m->connection, w.result, &error));
  waiter_clear (&w);
  point_funds_at (m, pm_test_hostile_get_port (hostile));

  g_test_expect_message ("postmeter-net", G_LOG_LEVEL_WARNING, "*does not match batch*");
  g_test_expect_message ("postmeter-net", G_LOG_LEVEL_WARNING, "*does not match batch*");
  g_test_expect_message ("postmeter-net", G_LOG_LEVEL_WARNING, "*does not match batch*");
  sent = upload (m->connection, &error);
  g_test_assert_expected_messages ();
  g_assert_cmpint (sent, ==, -1);
  g_assert_error (error, PM_NET_ERROR, PM_NET_ERROR_MISMATCH);
  g_clear_error (&error);
  g_assert_cmpint (waiting (m), ==, 40);

  /* Every attempt carried the same batch, byte for byte. */
  g_assert_cmpuint (seen->len, ==, 2 * PM_UPLOAD_FLOW_MAX_ATTEMPTS);
  for (guint i = 2; i < seen->len; i++)
    g_assert_cmpstr (seen->pdata[i], ==, seen->pdata[i % 2]);
  resealed = pm_store_seal_upload_batch_for_device (m->store, m->device_id, 500, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (resealed->id, ==, seen->pdata[0]);
  g_assert_cmpint (resealed->attempts, ==, PM_UPLOAD_FLOW_MAX_ATTEMPTS);

  /* Back to the real data center: the same batch goes, and is kept once. */
  pm_net_client_set_session (pm_connection_get_client (m->connection), NULL, NULL, NULL);
  g_assert_cmpint (upload (m->connection, &error), ==, 40);
  g_assert_no_error (error);
  pm_test_datacenter_call (dc, count_cb, &c);
  g_assert_cmpint (c.count, ==, 40);
  g_assert_cmpint (c.batches, ==, 1);
  g_assert_cmpint (waiting (m), ==, 0);

  pm_test_hostile_stop (hostile);
  meter_free (m);
}

/* A day of 5,000 pieces, from the store's outbox, through a link throttled to 384 kbit/s
 * that is cut at random points: runs go on until nothing waits, and the data center holds
 * every record exactly once. */
static void
test_upload_throttled_with_cuts (void)
{
  const gint64 total = 5000;
  PmTestRelay *relay = pm_test_relay_start (dc->https_port, 384000 / 8, 6, 30000,
                                            g_test_rand_int ());
  g_autofree char *url = g_strdup_printf ("https://127.0.0.1:%u",
                                          pm_test_relay_get_port (relay));
  Meter *m = meter_new (METER_PSD_SERIAL + 4, 0, url);
  Counts c = { m->device_id };
  guint runs = 0;

  enqueue_day (m, total);

  /* Signing in goes through the relay too, and may be cut. The distributor names the data
   * center's own address for the services; the uploads are sent through the relay. */
  for (guint tries = 0;; tries++)
    {
      g_autoptr(GError) error = NULL;
      Waiter w = { 0 };
      gboolean ok;

      g_assert_cmpuint (tries, <, 20);
      pm_connection_sign_in_async (m->connection, NULL, waiter_cb, &w);
      WAIT (w);
      ok = pm_connection_sign_in_finish (m->connection, w.result, &error);
      waiter_clear (&w);
      if (ok)
        break;
      g_assert_true (pm_net_error_is_retryable (error));
    }
  point_funds_at (m, pm_test_relay_get_port (relay));

  while (waiting (m) > 0)
    {
      g_autoptr(GError) error = NULL;
      gint64 sent;

      g_assert_cmpuint (++runs, <, 30);
      sent = upload (m->connection, &error);
      if (error != NULL)
        {
          g_test_message ("run %u: %" G_GINT64_FORMAT " sent, then %s", runs, sent,
                          error->message);
          g_assert_true (pm_net_error_is_retryable (error));
        }
    }

  pm_test_datacenter_call (dc, count_cb, &c);
  g_assert_cmpint (c.count, ==, total);
  g_assert_cmpint (c.min, ==, 1);
  g_assert_cmpint (c.max, ==, total);
  g_assert_cmpint (c.batches, ==, total / PM_UPLOAD_FLOW_BATCH_RECORDS);
  g_assert_cmpuint (pm_test_relay_cuts (relay), >=, 1);
  g_test_message ("%u runs, %u cuts, %.0f bytes up per record", runs,
                  pm_test_relay_cuts (relay),
                  (double) pm_test_relay_bytes_up (relay) / (double) total);
  meter_free (m);
  pm_test_relay_stop (relay);
}

/* ---- downloads ------------------------------------------------------------------------- */

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

  pm_dc_server_publish_package (dc->server, p->file, "rates", "usps-meter-test", p->version,
                                p->effective, &error);
  g_assert_no_error (error);
  return G_SOURCE_REMOVE;
}

static void
progress_cb (const PmManifestPackage *package,
             guint                    index,
             guint                    count,
             gint64                   received,
             gint64                   total,
             gpointer                 user_data)
{
  gint64 *last = user_data;

  if (g_strcmp0 (package->name, "usps-meter-test") == 0)
    {
      g_assert_cmpint (received, <=, total);
      *last = received;
    }
}

static PmDownloadOutcome *
download (Meter   *m,
          gint64  *last_progress,
          GError **error)
{
  Waiter w = { 0 };
  PmDownloadOutcome *outcome;

  pm_download_flow_run_async (m->connection, progress_cb, last_progress, NULL, NULL,
                              waiter_cb, &w);
  WAIT (w);
  outcome = pm_download_flow_run_finish (m->connection, w.result, error);
  waiter_clear (&w);
  return outcome;
}

/* What the connection told the screen about a download, as "changed" went by. */
typedef struct
{
  char   *name;
  gint64  received;
  gint64  total;
} SeenProgress;

static void
download_changed_cb (PmConnection *connection,
                     SeenProgress *seen)
{
  const char *name = NULL;
  gint64 received = 0, total = 0;

  if (!pm_connection_get_download_progress (connection, &name, &received, &total))
    return;
  g_free (seen->name);
  seen->name = g_strdup (name);
  seen->received = MAX (seen->received, received);
  seen->total = total;
}

static char *
replace_once (const char *text,
              const char *from,
              const char *to)
{
  const char *at = strstr (text, from);

  g_assert_nonnull (at);
  return g_strdup_printf ("%.*s%s%s", (int) (at - text), text, to, at + strlen (from));
}

static void
test_download_staged_then_activated (void)
{
  SeenProgress seen = { 0 };
  Meter *m = meter_new (METER_PSD_SERIAL + 5, 0, NULL);
  g_autofree char *source = g_build_filename (g_getenv ("POSTMETER_SOURCE_ROOT"), "data",
                                              "rates", "usps-2026-07-12.xml", NULL);
  g_autofree char *copy = g_build_filename (m->dir, "rates.xml", NULL);
  g_autofree char *copy2 = g_build_filename (m->dir, "rates-2.xml", NULL);
  g_autofree char *contents = NULL;
  g_autofree char *version_1 = NULL;
  g_autofree char *version_2 = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(PmDownloadOutcome) now = NULL;
  g_autoptr(PmDownloadOutcome) later = NULL;
  g_autoptr(PmDownloadOutcome) again = NULL;
  g_autoptr(GPtrArray) recorded = NULL;
  g_autofree char *install_dir = g_build_filename (m->dir, "packages", NULL);
  g_autoptr(GDateTime) after = NULL;
  Publish in_force = { copy, "2020-01-01", 1 };
  Publish ahead = { copy2, "2031-01-05", 2 };
  gint64 staged = 0, last_progress = 0;
  Waiter w = { 0 };
  gsize length = 0;

  /* The real 2026 prices under this test's own package name, at each version: a meter
   * installs a rate package only when it says it is what it is signed as. */
  g_assert_true (g_file_get_contents (source, &contents, &length, &error));
  version_1 = replace_once (contents, "id=\"usps-2026-07-12\" version=\"1\"",
                            "id=\"usps-meter-test\" version=\"1\"");
  version_2 = replace_once (contents, "id=\"usps-2026-07-12\" version=\"1\"",
                            "id=\"usps-meter-test\" version=\"2\"");
  length = strlen (version_1);
  g_assert_true (g_file_set_contents (copy, version_1, (gssize) length, &error));
  g_assert_true (g_file_set_contents (copy2, version_2, -1, &error));

  /* Version 1 is in force at once. */
  pm_test_datacenter_call (dc, publish_cb, &in_force);
  g_signal_connect (m->connection, "changed", G_CALLBACK (download_changed_cb), &seen);
  now = download (m, &last_progress, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (now->installed, >=, 1);
  g_assert_cmpint (last_progress, ==, (gint64) length);

  /* The screen saw the download go by, and sees none once it is over. */
  g_assert_cmpstr (seen.name, ==, "rates usps-meter-test 1");
  g_assert_cmpint (seen.received, ==, (gint64) length);
  g_assert_cmpint (seen.total, ==, (gint64) length);
  g_assert_false (pm_connection_get_download_progress (m->connection, NULL, NULL, NULL));
  g_signal_handlers_disconnect_by_data (m->connection, &seen);
  g_free (seen.name);
  g_assert_cmpint (pm_download_flow_installed_version (install_dir, "rates", "usps-meter-test",
                                                       &staged), ==, 1);
  g_assert_cmpint (staged, ==, 0);

  /* Version 2 takes effect in 2031: staged, version 1 stays in force. */
  pm_test_datacenter_call (dc, publish_cb, &ahead);
  later = download (m, &last_progress, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (later->staged, ==, 1);
  g_assert_cmpuint (later->installed, ==, 0);
  g_assert_cmpint (pm_download_flow_installed_version (install_dir, "rates", "usps-meter-test",
                                                       &staged), ==, 1);
  g_assert_cmpint (staged, ==, 2);

  /* Nothing newer: nothing fetched. */
  again = download (m, &last_progress, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (again->fetched, ==, 0);

  /* Before the date, activation changes nothing; on it, version 2 is swapped in. */
  pm_download_flow_activate_async (m->connection, NULL, waiter_cb, &w);
  WAIT (w);
  g_assert_cmpuint (pm_download_flow_activate_finish (m->connection, w.result, &error), ==, 0);
  waiter_clear (&w);
  after = g_date_time_new_local (2031, 1, 5, 0, 30, 0);
  pm_clock_set_override_us (g_date_time_to_unix (after) * G_USEC_PER_SEC);
  pm_download_flow_activate_async (m->connection, NULL, waiter_cb, &w);
  WAIT (w);
  g_assert_cmpuint (pm_download_flow_activate_finish (m->connection, w.result, &error), ==, 1);
  g_assert_no_error (error);
  waiter_clear (&w);
  pm_clock_clear_override ();
  g_assert_cmpint (pm_download_flow_installed_version (install_dir, "rates", "usps-meter-test",
                                                       &staged), ==, 2);
  g_assert_cmpint (staged, ==, 0);

  recorded = pm_store_list_installed_packages (m->store, "rates", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (recorded->len, ==, 2);
  meter_free (m);
}

/* The provider's key signs bytes, not meaning: a signed file that does not read as a rate
 * package under its signed name is refused before it replaces anything, and the data
 * center hears why. */
static void
test_download_not_rates (void)
{
  Meter *m = meter_new (METER_PSD_SERIAL + 60, 0, NULL);
  g_autofree char *junk = g_build_filename (m->dir, "junk.xml", NULL);
  g_autofree char *install_dir = g_build_filename (m->dir, "packages", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PmDownloadOutcome) outcome = NULL;
  Publish signed_junk = { junk, "2020-01-01", 3 };
  gint64 staged = 0, last_progress = 0;

  g_assert_true (g_file_set_contents (junk, "root:x:0:0:root:/root:/bin/bash\n", -1,
                                      &error));
  pm_test_datacenter_call (dc, publish_cb, &signed_junk);
  outcome = download (m, &last_progress, &error);
  if (outcome != NULL)
    g_assert_cmpuint (outcome->installed + outcome->staged, ==, 0);
  else
    g_assert_nonnull (strstr (error->message, "was refused"));
  g_assert_cmpint (pm_download_flow_installed_version (install_dir, "rates", "usps-meter-test",
                                                       &staged), <=, 0);
  g_assert_cmpint (staged, ==, 0);
  meter_free (m);
}

/* ---- Test connection and Connect now ---------------------------------------------------- */

static void
test_probe_and_connect_now (void)
{
  Meter *m = meter_new (METER_PSD_SERIAL + 6, 300 * PM_MILLS_PER_DOLLAR, NULL);
  g_autoptr(GPtrArray) results = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(PmPsdStatus) status = NULL;
  const char *text = NULL;
  Waiter w = { 0 };

  pm_connection_probe_async (m->connection, NULL, waiter_cb, &w);
  WAIT (w);
  results = pm_connection_probe_finish (m->connection, w.result, &error);
  waiter_clear (&w);
  g_assert_no_error (error);
  /* distributor, connectivity, funds, downloads, accounting, uploads, health */
  g_assert_cmpuint (results->len, >=, 7);
  for (guint i = 0; i < results->len; i++)
    {
      PmProbeResult *r = results->pdata[i];

      if (!pm_probe_result_passed (r))
        g_error ("%s (%s) failed: %s", r->service, r->url, r->advice);
      g_assert_cmpuint (r->port, >, 0);
      g_assert_cmpstr (r->address, ==, "127.0.0.1");
    }

  /* Connect now on a new machine: operational block, history, health. */
  enqueue_day (m, 10);
  pm_connection_connect_now_async (m->connection, NULL, waiter_cb, &w);
  WAIT (w);
  g_assert_true (pm_connection_connect_now_finish (m->connection, w.result, &error));
  g_assert_no_error (error);
  waiter_clear (&w);
  status = psd_status (m);
  g_assert_true (status->has_operational_block);
  g_assert_cmpint (waiting (m), ==, 0);
  g_assert_cmpint (pm_connection_get_account_balance (m->connection), ==,
                   datacenter_balance ());
  g_assert_cmpint (pm_connection_get_topic (m->connection, PM_CONNECTION_TOPIC_UPLOAD, &text,
                                            NULL), ==, PM_CONNECTION_LEVEL_OK);
  g_assert_cmpstr (text, ==, "Up to date");

  /* The network check follows the 204. */
  pm_connection_check_network_async (m->connection, NULL, waiter_cb, &w);
  WAIT (w);
  g_assert_cmpint (pm_connection_check_network_finish (m->connection, w.result, &error), ==,
                   PM_CONNECTIVITY_ONLINE);
  waiter_clear (&w);
  g_assert_cmpint (pm_connection_get_topic (m->connection, PM_CONNECTION_TOPIC_NETWORK, &text,
                                            NULL), ==, PM_CONNECTION_LEVEL_OK);
  g_assert_cmpstr (text, ==, "Online");
  meter_free (m);
}

/* ---- the network topic: only a 204 is online ------------------------------------- */

static void
portal_page (SoupServerMessage *msg,
             const char        *path,
             gpointer           user_data)
{
  static const char page[] = "<!DOCTYPE html><html><body><form>Guest Wi-Fi: accept the "
                             "terms to continue</form></body></html>";

  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "text/html; charset=utf-8", SOUP_MEMORY_STATIC,
                                    page, sizeof page - 1);
}

static void
portal_redirect (SoupServerMessage *msg,
                 const char        *path,
                 gpointer           user_data)
{
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Location",
                                "http://login.portal.example/?continue=generate_204");
  soup_server_message_set_status (msg, SOUP_STATUS_FOUND, NULL);
}

static PmConnectivityState
check_network (Meter *m)
{
  Waiter w = { 0 };
  g_autoptr(GError) error = NULL;
  PmConnectivityState state;

  pm_connection_check_network_async (m->connection, NULL, waiter_cb, &w);
  WAIT (w);
  state = pm_connection_check_network_finish (m->connection, w.result, &error);
  g_assert_no_error (error);
  waiter_clear (&w);
  return state;
}

static gboolean
sign_in (Meter   *m,
         GError **error)
{
  Waiter w = { 0 };
  gboolean ok;

  pm_connection_sign_in_async (m->connection, NULL, waiter_cb, &w);
  WAIT (w);
  ok = pm_connection_sign_in_finish (m->connection, w.result, error);
  waiter_clear (&w);
  return ok;
}

static PmConnectionLevel
network_topic (Meter       *m,
               const char **out_short,
               const char **out_sentence)
{
  return pm_connection_get_topic (m->connection, PM_CONNECTION_TOPIC_NETWORK, out_short,
                                  out_sentence);
}

/* The data center's own check answers 204: online, whichever comes first. */
static void
test_network_204 (void)
{
  Meter *m = meter_new (METER_PSD_SERIAL + 20, 0, NULL);
  g_autofree char *check_url = g_strdup_printf ("http://127.0.0.1:%u/generate_204",
                                                dc->http_port);
  g_autoptr(GError) error = NULL;
  const char *text = NULL;
  const char *sentence = NULL;

  g_assert_cmpint (network_topic (m, &text, NULL), ==, PM_CONNECTION_LEVEL_UNKNOWN);
  g_assert_null (text);

  /* Signed in, but not checked yet: not called online. */
  g_assert_true (sign_in (m, &error));
  g_assert_no_error (error);
  g_assert_cmpint (network_topic (m, &text, &sentence), ==, PM_CONNECTION_LEVEL_OK);
  g_assert_cmpstr (text, ==, "Signed in");

  g_assert_cmpint (check_network (m), ==, PM_CONNECTIVITY_ONLINE);
  g_assert_cmpint (network_topic (m, &text, &sentence), ==, PM_CONNECTION_LEVEL_OK);
  g_assert_cmpstr (text, ==, "Online");
  g_assert_true (g_str_has_prefix (sentence, "The connectivity check at "));
  g_assert_nonnull (strstr (sentence, check_url));
  g_assert_nonnull (strstr (sentence, "answered 204 No Content. Signed in to the data "
                                      "center."));
  meter_free (m);
}

/* A captive portal answers the check with its sign-in page: never "Online", even though
 * the data center itself answers (signing in works, before and after the check). */
static void
test_network_portal_page (void)
{
  PmTestHostile *portal = pm_test_hostile_start_plain (dc, portal_page, NULL);
  g_autofree char *check_url = g_strdup_printf ("http://127.0.0.1:%u/generate_204",
                                                pm_test_hostile_get_port (portal));
  g_autofree char *expected = NULL;
  Meter *m = meter_new_full (METER_PSD_SERIAL + 21, 0, NULL, check_url, TRUE);
  Waiter w = { 0 };
  g_autoptr(GError) error = NULL;
  const char *text = NULL;
  const char *sentence = NULL;

  g_assert_cmpint (check_network (m), ==, PM_CONNECTIVITY_PORTAL);
  g_assert_cmpint (network_topic (m, &text, &sentence), ==, PM_CONNECTION_LEVEL_ERROR);
  g_assert_cmpstr (text, ==, "Filtered");

  /* Signing in works through the portal (the data center is on another port): still not
   * online. This is what used to turn the status line to "Online". */
  g_assert_true (sign_in (m, &error));
  g_assert_no_error (error);
  g_assert_cmpint (network_topic (m, &text, &sentence), ==, PM_CONNECTION_LEVEL_WARNING);
  g_assert_cmpstr (text, ==, "Filtered");
  expected = g_strdup_printf ("Filtered: something on the network answered the "
                              "connectivity check at %s with a web page (HTTP 200) instead "
                              "of 204 No Content. A captive portal, proxy or web filter is "
                              "in the way. Let this machine reach 127.0.0.1 directly, "
                              "without sign-in, filtering or a block page. The data center "
                              "itself answers over TLS, so only the check is intercepted. "
                              "Until the check answers 204, the meter does not connect by "
                              "itself; Connect now still tries.", check_url);
  g_assert_cmpstr (sentence, ==, expected);

  /* Connect now checks first, then does its work: the work succeeds, the topic stays. */
  pm_connection_connect_now_async (m->connection, NULL, waiter_cb, &w);
  WAIT (w);
  g_assert_true (pm_connection_connect_now_finish (m->connection, w.result, &error));
  g_assert_no_error (error);
  waiter_clear (&w);
  g_assert_cmpint (network_topic (m, &text, &sentence), ==, PM_CONNECTION_LEVEL_WARNING);
  g_assert_cmpstr (text, ==, "Filtered");
  g_assert_cmpstr (sentence, ==, expected);

  meter_free (m);
  pm_test_hostile_stop (portal);
}

/* A portal that redirects the check names where it sends it. */
static void
test_network_portal_redirect (void)
{
  PmTestHostile *portal = pm_test_hostile_start_plain (dc, portal_redirect, NULL);
  g_autofree char *check_url = g_strdup_printf ("http://127.0.0.1:%u/generate_204",
                                                pm_test_hostile_get_port (portal));
  g_autofree char *expected = NULL;
  Meter *m = meter_new_full (METER_PSD_SERIAL + 22, 0, NULL, check_url, TRUE);
  const char *text = NULL;
  const char *sentence = NULL;

  g_assert_cmpint (check_network (m), ==, PM_CONNECTIVITY_PORTAL);
  g_assert_cmpint (network_topic (m, &text, &sentence), ==, PM_CONNECTION_LEVEL_ERROR);
  g_assert_cmpstr (text, ==, "Filtered");
  expected = g_strdup_printf ("Filtered: something on the network redirected the "
                              "connectivity check at %s to "
                              "http://login.portal.example/?continue=generate_204 (HTTP 302) "
                              "instead of answering 204 No Content.", check_url);
  g_assert_true (g_str_has_prefix (sentence, expected));
  meter_free (m);
  pm_test_hostile_stop (portal);
}

/* The check is blocked (refused) while the data center is reachable: the topic says
 * exactly that, with the port to open. With the data center unreachable as well, it is
 * plainly offline. */
static void
test_network_check_blocked (void)
{
  guint closed = pm_test_closed_port ();
  g_autofree char *check_url = g_strdup_printf ("http://127.0.0.1:%u/generate_204", closed);
  g_autofree char *dead_dc = g_strdup_printf ("https://127.0.0.1:%u", pm_test_closed_port ());
  g_autofree char *expected = NULL;
  Meter *m = meter_new_full (METER_PSD_SERIAL + 23, 0, NULL, check_url, TRUE);
  Meter *cut = NULL;
  Waiter w = { 0 };
  g_autoptr(GError) error = NULL;
  const char *text = NULL;
  const char *sentence = NULL;

  pm_connection_connect_now_async (m->connection, NULL, waiter_cb, &w);
  WAIT (w);
  g_assert_true (pm_connection_connect_now_finish (m->connection, w.result, &error));
  g_assert_no_error (error);
  waiter_clear (&w);
  g_assert_cmpint (network_topic (m, &text, &sentence), ==, PM_CONNECTION_LEVEL_WARNING);
  g_assert_cmpstr (text, ==, "Check blocked");
  expected = g_strdup_printf ("The connectivity check at %s got no answer (", check_url);
  g_assert_true (g_str_has_prefix (sentence, expected));
  g_clear_pointer (&expected, g_free);
  expected = g_strdup_printf ("), but the data center is otherwise reachable: a firewall "
                              "blocks the check. Allow plain HTTP from this machine to "
                              "127.0.0.1 on TCP port %u.", closed);
  g_assert_nonnull (strstr (sentence, expected));
  g_assert_cmpint (check_network (m), ==, PM_CONNECTIVITY_OFFLINE);
  g_assert_cmpint (network_topic (m, &text, NULL), ==, PM_CONNECTION_LEVEL_WARNING);
  g_assert_cmpstr (text, ==, "Check blocked");
  meter_free (m);

  /* Nothing reachable at all. */
  cut = meter_new_full (METER_PSD_SERIAL + 24, 0, dead_dc, check_url, TRUE);
  pm_connection_connect_now_async (cut->connection, NULL, waiter_cb, &w);
  WAIT (w);
  g_assert_false (pm_connection_connect_now_finish (cut->connection, w.result, &error));
  g_assert_nonnull (error);
  waiter_clear (&w);
  g_assert_cmpint (network_topic (cut, &text, &sentence), ==, PM_CONNECTION_LEVEL_ERROR);
  g_assert_cmpstr (text, ==, "Offline");
  g_clear_pointer (&expected, g_free);
  expected = g_strdup_printf ("Nothing answered the connectivity check at %s (", check_url);
  g_assert_true (g_str_has_prefix (sentence, expected));
  g_assert_nonnull (strstr (sentence, "The data center could not be reached either: "));
  g_assert_nonnull (strstr (sentence, error->message));
  meter_free (cut);
}

/* ---- the error log --------------------------------------------------------------- */

typedef struct
{
  const char *device_id;
  GPtrArray  *records;
} LatestLog;

static gboolean
latest_log_cb (gpointer data)
{
  LatestLog *q = data;

  q->records = pm_dc_server_get_latest_error_log (dc->server, q->device_id, NULL);
  return G_SOURCE_REMOVE;
}

static GPtrArray *
latest_error_log (const char *device_id)
{
  LatestLog q = { device_id, NULL };

  pm_test_datacenter_call (dc, latest_log_cb, &q);
  return q.records;
}

static gboolean
send_error_log (Meter   *m,
                guint   *out_sent,
                GError **error)
{
  Waiter w = { 0 };
  gboolean ok;

  pm_connection_send_error_log_async (m->connection, NULL, waiter_cb, &w);
  WAIT (w);
  ok = pm_connection_send_error_log_finish (m->connection, w.result, out_sent, error);
  waiter_clear (&w);
  return ok;
}

/* Support's "Send error log": the ring's records reach the data center's database as they
 * were logged; with none, nothing is sent; no data center, or one that refuses the
 * machine, is an error in plain words. */
static void
test_error_log (void)
{
  Meter *m = meter_new (METER_PSD_SERIAL + 25, 0, NULL);
  g_autofree char *dead_dc = NULL;
  g_autofree char *expected = NULL;
  g_autoptr(GPtrArray) kept = NULL;
  g_autoptr(GError) error = NULL;
  Meter *cut;
  Meter *stranger;
  guint sent = 99;
  guint dead_port;

  pm_log_ring_clear ();
  g_assert_true (send_error_log (m, &sent, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (sent, ==, 0);
  g_assert_null (latest_error_log (m->device_id));

  pm_log_ring_add (G_LOG_LEVEL_WARNING, "postmeter-scale",
                   "The scale on /dev/ttyUSB0 stopped answering");
  pm_log_ring_add (G_LOG_LEVEL_MESSAGE, "postmeter-net", "Signed in (not a fault)");
  pm_log_ring_add (G_LOG_LEVEL_CRITICAL, "postmeter-printer", "Job 7 failed:\npaper out");
  g_assert_true (send_error_log (m, &sent, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (sent, ==, 2);

  kept = latest_error_log (m->device_id);
  g_assert_nonnull (kept);
  g_assert_cmpuint (kept->len, ==, 2);
  g_assert_cmpint (((PmLogRecord *) kept->pdata[0])->level, ==, G_LOG_LEVEL_WARNING);
  g_assert_cmpstr (((PmLogRecord *) kept->pdata[0])->domain, ==, "postmeter-scale");
  g_assert_cmpstr (((PmLogRecord *) kept->pdata[0])->message, ==,
                   "The scale on /dev/ttyUSB0 stopped answering");
  g_assert_cmpint (((PmLogRecord *) kept->pdata[1])->level, ==, G_LOG_LEVEL_CRITICAL);
  g_assert_cmpstr (((PmLogRecord *) kept->pdata[1])->domain, ==, "postmeter-printer");
  g_assert_cmpstr (((PmLogRecord *) kept->pdata[1])->message, ==, "Job 7 failed:\npaper out");
  g_assert_cmpint (((PmLogRecord *) kept->pdata[0])->time_us, <=,
                   ((PmLogRecord *) kept->pdata[1])->time_us);
  meter_free (m);

  /* No data center at the address: nothing sent, and the reason. */
  dead_port = pm_test_closed_port ();
  dead_dc = g_strdup_printf ("https://127.0.0.1:%u", dead_port);
  cut = meter_new_full (METER_PSD_SERIAL + 26, 0, dead_dc, NULL, TRUE);
  g_assert_false (send_error_log (cut, &sent, &error));
  expected = g_strdup_printf ("No connection to 127.0.0.1:%u", dead_port);
  g_assert_nonnull (error);
  if (!g_str_has_prefix (error->message, expected))
    g_error ("The error says “%s”", error->message);
  g_clear_error (&error);
  g_assert_null (latest_error_log (cut->device_id));
  meter_free (cut);

  /* A machine the data center does not know is refused. */
  stranger = meter_new_full (METER_PSD_SERIAL + 27, 0, NULL, NULL, FALSE);
  g_assert_false (send_error_log (stranger, &sent, &error));
  g_assert_nonnull (error);
  if (strstr (error->message, "not registered") == NULL)
    g_error ("The error says “%s”", error->message);
  meter_free (stranger);
  pm_log_ring_clear ();
}

/* A data center address that is not https is refused when the connection is made. */
static void
test_config_refused (void)
{
  PmConnectionConfig config = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("pm-meter-XXXXXX", NULL);
  g_autofree char *psd_dir = g_build_filename (dir, "psd", NULL);
  g_autofree char *store_path = g_build_filename (dir, "s.db", NULL);
  g_autoptr(PmSoftwarePsd) psd = NULL;
  g_autoptr(PmStore) store = NULL;
  g_autoptr(PmConnection) connection = NULL;

  g_mkdir_with_parents (psd_dir, 0700);
  psd = pm_software_psd_open (psd_dir, dc->provider_key, 4299999, &error);
  g_assert_no_error (error);
  store = pm_store_open (store_path, &error);
  g_assert_no_error (error);

  config.datacenter_url = g_strdup ("http://127.0.0.1:80");
  config.ca_file = g_strdup (dc->ca_file);
  config.provider_key_file = g_build_filename (dc->directory, "provider.pub.pem", NULL);
  connection = pm_connection_new (&config, PM_PSD (psd), store, &error);
  g_assert_null (connection);
  g_assert_error (error, PM_CONNECTION_ERROR, PM_CONNECTION_ERROR_CONFIG);
  g_assert_nonnull (strstr (error->message, "not a https:// address"));
  pm_connection_config_clear (&config);
  pm_store_close (store);
  remove_tree (dir);
}

int
main (int    argc,
      char **argv)
{
  int status;

  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  g_setenv ("SOUP_FORCE_HTTP1", "1", TRUE);
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  dc = pm_test_datacenter_start ("127.0.0.1");

  g_test_add_func ("/meter/connection/config-refused", test_config_refused);
  g_test_add_func ("/meter/funds/install-refill-inspect", test_install_refill_inspect);
  g_test_add_func ("/meter/funds/hostile-refills", test_hostile_refills);
  g_test_add_func ("/meter/funds/hostile-answers-leave-psd", test_hostile_answers_leave_psd);
  g_test_add_func ("/meter/uploads/store-to-datacenter", test_upload_store_to_datacenter);
  g_test_add_func ("/meter/uploads/mismatched-receipt", test_upload_mismatched_receipt);
  g_test_add_func ("/meter/uploads/throttled-with-cuts/5000", test_upload_throttled_with_cuts);
  g_test_add_func ("/meter/downloads/staged-then-activated",
                   test_download_staged_then_activated);
  g_test_add_func ("/meter/downloads/not-rates", test_download_not_rates);
  g_test_add_func ("/meter/connection/probe-and-connect-now", test_probe_and_connect_now);
  g_test_add_func ("/meter/connection/network/204", test_network_204);
  g_test_add_func ("/meter/connection/network/portal-page", test_network_portal_page);
  g_test_add_func ("/meter/connection/network/portal-redirect",
                   test_network_portal_redirect);
  g_test_add_func ("/meter/connection/network/check-blocked", test_network_check_blocked);
  g_test_add_func ("/meter/connection/error-log", test_error_log);

  status = g_test_run ();
  pm_test_datacenter_stop (dc);
  return status;
}
