/* pm-weight.h: weights kept exactly as a scale reports them
 *
 * A weight is an integer mantissa, a power of ten and a unit, as received. Comparison and
 * conversion go through picograms, in which grams, milligrams, tenths and thousandths of
 * an ounce and hundredths of a pound are all whole numbers (1 oz = 28 349 523 125 000 pg),
 * so a rate break compares exactly whatever unit the scale speaks.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  PM_WEIGHT_UNIT_MILLIGRAM,
  PM_WEIGHT_UNIT_GRAM,
  PM_WEIGHT_UNIT_KILOGRAM,
  PM_WEIGHT_UNIT_OUNCE,
  PM_WEIGHT_UNIT_POUND,
} PmWeightUnit;

typedef struct
{
  gint64       mantissa;
  gint8        exponent;   /* power of ten: -1 for tenths */
  PmWeightUnit unit;
} PmWeight;

#define PM_PICOGRAMS_PER_GRAM   G_GINT64_CONSTANT (1000000000000)
#define PM_PICOGRAMS_PER_OUNCE  G_GINT64_CONSTANT (28349523125000)
#define PM_PICOGRAMS_PER_POUND  G_GINT64_CONSTANT (453592370000000)

#define PM_WEIGHT_ERROR (pm_weight_error_quark ())

typedef enum
{
  PM_WEIGHT_ERROR_MALFORMED,
  PM_WEIGHT_ERROR_NEGATIVE,
  PM_WEIGHT_ERROR_OUT_OF_RANGE,
  PM_WEIGHT_ERROR_UNKNOWN_UNIT,
} PmWeightError;

GQuark   pm_weight_error_quark     (void);

PmWeight pm_weight_make            (gint64        mantissa,
                                    gint8         exponent,
                                    PmWeightUnit  unit);
/* FALSE when the weight does not fit in picograms (never for a postal scale). */
gboolean pm_weight_to_picograms    (const PmWeight *weight,
                                    gint64         *out_picograms);
int      pm_weight_compare         (const PmWeight *a,
                                    const PmWeight *b);
gboolean pm_weight_parse           (const char    *text,
                                    PmWeight      *out_weight,
                                    GError       **error);
char    *pm_weight_format          (const PmWeight *weight);
/* Whole ounces or pounds billed, rounded up: the one place rounding happens. */
gint64   pm_weight_ceil_ounces     (const PmWeight *weight);
gint64   pm_weight_ceil_pounds     (const PmWeight *weight);

G_END_DECLS
