/* Tests for http/broken_alternative_services: Chromium's cases D1-D15
 * (CHROMIUM_ALTSVC.md §2.D), the recently-broken LRU, expiry and
 * persistence. Time is a base_manual_clock; nothing sleeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/netlog.h"
#include "cronc/cronc.h"
#include "http/broken_alternative_services.h"

#define SEC        BASE_US_PER_SEC
#define MIN        (60 * SEC)
#define WALL_START (INT64_C(1700000000) * SEC)

#define MAX_EXPIRED 300

typedef struct fixture {
  base_manual_clock clock;
  broken_altsvc *b;
  size_t n_expired;
  altsvc_service expired[MAX_EXPIRED];
  /* Filled by the callback when query_in_callback is set. */
  bool query_in_callback;
  bool cb_saw_broken;
  bool cb_saw_recently_broken;
} fixture;

static void on_expired(const altsvc_service *s, void *user_data) {
  fixture *f = user_data;
  if (f->query_in_callback) {
    f->cb_saw_broken = broken_altsvc_is_broken(f->b, s, NULL);
    f->cb_saw_recently_broken = broken_altsvc_was_recently_broken(f->b, s);
  }
  if (f->n_expired < MAX_EXPIRED)
    f->expired[f->n_expired] = *s;
  f->n_expired++;
}

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  if (!f)
    return -1;
  base_manual_clock_init(&f->clock, WALL_START);
  f->b = broken_altsvc_new(&f->clock.base, NULL, on_expired, f);
  if (!f->b) {
    free(f);
    return -1;
  }
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  broken_altsvc_free(f->b);
  free(f);
  return 0;
}

static altsvc_service svc(altsvc_protocol p, const char *host, uint16_t port) {
  altsvc_service s;
  memset(&s, 0, sizeof s);
  s.protocol = p;
  s.port = port;
  snprintf(s.host, sizeof s.host, "%s", host);
  return s;
}

static altsvc_service quic(const char *host, uint16_t port) {
  return svc(ALTSVC_PROTO_QUIC, host, port);
}

static altsvc_service numbered(int i) {
  char host[64];
  snprintf(host, sizeof host, "h%d.example", i);
  return quic(host, 443);
}

static int64_t ticks(fixture *f) { return f->clock.ticks_us; }
static void advance(fixture *f, int64_t us) { base_manual_clock_advance(&f->clock, us); }

/* Marks s, returns the delay it got (expiry - now); fails if s was broken. */
static int64_t mark_and_delay(fixture *f, const altsvc_service *s, bool until_nc) {
  int64_t exp = 0;
  assert_false(broken_altsvc_is_broken(f->b, s, NULL));
  if (until_nc)
    broken_altsvc_mark_broken_until_default_network_changes(f->b, s);
  else
    broken_altsvc_mark_broken(f->b, s);
  assert_true(broken_altsvc_is_broken(f->b, s, &exp));
  return exp - ticks(f);
}

/* Lets the current brokenness of s run out and expire. */
static void wait_out(fixture *f, const altsvc_service *s) {
  int64_t exp = 0;
  assert_true(broken_altsvc_is_broken(f->b, s, &exp));
  advance(f, exp - ticks(f) - 1);
  assert_true(broken_altsvc_is_broken(f->b, s, NULL));
  advance(f, 1);
  assert_false(broken_altsvc_is_broken(f->b, s, NULL));
  broken_altsvc_expire(f->b);
}

/* ---- the delay formula ------------------------------------------------------ */

static void test_compute_delay_matches_chromium_formula(void **state) {
  (void)state;
  int64_t max = BROKEN_ALTSVC_MAX_DELAY_US;
  assert_int_equal(broken_altsvc_compute_delay(0, 300 * SEC, max, true), 300 * SEC);
  assert_int_equal(broken_altsvc_compute_delay(1, 300 * SEC, max, true), 600 * SEC);
  assert_int_equal(broken_altsvc_compute_delay(9, 300 * SEC, max, true), 153600 * SEC);
  assert_int_equal(broken_altsvc_compute_delay(10, 300 * SEC, max, true), max);
  /* Non-exponential: the initial delay only for the first break. */
  assert_int_equal(broken_altsvc_compute_delay(0, 5 * SEC, max, false), 5 * SEC);
  assert_int_equal(broken_altsvc_compute_delay(1, 5 * SEC, max, false), 300 * SEC);
  assert_int_equal(broken_altsvc_compute_delay(3, 5 * SEC, max, false), 1200 * SEC);
  /* The shift stops at 18; a negative count acts as 0; negative max as 0. */
  assert_int_equal(broken_altsvc_compute_delay(18, SEC, INT64_MAX, true), 262144 * SEC);
  assert_int_equal(broken_altsvc_compute_delay(1000, SEC, INT64_MAX, true), 262144 * SEC);
  assert_int_equal(broken_altsvc_compute_delay(INT32_MAX, 300 * SEC, INT64_MAX, false), (300 * SEC)
                                                                                            << 17);
  assert_int_equal(broken_altsvc_compute_delay(-3, 7 * SEC, max, true), 7 * SEC);
  assert_int_equal(broken_altsvc_compute_delay(2, 7 * SEC, -1, true), 0);
}

/* D6: TestExponentialBackoff(1 s, true) for counts 1..19. */
static void test_d6_backoff_one_second_capped_at_two_days(void **state) {
  (void)state;
  for (int count = 1; count <= 19; count++) {
    int shift = count < 18 ? count : 18;
    int64_t want = SEC << shift;
    if (want > BROKEN_ALTSVC_MAX_DELAY_US)
      want = BROKEN_ALTSVC_MAX_DELAY_US;
    assert_int_equal(broken_altsvc_compute_delay(count, SEC, BROKEN_ALTSVC_MAX_DELAY_US, true),
                     want);
  }
  assert_int_equal(broken_altsvc_compute_delay(18, SEC, BROKEN_ALTSVC_MAX_DELAY_US, true),
                   172800 * SEC);
}

/* D6 through the tracker: marks 1..20 each after the previous expired. */
static void test_d6_marks_with_one_second_initial_delay(void **state) {
  fixture *f = *state;
  altsvc_service s = quic("foo.example", 443);
  broken_altsvc_set_delay_params(f->b, SEC, true);
  for (int k = 0; k < 20; k++) {
    int shift = k < 18 ? k : 18;
    int64_t want = SEC << shift;
    if (want > BROKEN_ALTSVC_MAX_DELAY_US)
      want = BROKEN_ALTSVC_MAX_DELAY_US;
    assert_int_equal(mark_and_delay(f, &s, false), want);
    wait_out(f, &s);
  }
}

/* ---- D1-D15 -------------------------------------------------------------- */

static void test_d1_broken_for_300s_then_recently_broken_and_expired(void **state) {
  fixture *f = *state;
  altsvc_service s = quic("foo.example", 443);
  broken_altsvc_mark_broken(f->b, &s);
  assert_true(broken_altsvc_is_broken(f->b, &s, NULL));
  assert_true(broken_altsvc_was_recently_broken(f->b, &s));

  advance(f, 300 * SEC - 1);
  assert_true(broken_altsvc_is_broken(f->b, &s, NULL));
  assert_int_equal(broken_altsvc_expire(f->b), 0);
  assert_int_equal(f->n_expired, 0);

  advance(f, 1);
  assert_false(broken_altsvc_is_broken(f->b, &s, NULL));
  assert_true(broken_altsvc_was_recently_broken(f->b, &s));
  assert_int_equal(broken_altsvc_expire(f->b), 1);
  assert_int_equal(f->n_expired, 1);
  assert_true(altsvc_service_equal(&f->expired[0], &s));
  assert_false(broken_altsvc_is_broken(f->b, &s, NULL));
  assert_true(broken_altsvc_was_recently_broken(f->b, &s));
  assert_int_equal(broken_altsvc_broken_count(f->b, &s), 1);
  assert_int_equal(broken_altsvc_expire(f->b), 0);
  assert_int_equal(f->n_expired, 1);
}

