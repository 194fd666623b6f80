/* pm-scale-test-util.h: watching a PmScale from a test's main context */
#pragma once

#include "pm-scale.h"

G_BEGIN_DECLS

typedef enum
{
  PM_TEST_SCALE_EVENT_READING,
  PM_TEST_SCALE_EVENT_FOUND,
  PM_TEST_SCALE_EVENT_LOST,
} PmTestScaleEventKind;

typedef struct
{
  PmTestScaleEventKind  kind;
  PmScaleReading       *reading;      /* READING */
  char                 *description;  /* FOUND */
  GError               *error;        /* LOST */
} PmTestScaleEvent;

typedef struct
{
  PmScale   *scale;       /* owned reference */
  GPtrArray *events;      /* PmTestScaleEvent */
  guint      seen;        /* events already consumed by pm_test_scale_next () */
} PmTestScaleWatch;

PmTestScaleWatch *pm_test_scale_watch_new  (PmScale          *scale);
void              pm_test_scale_watch_free (PmTestScaleWatch *watch);
/* The next event not yet consumed, waiting up to @timeout_ms for it; NULL on timeout. */
PmTestScaleEvent *pm_test_scale_next       (PmTestScaleWatch *watch,
                                            guint             timeout_ms);
/* Consumes events until a reading in @state arrives; fails the test on timeout. Events
 * passed over are still in watch->events. */
const PmScaleReading *pm_test_scale_wait_state (PmTestScaleWatch *watch,
                                                PmScaleState      state,
                                                guint             timeout_ms);
/* Iterates the default context for @ms, collecting whatever arrives. */
void              pm_test_scale_run_for    (guint             ms);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmTestScaleWatch, pm_test_scale_watch_free)

G_END_DECLS
