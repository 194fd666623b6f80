/* pm-store-presets.c: print presets
 *
 * Work functions run on the store thread; the blocking and async wrappers only queue
 * work.
 */
#include "pm-store-presets.h"

#include "pm-clock.h"
#include "pm-store-audit.h"
#include "pm-store-private.h"

PmPreset *
pm_preset_new (void)
{
  PmPreset *preset = g_new0 (PmPreset, 1);

  preset->mode = PM_PIECE_MODE_POSTAGE;
  return preset;
}

PmPreset *
pm_preset_copy (const PmPreset *preset)
{
  PmPreset *copy;

  g_return_val_if_fail (preset != NULL, NULL);

  copy = g_memdup2 (preset, sizeof *preset);
  copy->name = g_strdup (preset->name);
  copy->class_code = g_strdup (preset->class_code);
  return copy;
}

void
pm_preset_free (PmPreset *preset)
{
  if (preset == NULL)
    return;

  g_free (preset->name);
  g_free (preset->class_code);
  g_free (preset);
}

/* ---- Saving ---- */

static gboolean
save_work (sqlite3  *db,
           gpointer  data,
           GError  **error)
{
  PmPreset *preset = data;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(sqlite3_stmt) id = NULL;
  glong chars;

  PM_STORE_ASSERT_THREAD ();

  chars = preset->name != NULL && g_utf8_validate (preset->name, -1, NULL)
          ? g_utf8_strlen (preset->name, -1) : 0;
  if (chars < 1 || chars > PM_PRESET_NAME_MAX)
    {
      g_set_error (error, PM_STORE_ERROR, PM_STORE_ERROR_INVALID,
                   "A preset needs a name of 1 to %d characters", PM_PRESET_NAME_MAX);
      return FALSE;
    }

  stmt = pm_store_prepare (db, "INSERT INTO presets (name, class_code, services, account_id, "
                               "mode, created_at) VALUES (?, ?, ?, ?, ?, ?) "
                               "ON CONFLICT (name) DO UPDATE SET class_code = excluded.class_code, "
                               "services = excluded.services, account_id = excluded.account_id, "
                               "mode = excluded.mode", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, preset->name, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, preset->class_code != NULL ? preset->class_code : "", -1,
                     SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 3, preset->services);
  if (preset->account_id > 0)
    sqlite3_bind_int64 (stmt, 4, preset->account_id);
  else
    sqlite3_bind_null (stmt, 4);
  sqlite3_bind_text (stmt, 5, pm_piece_mode_to_string (preset->mode), -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 6, pm_clock_now_s ());
  if (!pm_store_step_done (db, stmt, "Could not save the preset", error))
    return FALSE;

  id = pm_store_prepare (db, "SELECT id FROM presets WHERE name = ?", error);
  if (id == NULL)
    return FALSE;
  sqlite3_bind_text (id, 1, preset->name, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (id) != SQLITE_ROW)
    return pm_store_set_error_from_sqlite (error, db, sqlite3_errcode (db),
                                           "Could not save the preset");
  preset->id = sqlite3_column_int64 (id, 0);
  return TRUE;
}

gboolean
pm_store_save_preset (PmStore   *store,
                      PmPreset  *preset,
                      GError   **error)
{
  g_return_val_if_fail (PM_IS_STORE (store), FALSE);
  g_return_val_if_fail (preset != NULL, FALSE);

  return pm_store_run_sync (store, save_work, preset, NULL, error);
}

void
pm_store_save_preset_async (PmStore             *store,
                            const PmPreset      *preset,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_return_if_fail (PM_IS_STORE (store));
  g_return_if_fail (preset != NULL);

  pm_store_call_async (store, save_work, pm_preset_copy (preset),
                       (GDestroyNotify) pm_preset_free, cancellable, callback, user_data,
                       pm_store_save_preset_async);
}

gboolean
pm_store_save_preset_finish (PmStore       *store,
                             GAsyncResult  *result,
                             GError       **error)
{
  return pm_store_call_finish (store, result, pm_store_save_preset_async, error) != NULL;
}

/* ---- The default ---- */

typedef struct
{
  char   *name;
  gint64  user_id;
} DefaultData;

static void
default_data_free (DefaultData *data)
{
  g_free (data->name);
  g_free (data);
}

