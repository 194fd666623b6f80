/* pm-package.h: signed packages (rates, graphics, software) and their detached signatures
 *
 * A package travels as its exact bytes plus a small detached signature file (".sig") that
 * names it and states its content type, version, length, SHA-256 and expiry, signed with
 * the provider's ECDSA P-256 key. pm_package_verify() checks all of these, in that order of
 * cheapness, before anything reads the package's content, and refuses with one error code
 * per reason. The signature file format is documented in data/rates/README.md.
 */
#pragma once

#include <glib.h>

#include "pm-signature.h"

G_BEGIN_DECLS

#define PM_PACKAGE_CONTENT_TYPE_RATES "application/vnd.postmeter.rates+xml"
/* A signature file is a few hundred bytes; anything far larger is not one. */
#define PM_PACKAGE_MAX_SIGNATURE_BYTES 4096
#define PM_PACKAGE_SHA256_LENGTH 32

#define PM_PACKAGE_ERROR (pm_package_error_quark ())

typedef enum
{
  PM_PACKAGE_ERROR_STRIPPED,           /* no signature file, or no signature in it */
  PM_PACKAGE_ERROR_MALFORMED,          /* the signature file cannot be read */
  PM_PACKAGE_ERROR_WRONG_KEY,          /* signed by a key this machine does not trust */
  PM_PACKAGE_ERROR_BAD_SIGNATURE,      /* the signature does not match the signed fields */
  PM_PACKAGE_ERROR_WRONG_CONTENT_TYPE, /* a valid package of another kind */
  PM_PACKAGE_ERROR_WRONG_NAME,         /* a valid package with another name */
  PM_PACKAGE_ERROR_TOO_LARGE,          /* above the size this kind of package may have */
  PM_PACKAGE_ERROR_TRUNCATED,          /* fewer bytes than signed */
  PM_PACKAGE_ERROR_TAMPERED,           /* more bytes than signed, or other bytes */
  PM_PACKAGE_ERROR_EXPIRED,            /* past its expiry */
  PM_PACKAGE_ERROR_OLDER_VERSION,      /* older than the one installed */
  PM_PACKAGE_ERROR_IO,                 /* a file could not be read */
} PmPackageError;

GQuark pm_package_error_quark (void);

typedef struct
{
  char   *name;
  char   *content_type;
  guint   version;
  gsize   length;
  guint8  sha256[PM_PACKAGE_SHA256_LENGTH];
  gint64  signed_at;        /* seconds since the epoch, UTC */
  gint64  expires;          /* seconds since the epoch, UTC; the first second refused */
  char   *key_fingerprint;  /* SHA-256 of the signer's public key, lower-case hex */
} PmPackageInfo;

/* What the machine expects of a package it is about to use. */
typedef struct
{
  const char *content_type;       /* required */
  const char *name;               /* NULL: any name */
  guint       installed_version;  /* 0: nothing installed under this name */
  gsize       max_length;         /* 0: no limit of its own */
  gint64      now;                /* seconds since the epoch; 0: pm_clock_now_s() */
} PmPackagePolicy;

void           pm_package_info_free (PmPackageInfo        *info);

/* Returns the signature file for the content. */
GBytes        *pm_package_sign      (PmSigningKey         *key,
                                     const char           *name,
                                     const char           *content_type,
                                     guint                 version,
                                     gint64                expires,
                                     GBytes               *content,
                                     GError              **error);
/* signature_file may be NULL (the package came without one: STRIPPED). */
PmPackageInfo *pm_package_verify    (GBytes               *signature_file,
                                     GBytes               *content,
                                     PmVerifyKey          *trusted_key,
                                     const PmPackagePolicy *policy,
                                     GError              **error);
/* Reads path and path + ".sig", with size limits checked before reading, verifies them
 * and returns the verified content. */
GBytes        *pm_package_load_file (const char           *path,
                                     PmVerifyKey          *trusted_key,
                                     const PmPackagePolicy *policy,
                                     PmPackageInfo       **out_info,
                                     GError              **error);
/* Reads a public key (PEM) from a file: the trusted provider key is configuration. */
PmVerifyKey   *pm_package_load_key  (const char           *path,
                                     GError              **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmPackageInfo, pm_package_info_free)

G_END_DECLS
