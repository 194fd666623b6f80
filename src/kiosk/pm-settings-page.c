/* pm-settings-page.c: Settings; main thread only */
#include "pm-settings-page.h"

#include <adwaita.h>
#include <glib/gi18n.h>

#include "pm-application.h"
#include "pm-money.h"
#include "pm-print-flow.h"
#include "pm-settings-keys.h"
#include "pm-store-records.h"

/* The defaults the Mail page and the print flow use until a supervisor sets them. */
#define LOW_FUNDS_DEFAULT   (50 * PM_MILLS_PER_DOLLAR)
#define KEY_IN_DEFAULT      (20 * PM_MILLS_PER_DOLLAR)
/* Far above any meter's funds or a single piece's postage: a typed amount beyond it is a
 * slip of the finger, not a threshold. */
#define THRESHOLD_MAX       (10000 * PM_MILLS_PER_DOLLAR)

struct _PmSettingsPage
{
  GtkWidget  parent_instance;

  GSettings *settings;  /* owned; main thread */
  GCancellable *cancellable;
  gint64     user_id;     /* the supervisor signed in, or 0 */
  gboolean   supervisor;
  /* The printing thresholds as the store holds them, -1 until read. */
  PmMills    low_funds;
  PmMills    key_in;
  /* Being saved: the values, and how many writes are still on their way. */
  PmMills    saving_low_funds;
  PmMills    saving_key_in;
  guint      saving;
  gboolean   save_failed;

  /* Template children. */
  GtkWidget *users_group;
  GtkWidget *service_group;
  GtkWidget *idle_spin;
  GtkWidget *idle_row;
  GtkWidget *version_row;
  GtkWidget *state_dir_row;
  GtkWidget *printing_group;
  GtkWidget *printing_save_button;
  GtkWidget *low_funds_row;
  GtkWidget *low_funds_entry;
  GtkWidget *key_in_row;
  GtkWidget *key_in_entry;
  GtkWidget *printing_message;
};

G_DEFINE_FINAL_TYPE (PmSettingsPage, pm_settings_page, GTK_TYPE_WIDGET)

static void
pm_settings_page_dispose (GObject *object)
{
  PmSettingsPage *self = PM_SETTINGS_PAGE (object);

  g_cancellable_cancel (self->cancellable);
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
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (pm_settings_page_parent_class)->finalize (object);
}

static PmApplication *
application (PmSettingsPage *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkApplication *app;

  if (!GTK_IS_WINDOW (root))
    return NULL;
  app = gtk_window_get_application (GTK_WINDOW (root));
  return PM_IS_APPLICATION (app) ? PM_APPLICATION (app) : NULL;
}

static void
show_printing_message (PmSettingsPage *self,
                       const char     *text,
                       gboolean        is_error)
{
  gtk_label_set_text (GTK_LABEL (self->printing_message), text);
  gtk_widget_set_visible (self->printing_message, text != NULL && *text != '\0');
  if (is_error)
    gtk_widget_add_css_class (self->printing_message, "error");
  else
    gtk_widget_remove_css_class (self->printing_message, "error");
}

static void
show_amount (GtkWidget *entry,
             PmMills    mills)
{
  g_autofree char *text = pm_money_format (mills);

  gtk_editable_set_text (GTK_EDITABLE (entry), text);
}

/* Printing thresholds ---------------------------------------------------------------------- */

typedef struct
{
  PmSettingsPage *self;   /* weak: the callback checks the cancellable first */
  gboolean        low_funds;
} ThresholdRead;

static void
threshold_read_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autofree ThresholdRead *read = user_data;
  g_autoptr(GError) error = NULL;
  gint64 value = 0;
  PmSettingsPage *self;

  if (!pm_store_get_setting_int_finish (PM_STORE (source), result, &value, &error)
      && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self = read->self;
  if (error != NULL)
    {
      show_printing_message (self, error->message, TRUE);
      return;
    }
  if (read->low_funds)
    {
      self->low_funds = value;
      show_amount (self->low_funds_entry, value);
    }
  else
    {
      self->key_in = value;
      show_amount (self->key_in_entry, value);
    }
}

/* The thresholds as the store holds them, into the entries. */
static void
load_thresholds (PmSettingsPage *self)
{
  PmApplication *app = application (self);
  PmStore *store = app != NULL ? pm_application_get_store (app) : NULL;
  ThresholdRead *read;

  if (store == NULL || self->saving > 0)
    return;

  read = g_new0 (ThresholdRead, 1);
  read->self = self;
  read->low_funds = TRUE;
  pm_store_get_setting_int_async (store, PM_STORE_SETTING_LOW_FUNDS_MILLS, LOW_FUNDS_DEFAULT,
                                  self->cancellable, threshold_read_cb, read);
  read = g_new0 (ThresholdRead, 1);
  read->self = self;
  pm_store_get_setting_int_async (store, PM_STORE_SETTING_KEY_IN_CONFIRM_MILLS, KEY_IN_DEFAULT,
                                  self->cancellable, threshold_read_cb, read);
}

