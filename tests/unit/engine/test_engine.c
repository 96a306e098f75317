/* The engine: start loads the store, changes are written in batches after a
 * delay and flushed at shutdown, a damaged store never stops it, QUIC hints
 * are validated, the network-thread rules hold, and it runs on a loop the
 * application owns. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/strbuf.h"
#include "cronc/cronc.h"
#include "engine/engine.h"
#include "http/altsvc_select.h"
#include "store/store.h"

static char *make_tmpdir(void) {
  char tmpl[] = "/tmp/cronc-engine-XXXXXX";
  char *d = mkdtemp(tmpl);
  assert_non_null(d);
  return strdup(d);
}

static void rm_tree(const char *dir) {
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  assert_int_equal(system(cmd), 0);
}

static url_origin origin_of(const char *s) {
  url_origin o;
  assert_int_equal(url_origin_from_string(s, strlen(s), &o), CRONC_OK);
  return o;
}

/* ---- tasks run on the network thread ---- */

typedef struct learn_ctx {
  engine *e;
  const char *origin;
  const char *value;
  int rv;
} learn_ctx;

static void learn_task(void *arg) {
  learn_ctx *c = arg;
  url_origin o = origin_of(c->origin);
  c->rv = props_process_alt_svc_header(engine_props(c->e), &o, c->value, strlen(c->value), true,
                                       true);
}

typedef struct count_ctx {
  engine *e;
  const char *origin;
  size_t count;
  altsvc_info first;
} count_ctx;

static void count_task(void *arg) {
  count_ctx *c = arg;
  url_origin o = origin_of(c->origin);
  altsvc_info_list l;
  altsvc_info_list_init(&l);
  assert_int_equal(props_get_alternative_service_infos(engine_props(c->e), &o, &l), CRONC_OK);
  c->count = l.count;
  if (l.count)
    c->first = l.items[0];
  altsvc_info_list_free(&l);
}

static size_t alt_count(engine *e, const char *origin, altsvc_info *first) {
  count_ctx c = {.e = e, .origin = origin};
  assert_int_equal(engine_run(e, count_task, &c), CRONC_OK);
  if (first)
    *first = c.first;
  return c.count;
}

static engine *start(const char *dir, uint32_t write_delay_ms) {
  engine_params p;
  engine_params_init(&p);
  p.storage_path = dir;
  p.store_write_delay_ms = write_delay_ms;
  engine *e = NULL;
  assert_int_equal(engine_new(&p, &e), CRONC_OK);
  return e;
}

/* Servers stored in the database right now (read-only, beside the engine). */
static size_t stored_servers(const char *dir) {
  store *s = NULL;
  if (store_open(dir, STORE_OPEN_READ_ONLY, NULL, &s) != CRONC_OK)
    return 0;
  props_snapshot snap;
  size_t n = 0;
  if (store_load_props(s, &snap) == CRONC_OK)
    n = snap.n_servers;
  props_snapshot_free(&snap);
  store_close(s);
  return n;
}

static void learned_alternatives_survive_restart(void **state) {
  (void)state;
  char *dir = make_tmpdir();
  engine *e = start(dir, 0);
  learn_ctx l = {e, "https://example.com", "h3=\":443\"; ma=3600, h2=\"alt.example.com:443\"", 0};
  assert_int_equal(engine_run(e, learn_task, &l), CRONC_OK);
  assert_int_equal(l.rv, 1);
  engine_free(e);

  e = start(dir, 0);
  altsvc_info first;
  assert_int_equal(alt_count(e, "https://example.com", &first), 2);
  assert_int_equal(first.service.protocol, ALTSVC_PROTO_QUIC);
  assert_int_equal(first.service.port, 443);
  engine_free(e);
  rm_tree(dir);
  free(dir);
}

static void writes_wait_for_the_delay_and_shutdown_flushes(void **state) {
  (void)state;
  char *dir = make_tmpdir();
  engine *e = start(dir, 60 * 1000); /* far longer than this test runs */
  learn_ctx l = {e, "https://a.example", "h3=\":443\"", 0};
  assert_int_equal(engine_run(e, learn_task, &l), CRONC_OK);
  /* The write is batched: nothing on disk yet. */
  assert_int_equal(stored_servers(dir), 0);
  engine_free(e);
  assert_int_equal(stored_servers(dir), 1);
  rm_tree(dir);
  free(dir);
}

