/* pm-cups-printer.h: a CUPS queue through libcups
 *
 * PDF and PNG documents go to the queue as they are, for its driver to print. ZPL, EPL and
 * other printer-language bytes go as application/vnd.cups-raw, so no driver turns a label
 * into a printout of its own source text. After sending, the job is followed in CUPS to
 * completed, aborted or canceled; a queue that is stopped or refuses jobs fails the job at
 * once as offline, and a job stuck on a queue that stops is canceled in CUPS before it is
 * reported failed, so it cannot print later behind the reprint the operator makes.
 */
#pragma once

#include "pm-printer.h"

G_BEGIN_DECLS

#define PM_CUPS_PRINTER_DEFAULT_POLL_MS    250
#define PM_CUPS_PRINTER_DEFAULT_TIMEOUT_S  300

#define PM_TYPE_CUPS_PRINTER (pm_cups_printer_get_type ())
G_DECLARE_FINAL_TYPE (PmCupsPrinter, pm_cups_printer, PM, CUPS_PRINTER, GObject)

/* @queue: the CUPS destination. @server: "host", "host:port" or a socket path; NULL for
 * the system's CUPS. @name: shown to the operator; NULL for the queue's name. */
PmCupsPrinter *pm_cups_printer_new          (const char    *name,
                                             const char    *queue,
                                             const char    *server);
const char    *pm_cups_printer_get_queue    (PmCupsPrinter *self);
/* How often a job's state is asked while it prints, and how long it may take in all. */
void           pm_cups_printer_set_follow   (PmCupsPrinter *self,
                                             guint          poll_ms,
                                             guint          timeout_s);

G_END_DECLS
