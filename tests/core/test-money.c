/* test-money.c: parsing, formatting and checked arithmetic of mills */
#include <string.h>

#include "pm-money.h"

typedef struct
{
  const char *text;
  PmMills     mills;
} GoodAmount;

static void
test_parse_good (void)
{
  static const GoodAmount cases[] = {
    { "$1.23", 1230 },
    { "1.23", 1230 },
    { "0.805", 805 },
    { "$0.74", 740 },
    { " $ 7 ", 7000 },
    { "7.", 7000 },
    { ".5", 500 },
    { "1,234.56", 1234560 },
    { "$12,345,678.901", 12345678901 },
    { "0", 0 },
    { "-0.00", 0 },
    { "1.2300", 1230 },
    { "999999999999.999", 999999999999999 },
    { "1000000000000", PM_MILLS_MAX },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      PmMills mills = -1;

      g_test_message ("parsing “%s”", cases[i].text);
      g_assert_true (pm_money_parse (cases[i].text, &mills, &error));
      g_assert_no_error (error);
      g_assert_cmpint (mills, ==, cases[i].mills);
    }
}

typedef struct
{
  const char  *text;
  PmMoneyError code;
} BadAmount;

static void
test_parse_bad (void)
{
  static const BadAmount cases[] = {
    { "", PM_MONEY_ERROR_MALFORMED },
    { "$", PM_MONEY_ERROR_MALFORMED },
    { "abc", PM_MONEY_ERROR_MALFORMED },
    { "1.2.3", PM_MONEY_ERROR_MALFORMED },
    { "1 000", PM_MONEY_ERROR_MALFORMED },
    { "12,34", PM_MONEY_ERROR_MALFORMED },
    { "1,2345", PM_MONEY_ERROR_MALFORMED },
    { ",123", PM_MONEY_ERROR_MALFORMED },
    { "1.23$", PM_MONEY_ERROR_MALFORMED },
    { "0x10", PM_MONEY_ERROR_MALFORMED },
    { "1e3", PM_MONEY_ERROR_MALFORMED },
    { "-1.00", PM_MONEY_ERROR_NEGATIVE },
    { "-$0.01", PM_MONEY_ERROR_NEGATIVE },
    { "$-0.001", PM_MONEY_ERROR_NEGATIVE },
    { "0.0001", PM_MONEY_ERROR_TOO_PRECISE },
    { "1.2345", PM_MONEY_ERROR_TOO_PRECISE },
    { "1000000000000.001", PM_MONEY_ERROR_OVERFLOW },
    { "99999999999999999999999", PM_MONEY_ERROR_OVERFLOW },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      PmMills mills = 42;

      g_test_message ("parsing “%s”", cases[i].text);
      g_assert_false (pm_money_parse (cases[i].text, &mills, &error));
      g_assert_error (error, PM_MONEY_ERROR, (gint) cases[i].code);
      g_assert_cmpint (mills, ==, 42);
      g_assert_nonnull (strstr (error->message, "Amount"));
    }
}

static void
test_parse_field_name (void)
{
  g_autoptr (GError) error = NULL;
  PmMills mills;

  g_assert_false (pm_money_parse_field ("Refill amount", "ten dollars", &mills, &error));
  g_assert_error (error, PM_MONEY_ERROR, PM_MONEY_ERROR_MALFORMED);
  g_assert_true (g_str_has_prefix (error->message, "Refill amount “ten dollars”"));
}

typedef struct
{
  PmMills     mills;
  const char *screen;
  const char *with_mills;
} Formatted;

static void
test_format (void)
{
  static const Formatted cases[] = {
    { 0, "$0.00", "$0.000" },
    { 740, "$0.74", "$0.740" },
    { 805, "$0.805", "$0.805" },
    { 1230, "$1.23", "$1.230" },
    { 406, "$0.406", "$0.406" },
    { 7700, "$7.70", "$7.700" },
    { 1234560, "$1,234.56", "$1234.560" },
    { 999999999, "$999,999.999", "$999999.999" },
    { -1230, "-$1.23", "-$1.230" },
    { PM_MILLS_MAX, "$1,000,000,000,000.00", "$1000000000000.000" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *screen = pm_money_format (cases[i].mills);
      g_autofree char *with_mills = pm_money_format_mills (cases[i].mills);

      g_assert_cmpstr (screen, ==, cases[i].screen);
      g_assert_cmpstr (with_mills, ==, cases[i].with_mills);
    }

  /* Every formatted amount parses back to itself. */
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *screen = pm_money_format (cases[i].mills);
      PmMills back;

      if (cases[i].mills < 0)
        continue;
      g_assert_true (pm_money_parse (screen, &back, NULL));
      g_assert_cmpint (back, ==, cases[i].mills);
    }
}

static void
test_arithmetic (void)
{
  PmMills out = 7;

  g_assert_true (pm_money_add (740, 290, &out));
  g_assert_cmpint (out, ==, 1030);
  g_assert_true (pm_money_add (PM_MILLS_MAX - 1, 1, &out));
  g_assert_cmpint (out, ==, PM_MILLS_MAX);

  out = 7;
  g_assert_false (pm_money_add (PM_MILLS_MAX, 1, &out));
  g_assert_false (pm_money_add (G_MAXINT64, 0, &out));
  g_assert_false (pm_money_add (-PM_MILLS_MAX, -1, &out));
  g_assert_cmpint (out, ==, 7);

  g_assert_true (pm_money_subtract (1000, 1610, &out));
  g_assert_cmpint (out, ==, -610);
  g_assert_false (pm_money_subtract (0, G_MININT64, &out));

  g_assert_true (pm_money_multiply (290, 3, &out));
  g_assert_cmpint (out, ==, 870);
  g_assert_false (pm_money_multiply (PM_MILLS_MAX, 2, &out));
  g_assert_false (pm_money_multiply (1000, G_MAXINT64, &out));
  g_assert_false (pm_money_multiply (G_MININT64, -1, &out));
  g_assert_cmpint (out, ==, 870);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/core/money/parse/good", test_parse_good);
  g_test_add_func ("/core/money/parse/bad", test_parse_bad);
  g_test_add_func ("/core/money/parse/field-name", test_parse_field_name);
  g_test_add_func ("/core/money/format", test_format);
  g_test_add_func ("/core/money/arithmetic", test_arithmetic);

  return g_test_run ();
}
