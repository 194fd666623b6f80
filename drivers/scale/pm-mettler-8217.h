/* pm-mettler-8217.h: Mettler-Toledo 8217 (and 8213) serial protocol
 *
 * Commands are single letters with no terminator. Replies run from STX to CR: a weight
 * ("01.25", "1.250", "001.25", "0XXXXX", with N before CR for net weight), or '?' and a
 * status byte when the weight is not valid (motion, over capacity, under zero) and as
 * the answer to Z and T. No unit is sent: it comes from the settings, or from the number
 * of decimals (two: pounds, three: kilograms, none: grams).
 */
#pragma once

#include "pm-scale-reply.h"

G_BEGIN_DECLS

#define PM_METTLER_8217_MAX_FRAME 16

typedef struct
{
  gboolean     unit_set;       /* TRUE: unit below; FALSE: infer from the decimals */
  PmWeightUnit unit;
  gboolean     in_frame;       /* an STX has been seen */
  gsize        len;
  guint8       buf[PM_METTLER_8217_MAX_FRAME];
} PmMettler8217Parser;

void             pm_mettler_8217_parser_init     (PmMettler8217Parser *parser);
void             pm_mettler_8217_parser_set_unit (PmMettler8217Parser *parser,
                                                  PmWeightUnit         unit);
void             pm_mettler_8217_parser_reset    (PmMettler8217Parser *parser);
/* READING for a weight or a '?' status; ACK for the echo-mode and confidence-test
 * acknowledgements (STX E CR, STX F CR, STX CR, STX @ CR); REFUSED for a failed
 * confidence test. */
PmScaleReplyKind pm_mettler_8217_parser_push     (PmMettler8217Parser *parser,
                                                  guint8               byte,
                                                  PmScaleReading     **out_reading);

G_END_DECLS
