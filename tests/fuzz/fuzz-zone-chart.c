/* fuzz-zone-chart: libFuzzer target for the zone chart readers
 *
 * Each input is read as a zone chart data file and as a zone-chart CSV. Neither may
 * crash, whatever the bytes; a chart that loads must write itself out as a data file that
 * loads again and answers every destination the same.
 */
#include <stdint.h>
#include <stddef.h>
#include <string.h>

#include "pm-zone-chart.h"

int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t         size);

static void
check_round_trip (PmZoneChart *chart)
{
  g_auto (GStrv) origins = pm_zone_chart_list_origins (chart);

  for (guint i = 0; origins[i] != NULL; i++)
    {
      g_autofree char *text = pm_zone_chart_to_data (chart, origins[i]);
      g_autoptr (PmZoneChart) copy = pm_zone_chart_new ();
      char origin[6];

      if (text == NULL || !pm_zone_chart_load_data (copy, text, strlen (text), NULL))
        __builtin_trap ();
      g_snprintf (origin, sizeof origin, "%s01", origins[i]);
      for (guint d = 1; d < 1000; d += 7)
        {
          char destination[6];
          guint zone_a = 0, zone_b = 0, flags_a = 0, flags_b = 0;
          gboolean a, b;

          g_snprintf (destination, sizeof destination, "%03u%02u", d, d % 100);
          a = pm_zone_chart_lookup (chart, PM_MAIL_CLASS_PRIORITY_MAIL, origin, destination,
                                    &zone_a, &flags_a, NULL);
          b = pm_zone_chart_lookup (copy, PM_MAIL_CLASS_PRIORITY_MAIL, origin, destination,
                                    &zone_b, &flags_b, NULL);
          if (a != b || zone_a != zone_b || flags_a != flags_b)
            __builtin_trap ();
        }
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr (PmZoneChart) chart = pm_zone_chart_new ();
  g_autoptr (PmZoneChart) imported = pm_zone_chart_new ();

  if (pm_zone_chart_load_data (chart, (const char *) data, size, NULL))
    check_round_trip (chart);
  if (pm_zone_chart_import_csv (imported, (const char *) data, size, NULL, "2018-06", "fuzz",
                                FALSE, NULL))
    check_round_trip (imported);
  return 0;
}
