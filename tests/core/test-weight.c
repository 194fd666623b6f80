/* test-weight.c: exact weight arithmetic, parsing and display */
#include "pm-weight.h"

typedef struct
{
  const char  *text;
  gint64       mantissa;
  gint8        exponent;
  PmWeightUnit unit;
} GoodWeight;

static void
test_parse_good (void)
{
  static const GoodWeight cases[] = {
    { "3.5 oz", 35, -1, PM_WEIGHT_UNIT_OUNCE },
    { "3.5oz", 35, -1, PM_WEIGHT_UNIT_OUNCE },
    { "2 lb 3.4 oz", 354, -1, PM_WEIGHT_UNIT_OUNCE },
    { "2lb 3oz", 35, 0, PM_WEIGHT_UNIT_OUNCE },
    { "2 lbs, 3 ounces", 35, 0, PM_WEIGHT_UNIT_OUNCE },
    { "1.25 lb", 125, -2, PM_WEIGHT_UNIT_POUND },
    { "1.25 LB", 125, -2, PM_WEIGHT_UNIT_POUND },
    { "70 pounds", 70, 0, PM_WEIGHT_UNIT_POUND },
    { "5#", 5, 0, PM_WEIGHT_UNIT_POUND },
    { "120 g", 120, 0, PM_WEIGHT_UNIT_GRAM },
    { "0.45 kg", 45, -2, PM_WEIGHT_UNIT_KILOGRAM },
    { "1 kg 200 g", 1200, 0, PM_WEIGHT_UNIT_GRAM },
    { "500 mg", 500, 0, PM_WEIGHT_UNIT_MILLIGRAM },
    { "  13 oz. ", 13, 0, PM_WEIGHT_UNIT_OUNCE },
    { "0 oz", 0, 0, PM_WEIGHT_UNIT_OUNCE },
    { ".5 oz", 5, -1, PM_WEIGHT_UNIT_OUNCE },
    { "2000 lb", 2000, 0, PM_WEIGHT_UNIT_POUND },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      PmWeight weight;

      g_test_message ("parsing “%s”", cases[i].text);
      g_assert_true (pm_weight_parse (cases[i].text, &weight, &error));
      g_assert_no_error (error);
      g_assert_cmpint (weight.mantissa, ==, cases[i].mantissa);
      g_assert_cmpint (weight.exponent, ==, cases[i].exponent);
      g_assert_cmpint (weight.unit, ==, cases[i].unit);
    }
}

typedef struct
{
  const char   *text;
  PmWeightError code;
} BadWeight;

static void
test_parse_bad (void)
{
  static const BadWeight cases[] = {
    { "", PM_WEIGHT_ERROR_MALFORMED },
    { "oz", PM_WEIGHT_ERROR_MALFORMED },
    { "abc", PM_WEIGHT_ERROR_MALFORMED },
    { "3.5", PM_WEIGHT_ERROR_UNKNOWN_UNIT },
    { "3.5 stone", PM_WEIGHT_ERROR_UNKNOWN_UNIT },
    { "3 ct", PM_WEIGHT_ERROR_UNKNOWN_UNIT },
    { "-3 oz", PM_WEIGHT_ERROR_NEGATIVE },
    { "3 oz 2 lb", PM_WEIGHT_ERROR_MALFORMED },
    { "2 lb 2 lb", PM_WEIGHT_ERROR_MALFORMED },
    { "1 lb 20 g", PM_WEIGHT_ERROR_MALFORMED },
    { "1.2.3 oz", PM_WEIGHT_ERROR_UNKNOWN_UNIT },
    { "3 oz!", PM_WEIGHT_ERROR_MALFORMED },
    { "0.1234567 oz", PM_WEIGHT_ERROR_MALFORMED },
    { "2001 lb", PM_WEIGHT_ERROR_OUT_OF_RANGE },
    { "1000 kg", PM_WEIGHT_ERROR_OUT_OF_RANGE },
    { "9999999999999999 g", PM_WEIGHT_ERROR_OUT_OF_RANGE },
    { "1 kg 1 g 1 mg 1 mg", PM_WEIGHT_ERROR_MALFORMED },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      PmWeight weight = pm_weight_make (42, 0, PM_WEIGHT_UNIT_GRAM);

      g_test_message ("parsing “%s”", cases[i].text);
      g_assert_false (pm_weight_parse (cases[i].text, &weight, &error));
      g_assert_error (error, PM_WEIGHT_ERROR, (gint) cases[i].code);
      g_assert_cmpint (weight.mantissa, ==, 42);
      g_assert_true (g_str_has_prefix (error->message, "Weight"));
    }
}

