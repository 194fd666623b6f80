/* pm-connection.c: the meter's link to the data center, its state and its schedule
 *
 * Runs on the thread that made the connection's first call (its thread-default main
 * context); blocking work goes to GTask worker threads.
 */
#include "pm-connection.h"

#include <glib/gi18n.h>

#include "pm-clock.h"
#include "pm-connection-private.h"
#include "pm-download-flow.h"
#include "pm-funds-flow.h"
#include "pm-log.h"
#include "pm-package.h"
#include "pm-upload-flow.h"

G_DEFINE_QUARK (pm-connection-error-quark, pm_connection_error)

G_DEFINE_FINAL_TYPE (PmConnection, pm_connection, G_TYPE_OBJECT)

enum
{
  SIGNAL_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* How often, when online, the schedule does each thing. */
#define DOWNLOAD_CHECK_INTERVAL_US  ((gint64) 24 * 3600 * G_USEC_PER_SEC)
#define HEALTH_INTERVAL_US          ((gint64) 6 * 3600 * G_USEC_PER_SEC)
#define ACTIVATION_INTERVAL_US      ((gint64) 3600 * G_USEC_PER_SEC)
#define ERROR_WINDOW_US             ((gint64) 24 * 3600 * G_USEC_PER_SEC)
/* The most an error log may add to a health record (which may be 4 MiB), before base64. */
#define ERROR_LOG_BUDGET_BYTES      (2 * 1024 * 1024)

void
pm_connection_config_clear (PmConnectionConfig *config)
{
  g_clear_pointer (&config->datacenter_url, g_free);
  g_clear_pointer (&config->connectivity_url, g_free);
  g_clear_pointer (&config->ca_file, g_free);
  g_clear_pointer (&config->provider_key_file, g_free);
  g_clear_pointer (&config->install_dir, g_free);
  g_clear_pointer (&config->software_version, g_free);
}

static void
config_copy (PmConnectionConfig       *to,
             const PmConnectionConfig *from)
{
  to->datacenter_url = g_strdup (from->datacenter_url);
  to->connectivity_url = g_strdup (from->connectivity_url);
  to->ca_file = g_strdup (from->ca_file);
  to->provider_key_file = g_strdup (from->provider_key_file);
  to->install_dir = g_strdup (from->install_dir);
  to->timeout_s = from->timeout_s != 0 ? from->timeout_s : 30;
  to->audit_at_every_refill = from->audit_at_every_refill;
  to->software_version = g_strdup (from->software_version != NULL ? from->software_version
                                                                   : PM_VERSION);
}

static void
pm_connection_dispose (GObject *object)
{
  PmConnection *self = PM_CONNECTION (object);

  pm_connection_stop (self);
  G_OBJECT_CLASS (pm_connection_parent_class)->dispose (object);
}

static void
pm_connection_finalize (GObject *object)
{
  PmConnection *self = PM_CONNECTION (object);

  pm_connection_config_clear (&self->config);
  g_clear_object (&self->client);
  g_clear_object (&self->psd);
  g_clear_object (&self->store);
  g_clear_pointer (&self->provider_key, pm_verify_key_unref);
  g_clear_pointer (&self->distributor_url, g_free);
  g_clear_pointer (&self->download_name, g_free);
  g_clear_pointer (&self->psd_status, pm_psd_status_free);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_clear_pointer (&self->error_times, g_array_unref);
  g_clear_pointer (&self->check, pm_connectivity_result_free);
  g_clear_pointer (&self->check_refused, g_free);
  g_clear_pointer (&self->sign_in_failure, g_free);
  g_clear_pointer (&self->skew_words, g_free);
  for (guint i = 0; i < PM_CONNECTION_N_TOPICS; i++)
    {
      g_free (self->short_text[i]);
      g_free (self->sentence[i]);
    }

  G_OBJECT_CLASS (pm_connection_parent_class)->finalize (object);
}

static void
pm_connection_class_init (PmConnectionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = pm_connection_dispose;
  object_class->finalize = pm_connection_finalize;

  /* Emitted on the connection's thread whenever a topic, the PSD status or the balance
   * changes. */
  signals[SIGNAL_CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass),
                                          G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                          G_TYPE_NONE, 0);
}

static void
pm_connection_init (PmConnection *self)
{
  self->balance = -1;
  self->refill_min = -1;
  self->refill_max = -1;
  self->error_times = g_array_new (FALSE, FALSE, sizeof (gint64));
  self->started_us = g_get_monotonic_time ();
}

/* ---- construction -------------------------------------------------------------------- */

static gboolean
add_to_allowlist (PmAllowlist *allowlist,
                  const char  *what,
                  const char  *url,
                  const char  *scheme,
                  GError     **error)
{
  g_autoptr(GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);

  if (uri == NULL || g_strcmp0 (g_uri_get_scheme (uri), scheme) != 0 ||
      g_uri_get_host (uri) == NULL)
    {
      g_set_error (error, PM_CONNECTION_ERROR, PM_CONNECTION_ERROR_CONFIG,
                   _("The %s address “%s” is not a %s:// address. Correct it in "
                     "Settings > Network."), what, url, scheme);
      return FALSE;
    }
  return pm_allowlist_add_url (allowlist, url, error);
}

