/* http/broken_alternative_services: see the header. Chromium:
 * net/http/broken_alternative_services.cc.
 *
 * Three containers, each small (hundreds of entries at most):
 *  - broken[]: entries by value, sorted by expiry ticks (ties in marking
 *    order), so expiry pops from the front and next_expiry is broken[0].
 *  - the recently-broken LRU: a fixed pool of 200 slots in a doubly linked
 *    list by index (head = most recent), so refresh and eviction are O(1)
 *    and no allocation happens after _new.
 *  - until_nc[]: the "until default network changes" set, unordered.
 * Lookups are linear scans comparing a precomputed hash first; at these sizes
 * that is a few hundred integer compares, cheaper than maintaining an index.
 * Every mutation reserves memory before it changes anything, so an
 * allocation failure leaves the state as it was. */
#include "http/broken_alternative_services.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "cronc/cronc.h"

typedef struct broken_entry {
  int64_t expiry_ticks;
  uint32_t hash;
  altsvc_service svc;
} broken_entry;

typedef struct lru_slot {
  altsvc_service svc;
  uint32_t hash;
  int count;
  int16_t prev; /* towards the head (more recent); -1 = none */
  int16_t next; /* towards the tail (less recent); -1 = none */
} lru_slot;

typedef struct nc_entry {
  uint32_t hash;
  altsvc_service svc;
} nc_entry;

struct broken_altsvc {
  const base_clock *clock;
  netlog *nl;
  netlog_source source;
  broken_altsvc_expired_fn on_expired;
  void *user_data;

  int64_t initial_delay_us;
  int64_t max_delay_us;
  bool exponential;

  broken_entry *broken;
  size_t n_broken, cap_broken;

  nc_entry *until_nc;
  size_t n_nc, cap_nc;

  lru_slot lru[BROKEN_ALTSVC_MAX_RECENTLY_BROKEN];
  int16_t lru_head; /* most recently marked */
  int16_t lru_tail; /* least recently marked: evicted first */
  int16_t lru_free; /* free list through .next */
  size_t n_lru;
};

/* ---- small helpers ---------------------------------------------------- */

static int64_t sat_add(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r))
    return b > 0 ? INT64_MAX : INT64_MIN;
  return r;
}

static int64_t sat_sub(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_sub_overflow(a, b, &r))
    return b < 0 ? INT64_MAX : INT64_MIN;
  return r;
}

static size_t host_len(const altsvc_service *s) { return strnlen(s->host, sizeof s->host); }

static bool service_valid(const altsvc_service *s) {
  if (!s || (s->protocol != ALTSVC_PROTO_HTTP2 && s->protocol != ALTSVC_PROTO_QUIC))
    return false;
  size_t n = host_len(s);
  return n > 0 && n < sizeof s->host;
}

/* FNV-1a over (protocol, port, host). */
static uint32_t service_hash(const altsvc_service *s) {
  uint32_t h = 2166136261u;
  uint8_t head[3] = {(uint8_t)s->protocol, (uint8_t)(s->port >> 8), (uint8_t)s->port};
  for (size_t i = 0; i < sizeof head; i++)
    h = (h ^ head[i]) * 16777619u;
  for (size_t i = 0, n = host_len(s); i < n; i++)
    h = (h ^ (uint8_t)s->host[i]) * 16777619u;
  return h;
}

static bool same(uint32_t ha, const altsvc_service *a, uint32_t hb, const altsvc_service *b) {
  return ha == hb && altsvc_service_equal(a, b);
}

/* Copies a service with its host NUL-padded, so stored keys compare cleanly. */
static void copy_service(altsvc_service *dst, const altsvc_service *src) {
  memset(dst, 0, sizeof *dst);
  dst->protocol = src->protocol;
  dst->port = src->port;
  memcpy(dst->host, src->host, host_len(src));
}

static bool grow(void **arr, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap)
    return true;
  size_t ncap = *cap ? *cap : 8;
  while (ncap < need)
    ncap *= 2;
  void *p = realloc(*arr, ncap * elem);
  if (!p)
    return false;
  *arr = p;
  *cap = ncap;
  return true;
}

/* ---- broken list ------------------------------------------------------- */

