/* test-signature.c: ECDSA P-256 signing and verification */
#include "pm-signature.h"

#include <string.h>

/* A key pair and signature made with the openssl command line, so our verifier is checked
 * against a second implementation. */
static const char vector_public_pem[] =
  "-----BEGIN PUBLIC KEY-----\n"
  "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAETn4w/uVMjiDzMPdFHjvWJQowzREG\n"
  "j5WYqT4LNNl+T/7enYR1vKauwyLhWhmzabXKzlfMzGqTT8wE42gz2OV80w==\n"
  "-----END PUBLIC KEY-----\n";
static const char vector_message[] = "Postmeter signature vector";
static const char vector_r[] = "7C6DF64AF38FCFA41FDD47F35D532A85D615B79E213D9EB5F464B26196410A7F";
static const char vector_s[] = "FFC92E67F883CC0E27E4324D604DAAB9FF94266F39A754BE5FFE4B92FC5B5CE6";

static void
hex_to_bytes (const char *hex,
              guint8     *out)
{
  for (gsize i = 0; hex[2 * i] != '\0'; i++)
    out[i] = (guint8) (g_ascii_xdigit_value (hex[2 * i]) << 4
                       | g_ascii_xdigit_value (hex[2 * i + 1]));
}

static void
test_external_vector (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PmVerifyKey) key = pm_verify_key_new_from_pem (vector_public_pem, -1, &error);
  guint8 signature[PM_SIGNATURE_LENGTH];
  gsize length = strlen (vector_message);

  g_assert_no_error (error);
  hex_to_bytes (vector_r, signature);
  hex_to_bytes (vector_s, signature + 32);

  g_assert_true (pm_verify_key_verify (key, (const guint8 *) vector_message, length, signature));

  signature[63] ^= 0x01;
  g_assert_false (pm_verify_key_verify (key, (const guint8 *) vector_message, length, signature));
  signature[63] ^= 0x01;
  g_assert_false (pm_verify_key_verify (key, (const guint8 *) vector_message, length - 1,
                                        signature));
}

static void
test_sign_and_verify (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PmSigningKey) key = pm_signing_key_generate (&error);
  g_autoptr(PmSigningKey) other = pm_signing_key_generate (&error);
  g_autoptr(PmVerifyKey) verify = NULL;
  g_autoptr(PmVerifyKey) other_verify = NULL;
  guint8 data[100];
  guint8 signature[PM_SIGNATURE_LENGTH];

  g_assert_no_error (error);
  for (gsize i = 0; i < sizeof data; i++)
    data[i] = (guint8) (i * 7);

  g_assert_true (pm_signing_key_sign (key, data, sizeof data, signature, &error));
  g_assert_no_error (error);
  verify = pm_signing_key_get_verify_key (key);
  other_verify = pm_signing_key_get_verify_key (other);

  g_assert_true (pm_verify_key_verify (verify, data, sizeof data, signature));
  g_assert_false (pm_verify_key_verify (other_verify, data, sizeof data, signature));

  /* Every single-bit change of the data must fail. */
  for (gsize bit = 0; bit < sizeof data * 8; bit += 13)
    {
      data[bit / 8] ^= (guint8) (1 << (bit % 8));
      g_assert_false (pm_verify_key_verify (verify, data, sizeof data, signature));
      data[bit / 8] ^= (guint8) (1 << (bit % 8));
    }
}

