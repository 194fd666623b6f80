/* pm-zone-chart.c: zone tables by origin, their data files and the CSV importer
 *
 * Each origin is a table of 1000 zones indexed by destination 3-digit ZIP, with the
 * chart's marks beside each, and a sorted list of 5-digit exceptions. Readers are strict:
 * a line that does not read refuses the whole file or CSV and nothing changes, because a
 * zone quietly taken from a half-read chart would misprice postage.
 */
#include "pm-zone-chart.h"

#include <string.h>

#include "pm-address.h"
#include "pm-package.h"

G_DEFINE_QUARK (pm-zone-chart-error-quark, pm_zone_chart_error)

#define N_ZIP3 1000
#define DATA_FORMAT "1"
#define CSV_HEADER "origin_zip,dest_zip_start,dest_zip_end,zone,modifier_1,modifier_2"

/* Marks kept beside each destination's zone. */
enum
{
  MARK_SAME_NDC = 1 << 0,     /* "*" */
  MARK_EXCEPTIONS = 1 << 1,   /* "+": USPS lists 5-digit exceptions in the range */
  MARK_HAS_LOADED = 1 << 2,   /* this chart holds exceptions for the 3-digit ZIP */
};

typedef struct
{
  guint32 start;           /* 5-digit ZIP as a number, inclusive */
  guint32 end;
  guint8  zone;
  gint8   mail_class;      /* PmMailClass, or -1 for every class */
} Exception;

typedef struct
{
  char     origin[4];
  guint8   zones[N_ZIP3];  /* 0 where the chart has no zone */
  guint8   marks[N_ZIP3];
  char    *published;
  char    *source;
  gboolean current;
  gboolean exceptions_included;
  GArray  *exceptions;     /* Exception, by start ascending */
} Origin;

struct _PmZoneChart
{
  gint    ref_count;
  Origin *origins[N_ZIP3];  /* owned; NULL where not loaded */
};

static void
origin_free (Origin *origin)
{
  if (origin == NULL)
    return;
  g_free (origin->published);
  g_free (origin->source);
  g_clear_pointer (&origin->exceptions, g_array_unref);
  g_free (origin);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Origin, origin_free)

static Origin *
origin_new (guint zip3)
{
  Origin *origin = g_new0 (Origin, 1);

  g_snprintf (origin->origin, sizeof origin->origin, "%03u", zip3);
  origin->exceptions = g_array_new (FALSE, FALSE, sizeof (Exception));
  return origin;
}

PmZoneChart *
pm_zone_chart_new (void)
{
  PmZoneChart *self = g_new0 (PmZoneChart, 1);

  self->ref_count = 1;
  return self;
}

PmZoneChart *
pm_zone_chart_ref (PmZoneChart *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_int_inc (&self->ref_count);
  return self;
}

void
pm_zone_chart_unref (PmZoneChart *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_int_dec_and_test (&self->ref_count))
    return;
  for (guint i = 0; i < N_ZIP3; i++)
    origin_free (self->origins[i]);
  g_free (self);
}

/* ---- small parsers ---- */

/* Exactly n ASCII digits, as a number; -1 otherwise. */
static gint64
parse_digits (const char *text,
              gsize       length,
              gsize       n)
{
  gint64 value = 0;

  if (length != n)
    return -1;
  for (gsize i = 0; i < n; i++)
    {
      if (!g_ascii_isdigit (text[i]))
        return -1;
      value = value * 10 + (text[i] - '0');
    }
  return value;
}

static gint
parse_zip3 (const char *text)
{
  return text != NULL ? (gint) parse_digits (text, strlen (text), 3) : -1;
}

/* "2018-06" or "2018-06-01". */
static gboolean
published_is_valid (const char *text)
{
  gsize length = text != NULL ? strlen (text) : 0;
  gint64 year, month, day = 1;

  if (length != 7 && length != 10)
    return FALSE;
  year = parse_digits (text, 4, 4);
  month = text[4] == '-' ? parse_digits (text + 5, 2, 2) : -1;
  if (length == 10)
    day = text[7] == '-' ? parse_digits (text + 8, 2, 2) : -1;
  return year >= 1900 && month >= 1 && month <= 12 && day >= 1
         && g_date_valid_dmy ((GDateDay) day, (GDateMonth) month, (GDateYear) year);
}

/* A line of text: no control characters but tab, valid UTF-8, not too long. */
static gboolean
check_line (const char *line,
            gsize       length,
            guint       number,
            GError    **error)
{
  if (length > PM_ZONE_CHART_MAX_LINE)
    {
      g_set_error (error, PM_ZONE_CHART_ERROR, PM_ZONE_CHART_ERROR_MALFORMED,
                   "line %u: longer than %u characters", number, PM_ZONE_CHART_MAX_LINE);
      return FALSE;
    }
  for (gsize i = 0; i < length; i++)
    if ((guchar) line[i] < 0x20 && line[i] != '\t')
      {
        g_set_error (error, PM_ZONE_CHART_ERROR, PM_ZONE_CHART_ERROR_MALFORMED,
                     "line %u: a control character (byte 0x%02x) at column %" G_GSIZE_FORMAT,
                     number, (guchar) line[i], i + 1);
        return FALSE;
      }
  if (!g_utf8_validate_len (line, length, NULL))
    {
      g_set_error (error, PM_ZONE_CHART_ERROR, PM_ZONE_CHART_ERROR_MALFORMED,
                   "line %u: not valid UTF-8", number);
      return FALSE;
    }
  return TRUE;
}

