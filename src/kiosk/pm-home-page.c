/* pm-home-page.c: Home; main thread only
 *
 * Each tile activates win.open-page with the name of its screen, so the window decides
 * what is shown (and a screen that is not built yet says so).
 */
#include "pm-home-page.h"

#include <glib/gi18n.h>

#include "pm-clock.h"

struct _PmHomePage
{
  GtkWidget  parent_instance;

  /* Template children. */
  GtkWidget *greeting_label;
  GtkWidget *tiles;
};

G_DEFINE_FINAL_TYPE (PmHomePage, pm_home_page, GTK_TYPE_WIDGET)

static void
pm_home_page_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), PM_TYPE_HOME_PAGE);

  /* Template children that no field points at are still ours to drop. */
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (object));
       child != NULL;
       child = gtk_widget_get_first_child (GTK_WIDGET (object)))
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (pm_home_page_parent_class)->dispose (object);
}

static void
pm_home_page_class_init (PmHomePageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = pm_home_page_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/postmeter/Kiosk/pm-home-page.ui");
  gtk_widget_class_bind_template_child (widget_class, PmHomePage, greeting_label);
  gtk_widget_class_bind_template_child (widget_class, PmHomePage, tiles);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "homepage");
}

static void
pm_home_page_init (PmHomePage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

void
pm_home_page_set_user (PmHomePage   *self,
                       const PmUser *user)
{
  g_autoptr(GDateTime) now = NULL;
  g_autofree char *greeting = NULL;
  int hour;

  g_return_if_fail (PM_IS_HOME_PAGE (self));

  if (user == NULL)
    {
      gtk_label_set_text (GTK_LABEL (self->greeting_label), "");
      return;
    }

  now = pm_clock_now_local ();
  hour = g_date_time_get_hour (now);
  if (hour < 12)
    greeting = g_strdup_printf (_("Good morning, %s"), user->name);
  else if (hour < 18)
    greeting = g_strdup_printf (_("Good afternoon, %s"), user->name);
  else
    greeting = g_strdup_printf (_("Good evening, %s"), user->name);

  gtk_label_set_text (GTK_LABEL (self->greeting_label), greeting);
}
