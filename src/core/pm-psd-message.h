/* pm-psd-message.h: the signed messages between the provider and a PSD
 *
 * Five messages cross between the provider's data center and a Postal Security Device. Each
 * is a short binary record, made by one side and signed with that side's P-256 key:
 *
 *   operational block        provider -> PSD  configuration that makes a PSD usable
 *   postage value download   provider -> PSD  a refill: an amount with a sequence number
 *   audit request            PSD -> provider  the registers, for an inspection
 *   audit answer             provider -> PSD  the inspection's result
 *   withdrawal record        PSD -> provider  the funds handed back when the PSD retires
 *
 * Every message has the same frame. All integers are little-endian; amounts are mills.
 *
 *   off  len  field
 *     0    2  magic "PM"
 *     2    1  kind (PmPsdMessageKind: 'O', 'R', 'A', 'a', 'W')
 *     3    1  format version, 1
 *     4    n  body, fixed length per kind, below
 *   4+n   64  ECDSA P-256 r||s over bytes 0 .. 3+n
 *
 * Operational block body (81 bytes):
 *   u32 PSD serial | 4 ASCII PSD model | 32 SHA-256 of the PSD public key (DER SPKI) |
 *   u32 certificate serial | u32 origin ZIP | u8 profile | u32 warning after s |
 *   u32 lock after s | u64 maximum funds | u64 maximum postage per piece | i64 issued at
 * Postage value download body (24 bytes):
 *   u32 PSD serial | u32 sequence | u64 amount | i64 issued at
 * Audit request body (83 bytes):
 *   u32 PSD serial | u32 certificate serial | 16 nonce | i64 made at | u64 AR | u64 DR |
 *   u64 control sum | u64 refunded | u64 piece count | u32 last date used |
 *   u32 last refill sequence | u8 inspection state | u8 lock reason | u8 withdrawn
 * Audit answer body (61 bytes):
 *   u32 PSD serial | 16 nonce | 32 SHA-256 of the whole audit request | i64 answered at |
 *   u8 result
 * Withdrawal record body (52 bytes):
 *   u32 PSD serial | u32 certificate serial | i64 made at | u64 AR | u64 refunded |
 *   u64 control sum | u64 piece count | u32 last refill sequence
 *
 * The data center makes provider messages with the _sign functions and checks PSD messages
 * with the _verify functions; the PSD does the reverse. Times are Unix seconds.
 *
 * A PSD certificate is text: the PSD's public key as a PEM "PUBLIC KEY", then its installed
 * operational block as a PEM "POSTMETER OPERATIONAL BLOCK" (the message bytes above, base64).
 * The block is the provider's signed statement that this key belongs to this PSD serial,
 * certificate serial and origin ZIP, so whoever trusts the provider's key can check an
 * indicium with nothing but the certificate. Tools that only want the key read the first
 * block with any PEM reader.
 */
#pragma once

#include <glib.h>

#include "pm-money.h"
#include "pm-signature.h"

G_BEGIN_DECLS

#define PM_PSD_MESSAGE_VERSION      1
#define PM_PSD_KEY_DIGEST_LENGTH    32
#define PM_AUDIT_NONCE_LENGTH       16

#define PM_PSD_MESSAGE_ERROR (pm_psd_message_error_quark ())

typedef enum
{
  PM_PSD_MESSAGE_ERROR_MALFORMED,      /* wrong length, magic or field value */
  PM_PSD_MESSAGE_ERROR_WRONG_KIND,     /* a valid message, but not the one expected */
  PM_PSD_MESSAGE_ERROR_UNSUPPORTED,    /* a format version this build does not read */
  PM_PSD_MESSAGE_ERROR_BAD_SIGNATURE,  /* not signed by the expected key, or altered */
  PM_PSD_MESSAGE_ERROR_WRONG_KEY,      /* a certificate whose block names another key */
} PmPsdMessageError;

typedef enum
{
  PM_PSD_MESSAGE_OPERATIONAL_BLOCK      = 'O',
  PM_PSD_MESSAGE_POSTAGE_VALUE_DOWNLOAD = 'R',
  PM_PSD_MESSAGE_AUDIT_REQUEST          = 'A',
  PM_PSD_MESSAGE_AUDIT_ANSWER           = 'a',
  PM_PSD_MESSAGE_WITHDRAWAL_RECORD      = 'W',
} PmPsdMessageKind;

/* How the watchdog runs. IBI: an inspection every 90 days, printing stops 30 days later.
 * IMI: a connection every day, printing stops after 72 hours without one. */
typedef enum
{
  PM_POSTAL_PROFILE_IBI = 1,
  PM_POSTAL_PROFILE_IMI = 2,
} PmPostalProfile;

#define PM_POSTAL_PROFILE_IBI_WARNING_S  (90 * 24 * 3600)
#define PM_POSTAL_PROFILE_IBI_LOCK_S     (120 * 24 * 3600)
#define PM_POSTAL_PROFILE_IMI_WARNING_S  (24 * 3600)
#define PM_POSTAL_PROFILE_IMI_LOCK_S     (72 * 3600)

typedef struct
{
  guint32  psd_serial;
  char     psd_model[5];                               /* 4 ASCII and a NUL */
  guint8   psd_key_digest[PM_PSD_KEY_DIGEST_LENGTH];   /* binds the block to one PSD key */
  guint32  certificate_serial;
  guint32  origin_zip;                                 /* licensing ZIP, 5 digits */
  guint8   profile;                                    /* PmPostalProfile */
  guint32  warning_after_s;                            /* since the last inspection */
  guint32  lock_after_s;                               /* since the last inspection */
  PmMills  max_funds;                                  /* ceiling of the descending register */
  PmMills  max_postage;                                /* per piece */
  gint64   issued_at;
} PmOperationalBlock;

