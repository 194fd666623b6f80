/* pm-keypad.c: the on-screen keypad for access codes; main thread only */
#include "pm-keypad.h"

#include <glib/gi18n.h>
#include <string.h>

struct _PmKeypad
{
  GtkWidget parent_instance;

  /* The digits typed so far, NUL-terminated; wiped on every clear. Main thread. */
  char       code[PM_KEYPAD_MAX_DIGITS + 1];
  guint      length;
  gboolean   locked;

  /* Template children, owned by the template. */
  GtkWidget *dots;
  GtkWidget *grid;
  GtkWidget *submit_button;
};

G_DEFINE_FINAL_TYPE (PmKeypad, pm_keypad, GTK_TYPE_WIDGET)

enum
{
  PROP_0,
  PROP_LENGTH,
  PROP_SUBMIT_LABEL,
  N_PROPS
};

enum
{
  SIGNAL_SUBMIT,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void
wipe_code (PmKeypad *self)
{
  /* Volatile writes so the compiler cannot drop the wipe of a buffer about to be reused. */
  volatile char *p = self->code;

  for (gsize i = 0; i < sizeof self->code; i++)
    p[i] = '\0';
  self->length = 0;
}

static void
update_dots (PmKeypad *self)
{
  g_autoptr(GString) text = g_string_new (NULL);
  g_autofree char *description = NULL;

  for (guint i = 0; i < self->length; i++)
    {
      if (i > 0)
        g_string_append (text, " ");
      g_string_append (text, "●");
    }

  gtk_label_set_text (GTK_LABEL (self->dots), text->str);

  /* The screen reader hears how many digits there are, never which. */
  description = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u digit entered",
                                              "%u digits entered", self->length),
                                 self->length);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->dots),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, description,
                                  -1);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "keypad.backspace",
                                 !self->locked && self->length > 0);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "keypad.clear",
                                 !self->locked && self->length > 0);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LENGTH]);
}

void
pm_keypad_add_digit (PmKeypad *self,
                     char      digit)
{
  g_return_if_fail (PM_IS_KEYPAD (self));

  if (self->locked || !g_ascii_isdigit (digit))
    return;

  if (self->length >= PM_KEYPAD_MAX_DIGITS)
    {
      /* Codes have at most eight digits: a ninth is a slip of the finger. */
      gtk_widget_error_bell (GTK_WIDGET (self));
      return;
    }

  self->code[self->length++] = digit;
  self->code[self->length] = '\0';
  update_dots (self);
}

void
pm_keypad_backspace (PmKeypad *self)
{
  g_return_if_fail (PM_IS_KEYPAD (self));

  if (self->locked || self->length == 0)
    return;

  self->code[--self->length] = '\0';
  update_dots (self);
}

void
pm_keypad_clear (PmKeypad *self)
{
  g_return_if_fail (PM_IS_KEYPAD (self));

  wipe_code (self);
  update_dots (self);
}

void
pm_keypad_submit (PmKeypad *self)
{
  g_return_if_fail (PM_IS_KEYPAD (self));

  if (self->locked)
    return;

  g_signal_emit (self, signals[SIGNAL_SUBMIT], 0);
}

guint
pm_keypad_get_length (PmKeypad *self)
{
  g_return_val_if_fail (PM_IS_KEYPAD (self), 0);

  return self->length;
}

/**
 * pm_keypad_dup_code:
 *
 * Returns: (transfer full): the digits typed so far. The caller wipes and frees them as
 * soon as they are used.
 */
char *
pm_keypad_dup_code (PmKeypad *self)
{
  g_return_val_if_fail (PM_IS_KEYPAD (self), NULL);

  return g_strdup (self->code);
}

void
pm_keypad_set_submit_label (PmKeypad   *self,
                            const char *label)
{
  g_return_if_fail (PM_IS_KEYPAD (self));
  g_return_if_fail (label != NULL);

  gtk_button_set_label (GTK_BUTTON (self->submit_button), label);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SUBMIT_LABEL]);
}

/* A locked keypad (too many wrong codes) takes no digits and shows that it is off. */
void
pm_keypad_set_locked (PmKeypad *self,
                      gboolean  locked)
{
  g_return_if_fail (PM_IS_KEYPAD (self));

  locked = !!locked;
  if (self->locked == locked)
    return;

  self->locked = locked;
  if (locked)
    wipe_code (self);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "keypad.digit", !locked);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "keypad.submit", !locked);
  update_dots (self);
}

/**
 * pm_keypad_handle_key:
 *
 * Lets a physical keyboard drive the keypad: digits (main row or number pad), Backspace,
 * Delete and Escape, Enter. Pages forward keys to it when the focus is elsewhere.
 *
 * Returns: TRUE when the key was for the keypad
 */
