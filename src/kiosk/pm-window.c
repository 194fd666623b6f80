/* pm-window.c: the kiosk window; main thread only */
#include "pm-window.h"

#include <glib/gi18n.h>
#include <time.h>

#include "pm-clock.h"
#include "pm-connection-test-page.h"
#include "pm-funds-page.h"
#include "pm-home-page.h"
#include "pm-lock-page.h"
#include "pm-network-page.h"
#include "pm-mail-page.h"
#include "pm-service-page.h"
#include "pm-settings-keys.h"
#include "pm-settings-page.h"
#include "pm-setup-page.h"
#include "pm-unbuilt-page.h"
#include "pm-users-page.h"

/* Screens reached from Home. Those without a page of their own yet show the "unbuilt"
 * page with this title and icon. */
typedef struct
{
  const char *name;
  const char *title;  /* translated at use */
  const char *icon_name;
} Screen;

static const Screen screens[] = {
  { "mail", N_("Print on envelopes"), "mail-send-symbolic" },
  { "shipping", N_("Shipping labels"), "package-x-generic-symbolic" },
  { "accounts", N_("Accounts"), "view-list-symbolic" },
  { "funds", N_("Funds"), "security-high-symbolic" },
  { "reports", N_("Reports"), "x-office-spreadsheet-symbolic" },
  { "settings", N_("Settings"), "emblem-system-symbolic" },
  { "help", N_("Help"), "help-browser-symbolic" },
  { "assist", N_("Remote assist"), "preferences-desktop-remote-desktop-symbolic" },
  { "users", N_("Users"), "system-users-symbolic" },
  { "network", N_("Network"), "network-workgroup-symbolic" },
  { "connection-test", N_("Test Connection"), "network-transmit-receive-symbolic" },
  { "service", N_("Service"), "applications-engineering-symbolic" },
};

struct _PmWindow
{
  AdwApplicationWindow parent_instance;

  /* Owned; main thread. */
  PmAccess      *access;
  PmUser        *user;              /* signed in, or NULL */
  PmStatus      *status;
  GSettings     *settings;
  GCancellable  *cancellable;
  char          *last_toast;
  guint          notice_timeout_id; /* hides the notice after a few seconds */
  gboolean       kiosk;
  gint64         last_activity_us;  /* pm_clock time of the last touch, click or key */
  double         pointer_x;         /* where the last motion event was, window coordinates */
  double         pointer_y;
  guint          idle_tick_id;
  gulong         after_paint_id;
  GtkLabel      *status_values[PM_STATUS_N_ITEMS];

  /* Template children. */
  GtkWidget     *notice_revealer;
  GtkWidget     *notice_label;
  GtkWidget     *top_bar;
  GtkWidget     *brand_label;
  GtkWidget     *home_button;
  GtkWidget     *title_label;
  GtkWidget     *user_label;
  GtkWidget     *role_label;
  GtkWidget     *stack;
  GtkWidget     *lock_page;

  /* Pages made on first use (see ensure_page()), owned by the stack; NULL until then. */
  GtkWidget     *setup_page;
  GtkWidget     *home_page;
  GtkWidget     *settings_page;
  GtkWidget     *users_page;
  GtkWidget     *mail_page;
  GtkWidget     *unbuilt_page;
  GtkWidget     *service_page;
  GtkWidget     *funds_page;
  GtkWidget     *network_page;
  GtkWidget     *connection_test_page;
  char          *state_dir;
  PmConnection  *connection;        /* the data center link, or NULL (connection_problem) */
  char          *connection_problem;
  GtkWidget     *status_bar;
  GdkMonitor    *fitted_monitor;    /* kiosk: the monitor whose size the window takes */
};

G_DEFINE_FINAL_TYPE (PmWindow, pm_window, ADW_TYPE_APPLICATION_WINDOW)

enum
{
  PROP_0,
  PROP_KIOSK,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static const Screen *
find_screen (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (screens); i++)
    if (g_strcmp0 (screens[i].name, name) == 0)
      return &screens[i];

  return NULL;
}

static void set_up_cb (PmWindow *self,
                       PmUser   *user);

/* Only the Lock page is built with the window, so the first frame comes quickly; the
 * others are made the first time they are needed and then kept. */
