/* pm-mail-page.c: Print on envelopes; main thread only
 *
 * The page never does I/O itself: scale readings arrive as signals, the PSD, store and
 * printer answer through their _async calls and the print goes through PmPrintFlow.
 * Rating is a pure function, so the postage is worked out again on every reading.
 */
#include "pm-mail-page.h"

#include <glib/gi18n.h>

#include "pm-application.h"
#include "pm-clock.h"
#include "pm-indicium.h"
#include "pm-settings-keys.h"
#include "pm-sim-scale.h"
#include "pm-store-presets.h"
#include "pm-store-records.h"

/* The modes in the order the Print row offers them. */
static const PmPieceMode modes[] = {
  PM_PIECE_MODE_POSTAGE,
  PM_PIECE_MODE_DATE_STAMP,
  PM_PIECE_MODE_RE_DATE,
  PM_PIECE_MODE_ADDITIONAL,
  PM_PIECE_MODE_KEY_IN,
  PM_PIECE_MODE_GRAPHIC,
};

static const char *
mode_title (PmPieceMode mode)
{
  switch (mode)
    {
    case PM_PIECE_MODE_POSTAGE: return _("Postage");
    case PM_PIECE_MODE_DATE_STAMP: return _("Date and time stamp (incoming mail)");
    case PM_PIECE_MODE_RE_DATE: return _("Re-date (no value)");
    case PM_PIECE_MODE_ADDITIONAL: return _("Additional postage");
    case PM_PIECE_MODE_KEY_IN: return _("Key-in amount");
    case PM_PIECE_MODE_GRAPHIC: return _("Graphic only");
    default: return "";
    }
}

typedef struct
{
  PmMailClass mail_class;
  PmShape     shape;
} Product;

struct _PmMailPage
{
  GtkWidget       parent_instance;

  /* Owned; main thread. */
  PmUser         *user;
  GCancellable   *cancellable;
  GSettings      *settings;
  PmScale        *scale;            /* the one whose "reading" we follow */
  PmScaleReading *reading;          /* the last reading, or NULL */
  PmRatePackage  *package;          /* in force today, or NULL */
  GArray         *products;         /* of Product, as in class_model */
  GtkStringList  *class_model;
  GPtrArray      *service_checks;   /* GtkCheckButton, with "service" data */
  GtkStringList  *account_model;
  GArray         *account_ids;      /* gint64, as in account_model */
  GtkStringList  *mode_model;
  GtkStringList  *preset_model;     /* "No preset", then presets, by name */
  GPtrArray      *presets;          /* of PmPreset, as in preset_model after the first */
  gboolean        default_applied;  /* the supervisor's default, once per page */
  char           *saved_preset;     /* saved, to choose and announce once reloaded */
  char           *preset_notice;
  GBytes         *graphic;          /* graphic only, when one is installed */
  PmPrintOutcome *last_outcome;
  char           *message;
  char           *weight_text;
  PmMills         low_funds;
  gint64          batch_count;
  PmMills         batch_value;
  int             today_count;
  gboolean        ready;
  gboolean        busy;
  gboolean        quotable;         /* the piece as shown can be rated and printed */
  gboolean        refused;          /* the message is a refusal of the last Print */
  char           *piece_key;        /* the piece as last weighed, to see it change */
  gboolean        stable;
  gboolean        connected_app;
  guint           tick_id;          /* while shown: the date rolls at local midnight */

  /* Template children. */
  GtkWidget      *preset_row;
  GtkWidget      *preset_entry;
  GtkWidget      *default_button;
  GtkWidget      *weight_label;
  GtkWidget      *stable_label;
  GtkWidget      *scale_label;
  GtkWidget      *demo_box;
  GtkWidget      *manual_entry;
  GtkWidget      *manual_switch;
  GtkWidget      *class_row;
  GtkWidget      *services_row;
  GtkWidget      *services_box;
  GtkWidget      *destination_row;
  GtkWidget      *destination_entry;
  GtkWidget      *mode_row;
  GtkWidget      *amount_row;
  GtkWidget      *amount_entry;
  GtkWidget      *date_row;
  GtkWidget      *days_spin;
  GtkWidget      *account_row;
  GtkWidget      *postage_label;
  GtkWidget      *breakdown_label;
  GtkWidget      *print_button;
  GtkWidget      *print_spinner;
  GtkWidget      *message_label;
  GtkWidget      *confirm_button;
  GtkWidget      *funds_label;
  GtkWidget      *piece_count_label;
  GtkWidget      *batch_label;
  GtkWidget      *inspection_label;
  GtkWidget      *low_funds_label;
  GtkWidget      *today_label;
  GtkWidget      *today_list;
};

G_DEFINE_FINAL_TYPE (PmMailPage, pm_mail_page, GTK_TYPE_WIDGET)

static void load_presets     (PmMailPage *self);
static void preset_chosen_cb (PmMailPage *self);

static PmApplication *
application (PmMailPage *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkApplication *app;

  if (!GTK_IS_WINDOW (root))
    return NULL;
  app = gtk_window_get_application (GTK_WINDOW (root));
  return PM_IS_APPLICATION (app) ? PM_APPLICATION (app) : NULL;
}

static PmPrintFlow *
flow (PmMailPage *self)
{
  PmApplication *app = application (self);

  return app != NULL ? pm_application_get_print_flow (app) : NULL;
}

static PmPieceMode
current_mode (PmMailPage *self)
{
  guint i = adw_combo_row_get_selected (ADW_COMBO_ROW (self->mode_row));

  return i < G_N_ELEMENTS (modes) ? modes[i] : PM_PIECE_MODE_POSTAGE;
}

static void
set_message (PmMailPage *self,
             const char *text,
             const char *css_class)
{
  g_free (self->message);
  self->message = g_strdup (text);

  self->refused = FALSE;
  gtk_label_set_text (GTK_LABEL (self->message_label), text != NULL ? text : "");
  gtk_widget_set_visible (self->message_label, text != NULL);
  gtk_widget_remove_css_class (self->message_label, "success");
  gtk_widget_remove_css_class (self->message_label, "error");
  gtk_widget_remove_css_class (self->message_label, "warning");
  if (css_class != NULL)
    gtk_widget_add_css_class (self->message_label, css_class);
}

/* Print is offered only when the piece can be quoted; the print flow checks everything
 * again when pressed, so this is a convenience, never the guard. */
static void
update_print_button (PmMailPage *self)
{
  gtk_widget_set_sensitive (self->print_button,
                            self->ready && !self->busy && self->quotable);
}

/* A refusal answers the piece as it was: once the operator changes the piece, class,
 * destination, mode or amount, it no longer applies. */
static void
clear_refusal (PmMailPage *self)
{
  if (!self->refused)
    return;
  set_message (self, NULL, NULL);
  gtk_widget_set_visible (self->confirm_button, FALSE);
}

static void
input_changed_cb (PmMailPage *self)
{
  clear_refusal (self);
}

/* The request ---------------------------------------------------------------------------- */

static guint
chosen_services (PmMailPage *self)
{
  guint services = 0;

  for (guint i = 0; i < self->service_checks->len; i++)
    {
      GtkCheckButton *check = g_ptr_array_index (self->service_checks, i);

      if (gtk_check_button_get_active (check))
        services |= GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (check), "service"));
    }
  return services;
}

