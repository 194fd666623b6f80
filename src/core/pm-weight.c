/* pm-weight.c: exact weight arithmetic
 *
 * Weights are rational numbers of a unit; every conversion here is integer arithmetic, with
 * 128-bit intermediates where a product of a mantissa and a picogram factor can pass 64 bits.
 * Nothing rounds except pm_weight_ceil_*(), which rounds up.
 */
#include "pm-weight.h"

#include <string.h>

G_DEFINE_QUARK (pm-weight-error-quark, pm_weight_error)

typedef __int128 PmWide;

#define WIDE_MAX ((PmWide) (((unsigned __int128) 1 << 127) - 1))

static gint64
unit_picograms (PmWeightUnit unit)
{
  switch (unit)
    {
    case PM_WEIGHT_UNIT_MILLIGRAM:
      return PM_PICOGRAMS_PER_MILLIGRAM;
    case PM_WEIGHT_UNIT_GRAM:
      return PM_PICOGRAMS_PER_GRAM;
    case PM_WEIGHT_UNIT_KILOGRAM:
      return PM_PICOGRAMS_PER_KILOGRAM;
    case PM_WEIGHT_UNIT_OUNCE:
      return PM_PICOGRAMS_PER_OUNCE;
    case PM_WEIGHT_UNIT_POUND:
      return PM_PICOGRAMS_PER_POUND;
    default:
      return 0;
    }
}

static gboolean
unit_is_metric (PmWeightUnit unit)
{
  return unit == PM_WEIGHT_UNIT_MILLIGRAM || unit == PM_WEIGHT_UNIT_GRAM
         || unit == PM_WEIGHT_UNIT_KILOGRAM;
}

/* value × 10^power, FALSE if the result leaves the 128-bit range. */
static gboolean
wide_scale_up (PmWide  value,
               int     power,
               PmWide *out)
{
  for (int i = 0; i < power; i++)
    {
      if (value > WIDE_MAX / 10 || value < -(WIDE_MAX / 10))
        return FALSE;
      value *= 10;
    }
  *out = value;
  return TRUE;
}

PmWeight
pm_weight_make (gint64       mantissa,
                gint8        exponent,
                PmWeightUnit unit)
{
  PmWeight weight = { mantissa, exponent, unit };

  return weight;
}

gboolean
pm_weight_to_picograms (const PmWeight *weight,
                        gint64         *out_picograms)
{
  gint64 factor;
  PmWide value;

  g_return_val_if_fail (weight != NULL, FALSE);
  g_return_val_if_fail (out_picograms != NULL, FALSE);

  factor = unit_picograms (weight->unit);
  if (factor == 0)
    return FALSE;

  value = (PmWide) weight->mantissa * factor;
  if (weight->exponent >= 0)
    {
      if (!wide_scale_up (value, weight->exponent, &value))
        return FALSE;
    }
  else
    {
      int power = -weight->exponent;

      if (power > 38)
        {
          /* Below a picogram altogether: a positive weight stays above zero. */
          value = value > 0 ? 1 : 0;
        }
      else
        {
          PmWide divisor = 1;

          for (int i = 0; i < power; i++)
            divisor *= 10;
          /* C division truncates towards zero, which is the ceiling for negative values;
           * positive values need the explicit ceiling. */
          if (value > 0)
            value = (value - 1) / divisor + 1;
          else
            value = value / divisor;
        }
    }

  if (value > G_MAXINT64 || value < G_MININT64)
    return FALSE;

  *out_picograms = (gint64) value;
  return TRUE;
}

