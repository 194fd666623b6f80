/* pm-access-code.c: scrypt hashing of access codes
 *
 * Called from worker threads (the access workflow never hashes on the main thread), so
 * the only shared state, the parameters for new hashes, sits behind a lock.
 */
#include "pm-access-code.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#define SCHEME "scrypt"

/* What a stored string may ask for. The bounds keep a damaged or hostile row from making
 * a sign-in take minutes or gigabytes. */
#define MIN_N        G_GUINT64_CONSTANT (2)
#define MAX_N        (G_GUINT64_CONSTANT (1) << 20)
#define MAX_R        32
#define MAX_P        16
#define MAX_MEMORY   (G_GUINT64_CONSTANT (1) << 30)
#define MIN_SALT     4
#define MAX_SALT     64
#define MIN_HASH     16
#define MAX_HASH     64

G_DEFINE_QUARK (pm-access-code-error-quark, pm_access_code_error)

G_LOCK_DEFINE_STATIC (params);
static PmAccessCodeParams current_params = {
  PM_ACCESS_CODE_SCRYPT_N, PM_ACCESS_CODE_SCRYPT_R, PM_ACCESS_CODE_SCRYPT_P
};

void
pm_access_code_get_params (PmAccessCodeParams *out_params)
{
  g_return_if_fail (out_params != NULL);

  G_LOCK (params);
  *out_params = current_params;
  G_UNLOCK (params);
}

void
pm_access_code_set_params_for_testing (const PmAccessCodeParams *test_params)
{
  G_LOCK (params);
  if (test_params != NULL)
    current_params = *test_params;
  else
    current_params = (PmAccessCodeParams) {
      PM_ACCESS_CODE_SCRYPT_N, PM_ACCESS_CODE_SCRYPT_R, PM_ACCESS_CODE_SCRYPT_P
    };
  G_UNLOCK (params);
}

static gboolean
params_are_acceptable (const PmAccessCodeParams *p,
                       GError                  **error)
{
  guint64 memory;

  if (p->n < MIN_N || p->n > MAX_N || (p->n & (p->n - 1)) != 0
      || p->r < 1 || p->r > MAX_R || p->p < 1 || p->p > MAX_P)
    {
      g_set_error (error, PM_ACCESS_CODE_ERROR, PM_ACCESS_CODE_ERROR_UNSUPPORTED,
                   "The stored access code uses scrypt costs this version does not "
                   "accept (N=%" G_GUINT64_FORMAT ", r=%u, p=%u); set the user's "
                   "code again",
                   p->n, p->r, p->p);
      return FALSE;
    }

  /* scrypt needs 128 * N * r bytes, plus 128 * r * p for the parallel blocks. */
  memory = 128 * p->n * p->r + 128 * (guint64) p->r * p->p;
  if (memory > MAX_MEMORY)
    {
      g_set_error (error, PM_ACCESS_CODE_ERROR, PM_ACCESS_CODE_ERROR_UNSUPPORTED,
                   "The stored access code asks for more memory than allowed; set the "
                   "user's code again");
      return FALSE;
    }

  return TRUE;
}

static gboolean
derive (const char               *code,
        const guint8             *salt,
        gsize                     salt_len,
        const PmAccessCodeParams *p,
        guint8                   *out,
        gsize                     out_len,
        GError                  **error)
{
  EVP_KDF *kdf = NULL;
  EVP_KDF_CTX *ctx = NULL;
  OSSL_PARAM ossl_params[7];
  uint64_t n = p->n;
  uint32_t r = p->r;
  uint32_t par = p->p;
  uint64_t maxmem = MAX_MEMORY + G_GUINT64_CONSTANT (1048576);
  gboolean ok = FALSE;

  kdf = EVP_KDF_fetch (NULL, OSSL_KDF_NAME_SCRYPT, NULL);
  if (kdf != NULL)
    ctx = EVP_KDF_CTX_new (kdf);
  if (ctx == NULL)
    {
      g_set_error (error, PM_ACCESS_CODE_ERROR, PM_ACCESS_CODE_ERROR_FAILED,
                   "The scrypt function is not available from OpenSSL; check the "
                   "OpenSSL 3 installation");
      goto out;
    }

  /* OpenSSL copies nothing out of these buffers beyond the call. */
  ossl_params[0] = OSSL_PARAM_construct_octet_string (OSSL_KDF_PARAM_PASSWORD,
                                                      (void *) code, strlen (code));
  ossl_params[1] = OSSL_PARAM_construct_octet_string (OSSL_KDF_PARAM_SALT,
                                                      (void *) salt, salt_len);
  ossl_params[2] = OSSL_PARAM_construct_uint64 (OSSL_KDF_PARAM_SCRYPT_N, &n);
  ossl_params[3] = OSSL_PARAM_construct_uint32 (OSSL_KDF_PARAM_SCRYPT_R, &r);
  ossl_params[4] = OSSL_PARAM_construct_uint32 (OSSL_KDF_PARAM_SCRYPT_P, &par);
  ossl_params[5] = OSSL_PARAM_construct_uint64 (OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem);
  ossl_params[6] = OSSL_PARAM_construct_end ();

  if (EVP_KDF_derive (ctx, out, out_len, ossl_params) != 1)
    {
      g_set_error (error, PM_ACCESS_CODE_ERROR, PM_ACCESS_CODE_ERROR_FAILED,
                   "Hashing the access code failed (scrypt could not run, most likely "
                   "for lack of memory); try again");
      goto out;
    }

  ok = TRUE;

out:
  EVP_KDF_CTX_free (ctx);
  EVP_KDF_free (kdf);
  return ok;
}

