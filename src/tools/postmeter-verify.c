/* postmeter-verify: check a printed indicium from its image
 *
 *   postmeter-verify IMAGE.png --key PSD-PUBLIC-KEY.pem
 *   postmeter-verify IMAGE.png --certificate PSD.cert --provider-key PROVIDER.pub
 *   postmeter-verify --payload INDICIUM.bin --key PSD-PUBLIC-KEY.pem
 *
 * Decodes the Data Matrix with libdmtx (not the encoder that made it), prints every field
 * of the payload and checks the PSD's signature.
 *
 * With a PSD certificate (pm-psd-message.h) and the provider's public key, the auditor needs
 * to trust only the provider: the certificate's operational block must carry the provider's
 * signature and name the certificate's key, and the indicium must come from the very PSD,
 * certificate serial and origin ZIP the block names.
 *
 * Exit status: 0 the signature is valid, 1 the indicium is not valid (bad signature,
 * malformed payload, a certificate the provider did not issue or that names another PSD,
 * or a specimen when --reject-specimen is given), 2 the image, key or certificate could not
 * be read at all.
 */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pm-indicium.h"
#include "pm-indicium-scan.h"
#include "pm-psd-message.h"

enum
{
  EXIT_VALID = 0,
  EXIT_INVALID = 1,
  EXIT_UNREADABLE = 2,
};

static char *
format_mills (PmMills mills)
{
  return g_strdup_printf ("$%" G_GINT64_FORMAT ".%03d (%" G_GINT64_FORMAT " mills)",
                          mills / 1000, (int) (mills % 1000), mills);
}

static void
print_fields (const PmIndicium *indicium)
{
  g_autofree char *postage = format_mills (indicium->postage);
  g_autofree char *ascending = format_mills (indicium->ascending);
  g_autofree char *descending = format_mills (indicium->descending);
  g_autofree char *date = pm_indicium_format_date (indicium->date_of_mailing);
  g_autofree char *destination = pm_indicium_format_zip (indicium->destination_zip);
  const char *category = pm_rate_category_get_name (indicium->rate_category);
  const char *inscription = pm_rate_category_get_inscription (indicium->rate_category);

  printf ("  version              0x%02x\n", indicium->version);
  printf ("  algorithm            0x%02x (ECDSA P-256, SHA-256)\n", indicium->algorithm);
  printf ("  certificate serial   %u\n", indicium->certificate_serial);
  printf ("  meter                %s%08u (model %s, serial %u)\n", indicium->device_model,
          indicium->device_serial, indicium->device_model, indicium->device_serial);
  printf ("  postage              %s\n", postage);
  printf ("  date of mailing      %s (%u)\n", date, indicium->date_of_mailing);
  printf ("  origin ZIP           %05u\n", indicium->origin_zip);
  printf ("  destination ZIP      %s\n", *destination != '\0' ? destination : "(none)");
  printf ("  rate category        %u %s%s%s\n", indicium->rate_category,
          category != NULL ? category : "(unknown)",
          inscription != NULL && *inscription != '\0' ? ", " : "",
          inscription != NULL ? inscription : "");
  printf ("  ascending register   %s\n", ascending);
  printf ("  descending register  %s\n", descending);
  printf ("  software id          %s\n", indicium->software_id);
  printf ("  flags                0x%02x%s\n", indicium->flags,
          (indicium->flags & PM_INDICIUM_FLAG_SPECIMEN) ? " (specimen)" : "");
  /* r and s as 32-byte big-endian numbers, the way the curve's tools show them. */
  for (guint half = 0; half < 2; half++)
    {
      printf ("  signature %s          ", half == 0 ? "r" : "s");
      for (guint i = 0; i < PM_SIGNATURE_LENGTH / 2; i++)
        printf ("%02x", indicium->signature[half * PM_SIGNATURE_LENGTH / 2 + i]);
      printf ("\n");
    }
}

static PmVerifyKey *
read_key (const char  *path,
          GError     **error)
{
  g_autofree char *pem = NULL;

  if (!g_file_get_contents (path, &pem, NULL, error))
    return NULL;

  return pm_verify_key_new_from_pem (pem, -1, error);
}

