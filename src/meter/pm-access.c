/* pm-access.c: who may use the machine
 *
 * Every public call runs its steps on a GTask worker thread: a store read, the slow KDF
 * work, then a store write, each store step a transaction on the store thread. The
 * calls that look at or change codes (sign-in, adding and re-coding users) hold
 * code_lock for their whole course, so two at once cannot both pass a check that only
 * one of them should (two users given the same code, a lockout counted twice).
 *
 * Codes travel only in the task data, which is wiped when the task ends. No code is
 * ever written to a log, an error message or the audit log.
 */
#include "pm-access.h"

#include <string.h>

#include <glib/gi18n-lib.h>
#include <openssl/crypto.h>

#include "pm-access-code.h"
#include "pm-clock.h"
#include "pm-store-audit.h"
#include "pm-store-users.h"

#define LOCKOUT_FIRST_S   G_GINT64_CONSTANT (30)
#define LOCKOUT_MAX_S     G_GINT64_CONSTANT (3600)
#define NAME_MAX_CHARS    64

struct _PmAccess
{
  GObject   parent_instance;

  PmStore  *store;      /* owned; immutable after construction */
  GMutex    code_lock;  /* held by worker threads across a sign-in or a code change */
};

G_DEFINE_FINAL_TYPE (PmAccess, pm_access, G_TYPE_OBJECT)
G_DEFINE_QUARK (pm-access-error-quark, pm_access_error)
G_DEFINE_BOXED_TYPE (PmUser, pm_user, pm_user_copy, pm_user_free)

/* ---- Roles and users ---- */

const char *
pm_role_to_string (PmRole role)
{
  switch (role)
    {
    case PM_ROLE_OPERATOR:
      return "operator";
    case PM_ROLE_SUPERVISOR:
      return "supervisor";
    case PM_ROLE_SUPPORT:
      return "support";
    default:
      g_return_val_if_reached (NULL);
    }
}

const char *
pm_role_display_name (PmRole role)
{
  switch (role)
    {
    case PM_ROLE_OPERATOR:
      return _("Operator");
    case PM_ROLE_SUPERVISOR:
      return _("Supervisor");
    case PM_ROLE_SUPPORT:
      return _("Support");
    default:
      g_return_val_if_reached (NULL);
    }
}

