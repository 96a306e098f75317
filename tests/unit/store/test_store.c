/* store/store: round trips, replacement, clearing, the storage-path lock,
 * recovery from damaged and foreign files, a newer schema left alone,
 * row-level garbage skipped, and the JSON dump. Each test runs in a fresh
 * temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <ftw.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/json_check.h"
#include "base/netlog.h"
#include "cronc/cronc.h"
#include "http/props_snapshot.h"
#include "store/store.h"

/* ---------------------------------------------------------------------------
 * Fixture: a temp dir and a netlog whose observer keeps what the store logs.
 * ------------------------------------------------------------------------- */

#define MAX_SEEN 256

typedef struct seen_event {
  netlog_event_type type;
  netlog_phase phase;
  char params[512];
} seen_event;

typedef struct fixture {
  char dir[64];
  char db[128];
  netlog *nl;
  netlog_observer *obs;
  seen_event seen[MAX_SEEN];
  size_t n_seen;
} fixture;

static void observe(const netlog_entry *e, void *user_data) {
  fixture *f = user_data;
  if (f->n_seen == MAX_SEEN)
    return;
  seen_event *s = &f->seen[f->n_seen++];
  s->type = e->type;
  s->phase = e->phase;
  snprintf(s->params, sizeof s->params, "%s", e->params ? e->params : "");
}

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  if (!f)
    return -1;
  snprintf(f->dir, sizeof f->dir, "/tmp/cronc-store-test-XXXXXX");
  if (!mkdtemp(f->dir))
    return -1;
  snprintf(f->db, sizeof f->db, "%s/%s", f->dir, STORE_DB_NAME);
  f->nl = netlog_new(NULL);
  f->obs = netlog_add_observer(f->nl, observe, f);
  if (!f->nl || !f->obs)
    return -1;
  *state = f;
  return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(path);
}

static int teardown(void **state) {
  fixture *f = *state;
  nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  netlog_free(f->nl);
  free(f);
  return 0;
}

static size_t count_events(const fixture *f, netlog_event_type type) {
  size_t n = 0;
  for (size_t i = 0; i < f->n_seen; i++)
    n += f->seen[i].type == type;
  return n;
}

static const seen_event *find_event(const fixture *f, netlog_event_type type, const char *needle) {
  for (size_t i = 0; i < f->n_seen; i++)
    if (f->seen[i].type == type && (!needle || strstr(f->seen[i].params, needle)))
      return &f->seen[i];
  return NULL;
}

/* Names in f->dir starting with "cronc.sqlite.corrupt-". */
static size_t count_moved_aside(const fixture *f, char *first, size_t first_size) {
  DIR *d = opendir(f->dir);
  size_t n = 0;
  struct dirent *de;
  while (d && (de = readdir(d))) {
    if (strncmp(de->d_name, "cronc.sqlite.corrupt-", 21) == 0 && !strstr(de->d_name, "-wal") &&
        !strstr(de->d_name, "-shm")) {
      if (n == 0 && first)
        snprintf(first, first_size, "%s/%.*s", f->dir, 100, de->d_name);
      n++;
    }
  }
  if (d)
    closedir(d);
  return n;
}

static void write_file(const char *path, const void *data, size_t len) {
  FILE *fp = fopen(path, "wb");
  assert_non_null(fp);
  assert_int_equal(fwrite(data, 1, len, fp), len);
  assert_int_equal(fclose(fp), 0);
}

