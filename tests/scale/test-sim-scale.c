/* test-sim-scale.c: the simulated scale, by hand and replaying recordings, and the
 * recordings shipped in data/scale */
#include <string.h>

#include "pm-sim-scale.h"
#include "pm-scale-test-util.h"

#define WAIT_MS 10000
#define SETTLE_MS 200

static PmScaleRecording *
recording (const char *text)
{
  g_autoptr(GError) error = NULL;
  PmScaleRecording *parsed = pm_scale_recording_parse (text, strlen (text), &error);

  g_assert_no_error (error);
  return parsed;
}

static void
assert_weight (const PmScaleReading *reading,
               gint64                mantissa,
               gint8                 exponent,
               PmWeightUnit          unit)
{
  g_assert_true (reading->has_weight);
  g_assert_cmpint (reading->weight.mantissa, ==, mantissa);
  g_assert_cmpint (reading->weight.exponent, ==, exponent);
  g_assert_cmpint (reading->weight.unit, ==, unit);
}

static PmSimScale *
start_manual (PmTestScaleWatch **out_watch)
{
  g_autoptr(GError) error = NULL;
  PmSimScale *scale = pm_sim_scale_new ();
  PmTestScaleEvent *event;

  pm_sim_scale_set_settle_time (scale, SETTLE_MS);
  *out_watch = pm_test_scale_watch_new (PM_SCALE (scale));
  g_assert_true (pm_scale_start (PM_SCALE (scale), &error));
  g_assert_no_error (error);

  event = pm_test_scale_next (*out_watch, WAIT_MS);
  g_assert_nonnull (event);
  g_assert_cmpint (event->kind, ==, PM_TEST_SCALE_EVENT_FOUND);
  g_assert_cmpstr (event->description, ==, "Simulated USB scale");

  return scale;
}

static void
test_manual_piece (void)
{
  g_autoptr(PmTestScaleWatch) watch = NULL;
  g_autoptr(PmSimScale) scale = start_manual (&watch);
  PmWeight letter = pm_weight_make (35, -1, PM_WEIGHT_UNIT_OUNCE);
  const PmScaleReading *reading;
  guint motion = 0;
  PmTestScaleEvent *event;

  /* An empty platform first: the scale is usable from here on. */
  reading = pm_test_scale_wait_state (watch, PM_SCALE_STATE_ZERO, WAIT_MS);
  g_assert_false (reading->postable);
  g_assert_true (pm_scale_get_connected (PM_SCALE (scale)));

  pm_sim_scale_put_piece (scale, &letter);
  /* Motion first, never postable, then the stable weight. */
  while ((event = pm_test_scale_next (watch, WAIT_MS)) != NULL)
    {
      g_assert_cmpint (event->kind, ==, PM_TEST_SCALE_EVENT_READING);
      if (event->reading->state != PM_SCALE_STATE_MOTION)
        break;
      g_assert_false (event->reading->postable);
      motion++;
    }
  g_assert_nonnull (event);
  g_assert_cmpuint (motion, >=, 1);
  g_assert_cmpint (event->reading->state, ==, PM_SCALE_STATE_STABLE);
  assert_weight (event->reading, 35, -1, PM_WEIGHT_UNIT_OUNCE);
  g_assert_true (event->reading->postable);
  g_assert_true (pm_scale_get_postable (PM_SCALE (scale)));
  g_assert_nonnull (event->reading->raw);

  /* Level-triggered: the last reading is still there for a page opened later. */
  pm_test_scale_run_for (50);
  g_assert_cmpint (pm_scale_get_last_reading (PM_SCALE (scale))->state, ==,
                   PM_SCALE_STATE_STABLE);

  pm_sim_scale_take_piece (scale);
  reading = pm_test_scale_wait_state (watch, PM_SCALE_STATE_ZERO, WAIT_MS);
  g_assert_false (pm_scale_get_postable (PM_SCALE (scale)));

  pm_scale_stop (PM_SCALE (scale));
  g_assert_false (pm_scale_get_connected (PM_SCALE (scale)));
}

