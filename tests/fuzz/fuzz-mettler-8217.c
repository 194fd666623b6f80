/* fuzz-mettler-8217: libFuzzer target for the Mettler-Toledo 8217 reply parser
 *
 * The first byte picks the unit setting (none, so it is inferred from the decimals, or
 * one of the mass units); the rest is the byte stream from the scale, one byte at a time,
 * with a reset wherever it holds 0xFF.
 */
#include <stdint.h>
#include <stddef.h>

#include "pm-mettler-8217.h"
#include "fuzz-scale-check.h"

int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t         size);

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  PmMettler8217Parser parser;
  guint unit;

  if (size == 0)
    return 0;

  pm_mettler_8217_parser_init (&parser);
  unit = data[0] % (PM_WEIGHT_UNIT_POUND + 2);
  if (unit > 0)
    pm_mettler_8217_parser_set_unit (&parser, (PmWeightUnit) (unit - 1));

  for (size_t i = 1; i < size; i++)
    {
      PmScaleReading *reading = NULL;
      PmScaleReplyKind kind;

      if (data[i] == 0xFF)
        {
          pm_mettler_8217_parser_reset (&parser);
          continue;
        }

      kind = pm_mettler_8217_parser_push (&parser, data[i], &reading);
      if (kind == PM_SCALE_REPLY_READING)
        {
          fuzz_check_reading (reading);
          pm_scale_reading_free (reading);
        }
      else if (reading != NULL || parser.len > sizeof parser.buf)
        {
          abort ();
        }
    }

  return 0;
}
