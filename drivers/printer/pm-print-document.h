/* pm-print-document.h: the pieces Postmeter prints, made into print jobs
 *
 * Two documents come out of the mailroom:
 *
 *   envelope  the meter impression (postage, date stamp or re-date) in the top right-hand
 *             corner, an optional advertising graphic to its left and an optional one- or
 *             two-line message under them, on an envelope-sized page (a #10 envelope
 *             unless told otherwise).
 *   label     the 4 x 6 inch shipping label of pm-label.h, as ZPL or EPL for a thermal
 *             printer, or as a PDF; every label job can also be drawn, so the folder
 *             printer files a PDF and PNG beside the printer-language bytes.
 *
 * The job constructors check and lay out everything on the calling thread and never do I/O;
 * the drawing itself happens on the printer's worker thread when the backend needs pages.
 */
#pragma once

#include "pm-printer.h"
#include "pm-impression.h"
#include "pm-label.h"

G_BEGIN_DECLS

#define PM_PRINT_DOCUMENT_ERROR (pm_print_document_error_quark ())

typedef enum
{
  PM_PRINT_DOCUMENT_ERROR_BAD_GRAPHIC,   /* the graphic is not a readable PNG */
  PM_PRINT_DOCUMENT_ERROR_BAD_MESSAGE,   /* not UTF-8, control characters, too long */
  PM_PRINT_DOCUMENT_ERROR_DOES_NOT_FIT,  /* the impression is larger than the page */
  PM_PRINT_DOCUMENT_ERROR_FORMAT,        /* this document cannot be made in that format */
} PmPrintDocumentError;

/* A #10 business envelope, 9.5 x 4.125 inches, in points. */
#define PM_ENVELOPE_10_WIDTH_POINTS   684.0
#define PM_ENVELOPE_10_HEIGHT_POINTS  297.0

/* The message line under the impression, in characters. */
#define PM_ENVELOPE_MAX_MESSAGE_CHARS 60

typedef struct
{
  double      width_points;   /* 0: a #10 envelope */
  double      height_points;
  double      dpi;            /* the printer's resolution; 0: 300 dpi */
  GBytes     *graphic_png;    /* optional advertising graphic (slogan plate), PNG */
  const char *message;        /* optional; at most two lines of
                               * PM_ENVELOPE_MAX_MESSAGE_CHARS */
} PmEnvelopeOptions;

GQuark      pm_print_document_error_quark (void);

/* An envelope job in PDF (for CUPS and the folder printer) or PNG. Takes @impression,
 * also when it fails. */
PmPrintJob *pm_print_job_new_envelope     (const char              *id,
                                           const char              *piece_id,
                                           PmImpression            *impression,
                                           const PmEnvelopeOptions *options,
                                           PmPrintFormat            format,
                                           GError                 **error);
/* A label job in ZPL, EPL (the label's bytes, field data escaped) or PDF. The label must
 * not change afterwards. */
PmPrintJob *pm_print_job_new_label        (const char              *id,
                                           const char              *piece_id,
                                           PmLabel                 *label,
                                           PmPrintFormat            format,
                                           GError                 **error);

G_END_DECLS
