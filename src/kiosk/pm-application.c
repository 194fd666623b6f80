/* pm-application.c: the postmeter program; main thread only */
#include "pm-application.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <errno.h>

#include "pm-connection.h"
#include "pm-cups-printer.h"
#include "pm-folder-printer.h"
#include "pm-package.h"
#include "pm-settings-keys.h"
#include "pm-scale-factory.h"
#include "pm-sim-scale.h"
#include "pm-zone-chart.h"
#include "pm-software-psd.h"
#include "pm-store.h"
#include "pm-store-records.h"

/* The store's file inside the state folder. */
#define STORE_FILE_NAME "postmeter.db"
/* The software PSD's folder and the folder printer's default, inside the state folder. */
#define PSD_FOLDER_NAME "psd"
#define PRINTED_FOLDER_NAME "printed"
/* Installed rate, graphics and software packages inside the state folder. */
#define PACKAGES_DIR_NAME "packages"
/* The provider key when the settings name none: the demonstration provider's, installed
 * with Postmeter (data/keys). */
#define PROVIDER_KEY_FILE "keys/demo-provider.pub"

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

  /* Devices (see "Devices" below); owned, main thread. */
  PmPsd         *psd;
  PmScale       *scale;
  PmPrinter     *printer;
  PmRating      *rating;
  PmPrintFlow   *print_flow;
  GError        *devices_error;
  GCancellable  *devices_cancellable;

  /* The data center connection, made off the main thread once the store and the PSD
   * are open; NULL until then, or when no data center is configured (connection_problem
   * says why). Owned; main thread. */
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

enum
{
  SIGNAL_DEVICES_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void maybe_make_print_flow (PmApplication *self);
static char *data_file (GSettings  *settings,
                        const char *key,
                        const char *relative);

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
  maybe_make_print_flow (self);
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
  g_clear_object (&self->print_flow);
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
      /* Funds and inspection are the PSD's: the Mail page shows them from the PSD itself
       * once it is open. Without a connection nobody checked the network or uploads. */
      for (guint item = 0; item < PM_STATUS_N_ITEMS; item++)
        if (self->psd == NULL || (item != PM_STATUS_ITEM_FUNDS
                                  && item != PM_STATUS_ITEM_INSPECTION))
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
      g_autofree char *problem = NULL;

      problem = g_strdup_printf (_("The PSD could not be opened, so the meter cannot use the "
                                   "data center: %s"),
                                 self->devices_error != NULL ? self->devices_error->message
                                                             : _("it is still opening"));
      pm_connection_config_clear (&config);
      set_connection_problem (self, problem);
      return;
    }

  config.connectivity_url = dup_setting (self, PM_SETTINGS_CONNECTIVITY_URL);
  config.ca_file = dup_setting (self, PM_SETTINGS_PROVIDER_CA_FILE);
  config.provider_key_file = data_file (self->settings, PM_SETTINGS_PROVIDER_KEY_FILE,
                                        PROVIDER_KEY_FILE);
  config.install_dir = g_build_filename (self->state_dir, PACKAGES_DIR_NAME, NULL);

  pm_connection_new_async (&config, self->psd, self->store, self->connection_cancellable,
                           connection_made_cb, self);
  pm_connection_config_clear (&config);
}

/* Devices -------------------------------------------------------------------------------- */

/* The provider key and the rate packages: a setting, else what is installed with
 * Postmeter, else (running from the build tree) the source tree's data folder. */
static char *
data_file (GSettings  *settings,
           const char *key,
           const char *relative)
{
  g_autofree char *configured = key != NULL ? g_settings_get_string (settings, key) : NULL;
  g_autofree char *installed = NULL;

  if (configured != NULL && *configured != '\0')
    return g_steal_pointer (&configured);

  installed = g_build_filename (PM_DATADIR, relative, NULL);
  if (g_file_test (installed, G_FILE_TEST_EXISTS))
    return g_steal_pointer (&installed);

  return g_build_filename (PM_SOURCE_DATADIR, relative, NULL);
}

typedef struct
{
  char          *psd_dir;
  char          *key_file;
  char          *rates_dir;
  char          *packages_dir;
  char          *zones_dir;
  /* Results. */
  PmSoftwarePsd *psd;
  PmRating      *rating;
  PmZoneChart   *zones;
} DevicesOpen;

static void
devices_open_free (DevicesOpen *open)
{
  g_free (open->psd_dir);
  g_free (open->key_file);
  g_free (open->rates_dir);
  g_free (open->packages_dir);
  g_free (open->zones_dir);
  g_clear_pointer (&open->zones, pm_zone_chart_unref);
  g_clear_object (&open->psd);
  g_clear_pointer (&open->rating, pm_rating_unref);
  g_free (open);
}

