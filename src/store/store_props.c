/* store/store_props.c: reading, writing and dumping server properties.
 * Every row read from disk is validated: a bad row is skipped and logged,
 * never trusted (the file may have been edited, truncated or crafted). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cronc/cronc.h"
#include "store/store.h"
#include "store/store_internal.h"

/* Per-row events beyond this many in one load are only counted. */
#define STORE_MAX_ROW_EVENTS 64
/* Origin serialisation: scheme "://" host ":" port. */
#define STORE_ORIGIN_BUF (URL_MAX_HOST + 32)

/* ---------------------------------------------------------------------------
 * Column readers: the declared type is not enforced by SQLite, so each reader
 * checks the storage class and range.
 * ------------------------------------------------------------------------- */

static bool col_int(sqlite3_stmt *st, int i, int64_t lo, int64_t hi, int64_t *out) {
  if (sqlite3_column_type(st, i) != SQLITE_INTEGER)
    return false;
  int64_t v = sqlite3_column_int64(st, i);
  if (v < lo || v > hi)
    return false;
  *out = v;
  return true;
}

/* A TEXT value of at most `max` bytes with no NUL inside. */
static bool col_text(sqlite3_stmt *st, int i, size_t max, const char **p, size_t *len) {
  if (sqlite3_column_type(st, i) != SQLITE_TEXT)
    return false;
  const char *t = (const char *)sqlite3_column_text(st, i);
  int n = sqlite3_column_bytes(st, i);
  if (!t || n < 0 || (size_t)n > max || memchr(t, '\0', (size_t)n))
    return false;
  *p = t;
  *len = (size_t)n;
  return true;
}

static bool col_protocol(sqlite3_stmt *st, int i, altsvc_protocol *out) {
  const char *p;
  size_t n;
  if (!col_text(st, i, 8, &p, &n))
    return false;
  *out = altsvc_protocol_from_string(p);
  return *out != ALTSVC_PROTO_UNKNOWN;
}

/* A host: canonicalised on the way in, so the snapshot only holds hosts
 * url_canon_host() accepts. "" only where allow_empty. */
static bool col_host(sqlite3_stmt *st, int i, bool allow_empty, char out[URL_MAX_HOST + 1]) {
  const char *p;
  size_t n;
  if (!col_text(st, i, URL_MAX_HOST, &p, &n))
    return false;
  if (n == 0) {
    out[0] = '\0';
    return allow_empty;
  }
  url_host_kind kind;
  return url_canon_host(p, n, out, URL_MAX_HOST + 1, &kind) == CRONC_OK;
}

/* "h3,h3-29": at most ALTSVC_MAX_ALPNS tokens of 1..ALTSVC_MAX_ALPN_LEN
 * visible ASCII characters other than ','. NULL or "" = none. */
static bool col_alpns(sqlite3_stmt *st, int i, altsvc_info *info) {
  info->n_alpns = 0;
  if (sqlite3_column_type(st, i) == SQLITE_NULL)
    return true;
  const char *p;
  size_t n;
  if (!col_text(st, i, (size_t)ALTSVC_MAX_ALPNS * (ALTSVC_MAX_ALPN_LEN + 1), &p, &n))
    return false;
  size_t start = 0;
  while (start < n) {
    size_t end = start;
    while (end < n && p[end] != ',')
      end++;
    size_t len = end - start;
    if (len == 0 || len > ALTSVC_MAX_ALPN_LEN || info->n_alpns == ALTSVC_MAX_ALPNS)
      return false;
    for (size_t k = start; k < end; k++)
      if (p[k] < 0x21 || p[k] > 0x7e)
        return false;
    memcpy(info->alpns[info->n_alpns], p + start, len);
    info->alpns[info->n_alpns][len] = '\0';
    info->n_alpns++;
    if (end == n)
      break;
    start = end + 1;
    if (start == n) /* trailing ',' */
      return false;
  }
  return true;
}

/* ---------------------------------------------------------------------------
 * Load.
 * ------------------------------------------------------------------------- */

