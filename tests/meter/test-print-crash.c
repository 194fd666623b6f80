/* test-print-crash.c: the print path killed at random points, then restarted
 *
 * The test runs itself as a child ("--child DIR") that opens the meter in DIR (software
 * PSD, store, folder printer, rates), reconciles as the kiosk does at start-up, and prints
 * First-Class letters one after the other until it is killed. The parent kills it with
 * SIGKILL after a random time, many times over, and after every restart checks that every
 * debit the PSD made is in the store exactly once, with a print state, and nothing is
 * left pending.
 */
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

#include "pm-clock.h"
#include "pm-folder-printer.h"
#include "pm-print-flow.h"
#include "pm-psd-message.h"
#include "pm-software-psd.h"

#define ROUNDS 12
#define PIECES_PER_CHILD 400

typedef struct
{
  PmPsd       *psd;
  PmStore     *store;
  PmPrinter   *printer;
  PmRating    *rating;
  PmPrintFlow *flow;
} Meter;

static PmRating *
load_rating (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *pem = NULL;
  g_autoptr(PmVerifyKey) key = NULL;
  PmRating *rating = pm_rating_new ();

  g_assert_true (g_file_get_contents (PM_SOURCE_DATADIR "/keys/demo-provider.pub", &pem,
                                      NULL, &error));
  key = pm_verify_key_new_from_pem (pem, -1, &error);
  g_assert_no_error (error);
  g_assert_true (pm_rating_install_directory (rating, PM_SOURCE_DATADIR "/rates", key,
                                              &error));
  return rating;
}

static void
meter_open (Meter      *m,
            const char *dir)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *psd_dir = g_build_filename (dir, "psd", NULL);
  g_autofree char *db = g_build_filename (dir, "postmeter.db", NULL);
  g_autofree char *printed = g_build_filename (dir, "printed", NULL);

  m->psd = PM_PSD (pm_software_psd_open (psd_dir, NULL, 0, &error));
  g_assert_no_error (error);
  m->store = pm_store_open (db, &error);
  g_assert_no_error (error);
  m->printer = PM_PRINTER (pm_folder_printer_new ("Envelopes", printed));
  m->rating = load_rating ();
  m->flow = pm_print_flow_new (m->psd, m->store, m->printer, m->rating);
}

static void
meter_close (Meter *m)
{
  g_clear_object (&m->flow);
  pm_store_close (m->store);
  g_clear_object (&m->store);
  g_clear_object (&m->printer);
  g_clear_object (&m->psd);
  g_clear_pointer (&m->rating, pm_rating_unref);
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
  ((Wait *) user_data)->result = g_object_ref (result);
}

/* The child: start up as the kiosk does, then print until killed. */
static int
run_child (const char *dir)
{
  g_autoptr(GError) error = NULL;
  Meter m = { 0 };

  meter_open (&m, dir);
  if (!pm_print_flow_reconcile_sync (m.flow, NULL, &error))
    g_error ("Child start-up: %s", error->message);

  for (guint i = 0; i < PIECES_PER_CHILD; i++)
    {
      PmPrintRequest request = { 0 };
      g_autoptr(PmPrintOutcome) outcome = NULL;
      Wait wait = { 0 };

      request.mode = PM_PIECE_MODE_POSTAGE;
      request.has_weight = TRUE;
      request.weight = pm_weight_make (5 + (i % 30), -1, PM_WEIGHT_UNIT_OUNCE);
      request.scale_state = PM_SCALE_STATE_STABLE;
      request.postable = TRUE;
      request.mail_class = PM_MAIL_CLASS_FIRST_CLASS;
      request.shape = PM_SHAPE_LETTER;
      request.destination_zip = "10001";

      pm_print_flow_print_async (m.flow, &request, NULL, done_cb, &wait);
      while (wait.result == NULL)
        g_main_context_iteration (NULL, TRUE);
      outcome = pm_print_flow_print_finish (m.flow, wait.result, &error);
      g_object_unref (wait.result);
      if (outcome == NULL)
        g_error ("Child print: %s", error->message);
    }

  meter_close (&m);
  return 0;
}

