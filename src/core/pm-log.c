/* pm-log.c
 *
 * One structured log writer for every program. Each component logs under its own domain
 * (postmeter-store, postmeter-psd, ...). When stderr is connected to the journal the records
 * go there with their fields; otherwise to the standard streams. Debug messages follow
 * G_MESSAGES_DEBUG as usual.
 */
#include "pm-log.h"

#include <stdio.h>

static GLogWriterOutput
pm_log_writer (GLogLevelFlags   log_level,
               const GLogField *fields,
               gsize            n_fields,
               gpointer         user_data)
{
  const char *domain = NULL;

  for (gsize i = 0; i < n_fields; i++)
    if (g_strcmp0 (fields[i].key, "GLIB_DOMAIN") == 0)
      domain = fields[i].value;

  if (g_log_writer_default_would_drop (log_level, domain))
    return G_LOG_WRITER_HANDLED;

  if (g_log_writer_is_journald (fileno (stderr)))
    {
      if (g_log_writer_journald (log_level, fields, n_fields, user_data) == G_LOG_WRITER_HANDLED)
        return G_LOG_WRITER_HANDLED;
    }

  return g_log_writer_standard_streams (log_level, fields, n_fields, user_data);
}

void
pm_log_init (void)
{
  static gsize initialised;

  if (g_once_init_enter (&initialised))
    {
      g_log_set_writer_func (pm_log_writer, NULL, NULL);
      g_once_init_leave (&initialised, 1);
    }
}
