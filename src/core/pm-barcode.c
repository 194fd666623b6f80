/* pm-barcode.c: Data Matrix encoding through libzint */
#include "pm-barcode.h"

#include <math.h>
#include <zint.h>

G_DEFINE_QUARK (pm-barcode-error-quark, pm_barcode_error)

/* The largest square ECC200 symbol, 144 x 144, holds 1556 bytes in base-256 mode. */
#define MAX_DATAMATRIX_BYTES 1556

struct _PmBarcodeMatrix
{
  guint   width;
  guint   height;
  guint8 *modules;     /* owned; width * height bytes, 1 for a dark module */
};

PmBarcodeMatrix *
pm_barcode_datamatrix_encode (const guint8  *data,
                              gsize          length,
                              GError       **error)
{
  struct zint_symbol *symbol;
  PmBarcodeMatrix *matrix;
  int status;

  g_return_val_if_fail (data != NULL || length == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (length == 0 || length > MAX_DATAMATRIX_BYTES)
    {
      g_set_error (error, PM_BARCODE_ERROR, PM_BARCODE_ERROR_TOO_LONG,
                   "A Data Matrix holds 1 to %d bytes; %" G_GSIZE_FORMAT " were given",
                   MAX_DATAMATRIX_BYTES, length);
      return NULL;
    }

  symbol = ZBarcode_Create ();
  if (symbol == NULL)
    {
      g_set_error (error, PM_BARCODE_ERROR, PM_BARCODE_ERROR_ENCODER,
                   "The barcode encoder could not start (out of memory)");
      return NULL;
    }

  symbol->symbology = BARCODE_DATAMATRIX;
  symbol->input_mode = DATA_MODE;
  symbol->option_3 = DM_SQUARE;
  symbol->show_hrt = 0;

  status = ZBarcode_Encode (symbol, data, (int) length);
  if (status >= ZINT_ERROR)
    {
      g_set_error (error, PM_BARCODE_ERROR,
                   status == ZINT_ERROR_TOO_LONG ? PM_BARCODE_ERROR_TOO_LONG
                                                 : PM_BARCODE_ERROR_ENCODER,
                   "The Data Matrix encoder refused the data: %s", symbol->errtxt);
      ZBarcode_Delete (symbol);
      return NULL;
    }

  g_assert (symbol->rows > 0 && symbol->width > 0 && symbol->rows == symbol->width);

  matrix = g_new0 (PmBarcodeMatrix, 1);
  matrix->width = (guint) symbol->width;
  matrix->height = (guint) symbol->rows;
  matrix->modules = g_malloc0 ((gsize) matrix->width * matrix->height);

  /* libzint packs each row's modules into bytes, least significant bit first. */
  for (guint row = 0; row < matrix->height; row++)
    for (guint col = 0; col < matrix->width; col++)
      matrix->modules[row * matrix->width + col] =
        (symbol->encoded_data[row][col >> 3] >> (col & 7)) & 1;

  ZBarcode_Delete (symbol);

  return matrix;
}

void
pm_barcode_matrix_free (PmBarcodeMatrix *matrix)
{
  if (matrix == NULL)
    return;

  g_free (matrix->modules);
  g_free (matrix);
}

guint
pm_barcode_matrix_get_width (const PmBarcodeMatrix *matrix)
{
  g_return_val_if_fail (matrix != NULL, 0);

  return matrix->width;
}

guint
pm_barcode_matrix_get_height (const PmBarcodeMatrix *matrix)
{
  g_return_val_if_fail (matrix != NULL, 0);

  return matrix->height;
}

gboolean
pm_barcode_matrix_get_module (const PmBarcodeMatrix *matrix,
                              guint                  column,
                              guint                  row)
{
  g_return_val_if_fail (matrix != NULL, FALSE);
  g_return_val_if_fail (column < matrix->width && row < matrix->height, FALSE);

  return matrix->modules[row * matrix->width + column] != 0;
}

void
pm_barcode_matrix_draw (const PmBarcodeMatrix *matrix,
                        cairo_t               *cr,
                        double                 x,
                        double                 y,
                        double                 module_size)
{
  g_return_if_fail (matrix != NULL);
  g_return_if_fail (cr != NULL);
  g_return_if_fail (module_size > 0);

  cairo_save (cr);
  cairo_new_path (cr);

  /* One rectangle per run of dark modules in a row: fewer path elements for PDF, and no
   * hairline seams between neighbours when antialiasing is on. */
  for (guint row = 0; row < matrix->height; row++)
    {
      guint col = 0;

      while (col < matrix->width)
        {
          guint start;

          if (!matrix->modules[row * matrix->width + col])
            {
              col++;
              continue;
            }

          start = col;
          while (col < matrix->width && matrix->modules[row * matrix->width + col])
            col++;

          cairo_rectangle (cr, x + start * module_size, y + row * module_size,
                           (col - start) * module_size, module_size);
        }
    }

  cairo_fill (cr);
  cairo_restore (cr);
}

guint
pm_barcode_module_dots_for_dpi (double dpi)
{
  double dots;

  g_return_val_if_fail (dpi > 0, 2);

  dots = round (dpi * 0.02);

  return dots < 2 ? 2 : (guint) dots;
}
