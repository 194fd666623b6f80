/* postmeter-admin: users and the audit log of a meter, from a terminal
 *
 *   postmeter-admin [--state-dir=DIR] set-up NAME
 *   postmeter-admin [--state-dir=DIR] add-user NAME ROLE
 *   postmeter-admin [--state-dir=DIR] list-users
 *   postmeter-admin [--state-dir=DIR] audit [--verify-only]
 *   postmeter-admin [--state-dir=DIR] status
 *   postmeter-admin [--state-dir=DIR] refill AMOUNT
 *
 * set-up makes the first supervisor of a meter that has no users, as the first-start
 * screen does. add-user adds an operator, supervisor or support user; a supervisor
 * authorises it by signing in with their own code. Codes are read from standard input,
 * one a line (set-up: the new code; add-user: the supervisor's code, then the new
 * user's), never from the command line, where other users could read them. On a
 * terminal the codes are asked for without echo.
 *
 * status prints the registers of the meter's software PSD (<state-dir>/psd). refill, for
 * support and the demo, refills it through the provider's data center exactly as the
 * kiosk's Funds page does: a supervisor signs in with their code (standard input), the
 * connection is made from the kiosk's own settings (data center, connectivity check, CA,
 * provider key; an empty provider key is the demonstration key that comes with
 * Postmeter), the PSD gets its operational block first when it has none, and the signed
 * refill goes to the PSD, which alone decides whether to apply it. The block and the
 * refill are written to the audit log under the supervisor's name.
 *
 * Everything goes through the same access workflow as the kiosk: codes are hashed with
 * the same KDF, the lockout after wrong codes applies, and every change is written to
 * the audit log. Run it while the kiosk is stopped: the store expects one program.
 *
 * The state folder is --state-dir, else the GSettings key state-directory, else
 * XDG_DATA_HOME/postmeter, as for the kiosk.
 *
 * Exit status: 0 done, 1 refused (wrong code, lockout, bad input, a broken audit chain),
 * 2 the meter's database could not be used, 3 the PSD could not be opened or refused,
 * 4 the data center could not be reached or refused.
 */
#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "pm-access.h"
#include "pm-connection.h"
#include "pm-funds-flow.h"
#include "pm-money.h"
#include "pm-settings-keys.h"
#include "pm-software-psd.h"
#include "pm-store-audit.h"

#define STORE_FILE_NAME "postmeter.db"
#define PSD_FOLDER_NAME "psd"
#define PSD_STATE_FILE "state"
#define PACKAGES_DIR_NAME "packages"
#define PROVIDER_KEY_FILE "keys/demo-provider.pub"

/* What this tool writes to the audit log besides the access workflow's own rows. */
#define AUDIT_PSD_BLOCK "psd-operational-block"
#define AUDIT_PSD_REFILL "psd-refill"

enum
{
  EXIT_DONE = 0,
  EXIT_REFUSED = 1,
  EXIT_STORE = 2,
  EXIT_PSD = 3,
  EXIT_DATACENTER = 4,
};

static char *opt_state_dir;
static gboolean opt_verify_only;
static gboolean opt_verbose;

static const GOptionEntry options[] = {
  { "state-dir", 0, G_OPTION_FLAG_NONE, G_OPTION_ARG_FILENAME, &opt_state_dir,
    "Folder of the meter's store (as postmeter --state-dir)", "DIR" },
  { "verify-only", 0, G_OPTION_FLAG_NONE, G_OPTION_ARG_NONE, &opt_verify_only,
    "audit: check the chain without printing the rows", NULL },
  { "verbose", 'v', G_OPTION_FLAG_NONE, G_OPTION_ARG_NONE, &opt_verbose,
    "Also print the workflow's own messages (sign-ins, changes)", NULL },
  { NULL }
};

/* The workflow's messages say what the command prints anyway; they are shown with
 * --verbose. Warnings always are. */
