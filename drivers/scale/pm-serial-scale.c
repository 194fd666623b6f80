/* pm-serial-scale.c: serial scales through termios
 *
 * Everything below "Worker" runs on the scale's worker thread, which owns the port: one
 * command is outstanding at a time, the reply is read as it arrives (GUnixFDSource), and
 * one timer at a time says what happens next (ask again, give up on a reply, reopen).
 */
/* O_CLOEXEC, cfmakeraw and friends under -std=c17 */
#define _GNU_SOURCE

#include "pm-serial-scale.h"

#include "pm-scale-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

/* A zero may wait for the platform to settle first (MT-SICS "Z" does). */
#define ZERO_TIMEOUT_FACTOR 5

/* How often a scale that has gone silent is asked again. */
#define SILENT_INTERVAL_MS 1000

static const struct
{
  guint   baud;
  speed_t speed;
} speeds[] = {
  { 1200, B1200 }, { 2400, B2400 }, { 4800, B4800 }, { 9600, B9600 },
  { 19200, B19200 }, { 38400, B38400 }, { 57600, B57600 }, { 115200, B115200 },
};

void
pm_serial_settings_init_for (PmSerialSettings *settings,
                             PmScaleProtocol   protocol)
{
  g_return_if_fail (settings != NULL);

  memset (settings, 0, sizeof *settings);
  settings->baud = 9600;
  settings->stop_bits = 1;
  settings->poll_interval_ms = PM_SERIAL_DEFAULT_POLL_INTERVAL_MS;
  settings->reply_timeout_ms = PM_SERIAL_DEFAULT_REPLY_TIMEOUT_MS;

  if (protocol == PM_SCALE_PROTOCOL_SICS)
    {
      settings->data_bits = 8;
      settings->parity = PM_SERIAL_PARITY_NONE;
    }
  else
    {
      settings->data_bits = 7;
      settings->parity = PM_SERIAL_PARITY_EVEN;
    }
}

static gboolean
speed_for_baud (guint    baud,
                speed_t *out_speed)
{
  for (gsize i = 0; i < G_N_ELEMENTS (speeds); i++)
    {
      if (speeds[i].baud == baud)
        {
          *out_speed = speeds[i].speed;
          return TRUE;
        }
    }

  return FALSE;
}

static gboolean
settings_check (const PmSerialSettings  *settings,
                GError                 **error)
{
  speed_t speed;

  if (!speed_for_baud (settings->baud, &speed))
    {
      g_set_error (error, PM_SCALE_ERROR, PM_SCALE_ERROR_INVALID_SETTINGS,
                   "%u baud is not a speed a scale port runs at. Use 1200, 2400, 4800, "
                   "9600, 19200, 38400, 57600 or 115200", settings->baud);
      return FALSE;
    }
  if (settings->data_bits != 7 && settings->data_bits != 8)
    {
      g_set_error (error, PM_SCALE_ERROR, PM_SCALE_ERROR_INVALID_SETTINGS,
                   "A scale port has 7 or 8 data bits, not %u", settings->data_bits);
      return FALSE;
    }
  if (settings->stop_bits != 1 && settings->stop_bits != 2)
    {
      g_set_error (error, PM_SCALE_ERROR, PM_SCALE_ERROR_INVALID_SETTINGS,
                   "A scale port has 1 or 2 stop bits, not %u", settings->stop_bits);
      return FALSE;
    }
  if (settings->parity > PM_SERIAL_PARITY_ODD)
    {
      g_set_error_literal (error, PM_SCALE_ERROR, PM_SCALE_ERROR_INVALID_SETTINGS,
                           "The port's parity must be none, even or odd");
      return FALSE;
    }
  if (settings->reply_timeout_ms == 0 || settings->reply_timeout_ms > 60000)
    {
      g_set_error (error, PM_SCALE_ERROR, PM_SCALE_ERROR_INVALID_SETTINGS,
                   "A reply timeout of %u ms cannot be used; give 1 to 60000 ms",
                   settings->reply_timeout_ms);
      return FALSE;
    }
  if (settings->poll_interval_ms > 60000)
    {
      g_set_error (error, PM_SCALE_ERROR, PM_SCALE_ERROR_INVALID_SETTINGS,
                   "A pause of %u ms between weighings is too long; give at most 60000 ms",
                   settings->poll_interval_ms);
      return FALSE;
    }

  return TRUE;
}

