/* pm-psd-message.c: framing, signing and checking of provider <-> PSD messages
 *
 * The layouts are in pm-psd-message.h. Each message has a fixed length for its kind, so a
 * reader checks the exact length before it reads a field and never needs to search.
 */
#include "pm-psd-message.h"

#include <string.h>

G_DEFINE_QUARK (pm-psd-message-error-quark, pm_psd_message_error)

#define HEADER_LENGTH 4

#define OPERATIONAL_BLOCK_BODY  81
#define DOWNLOAD_BODY           24
#define AUDIT_REQUEST_BODY      83
#define AUDIT_ANSWER_BODY       61
#define WITHDRAWAL_BODY         52

/* Writer and reader over a fixed buffer; the lengths are checked once, up front. */
typedef struct
{
  guint8 *data;
  gsize   offset;
} Writer;

typedef struct
{
  const guint8 *data;
  gsize         offset;
} Reader;

static void
put_le (Writer  *w,
        guint64  value,
        guint    width)
{
  for (guint i = 0; i < width; i++)
    w->data[w->offset++] = (guint8) (value >> (8 * i));
}

static void
put_raw (Writer       *w,
         const void   *bytes,
         gsize         length)
{
  memcpy (w->data + w->offset, bytes, length);
  w->offset += length;
}

static guint64
get_le (Reader *r,
        guint   width)
{
  guint64 value = 0;

  for (guint i = 0; i < width; i++)
    value |= ((guint64) r->data[r->offset++]) << (8 * i);

  return value;
}

static void
get_raw (Reader *r,
         void   *out,
         gsize   length)
{
  memcpy (out, r->data + r->offset, length);
  r->offset += length;
}

static const char *
kind_name (guint8 kind)
{
  switch (kind)
    {
    case PM_PSD_MESSAGE_OPERATIONAL_BLOCK:
      return "operational block";
    case PM_PSD_MESSAGE_POSTAGE_VALUE_DOWNLOAD:
      return "postage value download";
    case PM_PSD_MESSAGE_AUDIT_REQUEST:
      return "audit request";
    case PM_PSD_MESSAGE_AUDIT_ANSWER:
      return "audit answer";
    case PM_PSD_MESSAGE_WITHDRAWAL_RECORD:
      return "withdrawal record";
    default:
      return NULL;
    }
}

static gboolean
check_amount (PmMills      amount,
              const char  *what,
              GError     **error)
{
  if (amount < 0 || amount > PM_MILLS_MAX)
    {
      g_set_error (error, PM_PSD_MESSAGE_ERROR, PM_PSD_MESSAGE_ERROR_MALFORMED,
                   "The %s (%" G_GINT64_FORMAT " mills) is out of range", what, amount);
      return FALSE;
    }

  return TRUE;
}

static gboolean
is_ascii4 (const char *text)
{
  for (guint i = 0; i < 4; i++)
    if (text[i] < 0x20 || text[i] > 0x7e)
      return FALSE;

  return TRUE;
}

/* Starts a message of this kind with room for the body and the signature. */
static guint8 *
frame_new (guint8  kind,
           gsize   body_length,
           Writer *w)
{
  guint8 *data = g_malloc0 (HEADER_LENGTH + body_length + PM_SIGNATURE_LENGTH);

  w->data = data;
  w->offset = 0;
  put_raw (w, "PM", 2);
  put_le (w, kind, 1);
  put_le (w, PM_PSD_MESSAGE_VERSION, 1);

  return data;
}

static GBytes *
frame_sign (guint8        *data,
            gsize          body_length,
            PmSigningKey  *key,
            GError       **error)
{
  gsize signed_length = HEADER_LENGTH + body_length;

  if (!pm_signing_key_sign (key, data, signed_length, data + signed_length, error))
    {
      g_prefix_error (error, "Could not sign the %s: ", kind_name (data[2]));
      g_free (data);
      return NULL;
    }

  return g_bytes_new_take (data, signed_length + PM_SIGNATURE_LENGTH);
}

