/* test-tracking.c: tracking numbers and their check digits
 *
 * The vectors are those of shared/reference/postal.md section 10 (from the tracking
 * number data set it cites, github.com/jkeen/tracking_number_data), valid and invalid,
 * plus that data set's USPS forms with 420 + ZIP and 26 digits. Nothing here is computed
 * by the module under test to check itself.
 */
#include "pm-tracking.h"

#include <string.h>

typedef struct
{
  PmTrackingKind  kind;
  const char     *text;
  const char     *number;      /* normalized, without 420 + ZIP */
  const char     *routing_zip;
} Valid;

static const Valid valid[] = {
  /* UPS 1Z */
  { PM_TRACKING_KIND_UPS, "1Z5R89390357567127", "1Z5R89390357567127", "" },
  { PM_TRACKING_KIND_UPS, "1Z879E930346834440", "1Z879E930346834440", "" },
  { PM_TRACKING_KIND_UPS, "1Z410E7W0392751591", "1Z410E7W0392751591", "" },
  { PM_TRACKING_KIND_UPS, "1Z8V92A70367203024", "1Z8V92A70367203024", "" },
  { PM_TRACKING_KIND_UPS, "1z 5r89 3903 5756 7127", "1Z5R89390357567127", "" },
  /* FedEx Express, 12 digits */
  { PM_TRACKING_KIND_FEDEX_EXPRESS, "986578788855", "986578788855", "" },
  { PM_TRACKING_KIND_FEDEX_EXPRESS, "477179081230", "477179081230", "" },
  { PM_TRACKING_KIND_FEDEX_EXPRESS, "799531274483", "799531274483", "" },
  { PM_TRACKING_KIND_FEDEX_EXPRESS, "790535312317", "790535312317", "" },
  { PM_TRACKING_KIND_FEDEX_EXPRESS, "974367662710", "974367662710", "" },
  { PM_TRACKING_KIND_FEDEX_EXPRESS, "9865 7878 8855", "986578788855", "" },
  /* FedEx Ground, 15 digits */
  { PM_TRACKING_KIND_FEDEX_GROUND, "041441760228964", "041441760228964", "" },
  { PM_TRACKING_KIND_FEDEX_GROUND, "568283610012000", "568283610012000", "" },
  { PM_TRACKING_KIND_FEDEX_GROUND, "568283610012734", "568283610012734", "" },
  /* USPS IMpb, 22 digits */
  { PM_TRACKING_KIND_USPS_IMPB, "9400111201080805483016", "9400111201080805483016", "" },
  { PM_TRACKING_KIND_USPS_IMPB, "9361289878700317633795", "9361289878700317633795", "" },
  { PM_TRACKING_KIND_USPS_IMPB, "9405803699300124287899", "9405803699300124287899", "" },
  { PM_TRACKING_KIND_USPS_IMPB, "9101123456789000000013", "9101123456789000000013", "" },
  { PM_TRACKING_KIND_USPS_IMPB, "9505 5110 6960 5048 6006 24", "9505511069605048600624", "" },
  { PM_TRACKING_KIND_USPS_IMPB, " 9 3 6 1   2 8 9 8   7 8 7 0   0 3 1 7   6 3 3 7   9 5 ",
    "9361289878700317633795", "" },
  /* USPS IMpb, 26 digits */
  { PM_TRACKING_KIND_USPS_IMPB, "92748931507708513018050063", "92748931507708513018050063",
    "" },
  /* 420 + ZIP (30 digits) and 420 + ZIP+4 (34 digits) */
  { PM_TRACKING_KIND_USPS_IMPB, "420 22153 9101026837331000039521",
    "9101026837331000039521", "22153" },
  { PM_TRACKING_KIND_USPS_IMPB, "4201002334249200190132607600833457",
    "9200190132607600833457", "100233424" },
  { PM_TRACKING_KIND_USPS_IMPB, "4201028200009261290113185417468510",
    "9261290113185417468510", "102820000" },
  /* UPU S10: serial 12345678, weighted sum 204, 204 mod 11 = 6, 11 - 6 = 5 */
  { PM_TRACKING_KIND_UPU_S10, "RR123456785US", "RR123456785US", "" },
  { PM_TRACKING_KIND_UPU_S10, "RB123456785GB", "RB123456785GB", "" },
  { PM_TRACKING_KIND_UPU_S10, " R B 1 2 3 4 5 6 7 8 5 C F ", "RB123456785CF", "" },
  /* Serial 00000000: sum 0, 11 - 0 = 11, written 5. Serial 00000008: sum 8 × 7 = 56,
   * 56 mod 11 = 1, 11 - 1 = 10, written 0. */
  { PM_TRACKING_KIND_UPU_S10, "EE000000005US", "EE000000005US", "" },
  { PM_TRACKING_KIND_UPU_S10, "CP000000080DE", "CP000000080DE", "" },
};

