/* pm-indicium.h: the signed postage payload carried in the Data Matrix
 *
 * An indicium is the proof that postage was paid: a fixed binary payload signed by the PSD
 * that debited the funds. Anyone holding the PSD's public key can check it from the printed
 * symbol alone.
 *
 * Layout, version 1. Every multi-byte integer is little-endian. Offsets 0-29 follow the public
 * IBI layout; the rest is Postmeter's own.
 *
 *   off  len  field
 *     0    1  version                 0x01 for this layout
 *     1    1  algorithm               0x02 = ECDSA P-256 over SHA-256, raw r||s signature
 *     2    4  certificate serial      serial of the PSD's key certificate
 *     6    4  device model            4 ASCII characters, manufacturer + model ("PMSW")
 *    10    4  device serial           PSD serial number
 *    14    5  ascending register      mills, after this piece (40 bits)
 *    19    3  postage                 mills (24 bits: at most $16,777.215)
 *    22    4  date of mailing         integer YYYYMMDD, local date at the place of mailing
 *    26    4  origin ZIP              licensing ZIP, 5 digits as an integer
 *    30    4  destination ZIP+4       9 digits as one integer (ZIP * 10000 + plus-4), 0 if none
 *    34    4  software id             4 ASCII characters, the software that asked ("PM01")
 *    38    5  descending register     mills, after this piece (40 bits)
 *    43    2  rate category           PmRateCategory
 *    45    1  flags                   bit 0: specimen, not valid postage; other bits zero
 *    46   64  signature               ECDSA P-256 r||s over bytes 0-45
 *
 * 110 bytes in all: with the base-256 latch and length that is 112 codewords, which fit a
 * 40 x 40 square ECC200 symbol (114 data codewords).
 */
#pragma once

#include <glib.h>

#include "pm-money.h"
#include "pm-signature.h"

G_BEGIN_DECLS

#define PM_INDICIUM_VERSION_1                    0x01
#define PM_INDICIUM_ALGORITHM_ECDSA_P256_SHA256  0x02
#define PM_INDICIUM_SIGNED_LENGTH                46
#define PM_INDICIUM_LENGTH                       (PM_INDICIUM_SIGNED_LENGTH + PM_SIGNATURE_LENGTH)

#define PM_INDICIUM_FLAG_SPECIMEN                (1u << 0)
#define PM_INDICIUM_FLAGS_KNOWN                  (PM_INDICIUM_FLAG_SPECIMEN)

/* The widest values the fixed-size fields hold. */
#define PM_INDICIUM_REGISTER_MAX                 ((PmMills) 0xFFFFFFFFFF)
#define PM_INDICIUM_POSTAGE_MAX                  ((PmMills) 0xFFFFFF)

#define PM_INDICIUM_ERROR (pm_indicium_error_quark ())

typedef enum
{
  PM_INDICIUM_ERROR_MALFORMED,       /* wrong length or a field that cannot be */
  PM_INDICIUM_ERROR_UNSUPPORTED,     /* a version or algorithm this build does not know */
  PM_INDICIUM_ERROR_OUT_OF_RANGE,    /* a value too wide for its field */
  PM_INDICIUM_ERROR_BAD_SIGNATURE,   /* the signature does not match the key and the data */
} PmIndiciumError;

/* What the piece was rated as; printed as the class inscription. The numbers are part of the
 * payload format and never change meaning. */
typedef enum
{
  PM_RATE_CATEGORY_NONE                  = 0,
  PM_RATE_CATEGORY_FIRST_CLASS_LETTER    = 1,
  PM_RATE_CATEGORY_FIRST_CLASS_FLAT      = 2,
  PM_RATE_CATEGORY_FIRST_CLASS_POSTCARD  = 3,
  PM_RATE_CATEGORY_GROUND_ADVANTAGE      = 4,
  PM_RATE_CATEGORY_PRIORITY_MAIL         = 5,
  PM_RATE_CATEGORY_PRIORITY_MAIL_EXPRESS = 6,
  PM_RATE_CATEGORY_MEDIA_MAIL            = 7,
  PM_RATE_CATEGORY_LIBRARY_MAIL          = 8,
  PM_RATE_CATEGORY_MARKETING_MAIL        = 9,
  PM_RATE_CATEGORY_ADDITIONAL_POSTAGE    = 10,
} PmRateCategory;

#define PM_RATE_CATEGORY_LAST PM_RATE_CATEGORY_ADDITIONAL_POSTAGE

/* The decoded fields of an indicium. Plain data: the caller owns it, on any thread. */
typedef struct
{
  guint8   version;
  guint8   algorithm;
  guint32  certificate_serial;
  char     device_model[5];      /* 4 ASCII characters and a NUL */
  guint32  device_serial;
  PmMills  ascending;            /* after this piece */
  PmMills  postage;
  guint32  date_of_mailing;      /* YYYYMMDD */
  guint32  origin_zip;           /* 0 - 99999 */
  guint32  destination_zip;      /* ZIP+4 as ZZZZZPPPP, 0 for none */
  char     software_id[5];       /* 4 ASCII characters and a NUL */
  PmMills  descending;           /* after this piece */
  guint16  rate_category;        /* PmRateCategory */
  guint8   flags;                /* PM_INDICIUM_FLAG_* */
  guint8   signature[PM_SIGNATURE_LENGTH];
} PmIndicium;

GQuark      pm_indicium_error_quark          (void);

/* Bytes 0-45, the part that is signed. Checks every field fits. */
GBytes     *pm_indicium_encode_signed_part   (const PmIndicium *indicium,
                                              GError          **error);
/* Signs the payload with the PSD's key, stores the signature in indicium->signature and
 * returns all 110 bytes. */
GBytes     *pm_indicium_sign                 (PmIndicium       *indicium,
                                              PmSigningKey     *key,
                                              GError          **error);
/* Reads the fields without checking the signature. */
gboolean    pm_indicium_decode               (const guint8     *data,
                                              gsize             length,
                                              PmIndicium       *out_indicium,
                                              GError          **error);
/* Decodes and checks the signature with the PSD's public key. */
gboolean    pm_indicium_verify               (const guint8     *data,
                                              gsize             length,
                                              PmVerifyKey      *key,
                                              PmIndicium       *out_indicium,
                                              GError          **error);

/* "60601", "60601-1234", "606011234" or an empty string (no destination) to ZZZZZPPPP. */
gboolean    pm_indicium_parse_zip            (const char       *text,
                                              guint32          *out_zip9,
                                              GError          **error);
/* "60601-1234", "60601" when the plus-4 is zero, "" for none. */
char       *pm_indicium_format_zip           (guint32           zip9);
/* A YYYYMMDD date as "DEC 03 2026", the way meters print it; NULL if not a real date. */
char       *pm_indicium_format_date          (guint32           yyyymmdd);
guint32     pm_indicium_date_from_gdate      (const GDate      *date);
/* NULL if yyyymmdd is not a real date. */
GDate      *pm_indicium_date_to_gdate        (guint32           yyyymmdd);
/* The class inscription printed beside the symbol, "FIRST-CLASS MAIL"; NULL if unknown. */
const char *pm_rate_category_get_inscription (guint16           category);
/* A short name for logs and tools, "first-class-letter"; NULL if unknown. */
const char *pm_rate_category_get_name        (guint16           category);

G_END_DECLS
