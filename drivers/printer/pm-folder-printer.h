/* pm-folder-printer.h: a printer that files each job in a folder, for the demo and tests */
#pragma once

#include "pm-printer.h"

G_BEGIN_DECLS

#define PM_TYPE_FOLDER_PRINTER (pm_folder_printer_get_type ())
G_DECLARE_FINAL_TYPE (PmFolderPrinter, pm_folder_printer, PM, FOLDER_PRINTER, GObject)

PmFolderPrinter *pm_folder_printer_new        (const char      *name,
                                               const char      *folder);
const char      *pm_folder_printer_get_folder (PmFolderPrinter *self);

G_END_DECLS
