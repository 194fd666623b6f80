/* pm-sics.c: MT-SICS reply lines to readings */
#include "pm-sics.h"

#include <string.h>

#define CR 0x0D
#define LF 0x0A

#define MAX_TOKENS 5

void
pm_sics_parser_init (PmSicsParser *parser)
{
  memset (parser, 0, sizeof *parser);
}

void
pm_sics_parser_reset (PmSicsParser *parser)
{
  parser->overflow = FALSE;
  parser->len = 0;
}

const char *
pm_sics_parser_get_last_id (PmSicsParser *parser)
{
  return parser->last_id;
}

static PmScaleReading *
weight_reading (char       **tokens,
                guint        n_tokens,
                const char  *status)
{
  PmScaleReading *reading;
  gint64 mantissa;
  gint8 exponent;
  gboolean negative;
  PmWeightUnit unit;

  if (strcmp (status, "+") == 0)
    return pm_scale_reading_new (PM_SCALE_STATE_OVER_CAPACITY);
  if (strcmp (status, "-") == 0)
    return pm_scale_reading_new (PM_SCALE_STATE_UNDER_ZERO);
  if (strcmp (status, "I") == 0)
    {
      /* Busy, or the weight did not settle within the balance's time limit. */
      reading = pm_scale_reading_new (PM_SCALE_STATE_MOTION);
      reading->detail = g_strdup ("The balance could not give a stable weight in time.");
      return reading;
    }
  if (strcmp (status, "S") != 0 && strcmp (status, "D") != 0)
    {
      reading = pm_scale_reading_new (PM_SCALE_STATE_UNREADABLE);
      reading->detail = g_strdup ("The balance sent a weight status Postmeter does not "
                                  "know.");
      return reading;
    }

  reading = pm_scale_reading_new (strcmp (status, "S") == 0 ? PM_SCALE_STATE_STABLE
                                                            : PM_SCALE_STATE_MOTION);

  if (n_tokens != 4
      || !pm_scale_parse_decimal (tokens[2], strlen (tokens[2]), &mantissa, &exponent,
                                  &negative))
    {
      reading->state = PM_SCALE_STATE_UNREADABLE;
      reading->detail = g_strdup ("The balance's weight reply could not be read.");
      return reading;
    }

  if (!pm_scale_parse_unit (tokens[3], strlen (tokens[3]), &unit))
    {
      reading->state = PM_SCALE_STATE_UNREADABLE;
      reading->detail = g_strdup ("The balance weighs in a unit Postmeter does not use for "
                                  "postage. Set it to g, kg, oz or lb.");
      return reading;
    }

  if (negative)
    {
      reading->state = PM_SCALE_STATE_UNDER_ZERO;
      return reading;
    }

  pm_scale_reading_set_weight (reading, mantissa, exponent, unit);
  return reading;
}

static PmScaleReplyKind
decode_line (PmSicsParser     *parser,
             PmScaleReading  **out_reading)
{
  char *tokens[MAX_TOKENS];
  guint n_tokens = 0;
  char *save = NULL;
  char *token;
  const char *id, *status;
  PmScaleReading *reading;

  for (gsize i = 0; i < parser->len; i++)
    {
      if (!g_ascii_isprint (parser->buf[i]))
        return PM_SCALE_REPLY_NONE;   /* line noise: wait for the next reply */
    }
  parser->buf[parser->len] = '\0';

  for (token = strtok_r (parser->buf, " ", &save); token != NULL;
       token = strtok_r (NULL, " ", &save))
    {
      if (n_tokens == MAX_TOKENS)
        return PM_SCALE_REPLY_NONE;
      tokens[n_tokens++] = token;
    }

  if (n_tokens == 0)
    return PM_SCALE_REPLY_NONE;

  id = tokens[0];

  if (strcmp (id, "ES") == 0 || strcmp (id, "ET") == 0 || strcmp (id, "EL") == 0)
    {
      if (n_tokens != 1)
        return PM_SCALE_REPLY_NONE;
      g_strlcpy (parser->last_id, id, sizeof parser->last_id);
      return PM_SCALE_REPLY_REFUSED;
    }

  if (n_tokens < 2 || strlen (id) >= sizeof parser->last_id)
    return PM_SCALE_REPLY_NONE;

  status = tokens[1];

  if (strcmp (id, "S") == 0 || strcmp (id, "SI") == 0 || strcmp (id, "SIR") == 0)
    {
      g_strlcpy (parser->last_id, id, sizeof parser->last_id);
      reading = weight_reading (tokens, n_tokens, status);
      /* The raw line went through strtok; keep it readable for the log. */
      for (gsize i = 0; i < parser->len; i++)
        {
          if (parser->buf[i] == '\0')
            parser->buf[i] = ' ';
        }
      pm_scale_reading_set_raw (reading, (const guint8 *) parser->buf, parser->len);
      *out_reading = reading;
      return PM_SCALE_REPLY_READING;
    }

  /* Any other reply to a command: Z, ZI, T, TA, TAC, @, I1, I2, I4, ... */
  for (const char *p = id; *p != '\0'; p++)
    {
      if (!g_ascii_isupper (*p) && !g_ascii_isdigit (*p) && *p != '@')
        return PM_SCALE_REPLY_NONE;
    }

  g_strlcpy (parser->last_id, id, sizeof parser->last_id);

  if (strcmp (status, "A") == 0 || strcmp (status, "S") == 0
      || strcmp (status, "D") == 0 || strcmp (status, "B") == 0)
    return PM_SCALE_REPLY_ACK;

  return PM_SCALE_REPLY_REFUSED;
}

PmScaleReplyKind
pm_sics_parser_push (PmSicsParser     *parser,
                     guint8            byte,
                     PmScaleReading  **out_reading)
{
  PmScaleReplyKind kind;

  *out_reading = NULL;

  if (byte == LF)
    {
      if (parser->overflow)
        {
          pm_sics_parser_reset (parser);
          return PM_SCALE_REPLY_NONE;
        }
      if (parser->len > 0 && parser->buf[parser->len - 1] == CR)
        parser->len--;
      kind = decode_line (parser, out_reading);
      pm_sics_parser_reset (parser);
      return kind;
    }

  if (parser->overflow)
    return PM_SCALE_REPLY_NONE;

  /* Keep room for the terminating NUL the tokenizer needs. */
  if (parser->len + 1 >= sizeof parser->buf)
    {
      parser->overflow = TRUE;
      return PM_SCALE_REPLY_NONE;
    }

  parser->buf[parser->len++] = (char) byte;
  return PM_SCALE_REPLY_NONE;
}
