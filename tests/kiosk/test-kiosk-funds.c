/* test-kiosk-funds.c: the kiosk against the reference data center, under Xvfb
 *
 * The reference data center runs in this process on 127.0.0.1 with TLS (the fixture of
 * tests/net). The meter's state folder is prepared as an installer would leave it: a
 * supervisor, a software PSD registered with the data center, a funded customer account,
 * and the four GSettings keys that say where the data center is. Then the real
 * PmApplication starts, makes its connection, and the tests walk Funds (Connect now
 * installs the operational block, refills, bad amounts, Inspect now), the status line,
 * Settings > Network and Test connection, with a firewall that blocks the connectivity
 * check. Screenshots go to $POSTMETER_BUILD_ROOT/screenshots/.
 *
 * The tests share one application and run in order, like a person at the machine.
 */
#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <signal.h>
#include <string.h>

#include "pm-application.h"
#include "pm-kiosk-test-util.h"
#include "pm-connection-test-page.h"
#include "pm-funds-page.h"
#include "pm-log.h"
#include "pm-network-page.h"
#include "pm-service-page.h"
#include "pm-settings-keys.h"
#include "pm-software-psd.h"
#include "pm-status.h"
#include "pm-store-audit.h"
#include "pm-test-datacenter.h"

#define SUPERVISOR_NAME "Sam Supervisor"
#define SUPERVISOR_CODE "2468"
#define OPERATOR_NAME   "Olive Operator"
#define OPERATOR_CODE   "1357"
#define SUPPORT_NAME    "Sid Support"
#define SUPPORT_CODE    "9753"
#define METER_SERIAL    4300001
#define METER_ACCOUNT   "ACME-KIOSK"
#define ACCOUNT_FUNDS   (2000 * PM_MILLS_PER_DOLLAR)

/* Generous: a KDF, TLS handshakes and a PSD on a busy two-core machine. */
#define WAIT_TIMEOUT_S 60

static PmApplication    *app;
static char             *state_dir;
static PmTestDatacenter *dc;
static guint             closed_port;   /* a loopback port nothing listens on */
static char             *device_id;     /* the meter's, at the data center */

/* Helpers -------------------------------------------------------------------------------- */

static gboolean
wait_until (PmKioskTestCondition condition,
            gpointer             data)
{
  return pm_kiosk_test_wait_until (condition, data, WAIT_TIMEOUT_S);
}

static void
save_screenshot (const char *name)
{
  pm_kiosk_test_save_screenshot (GTK_WIDGET (pm_application_get_window (app)), name);
}

static gboolean
skip_without_display (void)
{
  if (pm_kiosk_test_skip_reason () != NULL)
    {
      g_test_skip (pm_kiosk_test_skip_reason ());
      return TRUE;
    }
  if (app == NULL)
    {
      g_test_skip ("the application did not start (see the first failure)");
      return TRUE;
    }
  return FALSE;
}

static PmWindow *
window (void)
{
  return pm_application_get_window (app);
}

static GtkWidget *
page (const char *name)
{
  GtkWidget *widget = pm_window_get_page (window (), name);

  g_assert_nonnull (widget);
  return widget;
}

static gboolean
page_is (gpointer name)
{
  return g_strcmp0 (pm_window_get_page_name (window ()), name) == 0;
}

static void
open_page (const char *name)
{
  pm_kiosk_test_act (GTK_WIDGET (window ()), "win.open-page", name);
  if (!wait_until (page_is, (gpointer) name))
    g_error ("The %s page did not open; the window shows %s", name,
             pm_window_get_page_name (window ()));
}

/* The data center's side ----------------------------------------------------------------- */

typedef struct
{
  char    *pem;
  PmMills  balance;
} DcCall;

static gboolean
register_cb (gpointer data)
{
  DcCall *call = data;
  g_autoptr(GError) error = NULL;

  pm_dc_server_register_device (dc->server, METER_SERIAL, call->pem, METER_ACCOUNT, 60601,
                                &device_id, &error);
  g_assert_no_error (error);
  pm_dc_server_fund_account (dc->server, METER_ACCOUNT, ACCOUNT_FUNDS, NULL, &error);
  g_assert_no_error (error);
  return G_SOURCE_REMOVE;
}

static gboolean
balance_cb (gpointer data)
{
  DcCall *call = data;

  g_assert_true (pm_dc_server_get_balance (dc->server, METER_ACCOUNT, &call->balance, NULL));
  return G_SOURCE_REMOVE;
}

static PmMills
account_balance (void)
{
  DcCall call = { NULL, -1 };

  pm_test_datacenter_call (dc, balance_cb, &call);
  return call.balance;
}

/* The meter as the installer leaves it ----------------------------------------------------- */

static void
set_up_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  PmUser **user = user_data;
  g_autoptr(GError) error = NULL;

  *user = pm_access_set_up_finish (PM_ACCESS (source), result, &error);
  g_assert_no_error (error);
}

