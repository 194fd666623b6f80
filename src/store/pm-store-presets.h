/* pm-store-presets.h: print presets, what the Mail screen picks together
 *
 * A preset names a class, extra services, a cost account and a print mode, so an
 * operator picks them with one touch. A supervisor may make one of them the default,
 * which the Mail screen starts with.
 */
#pragma once

#include "pm-store.h"
#include "pm-store-pieces.h"

G_BEGIN_DECLS

#define PM_PRESET_NAME_MAX 40   /* characters */

typedef struct
{
  gint64       id;           /* set by the store */
  char        *name;
  char        *class_code;   /* "first-class-letter", or "" */
  guint        services;     /* PmService bits */
  gint64       account_id;   /* 0 for none */
  PmPieceMode  mode;
  gboolean     is_default;
} PmPreset;

PmPreset *pm_preset_new  (void);
PmPreset *pm_preset_copy (const PmPreset *preset);
void      pm_preset_free (PmPreset       *preset);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmPreset, pm_preset_free)

/* Saves @preset under its name, replacing a preset of that name (and keeping whether it
 * is the default); sets preset->id. PM_STORE_ERROR_INVALID for an empty or too long
 * name. */
gboolean   pm_store_save_preset         (PmStore        *store,
                                         PmPreset       *preset,
                                         GError        **error);
void       pm_store_save_preset_async   (PmStore             *store,
                                         const PmPreset      *preset,
                                         GCancellable        *cancellable,
                                         GAsyncReadyCallback  callback,
                                         gpointer             user_data);
gboolean   pm_store_save_preset_finish  (PmStore             *store,
                                         GAsyncResult        *result,
                                         GError             **error);
/* Makes the preset called @name the default (the only one); NULL clears the default.
 * PM_STORE_ERROR_NOT_FOUND when there is no such preset. The audit log names @user_id. */
gboolean   pm_store_set_default_preset  (PmStore        *store,
                                         const char     *name,
                                         gint64          user_id,
                                         GError        **error);
void       pm_store_set_default_preset_async  (PmStore             *store,
                                               const char          *name,
                                               gint64               user_id,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
gboolean   pm_store_set_default_preset_finish (PmStore             *store,
                                               GAsyncResult        *result,
                                               GError             **error);
/* A GPtrArray of PmPreset, by name. */
GPtrArray *pm_store_list_presets        (PmStore        *store,
                                         GError        **error);
void       pm_store_list_presets_async  (PmStore             *store,
                                         GCancellable        *cancellable,
                                         GAsyncReadyCallback  callback,
                                         gpointer             user_data);
GPtrArray *pm_store_list_presets_finish (PmStore             *store,
                                         GAsyncResult        *result,
                                         GError             **error);

G_END_DECLS
