#include "cache/http_cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "cache/cache_entry.h"
#include "cache/cache_policy.h"
#include "cronc/cronc.h"

/* Chromium's HttpCache::Transaction states (the ones that apply). */
#define HC_STATES(X)                                                                               \
  X(GET_BACKEND)                                                                                   \
  X(INIT_ENTRY)                                                                                    \
  X(DOOM_ENTRY)                                                                                    \
  X(DOOM_ENTRY_COMPLETE)                                                                           \
  X(ADD_TO_ENTRY)                                                                                  \
  X(ADD_TO_ENTRY_COMPLETE)                                                                         \
  X(OPEN_OR_CREATE_ENTRY)                                                                          \
  X(OPEN_OR_CREATE_ENTRY_COMPLETE)                                                                 \
  X(CACHE_READ_RESPONSE)                                                                           \
  X(CACHE_DISPATCH_VALIDATION)                                                                     \
  X(SEND_REQUEST)                                                                                  \
  X(SEND_REQUEST_COMPLETE)                                                                         \
  X(SUCCESSFUL_SEND_REQUEST)                                                                       \
  X(UPDATE_CACHED_RESPONSE)                                                                        \
  X(CACHE_WRITE_UPDATED_RESPONSE)                                                                  \
  X(CACHE_WRITE_UPDATED_RESPONSE_COMPLETE)                                                         \
  X(DRAIN_NOT_MODIFIED)                                                                            \
  X(DRAIN_NOT_MODIFIED_COMPLETE)                                                                   \
  X(CREATE_ENTRY)                                                                                  \
  X(CREATE_ENTRY_COMPLETE)                                                                         \
  X(CACHE_WRITE_RESPONSE)                                                                          \
  X(FINISH_HEADERS)                                                                                \
  X(NETWORK_READ)                                                                                  \
  X(NETWORK_READ_COMPLETE)                                                                         \
  X(CACHE_WRITE_DATA)                                                                              \
  X(CACHE_WRITE_DATA_COMPLETE)                                                                     \
  X(FINISH_WRITE)                                                                                  \
  X(FINISH_WRITE_COMPLETE)                                                                         \
  X(CACHE_READ_DATA)                                                                               \
  X(CACHE_READ_DATA_COMPLETE)                                                                      \
  X(NONE)

typedef enum hc_state {
#define X(name) STATE_##name,
  HC_STATES(X)
#undef X
} hc_state;

/* Chromium's Transaction::Mode. */
enum { MODE_NONE = 0, MODE_READ = 1, MODE_WRITE = 2, MODE_READ_WRITE = 3 };

typedef struct hc_tx hc_tx;

/* The cache lock of one key (Chromium's ActiveEntry, reduced to its queue). */
typedef struct hc_lock {
  char *key;
  hc_tx *owner;
  hc_tx *waiters; /* FIFO */
  struct hc_lock *next;
} hc_lock;

/* A posted wake-up; outlives the cache if the task is still queued. */
typedef struct hc_waker {
  http_cache *cache; /* NULL once the cache is gone */
} hc_waker;

struct http_cache {
  http_transaction_factory base;
  http_transaction_factory *network;
  cache_backend *backend;
  const base_clock *clock;
  netlog *nl;
  base_runner *runner;
  hc_lock *locks;
  hc_tx *ready; /* lock owners to resume, FIFO */
  hc_waker *waker;
};

struct hc_tx {
  http_transaction base;
  http_cache *cache;
  netlog *nl;
  const http_request_info *req;
  http_request_info net_req;
  h1_headers cond_headers; /* the request with If-None-Match / If-Modified-Since */
  char *key;
  int mode;
  int flags; /* effective load flags */
  bool is_head;
  bool doom_after_success; /* PUT, DELETE, PATCH */
  hc_state next_state;
  hc_state after_doom;

  /* The lock. */
  hc_lock *lock;
  hc_tx *lock_next;  /* in lock->waiters */
  hc_tx *ready_next; /* in cache->ready */
  bool owns_lock, waiting, in_ready;

  http_transaction *network;
  cache_backend_entry *entry;  /* the stored entry (reader) */
  cache_backend_entry *writer; /* the new entry being written */
  cache_entry_meta meta;       /* decoded stored entry, then the new one */
  h1_headers merged;           /* the head after a 304 */
  strbuf scratch;
  const h1_headers *response;
  bool serve_from_cache, was_cached, validated, vary_mismatch, validating, body_done;
  uint64_t read_offset;
  int pending_bytes; /* network bytes being written to the cache */
  int64_t request_time;
  uint8_t drain[256];

