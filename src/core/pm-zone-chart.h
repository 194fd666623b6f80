/* pm-zone-chart.h: USPS zones from the origin and destination ZIP Codes
 *
 * Zone-priced classes (USPS Ground Advantage, Priority Mail, Priority Mail Express) cost
 * more the farther the piece goes. USPS publishes the distance as a zone chart for each
 * origin 3-digit ZIP (the meter's licensing post office): destination 3-digit ZIP ranges
 * to zones 1 to 9, with two marks per range, "*" (same network distribution center) and
 * "+" (some 5-digit ZIP Codes in the range have a zone of their own, listed in a separate
 * exceptions file). Zone 9 is the Freely Associated States, as the chart marks them.
 *
 * A PmZoneChart holds the charts of any number of origins, each as a table indexed by
 * destination 3-digit ZIP, so a lookup is two array reads plus, only where the chart
 * lists 5-digit exceptions for the destination, a binary search. Charts come from the
 * data files in data/zones (format in data/zones/README.md, written by postmeter-zones)
 * or straight from the public zone-chart CSV layout.
 *
 * On a meter, charts are installed with pm_zone_chart_install_directory(): each file is a
 * signed package (pm-package.h, name "zone-chart-606") and is read only once its detached
 * signature, length, hash and expiry are checked. The load functions are for data already
 * verified and for the tools that make the files.
 *
 * Load everything before sharing a chart: once it is given to a PmRating or another
 * thread it must not change, and then lookups may run on any thread.
 */
#pragma once

#include <glib.h>

#include "pm-rate-package.h"
#include "pm-signature.h"

G_BEGIN_DECLS

#define PM_ZONE_CHART_ERROR (pm_zone_chart_error_quark ())

typedef enum
{
  PM_ZONE_CHART_ERROR_MALFORMED,            /* a data file or CSV line that does not read */
  PM_ZONE_CHART_ERROR_CONFLICT,             /* overlapping ranges, or one origin twice */
  PM_ZONE_CHART_ERROR_MALFORMED_ZIP,        /* a ZIP Code given to a lookup is not one */
  PM_ZONE_CHART_ERROR_UNKNOWN_ORIGIN,       /* no chart for the origin */
  PM_ZONE_CHART_ERROR_UNKNOWN_DESTINATION,  /* the origin's chart has no zone for it */
} PmZoneChartError;

GQuark pm_zone_chart_error_quark (void);

/* What a lookup found besides the zone. */
typedef enum
{
  PM_ZONE_FLAG_SAME_NDC = 1 << 0,           /* "*": same network distribution center */
  PM_ZONE_FLAG_EXCEPTION = 1 << 1,          /* the zone is a 5-digit exception's */
  /* "+": USPS lists 5-digit exceptions in this range, and the chart for this origin was
   * loaded without them, so the zone is the 3-digit range's and may be wrong. */
  PM_ZONE_FLAG_EXCEPTIONS_MISSING = 1 << 2,
  /* The chart is not the one USPS publishes now (the shipped charts are from 2018). */
  PM_ZONE_FLAG_NOT_CURRENT = 1 << 3,
} PmZoneFlags;

/* The content type the signature of a zone chart data file names. */
#define PM_ZONE_CHART_CONTENT_TYPE "application/vnd.postmeter.zone-chart+text"

/* Zones are 1 to 9. */
#define PM_ZONE_MAX 9
/* Longest accepted text line in a data file or CSV: real lines are under 40 bytes. */
#define PM_ZONE_CHART_MAX_LINE 512
/* Largest data file or CSV read in one go: the national CSV of every origin is 4 MB. */
#define PM_ZONE_CHART_MAX_BYTES (64 * 1024 * 1024)

typedef struct _PmZoneChart PmZoneChart;

/* The shape of a zone lookup, so rating can use any (tests use fixed zones).
 * pm_zone_chart_lookup() is one. mail_class matters only to exceptions that apply to
 * one class (USPS lists some for Priority Mail only); out_flags gets PmZoneFlags. */
typedef gboolean (*PmZoneLookupFunc) (PmZoneChart *chart,
                                      PmMailClass  mail_class,
                                      const char  *origin_zip,
                                      const char  *destination_zip,
                                      guint       *out_zone,
                                      guint       *out_flags,
                                      GError     **error);

