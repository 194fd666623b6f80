/* pm-log.c
 *
 * One structured log writer for every program. Each component logs under its own domain
 * (postmeter-store, postmeter-psd, ...). When stderr is connected to the journal the records
 * go there with their fields; otherwise to the standard streams. Debug messages follow
 * G_MESSAGES_DEBUG as usual.
 *
 * The writer runs on whichever thread logs, so the ring of recent faults is guarded by a
 * lock of its own; nothing is done under it but copying.
 */
#include "pm-log.h"

#include <stdio.h>
#include <string.h>

G_DEFINE_QUARK (pm-log-error-quark, pm_log_error)

#define KEPT_LEVELS (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING)
#define HEADER      "#postmeter-error-log 1 dropped="

/* ---- records ------------------------------------------------------------------------ */

/* The level a record keeps: the most severe of those set. */
static GLogLevelFlags
normal_level (GLogLevelFlags level)
{
  if (level & G_LOG_LEVEL_ERROR)
    return G_LOG_LEVEL_ERROR;
  if (level & G_LOG_LEVEL_CRITICAL)
    return G_LOG_LEVEL_CRITICAL;
  if (level & G_LOG_LEVEL_WARNING)
    return G_LOG_LEVEL_WARNING;
  return 0;
}

const char *
pm_log_level_to_string (GLogLevelFlags level)
{
  switch (normal_level (level))
    {
    case G_LOG_LEVEL_ERROR:
      return "ERROR";
    case G_LOG_LEVEL_CRITICAL:
      return "CRITICAL";
    case G_LOG_LEVEL_WARNING:
      return "WARNING";
    default:
      return NULL;
    }
}

/* Valid UTF-8, at most PM_LOG_MESSAGE_MAX_BYTES, cut at a character boundary. */
static char *
bounded_message (const char *message)
{
  g_autofree char *valid = g_utf8_make_valid (message != NULL ? message : "", -1);
  const char *ellipsis = "…";
  gsize limit = PM_LOG_MESSAGE_MAX_BYTES - strlen (ellipsis);
  const char *end;

  if (strlen (valid) <= PM_LOG_MESSAGE_MAX_BYTES)
    return g_steal_pointer (&valid);

  /* The start of the character that would cross the limit is where the cut goes. */
  end = g_utf8_find_prev_char (valid, valid + limit + 1);
  valid[end - valid] = '\0';
  return g_strconcat (valid, ellipsis, NULL);
}

PmLogRecord *
pm_log_record_new (gint64          time_us,
                   GLogLevelFlags  level,
                   const char     *domain,
                   const char     *message)
{
  PmLogRecord *record = g_new0 (PmLogRecord, 1);

  record->time_us = time_us;
  record->level = normal_level (level);
  record->domain = g_strdup (domain);
  record->message = bounded_message (message);
  return record;
}

void
pm_log_record_free (PmLogRecord *record)
{
  if (record == NULL)
    return;
  g_free (record->domain);
  g_free (record->message);
  g_free (record);
}

static PmLogRecord *
record_copy (const PmLogRecord *record)
{
  PmLogRecord *copy = g_new0 (PmLogRecord, 1);

  copy->time_us = record->time_us;
  copy->level = record->level;
  copy->domain = g_strdup (record->domain);
  copy->message = g_strdup (record->message);
  return copy;
}

/* ---- the ring ----------------------------------------------------------------------- */

/* All guarded by ring_lock. ring_slots holds ring_capacity pointers; the oldest record is
 * at ring_first, and ring_length records follow it, wrapping around. */
static GMutex        ring_lock;
static PmLogRecord **ring_slots;
static guint         ring_capacity = PM_LOG_RING_DEFAULT_CAPACITY;
static guint         ring_first;
static guint         ring_length;
static guint64       ring_dropped;

static void
drop_oldest_locked (void)
{
  g_clear_pointer (&ring_slots[ring_first], pm_log_record_free);
  ring_first = (ring_first + 1) % ring_capacity;
  ring_length--;
  ring_dropped++;
}

