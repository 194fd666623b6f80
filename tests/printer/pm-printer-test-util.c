/* pm-printer-test-util.c: shared fixtures for the printer tests */
#include "pm-printer-test-util.h"

#include <string.h>

#include "pm-indicium.h"

static void
job_changed_cb (PmPrinter  *printer,
                PmPrintJob *job,
                gpointer    user_data)
{
  PmTestJobRun *run = user_data;
  PmPrintJobState state = pm_print_job_get_state (job);

  g_array_append_val (run->states, state);
}

static void
submitted_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  PmTestJobRun *run = user_data;

  run->ok = pm_printer_submit_finish (PM_PRINTER (source), result, &run->error);
  run->finished = TRUE;
}

static gboolean
time_limit_cb (gpointer user_data)
{
  gboolean *expired = user_data;

  *expired = TRUE;
  return G_SOURCE_REMOVE;
}

gboolean
pm_test_run_job (PmPrinter    *printer,
                 PmPrintJob   *job,
                 PmTestJobRun *run)
{
  gboolean expired = FALSE;
  gulong handler;
  guint limit;

  memset (run, 0, sizeof *run);
  run->states = g_array_new (FALSE, FALSE, sizeof (PmPrintJobState));

  handler = g_signal_connect (printer, "job-changed", G_CALLBACK (job_changed_cb), run);
  /* Generous: a loaded two-core machine may be slow to start a print daemon. */
  limit = g_timeout_add_seconds (90, time_limit_cb, &expired);
  pm_printer_submit_async (printer, job, NULL, submitted_cb, run);
  while (!run->finished && !expired)
    g_main_context_iteration (NULL, TRUE);
  g_signal_handler_disconnect (printer, handler);
  if (!expired)
    g_source_remove (limit);

  g_assert_false (expired);
  return run->ok;
}

void
pm_test_job_run_clear (PmTestJobRun *run)
{
  g_clear_pointer (&run->states, g_array_unref);
  g_clear_error (&run->error);
}

char *
pm_test_tracking_number (const char *prefix21)
{
  guint sum = 0;

  g_assert_cmpuint (strlen (prefix21), ==, 21);
  for (guint i = 0; i < 21; i++)
    sum += (guint) (prefix21[20 - i] - '0') * ((i % 2 == 0) ? 3 : 1);

  return g_strdup_printf ("%s%u", prefix21, (10 - sum % 10) % 10);
}

PmLabel *
pm_test_make_label (void)
{
  static const char *sender[] = { "Postmeter Mailroom", "100 N Wacker Dr",
                                  "Chicago IL 60606", NULL };
  static const char *recipient[] = { "Ada ^XZ Lovelace", "Suite ~JA 200",
                                     "Under_score Bldg", "1 Infinite Loop",
                                     "Cupertino CA 95014-2083", NULL };
  g_autofree char *tracking = pm_test_tracking_number ("940011189922385766843");
  PmLabel *label = pm_label_new ();

  pm_label_set_sender (label, sender);
  pm_label_set_recipient (label, recipient);
  pm_label_set_service_banner (label, "USPS GROUND ADVANTAGE");
  pm_label_set_tracking (label, "95014-2083", tracking);

  return label;
}

GBytes *
pm_test_make_indicium (guint32 postage_mills)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PmSigningKey) key = pm_signing_key_generate (&error);
  PmIndicium indicium = { 0 };
  GBytes *bytes;

  g_assert_no_error (error);

  indicium.version = PM_INDICIUM_VERSION_1;
  indicium.algorithm = PM_INDICIUM_ALGORITHM_ECDSA_P256_SHA256;
  indicium.certificate_serial = 7001;
  memcpy (indicium.device_model, "PMSW", 5);
  indicium.device_serial = 12345;
  indicium.ascending = 1000000 + postage_mills;
  indicium.postage = postage_mills;
  indicium.date_of_mailing = 20260114;
  indicium.origin_zip = 60606;
  indicium.destination_zip = 950142083;
  memcpy (indicium.software_id, "PM01", 5);
  indicium.descending = 49000000 - postage_mills;
  indicium.rate_category = PM_RATE_CATEGORY_FIRST_CLASS_LETTER;
  indicium.flags = PM_INDICIUM_FLAG_SPECIMEN;

  bytes = pm_indicium_sign (&indicium, key, &error);
  g_assert_no_error (error);
  return bytes;
}

static cairo_status_t
append_cb (void                *closure,
           const unsigned char *data,
           unsigned int         length)
{
  g_byte_array_append (closure, data, length);
  return CAIRO_STATUS_SUCCESS;
}

GBytes *
pm_test_make_graphic_png (void)
{
  GByteArray *out = g_byte_array_new ();
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 300, 150);
  cairo_t *cr = cairo_create (surface);

  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  cairo_set_source_rgb (cr, 0, 0, 0);
  cairo_set_line_width (cr, 6);
  cairo_rectangle (cr, 6, 6, 288, 138);
  cairo_stroke (cr);
  cairo_move_to (cr, 30, 90);
  cairo_set_font_size (cr, 40);
  cairo_show_text (cr, "THANK YOU");
  cairo_destroy (cr);
  g_assert_cmpint (cairo_surface_write_to_png_stream (surface, append_cb, out), ==,
                   CAIRO_STATUS_SUCCESS);
  cairo_surface_destroy (surface);

  return g_byte_array_free_to_bytes (out);
}
