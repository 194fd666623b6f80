/* test-access.c: access codes, sign-in, lockout and user management */
#include <glib/gstdio.h>
#include <string.h>

#include "pm-access.h"
#include "pm-access-code.h"
#include "pm-clock.h"
#include "pm-store-audit.h"

/* Every log line of the run, to prove no code ever reaches the log. */
static GString *all_logs;

static GLogWriterOutput
keep_writer (GLogLevelFlags   level,
             const GLogField *fields,
             gsize            n_fields,
             gpointer         user_data)
{
  for (gsize i = 0; i < n_fields; i++)
    if (g_strcmp0 (fields[i].key, "MESSAGE") == 0 && fields[i].length < 0)
      {
        g_string_append (all_logs, fields[i].value);
        g_string_append_c (all_logs, '\n');
      }

  /* Debug lines would land on stdout, inside the TAP stream: keep them only here. */
  if (level & (G_LOG_LEVEL_DEBUG | G_LOG_LEVEL_INFO))
    return G_LOG_WRITER_HANDLED;

  return g_log_writer_default (level, fields, n_fields, user_data);
}

typedef struct
{
  char     *dir;
  char     *path;
  PmStore  *store;
  PmAccess *access;
} Fixture;

/* 2026-03-02 15:00:00 UTC */
#define START_US G_GINT64_CONSTANT (1772463600000000)

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  /* Cheap costs keep a run of many sign-ins quick; /meter/access/code/default-params
   * covers the real ones. */
  PmAccessCodeParams cheap = { 1024, 8, 1 };
  g_autoptr(GError) error = NULL;

  pm_access_code_set_params_for_testing (&cheap);
  pm_clock_set_override_us (START_US);

  f->dir = g_dir_make_tmp ("pm-access-XXXXXX", &error);
  g_assert_no_error (error);
  f->path = g_build_filename (f->dir, "postmeter.db", NULL);
  f->store = pm_store_open (f->path, &error);
  g_assert_no_error (error);
  f->access = pm_access_new (f->store);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *wal = g_strconcat (f->path, "-wal", NULL);
  g_autofree char *shm = g_strconcat (f->path, "-shm", NULL);

  g_clear_object (&f->access);
  g_clear_object (&f->store);
  g_unlink (f->path);
  g_unlink (wal);
  g_unlink (shm);
  g_rmdir (f->dir);
  g_free (f->path);
  g_free (f->dir);
  pm_clock_clear_override ();
  pm_access_code_set_params_for_testing (NULL);
}

static void
got_result_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static GAsyncResult *
wait_result (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *slot;
}

static PmUser *
set_up (Fixture    *f,
        const char *name,
        const char *code,
        GError    **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  pm_access_set_up_async (f->access, name, code, NULL, got_result_cb, &result);
  return pm_access_set_up_finish (f->access, wait_result (&result), error);
}

static PmUser *
sign_in (Fixture    *f,
         const char *code,
         GError    **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  pm_access_sign_in_async (f->access, code, NULL, got_result_cb, &result);
  return pm_access_sign_in_finish (f->access, wait_result (&result), error);
}

static PmUser *
add_user (Fixture      *f,
          const PmUser *actor,
          const char   *name,
          PmRole        role,
          const char   *code,
          GError      **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  pm_access_add_user_async (f->access, actor, name, role, code, NULL, got_result_cb,
                            &result);
  return pm_access_add_user_finish (f->access, wait_result (&result), error);
}

static gboolean
set_active (Fixture      *f,
            const PmUser *actor,
            gint64        user_id,
            gboolean      active,
            GError      **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  pm_access_set_user_active_async (f->access, actor, user_id, active, NULL,
                                   got_result_cb, &result);
  return pm_access_set_user_active_finish (f->access, wait_result (&result), error);
}

static gboolean
set_code (Fixture      *f,
          const PmUser *actor,
          gint64        user_id,
          const char   *code,
          GError      **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  pm_access_set_user_code_async (f->access, actor, user_id, code, NULL, got_result_cb,
                                 &result);
  return pm_access_set_user_code_finish (f->access, wait_result (&result), error);
}

