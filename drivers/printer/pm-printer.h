/* pm-printer.h: envelope and label printers, and the jobs sent to them
 *
 * A PmPrintJob is one document for one piece: an envelope impression, a shipping label or a
 * report, in one format (PDF, PNG, ZPL, EPL or raw printer bytes). It is submitted once to a
 * PmPrinter and followed to DONE or FAILED; every change is announced with the printer's
 * "job-changed" signal. Each job carries an id, and a printer refuses a second submission
 * of the same id, so a retry after an error can never print a piece twice; a deliberate
 * reprint is a new job with a new id.
 *
 * Each backend does its I/O on its own worker thread, one job at a time, in submission order.
 * Results, signals and job changes arrive on the thread-default main context of the caller
 * that submitted the job; PmPrintJob's getters are for that thread.
 */
#pragma once

#include <gio/gio.h>
#include <cairo.h>

G_BEGIN_DECLS

#define PM_PRINTER_ERROR (pm_printer_error_quark ())

typedef enum
{
  PM_PRINTER_ERROR_DUPLICATE_JOB,     /* this job id was submitted before */
  PM_PRINTER_ERROR_UNSUPPORTED_FORMAT,
  PM_PRINTER_ERROR_NOT_FOUND,         /* no such queue, host or device */
  PM_PRINTER_ERROR_OFFLINE,           /* unreachable, stopped or not accepting jobs */
  PM_PRINTER_ERROR_OUT_OF_PAPER,
  PM_PRINTER_ERROR_OUT_OF_INK,
  PM_PRINTER_ERROR_JAMMED,
  PM_PRINTER_ERROR_JOB_FAILED,        /* the print system aborted or canceled the job */
  PM_PRINTER_ERROR_TIMED_OUT,
  PM_PRINTER_ERROR_IO,
  PM_PRINTER_ERROR_CANCELLED,
} PmPrinterError;

typedef enum
{
  PM_PRINTER_STATE_UNKNOWN,
  PM_PRINTER_STATE_READY,
  PM_PRINTER_STATE_BUSY,
  PM_PRINTER_STATE_OFFLINE,
  PM_PRINTER_STATE_OUT_OF_PAPER,
  PM_PRINTER_STATE_OUT_OF_INK,        /* ink, toner or thermal-transfer ribbon */
  PM_PRINTER_STATE_JAMMED,
} PmPrinterState;

typedef enum
{
  PM_PRINT_KIND_ENVELOPE,
  PM_PRINT_KIND_LABEL,
  PM_PRINT_KIND_REPORT,
} PmPrintKind;

typedef enum
{
  PM_PRINT_FORMAT_PDF,
  PM_PRINT_FORMAT_PNG,
  PM_PRINT_FORMAT_ZPL,
  PM_PRINT_FORMAT_EPL,
  PM_PRINT_FORMAT_RAW,
} PmPrintFormat;

typedef enum
{
  PM_PRINT_JOB_NEW,        /* not yet submitted */
  PM_PRINT_JOB_QUEUED,     /* waiting for the printer's worker */
  PM_PRINT_JOB_SENDING,    /* bytes on their way */
  PM_PRINT_JOB_PRINTING,   /* accepted by the print system, not finished */
  PM_PRINT_JOB_DONE,
  PM_PRINT_JOB_FAILED,
} PmPrintJobState;

typedef enum
{
  PM_INK_SOURCE_NONE,      /* no estimate: the printer uses no ink (direct thermal) */
  PM_INK_SOURCE_MODEL,     /* impressions times the model's documented use */
  PM_INK_SOURCE_PRINTER,   /* from the printer's own marker levels */
} PmInkSource;

/* Draws one page in PostScript points, with (0, 0) at the top left. Called on a printer's
 * worker thread, so it may only read data that no longer changes. */
typedef gboolean (*PmPagePainter) (cairo_t  *cr,
                                   gpointer  user_data,
                                   GError  **error);

#define PM_TYPE_PRINT_JOB (pm_print_job_get_type ())
G_DECLARE_FINAL_TYPE (PmPrintJob, pm_print_job, PM, PRINT_JOB, GObject)

#define PM_TYPE_PRINTER (pm_printer_get_type ())
G_DECLARE_INTERFACE (PmPrinter, pm_printer, PM, PRINTER, GObject)

struct _PmPrinterInterface
{
  GTypeInterface parent_iface;