static void
add_user_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(PmUser) user = NULL;
  g_autoptr(GError) error = NULL;

  user = pm_access_add_user_finish (PM_ACCESS (source), result, &error);
  g_assert_no_error (error);
  *(gboolean *) user_data = TRUE;
}

static void
prepare_meter (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PmStore) store = NULL;
  g_autoptr(PmAccess) access = NULL;
  g_autoptr(PmSoftwarePsd) psd = NULL;
  g_autoptr(PmVerifyKey) key = NULL;
  g_autoptr(GBytes) pem = NULL;
  g_autoptr(GSettings) settings = g_settings_new (PM_SETTINGS_SCHEMA);
  g_autofree char *store_path = NULL;
  g_autofree char *psd_dir = NULL;
  g_autofree char *url = NULL;
  g_autofree char *check = NULL;
  g_autofree char *key_file = NULL;
  g_autoptr(PmUser) supervisor = NULL;
  gboolean done = FALSE;
  DcCall call = { 0 };

  state_dir = g_dir_make_tmp ("postmeter-kiosk-funds-XXXXXX", &error);
  g_assert_no_error (error);

  store_path = g_build_filename (state_dir, "postmeter.db", NULL);
  store = pm_store_open (store_path, &error);
  g_assert_no_error (error);
  access = pm_access_new (store);
  pm_access_set_up_async (access, SUPERVISOR_NAME, SUPERVISOR_CODE, NULL, set_up_cb,
                          &supervisor);
  while (supervisor == NULL)
    g_main_context_iteration (NULL, TRUE);
  pm_access_add_user_async (access, supervisor, OPERATOR_NAME, PM_ROLE_OPERATOR,
                            OPERATOR_CODE, NULL, add_user_cb, &done);
  pm_test_wait (&done);
  done = FALSE;
  pm_access_add_user_async (access, supervisor, SUPPORT_NAME, PM_ROLE_SUPPORT, SUPPORT_CODE,
                            NULL, add_user_cb, &done);
  pm_test_wait (&done);
  g_clear_object (&access);
  pm_store_close (store);

  /* The PSD is made with the data center's provider key and registered there. */
  psd_dir = g_build_filename (state_dir, "psd", NULL);
  g_assert_cmpint (g_mkdir_with_parents (psd_dir, 0700), ==, 0);
  psd = pm_software_psd_open (psd_dir, dc->provider_key, METER_SERIAL, &error);
  g_assert_no_error (error);
  key = pm_psd_get_public_key (PM_PSD (psd));
  pem = pm_verify_key_to_pem (key);
  call.pem = g_strndup (g_bytes_get_data (pem, NULL), g_bytes_get_size (pem));
  pm_test_datacenter_call (dc, register_cb, &call);
  g_free (call.pem);
  g_clear_object (&psd);

  url = pm_test_datacenter_url (dc, "");
  check = g_strdup_printf ("http://127.0.0.1:%u/generate_204", dc->http_port);
  key_file = g_build_filename (dc->directory, "provider.pub.pem", NULL);
  g_settings_set_string (settings, PM_SETTINGS_DATACENTER_URL, url);
  g_settings_set_string (settings, PM_SETTINGS_CONNECTIVITY_URL, check);
  g_settings_set_string (settings, PM_SETTINGS_PROVIDER_CA_FILE, dc->ca_file);
  g_settings_set_string (settings, PM_SETTINGS_PROVIDER_KEY_FILE, key_file);
}

/* Waiting on the kiosk -------------------------------------------------------------------- */

static gboolean
has_connection (gpointer data)
{
  return pm_application_get_connection (app) != NULL && pm_application_get_connection (app) != data;
}

static gboolean
status_is (gpointer data)
{
  const char **want = data;
  PmStatus *status = pm_window_get_status (window ());
  PmStatusItem item = GPOINTER_TO_UINT (want[0]);

  return g_strcmp0 (pm_status_get_text (status, item), want[1]) == 0;
}

static void
assert_status_soon (PmStatusItem  item,
                    const char   *text)
{
  const char *want[2] = { GUINT_TO_POINTER (item), text };

  if (!wait_until (status_is, want))
    g_error ("The status line's %s says “%s”, not “%s”", pm_status_item_title (item),
             pm_status_get_text (pm_window_get_status (window ()), item), text);
}

static gboolean
status_known (gpointer data)
{
  PmStatusItem item = GPOINTER_TO_UINT (data);

  return pm_status_get_level (pm_window_get_status (window ()), item) !=
         PM_STATUS_LEVEL_UNKNOWN;
}

static gboolean
funds_page_idle (gpointer data)
{
  return !pm_funds_page_is_busy (PM_FUNDS_PAGE (data));
}

static gboolean
receipts_at_least (gpointer data)
{
  GtkWidget *funds = page ("funds");

  return pm_funds_page_get_receipt_count (PM_FUNDS_PAGE (funds)) >= GPOINTER_TO_UINT (data);
}

