/* pm-nci.c: NCI / Weigh-Tronix ECR replies to readings */
#include "pm-nci.h"

#include <string.h>

#define LF  0x0A
#define CR  0x0D
#define ETX 0x03

/* Status bits, byte by byte (bits 4 and 5 are always 1, bit 6 says another byte
 * follows, bit 7 is parity). */
#define S1_MOTION        0x01
#define S1_ZERO          0x02
#define S1_RAM_ERROR     0x04
#define S1_EEPROM_ERROR  0x08
#define S2_UNDER         0x01
#define S2_OVER          0x02
#define S2_ROM_ERROR     0x04
#define S2_CALIBRATION   0x08
#define S3_NET           0x04
#define S3_ZERO_ERROR    0x08
#define FOLLOWS          0x40

typedef struct
{
  const guint8 *data;
  gsize         len;
} Line;

void
pm_nci_parser_init (PmNciParser  *parser,
                    PmNciProfile  profile)
{
  memset (parser, 0, sizeof *parser);
  parser->profile = profile;
}

void
pm_nci_parser_reset (PmNciParser *parser)
{
  parser->in_frame = FALSE;
  parser->len = 0;
}

static gboolean
is_status_byte (guint8 b)
{
  return (b & 0x30) == 0x30;
}

/* Decodes a status line into a state; FALSE if it is not a well-formed status. */
static gboolean
decode_status (const Line   *line,
               PmScaleState *out_state,
               gboolean     *out_net)
{
  guint8 s[3] = { 0, 0, 0 };
  gsize expected = 2;

  if (line->len < 2 || line->len > 3)
    return FALSE;

  for (gsize i = 0; i < line->len; i++)
    {
      s[i] = line->data[i] & 0x7F;
      if (!is_status_byte (s[i]))
        return FALSE;
    }

  if ((s[0] & FOLLOWS) != 0)
    return FALSE;
  if ((s[1] & FOLLOWS) != 0)
    expected = 3;
  if (line->len != expected || (expected == 3 && (s[2] & FOLLOWS) != 0))
    return FALSE;

  *out_net = (s[2] & S3_NET) != 0;

  if ((s[0] & (S1_RAM_ERROR | S1_EEPROM_ERROR)) != 0 || (s[1] & S2_ROM_ERROR) != 0)
    *out_state = PM_SCALE_STATE_FAULT;
  else if ((s[1] & S2_CALIBRATION) != 0)
    *out_state = PM_SCALE_STATE_NEEDS_CALIBRATION;
  else if ((s[1] & S2_OVER) != 0)
    *out_state = PM_SCALE_STATE_OVER_CAPACITY;
  else if ((s[1] & S2_UNDER) != 0)
    *out_state = PM_SCALE_STATE_UNDER_ZERO;
  else if ((s[2] & S3_ZERO_ERROR) != 0)
    *out_state = PM_SCALE_STATE_NEEDS_REZERO;
  else if ((s[0] & S1_MOTION) != 0)
    *out_state = PM_SCALE_STATE_MOTION;
  else if ((s[0] & S1_ZERO) != 0)
    *out_state = PM_SCALE_STATE_ZERO;
  else
    *out_state = PM_SCALE_STATE_STABLE;

  return TRUE;
}

/* Splits "12.5LB" into the number and the unit token that follows it. */
static gboolean
split_number_unit (const char  *text,
                   gsize        len,
                   gsize       *out_number_len,
                   const char **out_unit,
                   gsize       *out_unit_len)
{
  gsize i = 0;
  gsize unit_start;

  while (i < len && (g_ascii_isdigit (text[i]) || text[i] == '.' || text[i] == ' '
                     || text[i] == '-' || text[i] == '+'))
    i++;
  unit_start = i;
  while (i < len && g_ascii_isalpha (text[i]))
    i++;

  if (unit_start == 0 || i == unit_start)
    return FALSE;

  *out_number_len = unit_start;
  *out_unit = text + unit_start;
  *out_unit_len = i - unit_start;

  return TRUE;
}

