/* pm-keyboard.c: an on-screen letter keyboard for names; main thread only */
#include "pm-keyboard.h"

#include <glib/gi18n.h>
#include <string.h>

struct _PmKeyboard
{
  GtkWidget    parent_instance;

  GtkEditable *target;  /* weak: the page that owns both outlives neither */
  GtkWidget   *grid;    /* owned by the widget tree */
};

G_DEFINE_FINAL_TYPE (PmKeyboard, pm_keyboard, GTK_TYPE_WIDGET)

enum
{
  PROP_0,
  PROP_TARGET,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static const char *const rows[] = {
  "QWERTYUIOP",
  "ASDFGHJKL'",
  "ZXCVBNM-.",
};

static gboolean
starts_word (const char *text)
{
  gsize len = strlen (text);

  return len == 0 || text[len - 1] == ' ' || text[len - 1] == '-';
}

static void
insert_text (PmKeyboard *self,
             const char *key)
{
  const char *current;
  g_autofree char *typed = NULL;
  int position;

  if (self->target == NULL)
    return;

  current = gtk_editable_get_text (self->target);
  if (g_ascii_isalpha (key[0]) && !starts_word (current))
    typed = g_ascii_strdown (key, -1);
  else
    typed = g_strdup (key);

  position = (int) g_utf8_strlen (current, -1);
  gtk_editable_insert_text (self->target, typed, -1, &position);
  gtk_editable_set_position (self->target, position);
}

static void
key_action (GtkWidget  *widget,
            const char *action_name,
            GVariant   *parameter)
{
  const char *key = g_variant_get_string (parameter, NULL);

  if (*key == '\0' || strlen (key) > 1)
    return;

  insert_text (PM_KEYBOARD (widget), key);
}

static void
backspace_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  PmKeyboard *self = PM_KEYBOARD (widget);
  int length;

  if (self->target == NULL)
    return;

  length = (int) g_utf8_strlen (gtk_editable_get_text (self->target), -1);
  if (length > 0)
    gtk_editable_delete_text (self->target, length - 1, length);
}

static GtkWidget *
make_key (const char *label,
          const char *action,
          GVariant   *target,
          const char *style)
{
  GtkWidget *button = gtk_button_new_with_label (label);

  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), action);
  if (target != NULL)
    gtk_actionable_set_action_target_value (GTK_ACTIONABLE (button), target);
  gtk_widget_set_focus_on_click (button, FALSE);
  gtk_widget_set_can_focus (button, FALSE);
  gtk_widget_add_css_class (button, "keyboard-key");
  if (style != NULL)
    gtk_widget_add_css_class (button, style);

  return button;
}

static void
pm_keyboard_set_property (GObject      *object,
                          guint         prop_id,
                          const GValue *value,
                          GParamSpec   *pspec)
{
  switch (prop_id)
    {
    case PROP_TARGET:
      pm_keyboard_set_target (PM_KEYBOARD (object), g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pm_keyboard_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  switch (prop_id)
    {
    case PROP_TARGET:
      g_value_set_object (value, PM_KEYBOARD (object)->target);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pm_keyboard_dispose (GObject *object)
{
  PmKeyboard *self = PM_KEYBOARD (object);

  pm_keyboard_set_target (self, NULL);
  g_clear_pointer (&self->grid, gtk_widget_unparent);

  G_OBJECT_CLASS (pm_keyboard_parent_class)->dispose (object);
}

static void
pm_keyboard_class_init (PmKeyboardClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = pm_keyboard_dispose;
  object_class->set_property = pm_keyboard_set_property;
  object_class->get_property = pm_keyboard_get_property;

  properties[PROP_TARGET] =
    g_param_spec_object ("target", NULL, NULL, GTK_TYPE_EDITABLE,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_install_action (widget_class, "keyboard.key", "s", key_action);
  gtk_widget_class_install_action (widget_class, "keyboard.backspace", NULL,
                                   backspace_action);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "keyboard");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
pm_keyboard_init (PmKeyboard *self)
{
  GtkWidget *key;

  self->grid = gtk_grid_new ();
  gtk_grid_set_row_spacing (GTK_GRID (self->grid), 8);
  gtk_grid_set_column_spacing (GTK_GRID (self->grid), 8);
  gtk_grid_set_column_homogeneous (GTK_GRID (self->grid), TRUE);
  gtk_widget_set_halign (self->grid, GTK_ALIGN_CENTER);
  gtk_widget_set_parent (self->grid, GTK_WIDGET (self));

  /* Keys are two grid columns wide so each row can be offset by half a key. */
  for (guint row = 0; row < G_N_ELEMENTS (rows); row++)
    {
      for (guint i = 0; rows[row][i] != '\0'; i++)
        {
          char text[2] = { rows[row][i], '\0' };

          key = make_key (text, "keyboard.key", g_variant_new_string (text), NULL);
          gtk_grid_attach (GTK_GRID (self->grid), key, (int) (row + 2 * i), (int) row, 2, 1);
        }
    }

  key = make_key (_("Space"), "keyboard.key", g_variant_new_string (" "), "keyboard-space");
  gtk_grid_attach (GTK_GRID (self->grid), key, 4, 3, 10, 1);

  key = make_key ("", "keyboard.backspace", NULL, "keyboard-edit");
  gtk_button_set_icon_name (GTK_BUTTON (key), "edit-clear-symbolic");
  gtk_widget_set_tooltip_text (key, _("Remove the last letter"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (key), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Remove the last letter"), -1);
  gtk_grid_attach (GTK_GRID (self->grid), key, 14, 3, 4, 1);

  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("On-screen keyboard"), -1);
}

GtkWidget *
pm_keyboard_new (void)
{
  return g_object_new (PM_TYPE_KEYBOARD, NULL);
}

void
pm_keyboard_set_target (PmKeyboard  *self,
                        GtkEditable *target)
{
  g_return_if_fail (PM_IS_KEYBOARD (self));
  g_return_if_fail (target == NULL || GTK_IS_EDITABLE (target));

  if (self->target == target)
    return;

  if (self->target != NULL)
    g_object_remove_weak_pointer (G_OBJECT (self->target), (gpointer *) &self->target);
  self->target = target;
  if (self->target != NULL)
    g_object_add_weak_pointer (G_OBJECT (self->target), (gpointer *) &self->target);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TARGET]);
}

GtkEditable *
pm_keyboard_get_target (PmKeyboard *self)
{
  g_return_val_if_fail (PM_IS_KEYBOARD (self), NULL);

  return self->target;
}
