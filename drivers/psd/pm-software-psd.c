/* pm-software-psd.c: the software PSD
 *
 * Threads: the PmPsd vfuncs run only on the PSD's worker thread (see pm-psd.c), one at a
 * time, and assert it. Everything in the instance past open() is touched only there;
 * serial, directory and keys are fixed at open and any thread may read them.
 *
 * Every change follows the same steps: copy the state, change the copy, seal it and write it
 * durably, and only then adopt it and answer. A crash at any point leaves either the old state
 * or the new one on disk, and nothing is released (no indicium, no record) before the state
 * that accounts for it is on disk.
 */
#define _POSIX_C_SOURCE 200809L

#include "pm-software-psd.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "pm-clock.h"
#include "pm-indicium.h"
#include "pm-psd-message.h"

#define STATE_FILE        "state"
#define LOCK_FILE         "lock"
#define STATE_TEMP_FILE   "state.tmp"
#define SECRET_FILE       "device.secret"
#define KEY_FILE          "signing-key.pem"
#define MAKING_FILE       "manufacturing"
#define SECRET_LENGTH     32
#define MAC_LENGTH        32
#define STATE_MAGIC       "PMSPSD\0\1"
#define STATE_VERSION     2
#define JOURNAL_ENTRY_LENGTH (8 + 8 + 4 + 8 + 32)
#define SOFTWARE_ID       "PM01"

typedef struct
{
  guint32            serial;
  char               model[5];
  guint8             key_digest[PM_PSD_KEY_DIGEST_LENGTH];
  GBytes            *provider_pem;         /* owned */
  GBytes            *operational_block;    /* owned; NULL until installed */
  PmMills            ascending;
  PmMills            descending;
  PmMills            control_sum;
  PmMills            refunded;
  guint64            piece_count;
  guint32            last_date_used;
  guint32            last_refill_sequence;
  gint64             last_inspection;
  gint64             clock_high_water;     /* latest time any state was written at */
  PmPsdLockReason    lock_reason;
  char              *lock_message;         /* owned */
  gboolean           audit_pending;
  guint8             audit_nonce[PM_AUDIT_NONCE_LENGTH];
  guint8             audit_digest[PM_PSD_KEY_DIGEST_LENGTH];
  GBytes            *withdrawal_record;    /* owned; NULL unless withdrawn */
  GArray            *journal;              /* owned; PmPsdJournalEntry, oldest first */
} State;

struct _PmSoftwarePsd
{
  GObject             parent_instance;

  /* Fixed at open; any thread. */
  char               *directory;
  guint32             serial;
  PmSigningKey       *signing_key;        /* NULL when the PSD is damaged */
  PmVerifyKey        *public_key;         /* NULL when the key file is unreadable */
  guint8              mac_key[32];

  /* Worker mutex held. */
  State              *state;              /* the state as last written */
  PmOperationalBlock  block;              /* parsed from state->operational_block */
  PmVerifyKey        *provider_key;
  char               *damage;             /* non-NULL: the PSD is unusable, and why */

  /* An exclusive lock on the folder's lock file, held while this object lives: two
   * programs (the kiosk and a tool) each writing the state they read would undo each
   * other's refills and debits. */
  int                 lock_fd;

  /* Test hook: crash on the n-th pass through a numbered point of the durable write. */
  int                 crash_point;
  int                 crash_countdown;
};

static void pm_software_psd_psd_init (PmPsdInterface *iface);

G_DEFINE_TYPE_WITH_CODE (PmSoftwarePsd, pm_software_psd, G_TYPE_OBJECT,
                         G_IMPLEMENT_INTERFACE (PM_TYPE_PSD, pm_software_psd_psd_init))

/* state records */

