/* pm-signature.h: ECDSA P-256 signatures over SHA-256, as raw 64-byte r||s
 *
 * Indicia, signed packages, operational blocks and refills all use the same primitive. The
 * signature is kept as the two 32-byte big-endian integers r and s, not as DER, so it has a
 * fixed size inside a Data Matrix.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define PM_SIGNATURE_LENGTH 64

#define PM_SIGNATURE_ERROR (pm_signature_error_quark ())

typedef enum
{
  PM_SIGNATURE_ERROR_BAD_KEY,       /* unreadable, not P-256, or the wrong kind of key */
  PM_SIGNATURE_ERROR_CRYPTO,        /* the crypto library failed */
} PmSignatureError;

GQuark pm_signature_error_quark (void);

typedef struct _PmSigningKey PmSigningKey;
typedef struct _PmVerifyKey  PmVerifyKey;

PmSigningKey *pm_signing_key_generate        (GError       **error);
PmSigningKey *pm_signing_key_new_from_pem    (const char    *pem,
                                              gssize         length,
                                              GError       **error);
PmSigningKey *pm_signing_key_ref             (PmSigningKey  *key);
void          pm_signing_key_unref           (PmSigningKey  *key);
/* The private key as PKCS#8 PEM: only for the device that owns it (its sealed state file)
 * and for provider tools; never sent anywhere. */
GBytes       *pm_signing_key_to_pem          (PmSigningKey  *key);
PmVerifyKey  *pm_signing_key_get_verify_key  (PmSigningKey  *key);
gboolean      pm_signing_key_sign            (PmSigningKey  *key,
                                              const guint8  *data,
                                              gsize          length,
                                              guint8         out_signature[PM_SIGNATURE_LENGTH],
                                              GError       **error);

PmVerifyKey  *pm_verify_key_new_from_pem     (const char    *pem,
                                              gssize         length,
                                              GError       **error);
/* From the 65-byte uncompressed point (0x04 || X || Y). */
PmVerifyKey  *pm_verify_key_new_from_point   (const guint8  *point,
                                              gsize          length,
                                              GError       **error);
PmVerifyKey  *pm_verify_key_ref              (PmVerifyKey   *key);
void          pm_verify_key_unref            (PmVerifyKey   *key);
GBytes       *pm_verify_key_to_pem           (PmVerifyKey   *key);
GBytes       *pm_verify_key_to_point         (PmVerifyKey   *key);
gboolean      pm_verify_key_verify           (PmVerifyKey   *key,
                                              const guint8  *data,
                                              gsize          length,
                                              const guint8   signature[PM_SIGNATURE_LENGTH]);
/* Lower-case hex SHA-256 of the DER SubjectPublicKeyInfo. */
char         *pm_verify_key_fingerprint      (PmVerifyKey   *key);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmSigningKey, pm_signing_key_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmVerifyKey, pm_verify_key_unref)

G_END_DECLS