/* D2: ExponentialBackoff. */
static void test_d2_default_sequence_in_minutes(void **state) {
  fixture *f = *state;
  static const int64_t minutes[] = {5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560, 2880, 2880};
  altsvc_service s = quic("foo.example", 443);
  for (size_t k = 0; k < sizeof minutes / sizeof minutes[0]; k++) {
    assert_int_equal(mark_and_delay(f, &s, false), minutes[k] * MIN);
    assert_int_equal(broken_altsvc_broken_count(f->b, &s), (int)k + 1);
    wait_out(f, &s);
    assert_int_equal(f->n_expired, k + 1);
  }
}

/* D3: IsBroken reports the expiry. */
static void test_d3_is_broken_reports_expiry(void **state) {
  fixture *f = *state;
  altsvc_service s = quic("foo.example", 443);
  int64_t exp = -1;
  assert_false(broken_altsvc_is_broken(f->b, &s, &exp));
  assert_int_equal(exp, -1); /* untouched when not broken */
  broken_altsvc_mark_broken(f->b, &s);
  assert_true(broken_altsvc_is_broken(f->b, &s, &exp));
  assert_int_equal(exp, ticks(f) + 5 * MIN);
  advance(f, 5 * MIN);
  broken_altsvc_expire(f->b);
  broken_altsvc_mark_broken(f->b, &s);
  assert_true(broken_altsvc_is_broken(f->b, &s, &exp));
  assert_int_equal(exp, ticks(f) + 10 * MIN);
}

/* D4: SetBrokenAlternativeServicesDelayParams1. */
static void test_d4_delay_params_1s_exponential(void **state) {
  fixture *f = *state;
  altsvc_service s = quic("foo.example", 443);
  broken_altsvc_set_delay_params(f->b, SEC, true);
  for (int k = 0; k < 10; k++) {
    assert_int_equal(mark_and_delay(f, &s, false), SEC << k);
    wait_out(f, &s);
  }
}

/* D5: SetBrokenAlternativeServicesDelayParams2. */
static void test_d5_delay_params_5s_not_exponential(void **state) {
  fixture *f = *state;
  altsvc_service s = quic("foo.example", 443);
  broken_altsvc_set_delay_params(f->b, 5 * SEC, false);
  for (int k = 0; k < 10; k++) {
    int64_t want = k == 0 ? 5 * SEC : (300 * SEC) << (k - 1);
    assert_int_equal(mark_and_delay(f, &s, false), want);
    wait_out(f, &s);
  }
}

/* D7: BrokenUntilDefaultNetworkChangeWithExponentialBackoff. */
static void test_d7_until_network_change_backoff_reset_by_change(void **state) {
  fixture *f = *state;
  altsvc_service s = quic("foo.example", 443);
  assert_int_equal(mark_and_delay(f, &s, true), 300 * SEC);
  wait_out(f, &s);
  assert_int_equal(mark_and_delay(f, &s, true), 600 * SEC);
  wait_out(f, &s);
  assert_true(broken_altsvc_was_recently_broken(f->b, &s));

  assert_true(broken_altsvc_on_default_network_changed(f->b));
  assert_false(broken_altsvc_is_broken(f->b, &s, NULL));
  assert_false(broken_altsvc_was_recently_broken(f->b, &s));
  assert_int_equal(broken_altsvc_broken_count(f->b, &s), 0);

  assert_int_equal(mark_and_delay(f, &s, true), 300 * SEC);
  /* While still broken, a network change clears it at once. */
  assert_true(broken_altsvc_on_default_network_changed(f->b));
  assert_false(broken_altsvc_is_broken(f->b, &s, NULL));
  assert_false(broken_altsvc_was_recently_broken(f->b, &s));
  assert_int_equal(broken_altsvc_next_expiry(f->b), INT64_MAX);
  assert_false(broken_altsvc_on_default_network_changed(f->b));
}

/* D8: BrokenAfterBrokenOnDefaultNetwork. */
static void test_d8_plain_mark_removes_until_network_change(void **state) {
  fixture *f = *state;
  altsvc_service s = quic("foo.example", 443);
  assert_int_equal(mark_and_delay(f, &s, true), 300 * SEC);
  wait_out(f, &s);
  assert_int_equal(mark_and_delay(f, &s, false), 600 * SEC);
  advance(f, 599 * SEC);
  assert_false(broken_altsvc_on_default_network_changed(f->b));
  assert_true(broken_altsvc_is_broken(f->b, &s, NULL));
  assert_true(broken_altsvc_was_recently_broken(f->b, &s));
  advance(f, SEC - 1);
  assert_true(broken_altsvc_is_broken(f->b, &s, NULL));
  advance(f, 1);
  assert_false(broken_altsvc_is_broken(f->b, &s, NULL));
  assert_int_equal(broken_altsvc_expire(f->b), 1);
  assert_true(broken_altsvc_was_recently_broken(f->b, &s));
}

/* D9: BrokenOnDefaultNetworkAfterBroken. */
static void test_d9_until_network_change_after_plain_mark(void **state) {
  fixture *f = *state;
  altsvc_service s = quic("foo.example", 443);
  assert_int_equal(mark_and_delay(f, &s, false), 300 * SEC);
  wait_out(f, &s);
  assert_int_equal(mark_and_delay(f, &s, true), 600 * SEC);
  wait_out(f, &s); /* expires at 600 s */
  assert_int_equal(f->n_expired, 2);
  assert_true(broken_altsvc_was_recently_broken(f->b, &s));
  assert_true(broken_altsvc_on_default_network_changed(f->b));
  assert_false(broken_altsvc_is_broken(f->b, &s, NULL));
  assert_false(broken_altsvc_was_recently_broken(f->b, &s));
}

/* D10: MarkRecentlyBroken. */
static void test_d10_mark_recently_broken_then_confirm(void **state) {
  fixture *f = *state;
  altsvc_service s = quic("foo.example", 443);
  assert_false(broken_altsvc_was_recently_broken(f->b, &s));
  broken_altsvc_mark_recently_broken(f->b, &s);
  assert_false(broken_altsvc_is_broken(f->b, &s, NULL));
  assert_true(broken_altsvc_was_recently_broken(f->b, &s));
  assert_int_equal(broken_altsvc_broken_count(f->b, &s), 1);
  assert_int_equal(broken_altsvc_next_expiry(f->b), INT64_MAX);
  /* Marking again does not bump the count. */
  broken_altsvc_mark_recently_broken(f->b, &s);
  assert_int_equal(broken_altsvc_broken_count(f->b, &s), 1);
  broken_altsvc_confirm(f->b, &s);
  assert_false(broken_altsvc_is_broken(f->b, &s, NULL));
  assert_false(broken_altsvc_was_recently_broken(f->b, &s));
}

/* A recently-broken service's next break uses its count (k-th mark, k-1). */
static void test_mark_broken_after_recently_broken_uses_count(void **state) {
  fixture *f = *state;
  altsvc_service s = quic("foo.example", 443);
  broken_altsvc_mark_recently_broken(f->b, &s);
  assert_int_equal(mark_and_delay(f, &s, false), 600 * SEC);
  assert_int_equal(broken_altsvc_broken_count(f->b, &s), 2);
  /* mark_recently_broken on a broken service changes nothing but recency. */
  broken_altsvc_mark_recently_broken(f->b, &s);
  assert_int_equal(broken_altsvc_broken_count(f->b, &s), 2);
  assert_true(broken_altsvc_is_broken(f->b, &s, NULL));
}

