/* test-rating.c: published prices at every break, in every unit a scale reports
 *
 * The expected prices below are typed from the sources (shared/reference/postal.md and the
 * citations in data/rates), not read from the packages, so a wrong price in a package
 * fails here. The shipped, signed packages are installed with the demo provider key.
 */
#include "pm-rating.h"

#include <string.h>

typedef struct
{
  PmRating *rating;
} Fixture;

/* Test zone chart: the destination ZIP "0000N" is in zone N. */
static gboolean
test_zone_lookup (PmZoneChart *chart,
                  PmMailClass  mail_class,
                  const char  *origin,
                  const char  *destination,
                  guint       *out_zone,
                  guint       *out_flags,
                  GError     **error)
{
  *out_flags = 0;
  if (strlen (destination) != 5 || strncmp (destination, "0000", 4) != 0
      || destination[4] < '1' || destination[4] > '9')
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT, "Destination ZIP: no zone for %s",
                   destination);
      return FALSE;
    }
  *out_zone = (guint) (destination[4] - '0');
  return TRUE;
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PmVerifyKey) key = NULL;
  g_autofree char *key_path = NULL;
  g_autofree char *rates = NULL;
  const char *root = g_getenv ("POSTMETER_SOURCE_ROOT");

  g_assert_nonnull (root);
  key_path = g_build_filename (root, "data", "keys", "demo-provider.pub", NULL);
  rates = g_build_filename (root, "data", "rates", NULL);

  key = pm_package_load_key (key_path, &error);
  g_assert_no_error (error);
  fixture->rating = pm_rating_new ();
  g_assert_true (pm_rating_install_directory (fixture->rating, rates, key, &error));
  g_assert_no_error (error);
  pm_rating_set_zone_chart (fixture->rating, NULL, test_zone_lookup);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  g_clear_pointer (&fixture->rating, pm_rating_unref);
}

static PmRateRequest
make_request (PmMailClass mail_class,
              PmShape     shape,
              PmWeight    weight,
              PmRateDate  date)
{
  PmRateRequest request = { 0 };

  request.mail_class = mail_class;
  request.piece.shape = shape;
  request.piece.weight = weight;
  request.date = date;
  request.channel = PM_PRICE_CHANNEL_METER;
  request.origin_zip = "60601";
  return request;
}

static PmMills
quote_total (Fixture             *fixture,
             const PmRateRequest *request)
{
  g_auto (PmQuote) quote = { 0 };
  g_autoptr (GError) error = NULL;

  if (!pm_rating_quote (fixture->rating, request, &quote, &error))
    {
      g_test_message ("quote refused: %s", error->message);
      return -1;
    }
  return quote.total;
}

static void
expect_error (Fixture             *fixture,
              const PmRateRequest *request,
              PmRatingError        code,
              const char          *fragment)
{
  g_auto (PmQuote) quote = { 0 };
  g_autoptr (GError) error = NULL;

  g_assert_false (pm_rating_quote (fixture->rating, request, &quote, &error));
  g_assert_error (error, PM_RATING_ERROR, (gint) code);
  g_test_message ("%s", error->message);
  if (fragment != NULL && strstr (error->message, fragment) == NULL)
    g_error ("“%s” not in the message “%s”", fragment, error->message);
  g_assert_cmpint (quote.total, ==, 0);
  g_assert_null (quote.package);
}

/* The units and resolutions scales report in, as picograms per step. */
typedef struct
{
  const char   *name;
  PmWeightUnit  unit;
  gint8         exponent;
  gint64        step_picograms;
} ScaleUnit;

static const ScaleUnit scale_units[] = {
  { "0.1 oz", PM_WEIGHT_UNIT_OUNCE, -1, PM_PICOGRAMS_PER_OUNCE / 10 },
  { "0.01 lb", PM_WEIGHT_UNIT_POUND, -2, PM_PICOGRAMS_PER_POUND / 100 },
  { "1 g", PM_WEIGHT_UNIT_GRAM, 0, PM_PICOGRAMS_PER_GRAM },
  { "0.1 g", PM_WEIGHT_UNIT_GRAM, -1, PM_PICOGRAMS_PER_GRAM / 10 },
  { "0.001 kg", PM_WEIGHT_UNIT_KILOGRAM, -3, PM_PICOGRAMS_PER_GRAM },
  { "0.005 kg", PM_WEIGHT_UNIT_KILOGRAM, -3, 5 * PM_PICOGRAMS_PER_GRAM },
};

/* The heaviest reading in this unit at or below the break, and the lightest above it. */
static void
readings_around (const ScaleUnit *unit,
                 gint64           break_picograms,
                 PmWeight        *out_at,
                 PmWeight        *out_above)
{
  gint64 steps = break_picograms / unit->step_picograms;
  gint64 per_mantissa = unit->step_picograms;
  gint64 multiple;

  /* A reading is mantissa × 10^exponent units; a 5 g step is a mantissa step of 5. */
  switch (unit->unit)
    {
    case PM_WEIGHT_UNIT_OUNCE:
      per_mantissa = PM_PICOGRAMS_PER_OUNCE / 10;
      break;
    case PM_WEIGHT_UNIT_POUND:
      per_mantissa = PM_PICOGRAMS_PER_POUND / 100;
      break;
    case PM_WEIGHT_UNIT_GRAM:
      per_mantissa = unit->exponent == 0 ? PM_PICOGRAMS_PER_GRAM : PM_PICOGRAMS_PER_GRAM / 10;
      break;
    case PM_WEIGHT_UNIT_KILOGRAM:
    case PM_WEIGHT_UNIT_MILLIGRAM:
    default:
      per_mantissa = PM_PICOGRAMS_PER_GRAM;
      break;
    }
  multiple = unit->step_picograms / per_mantissa;
  *out_at = pm_weight_make (steps * multiple, unit->exponent, unit->unit);
  *out_above = pm_weight_make ((steps + 1) * multiple, unit->exponent, unit->unit);
}

typedef struct
{
  const char *upto;       /* the break, as published */
  PmMills     price;      /* at the break */
  PmMills     above;      /* just above it; -1 when above is too heavy or unpublished */
} Break;

static void
check_breaks (Fixture     *fixture,
              PmMailClass  mail_class,
              PmShape      shape,
              PmRateDate   date,
              PmPriceChannel channel,
              const char  *destination,
              const Break *breaks,
              gsize        n_breaks)
{
  for (gsize i = 0; i < n_breaks; i++)
    {
      PmWeight limit;
      gint64 limit_picograms;

      g_assert_true (pm_weight_parse (breaks[i].upto, &limit, NULL));
      g_assert_true (pm_weight_to_picograms (&limit, &limit_picograms));

      for (gsize u = 0; u < G_N_ELEMENTS (scale_units); u++)
        {
          PmWeight at, above;
          PmRateRequest request;
          g_autofree char *at_text = NULL;
          g_autofree char *above_text = NULL;

          readings_around (&scale_units[u], limit_picograms, &at, &above);
          at_text = pm_weight_format (&at);
          above_text = pm_weight_format (&above);
          g_test_message ("%s %s, break %s in %s: %s and %s", pm_mail_class_to_string (mail_class),
                          pm_shape_to_string (shape), breaks[i].upto, scale_units[u].name,
                          at_text, above_text);

          request = make_request (mail_class, shape, at, date);
          request.channel = channel;
          request.destination_zip = destination;
          if (at.mantissa > 0)
            g_assert_cmpint (quote_total (fixture, &request), ==, breaks[i].price);

          request.piece.weight = above;
          g_assert_cmpint (quote_total (fixture, &request), ==, breaks[i].above);
        }
    }
}

#define D2025 20250801
#define D2026 20260801

