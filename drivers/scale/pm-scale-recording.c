/* pm-scale-recording.c: parsing scale recordings */
#include "pm-scale-recording.h"

#include <string.h>

struct _PmScaleRecording
{
  PmScaleProtocol protocol;
  gboolean        has_unit;
  PmWeightUnit    unit;
  gboolean        loop;
  GArray         *steps;      /* PmScaleRecordingStep, bytes owned */
};

static void
recording_clear (gpointer data)
{
  PmScaleRecording *recording = data;

  for (guint i = 0; recording->steps != NULL && i < recording->steps->len; i++)
    g_bytes_unref (g_array_index (recording->steps, PmScaleRecordingStep, i).bytes);
  g_clear_pointer (&recording->steps, g_array_unref);
}

PmScaleRecording *
pm_scale_recording_ref (PmScaleRecording *recording)
{
  return g_atomic_rc_box_acquire (recording);
}

void
pm_scale_recording_unref (PmScaleRecording *recording)
{
  g_atomic_rc_box_release_full (recording, recording_clear);
}

static gboolean
fail (GError    **error,
      guint       line,
      const char *what)
{
  g_set_error (error, PM_SCALE_ERROR, PM_SCALE_ERROR_INVALID_SETTINGS,
               "The scale recording cannot be replayed: line %u: %s", line, what);
  return FALSE;
}

