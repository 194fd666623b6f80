/* pm-service-page.c: the Service page; main thread only */
#include "pm-service-page.h"

#include <adwaita.h>
#include <glib/gi18n.h>

struct _PmServicePage
{
  GtkWidget  parent_instance;

  /* Template children. */
  GtkWidget *status_page;
  GtkWidget *fault_box;
  GtkWidget *todo_label;
  GtkWidget *details_label;
  GtkWidget *log_status_label;

  /* Owned; main thread. */
  PmConnection *connection;     /* NULL: connection_problem says why */
  char         *connection_problem;
  GCancellable *cancellable;    /* the send in flight; cancelled when the page goes */
  gboolean      fault;
  gboolean      sending;
};

G_DEFINE_FINAL_TYPE (PmServicePage, pm_service_page, GTK_TYPE_WIDGET)

static void
pm_service_page_dispose (GObject *object)
{
  PmServicePage *self = PM_SERVICE_PAGE (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->connection);
  g_clear_pointer (&self->connection_problem, g_free);

  gtk_widget_dispose_template (GTK_WIDGET (object), PM_TYPE_SERVICE_PAGE);

  /* Template children that no field points at are still ours to drop. */
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (object));
       child != NULL;
       child = gtk_widget_get_first_child (GTK_WIDGET (object)))
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (pm_service_page_parent_class)->dispose (object);
}

/* Send error log --------------------------------------------------------------------------- */

static void
show_log_status (PmServicePage *self,
                 const char    *text,
                 gboolean       failure)
{
  gtk_label_set_text (GTK_LABEL (self->log_status_label), text);
  gtk_widget_remove_css_class (self->log_status_label, "success");
  gtk_widget_remove_css_class (self->log_status_label, "error");
  if (!self->sending)
    gtk_widget_add_css_class (self->log_status_label, failure ? "error" : "success");
  gtk_widget_set_visible (self->log_status_label, text != NULL);
}

static void
set_sending (PmServicePage *self,
             gboolean       sending)
{
  self->sending = sending;
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "service.send-error-log", !sending);
}

static void
error_log_sent_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(PmServicePage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  guint sent = 0;

  if (!pm_connection_send_error_log_finish (PM_CONNECTION (source), result, &sent, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      set_sending (self, FALSE);
      g_message ("Error log not sent: %s", error->message);
      text = g_strdup_printf (_("The error log was not sent: %s"), error->message);
      show_log_status (self, text, TRUE);
      return;
    }

  set_sending (self, FALSE);
  if (sent == 0)
    {
      show_log_status (self, _("There is nothing to send: the meter has logged no warnings "
                               "or errors since it started."), FALSE);
      return;
    }
  text = g_strdup_printf (ngettext ("The error log was sent to the provider: %u warning or "
                                    "error.",
                                    "The error log was sent to the provider: %u warnings "
                                    "and errors.", sent), sent);
  show_log_status (self, text, FALSE);
}

static void
send_error_log_action (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *parameter)
{
  PmServicePage *self = PM_SERVICE_PAGE (widget);
  g_autofree char *text = NULL;

  if (self->sending)
    return;

  if (self->connection == NULL)
    {
      /* Without a problem named, the connection was never made: the store is not open
       * (the fault this page shows) or the meter is still starting. */
      if (self->connection_problem != NULL)
        text = g_strdup_printf (_("The error log was not sent: the meter has no connection "
                                  "to the data center. %s"), self->connection_problem);
      else
        text = g_strdup (_("The error log was not sent: the meter has no connection to the "
                           "data center."));
      show_log_status (self, text, TRUE);
      return;
    }

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  set_sending (self, TRUE);
  show_log_status (self, _("Sending the error log…"), FALSE);
  pm_connection_send_error_log_async (self->connection, self->cancellable, error_log_sent_cb,
                                      g_object_ref (self));
}

/* Setup ------------------------------------------------------------------------------------ */

static void
pm_service_page_class_init (PmServicePageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = pm_service_page_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/postmeter/Kiosk/pm-service-page.ui");
  gtk_widget_class_bind_template_child (widget_class, PmServicePage, status_page);
  gtk_widget_class_bind_template_child (widget_class, PmServicePage, fault_box);
  gtk_widget_class_bind_template_child (widget_class, PmServicePage, todo_label);
  gtk_widget_class_bind_template_child (widget_class, PmServicePage, details_label);
  gtk_widget_class_bind_template_child (widget_class, PmServicePage, log_status_label);
  gtk_widget_class_install_action (widget_class, "service.send-error-log", NULL,
                                   send_error_log_action);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "servicepage");
}

static void
pm_service_page_init (PmServicePage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->fault = TRUE;
  gtk_widget_add_css_class (GTK_WIDGET (self), "fault");
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

  self->fault = TRUE;
  gtk_widget_add_css_class (GTK_WIDGET (self), "fault");
  adw_status_page_set_icon_name (ADW_STATUS_PAGE (self->status_page),
                                 "dialog-error-symbolic");
  adw_status_page_set_title (ADW_STATUS_PAGE (self->status_page),
                             _("This meter cannot be used right now"));
  adw_status_page_set_description (ADW_STATUS_PAGE (self->status_page), what_happened);
  gtk_label_set_text (GTK_LABEL (self->todo_label), what_to_do);
  gtk_widget_set_visible (self->fault_box, TRUE);

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

void
pm_service_page_show_tools (PmServicePage *self)
{
  g_return_if_fail (PM_IS_SERVICE_PAGE (self));

  self->fault = FALSE;
  gtk_widget_remove_css_class (GTK_WIDGET (self), "fault");
  adw_status_page_set_icon_name (ADW_STATUS_PAGE (self->status_page),
                                 "applications-engineering-symbolic");
  adw_status_page_set_title (ADW_STATUS_PAGE (self->status_page), _("Service"));
  adw_status_page_set_description (ADW_STATUS_PAGE (self->status_page),
                                   _("Tools for support staff. The meter keeps working "
                                     "while this screen is open."));
  gtk_widget_set_visible (self->fault_box, FALSE);
}

gboolean
pm_service_page_is_fault (PmServicePage *self)
{
  g_return_val_if_fail (PM_IS_SERVICE_PAGE (self), FALSE);

  return self->fault;
}

void
pm_service_page_set_connection (PmServicePage *self,
                                PmConnection  *connection,
                                const char    *problem)
{
  g_return_if_fail (PM_IS_SERVICE_PAGE (self));
  g_return_if_fail (connection == NULL || PM_IS_CONNECTION (connection));

  g_set_object (&self->connection, connection);
  g_free (self->connection_problem);
  self->connection_problem = g_strdup (problem);
}

const char *
pm_service_page_get_log_status (PmServicePage *self)
{
  g_return_val_if_fail (PM_IS_SERVICE_PAGE (self), NULL);

  if (!gtk_widget_get_visible (self->log_status_label))
    return NULL;
  return gtk_label_get_text (GTK_LABEL (self->log_status_label));
}

gboolean
pm_service_page_is_sending (PmServicePage *self)
{
  g_return_val_if_fail (PM_IS_SERVICE_PAGE (self), FALSE);

  return self->sending;
}
