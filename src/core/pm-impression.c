/* pm-impression.c: cairo and pango drawing of meter impressions
 *
 * Sizes are designed in inches and points and turned into dots at the printer's resolution.
 * Barcode modules and the symbol's position are whole dots so a 203 dpi thermal head prints
 * every module the same width.
 */
#include "pm-impression.h"

#include <math.h>
#include <string.h>
#include <cairo-pdf.h>
#include <pango/pangocairo.h>

#include "pm-barcode.h"
#include "pm-indicium.h"

G_DEFINE_QUARK (pm-impression-error-quark, pm_impression_error)

#define FONT_FAMILY "DejaVu Sans, Sans"

/* Design sizes, inches. */
#define BANNER_HEIGHT     0.20
#define GAP               0.06
#define POSTAGE_WIDTH     2.80
#define POSTAGE_HEIGHT    1.25
#define REDATE_WIDTH      2.40
#define STAMP_WIDTH       2.20
#define STAMP_HEIGHT      1.05

struct _PmImpression
{
  PmImpressionKind  kind;
  gboolean          specimen;
  PmMills           postage;
  char             *date_text;        /* owned; "DEC 03 2026" */
  char             *time_text;        /* owned; date stamp only */
  char             *heading;          /* owned; date stamp only */
  char             *origin_zip;       /* owned; "60601" */
  char             *meter_serial;     /* owned; "PMSW00012345" */
  char             *inscription;      /* owned; "FIRST-CLASS MAIL", may be empty */
  PmBarcodeMatrix  *symbol;           /* owned; postage only */
};

typedef enum
{
  ALIGN_LEFT,
  ALIGN_CENTER,
} Align;

void
pm_impression_free (PmImpression *impression)
{
  if (impression == NULL)
    return;

  g_free (impression->date_text);
  g_free (impression->time_text);
  g_free (impression->heading);
  g_free (impression->origin_zip);
  g_free (impression->meter_serial);
  g_free (impression->inscription);
  g_clear_pointer (&impression->symbol, pm_barcode_matrix_free);
  g_free (impression);
}

