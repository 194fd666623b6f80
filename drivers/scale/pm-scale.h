/* pm-scale.h: the postal scale, whatever it is plugged into
 *
 * A PmScale delivers a stream of readings on the main context that was current when it was
 * started. Each driver (USB HID POS, serial NCI / Mettler 8217 / MT-SICS, simulated) reads
 * on its own worker thread at the scale's own pace. A reading is "postable" only when it is
 * a stable weight in a known mass unit and the platform has been seen empty since the scale
 * was last (re)connected: scales re-zero with whatever lies on them when they power up.
 */
#pragma once

#include <gio/gio.h>

#include "pm-weight.h"

G_BEGIN_DECLS

typedef enum
{
  PM_SCALE_STATE_STABLE,
  PM_SCALE_STATE_MOTION,
  PM_SCALE_STATE_ZERO,
  PM_SCALE_STATE_UNDER_ZERO,
  PM_SCALE_STATE_OVER_CAPACITY,
  PM_SCALE_STATE_FAULT,
  PM_SCALE_STATE_NEEDS_CALIBRATION,
  PM_SCALE_STATE_NEEDS_REZERO,
  PM_SCALE_STATE_UNREADABLE,
} PmScaleState;

#define PM_SCALE_ERROR (pm_scale_error_quark ())

typedef enum
{
  PM_SCALE_ERROR_NOT_SUPPORTED,       /* the protocol or the device cannot do this */
  PM_SCALE_ERROR_TIMEOUT,             /* no answer within the protocol's time */
  PM_SCALE_ERROR_UNSUPPORTED_DEVICE,  /* not a scale Postmeter can read */
  PM_SCALE_ERROR_NOT_FOUND,           /* no scale is connected */
  PM_SCALE_ERROR_PERMISSION,          /* the device node cannot be opened by this user */
  PM_SCALE_ERROR_IO,                  /* reading or writing the device failed */
  PM_SCALE_ERROR_REFUSED,             /* the scale answered but would not do it */
  PM_SCALE_ERROR_BUSY,                /* another command is in progress */
  PM_SCALE_ERROR_INVALID_SETTINGS,    /* port settings or a file cannot be used */
} PmScaleError;

GQuark pm_scale_error_quark (void);

/* One reading. Plain data; copied whole between threads. */
typedef struct
{
  PmScaleState state;
  gboolean     has_weight;   /* weight and resolution are meaningful */
  PmWeight     weight;       /* as the scale sent it, never negative */
  PmWeight     resolution;   /* one display step, same unit and exponent */
  gboolean     net;          /* the scale says a tare was subtracted */
  gboolean     postable;     /* decided by the scale object, see pm-scale.h */
  gint64       timestamp_us; /* pm_clock_now_us() when the bytes arrived */
  GBytes      *raw;          /* the bytes as received, for logs; may be NULL */
  char        *detail;       /* plain words about an unreadable reading; may be NULL */
} PmScaleReading;

#define PM_TYPE_SCALE_READING (pm_scale_reading_get_type ())

GType           pm_scale_reading_get_type   (void) G_GNUC_CONST;
PmScaleReading *pm_scale_reading_new        (PmScaleState          state);
PmScaleReading *pm_scale_reading_copy       (const PmScaleReading *reading);
void            pm_scale_reading_free       (PmScaleReading       *reading);
/* Sets a weight of mantissa * 10^exponent unit and its resolution (10^exponent unit). */
void            pm_scale_reading_set_weight (PmScaleReading       *reading,
                                             gint64                mantissa,
                                             gint8                 exponent,
                                             PmWeightUnit          unit);
void            pm_scale_reading_set_raw    (PmScaleReading       *reading,
                                             const guint8         *data,
                                             gsize                 len);
/* "stable", "motion", ... for logs and diagnostics. */
const char     *pm_scale_state_to_string    (PmScaleState          state);
/* Plain words for the operator, e.g. "Take the piece off and let the scale settle". */
const char     *pm_scale_state_describe     (PmScaleState          state);
/* Hex of the raw bytes ("03 04 0B FF 34 19"), for logs. */
char           *pm_scale_reading_dup_raw_hex (const PmScaleReading *reading);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmScaleReading, pm_scale_reading_free)

#define PM_TYPE_SCALE (pm_scale_get_type ())

G_DECLARE_INTERFACE (PmScale, pm_scale, PM, SCALE, GObject)

struct _PmScaleInterface
{
  GTypeInterface parent_iface;

  gboolean (*start)       (PmScale              *self,
                           GError              **error);
  void     (*stop)        (PmScale              *self);
  /* Optional: the default answers PM_SCALE_ERROR_NOT_SUPPORTED. */
  void     (*zero_async)  (PmScale              *self,
                           GCancellable         *cancellable,
                           GAsyncReadyCallback   callback,
                           gpointer              user_data);
  gboolean (*zero_finish) (PmScale              *self,
                           GAsyncResult         *result,
                           GError              **error);
};

/* Signals (all on the context current at pm_scale_start()):
 *   "reading"      (PmScaleReading *reading)
 *   "device-found" (const char *description)
 *   "device-lost"  (const GError *error)     why, in words for the operator
 * Properties (read-only): "connected", "postable", "description". */

gboolean              pm_scale_start            (PmScale              *self,
                                                 GError              **error);
void                  pm_scale_stop             (PmScale              *self);
void                  pm_scale_zero_async       (PmScale              *self,
                                                 GCancellable         *cancellable,
                                                 GAsyncReadyCallback   callback,
                                                 gpointer              user_data);
gboolean              pm_scale_zero_finish      (PmScale              *self,
                                                 GAsyncResult         *result,
                                                 GError              **error);
gboolean              pm_scale_get_connected    (PmScale              *self);
gboolean              pm_scale_get_postable     (PmScale              *self);
const char           *pm_scale_get_description  (PmScale              *self);
/* The last reading delivered, or NULL. Level-triggered: a piece placed before anyone
 * looked is still there. */
const PmScaleReading *pm_scale_get_last_reading (PmScale              *self);

G_END_DECLS
