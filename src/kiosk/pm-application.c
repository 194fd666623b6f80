/* pm-application.c: the postmeter program; main thread only */
#include "pm-application.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <errno.h>

#include "pm-connection.h"
#include "pm-package.h"
#include "pm-settings-keys.h"
#include "pm-software-psd.h"
#include "pm-store.h"

/* The store's file inside the state folder. */
#define STORE_FILE_NAME "postmeter.db"
/* The software PSD's folder inside the state folder. */
#define PSD_DIR_NAME "psd"
/* Installed rate, graphics and software packages inside the state folder. */
#define PACKAGES_DIR_NAME "packages"

struct _PmApplication
{
  AdwApplication parent_instance;

  /* Owned; main thread. */
  GSettings     *settings;
  PmWindow      *window;       /* weak: the application holds the window */
  PmStore       *store;
  PmAccess      *access;
  GError        *store_error;  /* why the store could not be opened, if it could not */
  GCancellable  *cancellable;
  char          *state_dir;    /* from --state-dir, the "state-dir" property or settings */
  gboolean       windowed;

  /* The data center: the PSD and the connection, made off the main thread once the store
   * is open; NULL until then, or when no data center is configured (connection_problem
   * says why). Owned; main thread. */
  PmPsd         *psd;
  PmConnection  *connection;
  char          *connection_problem;
  GCancellable  *connection_cancellable;
};

G_DEFINE_FINAL_TYPE (PmApplication, pm_application, ADW_TYPE_APPLICATION)

enum
{
  PROP_0,
  PROP_STATE_DIR,
  PROP_WINDOWED,
  PROP_CONNECTION,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static const GOptionEntry options[] = {
  { "windowed", 'w', G_OPTION_FLAG_NONE, G_OPTION_ARG_NONE, NULL,
    N_("Run in an ordinary window instead of full screen (for development)"), NULL },
  { "state-dir", 0, G_OPTION_FLAG_NONE, G_OPTION_ARG_FILENAME, NULL,
    N_("Folder for the store and device state"), N_("DIR") },
  { "version", 0, G_OPTION_FLAG_NONE, G_OPTION_ARG_NONE, NULL,
    N_("Print the version and exit"), NULL },
  { NULL }
};

static void start_connection (PmApplication *self);
static void drop_connection (PmApplication *self);
static void apply_connection (PmApplication *self);

static char *
resolve_state_dir (PmApplication *self)
{
  g_autofree char *configured = NULL;

  if (self->state_dir != NULL && *self->state_dir != '\0')
    return g_strdup (self->state_dir);

  configured = g_settings_get_string (self->settings, PM_SETTINGS_STATE_DIRECTORY);
  if (*configured != '\0')
    return g_steal_pointer (&configured);

  return g_build_filename (g_get_user_data_dir (), "postmeter", NULL);
}

/* Opening the store ---------------------------------------------------------------------- */

/* What the person at the machine reads when the store cannot be used, by kind of fault. */
static void
show_store_problem (PmApplication *self,
                    const GError  *error)
{
  g_autofree char *todo = NULL;
  const char *what;
  int code = error->domain == PM_STORE_ERROR ? error->code : PM_STORE_ERROR_FAILED;

  switch (code)
    {
    case PM_STORE_ERROR_CORRUPT:
      what = _("The meter's database is damaged: it failed the check made at every "
               "start. Nothing has been printed or changed since.");
      todo = g_strdup_printf (_("Call support. They will repair or restore the database. "
                                "Do not move, copy over or delete anything in %s."),
                              self->state_dir);
      break;

    case PM_STORE_ERROR_DISK_FULL:
      what = _("The meter's disk is full, so it cannot keep its records.");
      todo = g_strdup (_("Call support to free space on the disk, then press Try Again. "
                         "Do not delete the meter's files yourself."));
      break;

    case PM_STORE_ERROR_READ_ONLY:
    case PM_STORE_ERROR_CANT_OPEN:
      what = _("The meter cannot write to its data folder.");
      todo = g_strdup_printf (_("Check that the disk is mounted and that the meter may "
                                "write to %s, then press Try Again. If this screen comes "
                                "back, call support."), self->state_dir);
      break;

    case PM_STORE_ERROR_TOO_NEW:
      what = _("The meter's database was written by a newer version of Postmeter than "
               "this one.");
      todo = g_strdup (_("Install the newer version again, or call support. Do not "
                         "delete the database: it holds the postage records."));
      break;

    case PM_STORE_ERROR_BUSY:
      what = _("Another program is using the meter's database.");
      todo = g_strdup (_("Close any other Postmeter window or tool, then press Try "
                         "Again. If this screen comes back, restart the meter."));
      break;

    default:
      what = _("The meter could not open its database.");
      todo = g_strdup (_("Press Try Again. If this screen comes back, restart the meter "
                         "and then call support if it still does not start."));
      break;
    }

  pm_window_show_service (self->window, what, todo, error->message);
}

/* Shows the outcome of opening the store, once there is both an outcome and a window. */
static void
apply_store (PmApplication *self)
{
  if (self->window == NULL)
    return;

  pm_window_set_state_dir (self->window, self->state_dir);

  if (self->store_error != NULL)
    {
      show_store_problem (self, self->store_error);
      return;
    }

  if (self->store == NULL)
    {
      pm_window_set_access (self->window, NULL);
      return;
    }

  if (self->access == NULL)
    self->access = pm_access_new (self->store);
  pm_window_set_access (self->window, self->access);
  apply_connection (self);
}

static void
store_opened_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  PmApplication *self;
  g_autoptr(PmStore) store = NULL;
  g_autoptr(GError) error = NULL;