/* Fills @request from the screen. The strings point into the widgets: use it at once. */
static void
build_request (PmMailPage     *self,
               PmPrintRequest *request)
{
  guint class_index = adw_combo_row_get_selected (ADW_COMBO_ROW (self->class_row));
  guint account_index = adw_combo_row_get_selected (ADW_COMBO_ROW (self->account_row));
  const char *amount_text = gtk_editable_get_text (GTK_EDITABLE (self->amount_entry));

  memset (request, 0, sizeof *request);
  request->mode = current_mode (self);

  if (gtk_switch_get_active (GTK_SWITCH (self->manual_switch)))
    {
      const char *typed = gtk_editable_get_text (GTK_EDITABLE (self->manual_entry));

      request->manual_weight = TRUE;
      request->has_weight = pm_weight_parse (typed, &request->weight, NULL);
    }
  else if (self->reading != NULL)
    {
      request->scale_state = self->reading->state;
      request->postable = self->reading->postable;
      request->has_weight = self->reading->has_weight;
      request->weight = self->reading->weight;
    }
  else
    request->scale_state = PM_SCALE_STATE_UNREADABLE;

  if (class_index < self->products->len)
    {
      Product *product = &g_array_index (self->products, Product, class_index);

      request->mail_class = product->mail_class;
      request->shape = product->shape;
    }
  request->services = chosen_services (self);
  request->destination_zip = gtk_editable_get_text (GTK_EDITABLE (self->destination_entry));
  if (*amount_text != '\0')
    pm_money_parse (amount_text, &request->amount, NULL);
  request->days_ahead =
    (guint) gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (self->days_spin));
  if (account_index < self->account_ids->len)
    request->account_id = g_array_index (self->account_ids, gint64, account_index);
  request->user_id = self->user != NULL ? self->user->id : 0;
  request->graphic_png = request->mode == PM_PIECE_MODE_GRAPHIC ? self->graphic : NULL;
}

static gboolean
class_is_zoned (PmMailClass mail_class)
{
  return mail_class == PM_MAIL_CLASS_GROUND_ADVANTAGE ||
         mail_class == PM_MAIL_CLASS_PRIORITY_MAIL ||
         mail_class == PM_MAIL_CLASS_PRIORITY_MAIL_EXPRESS;
}

/* Under the destination: whether the price needs it and, once rated, the zone it gave,
 * so the operator sees what the price rests on. */
static void
update_destination (PmMailPage           *self,
                    const PmPrintRequest *request,
                    const PmQuote        *quote)
{
  g_autofree char *text = NULL;
  PmPrintFlow *print_flow = flow (self);
  const char *origin = print_flow != NULL ? pm_print_flow_get_origin_zip (print_flow) : "";

  if (request->mode != PM_PIECE_MODE_POSTAGE || !class_is_zoned (request->mail_class))
    text = g_strdup (_("Printed in the indicium"));
  else if (quote != NULL && quote->zone > 0)
    {
      text = g_strdup_printf (_("Zone %u from %s"), quote->zone, origin);
      if (quote->warnings & (PM_QUOTE_WARNING_ZONE_CHART_OLD |
                             PM_QUOTE_WARNING_ZONE_EXCEPTIONS))
        {
          g_autofree char *plain = g_steal_pointer (&text);

          /* The shipped charts are from 2018 and lack the 5-digit exceptions. */
          text = g_strdup_printf (_("%s (older zone chart: check it at postcalc.usps.com)"),
                                  plain);
        }
    }
  else
    text = g_strdup (_("Needed: the price depends on the zone"));
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->destination_row), text);
}

/* The postage as it stands, worked out again after every change. */
static void
update_postage (PmMailPage *self)
{
  PmPrintFlow *print_flow = flow (self);
  g_auto(PmQuote) quote = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) breakdown = g_string_new (NULL);
  g_autofree char *amount = NULL;
  PmPrintRequest request;
  PmMills postage = 0;
  guint32 date = 0;
  gboolean ok;

  if (print_flow == NULL)
    return;

  build_request (self, &request);
  gtk_widget_set_visible (self->amount_row, request.mode == PM_PIECE_MODE_KEY_IN ||
                                            request.mode == PM_PIECE_MODE_ADDITIONAL);
  gtk_widget_set_sensitive (self->class_row, request.mode == PM_PIECE_MODE_POSTAGE ||
                                             request.mode == PM_PIECE_MODE_KEY_IN);

  if (pm_print_flow_date_of_mailing (request.days_ahead, &date, NULL))
    {
      g_autofree char *text = pm_indicium_format_date (date);

      adw_action_row_set_subtitle (ADW_ACTION_ROW (self->date_row), text);
    }

  ok = pm_print_flow_check (print_flow, &request, &postage, &quote, &error);
  self->quotable = ok;
  update_print_button (self);
  update_destination (self, &request, ok ? &quote : NULL);
  if (!ok)
    {
      gtk_label_set_text (GTK_LABEL (self->postage_label), "—");
      gtk_label_set_text (GTK_LABEL (self->breakdown_label), error->message);
      return;
    }

  amount = pm_money_format (postage);
  gtk_label_set_text (GTK_LABEL (self->postage_label), amount);

  if (quote.package != NULL)
    {
      for (guint i = 0; i < quote.n_lines; i++)
        {
          g_autofree char *line = pm_money_format (quote.lines[i].amount);

          g_string_append_printf (breakdown, "%s%s  %s", i > 0 ? "\n" : "",
                                  quote.lines[i].label, line);
        }
      if (quote.weight_break != NULL)
        g_string_append_printf (breakdown, _("\nPriced up to %s, %s"), quote.weight_break,
                                quote.package->title);
      if (quote.zone > 0)
        g_string_append_printf (breakdown, _(", zone %u"), quote.zone);
    }
  else if (request.mode == PM_PIECE_MODE_DATE_STAMP || request.mode == PM_PIECE_MODE_RE_DATE
           || request.mode == PM_PIECE_MODE_GRAPHIC)
    g_string_append (breakdown, _("No postage is taken for this print."));
  gtk_label_set_text (GTK_LABEL (self->breakdown_label), breakdown->str);
}

/* Weight --------------------------------------------------------------------------------- */

static void
update_weight (PmMailPage *self)
{
  const char *stable_text = "";
  g_autofree char *text = NULL;

  gtk_widget_remove_css_class (self->stable_label, "stable");
  gtk_widget_remove_css_class (self->stable_label, "moving");
  self->stable = FALSE;

  if (gtk_switch_get_active (GTK_SWITCH (self->manual_switch)))
    {
      PmWeight weight;
      const char *typed = gtk_editable_get_text (GTK_EDITABLE (self->manual_entry));

      if (pm_weight_parse (typed, &weight, NULL))
        {
          text = pm_weight_format (&weight);
          stable_text = _("Typed");
          self->stable = TRUE;
        }
      else
        {
          text = g_strdup ("—");
          stable_text = _("Type a weight");
        }
      gtk_label_set_text (GTK_LABEL (self->scale_label),
                          _("The typed weight is used; turn the switch off to use the "
                            "scale."));
    }
  else if (self->reading == NULL)
    {
      text = g_strdup ("—");
      gtk_label_set_text (GTK_LABEL (self->scale_label),
                          self->scale == NULL ? _("No scale: type the weight.")
                                              : _("Waiting for the scale…"));
    }
  else
    {
      const PmScaleReading *r = self->reading;

      text = r->has_weight ? pm_weight_format (&r->weight) : g_strdup ("—");
      if (r->state == PM_SCALE_STATE_STABLE && r->postable)
        {
          stable_text = _("✔ Stable");
          self->stable = TRUE;
          gtk_widget_add_css_class (self->stable_label, "stable");
        }
      else if (r->state == PM_SCALE_STATE_MOTION)
        {
          stable_text = _("Settling…");
          gtk_widget_add_css_class (self->stable_label, "moving");
        }
      else if (r->state == PM_SCALE_STATE_ZERO)
        stable_text = _("Empty");
      gtk_label_set_text (GTK_LABEL (self->scale_label),
                          r->detail != NULL ? r->detail
                                            : pm_scale_state_describe (r->state));
    }

  /* The swings while the scale settles are one piece; a new stable weight, another. */
  {
    g_autofree char *key = NULL;

    if (self->stable)
      key = g_strconcat ("stable ", text, NULL);
    else
      key = g_strdup (stable_text);
    if (g_strcmp0 (key, self->piece_key) != 0)
      {
        clear_refusal (self);
        g_free (self->piece_key);
        self->piece_key = g_steal_pointer (&key);
      }
  }

  g_free (self->weight_text);
  self->weight_text = g_strdup (text);
  gtk_label_set_text (GTK_LABEL (self->weight_label), text);
  gtk_label_set_text (GTK_LABEL (self->stable_label), stable_text);
  update_postage (self);
}

