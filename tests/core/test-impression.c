/* test-impression.c: printed impressions, decoded from their own PNG */
#define _GNU_SOURCE     /* memmem */

#include <stdio.h>
#include <string.h>
#include <gio/gio.h>
#include <glib/gstdio.h>

#include "pm-impression.h"
#include "pm-indicium.h"
#include "pm-indicium-scan.h"

static char *work_dir;

static GBytes *
make_indicium (PmSigningKey *key,
               PmMills       postage,
               guint8        flags)
{
  g_autoptr(GError) error = NULL;
  PmIndicium indicium = { 0 };
  GBytes *bytes;

  indicium.version = PM_INDICIUM_VERSION_1;
  indicium.algorithm = PM_INDICIUM_ALGORITHM_ECDSA_P256_SHA256;
  indicium.certificate_serial = 7001;
  memcpy (indicium.device_model, "PMSW", 5);
  indicium.device_serial = 12345;
  indicium.ascending = 500000 + postage;
  indicium.postage = postage;
  indicium.date_of_mailing = 20261203;
  indicium.origin_zip = 60601;
  indicium.destination_zip = 100010000;
  memcpy (indicium.software_id, "PM01", 5);
  indicium.descending = 99500000 - postage;
  indicium.rate_category = PM_RATE_CATEGORY_FIRST_CLASS_LETTER;
  indicium.flags = flags;

  bytes = pm_indicium_sign (&indicium, key, &error);
  g_assert_no_error (error);
  return bytes;
}

/* Every resolution: write the PNG, read it back, decode the symbol with libdmtx, check the
 * bytes are the PSD's and the signature holds. */
static void
test_postage_roundtrip (void)
{
  static const double resolutions[] = { 203, 300, 600 };
  g_autoptr(GError) error = NULL;
  g_autoptr(PmSigningKey) key = pm_signing_key_generate (&error);
  g_autoptr(PmVerifyKey) verify_key = pm_signing_key_get_verify_key (key);
  g_autoptr(GBytes) indicium = make_indicium (key, 730, PM_INDICIUM_FLAG_SPECIMEN);
  g_autoptr(PmImpression) impression = pm_impression_new_postage (indicium, &error);

  g_assert_no_error (error);
  g_assert_true (pm_impression_is_specimen (impression));

  for (guint i = 0; i < G_N_ELEMENTS (resolutions); i++)
    {
      g_autofree char *name = g_strdup_printf ("postage-%g.png", resolutions[i]);
      g_autofree char *path = g_build_filename (work_dir, name, NULL);
      g_autoptr(GBytes) scanned = NULL;
      PmIndicium fields;
      int width, height;
      cairo_surface_t *png;

      g_assert_true (pm_impression_write_png (impression, path, resolutions[i], &error));
      g_assert_no_error (error);

      png = cairo_image_surface_create_from_png (path);
      pm_impression_get_size_dots (impression, resolutions[i], &width, &height);
      g_assert_cmpint (cairo_image_surface_get_width (png), ==, width);
      g_assert_cmpint (cairo_image_surface_get_height (png), ==, height);
      g_assert_cmpint (width, ==, (int) (2.8 * resolutions[i] + 0.999));
      cairo_surface_destroy (png);

      scanned = pm_indicium_scan_png (path, &error);
      g_assert_no_error (error);
      g_assert_true (g_bytes_equal (scanned, indicium));
      g_assert_true (pm_indicium_verify (g_bytes_get_data (scanned, NULL),
                                         g_bytes_get_size (scanned), verify_key, &fields,
                                         &error));
      g_assert_no_error (error);
      g_assert_cmpint (fields.postage, ==, 730);
    }
}

/* The specimen banner is reverse print across the top: a solid dark band. A payload without
 * the flag gets no band, and a shorter impression. */
