/* fuzz-hid-report: libFuzzer target for the USB HID POS report parser
 *
 * The input is cut into reports: each starts with a length byte (1 to 16) followed by the
 * report's bytes, as hidraw would hand them over one read () at a time. Each report goes
 * through the parser alone and through the decoder the driver uses, which drops the
 * first data report and refuses a device that sends no scale data.
 */
#include <stdint.h>
#include <stddef.h>

#include "pm-hid-scale-report.h"
#include "pm-scale-protocol.h"
#include "fuzz-scale-check.h"

int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t         size);

static void
decoded_cb (PmScaleReplyKind  kind,
            PmScaleReading   *reading,
            gpointer          user_data)
{
  if (kind != PM_SCALE_REPLY_READING)
    abort ();
  fuzz_check_reading (reading);
  pm_scale_reading_free (reading);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  PmScaleDecoder *decoder = pm_scale_decoder_new (PM_SCALE_PROTOCOL_HID);
  gboolean refused = FALSE;
  size_t i = 0;

  if (size > 0 && (data[0] & 0x80) != 0)
    pm_scale_decoder_set_hid_flags (decoder, PM_HID_SCALE_REPORT_ACCEPT_ID_4);

  while (i < size)
    {
      size_t len = (data[i] & 0x0F) + 1;
      const uint8_t *report = data + i + 1;
      PmScaleReading *reading = NULL;
      PmHidScaleReportKind kind;

      if (i + 1 + len > size)
        len = size - i - 1;

      kind = pm_hid_scale_report_parse (report, len, PM_HID_SCALE_REPORT_ACCEPT_ID_4,
                                        &reading);
      if (kind == PM_HID_SCALE_REPORT_READING)
        {
          fuzz_check_reading (reading);
          /* A weight comes only from a whole data report. */
          if (reading->has_weight && len < PM_HID_SCALE_REPORT_SIZE)
            abort ();
          if (reading->has_weight && reading->weight.mantissa > 65535)
            abort ();
          pm_scale_reading_free (reading);
        }
      else if (reading != NULL)
        {
          abort ();
        }

      if (!refused && !pm_scale_decoder_push (decoder, report, len, decoded_cb, NULL, NULL))
        refused = TRUE;

      i += 1 + len;
    }

  pm_scale_decoder_free (decoder);
  return 0;
}
