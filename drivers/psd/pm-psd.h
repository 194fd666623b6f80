/* pm-psd.h: a Postal Security Device
 *
 * The PSD holds the postage registers and the key that signs indicia. Every driver (the
 * software PSD here, a provider's certified device later) implements the blocking operations
 * of PmPsdInterface; the _async functions below run them one at a time on the PSD's own
 * worker thread and return the result on the caller's thread-default main context. The
 * blocking forms (pm_psd_*_sync) queue the same operation on the same worker thread and wait
 * for it: they are for tools and tests and must not run on a GUI thread.
 *
 * Registers (mills): ascending (AR, postage ever used), descending (DR, funds left),
 * control sum (CS, every refill ever applied) and refunded (handed back on withdrawal).
 * Always CS == AR + DR + refunded; AR, the piece count, the refill sequence and the last date
 * used never go down.
 */
#pragma once

#include <gio/gio.h>

#include "pm-money.h"
#include "pm-signature.h"

G_BEGIN_DECLS

#define PM_PSD_ERROR (pm_psd_error_quark ())

typedef enum
{
  PM_PSD_ERROR_LOCKED,               /* locked: see the status for why */
  PM_PSD_ERROR_NOT_INITIALIZED,      /* no operational block yet */
  PM_PSD_ERROR_WITHDRAWN,            /* out of service for good */
  PM_PSD_ERROR_INSUFFICIENT_FUNDS,   /* the descending register is below the postage */
  PM_PSD_ERROR_POSTAGE_TOO_HIGH,     /* above the per-piece maximum */
  PM_PSD_ERROR_POSTAGE_NOT_POSITIVE, /* zero or negative postage */
  PM_PSD_ERROR_DATE_BACKWARD,        /* before today or before the last date used */
  PM_PSD_ERROR_DATE_TOO_FAR,         /* more than 30 days ahead */
  PM_PSD_ERROR_BAD_SIGNATURE,        /* a provider message not signed by the provider */
  PM_PSD_ERROR_WRONG_DEVICE,         /* a message meant for another PSD */
  PM_PSD_ERROR_SEQUENCE,             /* a refill replayed or out of order */
  PM_PSD_ERROR_FUNDS_LIMIT,          /* a refill past the maximum funds */
  PM_PSD_ERROR_INVALID,              /* a malformed request or message */
  PM_PSD_ERROR_NO_AUDIT_PENDING,     /* an audit answer with no matching request */
  PM_PSD_ERROR_STORAGE,              /* the PSD's own storage failed */
  PM_PSD_ERROR_DAMAGED,              /* the stored state was altered or torn */
  PM_PSD_ERROR_IN_USE,               /* another program has this PSD open */
} PmPsdError;

typedef enum
{
  PM_PSD_INSPECTION_OK,
  PM_PSD_INSPECTION_WARNING,        /* inspection due: connect soon */
  PM_PSD_INSPECTION_LOCKED,         /* inspection required: printing refused */
} PmPsdInspectionState;

typedef enum
{
  PM_PSD_LOCK_NONE,
  PM_PSD_LOCK_WATCHDOG,             /* no inspection in time; an audit clears it */
  PM_PSD_LOCK_MANUAL,               /* locked by a person or the provider; an audit clears it */
  PM_PSD_LOCK_DAMAGED,              /* the state failed its checks; permanent */
  PM_PSD_LOCK_WITHDRAWN,            /* taken out of service; permanent */
} PmPsdLockReason;

/* Most postage may be dated ahead by this many days, never back. */
#define PM_PSD_MAX_DAYS_AHEAD 30

/* A snapshot of the PSD. Plain data, owned by whoever got it. */
typedef struct
{
  guint32               serial;
  char                  model[5];
  guint32               certificate_serial;
  gboolean              has_operational_block;
  guint32               origin_zip;
  guint8                profile;                /* PmPostalProfile */
  PmMills               max_funds;
  PmMills               max_postage;

  PmMills               ascending;
  PmMills               descending;
  PmMills               control_sum;
  PmMills               refunded;
  guint64               piece_count;
  guint32               last_date_used;         /* YYYYMMDD, 0 before the first piece */
  guint32               last_refill_sequence;

  gint64                last_inspection;        /* Unix seconds */
  gint64                inspection_due;         /* the warning starts here */
  gint64                inspection_lock;        /* printing stops here */
  PmPsdInspectionState  inspection_state;

  PmPsdLockReason       lock_reason;
  char                 *lock_message;           /* owned; NULL when not locked */
  gboolean              specimen;
} PmPsdStatus;

/* What to debit. */
typedef struct
{
  PmMills      postage;
  guint32      date_of_mailing;     /* YYYYMMDD, local date */
  guint16      rate_category;       /* PmRateCategory */
  guint32      destination_zip;     /* ZIP+4 as ZZZZZPPPP, 0 for none */
  char         software_id[5];      /* 4 ASCII; empty means "PM01" */
} PmPsdDebitRequest;