static void batched_write_happens_without_shutdown(void **state) {
  (void)state;
  char *dir = make_tmpdir();
  engine *e = start(dir, 10);
  learn_ctx l = {e, "https://a.example", "h3=\":443\"", 0};
  assert_int_equal(engine_run(e, learn_task, &l), CRONC_OK);
  l.origin = "https://b.example";
  assert_int_equal(engine_run(e, learn_task, &l), CRONC_OK);
  /* Poll (bounded) for the timer's write; no timing is asserted. */
  size_t n = 0;
  for (int i = 0; i < 500 && n < 2; i++) {
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
    n = stored_servers(dir);
  }
  assert_int_equal(n, 2);
  engine_free(e);
  rm_tree(dir);
  free(dir);
}

static void corrupt_store_is_moved_aside_and_engine_starts(void **state) {
  (void)state;
  char *dir = make_tmpdir();
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, STORE_DB_NAME);
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  fputs("this is not an SQLite database, it is garbage; 0123456789", f);
  fclose(f);
  char nlpath[512];
  snprintf(nlpath, sizeof nlpath, "%s/netlog.json", dir);

  engine_params p;
  engine_params_init(&p);
  p.storage_path = dir;
  p.netlog_path = nlpath;
  engine *e = NULL;
  assert_int_equal(engine_new(&p, &e), CRONC_OK);
  assert_int_equal(alt_count(e, "https://example.com", NULL), 0);
  learn_ctx l = {e, "https://example.com", "h3=\":443\"", 0};
  assert_int_equal(engine_run(e, learn_task, &l), CRONC_OK);
  engine_free(e);
  assert_int_equal(stored_servers(dir), 1);

  /* The NetLog file says what happened, and the old file is kept aside. */
  char cmd[1024];
  snprintf(cmd, sizeof cmd,
           "python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); "
           "t=d[\"constants\"][\"logEventTypes\"][\"CRONC_STORE_CORRUPTION_RECOVERED\"]; "
           "sys.exit(0 if any(e[\"type\"]==t for e in d[\"events\"]) else 1)' %s",
           nlpath);
  assert_int_equal(system(cmd), 0);
  snprintf(cmd, sizeof cmd, "ls %s/%s.corrupt-* >/dev/null 2>&1", dir, STORE_DB_NAME);
  assert_int_equal(system(cmd), 0);
  rm_tree(dir);
  free(dir);
}

static void second_engine_on_same_storage_is_refused(void **state) {
  (void)state;
  char *dir = make_tmpdir();
  engine *e = start(dir, 0);
  engine_params p;
  engine_params_init(&p);
  p.storage_path = dir;
  engine *e2 = NULL;
  assert_int_equal(engine_new(&p, &e2), CRONC_ERR_ACCESS_DENIED);
  assert_null(e2);
  engine_free(e);
  /* Free again once the first one is gone. */
  assert_int_equal(engine_new(&p, &e2), CRONC_OK);
  engine_free(e2);
  rm_tree(dir);
  free(dir);
}

static void quic_hints_valid_added_invalid_skipped(void **state) {
  (void)state;
  engine_quic_hint hints[] = {
      {"hinted.example", 443, 8443},
      {"bad host", 443, 443}, /* invalid: skipped, not fatal */
      {"", 443, 443},
      {"ok.example", 0, 443},
  };
  engine_params p;
  engine_params_init(&p);
  p.quic_hints = hints;
  p.n_quic_hints = 4;
  engine *e = NULL;
  assert_int_equal(engine_new(&p, &e), CRONC_OK);
  altsvc_info first;
  assert_int_equal(alt_count(e, "https://hinted.example", &first), 1);
  assert_int_equal(first.service.protocol, ALTSVC_PROTO_QUIC);
  assert_int_equal(first.service.port, 8443);
  assert_true(first.expiration_us == BASE_TIME_MAX);
  assert_int_equal(alt_count(e, "https://ok.example", NULL), 0);
  engine_free(e);
}

typedef struct shutdown_ctx {
  engine *e;
  int rv;
} shutdown_ctx;

static void shutdown_task(void *arg) {
  shutdown_ctx *c = arg;
  c->rv = engine_shutdown(c->e);
}

