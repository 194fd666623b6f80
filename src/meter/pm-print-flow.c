/* pm-print-flow.c: printing a piece; see pm-print-flow.h for the order of the steps
 *
 * The object lives on its owner's thread. The PSD and store steps of a print run in a
 * GTask thread (blocking calls, both allowed off the main thread); the printer step and
 * the print state that follows it run back on the owner's context.
 */
#include "pm-print-flow.h"

#include <glib/gi18n.h>
#include <string.h>

#include "pm-clock.h"
#include "pm-impression.h"
#include "pm-indicium.h"
#include "pm-print-document.h"
#include "pm-store-outbox.h"

#define DEFAULT_DPI 300.0

G_DEFINE_QUARK (pm-print-flow-error-quark, pm_print_flow_error)

struct _PmPrintFlow
{
  GObject    parent_instance;

  /* Owned; set at construction (printer: owner's thread). */
  PmPsd     *psd;
  PmStore   *store;
  PmPrinter *printer;
  PmRating  *rating;

  /* Owner's thread. busy: a piece is between Print pressed and its job handed to the
   * printer; the next may start after that, and the printer keeps the order. */
  PmMills    key_in_threshold;
  guint      jobs_in_flight;   /* handed to the printer, not yet done or failed */
  gboolean   last_job_failed;
  char       origin_zip[6];   /* "" when not known */
  double     dpi;
  gboolean   busy;
  /* A debit the store could not record: the next print reconciles first. Written on
   * the worker, read there too; prints never overlap (busy). */
  gboolean   needs_reconcile;
  /* Set (atomically, from a worker) when the store holds more of this PSD's debits than
   * the PSD has made: its state was put back to an older copy. Nothing is debited again
   * until support has looked, since each debit would repeat a piece count already used. */
  gint       psd_went_back;
};

