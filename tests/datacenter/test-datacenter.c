/* test-datacenter.c: the reference data center's keys, command line and rules */
#include <gio/gunixinputstream.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <string.h>

#include "pm-connectivity.h"
#include "pm-dc-pki.h"
#include "pm-dc-server.h"
#include "pm-log.h"
#include "pm-net-services.h"
#include "pm-psd-message.h"
#include "pm-package.h"
#include "pm-software-psd.h"
#include "pm-test-datacenter.h"

/* A fresh folder inside this test's isolated directories (removed with them). */
static char *
test_make_dir (const char *name)
{
  char *path = g_build_filename (g_get_user_cache_dir (), name, NULL);

  g_assert_cmpint (g_mkdir_with_parents (path, 0700), ==, 0);
  return path;
}

static char *
tool_path (void)
{
  return g_build_filename (g_getenv ("POSTMETER_BUILD_ROOT"), "src", "datacenter",
                           "postmeter-datacenter", NULL);
}

/* Runs the tool; returns its stdout and asserts the exit status. */
static char *
run_tool (int          expected_status,
          char       **out_stderr,
          const char  *first,
          ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  char *out = NULL;
  int status = 0;
  va_list args;

  g_ptr_array_add (argv, tool_path ());
  va_start (args, first);
  for (const char *a = first; a != NULL; a = va_arg (args, const char *))
    g_ptr_array_add (argv, g_strdup (a));
  va_end (args);
  g_ptr_array_add (argv, NULL);

  g_spawn_sync (NULL, (char **) argv->pdata, NULL, 0, NULL, NULL, &out, out_stderr, &status,
                &error);
  g_assert_no_error (error);
  g_assert_cmpint (WEXITSTATUS (status), ==, expected_status);
  return out;
}

static void
test_pki (void)
{
  g_autofree char *dir = test_make_dir ("pm-pki");
  g_autofree char *ca_file = g_build_filename (dir, "ca.pem", NULL);
  g_autofree char *cert_file = g_build_filename (dir, "server.pem", NULL);
  g_autoptr(GTlsCertificate) ca = NULL;
  g_autoptr(GTlsCertificate) cert = NULL;
  g_autoptr(GSocketConnectable) right = g_network_address_new ("dc.example.com", 443);
  g_autoptr(GSocketConnectable) loopback = g_network_address_new ("127.0.0.1", 443);
  g_autoptr(GSocketConnectable) wrong = g_network_address_new ("evil.example.com", 443);
  g_autoptr(GError) error = NULL;

  g_assert_true (pm_dc_pki_create (dir, "dc.example.com", &error));
  g_assert_no_error (error);

  ca = g_tls_certificate_new_from_file (ca_file, &error);
  g_assert_no_error (error);
  cert = g_tls_certificate_new_from_file (cert_file, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_tls_certificate_verify (cert, right, ca), ==, 0);
  g_assert_cmpint (g_tls_certificate_verify (cert, loopback, ca), ==, 0);
  g_assert_cmpint (g_tls_certificate_verify (cert, wrong, ca) & G_TLS_CERTIFICATE_BAD_IDENTITY,
                   !=, 0);

  /* A second init never overwrites a data center's keys. */
  g_assert_false (pm_dc_pki_create (dir, "dc.example.com", &error));
  g_assert_error (error, PM_DC_PKI_ERROR, PM_DC_PKI_ERROR_EXISTS);
}