static long file_size(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* Runs SQL on the database directly, bypassing the store. */
static void raw_exec(const char *db, const char *sql) {
  sqlite3 *h = NULL;
  assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
  char *err = NULL;
  int rc = sqlite3_exec(h, sql, NULL, NULL, &err);
  if (rc != SQLITE_OK)
    fail_msg("raw_exec: %s: %s", sql, err ? err : "?");
  sqlite3_close(h);
}

static int64_t raw_int(const char *db, const char *sql) {
  sqlite3 *h = NULL;
  sqlite3_stmt *st = NULL;
  assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
  assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  int64_t v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(h);
  return v;
}

/* ---------------------------------------------------------------------------
 * Snapshots.
 * ------------------------------------------------------------------------- */

static url_origin origin(url_scheme scheme, const char *host, uint16_t port) {
  url_origin o;
  assert_int_equal(url_origin_init(&o, scheme, host, strlen(host), port), CRONC_OK);
  return o;
}

static altsvc_info alt(altsvc_protocol proto, const char *host, uint16_t port, int64_t exp,
                       const char *alpn1, const char *alpn2) {
  altsvc_info a = {0};
  a.service.protocol = proto;
  a.service.port = port;
  snprintf(a.service.host, sizeof a.service.host, "%s", host);
  a.expiration_us = exp;
  if (alpn1)
    snprintf(a.alpns[a.n_alpns++], sizeof a.alpns[0], "%s", alpn1);
  if (alpn2)
    snprintf(a.alpns[a.n_alpns++], sizeof a.alpns[0], "%s", alpn2);
  return a;
}

static void add_server(props_snapshot *s, url_origin o, bool spdy, int64_t srtt,
                       const altsvc_info *alts, size_t n) {
  s->servers = realloc(s->servers, (s->n_servers + 1) * sizeof *s->servers);
  assert_non_null(s->servers);
  props_snapshot_server *srv = &s->servers[s->n_servers++];
  *srv = (props_snapshot_server){.origin = o, .supports_spdy = spdy, .srtt_us = srtt};
  if (n) {
    srv->alts = malloc(n * sizeof *alts);
    assert_non_null(srv->alts);
    memcpy(srv->alts, alts, n * sizeof *alts);
    srv->n_alts = n;
  }
}

static void add_broken(props_snapshot *s, altsvc_protocol proto, const char *host, uint16_t port,
                       int count, bool is_broken, int64_t until) {
  s->broken = realloc(s->broken, (s->n_broken + 1) * sizeof *s->broken);
  assert_non_null(s->broken);
  props_snapshot_broken *b = &s->broken[s->n_broken++];
  *b = (props_snapshot_broken){
      .broken_count = count, .is_broken = is_broken, .broken_until_us = until};
  b->service.protocol = proto;
  b->service.port = port;
  snprintf(b->service.host, sizeof b->service.host, "%s", host);
}

#define T0 INT64_C(1700000000000000)

static void sample_snapshot(props_snapshot *s) {
  props_snapshot_init(s);
  altsvc_info a1[] = {
      alt(ALTSVC_PROTO_QUIC, "", 443, T0 + 3600 * BASE_US_PER_SEC, "h3", NULL),
      alt(ALTSVC_PROTO_HTTP2, "alt.example.com", 8443, T0 + 86400 * BASE_US_PER_SEC, NULL, NULL),
  };
  add_server(s, origin(URL_SCHEME_HTTPS, "example.com", 443), true, 42000, a1, 2);
  altsvc_info a2[] = {
      alt(ALTSVC_PROTO_QUIC, "[2001:db8::2]", 4433, BASE_TIME_MAX, "h3", "h3-29"),
  };
  add_server(s, origin(URL_SCHEME_HTTPS, "[2001:db8::1]", 8443), false, 0, a2, 1);
  add_server(s, origin(URL_SCHEME_HTTP, "plain.example", 8080), true, 1234, NULL, 0);
  altsvc_info a4[] = {
      alt(ALTSVC_PROTO_QUIC, "", 443, BASE_TIME_MAX, NULL, NULL),
      alt(ALTSVC_PROTO_QUIC, "q.example.org", 444, T0 - 5, "h3", NULL),
      alt(ALTSVC_PROTO_HTTP2, "", 443, T0, NULL, NULL),
  };
  add_server(s, origin(URL_SCHEME_HTTPS, "www.example.org", 0), false, 7, a4, 3);
  add_broken(s, ALTSVC_PROTO_QUIC, "example.com", 443, 3, true, T0 + 300 * BASE_US_PER_SEC);
  add_broken(s, ALTSVC_PROTO_HTTP2, "alt.example.com", 8443, 1, false, 0);
  add_broken(s, ALTSVC_PROTO_QUIC, "[2001:db8::2]", 4433, 0, true, T0);
  s->quic_worked = true;
  snprintf(s->quic_worked_address, sizeof s->quic_worked_address, "192.0.2.7");
}

static void assert_snapshots_equal(const props_snapshot *a, const props_snapshot *b) {
  assert_int_equal(a->n_servers, b->n_servers);
  for (size_t i = 0; i < a->n_servers; i++) {
    const props_snapshot_server *x = &a->servers[i], *y = &b->servers[i];
    assert_true(url_origin_equal(&x->origin, &y->origin));
    assert_int_equal(x->supports_spdy, y->supports_spdy);
    assert_int_equal(x->srtt_us, y->srtt_us);
    assert_int_equal(x->n_alts, y->n_alts);
    for (size_t j = 0; j < x->n_alts; j++)
      assert_true(altsvc_info_equal(&x->alts[j], &y->alts[j]));
  }
  assert_int_equal(a->n_broken, b->n_broken);
  for (size_t i = 0; i < a->n_broken; i++) {
    const props_snapshot_broken *x = &a->broken[i], *y = &b->broken[i];
    assert_true(altsvc_service_equal(&x->service, &y->service));
    assert_int_equal(x->broken_count, y->broken_count);
    assert_int_equal(x->is_broken, y->is_broken);
    assert_int_equal(x->broken_until_us, y->broken_until_us);
  }
  assert_int_equal(a->quic_worked, b->quic_worked);
  assert_string_equal(a->quic_worked_address, b->quic_worked_address);
}

static void assert_empty(const props_snapshot *s) {
  assert_int_equal(s->n_servers, 0);
  assert_int_equal(s->n_broken, 0);
  assert_false(s->quic_worked);
}

/* Saves the sample through a fresh store and closes it. */
static void save_sample(fixture *f) {
  store *s = NULL;
  assert_int_equal(store_open(f->dir, STORE_OPEN_READ_WRITE, f->nl, &s), CRONC_OK);
  props_snapshot snap;
  sample_snapshot(&snap);
  assert_int_equal(store_save_props(s, &snap), CRONC_OK);
  props_snapshot_free(&snap);
  store_close(s);
}

/* ---------------------------------------------------------------------------
 * Tests.
 * ------------------------------------------------------------------------- */

static void round_trip_keeps_everything_in_order(void **state) {
  fixture *f = *state;
  store *s = NULL;
  assert_int_equal(store_open(f->dir, STORE_OPEN_READ_WRITE, f->nl, &s), CRONC_OK);
  props_snapshot in, out;
  sample_snapshot(&in);
  assert_int_equal(store_save_props(s, &in), CRONC_OK);
  assert_int_equal(store_load_props(s, &out), CRONC_OK);
  assert_snapshots_equal(&in, &out);
  assert_int_equal(out.servers[1].alts[0].expiration_us, INT64_MAX);
  assert_string_equal(out.servers[1].alts[0].alpns[1], "h3-29");
  props_snapshot_free(&out);
  props_snapshot_free(&in);
  store_close(s);
  assert_non_null(find_event(f, NETLOG_TYPE_HTTP_SERVER_PROPERTIES_UPDATE_PREFS,
                             "\"servers\":4,\"alternative_services\":6"));
  assert_non_null(find_event(f, NETLOG_TYPE_HTTP_SERVER_PROPERTIES_INITIALIZATION,
                             "\"broken_alternative_services\":3,\"skipped_rows\":0"));
  assert_int_equal(count_events(f, NETLOG_TYPE_CRONC_STORE_CORRUPTION_RECOVERED), 0);
}

static void reopen_after_close_keeps_data(void **state) {
  fixture *f = *state;
  save_sample(f);
  store *s = NULL;
  assert_int_equal(store_open(f->dir, STORE_OPEN_READ_WRITE, NULL, &s), CRONC_OK);
  props_snapshot in, out;
  sample_snapshot(&in);
  assert_int_equal(store_load_props(s, &out), CRONC_OK);
  assert_snapshots_equal(&in, &out);
  props_snapshot_free(&out);
  props_snapshot_free(&in);
  store_close(s);
}

static void save_replaces_all_rows(void **state) {
  fixture *f = *state;
  save_sample(f);
  store *s = NULL;
  assert_int_equal(store_open(f->dir, STORE_OPEN_READ_WRITE, f->nl, &s), CRONC_OK);
  props_snapshot small, out;
  props_snapshot_init(&small);
  altsvc_info a[] = {alt(ALTSVC_PROTO_HTTP2, "", 443, T0, NULL, NULL)};
  add_server(&small, origin(URL_SCHEME_HTTPS, "only.example", 0), false, 0, a, 1);
  assert_int_equal(store_save_props(s, &small), CRONC_OK);
  assert_int_equal(store_load_props(s, &out), CRONC_OK);
  assert_snapshots_equal(&small, &out);
  props_snapshot_free(&out);
  props_snapshot_free(&small);
  store_close(s);
  assert_int_equal(raw_int(f->db, "SELECT count(*) FROM alternative_services"), 1);
  assert_int_equal(raw_int(f->db, "SELECT count(*) FROM broken_alternative_services"), 0);
  assert_int_equal(raw_int(f->db, "SELECT used_quic FROM supports_quic"), 0);
}

static void save_leaves_quic_tickets_alone_and_clear_empties_them(void **state) {
  fixture *f = *state;
  save_sample(f);
  raw_exec(f->db, "INSERT INTO quic_server_info VALUES('https://example.com', x'0102', 5)");
  store *s = NULL;
  assert_int_equal(store_open(f->dir, STORE_OPEN_READ_WRITE, f->nl, &s), CRONC_OK);
  props_snapshot snap, out;
  sample_snapshot(&snap);
  assert_int_equal(store_save_props(s, &snap), CRONC_OK);
  props_snapshot_free(&snap);
  assert_int_equal(raw_int(f->db, "SELECT count(*) FROM quic_server_info"), 1);
  assert_int_equal(store_clear(s), CRONC_OK);
  assert_int_equal(store_load_props(s, &out), CRONC_OK);
  assert_empty(&out);
  props_snapshot_free(&out);
  store_close(s);
  static const char *const tables[] = {"servers", "alternative_services",
                                       "broken_alternative_services", "supports_quic",
                                       "quic_server_info"};
  for (size_t i = 0; i < 5; i++) {
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", tables[i]);
    assert_int_equal(raw_int(f->db, sql), 0);
  }
}

static void new_store_has_schema_version_wal_and_private_files(void **state) {
  fixture *f = *state;
  store *s = NULL;
  assert_int_equal(store_open(f->dir, STORE_OPEN_READ_WRITE, f->nl, &s), CRONC_OK);
  assert_true(store_is_writable(s));
  assert_int_equal(store_schema_version(s), STORE_SCHEMA_VERSION);
  assert_string_equal(store_db_path(s), f->db);
  assert_int_equal(raw_int(f->db, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
  assert_int_equal(raw_int(f->db, "PRAGMA application_id"), STORE_APPLICATION_ID);
  assert_int_equal(raw_int(f->db, "SELECT count(*) FROM quic_server_info"), 0);
  struct stat st;
  assert_int_equal(stat(f->db, &st), 0);
  assert_int_equal(st.st_mode & 077, 0);
  store_close(s);
  sqlite3 *h = NULL;
  sqlite3_stmt *q = NULL;
  assert_int_equal(sqlite3_open(f->db, &h), SQLITE_OK);
  assert_int_equal(sqlite3_prepare_v2(h, "PRAGMA journal_mode", -1, &q, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(q), SQLITE_ROW);
  assert_string_equal((const char *)sqlite3_column_text(q, 0), "wal");
  sqlite3_finalize(q);
  sqlite3_close(h);
  assert_non_null(find_event(f, NETLOG_TYPE_CRONC_STORE_OPEN, "\"created\":true"));
}

static void open_creates_missing_directories(void **state) {
  fixture *f = *state;
  char dir[160];
  snprintf(dir, sizeof dir, "%s/a/b/c/", f->dir);
  store *s = NULL;
  assert_int_equal(store_open(dir, STORE_OPEN_READ_WRITE, NULL, &s), CRONC_OK);
  char expect[200];
  snprintf(expect, sizeof expect, "%s/a/b/c/%s", f->dir, STORE_DB_NAME);
  assert_string_equal(store_db_path(s), expect);
  store_close(s);
  struct stat st;
  assert_int_equal(stat(expect, &st), 0);
}

static void open_under_a_regular_file_fails_cleanly(void **state) {
  fixture *f = *state;
  char file[160], dir[200];
  snprintf(file, sizeof file, "%s/file", f->dir);
  write_file(file, "x", 1);
  snprintf(dir, sizeof dir, "%s/sub", file);
  store *s = (store *)1;
  assert_true(store_open(dir, STORE_OPEN_READ_WRITE, f->nl, &s) < 0);
  assert_null(s);
  assert_true(store_open(file, STORE_OPEN_READ_WRITE, f->nl, &s) < 0);
  assert_null(s);
}

static void invalid_arguments_are_rejected(void **state) {
  fixture *f = *state;
  store *s = NULL;
  props_snapshot snap;
  strbuf sb = STRBUF_INIT;
  assert_int_equal(store_open(NULL, STORE_OPEN_READ_WRITE, NULL, &s), CRONC_ERR_INVALID_ARGUMENT);
  assert_int_equal(store_open("", STORE_OPEN_READ_WRITE, NULL, &s), CRONC_ERR_INVALID_ARGUMENT);
  assert_int_equal(store_open(f->dir, STORE_OPEN_READ_WRITE, NULL, NULL),
                   CRONC_ERR_INVALID_ARGUMENT);
  assert_int_equal(store_open(f->dir, (store_open_mode)7, NULL, &s), CRONC_ERR_INVALID_ARGUMENT);
  assert_int_equal(store_load_props(NULL, &snap), CRONC_ERR_INVALID_ARGUMENT);
  assert_int_equal(store_save_props(NULL, &snap), CRONC_ERR_INVALID_ARGUMENT);
  assert_int_equal(store_clear(NULL), CRONC_ERR_INVALID_ARGUMENT);
  assert_int_equal(store_to_json(NULL, &sb), CRONC_ERR_INVALID_ARGUMENT);
  assert_null(store_db_path(NULL));
  store_close(NULL);
}

static void garbage_file_is_moved_aside(void **state) {
  fixture *f = *state;
  char garbage[4096];
  for (size_t i = 0; i < sizeof garbage; i++)
    garbage[i] = (char)(i * 131 + 7);
  write_file(f->db, garbage, sizeof garbage);
  char wal[160];
  snprintf(wal, sizeof wal, "%s-wal", f->db);
  write_file(wal, "junk", 4);

  store *s = NULL;
  assert_int_equal(store_open(f->dir, STORE_OPEN_READ_WRITE, f->nl, &s), CRONC_OK);
  props_snapshot out;
  assert_int_equal(store_load_props(s, &out), CRONC_OK);
  assert_empty(&out);
  props_snapshot_free(&out);
  /* The fresh store works. */
  props_snapshot snap;
  sample_snapshot(&snap);
  assert_int_equal(store_save_props(s, &snap), CRONC_OK);
  props_snapshot_free(&snap);
  store_close(s);

  char moved[200];
  assert_int_equal(count_moved_aside(f, moved, sizeof moved), 1);
  assert_int_equal(file_size(moved), (long)sizeof garbage);
  char moved_wal[220];
  snprintf(moved_wal, sizeof moved_wal, "%s-wal", moved);
  assert_int_equal(file_size(moved_wal), 4);
  const seen_event *e = find_event(f, NETLOG_TYPE_CRONC_STORE_CORRUPTION_RECOVERED, "moved_to");
  assert_non_null(e);
  assert_non_null(strstr(e->params, "\"path\":"));
  assert_non_null(strstr(e->params, "\"reason\":"));
  assert_non_null(strstr(e->params, strrchr(moved, '/') + 1));
  assert_true(base_json_is_object(e->params, strlen(e->params)));
}

static void truncated_database_is_moved_aside(void **state) {
  fixture *f = *state;
  /* Enough rows for a multi-page file. */
  store *s = NULL;
  assert_int_equal(store_open(f->dir, STORE_OPEN_READ_WRITE, NULL, &s), CRONC_OK);
  props_snapshot snap;
  props_snapshot_init(&snap);
  for (int i = 0; i < 400; i++) {
    char host[64];
    snprintf(host, sizeof host, "host%d.example.com", i);
    altsvc_info a[] = {alt(ALTSVC_PROTO_QUIC, host, 443, T0, "h3", NULL)};
    add_server(&snap, origin(URL_SCHEME_HTTPS, host, 0), true, i, a, 1);
  }
  assert_int_equal(store_save_props(s, &snap), CRONC_OK);
  props_snapshot_free(&snap);
  store_close(s); /* checkpoints the WAL into the main file */
  long size = file_size(f->db);
  assert_true(size > 8 * 4096);
  assert_int_equal(truncate(f->db, size / 2), 0);

  assert_int_equal(store_open(f->dir, STORE_OPEN_READ_WRITE, f->nl, &s), CRONC_OK);
  props_snapshot out;
  assert_int_equal(store_load_props(s, &out), CRONC_OK);
  assert_empty(&out);
  props_snapshot_free(&out);
  store_close(s);
  char moved[200];
  assert_int_equal(count_moved_aside(f, moved, sizeof moved), 1);
  assert_int_equal(file_size(moved), size / 2);
  assert_non_null(find_event(f, NETLOG_TYPE_CRONC_STORE_CORRUPTION_RECOVERED, "moved_to"));
}

/* Damages the root page of `table` behind an open store's back: a write
 * through another connection makes the store drop its page cache, a
 * checkpoint moves everything into the main file, then the page header is
 * overwritten with an invalid page type. quick_check at open cannot see it. */
static void damage_table_root(const char *db, const char *table) {
  char sql[160];
  snprintf(sql, sizeof sql, "SELECT rootpage FROM sqlite_master WHERE name = '%s'", table);
  int64_t root = raw_int(db, sql);
  int64_t page_size = raw_int(db, "PRAGMA page_size");
  raw_exec(db, "INSERT OR REPLACE INTO quic_server_info VALUES('https://poke.example', x'00',"
               " 0); PRAGMA wal_checkpoint(TRUNCATE);");
  FILE *fp = fopen(db, "r+b");
  assert_non_null(fp);
  assert_int_equal(fseek(fp, (long)((root - 1) * page_size), SEEK_SET), 0);
  static const unsigned char bad[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  assert_int_equal(fwrite(bad, 1, sizeof bad, fp), sizeof bad);
  assert_int_equal(fclose(fp), 0);
}

static void corruption_found_while_loading_is_recovered(void **state) {
  fixture *f = *state;
  store *s = NULL;
  assert_int_equal(store_open(f->dir, STORE_OPEN_READ_WRITE, f->nl, &s), CRONC_OK);
  props_snapshot snap, out;
  sample_snapshot(&snap);
  assert_int_equal(store_save_props(s, &snap), CRONC_OK);
  damage_table_root(f->db, "servers");
  assert_int_equal(store_load_props(s, &out), CRONC_OK);
  assert_empty(&out);
  props_snapshot_free(&out);
  assert_non_null(
      find_event(f, NETLOG_TYPE_CRONC_STORE_CORRUPTION_RECOVERED, "corruption while loading"));
  assert_int_equal(count_moved_aside(f, NULL, 0), 1);
  /* The store goes on working on the fresh file. */
  assert_true(store_is_writable(s));
  assert_int_equal(store_save_props(s, &snap), CRONC_OK);
  assert_int_equal(store_load_props(s, &out), CRONC_OK);
  assert_snapshots_equal(&snap, &out);
  props_snapshot_free(&out);
  props_snapshot_free(&snap);
  store_close(s);
}

static void corruption_found_while_saving_is_recovered_and_the_save_lands(void **state) {
  fixture *f = *state;
  store *s = NULL;
  assert_int_equal(store_open(f->dir, STORE_OPEN_READ_WRITE, f->nl, &s), CRONC_OK);
  props_snapshot snap, out;
  sample_snapshot(&snap);
  assert_int_equal(store_save_props(s, &snap), CRONC_OK);
  damage_table_root(f->db, "alternative_services");
  assert_int_equal(store_save_props(s, &snap), CRONC_OK);
  assert_non_null(
      find_event(f, NETLOG_TYPE_CRONC_STORE_WRITE_FAILED, "\"operation\":\"save_props\""));
  assert_non_null(
      find_event(f, NETLOG_TYPE_CRONC_STORE_CORRUPTION_RECOVERED, "corruption while writing"));
  assert_int_equal(count_moved_aside(f, NULL, 0), 1);
  assert_int_equal(store_load_props(s, &out), CRONC_OK);
  assert_snapshots_equal(&snap, &out);
  props_snapshot_free(&out);
  props_snapshot_free(&snap);
  store_close(s);
}

static void foreign_database_is_moved_aside(void **state) {
  fixture *f = *state;
  raw_exec(f->db, "CREATE TABLE cookies(name TEXT, value TEXT);"
                  "INSERT INTO cookies VALUES('a', 'b');");
  store *s = NULL;
  assert_int_equal(store_open(f->dir, STORE_OPEN_READ_WRITE, f->nl, &s), CRONC_OK);
  assert_int_equal(store_schema_version(s), STORE_SCHEMA_VERSION);
  store_close(s);
  char moved[200];
  assert_int_equal(count_moved_aside(f, moved, sizeof moved), 1);
  assert_int_equal(raw_int(moved, "SELECT count(*) FROM cookies"), 1);
  assert_non_null(find_event(f, NETLOG_TYPE_CRONC_STORE_CORRUPTION_RECOVERED, "foreign database"));
}

static void extra_table_in_a_cronc_database_is_moved_aside(void **state) {
  fixture *f = *state;
  save_sample(f);
  raw_exec(f->db, "CREATE TABLE intruder(x)");
  store *s = NULL;
  assert_int_equal(store_open(f->dir, STORE_OPEN_READ_WRITE, f->nl, &s), CRONC_OK);
  props_snapshot out;
  assert_int_equal(store_load_props(s, &out), CRONC_OK);
  assert_empty(&out);
  props_snapshot_free(&out);
  store_close(s);
  assert_int_equal(count_moved_aside(f, NULL, 0), 1);
  assert_non_null(find_event(f, NETLOG_TYPE_CRONC_STORE_CORRUPTION_RECOVERED, "intruder"));
}

typedef struct quic_rows {
  char ids[4][64];
  uint8_t first[4];
  size_t lens[4];
  size_t n;
} quic_rows;

static void collect_quic(void *ud, const store_quic_state *q) {
  quic_rows *r = ud;
  if (r->n < 4) {
    snprintf(r->ids[r->n], sizeof r->ids[0], "%s", q->server_id);
    r->first[r->n] = q->state[0];
    r->lens[r->n] = q->len;
    r->n++;
  }
}

static void quic_states_round_trip_replace_and_delete(void **state) {
  fixture *f = *state;
  store *s = NULL;
  assert_int_equal(store_open(f->dir, STORE_OPEN_READ_WRITE, f->nl, &s), CRONC_OK);
  static const uint8_t a[] = {1, 2, 3}, b[] = {9, 9}, a2[] = {7};
  store_quic_state put[] = {{"https://a.example:443", a, sizeof a, 10},
                            {"https://b.example:443/private", b, sizeof b, 20}};
  assert_int_equal(store_save_quic_states(s, put, 2, NULL, 0), CRONC_OK);
  store_quic_state again = {"https://a.example:443", a2, sizeof a2, 30};
  const char *del[] = {"https://b.example:443/private"};
  assert_int_equal(store_save_quic_states(s, &again, 1, del, 1), CRONC_OK);
  store_close(s);
  assert_int_equal(store_open(f->dir, STORE_OPEN_READ_WRITE, f->nl, &s), CRONC_OK);
  quic_rows rows = {0};
  assert_int_equal(store_load_quic_states(s, collect_quic, &rows), CRONC_OK);
  assert_int_equal(rows.n, 1);
  assert_string_equal(rows.ids[0], "https://a.example:443");
  assert_int_equal(rows.first[0], 7);
  assert_int_equal(rows.lens[0], 1);
  store_close(s);
}

/* A version-1 database (the foundation's schema) is migrated in place:
 * server properties kept, the QUIC table recreated in the new shape. */
static void version_1_database_is_migrated_keeping_properties(void **state) {
  fixture *f = *state;
  save_sample(f);
  raw_exec(f->db, "DROP TABLE quic_server_info;"
                  "CREATE TABLE quic_server_info(server_id TEXT PRIMARY KEY, session_ticket BLOB,"
                  " transport_params BLOB, updated_us INTEGER NOT NULL DEFAULT 0);"
                  "PRAGMA user_version = 1;");
  store *s = NULL;
  assert_int_equal(store_open(f->dir, STORE_OPEN_READ_WRITE, f->nl, &s), CRONC_OK);
  assert_int_equal(store_schema_version(s), STORE_SCHEMA_VERSION);
  props_snapshot want, got;
  sample_snapshot(&want);
  assert_int_equal(store_load_props(s, &got), CRONC_OK);
  assert_snapshots_equal(&want, &got);
  props_snapshot_free(&want);
  props_snapshot_free(&got);
  static const uint8_t blob[] = {5};
  store_quic_state q = {"https://a.example:443", blob, 1, 1};
  assert_int_equal(store_save_quic_states(s, &q, 1, NULL, 0), CRONC_OK);
  store_close(s);
  assert_int_equal(count_moved_aside(f, NULL, 0), 0);
  assert_int_equal(raw_int(f->db, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
}

static void missing_column_is_moved_aside(void **state) {
  fixture *f = *state;
  save_sample(f);
  raw_exec(f->db, "DROP TABLE servers; CREATE TABLE servers(position INTEGER PRIMARY KEY)");
  store *s = NULL;
  assert_int_equal(store_open(f->dir, STORE_OPEN_READ_WRITE, f->nl, &s), CRONC_OK);
  assert_true(store_is_writable(s));
  store_close(s);
  assert_int_equal(count_moved_aside(f, NULL, 0), 1);
  assert_non_null(find_event(f, NETLOG_TYPE_CRONC_STORE_CORRUPTION_RECOVERED, "schema mismatch"));
}

static void empty_file_is_a_new_store_not_corruption(void **state) {
  fixture *f = *state;
  write_file(f->db, "", 0);
  store *s = NULL;
  assert_int_equal(store_open(f->dir, STORE_OPEN_READ_WRITE, f->nl, &s), CRONC_OK);
  store_close(s);
  assert_int_equal(count_moved_aside(f, NULL, 0), 0);
  assert_int_equal(count_events(f, NETLOG_TYPE_CRONC_STORE_CORRUPTION_RECOVERED), 0);
}

static void two_recoveries_in_one_second_keep_both_files(void **state) {
  fixture *f = *state;
  write_file(f->db, "not a database at all, not at all", 33);
  store *s = NULL;
  assert_int_equal(store_open(f->dir, STORE_OPEN_READ_WRITE, NULL, &s), CRONC_OK);
  store_close(s);
  write_file(f->db, "still not a database, still not!!", 33);
  assert_int_equal(store_open(f->dir, STORE_OPEN_READ_WRITE, NULL, &s), CRONC_OK);
  store_close(s);
  assert_int_equal(count_moved_aside(f, NULL, 0), 2);
}

static void newer_schema_is_left_alone_and_writes_refused(void **state) {
  fixture *f = *state;
  save_sample(f);
  raw_exec(f->db, "PRAGMA user_version = 99; CREATE TABLE future_things(x)");
  store *s = NULL;
  assert_int_equal(store_open(f->dir, STORE_OPEN_READ_WRITE, f->nl, &s), CRONC_OK);
  assert_false(store_is_writable(s));
  assert_int_equal(store_schema_version(s), 99);
  props_snapshot out, snap;
  assert_int_equal(store_load_props(s, &out), CRONC_OK);
  assert_empty(&out);
  props_snapshot_free(&out);
  sample_snapshot(&snap);
  assert_int_equal(store_save_props(s, &snap), CRONC_ERR_ACCESS_DENIED);
  props_snapshot_free(&snap);
  assert_int_equal(store_clear(s), CRONC_ERR_ACCESS_DENIED);
  assert_int_equal(count_events(f, NETLOG_TYPE_CRONC_STORE_WRITE_FAILED), 2);
  assert_non_null(find_event(f, NETLOG_TYPE_CRONC_STORE_WRITE_FAILED, "\"net_error\":-10"));
  strbuf sb = STRBUF_INIT;
  assert_int_equal(store_to_json(s, &sb), CRONC_OK);
  assert_non_null(strstr(strbuf_cstr(&sb), "\"version\":99"));
  strbuf_free(&sb);
  store_close(s);
  /* Untouched: same version, same rows, nothing moved. */
  assert_int_equal(raw_int(f->db, "PRAGMA user_version"), 99);
  assert_int_equal(raw_int(f->db, "SELECT count(*) FROM servers"), 4);
  assert_int_equal(count_moved_aside(f, NULL, 0), 0);
}

static void bad_rows_are_skipped_with_an_event(void **state) {
  fixture *f = *state;
  save_sample(f);
  raw_exec(f->db,
           /* servers: bad origin, bad supports_spdy, negative srtt, text position */
           "INSERT INTO servers VALUES(10, 'not an origin', 0, 0);"
           "INSERT INTO servers VALUES(11, 'https://ok.example', 2, 0);"
           "INSERT INTO servers VALUES(12, 'https://ok2.example', 0, -1);"
           "INSERT INTO servers VALUES(13, 'ftp://x.example', 0, 0);"
           "INSERT INTO servers VALUES(14, 'https://good.example:444', 1, 9);"
           /* alternatives for good.example: fine, then one for a missing server */
           "INSERT INTO alternative_services VALUES(14, 0, 'quic', '', 443, 5, 'h3');"
           "INSERT INTO alternative_services VALUES(99, 0, 'quic', '', 443, 5, 'h3');"
           /* broken: port 70000, unknown protocol, negative count, empty host,
            * text in an integer column, is_broken 2 */
           "INSERT INTO broken_alternative_services VALUES(10, 'quic', 'a.example', 70000, 1, 1,"
           " 0);"
           "INSERT INTO broken_alternative_services VALUES(11, 'spdy/3', 'a.example', 443, 1, 1,"
           " 0);"
           "INSERT INTO broken_alternative_services VALUES(12, 'h2', 'a.example', 443, -1, 1, 0);"
           "INSERT INTO broken_alternative_services VALUES(13, 'h2', '', 443, 1, 1, 0);"
           "INSERT INTO broken_alternative_services VALUES(14, 'h2', 'a.example', 'x', 1, 1, 0);"
           "INSERT INTO broken_alternative_services VALUES(15, 'h2', 'a.example', 443, 1, 2, 0);"
           "INSERT INTO broken_alternative_services VALUES(16, 'h2', 'b.example', 443, 2, 0, 0);"
           "UPDATE supports_quic SET address = 'x' || hex(randomblob(64));");
  store *s = NULL;
  assert_int_equal(store_open(f->dir, STORE_OPEN_READ_WRITE, f->nl, &s), CRONC_OK);
  props_snapshot out;
  assert_int_equal(store_load_props(s, &out), CRONC_OK);
  store_close(s);
  /* The 4 sample servers and good.example survive; nothing was moved. */
  assert_int_equal(out.n_servers, 5);
  url_origin good = origin(URL_SCHEME_HTTPS, "good.example", 444);
  assert_true(url_origin_equal(&out.servers[4].origin, &good));
  assert_true(out.servers[4].supports_spdy);
  assert_int_equal(out.servers[4].n_alts, 1);
  assert_int_equal(out.n_broken, 4);
  assert_string_equal(out.broken[3].service.host, "b.example");
  assert_int_equal(out.broken[3].broken_count, 2);
  assert_false(out.quic_worked); /* the supports_quic row was bad */
  props_snapshot_free(&out);
  assert_int_equal(count_moved_aside(f, NULL, 0), 0);
  assert_int_equal(count_events(f, NETLOG_TYPE_CRONC_STORE_CORRUPTION_RECOVERED), 12);
  assert_non_null(find_event(f, NETLOG_TYPE_CRONC_STORE_CORRUPTION_RECOVERED, "bad port"));
  assert_non_null(find_event(f, NETLOG_TYPE_CRONC_STORE_CORRUPTION_RECOVERED, "bad protocol_str"));
  assert_non_null(find_event(f, NETLOG_TYPE_CRONC_STORE_CORRUPTION_RECOVERED, "bad broken_count"));
  assert_non_null(find_event(f, NETLOG_TYPE_CRONC_STORE_CORRUPTION_RECOVERED, "no such server"));
  assert_non_null(find_event(f, NETLOG_TYPE_CRONC_STORE_CORRUPTION_RECOVERED, "\"scope\":\"row\""));
  assert_non_null(
      find_event(f, NETLOG_TYPE_HTTP_SERVER_PROPERTIES_INITIALIZATION, "\"skipped_rows\":12"));
}

static void malformed_alternative_drops_that_servers_list(void **state) {
  fixture *f = *state;
  save_sample(f);
  /* example.com (position 0) has two good alternatives; add a bad third and
   * a bad ALPN list on www.example.org (position 3). */
  raw_exec(f->db, "INSERT INTO alternative_services VALUES(0, 2, 'quic', 'x.example', 0, 5, '');"
                  "UPDATE alternative_services SET advertised_alpns = 'h3,,h3'"
                  " WHERE server_position = 3 AND idx = 1;");
  store *s = NULL;
  assert_int_equal(store_open(f->dir, STORE_OPEN_READ_WRITE, f->nl, &s), CRONC_OK);
  props_snapshot out;
  assert_int_equal(store_load_props(s, &out), CRONC_OK);
  store_close(s);
  assert_int_equal(out.n_servers, 4);
  assert_int_equal(out.servers[0].n_alts, 0);
  assert_null(out.servers[0].alts);
  assert_true(out.servers[0].supports_spdy); /* the server itself is kept */
  assert_int_equal(out.servers[1].n_alts, 1);
  assert_int_equal(out.servers[3].n_alts, 0);
  props_snapshot_free(&out);
  assert_non_null(find_event(f, NETLOG_TYPE_CRONC_STORE_CORRUPTION_RECOVERED, "bad port"));
  assert_non_null(
      find_event(f, NETLOG_TYPE_CRONC_STORE_CORRUPTION_RECOVERED, "bad advertised_alpns"));
}

static void hosts_are_canonicalised_on_load(void **state) {
  fixture *f = *state;
  save_sample(f);
  raw_exec(f->db, "UPDATE alternative_services SET host = 'ALT.Example.COM'"
                  " WHERE host = 'alt.example.com';"
                  "UPDATE broken_alternative_services SET host = 'bad host!' WHERE position = 0;");
  store *s = NULL;
  assert_int_equal(store_open(f->dir, STORE_OPEN_READ_WRITE, f->nl, &s), CRONC_OK);
  props_snapshot out;
  assert_int_equal(store_load_props(s, &out), CRONC_OK);
  store_close(s);
  assert_string_equal(out.servers[0].alts[1].service.host, "alt.example.com");
  assert_int_equal(out.n_broken, 2);
  props_snapshot_free(&out);
}

static void second_writer_is_denied_until_the_first_closes(void **state) {
  fixture *f = *state;
  store *a = NULL, *b = NULL;
  assert_int_equal(store_open(f->dir, STORE_OPEN_READ_WRITE, f->nl, &a), CRONC_OK);
  assert_int_equal(store_open(f->dir, STORE_OPEN_READ_WRITE, f->nl, &b), CRONC_ERR_ACCESS_DENIED);
  assert_null(b);
  assert_non_null(find_event(f, NETLOG_TYPE_CRONC_STORE_OPEN, "\"net_error\":-10"));
  store_close(a);
  assert_int_equal(store_open(f->dir, STORE_OPEN_READ_WRITE, f->nl, &b), CRONC_OK);
  store_close(b);
}

static void read_only_open_of_a_missing_store_fails_and_creates_nothing(void **state) {
  fixture *f = *state;
  char dir[160];
  snprintf(dir, sizeof dir, "%s/nope", f->dir);
  store *s = (store *)1;
  assert_int_equal(store_open(dir, STORE_OPEN_READ_ONLY, f->nl, &s), CRONC_ERR_FILE_NOT_FOUND);
  assert_null(s);
  struct stat st;
  assert_int_equal(stat(dir, &st), -1);
  assert_int_equal(store_open(f->dir, STORE_OPEN_READ_ONLY, f->nl, &s), CRONC_ERR_FILE_NOT_FOUND);
  assert_int_equal(file_size(f->db), -1);
}

static void read_only_open_reads_beside_a_writer_and_refuses_writes(void **state) {
  fixture *f = *state;
  store *w = NULL, *r = NULL;
  assert_int_equal(store_open(f->dir, STORE_OPEN_READ_WRITE, f->nl, &w), CRONC_OK);
  props_snapshot in, out;
  sample_snapshot(&in);
  assert_int_equal(store_save_props(w, &in), CRONC_OK);
  assert_int_equal(store_open(f->dir, STORE_OPEN_READ_ONLY, f->nl, &r), CRONC_OK);
  assert_false(store_is_writable(r));
  assert_int_equal(store_load_props(r, &out), CRONC_OK);
  assert_snapshots_equal(&in, &out);
  props_snapshot_free(&out);
  assert_int_equal(store_save_props(r, &in), CRONC_ERR_ACCESS_DENIED);
  assert_int_equal(store_clear(r), CRONC_ERR_ACCESS_DENIED);
  props_snapshot_free(&in);
  store_close(r);
  store_close(w);
}

static void read_only_open_of_a_corrupt_file_fails_and_moves_nothing(void **state) {
  fixture *f = *state;
  write_file(f->db, "garbage garbage garbage garbage garbage garbage garbage garbage", 63);
  store *s = (store *)1;
  assert_int_equal(store_open(f->dir, STORE_OPEN_READ_ONLY, f->nl, &s), CRONC_ERR_FAILED);
  assert_null(s);
  assert_int_equal(count_moved_aside(f, NULL, 0), 0);
  assert_int_equal(file_size(f->db), 63);
  assert_int_equal(count_events(f, NETLOG_TYPE_CRONC_STORE_CORRUPTION_RECOVERED), 0);
  assert_non_null(find_event(f, NETLOG_TYPE_CRONC_STORE_OPEN, "\"reason\":"));
}

static void to_json_is_valid_json_with_chromium_names(void **state) {
  fixture *f = *state;
  save_sample(f);
  raw_exec(f->db, "INSERT INTO quic_server_info VALUES('https://example.com', x'0102', 5)");
  store *s = NULL;
  assert_int_equal(store_open(f->dir, STORE_OPEN_READ_ONLY, f->nl, &s), CRONC_OK);
  strbuf sb = STRBUF_INIT;
  assert_int_equal(store_to_json(s, &sb), CRONC_OK);
  store_close(s);
  const char *j = strbuf_cstr(&sb);
  assert_true(base_json_is_object(j, sb.len));
  static const char *const want[] = {
      "\"version\":2",
      "\"server\":\"https://example.com\"",
      "\"server\":\"https://[2001:db8::1]:8443\"",
      "\"server\":\"http://plain.example:8080\"",
      "\"supports_spdy\":true",
      "\"network_stats\":{\"srtt\":42000}",
      "\"protocol_str\":\"quic\"",
      "\"expiration_us\":9223372036854775807",
      "\"advertised_alpns\":[\"h3\",\"h3-29\"]",
      "\"broken_count\":3",
      "\"supports_quic\":{\"used_quic\":true,\"address\":\"192.0.2.7\"}",
      "\"state_bytes\":2",
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
    if (!strstr(j, want[i]))
      fail_msg("missing %s in %s", want[i], j);
  /* Servers stay least recently used first. */
  assert_true(strstr(j, "https://example.com") < strstr(j, "https://www.example.org"));

  char path[200], cmd[400];
  snprintf(path, sizeof path, "%s/dump.json", f->dir);
  write_file(path, j, sb.len);
  snprintf(cmd, sizeof cmd,
           "python3 -c 'import json,sys; d=json.load(open(sys.argv[1]));"
           " assert len(d[\"servers\"])==4 and d[\"version\"]==2' %s",
           path);
  assert_int_equal(system(cmd), 0);
  strbuf_free(&sb);
}

static void to_json_of_an_empty_store(void **state) {
  fixture *f = *state;
  store *s = NULL;
  assert_int_equal(store_open(f->dir, STORE_OPEN_READ_WRITE, NULL, &s), CRONC_OK);
  strbuf sb = STRBUF_INIT;
  assert_int_equal(store_to_json(s, &sb), CRONC_OK);
  store_close(s);
  assert_true(base_json_is_object(sb.data, sb.len));
  assert_non_null(strstr(sb.data, "\"servers\":[],\"broken_alternative_services\":[]"));
  assert_non_null(strstr(sb.data, "\"quic_servers\":[]"));
  strbuf_free(&sb);
}

static void save_caps_alpns_and_drops_unreadable_ones(void **state) {
  fixture *f = *state;
  store *s = NULL;
  assert_int_equal(store_open(f->dir, STORE_OPEN_READ_WRITE, NULL, &s), CRONC_OK);
  props_snapshot in, out;
  props_snapshot_init(&in);
  altsvc_info a = alt(ALTSVC_PROTO_QUIC, "", 443, T0, "h3", "bad,alpn");
  snprintf(a.alpns[2], sizeof a.alpns[2], "h3-29");
  a.n_alpns = 200; /* garbage count: capped at ALTSVC_MAX_ALPNS */
  add_server(&in, origin(URL_SCHEME_HTTPS, "a.example", 0), false, 0, &a, 1);
  assert_int_equal(store_save_props(s, &in), CRONC_OK);
  assert_int_equal(store_load_props(s, &out), CRONC_OK);
  store_close(s);
  assert_int_equal(out.n_servers, 1);
  assert_int_equal(out.servers[0].n_alts, 1);
  assert_int_equal(out.servers[0].alts[0].n_alpns, 2);
  assert_string_equal(out.servers[0].alts[0].alpns[0], "h3");
  assert_string_equal(out.servers[0].alts[0].alpns[1], "h3-29");
  props_snapshot_free(&out);
  props_snapshot_free(&in);
}

static void write_failure_keeps_old_contents_and_is_logged(void **state) {
  fixture *f = *state;
  save_sample(f);
  store *s = NULL;
  assert_int_equal(store_open(f->dir, STORE_OPEN_READ_WRITE, f->nl, &s), CRONC_OK);
  /* A trigger that fails every insert into servers: the save must roll back.
   * (Installed behind the store's back; a real disk error behaves alike.) */
  raw_exec(f->db, "CREATE TRIGGER t BEFORE INSERT ON servers BEGIN"
                  " SELECT RAISE(ABORT, 'disk says no'); END;");
  props_snapshot small, out;
  props_snapshot_init(&small);
  add_server(&small, origin(URL_SCHEME_HTTPS, "new.example", 0), false, 0, NULL, 0);
  assert_int_equal(store_save_props(s, &small), CRONC_ERR_FAILED);
  props_snapshot_free(&small);
  const seen_event *e = find_event(f, NETLOG_TYPE_CRONC_STORE_WRITE_FAILED, "disk says no");
  assert_non_null(e);
  assert_non_null(strstr(e->params, "\"net_error\":-2"));
  assert_int_equal(store_load_props(s, &out), CRONC_OK);
  assert_int_equal(out.n_servers, 4);
  props_snapshot_free(&out);
  store_close(s);
}

int main(void) {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
  const struct CMUnitTest tests[] = {
      T(round_trip_keeps_everything_in_order),
      T(reopen_after_close_keeps_data),
      T(save_replaces_all_rows),
      T(save_leaves_quic_tickets_alone_and_clear_empties_them),
      T(new_store_has_schema_version_wal_and_private_files),
      T(open_creates_missing_directories),
      T(open_under_a_regular_file_fails_cleanly),
      T(invalid_arguments_are_rejected),
      T(garbage_file_is_moved_aside),
      T(truncated_database_is_moved_aside),
      T(corruption_found_while_loading_is_recovered),
      T(corruption_found_while_saving_is_recovered_and_the_save_lands),
      T(foreign_database_is_moved_aside),
      T(extra_table_in_a_cronc_database_is_moved_aside),
      T(quic_states_round_trip_replace_and_delete),
      T(version_1_database_is_migrated_keeping_properties),
      T(missing_column_is_moved_aside),
      T(empty_file_is_a_new_store_not_corruption),
      T(two_recoveries_in_one_second_keep_both_files),
      T(newer_schema_is_left_alone_and_writes_refused),
      T(bad_rows_are_skipped_with_an_event),
      T(malformed_alternative_drops_that_servers_list),
      T(hosts_are_canonicalised_on_load),
      T(second_writer_is_denied_until_the_first_closes),
      T(read_only_open_of_a_missing_store_fails_and_creates_nothing),
      T(read_only_open_reads_beside_a_writer_and_refuses_writes),
      T(read_only_open_of_a_corrupt_file_fails_and_moves_nothing),
      T(to_json_is_valid_json_with_chromium_names),
      T(to_json_of_an_empty_store),
      T(save_caps_alpns_and_drops_unreadable_ones),
      T(write_failure_keeps_old_contents_and_is_logged),
  };
#undef T
  return cmocka_run_group_tests(tests, NULL, NULL);
}
