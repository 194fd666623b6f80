/* test-package.c: signed packages, and every way of tampering with one */
#include "pm-package.h"
#include "pm-clock.h"
#include "pm-rate-package.h"
#include "pm-rating.h"

#include <string.h>
#include <glib/gstdio.h>

/* 1 Jan 2027 00:00 UTC, and the expiry used in these tests: 1 Jan 2028. */
#define NOW     G_GINT64_CONSTANT (1798761600)
#define EXPIRES G_GINT64_CONSTANT (1830297600)

static const char package_xml[] =
  "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
  "<rate-package format=\"1\" id=\"test-rates\" version=\"3\" effective=\"2026-07-12\" "
  "carrier=\"USPS\">\n"
  "  <product class=\"first-class\" shape=\"letter\" name=\"First-Class Mail letter\">\n"
  "    <limits max-weight=\"3.5 oz\"/>\n"
  "    <table id=\"letters\" prices=\"metered\" effective=\"2026-07-12\" status=\"secondary\" "
  "complete=\"true\">\n"
  "      <source>test</source>\n"
  "      <row upto=\"1 oz\">0.78</row>\n"
  "      <row upto=\"3.5 oz\">1.65</row>\n"
  "    </table>\n"
  "  </product>\n"
  "</rate-package>\n";

typedef struct
{
  PmSigningKey *key;
  PmVerifyKey  *verify_key;
  GBytes       *content;
  GBytes       *signature;
  PmPackagePolicy policy;
} Fixture;

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr (GError) error = NULL;

  pm_clock_set_override_us (NOW * G_USEC_PER_SEC);
  fixture->key = pm_signing_key_generate (&error);
  g_assert_no_error (error);
  fixture->verify_key = pm_signing_key_get_verify_key (fixture->key);
  fixture->content = g_bytes_new_static (package_xml, strlen (package_xml));
  fixture->signature = pm_package_sign (fixture->key, "test-rates",
                                        PM_PACKAGE_CONTENT_TYPE_RATES, 3, EXPIRES,
                                        fixture->content, &error);
  g_assert_no_error (error);
  fixture->policy.content_type = PM_PACKAGE_CONTENT_TYPE_RATES;
  fixture->policy.max_length = 4096;
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  g_bytes_unref (fixture->signature);
  g_bytes_unref (fixture->content);
  pm_verify_key_unref (fixture->verify_key);
  pm_signing_key_unref (fixture->key);
  pm_clock_clear_override ();
}

static void
expect_refused (Fixture        *fixture,
                GBytes         *signature,
                GBytes         *content,
                PmVerifyKey    *key,
                PmPackageError  code)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PmPackageInfo) info = NULL;

  info = pm_package_verify (signature, content, key != NULL ? key : fixture->verify_key,
                            &fixture->policy, &error);
  g_assert_null (info);
  g_assert_error (error, PM_PACKAGE_ERROR, (gint) code);
  g_test_message ("%s", error->message);
}

/* The signature file with one field's value replaced, signature untouched. */
static GBytes *
edit_field (GBytes     *signature,
            const char *field,
            const char *value)
{
  g_autofree char *text = g_strndup (g_bytes_get_data (signature, NULL),
                                     g_bytes_get_size (signature));
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  g_autofree char *prefix = g_strconcat (field, ": ", NULL);
  char *joined;

  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], prefix))
      {
        g_free (lines[i]);
        lines[i] = value != NULL ? g_strconcat (prefix, value, NULL) : g_strdup ("");
      }
  joined = g_strjoinv ("\n", lines);
  if (value == NULL)
    {
      /* Drop the emptied line altogether. */
      char *gap = strstr (joined, "\n\n");

      if (gap != NULL)
        memmove (gap, gap + 1, strlen (gap + 1) + 1);
    }
  return g_bytes_new_take (joined, strlen (joined));
}