typedef struct load_server_aux {
  int64_t position;
  size_t alt_cap;
  bool rejected; /* a malformed alternative dropped this server's list */
} load_server_aux;

typedef struct load_ctx {
  store *s;
  props_snapshot *snap;
  load_server_aux *aux; /* parallel to snap->servers */
  size_t server_cap, broken_cap;
  size_t n_alts;
  size_t skipped;
  int last_sqlite_rc; /* the failing SQLite result, to spot corruption */
} load_ctx;

static void load_skip(load_ctx *c, const char *table, int64_t row, const char *reason) {
  if (c->skipped++ < STORE_MAX_ROW_EVENTS)
    store_log_row_skipped(c->s, table, row, reason);
}

/* Grows *arr (elements of `size`) to hold n + 1, starting at `first`
 * elements (small for per-server alternative lists: most servers have one or
 * two, and each altsvc_info is ~340 bytes); false on overflow/OOM. */
static bool grow(void **arr, size_t *cap, size_t n, size_t size, size_t first) {
  if (n < *cap)
    return true;
  size_t nc = *cap ? *cap * 2 : first;
  if (nc < *cap || nc > SIZE_MAX / size)
    return false;
  void *p = realloc(*arr, nc * size);
  if (!p)
    return false;
  *arr = p;
  *cap = nc;
  return true;
}

