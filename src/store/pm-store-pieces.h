/* pm-store-pieces.h: one row per PSD debit, and the printer's usage log
 *
 * The print path records each debit here after the PSD has made it and before the
 * printer gets the job. The natural key is (psd_serial, piece_count): the PSD's piece
 * count after the debit. Inserting the same debit twice (a retry after a crash, the
 * start-up reconciliation finding a debit the store already has) changes nothing and
 * says so, so the print path can always insert without first asking.
 *
 * Every call has a form for use inside a work function (sqlite3 *db, store thread) so
 * it can join a larger transaction, and a blocking form taking the PmStore; the reads
 * the kiosk shows also have _async forms.
 */
#pragma once

#include "pm-money.h"
#include "pm-store.h"

G_BEGIN_DECLS

typedef enum
{
  PM_PIECE_MODE_POSTAGE,
  PM_PIECE_MODE_ADDITIONAL,
  PM_PIECE_MODE_KEY_IN,
  PM_PIECE_MODE_RE_DATE,
  PM_PIECE_MODE_DATE_STAMP,
  PM_PIECE_MODE_GRAPHIC,
} PmPieceMode;

typedef enum
{
  PM_PRINT_STATE_PENDING,   /* recorded, not yet sent to the printer */
  PM_PRINT_STATE_PRINTED,
  PM_PRINT_STATE_FAILED,    /* the printer refused or jammed: postage debited, not printed */
  PM_PRINT_STATE_UNKNOWN,   /* found pending after a restart: nobody knows */
} PmPrintState;

const char *pm_piece_mode_to_string  (PmPieceMode  mode);
gboolean    pm_piece_mode_from_string (const char  *text,
                                       PmPieceMode *out_mode);
const char *pm_print_state_to_string (PmPrintState state);
gboolean    pm_print_state_from_string (const char   *text,
                                        PmPrintState *out_state);

typedef struct
{
  gint64        id;               /* set by the store */
  char         *psd_serial;
  gint64        piece_count;      /* the PSD's piece count after this debit */
  PmMills       ascending_after;
  PmMills       descending_after;
  PmMills       postage;
  guint32       date_of_mailing;  /* YYYYMMDD */
  PmPieceMode   mode;
  char         *class_code;       /* may be NULL */
  char         *services;         /* may be NULL: comma-separated service codes */
  char         *weight;           /* may be NULL: pm_weight_format() text */
  char         *origin_zip;
  char         *destination_zip;  /* may be NULL */
  gint64        account_id;       /* 0 for none */
  gint64        user_id;          /* 0 for none */
  GBytes       *indicium;         /* may be NULL */
  PmPrintState  print_state;
  char         *print_detail;     /* may be NULL */
  gint64        created_at;       /* µs since the epoch; set by the store when 0 */
  gint64        printed_at;       /* µs since the epoch; 0 if not printed */
} PmPiece;

PmPiece *pm_piece_new  (void);
PmPiece *pm_piece_copy (const PmPiece *piece);
void     pm_piece_free (PmPiece *piece);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmPiece, pm_piece_free)

typedef struct
{
  GPtrArray *pieces;        /* of PmPiece, oldest first */
  gint64     count;
  PmMills    postage_total; /* every debit counts: the PSD spent it, printed or not */
  gint64     printed;
  gint64     failed;
  gint64     pending;       /* pending or unknown */
} PmPieceDay;

void pm_piece_day_free (PmPieceDay *day);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmPieceDay, pm_piece_day_free)

/* ---- Inside a work function ---- */

/* Inserts @piece, setting piece->id. When the same debit (psd_serial, piece_count) is
 * already stored, sets *out_already to TRUE and piece->id to the stored row, and
 * changes nothing. The same debit with different amounts is refused with
 * PM_STORE_ERROR_CONSTRAINT: that is a fault to investigate, not a retry. */
gboolean pm_store_pieces_insert          (sqlite3       *db,
                                          PmPiece       *piece,
                                          gboolean      *out_already,
                                          GError       **error);
gboolean pm_store_pieces_set_print_state (sqlite3       *db,
                                          gint64         piece_id,
                                          PmPrintState   state,
                                          const char    *detail,
                                          GError       **error);
/* 0 when the store has no piece from that PSD. */
gboolean pm_store_pieces_max_count       (sqlite3       *db,
                                          const char    *psd_serial,
                                          gint64        *out_piece_count,
                                          GError       **error);

/* ---- Blocking ---- */

gboolean    pm_store_insert_piece          (PmStore      *store,
                                            PmPiece      *piece,
                                            gboolean     *out_already,
                                            GError      **error);
/* Inserts the piece and queues its upload record (see pm-store-outbox.h) in one
 * transaction, so a debit is never recorded without its upload or the other way
 * round. @record_payload is the encoded transaction record; on a repeated insert
 * nothing is queued twice. *out_seq gets the record's sequence number. */
gboolean    pm_store_insert_piece_with_upload (PmStore   *store,
                                               PmPiece   *piece,
                                               GBytes    *record_payload,
                                               gboolean  *out_already,
                                               gint64    *out_seq,
                                               GError   **error);
gboolean    pm_store_set_print_state       (PmStore      *store,
                                            gint64        piece_id,
                                            PmPrintState  state,
                                            const char   *detail,
                                            GError      **error);
gboolean    pm_store_get_max_piece_count   (PmStore      *store,
                                            const char   *psd_serial,
                                            gint64       *out_piece_count,
                                            GError      **error);
