/* pm-upload-flow.c: the outbox to the uploads service, batch by batch
 *
 * Runs on the connection's thread; sealing, recording a send and acknowledging are
 * blocking store calls made from GTask worker threads.
 */
#include "pm-upload-flow.h"

#include <glib/gi18n.h>

#include "pm-clock.h"
#include "pm-connection-private.h"
#include "pm-store-outbox.h"

void
pm_upload_state_free (PmUploadState *state)
{
  if (state == NULL)
    return;
  g_free (state->words);
  g_free (state);
}

gboolean
pm_upload_flow_blocks_printing (PmPostalProfile profile,
                                PmUploadsDue    due)
{
  return profile == PM_POSTAL_PROFILE_IMI && due == PM_UPLOADS_OVERDUE;
}

/* ---- state ------------------------------------------------------------------------------ */

static void
state_thread (GTask        *task,
              gpointer      source,
              gpointer      task_data,
              GCancellable *cancellable)
{
  PmConnection *self = source;
  PmUploadState *state = g_new0 (PmUploadState, 1);
  gint64 oldest = 0, last = 0;
  GError *error = NULL;

  if (!pm_store_get_upload_state (self->store, &oldest, &state->waiting, &last, &error))
    {
      pm_upload_state_free (state);
      g_task_return_error (task, error);
      return;
    }
  state->oldest_s = oldest > 0 ? oldest / G_USEC_PER_SEC : -1;
  state->last_success_s = last > 0 ? last / G_USEC_PER_SEC : -1;
  g_task_return_pointer (task, state, (GDestroyNotify) pm_upload_state_free);
}

static void
update_topic (PmConnection  *self,
              PmUploadState *state)
{
  PmConnectionLevel level;
  const char *text;
  PmPostalProfile profile = self->psd_status != NULL ? self->psd_status->profile
                                                     : PM_POSTAL_PROFILE_IBI;

  state->due = pm_uploads_get_due (pm_clock_now_s (), state->oldest_s, state->last_success_s,
                                   &state->words);
  state->blocks_printing = pm_upload_flow_blocks_printing (profile, state->due);

  switch (state->due)
    {
    case PM_UPLOADS_UP_TO_DATE:
      level = PM_CONNECTION_LEVEL_OK;
      text = state->waiting > 0 ? _("Waiting") : _("Up to date");
      break;
    case PM_UPLOADS_DUE:
      level = PM_CONNECTION_LEVEL_WARNING;
      text = _("Due");
      break;
    case PM_UPLOADS_OVERDUE:
    default:
      level = state->blocks_printing ? PM_CONNECTION_LEVEL_ERROR : PM_CONNECTION_LEVEL_WARNING;
      text = _("Overdue");
      break;
    }
  if (self->uploading)
    text = _("Sending");
  pm_connection_set_topic (self, PM_CONNECTION_TOPIC_UPLOAD, level, text, state->words);
}

static void
state_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PmConnection *self = PM_CONNECTION (source);
  PmUploadState *state;
  GError *error = NULL;

  state = g_task_propagate_pointer (G_TASK (result), &error);
  if (state == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  update_topic (self, state);
  g_task_return_pointer (task, state, (GDestroyNotify) pm_upload_state_free);
}

void
pm_upload_flow_get_state_async (PmConnection        *connection,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  GTask *task;
  g_autoptr(GTask) worker = NULL;

  g_return_if_fail (PM_IS_CONNECTION (connection));

  task = g_task_new (connection, cancellable, callback, user_data);
  g_task_set_source_tag (task, pm_upload_flow_get_state_async);
  worker = g_task_new (connection, cancellable, state_cb, task);
  g_task_run_in_thread (worker, state_thread);
}