static void
test_good (Fixture       *fixture,
           gconstpointer  data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PmPackageInfo) info = NULL;
  g_autofree char *fingerprint = pm_verify_key_fingerprint (fixture->verify_key);
  g_autofree char *text = g_strndup (g_bytes_get_data (fixture->signature, NULL),
                                     g_bytes_get_size (fixture->signature));

  info = pm_package_verify (fixture->signature, fixture->content, fixture->verify_key,
                            &fixture->policy, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (info->name, ==, "test-rates");
  g_assert_cmpuint (info->version, ==, 3);
  g_assert_cmpuint (info->length, ==, strlen (package_xml));
  g_assert_cmpint (info->expires, ==, EXPIRES);
  g_assert_cmpint (info->signed_at, ==, NOW);
  g_assert_cmpstr (info->key_fingerprint, ==, fingerprint);

  g_assert_true (g_str_has_prefix (text, "Postmeter-Package-Signature: 1\nName: test-rates\n"
                                         "Content-Type: application/vnd.postmeter.rates+xml\n"
                                         "Version: 3\n"));
  g_assert_nonnull (strstr (text, "\nSigned: 2027-01-01T00:00:00Z\n"
                                  "Expires: 2028-01-01T00:00:00Z\n"));

  /* The same version as installed is accepted (a re-install). */
  fixture->policy.installed_version = 3;
  pm_package_info_free (g_steal_pointer (&info));
  info = pm_package_verify (fixture->signature, fixture->content, fixture->verify_key,
                            &fixture->policy, &error);
  g_assert_no_error (error);
}

static void
test_flipped_byte (Fixture       *fixture,
                   gconstpointer  data)
{
  gsize length = strlen (package_xml);

  /* Every position, each with one bit flipped: all refused. */
  for (gsize i = 0; i < length; i++)
    {
      g_autofree char *copy = g_strdup (package_xml);
      g_autoptr (GBytes) content = NULL;
      g_autoptr (GError) error = NULL;
      g_autoptr (PmPackageInfo) info = NULL;

      copy[i] ^= 0x01;
      content = g_bytes_new (copy, length);
      info = pm_package_verify (fixture->signature, content, fixture->verify_key,
                                &fixture->policy, &error);
      g_assert_null (info);
      g_assert_error (error, PM_PACKAGE_ERROR, PM_PACKAGE_ERROR_TAMPERED);
    }
}

static void
test_truncated_and_extended (Fixture       *fixture,
                             gconstpointer  data)
{
  g_autoptr (GBytes) shorter = g_bytes_new_static (package_xml, strlen (package_xml) - 1);
  g_autofree char *longer_text = g_strconcat (package_xml, " ", NULL);
  g_autoptr (GBytes) longer = g_bytes_new_static (longer_text, strlen (longer_text));
  g_autoptr (GBytes) empty = g_bytes_new_static ("", 0);

  expect_refused (fixture, fixture->signature, shorter, NULL, PM_PACKAGE_ERROR_TRUNCATED);
  expect_refused (fixture, fixture->signature, empty, NULL, PM_PACKAGE_ERROR_TRUNCATED);
  expect_refused (fixture, fixture->signature, longer, NULL, PM_PACKAGE_ERROR_TAMPERED);
}

static void
test_wrong_key (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr (PmSigningKey) other = pm_signing_key_generate (NULL);
  g_autoptr (PmVerifyKey) other_verify = pm_signing_key_get_verify_key (other);
  g_autoptr (GBytes) forged = NULL;
  g_autofree char *fingerprint = pm_verify_key_fingerprint (fixture->verify_key);

  /* Signed by another key: refused by the key check. */
  expect_refused (fixture, fixture->signature, fixture->content, other_verify,
                  PM_PACKAGE_ERROR_WRONG_KEY);

  /* Signed by another key but claiming the trusted key's fingerprint: the signature fails. */
  forged = pm_package_sign (other, "test-rates", PM_PACKAGE_CONTENT_TYPE_RATES, 3, EXPIRES,
                            fixture->content, NULL);
  g_assert_nonnull (forged);
  {
    g_autoptr (GBytes) claimed = edit_field (forged, "Key-Fingerprint", fingerprint);

    expect_refused (fixture, claimed, fixture->content, NULL, PM_PACKAGE_ERROR_BAD_SIGNATURE);
  }
}

