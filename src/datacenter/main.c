/* postmeter-datacenter: the provider's side of Postmeter, for tests, demos and as a model
 *
 *   postmeter-datacenter init DIR --host NAME [--provider-key FILE]
 *   postmeter-datacenter serve DIR [--address IP] [--port N] [--http-port N]
 *   postmeter-datacenter register-device DIR --psd-serial N --psd-key FILE --account ID
 *                                        [--origin-zip ZIP]
 *   postmeter-datacenter fund DIR ACCOUNT AMOUNT
 *   postmeter-datacenter publish-package DIR FILE --type T --name N --version V
 *                                        [--effective YYYY-MM-DD]
 *   postmeter-datacenter list-uploads DIR
 *   postmeter-datacenter list-error-logs DIR [DEVICE]
 *   postmeter-datacenter register-software-psd DIR PSD-DIR --account ID [--psd-serial N]
 *                                        [--origin-zip ZIP]
 *
 * register-software-psd is for demonstrations and development: it makes Postmeter's
 * software PSD in PSD-DIR (a meter's <state-dir>/psd), trusting this data center's
 * provider key, and registers its public key. A certified PSD is registered with
 * register-device from the key its manufacturer certifies.
 */
#include <errno.h>
#include <glib-unix.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>

#include "pm-dc-pki.h"
#include "pm-dc-server.h"
#include "pm-log.h"
#include "pm-package.h"
#include "pm-software-psd.h"

static int
usage (void)
{
  fprintf (stderr,
           "Usage:\n"
           "  postmeter-datacenter init DIR --host NAME [--provider-key FILE]\n"
           "  postmeter-datacenter serve DIR [--address IP] [--port N] [--http-port N]\n"
           "  postmeter-datacenter register-device DIR --psd-serial N --psd-key FILE"
           " --account ID [--origin-zip ZIP]\n"
           "  postmeter-datacenter fund DIR ACCOUNT AMOUNT\n"
           "  postmeter-datacenter publish-package DIR FILE --type rates|graphics|software"
           " --name NAME --version N [--effective YYYY-MM-DD]\n"
           "  postmeter-datacenter list-uploads DIR\n"
           "  postmeter-datacenter list-error-logs DIR [DEVICE]\n"
           "  postmeter-datacenter register-software-psd DIR PSD-DIR --account ID"
           " [--psd-serial N] [--origin-zip ZIP]\n");
  return 2;
}

static int
fail (GError *error)
{
  fprintf (stderr, "postmeter-datacenter: %s\n", error->message);
  g_error_free (error);
  return 1;
}