/* D11: OnDefaultNetworkChanged. */
static void test_d11_network_change_confirms_only_until_change_entries(void **state) {
  fixture *f = *state;
  altsvc_service a1 = quic("a1.example", 443);
  altsvc_service a2 = quic("a2.example", 443);
  altsvc_service a3 = quic("a3.example", 443);
  broken_altsvc_mark_broken_until_default_network_changes(f->b, &a1);
  wait_out(f, &a1); /* a1 expired but still "until network change" */
  broken_altsvc_mark_broken_until_default_network_changes(f->b, &a2);
  broken_altsvc_mark_broken(f->b, &a3);
  assert_true(broken_altsvc_was_recently_broken(f->b, &a1));
  assert_true(broken_altsvc_is_broken(f->b, &a2, NULL));
  assert_true(broken_altsvc_is_broken(f->b, &a3, NULL));

  assert_true(broken_altsvc_on_default_network_changed(f->b));
  assert_false(broken_altsvc_is_broken(f->b, &a1, NULL));
  assert_false(broken_altsvc_was_recently_broken(f->b, &a1));
  assert_false(broken_altsvc_is_broken(f->b, &a2, NULL));
  assert_false(broken_altsvc_was_recently_broken(f->b, &a2));
  assert_true(broken_altsvc_is_broken(f->b, &a3, NULL));
  assert_true(broken_altsvc_was_recently_broken(f->b, &a3));
  /* Nothing left to change. */
  assert_false(broken_altsvc_on_default_network_changed(f->b));
  /* a2 was removed from the list: only a3 expires, no callback for a2. */
  advance(f, 300 * SEC);
  assert_int_equal(broken_altsvc_expire(f->b), 1);
  assert_true(altsvc_service_equal(&f->expired[f->n_expired - 1], &a3));
}

/* D12 (NAKs are not modelled): services differing only in host, port or
 * protocol have independent state. */
static void test_d12_distinct_services_are_independent(void **state) {
  fixture *f = *state;
  altsvc_service base = quic("foo.example", 443);
  altsvc_service other_port = quic("foo.example", 444);
  altsvc_service other_host = quic("bar.example", 443);
  altsvc_service other_proto = svc(ALTSVC_PROTO_HTTP2, "foo.example", 443);
  broken_altsvc_mark_broken(f->b, &base);
  wait_out(f, &base);
  broken_altsvc_mark_broken(f->b, &base); /* count 2 -> 600 s */
  broken_altsvc_mark_recently_broken(f->b, &other_host);

  assert_true(broken_altsvc_is_broken(f->b, &base, NULL));
  assert_false(broken_altsvc_is_broken(f->b, &other_port, NULL));
  assert_false(broken_altsvc_was_recently_broken(f->b, &other_port));
  assert_false(broken_altsvc_is_broken(f->b, &other_proto, NULL));
  assert_false(broken_altsvc_was_recently_broken(f->b, &other_proto));
  assert_false(broken_altsvc_is_broken(f->b, &other_host, NULL));
  assert_true(broken_altsvc_was_recently_broken(f->b, &other_host));

  assert_int_equal(mark_and_delay(f, &other_proto, false), 300 * SEC);
  broken_altsvc_confirm(f->b, &other_proto);
  assert_true(broken_altsvc_is_broken(f->b, &base, NULL));
  assert_int_equal(broken_altsvc_broken_count(f->b, &base), 2);
}

/* D13: the equivalent of InitialDelayFinchFlag ("10s"). */
static void test_d13_initial_delay_10s(void **state) {
  fixture *f = *state;
  altsvc_service s = quic("foo.example", 443);
  broken_altsvc_set_delay_params(f->b, 10 * SEC, true);
  assert_int_equal(mark_and_delay(f, &s, false), 10 * SEC);
  wait_out(f, &s);
  assert_int_equal(mark_and_delay(f, &s, false), 20 * SEC);
}

/* D14: the equivalent of MaxDelayFinchFlag ("100s"). */
static void test_d14_max_delay_100s(void **state) {
  fixture *f = *state;
  altsvc_service s = quic("foo.example", 443);
  broken_altsvc_set_max_delay(f->b, 100 * SEC);
  /* The cap applies to the first break too. */
  assert_int_equal(mark_and_delay(f, &s, false), 100 * SEC);
  advance(f, 300 * SEC);
  broken_altsvc_expire(f->b);
  assert_int_equal(mark_and_delay(f, &s, false), 100 * SEC);

  broken_altsvc_set_max_delay(f->b, 400 * SEC);
  altsvc_service t = quic("bar.example", 443);
  assert_int_equal(mark_and_delay(f, &t, false), 300 * SEC);
  wait_out(f, &t);
  assert_int_equal(mark_and_delay(f, &t, false), 400 * SEC);
}

/* D15: configured initial delays outside [1 s, 300 s] are clamped. */
static void test_d15_initial_delay_clamped(void **state) {
  fixture *f = *state;
  altsvc_service s = quic("foo.example", 443);
  broken_altsvc_set_delay_params(f->b, SEC / 2, true);
  assert_int_equal(mark_and_delay(f, &s, false), SEC);
  broken_altsvc_confirm(f->b, &s);
  broken_altsvc_set_delay_params(f->b, 900 * SEC, true);
  assert_int_equal(mark_and_delay(f, &s, false), 300 * SEC);
  broken_altsvc_confirm(f->b, &s);
  broken_altsvc_set_delay_params(f->b, -5, false);
  assert_int_equal(mark_and_delay(f, &s, false), SEC);
  assert_int_equal(broken_altsvc_compute_delay(0, SEC / 2, INT64_MAX, true), SEC);
  assert_int_equal(broken_altsvc_compute_delay(0, 900 * SEC, INT64_MAX, true), 300 * SEC);
}

/* ---- marking details ------------------------------------------------------ */

static void test_mark_already_broken_keeps_expiry_bumps_count(void **state) {
  fixture *f = *state;
  altsvc_service s = quic("foo.example", 443);
  int64_t exp1 = 0, exp2 = 0;
  broken_altsvc_mark_broken(f->b, &s);
  assert_true(broken_altsvc_is_broken(f->b, &s, &exp1));
  advance(f, 100 * SEC);
  broken_altsvc_mark_broken(f->b, &s);
  broken_altsvc_mark_broken_until_default_network_changes(f->b, &s);
  assert_true(broken_altsvc_is_broken(f->b, &s, &exp2));
  assert_int_equal(exp1, exp2);
  assert_int_equal(broken_altsvc_broken_count(f->b, &s), 3);
  /* After it expires, the 4th mark uses count 3: 2400 s. */
  advance(f, 200 * SEC);
  broken_altsvc_expire(f->b);
  assert_int_equal(mark_and_delay(f, &s, false), 2400 * SEC);
}

static void test_stale_entry_gets_fresh_expiry_before_expire_ran(void **state) {
  fixture *f = *state;
  altsvc_service s = quic("foo.example", 443);
  broken_altsvc_mark_broken(f->b, &s);
  advance(f, 300 * SEC); /* no expire() */
  assert_false(broken_altsvc_is_broken(f->b, &s, NULL));
  assert_int_equal(mark_and_delay(f, &s, false), 600 * SEC);
  assert_int_equal(broken_altsvc_next_expiry(f->b), ticks(f) + 600 * SEC);
  assert_int_equal(broken_altsvc_expire(f->b), 0);
  assert_int_equal(f->n_expired, 0);
}

static void test_is_broken_false_after_time_passes_before_expire(void **state) {
  fixture *f = *state;
  altsvc_service s = quic("foo.example", 443);
  broken_altsvc_mark_broken(f->b, &s);
  int64_t due = broken_altsvc_next_expiry(f->b);
  advance(f, 301 * SEC);
  assert_false(broken_altsvc_is_broken(f->b, &s, NULL));
  assert_true(broken_altsvc_was_recently_broken(f->b, &s));
  /* Still queued (the owner's timer is late), and due in the past. */
  assert_int_equal(broken_altsvc_next_expiry(f->b), due);
  assert_true(due <= ticks(f));
  assert_int_equal(f->n_expired, 0);
}

