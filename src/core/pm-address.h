/* pm-address.h: domestic addresses as people type them, made ready for a label
 *
 * ZIP Codes are accepted in every form an operator types or pastes ("60601",
 * "60601-1234", "60601 1234", "606011234", with stray spaces) and always kept as
 * text, so a leading zero is never lost. Line limits count characters, not bytes.
 * Characters a label printer's fonts cannot print are reported as warnings, never
 * silently replaced.
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* A label line holds 35 characters (pm-label.h); every line of an address fits one. */
#define PM_ADDRESS_MAX_LINE_CHARS 35

#define PM_ADDRESS_ERROR (pm_address_error_quark ())

typedef enum
{
  PM_ADDRESS_ERROR_EMPTY,          /* a required field is empty */
  PM_ADDRESS_ERROR_MALFORMED_ZIP,  /* not a ZIP Code or ZIP+4 */
  PM_ADDRESS_ERROR_UNKNOWN_STATE,  /* not a USPS state or territory code */
  PM_ADDRESS_ERROR_TOO_LONG,       /* more characters than the line holds */
  PM_ADDRESS_ERROR_INVALID_TEXT,   /* not UTF-8, or a control character */
} PmAddressError;

/* The fields of a domestic address, in the order they print. */
typedef enum
{
  PM_ADDRESS_FIELD_NAME,
  PM_ADDRESS_FIELD_COMPANY,
  PM_ADDRESS_FIELD_STREET1,
  PM_ADDRESS_FIELD_STREET2,
  PM_ADDRESS_FIELD_CITY,
  PM_ADDRESS_FIELD_STATE,
  PM_ADDRESS_FIELD_ZIP,
} PmAddressField;

#define PM_ADDRESS_N_FIELDS (PM_ADDRESS_FIELD_ZIP + 1)

/* A ZIP Code kept as text. zip5 is always 5 digits; plus4 is 4 digits or "". */
typedef struct
{
  char zip5[6];
  char plus4[5];
} PmZipCode;

/* A domestic address. Every string is owned by the struct and is NULL when empty.
 * pm_address_new_from_typed() returns one whose strings are trimmed and within
 * limits, with the state as its code and the ZIP Code parsed. */
typedef struct
{
  char      *name;
  char      *company;
  char      *street1;
  char      *street2;
  char      *city;
  char      *state;    /* two-letter USPS code, upper case */
  PmZipCode  zip;
} PmAddress;

GType        pm_address_get_type            (void) G_GNUC_CONST;
#define PM_TYPE_ADDRESS (pm_address_get_type ())

GQuark       pm_address_error_quark         (void);

/* ZIP Codes. Accepts 5 or 9 digits with at most one break (blanks, a hyphen or a dash)
 * after the fifth; refuses anything else with an error that names the field, and says
 * which ZIP Code was probably meant when a leading zero was lost ("2134"). */
gboolean     pm_address_parse_zip           (const char      *text,
                                             PmZipCode       *out_zip,
                                             GError         **error);
char        *pm_address_format_zip          (const PmZipCode *zip);
guint        pm_address_zip3                (const PmZipCode *zip);

/* States, territories, freely associated states and military post offices */
gboolean     pm_address_parse_state         (const char      *text,
                                             const char     **out_code,
                                             GError         **error);
const char  *pm_address_state_name          (const char      *code);

/* One line of text. clean_line() trims, makes inner runs of blanks one space, composes
 * to NFC and counts characters; the state comes back as its code and the ZIP Code as
 * "60601" or "60601-1234". An empty line gives "" (whether it may be empty is the
 * address's business). *out_warning, when set, names characters a label printer cannot
 * print; the text keeps them. find_unprintable() lists them, or gives NULL. */
const char  *pm_address_field_label         (PmAddressField   field);
guint        pm_address_field_max_chars     (PmAddressField   field);
char        *pm_address_clean_line          (PmAddressField   field,
                                             const char      *text,
                                             char           **out_warning,
                                             GError         **error);
char        *pm_address_find_unprintable    (const char      *text);

/* A whole address. new_from_typed() takes PM_ADDRESS_N_FIELDS strings (NULL for an
 * empty field) in PmAddressField order; it needs a name or a company, a street, the city,
 * state and ZIP Code. Warnings, if any, are added to *out_warnings (created as needed,
 * strings freed with it). validate() checks an address read back from storage. */
PmAddress   *pm_address_new                 (void);
PmAddress   *pm_address_copy                (const PmAddress *address);
void         pm_address_free                (PmAddress       *address);
PmAddress   *pm_address_new_from_typed      (const char * const *typed,
                                             GPtrArray      **out_warnings,
                                             GError         **error);
char        *pm_address_dup_field           (const PmAddress *address,
                                             PmAddressField   field);
gboolean     pm_address_validate            (const PmAddress *address,
                                             GPtrArray      **out_warnings,
                                             GError         **error);
char        *pm_address_format_last_line    (const PmAddress *address);
char        *pm_address_format              (const PmAddress *address);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmAddress, pm_address_free)

G_END_DECLS
