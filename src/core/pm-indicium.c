/* pm-indicium.c: encode, sign, decode and verify the indicium payload
 *
 * The layout is documented field by field in pm-indicium.h. Encoding refuses any value that
 * does not fit its field rather than truncating it: a truncated register would be a false
 * statement signed by the PSD.
 */
#include "pm-indicium.h"

#include <string.h>

G_DEFINE_QUARK (pm-indicium-error-quark, pm_indicium_error)

static void
put_le (guint8  *out,
        guint64  value,
        guint    width)
{
  for (guint i = 0; i < width; i++)
    out[i] = (guint8) (value >> (8 * i));
}

static guint64
get_le (const guint8 *in,
        guint         width)
{
  guint64 value = 0;

  for (guint i = 0; i < width; i++)
    value |= ((guint64) in[i]) << (8 * i);

  return value;
}

static gboolean
is_printable_ascii4 (const char *text)
{
  for (guint i = 0; i < 4; i++)
    if (text[i] < 0x20 || text[i] > 0x7e)
      return FALSE;

  return text[4] == '\0';
}

static gboolean
is_valid_date (guint32 yyyymmdd)
{
  guint year = yyyymmdd / 10000;
  guint month = (yyyymmdd / 100) % 100;
  guint day = yyyymmdd % 100;

  if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1)
    return FALSE;

  return g_date_valid_dmy (day, month, year);
}

static gboolean
check_range (PmMills      value,
             PmMills      max,
             const char  *what,
             GError     **error)
{
  if (value < 0 || value > max)
    {
      g_set_error (error, PM_INDICIUM_ERROR, PM_INDICIUM_ERROR_OUT_OF_RANGE,
                   "The %s (%" G_GINT64_FORMAT " mills) does not fit the indicium; "
                   "it must be between 0 and %" G_GINT64_FORMAT " mills",
                   what, value, max);
      return FALSE;
    }

  return TRUE;
}