gboolean
pm_serial_settings_parse_line (PmSerialSettings  *settings,
                               const char        *text,
                               GError           **error)
{
  g_auto(GStrv) parts = NULL;
  PmSerialSettings parsed;
  guint64 baud;
  const char *frame;

  g_return_val_if_fail (settings != NULL, FALSE);
  g_return_val_if_fail (text != NULL, FALSE);

  parsed = *settings;

  /* Blank fields from repeated or surrounding separators do not count. */
  {
    g_auto(GStrv) fields = g_strsplit_set (text, " ,\t", -1);
    g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

    for (guint i = 0; fields[i] != NULL; i++)
      if (fields[i][0] != '\0')
        g_strv_builder_add (builder, fields[i]);
    parts = g_strv_builder_end (builder);
  }

  if (g_strv_length (parts) != 2
      || !g_ascii_string_to_unsigned (parts[0], 10, 1, G_MAXUINT, &baud, NULL)
      || strlen (parts[1]) != 3)
    goto bad;

  frame = parts[1];
  if (frame[0] != '7' && frame[0] != '8')
    goto bad;
  parsed.baud = (guint) baud;
  parsed.data_bits = (guint) (frame[0] - '0');
  switch (g_ascii_toupper (frame[1]))
    {
    case 'N': parsed.parity = PM_SERIAL_PARITY_NONE; break;
    case 'E': parsed.parity = PM_SERIAL_PARITY_EVEN; break;
    case 'O': parsed.parity = PM_SERIAL_PARITY_ODD; break;
    default: goto bad;
    }
  if (frame[2] != '1' && frame[2] != '2')
    goto bad;
  parsed.stop_bits = (guint) (frame[2] - '0');

  if (!settings_check (&parsed, error))
    return FALSE;

  *settings = parsed;
  return TRUE;

bad:
  g_set_error (error, PM_SCALE_ERROR, PM_SCALE_ERROR_INVALID_SETTINGS,
               "“%s” is not a port setting. Give the speed and the frame, "
               "e.g. “9600 7E1” or “9600 8N1”", text);
  return FALSE;
}

char *
pm_serial_settings_to_line (const PmSerialSettings *settings)
{
  static const char parity[] = { 'N', 'E', 'O' };

  g_return_val_if_fail (settings != NULL, NULL);

  return g_strdup_printf ("%u %u%c%u", settings->baud, settings->data_bits,
                          parity[MIN (settings->parity, PM_SERIAL_PARITY_ODD)],
                          settings->stop_bits);
}

/* Object */

typedef enum
{
  COMMAND_NONE,
  COMMAND_WEIGH,
  COMMAND_ZERO,
} Command;

/* Worker thread only, while started. */
typedef struct
{
  GMainContext   *context;          /* owned; the worker's */
  PmScaleDecoder *decoder;          /* owned */
  int             fd;               /* the open port, or -1 */
  GSource        *fd_source;        /* owned, or NULL */
  GSource        *timer;            /* owned, or NULL: next command, reply timeout, reopen */
  Command         outstanding;      /* the command whose reply we wait for */
  gboolean        answering;        /* the scale has answered since it was last lost */
  gboolean        reported_absent;  /* "device-lost" said for the port or the silence */
  GQueue          zero_tasks;       /* GTask, owned: zero requests not yet sent */
  GTask          *zero_task;        /* owned: the zero request in flight */
} Port;

struct _PmSerialScale
{
  GObject parent_instance;

  /* Set at construction, read-only afterwards. */
  char             *port_path;
  PmScaleProtocol   protocol;
  PmSerialSettings  settings;

  PmScaleFeed      *feed;        /* borrowed from the object's qdata */
  PmScaleWorker    *worker;      /* owned; owner thread only */
  Port              port;        /* worker thread while started */
};