static void
test_pem_and_point_round_trip (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PmSigningKey) key = pm_signing_key_generate (&error);
  g_autoptr(GBytes) private_pem = pm_signing_key_to_pem (key);
  g_autoptr(PmSigningKey) reloaded = NULL;
  g_autoptr(PmVerifyKey) verify = pm_signing_key_get_verify_key (key);
  g_autoptr(GBytes) public_pem = pm_verify_key_to_pem (verify);
  g_autoptr(GBytes) point = pm_verify_key_to_point (verify);
  g_autoptr(PmVerifyKey) from_pem = NULL;
  g_autoptr(PmVerifyKey) from_point = NULL;
  g_autofree char *fingerprint = pm_verify_key_fingerprint (verify);
  g_autofree char *fingerprint_pem = NULL;
  g_autofree char *fingerprint_point = NULL;
  guint8 signature[PM_SIGNATURE_LENGTH];
  const guint8 message[] = "round trip";

  g_assert_true (g_str_has_prefix (g_bytes_get_data (private_pem, NULL),
                                   "-----BEGIN PRIVATE KEY-----"));
  reloaded = pm_signing_key_new_from_pem (g_bytes_get_data (private_pem, NULL),
                                          (gssize) g_bytes_get_size (private_pem), &error);
  g_assert_no_error (error);
  g_assert_true (pm_signing_key_sign (reloaded, message, sizeof message, signature, &error));

  from_pem = pm_verify_key_new_from_pem (g_bytes_get_data (public_pem, NULL),
                                         (gssize) g_bytes_get_size (public_pem), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (point), ==, 65);
  from_point = pm_verify_key_new_from_point (g_bytes_get_data (point, NULL),
                                             g_bytes_get_size (point), &error);
  g_assert_no_error (error);

  g_assert_true (pm_verify_key_verify (from_pem, message, sizeof message, signature));
  g_assert_true (pm_verify_key_verify (from_point, message, sizeof message, signature));

  fingerprint_pem = pm_verify_key_fingerprint (from_pem);
  fingerprint_point = pm_verify_key_fingerprint (from_point);
  g_assert_cmpuint (strlen (fingerprint), ==, 64);
  g_assert_cmpstr (fingerprint, ==, fingerprint_pem);
  g_assert_cmpstr (fingerprint, ==, fingerprint_point);
}

static void
test_bad_keys (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PmVerifyKey) key = NULL;
  g_autoptr(PmSigningKey) signing = NULL;
  guint8 bad_point[65] = { 0x04, 1, 2, 3 };
  /* A valid public key, but on P-384: refused, only P-256 is accepted. */
  const char p384[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAE7Yx3qaFx7JhNuYCuX9PbZ9UY8YBAqGYr\n"
    "jcrlgBOLpvxE5Gn91TO1JK4G8jS9lmqfnrUnoD0KwuNscD3j2bcWb3MbEPkwpl/R\n"
    "GCEot3IRXsCm3WqeDySNBk2m07ai5kfH\n"
    "-----END PUBLIC KEY-----\n";

  key = pm_verify_key_new_from_pem ("not a key", -1, &error);
  g_assert_null (key);
  g_assert_error (error, PM_SIGNATURE_ERROR, PM_SIGNATURE_ERROR_BAD_KEY);
  g_clear_error (&error);

  key = pm_verify_key_new_from_pem (p384, -1, &error);
  g_assert_null (key);
  g_assert_error (error, PM_SIGNATURE_ERROR, PM_SIGNATURE_ERROR_BAD_KEY);
  g_clear_error (&error);

  key = pm_verify_key_new_from_point (bad_point, sizeof bad_point, &error);
  g_assert_null (key);
  g_assert_error (error, PM_SIGNATURE_ERROR, PM_SIGNATURE_ERROR_BAD_KEY);
  g_clear_error (&error);

  /* A public key is not a private key. */
  signing = pm_signing_key_new_from_pem (vector_public_pem, -1, &error);
  g_assert_null (signing);
  g_assert_error (error, PM_SIGNATURE_ERROR, PM_SIGNATURE_ERROR_BAD_KEY);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/core/signature/external-vector", test_external_vector);
  g_test_add_func ("/core/signature/sign-and-verify", test_sign_and_verify);
  g_test_add_func ("/core/signature/pem-and-point-round-trip", test_pem_and_point_round_trip);
  g_test_add_func ("/core/signature/bad-keys", test_bad_keys);

  return g_test_run ();
}
