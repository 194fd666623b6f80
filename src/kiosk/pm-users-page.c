/* pm-users-page.c: Settings > Users; main thread only */
#include "pm-users-page.h"

#include <adwaita.h>
#include <glib/gi18n.h>
#include <string.h>

#include "pm-keyboard.h"
#include "pm-keypad.h"

#define NAME_MAX_CHARS 60

typedef enum
{
  FORM_NONE,
  FORM_ADD,
  FORM_RECODE,
} FormKind;

struct _PmUsersPage
{
  GtkWidget     parent_instance;

  /* Owned; main thread. */
  PmAccess     *access;
  PmUser       *actor;          /* the signed-in supervisor */
  GPtrArray    *users;          /* of PmUser, as last listed */
  GCancellable *cancellable;
  char         *role;           /* "operator", "supervisor" or "support" */
  FormKind      form;
  gint64        recode_id;      /* user whose code is being replaced */
  char         *first_code;     /* the code typed the first time; wiped after use */
  gboolean      busy;

  /* Template children. */
  GtkWidget    *stack;
  GtkWidget    *list_box;
  GtkWidget    *list_message;
  GtkWidget    *form_title;
  GtkWidget    *form_stack;
  GtkWidget    *name_entry;
  GtkWidget    *keyboard;
  GtkWidget    *code_prompt;
  GtkWidget    *keypad;
  GtkWidget    *form_message;
};

G_DEFINE_FINAL_TYPE (PmUsersPage, pm_users_page, GTK_TYPE_WIDGET)

enum
{
  PROP_0,
  PROP_ROLE,
  PROP_BUSY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void refresh (PmUsersPage *self);

static void
wipe_first_code (PmUsersPage *self)
{
  if (self->first_code != NULL)
    {
      memset (self->first_code, 0, strlen (self->first_code));
      g_clear_pointer (&self->first_code, g_free);
    }
}

static void
set_label_message (GtkWidget  *label,
                   const char *message)
{
  gtk_label_set_text (GTK_LABEL (label), message != NULL ? message : "");
  gtk_widget_set_visible (label, message != NULL && *message != '\0');
}

static void
set_busy (PmUsersPage *self,
          gboolean     busy)
{
  self->busy = busy;
  pm_keypad_set_locked (PM_KEYPAD (self->keypad), busy);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
}

static void
toast (PmUsersPage *self,
       const char  *text)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "win.show-toast", "s", text);
}

static const PmUser *
find_user_by_id (PmUsersPage *self,
                 gint64       id)
{
  for (guint i = 0; self->users != NULL && i < self->users->len; i++)
    {
      const PmUser *user = g_ptr_array_index (self->users, i);

      if (user->id == id)
        return user;
    }

  return NULL;
}

static char *
describe_user (const PmUser *user)
{
  g_autofree char *when = NULL;

  if (!user->active)
    return g_strdup_printf (_("%s · Disabled: cannot sign in"),
                            pm_role_display_name (user->role));

  if (user->last_sign_in == 0)
    return g_strdup_printf (_("%s · Has not signed in yet"),
                            pm_role_display_name (user->role));

  {
    g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc (user->last_sign_in);
    g_autoptr(GDateTime) local = g_date_time_to_local (utc);

    when = g_date_time_format (local, _("%-d %b %Y, %H:%M"));
  }

  return g_strdup_printf (_("%s · Last signed in %s"), pm_role_display_name (user->role),
                          when);
}

