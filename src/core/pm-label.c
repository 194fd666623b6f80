/* pm-label.c: the 4 x 6 inch shipping label
 *
 * One layout, in dots at 203 dpi (812 x 1218), drives all three outputs so the ZPL, EPL and
 * PDF labels put every element in the same place:
 *
 *   sender         top left, up to 5 lines
 *   indicium       top right, a 232 x 232 dot box
 *   service banner between two rules, centred
 *   recipient      "SHIP TO:" and up to 6 lines
 *   IMpb           heavy rule, "USPS TRACKING #", GS1-128 bars, the number in groups of four,
 *                  heavy rule
 *
 * The barcode is encoded by libzint and drawn as plain bars (ZPL ^GB, EPL LO, cairo
 * rectangles) rather than with the printer's own barcode command, so every printer and the
 * PDF show exactly the same symbol.
 */
#include "pm-label.h"

#include <cairo-pdf.h>
#include <pango/pangocairo.h>
#include <string.h>
#include <zint.h>

#include "pm-tracking.h"

/* Layout, in dots. */
#define SENDER_X            20
#define SENDER_Y            20
#define SENDER_STEP         28
#define SENDER_FONT         24
#define INDICIUM_X          560
#define INDICIUM_Y          20
#define INDICIUM_SIZE       232
#define BANNER_RULE1_Y      272
#define BANNER_Y            292
#define BANNER_FONT         56
#define BANNER_RULE2_Y      368
#define RULE_THIN           4
#define SHIP_TO_X           30
#define SHIP_TO_Y           470
#define SHIP_TO_FONT        24
#define RECIPIENT_X         110
#define RECIPIENT_Y         520
#define RECIPIENT_STEP      42
#define RECIPIENT_FONT      32
#define IMPB_RULE1_Y        810
#define RULE_HEAVY          12
#define IMPB_CAPTION_Y      836
#define IMPB_CAPTION_FONT   26
#define IMPB_BARS_Y         876
#define IMPB_BARS_HEIGHT    140
#define IMPB_NUMBER_Y       1028
#define IMPB_NUMBER_FONT    30
#define IMPB_RULE2_Y        1070
/* GS1-128 asks for a quiet zone of ten modules on each side. */
#define QUIET_MODULES       10

/* EPL2 resident font 4 is 14 x 24 dots at 203 dpi. */
#define EPL_FONT4_WIDTH     14

struct _PmLabel
{
  char           **sender;           /* owned */
  char           **recipient;        /* owned */
  char            *banner;           /* owned */
  char            *zip;              /* owned, as given */
  char            *tracking;         /* owned, as given */
  cairo_surface_t *indicium;         /* owned reference, may be NULL */
};

G_DEFINE_QUARK (pm-label-error-quark, pm_label_error)

static void
pm_label_clear (gpointer data)
{
  PmLabel *label = data;

  g_clear_pointer (&label->sender, g_strfreev);
  g_clear_pointer (&label->recipient, g_strfreev);
  g_clear_pointer (&label->banner, g_free);
  g_clear_pointer (&label->zip, g_free);
  g_clear_pointer (&label->tracking, g_free);
  g_clear_pointer (&label->indicium, cairo_surface_destroy);
}

PmLabel *
pm_label_new (void)
{
  return g_atomic_rc_box_new0 (PmLabel);
}

PmLabel *
pm_label_ref (PmLabel *label)
{
  g_return_val_if_fail (label != NULL, NULL);

  return g_atomic_rc_box_acquire (label);
}

void
pm_label_unref (PmLabel *label)
{
  g_return_if_fail (label != NULL);

  g_atomic_rc_box_release_full (label, pm_label_clear);
}

void
pm_label_set_sender (PmLabel            *label,
                     const char * const *lines)
{
  g_return_if_fail (label != NULL);

  g_strfreev (label->sender);
  label->sender = g_strdupv ((char **) lines);
}

void
pm_label_set_recipient (PmLabel            *label,
                        const char * const *lines)
{
  g_return_if_fail (label != NULL);

  g_strfreev (label->recipient);
  label->recipient = g_strdupv ((char **) lines);
}

void
pm_label_set_service_banner (PmLabel    *label,
                             const char *banner)
{
  g_return_if_fail (label != NULL);

  g_free (label->banner);
  label->banner = g_strdup (banner);
}

void
pm_label_set_tracking (PmLabel    *label,
                       const char *destination_zip,
                       const char *tracking_number)
{
  g_return_if_fail (label != NULL);

  g_free (label->zip);
  g_free (label->tracking);
  label->zip = g_strdup (destination_zip);
  label->tracking = g_strdup (tracking_number);
}

