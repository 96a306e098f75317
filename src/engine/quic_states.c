#include "engine/quic_states.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cronc/cronc.h"
#include "url/url.h"

typedef struct qs_entry {
  char *id;
  uint8_t *blob;
  size_t len;
  int64_t updated_us;
  bool dirty;
} qs_entry;

struct engine_quic_states {
  const base_clock *clock;
  void (*changed)(void *ud);
  void *ud;
  qs_entry entries[ENGINE_QUIC_STATES_MAX];
  size_t n;
  char *dropped[ENGINE_QUIC_STATES_MAX]; /* ids to delete at the next flush */
  size_t n_dropped;
  bool dirty;
};

engine_quic_states *engine_quic_states_new(const base_clock *clock, void (*changed)(void *ud),
                                           void *ud) {
  engine_quic_states *q = calloc(1, sizeof *q);
  if (!q)
    return NULL;
  q->clock = clock ? clock : base_clock_system();
  q->changed = changed;
  q->ud = ud;
  return q;
}

static void entry_free(qs_entry *e) {
  free(e->id);
  free(e->blob);
}

void engine_quic_states_free(engine_quic_states *q) {
  if (!q)
    return;
  for (size_t i = 0; i < q->n; i++)
    entry_free(&q->entries[i]);
  for (size_t i = 0; i < q->n_dropped; i++)
    free(q->dropped[i]);
  free(q);
}

bool engine_quic_server_id(const char *host, uint16_t port, bool privacy, char *out,
                           size_t out_size) {
  bool v6 = strchr(host, ':') && host[0] != '[';
  int n = snprintf(out, out_size, v6 ? "https://[%s]:%u%s" : "https://%s:%u%s", host,
                   (unsigned)port, privacy ? "/private" : "");
  return n > 0 && (size_t)n < out_size;
}

static qs_entry *find(engine_quic_states *q, const char *id) {
  for (size_t i = 0; i < q->n; i++)
    if (strcmp(q->entries[i].id, id) == 0)
      return &q->entries[i];
  return NULL;
}

/* Drops the least recently updated entry, remembering its id for the
 * store; the dropped list is bounded like the entries. */
static void evict_oldest(engine_quic_states *q) {
  size_t old = 0;
  for (size_t i = 1; i < q->n; i++)
    if (q->entries[i].updated_us < q->entries[old].updated_us)
      old = i;
  qs_entry *e = &q->entries[old];
  if (q->n_dropped < ENGINE_QUIC_STATES_MAX) {
    q->dropped[q->n_dropped++] = e->id;
    e->id = NULL;
  }
  entry_free(e);
  q->entries[old] = q->entries[--q->n];
}

/* Takes a copy of blob for id; false on allocation failure. */
static bool put(engine_quic_states *q, const char *id, const uint8_t *blob, size_t len,
                int64_t updated_us, bool dirty) {
  uint8_t *copy = malloc(len ? len : 1);
  if (!copy)
    return false;
  memcpy(copy, blob, len);
  qs_entry *e = find(q, id);
  if (!e) {
    if (q->n == ENGINE_QUIC_STATES_MAX)
      evict_oldest(q);
    char *idc = strdup(id);
    if (!idc) {
      free(copy);
      return false;
    }
    e = &q->entries[q->n++];
    *e = (qs_entry){.id = idc};
  }
  free(e->blob);
  e->blob = copy;
  e->len = len;
  e->updated_us = updated_us;
  e->dirty = dirty;
  /* A state saved again after its id was dropped must not be deleted. */
  for (size_t i = 0; i < q->n_dropped; i++)
    if (strcmp(q->dropped[i], id) == 0) {
      free(q->dropped[i]);
      q->dropped[i] = q->dropped[--q->n_dropped];
      break;
    }
  return true;
}

static void on_row(void *ud, const store_quic_state *st) {
  put(ud, st->server_id, st->state, st->len, st->updated_us, false);
}

int engine_quic_states_load(engine_quic_states *q, store *s) {
  return s ? store_load_quic_states(s, on_row, q) : CRONC_OK;
}

bool engine_quic_states_dirty(const engine_quic_states *q) { return q->dirty; }
size_t engine_quic_states_count(const engine_quic_states *q) { return q->n; }

int engine_quic_states_flush(engine_quic_states *q, store *s) {
  if (!q->dirty || !s)
    return CRONC_OK;
  store_quic_state put_rows[ENGINE_QUIC_STATES_MAX];
  size_t n = 0;
  for (size_t i = 0; i < q->n; i++)
    if (q->entries[i].dirty)
      put_rows[n++] = (store_quic_state){q->entries[i].id, q->entries[i].blob, q->entries[i].len,
                                         q->entries[i].updated_us};
  int rv = store_save_quic_states(s, put_rows, n, (const char *const *)q->dropped, q->n_dropped);
  if (rv != CRONC_OK)
    return rv;
  for (size_t i = 0; i < q->n; i++)
    q->entries[i].dirty = false;
  for (size_t i = 0; i < q->n_dropped; i++)
    free(q->dropped[i]);
  q->n_dropped = 0;
  q->dirty = false;
  return CRONC_OK;
}

static bool ts_load(void *ud, const char *host, uint16_t port, bool privacy, uint8_t **blob,
                    size_t *len) {
  engine_quic_states *q = ud;
  char id[URL_MAX_HOST + 32];
  if (!engine_quic_server_id(host, port, privacy, id, sizeof id))
    return false;
  qs_entry *e = find(q, id);
  if (!e)
    return false;
  uint8_t *copy = malloc(e->len ? e->len : 1);
  if (!copy)
    return false;
  memcpy(copy, e->blob, e->len);
  *blob = copy;
  *len = e->len;
  return true;
}

static void ts_save(void *ud, const char *host, uint16_t port, bool privacy, const uint8_t *blob,
                    size_t len) {
  engine_quic_states *q = ud;
  char id[URL_MAX_HOST + 32];
  if (!engine_quic_server_id(host, port, privacy, id, sizeof id) ||
      !put(q, id, blob, len, base_clock_now(q->clock), true))
    return;
  q->dirty = true;
  if (q->changed)
    q->changed(q->ud);
}

quic_ticket_store engine_quic_states_ticket_store(engine_quic_states *q) {
  return (quic_ticket_store){ts_load, ts_save, q};
}