/* The audit log holds a row of this event whose detail starts with the given text. */
static gboolean
audit_has (gpointer data)
{
  const char *const *wanted = data;
  g_autoptr(GPtrArray) rows = NULL;

  rows = pm_store_list_audit (pm_application_get_store (app), 0, 1000, NULL);
  for (guint i = 0; rows != NULL && i < rows->len; i++)
    {
      PmAuditEntry *entry = g_ptr_array_index (rows, i);

      if (g_strcmp0 (entry->event, wanted[0]) == 0 && entry->user_id > 0
          && g_str_has_prefix (entry->detail, wanted[1]))
        return TRUE;
    }
  return FALSE;
}

static gboolean
connection_idle (gpointer data)
{
  PmConnection *connection = pm_application_get_connection (app);

  return connection != NULL && !pm_connection_is_busy (connection);
}

static void
assert_message_starts (const char *prefix)
{
  const char *message = pm_funds_page_get_message (PM_FUNDS_PAGE (page ("funds")));

  if (message == NULL || !g_str_has_prefix (message, prefix))
    g_error ("The Funds page says “%s”, expected “%s…”", message, prefix);
}

static void
funds_action_and_wait (const char *action)
{
  GtkWidget *funds = page ("funds");

  g_assert_true (wait_until (funds_page_idle, funds));
  pm_kiosk_test_act (funds, action, NULL);
  if (!wait_until (funds_page_idle, funds))
    g_error ("%s did not finish within %d s", action, WAIT_TIMEOUT_S);
}

static void
sign_in (const char *code)
{
  GtkWidget *lock;

  g_assert_true (wait_until (page_is, "lock"));
  lock = page ("lock");
  for (const char *c = code; *c != '\0'; c++)
    {
      char digit[2] = { *c, '\0' };

      pm_kiosk_test_act (lock, "lock.digit", digit);
    }
  pm_kiosk_test_act (lock, "lock.submit", NULL);
  g_assert_true (wait_until (page_is, "home"));
}

/* Tests ------------------------------------------------------------------------------------ */

static void
test_start_and_sign_in (void)
{
  g_autoptr(GError) error = NULL;
  const char *funds;

  if (pm_kiosk_test_skip_reason () != NULL)
    {
      g_test_skip (pm_kiosk_test_skip_reason ());
      return;
    }

  app = pm_application_new ();
  g_object_set (app, "state-dir", state_dir, "windowed", TRUE, NULL);
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);
  g_application_activate (G_APPLICATION (app));
  g_assert_nonnull (window ());

  /* The connection is made off the main thread once the store and the PSD are open. */
  g_assert_true (wait_until (has_connection, NULL));

  sign_in (SUPERVISOR_CODE);

  /* The status line follows the connection: the new PSD is "Not set up" until the
   * schedule's first connection (which may already have run) installs its block. */
  g_assert_true (wait_until (status_known, GUINT_TO_POINTER (PM_STATUS_ITEM_FUNDS)));
  funds = pm_status_get_text (pm_window_get_status (window ()), PM_STATUS_ITEM_FUNDS);
  if (g_strcmp0 (funds, "Not set up") != 0 && g_strcmp0 (funds, "$0.00") != 0)
    g_error ("The status line's Funds says “%s”", funds);
}

static void
test_connect_now_installs_block (void)
{
  GtkWidget *funds;

  if (skip_without_display ())
    return;

  open_page ("funds");
  funds = page ("funds");
  g_assert_true (wait_until (connection_idle, NULL));

  funds_action_and_wait ("funds.connect-now");
  assert_message_starts ("Connected: the meter is up to date");

  /* The operational block is in: no postage yet, an inspection date, and the network
   * check answered 204. */
  assert_status_soon (PM_STATUS_ITEM_FUNDS, "$0.00");
  assert_status_soon (PM_STATUS_ITEM_NETWORK, "Online");
  g_assert_true (g_str_has_prefix (pm_status_get_text (pm_window_get_status (window ()),
                                                       PM_STATUS_ITEM_INSPECTION), "Next "));
  g_assert_cmpstr (pm_funds_page_get_row_text (PM_FUNDS_PAGE (funds), "account"), ==,
                   "$2,000.00");
  g_assert_cmpint (account_balance (), ==, ACCOUNT_FUNDS);
}

