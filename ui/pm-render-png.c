/* pm-render-png.c: draws an SVG into a PNG of a given size, at build time
 *
 * The Lock page shows the application icon on the very first frame. Drawing the SVG
 * there would load an SVG renderer while the meter starts; a PNG made here once is read
 * from the GResource in well under a millisecond instead.
 *
 * Usage: pm-render-png INPUT.svg SIZE OUTPUT.png
 */
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <stdlib.h>

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  g_autoptr(GError) error = NULL;
  gint64 size;

  if (argc != 4)
    {
      g_printerr ("Usage: %s INPUT.svg SIZE OUTPUT.png\n", argv[0]);
      return 2;
    }

  size = g_ascii_strtoll (argv[2], NULL, 10);
  if (size <= 0 || size > 4096)
    {
      g_printerr ("%s: the size must be 1 to 4096 pixels, not “%s”\n", argv[0], argv[2]);
      return 2;
    }

  pixbuf = gdk_pixbuf_new_from_file_at_scale (argv[1], (int) size, (int) size, TRUE, &error);
  if (pixbuf == NULL || !gdk_pixbuf_save (pixbuf, argv[3], "png", &error, NULL))
    {
      g_printerr ("%s: %s\n", argv[0], error->message);
      return 1;
    }

  return 0;
}