static gint64
locked_until (Fixture *f)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  gint64 until = -1;

  pm_access_get_locked_until_async (f->access, NULL, got_result_cb, &result);
  g_assert_true (pm_access_get_locked_until_finish (f->access, wait_result (&result),
                                                    &until, &error));
  g_assert_no_error (error);
  return until;
}

static gboolean
has_users (Fixture *f)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  gboolean value = -1;

  pm_access_has_users_async (f->access, NULL, got_result_cb, &result);
  g_assert_true (pm_access_has_users_finish (f->access, wait_result (&result), &value,
                                             &error));
  g_assert_no_error (error);
  return value;
}

/* ---- Code form ---- */

static void
test_code_form (void)
{
  static const struct
  {
    const char *code;
    gboolean    ok;
  } cases[] = {
    { "", FALSE }, { "123", FALSE }, { "123456789", FALSE }, { "12a4", FALSE },
    { "abcd", FALSE }, { "12 34", FALSE }, { "-1234", FALSE }, { "１２３４", FALSE },
    { "1234", TRUE }, { "0000", TRUE }, { "12345678", TRUE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      gboolean ok = pm_access_check_code_form (cases[i].code, &error);

      g_assert_cmpint (ok, ==, cases[i].ok);
      if (!ok)
        {
          g_assert_error (error, PM_ACCESS_ERROR, PM_ACCESS_ERROR_MALFORMED_CODE);
          /* The message never repeats what was typed. */
          if (*cases[i].code != '\0')
            g_assert_null (strstr (error->message, cases[i].code));
        }
    }

  {
    g_autoptr(GError) error = NULL;
    g_assert_false (pm_access_check_code_form (NULL, &error));
    g_assert_error (error, PM_ACCESS_ERROR, PM_ACCESS_ERROR_MALFORMED_CODE);
  }
}

/* ---- The KDF ---- */

static void
test_default_params (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *stored = NULL;
  PmAccessCodeParams params = { 0 };
  gboolean match = FALSE;
  gint64 started;

  pm_access_code_set_params_for_testing (NULL);

  started = g_get_monotonic_time ();
  stored = pm_access_code_hash ("482913", &error);
  g_assert_no_error (error);
  g_test_message ("one hash with the default costs: %" G_GINT64_FORMAT " ms",
                  (g_get_monotonic_time () - started) / 1000);

  g_assert_true (g_str_has_prefix (stored, "scrypt$N=16384,r=12,p=1$"));
  g_assert_true (pm_access_code_parse_params (stored, &params, &error));
  g_assert_cmpuint (params.n, ==, PM_ACCESS_CODE_SCRYPT_N);
  g_assert_cmpuint (params.r, ==, PM_ACCESS_CODE_SCRYPT_R);
  g_assert_cmpuint (params.p, ==, PM_ACCESS_CODE_SCRYPT_P);
  g_assert_null (strstr (stored, "482913"));

  /* Made cheap now, the stored string is still checked with its own costs. */
  {
    PmAccessCodeParams cheap = { 16, 1, 1 };
    pm_access_code_set_params_for_testing (&cheap);
  }
  g_assert_true (pm_access_code_verify ("482913", stored, &match, &error));
  g_assert_true (match);
  g_assert_true (pm_access_code_verify ("482914", stored, &match, &error));
  g_assert_false (match);
  pm_access_code_set_params_for_testing (NULL);
}

static void
test_known_vector (void)
{
  /* RFC 7914 section 12, second vector: P="password", S="NaCl", N=1024, r=8, p=16,
   * 64 bytes. */
  const char *stored =
    "scrypt$N=1024,r=8,p=16$TmFDbA==$"
    "/bq+HJ00cgB4VucZDQHp/nxq18vII3gw53N2Y0s3MWIurzDZLiKjiG/xCSedmDDaxyevuUqD7m2DYMvf"
    "oswGQA==";
  g_autoptr(GError) error = NULL;
  gboolean match = FALSE;

  g_assert_true (pm_access_code_verify ("password", stored, &match, &error));
  g_assert_no_error (error);
  g_assert_true (match);

  g_assert_true (pm_access_code_verify ("Password", stored, &match, &error));
  g_assert_false (match);
}

static void
test_salted (void)
{
  PmAccessCodeParams cheap = { 1024, 8, 1 };
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;

  pm_access_code_set_params_for_testing (&cheap);
  a = pm_access_code_hash ("1234", NULL);
  b = pm_access_code_hash ("1234", NULL);
  g_assert_cmpstr (a, !=, b);
  pm_access_code_set_params_for_testing (NULL);
}

static void
test_malformed_stored (void)
{
  static const char *bad[] = {
    "", "scrypt", "bcrypt$N=16384,r=8,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA==",
    "scrypt$N=16384,r=8$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA==",
    "scrypt$N=1000,r=8,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA==",   /* not 2^k */
    "scrypt$N=16384,r=8,p=1$$aGFzaGhhc2hoYXNoaGFzaA==",
    "scrypt$N=16384,r=8,p=1$c2FsdHNhbHRzYWx0$",
    "scrypt$N=4194304,r=8,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA==", /* too costly */
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      gboolean match = TRUE;

      g_assert_false (pm_access_code_verify ("1234", bad[i], &match, &error));
      g_assert_false (match);
      g_assert_nonnull (error);
      g_assert_true (error->domain == PM_ACCESS_CODE_ERROR);
    }
}

/* ---- Set-up and sign-in ---- */

static void
test_set_up (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PmUser) ann = NULL;
  g_autoptr(PmUser) again = NULL;

  g_assert_false (has_users (f));

  ann = set_up (f, "  Ann Lee ", "73915", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (ann->name, ==, "Ann Lee");
  g_assert_cmpint (ann->role, ==, PM_ROLE_SUPERVISOR);
  g_assert_true (ann->active);
  g_assert_cmpint (ann->created_at, ==, START_US / G_USEC_PER_SEC);
  g_assert_true (has_users (f));

  again = set_up (f, "Bob", "55555", &error);
  g_assert_null (again);
  g_assert_error (error, PM_ACCESS_ERROR, PM_ACCESS_ERROR_ALREADY_SET_UP);
}

static void
test_set_up_bad_input (Fixture       *f,
                       gconstpointer  data)
{
  static const struct
  {
    const char *name;
    const char *code;
    int         error;
  } cases[] = {
    { "", "1234", PM_ACCESS_ERROR_INVALID_NAME },
    { "   ", "1234", PM_ACCESS_ERROR_INVALID_NAME },
    { "Ann\nLee", "1234", PM_ACCESS_ERROR_INVALID_NAME },
    { "Ann", "12", PM_ACCESS_ERROR_MALFORMED_CODE },
    { "Ann", "12x45", PM_ACCESS_ERROR_MALFORMED_CODE },
    { "Ann", "", PM_ACCESS_ERROR_MALFORMED_CODE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(PmUser) user = set_up (f, cases[i].name, cases[i].code, &error);

      g_assert_null (user);
      g_assert_error (error, PM_ACCESS_ERROR, cases[i].error);
    }

  g_assert_false (has_users (f));
}

static void
test_sign_in (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PmUser) ann = set_up (f, "Ann", "73915", NULL);
  g_autoptr(PmUser) bob = add_user (f, ann, "Bob", PM_ROLE_OPERATOR, "260418", NULL);
  g_autoptr(PmUser) who = NULL;
  g_autoptr(GPtrArray) audit = NULL;
  const char *malformed[] = { "", "739", "739150000", "73a15" };

  g_assert_nonnull (bob);

  pm_clock_advance_s (60);
  who = sign_in (f, "260418", &error);
  g_assert_no_error (error);
  g_assert_cmpint (who->id, ==, bob->id);
  g_assert_cmpint (who->role, ==, PM_ROLE_OPERATOR);
  g_assert_cmpint (who->last_sign_in, ==, START_US / G_USEC_PER_SEC + 60);
  g_clear_pointer (&who, pm_user_free);

  who = sign_in (f, "73915", &error);
  g_assert_no_error (error);
  g_assert_cmpint (who->id, ==, ann->id);
  g_assert_cmpint (who->role, ==, PM_ROLE_SUPERVISOR);
  g_clear_pointer (&who, pm_user_free);

  who = sign_in (f, "73916", &error);
  g_assert_null (who);
  g_assert_error (error, PM_ACCESS_ERROR, PM_ACCESS_ERROR_WRONG_CODE);
  g_clear_error (&error);

  /* Malformed codes are refused before any check and do not count. */
  for (guint i = 0; i < G_N_ELEMENTS (malformed); i++)
    {
      who = sign_in (f, malformed[i], &error);
      g_assert_null (who);
      g_assert_error (error, PM_ACCESS_ERROR, PM_ACCESS_ERROR_MALFORMED_CODE);
      g_clear_error (&error);
    }

  pm_access_sign_out (f->access, ann, "idle timeout");

  /* The audit log has the story, in order, and no code anywhere. */
  audit = pm_store_list_audit (f->store, 0, 100, &error);
  g_assert_no_error (error);
  {
    const char *expected[] = { PM_AUDIT_FIRST_START, PM_AUDIT_USER_ADDED,
                               PM_AUDIT_USER_ADDED, PM_AUDIT_SIGN_IN, PM_AUDIT_SIGN_IN,
                               PM_AUDIT_WRONG_CODE, PM_AUDIT_SIGN_OUT };

    g_assert_cmpuint (audit->len, ==, G_N_ELEMENTS (expected));
    for (guint i = 0; i < audit->len; i++)
      {
        PmAuditEntry *entry = g_ptr_array_index (audit, i);

        g_assert_cmpstr (entry->event, ==, expected[i]);
        g_assert_null (strstr (entry->detail, "73915"));
        g_assert_null (strstr (entry->detail, "260418"));
      }
    g_assert_cmpint (((PmAuditEntry *) audit->pdata[3])->user_id, ==, bob->id);
  }
  g_assert_true (pm_store_verify_audit_log (f->store, NULL, NULL, &error));
  g_assert_no_error (error);
}

/* ---- Lockout ---- */

static void
wrong (Fixture *f,
       int      expected_error)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PmUser) who = sign_in (f, "11111", &error);

  g_assert_null (who);
  g_assert_error (error, PM_ACCESS_ERROR, expected_error);
}

