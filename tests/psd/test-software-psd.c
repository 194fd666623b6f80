/* test-software-psd.c: the software PSD's registers, refusals, watchdog, damage and crashes
 *
 * The crash tests run this same program as a child ("--psd-child DIR SEED") that debits and
 * refills until it is killed, either by the PSD's crash hook at a numbered point of its durable
 * write or by the parent after a random delay. The child reports each operation that
 * returned on stdout; the parent then reopens the PSD and checks the invariants.
 */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <glib/gstdio.h>

#include "pm-clock.h"
#include "pm-impression.h"
#include "pm-indicium.h"
#include "pm-indicium-scan.h"
#include "pm-psd-message.h"
#include "pm-software-psd.h"

static PmSigningKey *provider_key;
static PmVerifyKey *provider_public;
static const char *self_path;

#define DAY (24 * 3600)

/* Thursday 3 December 2026, 10:00 in Chicago. */
static gint64
base_time_s (void)
{
  g_autoptr(GTimeZone) chicago = g_time_zone_new_identifier ("America/Chicago");
  g_autoptr(GDateTime) when = g_date_time_new (chicago, 2026, 12, 3, 10, 0, 0);

  return g_date_time_to_unix (when);
}

static guint32
today_plus (int days)
{
  g_autoptr(GDate) today = pm_clock_today_local ();

  if (days > 0)
    g_date_add_days (today, (guint) days);
  else if (days < 0)
    g_date_subtract_days (today, (guint) -days);

  return pm_indicium_date_from_gdate (today);
}

static char *
make_dir (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("test-psd-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

static PmPsd *
open_psd (const char *dir)
{
  g_autoptr(GError) error = NULL;
  PmSoftwarePsd *psd = pm_software_psd_open (dir, provider_public, 12345, &error);

  g_assert_no_error (error);
  return PM_PSD (psd);
}

static GBytes *
make_block (PmPsd           *psd,
            PmPostalProfile  profile,
            PmMills          max_funds,
            PmMills          max_postage,
            gint64           issued_at)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PmVerifyKey) key = pm_psd_get_public_key (psd);
  PmOperationalBlock block = { 0 };
  GBytes *bytes;

  block.psd_serial = pm_psd_get_serial (psd);
  memcpy (block.psd_model, "PMSW", 5);
  g_assert_true (pm_psd_key_digest (key, block.psd_key_digest));
  block.certificate_serial = 7001;
  block.origin_zip = 60601;
  pm_operational_block_set_profile (&block, profile);
  block.max_funds = max_funds;
  block.max_postage = max_postage;
  block.issued_at = issued_at;

  bytes = pm_operational_block_sign (&block, provider_key, &error);
  g_assert_no_error (error);
  return bytes;
}

static GBytes *
make_refill_with (PmSigningKey *key,
                  guint32       serial,
                  guint32       sequence,
                  PmMills       amount)
{
  g_autoptr(GError) error = NULL;
  PmPostageValueDownload download = { serial, sequence, amount, pm_clock_now_s () };
  GBytes *bytes = pm_postage_value_download_sign (&download, key, &error);

  g_assert_no_error (error);
  return bytes;
}

static GBytes *
make_refill (PmPsd   *psd,
             guint32  sequence,
             PmMills  amount)
{
  return make_refill_with (provider_key, pm_psd_get_serial (psd), sequence, amount);
}

static void
assert_balanced (const PmPsdStatus *status)
{
  g_assert_cmpint (status->control_sum, ==,
                   status->ascending + status->descending + status->refunded);
  g_assert_cmpint (status->descending, >=, 0);
}

/* A PSD with an IBI block ($1,000 maximum funds, $100 per piece) and $500 of funds. */
static PmPsd *
ready_psd (const char *dir)
{
  g_autoptr(GError) error = NULL;
  PmPsd *psd = open_psd (dir);
  g_autoptr(GBytes) block = make_block (psd, PM_POSTAL_PROFILE_IBI, 1000000, 100000,
                                        pm_clock_now_s ());
  g_autoptr(GBytes) refill = make_refill (psd, 1, 500000);
  g_autoptr(PmPsdStatus) installed = pm_psd_install_operational_block_sync (psd, block, &error);
  g_autoptr(PmPsdStatus) refilled = NULL;

  g_assert_no_error (error);
  refilled = pm_psd_refill_sync (psd, refill, &error);
  g_assert_no_error (error);
  g_assert_cmpint (refilled->descending, ==, 500000);

  return psd;
}

static PmPsdDebitRequest
request_for (PmMills postage,
             guint32 date)
{
  PmPsdDebitRequest request = { 0 };

  request.postage = postage;
  request.date_of_mailing = date;
  request.rate_category = PM_RATE_CATEGORY_FIRST_CLASS_LETTER;
  request.destination_zip = 200010000;
  return request;
}

static GBytes *
read_state_file (const char *dir)
{
  g_autofree char *path = g_build_filename (dir, "state", NULL);
  g_autoptr(GError) error = NULL;
  char *contents = NULL;
  gsize length = 0;

  g_assert_true (g_file_get_contents (path, &contents, &length, &error));
  return g_bytes_new_take (contents, length);
}

static void
setup_clock (void)
{
  pm_clock_set_override_us (base_time_s () * G_USEC_PER_SEC);
}

/* tests */