static GtkWidget *
ensure_page (PmWindow   *self,
             const char *name)
{
  GtkWidget *page = gtk_stack_get_child_by_name (GTK_STACK (self->stack), name);

  if (page != NULL)
    return page;

  if (g_strcmp0 (name, "setup") == 0)
    {
      page = self->setup_page = g_object_new (PM_TYPE_SETUP_PAGE, NULL);
      pm_setup_page_set_access (PM_SETUP_PAGE (page), self->access);
      g_signal_connect_swapped (page, "set-up", G_CALLBACK (set_up_cb), self);
    }
  else if (g_strcmp0 (name, "home") == 0)
    {
      page = self->home_page = g_object_new (PM_TYPE_HOME_PAGE, NULL);
      pm_home_page_set_user (PM_HOME_PAGE (page), self->user);
    }
  else if (g_strcmp0 (name, "settings") == 0)
    {
      page = self->settings_page = g_object_new (PM_TYPE_SETTINGS_PAGE, NULL);
      pm_settings_page_set_user (PM_SETTINGS_PAGE (page), self->user);
      pm_settings_page_set_state_dir (PM_SETTINGS_PAGE (page), self->state_dir);
    }
  else if (g_strcmp0 (name, "users") == 0)
    {
      page = self->users_page = g_object_new (PM_TYPE_USERS_PAGE, NULL);
      pm_users_page_set_access (PM_USERS_PAGE (page), self->access);
      pm_users_page_set_actor (PM_USERS_PAGE (page), self->user);
    }
  else if (g_strcmp0 (name, "funds") == 0)
    {
      page = self->funds_page = g_object_new (PM_TYPE_FUNDS_PAGE, NULL);
      pm_funds_page_set_user (PM_FUNDS_PAGE (page), self->user);
      pm_funds_page_set_connection (PM_FUNDS_PAGE (page), self->connection,
                                    self->connection_problem);
    }
  else if (g_strcmp0 (name, "network") == 0)
    {
      page = self->network_page = g_object_new (PM_TYPE_NETWORK_PAGE, NULL);
      pm_network_page_set_user (PM_NETWORK_PAGE (page), self->user);
      pm_network_page_set_connection (PM_NETWORK_PAGE (page), self->connection,
                                      self->connection_problem);
    }
  else if (g_strcmp0 (name, "connection-test") == 0)
    {
      page = self->connection_test_page = g_object_new (PM_TYPE_CONNECTION_TEST_PAGE, NULL);
      pm_connection_test_page_set_connection (PM_CONNECTION_TEST_PAGE (page),
                                              self->connection, self->connection_problem);
    }
  else if (g_strcmp0 (name, "mail") == 0)
    {
      page = self->mail_page = g_object_new (PM_TYPE_MAIL_PAGE, NULL);
      pm_mail_page_set_user (PM_MAIL_PAGE (page), self->user);
    }
  else if (g_strcmp0 (name, "unbuilt") == 0)
    page = self->unbuilt_page = g_object_new (PM_TYPE_UNBUILT_PAGE, NULL);
  else if (g_strcmp0 (name, "service") == 0)
    {
      page = self->service_page = g_object_new (PM_TYPE_SERVICE_PAGE, NULL);
      pm_service_page_set_connection (PM_SERVICE_PAGE (page), self->connection,
                                      self->connection_problem);
    }
  else
    g_return_val_if_reached (NULL);

  gtk_stack_add_named (GTK_STACK (self->stack), page, name);
  return page;
}

static void
show_page (PmWindow   *self,
           const char *name,
           const char *title)
{
  gboolean signed_in_page;

  signed_in_page = self->user != NULL &&
                   g_strcmp0 (name, "lock") != 0 &&
                   g_strcmp0 (name, "setup") != 0 &&
                   g_strcmp0 (name, "loading") != 0;

  gtk_widget_set_visible (self->top_bar, signed_in_page);
  gtk_widget_set_visible (self->status_bar, signed_in_page);
  gtk_widget_set_visible (self->home_button, g_strcmp0 (name, "home") != 0);
  gtk_widget_set_visible (self->brand_label, g_strcmp0 (name, "home") == 0);
  gtk_label_set_text (GTK_LABEL (self->title_label), title != NULL ? title : "");

  ensure_page (self, name);

  /* The first real page replaces "Starting the meter…" at once rather than fading over it:
   * a fade would draw both pages, spinner and all, for the first frames. */
  if (g_strcmp0 (gtk_stack_get_visible_child_name (GTK_STACK (self->stack)), "loading") == 0)
    gtk_stack_set_visible_child_full (GTK_STACK (self->stack), name,
                                      GTK_STACK_TRANSITION_TYPE_NONE);
  else
    gtk_stack_set_visible_child_name (GTK_STACK (self->stack), name);
}

/* Idle lock ------------------------------------------------------------------------------ */

