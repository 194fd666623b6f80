/* test-scale-parsers.c: the pure scale protocol parsers against the reference vectors
 * (HID H1-H4, NCI N1, 8217 forms, SICS replies) and vectors derived for each known quirk. */
#include "pm-hid-scale-report.h"
#include "pm-mettler-8217.h"
#include "pm-nci.h"
#include "pm-sics.h"

#include <string.h>

static void
assert_weight (const PmScaleReading *reading,
               gint64                mantissa,
               gint8                 exponent,
               PmWeightUnit          unit)
{
  g_assert_true (reading->has_weight);
  g_assert_cmpint (reading->weight.mantissa, ==, mantissa);
  g_assert_cmpint (reading->weight.exponent, ==, exponent);
  g_assert_cmpint (reading->weight.unit, ==, unit);
  g_assert_cmpint (reading->resolution.mantissa, ==, 1);
  g_assert_cmpint (reading->resolution.exponent, ==, exponent);
}

/* HID */

static PmScaleReading *
hid_parse (const guint8 *data,
           gsize         len)
{
  PmScaleReading *reading = NULL;

  g_assert_cmpint (pm_hid_scale_report_parse (data, len, 0, &reading), ==,
                   PM_HID_SCALE_REPORT_READING);
  g_assert_nonnull (reading);
  return reading;
}

static void
test_hid_reference_vectors (void)
{
  static const guint8 h1[] = { 0x03, 0x04, 0x0B, 0xFF, 0x34, 0x19 };
  static const guint8 h2[] = { 0x03, 0x04, 0x02, 0x00, 0x14, 0x00 };
  static const guint8 h3[] = { 0x03, 0x02, 0x0B, 0xFF, 0x00, 0x00 };
  static const guint8 h4[] = { 0x03, 0x04, 0x0C, 0xFE, 0x11, 0x03 };
  g_autoptr(PmScaleReading) r1 = hid_parse (h1, sizeof h1);
  g_autoptr(PmScaleReading) r2 = hid_parse (h2, sizeof h2);
  g_autoptr(PmScaleReading) r3 = hid_parse (h3, sizeof h3);
  g_autoptr(PmScaleReading) r4 = hid_parse (h4, sizeof h4);
  g_autofree char *hex = pm_scale_reading_dup_raw_hex (r1);
  gint64 pg = 0;

  /* H1: 645.2 oz = 40 lb 5.2 oz */
  g_assert_cmpint (r1->state, ==, PM_SCALE_STATE_STABLE);
  assert_weight (r1, 6452, -1, PM_WEIGHT_UNIT_OUNCE);
  g_assert_true (pm_weight_to_picograms (&r1->weight, &pg));
  g_assert_cmpint (pg, ==, G_GINT64_CONSTANT (6452) * 2834952312500);
  g_assert_cmpstr (hex, ==, "03 04 0B FF 34 19");

  /* H2: 20 g */
  g_assert_cmpint (r2->state, ==, PM_SCALE_STATE_STABLE);
  assert_weight (r2, 20, 0, PM_WEIGHT_UNIT_GRAM);

  /* H3: stable at zero, 0.0 oz */
  g_assert_cmpint (r3->state, ==, PM_SCALE_STATE_ZERO);
  assert_weight (r3, 0, -1, PM_WEIGHT_UNIT_OUNCE);

  /* H4: 7.85 lb */
  g_assert_cmpint (r4->state, ==, PM_SCALE_STATE_STABLE);
  assert_weight (r4, 785, -2, PM_WEIGHT_UNIT_POUND);
  g_assert_true (pm_weight_to_picograms (&r4->weight, &pg));
  g_assert_cmpint (pg, ==, G_GINT64_CONSTANT (785) * 4535923700000);
}

