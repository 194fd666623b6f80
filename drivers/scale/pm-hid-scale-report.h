/* pm-hid-scale-report.h: decoding USB HID Point-of-Sale scale data reports
 *
 * Pure functions over bytes: no I/O, so tests and the fuzzer feed reports directly.
 * A data report is six bytes: report ID 3, status, unit, signed power of ten, then the
 * weight as a 16-bit little-endian number (HID POS usage page 0x8D).
 */
#pragma once

#include "pm-scale.h"

G_BEGIN_DECLS

typedef enum
{
  PM_HID_SCALE_REPORT_READING,  /* a data report: *out_reading is set */
  PM_HID_SCALE_REPORT_IGNORED,  /* another report (attribute, control, ...): not a weight */
} PmHidScaleReportKind;

typedef enum
{
  PM_HID_SCALE_REPORT_ACCEPT_ID_4 = 1 << 0,  /* the device sends data-shaped reports as 4 */
} PmHidScaleReportFlags;

#define PM_HID_SCALE_REPORT_SIZE 6

/* Decodes one report as read() returned it from hidraw. A 0x00 byte some HID stacks put
 * before the report ID is skipped. Anything that is not a usable data report yields an
 * UNREADABLE reading with plain words in detail, never a wrong weight. The reading
 * carries the raw bytes and the current time. */
PmHidScaleReportKind pm_hid_scale_report_parse (const guint8           *data,
                                                gsize                   len,
                                                PmHidScaleReportFlags   flags,
                                                PmScaleReading        **out_reading);

/* Builds the six-byte data report a scale sends: used by the simulated scale so it runs
 * the same parser path. */
void                 pm_hid_scale_report_build (guint8 out[PM_HID_SCALE_REPORT_SIZE],
                                                guint8                  status,
                                                guint8                  unit,
                                                gint8                   exponent,
                                                guint16                 raw_weight);

/* HID POS status and unit selector indexes, as they appear in report bytes. */
enum
{
  PM_HID_SCALE_STATUS_FAULT = 1,
  PM_HID_SCALE_STATUS_ZERO = 2,
  PM_HID_SCALE_STATUS_MOTION = 3,
  PM_HID_SCALE_STATUS_STABLE = 4,
  PM_HID_SCALE_STATUS_UNDER_ZERO = 5,
  PM_HID_SCALE_STATUS_OVER_LIMIT = 6,
  PM_HID_SCALE_STATUS_CALIBRATE = 7,
  PM_HID_SCALE_STATUS_REZERO = 8,
};

enum
{
  PM_HID_SCALE_UNIT_MILLIGRAM = 1,
  PM_HID_SCALE_UNIT_GRAM = 2,
  PM_HID_SCALE_UNIT_KILOGRAM = 3,
  PM_HID_SCALE_UNIT_OUNCE = 11,
  PM_HID_SCALE_UNIT_POUND = 12,
};

G_END_DECLS