static GLogWriterOutput
quiet_writer (GLogLevelFlags   level,
              const GLogField *fields,
              gsize            n_fields,
              gpointer         user_data)
{
  if (!opt_verbose && (level & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO)))
    return G_LOG_WRITER_HANDLED;

  return g_log_writer_default (level, fields, n_fields, user_data);
}

/* ---- Waiting for the asynchronous workflow ---- */

static void
got_result_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static GAsyncResult *
wait_for (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);

  return *slot;
}

/* ---- Codes from standard input ---- */

/* One line of standard input, without its newline; NULL at the end of input. On a
 * terminal, @prompt goes to stderr and the typing is not echoed. */
static char *
read_code (const char *prompt)
{
  char line[64];
  struct termios saved, quiet;
  gboolean terminal = isatty (STDIN_FILENO);
  gboolean got;
  char *code;

  if (terminal)
    {
      fprintf (stderr, "%s: ", prompt);
      fflush (stderr);
      if (tcgetattr (STDIN_FILENO, &saved) == 0)
        {
          quiet = saved;
          quiet.c_lflag &= ~(tcflag_t) ECHO;
          tcsetattr (STDIN_FILENO, TCSAFLUSH, &quiet);
        }
      else
        terminal = FALSE;
    }

  got = fgets (line, sizeof line, stdin) != NULL;

  if (terminal)
    {
      tcsetattr (STDIN_FILENO, TCSAFLUSH, &saved);
      fputc ('\n', stderr);
    }

  if (!got)
    return NULL;

  line[strcspn (line, "\r\n")] = '\0';
  code = g_strdup (line);
  OPENSSL_cleanse (line, sizeof line);
  return code;
}

static void
wipe_code (char *code)
{
  if (code == NULL)
    return;

  OPENSSL_cleanse (code, strlen (code));
  g_free (code);
}

/* A code read from the input: wiped, then freed, when it goes out of scope. */
typedef char *Code;
G_DEFINE_AUTO_CLEANUP_FREE_FUNC (Code, wipe_code, NULL)

/* ---- Opening the meter's store ---- */

static char *
resolve_state_dir (void)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = NULL;

  if (opt_state_dir != NULL && *opt_state_dir != '\0')
    return g_canonicalize_filename (opt_state_dir, NULL);

  /* The kiosk's setting, when its schema is installed. */
  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, PM_SETTINGS_SCHEMA, TRUE);
  if (schema != NULL)
    {
      g_autoptr(GSettings) settings = g_settings_new (PM_SETTINGS_SCHEMA);
      g_autofree char *configured = g_settings_get_string (settings,
                                                           PM_SETTINGS_STATE_DIRECTORY);

      if (*configured != '\0')
        return g_steal_pointer (&configured);
    }

  return g_build_filename (g_get_user_data_dir (), "postmeter", NULL);
}

static PmStore *
open_store (const char *state_dir,
            GError    **error)
{
  g_autofree char *path = NULL;

  if (g_mkdir_with_parents (state_dir, 0700) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                   "Could not create the data folder %s: %s", state_dir,
                   g_strerror (saved_errno));
      return NULL;
    }

  path = g_build_filename (state_dir, STORE_FILE_NAME, NULL);
  return pm_store_open (path, error);
}

/* ---- Commands ---- */

static gboolean
parse_role (const char *text,
            PmRole     *out_role)
{
  for (PmRole role = PM_ROLE_OPERATOR; role <= PM_ROLE_SUPPORT; role++)
    if (g_strcmp0 (text, pm_role_to_string (role)) == 0)
      {
        *out_role = role;
        return TRUE;
      }

  return FALSE;
}

static int
refused (const GError *error)
{
  fprintf (stderr, "postmeter-admin: %s\n", error->message);
  return g_error_matches (error, PM_ACCESS_ERROR, PM_ACCESS_ERROR_STORE) ? EXIT_STORE
                                                                          : EXIT_REFUSED;
}

