/* pm-scale-factory.c: a scale from the words in the settings */
#include "pm-scale-factory.h"

#include "pm-hid-scale.h"
#include "pm-scale-reply.h"
#include "pm-serial-scale.h"
#include "pm-sim-scale.h"

#include <string.h>

static gboolean
is_blank (const char *text)
{
  return text == NULL || *text == '\0';
}

static PmScale *
new_serial (const char  *device,
            const char  *protocol_name,
            const char  *line,
            const char  *unit,
            GError     **error)
{
  PmScaleProtocol protocol;
  PmSerialSettings settings;

  if (is_blank (device))
    {
      g_set_error_literal (error, PM_SCALE_ERROR, PM_SCALE_ERROR_INVALID_SETTINGS,
                           "A serial scale needs its port, e.g. /dev/ttyUSB0");
      return NULL;
    }
  if (!pm_scale_protocol_from_string (protocol_name, &protocol)
      || !pm_scale_protocol_is_serial (protocol))
    {
      g_set_error (error, PM_SCALE_ERROR, PM_SCALE_ERROR_INVALID_SETTINGS,
                   "“%s” is not a serial scale protocol. Choose nci, nci-scp02, "
                   "mettler-8217 or sics", protocol_name != NULL ? protocol_name : "");
      return NULL;
    }

  pm_serial_settings_init_for (&settings, protocol);
  if (!is_blank (line) && !pm_serial_settings_parse_line (&settings, line, error))
    return NULL;

  if (!is_blank (unit))
    {
      if (protocol != PM_SCALE_PROTOCOL_METTLER_8217)
        {
          g_set_error (error, PM_SCALE_ERROR, PM_SCALE_ERROR_INVALID_SETTINGS,
                       "%s scales send their unit; only a Mettler-Toledo 8217 needs one set",
                       pm_scale_protocol_describe (protocol));
          return NULL;
        }
      if (!pm_scale_parse_unit (unit, strlen (unit), &settings.unit))
        {
          g_set_error (error, PM_SCALE_ERROR, PM_SCALE_ERROR_INVALID_SETTINGS,
                       "“%s” is not a unit for postage. Choose lb, oz, kg or g", unit);
          return NULL;
        }
      settings.unit_set = TRUE;
    }

  return PM_SCALE (pm_serial_scale_new (device, protocol, &settings, error));
}

PmScale *
pm_scale_new_by_name (const char  *driver,
                      const char  *device,
                      const char  *protocol,
                      const char  *line,
                      const char  *unit,
                      GError     **error)
{
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (g_strcmp0 (driver, "hid") == 0)
    {
      if (!is_blank (protocol) && g_ascii_strcasecmp (protocol, "hid") != 0)
        {
          g_set_error (error, PM_SCALE_ERROR, PM_SCALE_ERROR_INVALID_SETTINGS,
                       "A USB scale speaks HID POS, not “%s”", protocol);
          return NULL;
        }
      return is_blank (device) ? PM_SCALE (pm_hid_scale_new ())
                               : PM_SCALE (pm_hid_scale_new_for_device (device));
    }

  if (g_strcmp0 (driver, "serial") == 0)
    return new_serial (device, protocol, line, unit, error);

  if (g_strcmp0 (driver, "simulated") == 0)
    return is_blank (device) ? PM_SCALE (pm_sim_scale_new ())
                             : PM_SCALE (pm_sim_scale_new_for_recording (device));

  g_set_error (error, PM_SCALE_ERROR, PM_SCALE_ERROR_INVALID_SETTINGS,
               "“%s” is not a scale driver. Choose hid, serial or simulated",
               driver != NULL ? driver : "");
  return NULL;
}
