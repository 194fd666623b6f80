/* pm-scale-reply.h: what the serial protocol parsers share
 *
 * Each serial parser is fed one byte at a time, resynchronises on its protocol's framing
 * and says when a whole reply has arrived.
 */
#pragma once

#include "pm-scale.h"

G_BEGIN_DECLS

typedef enum
{
  PM_SCALE_REPLY_NONE,     /* more bytes needed */
  PM_SCALE_REPLY_READING,  /* a weight or a status: the reading is set */
  PM_SCALE_REPLY_ACK,      /* a command was carried out (zeroed, echo on, ...) */
  PM_SCALE_REPLY_REFUSED,  /* the scale did not understand or would not carry out a command */
} PmScaleReplyKind;

/* Parses "0012.50" (optional sign, digits, at most one decimal point, at most nine
 * digits) into an exact mantissa and power of ten. Blanks around it are allowed. */
gboolean pm_scale_parse_decimal (const char *text,
                                 gsize       len,
                                 gint64     *out_mantissa,
                                 gint8      *out_exponent,
                                 gboolean   *out_negative);
/* "lb", "KG", "g", "oz", "mg": case-insensitive. */
gboolean pm_scale_parse_unit    (const char   *text,
                                 gsize         len,
                                 PmWeightUnit *out_unit);

G_END_DECLS
