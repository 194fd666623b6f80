/* pm-funds-page.c: Funds; main thread only */
#include "pm-funds-page.h"

#include <adwaita.h>
#include <glib/gi18n.h>

#include "pm-funds-flow.h"
#include "pm-money.h"
#include "pm-store-audit.h"

struct _PmFundsPage
{
  GtkWidget     parent_instance;

  /* Owned; main thread. */
  PmConnection *connection;     /* NULL when the meter has no data center */
  char         *problem;        /* why there is no connection */
  gboolean      supervisor;
  gint64        user_id;      /* who is signed in; 0 for nobody */
  gboolean      busy;           /* a refill, inspection or Connect now of this page runs */
  GCancellable *cancellable;    /* this page's exchanges; cancelled with the connection */
  char         *message;
  guint         receipt_count;
  GSimpleActionGroup *actions;

  /* Template children. */
  GtkWidget    *message_label;
  GtkWidget    *psd_funds_row;
  GtkWidget    *account_row;
  GtkWidget    *refill_group;
  GtkWidget    *amount_row;
  GtkWidget    *amount_entry;
  GtkWidget    *inspection_row;
  GtkWidget    *network_row;
  GtkWidget    *busy_spinner;
  GtkWidget    *upload_row;
  GtkWidget    *download_row;
  GtkWidget    *download_bar;
  GtkWidget    *history_list;
};

G_DEFINE_FINAL_TYPE (PmFundsPage, pm_funds_page, GTK_TYPE_WIDGET)

/* What the page shows --------------------------------------------------------------------- */

static void
set_message (PmFundsPage *self,
             gboolean     failure,
             const char  *text)
{
  g_free (self->message);
  self->message = g_strdup (text);

  gtk_label_set_text (GTK_LABEL (self->message_label), text != NULL ? text : "");
  gtk_widget_set_visible (self->message_label, text != NULL);
  gtk_widget_remove_css_class (self->message_label, failure ? "success" : "error");
  gtk_widget_add_css_class (self->message_label, failure ? "error" : "success");
}

static void
set_row (GtkWidget  *row,
         const char *text)
{
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row),
                               text != NULL ? text : C_("status", "Unknown"));
}

static const char *
topic_sentence (PmFundsPage       *self,
                PmConnectionTopic  topic)
{
  const char *sentence = NULL;

  if (self->connection == NULL)
    return NULL;

  pm_connection_get_topic (self->connection, topic, NULL, &sentence);
  return sentence;
}

static void
update_actions (PmFundsPage *self)
{
  gboolean online = self->connection != NULL && !self->busy;
  GAction *action;

  action = g_action_map_lookup_action (G_ACTION_MAP (self->actions), "refill");
  g_simple_action_set_enabled (G_SIMPLE_ACTION (action), online && self->supervisor);
  action = g_action_map_lookup_action (G_ACTION_MAP (self->actions), "preset");
  g_simple_action_set_enabled (G_SIMPLE_ACTION (action), self->supervisor);
  action = g_action_map_lookup_action (G_ACTION_MAP (self->actions), "inspect");
  g_simple_action_set_enabled (G_SIMPLE_ACTION (action), online && self->supervisor);
  action = g_action_map_lookup_action (G_ACTION_MAP (self->actions), "connect-now");
  g_simple_action_set_enabled (G_SIMPLE_ACTION (action), online);
  gtk_widget_set_sensitive (self->amount_entry, self->supervisor);
}

static void
update_download (PmFundsPage *self)
{
  const char *name = NULL;
  gint64 received = 0, total = -1;
  g_autofree char *text = NULL;

  if (self->connection == NULL ||
      !pm_connection_get_download_progress (self->connection, &name, &received, &total))
    {
      gtk_widget_set_visible (self->download_row, FALSE);
      return;
    }

  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->download_row), name);
  if (total > 0)
    {
      text = g_strdup_printf (_("%" G_GINT64_FORMAT " of %" G_GINT64_FORMAT " kB"),
                              received / 1000, total / 1000);
      gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->download_bar),
                                     CLAMP ((double) received / (double) total, 0.0, 1.0));
    }
  else
    {
      text = g_strdup_printf (_("%" G_GINT64_FORMAT " kB"), received / 1000);
      gtk_progress_bar_pulse (GTK_PROGRESS_BAR (self->download_bar));
    }
  gtk_progress_bar_set_text (GTK_PROGRESS_BAR (self->download_bar), text);
  gtk_widget_set_visible (self->download_row, TRUE);
}

