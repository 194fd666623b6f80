/* pm-setup-page.c: First start; main thread only */
#include "pm-setup-page.h"

#include <glib/gi18n.h>
#include <string.h>

#include "pm-keyboard.h"
#include "pm-keypad.h"

/* Long enough for any real name, short enough to fit the top bar and reports. */
#define NAME_MAX_CHARS 60

struct _PmSetupPage
{
  GtkWidget     parent_instance;

  /* Owned; main thread. */
  PmAccess     *access;
  GCancellable *cancellable;
  char         *first_code;    /* the code typed the first time; wiped after use */
  gboolean      busy;

  /* Template children. */
  GtkWidget    *stack;
  GtkWidget    *name_entry;
  GtkWidget    *keyboard;
  GtkWidget    *code_title;
  GtkWidget    *code_prompt;
  GtkWidget    *keypad;
  GtkWidget    *message_label;
};

G_DEFINE_FINAL_TYPE (PmSetupPage, pm_setup_page, GTK_TYPE_WIDGET)

enum
{
  SIGNAL_SET_UP,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
wipe_first_code (PmSetupPage *self)
{
  if (self->first_code != NULL)
    {
      memset (self->first_code, 0, strlen (self->first_code));
      g_clear_pointer (&self->first_code, g_free);
    }
}

static void
set_message (PmSetupPage *self,
             const char  *message)
{
  gtk_label_set_text (GTK_LABEL (self->message_label), message != NULL ? message : "");
  gtk_widget_set_visible (self->message_label, message != NULL && *message != '\0');
}

static void
show_code_step (PmSetupPage *self,
                gboolean     confirming)
{
  g_autofree char *title = NULL;

  pm_keypad_clear (PM_KEYPAD (self->keypad));
  title = g_strdup_printf (_("An access code for %s"),
                           gtk_editable_get_text (GTK_EDITABLE (self->name_entry)));
  gtk_label_set_text (GTK_LABEL (self->code_title), title);

  if (confirming)
    {
      gtk_label_set_text (GTK_LABEL (self->code_prompt),
                          _("Enter the same code again, to be sure of it."));
      pm_keypad_set_submit_label (PM_KEYPAD (self->keypad), _("Finish"));
    }
  else
    {
      gtk_label_set_text (GTK_LABEL (self->code_prompt),
                          _("Choose a code of 4 to 8 digits that only you know. "
                            "You will use it to unlock the meter."));
      pm_keypad_set_submit_label (PM_KEYPAD (self->keypad), _("Next"));
    }

  gtk_stack_set_visible_child_name (GTK_STACK (self->stack), "code");
  gtk_widget_grab_focus (self->keypad);
}

static char *
dup_clean_name (PmSetupPage *self)
{
  g_autofree char *name = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->name_entry)));

  return g_strdup (g_strstrip (name));
}

static void
next_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  PmSetupPage *self = PM_SETUP_PAGE (widget);
  g_autofree char *name = dup_clean_name (self);

  if (*name == '\0')
    {
      set_message (self, _("Type the supervisor's name first."));
      gtk_widget_grab_focus (self->name_entry);
      return;
    }

  if (g_utf8_strlen (name, -1) > NAME_MAX_CHARS)
    {
      set_message (self, _("That name is too long. Use at most 60 letters."));
      return;
    }

  gtk_editable_set_text (GTK_EDITABLE (self->name_entry), name);
  set_message (self, NULL);
  show_code_step (self, FALSE);
}

static void
back_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  PmSetupPage *self = PM_SETUP_PAGE (widget);
  const char *step = pm_setup_page_get_step (self);

  if (self->busy)
    return;

  set_message (self, NULL);
  wipe_first_code (self);
  pm_keypad_clear (PM_KEYPAD (self->keypad));

  if (g_strcmp0 (step, "confirm") == 0)
    show_code_step (self, FALSE);
  else
    {
      gtk_stack_set_visible_child_name (GTK_STACK (self->stack), "name");
      gtk_widget_grab_focus (self->name_entry);
    }
}