/* One debit as the PSD remembers it. */
typedef struct
{
  guint64  piece_count;             /* this piece's number, 1 for the first */
  PmMills  postage;
  guint32  date_of_mailing;
  PmMills  ascending_after;
  guint8   indicium_digest[32];     /* SHA-256 of the signed indicium */
} PmPsdJournalEntry;

typedef struct
{
  GBytes            *indicium;      /* owned; the signed payload (pm-indicium.h) */
  PmPsdJournalEntry  entry;
  PmPsdStatus       *status;        /* owned; the registers after this piece */
} PmPsdDebitResult;

#define PM_TYPE_PSD_STATUS (pm_psd_status_get_type ())
#define PM_TYPE_PSD_DEBIT_RESULT (pm_psd_debit_result_get_type ())

GType             pm_psd_status_get_type        (void) G_GNUC_CONST;
PmPsdStatus      *pm_psd_status_copy            (const PmPsdStatus      *status);
void              pm_psd_status_free            (PmPsdStatus            *status);
gboolean          pm_psd_status_is_locked       (const PmPsdStatus      *status);
const char       *pm_psd_lock_reason_to_string  (PmPsdLockReason         reason);
const char       *pm_psd_inspection_state_to_string (PmPsdInspectionState state);

GType             pm_psd_debit_result_get_type  (void) G_GNUC_CONST;
PmPsdDebitResult *pm_psd_debit_result_copy      (const PmPsdDebitResult *result);
void              pm_psd_debit_result_free      (PmPsdDebitResult       *result);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmPsdStatus, pm_psd_status_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmPsdDebitResult, pm_psd_debit_result_free)

#define PM_TYPE_PSD (pm_psd_get_type ())
G_DECLARE_INTERFACE (PmPsd, pm_psd, PM, PSD, GObject)

/* Each function is blocking, called on one thread at a time (the async layer sees to it). */
struct _PmPsdInterface
{
  GTypeInterface parent_iface;

  guint32            (*get_serial)            (PmPsd                   *psd);
  PmVerifyKey       *(*get_public_key)        (PmPsd                   *psd);
  PmPsdStatus       *(*get_status)            (PmPsd                   *psd,
                                               GError                 **error);
  PmPsdStatus       *(*install_operational_block) (PmPsd               *psd,
                                               GBytes                  *block,
                                               GError                 **error);
  PmPsdDebitResult  *(*debit)                 (PmPsd                   *psd,
                                               const PmPsdDebitRequest *request,
                                               GError                 **error);
  PmPsdStatus       *(*refill)                (PmPsd                   *psd,
                                               GBytes                  *download,
                                               GError                 **error);
  GBytes            *(*make_audit_request)    (PmPsd                   *psd,
                                               GError                 **error);
  PmPsdStatus       *(*apply_audit_answer)    (PmPsd                   *psd,
                                               GBytes                  *answer,
                                               GError                 **error);
  PmPsdStatus       *(*lock)                  (PmPsd                   *psd,
                                               const char              *reason,
                                               GError                 **error);
  GBytes            *(*withdraw)              (PmPsd                   *psd,
                                               GError                 **error);
  GPtrArray         *(*get_journal)           (PmPsd                   *psd,
                                               guint                    max_entries,
                                               GError                 **error);
  GBytes            *(*get_certificate)       (PmPsd                   *psd,
                                               GError                 **error);
};

GQuark            pm_psd_error_quark                 (void);

/* For drivers: TRUE on the thread that runs this PSD's operations. */
gboolean          pm_psd_is_worker_thread            (PmPsd                   *psd);

/* Cheap, fixed for the life of the device; any thread. */
guint32           pm_psd_get_serial                  (PmPsd                   *psd);
/* The key that verifies this PSD's indicia and messages (its certificate's key). */
PmVerifyKey      *pm_psd_get_public_key              (PmPsd                   *psd);

void              pm_psd_get_status_async            (PmPsd                   *psd,
                                                      GCancellable            *cancellable,
                                                      GAsyncReadyCallback      callback,
                                                      gpointer                 user_data);
PmPsdStatus      *pm_psd_get_status_finish           (PmPsd                   *psd,
                                                      GAsyncResult            *result,
                                                      GError                 **error);
void              pm_psd_install_operational_block_async (PmPsd               *psd,
                                                      GBytes                  *block,
                                                      GCancellable            *cancellable,
                                                      GAsyncReadyCallback      callback,
                                                      gpointer                 user_data);
PmPsdStatus      *pm_psd_install_operational_block_finish (PmPsd              *psd,
                                                      GAsyncResult            *result,
                                                      GError                 **error);
void              pm_psd_debit_async                 (PmPsd                   *psd,
                                                      const PmPsdDebitRequest *request,
                                                      GCancellable            *cancellable,
                                                      GAsyncReadyCallback      callback,
                                                      gpointer                 user_data);
