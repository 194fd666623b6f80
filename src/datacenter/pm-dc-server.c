/* pm-dc-server.c
 *
 * Runs on the thread that called pm_dc_server_listen (): libsoup calls the handlers there,
 * and they use the one SQLite connection synchronously. Every handler validates the message
 * with the same parsers the machine uses, answers errors as <error> messages, and commits
 * before it answers, so an answer the machine never received can be asked for again and
 * gets the same result (refills by request id, uploads by batch id).
 */
#include "pm-dc-server.h"

#include <libsoup/soup.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "pm-clock.h"
#include "pm-log.h"
#include "pm-package.h"
#include "pm-protocol.h"
#include "pm-psd-message.h"
#include "pm-signature.h"

G_DEFINE_QUARK (pm-dc-error-quark, pm_dc_error)

#define MANIFEST_LIFETIME_S   (7 * 24 * 3600)

struct _PmDcServer
{
  GObject parent_instance;

  /* All fields: set at construction, then touched only on the serving thread. */
  char         *directory;
  char         *host;
  sqlite3      *db;
  PmSigningKey *provider_key;
  GTlsCertificate *certificate;
  SoupServer   *https;
  SoupServer   *http;
  guint         https_port;
  guint         http_port;
  PmMills       refill_min;
  PmMills       refill_max;
};

G_DEFINE_FINAL_TYPE (PmDcServer, pm_dc_server, G_TYPE_OBJECT)

static const char schema_sql[] =
  "PRAGMA journal_mode=WAL;"
  "PRAGMA synchronous=FULL;"
  "PRAGMA foreign_keys=ON;"
  "CREATE TABLE IF NOT EXISTS account ("
  "  id TEXT PRIMARY KEY, balance INTEGER NOT NULL DEFAULT 0 CHECK (balance >= 0));"
  "CREATE TABLE IF NOT EXISTS device ("
  "  id TEXT PRIMARY KEY, psd_serial INTEGER UNIQUE NOT NULL, psd_key TEXT NOT NULL,"
  "  account TEXT NOT NULL REFERENCES account(id), origin_zip INTEGER NOT NULL,"
  "  token TEXT, last_refill_seq INTEGER NOT NULL DEFAULT 0,"
  "  highest_seq INTEGER NOT NULL DEFAULT 0, last_audit_at INTEGER,"
  "  registered_at INTEGER NOT NULL);"
  "CREATE TABLE IF NOT EXISTS refill ("
  "  device TEXT NOT NULL REFERENCES device(id), sequence INTEGER NOT NULL,"
  "  request_id TEXT NOT NULL, receipt_id TEXT UNIQUE NOT NULL, amount INTEGER NOT NULL,"
  "  issued_at INTEGER NOT NULL, balance_after INTEGER NOT NULL, pvd BLOB NOT NULL,"
  "  psd_serial INTEGER NOT NULL,"
  "  PRIMARY KEY (device, psd_serial, sequence), UNIQUE (device, request_id));"
  "CREATE TABLE IF NOT EXISTS audit ("
  "  device TEXT NOT NULL, received_at INTEGER NOT NULL, ascending INTEGER NOT NULL,"
  "  descending INTEGER NOT NULL, pieces INTEGER NOT NULL, request BLOB NOT NULL);"
  "CREATE TABLE IF NOT EXISTS batch ("
  "  device TEXT NOT NULL, id TEXT NOT NULL, sha256 TEXT NOT NULL,"
  "  first_seq INTEGER NOT NULL, last_seq INTEGER NOT NULL, receipt BLOB NOT NULL,"
  "  received_at INTEGER NOT NULL, PRIMARY KEY (device, id));"
  "CREATE TABLE IF NOT EXISTS record ("
  "  device TEXT NOT NULL, seq INTEGER NOT NULL, uuid TEXT, created_at INTEGER NOT NULL,"
  "  batch TEXT NOT NULL, payload BLOB NOT NULL, PRIMARY KEY (device, seq))"
  "  WITHOUT ROWID;"
  "CREATE TABLE IF NOT EXISTS package ("
  "  type TEXT NOT NULL, name TEXT NOT NULL, version INTEGER NOT NULL,"
  "  length INTEGER NOT NULL, sha256 TEXT NOT NULL, file TEXT NOT NULL, effective TEXT,"
  "  published_at INTEGER NOT NULL, PRIMARY KEY (type, name, version));"
  "CREATE TABLE IF NOT EXISTS installation ("
  "  device TEXT NOT NULL, type TEXT NOT NULL, name TEXT NOT NULL, version INTEGER NOT NULL,"
  "  status TEXT NOT NULL, detail TEXT, at INTEGER NOT NULL);"
  "CREATE TABLE IF NOT EXISTS cost_account ("
  "  account TEXT NOT NULL, id TEXT NOT NULL, parent TEXT, name TEXT NOT NULL,"
  "  active INTEGER NOT NULL, revision INTEGER NOT NULL, PRIMARY KEY (account, id));"
  "CREATE TABLE IF NOT EXISTS usage ("
  "  device TEXT NOT NULL, cost_account TEXT NOT NULL, date TEXT NOT NULL,"
  "  pieces INTEGER NOT NULL, postage INTEGER NOT NULL,"
  "  PRIMARY KEY (device, cost_account, date));"
  "CREATE TABLE IF NOT EXISTS health ("
  "  device TEXT NOT NULL, key TEXT NOT NULL, taken_at INTEGER NOT NULL,"
  "  body BLOB NOT NULL, PRIMARY KEY (device, key));"
  "CREATE TABLE IF NOT EXISTS error_log ("
  "  device TEXT NOT NULL, key TEXT NOT NULL, taken_at INTEGER NOT NULL,"
  "  received_at INTEGER NOT NULL, records INTEGER NOT NULL, dropped INTEGER NOT NULL,"
  "  PRIMARY KEY (device, key));"
  "CREATE TABLE IF NOT EXISTS error_log_record ("
  "  device TEXT NOT NULL, key TEXT NOT NULL, seq INTEGER NOT NULL, at_us INTEGER NOT NULL,"
  "  level TEXT NOT NULL, domain TEXT, message TEXT NOT NULL,"
  "  PRIMARY KEY (device, key, seq)) WITHOUT ROWID;"
  "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
  "INSERT OR IGNORE INTO meta VALUES ('manifest-serial', 0);"
  "PRAGMA user_version=2;";

/* ---- SQLite helpers ---------------------------------------------------------------- */

static gboolean
db_error (PmDcServer *self,
          GError    **error,
          const char *what)
{
  g_set_error (error, PM_DC_ERROR, PM_DC_ERROR_DATABASE, "%s: %s", what,
               sqlite3_errmsg (self->db));
  return FALSE;
}

static sqlite3_stmt *
prepare (PmDcServer *self,
         const char *sql)
{
  sqlite3_stmt *stmt = NULL;

  /* Statements are fixed strings of this file: a failure is a programming error. */
  if (sqlite3_prepare_v2 (self->db, sql, -1, &stmt, NULL) != SQLITE_OK)
    g_error ("data center SQL does not compile: %s (%s)", sqlite3_errmsg (self->db), sql);
  return stmt;
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)

static gboolean
exec (PmDcServer *self,
      const char *sql,
      GError    **error)
{
  if (sqlite3_exec (self->db, sql, NULL, NULL, NULL) != SQLITE_OK)
    return db_error (self, error, sql);
  return TRUE;
}

static void
bind_text (sqlite3_stmt *stmt,
           int           index,
           const char   *text)
{
  sqlite3_bind_text (stmt, index, text, -1, SQLITE_TRANSIENT);
}

static char *
column_text (sqlite3_stmt *stmt,
             int           index)
{
  return g_strdup ((const char *) sqlite3_column_text (stmt, index));
}

static GBytes *
column_bytes (sqlite3_stmt *stmt,
              int           index)
{
  return g_bytes_new (sqlite3_column_blob (stmt, index),
                      (gsize) sqlite3_column_bytes (stmt, index));
}

static char *
random_id (const char *prefix)
{
  GString *id = g_string_new (prefix);

  for (int i = 0; i < 4; i++)
    g_string_append_printf (id, "%08x", g_random_int ());
  return g_string_free (id, FALSE);
}

/* ---- object ------------------------------------------------------------------------ */

static void
pm_dc_server_finalize (GObject *object)
{
  PmDcServer *self = PM_DC_SERVER (object);

  pm_dc_server_disconnect (self);
  g_clear_object (&self->https);
  g_clear_object (&self->http);
  g_clear_object (&self->certificate);
  g_clear_pointer (&self->provider_key, pm_signing_key_unref);
  if (self->db != NULL)
    sqlite3_close (self->db);
  g_free (self->directory);
  g_free (self->host);

  G_OBJECT_CLASS (pm_dc_server_parent_class)->finalize (object);
}

static void
pm_dc_server_class_init (PmDcServerClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = pm_dc_server_finalize;
}

static void
pm_dc_server_init (PmDcServer *self)
{
  self->refill_min = 1 * PM_MILLS_PER_DOLLAR;
  self->refill_max = 10000 * PM_MILLS_PER_DOLLAR;
}

static gboolean
load_keys (PmDcServer *self,
           GError    **error)
{
  g_autofree char *key_file = g_build_filename (self->directory, "provider-key.pem", NULL);
  g_autofree char *cert_file = g_build_filename (self->directory, "server.pem", NULL);
  g_autofree char *cert_key = g_build_filename (self->directory, "server-key.pem", NULL);
  g_autofree char *host_file = g_build_filename (self->directory, "host", NULL);
  g_autofree char *pem = NULL;
  gsize length = 0;

  if (!g_file_get_contents (key_file, &pem, &length, NULL) ||
      !g_file_get_contents (host_file, &self->host, NULL, NULL))
    {
      g_set_error (error, PM_DC_ERROR, PM_DC_ERROR_KEYS,
                   "%s has no data center keys; run `postmeter-datacenter init %s "
                   "--host NAME` first", self->directory, self->directory);
      return FALSE;
    }
  g_strstrip (self->host);
  self->provider_key = pm_signing_key_new_from_pem (pem, (gssize) length, error);
  if (self->provider_key == NULL)
    {
      g_prefix_error (error, "The provider key %s is unusable: ", key_file);
      return FALSE;
    }
  self->certificate = g_tls_certificate_new_from_files (cert_file, cert_key, error);
  if (self->certificate == NULL)
    {
      g_prefix_error (error, "The server certificate %s is unusable: ", cert_file);
      return FALSE;
    }
  return TRUE;
}

