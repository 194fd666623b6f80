/* pm-address.c: domestic addresses as people type them, made ready for a label
 *
 * Everything here works on UTF-8 text and counts characters after NFC composition, so an
 * "é" typed as e + combining accent counts once, as the printer will show it. Text is
 * trimmed and its inner runs of blanks become one space; nothing else is changed behind the
 * operator's back. A character a label printer's resident fonts lack (anything outside
 * printable ASCII: EPL prints an 8-bit code page, ZPL's default font has no accents) is
 * reported as a warning with a plain-letter suggestion, and kept.
 */
#include "pm-address.h"

#include <string.h>

G_DEFINE_QUARK (pm-address-error-quark, pm_address_error)
G_DEFINE_BOXED_TYPE (PmAddress, pm_address, pm_address_copy, pm_address_free)

/* ---- ZIP Codes ---- */

static gboolean
is_zip_separator (gunichar c)
{
  /* Hyphen-minus, the dashes word processors substitute for it, and blanks. */
  return c == '-' || c == 0x2010 || c == 0x2011 || c == 0x2012 || c == 0x2013
         || c == 0x2212 || g_unichar_isspace (c) || c == 0x00A0;
}

static gboolean
zip_error (GError    **error,
           const char *text,
           const char *advice)
{
  g_set_error (error, PM_ADDRESS_ERROR, PM_ADDRESS_ERROR_MALFORMED_ZIP,
               "ZIP Code: “%s” is not a ZIP Code; %s", text, advice);
  return FALSE;
}

gboolean
pm_address_parse_zip (const char *text,
                      PmZipCode  *out_zip,
                      GError    **error)
{
  char digits[10];
  guint n_digits = 0;
  guint split = 0;          /* digits before the one separator, 0 if none */
  gboolean in_separator = FALSE;
  const char *p;

  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (out_zip != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!g_utf8_validate (text, -1, NULL))
    {
      g_set_error (error, PM_ADDRESS_ERROR, PM_ADDRESS_ERROR_INVALID_TEXT,
                   "ZIP Code: the text is not valid UTF-8; type it again");
      return FALSE;
    }

  for (p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c >= '0' && c <= '9')
        {
          if (in_separator && n_digits > 0)
            {
              /* Only one break is allowed, and only after the fifth digit. */
              if (split != 0 || n_digits != 5)
                return zip_error (error, text, "type 5 digits, or 5 and 4 as in 60601-1234");
              split = n_digits;
            }
          in_separator = FALSE;
          if (n_digits == sizeof digits - 1)
            return zip_error (error, text, "a ZIP+4 Code has 9 digits, as in 60601-1234");
          digits[n_digits++] = (char) c;
        }
      else if (is_zip_separator (c))
        in_separator = TRUE;
      else
        return zip_error (error, text, "use digits only, as in 60601 or 60601-1234");
    }
  digits[n_digits] = '\0';

  if (n_digits == 0)
    {
      g_set_error (error, PM_ADDRESS_ERROR, PM_ADDRESS_ERROR_EMPTY,
                   "ZIP Code: enter the 5-digit ZIP Code");
      return FALSE;
    }
  /* A spreadsheet drops a ZIP Code's leading zero; say which ZIP was probably meant. */
  if ((n_digits == 4 || n_digits == 8) && split == 0)
    {
      g_set_error (error, PM_ADDRESS_ERROR, PM_ADDRESS_ERROR_MALFORMED_ZIP,
                   "ZIP Code: “%s” has %u digits; a ZIP Code has 5%s (if it begins with 0, "
                   "type the 0: 0%.4s%s%s)", text, n_digits, n_digits == 8 ? " and 4" : "",
                   digits, n_digits == 8 ? "-" : "", n_digits == 8 ? digits + 4 : "");
      return FALSE;
    }
  if (n_digits != 5 && n_digits != 9)
    return zip_error (error, text, "type 5 digits, or 5 and 4 as in 60601-1234");
  if (memcmp (digits, "000", 3) == 0)
    return zip_error (error, text, "no ZIP Code begins with 000");

  memcpy (out_zip->zip5, digits, 5);
  out_zip->zip5[5] = '\0';
  if (n_digits == 9)
    memcpy (out_zip->plus4, digits + 5, 5);
  else
    out_zip->plus4[0] = '\0';
  return TRUE;
}