static GtkWidget *
make_row (PmUsersPage  *self,
          const PmUser *user)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *button;
  g_autofree char *subtitle = describe_user (user);
  g_autofree char *label = NULL;
  gboolean is_self = self->actor != NULL && self->actor->id == user->id;

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), user->name);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  if (!user->active)
    gtk_widget_add_css_class (row, "user-disabled");

  button = gtk_button_new_with_label (_("New Code"));
  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "users.recode");
  gtk_actionable_set_action_target_value (GTK_ACTIONABLE (button),
                                          g_variant_new_int64 (user->id));
  label = g_strdup_printf (_("Set a new access code for %s"), user->name);
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  label, -1);
  gtk_widget_add_css_class (button, "row-button");
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);

  /* Nobody disables themselves by accident: another supervisor can. */
  if (!is_self)
    {
      g_autofree char *toggle_label = NULL;

      button = gtk_button_new_with_label (user->active ? _("Disable") : _("Enable"));
      gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
      gtk_actionable_set_action_name (GTK_ACTIONABLE (button),
                                      user->active ? "users.disable" : "users.enable");
      gtk_actionable_set_action_target_value (GTK_ACTIONABLE (button),
                                              g_variant_new_int64 (user->id));
      toggle_label = g_strdup_printf (user->active ? _("Disable %s") : _("Enable %s"),
                                      user->name);
      gtk_accessible_update_property (GTK_ACCESSIBLE (button),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, toggle_label, -1);
      gtk_widget_add_css_class (button, "row-button");
      if (user->active)
        gtk_widget_add_css_class (button, "destructive-action");
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);
    }

  return row;
}

static void
show_users (PmUsersPage *self)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (self->list_box)) != NULL)
    gtk_list_box_remove (GTK_LIST_BOX (self->list_box), child);

  for (guint i = 0; self->users != NULL && i < self->users->len; i++)
    gtk_list_box_append (GTK_LIST_BOX (self->list_box),
                         make_row (self, g_ptr_array_index (self->users, i)));
}

static void
list_users_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  PmUsersPage *self;
  g_autoptr(GPtrArray) users = NULL;
  g_autoptr(GError) error = NULL;

  users = pm_access_list_users_finish (PM_ACCESS (source), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = PM_USERS_PAGE (user_data);
  set_busy (self, FALSE);

  if (users == NULL)
    {
      g_autofree char *message =
        g_strdup_printf (_("The list of users could not be read: %s"), error->message);

      g_warning ("Listing users failed: %s", error->message);
      set_label_message (self->list_message, message);
      return;
    }

  g_clear_pointer (&self->users, g_ptr_array_unref);
  self->users = g_steal_pointer (&users);
  show_users (self);
}

static void
refresh (PmUsersPage *self)
{
  if (self->access == NULL)
    return;

  set_busy (self, TRUE);
  pm_access_list_users_async (self->access, self->cancellable, list_users_cb, self);
}

static void
show_list (PmUsersPage *self)
{
  wipe_first_code (self);
  pm_keypad_clear (PM_KEYPAD (self->keypad));
  self->form = FORM_NONE;
  set_label_message (self->form_message, NULL);
  gtk_stack_set_visible_child_name (GTK_STACK (self->stack), "list");
}

static void
show_code_step (PmUsersPage *self,
                gboolean     confirming)
{
  pm_keypad_clear (PM_KEYPAD (self->keypad));

  if (confirming)
    {
      gtk_label_set_text (GTK_LABEL (self->code_prompt),
                          _("Enter the same code again, to be sure of it."));
      pm_keypad_set_submit_label (PM_KEYPAD (self->keypad), _("Save"));
    }
  else
    {
      gtk_label_set_text (GTK_LABEL (self->code_prompt),
                          _("Type a code of 4 to 8 digits. Give it to the person "
                            "in private; they can ask for a new one at any time."));
      pm_keypad_set_submit_label (PM_KEYPAD (self->keypad), _("Next"));
    }

  gtk_stack_set_visible_child_name (GTK_STACK (self->form_stack), "code");
  gtk_widget_grab_focus (self->keypad);
}

static void
add_action (GtkWidget  *widget,
            const char *action_name,
            GVariant   *parameter)
{
  PmUsersPage *self = PM_USERS_PAGE (widget);

  wipe_first_code (self);
  self->form = FORM_ADD;
  gtk_label_set_text (GTK_LABEL (self->form_title), _("Add a User"));
  gtk_editable_set_text (GTK_EDITABLE (self->name_entry), "");
  g_object_set (self, "role", "operator", NULL);
  set_label_message (self->form_message, NULL);
  set_label_message (self->list_message, NULL);
  gtk_stack_set_visible_child_name (GTK_STACK (self->form_stack), "details");
  gtk_stack_set_visible_child_name (GTK_STACK (self->stack), "form");
  gtk_widget_grab_focus (self->name_entry);
}

