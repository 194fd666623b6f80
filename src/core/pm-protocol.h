/* pm-protocol.h: the XML messages the machine and the data center exchange
 *
 * Every message has a builder (struct to bytes) and a parser (bytes to struct). Parsers are
 * safe on hostile input: a size limit is checked before libxml2 runs, any DOCTYPE (and so any
 * entity or DTD) is refused, the network is never used, and the document is validated
 * against its schema from data/protocol/ (compiled in as a resource) before a field is read.
 * Both sides validate what they receive. The functions are thread safe.
 */
#pragma once

#include <glib.h>

#include "pm-money.h"

G_BEGIN_DECLS

#define PM_PROTOCOL_VERSION 1

/* The largest XML message either side accepts, and the largest an upload batch may grow to
 * once decompressed. */
#define PM_PROTOCOL_MAX_MESSAGE_BYTES   (1024 * 1024)
#define PM_PROTOCOL_MAX_BATCH_BYTES     (16 * 1024 * 1024)
#define PM_PROTOCOL_MAX_BATCH_RECORDS   10000

#define PM_PROTOCOL_ERROR (pm_protocol_error_quark ())

typedef enum
{
  PM_PROTOCOL_ERROR_TOO_LARGE,      /* over the size limit; not parsed */
  PM_PROTOCOL_ERROR_FORBIDDEN,      /* a DOCTYPE, entity or DTD: refused outright */
  PM_PROTOCOL_ERROR_MALFORMED,      /* not well-formed XML, bad base64, bad compression */
  PM_PROTOCOL_ERROR_INVALID,        /* well formed but not what the schema allows */
  PM_PROTOCOL_ERROR_WRONG_MESSAGE,  /* a valid message, but not the one expected */
  PM_PROTOCOL_ERROR_INCONSISTENT,   /* fields that contradict each other */
} PmProtocolError;

GQuark pm_protocol_error_quark (void);

/* Service names as they appear in the authenticate response and the allowlist. */
typedef enum
{
  PM_REMOTE_SERVICE_DISTRIBUTOR,
  PM_REMOTE_SERVICE_FUNDS,
  PM_REMOTE_SERVICE_DOWNLOADS,
  PM_REMOTE_SERVICE_ACCOUNTING,
  PM_REMOTE_SERVICE_UPLOADS,
  PM_REMOTE_SERVICE_HEALTH,
  PM_REMOTE_SERVICE_CONNECTIVITY,
  PM_REMOTE_SERVICE_HELP,
  PM_REMOTE_SERVICE_COUNT,
} PmRemoteService;

const char *pm_remote_service_to_string   (PmRemoteService   service);
gboolean    pm_remote_service_from_string (const char *name,
                                    PmRemoteService  *out_service);

/* ---- authenticate (distributor) ---------------------------------------------------- */

typedef struct
{
  char   *psd_serial;
  GBytes *certificate;
  char   *software_version;
  char   *model;
} PmAuthRequest;

typedef struct
{
  char   *device_id;
  char   *token;                       /* sent back as "Authorization: Bearer" */
  gint64  server_time_s;               /* Unix seconds */
  char   *service_urls[PM_REMOTE_SERVICE_COUNT];  /* NULL where the distributor gave none */
} PmAuthResponse;

void            pm_auth_request_free    (PmAuthRequest  *request);
GBytes         *pm_auth_request_build   (const PmAuthRequest *request);
PmAuthRequest  *pm_auth_request_parse   (GBytes         *bytes,
                                         GError        **error);
void            pm_auth_response_free   (PmAuthResponse *response);
GBytes         *pm_auth_response_build  (const PmAuthResponse *response);
PmAuthResponse *pm_auth_response_parse  (GBytes         *bytes,
                                         GError        **error);

/* ---- funds ------------------------------------------------------------------------- */

typedef enum
{
  PM_FUNDS_REFILL,
  PM_FUNDS_AUDIT,
  PM_FUNDS_OPERATIONAL_BLOCK,
  PM_FUNDS_REPLACEMENT,
  PM_FUNDS_HISTORY,
} PmFundsKind;

const char *pm_funds_kind_to_string (PmFundsKind kind);

typedef struct
{
  PmFundsKind kind;
  char       *device_id;
  char       *psd_serial;
  char       *request_id;              /* the same for every retry of one request */
  PmMills     amount;                  /* refill only; -1 when absent */
  gint64      sequence;                /* refill: the PSD's next sequence; -1 when absent */
  GBytes     *psd_message;             /* audit message or PSD public key; may be NULL */
} PmFundsRequest;

