/* pm-rate-package.h: one rate package, parsed from its XML
 *
 * A rate package holds the prices of one publication (for instance the USPS prices that
 * take effect on 12 July 2026): products (a class of mail and a shape), each with its
 * limits and one or more price tables, plus surcharges and extra services. Every table
 * says when it takes effect, when it ends, where its prices come from and whether it is
 * complete. The XML format is documented in data/rates/README.md.
 *
 * Parsing never touches the network, refuses DTDs and entities, and has a size limit;
 * only bytes whose signature has been checked (pm-package.h) should reach it. Once parsed
 * a package is immutable and may be shared between threads.
 */
#pragma once

#include <glib.h>

#include "pm-money.h"
#include "pm-weight.h"

G_BEGIN_DECLS

/* Larger than any real package (a full Notice 123 is far below it). */
#define PM_RATE_PACKAGE_MAX_BYTES (4 * 1024 * 1024)
#define PM_RATE_PACKAGE_MAX_ZONES 9
/* Marks a weight break or zone without a published price. */
#define PM_RATE_NO_PRICE ((PmMills) -1)

#define PM_RATE_PACKAGE_ERROR (pm_rate_package_error_quark ())

typedef enum
{
  PM_RATE_PACKAGE_ERROR_TOO_LARGE,        /* above PM_RATE_PACKAGE_MAX_BYTES */
  PM_RATE_PACKAGE_ERROR_MALFORMED_XML,    /* not well-formed XML */
  PM_RATE_PACKAGE_ERROR_FORBIDDEN_MARKUP, /* a DTD, an entity or an external reference */
  PM_RATE_PACKAGE_ERROR_INVALID,          /* well-formed, but not a valid rate package */
} PmRatePackageError;

GQuark pm_rate_package_error_quark (void);

typedef enum
{
  PM_MAIL_CLASS_FIRST_CLASS,
  PM_MAIL_CLASS_FIRST_CLASS_INTERNATIONAL,
  PM_MAIL_CLASS_GROUND_ADVANTAGE,
  PM_MAIL_CLASS_PRIORITY_MAIL,
  PM_MAIL_CLASS_PRIORITY_MAIL_EXPRESS,
} PmMailClass;
#define PM_MAIL_CLASS_COUNT 5

typedef enum
{
  PM_SHAPE_LETTER,
  PM_SHAPE_POSTCARD,
  PM_SHAPE_FLAT,      /* large envelope */
  PM_SHAPE_PARCEL,
} PmShape;
#define PM_SHAPE_COUNT 4

/* Which published price list a table is. A meter pays metered prices for letters and,
 * where published, commercial prices for parcels; a retail counter pays stamped/retail. */
typedef enum
{
  PM_PRICE_LIST_METERED,
  PM_PRICE_LIST_STAMPED,
  PM_PRICE_LIST_COMMERCIAL,
  PM_PRICE_LIST_RETAIL,
} PmPriceList;
#define PM_PRICE_LIST_COUNT 4

/* How far a table's prices can be trusted, as marked in shared/reference/postal.md. */
typedef enum
{
  PM_RATE_STATUS_CONFIRMED,   /* checked against a primary source */
  PM_RATE_STATUS_SECONDARY,   /* a third-party source citing USPS */
  PM_RATE_STATUS_PROVISIONAL, /* derived or unconfirmed */
} PmRateStatus;

typedef enum
{
  PM_SERVICE_CERTIFIED_MAIL = 1 << 0,
  PM_SERVICE_RETURN_RECEIPT = 1 << 1,            /* hardcopy (green card) */
  PM_SERVICE_RETURN_RECEIPT_ELECTRONIC = 1 << 2,
  PM_SERVICE_SIGNATURE_CONFIRMATION = 1 << 3,
  PM_SERVICE_INSURANCE = 1 << 4,
} PmService;
#define PM_SERVICE_COUNT 5

typedef enum
{
  PM_SURCHARGE_NONMACHINABLE,  /* letters only */
  PM_SURCHARGE_LENGTH_OVER,    /* longest side above the threshold */
  PM_SURCHARGE_VOLUME_OVER,    /* volume above the threshold */
} PmSurchargeKind;

/* Dates are YYYYMMDD integers: 20260712. 0 means "none" for an end date. */
typedef guint32 PmRateDate;

typedef struct
{
  char         *id;
  PmRateDate    effective;        /* first day in force */
  PmRateDate    ends;             /* first day no longer in force, or 0 */
  PmPriceList   price_list;
  PmRateStatus  status;
  gboolean      complete;         /* FALSE: some prices are not published here */
  char         *source;           /* a citation: document, date, address */
  char         *note;             /* why it is partial, or NULL */
  gboolean      zoned;
  guint         n_breaks;
  /* Inclusive upper bounds, ascending, in picograms. */
  gint64       *break_picograms;
  char        **break_labels;     /* "3.5 oz", "70 lb", as written */
  guint8       *break_status;     /* PmRateStatus of each row: the table's unless a row
                                   * says otherwise */
  /* n_breaks × PM_RATE_PACKAGE_MAX_ZONES prices (zone z at [i * 9 + z - 1]); an unzoned
   * table uses column 0 only. PM_RATE_NO_PRICE where none is published. */
  PmMills      *prices;
} PmRateTable;