void
pm_label_set_indicium (PmLabel         *label,
                       cairo_surface_t *image)
{
  g_return_if_fail (label != NULL);

  g_clear_pointer (&label->indicium, cairo_surface_destroy);
  if (image != NULL)
    label->indicium = cairo_surface_reference (image);
}

/* Text checks */

static gboolean
is_forbidden_char (gunichar c)
{
  /* Control characters (C0, DEL, C1) and the Unicode line and paragraph separators would
   * move the print position or be taken as commands by some printers. */
  return g_unichar_type (c) == G_UNICODE_CONTROL ||
         c == 0x2028 || c == 0x2029;
}

static gboolean
check_text (const char *text,
            GError    **error)
{
  const char *p;

  if (!g_utf8_validate (text, -1, NULL))
    {
      g_set_error (error, PM_LABEL_ERROR, PM_LABEL_ERROR_INVALID_TEXT,
                   "The text is not valid UTF-8; retype it from the keyboard");
      return FALSE;
    }

  for (p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (is_forbidden_char (c))
        {
          g_set_error (error, PM_LABEL_ERROR, PM_LABEL_ERROR_INVALID_TEXT,
                       "“%s” contains an invisible control character (U+%04X); "
                       "retype the line without it",
                       text, c);
          return FALSE;
        }
    }

  return TRUE;
}

/* Returns the line without trailing spaces, the form that is printed and counted. */
static char *
trim_trailing (const char *line)
{
  gsize len = strlen (line);

  while (len > 0 && line[len - 1] == ' ')
    len--;

  return g_strndup (line, len);
}

gboolean
pm_label_check_line (const char *line,
                     guint       max_chars,
                     GError    **error)
{
  g_autofree char *trimmed = NULL;
  glong chars;

  g_return_val_if_fail (line != NULL, FALSE);

  if (!check_text (line, error))
    return FALSE;

  trimmed = trim_trailing (line);
  chars = g_utf8_strlen (trimmed, -1);
  if (chars > (glong) max_chars)
    {
      g_set_error (error, PM_LABEL_ERROR, PM_LABEL_ERROR_LINE_TOO_LONG,
                   "“%s” has %ld characters; a label line holds at most %u. "
                   "Shorten it or split it over two lines",
                   trimmed, chars, max_chars);
      return FALSE;
    }

  return TRUE;
}

char *
pm_label_zpl_escape (const char *text,
                     GError    **error)
{
  g_autoptr(GString) out = NULL;
  const char *p;

  g_return_val_if_fail (text != NULL, NULL);

  if (!check_text (text, error))
    return NULL;

  /* The field is sent after ^FH_: "_" followed by two hex digits stands for that byte.
   * ^ and ~ would otherwise end the field or run a command (~ even inside field data), the
   * escape character must escape itself, and a backslash is escaped so no printer reads it
   * as a ^FB line-break sequence. */
  out = g_string_sized_new (strlen (text) + 8);
  for (p = text; *p != '\0'; p++)
    {
      switch (*p)
        {
        case '^':
        case '~':
        case '_':
        case '\\':
          g_string_append_printf (out, "_%02X", (guchar) *p);
          break;

        default:
          g_string_append_c (out, *p);
          break;
        }
    }

  return g_string_free (g_steal_pointer (&out), FALSE);
}