char *
pm_address_format_zip (const PmZipCode *zip)
{
  g_return_val_if_fail (zip != NULL, NULL);

  if (zip->plus4[0] == '\0')
    return g_strdup (zip->zip5);
  return g_strdup_printf ("%s-%s", zip->zip5, zip->plus4);
}

guint
pm_address_zip3 (const PmZipCode *zip)
{
  g_return_val_if_fail (zip != NULL, 0);

  return (guint) (zip->zip5[0] - '0') * 100 + (guint) (zip->zip5[1] - '0') * 10
         + (guint) (zip->zip5[2] - '0');
}

/* ---- states ---- */

typedef struct
{
  const char *code;
  const char *name;
} State;

/* USPS Publication 28, appendix B: states, DC, territories, the freely associated states
 * (which take domestic mail and zone 9 prices) and the armed forces post offices. */
static const State states[] = {
  { "AL", "Alabama" }, { "AK", "Alaska" }, { "AZ", "Arizona" }, { "AR", "Arkansas" },
  { "CA", "California" }, { "CO", "Colorado" }, { "CT", "Connecticut" },
  { "DE", "Delaware" }, { "DC", "District of Columbia" }, { "FL", "Florida" },
  { "GA", "Georgia" }, { "HI", "Hawaii" }, { "ID", "Idaho" }, { "IL", "Illinois" },
  { "IN", "Indiana" }, { "IA", "Iowa" }, { "KS", "Kansas" }, { "KY", "Kentucky" },
  { "LA", "Louisiana" }, { "ME", "Maine" }, { "MD", "Maryland" },
  { "MA", "Massachusetts" }, { "MI", "Michigan" }, { "MN", "Minnesota" },
  { "MS", "Mississippi" }, { "MO", "Missouri" }, { "MT", "Montana" },
  { "NE", "Nebraska" }, { "NV", "Nevada" }, { "NH", "New Hampshire" },
  { "NJ", "New Jersey" }, { "NM", "New Mexico" }, { "NY", "New York" },
  { "NC", "North Carolina" }, { "ND", "North Dakota" }, { "OH", "Ohio" },
  { "OK", "Oklahoma" }, { "OR", "Oregon" }, { "PA", "Pennsylvania" },
  { "RI", "Rhode Island" }, { "SC", "South Carolina" }, { "SD", "South Dakota" },
  { "TN", "Tennessee" }, { "TX", "Texas" }, { "UT", "Utah" }, { "VT", "Vermont" },
  { "VA", "Virginia" }, { "WA", "Washington" }, { "WV", "West Virginia" },
  { "WI", "Wisconsin" }, { "WY", "Wyoming" },
  { "AS", "American Samoa" }, { "GU", "Guam" }, { "MP", "Northern Mariana Islands" },
  { "PR", "Puerto Rico" }, { "VI", "Virgin Islands" },
  { "FM", "Federated States of Micronesia" }, { "MH", "Marshall Islands" },
  { "PW", "Palau" },
  { "AA", "Armed Forces Americas" }, { "AE", "Armed Forces Europe" },
  { "AP", "Armed Forces Pacific" },
};

/* Other names people type for the same places. */
static const State state_aliases[] = {
  { "DC", "Washington DC" }, { "DC", "Washington D C" }, { "VI", "US Virgin Islands" },
  { "VI", "U S Virgin Islands" }, { "FM", "Micronesia" }, { "MP", "Northern Marianas" },
};

/* Upper-case ASCII letters of the text, other characters dropped but spaces kept single:
 * "n. y." → "N Y" and "N.Y." → "NY" compare as the same words. */