static void
test_refill (void)
{
  GtkWidget *funds;
  const PmPsdStatus *status;

  if (skip_without_display ())
    return;

  funds = page ("funds");
  pm_kiosk_test_act (funds, "funds.preset", "250.00");
  funds_action_and_wait ("funds.refill");
  assert_message_starts ("Refilled $250.00 (receipt ");
  g_assert_nonnull (strstr (pm_funds_page_get_message (PM_FUNDS_PAGE (funds)),
                            "refill number 1). The meter now holds $250.00."));

  /* The PSD, the status line, the account at the provider and the receipts agree. */
  status = pm_connection_get_psd_status (pm_application_get_connection (app));
  g_assert_cmpint (status->descending, ==, 250 * PM_MILLS_PER_DOLLAR);
  assert_status_soon (PM_STATUS_ITEM_FUNDS, "$250.00");
  g_assert_cmpint (account_balance (), ==, ACCOUNT_FUNDS - 250 * PM_MILLS_PER_DOLLAR);
  g_assert_true (wait_until (receipts_at_least, GUINT_TO_POINTER (1)));
  g_assert_cmpuint (pm_funds_page_get_receipt_count (PM_FUNDS_PAGE (funds)), ==, 1);
  g_assert_cmpstr (pm_funds_page_get_row_text (PM_FUNDS_PAGE (funds), "account"), ==,
                   "$1,750.00");
  /* The refill is in the audit log under the supervisor who made it. */
  g_assert_true (wait_until (audit_has,
                             (gpointer) (const char *[]) { "psd-refill", "$250.00, receipt " }));

  /* The receipts told the limits. */
  g_assert_cmpstr (pm_funds_page_get_row_text (PM_FUNDS_PAGE (funds), "amount"), ==,
                   "Between $1.00 and $10,000.00, set by the provider");
  save_screenshot ("funds-refilled");
}

static void
test_refill_refused_amounts (void)
{
  static const struct { const char *text; const char *message; } cases[] = {
    { "", "Choose an amount to refill, or type one." },
    { "12,000.00", "A refill must be between $1.00 and $10,000.00." },
    { "0.50", "A refill must be between $1.00 and $10,000.00." },
    { "ten dollars", "Refill amount" },
    { "-5", "Refill amount" },
  };
  GtkWidget *funds;
  PmMills before;

  if (skip_without_display ())
    return;

  funds = page ("funds");
  before = account_balance ();
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      pm_funds_page_set_amount_text (PM_FUNDS_PAGE (funds), cases[i].text);
      pm_kiosk_test_act (funds, "funds.refill", NULL);
      g_assert_false (pm_funds_page_is_busy (PM_FUNDS_PAGE (funds)));
      assert_message_starts (cases[i].message);
    }

  /* Nothing reached the data center or the PSD. */
  g_assert_cmpint (account_balance (), ==, before);
  g_assert_cmpint (pm_connection_get_psd_status (pm_application_get_connection (app))
                   ->descending, ==, 250 * PM_MILLS_PER_DOLLAR);
}

static void
test_inspect_now (void)
{
  const PmPsdStatus *status;
  gint64 before;

  if (skip_without_display ())
    return;

  before = pm_connection_get_psd_status (pm_application_get_connection (app))->last_inspection;
  funds_action_and_wait ("funds.inspect");
  assert_message_starts ("The inspection passed. The next one is due on ");

  status = pm_connection_get_psd_status (pm_application_get_connection (app));
  g_assert_cmpint (status->last_inspection, >=, before);
  g_assert_cmpint (status->inspection_state, ==, PM_PSD_INSPECTION_OK);
  g_assert_cmpint (status->descending, ==, 250 * PM_MILLS_PER_DOLLAR);
  save_screenshot ("funds-inspected");
}

static gboolean
test_page_done (gpointer data)
{
  PmConnectionTestPage *test = PM_CONNECTION_TEST_PAGE (data);

  return !pm_connection_test_page_is_running (test) &&
         pm_connection_test_page_get_results (test) != NULL;
}

static const PmProbeResult *
find_result (GPtrArray  *results,
             const char *service)
{
  for (guint i = 0; i < results->len; i++)
    {
      const PmProbeResult *r = g_ptr_array_index (results, i);

      if (g_strcmp0 (r->service, service) == 0)
        return r;
    }
  g_error ("The test lists no %s service", service);
}

