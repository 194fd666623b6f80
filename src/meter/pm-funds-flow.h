/* pm-funds-flow.h: refills, inspections, the operational block and a replacement PSD
 *
 * Each workflow asks the funds service, hands the signed answer to the PSD (which alone
 * decides whether to apply it) and records what was applied in the store. A refill the
 * data center issued but the PSD never applied (an answer lost on the way) is asked for
 * again with the same sequence number, and the data center sends the same signed refill:
 * the account is never charged twice and the PSD never counts it twice.
 */
#pragma once

#include "pm-connection.h"

G_BEGIN_DECLS

typedef struct
{
  char        *receipt_id;
  PmMills      amount;
  gint64       sequence;
  gint64       issued_at;      /* Unix seconds */
  PmMills      balance;        /* the customer account afterwards; -1 when not reported */
  gboolean     inspected;      /* an inspection ran first */
  PmPsdStatus *status;         /* the PSD after the refill */
} PmRefillOutcome;

void pm_refill_outcome_free (PmRefillOutcome *outcome);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmRefillOutcome, pm_refill_outcome_free)

/* Refills the PSD by amount. When the configuration says so, or when the PSD warns that
 * an inspection is due, an inspection runs first. */
void             pm_funds_flow_refill_async  (PmConnection        *connection,
                                              PmMills              amount,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
PmRefillOutcome *pm_funds_flow_refill_finish (PmConnection        *connection,
                                              GAsyncResult        *result,
                                              GError             **error);

/* An inspection (audit): the PSD's signed registers go to the data center and its signed
 * answer back to the PSD. Returns the PSD's status afterwards. */
void         pm_funds_flow_inspect_async  (PmConnection        *connection,
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data);
PmPsdStatus *pm_funds_flow_inspect_finish (PmConnection        *connection,
                                           GAsyncResult        *result,
                                           GError             **error);

/* At install: the provider's signed operational block (origin ZIP, limits, postal
 * profile) into a PSD that has none. */
void         pm_funds_flow_install_block_async  (PmConnection        *connection,
                                                 GCancellable        *cancellable,
                                                 GAsyncReadyCallback  callback,
                                                 gpointer             user_data);
PmPsdStatus *pm_funds_flow_install_block_finish (PmConnection        *connection,
                                                 GAsyncResult        *result,
                                                 GError             **error);

/* A replacement PSD: the connection's PSD is the new one. The machine signs in as the PSD
 * it replaces (old_serial and old_certificate, its public key as PEM, kept from before),
 * presents the new PSD's serial and key, and installs the configuration the provider
 * signs for it. The session then belongs to the new PSD. */
void         pm_funds_flow_replace_psd_async  (PmConnection        *connection,
                                               guint32              old_serial,
                                               GBytes              *old_certificate,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
PmPsdStatus *pm_funds_flow_replace_psd_finish (PmConnection        *connection,
                                               GAsyncResult        *result,
                                               GError             **error);

/* The refill history as the data center keeps it, newest first, with the account
 * balance and the refill limits (also kept on the connection). */
void             pm_funds_flow_history_async  (PmConnection        *connection,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
PmFundsResponse *pm_funds_flow_history_finish (PmConnection        *connection,
                                               GAsyncResult        *result,
                                               GError             **error);

G_END_DECLS
