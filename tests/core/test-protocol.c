/* test-protocol.c: the XML messages, their schemas and the safe parser */
#include <gio/gio.h>
#include <string.h>

#include "pm-protocol.h"

static GBytes *
text (const char *s)
{
  return g_bytes_new (s, strlen (s));
}

static void
test_auth_exact_bytes (void)
{
  PmAuthRequest request = { 0 };
  g_autoptr(GBytes) cert = text ("-----BEGIN PUBLIC KEY-----\n");
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(PmAuthRequest) back = NULL;
  g_autoptr(GError) error = NULL;
  static const char expected[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<authenticate-request version=\"1\"><psd-serial>4100001</psd-serial>"
    "<certificate>LS0tLS1CRUdJTiBQVUJMSUMgS0VZLS0tLS0K</certificate>"
    "<software-version>0.1.0 &amp; &lt;test&gt;</software-version>"
    "<model>PMSW</model></authenticate-request>\n";

  request.psd_serial = (char *) "4100001";
  request.certificate = cert;
  request.software_version = (char *) "0.1.0 & <test>";
  request.model = (char *) "PMSW";
  bytes = pm_auth_request_build (&request);
  g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                   expected, strlen (expected));

  back = pm_auth_request_parse (bytes, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (back->software_version, ==, "0.1.0 & <test>");
  g_assert_true (g_bytes_equal (back->certificate, cert));
}

static void
test_auth_response_round_trip (void)
{
  PmAuthResponse response = { 0 };
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(PmAuthResponse) back = NULL;
  g_autoptr(GError) error = NULL;

  response.device_id = (char *) "PM0004100001";
  response.token = (char *) "00112233445566778899aabbccddeeff";
  response.server_time_s = 1764770000;
  response.service_urls[PM_REMOTE_SERVICE_FUNDS] = (char *) "https://dc.example:443/funds";
  response.service_urls[PM_REMOTE_SERVICE_CONNECTIVITY] =
    (char *) "http://dc.example/generate_204";
  bytes = pm_auth_response_build (&response);
  back = pm_auth_response_parse (bytes, &error);
  g_assert_no_error (error);
  g_assert_cmpint (back->server_time_s, ==, 1764770000);
  g_assert_cmpstr (back->service_urls[PM_REMOTE_SERVICE_FUNDS], ==,
                   "https://dc.example:443/funds");
  g_assert_null (back->service_urls[PM_REMOTE_SERVICE_UPLOADS]);
}

static void
test_funds_round_trip (void)
{
  PmFundsRequest request = { PM_FUNDS_REFILL, (char *) "PM0004100001", (char *) "4100001",
                             (char *) "5d0c1c1e-0000-4000-8000-000000000001", 250000, 7,
                             NULL };
  g_autoptr(GBytes) bytes = pm_funds_request_build (&request);
  g_autoptr(PmFundsRequest) back = NULL;
  g_autoptr(GError) error = NULL;

  back = pm_funds_request_parse (bytes, &error);
  g_assert_no_error (error);
  g_assert_cmpint (back->kind, ==, PM_FUNDS_REFILL);
  g_assert_cmpint (back->amount, ==, 250000);
  g_assert_cmpint (back->sequence, ==, 7);
  g_assert_null (back->psd_message);
}

/* Each document must be refused with the given code. */
static void
test_hostile_documents (void)
{
  struct {
    const char *xml;
    int code;
  } cases[] = {
    /* entity expansion ("billion laughs") */
    { "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;&a;\">]>"
      "<error version=\"1\" code=\"x\">&b;</error>", PM_PROTOCOL_ERROR_FORBIDDEN },
    /* external entity */
    { "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>"
      "<error version=\"1\" code=\"x\">&e;</error>", PM_PROTOCOL_ERROR_FORBIDDEN },
    /* external DTD */
    { "<!DOCTYPE error SYSTEM \"http://attacker.example/x.dtd\"><error version=\"1\" "
      "code=\"x\">y</error>", PM_PROTOCOL_ERROR_FORBIDDEN },
    /* undeclared entity reference */
    { "<error version=\"1\" code=\"x\">&nbsp;</error>", PM_PROTOCOL_ERROR_MALFORMED },
    { "<error version=\"1\" code=\"x\">unclosed", PM_PROTOCOL_ERROR_MALFORMED },
    { "", PM_PROTOCOL_ERROR_MALFORMED },
    /* schema: code pattern, missing version */
    { "<error version=\"1\" code=\"UPPER CASE\">y</error>", PM_PROTOCOL_ERROR_INVALID },
    { "<error code=\"x\">y</error>", PM_PROTOCOL_ERROR_INVALID },
    { "<upload-receipt version=\"1\"/>", PM_PROTOCOL_ERROR_WRONG_MESSAGE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GBytes) bytes = text (cases[i].xml);
      g_autoptr(GError) error = NULL;
      g_autofree char *code = NULL;
      g_autofree char *message = NULL;

      g_assert_false (pm_protocol_error_parse (bytes, &code, &message, &error));
      if (!g_error_matches (error, PM_PROTOCOL_ERROR, cases[i].code))
        g_error ("case %u: expected code %d, got %s", i, cases[i].code,
                 error != NULL ? error->message : "success");
    }
}

static void
test_funds_schema (void)
{
  const char *cases[] = {
    /* negative amount */
    "<funds-request version=\"1\" kind=\"refill\"><device-id>PM1</device-id>"
    "<psd-serial>1</psd-serial><request-id>abcdefgh</request-id>"
    "<amount-mills>-5</amount-mills><sequence>1</sequence></funds-request>",
    /* unknown kind */
    "<funds-request version=\"1\" kind=\"steal\"><device-id>PM1</device-id>"
    "<psd-serial>1</psd-serial><request-id>abcdefgh</request-id></funds-request>",
    /* above the money bound */
    "<funds-request version=\"1\" kind=\"refill\"><device-id>PM1</device-id>"
    "<psd-serial>1</psd-serial><request-id>abcdefgh</request-id>"
    "<amount-mills>1000000000000001</amount-mills><sequence>1</sequence></funds-request>",
    /* an extra element */
    "<funds-request version=\"1\" kind=\"audit\"><device-id>PM1</device-id>"
    "<psd-serial>1</psd-serial><request-id>abcdefgh</request-id><x/></funds-request>",
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GBytes) bytes = text (cases[i]);
      g_autoptr(GError) error = NULL;
      g_autoptr(PmFundsRequest) request = pm_funds_request_parse (bytes, &error);

      g_assert_null (request);
      g_assert_error (error, PM_PROTOCOL_ERROR, PM_PROTOCOL_ERROR_INVALID);
    }
}