PmConnection *
pm_connection_new (const PmConnectionConfig *config,
                   PmPsd                    *psd,
                   PmStore                  *store,
                   GError                  **error)
{
  g_autoptr(PmConnection) self = NULL;
  g_autoptr(PmAllowlist) allowlist = pm_allowlist_new ();
  g_autofree char *base = NULL;

  g_return_val_if_fail (config != NULL, NULL);
  g_return_val_if_fail (PM_IS_PSD (psd), NULL);
  g_return_val_if_fail (PM_IS_STORE (store), NULL);

  if (config->datacenter_url == NULL || *config->datacenter_url == '\0')
    {
      g_set_error (error, PM_CONNECTION_ERROR, PM_CONNECTION_ERROR_CONFIG,
                   _("No data center address is set. Enter the address the provider gave "
                     "you in Settings > Network."));
      return NULL;
    }
  if (config->ca_file == NULL || config->provider_key_file == NULL)
    {
      g_set_error (error, PM_CONNECTION_ERROR, PM_CONNECTION_ERROR_CONFIG,
                   _("The provider's certificate authority or signing key is not set up; "
                     "call the provider"));
      return NULL;
    }

  self = g_object_new (PM_TYPE_CONNECTION, NULL);
  config_copy (&self->config, config);
  self->psd = g_object_ref (psd);
  self->store = g_object_ref (store);

  /* One allowlist, made here once: the data center over TLS, the check over plain HTTP
   * (the only plain HTTP the service table allows). */
  if (!add_to_allowlist (allowlist, _("data center"), config->datacenter_url, "https", error))
    return NULL;
  if (config->connectivity_url != NULL && *config->connectivity_url != '\0' &&
      !add_to_allowlist (allowlist, _("connectivity check"), config->connectivity_url,
                         "http", error))
    return NULL;

  self->provider_key = pm_package_load_key (config->provider_key_file, error);
  if (self->provider_key == NULL)
    {
      g_prefix_error (error, _("The provider's signing key could not be read: "));
      return NULL;
    }
  self->client = pm_net_client_new (config->ca_file, allowlist, self->config.timeout_s, error);
  if (self->client == NULL)
    return NULL;

  base = g_strdup (config->datacenter_url);
  while (g_str_has_suffix (base, "/"))
    base[strlen (base) - 1] = '\0';
  self->distributor_url = g_strconcat (base, "/distributor/authenticate", NULL);
  return g_steal_pointer (&self);
}

typedef struct
{
  PmConnectionConfig config;
  PmPsd             *psd;
  PmStore           *store;
} NewData;

static void
new_data_free (NewData *data)
{
  pm_connection_config_clear (&data->config);
  g_clear_object (&data->psd);
  g_clear_object (&data->store);
  g_free (data);
}

static void
new_thread (GTask        *task,
            gpointer      source,
            gpointer      task_data,
            GCancellable *cancellable)
{
  NewData *data = task_data;
  GError *error = NULL;
  PmConnection *connection = pm_connection_new (&data->config, data->psd, data->store,
                                                &error);

  if (connection == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, connection, g_object_unref);
}

void
pm_connection_new_async (const PmConnectionConfig *config,
                         PmPsd                    *psd,
                         PmStore                  *store,
                         GCancellable             *cancellable,
                         GAsyncReadyCallback       callback,
                         gpointer                  user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  NewData *data = g_new0 (NewData, 1);

  config_copy (&data->config, config);
  data->psd = g_object_ref (psd);
  data->store = g_object_ref (store);
  g_task_set_source_tag (task, pm_connection_new_async);
  g_task_set_task_data (task, data, (GDestroyNotify) new_data_free);
  g_task_run_in_thread (task, new_thread);
}