/* Worker thread: the rate packages that come with Postmeter (or the configured folder).
 * A package the provider key does not vouch for is left out, not fatal: the packages the
 * data center sends, signed with that key, may be all this meter is meant to use. */
static void
install_shipped_rates (PmRating    *rating,
                       const char  *rates_dir,
                       PmVerifyKey *key)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) files = pm_rating_list_packages (rates_dir, &error);

  if (files == NULL)
    {
      g_message ("No rate packages installed from %s: %s", rates_dir, error->message);
      return;
    }

  for (guint i = 0; i < files->len; i++)
    {
      const char *file = g_ptr_array_index (files, i);
      g_autofree char *sig_file = g_strconcat (file, ".sig", NULL);

      g_clear_error (&error);
      if (!pm_rating_install_file (rating, file, sig_file, key, &error))
        g_message ("Rate package %s not installed: %s", file, error->message);
    }
}

/* Worker thread: the rate packages the data center sent, as the download flow installed
 * them: install_dir/rates-NAME is a link to the version in force, holding "package" and
 * "package.sig". They are checked again here, with the same key. */
static void
install_downloaded_packages (PmRating    *rating,
                             const char  *packages_dir,
                             PmVerifyKey *key)
{
  g_autoptr(GDir) dir = g_dir_open (packages_dir, 0, NULL);
  const char *name;

  if (dir == NULL)
    return;  /* nothing downloaded yet */

  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *link = g_build_filename (packages_dir, name, NULL);
      g_autofree char *file = NULL;
      g_autofree char *sig_file = NULL;
      g_autoptr(GError) error = NULL;

      if (!g_str_has_prefix (name, "rates-") || !g_file_test (link, G_FILE_TEST_IS_SYMLINK))
        continue;

      file = g_build_filename (link, "package", NULL);
      sig_file = g_build_filename (link, "package.sig", NULL);
      if (!pm_rating_install_file (rating, file, sig_file, key, &error))
        g_message ("Downloaded rate package %s not installed: %s", name, error->message);
    }
}

/* Worker thread: reading the key, opening the PSD's state file and verifying every rate
 * package are file I/O and signature checks, so they stay off the main thread. */