PmPsdDebitResult *pm_psd_debit_finish                (PmPsd                   *psd,
                                                      GAsyncResult            *result,
                                                      GError                 **error);
void              pm_psd_refill_async                (PmPsd                   *psd,
                                                      GBytes                  *download,
                                                      GCancellable            *cancellable,
                                                      GAsyncReadyCallback      callback,
                                                      gpointer                 user_data);
PmPsdStatus      *pm_psd_refill_finish               (PmPsd                   *psd,
                                                      GAsyncResult            *result,
                                                      GError                 **error);
void              pm_psd_make_audit_request_async    (PmPsd                   *psd,
                                                      GCancellable            *cancellable,
                                                      GAsyncReadyCallback      callback,
                                                      gpointer                 user_data);
GBytes           *pm_psd_make_audit_request_finish   (PmPsd                   *psd,
                                                      GAsyncResult            *result,
                                                      GError                 **error);
void              pm_psd_apply_audit_answer_async    (PmPsd                   *psd,
                                                      GBytes                  *answer,
                                                      GCancellable            *cancellable,
                                                      GAsyncReadyCallback      callback,
                                                      gpointer                 user_data);
PmPsdStatus      *pm_psd_apply_audit_answer_finish   (PmPsd                   *psd,
                                                      GAsyncResult            *result,
                                                      GError                 **error);
void              pm_psd_lock_async                  (PmPsd                   *psd,
                                                      const char              *reason,
                                                      GCancellable            *cancellable,
                                                      GAsyncReadyCallback      callback,
                                                      gpointer                 user_data);
PmPsdStatus      *pm_psd_lock_finish                 (PmPsd                   *psd,
                                                      GAsyncResult            *result,
                                                      GError                 **error);
void              pm_psd_withdraw_async              (PmPsd                   *psd,
                                                      GCancellable            *cancellable,
                                                      GAsyncReadyCallback      callback,
                                                      gpointer                 user_data);
GBytes           *pm_psd_withdraw_finish             (PmPsd                   *psd,
                                                      GAsyncResult            *result,
                                                      GError                 **error);
/* The most recent debits, newest first, as PmPsdJournalEntry (free with g_free). */
void              pm_psd_get_journal_async           (PmPsd                   *psd,
                                                      guint                    max_entries,
                                                      GCancellable            *cancellable,
                                                      GAsyncReadyCallback      callback,
                                                      gpointer                 user_data);
GPtrArray        *pm_psd_get_journal_finish          (PmPsd                   *psd,
                                                      GAsyncResult            *result,
                                                      GError                 **error);
/* The PSD's certificate (pm-psd-message.h): its public key with the operational block the
 * provider signed for it, which binds the key to the serial, certificate serial and origin
 * ZIP printed in every indicium. An auditor who trusts only the provider's key checks
 * indicia with it. NOT_INITIALIZED before the operational block is installed. */
void              pm_psd_get_certificate_async       (PmPsd                   *psd,
                                                      GCancellable            *cancellable,
                                                      GAsyncReadyCallback      callback,
                                                      gpointer                 user_data);
GBytes           *pm_psd_get_certificate_finish      (PmPsd                   *psd,
                                                      GAsyncResult            *result,
                                                      GError                 **error);

/* Blocking forms: the operation runs on the worker thread, after any already queued, and
 * the caller waits for it. Never on a GUI thread. */
PmPsdStatus      *pm_psd_get_status_sync             (PmPsd                   *psd,
                                                      GError                 **error);
PmPsdStatus      *pm_psd_install_operational_block_sync (PmPsd                *psd,
                                                      GBytes                  *block,
                                                      GError                 **error);
PmPsdDebitResult *pm_psd_debit_sync                  (PmPsd                   *psd,
                                                      const PmPsdDebitRequest *request,
                                                      GError                 **error);
PmPsdStatus      *pm_psd_refill_sync                 (PmPsd                   *psd,
                                                      GBytes                  *download,
                                                      GError                 **error);
GBytes           *pm_psd_make_audit_request_sync     (PmPsd                   *psd,
                                                      GError                 **error);
PmPsdStatus      *pm_psd_apply_audit_answer_sync     (PmPsd                   *psd,
                                                      GBytes                  *answer,
                                                      GError                 **error);
PmPsdStatus      *pm_psd_lock_sync                   (PmPsd                   *psd,
                                                      const char              *reason,
                                                      GError                 **error);
GBytes           *pm_psd_withdraw_sync               (PmPsd                   *psd,
                                                      GError                 **error);
GPtrArray        *pm_psd_get_journal_sync            (PmPsd                   *psd,
                                                      guint                    max_entries,
                                                      GError                 **error);
GBytes           *pm_psd_get_certificate_sync        (PmPsd                   *psd,
                                                      GError                 **error);

G_END_DECLS
