/* pm-net-services.h: the data center services, as the machine calls them
 *
 * Each call runs through a PmNetClient (so it is allowlisted, pinned and on the network
 * thread) and answers on the caller's main context. Answers are validated against their
 * schema; signed answers are verified with the provider's key before they are returned,
 * and checked against what was asked. None of these functions changes PSD or store state:
 * the meter hands refills and audit answers to the PSD, and receipts to the store.
 */
#pragma once

#include "pm-net-client.h"
#include "pm-protocol.h"
#include "pm-signature.h"

G_BEGIN_DECLS

/* ---- distributor ------------------------------------------------------------------- */

/* A clock further than this from the data center's is reported. */
#define PM_DISTRIBUTOR_MAX_SKEW_S  120

/* url: the distributor's authenticate address (from settings). On success the client's
 * session (device id, token, service addresses) is set. */
void            pm_distributor_authenticate_async  (PmNetClient         *client,
                                                    const char          *url,
                                                    const PmAuthRequest *request,
                                                    GCancellable        *cancellable,
                                                    GAsyncReadyCallback  callback,
                                                    gpointer             user_data);
/* out_skew_s: data center time minus the machine's time, in seconds. */
PmAuthResponse *pm_distributor_authenticate_finish (PmNetClient         *client,
                                                    GAsyncResult        *result,
                                                    gint64              *out_skew_s,
                                                    GError             **error);
/* Words for the status line when the clock is off; NULL when it is close enough. */
char           *pm_distributor_describe_skew       (gint64               skew_s);

/* ---- funds ------------------------------------------------------------------------- */

/* The request's device id is filled from the session; a refill's PVD, an audit answer and
 * an operational block are verified with provider_key and checked against the request
 * (PSD serial, sequence, amount) before the answer is returned. psd_serial is the PSD the
 * answer must be for. */
void             pm_funds_call_async  (PmNetClient         *client,
                                       PmFundsRequest      *request,
                                       PmVerifyKey         *provider_key,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data);
PmFundsResponse *pm_funds_call_finish (PmNetClient         *client,
                                       GAsyncResult        *result,
                                       GError             **error);

/* ---- uploads ----------------------------------------------------------------------- */

/* Sends a sealed batch exactly as sealed, keyed by its batch id. Returns a receipt only
 * when it is signed by the provider and names this batch, its records and its hash. */
void             pm_uploads_send_async  (PmNetClient         *client,
                                         const char          *batch_id,
                                         GBytes              *sealed,
                                         gint64               first_seq,
                                         gint64               last_seq,
                                         PmVerifyKey         *provider_key,
                                         GCancellable        *cancellable,
                                         GAsyncReadyCallback  callback,
                                         gpointer             user_data);
PmWireReceipt *pm_uploads_send_finish (PmNetClient         *client,
                                         GAsyncResult        *result,
                                         GError             **error);
/* The check itself, for a receipt that arrived some other way. */
gboolean         pm_uploads_check_receipt (const PmWireReceipt *receipt,
                                           const char            *batch_id,
                                           const char            *device_id,
                                           GBytes                *sealed,
                                           gint64                 first_seq,
                                           gint64                 last_seq,
                                           PmVerifyKey           *provider_key,
                                           GError               **error);

/* When uploads are owed: at least daily, and no record older than three days unsent. The
 * postal profile (the meter) decides whether OVERDUE stops printing. */
#define PM_UPLOADS_INTERVAL_S        (24 * 3600)
#define PM_UPLOADS_MAX_RECORD_AGE_S  (3 * 24 * 3600)

typedef enum
{
  PM_UPLOADS_UP_TO_DATE,
  PM_UPLOADS_DUE,               /* an upload should happen now */
  PM_UPLOADS_OVERDUE,           /* records older than three days are still unsent */
} PmUploadsDue;

/* oldest_unsent_s: creation time of the oldest record not yet acknowledged, -1 for none;
 * last_success_s: time of the last acknowledged upload, -1 for never. out_words: a
 * sentence for the status line (may be NULL). */
PmUploadsDue     pm_uploads_get_due    (gint64   now_s,
                                        gint64   oldest_unsent_s,
                                        gint64   last_success_s,
                                        char   **out_words);

/* ---- downloads --------------------------------------------------------------------- */

/* The signature is checked over the manifest's raw bytes before they are parsed; then its
 * expiry, model and authority. */