  store = pm_store_open_finish (result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = PM_APPLICATION (user_data);
  if (store == NULL)
    {
      g_warning ("The store could not be opened: %s", error->message);
      self->store_error = g_steal_pointer (&error);
    }
  else
    self->store = g_steal_pointer (&store);

  apply_store (self);
  if (self->store != NULL)
    start_connection (self);
}

/* Starts opening the store. Called as early as possible (before GTK is even set up) so
 * the database is ready by the time the window can show the Lock page. */
static void
open_store (PmApplication *self)
{
  g_autofree char *path = NULL;
  g_autofree char *state_dir = NULL;

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();

  if (self->window != NULL)
    pm_window_set_access (self->window, NULL);
  drop_connection (self);
  g_clear_object (&self->access);
  g_clear_object (&self->store);
  g_clear_error (&self->store_error);

  state_dir = resolve_state_dir (self);
  g_free (self->state_dir);
  self->state_dir = g_steal_pointer (&state_dir);

  /* A missing folder is created (first start); its rights keep other users out. */
  if (g_mkdir_with_parents (self->state_dir, 0700) != 0)
    {
      int saved_errno = errno;

      g_set_error (&self->store_error, PM_STORE_ERROR, PM_STORE_ERROR_CANT_OPEN,
                   "Could not create the data folder %s: %s", self->state_dir,
                   g_strerror (saved_errno));
      g_warning ("%s", self->store_error->message);
      return;
    }

  path = g_build_filename (self->state_dir, STORE_FILE_NAME, NULL);
  g_debug ("Opening the store at %s", path);
  pm_store_open_async (path, self->cancellable, store_opened_cb, self);
}

/* The data center ------------------------------------------------------------------------ */

/* The status line's items, in the order of the connection's topics. */
static const PmStatusItem topic_items[PM_CONNECTION_N_TOPICS] = {
  [PM_CONNECTION_TOPIC_NETWORK] = PM_STATUS_ITEM_NETWORK,
  [PM_CONNECTION_TOPIC_FUNDS] = PM_STATUS_ITEM_FUNDS,
  [PM_CONNECTION_TOPIC_INSPECTION] = PM_STATUS_ITEM_INSPECTION,
  [PM_CONNECTION_TOPIC_UPLOAD] = PM_STATUS_ITEM_UPLOAD,
};

static PmStatusLevel
status_level (PmConnectionLevel level)
{
  switch (level)
    {
    case PM_CONNECTION_LEVEL_OK:
      return PM_STATUS_LEVEL_OK;
    case PM_CONNECTION_LEVEL_WARNING:
      return PM_STATUS_LEVEL_WARNING;
    case PM_CONNECTION_LEVEL_ERROR:
      return PM_STATUS_LEVEL_ERROR;
    case PM_CONNECTION_LEVEL_UNKNOWN:
    default:
      return PM_STATUS_LEVEL_UNKNOWN;
    }
}

/* The status line says what the connection last saw, and "Unknown" for whatever nobody
 * has checked: without a connection, nobody has checked anything. */
static void
update_status (PmApplication *self)
{
  PmStatus *status;

  if (self->window == NULL)
    return;

  status = pm_window_get_status (self->window);
  if (self->connection == NULL)
    {
      for (guint item = 0; item < PM_STATUS_N_ITEMS; item++)
        pm_status_reset (status, item);
      return;
    }

  for (guint topic = 0; topic < PM_CONNECTION_N_TOPICS; topic++)
    {
      const char *text = NULL;
      PmConnectionLevel level = pm_connection_get_topic (self->connection, topic, &text,
                                                         NULL);

      pm_status_set (status, topic_items[topic], status_level (level), text);
    }
}

static void
apply_connection (PmApplication *self)
{
  if (self->window == NULL)
    return;

  pm_window_set_connection (self->window, self->connection, self->connection_problem);
  update_status (self);
}

static void
set_connection_problem (PmApplication *self,
                        const char    *problem)
{
  g_free (self->connection_problem);
  self->connection_problem = g_strdup (problem);
  apply_connection (self);
}

static void
connection_changed_cb (PmConnection  *connection,
                       PmApplication *self)
{
  update_status (self);
}

static void
connection_made_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  PmApplication *self;
  g_autoptr(PmConnection) connection = NULL;
  g_autoptr(GError) error = NULL;

