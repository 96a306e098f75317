/* http/props_snapshot: server properties as plain data, the contract between
 * server_properties (which takes and applies snapshots) and store/ (which
 * reads and writes them). It mirrors what Chromium's
 * HttpServerPropertiesManager persists (CHROMIUM_ALTSVC.md §1.12): servers in
 * least-recently-used-first order, broken services with their counts and
 * expiry as wall-clock time, and whether QUIC has worked. Owned by whoever
 * filled it; free with props_snapshot_free(). */
#ifndef CRONC_HTTP_PROPS_SNAPSHOT_H
#define CRONC_HTTP_PROPS_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/alternative_service.h"
#include "url/url.h"

typedef struct props_snapshot_server {
  url_origin origin;
  altsvc_info *alts; /* n_alts entries (heap), header order */
  size_t n_alts;
  bool supports_spdy;
  int64_t srtt_us; /* smoothed RTT, 0 = not recorded */
} props_snapshot_server;

typedef struct props_snapshot_broken {
  altsvc_service service; /* host never empty */
  int broken_count;       /* >= 0; the backoff exponent source */
  bool is_broken;         /* currently broken ... */
  int64_t broken_until_us; /* ... until this wall-clock time */
} props_snapshot_broken;

typedef struct props_snapshot {
  props_snapshot_server *servers; /* least recently used first */
  size_t n_servers;
  props_snapshot_broken *broken; /* recently-broken LRU order, oldest first */
  size_t n_broken;
  bool quic_worked; /* a QUIC connection has succeeded on this network */
  char quic_worked_address[64]; /* local address it worked from, may be "" */
} props_snapshot;

static inline void props_snapshot_init(props_snapshot *s) {
  *s = (props_snapshot){0};
}
void props_snapshot_free(props_snapshot *s);

#endif /* CRONC_HTTP_PROPS_SNAPSHOT_H */
