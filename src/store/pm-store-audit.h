/* pm-store-audit.h: the append-only audit log
 *
 * Sign-ins, failed codes, lockouts, user changes and other events a supervisor or
 * auditor must be able to trust are appended here. Each row carries the SHA-256 of the
 * row before it and its own SHA-256, both over a canonical encoding:
 *
 *   for each of id, at_us, event, user_id ("" when none), detail, prev_hash in turn,
 *   the field's decimal or UTF-8 text as "<byte length>:<text>;"
 *
 * The first row's prev_hash is 64 zeros. Triggers refuse UPDATE and DELETE, and
 * pm_store_verify_audit_log() walks the whole chain and names the first row that does
 * not fit, so a row edited or removed by other means is found.
 *
 * TODO: removing the newest rows together leaves a chain that still verifies; closing
 * that needs the head of the chain kept outside this database (the data center or the
 * PSD), which the upload work can add.
 */
#pragma once

#include "pm-store.h"

G_BEGIN_DECLS

/* Event names, as stored. */
#define PM_AUDIT_SIGN_IN        "sign-in"
#define PM_AUDIT_SIGN_OUT       "sign-out"
#define PM_AUDIT_WRONG_CODE     "wrong-code"
#define PM_AUDIT_LOCKOUT        "lockout"
#define PM_AUDIT_USER_ADDED     "user-added"
#define PM_AUDIT_USER_ENABLED   "user-enabled"
#define PM_AUDIT_USER_DISABLED  "user-disabled"
#define PM_AUDIT_USER_RECODED   "user-recoded"
#define PM_AUDIT_FIRST_START    "first-start"
#define PM_AUDIT_SETTING        "setting-changed"

typedef struct
{
  gint64  id;
  gint64  at_us;      /* microseconds since the epoch, from pm_clock */
  char   *event;
  gint64  user_id;    /* 0 when no user was signed in */
  char   *detail;
  char   *prev_hash;  /* 64 hex digits */
  char   *row_hash;   /* 64 hex digits */
} PmAuditEntry;

void pm_audit_entry_free (PmAuditEntry *entry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmAuditEntry, pm_audit_entry_free)

/* Inside a work function (store thread): appends one row in the caller's transaction,
 * so the event commits or rolls back with the change it records. @user_id 0 for none;
 * @detail may be NULL. Never put an access code in @detail. */
gboolean   pm_store_audit_append        (sqlite3      *db,
                                         const char   *event,
                                         gint64        user_id,
                                         const char   *detail,
                                         GError      **error);

/* Inside a work function: checks the whole chain. On a break, returns FALSE with
 * PM_STORE_ERROR_AUDIT_CHAIN_BROKEN and sets *out_first_broken to the row's id. */
gboolean   pm_store_audit_verify        (sqlite3      *db,
                                         gint64       *out_rows,
                                         gint64       *out_first_broken,
                                         GError      **error);

/* Blocking forms, for worker threads and tools. */
gboolean   pm_store_append_audit        (PmStore      *store,
                                         const char   *event,
                                         gint64        user_id,
                                         const char   *detail,
                                         GError      **error);
/* The same without blocking, for the main thread; the callback may be NULL. */
void       pm_store_append_audit_async  (PmStore             *store,
                                         const char          *event,
                                         gint64               user_id,
                                         const char          *detail,
                                         GCancellable        *cancellable,
                                         GAsyncReadyCallback  callback,
                                         gpointer             user_data);
gboolean   pm_store_append_audit_finish (PmStore             *store,
                                         GAsyncResult        *result,
                                         GError             **error);
gboolean   pm_store_verify_audit_log    (PmStore      *store,
                                         gint64       *out_rows,
                                         gint64       *out_first_broken,
                                         GError      **error);
/* Rows with id > @after_id, oldest first, at most @limit: a GPtrArray of PmAuditEntry. */
GPtrArray *pm_store_list_audit          (PmStore      *store,
                                         gint64        after_id,
                                         guint         limit,
                                         GError      **error);

void       pm_store_verify_audit_log_async  (PmStore             *store,
                                             GCancellable        *cancellable,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data);
gboolean   pm_store_verify_audit_log_finish (PmStore             *store,
                                             GAsyncResult        *result,
                                             gint64              *out_rows,
                                             gint64              *out_first_broken,
                                             GError             **error);

G_END_DECLS