static void
test_stripped (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr (GBytes) empty = g_bytes_new_static ("", 0);
  g_autoptr (GBytes) no_signature_line = edit_field (fixture->signature, "Signature", NULL);

  expect_refused (fixture, NULL, fixture->content, NULL, PM_PACKAGE_ERROR_STRIPPED);
  expect_refused (fixture, empty, fixture->content, NULL, PM_PACKAGE_ERROR_STRIPPED);
  expect_refused (fixture, no_signature_line, fixture->content, NULL,
                  PM_PACKAGE_ERROR_STRIPPED);
}

/* Changing any signed field (to claim a newer version, a later expiry, another length or
 * hash) breaks the signature. */
static void
test_signed_fields (Fixture       *fixture,
                    gconstpointer  data)
{
  static const char *const edits[][2] = {
    { "Name", "other-rates" },
    { "Version", "4" },
    { "Expires", "2099-01-01T00:00:00Z" },
    { "Length", "1" },
    { "SHA-256", "0000000000000000000000000000000000000000000000000000000000000000" },
    { "Content-Type", "application/vnd.postmeter.software" },
    { "Signature", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                   "AAAAAAAAAAAAAAAAAAAAAAAAAA==" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (edits); i++)
    {
      g_autoptr (GBytes) edited = edit_field (fixture->signature, edits[i][0], edits[i][1]);

      expect_refused (fixture, edited, fixture->content, NULL, PM_PACKAGE_ERROR_BAD_SIGNATURE);
    }
}

static void
test_malformed (Fixture       *fixture,
                gconstpointer  data)
{
  static const char *const files[] = {
    "garbage",
    "Postmeter-Package-Signature: 1\n",
    "Postmeter-Package-Signature: 2\nName: a\n",
    "Name: test-rates\nPostmeter-Package-Signature: 1\n",
  };
  g_autofree char *text = g_strndup (g_bytes_get_data (fixture->signature, NULL),
                                     g_bytes_get_size (fixture->signature));
  g_autofree char *crlf = NULL;
  g_autofree char *trailing = g_strconcat (text, "More: x\n", NULL);
  g_autofree char *huge = g_strnfill (PM_PACKAGE_MAX_SIGNATURE_BYTES + 1, 'A');
  g_autoptr (GBytes) b_trailing = g_bytes_new_static (trailing, strlen (trailing));
  g_autoptr (GBytes) b_huge = g_bytes_new_static (huge, strlen (huge));
  g_autoptr (GBytes) b_crlf = NULL;
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);

  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autoptr (GBytes) file = g_bytes_new_static (files[i], strlen (files[i]));

      expect_refused (fixture, file, fixture->content, NULL, PM_PACKAGE_ERROR_MALFORMED);
    }
  expect_refused (fixture, b_trailing, fixture->content, NULL, PM_PACKAGE_ERROR_MALFORMED);
  expect_refused (fixture, b_huge, fixture->content, NULL, PM_PACKAGE_ERROR_MALFORMED);
  crlf = g_strjoinv ("\r\n", lines);
  b_crlf = g_bytes_new_static (crlf, strlen (crlf));
  expect_refused (fixture, b_crlf, fixture->content, NULL, PM_PACKAGE_ERROR_MALFORMED);
}

