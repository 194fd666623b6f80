/* pm-sim-scale.c: the simulated scale
 *
 * Everything below "Worker" runs on the scale's worker thread, which owns the Sim state
 * once the scale is started; the control functions hand it commands. Before the scale is
 * started (and after it stops) the owner's thread changes the state directly.
 */
#include "pm-sim-scale.h"

#include "pm-scale-private.h"

#include <string.h>

typedef struct
{
  /* Hand state */
  PmWeightUnit        unit;
  guint8              unit_code;
  gint8               exponent;
  gint64              step_pg;        /* one display step */
  gint64              capacity_pg;
  gint64              load_pg;        /* what lies on the platform */
  gint64              tare_pg;        /* what the scale takes as zero */
  PmSimScaleCondition condition;
  guint               settle_ms;
  gint64              settle_until_us;
  guint               swing;          /* motion jitter phase */
  gboolean            connected;
  gboolean            manual;         /* FALSE while a recording replays */
  gboolean            failed;         /* the recording proved unreadable: replay stopped */
  guint8              last_report[PM_HID_SCALE_REPORT_SIZE];
  gboolean            have_last;

  /* Replay */
  PmScaleRecording   *recording;      /* owned, or NULL */
  guint               next_step;

  PmScaleDecoder     *decoder;        /* owned; the protocol in use */
  GSource            *motion_timer;   /* owned, or NULL */
  GSource            *replay_timer;   /* owned, or NULL */
} Sim;

struct _PmSimScale
{
  GObject parent_instance;

  char          *recording_path;  /* owned; read-only after construction */
  PmScaleFeed   *feed;            /* borrowed from the object's qdata */
  PmScaleWorker *worker;          /* owned; owner thread only */
  Sim            sim;             /* worker thread while started, else owner thread */
};

