/* pm-funds-flow.c: refills, inspections, the operational block and a replacement PSD
 *
 * Runs on the connection's thread. Each step is asynchronous: the request on the network
 * thread, the signed answer to the PSD's worker, the record to the store through a worker
 * thread; the next step starts from the previous one's callback.
 */
#include "pm-funds-flow.h"

#include <glib/gi18n.h>

#include "pm-connection-private.h"
#include "pm-store-records.h"

void
pm_refill_outcome_free (PmRefillOutcome *outcome)
{
  if (outcome == NULL)
    return;
  g_free (outcome->receipt_id);
  g_clear_pointer (&outcome->status, pm_psd_status_free);
  g_free (outcome);
}

static PmFundsRequest *
new_request (PmConnection *self,
             PmFundsKind   kind)
{
  PmFundsRequest *request = g_new0 (PmFundsRequest, 1);

  request->kind = kind;
  request->psd_serial = pm_connection_dup_psd_serial (self);
  request->amount = -1;
  request->sequence = -1;
  return request;
}

/* The PSD's refusal, in words for the screen. Its state did not change. */
static GError *
psd_refused (const char   *what,
             const GError *error)
{
  return g_error_new (PM_CONNECTION_ERROR, PM_CONNECTION_ERROR_PSD,
                      _("The PSD refused the %s from the data center: %s. Nothing changed "
                        "in the PSD."), what, error->message);
}

/* Ends a workflow: releases the connection and returns through the task. */
static void
finish_error (GTask  *task,
              GError *error)
{
  PmConnection *self = g_task_get_source_object (task);

  pm_connection_note_error (self, error);
  pm_connection_release (self);
  g_task_return_error (task, error);
  g_object_unref (task);
}

static void
finish_status (GTask       *task,
               PmPsdStatus *status)
{
  PmConnection *self = g_task_get_source_object (task);

  pm_connection_take_psd_status (self, pm_psd_status_copy (status));
  pm_connection_release (self);
  g_task_return_pointer (task, status, (GDestroyNotify) pm_psd_status_free);
  g_object_unref (task);
}

/* ---- inspection ----------------------------------------------------------------------- */

typedef struct
{
  GBytes *audit_request;
} InspectData;

static void
inspect_data_free (InspectData *data)
{
  g_clear_pointer (&data->audit_request, g_bytes_unref);
  g_free (data);
}

static void
inspect_applied_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  GTask *task = user_data;
  g_autoptr(GError) error = NULL;
  PmPsdStatus *status = pm_psd_apply_audit_answer_finish (PM_PSD (source), result, &error);

  if (status == NULL)
    {
      finish_error (task, psd_refused (_("inspection answer"), error));
      return;
    }
  g_message ("Inspection passed; next due %" G_GINT64_FORMAT, status->inspection_due);
  finish_status (task, status);
}

static void
inspect_answered_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  GTask *task = user_data;
  PmConnection *self = g_task_get_source_object (task);
  g_autoptr(PmFundsResponse) response = NULL;
  GError *error = NULL;

  response = pm_funds_call_finish (PM_NET_CLIENT (source), result, &error);
  if (response == NULL)
    {
      finish_error (task, error);
      return;
    }
  pm_psd_apply_audit_answer_async (self->psd, response->psd_message,
                                   g_task_get_cancellable (task), inspect_applied_cb, task);
}

static void
inspect_audit_made_cb (GObject      *source,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  GTask *task = user_data;
  PmConnection *self = g_task_get_source_object (task);
  InspectData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  PmFundsRequest *request;

  data->audit_request = pm_psd_make_audit_request_finish (PM_PSD (source), result, &error);
  if (data->audit_request == NULL)
    {
      finish_error (task, g_error_new (PM_CONNECTION_ERROR, PM_CONNECTION_ERROR_PSD,
                                       _("The PSD could not prepare its inspection: %s"),
                                       error->message));
      return;
    }
  request = new_request (self, PM_FUNDS_AUDIT);
  request->psd_message = g_bytes_ref (data->audit_request);
  pm_funds_call_async (self->client, request, self->provider_key,
                       g_task_get_cancellable (task), inspect_answered_cb, task);
}

