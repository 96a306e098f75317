/* http/server_properties_internal: the state behind props, shared by
 * server_properties.c (map, canonical suffixes, brokenness),
 * server_properties_altsvc.c (Alt-Svc header path) and
 * server_properties_snapshot.c (persistence). Not for other modules. Same
 * thread rules as server_properties.h. */
#ifndef CRONC_HTTP_SERVER_PROPERTIES_INTERNAL_H
#define CRONC_HTTP_SERVER_PROPERTIES_INTERNAL_H

#include "http/server_properties.h"

/* One origin's ServerInfo. alts.count == 0 means "no alternatives" (an
 * empty list is never stored, as Chromium resets the optional). */
typedef struct props_entry {
  url_origin origin;
  uint64_t hash;
  struct props_entry *hnext;       /* hash chain */
  struct props_entry *prev, *next; /* MRU list: head = most recent */
  altsvc_info_list alts;
  bool has_spdy;
  bool supports_spdy;
  bool has_srtt;
  int64_t srtt_us;
  uint32_t load_mark; /* props_apply_snapshot generation that touched it */
  /* The Alt-Svc value last applied (hash, wall time): the same value again
   * within a second changes nothing worth the parse (servers send it on
   * every response). */
  uint64_t last_hdr_hash;
  int64_t last_hdr_us;
} props_entry;

/* canonical_alt_svc_map_: (https, suffix, port) -> the origin that last set
 * a non-empty list under that suffix. */
typedef struct props_canon {
  size_t suffix;
  uint16_t port;
  url_origin server;
} props_canon;

struct props {
  const base_clock *clock;
  netlog *nl;
  netlog_source source;
  broken_altsvc *broken;
  char **suffixes;
  size_t n_suffixes;
  size_t max_entries;
  props_entry **buckets;
  size_t bucket_mask;
  props_entry *head, *tail;
  size_t count;
  props_canon *canon;
  size_t n_canon, cap_canon;
  props_changed_fn on_changed;
  void *user_data;
  int depth;  /* public calls in progress (callbacks may re-enter) */
  bool dirty; /* something worth persisting changed in this call */
  uint32_t load_gen;
  /* Scratch for props_process_alt_svc_header, reused across responses so
   * the per-response path does not allocate (network thread only). */
  altsvc_header scratch_header;
  altsvc_info_list scratch_infos;
  char quic_worked_address[sizeof(((props_snapshot *)0)->quic_worked_address)];
};

/* Every public call is wrapped in enter/leave: enter (outermost only) runs
 * due broken-mark expiries before any iteration of our lists; leave
 * (outermost only) calls on_changed if the call set `dirty`. */
void props_enter(props *p);
void props_leave(props *p);
/* A normalised (ws->http, wss->https) copy of a caller's origin; false if
 * unusable (NULL, empty or unterminated host, unknown scheme). */
bool props_key(const url_origin *in, url_origin *out);

/* The map. peek does not touch recency; new links into the hash table only
 * (the caller places it in the MRU list) and returns NULL on OOM. */
props_entry *props_entry_peek(const props *p, const url_origin *key);
props_entry *props_entry_new(props *p, const url_origin *key);
void props_list_push_back(props *p, props_entry *e);

/* Canonical suffixes: index of the host's suffix or -1; the mapping for an
 * https origin's suffix and port (NULL if none); reserve room for one more
 * mapping (0 or CRONC_ERR_OUT_OF_MEMORY), then put cannot fail. */
long props_suffix_index(const props *p, const char *host);
props_canon *props_canon_for(props *p, const url_origin *o);
int props_canon_reserve(props *p);
void props_canon_put(props *p, const url_origin *o);

/* SetAlternativeServicesInternal on a normalised key inside enter/leave.
 * Returns 1 (worth persisting), 0, or a negative error (nothing changed). */
int props_set_locked(props *p, const url_origin *key, const altsvc_info *infos, size_t n);

#endif /* CRONC_HTTP_SERVER_PROPERTIES_INTERNAL_H */
