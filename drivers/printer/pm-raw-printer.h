/* pm-raw-printer.h: ZPL, EPL or other printer-language bytes straight to a label printer,
 * over a network socket (host:9100) or a device file (/dev/usb/lpN), without CUPS */
#pragma once

#include "pm-printer.h"

G_BEGIN_DECLS

#define PM_RAW_PRINTER_DEFAULT_PORT 9100

#define PM_TYPE_RAW_PRINTER (pm_raw_printer_get_type ())
G_DECLARE_FINAL_TYPE (PmRawPrinter, pm_raw_printer, PM, RAW_PRINTER, GObject)

PmRawPrinter *pm_raw_printer_new_socket  (const char   *name,
                                          const char   *host,
                                          guint16       port);
PmRawPrinter *pm_raw_printer_new_device  (const char   *name,
                                          const char   *device_path);
void          pm_raw_printer_set_timeout (PmRawPrinter *self,
                                          guint         seconds);

G_END_DECLS