PmDcServer *
pm_dc_server_new (const char *directory,
                  GError    **error)
{
  g_autoptr(PmDcServer) self = g_object_new (PM_TYPE_DC_SERVER, NULL);
  g_autofree char *db_file = g_build_filename (directory, "datacenter.sqlite", NULL);

  g_return_val_if_fail (directory != NULL, NULL);

  self->directory = g_strdup (directory);
  if (!load_keys (self, error))
    return NULL;

  if (sqlite3_open_v2 (db_file, &self->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                       SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK)
    {
      db_error (self, error, "Could not open the data center database");
      return NULL;
    }
  sqlite3_busy_timeout (self->db, 5000);
  if (!exec (self, schema_sql, error))
    return NULL;

  return g_steal_pointer (&self);
}

const char *
pm_dc_server_get_host (PmDcServer *self)
{
  return self->host;
}

guint
pm_dc_server_get_https_port (PmDcServer *self)
{
  return self->https_port;
}

guint
pm_dc_server_get_http_port (PmDcServer *self)
{
  return self->http_port;
}

void
pm_dc_server_set_refill_limits (PmDcServer *self,
                                PmMills     minimum,
                                PmMills     maximum)
{
  self->refill_min = minimum;
  self->refill_max = maximum;
}

void
pm_dc_server_disconnect (PmDcServer *self)
{
  if (self->https != NULL)
    soup_server_disconnect (self->https);
  if (self->http != NULL)
    soup_server_disconnect (self->http);
}

/* ---- administration ---------------------------------------------------------------- */

gboolean
pm_dc_server_fund_account (PmDcServer *self,
                           const char *account,
                           PmMills     amount,
                           PmMills    *out_balance,
                           GError    **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  if (amount <= 0 || amount > PM_MILLS_MAX)
    {
      g_set_error (error, PM_DC_ERROR, PM_DC_ERROR_INVALID,
                   "A deposit must be more than zero");
      return FALSE;
    }
  stmt = prepare (self, "INSERT INTO account (id, balance) VALUES (?1, ?2) "
                        "ON CONFLICT (id) DO UPDATE SET balance = balance + ?2 "
                        "RETURNING balance");
  bind_text (stmt, 1, account);
  sqlite3_bind_int64 (stmt, 2, amount);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    return db_error (self, error, "Could not fund the account");
  if (out_balance != NULL)
    *out_balance = sqlite3_column_int64 (stmt, 0);
  return TRUE;
}

gboolean
pm_dc_server_get_balance (PmDcServer *self,
                          const char *account,
                          PmMills    *out_balance,
                          GError    **error)
{
  g_autoptr(sqlite3_stmt) stmt = prepare (self, "SELECT balance FROM account WHERE id = ?");

  bind_text (stmt, 1, account);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      g_set_error (error, PM_DC_ERROR, PM_DC_ERROR_NOT_FOUND,
                   "There is no customer account “%s”", account);
      return FALSE;
    }
  *out_balance = sqlite3_column_int64 (stmt, 0);
  return TRUE;
}

gboolean
pm_dc_server_register_device (PmDcServer *self,
                              guint32     psd_serial,
                              const char *psd_public_key_pem,
                              const char *account,
                              guint32     origin_zip,
                              char      **out_device_id,
                              GError    **error)
{
  g_autoptr(PmVerifyKey) key = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *device_id = g_strdup_printf ("PM%010u", psd_serial);

  key = pm_verify_key_new_from_pem (psd_public_key_pem, -1, error);
  if (key == NULL)
    {
      g_prefix_error (error, "The PSD's public key is unusable: ");
      return FALSE;
    }
  if (origin_zip > 99999)
    {
      g_set_error (error, PM_DC_ERROR, PM_DC_ERROR_INVALID,
                   "The origin ZIP must be five digits");
      return FALSE;
    }

  stmt = prepare (self, "INSERT OR IGNORE INTO account (id) VALUES (?)");
  bind_text (stmt, 1, account);
  sqlite3_step (stmt);
  g_clear_pointer (&stmt, sqlite3_finalize);

  stmt = prepare (self, "INSERT INTO device (id, psd_serial, psd_key, account, origin_zip,"
                        " registered_at) VALUES (?, ?, ?, ?, ?, ?)");
  bind_text (stmt, 1, device_id);
  sqlite3_bind_int64 (stmt, 2, psd_serial);
  bind_text (stmt, 3, psd_public_key_pem);
  bind_text (stmt, 4, account);
  sqlite3_bind_int64 (stmt, 5, origin_zip);
  sqlite3_bind_int64 (stmt, 6, pm_clock_now_s ());
  if (sqlite3_step (stmt) != SQLITE_DONE)
    {
      if (sqlite3_extended_errcode (self->db) == SQLITE_CONSTRAINT_UNIQUE ||
          sqlite3_extended_errcode (self->db) == SQLITE_CONSTRAINT_PRIMARYKEY)
        {
          g_set_error (error, PM_DC_ERROR, PM_DC_ERROR_EXISTS,
                       "PSD %u is already registered", psd_serial);
          return FALSE;
        }
      return db_error (self, error, "Could not register the device");
    }

  g_message ("Registered PSD %u as device %s for account %s", psd_serial, device_id, account);
  if (out_device_id != NULL)
    *out_device_id = g_steal_pointer (&device_id);
  return TRUE;
}

/* The content type a package's signature names, per package type. */
static char *
package_content_type (const char *type)
{
  if (g_strcmp0 (type, "rates") == 0)
    return g_strdup (PM_PACKAGE_CONTENT_TYPE_RATES);
  return g_strdup_printf ("application/vnd.postmeter.%s", type);
}

gboolean
pm_dc_server_publish_package (PmDcServer *self,
                              const char *file,
                              const char *type,
                              const char *name,
                              gint64      version,
                              const char *effective,
                              GError    **error)
{
  g_autofree char *contents = NULL;
  g_autofree char *sha256 = NULL;
  g_autofree char *packages_dir = g_build_filename (self->directory, "packages", NULL);
  g_autofree char *base = g_strdup_printf ("%s-%s-%" G_GINT64_FORMAT, type, name, version);
  g_autofree char *target = g_build_filename (packages_dir, base, NULL);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GBytes) signature = NULL;
  g_autofree char *signature_file = NULL;
  g_autofree char *target_sig = NULL;
  gsize length = 0;

  if (g_strcmp0 (type, "rates") != 0 && g_strcmp0 (type, "graphics") != 0 &&
      g_strcmp0 (type, "software") != 0)
    {
      g_set_error (error, PM_DC_ERROR, PM_DC_ERROR_INVALID,
                   "A package type is rates, graphics or software, not “%s”", type);
      return FALSE;
    }
  if (version < 1 || !g_regex_match_simple ("^[A-Za-z0-9._-]{1,80}$", name, 0, 0))
    {
      g_set_error (error, PM_DC_ERROR, PM_DC_ERROR_INVALID,
                   "A package needs a simple name (letters, digits, . _ -) and a version "
                   "of 1 or more");
      return FALSE;
    }
  if (!g_file_get_contents (file, &contents, &length, error))
    return FALSE;
  if (length == 0)
    {
      g_set_error (error, PM_DC_ERROR, PM_DC_ERROR_INVALID, "%s is empty", file);
      return FALSE;
    }
  sha256 = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) contents, length);

  /* A signature made offline (FILE.sig beside the file) is published as it is; otherwise
   * the data center signs with the provider key, valid for 400 days. */
  signature_file = g_strconcat (file, ".sig", NULL);
  if (g_file_test (signature_file, G_FILE_TEST_EXISTS))
    {
      gsize sig_length = 0;
      char *sig_text = NULL;

      if (!g_file_get_contents (signature_file, &sig_text, &sig_length, error))
        return FALSE;
      signature = g_bytes_new_take (sig_text, sig_length);
    }
  else
    {
      g_autoptr(GBytes) content = g_bytes_new_static (contents, length);
      g_autofree char *content_type = package_content_type (type);

      signature = pm_package_sign (self->provider_key, name, content_type, (guint) version,
                                   pm_clock_now_s () + 400 * 24 * 3600, content, error);
      if (signature == NULL)
        return FALSE;
    }

  g_mkdir_with_parents (packages_dir, 0755);
  target_sig = g_strconcat (target, ".sig", NULL);
  if (!g_file_set_contents_full (target, contents, (gssize) length,
                                 G_FILE_SET_CONTENTS_CONSISTENT |
                                 G_FILE_SET_CONTENTS_DURABLE, 0644, error) ||
      !g_file_set_contents_full (target_sig, g_bytes_get_data (signature, NULL),
                                 (gssize) g_bytes_get_size (signature),
                                 G_FILE_SET_CONTENTS_CONSISTENT |
                                 G_FILE_SET_CONTENTS_DURABLE, 0644, error))
    return FALSE;

  stmt = prepare (self, "INSERT INTO package VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  bind_text (stmt, 1, type);
  bind_text (stmt, 2, name);
  sqlite3_bind_int64 (stmt, 3, version);
  sqlite3_bind_int64 (stmt, 4, (gint64) length);
  bind_text (stmt, 5, sha256);
  bind_text (stmt, 6, target);
  bind_text (stmt, 7, effective);
  sqlite3_bind_int64 (stmt, 8, pm_clock_now_s ());
  if (sqlite3_step (stmt) != SQLITE_DONE)
    {
      g_set_error (error, PM_DC_ERROR, PM_DC_ERROR_EXISTS,
                   "%s %s version %" G_GINT64_FORMAT " is already published; publish a "
                   "higher version", type, name, version);
      return FALSE;
    }
  return exec (self, "UPDATE meta SET value = value + 1 WHERE key = 'manifest-serial'",
               error);
}