static void
test_picograms (void)
{
  PmWeight w;
  gint64 pg;

  w = pm_weight_make (1, 0, PM_WEIGHT_UNIT_OUNCE);
  g_assert_true (pm_weight_to_picograms (&w, &pg));
  g_assert_cmpint (pg, ==, G_GINT64_CONSTANT (28349523125000));

  /* 3.5 oz, the letter limit, in tenths of an ounce. */
  w = pm_weight_make (35, -1, PM_WEIGHT_UNIT_OUNCE);
  g_assert_true (pm_weight_to_picograms (&w, &pg));
  g_assert_cmpint (pg, ==, 35 * G_GINT64_CONSTANT (2834952312500));

  /* 7.85 lb (HID report H4) is 3 560 700 104 500 000 pg. */
  w = pm_weight_make (785, -2, PM_WEIGHT_UNIT_POUND);
  g_assert_true (pm_weight_to_picograms (&w, &pg));
  g_assert_cmpint (pg, ==, G_GINT64_CONSTANT (3560700104500000));

  w = pm_weight_make (20, 0, PM_WEIGHT_UNIT_GRAM);
  g_assert_true (pm_weight_to_picograms (&w, &pg));
  g_assert_cmpint (pg, ==, G_GINT64_CONSTANT (20000000000000));

  w = pm_weight_make (45, -2, PM_WEIGHT_UNIT_KILOGRAM);
  g_assert_true (pm_weight_to_picograms (&w, &pg));
  g_assert_cmpint (pg, ==, G_GINT64_CONSTANT (450000000000000));

  /* Finer than a picogram rounds up, never down to zero. */
  w = pm_weight_make (1, -20, PM_WEIGHT_UNIT_GRAM);
  g_assert_true (pm_weight_to_picograms (&w, &pg));
  g_assert_cmpint (pg, ==, 1);
  w = pm_weight_make (1, -127, PM_WEIGHT_UNIT_OUNCE);
  g_assert_true (pm_weight_to_picograms (&w, &pg));
  g_assert_cmpint (pg, ==, 1);

  /* Out of range. */
  w = pm_weight_make (G_MAXINT64, 0, PM_WEIGHT_UNIT_POUND);
  g_assert_false (pm_weight_to_picograms (&w, &pg));
  w = pm_weight_make (1, 100, PM_WEIGHT_UNIT_GRAM);
  g_assert_false (pm_weight_to_picograms (&w, &pg));
}

typedef struct
{
  PmWeight a;
  PmWeight b;
  int      order;
} Comparison;

