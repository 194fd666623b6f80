/* pm-test-datacenter.h: a data center for tests and benchmarks, on loopback with TLS
 *
 * The fixture makes a fresh data center folder (CA, server certificate; the provider key is
 * the demo key of data/keys, as the shipped rate packages are signed with it),
 * runs PmDcServer on a thread of its own, registers one device with a freshly made PSD key
 * and funds its account. It can also run a misbehaving server on the same CA, and a TCP
 * relay that throttles and cuts connections.
 */
#pragma once

#include "pm-dc-server.h"
#include "pm-net-client.h"
#include "pm-signature.h"

G_BEGIN_DECLS

#define PM_TEST_PSD_SERIAL 4100001

typedef struct
{
  char         *directory;
  char         *ca_file;
  GMainContext *context;           /* the server thread's */
  GThread      *thread;
  GMainLoop    *loop;
  PmDcServer   *server;
  guint         https_port;
  guint         http_port;
  PmSigningKey *psd_key;
  PmSigningKey *provider_signing;  /* to forge or replay answers in hostile tests */
  PmVerifyKey  *provider_key;
  char         *device_id;
} PmTestDatacenter;

PmTestDatacenter *pm_test_datacenter_start (const char *host);
void              pm_test_datacenter_stop  (PmTestDatacenter *dc);
/* Runs func (data) on the server thread and waits for it. */
void              pm_test_datacenter_call  (PmTestDatacenter *dc,
                                            GSourceFunc       func,
                                            gpointer          data);
/* A client whose allowlist holds the data center (both ports) and extra_port (https) when
 * not 0. */
PmNetClient      *pm_test_datacenter_client (PmTestDatacenter *dc,
                                             guint             extra_port,
                                             guint             timeout_s);
/* Signs in the client synchronously; asserts success. */
void              pm_test_datacenter_authenticate (PmTestDatacenter *dc,
                                                   PmNetClient      *client);
char             *pm_test_datacenter_url   (PmTestDatacenter *dc,
                                            const char       *path);

/* Spins the calling thread's default context until *done. */
void              pm_test_wait             (gboolean *done);

/* A server that answers every request with what the test sets. Runs on the data center's
 * thread, with the data center's certificate unless other_ca. */
typedef struct _PmTestHostile PmTestHostile;
typedef void (*PmTestHostileFunc) (SoupServerMessage *msg,
                                   const char        *path,
                                   gpointer           user_data);

PmTestHostile    *pm_test_hostile_start    (PmTestDatacenter  *dc,
                                            gboolean           other_ca,
                                            PmTestHostileFunc  func,
                                            gpointer           user_data);
/* The same over plain HTTP, as a portal or filter answering the connectivity check. */
PmTestHostile    *pm_test_hostile_start_plain (PmTestDatacenter  *dc,
                                               PmTestHostileFunc  func,
                                               gpointer           user_data);
guint             pm_test_hostile_get_port (PmTestHostile    *hostile);
/* A loopback port nothing listens on: connections to it are refused. */
guint             pm_test_closed_port      (void);
void              pm_test_hostile_stop     (PmTestHostile    *hostile);

/* A TCP relay to target_port that passes bytes_per_second in each direction and cuts the
 * connection at random points: each of the first max_cuts connections is cut, after a
 * random number of bytes below cut_window, in a random direction. */
typedef struct _PmTestRelay PmTestRelay;

PmTestRelay      *pm_test_relay_start      (guint   target_port,
                                            guint   bytes_per_second,
                                            guint   max_cuts,
                                            guint   cut_window,
                                            guint32 seed);
guint             pm_test_relay_get_port   (PmTestRelay *relay);
guint64           pm_test_relay_bytes_up   (PmTestRelay *relay);
guint64           pm_test_relay_bytes_down (PmTestRelay *relay);
guint             pm_test_relay_cuts       (PmTestRelay *relay);
void              pm_test_relay_stop       (PmTestRelay *relay);

G_END_DECLS
