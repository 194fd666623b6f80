/* test-kiosk.c: the real kiosk window under Xvfb, driven through its actions
 *
 * The program starts its own Xvfb (on a display it picks with -displayfd), runs
 * PmApplication in-process on a temporary state folder and walks what a mailroom does:
 * first start, the supervisor, unlocking, wrong codes, the lockout, Users, an operator,
 * the idle lock, log out, and the Service page for a damaged database. Screenshots of the
 * main pages go to $POSTMETER_BUILD_ROOT/screenshots/.
 *
 * The window tests share one application and run in the order they are added: each
 * starts where the one before left off, like a person at the machine.
 */
#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "pm-application.h"
#include "pm-kiosk-test-util.h"
#include "pm-clock.h"
#include "pm-keyboard.h"
#include "pm-keypad.h"
#include "pm-indicium.h"
#include "pm-indicium-scan.h"
#include "pm-lock-page.h"
#include "pm-mail-page.h"
#include "pm-psd-message.h"
#include "pm-software-psd.h"
#include "pm-store-audit.h"
#include "pm-store-records.h"
#include "pm-settings-keys.h"
#include "pm-settings-page.h"
#include "pm-setup-page.h"
#include "pm-status.h"
#include "pm-unbuilt-page.h"
#include "pm-users-page.h"
#include "pm-service-page.h"

#define SUPERVISOR_NAME "Sam Supervisor"
#define SUPERVISOR_CODE "2468"
#define OPERATOR_NAME   "Olive Operator"
#define OPERATOR_CODE   "1357"
#define DISABLED_NAME   "Dan Driver"
#define DISABLED_CODE   "8642"
#define NEW_CODE        "975310"

/* Generous: hashing a code with a slow KDF on a busy two-core machine takes a while. */
#define WAIT_TIMEOUT_S 20

static PmApplication *app;
static char          *state_dir;

/* Helpers -------------------------------------------------------------------------------- */

static gboolean
wait_until (PmKioskTestCondition condition,
            gpointer             data)
{
  return pm_kiosk_test_wait_until (condition, data, WAIT_TIMEOUT_S);
}

static void
save_screenshot (const char *name)
{
  pm_kiosk_test_save_screenshot (GTK_WIDGET (pm_application_get_window (app)), name);
}

static gboolean
skip_without_display (void)
{
  if (pm_kiosk_test_skip_reason () != NULL)
    {
      g_test_skip (pm_kiosk_test_skip_reason ());
      return TRUE;
    }
  if (app == NULL)
    {
      g_test_skip ("the application did not start (see the first failure)");
      return TRUE;
    }
  return FALSE;
}

static PmWindow *
window (void)
{
  return pm_application_get_window (app);
}

static gboolean
page_is (gpointer name)
{
  return g_strcmp0 (pm_window_get_page_name (window ()), name) == 0;
}

static void
assert_page_soon (const char *name)
{
  if (!wait_until (page_is, (gpointer) name))
    g_error ("Waited %d s for the %s page; the window shows %s", WAIT_TIMEOUT_S, name,
             pm_window_get_page_name (window ()));
}

static GtkWidget *
page (const char *name)
{
  GtkWidget *widget = pm_window_get_page (window (), name);

  g_assert_nonnull (widget);
  return widget;
}

static void
type_code (GtkWidget  *on_page,
           const char *prefix,
           const char *code)
{
  g_autofree char *digit_action = g_strconcat (prefix, ".digit", NULL);
  g_autofree char *submit_action = g_strconcat (prefix, ".submit", NULL);

  for (const char *c = code; *c != '\0'; c++)
    {
      char digit[2] = { *c, '\0' };

      pm_kiosk_test_act (on_page, digit_action, digit);
    }
  pm_kiosk_test_act (on_page, submit_action, NULL);
}

static gboolean
lock_page_idle (gpointer data)
{
  return !pm_lock_page_get_busy (PM_LOCK_PAGE (data));
}

static gboolean
users_page_idle (gpointer data)
{
  return !pm_users_page_get_busy (PM_USERS_PAGE (data));
}

static void
sign_in (const char *code,
         const char *expect_page)
{
  GtkWidget *lock = page ("lock");

  assert_page_soon ("lock");
  g_assert_true (wait_until (lock_page_idle, lock));
  type_code (lock, "lock", code);
  g_assert_true (wait_until (lock_page_idle, lock));
  assert_page_soon (expect_page);
}

/* Keypad and keyboard, alone ------------------------------------------------------------- */

static void
test_keypad_digits (void)
{
  GtkWidget *keypad;
  g_autofree char *code = NULL;
  g_autofree char *after_clear = NULL;

  if (pm_kiosk_test_skip_reason () != NULL)
    {
      g_test_skip (pm_kiosk_test_skip_reason ());
      return;
    }

  keypad = g_object_ref_sink (pm_keypad_new ());

  for (const char *c = "123456789"; *c != '\0'; c++)
    gtk_widget_activate_action (keypad, "keypad.digit", "s", (char[]) { *c, '\0' });

  /* Eight digits at most: the ninth is refused. */
  g_assert_cmpuint (pm_keypad_get_length (PM_KEYPAD (keypad)), ==, 8);
  code = pm_keypad_dup_code (PM_KEYPAD (keypad));
  g_assert_cmpstr (code, ==, "12345678");

  gtk_widget_activate_action (keypad, "keypad.backspace", NULL);
  g_assert_cmpuint (pm_keypad_get_length (PM_KEYPAD (keypad)), ==, 7);

  /* Keyboard: digits from both rows, Backspace, Escape. */
  g_assert_true (pm_keypad_handle_key (PM_KEYPAD (keypad), GDK_KEY_BackSpace, 0));
  g_assert_true (pm_keypad_handle_key (PM_KEYPAD (keypad), GDK_KEY_KP_9, 0));
  g_assert_true (pm_keypad_handle_key (PM_KEYPAD (keypad), GDK_KEY_0, 0));
  g_free (code);
  code = pm_keypad_dup_code (PM_KEYPAD (keypad));
  g_assert_cmpstr (code, ==, "12345690");
  g_assert_false (pm_keypad_handle_key (PM_KEYPAD (keypad), GDK_KEY_a, 0));
  g_assert_false (pm_keypad_handle_key (PM_KEYPAD (keypad), GDK_KEY_1, GDK_CONTROL_MASK));

  g_assert_true (pm_keypad_handle_key (PM_KEYPAD (keypad), GDK_KEY_Escape, 0));
  after_clear = pm_keypad_dup_code (PM_KEYPAD (keypad));
  g_assert_cmpstr (after_clear, ==, "");

  /* A locked keypad takes nothing. */
  pm_keypad_set_locked (PM_KEYPAD (keypad), TRUE);
  gtk_widget_activate_action (keypad, "keypad.digit", "s", "5");
  pm_keypad_add_digit (PM_KEYPAD (keypad), '5');
  g_assert_cmpuint (pm_keypad_get_length (PM_KEYPAD (keypad)), ==, 0);

  g_object_unref (keypad);
}

static void
test_keyboard_names (void)
{
  GtkWidget *keyboard;
  GtkWidget *entry;

  if (pm_kiosk_test_skip_reason () != NULL)
    {
      g_test_skip (pm_kiosk_test_skip_reason ());
      return;
    }

  keyboard = g_object_ref_sink (pm_keyboard_new ());
  entry = g_object_ref_sink (gtk_entry_new ());
  pm_keyboard_set_target (PM_KEYBOARD (keyboard), GTK_EDITABLE (entry));

  /* Each word starts with a capital, the rest are small letters. */
  for (const char *c = "ANN O'NEIL-SMITH"; *c != '\0'; c++)
    gtk_widget_activate_action (keyboard, "keyboard.key", "s", (char[]) { *c, '\0' });
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (entry)), ==, "Ann O'neil-Smith");

  gtk_widget_activate_action (keyboard, "keyboard.backspace", NULL);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (entry)), ==, "Ann O'neil-Smit");

  g_object_unref (entry);
  g_object_unref (keyboard);
}

static void
test_status_unknown (void)
{
  g_autoptr(PmStatus) status = pm_status_new ();

  for (PmStatusItem item = 0; item < PM_STATUS_N_ITEMS; item++)
    {
      g_assert_cmpstr (pm_status_get_text (status, item), ==, "Unknown");
      g_assert_cmpint (pm_status_get_level (status, item), ==, PM_STATUS_LEVEL_UNKNOWN);
    }

  pm_status_set (status, PM_STATUS_ITEM_FUNDS, PM_STATUS_LEVEL_WARNING, "$12.40, low");
  g_assert_cmpstr (pm_status_get_text (status, PM_STATUS_ITEM_FUNDS), ==, "$12.40, low");
  g_assert_cmpint (pm_status_get_level (status, PM_STATUS_ITEM_FUNDS), ==,
                   PM_STATUS_LEVEL_WARNING);
  pm_status_reset (status, PM_STATUS_ITEM_FUNDS);
  g_assert_cmpstr (pm_status_get_text (status, PM_STATUS_ITEM_FUNDS), ==, "Unknown");
}

/* The window ----------------------------------------------------------------------------- */

/* The meter's software PSD as the demo makes it: an operational block for origin 60601
 * and $200 of funds, both signed with the demo provider's key, which also signs the rate
 * packages the kiosk installs. */
#define PSD_SERIAL 4300001
#define PSD_FUNDS (200 * PM_MILLS_PER_DOLLAR)

static void
prepare_psd (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *psd_dir = g_build_filename (state_dir, "psd", NULL);
  g_autofree char *pem = NULL;
  g_autoptr(PmSigningKey) provider = NULL;
  g_autoptr(PmVerifyKey) provider_public = NULL;
  g_autoptr(PmSoftwarePsd) psd = NULL;
  g_autoptr(PmVerifyKey) psd_key = NULL;
  g_autoptr(GBytes) block_bytes = NULL;
  g_autoptr(GBytes) refill = NULL;
  g_autoptr(PmPsdStatus) installed = NULL;
  g_autoptr(PmPsdStatus) refilled = NULL;
  PmOperationalBlock block = { 0 };
  PmPostageValueDownload download = { 0 };

  g_assert_true (g_file_get_contents (PM_SOURCE_DATADIR "/keys/demo-provider.key", &pem,
                                      NULL, &error));
  provider = pm_signing_key_new_from_pem (pem, -1, &error);
  g_assert_no_error (error);
  provider_public = pm_signing_key_get_verify_key (provider);

  g_assert_cmpint (g_mkdir_with_parents (psd_dir, 0700), ==, 0);
  psd = pm_software_psd_open (psd_dir, provider_public, PSD_SERIAL, &error);
  g_assert_no_error (error);
  psd_key = pm_psd_get_public_key (PM_PSD (psd));
  block.psd_serial = PSD_SERIAL;
  memcpy (block.psd_model, PM_SOFTWARE_PSD_MODEL, 5);
  g_assert_true (pm_psd_key_digest (psd_key, block.psd_key_digest));
  block.certificate_serial = 1;
  block.origin_zip = 60601;
  pm_operational_block_set_profile (&block, PM_POSTAL_PROFILE_IBI);
  block.max_funds = 1000 * PM_MILLS_PER_DOLLAR;
  block.max_postage = 100 * PM_MILLS_PER_DOLLAR;
  block.issued_at = pm_clock_now_s ();
  block_bytes = pm_operational_block_sign (&block, provider, &error);
  g_assert_no_error (error);
  installed = pm_psd_install_operational_block_sync (PM_PSD (psd), block_bytes, &error);
  g_assert_no_error (error);

  download.psd_serial = PSD_SERIAL;
  download.sequence = 1;
  download.amount = PSD_FUNDS;
  download.issued_at = pm_clock_now_s ();
  refill = pm_postage_value_download_sign (&download, provider, &error);
  g_assert_no_error (error);
  refilled = pm_psd_refill_sync (PM_PSD (psd), refill, &error);
  g_assert_no_error (error);
}

