/* pm-keypad.h: the on-screen keypad for access codes
 *
 * Big digit keys, Clear, Delete and OK, and a row of dots for the digits typed so far. It
 * also takes the keyboard (digits, Backspace, Escape, Enter) while it has the focus. The
 * digits never leave the keypad except through pm_keypad_dup_code(), and are wiped from
 * memory when cleared.
 *
 * Actions, for the buttons and for tests: keypad.digit (s), keypad.backspace,
 * keypad.clear, keypad.submit.
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define PM_KEYPAD_MAX_DIGITS 8

#define PM_TYPE_KEYPAD (pm_keypad_get_type ())
G_DECLARE_FINAL_TYPE (PmKeypad, pm_keypad, PM, KEYPAD, GtkWidget)

GtkWidget  *pm_keypad_new             (void);

void        pm_keypad_add_digit       (PmKeypad   *self,
                                       char        digit);
void        pm_keypad_backspace       (PmKeypad   *self);
void        pm_keypad_clear           (PmKeypad   *self);
void        pm_keypad_submit          (PmKeypad   *self);

guint       pm_keypad_get_length      (PmKeypad   *self);
char       *pm_keypad_dup_code        (PmKeypad   *self);

void        pm_keypad_set_submit_label (PmKeypad   *self,
                                        const char *label);
void        pm_keypad_set_locked      (PmKeypad   *self,
                                       gboolean    locked);
gboolean    pm_keypad_handle_key      (PmKeypad   *self,
                                       guint       keyval,
                                       GdkModifierType state);

G_END_DECLS