static void
set_up_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  PmSetupPage *self;
  g_autoptr(PmUser) user = NULL;
  g_autoptr(GError) error = NULL;

  user = pm_access_set_up_finish (PM_ACCESS (source), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = PM_SETUP_PAGE (user_data);
  self->busy = FALSE;
  pm_keypad_set_locked (PM_KEYPAD (self->keypad), FALSE);

  if (user == NULL)
    {
      g_autofree char *message = NULL;

      if (g_error_matches (error, PM_ACCESS_ERROR, PM_ACCESS_ERROR_INVALID_NAME))
        {
          message = g_strdup_printf (_("That name cannot be used: %s"), error->message);
          set_message (self, message);
          gtk_stack_set_visible_child_name (GTK_STACK (self->stack), "name");
          return;
        }

      g_warning ("First start failed: %s", error->message);
      message = g_strdup_printf (_("The supervisor could not be created: %s"),
                                 error->message);
      set_message (self, message);
      show_code_step (self, FALSE);
      return;
    }

  g_message ("First start: supervisor created");
  set_message (self, NULL);
  g_signal_emit (self, signals[SIGNAL_SET_UP], 0, user);
}

static void
keypad_submit_cb (PmSetupPage *self)
{
  g_autofree char *code = pm_keypad_dup_code (PM_KEYPAD (self->keypad));
  g_autofree char *name = NULL;
  g_autoptr(GError) error = NULL;

  if (self->busy || self->access == NULL)
    goto out;

  if (!pm_access_check_code_form (code, &error))
    {
      pm_keypad_clear (PM_KEYPAD (self->keypad));
      set_message (self, _("An access code has 4 to 8 digits. Try again."));
      goto out;
    }

  if (self->first_code == NULL)
    {
      self->first_code = g_steal_pointer (&code);
      set_message (self, NULL);
      show_code_step (self, TRUE);
      goto out;
    }

  if (strcmp (self->first_code, code) != 0)
    {
      wipe_first_code (self);
      set_message (self, _("The two codes were not the same. Choose a code again."));
      show_code_step (self, FALSE);
      goto out;
    }

  wipe_first_code (self);
  pm_keypad_clear (PM_KEYPAD (self->keypad));
  name = dup_clean_name (self);

  self->busy = TRUE;
  pm_keypad_set_locked (PM_KEYPAD (self->keypad), TRUE);
  set_message (self, _("Setting up…"));
  pm_access_set_up_async (self->access, name, code, self->cancellable, set_up_cb, self);

out:
  if (code != NULL)
    memset (code, 0, strlen (code));
}

static void
keypad_length_cb (PmSetupPage *self)
{
  if (!self->busy && pm_keypad_get_length (PM_KEYPAD (self->keypad)) > 0)
    set_message (self, NULL);
}

static void
name_activate_cb (PmSetupPage *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "setup.next", NULL);
}

static void
forward_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  PmSetupPage *self = PM_SETUP_PAGE (widget);
  g_autofree char *keypad_action = g_strconcat ("keypad.", strchr (action_name, '.') + 1,
                                                NULL);

  gtk_widget_activate_action_variant (self->keypad, keypad_action, parameter);
}

static void
pm_setup_page_dispose (GObject *object)
{
  PmSetupPage *self = PM_SETUP_PAGE (object);

  g_cancellable_cancel (self->cancellable);
  wipe_first_code (self);
  gtk_widget_dispose_template (GTK_WIDGET (self), PM_TYPE_SETUP_PAGE);

  /* Template children that no field points at are still ours to drop. */
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self));
       child != NULL;
       child = gtk_widget_get_first_child (GTK_WIDGET (self)))
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (pm_setup_page_parent_class)->dispose (object);
}

static void
pm_setup_page_finalize (GObject *object)
{
  PmSetupPage *self = PM_SETUP_PAGE (object);

  g_clear_object (&self->cancellable);
  g_clear_object (&self->access);

  G_OBJECT_CLASS (pm_setup_page_parent_class)->finalize (object);
}