static void pm_serial_scale_iface_init (PmScaleInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (PmSerialScale, pm_serial_scale, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (PM_TYPE_SCALE,
                                                      pm_serial_scale_iface_init))

static void
pm_serial_scale_finalize (GObject *object)
{
  PmSerialScale *self = PM_SERIAL_SCALE (object);

  g_assert (self->worker == NULL);
  g_free (self->port_path);

  G_OBJECT_CLASS (pm_serial_scale_parent_class)->finalize (object);
}

static void
pm_serial_scale_dispose (GObject *object)
{
  PmSerialScale *self = PM_SERIAL_SCALE (object);

  if (self->worker != NULL)
    pm_scale_stop (PM_SCALE (self));

  G_OBJECT_CLASS (pm_serial_scale_parent_class)->dispose (object);
}

static void
pm_serial_scale_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  if (!pm_scale_get_property_common (PM_SCALE (object), prop_id, value))
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static void
pm_serial_scale_class_init (PmSerialScaleClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = pm_serial_scale_dispose;
  object_class->finalize = pm_serial_scale_finalize;
  object_class->get_property = pm_serial_scale_get_property;
  pm_scale_class_override_properties (object_class);
}

static void
pm_serial_scale_init (PmSerialScale *self)
{
  pm_scale_feed_install (PM_SCALE (self));
  self->feed = pm_scale_get_feed (PM_SCALE (self));
  self->port.fd = -1;
  g_queue_init (&self->port.zero_tasks);
}

PmSerialScale *
pm_serial_scale_new (const char              *port,
                     PmScaleProtocol          protocol,
                     const PmSerialSettings  *settings,
                     GError                 **error)
{
  PmSerialScale *self;
  PmSerialSettings chosen;

  g_return_val_if_fail (port != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!pm_scale_protocol_is_serial (protocol))
    {
      g_set_error (error, PM_SCALE_ERROR, PM_SCALE_ERROR_INVALID_SETTINGS,
                   "%s is not a serial protocol", pm_scale_protocol_describe (protocol));
      return NULL;
    }

  if (settings != NULL)
    chosen = *settings;
  else
    pm_serial_settings_init_for (&chosen, protocol);
  if (!settings_check (&chosen, error))
    return NULL;

  self = g_object_new (PM_TYPE_SERIAL_SCALE, NULL);
  self->port_path = g_strdup (port);
  self->protocol = protocol;
  self->settings = chosen;
  return self;
}

/* Worker */

static void port_schedule (PmSerialScale *self,
                           guint          delay_ms,
                           GSourceFunc    func);
static gboolean send_next_cb (gpointer data);
static gboolean reopen_cb (gpointer data);

static void
assert_on_worker (PmSerialScale *self)
{
  g_assert (g_main_context_get_thread_default () == self->port.context);
}

static void
port_cancel_timer (PmSerialScale *self)
{
  Port *port = &self->port;

  if (port->timer != NULL)
    {
      g_source_destroy (port->timer);
      g_clear_pointer (&port->timer, g_source_unref);
    }
}

static void
port_schedule (PmSerialScale *self,
               guint          delay_ms,
               GSourceFunc    func)
{
  Port *port = &self->port;

  port_cancel_timer (self);
  port->timer = g_timeout_source_new (delay_ms);
  g_source_set_callback (port->timer, func, self, NULL);
  g_source_set_static_name (port->timer, "[postmeter] serial scale timer");
  g_source_attach (port->timer, port->context);
}

static void
zero_task_fail (GTask      *task,
                int         code,
                const char *message)
{
  g_task_return_new_error (task, PM_SCALE_ERROR, code, "%s", message);
  g_object_unref (task);
}

static void
port_close (PmSerialScale *self)
{
  Port *port = &self->port;

  if (port->fd_source != NULL)
    {
      g_source_destroy (port->fd_source);
      g_clear_pointer (&port->fd_source, g_source_unref);
    }
  if (port->fd >= 0)
    {
      close (port->fd);
      port->fd = -1;
    }
  port->outstanding = COMMAND_NONE;
  if (port->zero_task != NULL)
    zero_task_fail (g_steal_pointer (&port->zero_task), PM_SCALE_ERROR_IO,
                    "The scale's port closed before the scale answered.");
}

/* The port broke (adapter unplugged, cable pulled on a pseudo-terminal): reopen later. */
static void
port_failed (PmSerialScale *self,
             int            code,
             const char    *message)
{
  Port *port = &self->port;

  port_close (self);
  port_cancel_timer (self);
  if (port->answering || !port->reported_absent)
    pm_scale_feed_lost (self->feed, g_error_new_literal (PM_SCALE_ERROR, code, message));
  port->answering = FALSE;
  port->reported_absent = TRUE;
  port_schedule (self, PM_SERIAL_RETRY_INTERVAL_MS, reopen_cb);
}

static void
finish_zero (PmSerialScale   *self,
             PmScaleReplyKind kind,
             PmScaleReading  *reading)
{
  Port *port = &self->port;
  g_autoptr(GTask) task = g_steal_pointer (&port->zero_task);
  gboolean zeroed;

  switch (self->protocol)
    {
    case PM_SCALE_PROTOCOL_NCI_SCP01:
    case PM_SCALE_PROTOCOL_NCI_SCP02:
      /* Always a status reply: it says whether the scale now stands at zero. */
      zeroed = kind == PM_SCALE_REPLY_READING && reading->state == PM_SCALE_STATE_ZERO;
      break;
    case PM_SCALE_PROTOCOL_METTLER_8217:
      /* The status reply acknowledges; the scale zeroes on its next stable reading. */
      zeroed = kind == PM_SCALE_REPLY_READING && reading->state != PM_SCALE_STATE_UNREADABLE
               && reading->state != PM_SCALE_STATE_MOTION
               && reading->state != PM_SCALE_STATE_OVER_CAPACITY
               && reading->state != PM_SCALE_STATE_NEEDS_REZERO;
      break;
    case PM_SCALE_PROTOCOL_SICS:
    default:
      zeroed = kind == PM_SCALE_REPLY_ACK;
      break;
    }

  if (zeroed)
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_new_error (task, PM_SCALE_ERROR, PM_SCALE_ERROR_REFUSED,
                             "The scale did not zero. Take everything off the platform, "
                             "wait until it is still and try again, or press the scale's "
                             "own zero button.");
}

static void
decoded_cb (PmScaleReplyKind  kind,
            PmScaleReading   *reading,
            gpointer          user_data)
{
  PmSerialScale *self = user_data;
  Port *port = &self->port;
  Command answered = port->outstanding;

  assert_on_worker (self);

  if (!port->answering)
    {
      g_autofree char *line = pm_serial_settings_to_line (&self->settings);
      g_autofree char *description = g_strdup_printf ("%s on %s (%s)",
                                                      pm_scale_protocol_describe
                                                        (self->protocol),
                                                      self->port_path, line);

      port->answering = TRUE;
      port->reported_absent = FALSE;
      g_message ("The scale answers: %s", description);
      pm_scale_feed_found (self->feed, description);
    }

  port->outstanding = COMMAND_NONE;

  if (answered == COMMAND_ZERO && port->zero_task != NULL)
    finish_zero (self, kind, reading);

  if (kind == PM_SCALE_REPLY_REFUSED && answered == COMMAND_WEIGH)
    {
      /* The scale did not understand the weight command: the wrong protocol is set. */
      reading = pm_scale_reading_new (PM_SCALE_STATE_UNREADABLE);
      reading->detail = g_strdup_printf ("The scale does not understand %s's weight "
                                         "command. Check the scale's protocol setting.",
                                         pm_scale_protocol_describe (self->protocol));
    }

  if (reading != NULL)
    pm_scale_feed_push (self->feed, reading);

  /* A reply ends the command: the next one goes after the pause. */
  if (answered != COMMAND_NONE)
    port_schedule (self, self->settings.poll_interval_ms, send_next_cb);
}

static gboolean
port_ready_cb (int          fd,
               GIOCondition condition,
               gpointer     user_data)
{
  PmSerialScale *self = user_data;
  Port *port = &self->port;
  guint8 buffer[256];
  gssize n;

  assert_on_worker (self);

  n = read (fd, buffer, sizeof buffer);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return G_SOURCE_CONTINUE;
  if (n <= 0)
    {
      int saved = n == 0 ? ENODEV : errno;
      g_autofree char *message = g_strdup_printf ("The scale's port %s stopped working "
                                                  "(%s). Check the cable and the "
                                                  "adapter.", self->port_path,
                                                  g_strerror (saved));

      g_clear_pointer (&port->fd_source, g_source_unref);
      port_failed (self, PM_SCALE_ERROR_IO, message);
      return G_SOURCE_REMOVE;
    }

  /* Serial decoders never refuse a device: garbage is resynchronised over. */
  pm_scale_decoder_push (port->decoder, buffer, (gsize) n, decoded_cb, self, NULL);

  return G_SOURCE_CONTINUE;
}

static gboolean
reply_timeout_cb (gpointer data)
{
  PmSerialScale *self = data;
  Port *port = &self->port;

  assert_on_worker (self);
  port_cancel_timer (self);

  /* Whatever part of a reply came is dropped: the next reply starts clean. */
  pm_scale_decoder_reset (port->decoder);

  if (port->outstanding == COMMAND_ZERO && port->zero_task != NULL)
    zero_task_fail (g_steal_pointer (&port->zero_task), PM_SCALE_ERROR_TIMEOUT,
                    "The scale did not answer the zero command.");
  port->outstanding = COMMAND_NONE;

  if (port->answering || !port->reported_absent)
    {
      g_autofree char *message = g_strdup_printf ("The scale on %s does not answer. Check "
                                                  "that it is switched on, and that its "
                                                  "protocol and port settings match.",
                                                  self->port_path);

      g_message ("%s", message);
      pm_scale_feed_lost (self->feed, g_error_new_literal (PM_SCALE_ERROR,
                                                           PM_SCALE_ERROR_TIMEOUT,
                                                           message));
      port->answering = FALSE;
      port->reported_absent = TRUE;
    }

  /* A silent scale is asked again at a slow, steady pace. */
  port_schedule (self, SILENT_INTERVAL_MS, send_next_cb);
  return G_SOURCE_REMOVE;
}

static const char *
command_bytes (PmScaleProtocol protocol,
               Command         command)
{
  switch (protocol)
    {
    case PM_SCALE_PROTOCOL_NCI_SCP01:
    case PM_SCALE_PROTOCOL_NCI_SCP02:
      return command == COMMAND_ZERO ? "Z\r" : "W\r";
    case PM_SCALE_PROTOCOL_METTLER_8217:
      /* Single letters, no terminator. */
      return command == COMMAND_ZERO ? "Z" : "W";
    case PM_SCALE_PROTOCOL_SICS:
      /* SI answers at once, stable or not, so motion shows while a piece settles. */
      return command == COMMAND_ZERO ? "Z\r\n" : "SI\r\n";
    case PM_SCALE_PROTOCOL_HID:
    default:
      g_assert_not_reached ();
    }
}

static gboolean
send_next_cb (gpointer data)
{
  PmSerialScale *self = data;
  Port *port = &self->port;
  Command command = COMMAND_WEIGH;
  const char *bytes;
  gsize len, sent = 0;
  guint timeout_ms = self->settings.reply_timeout_ms;

  assert_on_worker (self);
  /* Called by its timer or directly: either way no other send may stay scheduled. */
  port_cancel_timer (self);

  if (port->fd < 0)
    return G_SOURCE_REMOVE;

  if (port->zero_task == NULL && !g_queue_is_empty (&port->zero_tasks))
    {
      port->zero_task = g_queue_pop_head (&port->zero_tasks);
      command = COMMAND_ZERO;
      timeout_ms *= ZERO_TIMEOUT_FACTOR;
    }

  bytes = command_bytes (self->protocol, command);
  len = strlen (bytes);
  while (sent < len)
    {
      gssize n = write (port->fd, bytes + sent, len - sent);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          g_autofree char *message = g_strdup_printf ("Cannot send to the scale on %s "
                                                      "(%s). Check the cable and the "
                                                      "adapter.", self->port_path,
                                                      g_strerror (errno));

          port_failed (self, PM_SCALE_ERROR_IO, message);
          return G_SOURCE_REMOVE;
        }
      sent += (gsize) n;
    }

  port->outstanding = command;
  port_schedule (self, timeout_ms, reply_timeout_cb);
  return G_SOURCE_REMOVE;
}