static void
open_devices_thread (GTask        *task,
                     gpointer      source_object,
                     gpointer      task_data,
                     GCancellable *cancellable)
{
  DevicesOpen *open = task_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *pem = NULL;
  g_autoptr(PmVerifyKey) key = NULL;

  if (!g_file_get_contents (open->key_file, &pem, NULL, &error)
      || (key = pm_verify_key_new_from_pem (pem, -1, &error)) == NULL)
    {
      g_prefix_error (&error, "Could not read the provider key %s: ", open->key_file);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (g_mkdir_with_parents (open->psd_dir, 0700) != 0)
    {
      int saved_errno = errno;

      g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                               "Could not create the PSD folder %s: %s", open->psd_dir,
                               g_strerror (saved_errno));
      return;
    }

  open->psd = pm_software_psd_open (open->psd_dir, key, 0, &error);
  if (open->psd == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  open->rating = pm_rating_new ();
  install_shipped_rates (open->rating, open->rates_dir, key);
  install_downloaded_packages (open->rating, open->packages_dir, key);
  open->zones = pm_zone_chart_new ();
  if (pm_zone_chart_install_directory (open->zones, open->zones_dir, key, &error))
    pm_rating_set_zones (open->rating, open->zones);
  else
    g_message ("No zone charts from %s, so zone-priced classes cannot be rated: %s",
               open->zones_dir, error->message);

  g_task_return_boolean (task, TRUE);
}

/* The scale from the settings (pm-scale-factory.h); NULL with none, or when the settings
 * cannot make one, which the operator learns from the Mail page (no scale: weights are
 * typed) and support from the journal. */
static PmScale *
make_scale (PmApplication *self)
{
  g_autofree char *driver = g_settings_get_string (self->settings,
                                                   PM_SETTINGS_SCALE_DRIVER);
  g_autofree char *device = NULL;
  g_autofree char *protocol = NULL;
  g_autofree char *line = NULL;
  g_autofree char *unit = NULL;
  g_autoptr(GError) error = NULL;
  PmScale *scale;

  if (g_strcmp0 (driver, "none") == 0)
    return NULL;

  if (g_strcmp0 (driver, "simulated") == 0)
    device = dup_setting (self, PM_SETTINGS_SCALE_RECORDING);
  else
    device = dup_setting (self, PM_SETTINGS_SCALE_DEVICE);
  protocol = dup_setting (self, PM_SETTINGS_SCALE_PROTOCOL);
  line = dup_setting (self, PM_SETTINGS_SCALE_LINE);
  unit = dup_setting (self, PM_SETTINGS_SCALE_UNIT);

  scale = pm_scale_new_by_name (driver, device, protocol, line, unit, &error);
  if (scale == NULL)
    g_warning ("No scale: %s", error->message);
  return scale;
}

static PmPrinter *
make_printer (PmApplication *self)
{
  g_autofree char *driver = g_settings_get_string (self->settings,
                                                   PM_SETTINGS_PRINTER_DRIVER);
  g_autofree char *folder = NULL;

  if (g_strcmp0 (driver, "cups") == 0)
    {
      g_autofree char *queue = dup_setting (self, PM_SETTINGS_PRINTER_QUEUE);
      g_autofree char *server = dup_setting (self, PM_SETTINGS_PRINTER_SERVER);

      if (queue != NULL)
        return PM_PRINTER (pm_cups_printer_new (_("Envelope printer"), queue, server));
      g_warning ("The printer driver is CUPS but no queue is set (printer-queue); "
                 "envelopes go to the folder printer");
    }

  folder = g_settings_get_string (self->settings, PM_SETTINGS_PRINTER_FOLDER);
  if (*folder == '\0')
    {
      g_free (folder);
      folder = g_build_filename (self->state_dir, PRINTED_FOLDER_NAME, NULL);
    }
  /* The folder printer writes only into a folder that exists: it is made here, once. */
  if (g_mkdir_with_parents (folder, 0700) != 0)
    g_warning ("Could not create the printer's folder %s: %s", folder, g_strerror (errno));
  return PM_PRINTER (pm_folder_printer_new (_("Envelope printer"), folder));
}

static void
reconciled_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  PmReconcileReport report;

  if (!pm_print_flow_reconcile_finish (PM_PRINT_FLOW (source), result, &report, &error))
    {
      g_warning ("Start-up reconciliation of the PSD and the store failed: %s",
                 error->message);
      return;
    }

  if (report.inserted > 0 || report.interrupted > 0)
    g_message ("Start-up reconciliation: %u debits recorded from the PSD journal, %"
               G_GINT64_FORMAT " interrupted pieces marked unknown", report.inserted,
               report.interrupted);
}

static void
key_in_threshold_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  PmPrintFlow *flow = user_data;
  gint64 value = 0;

  if (pm_store_get_setting_int_finish (PM_STORE (source), result, &value, NULL))
    pm_print_flow_set_key_in_threshold (flow, MAX (value, 0));
  g_object_unref (flow);
}

/* After each piece the connection reads the PSD again, so the funds and inspection it
 * shows on the status line and the Funds screen follow the printing. */
static void
print_flow_busy_cb (PmPrintFlow   *flow,
                    GParamSpec    *pspec,
                    PmApplication *self)
{
  if (!pm_print_flow_get_busy (flow) && self->connection != NULL)
    pm_connection_refresh_async (self->connection, self->connection_cancellable, NULL,
                                 NULL);
}

/* The flow needs the store and the devices; whichever comes last makes it. */
static void
maybe_make_print_flow (PmApplication *self)
{
  if (self->print_flow != NULL || self->store == NULL || self->psd == NULL
      || self->rating == NULL)
    return;

  self->print_flow = pm_print_flow_new (self->psd, self->store, self->printer,
                                        self->rating);
  pm_store_get_setting_int_async (self->store, PM_STORE_SETTING_KEY_IN_CONFIRM_MILLS,
                                  pm_print_flow_get_key_in_threshold (self->print_flow),
                                  self->devices_cancellable, key_in_threshold_cb,
                                  g_object_ref (self->print_flow));
  /* Before anything prints: every debit the PSD made is put in the store. */
  pm_print_flow_reconcile_async (self->print_flow, self->devices_cancellable,
                                 reconciled_cb, NULL);
  g_signal_connect_object (self->print_flow, "notify::busy",
                           G_CALLBACK (print_flow_busy_cb), self, 0);
  g_signal_emit (self, signals[SIGNAL_DEVICES_CHANGED], 0);
}

