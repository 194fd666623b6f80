/* pm-connection-test-page.h: Test connection, for the IT administrator
 *
 * Lists every data center service with its host, port and address, and the result of
 * each step (allowlist, DNS, TCP, TLS, HTTP) with what was seen and what to change. The
 * test runs each time the page is shown and again on connection-test.run.
 */
#pragma once

#include <gtk/gtk.h>

#include "pm-connection.h"

G_BEGIN_DECLS

#define PM_TYPE_CONNECTION_TEST_PAGE (pm_connection_test_page_get_type ())
G_DECLARE_FINAL_TYPE (PmConnectionTestPage, pm_connection_test_page, PM, CONNECTION_TEST_PAGE,
                      GtkWidget)

void        pm_connection_test_page_set_connection (PmConnectionTestPage *self,
                                                    PmConnection         *connection,
                                                    const char           *problem);
void        pm_connection_test_page_run            (PmConnectionTestPage *self);

/* For tests: TRUE while the test runs; the results of the last run (of PmProbeResult),
 * NULL before the first; the summary sentence. */
gboolean    pm_connection_test_page_is_running     (PmConnectionTestPage *self);
GPtrArray  *pm_connection_test_page_get_results    (PmConnectionTestPage *self);
const char *pm_connection_test_page_get_summary    (PmConnectionTestPage *self);

G_END_DECLS