char *
pm_access_code_hash (const char  *code,
                     GError     **error)
{
  PmAccessCodeParams p;
  guint8 salt[PM_ACCESS_CODE_SALT_BYTES];
  guint8 hash[PM_ACCESS_CODE_HASH_BYTES];
  g_autofree char *salt_b64 = NULL;
  g_autofree char *hash_b64 = NULL;
  char *stored;

  g_return_val_if_fail (code != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  pm_access_code_get_params (&p);
  if (!params_are_acceptable (&p, error))
    return NULL;

  if (RAND_bytes (salt, sizeof salt) != 1)
    {
      g_set_error (error, PM_ACCESS_CODE_ERROR, PM_ACCESS_CODE_ERROR_FAILED,
                   "The system's random source gave no salt for the access code; try "
                   "again, and call support if it keeps failing");
      return NULL;
    }

  if (!derive (code, salt, sizeof salt, &p, hash, sizeof hash, error))
    return NULL;

  salt_b64 = g_base64_encode (salt, sizeof salt);
  hash_b64 = g_base64_encode (hash, sizeof hash);
  stored = g_strdup_printf (SCHEME "$N=%" G_GUINT64_FORMAT ",r=%u,p=%u$%s$%s",
                            p.n, p.r, p.p, salt_b64, hash_b64);

  OPENSSL_cleanse (hash, sizeof hash);
  return stored;
}

static gboolean
parse_uint (const char *text,
            const char *key,
            guint64     max,
            guint64    *out)
{
  gsize key_len = strlen (key);

  if (strncmp (text, key, key_len) != 0 || text[key_len] != '=')
    return FALSE;

  return g_ascii_string_to_unsigned (text + key_len + 1, 10, 1, max, out, NULL);
}

static gboolean
malformed (GError **error)
{
  g_set_error (error, PM_ACCESS_CODE_ERROR, PM_ACCESS_CODE_ERROR_MALFORMED_HASH,
               "A stored access code is damaged and cannot be checked; a supervisor "
               "should set that user's code again");
  return FALSE;
}

/* Splits a stored string into its parameters, salt and hash. */
static gboolean
parse_stored (const char          *stored,
              PmAccessCodeParams  *out_params,
              guint8             **out_salt,
              gsize               *out_salt_len,
              guint8             **out_hash,
              gsize               *out_hash_len,
              GError             **error)
{
  g_auto(GStrv) parts = NULL;
  g_auto(GStrv) costs = NULL;
  g_autofree guint8 *salt = NULL;
  g_autofree guint8 *hash = NULL;
  gsize salt_len = 0;
  gsize hash_len = 0;
  guint64 n, r, p;

  parts = g_strsplit (stored, "$", -1);
  if (g_strv_length (parts) != 4)
    return malformed (error);

  if (strcmp (parts[0], SCHEME) != 0)
    {
      g_set_error (error, PM_ACCESS_CODE_ERROR, PM_ACCESS_CODE_ERROR_UNSUPPORTED,
                   "A stored access code uses a hashing scheme this version does not "
                   "know; a supervisor should set that user's code again");
      return FALSE;
    }

  costs = g_strsplit (parts[1], ",", -1);
  if (g_strv_length (costs) != 3
      || !parse_uint (costs[0], "N", MAX_N, &n)
      || !parse_uint (costs[1], "r", MAX_R, &r)
      || !parse_uint (costs[2], "p", MAX_P, &p))
    return malformed (error);

  if (*parts[2] == '\0' || *parts[3] == '\0')
    return malformed (error);
  salt = g_base64_decode (parts[2], &salt_len);
  hash = g_base64_decode (parts[3], &hash_len);
  if (salt_len < MIN_SALT || salt_len > MAX_SALT
      || hash_len < MIN_HASH || hash_len > MAX_HASH)
    return malformed (error);

  out_params->n = n;
  out_params->r = (guint32) r;
  out_params->p = (guint32) p;
  if (!params_are_acceptable (out_params, error))
    return FALSE;

  if (out_salt != NULL)
    {
      *out_salt = g_steal_pointer (&salt);
      *out_salt_len = salt_len;
    }
  if (out_hash != NULL)
    {
      *out_hash = g_steal_pointer (&hash);
      *out_hash_len = hash_len;
    }
  return TRUE;
}

gboolean
pm_access_code_parse_params (const char          *stored,
                             PmAccessCodeParams  *out_params,
                             GError             **error)
{
  g_return_val_if_fail (stored != NULL, FALSE);
  g_return_val_if_fail (out_params != NULL, FALSE);

  return parse_stored (stored, out_params, NULL, NULL, NULL, NULL, error);
}

gboolean
pm_access_code_verify (const char  *code,
                       const char  *stored,
                       gboolean    *out_match,
                       GError     **error)
{
  PmAccessCodeParams p;
  g_autofree guint8 *salt = NULL;
  g_autofree guint8 *expected = NULL;
  g_autofree guint8 *actual = NULL;
  gsize salt_len, hash_len;

  g_return_val_if_fail (code != NULL, FALSE);
  g_return_val_if_fail (stored != NULL, FALSE);
  g_return_val_if_fail (out_match != NULL, FALSE);

  *out_match = FALSE;

  if (!parse_stored (stored, &p, &salt, &salt_len, &expected, &hash_len, error))
    return FALSE;

  actual = g_malloc (hash_len);
  if (!derive (code, salt, salt_len, &p, actual, hash_len, error))
    return FALSE;

  *out_match = CRYPTO_memcmp (actual, expected, hash_len) == 0;

  OPENSSL_cleanse (actual, hash_len);
  return TRUE;
}