char *
pm_dc_server_describe_uploads (PmDcServer *self,
                               GError    **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  GString *out = g_string_new (NULL);

  stmt = prepare (self, "SELECT d.id, d.highest_seq,"
                        " (SELECT count(*) FROM record r WHERE r.device = d.id),"
                        " (SELECT count(*) FROM batch b WHERE b.device = d.id)"
                        " FROM device d ORDER BY d.id");
  g_string_append_printf (out, "%-14s %10s %12s %8s\n", "device", "records",
                          "contiguous", "batches");
  while (sqlite3_step (stmt) == SQLITE_ROW)
    g_string_append_printf (out, "%-14s %10" G_GINT64_FORMAT " %12" G_GINT64_FORMAT
                            " %8" G_GINT64_FORMAT "\n",
                            sqlite3_column_text (stmt, 0),
                            (gint64) sqlite3_column_int64 (stmt, 2),
                            (gint64) sqlite3_column_int64 (stmt, 1),
                            (gint64) sqlite3_column_int64 (stmt, 3));
  return g_string_free (out, FALSE);
}

static GPtrArray *
load_error_log (PmDcServer *self,
                const char *device_id,
                const char *key)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  GPtrArray *records = g_ptr_array_new_with_free_func ((GDestroyNotify) pm_log_record_free);

  stmt = prepare (self, "SELECT at_us, level, domain, message FROM error_log_record"
                        " WHERE device = ? AND key = ? ORDER BY seq");
  bind_text (stmt, 1, device_id);
  bind_text (stmt, 2, key);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      const char *level = (const char *) sqlite3_column_text (stmt, 1);
      GLogLevelFlags flags = g_strcmp0 (level, "ERROR") == 0 ? G_LOG_LEVEL_ERROR
                           : g_strcmp0 (level, "CRITICAL") == 0 ? G_LOG_LEVEL_CRITICAL
                           : G_LOG_LEVEL_WARNING;

      g_ptr_array_add (records,
                       pm_log_record_new (sqlite3_column_int64 (stmt, 0), flags,
                                          (const char *) sqlite3_column_text (stmt, 2),
                                          (const char *) sqlite3_column_text (stmt, 3)));
    }
  return records;
}

char *
pm_dc_server_describe_error_logs (PmDcServer *self,
                                  const char *device_id,
                                  GError    **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  GString *out = g_string_new (NULL);
  guint logs = 0;

  g_return_val_if_fail (PM_IS_DC_SERVER (self), NULL);

  stmt = prepare (self, "SELECT device, key, received_at, records, dropped FROM error_log"
                        " WHERE ?1 IS NULL OR device = ?1"
                        " ORDER BY received_at DESC, device, key");
  bind_text (stmt, 1, device_id);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      const char *device = (const char *) sqlite3_column_text (stmt, 0);
      const char *key = (const char *) sqlite3_column_text (stmt, 1);
      g_autoptr(GDateTime) received = g_date_time_new_from_unix_utc (
                                        sqlite3_column_int64 (stmt, 2));
      g_autofree char *when = received != NULL
                                ? g_date_time_format (received, "%Y-%m-%d %H:%M:%S UTC")
                                : g_strdup ("?");
      g_autoptr(GPtrArray) records = load_error_log (self, device, key);
      g_autoptr(GBytes) text = pm_log_records_to_text (records, 0);
      g_autofree char *copy = g_strndup (g_bytes_get_data (text, NULL),
                                         g_bytes_get_size (text));
      g_auto(GStrv) lines = g_strsplit (copy, "\n", -1);

      g_string_append_printf (out, "%s  received %s  %" G_GINT64_FORMAT " records, %"
                              G_GINT64_FORMAT " older dropped  (%s)\n", device, when,
                              (gint64) sqlite3_column_int64 (stmt, 3),
                              (gint64) sqlite3_column_int64 (stmt, 4), key);
      /* Line 0 is the text form's header. Its escapes keep control characters out, so
       * nothing a machine sent can move the terminal's cursor or hide a line. */
      for (guint i = 1; lines[i] != NULL; i++)
        if (*lines[i] != '\0')
          g_string_append_printf (out, "  %s\n", lines[i]);
      logs++;
    }
  if (logs == 0)
    g_string_append (out, device_id != NULL ? "No error logs from this device.\n"
                                            : "No error logs.\n");
  return g_string_free (out, FALSE);
}

GPtrArray *
pm_dc_server_get_latest_error_log (PmDcServer *self,
                                   const char *device_id,
                                   guint64    *out_dropped)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *key = NULL;

  g_return_val_if_fail (PM_IS_DC_SERVER (self), NULL);

  stmt = prepare (self, "SELECT key, dropped FROM error_log WHERE device = ?"
                        " ORDER BY received_at DESC, rowid DESC LIMIT 1");
  bind_text (stmt, 1, device_id);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    return NULL;
  key = column_text (stmt, 0);
  if (out_dropped != NULL)
    *out_dropped = (guint64) sqlite3_column_int64 (stmt, 1);
  return load_error_log (self, device_id, key);
}

gint64
pm_dc_server_count_records (PmDcServer *self,
                            const char *device_id,
                            gint64     *out_min_seq,
                            gint64     *out_max_seq)
{
  g_autoptr(sqlite3_stmt) stmt = prepare (self, "SELECT count(*), ifnull(min(seq), 0),"
                                                " ifnull(max(seq), 0) FROM record"
                                                " WHERE device = ?");

  bind_text (stmt, 1, device_id);
  sqlite3_step (stmt);
  if (out_min_seq != NULL)
    *out_min_seq = sqlite3_column_int64 (stmt, 1);
  if (out_max_seq != NULL)
    *out_max_seq = sqlite3_column_int64 (stmt, 2);
  return sqlite3_column_int64 (stmt, 0);
}

gint64
pm_dc_server_count_batches (PmDcServer *self,
                            const char *device_id)
{
  g_autoptr(sqlite3_stmt) stmt = prepare (self, "SELECT count(*) FROM batch"
                                                " WHERE device = ?");

  bind_text (stmt, 1, device_id);
  sqlite3_step (stmt);
  return sqlite3_column_int64 (stmt, 0);
}

/* ---- answering --------------------------------------------------------------------- */

static void
respond_bytes (SoupServerMessage *msg,
               guint              status,
               const char        *content_type,
               GBytes            *body)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, content_type, SOUP_MEMORY_COPY,
                                    g_bytes_get_data (body, NULL), g_bytes_get_size (body));
}

static void
respond_xml (SoupServerMessage *msg,
             GBytes            *body)
{
  respond_bytes (msg, SOUP_STATUS_OK, "application/xml", body);
}

static void
respond_error (SoupServerMessage *msg,
               guint              status,
               const char        *code,
               const char        *message)
{
  g_autoptr(GBytes) body = pm_protocol_error_build (code, message);

  g_debug ("Answering %u %s: %s", status, code, message);
  respond_bytes (msg, status, "application/xml", body);
}

static GBytes *
request_body (SoupServerMessage *msg)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);

  return soup_message_body_flatten (body);
}

/* The device a bearer token belongs to; answers 401 itself when there is none. */
static char *
authenticate_bearer (PmDcServer        *self,
                     SoupServerMessage *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *value = soup_message_headers_get_one (headers, "Authorization");
  g_autoptr(sqlite3_stmt) stmt = NULL;

  if (value == NULL || !g_str_has_prefix (value, "Bearer ") || strlen (value) > 200)
    {
      respond_error (msg, SOUP_STATUS_UNAUTHORIZED, "not-authenticated",
                     "The machine must authenticate with the distributor first");
      return NULL;
    }
  stmt = prepare (self, "SELECT id FROM device WHERE token = ?");
  bind_text (stmt, 1, value + strlen ("Bearer "));
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      respond_error (msg, SOUP_STATUS_UNAUTHORIZED, "not-authenticated",
                     "The session has expired; authenticate again");
      return NULL;
    }
  return column_text (stmt, 0);
}

static gboolean
check_method (SoupServerMessage *msg,
              const char        *method)
{
  if (g_strcmp0 (soup_server_message_get_method (msg), method) != 0)
    {
      respond_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "method",
                     "This address does not take that method");
      return FALSE;
    }
  return TRUE;
}

/* ---- connectivity ------------------------------------------------------------------ */

static void
handle_204 (SoupServer        *server,
            SoupServerMessage *msg,
            const char        *path,
            GHashTable        *query,
            gpointer           user_data)
{
  soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, NULL);
}

/* ---- distributor ------------------------------------------------------------------- */

static char *
service_url (PmDcServer *self,
             const char *path)
{
  return g_strdup_printf ("https://%s:%u%s", self->host, self->https_port, path);
}

