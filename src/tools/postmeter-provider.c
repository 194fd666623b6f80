/* postmeter-provider: the provider's side of a PSD, on the command line
 *
 * For demonstrations and tests, what the data center does over the network:
 *
 *   postmeter-provider keygen --out PROVIDER.key [--public PROVIDER.pub]
 *   postmeter-provider operational-block --key PROVIDER.key --psd-key PSD.pub --serial N
 *       [--certificate-serial N] [--zip 60601] [--profile ibi|imi] [--max-funds 1000.00]
 *       [--max-postage 100.00] --out BLOCK.bin
 *   postmeter-provider refill --key PROVIDER.key --serial N --sequence N --amount 100.00
 *       --out REFILL.bin
 *   postmeter-provider audit-answer --key PROVIDER.key --psd-key PSD.pub --request REQUEST.bin
 *       [--lock] --out ANSWER.bin
 *   postmeter-provider show MESSAGE.bin [--key PUBLIC.pem]
 *
 * Messages are the binary records of pm-psd-message.h. Amounts are dollars ("100.00").
 */
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <glib/gstdio.h>

#include "pm-clock.h"
#include "pm-psd-message.h"

static char *opt_key;
static char *opt_public;
static char *opt_psd_key;
static char *opt_out;
static char *opt_request;
static char *opt_zip = "60601";
static char *opt_profile = "ibi";
static char *opt_max_funds = "1000.00";
static char *opt_max_postage = "100.00";
static char *opt_amount;
static gint64 opt_serial = -1;
static gint64 opt_certificate_serial = 1;
static gint64 opt_sequence = -1;
static gboolean opt_lock;

static const GOptionEntry entries[] = {
  { "key", 'k', 0, G_OPTION_ARG_FILENAME, &opt_key, "Provider key (PEM), private to sign, "
    "public to check", "FILE" },
  { "out", 'o', 0, G_OPTION_ARG_FILENAME, &opt_out, "Where to write the result", "FILE" },
  { "public", 0, 0, G_OPTION_ARG_FILENAME, &opt_public, "keygen: also write the public key",
    "FILE" },
  { "psd-key", 0, 0, G_OPTION_ARG_FILENAME, &opt_psd_key, "The PSD's public key (PEM)",
    "FILE" },
  { "serial", 0, 0, G_OPTION_ARG_INT64, &opt_serial, "The PSD's serial number", "N" },
  { "certificate-serial", 0, 0, G_OPTION_ARG_INT64, &opt_certificate_serial,
    "The serial of the PSD's key certificate (default 1)", "N" },
  { "zip", 0, 0, G_OPTION_ARG_STRING, &opt_zip, "Origin (licensing) ZIP (default 60601)",
    "ZIP" },
  { "profile", 0, 0, G_OPTION_ARG_STRING, &opt_profile,
    "ibi (inspection 90 + 30 days, default) or imi (daily, lock at 72 h)", "NAME" },
  { "max-funds", 0, 0, G_OPTION_ARG_STRING, &opt_max_funds,
    "Most funds the PSD may hold (default 1000.00)", "DOLLARS" },
  { "max-postage", 0, 0, G_OPTION_ARG_STRING, &opt_max_postage,
    "Most postage per piece (default 100.00)", "DOLLARS" },
  { "sequence", 0, 0, G_OPTION_ARG_INT64, &opt_sequence, "Refill sequence number", "N" },
  { "amount", 0, 0, G_OPTION_ARG_STRING, &opt_amount, "Refill amount", "DOLLARS" },
  { "request", 0, 0, G_OPTION_ARG_FILENAME, &opt_request, "The PSD's audit request", "FILE" },
  { "lock", 0, 0, G_OPTION_ARG_NONE, &opt_lock, "audit-answer: order the PSD locked", NULL },
  { NULL },
};

static gboolean
fail (const char *message)
{
  fprintf (stderr, "postmeter-provider: %s\n", message);
  return FALSE;
}

static GBytes *
read_file (const char  *path,
           GError     **error)
{
  char *contents = NULL;
  gsize length = 0;

  if (!g_file_get_contents (path, &contents, &length, error))
    return NULL;

  return g_bytes_new_take (contents, length);
}

static PmSigningKey *
load_signing_key (GError **error)
{
  g_autofree char *pem = NULL;

  if (!g_file_get_contents (opt_key, &pem, NULL, error))
    return NULL;

  return pm_signing_key_new_from_pem (pem, -1, error);
}

static PmVerifyKey *
load_verify_key (const char  *path,
                 GError     **error)
{
  g_autofree char *pem = NULL;

  if (!g_file_get_contents (path, &pem, NULL, error))
    return NULL;

  return pm_verify_key_new_from_pem (pem, -1, error);
}

static gboolean
write_output (GBytes  *bytes,
              GError **error)
{
  return g_file_set_contents (opt_out, g_bytes_get_data (bytes, NULL),
                              (gssize) g_bytes_get_size (bytes), error);
}