PmZoneChart *pm_zone_chart_new              (void);
PmZoneChart *pm_zone_chart_ref              (PmZoneChart  *self);
void         pm_zone_chart_unref            (PmZoneChart  *self);

/* One data file (data/zones/zone-chart-606.txt): one origin. Refused whole, with the line
 * number, if any line is wrong or the origin is already loaded; the chart is then
 * unchanged. */
gboolean     pm_zone_chart_load_data        (PmZoneChart  *self,
                                             const char   *data,
                                             gsize         length,
                                             GError      **error);
gboolean     pm_zone_chart_load_file        (PmZoneChart  *self,
                                             const char   *path,
                                             GError      **error);
/* Every zone-chart-*.txt in a folder, in name order; stops at the first refused. */
gboolean     pm_zone_chart_load_directory   (PmZoneChart  *self,
                                             const char   *path,
                                             GError      **error);
/* The same for signed files: zone-chart-606.txt is used only if zone-chart-606.txt.sig
 * is the trusted key's signature over its exact bytes, under the name "zone-chart-606",
 * unexpired, and the file's Origin is 606. Nothing is parsed before the signature holds;
 * a refused file changes nothing and its name is in the error. */
gboolean     pm_zone_chart_install_file     (PmZoneChart  *self,
                                             const char   *path,
                                             PmVerifyKey  *trusted_key,
                                             GError      **error);
gboolean     pm_zone_chart_install_directory (PmZoneChart *self,
                                              const char  *path,
                                              PmVerifyKey *trusted_key,
                                              GError     **error);
/* "zone-chart-606": the name a chart's signature carries. */
char        *pm_zone_chart_package_name     (const char   *origin_zip3);

/* The public zone-chart CSV layout (shared/data/usps-zone-chart-2018.csv: origin_zip,
 * dest_zip_start, dest_zip_end, zone, modifier_1, modifier_2, header first). origins is
 * a list of 3-digit origins to take, or NULL for all. published ("2018-06") and current
 * describe the chart and are kept with each origin. The CSV has no 5-digit exceptions;
 * ranges marked "+" then answer with PM_ZONE_FLAG_EXCEPTIONS_MISSING. A malformed line
 * refuses the whole import (with its line number) and changes nothing. */
gboolean     pm_zone_chart_import_csv       (PmZoneChart        *self,
                                             const char         *data,
                                             gsize               length,
                                             const char * const *origins,
                                             const char         *published,
                                             const char         *source,
                                             gboolean            current,
                                             GError            **error);

/* A 5-digit exception for one origin already loaded: destinations start..end (5 digits,
 * inclusive) are in zone for every class, or for mail_class only when only_class. */
gboolean     pm_zone_chart_add_exception    (PmZoneChart  *self,
                                             const char   *origin_zip3,
                                             const char   *destination_start,
                                             const char   *destination_end,
                                             guint         zone,
                                             gboolean      only_class,
                                             PmMailClass   mail_class,
                                             GError      **error);

/* The zone from the origin ZIP (5 digits or ZIP+4; only its first three count) to the
 * destination ZIP (5 digits or ZIP+4 in any form pm_address_parse_zip() takes). Errors
 * name the field ("Origin ZIP: …", "Destination ZIP: …") and say what to do. */
gboolean     pm_zone_chart_lookup           (PmZoneChart  *self,
                                             PmMailClass   mail_class,
                                             const char   *origin_zip,
                                             const char   *destination_zip,
                                             guint        *out_zone,
                                             guint        *out_flags,
                                             GError      **error);

/* Origins loaded, as a NULL-terminated list of "606"-style strings (free with
 * g_strfreev). */
char       **pm_zone_chart_list_origins     (PmZoneChart  *self);
gboolean     pm_zone_chart_has_origin       (PmZoneChart  *self,
                                             const char   *origin_zip3);
/* Where an origin's chart comes from and when it was published, or NULL. */
const char  *pm_zone_chart_get_source       (PmZoneChart  *self,
                                             const char   *origin_zip3);
const char  *pm_zone_chart_get_published    (PmZoneChart  *self,
                                             const char   *origin_zip3);
/* One origin's chart as a data file, as pm_zone_chart_load_data() reads it. */
char        *pm_zone_chart_to_data          (PmZoneChart  *self,
                                             const char   *origin_zip3);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmZoneChart, pm_zone_chart_unref)

G_END_DECLS