typedef struct
{
  PmMailClass   mail_class;
  PmShape       shape;
  char         *name;              /* "First-Class Mail letter" */
  gint64        max_picograms;     /* 0: no limit of its own */
  /* Sizes in thousandths of an inch; 0 where the product sets no such limit. */
  guint32       min_length;
  guint32       min_height;
  guint32       min_thickness;
  guint32       max_length;
  guint32       max_height;
  guint32       max_thickness;
  guint32       max_length_girth;  /* length plus girth */
  /* Dimensional weight: above dim_threshold cubic inches the piece pays for
   * volume / dim_divisor pounds if that is more. 0: no dimensional weight. */
  guint32       dim_threshold;
  guint32       dim_divisor;
  guint         n_tables;
  PmRateTable  *tables;
} PmRateProduct;

typedef struct
{
  char            *id;
  char            *name;
  PmSurchargeKind  kind;
  /* Surcharges of one group exclude each other: only the one with the highest threshold
   * that applies is charged (22 in and 30 in length fees, for instance). */
  char            *group;
  guint32          threshold;       /* thousandths of an inch, or cubic inches */
  guint            classes;         /* 1 << PmMailClass */
  guint            shapes;          /* 1 << PmShape */
  PmMills          price;
  PmRateDate       effective;
  PmRateDate       ends;
  PmRateStatus     status;
  char            *source;
} PmSurcharge;

typedef struct
{
  PmService     service;
  char         *name;
  guint         classes;            /* 1 << PmMailClass: where the service may be bought */
  PmService     requires;           /* another service it needs (Return Receipt needs Certified) */
  int           price_list;         /* PmPriceList it belongs to, or -1 for every one */
  PmRateDate    effective;
  PmRateDate    ends;
  PmRateStatus  status;
  char         *source;
  /* A flat fee has one tier with no limit; insurance has tiers by declared value. */
  guint         n_tiers;
  PmMills      *tier_limits;         /* inclusive upper bound of declared value; 0 = none */
  PmMills      *tier_prices;
} PmExtraService;

typedef struct _PmRatePackage PmRatePackage;

struct _PmRatePackage
{
  /*< read-only after parsing >*/
  gint              ref_count;
  char             *id;
  guint             version;
  PmRateDate        effective;
  char             *title;
  char             *carrier;
  guint             n_products;
  PmRateProduct    *products;
  guint             n_surcharges;
  PmSurcharge      *surcharges;
  guint             n_services;
  PmExtraService   *services;
  /* products by class and shape, for the rating hot path; NULL where none */
  PmRateProduct    *by_class_shape[PM_MAIL_CLASS_COUNT][PM_SHAPE_COUNT];
};

PmRatePackage        *pm_rate_package_parse        (const char     *xml,
                                                    gsize           length,
                                                    GError        **error);
PmRatePackage        *pm_rate_package_ref          (PmRatePackage  *self);
void                  pm_rate_package_unref        (PmRatePackage  *self);

const PmRateProduct  *pm_rate_package_find_product (PmRatePackage  *self,
                                                    PmMailClass     mail_class,
                                                    PmShape         shape);
const PmExtraService *pm_rate_package_find_service (PmRatePackage  *self,
                                                    PmService       service);
/* The first table of the product in force on the date, in the price list asked for. */
const PmRateTable    *pm_rate_product_find_table   (const PmRateProduct *product,
                                                    PmPriceList     price_list,
                                                    PmRateDate      date);
/* The price of the first break at or above the weight, in the zone (ignored when the
 * table is not zoned). PM_RATE_NO_PRICE when the table has no published price there,
 * and -2 when the weight is above the table's last break. */
PmMills               pm_rate_table_lookup         (const PmRateTable *table,
                                                    gint64          picograms,
                                                    guint           zone,
                                                    guint          *out_break_index);

gboolean              pm_rate_date_parse           (const char     *text,
                                                    PmRateDate     *out_date);
/* "12 Jul 2026" */
char                 *pm_rate_date_format          (PmRateDate      date);
gboolean              pm_rate_date_in_force        (PmRateDate      effective,
                                                    PmRateDate      ends,
                                                    PmRateDate      date);

const char           *pm_mail_class_to_string      (PmMailClass     mail_class);
const char           *pm_mail_class_get_name       (PmMailClass     mail_class);
gboolean              pm_mail_class_from_string    (const char     *text,
                                                    PmMailClass    *out_class);
const char           *pm_shape_to_string           (PmShape         shape);
gboolean              pm_shape_from_string         (const char     *text,
                                                    PmShape        *out_shape);
const char           *pm_service_to_string         (PmService       service);
gboolean              pm_service_from_string       (const char     *text,
                                                    PmService      *out_service);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmRatePackage, pm_rate_package_unref)

G_END_DECLS