static gboolean
activity_cb (GtkEventControllerLegacy *controller,
             GdkEvent                 *event,
             PmWindow                 *self)
{
  /* A touch, click, key, scroll or pointer movement counts. Crossing and focus events do
   * not: GTK makes those itself when a page changes under a still pointer, and for the same
   * reason a motion only counts when the pointer really moved. The event goes on unchanged
   * either way. */
  switch (gdk_event_get_event_type (event))
    {
    case GDK_MOTION_NOTIFY:
      {
        double x, y;

        if (!gdk_event_get_position (event, &x, &y) ||
            (G_APPROX_VALUE (x, self->pointer_x, 0.5) &&
             G_APPROX_VALUE (y, self->pointer_y, 0.5)))
          break;

        self->pointer_x = x;
        self->pointer_y = y;
        self->last_activity_us = pm_clock_now_us ();
      }
      break;

    case GDK_BUTTON_PRESS:
    case GDK_BUTTON_RELEASE:
    case GDK_KEY_PRESS:
    case GDK_KEY_RELEASE:
    case GDK_SCROLL:
    case GDK_TOUCH_BEGIN:
    case GDK_TOUCH_UPDATE:
    case GDK_TOUCH_END:
    case GDK_TOUCHPAD_SWIPE:
    case GDK_TOUCHPAD_PINCH:
    case GDK_TOUCHPAD_HOLD:
      self->last_activity_us = pm_clock_now_us ();
      break;

    default:
      break;
    }

  return GDK_EVENT_PROPAGATE;
}

/* Once a second while someone is signed in. The clock is pm_clock, so a test can move time
 * instead of waiting; the period is read from GSettings each time, so a changed setting
 * applies at once. */
static gboolean
idle_tick_cb (gpointer user_data)
{
  PmWindow *self = PM_WINDOW (user_data);
  gint64 now_us = pm_clock_now_us ();
  gint64 limit_us;

  limit_us = (gint64) g_settings_get_uint (self->settings, PM_SETTINGS_IDLE_LOCK_SECONDS) *
             G_USEC_PER_SEC;

  /* A clock set backwards must not postpone the lock: count from the new time. */
  if (now_us < self->last_activity_us)
    self->last_activity_us = now_us;

  if (now_us - self->last_activity_us >= limit_us)
    {
      self->idle_tick_id = 0;
      pm_window_lock (self, "idle");
      return G_SOURCE_REMOVE;
    }

  return G_SOURCE_CONTINUE;
}

static void
start_idle_timer (PmWindow *self)
{
  self->last_activity_us = pm_clock_now_us ();
  if (self->idle_tick_id == 0)
    self->idle_tick_id = g_timeout_add_seconds (1, idle_tick_cb, self);
}

/* Notices ------------------------------------------------------------------------------- */

/* A short message, like a toast, laid over the status line so that it never covers a
 * button of the page. It is a plain revealer rather than AdwToastOverlay because a lock
 * must clear it at once, and dismissing queued toasts quickly crashes libadwaita 1.2. */
static void
dismiss_notice (PmWindow *self)
{
  g_clear_handle_id (&self->notice_timeout_id, g_source_remove);
  gtk_revealer_set_reveal_child (GTK_REVEALER (self->notice_revealer), FALSE);
  gtk_widget_set_can_target (self->notice_revealer, FALSE);
}

static gboolean
notice_timeout_cb (gpointer user_data)
{
  PmWindow *self = PM_WINDOW (user_data);

  self->notice_timeout_id = 0;
  dismiss_notice (self);
  return G_SOURCE_REMOVE;
}

/* Signing in and out --------------------------------------------------------------------- */

static void
set_user (PmWindow     *self,
          const PmUser *user)
{
  g_clear_pointer (&self->user, pm_user_free);
  if (user != NULL)
    self->user = pm_user_copy (user);

  if (self->home_page != NULL)
    pm_home_page_set_user (PM_HOME_PAGE (self->home_page), user);
  if (self->settings_page != NULL)
    pm_settings_page_set_user (PM_SETTINGS_PAGE (self->settings_page), user);
  if (self->users_page != NULL)
    pm_users_page_set_actor (PM_USERS_PAGE (self->users_page), user);
  if (self->funds_page != NULL)
    pm_funds_page_set_user (PM_FUNDS_PAGE (self->funds_page), user);
  if (self->network_page != NULL)
    pm_network_page_set_user (PM_NETWORK_PAGE (self->network_page), user);
  if (self->mail_page != NULL)
    pm_mail_page_set_user (PM_MAIL_PAGE (self->mail_page), user);

  if (user != NULL)
    {
      gtk_label_set_text (GTK_LABEL (self->user_label), user->name);
      gtk_label_set_text (GTK_LABEL (self->role_label), pm_role_display_name (user->role));
    }
  else
    {
      gtk_label_set_text (GTK_LABEL (self->user_label), "");
      gtk_label_set_text (GTK_LABEL (self->role_label), "");
    }
}

static void
signed_in_cb (PmWindow *self,
              PmUser   *user)
{
  g_message ("Signed in: %s (%s)", user->name, pm_role_to_string (user->role));

  dismiss_notice (self);

  set_user (self, user);
  show_page (self, "home", _("Home"));
  start_idle_timer (self);
}