static void
inspect_session_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  GTask *task = user_data;
  PmConnection *self = PM_CONNECTION (source);
  GError *error = NULL;

  if (!pm_connection_ensure_session_finish (self, result, &error))
    {
      finish_error (task, error);
      return;
    }
  pm_psd_make_audit_request_async (self->psd, g_task_get_cancellable (task),
                                   inspect_audit_made_cb, task);
}

void
pm_funds_flow_inspect_async (PmConnection        *connection,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (PM_IS_CONNECTION (connection));

  task = g_task_new (connection, cancellable, callback, user_data);
  g_task_set_source_tag (task, pm_funds_flow_inspect_async);
  g_task_set_task_data (task, g_new0 (InspectData, 1), (GDestroyNotify) inspect_data_free);
  pm_connection_hold (connection);
  pm_connection_ensure_session_async (connection, cancellable, inspect_session_cb, task);
}

PmPsdStatus *
pm_funds_flow_inspect_finish (PmConnection  *connection,
                              GAsyncResult  *result,
                              GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- operational block ---------------------------------------------------------------- */

static void
block_installed_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  GTask *task = user_data;
  g_autoptr(GError) error = NULL;
  PmPsdStatus *status;

  status = pm_psd_install_operational_block_finish (PM_PSD (source), result, &error);
  if (status == NULL)
    {
      finish_error (task, psd_refused (_("operational block"), error));
      return;
    }
  g_message ("Operational block installed in PSD %u (origin ZIP %05u)", status->serial,
             status->origin_zip);
  finish_status (task, status);
}

static void
block_answered_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  GTask *task = user_data;
  PmConnection *self = g_task_get_source_object (task);
  g_autoptr(PmFundsResponse) response = NULL;
  GError *error = NULL;

  response = pm_funds_call_finish (PM_NET_CLIENT (source), result, &error);
  if (response == NULL)
    {
      finish_error (task, error);
      return;
    }
  pm_psd_install_operational_block_async (self->psd, response->psd_message,
                                          g_task_get_cancellable (task), block_installed_cb,
                                          task);
}

static void
block_session_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  GTask *task = user_data;
  PmConnection *self = PM_CONNECTION (source);
  g_autoptr(PmVerifyKey) key = NULL;
  GError *error = NULL;
  PmFundsRequest *request;

  if (!pm_connection_ensure_session_finish (self, result, &error))
    {
      finish_error (task, error);
      return;
    }
  key = pm_psd_get_public_key (self->psd);
  request = new_request (self, PM_FUNDS_OPERATIONAL_BLOCK);
  request->psd_message = pm_verify_key_to_pem (key);
  pm_funds_call_async (self->client, request, self->provider_key,
                       g_task_get_cancellable (task), block_answered_cb, task);
}

void
pm_funds_flow_install_block_async (PmConnection        *connection,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (PM_IS_CONNECTION (connection));

  task = g_task_new (connection, cancellable, callback, user_data);
  g_task_set_source_tag (task, pm_funds_flow_install_block_async);
  pm_connection_hold (connection);
  pm_connection_ensure_session_async (connection, cancellable, block_session_cb, task);
}

PmPsdStatus *
pm_funds_flow_install_block_finish (PmConnection  *connection,
                                    GAsyncResult  *result,
                                    GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- replacement PSD ------------------------------------------------------------------ */

typedef struct
{
  PmPsdStatus *status;
} ReplaceData;

static void
replace_data_free (ReplaceData *data)
{
  g_clear_pointer (&data->status, pm_psd_status_free);
  g_free (data);
}

static void
replace_signed_in_again_cb (GObject      *source,
                            GAsyncResult *result,
                            gpointer      user_data)
{
  GTask *task = user_data;
  ReplaceData *data = g_task_get_task_data (task);
  GError *error = NULL;

  /* The new PSD is configured either way; a failed sign-in is said, not hidden. */
  if (!pm_connection_sign_in_finish (PM_CONNECTION (source), result, &error))
    {
      finish_error (task, error);
      return;
    }
  finish_status (task, g_steal_pointer (&data->status));
}

static void
replace_installed_cb (GObject      *source,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  GTask *task = user_data;
  PmConnection *self = g_task_get_source_object (task);
  ReplaceData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  data->status = pm_psd_install_operational_block_finish (PM_PSD (source), result, &error);
  if (data->status == NULL)
    {
      finish_error (task, psd_refused (_("configuration for the replacement PSD"), error));
      return;
    }
  g_message ("Replacement PSD %u configured", data->status->serial);

  /* The session was the old PSD's: sign in again as the new one. */
  pm_net_client_set_session (self->client, NULL, NULL, NULL);
  pm_connection_sign_in_async (self, g_task_get_cancellable (task),
                               replace_signed_in_again_cb, task);
}

static void
replace_answered_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  GTask *task = user_data;
  PmConnection *self = g_task_get_source_object (task);
  g_autoptr(PmFundsResponse) response = NULL;
  GError *error = NULL;

  response = pm_funds_call_finish (PM_NET_CLIENT (source), result, &error);
  if (response == NULL)
    {
      finish_error (task, error);
      return;
    }
  pm_psd_install_operational_block_async (self->psd, response->psd_message,
                                          g_task_get_cancellable (task),
                                          replace_installed_cb, task);
}