static ptrdiff_t broken_find(const broken_altsvc *b, uint32_t h, const altsvc_service *s) {
  for (size_t i = 0; i < b->n_broken; i++)
    if (same(b->broken[i].hash, &b->broken[i].svc, h, s))
      return (ptrdiff_t)i;
  return -1;
}

static void broken_remove_at(broken_altsvc *b, size_t i) {
  memmove(&b->broken[i], &b->broken[i + 1], (b->n_broken - i - 1) * sizeof b->broken[0]);
  b->n_broken--;
}

/* Inserts after every entry expiring at or before `expiry` (Chromium's
 * AddToBrokenListAndMap). Capacity must have been reserved. */
static void broken_insert(broken_altsvc *b, uint32_t h, const altsvc_service *s, int64_t expiry) {
  size_t i = b->n_broken;
  while (i > 0 && b->broken[i - 1].expiry_ticks > expiry)
    i--;
  memmove(&b->broken[i + 1], &b->broken[i], (b->n_broken - i) * sizeof b->broken[0]);
  b->broken[i].expiry_ticks = expiry;
  b->broken[i].hash = h;
  copy_service(&b->broken[i].svc, s);
  b->n_broken++;
}

/* ---- recently-broken LRU ---------------------------------------------- */

static void lru_reset(broken_altsvc *b) {
  b->lru_head = b->lru_tail = -1;
  b->n_lru = 0;
  for (int i = 0; i < BROKEN_ALTSVC_MAX_RECENTLY_BROKEN; i++)
    b->lru[i].next = (int16_t)(i + 1 < BROKEN_ALTSVC_MAX_RECENTLY_BROKEN ? i + 1 : -1);
  b->lru_free = 0;
}

static int lru_find(const broken_altsvc *b, uint32_t h, const altsvc_service *s) {
  for (int i = b->lru_head; i >= 0; i = b->lru[i].next)
    if (same(b->lru[i].hash, &b->lru[i].svc, h, s))
      return i;
  return -1;
}

static void lru_unlink(broken_altsvc *b, int i) {
  lru_slot *e = &b->lru[i];
  if (e->prev >= 0)
    b->lru[e->prev].next = e->next;
  else
    b->lru_head = e->next;
  if (e->next >= 0)
    b->lru[e->next].prev = e->prev;
  else
    b->lru_tail = e->prev;
}

static void lru_link_head(broken_altsvc *b, int i) {
  b->lru[i].prev = -1;
  b->lru[i].next = b->lru_head;
  if (b->lru_head >= 0)
    b->lru[b->lru_head].prev = (int16_t)i;
  else
    b->lru_tail = (int16_t)i;
  b->lru_head = (int16_t)i;
}

static void lru_touch(broken_altsvc *b, int i) {
  if (b->lru_head == i)
    return;
  lru_unlink(b, i);
  lru_link_head(b, i);
}

static void lru_remove(broken_altsvc *b, int i) {
  lru_unlink(b, i);
  b->lru[i].next = b->lru_free;
  b->lru_free = (int16_t)i;
  b->n_lru--;
}

/* Chromium's LRUCache::Put for a key known to be absent: becomes the most
 * recent, evicting the least recent when full. Returns the slot. */
static int lru_put_new(broken_altsvc *b, uint32_t h, const altsvc_service *s, int count) {
  if (b->n_lru == BROKEN_ALTSVC_MAX_RECENTLY_BROKEN)
    lru_remove(b, b->lru_tail);
  int i = b->lru_free;
  b->lru_free = b->lru[i].next;
  b->n_lru++;
  copy_service(&b->lru[i].svc, s);
  b->lru[i].hash = h;
  b->lru[i].count = count;
  lru_link_head(b, i);
  return i;
}

/* ---- until-default-network-changes set -------------------------------- */

static ptrdiff_t nc_find(const broken_altsvc *b, uint32_t h, const altsvc_service *s) {
  for (size_t i = 0; i < b->n_nc; i++)
    if (same(b->until_nc[i].hash, &b->until_nc[i].svc, h, s))
      return (ptrdiff_t)i;
  return -1;
}

static void nc_remove_at(broken_altsvc *b, size_t i) {
  b->until_nc[i] = b->until_nc[b->n_nc - 1];
  b->n_nc--;
}

/* ---- NetLog -------------------------------------------------------------- */