static void
recode_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  PmUsersPage *self = PM_USERS_PAGE (widget);
  const PmUser *user = find_user_by_id (self, g_variant_get_int64 (parameter));
  g_autofree char *title = NULL;

  if (user == NULL)
    return;

  wipe_first_code (self);
  self->form = FORM_RECODE;
  self->recode_id = user->id;
  title = g_strdup_printf (_("New Access Code for %s"), user->name);
  gtk_label_set_text (GTK_LABEL (self->form_title), title);
  set_label_message (self->form_message, NULL);
  set_label_message (self->list_message, NULL);
  gtk_stack_set_visible_child_name (GTK_STACK (self->stack), "form");
  show_code_step (self, FALSE);
}

static void
set_active_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  PmUsersPage *self;
  g_autoptr(GError) error = NULL;

  if (!pm_access_set_user_active_finish (PM_ACCESS (source), result, &error) &&
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = PM_USERS_PAGE (user_data);
  set_busy (self, FALSE);

  if (error == NULL)
    set_label_message (self->list_message, NULL);
  else if (g_error_matches (error, PM_ACCESS_ERROR, PM_ACCESS_ERROR_LAST_SUPERVISOR))
    set_label_message (self->list_message,
                       _("This is the last active supervisor. Add or enable another "
                         "supervisor first, then disable this one."));
  else if (g_error_matches (error, PM_ACCESS_ERROR, PM_ACCESS_ERROR_NOT_PERMITTED))
    set_label_message (self->list_message, _("Only a supervisor can change users."));
  else
    {
      g_autofree char *message = g_strdup_printf (_("The user could not be changed: %s"),
                                                  error->message);

      g_warning ("Changing a user failed: %s", error->message);
      set_label_message (self->list_message, message);
    }

  refresh (self);
}

static void
set_active (PmUsersPage *self,
            gint64       user_id,
            gboolean     active)
{
  if (self->access == NULL || self->actor == NULL || self->busy)
    return;

  set_busy (self, TRUE);
  pm_access_set_user_active_async (self->access, self->actor, user_id, active,
                                   self->cancellable, set_active_cb, self);
}

static void
disable_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  set_active (PM_USERS_PAGE (widget), g_variant_get_int64 (parameter), FALSE);
}

static void
enable_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  set_active (PM_USERS_PAGE (widget), g_variant_get_int64 (parameter), TRUE);
}

static char *
dup_clean_name (PmUsersPage *self)
{
  g_autofree char *name = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->name_entry)));

  return g_strdup (g_strstrip (name));
}

static void
next_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  PmUsersPage *self = PM_USERS_PAGE (widget);
  g_autofree char *name = dup_clean_name (self);

  if (self->form != FORM_ADD)
    return;

  if (*name == '\0')
    {
      set_label_message (self->form_message, _("Type the person's name first."));
      return;
    }

  if (g_utf8_strlen (name, -1) > NAME_MAX_CHARS)
    {
      set_label_message (self->form_message,
                         _("That name is too long. Use at most 60 letters."));
      return;
    }

  gtk_editable_set_text (GTK_EDITABLE (self->name_entry), name);
  set_label_message (self->form_message, NULL);
  show_code_step (self, FALSE);
}

static void
cancel_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  PmUsersPage *self = PM_USERS_PAGE (widget);

  if (self->busy && self->form != FORM_NONE)
    return;

  show_list (self);
}

static PmRole
role_from_string (const char *role)
{
  if (g_strcmp0 (role, "supervisor") == 0)
    return PM_ROLE_SUPERVISOR;
  if (g_strcmp0 (role, "support") == 0)
    return PM_ROLE_SUPPORT;
  return PM_ROLE_OPERATOR;
}

