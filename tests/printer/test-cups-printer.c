/* test-cups-printer.c: printing through a private cupsd the test starts
 *
 * The daemon gets its own configuration folder, listens on a loopback port only and has
 * FileDevice enabled, so each queue writes what it receives into a capture file. CUPS
 * sends nothing to a file device without a filter, so the queues' PPD passes documents
 * through gziptoany, the filter CUPS itself uses for raw jobs. When no cupsd can be
 * started, every test is skipped and says why.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <glib/gstdio.h>
#include <cairo-pdf.h>
#include <cups/cups.h>

#include "pm-cups-printer.h"
#include "pm-printer-test-util.h"

typedef struct
{
  char        *root;       /* the daemon's folder, removed at the end */
  char        *server;     /* "127.0.0.1:port" */
  guint16      port;
  GSubprocess *daemon;
  char        *skip_reason;
} Cupsd;

static Cupsd cupsd;

/* A PPD whose only job is to pass documents through unchanged. */
static const char ppd_template[] =
  "*PPD-Adobe: \"4.3\"\n"
  "*FormatVersion: \"4.3\"\n"
  "*FileVersion: \"1.0\"\n"
  "*LanguageVersion: English\n"
  "*LanguageEncoding: ISOLatin1\n"
  "*PCFileName: \"PMCAPT.PPD\"\n"
  "*Manufacturer: \"Postmeter\"\n"
  "*Product: \"(Capture)\"\n"
  "*ModelName: \"%s\"\n"
  "*ShortNickName: \"%s\"\n"
  "*NickName: \"%s\"\n"
  "*PSVersion: \"(3010.000) 0\"\n"
  "*LanguageLevel: \"3\"\n"
  "*ColorDevice: False\n"
  "*DefaultColorSpace: Gray\n"
  "*FileSystem: False\n"
  "*Throughput: \"1\"\n"
  "*TTRasterizer: Type42\n"
  "*cupsFilter: \"application/vnd.cups-raw 0 gziptoany\"\n"
  "*cupsFilter: \"application/pdf 0 gziptoany\"\n"
  "*OpenUI *PageSize/Media Size: PickOne\n"
  "*OrderDependency: 10 AnySetup *PageSize\n"
  "*DefaultPageSize: w288h432\n"
  "*PageSize w288h432/4x6in: \"\"\n"
  "*CloseUI: *PageSize\n"
  "*OpenUI *PageRegion: PickOne\n"
  "*OrderDependency: 10 AnySetup *PageRegion\n"
  "*DefaultPageRegion: w288h432\n"
  "*PageRegion w288h432/4x6in: \"\"\n"
  "*CloseUI: *PageRegion\n"
  "*DefaultImageableArea: w288h432\n"
  "*ImageableArea w288h432: \"0 0 288 432\"\n"
  "*DefaultPaperDimension: w288h432\n"
  "*PaperDimension w288h432: \"288 432\"\n";

static guint16
free_loopback_port (void)
{
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                            G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;

  if (socket == NULL || !g_socket_bind (socket, any, FALSE, NULL))
    return 0;
  bound = g_socket_get_local_address (socket, NULL);
  return bound != NULL ? g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)) : 0;
}

static void
write_file (const char *path,
            const char *contents)
{
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
}

static gboolean
cupsd_answers (void)
{
  http_t *http = httpConnect2 ("127.0.0.1", cupsd.port, NULL, AF_INET,
                               HTTP_ENCRYPTION_NEVER, 1, 500, NULL);
  ipp_t *response;
  gboolean ok;

  if (http == NULL)
    return FALSE;
  response = cupsDoRequest (http, ippNewRequest (IPP_OP_CUPS_GET_PRINTERS), "/");
  ok = response != NULL;
  ippDelete (response);
  httpClose (http);
  return ok;
}