PmImpression *
pm_impression_new_postage (GBytes  *indicium,
                           GError **error)
{
  g_autoptr(PmImpression) impression = NULL;
  PmIndicium fields;
  const guint8 *data;
  gsize length = 0;
  const char *inscription;

  g_return_val_if_fail (indicium != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  data = g_bytes_get_data (indicium, &length);
  if (!pm_indicium_decode (data, length, &fields, error))
    {
      g_prefix_error (error, "Cannot print this indicium: ");
      if (error != NULL && *error != NULL)
        {
          (*error)->domain = PM_IMPRESSION_ERROR;
          (*error)->code = PM_IMPRESSION_ERROR_BAD_INDICIUM;
        }
      return NULL;
    }

  impression = g_new0 (PmImpression, 1);
  impression->kind = PM_IMPRESSION_POSTAGE;
  impression->specimen = (fields.flags & PM_INDICIUM_FLAG_SPECIMEN) != 0;
  impression->postage = fields.postage;
  impression->date_text = pm_indicium_format_date (fields.date_of_mailing);
  impression->origin_zip = g_strdup_printf ("%05u", fields.origin_zip);
  impression->meter_serial = g_strdup_printf ("%s%08u", fields.device_model,
                                              fields.device_serial);
  inscription = pm_rate_category_get_inscription (fields.rate_category);
  impression->inscription = g_strdup (inscription != NULL ? inscription : "");

  impression->symbol = pm_barcode_datamatrix_encode (data, length, error);
  if (impression->symbol == NULL)
    {
      g_prefix_error (error, "Cannot print this indicium: ");
      return NULL;
    }

  return g_steal_pointer (&impression);
}

PmImpression *
pm_impression_new_date_stamp (GDateTime  *when,
                              const char *heading)
{
  PmImpression *impression;
  guint32 date;

  g_return_val_if_fail (when != NULL, NULL);

  date = (guint32) g_date_time_get_year (when) * 10000
         + (guint32) g_date_time_get_month (when) * 100
         + (guint32) g_date_time_get_day_of_month (when);

  impression = g_new0 (PmImpression, 1);
  impression->kind = PM_IMPRESSION_DATE_STAMP;
  impression->heading = g_utf8_strup (heading != NULL ? heading : "RECEIVED", -1);
  impression->date_text = pm_indicium_format_date (date);
  /* A 12-hour clock with AM/PM written out, as American mailroom stamps print it. */
  impression->time_text = g_strdup_printf ("%d:%02d %s",
                                           (g_date_time_get_hour (when) + 11) % 12 + 1,
                                           g_date_time_get_minute (when),
                                           g_date_time_get_hour (when) < 12 ? "AM" : "PM");

  return impression;
}

PmImpression *
pm_impression_new_redate (guint32     new_date,
                          guint32     origin_zip,
                          const char *meter_serial,
                          gboolean    specimen)
{
  PmImpression *impression;
  char *date_text;

  g_return_val_if_fail (meter_serial != NULL, NULL);
  g_return_val_if_fail (origin_zip <= 99999, NULL);

  date_text = pm_indicium_format_date (new_date);
  g_return_val_if_fail (date_text != NULL, NULL);

  impression = g_new0 (PmImpression, 1);
  impression->kind = PM_IMPRESSION_REDATE;
  impression->specimen = specimen;
  impression->postage = 0;
  impression->date_text = date_text;
  impression->origin_zip = g_strdup_printf ("%05u", origin_zip);
  impression->meter_serial = g_strdup (meter_serial);
  impression->inscription = g_strdup ("DATE CORRECTION");

  return impression;
}

PmImpressionKind
pm_impression_get_kind (const PmImpression *impression)
{
  g_return_val_if_fail (impression != NULL, PM_IMPRESSION_POSTAGE);

  return impression->kind;
}

gboolean
pm_impression_is_specimen (const PmImpression *impression)
{
  g_return_val_if_fail (impression != NULL, FALSE);

  return impression->specimen;
}

void
pm_impression_get_size (const PmImpression *impression,
                        double             *out_width_in,
                        double             *out_height_in)
{
  double width = POSTAGE_WIDTH;
  double height = POSTAGE_HEIGHT;

  g_return_if_fail (impression != NULL);

  switch (impression->kind)
    {
    case PM_IMPRESSION_POSTAGE:
      break;
    case PM_IMPRESSION_REDATE:
      width = REDATE_WIDTH;
      break;
    case PM_IMPRESSION_DATE_STAMP:
      width = STAMP_WIDTH;
      height = STAMP_HEIGHT;
      break;
    default:
      g_assert_not_reached ();
    }

  /* Without the specimen banner the stamp is that much shorter. */
  if (impression->kind != PM_IMPRESSION_DATE_STAMP && !impression->specimen)
    height -= BANNER_HEIGHT;

  if (out_width_in != NULL)
    *out_width_in = width;
  if (out_height_in != NULL)
    *out_height_in = height;
}

void
pm_impression_get_size_dots (const PmImpression *impression,
                             double              dpi,
                             int                *out_width,
                             int                *out_height)
{
  double width, height;

  g_return_if_fail (impression != NULL);
  g_return_if_fail (dpi > 0);

  pm_impression_get_size (impression, &width, &height);
  if (out_width != NULL)
    *out_width = (int) ceil (width * dpi);
  if (out_height != NULL)
    *out_height = (int) ceil (height * dpi);
}

static PangoLayout *
make_layout (cairo_t    *cr,
             double      dpi,
             const char *text,
             double      points,
             gboolean    bold)
{
  g_autoptr(PangoFontDescription) font = pango_font_description_from_string (FONT_FAMILY);
  PangoLayout *layout = pango_cairo_create_layout (cr);

  pango_font_description_set_weight (font, bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
  pango_font_description_set_absolute_size (font, points * dpi / 72.0 * PANGO_SCALE);
  pango_layout_set_font_description (layout, font);
  pango_layout_set_text (layout, text, -1);

  return layout;
}

/* Draws one line of text with its top at y; returns the line's height in dots. */
static double
draw_text (cairo_t    *cr,
           double      dpi,
           const char *text,
           double      points,
           gboolean    bold,
           gboolean    white,
           double      x,
           double      y,
           double      box_width,
           Align       align)
{
  g_autoptr(PangoLayout) layout = make_layout (cr, dpi, text, points, bold);
  int width, height;

  pango_layout_get_pixel_size (layout, &width, &height);
  if (align == ALIGN_CENTER)
    x += (box_width - width) / 2.0;

  cairo_save (cr);
  if (white)
    cairo_set_source_rgb (cr, 1, 1, 1);
  else
    cairo_set_source_rgb (cr, 0, 0, 0);
  cairo_move_to (cr, round (x), round (y));
  pango_cairo_show_layout (cr, layout);
  cairo_restore (cr);

  return height;
}

static double
text_width (cairo_t    *cr,
            double      dpi,
            const char *text,
            double      points,
            gboolean    bold)
{
  g_autoptr(PangoLayout) layout = make_layout (cr, dpi, text, points, bold);
  int width;

  pango_layout_get_pixel_size (layout, &width, NULL);

  return width;
}

/* The specimen legend in reverse print across the top; returns its height in dots. */
static double
draw_specimen_banner (cairo_t *cr,
                      double   dpi,
                      double   width)
{
  g_autoptr(PangoLayout) layout = NULL;
  double height = round (BANNER_HEIGHT * dpi);
  int text_width_px, text_height_px;

  /* As large as the width allows, up to 9.5 points. */
  for (double points = 9.5; ; points -= 0.5)
    {
      g_clear_object (&layout);
      layout = make_layout (cr, dpi, PM_IMPRESSION_SPECIMEN_LEGEND, points, TRUE);
      pango_layout_get_pixel_size (layout, &text_width_px, &text_height_px);
      if (text_width_px <= width - 0.08 * dpi || points <= 5)
        break;
    }

  cairo_save (cr);
  cairo_set_source_rgb (cr, 0, 0, 0);
  /* To the last whole dot: the image is ceil (width) dots wide. */
  cairo_rectangle (cr, 0, 0, ceil (width), height);
  cairo_fill (cr);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_move_to (cr, round ((width - text_width_px) / 2.0),
                 round ((height - text_height_px) / 2.0));
  pango_cairo_show_layout (cr, layout);
  cairo_restore (cr);

  return height;
}

/* "$1,234.56" in large type, the mill digit small and raised after it, the way meters
 * print amounts. Returns the height used. */
static double
draw_amount (cairo_t *cr,
             double   dpi,
             PmMills  postage,
             double   x,
             double   y,
             double   max_width)
{
  g_autoptr(GString) dollars = g_string_new (NULL);
  g_autofree char *main_text = NULL;
  g_autofree char *mill_text = NULL;
  gint64 whole = postage / 1000;
  int cents = (int) ((postage / 10) % 100);
  int mill = (int) (postage % 10);
  double height, width = 0, points;

  g_string_printf (dollars, "%" G_GINT64_FORMAT, whole);
  for (gssize i = (gssize) dollars->len - 3; i > 0; i -= 3)
    g_string_insert_c (dollars, i, ',');

  main_text = g_strdup_printf ("$%s.%02d", dollars->str, cents);
  mill_text = g_strdup_printf ("%d", mill);

  /* Large amounts shrink to stay inside the impression. */
  for (points = 21; points > 10; points -= 1)
    {
      width = text_width (cr, dpi, main_text, points, TRUE);
      if (width + text_width (cr, dpi, mill_text, points / 2, TRUE) + 0.01 * dpi <= max_width)
        break;
    }

  height = draw_text (cr, dpi, main_text, points, TRUE, FALSE, x, y + (21 - points) * dpi / 144,
                      0, ALIGN_LEFT);
  width = text_width (cr, dpi, main_text, points, TRUE);
  draw_text (cr, dpi, mill_text, points / 2, TRUE, FALSE, x + width + 0.01 * dpi,
             y + (21 - points) * dpi / 144 + 0.03 * dpi * points / 21, 0, ALIGN_LEFT);
  height += (21 - points) * dpi / 144;

  return height;
}

/* The column of human-readable lines shared by postage and re-date impressions. */
static void
draw_text_column (const PmImpression *impression,
                  cairo_t            *cr,
                  double              dpi,
                  double              x,
                  double              y)
{
  double impression_width;
  g_autofree char *from_zip = g_strdup_printf ("MAILED FROM ZIP %s", impression->origin_zip);

  y += draw_text (cr, dpi, "US POSTAGE", 8.5, TRUE, FALSE, x, y, 0, ALIGN_LEFT);
  pm_impression_get_size (impression, &impression_width, NULL);
  y += draw_amount (cr, dpi, impression->postage, x, y - 0.02 * dpi,
                    impression_width * dpi - x - 0.06 * dpi) - 0.04 * dpi;
  if (impression->inscription[0] != '\0')
    y += draw_text (cr, dpi, impression->inscription, 7.5, TRUE, FALSE, x, y, 0, ALIGN_LEFT);
  y += draw_text (cr, dpi, impression->date_text, 8.5, TRUE, FALSE, x, y, 0, ALIGN_LEFT);
  y += draw_text (cr, dpi, from_zip, 7, FALSE, FALSE, x, y, 0, ALIGN_LEFT);
  draw_text (cr, dpi, impression->meter_serial, 7, FALSE, FALSE, x, y, 0, ALIGN_LEFT);
}

static void
draw_postage (const PmImpression *impression,
              cairo_t            *cr,
              double              dpi)
{
  guint module = pm_barcode_module_dots_for_dpi (dpi);
  double width, height;
  double top = 0;
  double symbol_x, symbol_y, symbol_size;

  pm_impression_get_size (impression, &width, &height);

  if (impression->specimen)
    top = draw_specimen_banner (cr, dpi, width * dpi);

  top += round (GAP * dpi);

  /* A quiet zone of two modules at the left edge; the rest of the clear zone is the
   * placement rule of the printer, outside the impression. */
  symbol_x = 2.0 * module;
  symbol_size = (double) module * pm_barcode_matrix_get_width (impression->symbol);
  symbol_y = top + round ((height * dpi - top - symbol_size) / 2.0 - GAP * dpi / 2.0);
  if (symbol_y < top)
    symbol_y = top;

  cairo_save (cr);
  cairo_set_source_rgb (cr, 0, 0, 0);
  pm_barcode_matrix_draw (impression->symbol, cr, symbol_x, symbol_y, module);
  cairo_restore (cr);

  draw_text_column (impression, cr, dpi, symbol_x + symbol_size + round (0.14 * dpi), top);
}

static void
draw_redate (const PmImpression *impression,
             cairo_t            *cr,
             double              dpi)
{
  double width;
  double top = 0;

  pm_impression_get_size (impression, &width, NULL);

  if (impression->specimen)
    top = draw_specimen_banner (cr, dpi, width * dpi);

  draw_text_column (impression, cr, dpi, round (0.12 * dpi), top + round (GAP * dpi));
}

static void
draw_date_stamp (const PmImpression *impression,
                 cairo_t            *cr,
                 double              dpi)
{
  double width = STAMP_WIDTH * dpi;
  double height = STAMP_HEIGHT * dpi;
  double line = MAX (2.0, round (0.025 * dpi));
  double radius = 0.12 * dpi;
  double inset = line / 2.0;
  double y;

  cairo_save (cr);
  cairo_set_source_rgb (cr, 0, 0, 0);
  cairo_set_line_width (cr, line);
  cairo_new_sub_path (cr);
  cairo_arc (cr, width - inset - radius, inset + radius, radius, -G_PI / 2, 0);
  cairo_arc (cr, width - inset - radius, height - inset - radius, radius, 0, G_PI / 2);
  cairo_arc (cr, inset + radius, height - inset - radius, radius, G_PI / 2, G_PI);
  cairo_arc (cr, inset + radius, inset + radius, radius, G_PI, 3 * G_PI / 2);
  cairo_close_path (cr);
  cairo_stroke (cr);
  cairo_restore (cr);

  y = 0.07 * dpi;
  y += draw_text (cr, dpi, impression->heading, 15, TRUE, FALSE, 0, y, width, ALIGN_CENTER);

  y += 0.02 * dpi;
  y += draw_text (cr, dpi, impression->date_text, 17, TRUE, FALSE, 0, y, width, ALIGN_CENTER);
  draw_text (cr, dpi, impression->time_text, 13, FALSE, FALSE, 0, y, width, ALIGN_CENTER);
}

void
pm_impression_draw (const PmImpression *impression,
                    cairo_t            *cr,
                    double              dpi)
{
  g_return_if_fail (impression != NULL);
  g_return_if_fail (cr != NULL);
  g_return_if_fail (dpi > 0);

  cairo_save (cr);
  switch (impression->kind)
    {
    case PM_IMPRESSION_POSTAGE:
      draw_postage (impression, cr, dpi);
      break;
    case PM_IMPRESSION_REDATE:
      draw_redate (impression, cr, dpi);
      break;
    case PM_IMPRESSION_DATE_STAMP:
      draw_date_stamp (impression, cr, dpi);
      break;
    default:
      g_assert_not_reached ();
    }
  cairo_restore (cr);
}

static gboolean
check_dpi (double   dpi,
           GError **error)
{
  if (!(dpi >= 72 && dpi <= 2400))
    {
      g_set_error (error, PM_IMPRESSION_ERROR, PM_IMPRESSION_ERROR_BAD_RESOLUTION,
                   "A printer resolution of %g dpi is not supported; use 72 to 2400", dpi);
      return FALSE;
    }

  return TRUE;
}

cairo_surface_t *
pm_impression_render_image (const PmImpression  *impression,
                            double               dpi,
                            GError             **error)
{
  cairo_surface_t *surface;
  cairo_t *cr;
  int width, height;

  g_return_val_if_fail (impression != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_dpi (dpi, error))
    return NULL;

  pm_impression_get_size_dots (impression, dpi, &width, &height);
  surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, width, height);
  cr = cairo_create (surface);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  pm_impression_draw (impression, cr, dpi);
  cairo_destroy (cr);

  if (cairo_surface_status (surface) != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, PM_IMPRESSION_ERROR, PM_IMPRESSION_ERROR_WRITE,
                   "Could not draw the impression: %s",
                   cairo_status_to_string (cairo_surface_status (surface)));
      cairo_surface_destroy (surface);
      return NULL;
    }

  return surface;
}