static void
test_hid_units (void)
{
  static const struct
  {
    guint8       unit;
    gint8        exponent;
    PmWeightUnit expected;
  } units[] = {
    { 1, 0, PM_WEIGHT_UNIT_MILLIGRAM },
    { 2, 0, PM_WEIGHT_UNIT_GRAM },
    { 3, -3, PM_WEIGHT_UNIT_KILOGRAM },
    { 11, -1, PM_WEIGHT_UNIT_OUNCE },
    { 12, -2, PM_WEIGHT_UNIT_POUND },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (units); i++)
    {
      guint8 report[6];
      g_autoptr(PmScaleReading) reading = NULL;

      pm_hid_scale_report_build (report, 4, units[i].unit, units[i].exponent, 1234);
      reading = hid_parse (report, sizeof report);
      g_assert_cmpint (reading->state, ==, PM_SCALE_STATE_STABLE);
      assert_weight (reading, 1234, units[i].exponent, units[i].expected);
    }

  /* Carat, tael, grain, troy ounce..., and codes outside the table: never a weight. */
  for (guint code = 0; code < 16; code++)
    {
      guint8 report[6];
      g_autoptr(PmScaleReading) reading = NULL;

      if (code == 1 || code == 2 || code == 3 || code == 11 || code == 12)
        continue;
      pm_hid_scale_report_build (report, 4, code, -1, 100);
      reading = hid_parse (report, sizeof report);
      g_assert_cmpint (reading->state, ==, PM_SCALE_STATE_UNREADABLE);
      g_assert_false (reading->has_weight);
      g_assert_nonnull (reading->detail);
    }
}

