/* pm-keyboard.h: an on-screen letter keyboard for names
 *
 * The kiosk has no system on-screen keyboard, so the few places that take words (a
 * person's name) carry this one. It types into its target GtkEditable. Letters start a
 * word in capitals and go on in small letters, which is what names need.
 *
 * Actions: keyboard.key (s), keyboard.backspace.
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define PM_TYPE_KEYBOARD (pm_keyboard_get_type ())
G_DECLARE_FINAL_TYPE (PmKeyboard, pm_keyboard, PM, KEYBOARD, GtkWidget)

GtkWidget   *pm_keyboard_new        (void);
void         pm_keyboard_set_target (PmKeyboard  *self,
                                     GtkEditable *target);
GtkEditable *pm_keyboard_get_target (PmKeyboard  *self);

G_END_DECLS
