/* pm-signature.c
 *
 * OpenSSL 3 EVP keys behind two small refcounted types. A signing key holds a private key;
 * a verify key holds only the public half, so code that verifies cannot sign by mistake.
 */
#include "pm-signature.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#define COORDINATE_LENGTH (PM_SIGNATURE_LENGTH / 2)

struct _PmSigningKey
{
  gatomicrefcount  ref_count;
  EVP_PKEY        *pkey;     /* owned; private and public parts */
};

struct _PmVerifyKey
{
  gatomicrefcount  ref_count;
  EVP_PKEY        *pkey;     /* owned; public part only */
};

G_DEFINE_QUARK (pm-signature-error-quark, pm_signature_error)

static gboolean
is_p256 (EVP_PKEY *pkey)
{
  char group[64] = "";
  size_t group_length = 0;

  if (EVP_PKEY_get_base_id (pkey) != EVP_PKEY_EC)
    return FALSE;
  if (!EVP_PKEY_get_utf8_string_param (pkey, OSSL_PKEY_PARAM_GROUP_NAME,
                                       group, sizeof group, &group_length))
    return FALSE;

  return g_strcmp0 (group, "prime256v1") == 0 || g_strcmp0 (group, "P-256") == 0;
}

static GBytes *
bio_to_bytes (BIO *bio)
{
  char *data = NULL;
  long length = BIO_get_mem_data (bio, &data);

  return g_bytes_new (data, (gsize) length);
}

static PmSigningKey *
signing_key_wrap (EVP_PKEY *pkey)
{
  PmSigningKey *key = g_new0 (PmSigningKey, 1);

  g_atomic_ref_count_init (&key->ref_count);
  key->pkey = pkey;
  return key;
}

static PmVerifyKey *
verify_key_wrap (EVP_PKEY *pkey)
{
  PmVerifyKey *key = g_new0 (PmVerifyKey, 1);

  g_atomic_ref_count_init (&key->ref_count);
  key->pkey = pkey;
  return key;
}

PmSigningKey *
pm_signing_key_generate (GError **error)
{
  EVP_PKEY *pkey = EVP_PKEY_Q_keygen (NULL, NULL, "EC", "P-256");

  if (pkey == NULL)
    {
      g_set_error (error, PM_SIGNATURE_ERROR, PM_SIGNATURE_ERROR_CRYPTO,
                   "Could not generate a P-256 key");
      return NULL;
    }

  return signing_key_wrap (pkey);
}

PmSigningKey *
pm_signing_key_new_from_pem (const char  *pem,
                             gssize       length,
                             GError     **error)
{
  BIO *bio;
  EVP_PKEY *pkey;

  g_return_val_if_fail (pem != NULL, NULL);

  bio = BIO_new_mem_buf (pem, length < 0 ? -1 : (int) length);
  pkey = PEM_read_bio_PrivateKey (bio, NULL, NULL, NULL);
  BIO_free (bio);

  if (pkey == NULL || !is_p256 (pkey))
    {
      EVP_PKEY_free (pkey);
      g_set_error (error, PM_SIGNATURE_ERROR, PM_SIGNATURE_ERROR_BAD_KEY,
                   "The private key is unreadable or is not an ECDSA P-256 key");
      return NULL;
    }

  return signing_key_wrap (pkey);
}

PmSigningKey *
pm_signing_key_ref (PmSigningKey *key)
{
  g_return_val_if_fail (key != NULL, NULL);

  g_atomic_ref_count_inc (&key->ref_count);
  return key;
}

void
pm_signing_key_unref (PmSigningKey *key)
{
  g_return_if_fail (key != NULL);

  if (g_atomic_ref_count_dec (&key->ref_count))
    {
      EVP_PKEY_free (key->pkey);
      g_free (key);
    }
}

GBytes *
pm_signing_key_to_pem (PmSigningKey *key)
{
  BIO *bio;
  GBytes *bytes;

  g_return_val_if_fail (key != NULL, NULL);

  bio = BIO_new (BIO_s_mem ());
  if (!PEM_write_bio_PrivateKey (bio, key->pkey, NULL, NULL, 0, NULL, NULL))
    {
      BIO_free (bio);
      return NULL;
    }
  bytes = bio_to_bytes (bio);
  BIO_free (bio);
  return bytes;
}

