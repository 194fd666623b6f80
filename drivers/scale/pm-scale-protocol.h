/* pm-scale-protocol.h: the scale protocols by name, and one decoder over all of them
 *
 * A PmScaleDecoder turns what a scale sends into replies, whatever the protocol: a USB HID
 * POS scale delivers whole reports (one read () is one report), a serial scale a stream of
 * bytes that may arrive in any pieces. Every driver and the simulated scale push bytes
 * through a decoder, so they all apply the same rules:
 *
 *   HID     the first data report after (re)opening is discarded, because scales repeat
 *           the previous weighing in it; a device that sends many reports and never a
 *           scale data report is not a HID POS scale and is refused.
 *   serial  a reply cut short by a timeout is dropped on reset; framing resynchronises.
 *
 * Plain data, no threads: a decoder belongs to whoever feeds it.
 */
#pragma once

#include "pm-scale.h"
#include "pm-scale-reply.h"
#include "pm-hid-scale-report.h"

G_BEGIN_DECLS

typedef enum
{
  PM_SCALE_PROTOCOL_HID,            /* "hid": USB HID POS data reports */
  PM_SCALE_PROTOCOL_NCI_SCP01,      /* "nci": NCI / Weigh-Tronix ECR, SCP-01 */
  PM_SCALE_PROTOCOL_NCI_SCP02,      /* "nci-scp02" */
  PM_SCALE_PROTOCOL_METTLER_8217,   /* "mettler-8217" (also 8213) */
  PM_SCALE_PROTOCOL_SICS,           /* "sics": Mettler-Toledo MT-SICS */
} PmScaleProtocol;

/* "hid", "nci", "nci-scp01" (same as "nci"), "nci-scp02", "mettler-8217", "8217",
 * "sics", "mt-sics"; case-insensitive. */
gboolean    pm_scale_protocol_from_string (const char      *name,
                                           PmScaleProtocol *out_protocol);
const char *pm_scale_protocol_to_string   (PmScaleProtocol  protocol);
/* "NCI / Weigh-Tronix (SCP-01)", for the operator. */
const char *pm_scale_protocol_describe    (PmScaleProtocol  protocol);
gboolean    pm_scale_protocol_is_serial   (PmScaleProtocol  protocol);

/* Reports in a row that are not scale data before a HID device is refused. */
#define PM_SCALE_DECODER_MAX_FOREIGN_REPORTS 16

typedef struct _PmScaleDecoder PmScaleDecoder;

/* Called once per reply; takes @reading, which is NULL for ACK and REFUSED. */
typedef void (*PmScaleDecoderFunc) (PmScaleReplyKind  kind,
                                    PmScaleReading   *reading,
                                    gpointer          user_data);

PmScaleDecoder  *pm_scale_decoder_new          (PmScaleProtocol        protocol);
void             pm_scale_decoder_free         (PmScaleDecoder        *decoder);
PmScaleProtocol  pm_scale_decoder_get_protocol (PmScaleDecoder        *decoder);
/* HID only: the device sends data-shaped reports as ID 4 too. */
void             pm_scale_decoder_set_hid_flags (PmScaleDecoder       *decoder,
                                                 PmHidScaleReportFlags flags);
/* Mettler 8217 only: the unit the scale is set to, since it sends none. */
void             pm_scale_decoder_set_unit     (PmScaleDecoder        *decoder,
                                                PmWeightUnit           unit);
/* After opening the device, reconnecting or a timeout. */
void             pm_scale_decoder_reset        (PmScaleDecoder        *decoder);
/* HID: @data is one report. Serial: any piece of the byte stream. Returns FALSE with
 * PM_SCALE_ERROR_UNSUPPORTED_DEVICE once a HID device has proven not to be a scale. */
gboolean         pm_scale_decoder_push         (PmScaleDecoder        *decoder,
                                                const guint8          *data,
                                                gsize                  len,
                                                PmScaleDecoderFunc     func,
                                                gpointer               user_data,
                                                GError               **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmScaleDecoder, pm_scale_decoder_free)

G_END_DECLS