static void
test_hid_statuses (void)
{
  static const struct
  {
    guint8       status;
    PmScaleState state;
    gboolean     has_weight;
  } statuses[] = {
    { 0, PM_SCALE_STATE_UNREADABLE, FALSE },
    { 1, PM_SCALE_STATE_FAULT, FALSE },
    { 2, PM_SCALE_STATE_ZERO, TRUE },
    { 3, PM_SCALE_STATE_MOTION, TRUE },
    { 4, PM_SCALE_STATE_STABLE, TRUE },
    { 5, PM_SCALE_STATE_UNDER_ZERO, FALSE },
    { 6, PM_SCALE_STATE_OVER_CAPACITY, FALSE },
    { 7, PM_SCALE_STATE_NEEDS_CALIBRATION, FALSE },
    { 8, PM_SCALE_STATE_NEEDS_REZERO, FALSE },
    { 9, PM_SCALE_STATE_UNREADABLE, FALSE },
    { 0xFF, PM_SCALE_STATE_UNREADABLE, FALSE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (statuses); i++)
    {
      guint8 report[6];
      g_autoptr(PmScaleReading) reading = NULL;

      pm_hid_scale_report_build (report, statuses[i].status, 11, -1, 52);
      reading = hid_parse (report, sizeof report);
      g_assert_cmpint (reading->state, ==, statuses[i].state);
      g_assert_cmpint (reading->has_weight, ==, statuses[i].has_weight);
    }
}

static void
test_hid_quirks (void)
{
  /* A 0x00 some stacks put before the report: H1 still decodes. */
  static const guint8 leading_zero[] = { 0x00, 0x03, 0x04, 0x0B, 0xFF, 0x34, 0x19 };
  /* Negative: status 5 with a two's-complement field (-0.5 oz) and with a magnitude. */
  static const guint8 negative_twos[] = { 0x03, 0x05, 0x0B, 0xFF, 0xFB, 0xFF };
  static const guint8 negative_mag[] = { 0x03, 0x05, 0x0B, 0xFF, 0x05, 0x00 };
  static const guint8 over[] = { 0x03, 0x06, 0x0C, 0xFE, 0xFF, 0xFF };
  static const guint8 id4[] = { 0x04, 0x04, 0x02, 0x00, 0x14, 0x00 };
  static const guint8 attribute[] = { 0x01, 0x20, 0x0B, 0x00, 0x00, 0x00 };
  static const guint8 short_report[] = { 0x03, 0x04, 0x0B };
  static const guint8 huge_exponent[] = { 0x03, 0x04, 0x02, 0x7F, 0x01, 0x00 };
  static const guint8 tiny_exponent[] = { 0x03, 0x04, 0x02, 0x80, 0x01, 0x00 };
  static const guint8 padded[] = { 0x03, 0x04, 0x02, 0x00, 0x14, 0x00, 0x00, 0x00 };
  g_autoptr(PmScaleReading) r = NULL;

  r = hid_parse (leading_zero, sizeof leading_zero);
  g_assert_cmpint (r->state, ==, PM_SCALE_STATE_STABLE);
  assert_weight (r, 6452, -1, PM_WEIGHT_UNIT_OUNCE);
  g_assert_cmpint (g_bytes_get_size (r->raw), ==, 7);
  g_clear_pointer (&r, pm_scale_reading_free);

  r = hid_parse (negative_twos, sizeof negative_twos);
  g_assert_cmpint (r->state, ==, PM_SCALE_STATE_UNDER_ZERO);
  g_assert_false (r->has_weight);
  g_clear_pointer (&r, pm_scale_reading_free);
  r = hid_parse (negative_mag, sizeof negative_mag);
  g_assert_cmpint (r->state, ==, PM_SCALE_STATE_UNDER_ZERO);
  g_assert_false (r->has_weight);
  g_clear_pointer (&r, pm_scale_reading_free);

  r = hid_parse (over, sizeof over);
  g_assert_cmpint (r->state, ==, PM_SCALE_STATE_OVER_CAPACITY);
  g_clear_pointer (&r, pm_scale_reading_free);

  /* Report ID 4 is a status report unless the device is known to send data as 4. */
  g_assert_cmpint (pm_hid_scale_report_parse (id4, sizeof id4, 0, &r), ==,
                   PM_HID_SCALE_REPORT_IGNORED);
  g_assert_null (r);
  g_assert_cmpint (pm_hid_scale_report_parse (id4, sizeof id4,
                                              PM_HID_SCALE_REPORT_ACCEPT_ID_4, &r), ==,
                   PM_HID_SCALE_REPORT_READING);
  assert_weight (r, 20, 0, PM_WEIGHT_UNIT_GRAM);
  g_clear_pointer (&r, pm_scale_reading_free);

  g_assert_cmpint (pm_hid_scale_report_parse (attribute, sizeof attribute, 0, &r), ==,
                   PM_HID_SCALE_REPORT_IGNORED);

  r = hid_parse (short_report, sizeof short_report);
  g_assert_cmpint (r->state, ==, PM_SCALE_STATE_UNREADABLE);
  g_clear_pointer (&r, pm_scale_reading_free);

  r = hid_parse (huge_exponent, sizeof huge_exponent);
  g_assert_cmpint (r->state, ==, PM_SCALE_STATE_UNREADABLE);
  g_clear_pointer (&r, pm_scale_reading_free);
  r = hid_parse (tiny_exponent, sizeof tiny_exponent);
  g_assert_cmpint (r->state, ==, PM_SCALE_STATE_UNREADABLE);
  g_clear_pointer (&r, pm_scale_reading_free);

  r = hid_parse (padded, sizeof padded);
  assert_weight (r, 20, 0, PM_WEIGHT_UNIT_GRAM);
  g_clear_pointer (&r, pm_scale_reading_free);

  r = hid_parse (NULL, 0);
  g_assert_cmpint (r->state, ==, PM_SCALE_STATE_UNREADABLE);
}

static void
test_hid_full_range (void)
{
  /* 6553.5 oz, the largest tenth-ounce reading, converts exactly. */
  static const guint8 max[] = { 0x03, 0x04, 0x0B, 0xFF, 0xFF, 0xFF };
  g_autoptr(PmScaleReading) r = hid_parse (max, sizeof max);
  gint64 pg = 0;

  assert_weight (r, 65535, -1, PM_WEIGHT_UNIT_OUNCE);
  g_assert_true (pm_weight_to_picograms (&r->weight, &pg));
  g_assert_cmpint (pg, ==, G_GINT64_CONSTANT (65535) * 2834952312500);
}

/* Serial helpers */

typedef PmScaleReplyKind (*PushFunc) (gpointer parser, guint8 byte, PmScaleReading **out);

typedef struct
{
  PmScaleReplyKind kinds[16];
  PmScaleReading  *readings[16];
  guint            n;
} Replies;

static void
replies_clear (Replies *replies)
{
  for (guint i = 0; i < replies->n; i++)
    pm_scale_reading_free (replies->readings[i]);
  replies->n = 0;
}

static void
feed (PushFunc      push,
      gpointer      parser,
      const char   *bytes,
      gsize         len,
      Replies      *replies)
{
  for (gsize i = 0; i < len; i++)
    {
      PmScaleReading *reading = NULL;
      PmScaleReplyKind kind = push (parser, (guint8) bytes[i], &reading);

      if (kind == PM_SCALE_REPLY_NONE)
        {
          g_assert_null (reading);
          continue;
        }
      g_assert_cmpuint (replies->n, <, G_N_ELEMENTS (replies->kinds));
      g_assert_true ((kind == PM_SCALE_REPLY_READING) == (reading != NULL));
      replies->kinds[replies->n] = kind;
      replies->readings[replies->n] = reading;
      replies->n++;
    }
}

/* NCI */

static PmScaleReplyKind
nci_push (gpointer parser, guint8 byte, PmScaleReading **out)
{
  return pm_nci_parser_push (parser, byte, out);
}

static PmScaleReading *
nci_one (PmNciProfile  profile,
         const char   *bytes,
         gsize         len)
{
  PmNciParser parser;
  Replies replies = { 0 };

  pm_nci_parser_init (&parser, profile);
  feed (nci_push, &parser, bytes, len, &replies);
  g_assert_cmpuint (replies.n, ==, 1);
  g_assert_cmpint (replies.kinds[0], ==, PM_SCALE_REPLY_READING);
  return replies.readings[0];
}

#define NCI(s) nci_one (PM_NCI_PROFILE_SCP01, s, sizeof s - 1)

static void
test_nci_n1 (void)
{
  /* N1: LF 0001.25LB CR LF 00 CR ETX, stable 1.25 lb */
  static const char n1[] = "\x0a\x30\x30\x30\x31\x2e\x32\x35\x4c\x42\x0d\x0a\x30\x30\x0d\x03";
  g_autoptr(PmScaleReading) r = nci_one (PM_NCI_PROFILE_SCP01, n1, sizeof n1 - 1);

  g_assert_cmpint (r->state, ==, PM_SCALE_STATE_STABLE);
  assert_weight (r, 125, -2, PM_WEIGHT_UNIT_POUND);
  g_assert_false (r->net);
}

static void
test_nci_split_and_garbage (void)
{
  static const char stream[] = "\xff\x13junk\r\x03" "\n0001.25LB\r\n00\r\x03" "zz\x03"
                               "\n  250 g\r\n00\r\x03";
  PmNciParser parser;
  Replies replies = { 0 };

  /* One byte at a time, with noise before and between the frames. */
  pm_nci_parser_init (&parser, PM_NCI_PROFILE_SCP01);
  feed (nci_push, &parser, stream, sizeof stream - 1, &replies);
  g_assert_cmpuint (replies.n, ==, 2);
  assert_weight (replies.readings[0], 125, -2, PM_WEIGHT_UNIT_POUND);
  assert_weight (replies.readings[1], 250, 0, PM_WEIGHT_UNIT_GRAM);
  replies_clear (&replies);

  /* A frame cut by a stray control byte is dropped; the next one is read. */
  pm_nci_parser_init (&parser, PM_NCI_PROFILE_SCP01);
  feed (nci_push, &parser, "\n0001.2\x15\n0002.50lb\r\n00\r\x03", 26, &replies);
  g_assert_cmpuint (replies.n, ==, 1);
  assert_weight (replies.readings[0], 250, -2, PM_WEIGHT_UNIT_POUND);
  replies_clear (&replies);

  /* An endless frame is abandoned, then the parser finds the next LF. */
  pm_nci_parser_init (&parser, PM_NCI_PROFILE_SCP01);
  {
    g_autofree char *flood = g_strnfill (200, '7');
    feed (nci_push, &parser, "\n", 1, &replies);
    feed (nci_push, &parser, flood, 200, &replies);
    feed (nci_push, &parser, "\n1.5KG\r\n00\r\x03", 13, &replies);
  }
  g_assert_cmpuint (replies.n, ==, 1);
  assert_weight (replies.readings[0], 15, -1, PM_WEIGHT_UNIT_KILOGRAM);
  replies_clear (&replies);
}

static void
test_nci_status_only (void)
{
  static const struct
  {
    const char   *status;
    PmScaleState  state;
    gboolean      net;
  } table[] = {
    { "00", PM_SCALE_STATE_STABLE, FALSE },
    { "10", PM_SCALE_STATE_MOTION, FALSE },
    { "20", PM_SCALE_STATE_ZERO, FALSE },
    { "40", PM_SCALE_STATE_FAULT, FALSE },      /* RAM error */
    { "80", PM_SCALE_STATE_FAULT, FALSE },      /* EEPROM error */
    { "04", PM_SCALE_STATE_FAULT, FALSE },      /* ROM error */
    { "08", PM_SCALE_STATE_NEEDS_CALIBRATION, FALSE },
    { "02", PM_SCALE_STATE_OVER_CAPACITY, FALSE },
    { "01", PM_SCALE_STATE_UNDER_ZERO, FALSE },
    { "11", PM_SCALE_STATE_UNDER_ZERO, FALSE }, /* moving below zero */
    { "0p8", PM_SCALE_STATE_NEEDS_REZERO, FALSE }, /* byte 3: initial zero error */
    { "2p4", PM_SCALE_STATE_ZERO, TRUE },       /* byte 3: net */
    { "0p3", PM_SCALE_STATE_STABLE, FALSE },    /* byte 3: high range */
  };

  for (gsize i = 0; i < G_N_ELEMENTS (table); i++)
    {
      g_autofree char *frame = g_strdup_printf ("\n%s\r\x03", table[i].status);
      g_autoptr(PmScaleReading) r = nci_one (PM_NCI_PROFILE_SCP01, frame, strlen (frame));

      g_assert_cmpint (r->state, ==, table[i].state);
      g_assert_cmpint (r->net, ==, table[i].net);
      g_assert_false (r->has_weight);
    }
}

static void
test_nci_bad_status (void)
{
  /* Bits 4 and 5 missing, a lone byte, bit 6 on the first byte, a third byte not
   * announced, a third byte announced but missing. */
  static const char *bad[] = { "AB", "0", "p0", "000", "0p" };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *frame = g_strdup_printf ("\n1.00LB\r\n%s\r\x03", bad[i]);
      g_autoptr(PmScaleReading) r = nci_one (PM_NCI_PROFILE_SCP01, frame, strlen (frame));

      g_assert_cmpint (r->state, ==, PM_SCALE_STATE_UNREADABLE);
      g_assert_false (r->has_weight);
    }
}

