/* pm-unbuilt-page.c: the page for screens not in this version; main thread only */
#include "pm-unbuilt-page.h"

#include <adwaita.h>
#include <glib/gi18n.h>

struct _PmUnbuiltPage
{
  GtkWidget  parent_instance;

  GtkWidget *status_page;  /* template child */
};

G_DEFINE_FINAL_TYPE (PmUnbuiltPage, pm_unbuilt_page, GTK_TYPE_WIDGET)

static void
pm_unbuilt_page_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), PM_TYPE_UNBUILT_PAGE);

  /* Template children that no field points at are still ours to drop. */
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (object));
       child != NULL;
       child = gtk_widget_get_first_child (GTK_WIDGET (object)))
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (pm_unbuilt_page_parent_class)->dispose (object);
}

static void
pm_unbuilt_page_class_init (PmUnbuiltPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = pm_unbuilt_page_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/postmeter/Kiosk/pm-unbuilt-page.ui");
  gtk_widget_class_bind_template_child (widget_class, PmUnbuiltPage, status_page);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
pm_unbuilt_page_init (PmUnbuiltPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

void
pm_unbuilt_page_set_screen (PmUnbuiltPage *self,
                            const char    *title,
                            const char    *icon_name)
{
  g_autofree char *description = NULL;

  g_return_if_fail (PM_IS_UNBUILT_PAGE (self));
  g_return_if_fail (title != NULL);

  description = g_strdup_printf (_("“%s” is not available in this version of Postmeter. "
                                   "Nothing was changed by opening it."), title);
  adw_status_page_set_title (ADW_STATUS_PAGE (self->status_page), title);
  adw_status_page_set_description (ADW_STATUS_PAGE (self->status_page), description);
  adw_status_page_set_icon_name (ADW_STATUS_PAGE (self->status_page), icon_name);
}

const char *
pm_unbuilt_page_get_title (PmUnbuiltPage *self)
{
  g_return_val_if_fail (PM_IS_UNBUILT_PAGE (self), NULL);

  return adw_status_page_get_title (ADW_STATUS_PAGE (self->status_page));
}
