/* pm-indicium-scan.h: read an indicium back from its printed or scanned image
 *
 * A second, independent Data Matrix reader (libdmtx) for auditors, support and tests: what
 * the meter printed is decoded without any of the code that encoded it.
 */
#pragma once

#include <glib.h>
#include <cairo.h>

G_BEGIN_DECLS

#define PM_INDICIUM_SCAN_ERROR (pm_indicium_scan_error_quark ())

typedef enum
{
  PM_INDICIUM_SCAN_ERROR_UNREADABLE_IMAGE,  /* not a PNG, or cannot be opened */
  PM_INDICIUM_SCAN_ERROR_NO_SYMBOL,         /* no Data Matrix found, or it would not decode */
} PmIndiciumScanError;

GQuark  pm_indicium_scan_error_quark (void);

/* The bytes of the first Data Matrix found in an image surface. */
GBytes *pm_indicium_scan_surface     (cairo_surface_t  *surface,
                                      GError          **error);
GBytes *pm_indicium_scan_png         (const char       *path,
                                      GError          **error);

G_END_DECLS
