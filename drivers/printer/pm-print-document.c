/* pm-print-document.c: envelope pages and shipping labels as print jobs
 *
 * An envelope page is laid out once, when the job is made, in points; the painter that the
 * printer's worker thread calls only draws. The impression itself is drawn by
 * pm-impression.c at the printer's resolution, placed on a whole dot so its barcode modules
 * stay whole dots too.
 */
#include "pm-print-document.h"

#include <math.h>
#include <string.h>
#include <pango/pangocairo.h>

G_DEFINE_QUARK (pm-print-document-error-quark, pm_print_document_error)

#define DEFAULT_DPI        300.0
#define MARGIN_POINTS      18.0     /* a quarter inch from the top and right edges */
#define GAP_POINTS         10.8     /* 0.15 in between graphic and impression */
#define GRAPHIC_MAX_POINTS 180.0    /* 2.5 in at most */
#define MESSAGE_FONT       "DejaVu Sans, Sans 9"
#define MESSAGE_GAP_POINTS 6.0
#define MAX_MESSAGE_LINES  2

typedef struct
{
  /* Immutable once the job is made: read by the worker thread. */
  PmImpression    *impression;   /* owned */
  cairo_surface_t *graphic;      /* owned, or NULL */
  char            *message;      /* owned, or NULL */
  double           dpi;

  /* Layout, points from the top left of the page. */
  double           impression_x, impression_y;
  double           graphic_x, graphic_y, graphic_scale;
  double           message_x, message_y, message_width;
} Envelope;

static void
envelope_free (gpointer data)
{
  Envelope *envelope = data;

  pm_impression_free (envelope->impression);
  g_clear_pointer (&envelope->graphic, cairo_surface_destroy);
  g_free (envelope->message);
  g_free (envelope);
}

typedef struct
{
  const guint8 *data;
  gsize         left;
} PngReader;

static cairo_status_t
read_png_cb (void          *closure,
             unsigned char *data,
             unsigned int   length)
{
  PngReader *reader = closure;

  if (length > reader->left)
    return CAIRO_STATUS_READ_ERROR;
  memcpy (data, reader->data, length);
  reader->data += length;
  reader->left -= length;

  return CAIRO_STATUS_SUCCESS;
}

static cairo_surface_t *
decode_graphic (GBytes  *png,
                GError **error)
{
  PngReader reader;
  cairo_surface_t *surface;

  reader.data = g_bytes_get_data (png, &reader.left);
  surface = cairo_image_surface_create_from_png_stream (read_png_cb, &reader);
  if (cairo_surface_status (surface) != CAIRO_STATUS_SUCCESS
      || cairo_image_surface_get_width (surface) == 0
      || cairo_image_surface_get_height (surface) == 0)
    {
      g_set_error (error, PM_PRINT_DOCUMENT_ERROR, PM_PRINT_DOCUMENT_ERROR_BAD_GRAPHIC,
                   "The envelope graphic is not a readable PNG image (%s). Choose "
                   "another graphic in Settings",
                   cairo_status_to_string (cairo_surface_status (surface)));
      cairo_surface_destroy (surface);
      return NULL;
    }

  return surface;
}

static gboolean
check_message (const char  *message,
               GError     **error)
{
  g_auto(GStrv) lines = NULL;
  guint n_lines;

  if (!g_utf8_validate (message, -1, NULL))
    {
      g_set_error (error, PM_PRINT_DOCUMENT_ERROR, PM_PRINT_DOCUMENT_ERROR_BAD_MESSAGE,
                   "The envelope message is not valid text");
      return FALSE;
    }

  for (const char *p = message; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c != '\n' && g_unichar_iscntrl (c))
        {
          g_set_error (error, PM_PRINT_DOCUMENT_ERROR, PM_PRINT_DOCUMENT_ERROR_BAD_MESSAGE,
                       "The envelope message holds a control character; use only "
                       "letters, digits, punctuation and line breaks");
          return FALSE;
        }
    }

  lines = g_strsplit (message, "\n", -1);
  n_lines = g_strv_length (lines);
  if (n_lines > MAX_MESSAGE_LINES)
    {
      g_set_error (error, PM_PRINT_DOCUMENT_ERROR, PM_PRINT_DOCUMENT_ERROR_BAD_MESSAGE,
                   "The envelope message has %u lines; at most %d fit under the "
                   "impression", n_lines, MAX_MESSAGE_LINES);
      return FALSE;
    }

  for (guint i = 0; i < n_lines; i++)
    {
      glong chars = g_utf8_strlen (lines[i], -1);

      if (chars > PM_ENVELOPE_MAX_MESSAGE_CHARS)
        {
          g_set_error (error, PM_PRINT_DOCUMENT_ERROR, PM_PRINT_DOCUMENT_ERROR_BAD_MESSAGE,
                       "Line %u of the envelope message has %ld characters; at most %d "
                       "fit", i + 1, chars, PM_ENVELOPE_MAX_MESSAGE_CHARS);
          return FALSE;
        }
    }

  return TRUE;
}