typedef struct
{
  char   *receipt_id;
  gint64  issued_at;
  PmMills amount;
  gint64  sequence;
} PmRefillReceipt;

typedef struct
{
  PmFundsKind kind;
  char       *receipt_id;
  gint64      issued_at;
  PmMills     amount;                  /* -1 when absent */
  gint64      sequence;                /* -1 when absent */
  PmMills     balance;                 /* the customer account after this; -1 when absent */
  PmMills     refill_minimum;          /* the provider's refill limits (history answers); */
  PmMills     refill_maximum;          /*   -1 when absent, and 0 is never sent */
  gint64      next_inspection;         /* Unix seconds; -1 when absent */
  GBytes     *psd_message;             /* signed message for the PSD; may be NULL */
  GPtrArray  *history;                 /* of PmRefillReceipt; empty unless kind is history */
} PmFundsResponse;

void             pm_funds_request_free   (PmFundsRequest  *request);
GBytes          *pm_funds_request_build  (const PmFundsRequest *request);
PmFundsRequest  *pm_funds_request_parse  (GBytes          *bytes,
                                          GError         **error);
void             pm_funds_response_free  (PmFundsResponse *response);
GBytes          *pm_funds_response_build (const PmFundsResponse *response);
PmFundsResponse *pm_funds_response_parse (GBytes          *bytes,
                                          GError         **error);
void             pm_refill_receipt_free  (PmRefillReceipt *receipt);

/* ---- downloads --------------------------------------------------------------------- */

typedef struct
{
  char   *type;                        /* rates, graphics, software */
  char   *name;
  gint64  version;
  gint64  length;
  char   *sha256;                      /* lower-case hex */
  char   *path;                        /* on the downloads service */
  GDate  *effective;                   /* rates: the date it takes effect; may be NULL */
} PmManifestPackage;

typedef struct
{
  gint64     serial;                   /* grows with every manifest the provider issues */
  gint64     issued_at;
  gint64     expires_at;
  char      *model;
  char      *authority;
  GPtrArray *packages;                 /* of PmManifestPackage */
} PmManifest;

void        pm_manifest_free             (PmManifest *manifest);
void        pm_manifest_package_free     (PmManifestPackage *package);
GBytes     *pm_manifest_build            (const PmManifest *manifest);
PmManifest *pm_manifest_parse            (GBytes     *bytes,
                                          GError    **error);
/* The envelope: the manifest bytes and a signature over them. */
GBytes     *pm_signed_manifest_build     (GBytes       *body,
                                          const guint8 *signature);
gboolean    pm_signed_manifest_parse     (GBytes       *bytes,
                                          GBytes      **out_body,
                                          GBytes      **out_signature,
                                          GError      **error);

typedef struct
{
  char    *device_id;
  char    *type;
  char    *name;
  gint64   package_version;
  gboolean installed;                  /* FALSE: refused */
  char    *detail;                     /* may be NULL */
} PmInstallConfirmation;

void                   pm_install_confirmation_free  (PmInstallConfirmation *confirmation);
GBytes                *pm_install_confirmation_build (const PmInstallConfirmation *c);
PmInstallConfirmation *pm_install_confirmation_parse (GBytes   *bytes,
                                                      GError  **error);

/* ---- uploads ----------------------------------------------------------------------- */

typedef struct
{
  gint64  seq;
  gint64  created_at;
  char   *uuid;                        /* may be NULL */
  GBytes *payload;                     /* the store's record bytes, opaque here */
} PmUploadRecord;

typedef struct
{
  char      *batch_id;
  char      *device_id;
  gint64     first_seq;
  gint64     last_seq;
  GPtrArray *records;                  /* of PmUploadRecord, in seq order */
} PmWireBatch;

PmUploadRecord *pm_upload_record_new        (gint64        seq,
                                             gint64        created_at,
                                             const char   *uuid,
                                             GBytes       *payload);
void            pm_upload_record_free       (PmUploadRecord *record);
PmWireBatch  *pm_wire_batch_new         (const char   *batch_id,
                                             const char   *device_id);
void            pm_wire_batch_free        (PmWireBatch *batch);
/* Sealing: the compressed bytes that are sent, byte for byte the same on every retry. */
GBytes         *pm_wire_batch_seal        (PmWireBatch *batch,
                                             GError       **error);
PmWireBatch  *pm_wire_batch_parse       (GBytes        *sealed,
                                             GError       **error);