static void
update (PmFundsPage *self)
{
  PmMills balance = -1, minimum = -1, maximum = -1;
  g_autofree char *account = NULL;
  g_autofree char *limits = NULL;

  set_row (self->psd_funds_row, topic_sentence (self, PM_CONNECTION_TOPIC_FUNDS));
  set_row (self->inspection_row, topic_sentence (self, PM_CONNECTION_TOPIC_INSPECTION));
  set_row (self->upload_row, topic_sentence (self, PM_CONNECTION_TOPIC_UPLOAD));
  set_row (self->network_row, self->connection != NULL
                              ? topic_sentence (self, PM_CONNECTION_TOPIC_NETWORK)
                              : self->problem);

  if (self->connection != NULL)
    {
      balance = pm_connection_get_account_balance (self->connection);
      pm_connection_get_refill_limits (self->connection, &minimum, &maximum);
    }
  if (balance >= 0)
    account = pm_money_format (balance);
  set_row (self->account_row, account);

  if (minimum > 0 && maximum >= minimum)
    {
      g_autofree char *low = pm_money_format (minimum);
      g_autofree char *high = pm_money_format (maximum);

      limits = g_strdup_printf (_("Between %s and %s, set by the provider"), low, high);
    }
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->amount_row),
                               limits != NULL ? limits
                                              : _("The provider's limits are not known "
                                                  "yet; the data center checks the amount"));

  gtk_widget_set_visible (self->busy_spinner,
                          self->busy || (self->connection != NULL &&
                                         pm_connection_is_busy (self->connection)));
  gtk_spinner_set_spinning (GTK_SPINNER (self->busy_spinner),
                            gtk_widget_get_visible (self->busy_spinner));
  update_download (self);
  update_actions (self);
}

static void
connection_changed_cb (PmConnection *connection,
                       PmFundsPage  *self)
{
  update (self);
}

/* Receipts ------------------------------------------------------------------------------- */

static GtkWidget *
receipt_row (const PmRefillReceipt *receipt)
{
  g_autofree char *amount = pm_money_format (receipt->amount);
  g_autofree char *title = NULL;
  g_autofree char *subtitle = NULL;
  g_autofree char *when = NULL;
  g_autoptr(GDateTime) issued = g_date_time_new_from_unix_local (receipt->issued_at);
  GtkWidget *row = adw_action_row_new ();

  when = issued != NULL ? g_date_time_format (issued, "%x %X") : g_strdup ("?");
  title = g_strdup_printf (_("%s, refill number %" G_GINT64_FORMAT), amount,
                           receipt->sequence);
  subtitle = g_strdup_printf (_("Receipt %s, %s"), receipt->receipt_id, when);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  return row;
}

static void
show_receipts (PmFundsPage     *self,
               PmFundsResponse *history)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (self->history_list)) != NULL)
    gtk_list_box_remove (GTK_LIST_BOX (self->history_list), child);

  self->receipt_count = history->history->len;
  if (history->history->len == 0)
    {
      GtkWidget *row = adw_action_row_new ();

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row),
                                     _("No refills have been made yet"));
      gtk_list_box_append (GTK_LIST_BOX (self->history_list), row);
      return;
    }

  /* Newest first: the data center lists them in the order they were issued. */
  for (guint i = history->history->len; i > 0; i--)
    gtk_list_box_append (GTK_LIST_BOX (self->history_list),
                         receipt_row (g_ptr_array_index (history->history, i - 1)));
}

static void
history_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  PmFundsPage *self;
  g_autoptr(PmFundsResponse) history = NULL;
  g_autoptr(GError) error = NULL;

  history = pm_funds_flow_history_finish (PM_CONNECTION (source), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = PM_FUNDS_PAGE (user_data);
  if (history == NULL)
    {
      g_debug ("Refill receipts not fetched: %s", error->message);
      return;
    }
  show_receipts (self, history);
  update (self);
}

static void
fetch_receipts (PmFundsPage *self)
{
  if (self->connection == NULL)
    return;

  pm_funds_flow_history_async (self->connection, self->cancellable, history_cb, self);
}

