/* pm-tracking.c: tracking number formats and check digits
 *
 * Each check is integer arithmetic over a normalized copy on the stack: blanks removed,
 * letters upper case. The formats and weights are in pm-tracking.h; the vectors that prove
 * them are in tests/core/test-tracking.c.
 */
#include "pm-tracking.h"

#include <string.h>

G_DEFINE_QUARK (pm-tracking-error-quark, pm_tracking_error)

/* The IMpb routing application identifier in front of the destination ZIP Code. */
#define ROUTING_AI "420"

static const guint s10_weights[8] = { 8, 6, 4, 2, 3, 5, 9, 7 };
static const guint fedex_express_weights[3] = { 3, 1, 7 };

const char *
pm_tracking_kind_get_name (PmTrackingKind kind)
{
  switch (kind)
    {
    case PM_TRACKING_KIND_USPS_IMPB:
      return "USPS";
    case PM_TRACKING_KIND_UPS:
      return "UPS";
    case PM_TRACKING_KIND_FEDEX_EXPRESS:
      return "FedEx Express";
    case PM_TRACKING_KIND_FEDEX_GROUND:
      return "FedEx Ground";
    case PM_TRACKING_KIND_UPU_S10:
      return "UPU S10";
    default:
      return NULL;
    }
}

static gboolean
all_digits (const char *text,
            gsize       length)
{
  for (gsize i = 0; i < length; i++)
    if (!g_ascii_isdigit (text[i]))
      return FALSE;
  return TRUE;
}

/* GS1 mod 10: weight 3 on the rightmost data digit, then 1, 3, ... leftwards. */
static int
mod10_weights_3_1 (const char *data,
                   gsize       length)
{
  guint sum = 0;

  for (gsize i = 0; i < length; i++)
    sum += (guint) (data[length - 1 - i] - '0') * (i % 2 == 0 ? 3 : 1);
  return (int) ((10 - sum % 10) % 10);
}

static int
ups_check (const char *data)
{
  guint sum = 0;

  /* The 15 characters after "1Z"; a letter counts as (ASCII - 3) mod 10. */
  for (guint i = 0; i < 15; i++)
    {
      char c = data[2 + i];
      guint value;

      if (g_ascii_isdigit (c))
        value = (guint) (c - '0');
      else if (c >= 'A' && c <= 'Z')
        value = (guint) (c - 3) % 10;
      else
        return -1;
      sum += i % 2 == 1 ? 2 * value : value;
    }
  return (int) ((10 - sum % 10) % 10);
}

static int
fedex_express_check (const char *data)
{
  guint sum = 0;

  for (guint i = 0; i < 11; i++)
    sum += (guint) (data[i] - '0') * fedex_express_weights[i % 3];
  return (int) (sum % 11 % 10);
}

static int
s10_check (const char *serial)
{
  guint sum = 0;
  guint c;

  for (guint i = 0; i < 8; i++)
    sum += (guint) (serial[i] - '0') * s10_weights[i];
  c = 11 - sum % 11;
  return c == 10 ? 0 : c == 11 ? 5 : (int) c;
}

static gboolean
is_upper_letters (const char *text,
                  gsize       length)
{
  for (gsize i = 0; i < length; i++)
    if (text[i] < 'A' || text[i] > 'Z')
      return FALSE;
  return TRUE;
}

/* An IMpb payload without its check digit: 21 or 25 digits, channel 91 to 95. */
static gboolean
impb_shape (const char *data,
            gsize       length)
{
  return (length == 21 || length == 25) && all_digits (data, length) && data[0] == '9'
         && data[1] >= '1' && data[1] <= '5';
}

int
pm_tracking_compute_check_digit (PmTrackingKind  kind,
                                 const char     *data)
{
  gsize length;

  g_return_val_if_fail (data != NULL, -1);

  length = strlen (data);
  switch (kind)
    {
    case PM_TRACKING_KIND_USPS_IMPB:
      return impb_shape (data, length) ? mod10_weights_3_1 (data, length) : -1;
    case PM_TRACKING_KIND_UPS:
      if (length != 17 || data[0] != '1' || data[1] != 'Z')
        return -1;
      return ups_check (data);
    case PM_TRACKING_KIND_FEDEX_EXPRESS:
      return length == 11 && all_digits (data, 11) ? fedex_express_check (data) : -1;
    case PM_TRACKING_KIND_FEDEX_GROUND:
      return length == 14 && all_digits (data, 14) ? mod10_weights_3_1 (data, 14) : -1;
    case PM_TRACKING_KIND_UPU_S10:
      if (length != 10 || !is_upper_letters (data, 2) || !all_digits (data + 2, 8))
        return -1;
      return s10_check (data + 2);
    default:
      return -1;
    }
}