gboolean
pm_impression_write_png (const PmImpression  *impression,
                         const char          *path,
                         double               dpi,
                         GError             **error)
{
  cairo_surface_t *surface;
  cairo_status_t status;

  g_return_val_if_fail (impression != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  surface = pm_impression_render_image (impression, dpi, error);
  if (surface == NULL)
    return FALSE;

  status = cairo_surface_write_to_png (surface, path);
  cairo_surface_destroy (surface);
  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, PM_IMPRESSION_ERROR, PM_IMPRESSION_ERROR_WRITE,
                   "Could not write the impression to “%s”: %s", path,
                   cairo_status_to_string (status));
      return FALSE;
    }

  return TRUE;
}

gboolean
pm_impression_write_pdf (const PmImpression  *impression,
                         const char          *path,
                         double               dpi,
                         GError             **error)
{
  cairo_surface_t *surface;
  cairo_status_t status;
  cairo_t *cr;
  double width, height;

  g_return_val_if_fail (impression != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_dpi (dpi, error))
    return FALSE;

  pm_impression_get_size (impression, &width, &height);
  surface = cairo_pdf_surface_create (path, width * 72.0, height * 72.0);
  cr = cairo_create (surface);
  cairo_scale (cr, 72.0 / dpi, 72.0 / dpi);
  pm_impression_draw (impression, cr, dpi);
  cairo_show_page (cr);
  cairo_destroy (cr);
  cairo_surface_finish (surface);
  status = cairo_surface_status (surface);
  cairo_surface_destroy (surface);

  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, PM_IMPRESSION_ERROR, PM_IMPRESSION_ERROR_WRITE,
                   "Could not write the impression to “%s”: %s", path,
                   cairo_status_to_string (status));
      return FALSE;
    }

  return TRUE;
}