void
pm_log_ring_add (GLogLevelFlags  level,
                 const char     *domain,
                 const char     *message)
{
  PmLogRecord *record;

  if ((level & KEPT_LEVELS) == 0)
    return;

  /* Made outside the lock: the lock only guards the slots. */
  record = pm_log_record_new (g_get_real_time (), level, domain, message);

  g_mutex_lock (&ring_lock);
  if (ring_capacity == 0)
    {
      ring_dropped++;
      g_mutex_unlock (&ring_lock);
      pm_log_record_free (record);
      return;
    }
  if (ring_slots == NULL)
    ring_slots = g_new0 (PmLogRecord *, ring_capacity);
  if (ring_length == ring_capacity)
    drop_oldest_locked ();
  ring_slots[(ring_first + ring_length) % ring_capacity] = record;
  ring_length++;
  g_mutex_unlock (&ring_lock);
}

void
pm_log_ring_set_capacity (guint new_capacity)
{
  PmLogRecord **new_slots;

  g_return_if_fail (new_capacity <= PM_LOG_MAX_RECORDS);

  g_mutex_lock (&ring_lock);
  while (ring_length > new_capacity)
    drop_oldest_locked ();
  new_slots = new_capacity > 0 ? g_new0 (PmLogRecord *, new_capacity) : NULL;
  for (guint i = 0; i < ring_length; i++)
    new_slots[i] = ring_slots[(ring_first + i) % ring_capacity];
  g_free (ring_slots);
  ring_slots = new_slots;
  ring_capacity = new_capacity;
  ring_first = 0;
  g_mutex_unlock (&ring_lock);
}

guint
pm_log_ring_get_capacity (void)
{
  guint value;

  g_mutex_lock (&ring_lock);
  value = ring_capacity;
  g_mutex_unlock (&ring_lock);
  return value;
}

void
pm_log_ring_clear (void)
{
  g_mutex_lock (&ring_lock);
  while (ring_length > 0)
    drop_oldest_locked ();
  ring_first = 0;
  ring_dropped = 0;
  g_mutex_unlock (&ring_lock);
}

GPtrArray *
pm_log_ring_snapshot (guint64 *out_dropped)
{
  GPtrArray *records;

  g_mutex_lock (&ring_lock);
  records = g_ptr_array_new_full (ring_length, (GDestroyNotify) pm_log_record_free);
  for (guint i = 0; i < ring_length; i++)
    g_ptr_array_add (records, record_copy (ring_slots[(ring_first + i) % ring_capacity]));
  if (out_dropped != NULL)
    *out_dropped = ring_dropped;
  g_mutex_unlock (&ring_lock);
  return records;
}

/* ---- the writer --------------------------------------------------------------------- */

