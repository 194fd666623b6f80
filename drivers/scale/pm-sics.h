/* pm-sics.h: Mettler-Toledo MT-SICS serial protocol
 *
 * Commands and replies are lines ending in CR LF. A reply is "<ID> <status> [<value>
 * <unit>]" with right-aligned numbers, so it is read by tokens, not columns:
 * "S S     100.00 g" stable, "S D ..." dynamic, "S I" busy, "S +" / "S -" over / under
 * range, "Z A" zeroed, "ES" / "ET" / "EL" errors.
 */
#pragma once

#include "pm-scale-reply.h"

G_BEGIN_DECLS

#define PM_SICS_MAX_LINE 64

typedef struct
{
  gboolean overflow;               /* the line in progress was too long: skip to LF */
  gsize    len;
  char     buf[PM_SICS_MAX_LINE];
  char     last_id[8];             /* the ID of the last complete reply, e.g. "S", "Z" */
} PmSicsParser;

void             pm_sics_parser_init  (PmSicsParser     *parser);
void             pm_sics_parser_reset (PmSicsParser     *parser);
/* READING for weight replies (S, SI, SIR); ACK for a reply with status A (or S to a
 * tare); REFUSED for I, L, +, - on a command and for ES, ET, EL; lines that are not
 * SICS replies are skipped. */
PmScaleReplyKind pm_sics_parser_push  (PmSicsParser     *parser,
                                       guint8            byte,
                                       PmScaleReading  **out_reading);
/* The ID of the reply last returned ("S", "Z", "ES", ...). */
const char      *pm_sics_parser_get_last_id (PmSicsParser *parser);

G_END_DECLS