/* The weight field: "0001.25LB", "  250 g", "1LB 2.5OZ", or a field filled with the
 * display's ^ (over), _ (under) or - (zero error). Returns FALSE when unreadable. */
static gboolean
decode_weight (const Line      *line,
               PmScaleReading  *reading,
               const char     **out_detail)
{
  const char *text = (const char *) line->data;
  gsize len = line->len;
  gboolean any_digit = FALSE;
  const char *unit_text;
  gsize number_len, unit_len, used;
  gint64 mantissa;
  gint8 exponent;
  gboolean negative;
  PmWeightUnit unit;

  for (gsize i = 0; i < len; i++)
    any_digit |= g_ascii_isdigit (text[i]);

  if (memchr (text, '^', len) != NULL)
    {
      reading->state = PM_SCALE_STATE_OVER_CAPACITY;
      return TRUE;
    }
  if (memchr (text, '_', len) != NULL)
    {
      reading->state = PM_SCALE_STATE_UNDER_ZERO;
      return TRUE;
    }
  if (!any_digit && memchr (text, '-', len) != NULL)
    {
      reading->state = PM_SCALE_STATE_NEEDS_REZERO;
      return TRUE;
    }

  if (!split_number_unit (text, len, &number_len, &unit_text, &unit_len)
      || !pm_scale_parse_decimal (text, number_len, &mantissa, &exponent, &negative)
      || !pm_scale_parse_unit (unit_text, unit_len, &unit))
    {
      *out_detail = "The scale's weight field could not be read. Check that the scale "
                    "is set to the NCI protocol and a unit of lb, oz, kg or g.";
      return FALSE;
    }

  used = (gsize) (unit_text + unit_len - text);

  /* Pounds-and-ounces mode: "1LB 2.5OZ" becomes ounces, exactly. */
  if (unit == PM_WEIGHT_UNIT_POUND)
    {
      const char *rest = text + used;
      gsize rest_len = len - used;
      const char *oz_text;
      gsize oz_number_len, oz_unit_len;
      gint64 oz_mantissa;
      gint8 oz_exponent;
      gboolean oz_negative;
      PmWeightUnit oz_unit;

      while (rest_len > 0 && *rest == ' ')
        {
          rest++;
          rest_len--;
        }

      if (rest_len > 0)
        {
          if (exponent != 0
              || !split_number_unit (rest, rest_len, &oz_number_len, &oz_text, &oz_unit_len)
              || !pm_scale_parse_decimal (rest, oz_number_len, &oz_mantissa, &oz_exponent,
                                          &oz_negative)
              || !pm_scale_parse_unit (oz_text, oz_unit_len, &oz_unit)
              || oz_unit != PM_WEIGHT_UNIT_OUNCE || oz_negative
              || (gsize) (oz_text + oz_unit_len - rest) != rest_len
              || oz_exponent < -3 || mantissa > 100000)
            {
              *out_detail = "The scale's pounds-and-ounces field could not be read.";
              return FALSE;
            }

          for (gint8 e = 0; e > oz_exponent; e--)
            mantissa *= 10;
          mantissa = mantissa * 16 + oz_mantissa;
          exponent = oz_exponent;
          unit = PM_WEIGHT_UNIT_OUNCE;
          used = len;
        }
    }

  if (used != len)
    {
      *out_detail = "The scale's weight field has unexpected characters after the unit.";
      return FALSE;
    }

  if (negative)
    {
      reading->state = PM_SCALE_STATE_UNDER_ZERO;
      return TRUE;
    }

  pm_scale_reading_set_weight (reading, mantissa, exponent, unit);

  return TRUE;
}