/* Refill, inspect, connect ---------------------------------------------------------------- */

static void
set_busy (PmFundsPage *self,
          gboolean     busy)
{
  self->busy = busy;
  update (self);
}

static void
audited_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!pm_store_append_audit_finish (PM_STORE (source), result, &error))
    g_warning ("A PSD change could not be written to the audit log: %s", error->message);
}

/* Refills and inspections made here go into the audit log under the signed-in user. */
static void
audit (PmFundsPage *self,
       const char  *event,
       const char  *detail)
{
  PmStore *store = self->connection != NULL ? pm_connection_get_store (self->connection)
                                            : NULL;

  if (store != NULL)
    pm_store_append_audit_async (store, event, self->user_id, detail, NULL, audited_cb,
                                 NULL);
}

static void
refill_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  PmFundsPage *self;
  g_autoptr(PmRefillOutcome) outcome = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *amount = NULL;
  g_autofree char *funds = NULL;
  g_autofree char *text = NULL;

  outcome = pm_funds_flow_refill_finish (PM_CONNECTION (source), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = PM_FUNDS_PAGE (user_data);
  set_busy (self, FALSE);
  if (outcome == NULL)
    {
      text = g_strdup_printf (_("The refill was not made: %s"), error->message);
      set_message (self, TRUE, text);
      return;
    }

  amount = pm_money_format (outcome->amount);
  funds = pm_money_format (outcome->status->descending);
  text = g_strdup_printf (_("Refilled %s (receipt %s, refill number %" G_GINT64_FORMAT "). "
                            "The meter now holds %s."),
                          amount, outcome->receipt_id, outcome->sequence, funds);
  set_message (self, FALSE, text);
  gtk_editable_set_text (GTK_EDITABLE (self->amount_entry), "");
  {
    g_autofree char *detail = g_strdup_printf ("%s, receipt %s, refill %" G_GINT64_FORMAT,
                                               amount, outcome->receipt_id,
                                               outcome->sequence);

    audit (self, "psd-refill", detail);
  }
  fetch_receipts (self);
}

static void
refill_action (GSimpleAction *action,
               GVariant      *parameter,
               gpointer       user_data)
{
  PmFundsPage *self = PM_FUNDS_PAGE (user_data);
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->amount_entry));
  g_autoptr(GError) error = NULL;
  PmMills amount = 0, minimum = -1, maximum = -1;

  if (self->connection == NULL || self->busy)
    return;

  if (*text == '\0')
    {
      set_message (self, TRUE, _("Choose an amount to refill, or type one."));
      return;
    }
  if (!pm_money_parse_field (_("Refill amount"), text, &amount, &error))
    {
      set_message (self, TRUE, error->message);
      return;
    }

  pm_connection_get_refill_limits (self->connection, &minimum, &maximum);
  if (amount == 0 || (minimum > 0 && amount < minimum) || (maximum > 0 && amount > maximum))
    {
      g_autofree char *low = pm_money_format (MAX (minimum, 1));
      g_autofree char *high = maximum > 0 ? pm_money_format (maximum) : NULL;
      g_autofree char *words = NULL;

      words = high != NULL
              ? g_strdup_printf (_("A refill must be between %s and %s."), low, high)
              : g_strdup (_("A refill must be more than nothing."));
      set_message (self, TRUE, words);
      return;
    }

  set_message (self, FALSE, _("Refilling…"));
  set_busy (self, TRUE);
  pm_funds_flow_refill_async (self->connection, amount, self->cancellable, refill_cb, self);
}

static void
preset_action (GSimpleAction *action,
               GVariant      *parameter,
               gpointer       user_data)
{
  PmFundsPage *self = PM_FUNDS_PAGE (user_data);

  gtk_editable_set_text (GTK_EDITABLE (self->amount_entry),
                         g_variant_get_string (parameter, NULL));
}

static void
inspect_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  PmFundsPage *self;
  g_autoptr(PmPsdStatus) status = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  status = pm_funds_flow_inspect_finish (PM_CONNECTION (source), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = PM_FUNDS_PAGE (user_data);
  set_busy (self, FALSE);
  if (status == NULL)
    {
      text = g_strdup_printf (_("The inspection did not pass: %s"), error->message);
      set_message (self, TRUE, text);
      return;
    }

  {
    g_autoptr(GDateTime) due = g_date_time_new_from_unix_local (status->inspection_due);
    g_autofree char *date = due != NULL ? g_date_time_format (due, "%-d %b %Y") : g_strdup ("?");

    text = g_strdup_printf (_("The inspection passed. The next one is due on %s."), date);
  }
  set_message (self, FALSE, text);
  audit (self, "psd-inspection", "passed");
}