static void log_service_event(const broken_altsvc *b, netlog_event_type type,
                              const altsvc_service *s, const char *extra_json) {
  if (!netlog_is_capturing(b->nl))
    return;
  char text[URL_MAX_HOST + 32];
  if (altsvc_service_to_string(s, text, sizeof text) < 0)
    text[0] = '\0';
  strbuf sb = STRBUF_INIT;
  strbuf_append_str(&sb, "{\"alternative_service\":");
  strbuf_json_cstr(&sb, text);
  if (extra_json)
    strbuf_append_str(&sb, extra_json);
  strbuf_append_char(&sb, '}');
  if (!strbuf_failed(&sb))
    netlog_add_event(b->nl, b->source, type, strbuf_cstr(&sb));
  strbuf_free(&sb);
}

/* ---- public API --------------------------------------------------------- */

int64_t broken_altsvc_compute_delay(int broken_count, int64_t initial_delay_us,
                                    int64_t max_delay_us, bool exponential) {
  int64_t initial = initial_delay_us;
  if (initial < BROKEN_ALTSVC_MIN_INITIAL_DELAY_US)
    initial = BROKEN_ALTSVC_MIN_INITIAL_DELAY_US;
  if (initial > BROKEN_ALTSVC_DEFAULT_INITIAL_DELAY_US)
    initial = BROKEN_ALTSVC_DEFAULT_INITIAL_DELAY_US;
  int64_t delay;
  if (broken_count <= 0) {
    delay = initial;
  } else {
    int shift = broken_count < BROKEN_ALTSVC_MAX_SHIFT ? broken_count : BROKEN_ALTSVC_MAX_SHIFT;
    /* At most 300 s << 18 (about 7.9e13 µs): no overflow. */
    delay = exponential ? initial << shift : BROKEN_ALTSVC_DEFAULT_INITIAL_DELAY_US << (shift - 1);
  }
  if (max_delay_us < 0)
    max_delay_us = 0;
  return delay < max_delay_us ? delay : max_delay_us;
}

broken_altsvc *broken_altsvc_new(const base_clock *clock, netlog *nl,
                                 broken_altsvc_expired_fn on_expired, void *user_data) {
  if (!clock)
    return NULL;
  broken_altsvc *b = calloc(1, sizeof *b);
  if (!b)
    return NULL;
  b->clock = clock;
  b->nl = nl;
  b->source = netlog_source_new(nl, NETLOG_SOURCE_HTTP_SERVER_PROPERTIES);
  b->on_expired = on_expired;
  b->user_data = user_data;
  b->initial_delay_us = BROKEN_ALTSVC_DEFAULT_INITIAL_DELAY_US;
  b->max_delay_us = BROKEN_ALTSVC_MAX_DELAY_US;
  b->exponential = true;
  lru_reset(b);
  return b;
}

void broken_altsvc_free(broken_altsvc *b) {
  if (!b)
    return;
  free(b->broken);
  free(b->until_nc);
  free(b);
}

void broken_altsvc_set_delay_params(broken_altsvc *b, int64_t initial_delay_us,
                                    bool exponential_backoff_on_initial_delay) {
  if (!b)
    return;
  if (initial_delay_us < BROKEN_ALTSVC_MIN_INITIAL_DELAY_US)
    initial_delay_us = BROKEN_ALTSVC_MIN_INITIAL_DELAY_US;
  if (initial_delay_us > BROKEN_ALTSVC_DEFAULT_INITIAL_DELAY_US)
    initial_delay_us = BROKEN_ALTSVC_DEFAULT_INITIAL_DELAY_US;
  b->initial_delay_us = initial_delay_us;
  b->exponential = exponential_backoff_on_initial_delay;
}

void broken_altsvc_set_max_delay(broken_altsvc *b, int64_t max_delay_us) {
  if (!b)
    return;
  b->max_delay_us = max_delay_us < 0 ? 0 : max_delay_us;
}

/* Chromium's MarkBrokenImpl plus the set bookkeeping of MarkBroken /
 * MarkBrokenUntilDefaultNetworkChanges. */