static void test_expire_calls_back_in_expiry_order(void **state) {
  fixture *f = *state;
  altsvc_service a = quic("a.example", 443);
  altsvc_service b = quic("b.example", 443);
  altsvc_service c = quic("c.example", 443);
  altsvc_service d = quic("d.example", 443);
  altsvc_service e = quic("e.example", 443);
  /* c: count 1 -> 600 s from t0. */
  broken_altsvc_mark_recently_broken(f->b, &c);
  broken_altsvc_mark_broken(f->b, &c);
  broken_altsvc_mark_broken(f->b, &a); /* 300 s from t0 */
  broken_altsvc_mark_broken(f->b, &e); /* 300 s from t0, marked after a */
  advance(f, 10 * SEC);
  broken_altsvc_mark_broken(f->b, &b); /* 310 s */
  broken_altsvc_set_delay_params(f->b, 2 * SEC, true);
  broken_altsvc_mark_broken(f->b, &d); /* 12 s */
  assert_int_equal(broken_altsvc_next_expiry(f->b), ticks(f) + 2 * SEC);

  advance(f, 1000 * SEC);
  assert_int_equal(broken_altsvc_expire(f->b), 5);
  assert_int_equal(f->n_expired, 5);
  const altsvc_service *order[] = {&d, &a, &e, &b, &c};
  for (size_t i = 0; i < 5; i++)
    assert_true(altsvc_service_equal(&f->expired[i], order[i]));
  assert_int_equal(broken_altsvc_next_expiry(f->b), INT64_MAX);
  for (size_t i = 0; i < 5; i++)
    assert_true(broken_altsvc_was_recently_broken(f->b, order[i]));
}

static void test_expire_only_due_entries_stepwise(void **state) {
  fixture *f = *state;
  altsvc_service a = quic("a.example", 443);
  altsvc_service b = quic("b.example", 443);
  broken_altsvc_mark_broken(f->b, &a);
  advance(f, 100 * SEC);
  broken_altsvc_mark_broken(f->b, &b);
  advance(f, 200 * SEC);
  assert_int_equal(broken_altsvc_expire(f->b), 1);
  assert_true(altsvc_service_equal(&f->expired[0], &a));
  assert_true(broken_altsvc_is_broken(f->b, &b, NULL));
  assert_int_equal(broken_altsvc_next_expiry(f->b), ticks(f) + 100 * SEC);
  advance(f, 100 * SEC);
  assert_int_equal(broken_altsvc_expire(f->b), 1);
  assert_true(altsvc_service_equal(&f->expired[1], &b));
}

static void test_expire_callback_sees_final_state(void **state) {
  fixture *f = *state;
  altsvc_service s = quic("foo.example", 443);
  f->query_in_callback = true;
  f->cb_saw_broken = true;
  broken_altsvc_mark_broken(f->b, &s);
  advance(f, 300 * SEC);
  assert_int_equal(broken_altsvc_expire(f->b), 1);
  assert_false(f->cb_saw_broken);
  assert_true(f->cb_saw_recently_broken);
}

static void test_expire_without_callback(void **state) {
  (void)state;
  base_manual_clock mc;
  base_manual_clock_init(&mc, WALL_START);
  broken_altsvc *b = broken_altsvc_new(&mc.base, NULL, NULL, NULL);
  assert_non_null(b);
  altsvc_service s = quic("foo.example", 443);
  broken_altsvc_mark_broken(b, &s);
  base_manual_clock_advance(&mc, 300 * SEC);
  assert_int_equal(broken_altsvc_expire(b), 1);
  broken_altsvc_free(b);
}

static void test_confirm_clears_everything(void **state) {
  fixture *f = *state;
  altsvc_service s = quic("foo.example", 443);
  broken_altsvc_mark_broken(f->b, &s);
  wait_out(f, &s);
  broken_altsvc_mark_broken_until_default_network_changes(f->b, &s);
  assert_int_equal(broken_altsvc_broken_count(f->b, &s), 2);
  broken_altsvc_confirm(f->b, &s);
  assert_false(broken_altsvc_is_broken(f->b, &s, NULL));
  assert_false(broken_altsvc_was_recently_broken(f->b, &s));
  assert_int_equal(broken_altsvc_broken_count(f->b, &s), 0);
  assert_int_equal(broken_altsvc_next_expiry(f->b), INT64_MAX);
  /* Removed from the until-network-change set too. */
  assert_false(broken_altsvc_on_default_network_changed(f->b));
  /* Backoff starts over; no callback for the confirmed entry. */
  assert_int_equal(mark_and_delay(f, &s, false), 300 * SEC);
  assert_int_equal(f->n_expired, 1);
  /* Confirming something unknown is harmless. */
  altsvc_service other = quic("other.example", 443);
  broken_altsvc_confirm(f->b, &other);
  assert_true(broken_altsvc_is_broken(f->b, &s, NULL));
}

static void test_invalid_services_are_ignored(void **state) {
  fixture *f = *state;
  altsvc_service empty = quic("", 443);
  altsvc_service unknown = svc(ALTSVC_PROTO_UNKNOWN, "foo.example", 443);
  broken_altsvc_mark_broken(f->b, &empty);
  broken_altsvc_mark_broken_until_default_network_changes(f->b, &empty);
  broken_altsvc_mark_recently_broken(f->b, &empty);
  broken_altsvc_mark_broken(f->b, &unknown);
  broken_altsvc_mark_broken(f->b, NULL);
  broken_altsvc_mark_recently_broken(f->b, NULL);
  broken_altsvc_confirm(f->b, &empty);
  broken_altsvc_confirm(f->b, NULL);
  assert_false(broken_altsvc_is_broken(f->b, &empty, NULL));
  assert_false(broken_altsvc_was_recently_broken(f->b, &empty));
  assert_false(broken_altsvc_is_broken(f->b, &unknown, NULL));
  assert_false(broken_altsvc_is_broken(f->b, NULL, NULL));
  assert_false(broken_altsvc_was_recently_broken(f->b, NULL));
  assert_int_equal(broken_altsvc_broken_count(f->b, &empty), 0);
  assert_int_equal(broken_altsvc_next_expiry(f->b), INT64_MAX);
  assert_false(broken_altsvc_on_default_network_changed(f->b));
  props_snapshot_broken *out = (props_snapshot_broken *)1;
  size_t n = 99;
  assert_int_equal(broken_altsvc_export(f->b, &out, &n), CRONC_OK);
  assert_null(out);
  assert_int_equal(n, 0);
}

static void test_null_tracker_is_harmless(void **state) {
  (void)state;
  altsvc_service s = quic("foo.example", 443);
  assert_null(broken_altsvc_new(NULL, NULL, NULL, NULL));
  broken_altsvc_mark_broken(NULL, &s);
  broken_altsvc_mark_recently_broken(NULL, &s);
  broken_altsvc_confirm(NULL, &s);
  broken_altsvc_clear(NULL);
  broken_altsvc_set_delay_params(NULL, SEC, true);
  broken_altsvc_set_max_delay(NULL, SEC);
  assert_false(broken_altsvc_is_broken(NULL, &s, NULL));
  assert_false(broken_altsvc_was_recently_broken(NULL, &s));
  assert_false(broken_altsvc_on_default_network_changed(NULL));
  assert_int_equal(broken_altsvc_expire(NULL), 0);
  assert_int_equal(broken_altsvc_next_expiry(NULL), INT64_MAX);
  props_snapshot_broken *out = NULL;
  size_t n = 0;
  assert_int_equal(broken_altsvc_export(NULL, &out, &n), CRONC_ERR_INVALID_ARGUMENT);
  assert_int_equal(broken_altsvc_import(NULL, NULL, 0), CRONC_ERR_INVALID_ARGUMENT);
  broken_altsvc_free(NULL);
}

