/* pm-connection-private.h: what the connection's workflow files share */
#pragma once

#include "pm-connection.h"

G_BEGIN_DECLS

typedef enum
{
  PM_SIGN_IN_UNKNOWN,                /* not tried yet */
  PM_SIGN_IN_OK,
  PM_SIGN_IN_FAILED,
} PmSignInState;

struct _PmConnection
{
  GObject parent_instance;

  /* Set at construction, never changed; any thread may read them. */
  PmConnectionConfig config;
  PmNetClient       *client;
  PmPsd             *psd;
  PmStore           *store;
  PmVerifyKey       *provider_key;
  char              *distributor_url;
  gint64             started_us;     /* monotonic time at construction */

  /* The connection's thread only. */
  GMainContext      *context;        /* where "changed" is emitted */
  PmPsdStatus       *psd_status;
  PmMills            balance;
  PmMills            refill_min;
  PmMills            refill_max;
  PmConnectionLevel  level[PM_CONNECTION_N_TOPICS];
  char              *short_text[PM_CONNECTION_N_TOPICS];
  char              *sentence[PM_CONNECTION_N_TOPICS];
  guint              busy;           /* workflows running */
  gboolean           uploading;
  gboolean           downloading;
  char              *download_name;  /* the package being fetched; NULL between packages */
  gint64             download_received;
  gint64             download_total;
  int                download_percent; /* last shown, so "changed" is not emitted per read */
  GArray            *error_times;    /* gint64 µs of recent failures, for health */
  /* What the network topic is made of (pm_connection_update_network ()): the last 204
   * check and the last sign-in, whichever came first. */
  PmConnectivityResult *check;       /* NULL before the first check */
  char              *check_refused;  /* the check's address is not allowed; else NULL */
  PmSignInState      sign_in;
  char              *sign_in_failure; /* why the last sign-in failed; NULL when it worked */
  char              *skew_words;     /* the clock's distance from the data center's */
  guint              tick_id;
  guint              check_interval_s;
  gint64             last_download_check_us;
  gint64             last_health_us;
  gint64             last_activation_us;
  gboolean           ticking;
};

/* Sets a topic and emits "changed". */
void     pm_connection_set_topic       (PmConnection      *self,
                                        PmConnectionTopic  topic,
                                        PmConnectionLevel  level,
                                        const char        *short_text,
                                        const char        *sentence);
/* Makes the network topic from the last check and the last sign-in, and emits "changed"
 * when it moves. */
void     pm_connection_update_network  (PmConnection      *self);
/* Takes status; updates the funds and inspection topics from it. */
void     pm_connection_take_psd_status (PmConnection      *self,
                                        PmPsdStatus       *status);
/* A workflow failed: remembered for the health record, and logged. */
void     pm_connection_note_error      (PmConnection      *self,
                                        const GError      *error);
void     pm_connection_hold            (PmConnection      *self);
void     pm_connection_release         (PmConnection      *self);
/* Signs in when there is no session yet, then calls back. */
void     pm_connection_ensure_session_async  (PmConnection        *self,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
gboolean pm_connection_ensure_session_finish (PmConnection        *self,
                                              GAsyncResult        *result,
                                              GError             **error);
/* The download flow tells what it fetches; name NULL when it stops. */
void     pm_connection_set_download_progress (PmConnection *self,
                                              const char   *name,
                                              gint64        received,
                                              gint64        total);
/* PSD serial as the protocol writes it. */
char    *pm_connection_dup_psd_serial  (PmConnection      *self);

G_END_DECLS