static void
test_create_and_reopen (void)
{
  g_autofree char *dir = make_dir ();
  g_autoptr(GError) error = NULL;
  g_autoptr(PmPsd) psd = NULL;
  g_autoptr(PmPsd) again = NULL;
  g_autoptr(PmPsdStatus) status = NULL;
  g_autoptr(PmPsdDebitResult) result = NULL;
  g_autoptr(PmVerifyKey) key1 = NULL;
  g_autoptr(PmVerifyKey) key2 = NULL;
  g_autofree char *fp1 = NULL;
  g_autofree char *fp2 = NULL;
  g_autofree char *secret = g_build_filename (dir, "device.secret", NULL);
  g_autofree char *key_file = g_build_filename (dir, "signing-key.pem", NULL);
  PmPsdDebitRequest request;
  GStatBuf st;

  setup_clock ();
  psd = open_psd (dir);
  g_assert_cmpuint (pm_psd_get_serial (psd), ==, 12345);

  status = pm_psd_get_status_sync (psd, &error);
  g_assert_no_error (error);
  g_assert_false (status->has_operational_block);
  g_assert_true (status->specimen);
  g_assert_cmpint (status->control_sum, ==, 0);

  request = request_for (730, today_plus (0));
  result = pm_psd_debit_sync (psd, &request, &error);
  g_assert_null (result);
  g_assert_error (error, PM_PSD_ERROR, PM_PSD_ERROR_NOT_INITIALIZED);
  g_clear_error (&error);

  /* The secret and the private key are for this user's eyes only. */
  g_assert_cmpint (g_stat (secret, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_assert_cmpint (g_stat (key_file, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);

  key1 = pm_psd_get_public_key (psd);
  g_clear_object (&psd);

  again = open_psd (dir);
  key2 = pm_psd_get_public_key (again);
  fp1 = pm_verify_key_fingerprint (key1);
  fp2 = pm_verify_key_fingerprint (key2);
  g_assert_cmpstr (fp1, ==, fp2);
  g_assert_cmpuint (pm_psd_get_serial (again), ==, 12345);

  /* While one program has it open, no other can open it: each would write back the
   * registers it read and undo the other's debits and refills. */
  {
    PmSoftwarePsd *second = pm_software_psd_open (dir, NULL, 0, &error);

    g_assert_null (second);
    g_assert_error (error, PM_PSD_ERROR, PM_PSD_ERROR_IN_USE);
    g_clear_error (&error);
  }
  g_clear_object (&again);

  /* Another provider's key does not open it. */
  {
    g_autoptr(PmSigningKey) other = pm_signing_key_generate (&error);
    g_autoptr(PmVerifyKey) other_public = pm_signing_key_get_verify_key (other);
    PmSoftwarePsd *wrong = pm_software_psd_open (dir, other_public, 0, &error);

    g_assert_null (wrong);
    g_assert_error (error, PM_PSD_ERROR, PM_PSD_ERROR_WRONG_DEVICE);
  }
}

static void
test_operational_block (void)
{
  g_autofree char *dir = make_dir ();
  g_autofree char *other_dir = make_dir ();
  g_autoptr(GError) error = NULL;
  g_autoptr(PmPsd) psd = NULL;
  g_autoptr(PmPsd) other = NULL;
  g_autoptr(GBytes) block = NULL;
  g_autoptr(GBytes) older = NULL;
  g_autoptr(PmPsdStatus) status = NULL;

  setup_clock ();
  psd = open_psd (dir);
  other = open_psd (other_dir);

  /* A block made for another PSD (same serial, other key) is refused. */
  block = make_block (other, PM_POSTAL_PROFILE_IMI, 1000000, 100000, 100);
  g_assert_null (pm_psd_install_operational_block_sync (psd, block, &error));
  g_assert_error (error, PM_PSD_ERROR, PM_PSD_ERROR_WRONG_DEVICE);
  g_clear_error (&error);
  g_clear_pointer (&block, g_bytes_unref);

  block = make_block (psd, PM_POSTAL_PROFILE_IMI, 1000000, 100000, 100);
  status = pm_psd_install_operational_block_sync (psd, block, &error);
  g_assert_no_error (error);
  g_assert_true (status->has_operational_block);
  g_assert_cmpuint (status->origin_zip, ==, 60601);
  g_assert_cmpuint (status->certificate_serial, ==, 7001);
  g_assert_cmpint (status->inspection_due - status->last_inspection, ==, 24 * 3600);
  g_assert_cmpint (status->inspection_lock - status->last_inspection, ==, 72 * 3600);

  /* Replaying the same block, or an older one, is refused. */
  g_assert_null (pm_psd_install_operational_block_sync (psd, block, &error));
  g_assert_error (error, PM_PSD_ERROR, PM_PSD_ERROR_SEQUENCE);
  g_clear_error (&error);
  older = make_block (psd, PM_POSTAL_PROFILE_IBI, 1000000, 100000, 50);
  g_assert_null (pm_psd_install_operational_block_sync (psd, older, &error));
  g_assert_error (error, PM_PSD_ERROR, PM_PSD_ERROR_SEQUENCE);
  g_clear_error (&error);

  /* A block signed by someone other than the provider is refused. */
  {
    g_autoptr(PmSigningKey) forger = pm_signing_key_generate (&error);
    g_autoptr(PmVerifyKey) key = pm_psd_get_public_key (psd);
    g_autoptr(GBytes) forged = NULL;
    PmOperationalBlock fields = { 0 };

    fields.psd_serial = 12345;
    memcpy (fields.psd_model, "PMSW", 5);
    pm_psd_key_digest (key, fields.psd_key_digest);
    fields.origin_zip = 60601;
    pm_operational_block_set_profile (&fields, PM_POSTAL_PROFILE_IBI);
    fields.max_funds = 1;
    fields.max_postage = 1;
    fields.issued_at = 1000;
    forged = pm_operational_block_sign (&fields, forger, &error);
    g_assert_null (pm_psd_install_operational_block_sync (psd, forged, &error));
    g_assert_error (error, PM_PSD_ERROR, PM_PSD_ERROR_BAD_SIGNATURE);
  }
}

/* Debit, sign, print, scan, verify: the whole path of one piece. */
static void
test_debit_print_verify (void)
{
  g_autofree char *dir = make_dir ();
  g_autofree char *png = g_build_filename (dir, "piece.png", NULL);
  g_autofree char *pub = g_build_filename (dir, "psd.pub", NULL);
  g_autofree char *pem = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(PmPsd) psd = NULL;
  g_autoptr(PmPsdDebitResult) result = NULL;
  g_autoptr(PmImpression) impression = NULL;
  g_autoptr(GBytes) scanned = NULL;
  g_autoptr(PmVerifyKey) exported = NULL;
  g_autoptr(GPtrArray) journal = NULL;
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  PmPsdDebitRequest request;
  PmIndicium fields;
  guint8 digest[32];
  gsize digest_length = sizeof digest;
  const PmPsdJournalEntry *entry;

  setup_clock ();
  psd = ready_psd (dir);

  request = request_for (730, today_plus (0));
  result = pm_psd_debit_sync (psd, &request, &error);
  g_assert_no_error (error);
  g_assert_cmpint (result->status->ascending, ==, 730);
  g_assert_cmpint (result->status->descending, ==, 500000 - 730);
  g_assert_cmpuint (result->status->piece_count, ==, 1);
  g_assert_cmpuint (result->status->last_date_used, ==, 20261203);
  assert_balanced (result->status);

  impression = pm_impression_new_postage (result->indicium, &error);
  g_assert_no_error (error);
  g_assert_true (pm_impression_write_png (impression, png, 203, &error));
  g_assert_true (pm_software_psd_export_public_key (PM_SOFTWARE_PSD (psd), pub, &error));
  g_assert_no_error (error);

  scanned = pm_indicium_scan_png (png, &error);
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (pub, &pem, NULL, &error));
  exported = pm_verify_key_new_from_pem (pem, -1, &error);
  g_assert_no_error (error);
  g_assert_true (pm_indicium_verify (g_bytes_get_data (scanned, NULL), g_bytes_get_size (scanned),
                                     exported, &fields, &error));
  g_assert_no_error (error);
  g_assert_cmpint (fields.postage, ==, 730);
  g_assert_cmpint (fields.ascending, ==, 730);
  g_assert_cmpint (fields.descending, ==, 499270);
  g_assert_cmpuint (fields.device_serial, ==, 12345);
  g_assert_cmpstr (fields.device_model, ==, "PMSW");
  g_assert_cmpuint (fields.origin_zip, ==, 60601);
  g_assert_cmpuint (fields.destination_zip, ==, 200010000);
  g_assert_cmpuint (fields.certificate_serial, ==, 7001);
  g_assert_cmpuint (fields.date_of_mailing, ==, 20261203);
  g_assert_cmpstr (fields.software_id, ==, "PM01");
  g_assert_cmpuint (fields.flags & PM_INDICIUM_FLAG_SPECIMEN, !=, 0);

  g_checksum_update (checksum, g_bytes_get_data (result->indicium, NULL),
                     (gssize) g_bytes_get_size (result->indicium));
  g_checksum_get_digest (checksum, digest, &digest_length);

  journal = pm_psd_get_journal_sync (psd, 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (journal->len, ==, 1);
  entry = g_ptr_array_index (journal, 0);
  g_assert_cmpuint (entry->piece_count, ==, 1);
  g_assert_cmpint (entry->postage, ==, 730);
  g_assert_cmpint (entry->ascending_after, ==, 730);
  g_assert_cmpuint (entry->date_of_mailing, ==, 20261203);
  g_assert_cmpmem (entry->indicium_digest, 32, digest, 32);

  /* Every piece, whatever its value, class, destination and printer: read back from its
   * PNG by libdmtx, the very bytes the PSD signed, verified, and marked a specimen in the
   * payload and in print. */
  {
    static const PmMills postage[] = { 1, 78, 555, 999, 1000, 4150, 10235, 33333, 99999,
                                       100000 };
    static const double resolutions[] = { 203, 300, 600 };
    PmMills used = 730;

    for (guint i = 0; i < G_N_ELEMENTS (postage); i++)
      {
        g_autoptr(PmPsdDebitResult) piece = NULL;
        g_autoptr(PmImpression) print = NULL;
        g_autoptr(GBytes) read_back = NULL;
        cairo_surface_t *image;
        double dpi = resolutions[i % G_N_ELEMENTS (resolutions)];

        request = request_for (postage[i], today_plus ((int) i));
        request.rate_category = (guint16) (1 + i % PM_RATE_CATEGORY_LAST);
        request.destination_zip = i % 3 == 0 ? 0 : 606011234 + i;
        piece = pm_psd_debit_sync (psd, &request, &error);
        g_assert_no_error (error);
        used += postage[i];

        print = pm_impression_new_postage (piece->indicium, &error);
        g_assert_no_error (error);
        g_assert_true (pm_impression_is_specimen (print));
        g_assert_true (pm_impression_write_png (print, png, dpi, &error));
        read_back = pm_indicium_scan_png (png, &error);
        g_assert_no_error (error);
        g_assert_true (g_bytes_equal (read_back, piece->indicium));
        g_assert_true (pm_indicium_verify (g_bytes_get_data (read_back, NULL),
                                           g_bytes_get_size (read_back), exported, &fields,
                                           &error));
        g_assert_no_error (error);
        g_assert_cmpint (fields.postage, ==, postage[i]);
        g_assert_cmpint (fields.ascending, ==, used);
        g_assert_cmpint (fields.descending, ==, 500000 - used);
        g_assert_cmpuint (fields.rate_category, ==, request.rate_category);
        g_assert_cmpuint (fields.destination_zip, ==, request.destination_zip);
        g_assert_cmpuint (fields.date_of_mailing, ==, request.date_of_mailing);
        g_assert_cmpuint (fields.flags, ==, PM_INDICIUM_FLAG_SPECIMEN);

        /* The reverse-print legend band across the top of the image. */
        image = cairo_image_surface_create_from_png (png);
        g_assert_cmpint (cairo_surface_status (image), ==, CAIRO_STATUS_SUCCESS);
        cairo_surface_flush (image);
        for (int x = 0; x < cairo_image_surface_get_width (image); x++)
          g_assert_cmpuint (*(const guint32 *) (cairo_image_surface_get_data (image)
                                                + 2 * cairo_image_surface_get_stride (image)
                                                + 4 * x) & 0xff, <, 0x40);
        cairo_surface_destroy (image);
      }
  }
}

typedef struct
{
  const char *what;
  PmMills     postage;
  int         days;
  int         code;
} BadDebit;

static void
test_bad_debits (void)
{
  static const BadDebit cases[] = {
    { "beyond the funds", 100000, 0, PM_PSD_ERROR_INSUFFICIENT_FUNDS },
    { "beyond the per-piece maximum", 100001, 0, PM_PSD_ERROR_POSTAGE_TOO_HIGH },
    { "zero", 0, 0, PM_PSD_ERROR_POSTAGE_NOT_POSITIVE },
    { "negative", -730, 0, PM_PSD_ERROR_POSTAGE_NOT_POSITIVE },
    { "before today", 730, -1, PM_PSD_ERROR_DATE_BACKWARD },
    { "before the last date used", 730, 4, PM_PSD_ERROR_DATE_BACKWARD },
    { "31 days ahead", 730, 31, PM_PSD_ERROR_DATE_TOO_FAR },
  };
  g_autofree char *dir = make_dir ();
  g_autoptr(GError) error = NULL;
  g_autoptr(PmPsd) psd = NULL;
  g_autoptr(PmPsdStatus) before = NULL;
  PmPsdDebitRequest request;

  setup_clock ();
  psd = ready_psd (dir);

  /* Leave $50 of funds and a last date five days ahead. */
  {
    g_autoptr(PmPsdDebitResult) first = NULL;
    g_autoptr(PmPsdDebitResult) second = NULL;

    request = request_for (100000, today_plus (5));
    for (int i = 0; i < 4; i++)
      {
        g_clear_pointer (&first, pm_psd_debit_result_free);
        first = pm_psd_debit_sync (psd, &request, &error);
        g_assert_no_error (error);
      }
    request = request_for (50000, today_plus (5));
    second = pm_psd_debit_sync (psd, &request, &error);
    g_assert_no_error (error);
    g_assert_cmpint (second->status->descending, ==, 50000);
  }

  before = pm_psd_get_status_sync (psd, &error);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GBytes) file_before = read_state_file (dir);
      g_autoptr(GBytes) file_after = NULL;
      g_autoptr(PmPsdStatus) after = NULL;
      PmPsdDebitResult *result;

      request = request_for (cases[i].postage, today_plus (cases[i].days));
      result = pm_psd_debit_sync (psd, &request, &error);
      g_test_message ("%s: %s", cases[i].what, error != NULL ? error->message : "accepted");
      g_assert_null (result);
      g_assert_error (error, PM_PSD_ERROR, cases[i].code);
      g_clear_error (&error);

      after = pm_psd_get_status_sync (psd, &error);
      g_assert_cmpint (after->ascending, ==, before->ascending);
      g_assert_cmpint (after->descending, ==, before->descending);
      g_assert_cmpuint (after->piece_count, ==, before->piece_count);
      g_assert_cmpuint (after->last_date_used, ==, before->last_date_used);
      file_after = read_state_file (dir);
      g_assert_true (g_bytes_equal (file_before, file_after));
    }

  /* Exactly 30 days ahead, and exactly the remaining funds, are fine. */
  request = request_for (50000, today_plus (30));
  {
    g_autoptr(PmPsdDebitResult) last = pm_psd_debit_sync (psd, &request, &error);

    g_assert_no_error (error);
    g_assert_cmpint (last->status->descending, ==, 0);
    g_assert_cmpint (last->status->ascending, ==, 500000);
    assert_balanced (last->status);
  }

  /* Locked: refused, then withdrawn: refused. */
  {
    g_autoptr(PmPsdStatus) locked = pm_psd_lock_sync (psd, "test", &error);
    g_autoptr(GBytes) refill = make_refill (psd, 2, 1000);
    g_autoptr(PmPsdStatus) refilled = pm_psd_refill_sync (psd, refill, &error);

    g_assert_no_error (error);
    g_assert_cmpint (locked->lock_reason, ==, PM_PSD_LOCK_MANUAL);
    request = request_for (730, today_plus (30));
    g_assert_null (pm_psd_debit_sync (psd, &request, &error));
    g_assert_error (error, PM_PSD_ERROR, PM_PSD_ERROR_LOCKED);
    g_clear_error (&error);
  }
}

typedef struct
{
  const char *what;
  GBytes     *message;
  int         code;
} BadRefill;

static void
test_bad_refills (void)
{
  g_autofree char *dir = make_dir ();
  g_autoptr(GError) error = NULL;
  g_autoptr(PmPsd) psd = NULL;
  g_autoptr(PmSigningKey) forger = NULL;
  g_autoptr(PmPsdStatus) ok = NULL;
  BadRefill cases[6];

  setup_clock ();
  psd = ready_psd (dir);     /* sequence 1 applied, $500 of $1,000 */
  forger = pm_signing_key_generate (&error);

  cases[0] = (BadRefill) { "bad signature", make_refill_with (forger, 12345, 2, 1000),
                                   PM_PSD_ERROR_BAD_SIGNATURE };
  cases[1] = (BadRefill) { "replay", make_refill (psd, 1, 1000), PM_PSD_ERROR_SEQUENCE };
  cases[2] = (BadRefill) { "gap", make_refill (psd, 3, 1000), PM_PSD_ERROR_SEQUENCE };
  cases[3] = (BadRefill) { "past maximum funds", make_refill (psd, 2, 500001),
                                   PM_PSD_ERROR_FUNDS_LIMIT };
  cases[4] = (BadRefill) { "other PSD", make_refill_with (provider_key, 54321, 2, 1000),
                                   PM_PSD_ERROR_WRONG_DEVICE };
  cases[5] = (BadRefill) { "zero", make_refill (psd, 2, 0), PM_PSD_ERROR_INVALID };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GBytes) file_before = read_state_file (dir);
      g_autoptr(GBytes) file_after = NULL;

      g_assert_null (pm_psd_refill_sync (psd, cases[i].message, &error));
      g_test_message ("%s: %s", cases[i].what, error->message);
      g_assert_error (error, PM_PSD_ERROR, cases[i].code);
      g_clear_error (&error);
      file_after = read_state_file (dir);
      g_assert_true (g_bytes_equal (file_before, file_after));
      g_bytes_unref (cases[i].message);
    }

  /* A truncated message, and an audit answer passed off as a refill. */
  {
    g_autoptr(GBytes) good = make_refill (psd, 2, 1000);
    g_autoptr(GBytes) cut = g_bytes_new_from_bytes (good, 0, g_bytes_get_size (good) - 1);

    g_assert_null (pm_psd_refill_sync (psd, cut, &error));
    g_assert_error (error, PM_PSD_ERROR, PM_PSD_ERROR_INVALID);
    g_clear_error (&error);

    /* Exactly up to the maximum funds is accepted. */
    g_clear_pointer (&good, g_bytes_unref);
    good = make_refill (psd, 2, 500000);
    ok = pm_psd_refill_sync (psd, good, &error);
    g_assert_no_error (error);
    g_assert_cmpint (ok->descending, ==, 1000000);
    g_assert_cmpint (ok->control_sum, ==, 1000000);
    g_assert_cmpuint (ok->last_refill_sequence, ==, 2);
  }
}

