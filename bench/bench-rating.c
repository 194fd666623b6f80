/* bench-rating: quotes per second over a realistic mix of pieces, on one core
 *
 * Installs the shipped, signed rate packages, then rates a mix that looks like a day in a
 * mailroom: mostly letters from a scale in tenths of an ounce or grams, some large
 * envelopes, some parcels with their sizes, a few with extra services. The parcels are
 * priced by zone from origin 60601 to real destination ZIP Codes through the shipped,
 * signed zone charts (data/zones), some typed as ZIP+4, so the figure includes the zone
 * lookups.
 * Prints the median of several rounds, on one thread.
 *
 *   bench-rating [SOURCE_ROOT]
 */
#include <stdio.h>
#include <stdlib.h>

#include "pm-rating.h"

#define ROUNDS 7
#define QUOTES_PER_ROUND 400000

static int
compare_doubles (const void *a,
                 const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

int
main (int   argc,
      char *argv[])
{
  const char *root = argc > 1 ? argv[1] : PM_SOURCE_DATADIR "/..";
  g_autofree char *key_path = g_build_filename (root, "data", "keys", "demo-provider.pub", NULL);
  g_autofree char *rates = g_build_filename (root, "data", "rates", NULL);
  g_autofree char *zones = g_build_filename (root, "data", "zones", NULL);
  g_autoptr (PmVerifyKey) key = NULL;
  g_autoptr (PmRating) rating = NULL;
  g_autoptr (PmZoneChart) chart = NULL;
  g_autoptr (GError) error = NULL;
  /* From 60601: zones 1 (Chicago), 2 (Indianapolis), 3 (Columbus), 4 (Atlanta),
   * 5 (New York, Denver), 6 (Miami), 7 (Phoenix), 8 (San Francisco), 9 (Majuro). */
  static const char *const zips[] = { "60614", "46201", "43215-1234", "30303", "10001",
                                      "80202", "33101", "85001", "94105-1804", "96960" };
  guint zone_counts[PM_ZONE_MAX + 1] = { 0 };
  GArray *mix = g_array_new (FALSE, TRUE, sizeof (PmRateRequest));
  double per_second[ROUNDS];
  double ns_per_quote[ROUNDS];
  guint64 failures = 0;
  PmMills sink = 0;

  key = pm_package_load_key (key_path, &error);
  rating = pm_rating_new ();
  if (key == NULL || !pm_rating_install_directory (rating, rates, key, &error))
    {
      fprintf (stderr, "bench-rating: %s\n", error->message);
      return 1;
    }
  chart = pm_zone_chart_new ();
  if (!pm_zone_chart_install_directory (chart, zones, key, &error))
    {
      fprintf (stderr, "bench-rating: %s\n", error->message);
      return 1;
    }
  pm_rating_set_zones (rating, chart);

  /* 60 % letters, 10 % flats, 30 % parcels; some with sizes, some with services. */
  for (guint i = 0; i < 1000; i++)
    {
      PmRateRequest r = { 0 };

      r.date = 20251201;
      r.channel = PM_PRICE_CHANNEL_METER;
      r.origin_zip = "60601";
      r.destination_zip = zips[(i / 10) % G_N_ELEMENTS (zips)];
      if (i % 10 < 6)
        {
          r.mail_class = PM_MAIL_CLASS_FIRST_CLASS;
          r.piece.shape = PM_SHAPE_LETTER;
          r.piece.weight = i % 2 ? pm_weight_make (1 + i % 35, -1, PM_WEIGHT_UNIT_OUNCE)
                                 : pm_weight_make (5 + i % 94, 0, PM_WEIGHT_UNIT_GRAM);
          if (i % 3 == 0)
            r.piece.length = 9500, r.piece.width = 4125, r.piece.thickness = 80 + i % 150;
          if (i % 17 == 0)
            r.services = PM_SERVICE_CERTIFIED_MAIL | PM_SERVICE_RETURN_RECEIPT_ELECTRONIC;
        }
      else if (i % 10 == 6)
        {
          r.mail_class = PM_MAIL_CLASS_FIRST_CLASS;
          r.piece.shape = PM_SHAPE_FLAT;
          r.piece.weight = pm_weight_make (1 + i % 10, -1, PM_WEIGHT_UNIT_OUNCE);
        }
      else
        {
          static const PmMailClass parcels[] = { PM_MAIL_CLASS_GROUND_ADVANTAGE,
                                                 PM_MAIL_CLASS_PRIORITY_MAIL,
                                                 PM_MAIL_CLASS_PRIORITY_MAIL_EXPRESS };

          r.mail_class = parcels[i % 3];
          r.piece.shape = PM_SHAPE_PARCEL;
          r.piece.weight = i % 2 ? pm_weight_make (5 + (i * 37) % 3000, -2, PM_WEIGHT_UNIT_POUND)
                                 : pm_weight_make (50 + (i * 53) % 9000, 0, PM_WEIGHT_UNIT_GRAM);
          r.piece.length = 6000 + (i * 7) % 18000;
          r.piece.width = 4000 + (i * 11) % 12000;
          r.piece.thickness = 2000 + (i * 13) % 10000;
        }
      g_array_append_val (mix, r);
      if (r.mail_class != PM_MAIL_CLASS_FIRST_CLASS)
        {
          g_auto (PmQuote) quote = { 0 };

          if (pm_rating_quote (rating, &r, &quote, NULL))
            zone_counts[quote.zone]++;
        }
    }

  for (guint round = 0; round < ROUNDS; round++)
    {
      gint64 start = g_get_monotonic_time ();
      gint64 elapsed;

      for (guint n = 0; n < QUOTES_PER_ROUND; n++)
        {
          const PmRateRequest *r = &g_array_index (mix, PmRateRequest, n % mix->len);
          PmQuote quote;

          if (pm_rating_quote (rating, r, &quote, NULL))
            {
              sink += quote.total;
              pm_quote_clear (&quote);
            }
          else
            failures++;
        }
      elapsed = MAX (g_get_monotonic_time () - start, 1);
      per_second[round] = QUOTES_PER_ROUND * 1e6 / (double) elapsed;
      ns_per_quote[round] = elapsed * 1000.0 / QUOTES_PER_ROUND;
    }

  qsort (per_second, ROUNDS, sizeof (double), compare_doubles);
  qsort (ns_per_quote, ROUNDS, sizeof (double), compare_doubles);
  printf ("rating: %u rounds of %u quotes over a mix of %u pieces (60%% letters, 10%% flats, "
          "30%% parcels by zone from the zone chart)\n", ROUNDS, QUOTES_PER_ROUND, mix->len);
  printf ("  parcels priced per zone 1-9:");
  for (guint z = 1; z <= PM_ZONE_MAX; z++)
    printf (" %u", zone_counts[z]);
  printf ("\n");
  printf ("  quotes per second, median: %.0f (min %.0f, max %.0f)\n", per_second[ROUNDS / 2],
          per_second[0], per_second[ROUNDS - 1]);
  printf ("  time per quote, median:    %.0f ns\n", ns_per_quote[ROUNDS / 2]);
  printf ("  refused quotes in the mix: %" G_GUINT64_FORMAT " (checksum %" G_GINT64_FORMAT
          ")\n", failures / ROUNDS, (gint64) sink);

  /* The zone lookup alone, the same destinations, to show its share of a parcel quote. */
  {
    double lookup_ns[ROUNDS];
    guint zone_sum = 0;

    for (guint round = 0; round < ROUNDS; round++)
      {
        gint64 start = g_get_monotonic_time ();

        for (guint n = 0; n < QUOTES_PER_ROUND; n++)
          {
            guint zone = 0;
            guint flags = 0;

            if (pm_zone_chart_lookup (chart, PM_MAIL_CLASS_PRIORITY_MAIL, "60601",
                                      zips[n % G_N_ELEMENTS (zips)], &zone, &flags, NULL))
              zone_sum += zone;
          }
        lookup_ns[round] = MAX (g_get_monotonic_time () - start, 1) * 1000.0
                           / QUOTES_PER_ROUND;
      }
    qsort (lookup_ns, ROUNDS, sizeof (double), compare_doubles);
    printf ("  zone lookup alone, median:  %.0f ns (checksum %u)\n", lookup_ns[ROUNDS / 2],
            zone_sum);
  }

  g_array_unref (mix);
  return 0;
}