  connection = pm_connection_new_finish (result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = PM_APPLICATION (user_data);
  if (connection == NULL)
    {
      g_warning ("No connection to the data center: %s", error->message);
      set_connection_problem (self, error->message);
      return;
    }

  g_message ("Data center connection set up for %s",
             pm_connection_get_config (connection)->datacenter_url);
  self->connection = g_steal_pointer (&connection);
  g_signal_connect_object (self->connection, "changed",
                           G_CALLBACK (connection_changed_cb), self, 0);
  g_clear_pointer (&self->connection_problem, g_free);

  /* The schedule's first look checks the network and does what is due; the refresh shows
   * the PSD's funds and inspection at once, online or not. */
  pm_connection_start (self->connection, 0);
  pm_connection_refresh_async (self->connection, self->connection_cancellable, NULL, NULL);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONNECTION]);
  apply_connection (self);
}

static char *
dup_setting (PmApplication *self,
             const char    *key)
{
  g_autofree char *value = g_settings_get_string (self->settings, key);

  return *value != '\0' ? g_steal_pointer (&value) : NULL;
}

/* Makes the connection from the settings, with the PSD already open. */
static void
make_connection (PmApplication *self)
{
  PmConnectionConfig config = { 0 };

  config.datacenter_url = dup_setting (self, PM_SETTINGS_DATACENTER_URL);
  if (config.datacenter_url == NULL)
    {
      g_debug ("No data center address is set; the meter works offline");
      set_connection_problem (self, _("No data center address is set. A supervisor enters "
                                      "the address the provider gave in Settings > "
                                      "Network."));
      return;
    }

  if (self->psd == NULL)
    {
      pm_connection_config_clear (&config);
      set_connection_problem (self, _("The meter has no PSD yet, and a new one needs the "
                                      "provider's signing key. A supervisor or support sets "
                                      "the provider's files, then the meter makes it."));
      return;
    }

  config.connectivity_url = dup_setting (self, PM_SETTINGS_CONNECTIVITY_URL);
  config.ca_file = dup_setting (self, PM_SETTINGS_PROVIDER_CA_FILE);
  config.provider_key_file = dup_setting (self, PM_SETTINGS_PROVIDER_KEY_FILE);
  config.install_dir = g_build_filename (self->state_dir, PACKAGES_DIR_NAME, NULL);

  pm_connection_new_async (&config, self->psd, self->store, self->connection_cancellable,
                           connection_made_cb, self);
  pm_connection_config_clear (&config);
}

typedef struct
{
  char *psd_dir;
  char *provider_key_file;  /* NULL: an existing PSD keeps the key it stored */
} PsdOpen;