static void
test_first_class_letters (Fixture       *fixture,
                          gconstpointer  data)
{
  static const Break metered_2025[] = {
    { "1 oz", 740, 1030 }, { "2 oz", 1030, 1320 }, { "3 oz", 1320, 1610 },
    { "3.5 oz", 1610, -1 },
  };
  static const Break stamped_2025[] = {
    { "1 oz", 780, 1070 }, { "2 oz", 1070, 1360 }, { "3 oz", 1360, 1650 },
    { "3.5 oz", 1650, -1 },
  };
  static const Break metered_2026[] = {
    { "1 oz", 780, 1070 }, { "2 oz", 1070, 1360 }, { "3 oz", 1360, 1650 },
    { "3.5 oz", 1650, -1 },
  };
  static const Break stamped_2026[] = {
    { "1 oz", 820, 1110 }, { "2 oz", 1110, 1400 }, { "3 oz", 1400, 1690 },
    { "3.5 oz", 1690, -1 },
  };

  check_breaks (fixture, PM_MAIL_CLASS_FIRST_CLASS, PM_SHAPE_LETTER, D2025,
                PM_PRICE_CHANNEL_METER, NULL, metered_2025, G_N_ELEMENTS (metered_2025));
  check_breaks (fixture, PM_MAIL_CLASS_FIRST_CLASS, PM_SHAPE_LETTER, D2025,
                PM_PRICE_CHANNEL_RETAIL, NULL, stamped_2025, G_N_ELEMENTS (stamped_2025));
  check_breaks (fixture, PM_MAIL_CLASS_FIRST_CLASS, PM_SHAPE_LETTER, D2026,
                PM_PRICE_CHANNEL_METER, NULL, metered_2026, G_N_ELEMENTS (metered_2026));
  check_breaks (fixture, PM_MAIL_CLASS_FIRST_CLASS, PM_SHAPE_LETTER, D2026,
                PM_PRICE_CHANNEL_RETAIL, NULL, stamped_2026, G_N_ELEMENTS (stamped_2026));
}

static void
test_first_class_cards_flats (Fixture       *fixture,
                              gconstpointer  data)
{
  static const Break postcard_2025[] = { { "1 oz", 610, 610 } };
  static const Break international_2025[] = { { "1 oz", 1700, -1 } };
  /* 2026 flats: only 1 oz and 4 oz are published; 2 to 3 oz have no price. */
  static const Break flat_2026[] = { { "1 oz", 1690, -1 }, { "4 oz", 2560, -1 } };
  /* 2025 flats, 1 to 13 oz (Notice 123 as transcribed in two forks of hackclub/theseus,
   * see the package); above 13 oz a piece is no longer a flat. */
  static const Break flat_2025[] = {
    { "1 oz", 1630, 1900 }, { "2 oz", 1900, 2170 }, { "3 oz", 2170, 2440 },
    { "4 oz", 2440, 2720 }, { "5 oz", 2720, 3000 }, { "6 oz", 3000, 3280 },
    { "7 oz", 3280, 3560 }, { "8 oz", 3560, 3840 }, { "9 oz", 3840, 4140 },
    { "10 oz", 4140, 4440 }, { "11 oz", 4440, 4740 }, { "12 oz", 4740, 5040 },
    { "13 oz", 5040, -1 },
  };

  check_breaks (fixture, PM_MAIL_CLASS_FIRST_CLASS, PM_SHAPE_POSTCARD, D2025,
                PM_PRICE_CHANNEL_METER, NULL, postcard_2025, G_N_ELEMENTS (postcard_2025));
  check_breaks (fixture, PM_MAIL_CLASS_FIRST_CLASS_INTERNATIONAL, PM_SHAPE_LETTER, D2025,
                PM_PRICE_CHANNEL_METER, NULL, international_2025,
                G_N_ELEMENTS (international_2025));
  check_breaks (fixture, PM_MAIL_CLASS_FIRST_CLASS, PM_SHAPE_FLAT, D2026,
                PM_PRICE_CHANNEL_METER, NULL, flat_2026, G_N_ELEMENTS (flat_2026));
  check_breaks (fixture, PM_MAIL_CLASS_FIRST_CLASS, PM_SHAPE_FLAT, D2025,
                PM_PRICE_CHANNEL_RETAIL, NULL, flat_2025, G_N_ELEMENTS (flat_2025));
  /* A meter pays the retail flat price: there is no metered flat price. */
  check_breaks (fixture, PM_MAIL_CLASS_FIRST_CLASS, PM_SHAPE_FLAT, D2025,
                PM_PRICE_CHANNEL_METER, NULL, flat_2025, G_N_ELEMENTS (flat_2025));
  /* First-Class Mail did not change on 18 Jan 2026: the 2025 flats hold until 11 Jul 2026. */
  check_breaks (fixture, PM_MAIL_CLASS_FIRST_CLASS, PM_SHAPE_FLAT, 20260711,
                PM_PRICE_CHANNEL_METER, NULL, flat_2025, G_N_ELEMENTS (flat_2025));
}

/* Where each price comes from shows in the quote's warnings. */
static void
test_first_class_sources (Fixture       *fixture,
                          gconstpointer  data)
{
  g_auto (PmQuote) quote = { 0 };
  PmRateRequest request;

  /* 1 oz metered letter, 2025: confirmed, no warning about the source. */
  request = make_request (PM_MAIL_CLASS_FIRST_CLASS, PM_SHAPE_LETTER,
                          pm_weight_make (1, 0, PM_WEIGHT_UNIT_OUNCE), D2025);
  g_assert_true (pm_rating_quote (fixture->rating, &request, &quote, NULL));
  g_assert_cmpint (quote.total, ==, 740);
  g_assert_false (quote.warnings & PM_QUOTE_WARNING_SECONDARY_SOURCE);
  g_assert_false (quote.warnings & PM_QUOTE_WARNING_PROVISIONAL);
  pm_quote_clear (&quote);

  /* 2 oz metered: a transcription of Notice 123, secondary and no longer derived. */
  request.piece.weight = pm_weight_make (2, 0, PM_WEIGHT_UNIT_OUNCE);
  g_assert_true (pm_rating_quote (fixture->rating, &request, &quote, NULL));
  g_assert_cmpint (quote.total, ==, 1030);
  g_assert_true (quote.warnings & PM_QUOTE_WARNING_SECONDARY_SOURCE);
  g_assert_false (quote.warnings & PM_QUOTE_WARNING_PROVISIONAL);
  pm_quote_clear (&quote);

  /* 2 oz stamped: the same transcription, secondary. */
  request.channel = PM_PRICE_CHANNEL_RETAIL;
  g_assert_true (pm_rating_quote (fixture->rating, &request, &quote, NULL));
  g_assert_cmpint (quote.total, ==, 1070);
  g_assert_true (quote.warnings & PM_QUOTE_WARNING_SECONDARY_SOURCE);
  g_assert_false (quote.warnings & PM_QUOTE_WARNING_PROVISIONAL);
  pm_quote_clear (&quote);

  /* 1 oz stamped: confirmed. */
  request.piece.weight = pm_weight_make (1, 0, PM_WEIGHT_UNIT_OUNCE);
  g_assert_true (pm_rating_quote (fixture->rating, &request, &quote, NULL));
  g_assert_cmpint (quote.total, ==, 780);
  g_assert_false (quote.warnings & PM_QUOTE_WARNING_SECONDARY_SOURCE);
  g_assert_false (quote.warnings & PM_QUOTE_WARNING_PROVISIONAL);
  pm_quote_clear (&quote);

  /* A 13 oz flat: secondary, from a complete table. */
  request = make_request (PM_MAIL_CLASS_FIRST_CLASS, PM_SHAPE_FLAT,
                          pm_weight_make (13, 0, PM_WEIGHT_UNIT_OUNCE), D2025);
  g_assert_true (pm_rating_quote (fixture->rating, &request, &quote, NULL));
  g_assert_cmpint (quote.total, ==, 5040);
  g_assert_true (quote.warnings & PM_QUOTE_WARNING_SECONDARY_SOURCE);
  g_assert_false (quote.warnings & PM_QUOTE_WARNING_PROVISIONAL);
  g_assert_false (quote.warnings & PM_QUOTE_WARNING_PARTIAL_TABLE);
  pm_quote_clear (&quote);

  /* The 2025 surcharge is secondary now, no longer provisional. */
  request = make_request (PM_MAIL_CLASS_FIRST_CLASS, PM_SHAPE_LETTER,
                          pm_weight_make (1, 0, PM_WEIGHT_UNIT_OUNCE), D2025);
  request.piece.flags = PM_PIECE_RIGID;
  g_assert_true (pm_rating_quote (fixture->rating, &request, &quote, NULL));
  g_assert_cmpint (quote.total, ==, 740 + 490);
  g_assert_true (quote.warnings & PM_QUOTE_WARNING_SECONDARY_SOURCE);
  g_assert_false (quote.warnings & PM_QUOTE_WARNING_PROVISIONAL);
}

typedef struct
{
  PmMailClass mail_class;
  const char *destination;
  Break       row;
} ZonedBreak;

/* Holiday prices from 5 Oct 2025 (postal.md section 7 samples and the transcription the
 * package cites), zones 1, 2, 5, 8 and 9. */