/* Checks frame, kind, length and signature; on success the reader points at the body. */
static gboolean
frame_open (GBytes       *message,
            guint8        kind,
            gsize         body_length,
            PmVerifyKey  *key,
            Reader       *r,
            GError      **error)
{
  gsize length = 0;
  const guint8 *data = g_bytes_get_data (message, &length);
  PmPsdMessageKind actual;

  if (!pm_psd_message_peek_kind (message, &actual, error))
    return FALSE;

  if (actual != kind)
    {
      g_set_error (error, PM_PSD_MESSAGE_ERROR, PM_PSD_MESSAGE_ERROR_WRONG_KIND,
                   "Expected a %s but was given a %s", kind_name (kind),
                   kind_name (actual));
      return FALSE;
    }

  if (length != HEADER_LENGTH + body_length + PM_SIGNATURE_LENGTH)
    {
      g_set_error (error, PM_PSD_MESSAGE_ERROR, PM_PSD_MESSAGE_ERROR_MALFORMED,
                   "The %s is %" G_GSIZE_FORMAT " bytes long; it must be %" G_GSIZE_FORMAT,
                   kind_name (kind), length,
                   HEADER_LENGTH + body_length + PM_SIGNATURE_LENGTH);
      return FALSE;
    }

  if (!pm_verify_key_verify (key, data, HEADER_LENGTH + body_length,
                             data + HEADER_LENGTH + body_length))
    {
      g_set_error (error, PM_PSD_MESSAGE_ERROR, PM_PSD_MESSAGE_ERROR_BAD_SIGNATURE,
                   "The %s's signature is not valid: it was altered, or signed by a key "
                   "other than the expected one", kind_name (kind));
      return FALSE;
    }

  r->data = data;
  r->offset = HEADER_LENGTH;
  return TRUE;
}

gboolean
pm_psd_message_peek_kind (GBytes            *message,
                          PmPsdMessageKind  *out_kind,
                          GError           **error)
{
  gsize length = 0;
  const guint8 *data;

  g_return_val_if_fail (message != NULL, FALSE);
  g_return_val_if_fail (out_kind != NULL, FALSE);

  data = g_bytes_get_data (message, &length);
  if (length < HEADER_LENGTH + PM_SIGNATURE_LENGTH || data[0] != 'P' || data[1] != 'M'
      || kind_name (data[2]) == NULL)
    {
      g_set_error (error, PM_PSD_MESSAGE_ERROR, PM_PSD_MESSAGE_ERROR_MALFORMED,
                   "This is not a PSD message (bad header or too short)");
      return FALSE;
    }

  if (data[3] != PM_PSD_MESSAGE_VERSION)
    {
      g_set_error (error, PM_PSD_MESSAGE_ERROR, PM_PSD_MESSAGE_ERROR_UNSUPPORTED,
                   "The %s has format version %u; this build reads version %u",
                   kind_name (data[2]), data[3], PM_PSD_MESSAGE_VERSION);
      return FALSE;
    }

  *out_kind = (PmPsdMessageKind) data[2];
  return TRUE;
}

gboolean
pm_psd_key_digest (PmVerifyKey *key,
                   guint8       out_digest[PM_PSD_KEY_DIGEST_LENGTH])
{
  g_autofree char *hex = NULL;

  g_return_val_if_fail (key != NULL, FALSE);

  hex = pm_verify_key_fingerprint (key);
  if (hex == NULL || strlen (hex) != 2 * PM_PSD_KEY_DIGEST_LENGTH)
    return FALSE;

  for (guint i = 0; i < PM_PSD_KEY_DIGEST_LENGTH; i++)
    {
      int hi = g_ascii_xdigit_value (hex[2 * i]);
      int lo = g_ascii_xdigit_value (hex[2 * i + 1]);

      if (hi < 0 || lo < 0)
        return FALSE;
      out_digest[i] = (guint8) (hi << 4 | lo);
    }

  return TRUE;
}