/* A further refill of the kiosk's PSD, signed with the demo provider's key as the data
 * center would sign it. */
static void
refill_psd (guint32 sequence,
            PmMills amount)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *pem = NULL;
  g_autoptr(PmSigningKey) provider = NULL;
  g_autoptr(GBytes) refill = NULL;
  g_autoptr(PmPsdStatus) refilled = NULL;
  PmPostageValueDownload download = { 0 };

  g_assert_true (g_file_get_contents (PM_SOURCE_DATADIR "/keys/demo-provider.key", &pem,
                                      NULL, &error));
  provider = pm_signing_key_new_from_pem (pem, -1, &error);
  g_assert_no_error (error);
  download.psd_serial = PSD_SERIAL;
  download.sequence = sequence;
  download.amount = amount;
  download.issued_at = pm_clock_now_s ();
  refill = pm_postage_value_download_sign (&download, provider, &error);
  g_assert_no_error (error);
  refilled = pm_psd_refill_sync (pm_application_get_psd (app), refill, &error);
  g_assert_no_error (error);
}

static void
start_application (void)
{
  g_autoptr(GError) error = NULL;

  state_dir = g_dir_make_tmp ("postmeter-kiosk-XXXXXX", &error);
  g_assert_no_error (error);
  prepare_psd ();

  /* The kiosk as a mailroom runs it: full screen, no decorations, under an X server
   * with no window manager to carry out the full-screen request. */
  app = pm_application_new ();
  g_object_set (app, "state-dir", state_dir, "windowed", FALSE, NULL);
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);
  g_application_activate (G_APPLICATION (app));
  g_assert_nonnull (window ());
}

static void
monitor_geometry (GdkRectangle *out_geometry)
{
  GListModel *monitors = gdk_display_get_monitors (gdk_display_get_default ());
  g_autoptr(GdkMonitor) monitor = g_list_model_get_item (monitors, 0);

  g_assert_nonnull (monitor);
  gdk_monitor_get_geometry (monitor, out_geometry);
}

static gboolean
window_fills_monitor (gpointer data)
{
  GtkWidget *widget = GTK_WIDGET (window ());
  GdkRectangle *geometry = data;

  return gtk_widget_get_mapped (widget) &&
         gtk_widget_get_width (widget) == geometry->width &&
         gtk_widget_get_height (widget) == geometry->height;
}

static void
test_first_start (void)
{
  GtkWidget *setup;
  GdkRectangle geometry;

  if (pm_kiosk_test_skip_reason () != NULL)
    {
      g_test_skip (pm_kiosk_test_skip_reason ());
      return;
    }

  start_application ();

  /* No window manager here honours full screen, so the kiosk must size itself to the
   * monitor (Xvfb's screen is 1280x800) rather than to its first page. */
  monitor_geometry (&geometry);
  g_assert_cmpint (geometry.width, ==, 1280);
  g_assert_cmpint (geometry.height, ==, 800);
  if (!wait_until (window_fills_monitor, &geometry))
    g_error ("The kiosk window is %dx%d, not the monitor's %dx%d",
             gtk_widget_get_width (GTK_WIDGET (window ())),
             gtk_widget_get_height (GTK_WIDGET (window ())), geometry.width,
             geometry.height);
  g_assert_false (gtk_window_get_decorated (GTK_WINDOW (window ())));
  g_assert_true (gtk_widget_has_css_class (GTK_WIDGET (window ()), "kiosk"));

  assert_page_soon ("setup");
  setup = page ("setup");
  g_assert_cmpstr (pm_setup_page_get_step (PM_SETUP_PAGE (setup)), ==, "name");
  save_screenshot ("first-start");

  /* No name: a plain message, and it stays on the name. */
  pm_kiosk_test_act (setup, "setup.next", NULL);
  g_assert_cmpstr (pm_setup_page_get_step (PM_SETUP_PAGE (setup)), ==, "name");
  g_assert_cmpstr (pm_setup_page_get_message (PM_SETUP_PAGE (setup)), ==,
                   "Type the supervisor's name first.");
}

static void
test_set_up_supervisor (void)
{
  GtkWidget *setup;
  g_autofree char *expected_toast = NULL;

  if (skip_without_display ())
    return;

  setup = page ("setup");
  pm_setup_page_set_name (PM_SETUP_PAGE (setup), "  " SUPERVISOR_NAME " ");
  pm_kiosk_test_act (setup, "setup.next", NULL);
  g_assert_cmpstr (pm_setup_page_get_step (PM_SETUP_PAGE (setup)), ==, "code");
  save_screenshot ("first-start-code");

  /* Too short a code is refused before any hashing. */
  type_code (setup, "setup", "12");
  g_assert_cmpstr (pm_setup_page_get_step (PM_SETUP_PAGE (setup)), ==, "code");
  g_assert_cmpstr (pm_setup_page_get_message (PM_SETUP_PAGE (setup)), ==,
                   "An access code has 4 to 8 digits. Try again.");

  /* Two different codes: start the code again. */
  type_code (setup, "setup", SUPERVISOR_CODE);
  g_assert_cmpstr (pm_setup_page_get_step (PM_SETUP_PAGE (setup)), ==, "confirm");
  type_code (setup, "setup", "1111");
  g_assert_cmpstr (pm_setup_page_get_step (PM_SETUP_PAGE (setup)), ==, "code");
  g_assert_cmpstr (pm_setup_page_get_message (PM_SETUP_PAGE (setup)), ==,
                   "The two codes were not the same. Choose a code again.");

  type_code (setup, "setup", SUPERVISOR_CODE);
  type_code (setup, "setup", SUPERVISOR_CODE);

  /* The new supervisor then unlocks like everyone else. */
  assert_page_soon ("lock");
  g_assert_null (pm_window_get_user (window ()));
  expected_toast = g_strdup_printf ("%s is set up as supervisor. Unlock with the new code.",
                                    SUPERVISOR_NAME);
  g_assert_cmpstr (pm_window_get_last_toast (window ()), ==, expected_toast);
  save_screenshot ("lock");
}

static void
test_wrong_code (void)
{
  GtkWidget *lock;

  if (skip_without_display ())
    return;

  lock = page ("lock");
  g_assert_true (wait_until (lock_page_idle, lock));

  type_code (lock, "lock", "");
  g_assert_cmpstr (pm_lock_page_get_message (PM_LOCK_PAGE (lock)), ==,
                   "Enter your access code first, then press Unlock.");

  type_code (lock, "lock", "123");
  g_assert_cmpstr (pm_lock_page_get_message (PM_LOCK_PAGE (lock)), ==,
                   "An access code has 4 to 8 digits. Try again.");

  type_code (lock, "lock", "97531");
  g_assert_true (wait_until (lock_page_idle, lock));
  g_assert_cmpstr (pm_window_get_page_name (window ()), ==, "lock");
  g_assert_null (pm_window_get_user (window ()));
  g_assert_cmpstr (pm_lock_page_get_message (PM_LOCK_PAGE (lock)), ==,
                   "That code is not right. Check it and try again.");
  save_screenshot ("lock-wrong-code");
}

static void
test_unlock (void)
{
  const PmUser *user;
  PmStatus *status;

  if (skip_without_display ())
    return;

  sign_in (SUPERVISOR_CODE, "home");
  user = pm_window_get_user (window ());
  g_assert_nonnull (user);
  g_assert_cmpstr (user->name, ==, SUPERVISOR_NAME);
  g_assert_cmpint (user->role, ==, PM_ROLE_SUPERVISOR);

  /* Nothing feeds the status line yet, so it says so. */
  status = pm_window_get_status (window ());
  for (PmStatusItem item = 0; item < PM_STATUS_N_ITEMS; item++)
    g_assert_cmpstr (pm_status_get_text (status, item), ==, "Unknown");

  save_screenshot ("home");
}


/* Print on envelopes ---------------------------------------------------------------------- */

static gboolean
mail_ready (gpointer data)
{
  return pm_mail_page_get_ready (PM_MAIL_PAGE (data));
}

static gboolean
mail_idle (gpointer data)
{
  return !pm_mail_page_get_busy (PM_MAIL_PAGE (data));
}

static gboolean
mail_funds_shown (gpointer data)
{
  const char *funds = pm_mail_page_get_funds_text (PM_MAIL_PAGE (data));

  return funds != NULL && funds[0] == '$';
}

typedef struct
{
  GtkWidget  *page;
  const char *text;
} WeightWait;

static gboolean
mail_weight_is (gpointer data)
{
  WeightWait *wait = data;

  return pm_mail_page_get_weight_stable (PM_MAIL_PAGE (wait->page)) &&
         g_strcmp0 (pm_mail_page_get_weight_text (PM_MAIL_PAGE (wait->page)), wait->text) == 0;
}

static void
mail_print (GtkWidget *mail)
{
  pm_kiosk_test_act (mail, "mail.print", NULL);
  if (!wait_until (mail_idle, mail))
    g_error ("Printing did not finish within %d s", WAIT_TIMEOUT_S);
}

static void
assert_mail_refused (GtkWidget  *mail,
                     const char *words)
{
  const char *message;

  mail_print (mail);
  message = pm_mail_page_get_message (PM_MAIL_PAGE (mail));
  g_assert_null (pm_mail_page_get_last_outcome (PM_MAIL_PAGE (mail)));
  g_assert_true (g_str_has_prefix (message, "Not printed; no postage was taken."));
  if (strstr (message, words) == NULL)
    g_error ("The screen says “%s”, not “%s”", message, words);
}

static void
put_piece (GtkWidget  *mail,
           const char *weight,
           const char *shown)
{
  WeightWait wait = { mail, shown };

  pm_kiosk_test_act (mail, "mail.put-piece", weight);
  if (!wait_until (mail_weight_is, &wait))
    g_error ("The scale did not settle at %s; the page shows %s", shown,
             pm_mail_page_get_weight_text (PM_MAIL_PAGE (mail)));
}

