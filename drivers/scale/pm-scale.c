/* pm-scale.c: the PmScale interface, readings, and the feed and worker drivers share */
#include "pm-scale-private.h"

#include "pm-clock.h"

G_DEFINE_QUARK (pm-scale-error-quark, pm_scale_error)

G_DEFINE_BOXED_TYPE (PmScaleReading, pm_scale_reading,
                     pm_scale_reading_copy, pm_scale_reading_free)

PmScaleReading *
pm_scale_reading_new (PmScaleState state)
{
  PmScaleReading *reading = g_new0 (PmScaleReading, 1);

  reading->state = state;
  reading->timestamp_us = pm_clock_now_us ();

  return reading;
}

PmScaleReading *
pm_scale_reading_copy (const PmScaleReading *reading)
{
  PmScaleReading *copy;

  g_return_val_if_fail (reading != NULL, NULL);

  copy = g_memdup2 (reading, sizeof *reading);
  if (reading->raw != NULL)
    copy->raw = g_bytes_ref (reading->raw);
  copy->detail = g_strdup (reading->detail);

  return copy;
}

void
pm_scale_reading_free (PmScaleReading *reading)
{
  if (reading == NULL)
    return;

  g_clear_pointer (&reading->raw, g_bytes_unref);
  g_free (reading->detail);
  g_free (reading);
}

void
pm_scale_reading_set_weight (PmScaleReading *reading,
                             gint64          mantissa,
                             gint8           exponent,
                             PmWeightUnit    unit)
{
  g_return_if_fail (reading != NULL);
  g_return_if_fail (mantissa >= 0);

  reading->has_weight = TRUE;
  reading->weight.mantissa = mantissa;
  reading->weight.exponent = exponent;
  reading->weight.unit = unit;
  reading->resolution.mantissa = 1;
  reading->resolution.exponent = exponent;
  reading->resolution.unit = unit;
}

void
pm_scale_reading_set_raw (PmScaleReading *reading,
                          const guint8   *data,
                          gsize           len)
{
  g_return_if_fail (reading != NULL);

  g_clear_pointer (&reading->raw, g_bytes_unref);
  reading->raw = g_bytes_new (data, len);
}

char *
pm_scale_reading_dup_raw_hex (const PmScaleReading *reading)
{
  GString *out = g_string_new (NULL);
  const guint8 *data;
  gsize len = 0;

  g_return_val_if_fail (reading != NULL, NULL);

  if (reading->raw == NULL)
    return g_string_free (out, FALSE);

  data = g_bytes_get_data (reading->raw, &len);
  for (gsize i = 0; i < len; i++)
    g_string_append_printf (out, i == 0 ? "%02X" : " %02X", data[i]);

  return g_string_free (out, FALSE);
}

const char *
pm_scale_state_to_string (PmScaleState state)
{
  switch (state)
    {
    case PM_SCALE_STATE_STABLE: return "stable";
    case PM_SCALE_STATE_MOTION: return "motion";
    case PM_SCALE_STATE_ZERO: return "zero";
    case PM_SCALE_STATE_UNDER_ZERO: return "under-zero";
    case PM_SCALE_STATE_OVER_CAPACITY: return "over-capacity";
    case PM_SCALE_STATE_FAULT: return "fault";
    case PM_SCALE_STATE_NEEDS_CALIBRATION: return "needs-calibration";
    case PM_SCALE_STATE_NEEDS_REZERO: return "needs-rezero";
    case PM_SCALE_STATE_UNREADABLE: return "unreadable";
    default: return "unknown";
    }
}

