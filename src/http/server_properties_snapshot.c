/* http/server_properties_snapshot: taking and applying persistence
 * snapshots of server properties, Chromium's HttpServerPropertiesManager
 * write path and OnServerInfoLoaded (CHROMIUM_ALTSVC.md §1.12). See
 * server_properties.h. */
#include <stdlib.h>
#include <string.h>

#include "cronc/cronc.h"
#include "http/server_properties.h"
#include "http/server_properties_internal.h"

/* ---- Snapshots --------------------------------------------------------------- */

int props_take_snapshot(props *p, props_snapshot *out) {
  if (!p || !out)
    return CRONC_ERR_INVALID_ARGUMENT;
  props_snapshot_init(out);
  props_enter(p);
  int rv = CRONC_OK;
  int64_t now = base_clock_now(p->clock);
  bool *seen = p->n_suffixes ? calloc(p->n_suffixes, sizeof *seen) : NULL;
  props_snapshot_server *servers = p->count ? calloc(p->count, sizeof *servers) : NULL;
  if ((p->n_suffixes && !seen) || (p->count && !servers)) {
    rv = CRONC_ERR_OUT_OF_MEMORY;
    goto done;
  }
  /* Walk MRU first (so the most recent server of a suffix wins), fill the
   * array from its end (so it comes out least recently used first). */
  size_t slot = p->count;
  for (props_entry *e = p->head; e; e = e->next) {
    props_snapshot_server s = {0};
    s.origin = e->origin;
    s.supports_spdy = e->has_spdy && e->supports_spdy;
    s.srtt_us = e->has_srtt ? e->srtt_us : 0;
    size_t live = 0;
    for (size_t i = 0; i < e->alts.count; i++)
      if (e->alts.items[i].expiration_us >= now)
        live++;
    if (live) {
      long sfx = props_suffix_index(p, e->origin.host);
      if (sfx >= 0 && seen && seen[sfx]) {
        /* only the most recent server of a suffix is written */
      } else {
        if (sfx >= 0 && seen)
          seen[sfx] = true;
        s.alts = malloc(live * sizeof *s.alts);
        if (!s.alts) {
          rv = CRONC_ERR_OUT_OF_MEMORY;
          goto done;
        }
        for (size_t i = 0; i < e->alts.count; i++)
          if (e->alts.items[i].expiration_us >= now)
            s.alts[s.n_alts++] = e->alts.items[i];
      }
    }
    if ((s.n_alts == 0 && !s.supports_spdy && s.srtt_us == 0) || !servers || slot == 0) {
      free(s.alts);
      continue; /* Chromium skips empty server dicts */
    }
    servers[--slot] = s;
  }
  /* Close the gap left by skipped servers. */
  out->n_servers = p->count - slot;
  if (out->n_servers && servers) {
    memmove(servers, servers + slot, out->n_servers * sizeof *servers);
    out->servers = servers;
    servers = NULL;
  }
  rv = broken_altsvc_export(p->broken, &out->broken, &out->n_broken);
  out->quic_worked = p->quic_worked_address[0] != '\0';
  memcpy(out->quic_worked_address, p->quic_worked_address, sizeof out->quic_worked_address);
done:
  if (servers) {
    for (size_t i = 0; i < p->count; i++)
      free(servers[i].alts);
    free(servers);
  }
  free(seen);
  if (rv != CRONC_OK)
    props_snapshot_free(out);
  props_leave(p);
  return rv;
}

/* The loaded server's alternatives that survive (https only, known protocol,
 * not expired), into a fresh heap array. Returns the count or -1 on OOM. */