  http_io_cb cb;
  void *cb_ud;
  uint8_t *read_buf;
  size_t read_len;
};

const char *http_cache_state_name(int state) {
  switch (state) {
#define X(name)                                                                                    \
  case STATE_##name:                                                                               \
    return #name;
    HC_STATES(X)
#undef X
  default:
    return "UNKNOWN";
  }
}

static int64_t now_wall(hc_tx *t) { return base_clock_now(t->cache->clock); }

static int do_loop(hc_tx *t, int rv);

static void do_callback(hc_tx *t, int rv) {
  http_io_cb cb = t->cb;
  void *ud = t->cb_ud;
  t->cb = NULL;
  t->cb_ud = NULL;
  if (cb)
    cb(ud, rv);
}

static void on_io_complete(void *ud, int rv) {
  hc_tx *t = ud;
  rv = do_loop(t, rv);
  if (rv != CRONC_ERR_IO_PENDING)
    do_callback(t, rv);
}

/* ---- The cache lock -------------------------------------------------------- */

static void wake_task(void *arg) {
  hc_waker *w = arg;
  http_cache *c = w->cache;
  free(w);
  if (!c)
    return;
  c->waker = NULL;
  /* One at a time: resuming a transaction may free others (they unlink
   * themselves from the list). */
  while (c->ready) {
    hc_tx *t = c->ready;
    c->ready = t->ready_next;
    t->ready_next = NULL;
    t->in_ready = false;
    on_io_complete(t, CRONC_OK);
  }
}

static void schedule_wake(http_cache *c, hc_tx *t) {
  t->in_ready = true;
  t->ready_next = NULL;
  hc_tx **p = &c->ready;
  while (*p)
    p = &(*p)->ready_next;
  *p = t;
  if (c->waker)
    return;
  hc_waker *w = malloc(sizeof *w);
  if (w) {
    w->cache = c;
    if (base_runner_post(c->runner, wake_task, w) == CRONC_OK) {
      c->waker = w;
      return;
    }
    free(w);
  }
  /* Cannot post (shutting down): the waiters stay queued until freed. */
}

/* Takes the lock of t->key or queues t behind its owner. */
static int acquire_lock(hc_tx *t) {
  http_cache *c = t->cache;
  hc_lock *l = c->locks;
  while (l && strcmp(l->key, t->key) != 0)
    l = l->next;
  if (!l) {
    l = calloc(1, sizeof *l);
    if (!l || !(l->key = strdup(t->key))) {
      free(l);
      return CRONC_ERR_OUT_OF_MEMORY;
    }
    l->next = c->locks;
    c->locks = l;
  }
  t->lock = l;
  if (!l->owner) {
    l->owner = t;
    t->owns_lock = true;
    return CRONC_OK;
  }
  hc_tx **p = &l->waiters;
  while (*p)
    p = &(*p)->lock_next;
  *p = t;
  t->lock_next = NULL;
  t->waiting = true;
  return CRONC_ERR_IO_PENDING;
}

static void release_lock(hc_tx *t) {
  hc_lock *l = t->lock;
  if (!l)
    return;
  http_cache *c = t->cache;
  if (t->waiting) {
    hc_tx **p = &l->waiters;
    while (*p && *p != t)
      p = &(*p)->lock_next;
    if (*p)
      *p = t->lock_next;
    t->waiting = false;
  }
  if (t->in_ready) {
    hc_tx **p = &c->ready;
    while (*p && *p != t)
      p = &(*p)->ready_next;
    if (*p)
      *p = t->ready_next;
    t->in_ready = false;
  }
  if (t->owns_lock) {
    t->owns_lock = false;
    l->owner = NULL;
    hc_tx *next = l->waiters;
    if (next) {
      /* FIFO hand-over: the next waiter owns the lock from now on. */
      l->waiters = next->lock_next;
      next->lock_next = NULL;
      next->waiting = false;
      next->owns_lock = true;
      l->owner = next;
      schedule_wake(c, next);
    }
  }
  t->lock = NULL;
  if (!l->owner && !l->waiters) {
    hc_lock **p = &c->locks;
    while (*p && *p != l)
      p = &(*p)->next;
    if (*p)
      *p = l->next;
    free(l->key);
    free(l);
  }
}

/* ---- Helpers ---------------------------------------------------------------- */

static void log_state(hc_tx *t, hc_state state, int rv) {
  if (!netlog_is_capturing(t->nl))
    return;
  char params[128];
  snprintf(params, sizeof params, "{\"layer\":\"cache\",\"state\":\"%s\",\"rv\":%d}",
           http_cache_state_name(state), rv);
  netlog_add_event(t->nl, t->req->source, NETLOG_TYPE_CRONC_HTTP_CACHE_STATE, params);
}

