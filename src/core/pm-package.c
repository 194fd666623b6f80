/* pm-package.c: detached signature files for packages
 *
 * The signature file is text, one "Field: value" per line in a fixed order, so support can
 * read it and a parser has nothing to guess. The signature covers every byte before the
 * "Signature:" line; since those bytes state the content's length and SHA-256, the content
 * is bound too, and the version, name, type and expiry cannot be changed without the
 * provider's key.
 */
#include "pm-package.h"

#include <string.h>
#include <sys/stat.h>
#include <errno.h>
#include <glib/gstdio.h>

#include "pm-clock.h"

G_DEFINE_QUARK (pm-package-error-quark, pm_package_error)

#define MAGIC_FIELD "Postmeter-Package-Signature"
#define FORMAT_VERSION "1"

/* The fields in their required order; the last one, Signature, is not signed. */
enum
{
  FIELD_MAGIC,
  FIELD_NAME,
  FIELD_CONTENT_TYPE,
  FIELD_VERSION,
  FIELD_LENGTH,
  FIELD_SHA256,
  FIELD_SIGNED,
  FIELD_EXPIRES,
  FIELD_KEY,
  FIELD_SIGNATURE,
  N_FIELDS
};

static const char *const field_names[N_FIELDS] = {
  MAGIC_FIELD, "Name", "Content-Type", "Version", "Length", "SHA-256", "Signed", "Expires",
  "Key-Fingerprint", "Signature",
};

void
pm_package_info_free (PmPackageInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->name);
  g_free (info->content_type);
  g_free (info->key_fingerprint);
  g_free (info);
}

static char *
format_time (gint64 seconds)
{
  g_autoptr (GDateTime) time = g_date_time_new_from_unix_utc (seconds);

  if (time == NULL)
    return NULL;
  return g_date_time_format (time, "%Y-%m-%dT%H:%M:%SZ");
}

static gboolean
parse_time (const char *text,
            gint64     *out_seconds)
{
  g_autoptr (GDateTime) time = NULL;

  /* Only the exact form written by format_time(). */
  if (strlen (text) != 20 || text[19] != 'Z')
    return FALSE;
  time = g_date_time_new_from_iso8601 (text, NULL);
  if (time == NULL)
    return FALSE;
  *out_seconds = g_date_time_to_unix (time);
  return TRUE;
}

static gboolean
is_safe_value (const char *text)
{
  if (text == NULL || *text == '\0' || strlen (text) > 200)
    return FALSE;
  for (const char *p = text; *p != '\0'; p++)
    if ((guchar) *p < 0x21 || (guchar) *p > 0x7e)
      return FALSE;
  return TRUE;
}