PmUploadState *
pm_upload_flow_get_state_finish (PmConnection  *connection,
                                 GAsyncResult  *result,
                                 GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- a run -------------------------------------------------------------------------------- */

typedef struct
{
  char          *device_id;
  PmUploadBatch *batch;         /* being sent; NULL between batches */
  gint64         acknowledged;  /* records, this run */
  guint          attempt;       /* sends of the current batch in this run */
  GError        *send_error;    /* why the last send failed */
  PmWireReceipt *receipt;
  guint          wait_id;
} RunData;

static void
run_data_free (RunData *data)
{
  g_free (data->device_id);
  pm_upload_batch_free (data->batch);
  g_clear_error (&data->send_error);
  g_clear_pointer (&data->receipt, pm_wire_receipt_free);
  g_clear_handle_id (&data->wait_id, g_source_remove);
  g_free (data);
}

static void run_seal (GTask *task);

static void
run_finished_state_cb (GObject      *source,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr(PmUploadState) state = pm_upload_flow_get_state_finish (PM_CONNECTION (source),
                                                                    result, NULL);
}

static void
run_end (GTask  *task,
         GError *error)
{
  PmConnection *self = g_task_get_source_object (task);
  RunData *data = g_task_get_task_data (task);

  self->uploading = FALSE;
  if (error != NULL)
    pm_connection_note_error (self, error);
  else if (data->acknowledged > 0)
    g_message ("Uploaded %" G_GINT64_FORMAT " transaction records", data->acknowledged);
  pm_upload_flow_get_state_async (self, NULL, run_finished_state_cb, NULL);
  pm_connection_release (self);

  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_int (task, data->acknowledged);
  g_object_unref (task);
}

/* Acknowledging: the receipt and the deletion of the records, one store transaction. */
static void
ack_thread (GTask        *worker,
            gpointer      source,
            gpointer      task_data,
            GCancellable *cancellable)
{
  PmConnection *self = source;
  RunData *data = task_data;
  g_autoptr(GBytes) receipt_xml = pm_wire_receipt_build (data->receipt);
  g_autofree char *receipt_text = g_strndup (g_bytes_get_data (receipt_xml, NULL),
                                             g_bytes_get_size (receipt_xml));
  PmUploadReceipt receipt = {
    .batch_id = data->receipt->batch_id,
    .payload_sha256 = data->receipt->sha256,
    .first_seq = data->receipt->first_seq,
    .last_seq = data->receipt->last_seq,
    .count = data->receipt->count,
    .receipt = receipt_text,
  };
  GError *error = NULL;

  if (!pm_store_acknowledge_upload (self->store, &receipt, &error))
    g_task_return_error (worker, error);
  else
    g_task_return_boolean (worker, TRUE);
}

static void
ack_cb (GObject      *source,
        GAsyncResult *result,
        gpointer      user_data)
{
  GTask *task = user_data;
  RunData *data = g_task_get_task_data (task);
  GError *error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      /* The data center holds the batch; it is sent again later and acknowledged then
       * (the data center answers a resent batch with the same receipt). */
      run_end (task, error);
      return;
    }
  data->acknowledged += data->batch->count;
  g_clear_pointer (&data->batch, pm_upload_batch_free);
  g_clear_pointer (&data->receipt, pm_wire_receipt_free);
  run_seal (task);
}

static void send_batch (GTask *task);

static gboolean
resend_cb (gpointer user_data)
{
  GTask *task = user_data;
  RunData *data = g_task_get_task_data (task);

  data->wait_id = 0;
  send_batch (task);
  return G_SOURCE_REMOVE;
}

static void
sent_recorded_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  GTask *task = user_data;
  RunData *data = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  g_autoptr(GError) record_error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &record_error))
    g_warning ("Could not record an upload attempt: %s", record_error->message);

  if (data->receipt != NULL)
    {
      g_autoptr(GTask) worker = g_task_new (source, NULL, ack_cb, task);

      g_task_set_task_data (worker, data, NULL);
      g_task_run_in_thread (worker, ack_thread);
      return;
    }

  /* A fault that may pass: the same bytes again after a pause, a few times. */
  if (pm_net_error_is_retryable (data->send_error) &&
      data->attempt < PM_UPLOAD_FLOW_MAX_ATTEMPTS &&
      !g_cancellable_is_cancelled (cancellable))
    {
      g_debug ("Upload batch %s: %s; sending it again", data->batch->id,
               data->send_error->message);
      data->wait_id = g_timeout_add (pm_net_retry_delay_ms (data->attempt), resend_cb, task);
      return;
    }
  run_end (task, g_steal_pointer (&data->send_error));
}

static void
sent_thread (GTask        *worker,
             gpointer      source,
             gpointer      task_data,
             GCancellable *cancellable)
{
  PmConnection *self = source;
  RunData *data = task_data;
  gint64 next = 0;
  GError *error = NULL;

  if (data->receipt == NULL)
    next = pm_clock_now_us () + (gint64) pm_net_retry_delay_ms (data->attempt) * 1000;
  if (!pm_store_mark_upload_sent (self->store, data->batch->id, next, &error))
    g_task_return_error (worker, error);
  else
    g_task_return_boolean (worker, TRUE);
}