typedef struct
{
  PmTrackingKind   kind;
  const char      *text;
  PmTrackingError  code;
} Invalid;

static const Invalid invalid[] = {
  /* The reference's invalid vectors: check digits that do not match. */
  { PM_TRACKING_KIND_UPS, "1Z1111111111111111", PM_TRACKING_ERROR_CHECK_DIGIT },
  { PM_TRACKING_KIND_FEDEX_EXPRESS, "996578788855", PM_TRACKING_ERROR_CHECK_DIGIT },
  { PM_TRACKING_KIND_FEDEX_GROUND, "568283610012732", PM_TRACKING_ERROR_CHECK_DIGIT },
  { PM_TRACKING_KIND_USPS_IMPB, "9200000000000000000000", PM_TRACKING_ERROR_CHECK_DIGIT },
  { PM_TRACKING_KIND_USPS_IMPB, "4201028200009261290113185417468511",
    PM_TRACKING_ERROR_CHECK_DIGIT },
  { PM_TRACKING_KIND_USPS_IMPB, "420000009200000000000000000000",
    PM_TRACKING_ERROR_MALFORMED },   /* ZIP 00000 */
  { PM_TRACKING_KIND_USPS_IMPB, "420000000000000000000000000000",
    PM_TRACKING_ERROR_MALFORMED },   /* no channel 91 to 95 */
  { PM_TRACKING_KIND_UPU_S10, "RB123456786US", PM_TRACKING_ERROR_CHECK_DIGIT },
  /* Shapes no kind has. */
  { PM_TRACKING_KIND_USPS_IMPB, "9400111201080805483", PM_TRACKING_ERROR_MALFORMED },
  { PM_TRACKING_KIND_USPS_IMPB, "8400111201080805483016", PM_TRACKING_ERROR_MALFORMED },
  { PM_TRACKING_KIND_USPS_IMPB, "9600111201080805483016", PM_TRACKING_ERROR_MALFORMED },
  { PM_TRACKING_KIND_USPS_IMPB, "9400-1112-0108-0805-4830-16", PM_TRACKING_ERROR_MALFORMED },
  { PM_TRACKING_KIND_USPS_IMPB, "421 22153 9101026837331000039521",
    PM_TRACKING_ERROR_MALFORMED },
  { PM_TRACKING_KIND_USPS_IMPB, "940011120108080548301A", PM_TRACKING_ERROR_MALFORMED },
  { PM_TRACKING_KIND_UPS, "1Z5R8939035756712", PM_TRACKING_ERROR_MALFORMED },
  { PM_TRACKING_KIND_UPS, "1Z5R893903575671277", PM_TRACKING_ERROR_MALFORMED },
  { PM_TRACKING_KIND_UPS, "1Y5R89390357567127", PM_TRACKING_ERROR_MALFORMED },
  { PM_TRACKING_KIND_UPS, "1Z5R8939035756712X", PM_TRACKING_ERROR_MALFORMED },
  { PM_TRACKING_KIND_UPS, "1Z5R89390357567*27", PM_TRACKING_ERROR_MALFORMED },
  { PM_TRACKING_KIND_FEDEX_EXPRESS, "98657878885", PM_TRACKING_ERROR_MALFORMED },
  { PM_TRACKING_KIND_FEDEX_EXPRESS, "98657878885A", PM_TRACKING_ERROR_MALFORMED },
  { PM_TRACKING_KIND_FEDEX_GROUND, "0414417602289640", PM_TRACKING_ERROR_MALFORMED },
  { PM_TRACKING_KIND_UPU_S10, "R1123456785US", PM_TRACKING_ERROR_MALFORMED },
  { PM_TRACKING_KIND_UPU_S10, "RR12345678US", PM_TRACKING_ERROR_MALFORMED },
  { PM_TRACKING_KIND_UPU_S10, "RR123456785U5", PM_TRACKING_ERROR_MALFORMED },
  { PM_TRACKING_KIND_UPU_S10, "", PM_TRACKING_ERROR_EMPTY },
  { PM_TRACKING_KIND_UPS, "   ", PM_TRACKING_ERROR_EMPTY },
  { PM_TRACKING_KIND_USPS_IMPB, "9400111201080805483016940011120108080548301699",
    PM_TRACKING_ERROR_MALFORMED },
  { PM_TRACKING_KIND_USPS_IMPB, "9400111201080805483016\xc3\xa9",
    PM_TRACKING_ERROR_MALFORMED },
};