/* One typed threshold, checked: an amount of money from $0.00 to THRESHOLD_MAX. */
static gboolean
parse_threshold (GtkWidget  *entry,
                 const char *field,
                 PmMills    *out_mills,
                 GError    **error)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (entry));
  g_autofree char *stripped = g_strstrip (g_strdup (text));

  if (*stripped == '\0')
    {
      g_set_error (error, PM_MONEY_ERROR, PM_MONEY_ERROR_MALFORMED,
                   _("%s: type an amount, e.g. 50.00."), field);
      return FALSE;
    }
  if (!pm_money_parse_field (field, text, out_mills, error))
    return FALSE;
  if (*out_mills > THRESHOLD_MAX)
    {
      g_autofree char *max = pm_money_format (THRESHOLD_MAX);

      g_set_error (error, PM_MONEY_ERROR, PM_MONEY_ERROR_OVERFLOW,
                   _("%s: at most %s."), field, max);
      return FALSE;
    }
  return TRUE;
}

static void
threshold_saved_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  PmSettingsPage *self;
  PmApplication *app;
  PmPrintFlow *flow;

  if (!pm_store_set_setting_int_finish (PM_STORE (source), result, &error)
      && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self = PM_SETTINGS_PAGE (user_data);
  if (error != NULL)
    {
      self->save_failed = TRUE;
      show_printing_message (self, error->message, TRUE);
    }
  if (--self->saving > 0)
    return;

  gtk_widget_set_sensitive (self->printing_save_button, self->supervisor);
  if (self->save_failed)
    {
      /* Show what the store really holds now. */
      load_thresholds (self);
      return;
    }

  self->low_funds = self->saving_low_funds;
  self->key_in = self->saving_key_in;
  show_amount (self->low_funds_entry, self->low_funds);
  show_amount (self->key_in_entry, self->key_in);
  /* The print flow asks for a confirmation from the next piece on; the Mail page reads
   * the low-funds threshold from the store each time it is shown. */
  app = application (self);
  flow = app != NULL ? pm_application_get_print_flow (app) : NULL;
  if (flow != NULL)
    pm_print_flow_set_key_in_threshold (flow, self->key_in);
  show_printing_message (self, _("The printing thresholds are saved."), FALSE);
}

static void
save_printing_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  PmSettingsPage *self = PM_SETTINGS_PAGE (widget);
  PmApplication *app = application (self);
  PmStore *store = app != NULL ? pm_application_get_store (app) : NULL;
  g_autoptr(GError) error = NULL;
  PmMills low_funds = 0;
  PmMills key_in = 0;

  if (!self->supervisor)
    {
      show_printing_message (self, _("Only a supervisor can change the printing "
                                     "thresholds."), TRUE);
      return;
    }
  if (self->saving > 0)
    return;
  if (!parse_threshold (self->low_funds_entry, _("Low-funds warning"), &low_funds, &error)
      || !parse_threshold (self->key_in_entry, _("Key-in confirmation"), &key_in, &error))
    {
      show_printing_message (self, error->message, TRUE);
      return;
    }
  if (store == NULL)
    {
      show_printing_message (self, _("The meter's records are not open yet, so nothing was "
                                     "saved. Try again in a moment."), TRUE);
      return;
    }

  /* Only what changed is written, so the audit log shows real changes. */
  self->saving_low_funds = low_funds;
  self->saving_key_in = key_in;
  self->save_failed = FALSE;
  if (low_funds != self->low_funds)
    {
      self->saving++;
      pm_store_set_setting_int_async (store, PM_STORE_SETTING_LOW_FUNDS_MILLS, low_funds,
                                      self->user_id, self->cancellable, threshold_saved_cb,
                                      self);
    }
  if (key_in != self->key_in)
    {
      self->saving++;
      pm_store_set_setting_int_async (store, PM_STORE_SETTING_KEY_IN_CONFIRM_MILLS, key_in,
                                      self->user_id, self->cancellable, threshold_saved_cb,
                                      self);
    }
  if (self->saving == 0)
    {
      show_printing_message (self, _("Nothing changed."), FALSE);
      return;
    }
  gtk_widget_set_sensitive (self->printing_save_button, FALSE);
  show_printing_message (self, _("Saving…"), FALSE);
}

static void
set_low_funds_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  gtk_editable_set_text (GTK_EDITABLE (PM_SETTINGS_PAGE (widget)->low_funds_entry),
                         g_variant_get_string (parameter, NULL));
}

static void
set_key_in_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  gtk_editable_set_text (GTK_EDITABLE (PM_SETTINGS_PAGE (widget)->key_in_entry),
                         g_variant_get_string (parameter, NULL));
}

static void
pm_settings_page_map (GtkWidget *widget)
{
  GTK_WIDGET_CLASS (pm_settings_page_parent_class)->map (widget);
  load_thresholds (PM_SETTINGS_PAGE (widget));
}

