/* pm-scale-factory.h: a scale from the words in the settings
 *
 * The kiosk keeps the scale's configuration as plain strings; this turns them into the
 * right driver, or says in plain words what is wrong with them.
 *
 *   driver "hid"        a USB HID POS scale: the first one udev finds, or @device
 *                       ("/dev/hidraw2") when given
 *          "serial"     a serial scale on @device ("/dev/ttyUSB0") speaking @protocol
 *                       ("nci", "nci-scp02", "mettler-8217", "sics"), with the port
 *                       settings in @line ("9600 7E1"; NULL or "" for the protocol's usual
 *                       line) and, for a Mettler 8217, which sends none, the unit in @unit
 *                       ("lb", "kg", "g", "oz"; NULL to tell it from the decimals)
 *          "simulated"  the simulated scale, by hand, or replaying the recording @device
 */
#pragma once

#include "pm-scale.h"

G_BEGIN_DECLS

/* PM_SCALE_ERROR_INVALID_SETTINGS for anything that cannot make a scale. */
PmScale *pm_scale_new_by_name (const char  *driver,
                               const char  *device,
                               const char  *protocol,
                               const char  *line,
                               const char  *unit,
                               GError     **error);

G_END_DECLS
