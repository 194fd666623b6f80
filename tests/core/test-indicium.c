/* test-indicium.c: the indicium payload, byte for byte */
#include <string.h>

#include "pm-indicium.h"

/* A fixed P-256 key made for this test only. */
static const char test_key_pem[] =
  "-----BEGIN PRIVATE KEY-----\n"
  "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg//QpURDIVqEGx4SW\n"
  "LroosxpuafsdFHXNq+SW9rgr9j+hRANCAAS+AncggmGmB0o6G/IcgTuvMyL4GxSq\n"
  "vJ6p4AQNsTubMi+xpblpLHZ8UOHUV/g5k+l0Gyuqwom+aRCfxJKa9xbW\n"
  "-----END PRIVATE KEY-----\n";

static PmIndicium
sample_indicium (void)
{
  PmIndicium indicium = { 0 };

  indicium.version = PM_INDICIUM_VERSION_1;
  indicium.algorithm = PM_INDICIUM_ALGORITHM_ECDSA_P256_SHA256;
  indicium.certificate_serial = 0x01020304;
  memcpy (indicium.device_model, "PMSW", 5);
  indicium.device_serial = 12345678;
  indicium.ascending = 1234567;             /* $1,234.567 */
  indicium.postage = 730;                   /* $0.73, a 1 oz First-Class Mail letter */
  indicium.date_of_mailing = 20261203;
  indicium.origin_zip = 60601;
  indicium.destination_zip = 200010001;     /* 20001-0001 */
  memcpy (indicium.software_id, "PM01", 5);
  indicium.descending = 98765432;
  indicium.rate_category = PM_RATE_CATEGORY_FIRST_CLASS_LETTER;
  indicium.flags = PM_INDICIUM_FLAG_SPECIMEN;

  return indicium;
}

static PmSigningKey *
test_key (void)
{
  g_autoptr(GError) error = NULL;
  PmSigningKey *key = pm_signing_key_new_from_pem (test_key_pem, -1, &error);

  g_assert_no_error (error);
  return key;
}