static void test_negative_max_delay_makes_mark_recently_broken_only(void **state) {
  fixture *f = *state;
  altsvc_service s = quic("foo.example", 443);
  broken_altsvc_set_max_delay(f->b, -1);
  broken_altsvc_mark_broken(f->b, &s);
  assert_false(broken_altsvc_is_broken(f->b, &s, NULL));
  assert_true(broken_altsvc_was_recently_broken(f->b, &s));
  assert_int_equal(broken_altsvc_expire(f->b), 1);
}

/* ---- recently-broken LRU -------------------------------------------------------- */

static void test_lru_evicts_least_recently_marked_at_201(void **state) {
  fixture *f = *state;
  for (int i = 0; i < 201; i++) {
    altsvc_service s = numbered(i);
    broken_altsvc_mark_recently_broken(f->b, &s);
  }
  altsvc_service first = numbered(0), second = numbered(1), last = numbered(200);
  assert_false(broken_altsvc_was_recently_broken(f->b, &first));
  assert_true(broken_altsvc_was_recently_broken(f->b, &second));
  assert_true(broken_altsvc_was_recently_broken(f->b, &last));
  for (int i = 1; i <= 200; i++) {
    altsvc_service s = numbered(i);
    assert_true(broken_altsvc_was_recently_broken(f->b, &s));
  }
}

static void test_lru_mark_refreshes_recency(void **state) {
  fixture *f = *state;
  for (int i = 0; i < 200; i++) {
    altsvc_service s = numbered(i);
    broken_altsvc_mark_broken(f->b, &s);
  }
  altsvc_service s0 = numbered(0), s1 = numbered(1), s2 = numbered(2);
  broken_altsvc_mark_recently_broken(f->b, &s0); /* refresh: s1 is now the oldest */
  broken_altsvc_mark_broken(f->b, &s2);          /* refresh (already broken) */
  altsvc_service n1 = numbered(1000), n2 = numbered(1001);
  broken_altsvc_mark_recently_broken(f->b, &n1); /* evicts s1 */
  assert_true(broken_altsvc_was_recently_broken(f->b, &s0));
  assert_int_equal(broken_altsvc_broken_count(f->b, &s1), 0);
  /* s1 is still broken, hence still recently broken. */
  assert_true(broken_altsvc_was_recently_broken(f->b, &s1));
  broken_altsvc_mark_recently_broken(f->b, &n2); /* evicts s3 */
  altsvc_service s3 = numbered(3);
  assert_int_equal(broken_altsvc_broken_count(f->b, &s3), 0);
  assert_int_equal(broken_altsvc_broken_count(f->b, &s2), 2);
  /* Once its brokenness expires, an evicted service is working again. */
  advance(f, 300 * SEC);
  assert_int_equal(broken_altsvc_expire(f->b), 200);
  assert_false(broken_altsvc_was_recently_broken(f->b, &s1));
  assert_true(broken_altsvc_was_recently_broken(f->b, &s0));
  /* ... and its backoff starts over. */
  assert_int_equal(mark_and_delay(f, &s1, false), 300 * SEC);
  assert_int_equal(mark_and_delay(f, &s2, false), 1200 * SEC);
}

static void test_lru_holds_200_through_churn(void **state) {
  fixture *f = *state;
  for (int i = 0; i < 1000; i++) {
    altsvc_service s = numbered(i);
    broken_altsvc_mark_recently_broken(f->b, &s);
  }
  int present = 0;
  for (int i = 0; i < 1000; i++) {
    altsvc_service s = numbered(i);
    if (broken_altsvc_was_recently_broken(f->b, &s)) {
      assert_true(i >= 800);
      present++;
    }
  }
  assert_int_equal(present, 200);
}

static void test_clear_forgets_everything(void **state) {
  fixture *f = *state;
  altsvc_service a = quic("a.example", 443);
  altsvc_service b = quic("b.example", 443);
  altsvc_service c = quic("c.example", 443);
  broken_altsvc_mark_broken(f->b, &a);
  broken_altsvc_mark_broken_until_default_network_changes(f->b, &b);
  broken_altsvc_mark_recently_broken(f->b, &c);
  broken_altsvc_clear(f->b);
  assert_false(broken_altsvc_is_broken(f->b, &a, NULL));
  assert_false(broken_altsvc_was_recently_broken(f->b, &a));
  assert_false(broken_altsvc_was_recently_broken(f->b, &b));
  assert_false(broken_altsvc_was_recently_broken(f->b, &c));
  assert_int_equal(broken_altsvc_next_expiry(f->b), INT64_MAX);
  assert_false(broken_altsvc_on_default_network_changed(f->b));
  advance(f, 1000 * SEC);
  assert_int_equal(broken_altsvc_expire(f->b), 0);
  assert_int_equal(f->n_expired, 0);
  /* Usable afterwards, with backoff reset and a full LRU again. */
  assert_int_equal(mark_and_delay(f, &a, false), 300 * SEC);
  for (int i = 0; i < 200; i++) {
    altsvc_service s = numbered(i);
    broken_altsvc_mark_recently_broken(f->b, &s);
  }
  altsvc_service s199 = numbered(199);
  assert_true(broken_altsvc_was_recently_broken(f->b, &s199));
  assert_int_equal(broken_altsvc_broken_count(f->b, &a), 0); /* evicted */
}

/* ---- persistence -------------------------------------------------------------- */

static props_snapshot_broken *find_item(props_snapshot_broken *items, size_t n,
                                        const altsvc_service *s) {
  for (size_t i = 0; i < n; i++)
    if (altsvc_service_equal(&items[i].service, s))
      return &items[i];
  return NULL;
}

static props_snapshot_broken item(const altsvc_service *s, int count, bool is_broken,
                                  int64_t until) {
  props_snapshot_broken it;
  memset(&it, 0, sizeof it);
  it.service = *s;
  it.broken_count = count;
  it.is_broken = is_broken;
  it.broken_until_us = until;
  return it;
}

static void test_export_order_counts_and_broken_until(void **state) {
  fixture *f = *state;
  altsvc_service a = quic("a.example", 443);
  altsvc_service b = quic("b.example", 443);
  altsvc_service c = quic("c.example", 443);
  broken_altsvc_mark_broken(f->b, &a); /* count 1, broken 300 s */
  wait_out(f, &a);
  broken_altsvc_mark_recently_broken(f->b, &b); /* count 1, not broken */
  broken_altsvc_mark_broken(f->b, &a);          /* count 2, 600 s, most recent */
  broken_altsvc_mark_broken_until_default_network_changes(f->b, &c); /* count 1, 300 s */
  advance(f, 10 * SEC);

  props_snapshot_broken *out = NULL;
  size_t n = 0;
  assert_int_equal(broken_altsvc_export(f->b, &out, &n), CRONC_OK);
  assert_int_equal(n, 3);
  /* Least recently marked first: b, a, c. */
  assert_true(altsvc_service_equal(&out[0].service, &b));
  assert_int_equal(out[0].broken_count, 1);
  assert_false(out[0].is_broken);
  assert_int_equal(out[0].broken_until_us, 0);
  assert_true(altsvc_service_equal(&out[1].service, &a));
  assert_int_equal(out[1].broken_count, 2);
  assert_true(out[1].is_broken);
  assert_int_equal(out[1].broken_until_us, f->clock.now_us + 590 * SEC);
  assert_true(altsvc_service_equal(&out[2].service, &c));
  assert_int_equal(out[2].broken_count, 1);
  assert_true(out[2].is_broken);
  assert_int_equal(out[2].broken_until_us, f->clock.now_us + 290 * SEC);
  free(out);
}