PmConnection *
pm_connection_new_finish (GAsyncResult  *result,
                          GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

PmNetClient *
pm_connection_get_client (PmConnection *self)
{
  g_return_val_if_fail (PM_IS_CONNECTION (self), NULL);
  return self->client;
}

PmPsd *
pm_connection_get_psd (PmConnection *self)
{
  g_return_val_if_fail (PM_IS_CONNECTION (self), NULL);
  return self->psd;
}

PmStore *
pm_connection_get_store (PmConnection *self)
{
  g_return_val_if_fail (PM_IS_CONNECTION (self), NULL);
  return self->store;
}

PmVerifyKey *
pm_connection_get_provider_key (PmConnection *self)
{
  g_return_val_if_fail (PM_IS_CONNECTION (self), NULL);
  return self->provider_key;
}

const PmConnectionConfig *
pm_connection_get_config (PmConnection *self)
{
  g_return_val_if_fail (PM_IS_CONNECTION (self), NULL);
  return &self->config;
}

char *
pm_connection_dup_psd_serial (PmConnection *self)
{
  return g_strdup_printf ("%u", pm_psd_get_serial (self->psd));
}

/* ---- state --------------------------------------------------------------------------- */

static void
emit_changed (PmConnection *self)
{
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

void
pm_connection_set_topic (PmConnection      *self,
                         PmConnectionTopic  topic,
                         PmConnectionLevel  level,
                         const char        *short_text,
                         const char        *sentence)
{
  self->level[topic] = level;
  g_free (self->short_text[topic]);
  self->short_text[topic] = g_strdup (short_text);
  g_free (self->sentence[topic]);
  self->sentence[topic] = g_strdup (sentence != NULL ? sentence : short_text);
  emit_changed (self);
}

PmConnectionLevel
pm_connection_get_topic (PmConnection       *self,
                         PmConnectionTopic   topic,
                         const char        **out_short,
                         const char        **out_sentence)
{
  g_return_val_if_fail (PM_IS_CONNECTION (self), PM_CONNECTION_LEVEL_UNKNOWN);
  g_return_val_if_fail (topic < PM_CONNECTION_N_TOPICS, PM_CONNECTION_LEVEL_UNKNOWN);

  if (out_short != NULL)
    *out_short = self->short_text[topic];
  if (out_sentence != NULL)
    *out_sentence = self->sentence[topic];
  return self->level[topic];
}

const PmPsdStatus *
pm_connection_get_psd_status (PmConnection *self)
{
  g_return_val_if_fail (PM_IS_CONNECTION (self), NULL);
  return self->psd_status;
}

PmMills
pm_connection_get_account_balance (PmConnection *self)
{
  g_return_val_if_fail (PM_IS_CONNECTION (self), -1);
  return self->balance;
}

void
pm_connection_get_refill_limits (PmConnection *self,
                                 PmMills      *out_minimum,
                                 PmMills      *out_maximum)
{
  g_return_if_fail (PM_IS_CONNECTION (self));

  if (out_minimum != NULL)
    *out_minimum = self->refill_min;
  if (out_maximum != NULL)
    *out_maximum = self->refill_max;
}

gboolean
pm_connection_get_download_progress (PmConnection  *self,
                                     const char   **out_name,
                                     gint64        *out_received,
                                     gint64        *out_total)
{
  g_return_val_if_fail (PM_IS_CONNECTION (self), FALSE);

  if (out_name != NULL)
    *out_name = self->download_name;
  if (out_received != NULL)
    *out_received = self->download_received;
  if (out_total != NULL)
    *out_total = self->download_total;
  return self->download_name != NULL;
}

void
pm_connection_set_download_progress (PmConnection *self,
                                     const char   *name,
                                     gint64        received,
                                     gint64        total)
{
  gboolean same_package = g_strcmp0 (self->download_name, name) == 0;
  int percent = total > 0 ? (int) (received * 100 / total) : -1;

  self->download_received = received;
  self->download_total = total;
  if (same_package && percent == self->download_percent)
    return;

  if (!same_package)
    {
      g_free (self->download_name);
      self->download_name = g_strdup (name);
    }
  self->download_percent = percent;
  emit_changed (self);
}

gboolean
pm_connection_is_busy (PmConnection *self)
{
  g_return_val_if_fail (PM_IS_CONNECTION (self), FALSE);
  return self->busy > 0;
}

void
pm_connection_hold (PmConnection *self)
{
  if (self->busy++ == 0)
    emit_changed (self);
}

void
pm_connection_release (PmConnection *self)
{
  g_return_if_fail (self->busy > 0);
  if (--self->busy == 0)
    emit_changed (self);
}

static char *
format_date (gint64 unix_s)
{
  g_autoptr(GDateTime) when = g_date_time_new_from_unix_local (unix_s);

  return when != NULL ? g_date_time_format (when, "%-d %b %Y") : g_strdup ("?");
}

void
pm_connection_take_psd_status (PmConnection *self,
                               PmPsdStatus  *status)
{
  g_autofree char *funds = NULL;
  g_autofree char *funds_sentence = NULL;
  g_autofree char *due = NULL;
  g_autofree char *lock = NULL;
  g_autofree char *last = NULL;
  g_autofree char *inspection_sentence = NULL;
  gint64 now = pm_clock_now_s ();

  g_clear_pointer (&self->psd_status, pm_psd_status_free);
  self->psd_status = status;

  funds = pm_money_format (status->descending);
  /* A damaged PSD reads as blank; say what it is rather than invite setting it up. */
  if (status->lock_reason == PM_PSD_LOCK_DAMAGED || status->lock_reason == PM_PSD_LOCK_WITHDRAWN)
    {
      g_autofree char *sentence = g_strdup_printf (_("The PSD is locked: %s. Call support; "
                                                     "do not delete its files."),
                                                   status->lock_message != NULL
                                                   ? status->lock_message
                                                   : pm_psd_lock_reason_to_string (
                                                       status->lock_reason));

      pm_connection_set_topic (self, PM_CONNECTION_TOPIC_FUNDS, PM_CONNECTION_LEVEL_ERROR,
                               _("PSD locked"), sentence);
      pm_connection_set_topic (self, PM_CONNECTION_TOPIC_INSPECTION,
                               PM_CONNECTION_LEVEL_ERROR, _("PSD locked"), sentence);
      return;
    }
  if (!status->has_operational_block)
    {
      pm_connection_set_topic (self, PM_CONNECTION_TOPIC_FUNDS, PM_CONNECTION_LEVEL_ERROR,
                               _("Not set up"),
                               _("The PSD has no operational block yet. Connect to the data "
                                 "center to install it (Funds > Connect now)."));
      pm_connection_set_topic (self, PM_CONNECTION_TOPIC_INSPECTION,
                               PM_CONNECTION_LEVEL_ERROR, _("Not set up"), NULL);
      return;
    }

  funds_sentence = g_strdup_printf (_("%s of postage in the PSD"), funds);
  pm_connection_set_topic (self, PM_CONNECTION_TOPIC_FUNDS,
                           status->descending > 0 ? PM_CONNECTION_LEVEL_OK
                                                  : PM_CONNECTION_LEVEL_ERROR,
                           funds, funds_sentence);

  due = format_date (status->inspection_due);
  lock = format_date (status->inspection_lock);
  last = status->last_inspection > 0 ? format_date (status->last_inspection)
                                     : g_strdup (_("never"));
  if (pm_psd_status_is_locked (status))
    {
      inspection_sentence = g_strdup_printf (_("Printing is stopped: %s. An inspection "
                                               "clears it: press Connect now."),
                                             status->lock_message != NULL
                                               ? status->lock_message
                                               : pm_psd_lock_reason_to_string (
                                                   status->lock_reason));
      pm_connection_set_topic (self, PM_CONNECTION_TOPIC_INSPECTION, PM_CONNECTION_LEVEL_ERROR,
                               _("Required"), inspection_sentence);
    }
  else if (status->inspection_state == PM_PSD_INSPECTION_LOCKED || now >= status->inspection_lock)
    {
      inspection_sentence = g_strdup_printf (_("The inspection was due on %s; printing "
                                               "stops until it passes. Press Connect now."),
                                             due);
      pm_connection_set_topic (self, PM_CONNECTION_TOPIC_INSPECTION, PM_CONNECTION_LEVEL_ERROR,
                               _("Required"), inspection_sentence);
    }
  else if (status->inspection_state == PM_PSD_INSPECTION_WARNING || now >= status->inspection_due)
    {
      g_autofree char *text = g_strdup_printf (_("Due by %s"), lock);

      inspection_sentence = g_strdup_printf (_("An inspection is due; printing stops on "
                                               "%s unless the meter connects before."), lock);
      pm_connection_set_topic (self, PM_CONNECTION_TOPIC_INSPECTION,
                               PM_CONNECTION_LEVEL_WARNING, text, inspection_sentence);
    }
  else
    {
      g_autofree char *text = g_strdup_printf (_("Next %s"), due);

      inspection_sentence = g_strdup_printf (_("Last inspection %s; the next is due on %s."),
                                             last, due);
      pm_connection_set_topic (self, PM_CONNECTION_TOPIC_INSPECTION, PM_CONNECTION_LEVEL_OK,
                               text, inspection_sentence);
    }
}

void
pm_connection_note_error (PmConnection *self,
                          const GError *error)
{
  gint64 now = pm_clock_now_us ();

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  g_array_append_val (self->error_times, now);
  while (self->error_times->len > 0 &&
         g_array_index (self->error_times, gint64, 0) < now - ERROR_WINDOW_US)
    g_array_remove_index (self->error_times, 0);
  /* For the journal: what failed, in the words the screen shows. Faults in the program
   * itself are warned about where they happen. */
  g_message ("Data center: %s", error->message);
}

/* ---- the network topic ---------------------------------------------------------------- */

/* How the check was answered, when it was answered with anything but 204: the words an IT
 * administrator needs to find the device in the way. */
static char *
describe_interception (const PmConnectivityResult *check)
{
  if (check->http_status == 511)
    return g_strdup_printf (_("Filtered: something on the network asked for a network "
                              "sign-in (HTTP 511) when the connectivity check at %s should "
                              "have answered 204 No Content."), check->url);
  if (SOUP_STATUS_IS_REDIRECTION (check->http_status) && check->location != NULL)
    return g_strdup_printf (_("Filtered: something on the network redirected the "
                              "connectivity check at %s to %s (HTTP %u) instead of "
                              "answering 204 No Content."), check->url, check->location,
                            check->http_status);
  if (pm_connectivity_result_is_web_page (check))
    return g_strdup_printf (_("Filtered: something on the network answered the connectivity "
                              "check at %s with a web page (HTTP %u) instead of 204 No "
                              "Content."), check->url, check->http_status);
  return g_strdup_printf (_("Filtered: something on the network answered the connectivity "
                            "check at %s with HTTP %u instead of 204 No Content."),
                          check->url, check->http_status);
}

/* Only a 204 from the connectivity check is "Online". The check and the sign-in are told
 * apart, because each points at a different rule: a portal or filter that answers the
 * check, a firewall that blocks it while the data center is reachable, or a data center
 * that cannot be reached at all. */
void
pm_connection_update_network (PmConnection *self)
{
  const PmConnectivityResult *check = self->check;
  gboolean reached = self->sign_in == PM_SIGN_IN_OK;
  gboolean failed = self->sign_in == PM_SIGN_IN_FAILED;
  g_autoptr(GString) sentence = g_string_new (NULL);
  const char *short_text = NULL;
  PmConnectionLevel level = PM_CONNECTION_LEVEL_UNKNOWN;

  if (self->check_refused != NULL)
    {
      pm_connection_set_topic (self, PM_CONNECTION_TOPIC_NETWORK, PM_CONNECTION_LEVEL_ERROR,
                               _("Refused"), self->check_refused);
      return;
    }

  if (check == NULL)
    {
      gboolean no_check = self->config.connectivity_url == NULL ||
                          *self->config.connectivity_url == '\0';

      if (failed)
        {
          short_text = _("No data center");
          level = PM_CONNECTION_LEVEL_ERROR;
          g_string_append (sentence, self->sign_in_failure);
        }
      else if (reached && no_check)
        {
          /* Without a check configured, signing in is the only test there is. */
          short_text = _("Online");
          level = PM_CONNECTION_LEVEL_OK;
          g_string_append (sentence, _("Signed in to the data center. No connectivity "
                                       "check is set up."));
        }
      else if (reached)
        {
          short_text = _("Signed in");
          level = PM_CONNECTION_LEVEL_OK;
          g_string_append (sentence, _("Signed in to the data center; the connectivity "
                                       "check has not run yet."));
        }
      else
        return;
    }
  else if (check->state == PM_CONNECTIVITY_ONLINE)
    {
      if (failed)
        {
          short_text = _("No data center");
          level = PM_CONNECTION_LEVEL_ERROR;
          g_string_append_printf (sentence, _("The network is open (the connectivity check "
                                              "at %s answered 204 No Content), but the data "
                                              "center could not be reached: %s"),
                                  check->url, self->sign_in_failure);
        }
      else
        {
          short_text = _("Online");
          level = PM_CONNECTION_LEVEL_OK;
          g_string_append_printf (sentence, _("The connectivity check at %s answered 204 No "
                                              "Content."), check->url);
          if (reached)
            g_string_append_printf (sentence, " %s", _("Signed in to the data center."));
        }
    }
  else
    {
      if (check->state == PM_CONNECTIVITY_PORTAL)
        {
          g_autofree char *what = describe_interception (check);

          short_text = _("Filtered");
          g_string_append (sentence, what);
          g_string_append_printf (sentence, " %s", _("A captive portal, proxy or web filter "
                                                     "is in the way."));
          g_string_append_printf (sentence, _(" Let this machine reach %s directly, without "
                                              "sign-in, filtering or a block page."),
                                  check->host);
        }
      else if (reached)
        {
          short_text = _("Check blocked");
          g_string_append_printf (sentence, _("The connectivity check at %s got no answer "
                                              "(%s), but the data center is otherwise "
                                              "reachable: a firewall blocks the check. Allow "
                                              "plain HTTP from this machine to %s on TCP "
                                              "port %u."),
                                  check->url, check->failure, check->host, check->port);
        }
      else
        {
          short_text = _("Offline");
          g_string_append_printf (sentence, _("Nothing answered the connectivity check at %s "
                                              "(%s)."), check->url, check->failure);
        }

      if (reached && check->state == PM_CONNECTIVITY_PORTAL)
        g_string_append_printf (sentence, " %s", _("The data center itself answers over TLS, "
                                                   "so only the check is intercepted."));
      else if (failed)
        {
          g_string_append_printf (sentence, _(" The data center could not be reached "
                                              "either: %s"), self->sign_in_failure);
          /* The failure is a network library's message, often without a full stop. */
          if (!g_str_has_suffix (sentence->str, "."))
            g_string_append_c (sentence, '.');
        }
      g_string_append_printf (sentence, " %s", _("Until the check answers 204, the meter "
                                                 "does not connect by itself; Connect now "
                                                 "still tries."));
      /* The meter can still work through Connect now when the data center answers. */
      level = reached ? PM_CONNECTION_LEVEL_WARNING : PM_CONNECTION_LEVEL_ERROR;
    }

  if (reached && self->skew_words != NULL)
    {
      if (level == PM_CONNECTION_LEVEL_OK)
        {
          pm_connection_set_topic (self, PM_CONNECTION_TOPIC_NETWORK,
                                   PM_CONNECTION_LEVEL_WARNING, _("Clock wrong"),
                                   self->skew_words);
          return;
        }
      g_string_append_printf (sentence, " %s", self->skew_words);
    }

  pm_connection_set_topic (self, PM_CONNECTION_TOPIC_NETWORK, level, short_text,
                           sentence->str);
}

/* ---- signing in ---------------------------------------------------------------------- */

static void
sign_in_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PmConnection *self = g_task_get_source_object (task);
  g_autoptr(PmAuthResponse) response = NULL;
  g_autoptr(GError) error = NULL;
  gint64 skew = 0;

  response = pm_distributor_authenticate_finish (PM_NET_CLIENT (source), result, &skew,
                                                 &error);
  if (response == NULL)
    {
      pm_connection_note_error (self, error);
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          self->sign_in = PM_SIGN_IN_FAILED;
          g_free (self->sign_in_failure);
          self->sign_in_failure = g_strdup (error->message);
          pm_connection_update_network (self);
        }
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  self->sign_in = PM_SIGN_IN_OK;
  g_clear_pointer (&self->sign_in_failure, g_free);
  g_free (self->skew_words);
  self->skew_words = pm_distributor_describe_skew (skew);
  pm_connection_update_network (self);
  g_task_return_boolean (task, TRUE);
}

void
pm_connection_sign_in_async (PmConnection        *self,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  GTask *task;
  g_autoptr(PmVerifyKey) key = NULL;
  PmAuthRequest request = { 0 };

  g_return_if_fail (PM_IS_CONNECTION (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, pm_connection_sign_in_async);

  key = pm_psd_get_public_key (self->psd);
  request.psd_serial = pm_connection_dup_psd_serial (self);
  request.certificate = pm_verify_key_to_pem (key);
  request.software_version = self->config.software_version;
  request.model = (char *) "PMSW";
  pm_distributor_authenticate_async (self->client, self->distributor_url, &request,
                                     cancellable, sign_in_cb, task);
  g_free (request.psd_serial);
  g_bytes_unref (request.certificate);
}

gboolean
pm_connection_sign_in_finish (PmConnection  *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
pm_connection_ensure_session_async (PmConnection        *self,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  g_autofree char *token = pm_net_client_dup_token (self->client);

  if (token == NULL)
    {
      pm_connection_sign_in_async (self, cancellable, callback, user_data);
      return;
    }

  {
    g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);

    g_task_set_source_tag (task, pm_connection_sign_in_async);
    g_task_return_boolean (task, TRUE);
  }
}

gboolean
pm_connection_ensure_session_finish (PmConnection  *self,
                                     GAsyncResult  *result,
                                     GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- the network check ---------------------------------------------------------------- */

static void
check_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PmConnection *self = g_task_get_source_object (task);
  g_autoptr(GError) error = NULL;
  PmConnectivityResult *check;

  check = pm_connectivity_check_finish_result (PM_NET_CLIENT (source), result, &error);
  if (check == NULL)
    {
      /* Only a refusal before anything was sent gets here: the address is not allowed. */
      g_free (self->check_refused);
      self->check_refused = g_strdup (error->message);
      pm_connection_update_network (self);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  g_clear_pointer (&self->check_refused, g_free);
  g_clear_pointer (&self->check, pm_connectivity_result_free);
  self->check = check;
  pm_connection_update_network (self);
  g_task_return_int (task, check->state);
}

void
pm_connection_check_network_async (PmConnection        *self,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (PM_IS_CONNECTION (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, pm_connection_check_network_async);
  if (self->config.connectivity_url == NULL || *self->config.connectivity_url == '\0')
    {
      /* No check configured: signing in is the test. */
      g_task_return_int (task, PM_CONNECTIVITY_ONLINE);
      g_object_unref (task);
      return;
    }
  pm_connectivity_check_async (self->client, self->config.connectivity_url, cancellable,
                               check_cb, task);
}

PmConnectivityState
pm_connection_check_network_finish (PmConnection  *self,
                                    GAsyncResult  *result,
                                    GError       **error)
{
  g_autoptr(GError) local_error = NULL;
  gssize state = g_task_propagate_int (G_TASK (result), &local_error);

  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return PM_CONNECTIVITY_OFFLINE;
    }
  return (PmConnectivityState) state;
}

/* ---- Test connection ------------------------------------------------------------------ */

static void
probe_done_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  GPtrArray *results = pm_connectivity_probe_finish (PM_NET_CLIENT (source), result, &error);

  if (results == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, results, (GDestroyNotify) g_ptr_array_unref);
}

static void
probe_signed_in_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  GTask *task = user_data;
  PmConnection *self = PM_CONNECTION (source);
  g_autoptr(GPtrArray) services = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) urls = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;

  /* Whether or not signing in worked, probe what is known: a failure there is just what
   * the probe explains step by step. */
  pm_connection_sign_in_finish (self, result, &error);

  g_ptr_array_add (services, g_strdup (pm_remote_service_to_string (
                                         PM_REMOTE_SERVICE_DISTRIBUTOR)));
  g_ptr_array_add (urls, g_strdup (self->distributor_url));
  if (self->config.connectivity_url != NULL && *self->config.connectivity_url != '\0')
    {
      g_ptr_array_add (services, g_strdup (pm_remote_service_to_string (
                                             PM_REMOTE_SERVICE_CONNECTIVITY)));
      g_ptr_array_add (urls, g_strdup (self->config.connectivity_url));
    }
  for (guint s = 0; error == NULL && s < PM_REMOTE_SERVICE_COUNT; s++)
    {
      char *url;

      if (s == PM_REMOTE_SERVICE_DISTRIBUTOR || s == PM_REMOTE_SERVICE_CONNECTIVITY)
        continue;
      url = pm_net_client_dup_service_url (self->client, s);
      if (url == NULL)
        continue;
      g_ptr_array_add (services, g_strdup (pm_remote_service_to_string (s)));
      g_ptr_array_add (urls, url);
    }
  g_ptr_array_add (services, NULL);
  g_ptr_array_add (urls, NULL);

  pm_connectivity_probe_async (self->client, (const char * const *) services->pdata,
                               (const char * const *) urls->pdata,
                               g_task_get_cancellable (task), probe_done_cb, task);
}

