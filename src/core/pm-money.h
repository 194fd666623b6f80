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

gboolean  pm_money_parse       (const char *text,
                                PmMills    *out_mills,
                                GError    **error);
char     *pm_money_format      (PmMills     mills);
char     *pm_money_format_mills (PmMills    mills);
gboolean  pm_money_add         (PmMills     a,
                                PmMills     b,
                                PmMills    *out_sum);
gboolean  pm_money_multiply    (PmMills     a,
                                gint64      factor,
                                PmMills    *out_product);

G_END_DECLS
