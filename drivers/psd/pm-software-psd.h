/* pm-software-psd.h: a PSD in software, for tests, development and demonstrations
 *
 * It keeps its registers in a sealed state file in a folder of its own and signs indicia
 * with a P-256 key it generates on first use. It is not a certified security module: every
 * indicium it makes is flagged as a specimen and prints as "SPECIMEN, NOT VALID POSTAGE".
 * See drivers/psd/README.md for the file layout and the trust model.
 */
#pragma once

#include "pm-psd.h"

G_BEGIN_DECLS

#define PM_SOFTWARE_PSD_MODEL "PMSW"

/* Most recent debits kept in the state file for reconciliation after a crash. */
#define PM_SOFTWARE_PSD_JOURNAL_CAPACITY 64

#define PM_TYPE_SOFTWARE_PSD (pm_software_psd_get_type ())
G_DECLARE_FINAL_TYPE (PmSoftwarePsd, pm_software_psd, PM, SOFTWARE_PSD, GObject)

/* Opens the PSD kept in directory, or makes a new one there when the folder holds none.
 *
 * provider_key is the key the provider signs operational blocks, refills and audit answers
 * with. A new PSD stores it; an existing one refuses to open with a different key (NULL
 * uses the stored one). factory_serial is the serial a new PSD gets (0 picks one at random);
 * it is ignored for an existing PSD.
 *
 * A PSD whose state file fails its checks still opens, locked, with the reason in its status,
 * and its files are left exactly as they were. Only a folder that cannot be read or written
 * at all is an error. */
PmSoftwarePsd *pm_software_psd_open               (const char     *directory,
                                                   PmVerifyKey    *provider_key,
                                                   guint32         factory_serial,
                                                   GError        **error);
const char    *pm_software_psd_get_directory      (PmSoftwarePsd  *self);
/* Writes the PSD's public key as PEM, for postmeter-verify and the provider. */
gboolean       pm_software_psd_export_public_key  (PmSoftwarePsd  *self,
                                                   const char     *path,
                                                   GError        **error);

G_END_DECLS