static gboolean
role_from_string (const char *text,
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

PmUser *
pm_user_copy (const PmUser *user)
{
  PmUser *copy;

  g_return_val_if_fail (user != NULL, NULL);

  copy = g_new (PmUser, 1);
  *copy = *user;
  copy->name = g_strdup (user->name);
  return copy;
}

void
pm_user_free (PmUser *user)
{
  if (user == NULL)
    return;

  g_free (user->name);
  g_free (user);
}

static PmUser *
user_from_store (const PmStoreUser *stored)
{
  PmUser *user = g_new0 (PmUser, 1);

  user->id = stored->id;
  user->name = g_strdup (stored->name);
  /* The schema allows only the three roles; operator is the safe reading otherwise. */
  if (!role_from_string (stored->role, &user->role))
    user->role = PM_ROLE_OPERATOR;
  user->active = stored->active;
  user->created_at = stored->created_at;
  user->last_sign_in = stored->last_sign_in;
  return user;
}

/* ---- Checks that need no store ---- */

gboolean
pm_access_check_code_form (const char  *code,
                           GError     **error)
{
  gsize length;

  if (code == NULL || *code == '\0')
    {
      g_set_error (error, PM_ACCESS_ERROR, PM_ACCESS_ERROR_MALFORMED_CODE,
                   _("Enter your access code."));
      return FALSE;
    }

  length = strlen (code);
  for (gsize i = 0; i < length; i++)
    if (!g_ascii_isdigit (code[i]))
      {
        g_set_error (error, PM_ACCESS_ERROR, PM_ACCESS_ERROR_MALFORMED_CODE,
                     _("An access code has digits only. Clear it and try again."));
        return FALSE;
      }

  if (length < PM_ACCESS_CODE_MIN_DIGITS || length > PM_ACCESS_CODE_MAX_DIGITS)
    {
      g_set_error (error, PM_ACCESS_ERROR, PM_ACCESS_ERROR_MALFORMED_CODE,
                   _("An access code has %d to %d digits. Clear it and try again."),
                   PM_ACCESS_CODE_MIN_DIGITS, PM_ACCESS_CODE_MAX_DIGITS);
      return FALSE;
    }

  return TRUE;
}

static char *
check_name (const char  *name,
            GError     **error)
{
  g_autofree char *stripped = NULL;

  if (name == NULL || !g_utf8_validate (name, -1, NULL))
    {
      g_set_error (error, PM_ACCESS_ERROR, PM_ACCESS_ERROR_INVALID_NAME,
                   _("Enter the user's name."));
      return NULL;
    }

  stripped = g_strstrip (g_strdup (name));
  if (*stripped == '\0')
    {
      g_set_error (error, PM_ACCESS_ERROR, PM_ACCESS_ERROR_INVALID_NAME,
                   _("Enter the user's name."));
      return NULL;
    }

  if (g_utf8_strlen (stripped, -1) > NAME_MAX_CHARS)
    {
      g_set_error (error, PM_ACCESS_ERROR, PM_ACCESS_ERROR_INVALID_NAME,
                   _("A name can be at most %d characters long."), NAME_MAX_CHARS);
      return NULL;
    }

  for (const char *p = stripped; *p != '\0'; p = g_utf8_next_char (p))
    if (g_unichar_iscntrl (g_utf8_get_char (p)))
      {
        g_set_error (error, PM_ACCESS_ERROR, PM_ACCESS_ERROR_INVALID_NAME,
                     _("A name cannot contain line breaks or tabs."));
        return NULL;
      }

  return g_steal_pointer (&stripped);
}

static gboolean
store_error (GError  **error,
             GError   *store_err)
{
  /* A cancelled call stays a cancellation, so callers can tell it from a failure. */
  if (g_error_matches (store_err, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_propagate_error (error, store_err);
      return FALSE;
    }

  g_set_error (error, PM_ACCESS_ERROR, PM_ACCESS_ERROR_STORE, "%s", store_err->message);
  g_error_free (store_err);
  return FALSE;
}

static void
return_store_error (GTask  *task,
                    GError *store_err)
{
  GError *error = NULL;

  store_error (&error, store_err);
  g_task_return_error (task, error);
}

/* Lockout length after @failures wrong codes in a row: 30 s at the fifth, doubling
 * with each further one, never more than an hour. */
static gint64
lockout_seconds (gint64 failures)
{
  gint64 seconds = LOCKOUT_FIRST_S;

  if (failures < PM_ACCESS_FAILURES_BEFORE_LOCKOUT)
    return 0;

  for (gint64 i = PM_ACCESS_FAILURES_BEFORE_LOCKOUT; i < failures; i++)
    {
      seconds *= 2;
      if (seconds >= LOCKOUT_MAX_S)
        return LOCKOUT_MAX_S;
    }

  return seconds;
}

/* A lockout never runs past the longest one from now, even if the clock was set back
 * after it was stored. */
static gint64
effective_locked_until (gint64 locked_until_us,
                        gint64 now_us)
{
  if (locked_until_us <= now_us)
    return 0;

  return MIN (locked_until_us, now_us + LOCKOUT_MAX_S * G_USEC_PER_SEC);
}

static gboolean
locked_out_error (GError  **error,
                  gint64    until_us,
                  gint64    now_us,
                  gboolean  just_now)
{
  gint64 seconds = (until_us - now_us + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC;
  g_autofree char *wait = NULL;

  if (seconds >= 60)
    wait = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%d minute", "%d minutes",
                                         (seconds + 59) / 60),
                            (int) ((seconds + 59) / 60));
  else
    wait = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%d second", "%d seconds",
                                         seconds),
                            (int) seconds);

  if (just_now)
    g_set_error (error, PM_ACCESS_ERROR, PM_ACCESS_ERROR_LOCKED_OUT,
                 _("Wrong code. Too many wrong codes in a row: the keypad is locked "
                   "for %s."), wait);
  else
    g_set_error (error, PM_ACCESS_ERROR, PM_ACCESS_ERROR_LOCKED_OUT,
                 _("The keypad is locked after too many wrong codes. Try again in %s, "
                   "or ask a supervisor."), wait);
  return FALSE;
}

/* ---- Task data ---- */

typedef struct
{
  char     *code;       /* wiped when freed */
  char     *name;
  PmRole    role;
  gint64    actor_id;
  gint64    user_id;
  gboolean  active;
} Request;

static void
request_free (Request *request)
{
  if (request->code != NULL)
    {
      OPENSSL_cleanse (request->code, strlen (request->code));
      g_free (request->code);
    }
  g_free (request->name);
  g_free (request);
}