int
pm_weight_compare (const PmWeight *a,
                   const PmWeight *b)
{
  PmWide va;
  PmWide vb;
  int low;
  gint64 pa = 0;
  gint64 pb = 0;

  g_return_val_if_fail (a != NULL && b != NULL, 0);

  /* Exact: both as integers at the finer of the two powers of ten, in picograms. */
  low = MIN (a->exponent, b->exponent);
  va = (PmWide) a->mantissa * unit_picograms (a->unit);
  vb = (PmWide) b->mantissa * unit_picograms (b->unit);
  if (wide_scale_up (va, a->exponent - low, &va) && wide_scale_up (vb, b->exponent - low, &vb))
    return (va > vb) - (va < vb);

  /* Exponents too far apart to scale exactly: such weights differ by far more than a
   * picogram, so the rounded picograms order them correctly. */
  pm_weight_to_picograms (a, &pa);
  pm_weight_to_picograms (b, &pb);
  return (pa > pb) - (pa < pb);
}

gint64
pm_weight_ceil_picograms (gint64 picograms,
                          gint64 unit)
{
  g_return_val_if_fail (unit > 0, -1);

  if (picograms < 0)
    return -1;
  /* No "+ unit - 1": it could overflow near the top of the range. */
  return picograms / unit + (picograms % unit != 0 ? 1 : 0);
}

static gint64
ceil_to (const PmWeight *weight,
         gint64          unit)
{
  gint64 picograms;

  g_return_val_if_fail (weight != NULL, -1);

  if (!pm_weight_to_picograms (weight, &picograms))
    return -1;
  return pm_weight_ceil_picograms (picograms, unit);
}

gint64
pm_weight_ceil_ounces (const PmWeight *weight)
{
  return ceil_to (weight, PM_PICOGRAMS_PER_OUNCE);
}

gint64
pm_weight_ceil_pounds (const PmWeight *weight)
{
  return ceil_to (weight, PM_PICOGRAMS_PER_POUND);
}

/* ---- parsing ---- */

typedef struct
{
  const char   *word;
  PmWeightUnit  unit;
} UnitWord;

static const UnitWord unit_words[] = {
  { "mg", PM_WEIGHT_UNIT_MILLIGRAM },
  { "milligram", PM_WEIGHT_UNIT_MILLIGRAM },
  { "milligrams", PM_WEIGHT_UNIT_MILLIGRAM },
  { "g", PM_WEIGHT_UNIT_GRAM },
  { "gram", PM_WEIGHT_UNIT_GRAM },
  { "grams", PM_WEIGHT_UNIT_GRAM },
  { "kg", PM_WEIGHT_UNIT_KILOGRAM },
  { "kgs", PM_WEIGHT_UNIT_KILOGRAM },
  { "kilo", PM_WEIGHT_UNIT_KILOGRAM },
  { "kilos", PM_WEIGHT_UNIT_KILOGRAM },
  { "kilogram", PM_WEIGHT_UNIT_KILOGRAM },
  { "kilograms", PM_WEIGHT_UNIT_KILOGRAM },
  { "oz", PM_WEIGHT_UNIT_OUNCE },
  { "ozs", PM_WEIGHT_UNIT_OUNCE },
  { "ounce", PM_WEIGHT_UNIT_OUNCE },
  { "ounces", PM_WEIGHT_UNIT_OUNCE },
  { "lb", PM_WEIGHT_UNIT_POUND },
  { "lbs", PM_WEIGHT_UNIT_POUND },
  { "#", PM_WEIGHT_UNIT_POUND },
  { "pound", PM_WEIGHT_UNIT_POUND },
  { "pounds", PM_WEIGHT_UNIT_POUND },
};

/* Size of each unit in the next smaller unit of its system; parse combines terms such as
 * "2 lb 3 oz" by converting the larger unit down. */
static gint64
unit_ratio (PmWeightUnit from,
            PmWeightUnit to)
{
  if (from == to)
    return 1;
  if (from == PM_WEIGHT_UNIT_POUND && to == PM_WEIGHT_UNIT_OUNCE)
    return 16;
  if (from == PM_WEIGHT_UNIT_KILOGRAM && to == PM_WEIGHT_UNIT_GRAM)
    return 1000;
  if (from == PM_WEIGHT_UNIT_GRAM && to == PM_WEIGHT_UNIT_MILLIGRAM)
    return 1000;
  if (from == PM_WEIGHT_UNIT_KILOGRAM && to == PM_WEIGHT_UNIT_MILLIGRAM)
    return 1000000;
  return 0;
}

