/* pm-scale-private.h: what every scale driver shares
 *
 * PmScaleFeed carries readings from a driver's worker thread to the context the scale was
 * started on, applies the postable rule in one place, and keeps the last reading and the
 * connected/postable state that the interface's accessors and properties report.
 * PmScaleWorker is the driver's thread: it runs a private GMainContext, so the thread
 * sleeps in poll() until the device, a timer of the protocol's own cadence or a command
 * wakes it.
 */
#pragma once

#include "pm-scale.h"

G_BEGIN_DECLS

enum
{
  PM_SCALE_PROP_CONNECTED = 1,
  PM_SCALE_PROP_POSTABLE,
  PM_SCALE_PROP_DESCRIPTION,
  PM_SCALE_N_PROPS,
};

typedef struct _PmScaleFeed PmScaleFeed;

/* Called from the driver's instance init; the feed lives as long as the object. */
void         pm_scale_feed_install        (PmScale         *scale);
PmScaleFeed *pm_scale_get_feed            (PmScale         *scale);
/* Owner context: starting captures the thread-default context and forgets any earlier
 * session; stopping drops readings still in flight. */
void         pm_scale_feed_begin          (PmScaleFeed     *feed);
void         pm_scale_feed_end            (PmScaleFeed     *feed);
/* Any thread, in the order things happened on the device. */
void         pm_scale_feed_push           (PmScaleFeed     *feed,
                                           PmScaleReading  *reading);
void         pm_scale_feed_found          (PmScaleFeed     *feed,
                                           const char      *description);
void         pm_scale_feed_lost           (PmScaleFeed     *feed,
                                           GError          *error);

/* For a driver's class_init and get_property. */
void         pm_scale_class_override_properties (GObjectClass *klass);
gboolean     pm_scale_get_property_common (PmScale         *scale,
                                           guint            prop_id,
                                           GValue          *value);

typedef struct _PmScaleWorker PmScaleWorker;
typedef void (*PmScaleWorkerFunc) (gpointer data);

/* setup runs first on the new thread, with the worker context as thread default;
 * teardown runs last on it. */
PmScaleWorker *pm_scale_worker_start      (const char        *name,
                                           PmScaleWorkerFunc  setup,
                                           PmScaleWorkerFunc  teardown,
                                           gpointer           data);
GMainContext  *pm_scale_worker_get_context (PmScaleWorker    *worker);
gboolean       pm_scale_worker_is_current (PmScaleWorker     *worker);
void           pm_scale_worker_invoke     (PmScaleWorker     *worker,
                                           GSourceFunc        func,
                                           gpointer           data,
                                           GDestroyNotify     notify);
/* Quits the loop, joins the thread and frees the worker. */
void           pm_scale_worker_stop       (PmScaleWorker     *worker);

G_END_DECLS