static void
reading_cb (PmScale        *scale,
            PmScaleReading *reading,
            PmMailPage     *self)
{
  g_clear_pointer (&self->reading, pm_scale_reading_free);
  self->reading = pm_scale_reading_copy (reading);
  update_weight (self);
}

static void
follow_scale (PmMailPage *self,
              PmScale    *scale)
{
  const PmScaleReading *last;

  if (self->scale == scale)
    return;

  if (self->scale != NULL)
    g_signal_handlers_disconnect_by_data (self->scale, self);
  g_set_object (&self->scale, scale);
  g_clear_pointer (&self->reading, pm_scale_reading_free);
  if (scale == NULL)
    return;

  g_signal_connect (scale, "reading", G_CALLBACK (reading_cb), self);
  last = pm_scale_get_last_reading (scale);
  if (last != NULL)
    self->reading = pm_scale_reading_copy (last);
}

/* Classes and services ------------------------------------------------------------------- */

static void
fill_services (PmMailPage *self)
{
  guint index = adw_combo_row_get_selected (ADW_COMBO_ROW (self->class_row));
  GtkWidget *child;
  const Product *product;

  while ((child = gtk_widget_get_first_child (self->services_box)) != NULL)
    gtk_box_remove (GTK_BOX (self->services_box), child);
  g_ptr_array_set_size (self->service_checks, 0);

  if (self->package == NULL || index >= self->products->len)
    return;
  product = &g_array_index (self->products, Product, index);

  for (guint i = 0; i < self->package->n_services; i++)
    {
      const PmExtraService *service = &self->package->services[i];
      gboolean seen = FALSE;
      GtkWidget *check;

      /* TODO: insurance needs a declared value to be typed; until the page asks for one
       * it is not offered. */
      if (!(service->classes & (1u << product->mail_class))
          || service->service == PM_SERVICE_INSURANCE)
        continue;
      for (guint j = 0; j < self->service_checks->len; j++)
        if (GPOINTER_TO_UINT (g_object_get_data (g_ptr_array_index (self->service_checks, j),
                                                 "service")) == service->service)
          seen = TRUE;
      if (seen)
        continue;

      check = gtk_check_button_new_with_label (service->name);
      g_object_set_data (G_OBJECT (check), "service", GUINT_TO_POINTER (service->service));
      g_signal_connect_swapped (check, "toggled", G_CALLBACK (update_postage), self);
      gtk_box_append (GTK_BOX (self->services_box), check);
      g_ptr_array_add (self->service_checks, check);
    }

  if (self->service_checks->len == 0)
    gtk_box_append (GTK_BOX (self->services_box), gtk_label_new (_("None for this class")));
}

static void
fill_classes (PmMailPage *self)
{
  PmApplication *app = application (self);
  PmRating *rating = app != NULL ? pm_application_get_rating (app) : NULL;
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->class_model));

  if (rating == NULL || self->package != NULL)
    return;

  self->package = pm_rating_dup_package_for_date (rating, pm_rate_date_today ());
  if (self->package == NULL)
    return;

  gtk_string_list_splice (self->class_model, 0, n, NULL);
  g_array_set_size (self->products, 0);
  for (guint i = 0; i < self->package->n_products; i++)
    {
      const PmRateProduct *product = &self->package->products[i];
      Product p = { product->mail_class, product->shape };

      g_array_append_val (self->products, p);
      gtk_string_list_append (self->class_model, product->name);
    }
  adw_combo_row_set_selected (ADW_COMBO_ROW (self->class_row), 0);
  fill_services (self);
}

/* Accounts, counters, today -------------------------------------------------------------- */

static void
accounts_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GPtrArray) accounts = NULL;
  g_autoptr(GError) error = NULL;
  PmMailPage *self;
  guint n;

  accounts = pm_store_list_cost_accounts_finish (PM_STORE (source), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self = PM_MAIL_PAGE (user_data);
  if (accounts == NULL)
    {
      g_warning ("Could not read the cost accounts: %s", error->message);
      return;
    }

  n = g_list_model_get_n_items (G_LIST_MODEL (self->account_model));
  gtk_string_list_splice (self->account_model, 0, n, NULL);
  g_array_set_size (self->account_ids, 0);
  for (guint i = 0; i < accounts->len; i++)
    {
      PmCostAccount *account = g_ptr_array_index (accounts, i);

      gtk_string_list_append (self->account_model, account->name);
      g_array_append_val (self->account_ids, account->id);
      if (account->id == PM_COST_ACCOUNT_GENERAL_ID)
        adw_combo_row_set_selected (ADW_COMBO_ROW (self->account_row), i);
    }

  /* The default preset names an account: it is applied once the accounts are here. */
  if (!self->default_applied)
    load_presets (self);
}

static void
update_counters (PmMailPage        *self,
                 const PmPsdStatus *status)
{
  PmApplication *app = application (self);
  g_autofree char *funds = pm_money_format (status->descending);
  g_autofree char *count = g_strdup_printf ("%" G_GUINT64_FORMAT, status->piece_count);
  g_autofree char *inspection = NULL;
  g_autoptr(GDateTime) due = g_date_time_new_from_unix_local (status->inspection_due);
  g_autofree char *due_text = due != NULL ? g_date_time_format (due, "%-d %b %Y") : NULL;
  gboolean low = status->descending < self->low_funds;

  gtk_label_set_text (GTK_LABEL (self->funds_label), funds);
  gtk_label_set_text (GTK_LABEL (self->piece_count_label), count);

  switch (status->inspection_state)
    {
    case PM_PSD_INSPECTION_OK:
      inspection = g_strdup_printf (_("Done; next by %s"), due_text);
      break;
    case PM_PSD_INSPECTION_WARNING:
      inspection = g_strdup (_("Due now: connect from Funds"));
      break;
    default:
      inspection = g_strdup (_("Overdue: printing stopped"));
      break;
    }
  gtk_label_set_text (GTK_LABEL (self->inspection_label), inspection);

  gtk_widget_set_visible (self->low_funds_label, low);
  if (low)
    {
      g_autofree char *limit = pm_money_format (self->low_funds);
      g_autofree char *text = g_strdup_printf (_("Funds are low (below %s). Add funds from "
                                                 "the Funds screen."), limit);

      gtk_label_set_text (GTK_LABEL (self->low_funds_label), text);
    }

  if (app != NULL && pm_application_get_window (app) != NULL)
    {
      PmStatus *line = pm_window_get_status (pm_application_get_window (app));

      pm_status_set (line, PM_STATUS_ITEM_FUNDS,
                     low ? PM_STATUS_LEVEL_WARNING : PM_STATUS_LEVEL_OK, funds);
      pm_status_set (line, PM_STATUS_ITEM_INSPECTION,
                     status->inspection_state == PM_PSD_INSPECTION_OK
                     ? PM_STATUS_LEVEL_OK
                     : status->inspection_state == PM_PSD_INSPECTION_WARNING
                     ? PM_STATUS_LEVEL_WARNING : PM_STATUS_LEVEL_ERROR, inspection);
    }
}