G_DEFINE_FINAL_TYPE (PmPrintFlow, pm_print_flow, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_BUSY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
set_busy (PmPrintFlow *self,
          gboolean     busy)
{
  if (self->busy == busy)
    return;
  self->busy = busy;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
}

/* One print on its way. Owned by the GTask. */
typedef struct
{
  PmPrintRequest  request;        /* strings and graphic owned below */
  char           *destination_zip;
  char           *stamp_heading;
  PmMills         postage;
  guint32         date;
  guint16         category;
  char           *class_code;
  char           *weight_text;
  gint64          pressed_us;
  gint64          handed_us;

  /* Filled on the worker thread. */
  PmPsdStatus    *status;
  PmPsdDebitResult *debit;
  PmPiece        *piece;
  gboolean        recorded;
  char           *record_error;
  PmPrintJob     *job;
  char           *job_error;      /* the document could not be made */
} PrintData;

static void
print_data_free (PrintData *data)
{
  g_free (data->destination_zip);
  g_free (data->stamp_heading);
  g_clear_pointer (&data->request.graphic_png, g_bytes_unref);
  g_free (data->class_code);
  g_free (data->weight_text);
  g_clear_pointer (&data->status, pm_psd_status_free);
  g_clear_pointer (&data->debit, pm_psd_debit_result_free);
  g_clear_pointer (&data->piece, pm_piece_free);
  g_free (data->record_error);
  g_clear_object (&data->job);
  g_free (data->job_error);
  g_free (data);
}

void
pm_print_outcome_free (PmPrintOutcome *outcome)
{
  if (outcome == NULL)
    return;

  g_clear_pointer (&outcome->piece, pm_piece_free);
  g_clear_pointer (&outcome->status, pm_psd_status_free);
  g_clear_pointer (&outcome->indicium, g_bytes_unref);
  g_free (outcome->job_id);
  g_strfreev (outcome->output_files);
  g_free (outcome->message);
  g_free (outcome);
}

/* GObject -------------------------------------------------------------------------------- */

static void
pm_print_flow_finalize (GObject *object)
{
  PmPrintFlow *self = PM_PRINT_FLOW (object);

  g_clear_object (&self->psd);
  g_clear_object (&self->store);
  g_clear_object (&self->printer);
  g_clear_pointer (&self->rating, pm_rating_unref);

  G_OBJECT_CLASS (pm_print_flow_parent_class)->finalize (object);
}

static void
pm_print_flow_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  switch (prop_id)
    {
    case PROP_BUSY:
      g_value_set_boolean (value, PM_PRINT_FLOW (object)->busy);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pm_print_flow_class_init (PmPrintFlowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = pm_print_flow_finalize;
  object_class->get_property = pm_print_flow_get_property;

  properties[PROP_BUSY] =
    g_param_spec_boolean ("busy", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
pm_print_flow_init (PmPrintFlow *self)
{
  self->dpi = DEFAULT_DPI;
  self->key_in_threshold = 20 * PM_MILLS_PER_DOLLAR;
}

PmPrintFlow *
pm_print_flow_new (PmPsd     *psd,
                   PmStore   *store,
                   PmPrinter *printer,
                   PmRating  *rating)
{
  PmPrintFlow *self;

  g_return_val_if_fail (PM_IS_PSD (psd), NULL);
  g_return_val_if_fail (PM_IS_STORE (store), NULL);
  g_return_val_if_fail (printer == NULL || PM_IS_PRINTER (printer), NULL);
  g_return_val_if_fail (rating != NULL, NULL);

  self = g_object_new (PM_TYPE_PRINT_FLOW, NULL);
  self->psd = g_object_ref (psd);
  self->store = g_object_ref (store);
  self->printer = printer != NULL ? g_object_ref (printer) : NULL;
  self->rating = pm_rating_ref (rating);
  return self;
}

PmPsd *
pm_print_flow_get_psd (PmPrintFlow *self)
{
  g_return_val_if_fail (PM_IS_PRINT_FLOW (self), NULL);
  return self->psd;
}

PmStore *
pm_print_flow_get_store (PmPrintFlow *self)
{
  g_return_val_if_fail (PM_IS_PRINT_FLOW (self), NULL);
  return self->store;
}

PmPrinter *
pm_print_flow_get_printer (PmPrintFlow *self)
{
  g_return_val_if_fail (PM_IS_PRINT_FLOW (self), NULL);
  return self->printer;
}

void
pm_print_flow_set_printer (PmPrintFlow *self,
                           PmPrinter   *printer)
{
  g_return_if_fail (PM_IS_PRINT_FLOW (self));
  g_return_if_fail (printer == NULL || PM_IS_PRINTER (printer));

  g_set_object (&self->printer, printer);
}

void
pm_print_flow_set_origin_zip (PmPrintFlow *self,
                              const char  *origin_zip)
{
  g_return_if_fail (PM_IS_PRINT_FLOW (self));

  g_strlcpy (self->origin_zip, origin_zip != NULL ? origin_zip : "",
             sizeof self->origin_zip);
}

const char *
pm_print_flow_get_origin_zip (PmPrintFlow *self)
{
  g_return_val_if_fail (PM_IS_PRINT_FLOW (self), NULL);
  return self->origin_zip;
}

static void
learn_origin (PmPrintFlow *self,
              guint32      origin_zip)
{
  if (origin_zip != 0)
    g_snprintf (self->origin_zip, sizeof self->origin_zip, "%05u", origin_zip);
}

void
pm_print_flow_set_key_in_threshold (PmPrintFlow *self,
                                    PmMills      threshold)
{
  g_return_if_fail (PM_IS_PRINT_FLOW (self));
  g_return_if_fail (threshold >= 0);

  self->key_in_threshold = threshold;
}

PmMills
pm_print_flow_get_key_in_threshold (PmPrintFlow *self)
{
  g_return_val_if_fail (PM_IS_PRINT_FLOW (self), 0);
  return self->key_in_threshold;
}

void
pm_print_flow_set_dpi (PmPrintFlow *self,
                       double       dpi)
{
  g_return_if_fail (PM_IS_PRINT_FLOW (self));

  self->dpi = dpi > 0 ? dpi : DEFAULT_DPI;
}

gboolean
pm_print_flow_get_busy (PmPrintFlow *self)
{
  g_return_val_if_fail (PM_IS_PRINT_FLOW (self), FALSE);
  return self->busy;
}

/* Checks that need no I/O ---------------------------------------------------------------- */

guint16
pm_print_flow_rate_category (PmMailClass mail_class,
                             PmShape     shape)
{
  switch (mail_class)
    {
    case PM_MAIL_CLASS_FIRST_CLASS:
    case PM_MAIL_CLASS_FIRST_CLASS_INTERNATIONAL:
      if (shape == PM_SHAPE_FLAT)
        return PM_RATE_CATEGORY_FIRST_CLASS_FLAT;
      if (shape == PM_SHAPE_POSTCARD)
        return PM_RATE_CATEGORY_FIRST_CLASS_POSTCARD;
      return PM_RATE_CATEGORY_FIRST_CLASS_LETTER;
    case PM_MAIL_CLASS_GROUND_ADVANTAGE:
      return PM_RATE_CATEGORY_GROUND_ADVANTAGE;
    case PM_MAIL_CLASS_PRIORITY_MAIL:
      return PM_RATE_CATEGORY_PRIORITY_MAIL;
    case PM_MAIL_CLASS_PRIORITY_MAIL_EXPRESS:
      return PM_RATE_CATEGORY_PRIORITY_MAIL_EXPRESS;
    default:
      return PM_RATE_CATEGORY_NONE;
    }
}

gboolean
pm_print_flow_date_of_mailing (guint     days_ahead,
                               guint32  *out_date,
                               GError  **error)
{
  g_autoptr(GDate) today = NULL;

  if (days_ahead > PM_PRINT_FLOW_MAX_DAYS_AHEAD)
    {
      g_set_error (error, PM_PRINT_FLOW_ERROR, PM_PRINT_FLOW_ERROR_DATE,
                   _("Postage can be dated at most %d days ahead. Choose an earlier date."),
                   PM_PRINT_FLOW_MAX_DAYS_AHEAD);
      return FALSE;
    }

  /* The local date, asked afresh each time: it rolls over at local midnight. */
  today = pm_clock_today_local ();
  g_date_add_days (today, days_ahead);
  *out_date = pm_indicium_date_from_gdate (today);
  return TRUE;
}

static gboolean
check_weight (const PmPrintRequest  *request,
              GError               **error)
{
  if (request->manual_weight)
    {
      if (!request->has_weight)
        {
          g_set_error (error, PM_PRINT_FLOW_ERROR, PM_PRINT_FLOW_ERROR_NO_WEIGHT,
                       _("No weight was entered. Type the weight of the piece."));
          return FALSE;
        }
      return TRUE;
    }

  if (request->scale_state == PM_SCALE_STATE_UNDER_ZERO)
    {
      g_set_error (error, PM_PRINT_FLOW_ERROR, PM_PRINT_FLOW_ERROR_WEIGHT_UNDER_ZERO,
                   _("The scale reads under zero. Take everything off the scale, press "
                     "its zero button, then weigh the piece again."));
      return FALSE;
    }

  if (request->scale_state == PM_SCALE_STATE_MOTION)
    {
      g_set_error (error, PM_PRINT_FLOW_ERROR, PM_PRINT_FLOW_ERROR_WEIGHT_NOT_STABLE,
                   _("The weight is not stable yet. Leave the piece still on the scale "
                     "until the weight shows as stable."));
      return FALSE;
    }

  if (!request->has_weight || request->scale_state == PM_SCALE_STATE_ZERO)
    {
      g_set_error (error, PM_PRINT_FLOW_ERROR, PM_PRINT_FLOW_ERROR_NO_WEIGHT,
                   _("There is no piece on the scale. Put the piece on the scale, or "
                     "type its weight."));
      return FALSE;
    }

  if (request->scale_state != PM_SCALE_STATE_STABLE || !request->postable)
    {
      g_set_error (error, PM_PRINT_FLOW_ERROR, PM_PRINT_FLOW_ERROR_WEIGHT_NOT_STABLE,
                   _("The scale has no usable weight (%s). %s"),
                   pm_scale_state_to_string (request->scale_state),
                   pm_scale_state_describe (request->scale_state));
      return FALSE;
    }

  return TRUE;
}

/* Normalises a typed ZIP to five digits or ZIP+4; NULL when none was typed. */
static gboolean
check_destination (const char  *typed,
                   char       **out_zip,
                   GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  guint32 zip9 = 0;

  *out_zip = NULL;
  if (typed == NULL || *typed == '\0')
    return TRUE;

  if (!pm_indicium_parse_zip (typed, &zip9, &local_error) || zip9 == 0)
    {
      g_set_error (error, PM_PRINT_FLOW_ERROR, PM_PRINT_FLOW_ERROR_DESTINATION_MALFORMED,
                   _("“%s” is not a ZIP Code. Type the five digits of the destination "
                     "ZIP Code, or ZIP+4."), typed);
      return FALSE;
    }

  *out_zip = pm_indicium_format_zip (zip9);
  return TRUE;
}

static gboolean
refusal_from_rating (const GError  *rating_error,
                     GError       **error)
{
  int code = PM_PRINT_FLOW_ERROR_NOT_RATED;

  if (rating_error->domain == PM_RATING_ERROR)
    switch (rating_error->code)
      {
      case PM_RATING_ERROR_TOO_HEAVY:
        code = PM_PRINT_FLOW_ERROR_WEIGHT_OVER_LIMIT;
        break;
      case PM_RATING_ERROR_DESTINATION_REQUIRED:
        code = PM_PRINT_FLOW_ERROR_DESTINATION_MISSING;
        break;
      default:
        break;
      }

  g_set_error (error, PM_PRINT_FLOW_ERROR, code, "%s", rating_error->message);
  return FALSE;
}

static gboolean
check_request (PmPrintFlow          *self,
               const PmPrintRequest *request,
               const char           *origin_zip,
               guint32               date,
               PmMills              *out_postage,
               PmQuote              *out_quote,
               GError              **error)
{
  g_autofree char *destination = NULL;

  *out_postage = 0;

  switch (request->mode)
    {
    case PM_PIECE_MODE_POSTAGE:
      {
        g_auto(PmQuote) quote = { 0 };
        g_autoptr(GError) rating_error = NULL;
        PmRateRequest rate = { 0 };

        if (!check_weight (request, error)
            || !check_destination (request->destination_zip, &destination, error))
          return FALSE;

        rate.piece.weight = request->weight;
        rate.piece.shape = request->shape;
        rate.mail_class = request->mail_class;
        rate.services = request->services;
        rate.declared_value = request->declared_value;
        rate.channel = PM_PRICE_CHANNEL_METER;
        rate.origin_zip = origin_zip != NULL && *origin_zip != '\0' ? origin_zip : NULL;
        rate.destination_zip = destination;
        rate.date = date;

        if (!pm_rating_quote (self->rating, &rate, &quote, &rating_error))
          return refusal_from_rating (rating_error, error);

        *out_postage = quote.total;
        if (out_quote != NULL)
          {
            *out_quote = quote;
            memset (&quote, 0, sizeof quote);
          }
        return TRUE;
      }

    case PM_PIECE_MODE_KEY_IN:
    case PM_PIECE_MODE_ADDITIONAL:
      if (!check_destination (request->destination_zip, &destination, error))
        return FALSE;
      if (request->amount <= 0 || request->amount > PM_INDICIUM_POSTAGE_MAX)
        {
          g_set_error (error, PM_PRINT_FLOW_ERROR, PM_PRINT_FLOW_ERROR_AMOUNT,
                       request->mode == PM_PIECE_MODE_KEY_IN
                       ? _("Type the postage amount to print first.")
                       : _("Type the additional postage the piece needs first."));
          return FALSE;
        }
      if (request->mode == PM_PIECE_MODE_KEY_IN
          && request->amount > self->key_in_threshold && !request->amount_confirmed)
        {
          g_autofree char *amount = pm_money_format (request->amount);
          g_autofree char *limit = pm_money_format (self->key_in_threshold);

          g_set_error (error, PM_PRINT_FLOW_ERROR,
                       PM_PRINT_FLOW_ERROR_CONFIRMATION_REQUIRED,
                       _("%s is more than %s. Confirm the amount to print it."),
                       amount, limit);
          return FALSE;
        }
      *out_postage = request->amount;
      return TRUE;

    case PM_PIECE_MODE_RE_DATE:
    case PM_PIECE_MODE_DATE_STAMP:
      return TRUE;

    case PM_PIECE_MODE_GRAPHIC:
      if (request->graphic_png == NULL)
        {
          g_set_error (error, PM_PRINT_FLOW_ERROR, PM_PRINT_FLOW_ERROR_NO_GRAPHIC,
                       _("No graphic is chosen. Pick a graphic to print."));
          return FALSE;
        }
      return TRUE;

    default:
      g_set_error (error, PM_PRINT_FLOW_ERROR, PM_PRINT_FLOW_ERROR_INVALID,
                   "Unknown print mode %d", request->mode);
      return FALSE;
    }
}

static gboolean
mode_takes_postage (PmPieceMode mode)
{
  return mode == PM_PIECE_MODE_POSTAGE || mode == PM_PIECE_MODE_KEY_IN ||
         mode == PM_PIECE_MODE_ADDITIONAL;
}

gboolean
pm_print_flow_check (PmPrintFlow          *self,
                     const PmPrintRequest *request,
                     PmMills              *out_postage,
                     PmQuote              *out_quote,
                     GError              **error)
{
  PmMills postage = 0;
  guint32 date;

  g_return_val_if_fail (PM_IS_PRINT_FLOW (self), FALSE);
  g_return_val_if_fail (request != NULL, FALSE);

  if (!pm_print_flow_date_of_mailing (request->days_ahead, &date, error))
    return FALSE;

  if (!check_request (self, request, self->origin_zip, date, &postage, out_quote, error))
    return FALSE;

  if (out_postage != NULL)
    *out_postage = postage;
  return TRUE;
}

/* Worker thread: PSD and store ------------------------------------------------------------ */

static gboolean
noop_work (sqlite3  *db,
           gpointer  data,
           GError  **error)
{
  return TRUE;
}

/* The store opens each work in BEGIN IMMEDIATE, which takes the write lock: a store that
 * is closed, busy elsewhere or read-only refuses here, before any postage is taken. */
static gboolean
check_store (PmPrintFlow  *self,
             GError      **error)
{
  g_autoptr(GError) local_error = NULL;

  if (pm_store_run_sync (self->store, noop_work, NULL, NULL, &local_error))
    return TRUE;

  g_set_error (error, PM_PRINT_FLOW_ERROR, PM_PRINT_FLOW_ERROR_STORE_UNAVAILABLE,
               _("The meter cannot write its records (%s), so it prints nothing. Restart "
                 "the meter; if this comes back, call support."), local_error->message);
  return FALSE;
}

static gboolean
check_psd (const PmPsdStatus  *status,
           PmMills             postage,
           guint32             date,
           gboolean            takes_postage,
           GError            **error)
{
  if (!status->has_operational_block)
    {
      g_set_error (error, PM_PRINT_FLOW_ERROR, PM_PRINT_FLOW_ERROR_PSD_UNAVAILABLE,
                   _("The meter is not set up to print postage yet (its postal security "
                     "device has no operational block). Connect to the data center from "
                     "Funds, or call support."));
      return FALSE;
    }

  if (status->inspection_state == PM_PSD_INSPECTION_LOCKED
      || status->lock_reason == PM_PSD_LOCK_WATCHDOG)
    {
      g_set_error (error, PM_PRINT_FLOW_ERROR, PM_PRINT_FLOW_ERROR_INSPECTION_OVERDUE,
                   _("The meter's inspection is overdue, so it may not print postage. "
                     "Connect to the data center from Funds to be inspected."));
      return FALSE;
    }

  if (pm_psd_status_is_locked (status))
    {
      g_set_error (error, PM_PRINT_FLOW_ERROR, PM_PRINT_FLOW_ERROR_PSD_LOCKED,
                   _("The meter is locked (%s), so it may not print postage. Connect to "
                     "the data center from Funds; if it stays locked, call support."),
                   status->lock_message != NULL ? status->lock_message
                   : pm_psd_lock_reason_to_string (status->lock_reason));
      return FALSE;
    }

  if (!takes_postage)
    return TRUE;

  if (status->last_date_used > date)
    {
      g_autofree char *last = pm_indicium_format_date (status->last_date_used);

      g_set_error (error, PM_PRINT_FLOW_ERROR, PM_PRINT_FLOW_ERROR_DATE,
                   _("Postage was already dated %s; it is never dated back. Choose %s or "
                     "a later date."), last, last);
      return FALSE;
    }

  if (postage > status->max_postage)
    {
      g_autofree char *amount = pm_money_format (postage);
      g_autofree char *limit = pm_money_format (status->max_postage);

      g_set_error (error, PM_PRINT_FLOW_ERROR, PM_PRINT_FLOW_ERROR_AMOUNT,
                   _("%s is more than this meter may print on one piece (%s). Split the "
                     "postage or use a shipping label."), amount, limit);
      return FALSE;
    }

  if (postage > status->descending)
    {
      g_autofree char *amount = pm_money_format (postage);
      g_autofree char *funds = pm_money_format (status->descending);

      g_set_error (error, PM_PRINT_FLOW_ERROR, PM_PRINT_FLOW_ERROR_FUNDS_SHORT,
                   _("Not enough funds: the piece needs %s and the meter holds %s. Add "
                     "funds from the Funds screen."), amount, funds);
      return FALSE;
    }

  return TRUE;
}

static gboolean
refusal_from_psd (const GError  *psd_error,
                  GError       **error)
{
  int code = PM_PRINT_FLOW_ERROR_PSD_UNAVAILABLE;

  if (psd_error->domain == PM_PSD_ERROR)
    switch (psd_error->code)
      {
      case PM_PSD_ERROR_INSUFFICIENT_FUNDS:
        code = PM_PRINT_FLOW_ERROR_FUNDS_SHORT;
        break;
      case PM_PSD_ERROR_LOCKED:
      case PM_PSD_ERROR_WITHDRAWN:
      case PM_PSD_ERROR_DAMAGED:
        code = PM_PRINT_FLOW_ERROR_PSD_LOCKED;
        break;
      case PM_PSD_ERROR_POSTAGE_TOO_HIGH:
      case PM_PSD_ERROR_POSTAGE_NOT_POSITIVE:
        code = PM_PRINT_FLOW_ERROR_AMOUNT;
        break;
      case PM_PSD_ERROR_DATE_BACKWARD:
      case PM_PSD_ERROR_DATE_TOO_FAR:
        code = PM_PRINT_FLOW_ERROR_DATE;
        break;
      default:
        break;
      }

  g_set_error (error, PM_PRINT_FLOW_ERROR, code,
               _("The postal security device refused the piece: %s"),
               psd_error->message);
  return FALSE;
}

static char *
format_serial (guint32 serial)
{
  return g_strdup_printf ("%u", serial);
}

GBytes *
pm_print_flow_encode_record (const PmPiece *piece)
{
  GString *text = g_string_new (NULL);

  g_return_val_if_fail (piece != NULL, NULL);

  g_string_append_printf (text, "psd-serial=%s\n", piece->psd_serial);
  g_string_append_printf (text, "piece-count=%" G_GINT64_FORMAT "\n", piece->piece_count);
  g_string_append_printf (text, "postage-mills=%" G_GINT64_FORMAT "\n", piece->postage);
  g_string_append_printf (text, "ascending-after=%" G_GINT64_FORMAT "\n",
                          piece->ascending_after);
  g_string_append_printf (text, "descending-after=%" G_GINT64_FORMAT "\n",
                          piece->descending_after);
  g_string_append_printf (text, "date-of-mailing=%u\n", piece->date_of_mailing);
  g_string_append_printf (text, "mode=%s\n", pm_piece_mode_to_string (piece->mode));
  if (piece->class_code != NULL)
    g_string_append_printf (text, "class=%s\n", piece->class_code);
  if (piece->weight != NULL)
    g_string_append_printf (text, "weight=%s\n", piece->weight);
  g_string_append_printf (text, "origin-zip=%s\n", piece->origin_zip);
  if (piece->destination_zip != NULL)
    g_string_append_printf (text, "destination-zip=%s\n", piece->destination_zip);
  g_string_append_printf (text, "account=%" G_GINT64_FORMAT "\n", piece->account_id);
  if (piece->indicium != NULL)
    {
      g_autofree char *b64 = g_base64_encode (g_bytes_get_data (piece->indicium, NULL),
                                              g_bytes_get_size (piece->indicium));
      g_string_append_printf (text, "indicium=%s\n", b64);
    }

  return g_string_free_to_bytes (text);
}

/* Records one debit the PSD made; TRUE when it was new. */
static gboolean
record_journal_entry (PmPrintFlow              *self,
                      const PmPsdStatus        *status,
                      const PmPsdJournalEntry  *entry,
                      gboolean                 *out_inserted,
                      GError                  **error)
{
  g_autoptr(PmPiece) piece = pm_piece_new ();
  g_autoptr(GBytes) record = NULL;
  gboolean already = FALSE;

  piece->psd_serial = format_serial (status->serial);
  piece->piece_count = (gint64) entry->piece_count;
  piece->ascending_after = entry->ascending_after;
  /* The journal keeps the ascending register only; the descending one after this piece
   * follows from the control sum only if no refill came since, so it is not guessed. */
  piece->descending_after = -1;
  piece->postage = entry->postage;
  piece->date_of_mailing = entry->date_of_mailing;
  piece->mode = PM_PIECE_MODE_POSTAGE;
  piece->origin_zip = g_strdup_printf ("%05u", status->origin_zip);
  piece->print_state = PM_PRINT_STATE_UNKNOWN;
  piece->print_detail = g_strdup ("Recovered from the PSD journal at start-up: the meter "
                                  "stopped before the piece was recorded; whether it "
                                  "printed is not known");

  record = pm_print_flow_encode_record (piece);
  if (!pm_store_insert_piece_with_upload (self->store, piece, record, &already, NULL,
                                          error))
    return FALSE;

  *out_inserted = !already;
  return TRUE;
}

static gboolean
reconcile_in_worker (PmPrintFlow        *self,
                     PmReconcileReport  *report,
                     GError            **error)
{
  g_autoptr(PmPsdStatus) status = NULL;
  g_autoptr(GPtrArray) journal = NULL;
  g_autofree char *serial = NULL;
  gint64 stored = 0;
  guint64 missing;

  memset (report, 0, sizeof *report);

  status = pm_psd_get_status_sync (self->psd, error);
  if (status == NULL)
    return FALSE;

  serial = format_serial (status->serial);
  if (!pm_store_mark_interrupted_pieces (self->store, &report->interrupted, error)
      || !pm_store_get_max_piece_count (self->store, serial, &stored, error))
    return FALSE;

  report->origin_zip = status->has_operational_block ? status->origin_zip : 0;
  report->psd_piece_count = status->piece_count;
  report->store_piece_count = stored;
  if ((guint64) stored > status->piece_count)
    {
      g_atomic_int_set (&self->psd_went_back, TRUE);
      g_warning ("PSD %s counts %" G_GUINT64_FORMAT " pieces but the store holds piece %"
                 G_GINT64_FORMAT ": the PSD's state went back to an older copy; printing "
                 "postage is stopped", serial, status->piece_count, stored);
      return TRUE;
    }
  if ((guint64) stored == status->piece_count)
    return TRUE;

  journal = pm_psd_get_journal_sync (self->psd, G_MAXUINT, error);
  if (journal == NULL)
    return FALSE;

  /* Every entry the journal holds that the store lacks is offered; the store keeps each
   * debit once whatever happens. */
  for (guint i = 0; i < journal->len; i++)
    {
      const PmPsdJournalEntry *entry = g_ptr_array_index (journal, i);
      g_autoptr(PmPiece) known = NULL;
      gboolean inserted = FALSE;

      /* A debit the store has keeps its own, fuller record. */
      if (entry->piece_count <= (guint64) stored)
        known = pm_store_get_piece (self->store, serial, (gint64) entry->piece_count,
                                    NULL);
      if (known != NULL)
        continue;

      if (!record_journal_entry (self, status, entry, &inserted, error))
        return FALSE;
      if (inserted)
        {
          report->inserted++;
          g_message ("Piece %" G_GUINT64_FORMAT " of PSD %s was debited but not recorded; "
                     "recorded now from the PSD journal (print state unknown)",
                     entry->piece_count, serial);
        }
    }

  /* What is still missing is older than the journal reaches. */
  missing = 0;
  for (guint64 count = (guint64) stored + 1; count <= status->piece_count; count++)
    {
      g_autoptr(PmPiece) piece = pm_store_get_piece (self->store, serial, (gint64) count,
                                                     NULL);
      if (piece == NULL)
        missing++;
    }
  report->beyond_journal = missing;
  if (missing > 0)
    g_warning ("%" G_GUINT64_FORMAT " debits of PSD %s are neither in the store nor in "
               "the PSD journal; support must recover them", missing, serial);

  return TRUE;
}

static void
reconcile_thread (GTask        *task,
                  gpointer      source_object,
                  gpointer      task_data,
                  GCancellable *cancellable)
{
  PmPrintFlow *self = source_object;
  PmReconcileReport *report = g_new0 (PmReconcileReport, 1);
  GError *error = NULL;

  if (!reconcile_in_worker (self, report, &error))
    {
      g_free (report);
      g_task_return_error (task, error);
      return;
    }

  self->needs_reconcile = FALSE;
  g_task_return_pointer (task, report, g_free);
}

void
pm_print_flow_reconcile_async (PmPrintFlow         *self,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (PM_IS_PRINT_FLOW (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, pm_print_flow_reconcile_async);
  g_task_run_in_thread (task, reconcile_thread);
}

gboolean
pm_print_flow_reconcile_finish (PmPrintFlow        *self,
                                GAsyncResult       *result,
                                PmReconcileReport  *out_report,
                                GError            **error)
{
  g_autofree PmReconcileReport *report = NULL;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  report = g_task_propagate_pointer (G_TASK (result), error);
  if (report == NULL)
    return FALSE;
  learn_origin (self, report->origin_zip);
  if (out_report != NULL)
    *out_report = *report;
  return TRUE;
}

gboolean
pm_print_flow_reconcile_sync (PmPrintFlow        *self,
                              PmReconcileReport  *out_report,
                              GError            **error)
{
  PmReconcileReport report;

  g_return_val_if_fail (PM_IS_PRINT_FLOW (self), FALSE);

  if (!reconcile_in_worker (self, &report, error))
    return FALSE;
  self->needs_reconcile = FALSE;
  learn_origin (self, report.origin_zip);
  if (out_report != NULL)
    *out_report = report;
  return TRUE;
}

/* Graphic only: the chosen graphic where the impression would go, nothing of the
 * meter's, on a #10 envelope. Decoded here, drawn on the printer's thread. */
typedef struct
{
  cairo_surface_t *image;
  double           x, y, scale;
} GraphicPage;

static void
graphic_page_free (gpointer p)
{
  GraphicPage *page = p;

  cairo_surface_destroy (page->image);
  g_free (page);
}

static gboolean
graphic_page_paint (cairo_t  *cr,
                    gpointer  user_data,
                    GError  **error)
{
  GraphicPage *page = user_data;

  cairo_save (cr);
  cairo_translate (cr, page->x, page->y);
  cairo_scale (cr, page->scale, page->scale);
  cairo_set_source_surface (cr, page->image, 0, 0);
  cairo_paint (cr);
  cairo_restore (cr);
  return TRUE;
}

typedef struct
{
  const guint8 *data;
  gsize         left;
} PngReader;

static cairo_status_t
png_read_cb (void          *closure,
             unsigned char *out,
             unsigned int   length)
{
  PngReader *reader = closure;

  if (length > reader->left)
    return CAIRO_STATUS_READ_ERROR;
  memcpy (out, reader->data, length);
  reader->data += length;
  reader->left -= length;
  return CAIRO_STATUS_SUCCESS;
}

#define GRAPHIC_MARGIN_POINTS 18.0
#define GRAPHIC_MAX_HEIGHT_POINTS 108.0

static PmPrintJob *
make_graphic_job (const char  *job_id,
                  GBytes      *png,
                  double       dpi,
                  GError     **error)
{
  PngReader reader = { 0 };
  cairo_surface_t *image;
  GraphicPage *page;
  PmPrintJob *job;
  double width, height;

  reader.data = g_bytes_get_data (png, &reader.left);
  image = cairo_image_surface_create_from_png_stream (png_read_cb, &reader);
  if (cairo_surface_status (image) != CAIRO_STATUS_SUCCESS)
    {
      cairo_surface_destroy (image);
      g_set_error (error, PM_PRINT_FLOW_ERROR, PM_PRINT_FLOW_ERROR_NO_GRAPHIC,
                   _("The graphic is not a picture the meter can print. Choose another "
                     "graphic."));
      return NULL;
    }

  /* The graphic keeps its own resolution (dpi) unless it is taller than an
   * impression. */
  page = g_new0 (GraphicPage, 1);
  page->image = image;
  width = cairo_image_surface_get_width (image) * 72.0 / dpi;
  height = cairo_image_surface_get_height (image) * 72.0 / dpi;
  page->scale = 72.0 / dpi;
  if (height > GRAPHIC_MAX_HEIGHT_POINTS)
    {
      page->scale *= GRAPHIC_MAX_HEIGHT_POINTS / height;
      width *= GRAPHIC_MAX_HEIGHT_POINTS / height;
    }
  page->x = MAX (GRAPHIC_MARGIN_POINTS,
                 PM_ENVELOPE_10_WIDTH_POINTS - GRAPHIC_MARGIN_POINTS - width);
  page->y = GRAPHIC_MARGIN_POINTS;

  job = pm_print_job_new (job_id, PM_PRINT_KIND_ENVELOPE, PM_PRINT_FORMAT_PDF, "Graphic",
                          NULL, NULL);
  pm_print_job_set_page_painter (job, PM_ENVELOPE_10_WIDTH_POINTS,
                                 PM_ENVELOPE_10_HEIGHT_POINTS, graphic_page_paint, page,
                                 graphic_page_free);
  pm_print_job_set_resolution (job, dpi);
  return job;
}

/* Makes the envelope job for the piece; the constructors do no I/O. */
static PmPrintJob *
make_job (PmPrintFlow  *self,
          PrintData    *data,
          const char   *job_id,
          GError      **error)
{
  PmEnvelopeOptions options = { 0 };
  PmImpression *impression = NULL;
  const PmPsdStatus *status = data->status;

  options.dpi = self->dpi;
  options.graphic_png = data->request.graphic_png;

  switch (data->request.mode)
    {
    case PM_PIECE_MODE_POSTAGE:
    case PM_PIECE_MODE_KEY_IN:
    case PM_PIECE_MODE_ADDITIONAL:
      impression = pm_impression_new_postage (data->debit->indicium, error);
      if (impression == NULL)
        return NULL;
      break;

    case PM_PIECE_MODE_DATE_STAMP:
      {
        g_autoptr(GDateTime) now = pm_clock_now_local ();

        impression = pm_impression_new_date_stamp (now, data->stamp_heading);
      }
      break;

    case PM_PIECE_MODE_RE_DATE:
      {
        g_autofree char *meter = g_strdup_printf ("%s%08u", status->model, status->serial);

        impression = pm_impression_new_redate (data->date, status->origin_zip, meter,
                                               status->specimen);
      }
      break;

    case PM_PIECE_MODE_GRAPHIC:
      return make_graphic_job (job_id, data->request.graphic_png, options.dpi, error);

    default:
      g_assert_not_reached ();
    }

  return pm_print_job_new_envelope (job_id,
                                    data->piece != NULL ? data->piece->psd_serial : NULL,
                                    impression, &options, PM_PRINT_FORMAT_PDF, error);
}

static void
print_thread (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  PmPrintFlow *self = source_object;
  PrintData *data = task_data;
  gboolean takes_postage = mode_takes_postage (data->request.mode);
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) debit_error = NULL;
  g_autofree char *job_id = NULL;
  PmPsdDebitRequest debit = { 0 };

  /* A debit an earlier print could not record comes first. */
  if (self->needs_reconcile)
    {
      PmReconcileReport report;

      if (!reconcile_in_worker (self, &report, &error))
        {
          g_task_return_new_error (task, PM_PRINT_FLOW_ERROR,
                                   PM_PRINT_FLOW_ERROR_STORE_UNAVAILABLE,
                                   _("The meter cannot record its last piece (%s), so it "
                                     "prints nothing more. Restart the meter; if this "
                                     "comes back, call support."), error->message);
          return;
        }
      self->needs_reconcile = FALSE;
    }

  if (takes_postage && g_atomic_int_get (&self->psd_went_back))
    {
      g_task_return_new_error (task, PM_PRINT_FLOW_ERROR, PM_PRINT_FLOW_ERROR_PSD_LOCKED,
                               _("Printing postage is stopped: the meter's records hold "
                                 "more pieces than its postal security device counts, so "
                                 "the device's state was put back to an older copy. No "
                                 "postage was taken. Call support."));
      return;
    }

  if (!check_store (self, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  data->status = pm_psd_get_status_sync (self->psd, &error);
  if (data->status == NULL)
    {
      refusal_from_psd (error, &debit_error);
      g_task_return_error (task, g_steal_pointer (&debit_error));
      return;
    }

  /* A date stamp on incoming mail and a graphic carry nothing of the PSD's, so a locked
   * PSD does not stop them; a re-date prints the meter's serial and origin. */
  if (data->request.mode != PM_PIECE_MODE_DATE_STAMP
      && data->request.mode != PM_PIECE_MODE_GRAPHIC
      && !check_psd (data->status, data->postage, data->date, takes_postage, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (takes_postage)
    {
      PmPiece *piece;

      debit.postage = data->postage;
      debit.date_of_mailing = data->date;
      debit.rate_category = data->category;
      if (data->destination_zip != NULL)
        pm_indicium_parse_zip (data->destination_zip, &debit.destination_zip, NULL);

      /* 1. The PSD debits: from here on, postage is taken. */
      data->debit = pm_psd_debit_sync (self->psd, &debit, &debit_error);
      if (data->debit == NULL)
        {
          refusal_from_psd (debit_error, &error);
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }
      pm_psd_status_free (data->status);
      data->status = pm_psd_status_copy (data->debit->status);

      /* 2. The store records it, with its upload record, in one transaction. */
      piece = data->piece = pm_piece_new ();
      piece->psd_serial = format_serial (data->status->serial);
      piece->piece_count = (gint64) data->debit->entry.piece_count;
      piece->ascending_after = data->debit->status->ascending;
      piece->descending_after = data->debit->status->descending;
      piece->postage = data->postage;
      piece->date_of_mailing = data->date;
      piece->mode = data->request.mode;
      piece->class_code = g_strdup (data->class_code);
      piece->services = data->request.services != 0
                        ? g_strdup_printf ("%u", data->request.services) : NULL;
      piece->weight = g_strdup (data->weight_text);
      piece->origin_zip = g_strdup_printf ("%05u", data->status->origin_zip);
      piece->destination_zip = g_strdup (data->destination_zip);
      piece->account_id = data->request.account_id;
      piece->user_id = data->request.user_id;
      piece->indicium = g_bytes_ref (data->debit->indicium);
      piece->print_state = PM_PRINT_STATE_PENDING;

      {
        g_autoptr(GBytes) record = pm_print_flow_encode_record (piece);
        g_autoptr(GError) store_error = NULL;

        if (pm_store_insert_piece_with_upload (self->store, piece, record, NULL, NULL,
                                               &store_error))
          data->recorded = TRUE;
        else
          {
            /* Postage is taken and the record is not made: nothing prints, and the
             * next print or start-up records the debit from the PSD's journal. */
            g_warning ("Piece %" G_GINT64_FORMAT " was debited but could not be "
                       "recorded: %s", piece->piece_count, store_error->message);
            data->record_error = g_strdup (store_error->message);
            self->needs_reconcile = TRUE;
            g_task_return_boolean (task, TRUE);
            return;
          }
      }

      job_id = g_strdup_printf ("piece-%s-%" G_GINT64_FORMAT, piece->psd_serial,
                                piece->piece_count);
    }
  else
    job_id = g_strdup_printf ("%s-%" G_GINT64_FORMAT,
                              pm_piece_mode_to_string (data->request.mode),
                              g_get_real_time ());

  /* 3. The document, ready for the printer. */
  data->job = make_job (self, data, job_id, &error);
  if (data->job == NULL)
    data->job_error = g_strdup (error->message);

  g_task_return_boolean (task, TRUE);
}

/* Owner's thread: the printer and the print state --------------------------------------- */

static PmPrintOutcome *
outcome_new (PrintData *data)
{
  PmPrintOutcome *outcome = g_new0 (PmPrintOutcome, 1);

  outcome->postage = data->debit != NULL ? data->postage : 0;
  outcome->date_of_mailing = data->date;
  outcome->recorded = data->recorded;
  outcome->piece = data->piece != NULL ? pm_piece_copy (data->piece) : NULL;
  outcome->status = data->status != NULL ? pm_psd_status_copy (data->status) : NULL;
  outcome->indicium = data->debit != NULL ? g_bytes_ref (data->debit->indicium) : NULL;
  outcome->pressed_us = data->pressed_us;
  outcome->handed_us = data->handed_us;
  if (data->job != NULL)
    {
      outcome->job_id = g_strdup (pm_print_job_get_id (data->job));
      if (pm_print_job_get_output_files (data->job) != NULL)
        outcome->output_files = g_strdupv ((char **) pm_print_job_get_output_files (data->job));
    }
  return outcome;
}

typedef struct
{
  gint64           piece_id;   /* 0: no piece (no value printed, or not recorded) */
  PmPrintState     state;
  char            *detail;
  PmStorePrintJob *job;        /* the printer's usage log row; NULL when nothing printed */
} StateWork;

static void
state_work_free (gpointer p)
{
  StateWork *work = p;

  g_free (work->detail);
  g_clear_pointer (&work->job, pm_store_print_job_free);
  g_free (work);
}

/* The piece's print state and the job's usage (impressions, ink) commit together. */
static gboolean
set_state_work (sqlite3  *db,
                gpointer  data,
                GError  **error)
{
  StateWork *work = data;

  if (work->piece_id != 0
      && !pm_store_pieces_set_print_state (db, work->piece_id, work->state, work->detail,
                                           error))
    return FALSE;

  return work->job == NULL || pm_store_print_jobs_insert (db, work->job, error);
}

/* The usage log's row for a job the printer took: what it printed, the ink it used and
 * whose figure that is (the printer's, or the model's estimate). */
static PmStorePrintJob *
usage_row (PmPrintFlow *self,
           PrintData   *data,
           gboolean     printed,
           const char  *detail)
{
  PmStorePrintJob *row;

  if (data->job == NULL || pm_print_job_get_state (data->job) == PM_PRINT_JOB_QUEUED)
    return NULL;

  row = g_new0 (PmStorePrintJob, 1);
  row->piece_id = data->piece != NULL && data->recorded ? data->piece->id : 0;
  row->printer = g_strdup (pm_printer_get_name (self->printer));
  row->kind = PM_STORE_PRINT_JOB_ENVELOPE;
  row->state = printed ? PM_STORE_PRINT_JOB_DONE : PM_STORE_PRINT_JOB_FAILED;
  row->impressions = pm_print_job_get_impressions (data->job);
  row->ink_nanolitres = (gint64) pm_print_job_get_ink_nanolitres (data->job);
  /* PmInkSource and PmStoreInkSource list the same sources in the same order. */
  row->ink_source = (PmStoreInkSource) pm_print_job_get_ink_source (data->job);
  row->printer_job_ref = g_strdup (pm_print_job_get_backend_ref (data->job));
  row->detail = g_strdup (detail);
  row->created_at = pm_clock_now_us ();
  row->finished_at = row->created_at;
  return row;
}

static void
state_saved_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PrintData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  PmPrintOutcome *outcome = g_object_get_data (G_OBJECT (task), "outcome");

  /* The state stays "pending" in the store if this fails: the next start-up marks it
   * "unknown", which is the truth as far as the store can tell. */
  if (!pm_store_run_finish (PM_STORE (source), result, &error))
    g_warning ("Could not save the print state of piece %" G_GINT64_FORMAT ": %s",
               data->piece != NULL ? data->piece->piece_count : 0, error->message);
  else if (outcome->piece != NULL)
    outcome->piece->print_state = outcome->kind == PM_PRINT_OUTCOME_PRINTED
                                  ? PM_PRINT_STATE_PRINTED : PM_PRINT_STATE_FAILED;

  g_task_return_pointer (task, g_object_steal_data (G_OBJECT (task), "outcome"),
                         (GDestroyNotify) pm_print_outcome_free);
}

static void
finish_print (GTask          *task,
              PmPrintOutcome *outcome,
              const char     *printer_detail)
{
  PmPrintFlow *self = g_task_get_source_object (task);
  PrintData *data = g_task_get_task_data (task);
  gboolean printed = outcome->kind == PM_PRINT_OUTCOME_PRINTED;
  g_autoptr(PmStorePrintJob) job = usage_row (self, data, printed, printer_detail);
  StateWork *work;

  if ((data->piece == NULL || !data->recorded) && job == NULL)
    {
      g_task_return_pointer (task, outcome, (GDestroyNotify) pm_print_outcome_free);
      g_object_unref (task);
      return;
    }

  work = g_new0 (StateWork, 1);
  work->piece_id = data->piece != NULL && data->recorded ? data->piece->id : 0;
  work->state = printed ? PM_PRINT_STATE_PRINTED : PM_PRINT_STATE_FAILED;
  work->detail = g_strdup (printer_detail);
  work->job = g_steal_pointer (&job);
  g_object_set_data_full (G_OBJECT (task), "outcome", outcome,
                          (GDestroyNotify) pm_print_outcome_free);
  pm_store_run_async (self->store, set_state_work, work, state_work_free, NULL,
                      state_saved_cb, task);
}

/* A print that could not go to the printer: for a debit, postage is taken. */
static void
fail_print (GTask      *task,
            const char *why)
{
  PrintData *data = g_task_get_task_data (task);
  PmPrintOutcome *outcome;
  g_autofree char *amount = NULL;

  if (data->debit == NULL)
    {
      g_task_return_new_error (task, PM_PRINT_FLOW_ERROR, PM_PRINT_FLOW_ERROR_PRINT_FAILED,
                               _("The printer failed: %s. Check the printer and try "
                                 "again."), why);
      g_object_unref (task);
      return;
    }

  outcome = outcome_new (data);
  outcome->kind = PM_PRINT_OUTCOME_FAILED;
  amount = pm_money_format (data->postage);
  if (data->recorded)
    outcome->message = g_strdup_printf (_("Postage of %s was taken but the piece did not "
                                          "print: %s. The piece is recorded as not "
                                          "printed, for a refund claim. It is not printed "
                                          "again by itself."), amount, why);
  else
    outcome->message = g_strdup_printf (_("Postage of %s was taken but the meter could not "
                                          "record the piece (%s), so it was not printed. "
                                          "The meter records it from its security device "
                                          "before the next piece; claim a refund from "
                                          "Reports."), amount, why);

  finish_print (task, outcome, why);
}

static void
submitted_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  GTask *task = user_data;
  PmPrintFlow *self = g_task_get_source_object (task);
  PrintData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  PmPrintOutcome *outcome;

  self->jobs_in_flight--;
  self->last_job_failed = !pm_printer_submit_finish (PM_PRINTER (source), result, &error);
  if (self->last_job_failed)
    {
      fail_print (task, error->message);
      return;
    }

  outcome = outcome_new (data);
  outcome->kind = PM_PRINT_OUTCOME_PRINTED;
  if (data->debit != NULL)
    {
      g_autofree char *amount = pm_money_format (data->postage);

      outcome->message = g_strdup_printf (_("Printed %s."), amount);
    }
  else
    outcome->message = g_strdup (_("Printed."));

  finish_print (task, outcome, NULL);
}

static void
worker_done_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  PmPrintFlow *self = PM_PRINT_FLOW (source);
  GTask *outer = user_data;
  PrintData *data = g_task_get_task_data (outer);
  g_autoptr(GError) error = NULL;

  if (data->status != NULL && data->status->has_operational_block)
    learn_origin (self, data->status->origin_zip);

  /* The PSD and the store are done with this piece: the next one may start while the
   * printer works (the printer keeps the order). */
  set_busy (self, FALSE);

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_task_return_error (outer, g_steal_pointer (&error));
      g_object_unref (outer);
      return;
    }

  if (data->debit != NULL && !data->recorded)
    {
      fail_print (outer, data->record_error);
      return;
    }

  if (data->job == NULL)
    {
      fail_print (outer, data->job_error);
      return;
    }

  data->handed_us = g_get_monotonic_time ();
  self->jobs_in_flight++;
  pm_printer_submit_async (self->printer, data->job, NULL, submitted_cb, outer);
}

static void
start_worker (PmPrintFlow *self,
              GTask       *outer,
              PrintData   *data)
{
  g_autoptr(GTask) worker = g_task_new (self, NULL, worker_done_cb, outer);

  g_task_set_source_tag (worker, print_thread);
  g_task_set_task_data (worker, data, NULL);
  g_task_run_in_thread (worker, print_thread);
}

static void
printer_state_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  GTask *outer = user_data;
  PmPrintFlow *self = g_task_get_source_object (outer);
  PrintData *data = g_task_get_task_data (outer);
  g_autoptr(GError) error = NULL;
  PmPrinterState state;

  state = pm_printer_query_state_finish (PM_PRINTER (source), result, NULL, &error);
  if (error != NULL || (state != PM_PRINTER_STATE_READY && state != PM_PRINTER_STATE_BUSY
                        && state != PM_PRINTER_STATE_UNKNOWN))
    {
      set_busy (self, FALSE);
      g_task_return_new_error (outer, PM_PRINT_FLOW_ERROR,
                               PM_PRINT_FLOW_ERROR_PRINTER_OFFLINE,
                               _("The printer cannot print (%s). Check that the "
                                 "printer is on, has envelopes and ink, then press Print "
                                 "again."),
                               error != NULL ? error->message
                               : pm_printer_state_to_string (state));
      g_object_unref (outer);
      return;
    }

  start_worker (self, outer, data);
}

void
pm_print_flow_print_async (PmPrintFlow          *self,
                           const PmPrintRequest *request,
                           GCancellable         *cancellable,
                           GAsyncReadyCallback   callback,
                           gpointer              user_data)
{
  GTask *task;
  PrintData *data;
  g_autoptr(GError) error = NULL;

  g_return_if_fail (PM_IS_PRINT_FLOW (self));
  g_return_if_fail (request != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, pm_print_flow_print_async);

  data = g_new0 (PrintData, 1);
  data->pressed_us = g_get_monotonic_time ();
  data->request = *request;
  data->destination_zip = NULL;
  data->stamp_heading = g_strdup (request->stamp_heading);
  data->request.stamp_heading = NULL;
  data->request.destination_zip = NULL;
  if (request->graphic_png != NULL)
    g_bytes_ref (request->graphic_png);
  g_task_set_task_data (task, data, (GDestroyNotify) print_data_free);

  if (self->busy)
    {
      g_task_return_new_error (task, PM_PRINT_FLOW_ERROR, PM_PRINT_FLOW_ERROR_BUSY,
                               _("The last piece is still printing. Wait for it, then "
                                 "press Print again."));
      g_object_unref (task);
      return;
    }

  if (self->printer == NULL)
    {
      g_task_return_new_error (task, PM_PRINT_FLOW_ERROR,
                               PM_PRINT_FLOW_ERROR_PRINTER_OFFLINE,
                               _("No envelope printer is set up. A supervisor chooses "
                                 "one in Settings."));
      g_object_unref (task);
      return;
    }

  if (!pm_printer_supports_format (self->printer, PM_PRINT_FORMAT_PDF))
    {
      g_task_return_new_error (task, PM_PRINT_FLOW_ERROR,
                               PM_PRINT_FLOW_ERROR_PRINTER_OFFLINE,
                               _("%s cannot print envelopes. A supervisor chooses an "
                                 "envelope printer in Settings."),
                               pm_printer_get_name (self->printer));
      g_object_unref (task);
      return;
    }

  /* Everything the request alone can be refused for, before any device is asked. */
  if (!pm_print_flow_date_of_mailing (request->days_ahead, &data->date, &error)
      || !check_destination (request->destination_zip, &data->destination_zip, &error)
      || !check_request (self, request, self->origin_zip, data->date, &data->postage, NULL,
                         &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      g_object_unref (task);
      return;
    }

  data->category = request->mode == PM_PIECE_MODE_ADDITIONAL
                   ? PM_RATE_CATEGORY_ADDITIONAL_POSTAGE
                   : pm_print_flow_rate_category (request->mail_class, request->shape);
  if (request->mode == PM_PIECE_MODE_POSTAGE || request->mode == PM_PIECE_MODE_KEY_IN)
    data->class_code = g_strdup_printf ("%s-%s",
                                        pm_mail_class_to_string (request->mail_class),
                                        pm_shape_to_string (request->shape));
  if (request->mode == PM_PIECE_MODE_POSTAGE && request->has_weight)
    data->weight_text = pm_weight_format (&request->weight);

  set_busy (self, TRUE);

  /* While our last job is still with the printer and none has failed, the printer is
   * known to be taking jobs; asking again would queue the question behind that job and
   * hold this piece up for the whole print. */
  if (self->jobs_in_flight > 0 && !self->last_job_failed)
    {
      start_worker (self, task, data);
      return;
    }
  pm_printer_query_state_async (self->printer, NULL, printer_state_cb, task);
}

PmPrintOutcome *
pm_print_flow_print_finish (PmPrintFlow   *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
