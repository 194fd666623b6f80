/* pm-hid-scale.c: USB HID POS scales through hidraw
 *
 * Everything below "Worker" runs on the scale's worker thread: the udev client is made
 * there, so its "uevent" signal arrives there too, and the device node is watched there
 * with a GUnixFDSource. The owner's thread only starts, stops and hands over descriptors.
 */
/* O_CLOEXEC under -std=c17 */
#define _GNU_SOURCE

#include "pm-hid-scale.h"

#include "pm-scale-private.h"
#include "pm-scale-protocol.h"

#include <errno.h>
#include <fcntl.h>
#include <gudev/gudev.h>
#include <glib-unix.h>
#include <string.h>
#include <unistd.h>

/* Larger than any report a scale sends, so a device with long reports is read whole and
 * then refused by the decoder rather than split into pieces that look like data. */
#define READ_BUFFER_SIZE 64

#define HID_USAGE_PAGE_POS 0x8D

static const struct
{
  guint16     vendor;
  guint16     product;
  const char *name;
  gboolean    pos;       /* speaks HID POS */
} known_devices[] = {
  { 0x0922, 0x8003, "Dymo M10", TRUE },
  { 0x1446, 0x6a73, "Stamps.com Model 510", TRUE },
  { 0x2474, 0x0550, "Stamps.com 5 lb stainless", TRUE },
  { 0x2474, 0x3550, "Stamps.com 35 lb stainless", TRUE },
  { 0x0eb8, 0xf000, "Mettler-Toledo PS60", TRUE },
  { 0x0b67, 0x555e, "Fairbanks SCB-R9000", TRUE },
  { 0x0d8f, 0x0200, "Pitney Bowes 397-B", TRUE },
  /* Sold as a postal scale, but its reports are not HID POS. */
  { 0x04d9, 0x8010, "Accupost PP-10USB", FALSE },
};

typedef enum
{
  SOURCE_UDEV,      /* the first scale udev knows of */
  SOURCE_DEVICE,    /* one device file */
  SOURCE_FD,        /* a pseudo-device handed in */
} SourceKind;

/* Worker thread only, while started. */
typedef struct
{
  GMainContext   *context;       /* owned; the worker's, so code can check it runs there */
  GUdevClient    *udev;          /* owned; NULL for SOURCE_FD */
  PmScaleDecoder *decoder;       /* owned */
  int             fd;            /* the open device, or -1 */
  GSource        *fd_source;     /* owned, or NULL */
  GSource        *silence;       /* owned, or NULL: no report yet since the device opened */
  char           *open_file;     /* the device file open now, or NULL */
  char           *refused_file;  /* a device proven not to be a scale, until removed */
  gboolean        reported_missing;
} Reader;

struct _PmHidScale
{
  GObject parent_instance;

  /* Set at construction, read-only afterwards. */
  SourceKind     source;
  char          *device_file;     /* SOURCE_DEVICE */
  int            initial_fd;      /* SOURCE_FD: handed to the worker at start, or -1 */
  char          *fd_description;
  guint          silence_ms;      /* atomic */

  PmScaleFeed   *feed;            /* borrowed from the object's qdata */
  PmScaleWorker *worker;          /* owned; owner thread only */
  Reader         reader;          /* worker thread while started */
};