static void
test_network_and_test_connection (void)
{
  GtkWidget *test;
  GPtrArray *results;
  const PmProbeResult *funds, *check;

  if (skip_without_display ())
    return;

  open_page ("settings");
  open_page ("network");
  g_assert_cmpstr (pm_network_page_get_status_text (PM_NETWORK_PAGE (page ("network"))), !=,
                   "Unknown");
  save_screenshot ("network");

  /* Addresses the meter cannot use are refused and change nothing. */
  {
    g_autoptr(GSettings) settings = g_settings_new (PM_SETTINGS_SCHEMA);
    g_autofree char *kept = g_settings_get_string (settings, PM_SETTINGS_DATACENTER_URL);
    g_autofree char *kept_check = g_settings_get_string (settings,
                                                         PM_SETTINGS_CONNECTIVITY_URL);
    PmConnection *connection = pm_application_get_connection (app);
    g_autofree char *now = NULL;
    g_autofree char *now_check = NULL;

    pm_kiosk_test_act (page ("network"), "network.set-datacenter-url", "http://127.0.0.1:1/");
    g_assert_cmpstr (pm_window_get_last_toast (window ()), ==,
                     "“http://127.0.0.1:1/” is not an address that starts with https:// "
                     "and names a host. Nothing was changed.");
    pm_kiosk_test_act (page ("network"), "network.set-datacenter-url", "dc.example.com");
    pm_kiosk_test_act (page ("network"), "network.set-connectivity-url", "https://127.0.0.1/x");
    g_assert_cmpstr (pm_window_get_last_toast (window ()), ==,
                     "“https://127.0.0.1/x” is not an address that starts with http:// "
                     "and names a host. Nothing was changed.");
    now = g_settings_get_string (settings, PM_SETTINGS_DATACENTER_URL);
    now_check = g_settings_get_string (settings, PM_SETTINGS_CONNECTIVITY_URL);
    g_assert_cmpstr (now, ==, kept);
    g_assert_cmpstr (now_check, ==, kept_check);
    pm_kiosk_test_spin_for_ms (100);
    g_assert_true (pm_application_get_connection (app) == connection);
  }

  open_page ("connection-test");
  test = page ("connection-test");
  g_assert_true (wait_until (test_page_done, test));
  results = pm_connection_test_page_get_results (PM_CONNECTION_TEST_PAGE (test));

  /* Every service the distributor named, and the connectivity check, all reachable. */
  funds = find_result (results, "funds");
  check = find_result (results, "connectivity");
  g_assert_cmpuint (results->len, >=, 6);
  for (guint i = 0; i < results->len; i++)
    {
      const PmProbeResult *r = g_ptr_array_index (results, i);

      if (!pm_probe_result_passed (r))
        g_error ("%s failed: %s", r->service, r->advice != NULL ? r->advice : "?");
      g_assert_cmpstr (r->host, ==, "127.0.0.1");
    }
  g_assert_cmpuint (funds->port, ==, dc->https_port);
  g_assert_cmpint (funds->outcome[PM_PROBE_STEP_TLS], ==, PM_PROBE_PASSED);
  g_assert_cmpuint (check->port, ==, dc->http_port);
  g_assert_cmpint (check->outcome[PM_PROBE_STEP_TLS], ==, PM_PROBE_SKIPPED);
  g_assert_cmpuint (check->http_status, ==, 204);
  g_assert_true (g_str_has_prefix (pm_connection_test_page_get_summary
                                     (PM_CONNECTION_TEST_PAGE (test)), "All "));
  save_screenshot ("connection-test");
}

/* A firewall that drops the connectivity check's port: the test names the TCP step and the
 * port, and Funds still works over the data center's port. */
static void
test_connection_test_blocked_port (void)
{
  g_autoptr(GSettings) settings = g_settings_new (PM_SETTINGS_SCHEMA);
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;
  GtkWidget *test;
  GPtrArray *results;
  const PmProbeResult *check;
  PmConnection *before;
  const char *sentence;
  g_autofree char *expected = NULL;
  guint port;

  if (skip_without_display ())
    return;

  /* A port nothing listens on: bound, then closed. */
  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                         &error);
  g_assert_no_error (error);
  g_assert_true (g_socket_bind (socket, any, FALSE, &error));
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  port = closed_port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_socket_close (socket, NULL);

  before = pm_application_get_connection (app);
  url = g_strdup_printf ("http://127.0.0.1:%u/generate_204", port);
  g_settings_set_string (settings, PM_SETTINGS_CONNECTIVITY_URL, url);
  g_assert_true (wait_until (has_connection, before));

  test = page ("connection-test");
  pm_connection_test_page_run (PM_CONNECTION_TEST_PAGE (test));
  g_assert_true (wait_until (test_page_done, test));
  results = pm_connection_test_page_get_results (PM_CONNECTION_TEST_PAGE (test));
  check = find_result (results, "connectivity");
  g_assert_cmpuint (check->port, ==, port);
  g_assert_cmpint (check->outcome[PM_PROBE_STEP_DNS], ==, PM_PROBE_PASSED);
  g_assert_cmpint (check->outcome[PM_PROBE_STEP_TCP], ==, PM_PROBE_FAILED);
  g_assert_cmpint (check->outcome[PM_PROBE_STEP_HTTP], ==, PM_PROBE_NOT_RUN);
  g_assert_nonnull (check->advice);
  g_assert_nonnull (strstr (check->advice, "port"));
  g_assert_true (pm_probe_result_passed (find_result (results, "funds")));
  g_assert_true (g_str_has_prefix (pm_connection_test_page_get_summary
                                     (PM_CONNECTION_TEST_PAGE (test)), "1 of "));
  save_screenshot ("connection-test-blocked");

  /* The status line: the check is blocked while the data center answers, and it says so
   * rather than "Online". */
  open_page ("funds");
  funds_action_and_wait ("funds.connect-now");
  assert_status_soon (PM_STATUS_ITEM_NETWORK, "Check blocked");
  g_assert_cmpint (pm_status_get_level (pm_window_get_status (window ()),
                                        PM_STATUS_ITEM_NETWORK), ==, PM_STATUS_LEVEL_WARNING);
  open_page ("settings");
  open_page ("network");
  sentence = pm_network_page_get_status_text (PM_NETWORK_PAGE (page ("network")));
  expected = g_strdup_printf ("), but the data center is otherwise reachable: a firewall "
                              "blocks the check. Allow plain HTTP from this machine to "
                              "127.0.0.1 on TCP port %u.", port);
  if (sentence == NULL || strstr (sentence, expected) == NULL)
    g_error ("Settings > Network says “%s”", sentence);
  save_screenshot ("network-check-blocked");
}

