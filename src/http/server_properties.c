/* http/server_properties: the origin map (MRU, bounded), canonical
 * suffixes, brokenness passthrough and change notification; the Alt-Svc
 * header path and snapshots live in server_properties_{altsvc,snapshot}.c.
 * Chromium: net/http/http_server_properties.cc. See server_properties.h. */
#include "http/server_properties.h"
#include "http/server_properties_internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/strbuf.h"
#include "cronc/cronc.h"

static const char *const kDefaultSuffixes[] = {".ggpht.com", ".c.youtube.com", ".googlevideo.com",
                                               ".googleusercontent.com", ".gvt1.com"};

/* ---- Entry/exit of public calls --------------------------------------- */

/* Due broken marks expire first, outside any iteration of our own lists. */
void props_enter(props *p) {
  if (p->depth++ == 0 && broken_altsvc_expire(p->broken) > 0)
    p->dirty = true;
}

/* The change callback runs once the outermost call has finished. */
void props_leave(props *p) {
  if (--p->depth == 0 && p->dirty) {
    p->dirty = false;
    if (p->on_changed)
      p->on_changed(p->user_data);
  }
}

/* A normalised copy of a caller's origin, or false if it is unusable. */
bool props_key(const url_origin *in, url_origin *out) {
  if (!in || !memchr(in->host, '\0', sizeof(in->host)) || in->host[0] == '\0')
    return false;
  if (in->scheme != URL_SCHEME_HTTP && in->scheme != URL_SCHEME_HTTPS &&
      in->scheme != URL_SCHEME_WS && in->scheme != URL_SCHEME_WSS)
    return false;
  *out = *in;
  url_origin_normalize(out);
  return true;
}

static bool props_service_ok(const altsvc_service *s) {
  return s && memchr(s->host, '\0', sizeof(s->host)) != NULL;
}

/* ---- The MRU map ------------------------------------------------------- */

props_entry *props_entry_peek(const props *p, const url_origin *key) {
  uint64_t h = url_origin_hash(key);
  for (props_entry *e = p->buckets[h & p->bucket_mask]; e; e = e->hnext)
    if (e->hash == h && url_origin_equal(&e->origin, key))
      return e;
  return NULL;
}

static void list_unlink(props *p, props_entry *e) {
  if (e->prev)
    e->prev->next = e->next;
  else
    p->head = e->next;
  if (e->next)
    e->next->prev = e->prev;
  else
    p->tail = e->prev;
  e->prev = e->next = NULL;
}

static void list_push_front(props *p, props_entry *e) {
  e->prev = NULL;
  e->next = p->head;
  if (p->head)
    p->head->prev = e;
  else
    p->tail = e;
  p->head = e;
}

void props_list_push_back(props *p, props_entry *e) {
  e->next = NULL;
  e->prev = p->tail;
  if (p->tail)
    p->tail->next = e;
  else
    p->head = e;
  p->tail = e;
}

static void entry_touch(props *p, props_entry *e) {
  if (p->head != e) {
    list_unlink(p, e);
    list_push_front(p, e);
  }
}

/* Chromium's LRUCache::Get: look up and refresh recency. */
static props_entry *entry_get(props *p, const url_origin *key) {
  props_entry *e = props_entry_peek(p, key);
  if (e)
    entry_touch(p, e);
  return e;
}

static void entry_erase(props *p, props_entry *e) {
  props_entry **pp = &p->buckets[e->hash & p->bucket_mask];
  while (*pp != e)
    pp = &(*pp)->hnext;
  *pp = e->hnext;
  list_unlink(p, e);
  altsvc_info_list_free(&e->alts);
  free(e);
  p->count--;
}

static bool entry_is_empty(const props_entry *e) {
  return e->alts.count == 0 && !e->has_spdy && !e->has_srtt;
}

static void entry_erase_if_empty(props *p, props_entry *e) {
  if (entry_is_empty(e))
    entry_erase(p, e);
}

