/* pm-network-page.c: Settings > Network; main thread only */
#include "pm-network-page.h"

#include <adwaita.h>
#include <glib/gi18n.h>

#include "pm-settings-keys.h"

struct _PmNetworkPage
{
  GtkWidget     parent_instance;

  /* Owned; main thread. */
  GSettings    *settings;
  GSimpleActionGroup *actions;
  PmConnection *connection;
  char         *problem;

  /* Template children. */
  GtkWidget    *status_row;
  GtkWidget    *address_group;
  GtkWidget    *datacenter_row;
  GtkWidget    *connectivity_row;
  GtkWidget    *ca_row;
  GtkWidget    *key_row;
};

G_DEFINE_FINAL_TYPE (PmNetworkPage, pm_network_page, GTK_TYPE_WIDGET)

static void
update (PmNetworkPage *self)
{
  const char *sentence = NULL;

  if (self->connection != NULL)
    pm_connection_get_topic (self->connection, PM_CONNECTION_TOPIC_NETWORK, NULL, &sentence);
  else
    sentence = self->problem;

  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->status_row),
                               sentence != NULL ? sentence : C_("status", "Unknown"));
}

static void
connection_changed_cb (PmConnection  *connection,
                       PmNetworkPage *self)
{
  update (self);
}

static void
show_file_setting (PmNetworkPage *self,
                   GtkWidget     *row,
                   const char    *key)
{
  g_autofree char *path = g_settings_get_string (self->settings, key);

  adw_action_row_set_subtitle (ADW_ACTION_ROW (row),
                               *path != '\0' ? path : _("Not set: call the provider"));
}

static void
settings_changed_cb (GSettings     *settings,
                     const char    *key,
                     PmNetworkPage *self)
{
  g_autofree char *datacenter = g_settings_get_string (settings, PM_SETTINGS_DATACENTER_URL);
  g_autofree char *check = g_settings_get_string (settings, PM_SETTINGS_CONNECTIVITY_URL);

  gtk_editable_set_text (GTK_EDITABLE (self->datacenter_row), datacenter);
  gtk_editable_set_text (GTK_EDITABLE (self->connectivity_row), check);
  show_file_setting (self, self->ca_row, PM_SETTINGS_PROVIDER_CA_FILE);
  show_file_setting (self, self->key_row, PM_SETTINGS_PROVIDER_KEY_FILE);
}

/* Only an address the meter can use is kept: https for the data center, http for the
 * check (it must see the network as it is, without TLS, to find a portal). */
static void
apply_url (PmNetworkPage *self,
           GtkWidget     *row,
           const char    *key,
           const char    *scheme,
           const char    *typed)
{
  g_autofree char *text = g_strstrip (g_strdup (typed));
  g_autoptr(GUri) uri = NULL;
  g_autofree char *message = NULL;
  GtkWidget *window;

  if (*text != '\0')
    uri = g_uri_parse (text, G_URI_FLAGS_NONE, NULL);

  if (*text != '\0' && (uri == NULL || g_strcmp0 (g_uri_get_scheme (uri), scheme) != 0 ||
                        g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0'))
    {
      message = g_strdup_printf (_("“%s” is not an address that starts with %s:// and "
                                   "names a host. Nothing was changed."), text, scheme);
      gtk_widget_add_css_class (row, "error");
    }
  else
    {
      gtk_widget_remove_css_class (row, "error");
      g_settings_set_string (self->settings, key, text);
      message = g_strdup (*text != '\0'
                          ? _("Saved. The meter connects again with the new address.")
                          : _("Saved. Without this address the meter works offline."));
    }

  window = GTK_WIDGET (gtk_widget_get_root (GTK_WIDGET (self)));
  if (window != NULL)
    gtk_widget_activate_action (window, "win.show-toast", "s", message);
}

static void
set_datacenter_url_action (GSimpleAction *action,
                           GVariant      *parameter,
                           gpointer       user_data)
{
  PmNetworkPage *self = PM_NETWORK_PAGE (user_data);

  apply_url (self, self->datacenter_row, PM_SETTINGS_DATACENTER_URL, "https",
             g_variant_get_string (parameter, NULL));
}

static void
set_connectivity_url_action (GSimpleAction *action,
                             GVariant      *parameter,
                             gpointer       user_data)
{
  PmNetworkPage *self = PM_NETWORK_PAGE (user_data);

  apply_url (self, self->connectivity_row, PM_SETTINGS_CONNECTIVITY_URL, "http",
             g_variant_get_string (parameter, NULL));
}

static const GActionEntry network_actions[] = {
  { "set-datacenter-url", set_datacenter_url_action, "s" },
  { "set-connectivity-url", set_connectivity_url_action, "s" },
};

static void
datacenter_apply_cb (PmNetworkPage *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "network.set-datacenter-url", "s",
                              gtk_editable_get_text (GTK_EDITABLE (self->datacenter_row)));
}

static void
connectivity_apply_cb (PmNetworkPage *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "network.set-connectivity-url", "s",
                              gtk_editable_get_text (GTK_EDITABLE (self->connectivity_row)));
}