static void
inspect_action (GSimpleAction *action,
                GVariant      *parameter,
                gpointer       user_data)
{
  PmFundsPage *self = PM_FUNDS_PAGE (user_data);

  if (self->connection == NULL || self->busy)
    return;

  set_message (self, FALSE, _("Inspecting…"));
  set_busy (self, TRUE);
  pm_funds_flow_inspect_async (self->connection, self->cancellable, inspect_cb, self);
}

static void
connect_now_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  PmFundsPage *self;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  gboolean ok;

  ok = pm_connection_connect_now_finish (PM_CONNECTION (source), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = PM_FUNDS_PAGE (user_data);
  set_busy (self, FALSE);
  if (!ok)
    {
      text = g_strdup_printf (_("Connect now did not finish: %s"), error->message);
      set_message (self, TRUE, text);
      return;
    }
  set_message (self, FALSE, _("Connected: the meter is up to date with the data center."));
  fetch_receipts (self);
}

static void
connect_now_action (GSimpleAction *action,
                    GVariant      *parameter,
                    gpointer       user_data)
{
  PmFundsPage *self = PM_FUNDS_PAGE (user_data);

  if (self->connection == NULL || self->busy)
    return;

  set_message (self, FALSE, _("Connecting to the data center…"));
  set_busy (self, TRUE);
  pm_connection_connect_now_async (self->connection, self->cancellable, connect_now_cb,
                                   self);
}

static const GActionEntry funds_actions[] = {
  { "preset", preset_action, "s" },
  { "refill", refill_action },
  { "inspect", inspect_action },
  { "connect-now", connect_now_action },
};

/* GObject -------------------------------------------------------------------------------- */

static void
drop_connection (PmFundsPage *self)
{
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->connection != NULL)
    g_signal_handlers_disconnect_by_data (self->connection, self);
  g_clear_object (&self->connection);
  self->busy = FALSE;
}

static void
pm_funds_page_dispose (GObject *object)
{
  PmFundsPage *self = PM_FUNDS_PAGE (object);

  drop_connection (self);
  gtk_widget_dispose_template (GTK_WIDGET (object), PM_TYPE_FUNDS_PAGE);

  /* Template children that no field points at are still ours to drop. */
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (object));
       child != NULL;
       child = gtk_widget_get_first_child (GTK_WIDGET (object)))
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (pm_funds_page_parent_class)->dispose (object);
}

static void
pm_funds_page_finalize (GObject *object)
{
  PmFundsPage *self = PM_FUNDS_PAGE (object);

  g_clear_object (&self->actions);
  g_free (self->problem);
  g_free (self->message);

  G_OBJECT_CLASS (pm_funds_page_parent_class)->finalize (object);
}