/* Calls func on each line (without its LF or CRLF) of data; stops at the first error. */
typedef gboolean (*LineFunc) (const char *line,
                              gsize       length,
                              guint       number,
                              gpointer    user_data,
                              GError    **error);

static gboolean
for_each_line (const char *data,
               gsize       length,
               LineFunc    func,
               gpointer    user_data,
               GError    **error)
{
  gsize pos = 0;
  guint number = 0;

  if (length > PM_ZONE_CHART_MAX_BYTES)
    {
      g_set_error (error, PM_ZONE_CHART_ERROR, PM_ZONE_CHART_ERROR_MALFORMED,
                   "the file is larger than a zone chart can be (%u MiB)",
                   PM_ZONE_CHART_MAX_BYTES / (1024 * 1024));
      return FALSE;
    }
  /* A byte order mark from a spreadsheet is not part of the first line. */
  if (length >= 3 && memcmp (data, "\xef\xbb\xbf", 3) == 0)
    pos = 3;

  while (pos < length)
    {
      const char *line = data + pos;
      const char *newline = memchr (line, '\n', length - pos);
      gsize line_length = newline != NULL ? (gsize) (newline - line) : length - pos;

      pos += line_length + (newline != NULL ? 1 : 0);
      number++;
      if (line_length > 0 && line[line_length - 1] == '\r')
        line_length--;
      if (!check_line (line, line_length, number, error)
          || !func (line, line_length, number, user_data, error))
        return FALSE;
    }
  return TRUE;
}

/* Splits a line at blanks (data files) into at most max fields; n_fields gets the count,
 * or max + 1 if there were more. */
static guint
split_blanks (const char *line,
              gsize       length,
              const char *fields[],
              gsize       lengths[],
              guint       max)
{
  guint n = 0;
  gsize i = 0;

  while (i < length)
    {
      gsize start;

      while (i < length && (line[i] == ' ' || line[i] == '\t'))
        i++;
      if (i == length)
        break;
      start = i;
      while (i < length && line[i] != ' ' && line[i] != '\t')
        i++;
      if (n == max)
        return max + 1;
      fields[n] = line + start;
      lengths[n] = i - start;
      n++;
    }
  return n;
}

/* Sets a range of destinations in an origin's table, refusing overlaps. */
static gboolean
set_range (Origin  *origin,
           guint    start,
           guint    end,
           guint    zone,
           guint    marks,
           guint    number,
           GError **error)
{
  for (guint d = start; d <= end; d++)
    if (origin->zones[d] != 0)
      {
        g_set_error (error, PM_ZONE_CHART_ERROR, PM_ZONE_CHART_ERROR_CONFLICT,
                     "line %u: origin %s, destination %03u is already in zone %u; ranges "
                     "may not overlap", number, origin->origin, d, origin->zones[d]);
        return FALSE;
      }
  for (guint d = start; d <= end; d++)
    {
      origin->zones[d] = (guint8) zone;
      origin->marks[d] = (guint8) ((origin->marks[d] & MARK_HAS_LOADED) | marks);
    }
  return TRUE;
}

static gint
compare_exceptions (gconstpointer a,
                    gconstpointer b)
{
  const Exception *ea = a;
  const Exception *eb = b;

  if (ea->start != eb->start)
    return ea->start < eb->start ? -1 : 1;
  return (ea->mail_class > eb->mail_class) - (ea->mail_class < eb->mail_class);
}

static gboolean
add_exception (Origin           *origin,
               const Exception  *exception,
               guint             number,
               GError          **error)
{
  for (guint i = 0; i < origin->exceptions->len; i++)
    {
      const Exception *other = &g_array_index (origin->exceptions, Exception, i);

      /* One exception for every class and one for a single class may cover the same
       * ZIP Codes (the class's wins); two of the same scope may not. */
      if (other->mail_class == exception->mail_class && other->start <= exception->end
          && exception->start <= other->end)
        {
          g_set_error (error, PM_ZONE_CHART_ERROR, PM_ZONE_CHART_ERROR_CONFLICT,
                       "line %u: origin %s, the exception for %05u to %05u overlaps the one "
                       "for %05u to %05u", number, origin->origin, exception->start,
                       exception->end, other->start, other->end);
          return FALSE;
        }
    }
  g_array_append_val (origin->exceptions, *exception);
  g_array_sort (origin->exceptions, compare_exceptions);
  for (guint d = exception->start / 100; d <= exception->end / 100; d++)
    origin->marks[d] |= MARK_HAS_LOADED;
  return TRUE;
}

/* ---- data files ---- */

typedef struct
{
  Origin   *origin;
  gboolean  has_format;
  gboolean  has_published;
  gboolean  has_current;
  gboolean  has_exceptions;
  gboolean  in_body;
} DataReader;

