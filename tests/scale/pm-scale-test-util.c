/* pm-scale-test-util.c: collecting a scale's signals in tests */
#include "pm-scale-test-util.h"

static void
event_free (gpointer data)
{
  PmTestScaleEvent *event = data;

  pm_scale_reading_free (event->reading);
  g_free (event->description);
  g_clear_error (&event->error);
  g_free (event);
}

static void
reading_cb (PmScale        *scale,
            PmScaleReading *reading,
            gpointer        user_data)
{
  PmTestScaleWatch *watch = user_data;
  PmTestScaleEvent *event = g_new0 (PmTestScaleEvent, 1);

  /* The signal runs on the context the scale was started on. */
  g_assert_true (g_main_context_is_owner (g_main_context_default ()));
  event->kind = PM_TEST_SCALE_EVENT_READING;
  event->reading = pm_scale_reading_copy (reading);
  g_ptr_array_add (watch->events, event);
}

static void
found_cb (PmScale    *scale,
          const char *description,
          gpointer    user_data)
{
  PmTestScaleWatch *watch = user_data;
  PmTestScaleEvent *event = g_new0 (PmTestScaleEvent, 1);

  event->kind = PM_TEST_SCALE_EVENT_FOUND;
  event->description = g_strdup (description);
  g_ptr_array_add (watch->events, event);
}

static void
lost_cb (PmScale      *scale,
         const GError *error,
         gpointer      user_data)
{
  PmTestScaleWatch *watch = user_data;
  PmTestScaleEvent *event = g_new0 (PmTestScaleEvent, 1);

  event->kind = PM_TEST_SCALE_EVENT_LOST;
  event->error = error != NULL ? g_error_copy (error) : NULL;
  g_ptr_array_add (watch->events, event);
}

PmTestScaleWatch *
pm_test_scale_watch_new (PmScale *scale)
{
  PmTestScaleWatch *watch = g_new0 (PmTestScaleWatch, 1);

  watch->scale = g_object_ref (scale);
  watch->events = g_ptr_array_new_with_free_func (event_free);
  g_signal_connect (scale, "reading", G_CALLBACK (reading_cb), watch);
  g_signal_connect (scale, "device-found", G_CALLBACK (found_cb), watch);
  g_signal_connect (scale, "device-lost", G_CALLBACK (lost_cb), watch);

  return watch;
}

void
pm_test_scale_watch_free (PmTestScaleWatch *watch)
{
  g_signal_handlers_disconnect_by_data (watch->scale, watch);
  g_object_unref (watch->scale);
  g_ptr_array_unref (watch->events);
  g_free (watch);
}

static gboolean
expire_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

PmTestScaleEvent *
pm_test_scale_next (PmTestScaleWatch *watch,
                    guint             timeout_ms)
{
  gboolean expired = FALSE;
  guint timer = g_timeout_add (timeout_ms, expire_cb, &expired);

  while (watch->seen >= watch->events->len && !expired)
    g_main_context_iteration (NULL, TRUE);
  if (!expired)
    g_source_remove (timer);

  if (watch->seen >= watch->events->len)
    return NULL;

  return g_ptr_array_index (watch->events, watch->seen++);
}

const PmScaleReading *
pm_test_scale_wait_state (PmTestScaleWatch *watch,
                          PmScaleState      state,
                          guint             timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  for (;;)
    {
      gint64 left = (deadline - g_get_monotonic_time ()) / 1000;
      PmTestScaleEvent *event;

      if (left <= 0)
        break;
      event = pm_test_scale_next (watch, (guint) left);
      if (event == NULL)
        break;
      if (event->kind == PM_TEST_SCALE_EVENT_READING && event->reading->state == state)
        return event->reading;
    }

  g_error ("No %s reading within %u ms", pm_scale_state_to_string (state), timeout_ms);
  return NULL;
}

void
pm_test_scale_run_for (guint ms)
{
  gboolean expired = FALSE;

  g_timeout_add (ms, expire_cb, &expired);
  while (!expired)
    g_main_context_iteration (NULL, TRUE);
}