static void shutdown_from_network_thread_is_refused(void **state) {
  (void)state;
  engine_params p;
  engine_params_init(&p);
  engine *e = NULL;
  assert_int_equal(engine_new(&p, &e), CRONC_OK);
  shutdown_ctx c = {e, 0};
  assert_int_equal(engine_run(e, shutdown_task, &c), CRONC_OK);
  assert_int_equal(c.rv, CRONC_ERR_INVALID_ARGUMENT);
  assert_int_equal(engine_shutdown(e), CRONC_OK);
  assert_int_equal(engine_shutdown(e), CRONC_OK); /* idempotent */
  engine_free(e);
}

static void engine_runs_on_application_loop(void **state) {
  (void)state;
  char *dir = make_tmpdir();
  uv_loop_t loop;
  assert_int_equal(uv_loop_init(&loop), 0);
  engine_params p;
  engine_params_init(&p);
  p.loop = &loop;
  p.storage_path = dir;
  engine *e = NULL;
  assert_int_equal(engine_new(&p, &e), CRONC_OK);
  learn_ctx l = {e, "https://loop.example", "h3=\":443\"", 0};
  assert_int_equal(engine_run(e, learn_task, &l), CRONC_OK); /* inline on this thread */
  assert_int_equal(l.rv, 1);
  uv_run(&loop, UV_RUN_NOWAIT);
  engine_free(e);
  uv_run(&loop, UV_RUN_DEFAULT); /* lets libuv finish closing the engine's handles */
  assert_int_equal(uv_loop_close(&loop), 0);
  assert_int_equal(stored_servers(dir), 1);
  rm_tree(dir);
  free(dir);
}

typedef struct broken_ctx {
  engine *e;
  bool broken;
  size_t alts;
} broken_ctx;

static void mark_task(void *arg) {
  broken_ctx *c = arg;
  altsvc_service s = {.protocol = ALTSVC_PROTO_QUIC, .port = 443};
  strcpy(s.host, "exp.example");
  props_mark_alternative_service_broken(engine_props(c->e), &s);
}

static void probe_task(void *arg) {
  broken_ctx *c = arg;
  altsvc_service s = {.protocol = ALTSVC_PROTO_QUIC, .port = 443};
  strcpy(s.host, "exp.example");
  c->broken = broken_altsvc_is_broken(props_broken(engine_props(c->e)), &s, NULL);
  /* Read the map without going through props' own lazy expiry: the timer
   * must have removed the alternative by itself. */
  props_snapshot snap;
  props_snapshot_init(&snap);
  assert_int_equal(props_take_snapshot(engine_props(c->e), &snap), CRONC_OK);
  c->alts = 0;
  for (size_t i = 0; i < snap.n_servers; i++)
    c->alts += snap.servers[i].n_alts;
  props_snapshot_free(&snap);
}

static void expiry_timer_removes_expired_broken_alternative(void **state) {
  (void)state;
  engine_params p;
  engine_params_init(&p);
  p.broken_initial_delay_us = 1 * BASE_US_PER_SEC; /* the minimum Chromium allows */
  engine *e = NULL;
  assert_int_equal(engine_new(&p, &e), CRONC_OK);
  learn_ctx l = {e, "https://exp.example", "h3=\":443\"", 0};
  assert_int_equal(engine_run(e, learn_task, &l), CRONC_OK);
  broken_ctx c = {.e = e};
  assert_int_equal(engine_run(e, mark_task, &c), CRONC_OK);
  assert_int_equal(engine_run(e, probe_task, &c), CRONC_OK);
  assert_true(c.broken);
  assert_int_equal(c.alts, 1);
  for (int i = 0; i < 500 && c.alts > 0; i++) {
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
    assert_int_equal(engine_run(e, probe_task, &c), CRONC_OK);
  }
  assert_false(c.broken);
  assert_int_equal(c.alts, 0); /* must be re-advertised before it is used again */
  engine_free(e);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(learned_alternatives_survive_restart),
      cmocka_unit_test(writes_wait_for_the_delay_and_shutdown_flushes),
      cmocka_unit_test(batched_write_happens_without_shutdown),
      cmocka_unit_test(corrupt_store_is_moved_aside_and_engine_starts),
      cmocka_unit_test(second_engine_on_same_storage_is_refused),
      cmocka_unit_test(quic_hints_valid_added_invalid_skipped),
      cmocka_unit_test(shutdown_from_network_thread_is_refused),
      cmocka_unit_test(engine_runs_on_application_loop),
      cmocka_unit_test(expiry_timer_removes_expired_broken_alternative),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