static void
test_manual_display_rounding (void)
{
  g_autoptr(PmTestScaleWatch) watch = NULL;
  g_autoptr(PmSimScale) scale = start_manual (&watch);
  /* 100 g in tenths of an ounce is 3.527 oz: the scale shows 3.5. */
  PmWeight grams = pm_weight_make (100, 0, PM_WEIGHT_UNIT_GRAM);
  PmWeight parcel = pm_weight_make (785, -2, PM_WEIGHT_UNIT_POUND);
  const PmScaleReading *reading;

  pm_test_scale_wait_state (watch, PM_SCALE_STATE_ZERO, WAIT_MS);
  pm_sim_scale_put_piece (scale, &grams);
  reading = pm_test_scale_wait_state (watch, PM_SCALE_STATE_STABLE, WAIT_MS);
  assert_weight (reading, 35, -1, PM_WEIGHT_UNIT_OUNCE);

  /* In pound mode the same scale speaks hundredths of a pound. */
  pm_sim_scale_set_display (scale, PM_WEIGHT_UNIT_POUND, 50);
  pm_sim_scale_put_piece (scale, &parcel);
  do
    reading = pm_test_scale_wait_state (watch, PM_SCALE_STATE_STABLE, WAIT_MS);
  while (reading->weight.unit != PM_WEIGHT_UNIT_POUND || reading->weight.mantissa != 785);
  assert_weight (reading, 785, -2, PM_WEIGHT_UNIT_POUND);
  g_assert_true (reading->postable);
}

static void
test_manual_conditions (void)
{
  static const struct
  {
    PmSimScaleCondition condition;
    PmScaleState        state;
  } table[] = {
    { PM_SIM_SCALE_OVER_CAPACITY, PM_SCALE_STATE_OVER_CAPACITY },
    { PM_SIM_SCALE_UNDER_ZERO, PM_SCALE_STATE_UNDER_ZERO },
    { PM_SIM_SCALE_FAULT, PM_SCALE_STATE_FAULT },
    { PM_SIM_SCALE_NEEDS_CALIBRATION, PM_SCALE_STATE_NEEDS_CALIBRATION },
    { PM_SIM_SCALE_NEEDS_REZERO, PM_SCALE_STATE_NEEDS_REZERO },
    { PM_SIM_SCALE_UNSTABLE, PM_SCALE_STATE_MOTION },
  };
  g_autoptr(PmTestScaleWatch) watch = NULL;
  g_autoptr(PmSimScale) scale = start_manual (&watch);
  PmWeight piece = pm_weight_make (120, -1, PM_WEIGHT_UNIT_OUNCE);
  PmWeight too_heavy = pm_weight_make (30, 0, PM_WEIGHT_UNIT_POUND);
  const PmScaleReading *reading;

  pm_test_scale_wait_state (watch, PM_SCALE_STATE_ZERO, WAIT_MS);
  pm_sim_scale_put_piece (scale, &piece);
  pm_test_scale_wait_state (watch, PM_SCALE_STATE_STABLE, WAIT_MS);

  for (gsize i = 0; i < G_N_ELEMENTS (table); i++)
    {
      pm_sim_scale_set_condition (scale, table[i].condition);
      reading = pm_test_scale_wait_state (watch, table[i].state, WAIT_MS);
      g_assert_false (reading->postable);
      pm_sim_scale_set_condition (scale, PM_SIM_SCALE_NORMAL);
      reading = pm_test_scale_wait_state (watch, PM_SCALE_STATE_STABLE, WAIT_MS);
      g_assert_true (reading->postable);
    }

  /* Unstable keeps reporting motion until it is set back. */
  pm_sim_scale_set_condition (scale, PM_SIM_SCALE_UNSTABLE);
  for (guint i = 0; i < 5; i++)
    pm_test_scale_wait_state (watch, PM_SCALE_STATE_MOTION, WAIT_MS);
  pm_sim_scale_set_condition (scale, PM_SIM_SCALE_NORMAL);
  pm_test_scale_wait_state (watch, PM_SCALE_STATE_STABLE, WAIT_MS);

  /* 30 lb on a 25 lb scale. */
  pm_sim_scale_put_piece (scale, &too_heavy);
  reading = pm_test_scale_wait_state (watch, PM_SCALE_STATE_OVER_CAPACITY, WAIT_MS);
  g_assert_false (reading->has_weight);
  g_assert_false (pm_scale_get_postable (PM_SCALE (scale)));
}