/* A new entry, not yet linked into the MRU list. NULL on OOM. */
props_entry *props_entry_new(props *p, const url_origin *key) {
  props_entry *e = calloc(1, sizeof *e);
  if (!e)
    return NULL;
  e->origin = *key;
  e->hash = url_origin_hash(key);
  props_entry **b = &p->buckets[e->hash & p->bucket_mask];
  e->hnext = *b;
  *b = e;
  p->count++;
  return e;
}

/* Chromium's LRUCache::GetOrPut: the entry at the front, created if needed,
 * evicting the least recently used origin beyond capacity. NULL on OOM
 * (nothing changed). */
static props_entry *entry_get_or_put(props *p, const url_origin *key) {
  props_entry *e = entry_get(p, key);
  if (e)
    return e;
  e = props_entry_new(p, key);
  if (!e)
    return NULL;
  list_push_front(p, e);
  while (p->count > p->max_entries && p->tail != e)
    entry_erase(p, p->tail);
  return e;
}

/* ---- Canonical suffixes -------------------------------------------------- */

/* Index of the first suffix the host ends with (case-insensitive), or -1. */
long props_suffix_index(const props *p, const char *host) {
  size_t hl = strlen(host);
  for (size_t i = 0; i < p->n_suffixes; i++) {
    size_t sl = strlen(p->suffixes[i]);
    if (hl >= sl && strcasecmp(host + hl - sl, p->suffixes[i]) == 0)
      return (long)i;
  }
  return -1;
}

static props_canon *canon_find(props *p, size_t suffix, uint16_t port) {
  for (size_t i = 0; i < p->n_canon; i++)
    if (p->canon[i].suffix == suffix && p->canon[i].port == port)
      return &p->canon[i];
  return NULL;
}

/* Chromium's GetCanonicalAltSvcHost: only https origins have one. */
props_canon *props_canon_for(props *p, const url_origin *o) {
  if (o->scheme != URL_SCHEME_HTTPS)
    return NULL;
  long s = props_suffix_index(p, o->host);
  return s < 0 ? NULL : canon_find(p, (size_t)s, o->port);
}

/* Room for one more mapping, so that a later props_canon_put cannot fail. */
int props_canon_reserve(props *p) {
  if (p->n_canon < p->cap_canon)
    return CRONC_OK;
  size_t cap = p->cap_canon ? p->cap_canon * 2 : 8;
  props_canon *c = realloc(p->canon, cap * sizeof *c);
  if (!c)
    return CRONC_ERR_OUT_OF_MEMORY;
  p->canon = c;
  p->cap_canon = cap;
  return CRONC_OK;
}

/* Makes `o` the canonical server of its suffix and port (https only).
 * Callers have reserved room with props_canon_reserve(). */
void props_canon_put(props *p, const url_origin *o) {
  if (o->scheme != URL_SCHEME_HTTPS)
    return;
  long s = props_suffix_index(p, o->host);
  if (s < 0)
    return;
  props_canon *c = canon_find(p, (size_t)s, o->port);
  if (!c) {
    if (p->n_canon == p->cap_canon)
      return; /* not reserved: cannot happen with correct callers */
    c = &p->canon[p->n_canon++];
    c->suffix = (size_t)s;
    c->port = o->port;
  }
  c->server = *o;
}

/* Chromium's RemoveAltSvcCanonicalHost: drops the mapping of o's suffix and
 * port, whichever server it points to. */
static void canon_remove_for(props *p, const url_origin *o) {
  props_canon *c = props_canon_for(p, o);
  if (c)
    *c = p->canon[--p->n_canon];
}

/* ---- Creation ---------------------------------------------------------- */

void props_params_init(props_params *params) {
  if (!params)
    return;
  *params = (props_params){0};
  params->clock = base_clock_system();
  params->max_server_entries = PROPS_MAX_SERVER_INFO_ENTRIES;
}

static void on_broken_expired(const altsvc_service *service, void *user_data);