static void
set_up_cb (PmWindow *self,
           PmUser   *user)
{
  g_autofree char *notice = NULL;

  /* The new supervisor signs in like everyone else, which also proves the code works. */
  pm_lock_page_reset (PM_LOCK_PAGE (self->lock_page));
  notice = g_strdup_printf (_("%s is set up as supervisor. Unlock with the new code."),
                            user->name);
  pm_window_show_toast (self, notice);
  show_page (self, "lock", NULL);
}

void
pm_window_lock (PmWindow   *self,
                const char *reason)
{
  g_return_if_fail (PM_IS_WINDOW (self));

  g_clear_handle_id (&self->idle_tick_id, g_source_remove);

  /* What was said to one person is not left on screen for the next. */
  dismiss_notice (self);

  if (self->user != NULL)
    {
      g_message ("Signed out (%s)", reason != NULL ? reason : "log out");
      if (self->access != NULL)
        pm_access_sign_out (self->access, self->user, reason);
      set_user (self, NULL);
    }

  /* A window on the service page stays there: locking must not hide a fault. */
  if (g_strcmp0 (pm_window_get_page_name (self), "service") == 0 &&
      pm_service_page_is_fault (PM_SERVICE_PAGE (self->service_page)))
    return;
  if (self->access == NULL)
    return;

  pm_lock_page_reset (PM_LOCK_PAGE (self->lock_page));
  show_page (self, "lock", NULL);
}

/* Start: first start or Lock ------------------------------------------------------------- */

static void
has_users_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  PmWindow *self;
  gboolean has_users = FALSE;
  g_autoptr(GError) error = NULL;

  if (!pm_access_has_users_finish (PM_ACCESS (source), result, &has_users, &error) &&
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = PM_WINDOW (user_data);

  if (error != NULL)
    {
      g_warning ("Could not read the users: %s", error->message);
      pm_window_show_service (self,
                              _("The meter could not read its list of users from its "
                                "database."),
                              _("Restart the meter. If this screen comes back, call "
                                "support and do not move or delete any files."),
                              error->message);
      return;
    }

  if (has_users)
    {
      pm_lock_page_reset (PM_LOCK_PAGE (self->lock_page));
      show_page (self, "lock", NULL);
    }
  else
    {
      ensure_page (self, "setup");
      pm_setup_page_reset (PM_SETUP_PAGE (self->setup_page));
      show_page (self, "setup", NULL);
    }
}

void
pm_window_set_access (PmWindow *self,
                      PmAccess *access)
{
  g_return_if_fail (PM_IS_WINDOW (self));
  g_return_if_fail (access == NULL || PM_IS_ACCESS (access));

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();

  pm_window_lock (self, "restart");
  g_set_object (&self->access, access);
  pm_lock_page_set_access (PM_LOCK_PAGE (self->lock_page), access);
  if (self->setup_page != NULL)
    pm_setup_page_set_access (PM_SETUP_PAGE (self->setup_page), access);
  if (self->users_page != NULL)
    pm_users_page_set_access (PM_USERS_PAGE (self->users_page), access);

  if (access == NULL)
    {
      pm_window_show_loading (self);
      return;
    }

  pm_window_show_loading (self);
  pm_access_has_users_async (access, self->cancellable, has_users_cb, self);
}

void
pm_window_show_loading (PmWindow *self)
{
  g_return_if_fail (PM_IS_WINDOW (self));

  show_page (self, "loading", NULL);
}

void
pm_window_show_service (PmWindow   *self,
                        const char *what_happened,
                        const char *what_to_do,
                        const char *details)
{
  g_return_if_fail (PM_IS_WINDOW (self));

  pm_window_lock (self, "service");
  ensure_page (self, "service");
  pm_service_page_set_problem (PM_SERVICE_PAGE (self->service_page), what_happened,
                               what_to_do, details);
  show_page (self, "service", NULL);
}

void
pm_window_set_state_dir (PmWindow   *self,
                         const char *state_dir)
{
  g_return_if_fail (PM_IS_WINDOW (self));

  g_free (self->state_dir);
  self->state_dir = g_strdup (state_dir);
  if (self->settings_page != NULL)
    pm_settings_page_set_state_dir (PM_SETTINGS_PAGE (self->settings_page), state_dir);
}

