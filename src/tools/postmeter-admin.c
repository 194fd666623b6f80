/* postmeter-admin: users and the audit log of a meter, from a terminal
 *
 *   postmeter-admin [--state-dir=DIR] set-up NAME
 *   postmeter-admin [--state-dir=DIR] add-user NAME ROLE
 *   postmeter-admin [--state-dir=DIR] list-users
 *   postmeter-admin [--state-dir=DIR] audit [--verify-only]
 *
 * set-up makes the first supervisor of a meter that has no users, as the first-start
 * screen does. add-user adds an operator, supervisor or support user; a supervisor
 * authorises it by signing in with their own code. Codes are read from standard input,
 * one a line (set-up: the new code; add-user: the supervisor's code, then the new
 * user's), never from the command line, where other users could read them. On a
 * terminal the codes are asked for without echo.
 *
 * Everything goes through the same access workflow as the kiosk: codes are hashed with
 * the same KDF, the lockout after wrong codes applies, and every change is written to
 * the audit log. Run it while the kiosk is stopped: the store expects one program.
 *
 * The state folder is --state-dir, else the GSettings key state-directory, else
 * XDG_DATA_HOME/postmeter, as for the kiosk.
 *
 * Exit status: 0 done, 1 refused (wrong code, lockout, bad input, a broken audit chain),
 * 2 the meter's database could not be used.
 */
#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "pm-access.h"
#include "pm-settings-keys.h"
#include "pm-store-audit.h"

#define STORE_FILE_NAME "postmeter.db"

enum
{
  EXIT_DONE = 0,
  EXIT_REFUSED = 1,
  EXIT_STORE = 2,
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
open_store (GError **error)
{
  g_autofree char *state_dir = resolve_state_dir ();
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
    "  audit                print the audit log and check its chain");
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
        (g_strcmp0 (command, "audit") == 0 && argc == 2)))
    {
      usage (context);
      return EXIT_REFUSED;
    }

  store = open_store (&error);
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
  else
    status = audit (store);

  /* The sign-out's audit row is written before the store closes. */
  g_clear_object (&access);
  pm_store_close (store);
  return status;
}