static void
test_specimen_banner (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PmSigningKey) key = pm_signing_key_generate (&error);
  g_autoptr(GBytes) specimen = make_indicium (key, 1000, PM_INDICIUM_FLAG_SPECIMEN);
  g_autoptr(GBytes) real = make_indicium (key, 1000, 0);
  g_autoptr(PmImpression) with_banner = pm_impression_new_postage (specimen, &error);
  g_autoptr(PmImpression) without = pm_impression_new_postage (real, &error);
  cairo_surface_t *image;
  double h1, h2;
  const guint8 *data;
  int stride;
  guint dark = 0;

  pm_impression_get_size (with_banner, NULL, &h1);
  pm_impression_get_size (without, NULL, &h2);
  g_assert_cmpfloat (h1 - h2, >, 0.19);

  image = pm_impression_render_image (with_banner, 300, &error);
  g_assert_no_error (error);
  cairo_surface_flush (image);
  data = cairo_image_surface_get_data (image);
  stride = cairo_image_surface_get_stride (image);
  /* Row 3 at 300 dpi runs through the banner above its lettering: all dark. */
  for (int x = 0; x < cairo_image_surface_get_width (image); x++)
    if ((*(const guint32 *) (data + 3 * stride + x * 4) & 0xff) < 0x40)
      dark++;
  g_assert_cmpuint (dark, ==, (guint) cairo_image_surface_get_width (image));

  /* Through the middle of the band (0.10 in): white lettering on black, centred, with a
   * dark margin at both ends. */
  {
    int width = cairo_image_surface_get_width (image);
    int first_light = -1, last_light = -1;
    guint light = 0;

    for (int x = 0; x < width; x++)
      if ((*(const guint32 *) (data + 30 * stride + x * 4) & 0xff) > 0xc0)
        {
          light++;
          if (first_light < 0)
            first_light = x;
          last_light = x;
        }
    g_assert_cmpuint (light, >, (guint) width / 20);
    g_assert_cmpint (first_light, >, 6);
    g_assert_cmpint (width - 1 - last_light, >, 6);
    g_assert_cmpint (ABS (first_light - (width - 1 - last_light)), <, 0.05 * 300);
  }
  cairo_surface_destroy (image);

  image = pm_impression_render_image (without, 300, &error);
  cairo_surface_flush (image);
  data = cairo_image_surface_get_data (image);
  stride = cairo_image_surface_get_stride (image);
  dark = 0;
  for (int x = 0; x < cairo_image_surface_get_width (image); x++)
    if ((*(const guint32 *) (data + 3 * stride + x * 4) & 0xff) < 0x40)
      dark++;
  g_assert_cmpuint (dark, ==, 0);
  cairo_surface_destroy (image);
}

/* The text of a PDF as cairo writes it, one line per text-showing operator: enough to read
 * back what an impression prints without a PDF library. Streams are inflated with GIO's
 * zlib converter; string codes are mapped to characters through the fonts' ToUnicode maps. */
static GBytes *
inflate (const guint8 *data,
         gsize         length)
{
  g_autoptr(GZlibDecompressor) zlib = g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_ZLIB);
  g_autoptr(GInputStream) raw = g_memory_input_stream_new_from_data (data, (gssize) length,
                                                                     NULL);
  g_autoptr(GInputStream) in = g_converter_input_stream_new (raw, G_CONVERTER (zlib));
  g_autoptr(GByteArray) out = g_byte_array_new ();
  guint8 buffer[4096];
  gssize n;

  while ((n = g_input_stream_read (in, buffer, sizeof buffer, NULL, NULL)) > 0)
    g_byte_array_append (out, buffer, (guint) n);

  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

/* "<53> <0053>" pairs between beginbfchar and endbfchar. */
static void
read_cmap (const char *text,
           gunichar    map[256])
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  gboolean inside = FALSE;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      unsigned code, unicode;

      if (g_str_has_suffix (lines[i], "beginbfchar"))
        inside = TRUE;
      else if (g_str_has_prefix (lines[i], "endbfchar"))
        inside = FALSE;
      else if (inside && sscanf (lines[i], "<%x> <%x>", &code, &unicode) == 2 && code < 256)
        map[code] = unicode;
    }
}

/* Appends the codes of one PDF string starting at *p ('(' or '<'); moves *p past it. */
static void
read_pdf_string (const char **p,
                 GByteArray  *codes)
{
  const char *s = *p;

  if (*s == '<')
    {
      for (s++; *s != '\0' && *s != '>'; s += 2)
        {
          guint8 code = (guint8) (g_ascii_xdigit_value (s[0]) * 16
                                  + g_ascii_xdigit_value (s[1]));

          g_byte_array_append (codes, &code, 1);
        }
      *p = *s != '\0' ? s + 1 : s;
      return;
    }

  for (s++; *s != '\0' && *s != ')'; s++)
    {
      guint8 code = (guint8) *s;

      if (*s == '\\')
        {
          s++;
          if (*s >= '0' && *s <= '7')
            {
              code = 0;
              for (int i = 0; i < 3 && *s >= '0' && *s <= '7'; i++, s++)
                code = (guint8) (code * 8 + (*s - '0'));
              s--;
            }
          else if (*s == 'n')
            code = '\n';
          else
            code = (guint8) *s;
        }
      g_byte_array_append (codes, &code, 1);
    }
  *p = *s != '\0' ? s + 1 : s;
}

