/* pm-money.c: parsing, formatting and checked arithmetic of mills
 *
 * Every operation stays in integers and checks its bounds, so an amount typed by a person or
 * read from a rate package can never wrap around or lose a mill on the way to the PSD.
 */
#include "pm-money.h"

#include <string.h>

G_DEFINE_QUARK (pm-money-error-quark, pm_money_error)

static gboolean
is_blank (char c)
{
  return c == ' ' || c == '\t';
}

static gboolean
in_range (PmMills value)
{
  return value >= -PM_MILLS_MAX && value <= PM_MILLS_MAX;
}

/* Digits before the point, optionally grouped by commas in threes ("12,345"). */
static gboolean
parse_whole_part (const char  *field,
                  const char  *text,
                  const char **inout_p,
                  PmMills     *out_dollars,
                  GError     **error)
{
  const char *p = *inout_p;
  PmMills dollars = 0;
  int digits = 0;          /* digits in the current group */
  gboolean grouped = FALSE;
  gboolean overflow = FALSE;

  while (g_ascii_isdigit (*p) || *p == ',')
    {
      if (*p == ',')
        {
          /* A comma must follow 1-3 digits (first group) or exactly 3 (later groups). */
          if (digits == 0 || digits > 3 || (grouped && digits != 3))
            goto malformed;
          grouped = TRUE;
          digits = 0;
          p++;
          continue;
        }

      if (dollars > PM_MILLS_MAX / PM_MILLS_PER_DOLLAR)
        overflow = TRUE;
      else
        dollars = dollars * 10 + (*p - '0');
      digits++;
      p++;
    }

  if (grouped && digits != 3)
    goto malformed;

  if (overflow || dollars > PM_MILLS_MAX / PM_MILLS_PER_DOLLAR)
    {
      g_set_error (error, PM_MONEY_ERROR, PM_MONEY_ERROR_OVERFLOW,
                   "%s “%s” is larger than any amount a meter can hold", field, text);
      return FALSE;
    }

  *inout_p = p;
  *out_dollars = dollars;
  return TRUE;

malformed:
  g_set_error (error, PM_MONEY_ERROR, PM_MONEY_ERROR_MALFORMED,
               "%s “%s” is not an amount of money: put commas only between groups of "
               "three digits, as in 1,234.56", field, text);
  return FALSE;
}

