/* pm-net-client.h: the machine's one way out to the network
 *
 * A PmNetClient owns the network thread: its own GMainContext and the only SoupSession,
 * configured on that thread before any request (timeouts, HTTP/1.1, a TLS database that
 * holds the provider's CA and nothing else, no redirects, the desktop's proxy settings).
 * Callers on any thread submit requests with the _async functions; the callback runs on the
 * caller's thread-default main context.
 *
 * The allowlist is fixed when the client is made. A URL whose scheme, host and port are not
 * on it is refused before any DNS lookup or connection, and the refusal is logged.
 */
#pragma once

#include <gio/gio.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

#define PM_NET_ERROR (pm_net_error_quark ())

typedef enum
{
  PM_NET_ERROR_NOT_ALLOWED,     /* the URL is not on the allowlist; nothing was sent */
  PM_NET_ERROR_NO_TLS,          /* glib-networking is missing: TLS cannot work */
  PM_NET_ERROR_CA,              /* the provider CA file is unreadable */
  PM_NET_ERROR_DNS,             /* the host name does not resolve */
  PM_NET_ERROR_CONNECT,         /* no TCP connection (refused, unreachable, blocked) */
  PM_NET_ERROR_TLS,             /* the server's certificate is not from the provider's CA */
  PM_NET_ERROR_TIMEOUT,         /* the server stopped answering */
  PM_NET_ERROR_TRANSPORT,       /* the connection broke mid-way */
  PM_NET_ERROR_REDIRECT,        /* the server answered with a redirect; never followed */
  PM_NET_ERROR_CLIENT,          /* a 4xx answer: the data center refused the request */
  PM_NET_ERROR_SERVER,          /* a 5xx answer: the data center has a fault */
  PM_NET_ERROR_TOO_LARGE,       /* the answer is bigger than allowed; reading stopped */
  PM_NET_ERROR_PROTOCOL,        /* the answer is not a valid message */
  PM_NET_ERROR_SIGNATURE,       /* a signed answer does not verify */
  PM_NET_ERROR_MISMATCH,        /* an answer that does not match the request */
  PM_NET_ERROR_PORTAL,          /* something other than the data center answered */
  PM_NET_ERROR_NOT_AUTHENTICATED, /* no session yet: authenticate with the distributor */
  PM_NET_ERROR_CANCELLED,
  PM_NET_ERROR_STALE,           /* a download older than, or as old as, what is installed */
  PM_NET_ERROR_IO,              /* a local file could not be written */
} PmNetError;

GQuark pm_net_error_quark (void);

/* TRUE for errors where sending the same request again later may work. */
gboolean pm_net_error_is_retryable (const GError *error);
/* Exponential backoff with jitter, capped: the delay before attempt number attempt (1..). */
guint    pm_net_retry_delay_ms     (guint attempt);

/* ---- allowlist --------------------------------------------------------------------- */

typedef struct _PmAllowlist PmAllowlist;

PmAllowlist *pm_allowlist_new    (void);
PmAllowlist *pm_allowlist_ref    (PmAllowlist *list);
void         pm_allowlist_unref  (PmAllowlist *list);
/* scheme is "https" or "http"; plain http should only be allowed for the 204 check. */
void         pm_allowlist_add    (PmAllowlist *list,
                                  const char  *scheme,
                                  const char  *host,
                                  guint        port);
/* Adds the scheme, host and port of url. */
gboolean     pm_allowlist_add_url (PmAllowlist *list,
                                   const char  *url,
                                   GError     **error);
gboolean     pm_allowlist_check  (PmAllowlist *list,
                                  const char  *url,
                                  GError     **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmAllowlist, pm_allowlist_unref)

/* ---- requests ---------------------------------------------------------------------- */

typedef void (*PmNetProgressFunc) (gint64   received,
                                   gint64   total,      /* -1 when unknown */
                                   gpointer user_data);

typedef struct
{
  char    *method;
  char    *url;
  char    *content_type;           /* of body; may be NULL */
  GBytes  *body;                   /* may be NULL */
  char   **headers;                /* name, value, name, value, ..., NULL; may be NULL */
  gboolean idempotent;             /* a keyed upload: safe on a reused connection */
  guint    deadline_s;             /* 0: the session's timeouts only */
  gsize    max_body;               /* refuse answers larger than this; 0: 4 MiB */
  char    *sink_file;              /* append the body there instead of keeping it */
  PmNetProgressFunc progress;      /* called on the caller's context; may be NULL */
  gpointer progress_data;
} PmNetRequest;

typedef struct
{
  guint               status;
  SoupMessageHeaders *headers;
  GBytes             *body;        /* empty when a sink file was used */
  gint64              received;    /* body bytes read */
} PmNetResponse;

PmNetRequest  *pm_net_request_new      (const char    *method,
                                        const char    *url);
void           pm_net_request_add_header (PmNetRequest *request,
                                          const char   *name,
                                          const char   *value);
void           pm_net_request_free     (PmNetRequest  *request);
void           pm_net_response_free    (PmNetResponse *response);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmNetRequest, pm_net_request_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmNetResponse, pm_net_response_free)

#define PM_TYPE_NET_CLIENT (pm_net_client_get_type ())
G_DECLARE_FINAL_TYPE (PmNetClient, pm_net_client, PM, NET_CLIENT, GObject)

/* ca_file: the provider's CA (PEM), the only trust anchor. timeout_s: the session's
 * connect and reply timeout (never 0). */
PmNetClient  *pm_net_client_new            (const char    *ca_file,
                                            PmAllowlist   *allowlist,
                                            guint          timeout_s,
                                            GError       **error);
PmAllowlist  *pm_net_client_get_allowlist  (PmNetClient   *self);
GTlsDatabase *pm_net_client_get_tls_database (PmNetClient *self);
GMainContext *pm_net_client_get_context    (PmNetClient   *self);

/* Takes the request. Any HTTP status comes back as a response; only transport failures and
 * refusals are errors. */
void           pm_net_client_send_async    (PmNetClient         *self,
                                            PmNetRequest        *request,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data);
PmNetResponse *pm_net_client_send_finish   (PmNetClient         *self,
                                            GAsyncResult        *result,
                                            GError             **error);

/* Like send, but a status outside 2xx becomes an error in plain words (with the data
 * center's own <error> sentence when it sent one). */
void           pm_net_client_call_async    (PmNetClient         *self,
                                            PmNetRequest        *request,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data);
PmNetResponse *pm_net_client_call_finish   (PmNetClient         *self,
                                            GAsyncResult        *result,
                                            GError             **error);

/* ---- the session with the data center ---------------------------------------------- */

/* After the distributor answered: the device id, the bearer token and each service's base
 * URL. Kept by the client (thread safe); every service call uses it. */
void   pm_net_client_set_session   (PmNetClient *self,
                                    const char  *device_id,
                                    const char  *token,
                                    const char * const *service_urls);
/* Copies; NULL when not authenticated or the service is unknown. */
char  *pm_net_client_dup_device_id (PmNetClient *self);
char  *pm_net_client_dup_token     (PmNetClient *self);
char  *pm_net_client_dup_service_url (PmNetClient *self,
                                      guint        service);
/* A request to a service of the current session: its base URL plus suffix, with the
 * bearer token. Fails when there is no session or the distributor named no such service. */
PmNetRequest *pm_net_client_new_service_request (PmNetClient *self,
                                                 guint        service,
                                                 const char  *method,
                                                 const char  *suffix,
                                                 GError     **error);

G_END_DECLS