char *
pm_label_epl_quote (const char *text,
                    GError    **error)
{
  g_autoptr(GString) out = NULL;
  const char *p;

  g_return_val_if_fail (text != NULL, NULL);

  if (!check_text (text, error))
    return NULL;

  out = g_string_sized_new (strlen (text) + 4);
  g_string_append_c (out, '"');
  for (p = text; *p != '\0'; p++)
    {
      if ((guchar) *p >= 0x80)
        {
          /* EPL's resident fonts use an 8-bit code page, not UTF-8: a character outside
           * ASCII would print as something else. */
          g_set_error (error, PM_LABEL_ERROR, PM_LABEL_ERROR_NOT_REPRESENTABLE,
                       "“%s” has a character an EPL label printer cannot print; "
                       "use plain letters (A-Z) or print the label as ZPL or PDF",
                       text);
          return NULL;
        }
      if (*p == '"' || *p == '\\')
        g_string_append_c (out, '\\');
      g_string_append_c (out, *p);
    }
  g_string_append_c (out, '"');

  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* ZIP and tracking number */

static char *
normalize_zip (const char *zip,
               GError    **error)
{
  g_autoptr(GString) digits = g_string_new (NULL);
  const char *p;

  for (p = zip != NULL ? zip : ""; *p != '\0'; p++)
    {
      if (g_ascii_isdigit (*p))
        g_string_append_c (digits, *p);
      else if (!(*p == '-' && digits->len == 5))
        break;
    }

  if (zip == NULL || *p != '\0' || (digits->len != 5 && digits->len != 9))
    {
      g_set_error (error, PM_LABEL_ERROR, PM_LABEL_ERROR_BAD_ZIP,
                   "“%s” is not a destination ZIP Code; give 5 digits or ZIP+4 "
                   "(12345 or 12345-6789)",
                   zip != NULL ? zip : "");
      return NULL;
    }

  return g_string_free (g_steal_pointer (&digits), FALSE);
}

/* The tracking number's digits, checked by pm-tracking (one copy of the check-digit rules
 * for the whole program). A 420 + ZIP prefix typed with the number is dropped: the label
 * prints its own routing ZIP. */
static char *
normalize_tracking (const char *tracking,
                    GError    **error)
{
  PmTracking parsed;
  g_autoptr (GError) local_error = NULL;

  if (!pm_tracking_validate (PM_TRACKING_KIND_USPS_IMPB, tracking != NULL ? tracking : "",
                             &parsed, &local_error))
    {
      g_set_error_literal (error, PM_LABEL_ERROR, PM_LABEL_ERROR_BAD_TRACKING_NUMBER,
                           local_error->message);
      return NULL;
    }
  return g_strdup (parsed.number);
}

char *
pm_label_format_tracking (const char *tracking_number)
{
  g_autoptr(GString) out = g_string_new (NULL);
  guint n = 0;
  const char *p;

  g_return_val_if_fail (tracking_number != NULL, NULL);

  for (p = tracking_number; *p != '\0'; p++)
    {
      if (*p == ' ')
        continue;
      if (n > 0 && n % 4 == 0)
        g_string_append_c (out, ' ');
      g_string_append_c (out, *p);
      n++;
    }

  return g_string_free (g_steal_pointer (&out), FALSE);
}

char *
pm_label_impb_data (const char *destination_zip,
                    const char *tracking_number,
                    GError    **error)
{
  g_autofree char *zip = NULL;
  g_autofree char *tracking = NULL;

  zip = normalize_zip (destination_zip, error);
  if (zip == NULL)
    return NULL;
  tracking = normalize_tracking (tracking_number, error);
  if (tracking == NULL)
    return NULL;

  /* The channel code (91 to 95) doubles as a GS1 application identifier, so the encoder
   * puts an FNC1 between the routing ZIP and the package number. */
  return g_strdup_printf ("[420]%s[%.2s]%s", zip, tracking, tracking + 2);
}

GArray *
pm_label_impb_bars (const char *destination_zip,
                    const char *tracking_number,
                    guint      *out_modules,
                    GError    **error)
{
  g_autofree char *data = NULL;
  g_autoptr(GArray) bars = NULL;
  struct zint_symbol *symbol;
  struct zint_vector_rect *rect;
  double unit;
  int status;

  data = pm_label_impb_data (destination_zip, tracking_number, error);
  if (data == NULL)
    return NULL;

  symbol = ZBarcode_Create ();
  if (symbol == NULL)
    {
      g_set_error (error, PM_LABEL_ERROR, PM_LABEL_ERROR_BARCODE,
                   "Out of memory while making the tracking barcode");
      return NULL;
    }
  symbol->symbology = BARCODE_GS1_128;
  symbol->input_mode = GS1_MODE;
  symbol->show_hrt = 0;

  status = ZBarcode_Encode_and_Buffer_Vector (symbol, (const unsigned char *) data,
                                              (int) strlen (data), 0);
  if (status >= ZINT_ERROR || symbol->vector == NULL || symbol->rows != 1 ||
      symbol->width <= 0)
    {
      g_set_error (error, PM_LABEL_ERROR, PM_LABEL_ERROR_BARCODE,
                   "The tracking barcode could not be made from %s: %s",
                   data, symbol->errtxt);
      ZBarcode_Delete (symbol);
      return NULL;
    }

  /* libzint draws its vectors at a fixed number of units per module; bring them back to
   * whole modules so each printer scales them to whole dots. */
  unit = symbol->vector->width / symbol->width;
  bars = g_array_new (FALSE, FALSE, sizeof (PmLabelBar));
  for (rect = symbol->vector->rectangles; rect != NULL; rect = rect->next)
    {
      PmLabelBar bar;

      bar.start = (guint) (rect->x / unit + 0.5);
      bar.width = (guint) (rect->width / unit + 0.5);
      g_array_append_val (bars, bar);
    }
  if (out_modules != NULL)
    *out_modules = (guint) symbol->width;

  ZBarcode_Delete (symbol);

  return g_steal_pointer (&bars);
}

/* Whole-label validation */

static gboolean
check_lines (char      **lines,
             guint       max_lines,
             const char *what,
             GError    **error)
{
  guint n = lines != NULL ? g_strv_length (lines) : 0;
  guint i;
  gboolean any = FALSE;

  if (n > max_lines)
    {
      g_set_error (error, PM_LABEL_ERROR, PM_LABEL_ERROR_TOO_MANY_LINES,
                   "The %s address has %u lines; a label holds at most %u. "
                   "Join or drop lines",
                   what, n, max_lines);
      return FALSE;
    }

  for (i = 0; i < n; i++)
    {
      g_autoptr(GError) local_error = NULL;

      if (!pm_label_check_line (lines[i], PM_LABEL_MAX_LINE_CHARS, &local_error))
        {
          g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                      "The %s address, line %u: ", what, i + 1);
          return FALSE;
        }
      if (lines[i][strspn (lines[i], " ")] != '\0')
        any = TRUE;
    }

  if (!any)
    {
      g_set_error (error, PM_LABEL_ERROR, PM_LABEL_ERROR_MISSING_FIELD,
                   "The %s address is empty; fill it in before printing", what);
      return FALSE;
    }

  return TRUE;
}

