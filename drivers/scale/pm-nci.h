/* pm-nci.h: NCI / Weigh-Tronix ECR serial protocol (SCP-01 and SCP-02 forms)
 *
 * Commands are one letter and CR ("W\r" weight, "S\r" status, "Z\r" zero). A reply runs
 * from LF to ETX: LF weight-and-units CR LF status CR ETX, or only LF status CR ETX when
 * the weight is not valid, or LF '?' CR ETX for an unknown command. The status is two or
 * three bytes whose bits 4 and 5 are always set.
 *
 * SCP-01 sends the weight line first and the status last. SCP-02 puts the status first,
 * and its weight field carries a polarity character and a different width; the parser
 * takes numbers by their characters, not their columns, so only the order differs.
 */
#pragma once

#include "pm-scale-reply.h"

G_BEGIN_DECLS

typedef enum
{
  PM_NCI_PROFILE_SCP01,
  PM_NCI_PROFILE_SCP02,
} PmNciProfile;

#define PM_NCI_MAX_FRAME 64

typedef struct
{
  PmNciProfile profile;
  gboolean     in_frame;                 /* an LF has been seen */
  gsize        len;
  guint8       buf[PM_NCI_MAX_FRAME];    /* bytes after the opening LF */
} PmNciParser;

void             pm_nci_parser_init  (PmNciParser      *parser,
                                      PmNciProfile      profile);
/* Drops any partial reply, e.g. after a timeout. */
void             pm_nci_parser_reset (PmNciParser      *parser);
/* On READING, *out_reading is a new reading (also for status-only replies); on REFUSED
 * the scale answered '?'. Garbage outside a frame is skipped. */
PmScaleReplyKind pm_nci_parser_push  (PmNciParser      *parser,
                                      guint8            byte,
                                      PmScaleReading  **out_reading);

G_END_DECLS
