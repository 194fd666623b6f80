/* test-log.c: the ring of recent faults and the error log's text form */
#include <string.h>

#include "pm-log.h"

static void
add_numbered (guint first,
              guint count)
{
  for (guint i = first; i < first + count; i++)
    {
      g_autofree char *message = g_strdup_printf ("fault %u", i);

      pm_log_ring_add (G_LOG_LEVEL_WARNING, "postmeter-test", message);
    }
}

/* The ring keeps the newest records up to its capacity, oldest first, and counts what it
 * pushed out. */
static void
test_ring_bounded (void)
{
  g_autoptr(GPtrArray) records = NULL;
  guint64 dropped = 99;
  gint64 before = g_get_real_time ();

  pm_log_ring_set_capacity (5);
  pm_log_ring_clear ();
  g_assert_cmpuint (pm_log_ring_get_capacity (), ==, 5);

  add_numbered (0, 3);
  records = pm_log_ring_snapshot (&dropped);
  g_assert_cmpuint (records->len, ==, 3);
  g_assert_cmpuint (dropped, ==, 0);
  g_clear_pointer (&records, g_ptr_array_unref);

  add_numbered (3, 9);
  records = pm_log_ring_snapshot (&dropped);
  g_assert_cmpuint (records->len, ==, 5);
  g_assert_cmpuint (dropped, ==, 7);
  for (guint i = 0; i < 5; i++)
    {
      const PmLogRecord *record = g_ptr_array_index (records, i);
      g_autofree char *expected = g_strdup_printf ("fault %u", 7 + i);

      g_assert_cmpstr (record->message, ==, expected);
      g_assert_cmpstr (record->domain, ==, "postmeter-test");
      g_assert_cmpint (record->level, ==, G_LOG_LEVEL_WARNING);
      g_assert_cmpint (record->time_us, >=, before);
      if (i > 0)
        g_assert_cmpint (record->time_us, >=,
                         ((PmLogRecord *) g_ptr_array_index (records, i - 1))->time_us);
    }
  g_clear_pointer (&records, g_ptr_array_unref);

  /* Shrinking keeps the newest; growing keeps all and their order. */
  pm_log_ring_set_capacity (2);
  records = pm_log_ring_snapshot (&dropped);
  g_assert_cmpuint (records->len, ==, 2);
  g_assert_cmpuint (dropped, ==, 10);
  g_assert_cmpstr (((PmLogRecord *) records->pdata[0])->message, ==, "fault 10");
  g_assert_cmpstr (((PmLogRecord *) records->pdata[1])->message, ==, "fault 11");
  g_clear_pointer (&records, g_ptr_array_unref);

  pm_log_ring_set_capacity (4);
  add_numbered (12, 1);
  records = pm_log_ring_snapshot (NULL);
  g_assert_cmpuint (records->len, ==, 3);
  g_assert_cmpstr (((PmLogRecord *) records->pdata[0])->message, ==, "fault 10");
  g_assert_cmpstr (((PmLogRecord *) records->pdata[2])->message, ==, "fault 12");
  g_clear_pointer (&records, g_ptr_array_unref);

  /* A ring of none keeps nothing but counts. */
  pm_log_ring_set_capacity (0);
  pm_log_ring_clear ();
  add_numbered (0, 2);
  records = pm_log_ring_snapshot (&dropped);
  g_assert_cmpuint (records->len, ==, 0);
  g_assert_cmpuint (dropped, ==, 2);
  g_clear_pointer (&records, g_ptr_array_unref);

  pm_log_ring_clear ();
  records = pm_log_ring_snapshot (&dropped);
  g_assert_cmpuint (records->len, ==, 0);
  g_assert_cmpuint (dropped, ==, 0);
  pm_log_ring_set_capacity (PM_LOG_RING_DEFAULT_CAPACITY);
}