static void
replace_old_signed_in_cb (GObject      *source,
                          GAsyncResult *result,
                          gpointer      user_data)
{
  GTask *task = user_data;
  PmConnection *self = g_task_get_source_object (task);
  g_autoptr(PmAuthResponse) auth = NULL;
  g_autoptr(PmVerifyKey) key = NULL;
  GError *error = NULL;
  PmFundsRequest *request;

  auth = pm_distributor_authenticate_finish (PM_NET_CLIENT (source), result, NULL, &error);
  if (auth == NULL)
    {
      g_prefix_error (&error, _("Signing in as the PSD being replaced failed: "));
      finish_error (task, error);
      return;
    }
  key = pm_psd_get_public_key (self->psd);
  request = new_request (self, PM_FUNDS_REPLACEMENT);
  request->psd_message = pm_verify_key_to_pem (key);
  pm_funds_call_async (self->client, request, self->provider_key,
                       g_task_get_cancellable (task), replace_answered_cb, task);
}

void
pm_funds_flow_replace_psd_async (PmConnection        *connection,
                                 guint32              old_serial,
                                 GBytes              *old_certificate,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  GTask *task;
  PmAuthRequest request = { 0 };

  g_return_if_fail (PM_IS_CONNECTION (connection));
  g_return_if_fail (old_certificate != NULL);

  task = g_task_new (connection, cancellable, callback, user_data);
  g_task_set_source_tag (task, pm_funds_flow_replace_psd_async);
  g_task_set_task_data (task, g_new0 (ReplaceData, 1), (GDestroyNotify) replace_data_free);
  pm_connection_hold (connection);

  request.psd_serial = g_strdup_printf ("%u", old_serial);
  request.certificate = old_certificate;
  request.software_version = connection->config.software_version;
  request.model = (char *) "PMSW";
  pm_distributor_authenticate_async (connection->client, connection->distributor_url,
                                     &request, cancellable, replace_old_signed_in_cb, task);
  g_free (request.psd_serial);
}

PmPsdStatus *
pm_funds_flow_replace_psd_finish (PmConnection  *connection,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- history ---------------------------------------------------------------------------- */

static void
history_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  GTask *task = user_data;
  PmConnection *self = g_task_get_source_object (task);
  PmFundsResponse *response;
  GError *error = NULL;

  response = pm_funds_call_finish (PM_NET_CLIENT (source), result, &error);
  if (response == NULL)
    {
      finish_error (task, error);
      return;
    }
  self->balance = response->balance;
  if (response->refill_minimum > 0)
    {
      self->refill_min = response->refill_minimum;
      self->refill_max = response->refill_maximum;
    }
  pm_connection_release (self);
  g_task_return_pointer (task, response, (GDestroyNotify) pm_funds_response_free);
  g_object_unref (task);
}

static void
history_session_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  GTask *task = user_data;
  PmConnection *self = PM_CONNECTION (source);
  GError *error = NULL;

  if (!pm_connection_ensure_session_finish (self, result, &error))
    {
      finish_error (task, error);
      return;
    }
  pm_funds_call_async (self->client, new_request (self, PM_FUNDS_HISTORY), self->provider_key,
                       g_task_get_cancellable (task), history_cb, task);
}

void
pm_funds_flow_history_async (PmConnection        *connection,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (PM_IS_CONNECTION (connection));

  task = g_task_new (connection, cancellable, callback, user_data);
  g_task_set_source_tag (task, pm_funds_flow_history_async);
  pm_connection_hold (connection);
  pm_connection_ensure_session_async (connection, cancellable, history_session_cb, task);
}