static void
test_lockout_growth (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(PmUser) ann = set_up (f, "Ann", "73915", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PmUser) who = NULL;
  /* Lock length after the 5th, 6th, ... wrong code in a row. */
  const gint64 lengths[] = { 30, 60, 120, 240, 480, 960, 1920, 3600, 3600 };
  gint64 now;

  for (int i = 1; i < PM_ACCESS_FAILURES_BEFORE_LOCKOUT; i++)
    wrong (f, PM_ACCESS_ERROR_WRONG_CODE);
  g_assert_cmpint (locked_until (f), ==, 0);

  for (guint i = 0; i < G_N_ELEMENTS (lengths); i++)
    {
      now = pm_clock_now_us ();
      wrong (f, PM_ACCESS_ERROR_LOCKED_OUT);
      g_assert_cmpint (locked_until (f), ==, now + lengths[i] * G_USEC_PER_SEC);

      /* While locked, even the right code is refused, and that does not count. */
      pm_clock_advance_s (lengths[i] - 1);
      who = sign_in (f, "73915", &error);
      g_assert_null (who);
      g_assert_error (error, PM_ACCESS_ERROR, PM_ACCESS_ERROR_LOCKED_OUT);
      g_clear_error (&error);
      pm_clock_advance_s (1);
      g_assert_cmpint (locked_until (f), ==, 0);
    }

  /* A right code after the lock ends signs in and starts the count again. */
  who = sign_in (f, "73915", &error);
  g_assert_no_error (error);
  g_clear_pointer (&who, pm_user_free);

  for (int i = 1; i < PM_ACCESS_FAILURES_BEFORE_LOCKOUT; i++)
    wrong (f, PM_ACCESS_ERROR_WRONG_CODE);
  now = pm_clock_now_us ();
  wrong (f, PM_ACCESS_ERROR_LOCKED_OUT);
  g_assert_cmpint (locked_until (f), ==, now + 30 * G_USEC_PER_SEC);
}