typedef struct
{
  char   *receipt_id;
  char   *batch_id;
  char   *device_id;
  gint64  first_seq;
  gint64  last_seq;
  gint64  count;
  char   *sha256;                      /* of the sealed bytes, lower-case hex */
  gint64  highest_contiguous_seq;      /* the data center's view of this device */
  gint64  received_at;
  guint8  signature[64];
} PmWireReceipt;

void             pm_wire_receipt_free        (PmWireReceipt *receipt);
/* The exact bytes the provider signs. */
GBytes          *pm_wire_receipt_signed_text (const PmWireReceipt *receipt);
GBytes          *pm_wire_receipt_build       (const PmWireReceipt *receipt);
PmWireReceipt *pm_wire_receipt_parse       (GBytes          *bytes,
                                                GError         **error);

/* ---- accounting -------------------------------------------------------------------- */

typedef struct
{
  char    *id;
  char    *parent;                     /* may be NULL: a top-level account */
  char    *name;
  gboolean active;
  gint64   revision;
} PmWireAccount;

typedef struct
{
  char   *account;
  GDate  *date;
  gint64  pieces;
  PmMills postage;
} PmAccountUsage;

typedef struct
{
  char      *device_id;
  GPtrArray *accounts;                 /* of PmWireAccount */
  GPtrArray *usage;                    /* of PmAccountUsage */
} PmAccountsSync;

PmAccountsSync *pm_accounts_sync_new       (const char     *device_id);
void            pm_accounts_sync_free      (PmAccountsSync *sync);
void            pm_wire_account_free       (PmWireAccount  *account);
void            pm_account_usage_free      (PmAccountUsage *usage);
GBytes         *pm_accounts_sync_build     (const PmAccountsSync *sync);
PmAccountsSync *pm_accounts_sync_parse     (GBytes         *bytes,
                                            GError        **error);
/* The merge rule, the same on both sides: the higher revision wins; on a tie the data
 * center's copy (theirs, when called on the machine) wins. Returns the winner. */
const PmWireAccount *pm_wire_account_merge (const PmWireAccount *ours,
                                            const PmWireAccount *theirs,
                                            gboolean             theirs_is_data_center);

/* ---- health ------------------------------------------------------------------------ */

typedef struct
{
  char   *device_id;
  gint64  taken_at;
  gint64  uptime_s;
  gint64  disk_free_bytes;
  gint64  disk_total_bytes;
  gint64  errors_24h;
  char   *psd_state;
  GPtrArray *supply_names;             /* of char *, parallel to supply_percent */
  GArray    *supply_percent;           /* of int */
  GBytes    *log;                      /* may be NULL */
} PmHealthRecord;

PmHealthRecord *pm_health_record_new   (const char     *device_id);
void            pm_health_record_free  (PmHealthRecord *record);
GBytes         *pm_health_record_build (const PmHealthRecord *record);
PmHealthRecord *pm_health_record_parse (GBytes         *bytes,
                                        GError        **error);

/* ---- errors ------------------------------------------------------------------------ */

GBytes   *pm_protocol_error_build (const char *code,
                                   const char *message);
gboolean  pm_protocol_error_parse (GBytes     *bytes,
                                   char      **out_code,
                                   char      **out_message,
                                   GError    **error);

/* ---- helpers ----------------------------------------------------------------------- */

/* Lower-case hex SHA-256 of bytes. */
char     *pm_protocol_sha256_hex  (GBytes *bytes);
/* Strict base64: only the alphabet, padding at the end, nothing else. */
GBytes   *pm_protocol_base64_decode (const char *text,
                                     GError    **error);
/* The name of the root element, for a receiver that dispatches on it; NULL when the bytes
 * are not a message at all. Runs the same safety checks as every parser. */
char     *pm_protocol_peek_root   (GBytes  *bytes,
                                   GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmAuthRequest, pm_auth_request_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmAuthResponse, pm_auth_response_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmFundsRequest, pm_funds_request_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmFundsResponse, pm_funds_response_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmManifest, pm_manifest_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmInstallConfirmation, pm_install_confirmation_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmWireBatch, pm_wire_batch_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmWireReceipt, pm_wire_receipt_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmAccountsSync, pm_accounts_sync_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmHealthRecord, pm_health_record_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmRefillReceipt, pm_refill_receipt_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmManifestPackage, pm_manifest_package_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmUploadRecord, pm_upload_record_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmWireAccount, pm_wire_account_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmAccountUsage, pm_account_usage_free)

G_END_DECLS