/* Blanks out, letters up; FALSE for any other character or too long a number. */
static gboolean
normalize (const char *text,
           char        out[PM_TRACKING_MAX_CHARS + 1],
           gsize      *out_length)
{
  gsize n = 0;

  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == ' ' || *p == '\t')
        continue;
      if (!g_ascii_isalnum (*p) || n == PM_TRACKING_MAX_CHARS)
        return FALSE;
      out[n++] = g_ascii_toupper (*p);
    }
  out[n] = '\0';
  *out_length = n;
  return TRUE;
}

static gboolean
malformed (PmTrackingKind  kind,
           const char     *text,
           GError        **error)
{
  static const char *const shapes[PM_TRACKING_KIND_COUNT] = {
    "22 or 26 digits starting with 91 to 95, with or without 420 and the ZIP Code in front",
    "1Z followed by 16 letters and digits",
    "12 digits",
    "15 digits",
    "2 letters, 9 digits and 2 letters, as in RR123456785US",
  };

  g_set_error (error, PM_TRACKING_ERROR, PM_TRACKING_ERROR_MALFORMED,
               "Tracking number: “%s” is not a %s tracking number; it has %s", text,
               pm_tracking_kind_get_name (kind), shapes[kind]);
  return FALSE;
}

static gboolean
check_digit_error (PmTrackingKind  kind,
                   const char     *number,
                   GError        **error)
{
  /* The right check digit is not shown: a wrong digit elsewhere is the likelier mistake,
   * and "correcting" the check digit would hide it. */
  g_set_error (error, PM_TRACKING_ERROR, PM_TRACKING_ERROR_CHECK_DIGIT,
               "Tracking number: the %s number %s fails its check digit; a character was "
               "mistyped or misread. Type it again from the label",
               pm_tracking_kind_get_name (kind), number);
  return FALSE;
}

/* An IMpb number, split into routing ZIP and payload. The 34-digit form is 420 + ZIP+4
 * + 22 digits or 420 + ZIP + 26; the reading whose payload checks out wins, ZIP+4 first
 * as the common concatenated form. */
static gboolean
validate_impb (const char  *text,
               const char  *number,
               gsize        length,
               PmTracking  *out,
               GError     **error)
{
  gsize zip_lengths[2] = { 0, 0 };
  gboolean shaped = FALSE;

  if (!all_digits (number, length))
    return malformed (PM_TRACKING_KIND_USPS_IMPB, text, error);

  if (length == 22 || length == 26)
    zip_lengths[0] = 0;
  else if (strncmp (number, ROUTING_AI, 3) == 0 && length == 30)
    zip_lengths[0] = 5;
  else if (strncmp (number, ROUTING_AI, 3) == 0 && length == 34)
    zip_lengths[0] = 9, zip_lengths[1] = 5;
  else if (strncmp (number, ROUTING_AI, 3) == 0 && length == 38)
    zip_lengths[0] = 9;
  else
    return malformed (PM_TRACKING_KIND_USPS_IMPB, text, error);

  for (guint i = 0; i < 2; i++)
    {
      gsize zip_length = zip_lengths[i];
      gsize skip = zip_length == 0 ? 0 : 3 + zip_length;
      const char *payload = number + skip;
      gsize payload_length = length - skip;

      if (i == 1 && zip_length == 0)
        break;
      if (zip_length != 0 && strncmp (number + 3, "000", 3) == 0)
        continue;
      if (!impb_shape (payload, payload_length - 1))
        continue;
      shaped = TRUE;
      if (payload[payload_length - 1] - '0' != mod10_weights_3_1 (payload, payload_length - 1))
        continue;

      if (out != NULL)
        {
          out->kind = PM_TRACKING_KIND_USPS_IMPB;
          memcpy (out->number, payload, payload_length + 1);
          memcpy (out->routing_zip, number + 3, zip_length);
          out->routing_zip[zip_length] = '\0';
        }
      return TRUE;
    }

  if (!shaped)
    return malformed (PM_TRACKING_KIND_USPS_IMPB, text, error);
  return check_digit_error (PM_TRACKING_KIND_USPS_IMPB, number, error);
}