static gboolean
quit_cb (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

static gboolean
parse_options (int           *argc,
               char        ***argv,
               GOptionEntry  *entries,
               GError       **error)
{
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_help_enabled (context, TRUE);
  return g_option_context_parse (context, argc, argv, error);
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(PmDcServer) server = NULL;
  g_autofree char *host = NULL;
  g_autofree char *address = NULL;
  g_autofree char *psd_key = NULL;
  g_autofree char *account = NULL;
  g_autofree char *type = NULL;
  g_autofree char *name = NULL;
  g_autofree char *effective = NULL;
  g_autofree char *provider_key_file = NULL;
  int port = 8443, http_port = 8080, psd_serial = 0, origin_zip = 0;
  gint64 version = 0;
  GError *error = NULL;
  const char *command;
  const char *directory;
  GOptionEntry entries[] = {
    { "host", 0, 0, G_OPTION_ARG_STRING, &host, "Host name machines use", "NAME" },
    { "address", 0, 0, G_OPTION_ARG_STRING, &address, "Address to listen on", "IP" },
    { "port", 0, 0, G_OPTION_ARG_INT, &port, "TLS port", "N" },
    { "http-port", 0, 0, G_OPTION_ARG_INT, &http_port, "Plain HTTP port (204 check)", "N" },
    { "psd-serial", 0, 0, G_OPTION_ARG_INT, &psd_serial, "PSD serial", "N" },
    { "psd-key", 0, 0, G_OPTION_ARG_FILENAME, &psd_key, "PSD public key (PEM)", "FILE" },
    { "account", 0, 0, G_OPTION_ARG_STRING, &account, "Customer account", "ID" },
    { "origin-zip", 0, 0, G_OPTION_ARG_INT, &origin_zip, "Licensing ZIP", "ZIP" },
    { "type", 0, 0, G_OPTION_ARG_STRING, &type, "Package type", "T" },
    { "name", 0, 0, G_OPTION_ARG_STRING, &name, "Package name", "NAME" },
    { "version", 0, 0, G_OPTION_ARG_INT64, &version, "Package version", "N" },
    { "effective", 0, 0, G_OPTION_ARG_STRING, &effective, "Effective date", "DATE" },
    { "provider-key", 0, 0, G_OPTION_ARG_FILENAME, &provider_key_file,
      "init: the provider's existing signing key (PEM private key)", "FILE" },
    { NULL }
  };

  setlocale (LC_ALL, "");
  pm_log_init ();

  if (!parse_options (&argc, &argv, entries, &error))
    return fail (error);
  if (argc < 3)
    return usage ();
  command = argv[1];
  directory = argv[2];

  if (g_str_equal (command, "init"))
    {
      if (host == NULL)
        return usage ();
      if (!pm_dc_pki_create_with_key (directory, host, provider_key_file, &error))
        return fail (error);
      printf ("Data center keys made in %s for %s.\n"
              "Give machines %s/ca.pem (the CA they trust) and %s/provider.pub.pem "
              "(the key that signs refills, manifests and receipts).\n",
              directory, host, directory, directory);
      return 0;
    }

  server = pm_dc_server_new (directory, &error);
  if (server == NULL)
    return fail (error);

  if (g_str_equal (command, "serve"))
    {
      g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);

      /* 0 asks for any free port (tests use it); anything else must be a real port. */
      if (port < 0 || port > 65535 || http_port < 0 || http_port > 65535)
        {
          fprintf (stderr, "postmeter-datacenter: a port is a number from 1 to 65535 "
                           "(or 0 for any free port), not %d\n",
                   port < 0 || port > 65535 ? port : http_port);
          return 2;
        }
      if (!pm_dc_server_listen (server, address != NULL ? address : "0.0.0.0", port,
                                http_port, &error))
        return fail (error);
      printf ("Serving https://%s:%u (services) and http://%s:%u/generate_204\n",
              pm_dc_server_get_host (server), pm_dc_server_get_https_port (server),
              pm_dc_server_get_host (server), pm_dc_server_get_http_port (server));
      fflush (stdout);
      /* Stop cleanly on SIGTERM (systemd) and SIGINT, so the database closes properly. */
      g_unix_signal_add (SIGTERM, quit_cb, loop);
      g_unix_signal_add (SIGINT, quit_cb, loop);
      g_main_loop_run (loop);
      pm_dc_server_disconnect (server);
      g_message ("Stopped");
      return 0;
    }
  if (g_str_equal (command, "register-device"))
    {
      g_autofree char *pem = NULL;
      g_autofree char *device_id = NULL;

      if (psd_serial <= 0 || psd_key == NULL || account == NULL)
        return usage ();
      if (!g_file_get_contents (psd_key, &pem, NULL, &error) ||
          !pm_dc_server_register_device (server, (guint32) psd_serial, pem, account,
                                         (guint32) origin_zip, &device_id, &error))
        return fail (error);
      printf ("PSD %d registered as device %s, account %s\n", psd_serial, device_id, account);
      return 0;
    }
  if (g_str_equal (command, "fund"))
    {
      PmMills amount = 0, balance = 0;
      g_autofree char *text = NULL;

      if (argc < 5)
        return usage ();
      if (!pm_money_parse (argv[4], &amount, &error) ||
          !pm_dc_server_fund_account (server, argv[3], amount, &balance, &error))
        return fail (error);
      text = pm_money_format (balance);
      printf ("Account %s now holds %s\n", argv[3], text);
      return 0;
    }
  if (g_str_equal (command, "publish-package"))
    {
      if (argc < 4 || type == NULL || name == NULL || version <= 0)
        return usage ();
      if (!pm_dc_server_publish_package (server, argv[3], type, name, version, effective,
                                         &error))
        return fail (error);
      printf ("Published %s %s version %" G_GINT64_FORMAT "\n", type, name, version);
      return 0;
    }
  if (g_str_equal (command, "register-software-psd"))
    {
      g_autofree char *key_file = g_build_filename (directory, "provider.pub.pem", NULL);
      g_autoptr(PmVerifyKey) provider_key = NULL;
      g_autoptr(PmSoftwarePsd) psd = NULL;
      g_autoptr(PmVerifyKey) psd_key_public = NULL;
      g_autoptr(GBytes) pem = NULL;
      g_autofree char *pem_text = NULL;
      g_autofree char *device_id = NULL;

      if (argc < 4 || account == NULL || psd_serial < 0)
        return usage ();
      provider_key = pm_package_load_key (key_file, &error);
      if (provider_key == NULL)
        return fail (error);
      if (g_mkdir_with_parents (argv[3], 0700) != 0)
        {
          g_set_error (&error, G_FILE_ERROR, g_file_error_from_errno (errno),
                       "Could not create %s: %s", argv[3], g_strerror (errno));
          return fail (error);
        }
      psd = pm_software_psd_open (argv[3], provider_key, (guint32) psd_serial, &error);
      if (psd == NULL)
        return fail (error);
      psd_key_public = pm_psd_get_public_key (PM_PSD (psd));
      if (psd_key_public == NULL)
        {
          g_set_error (&error, G_IO_ERROR, G_IO_ERROR_FAILED,
                       "The PSD in %s has no readable key", argv[3]);
          return fail (error);
        }
      pem = pm_verify_key_to_pem (psd_key_public);
      pem_text = g_strndup (g_bytes_get_data (pem, NULL), g_bytes_get_size (pem));
      if (!pm_dc_server_register_device (server, pm_psd_get_serial (PM_PSD (psd)), pem_text,
                                         account, (guint32) origin_zip, &device_id, &error))
        return fail (error);
      printf ("Software PSD %u in %s registered as device %s, account %s\n",
              pm_psd_get_serial (PM_PSD (psd)), argv[3], device_id, account);
      return 0;
    }
  if (g_str_equal (command, "list-uploads"))
    {
      g_autofree char *text = pm_dc_server_describe_uploads (server, &error);

      if (text == NULL)
        return fail (error);
      fputs (text, stdout);
      return 0;
    }
  if (g_str_equal (command, "list-error-logs"))
    {
      g_autofree char *text = pm_dc_server_describe_error_logs (server,
                                                                argc >= 4 ? argv[3] : NULL,
                                                                &error);

      if (text == NULL)
        return fail (error);
      fputs (text, stdout);
      return 0;
    }

  return usage ();
}