gboolean
pm_label_validate (const PmLabel *label,
                   GError       **error)
{
  g_autofree char *data = NULL;

  g_return_val_if_fail (label != NULL, FALSE);

  if (!check_lines (label->sender, PM_LABEL_MAX_SENDER_LINES, "sender", error))
    return FALSE;
  if (!check_lines (label->recipient, PM_LABEL_MAX_RECIPIENT_LINES, "recipient", error))
    return FALSE;

  if (label->banner == NULL || label->banner[0] == '\0')
    {
      g_set_error (error, PM_LABEL_ERROR, PM_LABEL_ERROR_MISSING_FIELD,
                   "The label has no service banner; pick the mail class first");
      return FALSE;
    }
  if (!pm_label_check_line (label->banner, PM_LABEL_MAX_BANNER_CHARS, error))
    return FALSE;

  data = pm_label_impb_data (label->zip, label->tracking, error);
  if (data == NULL)
    return FALSE;

  if (label->indicium != NULL &&
      cairo_surface_status (label->indicium) != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, PM_LABEL_ERROR, PM_LABEL_ERROR_IMAGE,
                   "The indicium image is damaged (%s); print the postage again",
                   cairo_status_to_string (cairo_surface_status (label->indicium)));
      return FALSE;
    }

  return TRUE;
}

/* The indicium as a 1-bit bitmap for the thermal printers. Rows are packed MSB first;
 * a set bit is a black dot. */
typedef struct
{
  guint   width;
  guint   height;
  guint   stride;   /* bytes per row */
  guint8 *bits;
} Bitmap;

static void
bitmap_clear (Bitmap *bitmap)
{
  g_clear_pointer (&bitmap->bits, g_free);
}

static gboolean
indicium_bitmap (const PmLabel *label,
                 Bitmap        *out,
                 GError       **error)
{
  cairo_surface_t *surface;
  cairo_t *cr;
  cairo_pattern_t *pattern;
  double src_w, src_h, scale;
  const guint8 *pixels;
  int stride;
  guint x, y;

  src_w = cairo_image_surface_get_width (label->indicium);
  src_h = cairo_image_surface_get_height (label->indicium);
  if (src_w <= 0 || src_h <= 0)
    {
      g_set_error (error, PM_LABEL_ERROR, PM_LABEL_ERROR_IMAGE,
                   "The indicium is not an image; print the postage again");
      return FALSE;
    }

  /* Fit the impression into the box, keeping its proportions. Nearest-neighbour keeps the
   * Data Matrix modules square and sharp. */
  scale = MIN (INDICIUM_SIZE / src_w, INDICIUM_SIZE / src_h);
  surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, INDICIUM_SIZE, INDICIUM_SIZE);
  cr = cairo_create (surface);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  cairo_scale (cr, scale, scale);
  cairo_set_source_surface (cr, label->indicium, 0, 0);
  pattern = cairo_get_source (cr);
  cairo_pattern_set_filter (pattern, CAIRO_FILTER_NEAREST);
  cairo_paint (cr);
  cairo_destroy (cr);
  cairo_surface_flush (surface);

  out->width = INDICIUM_SIZE;
  out->height = INDICIUM_SIZE;
  out->stride = (INDICIUM_SIZE + 7) / 8;
  out->bits = g_malloc0 ((gsize) out->stride * out->height);

  pixels = cairo_image_surface_get_data (surface);
  stride = cairo_image_surface_get_stride (surface);
  for (y = 0; y < out->height; y++)
    {
      const guint32 *row = (const guint32 *) (gconstpointer) (pixels + (gsize) y * stride);

      for (x = 0; x < out->width; x++)
        {
          guint32 p = row[x];
          guint lum = (((p >> 16) & 0xff) * 299 + ((p >> 8) & 0xff) * 587 +
                       (p & 0xff) * 114) / 1000;

          if (lum < 128)
            out->bits[y * out->stride + x / 8] |= (guint8) (0x80 >> (x % 8));
        }
    }

  cairo_surface_destroy (surface);

  return TRUE;
}