static void
test_lockout_message (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(PmUser) ann = set_up (f, "Ann", "73915", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PmUser) who = NULL;

  for (int i = 1; i < PM_ACCESS_FAILURES_BEFORE_LOCKOUT; i++)
    wrong (f, PM_ACCESS_ERROR_WRONG_CODE);
  who = sign_in (f, "11111", &error);
  g_assert_error (error, PM_ACCESS_ERROR, PM_ACCESS_ERROR_LOCKED_OUT);
  g_assert_nonnull (strstr (error->message, "30 seconds"));
  g_clear_error (&error);

  pm_clock_advance_s (10);
  who = sign_in (f, "73915", &error);
  g_assert_error (error, PM_ACCESS_ERROR, PM_ACCESS_ERROR_LOCKED_OUT);
  g_assert_nonnull (strstr (error->message, "20 seconds"));
}

static void
test_lockout_restart (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(PmUser) ann = set_up (f, "Ann", "73915", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PmUser) who = NULL;
  gint64 until;

  for (int i = 1; i <= PM_ACCESS_FAILURES_BEFORE_LOCKOUT; i++)
    wrong (f, i < PM_ACCESS_FAILURES_BEFORE_LOCKOUT ? PM_ACCESS_ERROR_WRONG_CODE
                                                    : PM_ACCESS_ERROR_LOCKED_OUT);
  until = locked_until (f);
  g_assert_cmpint (until, ==, START_US + 30 * G_USEC_PER_SEC);

  /* Restart: everything closed, then opened again from the file. */
  g_clear_object (&f->access);
  g_clear_object (&f->store);
  pm_clock_advance_s (5);
  f->store = pm_store_open (f->path, &error);
  g_assert_no_error (error);
  f->access = pm_access_new (f->store);

  g_assert_cmpint (locked_until (f), ==, until);
  who = sign_in (f, "73915", &error);
  g_assert_null (who);
  g_assert_error (error, PM_ACCESS_ERROR, PM_ACCESS_ERROR_LOCKED_OUT);
  g_clear_error (&error);

  /* The count survived too: the next wrong code after the lock doubles it. */
  pm_clock_advance_s (25);
  until = pm_clock_now_us ();
  wrong (f, PM_ACCESS_ERROR_LOCKED_OUT);
  g_assert_cmpint (locked_until (f), ==, until + 60 * G_USEC_PER_SEC);
}

