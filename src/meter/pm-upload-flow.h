/* pm-upload-flow.h: transaction records to the data center
 *
 * Records wait in the store's outbox. A run seals the next batch once (the uploads
 * service's message, its bytes and hash fixed in the store), sends it, and when a receipt
 * that matches the batch arrives, the receipt and the deletion of its records commit in one
 * store transaction; then the next batch. A batch that fails goes again, byte for byte the
 * same, until its receipt comes: in this run after a short backoff for faults that may
 * pass, or in a later run.
 */
#pragma once

#include "pm-connection.h"
#include "pm-psd-message.h"

G_BEGIN_DECLS

#define PM_UPLOAD_FLOW_BATCH_RECORDS  500
/* Sends of one batch within one run before the run gives up until the next. */
#define PM_UPLOAD_FLOW_MAX_ATTEMPTS   3

/* Uploads everything that waits. Returns the number of records acknowledged in this run,
 * or -1 with error set when a batch could not be sent (batches acknowledged before it stay
 * acknowledged; the one that failed goes first, unchanged, in the next run). */
void     pm_upload_flow_run_async  (PmConnection        *connection,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data);
gint64   pm_upload_flow_run_finish (PmConnection        *connection,
                                    GAsyncResult        *result,
                                    GError             **error);

/* The backlog and when the last upload succeeded, as the upload topic shows them. */
typedef struct
{
  gint64        waiting;            /* records not yet acknowledged */
  gint64        oldest_s;           /* creation of the oldest, Unix seconds; -1 for none */
  gint64        last_success_s;     /* -1 for never */
  PmUploadsDue  due;
  gboolean      blocks_printing;    /* the postal profile stops printing for it */
  char         *words;
} PmUploadState;

void           pm_upload_state_free      (PmUploadState *state);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmUploadState, pm_upload_state_free)

void           pm_upload_flow_get_state_async  (PmConnection        *connection,
                                                GCancellable        *cancellable,
                                                GAsyncReadyCallback  callback,
                                                gpointer             user_data);
PmUploadState *pm_upload_flow_get_state_finish (PmConnection        *connection,
                                                GAsyncResult        *result,
                                                GError             **error);

/* The rule: under the IMI profile (daily connection) records older than three days stop
 * printing until they are uploaded; under the older IBI regime an overdue upload is a
 * warning only. */
gboolean       pm_upload_flow_blocks_printing  (PmPostalProfile      profile,
                                                PmUploadsDue         due);

G_END_DECLS