static char *
pdf_text (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  g_autoptr(GPtrArray) streams = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(GString) text = g_string_new (NULL);
  gunichar map[256];
  gsize length = 0;
  const char *p;

  g_assert_true (g_file_get_contents (path, &contents, &length, &error));
  for (guint i = 0; i < 256; i++)
    map[i] = i;

  for (p = contents; (p = memmem (p, (gsize) (contents + length - p), "stream", 6)) != NULL; )
    {
      const char *start = p + strlen ("stream");
      const char *end;

      if (p > contents && p[-1] == 'd')       /* "endstream" */
        {
          p = start;
          continue;
        }
      if (*start == '\r')
        start++;
      if (*start == '\n')
        start++;
      end = memmem (start, (gsize) (contents + length - start), "endstream", 9);
      if (end == NULL)
        break;
      g_ptr_array_add (streams, inflate ((const guint8 *) start, (gsize) (end - start)));
      p = end + 9;
    }

  for (guint i = 0; i < streams->len; i++)
    {
      g_autofree char *s = g_strndup (g_bytes_get_data (streams->pdata[i], NULL),
                                      g_bytes_get_size (streams->pdata[i]));

      if (strstr (s, "begincmap") != NULL)
        read_cmap (s, map);
    }

  for (guint i = 0; i < streams->len; i++)
    {
      g_autofree char *s = g_strndup (g_bytes_get_data (streams->pdata[i], NULL),
                                      g_bytes_get_size (streams->pdata[i]));
      g_autoptr(GByteArray) codes = g_byte_array_new ();

      if (strstr (s, "BT") == NULL || strstr (s, "begincmap") != NULL)
        continue;

      /* Strings gather until the operator that shows them: Tj, TJ, ' or ". */
      for (p = s; *p != '\0'; )
        {
          if (*p == '(' || (*p == '<' && p[1] != '<'))
            read_pdf_string (&p, codes);
          else if ((p[0] == 'T' && (p[1] == 'j' || p[1] == 'J')) || *p == '\'' || *p == '"')
            {
              for (guint j = 0; j < codes->len; j++)
                g_string_append_unichar (text, map[codes->data[j]]);
              if (codes->len > 0)
                g_string_append_c (text, '\n');
              g_byte_array_set_size (codes, 0);
              p++;
            }
          else
            p++;
        }
    }

  return g_string_free (g_steal_pointer (&text), FALSE);
}

static void
assert_pdf_shows (const char         *pdf_path,
                  const char * const *lines)
{
  g_autofree char *text = pdf_text (pdf_path);
  g_auto(GStrv) shown = g_strsplit (text, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (!g_strv_contains ((const char * const *) shown, lines[i]))
        g_error ("“%s” is not among the PDF's lines:\n%s", lines[i], text);
    }
}