static void
prepare_meter (const char *dir)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PmSigningKey) provider = pm_signing_key_generate (&error);
  g_autoptr(PmVerifyKey) provider_public = pm_signing_key_get_verify_key (provider);
  g_autofree char *psd_dir = g_build_filename (dir, "psd", NULL);
  g_autofree char *printed = g_build_filename (dir, "printed", NULL);
  g_autoptr(PmPsd) psd = NULL;
  g_autoptr(PmVerifyKey) psd_key = NULL;
  g_autoptr(GBytes) block_bytes = NULL;
  g_autoptr(GBytes) refill = NULL;
  g_autoptr(PmPsdStatus) installed = NULL;
  g_autoptr(PmPsdStatus) refilled = NULL;
  PmOperationalBlock block = { 0 };
  PmPostageValueDownload download = { 0 };

  g_assert_cmpint (g_mkdir_with_parents (psd_dir, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (printed, 0700), ==, 0);
  psd = PM_PSD (pm_software_psd_open (psd_dir, provider_public, 4200001, &error));
  g_assert_no_error (error);

  psd_key = pm_psd_get_public_key (psd);
  block.psd_serial = pm_psd_get_serial (psd);
  memcpy (block.psd_model, PM_SOFTWARE_PSD_MODEL, 5);
  g_assert_true (pm_psd_key_digest (psd_key, block.psd_key_digest));
  block.certificate_serial = 7001;
  block.origin_zip = 60601;
  pm_operational_block_set_profile (&block, PM_POSTAL_PROFILE_IBI);
  block.max_funds = 100000 * PM_MILLS_PER_DOLLAR;
  block.max_postage = 100 * PM_MILLS_PER_DOLLAR;
  block.issued_at = pm_clock_now_s ();
  block_bytes = pm_operational_block_sign (&block, provider, &error);
  g_assert_no_error (error);
  installed = pm_psd_install_operational_block_sync (psd, block_bytes, &error);
  g_assert_no_error (error);

  download.psd_serial = block.psd_serial;
  download.sequence = 1;
  download.amount = 90000 * PM_MILLS_PER_DOLLAR;
  download.issued_at = pm_clock_now_s ();
  refill = pm_postage_value_download_sign (&download, provider, &error);
  g_assert_no_error (error);
  refilled = pm_psd_refill_sync (psd, refill, &error);
  g_assert_no_error (error);
}

/* After a restart: every debit once, with a state; the registers add up. */
static guint64
check_invariants (const char *dir)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PmPsdStatus) status = NULL;
  g_autofree char *serial = NULL;
  PmReconcileReport report;
  PmMills total = 0;
  Meter m = { 0 };

  meter_open (&m, dir);
  g_assert_true (pm_print_flow_reconcile_sync (m.flow, &report, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (report.beyond_journal, ==, 0);

  status = pm_psd_get_status_sync (m.psd, &error);
  g_assert_no_error (error);
  serial = g_strdup_printf ("%u", status->serial);

  for (guint64 count = 1; count <= status->piece_count; count++)
    {
      g_autoptr(PmPiece) piece = pm_store_get_piece (m.store, serial, (gint64) count,
                                                     &error);

      g_assert_no_error (error);
      g_assert_nonnull (piece);
      g_assert_cmpint (piece->print_state, !=, PM_PRINT_STATE_PENDING);
      g_assert_cmpint (piece->postage, >, 0);
      total += piece->postage;
    }

  /* Nothing beyond what the PSD counted, and every mill of AR accounted for. */
  {
    g_autoptr(PmPiece) beyond = pm_store_get_piece (m.store, serial,
                                                    (gint64) status->piece_count + 1,
                                                    NULL);
    gint64 max = 0;

    g_assert_null (beyond);
    g_assert_true (pm_store_get_max_piece_count (m.store, serial, &max, &error));
    g_assert_cmpint (max, ==, (gint64) status->piece_count);
  }
  g_assert_cmpint (total, ==, status->ascending);

  meter_close (&m);
  return status->piece_count;
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

static char *self_path;

static void
test_killed_at_random (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("pm-print-crash-XXXXXX", &error);
  guint64 pieces = 0;
  guint rounds_with_pieces = 0;

  g_assert_no_error (error);
  prepare_meter (dir);

  for (guint round = 0; round < ROUNDS; round++)
    {
      g_autoptr(GSubprocess) child = NULL;
      guint64 now;

      child = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error,
                                self_path, "--child", dir, NULL);
      g_assert_no_error (error);

      /* Long enough for the child to start and print a few pieces on a loaded machine,
       * short enough that it is killed mid-piece. */
      g_usleep (g_random_int_range (300, 1500) * 1000);
      g_subprocess_force_exit (child);
      g_subprocess_wait (child, NULL, NULL);

      now = check_invariants (dir);
      g_assert_cmpuint (now, >=, pieces);
      if (now > pieces)
        rounds_with_pieces++;
      pieces = now;
    }

  g_test_message ("%" G_GUINT64_FORMAT " pieces debited over %d kills", pieces, ROUNDS);
  g_assert_cmpuint (rounds_with_pieces, >, 0);
  remove_tree (dir);
}

int
main (int   argc,
      char *argv[])
{
  if (argc == 3 && strcmp (argv[1], "--child") == 0)
    return run_child (argv[2]);

  self_path = g_canonicalize_filename (argv[0], NULL);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/meter/print-flow/crash/killed-at-random", test_killed_at_random);
  return g_test_run ();
}