static gboolean
parse_dollars (const char  *text,
               const char  *what,
               PmMills     *out,
               GError     **error)
{
  if (!pm_money_parse (text, out, error))
    {
      g_prefix_error (error, "%s “%s”: ", what, text);
      return FALSE;
    }

  return TRUE;
}

static gboolean
do_keygen (GError **error)
{
  g_autoptr(PmSigningKey) key = NULL;
  g_autoptr(GBytes) pem = NULL;

  if (opt_out == NULL)
    return fail ("keygen needs --out");

  key = pm_signing_key_generate (error);
  if (key == NULL)
    return FALSE;
  pem = pm_signing_key_to_pem (key);
  if (!write_output (pem, error))
    return FALSE;
  g_chmod (opt_out, 0600);

  if (opt_public != NULL)
    {
      g_autoptr(PmVerifyKey) public_key = pm_signing_key_get_verify_key (key);
      g_autoptr(GBytes) public_pem = pm_verify_key_to_pem (public_key);

      if (!g_file_set_contents (opt_public, g_bytes_get_data (public_pem, NULL),
                                (gssize) g_bytes_get_size (public_pem), error))
        return FALSE;
    }

  return TRUE;
}

static gboolean
do_operational_block (GError **error)
{
  g_autoptr(PmSigningKey) key = NULL;
  g_autoptr(PmVerifyKey) psd_key = NULL;
  g_autoptr(GBytes) message = NULL;
  PmOperationalBlock block = { 0 };
  guint64 zip;

  if (opt_key == NULL || opt_psd_key == NULL || opt_serial < 0 || opt_out == NULL)
    return fail ("operational-block needs --key, --psd-key, --serial and --out");

  if (!g_ascii_string_to_unsigned (opt_zip, 10, 0, 99999, &zip, NULL) || strlen (opt_zip) != 5)
    return fail ("--zip must be 5 digits");

  if (g_strcmp0 (opt_profile, "ibi") == 0)
    pm_operational_block_set_profile (&block, PM_POSTAL_PROFILE_IBI);
  else if (g_strcmp0 (opt_profile, "imi") == 0)
    pm_operational_block_set_profile (&block, PM_POSTAL_PROFILE_IMI);
  else
    return fail ("--profile must be ibi or imi");

  if (!parse_dollars (opt_max_funds, "--max-funds", &block.max_funds, error)
      || !parse_dollars (opt_max_postage, "--max-postage", &block.max_postage, error))
    return FALSE;

  key = load_signing_key (error);
  if (key == NULL)
    return FALSE;
  psd_key = load_verify_key (opt_psd_key, error);
  if (psd_key == NULL)
    return FALSE;

  block.psd_serial = (guint32) opt_serial;
  memcpy (block.psd_model, "PMSW", 5);
  pm_psd_key_digest (psd_key, block.psd_key_digest);
  block.certificate_serial = (guint32) opt_certificate_serial;
  block.origin_zip = (guint32) zip;
  block.issued_at = pm_clock_now_s ();

  message = pm_operational_block_sign (&block, key, error);
  return message != NULL && write_output (message, error);
}

static gboolean
do_refill (GError **error)
{
  g_autoptr(PmSigningKey) key = NULL;
  g_autoptr(GBytes) message = NULL;
  PmPostageValueDownload download = { 0 };

  if (opt_key == NULL || opt_serial < 0 || opt_sequence < 1 || opt_amount == NULL
      || opt_out == NULL)
    return fail ("refill needs --key, --serial, --sequence (1 or more), --amount and --out");

  if (!parse_dollars (opt_amount, "--amount", &download.amount, error))
    return FALSE;

  key = load_signing_key (error);
  if (key == NULL)
    return FALSE;

  download.psd_serial = (guint32) opt_serial;
  download.sequence = (guint32) opt_sequence;
  download.issued_at = pm_clock_now_s ();

  message = pm_postage_value_download_sign (&download, key, error);
  return message != NULL && write_output (message, error);
}

static gboolean
do_audit_answer (GError **error)
{
  g_autoptr(PmSigningKey) key = NULL;
  g_autoptr(PmVerifyKey) psd_key = NULL;
  g_autoptr(GBytes) request_bytes = NULL;
  g_autoptr(GBytes) message = NULL;
  PmAuditRequest request;
  PmAuditAnswer answer;

  if (opt_key == NULL || opt_psd_key == NULL || opt_request == NULL || opt_out == NULL)
    return fail ("audit-answer needs --key, --psd-key, --request and --out");

  key = load_signing_key (error);
  if (key == NULL)
    return FALSE;
  psd_key = load_verify_key (opt_psd_key, error);
  if (psd_key == NULL)
    return FALSE;
  request_bytes = read_file (opt_request, error);
  if (request_bytes == NULL)
    return FALSE;

  if (!pm_audit_request_verify (request_bytes, psd_key, &request, error))
    return FALSE;

  /* The reference data center also compares the registers with its own records; this tool
   * only checks that they balance. */
  if (request.control_sum != request.ascending + request.descending + request.refunded)
    return fail ("the PSD's registers do not balance; refusing to pass the audit");

  pm_audit_answer_init_for_request (&answer, &request, request_bytes);
  answer.answered_at = pm_clock_now_s ();
  answer.result = opt_lock ? PM_AUDIT_RESULT_LOCK : PM_AUDIT_RESULT_ACCEPTED;

  message = pm_audit_answer_sign (&answer, key, error);
  return message != NULL && write_output (message, error);
}

