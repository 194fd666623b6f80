/* pm-scale-reply.c: number and unit tokens of serial scale replies */
#include "pm-scale-reply.h"

#include <string.h>

#define MAX_DIGITS 9

gboolean
pm_scale_parse_decimal (const char *text,
                        gsize       len,
                        gint64     *out_mantissa,
                        gint8      *out_exponent,
                        gboolean   *out_negative)
{
  gsize i = 0;
  gsize end = len;
  gint64 mantissa = 0;
  int digits = 0;
  int decimals = 0;
  gboolean point = FALSE;
  gboolean negative = FALSE;

  while (i < end && text[i] == ' ')
    i++;
  while (end > i && text[end - 1] == ' ')
    end--;

  if (i < end && (text[i] == '-' || text[i] == '+'))
    {
      negative = text[i] == '-';
      i++;
      /* Fixed-width fields pad between the sign and the digits. */
      while (i < end && text[i] == ' ')
        i++;
    }

  for (; i < end; i++)
    {
      char c = text[i];

      if (c == '.')
        {
          if (point)
            return FALSE;
          point = TRUE;
        }
      else if (c >= '0' && c <= '9')
        {
          if (++digits > MAX_DIGITS)
            return FALSE;
          mantissa = mantissa * 10 + (c - '0');
          if (point)
            decimals++;
        }
      else
        {
          return FALSE;
        }
    }

  if (digits == 0)
    return FALSE;

  *out_mantissa = mantissa;
  *out_exponent = (gint8) -decimals;
  *out_negative = negative && mantissa != 0;

  return TRUE;
}

gboolean
pm_scale_parse_unit (const char   *text,
                     gsize         len,
                     PmWeightUnit *out_unit)
{
  static const struct
  {
    const char   *name;
    PmWeightUnit  unit;
  } units[] = {
    { "g", PM_WEIGHT_UNIT_GRAM },
    { "kg", PM_WEIGHT_UNIT_KILOGRAM },
    { "mg", PM_WEIGHT_UNIT_MILLIGRAM },
    { "oz", PM_WEIGHT_UNIT_OUNCE },
    { "lb", PM_WEIGHT_UNIT_POUND },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (units); i++)
    {
      if (strlen (units[i].name) == len
          && g_ascii_strncasecmp (units[i].name, text, len) == 0)
        {
          *out_unit = units[i].unit;
          return TRUE;
        }
    }

  return FALSE;
}
