/* pm-dc-pki.c
 *
 * Certificates are made with the openssl command (OpenSSL 3): it is on every Debian machine
 * that has libssl, and its output is what an administrator can inspect with the same tool.
 * The provider signing key is made with the same code the machine uses to verify it.
 */
#include "pm-dc-pki.h"

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "pm-signature.h"

G_DEFINE_QUARK (pm-dc-pki-error-quark, pm_dc_pki_error)

static gboolean
run_openssl (const char * const *args,
             GError            **error)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *err_text = NULL;
  int status = 0;

  g_ptr_array_add (argv, (gpointer) "openssl");
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);

  if (!g_spawn_sync (NULL, (char **) argv->pdata, NULL,
                     G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                     NULL, &err_text, &status, error))
    {
      g_prefix_error (error, "Could not run openssl: ");
      return FALSE;
    }
  if (!g_spawn_check_wait_status (status, NULL))
    {
      g_set_error (error, PM_DC_PKI_ERROR, PM_DC_PKI_ERROR_TOOL,
                   "openssl %s failed: %s", args[0], g_strstrip (err_text));
      return FALSE;
    }
  return TRUE;
}

static gboolean
is_ip_address (const char *host)
{
  g_autoptr(GInetAddress) address = g_inet_address_new_from_string (host);

  return address != NULL;
}

gboolean
pm_dc_pki_create (const char *directory,
                  const char *host,
                  GError    **error)
{
  return pm_dc_pki_create_with_key (directory, host, NULL, error);
}

/* The provider's existing signing key. A key file may carry a text preamble before its
 * PEM block (data/keys/demo-provider.key says what it is for); OpenSSL's PEM reader skips
 * it. */
static PmSigningKey *
load_signing_key (const char *path,
                  GError    **error)
{
  g_autofree char *pem = NULL;
  g_autoptr(GError) local_error = NULL;
  PmSigningKey *key;

  if (!g_file_get_contents (path, &pem, NULL, &local_error))
    {
      g_set_error (error, PM_DC_PKI_ERROR, PM_DC_PKI_ERROR_KEY,
                   "Could not read the provider key: %s", local_error->message);
      return NULL;
    }
  key = pm_signing_key_new_from_pem (pem, -1, &local_error);
  if (key == NULL)
    {
      g_set_error (error, PM_DC_PKI_ERROR, PM_DC_PKI_ERROR_KEY,
                   "%s is not a P-256 private key in PEM form: %s", path,
                   local_error->message);
      return NULL;
    }
  return key;
}

gboolean
pm_dc_pki_create_with_key (const char *directory,
                           const char *host,
                           const char *provider_key_file,
                           GError    **error)
{
  g_autofree char *ca = g_build_filename (directory, "ca.pem", NULL);
  g_autofree char *ca_key = g_build_filename (directory, "ca-key.pem", NULL);
  g_autofree char *server = g_build_filename (directory, "server.pem", NULL);
  g_autofree char *server_key = g_build_filename (directory, "server-key.pem", NULL);
  g_autofree char *csr = g_build_filename (directory, "server.csr", NULL);
  g_autofree char *ext = g_build_filename (directory, "server.ext", NULL);
  g_autofree char *provider = g_build_filename (directory, "provider-key.pem", NULL);
  g_autofree char *provider_pub = g_build_filename (directory, "provider.pub.pem", NULL);
  g_autofree char *host_file = g_build_filename (directory, "host", NULL);
  g_autofree char *host_line = g_strconcat (host, "\n", NULL);
  g_autofree char *ca_subject = NULL;
  g_autofree char *server_subject = NULL;
  g_autofree char *ext_text = NULL;
  g_autoptr(PmSigningKey) signing = NULL;
  g_autoptr(PmVerifyKey) verify = NULL;
  g_autoptr(GBytes) pem = NULL;
  g_autoptr(GBytes) pub = NULL;

  g_return_val_if_fail (directory != NULL && host != NULL, FALSE);

  /* A key that does not load stops init before anything is written. */
  if (provider_key_file != NULL)
    {
      signing = load_signing_key (provider_key_file, error);
      if (signing == NULL)
        return FALSE;
    }

  if (g_mkdir_with_parents (directory, 0700) != 0)
    {
      g_set_error (error, PM_DC_PKI_ERROR, PM_DC_PKI_ERROR_IO,
                   "Could not create the folder %s", directory);
      return FALSE;
    }
  if (g_file_test (ca, G_FILE_TEST_EXISTS) || g_file_test (provider, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, PM_DC_PKI_ERROR, PM_DC_PKI_ERROR_EXISTS,
                   "%s already holds a data center's keys; they are kept as they are. "
                   "Use an empty folder to start a new data center", directory);
      return FALSE;
    }

  /* The CA. */
  ca_subject = g_strdup_printf ("/O=Postmeter provider/CN=Postmeter data center CA %s", host);
  if (!run_openssl ((const char *[]) {
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
        "-nodes", "-keyout", ca_key, "-out", ca, "-days", "3650", "-sha256",
        "-subj", ca_subject,
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign", NULL }, error))
    return FALSE;

  /* The server certificate, with the host and loopback as subject alternative names. */
  server_subject = g_strdup_printf ("/O=Postmeter provider/CN=%s", host);
  ext_text = g_strdup_printf ("basicConstraints=CA:FALSE\n"
                              "keyUsage=critical,digitalSignature\n"
                              "extendedKeyUsage=serverAuth\n"
                              "subjectAltName=%s:%s,DNS:localhost,IP:127.0.0.1\n",
                              is_ip_address (host) ? "IP" : "DNS", host);
  if (!g_file_set_contents (ext, ext_text, -1, error))
    return FALSE;
  if (!run_openssl ((const char *[]) {
        "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
        "-nodes", "-keyout", server_key, "-out", csr, "-subj", server_subject, NULL },
        error))
    return FALSE;
  if (!run_openssl ((const char *[]) {
        "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-set_serial", "2",
        "-days", "397", "-sha256", "-extfile", ext, "-out", server, NULL }, error))
    return FALSE;
  g_unlink (csr);
  g_unlink (ext);
  g_chmod (ca_key, 0600);
  g_chmod (server_key, 0600);

  /* The provider signing key: the one given, else a new one. */
  if (signing == NULL)
    signing = pm_signing_key_generate (error);
  if (signing == NULL)
    return FALSE;
  pem = pm_signing_key_to_pem (signing);
  verify = pm_signing_key_get_verify_key (signing);
  pub = pm_verify_key_to_pem (verify);
  if (!g_file_set_contents_full (provider, g_bytes_get_data (pem, NULL),
                                 (gssize) g_bytes_get_size (pem),
                                 G_FILE_SET_CONTENTS_CONSISTENT, 0600, error) ||
      !g_file_set_contents_full (provider_pub, g_bytes_get_data (pub, NULL),
                                 (gssize) g_bytes_get_size (pub),
                                 G_FILE_SET_CONTENTS_CONSISTENT, 0644, error))
    return FALSE;

  /* The address the data center tells machines to use for its services. */
  return g_file_set_contents (host_file, host_line, -1, error);
}