static void close_entry(hc_tx *t) {
  if (t->entry) {
    t->entry->vt->close(t->entry);
    t->entry = NULL;
  }
}

static void abandon_writer(hc_tx *t) {
  if (t->writer) {
    t->writer->vt->close(t->writer); /* uncommitted: nothing becomes visible */
    t->writer = NULL;
  }
}

static bool is_method(const char *m, const char *name) { return strcmp(m, name) == 0; }

/* Chromium's SetRequest + ShouldPassThrough. */
static void decide_mode(hc_tx *t) {
  const http_request_info *r = t->req;
  t->flags = r->load_flags | cache_load_flags_from_request(r->headers);
  t->is_head = is_method(r->method, "HEAD");
  bool get = is_method(r->method, "GET");
  if ((t->flags & HTTP_LOAD_DISABLE_CACHE) || (!get && !t->is_head) ||
      cache_request_is_conditional(r->headers) || r->body) {
    t->mode = MODE_NONE;
    return;
  }
  if (t->flags & HTTP_LOAD_ONLY_FROM_CACHE)
    t->mode = MODE_READ;
  else if (t->is_head)
    t->mode = (t->flags & HTTP_LOAD_BYPASS_CACHE) ? MODE_NONE : MODE_READ;
  else if (t->flags & HTTP_LOAD_BYPASS_CACHE)
    t->mode = MODE_WRITE;
  else
    t->mode = MODE_READ_WRITE;
}

/* HEAD with nothing usable stored goes to the network untouched. */
static int pass_through(hc_tx *t) {
  close_entry(t);
  release_lock(t);
  t->mode = MODE_NONE;
  t->next_state = STATE_SEND_REQUEST;
  return CRONC_OK;
}

/* ---- States ------------------------------------------------------------------ */

static int do_get_backend(hc_tx *t) {
  t->next_state = STATE_INIT_ENTRY;
  return CRONC_OK;
}

static int do_init_entry(hc_tx *t) {
  decide_mode(t);
  const char *m = t->req->method;
  if (t->mode == MODE_NONE) {
    if (is_method(m, "POST")) {
      /* Chromium dooms before sending: the POST may change the resource. */
      t->next_state = STATE_DOOM_ENTRY;
      t->after_doom = STATE_SEND_REQUEST;
      return CRONC_OK;
    }
    t->doom_after_success = is_method(m, "PUT") || is_method(m, "DELETE") || is_method(m, "PATCH");
    t->next_state = STATE_SEND_REQUEST;
    return CRONC_OK;
  }
  t->next_state = STATE_ADD_TO_ENTRY;
  return CRONC_OK;
}

static int do_doom_entry(hc_tx *t) {
  t->next_state = STATE_DOOM_ENTRY_COMPLETE;
  cache_backend *b = t->cache->backend;
  return b->vt->doom_entry(b, t->key, on_io_complete, t);
}

static int do_doom_entry_complete(hc_tx *t, int rv) {
  /* A failed doom is logged and ignored: the next request validates. */
  if (rv < 0)
    netlog_add_net_error(t->nl, t->req->source, NETLOG_TYPE_FAILED, rv);
  t->next_state = t->after_doom;
  return CRONC_OK;
}

static int do_add_to_entry(hc_tx *t) {
  t->next_state = STATE_ADD_TO_ENTRY_COMPLETE;
  return acquire_lock(t);
}

static int do_add_to_entry_complete(hc_tx *t, int rv) {
  if (rv < 0)
    return rv;
  /* BYPASS: no need to read what will be replaced. */
  t->next_state = t->mode == MODE_WRITE ? STATE_SEND_REQUEST : STATE_OPEN_OR_CREATE_ENTRY;
  return CRONC_OK;
}

static int do_open_or_create_entry(hc_tx *t) {
  t->next_state = STATE_OPEN_OR_CREATE_ENTRY_COMPLETE;
  cache_backend *b = t->cache->backend;
  return b->vt->open_entry(b, t->key, &t->entry, on_io_complete, t);
}

static int miss(hc_tx *t) {
  close_entry(t);
  if (t->flags & HTTP_LOAD_ONLY_FROM_CACHE) {
    release_lock(t);
    return CRONC_ERR_CACHE_MISS;
  }
  if (t->is_head)
    return pass_through(t);
  t->mode = MODE_WRITE;
  t->next_state = STATE_SEND_REQUEST;
  return CRONC_OK;
}

