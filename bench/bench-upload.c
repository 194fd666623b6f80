/* bench-upload: a day of 5,000 pieces uploaded over a 384 kbit/s link
 *
 * Runs the reference data center on loopback, puts a relay throttled to 384 kbit/s in
 * each direction between it and the machine's network client, and uploads 5,000 records
 * (96 bytes each, 64 of them random like an indicium signature) in sealed batches of 500.
 * Prints, per run and as the median of the runs: bytes on the wire per record (both
 * directions, TLS included) and the time for the day. Aims: <= 200 bytes a record, <= 30 s.
 *
 *   bench-upload [RUNS] [RECORDS]
 */
#include <stdio.h>
#include <stdlib.h>

#include "pm-net-services.h"
#include "pm-test-datacenter.h"

#define BATCH 500

typedef struct
{
  gboolean      done;
  GAsyncResult *result;
} Waiter;

static void
waiter_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  Waiter *w = user_data;

  w->result = g_object_ref (result);
  w->done = TRUE;
}

static GBytes *
seal (const char *id,
      const char *device_id,
      gint64      first,
      gint64      count)
{
  g_autoptr(PmWireBatch) batch = pm_wire_batch_new (id, device_id);

  for (gint64 seq = first; seq < first + count; seq++)
    {
      guint8 payload[96];
      g_autoptr(GBytes) bytes = NULL;

      /* Fixed-width fields (registers, postage, dates, ZIPs) then the signature. */
      for (guint i = 0; i < 32; i++)
        payload[i] = (guint8) ((seq * 7 + i) >> (i % 4));
      for (guint i = 32; i < sizeof payload; i++)
        payload[i] = (guint8) g_random_int ();
      bytes = g_bytes_new (payload, sizeof payload);
      g_ptr_array_add (batch->records, pm_upload_record_new (seq, 1764770000 + seq * 10, NULL,
                                                             bytes));
    }
  return pm_wire_batch_seal (batch, NULL);
}

static int
compare_double (const void *a,
                const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

int
main (int    argc,
      char **argv)
{
  int runs = argc > 1 ? atoi (argv[1]) : 3;
  gint64 records = argc > 2 ? atoll (argv[2]) : 5000;
  g_autofree double *seconds = g_new0 (double, MAX (runs, 1));
  g_autofree double *per_record = g_new0 (double, MAX (runs, 1));
  PmTestDatacenter *dc;
  gint64 next_seq = 1;

  g_setenv ("SOUP_FORCE_HTTP1", "1", TRUE);
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  dc = pm_test_datacenter_start ("127.0.0.1");

  for (int run = 0; run < runs; run++)
    {
      PmTestRelay *relay = pm_test_relay_start (dc->https_port, 384000 / 8, 0, 2, 1);
      PmNetClient *client = pm_test_datacenter_client (dc, pm_test_relay_get_port (relay), 30);
      g_autofree char *base = g_strdup_printf ("https://127.0.0.1:%u/uploads",
                                               pm_test_relay_get_port (relay));
      g_autofree char *token = NULL;
      const char *urls[PM_REMOTE_SERVICE_COUNT] = { 0 };
      GPtrArray *sealed = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
      gint64 start, first_seq = next_seq;

      pm_test_datacenter_authenticate (dc, client);
      token = pm_net_client_dup_token (client);
      urls[PM_REMOTE_SERVICE_UPLOADS] = base;
      pm_net_client_set_session (client, dc->device_id, token, urls);

      /* Sealing happens as pieces are printed, during the day: not part of the upload. */
      for (gint64 first = first_seq; first < first_seq + records; first += BATCH)
        {
          g_autofree char *id = g_strdup_printf ("bench-%08" G_GINT64_FORMAT, first);

          g_ptr_array_add (sealed, seal (id, dc->device_id, first,
                                         MIN (BATCH, first_seq + records - first)));
        }

      start = g_get_monotonic_time ();
      for (guint b = 0; b < sealed->len; b++)
        {
          gint64 first = first_seq + (gint64) b * BATCH;
          gint64 last = MIN (first + BATCH, first_seq + records) - 1;
          g_autofree char *id = g_strdup_printf ("bench-%08" G_GINT64_FORMAT, first);
          g_autoptr(PmWireReceipt) receipt = NULL;
          g_autoptr(GError) error = NULL;
          Waiter w = { 0 };

          pm_uploads_send_async (client, id, sealed->pdata[b], first, last, dc->provider_key,
                                 NULL, waiter_cb, &w);
          pm_test_wait (&w.done);
          receipt = pm_uploads_send_finish (client, w.result, &error);
          g_object_unref (w.result);
          if (receipt == NULL)
            {
              fprintf (stderr, "bench-upload: %s\n", error->message);
              return 1;
            }
        }
      seconds[run] = (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;
      per_record[run] = (double) (pm_test_relay_bytes_up (relay) +
                                  pm_test_relay_bytes_down (relay)) / (double) records;
      printf ("run %d: %" G_GINT64_FORMAT " records in %.2f s, %.1f bytes/record on the wire "
              "(%" G_GUINT64_FORMAT " up, %" G_GUINT64_FORMAT " down)\n", run + 1, records,
              seconds[run], per_record[run], pm_test_relay_bytes_up (relay),
              pm_test_relay_bytes_down (relay));
      fflush (stdout);
      next_seq += records;

      g_ptr_array_unref (sealed);
      g_object_unref (client);
      pm_test_relay_stop (relay);
    }

  qsort (seconds, (size_t) runs, sizeof (double), compare_double);
  qsort (per_record, (size_t) runs, sizeof (double), compare_double);
  printf ("median of %d runs: %.2f s for %" G_GINT64_FORMAT " records at 384 kbit/s "
          "(aim <= 30 s), %.1f bytes/record (aim <= 200)\n", runs, seconds[runs / 2],
          records, per_record[runs / 2]);
  pm_test_datacenter_stop (dc);
  return 0;
}
