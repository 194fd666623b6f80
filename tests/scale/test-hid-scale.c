/* test-hid-scale.c: the USB HID POS scale driver, fed through a pseudo-device
 *
 * A SOCK_SEQPACKET socket pair keeps each write a separate read, as a hidraw node does,
 * so the driver's own reader thread decodes the reports. Closing the test's end is the
 * scale switching itself off.
 */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pm-hid-scale.h"
#include "pm-hid-scale-report.h"
#include "pm-scale-protocol.h"
#include "pm-scale-test-util.h"

#define WAIT_MS 10000

/* Reference vectors, shared/reference/devices.md section 2. */
static const guint8 h1[] = { 0x03, 0x04, 0x0B, 0xFF, 0x34, 0x19 };  /* 645.2 oz */
static const guint8 h2[] = { 0x03, 0x04, 0x02, 0x00, 0x14, 0x00 };  /* 20 g */
static const guint8 h3[] = { 0x03, 0x02, 0x0B, 0xFF, 0x00, 0x00 };  /* 0.0 oz, empty */
static const guint8 h4[] = { 0x03, 0x04, 0x0C, 0xFE, 0x11, 0x03 };  /* 7.85 lb */

typedef struct
{
  int fds[2];   /* [0] the driver's end, [1] the scale's end */
} Pseudo;

static void
pseudo_open (Pseudo *pseudo)
{
  g_assert_cmpint (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pseudo->fds), ==,
                   0);
}

static void
pseudo_send (Pseudo       *pseudo,
             const guint8 *report,
             gsize         len)
{
  g_assert_cmpint (write (pseudo->fds[1], report, len), ==, (gssize) len);
}