static void
send_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  GTask *task = user_data;
  PmConnection *self = g_task_get_source_object (task);
  RunData *data = g_task_get_task_data (task);
  g_autoptr(GTask) worker = NULL;

  g_clear_error (&data->send_error);
  data->receipt = pm_uploads_send_finish (PM_NET_CLIENT (source), result, &data->send_error);

  worker = g_task_new (self, NULL, sent_recorded_cb, task);
  g_task_set_task_data (worker, data, NULL);
  g_task_run_in_thread (worker, sent_thread);
}

static void
send_batch (GTask *task)
{
  PmConnection *self = g_task_get_source_object (task);
  RunData *data = g_task_get_task_data (task);

  data->attempt++;
  pm_uploads_send_async (self->client, data->batch->id, data->batch->payload,
                         data->batch->first_seq, data->batch->last_seq, self->provider_key,
                         g_task_get_cancellable (task), send_cb, task);
}

static void
seal_thread (GTask        *worker,
             gpointer      source,
             gpointer      task_data,
             GCancellable *cancellable)
{
  PmConnection *self = source;
  RunData *data = task_data;
  GError *error = NULL;
  PmUploadBatch *batch;

  batch = pm_store_seal_upload_batch_for_device (self->store, data->device_id,
                                                 PM_UPLOAD_FLOW_BATCH_RECORDS, &error);
  if (batch == NULL && error != NULL)
    g_task_return_error (worker, error);
  else
    g_task_return_pointer (worker, batch, (GDestroyNotify) pm_upload_batch_free);
}

static void
sealed_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  GTask *task = user_data;
  RunData *data = g_task_get_task_data (task);
  GError *error = NULL;

  data->batch = g_task_propagate_pointer (G_TASK (result), &error);
  if (error != NULL)
    {
      run_end (task, error);
      return;
    }
  if (data->batch == NULL)
    {
      run_end (task, NULL);   /* nothing waits */
      return;
    }
  data->attempt = 0;
  send_batch (task);
}

static void
run_seal (GTask *task)
{
  PmConnection *self = g_task_get_source_object (task);
  RunData *data = g_task_get_task_data (task);
  g_autoptr(GTask) worker = NULL;
  GError *error = NULL;

  if (g_cancellable_set_error_if_cancelled (g_task_get_cancellable (task), &error))
    {
      run_end (task, error);
      return;
    }
  worker = g_task_new (self, NULL, sealed_cb, task);
  g_task_set_task_data (worker, data, NULL);
  g_task_run_in_thread (worker, seal_thread);
}

static void
run_session_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  GTask *task = user_data;
  PmConnection *self = PM_CONNECTION (source);
  RunData *data = g_task_get_task_data (task);
  GError *error = NULL;

  if (!pm_connection_ensure_session_finish (self, result, &error))
    {
      run_end (task, error);
      return;
    }
  data->device_id = pm_net_client_dup_device_id (self->client);
  run_seal (task);
}

void
pm_upload_flow_run_async (PmConnection        *connection,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (PM_IS_CONNECTION (connection));

  task = g_task_new (connection, cancellable, callback, user_data);
  g_task_set_source_tag (task, pm_upload_flow_run_async);
  if (connection->uploading)
    {
      g_task_return_new_error (task, PM_CONNECTION_ERROR, PM_CONNECTION_ERROR_BUSY,
                               _("An upload is already running"));
      g_object_unref (task);
      return;
    }
  g_task_set_task_data (task, g_new0 (RunData, 1), (GDestroyNotify) run_data_free);
  connection->uploading = TRUE;
  pm_connection_hold (connection);
  pm_connection_set_topic (connection, PM_CONNECTION_TOPIC_UPLOAD,
                           connection->level[PM_CONNECTION_TOPIC_UPLOAD], _("Sending"),
                           _("Sending transaction records to the data center"));
  pm_connection_ensure_session_async (connection, cancellable, run_session_cb, task);
}

gint64
pm_upload_flow_run_finish (PmConnection  *connection,
                           GAsyncResult  *result,
                           GError       **error)
{
  return g_task_propagate_int (G_TASK (result), error);
}