static void
test_policy (Fixture       *fixture,
             gconstpointer  data)
{
  /* Older than installed. */
  fixture->policy.installed_version = 4;
  expect_refused (fixture, fixture->signature, fixture->content, NULL,
                  PM_PACKAGE_ERROR_OLDER_VERSION);
  fixture->policy.installed_version = 0;

  /* Past expiry, and exactly at it. */
  fixture->policy.now = EXPIRES;
  expect_refused (fixture, fixture->signature, fixture->content, NULL,
                  PM_PACKAGE_ERROR_EXPIRED);
  fixture->policy.now = EXPIRES - 1;
  {
    g_autoptr (PmPackageInfo) info = pm_package_verify (fixture->signature, fixture->content,
                                                        fixture->verify_key, &fixture->policy,
                                                        NULL);
    g_assert_nonnull (info);
  }
  fixture->policy.now = 0;

  /* Oversized for its kind. */
  fixture->policy.max_length = 100;
  expect_refused (fixture, fixture->signature, fixture->content, NULL,
                  PM_PACKAGE_ERROR_TOO_LARGE);
  fixture->policy.max_length = 0;

  /* Another kind of package, another name. */
  fixture->policy.content_type = "application/vnd.postmeter.graphics";
  expect_refused (fixture, fixture->signature, fixture->content, NULL,
                  PM_PACKAGE_ERROR_WRONG_CONTENT_TYPE);
  fixture->policy.content_type = PM_PACKAGE_CONTENT_TYPE_RATES;
  fixture->policy.name = "usps-2026-07-12";
  expect_refused (fixture, fixture->signature, fixture->content, NULL,
                  PM_PACKAGE_ERROR_WRONG_NAME);
}

/* A refused package, however it fails, leaves the installed one quoting. */
static void
test_install_keeps_installed (Fixture       *fixture,
                              gconstpointer  data)
{
  g_autoptr (PmRating) rating = pm_rating_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bomb = NULL;
  g_autoptr (GBytes) bomb_signature = NULL;
  g_autoptr (GBytes) tampered = NULL;
  g_autofree char *tampered_text = g_strdup (package_xml);
  g_auto (PmQuote) quote = { 0 };
  PmRateRequest request = { 0 };
  static const char billion_laughs[] =
    "<?xml version=\"1.0\"?>\n"
    "<!DOCTYPE rate-package [\n"
    "  <!ENTITY a \"aaaaaaaaaa\">\n"
    "  <!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">\n"
    "  <!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">\n"
    "  <!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">\n"
    "]>\n"
    "<rate-package format=\"1\" id=\"test-rates\" version=\"9\" effective=\"2026-07-12\" "
    "carrier=\"&d;\"/>\n";

  g_assert_true (pm_rating_install (rating, fixture->signature, fixture->content,
                                    fixture->verify_key, &error));
  g_assert_no_error (error);

  request.mail_class = PM_MAIL_CLASS_FIRST_CLASS;
  request.piece.shape = PM_SHAPE_LETTER;
  request.piece.weight = pm_weight_make (1, 0, PM_WEIGHT_UNIT_OUNCE);
  request.date = 20260801;

  /* An entity-expansion attempt, validly signed: refused by the parser, unread. */
  bomb = g_bytes_new_static (billion_laughs, strlen (billion_laughs));
  bomb_signature = pm_package_sign (fixture->key, "test-rates", PM_PACKAGE_CONTENT_TYPE_RATES,
                                    9, EXPIRES, bomb, NULL);
  g_assert_false (pm_rating_install (rating, bomb_signature, bomb, fixture->verify_key,
                                     &error));
  g_assert_error (error, PM_RATE_PACKAGE_ERROR, PM_RATE_PACKAGE_ERROR_FORBIDDEN_MARKUP);
  g_clear_error (&error);

  /* A flipped price. */
  *strstr (tampered_text, "0.78") = '9';
  tampered = g_bytes_new_static (tampered_text, strlen (tampered_text));
  g_assert_false (pm_rating_install (rating, fixture->signature, tampered,
                                     fixture->verify_key, &error));
  g_assert_error (error, PM_PACKAGE_ERROR, PM_PACKAGE_ERROR_TAMPERED);
  g_clear_error (&error);

  /* Stripped. */
  g_assert_false (pm_rating_install (rating, NULL, fixture->content, fixture->verify_key,
                                     &error));
  g_assert_error (error, PM_PACKAGE_ERROR, PM_PACKAGE_ERROR_STRIPPED);
  g_clear_error (&error);

  g_assert_true (pm_rating_quote (rating, &request, &quote, &error));
  g_assert_no_error (error);
  g_assert_cmpint (quote.total, ==, 780);
  g_assert_cmpuint (quote.package->version, ==, 3);
  pm_quote_clear (&quote);

  /* An older version, validly signed, of a package already installed. */
  {
    g_autoptr (GBytes) older_signature = NULL;
    g_autofree char *older_text = g_strdup (package_xml);

    memcpy (strstr (older_text, "version=\"3\""), "version=\"2\"", 11);
    {
      g_autoptr (GBytes) older = g_bytes_new_static (older_text, strlen (older_text));

      older_signature = pm_package_sign (fixture->key, "test-rates",
                                         PM_PACKAGE_CONTENT_TYPE_RATES, 2, EXPIRES, older,
                                         NULL);
      g_assert_false (pm_rating_install (rating, older_signature, older, fixture->verify_key,
                                         &error));
      g_assert_error (error, PM_PACKAGE_ERROR, PM_PACKAGE_ERROR_OLDER_VERSION);
      g_clear_error (&error);
    }
  }
  g_assert_cmpuint (pm_rating_get_installed_version (rating, "test-rates"), ==, 3);
}