#define MAX_TERMS    3
#define MAX_DECIMALS 6
#define MAX_DIGITS   15

typedef struct
{
  gint64       mantissa;
  int          exponent;
  PmWeightUnit unit;
} Term;

static gboolean
parse_number (const char  *text,
              const char **inout_p,
              Term        *term,
              GError     **error)
{
  const char *p = *inout_p;
  gint64 mantissa = 0;
  int digits = 0;
  int decimals = 0;
  gboolean seen_point = FALSE;

  for (;; p++)
    {
      if (*p == '.' && !seen_point)
        {
          seen_point = TRUE;
          continue;
        }
      if (!g_ascii_isdigit (*p))
        break;

      if (seen_point)
        decimals++;
      if (mantissa != 0 || *p != '0')
        digits++;
      if (digits > MAX_DIGITS)
        {
          g_set_error (error, PM_WEIGHT_ERROR, PM_WEIGHT_ERROR_OUT_OF_RANGE,
                       "Weight “%s” has too many digits; no postal piece weighs that much "
                       "or needs that precision", text);
          return FALSE;
        }
      mantissa = mantissa * 10 + (*p - '0');
    }

  if (digits == 0 && p == *inout_p + (seen_point ? 1 : 0))
    {
      g_set_error (error, PM_WEIGHT_ERROR, PM_WEIGHT_ERROR_MALFORMED,
                   "Weight “%s” is not a weight; type it like 3.5 oz, 2 lb 3.4 oz or "
                   "120 g", text);
      return FALSE;
    }

  if (decimals > MAX_DECIMALS)
    {
      g_set_error (error, PM_WEIGHT_ERROR, PM_WEIGHT_ERROR_MALFORMED,
                   "Weight “%s” has more than %d decimals; no scale is that precise", text,
                   MAX_DECIMALS);
      return FALSE;
    }

  term->mantissa = mantissa;
  term->exponent = -decimals;
  *inout_p = p;
  return TRUE;
}

static gboolean
parse_unit (const char  *text,
            const char **inout_p,
            Term        *term,
            GError     **error)
{
  const char *p = *inout_p;
  const char *start = p;
  gsize length;

  if (*p == '#')
    p++;
  else
    while (g_ascii_isalpha (*p))
      p++;
  length = p - start;

  if (length > 0)
    {
      for (gsize i = 0; i < G_N_ELEMENTS (unit_words); i++)
        {
          if (strlen (unit_words[i].word) == length
              && g_ascii_strncasecmp (unit_words[i].word, start, length) == 0)
            {
              /* A dotted abbreviation such as "lb." or "oz." */
              if (*p == '.')
                p++;
              term->unit = unit_words[i].unit;
              *inout_p = p;
              return TRUE;
            }
        }
    }

  if (length == 0)
    g_set_error (error, PM_WEIGHT_ERROR, PM_WEIGHT_ERROR_UNKNOWN_UNIT,
                 "Weight “%s” has no unit; add oz, lb, g or kg", text);
  else
    g_set_error (error, PM_WEIGHT_ERROR, PM_WEIGHT_ERROR_UNKNOWN_UNIT,
                 "Weight “%s” uses the unit “%.*s”, which is not known; use oz, lb, g or kg",
                 text, (int) length, start);
  return FALSE;
}

static void
skip_blanks (const char **p)
{
  while (**p == ' ' || **p == '\t' || **p == ',')
    (*p)++;
}