static void
pm_network_page_dispose (GObject *object)
{
  PmNetworkPage *self = PM_NETWORK_PAGE (object);

  if (self->connection != NULL)
    g_signal_handlers_disconnect_by_data (self->connection, self);
  g_clear_object (&self->connection);
  if (self->settings != NULL)
    g_signal_handlers_disconnect_by_data (self->settings, self);
  g_clear_object (&self->settings);

  gtk_widget_dispose_template (GTK_WIDGET (object), PM_TYPE_NETWORK_PAGE);
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (object));
       child != NULL;
       child = gtk_widget_get_first_child (GTK_WIDGET (object)))
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (pm_network_page_parent_class)->dispose (object);
}

static void
pm_network_page_finalize (GObject *object)
{
  PmNetworkPage *self = PM_NETWORK_PAGE (object);

  g_free (self->problem);
  g_clear_object (&self->actions);

  G_OBJECT_CLASS (pm_network_page_parent_class)->finalize (object);
}

static void
pm_network_page_class_init (PmNetworkPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = pm_network_page_dispose;
  object_class->finalize = pm_network_page_finalize;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/postmeter/Kiosk/pm-network-page.ui");
  gtk_widget_class_bind_template_child (widget_class, PmNetworkPage, status_row);
  gtk_widget_class_bind_template_child (widget_class, PmNetworkPage, address_group);
  gtk_widget_class_bind_template_child (widget_class, PmNetworkPage, datacenter_row);
  gtk_widget_class_bind_template_child (widget_class, PmNetworkPage, connectivity_row);
  gtk_widget_class_bind_template_child (widget_class, PmNetworkPage, ca_row);
  gtk_widget_class_bind_template_child (widget_class, PmNetworkPage, key_row);
  gtk_widget_class_bind_template_callback (widget_class, datacenter_apply_cb);
  gtk_widget_class_bind_template_callback (widget_class, connectivity_apply_cb);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
pm_network_page_init (PmNetworkPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->actions = g_simple_action_group_new ();
  g_action_map_add_action_entries (G_ACTION_MAP (self->actions), network_actions,
                                   G_N_ELEMENTS (network_actions), self);
  gtk_widget_insert_action_group (GTK_WIDGET (self), "network",
                                  G_ACTION_GROUP (self->actions));

  self->settings = g_settings_new (PM_SETTINGS_SCHEMA);
  g_signal_connect (self->settings, "changed", G_CALLBACK (settings_changed_cb), self);
  settings_changed_cb (self->settings, NULL, self);
  pm_network_page_set_user (self, NULL);
  update (self);
}

void
pm_network_page_set_connection (PmNetworkPage *self,
                                PmConnection  *connection,
                                const char    *problem)
{
  g_return_if_fail (PM_IS_NETWORK_PAGE (self));

  g_free (self->problem);
  self->problem = g_strdup (problem);
  if (connection != self->connection)
    {
      if (self->connection != NULL)
        g_signal_handlers_disconnect_by_data (self->connection, self);
      g_set_object (&self->connection, connection);
      if (connection != NULL)
        g_signal_connect_object (connection, "changed", G_CALLBACK (connection_changed_cb),
                                 self, 0);
    }
  update (self);
}

/* Only a supervisor changes where the meter connects. */
void
pm_network_page_set_user (PmNetworkPage *self,
                          const PmUser  *user)
{
  gboolean supervisor;

  g_return_if_fail (PM_IS_NETWORK_PAGE (self));

  supervisor = user != NULL && user->role == PM_ROLE_SUPERVISOR;
  for (guint i = 0; i < G_N_ELEMENTS (network_actions); i++)
    {
      GAction *action = g_action_map_lookup_action (G_ACTION_MAP (self->actions),
                                                    network_actions[i].name);

      g_simple_action_set_enabled (G_SIMPLE_ACTION (action), supervisor);
    }
  gtk_widget_set_sensitive (self->datacenter_row, supervisor);
  gtk_widget_set_sensitive (self->connectivity_row, supervisor);
  adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (self->address_group),
                                         supervisor
                                         ? _("The addresses the provider gave. The meter "
                                             "connects to these and nothing else.")
                                         : _("The addresses the provider gave. The meter "
                                             "connects to these and nothing else. Only a "
                                             "supervisor can change them."));
}

const char *
pm_network_page_get_status_text (PmNetworkPage *self)
{
  g_return_val_if_fail (PM_IS_NETWORK_PAGE (self), NULL);

  return adw_action_row_get_subtitle (ADW_ACTION_ROW (self->status_row));
}