static guint
barcode_module_dots (guint modules)
{
  /* Three dots per module when the symbol and its quiet zones fit the label, else two. */
  if ((modules + 2 * QUIET_MODULES) * 3 <= PM_LABEL_WIDTH_DOTS)
    return 3;
  return 2;
}

/* ZPL */

static gboolean
zpl_text (GString    *out,
          int         x,
          int         y,
          int         size,
          int         block_width,
          const char *text,
          GError    **error)
{
  g_autofree char *trimmed = trim_trailing (text);
  g_autofree char *escaped = pm_label_zpl_escape (trimmed, error);

  if (escaped == NULL)
    return FALSE;

  g_string_append_printf (out, "^FO%d,%d^A0N,%d,%d", x, y, size, size);
  if (block_width > 0)
    g_string_append_printf (out, "^FB%d,1,0,C", block_width);
  g_string_append_printf (out, "^FH_^FD%s^FS\n", escaped);

  return TRUE;
}

GBytes *
pm_label_to_zpl (const PmLabel *label,
                 GError       **error)
{
  g_autoptr(GString) out = NULL;
  g_autoptr(GArray) bars = NULL;
  g_autofree char *zip = NULL;
  g_autofree char *tracking = NULL;
  g_autofree char *grouped = NULL;
  guint modules = 0, module, x0, i;

  g_return_val_if_fail (label != NULL, NULL);

  if (!pm_label_validate (label, error))
    return NULL;

  zip = normalize_zip (label->zip, NULL);
  tracking = normalize_tracking (label->tracking, NULL);
  bars = pm_label_impb_bars (zip, tracking, &modules, error);
  if (bars == NULL)
    return NULL;

  out = g_string_new (NULL);
  g_string_append (out,
                   "^XA\n"
                   "^FXPostmeter shipping label, 812 x 1218 dots^FS\n"
                   "^CI28\n"
                   "^PW812^LL1218^LH0,0\n");

  for (i = 0; label->sender[i] != NULL; i++)
    if (!zpl_text (out, SENDER_X, SENDER_Y + (int) i * SENDER_STEP, SENDER_FONT, 0,
                   label->sender[i], error))
      return NULL;

  if (label->indicium != NULL)
    {
      Bitmap bitmap = { 0 };
      gsize total;

      if (!indicium_bitmap (label, &bitmap, error))
        return NULL;
      total = (gsize) bitmap.stride * bitmap.height;
      g_string_append_printf (out, "^FO%d,%d^GFA,%" G_GSIZE_FORMAT ",%" G_GSIZE_FORMAT
                              ",%u,", INDICIUM_X, INDICIUM_Y, total, total, bitmap.stride);
      for (i = 0; i < total; i++)
        g_string_append_printf (out, "%02X", bitmap.bits[i]);
      g_string_append (out, "^FS\n");
      bitmap_clear (&bitmap);
    }

  g_string_append_printf (out, "^FO0,%d^GB812,%d,%d^FS\n", BANNER_RULE1_Y, RULE_THIN,
                          RULE_THIN);
  if (!zpl_text (out, 0, BANNER_Y, BANNER_FONT, PM_LABEL_WIDTH_DOTS, label->banner, error))
    return NULL;
  g_string_append_printf (out, "^FO0,%d^GB812,%d,%d^FS\n", BANNER_RULE2_Y, RULE_THIN,
                          RULE_THIN);

  if (!zpl_text (out, SHIP_TO_X, SHIP_TO_Y, SHIP_TO_FONT, 0, "SHIP TO:", error))
    return NULL;
  for (i = 0; label->recipient[i] != NULL; i++)
    if (!zpl_text (out, RECIPIENT_X, RECIPIENT_Y + (int) i * RECIPIENT_STEP,
                   RECIPIENT_FONT, 0, label->recipient[i], error))
      return NULL;

  g_string_append_printf (out, "^FO0,%d^GB812,%d,%d^FS\n", IMPB_RULE1_Y, RULE_HEAVY,
                          RULE_HEAVY);
  if (!zpl_text (out, 0, IMPB_CAPTION_Y, IMPB_CAPTION_FONT, PM_LABEL_WIDTH_DOTS,
                 "USPS TRACKING # ", error))
    return NULL;

  module = barcode_module_dots (modules);
  x0 = (PM_LABEL_WIDTH_DOTS - modules * module) / 2;
  for (i = 0; i < bars->len; i++)
    {
      const PmLabelBar *bar = &g_array_index (bars, PmLabelBar, i);
      guint w = bar->width * module;

      /* A box as wide as its border is a solid bar. */
      g_string_append_printf (out, "^FO%u,%d^GB%u,%d,%u^FS\n", x0 + bar->start * module,
                              IMPB_BARS_Y, w, IMPB_BARS_HEIGHT, w);
    }

  grouped = pm_label_format_tracking (tracking);
  if (!zpl_text (out, 0, IMPB_NUMBER_Y, IMPB_NUMBER_FONT, PM_LABEL_WIDTH_DOTS, grouped,
                 error))
    return NULL;
  g_string_append_printf (out, "^FO0,%d^GB812,%d,%d^FS\n", IMPB_RULE2_Y, RULE_HEAVY,
                          RULE_HEAVY);
  g_string_append (out, "^XZ\n");

  return g_string_free_to_bytes (g_steal_pointer (&out));
}