void
pm_connection_probe_async (PmConnection        *self,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (PM_IS_CONNECTION (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, pm_connection_probe_async);
  pm_connection_sign_in_async (self, cancellable, probe_signed_in_cb, task);
}

GPtrArray *
pm_connection_probe_finish (PmConnection  *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- refresh --------------------------------------------------------------------------- */

static void
refresh_uploads_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(PmUploadState) state = NULL;
  GError *error = NULL;

  state = pm_upload_flow_get_state_finish (PM_CONNECTION (source), result, &error);
  if (state == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
refresh_psd_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  GTask *task = user_data;
  PmConnection *self = g_task_get_source_object (task);
  GError *error = NULL;
  PmPsdStatus *status = pm_psd_get_status_finish (PM_PSD (source), result, &error);

  if (status == NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  pm_connection_take_psd_status (self, status);
  pm_upload_flow_get_state_async (self, g_task_get_cancellable (task), refresh_uploads_cb,
                                  task);
}

void
pm_connection_refresh_async (PmConnection        *self,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (PM_IS_CONNECTION (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, pm_connection_refresh_async);
  pm_psd_get_status_async (self->psd, cancellable, refresh_psd_cb, task);
}

gboolean
pm_connection_refresh_finish (PmConnection  *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- health ---------------------------------------------------------------------------- */

static void
health_put_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PmConnection *self = g_task_get_source_object (task);
  GError *error = NULL;

  if (!pm_health_put_finish (PM_NET_CLIENT (source), result, &error))
    {
      pm_connection_note_error (self, error);
      g_task_return_error (task, error);
      return;
    }
  self->last_health_us = pm_clock_now_us ();
  g_task_return_boolean (task, TRUE);
}

static void
health_disk_thread (GTask        *task,
                    gpointer      source,
                    gpointer      task_data,
                    GCancellable *cancellable)
{
  PmConnection *self = source;
  PmHealthRecord *record = task_data;
  g_autoptr(GFile) dir = g_file_new_for_path (pm_store_get_path (self->store));
  g_autoptr(GFile) parent = g_file_get_parent (dir);
  g_autoptr(GFileInfo) info = NULL;

  info = g_file_query_filesystem_info (parent,
                                       G_FILE_ATTRIBUTE_FILESYSTEM_FREE ","
                                       G_FILE_ATTRIBUTE_FILESYSTEM_SIZE, cancellable, NULL);
  if (info != NULL)
    {
      record->disk_free_bytes =
        (gint64) g_file_info_get_attribute_uint64 (info, G_FILE_ATTRIBUTE_FILESYSTEM_FREE);
      record->disk_total_bytes =
        (gint64) g_file_info_get_attribute_uint64 (info, G_FILE_ATTRIBUTE_FILESYSTEM_SIZE);
    }
  g_task_return_boolean (task, TRUE);
}

static void
health_gathered_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  GTask *task = user_data;
  PmConnection *self = PM_CONNECTION (source);
  PmHealthRecord *record = g_task_get_task_data (G_TASK (result));

  pm_health_put_async (self->client, record, g_task_get_cancellable (task), health_put_cb,
                       task);
}

static void
health_session_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  GTask *task = user_data;
  PmConnection *self = PM_CONNECTION (source);
  GError *error = NULL;
  g_autofree char *device = NULL;
  PmHealthRecord *record;
  GTask *gather;

  if (!pm_connection_ensure_session_finish (self, result, &error))
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }

  device = pm_net_client_dup_device_id (self->client);
  record = pm_health_record_new (device);
  if (g_task_get_task_data (task) != NULL)
    record->log = g_bytes_ref (g_task_get_task_data (task));
  record->taken_at = pm_clock_now_s ();
  record->uptime_s = (g_get_monotonic_time () - self->started_us) / G_USEC_PER_SEC;
  record->errors_24h = self->error_times->len;
  if (self->psd_status == NULL)
    record->psd_state = g_strdup ("unknown");
  else if (pm_psd_status_is_locked (self->psd_status))
    record->psd_state = g_strdup_printf ("locked: %s",
                                         pm_psd_lock_reason_to_string (
                                           self->psd_status->lock_reason));
  else
    record->psd_state = g_strdup_printf ("ok, inspection %s",
                                         pm_psd_inspection_state_to_string (
                                           self->psd_status->inspection_state));

  gather = g_task_new (self, g_task_get_cancellable (task), health_gathered_cb, task);
  g_task_set_task_data (gather, record, (GDestroyNotify) pm_health_record_free);
  g_task_run_in_thread (gather, health_disk_thread);
  g_object_unref (gather);
}

/* log: an error log to attach, or NULL. */
static void
send_health (PmConnection        *self,
             GBytes              *log,
             GCancellable        *cancellable,
             GAsyncReadyCallback  callback,
             gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, pm_connection_send_health_async);
  if (log != NULL)
    g_task_set_task_data (task, g_bytes_ref (log), (GDestroyNotify) g_bytes_unref);
  pm_connection_ensure_session_async (self, cancellable, health_session_cb, task);
}