static void
pm_setup_page_class_init (PmSetupPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = pm_setup_page_dispose;
  object_class->finalize = pm_setup_page_finalize;

  signals[SIGNAL_SET_UP] =
    g_signal_new ("set-up", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, PM_TYPE_USER);

  g_type_ensure (PM_TYPE_KEYPAD);
  g_type_ensure (PM_TYPE_KEYBOARD);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/postmeter/Kiosk/pm-setup-page.ui");
  gtk_widget_class_bind_template_child (widget_class, PmSetupPage, stack);
  gtk_widget_class_bind_template_child (widget_class, PmSetupPage, name_entry);
  gtk_widget_class_bind_template_child (widget_class, PmSetupPage, keyboard);
  gtk_widget_class_bind_template_child (widget_class, PmSetupPage, code_title);
  gtk_widget_class_bind_template_child (widget_class, PmSetupPage, code_prompt);
  gtk_widget_class_bind_template_child (widget_class, PmSetupPage, keypad);
  gtk_widget_class_bind_template_child (widget_class, PmSetupPage, message_label);
  gtk_widget_class_bind_template_callback (widget_class, keypad_submit_cb);
  gtk_widget_class_bind_template_callback (widget_class, keypad_length_cb);
  gtk_widget_class_bind_template_callback (widget_class, name_activate_cb);

  gtk_widget_class_install_action (widget_class, "setup.next", NULL, next_action);
  gtk_widget_class_install_action (widget_class, "setup.back", NULL, back_action);
  gtk_widget_class_install_action (widget_class, "setup.digit", "s", forward_action);
  gtk_widget_class_install_action (widget_class, "setup.backspace", NULL, forward_action);
  gtk_widget_class_install_action (widget_class, "setup.clear", NULL, forward_action);
  gtk_widget_class_install_action (widget_class, "setup.submit", NULL, forward_action);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "setuppage");
}

static void
pm_setup_page_init (PmSetupPage *self)
{
  self->cancellable = g_cancellable_new ();
  gtk_widget_init_template (GTK_WIDGET (self));
  pm_keyboard_set_target (PM_KEYBOARD (self->keyboard), GTK_EDITABLE (self->name_entry));
  set_message (self, NULL);
}

void
pm_setup_page_set_access (PmSetupPage *self,
                          PmAccess    *access)
{
  g_return_if_fail (PM_IS_SETUP_PAGE (self));
  g_return_if_fail (access == NULL || PM_IS_ACCESS (access));

  g_set_object (&self->access, access);
}

void
pm_setup_page_reset (PmSetupPage *self)
{
  g_return_if_fail (PM_IS_SETUP_PAGE (self));

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  self->busy = FALSE;

  wipe_first_code (self);
  pm_keypad_set_locked (PM_KEYPAD (self->keypad), FALSE);
  pm_keypad_clear (PM_KEYPAD (self->keypad));
  gtk_editable_set_text (GTK_EDITABLE (self->name_entry), "");
  set_message (self, NULL);
  gtk_stack_set_visible_child_name (GTK_STACK (self->stack), "name");
}

/* For the test and for a future "type with a hardware keyboard" path alike. */
void
pm_setup_page_set_name (PmSetupPage *self,
                        const char  *name)
{
  g_return_if_fail (PM_IS_SETUP_PAGE (self));

  gtk_editable_set_text (GTK_EDITABLE (self->name_entry), name != NULL ? name : "");
}

/* "name", "code" or "confirm" */
const char *
pm_setup_page_get_step (PmSetupPage *self)
{
  const char *page;

  g_return_val_if_fail (PM_IS_SETUP_PAGE (self), NULL);

  page = gtk_stack_get_visible_child_name (GTK_STACK (self->stack));
  if (g_strcmp0 (page, "code") == 0 && self->first_code != NULL)
    return "confirm";

  return page;
}

const char *
pm_setup_page_get_message (PmSetupPage *self)
{
  g_return_val_if_fail (PM_IS_SETUP_PAGE (self), NULL);

  if (!gtk_widget_get_visible (self->message_label))
    return "";

  return gtk_label_get_text (GTK_LABEL (self->message_label));
}