typedef struct
{
  guint32  psd_serial;
  guint32  sequence;        /* 1 for the first refill, then one more each time */
  PmMills  amount;
  gint64   issued_at;
} PmPostageValueDownload;

typedef struct
{
  guint32  psd_serial;
  guint32  certificate_serial;
  guint8   nonce[PM_AUDIT_NONCE_LENGTH];
  gint64   made_at;
  PmMills  ascending;
  PmMills  descending;
  PmMills  control_sum;
  PmMills  refunded;
  guint64  piece_count;
  guint32  last_date_used;          /* YYYYMMDD, 0 before the first piece */
  guint32  last_refill_sequence;
  guint8   inspection_state;        /* PmPsdInspectionState of the driver */
  guint8   lock_reason;             /* PmPsdLockReason of the driver */
  guint8   withdrawn;
} PmAuditRequest;

typedef enum
{
  PM_AUDIT_RESULT_ACCEPTED = 1,     /* inspection passed: the watchdog starts again */
  PM_AUDIT_RESULT_LOCK     = 2,     /* the provider orders the PSD locked */
} PmAuditResult;

typedef struct
{
  guint32  psd_serial;
  guint8   nonce[PM_AUDIT_NONCE_LENGTH];                  /* echoed from the request */
  guint8   request_digest[PM_PSD_KEY_DIGEST_LENGTH];     /* SHA-256 of the request bytes */
  gint64   answered_at;
  guint8   result;                                        /* PmAuditResult */
} PmAuditAnswer;

typedef struct
{
  guint32  psd_serial;
  guint32  certificate_serial;
  gint64   made_at;
  PmMills  ascending;
  PmMills  refunded;                /* the descending register handed back */
  PmMills  control_sum;
  guint64  piece_count;
  guint32  last_refill_sequence;
} PmWithdrawalRecord;

GQuark   pm_psd_message_error_quark          (void);

/* The kind of a framed message, without checking its signature. */
gboolean pm_psd_message_peek_kind            (GBytes                       *message,
                                              PmPsdMessageKind             *out_kind,
                                              GError                      **error);
/* SHA-256 of the key's DER SubjectPublicKeyInfo, as an operational block carries it. */
gboolean pm_psd_key_digest                   (PmVerifyKey                  *key,
                                              guint8 out_digest[PM_PSD_KEY_DIGEST_LENGTH]);
void     pm_psd_message_digest               (GBytes                       *message,
                                              guint8 out_digest[PM_PSD_KEY_DIGEST_LENGTH]);

GBytes  *pm_operational_block_sign           (const PmOperationalBlock     *block,
                                              PmSigningKey                 *provider_key,
                                              GError                      **error);
gboolean pm_operational_block_verify         (GBytes                       *message,
                                              PmVerifyKey                  *provider_key,
                                              PmOperationalBlock           *out_block,
                                              GError                      **error);
/* Fills the profile's standard intervals. */
void     pm_operational_block_set_profile    (PmOperationalBlock           *block,
                                              PmPostalProfile               profile);

GBytes  *pm_postage_value_download_sign      (const PmPostageValueDownload *download,
                                              PmSigningKey                 *provider_key,
                                              GError                      **error);
gboolean pm_postage_value_download_verify    (GBytes                       *message,
                                              PmVerifyKey                  *provider_key,
                                              PmPostageValueDownload       *out_download,
                                              GError                      **error);

GBytes  *pm_audit_request_sign               (const PmAuditRequest         *request,
                                              PmSigningKey                 *psd_key,
                                              GError                      **error);
gboolean pm_audit_request_verify             (GBytes                       *message,
                                              PmVerifyKey                  *psd_key,
                                              PmAuditRequest               *out_request,
                                              GError                      **error);

/* Fills serial, nonce and request digest from a verified request; the caller sets the
 * time and the result. */
void     pm_audit_answer_init_for_request    (PmAuditAnswer                *answer,
                                              const PmAuditRequest         *request,
                                              GBytes                       *request_message);
GBytes  *pm_audit_answer_sign                (const PmAuditAnswer          *answer,
                                              PmSigningKey                 *provider_key,
                                              GError                      **error);
gboolean pm_audit_answer_verify              (GBytes                       *message,
                                              PmVerifyKey                  *provider_key,
                                              PmAuditAnswer                *out_answer,
                                              GError                      **error);

GBytes  *pm_withdrawal_record_sign           (const PmWithdrawalRecord     *record,
                                              PmSigningKey                 *psd_key,
                                              GError                      **error);
gboolean pm_withdrawal_record_verify         (GBytes                       *message,
                                              PmVerifyKey                  *psd_key,
                                              PmWithdrawalRecord           *out_record,
                                              GError                      **error);

GBytes  *pm_psd_certificate_new              (PmVerifyKey                  *psd_key,
                                              GBytes                       *operational_block);
/* Checks the block's signature with the provider's key and that the block names the
 * certificate's key; returns the PSD key and the block's fields. */
gboolean pm_psd_certificate_verify           (GBytes                       *certificate,
                                              PmVerifyKey                  *provider_key,
                                              PmVerifyKey                 **out_psd_key,
                                              PmOperationalBlock           *out_block,
                                              GError                      **error);

G_END_DECLS