static void
test_pdf_and_stamps (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PmSigningKey) key = pm_signing_key_generate (&error);
  g_autoptr(GBytes) indicium = make_indicium (key, 16777215, PM_INDICIUM_FLAG_SPECIMEN);
  g_autoptr(PmImpression) postage = pm_impression_new_postage (indicium, &error);
  g_autoptr(GTimeZone) chicago = g_time_zone_new_identifier ("America/Chicago");
  g_autoptr(GDateTime) when = g_date_time_new (chicago, 2026, 12, 3, 14, 5, 0);
  g_autoptr(PmImpression) stamp = pm_impression_new_date_stamp (when, NULL);
  g_autoptr(PmImpression) redate = pm_impression_new_redate (20261204, 60601, "PMSW00012345",
                                                             TRUE);
  g_autofree char *pdf = g_build_filename (work_dir, "postage.pdf", NULL);
  g_autofree char *contents = NULL;
  gsize length = 0;
  const PmImpression *all[] = { postage, stamp, redate };
  /* What each prints, line by line, read back from the PDF itself. */
  static const char *const postage_lines[] = {
    PM_IMPRESSION_SPECIMEN_LEGEND, "US POSTAGE", "$16,777.21", "5", "FIRST-CLASS MAIL",
    "DEC 03 2026", "MAILED FROM ZIP 60601", "PMSW00012345", NULL
  };
  static const char *const stamp_lines[] = { "RECEIVED", "DEC 03 2026", "2:05 PM", NULL };
  static const char *const redate_lines[] = {
    PM_IMPRESSION_SPECIMEN_LEGEND, "US POSTAGE", "$0.00", "DATE CORRECTION", "DEC 04 2026",
    "MAILED FROM ZIP 60601", "PMSW00012345", NULL
  };
  const char *const *lines[] = { postage_lines, stamp_lines, redate_lines };

  g_assert_cmpint (pm_impression_get_kind (stamp), ==, PM_IMPRESSION_DATE_STAMP);
  g_assert_cmpint (pm_impression_get_kind (redate), ==, PM_IMPRESSION_REDATE);
  g_assert_true (pm_impression_is_specimen (redate));

  for (guint i = 0; i < G_N_ELEMENTS (all); i++)
    {
      double width, height;

      g_assert_true (pm_impression_write_pdf (all[i], pdf, 300, &error));
      g_assert_no_error (error);
      g_assert_true (g_file_get_contents (pdf, &contents, &length, &error));
      g_assert_true (g_str_has_prefix (contents, "%PDF-"));
      pm_impression_get_size (all[i], &width, &height);
      g_assert_cmpfloat (width, >, 1.5);
      g_clear_pointer (&contents, g_free);
      assert_pdf_shows (pdf, lines[i]);

      /* The date stamp has no value and no legend; the others always carry it here. */
      {
        g_autofree char *text = pdf_text (pdf);

        g_assert_cmpint (strstr (text, PM_IMPRESSION_SPECIMEN_LEGEND) != NULL, ==,
                         pm_impression_get_kind (all[i]) != PM_IMPRESSION_DATE_STAMP);
      }
    }

  /* An indicium without the specimen flag prints no legend. */
  {
    g_autoptr(GBytes) real = make_indicium (key, 730, 0);
    g_autoptr(PmImpression) real_print = pm_impression_new_postage (real, &error);
    g_autofree char *text = NULL;
    static const char *const real_lines[] = { "US POSTAGE", "$0.73", "0", NULL };

    g_assert_true (pm_impression_write_pdf (real_print, pdf, 203, &error));
    g_assert_no_error (error);
    assert_pdf_shows (pdf, real_lines);
    text = pdf_text (pdf);
    g_assert_null (strstr (text, "SPECIMEN"));
  }

  g_assert_false (pm_impression_write_png (postage, "/nonexistent/dir/x.png", 300, &error));
  g_assert_error (error, PM_IMPRESSION_ERROR, PM_IMPRESSION_ERROR_WRITE);
  g_clear_error (&error);
  g_assert_false (pm_impression_write_png (postage, pdf, 10, &error));
  g_assert_error (error, PM_IMPRESSION_ERROR, PM_IMPRESSION_ERROR_BAD_RESOLUTION);
  g_clear_error (&error);

  /* A payload that is not an indicium is refused with a reason. */
  {
    g_autoptr(GBytes) junk = g_bytes_new_static ("junk", 4);

    g_assert_null (pm_impression_new_postage (junk, &error));
    g_assert_error (error, PM_IMPRESSION_ERROR, PM_IMPRESSION_ERROR_BAD_INDICIUM);
  }

  /* Keep the PNGs for a look when asked: G_TEST_KEEP_IMPRESSIONS=folder. */
  if (g_getenv ("G_TEST_KEEP_IMPRESSIONS") != NULL)
    {
      const char *dir = g_getenv ("G_TEST_KEEP_IMPRESSIONS");
      g_autofree char *a = g_build_filename (dir, "postage-300.png", NULL);
      g_autofree char *b = g_build_filename (dir, "date-stamp-300.png", NULL);
      g_autofree char *c = g_build_filename (dir, "redate-300.png", NULL);
      g_autofree char *d = g_build_filename (dir, "postage-203.png", NULL);

      g_assert_true (pm_impression_write_png (postage, a, 300, NULL));
      g_assert_true (pm_impression_write_png (stamp, b, 300, NULL));
      g_assert_true (pm_impression_write_png (redate, c, 300, NULL));
      g_assert_true (pm_impression_write_png (postage, d, 203, NULL));
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  work_dir = g_dir_make_tmp ("test-impression-XXXXXX", NULL);
  g_assert_nonnull (work_dir);

  g_test_add_func ("/core/impression/postage/png-roundtrip", test_postage_roundtrip);
  g_test_add_func ("/core/impression/postage/specimen-banner", test_specimen_banner);
  g_test_add_func ("/core/impression/pdf-and-stamps", test_pdf_and_stamps);

  return g_test_run ();
}