static GTask *
access_task_new (PmAccess            *self,
                 Request             *request,
                 GCancellable        *cancellable,
                 GAsyncReadyCallback  callback,
                 gpointer             user_data,
                 gpointer             source_tag)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, request, (GDestroyNotify) request_free);
  return task;
}

/* ---- Store steps (store thread) ---- */

typedef struct
{
  gboolean   active_only;
  gint64     failures;
  gint64     locked_until_us;
  GPtrArray *users;      /* of PmStoreUser */
} ReadState;

static gboolean
read_state_work (sqlite3  *db,
                 gpointer  data,
                 GError  **error)
{
  ReadState *state = data;

  PM_STORE_ASSERT_THREAD ();

  if (!pm_store_access_state_get (db, &state->failures, &state->locked_until_us, error))
    return FALSE;

  state->users = pm_store_users_list (db, state->active_only, error);
  return state->users != NULL;
}

typedef struct
{
  gint64  now_us;
  gint64  user_id;        /* the match, or 0 for a wrong code */
  gint64  failures;       /* out: count after this attempt */
  gint64  locked_until_us;/* out */
} RecordAttempt;

static gboolean
record_attempt_work (sqlite3  *db,
                     gpointer  data,
                     GError  **error)
{
  RecordAttempt *attempt = data;
  g_autofree char *detail = NULL;
  gint64 failures, locked_until;
  gint64 lock_s;

  PM_STORE_ASSERT_THREAD ();

  if (attempt->user_id > 0)
    {
      attempt->failures = 0;
      attempt->locked_until_us = 0;
      return pm_store_access_state_set (db, 0, 0, error)
             && pm_store_users_set_last_sign_in (db, attempt->user_id,
                                                 attempt->now_us / G_USEC_PER_SEC, error)
             && pm_store_audit_append (db, PM_AUDIT_SIGN_IN, attempt->user_id, NULL,
                                       error);
    }

  if (!pm_store_access_state_get (db, &failures, &locked_until, error))
    return FALSE;

  failures++;
  lock_s = lockout_seconds (failures);
  locked_until = lock_s > 0 ? attempt->now_us + lock_s * G_USEC_PER_SEC : 0;

  detail = g_strdup_printf ("%" G_GINT64_FORMAT " wrong in a row", failures);
  if (!pm_store_access_state_set (db, failures, locked_until, error)
      || !pm_store_audit_append (db, PM_AUDIT_WRONG_CODE, 0, detail, error))
    return FALSE;

  if (lock_s > 0)
    {
      g_free (detail);
      detail = g_strdup_printf ("keypad locked for %" G_GINT64_FORMAT " s after %"
                                G_GINT64_FORMAT " wrong codes in a row", lock_s, failures);
      if (!pm_store_audit_append (db, PM_AUDIT_LOCKOUT, 0, detail, error))
        return FALSE;
    }

  attempt->failures = failures;
  attempt->locked_until_us = locked_until;
  return TRUE;
}

/* Looks for the user whose stored hash @code matches, among @users. Every user is
 * tried, so the time taken does not say which one matched. */
static gboolean
find_code (GPtrArray   *users,
           const char  *code,
           gint64       skip_user_id,
           gint64      *out_user_id,
           GError     **error)
{
  *out_user_id = 0;

  for (guint i = 0; i < users->len; i++)
    {
      PmStoreUser *user = g_ptr_array_index (users, i);
      g_autoptr(GError) local_error = NULL;
      gboolean match = FALSE;

      if (user->id == skip_user_id)
        continue;

      if (!pm_access_code_verify (code, user->code_hash, &match, &local_error))
        {
          /* A damaged hash must not lock everyone else out; that user's code simply
           * cannot match until a supervisor sets it again. */
          if (g_error_matches (local_error, PM_ACCESS_CODE_ERROR,
                               PM_ACCESS_CODE_ERROR_FAILED))
            {
              g_set_error (error, PM_ACCESS_ERROR, PM_ACCESS_ERROR_STORE, "%s",
                           local_error->message);
              return FALSE;
            }
          g_warning ("User %" G_GINT64_FORMAT "'s stored code cannot be checked: %s",
                     user->id, local_error->message);
          continue;
        }

      if (match && *out_user_id == 0)
        *out_user_id = user->id;
    }

  return TRUE;
}

/* ---- Sign-in ---- */