static void
test_lockout_clock_set_back (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr(PmUser) ann = set_up (f, "Ann", "73915", NULL);

  for (int i = 1; i <= PM_ACCESS_FAILURES_BEFORE_LOCKOUT; i++)
    wrong (f, i < PM_ACCESS_FAILURES_BEFORE_LOCKOUT ? PM_ACCESS_ERROR_WRONG_CODE
                                                    : PM_ACCESS_ERROR_LOCKED_OUT);

  /* The clock jumps back a day: the lock never reaches past an hour from now. */
  pm_clock_set_override_us (START_US - G_GINT64_CONSTANT (86400) * G_USEC_PER_SEC);
  g_assert_cmpint (locked_until (f), ==,
                   pm_clock_now_us () + G_GINT64_CONSTANT (3600) * G_USEC_PER_SEC);
}

/* ---- Managing users ---- */

static void
test_duplicate_code (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PmUser) ann = set_up (f, "Ann", "73915", NULL);
  g_autoptr(PmUser) bob = add_user (f, ann, "Bob", PM_ROLE_OPERATOR, "260418", NULL);
  g_autoptr(PmUser) carl = NULL;

  carl = add_user (f, ann, "Carl", PM_ROLE_OPERATOR, "73915", &error);
  g_assert_null (carl);
  g_assert_error (error, PM_ACCESS_ERROR, PM_ACCESS_ERROR_CODE_IN_USE);
  g_clear_error (&error);

  /* A disabled user's code stays taken, so enabling them again is always safe. */
  g_assert_true (set_active (f, ann, bob->id, FALSE, &error));
  carl = add_user (f, ann, "Carl", PM_ROLE_OPERATOR, "260418", &error);
  g_assert_error (error, PM_ACCESS_ERROR, PM_ACCESS_ERROR_CODE_IN_USE);
  g_clear_error (&error);

  g_assert_false (set_code (f, ann, bob->id, "73915", &error));
  g_assert_error (error, PM_ACCESS_ERROR, PM_ACCESS_ERROR_CODE_IN_USE);
  g_clear_error (&error);

  /* Keeping one's own code is not a clash; a new code replaces the old one. */
  g_assert_true (set_code (f, ann, bob->id, "260418", &error));
  g_assert_no_error (error);
  g_assert_true (set_active (f, ann, bob->id, TRUE, &error));
  g_assert_true (set_code (f, ann, bob->id, "99887766", &error));
  g_assert_no_error (error);
  {
    g_autoptr(PmUser) who = sign_in (f, "260418", &error);
    g_assert_error (error, PM_ACCESS_ERROR, PM_ACCESS_ERROR_WRONG_CODE);
    g_clear_error (&error);
  }
  {
    g_autoptr(PmUser) who = sign_in (f, "99887766", &error);
    g_assert_no_error (error);
    g_assert_cmpint (who->id, ==, bob->id);
  }

  carl = add_user (f, ann, "bob", PM_ROLE_OPERATOR, "4444", &error);
  g_assert_error (error, PM_ACCESS_ERROR, PM_ACCESS_ERROR_INVALID_NAME);
}