void
pm_window_show_toast (PmWindow   *self,
                      const char *text)
{
  g_return_if_fail (PM_IS_WINDOW (self));
  g_return_if_fail (text != NULL);

  g_free (self->last_toast);
  self->last_toast = g_strdup (text);

  /* A new message replaces the one on screen: the newest is the one that matters. */
  gtk_label_set_text (GTK_LABEL (self->notice_label), text);
  gtk_widget_set_visible (self->notice_revealer, TRUE);
  gtk_widget_set_can_target (self->notice_revealer, TRUE);
  gtk_revealer_set_reveal_child (GTK_REVEALER (self->notice_revealer), TRUE);

  g_clear_handle_id (&self->notice_timeout_id, g_source_remove);
  self->notice_timeout_id = g_timeout_add_seconds (6, notice_timeout_cb, self);
}

/* Actions -------------------------------------------------------------------------------- */

static void
open_page_action (GSimpleAction *action,
                  GVariant      *parameter,
                  gpointer       user_data)
{
  PmWindow *self = PM_WINDOW (user_data);
  const char *name = g_variant_get_string (parameter, NULL);
  const Screen *screen = find_screen (name);

  if (self->user == NULL)
    return;

  if (g_strcmp0 (name, "home") == 0)
    {
      show_page (self, "home", _("Home"));
      return;
    }

  if (screen == NULL)
    {
      g_warning ("No screen called “%s”", name);
      return;
    }

  if (g_strcmp0 (name, "settings") == 0)
    {
      show_page (self, "settings", _(screen->title));
      return;
    }

  if (g_strcmp0 (name, "funds") == 0 || g_strcmp0 (name, "network") == 0)
    {
      ensure_page (self, name);
      if (self->funds_page != NULL && g_strcmp0 (name, "funds") == 0)
        pm_funds_page_refresh (PM_FUNDS_PAGE (self->funds_page));
      show_page (self, name, _(screen->title));
      return;
    }

  if (g_strcmp0 (name, "connection-test") == 0)
    {
      ensure_page (self, name);
      show_page (self, name, _(screen->title));
      pm_connection_test_page_run (PM_CONNECTION_TEST_PAGE (self->connection_test_page));
      return;
    }

  if (g_strcmp0 (name, "mail") == 0)
    {
      show_page (self, "mail", _(screen->title));
      return;
    }

  if (g_strcmp0 (name, "service") == 0)
    {
      if (self->user->role != PM_ROLE_SUPPORT)
        {
          pm_window_show_toast (self, _("Only support staff can open the service screen."));
          return;
        }

      ensure_page (self, "service");
      pm_service_page_show_tools (PM_SERVICE_PAGE (self->service_page));
      show_page (self, "service", _(screen->title));
      return;
    }

  if (g_strcmp0 (name, "users") == 0)
    {
      if (self->user->role != PM_ROLE_SUPERVISOR)
        {
          pm_window_show_toast (self, _("Only a supervisor can manage users."));
          return;
        }

      ensure_page (self, "users");
      pm_users_page_refresh (PM_USERS_PAGE (self->users_page));
      show_page (self, "users", _(screen->title));
      return;
    }

  ensure_page (self, "unbuilt");
  pm_unbuilt_page_set_screen (PM_UNBUILT_PAGE (self->unbuilt_page), _(screen->title),
                              screen->icon_name);
  show_page (self, "unbuilt", _(screen->title));
}

static void
go_home_action (GSimpleAction *action,
                GVariant      *parameter,
                gpointer       user_data)
{
  PmWindow *self = PM_WINDOW (user_data);

  if (self->user != NULL)
    show_page (self, "home", _("Home"));
}

static void
lock_action (GSimpleAction *action,
             GVariant      *parameter,
             gpointer       user_data)
{
  pm_window_lock (PM_WINDOW (user_data), "lock");
}

static void
dismiss_notice_action (GSimpleAction *action,
                       GVariant      *parameter,
                       gpointer       user_data)
{
  dismiss_notice (PM_WINDOW (user_data));
}

static void
show_toast_action (GSimpleAction *action,
                   GVariant      *parameter,
                   gpointer       user_data)
{
  pm_window_show_toast (PM_WINDOW (user_data), g_variant_get_string (parameter, NULL));
}

static const GActionEntry win_actions[] = {
  { "open-page", open_page_action, "s" },
  { "go-home", go_home_action },
  { "lock", lock_action },
  { "show-toast", show_toast_action, "s" },
  { "dismiss-notice", dismiss_notice_action },
};

/* Status line ---------------------------------------------------------------------------- */

static void
update_status_item (PmWindow     *self,
                    PmStatusItem  item)
{
  GtkWidget *label = GTK_WIDGET (self->status_values[item]);
  GtkWidget *box = gtk_widget_get_parent (label);
  PmStatusLevel level = pm_status_get_level (self->status, item);
  g_autofree char *description = NULL;

  gtk_label_set_text (GTK_LABEL (label), pm_status_get_text (self->status, item));

  for (PmStatusLevel l = PM_STATUS_LEVEL_UNKNOWN; l <= PM_STATUS_LEVEL_ERROR; l++)
    gtk_widget_remove_css_class (box, pm_status_level_css_class (l));
  gtk_widget_add_css_class (box, pm_status_level_css_class (level));

  description = g_strdup_printf ("%s: %s", pm_status_item_title (item),
                                 pm_status_get_text (self->status, item));
  gtk_accessible_update_property (GTK_ACCESSIBLE (box), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  description, -1);
}