static gboolean
data_header (DataReader *reader,
             const char *line,
             gsize       length,
             guint       number,
             GError    **error)
{
  const char *colon = memchr (line, ':', length);
  g_autofree char *name = NULL;
  g_autofree char *value = NULL;

  if (colon == NULL)
    {
      g_set_error (error, PM_ZONE_CHART_ERROR, PM_ZONE_CHART_ERROR_MALFORMED,
                   "line %u: expected a “Field: value” header line", number);
      return FALSE;
    }
  name = g_strndup (line, colon - line);
  value = g_strstrip (g_strndup (colon + 1, length - (colon + 1 - line)));

  if (!reader->has_format)
    {
      if (strcmp (name, "Postmeter-Zone-Chart") != 0 || strcmp (value, DATA_FORMAT) != 0)
        {
          g_set_error (error, PM_ZONE_CHART_ERROR, PM_ZONE_CHART_ERROR_MALFORMED,
                       "line %u: not a Postmeter zone chart (format %s) file", number,
                       DATA_FORMAT);
          return FALSE;
        }
      reader->has_format = TRUE;
      return TRUE;
    }

  if (strcmp (name, "Origin") == 0 && reader->origin == NULL)
    {
      gint zip3 = parse_zip3 (value);

      if (zip3 < 0)
        goto bad_value;
      reader->origin = origin_new ((guint) zip3);
    }
  else if (reader->origin == NULL)
    {
      g_set_error (error, PM_ZONE_CHART_ERROR, PM_ZONE_CHART_ERROR_MALFORMED,
                   "line %u: the Origin line must come first", number);
      return FALSE;
    }
  else if (strcmp (name, "Published") == 0 && !reader->has_published)
    {
      if (!published_is_valid (value))
        goto bad_value;
      reader->origin->published = g_steal_pointer (&value);
      reader->has_published = TRUE;
    }
  else if (strcmp (name, "Current") == 0 && !reader->has_current)
    {
      if (strcmp (value, "yes") != 0 && strcmp (value, "no") != 0)
        goto bad_value;
      reader->origin->current = strcmp (value, "yes") == 0;
      reader->has_current = TRUE;
    }
  else if (strcmp (name, "Exceptions") == 0 && !reader->has_exceptions)
    {
      if (strcmp (value, "included") != 0 && strcmp (value, "not-included") != 0)
        goto bad_value;
      reader->origin->exceptions_included = strcmp (value, "included") == 0;
      reader->has_exceptions = TRUE;
    }
  else if (strcmp (name, "Source") == 0 && reader->origin->source == NULL)
    {
      if (*value == '\0')
        goto bad_value;
      reader->origin->source = g_steal_pointer (&value);
    }
  else
    {
      g_set_error (error, PM_ZONE_CHART_ERROR, PM_ZONE_CHART_ERROR_MALFORMED,
                   "line %u: unknown or repeated header “%s”", number, name);
      return FALSE;
    }
  return TRUE;

bad_value:
  g_set_error (error, PM_ZONE_CHART_ERROR, PM_ZONE_CHART_ERROR_MALFORMED,
               "line %u: “%s” is not a valid %s", number, value, name);
  return FALSE;
}

static gboolean
data_line_cb (const char *line,
              gsize       length,
              guint       number,
              gpointer    user_data,
              GError    **error)
{
  DataReader *reader = user_data;
  const char *fields[4];
  gsize lengths[4];
  guint n;
  gint64 zone;

  if (length == 0 || line[0] == '#')
    return TRUE;
  if (!reader->in_body)
    {
      if (g_ascii_isdigit (line[0]))
        {
          if (!reader->has_format || reader->origin == NULL || !reader->has_published
              || !reader->has_current || !reader->has_exceptions
              || reader->origin->source == NULL)
            {
              g_set_error (error, PM_ZONE_CHART_ERROR, PM_ZONE_CHART_ERROR_MALFORMED,
                           "line %u: a zone before the header is complete (Postmeter-Zone-"
                           "Chart, Origin, Published, Current, Exceptions, Source)", number);
              return FALSE;
            }
          reader->in_body = TRUE;
        }
      else
        return data_header (reader, line, length, number, error);
    }

  n = split_blanks (line, length, fields, lengths, 4);
  if (n < 3 || n > 4)
    goto malformed;
  zone = parse_digits (fields[2], lengths[2], 1);
  if (zone < 1 || zone > PM_ZONE_MAX)
    goto malformed;

  if (lengths[0] == 3)
    {
      gint64 start = parse_digits (fields[0], lengths[0], 3);
      gint64 end = parse_digits (fields[1], lengths[1], 3);
      guint marks = 0;

      if (start < 0 || end < start)
        goto malformed;
      if (n == 4)
        {
          for (gsize i = 0; i < lengths[3]; i++)
            {
              guint mark = fields[3][i] == '*' ? MARK_SAME_NDC
                           : fields[3][i] == '+' ? MARK_EXCEPTIONS : 0;

              if (mark == 0 || (marks & mark))
                goto malformed;
              marks |= mark;
            }
        }
      return set_range (reader->origin, (guint) start, (guint) end, (guint) zone, marks,
                        number, error);
    }
  else
    {
      Exception exception = { 0 };
      gint64 start = parse_digits (fields[0], lengths[0], 5);
      gint64 end = parse_digits (fields[1], lengths[1], 5);

      if (start < 0 || end < start)
        goto malformed;
      exception.start = (guint32) start;
      exception.end = (guint32) end;
      exception.zone = (guint8) zone;
      exception.mail_class = -1;
      if (n == 4)
        {
          g_autofree char *name = g_strndup (fields[3], lengths[3]);
          PmMailClass mail_class;

          if (!pm_mail_class_from_string (name, &mail_class))
            goto malformed;
          exception.mail_class = (gint8) mail_class;
        }
      return add_exception (reader->origin, &exception, number, error);
    }

malformed:
  g_set_error (error, PM_ZONE_CHART_ERROR, PM_ZONE_CHART_ERROR_MALFORMED,
               "line %u: expected “START END ZONE [MARKS]” with 3-digit ZIPs and marks * "
               "and +, or “START END ZONE [CLASS]” with 5-digit ZIPs, and zone 1 to 9",
               number);
  return FALSE;
}

