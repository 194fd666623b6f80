/* pm-network-page.h: Settings > Network: where the data center is, and how the link is
 *
 * Shows the network status from the connection, the data center and connectivity check
 * addresses (a supervisor may change them; the application connects again), the
 * provider's CA and key files, and the way to the Test connection screen.
 *
 * Actions (group "network", supervisors only): network.set-datacenter-url (s),
 * network.set-connectivity-url (s). An address that is not https:// (data center) or
 * http:// (the check) with a host is refused with a message and changes nothing; an empty
 * one turns the data center off.
 */
#pragma once

#include <gtk/gtk.h>

#include "pm-access.h"
#include "pm-connection.h"

G_BEGIN_DECLS

#define PM_TYPE_NETWORK_PAGE (pm_network_page_get_type ())
G_DECLARE_FINAL_TYPE (PmNetworkPage, pm_network_page, PM, NETWORK_PAGE, GtkWidget)

void        pm_network_page_set_connection (PmNetworkPage *self,
                                            PmConnection  *connection,
                                            const char    *problem);
void        pm_network_page_set_user       (PmNetworkPage *self,
                                            const PmUser  *user);
const char *pm_network_page_get_status_text (PmNetworkPage *self);

G_END_DECLS