static PmUser *
sign_in (PmAccess      *self,
         const char    *code,
         GCancellable  *cancellable,
         GError       **error)
{
  ReadState state = { TRUE, 0, 0, NULL };
  RecordAttempt attempt = { 0 };
  g_autoptr(GPtrArray) users = NULL;
  GError *local_error = NULL;
  gint64 until;

  if (!pm_access_check_code_form (code, error))
    return NULL;

  if (!pm_store_run_sync (self->store, read_state_work, &state, cancellable,
                          &local_error))
    {
      store_error (error, local_error);
      return NULL;
    }
  users = state.users;

  attempt.now_us = pm_clock_now_us ();
  until = effective_locked_until (state.locked_until_us, attempt.now_us);
  if (until != 0)
    {
      locked_out_error (error, until, attempt.now_us, FALSE);
      return NULL;
    }

  if (!find_code (users, code, 0, &attempt.user_id, error))
    return NULL;

  /* Once the code is checked the attempt is recorded whatever happens to the caller:
   * a cancelled sign-in must still count as a wrong code. */
  if (!pm_store_run_sync (self->store, record_attempt_work, &attempt, NULL,
                          &local_error))
    {
      store_error (error, local_error);
      return NULL;
    }

  if (attempt.user_id > 0)
    {
      for (guint i = 0; i < users->len; i++)
        {
          PmStoreUser *stored = g_ptr_array_index (users, i);

          if (stored->id == attempt.user_id)
            {
              PmUser *user = user_from_store (stored);

              user->last_sign_in = attempt.now_us / G_USEC_PER_SEC;
              g_message ("User %" G_GINT64_FORMAT " signed in", user->id);
              return user;
            }
        }
      g_assert_not_reached ();
    }

  if (attempt.locked_until_us > 0)
    {
      g_message ("Keypad locked after %" G_GINT64_FORMAT " wrong codes in a row",
                 attempt.failures);
      locked_out_error (error, attempt.locked_until_us, attempt.now_us, TRUE);
      return NULL;
    }

  g_set_error (error, PM_ACCESS_ERROR, PM_ACCESS_ERROR_WRONG_CODE,
               _("That code is not right. Check it and try again."));
  return NULL;
}

static void
sign_in_thread (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  PmAccess *self = source_object;
  Request *request = task_data;
  GError *error = NULL;
  PmUser *user;

  g_mutex_lock (&self->code_lock);
  user = sign_in (self, request->code, cancellable, &error);
  g_mutex_unlock (&self->code_lock);

  if (user == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, user, (GDestroyNotify) pm_user_free);
}

void
pm_access_sign_in_async (PmAccess            *self,
                         const char          *code,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  Request *request;

  g_return_if_fail (PM_IS_ACCESS (self));

  request = g_new0 (Request, 1);
  request->code = g_strdup (code);
  task = access_task_new (self, request, cancellable, callback, user_data,
                          pm_access_sign_in_async);
  g_task_run_in_thread (task, sign_in_thread);
}

PmUser *
pm_access_sign_in_finish (PmAccess      *self,
                          GAsyncResult  *result,
                          GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- Sign-out ---- */

typedef struct
{
  gint64  user_id;
  char   *reason;
} SignOut;

static void
sign_out_free (SignOut *sign_out)
{
  g_free (sign_out->reason);
  g_free (sign_out);
}

static gboolean
sign_out_work (sqlite3  *db,
               gpointer  data,
               GError  **error)
{
  SignOut *sign_out = data;

  return pm_store_audit_append (db, PM_AUDIT_SIGN_OUT, sign_out->user_id,
                                sign_out->reason, error);
}

static void
sign_out_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  /* Nobody waits on a sign-out and the screen is already locked: the journal is the
   * only place left to say the audit row is missing. */
  if (!pm_store_run_finish (PM_STORE (source), result, &error))
    g_warning ("The sign-out was not written to the audit log: %s", error->message);
}

void
pm_access_sign_out (PmAccess     *self,
                    const PmUser *user,
                    const char   *reason)
{
  SignOut *sign_out;

  g_return_if_fail (PM_IS_ACCESS (self));
  g_return_if_fail (user != NULL);

  sign_out = g_new0 (SignOut, 1);
  sign_out->user_id = user->id;
  sign_out->reason = g_strdup (reason);
  pm_store_run_async (self->store, sign_out_work, sign_out,
                      (GDestroyNotify) sign_out_free, NULL, sign_out_cb, NULL);
  g_message ("User %" G_GINT64_FORMAT " signed out (%s)", user->id,
             reason != NULL ? reason : "no reason given");
}

