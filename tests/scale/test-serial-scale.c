/* test-serial-scale.c: the serial scale driver against a fake scale on a pseudo-terminal
 *
 * The fake scale runs on its own thread on the master side of a pseudo-terminal pair and
 * answers each command the way the protocol's scales do, with the replies the test sets:
 * whole, split into single bytes, after line noise, or not at all.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pm-serial-scale.h"
#include "pm-scale-factory.h"
#include "pm-hid-scale.h"
#include "pm-sim-scale.h"
#include "pm-scale-test-util.h"

#define WAIT_MS 10000

/* Fake scale */

typedef struct
{
  PmScaleProtocol  protocol;
  int              master;
  int              slave_keep;    /* held open so the master never sees a hang-up */
  char            *slave_path;
  int              wake[2];       /* a byte here stops the thread */
  GThread         *thread;

  GMutex           lock;          /* guards everything below */
  GBytes          *weigh_reply;
  GBytes          *zero_reply;
  gboolean         split;         /* one byte at a time */
  gboolean         noise;         /* line noise before each reply */
  gboolean         silent;
  GString         *received;      /* every byte the driver sent */
  guint            weigh_commands;
  guint            zero_commands;
} FakeScale;

static void
fake_write (FakeScale    *fake,
            const guint8 *data,
            gsize         len,
            gboolean      split)
{
  for (gsize i = 0; i < len;)
    {
      gsize chunk = split ? 1 : len - i;
      gssize n = write (fake->master, data + i, chunk);

      if (n < 0 && errno == EINTR)
        continue;
      g_assert_cmpint (n, >, 0);
      i += (gsize) n;
      if (split)
        g_usleep (1000);
    }
}

static void
fake_answer (FakeScale  *fake,
             const char *command)
{
  g_autoptr(GBytes) reply = NULL;
  gboolean split, noise;

  g_mutex_lock (&fake->lock);
  if (g_str_equal (command, "Z"))
    {
      fake->zero_commands++;
      reply = fake->zero_reply != NULL ? g_bytes_ref (fake->zero_reply) : NULL;
    }
  else if (g_str_equal (command, "W") || g_str_equal (command, "SI"))
    {
      fake->weigh_commands++;
      reply = fake->weigh_reply != NULL ? g_bytes_ref (fake->weigh_reply) : NULL;
    }
  else if (fake->protocol == PM_SCALE_PROTOCOL_NCI_SCP01)
    {
      reply = g_bytes_new_static ("\n?\r\x03", 4);
    }
  else if (fake->protocol == PM_SCALE_PROTOCOL_SICS)
    {
      reply = g_bytes_new_static ("ES\r\n", 4);
    }
  split = fake->split;
  noise = fake->noise;
  if (fake->silent)
    g_clear_pointer (&reply, g_bytes_unref);
  g_mutex_unlock (&fake->lock);

  if (reply == NULL)
    return;

  if (noise)
    {
      /* Bytes a real line picks up: none is the start of a frame in any protocol. */
      static const guint8 garbage[] = { 0x7F, 'x', 0x15, 0x00, '#', '\r', '\n' };

      fake_write (fake, garbage, sizeof garbage, FALSE);
    }
  fake_write (fake, g_bytes_get_data (reply, NULL), g_bytes_get_size (reply), split);
}

static gpointer
fake_thread (gpointer data)
{
  FakeScale *fake = data;
  g_autoptr(GString) pending = g_string_new (NULL);

  for (;;)
    {
      struct pollfd pfd[2] = {
        { .fd = fake->master, .events = POLLIN },
        { .fd = fake->wake[0], .events = POLLIN },
      };
      char buffer[64];
      gssize n;

      if (poll (pfd, 2, -1) < 0)
        continue;
      if (pfd[1].revents != 0)
        break;

      n = read (fake->master, buffer, sizeof buffer);
      if (n <= 0)
        continue;

      g_mutex_lock (&fake->lock);
      g_string_append_len (fake->received, buffer, n);
      g_mutex_unlock (&fake->lock);
      g_string_append_len (pending, buffer, n);

      /* Cut the commands out by the protocol's own terminator. */
      for (;;)
        {
          g_autofree char *command = NULL;
          const char *end;

          if (fake->protocol == PM_SCALE_PROTOCOL_METTLER_8217)
            {
              if (pending->len == 0)
                break;
              command = g_strndup (pending->str, 1);
              g_string_erase (pending, 0, 1);
            }
          else
            {
              const char *terminator = fake->protocol == PM_SCALE_PROTOCOL_SICS ? "\r\n"
                                                                                : "\r";

              end = strstr (pending->str, terminator);
              if (end == NULL)
                break;
              command = g_strndup (pending->str, end - pending->str);
              g_string_erase (pending, 0, end - pending->str + strlen (terminator));
            }
          fake_answer (fake, command);
        }
    }

  return NULL;
}