PmVerifyKey *
pm_signing_key_get_verify_key (PmSigningKey *key)
{
  unsigned char *der = NULL;
  const unsigned char *cursor;
  int length;
  EVP_PKEY *pub;

  g_return_val_if_fail (key != NULL, NULL);

  /* A round trip through the public DER drops the private scalar for good. */
  length = i2d_PUBKEY (key->pkey, &der);
  if (length <= 0)
    return NULL;
  cursor = der;
  pub = d2i_PUBKEY (NULL, &cursor, length);
  OPENSSL_free (der);

  return pub != NULL ? verify_key_wrap (pub) : NULL;
}

gboolean
pm_signing_key_sign (PmSigningKey  *key,
                     const guint8  *data,
                     gsize          length,
                     guint8         out_signature[PM_SIGNATURE_LENGTH],
                     GError       **error)
{
  EVP_MD_CTX *ctx;
  unsigned char der[80];
  size_t der_length = sizeof der;
  const unsigned char *cursor = der;
  ECDSA_SIG *sig = NULL;
  const BIGNUM *r, *s;
  gboolean ok = FALSE;

  g_return_val_if_fail (key != NULL, FALSE);
  g_return_val_if_fail (data != NULL || length == 0, FALSE);

  ctx = EVP_MD_CTX_new ();
  if (ctx != NULL
      && EVP_DigestSignInit (ctx, NULL, EVP_sha256 (), NULL, key->pkey) == 1
      && EVP_DigestSign (ctx, der, &der_length, data, length) == 1
      && (sig = d2i_ECDSA_SIG (NULL, &cursor, (long) der_length)) != NULL)
    {
      ECDSA_SIG_get0 (sig, &r, &s);
      ok = BN_bn2binpad (r, out_signature, COORDINATE_LENGTH) == COORDINATE_LENGTH
           && BN_bn2binpad (s, out_signature + COORDINATE_LENGTH,
                            COORDINATE_LENGTH) == COORDINATE_LENGTH;
    }

  ECDSA_SIG_free (sig);
  EVP_MD_CTX_free (ctx);

  if (!ok)
    g_set_error (error, PM_SIGNATURE_ERROR, PM_SIGNATURE_ERROR_CRYPTO,
                 "Could not sign with the P-256 key");
  return ok;
}

PmVerifyKey *
pm_verify_key_new_from_pem (const char  *pem,
                            gssize       length,
                            GError     **error)
{
  BIO *bio;
  EVP_PKEY *pkey;

  g_return_val_if_fail (pem != NULL, NULL);

  bio = BIO_new_mem_buf (pem, length < 0 ? -1 : (int) length);
  pkey = PEM_read_bio_PUBKEY (bio, NULL, NULL, NULL);
  BIO_free (bio);

  if (pkey == NULL || !is_p256 (pkey))
    {
      EVP_PKEY_free (pkey);
      g_set_error (error, PM_SIGNATURE_ERROR, PM_SIGNATURE_ERROR_BAD_KEY,
                   "The public key is unreadable or is not an ECDSA P-256 key");
      return NULL;
    }

  return verify_key_wrap (pkey);
}