static void
apply_audit (PmPsd *psd,
             guint8 result)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) request_bytes = pm_psd_make_audit_request_sync (psd, &error);
  g_autoptr(PmVerifyKey) psd_key = pm_psd_get_public_key (psd);
  g_autoptr(GBytes) answer_bytes = NULL;
  g_autoptr(PmPsdStatus) status = NULL;
  PmAuditRequest request;
  PmAuditAnswer answer;

  g_assert_no_error (error);
  g_assert_true (pm_audit_request_verify (request_bytes, psd_key, &request, &error));
  g_assert_no_error (error);
  pm_audit_answer_init_for_request (&answer, &request, request_bytes);
  answer.answered_at = pm_clock_now_s ();
  answer.result = result;
  answer_bytes = pm_audit_answer_sign (&answer, provider_key, &error);
  status = pm_psd_apply_audit_answer_sync (psd, answer_bytes, &error);
  g_assert_no_error (error);
}

static PmPsdInspectionState
state_at (PmPsd  *psd,
          gint64  t0,
          gint64  offset)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PmPsdStatus) status = NULL;

  pm_clock_set_override_us ((t0 + offset) * G_USEC_PER_SEC);
  status = pm_psd_get_status_sync (psd, &error);
  g_assert_no_error (error);

  return status->inspection_state;
}

static gboolean
can_debit (PmPsd *psd)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PmPsdDebitResult) result = NULL;
  PmPsdDebitRequest request = request_for (10, today_plus (0));

  result = pm_psd_debit_sync (psd, &request, &error);
  if (result == NULL)
    g_assert_error (error, PM_PSD_ERROR, PM_PSD_ERROR_LOCKED);

  return result != NULL;
}