  const char     *(*get_name)           (PmPrinter           *self);
  gboolean        (*supports_format)    (PmPrinter           *self,
                                         PmPrintFormat        format);
  /* Called on the caller's thread once the id is claimed and the job is QUEUED. */
  void            (*submit_async)       (PmPrinter           *self,
                                         PmPrintJob          *job,
                                         GCancellable        *cancellable,
                                         GAsyncReadyCallback  callback,
                                         gpointer             user_data);
  gboolean        (*submit_finish)      (PmPrinter           *self,
                                         GAsyncResult        *result,
                                         GError             **error);
  void            (*query_state_async)  (PmPrinter           *self,
                                         GCancellable        *cancellable,
                                         GAsyncReadyCallback  callback,
                                         gpointer             user_data);
  PmPrinterState  (*query_state_finish) (PmPrinter           *self,
                                         GAsyncResult        *result,
                                         char              ***out_reasons,
                                         GError             **error);
};

GQuark          pm_printer_error_quark        (void);

const char     *pm_printer_get_name           (PmPrinter           *self);
gboolean        pm_printer_supports_format    (PmPrinter           *self,
                                               PmPrintFormat        format);
void            pm_printer_submit_async       (PmPrinter           *self,
                                               PmPrintJob          *job,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
gboolean        pm_printer_submit_finish      (PmPrinter           *self,
                                               GAsyncResult        *result,
                                               GError             **error);
void            pm_printer_query_state_async  (PmPrinter           *self,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
PmPrinterState  pm_printer_query_state_finish (PmPrinter           *self,
                                               GAsyncResult        *result,
                                               char              ***out_reasons,
                                               GError             **error);

PmPrinterState  pm_printer_state_from_reasons (const char * const  *reasons,
                                               gboolean             stopped);
const char     *pm_printer_state_to_string    (PmPrinterState       state);
const char     *pm_print_format_to_string     (PmPrintFormat        format);
const char     *pm_print_format_extension     (PmPrintFormat        format);
const char     *pm_print_job_state_to_string  (PmPrintJobState      state);

PmPrintJob     *pm_print_job_new              (const char          *id,
                                               PmPrintKind          kind,
                                               PmPrintFormat        format,
                                               const char          *title,
                                               const char          *piece_id,
                                               GBytes              *data);
void            pm_print_job_set_page_painter (PmPrintJob          *self,
                                               double               width_points,
                                               double               height_points,
                                               PmPagePainter        painter,
                                               gpointer             user_data,
                                               GDestroyNotify       destroy);
void            pm_print_job_set_pages        (PmPrintJob          *self,
                                               guint                pages);
/* The resolution the page was laid out for, in dots per inch, so an image of it keeps
 * barcode modules whole; 0 (the default) lets the backend choose. */
void            pm_print_job_set_resolution   (PmPrintJob          *self,
                                               double               dpi);
double          pm_print_job_get_resolution   (PmPrintJob          *self);

const char     *pm_print_job_get_id           (PmPrintJob          *self);
PmPrintKind     pm_print_job_get_kind         (PmPrintJob          *self);
PmPrintFormat   pm_print_job_get_format       (PmPrintJob          *self);
const char     *pm_print_job_get_title        (PmPrintJob          *self);
const char     *pm_print_job_get_piece_id     (PmPrintJob          *self);
GBytes         *pm_print_job_get_data         (PmPrintJob          *self);
guint           pm_print_job_get_pages        (PmPrintJob          *self);
PmPrintJobState pm_print_job_get_state        (PmPrintJob          *self);
const GError   *pm_print_job_get_error        (PmPrintJob          *self);
const char     *pm_print_job_get_backend_ref  (PmPrintJob          *self);
const char * const *pm_print_job_get_output_files (PmPrintJob      *self);
guint           pm_print_job_get_impressions  (PmPrintJob          *self);
guint64         pm_print_job_get_ink_nanolitres (PmPrintJob        *self);
PmInkSource     pm_print_job_get_ink_source   (PmPrintJob          *self);
gint64          pm_print_job_get_finished_us  (PmPrintJob          *self);

gboolean        pm_print_job_has_page_painter (PmPrintJob          *self);
gboolean        pm_print_job_paint_page       (PmPrintJob          *self,
                                               cairo_t             *cr,
                                               double              *out_width_points,
                                               double              *out_height_points,
                                               GError             **error);

/* Ink use per impression, by printer model. Figures are estimates for an indicium-sized
 * impression, documented in pm-printer.c. */
typedef struct
{
  const char *model;                    /* matched as a case-insensitive substring */
  guint       nanolitres_per_impression;
  guint       cartridge_microlitres;    /* 0 when the cartridge size is unknown */
} PmInkModel;

const PmInkModel *pm_ink_model_lookup        (const char          *make_and_model);

G_END_DECLS