static void
test_nci_fill_characters (void)
{
  g_autoptr(PmScaleReading) over = NCI ("\n^^^^^^LB\r\n00\r\x03");
  g_autoptr(PmScaleReading) under = NCI ("\n______LB\r\n00\r\x03");
  g_autoptr(PmScaleReading) zero_error = NCI ("\n------LB\r\n00\r\x03");
  g_autoptr(PmScaleReading) negative = NCI ("\n-0001.25LB\r\n00\r\x03");

  g_assert_cmpint (over->state, ==, PM_SCALE_STATE_OVER_CAPACITY);
  g_assert_false (over->has_weight);
  g_assert_cmpint (under->state, ==, PM_SCALE_STATE_UNDER_ZERO);
  g_assert_false (under->has_weight);
  g_assert_cmpint (zero_error->state, ==, PM_SCALE_STATE_NEEDS_REZERO);
  g_assert_cmpint (negative->state, ==, PM_SCALE_STATE_UNDER_ZERO);
  g_assert_false (negative->has_weight);
}

static void
test_nci_units (void)
{
  g_autoptr(PmScaleReading) lb = NCI ("\n0001.25lb\r\n00\r\x03");
  g_autoptr(PmScaleReading) kg = NCI ("\n01.250Kg\r\n00\r\x03");
  g_autoptr(PmScaleReading) g = NCI ("\n   125 G\r\n00\r\x03");
  g_autoptr(PmScaleReading) oz = NCI ("\n0012.5oz\r\n10\r\x03");
  g_autoptr(PmScaleReading) lboz = NCI ("\n 2LB  3.5OZ\r\n00\r\x03");
  g_autoptr(PmScaleReading) ton = NCI ("\n0001.25TN\r\n00\r\x03");
  g_autoptr(PmScaleReading) trailing = NCI ("\n0001.25LBX9\r\n00\r\x03");
  g_autoptr(PmScaleReading) no_unit = NCI ("\n0001.25\r\n00\r\x03");

  assert_weight (lb, 125, -2, PM_WEIGHT_UNIT_POUND);
  assert_weight (kg, 1250, -3, PM_WEIGHT_UNIT_KILOGRAM);
  assert_weight (g, 125, 0, PM_WEIGHT_UNIT_GRAM);
  /* In motion: the weight is shown, never postable. */
  g_assert_cmpint (oz->state, ==, PM_SCALE_STATE_MOTION);
  assert_weight (oz, 125, -1, PM_WEIGHT_UNIT_OUNCE);
  /* 2 lb 3.5 oz = 35.5 oz */
  g_assert_cmpint (lboz->state, ==, PM_SCALE_STATE_STABLE);
  assert_weight (lboz, 355, -1, PM_WEIGHT_UNIT_OUNCE);
  g_assert_cmpint (ton->state, ==, PM_SCALE_STATE_UNREADABLE);
  g_assert_cmpint (trailing->state, ==, PM_SCALE_STATE_UNREADABLE);
  g_assert_cmpint (no_unit->state, ==, PM_SCALE_STATE_UNREADABLE);
}