GBytes *
pm_package_sign (PmSigningKey *key,
                 const char   *name,
                 const char   *content_type,
                 guint         version,
                 gint64        expires,
                 GBytes       *content,
                 GError      **error)
{
  g_autoptr (GString) out = g_string_new (NULL);
  g_autoptr (PmVerifyKey) verify_key = NULL;
  g_autofree char *fingerprint = NULL;
  g_autofree char *signed_at = NULL;
  g_autofree char *expires_text = NULL;
  g_autofree char *encoded = NULL;
  g_autofree char *sha256 = NULL;
  guint8 signature[PM_SIGNATURE_LENGTH];
  const guint8 *data;
  gsize length;

  g_return_val_if_fail (key != NULL, NULL);
  g_return_val_if_fail (content != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!is_safe_value (name) || !is_safe_value (content_type) || version == 0)
    {
      g_set_error (error, PM_PACKAGE_ERROR, PM_PACKAGE_ERROR_MALFORMED,
                   "A package needs a name and a content type of printable characters "
                   "without spaces, and a version from 1");
      return NULL;
    }

  signed_at = format_time (pm_clock_now_s ());
  expires_text = format_time (expires);
  if (expires_text == NULL || expires <= pm_clock_now_s ())
    {
      g_set_error (error, PM_PACKAGE_ERROR, PM_PACKAGE_ERROR_EXPIRED,
                   "The expiry must be a date in the future");
      return NULL;
    }

  verify_key = pm_signing_key_get_verify_key (key);
  fingerprint = pm_verify_key_fingerprint (verify_key);
  data = g_bytes_get_data (content, &length);

  g_string_append_printf (out, "%s: %s\n", field_names[FIELD_MAGIC], FORMAT_VERSION);
  g_string_append_printf (out, "%s: %s\n", field_names[FIELD_NAME], name);
  g_string_append_printf (out, "%s: %s\n", field_names[FIELD_CONTENT_TYPE], content_type);
  g_string_append_printf (out, "%s: %u\n", field_names[FIELD_VERSION], version);
  g_string_append_printf (out, "%s: %" G_GSIZE_FORMAT "\n", field_names[FIELD_LENGTH], length);
  sha256 = g_compute_checksum_for_data (G_CHECKSUM_SHA256,
                                        data != NULL ? data : (const guint8 *) "", length);
  g_string_append_printf (out, "%s: %s\n", field_names[FIELD_SHA256], sha256);
  g_string_append_printf (out, "%s: %s\n", field_names[FIELD_SIGNED], signed_at);
  g_string_append_printf (out, "%s: %s\n", field_names[FIELD_EXPIRES], expires_text);
  g_string_append_printf (out, "%s: %s\n", field_names[FIELD_KEY], fingerprint);

  if (!pm_signing_key_sign (key, (const guint8 *) out->str, out->len, signature, error))
    {
      g_prefix_error (error, "Could not sign the package: ");
      return NULL;
    }
  encoded = g_base64_encode (signature, sizeof signature);
  g_string_append_printf (out, "%s: %s\n", field_names[FIELD_SIGNATURE], encoded);

  return g_string_free_to_bytes (g_steal_pointer (&out));
}

static gboolean
malformed (GError    **error,
           guint       line,
           const char *what)
{
  g_set_error (error, PM_PACKAGE_ERROR, PM_PACKAGE_ERROR_MALFORMED,
               "The package's signature file is damaged (line %u: %s); download the "
               "package again", line, what);
  return FALSE;
}

typedef struct
{
  char   *values[N_FIELDS];
  gsize   signed_length;   /* bytes before the Signature line */
} SignatureFile;