static int do_open_or_create_entry_complete(hc_tx *t, int rv) {
  if (rv == CRONC_ERR_OUT_OF_MEMORY) {
    release_lock(t);
    return rv;
  }
  if (rv < 0) {
    t->entry = NULL;
    return miss(t);
  }
  t->next_state = STATE_CACHE_READ_RESPONSE;
  return CRONC_OK;
}

static int do_cache_read_response(hc_tx *t) {
  size_t len;
  const uint8_t *m = t->entry->vt->meta(t->entry, &len);
  int rv = cache_entry_decode(m, len, &t->meta);
  if (rv == CRONC_OK && (int64_t)t->meta.body_size != t->entry->vt->body_size(t->entry))
    rv = CRONC_ERR_CACHE_READ_FAILURE;
  if (rv != CRONC_OK) {
    netlog_add_net_error(t->nl, t->req->source, NETLOG_TYPE_FAILED, rv);
    close_entry(t);
    cache_backend *b = t->cache->backend;
    b->vt->doom_entry(b, t->key, NULL, NULL); /* damaged: never again */
    if (rv == CRONC_ERR_OUT_OF_MEMORY) {
      release_lock(t);
      return rv;
    }
    return miss(t);
  }
  t->next_state = STATE_CACHE_DISPATCH_VALIDATION;
  return CRONC_OK;
}

static int serve_from_cache(hc_tx *t, const h1_headers *head) {
  t->response = head;
  t->serve_from_cache = true;
  t->was_cached = true;
  /* Readers do not need the lock once they hold the entry. */
  release_lock(t);
  t->next_state = STATE_FINISH_HEADERS;
  return CRONC_OK;
}

/* Chromium's BeginCacheValidation + RequiresValidation + ConditionalizeRequest. */
static int do_cache_dispatch_validation(hc_tx *t) {
  const http_request_info *r = t->req;
  bool validate;
  t->vary_mismatch = !cache_vary_matches(&t->meta.vary, r->headers);
  if (t->vary_mismatch)
    validate = true;
  else if (t->flags & HTTP_LOAD_SKIP_CACHE_VALIDATION)
    validate = false;
  else if (t->flags & HTTP_LOAD_VALIDATE_CACHE)
    validate = true;
  else
    validate = cache_requires_validation(&t->meta.head, t->meta.request_time_us,
                                         t->meta.response_time_us, now_wall(t));
  if (!validate)
    return serve_from_cache(t, &t->meta.head);
  if (t->mode == MODE_READ) {
    if (t->flags & HTTP_LOAD_ONLY_FROM_CACHE) {
      close_entry(t);
      release_lock(t);
      return CRONC_ERR_CACHE_MISS;
    }
    return pass_through(t); /* HEAD */
  }
  cache_validators v;
  if (!cache_get_validators(&t->meta.head, t->vary_mismatch, &v)) {
    /* Nothing to validate with: fetch anew (the entry is replaced). */
    close_entry(t);
    t->mode = MODE_WRITE;
    t->next_state = STATE_SEND_REQUEST;
    return CRONC_OK;
  }
  h1_headers_clear(&t->cond_headers);
  int rv = CRONC_OK;
  size_t it = 0;
  const char *n, *val;
  size_t nl, vl;
  while (r->headers && rv == CRONC_OK && h1_headers_next(r->headers, &it, &n, &nl, &val, &vl))
    rv = h1_headers_add(&t->cond_headers, n, nl, val, vl);
  if (rv == CRONC_OK && v.etag)
    rv = h1_headers_add(&t->cond_headers, "If-None-Match", 13, v.etag, v.etag_len);
  if (rv == CRONC_OK && v.last_modified)
    rv = h1_headers_add(&t->cond_headers, "If-Modified-Since", 17, v.last_modified,
                        v.last_modified_len);
  if (rv != CRONC_OK) {
    close_entry(t);
    release_lock(t);
    return rv;
  }
  t->net_req.headers = &t->cond_headers;
  t->validating = true;
  t->next_state = STATE_SEND_REQUEST;
  return CRONC_OK;
}

static int do_send_request(hc_tx *t) {
  t->next_state = STATE_SEND_REQUEST_COMPLETE;
  http_transaction_factory *f = t->cache->network;
  int rv = f->vt->create_transaction(f, t->nl, &t->network);
  if (rv != CRONC_OK) {
    t->network = NULL;
    return rv;
  }
  t->request_time = now_wall(t);
  return t->network->vt->start(t->network, &t->net_req, on_io_complete, t);
}

static int do_send_request_complete(hc_tx *t, int rv) {
  if (rv != CRONC_OK) {
    close_entry(t);
    release_lock(t);
    return rv;
  }
  t->next_state = STATE_SUCCESSFUL_SEND_REQUEST;
  return CRONC_OK;
}

