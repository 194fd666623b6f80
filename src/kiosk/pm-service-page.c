/* pm-service-page.c: the Service page; main thread only */
#include "pm-service-page.h"

#include <adwaita.h>
#include <glib/gi18n.h>

struct _PmServicePage
{
  GtkWidget  parent_instance;

  /* Template children. */
  GtkWidget *status_page;
  GtkWidget *todo_label;
  GtkWidget *details_label;
};

G_DEFINE_FINAL_TYPE (PmServicePage, pm_service_page, GTK_TYPE_WIDGET)

static void
pm_service_page_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), PM_TYPE_SERVICE_PAGE);

  /* Template children that no field points at are still ours to drop. */
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (object));
       child != NULL;
       child = gtk_widget_get_first_child (GTK_WIDGET (object)))
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (pm_service_page_parent_class)->dispose (object);
}

static void
pm_service_page_class_init (PmServicePageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = pm_service_page_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/postmeter/Kiosk/pm-service-page.ui");
  gtk_widget_class_bind_template_child (widget_class, PmServicePage, status_page);
  gtk_widget_class_bind_template_child (widget_class, PmServicePage, todo_label);
  gtk_widget_class_bind_template_child (widget_class, PmServicePage, details_label);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "servicepage");
}

static void
pm_service_page_init (PmServicePage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

/**
 * pm_service_page_set_problem:
 * @what_happened: one or two sentences for the person at the machine
 * @what_to_do: the next step, in plain words
 * @details: (nullable): the technical message, for the support engineer
 */
void
pm_service_page_set_problem (PmServicePage *self,
                             const char    *what_happened,
                             const char    *what_to_do,
                             const char    *details)
{
  g_autofree char *details_text = NULL;

  g_return_if_fail (PM_IS_SERVICE_PAGE (self));
  g_return_if_fail (what_happened != NULL);
  g_return_if_fail (what_to_do != NULL);

  adw_status_page_set_description (ADW_STATUS_PAGE (self->status_page), what_happened);
  gtk_label_set_text (GTK_LABEL (self->todo_label), what_to_do);

  if (details != NULL)
    details_text = g_strdup_printf (_("For support: %s"), details);
  gtk_label_set_text (GTK_LABEL (self->details_label), details_text != NULL ? details_text : "");
  gtk_widget_set_visible (self->details_label, details != NULL);
}

const char *
pm_service_page_get_what_happened (PmServicePage *self)
{
  g_return_val_if_fail (PM_IS_SERVICE_PAGE (self), NULL);

  return adw_status_page_get_description (ADW_STATUS_PAGE (self->status_page));
}