gboolean
pm_weight_parse (const char *text,
                 PmWeight   *out_weight,
                 GError    **error)
{
  Term terms[MAX_TERMS];
  int n_terms = 0;
  const char *p;
  int low_exponent = 0;
  PmWeightUnit target;
  PmWide total = 0;
  PmWeight result;
  gint64 picograms;

  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (out_weight != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  p = text;
  while (*p == ' ' || *p == '\t')
    p++;

  if (*p == '-')
    {
      g_set_error (error, PM_WEIGHT_ERROR, PM_WEIGHT_ERROR_NEGATIVE,
                   "Weight “%s” is negative; take the piece off the scale, zero it and "
                   "weigh again", text);
      return FALSE;
    }

  if (*p == '\0')
    {
      g_set_error (error, PM_WEIGHT_ERROR, PM_WEIGHT_ERROR_MALFORMED,
                   "Weight is empty; type it like 3.5 oz, 2 lb 3.4 oz or 120 g");
      return FALSE;
    }

  while (*p != '\0')
    {
      Term *term;

      if (n_terms == MAX_TERMS)
        {
          g_set_error (error, PM_WEIGHT_ERROR, PM_WEIGHT_ERROR_MALFORMED,
                       "Weight “%s” has too many parts; type it like 2 lb 3.4 oz", text);
          return FALSE;
        }
      term = &terms[n_terms];

      if (!parse_number (text, &p, term, error))
        return FALSE;
      while (*p == ' ' || *p == '\t')
        p++;
      if (!parse_unit (text, &p, term, error))
        return FALSE;
      if (*p != '\0' && *p != ' ' && *p != '\t' && *p != ',' && !g_ascii_isdigit (*p)
          && *p != '.')
        {
          g_set_error (error, PM_WEIGHT_ERROR, PM_WEIGHT_ERROR_MALFORMED,
                       "Weight “%s” is not a weight; type it like 3.5 oz, 2 lb 3.4 oz or "
                       "120 g", text);
          return FALSE;
        }

      if (n_terms > 0)
        {
          PmWeightUnit previous = terms[n_terms - 1].unit;

          if (unit_is_metric (previous) != unit_is_metric (term->unit))
            {
              g_set_error (error, PM_WEIGHT_ERROR, PM_WEIGHT_ERROR_MALFORMED,
                           "Weight “%s” mixes pounds or ounces with metric units; use one "
                           "kind", text);
              return FALSE;
            }
          if (unit_picograms (term->unit) >= unit_picograms (previous))
            {
              g_set_error (error, PM_WEIGHT_ERROR, PM_WEIGHT_ERROR_MALFORMED,
                           "Weight “%s” gives its parts in the wrong order; put the larger "
                           "unit first, like 2 lb 3.4 oz", text);
              return FALSE;
            }
        }

      low_exponent = MIN (low_exponent, term->exponent);
      n_terms++;
      skip_blanks (&p);
    }

  /* Combine in the finest unit and decimal given, exactly. */
  target = terms[n_terms - 1].unit;
  for (int i = 0; i < n_terms; i++)
    {
      PmWide part = (PmWide) terms[i].mantissa * unit_ratio (terms[i].unit, target);

      if (!wide_scale_up (part, terms[i].exponent - low_exponent, &part))
        goto too_heavy;
      total += part;
      if (total > G_MAXINT64)
        goto too_heavy;
    }

  result = pm_weight_make ((gint64) total, (gint8) low_exponent, target);
  if (!pm_weight_to_picograms (&result, &picograms) || picograms > PM_WEIGHT_MAX_PICOGRAMS)
    goto too_heavy;

  *out_weight = result;
  return TRUE;

too_heavy:
  g_set_error (error, PM_WEIGHT_ERROR, PM_WEIGHT_ERROR_OUT_OF_RANGE,
               "Weight “%s” is above 2,000 lb, more than any piece of mail can weigh; "
               "check the number and the unit", text);
  return FALSE;
}

/* ---- formatting ---- */

/* value × 10^-decimals as text, trailing zeros of the fraction removed. */
static void
append_decimal (GString *out,
                guint64  value,
                int      decimals)
{
  guint64 scale = 1;

  while (decimals > 0 && value % 10 == 0)
    {
      value /= 10;
      decimals--;
    }
  for (int i = 0; i < decimals; i++)
    scale *= 10;

  g_string_append_printf (out, "%" G_GUINT64_FORMAT, value / scale);
  if (decimals > 0)
    g_string_append_printf (out, ".%0*" G_GUINT64_FORMAT, decimals, value % scale);
}

/* The weight as an exact count of 10^-decimals of `unit`, where unit is ounces for
 * avoirdupois weights and grams for metric ones. */
static gboolean
to_display_units (const PmWeight *weight,
                  guint64        *out_value,
                  int            *out_decimals,
                  gboolean       *out_negative)
{
  PmWeightUnit base = unit_is_metric (weight->unit) ? PM_WEIGHT_UNIT_GRAM
                                                     : PM_WEIGHT_UNIT_OUNCE;
  PmWide value = weight->mantissa;
  int decimals = weight->exponent < 0 ? -weight->exponent : 0;

  if (weight->unit == PM_WEIGHT_UNIT_MILLIGRAM)
    decimals += 3;
  else
    value *= unit_ratio (weight->unit, base);

  if (weight->exponent > 0 && !wide_scale_up (value, weight->exponent, &value))
    return FALSE;

  *out_negative = value < 0;
  if (value < 0)
    value = -value;
  if (value > G_MAXUINT64 || decimals > 18)
    return FALSE;

  *out_value = (guint64) value;
  *out_decimals = decimals;
  return TRUE;
}

char *
pm_weight_format (const PmWeight *weight)
{
  GString *out;
  guint64 value;
  int decimals;
  gboolean negative;
  guint64 scale = 1;
  gint64 picograms;

  g_return_val_if_fail (weight != NULL, NULL);

  if (!pm_weight_to_picograms (weight, &picograms)
      || !to_display_units (weight, &value, &decimals, &negative))
    return g_strdup ("(weight out of range)");

  out = g_string_new (negative ? "-" : NULL);
  for (int i = 0; i < decimals; i++)
    scale *= 10;

  if (unit_is_metric (weight->unit))
    {
      /* Grams below a kilogram, kilograms from there up. */
      if (value / scale < 1000)
        {
          append_decimal (out, value, decimals);
          g_string_append (out, " g");
        }
      else
        {
          append_decimal (out, value, decimals + 3);
          g_string_append (out, " kg");
        }
    }
  else
    {
      /* The split is exact integer division of the whole, so the ounce part is always
       * below 16 and nothing is rounded away. */
      guint64 pound = 16 * scale;
      guint64 pounds = value / pound;
      guint64 ounces = value % pound;

      if (pounds > 0)
        {
          g_string_append_printf (out, "%" G_GUINT64_FORMAT " lb", pounds);
          if (ounces != 0)
            g_string_append_c (out, ' ');
        }
      if (pounds == 0 || ounces != 0)
        {
          append_decimal (out, ounces, decimals);
          g_string_append (out, " oz");
        }
    }

  return g_string_free (out, FALSE);
}

char *
pm_weight_format_ounces (const PmWeight *weight)
{
  GString *out;
  guint64 value;
  int decimals;
  gboolean negative;
  gint64 picograms;

  g_return_val_if_fail (weight != NULL, NULL);

  if (!pm_weight_to_picograms (weight, &picograms))
    return g_strdup ("(weight out of range)");

  if (unit_is_metric (weight->unit))
    {
      /* A metric weight has no exact decimal in ounces: show it to the thousandth of an
       * ounce, rounded up like every billing step. */
      guint64 thousandths;

      negative = picograms < 0;
      thousandths = (guint64) pm_weight_ceil_picograms (ABS (picograms),
                                                        PM_PICOGRAMS_PER_OUNCE / 1000);
      out = g_string_new (negative ? "-" : NULL);
      append_decimal (out, thousandths, 3);
      g_string_append (out, " oz");
      return g_string_free (out, FALSE);
    }

  if (!to_display_units (weight, &value, &decimals, &negative))
    return g_strdup ("(weight out of range)");
  out = g_string_new (negative ? "-" : NULL);
  append_decimal (out, value, decimals);
  g_string_append (out, " oz");
  return g_string_free (out, FALSE);
}