static int do_successful_send_request(hc_tx *t) {
  const h1_headers *h = t->network->vt->response_headers(t->network);
  if (!h) {
    close_entry(t);
    release_lock(t);
    return CRONC_ERR_UNEXPECTED;
  }
  t->response = h;
  if (t->mode == MODE_NONE) {
    if (t->doom_after_success && h->status >= 200 && h->status < 400) {
      t->next_state = STATE_DOOM_ENTRY;
      t->after_doom = STATE_FINISH_HEADERS;
      return CRONC_OK;
    }
    t->next_state = STATE_FINISH_HEADERS;
    return CRONC_OK;
  }
  if (t->validating && h->status == 304) {
    t->next_state = STATE_UPDATE_CACHED_RESPONSE;
    return CRONC_OK;
  }
  /* A new response: whatever was stored is replaced or doomed. */
  close_entry(t);
  if (cache_response_is_storable(h)) {
    t->next_state = STATE_CREATE_ENTRY;
    return CRONC_OK;
  }
  release_lock(t); /* before the doom: the lock is not needed for it */
  t->next_state = STATE_DOOM_ENTRY;
  t->after_doom = STATE_FINISH_HEADERS;
  return CRONC_OK;
}

/* Builds the new stored metadata around head (times, vary); the protocol
 * and body size are filled by the caller. */
static int fill_meta(hc_tx *t, const h1_headers *head) {
  cache_entry_meta *m = &t->meta;
  h1_headers tmp;
  h1_headers_init(&tmp);
  cache_vary vary;
  cache_vary_init(&vary);
  int rv = cache_copy_persisted_headers(head, &tmp);
  if (rv == CRONC_OK)
    rv = cache_vary_from_request(&tmp, t->req->headers, &vary);
  if (rv != CRONC_OK) {
    h1_headers_free(&tmp);
    cache_vary_free(&vary);
    return rv;
  }
  h1_headers_free(&m->head);
  m->head = tmp;
  cache_vary_free(&m->vary);
  m->vary = vary;
  m->request_time_us = t->request_time;
  m->response_time_us = now_wall(t);
  return CRONC_OK;
}

static int do_update_cached_response(hc_tx *t) {
  const h1_headers *nm = t->network->vt->response_headers(t->network);
  h1_headers_free(&t->merged);
  int rv = cache_merge_304(&t->meta.head, nm, &t->merged);
  /* The merged head becomes the stored head (vary from this request). */
  if (rv == CRONC_OK)
    rv = fill_meta(t, &t->merged);
  strbuf_reset(&t->scratch);
  if (rv == CRONC_OK)
    rv = cache_entry_encode(&t->meta, &t->scratch);
  if (rv != CRONC_OK) {
    /* The stored body is still right: serve it, skip the rewrite. */
    t->next_state = STATE_DRAIN_NOT_MODIFIED;
    return CRONC_OK;
  }
  t->next_state = STATE_CACHE_WRITE_UPDATED_RESPONSE;
  return CRONC_OK;
}

static int do_cache_write_updated_response(hc_tx *t) {
  t->next_state = STATE_CACHE_WRITE_UPDATED_RESPONSE_COMPLETE;
  return t->entry->vt->set_meta(t->entry, (const uint8_t *)t->scratch.data, t->scratch.len,
                                on_io_complete, t);
}

static int do_cache_write_updated_response_complete(hc_tx *t, int rv) {
  if (rv < 0)
    netlog_add_net_error(t->nl, t->req->source, NETLOG_TYPE_FAILED, rv);
  t->next_state = STATE_DRAIN_NOT_MODIFIED;
  return CRONC_OK;
}

/* Reads the 304's (empty) body to its end so its connection is reused. */
static int do_drain_not_modified(hc_tx *t) {
  t->next_state = STATE_DRAIN_NOT_MODIFIED_COMPLETE;
  return t->network->vt->read(t->network, t->drain, sizeof t->drain, on_io_complete, t);
}

static int do_drain_not_modified_complete(hc_tx *t, int rv) {
  if (rv > 0) {
    t->next_state = STATE_DRAIN_NOT_MODIFIED;
    return CRONC_OK;
  }
  t->network->vt->free(t->network);
  t->network = NULL;
  t->validated = true;
  return serve_from_cache(t, &t->meta.head);
}

static int do_create_entry(hc_tx *t) {
  t->next_state = STATE_CREATE_ENTRY_COMPLETE;
  cache_backend *b = t->cache->backend;
  return b->vt->create_entry(b, t->key, &t->writer, on_io_complete, t);
}