static void
psd_open_free (PsdOpen *data)
{
  g_free (data->psd_dir);
  g_free (data->provider_key_file);
  g_free (data);
}

/* A worker thread: the PSD reads and writes its files when it opens. */
static void
psd_open_thread (GTask        *task,
                 gpointer      source,
                 gpointer      task_data,
                 GCancellable *cancellable)
{
  PsdOpen *data = task_data;
  g_autoptr(PmVerifyKey) provider_key = NULL;
  PmSoftwarePsd *psd;
  GError *error = NULL;

  /* A new PSD needs the provider's key: without one and without a PSD there is nothing
   * to open yet, which is no fault. */
  if (data->provider_key_file == NULL && !g_file_test (data->psd_dir, G_FILE_TEST_IS_DIR))
    {
      g_task_return_pointer (task, NULL, NULL);
      return;
    }

  if (data->provider_key_file != NULL)
    {
      provider_key = pm_package_load_key (data->provider_key_file, &error);
      if (provider_key == NULL)
        {
          g_prefix_error (&error, _("The provider's signing key could not be read: "));
          g_task_return_error (task, error);
          return;
        }
    }

  if (g_mkdir_with_parents (data->psd_dir, 0700) != 0)
    {
      int saved_errno = errno;

      g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                               _("Could not create the PSD's folder %s: %s"), data->psd_dir,
                               g_strerror (saved_errno));
      return;
    }

  psd = pm_software_psd_open (data->psd_dir, provider_key, 0, &error);
  if (psd == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, psd, g_object_unref);
}

static void
psd_opened_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  PmApplication *self;
  g_autoptr(PmPsd) psd = NULL;
  g_autoptr(GError) error = NULL;

  psd = g_task_propagate_pointer (G_TASK (result), &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = PM_APPLICATION (user_data);
  if (psd == NULL && error == NULL)
    {
      make_connection (self);
      return;
    }
  if (psd == NULL)
    {
      g_autofree char *problem = g_strdup_printf (_("The PSD could not be opened: %s"),
                                                  error->message);

      g_warning ("%s", problem);
      set_connection_problem (self, problem);
      return;
    }

  self->psd = g_steal_pointer (&psd);
  make_connection (self);
}

/* Stops and forgets the connection; the PSD stays open. */
static void
drop_connection (PmApplication *self)
{
  g_cancellable_cancel (self->connection_cancellable);
  g_clear_object (&self->connection_cancellable);
  self->connection_cancellable = g_cancellable_new ();
  if (self->connection != NULL)
    {
      pm_connection_stop (self->connection);
      g_signal_handlers_disconnect_by_data (self->connection, self);
      g_clear_object (&self->connection);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONNECTION]);
    }
  g_clear_pointer (&self->connection_problem, g_free);
  apply_connection (self);
}

/* Makes the connection from the settings, opening the PSD first if need be. */
static void
start_connection (PmApplication *self)
{
  g_autoptr(GTask) task = NULL;
  PsdOpen *data;

  drop_connection (self);
  if (self->store == NULL)
    return;
  if (self->psd != NULL)
    {
      make_connection (self);
      return;
    }

  data = g_new0 (PsdOpen, 1);
  data->psd_dir = g_build_filename (self->state_dir, PSD_DIR_NAME, NULL);
  data->provider_key_file = dup_setting (self, PM_SETTINGS_PROVIDER_KEY_FILE);
  task = g_task_new (NULL, self->connection_cancellable, psd_opened_cb, self);
  g_task_set_source_tag (task, start_connection);
  g_task_set_task_data (task, data, (GDestroyNotify) psd_open_free);
  g_task_run_in_thread (task, psd_open_thread);
}

/* A supervisor changed where the data center is: connect again with the new settings. */
static void
datacenter_setting_changed_cb (GSettings     *settings,
                               const char    *key,
                               PmApplication *self)
{
  if (self->store != NULL)
    start_connection (self);
}

/* Actions -------------------------------------------------------------------------------- */

static void
log_out_action (GSimpleAction *action,
                GVariant      *parameter,
                gpointer       user_data)
{
  PmApplication *self = PM_APPLICATION (user_data);

  if (self->window != NULL)
    pm_window_lock (self->window, "log out");
}