static void
save_done (PmUsersPage  *self,
           gboolean      ok,
           const PmUser *added,
           const GError *error)
{
  g_autofree char *done = NULL;

  set_busy (self, FALSE);

  if (ok)
    {
      if (added != NULL)
        done = g_strdup_printf (_("%s can now sign in."), added->name);
      else
        done = g_strdup (_("The new code works from now on; the old one no longer does."));

      toast (self, done);
      show_list (self);
      refresh (self);
      return;
    }

  if (g_error_matches (error, PM_ACCESS_ERROR, PM_ACCESS_ERROR_CODE_IN_USE))
    {
      set_label_message (self->form_message,
                         _("Someone else already has that code. Choose a different one."));
      show_code_step (self, FALSE);
    }
  else if (g_error_matches (error, PM_ACCESS_ERROR, PM_ACCESS_ERROR_INVALID_NAME))
    {
      g_autofree char *message = g_strdup_printf (_("That name cannot be used: %s"),
                                                  error->message);

      set_label_message (self->form_message, message);
      gtk_stack_set_visible_child_name (GTK_STACK (self->form_stack), "details");
    }
  else if (g_error_matches (error, PM_ACCESS_ERROR, PM_ACCESS_ERROR_NOT_PERMITTED))
    {
      set_label_message (self->form_message, _("Only a supervisor can change users."));
      show_code_step (self, FALSE);
    }
  else
    {
      g_autofree char *message = g_strdup_printf (_("Nothing was saved: %s"),
                                                  error->message);

      g_warning ("Saving a user failed: %s", error->message);
      set_label_message (self->form_message, message);
      show_code_step (self, FALSE);
    }
}

static void
add_user_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(PmUser) added = NULL;
  g_autoptr(GError) error = NULL;

  added = pm_access_add_user_finish (PM_ACCESS (source), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  save_done (PM_USERS_PAGE (user_data), added != NULL, added, error);
}

static void
set_code_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  gboolean ok;

  ok = pm_access_set_user_code_finish (PM_ACCESS (source), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  save_done (PM_USERS_PAGE (user_data), ok, NULL, error);
}

static void
keypad_submit_cb (PmUsersPage *self)
{
  g_autofree char *code = pm_keypad_dup_code (PM_KEYPAD (self->keypad));
  g_autofree char *name = NULL;
  g_autoptr(GError) error = NULL;

  if (self->busy || self->access == NULL || self->actor == NULL || self->form == FORM_NONE)
    goto out;

  if (!pm_access_check_code_form (code, &error))
    {
      pm_keypad_clear (PM_KEYPAD (self->keypad));
      set_label_message (self->form_message, _("An access code has 4 to 8 digits. Try again."));
      goto out;
    }

  if (self->first_code == NULL)
    {
      self->first_code = g_steal_pointer (&code);
      set_label_message (self->form_message, NULL);
      show_code_step (self, TRUE);
      goto out;
    }

  if (strcmp (self->first_code, code) != 0)
    {
      wipe_first_code (self);
      set_label_message (self->form_message,
                         _("The two codes were not the same. Type the code again."));
      show_code_step (self, FALSE);
      goto out;
    }

  wipe_first_code (self);
  pm_keypad_clear (PM_KEYPAD (self->keypad));
  set_busy (self, TRUE);
  set_label_message (self->form_message, _("Saving…"));

  if (self->form == FORM_ADD)
    {
      name = dup_clean_name (self);
      pm_access_add_user_async (self->access, self->actor, name,
                                role_from_string (self->role), code,
                                self->cancellable, add_user_cb, self);
    }
  else
    pm_access_set_user_code_async (self->access, self->actor, self->recode_id, code,
                                   self->cancellable, set_code_cb, self);

out:
  if (code != NULL)
    memset (code, 0, strlen (code));
}

static void
keypad_length_cb (PmUsersPage *self)
{
  if (!self->busy && pm_keypad_get_length (PM_KEYPAD (self->keypad)) > 0)
    set_label_message (self->form_message, NULL);
}

static void
forward_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  PmUsersPage *self = PM_USERS_PAGE (widget);
  g_autofree char *keypad_action = g_strconcat ("keypad.", strchr (action_name, '.') + 1,
                                                NULL);

  gtk_widget_activate_action_variant (self->keypad, keypad_action, parameter);
}