/* The packages shipped in data/rates verify with the demo provider key. */
static void
test_shipped_packages (void)
{
  const char *root = g_getenv ("POSTMETER_SOURCE_ROOT");
  g_autofree char *key_path = g_build_filename (root, "data", "keys", "demo-provider.pub", NULL);
  g_autofree char *private_path = g_build_filename (root, "data", "keys", "demo-provider.key",
                                                    NULL);
  static const char *const names[] = { "usps-2025-07-13", "usps-2026-07-12" };
  g_autoptr (GError) error = NULL;
  g_autoptr (PmVerifyKey) key = pm_package_load_key (key_path, &error);
  g_autofree char *private_pem = NULL;
  g_autoptr (PmSigningKey) private_key = NULL;
  g_autoptr (PmVerifyKey) derived = NULL;
  g_autofree char *fingerprint = NULL;
  g_autofree char *derived_fingerprint = NULL;

  g_assert_no_error (error);

  /* The committed private key is the one the public key belongs to. */
  g_assert_true (g_file_get_contents (private_path, &private_pem, NULL, NULL));
  g_assert_nonnull (strstr (private_pem, "DEMO"));
  private_key = pm_signing_key_new_from_pem (private_pem, -1, &error);
  g_assert_no_error (error);
  derived = pm_signing_key_get_verify_key (private_key);
  fingerprint = pm_verify_key_fingerprint (key);
  derived_fingerprint = pm_verify_key_fingerprint (derived);
  g_assert_cmpstr (fingerprint, ==, derived_fingerprint);

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *file = g_strconcat (names[i], ".xml", NULL);
      g_autofree char *path = g_build_filename (root, "data", "rates", file, NULL);
      g_autoptr (PmPackageInfo) info = NULL;
      g_autoptr (GBytes) content = NULL;
      g_autoptr (PmRatePackage) package = NULL;
      PmPackagePolicy policy = {
        .content_type = PM_PACKAGE_CONTENT_TYPE_RATES,
        .max_length = PM_RATE_PACKAGE_MAX_BYTES,
      };

      content = pm_package_load_file (path, key, &policy, &info, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (info->name, ==, names[i]);
      package = pm_rate_package_parse (g_bytes_get_data (content, NULL),
                                       g_bytes_get_size (content), &error);
      g_assert_no_error (error);
      g_assert_cmpstr (package->id, ==, names[i]);
      g_assert_cmpuint (package->version, ==, info->version);
    }
}