static void
handle_authenticate (SoupServer        *server,
                     SoupServerMessage *msg,
                     const char        *path,
                     GHashTable        *query,
                     gpointer           user_data)
{
  PmDcServer *self = user_data;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(PmAuthRequest) request = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(PmVerifyKey) registered = NULL;
  g_autoptr(PmVerifyKey) presented = NULL;
  g_autofree char *registered_fp = NULL;
  g_autofree char *presented_fp = NULL;
  g_autofree char *device_id = NULL;
  g_autofree char *key_pem = NULL;
  g_autoptr(GBytes) answer = NULL;
  PmAuthResponse response = { 0 };
  guint64 serial;

  if (!check_method (msg, "POST"))
    return;
  body = request_body (msg);
  request = pm_auth_request_parse (body, &error);
  if (request == NULL)
    {
      respond_error (msg, SOUP_STATUS_BAD_REQUEST, "malformed", error->message);
      return;
    }

  if (!g_ascii_string_to_unsigned (request->psd_serial, 10, 0, G_MAXUINT32, &serial, NULL))
    {
      respond_error (msg, SOUP_STATUS_FORBIDDEN, "unknown-device",
                     "This PSD serial is not registered with the provider");
      return;
    }
  stmt = prepare (self, "SELECT id, psd_key FROM device WHERE psd_serial = ?");
  sqlite3_bind_int64 (stmt, 1, (gint64) serial);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      respond_error (msg, SOUP_STATUS_FORBIDDEN, "unknown-device",
                     "This PSD serial is not registered with the provider");
      return;
    }
  device_id = column_text (stmt, 0);
  key_pem = column_text (stmt, 1);
  g_clear_pointer (&stmt, sqlite3_finalize);

  /* The machine presents its PSD's public key; it must be the one registered. */
  registered = pm_verify_key_new_from_pem (key_pem, -1, NULL);
  presented = pm_verify_key_new_from_pem (g_bytes_get_data (request->certificate, NULL),
                                          (gssize) g_bytes_get_size (request->certificate),
                                          NULL);
  if (registered != NULL)
    registered_fp = pm_verify_key_fingerprint (registered);
  if (presented != NULL)
    presented_fp = pm_verify_key_fingerprint (presented);
  if (registered_fp == NULL || g_strcmp0 (registered_fp, presented_fp) != 0)
    {
      respond_error (msg, SOUP_STATUS_FORBIDDEN, "wrong-certificate",
                     "The PSD's key does not match the one registered for its serial");
      return;
    }

  response.device_id = device_id;
  response.token = random_id ("");
  response.server_time_s = pm_clock_now_s ();
  response.service_urls[PM_REMOTE_SERVICE_DISTRIBUTOR] = service_url (self, "/distributor");
  response.service_urls[PM_REMOTE_SERVICE_FUNDS] = service_url (self, "/funds");
  response.service_urls[PM_REMOTE_SERVICE_DOWNLOADS] = service_url (self, "/downloads");
  response.service_urls[PM_REMOTE_SERVICE_ACCOUNTING] = service_url (self, "/accounting");
  response.service_urls[PM_REMOTE_SERVICE_UPLOADS] = service_url (self, "/uploads");
  response.service_urls[PM_REMOTE_SERVICE_HEALTH] = service_url (self, "/health");
  response.service_urls[PM_REMOTE_SERVICE_HELP] = service_url (self, "/help");
  if (self->http_port != 0)
    response.service_urls[PM_REMOTE_SERVICE_CONNECTIVITY] =
      g_strdup_printf ("http://%s:%u/generate_204", self->host, self->http_port);

  stmt = prepare (self, "UPDATE device SET token = ? WHERE id = ?");
  bind_text (stmt, 1, response.token);
  bind_text (stmt, 2, device_id);
  sqlite3_step (stmt);

  answer = pm_auth_response_build (&response);
  respond_xml (msg, answer);

  response.device_id = NULL;
  g_free (response.token);
  for (guint i = 0; i < PM_REMOTE_SERVICE_COUNT; i++)
    g_free (response.service_urls[i]);
  g_message ("Device %s (%s, software %s) authenticated", device_id, request->model,
             request->software_version);
}

/* ---- funds ------------------------------------------------------------------------- */

typedef struct
{
  char    *id;
  guint32  psd_serial;
  char    *psd_key;
  char    *account;
  guint32  origin_zip;
  gint64   last_refill_seq;
} DeviceRow;

static void
device_row_clear (DeviceRow *row)
{
  g_free (row->id);
  g_free (row->psd_key);
  g_free (row->account);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (DeviceRow, device_row_clear)

static gboolean
load_device (PmDcServer *self,
             const char *device_id,
             DeviceRow  *row)
{
  g_autoptr(sqlite3_stmt) stmt = prepare (self, "SELECT psd_serial, psd_key, account,"
                                                " origin_zip, last_refill_seq FROM device"
                                                " WHERE id = ?");

  bind_text (stmt, 1, device_id);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    return FALSE;
  row->id = g_strdup (device_id);
  row->psd_serial = (guint32) sqlite3_column_int64 (stmt, 0);
  row->psd_key = column_text (stmt, 1);
  row->account = column_text (stmt, 2);
  row->origin_zip = (guint32) sqlite3_column_int64 (stmt, 3);
  row->last_refill_seq = sqlite3_column_int64 (stmt, 4);
  return TRUE;
}

static void
refill_from_row (sqlite3_stmt    *stmt,
                 PmFundsResponse *response)
{
  /* columns: sequence, receipt_id, amount, issued_at, balance_after, pvd */
  response->sequence = sqlite3_column_int64 (stmt, 0);
  response->receipt_id = column_text (stmt, 1);
  response->amount = sqlite3_column_int64 (stmt, 2);
  response->issued_at = sqlite3_column_int64 (stmt, 3);
  response->balance = sqlite3_column_int64 (stmt, 4);
  response->psd_message = column_bytes (stmt, 5);
}

static void
handle_refill (PmDcServer        *self,
               SoupServerMessage *msg,
               DeviceRow         *device,
               PmFundsRequest    *request)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(PmFundsResponse) response = g_new0 (PmFundsResponse, 1);
  g_autoptr(GBytes) answer = NULL;
  g_autoptr(GError) error = NULL;
  PmPostageValueDownload pvd = { 0 };
  g_autofree char *text = NULL;
  g_autofree char *amount_text = NULL;
  PmMills balance;

  response->kind = PM_FUNDS_REFILL;
  response->next_inspection = -1;

  /* A retried request, or a refill issued but never applied by the PSD: the same answer,
   * and the account is not charged twice. */
  stmt = prepare (self, "SELECT sequence, receipt_id, amount, issued_at, balance_after, pvd"
                        " FROM refill WHERE device = ?1 AND (request_id = ?2 OR"
                        " (psd_serial = ?4 AND sequence = ?3)) ORDER BY sequence LIMIT 1");
  bind_text (stmt, 1, device->id);
  bind_text (stmt, 2, request->request_id);
  sqlite3_bind_int64 (stmt, 3, request->sequence);
  sqlite3_bind_int64 (stmt, 4, device->psd_serial);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      refill_from_row (stmt, response);
      if (response->amount != request->amount)
        {
          g_autofree char *earlier = pm_money_format (response->amount);

          text = g_strdup_printf ("Refill %" G_GINT64_FORMAT " of %s was issued but the PSD "
                                  "has not applied it; it is sent again instead of a new "
                                  "refill", response->sequence, earlier);
          g_message ("%s (device %s)", text, device->id);
        }
      answer = pm_funds_response_build (response);
      respond_xml (msg, answer);
      return;
    }
  g_clear_pointer (&stmt, sqlite3_finalize);

  if (request->sequence != device->last_refill_seq + 1)
    {
      text = g_strdup_printf ("The PSD asks for refill %" G_GINT64_FORMAT " but the provider "
                              "has issued %" G_GINT64_FORMAT " so far; the PSD and the "
                              "provider disagree and support must reconcile them",
                              request->sequence, device->last_refill_seq);
      respond_error (msg, SOUP_STATUS_CONFLICT, "sequence", text);
      return;
    }
  if (request->amount < self->refill_min || request->amount > self->refill_max)
    {
      g_autofree char *lo = pm_money_format (self->refill_min);
      g_autofree char *hi = pm_money_format (self->refill_max);

      text = g_strdup_printf ("A refill must be between %s and %s", lo, hi);
      respond_error (msg, SOUP_STATUS_UNPROCESSABLE_ENTITY, "limits", text);
      return;
    }

  if (!exec (self, "BEGIN IMMEDIATE", &error))
    goto failed;
  stmt = prepare (self, "UPDATE account SET balance = balance - ?1 WHERE id = ?2 AND"
                        " balance >= ?1 RETURNING balance");
  sqlite3_bind_int64 (stmt, 1, request->amount);
  bind_text (stmt, 2, device->account);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      exec (self, "ROLLBACK", NULL);
      amount_text = pm_money_format (request->amount);
      text = g_strdup_printf ("The customer account does not hold %s; deposit funds with "
                              "the provider, then refill again", amount_text);
      respond_error (msg, SOUP_STATUS_PAYMENT_REQUIRED, "insufficient-funds", text);
      return;
    }
  balance = sqlite3_column_int64 (stmt, 0);
  g_clear_pointer (&stmt, sqlite3_finalize);

  pvd.psd_serial = device->psd_serial;
  pvd.sequence = (guint32) request->sequence;
  pvd.amount = request->amount;
  pvd.issued_at = pm_clock_now_s ();
  response->psd_message = pm_postage_value_download_sign (&pvd, self->provider_key, &error);
  if (response->psd_message == NULL)
    {
      exec (self, "ROLLBACK", NULL);
      goto failed;
    }
  response->receipt_id = random_id ("R");
  response->amount = request->amount;
  response->sequence = request->sequence;
  response->issued_at = pvd.issued_at;
  response->balance = balance;

  stmt = prepare (self, "INSERT INTO refill VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
  bind_text (stmt, 1, device->id);
  sqlite3_bind_int64 (stmt, 2, request->sequence);
  bind_text (stmt, 3, request->request_id);
  bind_text (stmt, 4, response->receipt_id);
  sqlite3_bind_int64 (stmt, 5, request->amount);
  sqlite3_bind_int64 (stmt, 6, pvd.issued_at);
  sqlite3_bind_int64 (stmt, 7, balance);
  sqlite3_bind_blob (stmt, 8, g_bytes_get_data (response->psd_message, NULL),
                     (int) g_bytes_get_size (response->psd_message), SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 9, device->psd_serial);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    {
      db_error (self, &error, "Could not record the refill");
      exec (self, "ROLLBACK", NULL);
      goto failed;
    }
  g_clear_pointer (&stmt, sqlite3_finalize);
  stmt = prepare (self, "UPDATE device SET last_refill_seq = ? WHERE id = ?");
  sqlite3_bind_int64 (stmt, 1, request->sequence);
  bind_text (stmt, 2, device->id);
  sqlite3_step (stmt);
  if (!exec (self, "COMMIT", &error))
    goto failed;

  amount_text = pm_money_format (request->amount);
  g_message ("Refill %" G_GINT64_FORMAT " of %s for device %s", request->sequence,
             amount_text, device->id);
  answer = pm_funds_response_build (response);
  respond_xml (msg, answer);
  return;

failed:
  respond_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal", error->message);
}

