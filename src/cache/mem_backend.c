/* The memory backend (Chromium's MemBackendImpl): a hash table of entries
 * plus an LRU list, bounded by size. Entries are reference-counted so a
 * reader keeps what it opened after a doom or a replacement. */
#include <stdlib.h>
#include <string.h>

#include "cache/cache_backend.h"
#include "cronc/cronc.h"

#define MEM_DEFAULT_MAX (10 * 1024 * 1024)

typedef struct mem_entry mem_entry;
struct mem_entry {
  char *key;
  uint64_t hash;
  uint8_t *meta;
  size_t meta_len;
  uint8_t *body;
  size_t body_len, body_cap;
  int refs;
  bool linked; /* in the table and the LRU list (committed, not doomed) */
  mem_entry *hnext;
  mem_entry *prev, *next; /* LRU: head = most recently used */
};

typedef struct mem_backend {
  cache_backend base;
  int64_t max_size;
  int64_t size;
  int64_t count;
  mem_entry **table;
  size_t buckets;
  mem_entry lru; /* sentinel */
} mem_backend;

typedef struct mem_handle {
  cache_backend_entry base;
  mem_backend *be;
  mem_entry *e;
  bool writer;
  bool committed;
} mem_handle;

static uint64_t hash_key(const char *k) {
  uint64_t h = 1469598103934665603ull;
  for (; *k; k++) {
    h ^= (uint8_t)*k;
    h *= 1099511628211ull;
  }
  return h;
}

static int64_t entry_bytes(const mem_entry *e) {
  return (int64_t)(strlen(e->key) + e->meta_len + e->body_len);
}

static void entry_unref(mem_entry *e) {
  if (--e->refs > 0)
    return;
  free(e->key);
  free(e->meta);
  free(e->body);
  free(e);
}

static mem_entry **find_slot(mem_backend *b, const char *key, uint64_t h) {
  mem_entry **p = &b->table[h % b->buckets];
  while (*p && ((*p)->hash != h || strcmp((*p)->key, key) != 0))
    p = &(*p)->hnext;
  return p;
}

static void lru_remove(mem_entry *e) {
  e->prev->next = e->next;
  e->next->prev = e->prev;
  e->prev = e->next = NULL;
}

static void lru_push_front(mem_backend *b, mem_entry *e) {
  e->next = b->lru.next;
  e->prev = &b->lru;
  b->lru.next->prev = e;
  b->lru.next = e;
}

static void unlink_entry(mem_backend *b, mem_entry *e) {
  mem_entry **p = find_slot(b, e->key, e->hash);
  if (*p == e)
    *p = e->hnext;
  e->hnext = NULL;
  lru_remove(e);
  e->linked = false;
  b->size -= entry_bytes(e);
  b->count--;
  entry_unref(e); /* the table's reference */
}

static void grow(mem_backend *b) {
  size_t nb = b->buckets * 2;
  mem_entry **t = calloc(nb, sizeof *t);
  if (!t)
    return; /* longer chains, still correct */
  for (size_t i = 0; i < b->buckets; i++) {
    mem_entry *e = b->table[i];
    while (e) {
      mem_entry *n = e->hnext;
      e->hnext = t[e->hash % nb];
      t[e->hash % nb] = e;
      e = n;
    }
  }
  free(b->table);
  b->table = t;
  b->buckets = nb;
}

static void evict(mem_backend *b, const mem_entry *keep) {
  while (b->size > b->max_size) {
    mem_entry *victim = b->lru.prev;
    if (victim == &b->lru)
      break;
    if (victim == keep) {
      if (victim->prev == &b->lru)
        break;
      victim = victim->prev;
    }
    unlink_entry(b, victim);
  }
}

/* ---- Entry handles ------------------------------------------------------- */

static const cache_backend_entry_vtable mem_entry_vt;

static mem_handle *handle_new(mem_backend *b, mem_entry *e, bool writer) {
  mem_handle *h = calloc(1, sizeof *h);
  if (!h)
    return NULL;
  h->base.vt = &mem_entry_vt;
  h->be = b;
  h->e = e;
  h->writer = writer;
  e->refs++;
  return h;
}

static const uint8_t *me_meta(cache_backend_entry *be, size_t *len) {
  mem_handle *h = (mem_handle *)be;
  *len = h->e->meta_len;
  return h->e->meta;
}

static int64_t me_body_size(cache_backend_entry *be) {
  return (int64_t)((mem_handle *)be)->e->body_len;
}

static int me_read_body(cache_backend_entry *be, uint64_t offset, uint8_t *buf, size_t len,
                        cache_io_cb cb, void *ud) {
  mem_entry *e = ((mem_handle *)be)->e;
  if (offset >= e->body_len)
    return 0;
  size_t n = e->body_len - (size_t)offset;
  if (n > len)
    n = len;
  if (n > INT32_MAX)
    n = INT32_MAX;
  memcpy(buf, e->body + offset, n); /* the one copy: entry -> caller */
  return (int)n;
}

static int me_set_meta(cache_backend_entry *be, const uint8_t *data, size_t len, cache_io_cb cb,
                       void *ud) {
  mem_handle *h = (mem_handle *)be;
  mem_entry *e = h->e;
  uint8_t *m = malloc(len ? len : 1);
  if (!m)
    return CRONC_ERR_CACHE_WRITE_FAILURE;
  memcpy(m, data, len);
  if (e->linked)
    h->be->size += (int64_t)len - (int64_t)e->meta_len;
  free(e->meta);
  e->meta = m;
  e->meta_len = len;
  return CRONC_OK;
}

