/* bench-print: the print path, from Print pressed to the job handed to the printer
 *
 *   bench-print [PIECES]
 *
 * A software PSD (origin 60601, funds from a signed refill), a store and a folder printer
 * in a temporary folder, the real rate packages of data/rates; PIECES First-Class letters
 * (default 1,000) printed one after the other as the kiosk does (a piece at a time).
 * Prints the latency from pm_print_flow_print_async() to the job handed to the printer
 * (the refusal checks, the PSD debit with its durable state file, the store commit with
 * synchronous=FULL, the document), its p50, p99 and maximum, one piece at a time.
 *
 * Then a batch as a fast mailing machine feeds it: each piece starts as soon as the last
 * one's job is handed to the printer. Prints the pieces per second the software hands to
 * the printer, and the pieces per second finished, which here is the folder printer
 * rendering each envelope as a 300 dpi PDF and PNG on one worker thread.
 */
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

#include "pm-clock.h"
#include "pm-folder-printer.h"
#include "pm-print-flow.h"
#include "pm-psd-message.h"
#include "pm-software-psd.h"

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

typedef struct
{
  PmPrintFlow *flow;
  guint        done;
  guint        failed;
  gint64       last_handed_us;
} Batch;

static void
batch_done_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  Batch *batch = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(PmPrintOutcome) outcome = NULL;

  outcome = pm_print_flow_print_finish (PM_PRINT_FLOW (source), result, &error);
  batch->done++;
  if (outcome == NULL || outcome->kind != PM_PRINT_OUTCOME_PRINTED)
    batch->failed++;
  else
    batch->last_handed_us = MAX (batch->last_handed_us, outcome->handed_us);
}