static void
handle_audit (PmDcServer        *self,
              SoupServerMessage *msg,
              DeviceRow         *device,
              PmFundsRequest    *request)
{
  g_autoptr(PmVerifyKey) psd_key = pm_verify_key_new_from_pem (device->psd_key, -1, NULL);
  g_autoptr(PmFundsResponse) response = g_new0 (PmFundsResponse, 1);
  g_autoptr(GBytes) answer = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  PmAuditRequest audit = { 0 };
  PmAuditAnswer result = { 0 };

  if (request->psd_message == NULL ||
      !pm_audit_request_verify (request->psd_message, psd_key, &audit, &error))
    {
      respond_error (msg, SOUP_STATUS_UNPROCESSABLE_ENTITY, "bad-audit",
                     error != NULL ? error->message : "The audit request carries no message");
      return;
    }
  if (audit.psd_serial != device->psd_serial)
    {
      respond_error (msg, SOUP_STATUS_UNPROCESSABLE_ENTITY, "bad-audit",
                     "The audit message comes from another PSD");
      return;
    }

  pm_audit_answer_init_for_request (&result, &audit, request->psd_message);
  result.answered_at = pm_clock_now_s ();
  /* The registers must reconcile with the refills the provider issued. */
  result.result = (audit.control_sum == audit.ascending + audit.descending &&
                   audit.last_refill_sequence <= device->last_refill_seq) ?
                  PM_AUDIT_RESULT_ACCEPTED : PM_AUDIT_RESULT_LOCK;
  response->psd_message = pm_audit_answer_sign (&result, self->provider_key, &error);
  if (response->psd_message == NULL)
    {
      respond_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal", error->message);
      return;
    }

  stmt = prepare (self, "INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?)");
  bind_text (stmt, 1, device->id);
  sqlite3_bind_int64 (stmt, 2, result.answered_at);
  sqlite3_bind_int64 (stmt, 3, audit.ascending);
  sqlite3_bind_int64 (stmt, 4, audit.descending);
  sqlite3_bind_int64 (stmt, 5, (gint64) audit.piece_count);
  sqlite3_bind_blob (stmt, 6, g_bytes_get_data (request->psd_message, NULL),
                     (int) g_bytes_get_size (request->psd_message), SQLITE_TRANSIENT);
  sqlite3_step (stmt);

  response->kind = PM_FUNDS_AUDIT;
  response->receipt_id = random_id ("A");
  response->issued_at = result.answered_at;
  response->amount = -1;
  response->sequence = -1;
  response->balance = -1;
  response->next_inspection = result.answered_at + PM_POSTAL_PROFILE_IBI_WARNING_S;
  g_message ("Audit of device %s: %s", device->id,
             result.result == PM_AUDIT_RESULT_ACCEPTED ? "accepted" : "lock ordered");
  answer = pm_funds_response_build (response);
  respond_xml (msg, answer);
}

static void
handle_operational_block (PmDcServer        *self,
                          SoupServerMessage *msg,
                          DeviceRow         *device,
                          PmFundsRequest    *request)
{
  g_autoptr(PmVerifyKey) registered = pm_verify_key_new_from_pem (device->psd_key, -1, NULL);
  g_autoptr(PmFundsResponse) response = g_new0 (PmFundsResponse, 1);
  g_autoptr(GBytes) answer = NULL;
  g_autoptr(GError) error = NULL;
  PmOperationalBlock block = { 0 };

  block.psd_serial = device->psd_serial;
  memcpy (block.psd_model, "PMSW", 5);
  pm_psd_key_digest (registered, block.psd_key_digest);
  block.certificate_serial = device->psd_serial;
  block.origin_zip = device->origin_zip;
  pm_operational_block_set_profile (&block, PM_POSTAL_PROFILE_IBI);
  block.max_funds = 50000 * PM_MILLS_PER_DOLLAR;
  block.max_postage = 100 * PM_MILLS_PER_DOLLAR;
  block.issued_at = pm_clock_now_s ();

  response->psd_message = pm_operational_block_sign (&block, self->provider_key, &error);
  if (response->psd_message == NULL)
    {
      respond_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal", error->message);
      return;
    }
  response->kind = request->kind;
  response->receipt_id = random_id ("O");
  response->issued_at = block.issued_at;
  response->amount = response->sequence = response->balance = -1;
  response->next_inspection = -1;
  answer = pm_funds_response_build (response);
  respond_xml (msg, answer);
}

static void
handle_replacement (PmDcServer        *self,
                    SoupServerMessage *msg,
                    DeviceRow         *device,
                    PmFundsRequest    *request)
{
  g_autoptr(PmVerifyKey) new_key = NULL;
  g_autoptr(GBytes) pem = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  guint64 new_serial;

  /* The machine presents the new PSD's serial and public key; the device keeps its id,
   * account and uploads, and refills start again at 1 for the new PSD. */
  if (request->psd_message == NULL ||
      !g_ascii_string_to_unsigned (request->psd_serial, 10, 1, G_MAXUINT32, &new_serial,
                                   NULL) ||
      (new_key = pm_verify_key_new_from_pem (g_bytes_get_data (request->psd_message, NULL),
                                             (gssize) g_bytes_get_size (request->psd_message),
                                             NULL)) == NULL)
    {
      respond_error (msg, SOUP_STATUS_UNPROCESSABLE_ENTITY, "bad-replacement",
                     "A replacement needs the new PSD's serial and public key");
      return;
    }
  pem = pm_verify_key_to_pem (new_key);
  stmt = prepare (self, "UPDATE device SET psd_serial = ?, psd_key = ?, last_refill_seq = 0"
                        " WHERE id = ?");
  sqlite3_bind_int64 (stmt, 1, (gint64) new_serial);
  sqlite3_bind_text (stmt, 2, g_bytes_get_data (pem, NULL), (int) g_bytes_get_size (pem),
                     SQLITE_TRANSIENT);
  bind_text (stmt, 3, device->id);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    {
      respond_error (msg, SOUP_STATUS_CONFLICT, "psd-in-use",
                     "The new PSD is already registered to another machine");
      return;
    }
  g_clear_pointer (&stmt, sqlite3_finalize);
  g_message ("Device %s replaced PSD %u with PSD %" G_GUINT64_FORMAT, device->id,
             device->psd_serial, new_serial);

  g_clear_pointer (&device->psd_key, g_free);
  device->psd_key = g_strndup (g_bytes_get_data (pem, NULL), g_bytes_get_size (pem));
  device->psd_serial = (guint32) new_serial;
  handle_operational_block (self, msg, device, request);
}

static void
handle_history (PmDcServer        *self,
                SoupServerMessage *msg,
                DeviceRow         *device)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(PmFundsResponse) response = g_new0 (PmFundsResponse, 1);
  g_autoptr(GBytes) answer = NULL;

  response->kind = PM_FUNDS_HISTORY;
  response->receipt_id = random_id ("H");
  response->issued_at = pm_clock_now_s ();
  response->amount = response->sequence = response->next_inspection = -1;
  pm_dc_server_get_balance (self, device->account, &response->balance, NULL);
  response->refill_minimum = self->refill_min;
  response->refill_maximum = self->refill_max;
  response->history = g_ptr_array_new_with_free_func ((GDestroyNotify) pm_refill_receipt_free);

  stmt = prepare (self, "SELECT receipt_id, issued_at, amount, sequence FROM refill"
                        " WHERE device = ? ORDER BY sequence DESC LIMIT 1000");
  bind_text (stmt, 1, device->id);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      PmRefillReceipt *r = g_new0 (PmRefillReceipt, 1);

      r->receipt_id = column_text (stmt, 0);
      r->issued_at = sqlite3_column_int64 (stmt, 1);
      r->amount = sqlite3_column_int64 (stmt, 2);
      r->sequence = sqlite3_column_int64 (stmt, 3);
      g_ptr_array_add (response->history, r);
    }
  answer = pm_funds_response_build (response);
  respond_xml (msg, answer);
}

static void
handle_funds (SoupServer        *server,
              SoupServerMessage *msg,
              const char        *path,
              GHashTable        *query,
              gpointer           user_data)
{
  PmDcServer *self = user_data;
  g_autofree char *device_id = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(PmFundsRequest) request = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(DeviceRow) device = { 0 };

  if (!check_method (msg, "POST"))
    return;
  device_id = authenticate_bearer (self, msg);
  if (device_id == NULL)
    return;
  body = request_body (msg);
  request = pm_funds_request_parse (body, &error);
  if (request == NULL)
    {
      respond_error (msg, SOUP_STATUS_BAD_REQUEST, "malformed", error->message);
      return;
    }
  if (g_strcmp0 (request->device_id, device_id) != 0 || !load_device (self, device_id, &device))
    {
      respond_error (msg, SOUP_STATUS_FORBIDDEN, "wrong-device",
                     "The request names another machine than the one authenticated");
      return;
    }

  switch (request->kind)
    {
    case PM_FUNDS_REFILL:
      handle_refill (self, msg, &device, request);
      break;
    case PM_FUNDS_AUDIT:
      handle_audit (self, msg, &device, request);
      break;
    case PM_FUNDS_OPERATIONAL_BLOCK:
      handle_operational_block (self, msg, &device, request);
      break;
    case PM_FUNDS_REPLACEMENT:
      handle_replacement (self, msg, &device, request);
      break;
    case PM_FUNDS_HISTORY:
    default:
      handle_history (self, msg, &device);
      break;
    }
}