static void
check_watchdog (PmPostalProfile profile,
                gint64          warning,
                gint64          lock)
{
  g_autofree char *dir = make_dir ();
  g_autoptr(GError) error = NULL;
  g_autoptr(PmPsd) psd = NULL;
  g_autoptr(PmPsdStatus) status = NULL;
  g_autoptr(GBytes) block = NULL;
  g_autoptr(GBytes) refill = NULL;
  gint64 t0 = base_time_s ();

  setup_clock ();
  psd = open_psd (dir);
  block = make_block (psd, profile, 1000000, 100000, t0);
  status = pm_psd_install_operational_block_sync (psd, block, &error);
  g_assert_no_error (error);
  refill = make_refill (psd, 1, 100000);
  g_clear_pointer (&status, pm_psd_status_free);
  status = pm_psd_refill_sync (psd, refill, &error);
  g_assert_no_error (error);

  g_assert_cmpint (state_at (psd, t0, warning - 1), ==, PM_PSD_INSPECTION_OK);
  g_assert_true (can_debit (psd));
  g_assert_cmpint (state_at (psd, t0, warning), ==, PM_PSD_INSPECTION_WARNING);
  g_assert_true (can_debit (psd));
  g_assert_cmpint (state_at (psd, t0, warning + 1), ==, PM_PSD_INSPECTION_WARNING);
  g_assert_cmpint (state_at (psd, t0, lock - 1), ==, PM_PSD_INSPECTION_WARNING);
  g_assert_true (can_debit (psd));
  g_assert_cmpint (state_at (psd, t0, lock), ==, PM_PSD_INSPECTION_LOCKED);
  g_assert_false (can_debit (psd));
  g_assert_cmpint (state_at (psd, t0, lock + 1), ==, PM_PSD_INSPECTION_LOCKED);

  /* The lock survives a restart, and turning the clock back. */
  g_clear_object (&psd);
  psd = open_psd (dir);
  g_assert_cmpint (state_at (psd, t0, 0), ==, PM_PSD_INSPECTION_LOCKED);
  g_clear_pointer (&status, pm_psd_status_free);
  status = pm_psd_get_status_sync (psd, &error);
  g_assert_cmpint (status->lock_reason, ==, PM_PSD_LOCK_WATCHDOG);
  g_assert_nonnull (status->lock_message);
  g_assert_false (can_debit (psd));

  /* Funds may still arrive while locked. */
  g_clear_pointer (&refill, g_bytes_unref);
  refill = make_refill (psd, 2, 1000);
  g_clear_pointer (&status, pm_psd_status_free);
  status = pm_psd_refill_sync (psd, refill, &error);
  g_assert_no_error (error);

  /* An audit clears it and starts the interval again. */
  pm_clock_set_override_us ((t0 + lock + 10) * G_USEC_PER_SEC);
  apply_audit (psd, PM_AUDIT_RESULT_ACCEPTED);
  g_assert_cmpint (state_at (psd, t0 + lock + 10, 0), ==, PM_PSD_INSPECTION_OK);
  g_assert_true (can_debit (psd));
  g_assert_cmpint (state_at (psd, t0 + lock + 10, warning), ==, PM_PSD_INSPECTION_WARNING);
  g_assert_cmpint (state_at (psd, t0 + lock + 10, lock), ==, PM_PSD_INSPECTION_LOCKED);

  g_clear_pointer (&status, pm_psd_status_free);
  status = pm_psd_get_status_sync (psd, &error);
  assert_balanced (status);
}

static void
test_watchdog_ibi (void)
{
  check_watchdog (PM_POSTAL_PROFILE_IBI, 90 * DAY, 120 * DAY);
}

static void
test_watchdog_imi (void)
{
  check_watchdog (PM_POSTAL_PROFILE_IMI, 24 * 3600, 72 * 3600);
}

static void
test_audit_answers (void)
{
  g_autofree char *dir = make_dir ();
  g_autoptr(GError) error = NULL;
  g_autoptr(PmPsd) psd = NULL;
  g_autoptr(GBytes) first = NULL;
  g_autoptr(GBytes) second = NULL;
  g_autoptr(GBytes) stale_answer = NULL;
  g_autoptr(PmVerifyKey) psd_key = NULL;
  g_autoptr(PmPsdStatus) status = NULL;
  PmAuditRequest request;
  PmAuditAnswer answer;

  setup_clock ();
  psd = ready_psd (dir);
  psd_key = pm_psd_get_public_key (psd);

  first = pm_psd_make_audit_request_sync (psd, &error);
  g_assert_true (pm_audit_request_verify (first, psd_key, &request, &error));
  g_assert_cmpint (request.descending, ==, 500000);
  g_assert_cmpint (request.control_sum, ==, 500000);
  g_assert_cmpuint (request.psd_serial, ==, 12345);
  pm_audit_answer_init_for_request (&answer, &request, first);
  answer.answered_at = pm_clock_now_s ();
  answer.result = PM_AUDIT_RESULT_ACCEPTED;
  stale_answer = pm_audit_answer_sign (&answer, provider_key, &error);

  /* A newer request makes the answer to the older one useless. */
  second = pm_psd_make_audit_request_sync (psd, &error);
  g_assert_null (pm_psd_apply_audit_answer_sync (psd, stale_answer, &error));
  g_assert_error (error, PM_PSD_ERROR, PM_PSD_ERROR_NO_AUDIT_PENDING);
  g_clear_error (&error);

  /* The provider may order a lock; then an accepted audit lifts it, once. */
  apply_audit (psd, PM_AUDIT_RESULT_LOCK);
  status = pm_psd_get_status_sync (psd, &error);
  g_assert_cmpint (status->lock_reason, ==, PM_PSD_LOCK_MANUAL);
  g_assert_false (can_debit (psd));
  apply_audit (psd, PM_AUDIT_RESULT_ACCEPTED);
  g_assert_true (can_debit (psd));

  /* Tampering with the request breaks its signature. */
  {
    g_autoptr(GBytes) third = pm_psd_make_audit_request_sync (psd, &error);
    guint8 *copy = g_memdup2 (g_bytes_get_data (third, NULL), g_bytes_get_size (third));
    g_autoptr(GBytes) altered = NULL;

    copy[30] ^= 1;
    altered = g_bytes_new_take (copy, g_bytes_get_size (third));
    g_assert_false (pm_audit_request_verify (altered, psd_key, &request, &error));
    g_assert_error (error, PM_PSD_MESSAGE_ERROR, PM_PSD_MESSAGE_ERROR_BAD_SIGNATURE);
  }
}

static void
test_withdraw (void)
{
  g_autofree char *dir = make_dir ();
  g_autoptr(GError) error = NULL;
  g_autoptr(PmPsd) psd = NULL;
  g_autoptr(GBytes) record = NULL;
  g_autoptr(GBytes) again = NULL;
  g_autoptr(PmVerifyKey) psd_key = NULL;
  g_autoptr(PmPsdStatus) status = NULL;
  g_autoptr(GBytes) refill = NULL;
  PmWithdrawalRecord fields;

  setup_clock ();
  psd = ready_psd (dir);
  psd_key = pm_psd_get_public_key (psd);
  g_assert_true (can_debit (psd));

  record = pm_psd_withdraw_sync (psd, &error);
  g_assert_no_error (error);
  g_assert_true (pm_withdrawal_record_verify (record, psd_key, &fields, &error));
  g_assert_cmpint (fields.refunded, ==, 500000 - 10);
  g_assert_cmpint (fields.ascending, ==, 10);
  g_assert_cmpint (fields.control_sum, ==, 500000);
  g_assert_cmpuint (fields.piece_count, ==, 1);

  g_clear_object (&psd);
  psd = open_psd (dir);
  status = pm_psd_get_status_sync (psd, &error);
  g_assert_cmpint (status->descending, ==, 0);
  g_assert_cmpint (status->refunded, ==, 499990);
  g_assert_cmpint (status->lock_reason, ==, PM_PSD_LOCK_WITHDRAWN);
  assert_balanced (status);

  again = pm_psd_withdraw_sync (psd, &error);
  g_assert_true (g_bytes_equal (again, record));

  {
    PmPsdDebitRequest request = request_for (10, today_plus (0));

    g_assert_null (pm_psd_debit_sync (psd, &request, &error));
    g_assert_error (error, PM_PSD_ERROR, PM_PSD_ERROR_WITHDRAWN);
    g_clear_error (&error);
  }
  refill = make_refill (psd, 2, 1000);
  g_assert_null (pm_psd_refill_sync (psd, refill, &error));
  g_assert_error (error, PM_PSD_ERROR, PM_PSD_ERROR_WITHDRAWN);
}

static void
expect_damaged (const char *dir,
                const char *reason_part)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PmPsd) psd = NULL;
  g_autoptr(PmPsdStatus) status = NULL;
  PmPsdDebitRequest request = request_for (10, today_plus (0));

  g_test_expect_message ("postmeter-psd", G_LOG_LEVEL_WARNING, "*is locked*");
  psd = open_psd (dir);
  g_test_assert_expected_messages ();
  status = pm_psd_get_status_sync (psd, &error);
  g_assert_no_error (error);
  g_assert_cmpint (status->lock_reason, ==, PM_PSD_LOCK_DAMAGED);
  g_assert_nonnull (strstr (status->lock_message, reason_part));
  g_assert_null (pm_psd_debit_sync (psd, &request, &error));
  g_assert_error (error, PM_PSD_ERROR, PM_PSD_ERROR_DAMAGED);
  g_clear_error (&error);
  g_assert_null (pm_psd_make_audit_request_sync (psd, &error));
  g_assert_error (error, PM_PSD_ERROR, PM_PSD_ERROR_DAMAGED);
}

