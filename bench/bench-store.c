/* bench-store.c: how long the store takes on the print path, and a sign-in's hashing
 *
 * Prints medians of:
 *   - recording a piece with its upload record (one durable transaction, WAL, FULL sync),
 *     from a worker thread as the print path does;
 *   - the same through the async call, from queueing to the callback on the main loop;
 *   - sealing a batch of 100 upload records;
 *   - one access-code hash with the default scrypt costs.
 *
 * Usage: bench-store [DIRECTORY]   (default: a temporary folder, removed afterwards;
 * give a folder on the kiosk's real disk to measure that disk's sync time).
 */
#include <glib/gstdio.h>
#include <stdio.h>

#include "pm-access-code.h"
#include "pm-store-outbox.h"
#include "pm-store-pieces.h"

#define ROUNDS 200

static int
compare_gint64 (gconstpointer a,
                gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return (x > y) - (x < y);
}

static double
median_ms (GArray *samples)
{
  g_array_sort (samples, compare_gint64);
  return g_array_index (samples, gint64, samples->len / 2) / 1000.0;
}

static PmPiece *
make_piece (gint64 n)
{
  PmPiece *piece = pm_piece_new ();

  piece->psd_serial = g_strdup ("BENCH-PSD");
  piece->piece_count = n;
  piece->postage = 730;
  piece->ascending_after = 730 * n;
  piece->descending_after = 10000000 - 730 * n;
  piece->date_of_mailing = 20260302;
  piece->class_code = g_strdup ("FCM-LETTER");
  piece->origin_zip = g_strdup ("60601");
  piece->indicium = g_bytes_new_take (g_malloc0 (120), 120);
  return piece;
}

static gboolean
record_async_work (sqlite3  *db,
                   gpointer  data,
                   GError  **error)
{
  return pm_store_pieces_insert (db, data, NULL, error);
}

typedef struct
{
  gint64  started;
  gint64  elapsed;
  gboolean done;
} AsyncTiming;

static void
recorded_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  AsyncTiming *timing = user_data;
  g_autoptr(GError) error = NULL;

  if (!pm_store_run_finish (PM_STORE (source), result, &error))
    g_error ("%s", error->message);
  timing->elapsed = g_get_monotonic_time () - timing->started;
  timing->done = TRUE;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  g_autoptr(PmStore) store = NULL;
  g_autoptr(GArray) sync_times = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GArray) async_times = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GArray) seal_times = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GArray) hash_times = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GBytes) record = g_bytes_new_take (g_malloc0 (180), 180);
  gboolean temporary = argc < 2;
  gint64 n = 0;

  dir = temporary ? g_dir_make_tmp ("bench-store-XXXXXX", &error) : g_strdup (argv[1]);
  if (dir == NULL)
    g_error ("%s", error->message);
  path = g_build_filename (dir, "bench.db", NULL);
  g_unlink (path);

  store = pm_store_open (path, &error);
  if (store == NULL)
    g_error ("%s", error->message);

  for (int i = 0; i < ROUNDS; i++)
    {
      g_autoptr(PmPiece) piece = make_piece (++n);
      gint64 started = g_get_monotonic_time ();
      gint64 elapsed;

      if (!pm_store_insert_piece_with_upload (store, piece, record, NULL, NULL, &error))
        g_error ("%s", error->message);
      elapsed = g_get_monotonic_time () - started;
      g_array_append_val (sync_times, elapsed);
    }

  for (int i = 0; i < ROUNDS; i++)
    {
      AsyncTiming timing = { g_get_monotonic_time (), 0, FALSE };

      pm_store_run_async (store, record_async_work, make_piece (++n),
                          (GDestroyNotify) pm_piece_free, NULL, recorded_cb, &timing);
      while (!timing.done)
        g_main_context_iteration (NULL, TRUE);
      g_array_append_val (async_times, timing.elapsed);
    }

  for (int i = 0; i < 20; i++)
    {
      g_autoptr(PmUploadBatch) batch = NULL;
      gint64 started;
      gint64 elapsed;

      for (int j = 0; j < 100; j++)
        if (!pm_store_enqueue_upload (store, record, NULL, &error))
          g_error ("%s", error->message);

      started = g_get_monotonic_time ();
      batch = pm_store_seal_upload_batch (store, 100, &error);
      elapsed = g_get_monotonic_time () - started;
      if (batch == NULL)
        g_error ("no batch: %s", error != NULL ? error->message : "nothing waiting");
      g_array_append_val (seal_times, elapsed);

      {
        PmUploadReceipt receipt = { batch->id, batch->payload_sha256, batch->first_seq,
                                    batch->last_seq, batch->count, "bench" };
        if (!pm_store_acknowledge_upload (store, &receipt, &error))
          g_error ("%s", error->message);
      }
    }

  for (int i = 0; i < 9; i++)
    {
      gint64 started = g_get_monotonic_time ();
      g_autofree char *hash = pm_access_code_hash ("48291736", &error);
      gint64 elapsed = g_get_monotonic_time () - started;

      if (hash == NULL)
        g_error ("%s", error->message);
      g_array_append_val (hash_times, elapsed);
    }

  printf ("store: %s\n", path);
  printf ("record piece + upload record, blocking (median of %d): %.2f ms\n", ROUNDS,
          median_ms (sync_times));
  printf ("record piece, async to callback (median of %d):        %.2f ms\n", ROUNDS,
          median_ms (async_times));
  printf ("seal a batch of 100 records (median of 20):             %.2f ms\n",
          median_ms (seal_times));
  printf ("access-code hash, default scrypt costs (median of 9):   %.1f ms\n",
          median_ms (hash_times));

  g_clear_object (&store);
  if (temporary)
    {
      g_autofree char *wal = g_strconcat (path, "-wal", NULL);
      g_autofree char *shm = g_strconcat (path, "-shm", NULL);

      g_unlink (path);
      g_unlink (wal);
      g_unlink (shm);
      g_rmdir (dir);
    }
  return 0;
}