/* ---- downloads --------------------------------------------------------------------- */

static void
handle_manifest (PmDcServer        *self,
                 SoupServerMessage *msg)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(PmManifest) manifest = g_new0 (PmManifest, 1);
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GBytes) answer = NULL;
  g_autoptr(GError) error = NULL;
  guint8 signature[PM_SIGNATURE_LENGTH];

  stmt = prepare (self, "SELECT value FROM meta WHERE key = 'manifest-serial'");
  sqlite3_step (stmt);
  manifest->serial = MAX (1, sqlite3_column_int64 (stmt, 0));
  g_clear_pointer (&stmt, sqlite3_finalize);

  manifest->issued_at = pm_clock_now_s ();
  manifest->expires_at = manifest->issued_at + MANIFEST_LIFETIME_S;
  manifest->model = g_strdup ("PMSW");
  manifest->authority = g_strdup ("US");
  manifest->packages = g_ptr_array_new_with_free_func (
    (GDestroyNotify) pm_manifest_package_free);

  /* The newest version of each package. */
  stmt = prepare (self, "SELECT type, name, max(version), length, sha256, effective"
                        " FROM package GROUP BY type, name ORDER BY type, name");
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      PmManifestPackage *p = g_new0 (PmManifestPackage, 1);
      const char *effective = (const char *) sqlite3_column_text (stmt, 5);

      p->type = column_text (stmt, 0);
      p->name = column_text (stmt, 1);
      p->version = sqlite3_column_int64 (stmt, 2);
      p->length = sqlite3_column_int64 (stmt, 3);
      p->sha256 = column_text (stmt, 4);
      p->path = g_strdup_printf ("/downloads/packages/%s-%s-%" G_GINT64_FORMAT,
                                 p->type, p->name, p->version);
      if (effective != NULL)
        {
          int y, m, d;

          if (sscanf (effective, "%d-%d-%d", &y, &m, &d) == 3 && g_date_valid_dmy (d, m, y))
            p->effective = g_date_new_dmy (d, m, y);
        }
      g_ptr_array_add (manifest->packages, p);
    }

  body = pm_manifest_build (manifest);
  if (!pm_signing_key_sign (self->provider_key, g_bytes_get_data (body, NULL),
                            g_bytes_get_size (body), signature, &error))
    {
      respond_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal", error->message);
      return;
    }
  answer = pm_signed_manifest_build (body, signature);
  respond_xml (msg, answer);
}

static void
handle_package (PmDcServer        *self,
                SoupServerMessage *msg,
                const char        *name)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GMappedFile) mapped = NULL;
  SoupMessageHeaders *request_headers = soup_server_message_get_request_headers (msg);
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  SoupRange *ranges = NULL;
  g_autofree char *base = NULL;
  g_autofree char *file = NULL;
  gboolean is_signature;
  int n_ranges = 0;
  const char *data;
  gsize length;
  goffset start = 0;

  /* The package, or with ".sig" its detached signature file. */
  is_signature = g_str_has_suffix (name, ".sig");
  base = is_signature ? g_strndup (name, strlen (name) - 4) : g_strdup (name);
  stmt = prepare (self, "SELECT file FROM package WHERE type || '-' || name || '-' ||"
                        " version = ?");
  bind_text (stmt, 1, base);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      respond_error (msg, SOUP_STATUS_NOT_FOUND, "not-found", "There is no such package");
      return;
    }
  file = g_strconcat ((const char *) sqlite3_column_text (stmt, 0),
                      is_signature ? ".sig" : "", NULL);
  mapped = g_mapped_file_new (file, FALSE, NULL);
  if (mapped == NULL)
    {
      respond_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal",
                     "The package file is missing on the data center");
      return;
    }
  data = g_mapped_file_get_contents (mapped);
  length = g_mapped_file_get_length (mapped);

  /* Resumption: a single "bytes=N-" range. */
  if (soup_message_headers_get_ranges (request_headers, (goffset) length, &ranges, &n_ranges))
    {
      if (n_ranges == 1 && ranges[0].start < (goffset) length)
        start = ranges[0].start;
      soup_message_headers_free_ranges (request_headers, ranges);
    }
  soup_message_headers_replace (headers, "Accept-Ranges", "bytes");
  if (start > 0)
    {
      soup_message_headers_set_content_range (headers, start, (goffset) length - 1,
                                              (goffset) length);
      soup_server_message_set_status (msg, SOUP_STATUS_PARTIAL_CONTENT, NULL);
    }
  else
    soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "application/octet-stream", SOUP_MEMORY_COPY,
                                    data + start, length - (gsize) start);
}

static void
handle_confirm (PmDcServer        *self,
                SoupServerMessage *msg,
                const char        *device_id)
{
  g_autoptr(GBytes) body = request_body (msg);
  g_autoptr(GError) error = NULL;
  g_autoptr(PmInstallConfirmation) c = pm_install_confirmation_parse (body, &error);
  g_autoptr(sqlite3_stmt) stmt = NULL;

  if (c == NULL)
    {
      respond_error (msg, SOUP_STATUS_BAD_REQUEST, "malformed", error->message);
      return;
    }
  stmt = prepare (self, "INSERT INTO installation VALUES (?, ?, ?, ?, ?, ?, ?)");
  bind_text (stmt, 1, device_id);
  bind_text (stmt, 2, c->type);
  bind_text (stmt, 3, c->name);
  sqlite3_bind_int64 (stmt, 4, c->package_version);
  bind_text (stmt, 5, c->installed ? "installed" : "refused");
  bind_text (stmt, 6, c->detail);
  sqlite3_bind_int64 (stmt, 7, pm_clock_now_s ());
  sqlite3_step (stmt);
  g_message ("Device %s %s %s %s version %" G_GINT64_FORMAT, device_id,
             c->installed ? "installed" : "refused", c->type, c->name, c->package_version);
  soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, NULL);
}

static void
handle_downloads (SoupServer        *server,
                  SoupServerMessage *msg,
                  const char        *path,
                  GHashTable        *query,
                  gpointer           user_data)
{
  PmDcServer *self = user_data;
  g_autofree char *device_id = authenticate_bearer (self, msg);

  if (device_id == NULL)
    return;
  if (g_strcmp0 (path, "/downloads/manifest") == 0 && check_method (msg, "GET"))
    handle_manifest (self, msg);
  else if (g_str_has_prefix (path, "/downloads/packages/") && check_method (msg, "GET"))
    handle_package (self, msg, path + strlen ("/downloads/packages/"));
  else if (g_strcmp0 (path, "/downloads/confirm") == 0 && check_method (msg, "POST"))
    handle_confirm (self, msg, device_id);
  else if (soup_server_message_get_status (msg) == 0)
    respond_error (msg, SOUP_STATUS_NOT_FOUND, "not-found", "There is nothing at this address");
}

/* ---- uploads ----------------------------------------------------------------------- */

static gint64
advance_contiguous (PmDcServer *self,
                    const char *device_id,
                    gint64      highest)
{
  g_autoptr(sqlite3_stmt) stmt = prepare (self, "SELECT 1 FROM record WHERE device = ?"
                                                " AND seq = ?");

  for (;;)
    {
      sqlite3_reset (stmt);
      bind_text (stmt, 1, device_id);
      sqlite3_bind_int64 (stmt, 2, highest + 1);
      if (sqlite3_step (stmt) != SQLITE_ROW)
        return highest;
      highest++;
    }
}

static gboolean
store_batch (PmDcServer      *self,
             PmWireBatch   *batch,
             PmWireReceipt *receipt,
             GError         **error)
{
  g_autoptr(sqlite3_stmt) insert = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GBytes) signed_text = NULL;
  g_autoptr(GBytes) receipt_xml = NULL;
  gint64 highest;

  if (!exec (self, "BEGIN IMMEDIATE", error))
    return FALSE;

  /* (device, seq) is the key: a record that came before in another batch is kept once. */
  insert = prepare (self, "INSERT OR IGNORE INTO record VALUES (?, ?, ?, ?, ?, ?)");
  for (guint i = 0; i < batch->records->len; i++)
    {
      PmUploadRecord *r = g_ptr_array_index (batch->records, i);

      sqlite3_reset (insert);
      bind_text (insert, 1, batch->device_id);
      sqlite3_bind_int64 (insert, 2, r->seq);
      bind_text (insert, 3, r->uuid);
      sqlite3_bind_int64 (insert, 4, r->created_at);
      bind_text (insert, 5, batch->batch_id);
      sqlite3_bind_blob (insert, 6, g_bytes_get_data (r->payload, NULL),
                         (int) g_bytes_get_size (r->payload), SQLITE_STATIC);
      if (sqlite3_step (insert) != SQLITE_DONE)
        goto failed;
    }

  stmt = prepare (self, "SELECT highest_seq FROM device WHERE id = ?");
  bind_text (stmt, 1, batch->device_id);
  sqlite3_step (stmt);
  highest = advance_contiguous (self, batch->device_id, sqlite3_column_int64 (stmt, 0));
  g_clear_pointer (&stmt, sqlite3_finalize);
  stmt = prepare (self, "UPDATE device SET highest_seq = ? WHERE id = ?");
  sqlite3_bind_int64 (stmt, 1, highest);
  bind_text (stmt, 2, batch->device_id);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    goto failed;
  g_clear_pointer (&stmt, sqlite3_finalize);

  receipt->highest_contiguous_seq = highest;
  signed_text = pm_wire_receipt_signed_text (receipt);
  if (!pm_signing_key_sign (self->provider_key, g_bytes_get_data (signed_text, NULL),
                            g_bytes_get_size (signed_text), receipt->signature, error))
    {
      exec (self, "ROLLBACK", NULL);
      return FALSE;
    }
  receipt_xml = pm_wire_receipt_build (receipt);

  stmt = prepare (self, "INSERT INTO batch VALUES (?, ?, ?, ?, ?, ?, ?)");
  bind_text (stmt, 1, batch->device_id);
  bind_text (stmt, 2, batch->batch_id);
  bind_text (stmt, 3, receipt->sha256);
  sqlite3_bind_int64 (stmt, 4, batch->first_seq);
  sqlite3_bind_int64 (stmt, 5, batch->last_seq);
  sqlite3_bind_blob (stmt, 6, g_bytes_get_data (receipt_xml, NULL),
                     (int) g_bytes_get_size (receipt_xml), SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 7, receipt->received_at);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    goto failed;

  return exec (self, "COMMIT", error);