static gboolean
add_origin (PmZoneChart *self,
            Origin      *origin,
            GError     **error)
{
  guint zip3 = (guint) parse_zip3 (origin->origin);

  if (self->origins[zip3] != NULL)
    {
      g_set_error (error, PM_ZONE_CHART_ERROR, PM_ZONE_CHART_ERROR_CONFLICT,
                   "the chart for origin %s is already loaded", origin->origin);
      return FALSE;
    }
  self->origins[zip3] = origin;
  return TRUE;
}

gboolean
pm_zone_chart_load_data (PmZoneChart *self,
                         const char  *data,
                         gsize        length,
                         GError     **error)
{
  DataReader reader = { 0 };
  g_autoptr (Origin) origin = NULL;
  gboolean ok;
  guint n_zones = 0;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (data != NULL || length == 0, FALSE);

  ok = for_each_line (data, length, data_line_cb, &reader, error);
  origin = reader.origin;
  if (!ok)
    return FALSE;

  if (origin != NULL)
    for (guint d = 0; d < N_ZIP3; d++)
      n_zones += origin->zones[d] != 0;
  if (n_zones == 0)
    {
      g_set_error (error, PM_ZONE_CHART_ERROR, PM_ZONE_CHART_ERROR_MALFORMED,
                   "the file has no zones (or no header)");
      return FALSE;
    }
  if (!add_origin (self, origin, error))
    return FALSE;
  g_steal_pointer (&origin);
  return TRUE;
}

gboolean
pm_zone_chart_load_file (PmZoneChart *self,
                         const char  *path,
                         GError     **error)
{
  g_autofree char *data = NULL;
  g_autofree char *name = NULL;
  gsize length = 0;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  if (!g_file_get_contents (path, &data, &length, error))
    return FALSE;
  if (!pm_zone_chart_load_data (self, data, length, error))
    {
      name = g_path_get_basename (path);
      g_prefix_error (error, "%s: ", name);
      return FALSE;
    }
  return TRUE;
}

static gint
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static GPtrArray *list_chart_files (const char  *path,
                                    GError     **error);

gboolean
pm_zone_chart_load_directory (PmZoneChart *self,
                              const char  *path,
                              GError     **error)
{
  g_autoptr (GPtrArray) files = NULL;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  files = list_chart_files (path, error);
  if (files == NULL)
    return FALSE;
  for (guint i = 0; i < files->len; i++)
    if (!pm_zone_chart_load_file (self, g_ptr_array_index (files, i), error))
      return FALSE;
  return TRUE;
}

/* ---- signed files ---- */

char *
pm_zone_chart_package_name (const char *origin_zip3)
{
  g_return_val_if_fail (parse_zip3 (origin_zip3) >= 0, NULL);

  return g_strdup_printf ("zone-chart-%s", origin_zip3);
}

/* Loads into a scratch chart first, so a file whose Origin is not its name's is refused
 * before it reaches this one. */
static gboolean
load_verified (PmZoneChart *self,
               GBytes      *content,
               const char  *name,
               GError     **error)
{
  g_autoptr (PmZoneChart) scratch = pm_zone_chart_new ();
  g_autofree char *expected = NULL;
  guint zip3 = N_ZIP3;

  if (!pm_zone_chart_load_data (scratch, g_bytes_get_data (content, NULL),
                                g_bytes_get_size (content), error))
    return FALSE;
  for (guint o = 0; o < N_ZIP3 && zip3 == N_ZIP3; o++)
    if (scratch->origins[o] != NULL)
      zip3 = o;
  expected = pm_zone_chart_package_name (scratch->origins[zip3]->origin);
  if (strcmp (expected, name) != 0)
    {
      g_set_error (error, PM_ZONE_CHART_ERROR, PM_ZONE_CHART_ERROR_CONFLICT,
                   "signed as “%s” but holds the chart of origin %s; it was not used", name,
                   scratch->origins[zip3]->origin);
      return FALSE;
    }
  if (self->origins[zip3] != NULL)
    {
      g_set_error (error, PM_ZONE_CHART_ERROR, PM_ZONE_CHART_ERROR_CONFLICT,
                   "the chart for origin %s is already loaded", scratch->origins[zip3]->origin);
      return FALSE;
    }
  self->origins[zip3] = g_steal_pointer (&scratch->origins[zip3]);
  return TRUE;
}

