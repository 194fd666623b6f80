/* pm-sim-scale.h: a simulated postal scale, for the demo and tests
 *
 * Behind the PmScale interface like any real scale, and fed the same way: it produces
 * USB HID POS report bytes, or replays a recording of what a scale sent (HID reports or a
 * serial transcript, with its timings; see pm-scale-recording.h), and every byte goes
 * through the decoder the real drivers use. So its readings have exactly the states and
 * quirks of a real one: the first report after connecting is stale and dropped, a weight is
 * postable only after the platform has been seen empty, motion comes before a stable
 * weight.
 *
 * By hand (the demo's controls), it acts like a Dymo-style USB scale in ounce mode: put a
 * piece on and it reports motion for a moment, then the stable weight rounded to the
 * display step; take it off and it settles back to zero. Unplugging it and plugging it in
 * with a piece on the platform re-zeroes it with the piece, as the real ones do, so only
 * taking the piece off and pressing the scale's zero button brings back a true weight.
 *
 * The control functions may be called from any thread; they take effect on the scale's
 * worker thread in the order they were called. A hand control stops a replay.
 */
#pragma once

#include "pm-scale.h"
#include "pm-scale-recording.h"

G_BEGIN_DECLS

typedef enum
{
  PM_SIM_SCALE_NORMAL,             /* weighs what lies on it */
  PM_SIM_SCALE_UNSTABLE,           /* keeps swinging: motion until set back to normal */
  PM_SIM_SCALE_OVER_CAPACITY,
  PM_SIM_SCALE_UNDER_ZERO,
  PM_SIM_SCALE_FAULT,
  PM_SIM_SCALE_NEEDS_CALIBRATION,
  PM_SIM_SCALE_NEEDS_REZERO,
} PmSimScaleCondition;

/* What the simulated scale sends by hand: tenths of an ounce up to 400 oz (25 lb). */
#define PM_SIM_SCALE_DEFAULT_CAPACITY_OUNCES 400
#define PM_SIM_SCALE_DEFAULT_SETTLE_MS       700
/* How often a moving scale reports. */
#define PM_SIM_SCALE_MOTION_INTERVAL_MS      100

#define PM_TYPE_SIM_SCALE (pm_sim_scale_get_type ())
G_DECLARE_FINAL_TYPE (PmSimScale, pm_sim_scale, PM, SIM_SCALE, GObject)

/* Set by hand; starts empty. */
PmSimScale *pm_sim_scale_new                (void);
/* Replays a recording file; the file is read when the scale starts, on its own thread,
 * and a bad file is reported as "device-lost" with PM_SCALE_ERROR_INVALID_SETTINGS. */
PmSimScale *pm_sim_scale_new_for_recording  (const char          *path);
PmSimScale *pm_sim_scale_new_for_recording_data (PmScaleRecording *recording);

/* Hand controls. The display unit is ounces (tenths), pounds (hundredths), grams or
 * kilograms (thousandths); capacity is in the display unit's whole units. */
void        pm_sim_scale_set_display        (PmSimScale          *self,
                                             PmWeightUnit         unit,
                                             guint                capacity);
void        pm_sim_scale_set_settle_time    (PmSimScale          *self,
                                             guint                milliseconds);
void        pm_sim_scale_put_piece          (PmSimScale          *self,
                                             const PmWeight      *weight);
void        pm_sim_scale_take_piece         (PmSimScale          *self);
void        pm_sim_scale_set_condition      (PmSimScale          *self,
                                             PmSimScaleCondition  condition);
/* Unplugged or switched off (it vanishes), then back. */
void        pm_sim_scale_set_connected      (PmSimScale          *self,
                                             gboolean             connected);
/* The zero button on the scale itself. */
void        pm_sim_scale_press_zero         (PmSimScale          *self);

G_END_DECLS
