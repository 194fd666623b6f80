/* fuzz-sics: libFuzzer target for the MT-SICS reply parser
 *
 * The input is the byte stream from the balance, fed one byte at a time, with a reset
 * wherever it holds 0xFF. Every reply the parser accepts must leave an ID behind.
 */
#include <stdint.h>
#include <stddef.h>

#include "pm-sics.h"
#include "fuzz-scale-check.h"

int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t         size);

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  PmSicsParser parser;

  pm_sics_parser_init (&parser);

  for (size_t i = 0; i < size; i++)
    {
      PmScaleReading *reading = NULL;
      PmScaleReplyKind kind;

      if (data[i] == 0xFF)
        {
          pm_sics_parser_reset (&parser);
          continue;
        }

      kind = pm_sics_parser_push (&parser, data[i], &reading);
      if (kind == PM_SCALE_REPLY_READING)
        {
          fuzz_check_reading (reading);
          pm_scale_reading_free (reading);
        }
      else if (reading != NULL || parser.len >= sizeof parser.buf)
        {
          abort ();
        }

      if (kind != PM_SCALE_REPLY_NONE && pm_sics_parser_get_last_id (&parser)[0] == '\0')
        abort ();
    }

  return 0;
}
