/* pm-print-flow.h: printing a piece, in the one order that loses no postage
 *
 * Print pressed: every refusal is checked first (the weight, the class limit, the
 * destination ZIP, the amount, the date, the printer, the store, the PSD's lock, inspection
 * and funds), so a refused print takes no postage. Then, for the modes that carry value:
 *
 *   1. the PSD debits and signs (durable in the PSD),
 *   2. the piece is committed to the store with its upload record (durable),
 *   3. the printer gets the job, and the piece's print state follows it.
 *
 * The caller always learns which of three things happened: the piece printed; it was
 * refused and no postage was taken (the GError says why in plain words, and what to do);
 * or postage was taken and printing failed, and the piece is recorded as failed for a
 * refund claim. Nothing is ever printed again without a person asking for it.
 *
 * At start-up pm_print_flow_reconcile_async() compares the store with the PSD's piece
 * count and journal and records every debit the store lacks (print state "unknown"), once.
 *
 * Threads: the flow lives on the thread that made it (the kiosk's main thread); PSD and
 * store calls run on a worker thread and the printer on its own, so no call here blocks.
 * Results arrive on the caller's thread-default main context.
 */
#pragma once

#include <gio/gio.h>

#include "pm-printer.h"
#include "pm-psd.h"
#include "pm-rating.h"
#include "pm-scale.h"
#include "pm-store.h"
#include "pm-store-pieces.h"
#include "pm-weight.h"

G_BEGIN_DECLS

#define PM_PRINT_FLOW_ERROR (pm_print_flow_error_quark ())

/* Every code but PRINT_FAILED is a refusal: no postage was taken. */
typedef enum
{
  PM_PRINT_FLOW_ERROR_BUSY,                  /* a piece is still on its way */
  PM_PRINT_FLOW_ERROR_INVALID,               /* a request that cannot be */
  PM_PRINT_FLOW_ERROR_NO_WEIGHT,             /* nothing weighed or entered */
  PM_PRINT_FLOW_ERROR_WEIGHT_NOT_STABLE,
  PM_PRINT_FLOW_ERROR_WEIGHT_UNDER_ZERO,
  PM_PRINT_FLOW_ERROR_WEIGHT_OVER_LIMIT,     /* above the class's limit */
  PM_PRINT_FLOW_ERROR_DESTINATION_MISSING,   /* the price depends on the zone */
  PM_PRINT_FLOW_ERROR_DESTINATION_MALFORMED,
  PM_PRINT_FLOW_ERROR_NOT_RATED,             /* rating refused the piece otherwise */
  PM_PRINT_FLOW_ERROR_AMOUNT,                /* key-in or additional amount missing or too high */
  PM_PRINT_FLOW_ERROR_CONFIRMATION_REQUIRED, /* key-in above the supervisor's threshold */
  PM_PRINT_FLOW_ERROR_DATE,                  /* more than 30 days ahead, or backwards */
  PM_PRINT_FLOW_ERROR_FUNDS_SHORT,
  PM_PRINT_FLOW_ERROR_PSD_LOCKED,
  PM_PRINT_FLOW_ERROR_INSPECTION_OVERDUE,
  PM_PRINT_FLOW_ERROR_PSD_UNAVAILABLE,       /* no operational block, or it cannot answer */
  PM_PRINT_FLOW_ERROR_PRINTER_OFFLINE,
  PM_PRINT_FLOW_ERROR_STORE_UNAVAILABLE,
  PM_PRINT_FLOW_ERROR_NO_GRAPHIC,            /* graphic only, with no graphic */
  PM_PRINT_FLOW_ERROR_PRINT_FAILED,          /* a mode without value did not print */
} PmPrintFlowError;

GQuark pm_print_flow_error_quark (void);

/* Postage may be dated this many days ahead at most (the PSD's own limit). */
#define PM_PRINT_FLOW_MAX_DAYS_AHEAD 30

typedef struct
{
  PmPieceMode    mode;

  /* The weight, for postage. From the scale: its state and whether the scale called it
   * postable. Typed by hand: manual_weight TRUE (state and postable are then ignored). */
  gboolean       has_weight;
  PmWeight       weight;
  PmScaleState   scale_state;
  gboolean       postable;
  gboolean       manual_weight;

  PmMailClass    mail_class;
  PmShape        shape;
  guint          services;          /* PmService bits */
  PmMills        declared_value;    /* for insurance */
  const char    *destination_zip;   /* as typed; NULL or "" for none */

  PmMills        amount;            /* key-in and additional postage */
  gboolean       amount_confirmed;  /* key-in above the threshold: a person confirmed */
  guint          days_ahead;        /* date advance, 0 - PM_PRINT_FLOW_MAX_DAYS_AHEAD */

  gint64         account_id;        /* cost account; 0 for none */
  gint64         user_id;           /* who printed; 0 for none */

  const char    *stamp_heading;     /* date stamp: NULL for "RECEIVED" */
  GBytes        *graphic_png;       /* graphic only (and beside postage when set) */
} PmPrintRequest;

typedef enum
{
  PM_PRINT_OUTCOME_PRINTED,         /* printed; postage (if any) taken once */
  PM_PRINT_OUTCOME_FAILED,          /* postage taken, not printed: recorded for a refund */
} PmPrintOutcomeKind;