/* The certificate binds the PSD's key to one serial, certificate serial and origin ZIP. */
static gboolean
check_against_block (const PmIndicium         *indicium,
                     const PmOperationalBlock *block,
                     GError                  **error)
{
  if (indicium->device_serial != block->psd_serial
      || memcmp (indicium->device_model, block->psd_model, 4) != 0)
    {
      g_set_error (error, PM_INDICIUM_ERROR, PM_INDICIUM_ERROR_BAD_SIGNATURE,
                   "the indicium names meter %s%08u but the certificate is for %s%08u",
                   indicium->device_model, indicium->device_serial, block->psd_model,
                   block->psd_serial);
      return FALSE;
    }
  if (indicium->certificate_serial != block->certificate_serial)
    {
      g_set_error (error, PM_INDICIUM_ERROR, PM_INDICIUM_ERROR_BAD_SIGNATURE,
                   "the indicium names certificate serial %u but the certificate is "
                   "serial %u", indicium->certificate_serial, block->certificate_serial);
      return FALSE;
    }
  if (indicium->origin_zip != block->origin_zip)
    {
      g_set_error (error, PM_INDICIUM_ERROR, PM_INDICIUM_ERROR_BAD_SIGNATURE,
                   "the indicium names origin ZIP %05u but the meter is licensed at %05u",
                   indicium->origin_zip, block->origin_zip);
      return FALSE;
    }

  return TRUE;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) payload = NULL;
  g_autoptr(PmVerifyKey) key = NULL;
  g_autoptr(PmVerifyKey) provider = NULL;
  g_autofree char *key_path = NULL;
  g_autofree char *certificate_path = NULL;
  g_autofree char *provider_path = NULL;
  g_autofree char *payload_path = NULL;
  g_autofree char *fingerprint = NULL;
  g_autoptr(GBytes) certificate = NULL;
  gboolean reject_specimen = FALSE;
  gboolean have_block = FALSE;
  PmOperationalBlock block;
  PmIndicium indicium;
  const GOptionEntry entries[] = {
    { "key", 'k', 0, G_OPTION_ARG_FILENAME, &key_path,
      "The PSD's public key (PEM), as exported by the PSD", "FILE" },
    { "certificate", 'c', 0, G_OPTION_ARG_FILENAME, &certificate_path,
      "The PSD's certificate, checked with --provider-key", "FILE" },
    { "provider-key", 'p', 0, G_OPTION_ARG_FILENAME, &provider_path,
      "The provider's public key (PEM) that issued the certificate", "FILE" },
    { "payload", 0, 0, G_OPTION_ARG_FILENAME, &payload_path,
      "Check raw payload bytes instead of an image", "FILE" },
    { "reject-specimen", 0, 0, G_OPTION_ARG_NONE, &reject_specimen,
      "Treat a specimen indicium as not valid (exit 1)", NULL },
    { NULL },
  };

  setlocale (LC_ALL, "");

  context = g_option_context_new ("[IMAGE.png] - check a postage indicium");
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_description (context,
    "Give either the PSD's public key, or its certificate and the provider's key.\n"
    "Exit status: 0 valid, 1 not valid, 2 the image, key or certificate could not be read.");
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      fprintf (stderr, "postmeter-verify: %s\n", error->message);
      return EXIT_UNREADABLE;
    }

  if ((key_path == NULL) == (certificate_path == NULL)
      || (certificate_path != NULL) != (provider_path != NULL)
      || (payload_path == NULL && argc != 2) || (payload_path != NULL && argc != 1))
    {
      fprintf (stderr, "Usage: postmeter-verify IMAGE.png --key PSD-PUBLIC-KEY.pem\n"
                       "       postmeter-verify IMAGE.png --certificate PSD.cert "
                       "--provider-key PROVIDER.pub\n"
                       "       postmeter-verify --payload INDICIUM.bin --key "
                       "PSD-PUBLIC-KEY.pem\n");
      return EXIT_UNREADABLE;
    }

  if (key_path != NULL)
    {
      key = read_key (key_path, &error);
      if (key == NULL)
        {
          fprintf (stderr, "postmeter-verify: cannot use the key “%s”: %s\n", key_path,
                   error->message);
          return EXIT_UNREADABLE;
        }
    }
  else
    {
      char *contents = NULL;
      gsize length = 0;

      provider = read_key (provider_path, &error);
      if (provider == NULL)
        {
          fprintf (stderr, "postmeter-verify: cannot use the provider key “%s”: %s\n",
                   provider_path, error->message);
          return EXIT_UNREADABLE;
        }
      if (!g_file_get_contents (certificate_path, &contents, &length, &error))
        {
          fprintf (stderr, "postmeter-verify: %s\n", error->message);
          return EXIT_UNREADABLE;
        }
      certificate = g_bytes_new_take (contents, length);
      if (!pm_psd_certificate_verify (certificate, provider, &key, &block, &error))
        {
          printf ("NOT VALID: the certificate does not hold: %s\n", error->message);
          return EXIT_INVALID;
        }
      have_block = TRUE;
      printf ("Certificate: meter %s%08u, certificate serial %u, origin ZIP %05u, "
              "issued by the provider\n", block.psd_model, block.psd_serial,
              block.certificate_serial, block.origin_zip);
    }

  if (payload_path != NULL)
    {
      char *contents = NULL;
      gsize length = 0;

      if (!g_file_get_contents (payload_path, &contents, &length, &error))
        {
          fprintf (stderr, "postmeter-verify: %s\n", error->message);
          return EXIT_UNREADABLE;
        }
      payload = g_bytes_new_take (contents, length);
    }
  else
    {
      payload = pm_indicium_scan_png (argv[1], &error);
      if (payload == NULL)
        {
          fprintf (stderr, "postmeter-verify: %s\n", error->message);
          printf ("UNREADABLE: %s\n", error->message);
          return EXIT_UNREADABLE;
        }
    }

  printf ("Indicium: %" G_GSIZE_FORMAT " bytes\n", g_bytes_get_size (payload));

  if (!pm_indicium_decode (g_bytes_get_data (payload, NULL), g_bytes_get_size (payload),
                           &indicium, &error))
    {
      printf ("NOT VALID: the symbol does not hold a Postmeter indicium: %s\n",
              error->message);
      return EXIT_INVALID;
    }

  print_fields (&indicium);
  fingerprint = pm_verify_key_fingerprint (key);

  if (!pm_indicium_verify (g_bytes_get_data (payload, NULL), g_bytes_get_size (payload), key,
                           NULL, &error))
    {
      printf ("NOT VALID: %s (key %.16s…)\n", error->message, fingerprint);
      return EXIT_INVALID;
    }

  if (have_block && !check_against_block (&indicium, &block, &error))
    {
      printf ("NOT VALID: %s\n", error->message);
      return EXIT_INVALID;
    }

  if (indicium.flags & PM_INDICIUM_FLAG_SPECIMEN)
    {
      printf ("SIGNATURE VALID (key %.16s…), but this is a SPECIMEN, NOT VALID POSTAGE\n",
              fingerprint);
      return reject_specimen ? EXIT_INVALID : EXIT_VALID;
    }

  printf ("VALID: signature verified with the PSD's key %.16s…\n", fingerprint);
  return EXIT_VALID;
}