GLogWriterOutput
pm_log_writer (GLogLevelFlags   log_level,
               const GLogField *fields,
               gsize            n_fields,
               gpointer         user_data)
{
  const char *domain = NULL;

  for (gsize i = 0; i < n_fields; i++)
    if (g_strcmp0 (fields[i].key, "GLIB_DOMAIN") == 0)
      domain = fields[i].value;

  if ((log_level & KEPT_LEVELS) != 0)
    {
      g_autofree char *message = NULL;

      for (gsize i = 0; i < n_fields && message == NULL; i++)
        if (g_strcmp0 (fields[i].key, "MESSAGE") == 0 && fields[i].value != NULL)
          message = fields[i].length < 0 ? g_strdup (fields[i].value)
                                         : g_strndup (fields[i].value, fields[i].length);
      pm_log_ring_add (log_level, domain, message);
    }

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

/* ---- the text form ------------------------------------------------------------------ */

static void
append_escaped (GString    *out,
                const char *message)
{
  for (const char *p = message; *p != '\0'; p++)
    {
      guchar c = (guchar) *p;

      if (c == '\\')
        g_string_append (out, "\\\\");
      else if (c == '\n')
        g_string_append (out, "\\n");
      else if (c < 0x20 || c == 0x7f)
        g_string_append_printf (out, "\\x%02x", c);
      else
        g_string_append_c (out, (char) c);
    }
}

static char *
format_time (gint64 time_us)
{
  g_autoptr(GDateTime) when = g_date_time_new_from_unix_utc (time_us / G_USEC_PER_SEC);
  g_autofree char *seconds = when != NULL ? g_date_time_format (when, "%Y-%m-%dT%H:%M:%S")
                                          : g_strdup ("1970-01-01T00:00:00");

  return g_strdup_printf ("%s.%06dZ", seconds, (int) (time_us % G_USEC_PER_SEC));
}

GBytes *
pm_log_records_to_text (GPtrArray *records,
                        guint64    dropped_before)
{
  GString *out = g_string_new (NULL);

  g_return_val_if_fail (records != NULL, NULL);

  g_string_append_printf (out, HEADER "%" G_GUINT64_FORMAT "\n", dropped_before);
  for (guint i = 0; i < records->len; i++)
    {
      const PmLogRecord *record = g_ptr_array_index (records, i);
      g_autofree char *when = format_time (MAX (record->time_us, 0));

      g_string_append_printf (out, "%s %s %s: ", when,
                              pm_log_level_to_string (record->level),
                              record->domain != NULL && *record->domain != '\0'
                                ? record->domain : "-");
      append_escaped (out, record->message);
      g_string_append_c (out, '\n');
    }
  return g_string_free_to_bytes (out);
}

static gpointer
malformed (GError    **error,
           guint       line,
           const char *what)
{
  g_set_error (error, PM_LOG_ERROR, PM_LOG_ERROR_MALFORMED,
               "The error log is malformed at line %u: %s", line, what);
  return NULL;
}

/* The strict time form: exactly what format_time () writes. */
static gboolean
parse_time (const char *text,
            gint64     *out_us)
{
  g_autoptr(GDateTime) when = NULL;
  g_autofree char *again = NULL;
  gint64 us;

  if (strlen (text) != 27 || text[26] != 'Z')
    return FALSE;
  when = g_date_time_new_from_iso8601 (text, NULL);
  if (when == NULL)
    return FALSE;
  us = g_date_time_to_unix (when) * G_USEC_PER_SEC + g_date_time_get_microsecond (when);
  if (us < 0)
    return FALSE;
  again = format_time (us);
  if (strcmp (again, text) != 0)
    return FALSE;
  *out_us = us;
  return TRUE;
}

static gboolean
valid_domain (const char *domain)
{
  gsize length = strlen (domain);

  if (length == 0 || length > 64)
    return FALSE;
  for (const char *p = domain; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_' && *p != '.')
      return FALSE;
  return TRUE;
}

static char *
unescape (const char *text)
{
  GString *out = g_string_new (NULL);

  for (const char *p = text; *p != '\0'; p++)
    {
      if ((guchar) *p < 0x20 || *p == 0x7f)
        goto bad;
      if (*p != '\\')
        {
          g_string_append_c (out, *p);
          continue;
        }
      p++;
      if (*p == '\\')
        g_string_append_c (out, '\\');
      else if (*p == 'n')
        g_string_append_c (out, '\n');
      else if (*p == 'x' && g_ascii_isxdigit (p[1]) && g_ascii_isxdigit (p[2]))
        {
          int value = g_ascii_xdigit_value (p[1]) * 16 + g_ascii_xdigit_value (p[2]);

          /* Only what the writer escapes this way may come escaped. */
          if (value >= 0x20 && value != 0x7f)
            goto bad;
          g_string_append_c (out, (char) value);
          p += 2;
        }
      else
        goto bad;
    }
  return g_string_free (out, FALSE);

bad:
  g_string_free (out, TRUE);
  return NULL;
}

GPtrArray *
pm_log_records_parse (GBytes   *text,
                      guint64  *out_dropped,
                      GError  **error)
{
  g_autoptr(GPtrArray) records = g_ptr_array_new_with_free_func (
                                   (GDestroyNotify) pm_log_record_free);
  g_auto(GStrv) lines = NULL;
  g_autofree char *copy = NULL;
  const char *data;
  gsize size;
  guint64 dropped_before;
  guint n_lines;

  g_return_val_if_fail (text != NULL, NULL);

  data = g_bytes_get_data (text, &size);
  /* A full log is at most this, every byte escaped to four. */
  if (size > (gsize) (PM_LOG_MAX_RECORDS + 1) * (64 + 4 * PM_LOG_MESSAGE_MAX_BYTES))
    {
      g_set_error (error, PM_LOG_ERROR, PM_LOG_ERROR_TOO_LARGE,
                   "The error log is %" G_GSIZE_FORMAT " bytes, more than any may be", size);
      return NULL;
    }
  if (size == 0 || memchr (data, '\0', size) != NULL || !g_utf8_validate (data, size, NULL))
    {
      g_set_error (error, PM_LOG_ERROR, PM_LOG_ERROR_MALFORMED,
                   "The error log is empty or not UTF-8 text");
      return NULL;
    }
  if (data[size - 1] != '\n')
    {
      g_set_error (error, PM_LOG_ERROR, PM_LOG_ERROR_MALFORMED,
                   "The error log does not end with a line break; it may be cut short");
      return NULL;
    }

  copy = g_strndup (data, size - 1);
  lines = g_strsplit (copy, "\n", -1);
  n_lines = g_strv_length (lines);
  if (n_lines - 1 > PM_LOG_MAX_RECORDS)
    {
      g_set_error (error, PM_LOG_ERROR, PM_LOG_ERROR_TOO_LARGE,
                   "The error log holds %u records, more than the %u allowed", n_lines - 1,
                   PM_LOG_MAX_RECORDS);
      return NULL;
    }

  if (!g_str_has_prefix (lines[0], HEADER) ||
      !g_ascii_string_to_unsigned (lines[0] + strlen (HEADER), 10, 0, G_MAXUINT64,
                                   &dropped_before, NULL))
    {
      return malformed (error, 1, "it does not start with “" HEADER "N”");
    }

  for (guint i = 1; i < n_lines; i++)
    {
      g_auto(GStrv) parts = g_strsplit (lines[i], " ", 4);
      g_autofree char *message = NULL;
      GLogLevelFlags level = 0;
      const char *domain;
      gsize domain_length;
      gint64 time_us = 0;

      if (g_strv_length (parts) != 4)
        return malformed (error, i + 1, "it is not “TIME LEVEL DOMAIN: MESSAGE”");
      if (!parse_time (parts[0], &time_us))
        return malformed (error, i + 1, "the time is not YYYY-MM-DDTHH:MM:SS.ffffffZ");
      for (GLogLevelFlags l = G_LOG_LEVEL_ERROR; l <= G_LOG_LEVEL_WARNING; l <<= 1)
        if (g_strcmp0 (parts[1], pm_log_level_to_string (l)) == 0)
          level = l;
      if (level == 0)
        return malformed (error, i + 1, "the level is not WARNING, CRITICAL or ERROR");
      domain = parts[2];
      domain_length = strlen (domain);
      if (domain_length < 2 || domain[domain_length - 1] != ':')
        return malformed (error, i + 1, "the domain does not end with “:”");
      parts[2][domain_length - 1] = '\0';
      if (strcmp (domain, "-") != 0 && !valid_domain (domain))
        return malformed (error, i + 1, "the domain is not a log domain");
      message = unescape (parts[3]);
      if (message == NULL)
        return malformed (error, i + 1, "the message has a bad escape or control "
                                        "character");
      if (strlen (message) > PM_LOG_MESSAGE_MAX_BYTES)
        return malformed (error, i + 1, "the message is longer than any kept");

      g_ptr_array_add (records, pm_log_record_new (time_us, level,
                                                   strcmp (domain, "-") == 0 ? NULL : domain,
                                                   message));
    }

  if (out_dropped != NULL)
    *out_dropped = dropped_before;
  return g_steal_pointer (&records);
}
