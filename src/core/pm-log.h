/* pm-log.h: where Postmeter's log messages go, and the recent faults kept for support
 *
 * Besides the journal, the log writer keeps the program's latest warnings and errors in a
 * bounded ring in memory, so support can ask for them from the service menu and send them
 * to the provider. Nothing below WARNING goes in. Messages are never meant to hold an
 * access code, a key or any other secret (see STYLE.md), so the ring holds none either.
 *
 * The error log's text form, one line per record after a header line, is what the machine
 * sends (inside a health record) and what the data center checks on receipt:
 *
 *   #postmeter-error-log 1 dropped=N
 *   2026-12-04T07:19:58.123456Z WARNING postmeter-net: message
 *
 * Time in UTC with microseconds; level WARNING, CRITICAL or ERROR; the log domain, or "-";
 * the message with "\" written "\\", a line break "\n", and any other control character
 * "\xNN". dropped counts older records the ring had no room for.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define PM_LOG_ERROR (pm_log_error_quark ())

typedef enum
{
  PM_LOG_ERROR_MALFORMED,     /* an error log that does not follow the text form */
  PM_LOG_ERROR_TOO_LARGE,
} PmLogError;

GQuark pm_log_error_quark (void);

/* How many records the ring keeps unless told otherwise, and the longest message kept
 * (longer ones are cut at a character boundary and marked with "…"). */
#define PM_LOG_RING_DEFAULT_CAPACITY  200
#define PM_LOG_MESSAGE_MAX_BYTES      1024
/* The most records an error log may hold, on either side. */
#define PM_LOG_MAX_RECORDS            1000

typedef struct
{
  gint64          time_us;    /* wall clock, µs since 1970 UTC */
  GLogLevelFlags  level;      /* G_LOG_LEVEL_ERROR, _CRITICAL or _WARNING */
  char           *domain;     /* NULL when the message had none */
  char           *message;
} PmLogRecord;

void             pm_log_init              (void);

/* The writer pm_log_init () installs: the journal or the standard streams, and the ring.
 * Public so a program or test with a writer of its own can chain to it. */
GLogWriterOutput pm_log_writer            (GLogLevelFlags   log_level,
                                           const GLogField *fields,
                                           gsize            n_fields,
                                           gpointer         user_data);

/* The ring. Any thread may call these. */
void             pm_log_ring_add          (GLogLevelFlags   level,
                                           const char      *domain,
                                           const char      *message);
void             pm_log_ring_set_capacity (guint            capacity);
guint            pm_log_ring_get_capacity (void);
void             pm_log_ring_clear        (void);
/* A copy of the records, oldest first; out_dropped: how many older ones were pushed out
 * since the last clear. */
GPtrArray       *pm_log_ring_snapshot     (guint64         *out_dropped);

PmLogRecord     *pm_log_record_new        (gint64           time_us,
                                           GLogLevelFlags   level,
                                           const char      *domain,
                                           const char      *message);
void             pm_log_record_free       (PmLogRecord     *record);
const char      *pm_log_level_to_string   (GLogLevelFlags   level);

/* The text form above. parse checks every line and refuses the whole log on the first
 * fault, saying which line. */
GBytes          *pm_log_records_to_text   (GPtrArray       *records,
                                           guint64          dropped);
GPtrArray       *pm_log_records_parse     (GBytes          *text,
                                           guint64         *out_dropped,
                                           GError         **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmLogRecord, pm_log_record_free)

G_END_DECLS