/* The first widget under @root, depth first, that @match accepts. */
static GtkWidget *
find_widget (GtkWidget  *root,
             gboolean  (*match) (GtkWidget *, gconstpointer),
             gconstpointer data)
{
  if (match (root, data))
    return root;
  for (GtkWidget *child = gtk_widget_get_first_child (root); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_widget (child, match, data);

      if (found != NULL)
        return found;
    }
  return NULL;
}

static gboolean
is_row_titled (GtkWidget     *widget,
               gconstpointer  title)
{
  return ADW_IS_PREFERENCES_ROW (widget) &&
         g_strcmp0 (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (widget)), title) == 0;
}

static gboolean
is_button_for (GtkWidget     *widget,
               gconstpointer  action)
{
  return GTK_IS_BUTTON (widget) &&
         g_strcmp0 (gtk_actionable_get_action_name (GTK_ACTIONABLE (widget)), action) == 0;
}

static gboolean
mail_print_sensitive (GtkWidget *mail)
{
  GtkWidget *button = find_widget (mail, is_button_for, "mail.print");

  g_assert_nonnull (button);
  return gtk_widget_get_sensitive (button);
}

/* The row titled @title lies wholly inside its scrolled column, unscrolled, and the
 * column inside the window above the status line: seen without scrolling. */
static void
assert_row_visible (GtkWidget  *mail,
                    const char *title)
{
  GtkWidget *row = find_widget (mail, is_row_titled, title);
  GtkWidget *scrolled;
  GtkAdjustment *vadjustment;
  graphene_rect_t in_column, column, page_bounds;

  g_assert_nonnull (row);
  g_assert_true (gtk_widget_get_mapped (row));
  scrolled = gtk_widget_get_ancestor (row, GTK_TYPE_SCROLLED_WINDOW);
  g_assert_nonnull (scrolled);
  vadjustment = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (scrolled));
  g_assert_cmpfloat (gtk_adjustment_get_value (vadjustment), ==, 0);
  g_assert_true (gtk_widget_compute_bounds (row, scrolled, &in_column));
  g_assert_cmpfloat (in_column.origin.y, >=, 0);
  if (in_column.origin.y + in_column.size.height > gtk_widget_get_height (scrolled))
    g_error ("The row “%s” ends at %.0f px, below its column's %d px", title,
             in_column.origin.y + in_column.size.height, gtk_widget_get_height (scrolled));
  g_assert_true (gtk_widget_compute_bounds (scrolled, mail, &column));
  g_assert_true (gtk_widget_compute_bounds (mail, mail, &page_bounds));
  g_assert_cmpfloat (column.origin.y + column.size.height, <=, page_bounds.size.height);
}

static void
test_mail_print_letter (void)
{
  GtkWidget *mail;
  const PmPrintOutcome *outcome;
  g_autofree char *png = NULL;
  g_autoptr(GBytes) scanned = NULL;
  g_autoptr(PmVerifyKey) key = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GDate) today = NULL;
  PmIndicium indicium;

  if (skip_without_display ())
    return;

  gtk_widget_activate_action (GTK_WIDGET (window ()), "win.open-page", "s", "mail");
  g_assert_cmpstr (pm_window_get_page_name (window ()), ==, "mail");
  mail = page ("mail");
  if (!wait_until (mail_ready, mail))
    g_error ("The Mail page did not get its devices: %s",
             pm_mail_page_get_message (PM_MAIL_PAGE (mail)));
  g_assert_true (wait_until (mail_funds_shown, mail));
  g_assert_cmpstr (pm_mail_page_get_funds_text (PM_MAIL_PAGE (mail)), ==, "$200.00");
  save_screenshot ("mail-empty");

  /* On the 1280x800 screen every row of the piece shows without scrolling, down to the
   * last ones, even with the demonstration scale's buttons above them. */
  g_assert_cmpint (gtk_widget_get_height (GTK_WIDGET (window ())), ==, 800);
  {
    g_autoptr(GSettings) settings = g_settings_new (PM_SETTINGS_SCHEMA);

    g_settings_set_boolean (settings, PM_SETTINGS_DEMO_CONTROLS, TRUE);
    pm_mail_page_refresh (PM_MAIL_PAGE (mail));
    pm_kiosk_test_spin_for_ms (300);
    g_assert_true (gtk_widget_get_mapped (find_widget (mail, is_button_for,
                                                       "mail.take-piece")));
    assert_row_visible (mail, "Date of mailing");
    assert_row_visible (mail, "Cost account");
    save_screenshot ("mail-demo-scale");
    g_settings_set_boolean (settings, PM_SETTINGS_DEMO_CONTROLS, FALSE);
    pm_mail_page_refresh (PM_MAIL_PAGE (mail));
  }

  /* Nothing on the scale: refused, and nothing taken. */
  pm_kiosk_test_act (mail, "mail.select-class", "first-class-letter");
  g_assert_false (mail_print_sensitive (mail));
  assert_mail_refused (mail, "There is no piece on the scale");
  save_screenshot ("mail-refused-no-piece");

  /* A letter on the scale: the weight settles and the 2026 metered price shows; Print is
   * offered and the refusal, about no piece, is gone. */
  put_piece (mail, "0.9 oz", "0.9 oz");
  g_assert_cmpstr (pm_mail_page_get_postage_text (PM_MAIL_PAGE (mail)), ==, "$0.78");
  g_assert_true (mail_print_sensitive (mail));
  g_assert_null (pm_mail_page_get_message (PM_MAIL_PAGE (mail)));
  save_screenshot ("mail-weighed");

  /* A malformed ZIP is refused before any debit. */
  pm_kiosk_test_act (mail, "mail.set-destination", "2000");
  g_assert_false (mail_print_sensitive (mail));
  assert_mail_refused (mail, "“2000” is not a ZIP Code");
  save_screenshot ("mail-refused-zip");

  /* Corrected: the refusal goes with the bad ZIP. */
  pm_kiosk_test_act (mail, "mail.set-destination", "20001-0005");
  g_assert_null (pm_mail_page_get_message (PM_MAIL_PAGE (mail)));
  g_assert_true (mail_print_sensitive (mail));
  mail_print (mail);
  outcome = pm_mail_page_get_last_outcome (PM_MAIL_PAGE (mail));
  g_assert_nonnull (outcome);
  g_assert_cmpint (outcome->kind, ==, PM_PRINT_OUTCOME_PRINTED);
  g_assert_cmpstr (pm_mail_page_get_message (PM_MAIL_PAGE (mail)), ==, "Printed $0.78.");
  g_assert_cmpstr (pm_mail_page_get_batch_text (PM_MAIL_PAGE (mail)), ==, "1 piece, $0.78");
  g_assert_true (wait_until (mail_funds_shown, mail));
  save_screenshot ("mail-printed");

  /* The printed image, read back with libdmtx and checked with the PSD's key. */
  png = g_strdup_printf ("%s/printed/%s.png", state_dir, outcome->job_id);
  scanned = pm_indicium_scan_png (png, &error);
  g_assert_no_error (error);
  key = pm_psd_get_public_key (pm_application_get_psd (app));
  g_assert_true (pm_indicium_verify (g_bytes_get_data (scanned, NULL),
                                     g_bytes_get_size (scanned), key, &indicium, &error));
  g_assert_no_error (error);
  today = pm_clock_today_local ();
  g_assert_cmpint (indicium.postage, ==, 780);
  g_assert_cmpuint (indicium.date_of_mailing, ==, pm_indicium_date_from_gdate (today));
  g_assert_cmpuint (indicium.origin_zip, ==, 60601);
  g_assert_cmpuint (indicium.destination_zip, ==, 200010005);
  g_assert_cmpuint (indicium.device_serial, ==, PSD_SERIAL);
  g_assert_cmpuint (indicium.rate_category, ==, PM_RATE_CATEGORY_FIRST_CLASS_LETTER);
  g_assert_cmpint (indicium.descending, ==, PSD_FUNDS - 780);
  g_assert_true (indicium.flags & PM_INDICIUM_FLAG_SPECIMEN);
}

static gboolean
mail_today_is (gpointer data)
{
  return pm_mail_page_get_today_count (PM_MAIL_PAGE (page ("mail"))) == GPOINTER_TO_INT (data);
}

static void
test_mail_refusals_and_modes (void)
{
  GtkWidget *mail;
  const PmPrintOutcome *outcome;

  if (skip_without_display ())
    return;

  mail = page ("mail");
  g_assert_true (wait_until (mail_today_is, GINT_TO_POINTER (1)));

  /* Too heavy for a letter: the class limit, in plain words. */
  put_piece (mail, "4 oz", "4 oz");
  g_assert_cmpstr (pm_mail_page_get_postage_text (PM_MAIL_PAGE (mail)), ==, "—");
  g_assert_false (mail_print_sensitive (mail));
  assert_mail_refused (mail, "3.5 oz");
  save_screenshot ("mail-refused-too-heavy");

  /* A typed weight for a piece too big for the platform: a new piece, so the refusal
   * goes and Print is offered again. */
  pm_kiosk_test_act (mail, "mail.set-manual-weight", "2.5 oz");
  g_assert_cmpstr (pm_mail_page_get_postage_text (PM_MAIL_PAGE (mail)), ==, "$1.36");
  g_assert_null (pm_mail_page_get_message (PM_MAIL_PAGE (mail)));
  g_assert_true (mail_print_sensitive (mail));
  mail_print (mail);
  outcome = pm_mail_page_get_last_outcome (PM_MAIL_PAGE (mail));
  g_assert_nonnull (outcome);
  g_assert_cmpint (outcome->postage, ==, 1360);
  pm_kiosk_test_act (mail, "mail.set-manual-weight", "");

  /* Key-in above the threshold needs a confirmation; then it prints. */
  pm_kiosk_test_act (mail, "mail.select-mode", "key-in");
  pm_kiosk_test_act (mail, "mail.set-amount", "25.00");
  assert_mail_refused (mail, "Confirm the amount");
  save_screenshot ("mail-key-in-confirm");
  pm_kiosk_test_act (mail, "mail.print-confirmed", NULL);
  g_assert_true (wait_until (mail_idle, mail));
  outcome = pm_mail_page_get_last_outcome (PM_MAIL_PAGE (mail));
  g_assert_nonnull (outcome);
  g_assert_cmpint (outcome->postage, ==, 25000);

  /* A date stamp for incoming mail takes nothing. */
  pm_kiosk_test_act (mail, "mail.select-mode", "date-stamp");
  mail_print (mail);
  outcome = pm_mail_page_get_last_outcome (PM_MAIL_PAGE (mail));
  g_assert_nonnull (outcome);
  g_assert_cmpint (outcome->postage, ==, 0);
  g_assert_true (g_str_has_prefix (outcome->job_id, "date-stamp-"));

  /* Re-date and graphic only (the endorsement in data/graphics) take nothing either. */
  pm_kiosk_test_act (mail, "mail.select-mode", "re-date");
  mail_print (mail);
  outcome = pm_mail_page_get_last_outcome (PM_MAIL_PAGE (mail));
  g_assert_nonnull (outcome);
  g_assert_cmpint (outcome->postage, ==, 0);
  g_assert_true (g_str_has_prefix (outcome->job_id, "re-date-"));
  pm_kiosk_test_act (mail, "mail.select-mode", "graphic");
  mail_print (mail);
  outcome = pm_mail_page_get_last_outcome (PM_MAIL_PAGE (mail));
  g_assert_nonnull (outcome);
  g_assert_cmpint (outcome->postage, ==, 0);
  g_assert_true (g_str_has_prefix (outcome->job_id, "graphic-"));
  {
    g_autofree char *pdf = g_strdup_printf ("%s/printed/%s.pdf", state_dir, outcome->job_id);

    g_assert_true (g_file_test (pdf, G_FILE_TEST_IS_REGULAR));
  }
  g_assert_cmpstr (pm_mail_page_get_batch_text (PM_MAIL_PAGE (mail)), ==,
                   "3 pieces, $27.14");

  pm_kiosk_test_act (mail, "mail.select-mode", "postage");
  pm_kiosk_test_act (mail, "mail.take-piece", NULL);
  g_assert_true (wait_until (mail_today_is, GINT_TO_POINTER (3)));
  save_screenshot ("mail-today");

  pm_kiosk_test_act (mail, "mail.reset-batch", NULL);
  g_assert_cmpstr (pm_mail_page_get_batch_text (PM_MAIL_PAGE (mail)), ==,
                   "0 pieces, $0.00");
  gtk_widget_activate_action (GTK_WIDGET (window ()), "win.go-home", NULL);
}

