/* pm-impression.h: what the meter prints on a piece
 *
 * Three impressions, laid out like a postage meter's stamp:
 *
 *   postage      the Data Matrix on the left; on the right "US POSTAGE", the amount, the
 *                class inscription, the date of mailing, "MAILED FROM ZIP", the meter
 *                serial. Every field comes from the signed indicium itself, so the print can
 *                never disagree with the symbol.
 *   date stamp   "RECEIVED" (or another heading) with the date and time, for incoming mail.
 *   re-date      the zero-value date correction: "$0.00" with the new date, once per piece.
 *
 * An impression from a specimen indicium (and any impression made for a specimen meter) carries
 * "SPECIMEN, NOT VALID POSTAGE" across its top, in reverse print, as the rules for test devices
 * demand.
 *
 * Drawing happens at the printer's resolution: the caller says how many dots per inch, the
 * barcode's modules become whole dots, and text is sized in points of 1/72 inch.
 */
#pragma once

#include <glib.h>
#include <cairo.h>

G_BEGIN_DECLS

#define PM_IMPRESSION_ERROR (pm_impression_error_quark ())

typedef enum
{
  PM_IMPRESSION_ERROR_BAD_INDICIUM,   /* the payload could not be decoded */
  PM_IMPRESSION_ERROR_BAD_RESOLUTION, /* a resolution outside 72-2400 dpi */
  PM_IMPRESSION_ERROR_WRITE,          /* the PNG or PDF could not be written */
} PmImpressionError;

typedef enum
{
  PM_IMPRESSION_POSTAGE,
  PM_IMPRESSION_DATE_STAMP,
  PM_IMPRESSION_REDATE,
} PmImpressionKind;

#define PM_IMPRESSION_SPECIMEN_LEGEND "SPECIMEN, NOT VALID POSTAGE"

/* Immutable once made; safe to draw from any thread, one cairo_t per thread. */
typedef struct _PmImpression PmImpression;

GQuark            pm_impression_error_quark      (void);

/* From a signed indicium (see pm-indicium.h). The signature is not checked here: the PSD
 * just made it, and postmeter-verify checks prints. */
PmImpression     *pm_impression_new_postage      (GBytes             *indicium,
                                                  GError            **error);
/* heading NULL means "RECEIVED". when is shown in its own time zone. */
PmImpression     *pm_impression_new_date_stamp   (GDateTime          *when,
                                                  const char         *heading);
/* new_date YYYYMMDD; meter_serial as printed, e.g. "PMSW00012345". */
PmImpression     *pm_impression_new_redate       (guint32             new_date,
                                                  guint32             origin_zip,
                                                  const char         *meter_serial,
                                                  gboolean            specimen);
void              pm_impression_free             (PmImpression       *impression);

PmImpressionKind  pm_impression_get_kind         (const PmImpression *impression);
gboolean          pm_impression_is_specimen      (const PmImpression *impression);
/* The printed size in inches. */
void              pm_impression_get_size         (const PmImpression *impression,
                                                  double             *out_width_in,
                                                  double             *out_height_in);
/* The size in whole dots at a resolution. */
void              pm_impression_get_size_dots    (const PmImpression *impression,
                                                  double              dpi,
                                                  int                *out_width,
                                                  int                *out_height);

/* Draws with the top-left corner at the user-space origin of cr, whose user unit must be one
 * dot at dpi (scale cr first when it is in points). Draws black on whatever is below; paints
 * no background. */
void              pm_impression_draw             (const PmImpression *impression,
                                                  cairo_t            *cr,
                                                  double              dpi);
/* An opaque white RGB24 image of the impression at dpi. */
cairo_surface_t  *pm_impression_render_image     (const PmImpression *impression,
                                                  double              dpi,
                                                  GError            **error);
gboolean          pm_impression_write_png        (const PmImpression *impression,
                                                  const char         *path,
                                                  double              dpi,
                                                  GError            **error);
/* A one-page PDF the size of the impression; the barcode keeps whole dots at dpi. */
gboolean          pm_impression_write_pdf        (const PmImpression *impression,
                                                  const char         *path,
                                                  double              dpi,
                                                  GError            **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmImpression, pm_impression_free)

G_END_DECLS