static void
portal_page (SoupServerMessage *msg,
             const char        *path,
             gpointer           user_data)
{
  static const char page_html[] = "<html><body>Guest Wi-Fi: accept the terms</body></html>";

  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "text/html", SOUP_MEMORY_STATIC, page_html,
                                    sizeof page_html - 1);
}

/* A captive portal answers the connectivity check with its sign-in page while the data
 * center answers: the status line says "Filtered", never "Online", and Settings > Network
 * says what answered. */
static void
test_status_filtered (void)
{
  g_autoptr(GSettings) settings = g_settings_new (PM_SETTINGS_SCHEMA);
  g_autofree char *kept = g_settings_get_string (settings, PM_SETTINGS_CONNECTIVITY_URL);
  g_autofree char *url = NULL;
  g_autofree char *expected = NULL;
  PmTestHostile *portal;
  PmConnection *before;
  const char *sentence;

  if (skip_without_display ())
    return;

  portal = pm_test_hostile_start_plain (dc, portal_page, NULL);
  url = g_strdup_printf ("http://127.0.0.1:%u/generate_204", pm_test_hostile_get_port (portal));
  before = pm_application_get_connection (app);
  g_settings_set_string (settings, PM_SETTINGS_CONNECTIVITY_URL, url);
  g_assert_true (wait_until (has_connection, before));
  g_assert_true (wait_until (connection_idle, NULL));

  open_page ("funds");
  funds_action_and_wait ("funds.connect-now");
  assert_status_soon (PM_STATUS_ITEM_NETWORK, "Filtered");
  g_assert_cmpint (pm_status_get_level (pm_window_get_status (window ()),
                                        PM_STATUS_ITEM_NETWORK), ==, PM_STATUS_LEVEL_WARNING);
  /* A notice left by an earlier step would cover the status line in the picture. */
  pm_kiosk_test_act (GTK_WIDGET (window ()), "win.dismiss-notice", NULL);
  save_screenshot ("status-filtered");

  open_page ("settings");
  open_page ("network");
  sentence = pm_network_page_get_status_text (PM_NETWORK_PAGE (page ("network")));
  expected = g_strdup_printf ("Filtered: something on the network answered the connectivity "
                              "check at %s with a web page (HTTP 200) instead of 204 No "
                              "Content.", url);
  if (sentence == NULL || !g_str_has_prefix (sentence, expected))
    g_error ("Settings > Network says “%s”", sentence);
  save_screenshot ("network-filtered");

  before = pm_application_get_connection (app);
  g_settings_set_string (settings, PM_SETTINGS_CONNECTIVITY_URL, kept);
  g_assert_true (wait_until (has_connection, before));
  g_assert_true (wait_until (connection_idle, NULL));
  pm_test_hostile_stop (portal);
}

/* A data center address where nothing answers: a clear message, the PSD unchanged. */
static void
test_connect_now_no_datacenter (void)
{
  g_autoptr(GSettings) settings = g_settings_new (PM_SETTINGS_SCHEMA);
  g_autofree char *url = NULL;
  PmConnection *before;
  const PmPsdStatus *status;

  if (skip_without_display ())
    return;

  before = pm_application_get_connection (app);
  url = g_strdup_printf ("https://127.0.0.1:%u", closed_port);
  g_settings_set_string (settings, PM_SETTINGS_DATACENTER_URL, url);
  g_assert_true (wait_until (has_connection, before));
  g_assert_true (wait_until (connection_idle, NULL));

  open_page ("funds");
  funds_action_and_wait ("funds.connect-now");
  assert_message_starts ("Connect now did not finish: ");
  g_test_message ("%s", pm_funds_page_get_message (PM_FUNDS_PAGE (page ("funds"))));

  funds_action_and_wait ("funds.inspect");
  assert_message_starts ("The inspection did not pass: ");

  pm_kiosk_test_act (page ("funds"), "funds.preset", "100.00");
  funds_action_and_wait ("funds.refill");
  assert_message_starts ("The refill was not made: ");

  status = pm_connection_get_psd_status (pm_application_get_connection (app));
  g_assert_nonnull (status);
  g_assert_cmpint (status->descending, ==, 250 * PM_MILLS_PER_DOLLAR);
  g_assert_cmpint (account_balance (), ==, ACCOUNT_FUNDS - 250 * PM_MILLS_PER_DOLLAR);
  save_screenshot ("funds-no-datacenter");
}