/* The stored piece for one debit, or NULL with PM_STORE_ERROR_NOT_FOUND: for the
 * start-up reconciliation against the PSD's journal. */
PmPiece    *pm_store_get_piece             (PmStore      *store,
                                            const char   *psd_serial,
                                            gint64        piece_count,
                                            GError      **error);
/* At start-up, before anything prints: pieces still "pending" were debited but nobody
 * saw them print, so they become "unknown" for a person to check. *out_count gets how
 * many changed. */
gboolean    pm_store_mark_interrupted_pieces (PmStore    *store,
                                              gint64     *out_count,
                                              GError    **error);
/* Pieces recorded on @day in local time (the kiosk's time zone). */
PmPieceDay *pm_store_list_day              (PmStore      *store,
                                            GDate        *day,
                                            GError      **error);
void        pm_store_list_day_async        (PmStore             *store,
                                            GDate               *day,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data);
PmPieceDay *pm_store_list_day_finish       (PmStore             *store,
                                            GAsyncResult        *result,
                                            GError             **error);

/* ---- Print jobs (the printer usage log) ---- */

typedef enum
{
  PM_STORE_PRINT_JOB_ENVELOPE,
  PM_STORE_PRINT_JOB_LABEL,
  PM_STORE_PRINT_JOB_REPORT,
} PmStorePrintJobKind;

typedef enum
{
  PM_STORE_PRINT_JOB_QUEUED,
  PM_STORE_PRINT_JOB_PRINTING,
  PM_STORE_PRINT_JOB_DONE,
  PM_STORE_PRINT_JOB_FAILED,
  PM_STORE_PRINT_JOB_CANCELLED,
} PmStorePrintJobState;

/* Whose figure the ink use is. */
typedef enum
{
  PM_STORE_INK_NONE,      /* no ink used or none known (thermal printers) */
  PM_STORE_INK_MODEL,     /* impressions times the printer model's figure */
  PM_STORE_INK_PRINTER,   /* measured from the printer's own marker levels */
} PmStoreInkSource;

typedef struct
{
  gint64          id;
  gint64          piece_id;                  /* 0 for none */
  char           *printer;
  PmStorePrintJobKind  kind;
  gint64          impressions;
  gint64          ink_microlitres_estimate;
  PmStorePrintJobState state;
  char           *detail;                    /* may be NULL */
  gint64          created_at;                /* µs */
  gint64          finished_at;               /* µs, 0 while not finished */
  gint64          ink_nanolitres;            /* the exact figure; microlitres above are
                                              * it rounded up */
  PmStoreInkSource ink_source;
  char           *printer_job_ref;           /* the job in the printer's own system, e.g.
                                              * a CUPS queue and job id; may be NULL */
} PmStorePrintJob;

/* What a printer reports for a finished job (see PmPrintJob): the impressions made, the
 * ink they used and whose figure that is, and the job's reference in the printer's own
 * system, so a failed job can be found there. */
typedef struct
{
  gint64            impressions;
  gint64            ink_nanolitres;
  PmStoreInkSource  ink_source;
  const char       *printer_job_ref;         /* may be NULL */
} PmStorePrintUsage;

/* A printer's use over a period, for reports and supplies. */
typedef struct
{
  gint64 jobs;                /* every job, whatever became of it */
  gint64 jobs_done;
  gint64 jobs_failed;         /* failed or cancelled */
  gint64 impressions;
  gint64 ink_nanolitres;
  gint64 ink_nanolitres_measured;  /* the part of it the printer measured itself */
} PmStorePrintUsageTotals;

void pm_store_print_job_free (PmStorePrintJob *job);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmStorePrintJob, pm_store_print_job_free)

/* The same inside a work function, so a job joins the transaction of its piece. */
gboolean    pm_store_print_jobs_insert     (sqlite3         *db,
                                            PmStorePrintJob *job,       /* sets id */
                                            GError         **error);
gboolean    pm_store_insert_print_job      (PmStore         *store,
                                            PmStorePrintJob      *job,      /* sets id */
                                            GError         **error);
/* Sets the state, impressions, ink and detail; finished_at is set for done, failed and
 * cancelled. */
gboolean    pm_store_update_print_job      (PmStore         *store,
                                            gint64           job_id,
                                            PmStorePrintJobState  state,
                                            gint64           impressions,
                                            gint64           ink_microlitres_estimate,
                                            const char      *detail,
                                            GError         **error);
PmStorePrintJob *pm_store_get_print_job         (PmStore         *store,
                                            gint64           job_id,
                                            GError         **error);
/* Ends a job with the printer's own account of it: sets the state, impressions, ink (and
 * ink_microlitres_estimate, rounded up), its source, the printer's job reference and the
 * detail. */
gboolean    pm_store_record_print_usage    (PmStore                 *store,
                                            gint64                   job_id,
                                            PmStorePrintJobState     state,
                                            const PmStorePrintUsage *usage,
                                            const char              *detail,
                                            GError                 **error);
/* Totals of the jobs created in [@from_us, @to_us), for one printer or, with @printer
 * NULL, all of them. */
gboolean    pm_store_sum_print_usage       (PmStore                 *store,
                                            const char              *printer,
                                            gint64                   from_us,
                                            gint64                   to_us,
                                            PmStorePrintUsageTotals *out_totals,
                                            GError                 **error);
const char *pm_store_ink_source_to_string  (PmStoreInkSource         source);

G_END_DECLS
