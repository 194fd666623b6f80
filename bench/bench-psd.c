/* bench-psd.c: what a debit costs in the software PSD, against what durability alone costs
 *
 * Prints, for one run on one disk:
 *   - debits per second and the p50/p99 latency of a debit through pm_psd_debit_sync ():
 *     checks, ECDSA P-256 signature of the indicium, sealing the state and writing it
 *     durably (temporary file, fsync, rename, fsync of the folder);
 *   - the floor: a plain write + fsync + rename + folder fsync of a file the size of the
 *     PSD's state, in the same folder, interleaved with the debits so both see the same disk;
 *   - the ratio of the two medians (the aim is at most 1.5: durability is the only real
 *     cost of a debit);
 *   - the median time to render one postage impression to PNG at 203 and 300 dpi
 *     (Data Matrix encoding, drawing with cairo and pango, PNG compression).
 *
 * Usage: bench-psd [DEBITS] [DIRECTORY]   (default 400 debits in a temporary folder, removed
 * afterwards; give a folder on the kiosk's real disk to measure that disk).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <locale.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "pm-clock.h"
#include "pm-impression.h"
#include "pm-indicium.h"
#include "pm-psd-message.h"
#include "pm-software-psd.h"

#define BLOCK 25             /* debits, then as many floor writes, in turn */
#define RENDER_ROUNDS 40

static int
compare_gint64 (gconstpointer a,
                gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return (x > y) - (x < y);
}

/* The q-quantile of the samples (sorted in place), in milliseconds. */
static double
quantile_ms (GArray *samples,
             double  q)
{
  guint index;

  g_array_sort (samples, compare_gint64);
  index = (guint) (q * (samples->len - 1) + 0.5);
  return g_array_index (samples, gint64, index) / 1000.0;
}

static double
sum_s (GArray *samples)
{
  gint64 total = 0;

  for (guint i = 0; i < samples->len; i++)
    total += g_array_index (samples, gint64, i);
  return total / (double) G_USEC_PER_SEC;
}

static void
die (const char *what,
     GError     *error)
{
  fprintf (stderr, "bench-psd: %s: %s\n", what, error != NULL ? error->message : "failed");
  exit (1);
}

/* The floor: what writing the same bytes durably costs, the way the PSD writes its state. */
static gint64
plain_durable_write (const char   *directory,
                     const guint8 *data,
                     gsize         length)
{
  g_autofree char *path = g_build_filename (directory, "floor", NULL);
  g_autofree char *temp = g_build_filename (directory, "floor.tmp", NULL);
  gint64 start = g_get_monotonic_time ();
  int fd = open (temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  int dir_fd;

  if (fd < 0 || write (fd, data, length) != (gssize) length || fsync (fd) != 0
      || close (fd) != 0 || rename (temp, path) != 0)
    {
      fprintf (stderr, "bench-psd: plain write: %s\n", g_strerror (errno));
      exit (1);
    }
  dir_fd = open (directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0 || fsync (dir_fd) != 0)
    {
      fprintf (stderr, "bench-psd: folder fsync: %s\n", g_strerror (errno));
      exit (1);
    }
  close (dir_fd);

  return g_get_monotonic_time () - start;
}

static PmPsd *
make_ready_psd (const char   *directory,
                PmSigningKey *provider_key)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PmVerifyKey) provider_public = pm_signing_key_get_verify_key (provider_key);
  g_autoptr(PmVerifyKey) psd_key = NULL;
  g_autoptr(GBytes) block_bytes = NULL;
  g_autoptr(GBytes) refill_bytes = NULL;
  g_autoptr(PmPsdStatus) status = NULL;
  PmOperationalBlock block = { 0 };
  PmPostageValueDownload refill = { 0 };
  PmSoftwarePsd *psd;

  psd = pm_software_psd_open (directory, provider_public, 4242, &error);
  if (psd == NULL)
    die ("opening the PSD", error);
  psd_key = pm_psd_get_public_key (PM_PSD (psd));

  block.psd_serial = pm_psd_get_serial (PM_PSD (psd));
  memcpy (block.psd_model, PM_SOFTWARE_PSD_MODEL, 5);
  pm_psd_key_digest (psd_key, block.psd_key_digest);
  block.certificate_serial = 1;
  block.origin_zip = 60601;
  pm_operational_block_set_profile (&block, PM_POSTAL_PROFILE_IMI);
  block.max_funds = 100000000;      /* $100,000 */
  block.max_postage = 100000;
  block.issued_at = pm_clock_now_s ();
  block_bytes = pm_operational_block_sign (&block, provider_key, &error);
  if (block_bytes == NULL)
    die ("signing the operational block", error);
  status = pm_psd_install_operational_block_sync (PM_PSD (psd), block_bytes, &error);
  if (status == NULL)
    die ("installing the operational block", error);

  refill.psd_serial = block.psd_serial;
  refill.sequence = 1;
  refill.amount = 100000000;
  refill.issued_at = pm_clock_now_s ();
  refill_bytes = pm_postage_value_download_sign (&refill, provider_key, &error);
  if (refill_bytes == NULL)
    die ("signing the refill", error);
  g_clear_pointer (&status, pm_psd_status_free);
  status = pm_psd_refill_sync (PM_PSD (psd), refill_bytes, &error);
  if (status == NULL)
    die ("refilling", error);

  return PM_PSD (psd);
}

static guint32
today (void)
{
  g_autoptr(GDate) date = g_date_new ();

  g_date_set_time_t (date, time (NULL));
  return pm_indicium_date_from_gdate (date);
}