static int
set_up (PmAccess   *access,
        const char *name)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(PmUser) user = NULL;
  g_auto(Code) code = read_code ("Access code for the new supervisor");

  if (code == NULL)
    {
      fprintf (stderr, "postmeter-admin: set-up needs the new code on standard input\n");
      return EXIT_REFUSED;
    }

  pm_access_set_up_async (access, name, code, NULL, got_result_cb, &result);
  user = pm_access_set_up_finish (access, wait_for (&result), &error);
  if (user == NULL)
    return refused (error);

  printf ("%s is set up as supervisor (user %" G_GINT64_FORMAT ")\n", user->name,
          user->id);
  return EXIT_DONE;
}

static int
add_user (PmAccess   *access,
          const char *name,
          const char *role_text)
{
  g_autoptr(GAsyncResult) signed_in = NULL;
  g_autoptr(GAsyncResult) added = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(PmUser) actor = NULL;
  g_autoptr(PmUser) user = NULL;
  g_auto(Code) actor_code = NULL;
  g_auto(Code) code = NULL;
  PmRole role;

  if (!parse_role (role_text, &role))
    {
      fprintf (stderr, "postmeter-admin: the role is operator, supervisor or support, "
                       "not “%s”\n", role_text);
      return EXIT_REFUSED;
    }

  actor_code = read_code ("Your supervisor code");
  code = read_code ("Access code for the new user");
  if (actor_code == NULL || code == NULL)
    {
      fprintf (stderr, "postmeter-admin: add-user needs two codes on standard input: "
                       "a supervisor's, then the new user's\n");
      return EXIT_REFUSED;
    }

  /* The supervisor signs in like at the keypad: a wrong code counts towards the
   * lockout, and the sign-in is in the audit log. */
  pm_access_sign_in_async (access, actor_code, NULL, got_result_cb, &signed_in);
  actor = pm_access_sign_in_finish (access, wait_for (&signed_in), &error);
  if (actor == NULL)
    return refused (error);

  pm_access_add_user_async (access, actor, name, role, code, NULL, got_result_cb, &added);
  user = pm_access_add_user_finish (access, wait_for (&added), &error);
  pm_access_sign_out (access, actor, "postmeter-admin");
  if (user == NULL)
    return refused (error);

  printf ("%s is added as %s (user %" G_GINT64_FORMAT ")\n", user->name,
          pm_role_to_string (user->role), user->id);
  return EXIT_DONE;
}

static int
list_users (PmAccess *access)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) users = NULL;

  pm_access_list_users_async (access, NULL, got_result_cb, &result);
  users = pm_access_list_users_finish (access, wait_for (&result), &error);
  if (users == NULL)
    return refused (error);

  for (guint i = 0; i < users->len; i++)
    {
      PmUser *user = g_ptr_array_index (users, i);

      printf ("%" G_GINT64_FORMAT "\t%s\t%s\t%s\n", user->id,
              pm_role_to_string (user->role), user->active ? "active" : "disabled",
              user->name);
    }

  return EXIT_DONE;
}

static int
audit (PmStore *store)
{
  g_autoptr(GError) error = NULL;
  gint64 rows = 0, first_broken = 0, after = 0;

  while (!opt_verify_only)
    {
      g_autoptr(GPtrArray) entries = pm_store_list_audit (store, after, 500, &error);

      if (entries == NULL)
        {
          fprintf (stderr, "postmeter-admin: %s\n", error->message);
          return EXIT_STORE;
        }
      if (entries->len == 0)
        break;

      for (guint i = 0; i < entries->len; i++)
        {
          PmAuditEntry *entry = g_ptr_array_index (entries, i);
          g_autoptr(GDateTime) at = g_date_time_new_from_unix_local (entry->at_us / G_USEC_PER_SEC);
          g_autofree char *when = g_date_time_format (at, "%Y-%m-%d %H:%M:%S");

          printf ("%" G_GINT64_FORMAT "\t%s\t%s\t%" G_GINT64_FORMAT "\t%s\n", entry->id,
                  when, entry->event, entry->user_id,
                  entry->detail != NULL ? entry->detail : "");
          after = entry->id;
        }
    }

  if (!pm_store_verify_audit_log (store, &rows, &first_broken, &error))
    {
      fprintf (stderr, "postmeter-admin: %s\n", error->message);
      return g_error_matches (error, PM_STORE_ERROR, PM_STORE_ERROR_AUDIT_CHAIN_BROKEN)
             ? EXIT_REFUSED : EXIT_STORE;
    }

  fprintf (opt_verify_only ? stdout : stderr,
           "The audit log's chain is whole: %" G_GINT64_FORMAT " rows\n", rows);
  return EXIT_DONE;
}