gboolean
pm_keypad_handle_key (PmKeypad        *self,
                      guint            keyval,
                      GdkModifierType  state)
{
  g_return_val_if_fail (PM_IS_KEYPAD (self), FALSE);

  if ((state & (GDK_CONTROL_MASK | GDK_ALT_MASK | GDK_SUPER_MASK)) != 0)
    return FALSE;

  if (keyval >= GDK_KEY_0 && keyval <= GDK_KEY_9)
    {
      pm_keypad_add_digit (self, (char) ('0' + (keyval - GDK_KEY_0)));
      return TRUE;
    }

  if (keyval >= GDK_KEY_KP_0 && keyval <= GDK_KEY_KP_9)
    {
      pm_keypad_add_digit (self, (char) ('0' + (keyval - GDK_KEY_KP_0)));
      return TRUE;
    }

  switch (keyval)
    {
    case GDK_KEY_BackSpace:
    case GDK_KEY_KP_Delete:
    case GDK_KEY_Delete:
      pm_keypad_backspace (self);
      return TRUE;

    case GDK_KEY_Escape:
      pm_keypad_clear (self);
      return TRUE;

    case GDK_KEY_Return:
    case GDK_KEY_KP_Enter:
    case GDK_KEY_ISO_Enter:
      pm_keypad_submit (self);
      return TRUE;

    default:
      return FALSE;
    }
}

static gboolean
key_pressed_cb (GtkEventControllerKey *controller,
                guint                  keyval,
                guint                  keycode,
                GdkModifierType        state,
                PmKeypad              *self)
{
  return pm_keypad_handle_key (self, keyval, state);
}

static void
digit_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *parameter)
{
  const char *digit = g_variant_get_string (parameter, NULL);

  if (strlen (digit) != 1)
    return;

  pm_keypad_add_digit (PM_KEYPAD (widget), digit[0]);
}

static void
backspace_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  pm_keypad_backspace (PM_KEYPAD (widget));
}

static void
clear_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *parameter)
{
  pm_keypad_clear (PM_KEYPAD (widget));
}

static void
submit_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  pm_keypad_submit (PM_KEYPAD (widget));
}

static void
pm_keypad_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  PmKeypad *self = PM_KEYPAD (object);

  switch (prop_id)
    {
    case PROP_LENGTH:
      g_value_set_uint (value, self->length);
      break;
    case PROP_SUBMIT_LABEL:
      g_value_set_string (value, gtk_button_get_label (GTK_BUTTON (self->submit_button)));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pm_keypad_set_property (GObject      *object,
                        guint         prop_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  PmKeypad *self = PM_KEYPAD (object);

  switch (prop_id)
    {
    case PROP_SUBMIT_LABEL:
      pm_keypad_set_submit_label (self, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pm_keypad_dispose (GObject *object)
{
  PmKeypad *self = PM_KEYPAD (object);

  wipe_code (self);
  gtk_widget_dispose_template (GTK_WIDGET (self), PM_TYPE_KEYPAD);

  /* Template children that no field points at are still ours to drop. */
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self));
       child != NULL;
       child = gtk_widget_get_first_child (GTK_WIDGET (self)))
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (pm_keypad_parent_class)->dispose (object);
}

static void
pm_keypad_class_init (PmKeypadClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = pm_keypad_dispose;
  object_class->get_property = pm_keypad_get_property;
  object_class->set_property = pm_keypad_set_property;

  properties[PROP_LENGTH] =
    g_param_spec_uint ("length", NULL, NULL, 0, PM_KEYPAD_MAX_DIGITS, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SUBMIT_LABEL] =
    g_param_spec_string ("submit-label", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY |
                         G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * PmKeypad::submit:
   *
   * OK was pressed (or Enter). The page reads the code with pm_keypad_dup_code().
   */
  signals[SIGNAL_SUBMIT] =
    g_signal_new ("submit", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/postmeter/Kiosk/pm-keypad.ui");
  gtk_widget_class_bind_template_child (widget_class, PmKeypad, dots);
  gtk_widget_class_bind_template_child (widget_class, PmKeypad, grid);
  gtk_widget_class_bind_template_child (widget_class, PmKeypad, submit_button);
  gtk_widget_class_bind_template_callback (widget_class, key_pressed_cb);

  gtk_widget_class_install_action (widget_class, "keypad.digit", "s", digit_action);
  gtk_widget_class_install_action (widget_class, "keypad.backspace", NULL, backspace_action);
  gtk_widget_class_install_action (widget_class, "keypad.clear", NULL, clear_action);
  gtk_widget_class_install_action (widget_class, "keypad.submit", NULL, submit_action);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BOX_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "keypad");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
pm_keypad_init (PmKeypad *self)
{
  GtkLayoutManager *layout;

  gtk_widget_init_template (GTK_WIDGET (self));

  layout = gtk_widget_get_layout_manager (GTK_WIDGET (self));
  gtk_orientable_set_orientation (GTK_ORIENTABLE (layout), GTK_ORIENTATION_VERTICAL);
  gtk_box_layout_set_spacing (GTK_BOX_LAYOUT (layout), 18);

  update_dots (self);
}

GtkWidget *
pm_keypad_new (void)
{
  return g_object_new (PM_TYPE_KEYPAD, NULL);
}