gboolean
pm_zone_chart_install_file (PmZoneChart *self,
                            const char  *path,
                            PmVerifyKey *trusted_key,
                            GError     **error)
{
  g_autofree char *base = NULL;
  g_autofree char *name = NULL;
  g_autoptr (GBytes) content = NULL;
  PmPackagePolicy policy = {
    .content_type = PM_ZONE_CHART_CONTENT_TYPE,
    .max_length = PM_ZONE_CHART_MAX_BYTES,
  };

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (trusted_key != NULL, FALSE);

  base = g_path_get_basename (path);
  if (!g_str_has_suffix (base, ".txt"))
    {
      g_set_error (error, PM_ZONE_CHART_ERROR, PM_ZONE_CHART_ERROR_MALFORMED,
                   "%s: a zone chart file is named zone-chart-NNN.txt", base);
      return FALSE;
    }
  name = g_strndup (base, strlen (base) - strlen (".txt"));
  policy.name = name;

  content = pm_package_load_file (path, trusted_key, &policy, NULL, error);
  if (content == NULL || !load_verified (self, content, name, error))
    {
      g_prefix_error (error, "%s: ", base);
      return FALSE;
    }
  return TRUE;
}

static GPtrArray *
list_chart_files (const char  *path,
                  GError     **error)
{
  g_autoptr (GDir) dir = NULL;
  GPtrArray *names;
  const char *name;

  dir = g_dir_open (path, 0, error);
  if (dir == NULL)
    return NULL;
  names = g_ptr_array_new_with_free_func (g_free);
  while ((name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_prefix (name, "zone-chart-") && g_str_has_suffix (name, ".txt"))
      g_ptr_array_add (names, g_build_filename (path, name, NULL));
  /* Directory order is arbitrary; load in name order so errors are reproducible. */
  g_ptr_array_sort (names, compare_names);
  return names;
}

gboolean
pm_zone_chart_install_directory (PmZoneChart *self,
                                 const char  *path,
                                 PmVerifyKey *trusted_key,
                                 GError     **error)
{
  g_autoptr (GPtrArray) files = NULL;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (trusted_key != NULL, FALSE);

  files = list_chart_files (path, error);
  if (files == NULL)
    return FALSE;
  for (guint i = 0; i < files->len; i++)
    if (!pm_zone_chart_install_file (self, g_ptr_array_index (files, i), trusted_key, error))
      return FALSE;
  return TRUE;
}

/* ---- the public CSV layout ---- */

typedef struct
{
  Origin     *origins[N_ZIP3];  /* every origin seen, so every line is checked */
  gboolean    has_header;
  const char *published;
  const char *source;
  gboolean    current;
} CsvReader;

/* Splits at commas, removing one pair of double quotes around a field. */
static guint
split_commas (const char *line,
              gsize       length,
              const char *fields[],
              gsize       lengths[],
              guint       max)
{
  guint n = 0;
  gsize start = 0;

  for (gsize i = 0; i <= length; i++)
    {
      if (i < length && line[i] != ',')
        continue;
      if (n == max)
        return max + 1;
      fields[n] = line + start;
      lengths[n] = i - start;
      while (lengths[n] > 0 && (*fields[n] == ' ' || *fields[n] == '\t'))
        fields[n]++, lengths[n]--;
      while (lengths[n] > 0 && (fields[n][lengths[n] - 1] == ' '
                                || fields[n][lengths[n] - 1] == '\t'))
        lengths[n]--;
      if (lengths[n] >= 2 && fields[n][0] == '"' && fields[n][lengths[n] - 1] == '"')
        fields[n]++, lengths[n] -= 2;
      n++;
      start = i + 1;
    }
  return n;
}

static gboolean
field_is (const char *field,
          gsize       length,
          const char *text)
{
  return length == strlen (text) && memcmp (field, text, length) == 0;
}

static gboolean
csv_line_cb (const char *line,
             gsize       length,
             guint       number,
             gpointer    user_data,
             GError    **error)
{
  CsvReader *reader = user_data;
  const char *fields[6];
  gsize lengths[6];
  gint64 origin, start, end, zone;
  guint marks = 0;
  Origin *table;

  if (length == 0)
    return TRUE;
  if (!reader->has_header)
    {
      g_autofree char *header = g_strndup (line, length);
      char *out = header;

      /* Quotes around the column names are allowed, as a spreadsheet writes them. */
      for (const char *in = header; *in != '\0'; in++)
        if (*in != '"' && *in != ' ')
          *out++ = *in;
      *out = '\0';
      if (strcmp (header, CSV_HEADER) != 0)
        {
          g_set_error (error, PM_ZONE_CHART_ERROR, PM_ZONE_CHART_ERROR_MALFORMED,
                       "line %u: expected the header “%s”", number, CSV_HEADER);
          return FALSE;
        }
      reader->has_header = TRUE;
      return TRUE;
    }

  if (split_commas (line, length, fields, lengths, 6) != 6)
    {
      g_set_error (error, PM_ZONE_CHART_ERROR, PM_ZONE_CHART_ERROR_MALFORMED,
                   "line %u: expected 6 comma-separated fields (%s)", number, CSV_HEADER);
      return FALSE;
    }
  origin = parse_digits (fields[0], lengths[0], 3);
  start = parse_digits (fields[1], lengths[1], 3);
  end = parse_digits (fields[2], lengths[2], 3);
  zone = parse_digits (fields[3], lengths[3], 1);
  if (origin < 0 || start < 0 || end < 0)
    {
      g_set_error (error, PM_ZONE_CHART_ERROR, PM_ZONE_CHART_ERROR_MALFORMED,
                   "line %u: origin_zip, dest_zip_start and dest_zip_end must be 3-digit "
                   "ZIPs (leading zeros kept, as in 005)", number);
      return FALSE;
    }
  if (end < start)
    {
      g_set_error (error, PM_ZONE_CHART_ERROR, PM_ZONE_CHART_ERROR_MALFORMED,
                   "line %u: the range %03" G_GINT64_FORMAT " to %03" G_GINT64_FORMAT
                   " ends before it starts", number, start, end);
      return FALSE;
    }
  if (zone < 1 || zone > PM_ZONE_MAX)
    {
      g_set_error (error, PM_ZONE_CHART_ERROR, PM_ZONE_CHART_ERROR_MALFORMED,
                   "line %u: the zone must be 1 to 9", number);
      return FALSE;
    }
  if (field_is (fields[4], lengths[4], "*"))
    marks |= MARK_SAME_NDC;
  else if (!field_is (fields[4], lengths[4], "NA") && lengths[4] != 0)
    {
      g_set_error (error, PM_ZONE_CHART_ERROR, PM_ZONE_CHART_ERROR_MALFORMED,
                   "line %u: modifier_1 must be “*”, “NA” or empty", number);
      return FALSE;
    }
  if (field_is (fields[5], lengths[5], "+"))
    marks |= MARK_EXCEPTIONS;
  else if (!field_is (fields[5], lengths[5], "NA") && lengths[5] != 0)
    {
      g_set_error (error, PM_ZONE_CHART_ERROR, PM_ZONE_CHART_ERROR_MALFORMED,
                   "line %u: modifier_2 must be “+”, “NA” or empty", number);
      return FALSE;
    }

  table = reader->origins[origin];
  if (table == NULL)
    {
      table = reader->origins[origin] = origin_new ((guint) origin);
      table->published = g_strdup (reader->published);
      table->source = g_strdup (reader->source);
      table->current = reader->current;
      /* The public CSV layout carries no 5-digit exceptions. */
      table->exceptions_included = FALSE;
    }
  return set_range (table, (guint) start, (guint) end, (guint) zone, marks, number, error);
}

gboolean
pm_zone_chart_import_csv (PmZoneChart        *self,
                          const char         *data,
                          gsize               length,
                          const char * const *origins,
                          const char         *published,
                          const char         *source,
                          gboolean            current,
                          GError            **error)
{
  CsvReader reader = { 0 };
  gboolean wanted[N_ZIP3] = { FALSE };
  gboolean ok = FALSE;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (data != NULL || length == 0, FALSE);
  g_return_val_if_fail (source != NULL, FALSE);

  if (!published_is_valid (published))
    {
      g_set_error (error, PM_ZONE_CHART_ERROR, PM_ZONE_CHART_ERROR_MALFORMED,
                   "“%s” is not a publication date (YYYY-MM or YYYY-MM-DD)",
                   published != NULL ? published : "");
      return FALSE;
    }
  for (guint i = 0; origins != NULL && origins[i] != NULL; i++)
    {
      gint zip3 = parse_zip3 (origins[i]);

      if (zip3 < 0)
        {
          g_set_error (error, PM_ZONE_CHART_ERROR, PM_ZONE_CHART_ERROR_MALFORMED_ZIP,
                       "Origin: “%s” is not a 3-digit ZIP (as in 606)", origins[i]);
          return FALSE;
        }
      wanted[zip3] = TRUE;
    }

  reader.published = published;
  reader.source = source;
  reader.current = current;
  if (!for_each_line (data, length, csv_line_cb, &reader, error))
    goto out;
  if (!reader.has_header)
    {
      g_set_error (error, PM_ZONE_CHART_ERROR, PM_ZONE_CHART_ERROR_MALFORMED,
                   "the CSV is empty; expected the header “%s”", CSV_HEADER);
      goto out;
    }

  /* Everything read: check before changing anything, then take the origins asked for. */
  for (guint o = 0; o < N_ZIP3; o++)
    {
      if (origins != NULL && !wanted[o])
        continue;
      if (reader.origins[o] == NULL && origins != NULL)
        {
          g_set_error (error, PM_ZONE_CHART_ERROR, PM_ZONE_CHART_ERROR_UNKNOWN_ORIGIN,
                       "the CSV has no chart for origin %03u", o);
          goto out;
        }
      if (reader.origins[o] != NULL && self->origins[o] != NULL)
        {
          g_set_error (error, PM_ZONE_CHART_ERROR, PM_ZONE_CHART_ERROR_CONFLICT,
                       "the chart for origin %03u is already loaded", o);
          goto out;
        }
    }
  for (guint o = 0; o < N_ZIP3; o++)
    if (reader.origins[o] != NULL && (origins == NULL || wanted[o]))
      self->origins[o] = g_steal_pointer (&reader.origins[o]);
  ok = TRUE;

out:
  for (guint o = 0; o < N_ZIP3; o++)
    origin_free (reader.origins[o]);
  return ok;
}

gboolean
pm_zone_chart_add_exception (PmZoneChart *self,
                             const char  *origin_zip3,
                             const char  *destination_start,
                             const char  *destination_end,
                             guint        zone,
                             gboolean     only_class,
                             PmMailClass  mail_class,
                             GError     **error)
{
  Exception exception = { 0 };
  gint zip3;
  gint64 start, end;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (destination_start != NULL && destination_end != NULL, FALSE);

  zip3 = parse_zip3 (origin_zip3);
  if (zip3 < 0 || self->origins[zip3] == NULL)
    {
      g_set_error (error, PM_ZONE_CHART_ERROR, PM_ZONE_CHART_ERROR_UNKNOWN_ORIGIN,
                   "no chart for origin “%s” is loaded",
                   origin_zip3 != NULL ? origin_zip3 : "");
      return FALSE;
    }
  start = parse_digits (destination_start, strlen (destination_start), 5);
  end = parse_digits (destination_end, strlen (destination_end), 5);
  if (start < 0 || end < start || zone < 1 || zone > PM_ZONE_MAX
      || (only_class && (guint) mail_class >= PM_MAIL_CLASS_COUNT))
    {
      g_set_error (error, PM_ZONE_CHART_ERROR, PM_ZONE_CHART_ERROR_MALFORMED,
                   "an exception needs a range of 5-digit ZIPs, lowest first, and a zone "
                   "1 to 9");
      return FALSE;
    }
  exception.start = (guint32) start;
  exception.end = (guint32) end;
  exception.zone = (guint8) zone;
  exception.mail_class = only_class ? (gint8) mail_class : -1;
  return add_exception (self->origins[zip3], &exception, 0, error);
}

/* ---- lookups ---- */

/* The 5 digits of a ZIP Code as a number: straight from "60601", else through the
 * address parser, which takes every form people type. -1 and an error otherwise. */
static gint
zip5_number (const char *text,
             const char *field,
             GError    **error)
{
  PmZipCode zip;
  g_autoptr (GError) local_error = NULL;
  gint value = 0;

  if (text != NULL && strlen (text) == 5)
    {
      gint64 fast = parse_digits (text, 5, 5);

      if (fast >= 100)
        return (gint) fast;
    }
  if (text == NULL || !pm_address_parse_zip (text, &zip, &local_error))
    {
      const char *message = local_error != NULL ? local_error->message : "no ZIP Code given";

      if (g_str_has_prefix (message, "ZIP Code: "))
        message += strlen ("ZIP Code: ");
      g_set_error (error, PM_ZONE_CHART_ERROR, PM_ZONE_CHART_ERROR_MALFORMED_ZIP, "%s: %s",
                   field, message);
      return -1;
    }
  for (guint i = 0; i < 5; i++)
    value = value * 10 + (zip.zip5[i] - '0');
  return value;
}

static const Exception *
find_exception (const Origin *origin,
                guint32       zip5,
                PmMailClass   mail_class)
{
  const Exception *all = NULL;
  guint low = 0;
  guint high = origin->exceptions->len;

  /* The first exception starting above the ZIP; those that may hold it are before it. */
  while (low < high)
    {
      guint mid = low + (high - low) / 2;

      if (g_array_index (origin->exceptions, Exception, mid).start <= zip5)
        low = mid + 1;
      else
        high = mid;
    }
  /* Exceptions do not overlap within a scope, so at most one of each scope holds the
   * ZIP; a range starting far below may still reach it, so look at every earlier one
   * (an origin lists a few dozen at most). */
  for (guint i = low; i > 0; i--)
    {
      const Exception *e = &g_array_index (origin->exceptions, Exception, i - 1);

      if (e->end < zip5)
        continue;
      if (e->mail_class == (gint8) mail_class)
        return e;
      if (e->mail_class < 0 && all == NULL)
        all = e;
    }
  return all;
}

gboolean
pm_zone_chart_lookup (PmZoneChart *self,
                      PmMailClass  mail_class,
                      const char  *origin_zip,
                      const char  *destination_zip,
                      guint       *out_zone,
                      guint       *out_flags,
                      GError     **error)
{
  const Origin *origin;
  const Exception *exception = NULL;
  gint origin5, destination5;
  guint destination3;
  guint zone;
  guint flags = 0;
  guint marks;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (out_zone != NULL, FALSE);

  if (destination_zip == NULL || *destination_zip == '\0')
    {
      g_set_error (error, PM_ZONE_CHART_ERROR, PM_ZONE_CHART_ERROR_MALFORMED_ZIP,
                   "Destination ZIP: enter the destination ZIP Code; the price depends on "
                   "the zone");
      return FALSE;
    }
  origin5 = zip5_number (origin_zip, "Origin ZIP", error);
  if (origin5 < 0)
    return FALSE;
  origin = self->origins[origin5 / 100];
  if (origin == NULL)
    {
      g_set_error (error, PM_ZONE_CHART_ERROR, PM_ZONE_CHART_ERROR_UNKNOWN_ORIGIN,
                   "Origin ZIP: no zone chart is installed for origin %03d (the meter's "
                   "ZIP %05d); ask the supervisor to import the chart for %03d",
                   origin5 / 100, origin5, origin5 / 100);
      return FALSE;
    }
  destination5 = zip5_number (destination_zip, "Destination ZIP", error);
  if (destination5 < 0)
    return FALSE;
  destination3 = (guint) destination5 / 100;

  zone = origin->zones[destination3];
  marks = origin->marks[destination3];
  if (marks & MARK_HAS_LOADED)
    exception = find_exception (origin, (guint32) destination5, mail_class);
  if (exception != NULL)
    {
      zone = exception->zone;
      flags |= PM_ZONE_FLAG_EXCEPTION;
    }
  if (zone == 0)
    {
      g_set_error (error, PM_ZONE_CHART_ERROR, PM_ZONE_CHART_ERROR_UNKNOWN_DESTINATION,
                   "Destination ZIP: %05d is not in the zone chart for origin %s (no ZIP "
                   "Codes beginning %03u are listed); check the ZIP Code", destination5,
                   origin->origin, destination3);
      return FALSE;
    }

  if (marks & MARK_SAME_NDC)
    flags |= PM_ZONE_FLAG_SAME_NDC;
  if ((marks & MARK_EXCEPTIONS) && exception == NULL && !origin->exceptions_included)
    flags |= PM_ZONE_FLAG_EXCEPTIONS_MISSING;
  if (!origin->current)
    flags |= PM_ZONE_FLAG_NOT_CURRENT;

  *out_zone = zone;
  if (out_flags != NULL)
    *out_flags = flags;
  return TRUE;
}

/* ---- what is loaded ---- */

static const Origin *
find_origin (PmZoneChart *self,
             const char  *origin_zip3)
{
  gint zip3 = parse_zip3 (origin_zip3);

  return zip3 >= 0 ? self->origins[zip3] : NULL;
}

char **
pm_zone_chart_list_origins (PmZoneChart *self)
{
  GPtrArray *list = g_ptr_array_new ();

  g_return_val_if_fail (self != NULL, NULL);

  for (guint o = 0; o < N_ZIP3; o++)
    if (self->origins[o] != NULL)
      g_ptr_array_add (list, g_strdup (self->origins[o]->origin));
  g_ptr_array_add (list, NULL);
  return (char **) g_ptr_array_free (list, FALSE);
}

gboolean
pm_zone_chart_has_origin (PmZoneChart *self,
                          const char  *origin_zip3)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return find_origin (self, origin_zip3) != NULL;
}

