/* pm-funds-page.h: Funds: the postage in the meter, refills, receipts and inspections
 *
 * Shows what the data center connection knows (funds in the PSD, the customer account
 * at the provider, inspection, network, uploads, a download in progress) and lets a
 * supervisor refill by amount within the provider's limits, inspect now and connect now.
 * Every exchange runs through the connection's workflows, off the main thread; the page
 * only shows and asks.
 *
 * Actions (group "funds"): funds.preset (s: dollars), funds.refill, funds.inspect,
 * funds.connect-now.
 */
#pragma once

#include <gtk/gtk.h>

#include "pm-access.h"
#include "pm-connection.h"

G_BEGIN_DECLS

#define PM_TYPE_FUNDS_PAGE (pm_funds_page_get_type ())
G_DECLARE_FINAL_TYPE (PmFundsPage, pm_funds_page, PM, FUNDS_PAGE, GtkWidget)

/* problem: why there is no connection, when connection is NULL. */
void        pm_funds_page_set_connection   (PmFundsPage  *self,
                                            PmConnection *connection,
                                            const char   *problem);
void        pm_funds_page_set_user         (PmFundsPage  *self,
                                            const PmUser *user);
/* Fetches the receipts and re-reads the PSD; called each time the page is shown. */
void        pm_funds_page_refresh          (PmFundsPage  *self);

/* For tests and screenshots. */
void        pm_funds_page_set_amount_text  (PmFundsPage  *self,
                                            const char   *text);
const char *pm_funds_page_get_message      (PmFundsPage  *self);
gboolean    pm_funds_page_is_busy          (PmFundsPage  *self);
guint       pm_funds_page_get_receipt_count (PmFundsPage *self);
const char *pm_funds_page_get_row_text     (PmFundsPage  *self,
                                            const char   *row);

G_END_DECLS
