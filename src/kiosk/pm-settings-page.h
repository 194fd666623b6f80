/* pm-settings-page.h: Settings
 *
 * Users (supervisors only), the idle screen lock, the printing thresholds (the low-funds
 * warning and the key-in confirmation; supervisors change them, operators only see them),
 * and facts about this meter. What a
 * role may not change is hidden or read-only, never merely refused after a tap.
 */
#pragma once

#include <gtk/gtk.h>

#include "pm-access.h"

G_BEGIN_DECLS

#define PM_TYPE_SETTINGS_PAGE (pm_settings_page_get_type ())
G_DECLARE_FINAL_TYPE (PmSettingsPage, pm_settings_page, PM, SETTINGS_PAGE, GtkWidget)

void     pm_settings_page_set_user          (PmSettingsPage *self,
                                             const PmUser   *user);
void     pm_settings_page_set_state_dir     (PmSettingsPage *self,
                                             const char     *state_dir);
gboolean pm_settings_page_get_users_visible (PmSettingsPage *self);

const char *pm_settings_page_get_printing_message  (PmSettingsPage *self);
const char *pm_settings_page_get_low_funds_text    (PmSettingsPage *self);
const char *pm_settings_page_get_key_in_text       (PmSettingsPage *self);
gboolean    pm_settings_page_get_printing_editable (PmSettingsPage *self);

G_END_DECLS