static int
hex_value (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

static gboolean
parse_hex_bytes (const char  *text,
                 GByteArray  *out)
{
  const char *p = text;

  while (*p != '\0')
    {
      int hi, lo;
      guint8 byte;

      if (*p == ' ' || *p == '\t')
        {
          p++;
          continue;
        }
      hi = hex_value (p[0]);
      lo = hi >= 0 ? hex_value (p[1]) : -1;
      if (hi < 0 || lo < 0)
        return FALSE;
      byte = (guint8) (hi << 4 | lo);
      g_byte_array_append (out, &byte, 1);
      p += 2;
    }

  return TRUE;
}

static gboolean
parse_quoted_bytes (const char  *text,
                    GByteArray  *out)
{
  const char *p = text + 1;   /* after the opening quote */

  while (*p != '"')
    {
      guint8 byte;

      if (*p == '\0')
        return FALSE;
      if (*p != '\\')
        {
          byte = (guint8) *p++;
          g_byte_array_append (out, &byte, 1);
          continue;
        }

      p++;
      switch (*p)
        {
        case 'r': byte = '\r'; p++; break;
        case 'n': byte = '\n'; p++; break;
        case 't': byte = '\t'; p++; break;
        case '\\': byte = '\\'; p++; break;
        case '"': byte = '"'; p++; break;
        case 'x':
          {
            int hi = hex_value (p[1]);
            int lo = hi >= 0 ? hex_value (p[2]) : -1;

            if (hi < 0 || lo < 0)
              return FALSE;
            byte = (guint8) (hi << 4 | lo);
            p += 3;
          }
          break;
        default:
          return FALSE;
        }
      g_byte_array_append (out, &byte, 1);
    }

  /* Nothing but blanks after the closing quote. */
  for (p++; *p != '\0'; p++)
    if (*p != ' ' && *p != '\t')
      return FALSE;

  return TRUE;
}

static gboolean
parse_step (PmScaleRecording *recording,
            char             *line,
            guint             number,
            GError          **error)
{
  g_autoptr(GByteArray) bytes = g_byte_array_new ();
  PmScaleRecordingStep step;
  guint64 delay = 0;
  char *p = line + 1;
  int digits = 0;

  while (g_ascii_isdigit (*p))
    {
      delay = delay * 10 + (guint64) (*p - '0');
      if (++digits > 7)
        break;
      p++;
    }
  if (digits == 0 || delay > PM_SCALE_RECORDING_MAX_STEP_MS)
    return fail (error, number, "the delay must be 0 to 600000 milliseconds");
  if (*p != ' ' && *p != '\t')
    return fail (error, number, "a blank must follow the delay");
  while (*p == ' ' || *p == '\t')
    p++;

  if (*p == '"' ? !parse_quoted_bytes (p, bytes) : !parse_hex_bytes (p, bytes))
    return fail (error, number, "the bytes must be hexadecimal pairs or a quoted string");
  if (bytes->len == 0 || bytes->len > PM_SCALE_RECORDING_MAX_STEP_LEN)
    return fail (error, number, "a step carries 1 to 256 bytes");

  step.delay_ms = (guint) delay;
  step.bytes = g_byte_array_free_to_bytes (g_steal_pointer (&bytes));
  g_array_append_val (recording->steps, step);

  return TRUE;
}

/* A comment runs from '#' to the end of the line, except inside a quoted step. */
static void
strip_comment (char *line)
{
  gboolean quoted = FALSE;

  for (char *p = line; *p != '\0'; p++)
    {
      if (quoted && *p == '\\' && p[1] != '\0')
        p++;
      else if (*p == '"')
        quoted = !quoted;
      else if (*p == '#' && !quoted)
        {
          *p = '\0';
          return;
        }
    }
}

PmScaleRecording *
pm_scale_recording_parse (const char  *text,
                          gsize        length,
                          GError     **error)
{
  g_autoptr(PmScaleRecording) recording = NULL;
  g_auto(GStrv) lines = NULL;
  g_autofree char *copy = NULL;
  gboolean have_protocol = FALSE;

  g_return_val_if_fail (text != NULL || length == 0, NULL);

  if (length > PM_SCALE_RECORDING_MAX_SIZE)
    {
      g_set_error (error, PM_SCALE_ERROR, PM_SCALE_ERROR_INVALID_SETTINGS,
                   "The scale recording is larger than 1 MiB; it cannot be a recording");
      return NULL;
    }
  if (length > 0 && memchr (text, '\0', length) != NULL)
    {
      g_set_error (error, PM_SCALE_ERROR, PM_SCALE_ERROR_INVALID_SETTINGS,
                   "The scale recording is not a text file");
      return NULL;
    }

  recording = g_atomic_rc_box_new0 (PmScaleRecording);
  recording->steps = g_array_new (FALSE, FALSE, sizeof (PmScaleRecordingStep));

  copy = g_strndup (text, length);
  lines = g_strsplit (copy, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *line = lines[i];
      guint number = i + 1;

      strip_comment (line);
      g_strstrip (line);
      if (*line == '\0')
        continue;

      if (!have_protocol)
        {
          if (!g_str_has_prefix (line, "protocol ")
              || !pm_scale_protocol_from_string (g_strstrip (line + 9),
                                                 &recording->protocol))
            {
              fail (error, number, "the recording must start with \"protocol hid\", "
                                   "\"protocol nci\", \"protocol nci-scp02\", "
                                   "\"protocol mettler-8217\" or \"protocol sics\"");
              return NULL;
            }
          have_protocol = TRUE;
        }
      else if (line[0] == '+')
        {
          if (recording->loop)
            {
              fail (error, number, "no step may follow \"loop\"");
              return NULL;
            }
          if (!parse_step (recording, line, number, error))
            return NULL;
        }
      else if (g_str_has_prefix (line, "unit "))
        {
          const char *unit = g_strstrip (line + 5);

          if (!pm_scale_parse_unit (unit, strlen (unit), &recording->unit))
            {
              fail (error, number, "the unit must be g, kg, mg, oz or lb");
              return NULL;
            }
          recording->has_unit = TRUE;
        }
      else if (strcmp (line, "loop") == 0)
        {
          recording->loop = TRUE;
        }
      else
        {
          fail (error, number, "expected a step (+milliseconds bytes), \"unit\" or "
                               "\"loop\"");
          return NULL;
        }
    }

  if (!have_protocol)
    {
      g_set_error (error, PM_SCALE_ERROR, PM_SCALE_ERROR_INVALID_SETTINGS,
                   "The scale recording is empty");
      return NULL;
    }
  if (recording->steps->len == 0)
    {
      g_set_error (error, PM_SCALE_ERROR, PM_SCALE_ERROR_INVALID_SETTINGS,
                   "The scale recording has no steps to replay");
      return NULL;
    }
  /* A loop of zero-length steps would spin the replay thread. */
  if (recording->loop)
    {
      guint64 total = 0;

      for (guint i = 0; i < recording->steps->len; i++)
        total += g_array_index (recording->steps, PmScaleRecordingStep, i).delay_ms;
      if (total == 0)
        {
          g_set_error (error, PM_SCALE_ERROR, PM_SCALE_ERROR_INVALID_SETTINGS,
                       "The scale recording loops without any delay between its steps");
          return NULL;
        }
    }

  return g_steal_pointer (&recording);
}

PmScaleRecording *
pm_scale_recording_load (const char  *path,
                         GError     **error)
{
  g_autoptr(GMappedFile) file = NULL;
  g_autoptr(GError) local_error = NULL;

  g_return_val_if_fail (path != NULL, NULL);

  file = g_mapped_file_new (path, FALSE, &local_error);
  if (file == NULL)
    {
      g_set_error (error, PM_SCALE_ERROR, PM_SCALE_ERROR_INVALID_SETTINGS,
                   "The scale recording %s cannot be read: %s", path,
                   local_error->message);
      return NULL;
    }

  return pm_scale_recording_parse (g_mapped_file_get_contents (file),
                                   g_mapped_file_get_length (file), error);
}

PmScaleProtocol
pm_scale_recording_get_protocol (PmScaleRecording *recording)
{
  return recording->protocol;
}

gboolean
pm_scale_recording_get_unit (PmScaleRecording *recording,
                             PmWeightUnit     *out_unit)
{
  if (recording->has_unit && out_unit != NULL)
    *out_unit = recording->unit;
  return recording->has_unit;
}

gboolean
pm_scale_recording_get_loop (PmScaleRecording *recording)
{
  return recording->loop;
}

guint
pm_scale_recording_get_n_steps (PmScaleRecording *recording)
{
  return recording->steps->len;
}

const PmScaleRecordingStep *
pm_scale_recording_get_step (PmScaleRecording *recording,
                             guint             index)
{
  g_return_val_if_fail (index < recording->steps->len, NULL);

  return &g_array_index (recording->steps, PmScaleRecordingStep, index);
}