static void
test_last_supervisor (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PmUser) ann = set_up (f, "Ann", "73915", NULL);
  g_autoptr(PmUser) dee = NULL;
  g_autoptr(PmUser) who = NULL;

  g_assert_false (set_active (f, ann, ann->id, FALSE, &error));
  g_assert_error (error, PM_ACCESS_ERROR, PM_ACCESS_ERROR_LAST_SUPERVISOR);
  g_clear_error (&error);

  dee = add_user (f, ann, "Dee", PM_ROLE_SUPERVISOR, "5150", &error);
  g_assert_no_error (error);
  g_assert_true (set_active (f, ann, ann->id, FALSE, &error));
  g_assert_no_error (error);

  /* Ann is disabled: her code no longer opens, and she can no longer act. */
  who = sign_in (f, "73915", &error);
  g_assert_error (error, PM_ACCESS_ERROR, PM_ACCESS_ERROR_WRONG_CODE);
  g_clear_error (&error);
  g_assert_false (set_active (f, ann, ann->id, TRUE, &error));
  g_assert_error (error, PM_ACCESS_ERROR, PM_ACCESS_ERROR_NOT_PERMITTED);
  g_clear_error (&error);

  g_assert_false (set_active (f, dee, dee->id, FALSE, &error));
  g_assert_error (error, PM_ACCESS_ERROR, PM_ACCESS_ERROR_LAST_SUPERVISOR);
  g_clear_error (&error);

  g_assert_false (set_active (f, dee, 999, FALSE, &error));
  g_assert_error (error, PM_ACCESS_ERROR, PM_ACCESS_ERROR_NO_SUCH_USER);
}