static char *
fold_state (const char *text)
{
  GString *out = g_string_new (NULL);
  gboolean space = FALSE;

  for (const char *p = text; *p != '\0'; p++)
    {
      if (g_ascii_isalpha (*p))
        {
          if (space && out->len > 0)
            g_string_append_c (out, ' ');
          space = FALSE;
          g_string_append_c (out, g_ascii_toupper (*p));
        }
      else if (*p == ' ' || *p == '\t')
        space = TRUE;
    }
  return g_string_free (out, FALSE);
}

static gboolean
state_name_matches (const char *folded,
                    const char *name)
{
  g_autofree char *folded_name = fold_state (name);
  g_autofree char *squeezed = NULL;
  GString *s;

  if (strcmp (folded, folded_name) == 0)
    return TRUE;
  /* "N Y" for "NY", written with dots and spaces. */
  s = g_string_new (NULL);
  for (const char *p = folded; *p != '\0'; p++)
    if (*p != ' ')
      g_string_append_c (s, *p);
  squeezed = g_string_free (s, FALSE);
  return strlen (name) == 2 && strcmp (squeezed, name) == 0;
}

gboolean
pm_address_parse_state (const char  *text,
                        const char **out_code,
                        GError     **error)
{
  g_autofree char *folded = NULL;

  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (out_code != NULL, FALSE);

  folded = fold_state (text);
  if (*folded == '\0')
    {
      g_set_error (error, PM_ADDRESS_ERROR, PM_ADDRESS_ERROR_EMPTY,
                   "State: enter the two-letter state code, such as IL");
      return FALSE;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (states); i++)
    if (state_name_matches (folded, states[i].code) || state_name_matches (folded, states[i].name))
      {
        *out_code = states[i].code;
        return TRUE;
      }
  for (gsize i = 0; i < G_N_ELEMENTS (state_aliases); i++)
    if (state_name_matches (folded, state_aliases[i].name))
      {
        *out_code = state_aliases[i].code;
        return TRUE;
      }

  g_set_error (error, PM_ADDRESS_ERROR, PM_ADDRESS_ERROR_UNKNOWN_STATE,
               "State: “%s” is not a USPS state or territory code; use the two letters, "
               "such as IL, PR or AE", text);
  return FALSE;
}

const char *
pm_address_state_name (const char *code)
{
  g_return_val_if_fail (code != NULL, NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (states); i++)
    if (g_ascii_strcasecmp (states[i].code, code) == 0)
      return states[i].name;
  return NULL;
}

/* ---- lines ---- */

static const struct
{
  const char *label;
  guint       max_chars;
  gboolean    required;
} fields[PM_ADDRESS_N_FIELDS] = {
  [PM_ADDRESS_FIELD_NAME] = { "Name", PM_ADDRESS_MAX_LINE_CHARS, FALSE },
  [PM_ADDRESS_FIELD_COMPANY] = { "Company", PM_ADDRESS_MAX_LINE_CHARS, FALSE },
  [PM_ADDRESS_FIELD_STREET1] = { "Street address", PM_ADDRESS_MAX_LINE_CHARS, TRUE },
  [PM_ADDRESS_FIELD_STREET2] = { "Apartment, suite or floor", PM_ADDRESS_MAX_LINE_CHARS, FALSE },
  /* The last line is "CITY ST 60601-1234": the city gets what the state and ZIP+4 leave. */
  [PM_ADDRESS_FIELD_CITY] = { "City", PM_ADDRESS_MAX_LINE_CHARS - 14, TRUE },
  [PM_ADDRESS_FIELD_STATE] = { "State", 2, TRUE },
  [PM_ADDRESS_FIELD_ZIP] = { "ZIP Code", 10, TRUE },
};

const char *
pm_address_field_label (PmAddressField field)
{
  g_return_val_if_fail ((guint) field < PM_ADDRESS_N_FIELDS, NULL);

  return fields[field].label;
}

