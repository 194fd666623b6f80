/* pm-money.h: amounts of money as integer mills (1/1000 dollar)
 *
 * No floating point touches money. Screens show cents; indicia and PSD registers keep mills.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef gint64 PmMills;

#define PM_MILLS_PER_CENT    ((PmMills) 10)
#define PM_MILLS_PER_DOLLAR  ((PmMills) 1000)
/* Far above any meter's funds, far below overflow: the bound every parser enforces. */
#define PM_MILLS_MAX         ((PmMills) 1000000000000000)

#define PM_MONEY_ERROR (pm_money_error_quark ())

typedef enum
{
  PM_MONEY_ERROR_MALFORMED,
  PM_MONEY_ERROR_NEGATIVE,
  PM_MONEY_ERROR_TOO_PRECISE,
  PM_MONEY_ERROR_OVERFLOW,
} PmMoneyError;

GQuark    pm_money_error_quark (void);

/* Accepts "$1.23", "1.23", "0.805", "1,234.56", " $ 7 ": at most three decimals (mills).
 * Refuses negative amounts, garbage and anything above PM_MILLS_MAX. */
gboolean  pm_money_parse       (const char *text,
                                PmMills    *out_mills,
                                GError    **error);
/* The same, with the error messages naming the field ("Refill amount"). */
gboolean  pm_money_parse_field (const char *field_name,
                                const char *text,
                                PmMills    *out_mills,
                                GError    **error);
/* "$1,234.56" for screens; an amount with a part below a cent keeps its mills ("$0.805")
 * rather than hide them. Negative amounts show as "-$1.23". */
char     *pm_money_format      (PmMills     mills);
/* Always three decimals, no grouping: "$1.230", for registers, reports and indicia text. */
char     *pm_money_format_mills (PmMills    mills);
/* FALSE (and *out untouched) when the result would leave [-PM_MILLS_MAX, PM_MILLS_MAX]. */
gboolean  pm_money_add         (PmMills     a,
                                PmMills     b,
                                PmMills    *out_sum);
gboolean  pm_money_subtract    (PmMills     a,
                                PmMills     b,
                                PmMills    *out_difference);
gboolean  pm_money_multiply    (PmMills     a,
                                gint64      factor,
                                PmMills    *out_product);

G_END_DECLS