static void
test_cli (void)
{
  g_autofree char *dir = test_make_dir ("pm-cli");
  g_autofree char *dc = g_build_filename (dir, "dc", NULL);
  g_autofree char *key_file = g_build_filename (dir, "psd.pub.pem", NULL);
  g_autofree char *package = g_build_filename (dir, "rates.xml", NULL);
  g_autoptr(PmSigningKey) psd = pm_signing_key_generate (NULL);
  g_autoptr(PmVerifyKey) psd_public = pm_signing_key_get_verify_key (psd);
  g_autoptr(GBytes) pem = pm_verify_key_to_pem (psd_public);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  g_file_set_contents (key_file, g_bytes_get_data (pem, NULL),
                       (gssize) g_bytes_get_size (pem), NULL);
  g_file_set_contents (package, "<rates/>", -1, NULL);

  out = run_tool (0, NULL, "init", dc, "--host", "dc.example.com", NULL);
  g_assert_nonnull (strstr (out, "ca.pem"));
  g_clear_pointer (&out, g_free);

  out = run_tool (0, NULL, "register-device", dc, "--psd-serial", "4100007", "--psd-key",
                  key_file, "--account", "ACME-7", "--origin-zip", "60601", NULL);
  g_assert_nonnull (strstr (out, "registered as device PM0004100007"));
  g_clear_pointer (&out, g_free);

  out = run_tool (1, &err, "register-device", dc, "--psd-serial", "4100007", "--psd-key",
                  key_file, "--account", "ACME-7", NULL);
  g_assert_nonnull (strstr (err, "already registered"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  out = run_tool (0, NULL, "fund", dc, "ACME-7", "1500.25", NULL);
  g_assert_cmpstr (out, ==, "Account ACME-7 now holds $1,500.25\n");
  g_clear_pointer (&out, g_free);
  out = run_tool (0, NULL, "fund", dc, "ACME-7", "99.75", NULL);
  g_assert_cmpstr (out, ==, "Account ACME-7 now holds $1,600.00\n");
  g_clear_pointer (&out, g_free);

  out = run_tool (1, &err, "fund", dc, "ACME-7", "-5", NULL);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  out = run_tool (0, NULL, "publish-package", dc, package, "--type", "rates", "--name",
                  "usps-domestic", "--version", "2", "--effective", "2026-07-12", NULL);
  g_assert_cmpstr (out, ==, "Published rates usps-domestic version 2\n");
  g_clear_pointer (&out, g_free);
  out = run_tool (1, &err, "publish-package", dc, package, "--type", "rates", "--name",
                  "usps-domestic", "--version", "2", NULL);
  g_assert_nonnull (strstr (err, "publish a higher version"));
  g_clear_pointer (&out, g_free);

  out = run_tool (0, NULL, "list-uploads", dc, NULL);
  g_assert_nonnull (strstr (out, "PM0004100007"));
  g_clear_pointer (&out, g_free);

  /* A port number that is no port is refused, not cut to 16 bits. */
  g_clear_pointer (&err, g_free);
  out = run_tool (2, &err, "serve", dc, "--address", "127.0.0.1", "--port", "99999", NULL);
  g_assert_nonnull (strstr (err, "not 99999"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  out = run_tool (2, &err, "serve", dc, "--address", "127.0.0.1", "--port", "0",
                  "--http-port", "-1", NULL);
  g_assert_nonnull (strstr (err, "not -1"));
  g_clear_pointer (&out, g_free);

  out = run_tool (1, &err, "serve", dir, NULL);
  g_assert_nonnull (strstr (err, "has no data center keys"));
}

/* register-software-psd makes a software PSD that trusts this data center's provider key
 * and registers the PSD's own public key; a second time, the same PSD is already known. */
static void
test_cli_register_software_psd (void)
{
  g_autofree char *dir = test_make_dir ("pm-cli-psd");
  g_autofree char *dc = g_build_filename (dir, "dc", NULL);
  g_autofree char *psd_dir = g_build_filename (dir, "meter", "psd", NULL);
  g_autofree char *provider_file = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(PmVerifyKey) provider_key = NULL;
  g_autoptr(PmSoftwarePsd) psd = NULL;
  g_autoptr(GError) error = NULL;

  out = run_tool (0, NULL, "init", dc, "--host", "127.0.0.1", NULL);
  g_clear_pointer (&out, g_free);

  out = run_tool (2, &err, "register-software-psd", dc, psd_dir, NULL);
  g_assert_nonnull (strstr (err, "Usage"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  out = run_tool (0, NULL, "register-software-psd", dc, psd_dir, "--account", "DEMO-1",
                  "--psd-serial", "4100777", "--origin-zip", "60601", NULL);
  g_assert_nonnull (strstr (out, "Software PSD 4100777"));
  g_assert_nonnull (strstr (out, "registered as device PM0004100777, account DEMO-1"));
  g_clear_pointer (&out, g_free);

  out = run_tool (1, &err, "register-software-psd", dc, psd_dir, "--account", "DEMO-1",
                  NULL);
  g_assert_nonnull (strstr (err, "already registered"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* The PSD opens with the data center's provider key, and with no other. */
  provider_file = g_build_filename (dc, "provider.pub.pem", NULL);
  provider_key = pm_package_load_key (provider_file, &error);
  g_assert_no_error (error);
  psd = pm_software_psd_open (psd_dir, provider_key, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (pm_psd_get_serial (PM_PSD (psd)), ==, 4100777);
}

/* A private key file as a provider keeps it: a line of text before the PEM block, as in
 * data/keys/demo-provider.key. */
static char *
write_key_with_preamble (const char   *dir,
                         PmSigningKey *key)
{
  g_autoptr(GBytes) pem = pm_signing_key_to_pem (key);
  g_autofree char *text = g_strdup_printf ("Test provider key, made for this test only.\n%.*s",
                                           (int) g_bytes_get_size (pem),
                                           (const char *) g_bytes_get_data (pem, NULL));
  char *path = g_build_filename (dir, "provider.key", NULL);

  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  return path;
}

static char *
file_fingerprint (const char *path,
                  gboolean    private_key)
{
  g_autofree char *pem = NULL;
  g_autoptr(PmSigningKey) signing = NULL;
  g_autoptr(PmVerifyKey) verify = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (g_file_get_contents (path, &pem, NULL, &error));
  if (private_key)
    {
      signing = pm_signing_key_new_from_pem (pem, -1, &error);
      g_assert_no_error (error);
      verify = pm_signing_key_get_verify_key (signing);
    }
  else
    {
      verify = pm_verify_key_new_from_pem (pem, -1, &error);
      g_assert_no_error (error);
    }
  return pm_verify_key_fingerprint (verify);
}

/* init with the provider's existing key signs with that key, and with no other; a key
 * that does not load stops init before it writes anything. */
static void
test_pki_provider_key (void)
{
  g_autofree char *dir = test_make_dir ("pm-pki-key");
  g_autofree char *dc = g_build_filename (dir, "dc", NULL);
  g_autofree char *bad_dc = g_build_filename (dir, "bad", NULL);
  g_autofree char *bad_ca = g_build_filename (bad_dc, "ca.pem", NULL);
  g_autofree char *pub_file = g_build_filename (dc, "provider.pub.pem", NULL);
  g_autofree char *priv_file = g_build_filename (dc, "provider-key.pem", NULL);
  g_autofree char *public_only = g_build_filename (dir, "public.pem", NULL);
  g_autofree char *missing = g_build_filename (dir, "missing.key", NULL);
  g_autofree char *key_file = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *got_public = NULL;
  g_autofree char *got_private = NULL;
  g_autofree char *demo_dc = NULL;
  g_autofree char *demo_key = NULL;
  g_autofree char *demo_pub = NULL;
  g_autofree char *demo_expected = NULL;
  g_autofree char *demo_got = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(PmSigningKey) key = pm_signing_key_generate (NULL);
  g_autoptr(PmVerifyKey) verify = pm_signing_key_get_verify_key (key);
  g_autoptr(GBytes) verify_pem = pm_verify_key_to_pem (verify);
  g_autoptr(GError) error = NULL;

  key_file = write_key_with_preamble (dir, key);
  expected = pm_verify_key_fingerprint (verify);

  g_assert_true (pm_dc_pki_create_with_key (dc, "dc.example.com", key_file, &error));
  g_assert_no_error (error);
  got_public = file_fingerprint (pub_file, FALSE);
  got_private = file_fingerprint (priv_file, TRUE);
  g_assert_cmpstr (got_public, ==, expected);
  g_assert_cmpstr (got_private, ==, expected);

  /* A public key, a missing file and a file that is no key are refused, with nothing
   * written. */
  g_file_set_contents (public_only, g_bytes_get_data (verify_pem, NULL),
                       (gssize) g_bytes_get_size (verify_pem), NULL);
  g_assert_false (pm_dc_pki_create_with_key (bad_dc, "dc.example.com", public_only, &error));
  g_assert_error (error, PM_DC_PKI_ERROR, PM_DC_PKI_ERROR_KEY);
  g_assert_nonnull (strstr (error->message, "not a P-256 private key"));
  g_clear_error (&error);
  g_assert_false (pm_dc_pki_create_with_key (bad_dc, "dc.example.com", missing, &error));
  g_assert_error (error, PM_DC_PKI_ERROR, PM_DC_PKI_ERROR_KEY);
  g_clear_error (&error);
  g_assert_false (pm_dc_pki_create_with_key (bad_dc, "dc.example.com", bad_ca, &error));
  g_assert_error (error, PM_DC_PKI_ERROR, PM_DC_PKI_ERROR_KEY);
  g_clear_error (&error);
  g_assert_false (g_file_test (bad_ca, G_FILE_TEST_EXISTS));

  /* The command line, with the demo provider key that comes with Postmeter (its text
   * preamble included): the data center's public key is the shipped one. */
  demo_dc = g_build_filename (dir, "demo-dc", NULL);
  demo_key = g_build_filename (g_getenv ("POSTMETER_SOURCE_ROOT"), "data", "keys",
                               "demo-provider.key", NULL);
  demo_pub = g_build_filename (g_getenv ("POSTMETER_SOURCE_ROOT"), "data", "keys",
                               "demo-provider.pub", NULL);
  out = run_tool (0, NULL, "init", demo_dc, "--host", "127.0.0.1", "--provider-key",
                  demo_key, NULL);
  g_clear_pointer (&out, g_free);
  demo_expected = file_fingerprint (demo_pub, FALSE);
  g_clear_pointer (&pub_file, g_free);
  pub_file = g_build_filename (demo_dc, "provider.pub.pem", NULL);
  demo_got = file_fingerprint (pub_file, FALSE);
  g_assert_cmpstr (demo_got, ==, demo_expected);

  out = run_tool (1, &err, "init", bad_dc, "--host", "127.0.0.1", "--provider-key",
                  public_only, NULL);
  g_assert_nonnull (strstr (err, "not a P-256 private key"));
  g_assert_false (g_file_test (bad_ca, G_FILE_TEST_EXISTS));
}

static void
waiter_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

/* `serve` answers the 204 check and TLS with the CA `init` made. */
static void
test_cli_serve (void)
{
  g_autofree char *dir = test_make_dir ("pm-serve");
  g_autofree char *ca = g_build_filename (dir, "ca.pem", NULL);
  g_autofree char *tool = tool_path ();
  g_autofree char *line = NULL;
  g_autofree char *out = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GInputStream) stdout_stream = NULL;
  g_autoptr(GDataInputStream) data = NULL;
  g_autoptr(PmAllowlist) allowlist = pm_allowlist_new ();
  g_autoptr(PmNetClient) client = NULL;
  g_autofree char *check = NULL;
  g_autofree char *explanation = NULL;
  const char *argv[] = { tool, "serve", dir, "--address", "127.0.0.1", "--port", "0",
                         "--http-port", "0", NULL };
  guint https_port = 0, http_port = 0;
  GAsyncResult *result = NULL;
  int wait_status = 0;
  GPid pid;
  int out_fd;

  out = run_tool (0, NULL, "init", dir, "--host", "127.0.0.1", NULL);
  g_spawn_async_with_pipes (NULL, (char **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL,
                            NULL, &pid, NULL, &out_fd, NULL, &error);
  g_assert_no_error (error);
  stdout_stream = g_unix_input_stream_new (out_fd, TRUE);
  data = g_data_input_stream_new (stdout_stream);
  line = g_data_input_stream_read_line (data, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (sscanf (line, "Serving https://127.0.0.1:%u (services) and "
                           "http://127.0.0.1:%u/generate_204", &https_port, &http_port), ==, 2);

  pm_allowlist_add (allowlist, "http", "127.0.0.1", http_port);
  client = pm_net_client_new (ca, allowlist, 5, &error);
  g_assert_no_error (error);
  check = g_strdup_printf ("http://127.0.0.1:%u/generate_204", http_port);
  pm_connectivity_check_async (client, check, NULL, waiter_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (pm_connectivity_check_finish (client, result, &explanation, &error), ==,
                   PM_CONNECTIVITY_ONLINE);
  g_assert_no_error (error);
  g_object_unref (result);
  /* SIGTERM (what systemd sends) stops it cleanly. */
  kill (pid, SIGTERM);
  g_assert_cmpint (waitpid (pid, &wait_status, 0), ==, pid);
  g_assert_true (WIFEXITED (wait_status));
  g_assert_cmpint (WEXITSTATUS (wait_status), ==, 0);
  g_spawn_close_pid (pid);
}

/* Starts `serve` on free loopback ports; answers its process and the TLS port. */
static GPid
start_serve (const char *dir,
             guint      *out_https_port)
{
  g_autofree char *tool = tool_path ();
  g_autofree char *line = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GInputStream) stdout_stream = NULL;
  g_autoptr(GDataInputStream) data = NULL;
  const char *argv[] = { tool, "serve", dir, "--address", "127.0.0.1", "--port", "0",
                         "--http-port", "0", NULL };
  guint http_port = 0;
  GPid pid;
  int out_fd;

  g_spawn_async_with_pipes (NULL, (char **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL,
                            NULL, &pid, NULL, &out_fd, NULL, &error);
  g_assert_no_error (error);
  stdout_stream = g_unix_input_stream_new (out_fd, TRUE);
  data = g_data_input_stream_new (stdout_stream);
  line = g_data_input_stream_read_line (data, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (line);
  g_assert_cmpint (sscanf (line, "Serving https://127.0.0.1:%u (services) and "
                           "http://127.0.0.1:%u/generate_204", out_https_port, &http_port),
                   ==, 2);
  return pid;
}

static void
stop_serve (GPid pid)
{
  int wait_status = 0;

  kill (pid, SIGTERM);
  g_assert_cmpint (waitpid (pid, &wait_status, 0), ==, pid);
  g_spawn_close_pid (pid);
}

/* Runs postmeter-admin on state_dir with the kiosk settings of config_home (a keyfile
 * settings backend) and input on standard input; asserts the exit status. */
static char *
run_admin (int          expected_status,
           char       **out_stderr,
           const char  *config_home,
           const char  *state_dir,
           const char  *input,
           const char  *command,
           ...)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *tool = g_build_filename (g_getenv ("POSTMETER_BUILD_ROOT"), "src", "tools",
                                            "postmeter-admin", NULL);
  g_autofree char *state_option = g_strconcat ("--state-dir=", state_dir, NULL);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  char *out = NULL;
  char *err = NULL;
  va_list args;

  g_ptr_array_add (argv, tool);
  g_ptr_array_add (argv, state_option);
  va_start (args, command);
  for (const char *a = command; a != NULL; a = va_arg (args, const char *))
    g_ptr_array_add (argv, (gpointer) a);
  va_end (args);
  g_ptr_array_add (argv, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                        G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_setenv (launcher, "GSETTINGS_BACKEND", "keyfile", TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_CONFIG_HOME", config_home, TRUE);
  process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata,
                                          &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, input, NULL, &out, &err, &error);
  g_assert_no_error (error);
  if (g_subprocess_get_exit_status (process) != expected_status)
    g_test_message ("postmeter-admin %s: %s", command, err);
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, expected_status);
  if (out_stderr != NULL)
    *out_stderr = err;
  else
    g_free (err);
  return out;
}

/* The kiosk's settings as the keyfile backend keeps them. */
static void
write_kiosk_settings (const char *config_home,
                      const char *settings)
{
  g_autofree char *dir = g_build_filename (config_home, "glib-2.0", "settings", NULL);
  g_autofree char *file = g_build_filename (dir, "keyfile", NULL);
  g_autofree char *text = g_strconcat ("[org/postmeter/Kiosk]\n", settings, NULL);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (file, text, -1, NULL));
}

/* postmeter-admin refill: a supervisor's code authorises it; the PSD gets its operational
 * block and then its funds from the data center, within the account's balance, each
 * refill numbered one more than the last and written to the audit log. */
static void
test_cli_admin_refill (void)
{
  g_autofree char *dir = test_make_dir ("pm-admin-refill");
  g_autofree char *dc = g_build_filename (dir, "dc", NULL);
  g_autofree char *state = g_build_filename (dir, "meter", NULL);
  g_autofree char *psd_dir = g_build_filename (state, "psd", NULL);
  g_autofree char *empty_state = g_build_filename (dir, "empty", NULL);
  g_autofree char *config = g_build_filename (dir, "config", NULL);
  g_autofree char *no_config = g_build_filename (dir, "no-config", NULL);
  g_autofree char *ca = g_build_filename (dc, "ca.pem", NULL);
  g_autofree char *demo_key = g_build_filename (g_getenv ("POSTMETER_SOURCE_ROOT"), "data",
                                                "keys", "demo-provider.key", NULL);
  g_autofree char *settings = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  guint port = 0;
  GPid pid;

  /* One provider key for everything: the data center signs with the demo key, and the
   * meter's settings leave the provider key empty, which is the shipped demo key. */
  out = run_tool (0, NULL, "init", dc, "--host", "127.0.0.1", "--provider-key", demo_key,
                  NULL);
  g_clear_pointer (&out, g_free);
  out = run_tool (0, NULL, "register-software-psd", dc, psd_dir, "--account", "ADMIN-1",
                  "--psd-serial", "4100555", "--origin-zip", "60601", NULL);
  g_clear_pointer (&out, g_free);
  out = run_tool (0, NULL, "fund", dc, "ADMIN-1", "300.00", NULL);
  g_clear_pointer (&out, g_free);
  pid = start_serve (dc, &port);

  settings = g_strdup_printf ("datacenter-url='https://127.0.0.1:%u'\n"
                              "provider-ca-file='%s'\n", port, ca);
  write_kiosk_settings (config, settings);

  out = run_admin (0, NULL, config, state, "2468\n", "set-up", "Alex Morgan", NULL);
  g_clear_pointer (&out, g_free);
  out = run_admin (0, NULL, config, state, "2468\n1357\n", "add-user", "Jamie Lee",
                   "operator", NULL);
  g_clear_pointer (&out, g_free);

  out = run_admin (0, NULL, config, state, NULL, "status", NULL);
  g_assert_nonnull (strstr (out, "serial 4100555\n"));
  g_assert_nonnull (strstr (out, "operational-block no\n"));
  g_assert_nonnull (strstr (out, "descending $0.00\n"));
  g_assert_nonnull (strstr (out, "specimen yes\n"));
  g_clear_pointer (&out, g_free);

  /* Bad input, a wrong code, no code: refused before anything is asked of anyone. */
  out = run_admin (1, &err, config, state, "2468\n", "refill", "ten dollars", NULL);
  g_assert_nonnull (strstr (err, "is not an amount of money"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  out = run_admin (1, &err, config, state, "2468\n", "refill", "0", NULL);
  g_assert_nonnull (strstr (err, "more than $0.00"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  out = run_admin (1, &err, config, state, "1111\n", "refill", "10.00", NULL);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  out = run_admin (1, &err, config, state, "1357\n", "refill", "10.00", NULL);
  g_assert_nonnull (strstr (err, "refill needs a supervisor; Jamie Lee is operator"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  out = run_admin (1, &err, config, state, "", "refill", "10.00", NULL);
  g_assert_nonnull (strstr (err, "needs a supervisor's code"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* The first refill installs the block first. */
  out = run_admin (0, NULL, config, state, "2468\n", "refill", "120.50", NULL);
  g_assert_nonnull (strstr (out, "Operational block installed: PSD 4100555, origin ZIP "
                                 "60601"));
  g_assert_nonnull (strstr (out, "Refilled $120.50\n"));
  g_assert_nonnull (strstr (out, "sequence 1\n"));
  g_assert_nonnull (strstr (out, "account-balance $179.50\n"));
  g_assert_nonnull (strstr (out, "descending $120.50\n"));
  g_clear_pointer (&out, g_free);

  /* More than the account holds: the data center refuses, the PSD keeps what it had. */
  out = run_admin (4, &err, config, state, "2468\n", "refill", "500.00", NULL);
  g_assert_nonnull (strstr (err, "the refill was not applied"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  out = run_admin (0, NULL, config, state, "2468\n", "refill", "30.00", NULL);
  g_assert_null (strstr (out, "Operational block"));
  g_assert_nonnull (strstr (out, "Refilled $30.00\n"));
  g_assert_nonnull (strstr (out, "sequence 2\n"));
  g_assert_nonnull (strstr (out, "account-balance $149.50\n"));
  g_assert_nonnull (strstr (out, "descending $150.50\n"));
  g_clear_pointer (&out, g_free);

  out = run_admin (0, NULL, config, state, NULL, "status", NULL);
  g_assert_nonnull (strstr (out, "operational-block yes\n"));
  g_assert_nonnull (strstr (out, "origin-zip 60601\n"));
  g_assert_nonnull (strstr (out, "descending $150.50\n"));
  g_assert_nonnull (strstr (out, "ascending $0.00\n"));
  g_assert_nonnull (strstr (out, "last-refill-sequence 2\n"));
  g_clear_pointer (&out, g_free);

  /* The supervisor's refills are in the audit log, under their user id. */
  out = run_admin (0, NULL, config, state, NULL, "audit", NULL);
  g_assert_nonnull (strstr (out, "psd-operational-block\t1\tPSD 4100555, origin ZIP 60601"));
  g_assert_nonnull (strstr (out, "psd-refill\t1\t$120.50, sequence 1, receipt "));
  g_assert_nonnull (strstr (out, "psd-refill\t1\t$30.00, sequence 2, receipt "));
  g_clear_pointer (&out, g_free);

  /* No data center address in the settings. */
  out = run_admin (4, &err, no_config, state, "2468\n", "refill", "10.00", NULL);
  g_assert_nonnull (strstr (err, "No data center address is set"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* A meter with no PSD yet: nothing is made behind the kiosk's back. */
  out = run_admin (0, NULL, config, empty_state, "2468\n", "set-up", "Alex Morgan", NULL);
  g_clear_pointer (&out, g_free);
  out = run_admin (3, &err, config, empty_state, NULL, "status", NULL);
  g_assert_nonnull (strstr (err, "There is no PSD in"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  out = run_admin (3, &err, config, empty_state, "2468\n", "refill", "10.00", NULL);
  g_assert_nonnull (strstr (err, "There is no PSD in"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* The data center gone: a clear failure, and the PSD unchanged. */
  stop_serve (pid);
  out = run_admin (4, &err, config, state, "2468\n", "refill", "10.00", NULL);
  g_assert_nonnull (strstr (err, "did not sign the meter in"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  out = run_admin (0, NULL, config, state, NULL, "status", NULL);
  g_assert_nonnull (strstr (out, "descending $150.50\n"));
}

/* A refill the data center issued but the PSD never applied is sent again, even under a
 * new request id, and the account is charged once; a request that skips ahead is refused. */
static void
test_refill_resend (void)
{
  PmTestDatacenter *dc = pm_test_datacenter_start ("127.0.0.1");
  g_autoptr(PmNetClient) client = pm_test_datacenter_client (dc, 0, 5);
  PmFundsResponse *answers[2] = { NULL, NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(PmNetResponse) raw = NULL;
  PmNetRequest *request;
  GAsyncResult *result = NULL;

  pm_test_datacenter_authenticate (dc, client);
  for (guint i = 0; i < 3; i++)
    {
      PmFundsRequest *r = g_new0 (PmFundsRequest, 1);
      PmFundsResponse *answer;

      r->kind = PM_FUNDS_REFILL;
      r->psd_serial = g_strdup_printf ("%u", PM_TEST_PSD_SERIAL);
      r->amount = 100 * PM_MILLS_PER_DOLLAR;
      r->sequence = i < 2 ? 1 : 3;        /* the third skips sequence 2 */
      pm_funds_call_async (client, r, dc->provider_key, NULL, waiter_cb, &result);
      while (result == NULL)
        g_main_context_iteration (NULL, TRUE);
      answer = pm_funds_call_finish (client, result, &error);
      g_clear_object (&result);
      if (i < 2)
        {
          g_assert_no_error (error);
          answers[i] = answer;
        }
      else
        {
          g_assert_null (answer);
          g_assert_error (error, PM_NET_ERROR, PM_NET_ERROR_CLIENT);
          g_assert_nonnull (strstr (error->message, "asks for refill 3"));
          g_clear_error (&error);
        }
    }
  g_assert_cmpstr (answers[0]->receipt_id, ==, answers[1]->receipt_id);
  g_assert_cmpint (answers[1]->balance, ==, 900 * PM_MILLS_PER_DOLLAR);
  pm_funds_response_free (answers[0]);
  pm_funds_response_free (answers[1]);

  /* An upload without an Idempotency-Key is refused. */
  request = pm_net_client_new_service_request (client, PM_REMOTE_SERVICE_UPLOADS, "POST",
                                               "/batches", &error);
  g_assert_no_error (error);
  request->body = g_bytes_new_static ("x", 1);
  pm_net_client_send_async (client, request, NULL, waiter_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  raw = pm_net_client_send_finish (client, result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (raw->status, ==, 400);
  g_clear_object (&result);

  g_clear_object (&client);
  pm_test_datacenter_stop (dc);
}

/* The data center validates what machines send as strictly as machines validate it. */
static void
test_hostile_requests (void)
{
  PmTestDatacenter *dc = pm_test_datacenter_start ("127.0.0.1");
  g_autoptr(PmNetClient) client = pm_test_datacenter_client (dc, 0, 5);
  struct {
    const char *path;
    const char *body;
    guint status;
    const char *words;
  } cases[] = {
    { "/distributor/authenticate",
      "<!DOCTYPE x [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]>"
      "<authenticate-request version=\"1\"><psd-serial>&b;</psd-serial>"
      "</authenticate-request>", 400, "refused unread" },
    { "/distributor/authenticate",
      "<authenticate-request version=\"1\"><psd-serial>1; DROP TABLE device</psd-serial>"
      "<certificate>QQ==</certificate><software-version>1</software-version>"
      "<model>m</model></authenticate-request>", 400, "does not follow its schema" },
    { "/distributor/authenticate",
      "<authenticate-request version=\"1\"><psd-serial>999</psd-serial>"
      "<certificate>QQ==</certificate><software-version>1</software-version>"
      "<model>m</model></authenticate-request>", 403, "not registered" },
    { "/funds", "<funds-request/>", 401, "authenticate with the distributor first" },
    { "/accounting/sync", NULL, 413, "larger than any message" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *url = pm_test_datacenter_url (dc, cases[i].path);
      PmNetRequest *request = pm_net_request_new ("POST", url);
      g_autoptr(PmNetResponse) response = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *code = NULL;
      g_autofree char *message = NULL;
      GAsyncResult *result = NULL;

      if (cases[i].body != NULL)
        request->body = g_bytes_new (cases[i].body, strlen (cases[i].body));
      else
        request->body = g_bytes_new_take (g_malloc0 (5 * 1024 * 1024), 5 * 1024 * 1024);
      request->content_type = g_strdup ("application/xml");
      pm_net_client_send_async (client, request, NULL, waiter_cb, &result);
      while (result == NULL)
        g_main_context_iteration (NULL, TRUE);
      response = pm_net_client_send_finish (client, result, &error);
      g_object_unref (result);
      g_assert_no_error (error);
      g_assert_cmpuint (response->status, ==, cases[i].status);
      g_assert_true (pm_protocol_error_parse (response->body, &code, &message, &error));
      if (strstr (message, cases[i].words) == NULL)
        g_error ("case %u: “%s” lacks “%s”", i, message, cases[i].words);
    }

  g_clear_object (&client);
  pm_test_datacenter_stop (dc);
}

/* A replacement PSD: the machine keeps its id, the new PSD gets an operational block bound
 * to its key, and its refills start again at 1. */
static void
test_replacement (void)
{
  PmTestDatacenter *dc = pm_test_datacenter_start ("127.0.0.1");
  g_autoptr(PmNetClient) client = pm_test_datacenter_client (dc, 0, 5);
  g_autoptr(PmSigningKey) new_psd = pm_signing_key_generate (NULL);
  g_autoptr(PmVerifyKey) new_public = pm_signing_key_get_verify_key (new_psd);
  g_autoptr(GError) error = NULL;
  PmFundsResponse *answer;
  PmFundsRequest *request;
  PmOperationalBlock block;
  PmPostageValueDownload pvd;
  GAsyncResult *result = NULL;
  guint8 digest[32];

  pm_test_datacenter_authenticate (dc, client);

  /* The old PSD had its first refill. */
  request = g_new0 (PmFundsRequest, 1);
  request->kind = PM_FUNDS_REFILL;
  request->psd_serial = g_strdup_printf ("%u", PM_TEST_PSD_SERIAL);
  request->amount = 25 * PM_MILLS_PER_DOLLAR;
  request->sequence = 1;
  pm_funds_call_async (client, request, dc->provider_key, NULL, waiter_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  answer = pm_funds_call_finish (client, result, &error);
  g_clear_object (&result);
  g_assert_no_error (error);
  pm_funds_response_free (answer);

  request = g_new0 (PmFundsRequest, 1);
  request->kind = PM_FUNDS_REPLACEMENT;
  request->psd_serial = g_strdup ("4100099");
  request->amount = request->sequence = -1;
  request->psd_message = pm_verify_key_to_pem (new_public);
  pm_funds_call_async (client, request, dc->provider_key, NULL, waiter_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  answer = pm_funds_call_finish (client, result, &error);
  g_clear_object (&result);
  g_assert_no_error (error);
  g_assert_true (pm_operational_block_verify (answer->psd_message, dc->provider_key, &block,
                                              &error));
  g_assert_cmpuint (block.psd_serial, ==, 4100099);
  pm_psd_key_digest (new_public, digest);
  g_assert_cmpmem (block.psd_key_digest, 32, digest, 32);
  pm_funds_response_free (answer);

  request = g_new0 (PmFundsRequest, 1);
  request->kind = PM_FUNDS_REFILL;
  request->psd_serial = g_strdup ("4100099");
  request->amount = 40 * PM_MILLS_PER_DOLLAR;
  request->sequence = 1;
  pm_funds_call_async (client, request, dc->provider_key, NULL, waiter_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  answer = pm_funds_call_finish (client, result, &error);
  g_clear_object (&result);
  g_assert_no_error (error);
  g_assert_true (pm_postage_value_download_verify (answer->psd_message, dc->provider_key,
                                                   &pvd, &error));
  g_assert_cmpuint (pvd.psd_serial, ==, 4100099);
  g_assert_cmpuint (pvd.sequence, ==, 1);
  g_assert_cmpint (pvd.amount, ==, 40000);
  g_assert_cmpint (answer->balance, ==, (1000 - 25 - 40) * PM_MILLS_PER_DOLLAR);
  pm_funds_response_free (answer);

  g_clear_object (&client);
  pm_test_datacenter_stop (dc);
}

/* A health record whose checksum header does not match its body is refused. */
static void
test_health_checksum (void)
{
  PmTestDatacenter *dc = pm_test_datacenter_start ("127.0.0.1");
  g_autoptr(PmNetClient) client = pm_test_datacenter_client (dc, 0, 5);
  g_autoptr(PmHealthRecord) record = NULL;
  g_autoptr(PmNetResponse) response = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *suffix = NULL;
  PmNetRequest *request;
  GAsyncResult *result = NULL;

  pm_test_datacenter_authenticate (dc, client);
  record = pm_health_record_new (dc->device_id);
  suffix = g_strdup_printf ("/%s/x.xml", dc->device_id);
  request = pm_net_client_new_service_request (client, PM_REMOTE_SERVICE_HEALTH, "PUT",
                                               suffix, &error);
  g_assert_no_error (error);
  request->body = pm_health_record_build (record);
  /* The MD5 of the empty string, not of this body. */
  pm_net_request_add_header (request, "Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg==");
  pm_net_client_send_async (client, request, NULL, waiter_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  response = pm_net_client_send_finish (client, result, &error);
  g_clear_object (&result);
  g_assert_no_error (error);
  g_assert_cmpuint (response->status, ==, 400);
  g_assert_nonnull (g_strstr_len (g_bytes_get_data (response->body, NULL),
                                  (gssize) g_bytes_get_size (response->body), "BadDigest"));

  g_clear_object (&client);
  pm_test_datacenter_stop (dc);
}

static gboolean
put_health (PmNetClient     *client,
            PmHealthRecord  *record,
            GError         **error)
{
  GAsyncResult *result = NULL;
  gboolean ok;

  pm_health_put_async (client, record, NULL, waiter_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  ok = pm_health_put_finish (client, result, error);
  g_object_unref (result);
  return ok;
}

typedef struct
{
  PmTestDatacenter *dc;
  GPtrArray        *records;
  guint64           dropped;
  char             *listing;
} ErrorLogQuery;

static gboolean
error_log_query_cb (gpointer data)
{
  ErrorLogQuery *q = data;

  q->records = pm_dc_server_get_latest_error_log (q->dc->server, q->dc->device_id,
                                                  &q->dropped);
  q->listing = pm_dc_server_describe_error_logs (q->dc->server, NULL, NULL);
  return G_SOURCE_REMOVE;
}

/* An error log rides in a health record: checked line by line, kept record by record,
 * listed from the command line with its control characters escaped; a malformed one is
 * refused whole and changes nothing. */
static void
test_health_error_log (void)
{
  PmTestDatacenter *dc = pm_test_datacenter_start ("127.0.0.1");
  g_autoptr(PmNetClient) client = pm_test_datacenter_client (dc, 0, 5);
  g_autoptr(PmHealthRecord) record = NULL;
  g_autoptr(PmHealthRecord) bad = NULL;
  g_autoptr(GPtrArray) sent = g_ptr_array_new_with_free_func (
                                (GDestroyNotify) pm_log_record_free);
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *expected = NULL;
  ErrorLogQuery q = { dc };
  /* 2026-12-04T07:19:58.000042Z */
  const gint64 t1 = G_GINT64_CONSTANT (1796368798) * G_USEC_PER_SEC + 42;
  static const char bad_log[] = "#postmeter-error-log 1 dropped=0\n"
                                "2026-12-04T07:19:58.000042Z NOTICE postmeter-net: x\n";

  pm_test_datacenter_authenticate (dc, client);

  /* No log yet. */
  pm_test_datacenter_call (dc, error_log_query_cb, &q);
  g_assert_null (q.records);
  g_assert_cmpstr (q.listing, ==, "No error logs.\n");
  g_clear_pointer (&q.listing, g_free);

  g_ptr_array_add (sent, pm_log_record_new (t1, G_LOG_LEVEL_WARNING, "postmeter-scale",
                                            "The scale on /dev/ttyUSB0 stopped answering"));
  g_ptr_array_add (sent, pm_log_record_new (t1 + 1500000, G_LOG_LEVEL_CRITICAL,
                                            "postmeter-printer",
                                            "Job 12 failed:\n\x1b[2Jpaper out"));
  record = pm_health_record_new (dc->device_id);
  record->taken_at = t1 / G_USEC_PER_SEC;
  record->log = pm_log_records_to_text (sent, 4);
  g_assert_true (put_health (client, record, &error));
  g_assert_no_error (error);

  pm_test_datacenter_call (dc, error_log_query_cb, &q);
  g_assert_nonnull (q.records);
  g_assert_cmpuint (q.records->len, ==, 2);
  g_assert_cmpuint (q.dropped, ==, 4);
  for (guint i = 0; i < 2; i++)
    {
      const PmLogRecord *a = sent->pdata[i];
      const PmLogRecord *b = q.records->pdata[i];

      g_assert_cmpint (a->time_us, ==, b->time_us);
      g_assert_cmpint (a->level, ==, b->level);
      g_assert_cmpstr (a->domain, ==, b->domain);
      g_assert_cmpstr (a->message, ==, b->message);
    }
  g_clear_pointer (&q.records, g_ptr_array_unref);
  g_clear_pointer (&q.listing, g_free);

  /* The same record again (a resend) replaces, and does not double, what was kept. */
  g_assert_true (put_health (client, record, &error));
  g_assert_no_error (error);

  /* A log with a bad line: refused with the line named, nothing changes. */
  bad = pm_health_record_new (dc->device_id);
  bad->taken_at = t1 / G_USEC_PER_SEC + 60;
  bad->log = g_bytes_new_static (bad_log, sizeof bad_log - 1);
  g_assert_false (put_health (client, bad, &error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "malformed at line 2: the level"));
  g_clear_error (&error);

  pm_test_datacenter_call (dc, error_log_query_cb, &q);
  g_assert_cmpuint (q.records->len, ==, 2);
  g_clear_pointer (&q.records, g_ptr_array_unref);
  g_clear_pointer (&q.listing, g_free);

  /* The command line, reading the same database while the server runs. */
  out = run_tool (0, NULL, "list-error-logs", dc->directory, NULL);
  expected = g_strdup_printf ("  2026-12-04T07:19:58.000042Z WARNING postmeter-scale: The "
                              "scale on /dev/ttyUSB0 stopped answering\n"
                              "  2026-12-04T07:19:59.500042Z CRITICAL postmeter-printer: Job "
                              "12 failed:\\n\\x1b[2Jpaper out\n");
  g_assert_true (g_str_has_prefix (out, dc->device_id));
  g_assert_nonnull (strstr (out, "  2 records, 4 older dropped  ("));
  g_assert_true (g_str_has_suffix (out, expected));
  g_assert_null (strchr (out, '\x1b'));
  g_clear_pointer (&out, g_free);
  out = run_tool (0, NULL, "list-error-logs", dc->directory, "PM0009999999", NULL);
  g_assert_cmpstr (out, ==, "No error logs from this device.\n");

  g_clear_object (&client);
  pm_test_datacenter_stop (dc);
}

int
main (int    argc,
      char **argv)
{
  g_setenv ("SOUP_FORCE_HTTP1", "1", TRUE);
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/datacenter/pki/init", test_pki);
  g_test_add_func ("/datacenter/pki/provider-key", test_pki_provider_key);
  g_test_add_func ("/datacenter/cli/administration", test_cli);
  g_test_add_func ("/datacenter/cli/serve", test_cli_serve);
  g_test_add_func ("/datacenter/cli/register-software-psd", test_cli_register_software_psd);
  g_test_add_func ("/datacenter/cli/admin-refill", test_cli_admin_refill);
  g_test_add_func ("/datacenter/funds/refill-resend", test_refill_resend);
  g_test_add_func ("/datacenter/server/hostile-requests", test_hostile_requests);
  g_test_add_func ("/datacenter/funds/replacement", test_replacement);
  g_test_add_func ("/datacenter/health/checksum", test_health_checksum);
  g_test_add_func ("/datacenter/health/error-log", test_health_error_log);

  return g_test_run ();
}
