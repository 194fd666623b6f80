/* pm-download-flow.h: rate, graphics and software packages from the data center
 *
 * A run fetches the signed manifest, and for each package newer than the one installed:
 * fetches it with progress (resuming a partial file), checks it (signature, length, hash,
 * version, expiry), installs it, records it in the store and confirms it to the data
 * center. A rate package whose effective date is still ahead is staged in
 * install_dir/pending and swapped in on that date by pm_download_flow_activate_async ();
 * until then, and whenever a download fails, the installed package stays in force.
 */
#pragma once

#include "pm-connection.h"

G_BEGIN_DECLS

/* Called on the caller's context while a package arrives. */
typedef void (*PmDownloadProgressFunc) (const PmManifestPackage *package,
                                        guint                    index,   /* 0-based */
                                        guint                    count,   /* to fetch */
                                        gint64                   received,
                                        gint64                   total,
                                        gpointer                 user_data);

typedef struct
{
  guint      fetched;     /* packages downloaded and checked */
  guint      installed;   /* in force now */
  guint      staged;      /* waiting for their effective date */
  GPtrArray *names;       /* of char *: "rates usps-domestic 3 (from 2026-07-12)" */
} PmDownloadOutcome;

void pm_download_outcome_free (PmDownloadOutcome *outcome);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmDownloadOutcome, pm_download_outcome_free)

void               pm_download_flow_run_async   (PmConnection           *connection,
                                                 PmDownloadProgressFunc  progress,
                                                 gpointer                progress_data,
                                                 GDestroyNotify          progress_destroy,
                                                 GCancellable           *cancellable,
                                                 GAsyncReadyCallback     callback,
                                                 gpointer                user_data);
PmDownloadOutcome *pm_download_flow_run_finish  (PmConnection           *connection,
                                                 GAsyncResult           *result,
                                                 GError                **error);

/* Swaps in every staged package whose effective date has come (by pm_clock's local
 * date). Returns how many were activated. */
void     pm_download_flow_activate_async  (PmConnection        *connection,
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data);
guint    pm_download_flow_activate_finish (PmConnection        *connection,
                                           GAsyncResult        *result,
                                           GError             **error);

/* The version installed in force for type and name (0 for none), and the one staged
 * (0 for none). Blocking file reads: call from a worker thread. */
gint64   pm_download_flow_installed_version (const char *install_dir,
                                             const char *type,
                                             const char *name,
                                             gint64     *out_staged_version);

G_END_DECLS