static void
state_free (State *state)
{
  if (state == NULL)
    return;

  g_clear_pointer (&state->provider_pem, g_bytes_unref);
  g_clear_pointer (&state->operational_block, g_bytes_unref);
  g_clear_pointer (&state->withdrawal_record, g_bytes_unref);
  g_clear_pointer (&state->journal, g_array_unref);
  g_free (state->lock_message);
  g_free (state);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (State, state_free)

static State *
state_new (void)
{
  State *state = g_new0 (State, 1);

  state->journal = g_array_new (FALSE, TRUE, sizeof (PmPsdJournalEntry));
  return state;
}

static State *
state_copy (const State *state)
{
  State *copy = g_memdup2 (state, sizeof *state);

  copy->provider_pem = state->provider_pem ? g_bytes_ref (state->provider_pem) : NULL;
  copy->operational_block = state->operational_block ? g_bytes_ref (state->operational_block)
                                                     : NULL;
  copy->withdrawal_record = state->withdrawal_record ? g_bytes_ref (state->withdrawal_record)
                                                     : NULL;
  copy->lock_message = g_strdup (state->lock_message);
  copy->journal = g_array_copy (state->journal);

  return copy;
}

static void
put_le (GByteArray *out,
        guint64     value,
        guint       width)
{
  guint8 bytes[8];

  for (guint i = 0; i < width; i++)
    bytes[i] = (guint8) (value >> (8 * i));
  g_byte_array_append (out, bytes, width);
}

static void
put_blob (GByteArray *out,
          GBytes     *blob)
{
  gsize length = 0;
  const guint8 *data = blob != NULL ? g_bytes_get_data (blob, &length) : NULL;

  put_le (out, length, 4);
  if (length > 0)
    g_byte_array_append (out, data, (guint) length);
}

typedef struct
{
  const guint8 *data;
  gsize         length;
  gsize         offset;
  gboolean      short_read;
} Reader;

static guint64
get_le (Reader *r,
        guint   width)
{
  guint64 value = 0;

  if (r->length - r->offset < width)
    {
      r->short_read = TRUE;
      return 0;
    }

  for (guint i = 0; i < width; i++)
    value |= ((guint64) r->data[r->offset++]) << (8 * i);

  return value;
}

static void
get_raw (Reader *r,
         void   *out,
         gsize   length)
{
  if (r->length - r->offset < length)
    {
      r->short_read = TRUE;
      memset (out, 0, length);
      return;
    }

  memcpy (out, r->data + r->offset, length);
  r->offset += length;
}

static GBytes *
get_blob (Reader *r)
{
  gsize length = (gsize) get_le (r, 4);
  GBytes *blob;

  if (r->short_read || r->length - r->offset < length)
    {
      r->short_read = TRUE;
      return NULL;
    }
  if (length == 0)
    return NULL;

  blob = g_bytes_new (r->data + r->offset, length);
  r->offset += length;
  return blob;
}

static void
compute_mac (const guint8 *key,
             const guint8 *data,
             gsize         length,
             guint8        out[MAC_LENGTH])
{
  g_autoptr(GHmac) hmac = g_hmac_new (G_CHECKSUM_SHA256, key, 32);
  gsize out_length = MAC_LENGTH;

  g_hmac_update (hmac, data, (gssize) length);
  g_hmac_get_digest (hmac, out, &out_length);
}

static GBytes *
state_seal (const State  *state,
            const guint8 *mac_key)
{
  GByteArray *out = g_byte_array_sized_new (512 + state->journal->len * JOURNAL_ENTRY_LENGTH);
  gsize message_length = state->lock_message != NULL ? strlen (state->lock_message) : 0;
  guint8 mac[MAC_LENGTH];

  g_byte_array_append (out, (const guint8 *) STATE_MAGIC, 8);
  put_le (out, STATE_VERSION, 4);
  put_le (out, state->serial, 4);
  g_byte_array_append (out, (const guint8 *) state->model, 4);
  g_byte_array_append (out, state->key_digest, PM_PSD_KEY_DIGEST_LENGTH);
  put_blob (out, state->provider_pem);
  put_blob (out, state->operational_block);
  put_le (out, (guint64) state->ascending, 8);
  put_le (out, (guint64) state->descending, 8);
  put_le (out, (guint64) state->control_sum, 8);
  put_le (out, (guint64) state->refunded, 8);
  put_le (out, state->piece_count, 8);
  put_le (out, state->last_date_used, 4);
  put_le (out, state->last_refill_sequence, 4);
  put_le (out, (guint64) state->last_inspection, 8);
  put_le (out, (guint64) state->clock_high_water, 8);
  put_le (out, state->lock_reason, 1);
  put_le (out, message_length, 2);
  g_byte_array_append (out, (const guint8 *) (state->lock_message ? state->lock_message : ""),
                       (guint) message_length);
  put_le (out, state->audit_pending ? 1 : 0, 1);
  g_byte_array_append (out, state->audit_nonce, PM_AUDIT_NONCE_LENGTH);
  g_byte_array_append (out, state->audit_digest, PM_PSD_KEY_DIGEST_LENGTH);
  put_blob (out, state->withdrawal_record);
  put_le (out, state->journal->len, 4);
  for (guint i = 0; i < state->journal->len; i++)
    {
      const PmPsdJournalEntry *entry = &g_array_index (state->journal, PmPsdJournalEntry, i);

      put_le (out, entry->piece_count, 8);
      put_le (out, (guint64) entry->postage, 8);
      put_le (out, entry->date_of_mailing, 4);
      put_le (out, (guint64) entry->ascending_after, 8);
      g_byte_array_append (out, entry->indicium_digest, 32);
    }

  compute_mac (mac_key, out->data, out->len, mac);
  g_byte_array_append (out, mac, MAC_LENGTH);

  return g_byte_array_free_to_bytes (out);
}

/* Reads a sealed state; on any failure says in *error what is wrong with it. */
static State *
state_unseal (GBytes        *sealed,
              const guint8  *mac_key,
              GError       **error)
{
  g_autoptr(State) state = state_new ();
  gsize length = 0;
  const guint8 *data = g_bytes_get_data (sealed, &length);
  guint8 mac[MAC_LENGTH];
  Reader r;
  guint32 journal_length;
  gsize message_length;

  if (length < 8 + 4 + MAC_LENGTH || memcmp (data, STATE_MAGIC, 8) != 0)
    {
      g_set_error (error, PM_PSD_ERROR, PM_PSD_ERROR_DAMAGED,
                   "the state file is truncated or is not a PSD state file");
      return NULL;
    }

  compute_mac (mac_key, data, length - MAC_LENGTH, mac);
  if (CRYPTO_memcmp (mac, data + length - MAC_LENGTH, MAC_LENGTH) != 0)
    {
      g_set_error (error, PM_PSD_ERROR, PM_PSD_ERROR_DAMAGED,
                   "the state file's seal does not match its contents: it was altered, "
                   "torn, or sealed by another device");
      return NULL;
    }

  r = (Reader) { data, length - MAC_LENGTH, 8, FALSE };
  if (get_le (&r, 4) != STATE_VERSION)
    {
      g_set_error (error, PM_PSD_ERROR, PM_PSD_ERROR_DAMAGED,
                   "the state file has a format version this build does not read");
      return NULL;
    }

  state->serial = (guint32) get_le (&r, 4);
  get_raw (&r, state->model, 4);
  get_raw (&r, state->key_digest, PM_PSD_KEY_DIGEST_LENGTH);
  state->provider_pem = get_blob (&r);
  state->operational_block = get_blob (&r);
  state->ascending = (PmMills) get_le (&r, 8);
  state->descending = (PmMills) get_le (&r, 8);
  state->control_sum = (PmMills) get_le (&r, 8);
  state->refunded = (PmMills) get_le (&r, 8);
  state->piece_count = get_le (&r, 8);
  state->last_date_used = (guint32) get_le (&r, 4);
  state->last_refill_sequence = (guint32) get_le (&r, 4);
  state->last_inspection = (gint64) get_le (&r, 8);
  state->clock_high_water = (gint64) get_le (&r, 8);
  state->lock_reason = (PmPsdLockReason) get_le (&r, 1);
  message_length = (gsize) get_le (&r, 2);
  if (message_length > 0 && !r.short_read && r.length - r.offset >= message_length)
    {
      state->lock_message = g_strndup ((const char *) r.data + r.offset, message_length);
      r.offset += message_length;
    }
  state->audit_pending = get_le (&r, 1) != 0;
  get_raw (&r, state->audit_nonce, PM_AUDIT_NONCE_LENGTH);
  get_raw (&r, state->audit_digest, PM_PSD_KEY_DIGEST_LENGTH);
  state->withdrawal_record = get_blob (&r);
  journal_length = (guint32) get_le (&r, 4);
  for (guint i = 0; i < journal_length && !r.short_read; i++)
    {
      PmPsdJournalEntry entry;

      entry.piece_count = get_le (&r, 8);
      entry.postage = (PmMills) get_le (&r, 8);
      entry.date_of_mailing = (guint32) get_le (&r, 4);
      entry.ascending_after = (PmMills) get_le (&r, 8);
      get_raw (&r, entry.indicium_digest, 32);
      g_array_append_val (state->journal, entry);
    }

  if (r.short_read || r.offset != r.length || state->provider_pem == NULL)
    {
      g_set_error (error, PM_PSD_ERROR, PM_PSD_ERROR_DAMAGED,
                   "the state file's fields do not add up to its length");
      return NULL;
    }

  /* The seal proves who wrote it; the invariant proves the registers still agree. */
  if (state->ascending < 0 || state->descending < 0 || state->refunded < 0
      || state->control_sum != state->ascending + state->descending + state->refunded)
    {
      g_set_error (error, PM_PSD_ERROR, PM_PSD_ERROR_DAMAGED,
                   "the registers do not balance (control sum %" G_GINT64_FORMAT
                   " against AR %" G_GINT64_FORMAT " + DR %" G_GINT64_FORMAT
                   " + refunded %" G_GINT64_FORMAT ")",
                   state->control_sum, state->ascending, state->descending, state->refunded);
      return NULL;
    }

  return g_steal_pointer (&state);
}

/* durable files */

static void
crash_hook (PmSoftwarePsd *self,
            int            point)
{
  if (self->crash_point != point)
    return;

  if (--self->crash_countdown <= 0)
    kill (getpid (), SIGKILL);
}

static gboolean
fsync_directory (const char  *directory,
                 GError     **error)
{
  int fd = open (directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int saved;

  if (fd < 0 || fsync (fd) != 0)
    {
      saved = errno;
      if (fd >= 0)
        close (fd);
      g_set_error (error, PM_PSD_ERROR, PM_PSD_ERROR_STORAGE,
                   "Could not flush the PSD folder “%s” to disk: %s", directory,
                   g_strerror (saved));
      return FALSE;
    }

  close (fd);
  return TRUE;
}

/* Temporary file, fsync, rename over the old one, fsync the folder: after a crash the file
 * is either wholly old or wholly new. */
static gboolean
write_durably (PmSoftwarePsd  *self,
               const char     *name,
               const guint8   *data,
               gsize           length,
               GError        **error)
{
  g_autofree char *temp_name = g_strconcat (name, ".tmp", NULL);
  g_autofree char *path = g_build_filename (self->directory, name, NULL);
  g_autofree char *temp_path = g_build_filename (self->directory, temp_name, NULL);
  gsize written = 0;
  int fd;

  crash_hook (self, 1);

  fd = open (temp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    goto failed;

  /* A test may stop the process half-way through the write: a torn temporary file. */
  while (written < length)
    {
      gsize chunk = length - written;
      gssize n;

      if (self->crash_point == 2 && written < length / 2)
        chunk = length / 2 - written;

      n = write (fd, data + written, chunk);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;

          close (fd);
          errno = saved;
          goto failed;
        }
      written += (gsize) n;

      if (written == length / 2)
        crash_hook (self, 2);
    }

  crash_hook (self, 3);
  if (fsync (fd) != 0)
    {
      int saved = errno;

      close (fd);
      errno = saved;
      goto failed;
    }
  close (fd);

  crash_hook (self, 4);
  if (rename (temp_path, path) != 0)
    goto failed;

  crash_hook (self, 5);
  if (!fsync_directory (self->directory, error))
    return FALSE;

  crash_hook (self, 6);
  return TRUE;

failed:
  g_set_error (error, PM_PSD_ERROR, PM_PSD_ERROR_STORAGE,
               "Could not write the PSD's “%s” in “%s”: %s", name, self->directory,
               g_strerror (errno));
  return FALSE;
}

/* The PSD's own time: the clock, but never earlier than a time it has already written a
 * state at. Setting the computer's clock back therefore neither postpones the inspection
 * lock nor reopens dates of mailing that have passed. */
static gint64
psd_now (PmSoftwarePsd *self)
{
  gint64 clock_now = pm_clock_now_s ();

  if (self->state != NULL && self->state->clock_high_water > clock_now)
    return self->state->clock_high_water;

  return clock_now;
}

static GDate *
psd_today (PmSoftwarePsd *self)
{
  g_autoptr(GDateTime) local = g_date_time_new_from_unix_local (psd_now (self));

  return g_date_new_dmy ((GDateDay) g_date_time_get_day_of_month (local),
                         (GDateMonth) g_date_time_get_month (local),
                         (GDateYear) g_date_time_get_year (local));
}

/* Seals and writes next; on success it becomes the current state. On failure the PSD stops
 * until it is reopened, since the disk may hold either state. */
static gboolean
commit_state (PmSoftwarePsd  *self,
              State          *next,
              GError        **error)
{
  g_autoptr(GBytes) sealed = NULL;
  gsize length = 0;
  const guint8 *data;

  next->clock_high_water = MAX (next->clock_high_water, psd_now (self));
  sealed = state_seal (next, self->mac_key);
  data = g_bytes_get_data (sealed, &length);

  if (!write_durably (self, STATE_FILE, data, length, error))
    {
      g_free (self->damage);
      self->damage = g_strdup ("the PSD could not save its state; close and reopen it");
      state_free (next);
      return FALSE;
    }

  state_free (self->state);
  self->state = next;
  return TRUE;
}

/* checks shared by operations */

static PmPsdInspectionState
inspection_state (PmSoftwarePsd *self,
                  gint64         now)
{
  const State *state = self->state;

  if (state->lock_reason == PM_PSD_LOCK_WATCHDOG)
    return PM_PSD_INSPECTION_LOCKED;
  if (state->operational_block == NULL)
    return PM_PSD_INSPECTION_OK;
  if (now >= state->last_inspection + self->block.lock_after_s)
    return PM_PSD_INSPECTION_LOCKED;
  if (now >= state->last_inspection + self->block.warning_after_s)
    return PM_PSD_INSPECTION_WARNING;

  return PM_PSD_INSPECTION_OK;
}

/* Makes a watchdog lock permanent in the state the moment it is due, so turning the clock
 * back or restarting does not lift it. */
static gboolean
enforce_watchdog (PmSoftwarePsd  *self,
                  GError        **error)
{
  State *next;

  if (self->damage != NULL || self->state->lock_reason != PM_PSD_LOCK_NONE)
    return TRUE;
  if (inspection_state (self, psd_now (self)) != PM_PSD_INSPECTION_LOCKED)
    return TRUE;

  next = state_copy (self->state);
  next->lock_reason = PM_PSD_LOCK_WATCHDOG;
  g_free (next->lock_message);
  next->lock_message = g_strdup ("The inspection is overdue: connect to the provider for an "
                                 "audit to print postage again");
  g_message ("PSD %u locked: inspection overdue", self->serial);

  return commit_state (self, next, error);
}

static gboolean
check_usable (PmSoftwarePsd  *self,
              gboolean        allow_lock,
              GError        **error)
{
  if (self->damage != NULL)
    {
      g_set_error (error, PM_PSD_ERROR, PM_PSD_ERROR_DAMAGED,
                   "The PSD is locked because %s. It cannot be used; contact the provider "
                   "to replace it", self->damage);
      return FALSE;
    }

  if (!enforce_watchdog (self, error))
    return FALSE;

  if (self->state->lock_reason == PM_PSD_LOCK_WITHDRAWN)
    {
      g_set_error (error, PM_PSD_ERROR, PM_PSD_ERROR_WITHDRAWN,
                   "The PSD has been withdrawn from service and can no longer be used");
      return FALSE;
    }

  if (self->state->operational_block == NULL)
    {
      g_set_error (error, PM_PSD_ERROR, PM_PSD_ERROR_NOT_INITIALIZED,
                   "The PSD has no operational block yet: connect to the provider to "
                   "install it before use");
      return FALSE;
    }

  if (!allow_lock && self->state->lock_reason != PM_PSD_LOCK_NONE)
    {
      g_set_error (error, PM_PSD_ERROR, PM_PSD_ERROR_LOCKED, "The PSD is locked: %s",
                   self->state->lock_message != NULL
                     ? self->state->lock_message
                     : pm_psd_lock_reason_to_string (self->state->lock_reason));
      return FALSE;
    }

  return TRUE;
}

static PmPsdStatus *
make_status (PmSoftwarePsd *self)
{
  PmPsdStatus *status = g_new0 (PmPsdStatus, 1);
  const State *state = self->state;
  gint64 now = psd_now (self);

  status->serial = self->serial;
  memcpy (status->model, PM_SOFTWARE_PSD_MODEL, 5);
  status->specimen = TRUE;

  if (self->damage != NULL)
    {
      status->lock_reason = PM_PSD_LOCK_DAMAGED;
      status->lock_message = g_strdup_printf ("The PSD is locked because %s", self->damage);
      status->inspection_state = PM_PSD_INSPECTION_LOCKED;
      if (state == NULL)
        return status;
    }

  status->has_operational_block = state->operational_block != NULL;
  if (status->has_operational_block)
    {
      status->certificate_serial = self->block.certificate_serial;
      status->origin_zip = self->block.origin_zip;
      status->profile = self->block.profile;
      status->max_funds = self->block.max_funds;
      status->max_postage = self->block.max_postage;
      status->inspection_due = state->last_inspection + self->block.warning_after_s;
      status->inspection_lock = state->last_inspection + self->block.lock_after_s;
    }

  status->ascending = state->ascending;
  status->descending = state->descending;
  status->control_sum = state->control_sum;
  status->refunded = state->refunded;
  status->piece_count = state->piece_count;
  status->last_date_used = state->last_date_used;
  status->last_refill_sequence = state->last_refill_sequence;
  status->last_inspection = state->last_inspection;

  if (self->damage == NULL)
    {
      status->inspection_state = inspection_state (self, now);
      status->lock_reason = state->lock_reason;
      status->lock_message = g_strdup (state->lock_message);
    }

  return status;
}

/* opening */

static gboolean
read_secret (const char  *path,
             guint8       out_secret[SECRET_LENGTH],
             GError     **error)
{
  g_autofree char *contents = NULL;
  gsize length = 0;

  if (!g_file_get_contents (path, &contents, &length, error))
    return FALSE;

  if (length != SECRET_LENGTH)
    {
      g_set_error (error, PM_PSD_ERROR, PM_PSD_ERROR_DAMAGED,
                   "its device secret has the wrong length");
      return FALSE;
    }

  memcpy (out_secret, contents, SECRET_LENGTH);
  memset (contents, 0, length);
  return TRUE;
}

static void
derive_mac_key (const guint8 secret[SECRET_LENGTH],
                guint8       out_key[32])
{
  static const char label[] = "postmeter software PSD state seal v1";

  compute_mac (secret, (const guint8 *) label, sizeof label - 1, out_key);
}

static void
parse_crash_hook (PmSoftwarePsd *self)
{
  const char *value = g_getenv ("POSTMETER_PSD_CRASH_AT");
  g_auto(GStrv) parts = NULL;

  if (value == NULL || *value == '\0')
    return;

  parts = g_strsplit (value, ":", 2);
  self->crash_point = (int) g_ascii_strtoll (parts[0], NULL, 10);
  self->crash_countdown = parts[1] != NULL ? (int) g_ascii_strtoll (parts[1], NULL, 10) : 1;
}

static void
mark_damaged (PmSoftwarePsd *self,
              const char    *reason)
{
  g_warning ("PSD in “%s” is locked: %s", self->directory, reason);
  g_free (self->damage);
  self->damage = g_strdup (reason);
}

/* After the state is read: the keys and the operational block must agree with it. */
static void
check_loaded_state (PmSoftwarePsd *self,
                    PmVerifyKey   *provider_key)
{
  g_autoptr(GError) error = NULL;
  guint8 digest[PM_PSD_KEY_DIGEST_LENGTH];
  State *state = self->state;

  self->serial = state->serial;

  self->provider_key = pm_verify_key_new_from_pem (g_bytes_get_data (state->provider_pem, NULL),
                                                   (gssize) g_bytes_get_size (state->provider_pem),
                                                   &error);
  if (self->provider_key == NULL)
    {
      mark_damaged (self, "the stored provider key cannot be read");
      return;
    }

  if (self->public_key == NULL || !pm_psd_key_digest (self->public_key, digest)
      || memcmp (digest, state->key_digest, sizeof digest) != 0)
    {
      mark_damaged (self, "the signing key file does not belong to this PSD");
      return;
    }

  if (state->operational_block != NULL
      && !pm_operational_block_verify (state->operational_block, self->provider_key,
                                       &self->block, &error))
    {
      mark_damaged (self, "the stored operational block is not valid");
      return;
    }
}

static gboolean
file_exists (PmSoftwarePsd *self,
             const char    *name)
{
  g_autofree char *path = g_build_filename (self->directory, name, NULL);

  return g_file_test (path, G_FILE_TEST_EXISTS);
}

static gboolean
remove_file (PmSoftwarePsd  *self,
             const char     *name,
             GError        **error)
{
  g_autofree char *path = g_build_filename (self->directory, name, NULL);

  if (g_unlink (path) != 0 && errno != ENOENT)
    {
      int saved = errno;

      g_set_error (error, PM_PSD_ERROR, PM_PSD_ERROR_STORAGE,
                   "Could not remove “%s”: %s", path, g_strerror (saved));
      return FALSE;
    }

  return TRUE;
}

/* Makes a new PSD in an empty folder. The marker file is written first and removed last, so
 * a crash part-way leaves a folder that the next open recognises as a PSD never finished
 * (no state file yet, so no operational block, no funds, no piece) and makes again. Without
 * the marker, a missing file is damage, never a reason to start over. */
static gboolean
create_new (PmSoftwarePsd  *self,
            PmVerifyKey    *provider_key,
            guint32         factory_serial,
            GError        **error)
{
  g_autoptr(State) state = state_new ();
  g_autoptr(GBytes) key_pem = NULL;
  guint8 secret[SECRET_LENGTH];
  static const char marker[] = "A software PSD is being made in this folder.\n";

  if (provider_key == NULL)
    {
      g_set_error (error, PM_PSD_ERROR, PM_PSD_ERROR_INVALID,
                   "A new PSD needs the provider's public key");
      return FALSE;
    }

  if (!write_durably (self, MAKING_FILE, (const guint8 *) marker, sizeof marker - 1, error))
    return FALSE;

  if (RAND_bytes (secret, SECRET_LENGTH) != 1)
    {
      g_set_error (error, PM_PSD_ERROR, PM_PSD_ERROR_STORAGE,
                   "The system's random number generator failed");
      return FALSE;
    }
  if (!write_durably (self, SECRET_FILE, secret, SECRET_LENGTH, error))
    return FALSE;
  derive_mac_key (secret, self->mac_key);
  OPENSSL_cleanse (secret, sizeof secret);

  self->signing_key = pm_signing_key_generate (error);
  if (self->signing_key == NULL)
    return FALSE;
  self->public_key = pm_signing_key_get_verify_key (self->signing_key);

  key_pem = pm_signing_key_to_pem (self->signing_key);
  if (!write_durably (self, KEY_FILE, g_bytes_get_data (key_pem, NULL),
                      g_bytes_get_size (key_pem), error))
    return FALSE;

  state->serial = factory_serial != 0 ? factory_serial
                                      : (guint32) g_random_int_range (1, 99999999);
  memcpy (state->model, PM_SOFTWARE_PSD_MODEL, 5);
  pm_psd_key_digest (self->public_key, state->key_digest);
  state->provider_pem = pm_verify_key_to_pem (provider_key);
  state->last_inspection = pm_clock_now_s ();

  if (!commit_state (self, g_steal_pointer (&state), error))
    return FALSE;

  if (!remove_file (self, MAKING_FILE, error) || !fsync_directory (self->directory, error))
    return FALSE;

  g_clear_pointer (&self->damage, g_free);
  self->serial = self->state->serial;
  self->provider_key = pm_verify_key_ref (provider_key);
  g_message ("New software PSD %u made in “%s”", self->serial, self->directory);

  return TRUE;
}

/* Decides what the folder holds: nothing (make a PSD), a PSD whose making was cut off before
 * its state was written (make it again), or a PSD to open. */
static gboolean
needs_making (PmSoftwarePsd  *self,
              gboolean       *out_make,
              GError        **error)
{
  static const char *const files[] = { SECRET_FILE, KEY_FILE, STATE_FILE };
  gboolean any = FALSE;

  *out_make = FALSE;

  if (file_exists (self, MAKING_FILE))
    {
      if (file_exists (self, STATE_FILE))
        {
          /* Everything was written; only the marker's removal was lost. */
          return remove_file (self, MAKING_FILE, error)
                 && fsync_directory (self->directory, error);
        }

      g_message ("The software PSD in “%s” was never finished; making it again",
                 self->directory);
      for (guint i = 0; i < G_N_ELEMENTS (files); i++)
        if (!remove_file (self, files[i], error))
          return FALSE;
      *out_make = TRUE;
      return TRUE;
    }

  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    any = any || file_exists (self, files[i]);
  *out_make = !any;

  return TRUE;
}

static gboolean
take_lock (PmSoftwarePsd  *self,
           GError        **error)
{
  g_autofree char *path = g_build_filename (self->directory, LOCK_FILE, NULL);

  self->lock_fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (self->lock_fd < 0)
    {
      int saved = errno;

      g_set_error (error, PM_PSD_ERROR, PM_PSD_ERROR_STORAGE,
                   "Could not open the PSD's lock file “%s”: %s", path, g_strerror (saved));
      return FALSE;
    }
  if (flock (self->lock_fd, LOCK_EX | LOCK_NB) != 0)
    {
      int saved = errno;

      if (saved == EWOULDBLOCK)
        g_set_error (error, PM_PSD_ERROR, PM_PSD_ERROR_IN_USE,
                     "The PSD in “%s” is in use by another program (the kiosk, or a "
                     "tool); close that program first", self->directory);
      else
        g_set_error (error, PM_PSD_ERROR, PM_PSD_ERROR_STORAGE,
                     "Could not lock the PSD in “%s”: %s", self->directory,
                     g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

PmSoftwarePsd *
pm_software_psd_open (const char   *directory,
                      PmVerifyKey  *provider_key,
                      guint32       factory_serial,
                      GError      **error)
{
  g_autoptr(PmSoftwarePsd) self = NULL;
  g_autofree char *secret_path = NULL;
  g_autofree char *state_path = NULL;
  g_autofree char *key_path = NULL;
  g_autofree char *key_pem = NULL;
  g_autofree char *sealed_data = NULL;
  g_autoptr(GBytes) sealed = NULL;
  g_autoptr(GError) local_error = NULL;
  guint8 secret[SECRET_LENGTH];
  gsize sealed_length = 0;
  gboolean make;

  g_return_val_if_fail (directory != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (g_mkdir_with_parents (directory, 0700) != 0)
    {
      int saved = errno;

      g_set_error (error, PM_PSD_ERROR, PM_PSD_ERROR_STORAGE,
                   "Could not make the PSD folder “%s”: %s", directory, g_strerror (saved));
      return NULL;
    }

  self = g_object_new (PM_TYPE_SOFTWARE_PSD, NULL);
  self->directory = g_strdup (directory);
  parse_crash_hook (self);
  if (!take_lock (self, error))
    return NULL;

  if (!needs_making (self, &make, error))
    return NULL;
  if (make)
    {
      if (!create_new (self, provider_key, factory_serial, error))
        return NULL;
      return g_steal_pointer (&self);
    }

  secret_path = g_build_filename (directory, SECRET_FILE, NULL);
  state_path = g_build_filename (directory, STATE_FILE, NULL);
  key_path = g_build_filename (directory, KEY_FILE, NULL);

  /* From here on, nothing is ever rewritten or reset: a fault locks the PSD and leaves its
   * files for the provider to examine. */
  if (!read_secret (secret_path, secret, &local_error))
    {
      mark_damaged (self, g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT)
                            ? "its device secret is missing"
                            : g_error_matches (local_error, PM_PSD_ERROR, PM_PSD_ERROR_DAMAGED)
                                ? local_error->message
                                : "its device secret cannot be read");
      return g_steal_pointer (&self);
    }
  derive_mac_key (secret, self->mac_key);
  OPENSSL_cleanse (secret, sizeof secret);

  if (g_file_get_contents (key_path, &key_pem, NULL, NULL))
    self->signing_key = pm_signing_key_new_from_pem (key_pem, -1, NULL);
  if (self->signing_key != NULL)
    self->public_key = pm_signing_key_get_verify_key (self->signing_key);

  if (!g_file_get_contents (state_path, &sealed_data, &sealed_length, &local_error))
    {
      mark_damaged (self, g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT)
                            ? "its state file is missing"
                            : "its state file cannot be read");
      return g_steal_pointer (&self);
    }

  sealed = g_bytes_new_take (g_steal_pointer (&sealed_data), sealed_length);
  self->state = state_unseal (sealed, self->mac_key, &local_error);
  if (self->state == NULL)
    {
      mark_damaged (self, local_error->message);
      return g_steal_pointer (&self);
    }

  check_loaded_state (self, provider_key);
  if (self->damage == NULL && provider_key != NULL)
    {
      g_autofree char *given = pm_verify_key_fingerprint (provider_key);
      g_autofree char *stored = pm_verify_key_fingerprint (self->provider_key);

      if (g_strcmp0 (given, stored) != 0)
        {
          g_set_error (error, PM_PSD_ERROR, PM_PSD_ERROR_WRONG_DEVICE,
                       "The PSD in “%s” belongs to another provider (its provider key "
                       "differs from the one given)", directory);
          return NULL;
        }
    }

  return g_steal_pointer (&self);
}

const char *
pm_software_psd_get_directory (PmSoftwarePsd *self)
{
  g_return_val_if_fail (PM_IS_SOFTWARE_PSD (self), NULL);

  return self->directory;
}

gboolean
pm_software_psd_export_public_key (PmSoftwarePsd  *self,
                                   const char     *path,
                                   GError        **error)
{
  g_autoptr(GBytes) pem = NULL;

  g_return_val_if_fail (PM_IS_SOFTWARE_PSD (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  if (self->public_key == NULL)
    {
      g_set_error (error, PM_PSD_ERROR, PM_PSD_ERROR_DAMAGED,
                   "The PSD's key cannot be read, so there is no public key to export");
      return FALSE;
    }

  pem = pm_verify_key_to_pem (self->public_key);
  return g_file_set_contents (path, g_bytes_get_data (pem, NULL),
                              (gssize) g_bytes_get_size (pem), error);
}

/* PmPsd */

static guint32
software_psd_get_serial (PmPsd *psd)
{
  return PM_SOFTWARE_PSD (psd)->serial;
}

static PmVerifyKey *
software_psd_get_public_key (PmPsd *psd)
{
  PmSoftwarePsd *self = PM_SOFTWARE_PSD (psd);

  return self->public_key != NULL ? pm_verify_key_ref (self->public_key) : NULL;
}

static PmPsdStatus *
software_psd_get_status (PmPsd   *psd,
                         GError **error)
{
  PmSoftwarePsd *self = PM_SOFTWARE_PSD (psd);

  g_assert (pm_psd_is_worker_thread (psd));

  if (self->damage == NULL && !enforce_watchdog (self, error))
    return NULL;

  return make_status (self);
}

static PmPsdStatus *
software_psd_install_operational_block (PmPsd   *psd,
                                        GBytes  *message,
                                        GError **error)
{
  PmSoftwarePsd *self = PM_SOFTWARE_PSD (psd);
  g_autoptr(GError) local_error = NULL;
  PmOperationalBlock block;
  guint8 digest[PM_PSD_KEY_DIGEST_LENGTH];
  State *next;

  g_assert (pm_psd_is_worker_thread (psd));

  if (self->damage != NULL || self->state->lock_reason == PM_PSD_LOCK_WITHDRAWN)
    {
      check_usable (self, TRUE, error);
      return NULL;
    }

  if (!pm_operational_block_verify (message, self->provider_key, &block, &local_error))
    {
      g_set_error (error, PM_PSD_ERROR,
                   g_error_matches (local_error, PM_PSD_MESSAGE_ERROR,
                                    PM_PSD_MESSAGE_ERROR_BAD_SIGNATURE)
                     ? PM_PSD_ERROR_BAD_SIGNATURE : PM_PSD_ERROR_INVALID,
                   "Operational block refused: %s", local_error->message);
      return NULL;
    }

  pm_psd_key_digest (self->public_key, digest);
  if (block.psd_serial != self->serial || memcmp (block.psd_model, PM_SOFTWARE_PSD_MODEL, 4) != 0
      || memcmp (block.psd_key_digest, digest, sizeof digest) != 0)
    {
      g_set_error (error, PM_PSD_ERROR, PM_PSD_ERROR_WRONG_DEVICE,
                   "Operational block refused: it was made for PSD %.4s%08u or another key, "
                   "not this PSD %s%08u; ask the provider for this PSD's own",
                   block.psd_model, block.psd_serial, PM_SOFTWARE_PSD_MODEL, self->serial);
      return NULL;
    }

  if (block.max_postage > PM_INDICIUM_POSTAGE_MAX
      || block.max_funds > PM_INDICIUM_REGISTER_MAX)
    {
      g_set_error (error, PM_PSD_ERROR, PM_PSD_ERROR_INVALID,
                   "Operational block refused: its limits exceed what an indicium can carry");
      return NULL;
    }

  if (self->state->operational_block != NULL && block.issued_at <= self->block.issued_at)
    {
      g_set_error (error, PM_PSD_ERROR, PM_PSD_ERROR_SEQUENCE,
                   "Operational block refused: it is not newer than the one installed");
      return NULL;
    }

  next = state_copy (self->state);
  g_clear_pointer (&next->operational_block, g_bytes_unref);
  next->operational_block = g_bytes_ref (message);
  if (self->state->operational_block == NULL)
    next->last_inspection = psd_now (self);

  if (!commit_state (self, next, error))
    return NULL;

  self->block = block;
  g_message ("PSD %u: operational block installed (origin ZIP %05u, profile %u)",
             self->serial, block.origin_zip, block.profile);

  return make_status (self);
}

static gboolean
check_date (PmSoftwarePsd  *self,
            guint32         date,
            GError        **error)
{
  g_autoptr(GDate) today = psd_today (self);
  g_autoptr(GDate) mailing = pm_indicium_date_to_gdate (date);
  g_autofree char *text = pm_indicium_format_date (date);
  g_autofree char *last_text = NULL;

  if (mailing == NULL)
    {
      g_set_error (error, PM_PSD_ERROR, PM_PSD_ERROR_INVALID,
                   "Debit refused: %u is not a real date of mailing", date);
      return FALSE;
    }

  if (g_date_compare (mailing, today) < 0)
    {
      g_set_error (error, PM_PSD_ERROR, PM_PSD_ERROR_DATE_BACKWARD,
                   "Debit refused: postage cannot be dated %s, before today", text);
      return FALSE;
    }

  if (date < self->state->last_date_used)
    {
      last_text = pm_indicium_format_date (self->state->last_date_used);
      g_set_error (error, PM_PSD_ERROR, PM_PSD_ERROR_DATE_BACKWARD,
                   "Debit refused: postage cannot be dated %s, before the last date used "
                   "(%s)", text, last_text);
      return FALSE;
    }

  g_date_add_days (today, PM_PSD_MAX_DAYS_AHEAD);
  if (g_date_compare (mailing, today) > 0)
    {
      g_set_error (error, PM_PSD_ERROR, PM_PSD_ERROR_DATE_TOO_FAR,
                   "Debit refused: postage can be dated at most %d days ahead, and %s is "
                   "further", PM_PSD_MAX_DAYS_AHEAD, text);
      return FALSE;
    }

  return TRUE;
}

static PmPsdDebitResult *
software_psd_debit (PmPsd                   *psd,
                    const PmPsdDebitRequest *request,
                    GError                 **error)
{
  PmSoftwarePsd *self = PM_SOFTWARE_PSD (psd);
  g_autoptr(GBytes) indicium_bytes = NULL;
  g_autofree char *postage_text = NULL;
  g_autofree char *funds_text = NULL;
  PmPsdDebitResult *result;
  PmIndicium indicium = { 0 };
  PmPsdJournalEntry entry = { 0 };
  GChecksum *checksum;
  gsize digest_length = 32;
  State *next;

  g_assert (pm_psd_is_worker_thread (psd));

  if (!check_usable (self, FALSE, error))
    return NULL;

  if (request->postage <= 0)
    {
      g_set_error (error, PM_PSD_ERROR, PM_PSD_ERROR_POSTAGE_NOT_POSITIVE,
                   "Debit refused: the postage must be more than zero");
      return NULL;
    }

  if (request->postage > self->block.max_postage)
    {
      postage_text = pm_money_format (request->postage);
      funds_text = pm_money_format (self->block.max_postage);
      g_set_error (error, PM_PSD_ERROR, PM_PSD_ERROR_POSTAGE_TOO_HIGH,
                   "Debit refused: %s is above this PSD's limit of %s per piece",
                   postage_text, funds_text);
      return NULL;
    }

  if (request->postage > self->state->descending)
    {
      postage_text = pm_money_format (request->postage);
      funds_text = pm_money_format (self->state->descending);
      g_set_error (error, PM_PSD_ERROR, PM_PSD_ERROR_INSUFFICIENT_FUNDS,
                   "Debit refused: %s of postage but only %s of funds left; refill first",
                   postage_text, funds_text);
      return NULL;
    }

  if (self->state->ascending + request->postage > PM_INDICIUM_REGISTER_MAX)
    {
      g_set_error (error, PM_PSD_ERROR, PM_PSD_ERROR_FUNDS_LIMIT,
                   "Debit refused: the ascending register is full; this PSD must be "
                   "withdrawn and replaced");
      return NULL;
    }

  if (!check_date (self, request->date_of_mailing, error))
    return NULL;

  if (request->rate_category > PM_RATE_CATEGORY_LAST || request->destination_zip > 999999999)
    {
      g_set_error (error, PM_PSD_ERROR, PM_PSD_ERROR_INVALID,
                   "Debit refused: unknown rate category %u or malformed destination ZIP",
                   request->rate_category);
      return NULL;
    }

  next = state_copy (self->state);
  next->ascending += request->postage;
  next->descending -= request->postage;
  next->piece_count += 1;
  next->last_date_used = request->date_of_mailing;

  indicium.version = PM_INDICIUM_VERSION_1;
  indicium.algorithm = PM_INDICIUM_ALGORITHM_ECDSA_P256_SHA256;
  indicium.certificate_serial = self->block.certificate_serial;
  memcpy (indicium.device_model, PM_SOFTWARE_PSD_MODEL, 5);
  indicium.device_serial = self->serial;
  indicium.ascending = next->ascending;
  indicium.postage = request->postage;
  indicium.date_of_mailing = request->date_of_mailing;
  indicium.origin_zip = self->block.origin_zip;
  indicium.destination_zip = request->destination_zip;
  if (request->software_id[0] != '\0')
    memcpy (indicium.software_id, request->software_id, 4);
  else
    memcpy (indicium.software_id, SOFTWARE_ID, 4);
  indicium.descending = next->descending;
  indicium.rate_category = request->rate_category;
  /* A software PSD is never an authorized postage evidencing system. */
  indicium.flags = PM_INDICIUM_FLAG_SPECIMEN;

  indicium_bytes = pm_indicium_sign (&indicium, self->signing_key, error);
  if (indicium_bytes == NULL)
    {
      state_free (next);
      return NULL;
    }

  entry.piece_count = next->piece_count;
  entry.postage = request->postage;
  entry.date_of_mailing = request->date_of_mailing;
  entry.ascending_after = next->ascending;
  checksum = g_checksum_new (G_CHECKSUM_SHA256);
  g_checksum_update (checksum, g_bytes_get_data (indicium_bytes, NULL),
                     (gssize) g_bytes_get_size (indicium_bytes));
  g_checksum_get_digest (checksum, entry.indicium_digest, &digest_length);
  g_checksum_free (checksum);

  g_array_append_val (next->journal, entry);
  if (next->journal->len > PM_SOFTWARE_PSD_JOURNAL_CAPACITY)
    g_array_remove_range (next->journal, 0,
                          next->journal->len - PM_SOFTWARE_PSD_JOURNAL_CAPACITY);

  /* The indicium leaves only once the debit is on disk. */
  if (!commit_state (self, next, error))
    return NULL;

  result = g_new0 (PmPsdDebitResult, 1);
  result->indicium = g_steal_pointer (&indicium_bytes);
  result->entry = entry;
  result->status = make_status (self);

  return result;
}

static PmPsdStatus *
software_psd_refill (PmPsd   *psd,
                     GBytes  *message,
                     GError **error)
{
  PmSoftwarePsd *self = PM_SOFTWARE_PSD (psd);
  g_autoptr(GError) local_error = NULL;
  PmPostageValueDownload download;
  g_autofree char *amount_text = NULL;
  State *next;

  g_assert (pm_psd_is_worker_thread (psd));

  /* Funds may arrive while printing is locked: the lock is about inspections. */
  if (!check_usable (self, TRUE, error))
    return NULL;

  if (!pm_postage_value_download_verify (message, self->provider_key, &download, &local_error))
    {
      g_set_error (error, PM_PSD_ERROR,
                   g_error_matches (local_error, PM_PSD_MESSAGE_ERROR,
                                    PM_PSD_MESSAGE_ERROR_BAD_SIGNATURE)
                     ? PM_PSD_ERROR_BAD_SIGNATURE : PM_PSD_ERROR_INVALID,
                   "Refill refused: %s", local_error->message);
      return NULL;
    }

  if (download.psd_serial != self->serial)
    {
      g_set_error (error, PM_PSD_ERROR, PM_PSD_ERROR_WRONG_DEVICE,
                   "Refill refused: it was made for PSD %u, not this PSD %u",
                   download.psd_serial, self->serial);
      return NULL;
    }

  if (download.sequence != self->state->last_refill_sequence + 1)
    {
      g_set_error (error, PM_PSD_ERROR, PM_PSD_ERROR_SEQUENCE,
                   "Refill refused: its sequence number is %u but the PSD expects %u (%s)",
                   download.sequence, self->state->last_refill_sequence + 1,
                   download.sequence <= self->state->last_refill_sequence
                     ? "it was already applied" : "an earlier refill is missing");
      return NULL;
    }

  if (download.amount <= 0)
    {
      g_set_error (error, PM_PSD_ERROR, PM_PSD_ERROR_INVALID,
                   "Refill refused: the amount must be more than zero");
      return NULL;
    }

  if (download.amount > self->block.max_funds - self->state->descending)
    {
      g_autofree char *max_text = pm_money_format (self->block.max_funds);

      amount_text = pm_money_format (download.amount);
      g_set_error (error, PM_PSD_ERROR, PM_PSD_ERROR_FUNDS_LIMIT,
                   "Refill refused: adding %s would take the funds past this PSD's maximum "
                   "of %s", amount_text, max_text);
      return NULL;
    }

  next = state_copy (self->state);
  next->descending += download.amount;
  next->control_sum += download.amount;
  next->last_refill_sequence = download.sequence;

  if (!commit_state (self, next, error))
    return NULL;

  amount_text = pm_money_format (download.amount);
  g_message ("PSD %u refilled with %s (sequence %u)", self->serial, amount_text,
             download.sequence);

  return make_status (self);
}

static GBytes *
software_psd_make_audit_request (PmPsd   *psd,
                                 GError **error)
{
  PmSoftwarePsd *self = PM_SOFTWARE_PSD (psd);
  g_autoptr(GBytes) message = NULL;
  PmAuditRequest request = { 0 };
  State *next;

  g_assert (pm_psd_is_worker_thread (psd));

  if (self->damage != NULL)
    {
      check_usable (self, TRUE, error);
      return NULL;
    }
  if (!enforce_watchdog (self, error))
    return NULL;

  request.psd_serial = self->serial;
  request.certificate_serial = self->block.certificate_serial;
  if (RAND_bytes (request.nonce, PM_AUDIT_NONCE_LENGTH) != 1)
    {
      g_set_error (error, PM_PSD_ERROR, PM_PSD_ERROR_STORAGE,
                   "The system's random number generator failed");
      return NULL;
    }
  request.made_at = psd_now (self);
  request.ascending = self->state->ascending;
  request.descending = self->state->descending;
  request.control_sum = self->state->control_sum;
  request.refunded = self->state->refunded;
  request.piece_count = self->state->piece_count;
  request.last_date_used = self->state->last_date_used;
  request.last_refill_sequence = self->state->last_refill_sequence;
  request.inspection_state = (guint8) inspection_state (self, request.made_at);
  request.lock_reason = (guint8) self->state->lock_reason;
  request.withdrawn = self->state->lock_reason == PM_PSD_LOCK_WITHDRAWN;

  message = pm_audit_request_sign (&request, self->signing_key, error);
  if (message == NULL)
    return NULL;

  /* Only the answer to this very request may clear the watchdog. */
  next = state_copy (self->state);
  next->audit_pending = TRUE;
  memcpy (next->audit_nonce, request.nonce, PM_AUDIT_NONCE_LENGTH);
  pm_psd_message_digest (message, next->audit_digest);
  if (!commit_state (self, next, error))
    return NULL;

  return g_steal_pointer (&message);
}

static PmPsdStatus *
software_psd_apply_audit_answer (PmPsd   *psd,
                                 GBytes  *message,
                                 GError **error)
{
  PmSoftwarePsd *self = PM_SOFTWARE_PSD (psd);
  g_autoptr(GError) local_error = NULL;
  PmAuditAnswer answer;
  State *next;

  g_assert (pm_psd_is_worker_thread (psd));

  if (self->damage != NULL)
    {
      check_usable (self, TRUE, error);
      return NULL;
    }

  if (!pm_audit_answer_verify (message, self->provider_key, &answer, &local_error))
    {
      g_set_error (error, PM_PSD_ERROR,
                   g_error_matches (local_error, PM_PSD_MESSAGE_ERROR,
                                    PM_PSD_MESSAGE_ERROR_BAD_SIGNATURE)
                     ? PM_PSD_ERROR_BAD_SIGNATURE : PM_PSD_ERROR_INVALID,
                   "Audit answer refused: %s", local_error->message);
      return NULL;
    }

  if (answer.psd_serial != self->serial)
    {
      g_set_error (error, PM_PSD_ERROR, PM_PSD_ERROR_WRONG_DEVICE,
                   "Audit answer refused: it is for PSD %u, not this PSD %u",
                   answer.psd_serial, self->serial);
      return NULL;
    }

  if (!self->state->audit_pending
      || memcmp (answer.nonce, self->state->audit_nonce, PM_AUDIT_NONCE_LENGTH) != 0
      || memcmp (answer.request_digest, self->state->audit_digest,
                 PM_PSD_KEY_DIGEST_LENGTH) != 0)
    {
      g_set_error (error, PM_PSD_ERROR, PM_PSD_ERROR_NO_AUDIT_PENDING,
                   "Audit answer refused: it does not answer this PSD's latest audit "
                   "request; make a new audit request and send it");
      return NULL;
    }

  next = state_copy (self->state);
  next->audit_pending = FALSE;
  if (answer.result == PM_AUDIT_RESULT_ACCEPTED)
    {
      next->last_inspection = psd_now (self);
      if (next->lock_reason == PM_PSD_LOCK_WATCHDOG || next->lock_reason == PM_PSD_LOCK_MANUAL)
        {
          next->lock_reason = PM_PSD_LOCK_NONE;
          g_clear_pointer (&next->lock_message, g_free);
        }
    }
  else if (next->lock_reason != PM_PSD_LOCK_WITHDRAWN)
    {
      next->lock_reason = PM_PSD_LOCK_MANUAL;
      g_free (next->lock_message);
      next->lock_message = g_strdup ("The provider locked this PSD after its audit; "
                                     "contact the provider");
    }

  if (!commit_state (self, next, error))
    return NULL;

  g_message ("PSD %u: audit answer applied (%s)", self->serial,
             answer.result == PM_AUDIT_RESULT_ACCEPTED ? "accepted" : "locked by provider");

  return make_status (self);
}

static PmPsdStatus *
software_psd_lock (PmPsd       *psd,
                   const char  *reason,
                   GError     **error)
{
  PmSoftwarePsd *self = PM_SOFTWARE_PSD (psd);
  State *next;

  g_assert (pm_psd_is_worker_thread (psd));

  if (self->damage != NULL)
    return make_status (self);
  if (self->state->lock_reason == PM_PSD_LOCK_WITHDRAWN)
    return make_status (self);

  next = state_copy (self->state);
  next->lock_reason = PM_PSD_LOCK_MANUAL;
  g_free (next->lock_message);
  next->lock_message = g_strdup_printf ("Locked on request (%s); an audit unlocks it",
                                        reason != NULL && *reason != '\0' ? reason
                                                                          : "no reason given");

  if (!commit_state (self, next, error))
    return NULL;

  g_message ("PSD %u locked on request", self->serial);
  return make_status (self);
}

static GBytes *
software_psd_withdraw (PmPsd   *psd,
                       GError **error)
{
  PmSoftwarePsd *self = PM_SOFTWARE_PSD (psd);
  g_autoptr(GBytes) message = NULL;
  PmWithdrawalRecord record = { 0 };
  State *next;

  g_assert (pm_psd_is_worker_thread (psd));

  if (self->damage == NULL && self->state->withdrawal_record != NULL)
    return g_bytes_ref (self->state->withdrawal_record);

  if (!check_usable (self, TRUE, error))
    return NULL;

  record.psd_serial = self->serial;
  record.certificate_serial = self->block.certificate_serial;
  record.made_at = psd_now (self);
  record.ascending = self->state->ascending;
  record.refunded = self->state->refunded + self->state->descending;
  record.control_sum = self->state->control_sum;
  record.piece_count = self->state->piece_count;
  record.last_refill_sequence = self->state->last_refill_sequence;

  message = pm_withdrawal_record_sign (&record, self->signing_key, error);
  if (message == NULL)
    return NULL;

  next = state_copy (self->state);
  next->refunded += next->descending;
  next->descending = 0;
  next->lock_reason = PM_PSD_LOCK_WITHDRAWN;
  g_free (next->lock_message);
  next->lock_message = g_strdup ("This PSD was withdrawn from service");
  next->withdrawal_record = g_bytes_ref (message);

  if (!commit_state (self, next, error))
    return NULL;

  g_message ("PSD %u withdrawn from service", self->serial);
  return g_steal_pointer (&message);
}

static GPtrArray *
software_psd_get_journal (PmPsd   *psd,
                          guint    max_entries,
                          GError **error)
{
  PmSoftwarePsd *self = PM_SOFTWARE_PSD (psd);
  GPtrArray *entries = g_ptr_array_new_with_free_func (g_free);
  GArray *journal;

  g_assert (pm_psd_is_worker_thread (psd));

  if (self->state == NULL)
    {
      g_ptr_array_unref (entries);
      check_usable (self, TRUE, error);
      return NULL;
    }

  /* A damaged PSD still shows its journal as it was read, for the investigation: only an
   * unreadable state has none. */
  journal = self->state->journal;
  for (guint i = journal->len; i > 0 && entries->len < max_entries; i--)
    g_ptr_array_add (entries, g_memdup2 (&g_array_index (journal, PmPsdJournalEntry, i - 1),
                                         sizeof (PmPsdJournalEntry)));

  return entries;
}

static GBytes *
software_psd_get_certificate (PmPsd   *psd,
                              GError **error)
{
  PmSoftwarePsd *self = PM_SOFTWARE_PSD (psd);

  g_assert (pm_psd_is_worker_thread (psd));

  if (self->damage != NULL || self->state->operational_block == NULL)
    {
      check_usable (self, TRUE, error);
      return NULL;
    }

  return pm_psd_certificate_new (self->public_key, self->state->operational_block);
}

/* GObject */

static void
pm_software_psd_finalize (GObject *object)
{
  PmSoftwarePsd *self = PM_SOFTWARE_PSD (object);

  if (self->lock_fd >= 0)
    close (self->lock_fd);
  g_free (self->directory);
  g_clear_pointer (&self->signing_key, pm_signing_key_unref);
  g_clear_pointer (&self->public_key, pm_verify_key_unref);
  g_clear_pointer (&self->provider_key, pm_verify_key_unref);
  g_clear_pointer (&self->state, state_free);
  g_free (self->damage);
  memset (self->mac_key, 0, sizeof self->mac_key);

  G_OBJECT_CLASS (pm_software_psd_parent_class)->finalize (object);
}

static void
pm_software_psd_class_init (PmSoftwarePsdClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = pm_software_psd_finalize;
}

static void
pm_software_psd_init (PmSoftwarePsd *self)
{
  self->lock_fd = -1;
}

static void
pm_software_psd_psd_init (PmPsdInterface *iface)
{
  iface->get_serial = software_psd_get_serial;
  iface->get_public_key = software_psd_get_public_key;
  iface->get_status = software_psd_get_status;
  iface->install_operational_block = software_psd_install_operational_block;
  iface->debit = software_psd_debit;
  iface->refill = software_psd_refill;
  iface->make_audit_request = software_psd_make_audit_request;
  iface->apply_audit_answer = software_psd_apply_audit_answer;
  iface->lock = software_psd_lock;
  iface->withdraw = software_psd_withdraw;
  iface->get_journal = software_psd_get_journal;
  iface->get_certificate = software_psd_get_certificate;
}
