/* fuzz-nci: libFuzzer target for the NCI / Weigh-Tronix ECR reply parser
 *
 * The first byte picks the profile (SCP-01 or SCP-02); the rest is the byte stream from
 * the scale, fed one byte at a time as it arrives on the line, with a reset (what a
 * reply timeout does) wherever the stream holds 0xFF.
 */
#include <stdint.h>
#include <stddef.h>

#include "pm-nci.h"
#include "fuzz-scale-check.h"

int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t         size);

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  PmNciParser parser;

  if (size == 0)
    return 0;

  pm_nci_parser_init (&parser, (data[0] & 1) != 0 ? PM_NCI_PROFILE_SCP02
                                                  : PM_NCI_PROFILE_SCP01);
  for (size_t i = 1; i < size; i++)
    {
      PmScaleReading *reading = NULL;
      PmScaleReplyKind kind;

      if (data[i] == 0xFF)
        {
          pm_nci_parser_reset (&parser);
          continue;
        }

      kind = pm_nci_parser_push (&parser, data[i], &reading);
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