/* ---- The PSD and the data center ---- */

/* A string setting of the kiosk; NULL when it is empty or the schema is not installed. */
static char *
kiosk_setting (const char *key)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = NULL;
  g_autoptr(GSettings) settings = NULL;
  g_autofree char *value = NULL;

  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, PM_SETTINGS_SCHEMA, TRUE);
  if (schema == NULL)
    return NULL;

  settings = g_settings_new (PM_SETTINGS_SCHEMA);
  value = g_settings_get_string (settings, key);
  return *value != '\0' ? g_steal_pointer (&value) : NULL;
}

/* The provider key as the kiosk finds it: the setting, else the demonstration key that
 * is installed with Postmeter, else (from the build tree) the source tree's. */
static char *
provider_key_file (void)
{
  g_autofree char *installed = NULL;
  char *configured = kiosk_setting (PM_SETTINGS_PROVIDER_KEY_FILE);

  if (configured != NULL)
    return configured;

  installed = g_build_filename (PM_DATADIR, PROVIDER_KEY_FILE, NULL);
  if (g_file_test (installed, G_FILE_TEST_EXISTS))
    return g_steal_pointer (&installed);

  return g_build_filename (PM_SOURCE_DATADIR, PROVIDER_KEY_FILE, NULL);
}

/* Opens the software PSD the kiosk uses. A folder without a PSD is refused rather than
 * given a new one: a new PSD is made by the kiosk or by the provider's registration. */
static PmSoftwarePsd *
open_psd (const char *state_dir,
          GError    **error)
{
  g_autofree char *psd_dir = g_build_filename (state_dir, PSD_FOLDER_NAME, NULL);
  g_autofree char *state_file = g_build_filename (psd_dir, PSD_STATE_FILE, NULL);
  g_autofree char *key_file = provider_key_file ();
  g_autofree char *pem = NULL;
  g_autoptr(PmVerifyKey) key = NULL;

  if (!g_file_test (state_file, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                   "There is no PSD in %s: start the kiosk once, or register one with the "
                   "provider", psd_dir);
      return NULL;
    }

  if (!g_file_get_contents (key_file, &pem, NULL, error)
      || (key = pm_verify_key_new_from_pem (pem, -1, error)) == NULL)
    {
      g_prefix_error (error, "Could not read the provider key %s: ", key_file);
      return NULL;
    }

  return pm_software_psd_open (psd_dir, key, 0, error);
}

static PmPsdStatus *
get_psd_status (PmPsd   *psd,
                GError **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  pm_psd_get_status_async (psd, NULL, got_result_cb, &result);
  return pm_psd_get_status_finish (psd, wait_for (&result), error);
}

static void
print_money (const char *name,
             PmMills     mills)
{
  g_autofree char *text = pm_money_format (mills);

  printf ("%s %s\n", name, text);
}

static void
print_date (const char *name,
            gint64      unix_seconds)
{
  g_autoptr(GDateTime) at = NULL;
  g_autofree char *text = NULL;

  if (unix_seconds <= 0)
    {
      printf ("%s never\n", name);
      return;
    }
  at = g_date_time_new_from_unix_utc (unix_seconds);
  text = g_date_time_format (at, "%Y-%m-%d %H:%M:%S UTC");
  printf ("%s %s\n", name, text);
}