/* Only WARNING and above go in, each with its own level. */
static void
test_ring_levels (void)
{
  static const struct
  {
    GLogLevelFlags given;
    GLogLevelFlags kept;      /* 0: not kept */
    const char    *name;
  } levels[] = {
    { G_LOG_LEVEL_DEBUG, 0, NULL },
    { G_LOG_LEVEL_INFO, 0, NULL },
    { G_LOG_LEVEL_MESSAGE, 0, NULL },
    { G_LOG_LEVEL_WARNING, G_LOG_LEVEL_WARNING, "WARNING" },
    { G_LOG_LEVEL_CRITICAL, G_LOG_LEVEL_CRITICAL, "CRITICAL" },
    { G_LOG_LEVEL_ERROR | G_LOG_FLAG_FATAL, G_LOG_LEVEL_ERROR, "ERROR" },
    { G_LOG_LEVEL_WARNING | G_LOG_FLAG_FATAL, G_LOG_LEVEL_WARNING, "WARNING" },
  };
  g_autoptr(GPtrArray) records = NULL;
  guint kept = 0;

  pm_log_ring_clear ();
  for (guint i = 0; i < G_N_ELEMENTS (levels); i++)
    {
      g_autofree char *message = g_strdup_printf ("level %u", i);

      pm_log_ring_add (levels[i].given, "postmeter-test", message);
    }

  records = pm_log_ring_snapshot (NULL);
  for (guint i = 0; i < G_N_ELEMENTS (levels); i++)
    {
      g_autofree char *message = g_strdup_printf ("level %u", i);
      const PmLogRecord *record;

      g_assert_cmpstr (pm_log_level_to_string (levels[i].given), ==, levels[i].name);
      if (levels[i].kept == 0)
        continue;
      g_assert_cmpuint (kept, <, records->len);
      record = g_ptr_array_index (records, kept++);
      g_assert_cmpstr (record->message, ==, message);
      g_assert_cmpint (record->level, ==, levels[i].kept);
    }
  g_assert_cmpuint (records->len, ==, kept);
  g_assert_cmpuint (kept, ==, 4);
}

/* The program's own log calls reach the ring through the writer, with their domain, and
 * still go out to the standard streams. */
static void
test_writer (void)
{
  g_autoptr(GPtrArray) records = NULL;
  GLogLevelFlags fatal;

  pm_log_init ();
  pm_log_ring_clear ();

  /* The test harness makes warnings fatal; here they are the subject. */
  fatal = g_log_set_always_fatal (G_LOG_FATAL_MASK);
  g_log ("postmeter-net", G_LOG_LEVEL_WARNING, "The data center did not answer: %s",
         "Connection refused");
  g_log ("postmeter-net", G_LOG_LEVEL_MESSAGE, "Signed in to the data center as PM01");
  g_log ("postmeter-store", G_LOG_LEVEL_DEBUG, "Committed 1 row");
  g_log_structured ("postmeter-psd", G_LOG_LEVEL_CRITICAL, "MESSAGE", "PSD file %s sealed",
                    "not");
  g_log_set_always_fatal (fatal);

  records = pm_log_ring_snapshot (NULL);
  g_assert_cmpuint (records->len, ==, 2);
  g_assert_cmpstr (((PmLogRecord *) records->pdata[0])->domain, ==, "postmeter-net");
  g_assert_cmpstr (((PmLogRecord *) records->pdata[0])->message, ==,
                   "The data center did not answer: Connection refused");
  g_assert_cmpint (((PmLogRecord *) records->pdata[0])->level, ==, G_LOG_LEVEL_WARNING);
  g_assert_cmpstr (((PmLogRecord *) records->pdata[1])->domain, ==, "postmeter-psd");
  g_assert_cmpstr (((PmLogRecord *) records->pdata[1])->message, ==, "PSD file not sealed");
  g_assert_cmpint (((PmLogRecord *) records->pdata[1])->level, ==, G_LOG_LEVEL_CRITICAL);
}

/* A very long message is cut at a character boundary, marked, and stays valid UTF-8. */
static void
test_message_bounded (void)
{
  g_autoptr(GString) longer = g_string_new ("x");
  g_autoptr(PmLogRecord) record = NULL;
  g_autoptr(PmLogRecord) invalid = NULL;

  for (guint i = 0; i < 1000; i++)
    g_string_append (longer, "é");     /* two bytes each, so the cut falls mid-character */
  record = pm_log_record_new (0, G_LOG_LEVEL_WARNING, NULL, longer->str);
  g_assert_cmpuint (strlen (record->message), <=, PM_LOG_MESSAGE_MAX_BYTES);
  g_assert_cmpuint (strlen (record->message), >=, PM_LOG_MESSAGE_MAX_BYTES - 4);
  g_assert_true (g_utf8_validate (record->message, -1, NULL));
  g_assert_true (g_str_has_suffix (record->message, "é…"));
  g_assert_true (g_str_has_prefix (record->message, "xéé"));

  invalid = pm_log_record_new (0, G_LOG_LEVEL_WARNING, NULL, "bad \xff byte");
  g_assert_true (g_utf8_validate (invalid->message, -1, NULL));
  g_assert_true (g_str_has_prefix (invalid->message, "bad "));
}