/* glibc's tcsetattr () fails with EINVAL when none of the changes it asked for took
 * effect. A pseudo-terminal, or an adapter that keeps its own frame, ignores the data bits
 * and parity, so a second open of it "changes nothing": what matters is that the port is
 * raw at the right speed. */
static gboolean
settings_hold (int     fd,
               speed_t speed)
{
  struct termios now;

  if (errno != EINVAL || tcgetattr (fd, &now) != 0)
    return FALSE;

  return cfgetospeed (&now) == speed && (now.c_lflag & (ICANON | ECHO)) == 0
         && (now.c_oflag & OPOST) == 0;
}

static gboolean
configure_port (PmSerialScale  *self,
                int             fd,
                GError        **error)
{
  const PmSerialSettings *settings = &self->settings;
  struct termios tio;
  speed_t speed = B9600;

  if (tcgetattr (fd, &tio) != 0)
    {
      g_set_error (error, PM_SCALE_ERROR, PM_SCALE_ERROR_INVALID_SETTINGS,
                   "%s is not a serial port (%s)", self->port_path, g_strerror (errno));
      return FALSE;
    }

  cfmakeraw (&tio);
  speed_for_baud (settings->baud, &speed);
  cfsetispeed (&tio, speed);
  cfsetospeed (&tio, speed);

  tio.c_cflag &= ~(CSIZE | PARENB | PARODD | CSTOPB | CRTSCTS);
  tio.c_cflag |= CLOCAL | CREAD | (settings->data_bits == 7 ? CS7 : CS8);
  if (settings->parity != PM_SERIAL_PARITY_NONE)
    tio.c_cflag |= PARENB | (settings->parity == PM_SERIAL_PARITY_ODD ? PARODD : 0);
  if (settings->stop_bits == 2)
    tio.c_cflag |= CSTOPB;
  tio.c_iflag &= ~(IXON | IXOFF | IXANY);
  /* Non-blocking reads through poll (): the terminal's own timers stay off. */
  tio.c_cc[VMIN] = 0;
  tio.c_cc[VTIME] = 0;

  if (tcsetattr (fd, TCSANOW, &tio) != 0 && !settings_hold (fd, speed))
    {
      g_set_error (error, PM_SCALE_ERROR, PM_SCALE_ERROR_INVALID_SETTINGS,
                   "The port %s does not take the settings %u %u%c%u (%s)",
                   self->port_path, settings->baud, settings->data_bits,
                   "NEO"[settings->parity], settings->stop_bits, g_strerror (errno));
      return FALSE;
    }

  /* Whatever the scale sent before we listened is not an answer to us. */
  tcflush (fd, TCIOFLUSH);
  return TRUE;
}

