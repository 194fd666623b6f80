/* pm-log.h: where Postmeter's log messages go */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

void pm_log_init (void);

G_END_DECLS