static void
test_manual_reconnect_rezero (void)
{
  g_autoptr(PmTestScaleWatch) watch = NULL;
  g_autoptr(PmSimScale) scale = start_manual (&watch);
  PmWeight piece = pm_weight_make (50, -1, PM_WEIGHT_UNIT_OUNCE);
  const PmScaleReading *reading;
  PmTestScaleEvent *event;

  pm_test_scale_wait_state (watch, PM_SCALE_STATE_ZERO, WAIT_MS);
  pm_sim_scale_put_piece (scale, &piece);
  reading = pm_test_scale_wait_state (watch, PM_SCALE_STATE_STABLE, WAIT_MS);
  g_assert_true (reading->postable);

  /* It switches itself off with the piece on it... */
  pm_sim_scale_set_connected (scale, FALSE);
  event = pm_test_scale_next (watch, WAIT_MS);
  g_assert_cmpint (event->kind, ==, PM_TEST_SCALE_EVENT_LOST);
  g_assert_error (event->error, PM_SCALE_ERROR, PM_SCALE_ERROR_NOT_FOUND);
  g_assert_false (pm_scale_get_connected (PM_SCALE (scale)));
  g_assert_false (pm_scale_get_postable (PM_SCALE (scale)));
  g_assert_null (pm_scale_get_last_reading (PM_SCALE (scale)));

  /* ... and comes back re-zeroed with it. The stale first report (the 5.0 oz it showed
   * before) is dropped: the first reading after it returns is what it reads now. */
  pm_sim_scale_set_connected (scale, TRUE);
  event = pm_test_scale_next (watch, WAIT_MS);
  g_assert_cmpint (event->kind, ==, PM_TEST_SCALE_EVENT_FOUND);
  event = pm_test_scale_next (watch, WAIT_MS);
  g_assert_cmpint (event->kind, ==, PM_TEST_SCALE_EVENT_READING);
  g_assert_cmpint (event->reading->state, !=, PM_SCALE_STATE_STABLE);
  pm_test_scale_wait_state (watch, PM_SCALE_STATE_ZERO, WAIT_MS);

  /* Taking the piece off shows the false zero: under zero, never usable. */
  pm_sim_scale_take_piece (scale);
  reading = pm_test_scale_wait_state (watch, PM_SCALE_STATE_UNDER_ZERO, WAIT_MS);
  g_assert_false (reading->postable);
  g_assert_false (reading->has_weight);

  /* The zero button, then the piece again: the true weight. */
  pm_sim_scale_press_zero (scale);
  pm_test_scale_wait_state (watch, PM_SCALE_STATE_ZERO, WAIT_MS);
  pm_sim_scale_put_piece (scale, &piece);
  reading = pm_test_scale_wait_state (watch, PM_SCALE_STATE_STABLE, WAIT_MS);
  assert_weight (reading, 50, -1, PM_WEIGHT_UNIT_OUNCE);
  g_assert_true (reading->postable);
}

