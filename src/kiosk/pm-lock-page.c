/* pm-lock-page.c: the Lock page; main thread only */
#include "pm-lock-page.h"

#include <glib/gi18n.h>
#include <string.h>

#include "pm-clock.h"
#include "pm-keypad.h"

struct _PmLockPage
{
  GtkWidget     parent_instance;

  /* Owned; main thread. */
  PmAccess     *access;
  GCancellable *cancellable;   /* cancelled on dispose and on reset */
  gint64        locked_until_us;
  guint         countdown_id;
  gboolean      busy;

  /* Template children. */
  GtkWidget    *logo;
  GtkWidget    *clock_label;
  GtkWidget    *prompt_label;
  GtkWidget    *keypad;
  GtkWidget    *message_label;
  GtkWidget    *spinner;
};

G_DEFINE_FINAL_TYPE (PmLockPage, pm_lock_page, GTK_TYPE_WIDGET)

enum
{
  PROP_0,
  PROP_MESSAGE,
  PROP_BUSY,
  N_PROPS
};

enum
{
  SIGNAL_SIGNED_IN,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void refresh_lockout (PmLockPage *self);

static void
set_message (PmLockPage *self,
             const char *message,
             gboolean    is_error)
{
  gtk_label_set_text (GTK_LABEL (self->message_label), message != NULL ? message : "");
  gtk_widget_set_visible (self->message_label, message != NULL && *message != '\0');

  if (is_error)
    gtk_widget_add_css_class (self->message_label, "error");
  else
    gtk_widget_remove_css_class (self->message_label, "error");

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MESSAGE]);
}

static void
set_busy (PmLockPage *self,
          gboolean    busy)
{
  self->busy = busy;
  gtk_spinner_set_spinning (GTK_SPINNER (self->spinner), busy);
  gtk_widget_set_opacity (self->spinner, busy ? 1.0 : 0.0);
  pm_keypad_set_locked (PM_KEYPAD (self->keypad), busy || self->locked_until_us > 0);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
}

static void
update_clock (PmLockPage *self)
{
  g_autoptr(GDateTime) now = pm_clock_now_local ();
  g_autofree char *text = g_date_time_format (now, _("%A %-d %B %Y, %H:%M"));

  gtk_label_set_text (GTK_LABEL (self->clock_label), text);
}

static void
end_lockout (PmLockPage *self)
{
  self->locked_until_us = 0;
  pm_keypad_set_locked (PM_KEYPAD (self->keypad), self->busy);
  set_message (self, _("The keypad is open again. Enter your access code."), FALSE);
  gtk_widget_grab_focus (self->keypad);
}

