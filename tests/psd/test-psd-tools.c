/* test-psd-tools.c: postmeter-provider and postmeter-verify, run as commands
 *
 * The PSD side runs in this process through the driver API; the provider side and the
 * auditor's check run as the real command-line tools from the build tree.
 */
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <glib/gstdio.h>

#include "pm-impression.h"
#include "pm-indicium.h"
#include "pm-psd-message.h"
#include "pm-software-psd.h"

static char *work_dir;

static char *
tool_path (const char *name)
{
  return g_build_filename (g_getenv ("POSTMETER_BUILD_ROOT"), "src", "tools", name, NULL);
}

static char *
in_work (const char *name)
{
  return g_build_filename (work_dir, name, NULL);
}

/* Runs a tool; returns its exit status and fills its standard output. */
static int
run_tool (char       **out_stdout,
          const char  *tool,
          ...)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  g_autofree char *err = NULL;
  g_autofree char *out = NULL;
  int status = 0;
  const char *arg;
  va_list ap;

  g_ptr_array_add (args, tool_path (tool));
  va_start (ap, tool);
  while ((arg = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (args, g_strdup (arg));
  va_end (ap);
  g_ptr_array_add (args, NULL);

  g_assert_true (g_spawn_sync (NULL, (char **) args->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               &out, &err, &status, &error));
  g_assert_no_error (error);
  if (err != NULL && *err != '\0')
    g_test_message ("%s: %s", tool, err);
  /* Captured even when unwanted: the tools' output must not mix with the test's own. */
  if (out_stdout != NULL)
    *out_stdout = g_steal_pointer (&out);

  return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

static GBytes *
read_bytes (const char *path)
{
  g_autoptr(GError) error = NULL;
  char *contents = NULL;
  gsize length = 0;

  g_assert_true (g_file_get_contents (path, &contents, &length, &error));
  return g_bytes_new_take (contents, length);
}

static PmVerifyKey *
read_public (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *pem = NULL;
  PmVerifyKey *key;

  g_assert_true (g_file_get_contents (path, &pem, NULL, &error));
  key = pm_verify_key_new_from_pem (pem, -1, &error);
  g_assert_no_error (error);
  return key;
}

static void
test_provider_and_verify (void)
{
  g_autofree char *provider_key = in_work ("provider.key");
  g_autofree char *provider_pub = in_work ("provider.pub");
  g_autofree char *psd_dir = in_work ("psd");
  g_autofree char *psd_pub = in_work ("psd.pub");
  g_autofree char *block_path = in_work ("block.bin");
  g_autofree char *refill_path = in_work ("refill.bin");
  g_autofree char *request_path = in_work ("request.bin");
  g_autofree char *answer_path = in_work ("answer.bin");
  g_autofree char *png = in_work ("piece.png");
  g_autofree char *forged_png = in_work ("forged.png");
  g_autofree char *blank_png = in_work ("blank.png");
  g_autofree char *certificate_path = in_work ("psd.cert");
  g_autofree char *other_key = in_work ("other-provider.key");
  g_autofree char *other_pub = in_work ("other-provider.pub");
  g_autoptr(GBytes) certificate = NULL;
  g_autofree char *out = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(PmVerifyKey) provider = NULL;
  g_autoptr(PmSoftwarePsd) psd = NULL;
  g_autoptr(GBytes) block = NULL;
  g_autoptr(GBytes) refill = NULL;
  g_autoptr(GBytes) request = NULL;
  g_autoptr(GBytes) answer = NULL;
  g_autoptr(PmPsdStatus) status = NULL;
  g_autoptr(PmPsdDebitResult) debit = NULL;
  g_autoptr(PmImpression) impression = NULL;
  g_autofree char *serial = NULL;
  PmPsdDebitRequest piece = { 0 };

  g_assert_cmpint (run_tool (NULL, "postmeter-provider", "keygen", "--out", provider_key,
                             "--public", provider_pub, NULL), ==, 0);
  provider = read_public (provider_pub);

  psd = pm_software_psd_open (psd_dir, provider, 424242, &error);
  g_assert_no_error (error);
  g_assert_true (pm_software_psd_export_public_key (psd, psd_pub, &error));
  serial = g_strdup_printf ("%u", pm_psd_get_serial (PM_PSD (psd)));

  g_assert_cmpint (run_tool (NULL, "postmeter-provider", "operational-block", "--key",
                             provider_key, "--psd-key", psd_pub, "--serial", serial, "--zip",
                             "60601", "--profile", "imi", "--max-funds", "500.00",
                             "--max-postage", "50.00", "--certificate-serial", "77",
                             "--out", block_path, NULL), ==, 0);
  block = read_bytes (block_path);
  status = pm_psd_install_operational_block_sync (PM_PSD (psd), block, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (status->certificate_serial, ==, 77);
  g_assert_cmpint (status->max_funds, ==, 500000);
  g_assert_cmpint (status->max_postage, ==, 50000);
  g_assert_cmpint (status->inspection_lock - status->last_inspection, ==, 72 * 3600);

  g_assert_cmpint (run_tool (&out, "postmeter-provider", "show", block_path, "--key",
                             provider_pub, NULL), ==, 0);
  g_assert_nonnull (strstr (out, "origin ZIP 60601"));
  g_assert_nonnull (strstr (out, "signature valid"));
  g_clear_pointer (&out, g_free);

  g_assert_cmpint (run_tool (NULL, "postmeter-provider", "refill", "--key", provider_key,
                             "--serial", serial, "--sequence", "1", "--amount", "250.00",
                             "--out", refill_path, NULL), ==, 0);
  refill = read_bytes (refill_path);
  g_clear_pointer (&status, pm_psd_status_free);
  status = pm_psd_refill_sync (PM_PSD (psd), refill, &error);
  g_assert_no_error (error);
  g_assert_cmpint (status->descending, ==, 250000);

  /* Audit through the tool. */
  request = pm_psd_make_audit_request_sync (PM_PSD (psd), &error);
  g_assert_true (g_file_set_contents (request_path, g_bytes_get_data (request, NULL),
                                      (gssize) g_bytes_get_size (request), &error));
  g_assert_cmpint (run_tool (NULL, "postmeter-provider", "audit-answer", "--key", provider_key,
                             "--psd-key", psd_pub, "--request", request_path, "--out",
                             answer_path, NULL), ==, 0);
  answer = read_bytes (answer_path);
  g_clear_pointer (&status, pm_psd_status_free);
  status = pm_psd_apply_audit_answer_sync (PM_PSD (psd), answer, &error);
  g_assert_no_error (error);

  /* A piece: debit, print, and the auditor's check of the print. */
  piece.postage = 1240;     /* $1.24 */
  {
    g_autoptr(GDate) today = g_date_new ();

    g_date_set_time_t (today, time (NULL));
    piece.date_of_mailing = pm_indicium_date_from_gdate (today);
  }
  piece.rate_category = PM_RATE_CATEGORY_FIRST_CLASS_FLAT;
  debit = pm_psd_debit_sync (PM_PSD (psd), &piece, &error);
  g_assert_no_error (error);
  impression = pm_impression_new_postage (debit->indicium, &error);
  g_assert_true (pm_impression_write_png (impression, png, 300, &error));

  g_assert_cmpint (run_tool (&out, "postmeter-verify", png, "--key", psd_pub, NULL), ==, 0);
  g_assert_nonnull (strstr (out, "postage              $1.240 (1240 mills)"));
  g_assert_nonnull (strstr (out, "meter                PMSW00424242"));
  g_assert_nonnull (strstr (out, "certificate serial   77"));
  g_assert_nonnull (strstr (out, "SIGNATURE VALID"));
  g_assert_nonnull (strstr (out, "SPECIMEN, NOT VALID POSTAGE"));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_tool (NULL, "postmeter-verify", png, "--key", psd_pub,
                             "--reject-specimen", NULL), ==, 1);

  /* The provider's key is not the PSD's: not valid. */
  g_assert_cmpint (run_tool (&out, "postmeter-verify", png, "--key", provider_pub, NULL), ==, 1);
  g_assert_nonnull (strstr (out, "NOT VALID"));
  g_clear_pointer (&out, g_free);

  /* An indicium with one changed bit, printed: decodes, fails. */
  {
    guint8 *copy = g_memdup2 (g_bytes_get_data (debit->indicium, NULL), PM_INDICIUM_LENGTH);
    g_autoptr(GBytes) forged = NULL;
    g_autoptr(PmImpression) forged_print = NULL;

    copy[20] ^= 0x01;     /* postage */
    forged = g_bytes_new_take (copy, PM_INDICIUM_LENGTH);
    forged_print = pm_impression_new_postage (forged, &error);
    g_assert_true (pm_impression_write_png (forged_print, forged_png, 203, &error));
    g_assert_cmpint (run_tool (&out, "postmeter-verify", forged_png, "--key", psd_pub, NULL),
                     ==, 1);
    g_assert_nonnull (strstr (out, "NOT VALID"));
    g_clear_pointer (&out, g_free);
  }

  /* The certificate and the provider's key: the auditor trusts only the provider. */
  certificate = pm_psd_get_certificate_sync (PM_PSD (psd), &error);
  g_assert_no_error (error);
  g_assert_true (g_file_set_contents (certificate_path, g_bytes_get_data (certificate, NULL),
                                      (gssize) g_bytes_get_size (certificate), &error));
  g_assert_cmpint (run_tool (&out, "postmeter-verify", png, "--certificate", certificate_path,
                             "--provider-key", provider_pub, NULL), ==, 0);
  g_assert_nonnull (strstr (out, "Certificate: meter PMSW00424242, certificate serial 77, "
                                 "origin ZIP 60601, issued by the provider"));
  g_assert_nonnull (strstr (out, "origin ZIP           60601"));
  g_assert_nonnull (strstr (out, "SIGNATURE VALID"));
  g_clear_pointer (&out, g_free);

  /* The certificate also serves as a plain key file. */
  g_assert_cmpint (run_tool (NULL, "postmeter-verify", png, "--key", certificate_path, NULL),
                   ==, 0);

  /* The same certificate checked against another provider's key: not valid. */
  g_assert_cmpint (run_tool (NULL, "postmeter-provider", "keygen", "--out", other_key,
                             "--public", other_pub, NULL), ==, 0);
  g_assert_cmpint (run_tool (&out, "postmeter-verify", png, "--certificate", certificate_path,
                             "--provider-key", other_pub, NULL), ==, 1);
  g_assert_nonnull (strstr (out, "NOT VALID: the certificate does not hold"));
  g_clear_pointer (&out, g_free);

  /* A genuine certificate of another PSD of the same provider does not vouch for this
   * piece, whose signature is not that PSD's. */
  {
    g_autofree char *second_dir = in_work ("psd-2");
    g_autofree char *second_pub = in_work ("psd-2.pub");
    g_autofree char *second_block = in_work ("block-2.bin");
    g_autofree char *second_cert = in_work ("psd-2.cert");
    g_autoptr(PmSoftwarePsd) second = pm_software_psd_open (second_dir, provider, 515151,
                                                            &error);
    g_autoptr(GBytes) bytes = NULL;
    g_autoptr(PmPsdStatus) installed = NULL;
    g_autoptr(GBytes) second_certificate = NULL;

    g_assert_no_error (error);
    g_assert_true (pm_software_psd_export_public_key (second, second_pub, &error));
    g_assert_cmpint (run_tool (NULL, "postmeter-provider", "operational-block", "--key",
                               provider_key, "--psd-key", second_pub, "--serial", "515151",
                               "--zip", "60601", "--certificate-serial", "78", "--out",
                               second_block, NULL), ==, 0);
    bytes = read_bytes (second_block);
    installed = pm_psd_install_operational_block_sync (PM_PSD (second), bytes, &error);
    g_assert_no_error (error);
    second_certificate = pm_psd_get_certificate_sync (PM_PSD (second), &error);
    g_assert_no_error (error);
    g_assert_true (g_file_set_contents (second_cert,
                                        g_bytes_get_data (second_certificate, NULL),
                                        (gssize) g_bytes_get_size (second_certificate),
                                        &error));
    g_assert_cmpint (run_tool (&out, "postmeter-verify", png, "--certificate", second_cert,
                               "--provider-key", provider_pub, NULL), ==, 1);
    g_assert_nonnull (strstr (out, "NOT VALID"));
    g_clear_pointer (&out, g_free);
  }

  /* A key file that is not a key, and a certificate without the provider's key. */
  g_assert_cmpint (run_tool (NULL, "postmeter-verify", png, "--key", block_path, NULL), ==, 2);
  g_assert_cmpint (run_tool (NULL, "postmeter-verify", png, "--certificate", certificate_path,
                             NULL), ==, 2);

  /* The raw payload, as a data center receives it: good, then with one bit changed. */
  {
    g_autofree char *payload_path = in_work ("indicium.bin");
    g_autofree char *expected_r = NULL;
    guint8 *copy = g_memdup2 (g_bytes_get_data (debit->indicium, NULL), PM_INDICIUM_LENGTH);

    g_assert_true (g_file_set_contents (payload_path, (const char *) copy,
                                        PM_INDICIUM_LENGTH, &error));
    g_assert_cmpint (run_tool (&out, "postmeter-verify", "--payload", payload_path, "--key",
                               psd_pub, NULL), ==, 0);
    expected_r = g_strdup_printf ("signature r          %02x%02x%02x", copy[46], copy[47],
                                  copy[48]);
    g_assert_nonnull (strstr (out, expected_r));
    g_clear_pointer (&out, g_free);

    copy[45] ^= 0x01;     /* the specimen flag itself */
    g_assert_true (g_file_set_contents (payload_path, (const char *) copy,
                                        PM_INDICIUM_LENGTH, &error));
    g_assert_cmpint (run_tool (&out, "postmeter-verify", "--payload", payload_path, "--key",
                               psd_pub, NULL), ==, 1);
    g_assert_nonnull (strstr (out, "NOT VALID"));
    g_clear_pointer (&out, g_free);
    g_free (copy);
  }

  /* No symbol at all, and no such file: unreadable. */
  {
    cairo_surface_t *blank = cairo_image_surface_create (CAIRO_FORMAT_RGB24, 200, 100);

    cairo_surface_write_to_png (blank, blank_png);
    cairo_surface_destroy (blank);
  }
  g_assert_cmpint (run_tool (&out, "postmeter-verify", blank_png, "--key", psd_pub, NULL), ==,
                   2);
  g_assert_nonnull (strstr (out, "UNREADABLE"));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_tool (NULL, "postmeter-verify", "/nonexistent.png", "--key", psd_pub,
                             NULL), ==, 2);

  /* A file that is not an image, and the piece's PNG cut short. */
  {
    g_autofree char *junk_png = in_work ("junk.png");
    g_autofree char *cut_png = in_work ("cut.png");
    g_autoptr(GBytes) whole = read_bytes (png);

    g_assert_true (g_file_set_contents (junk_png, "not an image", -1, &error));
    g_assert_cmpint (run_tool (&out, "postmeter-verify", junk_png, "--key", psd_pub, NULL),
                     ==, 2);
    g_assert_nonnull (strstr (out, "UNREADABLE"));
    g_clear_pointer (&out, g_free);
    g_assert_true (g_file_set_contents (cut_png, g_bytes_get_data (whole, NULL),
                                        (gssize) g_bytes_get_size (whole) / 3, &error));
    g_assert_cmpint (run_tool (&out, "postmeter-verify", cut_png, "--key", psd_pub, NULL),
                     ==, 2);
    g_clear_pointer (&out, g_free);
  }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  work_dir = g_dir_make_tmp ("test-psd-tools-XXXXXX", NULL);
  g_assert_nonnull (work_dir);

  g_test_add_func ("/psd/tools/provider-and-verify", test_provider_and_verify);

  return g_test_run ();
}