static void test_export_import_round_trip_across_clocks(void **state) {
  fixture *f = *state;
  altsvc_service a = quic("a.example", 443);
  altsvc_service b = svc(ALTSVC_PROTO_HTTP2, "b.example", 8443);
  altsvc_service c = quic("c.example", 443);
  broken_altsvc_mark_broken(f->b, &a);
  wait_out(f, &a);
  broken_altsvc_mark_broken(f->b, &a); /* count 2, 600 s */
  broken_altsvc_mark_broken(f->b, &b); /* count 1, 300 s */
  broken_altsvc_mark_recently_broken(f->b, &c);
  advance(f, 100 * SEC);

  props_snapshot_broken *out = NULL;
  size_t n = 0;
  assert_int_equal(broken_altsvc_export(f->b, &out, &n), CRONC_OK);
  assert_int_equal(n, 3);

  /* "Restart": wall time moved 50 s on, ticks restart from another origin. */
  base_manual_clock mc2;
  base_manual_clock_init(&mc2, f->clock.now_us + 50 * SEC);
  mc2.ticks_us = 7 * SEC;
  broken_altsvc *b2 = broken_altsvc_new(&mc2.base, NULL, NULL, NULL);
  assert_non_null(b2);
  assert_int_equal(broken_altsvc_import(b2, out, n), CRONC_OK);

  int64_t exp = 0;
  assert_true(broken_altsvc_is_broken(b2, &a, &exp));
  assert_int_equal(exp, mc2.ticks_us + 450 * SEC); /* 600 - 100 - 50 */
  assert_true(broken_altsvc_is_broken(b2, &b, &exp));
  assert_int_equal(exp, mc2.ticks_us + 150 * SEC);
  assert_false(broken_altsvc_is_broken(b2, &c, NULL));
  assert_true(broken_altsvc_was_recently_broken(b2, &c));
  assert_int_equal(broken_altsvc_broken_count(b2, &a), 2);
  assert_int_equal(broken_altsvc_broken_count(b2, &b), 1);
  assert_int_equal(broken_altsvc_broken_count(b2, &c), 1);
  assert_int_equal(broken_altsvc_next_expiry(b2), mc2.ticks_us + 150 * SEC);

  /* Re-export gives the same items (same order, same wall times). */
  props_snapshot_broken *out2 = NULL;
  size_t n2 = 0;
  assert_int_equal(broken_altsvc_export(b2, &out2, &n2), CRONC_OK);
  assert_int_equal(n2, n);
  for (size_t i = 0; i < n; i++) {
    assert_true(altsvc_service_equal(&out[i].service, &out2[i].service));
    assert_int_equal(out[i].broken_count, out2[i].broken_count);
    assert_int_equal(out[i].is_broken, out2[i].is_broken);
    assert_int_equal(out[i].broken_until_us, out2[i].broken_until_us);
  }
  /* The backoff continues: a's next break is the 3rd (1200 s). */
  base_manual_clock_advance(&mc2, 450 * SEC);
  assert_int_equal(broken_altsvc_expire(b2), 2);
  broken_altsvc_mark_broken(b2, &a);
  assert_true(broken_altsvc_is_broken(b2, &a, &exp));
  assert_int_equal(exp - mc2.ticks_us, 1200 * SEC);
  free(out);
  free(out2);
  broken_altsvc_free(b2);
}

static void test_export_caps_broken_at_200_soonest_first(void **state) {
  fixture *f = *state;
  /* 250 services, each marked 1 s after the previous: expiries increase.
   * The LRU keeps 50..249; the 200 soonest broken are 0..199. */
  for (int i = 0; i < 250; i++) {
    altsvc_service s = numbered(i);
    broken_altsvc_mark_broken(f->b, &s);
    advance(f, SEC);
  }
  props_snapshot_broken *out = NULL;
  size_t n = 0;
  assert_int_equal(broken_altsvc_export(f->b, &out, &n), CRONC_OK);
  assert_int_equal(n, 250);
  size_t n_broken = 0;
  for (size_t i = 0; i < n; i++)
    n_broken += out[i].is_broken;
  assert_int_equal(n_broken, 200);
  /* The LRU part: 50..249 in marking order, with counts. */
  for (int i = 0; i < 200; i++) {
    altsvc_service s = numbered(50 + i);
    assert_true(altsvc_service_equal(&out[i].service, &s));
    assert_int_equal(out[i].broken_count, 1);
    assert_int_equal(out[i].is_broken, 50 + i < 200);
  }
  /* Then broken entries outside the LRU, soonest first, without a count. */
  for (int i = 0; i < 50; i++) {
    altsvc_service s = numbered(i);
    assert_true(altsvc_service_equal(&out[200 + i].service, &s));
    assert_int_equal(out[200 + i].broken_count, 0);
    assert_true(out[200 + i].is_broken);
    /* marked at WALL_START + i s, broken for 300 s */
    assert_int_equal(out[200 + i].broken_until_us, WALL_START + (i + 300) * SEC);
  }
  free(out);
}

static void test_export_skips_stale_broken_entries(void **state) {
  fixture *f = *state;
  altsvc_service a = quic("a.example", 443);
  altsvc_service b = quic("b.example", 443);
  broken_altsvc_mark_broken(f->b, &a);
  advance(f, 300 * SEC); /* a is due but expire() has not run */
  broken_altsvc_mark_broken(f->b, &b);
  props_snapshot_broken *out = NULL;
  size_t n = 0;
  assert_int_equal(broken_altsvc_export(f->b, &out, &n), CRONC_OK);
  assert_int_equal(n, 2);
  props_snapshot_broken *ia = find_item(out, n, &a);
  assert_non_null(ia);
  assert_false(ia->is_broken);
  assert_int_equal(ia->broken_count, 1);
  assert_true(find_item(out, n, &b)->is_broken);
  free(out);
}

static void test_until_network_change_is_plain_broken_after_import(void **state) {
  fixture *f = *state;
  altsvc_service s = quic("foo.example", 443);
  broken_altsvc_mark_broken_until_default_network_changes(f->b, &s);
  props_snapshot_broken *out = NULL;
  size_t n = 0;
  assert_int_equal(broken_altsvc_export(f->b, &out, &n), CRONC_OK);
  assert_int_equal(n, 1);

  base_manual_clock mc2;
  base_manual_clock_init(&mc2, f->clock.now_us);
  broken_altsvc *b2 = broken_altsvc_new(&mc2.base, NULL, NULL, NULL);
  assert_non_null(b2);
  assert_int_equal(broken_altsvc_import(b2, out, n), CRONC_OK);
  assert_false(broken_altsvc_on_default_network_changed(b2));
  assert_true(broken_altsvc_is_broken(b2, &s, NULL));
  assert_true(broken_altsvc_was_recently_broken(b2, &s));
  free(out);
  broken_altsvc_free(b2);
}

static void test_import_past_broken_until_becomes_recently_broken_only(void **state) {
  fixture *f = *state;
  altsvc_service a = quic("a.example", 443);
  altsvc_service b = quic("b.example", 443);
  props_snapshot_broken items[] = {
      item(&a, 3, true, f->clock.now_us - SEC),
      item(&b, 0, true, f->clock.now_us), /* exactly now: already past */
  };
  assert_int_equal(broken_altsvc_import(f->b, items, 2), CRONC_OK);
  assert_false(broken_altsvc_is_broken(f->b, &a, NULL));
  assert_true(broken_altsvc_was_recently_broken(f->b, &a));
  assert_int_equal(broken_altsvc_broken_count(f->b, &a), 3);
  assert_false(broken_altsvc_is_broken(f->b, &b, NULL));
  assert_int_equal(broken_altsvc_broken_count(f->b, &b), 1);
  assert_int_equal(broken_altsvc_next_expiry(f->b), INT64_MAX);
  assert_int_equal(broken_altsvc_expire(f->b), 0);
  assert_int_equal(f->n_expired, 0);
  /* a's 4th break uses count 3. */
  assert_int_equal(mark_and_delay(f, &a, false), 2400 * SEC);
}