void        pm_downloads_fetch_manifest_async  (PmNetClient         *client,
                                                PmVerifyKey         *provider_key,
                                                const char          *model,
                                                const char          *authority,
                                                GCancellable        *cancellable,
                                                GAsyncReadyCallback  callback,
                                                gpointer             user_data);
PmManifest *pm_downloads_fetch_manifest_finish (PmNetClient         *client,
                                                GAsyncResult        *result,
                                                GError             **error);

/* Fetches a package into staging_dir, resuming a partial file from an earlier attempt,
 * checks its exact length and SHA-256 over the whole file against the signed list, then
 * fetches its detached signature file (<package>.sig) and verifies it with package_key
 * (pm-package.h: name, content type, version, length, hash, expiry, never older than the
 * installed version). installed_version: the version in force (0 for none); anything not
 * newer is refused before a byte is fetched. Returns the staged file's path; its signature
 * file is staged beside it with ".sig" added. */
void        pm_downloads_fetch_package_async   (PmNetClient             *client,
                                                const PmManifestPackage *package,
                                                PmVerifyKey             *package_key,
                                                const char              *staging_dir,
                                                gint64                   installed_version,
                                                PmNetProgressFunc        progress,
                                                gpointer                 progress_data,
                                                GCancellable            *cancellable,
                                                GAsyncReadyCallback      callback,
                                                gpointer                 user_data);
char       *pm_downloads_fetch_package_finish  (PmNetClient             *client,
                                                GAsyncResult            *result,
                                                GError                 **error);

/* Installs a staged, verified package and its signature file as
 * install_dir/<type>-<name>-<version>/{package,package.sig} and swaps the symbolic link
 * install_dir/<type>-<name> to it in one rename. The version it replaces stays (the
 * fallback until the new one is proven); older ones are removed. Blocking file I/O: call
 * from a worker thread. */
gboolean    pm_downloads_install               (const PmManifestPackage *package,
                                                const char              *staged_path,
                                                const char              *install_dir,
                                                GError                 **error);
/* The file in force for a package type and name (load it with pm_package_load_file ()). */
char       *pm_downloads_get_installed_path    (const char              *install_dir,
                                                const char              *type,
                                                const char              *name);
/* The content type a package's signature file names for a package type. */
char       *pm_downloads_content_type          (const char              *type);
/* A rate package takes effect on its effective date; others at once. */
gboolean    pm_downloads_is_in_effect          (const PmManifestPackage *package,
                                                const GDate             *today);

void        pm_downloads_confirm_async         (PmNetClient             *client,
                                                const PmManifestPackage *package,
                                                gboolean                 installed,
                                                const char              *detail,
                                                GCancellable            *cancellable,
                                                GAsyncReadyCallback      callback,
                                                gpointer                 user_data);
gboolean    pm_downloads_confirm_finish        (PmNetClient             *client,
                                                GAsyncResult            *result,
                                                GError                 **error);

/* ---- accounting -------------------------------------------------------------------- */

/* Sends the machine's cost accounts and usage; returns the data center's list. */
void            pm_accounting_sync_async  (PmNetClient          *client,
                                           PmAccountsSync       *local,
                                           GCancellable         *cancellable,
                                           GAsyncReadyCallback   callback,
                                           gpointer              user_data);
PmAccountsSync *pm_accounting_sync_finish (PmNetClient          *client,
                                           GAsyncResult         *result,
                                           GError              **error);
/* The merged list the machine keeps: every account from both sides, each resolved with
 * pm_wire_account_merge () (the data center wins ties). Returns new PmWireAccount copies. */
GPtrArray      *pm_accounting_merge       (GPtrArray            *local,
                                           GPtrArray            *remote);

/* ---- health ------------------------------------------------------------------------ */

/* PUT to health/<device>/<sha256>.xml with Content-MD5 and x-amz-checksum-sha256; succeeds
 * only when the data center's ETag matches the body's MD5. */
void     pm_health_put_async  (PmNetClient          *client,
                               const PmHealthRecord *record,
                               GCancellable         *cancellable,
                               GAsyncReadyCallback   callback,
                               gpointer              user_data);
gboolean pm_health_put_finish (PmNetClient          *client,
                               GAsyncResult         *result,
                               GError              **error);

G_END_DECLS