props *props_new(const props_params *params) {
  props_params defaults;
  if (!params) {
    props_params_init(&defaults);
    params = &defaults;
  }
  props *p = calloc(1, sizeof *p);
  if (!p)
    return NULL;
  p->clock = params->clock ? params->clock : base_clock_system();
  p->nl = params->nl;
  p->source = netlog_source_new(p->nl, NETLOG_SOURCE_HTTP_SERVER_PROPERTIES);
  p->max_entries =
      params->max_server_entries ? params->max_server_entries : PROPS_MAX_SERVER_INFO_ENTRIES;
  p->on_changed = params->on_changed;
  p->user_data = params->user_data;

  const char *const *sfx = params->canonical_suffixes;
  size_t n_sfx = params->n_canonical_suffixes;
  if (!sfx) {
    sfx = kDefaultSuffixes;
    n_sfx = sizeof kDefaultSuffixes / sizeof kDefaultSuffixes[0];
  }
  if (n_sfx) {
    p->suffixes = calloc(n_sfx, sizeof *p->suffixes);
    if (!p->suffixes)
      goto fail;
    for (size_t i = 0; i < n_sfx; i++) {
      size_t len = sfx[i] ? strlen(sfx[i]) : 0;
      if (len == 0 || len > PROPS_MAX_SUFFIX_LEN)
        goto fail;
      p->suffixes[i] = strdup(sfx[i]);
      if (!p->suffixes[i])
        goto fail;
      p->n_suffixes = i + 1;
    }
  }

  /* Buckets: a power of two at least twice the capacity (bounded so a huge
   * capacity does not allocate a huge table up front). */
  size_t nb = 16;
  while (nb < 2 * p->max_entries && nb < ((size_t)1 << 20))
    nb <<= 1;
  p->buckets =
      calloc(nb, sizeof *p->buckets); // NOLINT(bugprone-sizeof-expression): array of pointers
  if (!p->buckets)
    goto fail;
  p->bucket_mask = nb - 1;

  p->broken = broken_altsvc_new(p->clock, p->nl, on_broken_expired, p);
  if (!p->broken)
    goto fail;
  return p;
fail:
  props_free(p);
  return NULL;
}

void props_free(props *p) {
  if (!p)
    return;
  while (p->head)
    entry_erase(p, p->head);
  free(p->buckets);
  for (size_t i = 0; i < p->n_suffixes; i++)
    free(p->suffixes[i]);
  free(p->suffixes);
  free(p->canon);
  broken_altsvc_free(p->broken);
  altsvc_header_free(&p->scratch_header);
  altsvc_info_list_free(&p->scratch_infos);
  free(p);
}

void props_set_change_callback(props *p, props_changed_fn fn, void *user_data) {
  if (!p)
    return;
  p->on_changed = fn;
  p->user_data = user_data;
}

broken_altsvc *props_broken(props *p) { return p ? p->broken : NULL; }

size_t props_server_count(const props *p) { return p ? p->count : 0; }

netlog *props_netlog(const props *p) { return p ? p->nl : NULL; }

netlog_source props_netlog_source(const props *p) {
  return p ? p->source : (netlog_source){NETLOG_SOURCE_NONE, 0};
}

/* ---- Reading alternatives ---------------------------------------------- */

static bool service_matches(const altsvc_service *a, const char *a_host, const altsvc_service *b) {
  return a->protocol == b->protocol && a->port == b->port && strcmp(a_host, b->host) == 0;
}

/* Erases the entry's expired alternatives (expiration < now). */
static void erase_expired(props_entry *e, int64_t now) {
  size_t w = 0;
  for (size_t i = 0; i < e->alts.count; i++)
    if (e->alts.items[i].expiration_us >= now)
      e->alts.items[w++] = e->alts.items[i];
  if (w != e->alts.count)
    e->last_hdr_us = 0; /* the list no longer is what the last header made */
  e->alts.count = w;
}