static void mark_broken_impl(broken_altsvc *b, const altsvc_service *s, bool until_nc) {
  if (!b || !service_valid(s))
    return;
  uint32_t h = service_hash(s);
  int64_t now = base_clock_ticks(b->clock);
  ptrdiff_t bi = broken_find(b, h, s);
  ptrdiff_t ni = nc_find(b, h, s);

  /* Reserve first: an allocation failure changes nothing. */
  if (bi < 0 && !grow((void **)&b->broken, &b->cap_broken, b->n_broken + 1, sizeof *b->broken))
    return;
  if (until_nc && ni < 0 &&
      !grow((void **)&b->until_nc, &b->cap_nc, b->n_nc + 1, sizeof *b->until_nc))
    return;

  if (until_nc && ni < 0) {
    b->until_nc[b->n_nc].hash = h;
    copy_service(&b->until_nc[b->n_nc].svc, s);
    b->n_nc++;
  } else if (!until_nc && ni >= 0) {
    nc_remove_at(b, (size_t)ni);
  }

  int broken_count = 0;
  int li = lru_find(b, h, s);
  if (li < 0) {
    lru_put_new(b, h, s, 1);
  } else {
    broken_count = b->lru[li].count;
    if (b->lru[li].count < INT_MAX)
      b->lru[li].count++;
    lru_touch(b, li);
  }

  int64_t delay = broken_altsvc_compute_delay(broken_count, b->initial_delay_us, b->max_delay_us,
                                              b->exponential);
  int64_t expiry = sat_add(now, delay);
  bool already_broken = bi >= 0 && b->broken[bi].expiry_ticks > now;
  if (bi >= 0 && !already_broken) {
    /* Its time ran out but expire() has not run yet: Chromium's timer would
     * have removed it, so it gets a fresh expiry rather than the stale one. */
    broken_remove_at(b, (size_t)bi);
    bi = -1;
  }
  if (bi < 0)
    broken_insert(b, h, s, expiry);

  if (netlog_is_capturing(b->nl)) {
    char extra[160];
    snprintf(extra, sizeof extra,
             ",\"broken_count\":%d,\"delay_ms\":%lld,\"until_network_change\":%s"
             ",\"already_broken\":%s",
             broken_count, (long long)(delay / BASE_US_PER_MS), until_nc ? "true" : "false",
             already_broken ? "true" : "false");
    log_service_event(b, NETLOG_TYPE_CRONC_ALTERNATIVE_SERVICE_MARKED_BROKEN, s, extra);
  }
}

void broken_altsvc_mark_broken(broken_altsvc *b, const altsvc_service *s) {
  mark_broken_impl(b, s, false);
}

void broken_altsvc_mark_broken_until_default_network_changes(broken_altsvc *b,
                                                             const altsvc_service *s) {
  mark_broken_impl(b, s, true);
}

void broken_altsvc_mark_recently_broken(broken_altsvc *b, const altsvc_service *s) {
  if (!b || !service_valid(s))
    return;
  uint32_t h = service_hash(s);
  int li = lru_find(b, h, s);
  if (li < 0)
    li = lru_put_new(b, h, s, 1);
  else
    lru_touch(b, li);
  if (netlog_is_capturing(b->nl)) {
    char extra[48];
    snprintf(extra, sizeof extra, ",\"broken_count\":%d", b->lru[li].count);
    log_service_event(b, NETLOG_TYPE_CRONC_ALTERNATIVE_SERVICE_MARKED_RECENTLY_BROKEN, s, extra);
  }
}

bool broken_altsvc_is_broken(const broken_altsvc *b, const altsvc_service *s,
                             int64_t *expiry_ticks_out) {
  if (!b || !service_valid(s))
    return false;
  ptrdiff_t i = broken_find(b, service_hash(s), s);
  if (i < 0 || b->broken[i].expiry_ticks <= base_clock_ticks(b->clock))
    return false;
  if (expiry_ticks_out)
    *expiry_ticks_out = b->broken[i].expiry_ticks;
  return true;
}

bool broken_altsvc_was_recently_broken(const broken_altsvc *b, const altsvc_service *s) {
  if (!b || !service_valid(s))
    return false;
  return lru_find(b, service_hash(s), s) >= 0 || broken_altsvc_is_broken(b, s, NULL);
}