static void
status_notify_cb (PmStatus   *status,
                  GParamSpec *pspec,
                  PmWindow   *self)
{
  for (PmStatusItem item = 0; item < PM_STATUS_N_ITEMS; item++)
    update_status_item (self, item);
}

static void
build_status_bar (PmWindow *self)
{
  for (PmStatusItem item = 0; item < PM_STATUS_N_ITEMS; item++)
    {
      GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
      GtkWidget *dot = gtk_label_new ("●");
      GtkWidget *title = gtk_label_new (pm_status_item_title (item));
      GtkWidget *value = gtk_label_new (NULL);

      gtk_widget_add_css_class (box, "status-item");
      gtk_widget_add_css_class (dot, "status-dot");
      gtk_widget_add_css_class (title, "status-title");
      gtk_widget_add_css_class (value, "status-value");
      gtk_label_set_ellipsize (GTK_LABEL (value), PANGO_ELLIPSIZE_END);
      gtk_widget_set_hexpand (box, TRUE);

      gtk_box_append (GTK_BOX (box), dot);
      gtk_box_append (GTK_BOX (box), title);
      gtk_box_append (GTK_BOX (box), value);
      gtk_box_append (GTK_BOX (self->status_bar), box);

      self->status_values[item] = GTK_LABEL (value);
      update_status_item (self, item);
    }

  g_signal_connect_object (self->status, "notify", G_CALLBACK (status_notify_cb), self, 0);
}

/* Kiosk size --------------------------------------------------------------------------- */

/* The monitor the kiosk covers: the one the window is on once it has a surface, else
 * the first the display knows. Returns a new reference, or NULL with no monitor at all. */
static GdkMonitor *
kiosk_monitor (PmWindow *self)
{
  GdkDisplay *display = gtk_widget_get_display (GTK_WIDGET (self));
  GdkSurface *surface = gtk_native_get_surface (GTK_NATIVE (self));
  GListModel *monitors;

  if (surface != NULL)
    {
      GdkMonitor *monitor = gdk_display_get_monitor_at_surface (display, surface);

      if (monitor != NULL)
        return g_object_ref (monitor);
    }

  monitors = gdk_display_get_monitors (display);
  if (g_list_model_get_n_items (monitors) == 0)
    return NULL;

  return g_list_model_get_item (monitors, 0);
}

/* Full screen is a request that only a window manager or compositor carries out. A
 * kiosk often runs with none (a bare X server, cage without the request, Broadway), so
 * the window also asks for the monitor's whole size: it then covers the screen either
 * way instead of shrinking to the size of its first page. */
static void
fit_to_monitor (PmWindow *self)
{
  g_autoptr(GdkMonitor) monitor = kiosk_monitor (self);
  GdkRectangle geometry;

  if (monitor == NULL)
    return;

  gdk_monitor_get_geometry (monitor, &geometry);
  if (geometry.width <= 0 || geometry.height <= 0)
    return;

  g_debug ("Kiosk window sized to its monitor, %dx%d", geometry.width, geometry.height);
  gtk_window_set_default_size (GTK_WINDOW (self), geometry.width, geometry.height);

  if (self->fitted_monitor != monitor)
    {
      if (self->fitted_monitor != NULL)
        g_signal_handlers_disconnect_by_data (self->fitted_monitor, self);
      g_set_object (&self->fitted_monitor, monitor);
      g_signal_connect_object (monitor, "notify::geometry", G_CALLBACK (fit_to_monitor),
                               self, G_CONNECT_SWAPPED);
    }
}

/* First frame, for the start-up benchmark ------------------------------------------------ */

static void
after_paint_cb (GdkFrameClock *clock,
                PmWindow      *self)
{
  const char *path = g_getenv ("POSTMETER_FIRST_FRAME_FILE");
  const char *page = pm_window_get_page_name (self);
  g_autofree char *line = NULL;
  g_autoptr(GError) error = NULL;
  struct timespec cpu;

  /* Only a frame that shows the whole page counts, never one of a fade into it. */
  if (g_strcmp0 (page, "loading") == 0 ||
      gtk_stack_get_transition_running (GTK_STACK (self->stack)))
    return;

  g_clear_signal_handler (&self->after_paint_id, clock);

  /* CLOCK_MONOTONIC is shared by every process, so the benchmark can subtract its own
   * start time from this. The CPU time of all threads so far measures the work done,
   * which a busy machine disturbs less than the time taken. */
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &cpu);
  line = g_strdup_printf ("%" G_GINT64_FORMAT " %s %" G_GINT64_FORMAT "\n",
                          g_get_monotonic_time (), page,
                          (gint64) cpu.tv_sec * G_USEC_PER_SEC + cpu.tv_nsec / 1000);
  if (!g_file_set_contents (path, line, -1, &error))
    g_warning ("Could not write the first-frame mark: %s", error->message);
}