/* One register a line, "name value", so scripts can pick one with sed or grep. */
static void
print_psd_status (const PmPsdStatus *status)
{
  printf ("serial %u\n", status->serial);
  printf ("model %s\n", status->model);
  printf ("specimen %s\n", status->specimen ? "yes" : "no");
  printf ("operational-block %s\n", status->has_operational_block ? "yes" : "no");
  if (status->has_operational_block)
    {
      printf ("origin-zip %05u\n", status->origin_zip);
      print_money ("max-funds", status->max_funds);
      print_money ("max-postage", status->max_postage);
    }
  print_money ("descending", status->descending);
  print_money ("ascending", status->ascending);
  print_money ("control-sum", status->control_sum);
  print_money ("refunded", status->refunded);
  printf ("piece-count %" G_GUINT64_FORMAT "\n", status->piece_count);
  printf ("last-refill-sequence %u\n", status->last_refill_sequence);
  print_date ("last-inspection", status->last_inspection);
  print_date ("inspection-due", status->inspection_due);
  printf ("inspection %s\n", pm_psd_inspection_state_to_string (status->inspection_state));
  if (pm_psd_status_is_locked (status))
    printf ("locked yes (%s)\n", status->lock_message != NULL
                                 ? status->lock_message
                                 : pm_psd_lock_reason_to_string (status->lock_reason));
  else
    printf ("locked no\n");
}

static int
psd_status (const char *state_dir)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PmSoftwarePsd) psd = open_psd (state_dir, &error);
  PmPsdStatus *status;

  if (psd == NULL)
    {
      fprintf (stderr, "postmeter-admin: %s\n", error->message);
      return EXIT_PSD;
    }
  status = get_psd_status (PM_PSD (psd), &error);
  if (status == NULL)
    {
      fprintf (stderr, "postmeter-admin: the PSD did not answer: %s\n", error->message);
      return EXIT_PSD;
    }

  print_psd_status (status);
  pm_psd_status_free (status);
  return EXIT_DONE;
}

/* A connection made from the same settings as the kiosk's. */
static PmConnection *
make_connection (const char *state_dir,
                 PmPsd      *psd,
                 PmStore    *store,
                 GError    **error)
{
  PmConnectionConfig config = { 0 };
  PmConnection *connection;

  config.datacenter_url = kiosk_setting (PM_SETTINGS_DATACENTER_URL);
  if (config.datacenter_url == NULL)
    {
      g_set_error (error, PM_CONNECTION_ERROR, PM_CONNECTION_ERROR_CONFIG,
                   "No data center address is set (setting %s of %s)",
                   PM_SETTINGS_DATACENTER_URL, PM_SETTINGS_SCHEMA);
      return NULL;
    }
  config.connectivity_url = kiosk_setting (PM_SETTINGS_CONNECTIVITY_URL);
  config.ca_file = kiosk_setting (PM_SETTINGS_PROVIDER_CA_FILE);
  config.provider_key_file = provider_key_file ();
  config.install_dir = g_build_filename (state_dir, PACKAGES_DIR_NAME, NULL);

  connection = pm_connection_new (&config, psd, store, error);
  pm_connection_config_clear (&config);
  return connection;
}

/* Signs a supervisor in; NULL (and the exit status) when the code is missing, wrong or
 * not a supervisor's. */
static PmUser *
sign_in_supervisor (PmAccess   *access,
                    const char *command,
                    int        *out_status)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(Code) code = read_code ("Your supervisor code");
  PmUser *user;

  if (code == NULL)
    {
      fprintf (stderr, "postmeter-admin: %s needs a supervisor's code on standard input\n",
               command);
      *out_status = EXIT_REFUSED;
      return NULL;
    }

  pm_access_sign_in_async (access, code, NULL, got_result_cb, &result);
  user = pm_access_sign_in_finish (access, wait_for (&result), &error);
  if (user == NULL)
    {
      *out_status = refused (error);
      return NULL;
    }
  if (user->role != PM_ROLE_SUPERVISOR)
    {
      fprintf (stderr, "postmeter-admin: %s needs a supervisor; %s is %s\n", command,
               user->name, pm_role_to_string (user->role));
      pm_access_sign_out (access, user, "postmeter-admin");
      pm_user_free (user);
      *out_status = EXIT_REFUSED;
      return NULL;
    }

  return user;
}