static gboolean
do_show (const char  *path,
         GError     **error)
{
  g_autoptr(GBytes) message = read_file (path, error);
  g_autoptr(PmVerifyKey) key = NULL;
  PmPsdMessageKind kind;

  if (message == NULL || !pm_psd_message_peek_kind (message, &kind, error))
    return FALSE;

  if (opt_key == NULL)
    return fail ("show needs --key: the public key of whoever signed the message");
  key = load_verify_key (opt_key, error);
  if (key == NULL)
    return FALSE;

  switch (kind)
    {
    case PM_PSD_MESSAGE_OPERATIONAL_BLOCK:
      {
        PmOperationalBlock b;

        if (!pm_operational_block_verify (message, key, &b, error))
          return FALSE;
        printf ("operational block for PSD %s%08u: certificate %u, origin ZIP %05u, "
                "profile %s, warning after %us, lock after %us, maximum funds %"
                G_GINT64_FORMAT " mills, maximum postage %" G_GINT64_FORMAT " mills\n",
                b.psd_model, b.psd_serial, b.certificate_serial, b.origin_zip,
                b.profile == PM_POSTAL_PROFILE_IMI ? "IMI" : "IBI", b.warning_after_s,
                b.lock_after_s, b.max_funds, b.max_postage);
        break;
      }
    case PM_PSD_MESSAGE_POSTAGE_VALUE_DOWNLOAD:
      {
        PmPostageValueDownload d;

        if (!pm_postage_value_download_verify (message, key, &d, error))
          return FALSE;
        printf ("refill for PSD %u: sequence %u, %" G_GINT64_FORMAT " mills\n",
                d.psd_serial, d.sequence, d.amount);
        break;
      }
    case PM_PSD_MESSAGE_AUDIT_REQUEST:
      {
        PmAuditRequest r;

        if (!pm_audit_request_verify (message, key, &r, error))
          return FALSE;
        printf ("audit request from PSD %u: AR %" G_GINT64_FORMAT ", DR %" G_GINT64_FORMAT
                ", control sum %" G_GINT64_FORMAT ", refunded %" G_GINT64_FORMAT
                ", %" G_GUINT64_FORMAT " pieces, last date %u, refill sequence %u\n",
                r.psd_serial, r.ascending, r.descending, r.control_sum, r.refunded,
                r.piece_count, r.last_date_used, r.last_refill_sequence);
        break;
      }
    case PM_PSD_MESSAGE_AUDIT_ANSWER:
      {
        PmAuditAnswer a;

        if (!pm_audit_answer_verify (message, key, &a, error))
          return FALSE;
        printf ("audit answer for PSD %u: %s\n", a.psd_serial,
                a.result == PM_AUDIT_RESULT_ACCEPTED ? "accepted" : "lock");
        break;
      }
    case PM_PSD_MESSAGE_WITHDRAWAL_RECORD:
      {
        PmWithdrawalRecord w;

        if (!pm_withdrawal_record_verify (message, key, &w, error))
          return FALSE;
        printf ("withdrawal of PSD %u: refunded %" G_GINT64_FORMAT " mills, AR %"
                G_GINT64_FORMAT ", %" G_GUINT64_FORMAT " pieces\n",
                w.psd_serial, w.refunded, w.ascending, w.piece_count);
        break;
      }
    default:
      return fail ("unknown message kind");
    }

  printf ("signature valid\n");
  return TRUE;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  const char *command;
  gboolean ok;

  setlocale (LC_ALL, "");

  context = g_option_context_new ("COMMAND - make provider messages for a PSD");
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_description (context,
    "Commands: keygen, operational-block, refill, audit-answer, show FILE");
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      fprintf (stderr, "postmeter-provider: %s\n", error->message);
      return 2;
    }

  if (argc < 2)
    {
      fprintf (stderr, "postmeter-provider: give a command: keygen, operational-block, "
                       "refill, audit-answer or show (see --help)\n");
      return 2;
    }

  command = argv[1];
  if (g_str_equal (command, "keygen"))
    ok = do_keygen (&error);
  else if (g_str_equal (command, "operational-block"))
    ok = do_operational_block (&error);
  else if (g_str_equal (command, "refill"))
    ok = do_refill (&error);
  else if (g_str_equal (command, "audit-answer"))
    ok = do_audit_answer (&error);
  else if (g_str_equal (command, "show") && argc == 3)
    ok = do_show (argv[2], &error);
  else
    {
      fprintf (stderr, "postmeter-provider: unknown command “%s” (see --help)\n", command);
      return 2;
    }

  if (!ok)
    {
      if (error != NULL)
        fprintf (stderr, "postmeter-provider: %s\n", error->message);
      return 1;
    }

  return 0;
}