PmFundsResponse *
pm_funds_flow_history_finish (PmConnection  *connection,
                              GAsyncResult  *result,
                              GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- refill ------------------------------------------------------------------------------ */

typedef struct
{
  PmMills          amount;
  PmRefillOutcome *outcome;
  char            *psd_serial;
} RefillData;

static void
refill_data_free (RefillData *data)
{
  pm_refill_outcome_free (data->outcome);
  g_free (data->psd_serial);
  g_free (data);
}

static void
refill_recorded_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  GTask *task = user_data;
  PmConnection *self = g_task_get_source_object (task);
  RefillData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  /* The PSD holds the funds whatever the store said: a failure to record is reported,
   * and the Funds screen's history from the data center still lists the refill. */
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    pm_connection_note_error (self, error);

  pm_connection_take_psd_status (self, pm_psd_status_copy (data->outcome->status));
  if (data->outcome->balance >= 0)
    self->balance = data->outcome->balance;
  pm_connection_release (self);
  g_task_return_pointer (task, g_steal_pointer (&data->outcome),
                         (GDestroyNotify) pm_refill_outcome_free);
  g_object_unref (task);
}

static void
refill_record_thread (GTask        *task,
                      gpointer      source,
                      gpointer      task_data,
                      GCancellable *cancellable)
{
  PmConnection *self = source;
  RefillData *data = task_data;
  g_autoptr(PmRefill) refill = g_new0 (PmRefill, 1);
  GError *error = NULL;
  gboolean already = FALSE;

  refill->psd_serial = g_strdup (data->psd_serial);
  refill->sequence = data->outcome->sequence;
  refill->amount = data->outcome->amount;
  refill->receipt = g_strdup (data->outcome->receipt_id);
  if (!pm_store_record_refill (self->store, refill, &already, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
refill_applied_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  GTask *task = user_data;
  PmConnection *self = g_task_get_source_object (task);
  RefillData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autofree char *amount = NULL;
  GTask *record;

  data->outcome->status = pm_psd_refill_finish (PM_PSD (source), result, &error);
  if (data->outcome->status == NULL)
    {
      finish_error (task, psd_refused (_("refill"), error));
      return;
    }
  amount = pm_money_format (data->outcome->amount);
  g_message ("Refill %" G_GINT64_FORMAT " of %s applied to PSD %s (receipt %s)",
             data->outcome->sequence, amount, data->psd_serial, data->outcome->receipt_id);

  record = g_task_new (self, NULL, refill_recorded_cb, task);
  g_task_set_task_data (record, data, NULL);
  g_task_run_in_thread (record, refill_record_thread);
  g_object_unref (record);
}

static void
refill_answered_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  GTask *task = user_data;
  PmConnection *self = g_task_get_source_object (task);
  RefillData *data = g_task_get_task_data (task);
  g_autoptr(PmFundsResponse) response = NULL;
  GError *error = NULL;

  response = pm_funds_call_finish (PM_NET_CLIENT (source), result, &error);
  if (response == NULL)
    {
      finish_error (task, error);
      return;
    }
  data->outcome->receipt_id = g_strdup (response->receipt_id);
  data->outcome->amount = response->amount;
  data->outcome->sequence = response->sequence;
  data->outcome->issued_at = response->issued_at;
  data->outcome->balance = response->balance;

  /* The PSD checks the signature, its serial and the sequence again: it alone decides. */
  pm_psd_refill_async (self->psd, response->psd_message, g_task_get_cancellable (task),
                       refill_applied_cb, task);
}

static void
refill_request (GTask             *task,
                const PmPsdStatus *status)
{
  PmConnection *self = g_task_get_source_object (task);
  RefillData *data = g_task_get_task_data (task);
  PmFundsRequest *request = new_request (self, PM_FUNDS_REFILL);

  request->amount = data->amount;
  request->sequence = (gint64) status->last_refill_sequence + 1;
  /* A request id per sequence: a retry after a lost answer is the same request, and the
   * data center answers it with the refill it already issued. */
  request->request_id = g_strdup_printf ("refill-%u-%" G_GINT64_FORMAT, status->serial,
                                         request->sequence);
  pm_funds_call_async (self->client, request, self->provider_key,
                       g_task_get_cancellable (task), refill_answered_cb, task);
}

static void
refill_inspected_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  GTask *task = user_data;
  RefillData *data = g_task_get_task_data (task);
  g_autoptr(PmPsdStatus) status = NULL;
  GError *error = NULL;

  status = pm_funds_flow_inspect_finish (PM_CONNECTION (source), result, &error);
  if (status == NULL)
    {
      g_prefix_error (&error, _("No refill was asked for, because the inspection before it "
                                "failed: "));
      finish_error (task, error);
      return;
    }
  data->outcome->inspected = TRUE;
  refill_request (task, status);
}