static int do_create_entry_complete(hc_tx *t, int rv) {
  if (rv < 0) {
    /* Cannot store: serve from the network alone. */
    t->writer = NULL;
    netlog_add_net_error(t->nl, t->req->source, NETLOG_TYPE_FAILED, rv);
    release_lock(t);
    t->next_state = STATE_FINISH_HEADERS;
    return CRONC_OK;
  }
  t->next_state = STATE_CACHE_WRITE_RESPONSE;
  return CRONC_OK;
}

static int do_cache_write_response(hc_tx *t) {
  /* The metadata is written at FINISH_WRITE, when the body size is known;
   * here the head to store is prepared. */
  int rv = fill_meta(t, t->response);
  if (rv != CRONC_OK) {
    abandon_writer(t);
    release_lock(t);
  } else {
    const char *p = t->network->vt->protocol(t->network);
    snprintf(t->meta.protocol, sizeof t->meta.protocol, "%s", p ? p : "");
  }
  t->next_state = STATE_FINISH_HEADERS;
  return CRONC_OK;
}

static int do_finish_headers(hc_tx *t) {
  t->next_state = STATE_NONE;
  if (netlog_is_capturing(t->nl)) {
    char p[128];
    snprintf(p, sizeof p, "{\"layer\":\"cache\",\"was_cached\":%s,\"validated\":%s,\"mode\":%d}",
             t->was_cached ? "true" : "false", t->validated ? "true" : "false", t->mode);
    netlog_add_event(t->nl, t->req->source, NETLOG_TYPE_CRONC_HTTP_CACHE_STATE, p);
  }
  return CRONC_OK;
}

static int do_network_read(hc_tx *t) {
  t->next_state = STATE_NETWORK_READ_COMPLETE;
  return t->network->vt->read(t->network, t->read_buf, t->read_len, on_io_complete, t);
}

static int do_network_read_complete(hc_tx *t, int rv) {
  if (rv < 0) {
    /* A body cut short is never stored. */
    abandon_writer(t);
    release_lock(t);
    return rv;
  }
  if (!t->writer) {
    if (rv == 0)
      t->body_done = true;
    return rv;
  }
  if (rv == 0) {
    t->next_state = STATE_FINISH_WRITE;
    return CRONC_OK;
  }
  t->next_state = STATE_CACHE_WRITE_DATA;
  return rv;
}

static int do_cache_write_data(hc_tx *t, int bytes) {
  t->next_state = STATE_CACHE_WRITE_DATA_COMPLETE;
  t->pending_bytes = bytes;
  return t->writer->vt->append_body(t->writer, t->read_buf, (size_t)bytes, on_io_complete, t);
}

static int do_cache_write_data_complete(hc_tx *t, int rv) {
  if (rv < 0) {
    /* The caller still gets its bytes; only the store is given up. */
    netlog_add_net_error(t->nl, t->req->source, NETLOG_TYPE_FAILED, rv);
    abandon_writer(t);
    release_lock(t);
  }
  return t->pending_bytes;
}

static int do_finish_write(hc_tx *t) {
  t->next_state = STATE_FINISH_WRITE_COMPLETE;
  t->meta.body_size = (uint64_t)t->writer->vt->body_size(t->writer);
  strbuf_reset(&t->scratch);
  int rv = cache_entry_encode(&t->meta, &t->scratch);
  if (rv == CRONC_OK)
    rv = t->writer->vt->set_meta(t->writer, (const uint8_t *)t->scratch.data, t->scratch.len, NULL,
                                 NULL);
  if (rv != CRONC_OK)
    return rv;
  return t->writer->vt->commit(t->writer, on_io_complete, t);
}

static int do_finish_write_complete(hc_tx *t, int rv) {
  if (rv < 0)
    netlog_add_net_error(t->nl, t->req->source, NETLOG_TYPE_FAILED, rv);
  abandon_writer(t); /* committed: closing keeps it */
  release_lock(t);
  t->body_done = true;
  return 0; /* the body ended, whether or not it could be stored */
}

static int do_cache_read_data(hc_tx *t) {
  t->next_state = STATE_CACHE_READ_DATA_COMPLETE;
  if (t->is_head)
    return 0;
  return t->entry->vt->read_body(t->entry, t->read_offset, t->read_buf, t->read_len, on_io_complete,
                                 t);
}

static int do_cache_read_data_complete(hc_tx *t, int rv) {
  if (rv > 0)
    t->read_offset += (uint64_t)rv;
  else if (rv == 0)
    t->body_done = true;
  return rv;
}