const char *
pm_scale_state_describe (PmScaleState state)
{
  switch (state)
    {
    case PM_SCALE_STATE_STABLE:
      return "The weight is stable.";
    case PM_SCALE_STATE_MOTION:
      return "The scale is settling. Keep the piece still for a moment.";
    case PM_SCALE_STATE_ZERO:
      return "The scale is empty. Put the piece on the platform.";
    case PM_SCALE_STATE_UNDER_ZERO:
      return "The scale reads below zero. Empty the platform and press the scale's zero "
             "button.";
    case PM_SCALE_STATE_OVER_CAPACITY:
      return "The piece is too heavy for this scale. Weigh it on a larger scale or enter "
             "the weight by hand.";
    case PM_SCALE_STATE_FAULT:
      return "The scale reports a fault. Switch it off and on again; if it persists, call "
             "support.";
    case PM_SCALE_STATE_NEEDS_CALIBRATION:
      return "The scale needs calibration before it can be used for postage.";
    case PM_SCALE_STATE_NEEDS_REZERO:
      return "The scale needs re-zeroing. Empty the platform and press the scale's zero "
             "button.";
    case PM_SCALE_STATE_UNREADABLE:
    default:
      return "The scale sent something Postmeter cannot read. Check the scale's settings "
             "and cable.";
    }
}

/* Interface */

enum
{
  SIGNAL_READING,
  SIGNAL_DEVICE_FOUND,
  SIGNAL_DEVICE_LOST,
  N_SIGNALS,
};

static guint signals[N_SIGNALS];

G_DEFINE_INTERFACE (PmScale, pm_scale, G_TYPE_OBJECT)

static void
pm_scale_real_zero_async (PmScale             *self,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_task_report_new_error (self, callback, user_data, pm_scale_real_zero_async,
                           PM_SCALE_ERROR, PM_SCALE_ERROR_NOT_SUPPORTED,
                           "This scale cannot be zeroed from Postmeter. Empty the platform "
                           "and press the scale's own zero button.");
}