guint
pm_address_field_max_chars (PmAddressField field)
{
  g_return_val_if_fail ((guint) field < PM_ADDRESS_N_FIELDS, 0);

  return fields[field].max_chars;
}

static gboolean
is_printable (gunichar c)
{
  return c >= 0x20 && c <= 0x7E;
}

char *
pm_address_find_unprintable (const char *text)
{
  GString *found = NULL;
  GString *seen = g_string_new (NULL);

  g_return_val_if_fail (text != NULL, NULL);

  if (!g_utf8_validate (text, -1, NULL))
    {
      g_string_free (seen, TRUE);
      return g_strdup ("(text that is not UTF-8)");
    }
  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);
      char utf8[7];
      int n;

      if (is_printable (c))
        continue;
      n = g_unichar_to_utf8 (c, utf8);
      utf8[n] = '\0';
      /* Each character once, in the order it first appears. */
      if (strstr (seen->str, utf8) != NULL)
        continue;
      g_string_append (seen, utf8);
      if (found == NULL)
        found = g_string_new (NULL);
      else
        g_string_append (found, ", ");
      g_string_append_printf (found, "“%s” (U+%04X)", utf8, c);
    }
  g_string_free (seen, TRUE);
  return found != NULL ? g_string_free (found, FALSE) : NULL;
}

/* Control characters (C0, DEL, C1) and line or paragraph separators move the print
 * position or are commands to some printers; they are never part of an address. */
static gboolean
is_forbidden (gunichar c)
{
  return g_unichar_type (c) == G_UNICODE_CONTROL || c == 0x2028 || c == 0x2029;
}

/* NFC, trimmed, inner blanks as one space; NULL and an error for invalid text. */
static char *
tidy_text (PmAddressField field,
           const char    *text,
           GError       **error)
{
  g_autofree char *composed = NULL;
  GString *out;
  gboolean blank = FALSE;

  if (!g_utf8_validate (text, -1, NULL))
    {
      g_set_error (error, PM_ADDRESS_ERROR, PM_ADDRESS_ERROR_INVALID_TEXT,
                   "%s: the text is not valid UTF-8; type it again", fields[field].label);
      return NULL;
    }
  composed = g_utf8_normalize (text, -1, G_NORMALIZE_DEFAULT_COMPOSE);
  out = g_string_new (NULL);
  for (const char *p = composed; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      /* A tab is a blank an operator typed; other controls are refused. */
      if (c == '\t' || (g_unichar_isspace (c) && !is_forbidden (c)) || c == 0x00A0)
        {
          blank = TRUE;
          continue;
        }
      if (is_forbidden (c) || c == '\n' || c == '\r')
        {
          g_set_error (error, PM_ADDRESS_ERROR, PM_ADDRESS_ERROR_INVALID_TEXT,
                       "%s: “%s” contains an invisible control character (U+%04X); type the "
                       "line again without it", fields[field].label, text, c);
          g_string_free (out, TRUE);
          return NULL;
        }
      if (blank && out->len > 0)
        g_string_append_c (out, ' ');
      blank = FALSE;
      g_string_append_unichar (out, c);
    }
  return g_string_free (out, FALSE);
}