const char *
pm_zone_chart_get_source (PmZoneChart *self,
                          const char  *origin_zip3)
{
  const Origin *origin;

  g_return_val_if_fail (self != NULL, NULL);

  origin = find_origin (self, origin_zip3);
  return origin != NULL ? origin->source : NULL;
}

const char *
pm_zone_chart_get_published (PmZoneChart *self,
                             const char  *origin_zip3)
{
  const Origin *origin;

  g_return_val_if_fail (self != NULL, NULL);

  origin = find_origin (self, origin_zip3);
  return origin != NULL ? origin->published : NULL;
}

char *
pm_zone_chart_to_data (PmZoneChart *self,
                       const char  *origin_zip3)
{
  const Origin *origin;
  GString *out;
  guint d = 0;

  g_return_val_if_fail (self != NULL, NULL);

  origin = find_origin (self, origin_zip3);
  if (origin == NULL)
    return NULL;

  out = g_string_new (NULL);
  g_string_append_printf (out, "Postmeter-Zone-Chart: %s\n", DATA_FORMAT);
  g_string_append_printf (out, "Origin: %s\n", origin->origin);
  g_string_append_printf (out, "Published: %s\n", origin->published);
  g_string_append_printf (out, "Current: %s\n", origin->current ? "yes" : "no");
  g_string_append_printf (out, "Exceptions: %s\n",
                          origin->exceptions_included ? "included" : "not-included");
  g_string_append_printf (out, "Source: %s\n", origin->source);
  g_string_append (out, "# destination ZIP3 range, zone, marks (* same NDC, + 5-digit "
                        "exceptions exist)\n");

  /* Consecutive destinations with the same zone and marks make one line. */
  while (d < N_ZIP3)
    {
      guint end = d;
      guint marks = origin->marks[d] & (MARK_SAME_NDC | MARK_EXCEPTIONS);

      if (origin->zones[d] == 0)
        {
          d++;
          continue;
        }
      while (end + 1 < N_ZIP3 && origin->zones[end + 1] == origin->zones[d]
             && (origin->marks[end + 1] & (MARK_SAME_NDC | MARK_EXCEPTIONS)) == marks)
        end++;
      g_string_append_printf (out, "%03u %03u %u%s%s%s\n", d, end, origin->zones[d],
                              marks != 0 ? " " : "", (marks & MARK_SAME_NDC) ? "*" : "",
                              (marks & MARK_EXCEPTIONS) ? "+" : "");
      d = end + 1;
    }

  if (origin->exceptions->len > 0)
    g_string_append (out, "# 5-digit exceptions: range, zone, class if only one\n");
  for (guint i = 0; i < origin->exceptions->len; i++)
    {
      const Exception *e = &g_array_index (origin->exceptions, Exception, i);

      g_string_append_printf (out, "%05u %05u %u%s%s\n", e->start, e->end, e->zone,
                              e->mail_class >= 0 ? " " : "",
                              e->mail_class >= 0
                                ? pm_mail_class_to_string ((PmMailClass) e->mail_class)
                                : "");
    }
  return g_string_free (out, FALSE);
}