static FakeScale *
fake_new (PmScaleProtocol protocol)
{
  FakeScale *fake = g_new0 (FakeScale, 1);

  fake->protocol = protocol;
  fake->master = posix_openpt (O_RDWR | O_NOCTTY | O_CLOEXEC);
  g_assert_cmpint (fake->master, >=, 0);
  g_assert_cmpint (grantpt (fake->master), ==, 0);
  g_assert_cmpint (unlockpt (fake->master), ==, 0);
  fake->slave_path = g_strdup (ptsname (fake->master));
  fake->slave_keep = open (fake->slave_path, O_RDWR | O_NOCTTY | O_CLOEXEC);
  g_assert_cmpint (fake->slave_keep, >=, 0);
  g_assert_cmpint (pipe2 (fake->wake, O_CLOEXEC), ==, 0);
  g_mutex_init (&fake->lock);
  fake->received = g_string_new (NULL);
  fake->thread = g_thread_new ("fake-scale", fake_thread, fake);

  return fake;
}

static void
fake_stop (FakeScale *fake)
{
  if (fake->thread == NULL)
    return;
  g_assert_cmpint (write (fake->wake[1], "x", 1), ==, 1);
  g_clear_pointer (&fake->thread, g_thread_join);
}

static void
fake_free (FakeScale *fake)
{
  fake_stop (fake);
  close (fake->wake[0]);
  close (fake->wake[1]);
  if (fake->master >= 0)
    close (fake->master);
  close (fake->slave_keep);
  g_free (fake->slave_path);
  g_clear_pointer (&fake->weigh_reply, g_bytes_unref);
  g_clear_pointer (&fake->zero_reply, g_bytes_unref);
  g_string_free (fake->received, TRUE);
  g_mutex_clear (&fake->lock);
  g_free (fake);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FakeScale, fake_free)

static void
fake_set_reply (FakeScale  *fake,
                gboolean    zero,
                const char *reply,
                gsize       len)
{
  GBytes **slot = zero ? &fake->zero_reply : &fake->weigh_reply;

  g_mutex_lock (&fake->lock);
  g_clear_pointer (slot, g_bytes_unref);
  *slot = g_bytes_new (reply, len);
  g_mutex_unlock (&fake->lock);
}

#define SET_WEIGH(fake, literal) fake_set_reply (fake, FALSE, literal, sizeof literal - 1)
#define SET_ZERO(fake, literal) fake_set_reply (fake, TRUE, literal, sizeof literal - 1)

static void
fake_set_flags (FakeScale *fake,
                gboolean   split,
                gboolean   noise,
                gboolean   silent)
{
  g_mutex_lock (&fake->lock);
  fake->split = split;
  fake->noise = noise;
  fake->silent = silent;
  g_mutex_unlock (&fake->lock);
}

static char *
fake_dup_received (FakeScale *fake)
{
  char *copy;

  g_mutex_lock (&fake->lock);
  copy = g_strndup (fake->received->str, fake->received->len);
  g_mutex_unlock (&fake->lock);
  return copy;
}

/* Helpers */