/* EPL2 */

static gboolean
epl_text (GString    *out,
          int         x,
          int         y,
          int         mult,
          gboolean    centred,
          const char *text,
          GError    **error)
{
  g_autofree char *trimmed = trim_trailing (text);
  g_autofree char *quoted = pm_label_epl_quote (trimmed, error);

  if (quoted == NULL)
    return FALSE;

  if (centred)
    {
      int width = (int) strlen (trimmed) * EPL_FONT4_WIDTH * mult;

      x = MAX (0, (PM_LABEL_WIDTH_DOTS - width) / 2);
    }

  /* Font 4, no rotation, normal (not reverse) print. */
  g_string_append_printf (out, "A%d,%d,0,4,%d,%d,N,%s\n", x, y, mult, mult, quoted);

  return TRUE;
}

GBytes *
pm_label_to_epl (const PmLabel *label,
                 GError       **error)
{
  g_autoptr(GString) out = NULL;
  g_autoptr(GArray) bars = NULL;
  g_autofree char *zip = NULL;
  g_autofree char *tracking = NULL;
  g_autofree char *grouped = NULL;
  guint modules = 0, module, x0, i;

  g_return_val_if_fail (label != NULL, NULL);

  if (!pm_label_validate (label, error))
    return NULL;

  zip = normalize_zip (label->zip, NULL);
  tracking = normalize_tracking (label->tracking, NULL);
  bars = pm_label_impb_bars (zip, tracking, &modules, error);
  if (bars == NULL)
    return NULL;

  /* The leading empty line flushes any partial command left in the printer. */
  out = g_string_new ("\nN\nq812\nQ1218,24\n");

  for (i = 0; label->sender[i] != NULL; i++)
    if (!epl_text (out, SENDER_X, SENDER_Y + (int) i * SENDER_STEP, 1, FALSE,
                   label->sender[i], error))
      return NULL;

  if (label->indicium != NULL)
    {
      Bitmap bitmap = { 0 };
      gsize total;
      gsize j;

      if (!indicium_bitmap (label, &bitmap, error))
        return NULL;
      total = (gsize) bitmap.stride * bitmap.height;
      g_string_append_printf (out, "GW%d,%d,%u,%u,", INDICIUM_X, INDICIUM_Y,
                              bitmap.stride, bitmap.height);
      /* EPL graphics are binary and inverted: a 0 bit prints a black dot. */
      for (j = 0; j < total; j++)
        g_string_append_c (out, (char) (guint8) ~bitmap.bits[j]);
      g_string_append_c (out, '\n');
      bitmap_clear (&bitmap);
    }

  g_string_append_printf (out, "LO0,%d,812,%d\n", BANNER_RULE1_Y, RULE_THIN);
  if (!epl_text (out, 0, BANNER_Y + 8, 2, TRUE, label->banner, error))
    return NULL;
  g_string_append_printf (out, "LO0,%d,812,%d\n", BANNER_RULE2_Y, RULE_THIN);

  if (!epl_text (out, SHIP_TO_X, SHIP_TO_Y, 1, FALSE, "SHIP TO:", error))
    return NULL;
  for (i = 0; label->recipient[i] != NULL; i++)
    if (!epl_text (out, RECIPIENT_X, RECIPIENT_Y + (int) i * RECIPIENT_STEP, 1, FALSE,
                   label->recipient[i], error))
      return NULL;

  g_string_append_printf (out, "LO0,%d,812,%d\n", IMPB_RULE1_Y, RULE_HEAVY);
  if (!epl_text (out, 0, IMPB_CAPTION_Y, 1, TRUE, "USPS TRACKING #", error))
    return NULL;

  module = barcode_module_dots (modules);
  x0 = (PM_LABEL_WIDTH_DOTS - modules * module) / 2;
  for (i = 0; i < bars->len; i++)
    {
      const PmLabelBar *bar = &g_array_index (bars, PmLabelBar, i);

      g_string_append_printf (out, "LO%u,%d,%u,%d\n", x0 + bar->start * module,
                              IMPB_BARS_Y, bar->width * module, IMPB_BARS_HEIGHT);
    }

  grouped = pm_label_format_tracking (tracking);
  if (!epl_text (out, 0, IMPB_NUMBER_Y, 1, TRUE, grouped, error))
    return NULL;
  g_string_append_printf (out, "LO0,%d,812,%d\n", IMPB_RULE2_Y, RULE_HEAVY);
  g_string_append (out, "P1\n");

  return g_string_free_to_bytes (g_steal_pointer (&out));
}