static void
test_damaged_state (void)
{
  g_autofree char *dir = make_dir ();
  g_autofree char *state_path = g_build_filename (dir, "state", NULL);
  g_autofree char *key_path = g_build_filename (dir, "signing-key.pem", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) good = NULL;
  g_autoptr(GBytes) after = NULL;
  g_autoptr(PmPsd) psd = NULL;
  guint8 *copy;
  gsize length;

  setup_clock ();
  psd = ready_psd (dir);
  g_assert_true (can_debit (psd));
  g_clear_object (&psd);
  good = read_state_file (dir);
  length = g_bytes_get_size (good);

  /* One changed bit in the registers. */
  copy = g_memdup2 (g_bytes_get_data (good, NULL), length);
  copy[length / 2] ^= 0x04;
  g_assert_true (g_file_set_contents (state_path, (char *) copy, (gssize) length, &error));
  expect_damaged (dir, "seal does not match");
  /* Never reset: the damaged file is still there as it was. */
  after = read_state_file (dir);
  g_assert_cmpmem (g_bytes_get_data (after, NULL), g_bytes_get_size (after), copy, length);
  g_free (copy);

  /* A torn write: half the file. */
  g_assert_true (g_file_set_contents (state_path, g_bytes_get_data (good, NULL),
                                      (gssize) length / 2, &error));
  expect_damaged (dir, "seal does not match");

  /* Empty, then missing. */
  g_assert_true (g_file_set_contents (state_path, "", 0, &error));
  expect_damaged (dir, "truncated");
  g_assert_cmpint (g_unlink (state_path), ==, 0);
  expect_damaged (dir, "missing");

  /* The right state with a swapped signing key. */
  g_assert_true (g_file_set_contents (state_path, g_bytes_get_data (good, NULL),
                                      (gssize) length, &error));
  {
    g_autoptr(PmSigningKey) other = pm_signing_key_generate (&error);
    g_autoptr(GBytes) pem = pm_signing_key_to_pem (other);
    g_autofree char *saved = NULL;

    g_assert_true (g_file_get_contents (key_path, &saved, NULL, &error));
    g_assert_true (g_file_set_contents (key_path, g_bytes_get_data (pem, NULL),
                                        (gssize) g_bytes_get_size (pem), &error));
    expect_damaged (dir, "signing key");
    g_assert_true (g_file_set_contents (key_path, saved, -1, &error));
  }

  /* Restored byte for byte, it works again: nothing was reset in between. */
  psd = open_psd (dir);
  {
    g_autoptr(PmPsdStatus) status = pm_psd_get_status_sync (psd, &error);

    g_assert_cmpint (status->lock_reason, ==, PM_PSD_LOCK_NONE);
    g_assert_cmpuint (status->piece_count, ==, 1);
  }

  /* Another PSD's (validly sealed) state does not open in this one. */
  {
    g_autofree char *other_dir = make_dir ();
    g_autoptr(PmPsd) other = ready_psd (other_dir);
    g_autoptr(GBytes) foreign = read_state_file (other_dir);

    g_clear_object (&psd);
    g_assert_true (g_file_set_contents (state_path, g_bytes_get_data (foreign, NULL),
                                        (gssize) g_bytes_get_size (foreign), &error));
    expect_damaged (dir, "seal does not match");
  }
}


/* Files deleted from a PSD in use lock it; they never make a fresh PSD in its place. */
static void
test_missing_files (void)
{
  static const char *const names[] = { "device.secret", "signing-key.pem" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *dir = make_dir ();
      g_autofree char *path = g_build_filename (dir, names[i], NULL);
      g_autofree char *saved = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) state_before = NULL;
      g_autoptr(GBytes) state_after = NULL;
      g_autoptr(PmPsd) psd = NULL;
      gsize length = 0;

      setup_clock ();
      psd = ready_psd (dir);
      g_assert_true (can_debit (psd));
      g_clear_object (&psd);
      state_before = read_state_file (dir);

      g_assert_true (g_file_get_contents (path, &saved, &length, &error));
      g_assert_cmpint (g_unlink (path), ==, 0);
      expect_damaged (dir, i == 0 ? "device secret is missing" : "signing key");
      g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
      state_after = read_state_file (dir);
      g_assert_true (g_bytes_equal (state_before, state_after));

      /* Put back, the PSD is whole again with its piece. */
      g_assert_true (g_file_set_contents (path, saved, (gssize) length, &error));
      psd = open_psd (dir);
      {
        g_autoptr(PmPsdStatus) status = pm_psd_get_status_sync (psd, &error);

        g_assert_no_error (error);
        g_assert_cmpint (status->lock_reason, ==, PM_PSD_LOCK_NONE);
        g_assert_cmpuint (status->piece_count, ==, 1);
        g_assert_cmpint (status->ascending, ==, 10);
      }
    }
}

/* A PSD being made when the power goes: the next open makes it again, whole. */
static void
test_interrupted_making (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *key_dir = make_dir ();
  g_autofree char *key_path = g_build_filename (key_dir, "provider.pub", NULL);
  g_autoptr(GBytes) key_pem = pm_verify_key_to_pem (provider_public);
  guint kills = 0;

  g_assert_true (g_file_set_contents (key_path, g_bytes_get_data (key_pem, NULL),
                                      (gssize) g_bytes_get_size (key_pem), &error));

  /* Four durable writes (marker, secret, key, state), six crash points in each. */
  for (int write = 1; write <= 4; write++)
    for (int point = 1; point <= 6; point++)
      {
        g_autofree char *dir = make_dir ();
        g_autofree char *hook = g_strdup_printf ("%d:%d", point, write);
        g_autofree char *marker = g_build_filename (dir, "manufacturing", NULL);
        g_autoptr(GSubprocessLauncher) launcher =
          g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
        g_autoptr(GSubprocess) child = NULL;
        g_autoptr(PmPsd) psd = NULL;
        g_autoptr(PmPsdStatus) status = NULL;
        g_autoptr(GBytes) block = NULL;
        g_autoptr(PmPsdStatus) installed = NULL;

        g_subprocess_launcher_setenv (launcher, "POSTMETER_PSD_CRASH_AT", hook, TRUE);
        child = g_subprocess_launcher_spawn (launcher, &error, self_path, "--psd-make", dir,
                                             key_path, NULL);
        g_assert_no_error (error);
        g_assert_true (g_subprocess_wait (child, NULL, &error));
        g_assert_true (g_subprocess_get_if_signaled (child));
        kills++;

        setup_clock ();
        psd = open_psd (dir);
        status = pm_psd_get_status_sync (psd, &error);
        g_assert_no_error (error);
        g_assert_cmpint (status->lock_reason, ==, PM_PSD_LOCK_NONE);
        g_assert_false (status->has_operational_block);
        g_assert_cmpint (status->control_sum, ==, 0);
        g_assert_false (g_file_test (marker, G_FILE_TEST_EXISTS));

        /* And it works: the provider's block for its key installs. */
        block = make_block (psd, PM_POSTAL_PROFILE_IBI, 1000000, 100000, pm_clock_now_s ());
        installed = pm_psd_install_operational_block_sync (psd, block, &error);
        g_assert_no_error (error);
      }

  g_assert_cmpuint (kills, ==, 24);
}

/* The PSD's time never goes back: turning the computer's clock back neither postpones the
 * inspection nor lets postage be dated on a day already past. */
static void
test_clock_set_back (void)
{
  g_autofree char *dir = make_dir ();
  g_autoptr(GError) error = NULL;
  g_autoptr(PmPsd) psd = NULL;
  g_autoptr(PmPsdStatus) status = NULL;
  g_autoptr(GBytes) block = NULL;
  g_autoptr(GBytes) refill = NULL;
  g_autoptr(PmPsdDebitResult) debit = NULL;
  gint64 t0 = base_time_s ();
  PmPsdDebitRequest request;

  setup_clock ();
  psd = open_psd (dir);
  block = make_block (psd, PM_POSTAL_PROFILE_IMI, 1000000, 100000, t0);
  status = pm_psd_install_operational_block_sync (psd, block, &error);
  g_assert_no_error (error);
  refill = make_refill (psd, 1, 100000);
  g_clear_pointer (&status, pm_psd_status_free);
  status = pm_psd_refill_sync (psd, refill, &error);
  g_assert_no_error (error);

  /* Two days on, a piece; then the clock is put back two days. */
  pm_clock_set_override_us ((t0 + 2 * DAY) * G_USEC_PER_SEC);
  request = request_for (730, today_plus (0));
  debit = pm_psd_debit_sync (psd, &request, &error);
  g_assert_no_error (error);
  pm_clock_set_override_us (t0 * G_USEC_PER_SEC);

  g_clear_pointer (&status, pm_psd_status_free);
  status = pm_psd_get_status_sync (psd, &error);
  g_assert_cmpint (status->inspection_state, ==, PM_PSD_INSPECTION_WARNING);

  /* Today by the computer is two days before the PSD's today. */
  request = request_for (730, today_plus (1));
  g_assert_null (pm_psd_debit_sync (psd, &request, &error));
  g_assert_error (error, PM_PSD_ERROR, PM_PSD_ERROR_DATE_BACKWARD);
  g_clear_error (&error);

  /* Still so after a restart, and the lock comes 72 hours after the inspection, by the
   * PSD's time, however far back the clock is. */
  g_clear_object (&psd);
  psd = open_psd (dir);
  pm_clock_set_override_us ((t0 + 72 * 3600 - 1) * G_USEC_PER_SEC);
  g_clear_pointer (&status, pm_psd_status_free);
  status = pm_psd_get_status_sync (psd, &error);
  g_assert_cmpint (status->inspection_state, ==, PM_PSD_INSPECTION_WARNING);
  pm_clock_set_override_us ((t0 + 72 * 3600) * G_USEC_PER_SEC);
  g_assert_false (can_debit (psd));
  pm_clock_set_override_us (t0 * G_USEC_PER_SEC);
  g_clear_pointer (&status, pm_psd_status_free);
  status = pm_psd_get_status_sync (psd, &error);
  g_assert_cmpint (status->lock_reason, ==, PM_PSD_LOCK_WATCHDOG);
  assert_balanced (status);
}

