/* pm-connection.h: the meter's link to the provider's data center
 *
 * A PmConnection joins the network client (src/net), the PSD (drivers/psd) and the store
 * (src/store) for every data center workflow: signing in, refills, inspections, the
 * operational block, a replacement PSD (pm-funds-flow.h), uploads (pm-upload-flow.h),
 * downloads (pm-download-flow.h) and health records. Every signed answer goes to the PSD,
 * which alone decides whether to apply it.
 *
 * Threads: a connection belongs to the thread that starts it (the kiosk's main thread, a
 * tool's or a test's). Requests run on the network thread, PSD operations on the PSD's
 * worker, blocking store calls on a GTask worker thread; each _async call answers on the
 * caller's thread-default main context. Nothing here blocks its caller.
 *
 * The connection also keeps what the status line shows (network, funds, inspection,
 * uploads) and emits "changed" on its own thread when any of it moves.
 */
#pragma once

#include <gio/gio.h>

#include "pm-connectivity.h"
#include "pm-net-services.h"
#include "pm-psd.h"
#include "pm-store.h"

G_BEGIN_DECLS

#define PM_CONNECTION_ERROR (pm_connection_error_quark ())

typedef enum
{
  PM_CONNECTION_ERROR_CONFIG,        /* the data center address, CA or key is missing */
  PM_CONNECTION_ERROR_PSD,           /* the PSD refused or cannot do what was asked */
  PM_CONNECTION_ERROR_BUSY,          /* the same workflow is already running */
} PmConnectionError;

GQuark pm_connection_error_quark (void);

/* Where the data center is and what to trust. Paths and URLs are copied. */
typedef struct
{
  char    *datacenter_url;      /* "https://dc.example.com:443": the distributor is there */
  char    *connectivity_url;    /* "http://dc.example.com/generate_204"; NULL: none */
  char    *ca_file;             /* the provider's CA (PEM): the only TLS trust anchor */
  char    *provider_key_file;   /* the provider's signing key (PEM public key) */
  char    *install_dir;         /* installed packages; NULL: downloads are not installed */
  guint    timeout_s;           /* 0: 30 s */
  gboolean audit_at_every_refill;
  char    *software_version;    /* NULL: this build's version */
} PmConnectionConfig;

void                pm_connection_config_clear (PmConnectionConfig *config);

#define PM_TYPE_CONNECTION (pm_connection_get_type ())
G_DECLARE_FINAL_TYPE (PmConnection, pm_connection, PM, CONNECTION, GObject)

/* Reads the CA and the provider key: blocking file I/O, so call it from a worker thread
 * (pm_connection_new_async () does). The allowlist holds the data center's address over
 * TLS and the connectivity check's address over plain HTTP, and nothing else. */
PmConnection *pm_connection_new          (const PmConnectionConfig *config,
                                          PmPsd                    *psd,
                                          PmStore                  *store,
                                          GError                  **error);
void          pm_connection_new_async    (const PmConnectionConfig *config,
                                          PmPsd                    *psd,
                                          PmStore                  *store,
                                          GCancellable             *cancellable,
                                          GAsyncReadyCallback       callback,
                                          gpointer                  user_data);
PmConnection *pm_connection_new_finish   (GAsyncResult             *result,
                                          GError                  **error);

PmNetClient  *pm_connection_get_client       (PmConnection *self);
PmPsd        *pm_connection_get_psd          (PmConnection *self);
PmStore      *pm_connection_get_store        (PmConnection *self);
PmVerifyKey  *pm_connection_get_provider_key (PmConnection *self);
const PmConnectionConfig *pm_connection_get_config (PmConnection *self);

/* ---- what the status line shows (the connection's thread) ------------------------- */

typedef enum
{
  PM_CONNECTION_LEVEL_UNKNOWN,
  PM_CONNECTION_LEVEL_OK,
  PM_CONNECTION_LEVEL_WARNING,
  PM_CONNECTION_LEVEL_ERROR,
} PmConnectionLevel;

typedef enum
{
  PM_CONNECTION_TOPIC_NETWORK,
  PM_CONNECTION_TOPIC_FUNDS,
  PM_CONNECTION_TOPIC_INSPECTION,
  PM_CONNECTION_TOPIC_UPLOAD,
  PM_CONNECTION_N_TOPICS,
} PmConnectionTopic;

/* A short text for the status line ("Online", "$1,234.56", "Due in 3 days", ...), and a
 * longer sentence for the screen that explains it (may equal the short one). */
PmConnectionLevel   pm_connection_get_topic      (PmConnection       *self,
                                                  PmConnectionTopic   topic,
                                                  const char        **out_short,
                                                  const char        **out_sentence);