failed:
  db_error (self, error, "Could not store the batch");
  exec (self, "ROLLBACK", NULL);
  return FALSE;
}

static void
handle_uploads (SoupServer        *server,
                SoupServerMessage *msg,
                const char        *path,
                GHashTable        *query,
                gpointer           user_data)
{
  PmDcServer *self = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *key = soup_message_headers_get_one (headers, "Idempotency-Key");
  g_autofree char *device_id = NULL;
  g_autofree char *sha256 = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GBytes) answer = NULL;
  g_autoptr(PmWireBatch) batch = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  PmWireReceipt receipt = { 0 };

  if (!check_method (msg, "POST"))
    return;
  device_id = authenticate_bearer (self, msg);
  if (device_id == NULL)
    return;
  if (g_strcmp0 (path, "/uploads/batches") != 0)
    {
      respond_error (msg, SOUP_STATUS_NOT_FOUND, "not-found", "There is nothing here");
      return;
    }
  if (key == NULL)
    {
      respond_error (msg, SOUP_STATUS_BAD_REQUEST, "idempotency-key",
                     "An upload must carry an Idempotency-Key header");
      return;
    }

  body = request_body (msg);
  sha256 = pm_protocol_sha256_hex (body);

  /* The same key again: the stored receipt if the bytes are the same, a refusal if not. */
  stmt = prepare (self, "SELECT sha256, receipt FROM batch WHERE device = ? AND id = ?");
  bind_text (stmt, 1, device_id);
  bind_text (stmt, 2, key);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      if (g_strcmp0 ((const char *) sqlite3_column_text (stmt, 0), sha256) != 0)
        {
          respond_error (msg, SOUP_STATUS_UNPROCESSABLE_ENTITY, "idempotency-mismatch",
                         "This batch id was already used for different contents");
          return;
        }
      answer = column_bytes (stmt, 1);
      respond_xml (msg, answer);
      return;
    }
  g_clear_pointer (&stmt, sqlite3_finalize);

  batch = pm_wire_batch_parse (body, &error);
  if (batch == NULL)
    {
      respond_error (msg, SOUP_STATUS_BAD_REQUEST, "malformed", error->message);
      return;
    }
  if (g_strcmp0 (batch->batch_id, key) != 0 || g_strcmp0 (batch->device_id, device_id) != 0)
    {
      respond_error (msg, SOUP_STATUS_UNPROCESSABLE_ENTITY, "idempotency-mismatch",
                     "The batch's id or device does not match its Idempotency-Key or "
                     "the authenticated machine");
      return;
    }

  receipt.receipt_id = random_id ("U");
  receipt.batch_id = batch->batch_id;
  receipt.device_id = batch->device_id;
  receipt.first_seq = batch->first_seq;
  receipt.last_seq = batch->last_seq;
  receipt.count = batch->records->len;
  receipt.sha256 = sha256;
  receipt.received_at = pm_clock_now_s ();
  if (!store_batch (self, batch, &receipt, &error))
    {
      g_free (receipt.receipt_id);
      respond_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "internal", error->message);
      return;
    }

  answer = pm_wire_receipt_build (&receipt);
  g_free (receipt.receipt_id);
  g_debug ("Batch %s from %s: records %" G_GINT64_FORMAT "-%" G_GINT64_FORMAT,
           batch->batch_id, device_id, batch->first_seq, batch->last_seq);
  respond_xml (msg, answer);
}

/* ---- accounting -------------------------------------------------------------------- */

static void
handle_accounting (SoupServer        *server,
                   SoupServerMessage *msg,
                   const char        *path,
                   GHashTable        *query,
                   gpointer           user_data)
{
  PmDcServer *self = user_data;
  g_autofree char *device_id = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GBytes) answer = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(PmAccountsSync) incoming = NULL;
  g_autoptr(PmAccountsSync) outgoing = NULL;
  g_autoptr(sqlite3_stmt) select = NULL;
  g_autoptr(sqlite3_stmt) upsert = NULL;
  g_autoptr(sqlite3_stmt) usage = NULL;
  g_auto(DeviceRow) device = { 0 };

  if (!check_method (msg, "POST"))
    return;
  device_id = authenticate_bearer (self, msg);
  if (device_id == NULL)
    return;
  body = request_body (msg);
  incoming = pm_accounts_sync_parse (body, &error);
  if (incoming == NULL)
    {
      respond_error (msg, SOUP_STATUS_BAD_REQUEST, "malformed", error->message);
      return;
    }
  if (g_strcmp0 (incoming->device_id, device_id) != 0 || !load_device (self, device_id, &device))
    {
      respond_error (msg, SOUP_STATUS_FORBIDDEN, "wrong-device",
                     "The request names another machine than the one authenticated");
      return;
    }

  exec (self, "BEGIN IMMEDIATE", NULL);
  select = prepare (self, "SELECT parent, name, active, revision FROM cost_account"
                          " WHERE account = ? AND id = ?");
  upsert = prepare (self, "INSERT OR REPLACE INTO cost_account VALUES (?, ?, ?, ?, ?, ?)");
  for (guint i = 0; i < incoming->accounts->len; i++)
    {
      PmWireAccount *theirs = g_ptr_array_index (incoming->accounts, i);
      PmWireAccount ours = { 0 };
      gboolean have_ours;

      sqlite3_reset (select);
      bind_text (select, 1, device.account);
      bind_text (select, 2, theirs->id);
      have_ours = sqlite3_step (select) == SQLITE_ROW;
      if (have_ours)
        {
          ours.revision = sqlite3_column_int64 (select, 3);
          /* Here the machine is "theirs": on a tie the data center's copy stays. */
          if (pm_wire_account_merge (&ours, theirs, FALSE) == &ours)
            continue;
        }
      sqlite3_reset (upsert);
      bind_text (upsert, 1, device.account);
      bind_text (upsert, 2, theirs->id);
      bind_text (upsert, 3, theirs->parent);
      bind_text (upsert, 4, theirs->name);
      sqlite3_bind_int (upsert, 5, theirs->active);
      sqlite3_bind_int64 (upsert, 6, theirs->revision);
      sqlite3_step (upsert);
    }
  usage = prepare (self, "INSERT OR REPLACE INTO usage VALUES (?, ?, ?, ?, ?)");
  for (guint i = 0; i < incoming->usage->len; i++)
    {
      PmAccountUsage *u = g_ptr_array_index (incoming->usage, i);
      char date[16];

      g_snprintf (date, sizeof date, "%04u-%02u-%02u", g_date_get_year (u->date),
                  g_date_get_month (u->date), g_date_get_day (u->date));
      sqlite3_reset (usage);
      bind_text (usage, 1, device_id);
      bind_text (usage, 2, u->account);
      bind_text (usage, 3, date);
      sqlite3_bind_int64 (usage, 4, u->pieces);
      sqlite3_bind_int64 (usage, 5, u->postage);
      sqlite3_step (usage);
    }
  if (!exec (self, "COMMIT", &error))
    {
      exec (self, "ROLLBACK", NULL);
      respond_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "internal", error->message);
      return;
    }

  /* The answer is the data center's whole list for this customer. */
  outgoing = pm_accounts_sync_new (device_id);
  g_clear_pointer (&select, sqlite3_finalize);
  select = prepare (self, "SELECT id, parent, name, active, revision FROM cost_account"
                          " WHERE account = ? ORDER BY id");
  bind_text (select, 1, device.account);
  while (sqlite3_step (select) == SQLITE_ROW)
    {
      PmWireAccount *a = g_new0 (PmWireAccount, 1);

      a->id = column_text (select, 0);
      a->parent = column_text (select, 1);
      a->name = column_text (select, 2);
      a->active = sqlite3_column_int (select, 3) != 0;
      a->revision = sqlite3_column_int64 (select, 4);
      g_ptr_array_add (outgoing->accounts, a);
    }
  answer = pm_accounts_sync_build (outgoing);
  respond_xml (msg, answer);
}

/* ---- health ------------------------------------------------------------------------ */

/* The record, and its error log when it has one, in one transaction; the same key sent
 * again replaces what it stored before. */