static int
compare_gint64 (gconstpointer a,
                gconstpointer b)
{
  gint64 x = *(const gint64 *) a;
  gint64 y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

static PmPsd *
make_psd (const char *dir)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PmSigningKey) provider = pm_signing_key_generate (&error);
  g_autoptr(PmVerifyKey) provider_public = pm_signing_key_get_verify_key (provider);
  g_autofree char *psd_dir = g_build_filename (dir, "psd", NULL);
  g_autoptr(PmVerifyKey) psd_key = NULL;
  g_autoptr(GBytes) block_bytes = NULL;
  g_autoptr(GBytes) refill = NULL;
  g_autoptr(PmPsdStatus) installed = NULL;
  g_autoptr(PmPsdStatus) refilled = NULL;
  PmOperationalBlock block = { 0 };
  PmPostageValueDownload download = { 0 };
  PmPsd *psd;

  g_mkdir_with_parents (psd_dir, 0700);
  psd = PM_PSD (pm_software_psd_open (psd_dir, provider_public, 4400001, &error));
  if (psd == NULL)
    g_error ("PSD: %s", error->message);

  psd_key = pm_psd_get_public_key (psd);
  block.psd_serial = pm_psd_get_serial (psd);
  memcpy (block.psd_model, PM_SOFTWARE_PSD_MODEL, 5);
  pm_psd_key_digest (psd_key, block.psd_key_digest);
  block.certificate_serial = 1;
  block.origin_zip = 60601;
  pm_operational_block_set_profile (&block, PM_POSTAL_PROFILE_IBI);
  block.max_funds = 100000 * PM_MILLS_PER_DOLLAR;
  block.max_postage = 100 * PM_MILLS_PER_DOLLAR;
  block.issued_at = pm_clock_now_s ();
  block_bytes = pm_operational_block_sign (&block, provider, &error);
  installed = pm_psd_install_operational_block_sync (psd, block_bytes, &error);
  if (installed == NULL)
    g_error ("Operational block: %s", error->message);

  download.psd_serial = block.psd_serial;
  download.sequence = 1;
  download.amount = 50000 * PM_MILLS_PER_DOLLAR;
  download.issued_at = pm_clock_now_s ();
  refill = pm_postage_value_download_sign (&download, provider, &error);
  refilled = pm_psd_refill_sync (psd, refill, &error);
  if (refilled == NULL)
    g_error ("Refill: %s", error->message);
  return psd;
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

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  guint pieces = argc > 1 ? (guint) g_ascii_strtoull (argv[1], NULL, 10) : 1000;
  g_autofree char *dir = g_dir_make_tmp ("pm-bench-print-XXXXXX", &error);
  g_autofree char *db = NULL;
  g_autofree char *printed = NULL;
  g_autofree char *pem = NULL;
  g_autoptr(PmVerifyKey) rates_key = NULL;
  g_autoptr(PmPsd) psd = NULL;
  g_autoptr(PmStore) store = NULL;
  g_autoptr(PmPrinter) printer = NULL;
  g_autoptr(PmRating) rating = pm_rating_new ();
  g_autoptr(PmPrintFlow) flow = NULL;
  g_autoptr(GArray) latencies = g_array_new (FALSE, FALSE, sizeof (gint64));
  gint64 batch_start, batch_us;
  gint64 p50, p99, max;

  if (pieces == 0)
    g_error ("Give a number of pieces above 0");

  db = g_build_filename (dir, "postmeter.db", NULL);
  printed = g_build_filename (dir, "printed", NULL);
  g_mkdir_with_parents (printed, 0700);

  if (!g_file_get_contents (PM_SOURCE_DATADIR "/keys/demo-provider.pub", &pem, NULL, &error)
      || (rates_key = pm_verify_key_new_from_pem (pem, -1, &error)) == NULL
      || !pm_rating_install_directory (rating, PM_SOURCE_DATADIR "/rates", rates_key, &error))
    g_error ("Rates: %s", error->message);

  psd = make_psd (dir);
  store = pm_store_open (db, &error);
  if (store == NULL)
    g_error ("Store: %s", error->message);
  printer = PM_PRINTER (pm_folder_printer_new ("Envelopes", printed));
  flow = pm_print_flow_new (psd, store, printer, rating);
  if (!pm_print_flow_reconcile_sync (flow, NULL, &error))
    g_error ("Reconcile: %s", error->message);

  batch_start = g_get_monotonic_time ();
  for (guint i = 0; i < pieces; i++)
    {
      PmPrintRequest request = { 0 };
      g_autoptr(PmPrintOutcome) outcome = NULL;
      Wait wait = { 0 };
      gint64 latency;

      request.mode = PM_PIECE_MODE_POSTAGE;
      request.has_weight = TRUE;
      request.weight = pm_weight_make (5 + (i % 30), -1, PM_WEIGHT_UNIT_OUNCE);
      request.scale_state = PM_SCALE_STATE_STABLE;
      request.postable = TRUE;
      request.mail_class = PM_MAIL_CLASS_FIRST_CLASS;
      request.shape = PM_SHAPE_LETTER;
      request.destination_zip = "20001";
      request.account_id = 1;

      pm_print_flow_print_async (flow, &request, NULL, done_cb, &wait);
      while (wait.result == NULL)
        g_main_context_iteration (NULL, TRUE);
      outcome = pm_print_flow_print_finish (flow, wait.result, &error);
      g_object_unref (wait.result);
      if (outcome == NULL || outcome->kind != PM_PRINT_OUTCOME_PRINTED)
        g_error ("Piece %u did not print: %s", i + 1,
                 outcome != NULL ? outcome->message : error->message);

      latency = outcome->handed_us - outcome->pressed_us;
      g_array_append_val (latencies, latency);
    }
  (void) batch_start;

  g_array_sort (latencies, compare_gint64);
  p50 = g_array_index (latencies, gint64, (pieces - 1) * 50 / 100);
  p99 = g_array_index (latencies, gint64, (pieces - 1) * 99 / 100);
  max = g_array_index (latencies, gint64, pieces - 1);

  printf ("print path, Print pressed to job handed to the printer, %u pieces:\n", pieces);
  printf ("  p50 %.2f ms  p99 %.2f ms  max %.2f ms\n", p50 / 1000.0, p99 / 1000.0,
          max / 1000.0);

  /* The batch: the next piece starts when the last one's job is with the printer. */
  {
    Batch batch = { flow, 0, 0, 0 };
    gint64 handed_us;

    batch_start = g_get_monotonic_time ();
    for (guint i = 0; i < pieces; i++)
      {
        PmPrintRequest request = { 0 };

        request.mode = PM_PIECE_MODE_POSTAGE;
        request.has_weight = TRUE;
        request.weight = pm_weight_make (5 + (i % 30), -1, PM_WEIGHT_UNIT_OUNCE);
        request.scale_state = PM_SCALE_STATE_STABLE;
        request.postable = TRUE;
        request.mail_class = PM_MAIL_CLASS_FIRST_CLASS;
        request.shape = PM_SHAPE_LETTER;
        request.destination_zip = "20001";
        request.account_id = 1;

        pm_print_flow_print_async (flow, &request, NULL, batch_done_cb, &batch);
        while (pm_print_flow_get_busy (flow))
          g_main_context_iteration (NULL, TRUE);
      }
    handed_us = g_get_monotonic_time () - batch_start;
    while (batch.done < pieces)
      g_main_context_iteration (NULL, TRUE);
    batch_us = g_get_monotonic_time () - batch_start;
    if (batch.failed > 0)
      g_error ("%u pieces of the batch did not print", batch.failed);

    printf ("batch of %u pieces, each started when the last was handed to the printer:\n",
            pieces);
    printf ("  handed to the printer: %.1f pieces per second (%.2f s)\n",
            pieces / (handed_us / (double) G_USEC_PER_SEC),
            handed_us / (double) G_USEC_PER_SEC);
    printf ("  printed by the folder printer (PDF and PNG at 300 dpi): %.1f pieces per "
            "second (%.2f s)\n", pieces / (batch_us / (double) G_USEC_PER_SEC),
            batch_us / (double) G_USEC_PER_SEC);
  }

  g_clear_object (&flow);
  pm_store_close (store);
  remove_tree (dir);
  return 0;
}