/* Steps a SELECT; returns SQLITE_ROW, SQLITE_DONE, or records the error. */
static int load_step(load_ctx *c, sqlite3_stmt *st) {
  int rc = sqlite3_step(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    c->last_sqlite_rc = rc;
  return rc;
}

static int load_servers(load_ctx *c) {
  sqlite3_stmt *st = c->s->stmt[STORE_STMT_SEL_SERVERS];
  props_snapshot *snap = c->snap;
  size_t aux_cap = 0;
  int rc;
  while ((rc = load_step(c, st)) == SQLITE_ROW) {
    int64_t pos = 0, spdy, srtt;
    const char *text;
    size_t len;
    url_origin origin;
    /* position is the rowid: always an integer, checked anyway. */
    if (!col_int(st, 0, INT64_MIN, INT64_MAX, &pos) ||
        (snap->n_servers > 0 && pos <= c->aux[snap->n_servers - 1].position)) {
      load_skip(c, "servers", pos, "bad position");
      continue;
    }
    if (!col_text(st, 1, STORE_ORIGIN_BUF, &text, &len) ||
        url_origin_from_string(text, len, &origin) != CRONC_OK) {
      load_skip(c, "servers", pos, "bad server origin");
      continue;
    }
    if (!col_int(st, 2, 0, 1, &spdy)) {
      load_skip(c, "servers", pos, "bad supports_spdy");
      continue;
    }
    if (!col_int(st, 3, 0, INT64_MAX, &srtt)) {
      load_skip(c, "servers", pos, "bad srtt_us");
      continue;
    }
    if (!grow((void **)&snap->servers, &c->server_cap, snap->n_servers, sizeof *snap->servers,
              64) ||
        !grow((void **)&c->aux, &aux_cap, snap->n_servers, sizeof *c->aux, 64)) {
      sqlite3_reset(st);
      return CRONC_ERR_OUT_OF_MEMORY;
    }
    snap->servers[snap->n_servers] =
        (props_snapshot_server){.origin = origin, .supports_spdy = spdy != 0, .srtt_us = srtt};
    c->aux[snap->n_servers] = (load_server_aux){.position = pos};
    snap->n_servers++;
  }
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? CRONC_OK : store_error_from_sqlite(c->s->db, rc);
}

/* The server at `pos` (positions are strictly increasing), or -1. */
static ptrdiff_t load_find_server(const load_ctx *c, int64_t pos, size_t hint) {
  size_t n = c->snap->n_servers;
  if (hint < n && c->aux[hint].position == pos)
    return (ptrdiff_t)hint;
  if (hint + 1 < n && c->aux[hint + 1].position == pos)
    return (ptrdiff_t)hint + 1;
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (c->aux[mid].position < pos)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < n && c->aux[lo].position == pos ? (ptrdiff_t)lo : -1;
}

static int load_alts(load_ctx *c) {
  sqlite3_stmt *st = c->s->stmt[STORE_STMT_SEL_ALTS];
  size_t hint = 0;
  int rc;
  while ((rc = load_step(c, st)) == SQLITE_ROW) {
    int64_t pos = 0, port, v;
    if (!col_int(st, 0, INT64_MIN, INT64_MAX, &pos)) {
      load_skip(c, "alternative_services", pos, "bad server_position");
      continue;
    }
    ptrdiff_t si = load_find_server(c, pos, hint);
    if (si < 0) {
      load_skip(c, "alternative_services", pos, "no such server");
      continue;
    }
    hint = (size_t)si;
    load_server_aux *aux = &c->aux[si];
    props_snapshot_server *srv = &c->snap->servers[si];
    if (!aux || aux->rejected) {
      c->skipped++;
      continue;
    }
    altsvc_info info = {0};
    const char *reason = NULL;
    if (!col_int(st, 1, INT64_MIN, INT64_MAX, &v))
      reason = "bad idx";
    else if (!col_protocol(st, 2, &info.service.protocol))
      reason = "bad protocol_str";
    else if (!col_host(st, 3, true, info.service.host))
      reason = "bad host";
    else if (!col_int(st, 4, 1, 65535, &port))
      reason = "bad port";
    else if (!col_int(st, 5, INT64_MIN, INT64_MAX, &info.expiration_us))
      reason = "bad expiration_us";
    else if (!col_alpns(st, 6, &info))
      reason = "bad advertised_alpns";
    if (reason) {
      /* Chromium: any malformed alternative rejects the server's list. */
      load_skip(c, "alternative_services", pos, reason);
      c->skipped += srv->n_alts;
      c->n_alts -= srv->n_alts;
      free(srv->alts);
      srv->alts = NULL;
      srv->n_alts = 0;
      aux->rejected = true;
      continue;
    }
    info.service.port = (uint16_t)port;
    if (!grow((void **)&srv->alts, &aux->alt_cap, srv->n_alts, sizeof *srv->alts, 2)) {
      sqlite3_reset(st);
      return CRONC_ERR_OUT_OF_MEMORY;
    }
    srv->alts[srv->n_alts++] = info;
    c->n_alts++;
  }
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? CRONC_OK : store_error_from_sqlite(c->s->db, rc);
}

static int load_broken(load_ctx *c) {
  sqlite3_stmt *st = c->s->stmt[STORE_STMT_SEL_BROKEN];
  props_snapshot *snap = c->snap;
  int rc;
  while ((rc = load_step(c, st)) == SQLITE_ROW) {
    int64_t pos = 0, port, count, is_broken, until;
    props_snapshot_broken b = {0};
    const char *reason = NULL;
    if (!col_int(st, 0, INT64_MIN, INT64_MAX, &pos))
      reason = "bad position";
    else if (!col_protocol(st, 1, &b.service.protocol))
      reason = "bad protocol_str";
    else if (!col_host(st, 2, false, b.service.host))
      reason = "bad host";
    else if (!col_int(st, 3, 1, 65535, &port))
      reason = "bad port";
    else if (!col_int(st, 4, 0, INT_MAX, &count))
      reason = "bad broken_count";
    else if (!col_int(st, 5, 0, 1, &is_broken))
      reason = "bad is_broken";
    else if (!col_int(st, 6, INT64_MIN, INT64_MAX, &until))
      reason = "bad broken_until_us";
    if (reason) {
      load_skip(c, "broken_alternative_services", pos, reason);
      continue;
    }
    b.service.port = (uint16_t)port;
    b.broken_count = (int)count;
    b.is_broken = is_broken != 0;
    b.broken_until_us = until;
    if (!grow((void **)&snap->broken, &c->broken_cap, snap->n_broken, sizeof *snap->broken, 16)) {
      sqlite3_reset(st);
      return CRONC_ERR_OUT_OF_MEMORY;
    }
    snap->broken[snap->n_broken++] = b;
  }
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? CRONC_OK : store_error_from_sqlite(c->s->db, rc);
}

static int load_supports_quic(load_ctx *c) {
  sqlite3_stmt *st = c->s->stmt[STORE_STMT_SEL_SUPPORTS_QUIC];
  int rc = load_step(c, st);
  if (rc == SQLITE_ROW) {
    int64_t used;
    const char *addr;
    size_t len;
    if (!col_int(st, 0, 0, 1, &used) ||
        !col_text(st, 1, sizeof c->snap->quic_worked_address - 1, &addr, &len)) {
      load_skip(c, "supports_quic", 1, "bad used_quic or address");
    } else {
      c->snap->quic_worked = used != 0;
      memcpy(c->snap->quic_worked_address, addr, len);
      c->snap->quic_worked_address[len] = '\0';
    }
    rc = SQLITE_DONE;
  }
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? CRONC_OK : store_error_from_sqlite(c->s->db, rc);
}

static void store_log_load(store *s, netlog_phase phase, const load_ctx *c, int error) {
  if (!netlog_is_capturing(s->nl))
    return;
  if (phase == NETLOG_PHASE_BEGIN) {
    netlog_add(s->nl, s->src, NETLOG_TYPE_HTTP_SERVER_PROPERTIES_INITIALIZATION, phase, NULL);
    return;
  }
  strbuf sb = STRBUF_INIT;
  strbuf_appendf(&sb,
                 "{\"servers\":%zu,\"alternative_services\":%zu,"
                 "\"broken_alternative_services\":%zu,\"skipped_rows\":%zu,\"net_error\":%d}",
                 c->snap->n_servers, c->n_alts, c->snap->n_broken, c->skipped, error);
  if (!strbuf_failed(&sb))
    netlog_add(s->nl, s->src, NETLOG_TYPE_HTTP_SERVER_PROPERTIES_INITIALIZATION, phase,
               strbuf_cstr(&sb));
  strbuf_free(&sb);
}

static int load_all(load_ctx *c) {
  if (!c->s->db || !c->s->has_schema)
    return CRONC_OK; /* a newer schema or an empty file: nothing we can read */
  int rc = load_servers(c);
  if (rc == CRONC_OK)
    rc = load_alts(c);
  if (rc == CRONC_OK)
    rc = load_broken(c);
  if (rc == CRONC_OK)
    rc = load_supports_quic(c);
  return rc;
}

int store_load_props(store *s, props_snapshot *out) {
  if (out)
    props_snapshot_init(out);
  if (!s || !out)
    return CRONC_ERR_INVALID_ARGUMENT;
  load_ctx c = {.s = s, .snap = out};
  store_log_load(s, NETLOG_PHASE_BEGIN, &c, 0);
  int rc = load_all(&c);
  if (rc != CRONC_OK && store_rc_is_corruption(c.last_sqlite_rc) &&
      s->mode == STORE_OPEN_READ_WRITE) {
    /* Damage quick_check did not see (it skips index contents): start over
     * with an empty store rather than fail the engine's start. */
    props_snapshot_free(out);
    snprintf(s->reason, sizeof s->reason, "corruption while loading: %s",
             sqlite3_errstr(c.last_sqlite_rc));
    rc = store_recover(s);
    c.n_alts = 0;
  }
  if (rc != CRONC_OK) {
    props_snapshot_free(out);
    c.n_alts = 0;
  }
  free(c.aux);
  store_log_load(s, NETLOG_PHASE_END, &c, rc);
  return rc;
}

/* ---------------------------------------------------------------------------
 * Save and clear.
 * ------------------------------------------------------------------------- */

static int step_done(sqlite3_stmt *st) {
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Writes "h3,h3-29" into buf (size > ALTSVC_MAX_ALPNS * (ALTSVC_MAX_ALPN_LEN
 * + 1)), leaving out ALPNs col_alpns() would not read back. */
static int save_alpns(const altsvc_info *a, char *buf) {
  int len = 0;
  unsigned n = a->n_alpns > ALTSVC_MAX_ALPNS ? ALTSVC_MAX_ALPNS : a->n_alpns;
  for (unsigned i = 0; i < n; i++) {
    size_t l = strnlen(a->alpns[i], ALTSVC_MAX_ALPN_LEN + 1);
    bool ok = l > 0 && l <= ALTSVC_MAX_ALPN_LEN;
    for (size_t k = 0; ok && k < l; k++)
      ok = a->alpns[i][k] >= 0x21 && a->alpns[i][k] <= 0x7e && a->alpns[i][k] != ',';
    if (!ok)
      continue;
    if (len > 0)
      buf[len++] = ',';
    memcpy(buf + len, a->alpns[i], l);
    len += (int)l;
  }
  buf[len] = '\0';
  return len;
}

static int bind_host(sqlite3_stmt *st, int i, const char host[URL_MAX_HOST + 1]) {
  size_t len = strnlen(host, URL_MAX_HOST + 1);
  return sqlite3_bind_text(st, i, host, (int)(len > URL_MAX_HOST ? URL_MAX_HOST : len),
                           SQLITE_STATIC);
}

typedef struct save_counts {
  size_t servers, alts, broken, skipped;
} save_counts;

/* The body of the save transaction; returns a SQLite result code. */
static int save_rows(store *s, const props_snapshot *snap, save_counts *cnt) {
  sqlite3_stmt **q = s->stmt;
  int rc;
  if ((rc = step_done(q[STORE_STMT_DEL_ALTS])) != SQLITE_OK ||
      (rc = step_done(q[STORE_STMT_DEL_SERVERS])) != SQLITE_OK ||
      (rc = step_done(q[STORE_STMT_DEL_BROKEN])) != SQLITE_OK ||
      (rc = step_done(q[STORE_STMT_DEL_SUPPORTS_QUIC])) != SQLITE_OK)
    return rc;

  sqlite3_stmt *ins_server = q[STORE_STMT_INS_SERVER], *ins_alt = q[STORE_STMT_INS_ALT];
  for (size_t i = 0; i < snap->n_servers; i++) {
    const props_snapshot_server *srv = &snap->servers[i];
    char origin[STORE_ORIGIN_BUF];
    int olen = url_origin_to_string(&srv->origin, origin, sizeof origin);
    if (olen < 0) {
      cnt->skipped++;
      continue;
    }
    sqlite3_bind_int64(ins_server, 1, (int64_t)i);
    sqlite3_bind_text(ins_server, 2, origin, olen, SQLITE_STATIC);
    sqlite3_bind_int(ins_server, 3, srv->supports_spdy ? 1 : 0);
    sqlite3_bind_int64(ins_server, 4, srv->srtt_us);
    if ((rc = step_done(ins_server)) != SQLITE_OK)
      return rc;
    cnt->servers++;
    for (size_t j = 0; j < srv->n_alts; j++) {
      const altsvc_info *a = &srv->alts[j];
      char alpns[ALTSVC_MAX_ALPNS * (ALTSVC_MAX_ALPN_LEN + 1) + 1];
      int alen = save_alpns(a, alpns);
      sqlite3_bind_int64(ins_alt, 1, (int64_t)i);
      sqlite3_bind_int64(ins_alt, 2, (int64_t)j);
      sqlite3_bind_text(ins_alt, 3, altsvc_protocol_name(a->service.protocol), -1, SQLITE_STATIC);
      bind_host(ins_alt, 4, a->service.host);
      sqlite3_bind_int(ins_alt, 5, a->service.port);
      sqlite3_bind_int64(ins_alt, 6, a->expiration_us);
      sqlite3_bind_text(ins_alt, 7, alpns, alen, SQLITE_STATIC);
      if ((rc = step_done(ins_alt)) != SQLITE_OK)
        return rc;
      cnt->alts++;
    }
  }

  sqlite3_stmt *ins_broken = q[STORE_STMT_INS_BROKEN];
  for (size_t i = 0; i < snap->n_broken; i++) {
    const props_snapshot_broken *b = &snap->broken[i];
    sqlite3_bind_int64(ins_broken, 1, (int64_t)i);
    sqlite3_bind_text(ins_broken, 2, altsvc_protocol_name(b->service.protocol), -1, SQLITE_STATIC);
    bind_host(ins_broken, 3, b->service.host);
    sqlite3_bind_int(ins_broken, 4, b->service.port);
    sqlite3_bind_int(ins_broken, 5, b->broken_count);
    sqlite3_bind_int(ins_broken, 6, b->is_broken ? 1 : 0);
    sqlite3_bind_int64(ins_broken, 7, b->broken_until_us);
    if ((rc = step_done(ins_broken)) != SQLITE_OK)
      return rc;
    cnt->broken++;
  }

  sqlite3_stmt *ins_quic = q[STORE_STMT_INS_SUPPORTS_QUIC];
  sqlite3_bind_int(ins_quic, 1, snap->quic_worked ? 1 : 0);
  sqlite3_bind_text(ins_quic, 2, snap->quic_worked_address,
                    (int)strnlen(snap->quic_worked_address, sizeof snap->quic_worked_address - 1),
                    SQLITE_STATIC);
  return step_done(ins_quic);
}

/* Runs body(s, arg) inside BEGIN IMMEDIATE ... COMMIT, rolling back on
 * failure. A damaged file is moved aside and the body retried once on the
 * fresh database, so the caller's data still reaches the disk. */
typedef int (*txn_body)(store *s, const void *arg, void *out);

static int run_txn(store *s, const char *operation, txn_body body, const void *arg, void *out) {
  if (!s)
    return CRONC_ERR_INVALID_ARGUMENT;
  for (int attempt = 0;; attempt++) {
    if (!store_is_writable(s)) {
      int err =
          s->db || s->mode == STORE_OPEN_READ_ONLY ? CRONC_ERR_ACCESS_DENIED : CRONC_ERR_FAILED;
      store_log_write_failed(s, operation, err);
      return err;
    }
    int rc = step_done(s->stmt[STORE_STMT_BEGIN]);
    if (rc == SQLITE_OK)
      rc = body(s, arg, out);
    if (rc == SQLITE_OK)
      rc = step_done(s->stmt[STORE_STMT_COMMIT]);
    if (rc == SQLITE_OK)
      return CRONC_OK;
    int err = store_error_from_sqlite(s->db, rc);
    store_log_write_failed(s, operation, err);
    if (!sqlite3_get_autocommit(s->db))
      step_done(s->stmt[STORE_STMT_ROLLBACK]);
    if (!store_rc_is_corruption(rc) || attempt > 0)
      return err;
    snprintf(s->reason, sizeof s->reason, "corruption while writing: %s", sqlite3_errstr(rc));
    int rec = store_recover(s);
    if (rec != CRONC_OK)
      return rec;
  }
}

static int save_body(store *s, const void *arg, void *out) {
  save_counts *cnt = out;
  *cnt = (save_counts){0};
  return save_rows(s, arg, cnt);
}

int store_save_props(store *s, const props_snapshot *snap) {
  if (!s || !snap)
    return CRONC_ERR_INVALID_ARGUMENT;
  save_counts cnt = {0};
  int rc = run_txn(s, "save_props", save_body, snap, &cnt);
  if (rc == CRONC_OK && netlog_is_capturing(s->nl)) {
    strbuf sb = STRBUF_INIT;
    strbuf_appendf(&sb,
                   "{\"servers\":%zu,\"alternative_services\":%zu,"
                   "\"broken_alternative_services\":%zu,\"skipped\":%zu}",
                   cnt.servers, cnt.alts, cnt.broken, cnt.skipped);
    if (!strbuf_failed(&sb))
      netlog_add_event(s->nl, s->src, NETLOG_TYPE_HTTP_SERVER_PROPERTIES_UPDATE_PREFS,
                       strbuf_cstr(&sb));
    strbuf_free(&sb);
  }
  return rc;
}

static int clear_body(store *s, const void *arg, void *out) {
  static const store_stmt_id dels[] = {STORE_STMT_DEL_ALTS, STORE_STMT_DEL_SERVERS,
                                       STORE_STMT_DEL_BROKEN, STORE_STMT_DEL_SUPPORTS_QUIC,
                                       STORE_STMT_DEL_QUIC_SERVERS};
  for (size_t i = 0; i < sizeof dels / sizeof dels[0]; i++) {
    int rc = step_done(s->stmt[dels[i]]);
    if (rc != SQLITE_OK)
      return rc;
  }
  return SQLITE_OK;
}

int store_clear(store *s) { return run_txn(s, "clear", clear_body, NULL, NULL); }

/* ---------------------------------------------------------------------------
 * JSON dump.
 * ------------------------------------------------------------------------- */

static void json_snapshot(strbuf *sb, const props_snapshot *snap) {
  strbuf_append_str(sb, ",\"servers\":[");
  for (size_t i = 0; i < snap->n_servers; i++) {
    const props_snapshot_server *srv = &snap->servers[i];
    char origin[STORE_ORIGIN_BUF];
    if (url_origin_to_string(&srv->origin, origin, sizeof origin) < 0)
      origin[0] = '\0';
    strbuf_append_str(sb, i ? ",{\"server\":" : "{\"server\":");
    strbuf_json_cstr(sb, origin);
    strbuf_appendf(sb,
                   ",\"supports_spdy\":%s,\"network_stats\":{\"srtt\":%lld},"
                   "\"alternative_service\":[",
                   srv->supports_spdy ? "true" : "false", (long long)srv->srtt_us);
    for (size_t j = 0; j < srv->n_alts; j++) {
      if (j)
        strbuf_append_char(sb, ',');
      altsvc_info_append_json(sb, &srv->alts[j]);
    }
    strbuf_append_str(sb, "]}");
  }
  strbuf_append_str(sb, "],\"broken_alternative_services\":[");
  for (size_t i = 0; i < snap->n_broken; i++) {
    const props_snapshot_broken *b = &snap->broken[i];
    strbuf_append_str(sb, i ? ",{\"protocol_str\":" : "{\"protocol_str\":");
    strbuf_json_cstr(sb, altsvc_protocol_name(b->service.protocol));
    strbuf_append_str(sb, ",\"host\":");
    strbuf_json_cstr(sb, b->service.host);
    strbuf_appendf(sb,
                   ",\"port\":%u,\"broken_count\":%d,\"is_broken\":%s,"
                   "\"broken_until_us\":%lld}",
                   (unsigned)b->service.port, b->broken_count, b->is_broken ? "true" : "false",
                   (long long)b->broken_until_us);
  }
  strbuf_appendf(sb, "],\"supports_quic\":{\"used_quic\":%s,\"address\":",
                 snap->quic_worked ? "true" : "false");
  strbuf_json_string(sb, snap->quic_worked_address,
                     strnlen(snap->quic_worked_address, sizeof snap->quic_worked_address));
  strbuf_append_char(sb, '}');
}

static int json_quic_servers(store *s, strbuf *sb) {
  strbuf_append_str(sb, ",\"quic_servers\":[");
  if (!s->db || !s->has_schema) {
    strbuf_append_char(sb, ']');
    return CRONC_OK;
  }
  sqlite3_stmt *st = s->stmt[STORE_STMT_SEL_QUIC_SERVERS];
  int rc, n = 0;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const char *id;
    size_t len;
    if (!col_text(st, 0, STORE_ORIGIN_BUF, &id, &len))
      continue;
    strbuf_append_str(sb, n++ ? ",{\"server_id\":" : "{\"server_id\":");
    strbuf_json_string(sb, id, len);
    strbuf_appendf(sb, ",\"state_bytes\":%d,\"updated_us\":%lld}", sqlite3_column_bytes(st, 1),
                   (long long)sqlite3_column_int64(st, 2));
  }
  sqlite3_reset(st);
  strbuf_append_char(sb, ']');
  return rc == SQLITE_DONE ? CRONC_OK : store_error_from_sqlite(s->db, rc);
}

int store_to_json(store *s, strbuf *out) {
  if (!s || !out)
    return CRONC_ERR_INVALID_ARGUMENT;
  props_snapshot snap;
  int rc = store_load_props(s, &snap);
  if (rc != CRONC_OK)
    return rc;
  strbuf sb = STRBUF_INIT;
  strbuf_append_str(&sb, "{\"path\":");
  strbuf_json_cstr(&sb, s->db_path);
  strbuf_appendf(&sb, ",\"version\":%d,\"writable\":%s", s->schema_version,
                 store_is_writable(s) ? "true" : "false");
  json_snapshot(&sb, &snap);
  props_snapshot_free(&snap);
  rc = json_quic_servers(s, &sb);
  strbuf_append_char(&sb, '}');
  if (rc == CRONC_OK && strbuf_failed(&sb))
    rc = CRONC_ERR_OUT_OF_MEMORY;
  if (rc == CRONC_OK)
    strbuf_append(out, sb.data, sb.len);
  strbuf_free(&sb);
  return rc;
}

/* ---------------------------------------------------------------------------
 * QUIC state per server id (0-RTT): opaque blobs of the quic layer.
 * ------------------------------------------------------------------------- */

int store_load_quic_states(store *s, store_quic_state_fn fn, void *ud) {
  if (!s || !fn)
    return CRONC_ERR_INVALID_ARGUMENT;
  if (!s->db || !s->has_schema)
    return CRONC_OK;
  sqlite3_stmt *st = s->stmt[STORE_STMT_SEL_QUIC_SERVERS];
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const char *id;
    size_t len;
    int64_t updated;
    const void *blob = sqlite3_column_blob(st, 1);
    int n = sqlite3_column_bytes(st, 1);
    if (!col_text(st, 0, STORE_ORIGIN_BUF, &id, &len) || !blob || n <= 0 ||
        !col_int(st, 2, 0, INT64_MAX, &updated)) {
      netlog_add_event(s->nl, s->src, NETLOG_TYPE_CRONC_QUIC_TICKET_INVALID,
                       "{\"reason\":\"unreadable quic_server_info row skipped\"}");
      continue;
    }
    store_quic_state q = {id, blob, (size_t)n, updated};
    fn(ud, &q);
  }
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? CRONC_OK : store_error_from_sqlite(s->db, rc);
}

