/* test-print-flow.c: printing a piece, every outcome and refusal, each mode, the date
 *
 * Each test has its own folder with a software PSD (operational block for origin 60601,
 * funds from a signed refill), a store, a folder printer and the real rate packages of
 * data/rates, verified with the demo provider's key. The clock is set to a fixed local
 * time (TZ=America/Chicago in the test environment) in the 2026 prices.
 */
#include <glib/gstdio.h>
#include <cairo.h>
#include <string.h>

#include "pm-clock.h"
#include "pm-indicium.h"
#include "pm-indicium-scan.h"
#include "pm-print-flow.h"
#include "pm-psd-message.h"
#include "pm-software-psd.h"
#include "pm-folder-printer.h"

#define ORIGIN_ZIP 60601

typedef struct
{
  char          *dir;
  char          *printed;
  PmSigningKey  *provider;
  PmPsd         *psd;
  PmStore       *store;
  PmPrinter     *printer;
  PmRating      *rating;
  PmPrintFlow   *flow;
} Fixture;

static void
set_local_time (int year,
                int month,
                int day,
                int hour,
                int minute,
                double seconds)
{
  g_autoptr(GDateTime) when = g_date_time_new_local (year, month, day, hour, minute, seconds);

  pm_clock_set_override_us (g_date_time_to_unix (when) * G_USEC_PER_SEC +
                            g_date_time_get_microsecond (when));
}

/* The rate packages of data/rates and, as the kiosk installs them, the zone charts of
 * data/zones, all checked with the demo provider's key. */
static PmRating *
load_rating (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *pem = NULL;
  g_autoptr(PmVerifyKey) key = NULL;
  g_autoptr(PmZoneChart) zones = pm_zone_chart_new ();
  PmRating *rating = pm_rating_new ();

  g_assert_true (g_file_get_contents (PM_SOURCE_DATADIR "/keys/demo-provider.pub", &pem,
                                      NULL, &error));
  key = pm_verify_key_new_from_pem (pem, -1, &error);
  g_assert_no_error (error);
  g_assert_true (pm_rating_install_directory (rating, PM_SOURCE_DATADIR "/rates", key,
                                              &error));
  g_assert_no_error (error);
  g_assert_true (pm_zone_chart_install_directory (zones, PM_SOURCE_DATADIR "/zones", key,
                                                  &error));
  g_assert_no_error (error);
  g_assert_true (pm_zone_chart_has_origin (zones, "606"));
  pm_rating_set_zones (rating, zones);
  return rating;
}

static void
fund_psd (Fixture *f,
          guint32  sequence,
          PmMills  amount)
{
  g_autoptr(GError) error = NULL;
  PmPostageValueDownload download = { pm_psd_get_serial (f->psd), sequence, amount,
                                      pm_clock_now_s () };
  g_autoptr(GBytes) refill = pm_postage_value_download_sign (&download, f->provider,
                                                              &error);
  g_autoptr(PmPsdStatus) status = NULL;

  g_assert_no_error (error);
  status = pm_psd_refill_sync (f->psd, refill, &error);
  g_assert_no_error (error);
}