static void
pm_funds_page_class_init (PmFundsPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = pm_funds_page_dispose;
  object_class->finalize = pm_funds_page_finalize;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/postmeter/Kiosk/pm-funds-page.ui");
  gtk_widget_class_bind_template_child (widget_class, PmFundsPage, message_label);
  gtk_widget_class_bind_template_child (widget_class, PmFundsPage, psd_funds_row);
  gtk_widget_class_bind_template_child (widget_class, PmFundsPage, account_row);
  gtk_widget_class_bind_template_child (widget_class, PmFundsPage, refill_group);
  gtk_widget_class_bind_template_child (widget_class, PmFundsPage, amount_row);
  gtk_widget_class_bind_template_child (widget_class, PmFundsPage, amount_entry);
  gtk_widget_class_bind_template_child (widget_class, PmFundsPage, inspection_row);
  gtk_widget_class_bind_template_child (widget_class, PmFundsPage, network_row);
  gtk_widget_class_bind_template_child (widget_class, PmFundsPage, busy_spinner);
  gtk_widget_class_bind_template_child (widget_class, PmFundsPage, upload_row);
  gtk_widget_class_bind_template_child (widget_class, PmFundsPage, download_row);
  gtk_widget_class_bind_template_child (widget_class, PmFundsPage, download_bar);
  gtk_widget_class_bind_template_child (widget_class, PmFundsPage, history_list);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
pm_funds_page_init (PmFundsPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->actions = g_simple_action_group_new ();
  g_action_map_add_action_entries (G_ACTION_MAP (self->actions), funds_actions,
                                   G_N_ELEMENTS (funds_actions), self);
  gtk_widget_insert_action_group (GTK_WIDGET (self), "funds", G_ACTION_GROUP (self->actions));
  update (self);
}

void
pm_funds_page_set_connection (PmFundsPage  *self,
                              PmConnection *connection,
                              const char   *problem)
{
  g_return_if_fail (PM_IS_FUNDS_PAGE (self));
  g_return_if_fail (connection == NULL || PM_IS_CONNECTION (connection));

  g_free (self->problem);
  self->problem = g_strdup (problem);

  if (connection != self->connection)
    {
      drop_connection (self);
      if (connection != NULL)
        {
          self->connection = g_object_ref (connection);
          self->cancellable = g_cancellable_new ();
          g_signal_connect_object (connection, "changed",
                                   G_CALLBACK (connection_changed_cb), self, 0);
        }
    }
  update (self);
}

void
pm_funds_page_set_user (PmFundsPage  *self,
                        const PmUser *user)
{
  g_return_if_fail (PM_IS_FUNDS_PAGE (self));

  self->supervisor = user != NULL && user->role == PM_ROLE_SUPERVISOR;
  self->user_id = user != NULL ? user->id : 0;

  /* What the last person did and typed is not the next person's business. */
  set_message (self, FALSE, NULL);
  gtk_editable_set_text (GTK_EDITABLE (self->amount_entry), "");

  adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (self->refill_group),
                                         self->supervisor
                                         ? _("Moves postage from the account at the "
                                             "provider into the meter.")
                                         : _("Moves postage from the account at the "
                                             "provider into the meter. Only a supervisor "
                                             "can refill or inspect."));
  update (self);
}

void
pm_funds_page_refresh (PmFundsPage *self)
{
  g_return_if_fail (PM_IS_FUNDS_PAGE (self));

  if (self->connection == NULL)
    {
      update (self);
      return;
    }
  pm_connection_refresh_async (self->connection, self->cancellable, NULL, NULL);
  fetch_receipts (self);
}

void
pm_funds_page_set_amount_text (PmFundsPage *self,
                               const char  *text)
{
  g_return_if_fail (PM_IS_FUNDS_PAGE (self));

  gtk_editable_set_text (GTK_EDITABLE (self->amount_entry), text);
}

const char *
pm_funds_page_get_message (PmFundsPage *self)
{
  g_return_val_if_fail (PM_IS_FUNDS_PAGE (self), NULL);

  return self->message;
}

gboolean
pm_funds_page_is_busy (PmFundsPage *self)
{
  g_return_val_if_fail (PM_IS_FUNDS_PAGE (self), FALSE);

  return self->busy;
}

guint
pm_funds_page_get_receipt_count (PmFundsPage *self)
{
  g_return_val_if_fail (PM_IS_FUNDS_PAGE (self), 0);

  return self->receipt_count;
}

/* row: "funds", "account", "inspection", "network", "upload" or "amount". */
const char *
pm_funds_page_get_row_text (PmFundsPage *self,
                            const char  *row)
{
  GtkWidget *widget = NULL;

  g_return_val_if_fail (PM_IS_FUNDS_PAGE (self), NULL);

  if (g_strcmp0 (row, "funds") == 0)
    widget = self->psd_funds_row;
  else if (g_strcmp0 (row, "account") == 0)
    widget = self->account_row;
  else if (g_strcmp0 (row, "inspection") == 0)
    widget = self->inspection_row;
  else if (g_strcmp0 (row, "network") == 0)
    widget = self->network_row;
  else if (g_strcmp0 (row, "upload") == 0)
    widget = self->upload_row;
  else if (g_strcmp0 (row, "amount") == 0)
    widget = self->amount_row;
  g_return_val_if_fail (widget != NULL, NULL);

  return adw_action_row_get_subtitle (ADW_ACTION_ROW (widget));
}