static void
reopen_store_action (GSimpleAction *action,
                     GVariant      *parameter,
                     gpointer       user_data)
{
  PmApplication *self = PM_APPLICATION (user_data);

  open_store (self);
  apply_store (self);
}

/* The settings a connection is made from. */
static const char * const datacenter_keys[] = {
  PM_SETTINGS_DATACENTER_URL,
  PM_SETTINGS_CONNECTIVITY_URL,
  PM_SETTINGS_PROVIDER_CA_FILE,
  PM_SETTINGS_PROVIDER_KEY_FILE,
};

static const GActionEntry app_actions[] = {
  { "log-out", log_out_action },
  { "reopen-store", reopen_store_action },
};

/* GApplication --------------------------------------------------------------------------- */

static int
pm_application_handle_local_options (GApplication *application,
                                     GVariantDict *options_dict)
{
  PmApplication *self = PM_APPLICATION (application);
  const char *state_dir = NULL;

  if (g_variant_dict_contains (options_dict, "windowed"))
    self->windowed = TRUE;

  if (g_variant_dict_lookup (options_dict, "state-dir", "^&ay", &state_dir))
    {
      g_free (self->state_dir);
      self->state_dir = g_canonicalize_filename (state_dir, NULL);
    }

  if (g_variant_dict_contains (options_dict, "version"))
    {
      g_print ("postmeter %s\n", PM_VERSION);
      return 0;
    }

  return -1;
}

static void
pm_application_startup (GApplication *application)
{
  PmApplication *self = PM_APPLICATION (application);

  /* The store opens on its own thread while GTK starts. */
  self->settings = g_settings_new (PM_SETTINGS_SCHEMA);
  for (guint i = 0; i < G_N_ELEMENTS (datacenter_keys); i++)
    {
      g_autofree char *signal = g_strconcat ("changed::", datacenter_keys[i], NULL);

      g_signal_connect (self->settings, signal, G_CALLBACK (datacenter_setting_changed_cb),
                        self);
    }
  open_store (self);

  G_APPLICATION_CLASS (pm_application_parent_class)->startup (application);

  g_action_map_add_action_entries (G_ACTION_MAP (self), app_actions,
                                   G_N_ELEMENTS (app_actions), self);

  /* A mailroom screen stays light whatever the desktop prefers. */
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (),
                                      ADW_COLOR_SCHEME_FORCE_LIGHT);
}

static void
pm_application_activate (GApplication *application)
{
  PmApplication *self = PM_APPLICATION (application);
  gboolean kiosk;

  if (self->window != NULL)
    {
      gtk_window_present (GTK_WINDOW (self->window));
      return;
    }

  kiosk = !self->windowed && g_settings_get_boolean (self->settings,
                                                     PM_SETTINGS_KIOSK_MODE);
  self->window = pm_window_new (GTK_APPLICATION (self), kiosk);
  g_object_add_weak_pointer (G_OBJECT (self->window), (gpointer *) &self->window);

  /* Full screen is only a request to the compositor; asking before the window is mapped
   * means it never shows at another size first. */
  if (kiosk)
    gtk_window_fullscreen (GTK_WINDOW (self->window));
  gtk_window_present (GTK_WINDOW (self->window));

  apply_store (self);
}

static void
pm_application_shutdown (GApplication *application)
{
  PmApplication *self = PM_APPLICATION (application);

  g_cancellable_cancel (self->cancellable);
  g_cancellable_cancel (self->connection_cancellable);
  if (self->connection != NULL)
    pm_connection_stop (self->connection);
  if (self->window != NULL)
    pm_window_lock (self->window, "shutdown");

  G_APPLICATION_CLASS (pm_application_parent_class)->shutdown (application);
}

/* GObject -------------------------------------------------------------------------------- */

