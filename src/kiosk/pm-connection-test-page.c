/* pm-connection-test-page.c: Test connection; main thread only */
#include "pm-connection-test-page.h"

#include <adwaita.h>
#include <glib/gi18n.h>

struct _PmConnectionTestPage
{
  GtkWidget     parent_instance;

  /* Owned; main thread. */
  PmConnection *connection;
  char         *problem;
  GCancellable *cancellable;   /* the running test */
  GPtrArray    *results;       /* of PmProbeResult; NULL before the first run */
  GPtrArray    *groups;        /* the result groups shown, to remove them on the next run */
  GSimpleActionGroup *actions;

  /* Template children. */
  GtkWidget    *preferences;
  GtkWidget    *summary_row;
  GtkWidget    *spinner;
};

G_DEFINE_FINAL_TYPE (PmConnectionTestPage, pm_connection_test_page, GTK_TYPE_WIDGET)

/* The steps in an IT administrator's words. */
static char *
step_title (PmProbeStep          step,
            const PmProbeResult *result)
{
  switch (step)
    {
    case PM_PROBE_STEP_ALLOWLIST:
      return g_strdup (_("Allowed by the meter"));
    case PM_PROBE_STEP_DNS:
      return g_strdup_printf (_("Name lookup (DNS) of %s"), result->host);
    case PM_PROBE_STEP_TCP:
      return g_strdup_printf (_("Connection (TCP) to port %u"), result->port);
    case PM_PROBE_STEP_TLS:
      return g_strdup (_("Secure connection (TLS) with the provider's certificate"));
    case PM_PROBE_STEP_HTTP:
      return g_strdup (_("Answer from the service (HTTP)"));
    case PM_PROBE_N_STEPS:
    default:
      g_return_val_if_reached (NULL);
    }
}

static const char *
outcome_words (PmProbeOutcome outcome)
{
  switch (outcome)
    {
    case PM_PROBE_PASSED:
      return _("Passed");
    case PM_PROBE_FAILED:
      return _("Failed");
    case PM_PROBE_SKIPPED:
      return _("Not needed");
    case PM_PROBE_NOT_RUN:
    default:
      return _("Not tried");
    }
}

static GtkWidget *
step_row (const PmProbeResult *result,
          PmProbeStep          step)
{
  g_autofree char *title = step_title (step, result);
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *label = gtk_label_new (outcome_words (result->outcome[step]));
  const char *detail = result->detail[step];

  if (result->outcome[step] == PM_PROBE_SKIPPED && step == PM_PROBE_STEP_TLS)
    detail = _("plain HTTP, as this service must be");

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  if (detail != NULL)
    adw_action_row_set_subtitle (ADW_ACTION_ROW (row), detail);

  gtk_widget_add_css_class (label, "probe-outcome");
  if (result->outcome[step] == PM_PROBE_PASSED)
    gtk_widget_add_css_class (label, "success");
  else if (result->outcome[step] == PM_PROBE_FAILED)
    gtk_widget_add_css_class (label, "error");
  else
    gtk_widget_add_css_class (label, "dim-label");
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), label);
  return row;
}

static GtkWidget *
result_group (const PmProbeResult *result)
{
  GtkWidget *group = adw_preferences_group_new ();
  g_autofree char *title = NULL;
  g_autofree char *description = NULL;
  gboolean passed = pm_probe_result_passed (result);

  title = g_strdup_printf ("%s: %s", result->service, passed ? _("working") : _("blocked"));
  if (result->address != NULL)
    description = g_strdup_printf (_("%s, port %u (address %s)\n%s"), result->host,
                                   result->port, result->address, result->url);
  else
    description = g_strdup_printf (_("%s, port %u\n%s"), result->host, result->port,
                                   result->url);
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), title);
  adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (group), description);

  for (PmProbeStep step = PM_PROBE_STEP_ALLOWLIST; step < PM_PROBE_N_STEPS; step++)
    {
      /* The allowlist is the meter's own rule: shown only when it is what stopped it. */
      if (step == PM_PROBE_STEP_ALLOWLIST && result->outcome[step] != PM_PROBE_FAILED)
        continue;
      adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), step_row (result, step));
    }

  if (result->advice != NULL)
    {
      GtkWidget *row = adw_action_row_new ();

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _("What to change"));
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), result->advice);
      gtk_widget_add_css_class (row, "probe-advice");
      adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), row);
    }
  return group;
}

static void
clear_groups (PmConnectionTestPage *self)
{
  for (guint i = 0; i < self->groups->len; i++)
    adw_preferences_page_remove (ADW_PREFERENCES_PAGE (self->preferences),
                                 g_ptr_array_index (self->groups, i));
  g_ptr_array_set_size (self->groups, 0);
}

static void
set_running (PmConnectionTestPage *self,
             gboolean              running)
{
  GAction *action = g_action_map_lookup_action (G_ACTION_MAP (self->actions), "run");

  gtk_widget_set_visible (self->spinner, running);
  gtk_spinner_set_spinning (GTK_SPINNER (self->spinner), running);
  g_simple_action_set_enabled (G_SIMPLE_ACTION (action), !running && self->connection != NULL);
}

static void
set_summary (PmConnectionTestPage *self,
             const char           *text)
{
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->summary_row), text);
}