static int do_loop(hc_tx *t, int rv) {
  do {
    hc_state state = t->next_state;
    t->next_state = STATE_NONE;
    log_state(t, state, rv);
    switch (state) {
    case STATE_GET_BACKEND:
      rv = do_get_backend(t);
      break;
    case STATE_INIT_ENTRY:
      rv = do_init_entry(t);
      break;
    case STATE_DOOM_ENTRY:
      rv = do_doom_entry(t);
      break;
    case STATE_DOOM_ENTRY_COMPLETE:
      rv = do_doom_entry_complete(t, rv);
      break;
    case STATE_ADD_TO_ENTRY:
      rv = do_add_to_entry(t);
      break;
    case STATE_ADD_TO_ENTRY_COMPLETE:
      rv = do_add_to_entry_complete(t, rv);
      break;
    case STATE_OPEN_OR_CREATE_ENTRY:
      rv = do_open_or_create_entry(t);
      break;
    case STATE_OPEN_OR_CREATE_ENTRY_COMPLETE:
      rv = do_open_or_create_entry_complete(t, rv);
      break;
    case STATE_CACHE_READ_RESPONSE:
      rv = do_cache_read_response(t);
      break;
    case STATE_CACHE_DISPATCH_VALIDATION:
      rv = do_cache_dispatch_validation(t);
      break;
    case STATE_SEND_REQUEST:
      rv = do_send_request(t);
      break;
    case STATE_SEND_REQUEST_COMPLETE:
      rv = do_send_request_complete(t, rv);
      break;
    case STATE_SUCCESSFUL_SEND_REQUEST:
      rv = do_successful_send_request(t);
      break;
    case STATE_UPDATE_CACHED_RESPONSE:
      rv = do_update_cached_response(t);
      break;
    case STATE_CACHE_WRITE_UPDATED_RESPONSE:
      rv = do_cache_write_updated_response(t);
      break;
    case STATE_CACHE_WRITE_UPDATED_RESPONSE_COMPLETE:
      rv = do_cache_write_updated_response_complete(t, rv);
      break;
    case STATE_DRAIN_NOT_MODIFIED:
      rv = do_drain_not_modified(t);
      break;
    case STATE_DRAIN_NOT_MODIFIED_COMPLETE:
      rv = do_drain_not_modified_complete(t, rv);
      break;
    case STATE_CREATE_ENTRY:
      rv = do_create_entry(t);
      break;
    case STATE_CREATE_ENTRY_COMPLETE:
      rv = do_create_entry_complete(t, rv);
      break;
    case STATE_CACHE_WRITE_RESPONSE:
      rv = do_cache_write_response(t);
      break;
    case STATE_FINISH_HEADERS:
      rv = do_finish_headers(t);
      break;
    case STATE_NETWORK_READ:
      rv = do_network_read(t);
      break;
    case STATE_NETWORK_READ_COMPLETE:
      rv = do_network_read_complete(t, rv);
      break;
    case STATE_CACHE_WRITE_DATA:
      rv = do_cache_write_data(t, rv);
      break;
    case STATE_CACHE_WRITE_DATA_COMPLETE:
      rv = do_cache_write_data_complete(t, rv);
      break;
    case STATE_FINISH_WRITE:
      rv = do_finish_write(t);
      break;
    case STATE_FINISH_WRITE_COMPLETE:
      rv = do_finish_write_complete(t, rv);
      break;
    case STATE_CACHE_READ_DATA:
      rv = do_cache_read_data(t);
      break;
    case STATE_CACHE_READ_DATA_COMPLETE:
      rv = do_cache_read_data_complete(t, rv);
      break;
    case STATE_NONE:
    default:
      rv = CRONC_ERR_UNEXPECTED;
      break;
    }
  } while (rv != CRONC_ERR_IO_PENDING && t->next_state != STATE_NONE);
  return rv;
}

/* ---- The http_transaction interface ----------------------------------------- */

static hc_tx *from_base(http_transaction *b) { return (hc_tx *)b; }

static int tx_start(http_transaction *b, const http_request_info *req, http_io_cb cb, void *ud) {
  hc_tx *t = from_base(b);
  if (!req || !req->url || !req->method || t->req)
    return CRONC_ERR_INVALID_ARGUMENT;
  t->req = req;
  t->net_req = *req;
  t->key = strdup(req->url->spec ? req->url->spec : "");
  if (!t->key)
    return CRONC_ERR_OUT_OF_MEMORY;
  t->next_state = STATE_GET_BACKEND;
  int rv = do_loop(t, CRONC_OK);
  if (rv == CRONC_ERR_IO_PENDING) {
    t->cb = cb;
    t->cb_ud = ud;
  }
  return rv;
}

