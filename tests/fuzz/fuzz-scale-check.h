/* fuzz-scale-check.h: what every scale parser must hold to, whatever the bytes
 *
 * A reading is a weight, a state or "unreadable", never a wrong weight: a stable reading
 * carries a non-negative weight in a mass unit, a weight is never claimed for a state that
 * has none, and postable is decided by the scale object, never by a parser. A failed
 * check aborts, which libFuzzer reports with the input that caused it.
 */
#pragma once

#include <stdlib.h>

#include "pm-scale.h"

static inline void
fuzz_check_reading (const PmScaleReading *reading)
{
  if (reading == NULL)
    abort ();
  if ((guint) reading->state > PM_SCALE_STATE_UNREADABLE)
    abort ();
  if (reading->postable)
    abort ();
  if (reading->has_weight)
    {
      if (reading->weight.mantissa < 0)
        abort ();
      if ((guint) reading->weight.unit > PM_WEIGHT_UNIT_POUND)
        abort ();
      if (reading->resolution.unit != reading->weight.unit
          || reading->resolution.exponent != reading->weight.exponent
          || reading->resolution.mantissa != 1)
        abort ();
      if (reading->state != PM_SCALE_STATE_STABLE && reading->state != PM_SCALE_STATE_MOTION
          && reading->state != PM_SCALE_STATE_ZERO)
        abort ();
    }
  if (reading->state == PM_SCALE_STATE_UNREADABLE && reading->has_weight)
    abort ();
  if (reading->state == PM_SCALE_STATE_UNREADABLE && reading->detail == NULL)
    abort ();
}