static void
pm_window_realize (GtkWidget *widget)
{
  PmWindow *self = PM_WINDOW (widget);

  GTK_WIDGET_CLASS (pm_window_parent_class)->realize (widget);

  /* Now the window has a surface, it knows its own monitor. */
  if (self->kiosk)
    fit_to_monitor (self);

  if (g_getenv ("POSTMETER_FIRST_FRAME_FILE") != NULL)
    self->after_paint_id = g_signal_connect (gtk_widget_get_frame_clock (widget),
                                             "after-paint", G_CALLBACK (after_paint_cb),
                                             self);
}

static void
pm_window_unrealize (GtkWidget *widget)
{
  PmWindow *self = PM_WINDOW (widget);

  if (self->after_paint_id != 0)
    g_clear_signal_handler (&self->after_paint_id, gtk_widget_get_frame_clock (widget));

  GTK_WIDGET_CLASS (pm_window_parent_class)->unrealize (widget);
}

/* Kiosk lock-down ------------------------------------------------------------------------ */

static gboolean
pm_window_enable_debugging (GtkWindow *window,
                            gboolean   toggle)
{
  PmWindow *self = PM_WINDOW (window);

  /* The inspector can change anything on screen: never in a kiosk. */
  if (self->kiosk)
    return TRUE;

  return GTK_WINDOW_CLASS (pm_window_parent_class)->enable_debugging (window, toggle);
}

/* GObject -------------------------------------------------------------------------------- */