/* The last PSD status seen; NULL before the first. */
const PmPsdStatus  *pm_connection_get_psd_status (PmConnection       *self);
/* The customer account at the data center as last reported; -1 when unknown. */
PmMills             pm_connection_get_account_balance (PmConnection  *self);
/* The provider's refill limits as last reported; -1 when unknown. */
void                pm_connection_get_refill_limits (PmConnection    *self,
                                                     PmMills         *out_minimum,
                                                     PmMills         *out_maximum);
/* TRUE while a package is being downloaded: its name ("rates usps-domestic 3"), the
 * bytes received and the total (-1 when unknown). */
gboolean            pm_connection_get_download_progress (PmConnection  *self,
                                                         const char   **out_name,
                                                         gint64        *out_received,
                                                         gint64        *out_total);
/* TRUE while a workflow is talking to the data center. */
gboolean            pm_connection_is_busy        (PmConnection       *self);

/* ---- signing in and the network ----------------------------------------------------- */

/* Authenticates with the distributor (PSD serial and certificate, software version) and
 * keeps the session; a clock far from the data center's is reported on the network topic.
 * The workflows sign in by themselves when there is no session. */
void      pm_connection_sign_in_async       (PmConnection        *self,
                                             GCancellable        *cancellable,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data);
gboolean  pm_connection_sign_in_finish      (PmConnection        *self,
                                             GAsyncResult        *result,
                                             GError             **error);

/* The 204 check. The network topic joins what the last check and the last sign-in saw:
 * "Online" only when the check answered 204; "Filtered" when something else answered it
 * (a portal's or filter's page, a redirect, a network sign-in), "Check blocked" when
 * nothing answered it but the data center does, "Offline" when neither answers, "No data
 * center" when the check answers but the data center does not. The sentence names the
 * address, the HTTP status or failure, and the rule to change. */
void                pm_connection_check_network_async  (PmConnection        *self,
                                                        GCancellable        *cancellable,
                                                        GAsyncReadyCallback  callback,
                                                        gpointer             user_data);
PmConnectivityState pm_connection_check_network_finish (PmConnection        *self,
                                                        GAsyncResult        *result,
                                                        GError             **error);

/* The Test connection screen: every service, step by step (pm-connectivity.h). Signs in
 * first to learn the services' addresses; when that fails, the distributor and the
 * connectivity check are probed, which is where a firewall shows itself. */
void        pm_connection_probe_async        (PmConnection        *self,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
GPtrArray  *pm_connection_probe_finish       (PmConnection        *self,
                                              GAsyncResult        *result,
                                              GError             **error);

/* "Connect now": signs in, inspects when the PSD asks for it, refreshes the funds,
 * uploads what waits, fetches newer packages and sends a health record. Stops at the
 * first failure of the sign-in; later steps report their own failures and go on. */
void      pm_connection_connect_now_async   (PmConnection        *self,
                                             GCancellable        *cancellable,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data);
gboolean  pm_connection_connect_now_finish  (PmConnection        *self,
                                             GAsyncResult        *result,
                                             GError             **error);

/* The schedule: checks the network every check_interval_s; when online, uploads
 * whenever records wait (and at least daily), inspects when the PSD warns, checks for
 * packages daily and activates staged ones on their effective date, and sends health
 * records. 0 picks 300 s. Runs on the calling thread's default main context. */
void      pm_connection_start               (PmConnection        *self,
                                             guint                check_interval_s);
void      pm_connection_stop                (PmConnection        *self);

/* Re-reads the PSD status and the upload backlog and updates the topics. */
void      pm_connection_refresh_async       (PmConnection        *self,
                                             GCancellable        *cancellable,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data);
gboolean  pm_connection_refresh_finish      (PmConnection        *self,
                                             GAsyncResult        *result,
                                             GError             **error);

/* A health record: uptime, disk, errors in the last day, PSD state. */
void      pm_connection_send_health_async   (PmConnection        *self,
                                             GCancellable        *cancellable,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data);
gboolean  pm_connection_send_health_finish  (PmConnection        *self,
                                             GAsyncResult        *result,
                                             GError             **error);

/* Support's "Send error log to the provider": the program's recent warnings and errors
 * (pm-log.h) go to the data center inside a health record, an S3-style PUT with content
 * checksums that the data center checks, parses and keeps. Answers the number of records
 * sent; 0 when there were none, and then nothing is sent. */
void      pm_connection_send_error_log_async  (PmConnection        *self,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
gboolean  pm_connection_send_error_log_finish (PmConnection        *self,
                                               GAsyncResult        *result,
                                               guint               *out_sent,
                                               GError             **error);

G_END_DECLS