static void
status_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(PmPsdStatus) status = NULL;
  g_autoptr(GError) error = NULL;

  status = pm_psd_get_status_finish (PM_PSD (source), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (status == NULL)
    {
      gtk_label_set_text (GTK_LABEL (PM_MAIL_PAGE (user_data)->funds_label), error->message);
      return;
    }
  update_counters (PM_MAIL_PAGE (user_data), status);
}

static void
low_funds_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  PmMailPage *self;
  gint64 value = 0;
  g_autoptr(GError) error = NULL;

  if (!pm_store_get_setting_int_finish (PM_STORE (source), result, &value, &error)
      && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self = PM_MAIL_PAGE (user_data);
  if (error == NULL && value != self->low_funds)
    {
      PmApplication *app = application (self);
      PmPsd *psd = app != NULL ? pm_application_get_psd (app) : NULL;

      /* The warning is decided again with the supervisor's threshold. */
      self->low_funds = value;
      if (psd != NULL)
        pm_psd_get_status_async (psd, self->cancellable, status_cb, self);
    }
}

/* "First-Class Mail letter" for "first-class-letter", from the package in force. */
static const char *
class_title (PmMailPage *self,
             const char *code)
{
  for (guint i = 0; code != NULL && i < self->products->len; i++)
    {
      Product *p = &g_array_index (self->products, Product, i);
      g_autofree char *name = g_strdup_printf ("%s-%s",
                                               pm_mail_class_to_string (p->mail_class),
                                               pm_shape_to_string (p->shape));

      if (g_strcmp0 (name, code) == 0)
        return gtk_string_list_get_string (self->class_model, i);
    }
  return code;
}

static GtkWidget *
piece_row (PmMailPage    *self,
           const PmPiece *piece)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *amount;
  g_autoptr(GDateTime) at = g_date_time_new_from_unix_local (piece->created_at /
                                                            G_USEC_PER_SEC);
  g_autofree char *time = at != NULL ? g_date_time_format (at, "%H:%M") : g_strdup ("");
  g_autofree char *money = pm_money_format (piece->postage);
  g_autofree char *title = NULL;
  g_autofree char *subtitle = NULL;

  if (piece->mode == PM_PIECE_MODE_POSTAGE)
    title = g_strdup_printf ("%s  %s", time, class_title (self, piece->class_code));
  else
    title = g_strdup_printf ("%s  %s", time, mode_title (piece->mode));
  subtitle = g_strdup_printf (_("%s · to %s · %s"),
                              piece->weight != NULL && *piece->weight != '\0'
                              ? piece->weight : _("no weight"),
                              piece->destination_zip != NULL && *piece->destination_zip
                              ? piece->destination_zip : "—",
                              pm_print_state_to_string (piece->print_state));
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  amount = gtk_label_new (money);
  gtk_widget_add_css_class (amount, "heading");
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), amount);
  if (piece->print_state != PM_PRINT_STATE_PRINTED)
    gtk_widget_add_css_class (row, "warning");
  return row;
}

static void
today_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(PmPieceDay) day = NULL;
  g_autoptr(GError) error = NULL;
  PmMailPage *self;
  GtkWidget *child;
  g_autofree char *total = NULL;
  g_autofree char *heading = NULL;

  day = pm_store_list_day_finish (PM_STORE (source), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self = PM_MAIL_PAGE (user_data);
  if (day == NULL)
    {
      gtk_label_set_text (GTK_LABEL (self->today_label), error->message);
      return;
    }

  while ((child = gtk_widget_get_first_child (self->today_list)) != NULL)
    gtk_list_box_remove (GTK_LIST_BOX (self->today_list), child);

  /* Newest first: the piece just printed is on top. */
  for (guint i = day->pieces->len; i > 0; i--)
    gtk_list_box_append (GTK_LIST_BOX (self->today_list),
                         piece_row (self, g_ptr_array_index (day->pieces, i - 1)));

  total = pm_money_format (day->postage_total);
  heading = g_strdup_printf (ngettext ("Today: %" G_GINT64_FORMAT " piece, %s "
                                       "(%" G_GINT64_FORMAT " printed, %" G_GINT64_FORMAT
                                       " failed, %" G_GINT64_FORMAT " unknown)",
                                       "Today: %" G_GINT64_FORMAT " pieces, %s "
                                       "(%" G_GINT64_FORMAT " printed, %" G_GINT64_FORMAT
                                       " failed, %" G_GINT64_FORMAT " unknown)",
                                       day->count),
                             day->count, total, day->printed, day->failed, day->pending);
  gtk_label_set_text (GTK_LABEL (self->today_label), heading);
  self->today_count = (int) day->pieces->len;
  gtk_widget_set_visible (self->today_list, day->pieces->len > 0);
}

static void
update_batch (PmMailPage *self)
{
  g_autofree char *value = pm_money_format (self->batch_value);
  g_autofree char *text = g_strdup_printf (ngettext ("%" G_GINT64_FORMAT " piece, %s",
                                                     "%" G_GINT64_FORMAT " pieces, %s",
                                                     self->batch_count),
                                           self->batch_count, value);

  gtk_label_set_text (GTK_LABEL (self->batch_label), text);
}

static void
refresh_state (PmMailPage *self)
{
  PmApplication *app = application (self);
  PmStore *store = app != NULL ? pm_application_get_store (app) : NULL;
  PmPsd *psd = app != NULL ? pm_application_get_psd (app) : NULL;

  if (store != NULL)
    {
      g_autoptr(GDate) today = pm_clock_today_local ();

      pm_store_get_setting_int_async (store, PM_STORE_SETTING_LOW_FUNDS_MILLS,
                                      50 * PM_MILLS_PER_DOLLAR, self->cancellable,
                                      low_funds_cb, self);
      pm_store_list_day_async (store, today, self->cancellable, today_cb, self);
    }
  if (psd != NULL)
    pm_psd_get_status_async (psd, self->cancellable, status_cb, self);
}

static void
graphic_loaded_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;

  bytes = g_file_load_bytes_finish (G_FILE (source), result, NULL, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (bytes == NULL)
    {
      g_debug ("No graphic for graphic-only prints: %s", error->message);
      return;
    }
  PM_MAIL_PAGE (user_data)->graphic = g_steal_pointer (&bytes);
}

static void
load_graphic (PmMailPage *self)
{
  g_autofree char *path = NULL;
  g_autoptr(GFile) file = NULL;

  if (self->graphic != NULL)
    return;

  /* The graphics that come with Postmeter; read once, a few kilobytes. */
  path = g_build_filename (PM_DATADIR, "graphics", "forwarding-service-requested.png",
                           NULL);
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_free (path);
      path = g_build_filename (PM_SOURCE_DATADIR, "graphics",
                               "forwarding-service-requested.png", NULL);
    }
  file = g_file_new_for_path (path);
  g_file_load_bytes_async (file, self->cancellable, graphic_loaded_cb, self);
}

