/* bench-ingest: records per second the data center takes in from many devices at once
 *
 * Registers DEVICES machines with the reference data center on loopback (TLS), gives each
 * its own network client, seals BATCHES batches of 1,000 records per device beforehand,
 * then lets every device upload at the same time and measures from the first request to
 * the last verified receipt. Prints records per second per run and the median. Aim:
 * 20,000 a second.
 *
 *   bench-ingest [RUNS] [DEVICES] [BATCHES]
 */
#include <stdio.h>
#include <stdlib.h>

#include "pm-dc-server.h"
#include "pm-net-services.h"
#include "pm-test-datacenter.h"

#define RECORDS_PER_BATCH 1000

typedef struct
{
  PmTestDatacenter *dc;
  PmSigningKey     *psd_key;
  guint32           serial;
  char             *device_id;
  PmNetClient      *client;
  GPtrArray        *sealed;         /* of GBytes */
  gint64            first_seq;
  guint             next;           /* batch being sent */
  guint            *outstanding;
  gboolean          failed;
} Device;

static gboolean
register_cb (gpointer data)
{
  Device *d = data;
  g_autoptr(PmVerifyKey) pub = pm_signing_key_get_verify_key (d->psd_key);
  g_autoptr(GBytes) pem = pm_verify_key_to_pem (pub);
  g_autofree char *text = g_strndup (g_bytes_get_data (pem, NULL), g_bytes_get_size (pem));
  g_autoptr(GError) error = NULL;

  pm_dc_server_register_device (d->dc->server, d->serial, text, "BENCH", 60601,
                                &d->device_id, &error);
  g_assert_no_error (error);
  return G_SOURCE_REMOVE;
}

static void
auth_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Device *d = user_data;
  g_autoptr(PmAuthResponse) auth = NULL;
  g_autoptr(GError) error = NULL;

  auth = pm_distributor_authenticate_finish (d->client, result, NULL, &error);
  g_assert_no_error (error);
  (*d->outstanding)--;
}

static void send_next (Device *d);

static void
sent_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Device *d = user_data;
  g_autoptr(PmWireReceipt) receipt = NULL;
  g_autoptr(GError) error = NULL;

  receipt = pm_uploads_send_finish (d->client, result, &error);
  if (receipt == NULL)
    {
      fprintf (stderr, "bench-ingest: %s\n", error->message);
      d->failed = TRUE;
      (*d->outstanding)--;
      return;
    }
  d->next++;
  send_next (d);
}

static void
send_next (Device *d)
{
  gint64 first = d->first_seq + (gint64) d->next * RECORDS_PER_BATCH;
  g_autofree char *id = NULL;

  if (d->next >= d->sealed->len)
    {
      (*d->outstanding)--;
      return;
    }
  id = g_strdup_printf ("ingest-%s-%08" G_GINT64_FORMAT, d->device_id, first);
  pm_uploads_send_async (d->client, id, d->sealed->pdata[d->next], first,
                         first + RECORDS_PER_BATCH - 1, d->dc->provider_key, NULL, sent_cb, d);
}

static GBytes *
seal (const char *id,
      const char *device_id,
      gint64      first)
{
  g_autoptr(PmWireBatch) batch = pm_wire_batch_new (id, device_id);

  for (gint64 seq = first; seq < first + RECORDS_PER_BATCH; seq++)
    {
      guint8 payload[96];
      g_autoptr(GBytes) bytes = NULL;

      for (guint i = 0; i < sizeof payload; i++)
        payload[i] = (guint8) (i < 32 ? (seq * 7 + i) >> (i % 4) : g_random_int ());
      bytes = g_bytes_new (payload, sizeof payload);
      g_ptr_array_add (batch->records, pm_upload_record_new (seq, 1764770000 + seq, NULL,
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
  guint n_devices = argc > 2 ? (guint) atoi (argv[2]) : 16;
  guint batches = argc > 3 ? (guint) atoi (argv[3]) : 5;
  g_autofree double *rates = g_new0 (double, MAX (runs, 1));
  g_autofree Device *devices = g_new0 (Device, n_devices);
  PmTestDatacenter *dc;
  guint outstanding;

  g_setenv ("SOUP_FORCE_HTTP1", "1", TRUE);
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  dc = pm_test_datacenter_start ("127.0.0.1");

  /* Register and sign in every device once. */
  outstanding = n_devices;
  for (guint i = 0; i < n_devices; i++)
    {
      Device *d = &devices[i];
      g_autoptr(PmVerifyKey) pub = NULL;
      g_autofree char *url = pm_test_datacenter_url (dc, "/distributor/authenticate");
      PmAuthRequest request = { 0 };

      d->dc = dc;
      d->serial = 5000000 + i;
      d->psd_key = pm_signing_key_generate (NULL);
      d->outstanding = &outstanding;
      d->first_seq = 1;
      pm_test_datacenter_call (dc, register_cb, d);
      d->client = pm_test_datacenter_client (dc, 0, 60);
      pub = pm_signing_key_get_verify_key (d->psd_key);
      request.psd_serial = g_strdup_printf ("%u", d->serial);
      request.certificate = pm_verify_key_to_pem (pub);
      request.software_version = (char *) "bench";
      request.model = (char *) "PMSW";
      pm_distributor_authenticate_async (d->client, url, &request, NULL, auth_cb, d);
      g_free (request.psd_serial);
      g_bytes_unref (request.certificate);
    }
  while (outstanding > 0)
    g_main_context_iteration (NULL, TRUE);

  for (int run = 0; run < runs; run++)
    {
      gint64 start;
      double elapsed;
      guint64 total = (guint64) n_devices * batches * RECORDS_PER_BATCH;

      for (guint i = 0; i < n_devices; i++)
        {
          Device *d = &devices[i];

          g_clear_pointer (&d->sealed, g_ptr_array_unref);
          d->sealed = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
          for (guint b = 0; b < batches; b++)
            {
              gint64 first = d->first_seq + (gint64) b * RECORDS_PER_BATCH;
              g_autofree char *id = g_strdup_printf ("ingest-%s-%08" G_GINT64_FORMAT,
                                                     d->device_id, first);

              g_ptr_array_add (d->sealed, seal (id, d->device_id, first));
            }
          d->next = 0;
        }

      outstanding = n_devices;
      start = g_get_monotonic_time ();
      for (guint i = 0; i < n_devices; i++)
        send_next (&devices[i]);
      while (outstanding > 0)
        g_main_context_iteration (NULL, TRUE);
      elapsed = (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;

      for (guint i = 0; i < n_devices; i++)
        {
          if (devices[i].failed)
            return 1;
          devices[i].first_seq += (gint64) batches * RECORDS_PER_BATCH;
        }
      rates[run] = (double) total / elapsed;
      printf ("run %d: %" G_GUINT64_FORMAT " records from %u devices in %.2f s: %.0f "
              "records/s\n", run + 1, total, n_devices, elapsed, rates[run]);
      fflush (stdout);
    }

  qsort (rates, (size_t) runs, sizeof (double), compare_double);
  printf ("median of %d runs: %.0f records/s ingested from %u devices at once "
          "(aim 20,000)\n", runs, rates[runs / 2], n_devices);

  for (guint i = 0; i < n_devices; i++)
    {
      g_clear_object (&devices[i].client);
      g_clear_pointer (&devices[i].sealed, g_ptr_array_unref);
      pm_signing_key_unref (devices[i].psd_key);
      g_free (devices[i].device_id);
    }
  pm_test_datacenter_stop (dc);
  return 0;
}
