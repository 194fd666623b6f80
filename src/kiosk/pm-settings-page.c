/* pm-settings-page.c: Settings; main thread only */
#include "pm-settings-page.h"

#include <adwaita.h>
#include <glib/gi18n.h>

#include "pm-settings-keys.h"

struct _PmSettingsPage
{
  GtkWidget  parent_instance;

  GSettings *settings;  /* owned; main thread */

  /* Template children. */
  GtkWidget *users_group;
  GtkWidget *service_group;
  GtkWidget *idle_spin;
  GtkWidget *idle_row;
  GtkWidget *version_row;
  GtkWidget *state_dir_row;
};

G_DEFINE_FINAL_TYPE (PmSettingsPage, pm_settings_page, GTK_TYPE_WIDGET)

static void
pm_settings_page_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), PM_TYPE_SETTINGS_PAGE);

  /* Template children that no field points at are still ours to drop. */
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (object));
       child != NULL;
       child = gtk_widget_get_first_child (GTK_WIDGET (object)))
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (pm_settings_page_parent_class)->dispose (object);
}

static void
pm_settings_page_finalize (GObject *object)
{
  PmSettingsPage *self = PM_SETTINGS_PAGE (object);

  g_clear_object (&self->settings);

  G_OBJECT_CLASS (pm_settings_page_parent_class)->finalize (object);
}

static void
pm_settings_page_class_init (PmSettingsPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = pm_settings_page_dispose;
  object_class->finalize = pm_settings_page_finalize;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/postmeter/Kiosk/pm-settings-page.ui");
  gtk_widget_class_bind_template_child (widget_class, PmSettingsPage, users_group);
  gtk_widget_class_bind_template_child (widget_class, PmSettingsPage, service_group);
  gtk_widget_class_bind_template_child (widget_class, PmSettingsPage, idle_spin);
  gtk_widget_class_bind_template_child (widget_class, PmSettingsPage, idle_row);
  gtk_widget_class_bind_template_child (widget_class, PmSettingsPage, version_row);
  gtk_widget_class_bind_template_child (widget_class, PmSettingsPage, state_dir_row);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
pm_settings_page_init (PmSettingsPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->settings = g_settings_new (PM_SETTINGS_SCHEMA);
  g_settings_bind (self->settings, PM_SETTINGS_IDLE_LOCK_SECONDS,
                   gtk_spin_button_get_adjustment (GTK_SPIN_BUTTON (self->idle_spin)),
                   "value", G_SETTINGS_BIND_DEFAULT);

  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->version_row), PM_VERSION);
  pm_settings_page_set_user (self, NULL);
}

/* Only supervisors see Users and may change the screen lock; only support staff see the
 * service tools. */
void
pm_settings_page_set_user (PmSettingsPage *self,
                           const PmUser   *user)
{
  gboolean supervisor;

  g_return_if_fail (PM_IS_SETTINGS_PAGE (self));

  supervisor = user != NULL && user->role == PM_ROLE_SUPERVISOR;
  gtk_widget_set_visible (self->users_group, supervisor);
  gtk_widget_set_visible (self->service_group, user != NULL && user->role == PM_ROLE_SUPPORT);
  gtk_widget_set_sensitive (self->idle_spin, supervisor);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->idle_row),
                               supervisor
                               ? _("Seconds without a touch before the meter locks itself.")
                               : _("Seconds without a touch before the meter locks itself. "
                                   "Only a supervisor can change this."));
}

void
pm_settings_page_set_state_dir (PmSettingsPage *self,
                                const char     *state_dir)
{
  g_return_if_fail (PM_IS_SETTINGS_PAGE (self));

  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->state_dir_row),
                               state_dir != NULL ? state_dir : "");
}

gboolean
pm_settings_page_get_users_visible (PmSettingsPage *self)
{
  g_return_val_if_fail (PM_IS_SETTINGS_PAGE (self), FALSE);

  return gtk_widget_get_visible (self->users_group);
}