static void pm_sim_scale_iface_init (PmScaleInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (PmSimScale, pm_sim_scale, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (PM_TYPE_SCALE, pm_sim_scale_iface_init))

static void
sim_set_display (Sim          *sim,
                 PmWeightUnit  unit,
                 guint         capacity)
{
  gint64 unit_pg;

  switch (unit)
    {
    case PM_WEIGHT_UNIT_POUND:
      sim->unit_code = PM_HID_SCALE_UNIT_POUND;
      sim->exponent = -2;
      unit_pg = PM_PICOGRAMS_PER_POUND;
      sim->step_pg = PM_PICOGRAMS_PER_POUND / 100;
      break;
    case PM_WEIGHT_UNIT_GRAM:
    case PM_WEIGHT_UNIT_MILLIGRAM:
      unit = PM_WEIGHT_UNIT_GRAM;
      sim->unit_code = PM_HID_SCALE_UNIT_GRAM;
      sim->exponent = 0;
      unit_pg = PM_PICOGRAMS_PER_GRAM;
      sim->step_pg = PM_PICOGRAMS_PER_GRAM;
      break;
    case PM_WEIGHT_UNIT_KILOGRAM:
      sim->unit_code = PM_HID_SCALE_UNIT_KILOGRAM;
      sim->exponent = -3;
      unit_pg = PM_PICOGRAMS_PER_KILOGRAM;
      sim->step_pg = PM_PICOGRAMS_PER_GRAM;
      break;
    case PM_WEIGHT_UNIT_OUNCE:
    default:
      unit = PM_WEIGHT_UNIT_OUNCE;
      sim->unit_code = PM_HID_SCALE_UNIT_OUNCE;
      sim->exponent = -1;
      unit_pg = PM_PICOGRAMS_PER_OUNCE;
      sim->step_pg = PM_PICOGRAMS_PER_OUNCE / 10;
      break;
    }

  sim->unit = unit;
  /* The 16-bit weight field bounds what any display unit can carry. */
  sim->capacity_pg = MIN ((gint64) capacity * unit_pg, G_GINT64_CONSTANT (65535) * sim->step_pg);
}

static void
pm_sim_scale_finalize (GObject *object)
{
  PmSimScale *self = PM_SIM_SCALE (object);

  g_assert (self->worker == NULL);
  g_free (self->recording_path);
  g_clear_pointer (&self->sim.recording, pm_scale_recording_unref);

  G_OBJECT_CLASS (pm_sim_scale_parent_class)->finalize (object);
}

static void
pm_sim_scale_dispose (GObject *object)
{
  PmSimScale *self = PM_SIM_SCALE (object);

  if (self->worker != NULL)
    pm_scale_stop (PM_SCALE (self));

  G_OBJECT_CLASS (pm_sim_scale_parent_class)->dispose (object);
}

static void
pm_sim_scale_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  if (!pm_scale_get_property_common (PM_SCALE (object), prop_id, value))
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static void
pm_sim_scale_class_init (PmSimScaleClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = pm_sim_scale_dispose;
  object_class->finalize = pm_sim_scale_finalize;
  object_class->get_property = pm_sim_scale_get_property;
  pm_scale_class_override_properties (object_class);
}

static void
pm_sim_scale_init (PmSimScale *self)
{
  pm_scale_feed_install (PM_SCALE (self));
  self->feed = pm_scale_get_feed (PM_SCALE (self));
  self->sim.settle_ms = PM_SIM_SCALE_DEFAULT_SETTLE_MS;
  self->sim.connected = TRUE;
  self->sim.manual = TRUE;
  sim_set_display (&self->sim, PM_WEIGHT_UNIT_OUNCE, PM_SIM_SCALE_DEFAULT_CAPACITY_OUNCES);
}

PmSimScale *
pm_sim_scale_new (void)
{
  return g_object_new (PM_TYPE_SIM_SCALE, NULL);
}

PmSimScale *
pm_sim_scale_new_for_recording (const char *path)
{
  PmSimScale *self;

  g_return_val_if_fail (path != NULL, NULL);

  self = g_object_new (PM_TYPE_SIM_SCALE, NULL);
  self->recording_path = g_strdup (path);
  self->sim.manual = FALSE;

  return self;
}

PmSimScale *
pm_sim_scale_new_for_recording_data (PmScaleRecording *recording)
{
  PmSimScale *self;

  g_return_val_if_fail (recording != NULL, NULL);

  self = g_object_new (PM_TYPE_SIM_SCALE, NULL);
  self->sim.recording = pm_scale_recording_ref (recording);
  self->sim.manual = FALSE;

  return self;
}

/* Worker */

static void
decoded_cb (PmScaleReplyKind  kind,
            PmScaleReading   *reading,
            gpointer          user_data)
{
  PmSimScale *self = user_data;

  /* A replayed transcript may hold the answers to zero or echo commands: nothing to show. */
  if (kind == PM_SCALE_REPLY_READING)
    pm_scale_feed_push (self->feed, reading);
}

static void
stop_timer (GSource **timer)
{
  if (*timer != NULL)
    {
      g_source_destroy (*timer);
      g_clear_pointer (timer, g_source_unref);
    }
}

/* Bytes from the simulated device to the decoder every driver uses. */
static void
deliver (PmSimScale   *self,
         const guint8 *data,
         gsize         len)
{
  Sim *sim = &self->sim;
  g_autoptr(GError) error = NULL;

  if (!pm_scale_decoder_push (sim->decoder, data, len, decoded_cb, self, &error))
    {
      sim->failed = TRUE;
      stop_timer (&sim->replay_timer);
      pm_scale_feed_lost (self->feed, g_steal_pointer (&error));
    }
}

static gboolean
sim_is_moving (Sim *sim)
{
  return sim->condition == PM_SIM_SCALE_UNSTABLE
         || g_get_monotonic_time () < sim->settle_until_us;
}

static void
sim_current_report (Sim    *sim,
                    guint8  report[PM_HID_SCALE_REPORT_SIZE])
{
  static const int swing[] = { 3, -2, 1, -1, 2, 0 };
  gint64 net = sim->load_pg - sim->tare_pg;
  gint64 value = (ABS (net) + sim->step_pg / 2) / sim->step_pg;
  guint8 status;
  guint16 raw = 0;

  switch (sim->condition)
    {
    case PM_SIM_SCALE_FAULT:
      status = PM_HID_SCALE_STATUS_FAULT;
      break;
    case PM_SIM_SCALE_NEEDS_CALIBRATION:
      status = PM_HID_SCALE_STATUS_CALIBRATE;
      break;
    case PM_SIM_SCALE_NEEDS_REZERO:
      status = PM_HID_SCALE_STATUS_REZERO;
      break;
    case PM_SIM_SCALE_UNDER_ZERO:
      status = PM_HID_SCALE_STATUS_UNDER_ZERO;
      raw = 5;
      break;
    case PM_SIM_SCALE_OVER_CAPACITY:
      status = PM_HID_SCALE_STATUS_OVER_LIMIT;
      break;
    case PM_SIM_SCALE_NORMAL:
    case PM_SIM_SCALE_UNSTABLE:
    default:
      if (net > sim->capacity_pg)
        {
          status = PM_HID_SCALE_STATUS_OVER_LIMIT;
        }
      else if (net < 0 && value > 0)
        {
          /* Below zero: a magnitude in the weight field, as many devices send it. */
          status = PM_HID_SCALE_STATUS_UNDER_ZERO;
          raw = (guint16) MIN (value, 65535);
        }
      else if (sim_is_moving (sim))
        {
          gint64 swinging = value + swing[sim->swing++ % G_N_ELEMENTS (swing)];

          status = PM_HID_SCALE_STATUS_MOTION;
          raw = (guint16) CLAMP (swinging, 0, 65535);
        }
      else if (value == 0)
        {
          status = PM_HID_SCALE_STATUS_ZERO;
        }
      else
        {
          status = PM_HID_SCALE_STATUS_STABLE;
          raw = (guint16) value;
        }
      break;
    }

  pm_hid_scale_report_build (report, status, sim->unit_code, sim->exponent, raw);
}

static void
sim_send_current (PmSimScale *self)
{
  Sim *sim = &self->sim;
  guint8 report[PM_HID_SCALE_REPORT_SIZE];

  sim_current_report (sim, report);
  memcpy (sim->last_report, report, sizeof report);
  sim->have_last = TRUE;
  deliver (self, report, sizeof report);
}

static gboolean
motion_timer_cb (gpointer data)
{
  PmSimScale *self = data;
  Sim *sim = &self->sim;

  sim_send_current (self);
  if (sim_is_moving (sim))
    return G_SOURCE_CONTINUE;

  g_clear_pointer (&sim->motion_timer, g_source_unref);
  return G_SOURCE_REMOVE;
}

/* Something changed on the platform: report at once, keep reporting while it moves. */
static void
sim_changed (PmSimScale *self,
             gboolean    settle)
{
  Sim *sim = &self->sim;

  if (settle)
    sim->settle_until_us = g_get_monotonic_time () + (gint64) sim->settle_ms * 1000;
  if (!sim->connected)
    return;

  sim_send_current (self);
  if (sim_is_moving (sim) && sim->motion_timer == NULL)
    {
      sim->motion_timer = g_timeout_source_new (PM_SIM_SCALE_MOTION_INTERVAL_MS);
      g_source_set_callback (sim->motion_timer, motion_timer_cb, self, NULL);
      g_source_set_static_name (sim->motion_timer, "[postmeter] simulated scale motion");
      g_source_attach (sim->motion_timer, g_main_context_get_thread_default ());
    }
}

static char *
sim_describe (PmSimScale *self)
{
  Sim *sim = &self->sim;

  if (!sim->manual && sim->recording != NULL)
    {
      PmScaleProtocol protocol = pm_scale_recording_get_protocol (sim->recording);
      g_autofree char *name = self->recording_path != NULL
                                ? g_path_get_basename (self->recording_path)
                                : g_strdup ("a recording");

      return g_strdup_printf ("Simulated %s replaying %s",
                              pm_scale_protocol_describe (protocol), name);
    }

  return g_strdup ("Simulated USB scale");
}

/* The scale powers up (first start or plugged back in). */
static void
sim_connect (PmSimScale *self)
{
  Sim *sim = &self->sim;
  g_autofree char *description = sim_describe (self);

  sim->connected = TRUE;
  /* It takes whatever lies on the platform as zero. */
  sim->tare_pg = sim->load_pg;
  pm_scale_decoder_reset (sim->decoder);
  pm_scale_feed_found (self->feed, description);

  /* The first report repeats the last weighing it showed; the decoder drops it. */
  if (sim->have_last)
    deliver (self, sim->last_report, sizeof sim->last_report);
  sim_changed (self, TRUE);
}

static void
sim_disconnect (PmSimScale *self)
{
  Sim *sim = &self->sim;

  sim->connected = FALSE;
  stop_timer (&sim->motion_timer);
  pm_scale_feed_lost (self->feed,
                      g_error_new_literal (PM_SCALE_ERROR, PM_SCALE_ERROR_NOT_FOUND,
                                           "The scale was unplugged or switched itself "
                                           "off. Press a key on the scale or plug it in "
                                           "again."));
}

/* Replay */

static void schedule_step (PmSimScale *self);

static gboolean
replay_step_cb (gpointer data)
{
  PmSimScale *self = data;
  Sim *sim = &self->sim;
  const PmScaleRecordingStep *step;
  gsize len;
  const guint8 *bytes;

  g_clear_pointer (&sim->replay_timer, g_source_unref);

  step = pm_scale_recording_get_step (sim->recording, sim->next_step);
  bytes = g_bytes_get_data (step->bytes, &len);
  sim->next_step++;
  deliver (self, bytes, len);

  if (sim->replay_timer == NULL && !sim->manual && !sim->failed)
    schedule_step (self);

  return G_SOURCE_REMOVE;
}

static void
schedule_step (PmSimScale *self)
{
  Sim *sim = &self->sim;
  guint n_steps = pm_scale_recording_get_n_steps (sim->recording);

  if (sim->next_step >= n_steps)
    {
      /* A recording that ends leaves its last reading standing, as a quiet scale does. */
      if (!pm_scale_recording_get_loop (sim->recording))
        return;
      sim->next_step = 0;
    }

  sim->replay_timer =
    g_timeout_source_new (pm_scale_recording_get_step (sim->recording,
                                                       sim->next_step)->delay_ms);
  g_source_set_callback (sim->replay_timer, replay_step_cb, self, NULL);
  g_source_set_static_name (sim->replay_timer, "[postmeter] simulated scale replay");
  g_source_attach (sim->replay_timer, g_main_context_get_thread_default ());
}

static void
replay_start (PmSimScale *self)
{
  Sim *sim = &self->sim;
  g_autoptr(GError) error = NULL;
  g_autofree char *description = NULL;
  PmWeightUnit unit;

  if (sim->recording == NULL)
    sim->recording = pm_scale_recording_load (self->recording_path, &error);
  if (sim->recording == NULL)
    {
      pm_scale_feed_lost (self->feed, g_steal_pointer (&error));
      return;
    }

  g_clear_pointer (&sim->decoder, pm_scale_decoder_free);
  sim->decoder = pm_scale_decoder_new (pm_scale_recording_get_protocol (sim->recording));
  if (pm_scale_recording_get_unit (sim->recording, &unit))
    pm_scale_decoder_set_unit (sim->decoder, unit);

  description = sim_describe (self);
  pm_scale_feed_found (self->feed, description);
  sim->next_step = 0;
  sim->failed = FALSE;
  schedule_step (self);
}

/* A hand control during a replay: from here on the scale is set by hand, starting from
 * an empty platform. The device stays connected; only what it sends changes. */
static void
manual_begin (PmSimScale *self)
{
  Sim *sim = &self->sim;
  guint8 report[PM_HID_SCALE_REPORT_SIZE];

  if (sim->manual)
    return;

  stop_timer (&sim->replay_timer);
  sim->manual = TRUE;
  sim->load_pg = sim->tare_pg = 0;
  sim->settle_until_us = 0;
  g_clear_pointer (&sim->decoder, pm_scale_decoder_free);
  sim->decoder = pm_scale_decoder_new (PM_SCALE_PROTOCOL_HID);

  /* A fresh decoder drops its first report, as after opening a device. */
  sim_current_report (sim, report);
  deliver (self, report, sizeof report);
  sim_send_current (self);
}

static void
worker_setup (gpointer data)
{
  PmSimScale *self = data;
  Sim *sim = &self->sim;

  if (!sim->manual)
    {
      replay_start (self);
      return;
    }

  sim->decoder = pm_scale_decoder_new (PM_SCALE_PROTOCOL_HID);
  if (sim->connected)
    sim_connect (self);
}

static void
worker_teardown (gpointer data)
{
  PmSimScale *self = data;
  Sim *sim = &self->sim;

  stop_timer (&sim->motion_timer);
  stop_timer (&sim->replay_timer);
  g_clear_pointer (&sim->decoder, pm_scale_decoder_free);
  /* A restart replays from the beginning, as a fresh power-up would. */
  if (self->recording_path != NULL || !sim->manual)
    sim->next_step = 0;
}

/* Commands */

typedef enum
{
  COMMAND_DISPLAY,
  COMMAND_SETTLE,
  COMMAND_PUT,
  COMMAND_TAKE,
  COMMAND_CONDITION,
  COMMAND_CONNECTED,
  COMMAND_ZERO,
} CommandKind;

typedef struct
{
  PmSimScale          *self;       /* owned reference */
  CommandKind          kind;
  PmWeight             weight;
  PmWeightUnit         unit;
  guint                value;
  PmSimScaleCondition  condition;
  gboolean             flag;
} Command;

static void
command_free (gpointer data)
{
  Command *command = data;

  g_object_unref (command->self);
  g_free (command);
}

static void
command_apply (PmSimScale *self,
               Command    *command,
               gboolean    running)
{
  Sim *sim = &self->sim;
  gint64 pg = 0;

  switch (command->kind)
    {
    case COMMAND_DISPLAY:
      sim_set_display (sim, command->unit, command->value);
      if (running && sim->manual)
        sim_changed (self, FALSE);
      return;

    case COMMAND_SETTLE:
      sim->settle_ms = command->value;
      return;

    default:
      break;
    }

  if (running)
    manual_begin (self);
  else
    sim->manual = TRUE;

  switch (command->kind)
    {
    case COMMAND_PUT:
      if (!pm_weight_to_picograms (&command->weight, &pg) || pg < 0)
        pg = 0;
      sim->load_pg = pg;
      break;
    case COMMAND_TAKE:
      sim->load_pg = 0;
      break;
    case COMMAND_CONDITION:
      sim->condition = command->condition;
      break;
    case COMMAND_ZERO:
      /* Like the button: ignored while the platform keeps swinging. */
      if (sim->condition != PM_SIM_SCALE_UNSTABLE)
        sim->tare_pg = sim->load_pg;
      break;
    case COMMAND_CONNECTED:
      if (!running)
        {
          sim->connected = command->flag;
          if (command->flag)
            sim->tare_pg = sim->load_pg;
          return;
        }
      if (command->flag && !sim->connected)
        sim_connect (self);
      else if (!command->flag && sim->connected)
        sim_disconnect (self);
      return;
    case COMMAND_DISPLAY:
    case COMMAND_SETTLE:
    default:
      g_assert_not_reached ();
    }

  if (running)
    sim_changed (self, command->kind != COMMAND_CONDITION
                       || command->condition == PM_SIM_SCALE_NORMAL);
}

static gboolean
command_cb (gpointer data)
{
  Command *command = data;

  command_apply (command->self, command, TRUE);
  return G_SOURCE_REMOVE;
}

static void
command_send (PmSimScale *self,
              Command    *command)
{
  command->self = g_object_ref (self);

  if (self->worker != NULL)
    {
      pm_scale_worker_invoke (self->worker, command_cb, command, command_free);
      return;
    }

  command_apply (self, command, FALSE);
  command_free (command);
}

void
pm_sim_scale_set_display (PmSimScale   *self,
                          PmWeightUnit  unit,
                          guint         capacity)
{
  Command *command;

  g_return_if_fail (PM_IS_SIM_SCALE (self));
  g_return_if_fail (capacity > 0);

  command = g_new0 (Command, 1);
  command->kind = COMMAND_DISPLAY;
  command->unit = unit;
  command->value = capacity;
  command_send (self, command);
}

void
pm_sim_scale_set_settle_time (PmSimScale *self,
                              guint       milliseconds)
{
  Command *command;

  g_return_if_fail (PM_IS_SIM_SCALE (self));

  command = g_new0 (Command, 1);
  command->kind = COMMAND_SETTLE;
  command->value = milliseconds;
  command_send (self, command);
}

void
pm_sim_scale_put_piece (PmSimScale     *self,
                        const PmWeight *weight)
{
  Command *command;

  g_return_if_fail (PM_IS_SIM_SCALE (self));
  g_return_if_fail (weight != NULL);

  command = g_new0 (Command, 1);
  command->kind = COMMAND_PUT;
  command->weight = *weight;
  command_send (self, command);
}

void
pm_sim_scale_take_piece (PmSimScale *self)
{
  Command *command;

  g_return_if_fail (PM_IS_SIM_SCALE (self));

  command = g_new0 (Command, 1);
  command->kind = COMMAND_TAKE;
  command_send (self, command);
}

void
pm_sim_scale_set_condition (PmSimScale          *self,
                            PmSimScaleCondition  condition)
{
  Command *command;

  g_return_if_fail (PM_IS_SIM_SCALE (self));
  g_return_if_fail (condition <= PM_SIM_SCALE_NEEDS_REZERO);

  command = g_new0 (Command, 1);
  command->kind = COMMAND_CONDITION;
  command->condition = condition;
  command_send (self, command);
}

void
pm_sim_scale_set_connected (PmSimScale *self,
                            gboolean    connected)
{
  Command *command;

  g_return_if_fail (PM_IS_SIM_SCALE (self));

  command = g_new0 (Command, 1);
  command->kind = COMMAND_CONNECTED;
  command->flag = connected;
  command_send (self, command);
}

void
pm_sim_scale_press_zero (PmSimScale *self)
{
  Command *command;

  g_return_if_fail (PM_IS_SIM_SCALE (self));

  command = g_new0 (Command, 1);
  command->kind = COMMAND_ZERO;
  command_send (self, command);
}

/* PmScale */

static gboolean
pm_sim_scale_start (PmScale  *scale,
                    GError  **error)
{
  PmSimScale *self = PM_SIM_SCALE (scale);

  if (self->worker != NULL)
    return TRUE;

  pm_scale_feed_begin (self->feed);
  self->worker = pm_scale_worker_start ("pm-scale-sim", worker_setup, worker_teardown,
                                        self);
  return TRUE;
}

static void
pm_sim_scale_stop (PmScale *scale)
{
  PmSimScale *self = PM_SIM_SCALE (scale);

  if (self->worker == NULL)
    return;

  g_clear_pointer (&self->worker, pm_scale_worker_stop);
  pm_scale_feed_end (self->feed);
}

static void
pm_sim_scale_iface_init (PmScaleInterface *iface)
{
  iface->start = pm_sim_scale_start;
  iface->stop = pm_sim_scale_stop;
  /* Like most USB scales: no zero from the computer; the demo presses the button. */
}