static void
audit_action (PmStore      *store,
              const char   *event,
              const PmUser *user,
              const char   *detail)
{
  g_autoptr(GError) error = NULL;

  /* The PSD has applied it already; a row that cannot be written is reported, and the
   * store's own refill record still holds what happened. */
  if (!pm_store_append_audit (store, event, user->id, detail, &error))
    g_warning ("Could not write %s to the audit log: %s", event, error->message);
}

/* The data center's or the PSD's refusal, as the exit status says which. */
static int
funds_failed (const char   *what,
              const GError *error)
{
  fprintf (stderr, "postmeter-admin: %s: %s\n", what, error->message);
  return error->domain == PM_CONNECTION_ERROR && error->code == PM_CONNECTION_ERROR_PSD
         ? EXIT_PSD : EXIT_DATACENTER;
}

static int
do_refill (PmStore    *store,
           PmPsd      *psd,
           const char *state_dir,
           PmUser     *user,
           PmMills     amount)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PmConnection) connection = NULL;
  g_autoptr(GAsyncResult) signed_in = NULL;
  g_autoptr(GAsyncResult) refilled = NULL;
  g_autoptr(PmRefillOutcome) outcome = NULL;
  g_autofree char *amount_text = NULL;
  g_autofree char *detail = NULL;
  PmPsdStatus *status;
  gboolean has_block;

  status = get_psd_status (psd, &error);
  if (status == NULL)
    {
      fprintf (stderr, "postmeter-admin: the PSD did not answer: %s\n", error->message);
      return EXIT_PSD;
    }
  has_block = status->has_operational_block;
  pm_psd_status_free (status);

  connection = make_connection (state_dir, psd, store, &error);
  if (connection == NULL)
    {
      fprintf (stderr, "postmeter-admin: %s\n", error->message);
      return EXIT_DATACENTER;
    }

  pm_connection_sign_in_async (connection, NULL, got_result_cb, &signed_in);
  if (!pm_connection_sign_in_finish (connection, wait_for (&signed_in), &error))
    return funds_failed ("the data center did not sign the meter in", error);

  if (!has_block)
    {
      g_autoptr(GAsyncResult) installed = NULL;
      g_autofree char *max_funds = NULL;

      pm_funds_flow_install_block_async (connection, NULL, got_result_cb, &installed);
      status = pm_funds_flow_install_block_finish (connection, wait_for (&installed),
                                                   &error);
      if (status == NULL)
        return funds_failed ("the operational block was not installed", error);

      max_funds = pm_money_format (status->max_funds);
      detail = g_strdup_printf ("PSD %u, origin ZIP %05u, maximum funds %s", status->serial,
                                status->origin_zip, max_funds);
      audit_action (store, AUDIT_PSD_BLOCK, user, detail);
      printf ("Operational block installed: %s\n", detail);
      g_clear_pointer (&detail, g_free);
      pm_psd_status_free (status);
    }

  pm_funds_flow_refill_async (connection, amount, NULL, got_result_cb, &refilled);
  outcome = pm_funds_flow_refill_finish (connection, wait_for (&refilled), &error);
  if (outcome == NULL)
    return funds_failed ("the refill was not applied", error);

  amount_text = pm_money_format (outcome->amount);
  detail = g_strdup_printf ("%s, sequence %" G_GINT64_FORMAT ", receipt %s", amount_text,
                            outcome->sequence, outcome->receipt_id);
  audit_action (store, AUDIT_PSD_REFILL, user, detail);

  printf ("Refilled %s\n", amount_text);
  printf ("receipt %s\n", outcome->receipt_id);
  printf ("sequence %" G_GINT64_FORMAT "\n", outcome->sequence);
  print_date ("issued", outcome->issued_at);
  if (outcome->inspected)
    printf ("inspection done first\n");
  if (outcome->balance >= 0)
    print_money ("account-balance", outcome->balance);
  if (outcome->status != NULL)
    print_money ("descending", outcome->status->descending);
  return EXIT_DONE;
}

