/* pm-indicium-scan.c: Data Matrix reading with libdmtx */
#include "pm-indicium-scan.h"

#include <dmtx.h>

G_DEFINE_QUARK (pm-indicium-scan-error-quark, pm_indicium_scan_error)

/* Long enough for a 600 dpi label on a slow machine, short enough that a blank page does
 * not hang a tool. */
#define SCAN_TIMEOUT_MS 8000

GBytes *
pm_indicium_scan_surface (cairo_surface_t  *surface,
                          GError          **error)
{
  g_autofree guint8 *gray = NULL;
  cairo_surface_t *image;
  DmtxImage *dmtx_image;
  DmtxDecode *decode;
  DmtxRegion *region;
  DmtxMessage *message = NULL;
  DmtxTime timeout;
  GBytes *bytes = NULL;
  int width, height, stride;
  const guint8 *pixels;

  g_return_val_if_fail (surface != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* Flatten whatever format it is onto white, then to one byte of gray per pixel. */
  width = cairo_image_surface_get_width (surface);
  height = cairo_image_surface_get_height (surface);
  if (width <= 0 || height <= 0)
    {
      g_set_error (error, PM_INDICIUM_SCAN_ERROR, PM_INDICIUM_SCAN_ERROR_UNREADABLE_IMAGE,
                   "The image is empty");
      return NULL;
    }

  image = cairo_image_surface_create (CAIRO_FORMAT_RGB24, width, height);
  {
    cairo_t *cr = cairo_create (image);

    cairo_set_source_rgb (cr, 1, 1, 1);
    cairo_paint (cr);
    cairo_set_source_surface (cr, surface, 0, 0);
    cairo_paint (cr);
    cairo_destroy (cr);
  }
  cairo_surface_flush (image);

  pixels = cairo_image_surface_get_data (image);
  stride = cairo_image_surface_get_stride (image);
  gray = g_malloc ((gsize) width * height);
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        guint32 px = *(const guint32 *) (pixels + y * stride + x * 4);
        guint r = (px >> 16) & 0xff, g = (px >> 8) & 0xff, b = px & 0xff;

        gray[y * width + x] = (guint8) ((r * 30 + g * 59 + b * 11) / 100);
      }
  cairo_surface_destroy (image);

  dmtx_image = dmtxImageCreate (gray, width, height, DmtxPack8bppK);
  /* Our rows run top to bottom; libdmtx's default is bottom to top, which would read
   * a mirror image. */
  dmtxImageSetProp (dmtx_image, DmtxPropImageFlip, DmtxFlipNone);
  decode = dmtxDecodeCreate (dmtx_image, 1);

  timeout = dmtxTimeAdd (dmtxTimeNow (), SCAN_TIMEOUT_MS);
  while ((region = dmtxRegionFindNext (decode, &timeout)) != NULL)
    {
      message = dmtxDecodeMatrixRegion (decode, region, DmtxUndefined);
      dmtxRegionDestroy (&region);
      if (message != NULL)
        break;
    }

  if (message != NULL)
    {
      bytes = g_bytes_new (message->output, message->outputIdx);
      dmtxMessageDestroy (&message);
    }
  else
    g_set_error (error, PM_INDICIUM_SCAN_ERROR, PM_INDICIUM_SCAN_ERROR_NO_SYMBOL,
                 "No readable Data Matrix was found in the image: check that the whole "
                 "indicium is in the picture, sharp and not cut off");

  dmtxDecodeDestroy (&decode);
  dmtxImageDestroy (&dmtx_image);

  return bytes;
}

GBytes *
pm_indicium_scan_png (const char  *path,
                      GError     **error)
{
  cairo_surface_t *surface;
  GBytes *bytes;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  surface = cairo_image_surface_create_from_png (path);
  if (cairo_surface_status (surface) != CAIRO_STATUS_SUCCESS)
    {
      cairo_status_t status = cairo_surface_status (surface);
      /* cairo says "out of memory" for a file that is not a PNG at all (a PDF, say). */
      const char *why = status == CAIRO_STATUS_NO_MEMORY || status == CAIRO_STATUS_READ_ERROR
                        ? "it is not a PNG image, or it is damaged"
                        : cairo_status_to_string (status);

      g_set_error (error, PM_INDICIUM_SCAN_ERROR, PM_INDICIUM_SCAN_ERROR_UNREADABLE_IMAGE,
                   "Could not open “%s” as a PNG image: %s", path, why);
      cairo_surface_destroy (surface);
      return NULL;
    }

  bytes = pm_indicium_scan_surface (surface, error);
  cairo_surface_destroy (surface);

  return bytes;
}