static void
test_shipping_zones (Fixture       *fixture,
                     gconstpointer  data)
{
  static const ZonedBreak cases[] = {
    { PM_MAIL_CLASS_GROUND_ADVANTAGE, "00001", { "4 oz", 7200, 7500 } },
    { PM_MAIL_CLASS_GROUND_ADVANTAGE, "00002", { "4 oz", 7250, 7700 } },
    { PM_MAIL_CLASS_GROUND_ADVANTAGE, "00005", { "4 oz", 7800, 8350 } },
    { PM_MAIL_CLASS_GROUND_ADVANTAGE, "00008", { "4 oz", 8400, 9250 } },
    { PM_MAIL_CLASS_GROUND_ADVANTAGE, "00009", { "4 oz", 8400, 9250 } },
    { PM_MAIL_CLASS_GROUND_ADVANTAGE, "00001", { "1 lb", 9100, 9850 } },
    { PM_MAIL_CLASS_GROUND_ADVANTAGE, "00002", { "1 lb", 9450, 10450 } },
    { PM_MAIL_CLASS_GROUND_ADVANTAGE, "00005", { "1 lb", 10650, 12800 } },
    { PM_MAIL_CLASS_GROUND_ADVANTAGE, "00008", { "1 lb", 12450, 17150 } },
    { PM_MAIL_CLASS_GROUND_ADVANTAGE, "00009", { "1 lb", 12450, 17150 } },
    { PM_MAIL_CLASS_GROUND_ADVANTAGE, "00001", { "70 lb", 59050, -1 } },
    { PM_MAIL_CLASS_GROUND_ADVANTAGE, "00002", { "70 lb", 62850, -1 } },
    { PM_MAIL_CLASS_GROUND_ADVANTAGE, "00005", { "70 lb", 117000, -1 } },
    { PM_MAIL_CLASS_GROUND_ADVANTAGE, "00008", { "70 lb", 177800, -1 } },
    { PM_MAIL_CLASS_GROUND_ADVANTAGE, "00009", { "70 lb", 177800, -1 } },
    { PM_MAIL_CLASS_PRIORITY_MAIL, "00001", { "1 lb", 10450, 10900 } },
    { PM_MAIL_CLASS_PRIORITY_MAIL, "00002", { "1 lb", 10900, 11500 } },
    { PM_MAIL_CLASS_PRIORITY_MAIL, "00005", { "1 lb", 13000, 15750 } },
    { PM_MAIL_CLASS_PRIORITY_MAIL, "00008", { "1 lb", 16600, 19850 } },
    { PM_MAIL_CLASS_PRIORITY_MAIL, "00009", { "1 lb", 32600, 39150 } },
    { PM_MAIL_CLASS_PRIORITY_MAIL, "00001", { "70 lb", 66550, -1 } },
    { PM_MAIL_CLASS_PRIORITY_MAIL, "00002", { "70 lb", 71000, -1 } },
    { PM_MAIL_CLASS_PRIORITY_MAIL, "00005", { "70 lb", 144350, -1 } },
    { PM_MAIL_CLASS_PRIORITY_MAIL, "00008", { "70 lb", 224050, -1 } },
    { PM_MAIL_CLASS_PRIORITY_MAIL, "00009", { "70 lb", 445350, -1 } },
    { PM_MAIL_CLASS_PRIORITY_MAIL_EXPRESS, "00001", { "8 oz", 32500, 33050 } },
    { PM_MAIL_CLASS_PRIORITY_MAIL_EXPRESS, "00002", { "8 oz", 32750, 33800 } },
    { PM_MAIL_CLASS_PRIORITY_MAIL_EXPRESS, "00005", { "8 oz", 40800, 48350 } },
    { PM_MAIL_CLASS_PRIORITY_MAIL_EXPRESS, "00008", { "8 oz", 49800, 58500 } },
    { PM_MAIL_CLASS_PRIORITY_MAIL_EXPRESS, "00009", { "8 oz", 65550, 77300 } },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    check_breaks (fixture, cases[i].mail_class, PM_SHAPE_PARCEL, 20251201,
                  PM_PRICE_CHANNEL_METER, cases[i].destination, &cases[i].row, 1);
}

/* Exactly equal weights in different units get the same price, at and around breaks. */
static void
test_same_piece_same_price (Fixture       *fixture,
                            gconstpointer  data)
{
  static const PmWeight same[][4] = {
    { { 1, 0, PM_WEIGHT_UNIT_OUNCE }, { 28349523125, -9, PM_WEIGHT_UNIT_GRAM },
      { 625, -4, PM_WEIGHT_UNIT_POUND }, { 28349523125, -12, PM_WEIGHT_UNIT_KILOGRAM } },
    { { 35, -1, PM_WEIGHT_UNIT_OUNCE }, { 992233309375, -10, PM_WEIGHT_UNIT_GRAM },
      { 21875, -5, PM_WEIGHT_UNIT_POUND }, { 992233309375, -13, PM_WEIGHT_UNIT_KILOGRAM } },
    { { 16, 0, PM_WEIGHT_UNIT_OUNCE }, { 45359237, -5, PM_WEIGHT_UNIT_GRAM },
      { 1, 0, PM_WEIGHT_UNIT_POUND }, { 45359237, -8, PM_WEIGHT_UNIT_KILOGRAM } },
    { { 1120, 0, PM_WEIGHT_UNIT_OUNCE }, { 317514659, -4, PM_WEIGHT_UNIT_GRAM },
      { 70, 0, PM_WEIGHT_UNIT_POUND }, { 317514659, -7, PM_WEIGHT_UNIT_KILOGRAM } },
  };
  static const PmMailClass classes[] = { PM_MAIL_CLASS_FIRST_CLASS,
                                         PM_MAIL_CLASS_GROUND_ADVANTAGE,
                                         PM_MAIL_CLASS_PRIORITY_MAIL };

  for (gsize c = 0; c < G_N_ELEMENTS (classes); c++)
    for (gsize i = 0; i < G_N_ELEMENTS (same); i++)
      {
        PmRateRequest request = make_request (classes[c], PM_SHAPE_LETTER, same[i][0], 20251201);
        PmMills first;

        request.destination_zip = "00005";
        first = quote_total (fixture, &request);
        for (gsize j = 1; j < 4; j++)
          {
            request.piece.weight = same[i][j];
            g_assert_cmpint (quote_total (fixture, &request), ==, first);
          }
      }

  /* And every tenth of a gram from 0.1 g to 100 g prices like its own ounce ceiling. */
  for (gint64 tenths = 1; tenths <= 1000; tenths++)
    {
      PmWeight grams = pm_weight_make (tenths, -1, PM_WEIGHT_UNIT_GRAM);
      PmRateRequest request = make_request (PM_MAIL_CLASS_FIRST_CLASS, PM_SHAPE_LETTER, grams,
                                            D2025);
      gint64 ounces = pm_weight_ceil_ounces (&grams);
      PmMills expected = ounces <= 3 ? 740 + 290 * (ounces - 1) : -1;
      gint64 picograms;

      pm_weight_to_picograms (&grams, &picograms);
      if (ounces == 4 && picograms <= 35 * (PM_PICOGRAMS_PER_OUNCE / 10))
        expected = 1610;
      g_assert_cmpint (quote_total (fixture, &request), ==, expected);
    }
}

static void
test_effective_dates (Fixture       *fixture,
                      gconstpointer  data)
{
  PmWeight one_ounce = pm_weight_make (10, -1, PM_WEIGHT_UNIT_OUNCE);
  PmWeight one_pound = pm_weight_make (1, 0, PM_WEIGHT_UNIT_POUND);
  PmRateRequest request;

  request = make_request (PM_MAIL_CLASS_FIRST_CLASS, PM_SHAPE_LETTER, one_ounce, 20250713);
  g_assert_cmpint (quote_total (fixture, &request), ==, 740);
  request.date = 20260711;
  g_assert_cmpint (quote_total (fixture, &request), ==, 740);
  request.date = 20260712;
  g_assert_cmpint (quote_total (fixture, &request), ==, 780);
  request.date = 20250712;
  expect_error (fixture, &request, PM_RATING_ERROR_NO_PACKAGE, "12 Jul 2025");

  /* The 2025 holiday shipping table: 5 Oct 2025 up to, not including, 18 Jan 2026. */
  request = make_request (PM_MAIL_CLASS_PRIORITY_MAIL, PM_SHAPE_PARCEL, one_pound, 20251004);
  request.destination_zip = "00005";
  expect_error (fixture, &request, PM_RATING_ERROR_CLASS_NOT_AVAILABLE, "Priority Mail");
  request.date = 20251005;
  g_assert_cmpint (quote_total (fixture, &request), ==, 13000);
  request.date = 20260117;
  g_assert_cmpint (quote_total (fixture, &request), ==, 13000);
  request.date = 20260118;
  expect_error (fixture, &request, PM_RATING_ERROR_CLASS_NOT_AVAILABLE, "18 Jan 2026");

  /* Ground Advantage 2026: 8 oz in zone 8 before the holiday, 1 lb after it starts. */
  request = make_request (PM_MAIL_CLASS_GROUND_ADVANTAGE, PM_SHAPE_PARCEL,
                          pm_weight_make (8, 0, PM_WEIGHT_UNIT_OUNCE), 20261003);
  request.destination_zip = "00008";
  g_assert_cmpint (quote_total (fixture, &request), ==, 9450);
  request.destination_zip = "00001";
  g_assert_cmpint (quote_total (fixture, &request), ==, 7900);
  request.date = 20261004;
  expect_error (fixture, &request, PM_RATING_ERROR_NO_PRICE, "zone 1");
  request.piece.weight = one_pound;
  request.destination_zip = "00008";
  g_assert_cmpint (quote_total (fixture, &request), ==, 13650);
  request.piece.weight = pm_weight_make (70, 0, PM_WEIGHT_UNIT_POUND);
  g_assert_cmpint (quote_total (fixture, &request), ==, 204300);
  request.piece.weight = pm_weight_make (101, -2, PM_WEIGHT_UNIT_POUND);
  expect_error (fixture, &request, PM_RATING_ERROR_NO_PRICE, "up to 2 lb to zone 8");
  request.piece.weight = pm_weight_make (401, -2, PM_WEIGHT_UNIT_POUND);
  g_assert_cmpint (quote_total (fixture, &request), ==, 27450);
  request.piece.weight = pm_weight_make (501, -2, PM_WEIGHT_UNIT_POUND);
  expect_error (fixture, &request, PM_RATING_ERROR_NO_PRICE, "up to 6 lb to zone 8");
}

static void
test_limits (Fixture       *fixture,
             gconstpointer  data)
{
  PmRateRequest request;

  /* Too heavy for a letter: the flat price is offered. */
  request = make_request (PM_MAIL_CLASS_FIRST_CLASS, PM_SHAPE_LETTER,
                          pm_weight_make (36, -1, PM_WEIGHT_UNIT_OUNCE), D2026);
  expect_error (fixture, &request, PM_RATING_ERROR_TOO_HEAVY,
                "3.6 oz is too heavy for a First-Class Mail letter (3.5 oz at most). As a "
                "large envelope (flat) it costs $2.56.");
  request.date = D2025;
  expect_error (fixture, &request, PM_RATING_ERROR_TOO_HEAVY,
                "As a large envelope (flat) it costs $2.44.");

  /* Too heavy for a flat: Ground Advantage or Priority Mail, priced when the ZIP is known. */
  request = make_request (PM_MAIL_CLASS_FIRST_CLASS, PM_SHAPE_FLAT,
                          pm_weight_make (131, -1, PM_WEIGHT_UNIT_OUNCE), 20251201);
  expect_error (fixture, &request, PM_RATING_ERROR_TOO_HEAVY,
                "Send it as USPS Ground Advantage or Priority Mail");
  request.destination_zip = "00005";
  expect_error (fixture, &request, PM_RATING_ERROR_TOO_HEAVY,
                "As a USPS Ground Advantage parcel it costs $10.65. As Priority Mail it "
                "costs $13.00.");

  /* 70 lb is the limit of the shipping classes, exactly. */
  request = make_request (PM_MAIL_CLASS_GROUND_ADVANTAGE, PM_SHAPE_PARCEL,
                          pm_weight_make (7000, -2, PM_WEIGHT_UNIT_POUND), 20251201);
  request.destination_zip = "00005";
  g_assert_cmpint (quote_total (fixture, &request), ==, 117000);
  request.piece.weight = pm_weight_make (7001, -2, PM_WEIGHT_UNIT_POUND);
  expect_error (fixture, &request, PM_RATING_ERROR_TOO_HEAVY,
                "70 lb 0.16 oz is too heavy for USPS Ground Advantage (70 lb at most). No USPS "
                "class takes a single piece above 70 lb");
  request.piece.weight = pm_weight_make (31752, -3, PM_WEIGHT_UNIT_KILOGRAM);
  expect_error (fixture, &request, PM_RATING_ERROR_TOO_HEAVY, "70 lb at most");

  /* The zone needs both ZIP codes. */
  request = make_request (PM_MAIL_CLASS_PRIORITY_MAIL, PM_SHAPE_PARCEL,
                          pm_weight_make (2, 0, PM_WEIGHT_UNIT_POUND), 20251201);
  expect_error (fixture, &request, PM_RATING_ERROR_DESTINATION_REQUIRED, "Destination ZIP");
  request.destination_zip = "00003";
  request.origin_zip = NULL;
  expect_error (fixture, &request, PM_RATING_ERROR_ORIGIN_REQUIRED, "Origin ZIP");
  request.origin_zip = "60601";
  request.destination_zip = "99999";
  expect_error (fixture, &request, PM_RATING_ERROR_ZONE, "no zone for 99999");
  request.destination_zip = "00003";
  g_assert_cmpint (quote_total (fixture, &request), ==, 12200);

  /* Nothing on the scale. */
  request.piece.weight = pm_weight_make (0, -1, PM_WEIGHT_UNIT_OUNCE);
  expect_error (fixture, &request, PM_RATING_ERROR_INVALID_PIECE, "weighs nothing");

  /* International letters: only 1 oz is published; above 3.5 oz there is no letter. */
  request = make_request (PM_MAIL_CLASS_FIRST_CLASS_INTERNATIONAL, PM_SHAPE_LETTER,
                          pm_weight_make (11, -1, PM_WEIGHT_UNIT_OUNCE), D2025);
  expect_error (fixture, &request, PM_RATING_ERROR_NO_PRICE, "up to 2 oz");
  request.piece.weight = pm_weight_make (36, -1, PM_WEIGHT_UNIT_OUNCE);
  expect_error (fixture, &request, PM_RATING_ERROR_TOO_HEAVY, "international large envelope");

  /* A class the package in force does not price. */
  request = make_request (PM_MAIL_CLASS_FIRST_CLASS, PM_SHAPE_POSTCARD,
                          pm_weight_make (1, 0, PM_WEIGHT_UNIT_OUNCE), D2026);
  expect_error (fixture, &request, PM_RATING_ERROR_CLASS_NOT_AVAILABLE, "usps-2026-07-12");
}

static void
test_sizes (Fixture       *fixture,
            gconstpointer  data)
{
  PmRateRequest request;
  g_auto (PmQuote) quote = { 0 };

  /* A #10 envelope, 9.5 × 4.125 in: machinable, no surcharge. */
  request = make_request (PM_MAIL_CLASS_FIRST_CLASS, PM_SHAPE_LETTER,
                          pm_weight_make (1, 0, PM_WEIGHT_UNIT_OUNCE), D2025);
  request.piece.length = 9500, request.piece.width = 4125, request.piece.thickness = 100;
  g_assert_true (pm_rating_quote (fixture->rating, &request, &quote, NULL));
  g_assert_cmpint (quote.total, ==, 740);
  g_assert_cmpuint (quote.n_lines, ==, 1);
  g_assert_false (quote.warnings & PM_QUOTE_WARNING_SIZE_NOT_GIVEN);
  pm_quote_clear (&quote);

  /* Square: aspect ratio below 1.3, nonmachinable. */
  request.piece.length = 6000, request.piece.width = 6000;
  g_assert_true (pm_rating_quote (fixture->rating, &request, &quote, NULL));
  g_assert_cmpint (quote.total, ==, 740 + 490);
  g_assert_true (quote.warnings & PM_QUOTE_WARNING_NONMACHINABLE);
  g_assert_cmpstr (quote.lines[1].label, ==, "Nonmachinable surcharge");
  pm_quote_clear (&quote);

  /* Aspect ratio 2.5 exactly is machinable, above it is not. */
  request.piece.length = 10000, request.piece.width = 4000;
  g_assert_cmpint (quote_total (fixture, &request), ==, 740);
  request.piece.length = 10001;
  g_assert_cmpint (quote_total (fixture, &request), ==, 1230);

  /* Rigid, whatever the size. */
  request.piece.length = 9500, request.piece.width = 4125;
  request.piece.flags = PM_PIECE_RIGID;
  g_assert_cmpint (quote_total (fixture, &request), ==, 1230);
  request.piece.flags = 0;

  /* Larger than a letter: the flat price is offered. */
  request.piece.thickness = 251;
  expect_error (fixture, &request, PM_RATING_ERROR_TOO_LARGE,
                "0.251 in thick, more than the 0.25 in a First-Class Mail letter may be. As a "
                "large envelope (flat) it costs $1.63.");
  request.piece.thickness = 100;
  request.piece.length = 11501;
  expect_error (fixture, &request, PM_RATING_ERROR_TOO_LARGE, "11.501 in long");

  /* Smaller than mailable. */
  request.piece.length = 4900;
  expect_error (fixture, &request, PM_RATING_ERROR_TOO_SMALL, "at least 5 in × 3.5 in");

  /* Only two sides given. */
  request.piece.length = 9500, request.piece.thickness = 0;
  expect_error (fixture, &request, PM_RATING_ERROR_INVALID_PIECE, "all three sides");

  /* A card larger than a postcard pays the letter price; a rigid card is refused. */
  request = make_request (PM_MAIL_CLASS_FIRST_CLASS, PM_SHAPE_POSTCARD,
                          pm_weight_make (1, -1, PM_WEIGHT_UNIT_OUNCE), D2025);
  request.piece.length = 6000, request.piece.width = 4250, request.piece.thickness = 16;
  g_assert_cmpint (quote_total (fixture, &request), ==, 610);
  request.piece.length = 7000;
  expect_error (fixture, &request, PM_RATING_ERROR_TOO_LARGE, "As a letter it costs $0.74.");
  request.piece.length = 6000;
  request.piece.flags = PM_PIECE_RIGID;
  expect_error (fixture, &request, PM_RATING_ERROR_NONMACHINABLE,
                "As a nonmachinable letter it costs $1.23.");

  /* A rigid large envelope goes at parcel prices. */
  request = make_request (PM_MAIL_CLASS_FIRST_CLASS, PM_SHAPE_FLAT,
                          pm_weight_make (1, 0, PM_WEIGHT_UNIT_OUNCE), 20251201);
  request.piece.flags = PM_PIECE_RIGID;
  request.destination_zip = "00001";
  expect_error (fixture, &request, PM_RATING_ERROR_NONMACHINABLE,
                "As a USPS Ground Advantage parcel it costs $7.20.");
}

static void
test_parcels (Fixture       *fixture,
              gconstpointer  data)
{
  PmRateRequest request;
  g_auto (PmQuote) quote = { 0 };

  /* 12 × 12 × 12 in is exactly one cubic foot: no dimensional weight. */
  request = make_request (PM_MAIL_CLASS_GROUND_ADVANTAGE, PM_SHAPE_PARCEL,
                          pm_weight_make (3, 0, PM_WEIGHT_UNIT_POUND), 20251201);
  request.destination_zip = "00005";
  request.piece.length = request.piece.width = request.piece.thickness = 12000;
  g_assert_cmpint (quote_total (fixture, &request), ==, 13600);

  /* 12 × 12 × 14 = 2016 in³ / 166 = 12.1, billed as 13 lb. */
  request.piece.thickness = 14000;
  g_assert_true (pm_rating_quote (fixture->rating, &request, &quote, NULL));
  g_assert_cmpint (quote.total, ==, 25100);
  g_assert_cmpint (quote.billed_picograms, ==, 13 * PM_PICOGRAMS_PER_POUND);
  g_assert_cmpstr (quote.weight_break, ==, "13 lb");
  g_assert_true (quote.warnings & PM_QUOTE_WARNING_DIMENSIONAL_WEIGHT);
  pm_quote_clear (&quote);

  /* Sides round to the nearest inch: 12.499 in is 12 in, 12.5 in is 13 in. */
  request.piece.thickness = 12499;
  g_assert_cmpint (quote_total (fixture, &request), ==, 13600);
  request.piece.thickness = 12500;
  g_assert_cmpint (quote_total (fixture, &request), ==, 24200);  /* 1872 / 166 → 12 lb */

  /* Non-rectangular: 12 × 12 × 14 × 0.785 / 166 = 9.5, billed as 10 lb. */
  request.piece.thickness = 14000;
  request.piece.flags = PM_PIECE_NONRECTANGULAR;
  g_assert_cmpint (quote_total (fixture, &request), ==, 20950);
  request.piece.flags = 0;

  /* Heavier than the dimensional weight: the real weight counts. */
  request.piece.weight = pm_weight_make (20, 0, PM_WEIGHT_UNIT_POUND);
  g_assert_cmpint (quote_total (fixture, &request), ==, 32750);

  /* A light, large parcel: 21 in cube = 9261 in³ / 166 = 55.8, billed as 56 lb. */
  request.piece.weight = pm_weight_make (5, 0, PM_WEIGHT_UNIT_POUND);
  request.piece.length = request.piece.width = request.piece.thickness = 21000;
  g_assert_true (pm_rating_quote (fixture->rating, &request, &quote, NULL));
  g_assert_cmpint (quote.total, ==, 102750);
  g_assert_cmpstr (quote.weight_break, ==, "56 lb");
  pm_quote_clear (&quote);

  /* Length plus girth above 108 in. */
  request.piece.length = 50000, request.piece.width = 15000, request.piece.thickness = 15000;
  expect_error (fixture, &request, PM_RATING_ERROR_TOO_LARGE, "length plus girth is 110 in");

  /* Priority Mail nonstandard fees: one length fee at a time, plus the volume fee. */
  request = make_request (PM_MAIL_CLASS_PRIORITY_MAIL, PM_SHAPE_PARCEL,
                          pm_weight_make (2, 0, PM_WEIGHT_UNIT_POUND), 20251201);
  request.destination_zip = "00002";
  request.piece.length = 22000, request.piece.width = 4000, request.piece.thickness = 4000;
  g_assert_cmpint (quote_total (fixture, &request), ==, 11500);
  request.piece.length = 22001;
  g_assert_cmpint (quote_total (fixture, &request), ==, 11500 + 4000);
  request.piece.length = 30001;
  g_assert_cmpint (quote_total (fixture, &request), ==, 11500 + 18000);
  /* 30.001 × 12 × 10 in: over 2 cu ft, and DIM 30 × 12 × 10 / 166 = 21.7 → 22 lb. */
  request.piece.width = 12000, request.piece.thickness = 10000;
  g_assert_cmpint (quote_total (fixture, &request), ==, 31250 + 18000 + 30000);
}

static void
test_services (Fixture       *fixture,
               gconstpointer  data)
{
  PmRateRequest request;
  g_auto (PmQuote) quote = { 0 };

  /* Certified Mail with Return Receipt on a 1 oz metered letter, 2025. */
  request = make_request (PM_MAIL_CLASS_FIRST_CLASS, PM_SHAPE_LETTER,
                          pm_weight_make (1, 0, PM_WEIGHT_UNIT_OUNCE), D2025);
  request.services = PM_SERVICE_CERTIFIED_MAIL | PM_SERVICE_RETURN_RECEIPT;
  g_assert_true (pm_rating_quote (fixture->rating, &request, &quote, NULL));
  g_assert_cmpint (quote.total, ==, 740 + 5300 + 4400);
  g_assert_cmpuint (quote.n_lines, ==, 3);
  g_assert_cmpint (quote.lines[1].kind, ==, PM_QUOTE_LINE_SERVICE);
  g_assert_cmpstr (quote.lines[1].label, ==, "Certified Mail");
  g_assert_true (quote.warnings & PM_QUOTE_WARNING_SECONDARY_SOURCE);
  pm_quote_clear (&quote);

  request.services = PM_SERVICE_CERTIFIED_MAIL | PM_SERVICE_RETURN_RECEIPT_ELECTRONIC;
  g_assert_cmpint (quote_total (fixture, &request), ==, 740 + 5300 + 2820);
  request.services = PM_SERVICE_RETURN_RECEIPT;
  expect_error (fixture, &request, PM_RATING_ERROR_SERVICE_NOT_AVAILABLE,
                "Return Receipt needs Certified Mail");

  /* Certified Mail is not sold with Ground Advantage. */
  request = make_request (PM_MAIL_CLASS_GROUND_ADVANTAGE, PM_SHAPE_PARCEL,
                          pm_weight_make (1, 0, PM_WEIGHT_UNIT_POUND), 20251201);
  request.destination_zip = "00001";
  request.services = PM_SERVICE_CERTIFIED_MAIL;
  expect_error (fixture, &request, PM_RATING_ERROR_SERVICE_NOT_AVAILABLE,
                "available with First-Class Mail, Priority Mail");

  /* No Certified Mail fee is published in the 2026 package. */
  request = make_request (PM_MAIL_CLASS_FIRST_CLASS, PM_SHAPE_LETTER,
                          pm_weight_make (1, 0, PM_WEIGHT_UNIT_OUNCE), D2026);
  request.services = PM_SERVICE_CERTIFIED_MAIL;
  expect_error (fixture, &request, PM_RATING_ERROR_SERVICE_NOT_AVAILABLE, "certified-mail");

  /* Signature Confirmation and insurance on Ground Advantage, zone 8, 2026. */
  request = make_request (PM_MAIL_CLASS_GROUND_ADVANTAGE, PM_SHAPE_PARCEL,
                          pm_weight_make (8, 0, PM_WEIGHT_UNIT_OUNCE), D2026);
  request.destination_zip = "00008";
  request.services = PM_SERVICE_SIGNATURE_CONFIRMATION;
  g_assert_cmpint (quote_total (fixture, &request), ==, 9450 + 4150);
  request.channel = PM_PRICE_CHANNEL_RETAIL;
  g_assert_cmpint (quote_total (fixture, &request), ==, 9450 + 5150);

  request.services = PM_SERVICE_INSURANCE;
  expect_error (fixture, &request, PM_RATING_ERROR_DECLARED_VALUE, "value of the contents");
  request.declared_value = 50000;
  g_assert_cmpint (quote_total (fixture, &request), ==, 9450 + 2800);
  request.declared_value = 50010;
  g_assert_cmpint (quote_total (fixture, &request), ==, 9450 + 3500);
  request.declared_value = 300000;
  g_assert_cmpint (quote_total (fixture, &request), ==, 9450 + 4550);
  request.declared_value = 300010;
  expect_error (fixture, &request, PM_RATING_ERROR_DECLARED_VALUE, "above $300.00");
}

static void
test_quote_text (Fixture       *fixture,
                 gconstpointer  data)
{
  PmRateRequest request;
  g_auto (PmQuote) quote = { 0 };
  g_autofree char *text = NULL;

  request = make_request (PM_MAIL_CLASS_PRIORITY_MAIL, PM_SHAPE_PARCEL,
                          pm_weight_make (354, -1, PM_WEIGHT_UNIT_OUNCE), 20251201);
  request.destination_zip = "00005";
  g_assert_true (pm_rating_quote (fixture->rating, &request, &quote, NULL));
  g_assert_cmpint (quote.total, ==, 16850);
  g_assert_cmpuint (quote.zone, ==, 5);
  g_assert_cmpstr (quote.package->id, ==, "usps-2025-07-13");
  g_assert_cmpstr (quote.table->id, ==, "pm-retail-holiday-2025");
  text = pm_quote_to_string (&quote);
  g_assert_nonnull (strstr (text, "Priced at: up to 3 lb, zone 5"));
  g_assert_nonnull (strstr (text, "$16.85"));
}

/* Zones from the shipped zone charts: origin and destination ZIP Codes decide the price. */
static void
test_zone_chart (Fixture       *fixture,
                 gconstpointer  data)
{
  static const struct
  {
    PmMailClass mail_class;
    const char *weight;
    const char *destination;
    guint       zone;
    PmMills     total;
  } cases[] = {
    /* From 60601, holiday prices from 5 Oct 2025 (postal.md section 7). */
    { PM_MAIL_CLASS_PRIORITY_MAIL, "1 lb", "60614", 1, 10450 },
    { PM_MAIL_CLASS_PRIORITY_MAIL, "1 lb", "46201", 2, 10900 },
    { PM_MAIL_CLASS_PRIORITY_MAIL, "1 lb", "10001", 5, 13000 },
    { PM_MAIL_CLASS_PRIORITY_MAIL, "1 lb", "94105-1804", 8, 16600 },
    { PM_MAIL_CLASS_PRIORITY_MAIL, "1 lb", "96960", 9, 32600 },
    { PM_MAIL_CLASS_PRIORITY_MAIL, "70 lb", "80202", 5, 144350 },
    { PM_MAIL_CLASS_GROUND_ADVANTAGE, "4 oz", "60614", 1, 7200 },
    { PM_MAIL_CLASS_GROUND_ADVANTAGE, "113 g", "46201", 2, 7250 },
    { PM_MAIL_CLASS_GROUND_ADVANTAGE, "1 lb", "10001", 5, 10650 },
    { PM_MAIL_CLASS_GROUND_ADVANTAGE, "0.45 kg", "94105", 8, 12450 },
    { PM_MAIL_CLASS_GROUND_ADVANTAGE, "70 lb", "96939", 9, 177800 },
    { PM_MAIL_CLASS_PRIORITY_MAIL_EXPRESS, "8 oz", "60614", 1, 32500 },
    { PM_MAIL_CLASS_PRIORITY_MAIL_EXPRESS, "8 oz", "46350", 1, 32500 },
    { PM_MAIL_CLASS_PRIORITY_MAIL_EXPRESS, "8 oz", "80202", 5, 40800 },
    { PM_MAIL_CLASS_PRIORITY_MAIL_EXPRESS, "8 oz", "99501", 8, 49800 },
    { PM_MAIL_CLASS_PRIORITY_MAIL_EXPRESS, "8 oz", "96960", 9, 65550 },
  };
  g_autoptr (PmZoneChart) chart = pm_zone_chart_new ();
  g_autoptr (PmVerifyKey) key = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *zones = NULL;
  g_autofree char *key_path = NULL;
  PmRateRequest request;

  zones = g_build_filename (g_getenv ("POSTMETER_SOURCE_ROOT"), "data", "zones", NULL);
  key_path = g_build_filename (g_getenv ("POSTMETER_SOURCE_ROOT"), "data", "keys",
                               "demo-provider.pub", NULL);
  key = pm_package_load_key (key_path, &error);
  g_assert_no_error (error);
  g_assert_true (pm_zone_chart_install_directory (chart, zones, key, &error));
  g_assert_no_error (error);
  pm_rating_set_zones (fixture->rating, chart);

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_auto (PmQuote) quote = { 0 };
      PmWeight weight;

      g_assert_true (pm_weight_parse (cases[i].weight, &weight, NULL));
      request = make_request (cases[i].mail_class, PM_SHAPE_PARCEL, weight, 20251201);
      request.destination_zip = cases[i].destination;
      if (!pm_rating_quote (fixture->rating, &request, &quote, &error))
        g_error ("%s to %s: %s", cases[i].weight, cases[i].destination, error->message);
      g_assert_cmpuint (quote.zone, ==, cases[i].zone);
      g_assert_cmpint (quote.total, ==, cases[i].total);
      /* The shipped charts are from 2018, and every zoned quote says so. */
      g_assert_true (quote.warnings & PM_QUOTE_WARNING_ZONE_CHART_OLD);
      g_assert_true (quote.zone_flags & PM_ZONE_FLAG_NOT_CURRENT);
      /* 969 is marked "+": its 5-digit exceptions are not in the 2018 chart. */
      g_assert_cmpint (!!(quote.warnings & PM_QUOTE_WARNING_ZONE_EXCEPTIONS), ==,
                       g_str_has_prefix (cases[i].destination, "969"));
    }

  /* The quote text carries the zone and the warnings. */
  {
    g_auto (PmQuote) quote = { 0 };
    g_autofree char *text = NULL;

    request.destination_zip = "96960";
    g_assert_true (pm_rating_quote (fixture->rating, &request, &quote, NULL));
    text = pm_quote_to_string (&quote);
    g_assert_nonnull (strstr (text, "zone 9"));
    g_assert_nonnull (strstr (text, "older USPS zone chart"));
    g_assert_nonnull (strstr (text, "zone of their own"));
  }

  /* A letter needs no zone, so no destination. */
  request = make_request (PM_MAIL_CLASS_FIRST_CLASS, PM_SHAPE_LETTER,
                          pm_weight_make (1, 0, PM_WEIGHT_UNIT_OUNCE), 20251201);
  g_assert_cmpint (quote_total (fixture, &request), ==, 740);

  /* Missing, malformed and unknown destinations, and an origin without a chart. */
  request = make_request (PM_MAIL_CLASS_PRIORITY_MAIL, PM_SHAPE_PARCEL,
                          pm_weight_make (1, 0, PM_WEIGHT_UNIT_POUND), 20251201);
  expect_error (fixture, &request, PM_RATING_ERROR_DESTINATION_REQUIRED,
                "Destination ZIP: Priority Mail is priced by zone; enter the destination ZIP");
  request.destination_zip = "";
  expect_error (fixture, &request, PM_RATING_ERROR_DESTINATION_REQUIRED, "Destination ZIP");
  request.destination_zip = "9410";
  expect_error (fixture, &request, PM_RATING_ERROR_ZONE,
                "Destination ZIP: “9410” has 4 digits; a ZIP Code has 5");
  request.destination_zip = "941O5";
  expect_error (fixture, &request, PM_RATING_ERROR_ZONE,
                "Destination ZIP: “941O5” is not a ZIP Code");
  request.destination_zip = "00201";
  expect_error (fixture, &request, PM_RATING_ERROR_ZONE,
                "Destination ZIP: 00201 is not in the zone chart for origin 606");
  request.destination_zip = "94105";
  request.origin_zip = "12345";
  expect_error (fixture, &request, PM_RATING_ERROR_ZONE,
                "Origin ZIP: no zone chart is installed for origin 123");
  request.origin_zip = "";
  expect_error (fixture, &request, PM_RATING_ERROR_ORIGIN_REQUIRED, "Origin ZIP");

  /* Too heavy for a flat: the suggestions are priced through the chart too. */
  request = make_request (PM_MAIL_CLASS_FIRST_CLASS, PM_SHAPE_FLAT,
                          pm_weight_make (131, -1, PM_WEIGHT_UNIT_OUNCE), 20251201);
  request.destination_zip = "10001";
  expect_error (fixture, &request, PM_RATING_ERROR_TOO_HEAVY,
                "As a USPS Ground Advantage parcel it costs $10.65. As Priority Mail it "
                "costs $13.00.");

  /* Without a chart, zoned classes cannot be priced, and say so. */
  pm_rating_set_zones (fixture->rating, NULL);
  request = make_request (PM_MAIL_CLASS_PRIORITY_MAIL, PM_SHAPE_PARCEL,
                          pm_weight_make (1, 0, PM_WEIGHT_UNIT_POUND), 20251201);
  request.destination_zip = "94105";
  expect_error (fixture, &request, PM_RATING_ERROR_ZONE, "no zone chart is installed");
}