void
pm_mail_page_refresh (PmMailPage *self)
{
  PmApplication *app;
  PmStore *store;

  g_return_if_fail (PM_IS_MAIL_PAGE (self));

  app = application (self);
  if (app == NULL)
    return;

  if (!self->connected_app)
    {
      self->connected_app = TRUE;
      g_signal_connect_object (app, "devices-changed", G_CALLBACK (pm_mail_page_refresh),
                               self, G_CONNECT_SWAPPED);
    }

  self->ready = pm_application_get_print_flow (app) != NULL;
  update_print_button (self);
  if (!self->ready)
    {
      const GError *error = pm_application_get_devices_error (app);

      set_message (self, error != NULL ? error->message
                                       : _("The meter's devices are starting…"),
                   error != NULL ? "error" : NULL);
      return;
    }
  if (self->message != NULL && self->last_outcome == NULL)
    set_message (self, NULL, NULL);

  follow_scale (self, pm_application_get_scale (app));
  fill_classes (self);
  store = pm_application_get_store (app);
  if (g_list_model_get_n_items (G_LIST_MODEL (self->account_model)) == 0 && store != NULL)
    pm_store_list_cost_accounts_async (store, TRUE, self->cancellable, accounts_cb, self);
  gtk_widget_set_visible (self->demo_box,
                          g_settings_get_boolean (self->settings, PM_SETTINGS_DEMO_CONTROLS)
                          && PM_IS_SIM_SCALE (self->scale));
  load_graphic (self);
  load_presets (self);
  refresh_state (self);
  update_weight (self);
}

/* Presets -------------------------------------------------------------------------------- */

static char *
class_code_of (const Product *product)
{
  return g_strdup_printf ("%s-%s", pm_mail_class_to_string (product->mail_class),
                          pm_shape_to_string (product->shape));
}

static gboolean
select_class_code (PmMailPage *self,
                   const char *code)
{
  for (guint i = 0; i < self->products->len; i++)
    {
      g_autofree char *name = class_code_of (&g_array_index (self->products, Product, i));

      if (g_strcmp0 (name, code) == 0)
        {
          adw_combo_row_set_selected (ADW_COMBO_ROW (self->class_row), i);
          return TRUE;
        }
    }
  return FALSE;
}

static void
apply_preset (PmMailPage     *self,
              const PmPreset *preset)
{
  if (preset->class_code != NULL && *preset->class_code != '\0')
    select_class_code (self, preset->class_code);

  /* The class's services are listed again when it changes; tick the preset's. */
  for (guint i = 0; i < self->service_checks->len; i++)
    {
      GtkCheckButton *check = g_ptr_array_index (self->service_checks, i);
      guint service = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (check), "service"));

      gtk_check_button_set_active (check, (preset->services & service) != 0);
    }

  for (guint i = 0; i < self->account_ids->len; i++)
    if (g_array_index (self->account_ids, gint64, i) == preset->account_id)
      adw_combo_row_set_selected (ADW_COMBO_ROW (self->account_row), i);

  for (guint i = 0; i < G_N_ELEMENTS (modes); i++)
    if (modes[i] == preset->mode)
      adw_combo_row_set_selected (ADW_COMBO_ROW (self->mode_row), i);
}

static void
preset_chosen_cb (PmMailPage *self)
{
  guint index = adw_combo_row_get_selected (ADW_COMBO_ROW (self->preset_row));

  if (index == 0 || index > self->presets->len)
    return;
  apply_preset (self, g_ptr_array_index (self->presets, index - 1));
}

static void
presets_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GPtrArray) presets = NULL;
  g_autoptr(GError) error = NULL;
  PmMailPage *self;
  guint n;
  guint chosen = 0;
  g_autofree char *was = NULL;

  presets = pm_store_list_presets_finish (PM_STORE (source), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self = PM_MAIL_PAGE (user_data);
  if (presets == NULL)
    {
      g_warning ("Could not read the presets: %s", error->message);
      return;
    }

  /* Keep the chosen preset chosen across a reload, by name. */
  n = adw_combo_row_get_selected (ADW_COMBO_ROW (self->preset_row));
  if (n > 0 && n <= self->presets->len)
    was = g_strdup (((PmPreset *) g_ptr_array_index (self->presets, n - 1))->name);

  g_signal_handlers_block_by_func (self->preset_row, preset_chosen_cb, self);
  n = g_list_model_get_n_items (G_LIST_MODEL (self->preset_model));
  gtk_string_list_splice (self->preset_model, 1, n - 1, NULL);
  g_ptr_array_set_size (self->presets, 0);
  for (guint i = 0; i < presets->len; i++)
    {
      PmPreset *preset = g_ptr_array_index (presets, i);
      g_autofree char *title = preset->is_default
                               ? g_strdup_printf (_("%s (default)"), preset->name)
                               : g_strdup (preset->name);

      gtk_string_list_append (self->preset_model, title);
      g_ptr_array_add (self->presets, pm_preset_copy (preset));
      if (self->saved_preset != NULL
          ? g_strcmp0 (preset->name, self->saved_preset) == 0
          : (g_strcmp0 (preset->name, was) == 0
             || (!self->default_applied && preset->is_default)))
        chosen = i + 1;
    }
  adw_combo_row_set_selected (ADW_COMBO_ROW (self->preset_row), chosen);
  g_signal_handlers_unblock_by_func (self->preset_row, preset_chosen_cb, self);
  g_clear_pointer (&self->saved_preset, g_free);
  if (self->preset_notice != NULL)
    {
      g_autofree char *notice = g_steal_pointer (&self->preset_notice);

      set_message (self, notice, "success");
    }

  /* The supervisor's default, when the page first has everything to apply it to. */
  if (!self->default_applied && self->products->len > 0
      && self->account_ids->len > 0)
    {
      self->default_applied = TRUE;
      if (chosen > 0 && ((PmPreset *) g_ptr_array_index (self->presets,
                                                         chosen - 1))->is_default)
        apply_preset (self, g_ptr_array_index (self->presets, chosen - 1));
    }
}

static void
load_presets (PmMailPage *self)
{
  PmApplication *app = application (self);
  PmStore *store = app != NULL ? pm_application_get_store (app) : NULL;

  if (store != NULL)
    pm_store_list_presets_async (store, self->cancellable, presets_cb, self);
}

static void
preset_saved_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  PmMailPage *self;

  if (!pm_store_save_preset_finish (PM_STORE (source), result, &error)
      && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self = PM_MAIL_PAGE (user_data);
  if (error != NULL)
    {
      set_message (self, error->message, "warning");
      g_clear_pointer (&self->saved_preset, g_free);
    }
  else
    self->preset_notice = g_strdup (_("The preset is saved."));
  load_presets (self);
}

static void
save_preset (PmMailPage *self,
             const char *name)
{
  PmApplication *app = application (self);
  PmStore *store = app != NULL ? pm_application_get_store (app) : NULL;
  g_autoptr(PmPreset) preset = pm_preset_new ();
  g_autofree char *trimmed = g_strstrip (g_strdup (name));
  PmPrintRequest request;

  if (store == NULL)
    return;
  if (*trimmed == '\0')
    {
      set_message (self, _("Type a name for the preset first."), "warning");
      return;
    }

  build_request (self, &request);
  preset->name = g_steal_pointer (&trimmed);
  {
    guint index = adw_combo_row_get_selected (ADW_COMBO_ROW (self->class_row));

    if (index < self->products->len)
      preset->class_code = class_code_of (&g_array_index (self->products, Product, index));
  }
  preset->services = request.services;
  preset->account_id = request.account_id;
  preset->mode = request.mode;
  g_free (self->saved_preset);
  self->saved_preset = g_strdup (preset->name);
  pm_store_save_preset_async (store, preset, self->cancellable, preset_saved_cb, self);
}

static void
default_set_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  PmMailPage *self;

  if (!pm_store_set_default_preset_finish (PM_STORE (source), result, &error)
      && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self = PM_MAIL_PAGE (user_data);
  if (error != NULL)
    set_message (self, error->message, "warning");
  else
    self->preset_notice = g_strdup (_("The Mail screen now starts with this preset."));
  load_presets (self);
}