/* Cairo */

static void
draw_text (cairo_t    *cr,
           int         x,
           int         y,
           int         size,
           gboolean    bold,
           int         centre_width,
           const char *text)
{
  g_autoptr(PangoLayout) layout = pango_cairo_create_layout (cr);
  g_autoptr(PangoFontDescription) font = pango_font_description_new ();
  g_autofree char *trimmed = trim_trailing (text);

  pango_font_description_set_family (font, "DejaVu Sans,Sans");
  pango_font_description_set_weight (font, bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
  /* Sizes are cap-to-descender heights in dots, like ZPL's ^A0 height. */
  pango_font_description_set_absolute_size (font, size * 0.8 * PANGO_SCALE);
  pango_layout_set_font_description (layout, font);
  pango_layout_set_text (layout, trimmed, -1);
  if (centre_width > 0)
    {
      pango_layout_set_width (layout, centre_width * PANGO_SCALE);
      pango_layout_set_alignment (layout, PANGO_ALIGN_CENTER);
    }

  cairo_move_to (cr, x, y);
  pango_cairo_show_layout (cr, layout);
}

gboolean
pm_label_draw (const PmLabel *label,
               cairo_t       *cr,
               GError       **error)
{
  g_autoptr(GArray) bars = NULL;
  g_autofree char *zip = NULL;
  g_autofree char *tracking = NULL;
  g_autofree char *grouped = NULL;
  guint modules = 0, module, x0, i;

  g_return_val_if_fail (label != NULL, FALSE);
  g_return_val_if_fail (cr != NULL, FALSE);

  if (!pm_label_validate (label, error))
    return FALSE;

  zip = normalize_zip (label->zip, NULL);
  tracking = normalize_tracking (label->tracking, NULL);
  bars = pm_label_impb_bars (zip, tracking, &modules, error);
  if (bars == NULL)
    return FALSE;

  cairo_save (cr);
  /* Draw in printer dots, so the PDF matches the thermal label dot for dot. */
  cairo_scale (cr, 72.0 / PM_LABEL_DPI, 72.0 / PM_LABEL_DPI);

  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_rectangle (cr, 0, 0, PM_LABEL_WIDTH_DOTS, PM_LABEL_HEIGHT_DOTS);
  cairo_fill (cr);
  cairo_set_source_rgb (cr, 0, 0, 0);

  for (i = 0; label->sender[i] != NULL; i++)
    draw_text (cr, SENDER_X, SENDER_Y + (int) i * SENDER_STEP, SENDER_FONT, FALSE, 0,
               label->sender[i]);

  if (label->indicium != NULL)
    {
      double w = cairo_image_surface_get_width (label->indicium);
      double h = cairo_image_surface_get_height (label->indicium);
      double scale = MIN (INDICIUM_SIZE / w, INDICIUM_SIZE / h);

      cairo_save (cr);
      cairo_translate (cr, INDICIUM_X, INDICIUM_Y);
      cairo_scale (cr, scale, scale);
      cairo_set_source_surface (cr, label->indicium, 0, 0);
      cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_NEAREST);
      cairo_rectangle (cr, 0, 0, w, h);
      cairo_fill (cr);
      cairo_restore (cr);
    }

  cairo_rectangle (cr, 0, BANNER_RULE1_Y, PM_LABEL_WIDTH_DOTS, RULE_THIN);
  cairo_rectangle (cr, 0, BANNER_RULE2_Y, PM_LABEL_WIDTH_DOTS, RULE_THIN);
  cairo_fill (cr);
  draw_text (cr, 0, BANNER_Y, BANNER_FONT, TRUE, PM_LABEL_WIDTH_DOTS, label->banner);

  draw_text (cr, SHIP_TO_X, SHIP_TO_Y, SHIP_TO_FONT, TRUE, 0, "SHIP TO:");
  for (i = 0; label->recipient[i] != NULL; i++)
    draw_text (cr, RECIPIENT_X, RECIPIENT_Y + (int) i * RECIPIENT_STEP, RECIPIENT_FONT,
               FALSE, 0, label->recipient[i]);

  cairo_rectangle (cr, 0, IMPB_RULE1_Y, PM_LABEL_WIDTH_DOTS, RULE_HEAVY);
  cairo_rectangle (cr, 0, IMPB_RULE2_Y, PM_LABEL_WIDTH_DOTS, RULE_HEAVY);
  cairo_fill (cr);
  draw_text (cr, 0, IMPB_CAPTION_Y, IMPB_CAPTION_FONT, TRUE, PM_LABEL_WIDTH_DOTS,
             "USPS TRACKING #");

  module = barcode_module_dots (modules);
  x0 = (PM_LABEL_WIDTH_DOTS - modules * module) / 2;
  for (i = 0; i < bars->len; i++)
    {
      const PmLabelBar *bar = &g_array_index (bars, PmLabelBar, i);

      cairo_rectangle (cr, x0 + bar->start * module, IMPB_BARS_Y, bar->width * module,
                       IMPB_BARS_HEIGHT);
    }
  cairo_fill (cr);

  grouped = pm_label_format_tracking (tracking);
  draw_text (cr, 0, IMPB_NUMBER_Y, IMPB_NUMBER_FONT, TRUE, PM_LABEL_WIDTH_DOTS, grouped);

  cairo_restore (cr);

  if (cairo_status (cr) != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, PM_LABEL_ERROR, PM_LABEL_ERROR_OUTPUT,
                   "Drawing the label failed: %s", cairo_status_to_string (cairo_status (cr)));
      return FALSE;
    }

  return TRUE;
}