static void
test_valid (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (valid); i++)
    {
      PmTracking tracking;
      PmTracking parsed;
      g_autoptr (GError) error = NULL;

      g_test_message ("%s %s", pm_tracking_kind_get_name (valid[i].kind), valid[i].text);
      memset (&tracking, 0xaa, sizeof tracking);
      if (!pm_tracking_validate (valid[i].kind, valid[i].text, &tracking, &error))
        g_error ("%s refused: %s", valid[i].text, error->message);
      g_assert_cmpint (tracking.kind, ==, valid[i].kind);
      g_assert_cmpstr (tracking.number, ==, valid[i].number);
      g_assert_cmpstr (tracking.routing_zip, ==, valid[i].routing_zip);

      /* The kind is recognized from the number alone. */
      g_assert_true (pm_tracking_parse (valid[i].text, &parsed, &error));
      g_assert_no_error (error);
      g_assert_cmpint (parsed.kind, ==, valid[i].kind);
      g_assert_cmpstr (parsed.number, ==, valid[i].number);

      /* And no other kind takes it. */
      for (guint k = 0; k < PM_TRACKING_KIND_COUNT; k++)
        if (k != valid[i].kind)
          g_assert_false (pm_tracking_validate ((PmTrackingKind) k, valid[i].text, NULL, NULL));
    }
}

static void
test_invalid (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (invalid); i++)
    {
      PmTracking tracking = { 0 };
      g_autoptr (GError) error = NULL;

      g_assert_false (pm_tracking_validate (invalid[i].kind, invalid[i].text, &tracking,
                                            &error));
      g_assert_error (error, PM_TRACKING_ERROR, (gint) invalid[i].code);
      g_test_message ("%s", error->message);
      g_assert_true (g_str_has_prefix (error->message, "Tracking number: "));
      if (invalid[i].code != PM_TRACKING_ERROR_EMPTY)
        g_assert_nonnull (strstr (error->message,
                                  pm_tracking_kind_get_name (invalid[i].kind)));
      /* Nothing is filled in on failure. */
      g_assert_cmpstr (tracking.number, ==, "");
      g_assert_false (pm_tracking_parse (invalid[i].text, NULL, NULL));
    }
}