static void
set_default_preset (PmMailPage *self,
                    const char *name)
{
  PmApplication *app = application (self);
  PmStore *store = app != NULL ? pm_application_get_store (app) : NULL;

  if (store == NULL)
    return;
  if (self->user == NULL || self->user->role != PM_ROLE_SUPERVISOR)
    {
      set_message (self, _("Only a supervisor can choose the default preset."), "warning");
      return;
    }
  pm_store_set_default_preset_async (store, name, self->user->id, self->cancellable,
                                     default_set_cb, self);
}

/* Printing ------------------------------------------------------------------------------- */

static void
printed_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  PmMailPage *self = PM_MAIL_PAGE (user_data);
  g_autoptr(GError) error = NULL;
  PmPrintOutcome *outcome;

  outcome = pm_print_flow_print_finish (PM_PRINT_FLOW (source), result, &error);
  self->busy = FALSE;
  gtk_spinner_set_spinning (GTK_SPINNER (self->print_spinner), FALSE);
  update_print_button (self);
  g_clear_pointer (&self->last_outcome, pm_print_outcome_free);

  if (outcome == NULL)
    {
      g_autofree char *text = NULL;

      text = g_strdup_printf (_("Not printed; no postage was taken. %s"), error->message);
      set_message (self, text, "warning");
      self->refused = TRUE;
      gtk_widget_set_visible (self->confirm_button,
                              g_error_matches (error, PM_PRINT_FLOW_ERROR,
                                               PM_PRINT_FLOW_ERROR_CONFIRMATION_REQUIRED));
      g_object_unref (self);
      return;
    }

  self->last_outcome = outcome;
  if (outcome->postage > 0)
    {
      self->batch_count++;
      self->batch_value += outcome->postage;
      update_batch (self);
    }
  if (outcome->kind == PM_PRINT_OUTCOME_PRINTED)
    set_message (self, outcome->message, "success");
  else
    set_message (self, outcome->message, "error");

  if (outcome->status != NULL)
    update_counters (self, outcome->status);
  refresh_state (self);
  g_object_unref (self);
}

static void
print_piece (PmMailPage *self,
             gboolean    confirmed)
{
  PmPrintFlow *print_flow = flow (self);
  PmPrintRequest request;

  if (print_flow == NULL || self->busy)
    return;

  build_request (self, &request);
  request.amount_confirmed = confirmed;

  self->busy = TRUE;
  update_print_button (self);
  gtk_widget_set_visible (self->confirm_button, FALSE);
  gtk_spinner_set_spinning (GTK_SPINNER (self->print_spinner), TRUE);
  set_message (self, _("Printing…"), NULL);
  pm_print_flow_print_async (print_flow, &request, NULL, printed_cb, g_object_ref (self));
}

/* Actions -------------------------------------------------------------------------------- */

static void
print_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *parameter)
{
  print_piece (PM_MAIL_PAGE (widget), FALSE);
}

static void
print_confirmed_action (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *parameter)
{
  print_piece (PM_MAIL_PAGE (widget), TRUE);
}

static void
select_class_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  PmMailPage *self = PM_MAIL_PAGE (widget);
  const char *code = g_variant_get_string (parameter, NULL);

  if (!select_class_code (self, code))
    g_warning ("No class “%s” in the rate package in force", code);
}

static void
select_mode_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  PmMailPage *self = PM_MAIL_PAGE (widget);
  PmPieceMode mode;

  if (!pm_piece_mode_from_string (g_variant_get_string (parameter, NULL), &mode))
    return;
  for (guint i = 0; i < G_N_ELEMENTS (modes); i++)
    if (modes[i] == mode)
      adw_combo_row_set_selected (ADW_COMBO_ROW (self->mode_row), i);
}

static void
set_destination_action (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *parameter)
{
  gtk_editable_set_text (GTK_EDITABLE (PM_MAIL_PAGE (widget)->destination_entry),
                         g_variant_get_string (parameter, NULL));
}

static void
set_manual_weight_action (GtkWidget  *widget,
                          const char *action_name,
                          GVariant   *parameter)
{
  PmMailPage *self = PM_MAIL_PAGE (widget);
  const char *text = g_variant_get_string (parameter, NULL);

  gtk_editable_set_text (GTK_EDITABLE (self->manual_entry), text);
  gtk_switch_set_active (GTK_SWITCH (self->manual_switch), *text != '\0');
}

static void
set_days_ahead_action (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *parameter)
{
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (PM_MAIL_PAGE (widget)->days_spin),
                             g_variant_get_int32 (parameter));
}

static void
set_amount_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  gtk_editable_set_text (GTK_EDITABLE (PM_MAIL_PAGE (widget)->amount_entry),
                         g_variant_get_string (parameter, NULL));
}

static void
save_preset_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  save_preset (PM_MAIL_PAGE (widget), g_variant_get_string (parameter, NULL));
}

static void
save_typed_preset_action (GtkWidget  *widget,
                          const char *action_name,
                          GVariant   *parameter)
{
  PmMailPage *self = PM_MAIL_PAGE (widget);

  save_preset (self, gtk_editable_get_text (GTK_EDITABLE (self->preset_entry)));
}

static void
apply_preset_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  PmMailPage *self = PM_MAIL_PAGE (widget);
  const char *name = g_variant_get_string (parameter, NULL);

  for (guint i = 0; i < self->presets->len; i++)
    if (g_strcmp0 (((PmPreset *) g_ptr_array_index (self->presets, i))->name, name) == 0)
      {
        adw_combo_row_set_selected (ADW_COMBO_ROW (self->preset_row), i + 1);
        return;
      }
  set_message (self, _("There is no preset by that name."), "warning");
}

static void
default_preset_action (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *parameter)
{
  set_default_preset (PM_MAIL_PAGE (widget), g_variant_get_string (parameter, NULL));
}

static void
default_chosen_preset_action (GtkWidget  *widget,
                              const char *action_name,
                              GVariant   *parameter)
{
  PmMailPage *self = PM_MAIL_PAGE (widget);
  guint index = adw_combo_row_get_selected (ADW_COMBO_ROW (self->preset_row));

  if (index == 0 || index > self->presets->len)
    {
      set_message (self, _("Choose a preset first."), "warning");
      return;
    }
  set_default_preset (self, ((PmPreset *) g_ptr_array_index (self->presets, index - 1))->name);
}

static void
reset_batch_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  PmMailPage *self = PM_MAIL_PAGE (widget);

  self->batch_count = 0;
  self->batch_value = 0;
  update_batch (self);
}

static void
put_piece_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  PmMailPage *self = PM_MAIL_PAGE (widget);
  PmWeight weight;

  if (PM_IS_SIM_SCALE (self->scale)
      && pm_weight_parse (g_variant_get_string (parameter, NULL), &weight, NULL))
    pm_sim_scale_put_piece (PM_SIM_SCALE (self->scale), &weight);
}

static void
take_piece_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  PmMailPage *self = PM_MAIL_PAGE (widget);

  if (PM_IS_SIM_SCALE (self->scale))
    pm_sim_scale_take_piece (PM_SIM_SCALE (self->scale));
}

/* GObject -------------------------------------------------------------------------------- */

static gboolean
tick_cb (gpointer user_data)
{
  update_postage (PM_MAIL_PAGE (user_data));
  return G_SOURCE_CONTINUE;
}

