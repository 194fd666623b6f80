/* pm-hid-scale.h: USB HID point-of-sale scales through hidraw
 *
 * The scale is found with udev: a hidraw node whose HID report descriptor declares the
 * point-of-sale usage page (0x8D), or whose vendor and product ids are on the list of
 * scales known to speak HID POS. It is followed through hot-plug: scales that switch
 * themselves off vanish and come back, and each return starts over (the first report is
 * dropped and the platform must be seen empty before a weight counts; see pm-scale.h).
 * A device that is not a HID POS scale is refused with PM_SCALE_ERROR_UNSUPPORTED_DEVICE
 * as "device-lost", never left waiting.
 *
 * The reports are read on the scale's own worker thread, which sleeps in poll() until
 * the device node has a report or udev has news: no polling of any kind.
 *
 * pm_hid_scale_new_for_fd () feeds the same reader from any descriptor that delivers one
 * report per read () (a SOCK_SEQPACKET socket, a pipe written one report at a time), so
 * tests and benchmarks drive the real code without hardware; closing the other end is
 * the scale vanishing, pm_hid_scale_attach_fd () its return.
 */
#pragma once

#include "pm-scale.h"

G_BEGIN_DECLS

#define PM_TYPE_HID_SCALE (pm_hid_scale_get_type ())
G_DECLARE_FINAL_TYPE (PmHidScale, pm_hid_scale, PM, HID_SCALE, GObject)

/* The first HID POS scale udev knows of, now or when it is plugged in. */
PmHidScale *pm_hid_scale_new            (void);
/* One hidraw node, e.g. "/dev/hidraw2"; reopened whenever udev sees it come back. */
PmHidScale *pm_hid_scale_new_for_device (const char  *device_file);
/* A pseudo-device; takes @fd. */
PmHidScale *pm_hid_scale_new_for_fd     (int          fd,
                                         const char  *description);
/* The pseudo-device comes back (or a first one arrives) on @fd; takes @fd. Any thread;
 * the scale must be started. */
void        pm_hid_scale_attach_fd      (PmHidScale  *self,
                                         int          fd,
                                         const char  *description);

/* How long a newly opened scale may stay silent before the operator is told (an
 * UNREADABLE reading); scales report at once when opened. */
#define PM_HID_SCALE_SILENCE_MS 10000

void        pm_hid_scale_set_silence_timeout (PmHidScale *self,
                                              guint       milliseconds);

/* What discovery decides, exposed for tests. */

typedef enum
{
  PM_HID_SCALE_MATCH_NONE,         /* not a scale: ignored */
  PM_HID_SCALE_MATCH_SCALE,        /* a HID POS scale */
  PM_HID_SCALE_MATCH_UNSUPPORTED,  /* a scale, but one that does not speak HID POS */
} PmHidScaleMatch;

/* TRUE when a HID report descriptor declares usage page 0x8D (point of sale). */
gboolean        pm_hid_scale_descriptor_is_pos (const guint8 *descriptor,
                                                gsize         length);
/* @descriptor may be NULL when it cannot be read; @out_name (optional) gets the known
 * model's name or NULL. */
PmHidScaleMatch pm_hid_scale_match             (guint16       vendor,
                                                guint16       product,
                                                const guint8 *descriptor,
                                                gsize         length,
                                                const char  **out_name);

G_END_DECLS