/* Nonstandard fees at their edges, dimensional weight capped at 70 lb, and oversized
 * parcels told what would work. Prices from postal.md sections 7 and 8. */
static void
test_parcel_edges (Fixture       *fixture,
                   gconstpointer  data)
{
  PmRateRequest request;
  g_auto (PmQuote) quote = { 0 };

  /* Priority Mail 70 lb to zone 2 ($71.00): 24 × 12 × 12 in is 2 cu ft exactly, so
   * only the length fee (over 22 in, $4.00); a thousandth of an inch more and the volume
   * fee ($30.00) applies too. */
  request = make_request (PM_MAIL_CLASS_PRIORITY_MAIL, PM_SHAPE_PARCEL,
                          pm_weight_make (70, 0, PM_WEIGHT_UNIT_POUND), 20251201);
  request.destination_zip = "00002";
  request.piece.length = 24000, request.piece.width = 12000, request.piece.thickness = 12000;
  g_assert_cmpint (quote_total (fixture, &request), ==, 71000 + 4000);
  request.piece.thickness = 12001;
  g_assert_true (pm_rating_quote (fixture->rating, &request, &quote, NULL));
  g_assert_cmpint (quote.total, ==, 71000 + 4000 + 30000);
  g_assert_cmpuint (quote.n_lines, ==, 3);
  g_assert_cmpstr (quote.lines[1].label, ==, "Nonstandard length fee (over 22 in)");
  g_assert_cmpstr (quote.lines[2].label, ==, "Nonstandard volume fee (over 2 cu ft)");
  pm_quote_clear (&quote);

  /* The same fees apply to Priority Mail Express: 8 oz to zone 2 ($32.75). */
  request = make_request (PM_MAIL_CLASS_PRIORITY_MAIL_EXPRESS, PM_SHAPE_PARCEL,
                          pm_weight_make (8, 0, PM_WEIGHT_UNIT_OUNCE), 20251201);
  request.destination_zip = "00002";
  request.piece.length = 22000, request.piece.width = 4000, request.piece.thickness = 4000;
  g_assert_cmpint (quote_total (fixture, &request), ==, 32750);
  request.piece.length = 23000;
  g_assert_cmpint (quote_total (fixture, &request), ==, 32750 + 4000);

  /* 36 × 18 × 18 in (length plus girth 108 in, the most allowed): 11,664 in³ / 166 =
   * 70.3, 71 lb, above the 70 lb limit: the 70 lb price, not a refusal. Ground Advantage
   * zone 5 70 lb is $117.00. */
  request = make_request (PM_MAIL_CLASS_GROUND_ADVANTAGE, PM_SHAPE_PARCEL,
                          pm_weight_make (5, 0, PM_WEIGHT_UNIT_POUND), 20251201);
  request.destination_zip = "00005";
  request.piece.length = 36000, request.piece.width = 18000, request.piece.thickness = 18000;
  g_assert_true (pm_rating_quote (fixture->rating, &request, &quote, NULL));
  g_assert_cmpint (quote.total, ==, 117000);
  g_assert_cmpint (quote.billed_picograms, ==, 70 * PM_PICOGRAMS_PER_POUND);
  g_assert_true (quote.warnings & PM_QUOTE_WARNING_DIMENSIONAL_WEIGHT);
  g_assert_true (quote.warnings & PM_QUOTE_WARNING_DIMENSIONAL_CAPPED);
  pm_quote_clear (&quote);

  /* As Priority Mail to zone 5: the 70 lb price ($144.35), over 30 in ($18.00) and over
   * 2 cu ft ($30.00). */
  request.mail_class = PM_MAIL_CLASS_PRIORITY_MAIL;
  g_assert_cmpint (quote_total (fixture, &request), ==, 144350 + 18000 + 30000);

  /* Length plus girth: each class says what would work. */
  request.mail_class = PM_MAIL_CLASS_GROUND_ADVANTAGE;
  request.piece.length = 50000, request.piece.width = 15000, request.piece.thickness = 15000;
  expect_error (fixture, &request, PM_RATING_ERROR_TOO_LARGE,
                "length plus girth is 110 in, above the 108 in this package prices for USPS "
                "Ground Advantage. USPS Ground Advantage takes it up to 130 in at the "
                "oversized price");
  request.mail_class = PM_MAIL_CLASS_PRIORITY_MAIL;
  expect_error (fixture, &request, PM_RATING_ERROR_TOO_LARGE,
                "Only USPS Ground Advantage takes parcels up to 130 in");
  request.piece.length = 60000, request.piece.width = 20000, request.piece.thickness = 15001;
  expect_error (fixture, &request, PM_RATING_ERROR_TOO_LARGE,
                "length plus girth is 130.002 in, above the 108 in this package prices for "
                "Priority Mail. No USPS class takes a parcel above 130 in");

  /* Sides no parcel has: refused for size, never an overflowed volume or weight. */
  request.piece.length = G_MAXUINT32, request.piece.width = G_MAXUINT32;
  request.piece.thickness = G_MAXUINT32;
  expect_error (fixture, &request, PM_RATING_ERROR_TOO_LARGE, "length plus girth");

  /* A large envelope larger than a flat may be: Ground Advantage or Priority Mail. */
  request = make_request (PM_MAIL_CLASS_FIRST_CLASS, PM_SHAPE_FLAT,
                          pm_weight_make (1, 0, PM_WEIGHT_UNIT_OUNCE), 20251201);
  request.destination_zip = "00005";
  request.piece.length = 15000, request.piece.width = 12000, request.piece.thickness = 750;
  g_assert_cmpint (quote_total (fixture, &request), ==, 1630);
  request.piece.thickness = 751;
  expect_error (fixture, &request, PM_RATING_ERROR_TOO_LARGE,
                "0.751 in thick, more than the 0.75 in a First-Class Mail large envelope may "
                "be. As a USPS Ground Advantage parcel it costs $7.80. As Priority Mail it "
                "costs $13.00.");
}