static void
refresh_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  refresh (PM_USERS_PAGE (widget));
}

static void
pm_users_page_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  PmUsersPage *self = PM_USERS_PAGE (object);

  switch (prop_id)
    {
    case PROP_ROLE:
      g_value_set_string (value, self->role);
      break;
    case PROP_BUSY:
      g_value_set_boolean (value, self->busy);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pm_users_page_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  PmUsersPage *self = PM_USERS_PAGE (object);
  const char *role;

  switch (prop_id)
    {
    case PROP_ROLE:
      role = g_value_get_string (value);
      if (g_strcmp0 (role, self->role) != 0)
        {
          g_free (self->role);
          self->role = g_strdup (role);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pm_users_page_dispose (GObject *object)
{
  PmUsersPage *self = PM_USERS_PAGE (object);

  g_cancellable_cancel (self->cancellable);
  wipe_first_code (self);
  gtk_widget_dispose_template (GTK_WIDGET (self), PM_TYPE_USERS_PAGE);

  /* Template children that no field points at are still ours to drop. */
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self));
       child != NULL;
       child = gtk_widget_get_first_child (GTK_WIDGET (self)))
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (pm_users_page_parent_class)->dispose (object);
}

static void
pm_users_page_finalize (GObject *object)
{
  PmUsersPage *self = PM_USERS_PAGE (object);

  g_clear_object (&self->cancellable);
  g_clear_object (&self->access);
  g_clear_pointer (&self->actor, pm_user_free);
  g_clear_pointer (&self->users, g_ptr_array_unref);
  g_clear_pointer (&self->role, g_free);

  G_OBJECT_CLASS (pm_users_page_parent_class)->finalize (object);
}

static void
pm_users_page_class_init (PmUsersPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = pm_users_page_dispose;
  object_class->finalize = pm_users_page_finalize;
  object_class->get_property = pm_users_page_get_property;
  object_class->set_property = pm_users_page_set_property;

  properties[PROP_ROLE] =
    g_param_spec_string ("role", NULL, NULL, "operator",
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_BUSY] =
    g_param_spec_boolean ("busy", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (PM_TYPE_KEYPAD);
  g_type_ensure (PM_TYPE_KEYBOARD);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/postmeter/Kiosk/pm-users-page.ui");
  gtk_widget_class_bind_template_child (widget_class, PmUsersPage, stack);
  gtk_widget_class_bind_template_child (widget_class, PmUsersPage, list_box);
  gtk_widget_class_bind_template_child (widget_class, PmUsersPage, list_message);
  gtk_widget_class_bind_template_child (widget_class, PmUsersPage, form_title);
  gtk_widget_class_bind_template_child (widget_class, PmUsersPage, form_stack);
  gtk_widget_class_bind_template_child (widget_class, PmUsersPage, name_entry);
  gtk_widget_class_bind_template_child (widget_class, PmUsersPage, keyboard);
  gtk_widget_class_bind_template_child (widget_class, PmUsersPage, code_prompt);
  gtk_widget_class_bind_template_child (widget_class, PmUsersPage, keypad);
  gtk_widget_class_bind_template_child (widget_class, PmUsersPage, form_message);
  gtk_widget_class_bind_template_callback (widget_class, keypad_submit_cb);
  gtk_widget_class_bind_template_callback (widget_class, keypad_length_cb);

  gtk_widget_class_install_action (widget_class, "users.add", NULL, add_action);
  gtk_widget_class_install_action (widget_class, "users.recode", "x", recode_action);
  gtk_widget_class_install_action (widget_class, "users.disable", "x", disable_action);
  gtk_widget_class_install_action (widget_class, "users.enable", "x", enable_action);
  gtk_widget_class_install_property_action (widget_class, "users.role", "role");
  gtk_widget_class_install_action (widget_class, "users.next", NULL, next_action);
  gtk_widget_class_install_action (widget_class, "users.cancel", NULL, cancel_action);
  gtk_widget_class_install_action (widget_class, "users.refresh", NULL, refresh_action);
  gtk_widget_class_install_action (widget_class, "users.digit", "s", forward_action);
  gtk_widget_class_install_action (widget_class, "users.backspace", NULL, forward_action);
  gtk_widget_class_install_action (widget_class, "users.clear", NULL, forward_action);
  gtk_widget_class_install_action (widget_class, "users.submit", NULL, forward_action);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "userspage");
}

