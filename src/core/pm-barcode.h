/* pm-barcode.h: two-dimensional barcodes as module matrices
 *
 * The indicium is a square ECC200 Data Matrix encoded in base-256 (binary) mode by libzint.
 * Only the module matrix comes from libzint; drawing it is ours, with cairo, so each module
 * is a whole number of printer dots at whatever resolution the printer has.
 */
#pragma once

#include <glib.h>
#include <cairo.h>

G_BEGIN_DECLS

#define PM_BARCODE_ERROR (pm_barcode_error_quark ())

typedef enum
{
  PM_BARCODE_ERROR_TOO_LONG,   /* more data than the largest square symbol holds */
  PM_BARCODE_ERROR_ENCODER,    /* the encoder failed for another reason */
} PmBarcodeError;

/* A grid of modules, row 0 at the top, column 0 at the left. Immutable once made; any
 * thread may read it. */
typedef struct _PmBarcodeMatrix PmBarcodeMatrix;

GQuark           pm_barcode_error_quark         (void);

/* A square ECC200 Data Matrix of the bytes, in base-256 mode, smallest size that fits. */
PmBarcodeMatrix *pm_barcode_datamatrix_encode   (const guint8          *data,
                                                 gsize                  length,
                                                 GError               **error);
void             pm_barcode_matrix_free         (PmBarcodeMatrix       *matrix);
guint            pm_barcode_matrix_get_width    (const PmBarcodeMatrix *matrix);
guint            pm_barcode_matrix_get_height   (const PmBarcodeMatrix *matrix);
gboolean         pm_barcode_matrix_get_module   (const PmBarcodeMatrix *matrix,
                                                 guint                  column,
                                                 guint                  row);
/* Fills the dark modules with the current source, the top-left corner at (x, y), each
 * module module_size user units wide. Draws no quiet zone: the caller keeps one module
 * clear around the symbol. */
void             pm_barcode_matrix_draw         (const PmBarcodeMatrix *matrix,
                                                 cairo_t               *cr,
                                                 double                 x,
                                                 double                 y,
                                                 double                 module_size);
/* The module size in whole printer dots for a printer of this resolution: the nearest to
 * 0.02 inch (0.5 mm), which scanners and postal readers handle well, and at least 2 dots. */
guint            pm_barcode_module_dots_for_dpi (double                 dpi);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmBarcodeMatrix, pm_barcode_matrix_free)

G_END_DECLS