/* Once a second while the keypad is locked: say how long is left, then open it again. */
static gboolean
countdown_cb (gpointer user_data)
{
  PmLockPage *self = PM_LOCK_PAGE (user_data);
  gint64 left_s;
  g_autofree char *message = NULL;

  update_clock (self);

  if (self->locked_until_us == 0)
    return G_SOURCE_CONTINUE;

  left_s = (self->locked_until_us - pm_clock_now_us () + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC;
  if (left_s <= 0)
    {
      end_lockout (self);
      return G_SOURCE_CONTINUE;
    }

  /* Translators: the time is minutes:seconds, e.g. 4:05 */
  message = g_strdup_printf (_("Too many wrong codes. The keypad is locked for %d:%02d "
                               "more. Ask a supervisor if you have forgotten your code."),
                             (int) MIN (left_s / 60, G_MAXINT), (int) (left_s % 60));
  set_message (self, message, TRUE);
  return G_SOURCE_CONTINUE;
}

static void
locked_until_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  PmLockPage *self;
  gint64 until_us = 0;
  g_autoptr(GError) error = NULL;

  if (!pm_access_get_locked_until_finish (PM_ACCESS (source), result, &until_us, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;

      self = PM_LOCK_PAGE (user_data);
      g_warning ("Could not read the keypad lockout: %s", error->message);
      set_message (self, error->message, TRUE);
      return;
    }

  self = PM_LOCK_PAGE (user_data);
  if (until_us > pm_clock_now_us ())
    {
      self->locked_until_us = until_us;
      pm_keypad_set_locked (PM_KEYPAD (self->keypad), TRUE);
      countdown_cb (self);
    }
  else if (self->locked_until_us != 0)
    end_lockout (self);
}

static void
refresh_lockout (PmLockPage *self)
{
  if (self->access == NULL)
    return;

  pm_access_get_locked_until_async (self->access, self->cancellable, locked_until_cb, self);
}

static void
sign_in_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  PmLockPage *self;
  g_autoptr(PmUser) user = NULL;
  g_autoptr(GError) error = NULL;

  user = pm_access_sign_in_finish (PM_ACCESS (source), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = PM_LOCK_PAGE (user_data);
  set_busy (self, FALSE);
  pm_keypad_clear (PM_KEYPAD (self->keypad));

  if (user != NULL)
    {
      set_message (self, NULL, FALSE);
      g_signal_emit (self, signals[SIGNAL_SIGNED_IN], 0, user);
      return;
    }

  if (g_error_matches (error, PM_ACCESS_ERROR, PM_ACCESS_ERROR_WRONG_CODE))
    set_message (self, _("That code is not right. Check it and try again."), TRUE);
  else if (g_error_matches (error, PM_ACCESS_ERROR, PM_ACCESS_ERROR_LOCKED_OUT))
    set_message (self, _("Too many wrong codes. The keypad is locked for a while."), TRUE);
  else if (g_error_matches (error, PM_ACCESS_ERROR, PM_ACCESS_ERROR_MALFORMED_CODE))
    set_message (self, _("An access code has 4 to 8 digits. Try again."), TRUE);
  else
    {
      g_autofree char *message =
        g_strdup_printf (_("The meter could not check the code: %s"), error->message);

      g_warning ("Sign-in failed: %s", error->message);
      set_message (self, message, TRUE);
    }

  /* A wrong code may have been the one that starts a lockout. */
  refresh_lockout (self);
  gtk_widget_grab_focus (self->keypad);
}

static void
keypad_submit_cb (PmLockPage *self)
{
  g_autofree char *code = NULL;
  g_autoptr(GError) error = NULL;

  if (self->busy || self->locked_until_us > 0)
    return;

  if (self->access == NULL)
    {
      set_message (self, _("The meter is still starting. Wait a moment and try again."),
                   TRUE);
      return;
    }

  code = pm_keypad_dup_code (PM_KEYPAD (self->keypad));
  if (*code == '\0')
    {
      set_message (self, _("Enter your access code first, then press Unlock."), TRUE);
      goto out;
    }

  if (!pm_access_check_code_form (code, &error))
    {
      pm_keypad_clear (PM_KEYPAD (self->keypad));
      set_message (self, _("An access code has 4 to 8 digits. Try again."), TRUE);
      goto out;
    }

  set_message (self, _("Checking…"), FALSE);
  set_busy (self, TRUE);
  pm_access_sign_in_async (self->access, code, self->cancellable, sign_in_cb, self);

out:
  memset (code, 0, strlen (code));
}

static void
keypad_length_cb (PmLockPage *self)
{
  /* A new attempt hides the last message, unless it is the lockout countdown. */
  if (!self->busy && self->locked_until_us == 0 &&
      pm_keypad_get_length (PM_KEYPAD (self->keypad)) > 0)
    set_message (self, NULL, FALSE);
}

static void
forward_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  PmLockPage *self = PM_LOCK_PAGE (widget);
  const char *name = strchr (action_name, '.') + 1;
  g_autofree char *keypad_action = g_strconcat ("keypad.", name, NULL);

  gtk_widget_activate_action_variant (self->keypad, keypad_action, parameter);
}

static gboolean
key_pressed_cb (GtkEventControllerKey *controller,
                guint                  keyval,
                guint                  keycode,
                GdkModifierType        state,
                PmLockPage            *self)
{
  return pm_keypad_handle_key (PM_KEYPAD (self->keypad), keyval, state);
}

/* The application icon, drawn into a PNG at build time (ui/meson.build) at twice the
 * shown size, so it is sharp on a high-density screen. Reading a PNG from the resource
 * takes well under a millisecond, so the logo is on the page's first frame; drawing the
 * SVG here would first load an SVG renderer. */
#define LOGO_RESOURCE "/org/postmeter/Kiosk/pm-logo.png"

static void
load_logo (PmLockPage *self)
{
  g_autoptr(GdkTexture) texture = gdk_texture_new_from_resource (LOGO_RESOURCE);

  gtk_image_set_from_paintable (GTK_IMAGE (self->logo), GDK_PAINTABLE (texture));
}

static void
pm_lock_page_map (GtkWidget *widget)
{
  PmLockPage *self = PM_LOCK_PAGE (widget);

  GTK_WIDGET_CLASS (pm_lock_page_parent_class)->map (widget);

  update_clock (self);
  if (self->countdown_id == 0)
    self->countdown_id = g_timeout_add_seconds (1, countdown_cb, self);
  gtk_widget_grab_focus (self->keypad);
}

static void
pm_lock_page_unmap (GtkWidget *widget)
{
  PmLockPage *self = PM_LOCK_PAGE (widget);

  g_clear_handle_id (&self->countdown_id, g_source_remove);

  GTK_WIDGET_CLASS (pm_lock_page_parent_class)->unmap (widget);
}