static void
pm_users_page_init (PmUsersPage *self)
{
  self->cancellable = g_cancellable_new ();
  self->role = g_strdup ("operator");
  gtk_widget_init_template (GTK_WIDGET (self));
  pm_keyboard_set_target (PM_KEYBOARD (self->keyboard), GTK_EDITABLE (self->name_entry));
  set_label_message (self->list_message, NULL);
  set_label_message (self->form_message, NULL);
}

void
pm_users_page_set_access (PmUsersPage *self,
                          PmAccess    *access)
{
  g_return_if_fail (PM_IS_USERS_PAGE (self));
  g_return_if_fail (access == NULL || PM_IS_ACCESS (access));

  g_set_object (&self->access, access);
}

/* Who is acting: the signed-in user. NULL (signed out) drops the list and any half-typed
 * form, so the next person sees nothing of it. */
void
pm_users_page_set_actor (PmUsersPage  *self,
                         const PmUser *actor)
{
  g_return_if_fail (PM_IS_USERS_PAGE (self));

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  set_busy (self, FALSE);

  g_clear_pointer (&self->actor, pm_user_free);
  if (actor != NULL)
    self->actor = pm_user_copy (actor);

  g_clear_pointer (&self->users, g_ptr_array_unref);
  show_users (self);
  set_label_message (self->list_message, NULL);
  show_list (self);
}

void
pm_users_page_refresh (PmUsersPage *self)
{
  g_return_if_fail (PM_IS_USERS_PAGE (self));

  refresh (self);
}

void
pm_users_page_set_name (PmUsersPage *self,
                        const char  *name)
{
  g_return_if_fail (PM_IS_USERS_PAGE (self));

  gtk_editable_set_text (GTK_EDITABLE (self->name_entry), name != NULL ? name : "");
}

/**
 * pm_users_page_get_users:
 *
 * Returns: (transfer none) (nullable): the users as last listed
 */
GPtrArray *
pm_users_page_get_users (PmUsersPage *self)
{
  g_return_val_if_fail (PM_IS_USERS_PAGE (self), NULL);

  return self->users;
}

const PmUser *
pm_users_page_find_user (PmUsersPage *self,
                         const char  *name)
{
  g_return_val_if_fail (PM_IS_USERS_PAGE (self), NULL);

  for (guint i = 0; self->users != NULL && i < self->users->len; i++)
    {
      const PmUser *user = g_ptr_array_index (self->users, i);

      if (g_strcmp0 (user->name, name) == 0)
        return user;
    }

  return NULL;
}

/* "list", "details", "code" or "confirm" */
const char *
pm_users_page_get_step (PmUsersPage *self)
{
  const char *form_step;

  g_return_val_if_fail (PM_IS_USERS_PAGE (self), NULL);

  if (g_strcmp0 (gtk_stack_get_visible_child_name (GTK_STACK (self->stack)), "list") == 0)
    return "list";

  form_step = gtk_stack_get_visible_child_name (GTK_STACK (self->form_stack));
  if (g_strcmp0 (form_step, "code") == 0 && self->first_code != NULL)
    return "confirm";

  return form_step;
}

const char *
pm_users_page_get_message (PmUsersPage *self)
{
  GtkWidget *label;

  g_return_val_if_fail (PM_IS_USERS_PAGE (self), NULL);

  label = g_strcmp0 (pm_users_page_get_step (self), "list") == 0 ? self->list_message
                                                                  : self->form_message;
  if (!gtk_widget_get_visible (label))
    return "";

  return gtk_label_get_text (GTK_LABEL (label));
}

gboolean
pm_users_page_get_busy (PmUsersPage *self)
{
  g_return_val_if_fail (PM_IS_USERS_PAGE (self), FALSE);

  return self->busy;
}
