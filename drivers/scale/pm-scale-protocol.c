/* pm-scale-protocol.c: protocol names and the decoder every scale driver feeds */
#include "pm-scale-protocol.h"

#include "pm-mettler-8217.h"
#include "pm-nci.h"
#include "pm-sics.h"

static const struct
{
  const char      *name;
  PmScaleProtocol  protocol;
} protocol_names[] = {
  { "hid", PM_SCALE_PROTOCOL_HID },
  { "nci", PM_SCALE_PROTOCOL_NCI_SCP01 },
  { "nci-scp01", PM_SCALE_PROTOCOL_NCI_SCP01 },
  { "nci-scp02", PM_SCALE_PROTOCOL_NCI_SCP02 },
  { "mettler-8217", PM_SCALE_PROTOCOL_METTLER_8217 },
  { "8217", PM_SCALE_PROTOCOL_METTLER_8217 },
  { "sics", PM_SCALE_PROTOCOL_SICS },
  { "mt-sics", PM_SCALE_PROTOCOL_SICS },
};

gboolean
pm_scale_protocol_from_string (const char      *name,
                               PmScaleProtocol *out_protocol)
{
  if (name == NULL)
    return FALSE;

  for (gsize i = 0; i < G_N_ELEMENTS (protocol_names); i++)
    {
      if (g_ascii_strcasecmp (name, protocol_names[i].name) == 0)
        {
          *out_protocol = protocol_names[i].protocol;
          return TRUE;
        }
    }

  return FALSE;
}

const char *
pm_scale_protocol_to_string (PmScaleProtocol protocol)
{
  switch (protocol)
    {
    case PM_SCALE_PROTOCOL_HID: return "hid";
    case PM_SCALE_PROTOCOL_NCI_SCP01: return "nci";
    case PM_SCALE_PROTOCOL_NCI_SCP02: return "nci-scp02";
    case PM_SCALE_PROTOCOL_METTLER_8217: return "mettler-8217";
    case PM_SCALE_PROTOCOL_SICS: return "sics";
    default: g_return_val_if_reached ("hid");
    }
}

const char *
pm_scale_protocol_describe (PmScaleProtocol protocol)
{
  switch (protocol)
    {
    case PM_SCALE_PROTOCOL_HID: return "USB HID point-of-sale scale";
    case PM_SCALE_PROTOCOL_NCI_SCP01: return "NCI / Weigh-Tronix (SCP-01)";
    case PM_SCALE_PROTOCOL_NCI_SCP02: return "NCI / Weigh-Tronix (SCP-02)";
    case PM_SCALE_PROTOCOL_METTLER_8217: return "Mettler-Toledo 8217";
    case PM_SCALE_PROTOCOL_SICS: return "Mettler-Toledo MT-SICS";
    default: g_return_val_if_reached ("scale");
    }
}

gboolean
pm_scale_protocol_is_serial (PmScaleProtocol protocol)
{
  return protocol != PM_SCALE_PROTOCOL_HID;
}

struct _PmScaleDecoder
{
  PmScaleProtocol protocol;

  union
  {
    PmNciParser         nci;
    PmMettler8217Parser mettler;
    PmSicsParser        sics;
  } parser;

  /* HID */
  PmHidScaleReportFlags hid_flags;
  gboolean              discard_next;    /* the next data report is stale */
  gboolean              seen_data;       /* a data report since the device opened */
  guint                 foreign_run;     /* reports in a row that were not scale data */
};

PmScaleDecoder *
pm_scale_decoder_new (PmScaleProtocol protocol)
{
  PmScaleDecoder *decoder = g_new0 (PmScaleDecoder, 1);

  decoder->protocol = protocol;
  switch (protocol)
    {
    case PM_SCALE_PROTOCOL_NCI_SCP01:
      pm_nci_parser_init (&decoder->parser.nci, PM_NCI_PROFILE_SCP01);
      break;
    case PM_SCALE_PROTOCOL_NCI_SCP02:
      pm_nci_parser_init (&decoder->parser.nci, PM_NCI_PROFILE_SCP02);
      break;
    case PM_SCALE_PROTOCOL_METTLER_8217:
      pm_mettler_8217_parser_init (&decoder->parser.mettler);
      break;
    case PM_SCALE_PROTOCOL_SICS:
      pm_sics_parser_init (&decoder->parser.sics);
      break;
    case PM_SCALE_PROTOCOL_HID:
    default:
      break;
    }
  pm_scale_decoder_reset (decoder);

  return decoder;
}

void
pm_scale_decoder_free (PmScaleDecoder *decoder)
{
  g_free (decoder);
}