/* Rounds a position in points down to a whole dot at dpi. */
static double
snap_to_dot (double points,
             double dpi)
{
  return floor (points * dpi / 72.0) * 72.0 / dpi;
}

static gboolean
envelope_layout (Envelope *envelope,
                 double    page_width,
                 double    page_height,
                 GError  **error)
{
  double width_in, height_in, impression_w, impression_h;
  double block_left, block_bottom;

  pm_impression_get_size (envelope->impression, &width_in, &height_in);
  impression_w = width_in * 72.0;
  impression_h = height_in * 72.0;

  if (impression_w + 2 * MARGIN_POINTS > page_width
      || impression_h + 2 * MARGIN_POINTS > page_height)
    {
      g_set_error (error, PM_PRINT_DOCUMENT_ERROR, PM_PRINT_DOCUMENT_ERROR_DOES_NOT_FIT,
                   "The impression (%.2f x %.2f in) does not fit on a %.2f x %.2f in "
                   "page", width_in, height_in, page_width / 72.0, page_height / 72.0);
      return FALSE;
    }

  envelope->impression_x = snap_to_dot (page_width - MARGIN_POINTS - impression_w,
                                        envelope->dpi);
  envelope->impression_y = snap_to_dot (MARGIN_POINTS, envelope->dpi);
  block_left = envelope->impression_x;
  block_bottom = envelope->impression_y + impression_h;

  if (envelope->graphic != NULL)
    {
      double gw = cairo_image_surface_get_width (envelope->graphic);
      double gh = cairo_image_surface_get_height (envelope->graphic);
      double room = envelope->impression_x - GAP_POINTS - MARGIN_POINTS;
      double scale = MIN (impression_h / gh, MIN (GRAPHIC_MAX_POINTS, room) / gw);

      if (room <= 0 || scale <= 0)
        {
          g_set_error (error, PM_PRINT_DOCUMENT_ERROR,
                       PM_PRINT_DOCUMENT_ERROR_DOES_NOT_FIT,
                       "There is no room for the graphic beside the impression on this "
                       "page");
          return FALSE;
        }
      envelope->graphic_scale = scale;
      envelope->graphic_x = envelope->impression_x - GAP_POINTS - gw * scale;
      envelope->graphic_y = envelope->impression_y + (impression_h - gh * scale) / 2;
      block_left = envelope->graphic_x;
    }

  envelope->message_x = block_left;
  envelope->message_y = block_bottom + MESSAGE_GAP_POINTS;
  envelope->message_width = envelope->impression_x + impression_w - block_left;

  return TRUE;
}

static gboolean
envelope_paint (cairo_t  *cr,
                gpointer  user_data,
                GError  **error)
{
  Envelope *envelope = user_data;

  if (envelope->graphic != NULL)
    {
      cairo_save (cr);
      cairo_translate (cr, envelope->graphic_x, envelope->graphic_y);
      cairo_scale (cr, envelope->graphic_scale, envelope->graphic_scale);
      cairo_set_source_surface (cr, envelope->graphic, 0, 0);
      cairo_paint (cr);
      cairo_restore (cr);
    }

  cairo_save (cr);
  cairo_translate (cr, envelope->impression_x, envelope->impression_y);
  cairo_scale (cr, 72.0 / envelope->dpi, 72.0 / envelope->dpi);
  pm_impression_draw (envelope->impression, cr, envelope->dpi);
  cairo_restore (cr);

  if (envelope->message != NULL)
    {
      g_autoptr(PangoLayout) layout = pango_cairo_create_layout (cr);
      PangoFontDescription *font = pango_font_description_from_string (MESSAGE_FONT);

      pango_layout_set_font_description (layout, font);
      pango_font_description_free (font);
      pango_layout_set_width (layout, (int) (envelope->message_width * PANGO_SCALE));
      pango_layout_set_alignment (layout, PANGO_ALIGN_CENTER);
      pango_layout_set_text (layout, envelope->message, -1);

      cairo_save (cr);
      cairo_set_source_rgb (cr, 0, 0, 0);
      cairo_move_to (cr, envelope->message_x, envelope->message_y);
      pango_cairo_show_layout (cr, layout);
      cairo_restore (cr);
    }

  if (cairo_status (cr) != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, PM_PRINT_DOCUMENT_ERROR, PM_PRINT_DOCUMENT_ERROR_FORMAT,
                   "Drawing the envelope failed: %s",
                   cairo_status_to_string (cairo_status (cr)));
      return FALSE;
    }

  return TRUE;
}