static void
pm_window_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  switch (prop_id)
    {
    case PROP_KIOSK:
      g_value_set_boolean (value, PM_WINDOW (object)->kiosk);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pm_window_set_property (GObject      *object,
                        guint         prop_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  switch (prop_id)
    {
    case PROP_KIOSK:
      PM_WINDOW (object)->kiosk = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pm_window_constructed (GObject *object)
{
  PmWindow *self = PM_WINDOW (object);

  G_OBJECT_CLASS (pm_window_parent_class)->constructed (object);

  /* A kiosk window stays resizable: a window manager refuses to make a window of fixed
   * size full screen, and with no window manager nobody can resize it anyway. */
  if (self->kiosk)
    {
      gtk_widget_add_css_class (GTK_WIDGET (self), "kiosk");
      gtk_window_set_decorated (GTK_WINDOW (self), FALSE);
      gtk_window_set_deletable (GTK_WINDOW (self), FALSE);
      fit_to_monitor (self);
    }
  else
    gtk_window_set_default_size (GTK_WINDOW (self), 1280, 800);
}

static void
pm_window_dispose (GObject *object)
{
  PmWindow *self = PM_WINDOW (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->idle_tick_id, g_source_remove);
  g_clear_handle_id (&self->notice_timeout_id, g_source_remove);
  if (self->fitted_monitor != NULL)
    g_signal_handlers_disconnect_by_data (self->fitted_monitor, self);
  g_clear_object (&self->fitted_monitor);
  gtk_widget_dispose_template (GTK_WIDGET (self), PM_TYPE_WINDOW);
  self->setup_page = self->home_page = self->settings_page = NULL;
  self->users_page = self->unbuilt_page = self->service_page = NULL;
  self->funds_page = self->network_page = self->connection_test_page = NULL;
  g_clear_object (&self->connection);
  self->mail_page = NULL;

  G_OBJECT_CLASS (pm_window_parent_class)->dispose (object);
}

static void
pm_window_finalize (GObject *object)
{
  PmWindow *self = PM_WINDOW (object);

  g_clear_object (&self->cancellable);
  g_clear_object (&self->access);
  g_clear_object (&self->status);
  g_clear_object (&self->settings);
  g_clear_pointer (&self->user, pm_user_free);
  g_clear_pointer (&self->last_toast, g_free);
  g_clear_pointer (&self->state_dir, g_free);
  g_clear_pointer (&self->connection_problem, g_free);

  G_OBJECT_CLASS (pm_window_parent_class)->finalize (object);
}

static void
pm_window_class_init (PmWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->constructed = pm_window_constructed;
  object_class->dispose = pm_window_dispose;
  object_class->finalize = pm_window_finalize;
  object_class->get_property = pm_window_get_property;
  object_class->set_property = pm_window_set_property;
  widget_class->realize = pm_window_realize;
  widget_class->unrealize = pm_window_unrealize;
  window_class->enable_debugging = pm_window_enable_debugging;

  properties[PROP_KIOSK] =
    g_param_spec_boolean ("kiosk", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (PM_TYPE_LOCK_PAGE);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/postmeter/Kiosk/pm-window.ui");
  gtk_widget_class_bind_template_child (widget_class, PmWindow, notice_revealer);
  gtk_widget_class_bind_template_child (widget_class, PmWindow, notice_label);
  gtk_widget_class_bind_template_child (widget_class, PmWindow, top_bar);
  gtk_widget_class_bind_template_child (widget_class, PmWindow, brand_label);
  gtk_widget_class_bind_template_child (widget_class, PmWindow, home_button);
  gtk_widget_class_bind_template_child (widget_class, PmWindow, title_label);
  gtk_widget_class_bind_template_child (widget_class, PmWindow, user_label);
  gtk_widget_class_bind_template_child (widget_class, PmWindow, role_label);
  gtk_widget_class_bind_template_child (widget_class, PmWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, PmWindow, lock_page);
  gtk_widget_class_bind_template_child (widget_class, PmWindow, status_bar);
  gtk_widget_class_bind_template_callback (widget_class, signed_in_cb);
  gtk_widget_class_bind_template_callback (widget_class, activity_cb);
}

static void
pm_window_init (PmWindow *self)
{
  self->kiosk = TRUE;
  self->cancellable = g_cancellable_new ();
  self->status = pm_status_new ();
  self->settings = g_settings_new (PM_SETTINGS_SCHEMA);

  gtk_widget_init_template (GTK_WIDGET (self));

  g_action_map_add_action_entries (G_ACTION_MAP (self), win_actions,
                                   G_N_ELEMENTS (win_actions), self);
  build_status_bar (self);
  show_page (self, "loading", NULL);
}

PmWindow *
pm_window_new (GtkApplication *application,
               gboolean        kiosk)
{
  g_return_val_if_fail (GTK_IS_APPLICATION (application), NULL);

  return g_object_new (PM_TYPE_WINDOW,
                       "application", application,
                       "kiosk", kiosk,
                       NULL);
}

PmStatus *
pm_window_get_status (PmWindow *self)
{
  g_return_val_if_fail (PM_IS_WINDOW (self), NULL);

  return self->status;
}

const PmUser *
pm_window_get_user (PmWindow *self)
{
  g_return_val_if_fail (PM_IS_WINDOW (self), NULL);

  return self->user;
}

const char *
pm_window_get_page_name (PmWindow *self)
{
  g_return_val_if_fail (PM_IS_WINDOW (self), NULL);

  return gtk_stack_get_visible_child_name (GTK_STACK (self->stack));
}

/**
 * pm_window_get_page:
 *
 * Returns: (transfer none) (nullable): the page widget called @name, so a test can drive
 * its actions
 */
GtkWidget *
pm_window_get_page (PmWindow   *self,
                    const char *name)
{
  g_return_val_if_fail (PM_IS_WINDOW (self), NULL);

  if (g_strcmp0 (name, "lock") == 0 || g_strcmp0 (name, "loading") == 0)
    return gtk_stack_get_child_by_name (GTK_STACK (self->stack), name);

  return ensure_page (self, name);
}

const char *
pm_window_get_last_toast (PmWindow *self)
{
  g_return_val_if_fail (PM_IS_WINDOW (self), NULL);

  return self->last_toast;
}

/**
 * pm_window_set_connection:
 * @connection: (nullable): the link to the data center
 * @problem: (nullable): why there is none, in words for the screen
 *
 * Hands the data center connection to the pages that show or use it (Funds, Network,
 * Test connection). The application keeps the status line in step with it.
 */
void
pm_window_set_connection (PmWindow     *self,
                          PmConnection *connection,
                          const char   *problem)
{
  g_return_if_fail (PM_IS_WINDOW (self));
  g_return_if_fail (connection == NULL || PM_IS_CONNECTION (connection));

  g_set_object (&self->connection, connection);
  g_free (self->connection_problem);
  self->connection_problem = g_strdup (problem);

  if (self->funds_page != NULL)
    pm_funds_page_set_connection (PM_FUNDS_PAGE (self->funds_page), connection, problem);
  if (self->network_page != NULL)
    pm_network_page_set_connection (PM_NETWORK_PAGE (self->network_page), connection,
                                    problem);
  if (self->service_page != NULL)
    pm_service_page_set_connection (PM_SERVICE_PAGE (self->service_page), connection,
                                    problem);
  if (self->connection_test_page != NULL)
    pm_connection_test_page_set_connection (PM_CONNECTION_TEST_PAGE
                                              (self->connection_test_page),
                                            connection, problem);
}