static void
test_compare (void)
{
  static const Comparison cases[] = {
    /* 4 oz is 113.398 092 5 g. */
    { { 4, 0, PM_WEIGHT_UNIT_OUNCE }, { 1133980925, -7, PM_WEIGHT_UNIT_GRAM }, 0 },
    { { 4, 0, PM_WEIGHT_UNIT_OUNCE }, { 1134, -1, PM_WEIGHT_UNIT_GRAM }, -1 },
    { { 4, 0, PM_WEIGHT_UNIT_OUNCE }, { 1133, -1, PM_WEIGHT_UNIT_GRAM }, 1 },
    /* 3.5 oz is 99.223 330 937 5 g. */
    { { 992, -1, PM_WEIGHT_UNIT_GRAM }, { 35, -1, PM_WEIGHT_UNIT_OUNCE }, -1 },
    { { 993, -1, PM_WEIGHT_UNIT_GRAM }, { 35, -1, PM_WEIGHT_UNIT_OUNCE }, 1 },
    /* 0.22 lb is 3.52 oz; 0.21 lb is 3.36 oz. */
    { { 22, -2, PM_WEIGHT_UNIT_POUND }, { 35, -1, PM_WEIGHT_UNIT_OUNCE }, 1 },
    { { 21, -2, PM_WEIGHT_UNIT_POUND }, { 35, -1, PM_WEIGHT_UNIT_OUNCE }, -1 },
    { { 1, 0, PM_WEIGHT_UNIT_POUND }, { 160, -1, PM_WEIGHT_UNIT_OUNCE }, 0 },
    { { 45359237, -5, PM_WEIGHT_UNIT_GRAM }, { 1, 0, PM_WEIGHT_UNIT_POUND }, 0 },
    { { 1, 0, PM_WEIGHT_UNIT_KILOGRAM }, { 1000000, 0, PM_WEIGHT_UNIT_MILLIGRAM }, 0 },
    { { 12, 1, PM_WEIGHT_UNIT_GRAM }, { 120, 0, PM_WEIGHT_UNIT_GRAM }, 0 },
    { { 0, 0, PM_WEIGHT_UNIT_GRAM }, { 0, -1, PM_WEIGHT_UNIT_OUNCE }, 0 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_assert_cmpint (pm_weight_compare (&cases[i].a, &cases[i].b), ==, cases[i].order);
      g_assert_cmpint (pm_weight_compare (&cases[i].b, &cases[i].a), ==, -cases[i].order);
    }
}

typedef struct
{
  PmWeight    weight;
  const char *text;
  const char *ounces;
} Display;

static void
test_format (void)
{
  static const Display cases[] = {
    { { 354, -1, PM_WEIGHT_UNIT_OUNCE }, "2 lb 3.4 oz", "35.4 oz" },
    { { 160, -1, PM_WEIGHT_UNIT_OUNCE }, "1 lb", "16 oz" },
    { { 159, -1, PM_WEIGHT_UNIT_OUNCE }, "15.9 oz", "15.9 oz" },
    { { 6452, -1, PM_WEIGHT_UNIT_OUNCE }, "40 lb 5.2 oz", "645.2 oz" },
    { { 35, -1, PM_WEIGHT_UNIT_OUNCE }, "3.5 oz", "3.5 oz" },
    { { 0, -1, PM_WEIGHT_UNIT_OUNCE }, "0 oz", "0 oz" },
    { { 785, -2, PM_WEIGHT_UNIT_POUND }, "7 lb 13.6 oz", "125.6 oz" },
    { { 101, -2, PM_WEIGHT_UNIT_POUND }, "1 lb 0.16 oz", "16.16 oz" },
    { { 1599, -2, PM_WEIGHT_UNIT_OUNCE }, "15.99 oz", "15.99 oz" },
    { { 1, -3, PM_WEIGHT_UNIT_OUNCE }, "0.001 oz", "0.001 oz" },
    { { 70, 0, PM_WEIGHT_UNIT_POUND }, "70 lb", "1120 oz" },
    { { 120, 0, PM_WEIGHT_UNIT_GRAM }, "120 g", "4.233 oz" },
    { { 1134, -1, PM_WEIGHT_UNIT_GRAM }, "113.4 g", "4.001 oz" },
    { { 45, -2, PM_WEIGHT_UNIT_KILOGRAM }, "450 g", "15.874 oz" },
    { { 125, -2, PM_WEIGHT_UNIT_KILOGRAM }, "1.25 kg", "44.093 oz" },
    { { 500, 0, PM_WEIGHT_UNIT_MILLIGRAM }, "0.5 g", "0.018 oz" },
    { { -20, 0, PM_WEIGHT_UNIT_OUNCE }, "-1 lb 4 oz", "-20 oz" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = pm_weight_format (&cases[i].weight);
      g_autofree char *ounces = pm_weight_format_ounces (&cases[i].weight);

      g_assert_cmpstr (text, ==, cases[i].text);
      g_assert_cmpstr (ounces, ==, cases[i].ounces);
    }
}

/* Whatever the displayed text, it parses back to the same weight. */
static void
test_format_round_trip (void)
{
  static const char *texts[] = { "2 lb 3.4 oz", "15.9 oz", "7.85 lb", "120 g", "1.25 kg",
                                 "1 lb", "0.45 kg" };

  for (gsize i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      PmWeight a, b;
      g_autofree char *shown = NULL;

      g_assert_true (pm_weight_parse (texts[i], &a, NULL));
      shown = pm_weight_format (&a);
      g_assert_true (pm_weight_parse (shown, &b, NULL));
      g_assert_cmpint (pm_weight_compare (&a, &b), ==, 0);
    }
}

typedef struct
{
  PmWeight weight;
  gint64   ounces;
  gint64   pounds;
} Ceiling;

static void
test_ceil (void)
{
  static const Ceiling cases[] = {
    { { 0, 0, PM_WEIGHT_UNIT_OUNCE }, 0, 0 },
    { { 1, -1, PM_WEIGHT_UNIT_OUNCE }, 1, 1 },
    { { 10, -1, PM_WEIGHT_UNIT_OUNCE }, 1, 1 },
    { { 11, -1, PM_WEIGHT_UNIT_OUNCE }, 2, 1 },
    { { 35, -1, PM_WEIGHT_UNIT_OUNCE }, 4, 1 },
    { { 160, -1, PM_WEIGHT_UNIT_OUNCE }, 16, 1 },
    { { 161, -1, PM_WEIGHT_UNIT_OUNCE }, 17, 2 },
    { { 1, -3, PM_WEIGHT_UNIT_GRAM }, 1, 1 },
    { { 1133980925, -7, PM_WEIGHT_UNIT_GRAM }, 4, 1 },
    { { 1133980926, -7, PM_WEIGHT_UNIT_GRAM }, 5, 1 },
    { { 100, -2, PM_WEIGHT_UNIT_POUND }, 16, 1 },
    { { 101, -2, PM_WEIGHT_UNIT_POUND }, 17, 2 },
    { { 7000, -2, PM_WEIGHT_UNIT_POUND }, 1120, 70 },
    { { 7001, -2, PM_WEIGHT_UNIT_POUND }, 1121, 71 },
    { { 45359237, -5, PM_WEIGHT_UNIT_GRAM }, 16, 1 },
    { { 45359238, -5, PM_WEIGHT_UNIT_GRAM }, 17, 2 },
    { { 317514659, -7, PM_WEIGHT_UNIT_KILOGRAM }, 1120, 70 },
    { { 3175147, -5, PM_WEIGHT_UNIT_KILOGRAM }, 1121, 71 },
    { { -1, 0, PM_WEIGHT_UNIT_OUNCE }, -1, -1 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_assert_cmpint (pm_weight_ceil_ounces (&cases[i].weight), ==, cases[i].ounces);
      g_assert_cmpint (pm_weight_ceil_pounds (&cases[i].weight), ==, cases[i].pounds);
    }

  g_assert_cmpint (pm_weight_ceil_picograms (G_MAXINT64, PM_PICOGRAMS_PER_OUNCE), ==,
                   G_MAXINT64 / PM_PICOGRAMS_PER_OUNCE + 1);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/core/weight/parse/good", test_parse_good);
  g_test_add_func ("/core/weight/parse/bad", test_parse_bad);
  g_test_add_func ("/core/weight/picograms", test_picograms);
  g_test_add_func ("/core/weight/compare", test_compare);
  g_test_add_func ("/core/weight/format", test_format);
  g_test_add_func ("/core/weight/format/round-trip", test_format_round_trip);
  g_test_add_func ("/core/weight/ceil", test_ceil);

  return g_test_run ();
}