static void
pm_application_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  PmApplication *self = PM_APPLICATION (object);

  switch (prop_id)
    {
    case PROP_STATE_DIR:
      g_value_set_string (value, self->state_dir);
      break;
    case PROP_WINDOWED:
      g_value_set_boolean (value, self->windowed);
      break;
    case PROP_CONNECTION:
      g_value_set_object (value, self->connection);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pm_application_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  PmApplication *self = PM_APPLICATION (object);

  switch (prop_id)
    {
    case PROP_STATE_DIR:
      g_free (self->state_dir);
      self->state_dir = g_value_dup_string (value);
      break;
    case PROP_WINDOWED:
      self->windowed = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pm_application_dispose (GObject *object)
{
  PmApplication *self = PM_APPLICATION (object);

  g_cancellable_cancel (self->cancellable);
  g_cancellable_cancel (self->connection_cancellable);
  if (self->connection != NULL)
    {
      pm_connection_stop (self->connection);
      g_signal_handlers_disconnect_by_data (self->connection, self);
    }
  g_clear_object (&self->connection);
  g_clear_object (&self->psd);
  if (self->window != NULL)
    g_object_remove_weak_pointer (G_OBJECT (self->window), (gpointer *) &self->window);
  self->window = NULL;
  g_clear_object (&self->access);
  g_clear_object (&self->store);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (pm_application_parent_class)->dispose (object);
}

static void
pm_application_finalize (GObject *object)
{
  PmApplication *self = PM_APPLICATION (object);

  g_clear_object (&self->cancellable);
  g_clear_object (&self->connection_cancellable);
  g_clear_pointer (&self->connection_problem, g_free);
  g_clear_error (&self->store_error);
  g_clear_pointer (&self->state_dir, g_free);

  G_OBJECT_CLASS (pm_application_parent_class)->finalize (object);
}

static void
pm_application_class_init (PmApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->get_property = pm_application_get_property;
  object_class->set_property = pm_application_set_property;
  object_class->dispose = pm_application_dispose;
  object_class->finalize = pm_application_finalize;
  app_class->handle_local_options = pm_application_handle_local_options;
  app_class->startup = pm_application_startup;
  app_class->activate = pm_application_activate;
  app_class->shutdown = pm_application_shutdown;

  properties[PROP_STATE_DIR] =
    g_param_spec_string ("state-dir", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_WINDOWED] =
    g_param_spec_boolean ("windowed", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_CONNECTION] =
    g_param_spec_object ("connection", NULL, NULL, PM_TYPE_CONNECTION,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY |
                         G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
pm_application_init (PmApplication *self)
{
  self->cancellable = g_cancellable_new ();

  g_application_add_main_option_entries (G_APPLICATION (self), options);
  g_application_set_option_context_summary (G_APPLICATION (self),
                                            _("Postmeter: the office postage meter."));
}

PmApplication *
pm_application_new (void)
{
  return g_object_new (PM_TYPE_APPLICATION,
                       "application-id", PM_APP_ID,
                       "flags", G_APPLICATION_NON_UNIQUE,
                       "resource-base-path", "/org/postmeter/Kiosk",
                       NULL);
}

/**
 * pm_application_get_window:
 *
 * Returns: (transfer none) (nullable): the kiosk window, once activated
 */
PmWindow *
pm_application_get_window (PmApplication *self)
{
  g_return_val_if_fail (PM_IS_APPLICATION (self), NULL);

  return self->window;
}

const char *
pm_application_get_state_dir (PmApplication *self)
{
  g_return_val_if_fail (PM_IS_APPLICATION (self), NULL);

  return self->state_dir;
}

/**
 * pm_application_get_access:
 *
 * Returns: (transfer none) (nullable): access codes and users, once the store is open
 */
PmAccess *
pm_application_get_access (PmApplication *self)
{
  g_return_val_if_fail (PM_IS_APPLICATION (self), NULL);

  return self->access;
}

/**
 * pm_application_get_connection:
 *
 * Returns: (transfer none) (nullable): the link to the data center, once the store and the
 *   PSD are open and a data center is configured
 */
PmConnection *
pm_application_get_connection (PmApplication *self)
{
  g_return_val_if_fail (PM_IS_APPLICATION (self), NULL);

  return self->connection;
}

/**
 * pm_application_get_psd:
 *
 * The software PSD in <state-dir>/psd, opened once for the whole program (the data center
 * connection and printing share it).
 *
 * Returns: (transfer none) (nullable): the PSD, once the store is open and the PSD opened
 */
PmPsd *
pm_application_get_psd (PmApplication *self)
{
  g_return_val_if_fail (PM_IS_APPLICATION (self), NULL);

  return self->psd;
}
