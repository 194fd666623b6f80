/* pm-connectivity.h: is the machine really online, and which firewall rule is wrong
 *
 * The check asks a plain-HTTP address that answers 204 No Content. Only a 204 means online:
 * a 200, a redirect or a 511 means a captive portal, proxy or filter answered instead.
 *
 * The probe is for the Test connection screen: for every service it tries, step by step,
 * the name lookup, the TCP connection, the TLS handshake against the provider's CA and an
 * HTTP exchange, and says in words which step failed and what to change.
 */
#pragma once

#include "pm-net-client.h"

G_BEGIN_DECLS

typedef enum
{
  PM_CONNECTIVITY_ONLINE,
  PM_CONNECTIVITY_PORTAL,     /* something answered, but not with 204 */
  PM_CONNECTIVITY_OFFLINE,    /* nothing answered */
} PmConnectivityState;

void                pm_connectivity_check_async  (PmNetClient         *client,
                                                  const char          *url,
                                                  GCancellable        *cancellable,
                                                  GAsyncReadyCallback  callback,
                                                  gpointer             user_data);
/* out_explanation: a sentence for the status line (for an IT administrator when the state
 * is not online). Errors only for refusals (the URL is not on the allowlist). */
PmConnectivityState pm_connectivity_check_finish (PmNetClient         *client,
                                                  GAsyncResult        *result,
                                                  char               **out_explanation,
                                                  GError             **error);

/* What the check saw, for a caller that puts it in its own words (the meter joins it with
 * what signing in to the data center saw). */
typedef struct
{
  PmConnectivityState state;
  char   *url;
  char   *host;
  guint   port;
  guint   http_status;        /* 0 when nothing answered */
  char   *content_type;       /* of a non-204 answer, without parameters; may be NULL */
  char   *location;           /* where a redirect pointed; may be NULL */
  char   *failure;            /* why nothing answered (offline); NULL otherwise */
  char   *explanation;        /* the same sentence pm_connectivity_check_finish () gives */
} PmConnectivityResult;

void                  pm_connectivity_result_free          (PmConnectivityResult *result);
/* TRUE when a non-204 answer was a web page (a portal's sign-in or a filter's block page). */
gboolean              pm_connectivity_result_is_web_page   (const PmConnectivityResult *result);
PmConnectivityResult *pm_connectivity_check_finish_result  (PmNetClient         *client,
                                                            GAsyncResult        *result,
                                                            GError             **error);

typedef enum
{
  PM_PROBE_STEP_ALLOWLIST,
  PM_PROBE_STEP_DNS,
  PM_PROBE_STEP_TCP,
  PM_PROBE_STEP_TLS,          /* skipped (ok) for plain HTTP services */
  PM_PROBE_STEP_HTTP,
  PM_PROBE_N_STEPS,
} PmProbeStep;

typedef enum
{
  PM_PROBE_NOT_RUN,
  PM_PROBE_PASSED,
  PM_PROBE_FAILED,
  PM_PROBE_SKIPPED,
} PmProbeOutcome;

typedef struct
{
  char           *service;              /* "funds", "uploads", ... */
  char           *url;
  char           *host;
  guint           port;
  PmProbeOutcome  outcome[PM_PROBE_N_STEPS];
  char           *detail[PM_PROBE_N_STEPS];  /* what was seen at each step; may be NULL */
  char           *address;              /* the IP address the name resolved to */
  guint           http_status;          /* 0 when no HTTP answer */
  char           *advice;               /* NULL when every step passed */
} PmProbeResult;

void        pm_probe_result_free              (PmProbeResult *result);
const char *pm_probe_step_to_string           (PmProbeStep    step);
gboolean    pm_probe_result_passed            (const PmProbeResult *result);

/* services and urls: parallel NULL-terminated lists. Results come in the same order. */
void        pm_connectivity_probe_async       (PmNetClient         *client,
                                               const char * const  *services,
                                               const char * const  *urls,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
GPtrArray  *pm_connectivity_probe_finish      (PmNetClient         *client,
                                               GAsyncResult        *result,
                                               GError             **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmProbeResult, pm_probe_result_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmConnectivityResult, pm_connectivity_result_free)

G_END_DECLS