static void
test_golden_bytes (void)
{
  /* Each field written out from the layout in pm-indicium.h. */
  static const guint8 expected[PM_INDICIUM_SIGNED_LENGTH] = {
    0x01, 0x02,                                     /* version, algorithm */
    0x04, 0x03, 0x02, 0x01,                         /* certificate serial */
    'P', 'M', 'S', 'W',                             /* device model */
    0x4e, 0x61, 0xbc, 0x00,                         /* serial 12345678 */
    0x87, 0xd6, 0x12, 0x00, 0x00,                   /* AR 1234567 */
    0xda, 0x02, 0x00,                               /* postage 730 */
    0x53, 0x29, 0x35, 0x01,                         /* 20261203 */
    0xb9, 0xec, 0x00, 0x00,                         /* 60601 */
    0x11, 0xe9, 0xeb, 0x0b,                         /* 200010001 */
    'P', 'M', '0', '1',                             /* software id */
    0x78, 0x0a, 0xe3, 0x05, 0x00,                   /* DR 98765432 */
    0x01, 0x00,                                     /* first-class letter */
    0x01,                                           /* specimen */
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(PmSigningKey) key = test_key ();
  g_autoptr(PmVerifyKey) verify_key = pm_signing_key_get_verify_key (key);
  g_autoptr(GBytes) signed_part = NULL;
  g_autoptr(GBytes) full = NULL;
  PmIndicium indicium = sample_indicium ();
  PmIndicium decoded;
  gsize length;
  const guint8 *data;

  signed_part = pm_indicium_encode_signed_part (&indicium, &error);
  g_assert_no_error (error);
  data = g_bytes_get_data (signed_part, &length);
  g_assert_cmpmem (data, length, expected, sizeof expected);

  full = pm_indicium_sign (&indicium, key, &error);
  g_assert_no_error (error);
  data = g_bytes_get_data (full, &length);
  g_assert_cmpuint (length, ==, 110);
  g_assert_cmpmem (data, PM_INDICIUM_SIGNED_LENGTH, expected, sizeof expected);
  g_assert_cmpmem (data + PM_INDICIUM_SIGNED_LENGTH, 64, indicium.signature, 64);

  g_assert_true (pm_indicium_verify (data, length, verify_key, &decoded, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (decoded.certificate_serial, ==, 0x01020304);
  g_assert_cmpstr (decoded.device_model, ==, "PMSW");
  g_assert_cmpuint (decoded.device_serial, ==, 12345678);
  g_assert_cmpint (decoded.ascending, ==, 1234567);
  g_assert_cmpint (decoded.postage, ==, 730);
  g_assert_cmpuint (decoded.date_of_mailing, ==, 20261203);
  g_assert_cmpuint (decoded.origin_zip, ==, 60601);
  g_assert_cmpuint (decoded.destination_zip, ==, 200010001);
  g_assert_cmpstr (decoded.software_id, ==, "PM01");
  g_assert_cmpint (decoded.descending, ==, 98765432);
  g_assert_cmpuint (decoded.rate_category, ==, PM_RATE_CATEGORY_FIRST_CLASS_LETTER);
  g_assert_cmpuint (decoded.flags, ==, PM_INDICIUM_FLAG_SPECIMEN);
}

/* A whole indicium signed with the fixed key when format version 1 was settled. ECDSA
 * signatures are randomised, so a new signature never repeats these bytes: this vector
 * proves that an indicium printed then still decodes and verifies, field for field, and
 * that no change to the code quietly moves a field. */
static void
test_recorded_vector (void)
{
  static const guint8 signature[PM_SIGNATURE_LENGTH] = {
    0xb1, 0x71, 0xc7, 0xc4, 0x32, 0x75, 0xba, 0xb7, 0x40, 0x92, 0x0e, 0x0c,
    0xd5, 0xb7, 0x83, 0x78, 0x4c, 0x13, 0x6f, 0xee, 0x44, 0x3c, 0x0e, 0xc9,
    0x19, 0x0c, 0x30, 0xa5, 0xf0, 0x2a, 0xa0, 0xe6, 0xdf, 0xf1, 0x85, 0x73,
    0xf3, 0x18, 0xbc, 0x6f, 0x97, 0x58, 0x51, 0x7c, 0x18, 0x97, 0xeb, 0xe1,
    0x14, 0xc5, 0xb3, 0x1b, 0x8f, 0x02, 0x1f, 0x71, 0x32, 0xa4, 0x2a, 0x45,
    0x83, 0xdf, 0x2e, 0xcd,
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(PmSigningKey) key = test_key ();
  g_autoptr(PmVerifyKey) verify_key = pm_signing_key_get_verify_key (key);
  g_autoptr(GBytes) signed_part = NULL;
  PmIndicium indicium = sample_indicium ();
  PmIndicium decoded;
  guint8 recorded[PM_INDICIUM_LENGTH];

  signed_part = pm_indicium_encode_signed_part (&indicium, &error);
  g_assert_no_error (error);
  memcpy (recorded, g_bytes_get_data (signed_part, NULL), PM_INDICIUM_SIGNED_LENGTH);
  memcpy (recorded + PM_INDICIUM_SIGNED_LENGTH, signature, sizeof signature);

  g_assert_true (pm_indicium_verify (recorded, sizeof recorded, verify_key, &decoded, &error));
  g_assert_no_error (error);
  g_assert_cmpint (decoded.postage, ==, 730);
  g_assert_cmpuint (decoded.date_of_mailing, ==, 20261203);
  g_assert_cmpmem (decoded.signature, 64, signature, 64);

  /* The same signature over a payload one mill different does not hold. */
  recorded[19] ^= 0x01;
  g_assert_false (pm_indicium_verify (recorded, sizeof recorded, verify_key, NULL, &error));
  g_assert_error (error, PM_INDICIUM_ERROR, PM_INDICIUM_ERROR_BAD_SIGNATURE);
}

/* The public IBI offsets 0-29 read a published PC-postage sample the way its decode says. */
static void
test_ibi_offsets (void)
{
  static const guint8 sample[30] = {
    0x05, 0x01, 0xff, 0xff, 0x00, 0x00, 0x30, 0x36, 0x32, 0x53, 0x3b, 0x47, 0x70, 0x00, 0xf2,
    0xed, 0x10, 0x00, 0x00, 0x14, 0x1e, 0x00, 0x56, 0x52, 0x33, 0x01, 0x59, 0x33, 0x01, 0x00,
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) ours = NULL;
  PmIndicium indicium = sample_indicium ();

  memcpy (indicium.device_model, "062S", 5);
  indicium.certificate_serial = 0xffff;
  indicium.device_serial = 7358267;
  indicium.ascending = 0x10edf2;
  indicium.postage = 7700;                        /* $7.70 */
  indicium.date_of_mailing = 20140630;
  indicium.origin_zip = 78681;

  ours = pm_indicium_encode_signed_part (&indicium, &error);
  g_assert_no_error (error);
  g_assert_cmpmem ((const guint8 *) g_bytes_get_data (ours, NULL) + 2, 28, sample + 2, 28);
}

static void
test_bit_flips (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PmSigningKey) key = test_key ();
  g_autoptr(PmVerifyKey) verify_key = pm_signing_key_get_verify_key (key);
  g_autoptr(GBytes) full = NULL;
  PmIndicium indicium = sample_indicium ();
  guint8 copy[PM_INDICIUM_LENGTH];

  full = pm_indicium_sign (&indicium, key, &error);
  g_assert_no_error (error);

  /* Every single-bit change anywhere, payload or signature, must fail. */
  for (guint bit = 0; bit < PM_INDICIUM_LENGTH * 8; bit++)
    {
      g_autoptr(GError) flip_error = NULL;

      memcpy (copy, g_bytes_get_data (full, NULL), sizeof copy);
      copy[bit / 8] ^= (guint8) (1u << (bit % 8));
      g_assert_false (pm_indicium_verify (copy, sizeof copy, verify_key, NULL, &flip_error));
      g_assert_nonnull (flip_error);
    }

  /* And another PSD's key does not verify it. */
  {
    g_autoptr(PmSigningKey) other = pm_signing_key_generate (&error);
    g_autoptr(PmVerifyKey) other_verify = pm_signing_key_get_verify_key (other);

    g_assert_false (pm_indicium_verify (g_bytes_get_data (full, NULL), PM_INDICIUM_LENGTH,
                                        other_verify, NULL, &error));
    g_assert_error (error, PM_INDICIUM_ERROR, PM_INDICIUM_ERROR_BAD_SIGNATURE);
  }
}

static void
test_out_of_range (void)
{
  PmIndicium indicium;
  GBytes *bytes;
  GError *error = NULL;

  indicium = sample_indicium ();
  indicium.postage = PM_INDICIUM_POSTAGE_MAX + 1;
  bytes = pm_indicium_encode_signed_part (&indicium, &error);
  g_assert_null (bytes);
  g_assert_error (error, PM_INDICIUM_ERROR, PM_INDICIUM_ERROR_OUT_OF_RANGE);
  g_clear_error (&error);

  indicium = sample_indicium ();
  indicium.postage = PM_INDICIUM_POSTAGE_MAX;
  bytes = pm_indicium_encode_signed_part (&indicium, &error);
  g_assert_no_error (error);
  g_assert_cmpmem ((const guint8 *) g_bytes_get_data (bytes, NULL) + 19, 3,
                   "\xff\xff\xff", 3);
  g_bytes_unref (bytes);

  indicium = sample_indicium ();
  indicium.ascending = PM_INDICIUM_REGISTER_MAX + 1;
  g_assert_null (pm_indicium_encode_signed_part (&indicium, &error));
  g_assert_error (error, PM_INDICIUM_ERROR, PM_INDICIUM_ERROR_OUT_OF_RANGE);
  g_clear_error (&error);

  indicium = sample_indicium ();
  indicium.descending = -1;
  g_assert_null (pm_indicium_encode_signed_part (&indicium, &error));
  g_assert_error (error, PM_INDICIUM_ERROR, PM_INDICIUM_ERROR_OUT_OF_RANGE);
  g_clear_error (&error);

  indicium = sample_indicium ();
  indicium.date_of_mailing = 20260230;
  g_assert_null (pm_indicium_encode_signed_part (&indicium, &error));
  g_assert_error (error, PM_INDICIUM_ERROR, PM_INDICIUM_ERROR_MALFORMED);
  g_clear_error (&error);

  indicium = sample_indicium ();
  indicium.flags = 0x80;
  g_assert_null (pm_indicium_encode_signed_part (&indicium, &error));
  g_assert_error (error, PM_INDICIUM_ERROR, PM_INDICIUM_ERROR_MALFORMED);
  g_clear_error (&error);

  indicium = sample_indicium ();
  indicium.version = 0x05;
  g_assert_null (pm_indicium_encode_signed_part (&indicium, &error));
  g_assert_error (error, PM_INDICIUM_ERROR, PM_INDICIUM_ERROR_UNSUPPORTED);
  g_clear_error (&error);
}

static void
test_decode_rejects (void)
{
  g_autoptr(PmSigningKey) key = test_key ();
  g_autoptr(GBytes) full = NULL;
  PmIndicium indicium = sample_indicium ();
  PmIndicium out;
  guint8 copy[PM_INDICIUM_LENGTH];
  GError *error = NULL;

  full = pm_indicium_sign (&indicium, key, &error);
  g_assert_no_error (error);
  memcpy (copy, g_bytes_get_data (full, NULL), sizeof copy);

  g_assert_false (pm_indicium_decode (copy, sizeof copy - 1, &out, &error));
  g_assert_error (error, PM_INDICIUM_ERROR, PM_INDICIUM_ERROR_MALFORMED);
  g_clear_error (&error);

  g_assert_false (pm_indicium_decode (copy, 1, &out, &error));
  g_assert_error (error, PM_INDICIUM_ERROR, PM_INDICIUM_ERROR_MALFORMED);
  g_clear_error (&error);

  copy[0] = 0x05;
  g_assert_false (pm_indicium_decode (copy, sizeof copy, &out, &error));
  g_assert_error (error, PM_INDICIUM_ERROR, PM_INDICIUM_ERROR_UNSUPPORTED);
  g_clear_error (&error);
}

static void
test_zip (void)
{
  static const struct
  {
    const char *text;
    gboolean    valid;
    guint32     zip9;
    const char *formatted;
  } cases[] = {
    { "60601", TRUE, 606010000, "60601" },
    { "60601-1234", TRUE, 606011234, "60601-1234" },
    { "606011234", TRUE, 606011234, "60601-1234" },
    { "00501", TRUE, 5010000, "00501" },
    { "", TRUE, 0, "" },
    { "6060", FALSE, 0, NULL },
    { "60601-", FALSE, 0, NULL },
    { "60601-12345", FALSE, 0, NULL },
    { "6060a", FALSE, 0, NULL },
    { "606-011234", FALSE, 0, NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      guint32 zip9 = 99;
      gboolean ok = pm_indicium_parse_zip (cases[i].text, &zip9, &error);

      g_assert_cmpint (ok, ==, cases[i].valid);
      if (ok)
        {
          g_autofree char *text = pm_indicium_format_zip (zip9);

          g_assert_cmpuint (zip9, ==, cases[i].zip9);
          g_assert_cmpstr (text, ==, cases[i].formatted);
        }
      else
        g_assert_error (error, PM_INDICIUM_ERROR, PM_INDICIUM_ERROR_MALFORMED);
    }
}

static void
test_dates_and_inscriptions (void)
{
  g_autofree char *dec = pm_indicium_format_date (20261203);
  g_autofree char *leap = pm_indicium_format_date (20240229);
  g_autoptr(GDate) date = pm_indicium_date_to_gdate (20261203);

  g_assert_cmpstr (dec, ==, "DEC 03 2026");
  g_assert_cmpstr (leap, ==, "FEB 29 2024");
  g_assert_null (pm_indicium_format_date (20250229));
  g_assert_null (pm_indicium_format_date (20261300));
  g_assert_cmpuint (pm_indicium_date_from_gdate (date), ==, 20261203);

  g_assert_cmpstr (pm_rate_category_get_inscription (PM_RATE_CATEGORY_FIRST_CLASS_LETTER), ==,
                   "FIRST-CLASS MAIL");
  g_assert_cmpstr (pm_rate_category_get_inscription (PM_RATE_CATEGORY_PRIORITY_MAIL), ==,
                   "PRIORITY MAIL");
  g_assert_null (pm_rate_category_get_inscription (PM_RATE_CATEGORY_LAST + 1));
  g_assert_cmpstr (pm_rate_category_get_name (PM_RATE_CATEGORY_MEDIA_MAIL), ==, "media-mail");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/core/indicium/encode/golden-bytes", test_golden_bytes);
  g_test_add_func ("/core/indicium/verify/recorded-vector", test_recorded_vector);
  g_test_add_func ("/core/indicium/encode/ibi-offsets", test_ibi_offsets);
  g_test_add_func ("/core/indicium/encode/out-of-range", test_out_of_range);
  g_test_add_func ("/core/indicium/verify/bit-flips", test_bit_flips);
  g_test_add_func ("/core/indicium/decode/rejects", test_decode_rejects);
  g_test_add_func ("/core/indicium/zip", test_zip);
  g_test_add_func ("/core/indicium/dates-and-inscriptions", test_dates_and_inscriptions);

  return g_test_run ();
}