static int get_infos_locked(props *p, const url_origin *key, altsvc_info_list *out) {
  int64_t now = base_clock_now(p->clock);
  int rv = CRONC_OK;
  props_entry *e = entry_get(p, key);
  if (e && e->alts.count > 0) {
    erase_expired(e, now);
    for (size_t i = 0; i < e->alts.count; i++) {
      altsvc_info info = e->alts.items[i];
      if (info.service.host[0] == '\0')
        memcpy(info.service.host, key->host, sizeof info.service.host);
      /* An h2 alternative that is the origin itself is no alternative. */
      if (info.service.protocol == ALTSVC_PROTO_HTTP2 && info.service.port == key->port &&
          strcmp(info.service.host, key->host) == 0)
        continue;
      if (rv == CRONC_OK)
        rv = altsvc_info_list_push(out, &info);
    }
    entry_erase_if_empty(p, e);
    return rv;
  }

  props_canon *c = props_canon_for(p, key);
  if (!c)
    return CRONC_OK;
  url_origin canonical = c->server;
  e = entry_get(p, &canonical);
  if (!e || e->alts.count == 0)
    return CRONC_OK;
  erase_expired(e, now);
  for (size_t i = 0; i < e->alts.count; i++) {
    altsvc_info info = e->alts.items[i];
    if (info.service.host[0] == '\0') {
      memcpy(info.service.host, canonical.host, sizeof info.service.host);
      if (broken_altsvc_is_broken(p->broken, &info.service, NULL))
        continue;
      memcpy(info.service.host, key->host, sizeof info.service.host);
    } else if (broken_altsvc_is_broken(p->broken, &info.service, NULL)) {
      continue;
    }
    if (rv == CRONC_OK)
      rv = altsvc_info_list_push(out, &info);
  }
  entry_erase_if_empty(p, e);
  return rv;
}

int props_get_alternative_service_infos(props *p, const url_origin *origin, altsvc_info_list *out) {
  if (!p || !out)
    return CRONC_ERR_INVALID_ARGUMENT;
  altsvc_info_list_clear(out);
  url_origin key;
  if (!props_key(origin, &key))
    return CRONC_ERR_INVALID_ARGUMENT;
  props_enter(p);
  int rv = get_infos_locked(p, &key, out);
  props_leave(p);
  return rv;
}

/* ---- Setting alternatives ---------------------------------------------- */

/* t - now as Chromium's saturating base::Time arithmetic gives it. */
static int64_t remaining_us(int64_t t, int64_t now) {
  int64_t d;
  if (__builtin_sub_overflow(t, now, &d))
    return t > now ? INT64_MAX : INT64_MIN;
  return d;
}

static int64_t twice(int64_t d) {
  int64_t r;
  if (__builtin_mul_overflow(d, 2, &r))
    return d > 0 ? INT64_MAX : INT64_MIN;
  return r;
}

static bool alpns_equal(const altsvc_info *a, const altsvc_info *b) {
  if (a->n_alpns != b->n_alpns)
    return false;
  for (unsigned i = 0; i < a->n_alpns && i < ALTSVC_MAX_ALPNS; i++)
    if (strncmp(a->alpns[i], b->alpns[i], sizeof a->alpns[i]) != 0)
      return false;
  return true;
}

/* Chromium's change detection in SetAlternativeServicesInternal. */
static bool worth_persisting(const altsvc_info_list *old, const altsvc_info *infos, size_t n,
                             int64_t now) {
  if (old->count != n)
    return true;
  for (size_t i = 0; i < n; i++) {
    const altsvc_info *o = &old->items[i], *x = &infos[i];
    if (!altsvc_service_equal(&o->service, &x->service))
      return true;
    int64_t r = remaining_us(o->expiration_us, now);
    int64_t nn = remaining_us(x->expiration_us, now);
    if (nn > twice(r) || twice(nn) < r)
      return true;
    if (!alpns_equal(o, x))
      return true;
  }
  return false;
}