static int
refill (PmAccess   *access,
        PmStore    *store,
        const char *state_dir,
        const char *amount_text)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PmSoftwarePsd) psd = NULL;
  PmMills amount = 0;
  PmUser *user;
  int status = EXIT_REFUSED;

  if (!pm_money_parse (amount_text, &amount, &error))
    {
      fprintf (stderr, "postmeter-admin: the amount “%s” is not an amount of money: %s\n",
               amount_text, error->message);
      return EXIT_REFUSED;
    }
  if (amount <= 0)
    {
      fprintf (stderr, "postmeter-admin: a refill is for more than $0.00\n");
      return EXIT_REFUSED;
    }

  user = sign_in_supervisor (access, "refill", &status);
  if (user == NULL)
    return status;

  psd = open_psd (state_dir, &error);
  if (psd == NULL)
    {
      fprintf (stderr, "postmeter-admin: %s\n", error->message);
      status = EXIT_PSD;
    }
  else
    status = do_refill (store, PM_PSD (psd), state_dir, user, amount);

  pm_access_sign_out (access, user, "postmeter-admin");
  pm_user_free (user);
  return status;
}

static void
usage (GOptionContext *context)
{
  g_autofree char *help = g_option_context_get_help (context, TRUE, NULL);

  fputs (help, stderr);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(PmStore) store = NULL;
  g_autoptr(PmAccess) access = NULL;
  g_autofree char *state_dir = NULL;
  const char *command;
  int status;

  setlocale (LC_ALL, "");
  g_log_set_writer_func (quiet_writer, NULL, NULL);

  context = g_option_context_new ("COMMAND [ARGUMENT...]");
  g_option_context_set_summary (context,
    "Users and the audit log of a Postmeter meter.\n\n"
    "Commands:\n"
    "  set-up NAME          make the first supervisor (code on standard input)\n"
    "  add-user NAME ROLE   add an operator, supervisor or support user (a supervisor's\n"
    "                       code, then the new code, on standard input)\n"
    "  list-users           id, role, state and name of every user\n"
    "  audit                print the audit log and check its chain\n"
    "  status               the registers of the meter's software PSD\n"
    "  refill AMOUNT        refill the PSD through the data center (a supervisor's code\n"
    "                       on standard input); installs its operational block first\n"
    "                       when it has none");
  g_option_context_add_main_entries (context, options, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      fprintf (stderr, "postmeter-admin: %s\n", error->message);
      return EXIT_REFUSED;
    }

  command = argc >= 2 ? argv[1] : "";
  if (!((g_strcmp0 (command, "set-up") == 0 && argc == 3) ||
        (g_strcmp0 (command, "add-user") == 0 && argc == 4) ||
        (g_strcmp0 (command, "list-users") == 0 && argc == 2) ||
        (g_strcmp0 (command, "audit") == 0 && argc == 2) ||
        (g_strcmp0 (command, "status") == 0 && argc == 2) ||
        (g_strcmp0 (command, "refill") == 0 && argc == 3)))
    {
      usage (context);
      return EXIT_REFUSED;
    }

  state_dir = resolve_state_dir ();
  store = open_store (state_dir, &error);
  if (store == NULL)
    {
      fprintf (stderr, "postmeter-admin: %s\n", error->message);
      return EXIT_STORE;
    }
  access = pm_access_new (store);

  if (g_strcmp0 (command, "set-up") == 0)
    status = set_up (access, argv[2]);
  else if (g_strcmp0 (command, "add-user") == 0)
    status = add_user (access, argv[2], argv[3]);
  else if (g_strcmp0 (command, "list-users") == 0)
    status = list_users (access);
  else if (g_strcmp0 (command, "status") == 0)
    status = psd_status (state_dir);
  else if (g_strcmp0 (command, "refill") == 0)
    status = refill (access, store, state_dir, argv[2]);
  else
    status = audit (store);

  /* The sign-out's audit row is written before the store closes. */
  g_clear_object (&access);
  pm_store_close (store);
  return status;
}