static void
pm_mail_page_map (GtkWidget *widget)
{
  PmMailPage *self = PM_MAIL_PAGE (widget);

  GTK_WIDGET_CLASS (pm_mail_page_parent_class)->map (widget);
  pm_mail_page_refresh (self);
  if (self->tick_id == 0)
    self->tick_id = g_timeout_add_seconds (10, tick_cb, self);
}

static void
pm_mail_page_unmap (GtkWidget *widget)
{
  PmMailPage *self = PM_MAIL_PAGE (widget);

  g_clear_handle_id (&self->tick_id, g_source_remove);
  GTK_WIDGET_CLASS (pm_mail_page_parent_class)->unmap (widget);
}

static void
pm_mail_page_dispose (GObject *object)
{
  PmMailPage *self = PM_MAIL_PAGE (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->tick_id, g_source_remove);
  follow_scale (self, NULL);
  gtk_widget_dispose_template (GTK_WIDGET (object), PM_TYPE_MAIL_PAGE);

  /* The layout boxes no field points at are still ours to drop. */
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (object));
       child != NULL;
       child = gtk_widget_get_first_child (GTK_WIDGET (object)))
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (pm_mail_page_parent_class)->dispose (object);
}

static void
pm_mail_page_finalize (GObject *object)
{
  PmMailPage *self = PM_MAIL_PAGE (object);

  g_clear_object (&self->cancellable);
  g_clear_object (&self->settings);
  g_clear_pointer (&self->user, pm_user_free);
  g_clear_pointer (&self->reading, pm_scale_reading_free);
  g_clear_pointer (&self->package, pm_rate_package_unref);
  g_clear_pointer (&self->products, g_array_unref);
  g_clear_pointer (&self->service_checks, g_ptr_array_unref);
  g_clear_pointer (&self->account_ids, g_array_unref);
  g_clear_pointer (&self->presets, g_ptr_array_unref);
  g_free (self->saved_preset);
  g_free (self->preset_notice);
  g_clear_pointer (&self->graphic, g_bytes_unref);
  g_clear_pointer (&self->last_outcome, pm_print_outcome_free);
  g_free (self->message);
  g_free (self->weight_text);
  g_free (self->piece_key);

  G_OBJECT_CLASS (pm_mail_page_parent_class)->finalize (object);
}

static void
pm_mail_page_class_init (PmMailPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = pm_mail_page_dispose;
  object_class->finalize = pm_mail_page_finalize;
  widget_class->map = pm_mail_page_map;
  widget_class->unmap = pm_mail_page_unmap;

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/postmeter/Kiosk/pm-mail-page.ui");
  gtk_widget_class_bind_template_child (widget_class, PmMailPage, preset_row);
  gtk_widget_class_bind_template_child (widget_class, PmMailPage, preset_entry);
  gtk_widget_class_bind_template_child (widget_class, PmMailPage, default_button);
  gtk_widget_class_bind_template_child (widget_class, PmMailPage, weight_label);
  gtk_widget_class_bind_template_child (widget_class, PmMailPage, stable_label);
  gtk_widget_class_bind_template_child (widget_class, PmMailPage, scale_label);
  gtk_widget_class_bind_template_child (widget_class, PmMailPage, demo_box);
  gtk_widget_class_bind_template_child (widget_class, PmMailPage, manual_entry);
  gtk_widget_class_bind_template_child (widget_class, PmMailPage, manual_switch);
  gtk_widget_class_bind_template_child (widget_class, PmMailPage, class_row);
  gtk_widget_class_bind_template_child (widget_class, PmMailPage, services_row);
  gtk_widget_class_bind_template_child (widget_class, PmMailPage, services_box);
  gtk_widget_class_bind_template_child (widget_class, PmMailPage, destination_row);
  gtk_widget_class_bind_template_child (widget_class, PmMailPage, destination_entry);
  gtk_widget_class_bind_template_child (widget_class, PmMailPage, mode_row);
  gtk_widget_class_bind_template_child (widget_class, PmMailPage, amount_row);
  gtk_widget_class_bind_template_child (widget_class, PmMailPage, amount_entry);
  gtk_widget_class_bind_template_child (widget_class, PmMailPage, date_row);
  gtk_widget_class_bind_template_child (widget_class, PmMailPage, days_spin);
  gtk_widget_class_bind_template_child (widget_class, PmMailPage, account_row);
  gtk_widget_class_bind_template_child (widget_class, PmMailPage, postage_label);
  gtk_widget_class_bind_template_child (widget_class, PmMailPage, breakdown_label);
  gtk_widget_class_bind_template_child (widget_class, PmMailPage, print_button);
  gtk_widget_class_bind_template_child (widget_class, PmMailPage, print_spinner);
  gtk_widget_class_bind_template_child (widget_class, PmMailPage, message_label);
  gtk_widget_class_bind_template_child (widget_class, PmMailPage, confirm_button);
  gtk_widget_class_bind_template_child (widget_class, PmMailPage, funds_label);
  gtk_widget_class_bind_template_child (widget_class, PmMailPage, piece_count_label);
  gtk_widget_class_bind_template_child (widget_class, PmMailPage, batch_label);
  gtk_widget_class_bind_template_child (widget_class, PmMailPage, inspection_label);
  gtk_widget_class_bind_template_child (widget_class, PmMailPage, low_funds_label);
  gtk_widget_class_bind_template_child (widget_class, PmMailPage, today_label);
  gtk_widget_class_bind_template_child (widget_class, PmMailPage, today_list);

  gtk_widget_class_install_action (widget_class, "mail.print", NULL, print_action);
  gtk_widget_class_install_action (widget_class, "mail.print-confirmed", NULL,
                                   print_confirmed_action);
  gtk_widget_class_install_action (widget_class, "mail.select-class", "s",
                                   select_class_action);
  gtk_widget_class_install_action (widget_class, "mail.select-mode", "s",
                                   select_mode_action);
  gtk_widget_class_install_action (widget_class, "mail.set-destination", "s",
                                   set_destination_action);
  gtk_widget_class_install_action (widget_class, "mail.set-manual-weight", "s",
                                   set_manual_weight_action);
  gtk_widget_class_install_action (widget_class, "mail.set-days-ahead", "i",
                                   set_days_ahead_action);
  gtk_widget_class_install_action (widget_class, "mail.set-amount", "s", set_amount_action);
  gtk_widget_class_install_action (widget_class, "mail.reset-batch", NULL,
                                   reset_batch_action);
  gtk_widget_class_install_action (widget_class, "mail.save-preset", "s",
                                   save_preset_action);
  gtk_widget_class_install_action (widget_class, "mail.save-typed-preset", NULL,
                                   save_typed_preset_action);
  gtk_widget_class_install_action (widget_class, "mail.apply-preset", "s",
                                   apply_preset_action);
  gtk_widget_class_install_action (widget_class, "mail.default-preset", "s",
                                   default_preset_action);
  gtk_widget_class_install_action (widget_class, "mail.default-chosen-preset", NULL,
                                   default_chosen_preset_action);
  gtk_widget_class_install_action (widget_class, "mail.put-piece", "s", put_piece_action);
  gtk_widget_class_install_action (widget_class, "mail.take-piece", NULL, take_piece_action);
}

