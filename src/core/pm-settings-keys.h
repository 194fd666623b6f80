/* pm-settings-keys.h: every GSettings key, named once, so a typo does not compile */
#pragma once

#define PM_SETTINGS_SCHEMA                  "org.postmeter.Kiosk"

#define PM_SETTINGS_IDLE_LOCK_SECONDS       "idle-lock-seconds"
#define PM_SETTINGS_KIOSK_MODE              "kiosk-mode"
#define PM_SETTINGS_STATE_DIRECTORY         "state-directory"
