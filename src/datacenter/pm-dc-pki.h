/* pm-dc-pki.h: the data center's keys and certificates
 *
 * `postmeter-datacenter init` makes, in one folder: a certificate authority (ca.pem,
 * ca-key.pem), a TLS server certificate for the host name machines will use (server.pem,
 * server-key.pem) and the provider signing key (provider-key.pem, provider.pub.pem) that
 * signs refills, audit answers, manifests and upload receipts. The signing key is not the
 * TLS key: TLS says who is talking, the signature says what the provider vouches for.
 *
 * A provider that already has a signing key (the one its rate packages are signed with)
 * gives it to init, which copies it instead of making a new one, so machines need only one
 * provider key.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define PM_DC_PKI_ERROR (pm_dc_pki_error_quark ())

typedef enum
{
  PM_DC_PKI_ERROR_EXISTS,       /* the folder already holds keys; never overwritten */
  PM_DC_PKI_ERROR_TOOL,         /* the openssl command failed */
  PM_DC_PKI_ERROR_IO,
  PM_DC_PKI_ERROR_KEY,          /* the given provider key is unreadable or not P-256 */
} PmDcPkiError;

GQuark   pm_dc_pki_error_quark (void);

/* host may be a DNS name or an IP address; the certificate also names localhost and
 * 127.0.0.1 so the demo works on loopback. */
gboolean pm_dc_pki_create      (const char *directory,
                                const char *host,
                                GError    **error);
/* The same with the provider's existing private key (PEM, PKCS#8 or SEC1; text before the
 * PEM block is allowed); NULL makes a new key. Nothing is written when the key does not
 * load. */
gboolean pm_dc_pki_create_with_key (const char *directory,
                                    const char *host,
                                    const char *provider_key_file,
                                    GError    **error);

G_END_DECLS
