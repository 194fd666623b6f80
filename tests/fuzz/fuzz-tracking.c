/* fuzz-tracking: libFuzzer target for the tracking number validator
 *
 * Each input, as text, is parsed for any kind and validated as each kind. An accepted
 * number must be consistent: its normalized form validates again as the same kind, its
 * check digit is the one pm_tracking_compute_check_digit() gives, and a 420 + ZIP prefix
 * appears only on USPS numbers.
 */
#include <stdint.h>
#include <stddef.h>
#include <string.h>

#include "pm-tracking.h"

int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t         size);

static void
check_accepted (const PmTracking *tracking)
{
  PmTracking again;
  char body[PM_TRACKING_MAX_CHARS + 1];
  gsize length = strlen (tracking->number);
  gsize check = tracking->kind == PM_TRACKING_KIND_UPU_S10 ? 10 : length - 1;

  if (length == 0 || length > PM_TRACKING_MAX_CHARS)
    __builtin_trap ();
  if (!pm_tracking_validate (tracking->kind, tracking->number, &again, NULL)
      || again.kind != tracking->kind || strcmp (again.number, tracking->number) != 0)
    __builtin_trap ();
  if (tracking->kind != PM_TRACKING_KIND_USPS_IMPB && tracking->routing_zip[0] != '\0')
    __builtin_trap ();

  memcpy (body, tracking->number, check);
  body[check] = '\0';
  if (pm_tracking_compute_check_digit (tracking->kind, body) != tracking->number[check] - '0')
    __builtin_trap ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autofree char *text = g_strndup ((const char *) data, size);
  PmTracking tracking;

  if (pm_tracking_parse (text, &tracking, NULL))
    check_accepted (&tracking);
  for (guint kind = 0; kind < PM_TRACKING_KIND_COUNT; kind++)
    {
      if (pm_tracking_validate ((PmTrackingKind) kind, text, &tracking, NULL))
        {
          if (tracking.kind != (PmTrackingKind) kind)
            __builtin_trap ();
          check_accepted (&tracking);
        }
      /* The raw bytes as data for the check digit: any answer, but no crash. */
      (void) pm_tracking_compute_check_digit ((PmTrackingKind) kind, text);
    }
  return 0;
}