static gboolean
mail_message_is (gpointer data)
{
  return g_strcmp0 (pm_mail_page_get_message (PM_MAIL_PAGE (page ("mail"))), data) == 0;
}

static gboolean
mail_preset_is (gpointer data)
{
  return g_strcmp0 (pm_mail_page_get_preset (PM_MAIL_PAGE (page ("mail"))), data) == 0;
}

static void
test_mail_presets (void)
{
  GtkWidget *mail;
  g_autofree char *class_code = NULL;

  if (skip_without_display ())
    return;

  gtk_widget_activate_action (GTK_WIDGET (window ()), "win.open-page", "s", "mail");
  mail = page ("mail");
  g_assert_true (wait_until (mail_ready, mail));

  /* Large envelopes with a key-in amount, saved together under one name. */
  pm_kiosk_test_act (mail, "mail.select-class", "first-class-flat");
  pm_kiosk_test_act (mail, "mail.select-mode", "key-in");
  pm_kiosk_test_act (mail, "mail.save-preset", "");
  g_assert_cmpstr (pm_mail_page_get_message (PM_MAIL_PAGE (mail)), ==,
                   "Type a name for the preset first.");
  pm_kiosk_test_act (mail, "mail.save-preset", "Flats keyed in");
  if (!wait_until (mail_message_is, "The preset is saved."))
    g_error ("Saving the preset: %s", pm_mail_page_get_message (PM_MAIL_PAGE (mail)));

  /* Back to letters, then one touch brings the preset's choices back. */
  pm_kiosk_test_act (mail, "mail.select-class", "first-class-letter");
  pm_kiosk_test_act (mail, "mail.select-mode", "postage");
  pm_kiosk_test_act (mail, "mail.apply-preset", "Flats keyed in");
  g_assert_true (wait_until (mail_preset_is, "Flats keyed in"));
  class_code = pm_mail_page_dup_class (PM_MAIL_PAGE (mail));
  g_assert_cmpstr (class_code, ==, "first-class-flat");
  g_assert_cmpstr (pm_mail_page_get_mode (PM_MAIL_PAGE (mail)), ==, "key-in");

  /* The supervisor makes it the default. */
  pm_kiosk_test_act (mail, "mail.default-preset", "Flats keyed in");
  if (!wait_until (mail_message_is, "The Mail screen now starts with this preset."))
    g_error ("Setting the default: %s", pm_mail_page_get_message (PM_MAIL_PAGE (mail)));
  save_screenshot ("mail-preset");

  pm_kiosk_test_act (mail, "mail.select-mode", "postage");
  gtk_widget_activate_action (GTK_WIDGET (window ()), "win.go-home", NULL);
}

/* A Ground Advantage parcel priced by zone from the shipped zone chart of origin 606.
 * The date of mailing is today's: the holiday table of 4 Oct 2026 (no end date known)
 * prices 1 lb to zone 8 at $13.65. */