static void
test_nci_unknown_command (void)
{
  PmNciParser parser;
  Replies replies = { 0 };

  pm_nci_parser_init (&parser, PM_NCI_PROFILE_SCP01);
  feed (nci_push, &parser, "\n?\r\x03", 4, &replies);
  g_assert_cmpuint (replies.n, ==, 1);
  g_assert_cmpint (replies.kinds[0], ==, PM_SCALE_REPLY_REFUSED);
}

static void
test_nci_scp02 (void)
{
  /* SCP-02: status first, then a weight field with a polarity character. */
  static const char frame[] = "\n00\r\n  001.25LB\r\x03";
  static const char moving[] = "\n10\r\n- 000.40LB\r\x03";
  g_autoptr(PmScaleReading) r = nci_one (PM_NCI_PROFILE_SCP02, frame, sizeof frame - 1);
  g_autoptr(PmScaleReading) m = nci_one (PM_NCI_PROFILE_SCP02, moving, sizeof moving - 1);
  /* The same bytes through the SCP-01 profile cannot be taken for a weight. */
  g_autoptr(PmScaleReading) wrong = nci_one (PM_NCI_PROFILE_SCP01, frame, sizeof frame - 1);

  g_assert_cmpint (r->state, ==, PM_SCALE_STATE_STABLE);
  assert_weight (r, 125, -2, PM_WEIGHT_UNIT_POUND);
  g_assert_cmpint (m->state, ==, PM_SCALE_STATE_UNDER_ZERO);
  g_assert_false (m->has_weight);
  g_assert_cmpint (wrong->state, ==, PM_SCALE_STATE_UNREADABLE);
}

