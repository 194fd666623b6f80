/* test-store-presets.c: print presets and the supervisor's default */
#include <glib/gstdio.h>

#include "pm-store-presets.h"
#include "pm-store-records.h"

typedef struct
{
  char    *dir;
  PmStore *store;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;

  f->dir = g_dir_make_tmp ("pm-presets-XXXXXX", &error);
  g_assert_no_error (error);
  path = g_build_filename (f->dir, "postmeter.db", NULL);
  f->store = pm_store_open (path, &error);
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *path = g_build_filename (f->dir, "postmeter.db", NULL);
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  g_autofree char *shm = g_strconcat (path, "-shm", NULL);

  pm_store_close (f->store);
  g_clear_object (&f->store);
  g_unlink (path);
  g_unlink (wal);
  g_unlink (shm);
  g_rmdir (f->dir);
  g_free (f->dir);
}

static gint64
save (Fixture     *f,
      const char  *name,
      const char  *class_code,
      guint        services,
      PmPieceMode  mode)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PmPreset) preset = pm_preset_new ();

  preset->name = g_strdup (name);
  preset->class_code = g_strdup (class_code);
  preset->services = services;
  preset->account_id = PM_COST_ACCOUNT_GENERAL_ID;
  preset->mode = mode;
  g_assert_true (pm_store_save_preset (f->store, preset, &error));
  g_assert_no_error (error);
  g_assert_cmpint (preset->id, >, 0);
  return preset->id;
}

static void
test_save_list_replace (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) presets = NULL;
  gint64 letters, parcels, again;
  PmPreset *first;

  letters = save (f, "Letters", "first-class-letter", 0, PM_PIECE_MODE_POSTAGE);
  parcels = save (f, "Certified parcels", "ground-advantage-parcel", 1, PM_PIECE_MODE_POSTAGE);
  g_assert_cmpint (letters, !=, parcels);

  /* The same name again replaces, keeping the row. */
  again = save (f, "Letters", "first-class-flat", 0, PM_PIECE_MODE_KEY_IN);
  g_assert_cmpint (again, ==, letters);

  presets = pm_store_list_presets (f->store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (presets->len, ==, 2);
  first = g_ptr_array_index (presets, 0);
  g_assert_cmpstr (first->name, ==, "Certified parcels");
  g_assert_cmpuint (first->services, ==, 1);
  g_assert_cmpint (first->account_id, ==, PM_COST_ACCOUNT_GENERAL_ID);
  first = g_ptr_array_index (presets, 1);
  g_assert_cmpstr (first->class_code, ==, "first-class-flat");
  g_assert_cmpint (first->mode, ==, PM_PIECE_MODE_KEY_IN);
  g_assert_false (first->is_default);
}

static void
test_default (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) presets = NULL;
  guint defaults = 0;

  save (f, "Letters", "first-class-letter", 0, PM_PIECE_MODE_POSTAGE);
  save (f, "Flats", "first-class-flat", 0, PM_PIECE_MODE_POSTAGE);

  g_assert_true (pm_store_set_default_preset (f->store, "Letters", 1, &error));
  g_assert_true (pm_store_set_default_preset (f->store, "Flats", 1, &error));
  g_assert_no_error (error);

  /* Only one default, the last one chosen. */
  presets = pm_store_list_presets (f->store, &error);
  for (guint i = 0; i < presets->len; i++)
    {
      PmPreset *preset = g_ptr_array_index (presets, i);

      if (preset->is_default)
        {
          defaults++;
          g_assert_cmpstr (preset->name, ==, "Flats");
        }
    }
  g_assert_cmpuint (defaults, ==, 1);

  g_assert_false (pm_store_set_default_preset (f->store, "Parcels", 1, &error));
  g_assert_error (error, PM_STORE_ERROR, PM_STORE_ERROR_NOT_FOUND);
}

static void
test_bad_names (Fixture       *f,
                gconstpointer  data)
{
  const char *names[] = { NULL, "", "a name far longer than forty characters, too long" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(PmPreset) preset = pm_preset_new ();
      g_autoptr(GPtrArray) presets = NULL;

      preset->name = g_strdup (names[i]);
      g_assert_false (pm_store_save_preset (f->store, preset, &error));
      g_assert_error (error, PM_STORE_ERROR, PM_STORE_ERROR_INVALID);
      presets = pm_store_list_presets (f->store, NULL);
      g_assert_cmpuint (presets->len, ==, 0);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/store/presets/save-list-replace", Fixture, NULL, fixture_set_up,
              test_save_list_replace, fixture_tear_down);
  g_test_add ("/store/presets/default", Fixture, NULL, fixture_set_up, test_default,
              fixture_tear_down);
  g_test_add ("/store/presets/bad-names", Fixture, NULL, fixture_set_up, test_bad_names,
              fixture_tear_down);

  return g_test_run ();
}