static gboolean
default_work (sqlite3  *db,
              gpointer  data,
              GError  **error)
{
  DefaultData *change = data;
  g_autoptr(sqlite3_stmt) clear = NULL;
  g_autoptr(sqlite3_stmt) set = NULL;

  PM_STORE_ASSERT_THREAD ();

  clear = pm_store_prepare (db, "UPDATE presets SET is_default = 0 WHERE is_default = 1",
                            error);
  if (clear == NULL || !pm_store_step_done (db, clear, "Could not change the default preset",
                                            error))
    return FALSE;

  if (change->name != NULL)
    {
      set = pm_store_prepare (db, "UPDATE presets SET is_default = 1 WHERE name = ?", error);
      if (set == NULL)
        return FALSE;
      sqlite3_bind_text (set, 1, change->name, -1, SQLITE_TRANSIENT);
      if (!pm_store_step_done (db, set, "Could not change the default preset", error))
        return FALSE;
      if (sqlite3_changes (db) == 0)
        {
          g_set_error (error, PM_STORE_ERROR, PM_STORE_ERROR_NOT_FOUND,
                       "There is no preset called “%s”", change->name);
          return FALSE;
        }
    }

  return pm_store_audit_append (db, "default-preset", change->user_id,
                                change->name != NULL ? change->name : "(none)", error);
}

gboolean
pm_store_set_default_preset (PmStore     *store,
                             const char  *name,
                             gint64       user_id,
                             GError     **error)
{
  DefaultData data = { (char *) name, user_id };

  g_return_val_if_fail (PM_IS_STORE (store), FALSE);

  return pm_store_run_sync (store, default_work, &data, NULL, error);
}

void
pm_store_set_default_preset_async (PmStore             *store,
                                   const char          *name,
                                   gint64               user_id,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  DefaultData *data;

  g_return_if_fail (PM_IS_STORE (store));

  data = g_new0 (DefaultData, 1);
  data->name = g_strdup (name);
  data->user_id = user_id;
  pm_store_call_async (store, default_work, data, (GDestroyNotify) default_data_free,
                       cancellable, callback, user_data, pm_store_set_default_preset_async);
}

gboolean
pm_store_set_default_preset_finish (PmStore       *store,
                                    GAsyncResult  *result,
                                    GError       **error)
{
  return pm_store_call_finish (store, result, pm_store_set_default_preset_async,
                               error) != NULL;
}

/* ---- Listing ---- */

typedef struct
{
  GPtrArray *presets;
} PresetList;

static void
preset_list_free (PresetList *list)
{
  g_clear_pointer (&list->presets, g_ptr_array_unref);
  g_free (list);
}

static gboolean
list_work (sqlite3  *db,
           gpointer  data,
           GError  **error)
{
  PresetList *list = data;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  PM_STORE_ASSERT_THREAD ();

  stmt = pm_store_prepare (db, "SELECT id, name, class_code, services, "
                               "coalesce (account_id, 0), mode, is_default "
                               "FROM presets ORDER BY name", error);
  if (stmt == NULL)
    return FALSE;

  list->presets = g_ptr_array_new_with_free_func ((GDestroyNotify) pm_preset_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      PmPreset *preset = pm_preset_new ();

      preset->id = sqlite3_column_int64 (stmt, 0);
      preset->name = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
      preset->class_code = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
      preset->services = (guint) sqlite3_column_int64 (stmt, 3);
      preset->account_id = sqlite3_column_int64 (stmt, 4);
      pm_piece_mode_from_string ((const char *) sqlite3_column_text (stmt, 5),
                                 &preset->mode);
      preset->is_default = sqlite3_column_int (stmt, 6) != 0;
      g_ptr_array_add (list->presets, preset);
    }
  if (rc != SQLITE_DONE)
    return pm_store_set_error_from_sqlite (error, db, rc, "Could not read the presets");
  return TRUE;
}

GPtrArray *
pm_store_list_presets (PmStore  *store,
                       GError  **error)
{
  PresetList list = { NULL };

  g_return_val_if_fail (PM_IS_STORE (store), NULL);

  if (!pm_store_run_sync (store, list_work, &list, NULL, error))
    {
      g_clear_pointer (&list.presets, g_ptr_array_unref);
      return NULL;
    }
  return list.presets;
}

void
pm_store_list_presets_async (PmStore             *store,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_return_if_fail (PM_IS_STORE (store));

  pm_store_call_async (store, list_work, g_new0 (PresetList, 1),
                       (GDestroyNotify) preset_list_free, cancellable, callback, user_data,
                       pm_store_list_presets_async);
}

GPtrArray *
pm_store_list_presets_finish (PmStore       *store,
                              GAsyncResult  *result,
                              GError       **error)
{
  PresetList *list = pm_store_call_finish (store, result, pm_store_list_presets_async,
                                           error);

  return list != NULL ? g_steal_pointer (&list->presets) : NULL;
}
