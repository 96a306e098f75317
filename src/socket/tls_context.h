/* socket/tls_context: what every TLS connection of an engine shares.
 *
 * One tls_context per engine (Chromium: the SSLClientContext plus the cert
 * verifier's trust store plus TransportSecurityState's key pins):
 *  - GnuTLS certificate credentials: the system trust store and an optional
 *    extra CA file (tests use Caddy's local CA),
 *  - the TLS priority (TLS 1.2 and 1.3 only),
 *  - the TLS session cache keyed by (host, port), bounded, least recently
 *    used out first; an entry is taken (removed) when a connection uses it,
 *    as Chromium does with single-use TLS 1.3 tickets, and the connection
 *    stores the fresh ticket it receives,
 *  - public-key pins (Cronet's AddPublicKeyPins): SHA-256 hashes of
 *    SubjectPublicKeyInfo for a host (and optionally its subdomains), checked
 *    against the verified chain including its trust anchor.
 *
 * Ownership: the engine creates it and frees it after every TLS socket that
 * uses it is gone. Thread: the network thread only (no locking).
 * Errors are negative CRONC_ERR_* codes. */
#ifndef CRONC_SOCKET_TLS_CONTEXT_H
#define CRONC_SOCKET_TLS_CONTEXT_H

#include <gnutls/gnutls.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/clock.h"
#include "base/netlog.h"

#define TLS_SPKI_HASH_SIZE             32
#define TLS_DEFAULT_SESSION_CACHE_SIZE 256
/* Chromium's ssl_config default priorities translated for GnuTLS. */
#define TLS_DEFAULT_PRIORITY "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

typedef struct tls_context_params {
  bool use_system_trust;     /* default true */
  const char *extra_ca_file; /* PEM file of extra trust anchors, or NULL */
  /* Cronet's enable_public_key_pinning_bypass_for_local_trust_anchors
   * (default true): pins are not enforced when the chain ends at an anchor
   * from extra_ca_file rather than the system store. */
  bool pin_bypass_for_local_anchors;
  size_t session_cache_size; /* default 256; 0 disables the cache */
  const char *priority;      /* GnuTLS priority string; NULL = default */
  const base_clock *clock;   /* pin expiry (wall time); NULL = system */
  netlog *netlog;            /* may be NULL */
} tls_context_params;

void tls_context_params_init(tls_context_params *p);

typedef struct tls_context tls_context;

/* 0 and *out, or CRONC_ERR_INVALID_ARGUMENT (bad priority string, NULL
 * out), CRONC_ERR_FILE_NOT_FOUND (extra CA file unreadable or without a
 * certificate), CRONC_ERR_OUT_OF_MEMORY. A system store that cannot be
 * loaded is not an error (there is then no system trust). */
int tls_context_new(const tls_context_params *p, tls_context **out);
void tls_context_free(tls_context *ctx);

/* Adds pins for host: n SHA-256 SPKI hashes. include_subdomains extends them
 * to every name under host. expiry_us: wall time after which the pins are
 * ignored (0 = never). A later call for the same host replaces the earlier
 * one. The most specific matching entry applies (exact host first, then the
 * nearest parent with include_subdomains). 0, CRONC_ERR_INVALID_ARGUMENT
 * (empty host, n == 0) or CRONC_ERR_OUT_OF_MEMORY. */
int tls_context_add_pins(tls_context *ctx, const char *host, bool include_subdomains,
                         const uint8_t (*hashes)[TLS_SPKI_HASH_SIZE], size_t n, int64_t expiry_us);
void tls_context_clear_pins(tls_context *ctx);

/* Session cache size and reset (tests, "clear cache" API). */
size_t tls_context_session_count(const tls_context *ctx);
void tls_context_clear_sessions(tls_context *ctx);

/* SHA-256 of the SubjectPublicKeyInfo of the first certificate in a PEM
 * buffer (the value Cronet pins take). 0 or CRONC_ERR_INVALID_ARGUMENT. */
int tls_spki_sha256_from_pem(const char *pem, size_t len, uint8_t out[TLS_SPKI_HASH_SIZE]);
/* The same for a DER certificate. */
int tls_spki_sha256_from_der(const uint8_t *der, size_t len, uint8_t out[TLS_SPKI_HASH_SIZE]);

/* Chromium's MapCertStatusToNetError over a GnuTLS verification status
 * (gnutls_certificate_status_t bits): 0 for 0, else the most serious error
 * (invalid > revoked > authority > common name > name constraints > weak
 * signature > date). */
int tls_map_cert_status(unsigned gnutls_status);

/* ---- for tls_socket ---------------------------------------------------- */

gnutls_certificate_credentials_t tls_context_credentials(tls_context *ctx);
gnutls_priority_t tls_context_priority(tls_context *ctx);
netlog *tls_context_netlog(tls_context *ctx);
const base_clock *tls_context_clock(tls_context *ctx);

/* Takes the cached session for (host, port) into *out (gnutls_free it);
 * false when there is none. */
bool tls_context_session_take(tls_context *ctx, const char *host, uint16_t port,
                              gnutls_datum_t *out);
/* Stores (a copy of) session data for (host, port), replacing any entry. */
void tls_context_session_put(tls_context *ctx, const char *host, uint16_t port,
                             const gnutls_datum_t *data);

/* Verifies the peer's chain for host (name, TLS server key usage) as
 * gnutls_certificate_verify_peers does, with the system trust store loaded
 * on first need: a chain that does not reach a loaded anchor makes the
 * context load the system store once and verify again, so engines whose
 * servers chain to the extra CA never pay for parsing ~150 system roots,
 * and others pay at their first verification instead of at start
 * (Chromium's CertVerifier also loads roots lazily). The verdict is the
 * same as with everything loaded up front. Returns gnutls' result (< 0: no
 * or unparsable certificate) and the status bits in *status. */
int tls_context_verify_peers(tls_context *ctx, gnutls_session_t session, const char *host,
                             unsigned *status);
/* Whether the system trust store has been loaded (diagnostics, tests). */
bool tls_context_system_trust_loaded(const tls_context *ctx);

/* Checks host's pins against the verified chain of session (the peer's
 * certificates plus the trust anchor found in the credentials). 0 when no
 * pins apply or one matches, CRONC_ERR_SSL_PINNED_KEY_NOT_IN_CERT_CHAIN
 * otherwise. */
int tls_context_check_pins(tls_context *ctx, const char *host, gnutls_session_t session);

#endif /* CRONC_SOCKET_TLS_CONTEXT_H */