int props_set_locked(props *p, const url_origin *key, const altsvc_info *infos, size_t n) {
  /* Whatever sets the list, the last header's shortcut no longer holds
   * (props_process_alt_svc_header sets it again after its own set). */
  props_entry *cur = props_entry_peek(p, key);
  if (cur)
    cur->last_hdr_us = 0;
  if (n == 0) {
    canon_remove_for(p, key);
    /* Don't bother moving to front when erasing information (Chromium). */
    props_entry *e = cur;
    if (!e || e->alts.count == 0)
      return 0;
    altsvc_info_list_free(&e->alts);
    entry_erase_if_empty(p, e);
    return 1;
  }
  /* The common case, the same header again: the stored list has room, so
   * it is rewritten in place (no allocation, nothing can fail after the
   * canonical reservation). */
  props_entry *old = props_entry_peek(p, key);
  if (old && old->alts.items && old->alts.cap >= n) {
    if (props_canon_reserve(p) != CRONC_OK)
      return CRONC_ERR_OUT_OF_MEMORY;
    props_entry *e = entry_get_or_put(p, key); /* existing: moves to the front */
    bool need = worth_persisting(&e->alts, infos, n, base_clock_now(p->clock));
    memmove(e->alts.items, infos, n * sizeof *infos);
    for (size_t i = 0; i < n; i++) {
      altsvc_info *it = &e->alts.items[i];
      it->service.host[sizeof it->service.host - 1] = '\0';
      if (it->n_alpns > ALTSVC_MAX_ALPNS)
        it->n_alpns = ALTSVC_MAX_ALPNS;
      for (unsigned j = 0; j < ALTSVC_MAX_ALPNS; j++)
        it->alpns[j][ALTSVC_MAX_ALPN_LEN] = '\0';
    }
    e->alts.count = n;
    props_canon_put(p, key);
    return need ? 1 : 0;
  }
  /* Allocate everything first so a failure changes nothing. */
  altsvc_info *items = malloc(n * sizeof *items);
  if (!items)
    return CRONC_ERR_OUT_OF_MEMORY;
  memcpy(items, infos, n * sizeof *items);
  for (size_t i = 0; i < n; i++) {
    items[i].service.host[sizeof items[i].service.host - 1] = '\0';
    if (items[i].n_alpns > ALTSVC_MAX_ALPNS)
      items[i].n_alpns = ALTSVC_MAX_ALPNS;
    for (unsigned j = 0; j < ALTSVC_MAX_ALPNS; j++)
      items[i].alpns[j][ALTSVC_MAX_ALPN_LEN] = '\0';
  }
  if (props_canon_reserve(p) != CRONC_OK) {
    free(items);
    return CRONC_ERR_OUT_OF_MEMORY;
  }
  props_entry *e = entry_get_or_put(p, key);
  if (!e) {
    free(items);
    return CRONC_ERR_OUT_OF_MEMORY;
  }
  bool need = worth_persisting(&e->alts, items, n, base_clock_now(p->clock));
  altsvc_info_list_free(&e->alts);
  e->alts.items = items;
  e->alts.count = e->alts.cap = n;
  props_canon_put(p, key);
  return need ? 1 : 0;
}

int props_set_alternative_services(props *p, const url_origin *origin, const altsvc_info *infos,
                                   size_t n) {
  url_origin key;
  if (!p || !props_key(origin, &key) || (n > 0 && !infos))
    return CRONC_ERR_INVALID_ARGUMENT;
  for (size_t i = 0; i < n; i++)
    if (infos[i].service.protocol != ALTSVC_PROTO_HTTP2 &&
        infos[i].service.protocol != ALTSVC_PROTO_QUIC)
      return CRONC_ERR_INVALID_ARGUMENT;
  props_enter(p);
  int rv = props_set_locked(p, &key, infos, n);
  if (rv > 0)
    p->dirty = true;
  props_leave(p);
  return rv;
}