typedef struct
{
  PmRateDate  date;
  PmRating   *rating;
} BreakCheck;

/* Quotes one weight; the outcome as "total/break" or "error N". */
static char *
outcome (PmRating            *rating,
         const PmRateRequest *request)
{
  g_auto (PmQuote) quote = { 0 };
  g_autoptr (GError) error = NULL;

  if (!pm_rating_quote (rating, request, &quote, &error))
    return g_strdup_printf ("error %d", error->code);
  return g_strdup_printf ("%" G_GINT64_FORMAT "/%s", (gint64) quote.total,
                          quote.weight_break);
}

/* Every break of every table of every shipped package, in every unit: the weight exactly
 * at the break written in ounces, pounds, grams, milligrams and kilograms gets one price,
 * and so does a weight a picogram above it in grams and kilograms. */
static void
test_every_break_every_unit (Fixture       *fixture,
                             gconstpointer  data)
{
  static const PmRateDate package_dates[] = { 20250713, 20260712 };
  guint checked = 0;

  for (gsize p = 0; p < G_N_ELEMENTS (package_dates); p++)
    {
      g_autoptr (PmRatePackage) package =
        pm_rating_dup_package_for_date (fixture->rating, package_dates[p]);

      g_assert_nonnull (package);
      for (guint i = 0; i < package->n_products; i++)
        {
          const PmRateProduct *product = &package->products[i];

          for (guint t = 0; t < product->n_tables; t++)
            {
              const PmRateTable *table = &product->tables[t];
              gboolean retail = table->price_list == PM_PRICE_LIST_STAMPED
                                || table->price_list == PM_PRICE_LIST_RETAIL;

              for (guint b = 0; b < table->n_breaks; b++)
                for (guint zone = 1; zone <= (table->zoned ? 9u : 1u); zone++)
                  {
                    gint64 picograms = table->break_picograms[b];
                    char destination[6];
                    PmWeight label;
                    PmWeight forms[5];
                    guint n_forms = 0;
                    PmRateRequest request;
                    g_autofree char *first = NULL;
                    g_autofree char *above_g = NULL;
                    g_autofree char *above_kg = NULL;

                    g_assert_true (pm_weight_parse (table->break_labels[b], &label, NULL));
                    forms[n_forms++] = label;
                    if (label.unit == PM_WEIGHT_UNIT_OUNCE)
                      forms[n_forms++] = pm_weight_make (label.mantissa * 625,
                                                         label.exponent - 4,
                                                         PM_WEIGHT_UNIT_POUND);
                    else if (label.unit == PM_WEIGHT_UNIT_POUND)
                      forms[n_forms++] = pm_weight_make (label.mantissa * 16, label.exponent,
                                                         PM_WEIGHT_UNIT_OUNCE);
                    forms[n_forms++] = pm_weight_make (picograms, -12, PM_WEIGHT_UNIT_GRAM);
                    forms[n_forms++] = pm_weight_make (picograms, -9,
                                                       PM_WEIGHT_UNIT_MILLIGRAM);
                    forms[n_forms++] = pm_weight_make (picograms, -15,
                                                       PM_WEIGHT_UNIT_KILOGRAM);

                    g_snprintf (destination, sizeof destination, "0000%u", zone);
                    request = make_request (product->mail_class, product->shape, label,
                                            MAX (table->effective, package->effective));
                    request.channel = retail ? PM_PRICE_CHANNEL_RETAIL : PM_PRICE_CHANNEL_METER;
                    request.destination_zip = destination;

                    for (guint f = 0; f < n_forms; f++)
                      {
                        g_autofree char *result = NULL;
                        gint64 form_picograms;

                        g_assert_true (pm_weight_to_picograms (&forms[f], &form_picograms));
                        g_assert_cmpint (form_picograms, ==, picograms);
                        request.piece.weight = forms[f];
                        result = outcome (fixture->rating, &request);
                        if (first == NULL)
                          first = g_steal_pointer (&result);
                        else if (strcmp (first, result) != 0)
                          g_error ("%s %s zone %u: %s gives %s, %s gives %s", table->id,
                                   table->break_labels[b], zone, table->break_labels[b], first,
                                   pm_weight_format (&forms[f]), result);
                      }

                    /* At the break, the table's own price when the quote used this table. */
                    if (table->prices[b * PM_RATE_PACKAGE_MAX_ZONES + zone - 1] >= 0)
                      {
                        g_auto (PmQuote) quote = { 0 };

                        request.piece.weight = label;
                        if (pm_rating_quote (fixture->rating, &request, &quote, NULL)
                            && quote.table == table && quote.n_lines == 1)
                          g_assert_cmpint (quote.total, ==,
                                           table->prices[b * PM_RATE_PACKAGE_MAX_ZONES
                                                         + zone - 1]);
                      }

                    request.piece.weight = pm_weight_make (picograms + 1, -12,
                                                           PM_WEIGHT_UNIT_GRAM);
                    above_g = outcome (fixture->rating, &request);
                    request.piece.weight = pm_weight_make (picograms + 1, -15,
                                                           PM_WEIGHT_UNIT_KILOGRAM);
                    above_kg = outcome (fixture->rating, &request);
                    g_assert_cmpstr (above_g, ==, above_kg);
                    /* A priced break is the most that price covers. */
                    if (g_ascii_isdigit (first[0]))
                      g_assert_cmpstr (above_g, !=, first);
                    checked++;
                  }
            }
        }
    }
  g_test_message ("%u breaks and zones checked", checked);
  g_assert_cmpuint (checked, >, 1000);
}