static void
test_compute (void)
{
  static const struct
  {
    PmTrackingKind  kind;
    const char     *data;
    int             check;
  } cases[] = {
    { PM_TRACKING_KIND_USPS_IMPB, "940011120108080548301", 6 },
    { PM_TRACKING_KIND_USPS_IMPB, "910112345678900000001", 3 },
    { PM_TRACKING_KIND_USPS_IMPB, "9274893150770851301805006", 3 },
    { PM_TRACKING_KIND_UPS, "1Z5R8939035756712", 7 },
    { PM_TRACKING_KIND_UPS, "1Z8V92A7036720302", 4 },
    { PM_TRACKING_KIND_FEDEX_EXPRESS, "98657878885", 5 },
    { PM_TRACKING_KIND_FEDEX_EXPRESS, "47717908123", 0 },
    { PM_TRACKING_KIND_FEDEX_GROUND, "04144176022896", 4 },
    { PM_TRACKING_KIND_UPU_S10, "RR12345678", 5 },
    { PM_TRACKING_KIND_UPU_S10, "EE00000000", 5 },
    { PM_TRACKING_KIND_UPU_S10, "CP00000008", 0 },
    /* Wrong shapes. */
    { PM_TRACKING_KIND_USPS_IMPB, "94001112010808054830", -1 },
    { PM_TRACKING_KIND_USPS_IMPB, "840011120108080548301", -1 },
    { PM_TRACKING_KIND_UPS, "1Z5R893903575671", -1 },
    { PM_TRACKING_KIND_UPS, "1Z5R89390357567-2", -1 },
    { PM_TRACKING_KIND_FEDEX_EXPRESS, "9865787888", -1 },
    { PM_TRACKING_KIND_FEDEX_GROUND, "0414417602289A", -1 },
    { PM_TRACKING_KIND_UPU_S10, "R112345678", -1 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    g_assert_cmpint (pm_tracking_compute_check_digit (cases[i].kind, cases[i].data), ==,
                     cases[i].check);
}

/* Weights 3 and 1 catch every single-digit mistake: change any one digit of a valid
 * USPS or FedEx Ground number to any other digit and it must be refused. */
static void
test_single_digit_changes (void)
{
  static const struct
  {
    PmTrackingKind  kind;
    const char     *number;
  } numbers[] = {
    { PM_TRACKING_KIND_USPS_IMPB, "9400111201080805483016" },
    { PM_TRACKING_KIND_USPS_IMPB, "9361289878700317633795" },
    { PM_TRACKING_KIND_USPS_IMPB, "9405803699300124287899" },
    { PM_TRACKING_KIND_USPS_IMPB, "9101123456789000000013" },
    { PM_TRACKING_KIND_USPS_IMPB, "92748931507708513018050063" },
    { PM_TRACKING_KIND_FEDEX_GROUND, "041441760228964" },
    { PM_TRACKING_KIND_FEDEX_GROUND, "568283610012734" },
  };

  for (gsize n = 0; n < G_N_ELEMENTS (numbers); n++)
    {
      gsize length = strlen (numbers[n].number);

      g_assert_true (pm_tracking_validate (numbers[n].kind, numbers[n].number, NULL, NULL));
      for (gsize pos = 0; pos < length; pos++)
        for (char digit = '0'; digit <= '9'; digit++)
          {
            char changed[64];

            if (numbers[n].number[pos] == digit)
              continue;
            memcpy (changed, numbers[n].number, length + 1);
            changed[pos] = digit;
            if (pm_tracking_validate (numbers[n].kind, changed, NULL, NULL))
              g_error ("%s (from %s) was accepted", changed, numbers[n].number);
          }
    }

  /* For every kind, every wrong check digit is refused as a check digit error. */
  for (gsize i = 0; i < G_N_ELEMENTS (valid); i++)
    {
      char number[64];
      gsize length;
      gsize check;

      g_strlcpy (number, valid[i].number, sizeof number);
      length = strlen (number);
      check = valid[i].kind == PM_TRACKING_KIND_UPU_S10 ? 10 : length - 1;
      for (char digit = '0'; digit <= '9'; digit++)
        {
          g_autoptr (GError) error = NULL;

          if (valid[i].number[check] == digit)
            continue;
          number[check] = digit;
          g_assert_false (pm_tracking_validate (valid[i].kind, number, NULL, &error));
          g_assert_error (error, PM_TRACKING_ERROR, PM_TRACKING_ERROR_CHECK_DIGIT);
        }
    }
}

static void
test_unknown (void)
{
  static const char *const texts[] = {
    "12345", "1234567890123", "ABCDEFGHIJKLM0", "940011120108080548301", "hello",
    "4200000012345678901234567890123456789", "9400 1112 0108 0805 4830 16!",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      g_autoptr (GError) error = NULL;

      g_assert_false (pm_tracking_parse (texts[i], NULL, &error));
      g_assert_error (error, PM_TRACKING_ERROR, PM_TRACKING_ERROR_UNKNOWN_FORMAT);
      g_assert_true (g_str_has_prefix (error->message, "Tracking number: "));
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/core/tracking/valid", test_valid);
  g_test_add_func ("/core/tracking/invalid", test_invalid);
  g_test_add_func ("/core/tracking/compute", test_compute);
  g_test_add_func ("/core/tracking/single-digit-changes", test_single_digit_changes);
  g_test_add_func ("/core/tracking/unknown-format", test_unknown);

  return g_test_run ();
}