/* ---- Lockout state ---- */

static void
locked_until_thread (GTask        *task,
                     gpointer      source_object,
                     gpointer      task_data,
                     GCancellable *cancellable)
{
  PmAccess *self = source_object;
  ReadState state = { TRUE, 0, 0, NULL };
  GError *error = NULL;
  gint64 *until;

  if (!pm_store_run_sync (self->store, read_state_work, &state, cancellable, &error))
    {
      return_store_error (task, error);
      return;
    }
  g_ptr_array_unref (state.users);

  until = g_new (gint64, 1);
  *until = effective_locked_until (state.locked_until_us, pm_clock_now_us ());
  g_task_return_pointer (task, until, g_free);
}

void
pm_access_get_locked_until_async (PmAccess            *self,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (PM_IS_ACCESS (self));

  task = access_task_new (self, g_new0 (Request, 1), cancellable, callback, user_data,
                          pm_access_get_locked_until_async);
  g_task_run_in_thread (task, locked_until_thread);
}

gboolean
pm_access_get_locked_until_finish (PmAccess      *self,
                                   GAsyncResult  *result,
                                   gint64        *out_until_us,
                                   GError       **error)
{
  g_autofree gint64 *until = NULL;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  until = g_task_propagate_pointer (G_TASK (result), error);
  if (until == NULL)
    return FALSE;

  if (out_until_us != NULL)
    *out_until_us = *until;
  return TRUE;
}

/* ---- Users ---- */

static void
has_users_thread (GTask        *task,
                  gpointer      source_object,
                  gpointer      task_data,
                  GCancellable *cancellable)
{
  PmAccess *self = source_object;
  ReadState state = { FALSE, 0, 0, NULL };
  GError *error = NULL;

  if (!pm_store_run_sync (self->store, read_state_work, &state, cancellable, &error))
    {
      return_store_error (task, error);
      return;
    }

  g_task_return_int (task, state.users->len > 0 ? 1 : 0);
  g_ptr_array_unref (state.users);
}

void
pm_access_has_users_async (PmAccess            *self,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (PM_IS_ACCESS (self));

  task = access_task_new (self, g_new0 (Request, 1), cancellable, callback, user_data,
                          pm_access_has_users_async);
  g_task_run_in_thread (task, has_users_thread);
}

gboolean
pm_access_has_users_finish (PmAccess      *self,
                            GAsyncResult  *result,
                            gboolean      *out_has_users,
                            GError       **error)
{
  GError *local_error = NULL;
  gssize value;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  value = g_task_propagate_int (G_TASK (result), &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return FALSE;
    }

  if (out_has_users != NULL)
    *out_has_users = value != 0;
  return TRUE;
}

static void
list_users_thread (GTask        *task,
                   gpointer      source_object,
                   gpointer      task_data,
                   GCancellable *cancellable)
{
  PmAccess *self = source_object;
  ReadState state = { FALSE, 0, 0, NULL };
  g_autoptr(GPtrArray) users = NULL;
  GError *error = NULL;

  if (!pm_store_run_sync (self->store, read_state_work, &state, cancellable, &error))
    {
      return_store_error (task, error);
      return;
    }

  users = g_ptr_array_new_with_free_func ((GDestroyNotify) pm_user_free);
  for (guint i = 0; i < state.users->len; i++)
    g_ptr_array_add (users, user_from_store (g_ptr_array_index (state.users, i)));
  g_ptr_array_unref (state.users);

  g_task_return_pointer (task, g_steal_pointer (&users),
                         (GDestroyNotify) g_ptr_array_unref);
}

void
pm_access_list_users_async (PmAccess            *self,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (PM_IS_ACCESS (self));

  task = access_task_new (self, g_new0 (Request, 1), cancellable, callback, user_data,
                          pm_access_list_users_async);
  g_task_run_in_thread (task, list_users_thread);
}