/* A package that is refused leaves the installed one in force. */
static void
test_older_package_refused (Fixture       *fixture,
                            gconstpointer  data)
{
  static const char xml[] =
    "<rate-package format=\"1\" id=\"usps-2026-07-12\" version=\"0\" effective=\"2026-07-12\" "
    "carrier=\"USPS\"/>";
  static const char older[] =
    "<rate-package format=\"1\" id=\"usps-2025-07-13\" version=\"1\" effective=\"2025-07-13\" "
    "carrier=\"TEST\"><product class=\"first-class\" shape=\"letter\" name=\"Test letter\">"
    "<table id=\"t\" prices=\"metered\" effective=\"2025-07-13\" status=\"confirmed\" "
    "complete=\"true\"><source>test</source><row upto=\"3.5 oz\">9.99</row></table>"
    "</product></rate-package>";
  g_autoptr (GError) error = NULL;
  g_autoptr (PmRatePackage) package = NULL;
  PmRateRequest request = make_request (PM_MAIL_CLASS_FIRST_CLASS, PM_SHAPE_LETTER,
                                        pm_weight_make (1, 0, PM_WEIGHT_UNIT_OUNCE), D2025);

  g_assert_null (pm_rate_package_parse (xml, strlen (xml), &error));
  g_assert_error (error, PM_RATE_PACKAGE_ERROR, PM_RATE_PACKAGE_ERROR_INVALID);
  g_clear_error (&error);

  /* The same id and version replaces (a re-install); a version below would not. The
   * shipped package is version 2 (the 2025 flats were added), so version 1 is older. */
  g_assert_cmpuint (pm_rating_get_installed_version (fixture->rating, "usps-2025-07-13"), ==, 2);
  package = pm_rate_package_parse (older, strlen (older), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (package->version, ==, 1);
  g_assert_false (pm_rating_add_package (fixture->rating, package, &error));
  g_assert_error (error, PM_RATING_ERROR, PM_RATING_ERROR_OLDER_PACKAGE);
  g_assert_cmpint (quote_total (fixture, &request), ==, 740);
  g_assert_cmpuint (pm_rating_get_installed_version (fixture->rating, "usps-2025-07-13"), ==, 2);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/core/rating/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("first-class/letter-breaks", test_first_class_letters);
  ADD ("first-class/cards-flats-international", test_first_class_cards_flats);
  ADD ("first-class/sources", test_first_class_sources);
  ADD ("shipping/zones", test_shipping_zones);
  ADD ("shipping/zone-chart", test_zone_chart);
  ADD ("units/same-piece-same-price", test_same_piece_same_price);
  ADD ("dates/effective", test_effective_dates);
  ADD ("limits/weight-zip", test_limits);
  ADD ("limits/sizes", test_sizes);
  ADD ("shipping/dimensions", test_parcels);
  ADD ("shipping/edges", test_parcel_edges);
  ADD ("units/every-break-every-unit", test_every_break_every_unit);
  ADD ("services", test_services);
  ADD ("quote/text", test_quote_text);
  ADD ("packages/older-refused", test_older_package_refused);
#undef ADD

  return g_test_run ();
}
