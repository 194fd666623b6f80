/* pm-clock.h: the one source of "now" for every layer
 *
 * Everything that depends on the time (lockouts, the PSD watchdog, the date of mailing,
 * upload deadlines) asks this clock, so tests can move time without touching the system.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

gint64     pm_clock_now_us          (void);
gint64     pm_clock_now_s           (void);
GDateTime *pm_clock_now_local       (void);
GDate     *pm_clock_today_local     (void);

void       pm_clock_set_override_us (gint64 now_us);
void       pm_clock_clear_override  (void);
void       pm_clock_advance_s       (gint64 seconds);

G_END_DECLS
