/* pm-mettler-8217.c: Mettler-Toledo 8217 replies to readings */
#include "pm-mettler-8217.h"

#include <string.h>

#define STX 0x02
#define CR  0x0D

/* Status byte bits; bit 6 is always set and bit 7 is parity, so neither is a fault. */
#define ST_MOTION        0x01
#define ST_OVER          0x02
#define ST_UNDER         0x04
#define ST_ZERO_RANGE    0x08
#define ST_CENTRE_ZERO   0x10
#define ST_NET           0x20
#define ST_ALWAYS        0x40

void
pm_mettler_8217_parser_init (PmMettler8217Parser *parser)
{
  memset (parser, 0, sizeof *parser);
}

void
pm_mettler_8217_parser_set_unit (PmMettler8217Parser *parser,
                                 PmWeightUnit         unit)
{
  parser->unit_set = TRUE;
  parser->unit = unit;
}

void
pm_mettler_8217_parser_reset (PmMettler8217Parser *parser)
{
  parser->in_frame = FALSE;
  parser->len = 0;
}

static PmScaleReading *
decode_status (guint8 status)
{
  PmScaleReading *reading;

  status &= 0x7F;
  if ((status & ST_ALWAYS) == 0)
    {
      reading = pm_scale_reading_new (PM_SCALE_STATE_UNREADABLE);
      reading->detail = g_strdup ("The scale's status byte could not be read. Check the "
                                  "port's data bits and parity (7 data bits, even).");
      return reading;
    }

  if ((status & ST_OVER) != 0)
    reading = pm_scale_reading_new (PM_SCALE_STATE_OVER_CAPACITY);
  else if ((status & ST_UNDER) != 0)
    reading = pm_scale_reading_new (PM_SCALE_STATE_UNDER_ZERO);
  else if ((status & ST_ZERO_RANGE) != 0)
    reading = pm_scale_reading_new (PM_SCALE_STATE_NEEDS_REZERO);
  else if ((status & ST_MOTION) != 0)
    reading = pm_scale_reading_new (PM_SCALE_STATE_MOTION);
  else if ((status & ST_CENTRE_ZERO) != 0)
    reading = pm_scale_reading_new (PM_SCALE_STATE_ZERO);
  else
    reading = pm_scale_reading_new (PM_SCALE_STATE_STABLE);  /* no weight in it */

  reading->net = (status & ST_NET) != 0;
  return reading;
}

static PmScaleReading *
decode_weight (PmMettler8217Parser *parser,
               const char          *text,
               gsize                len)
{
  PmScaleReading *reading = pm_scale_reading_new (PM_SCALE_STATE_STABLE);
  gint64 mantissa;
  gint8 exponent;
  gboolean negative;
  PmWeightUnit unit;

  if (len > 0 && text[len - 1] == 'N')
    {
      reading->net = TRUE;
      len--;
    }

  /* Only digits and one point: a sign or a blank means this is not an 8217 weight. */
  for (gsize i = 0; i < len; i++)
    {
      if (!g_ascii_isdigit (text[i]) && text[i] != '.')
        len = 0;
    }

  if (len < 4 || len > 7
      || !pm_scale_parse_decimal (text, len, &mantissa, &exponent, &negative))
    {
      reading->state = PM_SCALE_STATE_UNREADABLE;
      reading->detail = g_strdup ("The scale's weight could not be read. Check that the "
                                  "scale is set to the 8217 protocol.");
      return reading;
    }

  if (parser->unit_set)
    unit = parser->unit;
  else if (exponent == -2)
    unit = PM_WEIGHT_UNIT_POUND;
  else if (exponent == -3)
    unit = PM_WEIGHT_UNIT_KILOGRAM;
  else if (exponent == 0)
    unit = PM_WEIGHT_UNIT_GRAM;
  else
    {
      reading->state = PM_SCALE_STATE_UNREADABLE;
      reading->detail = g_strdup ("The scale does not say its unit and the number of "
                                  "decimals does not tell it. Set the unit in the scale "
                                  "settings.");
      return reading;
    }

  pm_scale_reading_set_weight (reading, mantissa, exponent, unit);
  return reading;
}

static PmScaleReplyKind
decode_frame (PmMettler8217Parser  *parser,
              PmScaleReading      **out_reading)
{
  const char *text = (const char *) parser->buf;
  gsize len = parser->len;
  PmScaleReading *reading;

  if (len == 0)
    return PM_SCALE_REPLY_ACK;       /* the confidence test has started */

  if (len == 1 && (text[0] == 'E' || text[0] == 'F' || text[0] == '@'))
    return PM_SCALE_REPLY_ACK;

  if (text[0] == '?')
    {
      if (len != 2)
        {
          reading = pm_scale_reading_new (PM_SCALE_STATE_UNREADABLE);
          reading->detail = g_strdup ("The scale sent a status reply of the wrong length.");
        }
      else
        {
          reading = decode_status (parser->buf[1]);
        }
    }
  else if (len == 1 && g_ascii_isalpha (text[0]))
    {
      return PM_SCALE_REPLY_REFUSED;  /* a confidence test result other than "passed" */
    }
  else
    {
      reading = decode_weight (parser, text, len);
    }

  pm_scale_reading_set_raw (reading, parser->buf, parser->len);
  *out_reading = reading;
  return PM_SCALE_REPLY_READING;
}

PmScaleReplyKind
pm_mettler_8217_parser_push (PmMettler8217Parser  *parser,
                             guint8                byte,
                             PmScaleReading      **out_reading)
{
  PmScaleReplyKind kind;

  *out_reading = NULL;
  byte &= 0x7F;

  if (byte == STX)
    {
      parser->in_frame = TRUE;
      parser->len = 0;
      return PM_SCALE_REPLY_NONE;
    }

  if (!parser->in_frame)
    return PM_SCALE_REPLY_NONE;

  if (byte == CR)
    {
      kind = decode_frame (parser, out_reading);
      pm_mettler_8217_parser_reset (parser);
      return kind;
    }

  if (parser->len == sizeof parser->buf)
    {
      pm_mettler_8217_parser_reset (parser);
      return PM_SCALE_REPLY_NONE;
    }

  parser->buf[parser->len++] = byte;
  return PM_SCALE_REPLY_NONE;
}