/* The certificate binds the PSD's key to what its indicia say, under the provider's key. */
static void
test_certificate (void)
{
  g_autofree char *dir = make_dir ();
  g_autofree char *other_dir = make_dir ();
  g_autoptr(GError) error = NULL;
  g_autoptr(PmPsd) psd = NULL;
  g_autoptr(PmPsd) other = NULL;
  g_autoptr(GBytes) certificate = NULL;
  g_autoptr(GBytes) other_certificate = NULL;
  g_autoptr(PmVerifyKey) key = NULL;
  g_autoptr(PmVerifyKey) psd_key = NULL;
  g_autoptr(PmPsdDebitResult) debit = NULL;
  g_autofree char *fp_cert = NULL;
  g_autofree char *fp_psd = NULL;
  PmOperationalBlock block;
  PmIndicium fields;
  PmPsdDebitRequest request;

  setup_clock ();
  psd = open_psd (dir);
  g_assert_null (pm_psd_get_certificate_sync (psd, &error));
  g_assert_error (error, PM_PSD_ERROR, PM_PSD_ERROR_NOT_INITIALIZED);
  g_clear_error (&error);
  g_clear_object (&psd);

  psd = ready_psd (dir);
  certificate = pm_psd_get_certificate_sync (psd, &error);
  g_assert_no_error (error);
  g_assert_true (pm_psd_certificate_verify (certificate, provider_public, &key, &block,
                                            &error));
  g_assert_no_error (error);
  psd_key = pm_psd_get_public_key (psd);
  fp_cert = pm_verify_key_fingerprint (key);
  fp_psd = pm_verify_key_fingerprint (psd_key);
  g_assert_cmpstr (fp_cert, ==, fp_psd);
  g_assert_cmpuint (block.psd_serial, ==, 12345);
  g_assert_cmpuint (block.certificate_serial, ==, 7001);
  g_assert_cmpuint (block.origin_zip, ==, 60601);

  /* An indicium checks against the certificate alone. */
  request = request_for (730, today_plus (0));
  debit = pm_psd_debit_sync (psd, &request, &error);
  g_assert_no_error (error);
  g_assert_true (pm_indicium_verify (g_bytes_get_data (debit->indicium, NULL),
                                     g_bytes_get_size (debit->indicium), key, &fields, &error));
  g_assert_cmpuint (fields.certificate_serial, ==, block.certificate_serial);
  g_assert_cmpuint (fields.device_serial, ==, block.psd_serial);

  /* Another provider did not issue it. */
  {
    g_autoptr(PmSigningKey) stranger = pm_signing_key_generate (&error);
    g_autoptr(PmVerifyKey) stranger_public = pm_signing_key_get_verify_key (stranger);
    g_autoptr(PmVerifyKey) unused = NULL;

    g_assert_false (pm_psd_certificate_verify (certificate, stranger_public, &unused, &block,
                                               &error));
    g_assert_error (error, PM_PSD_MESSAGE_ERROR, PM_PSD_MESSAGE_ERROR_BAD_SIGNATURE);
    g_clear_error (&error);
  }

  /* Another PSD's key with this PSD's block: the block names another key. */
  other = open_psd (other_dir);
  {
    g_autoptr(PmVerifyKey) other_key = pm_psd_get_public_key (other);
    g_autoptr(GBytes) other_pem = pm_verify_key_to_pem (other_key);
    const char *text = g_bytes_get_data (certificate, NULL);
    const char *block_start = strstr (text, "-----BEGIN POSTMETER");
    g_autofree char *forged_text = NULL;
    g_autoptr(GBytes) forged = NULL;
    g_autoptr(PmVerifyKey) unused = NULL;

    g_assert_nonnull (block_start);
    forged_text = g_strconcat ((const char *) g_bytes_get_data (other_pem, NULL), block_start,
                               NULL);
    forged = g_bytes_new (forged_text, strlen (forged_text));
    g_assert_false (pm_psd_certificate_verify (forged, provider_public, &unused, &block,
                                               &error));
    g_assert_error (error, PM_PSD_MESSAGE_ERROR, PM_PSD_MESSAGE_ERROR_WRONG_KEY);
    g_clear_error (&error);
  }

  /* No block at all. */
  {
    g_autoptr(GBytes) key_only = pm_verify_key_to_pem (psd_key);
    g_autoptr(PmVerifyKey) unused = NULL;

    g_assert_false (pm_psd_certificate_verify (key_only, provider_public, &unused, &block,
                                               &error));
    g_assert_error (error, PM_PSD_MESSAGE_ERROR, PM_PSD_MESSAGE_ERROR_MALFORMED);
  }
}

/* Thousands of random operations, checking the invariants after each. */
static void
test_random_operations (void)
{
  g_autofree char *dir = make_dir ();
  g_autoptr(GError) error = NULL;
  g_autoptr(PmPsd) psd = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (g_test_rand_int ());
  PmMills refilled = 500000;
  PmMills used = 0;
  guint64 pieces = 0;
  guint32 sequence = 1;
  guint32 last_date = 0;
  gboolean locked = FALSE;
  guint operations = g_test_slow () ? 10000 : 3000;
  g_autoptr(PmSigningKey) forger = pm_signing_key_generate (&error);

  g_assert_no_error (error);
  setup_clock ();
  psd = ready_psd (dir);

  for (guint i = 0; i < operations; i++)
    {
      g_autoptr(PmPsdStatus) status = NULL;
      int choice = g_rand_int_range (rand, 0, 100);

      if (choice < 70)
        {
          PmMills postage = g_rand_int_range (rand, -100, 120000);
          int days = g_rand_int_range (rand, -2, 33);
          PmPsdDebitRequest request = request_for (postage, today_plus (days));
          PmPsdDebitResult *result = pm_psd_debit_sync (psd, &request, &error);
          gboolean should = !locked && postage > 0 && postage <= 100000
                            && postage <= refilled - used && days >= 0 && days <= 30
                            && request.date_of_mailing >= last_date;

          g_assert_cmpint (result != NULL, ==, should);
          if (result != NULL)
            {
              used += postage;
              pieces++;
              last_date = request.date_of_mailing;
              g_assert_cmpint (result->entry.ascending_after, ==, used);
              pm_psd_debit_result_free (result);
            }
          g_clear_error (&error);
        }
      else if (choice < 78)
        {
          /* Hostile refills: a forged signature, another PSD's, or a torn message. None
           * may change anything, even with the right sequence number. */
          g_autoptr(GBytes) good = make_refill (psd, sequence + 1, 1000);
          g_autoptr(GBytes) bad = NULL;
          int kind = g_rand_int_range (rand, 0, 3);
          static const int expected[] = { PM_PSD_ERROR_BAD_SIGNATURE,
                                          PM_PSD_ERROR_WRONG_DEVICE, PM_PSD_ERROR_INVALID };

          if (kind == 0)
            bad = make_refill_with (forger, pm_psd_get_serial (psd), sequence + 1, 1000);
          else if (kind == 1)
            bad = make_refill_with (provider_key, pm_psd_get_serial (psd) + 1, sequence + 1,
                                    1000);
          else
            {
              gint32 whole = (gint32) g_bytes_get_size (good);

              bad = g_bytes_new_from_bytes (good, 0, (gsize) g_rand_int_range (rand, 0, whole));
            }
          g_assert_null (pm_psd_refill_sync (psd, bad, &error));
          g_assert_error (error, PM_PSD_ERROR, expected[kind]);
          g_clear_error (&error);
        }
      else if (choice < 85)
        {
          /* Mostly the next sequence, sometimes a replay or a gap. */
          guint32 seq = sequence + (guint32) g_rand_int_range (rand, -1, 3);
          PmMills amount = g_rand_int_range (rand, 1, 400000);
          g_autoptr(GBytes) refill = make_refill (psd, seq, amount);
          PmPsdStatus *after = pm_psd_refill_sync (psd, refill, &error);
          gboolean should = seq == sequence + 1 && amount <= 1000000 - (refilled - used);

          g_assert_cmpint (after != NULL, ==, should);
          if (after != NULL)
            {
              sequence = seq;
              refilled += amount;
              pm_psd_status_free (after);
            }
          g_clear_error (&error);
        }
      else if (choice < 88)
        {
          g_clear_object (&psd);
          psd = open_psd (dir);
        }
      else if (choice < 92)
        {
          /* A day passes. */
          pm_clock_advance_s (DAY);
        }
      else if (choice < 94)
        {
          g_autoptr(PmPsdStatus) after = pm_psd_lock_sync (psd, "random", &error);

          g_assert_no_error (error);
          g_assert_cmpint (after->lock_reason, ==, PM_PSD_LOCK_MANUAL);
          locked = TRUE;
        }
      else if (choice < 96)
        {
          apply_audit (psd, PM_AUDIT_RESULT_ACCEPTED);
          locked = FALSE;
        }
      else
        {
          g_autoptr(GPtrArray) journal = pm_psd_get_journal_sync (psd, 5, &error);

          g_assert_no_error (error);
          g_assert_cmpuint (journal->len, ==, MIN (pieces, 5));
          if (journal->len > 0)
            g_assert_cmpint (((PmPsdJournalEntry *) journal->pdata[0])->ascending_after, ==,
                             used);
        }

      status = pm_psd_get_status_sync (psd, &error);
      g_assert_no_error (error);
      assert_balanced (status);
      g_assert_cmpint (status->ascending, ==, used);
      g_assert_cmpint (status->control_sum, ==, refilled);
      g_assert_cmpuint (status->piece_count, ==, pieces);
      g_assert_cmpuint (status->last_refill_sequence, ==, sequence);
      g_assert_cmpuint (status->last_date_used, ==, last_date);
      g_assert_cmpint (status->lock_reason != PM_PSD_LOCK_NONE, ==, locked);

      /* An audit now and then keeps the 90-day watchdog away. */
      if (i % 50 == 0)
        {
          apply_audit (psd, PM_AUDIT_RESULT_ACCEPTED);
          locked = FALSE;
        }
    }
}