/* The text form, byte for byte, and back. */
static void
test_text_round_trip (void)
{
  g_autoptr(GPtrArray) records = g_ptr_array_new_with_free_func (
                                   (GDestroyNotify) pm_log_record_free);
  g_autoptr(GPtrArray) parsed = NULL;
  g_autoptr(GBytes) text = NULL;
  g_autoptr(GError) error = NULL;
  guint64 dropped = 0;
  /* 2026-12-04T07:19:58.000042Z and 2026-12-04T07:20:01.500000Z */
  const gint64 t1 = G_GINT64_CONSTANT (1796368798) * G_USEC_PER_SEC + 42;
  const gint64 t2 = G_GINT64_CONSTANT (1796368801) * G_USEC_PER_SEC + 500000;
  const char expected[] =
    "#postmeter-error-log 1 dropped=3\n"
    "2026-12-04T07:19:58.000042Z WARNING postmeter-net: No connection to "
    "dc.example.com:443\\n(refused)\n"
    "2026-12-04T07:20:01.500000Z CRITICAL -: C:\\\\path\\x09tab \\x1b caf\xc3\xa9\n";

  g_ptr_array_add (records, pm_log_record_new (t1, G_LOG_LEVEL_WARNING, "postmeter-net",
                                               "No connection to dc.example.com:443\n"
                                               "(refused)"));
  g_ptr_array_add (records, pm_log_record_new (t2, G_LOG_LEVEL_CRITICAL, NULL,
                                               "C:\\path\ttab \x1b caf\xc3\xa9"));
  text = pm_log_records_to_text (records, 3);
  g_assert_cmpmem (g_bytes_get_data (text, NULL), g_bytes_get_size (text), expected,
                   sizeof expected - 1);

  parsed = pm_log_records_parse (text, &dropped, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (dropped, ==, 3);
  g_assert_cmpuint (parsed->len, ==, 2);
  for (guint i = 0; i < 2; i++)
    {
      const PmLogRecord *a = records->pdata[i];
      const PmLogRecord *b = parsed->pdata[i];

      g_assert_cmpint (a->time_us, ==, b->time_us);
      g_assert_cmpint (a->level, ==, b->level);
      g_assert_cmpstr (a->domain, ==, b->domain);
      g_assert_cmpstr (a->message, ==, b->message);
    }

  /* An empty log is a header alone. */
  g_clear_pointer (&text, g_bytes_unref);
  g_clear_pointer (&parsed, g_ptr_array_unref);
  g_ptr_array_set_size (records, 0);
  text = pm_log_records_to_text (records, 0);
  g_assert_cmpmem (g_bytes_get_data (text, NULL), g_bytes_get_size (text),
                   "#postmeter-error-log 1 dropped=0\n", 33);
  parsed = pm_log_records_parse (text, &dropped, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (parsed->len, ==, 0);
  g_assert_cmpuint (dropped, ==, 0);
}

/* Every kind of bad log is refused whole, naming the line. */
static void
test_text_bad (void)
{
  static const struct
  {
    const char *text;
    int         code;
    const char *says;
  } cases[] = {
    { "", PM_LOG_ERROR_MALFORMED, "empty or not UTF-8" },
    { "#postmeter-error-log 1 dropped=0", PM_LOG_ERROR_MALFORMED, "does not end with a line" },
    { "#postmeter-error-log 2 dropped=0\n", PM_LOG_ERROR_MALFORMED, "line 1" },
    { "#postmeter-error-log 1 dropped=-1\n", PM_LOG_ERROR_MALFORMED, "line 1" },
    { "2026-12-04T07:19:58.000042Z WARNING a: b\n", PM_LOG_ERROR_MALFORMED, "line 1" },
    { "#postmeter-error-log 1 dropped=0\n2026-12-04T07:19:58Z WARNING a: b\n",
      PM_LOG_ERROR_MALFORMED, "line 2: the time" },
    { "#postmeter-error-log 1 dropped=0\n2026-13-04T07:19:58.000042Z WARNING a: b\n",
      PM_LOG_ERROR_MALFORMED, "line 2: the time" },
    { "#postmeter-error-log 1 dropped=0\n2026-12-04T07:19:58.000042+01:00 WARNING a: b\n",
      PM_LOG_ERROR_MALFORMED, "line 2: the time" },
    { "#postmeter-error-log 1 dropped=0\n2026-12-04T07:19:58.000042Z INFO a: b\n",
      PM_LOG_ERROR_MALFORMED, "line 2: the level" },
    { "#postmeter-error-log 1 dropped=0\n2026-12-04T07:19:58.000042Z WARNING a b\n",
      PM_LOG_ERROR_MALFORMED, "line 2: the domain does not end" },
    { "#postmeter-error-log 1 dropped=0\n2026-12-04T07:19:58.000042Z WARNING a/b: c\n",
      PM_LOG_ERROR_MALFORMED, "line 2: the domain is not" },
    { "#postmeter-error-log 1 dropped=0\n2026-12-04T07:19:58.000042Z WARNING a\n",
      PM_LOG_ERROR_MALFORMED, "line 2: it is not" },
    { "#postmeter-error-log 1 dropped=0\n2026-12-04T07:19:58.000042Z WARNING a: \\q\n",
      PM_LOG_ERROR_MALFORMED, "line 2: the message" },
    { "#postmeter-error-log 1 dropped=0\n2026-12-04T07:19:58.000042Z WARNING a: \\x41\n",
      PM_LOG_ERROR_MALFORMED, "line 2: the message" },
    { "#postmeter-error-log 1 dropped=0\n2026-12-04T07:19:58.000042Z WARNING a: \\x4\n",
      PM_LOG_ERROR_MALFORMED, "line 2: the message" },
    { "#postmeter-error-log 1 dropped=0\n2026-12-04T07:19:58.000042Z WARNING a: x\ty\n",
      PM_LOG_ERROR_MALFORMED, "line 2: the message" },
    { "#postmeter-error-log 1 dropped=0\n2026-12-04T07:19:58.000042Z WARNING a: \\\n",
      PM_LOG_ERROR_MALFORMED, "line 2: the message" },
    { "#postmeter-error-log 1 dropped=0\n2026-12-04T07:19:58.000042Z WARNING a: \xc3\x28\n",
      PM_LOG_ERROR_MALFORMED, "not UTF-8" },
    { "#postmeter-error-log 1 dropped=0\n\n", PM_LOG_ERROR_MALFORMED, "line 2: it is not" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GBytes) text = g_bytes_new_static (cases[i].text, strlen (cases[i].text));
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) records = pm_log_records_parse (text, NULL, &error);
      g_autofree char *shown = g_strescape (cases[i].text, NULL);

      /* Escaped: some cases are not UTF-8, and TAP comments must be. */
      g_test_message ("case %u: %s", i, shown);
      g_assert_null (records);
      g_assert_error (error, PM_LOG_ERROR, cases[i].code);
      if (strstr (error->message, cases[i].says) == NULL)
        g_error ("case %u says “%s”, not “…%s…”", i, error->message, cases[i].says);
    }

  /* More records than any log may hold. */
  {
    g_autoptr(GString) many = g_string_new ("#postmeter-error-log 1 dropped=0\n");
    g_autoptr(GBytes) text = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) records = NULL;

    for (guint i = 0; i <= PM_LOG_MAX_RECORDS; i++)
      g_string_append (many, "2026-12-04T07:19:58.000042Z WARNING a: b\n");
    text = g_bytes_new (many->str, many->len);
    records = pm_log_records_parse (text, NULL, &error);
    g_assert_null (records);
    g_assert_error (error, PM_LOG_ERROR, PM_LOG_ERROR_TOO_LARGE);
  }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/core/log/ring/bounded", test_ring_bounded);
  g_test_add_func ("/core/log/ring/levels", test_ring_levels);
  g_test_add_func ("/core/log/ring/writer", test_writer);
  g_test_add_func ("/core/log/message-bounded", test_message_bounded);
  g_test_add_func ("/core/log/text/round-trip", test_text_round_trip);
  g_test_add_func ("/core/log/text/bad", test_text_bad);

  return g_test_run ();
}