void
pm_psd_message_digest (GBytes *message,
                       guint8  out_digest[PM_PSD_KEY_DIGEST_LENGTH])
{
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  gsize length = PM_PSD_KEY_DIGEST_LENGTH;
  gsize data_length = 0;
  const guint8 *data = g_bytes_get_data (message, &data_length);

  g_checksum_update (checksum, data, (gssize) data_length);
  g_checksum_get_digest (checksum, out_digest, &length);
}

/* operational block */

void
pm_operational_block_set_profile (PmOperationalBlock *block,
                                  PmPostalProfile     profile)
{
  g_return_if_fail (block != NULL);

  block->profile = (guint8) profile;
  if (profile == PM_POSTAL_PROFILE_IMI)
    {
      block->warning_after_s = PM_POSTAL_PROFILE_IMI_WARNING_S;
      block->lock_after_s = PM_POSTAL_PROFILE_IMI_LOCK_S;
    }
  else
    {
      block->warning_after_s = PM_POSTAL_PROFILE_IBI_WARNING_S;
      block->lock_after_s = PM_POSTAL_PROFILE_IBI_LOCK_S;
    }
}

static gboolean
operational_block_check (const PmOperationalBlock  *block,
                         GError                   **error)
{
  if (block->profile != PM_POSTAL_PROFILE_IBI && block->profile != PM_POSTAL_PROFILE_IMI)
    {
      g_set_error (error, PM_PSD_MESSAGE_ERROR, PM_PSD_MESSAGE_ERROR_MALFORMED,
                   "Unknown postal profile %u in the operational block", block->profile);
      return FALSE;
    }

  if (block->warning_after_s == 0 || block->lock_after_s < block->warning_after_s)
    {
      g_set_error (error, PM_PSD_MESSAGE_ERROR, PM_PSD_MESSAGE_ERROR_MALFORMED,
                   "The operational block's inspection interval is not valid: the lock "
                   "must come at or after the warning, and both after zero");
      return FALSE;
    }

  if (block->origin_zip > 99999 || !is_ascii4 (block->psd_model))
    {
      g_set_error (error, PM_PSD_MESSAGE_ERROR, PM_PSD_MESSAGE_ERROR_MALFORMED,
                   "The operational block's origin ZIP or PSD model is not valid");
      return FALSE;
    }

  if (!check_amount (block->max_funds, "maximum funds", error)
      || !check_amount (block->max_postage, "maximum postage per piece", error))
    return FALSE;

  if (block->max_funds == 0 || block->max_postage == 0)
    {
      g_set_error (error, PM_PSD_MESSAGE_ERROR, PM_PSD_MESSAGE_ERROR_MALFORMED,
                   "The operational block allows no funds or no postage per piece");
      return FALSE;
    }

  return TRUE;
}

GBytes *
pm_operational_block_sign (const PmOperationalBlock  *block,
                           PmSigningKey              *provider_key,
                           GError                   **error)
{
  Writer w;
  guint8 *data;

  g_return_val_if_fail (block != NULL && provider_key != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!operational_block_check (block, error))
    return NULL;

  data = frame_new (PM_PSD_MESSAGE_OPERATIONAL_BLOCK, OPERATIONAL_BLOCK_BODY, &w);
  put_le (&w, block->psd_serial, 4);
  put_raw (&w, block->psd_model, 4);
  put_raw (&w, block->psd_key_digest, PM_PSD_KEY_DIGEST_LENGTH);
  put_le (&w, block->certificate_serial, 4);
  put_le (&w, block->origin_zip, 4);
  put_le (&w, block->profile, 1);
  put_le (&w, block->warning_after_s, 4);
  put_le (&w, block->lock_after_s, 4);
  put_le (&w, (guint64) block->max_funds, 8);
  put_le (&w, (guint64) block->max_postage, 8);
  put_le (&w, (guint64) block->issued_at, 8);
  g_assert (w.offset == HEADER_LENGTH + OPERATIONAL_BLOCK_BODY);

  return frame_sign (data, OPERATIONAL_BLOCK_BODY, provider_key, error);
}