static void
test_size_limit (void)
{
  gsize size = PM_PROTOCOL_MAX_MESSAGE_BYTES + 1;
  char *big = g_malloc (size);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(PmFundsResponse) response = NULL;

  memset (big, ' ', size);
  memcpy (big, "<funds-response", 15);
  bytes = g_bytes_new_take (big, size);
  response = pm_funds_response_parse (bytes, &error);
  g_assert_null (response);
  g_assert_error (error, PM_PROTOCOL_ERROR, PM_PROTOCOL_ERROR_TOO_LARGE);
}

static void
test_base64_strict (void)
{
  const char *bad[] = { "QUJD=RA==", "QUJ", "QU*D", "QUJD===" };
  g_autoptr(GBytes) good = pm_protocol_base64_decode (" QUJD\nRA== ", NULL);

  g_assert_cmpmem (g_bytes_get_data (good, NULL), g_bytes_get_size (good), "ABCD", 4);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) decoded = pm_protocol_base64_decode (bad[i], &error);

      g_assert_null (decoded);
      g_assert_error (error, PM_PROTOCOL_ERROR, PM_PROTOCOL_ERROR_MALFORMED);
    }
}

static PmWireBatch *
batch_of (gint64 first,
          gint64 count)
{
  PmWireBatch *batch = pm_wire_batch_new ("batch-0001", "PM0004100001");

  for (gint64 seq = first; seq < first + count; seq++)
    {
      g_autofree char *payload = g_strdup_printf ("record %" G_GINT64_FORMAT, seq);
      g_autoptr(GBytes) bytes = g_bytes_new (payload, strlen (payload));

      g_ptr_array_add (batch->records, pm_upload_record_new (seq, 1764770000 + seq, NULL,
                                                             bytes));
    }
  return batch;
}

static void
test_upload_batch (void)
{
  g_autoptr(PmWireBatch) batch = batch_of (41, 250);
  g_autoptr(GBytes) sealed = NULL;
  g_autoptr(GBytes) sealed_again = NULL;
  g_autoptr(PmWireBatch) back = NULL;
  g_autoptr(GError) error = NULL;
  PmUploadRecord *last;

  sealed = pm_wire_batch_seal (batch, &error);
  g_assert_no_error (error);
  /* Gzip: magic bytes, and sealing the same records gives the same bytes. */
  g_assert_cmpuint (((const guint8 *) g_bytes_get_data (sealed, NULL))[0], ==, 0x1f);
  g_assert_cmpuint (((const guint8 *) g_bytes_get_data (sealed, NULL))[1], ==, 0x8b);
  sealed_again = pm_wire_batch_seal (batch, NULL);
  g_assert_true (g_bytes_equal (sealed, sealed_again));

  back = pm_wire_batch_parse (sealed, &error);
  g_assert_no_error (error);
  g_assert_cmpint (back->first_seq, ==, 41);
  g_assert_cmpint (back->last_seq, ==, 290);
  g_assert_cmpuint (back->records->len, ==, 250);
  last = g_ptr_array_index (back->records, 249);
  g_assert_cmpmem (g_bytes_get_data (last->payload, NULL), g_bytes_get_size (last->payload),
                   "record 290", 10);
}