static void test_import_skips_invalid_entries(void **state) {
  fixture *f = *state;
  altsvc_service neg = quic("neg.example", 443);
  altsvc_service empty = quic("", 443);
  altsvc_service unknown = svc(ALTSVC_PROTO_UNKNOWN, "u.example", 443);
  altsvc_service zero = quic("zero.example", 443);
  altsvc_service ok = quic("ok.example", 443);
  props_snapshot_broken items[] = {
      item(&neg, -1, true, f->clock.now_us + 100 * SEC),
      item(&empty, 2, true, f->clock.now_us + 100 * SEC),
      item(&unknown, 2, true, f->clock.now_us + 100 * SEC),
      item(&zero, 0, false, 0), /* carries nothing */
      item(&ok, 2, false, 0),
  };
  assert_int_equal(broken_altsvc_import(f->b, items, 5), CRONC_OK);
  assert_false(broken_altsvc_was_recently_broken(f->b, &neg));
  assert_false(broken_altsvc_was_recently_broken(f->b, &empty));
  assert_false(broken_altsvc_was_recently_broken(f->b, &unknown));
  assert_false(broken_altsvc_was_recently_broken(f->b, &zero));
  assert_true(broken_altsvc_was_recently_broken(f->b, &ok));
  assert_int_equal(broken_altsvc_next_expiry(f->b), INT64_MAX);
  props_snapshot_broken *out = NULL;
  size_t n = 0;
  assert_int_equal(broken_altsvc_export(f->b, &out, &n), CRONC_OK);
  assert_int_equal(n, 1);
  free(out);
  /* NULL items with n > 0 is an error; with n == 0 a no-op. */
  assert_int_equal(broken_altsvc_import(f->b, NULL, 1), CRONC_ERR_INVALID_ARGUMENT);
  assert_int_equal(broken_altsvc_import(f->b, NULL, 0), CRONC_OK);
  assert_true(broken_altsvc_was_recently_broken(f->b, &ok));
}

static void test_import_counts_overwrite_and_merge_with_memory(void **state) {
  fixture *f = *state;
  altsvc_service a = quic("a.example", 443);
  altsvc_service b = quic("b.example", 443);
  altsvc_service c = quic("c.example", 443);
  altsvc_service d = quic("d.example", 443);
  /* In memory: a count 1 (broken), d count 1 (recently broken). */
  broken_altsvc_mark_broken(f->b, &a);
  broken_altsvc_mark_recently_broken(f->b, &d);
  /* Loaded: c (count 4), a (count 5, broken 1000 s), b broken without a
   * count, and d broken without a count (keeps its in-memory count). */
  props_snapshot_broken items[] = {
      item(&c, 4, false, 0),
      item(&a, 5, true, f->clock.now_us + 1000 * SEC),
      item(&b, 0, true, f->clock.now_us + 50 * SEC),
      item(&d, 0, true, f->clock.now_us + 60 * SEC),
  };
  assert_int_equal(broken_altsvc_import(f->b, items, 4), CRONC_OK);
  int64_t exp = 0;
  assert_true(broken_altsvc_is_broken(f->b, &a, &exp));
  assert_int_equal(exp, ticks(f) + 1000 * SEC); /* loaded expiry wins */
  assert_int_equal(broken_altsvc_broken_count(f->b, &a), 5);
  assert_int_equal(broken_altsvc_broken_count(f->b, &b), 1);
  assert_int_equal(broken_altsvc_broken_count(f->b, &c), 4);
  assert_int_equal(broken_altsvc_broken_count(f->b, &d), 1);
  assert_true(broken_altsvc_is_broken(f->b, &b, NULL));
  assert_true(broken_altsvc_is_broken(f->b, &d, NULL));
  assert_int_equal(broken_altsvc_next_expiry(f->b), ticks(f) + 50 * SEC);

  /* LRU order: loaded (c, a), then in-memory-only (d), then b (Put last). */
  props_snapshot_broken *out = NULL;
  size_t n = 0;
  assert_int_equal(broken_altsvc_export(f->b, &out, &n), CRONC_OK);
  assert_int_equal(n, 4);
  const altsvc_service *order[] = {&c, &a, &d, &b};
  for (size_t i = 0; i < 4; i++)
    assert_true(altsvc_service_equal(&out[i].service, order[i]));
  free(out);

  /* Expiry order after import. */
  advance(f, 1000 * SEC);
  assert_int_equal(broken_altsvc_expire(f->b), 3);
  assert_true(altsvc_service_equal(&f->expired[0], &b));
  assert_true(altsvc_service_equal(&f->expired[1], &d));
  assert_true(altsvc_service_equal(&f->expired[2], &a));
}

static void test_import_lru_capped_at_200_keeps_memory_entries_newest(void **state) {
  fixture *f = *state;
  altsvc_service mem = quic("memory.example", 443);
  broken_altsvc_mark_recently_broken(f->b, &mem);
  props_snapshot_broken *items = calloc(250, sizeof *items);
  assert_non_null(items);
  for (int i = 0; i < 250; i++) {
    altsvc_service s = numbered(i);
    items[i] = item(&s, 1, false, 0);
  }
  assert_int_equal(broken_altsvc_import(f->b, items, 250), CRONC_OK);
  /* Loaded 0..249 keep the newest 200 (50..249); the in-memory one comes
   * back as the most recent, evicting 50. */
  assert_true(broken_altsvc_was_recently_broken(f->b, &mem));
  altsvc_service s49 = numbered(49), s50 = numbered(50), s51 = numbered(51), s249 = numbered(249);
  assert_false(broken_altsvc_was_recently_broken(f->b, &s49));
  assert_false(broken_altsvc_was_recently_broken(f->b, &s50));
  assert_true(broken_altsvc_was_recently_broken(f->b, &s51));
  assert_true(broken_altsvc_was_recently_broken(f->b, &s249));
  free(items);
}

static void test_import_duplicate_later_entry_wins(void **state) {
  fixture *f = *state;
  altsvc_service a = quic("a.example", 443);
  props_snapshot_broken items[] = {
      item(&a, 2, true, f->clock.now_us + 100 * SEC),
      item(&a, 7, true, f->clock.now_us + 20 * SEC),
  };
  assert_int_equal(broken_altsvc_import(f->b, items, 2), CRONC_OK);
  int64_t exp = 0;
  assert_true(broken_altsvc_is_broken(f->b, &a, &exp));
  assert_int_equal(exp, ticks(f) + 20 * SEC);
  assert_int_equal(broken_altsvc_broken_count(f->b, &a), 7);
  advance(f, 20 * SEC);
  assert_int_equal(broken_altsvc_expire(f->b), 1);
  assert_int_equal(broken_altsvc_expire(f->b), 0);
}

static void test_import_extreme_times_saturate(void **state) {
  fixture *f = *state;
  altsvc_service far = quic("far.example", 443);
  altsvc_service past = quic("past.example", 443);
  props_snapshot_broken items[] = {
      item(&far, 1, true, INT64_MAX),
      item(&past, 1, true, INT64_MIN),
  };
  assert_int_equal(broken_altsvc_import(f->b, items, 2), CRONC_OK);
  assert_true(broken_altsvc_is_broken(f->b, &far, NULL));
  assert_false(broken_altsvc_is_broken(f->b, &past, NULL));
  assert_true(broken_altsvc_was_recently_broken(f->b, &past));
  props_snapshot_broken *out = NULL;
  size_t n = 0;
  assert_int_equal(broken_altsvc_export(f->b, &out, &n), CRONC_OK);
  props_snapshot_broken *it = find_item(out, n, &far);
  assert_non_null(it);
  assert_true(it->is_broken);
  assert_true(it->broken_until_us > f->clock.now_us);
  free(out);
}