void
pm_connection_send_health_async (PmConnection        *self,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_return_if_fail (PM_IS_CONNECTION (self));

  send_health (self, NULL, cancellable, callback, user_data);
}

gboolean
pm_connection_send_health_finish (PmConnection  *self,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- the error log ---------------------------------------------------------------------- */

static void
error_log_sent_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (!pm_connection_send_health_finish (PM_CONNECTION (source), result, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  g_message ("Error log of %u records sent to the data center",
             GPOINTER_TO_UINT (g_task_get_task_data (task)));
  g_task_return_int (task, GPOINTER_TO_UINT (g_task_get_task_data (task)));
}

void
pm_connection_send_error_log_async (PmConnection        *self,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GPtrArray) records = NULL;
  g_autoptr(GBytes) text = NULL;
  guint64 dropped = 0;

  g_return_if_fail (PM_IS_CONNECTION (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, pm_connection_send_error_log_async);

  /* A copy taken now: what is logged while it travels waits for the next request. */
  records = pm_log_ring_snapshot (&dropped);
  if (records->len == 0)
    {
      g_task_return_int (task, 0);
      return;
    }
  text = pm_log_records_to_text (records, dropped);
  while (g_bytes_get_size (text) > ERROR_LOG_BUDGET_BYTES && records->len > 1)
    {
      /* The newest records say most about the fault support was called for. */
      guint cut = MAX (records->len / 4, 1);

      g_ptr_array_remove_range (records, 0, cut);
      dropped += cut;
      g_bytes_unref (text);
      text = pm_log_records_to_text (records, dropped);
    }

  g_task_set_task_data (task, GUINT_TO_POINTER (records->len), NULL);
  send_health (self, text, cancellable, error_log_sent_cb, g_steal_pointer (&task));
}

gboolean
pm_connection_send_error_log_finish (PmConnection  *self,
                                     GAsyncResult  *result,
                                     guint         *out_sent,
                                     GError       **error)
{
  g_autoptr(GError) local_error = NULL;
  gssize sent;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  sent = g_task_propagate_int (G_TASK (result), &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  if (out_sent != NULL)
    *out_sent = (guint) sent;
  return TRUE;
}

/* ---- Connect now ------------------------------------------------------------------------ */

/* The steps after signing in, in order. Each reports its own failure on its topic (and in
 * the log) and the next goes on: an upload fault must not stop an inspection. */
typedef enum
{
  STEP_BLOCK,
  STEP_INSPECT,
  STEP_HISTORY,
  STEP_UPLOAD,
  STEP_DOWNLOAD,
  STEP_ACTIVATE,
  STEP_HEALTH,
  STEP_DONE,
} ConnectStep;

typedef struct
{
  ConnectStep step;
  GError     *first_error;
} ConnectData;

static void
connect_data_free (ConnectData *data)
{
  g_clear_error (&data->first_error);
  g_free (data);
}

static void connect_next (GTask *task);

static void
connect_step_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GTask *task = user_data;
  PmConnection *self = PM_CONNECTION (source);
  ConnectData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  switch (data->step)
    {
    case STEP_BLOCK:
      {
        g_autoptr(PmPsdStatus) status = pm_funds_flow_install_block_finish (self, result,
                                                                            &error);
      }
      break;
    case STEP_INSPECT:
      {
        g_autoptr(PmPsdStatus) status = pm_funds_flow_inspect_finish (self, result, &error);
      }
      break;
    case STEP_HISTORY:
      {
        g_autoptr(PmFundsResponse) history = pm_funds_flow_history_finish (self, result,
                                                                           &error);
      }
      break;
    case STEP_UPLOAD:
      pm_upload_flow_run_finish (self, result, &error);
      break;
    case STEP_DOWNLOAD:
      {
        g_autoptr(PmDownloadOutcome) outcome = pm_download_flow_run_finish (self, result,
                                                                            &error);
      }
      break;
    case STEP_ACTIVATE:
      pm_download_flow_activate_finish (self, result, &error);
      break;
    case STEP_HEALTH:
      pm_connection_send_health_finish (self, result, &error);
      break;
    case STEP_DONE:
    default:
      g_assert_not_reached ();
    }

  if (error != NULL && data->first_error == NULL)
    data->first_error = g_steal_pointer (&error);
  data->step++;
  connect_next (task);
}

static void
connect_next (GTask *task)
{
  PmConnection *self = g_task_get_source_object (task);
  ConnectData *data = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  const PmPsdStatus *status = self->psd_status;

  if (g_cancellable_is_cancelled (cancellable))
    data->step = STEP_DONE;

  /* Steps that do not apply are skipped. */
  for (;;)
    {
      if (data->step == STEP_BLOCK && status != NULL && status->has_operational_block)
        data->step++;
      else if (data->step == STEP_INSPECT && status != NULL &&
               (!status->has_operational_block ||
                (status->inspection_state == PM_PSD_INSPECTION_OK &&
                 !pm_psd_status_is_locked (status))))
        data->step++;
      else if ((data->step == STEP_DOWNLOAD || data->step == STEP_ACTIVATE) &&
               self->config.install_dir == NULL)
        data->step++;
      else
        break;
    }

  switch (data->step)
    {
    case STEP_BLOCK:
      pm_funds_flow_install_block_async (self, cancellable, connect_step_cb, task);
      return;
    case STEP_INSPECT:
      pm_funds_flow_inspect_async (self, cancellable, connect_step_cb, task);
      return;
    case STEP_HISTORY:
      pm_funds_flow_history_async (self, cancellable, connect_step_cb, task);
      return;
    case STEP_UPLOAD:
      pm_upload_flow_run_async (self, cancellable, connect_step_cb, task);
      return;
    case STEP_DOWNLOAD:
      self->last_download_check_us = pm_clock_now_us ();
      pm_download_flow_run_async (self, NULL, NULL, NULL, cancellable, connect_step_cb, task);
      return;
    case STEP_ACTIVATE:
      self->last_activation_us = pm_clock_now_us ();
      pm_download_flow_activate_async (self, cancellable, connect_step_cb, task);
      return;
    case STEP_HEALTH:
      pm_connection_send_health_async (self, cancellable, connect_step_cb, task);
      return;
    case STEP_DONE:
    default:
      break;
    }

  pm_connection_release (self);
  if (data->first_error != NULL)
    g_task_return_error (task, g_steal_pointer (&data->first_error));
  else
    g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

static void
connect_refreshed_cb (GObject      *source,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  GTask *task = user_data;
  PmConnection *self = PM_CONNECTION (source);
  GError *error = NULL;

  if (!pm_connection_refresh_finish (self, result, &error))
    {
      pm_connection_release (self);
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  connect_next (task);
}

static void
connect_signed_in_cb (GObject      *source,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  GTask *task = user_data;
  PmConnection *self = PM_CONNECTION (source);
  GError *error = NULL;

  /* A failure is on the network topic already, joined with what the check saw. */
  if (!pm_connection_sign_in_finish (self, result, &error))
    {
      pm_connection_release (self);
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  pm_connection_refresh_async (self, g_task_get_cancellable (task), connect_refreshed_cb,
                               task);
}

static void
connect_checked_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  GTask *task = user_data;
  PmConnection *self = PM_CONNECTION (source);

  /* Whatever the check saw is on the network topic; signing in is tried regardless, and
   * the topic then tells both apart (a blocked check with the data center reachable). */
  pm_connection_check_network_finish (self, result, NULL);
  pm_connection_sign_in_async (self, g_task_get_cancellable (task), connect_signed_in_cb,
                               task);
}

void
pm_connection_connect_now_async (PmConnection        *self,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (PM_IS_CONNECTION (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, pm_connection_connect_now_async);
  g_task_set_task_data (task, g_new0 (ConnectData, 1), (GDestroyNotify) connect_data_free);
  pm_connection_hold (self);
  pm_connection_check_network_async (self, cancellable, connect_checked_cb, task);
}

gboolean
pm_connection_connect_now_finish (PmConnection  *self,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- the schedule ------------------------------------------------------------------------ */

static void tick_finished (PmConnection *self);

static void
tick_step_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  PmConnection *self = PM_CONNECTION (source);
  g_autoptr(GError) error = NULL;

  /* Failures were noted by the workflows and shown on their topics. */
  if (g_task_get_source_tag (G_TASK (result)) == pm_connection_connect_now_async)
    pm_connection_connect_now_finish (self, result, &error);
  else
    pm_upload_flow_run_finish (self, result, &error);
  tick_finished (self);
}

static void
tick_uploads_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  PmConnection *self = PM_CONNECTION (source);
  g_autoptr(PmUploadState) state = NULL;
  gint64 now = pm_clock_now_us ();
  gboolean full;

  state = pm_upload_flow_get_state_finish (self, result, NULL);

  /* Everything (inspection, downloads, health, activation) when one of them is due;
   * otherwise just the uploads, whenever records wait. */
  full = (self->psd_status != NULL &&
          (!self->psd_status->has_operational_block ||
           self->psd_status->inspection_state != PM_PSD_INSPECTION_OK)) ||
         now - self->last_download_check_us >= DOWNLOAD_CHECK_INTERVAL_US ||
         now - self->last_health_us >= HEALTH_INTERVAL_US ||
         now - self->last_activation_us >= ACTIVATION_INTERVAL_US;
  if (full)
    pm_connection_connect_now_async (self, NULL, tick_step_cb, NULL);
  else if (state != NULL && state->waiting > 0 && !self->uploading)
    pm_upload_flow_run_async (self, NULL, tick_step_cb, NULL);
  else
    tick_finished (self);
}

static void
tick_checked_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  PmConnection *self = PM_CONNECTION (source);
  PmConnectivityState state = pm_connection_check_network_finish (self, result, NULL);

  if (state != PM_CONNECTIVITY_ONLINE || self->busy > 0)
    {
      tick_finished (self);
      return;
    }
  pm_upload_flow_get_state_async (self, NULL, tick_uploads_cb, NULL);
}

static gboolean
tick_cb (gpointer user_data)
{
  PmConnection *self = PM_CONNECTION (user_data);

  if (self->ticking)
    return G_SOURCE_CONTINUE;
  self->ticking = TRUE;
  g_object_ref (self);
  pm_connection_check_network_async (self, NULL, tick_checked_cb, NULL);
  return G_SOURCE_CONTINUE;
}

static void
tick_finished (PmConnection *self)
{
  self->ticking = FALSE;
  g_object_unref (self);
}

void
pm_connection_start (PmConnection *self,
                     guint         check_interval_s)
{
  g_autoptr(GSource) source = NULL;

  g_return_if_fail (PM_IS_CONNECTION (self));

  pm_connection_stop (self);
  self->check_interval_s = check_interval_s != 0 ? check_interval_s : 300;
  g_clear_pointer (&self->context, g_main_context_unref);
  self->context = g_main_context_ref_thread_default ();

  source = g_timeout_source_new_seconds (self->check_interval_s);
  g_source_set_callback (source, tick_cb, self, NULL);
  g_source_set_name (source, "[postmeter] data center schedule");
  self->tick_id = g_source_attach (source, self->context);

  /* A first look at once: the status line should not wait for the first period. */
  tick_cb (self);
}

void
pm_connection_stop (PmConnection *self)
{
  g_return_if_fail (PM_IS_CONNECTION (self));

  if (self->tick_id != 0)
    {
      GSource *source = g_main_context_find_source_by_id (self->context, self->tick_id);

      if (source != NULL)
        g_source_destroy (source);
      self->tick_id = 0;
    }
}
