/* pm-printer-test-util.h: what the printer tests share: documents with real content and a
 * way to wait for a job on the test's main context */
#pragma once

#include "pm-printer.h"
#include "pm-print-document.h"

G_BEGIN_DECLS

typedef struct
{
  GArray   *states;    /* PmPrintJobState, in the order job-changed announced them */
  gboolean  finished;
  gboolean  ok;
  GError   *error;
} PmTestJobRun;

/* Submits and iterates the default main context until the job is done or failed (or a
 * generous time limit passes, which fails the test). */
gboolean    pm_test_run_job           (PmPrinter     *printer,
                                       PmPrintJob    *job,
                                       PmTestJobRun  *run);
void        pm_test_job_run_clear     (PmTestJobRun  *run);

/* A valid 22-digit IMpb tracking number: the 21-digit prefix and its mod-10 check digit. */
char       *pm_test_tracking_number   (const char    *prefix21);
/* A label whose recipient holds a ^ and a ~, as some addresses do. */
PmLabel    *pm_test_make_label        (void);
/* A signed specimen indicium from a key made for the test, and its postage impression. */
GBytes     *pm_test_make_indicium     (guint32        postage_mills);
/* A small PNG graphic (a framed slogan plate). */
GBytes     *pm_test_make_graphic_png  (void);

G_END_DECLS