static void
pseudo_unplug (Pseudo *pseudo)
{
  close (pseudo->fds[1]);
  pseudo->fds[1] = -1;
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

static PmTestScaleEvent *
next_event (PmTestScaleWatch     *watch,
            PmTestScaleEventKind  kind)
{
  PmTestScaleEvent *event = pm_test_scale_next (watch, WAIT_MS);

  g_assert_nonnull (event);
  g_assert_cmpint (event->kind, ==, kind);
  return event;
}

static PmHidScale *
start_pseudo (Pseudo             *pseudo,
              PmTestScaleWatch  **out_watch)
{
  g_autoptr(GError) error = NULL;
  PmHidScale *scale;
  PmTestScaleEvent *event;

  pseudo_open (pseudo);
  scale = pm_hid_scale_new_for_fd (pseudo->fds[0], "Dymo M10 (test)");
  *out_watch = pm_test_scale_watch_new (PM_SCALE (scale));
  g_assert_true (pm_scale_start (PM_SCALE (scale), &error));
  g_assert_no_error (error);

  event = next_event (*out_watch, PM_TEST_SCALE_EVENT_FOUND);
  g_assert_cmpstr (event->description, ==, "Dymo M10 (test)");

  return scale;
}

static void
test_reference_vectors (void)
{
  g_autoptr(PmTestScaleWatch) watch = NULL;
  Pseudo pseudo;
  g_autoptr(PmHidScale) scale = start_pseudo (&pseudo, &watch);
  static const guint8 zero_byte_h1[] = { 0x00, 0x03, 0x04, 0x0B, 0xFF, 0x34, 0x19 };
  PmTestScaleEvent *event;

  /* The first report repeats an old weighing: 645.2 oz must never show. */
  pseudo_send (&pseudo, h1, sizeof h1);
  pseudo_send (&pseudo, h3, sizeof h3);
  event = next_event (watch, PM_TEST_SCALE_EVENT_READING);
  g_assert_cmpint (event->reading->state, ==, PM_SCALE_STATE_ZERO);
  g_assert_false (event->reading->postable);
  assert_weight (event->reading, 0, -1, PM_WEIGHT_UNIT_OUNCE);

  pseudo_send (&pseudo, h2, sizeof h2);
  event = next_event (watch, PM_TEST_SCALE_EVENT_READING);
  g_assert_cmpint (event->reading->state, ==, PM_SCALE_STATE_STABLE);
  assert_weight (event->reading, 20, 0, PM_WEIGHT_UNIT_GRAM);
  g_assert_true (event->reading->postable);
  g_assert_true (pm_scale_get_postable (PM_SCALE (scale)));

  /* A signed exponent: 10^-2 pounds. */
  pseudo_send (&pseudo, h4, sizeof h4);
  event = next_event (watch, PM_TEST_SCALE_EVENT_READING);
  assert_weight (event->reading, 785, -2, PM_WEIGHT_UNIT_POUND);
  g_assert_true (event->reading->postable);

  /* The zero byte some stacks put first is skipped, the raw bytes kept for the log. */
  pseudo_send (&pseudo, zero_byte_h1, sizeof zero_byte_h1);
  event = next_event (watch, PM_TEST_SCALE_EVENT_READING);
  assert_weight (event->reading, 6452, -1, PM_WEIGHT_UNIT_OUNCE);
  g_assert_true (event->reading->postable);
  {
    g_autofree char *hex = pm_scale_reading_dup_raw_hex (event->reading);

    g_assert_cmpstr (hex, ==, "00 03 04 0B FF 34 19");
  }

  pm_scale_stop (PM_SCALE (scale));
  close (pseudo.fds[1]);
}

static void
test_states (void)
{
  g_autoptr(PmTestScaleWatch) watch = NULL;
  Pseudo pseudo;
  g_autoptr(PmHidScale) scale = start_pseudo (&pseudo, &watch);
  static const struct
  {
    guint8       status;
    PmScaleState state;
  } statuses[] = {
    { PM_HID_SCALE_STATUS_FAULT, PM_SCALE_STATE_FAULT },
    { PM_HID_SCALE_STATUS_MOTION, PM_SCALE_STATE_MOTION },
    { PM_HID_SCALE_STATUS_UNDER_ZERO, PM_SCALE_STATE_UNDER_ZERO },
    { PM_HID_SCALE_STATUS_OVER_LIMIT, PM_SCALE_STATE_OVER_CAPACITY },
    { PM_HID_SCALE_STATUS_CALIBRATE, PM_SCALE_STATE_NEEDS_CALIBRATION },
    { PM_HID_SCALE_STATUS_REZERO, PM_SCALE_STATE_NEEDS_REZERO },
  };
  guint8 report[PM_HID_SCALE_REPORT_SIZE];
  PmTestScaleEvent *event;

  pseudo_send (&pseudo, h3, sizeof h3);  /* dropped */
  pseudo_send (&pseudo, h3, sizeof h3);
  g_assert_cmpint (next_event (watch, PM_TEST_SCALE_EVENT_READING)->reading->state, ==,
                   PM_SCALE_STATE_ZERO);

  for (gsize i = 0; i < G_N_ELEMENTS (statuses); i++)
    {
      pm_hid_scale_report_build (report, statuses[i].status, PM_HID_SCALE_UNIT_OUNCE, -1, 35);
      pseudo_send (&pseudo, report, sizeof report);
      event = next_event (watch, PM_TEST_SCALE_EVENT_READING);
      g_assert_cmpint (event->reading->state, ==, statuses[i].state);
      g_assert_false (event->reading->postable);
      g_assert_false (pm_scale_get_postable (PM_SCALE (scale)));
    }

  /* A stable weight in carats is no postage weight. */
  pm_hid_scale_report_build (report, PM_HID_SCALE_STATUS_STABLE, 4, 0, 35);
  pseudo_send (&pseudo, report, sizeof report);
  event = next_event (watch, PM_TEST_SCALE_EVENT_READING);
  g_assert_cmpint (event->reading->state, ==, PM_SCALE_STATE_UNREADABLE);
  g_assert_nonnull (event->reading->detail);
  g_assert_false (event->reading->postable);

  pm_scale_stop (PM_SCALE (scale));
  close (pseudo.fds[1]);
}

static void
test_rezero_guard (void)
{
  g_autoptr(PmTestScaleWatch) watch = NULL;
  Pseudo pseudo;
  g_autoptr(PmHidScale) scale = start_pseudo (&pseudo, &watch);
  PmTestScaleEvent *event;

  pseudo_send (&pseudo, h3, sizeof h3);  /* dropped */
  pseudo_send (&pseudo, h3, sizeof h3);
  pseudo_send (&pseudo, h2, sizeof h2);
  g_assert_cmpint (next_event (watch, PM_TEST_SCALE_EVENT_READING)->reading->state, ==,
                   PM_SCALE_STATE_ZERO);
  g_assert_true (next_event (watch, PM_TEST_SCALE_EVENT_READING)->reading->postable);

  /* The scale switches itself off with the piece on it. */
  pseudo_unplug (&pseudo);
  event = next_event (watch, PM_TEST_SCALE_EVENT_LOST);
  g_assert_error (event->error, PM_SCALE_ERROR, PM_SCALE_ERROR_NOT_FOUND);
  g_assert_false (pm_scale_get_connected (PM_SCALE (scale)));
  g_assert_false (pm_scale_get_postable (PM_SCALE (scale)));

  /* It comes back. Its first report is stale; then it shows a weight it has not been seen
   * to start from an empty platform for: shown, never usable. */
  pseudo_open (&pseudo);
  pm_hid_scale_attach_fd (scale, pseudo.fds[0], "Dymo M10 (test)");
  next_event (watch, PM_TEST_SCALE_EVENT_FOUND);
  pseudo_send (&pseudo, h4, sizeof h4);
  pseudo_send (&pseudo, h2, sizeof h2);
  event = next_event (watch, PM_TEST_SCALE_EVENT_READING);
  g_assert_cmpint (event->reading->state, ==, PM_SCALE_STATE_STABLE);
  assert_weight (event->reading, 20, 0, PM_WEIGHT_UNIT_GRAM);
  g_assert_false (event->reading->postable);
  g_assert_false (pm_scale_get_postable (PM_SCALE (scale)));

  /* Once seen empty, weights count again. */
  pseudo_send (&pseudo, h3, sizeof h3);
  pseudo_send (&pseudo, h2, sizeof h2);
  g_assert_cmpint (next_event (watch, PM_TEST_SCALE_EVENT_READING)->reading->state, ==,
                   PM_SCALE_STATE_ZERO);
  event = next_event (watch, PM_TEST_SCALE_EVENT_READING);
  assert_weight (event->reading, 20, 0, PM_WEIGHT_UNIT_GRAM);
  g_assert_true (event->reading->postable);

  pm_scale_stop (PM_SCALE (scale));
  close (pseudo.fds[1]);
}

static void
test_many_reconnects (void)
{
  g_autoptr(PmTestScaleWatch) watch = NULL;
  Pseudo pseudo;
  g_autoptr(PmHidScale) scale = start_pseudo (&pseudo, &watch);

  /* Scales that deliver one report and then nothing until reopened live on this loop. */
  for (guint i = 0; i < 50; i++)
    {
      PmTestScaleEvent *event;

      if (i > 0)
        {
          pseudo_open (&pseudo);
          pm_hid_scale_attach_fd (scale, pseudo.fds[0], "Dymo M10 (test)");
          next_event (watch, PM_TEST_SCALE_EVENT_FOUND);
        }
      pseudo_send (&pseudo, h1, sizeof h1);
      pseudo_send (&pseudo, h3, sizeof h3);
      event = next_event (watch, PM_TEST_SCALE_EVENT_READING);
      g_assert_cmpint (event->reading->state, ==, PM_SCALE_STATE_ZERO);
      pseudo_unplug (&pseudo);
      next_event (watch, PM_TEST_SCALE_EVENT_LOST);
    }

  g_assert_null (pm_test_scale_next (watch, 50));
  pm_scale_stop (PM_SCALE (scale));
}

static void
test_unsupported_device (void)
{
  g_autoptr(PmTestScaleWatch) watch = NULL;
  Pseudo pseudo;
  g_autoptr(PmHidScale) scale = start_pseudo (&pseudo, &watch);
  /* A hiddev-style usage/value event, not a HID POS report. */
  static const guint8 hiddev[] = { 0x40, 0x00, 0x8D, 0x00, 0x23, 0x00, 0x00, 0x00 };
  PmTestScaleEvent *event;

  for (guint i = 0; i < PM_SCALE_DECODER_MAX_FOREIGN_REPORTS; i++)
    pseudo_send (&pseudo, hiddev, sizeof hiddev);

  event = next_event (watch, PM_TEST_SCALE_EVENT_LOST);
  g_assert_error (event->error, PM_SCALE_ERROR, PM_SCALE_ERROR_UNSUPPORTED_DEVICE);
  g_assert_nonnull (strstr (event->error->message, "Unsupported scale"));
  /* Refused for good: the driver has let go of the device, and says nothing more. */
  g_assert_cmpint (send (pseudo.fds[1], h3, sizeof h3, MSG_NOSIGNAL), ==, -1);
  g_assert_null (pm_test_scale_next (watch, 100));
  g_assert_false (pm_scale_get_connected (PM_SCALE (scale)));

  pm_scale_stop (PM_SCALE (scale));
  close (pseudo.fds[1]);
}

static void
test_silent_device (void)
{
  g_autoptr(PmTestScaleWatch) watch = NULL;
  g_autoptr(GError) error = NULL;
  Pseudo pseudo;
  g_autoptr(PmHidScale) scale = NULL;
  PmTestScaleEvent *event;

  pseudo_open (&pseudo);
  scale = pm_hid_scale_new_for_fd (pseudo.fds[0], "Silent scale");
  pm_hid_scale_set_silence_timeout (scale, 200);
  watch = pm_test_scale_watch_new (PM_SCALE (scale));
  g_assert_true (pm_scale_start (PM_SCALE (scale), &error));
  next_event (watch, PM_TEST_SCALE_EVENT_FOUND);

  /* Nothing at all from it: the operator is told, once, instead of waiting. */
  event = next_event (watch, PM_TEST_SCALE_EVENT_READING);
  g_assert_cmpint (event->reading->state, ==, PM_SCALE_STATE_UNREADABLE);
  g_assert_nonnull (strstr (event->reading->detail, "sent nothing"));
  g_assert_null (pm_test_scale_next (watch, 400));

  /* It wakes up after all: read as usual. */
  pseudo_send (&pseudo, h3, sizeof h3);
  pseudo_send (&pseudo, h3, sizeof h3);
  g_assert_cmpint (next_event (watch, PM_TEST_SCALE_EVENT_READING)->reading->state, ==,
                   PM_SCALE_STATE_ZERO);

  pm_scale_stop (PM_SCALE (scale));
  close (pseudo.fds[1]);
}

static void
test_missing_device (void)
{
  g_autoptr(PmHidScale) scale = pm_hid_scale_new_for_device ("/dev/hidraw-postmeter-none");
  g_autoptr(PmTestScaleWatch) watch = pm_test_scale_watch_new (PM_SCALE (scale));
  g_autoptr(GError) error = NULL;
  PmTestScaleEvent *event;

  /* No such node: said once, then the driver waits for udev, without a hang or a loop. */
  g_assert_true (pm_scale_start (PM_SCALE (scale), &error));
  event = next_event (watch, PM_TEST_SCALE_EVENT_LOST);
  g_assert_error (event->error, PM_SCALE_ERROR, PM_SCALE_ERROR_NOT_FOUND);
  g_assert_null (pm_test_scale_next (watch, 200));
  g_assert_false (pm_scale_get_connected (PM_SCALE (scale)));

  pm_scale_stop (PM_SCALE (scale));
}

static void
test_not_hidraw (void)
{
  g_autoptr(PmHidScale) scale = pm_hid_scale_new_for_device ("/dev/null");
  g_autoptr(PmTestScaleWatch) watch = pm_test_scale_watch_new (PM_SCALE (scale));
  g_autoptr(GError) error = NULL;
  PmTestScaleEvent *event;

  /* A node that exists but is no HID device is refused, not waited on. */
  g_assert_true (pm_scale_start (PM_SCALE (scale), &error));
  event = next_event (watch, PM_TEST_SCALE_EVENT_LOST);
  g_assert_error (event->error, PM_SCALE_ERROR, PM_SCALE_ERROR_UNSUPPORTED_DEVICE);
  g_assert_nonnull (strstr (event->error->message, "/dev/null"));
  g_assert_null (pm_test_scale_next (watch, 200));

  pm_scale_stop (PM_SCALE (scale));
}

static void
test_udev_scan (void)
{
  g_autoptr(PmHidScale) scale = pm_hid_scale_new ();
  g_autoptr(PmTestScaleWatch) watch = pm_test_scale_watch_new (PM_SCALE (scale));
  g_autoptr(GError) error = NULL;
  PmTestScaleEvent *event;

  /* Whatever this machine has plugged in, udev is asked and an answer comes: a scale, or
   * a plain reason why there is none. Every hidraw node's descriptor is classified. */
  g_assert_true (pm_scale_start (PM_SCALE (scale), &error));
  event = pm_test_scale_next (watch, WAIT_MS);
  g_assert_nonnull (event);
  if (event->kind == PM_TEST_SCALE_EVENT_LOST)
    {
      g_assert_true (event->error->domain == PM_SCALE_ERROR);
      g_assert_true (event->error->code == PM_SCALE_ERROR_NOT_FOUND
                     || event->error->code == PM_SCALE_ERROR_UNSUPPORTED_DEVICE
                     || event->error->code == PM_SCALE_ERROR_PERMISSION);
      g_assert_false (pm_scale_get_connected (PM_SCALE (scale)));
    }
  else
    {
      g_assert_cmpint (event->kind, ==, PM_TEST_SCALE_EVENT_FOUND);
      g_assert_nonnull (strstr (event->description, "/dev/hidraw"));
    }

  pm_scale_stop (PM_SCALE (scale));
}

/* A HID POS scale's report descriptor begins: Usage Page (POS), Usage (Scale Device),
 * Collection (Application), then its data report. */
static const guint8 pos_descriptor[] = {
  0x05, 0x8D, 0x09, 0x20, 0xA1, 0x01, 0x85, 0x03, 0x09, 0x32, 0xA1, 0x02,
  0x05, 0x8D, 0x09, 0x70, 0x15, 0x00, 0x25, 0x08, 0x75, 0x08, 0x95, 0x01,
  0x81, 0x02, 0xC0, 0xC0,
};

/* The USB boot keyboard: Generic Desktop, Keyboard. */
static const guint8 keyboard_descriptor[] = {
  0x05, 0x01, 0x09, 0x06, 0xA1, 0x01, 0x05, 0x07, 0x19, 0xE0, 0x29, 0xE7,
  0x15, 0x00, 0x25, 0x01, 0x75, 0x01, 0x95, 0x08, 0x81, 0x02, 0xC0,
};

static void
test_discovery_rules (void)
{
  /* The page in its two-byte and extended-usage forms, after a long item. */
  static const guint8 two_byte_page[] = { 0x06, 0x8D, 0x00, 0x09, 0x20, 0xA1, 0x01, 0xC0 };
  static const guint8 extended_usage[] = { 0xFE, 0x02, 0x10, 0xAA, 0xBB,
                                           0x0B, 0x20, 0x00, 0x8D, 0x00 };
  /* 0x8D as data of another item, and a descriptor cut inside an item. */
  static const guint8 not_a_page[] = { 0x09, 0x8D, 0x15, 0x8D, 0x26, 0x8D, 0x00 };
  static const guint8 truncated[] = { 0x05, 0x01, 0x06, 0x8D };
  const char *name = NULL;

  g_assert_true (pm_hid_scale_descriptor_is_pos (pos_descriptor, sizeof pos_descriptor));
  g_assert_true (pm_hid_scale_descriptor_is_pos (two_byte_page, sizeof two_byte_page));
  g_assert_true (pm_hid_scale_descriptor_is_pos (extended_usage, sizeof extended_usage));
  g_assert_false (pm_hid_scale_descriptor_is_pos (keyboard_descriptor,
                                                  sizeof keyboard_descriptor));
  g_assert_false (pm_hid_scale_descriptor_is_pos (not_a_page, sizeof not_a_page));
  g_assert_false (pm_hid_scale_descriptor_is_pos (truncated, sizeof truncated));
  g_assert_false (pm_hid_scale_descriptor_is_pos (NULL, 0));

  /* Known scales, with or without a readable descriptor. */
  g_assert_cmpint (pm_hid_scale_match (0x0922, 0x8003, pos_descriptor, sizeof pos_descriptor,
                                       &name), ==, PM_HID_SCALE_MATCH_SCALE);
  g_assert_cmpstr (name, ==, "Dymo M10");
  g_assert_cmpint (pm_hid_scale_match (0x1446, 0x6a73, NULL, 0, &name), ==,
                   PM_HID_SCALE_MATCH_SCALE);
  g_assert_cmpstr (name, ==, "Stamps.com Model 510");
  g_assert_cmpint (pm_hid_scale_match (0x0eb8, 0xf000, NULL, 0, NULL), ==,
                   PM_HID_SCALE_MATCH_SCALE);
  /* An unknown scale that declares the POS page is taken. */
  g_assert_cmpint (pm_hid_scale_match (0x1234, 0x5678, pos_descriptor, sizeof pos_descriptor,
                                       &name), ==, PM_HID_SCALE_MATCH_SCALE);
  g_assert_null (name);
  /* A postal scale that is not HID POS, and a known id whose descriptor says otherwise. */
  g_assert_cmpint (pm_hid_scale_match (0x04d9, 0x8010, keyboard_descriptor,
                                       sizeof keyboard_descriptor, &name), ==,
                   PM_HID_SCALE_MATCH_UNSUPPORTED);
  g_assert_cmpstr (name, ==, "Accupost PP-10USB");
  g_assert_cmpint (pm_hid_scale_match (0x0922, 0x8003, keyboard_descriptor,
                                       sizeof keyboard_descriptor, NULL), ==,
                   PM_HID_SCALE_MATCH_UNSUPPORTED);
  /* A keyboard is no business of the scale driver. */
  g_assert_cmpint (pm_hid_scale_match (0x046d, 0xc31c, keyboard_descriptor,
                                       sizeof keyboard_descriptor, NULL), ==,
                   PM_HID_SCALE_MATCH_NONE);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/scale/hid/discovery-rules", test_discovery_rules);
  g_test_add_func ("/scale/hid/reference-vectors", test_reference_vectors);
  g_test_add_func ("/scale/hid/states", test_states);
  g_test_add_func ("/scale/hid/rezero-guard", test_rezero_guard);
  g_test_add_func ("/scale/hid/many-reconnects", test_many_reconnects);
  g_test_add_func ("/scale/hid/unsupported-device", test_unsupported_device);
  g_test_add_func ("/scale/hid/silent-device", test_silent_device);
  g_test_add_func ("/scale/hid/missing-device", test_missing_device);
  g_test_add_func ("/scale/hid/not-hidraw", test_not_hidraw);
  g_test_add_func ("/scale/hid/udev-scan", test_udev_scan);

  return g_test_run ();
}
