/* test-printer.c: the folder printer, the raw socket and device-file printer, and the
 * envelope and label documents they print */
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "pm-folder-printer.h"
#include "pm-raw-printer.h"
#include "pm-indicium-scan.h"
#include "pm-printer-test-util.h"

/* A path in the test's own isolated data folder, created on first use. */
static char *
scratch_path (const char *name)
{
  g_assert_cmpint (g_mkdir_with_parents (g_get_user_data_dir (), 0700), ==, 0);
  return g_build_filename (g_get_user_data_dir (), name, NULL);
}

static const guint8 png_signature[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n' };

static GBytes *
read_file (const char *path)
{
  g_autoptr(GError) error = NULL;
  char *contents = NULL;
  gsize length = 0;

  g_file_get_contents (path, &contents, &length, &error);
  g_assert_no_error (error);
  return g_bytes_new_take (contents, length);
}

static void
assert_png_of_size (const char *path,
                    int         width,
                    int         height)
{
  g_autoptr(GBytes) bytes = read_file (path);
  cairo_surface_t *surface;

  g_assert_cmpuint (g_bytes_get_size (bytes), >, sizeof png_signature);
  g_assert_cmpmem (g_bytes_get_data (bytes, NULL), sizeof png_signature, png_signature,
                   sizeof png_signature);
  surface = cairo_image_surface_create_from_png (path);
  g_assert_cmpint (cairo_surface_status (surface), ==, CAIRO_STATUS_SUCCESS);
  g_assert_cmpint (cairo_image_surface_get_width (surface), ==, width);
  g_assert_cmpint (cairo_image_surface_get_height (surface), ==, height);
  cairo_surface_destroy (surface);
}

static void
assert_pdf (const char *path)
{
  g_autoptr(GBytes) bytes = read_file (path);
  gsize length;
  const char *data = g_bytes_get_data (bytes, &length);

  g_assert_cmpuint (length, >, 100);
  g_assert_true (g_str_has_prefix (data, "%PDF-1."));
  /* A finished PDF ends with its end-of-file marker. */
  g_assert_nonnull (g_strstr_len (data + length - 16, 16, "%%EOF"));
}

static void
assert_states (const PmTestJobRun    *run,
               const PmPrintJobState *expected,
               guint                  n_expected)
{
  g_assert_cmpuint (run->states->len, ==, n_expected);
  for (guint i = 0; i < n_expected; i++)
    g_assert_cmpint (g_array_index (run->states, PmPrintJobState, i), ==, expected[i]);
}

/* Every ^FD ... ^FS field of a ZPL label, checked to hold no ^ or ~ of its own. */
static guint
assert_zpl_fields_escaped (const char *zpl,
                           gsize       length)
{
  g_autofree char *text = g_strndup (zpl, length);
  guint fields = 0;
  const char *p = text;

  while ((p = strstr (p, "^FD")) != NULL)
    {
      const char *start = p + 3;
      const char *end = strstr (start, "^FS");

      g_assert_nonnull (end);
      for (const char *q = start; q < end; q++)
        {
          g_assert_cmpint (*q, !=, '^');
          g_assert_cmpint (*q, !=, '~');
        }
      fields++;
      p = end;
    }

  return fields;
}

/* Field data */

static guint
count_substring (const char *haystack,
                 gsize       length,
                 const char *needle)
{
  guint n = 0;
  const char *p = haystack;
  const char *end = haystack + length;

  while ((p = g_strstr_len (p, end - p, needle)) != NULL)
    {
      n++;
      p += strlen (needle);
    }
  return n;
}

static void
test_label_field_escaping (void)
{
  static const struct
  {
    const char *text;
    const char *escaped;
  } fields[] = {
    { "Ada ^XZ Lovelace", "Ada _5EXZ Lovelace" },
    { "~JA Suite 200", "_7EJA Suite 200" },
    { "^FS^XZ~DG", "_5EFS_5EXZ_7EDG" },
    { "Under_score Bldg", "Under_5Fscore Bldg" },
    { "C:\\Mail\\Room", "C:_5CMail_5CRoom" },
    { "Jos\u00e9 Pe\u00f1a", "Jos\u00e9 Pe\u00f1a" },  /* UTF-8 passes under ^CI28 */
    { "", "" },
  };
  static const char *refused[] = {
    "line\nbreak", "tab\there", "bell\a", "del\x7f", "not \xff UTF-8",
    "separator\u2028here",
  };
  static const char *sender[] = { "Postmeter Mailroom", "100 N Wacker Dr",
                                  "Chicago IL 60606", NULL };
  static const char *hostile[] = { "^XZ^XA^FO0,0^GB812,1218,812^FS", "~JR~JA", "^",
                                   "~", "Cupertino CA 95014-2083", NULL };
  g_autofree char *tracking = pm_test_tracking_number ("940011189922385766843");
  g_autoptr(PmLabel) label = pm_label_new ();
  g_autoptr(GBytes) zpl = NULL;
  g_autoptr(GError) error = NULL;
  const char *data;
  gsize length;

  for (gsize i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      g_autofree char *escaped = pm_label_zpl_escape (fields[i].text, &error);

      g_assert_no_error (error);
      g_assert_cmpstr (escaped, ==, fields[i].escaped);
    }

  for (gsize i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autofree char *escaped = pm_label_zpl_escape (refused[i], &error);

      g_assert_null (escaped);
      g_assert_error (error, PM_LABEL_ERROR, PM_LABEL_ERROR_INVALID_TEXT);
      g_clear_error (&error);
    }

  /* An address made of commands is printed as text: the label keeps one format, no
   * tilde command and every field closed. */
  pm_label_set_sender (label, sender);
  pm_label_set_recipient (label, hostile);
  pm_label_set_service_banner (label, "USPS GROUND ADVANTAGE");
  pm_label_set_tracking (label, "95014-2083", tracking);
  zpl = pm_label_to_zpl (label, &error);
  g_assert_no_error (error);
  data = g_bytes_get_data (zpl, &length);
  g_assert_cmpuint (count_substring (data, length, "^XA"), ==, 1);
  g_assert_cmpuint (count_substring (data, length, "^XZ"), ==, 1);
  g_assert_cmpuint (count_substring (data, length, "~"), ==, 0);
  g_assert_nonnull (g_strstr_len (data, length, "^FD_5EXZ_5EXA_5EFO0,0_5EGB812,1218,812_5EFS"
                                                "^FS"));
  g_assert_cmpuint (assert_zpl_fields_escaped (data, length), >=, 8);
}

/* Folder printer */

static void
test_folder_label_zpl (void)
{
  g_autofree char *folder = scratch_path ("labels");
  g_autoptr(PmFolderPrinter) printer = pm_folder_printer_new ("Demo labels", folder);
  g_autoptr(PmLabel) label = pm_test_make_label ();
  g_autoptr(GError) error = NULL;
  g_autoptr(PmPrintJob) job = pm_print_job_new_label ("job-0001", "piece-17", label,
                                                      PM_PRINT_FORMAT_ZPL, &error);
  static const PmPrintJobState expected[] = {
    PM_PRINT_JOB_QUEUED, PM_PRINT_JOB_SENDING, PM_PRINT_JOB_DONE,
  };
  g_autofree char *zpl_path = g_build_filename (folder, "job-0001.zpl", NULL);
  g_autofree char *pdf_path = g_build_filename (folder, "job-0001.pdf", NULL);
  g_autofree char *png_path = g_build_filename (folder, "job-0001.png", NULL);
  g_autoptr(GBytes) zpl = NULL;
  const char * const *files;
  PmTestJobRun run;
  gsize length;
  const char *data;

  g_assert_no_error (error);
  g_assert_true (pm_test_run_job (PM_PRINTER (printer), job, &run));
  g_assert_no_error (run.error);
  assert_states (&run, expected, G_N_ELEMENTS (expected));
  pm_test_job_run_clear (&run);

  g_assert_cmpint (pm_print_job_get_state (job), ==, PM_PRINT_JOB_DONE);
  g_assert_cmpuint (pm_print_job_get_impressions (job), ==, 1);
  g_assert_cmpint (pm_print_job_get_ink_source (job), ==, PM_INK_SOURCE_NONE);
  g_assert_cmpuint (pm_print_job_get_ink_nanolitres (job), ==, 0);
  g_assert_cmpint (pm_print_job_get_finished_us (job), >, 0);

  files = pm_print_job_get_output_files (job);
  g_assert_cmpuint (g_strv_length ((char **) files), ==, 3);
  g_assert_true (g_strv_contains (files, zpl_path));
  g_assert_true (g_strv_contains (files, pdf_path));
  g_assert_true (g_strv_contains (files, png_path));

  /* The ZPL on disk is the job's bytes exactly: one label, escaped fields. */
  zpl = read_file (zpl_path);
  g_assert_true (g_bytes_equal (zpl, pm_print_job_get_data (job)));
  data = g_bytes_get_data (zpl, &length);
  g_assert_true (g_str_has_prefix (data, "^XA"));
  g_assert_nonnull (g_strstr_len (data + length - 5, 5, "^XZ"));
  g_assert_cmpuint (assert_zpl_fields_escaped (data, length), >=, 8);
  g_assert_nonnull (g_strstr_len (data, length, "Ada _5EXZ Lovelace"));
  g_assert_nonnull (g_strstr_len (data, length, "Suite _7EJA 200"));
  g_assert_nonnull (g_strstr_len (data, length, "Under_5Fscore Bldg"));

  /* The preview is the 4 x 6 label, one pixel per 203 dpi dot. */
  assert_pdf (pdf_path);
  assert_png_of_size (png_path, 812, 1218);
}

static void
test_folder_envelope (void)
{
  g_autofree char *folder = scratch_path ("envelopes");
  g_autoptr(PmFolderPrinter) printer = pm_folder_printer_new ("Demo envelopes", folder);
  g_autoptr(GBytes) indicium = pm_test_make_indicium (780);
  g_autoptr(GBytes) graphic = pm_test_make_graphic_png ();
  g_autoptr(GError) error = NULL;
  PmImpression *impression = pm_impression_new_postage (indicium, &error);
  PmEnvelopeOptions options = {
    .graphic_png = graphic,
    .message = "Season's greetings\nfrom the mailroom",
  };
  g_autoptr(PmPrintJob) job = NULL;
  g_autofree char *pdf_path = g_build_filename (folder, "env-1.pdf", NULL);
  g_autofree char *png_path = g_build_filename (folder, "env-1.png", NULL);
  g_autoptr(GBytes) scanned = NULL;
  PmTestJobRun run;

  g_assert_no_error (error);
  job = pm_print_job_new_envelope ("env-1", "piece-1", impression, &options,
                                   PM_PRINT_FORMAT_PDF, &error);
  g_assert_no_error (error);
  g_assert_cmpint (pm_print_job_get_kind (job), ==, PM_PRINT_KIND_ENVELOPE);

  g_assert_true (pm_test_run_job (PM_PRINTER (printer), job, &run));
  pm_test_job_run_clear (&run);

  /* A #10 envelope at the 300 dpi it was laid out for. */
  assert_pdf (pdf_path);
  assert_png_of_size (png_path, 2850, 1238);

  /* The printed symbol carries the PSD's bytes, read back by an independent decoder. */
  scanned = pm_indicium_scan_png (png_path, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (scanned, indicium));

  /* An inkjet envelope printer: ink estimated from the model, one impression. */
  g_assert_cmpuint (pm_print_job_get_impressions (job), ==, 1);
  g_assert_cmpint (pm_print_job_get_ink_source (job), ==, PM_INK_SOURCE_MODEL);
  g_assert_cmpuint (pm_print_job_get_ink_nanolitres (job), ==, 1500);
}

static void
test_folder_duplicate (void)
{
  g_autofree char *folder = scratch_path ("dup");
  g_autoptr(PmFolderPrinter) printer = pm_folder_printer_new (NULL, folder);
  g_autoptr(PmFolderPrinter) restarted = NULL;
  g_autoptr(GBytes) first = g_bytes_new_static ("^XA^FDfirst^FS^XZ", 17);
  g_autoptr(GBytes) second = g_bytes_new_static ("^XA^FDsecond^FS^XZ", 18);
  g_autoptr(PmPrintJob) job = pm_print_job_new ("label-9", PM_PRINT_KIND_LABEL,
                                                PM_PRINT_FORMAT_ZPL, NULL, NULL, first);
  g_autoptr(PmPrintJob) again = pm_print_job_new ("label-9", PM_PRINT_KIND_LABEL,
                                                  PM_PRINT_FORMAT_ZPL, NULL, NULL, second);
  g_autoptr(PmPrintJob) after_restart = NULL;
  g_autofree char *path = g_build_filename (folder, "label-9.zpl", NULL);
  g_autoptr(GBytes) on_disk = NULL;
  PmTestJobRun run;

  g_assert_true (pm_test_run_job (PM_PRINTER (printer), job, &run));
  pm_test_job_run_clear (&run);

  /* The same job again, and a new job object with the same id: refused before any I/O. */
  g_assert_false (pm_test_run_job (PM_PRINTER (printer), job, &run));
  g_assert_error (run.error, PM_PRINTER_ERROR, PM_PRINTER_ERROR_DUPLICATE_JOB);
  g_assert_cmpuint (run.states->len, ==, 0);
  pm_test_job_run_clear (&run);
  g_assert_false (pm_test_run_job (PM_PRINTER (printer), again, &run));
  g_assert_error (run.error, PM_PRINTER_ERROR, PM_PRINTER_ERROR_DUPLICATE_JOB);
  g_assert_nonnull (strstr (run.error->message, "label-9"));
  pm_test_job_run_clear (&run);

  /* After a restart the printer has forgotten the id, but the file it left is kept. */
  restarted = pm_folder_printer_new (NULL, folder);
  after_restart = pm_print_job_new ("label-9", PM_PRINT_KIND_LABEL, PM_PRINT_FORMAT_ZPL,
                                    NULL, NULL, second);
  g_assert_false (pm_test_run_job (PM_PRINTER (restarted), after_restart, &run));
  g_assert_error (run.error, PM_PRINTER_ERROR, PM_PRINTER_ERROR_DUPLICATE_JOB);
  pm_test_job_run_clear (&run);
  g_assert_cmpint (pm_print_job_get_state (after_restart), ==, PM_PRINT_JOB_FAILED);

  on_disk = read_file (path);
  g_assert_true (g_bytes_equal (on_disk, first));
}

static void
test_folder_unwritable (void)
{
  g_autofree char *blocker = scratch_path ("not-a-folder");
  g_autofree char *folder = g_build_filename (blocker, "inside", NULL);
  g_autoptr(PmFolderPrinter) printer = NULL;
  g_autoptr(PmLabel) label = pm_test_make_label ();
  g_autoptr(GError) error = NULL;
  g_autoptr(PmPrintJob) job = NULL;
  PmTestJobRun run;

  g_assert_true (g_file_set_contents (blocker, "x", 1, NULL));
  printer = pm_folder_printer_new (NULL, folder);
  job = pm_print_job_new_label ("job-x", NULL, label, PM_PRINT_FORMAT_PDF, &error);
  g_assert_no_error (error);

  g_assert_false (pm_test_run_job (PM_PRINTER (printer), job, &run));
  g_assert_error (run.error, PM_PRINTER_ERROR, PM_PRINTER_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (run.error->message, "job-x"));
  pm_test_job_run_clear (&run);
  g_assert_cmpint (pm_print_job_get_state (job), ==, PM_PRINT_JOB_FAILED);
  g_assert_error ((GError *) pm_print_job_get_error (job), PM_PRINTER_ERROR,
                  PM_PRINTER_ERROR_NOT_FOUND);
  g_assert_null (pm_print_job_get_output_files (job)[0]);
}

static void
query_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static PmPrinterState
query_state (PmPrinter *printer,
             char    ***reasons,
             GError   **error)
{
  GAsyncResult *result = NULL;
  PmPrinterState state;

  pm_printer_query_state_async (printer, NULL, query_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  state = pm_printer_query_state_finish (printer, result, reasons, error);
  g_object_unref (result);

  return state;
}

static void
test_folder_state (void)
{
  g_autofree char *folder = scratch_path ("state");
  g_autofree char *missing = scratch_path ("no-such");
  g_autoptr(PmFolderPrinter) printer = pm_folder_printer_new (NULL, folder);
  g_autoptr(PmFolderPrinter) gone = pm_folder_printer_new (NULL, missing);
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (g_mkdir (folder, 0755), ==, 0);
  g_assert_cmpint (query_state (PM_PRINTER (printer), NULL, &error), ==,
                   PM_PRINTER_STATE_READY);
  g_assert_no_error (error);
  g_assert_cmpint (query_state (PM_PRINTER (gone), NULL, &error), ==,
                   PM_PRINTER_STATE_OFFLINE);
  g_assert_error (error, PM_PRINTER_ERROR, PM_PRINTER_ERROR_NOT_FOUND);
}

static void
test_folder_data_only (void)
{
  g_autofree char *folder = scratch_path ("data-only");
  g_autoptr(PmFolderPrinter) printer = pm_folder_printer_new (NULL, folder);
  g_autoptr(PmLabel) label = pm_test_make_label ();
  g_autoptr(GBytes) pdf = pm_label_to_pdf (label, NULL);
  g_autoptr(PmPrintJob) job = pm_print_job_new ("report 1/2", PM_PRINT_KIND_REPORT,
                                                PM_PRINT_FORMAT_PDF, "Day report", NULL,
                                                pdf);
  g_autoptr(PmPrintJob) empty = pm_print_job_new ("empty", PM_PRINT_KIND_REPORT,
                                                  PM_PRINT_FORMAT_PDF, NULL, NULL, NULL);
  /* An id is filed under a safe name: no folder can be climbed out of. */
  g_autofree char *path = g_build_filename (folder, "report_1_2.pdf", NULL);
  g_autoptr(GBytes) on_disk = NULL;
  PmTestJobRun run;

  g_assert_nonnull (pdf);
  g_assert_true (pm_test_run_job (PM_PRINTER (printer), job, &run));
  pm_test_job_run_clear (&run);
  on_disk = read_file (path);
  g_assert_true (g_bytes_equal (on_disk, pdf));

  g_assert_false (pm_test_run_job (PM_PRINTER (printer), empty, &run));
  g_assert_error (run.error, PM_PRINTER_ERROR, PM_PRINTER_ERROR_JOB_FAILED);
  pm_test_job_run_clear (&run);
}

/* Documents */

static void
test_document_envelope_checks (void)
{
  g_autoptr(GBytes) indicium = pm_test_make_indicium (690);
  g_autoptr(GBytes) not_png = g_bytes_new_static ("GIF89a....", 10);
  g_autoptr(GError) error = NULL;
  g_autofree char *long_line = g_strnfill (PM_ENVELOPE_MAX_MESSAGE_CHARS + 1, 'x');
  struct
  {
    PmEnvelopeOptions options;
    PmPrintFormat     format;
    int               code;
  } cases[] = {
    { { .graphic_png = not_png }, PM_PRINT_FORMAT_PDF, PM_PRINT_DOCUMENT_ERROR_BAD_GRAPHIC },
    { { .message = "one\ntwo\nthree" }, PM_PRINT_FORMAT_PDF,
      PM_PRINT_DOCUMENT_ERROR_BAD_MESSAGE },
    { { .message = "bell\a" }, PM_PRINT_FORMAT_PDF, PM_PRINT_DOCUMENT_ERROR_BAD_MESSAGE },
    { { .message = "\xff\xfe" }, PM_PRINT_FORMAT_PDF, PM_PRINT_DOCUMENT_ERROR_BAD_MESSAGE },
    { { .message = long_line }, PM_PRINT_FORMAT_PDF, PM_PRINT_DOCUMENT_ERROR_BAD_MESSAGE },
    /* A 2 x 1 inch page cannot take a 2.8 inch impression. */
    { { .width_points = 144, .height_points = 72 }, PM_PRINT_FORMAT_PDF,
      PM_PRINT_DOCUMENT_ERROR_DOES_NOT_FIT },
    { { 0 }, PM_PRINT_FORMAT_ZPL, PM_PRINT_DOCUMENT_ERROR_FORMAT },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      PmImpression *impression = pm_impression_new_postage (indicium, &error);
      g_autoptr(PmPrintJob) job = NULL;

      g_assert_no_error (error);
      job = pm_print_job_new_envelope ("e", NULL, impression, &cases[i].options,
                                       cases[i].format, &error);
      g_assert_null (job);
      g_assert_error (error, PM_PRINT_DOCUMENT_ERROR, cases[i].code);
      g_clear_error (&error);
    }
}

static void
test_document_label_checks (void)
{
  static const char *control[] = { "Bad\x1b[2J line", NULL };
  static const char *accented[] = { "José Müller", "1 Main St", "Austin TX 78701", NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(PmLabel) label = pm_test_make_label ();
  g_autoptr(PmPrintJob) job = NULL;
  g_autoptr(PmPrintJob) epl = NULL;

  /* An escape sequence in an address is refused, in every format. */
  pm_label_set_recipient (label, control);
  job = pm_print_job_new_label ("l1", NULL, label, PM_PRINT_FORMAT_ZPL, &error);
  g_assert_null (job);
  g_assert_error (error, PM_LABEL_ERROR, PM_LABEL_ERROR_INVALID_TEXT);
  g_clear_error (&error);
  job = pm_print_job_new_label ("l1", NULL, label, PM_PRINT_FORMAT_PDF, &error);
  g_assert_null (job);
  g_assert_error (error, PM_LABEL_ERROR, PM_LABEL_ERROR_INVALID_TEXT);
  g_clear_error (&error);

  /* EPL's code page cannot carry accents: refused before it prints the wrong name. */
  pm_label_set_recipient (label, accented);
  epl = pm_print_job_new_label ("l2", NULL, label, PM_PRINT_FORMAT_EPL, &error);
  g_assert_null (epl);
  g_assert_error (error, PM_LABEL_ERROR, PM_LABEL_ERROR_NOT_REPRESENTABLE);
  g_clear_error (&error);
  /* ZPL declares UTF-8 (^CI28) and carries them. */
  job = pm_print_job_new_label ("l3", NULL, label, PM_PRINT_FORMAT_ZPL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (g_strstr_len (g_bytes_get_data (pm_print_job_get_data (job), NULL),
                                  -1, "^CI28"));

  g_assert_null (pm_print_job_new_label ("l4", NULL, label, PM_PRINT_FORMAT_RAW, &error));
  g_assert_error (error, PM_PRINT_DOCUMENT_ERROR, PM_PRINT_DOCUMENT_ERROR_FORMAT);
}

static void
test_document_label_epl (void)
{
  static const char *quoted[] = { "Joe \"Shipping\" Dept", "C:\\mail", "Austin TX 78701",
                                  NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(PmLabel) label = pm_test_make_label ();
  g_autoptr(PmPrintJob) job = NULL;
  const char *data;
  gsize length;

  pm_label_set_recipient (label, quoted);
  job = pm_print_job_new_label ("epl-1", NULL, label, PM_PRINT_FORMAT_EPL, &error);
  g_assert_no_error (error);
  data = g_bytes_get_data (pm_print_job_get_data (job), &length);
  /* EPL2: an empty line, then N to clear the buffer, the label size, P1 to print. */
  g_assert_true (g_str_has_prefix (data, "\nN\n") || g_str_has_prefix (data, "\r\nN\r\n"));
  g_assert_nonnull (g_strstr_len (data, length, "q812"));
  g_assert_nonnull (g_strstr_len (data, length, "\"Joe \\\"Shipping\\\" Dept\""));
  g_assert_nonnull (g_strstr_len (data, length, "\"C:\\\\mail\""));
  g_assert_nonnull (g_strstr_len (data, length, "P1"));
}

/* Raw printer: a capture server on the loopback interface */

typedef struct
{
  GSocket   *listener;
  GThread   *thread;
  gsize      close_after;   /* 0: read to the end; else stop reading and close here */
  guint      accept_count;  /* connections to take before the thread ends */
  GMutex     lock;
  GPtrArray *received;      /* GBytes per connection */
  guint16    port;
} Capture;

static gpointer
capture_thread (gpointer data)
{
  Capture *capture = data;

  for (guint n = 0; n < capture->accept_count; n++)
    {
      g_autoptr(GSocket) client = g_socket_accept (capture->listener, NULL, NULL);
      g_autoptr(GByteArray) bytes = g_byte_array_new ();
      guint8 buf[65536];

      if (client == NULL)
        break;
      for (;;)
        {
          gsize want = sizeof buf;
          gssize got;

          if (capture->close_after > 0)
            want = MIN (want, capture->close_after - bytes->len);
          if (want == 0)
            break;
          got = g_socket_receive (client, (char *) buf, want, NULL, NULL);
          if (got <= 0)
            break;
          g_byte_array_append (bytes, buf, got);
        }
      g_socket_close (client, NULL);
      g_mutex_lock (&capture->lock);
      g_ptr_array_add (capture->received, g_byte_array_free_to_bytes (g_steal_pointer (&bytes)));
      g_mutex_unlock (&capture->lock);
    }

  return NULL;
}

static Capture *
capture_start (guint accept_count,
               gsize close_after)
{
  Capture *capture = g_new0 (Capture, 1);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;

  capture->listener = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                    G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_socket_bind (capture->listener, address, TRUE, &error);
  g_assert_no_error (error);
  g_socket_listen (capture->listener, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (capture->listener, &error);
  g_assert_no_error (error);
  capture->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  capture->accept_count = accept_count;
  capture->close_after = close_after;
  capture->received = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_mutex_init (&capture->lock);
  capture->thread = g_thread_new ("capture", capture_thread, capture);

  return capture;
}

static GPtrArray *
capture_finish (Capture *capture)
{
  GPtrArray *received;

  g_thread_join (capture->thread);
  g_socket_close (capture->listener, NULL);
  g_object_unref (capture->listener);
  g_mutex_clear (&capture->lock);
  received = capture->received;
  g_free (capture);

  return received;
}

static void
test_raw_socket (void)
{
  Capture *capture = capture_start (1, 0);
  g_autoptr(PmRawPrinter) printer = pm_raw_printer_new_socket (NULL, "127.0.0.1",
                                                               capture->port);
  g_autoptr(PmLabel) label = pm_test_make_label ();
  g_autoptr(GError) error = NULL;
  g_autoptr(PmPrintJob) job = pm_print_job_new_label ("raw-1", NULL, label,
                                                      PM_PRINT_FORMAT_ZPL, &error);
  g_autoptr(PmPrintJob) pdf = pm_print_job_new_label ("raw-2", NULL, label,
                                                      PM_PRINT_FORMAT_PDF, &error);
  g_autoptr(GPtrArray) received = NULL;
  PmTestJobRun run;

  g_assert_no_error (error);
  g_assert_true (pm_test_run_job (PM_PRINTER (printer), job, &run));
  pm_test_job_run_clear (&run);

  received = capture_finish (capture);
  g_assert_cmpuint (received->len, ==, 1);
  g_assert_true (g_bytes_equal (received->pdata[0], pm_print_job_get_data (job)));

  /* A label printer's socket takes its own language only. */
  g_assert_false (pm_test_run_job (PM_PRINTER (printer), pdf, &run));
  g_assert_error (run.error, PM_PRINTER_ERROR, PM_PRINTER_ERROR_UNSUPPORTED_FORMAT);
  pm_test_job_run_clear (&run);
}

static void
test_raw_socket_offline (void)
{
  /* Bind a port, then close it: nothing listens there. */
  Capture *capture = capture_start (0, 0);
  guint16 port = capture->port;
  g_autoptr(GPtrArray) received = capture_finish (capture);
  g_autoptr(PmRawPrinter) printer = pm_raw_printer_new_socket ("Zebra", "127.0.0.1", port);
  g_autoptr(GBytes) zpl = g_bytes_new_static ("^XA^FDx^FS^XZ", 13);
  g_autoptr(PmPrintJob) job = pm_print_job_new ("raw-off", PM_PRINT_KIND_LABEL,
                                                PM_PRINT_FORMAT_ZPL, NULL, NULL, zpl);
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) reasons = NULL;
  PmTestJobRun run;

  g_assert_false (pm_test_run_job (PM_PRINTER (printer), job, &run));
  g_assert_error (run.error, PM_PRINTER_ERROR, PM_PRINTER_ERROR_OFFLINE);
  g_assert_nonnull (strstr (run.error->message, "raw-off"));
  pm_test_job_run_clear (&run);

  g_assert_cmpint (query_state (PM_PRINTER (printer), &reasons, &error), ==,
                   PM_PRINTER_STATE_OFFLINE);
  g_assert_true (g_strv_contains ((const char * const *) reasons, "offline-report"));
}

static void
test_raw_socket_fails_mid_job (void)
{
  /* The printer takes 64 KiB of an 8 MiB job and hangs up, then takes the next job. */
  Capture *capture = capture_start (2, 65536);
  g_autoptr(PmRawPrinter) printer = pm_raw_printer_new_socket (NULL, "127.0.0.1",
                                                               capture->port);
  g_autoptr(GBytes) big = NULL;
  g_autoptr(GBytes) small = g_bytes_new_static ("^XA^FDnext^FS^XZ", 16);
  g_autoptr(PmPrintJob) job = NULL;
  g_autoptr(PmPrintJob) next = pm_print_job_new ("job-B", PM_PRINT_KIND_LABEL,
                                                 PM_PRINT_FORMAT_ZPL, NULL, NULL, small);
  g_autoptr(GPtrArray) received = NULL;
  guint8 *data = g_malloc (8 << 20);
  PmTestJobRun run;

  memset (data, 'Z', 8 << 20);
  big = g_bytes_new_take (data, 8 << 20);
  job = pm_print_job_new ("job-A", PM_PRINT_KIND_LABEL, PM_PRINT_FORMAT_ZPL, "Label A",
                          NULL, big);
  pm_raw_printer_set_timeout (printer, 5);

  g_assert_false (pm_test_run_job (PM_PRINTER (printer), job, &run));
  g_assert_nonnull (run.error);
  g_assert_true (g_error_matches (run.error, PM_PRINTER_ERROR, PM_PRINTER_ERROR_IO) ||
                 g_error_matches (run.error, PM_PRINTER_ERROR, PM_PRINTER_ERROR_TIMED_OUT));
  /* The error says which job failed and how far it got. */
  g_assert_nonnull (strstr (run.error->message, "job-A"));
  g_assert_nonnull (strstr (run.error->message, "of 8388608 bytes"));
  pm_test_job_run_clear (&run);
  g_assert_cmpint (pm_print_job_get_state (job), ==, PM_PRINT_JOB_FAILED);

  /* Retrying the failed job sends nothing: a reprint is a new job. */
  g_assert_false (pm_test_run_job (PM_PRINTER (printer), job, &run));
  g_assert_error (run.error, PM_PRINTER_ERROR, PM_PRINTER_ERROR_DUPLICATE_JOB);
  pm_test_job_run_clear (&run);

  g_assert_true (pm_test_run_job (PM_PRINTER (printer), next, &run));
  pm_test_job_run_clear (&run);

  received = capture_finish (capture);
  g_assert_cmpuint (received->len, ==, 2);
  g_assert_cmpuint (g_bytes_get_size (received->pdata[0]), ==, 65536);
  g_assert_true (g_bytes_equal (received->pdata[1], small));
}

static void
test_raw_device (void)
{
  g_autofree char *device = scratch_path ("lp0");
  g_autofree char *missing = scratch_path ("lp9");
  g_autoptr(PmRawPrinter) printer = NULL;
  g_autoptr(PmRawPrinter) absent = pm_raw_printer_new_device (NULL, missing);
  g_autoptr(PmLabel) label = pm_test_make_label ();
  g_autoptr(GError) error = NULL;
  g_autoptr(PmPrintJob) job = pm_print_job_new_label ("dev-1", NULL, label,
                                                      PM_PRINT_FORMAT_EPL, &error);
  g_autoptr(PmPrintJob) lost = pm_print_job_new_label ("dev-2", NULL, label,
                                                       PM_PRINT_FORMAT_EPL, &error);
  g_autoptr(GBytes) written = NULL;
  PmTestJobRun run;

  g_assert_no_error (error);
  /* The device must exist; the printer never creates it. */
  g_assert_true (g_file_set_contents (device, "", 0, NULL));
  printer = pm_raw_printer_new_device (NULL, device);

  g_assert_true (pm_test_run_job (PM_PRINTER (printer), job, &run));
  pm_test_job_run_clear (&run);
  written = read_file (device);
  g_assert_true (g_bytes_equal (written, pm_print_job_get_data (job)));

  g_assert_false (pm_test_run_job (PM_PRINTER (absent), lost, &run));
  g_assert_error (run.error, PM_PRINTER_ERROR, PM_PRINTER_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (run.error->message, "dev-2"));
  pm_test_job_run_clear (&run);
  g_assert_false (g_file_test (missing, G_FILE_TEST_EXISTS));
}

/* Printer states and ink */

static void
test_state_from_reasons (void)
{
  static const struct
  {
    const char     *reasons[4];
    gboolean        stopped;
    PmPrinterState  state;
  } cases[] = {
    { { "none", NULL }, FALSE, PM_PRINTER_STATE_READY },
    { { NULL }, TRUE, PM_PRINTER_STATE_OFFLINE },
    { { "offline-report", NULL }, FALSE, PM_PRINTER_STATE_OFFLINE },
    { { "media-empty-error", NULL }, FALSE, PM_PRINTER_STATE_OUT_OF_PAPER },
    { { "media-needed", NULL }, FALSE, PM_PRINTER_STATE_OUT_OF_PAPER },
    { { "media-low-report", NULL }, FALSE, PM_PRINTER_STATE_READY },
    { { "marker-supply-empty-error", NULL }, FALSE, PM_PRINTER_STATE_OUT_OF_INK },
    { { "toner-empty-warning", NULL }, FALSE, PM_PRINTER_STATE_READY },
    { { "media-jam-error", NULL }, FALSE, PM_PRINTER_STATE_JAMMED },
    { { "media-empty-error", "media-jam-error", NULL }, FALSE, PM_PRINTER_STATE_JAMMED },
    { { "media-jam-error", "offline-report", NULL }, FALSE, PM_PRINTER_STATE_OFFLINE },
    { { "paused", NULL }, FALSE, PM_PRINTER_STATE_OFFLINE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    g_assert_cmpint (pm_printer_state_from_reasons (cases[i].reasons, cases[i].stopped), ==,
                     cases[i].state);
}

static void
test_ink_models (void)
{
  g_assert_cmpuint (pm_ink_model_lookup ("Zebra ZD421-203dpi ZPL")->nanolitres_per_impression,
                    ==, 0);
  g_assert_cmpuint (pm_ink_model_lookup ("DYMO LabelWriter 4XL")->nanolitres_per_impression,
                    ==, 0);
  g_assert_cmpuint (pm_ink_model_lookup ("HP OfficeJet Pro 9015")->nanolitres_per_impression,
                    ==, 1500);
  g_assert_cmpuint (pm_ink_model_lookup (NULL)->nanolitres_per_impression, ==, 1500);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/printer/label/field-escaping", test_label_field_escaping);
  g_test_add_func ("/printer/folder/label-zpl", test_folder_label_zpl);
  g_test_add_func ("/printer/folder/envelope", test_folder_envelope);
  g_test_add_func ("/printer/folder/duplicate", test_folder_duplicate);
  g_test_add_func ("/printer/folder/unwritable", test_folder_unwritable);
  g_test_add_func ("/printer/folder/state", test_folder_state);
  g_test_add_func ("/printer/folder/data-only", test_folder_data_only);
  g_test_add_func ("/printer/document/envelope-checks", test_document_envelope_checks);
  g_test_add_func ("/printer/document/label-checks", test_document_label_checks);
  g_test_add_func ("/printer/document/label-epl", test_document_label_epl);
  g_test_add_func ("/printer/raw/socket", test_raw_socket);
  g_test_add_func ("/printer/raw/socket-offline", test_raw_socket_offline);
  g_test_add_func ("/printer/raw/socket-fails-mid-job", test_raw_socket_fails_mid_job);
  g_test_add_func ("/printer/raw/device", test_raw_device);
  g_test_add_func ("/printer/state-from-reasons", test_state_from_reasons);
  g_test_add_func ("/printer/ink-models", test_ink_models);

  return g_test_run ();
}