static void
pm_lock_page_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  PmLockPage *self = PM_LOCK_PAGE (object);

  switch (prop_id)
    {
    case PROP_MESSAGE:
      g_value_set_string (value, pm_lock_page_get_message (self));
      break;
    case PROP_BUSY:
      g_value_set_boolean (value, self->busy);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pm_lock_page_dispose (GObject *object)
{
  PmLockPage *self = PM_LOCK_PAGE (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->countdown_id, g_source_remove);
  gtk_widget_dispose_template (GTK_WIDGET (self), PM_TYPE_LOCK_PAGE);

  /* Template children that no field points at are still ours to drop. */
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self));
       child != NULL;
       child = gtk_widget_get_first_child (GTK_WIDGET (self)))
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (pm_lock_page_parent_class)->dispose (object);
}

static void
pm_lock_page_finalize (GObject *object)
{
  PmLockPage *self = PM_LOCK_PAGE (object);

  g_clear_object (&self->cancellable);
  g_clear_object (&self->access);

  G_OBJECT_CLASS (pm_lock_page_parent_class)->finalize (object);
}

static void
pm_lock_page_class_init (PmLockPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = pm_lock_page_dispose;
  object_class->finalize = pm_lock_page_finalize;
  object_class->get_property = pm_lock_page_get_property;
  widget_class->map = pm_lock_page_map;
  widget_class->unmap = pm_lock_page_unmap;

  properties[PROP_MESSAGE] =
    g_param_spec_string ("message", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_BUSY] =
    g_param_spec_boolean ("busy", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_SIGNED_IN] =
    g_signal_new ("signed-in", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, PM_TYPE_USER);

  g_type_ensure (PM_TYPE_KEYPAD);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/postmeter/Kiosk/pm-lock-page.ui");
  gtk_widget_class_bind_template_child (widget_class, PmLockPage, logo);
  gtk_widget_class_bind_template_child (widget_class, PmLockPage, clock_label);
  gtk_widget_class_bind_template_child (widget_class, PmLockPage, prompt_label);
  gtk_widget_class_bind_template_child (widget_class, PmLockPage, keypad);
  gtk_widget_class_bind_template_child (widget_class, PmLockPage, message_label);
  gtk_widget_class_bind_template_child (widget_class, PmLockPage, spinner);
  gtk_widget_class_bind_template_callback (widget_class, keypad_submit_cb);
  gtk_widget_class_bind_template_callback (widget_class, keypad_length_cb);
  gtk_widget_class_bind_template_callback (widget_class, key_pressed_cb);

  gtk_widget_class_install_action (widget_class, "lock.digit", "s", forward_action);
  gtk_widget_class_install_action (widget_class, "lock.backspace", NULL, forward_action);
  gtk_widget_class_install_action (widget_class, "lock.clear", NULL, forward_action);
  gtk_widget_class_install_action (widget_class, "lock.submit", NULL, forward_action);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "lockpage");
}

static void
pm_lock_page_init (PmLockPage *self)
{
  self->cancellable = g_cancellable_new ();
  gtk_widget_init_template (GTK_WIDGET (self));
  set_message (self, NULL, FALSE);
  load_logo (self);
}

void
pm_lock_page_set_access (PmLockPage *self,
                         PmAccess   *access)
{
  g_return_if_fail (PM_IS_LOCK_PAGE (self));
  g_return_if_fail (access == NULL || PM_IS_ACCESS (access));

  if (g_set_object (&self->access, access))
    pm_lock_page_reset (self);
}

/* Fresh for the next person: no digits, no message; the lockout is read again from the
 * store, so a lockout survives a restart and a log-out. */
void
pm_lock_page_reset (PmLockPage *self)
{
  g_return_if_fail (PM_IS_LOCK_PAGE (self));

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();

  self->busy = FALSE;
  set_busy (self, FALSE);
  pm_keypad_clear (PM_KEYPAD (self->keypad));
  set_message (self, NULL, FALSE);
  refresh_lockout (self);
}

const char *
pm_lock_page_get_message (PmLockPage *self)
{
  g_return_val_if_fail (PM_IS_LOCK_PAGE (self), NULL);

  if (!gtk_widget_get_visible (self->message_label))
    return "";

  return gtk_label_get_text (GTK_LABEL (self->message_label));
}

gboolean
pm_lock_page_get_busy (PmLockPage *self)
{
  g_return_val_if_fail (PM_IS_LOCK_PAGE (self), FALSE);

  return self->busy;
}

gboolean
pm_lock_page_get_locked_out (PmLockPage *self)
{
  g_return_val_if_fail (PM_IS_LOCK_PAGE (self), FALSE);

  return self->locked_until_us > 0;
}