char *
pm_address_clean_line (PmAddressField   field,
                       const char      *text,
                       char           **out_warning,
                       GError         **error)
{
  g_autofree char *tidy = NULL;
  g_autofree char *unprintable = NULL;
  glong chars;

  g_return_val_if_fail ((guint) field < PM_ADDRESS_N_FIELDS, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (out_warning != NULL)
    *out_warning = NULL;
  tidy = tidy_text (field, text != NULL ? text : "", error);
  if (tidy == NULL)
    return NULL;

  /* State and ZIP Code come back in their one canonical form. */
  if (field == PM_ADDRESS_FIELD_STATE || field == PM_ADDRESS_FIELD_ZIP)
    {
      PmZipCode zip;
      const char *code;

      if (*tidy == '\0')
        return g_steal_pointer (&tidy);
      if (field == PM_ADDRESS_FIELD_STATE)
        return pm_address_parse_state (tidy, &code, error) ? g_strdup (code) : NULL;
      return pm_address_parse_zip (tidy, &zip, error) ? pm_address_format_zip (&zip) : NULL;
    }

  chars = g_utf8_strlen (tidy, -1);
  if (chars > (glong) fields[field].max_chars)
    {
      g_set_error (error, PM_ADDRESS_ERROR, PM_ADDRESS_ERROR_TOO_LONG,
                   "%s: “%s” has %ld characters, more than the %u a label line holds; "
                   "shorten it%s", fields[field].label, tidy, chars, fields[field].max_chars,
                   field == PM_ADDRESS_FIELD_CITY
                     ? " with the USPS abbreviation of the city name"
                     : " or move a part to the next line");
      return NULL;
    }

  unprintable = pm_address_find_unprintable (tidy);
  if (unprintable != NULL && out_warning != NULL)
    {
      g_autofree char *plain = g_str_to_ascii (tidy, "C");

      *out_warning = g_strdup_printf ("%s: a label printer cannot print %s; it may come out "
                                      "as other characters. Consider “%s”.",
                                      fields[field].label, unprintable, plain);
    }
  return g_steal_pointer (&tidy);
}

/* ---- whole addresses ---- */

PmAddress *
pm_address_new (void)
{
  return g_new0 (PmAddress, 1);
}

PmAddress *
pm_address_copy (const PmAddress *address)
{
  PmAddress *copy;

  g_return_val_if_fail (address != NULL, NULL);

  copy = pm_address_new ();
  copy->name = g_strdup (address->name);
  copy->company = g_strdup (address->company);
  copy->street1 = g_strdup (address->street1);
  copy->street2 = g_strdup (address->street2);
  copy->city = g_strdup (address->city);
  copy->state = g_strdup (address->state);
  copy->zip = address->zip;
  return copy;
}

void
pm_address_free (PmAddress *address)
{
  if (address == NULL)
    return;
  g_free (address->name);
  g_free (address->company);
  g_free (address->street1);
  g_free (address->street2);
  g_free (address->city);
  g_free (address->state);
  g_free (address);
}

static char **
field_slot (PmAddress      *address,
            PmAddressField  field)
{
  switch (field)
    {
    case PM_ADDRESS_FIELD_NAME:
      return &address->name;
    case PM_ADDRESS_FIELD_COMPANY:
      return &address->company;
    case PM_ADDRESS_FIELD_STREET1:
      return &address->street1;
    case PM_ADDRESS_FIELD_STREET2:
      return &address->street2;
    case PM_ADDRESS_FIELD_CITY:
      return &address->city;
    case PM_ADDRESS_FIELD_STATE:
      return &address->state;
    case PM_ADDRESS_FIELD_ZIP:
    default:
      return NULL;
    }
}

char *
pm_address_dup_field (const PmAddress *address,
                      PmAddressField   field)
{
  char **slot;

  g_return_val_if_fail (address != NULL, NULL);
  g_return_val_if_fail ((guint) field < PM_ADDRESS_N_FIELDS, NULL);

  if (field == PM_ADDRESS_FIELD_ZIP)
    return address->zip.zip5[0] != '\0' ? pm_address_format_zip (&address->zip) : NULL;
  slot = field_slot ((PmAddress *) address, field);
  return g_strdup (*slot);
}

static void
add_warning (GPtrArray **out_warnings,
             char       *warning)
{
  if (warning == NULL)
    return;
  if (out_warnings == NULL)
    {
      g_free (warning);
      return;
    }
  if (*out_warnings == NULL)
    *out_warnings = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (*out_warnings, warning);
}

static gboolean
check_required (const PmAddress *address,
                GError         **error)
{
  if (address->name == NULL && address->company == NULL)
    {
      g_set_error (error, PM_ADDRESS_ERROR, PM_ADDRESS_ERROR_EMPTY,
                   "Name: enter a name or a company");
      return FALSE;
    }
  for (guint f = 0; f < PM_ADDRESS_N_FIELDS; f++)
    {
      gboolean empty = f == PM_ADDRESS_FIELD_ZIP
                       ? address->zip.zip5[0] == '\0'
                       : *field_slot ((PmAddress *) address, (PmAddressField) f) == NULL;

      if (fields[f].required && empty)
        {
          g_set_error (error, PM_ADDRESS_ERROR, PM_ADDRESS_ERROR_EMPTY,
                       "%s: this line is needed; fill it in", fields[f].label);
          return FALSE;
        }
    }
  return TRUE;
}

PmAddress *
pm_address_new_from_typed (const char * const *typed,
                           GPtrArray         **out_warnings,
                           GError            **error)
{
  g_autoptr (PmAddress) address = pm_address_new ();

  g_return_val_if_fail (typed != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  for (guint f = 0; f < PM_ADDRESS_N_FIELDS; f++)
    {
      char *warning = NULL;
      g_autofree char *clean = pm_address_clean_line ((PmAddressField) f, typed[f], &warning,
                                                      error);

      if (clean == NULL)
        return NULL;
      add_warning (out_warnings, warning);
      if (*clean == '\0')
        continue;
      if (f == PM_ADDRESS_FIELD_ZIP)
        {
          if (!pm_address_parse_zip (clean, &address->zip, error))
            return NULL;
        }
      else
        *field_slot (address, (PmAddressField) f) = g_steal_pointer (&clean);
    }

  if (!check_required (address, error))
    return NULL;
  return g_steal_pointer (&address);
}

gboolean
pm_address_validate (const PmAddress *address,
                     GPtrArray      **out_warnings,
                     GError         **error)
{
  g_return_val_if_fail (address != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* Every stored field must already be in the form pm_address_clean_line() gives. */
  for (guint f = 0; f < PM_ADDRESS_N_FIELDS; f++)
    {
      g_autofree char *value = pm_address_dup_field (address, (PmAddressField) f);
      g_autofree char *clean = NULL;
      char *warning = NULL;

      if (value == NULL)
        continue;
      clean = pm_address_clean_line ((PmAddressField) f, value, &warning, error);
      if (clean == NULL)
        return FALSE;
      add_warning (out_warnings, warning);
      if (strcmp (clean, value) != 0)
        {
          g_set_error (error, PM_ADDRESS_ERROR, PM_ADDRESS_ERROR_INVALID_TEXT,
                       "%s: “%s” is not in its printed form (“%s”); edit the address again",
                       fields[f].label, value, clean);
          return FALSE;
        }
    }
  return check_required (address, error);
}

char *
pm_address_format_last_line (const PmAddress *address)
{
  g_autofree char *zip = NULL;

  g_return_val_if_fail (address != NULL, NULL);

  zip = address->zip.zip5[0] != '\0' ? pm_address_format_zip (&address->zip) : g_strdup ("");
  return g_strstrip (g_strdup_printf ("%s %s %s", address->city != NULL ? address->city : "",
                                      address->state != NULL ? address->state : "", zip));
}

char *
pm_address_format (const PmAddress *address)
{
  GString *out;
  g_autofree char *last = NULL;
  const char *lines[4];

  g_return_val_if_fail (address != NULL, NULL);

  lines[0] = address->name;
  lines[1] = address->company;
  lines[2] = address->street1;
  lines[3] = address->street2;
  out = g_string_new (NULL);
  for (guint i = 0; i < G_N_ELEMENTS (lines); i++)
    if (lines[i] != NULL)
      g_string_append_printf (out, "%s\n", lines[i]);
  last = pm_address_format_last_line (address);
  g_string_append (out, last);
  return g_string_free (out, FALSE);
}
