/* pm-serial-scale.h: serial postal scales (NCI / Weigh-Tronix ECR, Mettler-Toledo 8217,
 * MT-SICS) through termios
 *
 * The driver asks for the weight, waits for the whole reply (it reads until the
 * protocol's terminator, never until a timer runs out), hands it to the decoder every
 * scale shares, and asks again after a pause. So it runs at the scale's own pace and
 * sleeps in poll() in between. A scale that stops answering is "device-lost" with
 * PM_SCALE_ERROR_TIMEOUT after the reply timeout; it is asked once a second from then on
 * and is "device-found" again when it answers, with the re-zero rule of pm-scale.h. A port
 * that cannot be opened or goes away is retried every few seconds.
 *
 * Zero is supported: "Z" on NCI and 8217, "Z" on MT-SICS; a scale that will not zero
 * (moving, or outside its zero range) answers PM_SCALE_ERROR_REFUSED.
 */
#pragma once

#include "pm-scale.h"
#include "pm-scale-protocol.h"

G_BEGIN_DECLS

typedef enum
{
  PM_SERIAL_PARITY_NONE,
  PM_SERIAL_PARITY_EVEN,
  PM_SERIAL_PARITY_ODD,
} PmSerialParity;

typedef struct
{
  guint          baud;              /* 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200 */
  guint          data_bits;         /* 7 or 8 */
  PmSerialParity parity;
  guint          stop_bits;         /* 1 or 2 */
  guint          poll_interval_ms;  /* pause after a reply before asking again */
  guint          reply_timeout_ms;  /* no whole reply within this: the scale is silent */
  gboolean       unit_set;          /* Mettler 8217: the scale's unit is below */
  PmWeightUnit   unit;
} PmSerialSettings;

#define PM_SERIAL_DEFAULT_POLL_INTERVAL_MS 200
#define PM_SERIAL_DEFAULT_REPLY_TIMEOUT_MS 1000
/* How often a silent scale or an absent port is tried again. */
#define PM_SERIAL_RETRY_INTERVAL_MS        2000

/* The protocol's usual line: 9600 7E1 for NCI and 8217, 9600 8N1 for MT-SICS. */
void     pm_serial_settings_init_for   (PmSerialSettings       *settings,
                                        PmScaleProtocol         protocol);
/* "9600 7E1", "19200,8N1", "2400 7O2": baud, then data bits, parity and stop bits.
 * PM_SCALE_ERROR_INVALID_SETTINGS otherwise; @settings is changed only on success. */
gboolean pm_serial_settings_parse_line (PmSerialSettings       *settings,
                                        const char             *text,
                                        GError                **error);
/* "9600 7E1" */
char    *pm_serial_settings_to_line    (const PmSerialSettings *settings);

#define PM_TYPE_SERIAL_SCALE (pm_serial_scale_get_type ())
G_DECLARE_FINAL_TYPE (PmSerialScale, pm_serial_scale, PM, SERIAL_SCALE, GObject)

/* @settings NULL: the protocol's usual line. PM_SCALE_ERROR_INVALID_SETTINGS for the HID
 * protocol or settings the port cannot take. */
PmSerialScale *pm_serial_scale_new (const char             *port,
                                    PmScaleProtocol         protocol,
                                    const PmSerialSettings *settings,
                                    GError                **error);

G_END_DECLS
