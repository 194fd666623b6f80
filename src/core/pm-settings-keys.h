/* pm-settings-keys.h: every GSettings key, named once, so a typo does not compile */
#pragma once

#define PM_SETTINGS_SCHEMA                  "org.postmeter.Kiosk"

#define PM_SETTINGS_IDLE_LOCK_SECONDS       "idle-lock-seconds"
#define PM_SETTINGS_KIOSK_MODE              "kiosk-mode"
#define PM_SETTINGS_STATE_DIRECTORY         "state-directory"

/* The provider's data center (src/meter/pm-connection.h). An empty address means the
 * meter has no data center configured and the kiosk makes no connection. */
#define PM_SETTINGS_DATACENTER_URL          "datacenter-url"
#define PM_SETTINGS_CONNECTIVITY_URL        "connectivity-url"
#define PM_SETTINGS_PROVIDER_CA_FILE        "provider-ca-file"
#define PM_SETTINGS_PROVIDER_KEY_FILE       "provider-key-file"

/* The machine's devices and rate packages (src/kiosk/pm-application.c, "Devices"). */
#define PM_SETTINGS_SCALE_DRIVER            "scale-driver"
#define PM_SETTINGS_SCALE_RECORDING         "scale-recording"
#define PM_SETTINGS_SCALE_DEVICE            "scale-device"
#define PM_SETTINGS_SCALE_PROTOCOL          "scale-protocol"
#define PM_SETTINGS_SCALE_LINE              "scale-line"
#define PM_SETTINGS_SCALE_UNIT              "scale-unit"
#define PM_SETTINGS_PRINTER_DRIVER          "printer-driver"
#define PM_SETTINGS_PRINTER_FOLDER          "printer-folder"
#define PM_SETTINGS_PRINTER_QUEUE           "printer-queue"
#define PM_SETTINGS_PRINTER_SERVER          "printer-server"
#define PM_SETTINGS_RATES_DIRECTORY         "rates-directory"
#define PM_SETTINGS_DEMO_CONTROLS           "demo-controls"