/* Service: the error log ------------------------------------------------------------------ */

static gboolean
latest_log_cb (gpointer data)
{
  GPtrArray **records = data;

  *records = pm_dc_server_get_latest_error_log (dc->server, device_id, NULL);
  return G_SOURCE_REMOVE;
}

static gboolean
service_idle (gpointer data)
{
  return !pm_service_page_is_sending (PM_SERVICE_PAGE (data));
}

static void
send_error_log_and_wait (void)
{
  GtkWidget *service = page ("service");

  g_assert_true (wait_until (service_idle, service));
  pm_kiosk_test_act (service, "service.send-error-log", NULL);
  if (!wait_until (service_idle, service))
    g_error ("Sending the error log did not finish within %d s", WAIT_TIMEOUT_S);
}

static void
open_service_as_support (void)
{
  pm_kiosk_test_act (GTK_WIDGET (window ()), "win.lock", NULL);
  sign_in (SUPPORT_CODE);
  g_assert_cmpint (pm_window_get_user (window ())->role, ==, PM_ROLE_SUPPORT);
  open_page ("settings");
  open_page ("service");
  g_assert_false (pm_service_page_is_fault (PM_SERVICE_PAGE (page ("service"))));
}

/* Support staff open the service screen from Settings and send the error log: what the
 * program logged at WARNING and above reaches the data center's database; with nothing
 * logged, nothing is sent. Nobody else may open the screen. */
static void
test_service_send_error_log (void)
{
  g_autoptr(GPtrArray) kept = NULL;
  GtkWidget *service;

  if (skip_without_display ())
    return;

  /* A supervisor is not support staff. */
  open_page ("home");
  pm_kiosk_test_act (GTK_WIDGET (window ()), "win.open-page", "service");
  g_assert_cmpstr (pm_window_get_page_name (window ()), ==, "home");
  g_assert_cmpstr (pm_window_get_last_toast (window ()), ==,
                   "Only support staff can open the service screen.");

  open_service_as_support ();
  service = page ("service");
  g_assert_null (pm_service_page_get_log_status (PM_SERVICE_PAGE (service)));

  pm_log_ring_clear ();
  send_error_log_and_wait ();
  g_assert_cmpstr (pm_service_page_get_log_status (PM_SERVICE_PAGE (service)), ==,
                   "There is nothing to send: the meter has logged no warnings or errors "
                   "since it started.");
  pm_test_datacenter_call (dc, latest_log_cb, &kept);
  g_assert_null (kept);

  pm_log_ring_add (G_LOG_LEVEL_WARNING, "postmeter-printer",
                   "The envelope printer on usb://Example/Envelope reports: paper out");
  pm_log_ring_add (G_LOG_LEVEL_MESSAGE, "postmeter-kiosk", "Signed in (not a fault)");
  pm_log_ring_add (G_LOG_LEVEL_CRITICAL, "postmeter-scale", "The scale sent a bad report");
  send_error_log_and_wait ();
  g_assert_cmpstr (pm_service_page_get_log_status (PM_SERVICE_PAGE (service)), ==,
                   "The error log was sent to the provider: 2 warnings and errors.");
  pm_kiosk_test_act (GTK_WIDGET (window ()), "win.dismiss-notice", NULL);
  save_screenshot ("service-error-log-sent");

  pm_test_datacenter_call (dc, latest_log_cb, &kept);
  g_assert_nonnull (kept);
  g_assert_cmpuint (kept->len, ==, 2);
  g_assert_cmpstr (((PmLogRecord *) kept->pdata[0])->message, ==,
                   "The envelope printer on usb://Example/Envelope reports: paper out");
  g_assert_cmpstr (((PmLogRecord *) kept->pdata[0])->domain, ==, "postmeter-printer");
  g_assert_cmpint (((PmLogRecord *) kept->pdata[1])->level, ==, G_LOG_LEVEL_CRITICAL);
  g_assert_cmpstr (((PmLogRecord *) kept->pdata[1])->message, ==,
                   "The scale sent a bad report");

  /* Back to the supervisor the next steps expect. */
  pm_kiosk_test_act (GTK_WIDGET (window ()), "win.lock", NULL);
  g_assert_cmpstr (pm_window_get_page_name (window ()), ==, "lock");
  sign_in (SUPERVISOR_CODE);
}