/* async: results arrive on the caller's context, in the order asked */

typedef struct
{
  GMainLoop *loop;
  guint      done;
  guint      expected;
  GThread   *main_thread;
  PmMills    last_ascending;
} AsyncState;

static void
debit_done_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  AsyncState *state = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(PmPsdDebitResult) debit = pm_psd_debit_finish (PM_PSD (source), result, &error);

  g_assert_no_error (error);
  g_assert_true (g_thread_self () == state->main_thread);
  g_assert_cmpint (debit->status->ascending, ==, state->last_ascending + 100);
  state->last_ascending = debit->status->ascending;

  if (++state->done == state->expected)
    g_main_loop_quit (state->loop);
}

static void
test_async_order (void)
{
  g_autofree char *dir = make_dir ();
  g_autoptr(PmPsd) psd = NULL;
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  AsyncState state = { loop, 0, 20, g_thread_self (), 0 };
  PmPsdDebitRequest request;

  setup_clock ();
  psd = ready_psd (dir);
  request = request_for (100, today_plus (0));

  for (guint i = 0; i < state.expected; i++)
    pm_psd_debit_async (psd, &request, NULL, debit_done_cb, &state);

  g_main_loop_run (loop);
  g_assert_cmpint (state.last_ascending, ==, 2000);
}

/* A thread with its own main context gets its results there, never on the worker or the
 * main thread. */
typedef struct
{
  PmPsd      *psd;
  GMainLoop  *loop;
  GThread    *thread;
  guint64     pieces;
  gboolean    on_worker;
} OtherThread;

static void
other_status_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  OtherThread *other = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(PmPsdStatus) status = pm_psd_get_status_finish (PM_PSD (source), result, &error);

  g_assert_no_error (error);
  g_assert_true (g_thread_self () == other->thread);
  other->pieces = status->piece_count;
  other->on_worker = pm_psd_is_worker_thread (other->psd);
  g_main_loop_quit (other->loop);
}

static gpointer
other_thread_main (gpointer data)
{
  OtherThread *other = data;
  g_autoptr(GMainContext) context = g_main_context_new ();

  g_main_context_push_thread_default (context);
  other->loop = g_main_loop_new (context, FALSE);
  other->thread = g_thread_self ();
  pm_psd_get_status_async (other->psd, NULL, other_status_cb, other);
  g_main_loop_run (other->loop);
  g_main_loop_unref (other->loop);
  g_main_context_pop_thread_default (context);

  return NULL;
}

static void
test_async_other_context (void)
{
  g_autofree char *dir = make_dir ();
  g_autoptr(PmPsd) psd = NULL;
  g_autoptr(GThread) thread = NULL;
  OtherThread other = { 0 };

  setup_clock ();
  psd = ready_psd (dir);
  g_assert_true (can_debit (psd));
  g_assert_false (pm_psd_is_worker_thread (psd));

  other.psd = psd;
  thread = g_thread_new ("other", other_thread_main, &other);
  g_thread_join (g_steal_pointer (&thread));
  g_assert_cmpuint (other.pieces, ==, 1);
  g_assert_false (other.on_worker);
}

/* crashes */

static int
run_child (const char *dir,
           guint32     seed)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *key_path = g_build_filename (dir, "provider.key", NULL);
  g_autofree char *pem = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  PmSoftwarePsd *psd;

  if (!g_file_get_contents (key_path, &pem, NULL, &error))
    return 3;
  provider_key = pm_signing_key_new_from_pem (pem, -1, &error);
  provider_public = pm_signing_key_get_verify_key (provider_key);
  psd = pm_software_psd_open (dir, provider_public, 0, &error);
  if (psd == NULL)
    return 4;

  for (;;)
    {
      g_autoptr(PmPsdStatus) status = pm_psd_get_status_sync (PM_PSD (psd), &error);

      if (status == NULL || status->lock_reason != PM_PSD_LOCK_NONE)
        return 5;

      /* "B" lines say which operation starts, so the parent knows which one the kill
       * interrupted. */
      if (status->descending < 100000 || g_rand_int_range (rand, 0, 10) == 0)
        {
          g_autoptr(GBytes) refill = make_refill (PM_PSD (psd),
                                                  status->last_refill_sequence + 1, 100000);
          g_autoptr(PmPsdStatus) after = NULL;

          g_print ("B R\n");
          fflush (stdout);
          after = pm_psd_refill_sync (PM_PSD (psd), refill, &error);
          if (after == NULL)
            {
              g_print ("E\n");
              fflush (stdout);
              g_clear_error (&error);
            }
          else
            {
              g_print ("R %u %" G_GINT64_FORMAT "\n", after->last_refill_sequence,
                       after->control_sum);
              fflush (stdout);
            }
        }
      else
        {
          /* Today or tomorrow, never before the last date used. */
          PmPsdDebitRequest request = request_for (g_rand_int_range (rand, 1, 100000),
                                                   MAX (today_plus (g_rand_int_range (rand,
                                                                                      0, 2)),
                                                        status->last_date_used));
          g_autoptr(PmPsdDebitResult) result = NULL;

          g_print ("B D\n");
          fflush (stdout);
          result = pm_psd_debit_sync (PM_PSD (psd), &request, &error);
          if (result == NULL)
            return 6;
          g_print ("D %" G_GUINT64_FORMAT " %" G_GINT64_FORMAT " %u\n",
                   result->entry.piece_count, result->entry.ascending_after,
                   result->entry.date_of_mailing);
          fflush (stdout);
        }
    }
}

/* Makes a PSD; the crash hook kills it on the way. */
static int
make_child (const char *dir,
            const char *provider_pem_path)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *pem = NULL;
  g_autoptr(PmVerifyKey) key_public = NULL;
  PmSoftwarePsd *psd;

  if (!g_file_get_contents (provider_pem_path, &pem, NULL, &error))
    return 3;
  key_public = pm_verify_key_new_from_pem (pem, -1, &error);
  psd = pm_software_psd_open (dir, key_public, 777, &error);

  /* Reaching here means the hook never fired. */
  return psd != NULL ? 7 : 8;
}