int props_set_quic_alternative_service(props *p, const url_origin *origin,
                                       const altsvc_service *alt, int64_t expiration_us,
                                       const char *const *alpns, size_t n_alpns) {
  if (!props_service_ok(alt) || n_alpns > ALTSVC_MAX_ALPNS || (n_alpns && !alpns))
    return CRONC_ERR_INVALID_ARGUMENT;
  altsvc_info info = {0};
  info.service = *alt;
  info.service.protocol = ALTSVC_PROTO_QUIC;
  info.expiration_us = expiration_us;
  for (size_t i = 0; i < n_alpns; i++) {
    if (!alpns[i] || strlen(alpns[i]) > ALTSVC_MAX_ALPN_LEN)
      return CRONC_ERR_INVALID_ARGUMENT;
    strcpy(info.alpns[i], alpns[i]);
  }
  info.n_alpns = (uint8_t)n_alpns;
  return props_set_alternative_services(p, origin, &info, 1);
}

/* ---- Broken alternative services ----------------------------------------- */

/* Chromium's OnExpireBrokenAlternativeService: the expired alternative is
 * removed from every origin (an empty host stands for the origin's host);
 * origins left without alternatives lose them and their canonical mapping.
 * Runs from broken_altsvc_expire(), which props_enter() calls before any
 * iteration of our own, so changing the map here is safe. */
static void on_broken_expired(const altsvc_service *service, void *user_data) {
  props *p = user_data;
  props_entry *next;
  for (props_entry *e = p->head; e; e = next) {
    next = e->next;
    if (e->alts.count == 0)
      continue;
    size_t w = 0;
    for (size_t i = 0; i < e->alts.count; i++) {
      const altsvc_service *s = &e->alts.items[i].service;
      const char *host = s->host[0] ? s->host : e->origin.host;
      if (!service_matches(s, host, service))
        e->alts.items[w++] = e->alts.items[i];
    }
    if (w != e->alts.count)
      e->last_hdr_us = 0; /* must be advertised again to come back */
    e->alts.count = w;
    if (w == 0) {
      canon_remove_for(p, &e->origin);
      altsvc_info_list_free(&e->alts);
      entry_erase_if_empty(p, e);
    }
  }
  p->dirty = true;
}

void props_mark_alternative_service_broken(props *p, const altsvc_service *s) {
  if (!p || !props_service_ok(s) || !s->host[0])
    return;
  props_enter(p);
  broken_altsvc_mark_broken(p->broken, s);
  p->dirty = true;
  props_leave(p);
}

void props_mark_alternative_service_broken_until_default_network_changes(props *p,
                                                                         const altsvc_service *s) {
  if (!p || !props_service_ok(s) || !s->host[0])
    return;
  props_enter(p);
  broken_altsvc_mark_broken_until_default_network_changes(p->broken, s);
  p->dirty = true;
  props_leave(p);
}

void props_mark_alternative_service_recently_broken(props *p, const altsvc_service *s) {
  if (!p || !props_service_ok(s) || !s->host[0])
    return;
  props_enter(p);
  broken_altsvc_mark_recently_broken(p->broken, s);
  p->dirty = true;
  props_leave(p);
}

bool props_is_alternative_service_broken(props *p, const altsvc_service *s) {
  if (!p || !props_service_ok(s))
    return false;
  props_enter(p);
  bool broken = broken_altsvc_is_broken(p->broken, s, NULL);
  props_leave(p);
  return broken;
}

bool props_was_alternative_service_recently_broken(props *p, const altsvc_service *s) {
  if (!p || !props_service_ok(s))
    return false;
  props_enter(p);
  bool recent = broken_altsvc_was_recently_broken(p->broken, s);
  props_leave(p);
  return recent;
}

void props_confirm_alternative_service(props *p, const altsvc_service *s) {
  if (!p || !props_service_ok(s) || !s->host[0])
    return;
  props_enter(p);
  /* Chromium persists only when IsBroken changes; a confirm that only
   * clears the recently-broken count changes the persisted counts too, so
   * we also write then. */
  bool was_broken = broken_altsvc_is_broken(p->broken, s, NULL);
  bool was_recent = broken_altsvc_was_recently_broken(p->broken, s);
  broken_altsvc_confirm(p->broken, s);
  if (was_broken || was_recent)
    p->dirty = true;
  props_leave(p);
}

void props_on_default_network_changed(props *p) {
  if (!p)
    return;
  props_enter(p);
  if (broken_altsvc_on_default_network_changed(p->broken))
    p->dirty = true;
  props_leave(p);
}

