/* pm-label.h: the 4 x 6 inch shipping label, as ZPL II, EPL2 and a cairo drawing
 *
 * A label is sender, recipient, a service banner, the IMpb barcode (GS1-128 with the
 * destination ZIP and the 22-digit tracking number), the tracking number in groups of four,
 * and the indicium area in the upper right. The same layout comes out in three forms: ZPL and
 * EPL for thermal label printers (203 dpi, 812 x 1218 dots) and a cairo drawing for PDF and PNG.
 *
 * Field data is checked before anything is produced: control characters are refused, lines
 * are counted in characters (not bytes) and ZPL field data is hex-escaped (^FH_) so a ^, ~ or _
 * in an address can never end a field or start a command.
 *
 * A PmLabel is plain data with no threads of its own. Once it is handed to a printer job it
 * must not change: the job's worker thread reads it.
 */
#pragma once

#include <glib.h>
#include <cairo.h>

G_BEGIN_DECLS

#define PM_LABEL_DPI               203
#define PM_LABEL_WIDTH_DOTS        812
#define PM_LABEL_HEIGHT_DOTS       1218
/* 4 x 6 inches in PostScript points, the unit of the cairo drawing. */
#define PM_LABEL_WIDTH_POINTS      288.0
#define PM_LABEL_HEIGHT_POINTS     432.0

/* Carriers count address lines in characters after trailing spaces are trimmed. */
#define PM_LABEL_MAX_LINE_CHARS    35
#define PM_LABEL_MAX_SENDER_LINES  5
#define PM_LABEL_MAX_RECIPIENT_LINES 6
#define PM_LABEL_MAX_BANNER_CHARS  24

#define PM_LABEL_ERROR (pm_label_error_quark ())

typedef enum
{
  PM_LABEL_ERROR_INVALID_TEXT,       /* not UTF-8, or a control character */
  PM_LABEL_ERROR_LINE_TOO_LONG,
  PM_LABEL_ERROR_TOO_MANY_LINES,
  PM_LABEL_ERROR_MISSING_FIELD,
  PM_LABEL_ERROR_BAD_ZIP,
  PM_LABEL_ERROR_BAD_TRACKING_NUMBER,
  PM_LABEL_ERROR_NOT_REPRESENTABLE,  /* a character the output language cannot carry */
  PM_LABEL_ERROR_BARCODE,
  PM_LABEL_ERROR_IMAGE,
  PM_LABEL_ERROR_OUTPUT,
} PmLabelError;

typedef struct _PmLabel PmLabel;

GQuark    pm_label_error_quark          (void);

PmLabel  *pm_label_new                  (void);
PmLabel  *pm_label_ref                  (PmLabel            *label);
void      pm_label_unref                (PmLabel            *label);

void      pm_label_set_sender           (PmLabel            *label,
                                         const char * const *lines);
void      pm_label_set_recipient        (PmLabel            *label,
                                         const char * const *lines);
void      pm_label_set_service_banner   (PmLabel            *label,
                                         const char         *banner);
void      pm_label_set_tracking         (PmLabel            *label,
                                         const char         *destination_zip,
                                         const char         *tracking_number);
void      pm_label_set_indicium         (PmLabel            *label,
                                         cairo_surface_t    *image);

gboolean  pm_label_validate             (const PmLabel      *label,
                                         GError            **error);

GBytes   *pm_label_to_zpl               (const PmLabel      *label,
                                         GError            **error);
GBytes   *pm_label_to_epl               (const PmLabel      *label,
                                         GError            **error);
gboolean  pm_label_draw                 (const PmLabel      *label,
                                         cairo_t            *cr,
                                         GError            **error);
GBytes   *pm_label_to_pdf               (const PmLabel      *label,
                                         GError            **error);
GBytes   *pm_label_to_png               (const PmLabel      *label,
                                         GError            **error);

/* Building blocks, public so tests and other label layouts can use them. */
char     *pm_label_zpl_escape           (const char         *text,
                                         GError            **error);
char     *pm_label_epl_quote            (const char         *text,
                                         GError            **error);
gboolean  pm_label_check_line           (const char         *line,
                                         guint               max_chars,
                                         GError            **error);
char     *pm_label_format_tracking      (const char         *tracking_number);
char     *pm_label_impb_data            (const char         *destination_zip,
                                         const char         *tracking_number,
                                         GError            **error);
GArray   *pm_label_impb_bars            (const char         *destination_zip,
                                         const char         *tracking_number,
                                         guint              *out_modules,
                                         GError            **error);

/* One bar of a linear barcode, in modules from the left edge of the symbol. */
typedef struct
{
  guint start;
  guint width;
} PmLabelBar;

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmLabel, pm_label_unref)

G_END_DECLS