PmVerifyKey *
pm_verify_key_new_from_point (const guint8  *point,
                              gsize          length,
                              GError       **error)
{
  EVP_PKEY_CTX *ctx;
  EVP_PKEY *pkey = NULL;
  OSSL_PARAM params[3];
  char group[] = "prime256v1";

  g_return_val_if_fail (point != NULL, NULL);

  if (length != 1 + PM_SIGNATURE_LENGTH || point[0] != 0x04)
    {
      g_set_error (error, PM_SIGNATURE_ERROR, PM_SIGNATURE_ERROR_BAD_KEY,
                   "A P-256 public point has 65 bytes starting with 04");
      return NULL;
    }

  params[0] = OSSL_PARAM_construct_utf8_string (OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
  params[1] = OSSL_PARAM_construct_octet_string (OSSL_PKEY_PARAM_PUB_KEY,
                                                 (void *) point, length);
  params[2] = OSSL_PARAM_construct_end ();

  ctx = EVP_PKEY_CTX_new_from_name (NULL, "EC", NULL);
  if (ctx == NULL
      || EVP_PKEY_fromdata_init (ctx) != 1
      || EVP_PKEY_fromdata (ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
    {
      EVP_PKEY_CTX_free (ctx);
      EVP_PKEY_free (pkey);
      g_set_error (error, PM_SIGNATURE_ERROR, PM_SIGNATURE_ERROR_BAD_KEY,
                   "The bytes are not a point on the P-256 curve");
      return NULL;
    }
  EVP_PKEY_CTX_free (ctx);

  return verify_key_wrap (pkey);
}

PmVerifyKey *
pm_verify_key_ref (PmVerifyKey *key)
{
  g_return_val_if_fail (key != NULL, NULL);

  g_atomic_ref_count_inc (&key->ref_count);
  return key;
}

void
pm_verify_key_unref (PmVerifyKey *key)
{
  g_return_if_fail (key != NULL);

  if (g_atomic_ref_count_dec (&key->ref_count))
    {
      EVP_PKEY_free (key->pkey);
      g_free (key);
    }
}

GBytes *
pm_verify_key_to_pem (PmVerifyKey *key)
{
  BIO *bio;
  GBytes *bytes = NULL;

  g_return_val_if_fail (key != NULL, NULL);

  bio = BIO_new (BIO_s_mem ());
  if (PEM_write_bio_PUBKEY (bio, key->pkey))
    bytes = bio_to_bytes (bio);
  BIO_free (bio);
  return bytes;
}

GBytes *
pm_verify_key_to_point (PmVerifyKey *key)
{
  guint8 point[1 + PM_SIGNATURE_LENGTH];
  size_t length = 0;

  g_return_val_if_fail (key != NULL, NULL);

  if (!EVP_PKEY_get_octet_string_param (key->pkey, OSSL_PKEY_PARAM_PUB_KEY,
                                        point, sizeof point, &length)
      || length != sizeof point)
    return NULL;

  return g_bytes_new (point, length);
}

gboolean
pm_verify_key_verify (PmVerifyKey   *key,
                      const guint8  *data,
                      gsize          length,
                      const guint8   signature[PM_SIGNATURE_LENGTH])
{
  ECDSA_SIG *sig;
  BIGNUM *r, *s;
  unsigned char *der = NULL;
  int der_length;
  EVP_MD_CTX *ctx;
  gboolean valid = FALSE;

  g_return_val_if_fail (key != NULL, FALSE);
  g_return_val_if_fail (data != NULL || length == 0, FALSE);
  g_return_val_if_fail (signature != NULL, FALSE);

  sig = ECDSA_SIG_new ();
  r = BN_bin2bn (signature, COORDINATE_LENGTH, NULL);
  s = BN_bin2bn (signature + COORDINATE_LENGTH, COORDINATE_LENGTH, NULL);
  if (sig == NULL || r == NULL || s == NULL || !ECDSA_SIG_set0 (sig, r, s))
    {
      BN_free (r);
      BN_free (s);
      ECDSA_SIG_free (sig);
      return FALSE;
    }

  der_length = i2d_ECDSA_SIG (sig, &der);
  ECDSA_SIG_free (sig);
  if (der_length <= 0)
    return FALSE;

  ctx = EVP_MD_CTX_new ();
  if (ctx != NULL
      && EVP_DigestVerifyInit (ctx, NULL, EVP_sha256 (), NULL, key->pkey) == 1
      && EVP_DigestVerify (ctx, der, (size_t) der_length, data, length) == 1)
    valid = TRUE;

  EVP_MD_CTX_free (ctx);
  OPENSSL_free (der);
  return valid;
}

char *
pm_verify_key_fingerprint (PmVerifyKey *key)
{
  unsigned char *der = NULL;
  int length;
  char *hex;

  g_return_val_if_fail (key != NULL, NULL);

  length = i2d_PUBKEY (key->pkey, &der);
  if (length <= 0)
    return NULL;
  hex = g_compute_checksum_for_data (G_CHECKSUM_SHA256, der, (gsize) length);
  OPENSSL_free (der);
  return hex;
}