static const h1_headers *tx_headers(http_transaction *b) { return from_base(b)->response; }

static const char *tx_protocol(http_transaction *b) {
  hc_tx *t = from_base(b);
  if (t->serve_from_cache)
    return t->meta.protocol;
  return t->network ? t->network->vt->protocol(t->network) : "";
}

static bool tx_reused(http_transaction *b) {
  hc_tx *t = from_base(b);
  return !t->serve_from_cache && t->network && t->network->vt->connection_reused(t->network);
}

static int tx_read(http_transaction *b, uint8_t *buf, size_t len, http_io_cb cb, void *ud) {
  hc_tx *t = from_base(b);
  if (!buf || !len || !t->response || t->cb)
    return CRONC_ERR_INVALID_ARGUMENT;
  if (t->body_done)
    return 0;
  if (len > INT32_MAX)
    len = INT32_MAX;
  t->read_buf = buf;
  t->read_len = len;
  if (t->serve_from_cache)
    t->next_state = STATE_CACHE_READ_DATA;
  else if (t->network)
    t->next_state = STATE_NETWORK_READ;
  else
    return CRONC_ERR_UNEXPECTED;
  int rv = do_loop(t, CRONC_OK);
  if (rv == CRONC_ERR_IO_PENDING) {
    t->cb = cb;
    t->cb_ud = ud;
  }
  return rv;
}

static void tx_timing(http_transaction *b, http_transaction_timing *out) {
  hc_tx *t = from_base(b);
  if (!t->serve_from_cache && t->network)
    t->network->vt->get_timing(t->network, out);
  else
    memset(out, 0, sizeof *out);
}

static void tx_info(http_transaction *b, http_transaction_info *out) {
  hc_tx *t = from_base(b);
  memset(out, 0, sizeof *out);
  if (!t->serve_from_cache && t->network)
    t->network->vt->get_info(t->network, out);
  out->was_cached = t->was_cached;
  out->cache_validated = t->validated;
}

static void tx_free(http_transaction *b) {
  hc_tx *t = from_base(b);
  if (!t)
    return;
  abandon_writer(t); /* unfinished: nothing stored */
  close_entry(t);
  release_lock(t);
  if (t->network)
    t->network->vt->free(t->network);
  cache_entry_meta_free(&t->meta);
  h1_headers_free(&t->merged);
  h1_headers_free(&t->cond_headers);
  strbuf_free(&t->scratch);
  free(t->key);
  free(t);
}

static const http_transaction_vtable hc_tx_vt = {
    tx_start, tx_headers, tx_protocol, tx_reused, tx_read, tx_timing, tx_info, tx_free,
};

/* ---- The factory --------------------------------------------------------------- */

static int cache_create(http_transaction_factory *f, netlog *nl, http_transaction **out) {
  http_cache *c = (http_cache *)f;
  hc_tx *t = calloc(1, sizeof *t);
  if (!t)
    return CRONC_ERR_OUT_OF_MEMORY;
  t->base.vt = &hc_tx_vt;
  t->cache = c;
  t->nl = nl;
  t->next_state = STATE_NONE;
  cache_entry_meta_init(&t->meta);
  h1_headers_init(&t->merged);
  h1_headers_init(&t->cond_headers);
  strbuf_init(&t->scratch);
  *out = &t->base;
  return CRONC_OK;
}

static const http_transaction_factory_vtable cache_vt = {cache_create};

void http_cache_params_init(http_cache_params *p) { memset(p, 0, sizeof *p); }

int http_cache_new(const http_cache_params *p, http_cache **out) {
  if (!p || !out || !p->network || !p->backend || !p->runner)
    return CRONC_ERR_INVALID_ARGUMENT;
  http_cache *c = calloc(1, sizeof *c);
  if (!c) {
    p->backend->vt->free(p->backend);
    return CRONC_ERR_OUT_OF_MEMORY;
  }
  c->base.vt = &cache_vt;
  c->network = p->network;
  c->backend = p->backend;
  c->clock = p->clock ? p->clock : base_clock_system();
  c->nl = p->nl;
  c->runner = p->runner;
  *out = c;
  return CRONC_OK;
}

void http_cache_free(http_cache *c) {
  if (!c)
    return;
  if (c->waker)
    c->waker->cache = NULL; /* the queued task frees it */
  while (c->locks) {
    hc_lock *l = c->locks;
    c->locks = l->next;
    free(l->key);
    free(l);
  }
  c->backend->vt->free(c->backend);
  free(c);
}

http_transaction_factory *http_cache_base(http_cache *c) { return &c->base; }

cache_backend *http_cache_backend(http_cache *c) { return c->backend; }