/* Mettler 8217 */

static PmScaleReplyKind
mettler_push (gpointer parser, guint8 byte, PmScaleReading **out)
{
  return pm_mettler_8217_parser_push (parser, byte, out);
}

static PmScaleReading *
mettler_one (const char *bytes,
             gsize       len)
{
  PmMettler8217Parser parser;
  Replies replies = { 0 };

  pm_mettler_8217_parser_init (&parser);
  feed (mettler_push, &parser, bytes, len, &replies);
  g_assert_cmpuint (replies.n, ==, 1);
  g_assert_cmpint (replies.kinds[0], ==, PM_SCALE_REPLY_READING);
  return replies.readings[0];
}

#define METTLER(s) mettler_one (s, sizeof s - 1)

static void
test_mettler_weights (void)
{
  g_autoptr(PmScaleReading) lb = METTLER ("\x02" "01.25\r");
  g_autoptr(PmScaleReading) lb6 = METTLER ("\x02" "001.25\r");
  g_autoptr(PmScaleReading) kg = METTLER ("\x02" "01.250\r");
  g_autoptr(PmScaleReading) g = METTLER ("\x02" "012345\r");
  g_autoptr(PmScaleReading) net = METTLER ("\x02" "02.50N\r");
  g_autoptr(PmScaleReading) zero = METTLER ("\x02" "00.00\r");
  g_autoptr(PmScaleReading) one_decimal = METTLER ("\x02" "0012.5\r");
  g_autoptr(PmScaleReading) signed_weight = METTLER ("\x02" "-01.25\r");

  assert_weight (lb, 125, -2, PM_WEIGHT_UNIT_POUND);
  assert_weight (lb6, 125, -2, PM_WEIGHT_UNIT_POUND);
  assert_weight (kg, 1250, -3, PM_WEIGHT_UNIT_KILOGRAM);
  assert_weight (g, 12345, 0, PM_WEIGHT_UNIT_GRAM);
  assert_weight (net, 250, -2, PM_WEIGHT_UNIT_POUND);
  g_assert_true (net->net);
  g_assert_false (lb->net);
  assert_weight (zero, 0, -2, PM_WEIGHT_UNIT_POUND);
  g_assert_cmpint (one_decimal->state, ==, PM_SCALE_STATE_UNREADABLE);
  g_assert_cmpint (signed_weight->state, ==, PM_SCALE_STATE_UNREADABLE);
}

static void
test_mettler_configured_unit (void)
{
  PmMettler8217Parser parser;
  Replies replies = { 0 };

  /* The 8213 ounce form "XXX.XX" has two decimals like pounds: only the setting tells. */
  pm_mettler_8217_parser_init (&parser);
  pm_mettler_8217_parser_set_unit (&parser, PM_WEIGHT_UNIT_OUNCE);
  feed (mettler_push, &parser, "\x02" "012.30\r", 8, &replies);
  g_assert_cmpuint (replies.n, ==, 1);
  assert_weight (replies.readings[0], 1230, -2, PM_WEIGHT_UNIT_OUNCE);
  replies_clear (&replies);
}