static PmSerialScale *
start_scale (FakeScale         *fake,
             PmTestScaleWatch **out_watch)
{
  g_autoptr(GError) error = NULL;
  PmSerialSettings settings;
  PmSerialScale *scale;

  pm_serial_settings_init_for (&settings, fake->protocol);
  settings.poll_interval_ms = 20;
  settings.reply_timeout_ms = 300;
  scale = pm_serial_scale_new (fake->slave_path, fake->protocol, &settings, &error);
  g_assert_no_error (error);
  *out_watch = pm_test_scale_watch_new (PM_SCALE (scale));
  g_assert_true (pm_scale_start (PM_SCALE (scale), &error));
  g_assert_no_error (error);

  return scale;
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

/* Skips readings still arriving to the next other event. */
static PmTestScaleEvent *
next_non_reading (PmTestScaleWatch *watch)
{
  PmTestScaleEvent *event;

  do
    {
      event = pm_test_scale_next (watch, WAIT_MS);
      g_assert_nonnull (event);
    }
  while (event->kind == PM_TEST_SCALE_EVENT_READING);

  return event;
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

static gboolean
zero_done_cb (gpointer data)
{
  return G_SOURCE_REMOVE;
}

static void
store_result_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
  g_idle_add (zero_done_cb, NULL);
}

static gboolean
zero_scale (PmSerialScale  *scale,
            GError        **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  pm_scale_zero_async (PM_SCALE (scale), NULL, store_result_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  return pm_scale_zero_finish (PM_SCALE (scale), result, error);
}

/* NCI */

/* N1 of shared/reference/devices.md: stable 1.25 lb, SCP-01. */
#define NCI_N1      "\n0001.25LB\r\n00\r\x03"
#define NCI_EMPTY   "\n0000.00LB\r\n20\r\x03"   /* status byte 1: at zero */
#define NCI_MOTION  "\n10\r\x03"                  /* status only: in motion */
#define NCI_OVER    "\n02\r\x03"                  /* byte 2: over capacity */
#define NCI_UNDER   "\n01\r\x03"                  /* byte 2: under capacity */
#define NCI_ROM     "\n04\r\x03"                  /* byte 2: ROM error */
#define NCI_CALIB   "\n08\r\x03"                  /* byte 2: faulty calibration */
#define NCI_FILL    "\n^^^^^^^LB\r\n00\r\x03"     /* display-mirroring over capacity */

static void
test_nci_weighing (void)
{
  g_autoptr(FakeScale) fake = fake_new (PM_SCALE_PROTOCOL_NCI_SCP01);
  g_autoptr(PmTestScaleWatch) watch = NULL;
  g_autoptr(PmSerialScale) scale = NULL;
  g_autofree char *received = NULL;
  const PmScaleReading *reading;
  PmTestScaleEvent *event;

  SET_WEIGH (fake, NCI_EMPTY);
  scale = start_scale (fake, &watch);

  event = next_event (watch, PM_TEST_SCALE_EVENT_FOUND);
  g_assert_nonnull (strstr (event->description, "NCI / Weigh-Tronix (SCP-01)"));
  g_assert_nonnull (strstr (event->description, "9600 7E1"));
  reading = pm_test_scale_wait_state (watch, PM_SCALE_STATE_ZERO, WAIT_MS);
  assert_weight (reading, 0, -2, PM_WEIGHT_UNIT_POUND);

  SET_WEIGH (fake, NCI_N1);
  reading = pm_test_scale_wait_state (watch, PM_SCALE_STATE_STABLE, WAIT_MS);
  assert_weight (reading, 125, -2, PM_WEIGHT_UNIT_POUND);
  g_assert_true (reading->postable);

  /* Every command was the weight command, whole. */
  received = fake_dup_received (fake);
  g_assert_true (g_str_has_prefix (received, "W\rW\r"));
  for (const char *p = received; *p != '\0'; p += 2)
    g_assert_true (g_str_has_prefix (p, "W\r"));

  /* Stopped and started again on the same port: found again, and the platform must be
   * seen empty again before a weight counts. */
  pm_scale_stop (PM_SCALE (scale));
  g_assert_true (pm_scale_start (PM_SCALE (scale), NULL));
  next_non_reading (watch);
  event = next_event (watch, PM_TEST_SCALE_EVENT_READING);
  assert_weight (event->reading, 125, -2, PM_WEIGHT_UNIT_POUND);
  g_assert_false (event->reading->postable);

  pm_scale_stop (PM_SCALE (scale));
}

static void
test_nci_split_and_noise (void)
{
  g_autoptr(FakeScale) fake = fake_new (PM_SCALE_PROTOCOL_NCI_SCP01);
  g_autoptr(PmTestScaleWatch) watch = NULL;
  g_autoptr(PmSerialScale) scale = NULL;
  const PmScaleReading *reading;

  /* Byte by byte, after line noise: the same readings, and never a wrong weight. */
  fake_set_flags (fake, TRUE, TRUE, FALSE);
  SET_WEIGH (fake, NCI_EMPTY);
  scale = start_scale (fake, &watch);
  pm_test_scale_wait_state (watch, PM_SCALE_STATE_ZERO, WAIT_MS);
  SET_WEIGH (fake, NCI_N1);
  reading = pm_test_scale_wait_state (watch, PM_SCALE_STATE_STABLE, WAIT_MS);
  assert_weight (reading, 125, -2, PM_WEIGHT_UNIT_POUND);
  g_assert_true (reading->postable);

  for (guint i = 0; i < 3; i++)
    {
      PmTestScaleEvent *event = next_event (watch, PM_TEST_SCALE_EVENT_READING);

      g_assert_cmpint (event->reading->state, ==, PM_SCALE_STATE_STABLE);
      assert_weight (event->reading, 125, -2, PM_WEIGHT_UNIT_POUND);
    }

  pm_scale_stop (PM_SCALE (scale));
}

static void
test_nci_statuses (void)
{
  g_autoptr(FakeScale) fake = fake_new (PM_SCALE_PROTOCOL_NCI_SCP01);
  g_autoptr(PmTestScaleWatch) watch = NULL;
  g_autoptr(PmSerialScale) scale = NULL;
  static const struct
  {
    const char   *reply;
    PmScaleState  state;
  } replies[] = {
    { NCI_MOTION, PM_SCALE_STATE_MOTION },
    { NCI_OVER, PM_SCALE_STATE_OVER_CAPACITY },
    { NCI_UNDER, PM_SCALE_STATE_UNDER_ZERO },
    { NCI_ROM, PM_SCALE_STATE_FAULT },
    { NCI_CALIB, PM_SCALE_STATE_NEEDS_CALIBRATION },
    { NCI_FILL, PM_SCALE_STATE_OVER_CAPACITY },
    { "\n?\r\x03", PM_SCALE_STATE_UNREADABLE },
  };

  SET_WEIGH (fake, NCI_EMPTY);
  scale = start_scale (fake, &watch);
  pm_test_scale_wait_state (watch, PM_SCALE_STATE_ZERO, WAIT_MS);

  for (gsize i = 0; i < G_N_ELEMENTS (replies); i++)
    {
      const PmScaleReading *reading;

      fake_set_reply (fake, FALSE, replies[i].reply, strlen (replies[i].reply));
      reading = pm_test_scale_wait_state (watch, replies[i].state, WAIT_MS);
      g_assert_false (reading->postable);
      g_assert_false (reading->has_weight);
    }

  pm_scale_stop (PM_SCALE (scale));
}

static void
test_nci_silence (void)
{
  g_autoptr(FakeScale) fake = fake_new (PM_SCALE_PROTOCOL_NCI_SCP01);
  g_autoptr(PmTestScaleWatch) watch = NULL;
  g_autoptr(PmSerialScale) scale = NULL;
  const PmScaleReading *reading;
  PmTestScaleEvent *event;

  SET_WEIGH (fake, NCI_EMPTY);
  scale = start_scale (fake, &watch);
  pm_test_scale_wait_state (watch, PM_SCALE_STATE_ZERO, WAIT_MS);
  SET_WEIGH (fake, NCI_N1);
  g_assert_true (pm_test_scale_wait_state (watch, PM_SCALE_STATE_STABLE, WAIT_MS)->postable);

  /* The scale goes quiet: one clean "lost", however long the silence lasts. */
  fake_set_flags (fake, FALSE, FALSE, TRUE);
  event = next_non_reading (watch);
  g_assert_cmpint (event->kind, ==, PM_TEST_SCALE_EVENT_LOST);
  g_assert_error (event->error, PM_SCALE_ERROR, PM_SCALE_ERROR_TIMEOUT);
  g_assert_false (pm_scale_get_connected (PM_SCALE (scale)));
  pm_test_scale_run_for (1500);
  g_assert_null (pm_test_scale_next (watch, 0));

  /* Back, with the parcel it re-zeroed on: its weight is shown but not usable until the
   * platform has been seen empty. */
  fake_set_flags (fake, FALSE, FALSE, FALSE);
  event = next_event (watch, PM_TEST_SCALE_EVENT_FOUND);
  event = next_event (watch, PM_TEST_SCALE_EVENT_READING);
  assert_weight (event->reading, 125, -2, PM_WEIGHT_UNIT_POUND);
  g_assert_false (event->reading->postable);
  SET_WEIGH (fake, NCI_EMPTY);
  pm_test_scale_wait_state (watch, PM_SCALE_STATE_ZERO, WAIT_MS);
  SET_WEIGH (fake, NCI_N1);
  reading = pm_test_scale_wait_state (watch, PM_SCALE_STATE_STABLE, WAIT_MS);
  g_assert_true (reading->postable);

  pm_scale_stop (PM_SCALE (scale));
}

static void
test_nci_zero (void)
{
  g_autoptr(FakeScale) fake = fake_new (PM_SCALE_PROTOCOL_NCI_SCP01);
  g_autoptr(PmTestScaleWatch) watch = NULL;
  g_autoptr(PmSerialScale) scale = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *received = NULL;

  SET_WEIGH (fake, NCI_MOTION);
  SET_ZERO (fake, "\n20\r\x03");
  scale = start_scale (fake, &watch);
  pm_test_scale_wait_state (watch, PM_SCALE_STATE_MOTION, WAIT_MS);

  g_assert_true (zero_scale (scale, &error));
  g_assert_no_error (error);
  received = fake_dup_received (fake);
  g_assert_nonnull (strstr (received, "Z\r"));

  /* Still moving: the status says it did not zero. */
  SET_ZERO (fake, "\n10\r\x03");
  g_assert_false (zero_scale (scale, &error));
  g_assert_error (error, PM_SCALE_ERROR, PM_SCALE_ERROR_REFUSED);
  g_clear_error (&error);

  /* No answer at all. */
  fake_set_flags (fake, FALSE, FALSE, TRUE);
  g_assert_false (zero_scale (scale, &error));
  g_assert_true (g_error_matches (error, PM_SCALE_ERROR, PM_SCALE_ERROR_TIMEOUT)
                 || g_error_matches (error, PM_SCALE_ERROR, PM_SCALE_ERROR_NOT_FOUND));

  pm_scale_stop (PM_SCALE (scale));
}

static void
test_port_vanishes (void)
{
  g_autoptr(FakeScale) fake = fake_new (PM_SCALE_PROTOCOL_NCI_SCP01);
  g_autoptr(PmTestScaleWatch) watch = NULL;
  g_autoptr(PmSerialScale) scale = NULL;
  PmTestScaleEvent *event;

  SET_WEIGH (fake, NCI_EMPTY);
  scale = start_scale (fake, &watch);
  pm_test_scale_wait_state (watch, PM_SCALE_STATE_ZERO, WAIT_MS);

  /* The adapter is pulled: the port reads end at once, no timeout needed. */
  fake_stop (fake);
  close (fake->master);
  fake->master = -1;
  event = next_non_reading (watch);
  g_assert_cmpint (event->kind, ==, PM_TEST_SCALE_EVENT_LOST);
  g_assert_true (g_error_matches (event->error, PM_SCALE_ERROR, PM_SCALE_ERROR_IO)
                 || g_error_matches (event->error, PM_SCALE_ERROR, PM_SCALE_ERROR_TIMEOUT));
  g_assert_false (pm_scale_get_connected (PM_SCALE (scale)));

  pm_scale_stop (PM_SCALE (scale));
}

/* Mettler-Toledo 8217 */

static void
test_mettler_8217 (void)
{
  g_autoptr(FakeScale) fake = fake_new (PM_SCALE_PROTOCOL_METTLER_8217);
  g_autoptr(PmTestScaleWatch) watch = NULL;
  g_autoptr(PmSerialScale) scale = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *received = NULL;
  const PmScaleReading *reading;

  /* Byte by byte, as the reference's fixture asks. Status 'P': centre of zero. */
  fake_set_flags (fake, TRUE, FALSE, FALSE);
  SET_WEIGH (fake, "\x02?P\r");
  scale = start_scale (fake, &watch);
  pm_test_scale_wait_state (watch, PM_SCALE_STATE_ZERO, WAIT_MS);

  SET_WEIGH (fake, "\x02?A\r");    /* motion */
  pm_test_scale_wait_state (watch, PM_SCALE_STATE_MOTION, WAIT_MS);
  SET_WEIGH (fake, "\x02?B\r");    /* over capacity */
  pm_test_scale_wait_state (watch, PM_SCALE_STATE_OVER_CAPACITY, WAIT_MS);
  SET_WEIGH (fake, "\x02?D\r");    /* under zero */
  pm_test_scale_wait_state (watch, PM_SCALE_STATE_UNDER_ZERO, WAIT_MS);
  SET_WEIGH (fake, "\x02?H\r");    /* outside the zero-capture range */
  pm_test_scale_wait_state (watch, PM_SCALE_STATE_NEEDS_REZERO, WAIT_MS);

  /* Two decimals: pounds. */
  SET_WEIGH (fake, "\x02" "01.25\r");
  reading = pm_test_scale_wait_state (watch, PM_SCALE_STATE_STABLE, WAIT_MS);
  assert_weight (reading, 125, -2, PM_WEIGHT_UNIT_POUND);
  g_assert_true (reading->postable);

  /* Single letters with no terminator. */
  received = fake_dup_received (fake);
  for (const char *p = received; *p != '\0'; p++)
    g_assert_cmpint (*p, ==, 'W');

  SET_ZERO (fake, "\x02?P\r");
  g_assert_true (zero_scale (scale, &error));
  g_assert_no_error (error);
  SET_ZERO (fake, "\x02?A\r");
  g_assert_false (zero_scale (scale, &error));
  g_assert_error (error, PM_SCALE_ERROR, PM_SCALE_ERROR_REFUSED);

  pm_scale_stop (PM_SCALE (scale));
}

/* MT-SICS */

static void
test_sics (void)
{
  g_autoptr(FakeScale) fake = fake_new (PM_SCALE_PROTOCOL_SICS);
  g_autoptr(PmTestScaleWatch) watch = NULL;
  g_autoptr(PmSerialScale) scale = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *received = NULL;
  const PmScaleReading *reading;
  PmTestScaleEvent *event;

  fake_set_flags (fake, FALSE, TRUE, FALSE);
  SET_WEIGH (fake, "S S      0.00 g\r\n");
  scale = start_scale (fake, &watch);
  event = next_event (watch, PM_TEST_SCALE_EVENT_FOUND);
  g_assert_nonnull (strstr (event->description, "9600 8N1"));
  pm_test_scale_wait_state (watch, PM_SCALE_STATE_ZERO, WAIT_MS);

  /* Dynamic is never postable; right-aligned numbers are read by token. */
  SET_WEIGH (fake, "S D    101.37 g\r\n");
  reading = pm_test_scale_wait_state (watch, PM_SCALE_STATE_MOTION, WAIT_MS);
  g_assert_false (reading->postable);
  SET_WEIGH (fake, "S S    101.40 g\r\n");
  reading = pm_test_scale_wait_state (watch, PM_SCALE_STATE_STABLE, WAIT_MS);
  assert_weight (reading, 10140, -2, PM_WEIGHT_UNIT_GRAM);
  g_assert_true (reading->postable);
  SET_WEIGH (fake, "S +\r\n");
  pm_test_scale_wait_state (watch, PM_SCALE_STATE_OVER_CAPACITY, WAIT_MS);
  SET_WEIGH (fake, "S -\r\n");
  pm_test_scale_wait_state (watch, PM_SCALE_STATE_UNDER_ZERO, WAIT_MS);
  SET_WEIGH (fake, "ES\r\n");
  reading = pm_test_scale_wait_state (watch, PM_SCALE_STATE_UNREADABLE, WAIT_MS);
  g_assert_nonnull (reading->detail);

  received = fake_dup_received (fake);
  g_assert_true (g_str_has_prefix (received, "SI\r\nSI\r\n"));

  SET_ZERO (fake, "Z A\r\n");
  g_assert_true (zero_scale (scale, &error));
  g_assert_no_error (error);
  SET_ZERO (fake, "Z I\r\n");
  g_assert_false (zero_scale (scale, &error));
  g_assert_error (error, PM_SCALE_ERROR, PM_SCALE_ERROR_REFUSED);

  pm_scale_stop (PM_SCALE (scale));
}

/* Settings */

static void
test_settings (void)
{
  PmSerialSettings settings;
  g_autoptr(GError) error = NULL;
  g_autoptr(PmSerialScale) scale = NULL;
  g_autofree char *line = NULL;
  static const char *bad[] = {
    "", "9600", "9600 7E", "9600 9N1", "9600 8X1", "9600 8N3", "12345 8N1", "fast 8N1",
    "9600 8N1 extra", "-9600 8N1",
  };

  pm_serial_settings_init_for (&settings, PM_SCALE_PROTOCOL_NCI_SCP01);
  line = pm_serial_settings_to_line (&settings);
  g_assert_cmpstr (line, ==, "9600 7E1");
  g_clear_pointer (&line, g_free);
  pm_serial_settings_init_for (&settings, PM_SCALE_PROTOCOL_SICS);
  line = pm_serial_settings_to_line (&settings);
  g_assert_cmpstr (line, ==, "9600 8N1");
  g_clear_pointer (&line, g_free);

  g_assert_true (pm_serial_settings_parse_line (&settings, " 2400, 7o2 ", &error));
  g_assert_no_error (error);
  g_assert_cmpuint (settings.baud, ==, 2400);
  g_assert_cmpuint (settings.data_bits, ==, 7);
  g_assert_cmpint (settings.parity, ==, PM_SERIAL_PARITY_ODD);
  g_assert_cmpuint (settings.stop_bits, ==, 2);

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_assert_false (pm_serial_settings_parse_line (&settings, bad[i], &error));
      g_assert_error (error, PM_SCALE_ERROR, PM_SCALE_ERROR_INVALID_SETTINGS);
      g_clear_error (&error);
      /* Unchanged by a bad line. */
      g_assert_cmpuint (settings.baud, ==, 2400);
    }

  scale = pm_serial_scale_new ("/dev/ttyS0", PM_SCALE_PROTOCOL_HID, NULL, &error);
  g_assert_null (scale);
  g_assert_error (error, PM_SCALE_ERROR, PM_SCALE_ERROR_INVALID_SETTINGS);
  g_clear_error (&error);

  settings.reply_timeout_ms = 0;
  scale = pm_serial_scale_new ("/dev/ttyS0", PM_SCALE_PROTOCOL_SICS, &settings, &error);
  g_assert_null (scale);
  g_assert_error (error, PM_SCALE_ERROR, PM_SCALE_ERROR_INVALID_SETTINGS);
}

static void
test_factory (void)
{
  g_autoptr(FakeScale) fake = fake_new (PM_SCALE_PROTOCOL_METTLER_8217);
  g_autoptr(GError) error = NULL;
  g_autoptr(PmScale) scale = NULL;
  g_autoptr(PmTestScaleWatch) watch = NULL;
  const PmScaleReading *reading;
  static const struct
  {
    const char *driver, *device, *protocol, *line, *unit;
  } bad[] = {
    { "usb", NULL, NULL, NULL, NULL },
    { NULL, NULL, NULL, NULL, NULL },
    { "serial", NULL, "nci", NULL, NULL },
    { "serial", "/dev/ttyS0", "hid", NULL, NULL },
    { "serial", "/dev/ttyS0", "weightronix", NULL, NULL },
    { "serial", "/dev/ttyS0", "nci", "9600 9N1", NULL },
    { "serial", "/dev/ttyS0", "nci", NULL, "lb" },
    { "serial", "/dev/ttyS0", "mettler-8217", NULL, "stone" },
    { "hid", NULL, "sics", NULL, NULL },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_assert_null (pm_scale_new_by_name (bad[i].driver, bad[i].device, bad[i].protocol,
                                           bad[i].line, bad[i].unit, &error));
      g_assert_error (error, PM_SCALE_ERROR, PM_SCALE_ERROR_INVALID_SETTINGS);
      g_clear_error (&error);
    }

  scale = pm_scale_new_by_name ("hid", NULL, NULL, NULL, NULL, &error);
  g_assert_true (PM_IS_HID_SCALE (scale));
  g_clear_object (&scale);
  scale = pm_scale_new_by_name ("hid", "/dev/hidraw3", "hid", NULL, NULL, &error);
  g_assert_true (PM_IS_HID_SCALE (scale));
  g_clear_object (&scale);
  scale = pm_scale_new_by_name ("simulated", "", NULL, NULL, NULL, &error);
  g_assert_true (PM_IS_SIM_SCALE (scale));
  g_clear_object (&scale);
  g_assert_no_error (error);

  /* An 8217 set to kilograms: two decimals are then kilograms, not pounds. */
  scale = pm_scale_new_by_name ("serial", fake->slave_path, "8217", "9600 7E1", "kg",
                                &error);
  g_assert_no_error (error);
  g_assert_true (PM_IS_SERIAL_SCALE (scale));
  SET_WEIGH (fake, "\x02" "01.25\r");
  watch = pm_test_scale_watch_new (scale);
  g_assert_true (pm_scale_start (scale, &error));
  reading = pm_test_scale_wait_state (watch, PM_SCALE_STATE_STABLE, WAIT_MS);
  assert_weight (reading, 125, -2, PM_WEIGHT_UNIT_KILOGRAM);
  pm_scale_stop (scale);
}

static void
test_missing_port (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PmSerialScale) scale = pm_serial_scale_new ("/dev/postmeter-no-such-port",
                                                        PM_SCALE_PROTOCOL_NCI_SCP01, NULL,
                                                        &error);
  g_autoptr(PmTestScaleWatch) watch = pm_test_scale_watch_new (PM_SCALE (scale));
  g_autofree char *not_a_tty = g_build_filename (g_get_user_data_dir (), "plain", NULL);
  g_autoptr(PmSerialScale) file_scale = NULL;
  g_autoptr(PmTestScaleWatch) file_watch = NULL;
  PmTestScaleEvent *event;

  g_assert_no_error (error);
  g_assert_true (pm_scale_start (PM_SCALE (scale), &error));
  event = next_event (watch, PM_TEST_SCALE_EVENT_LOST);
  g_assert_error (event->error, PM_SCALE_ERROR, PM_SCALE_ERROR_NOT_FOUND);
  /* Said once, not at every retry. */
  g_assert_null (pm_test_scale_next (watch, 2500));
  pm_scale_stop (PM_SCALE (scale));

  /* A plain file is no serial port. */
  g_assert_cmpint (g_mkdir_with_parents (g_get_user_data_dir (), 0700), ==, 0);
  g_assert_true (g_file_set_contents (not_a_tty, "W\r", -1, NULL));
  file_scale = pm_serial_scale_new (not_a_tty, PM_SCALE_PROTOCOL_NCI_SCP01, NULL, &error);
  file_watch = pm_test_scale_watch_new (PM_SCALE (file_scale));
  g_assert_true (pm_scale_start (PM_SCALE (file_scale), &error));
  event = next_event (file_watch, PM_TEST_SCALE_EVENT_LOST);
  g_assert_error (event->error, PM_SCALE_ERROR, PM_SCALE_ERROR_INVALID_SETTINGS);
  pm_scale_stop (PM_SCALE (file_scale));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/scale/serial/settings", test_settings);
  g_test_add_func ("/scale/serial/missing-port", test_missing_port);
  g_test_add_func ("/scale/serial/factory", test_factory);
  g_test_add_func ("/scale/serial/nci/weighing", test_nci_weighing);
  g_test_add_func ("/scale/serial/nci/split-and-noise", test_nci_split_and_noise);
  g_test_add_func ("/scale/serial/nci/statuses", test_nci_statuses);
  g_test_add_func ("/scale/serial/nci/silence", test_nci_silence);
  g_test_add_func ("/scale/serial/nci/zero", test_nci_zero);
  g_test_add_func ("/scale/serial/nci/port-vanishes", test_port_vanishes);
  g_test_add_func ("/scale/serial/mettler-8217", test_mettler_8217);
  g_test_add_func ("/scale/serial/sics", test_sics);

  return g_test_run ();
}