gboolean
pm_money_parse_field (const char *field_name,
                      const char *text,
                      PmMills    *out_mills,
                      GError    **error)
{
  const char *p;
  PmMills dollars = 0;
  PmMills fraction = 0;
  int fraction_digits = 0;
  gboolean any_digit;
  gboolean negative = FALSE;

  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (out_mills != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (field_name == NULL)
    field_name = "Amount";

  p = text;
  while (is_blank (*p))
    p++;
  if (*p == '-' || *p == '+')
    {
      negative = (*p == '-');
      p++;
      while (is_blank (*p))
        p++;
    }
  if (*p == '$')
    {
      p++;
      while (is_blank (*p))
        p++;
    }
  /* "$-1.00" is as negative as "-$1.00". */
  if (*p == '-' && !negative)
    {
      negative = TRUE;
      p++;
    }

  any_digit = g_ascii_isdigit (*p);
  if (!parse_whole_part (field_name, text, &p, &dollars, error))
    return FALSE;

  if (*p == '.')
    {
      p++;
      while (g_ascii_isdigit (*p))
        {
          any_digit = TRUE;
          if (fraction_digits < 3)
            fraction = fraction * 10 + (*p - '0');
          else if (*p != '0')
            {
              g_set_error (error, PM_MONEY_ERROR, PM_MONEY_ERROR_TOO_PRECISE,
                           "%s “%s” is finer than a mill (a tenth of a cent); "
                           "give at most three decimals", field_name, text);
              return FALSE;
            }
          fraction_digits++;
          p++;
        }
    }

  while (is_blank (*p))
    p++;

  if (!any_digit || *p != '\0')
    {
      g_set_error (error, PM_MONEY_ERROR, PM_MONEY_ERROR_MALFORMED,
                   "%s “%s” is not an amount of money; type it like $1.23", field_name,
                   text);
      return FALSE;
    }

  for (int i = fraction_digits; i < 3; i++)
    fraction *= 10;

  if (negative && (dollars != 0 || fraction != 0))
    {
      g_set_error (error, PM_MONEY_ERROR, PM_MONEY_ERROR_NEGATIVE,
                   "%s “%s” is negative; amounts of postage and funds are never below "
                   "zero", field_name, text);
      return FALSE;
    }

  if (dollars * PM_MILLS_PER_DOLLAR > PM_MILLS_MAX - fraction)
    {
      g_set_error (error, PM_MONEY_ERROR, PM_MONEY_ERROR_OVERFLOW,
                   "%s “%s” is larger than any amount a meter can hold", field_name, text);
      return FALSE;
    }

  *out_mills = dollars * PM_MILLS_PER_DOLLAR + fraction;
  return TRUE;
}

gboolean
pm_money_parse (const char *text,
                PmMills    *out_mills,
                GError    **error)
{
  return pm_money_parse_field (NULL, text, out_mills, error);
}

/* Dollars with a comma between groups of three digits. */
static void
append_grouped (GString *out,
                guint64  dollars)
{
  char digits[32];
  int n;

  n = g_snprintf (digits, sizeof digits, "%" G_GUINT64_FORMAT, dollars);
  for (int i = 0; i < n; i++)
    {
      if (i > 0 && (n - i) % 3 == 0)
        g_string_append_c (out, ',');
      g_string_append_c (out, digits[i]);
    }
}

static char *
format_amount (PmMills  mills,
               gboolean for_screen)
{
  GString *out = g_string_new (NULL);
  guint64 magnitude;
  guint64 dollars;
  guint64 rest;

  /* Negating G_MININT64 is undefined; go through the unsigned type. */
  magnitude = mills < 0 ? (guint64) 0 - (guint64) mills : (guint64) mills;
  dollars = magnitude / 1000;
  rest = magnitude % 1000;

  if (mills < 0)
    g_string_append_c (out, '-');
  g_string_append_c (out, '$');

  if (for_screen)
    {
      append_grouped (out, dollars);
      if (rest % 10 == 0)
        g_string_append_printf (out, ".%02u", (guint) (rest / 10));
      else
        g_string_append_printf (out, ".%03u", (guint) rest);
    }
  else
    {
      g_string_append_printf (out, "%" G_GUINT64_FORMAT ".%03u", dollars, (guint) rest);
    }

  return g_string_free (out, FALSE);
}

char *
pm_money_format (PmMills mills)
{
  return format_amount (mills, TRUE);
}

char *
pm_money_format_mills (PmMills mills)
{
  return format_amount (mills, FALSE);
}

gboolean
pm_money_add (PmMills  a,
              PmMills  b,
              PmMills *out_sum)
{
  PmMills sum;

  g_return_val_if_fail (out_sum != NULL, FALSE);

  if (!in_range (a) || !in_range (b))
    return FALSE;
  /* Both are within ±PM_MILLS_MAX, so the sum cannot overflow 64 bits. */
  sum = a + b;
  if (!in_range (sum))
    return FALSE;

  *out_sum = sum;
  return TRUE;
}

gboolean
pm_money_subtract (PmMills  a,
                   PmMills  b,
                   PmMills *out_difference)
{
  g_return_val_if_fail (out_difference != NULL, FALSE);

  if (!in_range (b))
    return FALSE;
  return pm_money_add (a, -b, out_difference);
}

gboolean
pm_money_multiply (PmMills  a,
                   gint64   factor,
                   PmMills *out_product)
{
  PmMills product;

  g_return_val_if_fail (out_product != NULL, FALSE);

  if (!in_range (a))
    return FALSE;
  if (__builtin_mul_overflow (a, factor, &product) || !in_range (product))
    return FALSE;

  *out_product = product;
  return TRUE;
}
