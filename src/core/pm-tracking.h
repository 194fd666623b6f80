/* pm-tracking.h: tracking numbers and their check digits
 *
 * A shipping label carries a tracking number, and a number with one mistyped digit sends
 * the customer to someone else's parcel. Every carrier's number ends in a check digit;
 * this module computes and verifies them for:
 *
 *  - USPS Intelligent Mail package barcode (IMpb): 22 or 26 digits starting 91 to 95 (the
 *    channel application identifier), mod 10 with weights 3 and 1 from the rightmost data
 *    digit; also with the routing prefix 420 + ZIP Code (5 or 9 digits) in front, as the
 *    concatenated barcode carries it (30, 34 or 38 digits).
 *  - UPS: "1Z", 6 shipper, 2 service, 7 package characters and a check digit; mod 10 over
 *    the 15 characters after 1Z, letters as (ASCII - 3) mod 10, odd positions doubled.
 *  - FedEx Express, 12 digits: weights 3, 1, 7 from the left, (sum mod 11) mod 10.
 *  - FedEx Ground, 15 digits: mod 10, weights 3 and 1 from the rightmost data digit.
 *  - UPU S10 (international mail): 2 letters, 8 digits, check digit, ISO country code;
 *    weights 8 6 4 2 3 5 9 7, 11 - (sum mod 11), 10 becomes 0 and 11 becomes 5.
 *
 * Numbers are accepted as people type or scan them: blanks anywhere, letters in either
 * case. No allocation on the validation path, so it can run on every keystroke.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define PM_TRACKING_ERROR (pm_tracking_error_quark ())

typedef enum
{
  PM_TRACKING_ERROR_EMPTY,
  PM_TRACKING_ERROR_MALFORMED,      /* wrong length or characters for the kind */
  PM_TRACKING_ERROR_CHECK_DIGIT,    /* well formed, but the check digit is wrong */
  PM_TRACKING_ERROR_UNKNOWN_FORMAT, /* no known kind has this shape */
} PmTrackingError;

GQuark pm_tracking_error_quark (void);

typedef enum
{
  PM_TRACKING_KIND_USPS_IMPB,
  PM_TRACKING_KIND_UPS,
  PM_TRACKING_KIND_FEDEX_EXPRESS,   /* 12 digits */
  PM_TRACKING_KIND_FEDEX_GROUND,    /* 15 digits */
  PM_TRACKING_KIND_UPU_S10,
} PmTrackingKind;
#define PM_TRACKING_KIND_COUNT 5

/* The longest text a number may have once blanks are removed (38: 420 + ZIP+4 + 26). */
#define PM_TRACKING_MAX_CHARS 38

typedef struct
{
  PmTrackingKind kind;
  /* The number itself: no blanks, letters upper case, no 420 + ZIP prefix. */
  char           number[PM_TRACKING_MAX_CHARS + 1];
  /* IMpb only: the destination ZIP Code of a 420 prefix (5 or 9 digits), else "". */
  char           routing_zip[10];
} PmTracking;

/* The kind's name for messages: "USPS", "UPS", "FedEx Express", "FedEx Ground", "UPU S10". */
const char *pm_tracking_kind_get_name     (PmTrackingKind   kind);

/* Checks text as a number of the given kind. On success fills *out (may be NULL). */
gboolean    pm_tracking_validate          (PmTrackingKind   kind,
                                           const char      *text,
                                           PmTracking      *out,
                                           GError         **error);
/* Recognizes the kind from the shape of the number, then validates it. */
gboolean    pm_tracking_parse             (const char      *text,
                                           PmTracking      *out,
                                           GError         **error);
/* The check digit of a number without it (no blanks, no 420 + ZIP): 21 or 25 IMpb digits,
 * 1Z and 15 UPS characters, 11 or 14 FedEx digits, or an S10 number's 2 letters and 8
 * digits. -1 when data does not have the kind's shape. */
int         pm_tracking_compute_check_digit (PmTrackingKind kind,
                                             const char    *data);

G_END_DECLS