static void
test_upload_batch_gap (void)
{
  g_autoptr(PmWireBatch) batch = batch_of (1, 3);
  g_autoptr(GBytes) sealed = NULL;
  g_autoptr(GError) error = NULL;

  ((PmUploadRecord *) g_ptr_array_index (batch->records, 2))->seq = 5;
  sealed = pm_wire_batch_seal (batch, &error);
  g_assert_null (sealed);
  g_assert_error (error, PM_PROTOCOL_ERROR, PM_PROTOCOL_ERROR_INCONSISTENT);
}

static GBytes *
gzip (const char *data,
      gsize       length)
{
  g_autoptr(GConverter) compressor =
    G_CONVERTER (g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP, 9));
  g_autoptr(GInputStream) raw = g_memory_input_stream_new_from_data (data, (gssize) length,
                                                                      NULL);
  g_autoptr(GInputStream) in = g_converter_input_stream_new (raw, compressor);
  g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();

  g_output_stream_splice (out, in, G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET, NULL, NULL);
  return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (out));
}

static void
test_upload_batch_bombs (void)
{
  gsize size = PM_PROTOCOL_MAX_BATCH_BYTES + 4096;
  g_autofree char *zeros = g_malloc0 (size);
  g_autoptr(GBytes) bomb = gzip (zeros, size);
  g_autoptr(GBytes) count_lie = NULL;
  g_autoptr(GBytes) not_gzip = text ("<upload-batch/>");
  static const char lie[] =
    "<upload-batch version=\"1\" batch-id=\"b1\" device-id=\"d1\" first-seq=\"1\" "
    "last-seq=\"3\" count=\"3\"><record seq=\"1\" created-at=\"0\">QQ==</record>"
    "<record seq=\"2\" created-at=\"0\">QQ==</record></upload-batch>";
  g_autoptr(GError) error = NULL;
  g_autoptr(PmWireBatch) batch = NULL;

  g_assert_cmpuint (g_bytes_get_size (bomb), <, 64 * 1024);
  batch = pm_wire_batch_parse (bomb, &error);
  g_assert_null (batch);
  g_assert_error (error, PM_PROTOCOL_ERROR, PM_PROTOCOL_ERROR_TOO_LARGE);
  g_clear_error (&error);

  count_lie = gzip (lie, strlen (lie));
  batch = pm_wire_batch_parse (count_lie, &error);
  g_assert_null (batch);
  g_assert_error (error, PM_PROTOCOL_ERROR, PM_PROTOCOL_ERROR_INCONSISTENT);
  g_clear_error (&error);

  batch = pm_wire_batch_parse (not_gzip, &error);
  g_assert_null (batch);
  g_assert_error (error, PM_PROTOCOL_ERROR, PM_PROTOCOL_ERROR_MALFORMED);
}

static void
test_receipt_signed_text (void)
{
  PmWireReceipt r = { (char *) "U1", (char *) "batch-0001", (char *) "PM0004100001", 41,
                        290, 250, (char *) "ab", 290, 1764770000, { 0 } };
  g_autoptr(GBytes) signed_text = pm_wire_receipt_signed_text (&r);
  static const char expected[] =
    "postmeter-upload-receipt-v1\nU1\nbatch-0001\nPM0004100001\n41\n290\n250\nab\n290\n"
    "1764770000\n";

  g_assert_cmpmem (g_bytes_get_data (signed_text, NULL), g_bytes_get_size (signed_text),
                   expected, strlen (expected));
}

