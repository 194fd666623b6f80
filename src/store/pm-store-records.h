/* pm-store-records.h: cost accounts, refills, installed packages and business settings
 *
 * Blocking calls for worker threads and tools, with _async forms for what the kiosk
 * lists. Device settings live in GSettings; only business rules live here.
 */
#pragma once

#include "pm-money.h"
#include "pm-store.h"

G_BEGIN_DECLS

/* ---- Cost accounts ---- */

#define PM_COST_ACCOUNT_GENERAL_ID      1   /* created by the first migration */
#define PM_COST_ACCOUNT_NAME_MAX        75  /* characters */
#define PM_COST_ACCOUNT_DESCRIPTION_MAX 150
#define PM_COST_ACCOUNT_CODE_MAX        32

typedef struct
{
  gint64    id;
  gint64    parent_id;      /* 0 for a top-level account */
  char     *code;
  char     *name;
  char     *description;    /* never NULL once read */
  gboolean  active;
  gint64    created;        /* seconds since the epoch */
} PmCostAccount;

void pm_cost_account_free (PmCostAccount *account);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmCostAccount, pm_cost_account_free)

/* Sets account->id. PM_STORE_ERROR_INVALID for a bad name, description, code or
 * parent; PM_STORE_ERROR_CONSTRAINT when the code is taken. */
gboolean   pm_store_add_cost_account        (PmStore        *store,
                                             PmCostAccount  *account,
                                             GError        **error);
/* General cannot be disabled: mail always has an account to go to. */
gboolean   pm_store_set_cost_account_active (PmStore        *store,
                                             gint64          account_id,
                                             gboolean        active,
                                             GError        **error);
/* A GPtrArray of PmCostAccount, by code. */
GPtrArray *pm_store_list_cost_accounts      (PmStore        *store,
                                             gboolean        active_only,
                                             GError        **error);
void       pm_store_list_cost_accounts_async  (PmStore             *store,
                                               gboolean             active_only,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
GPtrArray *pm_store_list_cost_accounts_finish (PmStore             *store,
                                               GAsyncResult        *result,
                                               GError             **error);

/* ---- Refills ---- */

typedef struct
{
  gint64   id;
  char    *psd_serial;
  gint64   sequence;     /* the refill's sequence number, strictly increasing */
  PmMills  amount;
  char    *receipt;      /* may be NULL */
  gint64   applied_at;   /* µs; set by the store when 0 */
} PmRefill;

void pm_refill_free (PmRefill *refill);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmRefill, pm_refill_free)

/* Records an applied refill. The same (psd_serial, sequence) again with the same
 * amount sets *out_already and changes nothing; with another amount it is refused
 * (PM_STORE_ERROR_CONSTRAINT). */
gboolean   pm_store_record_refill           (PmStore        *store,
                                             PmRefill       *refill,
                                             gboolean       *out_already,
                                             GError        **error);
/* Newest first, at most @limit: a GPtrArray of PmRefill. */
GPtrArray *pm_store_list_refills            (PmStore        *store,
                                             guint           limit,
                                             GError        **error);

/* ---- Installed packages ---- */

typedef struct
{
  gint64   id;
  char    *type;          /* "rates", "graphics", "software", ... */
  char    *version;
  char    *sha256;        /* 64 hex digits */
  char    *path;
  guint32  effective;     /* YYYYMMDD */
  gint64   installed_at;  /* µs; set by the store when 0 */
} PmInstalledPackage;

void pm_installed_package_free (PmInstalledPackage *package);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmInstalledPackage, pm_installed_package_free)

/* The same type and version again with the same hash updates the path (a move); with
 * another hash it is refused (PM_STORE_ERROR_CONSTRAINT). */
gboolean   pm_store_record_installed_package (PmStore             *store,
                                              PmInstalledPackage  *package,
                                              GError             **error);
/* @type NULL for every type; ordered by type, then effective date, then install. */
GPtrArray *pm_store_list_installed_packages  (PmStore             *store,
                                              const char          *type,
                                              GError             **error);

/* ---- Business settings ---- */

#define PM_STORE_SETTING_LOW_FUNDS_MILLS      "low-funds-threshold-mills"
#define PM_STORE_SETTING_KEY_IN_CONFIRM_MILLS "key-in-confirm-threshold-mills"

/* *out_value gets @default_value when the setting was never set. */
gboolean   pm_store_get_setting_int         (PmStore        *store,
                                             const char     *key,
                                             gint64          default_value,
                                             gint64         *out_value,
                                             GError        **error);
/* Also writes a setting-changed row to the audit log, naming @user_id (0: none). */
gboolean   pm_store_set_setting_int         (PmStore        *store,
                                             const char     *key,
                                             gint64          value,
                                             gint64          user_id,
                                             GError        **error);
void       pm_store_get_setting_int_async   (PmStore             *store,
                                             const char          *key,
                                             gint64               default_value,
                                             GCancellable        *cancellable,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data);
gboolean   pm_store_get_setting_int_finish  (PmStore             *store,
                                             GAsyncResult        *result,
                                             gint64              *out_value,
                                             GError             **error);
/* The same as pm_store_set_setting_int(), on the store's thread. */
void       pm_store_set_setting_int_async   (PmStore             *store,
                                             const char          *key,
                                             gint64               value,
                                             gint64               user_id,
                                             GCancellable        *cancellable,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data);
gboolean   pm_store_set_setting_int_finish  (PmStore             *store,
                                             GAsyncResult        *result,
                                             GError             **error);

G_END_DECLS