static long loaded_alts(const props_snapshot_server *s, const url_origin *key, int64_t now,
                        altsvc_info **out) {
  *out = NULL;
  if (key->scheme != URL_SCHEME_HTTPS || s->n_alts == 0 || !s->alts)
    return 0;
  altsvc_info *a = malloc(s->n_alts * sizeof *a);
  if (!a)
    return -1;
  size_t n = 0;
  for (size_t i = 0; i < s->n_alts; i++) {
    const altsvc_info *x = &s->alts[i];
    if ((x->service.protocol != ALTSVC_PROTO_HTTP2 && x->service.protocol != ALTSVC_PROTO_QUIC) ||
        x->expiration_us < now || !memchr(x->service.host, '\0', sizeof x->service.host))
      continue;
    a[n] = *x;
    if (a[n].n_alpns > ALTSVC_MAX_ALPNS)
      a[n].n_alpns = ALTSVC_MAX_ALPNS;
    for (unsigned j = 0; j < ALTSVC_MAX_ALPNS; j++)
      a[n].alpns[j][ALTSVC_MAX_ALPN_LEN] = '\0';
    n++;
  }
  if (n == 0) {
    free(a);
    return 0;
  }
  *out = a;
  return (long)n;
}

static int apply_servers(props *p, const props_snapshot *in) {
  int64_t now = base_clock_now(p->clock);
  uint32_t gen = ++p->load_gen;
  /* Newest first: each loaded-only server goes behind everything already
   * there, so the array's last server is the most recent loaded one and
   * in-memory servers stay in front (Chromium puts them back after the
   * swap). A newer duplicate wins over an older one. */
  for (size_t k = in->n_servers; k-- > 0;) {
    const props_snapshot_server *s = &in->servers[k];
    url_origin key;
    if (!props_key(&s->origin, &key))
      continue;
    props_entry *e = props_entry_peek(p, &key);
    if (e && e->load_mark == gen)
      continue;
    altsvc_info *alts;
    long n = loaded_alts(s, &key, now, &alts);
    if (n < 0)
      return CRONC_ERR_OUT_OF_MEMORY;
    bool has_srtt = s->srtt_us > 0;
    if (!e) {
      if (n == 0 && !s->supports_spdy && !has_srtt)
        continue;
      if (p->count >= p->max_entries) {
        free(alts); /* older than everything kept: would be evicted */
        continue;
      }
      e = props_entry_new(p, &key);
      if (!e) {
        free(alts);
        return CRONC_ERR_OUT_OF_MEMORY;
      }
      props_list_push_back(p, e);
    }
    e->load_mark = gen;
    if (n > 0) {
      altsvc_info_list_free(&e->alts);
      e->alts.items = alts;
      e->alts.count = e->alts.cap = (size_t)n;
      e->last_hdr_us = 0;
    }
    if (s->supports_spdy) {
      e->has_spdy = true;
      e->supports_spdy = true;
    }
    if (has_srtt) {
      e->has_srtt = true;
      e->srtt_us = s->srtt_us;
    }
  }
  return CRONC_OK;
}

/* Each suffix and port maps to its most recently used https server with
 * alternatives, unless its current canonical server still has some. */
static int rebuild_canonical(props *p) {
  for (props_entry *e = p->head; e; e = e->next) {
    if (e->alts.count == 0)
      continue;
    props_canon *c = props_canon_for(p, &e->origin);
    if (c) {
      props_entry *cur = props_entry_peek(p, &c->server);
      if (cur && cur->alts.count > 0)
        continue;
    }
    if (e->origin.scheme != URL_SCHEME_HTTPS || props_suffix_index(p, e->origin.host) < 0)
      continue;
    if (props_canon_reserve(p) != CRONC_OK)
      return CRONC_ERR_OUT_OF_MEMORY;
    props_canon_put(p, &e->origin);
  }
  return CRONC_OK;
}

int props_apply_snapshot(props *p, const props_snapshot *in) {
  if (!p || !in || (in->n_servers && !in->servers) || (in->n_broken && !in->broken))
    return CRONC_ERR_INVALID_ARGUMENT;
  props_enter(p);
  int rv = apply_servers(p, in);
  int rv2 = rebuild_canonical(p);
  if (rv == CRONC_OK)
    rv = rv2;
  if (rv == CRONC_OK && in->n_broken)
    rv = broken_altsvc_import(p->broken, in->broken, in->n_broken);
  if (in->quic_worked && in->quic_worked_address[0] &&
      memchr(in->quic_worked_address, '\0', sizeof in->quic_worked_address))
    memcpy(p->quic_worked_address, in->quic_worked_address, sizeof p->quic_worked_address);
  props_leave(p);
  return rv;
}