typedef struct quic_save_args {
  const store_quic_state *put;
  size_t n_put;
  const char *const *del;
  size_t n_del;
} quic_save_args;

static int quic_save_body(store *s, const void *arg, void *out) {
  (void)out;
  const quic_save_args *a = arg;
  sqlite3_stmt *put = s->stmt[STORE_STMT_PUT_QUIC_SERVER];
  sqlite3_stmt *del = s->stmt[STORE_STMT_DEL_QUIC_SERVER];
  for (size_t i = 0; i < a->n_del; i++) {
    sqlite3_bind_text(del, 1, a->del[i], -1, SQLITE_STATIC);
    int rc = step_done(del);
    if (rc != SQLITE_OK)
      return rc;
  }
  for (size_t i = 0; i < a->n_put; i++) {
    const store_quic_state *q = &a->put[i];
    if (q->len > INT32_MAX)
      continue;
    sqlite3_bind_text(put, 1, q->server_id, -1, SQLITE_STATIC);
    sqlite3_bind_blob(put, 2, q->state, (int)q->len, SQLITE_STATIC);
    sqlite3_bind_int64(put, 3, q->updated_us);
    int rc = step_done(put);
    if (rc != SQLITE_OK)
      return rc;
  }
  return SQLITE_OK;
}

int store_save_quic_states(store *s, const store_quic_state *put, size_t n_put,
                           const char *const *del, size_t n_del) {
  if (!s || (n_put && !put) || (n_del && !del))
    return CRONC_ERR_INVALID_ARGUMENT;
  if (!n_put && !n_del)
    return CRONC_OK;
  quic_save_args a = {put, n_put, del, n_del};
  return run_txn(s, "save_quic_states", quic_save_body, &a, NULL);
}
