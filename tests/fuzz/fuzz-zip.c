/* fuzz-zip: libFuzzer target for the ZIP Code parser
 *
 * Each input, as text, goes through pm_address_parse_zip() and, when that accepts it, the
 * result must be five digits and four or none, must format and parse back to itself, and
 * must give the same 3-digit ZIP. The zone lookup, which parses two ZIP Codes, runs on the
 * same text against a one-origin chart.
 */
#include <stdint.h>
#include <stddef.h>
#include <string.h>

#include "pm-address.h"
#include "pm-zone-chart.h"

int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t         size);

static const char chart_data[] =
  "Postmeter-Zone-Chart: 1\nOrigin: 606\nPublished: 2018-06\nCurrent: no\n"
  "Exceptions: included\nSource: fuzz\n005 599 5\n600 608 1 *\n609 999 7 +\n"
  "96910 96932 8\n96950 96952 8 priority-mail\n";

static PmZoneChart *
fuzz_chart (void)
{
  static PmZoneChart *chart;

  if (chart == NULL)
    {
      chart = pm_zone_chart_new ();
      if (!pm_zone_chart_load_data (chart, chart_data, strlen (chart_data), NULL))
        __builtin_trap ();
    }
  return chart;
}

static gboolean
all_digits (const char *text,
            gsize       length)
{
  if (strlen (text) != length)
    return FALSE;
  for (gsize i = 0; i < length; i++)
    if (!g_ascii_isdigit (text[i]))
      return FALSE;
  return TRUE;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autofree char *text = g_strndup ((const char *) data, size);
  PmZipCode zip;
  guint zone = 0;
  guint flags = 0;

  if (pm_address_parse_zip (text, &zip, NULL))
    {
      g_autofree char *formatted = pm_address_format_zip (&zip);
      PmZipCode again;

      if (!all_digits (zip.zip5, 5) || (zip.plus4[0] != '\0' && !all_digits (zip.plus4, 4)))
        __builtin_trap ();
      if (!pm_address_parse_zip (formatted, &again, NULL)
          || strcmp (again.zip5, zip.zip5) != 0 || strcmp (again.plus4, zip.plus4) != 0
          || pm_address_zip3 (&again) != pm_address_zip3 (&zip))
        __builtin_trap ();
    }

  /* As the destination, then as the origin: never a zone outside 1 to 9. */
  if (pm_zone_chart_lookup (fuzz_chart (), PM_MAIL_CLASS_PRIORITY_MAIL, "60601", text, &zone,
                            &flags, NULL) && (zone < 1 || zone > PM_ZONE_MAX))
    __builtin_trap ();
  if (pm_zone_chart_lookup (fuzz_chart (), PM_MAIL_CLASS_GROUND_ADVANTAGE, text, "96950",
                            &zone, &flags, NULL) && (zone < 1 || zone > PM_ZONE_MAX))
    __builtin_trap ();
  return 0;
}