static void
bench_render (GBytes *indicium,
              double  dpi,
              const char *directory)
{
  g_autoptr(GArray) samples = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autofree char *path = g_build_filename (directory, "impression.png", NULL);

  for (guint i = 0; i < RENDER_ROUNDS; i++)
    {
      g_autoptr(GError) error = NULL;
      gint64 start = g_get_monotonic_time ();
      g_autoptr(PmImpression) impression = pm_impression_new_postage (indicium, &error);
      gint64 elapsed;

      if (impression == NULL || !pm_impression_write_png (impression, path, dpi, &error))
        die ("rendering", error);
      elapsed = g_get_monotonic_time () - start;
      g_array_append_val (samples, elapsed);
    }

  printf ("render one indicium to PNG at %3.0f dpi: median %.2f ms, p99 %.2f ms\n", dpi,
          quantile_ms (samples, 0.5), quantile_ms (samples, 0.99));
  g_unlink (path);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PmSigningKey) provider_key = NULL;
  g_autoptr(PmPsd) psd = NULL;
  g_autoptr(GArray) debit_us = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GArray) floor_us = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GBytes) last_indicium = NULL;
  g_autofree char *temp_dir = NULL;
  g_autofree char *psd_dir = NULL;
  g_autofree char *state_path = NULL;
  g_autofree char *state = NULL;
  gsize state_length = 0;
  guint debits = argc > 1 ? (guint) g_ascii_strtoull (argv[1], NULL, 10) : 400;
  const char *directory = argc > 2 ? argv[2] : NULL;
  double debit_p50, floor_p50;
  guint32 date = today ();

  setlocale (LC_ALL, "");
  if (debits < BLOCK)
    debits = BLOCK;

  if (directory == NULL)
    {
      temp_dir = g_dir_make_tmp ("bench-psd-XXXXXX", &error);
      if (temp_dir == NULL)
        die ("making a temporary folder", error);
      directory = temp_dir;
    }
  psd_dir = g_build_filename (directory, "psd", NULL);

  provider_key = pm_signing_key_generate (&error);
  if (provider_key == NULL)
    die ("making a provider key", error);
  psd = make_ready_psd (psd_dir, provider_key);
  state_path = g_build_filename (psd_dir, "state", NULL);

  /* Fill the journal first, so the state has its steady-state size from the start. */
  for (guint i = 0; i < PM_SOFTWARE_PSD_JOURNAL_CAPACITY; i++)
    {
      PmPsdDebitRequest request = { 730, date, PM_RATE_CATEGORY_FIRST_CLASS_LETTER,
                                    100010000, "" };
      g_autoptr(PmPsdDebitResult) result = pm_psd_debit_sync (psd, &request, &error);

      if (result == NULL)
        die ("warming up", error);
    }

  if (!g_file_get_contents (state_path, &state, &state_length, &error))
    die ("reading the state's size", error);

  for (guint done = 0; done < debits; done += BLOCK)
    {
      for (guint i = 0; i < BLOCK; i++)
        {
          PmPsdDebitRequest request = { 730 + (PmMills) (i % 7) * 100, date,
                                        PM_RATE_CATEGORY_FIRST_CLASS_LETTER, 100010000, "" };
          gint64 start = g_get_monotonic_time ();
          PmPsdDebitResult *result = pm_psd_debit_sync (psd, &request, &error);
          gint64 elapsed = g_get_monotonic_time () - start;

          if (result == NULL)
            die ("debiting", error);
          g_array_append_val (debit_us, elapsed);
          g_clear_pointer (&last_indicium, g_bytes_unref);
          last_indicium = g_bytes_ref (result->indicium);
          pm_psd_debit_result_free (result);
        }

      for (guint i = 0; i < BLOCK; i++)
        {
          gint64 elapsed = plain_durable_write (psd_dir, (const guint8 *) state, state_length);

          g_array_append_val (floor_us, elapsed);
        }
    }

  printf ("software PSD, %u debits in %s (state file %" G_GSIZE_FORMAT " bytes)\n",
          debit_us->len, directory, state_length);
  printf ("debit + sign + durable state write: %.0f debits/s, p50 %.2f ms, p99 %.2f ms\n",
          debit_us->len / sum_s (debit_us), quantile_ms (debit_us, 0.5),
          quantile_ms (debit_us, 0.99));
  printf ("plain write + fsync + rename (floor): %.0f writes/s, p50 %.2f ms, p99 %.2f ms\n",
          floor_us->len / sum_s (floor_us), quantile_ms (floor_us, 0.5),
          quantile_ms (floor_us, 0.99));
  debit_p50 = quantile_ms (debit_us, 0.5);
  floor_p50 = quantile_ms (floor_us, 0.5);
  printf ("ratio of medians (debit / floor): %.2f (aim: at most 1.5)\n",
          floor_p50 > 0 ? debit_p50 / floor_p50 : 0.0);

  bench_render (last_indicium, 203, directory);
  bench_render (last_indicium, 300, directory);

  g_clear_object (&psd);
  if (temp_dir != NULL)
    {
      static const char *const files[] = { "state", "device.secret", "signing-key.pem",
                                           "floor" };

      for (guint i = 0; i < G_N_ELEMENTS (files); i++)
        {
          g_autofree char *path = g_build_filename (psd_dir, files[i], NULL);

          g_unlink (path);
        }
      g_rmdir (psd_dir);
      g_rmdir (temp_dir);
    }

  return 0;
}
