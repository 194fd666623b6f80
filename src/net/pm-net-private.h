/* pm-net-private.h: helpers shared by the service files of src/net; not installed */
#pragma once

#include "pm-net-client.h"

G_BEGIN_DECLS

#define PM_NET_XML_TYPE "application/xml"

/* A protocol failure in the data center's answer, in the net domain, with context. */
GError *pm_net_protocol_error (const char   *what,
                               const GError *cause);

G_END_DECLS