gboolean
pm_operational_block_verify (GBytes              *message,
                             PmVerifyKey         *provider_key,
                             PmOperationalBlock  *out_block,
                             GError             **error)
{
  PmOperationalBlock block = { 0 };
  Reader r;

  g_return_val_if_fail (message != NULL && provider_key != NULL && out_block != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!frame_open (message, PM_PSD_MESSAGE_OPERATIONAL_BLOCK, OPERATIONAL_BLOCK_BODY,
                   provider_key, &r, error))
    return FALSE;

  block.psd_serial = (guint32) get_le (&r, 4);
  get_raw (&r, block.psd_model, 4);
  get_raw (&r, block.psd_key_digest, PM_PSD_KEY_DIGEST_LENGTH);
  block.certificate_serial = (guint32) get_le (&r, 4);
  block.origin_zip = (guint32) get_le (&r, 4);
  block.profile = (guint8) get_le (&r, 1);
  block.warning_after_s = (guint32) get_le (&r, 4);
  block.lock_after_s = (guint32) get_le (&r, 4);
  block.max_funds = (PmMills) get_le (&r, 8);
  block.max_postage = (PmMills) get_le (&r, 8);
  block.issued_at = (gint64) get_le (&r, 8);

  if (!operational_block_check (&block, error))
    return FALSE;

  *out_block = block;
  return TRUE;
}

/* postage value download */

GBytes *
pm_postage_value_download_sign (const PmPostageValueDownload  *download,
                                PmSigningKey                  *provider_key,
                                GError                       **error)
{
  Writer w;
  guint8 *data;

  g_return_val_if_fail (download != NULL && provider_key != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_amount (download->amount, "refill amount", error))
    return NULL;

  data = frame_new (PM_PSD_MESSAGE_POSTAGE_VALUE_DOWNLOAD, DOWNLOAD_BODY, &w);
  put_le (&w, download->psd_serial, 4);
  put_le (&w, download->sequence, 4);
  put_le (&w, (guint64) download->amount, 8);
  put_le (&w, (guint64) download->issued_at, 8);

  return frame_sign (data, DOWNLOAD_BODY, provider_key, error);
}

gboolean
pm_postage_value_download_verify (GBytes                  *message,
                                  PmVerifyKey             *provider_key,
                                  PmPostageValueDownload  *out_download,
                                  GError                 **error)
{
  PmPostageValueDownload download = { 0 };
  Reader r;

  g_return_val_if_fail (message != NULL && provider_key != NULL && out_download != NULL,
                        FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!frame_open (message, PM_PSD_MESSAGE_POSTAGE_VALUE_DOWNLOAD, DOWNLOAD_BODY,
                   provider_key, &r, error))
    return FALSE;

  download.psd_serial = (guint32) get_le (&r, 4);
  download.sequence = (guint32) get_le (&r, 4);
  download.amount = (PmMills) get_le (&r, 8);
  download.issued_at = (gint64) get_le (&r, 8);

  if (!check_amount (download.amount, "refill amount", error))
    return FALSE;

  *out_download = download;
  return TRUE;
}

/* audit request */