gboolean
pm_tracking_validate (PmTrackingKind  kind,
                      const char     *text,
                      PmTracking     *out,
                      GError        **error)
{
  char number[PM_TRACKING_MAX_CHARS + 1];
  char data[PM_TRACKING_MAX_CHARS + 1];
  gsize length = 0;
  int expected;

  g_return_val_if_fail ((guint) kind < PM_TRACKING_KIND_COUNT, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (text == NULL || !normalize (text, number, &length))
    return malformed (kind, text != NULL ? text : "", error);
  if (length == 0)
    {
      g_set_error (error, PM_TRACKING_ERROR, PM_TRACKING_ERROR_EMPTY,
                   "Tracking number: enter the tracking number");
      return FALSE;
    }

  if (kind == PM_TRACKING_KIND_USPS_IMPB)
    return validate_impb (text, number, length, out, error);

  switch (kind)
    {
    case PM_TRACKING_KIND_UPS:
      if (length != 18 || number[0] != '1' || number[1] != 'Z'
          || !g_ascii_isdigit (number[17]))
        return malformed (kind, text, error);
      break;
    case PM_TRACKING_KIND_FEDEX_EXPRESS:
      if (length != 12 || !all_digits (number, length))
        return malformed (kind, text, error);
      break;
    case PM_TRACKING_KIND_FEDEX_GROUND:
      if (length != 15 || !all_digits (number, length))
        return malformed (kind, text, error);
      break;
    case PM_TRACKING_KIND_UPU_S10:
      if (length != 13 || !is_upper_letters (number, 2) || !all_digits (number + 2, 9)
          || !is_upper_letters (number + 11, 2))
        return malformed (kind, text, error);
      break;
    case PM_TRACKING_KIND_USPS_IMPB:
    default:
      g_assert_not_reached ();
    }

  /* The data the check digit covers: all but the last character, or for S10 the
   * letters and serial before it. */
  if (kind == PM_TRACKING_KIND_UPU_S10)
    {
      memcpy (data, number, 10);
      data[10] = '\0';
    }
  else
    {
      memcpy (data, number, length - 1);
      data[length - 1] = '\0';
    }
  expected = pm_tracking_compute_check_digit (kind, data);
  if (expected < 0)
    return malformed (kind, text, error);
  if (number[kind == PM_TRACKING_KIND_UPU_S10 ? 10 : length - 1] - '0' != expected)
    return check_digit_error (kind, number, error);

  if (out != NULL)
    {
      out->kind = kind;
      memcpy (out->number, number, length + 1);
      out->routing_zip[0] = '\0';
    }
  return TRUE;
}

gboolean
pm_tracking_parse (const char  *text,
                   PmTracking  *out,
                   GError     **error)
{
  char number[PM_TRACKING_MAX_CHARS + 1];
  gsize length = 0;
  PmTrackingKind kind;

  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (text == NULL || !normalize (text, number, &length))
    {
      g_set_error (error, PM_TRACKING_ERROR, PM_TRACKING_ERROR_UNKNOWN_FORMAT,
                   "Tracking number: “%s” is not a tracking number; use letters and digits "
                   "only", text != NULL ? text : "");
      return FALSE;
    }
  if (length == 0)
    {
      g_set_error (error, PM_TRACKING_ERROR, PM_TRACKING_ERROR_EMPTY,
                   "Tracking number: enter the tracking number");
      return FALSE;
    }

  if (length >= 2 && number[0] == '1' && number[1] == 'Z')
    kind = PM_TRACKING_KIND_UPS;
  else if (length == 13 && g_ascii_isalpha (number[0]) && g_ascii_isalpha (number[12]))
    kind = PM_TRACKING_KIND_UPU_S10;
  else if (all_digits (number, length) && length == 12)
    kind = PM_TRACKING_KIND_FEDEX_EXPRESS;
  else if (all_digits (number, length) && length == 15)
    kind = PM_TRACKING_KIND_FEDEX_GROUND;
  else if (all_digits (number, length)
           && (length == 22 || length == 26 || length == 30 || length == 34 || length == 38))
    kind = PM_TRACKING_KIND_USPS_IMPB;
  else
    {
      g_set_error (error, PM_TRACKING_ERROR, PM_TRACKING_ERROR_UNKNOWN_FORMAT,
                   "Tracking number: “%s” is not a USPS, UPS, FedEx or UPU S10 tracking "
                   "number", text);
      return FALSE;
    }
  return pm_tracking_validate (kind, text, out, error);
}