static void
pm_mail_page_init (PmMailPage *self)
{
  self->cancellable = g_cancellable_new ();
  self->settings = g_settings_new (PM_SETTINGS_SCHEMA);
  self->products = g_array_new (FALSE, FALSE, sizeof (Product));
  self->service_checks = g_ptr_array_new ();
  self->account_ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  self->low_funds = 50 * PM_MILLS_PER_DOLLAR;
  self->today_count = -1;

  gtk_widget_init_template (GTK_WIDGET (self));

  self->class_model = gtk_string_list_new (NULL);
  adw_combo_row_set_model (ADW_COMBO_ROW (self->class_row), G_LIST_MODEL (self->class_model));
  g_object_unref (self->class_model);
  self->account_model = gtk_string_list_new (NULL);
  adw_combo_row_set_model (ADW_COMBO_ROW (self->account_row),
                           G_LIST_MODEL (self->account_model));
  g_object_unref (self->account_model);
  self->mode_model = gtk_string_list_new (NULL);
  for (guint i = 0; i < G_N_ELEMENTS (modes); i++)
    gtk_string_list_append (self->mode_model, mode_title (modes[i]));
  adw_combo_row_set_model (ADW_COMBO_ROW (self->mode_row), G_LIST_MODEL (self->mode_model));
  g_object_unref (self->mode_model);

  self->preset_model = gtk_string_list_new (NULL);
  gtk_string_list_append (self->preset_model, _("No preset"));
  adw_combo_row_set_model (ADW_COMBO_ROW (self->preset_row),
                           G_LIST_MODEL (self->preset_model));
  g_object_unref (self->preset_model);
  self->presets = g_ptr_array_new_with_free_func ((GDestroyNotify) pm_preset_free);
  g_signal_connect_swapped (self->preset_row, "notify::selected",
                            G_CALLBACK (preset_chosen_cb), self);
  g_signal_connect_swapped (self->class_row, "notify::selected",
                            G_CALLBACK (fill_services), self);
  g_signal_connect_swapped (self->class_row, "notify::selected",
                            G_CALLBACK (update_postage), self);
  g_signal_connect_swapped (self->mode_row, "notify::selected",
                            G_CALLBACK (update_postage), self);
  g_signal_connect_swapped (self->account_row, "notify::selected",
                            G_CALLBACK (update_postage), self);
  g_signal_connect_swapped (self->destination_entry, "changed",
                            G_CALLBACK (update_postage), self);
  g_signal_connect_swapped (self->amount_entry, "changed",
                            G_CALLBACK (update_postage), self);
  g_signal_connect_swapped (self->days_spin, "value-changed",
                            G_CALLBACK (update_postage), self);
  g_signal_connect_swapped (self->class_row, "notify::selected",
                            G_CALLBACK (input_changed_cb), self);
  g_signal_connect_swapped (self->mode_row, "notify::selected",
                            G_CALLBACK (input_changed_cb), self);
  g_signal_connect_swapped (self->destination_entry, "changed",
                            G_CALLBACK (input_changed_cb), self);
  g_signal_connect_swapped (self->amount_entry, "changed",
                            G_CALLBACK (input_changed_cb), self);
  g_signal_connect_swapped (self->manual_entry, "changed",
                            G_CALLBACK (update_weight), self);
  g_signal_connect_swapped (self->manual_switch, "notify::active",
                            G_CALLBACK (update_weight), self);
  update_batch (self);
}

void
pm_mail_page_set_user (PmMailPage   *self,
                       const PmUser *user)
{
  g_return_if_fail (PM_IS_MAIL_PAGE (self));

  g_clear_pointer (&self->user, pm_user_free);
  if (user != NULL)
    self->user = pm_user_copy (user);
}

gboolean
pm_mail_page_get_ready (PmMailPage *self)
{
  g_return_val_if_fail (PM_IS_MAIL_PAGE (self), FALSE);
  return self->ready;
}

gboolean
pm_mail_page_get_busy (PmMailPage *self)
{
  g_return_val_if_fail (PM_IS_MAIL_PAGE (self), FALSE);
  return self->busy;
}

gboolean
pm_mail_page_get_weight_stable (PmMailPage *self)
{
  g_return_val_if_fail (PM_IS_MAIL_PAGE (self), FALSE);
  return self->stable;
}

const char *
pm_mail_page_get_weight_text (PmMailPage *self)
{
  g_return_val_if_fail (PM_IS_MAIL_PAGE (self), NULL);
  return self->weight_text;
}

const char *
pm_mail_page_get_postage_text (PmMailPage *self)
{
  g_return_val_if_fail (PM_IS_MAIL_PAGE (self), NULL);
  return gtk_label_get_text (GTK_LABEL (self->postage_label));
}

const char *
pm_mail_page_get_message (PmMailPage *self)
{
  g_return_val_if_fail (PM_IS_MAIL_PAGE (self), NULL);
  return self->message;
}

const char *
pm_mail_page_get_funds_text (PmMailPage *self)
{
  g_return_val_if_fail (PM_IS_MAIL_PAGE (self), NULL);
  return gtk_label_get_text (GTK_LABEL (self->funds_label));
}

const char *
pm_mail_page_get_batch_text (PmMailPage *self)
{
  g_return_val_if_fail (PM_IS_MAIL_PAGE (self), NULL);
  return gtk_label_get_text (GTK_LABEL (self->batch_label));
}

const PmPrintOutcome *
pm_mail_page_get_last_outcome (PmMailPage *self)
{
  g_return_val_if_fail (PM_IS_MAIL_PAGE (self), NULL);
  return self->last_outcome;
}

int
pm_mail_page_get_today_count (PmMailPage *self)
{
  g_return_val_if_fail (PM_IS_MAIL_PAGE (self), -1);
  return self->today_count;
}

/* The chosen preset's name, or NULL. */
const char *
pm_mail_page_get_preset (PmMailPage *self)
{
  guint index;

  g_return_val_if_fail (PM_IS_MAIL_PAGE (self), NULL);

  index = adw_combo_row_get_selected (ADW_COMBO_ROW (self->preset_row));
  if (index == 0 || index > self->presets->len)
    return NULL;
  return ((PmPreset *) g_ptr_array_index (self->presets, index - 1))->name;
}

/* The chosen class as "first-class-letter", or NULL. */
char *
pm_mail_page_dup_class (PmMailPage *self)
{
  guint index;

  g_return_val_if_fail (PM_IS_MAIL_PAGE (self), NULL);

  index = adw_combo_row_get_selected (ADW_COMBO_ROW (self->class_row));
  if (index >= self->products->len)
    return NULL;
  return class_code_of (&g_array_index (self->products, Product, index));
}

const char *
pm_mail_page_get_mode (PmMailPage *self)
{
  g_return_val_if_fail (PM_IS_MAIL_PAGE (self), NULL);
  return pm_piece_mode_to_string (current_mode (self));
}

/* The date of mailing the screen shows, "DEC 04 2026". */
const char *
pm_mail_page_get_date_text (PmMailPage *self)
{
  g_return_val_if_fail (PM_IS_MAIL_PAGE (self), NULL);
  return adw_action_row_get_subtitle (ADW_ACTION_ROW (self->date_row));
}

/* Works the postage and date out again now, as the page does every few seconds. */
void
pm_mail_page_update (PmMailPage *self)
{
  g_return_if_fail (PM_IS_MAIL_PAGE (self));
  update_postage (self);
}

/* The low-funds warning on screen, or NULL when there is none. */
const char *
pm_mail_page_get_low_funds_warning (PmMailPage *self)
{
  g_return_val_if_fail (PM_IS_MAIL_PAGE (self), NULL);

  if (!gtk_widget_get_visible (self->low_funds_label))
    return NULL;
  return gtk_label_get_text (GTK_LABEL (self->low_funds_label));
}

/* The line under the destination: the zone a zone-priced piece is priced at. */
const char *
pm_mail_page_get_destination_text (PmMailPage *self)
{
  g_return_val_if_fail (PM_IS_MAIL_PAGE (self), NULL);

  return adw_action_row_get_subtitle (ADW_ACTION_ROW (self->destination_row));
}