static void
test_operator_cannot_manage (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PmUser) ann = set_up (f, "Ann", "73915", NULL);
  g_autoptr(PmUser) bob = add_user (f, ann, "Bob", PM_ROLE_OPERATOR, "260418", NULL);
  g_autoptr(PmUser) sam = add_user (f, ann, "Sam", PM_ROLE_SUPPORT, "8080", NULL);
  g_autoptr(PmUser) eve = NULL;
  PmUser forged;

  eve = add_user (f, bob, "Eve", PM_ROLE_SUPERVISOR, "6666", &error);
  g_assert_null (eve);
  g_assert_error (error, PM_ACCESS_ERROR, PM_ACCESS_ERROR_NOT_PERMITTED);
  g_clear_error (&error);

  eve = add_user (f, sam, "Eve", PM_ROLE_OPERATOR, "6666", &error);
  g_assert_error (error, PM_ACCESS_ERROR, PM_ACCESS_ERROR_NOT_PERMITTED);
  g_clear_error (&error);

  g_assert_false (set_code (f, bob, bob->id, "1212", &error));
  g_assert_error (error, PM_ACCESS_ERROR, PM_ACCESS_ERROR_NOT_PERMITTED);
  g_clear_error (&error);

  /* The role is read from the store, not from what the caller claims. */
  forged = *bob;
  forged.role = PM_ROLE_SUPERVISOR;
  g_assert_false (set_active (f, &forged, ann->id, FALSE, &error));
  g_assert_error (error, PM_ACCESS_ERROR, PM_ACCESS_ERROR_NOT_PERMITTED);
}

static void
test_list_users (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PmUser) ann = set_up (f, "Ann", "73915", NULL);
  g_autoptr(PmUser) bob = add_user (f, ann, "Bob", PM_ROLE_OPERATOR, "260418", NULL);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GPtrArray) users = NULL;

  g_assert_true (set_active (f, ann, bob->id, FALSE, NULL));

  pm_access_list_users_async (f->access, NULL, got_result_cb, &result);
  users = pm_access_list_users_finish (f->access, wait_result (&result), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (users->len, ==, 2);
  g_assert_cmpstr (((PmUser *) users->pdata[0])->name, ==, "Ann");
  g_assert_true (((PmUser *) users->pdata[0])->active);
  g_assert_cmpstr (((PmUser *) users->pdata[1])->name, ==, "Bob");
  g_assert_false (((PmUser *) users->pdata[1])->active);

  g_assert_cmpstr (pm_role_to_string (PM_ROLE_SUPPORT), ==, "support");
}

static void
test_codes_never_logged (void)
{
  /* Runs last: every earlier test's log lines are in all_logs. */
  g_assert_cmpuint (all_logs->len, >, 0);
  g_assert_null (strstr (all_logs->str, "73915"));
  g_assert_null (strstr (all_logs->str, "260418"));
  g_assert_null (strstr (all_logs->str, "99887766"));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  all_logs = g_string_new (NULL);
  g_log_set_writer_func (keep_writer, NULL, NULL);
  /* Keep sign-in messages so the last test can read them. */
  g_setenv ("G_MESSAGES_DEBUG", "all", TRUE);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  g_test_add_func ("/meter/access/code/form", test_code_form);
  g_test_add_func ("/meter/access/code/default-params", test_default_params);
  g_test_add_func ("/meter/access/code/rfc7914-vector", test_known_vector);
  g_test_add_func ("/meter/access/code/salted", test_salted);
  g_test_add_func ("/meter/access/code/malformed-stored", test_malformed_stored);
  ADD ("/meter/access/set-up/first-supervisor", test_set_up);
  ADD ("/meter/access/set-up/bad-input", test_set_up_bad_input);
  ADD ("/meter/access/sign-in/right-and-wrong", test_sign_in);
  ADD ("/meter/access/lockout/growth", test_lockout_growth);
  ADD ("/meter/access/lockout/message", test_lockout_message);
  ADD ("/meter/access/lockout/restart", test_lockout_restart);
  ADD ("/meter/access/lockout/clock-set-back", test_lockout_clock_set_back);
  ADD ("/meter/access/users/duplicate-code", test_duplicate_code);
  ADD ("/meter/access/users/last-supervisor", test_last_supervisor);
  ADD ("/meter/access/users/operator-cannot-manage", test_operator_cannot_manage);
  ADD ("/meter/access/users/list", test_list_users);
  g_test_add_func ("/meter/access/zz/codes-never-logged", test_codes_never_logged);

  return g_test_run ();
}
