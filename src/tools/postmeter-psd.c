/* postmeter-psd: the meter's software PSD, from a terminal
 *
 *   postmeter-psd --state-dir=DIR [--provider-key=PUB.pem] status
 *   postmeter-psd --state-dir=DIR [--provider-key=PUB.pem] export-key PSD.pub
 *   postmeter-psd --state-dir=DIR [--provider-key=PUB.pem] install-block BLOCK.bin
 *   postmeter-psd --state-dir=DIR [--provider-key=PUB.pem] refill REFILL.bin
 *
 * The PSD side of what postmeter-provider makes: its serial and public key for the
 * provider, then the signed operational block and refills, which the PSD checks against
 * the provider's key before it applies them. A new PSD is made in DIR/psd on first use;
 * it remembers the provider key it was made with. Run it while the kiosk is stopped.
 *
 * Exit status: 0 done, 1 refused by the PSD, 2 the PSD or a file could not be read.
 */
#include <locale.h>
#include <stdio.h>

#include "pm-software-psd.h"

static char *opt_state_dir;
static char *opt_provider_key;

static const GOptionEntry options[] = {
  { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &opt_state_dir,
    "Folder of the meter (the PSD is in its psd folder)", "DIR" },
  { "provider-key", 0, 0, G_OPTION_ARG_FILENAME, &opt_provider_key,
    "The provider's public key (PEM), for a new PSD", "FILE" },
  { NULL }
};

static void
print_status (const PmPsdStatus *status)
{
  printf ("serial %u\n", status->serial);
  printf ("operational-block %s\n", status->has_operational_block ? "yes" : "no");
  if (status->has_operational_block)
    printf ("origin-zip %05u\n", status->origin_zip);
  printf ("descending %" G_GINT64_FORMAT "\n", status->descending);
  printf ("ascending %" G_GINT64_FORMAT "\n", status->ascending);
  printf ("piece-count %" G_GUINT64_FORMAT "\n", status->piece_count);
  printf ("last-refill-sequence %u\n", status->last_refill_sequence);
  printf ("locked %s\n", pm_psd_status_is_locked (status) ? "yes" : "no");
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(PmVerifyKey) provider = NULL;
  g_autoptr(PmSoftwarePsd) psd = NULL;
  g_autoptr(PmPsdStatus) status = NULL;
  g_autofree char *psd_dir = NULL;
  const char *command;

  setlocale (LC_ALL, "");
  context = g_option_context_new ("status | export-key FILE | install-block FILE | "
                                  "refill FILE");
  g_option_context_add_main_entries (context, options, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || argc < 2
      || opt_state_dir == NULL)
    {
      fprintf (stderr, "postmeter-psd: %s\n",
               error != NULL ? error->message : "give --state-dir and a command");
      return 2;
    }
  command = argv[1];

  if (opt_provider_key != NULL)
    {
      g_autofree char *pem = NULL;

      if (!g_file_get_contents (opt_provider_key, &pem, NULL, &error)
          || (provider = pm_verify_key_new_from_pem (pem, -1, &error)) == NULL)
        {
          fprintf (stderr, "postmeter-psd: %s\n", error->message);
          return 2;
        }
    }

  psd_dir = g_build_filename (opt_state_dir, "psd", NULL);
  if (g_mkdir_with_parents (psd_dir, 0700) != 0)
    {
      fprintf (stderr, "postmeter-psd: cannot create %s\n", psd_dir);
      return 2;
    }
  psd = pm_software_psd_open (psd_dir, provider, 0, &error);
  if (psd == NULL)
    {
      fprintf (stderr, "postmeter-psd: %s\n", error->message);
      return 2;
    }

  if (g_strcmp0 (command, "status") == 0 && argc == 2)
    status = pm_psd_get_status_sync (PM_PSD (psd), &error);
  else if (g_strcmp0 (command, "export-key") == 0 && argc == 3)
    {
      if (!pm_software_psd_export_public_key (psd, argv[2], &error))
        {
          fprintf (stderr, "postmeter-psd: %s\n", error->message);
          return 2;
        }
      status = pm_psd_get_status_sync (PM_PSD (psd), &error);
    }
  else if ((g_strcmp0 (command, "install-block") == 0 || g_strcmp0 (command, "refill") == 0)
           && argc == 3)
    {
      g_autofree char *contents = NULL;
      gsize length = 0;
      g_autoptr(GBytes) message = NULL;

      if (!g_file_get_contents (argv[2], &contents, &length, &error))
        {
          fprintf (stderr, "postmeter-psd: %s\n", error->message);
          return 2;
        }
      message = g_bytes_new_take (g_steal_pointer (&contents), length);
      if (g_strcmp0 (command, "refill") == 0)
        status = pm_psd_refill_sync (PM_PSD (psd), message, &error);
      else
        status = pm_psd_install_operational_block_sync (PM_PSD (psd), message, &error);
    }
  else
    {
      fprintf (stderr, "postmeter-psd: unknown command or wrong arguments (see --help)\n");
      return 2;
    }

  if (status == NULL)
    {
      fprintf (stderr, "postmeter-psd: the PSD refused: %s\n", error->message);
      return 1;
    }

  print_status (status);
  return 0;
}
