/* pm-status.h: the machine's state as the status line shows it
 *
 * Four items (funds, network, inspection, upload), each a short text and a level. The parts
 * that know the real state set them; until a part exists its item stays "Unknown", so the
 * screen never claims a state nobody has checked.
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

typedef enum
{
  PM_STATUS_ITEM_FUNDS,
  PM_STATUS_ITEM_NETWORK,
  PM_STATUS_ITEM_INSPECTION,
  PM_STATUS_ITEM_UPLOAD,
  PM_STATUS_N_ITEMS,
} PmStatusItem;

typedef enum
{
  PM_STATUS_LEVEL_UNKNOWN,  /* nothing has reported yet */
  PM_STATUS_LEVEL_OK,
  PM_STATUS_LEVEL_WARNING,  /* needs attention soon (low funds, inspection due) */
  PM_STATUS_LEVEL_ERROR,    /* blocks work (no funds, inspection overdue) */
} PmStatusLevel;

#define PM_TYPE_STATUS (pm_status_get_type ())
G_DECLARE_FINAL_TYPE (PmStatus, pm_status, PM, STATUS, GObject)

PmStatus      *pm_status_new              (void);

void           pm_status_set              (PmStatus      *self,
                                           PmStatusItem   item,
                                           PmStatusLevel  level,
                                           const char    *text);
void           pm_status_reset            (PmStatus      *self,
                                           PmStatusItem   item);
const char    *pm_status_get_text         (PmStatus      *self,
                                           PmStatusItem   item);
PmStatusLevel  pm_status_get_level        (PmStatus      *self,
                                           PmStatusItem   item);

const char    *pm_status_item_title       (PmStatusItem   item);
const char    *pm_status_level_css_class  (PmStatusLevel  level);

G_END_DECLS