static void
test_mettler_status (void)
{
  static const struct
  {
    guint8       status;
    PmScaleState state;
  } table[] = {
    { 0x41, PM_SCALE_STATE_MOTION },
    { 0x42, PM_SCALE_STATE_OVER_CAPACITY },
    { 0x44, PM_SCALE_STATE_UNDER_ZERO },
    { 0x45, PM_SCALE_STATE_UNDER_ZERO },
    { 0x48, PM_SCALE_STATE_NEEDS_REZERO },
    { 0x50, PM_SCALE_STATE_ZERO },
    { 0x40, PM_SCALE_STATE_STABLE },           /* bit 6 alone is not an error */
    { 0xC1, PM_SCALE_STATE_MOTION },           /* parity in bit 7 */
    { 0x01, PM_SCALE_STATE_UNREADABLE },       /* bit 6 missing */
  };

  for (gsize i = 0; i < G_N_ELEMENTS (table); i++)
    {
      char frame[] = { 0x02, '?', (char) table[i].status, '\r' };
      g_autoptr(PmScaleReading) r = mettler_one (frame, sizeof frame);

      g_assert_cmpint (r->state, ==, table[i].state);
      g_assert_false (r->has_weight);
    }

  {
    char net_frame[] = { 0x02, '?', 0x61, '\r' };
    g_autoptr(PmScaleReading) r = mettler_one (net_frame, sizeof net_frame);
    g_assert_true (r->net);
    g_assert_cmpint (r->state, ==, PM_SCALE_STATE_MOTION);
  }
}

static void
test_mettler_resync (void)
{
  static const char stream[] = "garbage\r\x02" "01.2" "\x02" "03.40\rxx\r\x02" "?" "\x50" "\r"
                               "\x02" "E\r" "\x02" "F\r" "\x02" "\r" "\x02" "@\r" "\x02" "C\r";
  PmMettler8217Parser parser;
  Replies replies = { 0 };

  pm_mettler_8217_parser_init (&parser);
  /* Bytes arrive one at a time, with a reply cut by a new STX. */
  feed (mettler_push, &parser, stream, sizeof stream - 1, &replies);
  g_assert_cmpuint (replies.n, ==, 7);
  assert_weight (replies.readings[0], 340, -2, PM_WEIGHT_UNIT_POUND);
  g_assert_cmpint (replies.readings[1]->state, ==, PM_SCALE_STATE_ZERO);
  g_assert_cmpint (replies.kinds[2], ==, PM_SCALE_REPLY_ACK);
  g_assert_cmpint (replies.kinds[3], ==, PM_SCALE_REPLY_ACK);
  g_assert_cmpint (replies.kinds[4], ==, PM_SCALE_REPLY_ACK);
  g_assert_cmpint (replies.kinds[5], ==, PM_SCALE_REPLY_ACK);
  g_assert_cmpint (replies.kinds[6], ==, PM_SCALE_REPLY_REFUSED);
  replies_clear (&replies);
}

/* MT-SICS */

static PmScaleReplyKind
sics_push (gpointer parser, guint8 byte, PmScaleReading **out)
{
  return pm_sics_parser_push (parser, byte, out);
}

static void
test_sics_weights (void)
{
  static const char stream[] =
    "S S     100.00 g\r\n"
    "S D      12.34 g\r\n"
    "S S    -0.05 g\r\n"
    "S S   0.000 kg\r\n"
    "SI S  1.25 lb\r\n"
    "S I\r\n"
    "S +\r\n"
    "S -\r\n"
    "S S   3.5 ozt\r\n";
  PmSicsParser parser;
  Replies replies = { 0 };

  pm_sics_parser_init (&parser);
  feed (sics_push, &parser, stream, sizeof stream - 1, &replies);
  g_assert_cmpuint (replies.n, ==, 9);
  for (guint i = 0; i < replies.n; i++)
    g_assert_cmpint (replies.kinds[i], ==, PM_SCALE_REPLY_READING);

  g_assert_cmpint (replies.readings[0]->state, ==, PM_SCALE_STATE_STABLE);
  assert_weight (replies.readings[0], 10000, -2, PM_WEIGHT_UNIT_GRAM);
  /* Dynamic: shown, never postable. */
  g_assert_cmpint (replies.readings[1]->state, ==, PM_SCALE_STATE_MOTION);
  assert_weight (replies.readings[1], 1234, -2, PM_WEIGHT_UNIT_GRAM);
  g_assert_cmpint (replies.readings[2]->state, ==, PM_SCALE_STATE_UNDER_ZERO);
  g_assert_false (replies.readings[2]->has_weight);
  assert_weight (replies.readings[3], 0, -3, PM_WEIGHT_UNIT_KILOGRAM);
  assert_weight (replies.readings[4], 125, -2, PM_WEIGHT_UNIT_POUND);
  g_assert_cmpint (replies.readings[5]->state, ==, PM_SCALE_STATE_MOTION);
  g_assert_false (replies.readings[5]->has_weight);
  g_assert_cmpint (replies.readings[6]->state, ==, PM_SCALE_STATE_OVER_CAPACITY);
  g_assert_cmpint (replies.readings[7]->state, ==, PM_SCALE_STATE_UNDER_ZERO);
  /* Troy ounces are not a postal unit. */
  g_assert_cmpint (replies.readings[8]->state, ==, PM_SCALE_STATE_UNREADABLE);
  g_assert_false (replies.readings[8]->has_weight);
  replies_clear (&replies);
}