static void
test_crash_recovery (void)
{
  g_autofree char *dir = make_dir ();
  g_autofree char *key_path = g_build_filename (dir, "provider.key", NULL);
  g_autoptr(GBytes) pem = pm_signing_key_to_pem (provider_key);
  g_autoptr(GError) error = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (g_test_rand_int ());
  guint64 previous_pieces = 0;
  PmMills previous_ar = 0;
  guint32 previous_sequence = 0;
  guint32 previous_date = 0;
  guint64 debits_seen = 0;
  guint interrupted_debits = 0;
  guint interrupted_refills = 0;
  guint rounds = g_test_slow () ? 200 : 60;

  g_assert_true (g_file_set_contents (key_path, g_bytes_get_data (pem, NULL),
                                      (gssize) g_bytes_get_size (pem), &error));
  setup_clock ();
  {
    PmPsd *first = ready_psd (dir);

    g_object_unref (first);
  }

  for (guint round = 0; round < rounds; round++)
    {
      g_autoptr(GSubprocessLauncher) launcher =
        g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
      g_autoptr(GSubprocess) child = NULL;
      g_autoptr(PmPsd) psd = NULL;
      g_autoptr(PmPsdStatus) status = NULL;
      g_autoptr(GPtrArray) journal = NULL;
      g_autofree char *seed = g_strdup_printf ("%u", g_rand_int (rand));
      g_autofree char *now = g_strdup_printf ("%" G_GINT64_FORMAT, base_time_s ());
      g_autofree char *out = NULL;
      g_auto(GStrv) lines = NULL;
      guint64 reported_pieces = 0;
      PmMills reported_ar = 0;
      guint32 reported_sequence = 0;
      guint32 reported_date = 0;
      g_autoptr(GArray) reported = g_array_new (FALSE, FALSE, sizeof (PmPsdJournalEntry));
      gboolean by_hook = round % 2 == 0;
      char in_flight;

      g_subprocess_launcher_setenv (launcher, "POSTMETER_FAKE_TIME", now, TRUE);
      if (by_hook)
        {
          g_autofree char *hook = g_strdup_printf ("%d:%d", g_rand_int_range (rand, 1, 7),
                                                   g_rand_int_range (rand, 1, 120));

          g_subprocess_launcher_setenv (launcher, "POSTMETER_PSD_CRASH_AT", hook, TRUE);
        }

      child = g_subprocess_launcher_spawn (launcher, &error, self_path, "--psd-child", dir,
                                           seed, NULL);
      g_assert_no_error (error);

      if (!by_hook)
        {
          g_usleep ((gulong) g_rand_int_range (rand, 10000, 150000));
          g_subprocess_send_signal (child, SIGKILL);
        }

      g_assert_true (g_subprocess_communicate_utf8 (child, NULL, NULL, &out, NULL, &error));
      g_assert_no_error (error);
      g_subprocess_wait (child, NULL, NULL);
      /* Killed, never an orderly exit: an exit would mean the child saw a refusal. */
      g_assert_true (g_subprocess_get_if_signaled (child));
      g_assert_cmpint (g_subprocess_get_term_sig (child), ==, SIGKILL);

      lines = g_strsplit (out, "\n", -1);
      in_flight = 0;
      for (guint i = 0; lines[i] != NULL; i++)
        {
          guint64 a;
          gint64 b;
          guint32 c;

          if (g_str_has_prefix (lines[i], "B "))
            in_flight = lines[i][2];
          else if (lines[i][0] != '\0')
            in_flight = 0;

          if (sscanf (lines[i], "D %" G_GUINT64_FORMAT " %" G_GINT64_FORMAT " %u", &a, &b,
                      &c) == 3)
            {
              PmPsdJournalEntry entry = { .piece_count = a, .ascending_after = b,
                                          .date_of_mailing = c };

              g_array_append_val (reported, entry);
              reported_pieces = a;
              reported_ar = b;
              reported_date = c;
            }
          else if (sscanf (lines[i], "R %" G_GUINT64_FORMAT " %" G_GINT64_FORMAT, &a, &b) == 2)
            reported_sequence = (guint32) a;
        }

      psd = open_psd (dir);
      status = pm_psd_get_status_sync (psd, &error);
      g_assert_no_error (error);
      g_assert_cmpint (status->lock_reason, ==, PM_PSD_LOCK_NONE);
      assert_balanced (status);
      /* The control sum is exactly the refills applied: $500 at first, then $100 each. */
      g_assert_cmpint (status->control_sum, ==,
                       500000 + 100000 * (PmMills) (status->last_refill_sequence - 1));

      /* Nothing went backwards, and at most the one operation in flight was kept
       * without being reported. */
      g_assert_cmpuint (status->piece_count, >=, previous_pieces);
      g_assert_cmpint (status->ascending, >=, previous_ar);
      g_assert_cmpuint (status->last_refill_sequence, >=, previous_sequence);
      g_assert_cmpuint (status->last_date_used, >=, previous_date);
      g_assert_cmpuint (status->last_date_used, >=, reported_date);
      g_assert_cmpuint (status->piece_count, >=, reported_pieces);
      g_assert_cmpint (status->ascending, >=, reported_ar);
      g_assert_cmpuint (status->last_refill_sequence, >=, reported_sequence);
      if (reported->len > 0)
        g_assert_cmpuint (status->piece_count, <=, reported_pieces + 1);
      g_assert_cmpuint (status->last_refill_sequence, <=,
                        MAX (reported_sequence, previous_sequence) + 1);

      /* Every debit that returned is in the journal, with its register. */
      journal = pm_psd_get_journal_sync (psd, PM_SOFTWARE_PSD_JOURNAL_CAPACITY, &error);
      for (guint i = 0; i < reported->len; i++)
        {
          const PmPsdJournalEntry *want = &g_array_index (reported, PmPsdJournalEntry, i);
          gboolean found = FALSE;

          if (want->piece_count + PM_SOFTWARE_PSD_JOURNAL_CAPACITY <= status->piece_count)
            continue;
          for (guint j = 0; j < journal->len; j++)
            {
              PmPsdJournalEntry *entry = journal->pdata[j];

              if (entry->piece_count == want->piece_count)
                {
                  g_assert_cmpint (entry->ascending_after, ==, want->ascending_after);
                  g_assert_cmpuint (entry->date_of_mailing, ==, want->date_of_mailing);
                  found = TRUE;
                }
            }
          g_assert_true (found);
        }

      /* A debit cut off is either wholly kept (the next piece, in the journal) or wholly
       * lost; a refill cut off is either applied once or not at all. */
      if (in_flight == 'D')
        {
          interrupted_debits++;
          g_assert_cmpuint (status->piece_count, <=, MAX (reported_pieces, previous_pieces) + 1);
        }
      else if (in_flight == 'R')
        {
          interrupted_refills++;
          g_assert_cmpuint (status->last_refill_sequence, <=,
                            MAX (reported_sequence, previous_sequence) + 1);
        }

      previous_pieces = status->piece_count;
      previous_ar = status->ascending;
      previous_sequence = status->last_refill_sequence;
      previous_date = status->last_date_used;
      debits_seen += reported->len;
    }

  g_test_message ("after %u crashes: %" G_GUINT64_FORMAT " pieces (%" G_GUINT64_FORMAT
                  " reported by the children), refill sequence %u",
                  rounds, previous_pieces, debits_seen, previous_sequence);
  g_test_message ("killed inside %u debits and %u refills", interrupted_debits,
                  interrupted_refills);
  g_assert_cmpuint (previous_pieces, >, 0);
  /* About a third of the operations are refills: over these rounds both kinds are cut off. */
  g_assert_cmpuint (interrupted_debits, >, 0);
  g_assert_cmpuint (interrupted_refills, >, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;

  self_path = argv[0];
  if (argc == 4 && g_str_equal (argv[1], "--psd-child"))
    return run_child (argv[2], (guint32) g_ascii_strtoull (argv[3], NULL, 10));
  if (argc == 4 && g_str_equal (argv[1], "--psd-make"))
    return make_child (argv[2], argv[3]);

  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  provider_key = pm_signing_key_generate (&error);
  g_assert_no_error (error);
  provider_public = pm_signing_key_get_verify_key (provider_key);

  g_test_add_func ("/psd/software/create-and-reopen", test_create_and_reopen);
  g_test_add_func ("/psd/software/operational-block", test_operational_block);
  g_test_add_func ("/psd/software/debit/print-and-verify", test_debit_print_verify);
  g_test_add_func ("/psd/software/bad-input/debits", test_bad_debits);
  g_test_add_func ("/psd/software/bad-input/refills", test_bad_refills);
  g_test_add_func ("/psd/software/watchdog/ibi", test_watchdog_ibi);
  g_test_add_func ("/psd/software/watchdog/imi", test_watchdog_imi);
  g_test_add_func ("/psd/software/audit/answers", test_audit_answers);
  g_test_add_func ("/psd/software/withdraw", test_withdraw);
  g_test_add_func ("/psd/software/damaged-state", test_damaged_state);
  g_test_add_func ("/psd/software/damaged-state/missing-files", test_missing_files);
  g_test_add_func ("/psd/software/interrupted-making", test_interrupted_making);
  g_test_add_func ("/psd/software/watchdog/clock-set-back", test_clock_set_back);
  g_test_add_func ("/psd/software/certificate", test_certificate);
  g_test_add_func ("/psd/software/invariants/random-operations", test_random_operations);
  g_test_add_func ("/psd/software/async/order", test_async_order);
  g_test_add_func ("/psd/software/async/other-context", test_async_other_context);
  g_test_add_func ("/psd/software/invariants/crash-recovery", test_crash_recovery);

  return g_test_run ();
}
