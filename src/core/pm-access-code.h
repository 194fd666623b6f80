/* pm-access-code.h: hashing and checking access codes
 *
 * An access code is never kept in clear. It is stretched with scrypt (OpenSSL 3's
 * "SCRYPT" KDF) using a random salt for each user, and stored as one self-describing
 * string that carries its own parameters:
 *
 *   scrypt$N=16384,r=12,p=1$<salt, base64>$<hash, base64>
 *
 * so the cost can be raised later without breaking the codes already stored: a stored
 * string is always checked with the parameters written in it. Checking compares in
 * constant time. The default cost takes about 50 ms on the kiosk's hardware.
 *
 * Nothing here checks what a code looks like (4 to 8 digits); that is the access
 * workflow's job, so that the rules live in one place.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define PM_ACCESS_CODE_ERROR (pm_access_code_error_quark ())

typedef enum
{
  PM_ACCESS_CODE_ERROR_MALFORMED_HASH, /* a stored string that cannot be read */
  PM_ACCESS_CODE_ERROR_UNSUPPORTED,    /* a scheme or cost this build does not accept */
  PM_ACCESS_CODE_ERROR_FAILED,         /* the KDF or random source failed */
} PmAccessCodeError;

GQuark pm_access_code_error_quark (void);

/* The defaults used for every new hash. */
#define PM_ACCESS_CODE_SCRYPT_N   G_GUINT64_CONSTANT (16384)
#define PM_ACCESS_CODE_SCRYPT_R   12
#define PM_ACCESS_CODE_SCRYPT_P   1
#define PM_ACCESS_CODE_SALT_BYTES 16
#define PM_ACCESS_CODE_HASH_BYTES 32

typedef struct
{
  guint64 n;  /* CPU/memory cost, a power of two */
  guint32 r;  /* block size */
  guint32 p;  /* parallelism */
} PmAccessCodeParams;

/* Hashes @code with a fresh random salt and the current parameters. Returns the stored
 * form; free it with g_free(). */
char     *pm_access_code_hash            (const char               *code,
                                          GError                  **error);

/* Sets *out_match to whether @code is the one @stored was made from. Returns FALSE only
 * when @stored cannot be used (malformed, unsupported) or the KDF fails. */
gboolean  pm_access_code_verify          (const char               *code,
                                          const char               *stored,
                                          gboolean                 *out_match,
                                          GError                  **error);

/* Reads the parameters written in a stored string. */
gboolean  pm_access_code_parse_params    (const char               *stored,
                                          PmAccessCodeParams       *out_params,
                                          GError                  **error);

/* The parameters new hashes are made with. */
void      pm_access_code_get_params      (PmAccessCodeParams       *out_params);

/* TEST ONLY: makes new hashes use cheaper parameters so test programs that create many
 * users stay quick; NULL restores the defaults. Existing hashes keep their own
 * parameters. Product code never calls this. */
void      pm_access_code_set_params_for_testing (const PmAccessCodeParams *params);

G_END_DECLS