static int me_append_body(cache_backend_entry *be, const uint8_t *data, size_t len, cache_io_cb cb,
                          void *ud) {
  mem_handle *h = (mem_handle *)be;
  mem_entry *e = h->e;
  if (!h->writer || h->committed || len > INT32_MAX)
    return CRONC_ERR_CACHE_WRITE_FAILURE;
  if ((int64_t)(e->body_len + len) > h->be->max_size / 8)
    return CRONC_ERR_CACHE_WRITE_FAILURE;
  if (e->body_len + len > e->body_cap) {
    size_t cap = e->body_cap ? e->body_cap : 4096;
    while (cap < e->body_len + len)
      cap *= 2;
    uint8_t *nb = realloc(e->body, cap);
    if (!nb)
      return CRONC_ERR_CACHE_WRITE_FAILURE;
    e->body = nb;
    e->body_cap = cap;
  }
  if (len)
    memcpy(e->body + e->body_len, data, len);
  e->body_len += len;
  return (int)len;
}

static int me_commit(cache_backend_entry *be, cache_io_cb cb, void *ud) {
  mem_handle *h = (mem_handle *)be;
  mem_backend *b = h->be;
  mem_entry *e = h->e;
  if (!h->writer || h->committed || !e->meta || entry_bytes(e) > b->max_size / 8)
    return CRONC_ERR_CACHE_WRITE_FAILURE;
  if (e->body_cap > e->body_len) { /* give back the slack of the growth */
    uint8_t *nb = realloc(e->body, e->body_len ? e->body_len : 1);
    if (nb) {
      e->body = nb;
      e->body_cap = e->body_len;
    }
  }
  mem_entry **slot = find_slot(b, e->key, e->hash);
  if (*slot)
    unlink_entry(b, *slot);
  slot = find_slot(b, e->key, e->hash);
  e->hnext = NULL;
  *slot = e;
  lru_push_front(b, e);
  e->linked = true;
  e->refs++; /* the table's reference */
  b->size += entry_bytes(e);
  b->count++;
  h->committed = true;
  if ((size_t)b->count > b->buckets)
    grow(b);
  evict(b, e);
  return CRONC_OK;
}

static void me_close(cache_backend_entry *be) {
  mem_handle *h = (mem_handle *)be;
  if (!h)
    return;
  entry_unref(h->e);
  free(h);
}

static const cache_backend_entry_vtable mem_entry_vt = {
    me_meta, me_body_size, me_read_body, me_set_meta, me_append_body, me_commit, me_close,
};

/* ---- Backend ------------------------------------------------------------- */

static int mb_open(cache_backend *bb, const char *key, cache_backend_entry **out, cache_io_cb cb,
                   void *ud) {
  mem_backend *b = (mem_backend *)bb;
  mem_entry *e = *find_slot(b, key, hash_key(key));
  if (!e)
    return CRONC_ERR_CACHE_MISS;
  mem_handle *h = handle_new(b, e, false);
  if (!h)
    return CRONC_ERR_OUT_OF_MEMORY;
  lru_remove(e);
  lru_push_front(b, e);
  h->committed = true;
  *out = &h->base;
  return CRONC_OK;
}

static int mb_create(cache_backend *bb, const char *key, cache_backend_entry **out, cache_io_cb cb,
                     void *ud) {
  mem_backend *b = (mem_backend *)bb;
  mem_entry *e = calloc(1, sizeof *e);
  if (!e || !(e->key = strdup(key))) {
    free(e);
    return CRONC_ERR_OUT_OF_MEMORY;
  }
  e->hash = hash_key(key);
  mem_handle *h = handle_new(b, e, true);
  if (!h) {
    free(e->key);
    free(e);
    return CRONC_ERR_OUT_OF_MEMORY;
  }
  e->refs = 1; /* the handle's */
  *out = &h->base;
  return CRONC_OK;
}

static int mb_doom(cache_backend *bb, const char *key, cache_io_cb cb, void *ud) {
  mem_backend *b = (mem_backend *)bb;
  mem_entry *e = *find_slot(b, key, hash_key(key));
  if (e)
    unlink_entry(b, e);
  return CRONC_OK;
}

static int64_t mb_size(cache_backend *bb) { return ((mem_backend *)bb)->size; }
static int64_t mb_count(cache_backend *bb) { return ((mem_backend *)bb)->count; }

static void mb_free(cache_backend *bb) {
  mem_backend *b = (mem_backend *)bb;
  if (!b)
    return;
  while (b->lru.next != &b->lru)
    unlink_entry(b, b->lru.next);
  free(b->table);
  free(b);
}

static const cache_backend_vtable mem_vt = {mb_open, mb_create, mb_doom,
                                            mb_size, mb_count,  mb_free};

cache_backend *cache_mem_backend_new(int64_t max_size) {
  mem_backend *b = calloc(1, sizeof *b);
  if (!b)
    return NULL;
  b->buckets = 64;
  b->table = calloc(b->buckets, sizeof *b->table);
  if (!b->table) {
    free(b);
    return NULL;
  }
  b->base.vt = &mem_vt;
  b->max_size = max_size > 0 ? max_size : MEM_DEFAULT_MAX;
  b->lru.next = b->lru.prev = &b->lru;
  return &b->base;
}