static void
test_load_file_limits (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("pm-package-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "big.xml", NULL);
  g_autofree char *sig = g_strconcat (path, ".sig", NULL);
  g_autofree char *big = g_strnfill (PM_RATE_PACKAGE_MAX_BYTES + 10, ' ');
  g_autoptr (PmSigningKey) key = pm_signing_key_generate (NULL);
  g_autoptr (PmVerifyKey) verify_key = pm_signing_key_get_verify_key (key);
  PmPackagePolicy policy = {
    .content_type = PM_PACKAGE_CONTENT_TYPE_RATES,
    .max_length = PM_RATE_PACKAGE_MAX_BYTES,
  };

  g_assert_no_error (error);
  g_assert_true (g_file_set_contents (path, big, -1, NULL));

  /* No .sig beside it: stripped. */
  g_assert_null (pm_package_load_file (path, verify_key, &policy, NULL, &error));
  g_assert_error (error, PM_PACKAGE_ERROR, PM_PACKAGE_ERROR_STRIPPED);
  g_clear_error (&error);

  /* A signature for the oversized file: refused for its size. */
  {
    g_autoptr (GBytes) content = g_bytes_new_static (big, strlen (big));
    g_autoptr (GBytes) signature = pm_package_sign (key, "big", PM_PACKAGE_CONTENT_TYPE_RATES,
                                                    1, pm_clock_now_s () + 3600, content, NULL);

    g_assert_true (g_file_set_contents (sig, g_bytes_get_data (signature, NULL),
                                        g_bytes_get_size (signature), NULL));
  }
  g_assert_null (pm_package_load_file (path, verify_key, &policy, NULL, &error));
  g_assert_error (error, PM_PACKAGE_ERROR, PM_PACKAGE_ERROR_TOO_LARGE);
  g_clear_error (&error);

  g_remove (sig);
  g_remove (path);
  g_rmdir (dir);
}

/* A folder with a package but no signature: refused by name; with it: installed. */
static void
test_install_directory (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("pm-rates-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "test-rates.xml", NULL);
  g_autofree char *sig = g_strconcat (path, ".sig", NULL);
  g_autoptr (PmRating) rating = pm_rating_new ();

  g_assert_no_error (error);
  g_assert_true (g_file_set_contents (path, package_xml, -1, NULL));
  g_assert_false (pm_rating_install_directory (rating, dir, fixture->verify_key, &error));
  g_assert_error (error, PM_PACKAGE_ERROR, PM_PACKAGE_ERROR_STRIPPED);
  g_assert_true (g_str_has_prefix (error->message, "test-rates.xml: "));
  g_clear_error (&error);
  g_assert_cmpuint (pm_rating_get_installed_version (rating, "test-rates"), ==, 0);

  g_assert_true (g_file_set_contents (sig, g_bytes_get_data (fixture->signature, NULL),
                                      g_bytes_get_size (fixture->signature), NULL));
  g_assert_true (pm_rating_install_directory (rating, dir, fixture->verify_key, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (pm_rating_get_installed_version (rating, "test-rates"), ==, 3);

  g_remove (sig);
  g_remove (path);
  g_rmdir (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

#define ADD(path, func) \
  g_test_add ("/core/package/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("verify/good", test_good);
  ADD ("tamper/flipped-byte", test_flipped_byte);
  ADD ("tamper/truncated-extended", test_truncated_and_extended);
  ADD ("tamper/wrong-key", test_wrong_key);
  ADD ("tamper/stripped", test_stripped);
  ADD ("tamper/signed-fields", test_signed_fields);
  ADD ("tamper/malformed", test_malformed);
  ADD ("policy/version-expiry-size-type", test_policy);
  ADD ("install/refused-keeps-installed", test_install_keeps_installed);
  ADD ("install/directory", test_install_directory);
#undef ADD
  g_test_add_func ("/core/package/shipped/demo-key", test_shipped_packages);
  g_test_add_func ("/core/package/load-file/limits", test_load_file_limits);

  return g_test_run ();
}