static void
pm_settings_page_class_init (PmSettingsPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = pm_settings_page_dispose;
  object_class->finalize = pm_settings_page_finalize;
  widget_class->map = pm_settings_page_map;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/postmeter/Kiosk/pm-settings-page.ui");
  gtk_widget_class_bind_template_child (widget_class, PmSettingsPage, users_group);
  gtk_widget_class_bind_template_child (widget_class, PmSettingsPage, service_group);
  gtk_widget_class_bind_template_child (widget_class, PmSettingsPage, idle_spin);
  gtk_widget_class_bind_template_child (widget_class, PmSettingsPage, idle_row);
  gtk_widget_class_bind_template_child (widget_class, PmSettingsPage, version_row);
  gtk_widget_class_bind_template_child (widget_class, PmSettingsPage, state_dir_row);
  gtk_widget_class_bind_template_child (widget_class, PmSettingsPage, printing_group);
  gtk_widget_class_bind_template_child (widget_class, PmSettingsPage, printing_save_button);
  gtk_widget_class_bind_template_child (widget_class, PmSettingsPage, low_funds_row);
  gtk_widget_class_bind_template_child (widget_class, PmSettingsPage, low_funds_entry);
  gtk_widget_class_bind_template_child (widget_class, PmSettingsPage, key_in_row);
  gtk_widget_class_bind_template_child (widget_class, PmSettingsPage, key_in_entry);
  gtk_widget_class_bind_template_child (widget_class, PmSettingsPage, printing_message);

  gtk_widget_class_install_action (widget_class, "settings.save-printing", NULL,
                                   save_printing_action);
  gtk_widget_class_install_action (widget_class, "settings.set-low-funds", "s",
                                   set_low_funds_action);
  gtk_widget_class_install_action (widget_class, "settings.set-key-in-threshold", "s",
                                   set_key_in_action);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
pm_settings_page_init (PmSettingsPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->cancellable = g_cancellable_new ();
  self->low_funds = -1;
  self->key_in = -1;

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
  self->supervisor = supervisor;
  self->user_id = supervisor ? user->id : 0;
  gtk_widget_set_visible (self->users_group, supervisor);
  gtk_widget_set_visible (self->service_group, user != NULL && user->role == PM_ROLE_SUPPORT);
  gtk_widget_set_sensitive (self->idle_spin, supervisor);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->idle_row),
                               supervisor
                               ? _("Seconds without a touch before the meter locks itself.")
                               : _("Seconds without a touch before the meter locks itself. "
                                   "Only a supervisor can change this."));

  /* Operators see the thresholds they print under but cannot change them. */
  gtk_widget_set_sensitive (self->low_funds_entry, supervisor);
  gtk_widget_set_sensitive (self->key_in_entry, supervisor);
  gtk_widget_set_visible (self->printing_save_button, supervisor);
  gtk_widget_set_sensitive (self->printing_save_button, supervisor && self->saving == 0);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->low_funds_row),
                               supervisor
                               ? _("The Mail screen warns below this amount.")
                               : _("The Mail screen warns below this amount. Only a "
                                   "supervisor can change this."));
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->key_in_row),
                               supervisor
                               ? _("A keyed-in amount above this is printed only after a "
                                   "second touch.")
                               : _("A keyed-in amount above this is printed only after a "
                                   "second touch. Only a supervisor can change this."));
  show_printing_message (self, NULL, FALSE);
  if (gtk_widget_get_mapped (GTK_WIDGET (self)))
    load_thresholds (self);
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

/* What the Printing group last said: saved, or why not. */
const char *
pm_settings_page_get_printing_message (PmSettingsPage *self)
{
  g_return_val_if_fail (PM_IS_SETTINGS_PAGE (self), NULL);

  if (!gtk_widget_get_visible (self->printing_message))
    return NULL;
  return gtk_label_get_text (GTK_LABEL (self->printing_message));
}

/* The thresholds as shown in the entries. */
const char *
pm_settings_page_get_low_funds_text (PmSettingsPage *self)
{
  g_return_val_if_fail (PM_IS_SETTINGS_PAGE (self), NULL);

  return gtk_editable_get_text (GTK_EDITABLE (self->low_funds_entry));
}

const char *
pm_settings_page_get_key_in_text (PmSettingsPage *self)
{
  g_return_val_if_fail (PM_IS_SETTINGS_PAGE (self), NULL);

  return gtk_editable_get_text (GTK_EDITABLE (self->key_in_entry));
}

gboolean
pm_settings_page_get_printing_editable (PmSettingsPage *self)
{
  g_return_val_if_fail (PM_IS_SETTINGS_PAGE (self), FALSE);

  return gtk_widget_get_sensitive (self->low_funds_entry) &&
         gtk_widget_get_sensitive (self->key_in_entry) &&
         gtk_widget_get_visible (self->printing_save_button);
}