/* With no data center at the address, the page says the log was not sent and why. */
static void
test_service_send_error_log_no_datacenter (void)
{
  g_autofree char *expected = NULL;
  const char *status;

  if (skip_without_display ())
    return;

  open_service_as_support ();
  pm_log_ring_add (G_LOG_LEVEL_WARNING, "postmeter-net", "The data center did not answer");
  send_error_log_and_wait ();
  status = pm_service_page_get_log_status (PM_SERVICE_PAGE (page ("service")));
  expected = g_strdup_printf ("The error log was not sent: No connection to 127.0.0.1:%u",
                              closed_port);
  if (status == NULL || !g_str_has_prefix (status, expected))
    g_error ("The service page says “%s”", status);
  pm_kiosk_test_act (GTK_WIDGET (window ()), "win.dismiss-notice", NULL);
  save_screenshot ("service-error-log-not-sent");
  pm_log_ring_clear ();
}

/* An operator sees the funds but cannot refill, inspect or change where the meter
 * connects: those actions are off, so activating them does nothing. */
static void
test_operator_sees_funds_only (void)
{
  g_autoptr(GSettings) settings = g_settings_new (PM_SETTINGS_SCHEMA);
  g_autofree char *kept = g_settings_get_string (settings, PM_SETTINGS_DATACENTER_URL);
  g_autofree char *now = NULL;
  GtkWidget *funds;
  PmMills balance;

  if (skip_without_display ())
    return;

  pm_kiosk_test_act (GTK_WIDGET (window ()), "win.lock", NULL);
  sign_in (OPERATOR_CODE);
  g_assert_cmpint (pm_window_get_user (window ())->role, ==, PM_ROLE_OPERATOR);

  open_page ("funds");
  funds = page ("funds");
  g_assert_cmpstr (pm_funds_page_get_row_text (PM_FUNDS_PAGE (funds), "funds"), ==,
                   "$250.00 of postage in the PSD");
  g_assert_null (pm_funds_page_get_message (PM_FUNDS_PAGE (funds)));

  balance = account_balance ();
  pm_funds_page_set_amount_text (PM_FUNDS_PAGE (funds), "100.00");
  gtk_widget_activate_action (funds, "funds.refill", NULL);
  gtk_widget_activate_action (funds, "funds.inspect", NULL);
  g_assert_false (pm_funds_page_is_busy (PM_FUNDS_PAGE (funds)));
  pm_kiosk_test_spin_for_ms (300);
  g_assert_cmpint (account_balance (), ==, balance);
  g_assert_cmpint (pm_connection_get_psd_status (pm_application_get_connection (app))
                   ->descending, ==, 250 * PM_MILLS_PER_DOLLAR);
  save_screenshot ("funds-operator");

  open_page ("settings");
  open_page ("network");
  gtk_widget_activate_action (page ("network"), "network.set-datacenter-url", "s",
                              "https://elsewhere.example:443");
  now = g_settings_get_string (settings, PM_SETTINGS_DATACENTER_URL);
  g_assert_cmpstr (now, ==, kept);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  int result;

  g_test_init (&argc, &argv, NULL);

  pm_kiosk_test_start_session ();

  if (!pm_kiosk_test_start_xvfb (&error))
    g_error ("Could not start Xvfb: %s", error->message);
  if (pm_kiosk_test_skip_reason () == NULL)
    {
      gtk_init ();
      dc = pm_test_datacenter_start ("127.0.0.1");
      prepare_meter ();
    }

  g_test_add_func ("/kiosk/funds/start-and-sign-in", test_start_and_sign_in);
  g_test_add_func ("/kiosk/funds/connect-now-installs-block", test_connect_now_installs_block);
  g_test_add_func ("/kiosk/funds/refill", test_refill);
  g_test_add_func ("/kiosk/funds/refill-refused-amounts", test_refill_refused_amounts);
  g_test_add_func ("/kiosk/funds/inspect-now", test_inspect_now);
  /* GLib runs a suite's tests together, in the order its first test was added: service
   * comes before network, which ends with the data center gone. */
  g_test_add_func ("/kiosk/service/send-error-log", test_service_send_error_log);
  g_test_add_func ("/kiosk/network/test-connection", test_network_and_test_connection);
  g_test_add_func ("/kiosk/network/test-connection-blocked-port",
                   test_connection_test_blocked_port);
  g_test_add_func ("/kiosk/network/status-filtered", test_status_filtered);
  g_test_add_func ("/kiosk/network/no-datacenter", test_connect_now_no_datacenter);
  g_test_add_func ("/kiosk/network/no-datacenter-error-log",
                   test_service_send_error_log_no_datacenter);
  g_test_add_func ("/kiosk/operator/sees-funds-only", test_operator_sees_funds_only);

  result = g_test_run ();

  if (app != NULL)
    {
      PmWindow *win = window ();

      if (win != NULL)
        gtk_window_destroy (GTK_WINDOW (win));
      pm_kiosk_test_spin_for_ms (50);
      g_clear_object (&app);
    }
  if (dc != NULL)
    pm_test_datacenter_stop (dc);
  if (state_dir != NULL)
    pm_kiosk_test_remove_tree (state_dir);
  g_free (state_dir);
  g_free (device_id);

  pm_kiosk_test_stop_session ();

  return result;
}
