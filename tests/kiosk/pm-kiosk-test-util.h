/* pm-kiosk-test-util.h: the plumbing the kiosk test programs share
 *
 * A private session bus, a private Xvfb on a display it picks (-displayfd), waiting on
 * the main context, actions, screenshots and state folder clean-up. Each test program
 * keeps its own application, state folder and timeouts.
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

typedef gboolean (*PmKioskTestCondition) (gpointer data);

void         pm_kiosk_test_start_session  (void);
gboolean     pm_kiosk_test_start_xvfb     (GError **error);
const char  *pm_kiosk_test_skip_reason    (void);
void         pm_kiosk_test_stop_session   (void);

gboolean     pm_kiosk_test_wait_until     (PmKioskTestCondition  condition,
                                           gpointer              data,
                                           guint                 timeout_s);
void         pm_kiosk_test_spin_for_ms    (guint                 ms);
void         pm_kiosk_test_act            (GtkWidget            *widget,
                                           const char           *action,
                                           const char           *string_parameter);
void         pm_kiosk_test_save_screenshot (GtkWidget           *widget,
                                            const char          *name);
void         pm_kiosk_test_remove_tree    (const char           *path);

G_END_DECLS
