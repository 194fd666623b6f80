/* test-barcode.c: square ECC200 Data Matrix from libzint, read back with libdmtx */
#include <string.h>

#include "pm-barcode.h"
#include "pm-indicium-scan.h"

/* ISO/IEC 16022's worked example "123456": a 10 x 10 symbol whose rows, leftmost module as
 * the most significant of 12 bits, are these. */
static void
test_iso_example (void)
{
  static const guint16 rows[10] = {
    0xAA8, 0xCB4, 0xC10, 0xC74, 0xC20, 0x83C, 0xEC0, 0xF64, 0x9D0, 0xFFC,
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(PmBarcodeMatrix) matrix = pm_barcode_datamatrix_encode ((const guint8 *) "123456",
                                                                    6, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (pm_barcode_matrix_get_width (matrix), ==, 10);
  g_assert_cmpuint (pm_barcode_matrix_get_height (matrix), ==, 10);

  for (guint row = 0; row < 10; row++)
    {
      guint16 bits = 0;

      for (guint col = 0; col < 10; col++)
        bits = (guint16) (bits << 1 | pm_barcode_matrix_get_module (matrix, col, row));
      g_assert_cmphex (bits << 2, ==, rows[row]);
    }
}

static void
test_square_sizes (void)
{
  /* Random binary payloads: the sizes the reference lists for square symbols. */
  static const struct { gsize bytes; guint side; } cases[] = {
    { 60, 32 }, { 80, 36 }, { 100, 40 }, { 110, 40 }, { 114, 44 }, { 140, 44 },
    { 150, 48 }, { 170, 48 },
  };
  g_autoptr(GRand) rand = g_rand_new_with_seed (4);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(PmBarcodeMatrix) matrix = NULL;
      guint8 data[200];

      for (gsize j = 0; j < cases[i].bytes; j++)
        data[j] = (guint8) g_rand_int_range (rand, 128, 256);

      matrix = pm_barcode_datamatrix_encode (data, cases[i].bytes, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (pm_barcode_matrix_get_width (matrix), ==, cases[i].side);
      g_assert_cmpuint (pm_barcode_matrix_get_height (matrix), ==, cases[i].side);
    }
}

static GBytes *
draw_and_scan (const PmBarcodeMatrix *matrix,
               guint                  module,
               GError               **error)
{
  guint side = pm_barcode_matrix_get_width (matrix);
  int pixels = (int) ((side + 4) * module);
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, pixels, pixels);
  cairo_t *cr = cairo_create (surface);
  GBytes *bytes;

  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  cairo_set_source_rgb (cr, 0, 0, 0);
  pm_barcode_matrix_draw (matrix, cr, 2 * module, 2 * module, module);
  cairo_destroy (cr);

  bytes = pm_indicium_scan_surface (surface, error);
  cairo_surface_destroy (surface);

  return bytes;
}

static void
test_roundtrip (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (16022);
  guint8 data[110];

  /* Bytes that trip encoders: FNC1 (232), the GS separator, NUL, pad (129), digits that
   * tempt a switch to ASCII pairs or C40, and random bytes. */
  for (guint round = 0; round < 8; round++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(PmBarcodeMatrix) matrix = NULL;
      g_autoptr(GBytes) back = NULL;

      for (guint i = 0; i < sizeof data; i++)
        {
          switch (round)
            {
            case 0: data[i] = 0; break;
            case 1: data[i] = 0xff; break;
            case 2: data[i] = (i % 2) ? 232 : 0x1d; break;
            case 3: data[i] = (guint8) ('0' + i % 10); break;
            case 4: data[i] = 129; break;
            default: data[i] = (guint8) g_rand_int_range (rand, 0, 256); break;
            }
        }

      matrix = pm_barcode_datamatrix_encode (data, sizeof data, &error);
      g_assert_no_error (error);
      back = draw_and_scan (matrix, 4, &error);
      g_assert_no_error (error);
      g_assert_cmpmem (g_bytes_get_data (back, NULL), g_bytes_get_size (back),
                       data, sizeof data);
    }
}

static void
test_limits (void)
{
  g_autofree guint8 *big = g_malloc0 (1557);
  g_autoptr(PmBarcodeMatrix) largest = NULL;
  GError *error = NULL;

  g_assert_null (pm_barcode_datamatrix_encode (big, 1557, &error));
  g_assert_error (error, PM_BARCODE_ERROR, PM_BARCODE_ERROR_TOO_LONG);
  g_clear_error (&error);

  g_assert_null (pm_barcode_datamatrix_encode (big, 0, &error));
  g_assert_error (error, PM_BARCODE_ERROR, PM_BARCODE_ERROR_TOO_LONG);
  g_clear_error (&error);

  largest = pm_barcode_datamatrix_encode (big, 1556, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (pm_barcode_matrix_get_width (largest), ==, 144);

  g_assert_cmpuint (pm_barcode_module_dots_for_dpi (203), ==, 4);
  g_assert_cmpuint (pm_barcode_module_dots_for_dpi (300), ==, 6);
  g_assert_cmpuint (pm_barcode_module_dots_for_dpi (600), ==, 12);
  g_assert_cmpuint (pm_barcode_module_dots_for_dpi (72), ==, 2);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/core/barcode/datamatrix/iso-example", test_iso_example);
  g_test_add_func ("/core/barcode/datamatrix/square-sizes", test_square_sizes);
  g_test_add_func ("/core/barcode/datamatrix/roundtrip", test_roundtrip);
  g_test_add_func ("/core/barcode/datamatrix/limits", test_limits);

  return g_test_run ();
}