static void
devices_opened_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  PmApplication *self;
  DevicesOpen *open = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) scale_error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error)
      && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = PM_APPLICATION (user_data);
  if (error != NULL)
    {
      g_warning ("The meter's devices could not be opened: %s", error->message);
      self->devices_error = g_steal_pointer (&error);
      g_signal_emit (self, signals[SIGNAL_DEVICES_CHANGED], 0);
      start_connection (self);
      return;
    }

  self->psd = PM_PSD (g_steal_pointer (&open->psd));
  self->rating = g_steal_pointer (&open->rating);
  self->printer = make_printer (self);
  self->scale = make_scale (self);
  if (self->scale != NULL && !pm_scale_start (self->scale, &scale_error))
    g_warning ("The scale could not be started: %s", scale_error->message);

  maybe_make_print_flow (self);
  g_signal_emit (self, signals[SIGNAL_DEVICES_CHANGED], 0);
  start_connection (self);
}

static void
open_devices (PmApplication *self)
{
  g_autoptr(GTask) task = NULL;
  DevicesOpen *open = g_new0 (DevicesOpen, 1);

  open->psd_dir = g_build_filename (self->state_dir, PSD_FOLDER_NAME, NULL);
  open->key_file = data_file (self->settings, PM_SETTINGS_PROVIDER_KEY_FILE,
                              PROVIDER_KEY_FILE);
  open->rates_dir = data_file (self->settings, PM_SETTINGS_RATES_DIRECTORY, "rates");
  open->packages_dir = g_build_filename (self->state_dir, PACKAGES_DIR_NAME, NULL);
  open->zones_dir = data_file (self->settings, NULL, "zones");

  task = g_task_new (NULL, self->devices_cancellable, devices_opened_cb, self);
  g_task_set_source_tag (task, open_devices);
  g_task_set_task_data (task, open, (GDestroyNotify) devices_open_free);
  g_task_run_in_thread (task, open_devices_thread);
}

static void
close_devices (PmApplication *self)
{
  g_cancellable_cancel (self->devices_cancellable);
  if (self->scale != NULL)
    pm_scale_stop (self->scale);
  g_clear_object (&self->print_flow);
  g_clear_object (&self->scale);
  g_clear_object (&self->printer);
  g_clear_object (&self->psd);
  g_clear_pointer (&self->rating, pm_rating_unref);
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

/* Makes the connection from the settings once the store and the PSD are open; called
 * again by whichever of the two opens last. */
static void
start_connection (PmApplication *self)
{
  drop_connection (self);
  if (self->store == NULL || (self->psd == NULL && self->devices_error == NULL))
    return;

  make_connection (self);
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
  if (self->store_error == NULL)
    open_devices (self);

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
  close_devices (self);

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
  if (self->window != NULL)
    g_object_remove_weak_pointer (G_OBJECT (self->window), (gpointer *) &self->window);
  self->window = NULL;
  close_devices (self);
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
  g_clear_object (&self->devices_cancellable);
  g_clear_error (&self->store_error);
  g_clear_error (&self->devices_error);
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

  signals[SIGNAL_DEVICES_CHANGED] =
    g_signal_new ("devices-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
pm_application_init (PmApplication *self)
{
  self->cancellable = g_cancellable_new ();
  self->devices_cancellable = g_cancellable_new ();

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

/* Devices: getters ------------------------------------------------------------------------ */

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

/**
 * pm_application_get_scale:
 *
 * Returns: (transfer none) (nullable): the scale, once open; NULL with no scale
 */
PmScale *
pm_application_get_scale (PmApplication *self)
{
  g_return_val_if_fail (PM_IS_APPLICATION (self), NULL);
  return self->scale;
}

PmPrinter *
pm_application_get_printer (PmApplication *self)
{
  g_return_val_if_fail (PM_IS_APPLICATION (self), NULL);
  return self->printer;
}

PmRating *
pm_application_get_rating (PmApplication *self)
{
  g_return_val_if_fail (PM_IS_APPLICATION (self), NULL);
  return self->rating;
}

/**
 * pm_application_get_print_flow:
 *
 * Returns: (transfer none) (nullable): the print path, once the store and devices are open
 */
PmPrintFlow *
pm_application_get_print_flow (PmApplication *self)
{
  g_return_val_if_fail (PM_IS_APPLICATION (self), NULL);
  return self->print_flow;
}

PmStore *
pm_application_get_store (PmApplication *self)
{
  g_return_val_if_fail (PM_IS_APPLICATION (self), NULL);
  return self->store;
}

const GError *
pm_application_get_devices_error (PmApplication *self)
{
  g_return_val_if_fail (PM_IS_APPLICATION (self), NULL);
  return self->devices_error;
}