static void
test_mail_zone_parcel (void)
{
  GtkWidget *mail;
  const PmPrintOutcome *outcome;
  g_autofree char *png = NULL;
  g_autofree char *funds = NULL;
  g_autoptr(GBytes) scanned = NULL;
  g_autoptr(PmVerifyKey) key = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GDate) today = NULL;
  g_autoptr(PmPsdStatus) before = NULL;
  g_autoptr(PmPsdStatus) after = NULL;
  PmIndicium indicium;

  if (skip_without_display ())
    return;

  gtk_widget_activate_action (GTK_WIDGET (window ()), "win.open-page", "s", "mail");
  mail = page ("mail");
  g_assert_true (wait_until (mail_ready, mail));
  pm_kiosk_test_act (mail, "mail.select-mode", "postage");
  pm_kiosk_test_act (mail, "mail.take-piece", NULL);
  pm_kiosk_test_act (mail, "mail.select-class", "ground-advantage-parcel");
  pm_kiosk_test_act (mail, "mail.set-destination", "");
  put_piece (mail, "1 lb", "1 lb");
  g_assert_true (wait_until (mail_funds_shown, mail));
  before = pm_psd_get_status_sync (pm_application_get_psd (app), &error);
  g_assert_no_error (error);

  /* No destination: the page says it is needed, and Print is refused. */
  g_assert_cmpstr (pm_mail_page_get_destination_text (PM_MAIL_PAGE (mail)), ==,
                   "Needed: the price depends on the zone");
  g_assert_cmpstr (pm_mail_page_get_postage_text (PM_MAIL_PAGE (mail)), ==, "—");
  save_screenshot ("mail-zone-no-destination");
  assert_mail_refused (mail, "enter the destination ZIP");

  pm_kiosk_test_act (mail, "mail.set-destination", "9410");
  assert_mail_refused (mail, "“9410” is not a ZIP Code");

  /* 002 is not in use: no zone, and none guessed. */
  pm_kiosk_test_act (mail, "mail.set-destination", "00212");
  assert_mail_refused (mail, "00212 is not in the zone chart for origin 606");

  after = pm_psd_get_status_sync (pm_application_get_psd (app), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (after->piece_count, ==, before->piece_count);
  g_assert_cmpint (after->descending, ==, before->descending);
  g_clear_pointer (&after, pm_psd_status_free);

  /* San Francisco is zone 8 from Chicago. */
  pm_kiosk_test_act (mail, "mail.set-destination", "94105");
  g_assert_cmpstr (pm_mail_page_get_postage_text (PM_MAIL_PAGE (mail)), ==, "$13.65");
  g_assert_cmpstr (pm_mail_page_get_destination_text (PM_MAIL_PAGE (mail)), ==,
                   "Zone 8 from 60601 (older zone chart: check it at postcalc.usps.com)");
  save_screenshot ("mail-zone-priced");
  mail_print (mail);
  outcome = pm_mail_page_get_last_outcome (PM_MAIL_PAGE (mail));
  g_assert_nonnull (outcome);
  g_assert_cmpint (outcome->kind, ==, PM_PRINT_OUTCOME_PRINTED);
  g_assert_cmpint (outcome->postage, ==, 13650);
  g_assert_cmpstr (pm_mail_page_get_message (PM_MAIL_PAGE (mail)), ==, "Printed $13.65.");
  save_screenshot ("mail-zone-printed");

  png = g_strdup_printf ("%s/printed/%s.png", state_dir, outcome->job_id);
  scanned = pm_indicium_scan_png (png, &error);
  g_assert_no_error (error);
  key = pm_psd_get_public_key (pm_application_get_psd (app));
  g_assert_true (pm_indicium_verify (g_bytes_get_data (scanned, NULL),
                                     g_bytes_get_size (scanned), key, &indicium, &error));
  g_assert_no_error (error);
  today = pm_clock_today_local ();
  g_assert_cmpint (indicium.postage, ==, 13650);
  g_assert_cmpuint (indicium.date_of_mailing, ==, pm_indicium_date_from_gdate (today));
  g_assert_cmpuint (indicium.origin_zip, ==, 60601);
  g_assert_cmpuint (indicium.destination_zip, ==, 941050000);
  g_assert_cmpuint (indicium.rate_category, ==, PM_RATE_CATEGORY_GROUND_ADVANTAGE);
  g_assert_cmpint (indicium.descending, ==, before->descending - 13650);
  g_assert_true (indicium.flags & PM_INDICIUM_FLAG_SPECIMEN);

  after = pm_psd_get_status_sync (pm_application_get_psd (app), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (after->piece_count, ==, before->piece_count + 1);
  g_assert_cmpint (after->descending, ==, before->descending - 13650);

  pm_kiosk_test_act (mail, "mail.take-piece", NULL);
  pm_kiosk_test_act (mail, "mail.select-class", "first-class-letter");
  pm_kiosk_test_act (mail, "mail.set-destination", "");
  gtk_widget_activate_action (GTK_WIDGET (window ()), "win.go-home", NULL);
}

static gboolean
mail_low_funds_shown (gpointer data)
{
  return pm_mail_page_get_low_funds_warning (PM_MAIL_PAGE (data)) != NULL;
}

static gboolean
settings_thresholds_are (gpointer data)
{
  PmSettingsPage *settings = PM_SETTINGS_PAGE (page ("settings"));
  const char **expected = data;

  return g_strcmp0 (pm_settings_page_get_low_funds_text (settings), expected[0]) == 0 &&
         g_strcmp0 (pm_settings_page_get_key_in_text (settings), expected[1]) == 0;
}

static gboolean
settings_message_is (gpointer data)
{
  return g_strcmp0 (pm_settings_page_get_printing_message (PM_SETTINGS_PAGE (page ("settings"))),
                    data) == 0;
}

static gint64
store_setting (const char *key)
{
  g_autoptr(GError) error = NULL;
  gint64 value = -1;

  g_assert_true (pm_store_get_setting_int (pm_application_get_store (app), key, -1, &value,
                                           &error));
  g_assert_no_error (error);
  return value;
}

/* A bad threshold is refused in plain words and nothing is written. */
static void
assert_threshold_refused (GtkWidget  *settings,
                          const char *low_funds,
                          const char *key_in,
                          const char *words)
{
  const char *message;

  pm_kiosk_test_act (settings, "settings.set-low-funds", low_funds);
  pm_kiosk_test_act (settings, "settings.set-key-in-threshold", key_in);
  pm_kiosk_test_act (settings, "settings.save-printing", NULL);
  message = pm_settings_page_get_printing_message (PM_SETTINGS_PAGE (settings));
  g_assert_nonnull (message);
  if (strstr (message, words) == NULL)
    g_error ("Settings say “%s”, not “%s”", message, words);
  g_assert_cmpint (store_setting (PM_STORE_SETTING_LOW_FUNDS_MILLS), ==, -1);
  g_assert_cmpint (store_setting (PM_STORE_SETTING_KEY_IN_CONFIRM_MILLS), ==, -1);
}

static void
save_thresholds (GtkWidget  *settings,
                 const char *low_funds,
                 const char *key_in)
{
  pm_kiosk_test_act (settings, "settings.set-low-funds", low_funds);
  pm_kiosk_test_act (settings, "settings.set-key-in-threshold", key_in);
  pm_kiosk_test_act (settings, "settings.save-printing", NULL);
  if (!wait_until (settings_message_is, "The printing thresholds are saved."))
    g_error ("Saving the thresholds: %s",
             pm_settings_page_get_printing_message (PM_SETTINGS_PAGE (settings)));
}

/* The supervisor sets the Mail page's two thresholds in Settings; the print flow and the
 * Mail page follow them at once; operators see them but cannot change them. */
static void
test_settings_printing_thresholds (void)
{
  GtkWidget *settings;
  GtkWidget *mail;
  const PmPrintOutcome *outcome;
  const char *defaults[] = { "$50.00", "$20.00" };
  const char *saved[] = { "$300.00", "$30.00" };
  const PmUser *supervisor;
  PmUser operator = { 0 };
  g_autoptr(GPtrArray) audit = NULL;
  g_autoptr(GError) error = NULL;
  PmAuditEntry *entry;

  if (skip_without_display ())
    return;

  gtk_widget_activate_action (GTK_WIDGET (window ()), "win.open-page", "s", "settings");
  assert_page_soon ("settings");
  settings = page ("settings");
  if (!wait_until (settings_thresholds_are, defaults))
    g_error ("Settings show %s and %s, not the defaults",
             pm_settings_page_get_low_funds_text (PM_SETTINGS_PAGE (settings)),
             pm_settings_page_get_key_in_text (PM_SETTINGS_PAGE (settings)));
  g_assert_true (pm_settings_page_get_printing_editable (PM_SETTINGS_PAGE (settings)));
  save_screenshot ("settings-printing");

  /* Each bad amount: a plain message, and nothing saved. */
  assert_threshold_refused (settings, "fifty", "20", "Low-funds warning");
  assert_threshold_refused (settings, "50", "", "Key-in confirmation: type an amount");
  assert_threshold_refused (settings, "-5", "20", "Low-funds warning");
  assert_threshold_refused (settings, "50", "12.3456", "Key-in confirmation");
  assert_threshold_refused (settings, "50", "20000", "Key-in confirmation: at most "
                                                     "$10,000.00.");
  save_screenshot ("settings-printing-refused");

  /* Saved: in the store, audited under the supervisor's name, and in the print flow. */
  save_thresholds (settings, "300", "$30.00");
  g_assert_true (wait_until (settings_thresholds_are, saved));
  save_screenshot ("settings-printing-saved");
  g_assert_cmpint (store_setting (PM_STORE_SETTING_LOW_FUNDS_MILLS), ==, 300000);
  g_assert_cmpint (store_setting (PM_STORE_SETTING_KEY_IN_CONFIRM_MILLS), ==, 30000);
  g_assert_cmpint (pm_print_flow_get_key_in_threshold (pm_application_get_print_flow (app)),
                   ==, 30000);
  supervisor = pm_window_get_user (window ());
  audit = pm_store_list_audit (pm_application_get_store (app), 0, 10000, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (audit->len, >=, 2);
  for (guint i = audit->len - 2; i < audit->len; i++)
    {
      entry = g_ptr_array_index (audit, i);
      g_assert_cmpstr (entry->event, ==, PM_AUDIT_SETTING);
      g_assert_cmpint (entry->user_id, ==, supervisor->id);
    }
  g_assert_cmpstr (((PmAuditEntry *) g_ptr_array_index (audit, audit->len - 2))->detail, ==,
                   "low-funds-threshold-mills = 300000");
  g_assert_cmpstr (((PmAuditEntry *) g_ptr_array_index (audit, audit->len - 1))->detail, ==,
                   "key-in-confirm-threshold-mills = 30000");

  /* The same value again writes nothing. */
  pm_kiosk_test_act (settings, "settings.save-printing", NULL);
  g_assert_cmpstr (pm_settings_page_get_printing_message (PM_SETTINGS_PAGE (settings)), ==,
                   "Nothing changed.");

  /* An operator sees the thresholds and cannot change them. */
  operator.name = (char *) OPERATOR_NAME;
  operator.role = PM_ROLE_OPERATOR;
  operator.id = supervisor->id + 100;
  pm_settings_page_set_user (PM_SETTINGS_PAGE (settings), &operator);
  g_assert_false (pm_settings_page_get_printing_editable (PM_SETTINGS_PAGE (settings)));
  g_assert_true (wait_until (settings_thresholds_are, saved));
  save_screenshot ("settings-printing-operator");
  pm_kiosk_test_act (settings, "settings.set-low-funds", "1");
  pm_kiosk_test_act (settings, "settings.save-printing", NULL);
  g_assert_cmpstr (pm_settings_page_get_printing_message (PM_SETTINGS_PAGE (settings)), ==,
                   "Only a supervisor can change the printing thresholds.");
  g_assert_cmpint (store_setting (PM_STORE_SETTING_LOW_FUNDS_MILLS), ==, 300000);
  pm_settings_page_set_user (PM_SETTINGS_PAGE (settings), supervisor);

  /* On the Mail page: the warning below $300.00, and a $25.00 key-in without the second
   * touch, now that only amounts above $30.00 need it. */
  gtk_widget_activate_action (GTK_WIDGET (window ()), "win.open-page", "s", "mail");
  mail = page ("mail");
  g_assert_true (wait_until (mail_ready, mail));
  if (!wait_until (mail_low_funds_shown, mail))
    g_error ("No low-funds warning with $300.00 as the threshold");
  g_assert_cmpstr (pm_mail_page_get_low_funds_warning (PM_MAIL_PAGE (mail)), ==,
                   "Funds are low (below $300.00). Add funds from the Funds screen.");
  pm_kiosk_test_act (mail, "mail.select-mode", "key-in");
  pm_kiosk_test_act (mail, "mail.select-class", "first-class-letter");
  pm_kiosk_test_act (mail, "mail.set-destination", "20001");
  pm_kiosk_test_act (mail, "mail.set-amount", "25.00");
  mail_print (mail);
  outcome = pm_mail_page_get_last_outcome (PM_MAIL_PAGE (mail));
  g_assert_nonnull (outcome);
  g_assert_cmpint (outcome->kind, ==, PM_PRINT_OUTCOME_PRINTED);
  g_assert_cmpint (outcome->postage, ==, 25000);
  pm_kiosk_test_act (mail, "mail.set-amount", "35.00");
  assert_mail_refused (mail, "Confirm the amount");
  pm_kiosk_test_act (mail, "mail.set-amount", "");
  pm_kiosk_test_act (mail, "mail.select-mode", "postage");
  pm_kiosk_test_act (mail, "mail.set-destination", "");

  /* Back to the defaults, through the same screen. */
  gtk_widget_activate_action (GTK_WIDGET (window ()), "win.open-page", "s", "settings");
  g_assert_true (wait_until (settings_thresholds_are, saved));
  save_thresholds (settings, "50", "20");
  g_assert_true (wait_until (settings_thresholds_are, defaults));
  g_assert_cmpint (pm_print_flow_get_key_in_threshold (pm_application_get_print_flow (app)),
                   ==, 20000);
  gtk_widget_activate_action (GTK_WIDGET (window ()), "win.go-home", NULL);
}

static PmPsdStatus *
psd_status (void)
{
  g_autoptr(GError) error = NULL;
  PmPsdStatus *status = pm_psd_get_status_sync (pm_application_get_psd (app), &error);

  g_assert_no_error (error);
  return status;
}

/* The PSD's registers and piece count are what they were. */
static void
assert_nothing_debited (const PmPsdStatus *before)
{
  g_autoptr(PmPsdStatus) after = psd_status ();

  g_assert_cmpuint (after->piece_count, ==, before->piece_count);
  g_assert_cmpint (after->descending, ==, before->descending);
  g_assert_cmpint (after->ascending, ==, before->ascending);
}

/* A parcel dearer than what the PSD holds: refused in plain words, nothing debited. */
static void
test_mail_funds_short (void)
{
  GtkWidget *mail;
  const PmPrintOutcome *outcome;
  g_autoptr(PmPsdStatus) before = NULL;
  g_autofree char *holds = NULL;
  g_autofree char *words = NULL;

  if (skip_without_display ())
    return;

  gtk_widget_activate_action (GTK_WIDGET (window ()), "win.open-page", "s", "mail");
  mail = page ("mail");
  g_assert_true (wait_until (mail_ready, mail));

  /* Bring the funds under $40.85 with one confirmed key-in of $99.00. */
  pm_kiosk_test_act (mail, "mail.select-mode", "key-in");
  pm_kiosk_test_act (mail, "mail.select-class", "first-class-letter");
  pm_kiosk_test_act (mail, "mail.set-destination", "20001");
  pm_kiosk_test_act (mail, "mail.set-amount", "99.00");
  assert_mail_refused (mail, "Confirm the amount");
  pm_kiosk_test_act (mail, "mail.print-confirmed", NULL);
  g_assert_true (wait_until (mail_idle, mail));
  outcome = pm_mail_page_get_last_outcome (PM_MAIL_PAGE (mail));
  g_assert_nonnull (outcome);
  g_assert_cmpint (outcome->postage, ==, 99000);
  pm_kiosk_test_act (mail, "mail.set-amount", "");
  before = psd_status ();
  g_assert_cmpint (before->descending, <, 40850);
  g_assert_cmpint (before->descending, >, 0);

  /* 10 lb of Ground Advantage to zone 8 in the 2026 holiday prices: $40.85. */
  pm_kiosk_test_act (mail, "mail.select-mode", "postage");
  pm_kiosk_test_act (mail, "mail.select-class", "ground-advantage-parcel");
  pm_kiosk_test_act (mail, "mail.set-destination", "94105");
  pm_kiosk_test_act (mail, "mail.take-piece", NULL);
  put_piece (mail, "10 lb", "10 lb");
  g_assert_cmpstr (pm_mail_page_get_postage_text (PM_MAIL_PAGE (mail)), ==, "$40.85");
  holds = pm_money_format (before->descending);
  words = g_strdup_printf ("Not enough funds: the piece needs $40.85 and the meter holds "
                           "%s. Add funds from the Funds screen.", holds);
  assert_mail_refused (mail, words);
  save_screenshot ("mail-refused-funds-short");
  assert_nothing_debited (before);
  g_assert_cmpstr (pm_mail_page_get_funds_text (PM_MAIL_PAGE (mail)), ==, holds);

  /* Funds again for what follows, as a refill from the data center would bring them. */
  refill_psd (2, 100 * PM_MILLS_PER_DOLLAR);
  pm_kiosk_test_act (mail, "mail.take-piece", NULL);
  pm_kiosk_test_act (mail, "mail.select-class", "first-class-letter");
  pm_kiosk_test_act (mail, "mail.set-destination", "");
  gtk_widget_activate_action (GTK_WIDGET (window ()), "win.go-home", NULL);
}

/* The injected clock past the inspection's grace (IBI: printing stops 120 days after the
 * last inspection): refused in plain words, nothing debited. This runs last among the
 * printing tests, because the PSD then locks itself until the data center inspects it;
 * the inspection is checked before any other lock, so its refusal is the one shown. */
static void
test_mail_inspection_overdue (void)
{
  GtkWidget *mail;
  g_autoptr(PmPsdStatus) before = NULL;

  if (skip_without_display ())
    return;

  before = psd_status ();
  pm_clock_set_override_us (pm_clock_now_us () + (gint64) 121 * 24 * 3600 * G_USEC_PER_SEC);

  /* So long idle, the window locks itself: sign in again. */
  sign_in (SUPERVISOR_CODE, "home");
  gtk_widget_activate_action (GTK_WIDGET (window ()), "win.open-page", "s", "mail");
  mail = page ("mail");
  g_assert_true (wait_until (mail_ready, mail));
  pm_kiosk_test_act (mail, "mail.select-mode", "postage");
  pm_kiosk_test_act (mail, "mail.select-class", "first-class-letter");
  pm_kiosk_test_act (mail, "mail.set-destination", "20001");
  pm_kiosk_test_act (mail, "mail.set-manual-weight", "1 oz");
  assert_mail_refused (mail, "The meter's inspection is overdue, so it may not print "
                             "postage. Connect to the data center from Funds to be "
                             "inspected.");
  save_screenshot ("mail-refused-inspection-overdue");
  assert_nothing_debited (before);

  pm_kiosk_test_act (mail, "mail.set-manual-weight", "");
  pm_kiosk_test_act (mail, "mail.set-destination", "");
  pm_clock_clear_override ();
  gtk_widget_activate_action (GTK_WIDGET (window ()), "win.go-home", NULL);
}

static guint32
indicium_date_of (const PmPrintOutcome *outcome)
{
  g_autoptr(GError) error = NULL;
  PmIndicium indicium;

  g_assert_nonnull (outcome);
  g_assert_true (pm_indicium_decode (g_bytes_get_data (outcome->indicium, NULL),
                                     g_bytes_get_size (outcome->indicium), &indicium,
                                     &error));
  return indicium.date_of_mailing;
}

static guint32
local_date (int days_ahead)
{
  g_autoptr(GDate) day = pm_clock_today_local ();

  g_date_add_days (day, days_ahead);
  return pm_indicium_date_from_gdate (day);
}

static void
test_mail_dates (void)
{
  GtkWidget *mail;
  g_autoptr(GDateTime) now = NULL;
  g_autoptr(GDateTime) before_midnight = NULL;
  g_autofree char *shown = NULL;
  guint32 today;

  if (skip_without_display ())
    return;

  gtk_widget_activate_action (GTK_WIDGET (window ()), "win.open-page", "s", "mail");
  mail = page ("mail");
  g_assert_true (wait_until (mail_ready, mail));
  pm_kiosk_test_act (mail, "mail.select-mode", "postage");
  pm_kiosk_test_act (mail, "mail.select-class", "first-class-letter");
  pm_kiosk_test_act (mail, "mail.set-manual-weight", "1 oz");

  /* One second before local midnight, then two seconds later: the date rolls over. */
  now = pm_clock_now_local ();
  before_midnight = g_date_time_new_local (g_date_time_get_year (now),
                                           g_date_time_get_month (now),
                                           g_date_time_get_day_of_month (now), 23, 59, 59);
  pm_clock_set_override_us (g_date_time_to_unix (before_midnight) * G_USEC_PER_SEC);
  today = local_date (0);
  pm_mail_page_update (PM_MAIL_PAGE (mail));
  shown = pm_indicium_format_date (today);
  g_assert_cmpstr (pm_mail_page_get_date_text (PM_MAIL_PAGE (mail)), ==, shown);
  mail_print (mail);
  g_assert_cmpuint (indicium_date_of (pm_mail_page_get_last_outcome (PM_MAIL_PAGE (mail))),
                    ==, today);

  pm_clock_advance_s (2);
  pm_mail_page_update (PM_MAIL_PAGE (mail));
  g_free (shown);
  shown = pm_indicium_format_date (local_date (0));
  g_assert_cmpuint (local_date (0), !=, today);
  g_assert_cmpstr (pm_mail_page_get_date_text (PM_MAIL_PAGE (mail)), ==, shown);
  mail_print (mail);
  g_assert_cmpuint (indicium_date_of (pm_mail_page_get_last_outcome (PM_MAIL_PAGE (mail))),
                    ==, local_date (0));

  /* Back to the real time. Moving the clock to midnight may have tripped the idle lock:
   * sign in again. */
  pm_clock_clear_override ();
  pm_kiosk_test_spin_for_ms (1100);
  if (page_is ("lock"))
    {
      sign_in (SUPERVISOR_CODE, "home");
      gtk_widget_activate_action (GTK_WIDGET (window ()), "win.open-page", "s", "mail");
    }

  /* Dated 30 days ahead, the most allowed; then never back to today. */
  g_assert_true (gtk_widget_activate_action (mail, "mail.set-days-ahead", "i", 30));
  mail_print (mail);
  g_assert_cmpuint (indicium_date_of (pm_mail_page_get_last_outcome (PM_MAIL_PAGE (mail))),
                    ==, local_date (30));
  save_screenshot ("mail-dated-ahead");
  g_assert_true (gtk_widget_activate_action (mail, "mail.set-days-ahead", "i", 0));
  assert_mail_refused (mail, "never dated back");
  save_screenshot ("mail-refused-date-back");

  pm_kiosk_test_act (mail, "mail.set-manual-weight", "");
  gtk_widget_activate_action (GTK_WIDGET (window ()), "win.go-home", NULL);
}

static gboolean
mail_settling (gpointer data)
{
  const char *weight = pm_mail_page_get_weight_text (PM_MAIL_PAGE (data));

  return !pm_mail_page_get_weight_stable (PM_MAIL_PAGE (data)) &&
         g_strcmp0 (weight, "—") != 0 && g_strcmp0 (weight, "0 oz") != 0;
}

/* The refusals that come from the devices, each on screen, each taking nothing. */
static void
test_mail_device_refusals (void)
{
  GtkWidget *mail;
  g_autofree char *printed = NULL;
  g_autofree char *away = NULL;
  g_autoptr(PmPsdStatus) locked = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *funds = NULL;

  if (skip_without_display ())
    return;

  gtk_widget_activate_action (GTK_WIDGET (window ()), "win.open-page", "s", "mail");
  mail = page ("mail");
  g_assert_true (wait_until (mail_ready, mail));
  pm_kiosk_test_act (mail, "mail.select-mode", "postage");
  pm_kiosk_test_act (mail, "mail.select-class", "first-class-letter");
  g_assert_true (wait_until (mail_funds_shown, mail));
  funds = g_strdup (pm_mail_page_get_funds_text (PM_MAIL_PAGE (mail)));

  /* Printing while the weight still swings. */
  pm_kiosk_test_act (mail, "mail.take-piece", NULL);
  pm_kiosk_test_act (mail, "mail.put-piece", "1.5 oz");
  if (!wait_until (mail_settling, mail))
    g_error ("The scale never showed the piece settling");
  assert_mail_refused (mail, "not stable yet");
  save_screenshot ("mail-refused-not-stable");
  put_piece (mail, "1.5 oz", "1.5 oz");

  /* The printer's folder gone: the printer is offline. */
  printed = g_build_filename (state_dir, "printed", NULL);
  away = g_build_filename (state_dir, "printed-away", NULL);
  g_assert_cmpint (g_rename (printed, away), ==, 0);
  assert_mail_refused (mail, "The printer cannot print");
  save_screenshot ("mail-refused-printer-offline");
  g_assert_cmpint (g_rename (away, printed), ==, 0);

  /* A locked PSD. */
  locked = pm_psd_lock_sync (pm_application_get_psd (app), "test of the lock", &error);
  g_assert_no_error (error);
  assert_mail_refused (mail, "The meter is locked");
  save_screenshot ("mail-refused-locked");

  g_assert_true (wait_until (mail_funds_shown, mail));
  g_assert_cmpstr (pm_mail_page_get_funds_text (PM_MAIL_PAGE (mail)), ==, funds);

  /* The supervisor's low-funds threshold above what is left: the warning shows. */
  g_assert_null (pm_mail_page_get_low_funds_warning (PM_MAIL_PAGE (mail)));
  g_assert_true (pm_store_set_setting_int (pm_application_get_store (app),
                                           PM_STORE_SETTING_LOW_FUNDS_MILLS,
                                           250 * PM_MILLS_PER_DOLLAR, 1, &error));
  g_assert_no_error (error);
  pm_mail_page_refresh (PM_MAIL_PAGE (mail));
  if (!wait_until (mail_low_funds_shown, mail))
    g_error ("No low-funds warning with $250.00 as the threshold");
  g_assert_cmpstr (pm_mail_page_get_low_funds_warning (PM_MAIL_PAGE (mail)), ==,
                   "Funds are low (below $250.00). Add funds from the Funds screen.");
  save_screenshot ("mail-low-funds");
  pm_kiosk_test_act (mail, "mail.take-piece", NULL);
  gtk_widget_activate_action (GTK_WIDGET (window ()), "win.go-home", NULL);
}

static void
test_unbuilt_screens (void)
{
  static const struct { const char *name; const char *title; } screens[] = {
    { "shipping", "Shipping labels" },
    { "accounts", "Accounts" },
    { "reports", "Reports" },
    { "help", "Help" },
    { "assist", "Remote assist" },
  };

  if (skip_without_display ())
    return;

  for (guint i = 0; i < G_N_ELEMENTS (screens); i++)
    {
      gtk_widget_activate_action (GTK_WIDGET (window ()), "win.open-page", "s",
                                  screens[i].name);
      g_assert_cmpstr (pm_window_get_page_name (window ()), ==, "unbuilt");
      g_assert_cmpstr (pm_unbuilt_page_get_title (PM_UNBUILT_PAGE (page ("unbuilt"))), ==,
                       screens[i].title);
    }

  save_screenshot ("not-built");
  gtk_widget_activate_action (GTK_WIDGET (window ()), "win.go-home", NULL);
  g_assert_cmpstr (pm_window_get_page_name (window ()), ==, "home");
}

static void
add_user (GtkWidget  *users,
          const char *name,
          const char *role,
          const char *code)
{
  g_autofree char *toast = g_strdup_printf ("%s can now sign in.", name);

  pm_kiosk_test_act (users, "users.add", NULL);
  g_assert_cmpstr (pm_users_page_get_step (PM_USERS_PAGE (users)), ==, "details");
  pm_users_page_set_name (PM_USERS_PAGE (users), name);
  pm_kiosk_test_act (users, "users.role", role);
  pm_kiosk_test_act (users, "users.next", NULL);
  g_assert_cmpstr (pm_users_page_get_step (PM_USERS_PAGE (users)), ==, "code");
  type_code (users, "users", code);
  g_assert_cmpstr (pm_users_page_get_step (PM_USERS_PAGE (users)), ==, "confirm");
  type_code (users, "users", code);

  g_assert_true (wait_until (users_page_idle, users));
  g_assert_cmpstr (pm_users_page_get_message (PM_USERS_PAGE (users)), ==, "");
  g_assert_cmpstr (pm_users_page_get_step (PM_USERS_PAGE (users)), ==, "list");
  g_assert_cmpstr (pm_window_get_last_toast (window ()), ==, toast);
}

static void
test_users_add_disable (void)
{
  GtkWidget *users;
  const PmUser *olive;
  const PmUser *dan;
  gint64 dan_id;

  if (skip_without_display ())
    return;

  gtk_widget_activate_action (GTK_WIDGET (window ()), "win.open-page", "s", "settings");
  g_assert_cmpstr (pm_window_get_page_name (window ()), ==, "settings");
  g_assert_true (pm_settings_page_get_users_visible (PM_SETTINGS_PAGE (page ("settings"))));
  save_screenshot ("settings");

  gtk_widget_activate_action (GTK_WIDGET (window ()), "win.open-page", "s", "users");
  g_assert_cmpstr (pm_window_get_page_name (window ()), ==, "users");
  users = page ("users");
  g_assert_true (wait_until (users_page_idle, users));
  g_assert_nonnull (pm_users_page_find_user (PM_USERS_PAGE (users), SUPERVISOR_NAME));

  /* The form as a supervisor sees it, then Cancel leaves nothing behind. */
  pm_kiosk_test_act (users, "users.add", NULL);
  pm_users_page_set_name (PM_USERS_PAGE (users), "Pat Example");
  pm_kiosk_test_act (users, "users.role", "support");
  save_screenshot ("users-add");
  pm_kiosk_test_act (users, "users.cancel", NULL);
  g_assert_cmpstr (pm_users_page_get_step (PM_USERS_PAGE (users)), ==, "list");
  g_assert_true (wait_until (users_page_idle, users));
  g_assert_null (pm_users_page_find_user (PM_USERS_PAGE (users), "Pat Example"));

  add_user (users, OPERATOR_NAME, "operator", OPERATOR_CODE);
  add_user (users, DISABLED_NAME, "operator", DISABLED_CODE);

  olive = pm_users_page_find_user (PM_USERS_PAGE (users), OPERATOR_NAME);
  g_assert_nonnull (olive);
  g_assert_cmpint (olive->role, ==, PM_ROLE_OPERATOR);
  g_assert_true (olive->active);

  /* A code someone already has is refused, and nothing is saved. */
  pm_kiosk_test_act (users, "users.add", NULL);
  pm_users_page_set_name (PM_USERS_PAGE (users), "Copy Cat");
  pm_kiosk_test_act (users, "users.next", NULL);
  type_code (users, "users", OPERATOR_CODE);
  type_code (users, "users", OPERATOR_CODE);
  g_assert_true (wait_until (users_page_idle, users));
  g_assert_cmpstr (pm_users_page_get_step (PM_USERS_PAGE (users)), ==, "code");
  g_assert_cmpstr (pm_users_page_get_message (PM_USERS_PAGE (users)), ==,
                   "Someone else already has that code. Choose a different one.");
  pm_kiosk_test_act (users, "users.cancel", NULL);
  g_assert_cmpstr (pm_users_page_get_step (PM_USERS_PAGE (users)), ==, "list");
  g_assert_true (wait_until (users_page_idle, users));
  g_assert_null (pm_users_page_find_user (PM_USERS_PAGE (users), "Copy Cat"));

  dan = pm_users_page_find_user (PM_USERS_PAGE (users), DISABLED_NAME);
  g_assert_nonnull (dan);
  dan_id = dan->id;
  gtk_widget_activate_action (users, "users.disable", "x", dan_id);
  g_assert_true (wait_until (users_page_idle, users));
  /* The list is read again after the change. */
  g_assert_true (wait_until (users_page_idle, users));
  dan = pm_users_page_find_user (PM_USERS_PAGE (users), DISABLED_NAME);
  g_assert_nonnull (dan);
  g_assert_false (dan->active);
  g_assert_cmpuint (pm_users_page_get_users (PM_USERS_PAGE (users))->len, ==, 3);
  save_screenshot ("users");

  /* Enable again, give a new code, disable once more. */
  gtk_widget_activate_action (users, "users.enable", "x", dan_id);
  g_assert_true (wait_until (users_page_idle, users));
  g_assert_true (pm_users_page_find_user (PM_USERS_PAGE (users), DISABLED_NAME)->active);

  gtk_widget_activate_action (users, "users.recode", "x", dan_id);
  g_assert_cmpstr (pm_users_page_get_step (PM_USERS_PAGE (users)), ==, "code");
  save_screenshot ("users-new-code");
  type_code (users, "users", NEW_CODE);
  type_code (users, "users", NEW_CODE);
  g_assert_true (wait_until (users_page_idle, users));
  g_assert_cmpstr (pm_users_page_get_step (PM_USERS_PAGE (users)), ==, "list");
  g_assert_cmpstr (pm_window_get_last_toast (window ()), ==,
                   "The new code works from now on; the old one no longer does.");

  gtk_widget_activate_action (users, "users.disable", "x", dan_id);
  g_assert_true (wait_until (users_page_idle, users));
  g_assert_false (pm_users_page_find_user (PM_USERS_PAGE (users), DISABLED_NAME)->active);
}

static void
test_log_out (void)
{
  if (skip_without_display ())
    return;

  g_action_group_activate_action (G_ACTION_GROUP (app), "log-out", NULL);
  g_assert_cmpstr (pm_window_get_page_name (window ()), ==, "lock");
  g_assert_null (pm_window_get_user (window ()));

  /* Log out again does nothing more. */
  g_action_group_activate_action (G_ACTION_GROUP (app), "log-out", NULL);
  g_assert_cmpstr (pm_window_get_page_name (window ()), ==, "lock");

  /* Signed out, no screen can be reached. */
  gtk_widget_activate_action (GTK_WIDGET (window ()), "win.open-page", "s", "settings");
  g_assert_cmpstr (pm_window_get_page_name (window ()), ==, "lock");
}

static void
test_operator_no_users (void)
{
  GtkWidget *lock;
  const PmUser *user;

  if (skip_without_display ())
    return;

  /* A disabled user's code opens nothing, nor does the code they had before. */
  lock = page ("lock");
  type_code (lock, "lock", DISABLED_CODE);
  g_assert_true (wait_until (lock_page_idle, lock));
  g_assert_null (pm_window_get_user (window ()));
  type_code (lock, "lock", NEW_CODE);
  g_assert_true (wait_until (lock_page_idle, lock));
  g_assert_cmpstr (pm_window_get_page_name (window ()), ==, "lock");
  g_assert_null (pm_window_get_user (window ()));
  g_assert_cmpstr (pm_lock_page_get_message (PM_LOCK_PAGE (lock)), !=, "");

  sign_in (OPERATOR_CODE, "home");
  user = pm_window_get_user (window ());
  g_assert_cmpstr (user->name, ==, OPERATOR_NAME);
  g_assert_cmpint (user->role, ==, PM_ROLE_OPERATOR);

  gtk_widget_activate_action (GTK_WIDGET (window ()), "win.open-page", "s", "settings");
  g_assert_cmpstr (pm_window_get_page_name (window ()), ==, "settings");
  g_assert_false (pm_settings_page_get_users_visible (PM_SETTINGS_PAGE (page ("settings"))));

  /* Even asked for directly, Users stays closed to an operator. */
  gtk_widget_activate_action (GTK_WIDGET (window ()), "win.open-page", "s", "users");
  g_assert_cmpstr (pm_window_get_page_name (window ()), ==, "settings");
  g_assert_cmpstr (pm_window_get_last_toast (window ()), ==,
                   "Only a supervisor can manage users.");
  save_screenshot ("settings-operator");
}

static gboolean
page_is_lock (gpointer data)
{
  return page_is ("lock");
}

static void
test_idle_lock (void)
{
  g_autoptr(GSettings) settings = g_settings_new (PM_SETTINGS_SCHEMA);

  if (skip_without_display ())
    return;

  /* Time is moved by hand from here on; the idle timer counts from the sign-in. */
  g_settings_set_uint (settings, PM_SETTINGS_IDLE_LOCK_SECONDS, 15);
  pm_clock_set_override_us (pm_clock_now_us ());
  g_action_group_activate_action (G_ACTION_GROUP (app), "log-out", NULL);
  sign_in (OPERATOR_CODE, "home");

  pm_kiosk_test_spin_for_ms (1100);
  pm_clock_advance_s (14);
  pm_kiosk_test_spin_for_ms (1300);
  g_assert_cmpstr (pm_window_get_page_name (window ()), ==, "home");

  pm_clock_advance_s (2);
  g_assert_true (wait_until (page_is_lock, NULL));
  g_assert_null (pm_window_get_user (window ()));

  /* A longer setting applies at the next sign-in and from then on. */
  g_settings_set_uint (settings, PM_SETTINGS_IDLE_LOCK_SECONDS, 600);
  sign_in (OPERATOR_CODE, "home");
  pm_clock_advance_s (300);
  pm_kiosk_test_spin_for_ms (1300);
  g_assert_cmpstr (pm_window_get_page_name (window ()), ==, "home");
  pm_clock_advance_s (301);
  g_assert_true (wait_until (page_is_lock, NULL));
}

static gboolean
lock_page_locked_out (gpointer data)
{
  return pm_lock_page_get_locked_out (PM_LOCK_PAGE (data));
}

static gboolean
lock_page_open (gpointer data)
{
  return !pm_lock_page_get_locked_out (PM_LOCK_PAGE (data));
}

static void
test_lockout (void)
{
  GtkWidget *lock;

  if (skip_without_display ())
    return;

  assert_page_soon ("lock");
  lock = page ("lock");

  for (int i = 0; i < PM_ACCESS_FAILURES_BEFORE_LOCKOUT; i++)
    {
      g_assert_true (wait_until (lock_page_idle, lock));
      g_assert_false (pm_lock_page_get_locked_out (PM_LOCK_PAGE (lock)));
      type_code (lock, "lock", "00000000");
      g_assert_true (wait_until (lock_page_idle, lock));
    }

  g_assert_true (wait_until (lock_page_locked_out, lock));
  pm_kiosk_test_spin_for_ms (1100);
  g_assert_true (g_str_has_prefix (pm_lock_page_get_message (PM_LOCK_PAGE (lock)),
                                   "Too many wrong codes."));
  save_screenshot ("lock-lockout");

  /* The keypad takes nothing, not even the right code. */
  type_code (lock, "lock", SUPERVISOR_CODE);
  pm_kiosk_test_spin_for_ms (300);
  g_assert_cmpstr (pm_window_get_page_name (window ()), ==, "lock");

  /* A restart (the page read afresh from the store) keeps the lockout. */
  pm_lock_page_reset (PM_LOCK_PAGE (lock));
  g_assert_true (wait_until (lock_page_locked_out, lock));

  pm_clock_advance_s (24 * 3600);
  g_assert_true (wait_until (lock_page_open, lock));
  g_assert_cmpstr (pm_lock_page_get_message (PM_LOCK_PAGE (lock)), ==,
                   "The keypad is open again. Enter your access code.");
  sign_in (SUPERVISOR_CODE, "home");
  g_action_group_activate_action (G_ACTION_GROUP (app), "log-out", NULL);
}

static void
test_service_page (void)
{
  g_autofree char *damaged_dir = NULL;
  g_autofree char *db = NULL;
  g_autoptr(GError) error = NULL;
  const char *what;

  if (skip_without_display ())
    return;

  /* A database file that is not a database at all: the store must refuse it. */
  damaged_dir = g_build_filename (state_dir, "damaged", NULL);
  g_assert_cmpint (g_mkdir_with_parents (damaged_dir, 0700), ==, 0);
  db = g_build_filename (damaged_dir, "postmeter.db", NULL);
  g_file_set_contents (db, "This is not a database. It was damaged on purpose by a test.\n"
                           "0123456789abcdef0123456789abcdef0123456789abcdef0123456789\n",
                       -1, &error);
  g_assert_no_error (error);

  /* The fault is logged as a warning for support, besides being shown. */
  g_test_expect_message ("postmeter-kiosk", G_LOG_LEVEL_WARNING,
                         "The store could not be opened: *");
  g_object_set (app, "state-dir", damaged_dir, NULL);
  g_action_group_activate_action (G_ACTION_GROUP (app), "reopen-store", NULL);
  assert_page_soon ("service");
  g_test_assert_expected_messages ();
  g_assert_null (pm_window_get_user (window ()));
  what = pm_service_page_get_what_happened (PM_SERVICE_PAGE (page ("service")));
  g_assert_true (g_str_has_prefix (what, "The meter's database is damaged"));

  /* Nothing leads away from it while the store is broken. */
  gtk_widget_activate_action (GTK_WIDGET (window ()), "win.open-page", "s", "home");
  g_assert_cmpstr (pm_window_get_page_name (window ()), ==, "service");
  g_action_group_activate_action (G_ACTION_GROUP (app), "log-out", NULL);
  g_assert_cmpstr (pm_window_get_page_name (window ()), ==, "service");
  g_assert_true (pm_service_page_is_fault (PM_SERVICE_PAGE (page ("service"))));

  /* Without a store there is no data center connection: the error log cannot go, and the
   * page says so at once. */
  g_assert_null (pm_service_page_get_log_status (PM_SERVICE_PAGE (page ("service"))));
  pm_kiosk_test_act (page ("service"), "service.send-error-log", NULL);
  g_assert_false (pm_service_page_is_sending (PM_SERVICE_PAGE (page ("service"))));
  g_test_message ("%s", pm_service_page_get_log_status (PM_SERVICE_PAGE (page ("service"))));
  g_assert_true (g_str_has_prefix (pm_service_page_get_log_status (PM_SERVICE_PAGE
                                                                     (page ("service"))),
                                   "The error log was not sent: the meter has no connection "
                                   "to the data center."));
  save_screenshot ("service");
}

static void
test_service_no_folder (void)
{
  g_autofree char *blocker = NULL;
  g_autofree char *impossible = NULL;
  g_autoptr(GError) error = NULL;

  if (skip_without_display ())
    return;

  /* A state folder that cannot be made: its parent is a file. */
  blocker = g_build_filename (state_dir, "a-file", NULL);
  g_file_set_contents (blocker, "not a folder\n", -1, &error);
  g_assert_no_error (error);
  impossible = g_build_filename (blocker, "state", NULL);

  g_test_expect_message ("postmeter-kiosk", G_LOG_LEVEL_WARNING,
                         "Could not create the data folder *");
  g_object_set (app, "state-dir", impossible, NULL);
  g_action_group_activate_action (G_ACTION_GROUP (app), "reopen-store", NULL);
  assert_page_soon ("service");
  g_test_assert_expected_messages ();

  g_assert_cmpstr (pm_service_page_get_what_happened (PM_SERVICE_PAGE (page ("service"))), ==,
                   "The meter cannot write to its data folder.");
}

static void
test_kiosk_mode (void)
{
  g_autoptr(PmWindow) kiosk = NULL;
  gboolean handled = FALSE;
  GListModel *toplevels;
  guint before;

  if (skip_without_display ())
    return;

  kiosk = g_object_ref_sink (pm_window_new (GTK_APPLICATION (app), TRUE));
  g_assert_false (gtk_window_get_decorated (GTK_WINDOW (kiosk)));
  g_assert_false (gtk_window_get_deletable (GTK_WINDOW (kiosk)));

  /* Ctrl+Shift+I and Ctrl+Shift+D emit this signal; in a kiosk nothing opens. */
  toplevels = gtk_window_get_toplevels ();
  before = g_list_model_get_n_items (toplevels);
  g_signal_emit_by_name (kiosk, "enable-debugging", TRUE, &handled);
  g_assert_true (handled);
  pm_kiosk_test_spin_for_ms (100);
  g_assert_cmpuint (g_list_model_get_n_items (toplevels), ==, before);

  gtk_window_destroy (GTK_WINDOW (kiosk));
}

static void
test_windowed (void)
{
  g_autoptr(PmWindow) windowed = NULL;
  int width = 0, height = 0;

  if (skip_without_display ())
    return;

  /* --windowed, for development: an ordinary window the desktop can move and close. */
  windowed = g_object_ref_sink (pm_window_new (GTK_APPLICATION (app), FALSE));
  g_assert_true (gtk_window_get_decorated (GTK_WINDOW (windowed)));
  g_assert_true (gtk_window_get_deletable (GTK_WINDOW (windowed)));
  g_assert_false (gtk_widget_has_css_class (GTK_WIDGET (windowed), "kiosk"));
  gtk_window_get_default_size (GTK_WINDOW (windowed), &width, &height);
  g_assert_cmpint (width, ==, 1280);
  g_assert_cmpint (height, ==, 800);

  gtk_window_destroy (GTK_WINDOW (windowed));
}

static GString *printed;

static void
keep_print (const char *text)
{
  g_string_append (printed, text);
}

static void
test_command_line (void)
{
  g_autoptr(PmApplication) other = pm_application_new ();
  g_autofree char *expected_dir = g_canonicalize_filename ("state-here", NULL);
  g_autofree char *read_dir = NULL;
  char *argv[] = { "postmeter", "--windowed", "--state-dir=state-here", "--version",
                   NULL };
  GPrintFunc old_print;
  gboolean windowed = FALSE;
  int status;

  /* The options are read even when --version ends the run before any window. */
  printed = g_string_new (NULL);
  old_print = g_set_print_handler (keep_print);
  status = g_application_run (G_APPLICATION (other), G_N_ELEMENTS (argv) - 1, argv);
  g_set_print_handler (old_print);

  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (printed->str, ==, "postmeter " PM_VERSION "\n");
  g_object_get (other, "windowed", &windowed, "state-dir", &read_dir, NULL);
  g_assert_true (windowed);
  g_assert_cmpstr (read_dir, ==, expected_dir);
  g_assert_null (pm_application_get_window (other));
  g_string_free (printed, TRUE);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  int result;

  g_test_init (&argc, &argv, NULL);

  pm_kiosk_test_start_session ();

  if (!pm_kiosk_test_start_xvfb (&error))
    g_error ("Could not start Xvfb: %s", error->message);
  if (pm_kiosk_test_skip_reason () == NULL)
    gtk_init ();

  g_test_add_func ("/kiosk/status/unknown-until-set", test_status_unknown);
  g_test_add_func ("/kiosk/keypad/digits-and-keys", test_keypad_digits);
  g_test_add_func ("/kiosk/keyboard/names", test_keyboard_names);
  g_test_add_func ("/kiosk/window/first-start", test_first_start);
  g_test_add_func ("/kiosk/window/set-up-supervisor", test_set_up_supervisor);
  g_test_add_func ("/kiosk/window/wrong-code", test_wrong_code);
  g_test_add_func ("/kiosk/window/unlock", test_unlock);
  g_test_add_func ("/kiosk/window/mail-print-letter", test_mail_print_letter);
  g_test_add_func ("/kiosk/window/mail-refusals-and-modes", test_mail_refusals_and_modes);
  g_test_add_func ("/kiosk/window/mail-presets", test_mail_presets);
  g_test_add_func ("/kiosk/window/mail-zone-parcel", test_mail_zone_parcel);
  g_test_add_func ("/kiosk/window/settings-printing-thresholds",
                   test_settings_printing_thresholds);
  g_test_add_func ("/kiosk/window/mail-funds-short", test_mail_funds_short);
  g_test_add_func ("/kiosk/window/mail-dates", test_mail_dates);
  g_test_add_func ("/kiosk/window/mail-device-refusals", test_mail_device_refusals);
  g_test_add_func ("/kiosk/window/mail-inspection-overdue", test_mail_inspection_overdue);
  g_test_add_func ("/kiosk/window/unbuilt-screens", test_unbuilt_screens);
  g_test_add_func ("/kiosk/window/users-add-disable", test_users_add_disable);
  g_test_add_func ("/kiosk/window/log-out", test_log_out);
  g_test_add_func ("/kiosk/window/operator-no-users", test_operator_no_users);
  g_test_add_func ("/kiosk/window/idle-lock", test_idle_lock);
  g_test_add_func ("/kiosk/window/lockout", test_lockout);
  g_test_add_func ("/kiosk/window/service", test_service_page);
  g_test_add_func ("/kiosk/window/service-no-folder", test_service_no_folder);
  g_test_add_func ("/kiosk/window/kiosk-mode", test_kiosk_mode);
  g_test_add_func ("/kiosk/window/windowed", test_windowed);
  g_test_add_func ("/kiosk/application/command-line", test_command_line);

  result = g_test_run ();

  if (app != NULL)
    {
      PmWindow *win = window ();

      if (win != NULL)
        gtk_window_destroy (GTK_WINDOW (win));
      pm_kiosk_test_spin_for_ms (50);
      g_clear_object (&app);
    }
  if (state_dir != NULL)
    pm_kiosk_test_remove_tree (state_dir);
  g_free (state_dir);

  pm_kiosk_test_stop_session ();

  return result;
}