GBytes *
pm_audit_request_sign (const PmAuditRequest  *request,
                       PmSigningKey          *psd_key,
                       GError               **error)
{
  Writer w;
  guint8 *data;

  g_return_val_if_fail (request != NULL && psd_key != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  data = frame_new (PM_PSD_MESSAGE_AUDIT_REQUEST, AUDIT_REQUEST_BODY, &w);
  put_le (&w, request->psd_serial, 4);
  put_le (&w, request->certificate_serial, 4);
  put_raw (&w, request->nonce, PM_AUDIT_NONCE_LENGTH);
  put_le (&w, (guint64) request->made_at, 8);
  put_le (&w, (guint64) request->ascending, 8);
  put_le (&w, (guint64) request->descending, 8);
  put_le (&w, (guint64) request->control_sum, 8);
  put_le (&w, (guint64) request->refunded, 8);
  put_le (&w, request->piece_count, 8);
  put_le (&w, request->last_date_used, 4);
  put_le (&w, request->last_refill_sequence, 4);
  put_le (&w, request->inspection_state, 1);
  put_le (&w, request->lock_reason, 1);
  put_le (&w, request->withdrawn, 1);
  g_assert (w.offset == HEADER_LENGTH + AUDIT_REQUEST_BODY);

  return frame_sign (data, AUDIT_REQUEST_BODY, psd_key, error);
}

gboolean
pm_audit_request_verify (GBytes          *message,
                         PmVerifyKey     *psd_key,
                         PmAuditRequest  *out_request,
                         GError         **error)
{
  PmAuditRequest request = { 0 };
  Reader r;

  g_return_val_if_fail (message != NULL && psd_key != NULL && out_request != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!frame_open (message, PM_PSD_MESSAGE_AUDIT_REQUEST, AUDIT_REQUEST_BODY, psd_key, &r,
                   error))
    return FALSE;

  request.psd_serial = (guint32) get_le (&r, 4);
  request.certificate_serial = (guint32) get_le (&r, 4);
  get_raw (&r, request.nonce, PM_AUDIT_NONCE_LENGTH);
  request.made_at = (gint64) get_le (&r, 8);
  request.ascending = (PmMills) get_le (&r, 8);
  request.descending = (PmMills) get_le (&r, 8);
  request.control_sum = (PmMills) get_le (&r, 8);
  request.refunded = (PmMills) get_le (&r, 8);
  request.piece_count = get_le (&r, 8);
  request.last_date_used = (guint32) get_le (&r, 4);
  request.last_refill_sequence = (guint32) get_le (&r, 4);
  request.inspection_state = (guint8) get_le (&r, 1);
  request.lock_reason = (guint8) get_le (&r, 1);
  request.withdrawn = (guint8) get_le (&r, 1);

  if (!check_amount (request.ascending, "ascending register", error)
      || !check_amount (request.descending, "descending register", error)
      || !check_amount (request.control_sum, "control sum", error)
      || !check_amount (request.refunded, "refunded amount", error))
    return FALSE;

  *out_request = request;
  return TRUE;
}

/* audit answer */

void
pm_audit_answer_init_for_request (PmAuditAnswer        *answer,
                                  const PmAuditRequest *request,
                                  GBytes               *request_message)
{
  g_return_if_fail (answer != NULL && request != NULL && request_message != NULL);

  memset (answer, 0, sizeof *answer);
  answer->psd_serial = request->psd_serial;
  memcpy (answer->nonce, request->nonce, PM_AUDIT_NONCE_LENGTH);
  pm_psd_message_digest (request_message, answer->request_digest);
}

GBytes *
pm_audit_answer_sign (const PmAuditAnswer  *answer,
                      PmSigningKey         *provider_key,
                      GError              **error)
{
  Writer w;
  guint8 *data;

  g_return_val_if_fail (answer != NULL && provider_key != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (answer->result != PM_AUDIT_RESULT_ACCEPTED && answer->result != PM_AUDIT_RESULT_LOCK)
    {
      g_set_error (error, PM_PSD_MESSAGE_ERROR, PM_PSD_MESSAGE_ERROR_MALFORMED,
                   "Unknown audit result %u", answer->result);
      return NULL;
    }

  data = frame_new (PM_PSD_MESSAGE_AUDIT_ANSWER, AUDIT_ANSWER_BODY, &w);
  put_le (&w, answer->psd_serial, 4);
  put_raw (&w, answer->nonce, PM_AUDIT_NONCE_LENGTH);
  put_raw (&w, answer->request_digest, PM_PSD_KEY_DIGEST_LENGTH);
  put_le (&w, (guint64) answer->answered_at, 8);
  put_le (&w, answer->result, 1);

  return frame_sign (data, AUDIT_ANSWER_BODY, provider_key, error);
}

gboolean
pm_audit_answer_verify (GBytes         *message,
                        PmVerifyKey    *provider_key,
                        PmAuditAnswer  *out_answer,
                        GError        **error)
{
  PmAuditAnswer answer = { 0 };
  Reader r;

  g_return_val_if_fail (message != NULL && provider_key != NULL && out_answer != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!frame_open (message, PM_PSD_MESSAGE_AUDIT_ANSWER, AUDIT_ANSWER_BODY, provider_key, &r,
                   error))
    return FALSE;

  answer.psd_serial = (guint32) get_le (&r, 4);
  get_raw (&r, answer.nonce, PM_AUDIT_NONCE_LENGTH);
  get_raw (&r, answer.request_digest, PM_PSD_KEY_DIGEST_LENGTH);
  answer.answered_at = (gint64) get_le (&r, 8);
  answer.result = (guint8) get_le (&r, 1);

  if (answer.result != PM_AUDIT_RESULT_ACCEPTED && answer.result != PM_AUDIT_RESULT_LOCK)
    {
      g_set_error (error, PM_PSD_MESSAGE_ERROR, PM_PSD_MESSAGE_ERROR_MALFORMED,
                   "Unknown audit result %u", answer.result);
      return FALSE;
    }

  *out_answer = answer;
  return TRUE;
}

/* withdrawal record */

GBytes *
pm_withdrawal_record_sign (const PmWithdrawalRecord  *record,
                           PmSigningKey              *psd_key,
                           GError                   **error)
{
  Writer w;
  guint8 *data;

  g_return_val_if_fail (record != NULL && psd_key != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  data = frame_new (PM_PSD_MESSAGE_WITHDRAWAL_RECORD, WITHDRAWAL_BODY, &w);
  put_le (&w, record->psd_serial, 4);
  put_le (&w, record->certificate_serial, 4);
  put_le (&w, (guint64) record->made_at, 8);
  put_le (&w, (guint64) record->ascending, 8);
  put_le (&w, (guint64) record->refunded, 8);
  put_le (&w, (guint64) record->control_sum, 8);
  put_le (&w, record->piece_count, 8);
  put_le (&w, record->last_refill_sequence, 4);
  g_assert (w.offset == HEADER_LENGTH + WITHDRAWAL_BODY);

  return frame_sign (data, WITHDRAWAL_BODY, psd_key, error);
}

gboolean
pm_withdrawal_record_verify (GBytes              *message,
                             PmVerifyKey         *psd_key,
                             PmWithdrawalRecord  *out_record,
                             GError             **error)
{
  PmWithdrawalRecord record = { 0 };
  Reader r;

  g_return_val_if_fail (message != NULL && psd_key != NULL && out_record != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!frame_open (message, PM_PSD_MESSAGE_WITHDRAWAL_RECORD, WITHDRAWAL_BODY, psd_key, &r,
                   error))
    return FALSE;

  record.psd_serial = (guint32) get_le (&r, 4);
  record.certificate_serial = (guint32) get_le (&r, 4);
  record.made_at = (gint64) get_le (&r, 8);
  record.ascending = (PmMills) get_le (&r, 8);
  record.refunded = (PmMills) get_le (&r, 8);
  record.control_sum = (PmMills) get_le (&r, 8);
  record.piece_count = get_le (&r, 8);
  record.last_refill_sequence = (guint32) get_le (&r, 4);

  if (!check_amount (record.ascending, "ascending register", error)
      || !check_amount (record.refunded, "refunded amount", error)
      || !check_amount (record.control_sum, "control sum", error))
    return FALSE;

  *out_record = record;
  return TRUE;
}

/* certificate */

#define BLOCK_PEM_LABEL "POSTMETER OPERATIONAL BLOCK"

GBytes *
pm_psd_certificate_new (PmVerifyKey *psd_key,
                        GBytes      *operational_block)
{
  g_autoptr(GBytes) key_pem = NULL;
  g_autofree char *encoded = NULL;
  GString *text;
  gsize length;

  g_return_val_if_fail (psd_key != NULL && operational_block != NULL, NULL);

  key_pem = pm_verify_key_to_pem (psd_key);
  text = g_string_new_len (g_bytes_get_data (key_pem, NULL), (gssize) g_bytes_get_size (key_pem));
  if (text->len > 0 && text->str[text->len - 1] != '\n')
    g_string_append_c (text, '\n');

  encoded = g_base64_encode (g_bytes_get_data (operational_block, NULL),
                             g_bytes_get_size (operational_block));
  g_string_append (text, "-----BEGIN " BLOCK_PEM_LABEL "-----\n");
  length = strlen (encoded);
  for (gsize i = 0; i < length; i += 64)
    {
      g_string_append_len (text, encoded + i, (gssize) MIN (64, length - i));
      g_string_append_c (text, '\n');
    }
  g_string_append (text, "-----END " BLOCK_PEM_LABEL "-----\n");

  return g_string_free_to_bytes (text);
}

/* The base64 between the BEGIN and END lines of the named block, decoded. */
static GBytes *
pem_block (const char  *text,
           gsize        length,
           const char  *label,
           GError     **error)
{
  g_autofree char *begin = g_strdup_printf ("-----BEGIN %s-----", label);
  g_autofree char *end = g_strdup_printf ("-----END %s-----", label);
  g_autofree char *body = NULL;
  const char *start, *stop;
  guchar *decoded;
  gsize decoded_length = 0;

  start = g_strstr_len (text, (gssize) length, begin);
  if (start != NULL)
    start += strlen (begin);
  stop = start != NULL ? g_strstr_len (start, (gssize) (length - (gsize) (start - text)), end)
                       : NULL;
  if (stop == NULL)
    {
      g_set_error (error, PM_PSD_MESSAGE_ERROR, PM_PSD_MESSAGE_ERROR_MALFORMED,
                   "This is not a PSD certificate: it has no %s", label);
      return NULL;
    }

  body = g_strndup (start, (gsize) (stop - start));
  decoded = g_base64_decode (body, &decoded_length);

  return g_bytes_new_take (decoded, decoded_length);
}

gboolean
pm_psd_certificate_verify (GBytes              *certificate,
                           PmVerifyKey         *provider_key,
                           PmVerifyKey        **out_psd_key,
                           PmOperationalBlock  *out_block,
                           GError             **error)
{
  g_autoptr(PmVerifyKey) psd_key = NULL;
  g_autoptr(GBytes) block_bytes = NULL;
  PmOperationalBlock block;
  guint8 digest[PM_PSD_KEY_DIGEST_LENGTH];
  gsize length = 0;
  const char *text;

  g_return_val_if_fail (certificate != NULL && provider_key != NULL, FALSE);
  g_return_val_if_fail (out_psd_key != NULL && out_block != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  text = g_bytes_get_data (certificate, &length);
  if (text == NULL || length == 0)
    {
      g_set_error (error, PM_PSD_MESSAGE_ERROR, PM_PSD_MESSAGE_ERROR_MALFORMED,
                   "The PSD certificate is empty");
      return FALSE;
    }

  psd_key = pm_verify_key_new_from_pem (text, (gssize) length, error);
  if (psd_key == NULL)
    {
      g_prefix_error (error, "The PSD certificate has no usable key: ");
      return FALSE;
    }

  block_bytes = pem_block (text, length, BLOCK_PEM_LABEL, error);
  if (block_bytes == NULL)
    return FALSE;

  if (!pm_operational_block_verify (block_bytes, provider_key, &block, error))
    {
      g_prefix_error (error, "The PSD certificate was not issued by this provider: ");
      return FALSE;
    }

  if (!pm_psd_key_digest (psd_key, digest)
      || memcmp (digest, block.psd_key_digest, PM_PSD_KEY_DIGEST_LENGTH) != 0)
    {
      g_set_error (error, PM_PSD_MESSAGE_ERROR, PM_PSD_MESSAGE_ERROR_WRONG_KEY,
                   "The PSD certificate's key is not the key its operational block was "
                   "issued for");
      return FALSE;
    }

  *out_psd_key = g_steal_pointer (&psd_key);
  *out_block = block;
  return TRUE;
}