static void
store_result_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static void
test_zero_not_supported (void)
{
  g_autoptr(PmTestScaleWatch) watch = NULL;
  g_autoptr(PmSimScale) scale = start_manual (&watch);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  /* Like most USB scales: zeroing is the scale's own button, never a silent no-op. */
  pm_scale_zero_async (PM_SCALE (scale), NULL, store_result_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (pm_scale_zero_finish (PM_SCALE (scale), result, &error));
  g_assert_error (error, PM_SCALE_ERROR, PM_SCALE_ERROR_NOT_SUPPORTED);
  g_assert_nonnull (strstr (error->message, "zero button"));
}

/* Replays */

static void
test_replay_seen_empty (void)
{
  /* A scale that comes up showing a weight it never saw put on: not usable until it has
   * been seen empty. The stale first report is dropped. */
  g_autoptr(PmScaleRecording) rec = recording ("protocol hid\n"
                                               "+0  03 04 0B FF 7E 00  # stale\n"
                                               "+10 03 04 0B FF 32 00\n"
                                               "+10 03 02 0B FF 00 00\n"
                                               "+10 03 04 0B FF 32 00\n");
  g_autoptr(PmSimScale) scale = pm_sim_scale_new_for_recording_data (rec);
  g_autoptr(PmTestScaleWatch) watch = pm_test_scale_watch_new (PM_SCALE (scale));
  g_autoptr(GError) error = NULL;
  PmTestScaleEvent *event;

  g_assert_true (pm_scale_start (PM_SCALE (scale), &error));
  event = pm_test_scale_next (watch, WAIT_MS);
  g_assert_cmpint (event->kind, ==, PM_TEST_SCALE_EVENT_FOUND);
  g_assert_nonnull (strstr (event->description, "replaying"));

  event = pm_test_scale_next (watch, WAIT_MS);
  g_assert_cmpint (event->reading->state, ==, PM_SCALE_STATE_STABLE);
  assert_weight (event->reading, 50, -1, PM_WEIGHT_UNIT_OUNCE);
  g_assert_false (event->reading->postable);
  event = pm_test_scale_next (watch, WAIT_MS);
  g_assert_cmpint (event->reading->state, ==, PM_SCALE_STATE_ZERO);
  event = pm_test_scale_next (watch, WAIT_MS);
  g_assert_cmpint (event->reading->state, ==, PM_SCALE_STATE_STABLE);
  g_assert_true (event->reading->postable);

  /* The recording ends: no more readings, and the last one stands. */
  g_assert_null (pm_test_scale_next (watch, 200));
  g_assert_true (pm_scale_get_postable (PM_SCALE (scale)));
}

static void
test_replay_serial_transcript (void)
{
  g_autoptr(PmScaleRecording) rec = recording ("protocol nci\n"
                                               "+0 \"\\n20\\r\\x03\"\n"
                                               "+5 \"\\n0001.2\"\n"
                                               "+5 \"5LB\\r\\n0\"\n"
                                               "+5 \"0\\r\\x03\"  # the rest of it\n");
  g_autoptr(PmSimScale) scale = pm_sim_scale_new_for_recording_data (rec);
  g_autoptr(PmTestScaleWatch) watch = pm_test_scale_watch_new (PM_SCALE (scale));
  g_autoptr(GError) error = NULL;
  const PmScaleReading *reading;

  g_assert_true (pm_scale_start (PM_SCALE (scale), &error));
  pm_test_scale_wait_state (watch, PM_SCALE_STATE_ZERO, WAIT_MS);
  reading = pm_test_scale_wait_state (watch, PM_SCALE_STATE_STABLE, WAIT_MS);
  assert_weight (reading, 125, -2, PM_WEIGHT_UNIT_POUND);
  g_assert_true (reading->postable);
}

static void
test_replay_unsupported_device (void)
{
  g_autoptr(GString) text = g_string_new ("protocol hid\n");
  g_autoptr(PmScaleRecording) rec = NULL;
  g_autoptr(PmSimScale) scale = NULL;
  g_autoptr(PmTestScaleWatch) watch = NULL;
  g_autoptr(GError) error = NULL;
  PmTestScaleEvent *event;

  /* hiddev-style 8-byte usage/value events instead of HID POS reports. */
  for (guint i = 0; i < PM_SCALE_DECODER_MAX_FOREIGN_REPORTS; i++)
    g_string_append (text, "+1 40 00 8D 00 23 00 00 00\n");
  rec = recording (text->str);
  scale = pm_sim_scale_new_for_recording_data (rec);
  watch = pm_test_scale_watch_new (PM_SCALE (scale));

  g_assert_true (pm_scale_start (PM_SCALE (scale), &error));
  event = pm_test_scale_next (watch, WAIT_MS);
  g_assert_cmpint (event->kind, ==, PM_TEST_SCALE_EVENT_FOUND);
  event = pm_test_scale_next (watch, WAIT_MS);
  g_assert_nonnull (event);
  g_assert_cmpint (event->kind, ==, PM_TEST_SCALE_EVENT_LOST);
  g_assert_error (event->error, PM_SCALE_ERROR, PM_SCALE_ERROR_UNSUPPORTED_DEVICE);
  g_assert_nonnull (strstr (event->error->message, "Unsupported scale"));
  g_assert_null (pm_test_scale_next (watch, 100));
}

static void
test_replay_bad_file (void)
{
  g_autofree char *path = g_build_filename (g_get_user_data_dir (), "bad.rec", NULL);
  g_autoptr(PmSimScale) scale = NULL;
  g_autoptr(PmSimScale) missing = NULL;
  g_autoptr(PmTestScaleWatch) watch = NULL;
  g_autoptr(PmTestScaleWatch) missing_watch = NULL;
  g_autoptr(GError) error = NULL;
  PmTestScaleEvent *event;

  g_assert_cmpint (g_mkdir_with_parents (g_get_user_data_dir (), 0700), ==, 0);
  g_assert_true (g_file_set_contents (path, "protocol hid\n+10 03 04 zz\n", -1, NULL));
  scale = pm_sim_scale_new_for_recording (path);
  watch = pm_test_scale_watch_new (PM_SCALE (scale));
  g_assert_true (pm_scale_start (PM_SCALE (scale), &error));
  event = pm_test_scale_next (watch, WAIT_MS);
  g_assert_cmpint (event->kind, ==, PM_TEST_SCALE_EVENT_LOST);
  g_assert_error (event->error, PM_SCALE_ERROR, PM_SCALE_ERROR_INVALID_SETTINGS);
  g_assert_nonnull (strstr (event->error->message, "line 2"));

  missing = pm_sim_scale_new_for_recording ("/nonexistent/scale.rec");
  missing_watch = pm_test_scale_watch_new (PM_SCALE (missing));
  g_assert_true (pm_scale_start (PM_SCALE (missing), &error));
  event = pm_test_scale_next (missing_watch, WAIT_MS);
  g_assert_cmpint (event->kind, ==, PM_TEST_SCALE_EVENT_LOST);
  g_assert_error (event->error, PM_SCALE_ERROR, PM_SCALE_ERROR_INVALID_SETTINGS);
}

static void
test_replay_then_by_hand (void)
{
  /* A looping recording; a hand control takes over from it. */
  g_autoptr(PmScaleRecording) rec = recording ("protocol hid\n"
                                               "+0  03 02 0B FF 00 00\n"
                                               "+20 03 02 0B FF 00 00\n"
                                               "+20 03 04 0B FF 14 00\n"
                                               "loop\n");
  g_autoptr(PmSimScale) scale = pm_sim_scale_new_for_recording_data (rec);
  g_autoptr(PmTestScaleWatch) watch = pm_test_scale_watch_new (PM_SCALE (scale));
  g_autoptr(GError) error = NULL;
  PmWeight piece = pm_weight_make (99, -1, PM_WEIGHT_UNIT_OUNCE);
  const PmScaleReading *reading;

  pm_sim_scale_set_settle_time (scale, SETTLE_MS);
  g_assert_true (pm_scale_start (PM_SCALE (scale), &error));
  /* Looping: the 2.0 oz piece comes round at least twice. */
  pm_test_scale_wait_state (watch, PM_SCALE_STATE_STABLE, WAIT_MS);
  pm_test_scale_wait_state (watch, PM_SCALE_STATE_STABLE, WAIT_MS);

  pm_sim_scale_put_piece (scale, &piece);
  do
    reading = pm_test_scale_wait_state (watch, PM_SCALE_STATE_STABLE, WAIT_MS);
  while (reading->weight.mantissa != 99);
  g_assert_true (reading->postable);

  /* The replay no longer runs: nothing but the hand-set weight. */
  pm_test_scale_run_for (150);
  g_assert_cmpint (pm_scale_get_last_reading (PM_SCALE (scale))->weight.mantissa, ==, 99);
}

static void
test_restart (void)
{
  g_autoptr(PmTestScaleWatch) watch = NULL;
  g_autoptr(PmSimScale) scale = start_manual (&watch);
  g_autoptr(GError) error = NULL;

  pm_test_scale_wait_state (watch, PM_SCALE_STATE_ZERO, WAIT_MS);
  pm_sim_scale_set_settle_time (scale, 0);
  for (guint i = 0; i < 20; i++)
    {
      pm_scale_stop (PM_SCALE (scale));
      g_assert_false (pm_scale_get_connected (PM_SCALE (scale)));
      g_assert_true (pm_scale_start (PM_SCALE (scale), &error));
      g_assert_no_error (error);
      pm_test_scale_wait_state (watch, PM_SCALE_STATE_ZERO, WAIT_MS);
      g_assert_true (pm_scale_get_connected (PM_SCALE (scale)));
    }
}

/* Recording files */

static void
test_recording_errors (void)
{
  static const struct
  {
    const char *text;
    const char *needle;
  } bad[] = {
    { "", "empty" },
    { "# nothing\n", "empty" },
    { "protocol hid\n", "no steps" },
    { "protocol usb\n+0 03\n", "line 1" },
    { "+0 03 04\n", "line 1" },
    { "protocol hid\n+0 3 04\n", "line 2" },
    { "protocol hid\n+x 03\n", "line 2" },
    { "protocol hid\n+0\n", "line 2" },
    { "protocol hid\n+700000 03\n", "line 2" },
    { "protocol hid\n+0 \"abc\n", "line 2" },
    { "protocol hid\n+0 \"a\\q\"\n", "line 2" },
    { "protocol hid\n+0 \"a\" junk\n", "line 2" },
    { "protocol hid\n+0 03\nloop\n+1 03\n", "line 4" },
    { "protocol hid\n+0 03\n+0 03\nloop\n", "loops without any delay" },
    { "protocol mettler-8217\nunit stone\n+0 03\n", "line 2" },
    { "protocol hid\nbogus\n", "line 2" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(PmScaleRecording) rec = pm_scale_recording_parse (bad[i].text,
                                                                  strlen (bad[i].text),
                                                                  &error);

      g_assert_null (rec);
      g_assert_error (error, PM_SCALE_ERROR, PM_SCALE_ERROR_INVALID_SETTINGS);
      if (strstr (error->message, bad[i].needle) == NULL)
        g_error ("case %" G_GSIZE_FORMAT ": “%s” does not say “%s”", i, error->message,
                 bad[i].needle);
    }

  {
    static const char nul[] = "protocol hid\n+0 03\0\n";
    g_autoptr(GError) error = NULL;

    g_assert_null (pm_scale_recording_parse (nul, sizeof nul - 1, &error));
    g_assert_error (error, PM_SCALE_ERROR, PM_SCALE_ERROR_INVALID_SETTINGS);
  }
}

static void
test_recording_forms (void)
{
  g_autoptr(PmScaleRecording) rec = recording ("# header\r\n"
                                               "protocol Mettler-8217\r\n"
                                               "unit LB\n"
                                               "+12 02 30 31 2E 32 35 0D\n"
                                               "+0 \"\\x02\" # a comment \"quoted\"\n"
                                               "+3 \"a#b\\\\\\\"\\t\"\n"
                                               "loop\n");
  const PmScaleRecordingStep *step;
  PmWeightUnit unit;

  g_assert_cmpint (pm_scale_recording_get_protocol (rec), ==,
                   PM_SCALE_PROTOCOL_METTLER_8217);
  g_assert_true (pm_scale_recording_get_unit (rec, &unit));
  g_assert_cmpint (unit, ==, PM_WEIGHT_UNIT_POUND);
  g_assert_true (pm_scale_recording_get_loop (rec));
  g_assert_cmpuint (pm_scale_recording_get_n_steps (rec), ==, 3);
  step = pm_scale_recording_get_step (rec, 0);
  g_assert_cmpuint (step->delay_ms, ==, 12);
  g_assert_cmpmem (g_bytes_get_data (step->bytes, NULL), g_bytes_get_size (step->bytes),
                   "\x02" "01.25\r", 7);
  step = pm_scale_recording_get_step (rec, 1);
  g_assert_cmpmem (g_bytes_get_data (step->bytes, NULL), g_bytes_get_size (step->bytes),
                   "\x02", 1);
  step = pm_scale_recording_get_step (rec, 2);
  g_assert_cmpmem (g_bytes_get_data (step->bytes, NULL), g_bytes_get_size (step->bytes),
                   "a#b\\\"\t", 6);
}

typedef struct
{
  GPtrArray *readings;
} Decoded;

static void
decoded_cb (PmScaleReplyKind  kind,
            PmScaleReading   *reading,
            gpointer          user_data)
{
  Decoded *decoded = user_data;

  if (reading != NULL)
    g_ptr_array_add (decoded->readings, reading);
}

/* The recordings the demo replays decode to the pieces their comments describe. */
static void
test_shipped_recordings (void)
{
  static const struct
  {
    const char  *file;
    gint64       stable[3];    /* the stable weights, in order, 0 ends */
    gint8        exponent;
    PmWeightUnit unit;
    PmScaleState also;         /* a state the recording must show */
  } files[] = {
    { "dymo-m10-ounces.rec", { 35, 126, 0 }, -1, PM_WEIGHT_UNIT_OUNCE,
      PM_SCALE_STATE_MOTION },
    { "postal-scale-pounds.rec", { 785, 0 }, -2, PM_WEIGHT_UNIT_POUND,
      PM_SCALE_STATE_OVER_CAPACITY },
    { "nci-ecr-pounds.rec", { 125, 125, 0 }, -2, PM_WEIGHT_UNIT_POUND,
      PM_SCALE_STATE_MOTION },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *path = g_build_filename (g_getenv ("POSTMETER_SOURCE_ROOT"), "data",
                                                "scale", files[i].file, NULL);
      g_autoptr(GError) error = NULL;
      g_autoptr(PmScaleRecording) rec = pm_scale_recording_load (path, &error);
      g_autoptr(PmScaleDecoder) decoder = NULL;
      Decoded decoded = { g_ptr_array_new_with_free_func ((GDestroyNotify)
                                                          pm_scale_reading_free) };
      guint n_stable = 0;
      gboolean also = FALSE, zero = FALSE;

      g_assert_no_error (error);
      g_assert_true (pm_scale_recording_get_loop (rec));
      decoder = pm_scale_decoder_new (pm_scale_recording_get_protocol (rec));
      for (guint s = 0; s < pm_scale_recording_get_n_steps (rec); s++)
        {
          GBytes *bytes = pm_scale_recording_get_step (rec, s)->bytes;

          g_assert_true (pm_scale_decoder_push (decoder, g_bytes_get_data (bytes, NULL),
                                                g_bytes_get_size (bytes), decoded_cb,
                                                &decoded, &error));
        }

      for (guint r = 0; r < decoded.readings->len; r++)
        {
          PmScaleReading *reading = decoded.readings->pdata[r];

          g_assert_cmpint (reading->state, !=, PM_SCALE_STATE_UNREADABLE);
          if (reading->state == PM_SCALE_STATE_ZERO)
            zero = TRUE;
          if (reading->state == files[i].also)
            also = TRUE;
          if (reading->state == PM_SCALE_STATE_STABLE)
            {
              /* Every weighing comes after the platform was seen empty. */
              g_assert_true (zero);
              g_assert_cmpint (files[i].stable[n_stable], !=, 0);
              assert_weight (reading, files[i].stable[n_stable], files[i].exponent,
                             files[i].unit);
              n_stable++;
            }
        }
      g_assert_cmpint (files[i].stable[n_stable], ==, 0);
      g_assert_true (also);
      g_ptr_array_unref (decoded.readings);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/scale/sim/manual/piece", test_manual_piece);
  g_test_add_func ("/scale/sim/manual/display-rounding", test_manual_display_rounding);
  g_test_add_func ("/scale/sim/manual/conditions", test_manual_conditions);
  g_test_add_func ("/scale/sim/manual/reconnect-rezero", test_manual_reconnect_rezero);
  g_test_add_func ("/scale/sim/manual/zero-not-supported", test_zero_not_supported);
  g_test_add_func ("/scale/sim/manual/restart", test_restart);
  g_test_add_func ("/scale/sim/replay/seen-empty", test_replay_seen_empty);
  g_test_add_func ("/scale/sim/replay/serial-transcript", test_replay_serial_transcript);
  g_test_add_func ("/scale/sim/replay/unsupported-device", test_replay_unsupported_device);
  g_test_add_func ("/scale/sim/replay/bad-file", test_replay_bad_file);
  g_test_add_func ("/scale/sim/replay/then-by-hand", test_replay_then_by_hand);
  g_test_add_func ("/scale/recording/errors", test_recording_errors);
  g_test_add_func ("/scale/recording/forms", test_recording_forms);
  g_test_add_func ("/scale/recording/shipped", test_shipped_recordings);

  return g_test_run ();
}
