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

#define PM_PICOGRAMS_PER_MILLIGRAM G_GINT64_CONSTANT (1000000000)
#define PM_PICOGRAMS_PER_GRAM   G_GINT64_CONSTANT (1000000000000)
#define PM_PICOGRAMS_PER_KILOGRAM G_GINT64_CONSTANT (1000000000000000)
#define PM_PICOGRAMS_PER_OUNCE  G_GINT64_CONSTANT (28349523125000)
#define PM_PICOGRAMS_PER_POUND  G_GINT64_CONSTANT (453592370000000)

/* The heaviest weight text or a scale may give: 2,000 lb, far above any postal limit and
 * far inside the picogram range, so every accepted weight converts exactly. */
#define PM_WEIGHT_MAX_PICOGRAMS (2000 * PM_PICOGRAMS_PER_POUND)

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
/* FALSE when the weight does not fit in picograms (never for a postal scale). A weight
 * finer than a picogram (a millionth of an ounce to the seventh decimal) is rounded up,
 * never down, so it cannot slip under a rate break. */
gboolean pm_weight_to_picograms    (const PmWeight *weight,
                                    gint64         *out_picograms);
/* Exact for any two weights within the picogram range. */
int      pm_weight_compare         (const PmWeight *a,
                                    const PmWeight *b);
/* Accepts "3.5 oz", "2 lb 3.4 oz", "2lb 3oz", "120 g", "1.25 lb", "0.45 kg", "1 kg 200 g",
 * "500 mg" and the spelled-out units. The result keeps the finest unit and decimal given,
 * so "2 lb 3.4 oz" becomes 35.4 oz exactly. */
gboolean pm_weight_parse           (const char    *text,
                                    PmWeight      *out_weight,
                                    GError       **error);
/* "2 lb 3.4 oz", "3.5 oz", "1 lb", "120 g", "1.25 kg": pounds and ounces for avoirdupois
 * weights, grams or kilograms for metric ones. Never "1 lb 16 oz"; never drops a digit
 * the weight has (trailing zeros aside). */
char    *pm_weight_format          (const PmWeight *weight);
/* The same weight in ounces, e.g. "35.4 oz", for receipts and logs. */
char    *pm_weight_format_ounces   (const PmWeight *weight);
/* Whole ounces or pounds billed, rounded up: the one place rounding happens. A weight
 * above zero is never billed as zero; a negative or unconvertible weight gives -1. */
gint64   pm_weight_ceil_ounces     (const PmWeight *weight);
gint64   pm_weight_ceil_pounds     (const PmWeight *weight);
/* The same ceiling, for callers that already hold picograms (rating's hot path). */
gint64   pm_weight_ceil_picograms  (gint64          picograms,
                                    gint64          unit_picograms);

G_END_DECLS