static cairo_status_t
append_to_array_cb (void                *closure,
                    const unsigned char *data,
                    unsigned int         length)
{
  g_byte_array_append (closure, data, length);
  return CAIRO_STATUS_SUCCESS;
}

GBytes *
pm_label_to_pdf (const PmLabel *label,
                 GError       **error)
{
  g_autoptr(GByteArray) pdf = g_byte_array_new ();
  cairo_surface_t *surface;
  cairo_t *cr;
  cairo_status_t status;
  gboolean ok;

  g_return_val_if_fail (label != NULL, NULL);

  surface = cairo_pdf_surface_create_for_stream (append_to_array_cb, pdf,
                                                 PM_LABEL_WIDTH_POINTS,
                                                 PM_LABEL_HEIGHT_POINTS);
  cairo_pdf_surface_set_metadata (surface, CAIRO_PDF_METADATA_TITLE, "Shipping label");
  cairo_pdf_surface_set_metadata (surface, CAIRO_PDF_METADATA_CREATOR, "Postmeter");
  cr = cairo_create (surface);
  ok = pm_label_draw (label, cr, error);
  cairo_destroy (cr);
  cairo_surface_finish (surface);
  status = cairo_surface_status (surface);
  cairo_surface_destroy (surface);

  if (!ok)
    return NULL;
  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, PM_LABEL_ERROR, PM_LABEL_ERROR_OUTPUT,
                   "Writing the label PDF failed: %s", cairo_status_to_string (status));
      return NULL;
    }

  return g_byte_array_free_to_bytes (g_steal_pointer (&pdf));
}

GBytes *
pm_label_to_png (const PmLabel *label,
                 GError       **error)
{
  g_autoptr(GByteArray) png = g_byte_array_new ();
  cairo_surface_t *surface;
  cairo_t *cr;
  cairo_status_t status;
  gboolean ok;

  g_return_val_if_fail (label != NULL, NULL);

  /* One pixel per printer dot. */
  surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, PM_LABEL_WIDTH_DOTS,
                                        PM_LABEL_HEIGHT_DOTS);
  cr = cairo_create (surface);
  cairo_scale (cr, PM_LABEL_DPI / 72.0, PM_LABEL_DPI / 72.0);
  ok = pm_label_draw (label, cr, error);
  cairo_destroy (cr);
  status = ok ? cairo_surface_write_to_png_stream (surface, append_to_array_cb, png)
              : CAIRO_STATUS_SUCCESS;
  cairo_surface_destroy (surface);

  if (!ok)
    return NULL;
  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, PM_LABEL_ERROR, PM_LABEL_ERROR_OUTPUT,
                   "Writing the label PNG failed: %s", cairo_status_to_string (status));
      return NULL;
    }

  return g_byte_array_free_to_bytes (g_steal_pointer (&png));
}