static void
signature_file_clear (SignatureFile *file)
{
  for (int i = 0; i < N_FIELDS; i++)
    g_free (file->values[i]);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (SignatureFile, signature_file_clear)

static gboolean
read_signature_file (const char    *text,
                     gsize          length,
                     SignatureFile *file,
                     GError       **error)
{
  gsize offset = 0;
  guint field = 0;

  while (offset < length && field < N_FIELDS)
    {
      const char *line = text + offset;
      const char *end = memchr (line, '\n', length - offset);
      gsize name_length = strlen (field_names[field]);
      gsize line_length;

      if (end == NULL)
        return malformed (error, field + 1, "the last line is cut off");
      line_length = end - line;

      if (line_length < name_length + 3 || memcmp (line, field_names[field], name_length) != 0
          || line[name_length] != ':' || line[name_length + 1] != ' ')
        {
          /* The signature line alone missing is a stripped signature, not damage. */
          if (field == FIELD_SIGNATURE)
            break;
          return malformed (error, field + 1, "a field is missing or out of order");
        }
      if (field == FIELD_SIGNATURE)
        file->signed_length = offset;

      file->values[field] = g_strndup (line + name_length + 2, line_length - name_length - 2);
      if (!is_safe_value (file->values[field]))
        return malformed (error, field + 1, "a value has spaces or control characters");

      offset += line_length + 1;
      field++;
    }

  if (field == FIELD_SIGNATURE)
    {
      g_set_error (error, PM_PACKAGE_ERROR, PM_PACKAGE_ERROR_STRIPPED,
                   "The package's signature file has no signature; the package cannot be "
                   "trusted and was not used");
      return FALSE;
    }
  if (field < N_FIELDS)
    return malformed (error, field + 1, "the file ends early");
  if (offset != length)
    return malformed (error, field + 1, "there is text after the signature");
  if (strcmp (file->values[FIELD_MAGIC], FORMAT_VERSION) != 0)
    return malformed (error, 1, "a signature format this version of Postmeter does not read");
  return TRUE;
}

static gboolean
parse_hex (const char *text,
           guint8     *out,
           gsize       out_length)
{
  if (strlen (text) != out_length * 2)
    return FALSE;
  for (gsize i = 0; i < out_length; i++)
    {
      int high = g_ascii_xdigit_value (text[2 * i]);
      int low = g_ascii_xdigit_value (text[2 * i + 1]);

      if (high < 0 || low < 0 || g_ascii_isupper (text[2 * i]) || g_ascii_isupper (text[2 * i + 1]))
        return FALSE;
      out[i] = (guint8) (high << 4 | low);
    }
  return TRUE;
}

static gboolean
parse_count (const char *text,
             guint64     max,
             guint64    *out)
{
  /* No sign, no leading zeros: one spelling per number. */
  if (*text == '0' && text[1] != '\0')
    return FALSE;
  return g_ascii_string_to_unsigned (text, 10, 0, max, out, NULL);
}

PmPackageInfo *
pm_package_verify (GBytes                *signature_file,
                   GBytes                *content,
                   PmVerifyKey           *trusted_key,
                   const PmPackagePolicy *policy,
                   GError               **error)
{
  g_auto (SignatureFile) file = { { NULL } };
  g_autoptr (PmPackageInfo) info = NULL;
  g_autofree char *trusted_fingerprint = NULL;
  g_autofree guchar *signature = NULL;
  g_autofree char *actual_sha256 = NULL;
  const char *text;
  const guint8 *data;
  gsize text_length, signature_length, length;
  guint64 number;
  gint64 now;

  g_return_val_if_fail (content != NULL, NULL);
  g_return_val_if_fail (trusted_key != NULL, NULL);
  g_return_val_if_fail (policy != NULL && policy->content_type != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* 1. There is a signature file of a sane size, and it reads. */
  if (signature_file == NULL || g_bytes_get_size (signature_file) == 0)
    {
      g_set_error (error, PM_PACKAGE_ERROR, PM_PACKAGE_ERROR_STRIPPED,
                   "The package came without its signature; it cannot be trusted and was "
                   "not used");
      return NULL;
    }
  text = g_bytes_get_data (signature_file, &text_length);
  if (text_length > PM_PACKAGE_MAX_SIGNATURE_BYTES)
    {
      malformed (error, 0, "far too long to be a signature file");
      return NULL;
    }
  if (memchr (text, '\0', text_length) != NULL || memchr (text, '\r', text_length) != NULL)
    {
      malformed (error, 0, "it contains NUL or carriage-return characters");
      return NULL;
    }
  if (!read_signature_file (text, text_length, &file, error))
    return NULL;

  /* 2. It was signed by the key this machine trusts. */
  trusted_fingerprint = pm_verify_key_fingerprint (trusted_key);
  if (g_strcmp0 (trusted_fingerprint, file.values[FIELD_KEY]) != 0)
    {
      g_set_error (error, PM_PACKAGE_ERROR, PM_PACKAGE_ERROR_WRONG_KEY,
                   "The package “%s” was signed by a key this machine does not trust (key "
                   "%.16s…, trusted %.16s…); it was not used", file.values[FIELD_NAME],
                   file.values[FIELD_KEY], trusted_fingerprint);
      return NULL;
    }

  signature = g_base64_decode (file.values[FIELD_SIGNATURE], &signature_length);
  if (signature_length != PM_SIGNATURE_LENGTH
      || !pm_verify_key_verify (trusted_key, (const guint8 *) text, file.signed_length,
                                signature))
    {
      g_set_error (error, PM_PACKAGE_ERROR, PM_PACKAGE_ERROR_BAD_SIGNATURE,
                   "The signature of the package “%s” does not match what it signs: the "
                   "signature file was altered; the package was not used",
                   file.values[FIELD_NAME]);
      return NULL;
    }

  /* From here on every field is the provider's word. */
  info = g_new0 (PmPackageInfo, 1);
  info->name = g_strdup (file.values[FIELD_NAME]);
  info->content_type = g_strdup (file.values[FIELD_CONTENT_TYPE]);
  info->key_fingerprint = g_strdup (file.values[FIELD_KEY]);
  if (!parse_count (file.values[FIELD_VERSION], G_MAXUINT32, &number) || number == 0)
    {
      malformed (error, FIELD_VERSION + 1, "the version is not a whole number from 1");
      return NULL;
    }
  info->version = (guint) number;
  if (!parse_count (file.values[FIELD_LENGTH], G_MAXSIZE, &number))
    {
      malformed (error, FIELD_LENGTH + 1, "the length is not a whole number");
      return NULL;
    }
  info->length = (gsize) number;
  if (!parse_hex (file.values[FIELD_SHA256], info->sha256, sizeof info->sha256)
      || !parse_time (file.values[FIELD_SIGNED], &info->signed_at)
      || !parse_time (file.values[FIELD_EXPIRES], &info->expires))
    {
      malformed (error, FIELD_SHA256 + 1, "the hash or a date is not readable");
      return NULL;
    }

  /* 3. It is the kind of package asked for. */
  if (strcmp (info->content_type, policy->content_type) != 0)
    {
      g_set_error (error, PM_PACKAGE_ERROR, PM_PACKAGE_ERROR_WRONG_CONTENT_TYPE,
                   "The package “%s” holds %s, not %s; it was not used", info->name,
                   info->content_type, policy->content_type);
      return NULL;
    }
  if (policy->name != NULL && strcmp (info->name, policy->name) != 0)
    {
      g_set_error (error, PM_PACKAGE_ERROR, PM_PACKAGE_ERROR_WRONG_NAME,
                   "The package is “%s”, not the “%s” expected; it was not used", info->name,
                   policy->name);
      return NULL;
    }

  /* 4. Size, then the bytes themselves. */
  data = g_bytes_get_data (content, &length);
  if (policy->max_length != 0 && (info->length > policy->max_length
                                  || length > policy->max_length))
    {
      g_set_error (error, PM_PACKAGE_ERROR, PM_PACKAGE_ERROR_TOO_LARGE,
                   "The package “%s” is %" G_GSIZE_FORMAT " bytes, more than the %"
                   G_GSIZE_FORMAT " this kind of package may have; it was not used",
                   info->name, MAX (length, info->length), policy->max_length);
      return NULL;
    }
  if (length < info->length)
    {
      g_set_error (error, PM_PACKAGE_ERROR, PM_PACKAGE_ERROR_TRUNCATED,
                   "The package “%s” is cut short (%" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT
                   " bytes); download it again", info->name, length, info->length);
      return NULL;
    }
  if (length > info->length)
    {
      g_set_error (error, PM_PACKAGE_ERROR, PM_PACKAGE_ERROR_TAMPERED,
                   "The package “%s” has %" G_GSIZE_FORMAT " bytes where %" G_GSIZE_FORMAT
                   " were signed: it was altered; it was not used", info->name, length,
                   info->length);
      return NULL;
    }
  actual_sha256 = g_compute_checksum_for_data (G_CHECKSUM_SHA256,
                                               data != NULL ? data : (const guint8 *) "",
                                               length);
  if (strcmp (actual_sha256, file.values[FIELD_SHA256]) != 0)
    {
      g_set_error (error, PM_PACKAGE_ERROR, PM_PACKAGE_ERROR_TAMPERED,
                   "The content of the package “%s” differs from what was signed: it was "
                   "altered or damaged; it was not used", info->name);
      return NULL;
    }

  /* 5. It is still valid, and not older than what is installed. */
  now = policy->now != 0 ? policy->now : pm_clock_now_s ();
  if (now >= info->expires)
    {
      g_autofree char *expired = format_time (info->expires);

      g_set_error (error, PM_PACKAGE_ERROR, PM_PACKAGE_ERROR_EXPIRED,
                   "The package “%s” expired on %s; ask the provider for a current one",
                   info->name, expired);
      return NULL;
    }
  if (info->version < policy->installed_version)
    {
      g_set_error (error, PM_PACKAGE_ERROR, PM_PACKAGE_ERROR_OLDER_VERSION,
                   "The package “%s” is version %u, older than the installed version %u; "
                   "the installed one stays in force", info->name, info->version,
                   policy->installed_version);
      return NULL;
    }

  return g_steal_pointer (&info);
}

/* Reads a whole file if it is no larger than max_length, checking the size first. */
static GBytes *
read_limited (const char *path,
              gsize       max_length,
              gboolean    missing_is_stripped,
              GError    **error)
{
  GStatBuf st;
  char *contents = NULL;
  gsize length = 0;
  g_autoptr (GError) local_error = NULL;

  if (g_stat (path, &st) != 0)
    {
      int saved = errno;

      if (saved == ENOENT && missing_is_stripped)
        return NULL;
      g_set_error (error, PM_PACKAGE_ERROR, PM_PACKAGE_ERROR_IO, "Could not read %s: %s",
                   path, g_strerror (saved));
      return NULL;
    }
  if (max_length != 0 && (guint64) st.st_size > max_length)
    {
      g_set_error (error, PM_PACKAGE_ERROR, PM_PACKAGE_ERROR_TOO_LARGE,
                   "%s is %" G_GUINT64_FORMAT " bytes, more than the %" G_GSIZE_FORMAT
                   " allowed; it was not read", path, (guint64) st.st_size, max_length);
      return NULL;
    }
  if (!g_file_get_contents (path, &contents, &length, &local_error))
    {
      g_set_error (error, PM_PACKAGE_ERROR, PM_PACKAGE_ERROR_IO, "%s", local_error->message);
      return NULL;
    }
  return g_bytes_new_take (contents, length);
}

GBytes *
pm_package_load_file (const char            *path,
                      PmVerifyKey           *trusted_key,
                      const PmPackagePolicy *policy,
                      PmPackageInfo        **out_info,
                      GError               **error)
{
  g_autofree char *signature_path = NULL;
  g_autoptr (GBytes) signature = NULL;
  g_autoptr (GBytes) content = NULL;
  g_autoptr (PmPackageInfo) info = NULL;
  GError *local_error = NULL;
  gsize max_length;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (policy != NULL, NULL);

  signature_path = g_strconcat (path, ".sig", NULL);
  signature = read_limited (signature_path, PM_PACKAGE_MAX_SIGNATURE_BYTES + 1, TRUE,
                            &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return NULL;
    }

  if (signature == NULL)
    {
      g_set_error (error, PM_PACKAGE_ERROR, PM_PACKAGE_ERROR_STRIPPED,
                   "The package %s came without its signature (%s is missing); it cannot "
                   "be trusted and was not used", path, signature_path);
      return NULL;
    }

  /* One byte more than allowed so that verify reports the size, not a truncation. */
  max_length = policy->max_length != 0 ? policy->max_length + 1 : 0;
  content = read_limited (path, max_length, FALSE, error);
  if (content == NULL)
    return NULL;

  info = pm_package_verify (signature, content, trusted_key, policy, error);
  if (info == NULL)
    return NULL;

  if (out_info != NULL)
    *out_info = g_steal_pointer (&info);
  return g_steal_pointer (&content);
}

PmVerifyKey *
pm_package_load_key (const char *path,
                     GError    **error)
{
  g_autoptr (GBytes) pem = NULL;
  PmVerifyKey *key;

  g_return_val_if_fail (path != NULL, NULL);

  pem = read_limited (path, 16384, FALSE, error);
  if (pem == NULL)
    return NULL;
  key = pm_verify_key_new_from_pem (g_bytes_get_data (pem, NULL), g_bytes_get_size (pem),
                                    error);
  if (key == NULL)
    g_prefix_error (error, "The provider key %s cannot be used: ", path);
  return key;
}
