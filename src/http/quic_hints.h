/* http/quic_hints: QUIC hints from the engine parameters (Cronet's
 * addQuicHint / Cronet_EngineParams.quic_hints) entering server properties
 * as QUIC alternative services that never expire, after the validation
 * Cronet applies (components/cronet/cronet_context.cc; CHROMIUM_ALTSVC.md
 * §1.14): a hint (host, port, alternate_port) becomes, for
 * https://<canonical host>:<port>, the single alternative
 * {QUIC, "" (same host), alternate_port, expiration BASE_TIME_MAX, no
 * advertised ALPNs (the first supported version is used)}.
 *
 * An invalid hint is skipped with a CRONC_QUIC_HINT_INVALID NetLog event and
 * an error return; it is never fatal. Called by the engine on the network
 * thread while it sets up props. */
#ifndef CRONC_HTTP_QUIC_HINTS_H
#define CRONC_HTTP_QUIC_HINTS_H

#include <stddef.h>
#include <stdint.h>

#include "http/server_properties.h"
#include "url/url.h"

/* Validates a hint as Cronet does: host non-empty, without '/', and
 * canonicalisable to an IP literal or a compliant host name (Chromium's
 * IsCanonicalizedHostCompliant: dot-separated labels of letters, digits,
 * '-' and '_' (as Chromium allows), each at most 63 bytes, the last one
 * starting with a letter or digit; a trailing dot is allowed); port and
 * alternate_port in 1..65535. On success writes the canonical host to
 * canon_host (size >= URL_MAX_HOST + 1; may be NULL) and returns 0;
 * otherwise returns CRONC_ERR_INVALID_ARGUMENT and sets *reason (may be
 * NULL) to a static English reason ("empty host", "host contains '/'",
 * "invalid host", "invalid port", "invalid alternate port"). */
int props_quic_hint_validate(const char *host, int32_t port, int32_t alternate_port,
                             char *canon_host, size_t canon_size, const char **reason);

/* Validates the hint and stores it (props_set_quic_alternative_service for
 * https://host:port, replacing that origin's list). Logs
 * CRONC_QUIC_HINT_ADDED {host, port, alternate_port} or, for an invalid
 * hint, CRONC_QUIC_HINT_INVALID {host, port, alternate_port, reason} on
 * props' netlog. Returns 0, CRONC_ERR_INVALID_ARGUMENT (invalid hint or NULL
 * props; nothing stored) or CRONC_ERR_OUT_OF_MEMORY. */
int props_add_quic_hint(props *p, const char *host, int32_t port, int32_t alternate_port);

#endif /* CRONC_HTTP_QUIC_HINTS_H */
