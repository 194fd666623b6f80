/* pm-status.c: the status line's model; main thread only */
#include "pm-status.h"

#include <glib/gi18n.h>

struct _PmStatus
{
  GObject parent_instance;

  /* Owned; main thread. NULL text means "Unknown". */
  char          *text[PM_STATUS_N_ITEMS];
  PmStatusLevel  level[PM_STATUS_N_ITEMS];
};

G_DEFINE_FINAL_TYPE (PmStatus, pm_status, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_FUNDS_TEXT,
  PROP_FUNDS_LEVEL,
  PROP_NETWORK_TEXT,
  PROP_NETWORK_LEVEL,
  PROP_INSPECTION_TEXT,
  PROP_INSPECTION_LEVEL,
  PROP_UPLOAD_TEXT,
  PROP_UPLOAD_LEVEL,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* Properties come in pairs, text then level, in PmStatusItem order. */
#define TEXT_PROP(item)  (PROP_FUNDS_TEXT + 2 * (item))
#define LEVEL_PROP(item) (PROP_FUNDS_LEVEL + 2 * (item))

static void
pm_status_finalize (GObject *object)
{
  PmStatus *self = PM_STATUS (object);

  for (guint i = 0; i < PM_STATUS_N_ITEMS; i++)
    g_free (self->text[i]);

  G_OBJECT_CLASS (pm_status_parent_class)->finalize (object);
}

static void
pm_status_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  PmStatus *self = PM_STATUS (object);
  PmStatusItem item;

  if (prop_id == PROP_0 || prop_id >= N_PROPS)
    {
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      return;
    }

  item = (prop_id - PROP_FUNDS_TEXT) / 2;
  if ((prop_id - PROP_FUNDS_TEXT) % 2 == 0)
    g_value_set_string (value, pm_status_get_text (self, item));
  else
    g_value_set_int (value, self->level[item]);
}

static void
pm_status_class_init (PmStatusClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  static const char *names[PM_STATUS_N_ITEMS] = {
    "funds", "network", "inspection", "upload",
  };

  object_class->finalize = pm_status_finalize;
  object_class->get_property = pm_status_get_property;

  for (guint i = 0; i < PM_STATUS_N_ITEMS; i++)
    {
      g_autofree char *text_name = g_strdup_printf ("%s-text", names[i]);
      g_autofree char *level_name = g_strdup_printf ("%s-level", names[i]);

      properties[TEXT_PROP (i)] =
        g_param_spec_string (g_intern_string (text_name), NULL, NULL, NULL,
                             G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY |
                             G_PARAM_STATIC_STRINGS);
      properties[LEVEL_PROP (i)] =
        g_param_spec_int (g_intern_string (level_name), NULL, NULL,
                          PM_STATUS_LEVEL_UNKNOWN, PM_STATUS_LEVEL_ERROR,
                          PM_STATUS_LEVEL_UNKNOWN,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS);
    }

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
pm_status_init (PmStatus *self)
{
}

PmStatus *
pm_status_new (void)
{
  return g_object_new (PM_TYPE_STATUS, NULL);
}

/**
 * pm_status_set:
 * @text: (nullable): a few words for the status line; NULL for "Unknown"
 *
 * Sets what one item of the status line says.
 */
void
pm_status_set (PmStatus      *self,
               PmStatusItem   item,
               PmStatusLevel  level,
               const char    *text)
{
  g_return_if_fail (PM_IS_STATUS (self));
  g_return_if_fail (item < PM_STATUS_N_ITEMS);
  g_return_if_fail (level <= PM_STATUS_LEVEL_ERROR);

  if (g_strcmp0 (self->text[item], text) != 0)
    {
      g_free (self->text[item]);
      self->text[item] = g_strdup (text);
      g_object_notify_by_pspec (G_OBJECT (self), properties[TEXT_PROP (item)]);
    }

  if (self->level[item] != level)
    {
      self->level[item] = level;
      g_object_notify_by_pspec (G_OBJECT (self), properties[LEVEL_PROP (item)]);
    }
}

/* Back to "Unknown", for a part that lost track (a device unplugged, a link down). */
void
pm_status_reset (PmStatus     *self,
                 PmStatusItem  item)
{
  pm_status_set (self, item, PM_STATUS_LEVEL_UNKNOWN, NULL);
}

const char *
pm_status_get_text (PmStatus     *self,
                    PmStatusItem  item)
{
  g_return_val_if_fail (PM_IS_STATUS (self), NULL);
  g_return_val_if_fail (item < PM_STATUS_N_ITEMS, NULL);

  if (self->text[item] == NULL)
    return C_("status", "Unknown");

  return self->text[item];
}

PmStatusLevel
pm_status_get_level (PmStatus     *self,
                     PmStatusItem  item)
{
  g_return_val_if_fail (PM_IS_STATUS (self), PM_STATUS_LEVEL_UNKNOWN);
  g_return_val_if_fail (item < PM_STATUS_N_ITEMS, PM_STATUS_LEVEL_UNKNOWN);

  return self->level[item];
}

const char *
pm_status_item_title (PmStatusItem item)
{
  switch (item)
    {
    case PM_STATUS_ITEM_FUNDS:
      return _("Funds");
    case PM_STATUS_ITEM_NETWORK:
      return _("Network");
    case PM_STATUS_ITEM_INSPECTION:
      return _("Inspection");
    case PM_STATUS_ITEM_UPLOAD:
      return _("Upload");
    case PM_STATUS_N_ITEMS:
    default:
      g_return_val_if_reached (NULL);
    }
}

const char *
pm_status_level_css_class (PmStatusLevel level)
{
  switch (level)
    {
    case PM_STATUS_LEVEL_OK:
      return "status-ok";
    case PM_STATUS_LEVEL_WARNING:
      return "status-warning";
    case PM_STATUS_LEVEL_ERROR:
      return "status-error";
    case PM_STATUS_LEVEL_UNKNOWN:
    default:
      return "status-unknown";
    }
}