int broken_altsvc_broken_count(const broken_altsvc *b, const altsvc_service *s) {
  if (!b || !service_valid(s))
    return 0;
  int li = lru_find(b, service_hash(s), s);
  return li < 0 ? 0 : b->lru[li].count;
}

/* Chromium's Confirm. Returns whether anything was removed. */
static bool confirm_impl(broken_altsvc *b, const altsvc_service *s, bool network_change) {
  uint32_t h = service_hash(s);
  bool changed = false;
  ptrdiff_t bi = broken_find(b, h, s);
  if (bi >= 0) {
    broken_remove_at(b, (size_t)bi);
    changed = true;
  }
  int li = lru_find(b, h, s);
  if (li >= 0) {
    lru_remove(b, li);
    changed = true;
  }
  ptrdiff_t ni = nc_find(b, h, s);
  if (ni >= 0) {
    nc_remove_at(b, (size_t)ni);
    changed = true;
  }
  if (changed)
    log_service_event(b, NETLOG_TYPE_CRONC_ALTERNATIVE_SERVICE_CONFIRMED, s,
                      network_change ? ",\"default_network_changed\":true" : NULL);
  return changed;
}

void broken_altsvc_confirm(broken_altsvc *b, const altsvc_service *s) {
  if (!b || !service_valid(s))
    return;
  confirm_impl(b, s, false);
}

bool broken_altsvc_on_default_network_changed(broken_altsvc *b) {
  if (!b)
    return false;
  bool changed = b->n_nc > 0;
  while (b->n_nc > 0) {
    altsvc_service s = b->until_nc[b->n_nc - 1].svc; /* confirm removes it from the set */
    confirm_impl(b, &s, true);
  }
  return changed;
}

void broken_altsvc_clear(broken_altsvc *b) {
  if (!b)
    return;
  b->n_broken = 0;
  b->n_nc = 0;
  lru_reset(b);
}

size_t broken_altsvc_expire(broken_altsvc *b) {
  if (!b)
    return 0;
  int64_t now = base_clock_ticks(b->clock);
  size_t n = 0;
  while (b->n_broken > 0 && b->broken[0].expiry_ticks <= now) {
    /* Remove before the callback so that its queries see the new state. */
    altsvc_service s = b->broken[0].svc;
    uint32_t h = b->broken[0].hash;
    broken_remove_at(b, 0);
    n++;
    if (netlog_is_capturing(b->nl)) {
      int li = lru_find(b, h, &s);
      char extra[48];
      snprintf(extra, sizeof extra, ",\"broken_count\":%d", li < 0 ? 0 : b->lru[li].count);
      log_service_event(b, NETLOG_TYPE_CRONC_ALTERNATIVE_SERVICE_BROKEN_EXPIRED, &s, extra);
    }
    if (b->on_expired)
      b->on_expired(&s, b->user_data);
  }
  return n;
}

int64_t broken_altsvc_next_expiry(const broken_altsvc *b) {
  if (!b || b->n_broken == 0)
    return INT64_MAX;
  return b->broken[0].expiry_ticks;
}

/* ---- persistence ---------------------------------------------------------- */

int broken_altsvc_export(const broken_altsvc *b, props_snapshot_broken **out, size_t *n_out) {
  if (!b || !out || !n_out)
    return CRONC_ERR_INVALID_ARGUMENT;
  *out = NULL;
  *n_out = 0;
  int64_t now_ticks = base_clock_ticks(b->clock);
  int64_t now_wall = base_clock_now(b->clock);

  /* The list is sorted, so the currently broken entries are a suffix (stale
   * ones, expiry <= now, sit in front); the persisted ones are its first 200. */
  size_t first = 0;
  while (first < b->n_broken && b->broken[first].expiry_ticks <= now_ticks)
    first++;
  size_t last = b->n_broken - first > BROKEN_ALTSVC_MAX_PERSISTED_BROKEN
                    ? first + BROKEN_ALTSVC_MAX_PERSISTED_BROKEN
                    : b->n_broken;

  size_t cap = b->n_lru + (last - first);
  if (cap == 0)
    return CRONC_OK;
  props_snapshot_broken *items = calloc(cap, sizeof *items);
  if (!items)
    return CRONC_ERR_OUT_OF_MEMORY;

  size_t n = 0;
  for (int i = b->lru_tail; i >= 0; i = b->lru[i].prev) {
    props_snapshot_broken *it = &items[n++];
    it->service = b->lru[i].svc;
    it->broken_count = b->lru[i].count;
    for (size_t j = first; j < last; j++) {
      if (same(b->broken[j].hash, &b->broken[j].svc, b->lru[i].hash, &b->lru[i].svc)) {
        it->is_broken = true;
        it->broken_until_us = sat_add(now_wall, sat_sub(b->broken[j].expiry_ticks, now_ticks));
        break;
      }
    }
  }
  for (size_t j = first; j < last; j++) {
    if (lru_find(b, b->broken[j].hash, &b->broken[j].svc) >= 0)
      continue;
    props_snapshot_broken *it = &items[n++];
    it->service = b->broken[j].svc;
    it->broken_count = 0;
    it->is_broken = true;
    it->broken_until_us = sat_add(now_wall, sat_sub(b->broken[j].expiry_ticks, now_ticks));
  }
  *out = items;
  *n_out = n;
  return CRONC_OK;
}