typedef struct
{
  PmPrintOutcomeKind  kind;
  PmMills             postage;       /* taken by the PSD; 0 for modes without value */
  guint32             date_of_mailing;
  PmPiece            *piece;         /* the stored debit, or NULL (no debit, or the store
                                      * failed: see recorded) */
  gboolean            recorded;      /* the debit is in the store */
  PmPsdStatus        *status;        /* the PSD after the piece, or NULL */
  GBytes             *indicium;      /* the signed payload, or NULL */
  char               *job_id;
  char              **output_files;  /* what a file printer wrote, or NULL */
  char               *message;       /* plain words for the screen */
  gint64              pressed_us;    /* monotonic: the call */
  gint64              handed_us;     /* monotonic: the job handed to the printer, or 0 */
} PmPrintOutcome;

void pm_print_outcome_free (PmPrintOutcome *outcome);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmPrintOutcome, pm_print_outcome_free)

typedef struct
{
  guint32  origin_zip;        /* the PSD's licensing ZIP, 0 before its operational block */
  guint64  psd_piece_count;   /* the PSD's piece count */
  gint64   store_piece_count; /* the highest piece count the store had before */
  guint    inserted;          /* debits recorded now, print state "unknown" */
  gint64   interrupted;       /* pending pieces marked "unknown" */
  guint64  beyond_journal;    /* debits missing from the store that the journal no longer
                               * holds: support must recover them */
} PmReconcileReport;

#define PM_TYPE_PRINT_FLOW (pm_print_flow_get_type ())
G_DECLARE_FINAL_TYPE (PmPrintFlow, pm_print_flow, PM, PRINT_FLOW, GObject)

PmPrintFlow    *pm_print_flow_new                  (PmPsd                 *psd,
                                                    PmStore               *store,
                                                    PmPrinter             *printer,
                                                    PmRating              *rating);
PmPsd          *pm_print_flow_get_psd              (PmPrintFlow           *self);
PmStore        *pm_print_flow_get_store            (PmPrintFlow           *self);
PmPrinter      *pm_print_flow_get_printer          (PmPrintFlow           *self);
void            pm_print_flow_set_printer          (PmPrintFlow           *self,
                                                    PmPrinter             *printer);
/* The licensing ZIP that zone prices are counted from, "60601"; the flow also learns it
 * from the PSD at each reconciliation and print. NULL or "" for none. */
void            pm_print_flow_set_origin_zip       (PmPrintFlow           *self,
                                                    const char            *origin_zip);
const char     *pm_print_flow_get_origin_zip       (PmPrintFlow           *self);
/* A key-in amount above this needs amount_confirmed; 0 asks for every one. */
void            pm_print_flow_set_key_in_threshold (PmPrintFlow           *self,
                                                    PmMills                threshold);
PmMills         pm_print_flow_get_key_in_threshold (PmPrintFlow           *self);
/* The envelope's resolution in dots per inch (0: 300). */
void            pm_print_flow_set_dpi              (PmPrintFlow           *self,
                                                    double                 dpi);
/* TRUE (property "busy") from Print pressed until the piece's job is handed to the
 * printer or the piece is refused: meanwhile another print is refused with BUSY. The
 * next piece may start while the printer is still printing the last one. */
gboolean        pm_print_flow_get_busy             (PmPrintFlow           *self);

/* The local date of mailing days_ahead days from today (pm-clock), as YYYYMMDD; it rolls
 * at local midnight. FALSE with PM_PRINT_FLOW_ERROR_DATE beyond the limit. */
gboolean        pm_print_flow_date_of_mailing      (guint                  days_ahead,
                                                    guint32               *out_date,
                                                    GError               **error);
/* What the request would take from the PSD, with no I/O: rating for postage, the amount
 * for key-in and additional, 0 for the others; or the refusal the request alone earns.
 * *out_quote (optional) gets the rating's quote with its breakdown for postage; clear it
 * with pm_quote_clear(). */
gboolean        pm_print_flow_check                (PmPrintFlow           *self,
                                                    const PmPrintRequest  *request,
                                                    PmMills               *out_postage,
                                                    PmQuote               *out_quote,
                                                    GError               **error);

void            pm_print_flow_print_async          (PmPrintFlow           *self,
                                                    const PmPrintRequest  *request,
                                                    GCancellable          *cancellable,
                                                    GAsyncReadyCallback    callback,
                                                    gpointer               user_data);
/* NULL with the refusal (no postage taken) or an outcome: printed or failed. */
PmPrintOutcome *pm_print_flow_print_finish         (PmPrintFlow           *self,
                                                    GAsyncResult          *result,
                                                    GError               **error);

void            pm_print_flow_reconcile_async      (PmPrintFlow           *self,
                                                    GCancellable          *cancellable,
                                                    GAsyncReadyCallback    callback,
                                                    gpointer               user_data);
gboolean        pm_print_flow_reconcile_finish     (PmPrintFlow           *self,
                                                    GAsyncResult          *result,
                                                    PmReconcileReport     *out_report,
                                                    GError               **error);
/* Blocking: for tools and tests, never on a GUI thread. */
gboolean        pm_print_flow_reconcile_sync       (PmPrintFlow           *self,
                                                    PmReconcileReport     *out_report,
                                                    GError               **error);

/* The rate category printed for a class and shape. */
guint16         pm_print_flow_rate_category        (PmMailClass            mail_class,
                                                    PmShape                shape);
/* The transaction record queued for upload with each debit (key=value lines). */
GBytes         *pm_print_flow_encode_record        (const PmPiece         *piece);

G_END_DECLS