GBytes *
pm_indicium_encode_signed_part (const PmIndicium  *indicium,
                                GError           **error)
{
  guint8 out[PM_INDICIUM_SIGNED_LENGTH];

  g_return_val_if_fail (indicium != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (indicium->version != PM_INDICIUM_VERSION_1
      || indicium->algorithm != PM_INDICIUM_ALGORITHM_ECDSA_P256_SHA256)
    {
      g_set_error (error, PM_INDICIUM_ERROR, PM_INDICIUM_ERROR_UNSUPPORTED,
                   "Indicium version %u with algorithm %u cannot be encoded; this build "
                   "writes version %u with algorithm %u",
                   indicium->version, indicium->algorithm,
                   PM_INDICIUM_VERSION_1, PM_INDICIUM_ALGORITHM_ECDSA_P256_SHA256);
      return NULL;
    }

  if (!check_range (indicium->ascending, PM_INDICIUM_REGISTER_MAX, "ascending register", error)
      || !check_range (indicium->descending, PM_INDICIUM_REGISTER_MAX, "descending register",
                       error)
      || !check_range (indicium->postage, PM_INDICIUM_POSTAGE_MAX, "postage", error))
    return NULL;

  if (!is_printable_ascii4 (indicium->device_model)
      || !is_printable_ascii4 (indicium->software_id))
    {
      g_set_error (error, PM_INDICIUM_ERROR, PM_INDICIUM_ERROR_MALFORMED,
                   "The device model and software id must be exactly 4 printable ASCII "
                   "characters each");
      return NULL;
    }

  if (!is_valid_date (indicium->date_of_mailing))
    {
      g_set_error (error, PM_INDICIUM_ERROR, PM_INDICIUM_ERROR_MALFORMED,
                   "The date of mailing %u is not a real YYYYMMDD date",
                   indicium->date_of_mailing);
      return NULL;
    }

  if (indicium->origin_zip > 99999 || indicium->destination_zip > 999999999)
    {
      g_set_error (error, PM_INDICIUM_ERROR, PM_INDICIUM_ERROR_OUT_OF_RANGE,
                   "A ZIP code in the indicium has too many digits");
      return NULL;
    }

  if ((indicium->flags & ~PM_INDICIUM_FLAGS_KNOWN) != 0)
    {
      g_set_error (error, PM_INDICIUM_ERROR, PM_INDICIUM_ERROR_MALFORMED,
                   "Indicium flags 0x%02x include bits this version does not define",
                   indicium->flags);
      return NULL;
    }

  out[0] = indicium->version;
  out[1] = indicium->algorithm;
  put_le (out + 2, indicium->certificate_serial, 4);
  memcpy (out + 6, indicium->device_model, 4);
  put_le (out + 10, indicium->device_serial, 4);
  put_le (out + 14, (guint64) indicium->ascending, 5);
  put_le (out + 19, (guint64) indicium->postage, 3);
  put_le (out + 22, indicium->date_of_mailing, 4);
  put_le (out + 26, indicium->origin_zip, 4);
  put_le (out + 30, indicium->destination_zip, 4);
  memcpy (out + 34, indicium->software_id, 4);
  put_le (out + 38, (guint64) indicium->descending, 5);
  put_le (out + 43, indicium->rate_category, 2);
  out[45] = indicium->flags;

  return g_bytes_new (out, sizeof out);
}

GBytes *
pm_indicium_sign (PmIndicium    *indicium,
                  PmSigningKey  *key,
                  GError       **error)
{
  g_autoptr(GBytes) signed_part = NULL;
  guint8 out[PM_INDICIUM_LENGTH];

  g_return_val_if_fail (indicium != NULL, NULL);
  g_return_val_if_fail (key != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  signed_part = pm_indicium_encode_signed_part (indicium, error);
  if (signed_part == NULL)
    return NULL;

  memcpy (out, g_bytes_get_data (signed_part, NULL), PM_INDICIUM_SIGNED_LENGTH);
  if (!pm_signing_key_sign (key, out, PM_INDICIUM_SIGNED_LENGTH,
                            out + PM_INDICIUM_SIGNED_LENGTH, error))
    {
      g_prefix_error (error, "Could not sign the indicium: ");
      return NULL;
    }

  memcpy (indicium->signature, out + PM_INDICIUM_SIGNED_LENGTH, PM_SIGNATURE_LENGTH);

  return g_bytes_new (out, sizeof out);
}

gboolean
pm_indicium_decode (const guint8  *data,
                    gsize          length,
                    PmIndicium    *out_indicium,
                    GError       **error)
{
  PmIndicium indicium = { 0 };

  g_return_val_if_fail (data != NULL || length == 0, FALSE);
  g_return_val_if_fail (out_indicium != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (length < 2)
    {
      g_set_error (error, PM_INDICIUM_ERROR, PM_INDICIUM_ERROR_MALFORMED,
                   "The indicium is %" G_GSIZE_FORMAT " bytes long, too short to read",
                   length);
      return FALSE;
    }

  if (data[0] != PM_INDICIUM_VERSION_1 || data[1] != PM_INDICIUM_ALGORITHM_ECDSA_P256_SHA256)
    {
      g_set_error (error, PM_INDICIUM_ERROR, PM_INDICIUM_ERROR_UNSUPPORTED,
                   "Indicium version 0x%02x with algorithm 0x%02x is not one this build "
                   "can read (it reads version 0x%02x, algorithm 0x%02x)",
                   data[0], data[1], PM_INDICIUM_VERSION_1,
                   PM_INDICIUM_ALGORITHM_ECDSA_P256_SHA256);
      return FALSE;
    }

  if (length != PM_INDICIUM_LENGTH)
    {
      g_set_error (error, PM_INDICIUM_ERROR, PM_INDICIUM_ERROR_MALFORMED,
                   "A version 1 indicium is %d bytes long; this one is %" G_GSIZE_FORMAT,
                   PM_INDICIUM_LENGTH, length);
      return FALSE;
    }

  indicium.version = data[0];
  indicium.algorithm = data[1];
  indicium.certificate_serial = (guint32) get_le (data + 2, 4);
  memcpy (indicium.device_model, data + 6, 4);
  indicium.device_serial = (guint32) get_le (data + 10, 4);
  indicium.ascending = (PmMills) get_le (data + 14, 5);
  indicium.postage = (PmMills) get_le (data + 19, 3);
  indicium.date_of_mailing = (guint32) get_le (data + 22, 4);
  indicium.origin_zip = (guint32) get_le (data + 26, 4);
  indicium.destination_zip = (guint32) get_le (data + 30, 4);
  memcpy (indicium.software_id, data + 34, 4);
  indicium.descending = (PmMills) get_le (data + 38, 5);
  indicium.rate_category = (guint16) get_le (data + 43, 2);
  indicium.flags = data[45];
  memcpy (indicium.signature, data + PM_INDICIUM_SIGNED_LENGTH, PM_SIGNATURE_LENGTH);

  if (!is_printable_ascii4 (indicium.device_model) || !is_printable_ascii4 (indicium.software_id))
    {
      g_set_error (error, PM_INDICIUM_ERROR, PM_INDICIUM_ERROR_MALFORMED,
                   "The indicium's device model or software id is not printable text");
      return FALSE;
    }

  if (!is_valid_date (indicium.date_of_mailing))
    {
      g_set_error (error, PM_INDICIUM_ERROR, PM_INDICIUM_ERROR_MALFORMED,
                   "The indicium's date of mailing %u is not a real date",
                   indicium.date_of_mailing);
      return FALSE;
    }

  if (indicium.origin_zip > 99999 || indicium.destination_zip > 999999999)
    {
      g_set_error (error, PM_INDICIUM_ERROR, PM_INDICIUM_ERROR_MALFORMED,
                   "A ZIP code in the indicium has too many digits");
      return FALSE;
    }

  if ((indicium.flags & ~PM_INDICIUM_FLAGS_KNOWN) != 0)
    {
      g_set_error (error, PM_INDICIUM_ERROR, PM_INDICIUM_ERROR_MALFORMED,
                   "The indicium's flags 0x%02x include undefined bits", indicium.flags);
      return FALSE;
    }

  *out_indicium = indicium;
  return TRUE;
}

gboolean
pm_indicium_verify (const guint8  *data,
                    gsize          length,
                    PmVerifyKey   *key,
                    PmIndicium    *out_indicium,
                    GError       **error)
{
  PmIndicium indicium;

  g_return_val_if_fail (key != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!pm_indicium_decode (data, length, &indicium, error))
    return FALSE;

  if (!pm_verify_key_verify (key, data, PM_INDICIUM_SIGNED_LENGTH,
                             data + PM_INDICIUM_SIGNED_LENGTH))
    {
      g_set_error (error, PM_INDICIUM_ERROR, PM_INDICIUM_ERROR_BAD_SIGNATURE,
                   "The indicium's signature does not match its contents and this PSD's "
                   "public key: the data was altered or was signed by another PSD");
      return FALSE;
    }

  if (out_indicium != NULL)
    *out_indicium = indicium;

  return TRUE;
}

gboolean
pm_indicium_parse_zip (const char  *text,
                       guint32     *out_zip9,
                       GError     **error)
{
  char digits[10];
  guint n = 0;
  guint32 value = 0;

  g_return_val_if_fail (out_zip9 != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (text == NULL || *text == '\0')
    {
      *out_zip9 = 0;
      return TRUE;
    }

  for (const char *p = text; *p != '\0'; p++)
    {
      if (g_ascii_isdigit (*p) && n < 9)
        digits[n++] = *p;
      else if (*p == '-' && n == 5 && p[1] != '\0')
        continue;
      else
        {
          g_set_error (error, PM_INDICIUM_ERROR, PM_INDICIUM_ERROR_MALFORMED,
                       "“%s” is not a ZIP code: give 5 digits, or ZIP+4 as 12345-6789",
                       text);
          return FALSE;
        }
    }

  if (n != 5 && n != 9)
    {
      g_set_error (error, PM_INDICIUM_ERROR, PM_INDICIUM_ERROR_MALFORMED,
                   "“%s” is not a ZIP code: give 5 digits, or ZIP+4 as 12345-6789", text);
      return FALSE;
    }

  for (guint i = 0; i < n; i++)
    value = value * 10 + (guint32) (digits[i] - '0');
  if (n == 5)
    value *= 10000;

  *out_zip9 = value;
  return TRUE;
}

char *
pm_indicium_format_zip (guint32 zip9)
{
  if (zip9 == 0)
    return g_strdup ("");
  if (zip9 % 10000 == 0)
    return g_strdup_printf ("%05u", zip9 / 10000);

  return g_strdup_printf ("%05u-%04u", zip9 / 10000, zip9 % 10000);
}

char *
pm_indicium_format_date (guint32 yyyymmdd)
{
  static const char *const months[] = {
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
  };

  if (!is_valid_date (yyyymmdd))
    return NULL;

  /* Fixed English month names: the impression is read by postal machines and clerks in the
   * US, whatever the language of the screens. */
  return g_strdup_printf ("%s %02u %04u", months[(yyyymmdd / 100) % 100 - 1],
                          yyyymmdd % 100, yyyymmdd / 10000);
}

guint32
pm_indicium_date_from_gdate (const GDate *date)
{
  g_return_val_if_fail (date != NULL && g_date_valid (date), 0);

  return (guint32) g_date_get_year (date) * 10000
         + (guint32) g_date_get_month (date) * 100
         + (guint32) g_date_get_day (date);
}

GDate *
pm_indicium_date_to_gdate (guint32 yyyymmdd)
{
  if (!is_valid_date (yyyymmdd))
    return NULL;

  return g_date_new_dmy ((GDateDay) (yyyymmdd % 100),
                         (GDateMonth) ((yyyymmdd / 100) % 100),
                         (GDateYear) (yyyymmdd / 10000));
}

static const struct
{
  const char *name;
  const char *inscription;
} rate_categories[] = {
  [PM_RATE_CATEGORY_NONE] = { "none", "" },
  [PM_RATE_CATEGORY_FIRST_CLASS_LETTER] = { "first-class-letter", "FIRST-CLASS MAIL" },
  [PM_RATE_CATEGORY_FIRST_CLASS_FLAT] = { "first-class-flat", "FIRST-CLASS MAIL" },
  [PM_RATE_CATEGORY_FIRST_CLASS_POSTCARD] = { "first-class-postcard", "FIRST-CLASS MAIL" },
  [PM_RATE_CATEGORY_GROUND_ADVANTAGE] = { "ground-advantage", "USPS GROUND ADVANTAGE" },
  [PM_RATE_CATEGORY_PRIORITY_MAIL] = { "priority-mail", "PRIORITY MAIL" },
  [PM_RATE_CATEGORY_PRIORITY_MAIL_EXPRESS] = { "priority-mail-express",
                                               "PRIORITY MAIL EXPRESS" },
  [PM_RATE_CATEGORY_MEDIA_MAIL] = { "media-mail", "MEDIA MAIL" },
  [PM_RATE_CATEGORY_LIBRARY_MAIL] = { "library-mail", "LIBRARY MAIL" },
  [PM_RATE_CATEGORY_MARKETING_MAIL] = { "marketing-mail", "USPS MARKETING MAIL" },
  [PM_RATE_CATEGORY_ADDITIONAL_POSTAGE] = { "additional-postage", "ADDITIONAL POSTAGE" },
};

const char *
pm_rate_category_get_inscription (guint16 category)
{
  if (category >= G_N_ELEMENTS (rate_categories))
    return NULL;

  return rate_categories[category].inscription;
}

const char *
pm_rate_category_get_name (guint16 category)
{
  if (category >= G_N_ELEMENTS (rate_categories))
    return NULL;

  return rate_categories[category].name;
}