PmPrintJob *
pm_print_job_new_envelope (const char              *id,
                           const char              *piece_id,
                           PmImpression            *impression,
                           const PmEnvelopeOptions *options,
                           PmPrintFormat            format,
                           GError                 **error)
{
  Envelope *envelope;
  PmPrintJob *job;
  double width = PM_ENVELOPE_10_WIDTH_POINTS;
  double height = PM_ENVELOPE_10_HEIGHT_POINTS;
  const char *title;

  g_return_val_if_fail (id != NULL, NULL);
  g_return_val_if_fail (impression != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  envelope = g_new0 (Envelope, 1);
  envelope->impression = impression;
  envelope->dpi = DEFAULT_DPI;

  if (format != PM_PRINT_FORMAT_PDF && format != PM_PRINT_FORMAT_PNG)
    {
      g_set_error (error, PM_PRINT_DOCUMENT_ERROR, PM_PRINT_DOCUMENT_ERROR_FORMAT,
                   "Envelopes are printed as PDF or PNG, not %s",
                   pm_print_format_to_string (format));
      envelope_free (envelope);
      return NULL;
    }

  if (options != NULL)
    {
      if (options->width_points > 0 && options->height_points > 0)
        {
          width = options->width_points;
          height = options->height_points;
        }
      if (options->dpi > 0)
        envelope->dpi = options->dpi;
      if (options->graphic_png != NULL)
        {
          envelope->graphic = decode_graphic (options->graphic_png, error);
          if (envelope->graphic == NULL)
            {
              envelope_free (envelope);
              return NULL;
            }
        }
      if (options->message != NULL && *options->message != '\0')
        {
          if (!check_message (options->message, error))
            {
              envelope_free (envelope);
              return NULL;
            }
          envelope->message = g_strdup (options->message);
        }
    }

  if (!envelope_layout (envelope, width, height, error))
    {
      envelope_free (envelope);
      return NULL;
    }

  switch (pm_impression_get_kind (impression))
    {
    case PM_IMPRESSION_DATE_STAMP: title = "Date stamp"; break;
    case PM_IMPRESSION_REDATE: title = "Re-date"; break;
    case PM_IMPRESSION_POSTAGE:
    default: title = "Postage"; break;
    }

  job = pm_print_job_new (id, PM_PRINT_KIND_ENVELOPE, format, title, piece_id, NULL);
  pm_print_job_set_page_painter (job, width, height, envelope_paint, envelope,
                                 envelope_free);
  pm_print_job_set_resolution (job, envelope->dpi);
  return job;
}

static gboolean
label_paint (cairo_t  *cr,
             gpointer  user_data,
             GError  **error)
{
  return pm_label_draw (user_data, cr, error);
}

PmPrintJob *
pm_print_job_new_label (const char     *id,
                        const char     *piece_id,
                        PmLabel        *label,
                        PmPrintFormat   format,
                        GError        **error)
{
  g_autoptr(GBytes) data = NULL;
  PmPrintJob *job;

  g_return_val_if_fail (id != NULL, NULL);
  g_return_val_if_fail (label != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  switch (format)
    {
    case PM_PRINT_FORMAT_ZPL:
      data = pm_label_to_zpl (label, error);
      break;
    case PM_PRINT_FORMAT_EPL:
      data = pm_label_to_epl (label, error);
      break;
    case PM_PRINT_FORMAT_PDF:
    case PM_PRINT_FORMAT_PNG:
      /* Drawn on the worker; check the fields now so a bad address fails here. */
      if (!pm_label_validate (label, error))
        return NULL;
      break;
    case PM_PRINT_FORMAT_RAW:
    default:
      g_set_error (error, PM_PRINT_DOCUMENT_ERROR, PM_PRINT_DOCUMENT_ERROR_FORMAT,
                   "Labels are printed as ZPL, EPL, PDF or PNG, not %s",
                   pm_print_format_to_string (format));
      return NULL;
    }

  if ((format == PM_PRINT_FORMAT_ZPL || format == PM_PRINT_FORMAT_EPL) && data == NULL)
    return NULL;

  job = pm_print_job_new (id, PM_PRINT_KIND_LABEL, format, "Shipping label", piece_id,
                          data);
  pm_print_job_set_page_painter (job, PM_LABEL_WIDTH_POINTS, PM_LABEL_HEIGHT_POINTS,
                                 label_paint, pm_label_ref (label),
                                 (GDestroyNotify) pm_label_unref);
  pm_print_job_set_resolution (job, PM_LABEL_DPI);
  return job;
}
