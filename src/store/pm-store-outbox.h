/* pm-store-outbox.h: the upload outbox (transaction records waiting for the data center)
 *
 * A record is queued in the same transaction as the piece it describes. Records are
 * sent in sealed batches: sealing gives up to N waiting records (in seq order) to a new
 * batch, fixes its bytes and their SHA-256, and from then on the batch is resent with
 * exactly those bytes under the same id (the Idempotency-Key) until a receipt arrives.
 * The receipt is checked against the sealed batch, and the acknowledgement, the
 * deletion of its records and the ack_log row commit together.
 *
 * Sealed batch bytes, version 1 (integers little-endian):
 *
 *   "PMUB"              4 bytes
 *   version             u8, 1
 *   record count        u32
 *   per record:  seq    u64
 *                uuid   36 ASCII bytes (8-4-4-4-12 form)
 *                length u32
 *                payload, length bytes (the record as the uploads service defines it)
 *
 * The network layer may compress these bytes for the wire; the hash is over them as
 * they are here.
 */
#pragma once

#include "pm-store.h"

G_BEGIN_DECLS

#define PM_UPLOAD_BATCH_VERSION 1

typedef enum
{
  PM_UPLOAD_BATCH_OPEN,
  PM_UPLOAD_BATCH_SEALED,
  PM_UPLOAD_BATCH_SENT,
  PM_UPLOAD_BATCH_ACKED,
} PmUploadBatchState;

typedef struct
{
  char               *id;              /* UUID, also the Idempotency-Key */
  PmUploadBatchState  state;
  GBytes             *payload;         /* the sealed bytes; NULL once acknowledged */
  char               *payload_sha256;  /* 64 hex digits */
  gint64              first_seq;
  gint64              last_seq;
  gint64              count;
  gint64              attempts;        /* sends so far */
  gint64              next_attempt_at; /* µs since the epoch; 0: as soon as possible */
  gint64              sealed_at;       /* µs */
} PmUploadBatch;

void pm_upload_batch_free (PmUploadBatch *batch);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmUploadBatch, pm_upload_batch_free)

/* What the data center's receipt says it received. */
typedef struct
{
  const char *batch_id;
  const char *payload_sha256;
  gint64      first_seq;
  gint64      last_seq;
  gint64      count;
  const char *receipt;          /* the receipt as received, kept in ack_log */
} PmUploadReceipt;

/* Inside a work function: queues one record; @piece_id 0 when it belongs to no piece. */
gboolean       pm_store_outbox_enqueue      (sqlite3        *db,
                                             GBytes         *payload,
                                             gint64          piece_id,
                                             gint64         *out_seq,
                                             GError        **error);

gboolean       pm_store_enqueue_upload      (PmStore        *store,
                                             GBytes         *payload,
                                             gint64         *out_seq,
                                             GError        **error);

/* The batch to send next: a batch sealed earlier and not yet acknowledged (its bytes
 * unchanged), else a new batch of up to @max_records waiting records. NULL with no
 * error when nothing waits. */
PmUploadBatch *pm_store_seal_upload_batch   (PmStore        *store,
                                             guint           max_records,
                                             GError        **error);

/* Like pm_store_seal_upload_batch (), but a new batch is sealed as the uploads service's
 * message naming @device_id (pm_wire_batch_seal (): gzip-compressed XML, see
 * data/protocol/upload-batch.xsd), so the bytes kept are exactly the bytes sent and the
 * receipt's hash is over them. A batch sealed earlier comes back unchanged. At most
 * PM_PROTOCOL_MAX_BATCH_RECORDS records. */
PmUploadBatch *pm_store_seal_upload_batch_for_device (PmStore     *store,
                                                      const char  *device_id,
                                                      guint        max_records,
                                                      GError     **error);

/* Records one send of the batch (whatever its outcome) and when to try again. */
gboolean       pm_store_mark_upload_sent    (PmStore        *store,
                                             const char     *batch_id,
                                             gint64          next_attempt_at_us,
                                             GError        **error);

/* Checks @receipt against the sealed batch and, when it matches, deletes the batch's
 * records, marks it acknowledged and logs the receipt, all in one transaction. A
 * receipt that does not match changes nothing: PM_STORE_ERROR_RECEIPT_MISMATCH. The
 * same receipt again is accepted and changes nothing. */
gboolean       pm_store_acknowledge_upload  (PmStore               *store,
                                             const PmUploadReceipt *receipt,
                                             GError               **error);

/* The oldest record not yet acknowledged: its creation time (µs) and how many wait.
 * *out_created_at_us is 0 when nothing waits. */
gboolean       pm_store_get_upload_backlog  (PmStore        *store,
                                             gint64         *out_oldest_created_at_us,
                                             gint64         *out_waiting,
                                             GError        **error);
/* The backlog, and when the last receipt was recorded (µs; 0 for never). */
gboolean       pm_store_get_upload_state    (PmStore        *store,
                                             gint64         *out_oldest_created_at_us,
                                             gint64         *out_waiting,
                                             gint64         *out_last_ack_us,
                                             GError        **error);
void           pm_store_get_upload_backlog_async  (PmStore             *store,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
gboolean       pm_store_get_upload_backlog_finish (PmStore             *store,
                                                   GAsyncResult        *result,
                                                   gint64              *out_oldest_created_at_us,
                                                   gint64              *out_waiting,
                                                   GError             **error);

G_END_DECLS
