/* pm-rating.h: what a piece costs on its date of mailing
 *
 * A PmRating holds the installed rate packages and a zone chart. pm_rating_quote() is a
 * pure function of them and the request: the same request on the same packages always
 * gives the same quote. It allocates nothing unless it fails, so a screen can re-rate on
 * every scale reading.
 *
 * Packages reach a PmRating only through pm_rating_install() (signature checked, then
 * parsed) or pm_rating_add_package() (already verified by the caller). A refused package
 * changes nothing: the installed one stays in force.
 *
 * Thread safety: installing and quoting may happen on different threads; each quote holds
 * a reference to the package it used, so its text stays valid until pm_quote_clear().
 */
#pragma once

#include <glib.h>

#include "pm-money.h"
#include "pm-package.h"
#include "pm-rate-package.h"
#include "pm-signature.h"
#include "pm-weight.h"
#include "pm-zone-chart.h"

G_BEGIN_DECLS

#define PM_RATING_ERROR (pm_rating_error_quark ())

typedef enum
{
  PM_RATING_ERROR_INVALID_PIECE,         /* weight zero or negative, sizes inconsistent */
  PM_RATING_ERROR_TOO_HEAVY,             /* above the class's weight limit */
  PM_RATING_ERROR_TOO_LARGE,             /* above the class's size limits */
  PM_RATING_ERROR_TOO_SMALL,             /* below the smallest mailable size */
  PM_RATING_ERROR_NONMACHINABLE,         /* the shape cannot go at this class's price */
  PM_RATING_ERROR_ORIGIN_REQUIRED,
  PM_RATING_ERROR_DESTINATION_REQUIRED,
  PM_RATING_ERROR_ZONE,                  /* the zone chart has no answer */
  PM_RATING_ERROR_NO_PACKAGE,            /* no rate package in force on the date */
  PM_RATING_ERROR_CLASS_NOT_AVAILABLE,   /* the package has no prices for the class */
  PM_RATING_ERROR_NO_PRICE,              /* no published price for this weight or zone */
  PM_RATING_ERROR_SERVICE_NOT_AVAILABLE, /* the extra service cannot be had here */
  PM_RATING_ERROR_DECLARED_VALUE,        /* insurance without a value, or above the tiers */
  PM_RATING_ERROR_OLDER_PACKAGE,         /* a package older than the installed one */
} PmRatingError;

GQuark pm_rating_error_quark (void);

typedef enum
{
  PM_PIECE_RIGID = 1 << 0,
  PM_PIECE_NONMACHINABLE = 1 << 1,   /* clasps, strings, lumpy, vertical, polybag... */
  PM_PIECE_NONRECTANGULAR = 1 << 2,  /* parcels: volume × 0.785 for dimensional weight */
} PmPieceFlags;

typedef struct
{
  PmWeight  weight;
  /* Sizes in thousandths of an inch, any order (sorted when rated); all 0 = not measured. */
  guint32   length;
  guint32   width;
  guint32   thickness;
  PmShape   shape;
  guint     flags;             /* PmPieceFlags */
} PmMailPiece;

/* Who pays which price list: a meter pays metered or commercial prices where published,
 * retail otherwise; a counter pays stamped and retail prices. */
typedef enum
{
  PM_PRICE_CHANNEL_METER,
  PM_PRICE_CHANNEL_RETAIL,
} PmPriceChannel;

typedef struct
{
  PmMailPiece     piece;
  PmMailClass     mail_class;
  guint           services;        /* PmService bits */
  PmMills         declared_value;  /* for insurance */
  PmPriceChannel  channel;
  const char     *origin_zip;      /* NULL or "" when not known */
  const char     *destination_zip;
  PmRateDate      date;            /* date of mailing, YYYYMMDD */
} PmRateRequest;

typedef enum
{
  PM_QUOTE_LINE_POSTAGE,
  PM_QUOTE_LINE_SURCHARGE,
  PM_QUOTE_LINE_SERVICE,
} PmQuoteLineKind;

typedef struct
{
  PmQuoteLineKind  kind;
  const char      *label;    /* owned by the package the quote holds */
  PmMills          amount;
} PmQuoteLine;