static void
refill_status_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  GTask *task = user_data;
  PmConnection *self = g_task_get_source_object (task);
  g_autoptr(PmPsdStatus) status = NULL;
  g_autoptr(GError) error = NULL;
  PmMills room;

  status = pm_psd_get_status_finish (PM_PSD (source), result, &error);
  if (status == NULL)
    {
      finish_error (task, g_error_new (PM_CONNECTION_ERROR, PM_CONNECTION_ERROR_PSD,
                                       _("The PSD did not answer: %s"), error->message));
      return;
    }
  if (!status->has_operational_block)
    {
      finish_error (task, g_error_new (PM_CONNECTION_ERROR, PM_CONNECTION_ERROR_PSD,
                                       _("The PSD is not set up yet. Press Connect now to "
                                         "install its operational block, then refill.")));
      return;
    }
  if (status->lock_reason == PM_PSD_LOCK_DAMAGED || status->lock_reason == PM_PSD_LOCK_WITHDRAWN)
    {
      finish_error (task, g_error_new (PM_CONNECTION_ERROR, PM_CONNECTION_ERROR_PSD,
                                       _("The PSD is out of service (%s) and cannot be "
                                         "refilled. Call the provider."),
                                       pm_psd_lock_reason_to_string (status->lock_reason)));
      return;
    }
  room = status->max_funds - status->descending;
  if (((RefillData *) g_task_get_task_data (task))->amount > room)
    {
      g_autofree char *max = pm_money_format (room);

      finish_error (task, g_error_new (PM_CONNECTION_ERROR, PM_CONNECTION_ERROR_PSD,
                                       _("The PSD can take at most %s more; refill by that "
                                         "much or less."), max));
      return;
    }

  if (self->config.audit_at_every_refill || status->inspection_state != PM_PSD_INSPECTION_OK ||
      pm_psd_status_is_locked (status))
    {
      pm_funds_flow_inspect_async (self, g_task_get_cancellable (task), refill_inspected_cb,
                                   task);
      return;
    }
  refill_request (task, status);
}

static void
refill_session_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  GTask *task = user_data;
  PmConnection *self = PM_CONNECTION (source);
  GError *error = NULL;

  if (!pm_connection_ensure_session_finish (self, result, &error))
    {
      finish_error (task, error);
      return;
    }
  pm_psd_get_status_async (self->psd, g_task_get_cancellable (task), refill_status_cb, task);
}

void
pm_funds_flow_refill_async (PmConnection        *connection,
                            PmMills              amount,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  GTask *task;
  RefillData *data;

  g_return_if_fail (PM_IS_CONNECTION (connection));

  task = g_task_new (connection, cancellable, callback, user_data);
  g_task_set_source_tag (task, pm_funds_flow_refill_async);
  if (amount <= 0)
    {
      g_task_return_new_error (task, PM_CONNECTION_ERROR, PM_CONNECTION_ERROR_PSD,
                               _("Enter the amount to refill"));
      g_object_unref (task);
      return;
    }
  data = g_new0 (RefillData, 1);
  data->amount = amount;
  data->outcome = g_new0 (PmRefillOutcome, 1);
  data->outcome->balance = -1;
  data->psd_serial = pm_connection_dup_psd_serial (connection);
  g_task_set_task_data (task, data, (GDestroyNotify) refill_data_free);
  pm_connection_hold (connection);
  pm_connection_ensure_session_async (connection, cancellable, refill_session_cb, task);
}

PmRefillOutcome *
pm_funds_flow_refill_finish (PmConnection  *connection,
                             GAsyncResult  *result,
                             GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}
