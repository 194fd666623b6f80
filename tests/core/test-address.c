/* test-address.c: ZIP Codes as typed, states, line limits in characters, warnings */
#include "pm-address.h"

#include <string.h>

static void
test_zip_forms (void)
{
  static const struct
  {
    const char *typed;
    const char *zip5;
    const char *plus4;
    const char *formatted;
    guint       zip3;
  } good[] = {
    { "60601", "60601", "", "60601", 606 },
    { "60601-1234", "60601", "1234", "60601-1234", 606 },
    { "60601 1234", "60601", "1234", "60601-1234", 606 },
    { "606011234", "60601", "1234", "60601-1234", 606 },
    { "  60601  ", "60601", "", "60601", 606 },
    { "\t60601 -  1234 ", "60601", "1234", "60601-1234", 606 },
    { "60601\u20131234", "60601", "1234", "60601-1234", 606 },   /* en dash */
    { "60601\u00a01234", "60601", "1234", "60601-1234", 606 },   /* no-break space */
    { "02134", "02134", "", "02134", 21 },                       /* leading zero kept */
    { "00501", "00501", "", "00501", 5 },
    { "00501-0001", "00501", "0001", "00501-0001", 5 },
    { "96939", "96939", "", "96939", 969 },
    { "99950", "99950", "", "99950", 999 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *formatted = NULL;
      PmZipCode zip;

      g_assert_true (pm_address_parse_zip (good[i].typed, &zip, &error));
      g_assert_no_error (error);
      g_assert_cmpstr (zip.zip5, ==, good[i].zip5);
      g_assert_cmpstr (zip.plus4, ==, good[i].plus4);
      formatted = pm_address_format_zip (&zip);
      g_assert_cmpstr (formatted, ==, good[i].formatted);
      g_assert_cmpuint (pm_address_zip3 (&zip), ==, good[i].zip3);
    }
}

static void
test_zip_refused (void)
{
  static const struct
  {
    const char     *typed;
    PmAddressError  code;
    const char     *fragment;
  } bad[] = {
    { "", PM_ADDRESS_ERROR_EMPTY, "enter the 5-digit ZIP Code" },
    { "   ", PM_ADDRESS_ERROR_EMPTY, "enter the 5-digit ZIP Code" },
    { "2134", PM_ADDRESS_ERROR_MALFORMED_ZIP, "type the 0: 02134" },
    { "21341234", PM_ADDRESS_ERROR_MALFORMED_ZIP, "type the 0: 02134-1234" },
    { "606", PM_ADDRESS_ERROR_MALFORMED_ZIP, "type 5 digits" },
    { "606011", PM_ADDRESS_ERROR_MALFORMED_ZIP, "type 5 digits" },
    { "60601-123", PM_ADDRESS_ERROR_MALFORMED_ZIP, "type 5 digits" },
    { "6060-11234", PM_ADDRESS_ERROR_MALFORMED_ZIP, "type 5 digits" },
    { "60601-12-34", PM_ADDRESS_ERROR_MALFORMED_ZIP, "type 5 digits" },
    { "6060112345", PM_ADDRESS_ERROR_MALFORMED_ZIP, "9 digits" },
    { "60601-12345", PM_ADDRESS_ERROR_MALFORMED_ZIP, "9 digits" },
    { "6O601", PM_ADDRESS_ERROR_MALFORMED_ZIP, "digits only" },       /* letter O */
    { "K1A 0B1", PM_ADDRESS_ERROR_MALFORMED_ZIP, "digits only" },     /* Canada */
    { "60601+1234", PM_ADDRESS_ERROR_MALFORMED_ZIP, "digits only" },
    { "\uff16\uff10\uff16\uff10\uff11", PM_ADDRESS_ERROR_MALFORMED_ZIP, "digits only" },
    { "00000", PM_ADDRESS_ERROR_MALFORMED_ZIP, "begins with 000" },
    { "00012", PM_ADDRESS_ERROR_MALFORMED_ZIP, "begins with 000" },
    { "\xff\xfe", PM_ADDRESS_ERROR_INVALID_TEXT, "UTF-8" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      PmZipCode zip = { "keep", "me" };

      g_assert_false (pm_address_parse_zip (bad[i].typed, &zip, &error));
      g_assert_error (error, PM_ADDRESS_ERROR, (gint) bad[i].code);
      g_test_message ("%s", error->message);
      g_assert_true (g_str_has_prefix (error->message, "ZIP Code: "));
      if (strstr (error->message, bad[i].fragment) == NULL)
        g_error ("“%s” not in “%s”", bad[i].fragment, error->message);
      /* A refused ZIP leaves the output alone. */
      g_assert_cmpstr (zip.zip5, ==, "keep");
    }
}

static void
test_states (void)
{
  static const struct
  {
    const char *typed;
    const char *code;
  } good[] = {
    { "IL", "IL" }, { "il", "IL" }, { " Il ", "IL" }, { "Illinois", "IL" },
    { "ILLINOIS", "IL" }, { "N.Y.", "NY" }, { "n. y.", "NY" }, { "New  York", "NY" },
    { "DC", "DC" }, { "District of Columbia", "DC" }, { "Washington, D.C.", "DC" },
    { "PR", "PR" }, { "Puerto Rico", "PR" }, { "GU", "GU" }, { "VI", "VI" },
    { "US Virgin Islands", "VI" }, { "AS", "AS" }, { "MP", "MP" },
    { "FM", "FM" }, { "Micronesia", "FM" }, { "MH", "MH" }, { "PW", "PW" }, { "Palau", "PW" },
    { "AA", "AA" }, { "AE", "AE" }, { "AP", "AP" }, { "Armed Forces Pacific", "AP" },
    { "WY", "WY" }, { "West Virginia", "WV" }, { "Virginia", "VA" },
  };
  static const char *const bad[] = { "XX", "I", "Ill", "Chicago", "UK", "ON", "Illinoise" };
  const char *code;

  for (gsize i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr (GError) error = NULL;

      g_assert_true (pm_address_parse_state (good[i].typed, &code, &error));
      g_assert_no_error (error);
      g_assert_cmpstr (code, ==, good[i].code);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;

      g_assert_false (pm_address_parse_state (bad[i], &code, &error));
      g_assert_error (error, PM_ADDRESS_ERROR, PM_ADDRESS_ERROR_UNKNOWN_STATE);
      g_assert_true (g_str_has_prefix (error->message, "State: "));
    }
  {
    g_autoptr (GError) error = NULL;

    g_assert_false (pm_address_parse_state ("  ", &code, &error));
    g_assert_error (error, PM_ADDRESS_ERROR, PM_ADDRESS_ERROR_EMPTY);
  }
  g_assert_cmpstr (pm_address_state_name ("il"), ==, "Illinois");
  g_assert_cmpstr (pm_address_state_name ("FM"), ==, "Federated States of Micronesia");
  g_assert_null (pm_address_state_name ("XX"));
}

/* Limits count characters after composition, never bytes. */
static void
test_line_limits (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *ascii35 = g_strnfill (35, 'A');
  g_autofree char *ascii36 = g_strnfill (36, 'A');
  GString *accented = g_string_new (NULL);
  GString *decomposed = g_string_new (NULL);
  g_autofree char *accented_text = NULL;
  g_autofree char *decomposed_text = NULL;
  char *clean;
  char *warning = NULL;

  g_assert_cmpuint (pm_address_field_max_chars (PM_ADDRESS_FIELD_STREET1), ==, 35);
  g_assert_cmpuint (pm_address_field_max_chars (PM_ADDRESS_FIELD_CITY), ==, 21);
  g_assert_cmpstr (pm_address_field_label (PM_ADDRESS_FIELD_ZIP), ==, "ZIP Code");

  clean = pm_address_clean_line (PM_ADDRESS_FIELD_STREET1, ascii35, &warning, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (clean, ==, ascii35);
  g_assert_null (warning);
  g_free (clean);

  g_assert_null (pm_address_clean_line (PM_ADDRESS_FIELD_STREET1, ascii36, &warning, &error));
  g_assert_error (error, PM_ADDRESS_ERROR, PM_ADDRESS_ERROR_TOO_LONG);
  g_assert_nonnull (strstr (error->message, "Street address: "));
  g_assert_nonnull (strstr (error->message, "has 36 characters, more than the 35"));
  g_clear_error (&error);

  /* 35 "é": 70 bytes, 35 characters, fits. Decomposed (e + U+0301) it is 105 bytes and
   * still 35 characters once composed. */
  for (int i = 0; i < 35; i++)
    {
      g_string_append (accented, "\u00e9");
      g_string_append (decomposed, "e\u0301");
    }
  accented_text = g_string_free (accented, FALSE);
  decomposed_text = g_string_free (decomposed, FALSE);
  g_assert_cmpuint (strlen (accented_text), ==, 70);
  g_assert_cmpuint (strlen (decomposed_text), ==, 105);
  clean = pm_address_clean_line (PM_ADDRESS_FIELD_NAME, decomposed_text, &warning, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (clean, ==, accented_text);
  g_free (clean);
  /* The accent is kept, and the operator is told the printer lacks it. */
  g_assert_nonnull (warning);
  g_assert_nonnull (strstr (warning, "Name: a label printer cannot print “é” (U+00E9)"));
  g_assert_nonnull (strstr (warning, "Consider “eeeee"));
  g_clear_pointer (&warning, g_free);

  /* The city leaves room for " IL 60601-1234" on a 35-character line. */
  g_assert_null (pm_address_clean_line (PM_ADDRESS_FIELD_CITY, "Rancho Santa Margarita",
                                        NULL, &error));
  g_assert_error (error, PM_ADDRESS_ERROR, PM_ADDRESS_ERROR_TOO_LONG);
  g_assert_nonnull (strstr (error->message, "USPS abbreviation"));
  g_clear_error (&error);
  clean = pm_address_clean_line (PM_ADDRESS_FIELD_CITY, "Rancho Sta Margarita", NULL, &error);
  g_assert_cmpstr (clean, ==, "Rancho Sta Margarita");
  g_free (clean);
}

static void
test_trimming_and_text (void)
{
  static const struct
  {
    PmAddressField field;
    const char    *typed;
    const char    *clean;
  } cases[] = {
    { PM_ADDRESS_FIELD_NAME, "  Ada   Lovelace  ", "Ada Lovelace" },
    { PM_ADDRESS_FIELD_STREET1, "\t233 S\tWacker  Dr ", "233 S Wacker Dr" },
    { PM_ADDRESS_FIELD_STREET2, "Suite\u00a04000", "Suite 4000" },
    { PM_ADDRESS_FIELD_COMPANY, "", "" },
    { PM_ADDRESS_FIELD_COMPANY, "   ", "" },
    { PM_ADDRESS_FIELD_STATE, " illinois ", "IL" },
    { PM_ADDRESS_FIELD_ZIP, " 60606 6306", "60606-6306" },
  };
  static const char *const refused[] = {
    "Line\none", "Bell\a", "Tab\x7f", "Next\xc2\x85line", "Sep\u2028arator", "\xc3\x28",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *clean = pm_address_clean_line (cases[i].field, cases[i].typed, NULL,
                                                      &error);

      g_assert_no_error (error);
      g_assert_cmpstr (clean, ==, cases[i].clean);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autoptr (GError) error = NULL;

      g_assert_null (pm_address_clean_line (PM_ADDRESS_FIELD_STREET1, refused[i], NULL, &error));
      g_assert_error (error, PM_ADDRESS_ERROR, PM_ADDRESS_ERROR_INVALID_TEXT);
      g_assert_true (g_str_has_prefix (error->message, "Street address: "));
    }
}

static void
test_unprintable (void)
{
  g_autofree char *none = pm_address_find_unprintable ("233 S. Wacker Dr. #4000 (c/o A&B)");
  g_autofree char *some = pm_address_find_unprintable ("Łódź – Straße Łódź");
  g_autofree char *emoji = pm_address_find_unprintable ("Box \U0001F4E6");

  g_assert_null (none);
  /* Each character once, in order of appearance. */
  g_assert_cmpstr (some, ==, "“Ł” (U+0141), “ó” (U+00F3), “ź” (U+017A), “–” (U+2013), "
                             "“ß” (U+00DF)");
  g_assert_cmpstr (emoji, ==, "“\U0001F4E6” (U+1F4E6)");
}

static void
test_whole_address (void)
{
  const char *typed[PM_ADDRESS_N_FIELDS] = {
    [PM_ADDRESS_FIELD_NAME] = " José  Núñez ",
    [PM_ADDRESS_FIELD_COMPANY] = NULL,
    [PM_ADDRESS_FIELD_STREET1] = "233 S Wacker Dr",
    [PM_ADDRESS_FIELD_STREET2] = " Ste 4000 ",
    [PM_ADDRESS_FIELD_CITY] = "Chicago",
    [PM_ADDRESS_FIELD_STATE] = "il",
    [PM_ADDRESS_FIELD_ZIP] = "606066306",
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) warnings = NULL;
  g_autoptr (PmAddress) address = NULL;
  g_autoptr (PmAddress) copy = NULL;
  g_autofree char *last = NULL;
  g_autofree char *text = NULL;
  g_autofree char *zip = NULL;

  address = pm_address_new_from_typed (typed, &warnings, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (address->name, ==, "José Núñez");
  g_assert_null (address->company);
  g_assert_cmpstr (address->street2, ==, "Ste 4000");
  g_assert_cmpstr (address->state, ==, "IL");
  g_assert_cmpstr (address->zip.zip5, ==, "60606");
  g_assert_cmpstr (address->zip.plus4, ==, "6306");
  g_assert_nonnull (warnings);
  g_assert_cmpuint (warnings->len, ==, 1);
  g_assert_nonnull (strstr (g_ptr_array_index (warnings, 0), "Consider “Jose Nunez”"));

  last = pm_address_format_last_line (address);
  g_assert_cmpstr (last, ==, "Chicago IL 60606-6306");
  text = pm_address_format (address);
  g_assert_cmpstr (text, ==, "José Núñez\n233 S Wacker Dr\nSte 4000\nChicago IL 60606-6306");
  zip = pm_address_dup_field (address, PM_ADDRESS_FIELD_ZIP);
  g_assert_cmpstr (zip, ==, "60606-6306");

  copy = g_boxed_copy (PM_TYPE_ADDRESS, address);
  g_assert_true (pm_address_validate (copy, NULL, &error));
  g_assert_no_error (error);

  /* An address changed behind the parser's back is not in printed form. */
  g_free (copy->city);
  copy->city = g_strdup (" Chicago");
  g_assert_false (pm_address_validate (copy, NULL, &error));
  g_assert_error (error, PM_ADDRESS_ERROR, PM_ADDRESS_ERROR_INVALID_TEXT);
  g_clear_error (&error);
  g_clear_pointer (&copy->city, g_free);
  g_assert_false (pm_address_validate (copy, NULL, &error));
  g_assert_error (error, PM_ADDRESS_ERROR, PM_ADDRESS_ERROR_EMPTY);
  g_assert_cmpstr (error->message, ==, "City: this line is needed; fill it in");
}

static void
test_whole_address_refused (void)
{
  const char *typed[PM_ADDRESS_N_FIELDS] = {
    [PM_ADDRESS_FIELD_COMPANY] = "Acme",
    [PM_ADDRESS_FIELD_STREET1] = "1 Main St",
    [PM_ADDRESS_FIELD_CITY] = "Springfield",
    [PM_ADDRESS_FIELD_STATE] = "IL",
    [PM_ADDRESS_FIELD_ZIP] = "62701",
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (PmAddress) address = NULL;

  /* A company without a person's name is enough. */
  address = pm_address_new_from_typed (typed, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (address->company, ==, "Acme");
  g_clear_pointer (&address, pm_address_free);

  typed[PM_ADDRESS_FIELD_COMPANY] = NULL;
  g_assert_null (pm_address_new_from_typed (typed, NULL, &error));
  g_assert_error (error, PM_ADDRESS_ERROR, PM_ADDRESS_ERROR_EMPTY);
  g_assert_cmpstr (error->message, ==, "Name: enter a name or a company");
  g_clear_error (&error);

  typed[PM_ADDRESS_FIELD_NAME] = "Homer";
  typed[PM_ADDRESS_FIELD_ZIP] = "6270";
  g_assert_null (pm_address_new_from_typed (typed, NULL, &error));
  g_assert_error (error, PM_ADDRESS_ERROR, PM_ADDRESS_ERROR_MALFORMED_ZIP);
  g_clear_error (&error);

  typed[PM_ADDRESS_FIELD_ZIP] = "62701";
  typed[PM_ADDRESS_FIELD_STATE] = "Ill";
  g_assert_null (pm_address_new_from_typed (typed, NULL, &error));
  g_assert_error (error, PM_ADDRESS_ERROR, PM_ADDRESS_ERROR_UNKNOWN_STATE);
  g_clear_error (&error);

  typed[PM_ADDRESS_FIELD_STATE] = "IL";
  typed[PM_ADDRESS_FIELD_STREET1] = "  ";
  g_assert_null (pm_address_new_from_typed (typed, NULL, &error));
  g_assert_error (error, PM_ADDRESS_ERROR, PM_ADDRESS_ERROR_EMPTY);
  g_assert_cmpstr (error->message, ==, "Street address: this line is needed; fill it in");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/core/address/zip/forms", test_zip_forms);
  g_test_add_func ("/core/address/zip/refused", test_zip_refused);
  g_test_add_func ("/core/address/states", test_states);
  g_test_add_func ("/core/address/line/limits-in-characters", test_line_limits);
  g_test_add_func ("/core/address/line/trimming", test_trimming_and_text);
  g_test_add_func ("/core/address/line/unprintable", test_unprintable);
  g_test_add_func ("/core/address/whole", test_whole_address);
  g_test_add_func ("/core/address/whole/refused", test_whole_address_refused);

  return g_test_run ();
}