typedef enum
{
  PM_QUOTE_WARNING_SECONDARY_SOURCE = 1 << 0, /* a price from a third-party source */
  PM_QUOTE_WARNING_PROVISIONAL = 1 << 1,      /* a derived or unconfirmed price */
  PM_QUOTE_WARNING_PARTIAL_TABLE = 1 << 2,    /* from a table with published gaps */
  PM_QUOTE_WARNING_DIMENSIONAL_WEIGHT = 1 << 3,
  PM_QUOTE_WARNING_SIZE_NOT_GIVEN = 1 << 4,   /* size limits could not be checked */
  PM_QUOTE_WARNING_NONMACHINABLE = 1 << 5,    /* the surcharge applies */
  PM_QUOTE_WARNING_DIMENSIONAL_CAPPED = 1 << 6, /* dimensional weight above the limit */
  PM_QUOTE_WARNING_ZONE_EXCEPTIONS = 1 << 7,  /* the zone chart lacks 5-digit exceptions
                                               * USPS lists for the destination */
  PM_QUOTE_WARNING_ZONE_CHART_OLD = 1 << 8,   /* the zone chart is not the current one */
} PmQuoteWarning;
#define PM_QUOTE_WARNING_COUNT 9

#define PM_QUOTE_MAX_LINES 12

typedef struct
{
  PmMills          total;
  guint            zone;               /* 0 when the price does not depend on it */
  guint            zone_flags;         /* PmZoneFlags of the zone lookup */
  gint64           billed_picograms;   /* the weight the price was looked up with */
  const char      *weight_break;       /* the break that priced it: "4 oz", "3 lb" */
  guint            warnings;           /* PmQuoteWarning bits */
  PmRatePackage   *package;            /* owned: the package in force on the date */
  const PmRateTable *table;            /* in package */
  guint            n_lines;
  PmQuoteLine      lines[PM_QUOTE_MAX_LINES];
} PmQuote;

typedef struct _PmRating PmRating;

PmRating      *pm_rating_new                (void);
PmRating      *pm_rating_ref                (PmRating            *self);
void           pm_rating_unref              (PmRating            *self);

/* Zone-priced classes get their zone from the chart through lookup. The chart is not
 * owned: the caller keeps it alive while it is set. Tests use it for fixed zones. */
void           pm_rating_set_zone_chart     (PmRating            *self,
                                             PmZoneChart         *chart,
                                             PmZoneLookupFunc     lookup);
/* The same with pm_zone_chart_lookup(), holding a reference to the chart (NULL unsets).
 * The chart must be fully loaded: it is shared with every quote from now on. */
void           pm_rating_set_zones          (PmRating            *self,
                                             PmZoneChart         *chart);
/* Verifies the signature envelope, parses, and installs in one step; on any error the
 * packages in force do not change. */
gboolean       pm_rating_install            (PmRating            *self,
                                             GBytes              *signature_file,
                                             GBytes              *content,
                                             PmVerifyKey         *trusted_key,
                                             GError             **error);
/* Installs one package file with its detached signature file (which may be missing:
 * then the package is refused as unsigned). */
gboolean       pm_rating_install_file       (PmRating            *self,
                                             const char          *file,
                                             const char          *signature_file,
                                             PmVerifyKey         *trusted_key,
                                             GError             **error);
/* The paths of the *.xml packages in a folder, in name order (a GPtrArray of char *). */
GPtrArray     *pm_rating_list_packages      (const char          *path,
                                             GError             **error);
/* Installs every *.xml (with its .sig) in a folder, e.g. data/rates. Stops at the first
 * package refused, with its name in the error. */
gboolean       pm_rating_install_directory  (PmRating            *self,
                                             const char          *path,
                                             PmVerifyKey         *trusted_key,
                                             GError             **error);
/* For packages whose signature the caller has checked. Replaces a package of the same id
 * unless it is newer than this one. */
gboolean       pm_rating_add_package        (PmRating            *self,
                                             PmRatePackage       *package,
                                             GError             **error);
/* The installed version of a package, 0 if none. */
guint          pm_rating_get_installed_version (PmRating          *self,
                                                const char        *package_id);
/* The package in force on the date: the latest one taking effect on or before it. */
PmRatePackage *pm_rating_dup_package_for_date (PmRating          *self,
                                               PmRateDate         date);

gboolean       pm_rating_quote              (PmRating            *self,
                                             const PmRateRequest *request,
                                             PmQuote             *out_quote,
                                             GError             **error);

void           pm_quote_clear               (PmQuote             *quote);
const char    *pm_quote_warning_to_string   (PmQuoteWarning       warning);
/* A receipt-style text of the quote for logs and the command line. */
char          *pm_quote_to_string           (const PmQuote       *quote);

PmRateDate     pm_rate_date_from_gdate      (const GDate         *date);
/* Today at the place of mailing, from pm-clock. */
PmRateDate     pm_rate_date_today           (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmRating, pm_rating_unref)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (PmQuote, pm_quote_clear)

G_END_DECLS
