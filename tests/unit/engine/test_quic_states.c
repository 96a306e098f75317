/* Tests for engine/quic_states: the 0-RTT state per server id kept for the
 * QUIC session pool and written to the store in batches. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cronc/cronc.h"
#include "engine/quic_states.h"

typedef struct fixture {
  char dir[64];
  base_manual_clock clock;
  int changes;
} fixture;

static void on_changed(void *ud) { ((fixture *)ud)->changes++; }

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(path);
}

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  snprintf(f->dir, sizeof f->dir, "/tmp/cronc-qs-XXXXXX");
  assert_non_null(mkdtemp(f->dir));
  base_manual_clock_init(&f->clock, 1700000000000000);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
  free(f);
  return 0;
}

static void server_id_follows_chromium(void **state) {
  (void)state;
  char id[128];
  assert_true(engine_quic_server_id("example.com", 443, false, id, sizeof id));
  assert_string_equal(id, "https://example.com:443");
  assert_true(engine_quic_server_id("example.com", 8443, true, id, sizeof id));
  assert_string_equal(id, "https://example.com:8443/private");
  assert_true(engine_quic_server_id("::1", 443, false, id, sizeof id));
  assert_string_equal(id, "https://[::1]:443");
  assert_false(engine_quic_server_id("example.com", 443, false, id, 10));
}

static void saved_state_is_loaded_back_and_survives_a_store_reopen(void **state) {
  fixture *f = *state;
  engine_quic_states *q = engine_quic_states_new(&f->clock.base, on_changed, f);
  quic_ticket_store ts = engine_quic_states_ticket_store(q);
  uint8_t *blob = NULL;
  size_t len = 0;
  assert_false(ts.load(ts.ud, "a.example", 443, false, &blob, &len));
  static const uint8_t t1[] = {1, 2, 3};
  ts.save(ts.ud, "a.example", 443, false, t1, sizeof t1);
  assert_int_equal(f->changes, 1);
  assert_true(engine_quic_states_dirty(q));
  assert_true(ts.load(ts.ud, "a.example", 443, false, &blob, &len));
  assert_int_equal(len, 3);
  assert_memory_equal(blob, t1, 3);
  free(blob);
  /* Privacy mode is another server id. */
  assert_false(ts.load(ts.ud, "a.example", 443, true, &blob, &len));

  store *s = NULL;
  assert_int_equal(store_open(f->dir, STORE_OPEN_READ_WRITE, NULL, &s), CRONC_OK);
  assert_int_equal(engine_quic_states_flush(q, s), CRONC_OK);
  assert_false(engine_quic_states_dirty(q));
  store_close(s);
  engine_quic_states_free(q);

  assert_int_equal(store_open(f->dir, STORE_OPEN_READ_WRITE, NULL, &s), CRONC_OK);
  q = engine_quic_states_new(&f->clock.base, NULL, NULL);
  assert_int_equal(engine_quic_states_load(q, s), CRONC_OK);
  ts = engine_quic_states_ticket_store(q);
  assert_true(ts.load(ts.ud, "a.example", 443, false, &blob, &len));
  assert_memory_equal(blob, t1, 3);
  free(blob);
  assert_false(engine_quic_states_dirty(q));
  store_close(s);
  engine_quic_states_free(q);
}

static void the_oldest_state_is_dropped_at_the_bound_and_deleted_on_flush(void **state) {
  fixture *f = *state;
  engine_quic_states *q = engine_quic_states_new(&f->clock.base, NULL, NULL);
  quic_ticket_store ts = engine_quic_states_ticket_store(q);
  static const uint8_t t[] = {7};
  char host[32];
  store *s = NULL;
  assert_int_equal(store_open(f->dir, STORE_OPEN_READ_WRITE, NULL, &s), CRONC_OK);
  for (int i = 0; i < ENGINE_QUIC_STATES_MAX; i++) {
    snprintf(host, sizeof host, "h%d.example", i);
    ts.save(ts.ud, host, 443, false, t, 1);
    base_manual_clock_advance(&f->clock, 1000);
  }
  assert_int_equal(engine_quic_states_flush(q, s), CRONC_OK);
  ts.save(ts.ud, "new.example", 443, false, t, 1);
  assert_int_equal(engine_quic_states_count(q), ENGINE_QUIC_STATES_MAX);
  uint8_t *blob;
  size_t len;
  assert_false(ts.load(ts.ud, "h0.example", 443, false, &blob, &len));
  assert_true(ts.load(ts.ud, "h1.example", 443, false, &blob, &len));
  free(blob);
  assert_int_equal(engine_quic_states_flush(q, s), CRONC_OK);
  engine_quic_states_free(q);
  q = engine_quic_states_new(&f->clock.base, NULL, NULL);
  assert_int_equal(engine_quic_states_load(q, s), CRONC_OK);
  ts = engine_quic_states_ticket_store(q);
  assert_int_equal(engine_quic_states_count(q), ENGINE_QUIC_STATES_MAX);
  assert_false(ts.load(ts.ud, "h0.example", 443, false, &blob, &len));
  assert_true(ts.load(ts.ud, "new.example", 443, false, &blob, &len));
  free(blob);
  engine_quic_states_free(q);
  store_close(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(server_id_follows_chromium),
      cmocka_unit_test_setup_teardown(saved_state_is_loaded_back_and_survives_a_store_reopen, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(the_oldest_state_is_dropped_at_the_bound_and_deleted_on_flush,
                                      setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