PmScaleProtocol
pm_scale_decoder_get_protocol (PmScaleDecoder *decoder)
{
  return decoder->protocol;
}

void
pm_scale_decoder_set_hid_flags (PmScaleDecoder        *decoder,
                                PmHidScaleReportFlags  flags)
{
  decoder->hid_flags = flags;
}

void
pm_scale_decoder_set_unit (PmScaleDecoder *decoder,
                           PmWeightUnit    unit)
{
  if (decoder->protocol == PM_SCALE_PROTOCOL_METTLER_8217)
    pm_mettler_8217_parser_set_unit (&decoder->parser.mettler, unit);
}

void
pm_scale_decoder_reset (PmScaleDecoder *decoder)
{
  switch (decoder->protocol)
    {
    case PM_SCALE_PROTOCOL_NCI_SCP01:
    case PM_SCALE_PROTOCOL_NCI_SCP02:
      pm_nci_parser_reset (&decoder->parser.nci);
      break;
    case PM_SCALE_PROTOCOL_METTLER_8217:
      pm_mettler_8217_parser_reset (&decoder->parser.mettler);
      break;
    case PM_SCALE_PROTOCOL_SICS:
      pm_sics_parser_reset (&decoder->parser.sics);
      break;
    case PM_SCALE_PROTOCOL_HID:
    default:
      decoder->discard_next = TRUE;
      decoder->seen_data = FALSE;
      decoder->foreign_run = 0;
      break;
    }
}

static gboolean
push_hid (PmScaleDecoder      *decoder,
          const guint8        *data,
          gsize                len,
          PmScaleDecoderFunc   func,
          gpointer             user_data,
          GError             **error)
{
  PmScaleReading *reading = NULL;
  PmHidScaleReportKind kind;

  kind = pm_hid_scale_report_parse (data, len, decoder->hid_flags, &reading);
  if (kind == PM_HID_SCALE_REPORT_IGNORED)
    {
      /* Attribute and status reports are normal now and then; a device that sends
       * nothing else (a keyboard-like device, hiddev events, a scale that needs a vendor
       * command first) would otherwise keep the operator waiting for ever. */
      if (!decoder->seen_data
          && ++decoder->foreign_run >= PM_SCALE_DECODER_MAX_FOREIGN_REPORTS)
        {
          g_set_error (error, PM_SCALE_ERROR, PM_SCALE_ERROR_UNSUPPORTED_DEVICE,
                       "Unsupported scale: the device sends reports, but none is a USB "
                       "point-of-sale scale weight. Use a HID POS scale (Dymo, Stamps.com, "
                       "Mettler-Toledo PS60, Fairbanks) or set the scale up as serial");
          return FALSE;
        }
      return TRUE;
    }

  decoder->foreign_run = 0;
  decoder->seen_data = TRUE;

  if (decoder->discard_next)
    {
      g_autofree char *hex = pm_scale_reading_dup_raw_hex (reading);

      g_debug ("Discarding the first report after opening (%s): it may repeat the last "
               "weighing", hex);
      decoder->discard_next = FALSE;
      pm_scale_reading_free (reading);
      return TRUE;
    }

  func (PM_SCALE_REPLY_READING, reading, user_data);
  return TRUE;
}

gboolean
pm_scale_decoder_push (PmScaleDecoder      *decoder,
                       const guint8        *data,
                       gsize                len,
                       PmScaleDecoderFunc   func,
                       gpointer             user_data,
                       GError             **error)
{
  g_return_val_if_fail (decoder != NULL, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail (func != NULL, FALSE);

  if (decoder->protocol == PM_SCALE_PROTOCOL_HID)
    return push_hid (decoder, data, len, func, user_data, error);

  for (gsize i = 0; i < len; i++)
    {
      PmScaleReading *reading = NULL;
      PmScaleReplyKind kind;

      switch (decoder->protocol)
        {
        case PM_SCALE_PROTOCOL_NCI_SCP01:
        case PM_SCALE_PROTOCOL_NCI_SCP02:
          kind = pm_nci_parser_push (&decoder->parser.nci, data[i], &reading);
          break;
        case PM_SCALE_PROTOCOL_METTLER_8217:
          kind = pm_mettler_8217_parser_push (&decoder->parser.mettler, data[i], &reading);
          break;
        case PM_SCALE_PROTOCOL_SICS:
          kind = pm_sics_parser_push (&decoder->parser.sics, data[i], &reading);
          break;
        case PM_SCALE_PROTOCOL_HID:
        default:
          g_assert_not_reached ();
        }

      if (kind != PM_SCALE_REPLY_NONE)
        func (kind, reading, user_data);
      else
        g_assert (reading == NULL);
    }

  return TRUE;
}