int64_t props_next_expiry(props *p) {
  if (!p)
    return INT64_MAX;
  return broken_altsvc_next_expiry(p->broken);
}

size_t props_run_expiry(props *p) {
  if (!p)
    return 0;
  p->depth++;
  size_t n = 0;
  if (p->depth == 1) {
    n = broken_altsvc_expire(p->broken);
    if (n > 0)
      p->dirty = true;
  }
  props_leave(p);
  return n;
}

/* ---- SPDY, srtt, QUIC worked ------------------------------------------------ */

void props_set_supports_spdy(props *p, const url_origin *origin, bool supports_spdy) {
  url_origin key;
  if (!p || !props_key(origin, &key))
    return;
  props_enter(p);
  props_entry *e = entry_get_or_put(p, &key);
  if (e) {
    /* Unset counts as false: setting false on a fresh entry is no change. */
    bool old = e->has_spdy && e->supports_spdy;
    e->has_spdy = true;
    e->supports_spdy = supports_spdy;
    if (old != supports_spdy)
      p->dirty = true;
  }
  props_leave(p);
}

bool props_get_supports_spdy(props *p, const url_origin *origin) {
  url_origin key;
  if (!p || !props_key(origin, &key))
    return false;
  props_enter(p);
  props_entry *e = entry_get(p, &key);
  bool v = e && e->has_spdy && e->supports_spdy;
  props_leave(p);
  return v;
}

void props_set_srtt(props *p, const url_origin *origin, int64_t srtt_us) {
  url_origin key;
  if (!p || !props_key(origin, &key) || srtt_us < 0)
    return;
  props_enter(p);
  props_entry *e = entry_get_or_put(p, &key);
  if (e) {
    if (!e->has_srtt || e->srtt_us != srtt_us)
      p->dirty = true;
    e->has_srtt = true;
    e->srtt_us = srtt_us;
  }
  props_leave(p);
}

bool props_get_srtt(props *p, const url_origin *origin, int64_t *srtt_us) {
  url_origin key;
  if (!p || !props_key(origin, &key))
    return false;
  props_enter(p);
  props_entry *e = entry_get(p, &key);
  bool found = e && e->has_srtt;
  if (found && srtt_us)
    *srtt_us = e->srtt_us;
  props_leave(p);
  return found;
}

void props_clear_srtt(props *p, const url_origin *origin) {
  url_origin key;
  if (!p || !props_key(origin, &key))
    return;
  props_enter(p);
  props_entry *e = props_entry_peek(p, &key);
  if (e && e->has_srtt) {
    e->has_srtt = false;
    e->srtt_us = 0;
    entry_erase_if_empty(p, e);
    p->dirty = true;
  }
  props_leave(p);
}

bool props_supports_request_priority(props *p, const url_origin *origin) {
  if (props_get_supports_spdy(p, origin))
    return true;
  altsvc_info_list l;
  altsvc_info_list_init(&l);
  bool quic = false;
  if (props_get_alternative_service_infos(p, origin, &l) == CRONC_OK)
    for (size_t i = 0; i < l.count && !quic; i++)
      quic = l.items[i].service.protocol == ALTSVC_PROTO_QUIC;
  altsvc_info_list_free(&l);
  return quic;
}

void props_set_last_local_address_when_quic_worked(props *p, const char *address) {
  if (!p)
    return;
  const char *a = address ? address : "";
  if (strlen(a) >= sizeof p->quic_worked_address)
    return; /* not an IP address */
  props_enter(p);
  if (strcmp(p->quic_worked_address, a) != 0) {
    strcpy(p->quic_worked_address, a);
    p->dirty = true;
  }
  props_leave(p);
}

bool props_has_last_local_address_when_quic_worked(props *p) {
  return p && p->quic_worked_address[0] != '\0';
}

bool props_was_last_local_address_when_quic_worked(props *p, const char *address) {
  return p && address && address[0] && strcmp(p->quic_worked_address, address) == 0;
}
