/* fuzz-rate-package: libFuzzer target for the rate package reader and the signature file
 *
 * Each input is read as a rate package XML and, separately, as a detached signature file
 * for a fixed content. Neither may crash, leak or read out of bounds, whatever the bytes;
 * a package that parses is also looked up at every break so its tables are walked.
 */
#include <stdint.h>
#include <stddef.h>

#include "pm-package.h"
#include "pm-rate-package.h"

int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t         size);

static PmVerifyKey *
fuzz_key (void)
{
  static PmVerifyKey *key;

  if (key == NULL)
    {
      PmSigningKey *signing = pm_signing_key_generate (NULL);

      key = pm_signing_key_get_verify_key (signing);
      pm_signing_key_unref (signing);
    }
  return key;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  PmRatePackage *package;
  GBytes *signature;
  GBytes *content;
  PmPackageInfo *info;
  PmPackagePolicy policy = {
    .content_type = PM_PACKAGE_CONTENT_TYPE_RATES,
    .max_length = 1024,
    .now = 1798761600,
  };

  package = pm_rate_package_parse ((const char *) data, size, NULL);
  if (package != NULL)
    {
      for (guint p = 0; p < package->n_products; p++)
        for (guint t = 0; t < package->products[p].n_tables; t++)
          {
            const PmRateTable *table = &package->products[p].tables[t];

            for (guint b = 0; b < table->n_breaks; b++)
              for (guint zone = 0; zone <= 10; zone++)
                (void) pm_rate_table_lookup (table, table->break_picograms[b], zone, NULL);
          }
      pm_rate_package_unref (package);
    }

  signature = g_bytes_new (data, size);
  content = g_bytes_new_static ("<rate-package/>", 15);
  info = pm_package_verify (signature, content, fuzz_key (), &policy, NULL);
  pm_package_info_free (info);
  g_bytes_unref (content);
  g_bytes_unref (signature);
  return 0;
}