static PmScaleReplyKind
decode_frame (PmNciParser     *parser,
              PmScaleReading **out_reading)
{
  Line lines[3];
  gsize n_lines = 0;
  gsize start = 0;
  const Line *status_line, *weight_line = NULL;
  g_autoptr(PmScaleReading) reading = pm_scale_reading_new (PM_SCALE_STATE_UNREADABLE);
  const char *detail = NULL;
  PmScaleState state;
  gboolean net = FALSE;

  for (gsize i = 0; i <= parser->len; i++)
    {
      if (i == parser->len || parser->buf[i] == CR || parser->buf[i] == LF)
        {
          if (i > start)
            {
              if (n_lines == G_N_ELEMENTS (lines))
                {
                  n_lines++;
                  break;
                }
              lines[n_lines].data = parser->buf + start;
              lines[n_lines].len = i - start;
              n_lines++;
            }
          start = i + 1;
        }
    }

  pm_scale_reading_set_raw (reading, parser->buf, parser->len);

  if (n_lines == 1 && lines[0].len == 1 && lines[0].data[0] == '?')
    return PM_SCALE_REPLY_REFUSED;

  if (n_lines == 0 || n_lines > 2)
    {
      reading->detail = g_strdup ("The scale sent a reply in a form Postmeter does not "
                                  "know.");
      *out_reading = g_steal_pointer (&reading);
      return PM_SCALE_REPLY_READING;
    }

  if (n_lines == 1)
    {
      status_line = &lines[0];
    }
  else if (parser->profile == PM_NCI_PROFILE_SCP02)
    {
      status_line = &lines[0];
      weight_line = &lines[1];
    }
  else
    {
      weight_line = &lines[0];
      status_line = &lines[1];
    }

  if (!decode_status (status_line, &state, &net))
    {
      reading->detail = g_strdup ("The scale's status bytes could not be read. Check the "
                                  "port's data bits and parity.");
      *out_reading = g_steal_pointer (&reading);
      return PM_SCALE_REPLY_READING;
    }

  reading->state = state;
  reading->net = net;

  /* The weight field is read whatever the status says, so a moving weight can still be
   * shown; fill characters override a status that claims all is well. */
  if (weight_line != NULL)
    {
      PmScaleState from_status = state;

      if (!decode_weight (weight_line, reading, &detail))
        {
          reading->state = PM_SCALE_STATE_UNREADABLE;
          reading->has_weight = FALSE;
          reading->detail = g_strdup (detail);
        }
      else if (reading->state != from_status)
        {
          reading->has_weight = FALSE;
        }
      else if (state != PM_SCALE_STATE_STABLE && state != PM_SCALE_STATE_MOTION
               && state != PM_SCALE_STATE_ZERO)
        {
          reading->has_weight = FALSE;
        }
    }

  *out_reading = g_steal_pointer (&reading);
  return PM_SCALE_REPLY_READING;
}

PmScaleReplyKind
pm_nci_parser_push (PmNciParser     *parser,
                    guint8           byte,
                    PmScaleReading **out_reading)
{
  PmScaleReplyKind kind;

  *out_reading = NULL;

  /* A seven-bit protocol: on a port set to eight bits the parity arrives as bit 7. */
  byte &= 0x7F;

  if (!parser->in_frame)
    {
      if (byte == LF)
        {
          parser->in_frame = TRUE;
          parser->len = 0;
        }
      return PM_SCALE_REPLY_NONE;
    }

  if (byte == ETX)
    {
      kind = decode_frame (parser, out_reading);
      pm_nci_parser_reset (parser);
      return kind;
    }

  /* An LF straight after the opening LF, or any stray control byte, means the reply we
   * were in was cut; a frame never holds other control characters. */
  if (byte != CR && byte != LF && (byte & 0x7F) < 0x20)
    {
      pm_nci_parser_reset (parser);
      return PM_SCALE_REPLY_NONE;
    }

  if (parser->len == sizeof parser->buf)
    {
      pm_nci_parser_reset (parser);
      return PM_SCALE_REPLY_NONE;
    }

  parser->buf[parser->len++] = byte;
  return PM_SCALE_REPLY_NONE;
}
