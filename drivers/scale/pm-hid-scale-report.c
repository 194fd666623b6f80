/* pm-hid-scale-report.c: HID POS scale data reports to readings */
#include "pm-hid-scale-report.h"

#define REPORT_ID_DATA   3
#define REPORT_ID_STATUS 4

/* Exponents a postal scale can sensibly send: milligrams up to kilo-units. Anything
 * further out is a corrupt report, not a weight. */
#define EXPONENT_MIN (-6)
#define EXPONENT_MAX 3

static gboolean
unit_from_code (guint8        code,
                PmWeightUnit *out_unit)
{
  switch (code)
    {
    case PM_HID_SCALE_UNIT_MILLIGRAM: *out_unit = PM_WEIGHT_UNIT_MILLIGRAM; return TRUE;
    case PM_HID_SCALE_UNIT_GRAM: *out_unit = PM_WEIGHT_UNIT_GRAM; return TRUE;
    case PM_HID_SCALE_UNIT_KILOGRAM: *out_unit = PM_WEIGHT_UNIT_KILOGRAM; return TRUE;
    case PM_HID_SCALE_UNIT_OUNCE: *out_unit = PM_WEIGHT_UNIT_OUNCE; return TRUE;
    case PM_HID_SCALE_UNIT_POUND: *out_unit = PM_WEIGHT_UNIT_POUND; return TRUE;
    default: return FALSE;
    }
}

static PmScaleReading *
unreadable (const char *detail)
{
  PmScaleReading *reading = pm_scale_reading_new (PM_SCALE_STATE_UNREADABLE);

  reading->detail = g_strdup (detail);
  return reading;
}

static PmScaleReading *
decode (const guint8 *report)
{
  guint8 status = report[1];
  guint8 unit_code = report[2];
  gint8 exponent = (gint8) report[3];
  guint16 raw = (guint16) (report[4] | (report[5] << 8));
  PmWeightUnit unit;
  gboolean unit_known = unit_from_code (unit_code, &unit);
  gboolean exponent_ok = exponent >= EXPONENT_MIN && exponent <= EXPONENT_MAX;
  PmScaleReading *reading;

  switch (status)
    {
    case PM_HID_SCALE_STATUS_FAULT:
      return pm_scale_reading_new (PM_SCALE_STATE_FAULT);
    case PM_HID_SCALE_STATUS_ZERO:
      reading = pm_scale_reading_new (PM_SCALE_STATE_ZERO);
      break;
    case PM_HID_SCALE_STATUS_MOTION:
      reading = pm_scale_reading_new (PM_SCALE_STATE_MOTION);
      break;
    case PM_HID_SCALE_STATUS_STABLE:
      if (!unit_known)
        return unreadable ("The scale reports its weight in a unit Postmeter does not use "
                           "for postage. Switch the scale to ounces, pounds, grams or "
                           "kilograms.");
      if (!exponent_ok)
        return unreadable ("The scale sent a weight with an impossible scaling factor.");
      reading = pm_scale_reading_new (PM_SCALE_STATE_STABLE);
      break;
    /* Whether the weight field is two's complement or a magnitude below zero differs
     * between devices, so no weight is given: the raw bytes tell support the rest. */
    case PM_HID_SCALE_STATUS_UNDER_ZERO:
      return pm_scale_reading_new (PM_SCALE_STATE_UNDER_ZERO);
    case PM_HID_SCALE_STATUS_OVER_LIMIT:
      return pm_scale_reading_new (PM_SCALE_STATE_OVER_CAPACITY);
    case PM_HID_SCALE_STATUS_CALIBRATE:
      return pm_scale_reading_new (PM_SCALE_STATE_NEEDS_CALIBRATION);
    case PM_HID_SCALE_STATUS_REZERO:
      return pm_scale_reading_new (PM_SCALE_STATE_NEEDS_REZERO);
    default:
      return unreadable ("The scale sent a status code Postmeter does not know.");
    }

  /* Zero and motion readings show a weight only when it can be read without doubt. */
  if (unit_known && exponent_ok)
    pm_scale_reading_set_weight (reading, raw, exponent, unit);

  return reading;
}

PmHidScaleReportKind
pm_hid_scale_report_parse (const guint8           *data,
                           gsize                   len,
                           PmHidScaleReportFlags   flags,
                           PmScaleReading        **out_reading)
{
  const guint8 *report = data;
  gsize report_len = len;
  PmScaleReading *reading;
  gboolean is_data;

  g_return_val_if_fail (data != NULL || len == 0, PM_HID_SCALE_REPORT_IGNORED);
  g_return_val_if_fail (out_reading != NULL, PM_HID_SCALE_REPORT_IGNORED);

  *out_reading = NULL;

  /* Report ID 0 does not exist when a device numbers its reports, so a leading zero is
   * the byte some stacks prepend, not part of the report. */
  if (report_len > PM_HID_SCALE_REPORT_SIZE && report[0] == 0x00)
    {
      report++;
      report_len--;
    }

  if (report_len == 0)
    {
      reading = unreadable ("The scale sent an empty report.");
    }
  else
    {
      is_data = report[0] == REPORT_ID_DATA
                || (report[0] == REPORT_ID_STATUS
                    && (flags & PM_HID_SCALE_REPORT_ACCEPT_ID_4) != 0);
      if (!is_data)
        return PM_HID_SCALE_REPORT_IGNORED;

      if (report_len < PM_HID_SCALE_REPORT_SIZE)
        reading = unreadable ("The scale sent a report too short to hold a weight.");
      else
        reading = decode (report);
    }

  pm_scale_reading_set_raw (reading, data, len);
  *out_reading = reading;

  return PM_HID_SCALE_REPORT_READING;
}

void
pm_hid_scale_report_build (guint8   out[PM_HID_SCALE_REPORT_SIZE],
                           guint8   status,
                           guint8   unit,
                           gint8    exponent,
                           guint16  raw_weight)
{
  out[0] = REPORT_ID_DATA;
  out[1] = status;
  out[2] = unit;
  out[3] = (guint8) exponent;
  out[4] = raw_weight & 0xFF;
  out[5] = raw_weight >> 8;
}
