/* pm-dc-server.h: the reference data center
 *
 * One object holds the data center's SQLite database, its provider signing key and its
 * HTTP servers: TLS for every service, and plain HTTP for the 204 connectivity check only.
 * The command-line tool and the tests drive the same object; tests run it in-process on a
 * thread of their own. All calls on one server must come from the thread whose
 * thread-default main context was current at pm_dc_server_listen ().
 */
#pragma once

#include <gio/gio.h>

#include "pm-money.h"

G_BEGIN_DECLS

#define PM_DC_ERROR (pm_dc_error_quark ())

typedef enum
{
  PM_DC_ERROR_DATABASE,
  PM_DC_ERROR_KEYS,          /* the folder lacks the keys `init` makes */
  PM_DC_ERROR_NOT_FOUND,
  PM_DC_ERROR_EXISTS,
  PM_DC_ERROR_INVALID,
  PM_DC_ERROR_LISTEN,
} PmDcError;

GQuark pm_dc_error_quark (void);

#define PM_TYPE_DC_SERVER (pm_dc_server_get_type ())
G_DECLARE_FINAL_TYPE (PmDcServer, pm_dc_server, PM, DC_SERVER, GObject)

/* directory: made by pm_dc_pki_create (); the database is created there on first use. */
PmDcServer *pm_dc_server_new              (const char  *directory,
                                           GError     **error);
/* Ports 0 pick free ports; http_port < 0 serves no plain HTTP. */
gboolean    pm_dc_server_listen           (PmDcServer  *self,
                                           const char  *address,
                                           int          https_port,
                                           int          http_port,
                                           GError     **error);
guint       pm_dc_server_get_https_port   (PmDcServer  *self);
guint       pm_dc_server_get_http_port    (PmDcServer  *self);
/* The address machines are told to use (the host given at init). */
const char *pm_dc_server_get_host         (PmDcServer  *self);
void        pm_dc_server_disconnect       (PmDcServer  *self);

/* Provider-side administration. */
gboolean    pm_dc_server_register_device  (PmDcServer  *self,
                                           guint32      psd_serial,
                                           const char  *psd_public_key_pem,
                                           const char  *account,
                                           guint32      origin_zip,
                                           char       **out_device_id,
                                           GError     **error);
gboolean    pm_dc_server_fund_account     (PmDcServer  *self,
                                           const char  *account,
                                           PmMills      amount,
                                           PmMills     *out_balance,
                                           GError     **error);
gboolean    pm_dc_server_get_balance      (PmDcServer  *self,
                                           const char  *account,
                                           PmMills     *out_balance,
                                           GError     **error);
/* Refill limits for every account (defaults: $1.00 to $10,000.00). */
void        pm_dc_server_set_refill_limits (PmDcServer *self,
                                            PmMills     minimum,
                                            PmMills     maximum);
gboolean    pm_dc_server_publish_package  (PmDcServer  *self,
                                           const char  *file,
                                           const char  *type,
                                           const char  *name,
                                           gint64       version,
                                           const char  *effective,
                                           GError     **error);
/* One line per device: device, records held, highest contiguous sequence, batches. */
char       *pm_dc_server_describe_uploads (PmDcServer  *self,
                                           GError     **error);
/* The error logs machines sent from their service menu, newest first, each with its
 * records in the error log's text form (pm-log.h); device_id NULL for every device. */
char       *pm_dc_server_describe_error_logs (PmDcServer  *self,
                                              const char  *device_id,
                                              GError     **error);
/* The records of a device's latest error log, oldest first (PmLogRecord); NULL when it
 * sent none. */
GPtrArray  *pm_dc_server_get_latest_error_log (PmDcServer *self,
                                               const char *device_id,
                                               guint64    *out_dropped);
/* For tests and benchmarks: records held for a device, and how many seq values appear
 * more than once (always 0: (device, seq) is unique). */
gint64      pm_dc_server_count_records    (PmDcServer  *self,
                                           const char  *device_id,
                                           gint64      *out_min_seq,
                                           gint64      *out_max_seq);
gint64      pm_dc_server_count_batches    (PmDcServer  *self,
                                           const char  *device_id);

G_END_DECLS
