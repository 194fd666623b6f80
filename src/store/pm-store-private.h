/* pm-store-private.h: what the store's own files share */
#pragma once

#include "pm-store.h"

G_BEGIN_DECLS

/* Like pm_store_run_async(), but the finish call hands back @data (owned by the task,
 * valid until the GAsyncResult is released) so typed calls can read their results. */
void     pm_store_call_async   (PmStore             *self,
                                PmStoreWork          work,
                                gpointer             data,
                                GDestroyNotify       destroy,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data,
                                gpointer             source_tag);
gpointer pm_store_call_finish  (PmStore             *self,
                                GAsyncResult        *result,
                                gpointer             source_tag,
                                GError             **error);

/* pm-store-schema.c: brings the schema from its current version up to @target. */
gboolean pm_store_schema_migrate (sqlite3  *db,
                                  int       target,
                                  GError  **error);
int      pm_store_schema_get_version (sqlite3 *db,
                                      GError **error);

G_END_DECLS