/* A test that fails stops the program before it can stop the daemon: take it along. */
static void
die_with_test_cb (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

static void
cupsd_start (void)
{
  g_autofree char *program = g_find_program_in_path ("cupsd");
  g_autofree char *files_conf = NULL;
  g_autofree char *daemon_conf = NULL;
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  static const char *subdirs[] = { "spool", "cache", "state", "log", "tmp", "out" };
  gint64 deadline;

  if (program == NULL && g_file_test ("/usr/sbin/cupsd", G_FILE_TEST_IS_EXECUTABLE))
    program = g_strdup ("/usr/sbin/cupsd");
  if (program == NULL)
    {
      cupsd.skip_reason = g_strdup ("cupsd is not installed (package cups-daemon)");
      return;
    }

  cupsd.root = g_dir_make_tmp ("postmeter-cupsd-XXXXXX", &error);
  g_assert_no_error (error);
  /* Filters run as the "lp" user when the test runs as root: they must reach the spool. */
  g_assert_cmpint (g_chmod (cupsd.root, 0755), ==, 0);
  for (gsize i = 0; i < G_N_ELEMENTS (subdirs); i++)
    {
      g_autofree char *dir = g_build_filename (cupsd.root, subdirs[i], NULL);

      g_assert_cmpint (g_mkdir (dir, 0755), ==, 0);
    }
  {
    g_autofree char *out = g_build_filename (cupsd.root, "out", NULL);

    g_assert_cmpint (g_chmod (out, 0777), ==, 0);
  }

  cupsd.port = free_loopback_port ();
  g_assert_cmpuint (cupsd.port, !=, 0);
  cupsd.server = g_strdup_printf ("127.0.0.1:%u", cupsd.port);

  files_conf = g_build_filename (cupsd.root, "cups-files.conf", NULL);
  contents = g_strdup_printf ("ServerRoot %1$s\n"
                              "RequestRoot %1$s/spool\n"
                              "CacheDir %1$s/cache\n"
                              "StateDir %1$s/state\n"
                              "TempDir %1$s/tmp\n"
                              "AccessLog %1$s/log/access_log\n"
                              "ErrorLog %1$s/log/error_log\n"
                              "PageLog %1$s/log/page_log\n"
                              /* Not the system's printcap in /run/cups. */
                              "Printcap %1$s/printcap\n"
                              "FileDevice Yes\n", cupsd.root);
  write_file (files_conf, contents);
  g_clear_pointer (&contents, g_free);

  daemon_conf = g_build_filename (cupsd.root, "cupsd.conf", NULL);
  contents = g_strdup_printf ("Listen 127.0.0.1:%u\n"
                              "LogLevel info\n"
                              "Browsing No\n"
                              "WebInterface No\n"
                              "DefaultAuthType None\n"
                              "PreserveJobFiles No\n"
                              "<Location />\n"
                              "  Order allow,deny\n"
                              "  Allow all\n"
                              "</Location>\n"
                              "<Policy default>\n"
                              "  <Limit All>\n"
                              "    Order deny,allow\n"
                              "  </Limit>\n"
                              "</Policy>\n", cupsd.port);
  write_file (daemon_conf, contents);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE
                                        | G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_subprocess_launcher_set_child_setup (launcher, die_with_test_cb, NULL, NULL);
  cupsd.daemon = g_subprocess_launcher_spawn (launcher, &error, program, "-f", "-c",
                                              daemon_conf, "-s", files_conf, NULL);
  if (cupsd.daemon == NULL)
    {
      cupsd.skip_reason = g_strdup_printf ("cupsd cannot be started: %s", error->message);
      return;
    }

  /* Generous: a loaded two-core machine may take a while to start a print daemon. */
  deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  while (!cupsd_answers ())
    {
      if (g_get_monotonic_time () > deadline
          /* No identifier once the daemon has exited. */
          || g_subprocess_get_identifier (cupsd.daemon) == NULL)
        {
          cupsd.skip_reason = g_strdup ("cupsd started but does not answer on its loopback "
                                        "port; see its error_log");
          return;
        }
      g_usleep (100 * 1000);
    }
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child,
                                                                   G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

static void
cupsd_stop (void)
{
  if (cupsd.daemon != NULL)
    {
      g_subprocess_send_signal (cupsd.daemon, SIGTERM);
      g_subprocess_wait (cupsd.daemon, NULL, NULL);
      g_clear_object (&cupsd.daemon);
    }
  if (cupsd.root != NULL)
    remove_tree (cupsd.root);
  g_clear_pointer (&cupsd.root, g_free);
  g_clear_pointer (&cupsd.server, g_free);
  g_clear_pointer (&cupsd.skip_reason, g_free);
}

static gboolean
skip_without_cupsd (void)
{
  if (cupsd.skip_reason == NULL)
    return FALSE;
  g_test_skip (cupsd.skip_reason);
  return TRUE;
}

static void
run_tool (const char * const *argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *err = NULL;
  int status = 0;

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                NULL, NULL, NULL, &err, &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("%s failed: %s", argv[0], err);
}

/* A queue whose file device is @capture; the capture file is made empty unless @missing. */
static char *
add_queue (const char *queue,
           const char *model,
           gboolean    missing)
{
  g_autofree char *ppd_path = g_strdup_printf ("%s/%s.ppd", cupsd.root, queue);
  g_autofree char *ppd = g_strdup_printf (ppd_template, model, model, model);
  char *capture = g_strdup_printf ("%s/out/%s.prn", cupsd.root, queue);
  g_autofree char *uri = g_strdup_printf ("file://%s", capture);

  write_file (ppd_path, ppd);
  /* The scheduler opens a file device without creating it. */
  if (!missing)
    {
      write_file (capture, "");
      g_assert_cmpint (g_chmod (capture, 0666), ==, 0);
    }

  run_tool ((const char *[]) { "lpadmin", "-h", cupsd.server, "-p", queue, "-E",
                               "-v", uri, "-P", ppd_path, NULL });
  return capture;
}

static GBytes *
read_capture (const char *path)
{
  char *contents = NULL;
  gsize length = 0;

  g_assert_true (g_file_get_contents (path, &contents, &length, NULL));
  return g_bytes_new_take (contents, length);
}

static int
active_jobs (const char *queue)
{
  http_t *http = httpConnect2 ("127.0.0.1", cupsd.port, NULL, AF_INET,
                               HTTP_ENCRYPTION_NEVER, 1, 5000, NULL);
  cups_job_t *jobs = NULL;
  int n;

  g_assert_nonnull (http);
  n = cupsGetJobs2 (http, &jobs, queue, 0, CUPS_WHICHJOBS_ACTIVE);
  cupsFreeJobs (n, jobs);
  httpClose (http);
  return n;
}

static PmCupsPrinter *
make_printer (const char *queue)
{
  PmCupsPrinter *printer = pm_cups_printer_new (NULL, queue, cupsd.server);

  /* A quick pace for the test; the defaults suit an office. */
  pm_cups_printer_set_follow (printer, 50, 90);
  return printer;
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

static void
test_zpl_label (void)
{
  g_autofree char *capture = NULL;
  g_autoptr(PmCupsPrinter) printer = NULL;
  g_autoptr(PmLabel) label = NULL;
  g_autoptr(PmPrintJob) job = NULL;
  g_autoptr(PmPrintJob) again = NULL;
  g_autoptr(GBytes) received = NULL;
  g_autoptr(GError) error = NULL;
  static const PmPrintJobState expected[] = {
    PM_PRINT_JOB_QUEUED, PM_PRINT_JOB_SENDING, PM_PRINT_JOB_PRINTING, PM_PRINT_JOB_DONE,
  };
  const char *data;
  gsize length;
  PmTestJobRun run;

  if (skip_without_cupsd ())
    return;

  capture = add_queue ("labels", "Postmeter ZPL label capture", FALSE);
  printer = make_printer ("labels");
  label = pm_test_make_label ();
  job = pm_print_job_new_label ("cups-label-1", "piece-41", label, PM_PRINT_FORMAT_ZPL,
                                &error);
  g_assert_no_error (error);

  g_assert_true (pm_test_run_job (PM_PRINTER (printer), job, &run));
  g_assert_no_error (run.error);
  assert_states (&run, expected, G_N_ELEMENTS (expected));
  pm_test_job_run_clear (&run);
  g_assert_true (g_str_has_prefix (pm_print_job_get_backend_ref (job), "labels-"));
  g_assert_cmpuint (pm_print_job_get_impressions (job), ==, 1);
  /* A thermal label printer uses no ink. */
  g_assert_cmpint (pm_print_job_get_ink_source (job), ==, PM_INK_SOURCE_NONE);
  g_assert_cmpuint (pm_print_job_get_ink_nanolitres (job), ==, 0);

  /* Byte for byte what the job held: no driver touched it. */
  received = read_capture (capture);
  g_assert_true (g_bytes_equal (received, pm_print_job_get_data (job)));
  data = g_bytes_get_data (received, &length);
  g_assert_true (g_str_has_prefix (data, "^XA"));
  g_assert_nonnull (g_strstr_len (data, length, "Ada _5EXZ Lovelace"));

  /* The same job again is refused before it reaches CUPS: printed once. */
  g_assert_false (pm_test_run_job (PM_PRINTER (printer), job, &run));
  g_assert_error (run.error, PM_PRINTER_ERROR, PM_PRINTER_ERROR_DUPLICATE_JOB);
  pm_test_job_run_clear (&run);
  g_clear_pointer (&received, g_bytes_unref);
  received = read_capture (capture);
  g_assert_true (g_bytes_equal (received, pm_print_job_get_data (job)));
  g_assert_cmpint (active_jobs ("labels"), ==, 0);
}

static cairo_status_t
append_cb (void                *closure,
           const unsigned char *data,
           unsigned int         length)
{
  g_byte_array_append (closure, data, length);
  return CAIRO_STATUS_SUCCESS;
}

static GBytes *
make_pdf (void)
{
  GByteArray *out = g_byte_array_new ();
  cairo_surface_t *surface = cairo_pdf_surface_create_for_stream (append_cb, out, 288, 432);
  cairo_t *cr = cairo_create (surface);

  cairo_move_to (cr, 20, 40);
  cairo_show_text (cr, "Daily postage report");
  cairo_destroy (cr);
  cairo_surface_finish (surface);
  cairo_surface_destroy (surface);

  return g_byte_array_free_to_bytes (out);
}

static void
test_pdf (void)
{
  g_autofree char *capture = NULL;
  g_autoptr(PmCupsPrinter) printer = NULL;
  g_autoptr(GBytes) indicium = NULL;
  g_autoptr(GBytes) pdf = NULL;
  g_autoptr(GBytes) received = NULL;
  g_autoptr(PmPrintJob) envelope = NULL;
  g_autoptr(PmPrintJob) report = NULL;
  g_autoptr(GError) error = NULL;
  PmImpression *impression;
  const char *data;
  gsize length;
  PmTestJobRun run;

  if (skip_without_cupsd ())
    return;

  capture = add_queue ("envelopes", "Postmeter envelope capture", FALSE);
  printer = make_printer ("envelopes");

  /* An envelope impression, drawn on the printer's thread, arrives as a PDF. */
  indicium = pm_test_make_indicium (780);
  impression = pm_impression_new_postage (indicium, &error);
  g_assert_no_error (error);
  envelope = pm_print_job_new_envelope ("cups-env-1", "piece-7", impression, NULL,
                                        PM_PRINT_FORMAT_PDF, &error);
  g_assert_no_error (error);
  g_assert_true (pm_test_run_job (PM_PRINTER (printer), envelope, &run));
  pm_test_job_run_clear (&run);

  received = read_capture (capture);
  data = g_bytes_get_data (received, &length);
  g_assert_cmpuint (length, >, 1000);
  g_assert_true (g_str_has_prefix (data, "%PDF-1."));
  g_assert_nonnull (g_strstr_len (data + length - 16, 16, "%%EOF"));
  /* An inkjet envelope printer: ink from the model, one impression. */
  g_assert_cmpuint (pm_print_job_get_impressions (envelope), ==, 1);
  g_assert_cmpint (pm_print_job_get_ink_source (envelope), ==, PM_INK_SOURCE_MODEL);
  g_assert_cmpuint (pm_print_job_get_ink_nanolitres (envelope), ==, 1500);

  /* A PDF the caller made goes unchanged. The file device writes from its start. */
  write_file (capture, "");
  pdf = make_pdf ();
  report = pm_print_job_new ("cups-report-1", PM_PRINT_KIND_REPORT, PM_PRINT_FORMAT_PDF,
                             "Daily report", NULL, pdf);
  g_assert_true (pm_test_run_job (PM_PRINTER (printer), report, &run));
  pm_test_job_run_clear (&run);
  g_clear_pointer (&received, g_bytes_unref);
  received = read_capture (capture);
  g_assert_true (g_bytes_equal (received, pdf));
}

static void
test_offline (void)
{
  g_autofree char *rejecting = NULL;
  g_autofree char *stopped = NULL;
  g_autoptr(PmCupsPrinter) printer = NULL;
  g_autoptr(PmLabel) label = pm_test_make_label ();
  g_autoptr(PmPrintJob) job = NULL;
  g_autoptr(GBytes) received = NULL;
  g_autoptr(GError) error = NULL;
  static const PmPrintJobState expected[] = { PM_PRINT_JOB_QUEUED, PM_PRINT_JOB_FAILED };
  PmTestJobRun run;

  if (skip_without_cupsd ())
    return;

  /* A queue that refuses jobs. */
  rejecting = add_queue ("rejecting", "Postmeter ZPL label capture", FALSE);
  run_tool ((const char *[]) { "cupsreject", "-h", cupsd.server, "rejecting", NULL });
  printer = make_printer ("rejecting");
  job = pm_print_job_new_label ("cups-off-1", "piece-1", label, PM_PRINT_FORMAT_ZPL, &error);
  g_assert_no_error (error);
  g_assert_false (pm_test_run_job (PM_PRINTER (printer), job, &run));
  g_assert_error (run.error, PM_PRINTER_ERROR, PM_PRINTER_ERROR_OFFLINE);
  g_assert_nonnull (strstr (run.error->message, "cups-off-1"));
  assert_states (&run, expected, G_N_ELEMENTS (expected));
  pm_test_job_run_clear (&run);
  g_assert_cmpint (pm_print_job_get_state (job), ==, PM_PRINT_JOB_FAILED);
  received = read_capture (rejecting);
  g_assert_cmpuint (g_bytes_get_size (received), ==, 0);
  g_clear_object (&printer);
  g_clear_object (&job);

  /* A stopped queue: nothing is left waiting in it to print later. */
  stopped = add_queue ("stopped", "Postmeter ZPL label capture", FALSE);
  run_tool ((const char *[]) { "cupsdisable", "-h", cupsd.server, "stopped", NULL });
  printer = make_printer ("stopped");
  job = pm_print_job_new_label ("cups-off-2", "piece-2", label, PM_PRINT_FORMAT_ZPL, &error);
  g_assert_false (pm_test_run_job (PM_PRINTER (printer), job, &run));
  g_assert_error (run.error, PM_PRINTER_ERROR, PM_PRINTER_ERROR_OFFLINE);
  pm_test_job_run_clear (&run);
  g_assert_cmpint (active_jobs ("stopped"), ==, 0);
  g_clear_pointer (&received, g_bytes_unref);
  received = read_capture (stopped);
  g_assert_cmpuint (g_bytes_get_size (received), ==, 0);
}

static void
store_result_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static PmPrinterState
query_state (PmPrinter  *printer,
             char     ***out_reasons,
             GError    **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  pm_printer_query_state_async (printer, NULL, store_result_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  return pm_printer_query_state_finish (printer, result, out_reasons, error);
}

static void
test_state (void)
{
  g_autofree char *capture = NULL;
  g_autoptr(PmCupsPrinter) printer = NULL;
  g_autoptr(PmCupsPrinter) missing = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) reasons = NULL;

  if (skip_without_cupsd ())
    return;

  capture = add_queue ("stateq", "Postmeter ZPL label capture", FALSE);
  printer = make_printer ("stateq");
  g_assert_cmpint (query_state (PM_PRINTER (printer), &reasons, &error), ==,
                   PM_PRINTER_STATE_READY);
  g_assert_no_error (error);
  g_clear_pointer (&reasons, g_strfreev);

  run_tool ((const char *[]) { "cupsdisable", "-h", cupsd.server, "stateq", NULL });
  g_assert_cmpint (query_state (PM_PRINTER (printer), &reasons, &error), ==,
                   PM_PRINTER_STATE_OFFLINE);
  g_assert_no_error (error);
  g_assert_true (g_strv_contains ((const char * const *) reasons, "paused"));

  missing = make_printer ("no-such-queue");
  g_assert_cmpint (query_state (PM_PRINTER (missing), NULL, &error), ==,
                   PM_PRINTER_STATE_UNKNOWN);
  g_assert_error (error, PM_PRINTER_ERROR, PM_PRINTER_ERROR_NOT_FOUND);
}

static void
test_no_such_queue (void)
{
  g_autoptr(PmCupsPrinter) printer = NULL;
  g_autoptr(PmPrintJob) job = NULL;
  g_autoptr(GBytes) zpl = g_bytes_new_static ("^XA^XZ", 6);
  PmTestJobRun run;

  if (skip_without_cupsd ())
    return;

  printer = make_printer ("no-such-queue");
  job = pm_print_job_new ("cups-missing-1", PM_PRINT_KIND_LABEL, PM_PRINT_FORMAT_ZPL,
                          "Label", NULL, zpl);
  g_assert_false (pm_test_run_job (PM_PRINTER (printer), job, &run));
  g_assert_error (run.error, PM_PRINTER_ERROR, PM_PRINTER_ERROR_NOT_FOUND);
  pm_test_job_run_clear (&run);
}

static void
test_fails_mid_job (void)
{
  g_autofree char *capture = NULL;
  g_autoptr(PmCupsPrinter) printer = NULL;
  g_autoptr(PmPrintJob) job = NULL;
  g_autoptr(GBytes) zpl = g_bytes_new_static ("^XA^FO20,20^A0N,30,30^FDPostmeter^FS^XZ", 38);
  PmTestJobRun run;
  gboolean printing = FALSE;

  if (skip_without_cupsd ())
    return;

  /* The device is missing when the job gets to it: CUPS stops the queue with the job in
   * it. The job is reported failed by its id, and canceled so it never prints later. */
  capture = add_queue ("broken", "Postmeter ZPL label capture", TRUE);
  printer = make_printer ("broken");
  job = pm_print_job_new ("cups-broken-1", PM_PRINT_KIND_LABEL, PM_PRINT_FORMAT_ZPL,
                          "Label", "piece-9", zpl);
  g_assert_false (pm_test_run_job (PM_PRINTER (printer), job, &run));
  g_assert_nonnull (run.error);
  g_assert_true (run.error->domain == PM_PRINTER_ERROR);
  g_assert_nonnull (strstr (run.error->message, "cups-broken-1"));
  for (guint i = 0; i < run.states->len; i++)
    printing |= g_array_index (run.states, PmPrintJobState, i) == PM_PRINT_JOB_PRINTING;
  g_assert_true (printing);
  pm_test_job_run_clear (&run);
  g_assert_cmpint (active_jobs ("broken"), ==, 0);
  g_assert_false (g_file_test (capture, G_FILE_TEST_EXISTS));
}

static void
test_epl_label (void)
{
  g_autofree char *capture = NULL;
  g_autoptr(PmCupsPrinter) printer = NULL;
  g_autoptr(PmLabel) label = NULL;
  g_autoptr(PmPrintJob) job = NULL;
  g_autoptr(GBytes) received = NULL;
  g_autoptr(GError) error = NULL;
  PmTestJobRun run;

  if (skip_without_cupsd ())
    return;

  /* EPL goes the same raw way. Its quoted fields escape quotes and backslashes. */
  capture = add_queue ("epl", "Postmeter EPL label capture", FALSE);
  printer = make_printer ("epl");
  label = pm_test_make_label ();
  job = pm_print_job_new_label ("cups-epl-1", "piece-42", label, PM_PRINT_FORMAT_EPL,
                                &error);
  g_assert_no_error (error);
  g_assert_true (pm_test_run_job (PM_PRINTER (printer), job, &run));
  pm_test_job_run_clear (&run);

  received = read_capture (capture);
  g_assert_true (g_bytes_equal (received, pm_print_job_get_data (job)));
  g_assert_cmpint (pm_print_job_get_ink_source (job), ==, PM_INK_SOURCE_NONE);
}

int
main (int   argc,
      char *argv[])
{
  int result;

  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/printer/cups/zpl-label", test_zpl_label);
  g_test_add_func ("/printer/cups/epl-label", test_epl_label);
  g_test_add_func ("/printer/cups/pdf", test_pdf);
  g_test_add_func ("/printer/cups/offline", test_offline);
  g_test_add_func ("/printer/cups/state", test_state);
  g_test_add_func ("/printer/cups/no-such-queue", test_no_such_queue);
  g_test_add_func ("/printer/cups/fails-mid-job", test_fails_mid_job);

  cupsd_start ();
  result = g_test_run ();
  cupsd_stop ();

  return result;
}