static gboolean
pm_scale_real_zero_finish (PmScale       *self,
                           GAsyncResult  *result,
                           GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
pm_scale_default_init (PmScaleInterface *iface)
{
  iface->zero_async = pm_scale_real_zero_async;
  iface->zero_finish = pm_scale_real_zero_finish;

  g_object_interface_install_property (iface,
    g_param_spec_boolean ("connected", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_interface_install_property (iface,
    g_param_spec_boolean ("postable", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_interface_install_property (iface,
    g_param_spec_string ("description", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  signals[SIGNAL_READING] =
    g_signal_new ("reading", G_TYPE_FROM_INTERFACE (iface), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1,
                  PM_TYPE_SCALE_READING | G_SIGNAL_TYPE_STATIC_SCOPE);
  signals[SIGNAL_DEVICE_FOUND] =
    g_signal_new ("device-found", G_TYPE_FROM_INTERFACE (iface), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[SIGNAL_DEVICE_LOST] =
    g_signal_new ("device-lost", G_TYPE_FROM_INTERFACE (iface), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1,
                  G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE);
}

gboolean
pm_scale_start (PmScale  *self,
                GError  **error)
{
  g_return_val_if_fail (PM_IS_SCALE (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return PM_SCALE_GET_IFACE (self)->start (self, error);
}

void
pm_scale_stop (PmScale *self)
{
  g_return_if_fail (PM_IS_SCALE (self));

  PM_SCALE_GET_IFACE (self)->stop (self);
}

void
pm_scale_zero_async (PmScale             *self,
                     GCancellable        *cancellable,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  g_return_if_fail (PM_IS_SCALE (self));

  PM_SCALE_GET_IFACE (self)->zero_async (self, cancellable, callback, user_data);
}

gboolean
pm_scale_zero_finish (PmScale       *self,
                      GAsyncResult  *result,
                      GError       **error)
{
  g_return_val_if_fail (PM_IS_SCALE (self), FALSE);

  return PM_SCALE_GET_IFACE (self)->zero_finish (self, result, error);
}

/* Feed */

struct _PmScaleFeed
{
  GWeakRef      scale;        /* the owning scale; weak, the scale owns the feed */

  /* Guarded by lock: touched by the worker thread and by begin/end on the owner. */
  GMutex        lock;
  GMainContext *context;      /* owned; where signals are emitted */
  guint         generation;   /* bumped by begin/end so stale events are dropped */
  gboolean      seen_empty;   /* platform seen empty since the last (re)connection */

  /* Owner context only. */
  gboolean        connected;
  gboolean        postable;
  char           *description;
  PmScaleReading *last_reading;
};

typedef enum
{
  EVENT_READING,
  EVENT_FOUND,
  EVENT_LOST,
} EventKind;

typedef struct
{
  PmScaleFeed    *feed;       /* borrowed; valid while scale is alive */
  PmScale        *scale;      /* owned reference */
  guint           generation;
  EventKind       kind;
  PmScaleReading *reading;
  char           *description;
  GError         *error;
} Event;

static GQuark
feed_quark (void)
{
  return g_quark_from_static_string ("pm-scale-feed");
}

static void
feed_free (gpointer data)
{
  PmScaleFeed *feed = data;

  g_weak_ref_clear (&feed->scale);
  g_mutex_clear (&feed->lock);
  g_clear_pointer (&feed->context, g_main_context_unref);
  g_free (feed->description);
  pm_scale_reading_free (feed->last_reading);
  g_free (feed);
}

void
pm_scale_feed_install (PmScale *scale)
{
  PmScaleFeed *feed = g_new0 (PmScaleFeed, 1);

  g_weak_ref_init (&feed->scale, scale);
  g_mutex_init (&feed->lock);
  feed->context = g_main_context_ref_thread_default ();
  g_object_set_qdata_full (G_OBJECT (scale), feed_quark (), feed, feed_free);
}

PmScaleFeed *
pm_scale_get_feed (PmScale *scale)
{
  PmScaleFeed *feed = g_object_get_qdata (G_OBJECT (scale), feed_quark ());

  g_assert (feed != NULL);
  return feed;
}

void
pm_scale_feed_begin (PmScaleFeed *feed)
{
  g_mutex_lock (&feed->lock);
  g_clear_pointer (&feed->context, g_main_context_unref);
  feed->context = g_main_context_ref_thread_default ();
  feed->generation++;
  feed->seen_empty = FALSE;
  g_mutex_unlock (&feed->lock);
}

void
pm_scale_feed_end (PmScaleFeed *feed)
{
  g_autoptr(PmScale) scale = g_weak_ref_get (&feed->scale);

  g_mutex_lock (&feed->lock);
  feed->generation++;
  g_mutex_unlock (&feed->lock);

  if (feed->connected && scale != NULL)
    {
      feed->connected = FALSE;
      g_object_notify (G_OBJECT (scale), "connected");
    }
  if (feed->postable && scale != NULL)
    {
      feed->postable = FALSE;
      g_object_notify (G_OBJECT (scale), "postable");
    }
}

static void
event_free (gpointer data)
{
  Event *event = data;

  g_clear_object (&event->scale);
  pm_scale_reading_free (event->reading);
  g_free (event->description);
  g_clear_error (&event->error);
  g_free (event);
}

static gboolean
event_dispatch_cb (gpointer data)
{
  Event *event = data;
  PmScaleFeed *feed = event->feed;
  gboolean current;
  gboolean was_postable = feed->postable;
  gboolean was_connected = feed->connected;

  g_mutex_lock (&feed->lock);
  current = event->generation == feed->generation;
  g_mutex_unlock (&feed->lock);
  if (!current)
    return G_SOURCE_REMOVE;

  switch (event->kind)
    {
    case EVENT_READING:
      g_clear_pointer (&feed->last_reading, pm_scale_reading_free);
      feed->last_reading = pm_scale_reading_copy (event->reading);
      feed->postable = event->reading->postable;
      feed->connected = TRUE;
      g_signal_emit (event->scale, signals[SIGNAL_READING], 0, event->reading);
      break;

    case EVENT_FOUND:
      g_free (feed->description);
      feed->description = g_strdup (event->description);
      feed->connected = TRUE;
      feed->postable = FALSE;
      g_signal_emit (event->scale, signals[SIGNAL_DEVICE_FOUND], 0, event->description);
      g_object_notify (G_OBJECT (event->scale), "description");
      break;

    case EVENT_LOST:
      g_clear_pointer (&feed->last_reading, pm_scale_reading_free);
      feed->connected = FALSE;
      feed->postable = FALSE;
      g_signal_emit (event->scale, signals[SIGNAL_DEVICE_LOST], 0, event->error);
      break;

    default:
      g_assert_not_reached ();
    }

  if (was_connected != feed->connected)
    g_object_notify (G_OBJECT (event->scale), "connected");
  if (was_postable != feed->postable)
    g_object_notify (G_OBJECT (event->scale), "postable");

  return G_SOURCE_REMOVE;
}

/* Always queued, even from the owner thread, so events keep the order they happened in. */
static void
feed_queue (PmScaleFeed *feed,
            Event       *event,
            GMainContext *context)
{
  g_autoptr(GSource) source = g_idle_source_new ();

  event->scale = g_weak_ref_get (&feed->scale);
  if (event->scale == NULL)
    {
      event_free (event);
      return;
    }

  event->feed = feed;
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, event_dispatch_cb, event, event_free);
  g_source_set_static_name (source, "[postmeter] scale event");
  g_source_attach (source, context);
}

void
pm_scale_feed_push (PmScaleFeed    *feed,
                    PmScaleReading *reading)
{
  Event *event;
  g_autoptr(GMainContext) context = NULL;

  g_return_if_fail (reading != NULL);

  /* A stable zero is an empty platform whatever the protocol calls it. */
  if (reading->state == PM_SCALE_STATE_STABLE && reading->has_weight
      && reading->weight.mantissa == 0)
    reading->state = PM_SCALE_STATE_ZERO;

  event = g_new0 (Event, 1);
  event->kind = EVENT_READING;
  event->reading = reading;

  g_mutex_lock (&feed->lock);
  if (reading->state == PM_SCALE_STATE_ZERO)
    feed->seen_empty = TRUE;
  reading->postable = reading->state == PM_SCALE_STATE_STABLE
                      && reading->has_weight
                      && reading->weight.mantissa > 0
                      && feed->seen_empty;
  event->generation = feed->generation;
  context = g_main_context_ref (feed->context);
  g_mutex_unlock (&feed->lock);

  feed_queue (feed, event, context);
}

void
pm_scale_feed_found (PmScaleFeed *feed,
                     const char  *description)
{
  Event *event = g_new0 (Event, 1);
  g_autoptr(GMainContext) context = NULL;

  event->kind = EVENT_FOUND;
  event->description = g_strdup (description);

  g_mutex_lock (&feed->lock);
  feed->seen_empty = FALSE;
  event->generation = feed->generation;
  context = g_main_context_ref (feed->context);
  g_mutex_unlock (&feed->lock);

  feed_queue (feed, event, context);
}

void
pm_scale_feed_lost (PmScaleFeed *feed,
                    GError      *error)
{
  Event *event = g_new0 (Event, 1);
  g_autoptr(GMainContext) context = NULL;

  event->kind = EVENT_LOST;
  event->error = error;

  g_mutex_lock (&feed->lock);
  feed->seen_empty = FALSE;
  event->generation = feed->generation;
  context = g_main_context_ref (feed->context);
  g_mutex_unlock (&feed->lock);

  feed_queue (feed, event, context);
}

gboolean
pm_scale_get_connected (PmScale *self)
{
  g_return_val_if_fail (PM_IS_SCALE (self), FALSE);

  return pm_scale_get_feed (self)->connected;
}

gboolean
pm_scale_get_postable (PmScale *self)
{
  g_return_val_if_fail (PM_IS_SCALE (self), FALSE);

  return pm_scale_get_feed (self)->postable;
}

const char *
pm_scale_get_description (PmScale *self)
{
  g_return_val_if_fail (PM_IS_SCALE (self), NULL);

  return pm_scale_get_feed (self)->description;
}

const PmScaleReading *
pm_scale_get_last_reading (PmScale *self)
{
  g_return_val_if_fail (PM_IS_SCALE (self), NULL);

  return pm_scale_get_feed (self)->last_reading;
}

void
pm_scale_class_override_properties (GObjectClass *klass)
{
  g_object_class_override_property (klass, PM_SCALE_PROP_CONNECTED, "connected");
  g_object_class_override_property (klass, PM_SCALE_PROP_POSTABLE, "postable");
  g_object_class_override_property (klass, PM_SCALE_PROP_DESCRIPTION, "description");
}

gboolean
pm_scale_get_property_common (PmScale *scale,
                              guint    prop_id,
                              GValue  *value)
{
  switch (prop_id)
    {
    case PM_SCALE_PROP_CONNECTED:
      g_value_set_boolean (value, pm_scale_get_connected (scale));
      return TRUE;
    case PM_SCALE_PROP_POSTABLE:
      g_value_set_boolean (value, pm_scale_get_postable (scale));
      return TRUE;
    case PM_SCALE_PROP_DESCRIPTION:
      g_value_set_string (value, pm_scale_get_description (scale));
      return TRUE;
    default:
      return FALSE;
    }
}

/* Worker */

struct _PmScaleWorker
{
  GThread           *thread;   /* owned; joined by stop */
  GMainContext      *context;  /* owned; iterated only by thread */
  GMainLoop         *loop;     /* owned */
  PmScaleWorkerFunc  setup;
  PmScaleWorkerFunc  teardown;
  gpointer           data;
};

static gpointer
worker_thread_func (gpointer data)
{
  PmScaleWorker *worker = data;

  g_main_context_push_thread_default (worker->context);
  if (worker->setup != NULL)
    worker->setup (worker->data);
  g_main_loop_run (worker->loop);
  if (worker->teardown != NULL)
    worker->teardown (worker->data);
  g_main_context_pop_thread_default (worker->context);

  return NULL;
}

PmScaleWorker *
pm_scale_worker_start (const char        *name,
                       PmScaleWorkerFunc  setup,
                       PmScaleWorkerFunc  teardown,
                       gpointer           data)
{
  PmScaleWorker *worker = g_new0 (PmScaleWorker, 1);

  worker->context = g_main_context_new ();
  worker->loop = g_main_loop_new (worker->context, FALSE);
  worker->setup = setup;
  worker->teardown = teardown;
  worker->data = data;
  worker->thread = g_thread_new (name, worker_thread_func, worker);

  return worker;
}

GMainContext *
pm_scale_worker_get_context (PmScaleWorker *worker)
{
  return worker->context;
}

gboolean
pm_scale_worker_is_current (PmScaleWorker *worker)
{
  return g_main_context_is_owner (worker->context);
}

void
pm_scale_worker_invoke (PmScaleWorker  *worker,
                        GSourceFunc     func,
                        gpointer        data,
                        GDestroyNotify  notify)
{
  g_autoptr(GSource) source = g_idle_source_new ();

  g_source_set_callback (source, func, data, notify);
  g_source_set_static_name (source, "[postmeter] scale command");
  g_source_attach (source, worker->context);
}

static gboolean
worker_quit_cb (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

void
pm_scale_worker_stop (PmScaleWorker *worker)
{
  if (worker == NULL)
    return;

  pm_scale_worker_invoke (worker, worker_quit_cb, worker->loop, NULL);
  g_thread_join (worker->thread);
  g_main_loop_unref (worker->loop);
  g_main_context_unref (worker->context);
  g_free (worker);
}