/* A meter set up at 10:00 local time on the given day. */
static Fixture *
fixture_new_on (int     year,
                int     month,
                int     day,
                PmMills funds)
{
  Fixture *f = g_new0 (Fixture, 1);
  g_autoptr(GError) error = NULL;
  g_autofree char *psd_dir = NULL;
  g_autofree char *db = NULL;
  g_autoptr(PmVerifyKey) psd_key = NULL;
  g_autoptr(PmVerifyKey) provider_public = NULL;
  g_autoptr(GBytes) block_bytes = NULL;
  g_autoptr(PmPsdStatus) status = NULL;
  PmOperationalBlock block = { 0 };

  set_local_time (year, month, day, 10, 0, 0);

  f->dir = g_dir_make_tmp ("pm-print-flow-XXXXXX", &error);
  g_assert_no_error (error);
  psd_dir = g_build_filename (f->dir, "psd", NULL);
  f->printed = g_build_filename (f->dir, "printed", NULL);
  g_assert_cmpint (g_mkdir_with_parents (psd_dir, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (f->printed, 0700), ==, 0);

  f->provider = pm_signing_key_generate (&error);
  g_assert_no_error (error);
  provider_public = pm_signing_key_get_verify_key (f->provider);
  f->psd = PM_PSD (pm_software_psd_open (psd_dir, provider_public, 4100001, &error));
  g_assert_no_error (error);

  psd_key = pm_psd_get_public_key (f->psd);
  block.psd_serial = pm_psd_get_serial (f->psd);
  memcpy (block.psd_model, PM_SOFTWARE_PSD_MODEL, 5);
  g_assert_true (pm_psd_key_digest (psd_key, block.psd_key_digest));
  block.certificate_serial = 7001;
  block.origin_zip = ORIGIN_ZIP;
  pm_operational_block_set_profile (&block, PM_POSTAL_PROFILE_IBI);
  block.max_funds = 1000 * PM_MILLS_PER_DOLLAR;
  block.max_postage = 100 * PM_MILLS_PER_DOLLAR;
  block.issued_at = pm_clock_now_s ();
  block_bytes = pm_operational_block_sign (&block, f->provider, &error);
  g_assert_no_error (error);
  status = pm_psd_install_operational_block_sync (f->psd, block_bytes, &error);
  g_assert_no_error (error);
  if (funds > 0)
    fund_psd (f, 1, funds);

  db = g_build_filename (f->dir, "postmeter.db", NULL);
  f->store = pm_store_open (db, &error);
  g_assert_no_error (error);
  f->printer = PM_PRINTER (pm_folder_printer_new ("Envelopes", f->printed));
  f->rating = load_rating ();
  f->flow = pm_print_flow_new (f->psd, f->store, f->printer, f->rating);

  /* As at start-up: reconcile, which also tells the flow its origin ZIP. */
  g_assert_true (pm_print_flow_reconcile_sync (f->flow, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (pm_print_flow_get_origin_zip (f->flow), ==, "60601");
  return f;
}

static Fixture *
fixture_new (PmMills funds)
{
  return fixture_new_on (2026, 8, 3, funds);
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

static void
fixture_free (Fixture *f)
{
  g_clear_object (&f->flow);
  pm_store_close (f->store);
  g_clear_object (&f->store);
  g_clear_object (&f->printer);
  g_clear_object (&f->psd);
  g_clear_pointer (&f->rating, pm_rating_unref);
  g_clear_pointer (&f->provider, pm_signing_key_unref);
  remove_tree (f->dir);
  g_free (f->dir);
  g_free (f->printed);
  g_free (f);
  pm_clock_clear_override ();
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Fixture, fixture_free)

/* A First-Class Mail letter as the scale reports it: stable, postable, tenths of an
 * ounce. */
static PmPrintRequest
letter (gint64 tenths_of_ounce)
{
  PmPrintRequest request = { 0 };

  request.mode = PM_PIECE_MODE_POSTAGE;
  request.has_weight = TRUE;
  request.weight = pm_weight_make (tenths_of_ounce, -1, PM_WEIGHT_UNIT_OUNCE);
  request.scale_state = PM_SCALE_STATE_STABLE;
  request.postable = TRUE;
  request.mail_class = PM_MAIL_CLASS_FIRST_CLASS;
  request.shape = PM_SHAPE_LETTER;
  request.destination_zip = "20001-0005";
  request.account_id = 1;
  return request;
}

typedef struct
{
  GAsyncResult *result;
} Wait;

static void
done_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Wait *wait = user_data;

  wait->result = g_object_ref (result);
}

static PmPrintOutcome *
print (Fixture              *f,
       const PmPrintRequest *request,
       GError              **error)
{
  Wait wait = { 0 };
  PmPrintOutcome *outcome;

  pm_print_flow_print_async (f->flow, request, NULL, done_cb, &wait);
  while (wait.result == NULL)
    g_main_context_iteration (NULL, TRUE);
  outcome = pm_print_flow_print_finish (f->flow, wait.result, error);
  g_object_unref (wait.result);
  g_assert_false (pm_print_flow_get_busy (f->flow));
  return outcome;
}

static PmPsdStatus *
psd_status (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  PmPsdStatus *status = pm_psd_get_status_sync (f->psd, &error);

  g_assert_no_error (error);
  return status;
}

static guint
count_files (const char *folder)
{
  g_autoptr(GDir) dir = g_dir_open (folder, 0, NULL);
  guint n = 0;

  while (dir != NULL && g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

static char *
serial_text (Fixture *f)
{
  return g_strdup_printf ("%u", pm_psd_get_serial (f->psd));
}

/* Decodes the printed PNG with libdmtx and checks the signature with the PSD's key. */
static void
read_printed_indicium (Fixture          *f,
                       const PmPrintOutcome *outcome,
                       PmIndicium       *out)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *png = NULL;
  g_autoptr(GBytes) scanned = NULL;
  g_autoptr(PmVerifyKey) key = pm_psd_get_public_key (f->psd);

  png = g_strdup_printf ("%s/%s.png", f->printed, outcome->job_id);
  g_assert_true (g_file_test (png, G_FILE_TEST_IS_REGULAR));
  scanned = pm_indicium_scan_png (png, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (scanned, outcome->indicium));
  g_assert_true (pm_indicium_verify (g_bytes_get_data (scanned, NULL),
                                     g_bytes_get_size (scanned), key, out, &error));
  g_assert_no_error (error);
}

/* Printed ---------------------------------------------------------------------------------- */

static void
test_postage_printed (void)
{
  g_autoptr(Fixture) f = fixture_new (500 * PM_MILLS_PER_DOLLAR);
  g_autoptr(GError) error = NULL;
  PmPrintRequest request = letter (9);  /* 0.9 oz */
  g_autoptr(PmPrintOutcome) outcome = NULL;
  g_autoptr(PmPsdStatus) after = NULL;
  g_autoptr(PmPiece) stored = NULL;
  g_autofree char *serial = serial_text (f);
  PmIndicium indicium;

  outcome = print (f, &request, &error);
  g_assert_no_error (error);
  g_assert_cmpint (outcome->kind, ==, PM_PRINT_OUTCOME_PRINTED);
  /* The metered 1 oz letter of 12 Jul 2026. */
  g_assert_cmpint (outcome->postage, ==, 780);
  g_assert_cmpuint (outcome->date_of_mailing, ==, 20260803);
  g_assert_true (outcome->recorded);
  g_assert_cmpstr (outcome->message, ==, "Printed $0.78.");
  g_assert_cmpint (outcome->handed_us, >=, outcome->pressed_us);

  after = psd_status (f);
  g_assert_cmpint (after->descending, ==, 500000 - 780);
  g_assert_cmpint (after->ascending, ==, 780);
  g_assert_cmpuint (after->piece_count, ==, 1);

  stored = pm_store_get_piece (f->store, serial, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (stored->print_state, ==, PM_PRINT_STATE_PRINTED);
  g_assert_cmpint (stored->postage, ==, 780);
  g_assert_cmpint (stored->descending_after, ==, 500000 - 780);
  g_assert_cmpstr (stored->class_code, ==, "first-class-letter");
  g_assert_cmpstr (stored->destination_zip, ==, "20001-0005");
  g_assert_cmpstr (stored->origin_zip, ==, "60601");
  g_assert_cmpint (stored->account_id, ==, 1);
  g_assert_cmpint (stored->mode, ==, PM_PIECE_MODE_POSTAGE);

  read_printed_indicium (f, outcome, &indicium);
  g_assert_cmpint (indicium.postage, ==, 780);
  g_assert_cmpuint (indicium.date_of_mailing, ==, 20260803);
  g_assert_cmpuint (indicium.origin_zip, ==, ORIGIN_ZIP);
  g_assert_cmpuint (indicium.destination_zip, ==, 200010005);
  g_assert_cmpuint (indicium.device_serial, ==, 4100001);
  g_assert_cmpuint (indicium.rate_category, ==, PM_RATE_CATEGORY_FIRST_CLASS_LETTER);
  g_assert_true (indicium.flags & PM_INDICIUM_FLAG_SPECIMEN);
  g_assert_cmpint (indicium.descending, ==, 500000 - 780);
}

/* 3.5 oz is the letter's limit and its last price; 3.6 oz is refused before any debit. */
static void
test_letter_limit (void)
{
  g_autoptr(Fixture) f = fixture_new (500 * PM_MILLS_PER_DOLLAR);
  g_autoptr(GError) error = NULL;
  PmPrintRequest request = letter (35);
  g_autoptr(PmPrintOutcome) outcome = NULL;
  g_autoptr(PmPrintOutcome) refused = NULL;
  g_autoptr(PmPsdStatus) after = NULL;

  outcome = print (f, &request, &error);
  g_assert_no_error (error);
  g_assert_cmpint (outcome->postage, ==, 1650);

  request = letter (36);
  refused = print (f, &request, &error);
  g_assert_null (refused);
  g_assert_error (error, PM_PRINT_FLOW_ERROR, PM_PRINT_FLOW_ERROR_WEIGHT_OVER_LIMIT);
  after = psd_status (f);
  g_assert_cmpuint (after->piece_count, ==, 1);
  g_assert_cmpint (after->ascending, ==, 1650);
}

/* Refusals ------------------------------------------------------------------------------- */

static void
assert_nothing_taken (Fixture             *f,
                      const PmPrintRequest *request,
                      int                  code,
                      const char          *words)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PmPsdStatus) before = psd_status (f);
  g_autoptr(PmPsdStatus) after = NULL;
  g_autoptr(PmPrintOutcome) outcome = NULL;
  g_autofree char *serial = serial_text (f);
  gint64 stored = -1;
  guint files = count_files (f->printed);

  outcome = print (f, request, &error);
  g_assert_null (outcome);
  g_assert_error (error, PM_PRINT_FLOW_ERROR, code);
  if (strstr (error->message, words) == NULL)
    g_error ("The refusal “%s” does not say “%s”", error->message, words);

  after = psd_status (f);
  g_assert_cmpuint (after->piece_count, ==, before->piece_count);
  g_assert_cmpint (after->descending, ==, before->descending);
  g_assert_cmpint (after->ascending, ==, before->ascending);
  if (pm_store_get_max_piece_count (f->store, serial, &stored, NULL))
    g_assert_cmpint (stored, ==, (gint64) before->piece_count);
  g_assert_cmpuint (count_files (f->printed), ==, files);
}

static void
test_refusals_of_the_request (void)
{
  g_autoptr(Fixture) f = fixture_new (500 * PM_MILLS_PER_DOLLAR);
  PmPrintRequest request;

  request = letter (9);
  request.scale_state = PM_SCALE_STATE_MOTION;
  assert_nothing_taken (f, &request, PM_PRINT_FLOW_ERROR_WEIGHT_NOT_STABLE,
                        "not stable");

  request = letter (9);
  request.postable = FALSE;
  assert_nothing_taken (f, &request, PM_PRINT_FLOW_ERROR_WEIGHT_NOT_STABLE,
                        "no usable weight");

  request = letter (0);
  request.has_weight = FALSE;
  request.scale_state = PM_SCALE_STATE_UNDER_ZERO;
  assert_nothing_taken (f, &request, PM_PRINT_FLOW_ERROR_WEIGHT_UNDER_ZERO, "under zero");

  request = letter (0);
  request.scale_state = PM_SCALE_STATE_ZERO;
  assert_nothing_taken (f, &request, PM_PRINT_FLOW_ERROR_NO_WEIGHT, "no piece");

  request = letter (0);
  request.manual_weight = TRUE;
  request.has_weight = FALSE;
  assert_nothing_taken (f, &request, PM_PRINT_FLOW_ERROR_NO_WEIGHT, "Type the weight");

  request = letter (40);
  assert_nothing_taken (f, &request, PM_PRINT_FLOW_ERROR_WEIGHT_OVER_LIMIT, "3.5 oz");

  request = letter (9);
  request.destination_zip = "6060";
  assert_nothing_taken (f, &request, PM_PRINT_FLOW_ERROR_DESTINATION_MALFORMED,
                        "“6060” is not a ZIP Code");

  request = letter (9);
  request.destination_zip = "ABCDE";
  assert_nothing_taken (f, &request, PM_PRINT_FLOW_ERROR_DESTINATION_MALFORMED,
                        "not a ZIP Code");

  request = letter (9);
  request.days_ahead = 31;
  assert_nothing_taken (f, &request, PM_PRINT_FLOW_ERROR_DATE, "at most 30 days");

  request = letter (9);
  request.mode = PM_PIECE_MODE_KEY_IN;
  request.amount = 0;
  assert_nothing_taken (f, &request, PM_PRINT_FLOW_ERROR_AMOUNT, "Type the postage");

  request.amount = 150 * PM_MILLS_PER_DOLLAR;
  request.amount_confirmed = TRUE;
  assert_nothing_taken (f, &request, PM_PRINT_FLOW_ERROR_AMOUNT, "$100.00");

  request = letter (9);
  request.mode = PM_PIECE_MODE_GRAPHIC;
  assert_nothing_taken (f, &request, PM_PRINT_FLOW_ERROR_NO_GRAPHIC, "Pick a graphic");
}

/* A zone-priced class needs the destination before it can be rated. */
static void
test_refusal_destination_missing (void)
{
  g_autoptr(Fixture) f = fixture_new (500 * PM_MILLS_PER_DOLLAR);
  g_autoptr(GError) error = NULL;
  PmPrintRequest request = letter (0);

  request.weight = pm_weight_make (785, -2, PM_WEIGHT_UNIT_POUND);
  request.mail_class = PM_MAIL_CLASS_GROUND_ADVANTAGE;
  request.shape = PM_SHAPE_PARCEL;
  request.destination_zip = NULL;
  g_assert_false (pm_print_flow_check (f->flow, &request, NULL, NULL, &error));
  g_assert_error (error, PM_PRINT_FLOW_ERROR, PM_PRINT_FLOW_ERROR_DESTINATION_MISSING);
  g_clear_error (&error);
  assert_nothing_taken (f, &request, PM_PRINT_FLOW_ERROR_DESTINATION_MISSING, "ZIP");
}

/* A parcel of a zone-priced class, rated from the shipped zone chart of origin 606 and
 * printed; its indicium read back from the PNG. */
static void
print_parcel (Fixture    *f,
              PmMailClass mail_class,
              PmWeight    weight,
              const char *destination,
              guint       zone,
              PmMills     price,
              guint32     date,
              guint32     destination_zip9,
              guint       rate_category,
              const char *message)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PmPrintOutcome) outcome = NULL;
  g_autoptr(PmPsdStatus) before = psd_status (f);
  g_autoptr(PmPsdStatus) after = NULL;
  g_autoptr(PmPiece) stored = NULL;
  g_autofree char *serial = serial_text (f);
  PmPrintRequest request = letter (0);
  PmMills checked = 0;
  PmQuote quote = { 0 };
  PmIndicium indicium;

  request.weight = weight;
  request.mail_class = mail_class;
  request.shape = PM_SHAPE_PARCEL;
  request.destination_zip = destination;

  /* What the screen shows before Print: the zone and the price. */
  g_assert_true (pm_print_flow_check (f->flow, &request, &checked, &quote, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (quote.zone, ==, zone);
  g_assert_cmpint (checked, ==, price);
  /* The 2018 chart lacks 5-digit exceptions and is not the current one: both said. */
  g_assert_true (quote.warnings & PM_QUOTE_WARNING_ZONE_CHART_OLD);

  outcome = print (f, &request, &error);
  g_assert_no_error (error);
  g_assert_cmpint (outcome->kind, ==, PM_PRINT_OUTCOME_PRINTED);
  g_assert_cmpint (outcome->postage, ==, price);
  g_assert_cmpuint (outcome->date_of_mailing, ==, date);
  g_assert_cmpstr (outcome->message, ==, message);

  after = psd_status (f);
  g_assert_cmpint (after->descending, ==, before->descending - price);
  g_assert_cmpint (after->ascending, ==, before->ascending + price);
  g_assert_cmpuint (after->piece_count, ==, before->piece_count + 1);

  stored = pm_store_get_piece (f->store, serial, after->piece_count, &error);
  g_assert_no_error (error);
  g_assert_cmpint (stored->print_state, ==, PM_PRINT_STATE_PRINTED);
  g_assert_cmpint (stored->postage, ==, price);
  {
    g_autofree char *class_code = g_strdup_printf ("%s-parcel",
                                                   pm_mail_class_to_string (mail_class));

    g_assert_cmpstr (stored->class_code, ==, class_code);
  }
  g_assert_cmpstr (stored->destination_zip, ==, destination);

  read_printed_indicium (f, outcome, &indicium);
  g_assert_cmpint (indicium.postage, ==, price);
  g_assert_cmpuint (indicium.date_of_mailing, ==, date);
  g_assert_cmpuint (indicium.origin_zip, ==, ORIGIN_ZIP);
  g_assert_cmpuint (indicium.destination_zip, ==, destination_zip9);
  g_assert_cmpuint (indicium.rate_category, ==, rate_category);
  g_assert_cmpint (indicium.descending, ==, after->descending);
  g_assert_true (indicium.flags & PM_INDICIUM_FLAG_SPECIMEN);
}

/* Ground Advantage of 12 Jul 2026: 4 to 8 oz, zone 8 (San Francisco from Chicago) $9.45,
 * zone 1 (Chicago) $7.90. */
static void
test_zone_priced_ground_advantage (void)
{
  g_autoptr(Fixture) f = fixture_new (500 * PM_MILLS_PER_DOLLAR);

  print_parcel (f, PM_MAIL_CLASS_GROUND_ADVANTAGE, pm_weight_make (6, 0, PM_WEIGHT_UNIT_OUNCE),
                "94105", 8, 9450, 20260803, 941050000, PM_RATE_CATEGORY_GROUND_ADVANTAGE,
                "Printed $9.45.");
  print_parcel (f, PM_MAIL_CLASS_GROUND_ADVANTAGE, pm_weight_make (75, -1, PM_WEIGHT_UNIT_OUNCE),
                "60614-1234", 1, 7900, 20260803, 606141234,
                PM_RATE_CATEGORY_GROUND_ADVANTAGE, "Printed $7.90.");
}

/* Priority Mail in the holiday prices of 5 Oct 2025 to 17 Jan 2026: 1.5 lb is priced as
 * 2 lb; Washington DC is zone 4 from Chicago: $13.05. */
static void
test_zone_priced_priority_mail (void)
{
  g_autoptr(Fixture) f = fixture_new_on (2025, 11, 10, 500 * PM_MILLS_PER_DOLLAR);

  print_parcel (f, PM_MAIL_CLASS_PRIORITY_MAIL, pm_weight_make (15, -1, PM_WEIGHT_UNIT_POUND),
                "20001", 4, 13050, 20251110, 200010000, PM_RATE_CATEGORY_PRIORITY_MAIL,
                "Printed $13.05.");
}

/* The destination of a zone-priced parcel: missing, malformed or in no zone. */
static void
test_zone_priced_refusals (void)
{
  g_autoptr(Fixture) f = fixture_new (500 * PM_MILLS_PER_DOLLAR);
  PmPrintRequest request = letter (0);

  request.weight = pm_weight_make (6, 0, PM_WEIGHT_UNIT_OUNCE);
  request.mail_class = PM_MAIL_CLASS_GROUND_ADVANTAGE;
  request.shape = PM_SHAPE_PARCEL;

  request.destination_zip = NULL;
  assert_nothing_taken (f, &request, PM_PRINT_FLOW_ERROR_DESTINATION_MISSING,
                        "enter the destination ZIP");
  request.destination_zip = "";
  assert_nothing_taken (f, &request, PM_PRINT_FLOW_ERROR_DESTINATION_MISSING,
                        "enter the destination ZIP");
  request.destination_zip = "9410";
  assert_nothing_taken (f, &request, PM_PRINT_FLOW_ERROR_DESTINATION_MALFORMED,
                        "“9410” is not a ZIP Code");
  request.destination_zip = "94I05";
  assert_nothing_taken (f, &request, PM_PRINT_FLOW_ERROR_DESTINATION_MALFORMED,
                        "“94I05” is not a ZIP Code");
  /* 002 is not in use: the chart has no zone for it, and rating never guesses one. */
  request.destination_zip = "00212";
  assert_nothing_taken (f, &request, PM_PRINT_FLOW_ERROR_NOT_RATED,
                        "00212 is not in the zone chart for origin 606");
}

static void
test_refusal_funds_short (void)
{
  g_autoptr(Fixture) f = fixture_new (1 * PM_MILLS_PER_DOLLAR);
  PmPrintRequest request = letter (25);  /* $1.36 */

  assert_nothing_taken (f, &request, PM_PRINT_FLOW_ERROR_FUNDS_SHORT,
                        "needs $1.36 and the meter holds $1.00");
}

static void
test_refusal_psd_locked (void)
{
  g_autoptr(Fixture) f = fixture_new (500 * PM_MILLS_PER_DOLLAR);
  g_autoptr(GError) error = NULL;
  g_autoptr(PmPsdStatus) locked = pm_psd_lock_sync (f->psd, "lost and found", &error);
  PmPrintRequest request = letter (9);

  g_assert_no_error (error);
  assert_nothing_taken (f, &request, PM_PRINT_FLOW_ERROR_PSD_LOCKED, "locked");
  request.mode = PM_PIECE_MODE_RE_DATE;
  assert_nothing_taken (f, &request, PM_PRINT_FLOW_ERROR_PSD_LOCKED, "locked");

  /* A date stamp on incoming mail needs nothing of the PSD. */
  {
    g_autoptr(PmPrintOutcome) stamp = NULL;

    request.mode = PM_PIECE_MODE_DATE_STAMP;
    stamp = print (f, &request, &error);
    g_assert_no_error (error);
    g_assert_cmpint (stamp->kind, ==, PM_PRINT_OUTCOME_PRINTED);
    g_assert_cmpint (stamp->postage, ==, 0);
  }
}

static void
test_refusal_inspection_overdue (void)
{
  g_autoptr(Fixture) f = fixture_new (500 * PM_MILLS_PER_DOLLAR);
  PmPrintRequest request = letter (9);
  g_autoptr(PmPrintOutcome) outcome = NULL;
  g_autoptr(GError) error = NULL;

  /* IBI: a warning after 90 days, printing stops after 120. At 91 days it still prints. */
  pm_clock_advance_s (91 * 24 * 3600);
  outcome = print (f, &request, &error);
  g_assert_no_error (error);
  g_assert_cmpint (outcome->status->inspection_state, ==, PM_PSD_INSPECTION_WARNING);

  pm_clock_advance_s (30 * 24 * 3600);
  assert_nothing_taken (f, &request, PM_PRINT_FLOW_ERROR_INSPECTION_OVERDUE,
                        "inspection is overdue");
}

static void
test_refusal_printer_offline (void)
{
  g_autoptr(Fixture) f = fixture_new (500 * PM_MILLS_PER_DOLLAR);
  PmPrintRequest request = letter (9);

  g_assert_cmpint (g_rmdir (f->printed), ==, 0);
  assert_nothing_taken (f, &request, PM_PRINT_FLOW_ERROR_PRINTER_OFFLINE,
                        "The printer cannot print");
  g_assert_cmpint (g_mkdir (f->printed, 0700), ==, 0);
}

static void
test_refusal_store_cannot_write (void)
{
  g_autoptr(Fixture) f = fixture_new (500 * PM_MILLS_PER_DOLLAR);
  PmPrintRequest request = letter (9);

  pm_store_close (f->store);
  assert_nothing_taken (f, &request, PM_PRINT_FLOW_ERROR_STORE_UNAVAILABLE,
                        "cannot write its records");
}

static void
test_refusal_busy (void)
{
  g_autoptr(Fixture) f = fixture_new (500 * PM_MILLS_PER_DOLLAR);
  PmPrintRequest request = letter (9);
  Wait first = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(PmPrintOutcome) second = NULL;
  g_autoptr(PmPrintOutcome) outcome = NULL;

  /* Print pressed twice: the second press is refused, the first prints once. */
  pm_print_flow_print_async (f->flow, &request, NULL, done_cb, &first);
  g_assert_true (pm_print_flow_get_busy (f->flow));
  {
    Wait wait = { 0 };

    pm_print_flow_print_async (f->flow, &request, NULL, done_cb, &wait);
    while (wait.result == NULL)
      g_main_context_iteration (NULL, TRUE);
    second = pm_print_flow_print_finish (f->flow, wait.result, &error);
    g_object_unref (wait.result);
  }
  g_assert_error (error, PM_PRINT_FLOW_ERROR, PM_PRINT_FLOW_ERROR_BUSY);
  g_assert_null (second);
  g_clear_error (&error);

  while (first.result == NULL)
    g_main_context_iteration (NULL, TRUE);
  outcome = pm_print_flow_print_finish (f->flow, first.result, &error);
  g_object_unref (first.result);
  g_assert_no_error (error);
  g_assert_cmpint (outcome->kind, ==, PM_PRINT_OUTCOME_PRINTED);
  g_assert_cmpuint (outcome->status->piece_count, ==, 1);
}

/* Postage taken, not printed --------------------------------------------------------------- */

static void
test_print_failed_recorded (void)
{
  g_autoptr(Fixture) f = fixture_new (500 * PM_MILLS_PER_DOLLAR);
  g_autoptr(GError) error = NULL;
  PmPrintRequest request = letter (9);
  g_autoptr(PmPrintOutcome) outcome = NULL;
  g_autoptr(PmPiece) stored = NULL;
  g_autoptr(PmPsdStatus) after = NULL;
  g_autofree char *serial = serial_text (f);
  g_autofree char *blocker = NULL;

  /* The folder printer never overwrites a file: one already named after the first piece's
   * job makes the printer fail after the debit, as a jam would. */
  blocker = g_strdup_printf ("%s/piece-%s-1.pdf", f->printed, serial);
  g_assert_true (g_file_set_contents (blocker, "earlier", -1, NULL));

  outcome = print (f, &request, &error);
  g_assert_no_error (error);
  g_assert_cmpint (outcome->kind, ==, PM_PRINT_OUTCOME_FAILED);
  g_assert_cmpint (outcome->postage, ==, 780);
  g_assert_true (outcome->recorded);
  g_assert_nonnull (strstr (outcome->message, "Postage of $0.78 was taken but the piece "
                                              "did not print"));
  g_assert_nonnull (strstr (outcome->message, "refund"));

  stored = pm_store_get_piece (f->store, serial, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (stored->print_state, ==, PM_PRINT_STATE_FAILED);
  g_assert_cmpstr (stored->print_detail, !=, "");

  /* No silent reprint: the PSD debited once, and only the blocking file is there. */
  after = psd_status (f);
  g_assert_cmpuint (after->piece_count, ==, 1);
  g_assert_cmpint (after->ascending, ==, 780);
  g_assert_cmpuint (count_files (f->printed), ==, 1);
}

/* Modes ---------------------------------------------------------------------------------- */

static cairo_status_t
append_cb (void                *closure,
           const unsigned char *data,
           unsigned int         length)
{
  g_byte_array_append (closure, data, length);
  return CAIRO_STATUS_SUCCESS;
}

static GBytes *
graphic_png (void)
{
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, 300, 150);
  cairo_t *cr = cairo_create (surface);
  GByteArray *bytes = g_byte_array_new ();

  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  cairo_set_source_rgb (cr, 0, 0, 0);
  cairo_rectangle (cr, 20, 20, 260, 110);
  cairo_stroke (cr);
  cairo_destroy (cr);
  g_assert_cmpint (cairo_surface_write_to_png_stream (surface, append_cb, bytes), ==,
                   CAIRO_STATUS_SUCCESS);
  cairo_surface_destroy (surface);
  return g_byte_array_free_to_bytes (bytes);
}

static void
test_modes_without_value (void)
{
  g_autoptr(Fixture) f = fixture_new (500 * PM_MILLS_PER_DOLLAR);
  g_autoptr(GBytes) png = graphic_png ();
  const PmPieceMode modes[] = { PM_PIECE_MODE_DATE_STAMP, PM_PIECE_MODE_RE_DATE,
                                PM_PIECE_MODE_GRAPHIC };

  for (guint i = 0; i < G_N_ELEMENTS (modes); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(PmPrintOutcome) outcome = NULL;
      g_autoptr(PmPsdStatus) after = NULL;
      g_autofree char *pdf = NULL;
      PmPrintRequest request = { 0 };

      request.mode = modes[i];
      request.graphic_png = png;
      request.days_ahead = 2;
      outcome = print (f, &request, &error);
      g_assert_no_error (error);
      g_assert_cmpint (outcome->kind, ==, PM_PRINT_OUTCOME_PRINTED);
      g_assert_cmpint (outcome->postage, ==, 0);
      g_assert_null (outcome->piece);
      g_assert_null (outcome->indicium);
      g_assert_cmpstr (outcome->message, ==, "Printed.");
      g_assert_true (g_str_has_prefix (outcome->job_id, pm_piece_mode_to_string (modes[i])));
      pdf = g_strdup_printf ("%s/%s.pdf", f->printed, outcome->job_id);
      g_assert_true (g_file_test (pdf, G_FILE_TEST_IS_REGULAR));

      /* No value: the PSD is not asked for a debit. */
      after = psd_status (f);
      g_assert_cmpuint (after->piece_count, ==, 0);
      g_assert_cmpint (after->descending, ==, 500000);
    }
}

static void
test_modes_with_value (void)
{
  g_autoptr(Fixture) f = fixture_new (500 * PM_MILLS_PER_DOLLAR);
  g_autoptr(GError) error = NULL;
  g_autoptr(PmPrintOutcome) additional = NULL;
  g_autoptr(PmPrintOutcome) key_in = NULL;
  g_autoptr(PmPrintOutcome) confirmed = NULL;
  g_autoptr(PmPiece) stored = NULL;
  g_autofree char *serial = serial_text (f);
  PmPrintRequest request = letter (0);
  PmIndicium indicium;

  /* Additional postage on an underpaid piece: the amount, no weight needed. */
  request.mode = PM_PIECE_MODE_ADDITIONAL;
  request.has_weight = FALSE;
  request.amount = 290;
  additional = print (f, &request, &error);
  g_assert_no_error (error);
  g_assert_cmpint (additional->postage, ==, 290);
  read_printed_indicium (f, additional, &indicium);
  g_assert_cmpuint (indicium.rate_category, ==, PM_RATE_CATEGORY_ADDITIONAL_POSTAGE);
  g_assert_cmpint (indicium.postage, ==, 290);
  stored = pm_store_get_piece (f->store, serial, 1, &error);
  g_assert_cmpint (stored->mode, ==, PM_PIECE_MODE_ADDITIONAL);

  /* Key-in at the threshold prints; above it needs a confirmation. */
  pm_print_flow_set_key_in_threshold (f->flow, 5 * PM_MILLS_PER_DOLLAR);
  request.mode = PM_PIECE_MODE_KEY_IN;
  request.amount = 5 * PM_MILLS_PER_DOLLAR;
  key_in = print (f, &request, &error);
  g_assert_no_error (error);
  g_assert_cmpint (key_in->postage, ==, 5000);

  request.amount = 5001;
  assert_nothing_taken (f, &request, PM_PRINT_FLOW_ERROR_CONFIRMATION_REQUIRED,
                        "$5.001 is more than $5.00");
  request.amount_confirmed = TRUE;
  confirmed = print (f, &request, &error);
  g_assert_no_error (error);
  g_assert_cmpint (confirmed->postage, ==, 5001);
  read_printed_indicium (f, confirmed, &indicium);
  g_assert_cmpint (indicium.postage, ==, 5001);
  g_assert_cmpint (indicium.ascending, ==, 290 + 5000 + 5001);
}

/* The date ------------------------------------------------------------------------------ */

static void
test_date_advance (void)
{
  g_autoptr(Fixture) f = fixture_new (500 * PM_MILLS_PER_DOLLAR);
  g_autoptr(GError) error = NULL;
  g_autoptr(PmPrintOutcome) ahead = NULL;
  g_autoptr(PmPrintOutcome) later = NULL;
  PmPrintRequest request = letter (9);
  PmIndicium indicium;
  guint32 date = 0;

  g_assert_true (pm_print_flow_date_of_mailing (30, &date, &error));
  g_assert_cmpuint (date, ==, 20260902);
  g_assert_false (pm_print_flow_date_of_mailing (31, &date, &error));
  g_assert_error (error, PM_PRINT_FLOW_ERROR, PM_PRINT_FLOW_ERROR_DATE);
  g_clear_error (&error);

  request.days_ahead = 30;
  ahead = print (f, &request, &error);
  g_assert_no_error (error);
  read_printed_indicium (f, ahead, &indicium);
  g_assert_cmpuint (indicium.date_of_mailing, ==, 20260902);

  /* Never back: once dated 2 Sep, today's date is refused... */
  request.days_ahead = 0;
  assert_nothing_taken (f, &request, PM_PRINT_FLOW_ERROR_DATE, "never dated back");

  /* ...and the same date still prints. */
  request.days_ahead = 30;
  later = print (f, &request, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (later->date_of_mailing, ==, 20260902);
}

static void
test_midnight_rollover (void)
{
  g_autoptr(Fixture) f = fixture_new (500 * PM_MILLS_PER_DOLLAR);
  g_autoptr(GError) error = NULL;
  g_autoptr(PmPrintOutcome) before = NULL;
  g_autoptr(PmPrintOutcome) after = NULL;
  PmPrintRequest request = letter (9);
  PmIndicium indicium;
  guint32 date = 0;

  /* One second before local midnight (Chicago, CDT) and one second after. */
  set_local_time (2026, 8, 3, 23, 59, 59);
  g_assert_true (pm_print_flow_date_of_mailing (0, &date, &error));
  g_assert_cmpuint (date, ==, 20260803);
  before = print (f, &request, &error);
  g_assert_no_error (error);
  read_printed_indicium (f, before, &indicium);
  g_assert_cmpuint (indicium.date_of_mailing, ==, 20260803);

  pm_clock_advance_s (2);
  g_assert_true (pm_print_flow_date_of_mailing (0, &date, &error));
  g_assert_cmpuint (date, ==, 20260804);
  g_assert_true (pm_print_flow_date_of_mailing (30, &date, &error));
  g_assert_cmpuint (date, ==, 20260903);
  after = print (f, &request, &error);
  g_assert_no_error (error);
  read_printed_indicium (f, after, &indicium);
  g_assert_cmpuint (indicium.date_of_mailing, ==, 20260804);
}

/* Reconciliation -------------------------------------------------------------------------- */

static void
test_reconcile (void)
{
  g_autoptr(Fixture) f = fixture_new (500 * PM_MILLS_PER_DOLLAR);
  g_autoptr(GError) error = NULL;
  g_autoptr(PmPrintOutcome) printed = NULL;
  g_autofree char *serial = serial_text (f);
  PmPrintRequest request = letter (9);
  PmReconcileReport report;
  gint64 stored = 0;

  /* One piece through the flow, then three debits the store never heard of, as after a
   * crash between the PSD and the store. */
  printed = print (f, &request, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < 3; i++)
    {
      PmPsdDebitRequest debit = { 0 };
      g_autoptr(PmPsdDebitResult) result = NULL;

      debit.postage = 1070;
      debit.date_of_mailing = 20260803;
      debit.rate_category = PM_RATE_CATEGORY_FIRST_CLASS_LETTER;
      result = pm_psd_debit_sync (f->psd, &debit, &error);
      g_assert_no_error (error);
    }

  g_assert_true (pm_print_flow_reconcile_sync (f->flow, &report, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (report.psd_piece_count, ==, 4);
  g_assert_cmpint (report.store_piece_count, ==, 1);
  g_assert_cmpuint (report.inserted, ==, 3);
  g_assert_cmpuint (report.beyond_journal, ==, 0);

  for (gint64 count = 2; count <= 4; count++)
    {
      g_autoptr(PmPiece) piece = pm_store_get_piece (f->store, serial, count, &error);

      g_assert_no_error (error);
      g_assert_cmpint (piece->print_state, ==, PM_PRINT_STATE_UNKNOWN);
      g_assert_cmpint (piece->postage, ==, 1070);
      g_assert_cmpint (piece->ascending_after, ==, 780 + (count - 1) * 1070);
    }

  /* Never twice. */
  g_assert_true (pm_print_flow_reconcile_sync (f->flow, &report, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (report.inserted, ==, 0);
  g_assert_true (pm_store_get_max_piece_count (f->store, serial, &stored, &error));
  g_assert_cmpint (stored, ==, 4);

  {
    g_autoptr(GDate) day = g_date_new_dmy (3, G_DATE_AUGUST, 2026);
    g_autoptr(PmPieceDay) list = pm_store_list_day (f->store, day, &error);

    g_assert_no_error (error);
    g_assert_cmpint (list->count, ==, 4);
    g_assert_cmpint (list->postage_total, ==, 780 + 3 * 1070);
    g_assert_cmpint (list->printed, ==, 1);
    g_assert_cmpint (list->pending, ==, 3);
  }
}

/* Every job the printer took is in the usage log with its impressions and its end, in
 * the same transaction as the piece's print state: printed pieces, impressions with no
 * value, and a piece that failed at the printer. */
static void
test_usage_log (void)
{
  g_autoptr(Fixture) f = fixture_new (500 * PM_MILLS_PER_DOLLAR);
  g_autoptr(GError) error = NULL;
  g_autofree char *serial = serial_text (f);
  g_autofree char *blocker = NULL;
  PmStorePrintUsageTotals totals = { 0 };
  PmPrintRequest request = letter (9);
  PmPrintRequest stamp = { 0 };
  PmPrintOutcome *outcome;

  outcome = print (f, &request, &error);
  g_assert_no_error (error);
  g_assert_cmpint (outcome->kind, ==, PM_PRINT_OUTCOME_PRINTED);
  pm_print_outcome_free (outcome);

  stamp.mode = PM_PIECE_MODE_DATE_STAMP;
  outcome = print (f, &stamp, &error);
  g_assert_no_error (error);
  g_assert_cmpint (outcome->kind, ==, PM_PRINT_OUTCOME_PRINTED);
  pm_print_outcome_free (outcome);

  /* The second piece meets a file already named after it, as a jam would stop it. */
  blocker = g_strdup_printf ("%s/piece-%s-2.pdf", f->printed, serial);
  g_assert_true (g_file_set_contents (blocker, "earlier", -1, NULL));
  outcome = print (f, &request, &error);
  g_assert_no_error (error);
  g_assert_cmpint (outcome->kind, ==, PM_PRINT_OUTCOME_FAILED);
  pm_print_outcome_free (outcome);

  g_assert_true (pm_store_sum_print_usage (f->store, "Envelopes", 0, G_MAXINT64, &totals,
                                           &error));
  g_assert_no_error (error);
  g_assert_cmpint (totals.jobs, ==, 3);
  g_assert_cmpint (totals.jobs_done, ==, 2);
  g_assert_cmpint (totals.jobs_failed, ==, 1);
  g_assert_cmpint (totals.impressions, ==, 2);
}

/* A PSD whose state file was put back to an older copy counts fewer pieces than the store
 * holds: start-up reconciliation notices, and no postage is debited again (each debit would
 * reuse a piece count already printed). Impressions with no value still print. */
static void
test_psd_went_back (void)
{
  g_autoptr(Fixture) f = fixture_new (500 * PM_MILLS_PER_DOLLAR);
  g_autoptr(GError) error = NULL;
  g_autoptr(PmVerifyKey) provider_public = pm_signing_key_get_verify_key (f->provider);
  g_autofree char *psd_dir = g_build_filename (f->dir, "psd", NULL);
  g_autofree char *state = g_build_filename (psd_dir, "state", NULL);
  g_autofree char *older = NULL;
  g_autoptr(PmPsdStatus) before = NULL;
  g_autoptr(PmPsdStatus) after = NULL;
  PmPrintRequest request = letter (9);
  PmPrintRequest stamp = { 0 };
  PmReconcileReport report;
  PmPrintOutcome *outcome;
  gsize length = 0;

  g_assert_true (g_file_get_contents (state, &older, &length, NULL));
  for (guint i = 0; i < 2; i++)
    {
      outcome = print (f, &request, &error);
      g_assert_no_error (error);
      g_assert_cmpint (outcome->kind, ==, PM_PRINT_OUTCOME_PRINTED);
      pm_print_outcome_free (outcome);
    }

  /* The meter stops; someone puts the PSD's older state file back; the meter starts. */
  g_clear_object (&f->flow);
  g_clear_object (&f->psd);
  g_assert_true (g_file_set_contents (state, older, (gssize) length, NULL));
  f->psd = PM_PSD (pm_software_psd_open (psd_dir, provider_public, 0, &error));
  g_assert_no_error (error);
  f->flow = pm_print_flow_new (f->psd, f->store, f->printer, f->rating);
  g_test_expect_message ("postmeter-meter", G_LOG_LEVEL_WARNING, "*went back*");
  g_assert_true (pm_print_flow_reconcile_sync (f->flow, &report, &error));
  g_test_assert_expected_messages ();
  g_assert_no_error (error);
  g_assert_cmpuint (report.psd_piece_count, ==, 0);
  g_assert_cmpint (report.store_piece_count, ==, 2);

  before = psd_status (f);
  outcome = print (f, &request, &error);
  g_assert_null (outcome);
  g_assert_error (error, PM_PRINT_FLOW_ERROR, PM_PRINT_FLOW_ERROR_PSD_LOCKED);
  g_assert_nonnull (strstr (error->message, "No postage was taken"));
  g_clear_error (&error);
  after = psd_status (f);
  g_assert_cmpuint (after->piece_count, ==, before->piece_count);
  g_assert_cmpint (after->ascending, ==, before->ascending);
  g_assert_cmpint (after->descending, ==, before->descending);

  stamp.mode = PM_PIECE_MODE_DATE_STAMP;
  outcome = print (f, &stamp, &error);
  g_assert_no_error (error);
  g_assert_cmpint (outcome->kind, ==, PM_PRINT_OUTCOME_PRINTED);
  pm_print_outcome_free (outcome);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/meter/print-flow/postage-printed", test_postage_printed);
  g_test_add_func ("/meter/print-flow/letter-limit", test_letter_limit);
  g_test_add_func ("/meter/print-flow/refusals/request", test_refusals_of_the_request);
  g_test_add_func ("/meter/print-flow/refusals/destination-missing",
                   test_refusal_destination_missing);
  g_test_add_func ("/meter/print-flow/zone-priced/ground-advantage",
                   test_zone_priced_ground_advantage);
  g_test_add_func ("/meter/print-flow/zone-priced/priority-mail",
                   test_zone_priced_priority_mail);
  g_test_add_func ("/meter/print-flow/zone-priced/refusals", test_zone_priced_refusals);
  g_test_add_func ("/meter/print-flow/refusals/funds-short", test_refusal_funds_short);
  g_test_add_func ("/meter/print-flow/refusals/psd-locked", test_refusal_psd_locked);
  g_test_add_func ("/meter/print-flow/refusals/inspection-overdue",
                   test_refusal_inspection_overdue);
  g_test_add_func ("/meter/print-flow/refusals/printer-offline",
                   test_refusal_printer_offline);
  g_test_add_func ("/meter/print-flow/refusals/store-cannot-write",
                   test_refusal_store_cannot_write);
  g_test_add_func ("/meter/print-flow/refusals/busy", test_refusal_busy);
  g_test_add_func ("/meter/print-flow/print-failed-recorded", test_print_failed_recorded);
  g_test_add_func ("/meter/print-flow/modes/without-value", test_modes_without_value);
  g_test_add_func ("/meter/print-flow/modes/with-value", test_modes_with_value);
  g_test_add_func ("/meter/print-flow/date/advance", test_date_advance);
  g_test_add_func ("/meter/print-flow/date/midnight", test_midnight_rollover);
  g_test_add_func ("/meter/print-flow/reconcile", test_reconcile);
  g_test_add_func ("/meter/print-flow/usage-log", test_usage_log);
  g_test_add_func ("/meter/print-flow/psd-went-back", test_psd_went_back);

  return g_test_run ();
}