static void
port_open (PmSerialScale *self)
{
  Port *port = &self->port;
  g_autoptr(GError) error = NULL;
  int fd;

  fd = open (self->port_path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    {
      int saved = errno;
      g_autofree char *message = g_strdup_printf ("The scale's port %s cannot be opened "
                                                  "(%s). %s", self->port_path,
                                                  g_strerror (saved),
                                                  saved == EACCES || saved == EPERM
                                                    ? "Add the kiosk's user to the "
                                                      "“dialout” group."
                                                    : "Check the port setting and the "
                                                      "cable.");

      port_failed (self,
                   saved == EACCES || saved == EPERM ? PM_SCALE_ERROR_PERMISSION
                   : saved == ENOENT || saved == ENODEV || saved == ENXIO
                     ? PM_SCALE_ERROR_NOT_FOUND : PM_SCALE_ERROR_IO,
                   message);
      return;
    }

  if (!configure_port (self, fd, &error))
    {
      close (fd);
      port_failed (self, PM_SCALE_ERROR_INVALID_SETTINGS, error->message);
      return;
    }

  port->fd = fd;
  pm_scale_decoder_reset (port->decoder);
  port->fd_source = g_unix_fd_source_new (fd, G_IO_IN | G_IO_HUP | G_IO_ERR);
  g_source_set_callback (port->fd_source, G_SOURCE_FUNC (port_ready_cb), self, NULL);
  g_source_set_static_name (port->fd_source, "[postmeter] serial scale replies");
  g_source_attach (port->fd_source, port->context);

  send_next_cb (self);
}

static gboolean
reopen_cb (gpointer data)
{
  PmSerialScale *self = data;

  assert_on_worker (self);
  port_cancel_timer (self);
  port_open (self);
  return G_SOURCE_REMOVE;
}

static void
worker_setup (gpointer data)
{
  PmSerialScale *self = data;
  Port *port = &self->port;

  port->context = g_main_context_ref_thread_default ();
  port->decoder = pm_scale_decoder_new (self->protocol);
  if (self->settings.unit_set)
    pm_scale_decoder_set_unit (port->decoder, self->settings.unit);
  port->answering = FALSE;
  port->reported_absent = FALSE;
  port_open (self);
}

static void
worker_teardown (gpointer data)
{
  PmSerialScale *self = data;
  Port *port = &self->port;
  GTask *task;

  port_cancel_timer (self);
  port_close (self);
  while ((task = g_queue_pop_head (&port->zero_tasks)) != NULL)
    zero_task_fail (task, PM_SCALE_ERROR_IO, "The scale was stopped before it zeroed.");
  g_clear_pointer (&port->decoder, pm_scale_decoder_free);
  g_clear_pointer (&port->context, g_main_context_unref);
}

static gboolean
pm_serial_scale_start (PmScale  *scale,
                       GError  **error)
{
  PmSerialScale *self = PM_SERIAL_SCALE (scale);

  if (self->worker != NULL)
    return TRUE;

  pm_scale_feed_begin (self->feed);
  self->worker = pm_scale_worker_start ("pm-scale-serial", worker_setup, worker_teardown,
                                        self);
  return TRUE;
}

static void
pm_serial_scale_stop (PmScale *scale)
{
  PmSerialScale *self = PM_SERIAL_SCALE (scale);

  if (self->worker == NULL)
    return;

  g_clear_pointer (&self->worker, pm_scale_worker_stop);
  pm_scale_feed_end (self->feed);
}

static gboolean
queue_zero_cb (gpointer data)
{
  GTask *task = data;
  PmSerialScale *self = g_task_get_source_object (task);
  Port *port = &self->port;

  if (port->fd < 0 || !port->answering)
    {
      zero_task_fail (task, PM_SCALE_ERROR_NOT_FOUND,
                      "The scale does not answer, so it cannot be zeroed now.");
      return G_SOURCE_REMOVE;
    }

  g_queue_push_tail (&port->zero_tasks, task);
  /* Sent as soon as no command is outstanding, instead of after the pause. */
  if (port->outstanding == COMMAND_NONE)
    send_next_cb (self);
  return G_SOURCE_REMOVE;
}

static void
pm_serial_scale_zero_async (PmScale             *scale,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  PmSerialScale *self = PM_SERIAL_SCALE (scale);
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, pm_serial_scale_zero_async);

  if (self->worker == NULL)
    {
      zero_task_fail (task, PM_SCALE_ERROR_NOT_FOUND, "The scale is not started.");
      return;
    }

  pm_scale_worker_invoke (self->worker, queue_zero_cb, task, NULL);
}

static gboolean
pm_serial_scale_zero_finish (PmScale       *scale,
                             GAsyncResult  *result,
                             GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
pm_serial_scale_iface_init (PmScaleInterface *iface)
{
  iface->start = pm_serial_scale_start;
  iface->stop = pm_serial_scale_stop;
  iface->zero_async = pm_serial_scale_zero_async;
  iface->zero_finish = pm_serial_scale_zero_finish;
}