GPtrArray *
pm_access_list_users_finish (PmAccess      *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* The write step shared by set-up, adding, enabling and re-coding. The checks that
 * depend on the database (the actor, the last supervisor, no users yet) are made again
 * here, in the same transaction as the change. */
typedef enum
{
  CHANGE_SET_UP,
  CHANGE_ADD,
  CHANGE_ACTIVE,
  CHANGE_CODE,
} ChangeKind;

typedef struct
{
  ChangeKind   kind;
  gint64       actor_id;
  gint64       user_id;     /* in: the user changed; out: the user added */
  const char  *name;
  PmRole       role;
  const char  *code_hash;
  gboolean     active;
  PmStoreUser *result;      /* out: the user as stored after the change */
  GError      *refusal;     /* out: why the change was refused (an access error) */
} Change;

static gboolean
refuse (Change     *change,
        int         code,
        const char *message)
{
  change->refusal = g_error_new_literal (PM_ACCESS_ERROR, code, message);
  return FALSE;
}

/* TRUE when @actor_id is an active supervisor; otherwise records the refusal. */
static gboolean
check_actor (sqlite3  *db,
             Change   *change,
             GError  **error)
{
  g_autoptr(PmStoreUser) actor = NULL;
  g_autoptr(GError) local_error = NULL;

  actor = pm_store_users_get (db, change->actor_id, &local_error);
  if (actor == NULL && !g_error_matches (local_error, PM_STORE_ERROR,
                                         PM_STORE_ERROR_NOT_FOUND))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  if (actor == NULL || !actor->active || g_strcmp0 (actor->role, "supervisor") != 0)
    return refuse (change, PM_ACCESS_ERROR_NOT_PERMITTED,
                   _("Only a supervisor can change users. Ask a supervisor to sign "
                     "in."));

  return TRUE;
}

static gboolean
name_taken (sqlite3     *db,
            const char  *name,
            gboolean    *out_taken,
            GError     **error)
{
  g_autoptr(GPtrArray) users = pm_store_users_list (db, TRUE, error);
  g_autofree char *folded = g_utf8_casefold (name, -1);

  if (users == NULL)
    return FALSE;

  *out_taken = FALSE;
  for (guint i = 0; i < users->len; i++)
    {
      PmStoreUser *user = g_ptr_array_index (users, i);
      g_autofree char *other = g_utf8_casefold (user->name, -1);

      if (g_strcmp0 (folded, other) == 0)
        *out_taken = TRUE;
    }

  return TRUE;
}

static gboolean
change_work (sqlite3  *db,
             gpointer  data,
             GError  **error)
{
  Change *change = data;
  g_autoptr(PmStoreUser) target = NULL;
  g_autofree char *detail = NULL;
  const char *event;
  gboolean taken = FALSE;

  PM_STORE_ASSERT_THREAD ();

  if (change->kind == CHANGE_SET_UP)
    {
      gint64 count = pm_store_users_count (db, NULL, FALSE, error);

      if (count < 0)
        return FALSE;
      if (count > 0)
        return refuse (change, PM_ACCESS_ERROR_ALREADY_SET_UP,
                       _("This machine already has users. Sign in with your code."));
    }
  else if (!check_actor (db, change, error))
    return FALSE;

  if (change->kind == CHANGE_SET_UP || change->kind == CHANGE_ADD)
    {
      if (!name_taken (db, change->name, &taken, error))
        return FALSE;
      if (taken)
        return refuse (change, PM_ACCESS_ERROR_INVALID_NAME,
                       _("There is already a user with this name. Give a name that "
                         "tells them apart."));

      if (!pm_store_users_insert (db, change->name, pm_role_to_string (change->role),
                                  change->code_hash, &change->user_id, error))
        return FALSE;

      detail = g_strdup_printf ("user %" G_GINT64_FORMAT " \"%s\", %s",
                                change->user_id, change->name,
                                pm_role_to_string (change->role));
      if (change->kind == CHANGE_SET_UP
          && !pm_store_audit_append (db, PM_AUDIT_FIRST_START, change->user_id, NULL,
                                     error))
        return FALSE;
      if (!pm_store_audit_append (db, PM_AUDIT_USER_ADDED,
                                  change->kind == CHANGE_ADD ? change->actor_id
                                                             : change->user_id,
                                  detail, error))
        return FALSE;
    }
  else
    {
      g_autoptr(GError) local_error = NULL;

      target = pm_store_users_get (db, change->user_id, &local_error);
      if (target == NULL)
        {
          if (g_error_matches (local_error, PM_STORE_ERROR, PM_STORE_ERROR_NOT_FOUND))
            return refuse (change, PM_ACCESS_ERROR_NO_SUCH_USER,
                           _("That user no longer exists. Reload the list of users."));
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }

      if (change->kind == CHANGE_ACTIVE)
        {
          if (!change->active && target->active
              && g_strcmp0 (target->role, "supervisor") == 0)
            {
              gint64 supervisors = pm_store_users_count (db, "supervisor", TRUE, error);

              if (supervisors < 0)
                return FALSE;
              if (supervisors <= 1)
                return refuse (change, PM_ACCESS_ERROR_LAST_SUPERVISOR,
                               _("This is the only active supervisor. Add or enable "
                                 "another supervisor first."));
            }

          if (!pm_store_users_set_active (db, change->user_id, change->active, error))
            return FALSE;
          event = change->active ? PM_AUDIT_USER_ENABLED : PM_AUDIT_USER_DISABLED;
        }
      else
        {
          if (!pm_store_users_set_code_hash (db, change->user_id, change->code_hash,
                                             error))
            return FALSE;
          event = PM_AUDIT_USER_RECODED;
        }

      detail = g_strdup_printf ("user %" G_GINT64_FORMAT " \"%s\"", target->id,
                                target->name);
      if (!pm_store_audit_append (db, event, change->actor_id, detail, error))
        return FALSE;
    }

  change->result = pm_store_users_get (db, change->user_id, error);
  return change->result != NULL;
}

/* Runs a Change; a refusal rolls the transaction back and comes out as its own access
 * error, a store failure as PM_ACCESS_ERROR_STORE. */
static gboolean
run_change (PmAccess     *self,
            Change       *change,
            GCancellable *cancellable,
            GError      **error)
{
  GError *local_error = NULL;

  if (pm_store_run_sync (self->store, change_work, change, cancellable, &local_error))
    return TRUE;

  if (change->refusal != NULL)
    {
      g_clear_error (&local_error);
      g_propagate_error (error, g_steal_pointer (&change->refusal));
      return FALSE;
    }

  return store_error (error, local_error);
}

/* Checks that @code is nobody else's, then hashes it. Users that are disabled count:
 * enabling one again must not create a second holder of a code. */
static char *
hash_new_code (PmAccess      *self,
               const char    *code,
               gint64         user_id,
               GCancellable  *cancellable,
               GError       **error)
{
  ReadState state = { FALSE, 0, 0, NULL };
  g_autoptr(GPtrArray) users = NULL;
  GError *local_error = NULL;
  gint64 holder = 0;
  char *hash;

  if (!pm_store_run_sync (self->store, read_state_work, &state, cancellable,
                          &local_error))
    {
      store_error (error, local_error);
      return NULL;
    }
  users = state.users;

  if (!find_code (users, code, user_id, &holder, error))
    return NULL;
  if (holder != 0)
    {
      g_set_error (error, PM_ACCESS_ERROR, PM_ACCESS_ERROR_CODE_IN_USE,
                   _("Another user already has this code. Choose a different code."));
      return NULL;
    }

  hash = pm_access_code_hash (code, &local_error);
  if (hash == NULL)
    {
      g_set_error (error, PM_ACCESS_ERROR, PM_ACCESS_ERROR_STORE, "%s",
                   local_error->message);
      g_error_free (local_error);
    }
  return hash;
}

static void
change_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  PmAccess *self = source_object;
  Request *request = task_data;
  g_autofree char *hash = NULL;
  g_autofree char *name = NULL;
  Change change = { 0 };
  GError *error = NULL;
  gpointer tag = g_task_get_source_tag (task);
  gboolean ok;

  change.actor_id = request->actor_id;
  change.user_id = request->user_id;
  change.role = request->role;
  change.active = request->active;

  if (tag == pm_access_set_up_async)
    change.kind = CHANGE_SET_UP;
  else if (tag == pm_access_add_user_async)
    change.kind = CHANGE_ADD;
  else if (tag == pm_access_set_user_active_async)
    change.kind = CHANGE_ACTIVE;
  else
    change.kind = CHANGE_CODE;

  if (change.kind == CHANGE_SET_UP || change.kind == CHANGE_ADD)
    {
      name = check_name (request->name, &error);
      if (name == NULL)
        {
          g_task_return_error (task, error);
          return;
        }
      change.name = name;
    }

  if (change.kind != CHANGE_ACTIVE && !pm_access_check_code_form (request->code, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  g_mutex_lock (&self->code_lock);

  ok = TRUE;
  if (change.kind != CHANGE_ACTIVE)
    {
      hash = hash_new_code (self, request->code,
                            change.kind == CHANGE_CODE ? change.user_id : 0,
                            cancellable, &error);
      ok = hash != NULL;
      change.code_hash = hash;
    }
  if (ok)
    ok = run_change (self, &change, cancellable, &error);

  g_mutex_unlock (&self->code_lock);

  if (!ok)
    {
      g_task_return_error (task, error);
      return;
    }

  g_message ("User %" G_GINT64_FORMAT " %s", change.user_id,
             change.kind == CHANGE_SET_UP ? "created at first start"
             : change.kind == CHANGE_ADD ? "added"
             : change.kind == CHANGE_CODE ? "given a new code"
             : change.active ? "enabled" : "disabled");

  g_task_return_pointer (task, user_from_store (change.result),
                         (GDestroyNotify) pm_user_free);
  pm_store_user_free (change.result);
}

static void
start_change (PmAccess            *self,
              Request             *request,
              GCancellable        *cancellable,
              GAsyncReadyCallback  callback,
              gpointer             user_data,
              gpointer             source_tag)
{
  g_autoptr(GTask) task = NULL;

  task = access_task_new (self, request, cancellable, callback, user_data, source_tag);
  g_task_run_in_thread (task, change_thread);
}

void
pm_access_set_up_async (PmAccess            *self,
                        const char          *supervisor_name,
                        const char          *code,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  Request *request;

  g_return_if_fail (PM_IS_ACCESS (self));

  request = g_new0 (Request, 1);
  request->name = g_strdup (supervisor_name);
  request->code = g_strdup (code);
  request->role = PM_ROLE_SUPERVISOR;
  start_change (self, request, cancellable, callback, user_data, pm_access_set_up_async);
}

PmUser *
pm_access_set_up_finish (PmAccess      *self,
                         GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

void
pm_access_add_user_async (PmAccess            *self,
                          const PmUser        *actor,
                          const char          *name,
                          PmRole               role,
                          const char          *code,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  Request *request;

  g_return_if_fail (PM_IS_ACCESS (self));
  g_return_if_fail (actor != NULL);
  g_return_if_fail (role <= PM_ROLE_SUPPORT);

  request = g_new0 (Request, 1);
  request->actor_id = actor->id;
  request->name = g_strdup (name);
  request->role = role;
  request->code = g_strdup (code);
  start_change (self, request, cancellable, callback, user_data,
                pm_access_add_user_async);
}

PmUser *
pm_access_add_user_finish (PmAccess      *self,
                           GAsyncResult  *result,
                           GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

void
pm_access_set_user_active_async (PmAccess            *self,
                                 const PmUser        *actor,
                                 gint64               user_id,
                                 gboolean             active,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  Request *request;

  g_return_if_fail (PM_IS_ACCESS (self));
  g_return_if_fail (actor != NULL);

  request = g_new0 (Request, 1);
  request->actor_id = actor->id;
  request->user_id = user_id;
  request->active = active;
  start_change (self, request, cancellable, callback, user_data,
                pm_access_set_user_active_async);
}

gboolean
pm_access_set_user_active_finish (PmAccess      *self,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  g_autoptr(PmUser) user = NULL;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  user = g_task_propagate_pointer (G_TASK (result), error);
  return user != NULL;
}

void
pm_access_set_user_code_async (PmAccess            *self,
                               const PmUser        *actor,
                               gint64               user_id,
                               const char          *code,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  Request *request;

  g_return_if_fail (PM_IS_ACCESS (self));
  g_return_if_fail (actor != NULL);

  request = g_new0 (Request, 1);
  request->actor_id = actor->id;
  request->user_id = user_id;
  request->code = g_strdup (code);
  start_change (self, request, cancellable, callback, user_data,
                pm_access_set_user_code_async);
}

gboolean
pm_access_set_user_code_finish (PmAccess      *self,
                                GAsyncResult  *result,
                                GError       **error)
{
  g_autoptr(PmUser) user = NULL;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  user = g_task_propagate_pointer (G_TASK (result), error);
  return user != NULL;
}

/* ---- Object ---- */

PmAccess *
pm_access_new (PmStore *store)
{
  PmAccess *self;

  g_return_val_if_fail (PM_IS_STORE (store), NULL);

  self = g_object_new (PM_TYPE_ACCESS, NULL);
  self->store = g_object_ref (store);
  return self;
}

static void
pm_access_finalize (GObject *object)
{
  PmAccess *self = PM_ACCESS (object);

  g_clear_object (&self->store);
  g_mutex_clear (&self->code_lock);

  G_OBJECT_CLASS (pm_access_parent_class)->finalize (object);
}

static void
pm_access_class_init (PmAccessClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = pm_access_finalize;
}

static void
pm_access_init (PmAccess *self)
{
  g_mutex_init (&self->code_lock);
}