static gboolean
store_health (PmDcServer           *self,
              const char           *device_id,
              const char           *key,
              const PmHealthRecord *record,
              GBytes               *body,
              GPtrArray            *log_records,
              guint64               log_dropped,
              GError              **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  if (!exec (self, "BEGIN IMMEDIATE", error))
    return FALSE;

  stmt = prepare (self, "INSERT OR REPLACE INTO health VALUES (?, ?, ?, ?)");
  bind_text (stmt, 1, device_id);
  bind_text (stmt, 2, key);
  sqlite3_bind_int64 (stmt, 3, record->taken_at);
  sqlite3_bind_blob (stmt, 4, g_bytes_get_data (body, NULL), (int) g_bytes_get_size (body),
                     SQLITE_STATIC);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    goto fail;
  g_clear_pointer (&stmt, sqlite3_finalize);

  if (log_records != NULL)
    {
      stmt = prepare (self, "DELETE FROM error_log_record WHERE device = ? AND key = ?");
      bind_text (stmt, 1, device_id);
      bind_text (stmt, 2, key);
      if (sqlite3_step (stmt) != SQLITE_DONE)
        goto fail;
      g_clear_pointer (&stmt, sqlite3_finalize);

      stmt = prepare (self, "INSERT OR REPLACE INTO error_log VALUES (?, ?, ?, ?, ?, ?)");
      bind_text (stmt, 1, device_id);
      bind_text (stmt, 2, key);
      sqlite3_bind_int64 (stmt, 3, record->taken_at);
      sqlite3_bind_int64 (stmt, 4, pm_clock_now_s ());
      sqlite3_bind_int64 (stmt, 5, log_records->len);
      sqlite3_bind_int64 (stmt, 6, (gint64) MIN (log_dropped, (guint64) G_MAXINT64));
      if (sqlite3_step (stmt) != SQLITE_DONE)
        goto fail;
      g_clear_pointer (&stmt, sqlite3_finalize);

      stmt = prepare (self, "INSERT INTO error_log_record VALUES (?, ?, ?, ?, ?, ?, ?)");
      for (guint i = 0; i < log_records->len; i++)
        {
          const PmLogRecord *line = g_ptr_array_index (log_records, i);

          sqlite3_reset (stmt);
          bind_text (stmt, 1, device_id);
          bind_text (stmt, 2, key);
          sqlite3_bind_int64 (stmt, 3, i + 1);
          sqlite3_bind_int64 (stmt, 4, line->time_us);
          bind_text (stmt, 5, pm_log_level_to_string (line->level));
          bind_text (stmt, 6, line->domain);
          bind_text (stmt, 7, line->message);
          if (sqlite3_step (stmt) != SQLITE_DONE)
            goto fail;
        }
      g_clear_pointer (&stmt, sqlite3_finalize);
    }

  return exec (self, "COMMIT", error);

fail:
  db_error (self, error, "Storing a health record");
  g_clear_pointer (&stmt, sqlite3_finalize);
  exec (self, "ROLLBACK", NULL);
  return FALSE;
}

static void
handle_health (SoupServer        *server,
               SoupServerMessage *msg,
               const char        *path,
               GHashTable        *query,
               gpointer           user_data)
{
  PmDcServer *self = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *md5_b64 = soup_message_headers_get_one (headers, "Content-MD5");
  const char *sha_b64 = soup_message_headers_get_one (headers, "x-amz-checksum-sha256");
  g_autofree char *device_id = NULL;
  g_autofree char *expected_prefix = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(PmHealthRecord) record = NULL;
  g_autoptr(GPtrArray) log_records = NULL;
  guint64 log_dropped = 0;
  const char *key;
  g_autofree char *md5_hex = NULL;
  g_autofree char *etag = NULL;
  gboolean checked = FALSE;

  if (!check_method (msg, "PUT"))
    return;
  device_id = authenticate_bearer (self, msg);
  if (device_id == NULL)
    return;
  expected_prefix = g_strdup_printf ("/health/%s/", device_id);
  if (!g_str_has_prefix (path, expected_prefix) || strlen (path) > 200)
    {
      respond_error (msg, SOUP_STATUS_FORBIDDEN, "wrong-device",
                     "A machine may only write its own health records");
      return;
    }
  body = request_body (msg);

  /* S3 rules: the body must match the checksum header it came with. */
  for (int i = 0; i < 2; i++)
    {
      const char *header = i == 0 ? md5_b64 : sha_b64;
      GChecksumType type = i == 0 ? G_CHECKSUM_MD5 : G_CHECKSUM_SHA256;
      g_autoptr(GChecksum) sum = NULL;
      g_autofree char *computed = NULL;
      guint8 digest[32];
      gsize digest_length = sizeof digest;

      if (header == NULL)
        continue;
      sum = g_checksum_new (type);
      g_checksum_update (sum, g_bytes_get_data (body, NULL), g_bytes_get_size (body));
      g_checksum_get_digest (sum, digest, &digest_length);
      computed = g_base64_encode (digest, digest_length);
      if (g_strcmp0 (computed, header) != 0)
        {
          respond_error (msg, SOUP_STATUS_BAD_REQUEST, "BadDigest",
                         "The health record does not match its checksum header");
          return;
        }
      checked = TRUE;
    }
  if (!checked)
    {
      respond_error (msg, SOUP_STATUS_BAD_REQUEST, "missing-checksum",
                     "A health record needs a Content-MD5 or x-amz-checksum-sha256 header");
      return;
    }

  record = pm_health_record_parse (body, &error);
  if (record == NULL)
    {
      respond_error (msg, SOUP_STATUS_BAD_REQUEST, "malformed", error->message);
      return;
    }

  /* An error log rides in the record: it is checked line by line before anything is kept. */
  if (record->log != NULL)
    {
      log_records = pm_log_records_parse (record->log, &log_dropped, &error);
      if (log_records == NULL)
        {
          respond_error (msg, SOUP_STATUS_BAD_REQUEST, "malformed-log", error->message);
          return;
        }
    }

  key = path + strlen (expected_prefix);
  if (!store_health (self, device_id, key, record, body, log_records, log_dropped, &error))
    {
      g_warning ("Health record of %s not stored: %s", device_id, error->message);
      respond_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "database",
                     "The data center could not store the health record; send it again");
      return;
    }
  if (log_records != NULL)
    g_message ("Device %s sent an error log of %u records (%" G_GUINT64_FORMAT
               " older dropped)", device_id, log_records->len, log_dropped);

  md5_hex = g_compute_checksum_for_bytes (G_CHECKSUM_MD5, body);
  etag = g_strdup_printf ("\"%s\"", md5_hex);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "ETag", etag);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
}

/* ---- body limits ------------------------------------------------------------------- */

/* Runs when the headers have arrived, before the body is read: a body without a length, or
 * larger than any message may be, is refused unread. */
static void
handle_early (SoupServer        *server,
              SoupServerMessage *msg,
              const char        *path,
              GHashTable        *query,
              gpointer           user_data)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *method = soup_server_message_get_method (msg);
  goffset limit = g_str_has_prefix (path, "/uploads") ? PM_PROTOCOL_MAX_BATCH_BYTES
                                                      : 4 * PM_PROTOCOL_MAX_MESSAGE_BYTES;

  if (g_strcmp0 (method, "POST") != 0 && g_strcmp0 (method, "PUT") != 0)
    return;
  if (soup_message_headers_get_encoding (headers) != SOUP_ENCODING_CONTENT_LENGTH)
    {
      respond_error (msg, SOUP_STATUS_LENGTH_REQUIRED, "length-required",
                     "Requests must say their length");
      return;
    }
  if (soup_message_headers_get_content_length (headers) > limit)
    respond_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "too-large",
                   "The request is larger than any message may be");
}

/* ---- listening --------------------------------------------------------------------- */

static guint
first_port (SoupServer *server)
{
  GSList *uris = soup_server_get_uris (server);
  guint port = uris != NULL ? (guint) g_uri_get_port (uris->data) : 0;

  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  return port;
}

static const char * const limited_paths[] = {
  "/distributor/authenticate", "/funds", "/downloads", "/uploads", "/accounting", "/health",
};

gboolean
pm_dc_server_listen (PmDcServer *self,
                     const char *address,
                     int         https_port,
                     int         http_port,
                     GError    **error)
{
  g_autoptr(GInetAddress) inet = g_inet_address_new_from_string (address);
  g_autoptr(GSocketAddress) https_address = NULL;

  g_return_val_if_fail (PM_IS_DC_SERVER (self), FALSE);

  if (inet == NULL)
    {
      g_set_error (error, PM_DC_ERROR, PM_DC_ERROR_LISTEN,
                   "“%s” is not an IP address to listen on", address);
      return FALSE;
    }

  self->https = soup_server_new ("tls-certificate", self->certificate,
                                 "server-header", "postmeter-datacenter", NULL);
  soup_server_add_handler (self->https, "/distributor/authenticate", handle_authenticate,
                           self, NULL);
  soup_server_add_handler (self->https, "/funds", handle_funds, self, NULL);
  soup_server_add_handler (self->https, "/downloads", handle_downloads, self, NULL);
  soup_server_add_handler (self->https, "/uploads", handle_uploads, self, NULL);
  soup_server_add_handler (self->https, "/accounting", handle_accounting, self, NULL);
  soup_server_add_handler (self->https, "/health", handle_health, self, NULL);
  soup_server_add_handler (self->https, "/generate_204", handle_204, self, NULL);
  /* libsoup picks one handler per path, early or not, so each path gets the limit. */
  for (guint i = 0; i < G_N_ELEMENTS (limited_paths); i++)
    soup_server_add_early_handler (self->https, limited_paths[i], handle_early, self, NULL);

  https_address = g_inet_socket_address_new (inet, (guint16) MAX (https_port, 0));
  if (!soup_server_listen (self->https, https_address, SOUP_SERVER_LISTEN_HTTPS, error))
    {
      g_prefix_error (error, "Could not listen for TLS on %s:%d: ", address, https_port);
      return FALSE;
    }
  self->https_port = first_port (self->https);

  if (http_port >= 0)
    {
      g_autoptr(GSocketAddress) http_address =
        g_inet_socket_address_new (inet, (guint16) http_port);

      self->http = soup_server_new ("server-header", "postmeter-datacenter", NULL);
      soup_server_add_handler (self->http, "/generate_204", handle_204, self, NULL);
      if (!soup_server_listen (self->http, http_address, 0, error))
        {
          g_prefix_error (error, "Could not listen for HTTP on %s:%d: ", address, http_port);
          return FALSE;
        }
      self->http_port = first_port (self->http);
    }

  return TRUE;
}