static void
probe_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  PmConnectionTestPage *self;
  g_autoptr(GPtrArray) results = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *summary = NULL;
  guint failed = 0;

  results = pm_connection_probe_finish (PM_CONNECTION (source), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = PM_CONNECTION_TEST_PAGE (user_data);
  g_clear_object (&self->cancellable);
  set_running (self, FALSE);
  if (results == NULL)
    {
      summary = g_strdup_printf (_("The test could not run: %s"), error->message);
      set_summary (self, summary);
      return;
    }

  /* Blocked services first: they are what the administrator came to see. */
  for (guint pass = 0; pass < 2; pass++)
    for (guint i = 0; i < results->len; i++)
      {
        const PmProbeResult *r = g_ptr_array_index (results, i);
        gboolean passed = pm_probe_result_passed (r);
        GtkWidget *group;

        if (passed != (pass == 1))
          continue;
        if (!passed)
          failed++;
        group = result_group (r);
        adw_preferences_page_add (ADW_PREFERENCES_PAGE (self->preferences),
                                  ADW_PREFERENCES_GROUP (group));
        g_ptr_array_add (self->groups, group);
      }

  if (failed == 0)
    summary = g_strdup_printf (ngettext ("The %u service the meter uses is reachable.",
                                         "All %u services the meter uses are reachable.",
                                         results->len), results->len);
  else
    summary = g_strdup_printf (ngettext ("%u of %u services is blocked: see below which "
                                         "step failed and what to change.",
                                         "%u of %u services are blocked: see below which "
                                         "step failed and what to change.", failed),
                               failed, results->len);
  set_summary (self, summary);
  g_clear_pointer (&self->results, g_ptr_array_unref);
  self->results = g_steal_pointer (&results);
}

void
pm_connection_test_page_run (PmConnectionTestPage *self)
{
  g_return_if_fail (PM_IS_CONNECTION_TEST_PAGE (self));

  if (self->cancellable != NULL)
    return;

  clear_groups (self);
  if (self->connection == NULL)
    {
      set_summary (self, self->problem != NULL ? self->problem
                                               : _("There is no data center to test yet."));
      set_running (self, FALSE);
      return;
    }

  set_summary (self, _("Testing every service…"));
  self->cancellable = g_cancellable_new ();
  set_running (self, TRUE);
  pm_connection_probe_async (self->connection, self->cancellable, probe_cb, self);
}

static void
run_action (GSimpleAction *action,
            GVariant      *parameter,
            gpointer       user_data)
{
  pm_connection_test_page_run (PM_CONNECTION_TEST_PAGE (user_data));
}

static const GActionEntry test_actions[] = {
  { "run", run_action },
};

static void
cancel_run (PmConnectionTestPage *self)
{
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
}

static void
pm_connection_test_page_dispose (GObject *object)
{
  PmConnectionTestPage *self = PM_CONNECTION_TEST_PAGE (object);

  cancel_run (self);
  g_clear_object (&self->connection);

  gtk_widget_dispose_template (GTK_WIDGET (object), PM_TYPE_CONNECTION_TEST_PAGE);
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (object));
       child != NULL;
       child = gtk_widget_get_first_child (GTK_WIDGET (object)))
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (pm_connection_test_page_parent_class)->dispose (object);
}

static void
pm_connection_test_page_finalize (GObject *object)
{
  PmConnectionTestPage *self = PM_CONNECTION_TEST_PAGE (object);

  g_clear_pointer (&self->results, g_ptr_array_unref);
  g_clear_pointer (&self->groups, g_ptr_array_unref);
  g_clear_object (&self->actions);
  g_free (self->problem);

  G_OBJECT_CLASS (pm_connection_test_page_parent_class)->finalize (object);
}

static void
pm_connection_test_page_class_init (PmConnectionTestPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = pm_connection_test_page_dispose;
  object_class->finalize = pm_connection_test_page_finalize;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/postmeter/Kiosk/"
                                               "pm-connection-test-page.ui");
  gtk_widget_class_bind_template_child (widget_class, PmConnectionTestPage, preferences);
  gtk_widget_class_bind_template_child (widget_class, PmConnectionTestPage, summary_row);
  gtk_widget_class_bind_template_child (widget_class, PmConnectionTestPage, spinner);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
pm_connection_test_page_init (PmConnectionTestPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->groups = g_ptr_array_new ();
  self->actions = g_simple_action_group_new ();
  g_action_map_add_action_entries (G_ACTION_MAP (self->actions), test_actions,
                                   G_N_ELEMENTS (test_actions), self);
  gtk_widget_insert_action_group (GTK_WIDGET (self), "connection-test",
                                  G_ACTION_GROUP (self->actions));
  set_running (self, FALSE);
}

void
pm_connection_test_page_set_connection (PmConnectionTestPage *self,
                                        PmConnection         *connection,
                                        const char           *problem)
{
  g_return_if_fail (PM_IS_CONNECTION_TEST_PAGE (self));

  g_free (self->problem);
  self->problem = g_strdup (problem);
  if (connection == self->connection)
    return;

  cancel_run (self);
  g_set_object (&self->connection, connection);
  set_running (self, FALSE);
}

gboolean
pm_connection_test_page_is_running (PmConnectionTestPage *self)
{
  g_return_val_if_fail (PM_IS_CONNECTION_TEST_PAGE (self), FALSE);

  return self->cancellable != NULL;
}

GPtrArray *
pm_connection_test_page_get_results (PmConnectionTestPage *self)
{
  g_return_val_if_fail (PM_IS_CONNECTION_TEST_PAGE (self), NULL);

  return self->results;
}

const char *
pm_connection_test_page_get_summary (PmConnectionTestPage *self)
{
  g_return_val_if_fail (PM_IS_CONNECTION_TEST_PAGE (self), NULL);

  return adw_action_row_get_subtitle (ADW_ACTION_ROW (self->summary_row));
}