/* Skips what Chromium's manager drops on load (plus unknown protocols). */
static bool import_item_valid(const props_snapshot_broken *it) {
  return it->broken_count >= 0 && service_valid(&it->service);
}

int broken_altsvc_import(broken_altsvc *b, const props_snapshot_broken *items, size_t n) {
  if (!b || (!items && n > 0))
    return CRONC_ERR_INVALID_ARGUMENT;
  int64_t now_ticks = base_clock_ticks(b->clock);
  int64_t now_wall = base_clock_now(b->clock);

  /* Reserve everything first so that a failure changes nothing. */
  size_t n_new_broken = 0;
  for (size_t i = 0; i < n; i++)
    if (import_item_valid(&items[i]) && items[i].is_broken)
      n_new_broken++;
  if (!grow((void **)&b->broken, &b->cap_broken, b->n_broken + n_new_broken, sizeof *b->broken))
    return CRONC_ERR_OUT_OF_MEMORY;
  lru_slot *old = NULL;
  size_t n_old = 0;
  if (b->n_lru > 0) {
    old = malloc(b->n_lru * sizeof *old);
    if (!old)
      return CRONC_ERR_OUT_OF_MEMORY;
    for (int i = b->lru_tail; i >= 0; i = b->lru[i].prev) /* least recent first */
      old[n_old++] = b->lru[i];
  }

  /* 1. The loaded counts become the LRU, in their order; a later duplicate
   *    wins and becomes more recent (LRUCache::Put). */
  lru_reset(b);
  for (size_t i = 0; i < n; i++) {
    const props_snapshot_broken *it = &items[i];
    if (!import_item_valid(it) || it->broken_count == 0)
      continue;
    uint32_t h = service_hash(&it->service);
    int li = lru_find(b, h, &it->service);
    if (li >= 0) {
      b->lru[li].count = it->broken_count;
      lru_touch(b, li);
    } else {
      lru_put_new(b, h, &it->service, it->broken_count);
    }
  }
  /* 2. In-memory entries not loaded come back as more recent, in their
   *    order; loaded counts win for the others. */
  for (size_t i = 0; i < n_old; i++)
    if (lru_find(b, old[i].hash, &old[i].svc) < 0)
      lru_put_new(b, old[i].hash, &old[i].svc, old[i].count);
  free(old);

  /* 3. Broken entries: a loaded expiry replaces an in-memory one; one already
   *    past only makes the service recently broken. Either way a service
   *    with no count gets 1 (LRUCache::Peek, then Put). */
  for (size_t i = 0; i < n; i++) {
    const props_snapshot_broken *it = &items[i];
    if (!import_item_valid(it) || !it->is_broken)
      continue;
    uint32_t h = service_hash(&it->service);
    int64_t expiry = sat_add(now_ticks, sat_sub(it->broken_until_us, now_wall));
    if (expiry > now_ticks) {
      ptrdiff_t bi = broken_find(b, h, &it->service);
      if (bi >= 0)
        broken_remove_at(b, (size_t)bi);
      broken_insert(b, h, &it->service, expiry);
    }
    if (lru_find(b, h, &it->service) < 0)
      lru_put_new(b, h, &it->service, 1);
  }
  return CRONC_OK;
}