static void pm_hid_scale_iface_init (PmScaleInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (PmHidScale, pm_hid_scale, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (PM_TYPE_SCALE, pm_hid_scale_iface_init))

/* Discovery rules */

gboolean
pm_hid_scale_descriptor_is_pos (const guint8 *descriptor,
                                gsize         length)
{
  gsize i = 0;

  g_return_val_if_fail (descriptor != NULL || length == 0, FALSE);

  while (i < length)
    {
      guint8 prefix = descriptor[i];
      gsize size;
      guint8 type, tag;
      guint32 value = 0;

      /* A long item: its size is in the next byte; it never carries a usage page. */
      if (prefix == 0xFE)
        {
          if (i + 1 >= length)
            return FALSE;
          i += 3 + (gsize) descriptor[i + 1];
          continue;
        }

      size = prefix & 0x03;
      if (size == 3)
        size = 4;
      type = (prefix >> 2) & 0x03;
      tag = prefix >> 4;
      if (i + 1 + size > length)
        return FALSE;
      for (gsize b = 0; b < size; b++)
        value |= (guint32) descriptor[i + 1 + b] << (8 * b);

      /* Global Usage Page, or a local Usage given in full with its page on top. */
      if (type == 1 && tag == 0 && value == HID_USAGE_PAGE_POS)
        return TRUE;
      if (type == 2 && tag == 0 && size == 4 && (value >> 16) == HID_USAGE_PAGE_POS)
        return TRUE;

      i += 1 + size;
    }

  return FALSE;
}

PmHidScaleMatch
pm_hid_scale_match (guint16       vendor,
                    guint16       product,
                    const guint8 *descriptor,
                    gsize         length,
                    const char  **out_name)
{
  const char *name = NULL;
  gboolean known = FALSE, known_pos = FALSE;

  for (gsize i = 0; i < G_N_ELEMENTS (known_devices); i++)
    {
      if (known_devices[i].vendor == vendor && known_devices[i].product == product)
        {
          known = TRUE;
          known_pos = known_devices[i].pos;
          name = known_devices[i].name;
          break;
        }
    }

  if (out_name != NULL)
    *out_name = name;

  if (known && !known_pos)
    return PM_HID_SCALE_MATCH_UNSUPPORTED;
  if (descriptor != NULL && length > 0 && pm_hid_scale_descriptor_is_pos (descriptor, length))
    return PM_HID_SCALE_MATCH_SCALE;
  /* A known scale whose descriptor could not be read is still taken: the reports
   * themselves are checked, and a device that sends no scale data is refused then. */
  if (known && (descriptor == NULL || length == 0))
    return PM_HID_SCALE_MATCH_SCALE;
  if (known)
    return PM_HID_SCALE_MATCH_UNSUPPORTED;

  return PM_HID_SCALE_MATCH_NONE;
}

/* Object */

static void
pm_hid_scale_finalize (GObject *object)
{
  PmHidScale *self = PM_HID_SCALE (object);

  g_assert (self->worker == NULL);
  if (self->initial_fd >= 0)
    close (self->initial_fd);
  g_free (self->device_file);
  g_free (self->fd_description);

  G_OBJECT_CLASS (pm_hid_scale_parent_class)->finalize (object);
}

static void
pm_hid_scale_dispose (GObject *object)
{
  PmHidScale *self = PM_HID_SCALE (object);

  if (self->worker != NULL)
    pm_scale_stop (PM_SCALE (self));

  G_OBJECT_CLASS (pm_hid_scale_parent_class)->dispose (object);
}

static void
pm_hid_scale_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  if (!pm_scale_get_property_common (PM_SCALE (object), prop_id, value))
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static void
pm_hid_scale_class_init (PmHidScaleClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = pm_hid_scale_dispose;
  object_class->finalize = pm_hid_scale_finalize;
  object_class->get_property = pm_hid_scale_get_property;
  pm_scale_class_override_properties (object_class);
}

static void
pm_hid_scale_init (PmHidScale *self)
{
  pm_scale_feed_install (PM_SCALE (self));
  self->feed = pm_scale_get_feed (PM_SCALE (self));
  self->initial_fd = -1;
  self->reader.fd = -1;
  self->silence_ms = PM_HID_SCALE_SILENCE_MS;
}

void
pm_hid_scale_set_silence_timeout (PmHidScale *self,
                                  guint       milliseconds)
{
  g_return_if_fail (PM_IS_HID_SCALE (self));
  g_return_if_fail (milliseconds > 0);

  g_atomic_int_set (&self->silence_ms, milliseconds);
}

PmHidScale *
pm_hid_scale_new (void)
{
  PmHidScale *self = g_object_new (PM_TYPE_HID_SCALE, NULL);

  self->source = SOURCE_UDEV;
  return self;
}

PmHidScale *
pm_hid_scale_new_for_device (const char *device_file)
{
  PmHidScale *self;

  g_return_val_if_fail (device_file != NULL, NULL);

  self = g_object_new (PM_TYPE_HID_SCALE, NULL);
  self->source = SOURCE_DEVICE;
  self->device_file = g_strdup (device_file);
  return self;
}

PmHidScale *
pm_hid_scale_new_for_fd (int         fd,
                         const char *description)
{
  PmHidScale *self;

  g_return_val_if_fail (fd >= 0, NULL);

  self = g_object_new (PM_TYPE_HID_SCALE, NULL);
  self->source = SOURCE_FD;
  self->initial_fd = fd;
  self->fd_description = g_strdup (description != NULL ? description : "USB scale");
  return self;
}

/* Worker */

static void
reader_stop_silence (Reader *reader)
{
  if (reader->silence != NULL)
    {
      g_source_destroy (reader->silence);
      g_clear_pointer (&reader->silence, g_source_unref);
    }
}

static void
reader_close (PmHidScale *self)
{
  Reader *reader = &self->reader;

  g_assert (g_main_context_get_thread_default () == self->reader.context);

  reader_stop_silence (reader);

  if (reader->fd_source != NULL)
    {
      g_source_destroy (reader->fd_source);
      g_clear_pointer (&reader->fd_source, g_source_unref);
    }
  if (reader->fd >= 0)
    {
      close (reader->fd);
      reader->fd = -1;
    }
  g_clear_pointer (&reader->open_file, g_free);
}

static void
reader_lost (PmHidScale *self,
             GError     *error)
{
  reader_close (self);
  pm_scale_feed_lost (self->feed, error);
}

static void
decoded_cb (PmScaleReplyKind  kind,
            PmScaleReading   *reading,
            gpointer          user_data)
{
  PmHidScale *self = user_data;

  if (kind == PM_SCALE_REPLY_READING)
    pm_scale_feed_push (self->feed, reading);
}

static gboolean
fd_ready_cb (int          fd,
             GIOCondition condition,
             gpointer     user_data)
{
  PmHidScale *self = user_data;
  Reader *reader = &self->reader;
  guint8 buffer[READ_BUFFER_SIZE];
  g_autoptr(GError) error = NULL;
  gssize n;

  g_assert (g_main_context_get_thread_default () == self->reader.context);

  n = read (fd, buffer, sizeof buffer);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return G_SOURCE_CONTINUE;

  if (n <= 0)
    {
      int saved = errno;

      /* hidraw answers ENODEV once the scale is gone; a pseudo-device ends in EOF. */
      g_debug ("The scale's device ended (%s)", n == 0 ? "end of file" : g_strerror (saved));
      g_clear_pointer (&reader->fd_source, g_source_unref);
      reader_lost (self,
                   g_error_new_literal (PM_SCALE_ERROR, PM_SCALE_ERROR_NOT_FOUND,
                                        "The scale was unplugged or switched itself off. "
                                        "Press a key on the scale or plug it in again."));
      return G_SOURCE_REMOVE;
    }

  reader_stop_silence (reader);

  if (!pm_scale_decoder_push (reader->decoder, buffer, (gsize) n, decoded_cb, self, &error))
    {
      g_message ("Refusing %s: %s", reader->open_file != NULL ? reader->open_file : "device",
                 error->message);
      g_free (reader->refused_file);
      reader->refused_file = g_strdup (reader->open_file);
      g_clear_pointer (&reader->fd_source, g_source_unref);
      reader_lost (self, g_steal_pointer (&error));
      return G_SOURCE_REMOVE;
    }

  return G_SOURCE_CONTINUE;
}

/* Scales that need a vendor command before they report stay silent for ever: say so,
 * instead of leaving the operator to wait. The device stays open; a report that comes
 * later is read as usual. */
static gboolean
silence_cb (gpointer user_data)
{
  PmHidScale *self = user_data;
  Reader *reader = &self->reader;
  PmScaleReading *reading = pm_scale_reading_new (PM_SCALE_STATE_UNREADABLE);

  g_clear_pointer (&reader->silence, g_source_unref);
  reading->detail = g_strdup ("The scale has sent nothing since it was connected. Press a "
                              "key on the scale or put a piece on it. If it stays silent, "
                              "it is not a scale Postmeter can read: use a HID POS scale "
                              "or set the scale up as serial.");
  g_message ("%s has sent no report in %u ms", reader->open_file != NULL
                                                 ? reader->open_file : "The scale",
             g_atomic_int_get (&self->silence_ms));
  pm_scale_feed_push (self->feed, reading);
  return G_SOURCE_REMOVE;
}

/* Takes @fd. */
static void
reader_attach (PmHidScale *self,
               int         fd,
               const char *device_file,
               const char *description)
{
  Reader *reader = &self->reader;

  reader_close (self);

  reader->fd = fd;
  reader->open_file = g_strdup (device_file);
  reader->reported_missing = FALSE;
  pm_scale_decoder_reset (reader->decoder);
  pm_scale_feed_found (self->feed, description);

  reader->fd_source = g_unix_fd_source_new (fd, G_IO_IN | G_IO_HUP | G_IO_ERR);
  g_source_set_callback (reader->fd_source, G_SOURCE_FUNC (fd_ready_cb), self, NULL);
  g_source_set_static_name (reader->fd_source, "[postmeter] hid scale reports");
  g_source_attach (reader->fd_source, reader->context);

  reader->silence = g_timeout_source_new (g_atomic_int_get (&self->silence_ms));
  g_source_set_callback (reader->silence, silence_cb, self, NULL);
  g_source_set_static_name (reader->silence, "[postmeter] hid scale silence");
  g_source_attach (reader->silence, reader->context);
}

static guint8 *
read_report_descriptor (GUdevDevice *hid,
                        gsize       *out_length)
{
  g_autofree char *path = NULL;
  char *contents = NULL;

  *out_length = 0;
  if (hid == NULL)
    return NULL;

  path = g_build_filename (g_udev_device_get_sysfs_path (hid), "report_descriptor", NULL);
  if (!g_file_get_contents (path, &contents, out_length, NULL))
    return NULL;

  return (guint8 *) contents;
}

/* HID_ID is "bus:vendor:product" in hexadecimal, e.g. "0003:00000922:00008003". */
static gboolean
parse_hid_id (const char *hid_id,
              guint16    *out_vendor,
              guint16    *out_product)
{
  g_auto(GStrv) parts = NULL;
  guint64 vendor, product;

  if (hid_id == NULL)
    return FALSE;

  parts = g_strsplit (hid_id, ":", 3);
  if (g_strv_length (parts) != 3
      || !g_ascii_string_to_unsigned (parts[1], 16, 0, G_MAXUINT16, &vendor, NULL)
      || !g_ascii_string_to_unsigned (parts[2], 16, 0, G_MAXUINT16, &product, NULL))
    return FALSE;

  *out_vendor = (guint16) vendor;
  *out_product = (guint16) product;
  return TRUE;
}

static PmHidScaleMatch
classify_device (GUdevDevice  *device,
                 char        **out_description)
{
  g_autoptr(GUdevDevice) hid = g_udev_device_get_parent_with_subsystem (device, "hid", NULL);
  g_autofree guint8 *descriptor = NULL;
  const char *name = NULL;
  gsize length = 0;
  guint16 vendor = 0, product = 0;
  PmHidScaleMatch match;

  if (hid == NULL || !parse_hid_id (g_udev_device_get_property (hid, "HID_ID"), &vendor,
                                    &product))
    return PM_HID_SCALE_MATCH_NONE;

  descriptor = read_report_descriptor (hid, &length);
  match = pm_hid_scale_match (vendor, product, descriptor, length, &name);
  if (name == NULL)
    name = g_udev_device_get_property (hid, "HID_NAME");

  *out_description = g_strdup_printf ("%s (USB %04x:%04x, %s)",
                                      name != NULL ? name : "USB scale", vendor, product,
                                      g_udev_device_get_device_file (device));
  return match;
}

static gboolean
wanted_file (PmHidScale *self,
             const char *device_file)
{
  return self->source == SOURCE_UDEV || g_strcmp0 (device_file, self->device_file) == 0;
}

/* Opens @device if it is the scale we are after. TRUE once a scale is open. */
static gboolean
try_device (PmHidScale  *self,
            GUdevDevice *device)
{
  Reader *reader = &self->reader;
  const char *device_file = g_udev_device_get_device_file (device);
  g_autofree char *description = NULL;
  PmHidScaleMatch match;
  int fd;

  if (device_file == NULL || !wanted_file (self, device_file))
    return FALSE;
  if (g_strcmp0 (device_file, reader->refused_file) == 0)
    return FALSE;

  match = classify_device (device, &description);
  if (match == PM_HID_SCALE_MATCH_NONE && self->source == SOURCE_UDEV)
    return FALSE;
  if (match != PM_HID_SCALE_MATCH_SCALE)
    {
      g_free (reader->refused_file);
      reader->refused_file = g_strdup (device_file);
      pm_scale_feed_lost (self->feed,
                          g_error_new (PM_SCALE_ERROR, PM_SCALE_ERROR_UNSUPPORTED_DEVICE,
                                       "Unsupported scale: %s is not a USB point-of-sale "
                                       "scale. Use a HID POS scale (Dymo, Stamps.com, "
                                       "Mettler-Toledo PS60, Fairbanks) or set the scale "
                                       "up as serial",
                                       description != NULL ? description : device_file));
      return FALSE;
    }

  fd = open (device_file, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    {
      int saved = errno;

      pm_scale_feed_lost (self->feed,
                          g_error_new (PM_SCALE_ERROR,
                                       saved == EACCES || saved == EPERM
                                         ? PM_SCALE_ERROR_PERMISSION : PM_SCALE_ERROR_IO,
                                       "The scale %s cannot be opened (%s). Check that "
                                       "Postmeter's udev rule for scales is installed.",
                                       description, g_strerror (saved)));
      return FALSE;
    }

  g_message ("Reading the scale %s", description);
  reader_attach (self, fd, device_file, description);
  return TRUE;
}

static void
uevent_cb (GUdevClient *client,
           const char  *action,
           GUdevDevice *device,
           gpointer     user_data)
{
  PmHidScale *self = user_data;
  Reader *reader = &self->reader;
  const char *device_file = g_udev_device_get_device_file (device);

  g_assert (g_main_context_get_thread_default () == self->reader.context);

  if (g_strcmp0 (action, "remove") == 0)
    {
      if (g_strcmp0 (device_file, reader->refused_file) == 0)
        g_clear_pointer (&reader->refused_file, g_free);
      /* Reading usually notices first; this covers a node that goes quietly. */
      if (reader->fd >= 0 && g_strcmp0 (device_file, reader->open_file) == 0)
        reader_lost (self,
                     g_error_new_literal (PM_SCALE_ERROR, PM_SCALE_ERROR_NOT_FOUND,
                                          "The scale was unplugged or switched itself off. "
                                          "Press a key on the scale or plug it in again."));
      return;
    }

  if (g_strcmp0 (action, "add") == 0 && reader->fd < 0)
    try_device (self, device);
}

static void
scan_devices (PmHidScale *self)
{
  Reader *reader = &self->reader;
  GList *devices = g_udev_client_query_by_subsystem (reader->udev, "hidraw");

  for (GList *l = devices; l != NULL && reader->fd < 0; l = l->next)
    try_device (self, l->data);
  g_list_free_full (devices, g_object_unref);

  /* A configured node that exists but is no hidraw device: a serial port set up as USB
   * by mistake, say. Waiting for it to turn into a scale would wait for ever. */
  if (reader->fd < 0 && !reader->reported_missing && self->source == SOURCE_DEVICE
      && reader->refused_file == NULL && g_file_test (self->device_file, G_FILE_TEST_EXISTS))
    {
      reader->reported_missing = TRUE;
      pm_scale_feed_lost (self->feed,
                          g_error_new (PM_SCALE_ERROR, PM_SCALE_ERROR_UNSUPPORTED_DEVICE,
                                       "Unsupported scale: %s is not a USB HID device "
                                       "(hidraw). Choose the scale's hidraw device, or set "
                                       "the scale up as serial",
                                       self->device_file));
    }

  if (reader->fd < 0 && !reader->reported_missing)
    {
      reader->reported_missing = TRUE;
      pm_scale_feed_lost (self->feed,
                          g_error_new_literal (PM_SCALE_ERROR, PM_SCALE_ERROR_NOT_FOUND,
                                               "No USB scale is connected. Plug the scale "
                                               "in and switch it on."));
    }
}

static void
worker_setup (gpointer data)
{
  PmHidScale *self = data;
  Reader *reader = &self->reader;
  static const char * const subsystems[] = { "hidraw", NULL };

  reader->context = g_main_context_ref_thread_default ();
  reader->decoder = pm_scale_decoder_new (PM_SCALE_PROTOCOL_HID);

  if (self->source == SOURCE_FD)
    {
      if (self->initial_fd >= 0)
        {
          reader_attach (self, self->initial_fd, NULL, self->fd_description);
          self->initial_fd = -1;
        }
      return;
    }

  /* Made on this thread so that its signal is delivered here. */
  reader->udev = g_udev_client_new (subsystems);
  g_signal_connect (reader->udev, "uevent", G_CALLBACK (uevent_cb), self);
  scan_devices (self);
}

static void
worker_teardown (gpointer data)
{
  PmHidScale *self = data;
  Reader *reader = &self->reader;

  reader_close (self);
  if (reader->udev != NULL)
    g_signal_handlers_disconnect_by_data (reader->udev, self);
  g_clear_object (&reader->udev);
  g_clear_pointer (&reader->decoder, pm_scale_decoder_free);
  g_clear_pointer (&reader->refused_file, g_free);
  g_clear_pointer (&reader->context, g_main_context_unref);
}

typedef struct
{
  PmHidScale *self;          /* owned reference */
  int         fd;
  char       *description;
} Attach;

static void
attach_free (gpointer data)
{
  Attach *attach = data;

  if (attach->fd >= 0)
    close (attach->fd);
  g_object_unref (attach->self);
  g_free (attach->description);
  g_free (attach);
}

static gboolean
attach_cb (gpointer data)
{
  Attach *attach = data;

  reader_attach (attach->self, attach->fd, NULL, attach->description);
  attach->fd = -1;
  return G_SOURCE_REMOVE;
}

void
pm_hid_scale_attach_fd (PmHidScale *self,
                        int         fd,
                        const char *description)
{
  Attach *attach;

  g_return_if_fail (PM_IS_HID_SCALE (self));
  g_return_if_fail (fd >= 0);

  if (self->worker == NULL)
    {
      g_critical ("%s: the scale is not started", G_STRFUNC);
      close (fd);
      return;
    }

  attach = g_new0 (Attach, 1);
  attach->self = g_object_ref (self);
  attach->fd = fd;
  attach->description = g_strdup (description != NULL ? description : "USB scale");
  pm_scale_worker_invoke (self->worker, attach_cb, attach, attach_free);
}

static gboolean
pm_hid_scale_start (PmScale  *scale,
                    GError  **error)
{
  PmHidScale *self = PM_HID_SCALE (scale);

  if (self->worker != NULL)
    return TRUE;

  pm_scale_feed_begin (self->feed);
  self->worker = pm_scale_worker_start ("pm-scale-hid", worker_setup, worker_teardown, self);
  return TRUE;
}

static void
pm_hid_scale_stop (PmScale *scale)
{
  PmHidScale *self = PM_HID_SCALE (scale);

  if (self->worker == NULL)
    return;

  g_clear_pointer (&self->worker, pm_scale_worker_stop);
  pm_scale_feed_end (self->feed);
}

static void
pm_hid_scale_iface_init (PmScaleInterface *iface)
{
  iface->start = pm_hid_scale_start;
  iface->stop = pm_hid_scale_stop;
  /* Zero over USB fails on some models and silences others: the scale's own button is
   * the reliable way, so the interface's "not supported" answer stands. */
}