static void
test_sics_commands_and_errors (void)
{
  static const char stream[] = "Z A\r\nZ I\r\nZ +\r\nZ -\r\nES\r\nET\r\nEL\r\nTAC A\r\n"
                               "I4 A \"0123456789\"\r\n";
  static const PmScaleReplyKind expected[] = {
    PM_SCALE_REPLY_ACK, PM_SCALE_REPLY_REFUSED, PM_SCALE_REPLY_REFUSED,
    PM_SCALE_REPLY_REFUSED, PM_SCALE_REPLY_REFUSED, PM_SCALE_REPLY_REFUSED,
    PM_SCALE_REPLY_REFUSED, PM_SCALE_REPLY_ACK, PM_SCALE_REPLY_ACK,
  };
  PmSicsParser parser;
  Replies replies = { 0 };

  pm_sics_parser_init (&parser);
  feed (sics_push, &parser, stream, sizeof stream - 1, &replies);
  g_assert_cmpuint (replies.n, ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < replies.n; i++)
    g_assert_cmpint (replies.kinds[i], ==, expected[i]);
  replies_clear (&replies);
}

static void
test_sics_resync (void)
{
  g_autofree char *flood = g_strnfill (300, 'x');
  PmSicsParser parser;
  Replies replies = { 0 };

  pm_sics_parser_init (&parser);
  /* Noise, an overlong line, a line with a control byte, then a good reply. */
  feed (sics_push, &parser, "\x01\x02\xff\r\n", 5, &replies);
  feed (sics_push, &parser, flood, 300, &replies);
  feed (sics_push, &parser, "S S 1.00 g\r\n", 12, &replies);
  feed (sics_push, &parser, "S S \x07 2.00 g\r\n", 14, &replies);
  feed (sics_push, &parser, "hello world\r\n", 13, &replies);
  g_assert_cmpuint (replies.n, ==, 0);
  feed (sics_push, &parser, "S S      2.00 g\r\n", 17, &replies);
  g_assert_cmpuint (replies.n, ==, 1);
  assert_weight (replies.readings[0], 200, -2, PM_WEIGHT_UNIT_GRAM);
  g_assert_cmpstr (pm_sics_parser_get_last_id (&parser), ==, "S");
  replies_clear (&replies);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/scale/hid-report/reference-vectors", test_hid_reference_vectors);
  g_test_add_func ("/scale/hid-report/units", test_hid_units);
  g_test_add_func ("/scale/hid-report/statuses", test_hid_statuses);
  g_test_add_func ("/scale/hid-report/quirks", test_hid_quirks);
  g_test_add_func ("/scale/hid-report/full-range", test_hid_full_range);
  g_test_add_func ("/scale/nci/n1", test_nci_n1);
  g_test_add_func ("/scale/nci/split-and-garbage", test_nci_split_and_garbage);
  g_test_add_func ("/scale/nci/status-only", test_nci_status_only);
  g_test_add_func ("/scale/nci/bad-status", test_nci_bad_status);
  g_test_add_func ("/scale/nci/fill-characters", test_nci_fill_characters);
  g_test_add_func ("/scale/nci/units", test_nci_units);
  g_test_add_func ("/scale/nci/unknown-command", test_nci_unknown_command);
  g_test_add_func ("/scale/nci/scp02", test_nci_scp02);
  g_test_add_func ("/scale/mettler-8217/weights", test_mettler_weights);
  g_test_add_func ("/scale/mettler-8217/configured-unit", test_mettler_configured_unit);
  g_test_add_func ("/scale/mettler-8217/status", test_mettler_status);
  g_test_add_func ("/scale/mettler-8217/resync", test_mettler_resync);
  g_test_add_func ("/scale/sics/weights", test_sics_weights);
  g_test_add_func ("/scale/sics/commands-and-errors", test_sics_commands_and_errors);
  g_test_add_func ("/scale/sics/resync", test_sics_resync);

  return g_test_run ();
}