static void
test_manifest (void)
{
  g_autoptr(PmManifest) manifest = g_new0 (PmManifest, 1);
  PmManifestPackage *p = g_new0 (PmManifestPackage, 1);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(PmManifest) back = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) climbing = text ("<manifest version=\"1\" serial=\"1\" issued-at=\"1\" "
                                     "expires-at=\"2\" model=\"m\" authority=\"US\">"
                                     "<package type=\"rates\" name=\"r\" version=\"1\" "
                                     "length=\"1\" sha256=\"" "0123456789abcdef0123456789"
                                     "abcdef0123456789abcdef0123456789abcdef\" "
                                     "path=\"/a/../../etc\"/></manifest>");

  manifest->serial = 9;
  manifest->issued_at = 1764770000;
  manifest->expires_at = 1765374800;
  manifest->model = g_strdup ("PMSW");
  manifest->authority = g_strdup ("US");
  manifest->packages = g_ptr_array_new_with_free_func ((GDestroyNotify) pm_manifest_package_free);
  p->type = g_strdup ("rates");
  p->name = g_strdup ("usps-domestic");
  p->version = 3;
  p->length = 48213;
  p->sha256 = g_compute_checksum_for_string (G_CHECKSUM_SHA256, "x", 1);
  p->path = g_strdup ("/downloads/packages/rates-usps-domestic-3");
  p->effective = g_date_new_dmy (12, 7, 2026);
  g_ptr_array_add (manifest->packages, p);

  bytes = pm_manifest_build (manifest);
  back = pm_manifest_parse (bytes, &error);
  g_assert_no_error (error);
  p = g_ptr_array_index (back->packages, 0);
  g_assert_cmpint (p->length, ==, 48213);
  g_assert_cmpuint (g_date_get_julian (p->effective), ==,
                    g_date_get_julian (((PmManifestPackage *)
                                        manifest->packages->pdata[0])->effective));

  g_clear_pointer (&back, pm_manifest_free);
  back = pm_manifest_parse (climbing, &error);
  g_assert_null (back);
  g_assert_error (error, PM_PROTOCOL_ERROR, PM_PROTOCOL_ERROR_INVALID);
}

static void
test_account_merge (void)
{
  PmWireAccount ours = { (char *) "LEGAL", NULL, (char *) "Legal", TRUE, 4 };
  PmWireAccount newer = { (char *) "LEGAL", NULL, (char *) "Legal dept", TRUE, 5 };
  PmWireAccount older = { (char *) "LEGAL", NULL, (char *) "Old", TRUE, 3 };
  PmWireAccount tie = { (char *) "LEGAL", NULL, (char *) "Tie", FALSE, 4 };

  g_assert_true (pm_wire_account_merge (&ours, &newer, TRUE) == &newer);
  g_assert_true (pm_wire_account_merge (&ours, &older, TRUE) == &ours);
  g_assert_true (pm_wire_account_merge (&ours, &tie, TRUE) == &tie);
  g_assert_true (pm_wire_account_merge (&ours, &tie, FALSE) == &ours);
  g_assert_true (pm_wire_account_merge (NULL, &tie, FALSE) == &tie);
}

static void
test_health_round_trip (void)
{
  g_autoptr(PmHealthRecord) record = pm_health_record_new ("PM0004100001");
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(PmHealthRecord) back = NULL;
  g_autoptr(GError) error = NULL;
  int percent = 12;

  record->taken_at = 1764770000;
  record->uptime_s = 3600;
  record->disk_total_bytes = 32000000000;
  record->disk_free_bytes = 1000;
  g_ptr_array_add (record->supply_names, g_strdup ("labels"));
  g_array_append_val (record->supply_percent, percent);
  record->log = text ("journal excerpt");
  bytes = pm_health_record_build (record);
  back = pm_health_record_parse (bytes, &error);
  g_assert_no_error (error);
  g_assert_cmpint (back->disk_total_bytes, ==, 32000000000);
  g_assert_cmpint (g_array_index (back->supply_percent, int, 0), ==, 12);
  g_assert_true (g_bytes_equal (back->log, record->log));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/core/protocol/authenticate/exact-bytes", test_auth_exact_bytes);
  g_test_add_func ("/core/protocol/authenticate/response", test_auth_response_round_trip);
  g_test_add_func ("/core/protocol/funds/round-trip", test_funds_round_trip);
  g_test_add_func ("/core/protocol/funds/schema", test_funds_schema);
  g_test_add_func ("/core/protocol/parser/hostile-documents", test_hostile_documents);
  g_test_add_func ("/core/protocol/parser/size-limit", test_size_limit);
  g_test_add_func ("/core/protocol/parser/base64", test_base64_strict);
  g_test_add_func ("/core/protocol/uploads/batch", test_upload_batch);
  g_test_add_func ("/core/protocol/uploads/gap", test_upload_batch_gap);
  g_test_add_func ("/core/protocol/uploads/bombs", test_upload_batch_bombs);
  g_test_add_func ("/core/protocol/uploads/receipt-text", test_receipt_signed_text);
  g_test_add_func ("/core/protocol/downloads/manifest", test_manifest);
  g_test_add_func ("/core/protocol/accounting/merge", test_account_merge);
  g_test_add_func ("/core/protocol/health/round-trip", test_health_round_trip);

  return g_test_run ();
}
