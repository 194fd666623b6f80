/* pm-scale-recording.h: what a scale sent, and when, as a text file the simulated scale
 * replays
 *
 *   # Dymo M10, ounce mode: a letter put on and taken off
 *   protocol hid
 *   +0    03 04 0B FF 23 00
 *   +120  03 02 0B FF 00 00
 *   +2000 "\n0001.25LB\r\n00\r\x03"
 *   loop
 *
 * "protocol" comes first ("hid", "nci", "nci-scp02", "mettler-8217", "sics"); "unit lb"
 * may follow for a Mettler 8217, which sends no unit. Each step waits its number of
 * milliseconds after the step before it, then delivers its bytes: hexadecimal pairs, or a
 * quoted string with \r, \n, \t, \\, \" and \xHH escapes. For HID each step is one report;
 * for serial protocols the bytes of a step arrive together, so a reply split over several
 * steps arrives in pieces, as it does on a real line. "loop" replays from the first step
 * after the last. '#' starts a comment.
 */
#pragma once

#include "pm-scale-protocol.h"

G_BEGIN_DECLS

/* Bounds that keep a damaged or hostile file from taking the kiosk's memory or time. */
#define PM_SCALE_RECORDING_MAX_SIZE     (1024 * 1024)
#define PM_SCALE_RECORDING_MAX_STEP_MS  (10 * 60 * 1000)
#define PM_SCALE_RECORDING_MAX_STEP_LEN 256

typedef struct _PmScaleRecording PmScaleRecording;

typedef struct
{
  guint   delay_ms;
  GBytes *bytes;
} PmScaleRecordingStep;

/* PM_SCALE_ERROR_INVALID_SETTINGS, with the line number, for anything malformed. */
PmScaleRecording           *pm_scale_recording_parse      (const char        *text,
                                                           gsize              length,
                                                           GError           **error);
PmScaleRecording           *pm_scale_recording_load       (const char        *path,
                                                           GError           **error);
PmScaleRecording           *pm_scale_recording_ref        (PmScaleRecording  *recording);
void                        pm_scale_recording_unref      (PmScaleRecording  *recording);

PmScaleProtocol             pm_scale_recording_get_protocol (PmScaleRecording *recording);
/* FALSE when the recording names no unit. */
gboolean                    pm_scale_recording_get_unit   (PmScaleRecording  *recording,
                                                           PmWeightUnit      *out_unit);
gboolean                    pm_scale_recording_get_loop   (PmScaleRecording  *recording);
guint                       pm_scale_recording_get_n_steps (PmScaleRecording *recording);
const PmScaleRecordingStep *pm_scale_recording_get_step   (PmScaleRecording  *recording,
                                                           guint              index);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmScaleRecording, pm_scale_recording_unref)

G_END_DECLS
