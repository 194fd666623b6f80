/* pm-mail-page.h: Print on envelopes, the screen operators use all day
 *
 * Live weight from the scale (or a typed weight), the classes of the rate package in force,
 * extra services, destination ZIP, print mode, date advance and cost account; the postage
 * with its breakdown; one Print button; the meter's counters and today's pieces. Printing
 * goes through PmPrintFlow, so the screen always says which of the three things happened.
 *
 * Actions (for touch and tests): mail.print, mail.print-confirmed, mail.select-class (s,
 * "first-class-letter"), mail.select-mode (s, a PmPieceMode name), mail.set-destination (s),
 * mail.set-manual-weight (s, "" to use the scale), mail.set-days-ahead (i),
 * mail.set-amount (s), mail.reset-batch, mail.save-preset (s, a name),
 * mail.save-typed-preset, mail.apply-preset (s), mail.default-preset (s, supervisors),
 * mail.default-chosen-preset, and for demonstrations mail.put-piece (s, a weight) and
 * mail.take-piece.
 */
#pragma once

#include <adwaita.h>

#include "pm-access.h"
#include "pm-print-flow.h"

G_BEGIN_DECLS

#define PM_TYPE_MAIL_PAGE (pm_mail_page_get_type ())
G_DECLARE_FINAL_TYPE (PmMailPage, pm_mail_page, PM, MAIL_PAGE, GtkWidget)

void                  pm_mail_page_set_user         (PmMailPage   *self,
                                                     const PmUser *user);
/* Reads the devices again (after the application opened them) and refreshes counters. */
void                  pm_mail_page_refresh          (PmMailPage   *self);

/* For tests: what the screen shows. */
gboolean              pm_mail_page_get_ready        (PmMailPage   *self);
gboolean              pm_mail_page_get_busy         (PmMailPage   *self);
gboolean              pm_mail_page_get_weight_stable (PmMailPage  *self);
const char           *pm_mail_page_get_weight_text  (PmMailPage   *self);
const char           *pm_mail_page_get_postage_text (PmMailPage   *self);
const char           *pm_mail_page_get_message      (PmMailPage   *self);
const char           *pm_mail_page_get_funds_text   (PmMailPage   *self);
const char           *pm_mail_page_get_batch_text   (PmMailPage   *self);
/* The last print's outcome, NULL before one or after a refusal. */
const PmPrintOutcome *pm_mail_page_get_last_outcome (PmMailPage   *self);
/* Rows in Today's pieces; -1 until the list has been read. */
int                   pm_mail_page_get_today_count  (PmMailPage   *self);
const char           *pm_mail_page_get_preset       (PmMailPage   *self);
char                 *pm_mail_page_dup_class        (PmMailPage   *self);
const char           *pm_mail_page_get_mode         (PmMailPage   *self);
const char           *pm_mail_page_get_date_text    (PmMailPage   *self);
void                  pm_mail_page_update           (PmMailPage   *self);
const char           *pm_mail_page_get_low_funds_warning (PmMailPage *self);
const char           *pm_mail_page_get_destination_text (PmMailPage *self);

G_END_DECLS