/* ---- NetLog ---------------------------------------------------------------- */

typedef struct log_capture {
  int n;
  int n_marked, n_recent, n_confirmed, n_expired;
  char last_marked[512];
  char last_expired[512];
} log_capture;

static void on_netlog(const netlog_entry *e, void *user_data) {
  log_capture *c = user_data;
  c->n++;
  if (e->source.type != NETLOG_SOURCE_HTTP_SERVER_PROPERTIES)
    return;
  switch (e->type) {
  case NETLOG_TYPE_CRONC_ALTERNATIVE_SERVICE_MARKED_BROKEN:
    c->n_marked++;
    snprintf(c->last_marked, sizeof c->last_marked, "%s", e->params ? e->params : "");
    break;
  case NETLOG_TYPE_CRONC_ALTERNATIVE_SERVICE_MARKED_RECENTLY_BROKEN:
    c->n_recent++;
    break;
  case NETLOG_TYPE_CRONC_ALTERNATIVE_SERVICE_CONFIRMED:
    c->n_confirmed++;
    break;
  case NETLOG_TYPE_CRONC_ALTERNATIVE_SERVICE_BROKEN_EXPIRED:
    c->n_expired++;
    snprintf(c->last_expired, sizeof c->last_expired, "%s", e->params ? e->params : "");
    break;
  default:
    break;
  }
}

static void test_netlog_events(void **state) {
  (void)state;
  base_manual_clock mc;
  base_manual_clock_init(&mc, WALL_START);
  netlog *nl = netlog_new(&mc.base);
  assert_non_null(nl);
  log_capture cap;
  memset(&cap, 0, sizeof cap);
  netlog_observer *obs = netlog_add_observer(nl, on_netlog, &cap);
  assert_non_null(obs);
  broken_altsvc *b = broken_altsvc_new(&mc.base, nl, NULL, NULL);
  assert_non_null(b);

  altsvc_service s = quic("foo.example", 443);
  altsvc_service odd = quic("we\"ird", 8443);
  broken_altsvc_mark_broken(b, &s);
  assert_int_equal(cap.n_marked, 1);
  assert_non_null(strstr(cap.last_marked, "\"alternative_service\":\"quic foo.example:443\""));
  assert_non_null(strstr(cap.last_marked, "\"broken_count\":0"));
  assert_non_null(strstr(cap.last_marked, "\"delay_ms\":300000"));
  assert_non_null(strstr(cap.last_marked, "\"until_network_change\":false"));

  base_manual_clock_advance(&mc, 300 * SEC);
  assert_int_equal(broken_altsvc_expire(b), 1);
  assert_int_equal(cap.n_expired, 1);
  assert_non_null(strstr(cap.last_expired, "quic foo.example:443"));

  broken_altsvc_mark_broken_until_default_network_changes(b, &s);
  assert_non_null(strstr(cap.last_marked, "\"broken_count\":1"));
  assert_non_null(strstr(cap.last_marked, "\"delay_ms\":600000"));
  assert_non_null(strstr(cap.last_marked, "\"until_network_change\":true"));

  broken_altsvc_mark_broken(b, &odd);
  assert_non_null(strstr(cap.last_marked, "\"quic we\\\"ird:8443\""));

  broken_altsvc_mark_recently_broken(b, &s);
  assert_int_equal(cap.n_recent, 1);
  assert_true(broken_altsvc_on_default_network_changed(b));
  assert_int_equal(cap.n_confirmed, 1);
  broken_altsvc_confirm(b, &s); /* nothing left: no event */
  assert_int_equal(cap.n_confirmed, 1);
  broken_altsvc_confirm(b, &odd);
  assert_int_equal(cap.n_confirmed, 2);

  broken_altsvc_free(b);
  netlog_remove_observer(nl, obs);
  netlog_free(nl);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_compute_delay_matches_chromium_formula),
      cmocka_unit_test(test_d6_backoff_one_second_capped_at_two_days),
      cmocka_unit_test_setup_teardown(test_d6_marks_with_one_second_initial_delay, setup, teardown),
      cmocka_unit_test_setup_teardown(test_d1_broken_for_300s_then_recently_broken_and_expired,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_d2_default_sequence_in_minutes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_d3_is_broken_reports_expiry, setup, teardown),
      cmocka_unit_test_setup_teardown(test_d4_delay_params_1s_exponential, setup, teardown),
      cmocka_unit_test_setup_teardown(test_d5_delay_params_5s_not_exponential, setup, teardown),
      cmocka_unit_test_setup_teardown(test_d7_until_network_change_backoff_reset_by_change, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_d8_plain_mark_removes_until_network_change, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_d9_until_network_change_after_plain_mark, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_d10_mark_recently_broken_then_confirm, setup, teardown),
      cmocka_unit_test_setup_teardown(test_mark_broken_after_recently_broken_uses_count, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_d11_network_change_confirms_only_until_change_entries,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_d12_distinct_services_are_independent, setup, teardown),
      cmocka_unit_test_setup_teardown(test_d13_initial_delay_10s, setup, teardown),
      cmocka_unit_test_setup_teardown(test_d14_max_delay_100s, setup, teardown),
      cmocka_unit_test_setup_teardown(test_d15_initial_delay_clamped, setup, teardown),
      cmocka_unit_test_setup_teardown(test_mark_already_broken_keeps_expiry_bumps_count, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_stale_entry_gets_fresh_expiry_before_expire_ran, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_is_broken_false_after_time_passes_before_expire, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_expire_calls_back_in_expiry_order, setup, teardown),
      cmocka_unit_test_setup_teardown(test_expire_only_due_entries_stepwise, setup, teardown),
      cmocka_unit_test_setup_teardown(test_expire_callback_sees_final_state, setup, teardown),
      cmocka_unit_test(test_expire_without_callback),
      cmocka_unit_test_setup_teardown(test_confirm_clears_everything, setup, teardown),
      cmocka_unit_test_setup_teardown(test_invalid_services_are_ignored, setup, teardown),
      cmocka_unit_test(test_null_tracker_is_harmless),
      cmocka_unit_test_setup_teardown(test_negative_max_delay_makes_mark_recently_broken_only,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_lru_evicts_least_recently_marked_at_201, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_lru_mark_refreshes_recency, setup, teardown),
      cmocka_unit_test_setup_teardown(test_lru_holds_200_through_churn, setup, teardown),
      cmocka_unit_test_setup_teardown(test_clear_forgets_everything, setup, teardown),
      cmocka_unit_test_setup_teardown(test_export_order_counts_and_broken_until, setup, teardown),
      cmocka_unit_test_setup_teardown(test_export_import_round_trip_across_clocks, setup, teardown),
      cmocka_unit_test_setup_teardown(test_export_caps_broken_at_200_soonest_first, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_export_skips_stale_broken_entries, setup, teardown),
      cmocka_unit_test_setup_teardown(test_until_network_change_is_plain_broken_after_import, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_import_past_broken_until_becomes_recently_broken_only,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_import_skips_invalid_entries, setup, teardown),
      cmocka_unit_test_setup_teardown(test_import_counts_overwrite_and_merge_with_memory, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_import_lru_capped_at_200_keeps_memory_entries_newest,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_import_duplicate_later_entry_wins, setup, teardown),
      cmocka_unit_test_setup_teardown(test_import_extreme_times_saturate, setup, teardown),
      cmocka_unit_test(test_netlog_events),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
