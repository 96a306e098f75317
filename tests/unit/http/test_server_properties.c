/* Server properties: Chromium's HttpServerProperties behaviour
 * (CHROMIUM_ALTSVC.md tables B and C, §1.5-1.9, §1.12). */
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
#include "http/server_properties.h"

#define START_US (INT64_C(1700000000) * BASE_US_PER_SEC)
#define DAY_US   (INT64_C(86400) * BASE_US_PER_SEC)
#define SEC_US   BASE_US_PER_SEC

typedef struct fx {
  base_manual_clock mc;
  props *p;
  int changes;
  altsvc_info_list l;
} fx;

static void on_changed(void *ud) { ((fx *)ud)->changes++; }

static props *new_props(fx *f, const char *const *suffixes, size_t n, size_t max) {
  props_params pp;
  props_params_init(&pp);
  pp.clock = &f->mc.base;
  pp.canonical_suffixes = suffixes;
  pp.n_canonical_suffixes = n;
  pp.max_server_entries = max;
  pp.on_changed = on_changed;
  pp.user_data = f;
  return props_new(&pp);
}

static int setup(void **state) {
  fx *f = calloc(1, sizeof *f);
  if (!f)
    return -1;
  base_manual_clock_init(&f->mc, START_US);
  f->p = new_props(f, NULL, 0, 0);
  altsvc_info_list_init(&f->l);
  *state = f;
  return f->p ? 0 : -1;
}

static int teardown(void **state) {
  fx *f = *state;
  props_free(f->p);
  altsvc_info_list_free(&f->l);
  free(f);
  return 0;
}

static url_origin O(const char *scheme, const char *host, uint16_t port) {
  url_origin o;
  url_scheme s = url_scheme_from_string(scheme, strlen(scheme));
  assert_int_equal(url_origin_init(&o, s, host, strlen(host), port), 0);
  return o;
}

static altsvc_service S(altsvc_protocol proto, const char *host, uint16_t port) {
  altsvc_service s = {0};
  s.protocol = proto;
  s.port = port;
  snprintf(s.host, sizeof s.host, "%s", host);
  return s;
}

static altsvc_info I(altsvc_protocol proto, const char *host, uint16_t port, int64_t exp) {
  altsvc_info i = {0};
  i.service = S(proto, host, port);
  i.expiration_us = exp;
  if (proto == ALTSVC_PROTO_QUIC) {
    strcpy(i.alpns[0], "h3");
    i.n_alpns = 1;
  }
  return i;
}

static int64_t now(fx *f) { return f->mc.now_us; }

static size_t get(fx *f, const url_origin *o) {
  assert_int_equal(props_get_alternative_service_infos(f->p, o, &f->l), 0);
  return f->l.count;
}

static void assert_svc(const altsvc_info *i, altsvc_protocol proto, const char *host,
                       uint16_t port) {
  assert_int_equal(i->service.protocol, proto);
  assert_string_equal(i->service.host, host);
  assert_int_equal(i->service.port, port);
}

static int set1(fx *f, const url_origin *o, altsvc_info i) {
  return props_set_alternative_services(f->p, o, &i, 1);
}

/* ---- Table B: filter + store ------------------------------------------------ */

static int process(fx *f, const url_origin *o, const char *hdr) {
  return props_process_alt_svc_header(f->p, o, hdr, strlen(hdr), true, true);
}

static void b1_h3_with_max_age_is_stored_as_quic(void **state) {
  fx *f = *state;
  url_origin o = O("https", "example.com", 443);
  assert_int_equal(process(f, &o, "h3=\":443\"; ma=3600"), 1);
  assert_int_equal(get(f, &o), 1);
  assert_svc(&f->l.items[0], ALTSVC_PROTO_QUIC, "example.com", 443);
  assert_true(f->l.items[0].expiration_us == now(f) + 3600 * SEC_US);
  assert_int_equal(f->l.items[0].n_alpns, 1);
  assert_string_equal(f->l.items[0].alpns[0], "h3");
  /* Stored with the empty host (the origin's). */
  props_snapshot snap;
  assert_int_equal(props_take_snapshot(f->p, &snap), 0);
  assert_int_equal(snap.n_servers, 1);
  assert_string_equal(snap.servers[0].alts[0].service.host, "");
  props_snapshot_free(&snap);
}

static void b2_h2_other_host_default_max_age(void **state) {
  fx *f = *state;
  url_origin o = O("https", "example.com", 443);
  assert_int_equal(process(f, &o, "h2=\"other.example.com:443\""), 1);
  assert_int_equal(get(f, &o), 1);
  assert_svc(&f->l.items[0], ALTSVC_PROTO_HTTP2, "other.example.com", 443);
  assert_true(f->l.items[0].expiration_us == now(f) + DAY_US);
  assert_int_equal(f->l.items[0].n_alpns, 0);
}

static void b3_draft_and_gquic_versions_are_dropped(void **state) {
  fx *f = *state;
  url_origin o = O("https", "example.com", 443);
  assert_int_equal(process(f, &o, "h3-29=\":443\",h3-Q050=\":443\",h3-Q043=\":443\""), 0);
  assert_int_equal(get(f, &o), 0);
  assert_int_equal(f->changes, 0);
}

static void b4_clear_erases_existing(void **state) {
  fx *f = *state;
  url_origin o = O("https", "example.com", 443);
  assert_int_equal(process(f, &o, "h3=\":443\""), 1);
  assert_int_equal(process(f, &o, "clear"), 1);
  assert_int_equal(get(f, &o), 0);
  assert_int_equal(f->changes, 2);
}

static void b5_only_unsupported_entries_erase_existing(void **state) {
  fx *f = *state;
  url_origin o = O("https", "example.com", 443);
  assert_int_equal(process(f, &o, "h3=\":443\""), 1);
  assert_int_equal(process(f, &o, "h3-29=\":443\""), 1);
  assert_int_equal(get(f, &o), 0);
}

static void b6_legacy_quic_and_http11_erase_existing(void **state) {
  fx *f = *state;
  url_origin o = O("https", "example.com", 443);
  assert_int_equal(process(f, &o, "h3=\":443\""), 1);
  assert_int_equal(process(f, &o, "quic=\":443\"; v=\"46\""), 1);
  assert_int_equal(get(f, &o), 0);
  assert_int_equal(process(f, &o, "h2=\":444\""), 1);
  /* RFC 7838 spells it percent-encoded; it decodes to "http/1.1". */
  assert_int_equal(process(f, &o, "http%2F1.1=\":443\""), 1);
  assert_int_equal(get(f, &o), 0);
}

typedef struct captured {
  int n;
  netlog_event_type type;
  char params[512];
} captured;

static void capture(const netlog_entry *e, void *ud) {
  captured *c = ud;
  c->n++;
  c->type = e->type;
  snprintf(c->params, sizeof c->params, "%s", e->params ? e->params : "");
}

static void b7_unparsable_header_changes_nothing_and_logs(void **state) {
  fx *f = *state;
  netlog *nl = netlog_new(&f->mc.base);
  assert_non_null(nl);
  captured c = {0};
  assert_non_null(netlog_add_observer(nl, capture, &c));
  props_params pp;
  props_params_init(&pp);
  pp.clock = &f->mc.base;
  pp.nl = nl;
  props *p = props_new(&pp);
  assert_non_null(p);
  url_origin o = O("https", "example.com", 443);
  const char *ok = "h3=\":443\"";
  assert_int_equal(props_process_alt_svc_header(p, &o, ok, strlen(ok), true, true), 1);
  c.n = 0;
  const char *bad = "h3=\":99999\"";
  assert_int_equal(props_process_alt_svc_header(p, &o, bad, strlen(bad), true, true),
                   CRONC_ERR_INVALID_RESPONSE);
  assert_int_equal(c.n, 1);
  assert_int_equal(c.type, NETLOG_TYPE_CRONC_ALT_SVC_HEADER_INVALID);
  assert_non_null(strstr(c.params, "\"reason\":\""));
  assert_non_null(strstr(c.params, "https://example.com"));
  assert_int_equal(props_get_alternative_service_infos(p, &o, &f->l), 0);
  assert_int_equal(f->l.count, 1);
  assert_svc(&f->l.items[0], ALTSVC_PROTO_QUIC, "example.com", 443);
  props_free(p);
  netlog_free(nl);
}

static void b8_http_origin_header_is_ignored(void **state) {
  fx *f = *state;
  url_origin o = O("http", "example.com", 80);
  assert_int_equal(process(f, &o, "h3=\":443\""), 0);
  assert_int_equal(get(f, &o), 0);
  assert_int_equal(props_server_count(f->p), 0);
}

static void b9_multiple_alternatives_in_header_order(void **state) {
  fx *f = *state;
  url_origin o = O("https", "www.example.org", 443);
  assert_int_equal(process(f, &o, "h2=\"www.example.com:443\",h2=\":1234\""), 1);
  assert_int_equal(get(f, &o), 2);
  assert_svc(&f->l.items[0], ALTSVC_PROTO_HTTP2, "www.example.com", 443);
  assert_svc(&f->l.items[1], ALTSVC_PROTO_HTTP2, "www.example.org", 1234);
}

static void b11_same_header_again_is_not_worth_persisting(void **state) {
  fx *f = *state;
  url_origin o = O("https", "example.com", 443);
  assert_int_equal(process(f, &o, "h3=\":443\", h2=\":443\""), 1);
  assert_int_equal(f->changes, 1);
  base_manual_clock_advance(&f->mc, SEC_US);
  assert_int_equal(process(f, &o, "h3=\":443\", h2=\":443\""), 0);
  assert_int_equal(f->changes, 1);
}

static void b12_expiry_moved_three_times_further_is_persisted(void **state) {
  fx *f = *state;
  url_origin o = O("https", "example.com", 443);
  assert_int_equal(set1(f, &o, I(ALTSVC_PROTO_HTTP2, "", 444, now(f) + DAY_US)), 1);
  assert_int_equal(set1(f, &o, I(ALTSVC_PROTO_HTTP2, "", 444, now(f) + 3 * DAY_US)), 1);
  assert_int_equal(f->changes, 2);
}

static void b13_clearing_an_empty_origin_is_nothing(void **state) {
  fx *f = *state;
  url_origin o = O("https", "example.com", 443);
  assert_int_equal(props_set_alternative_services(f->p, &o, NULL, 0), 0);
  assert_int_equal(f->changes, 0);
  assert_int_equal(props_server_count(f->p), 0);
}

static void filter_respects_enable_flags(void **state) {
  fx *f = *state;
  url_origin o = O("https", "example.com", 443);
  const char *h = "h2=\":444\", h3=\":443\"";
  assert_int_equal(props_process_alt_svc_header(f->p, &o, h, strlen(h), false, true), 1);
  assert_int_equal(get(f, &o), 1);
  assert_int_equal(f->l.items[0].service.protocol, ALTSVC_PROTO_QUIC);
  assert_int_equal(props_process_alt_svc_header(f->p, &o, h, strlen(h), true, false), 1);
  assert_int_equal(get(f, &o), 1);
  assert_int_equal(f->l.items[0].service.protocol, ALTSVC_PROTO_HTTP2);
  assert_int_equal(props_process_alt_svc_header(f->p, &o, h, strlen(h), false, false), 1);
  assert_int_equal(get(f, &o), 0);
}

static void filter_saturates_expiration(void **state) {
  (void)state;
  altsvc_header h;
  altsvc_header_init(&h);
  const char *v = "h3=\":443\"; ma=4294967295";
  assert_int_equal(altsvc_parse_header(v, strlen(v), &h, NULL), 0);
  altsvc_info_list l;
  altsvc_info_list_init(&l);
  assert_int_equal(props_alt_svc_to_infos(&h, INT64_MAX - 10, true, true, &l), 0);
  assert_int_equal(l.count, 1);
  assert_true(l.items[0].expiration_us == BASE_TIME_MAX);
  altsvc_info_list_clear(&l);
  assert_int_equal(props_alt_svc_to_infos(&h, 0, true, true, &l), 0);
  assert_true(l.items[0].expiration_us == INT64_C(4294967295) * SEC_US);
  altsvc_info_list_free(&l);
  altsvc_header_free(&h);
}

/* ---- Table C: lookups ----------------------------------------------------------- */

static void c1_h2_alternative_equal_to_origin_is_excluded(void **state) {
  fx *f = *state;
  url_origin o = O("https", "foo", 443);
  int64_t e = now(f) + DAY_US;
  altsvc_info v[] = {I(ALTSVC_PROTO_HTTP2, "foo", 443, e), I(ALTSVC_PROTO_HTTP2, "bar", 443, e),
                     I(ALTSVC_PROTO_HTTP2, "foo", 80, e), I(ALTSVC_PROTO_QUIC, "foo", 443, e)};
  assert_int_equal(props_set_alternative_services(f->p, &o, v, 4), 1);
  assert_int_equal(get(f, &o), 3);
  assert_svc(&f->l.items[0], ALTSVC_PROTO_HTTP2, "bar", 443);
  assert_svc(&f->l.items[1], ALTSVC_PROTO_HTTP2, "foo", 80);
  assert_svc(&f->l.items[2], ALTSVC_PROTO_QUIC, "foo", 443);
  /* Kept in storage: the same list again is no change. */
  assert_int_equal(props_set_alternative_services(f->p, &o, v, 4), 0);
}

static void c2_expired_entries_are_dropped(void **state) {
  fx *f = *state;
  url_origin o = O("http", "foo", 80);
  altsvc_info v[] = {I(ALTSVC_PROTO_HTTP2, "foo", 443, now(f) - DAY_US),
                     I(ALTSVC_PROTO_HTTP2, "bar", 1234, now(f) + DAY_US)};
  assert_int_equal(props_set_alternative_services(f->p, &o, v, 2), 1);
  assert_int_equal(get(f, &o), 1);
  assert_svc(&f->l.items[0], ALTSVC_PROTO_HTTP2, "bar", 1234);
}

static void expiry_boundary_and_removal_of_empty_origin(void **state) {
  fx *f = *state;
  url_origin o = O("https", "foo", 443);
  assert_int_equal(set1(f, &o, I(ALTSVC_PROTO_QUIC, "", 443, now(f) + 10 * SEC_US)), 1);
  base_manual_clock_advance(&f->mc, 10 * SEC_US);
  assert_int_equal(get(f, &o), 1); /* expiration == now: still valid */
  base_manual_clock_advance(&f->mc, 1);
  assert_int_equal(get(f, &o), 0);
  assert_int_equal(props_server_count(f->p), 0); /* the empty ServerInfo went */
}

static void set_canonical_c3(fx *f) {
  url_origin bar = O("https", "bar.c.youtube.com", 443);
  int64_t e = now(f) + DAY_US;
  altsvc_info v[] = {I(ALTSVC_PROTO_QUIC, "bar.c.youtube.com", 1234, e),
                     I(ALTSVC_PROTO_HTTP2, "", 443, e)};
  assert_int_equal(props_set_alternative_services(f->p, &bar, v, 2), 1);
}

static void c3_canonical_suffix_is_borrowed(void **state) {
  fx *f = *state;
  set_canonical_c3(f);
  url_origin foo = O("https", "foo.c.youtube.com", 443);
  assert_int_equal(get(f, &foo), 2);
  assert_svc(&f->l.items[0], ALTSVC_PROTO_QUIC, "bar.c.youtube.com", 1234);
  assert_svc(&f->l.items[1], ALTSVC_PROTO_HTTP2, "foo.c.youtube.com", 443);
  /* Not across ports, not for http, not for other suffixes. */
  url_origin foo8443 = O("https", "foo.c.youtube.com", 8443);
  assert_int_equal(get(f, &foo8443), 0);
  url_origin foohttp = O("http", "foo.c.youtube.com", 443);
  assert_int_equal(get(f, &foohttp), 0);
  url_origin other = O("https", "foo.youtube.com", 443);
  assert_int_equal(get(f, &other), 0);
}

static void c4_canonical_broken_gives_nothing(void **state) {
  fx *f = *state;
  url_origin bar = O("https", "bar.c.youtube.com", 443);
  assert_int_equal(set1(f, &bar, I(ALTSVC_PROTO_QUIC, "bar.c.youtube.com", 1234, now(f) + DAY_US)),
                   1);
  altsvc_service s = S(ALTSVC_PROTO_QUIC, "bar.c.youtube.com", 1234);
  props_mark_alternative_service_broken(f->p, &s);
  url_origin foo = O("https", "foo.c.youtube.com", 443);
  assert_int_equal(get(f, &foo), 0);
  /* The canonical server itself still sees its broken entry. */
  assert_int_equal(get(f, &bar), 1);
}

static void c4_canonical_broken_until_network_change_gives_nothing(void **state) {
  fx *f = *state;
  url_origin bar = O("https", "bar.c.youtube.com", 443);
  assert_int_equal(set1(f, &bar, I(ALTSVC_PROTO_QUIC, "bar.c.youtube.com", 1234, now(f) + DAY_US)),
                   1);
  altsvc_service s = S(ALTSVC_PROTO_QUIC, "bar.c.youtube.com", 1234);
  props_mark_alternative_service_broken_until_default_network_changes(f->p, &s);
  url_origin foo = O("https", "foo.c.youtube.com", 443);
  assert_int_equal(get(f, &foo), 0);
  props_on_default_network_changed(f->p);
  assert_int_equal(get(f, &foo), 1);
}

static void canonical_empty_host_is_checked_as_canonical_host(void **state) {
  fx *f = *state;
  set_canonical_c3(f);
  url_origin foo = O("https", "foo.c.youtube.com", 443);
  /* Breaking the requesting host's h2 does not filter the borrowed "". */
  altsvc_service foo_h2 = S(ALTSVC_PROTO_HTTP2, "foo.c.youtube.com", 443);
  props_mark_alternative_service_broken(f->p, &foo_h2);
  assert_int_equal(get(f, &foo), 2);
  /* Breaking it as the canonical server's host does. */
  altsvc_service bar_h2 = S(ALTSVC_PROTO_HTTP2, "bar.c.youtube.com", 443);
  props_mark_alternative_service_broken(f->p, &bar_h2);
  assert_int_equal(get(f, &foo), 1);
  assert_svc(&f->l.items[0], ALTSVC_PROTO_QUIC, "bar.c.youtube.com", 1234);
}

static void c5_latest_canonical_server_wins(void **state) {
  fx *f = *state;
  set_canonical_c3(f);
  url_origin qux = O("https", "qux.c.youtube.com", 443);
  assert_int_equal(set1(f, &qux, I(ALTSVC_PROTO_QUIC, "qux.c.youtube.com", 443, now(f) + DAY_US)),
                   1);
  url_origin foo = O("https", "foo.c.youtube.com", 443);
  assert_int_equal(get(f, &foo), 1);
  assert_svc(&f->l.items[0], ALTSVC_PROTO_QUIC, "qux.c.youtube.com", 443);
}

static void c6_cleared_canonical_server_gives_nothing(void **state) {
  fx *f = *state;
  set_canonical_c3(f);
  url_origin bar = O("https", "bar.c.youtube.com", 443);
  assert_int_equal(props_set_alternative_services(f->p, &bar, NULL, 0), 1);
  url_origin foo = O("https", "foo.c.youtube.com", 443);
  assert_int_equal(get(f, &foo), 0);
}

static void c7_own_broken_entry_shadows_canonical(void **state) {
  fx *f = *state;
  url_origin bar = O("https", "bar.c.youtube.com", 443);
  assert_int_equal(set1(f, &bar, I(ALTSVC_PROTO_QUIC, "bar.c.youtube.com", 1234, now(f) + DAY_US)),
                   1);
  url_origin foo = O("https", "foo.c.youtube.com", 443);
  assert_int_equal(set1(f, &foo, I(ALTSVC_PROTO_HTTP2, "foo.c.youtube.com", 444, now(f) + DAY_US)),
                   1);
  altsvc_service s = S(ALTSVC_PROTO_HTTP2, "foo.c.youtube.com", 444);
  props_mark_alternative_service_broken(f->p, &s);
  assert_int_equal(get(f, &foo), 1);
  assert_svc(&f->l.items[0], ALTSVC_PROTO_HTTP2, "foo.c.youtube.com", 444);
}

static void c8_c9_broken_is_kept_across_set_and_clear(void **state) {
  fx *f = *state;
  url_origin o = O("http", "foo", 80);
  assert_int_equal(set1(f, &o, I(ALTSVC_PROTO_HTTP2, "foo", 443, now(f) + DAY_US)), 1);
  altsvc_service s = S(ALTSVC_PROTO_HTTP2, "foo", 443);
  props_mark_alternative_service_broken(f->p, &s);
  assert_int_equal(get(f, &o), 1); /* C8: still returned */
  assert_true(props_is_alternative_service_broken(f->p, &s));
  assert_int_equal(props_set_alternative_services(f->p, &o, NULL, 0), 1);
  assert_true(props_is_alternative_service_broken(f->p, &s)); /* C9 */
  assert_int_equal(set1(f, &o, I(ALTSVC_PROTO_HTTP2, "foo", 443, now(f) + DAY_US)), 1);
  assert_true(props_is_alternative_service_broken(f->p, &s));
}

static void c10_empty_host_is_substituted(void **state) {
  fx *f = *state;
  url_origin o = O("https", "foo", 443);
  assert_int_equal(set1(f, &o, I(ALTSVC_PROTO_HTTP2, "", 1234, now(f) + DAY_US)), 1);
  altsvc_service s = S(ALTSVC_PROTO_HTTP2, "foo", 1234);
  props_mark_alternative_service_broken(f->p, &s);
  assert_int_equal(get(f, &o), 1);
  assert_svc(&f->l.items[0], ALTSVC_PROTO_HTTP2, "foo", 1234);
  assert_true(props_is_alternative_service_broken(f->p, &f->l.items[0].service));
}

static void c11_expired_brokenness_removes_alternative_everywhere(void **state) {
  fx *f = *state;
  url_origin foo = O("https", "foo", 443), http_bar = O("http", "bar", 80),
             bar = O("https", "bar", 443);
  int64_t e = now(f) + 7 * DAY_US;
  assert_int_equal(set1(f, &foo, I(ALTSVC_PROTO_QUIC, "bar", 443, e)), 1);
  assert_int_equal(set1(f, &http_bar, I(ALTSVC_PROTO_QUIC, "", 443, e)), 1);
  assert_int_equal(set1(f, &bar, I(ALTSVC_PROTO_QUIC, "baz", 1234, e)), 1);
  altsvc_service s = S(ALTSVC_PROTO_QUIC, "bar", 443);
  props_mark_alternative_service_broken(f->p, &s);
  assert_true(props_next_expiry(f->p) == f->mc.ticks_us + 300 * SEC_US);
  base_manual_clock_advance(&f->mc, 300 * SEC_US);
  int before = f->changes;
  assert_int_equal(props_run_expiry(f->p), 1);
  assert_int_equal(f->changes, before + 1);
  assert_int_equal(get(f, &foo), 0);
  assert_int_equal(get(f, &http_bar), 0);
  assert_int_equal(get(f, &bar), 1);
  assert_svc(&f->l.items[0], ALTSVC_PROTO_QUIC, "baz", 1234);
  assert_false(props_is_alternative_service_broken(f->p, &s));
  assert_true(props_was_alternative_service_recently_broken(f->p, &s));
  assert_int_equal(props_server_count(f->p), 1);
  assert_true(props_next_expiry(f->p) == INT64_MAX);
}

static void expiry_runs_at_any_entry_point_and_drops_canonical(void **state) {
  fx *f = *state;
  url_origin bar = O("https", "bar.c.youtube.com", 443);
  assert_int_equal(set1(f, &bar, I(ALTSVC_PROTO_QUIC, "", 443, now(f) + 7 * DAY_US)), 1);
  altsvc_service s = S(ALTSVC_PROTO_QUIC, "bar.c.youtube.com", 443);
  props_mark_alternative_service_broken(f->p, &s);
  base_manual_clock_advance(&f->mc, 300 * SEC_US);
  /* No explicit run_expiry: the read itself processes the expiry. */
  url_origin foo = O("https", "foo.c.youtube.com", 443);
  assert_int_equal(get(f, &foo), 0);
  assert_int_equal(get(f, &bar), 0);
  assert_int_equal(props_run_expiry(f->p), 0);
  /* The canonical mapping went with it; setting bar again restores it. */
  assert_int_equal(set1(f, &bar, I(ALTSVC_PROTO_QUIC, "", 443, now(f) + DAY_US)), 1);
  assert_int_equal(get(f, &foo), 1);
}

static void c12_scheme_is_part_of_the_key(void **state) {
  fx *f = *state;
  url_origin http = O("http", "foo", 80), https = O("https", "foo", 80);
  assert_int_equal(set1(f, &http, I(ALTSVC_PROTO_HTTP2, "bar", 443, now(f) + DAY_US)), 1);
  assert_int_equal(get(f, &https), 0);
  assert_int_equal(get(f, &http), 1);
}

static void ws_and_wss_are_normalised(void **state) {
  fx *f = *state;
  url_origin wss = O("wss", "foo", 443), https = O("https", "foo", 443);
  url_origin ws = O("ws", "foo", 80), http = O("http", "foo", 80);
  assert_int_equal(set1(f, &wss, I(ALTSVC_PROTO_QUIC, "", 443, now(f) + DAY_US)), 1);
  assert_int_equal(get(f, &https), 1);
  assert_int_equal(set1(f, &http, I(ALTSVC_PROTO_HTTP2, "x", 443, now(f) + DAY_US)), 1);
  assert_int_equal(get(f, &ws), 1);
  assert_int_equal(props_server_count(f->p), 2);
}

static void c13_read_moves_origin_to_front(void **state) {
  fx *f = *state;
  url_origin a = O("https", "a", 443), b = O("https", "b", 443);
  assert_int_equal(set1(f, &a, I(ALTSVC_PROTO_QUIC, "", 443, now(f) + DAY_US)), 1);
  assert_int_equal(set1(f, &b, I(ALTSVC_PROTO_QUIC, "", 443, now(f) + DAY_US)), 1);
  props_snapshot s;
  assert_int_equal(props_take_snapshot(f->p, &s), 0);
  assert_string_equal(s.servers[1].origin.host, "b"); /* most recent last */
  props_snapshot_free(&s);
  assert_int_equal(get(f, &a), 1);
  assert_int_equal(props_take_snapshot(f->p, &s), 0);
  assert_string_equal(s.servers[1].origin.host, "a");
  props_snapshot_free(&s);
}

/* ---- MRU bound --------------------------------------------------------------------- */

static url_origin numbered(int i) {
  char h[32];
  snprintf(h, sizeof h, "host%d.example", i);
  return O("https", h, 443);
}

static void mru_bound_evicts_least_recently_used(void **state) {
  fx *f = *state;
  for (int i = 0; i < PROPS_MAX_SERVER_INFO_ENTRIES; i++) {
    url_origin o = numbered(i);
    assert_int_equal(set1(f, &o, I(ALTSVC_PROTO_QUIC, "", 443, now(f) + DAY_US)), 1);
  }
  assert_int_equal(props_server_count(f->p), 500);
  url_origin o500 = numbered(500);
  assert_int_equal(set1(f, &o500, I(ALTSVC_PROTO_QUIC, "", 443, now(f) + DAY_US)), 1);
  assert_int_equal(props_server_count(f->p), 500);
  url_origin o0 = numbered(0), o1 = numbered(1);
  assert_int_equal(get(f, &o0), 0);
  assert_int_equal(get(f, &o1), 1);
  assert_int_equal(get(f, &o500), 1);
}

static void mru_read_refreshes_recency(void **state) {
  fx *f = *state;
  for (int i = 0; i < PROPS_MAX_SERVER_INFO_ENTRIES; i++) {
    url_origin o = numbered(i);
    assert_int_equal(set1(f, &o, I(ALTSVC_PROTO_QUIC, "", 443, now(f) + DAY_US)), 1);
  }
  url_origin o0 = numbered(0), o1 = numbered(1), o500 = numbered(500);
  assert_int_equal(get(f, &o0), 1); /* refresh: o1 is now the oldest */
  props_set_supports_spdy(f->p, &o500, true);
  assert_int_equal(props_server_count(f->p), 500);
  assert_int_equal(get(f, &o0), 1);
  assert_int_equal(get(f, &o1), 0);
  assert_true(props_get_supports_spdy(f->p, &o500));
}

static void mru_custom_capacity(void **state) {
  fx *f = *state;
  props_free(f->p);
  f->p = new_props(f, NULL, 0, 2);
  url_origin a = numbered(1), b = numbered(2), c = numbered(3);
  props_set_srtt(f->p, &a, 1);
  props_set_srtt(f->p, &b, 2);
  int64_t v;
  assert_true(props_get_srtt(f->p, &a, &v)); /* a is now the most recent */
  props_set_srtt(f->p, &c, 3);
  assert_false(props_get_srtt(f->p, &b, &v));
  assert_true(props_get_srtt(f->p, &a, &v));
  assert_true(v == 1);
}

/* ---- Change detection ----------------------------------------------------------------- */

static void change_detection_factor_of_two_further(void **state) {
  fx *f = *state;
  url_origin o = O("https", "foo", 443);
  assert_int_equal(set1(f, &o, I(ALTSVC_PROTO_QUIC, "", 443, now(f) + DAY_US)), 1);
  /* N = 2R: not more than twice as far. */
  assert_int_equal(set1(f, &o, I(ALTSVC_PROTO_QUIC, "", 443, now(f) + 2 * DAY_US)), 0);
  /* Now R = 2 days: N = 4 days + 1 µs is more than twice. */
  assert_int_equal(set1(f, &o, I(ALTSVC_PROTO_QUIC, "", 443, now(f) + 4 * DAY_US + 1)), 1);
}

static void change_detection_factor_of_two_closer(void **state) {
  fx *f = *state;
  url_origin o = O("https", "foo", 443);
  assert_int_equal(set1(f, &o, I(ALTSVC_PROTO_QUIC, "", 443, now(f) + DAY_US)), 1);
  /* 2N = R: not less than half. */
  assert_int_equal(set1(f, &o, I(ALTSVC_PROTO_QUIC, "", 443, now(f) + DAY_US / 2)), 0);
  /* R = 12 h: N = 6 h - 1 µs is less than half. */
  assert_int_equal(set1(f, &o, I(ALTSVC_PROTO_QUIC, "", 443, now(f) + DAY_US / 4 - 1)), 1);
}

static void change_detection_service_alpns_and_length(void **state) {
  fx *f = *state;
  url_origin o = O("https", "foo", 443);
  int64_t e = now(f) + DAY_US;
  altsvc_info a = I(ALTSVC_PROTO_QUIC, "", 443, e), b = I(ALTSVC_PROTO_HTTP2, "", 444, e);
  altsvc_info ab[] = {a, b}, ba[] = {b, a};
  assert_int_equal(props_set_alternative_services(f->p, &o, ab, 2), 1);
  assert_int_equal(props_set_alternative_services(f->p, &o, ab, 2), 0);
  assert_int_equal(props_set_alternative_services(f->p, &o, ba, 2), 1); /* order */
  assert_int_equal(props_set_alternative_services(f->p, &o, ba, 1), 1); /* length */
  altsvc_info b2 = b;
  b2.service.port = 445;
  assert_int_equal(props_set_alternative_services(f->p, &o, &b2, 1), 1); /* port */
  altsvc_info q = a;
  assert_int_equal(props_set_alternative_services(f->p, &o, &q, 1), 1);
  strcpy(q.alpns[0], "h3-29");
  assert_int_equal(props_set_alternative_services(f->p, &o, &q, 1), 1); /* ALPNs */
  q.n_alpns = 0;
  assert_int_equal(props_set_alternative_services(f->p, &o, &q, 1), 1);
  assert_int_equal(props_set_alternative_services(f->p, &o, &q, 1), 0);
  assert_int_equal(f->changes, 7);
}

static void change_detection_never_expiring_entries(void **state) {
  fx *f = *state;
  url_origin o = O("https", "foo", 443);
  assert_int_equal(set1(f, &o, I(ALTSVC_PROTO_QUIC, "", 443, BASE_TIME_MAX)), 1);
  base_manual_clock_advance(&f->mc, 1000 * DAY_US);
  assert_int_equal(set1(f, &o, I(ALTSVC_PROTO_QUIC, "", 443, BASE_TIME_MAX)), 0);
  assert_int_equal(set1(f, &o, I(ALTSVC_PROTO_QUIC, "", 443, now(f) + DAY_US)), 1);
}

static void set_rejects_bad_input(void **state) {
  fx *f = *state;
  url_origin o = O("https", "foo", 443);
  altsvc_info bad = I(ALTSVC_PROTO_UNKNOWN, "", 443, now(f) + DAY_US);
  assert_int_equal(props_set_alternative_services(f->p, &o, &bad, 1), CRONC_ERR_INVALID_ARGUMENT);
  assert_int_equal(props_set_alternative_services(f->p, NULL, NULL, 0), CRONC_ERR_INVALID_ARGUMENT);
  url_origin empty = {0};
  empty.scheme = URL_SCHEME_HTTPS;
  assert_int_equal(props_set_alternative_services(f->p, &empty, NULL, 0),
                   CRONC_ERR_INVALID_ARGUMENT);
  assert_int_equal(props_get_alternative_service_infos(f->p, &empty, &f->l),
                   CRONC_ERR_INVALID_ARGUMENT);
  assert_int_equal(props_server_count(f->p), 0);
  assert_int_equal(f->changes, 0);
}

/* ---- Custom canonical suffixes ------------------------------------------------------------ */

static void custom_canonical_suffix_list(void **state) {
  fx *f = *state;
  props_free(f->p);
  const char *sfx[] = {".Example.NET"};
  f->p = new_props(f, sfx, 1, 0);
  assert_non_null(f->p);
  url_origin a = O("https", "a.example.net", 443), b = O("https", "b.example.net", 443);
  assert_int_equal(set1(f, &a, I(ALTSVC_PROTO_QUIC, "", 443, now(f) + DAY_US)), 1);
  assert_int_equal(get(f, &b), 1);
  assert_svc(&f->l.items[0], ALTSVC_PROTO_QUIC, "b.example.net", 443);
  /* The default list is not in force. */
  url_origin y1 = O("https", "a.c.youtube.com", 443), y2 = O("https", "b.c.youtube.com", 443);
  assert_int_equal(set1(f, &y1, I(ALTSVC_PROTO_QUIC, "", 443, now(f) + DAY_US)), 1);
  assert_int_equal(get(f, &y2), 0);
}

static void no_canonical_suffixes(void **state) {
  fx *f = *state;
  props_free(f->p);
  const char *none[1] = {NULL};
  f->p = new_props(f, none, 0, 0);
  assert_non_null(f->p);
  set_canonical_c3(f);
  url_origin foo = O("https", "foo.c.youtube.com", 443);
  assert_int_equal(get(f, &foo), 0);
}

static void invalid_suffix_is_refused(void **state) {
  fx *f = *state;
  const char *bad[] = {""};
  assert_null(new_props(f, bad, 1, 0));
}

static void default_suffixes_include_gvt1(void **state) {
  fx *f = *state;
  url_origin a = O("https", "r1.gvt1.com", 443), b = O("https", "r2.gvt1.com", 443);
  assert_int_equal(set1(f, &a, I(ALTSVC_PROTO_QUIC, "", 443, now(f) + DAY_US)), 1);
  assert_int_equal(get(f, &b), 1);
}

/* ---- Broken passthrough, notifications -------------------------------------------------- */

static void broken_marks_notify_and_confirm_clears(void **state) {
  fx *f = *state;
  altsvc_service s = S(ALTSVC_PROTO_QUIC, "foo", 443);
  props_mark_alternative_service_broken(f->p, &s);
  assert_int_equal(f->changes, 1);
  assert_true(props_is_alternative_service_broken(f->p, &s));
  props_confirm_alternative_service(f->p, &s);
  assert_int_equal(f->changes, 2);
  assert_false(props_is_alternative_service_broken(f->p, &s));
  assert_false(props_was_alternative_service_recently_broken(f->p, &s));
  props_confirm_alternative_service(f->p, &s); /* nothing to confirm */
  assert_int_equal(f->changes, 2);
  props_mark_alternative_service_recently_broken(f->p, &s);
  assert_int_equal(f->changes, 3);
  assert_false(props_is_alternative_service_broken(f->p, &s));
  assert_true(props_was_alternative_service_recently_broken(f->p, &s));
  altsvc_service empty = S(ALTSVC_PROTO_QUIC, "", 443);
  props_mark_alternative_service_broken(f->p, &empty); /* ignored */
  assert_int_equal(f->changes, 3);
  assert_false(props_is_alternative_service_broken(f->p, &empty));
}

static void default_network_change_notifies_only_when_changed(void **state) {
  fx *f = *state;
  props_on_default_network_changed(f->p);
  assert_int_equal(f->changes, 0);
  altsvc_service s = S(ALTSVC_PROTO_QUIC, "foo", 443);
  props_mark_alternative_service_broken_until_default_network_changes(f->p, &s);
  assert_int_equal(f->changes, 1);
  props_on_default_network_changed(f->p);
  assert_int_equal(f->changes, 2);
  assert_false(props_is_alternative_service_broken(f->p, &s));
}

typedef struct reentry {
  fx *f;
  url_origin o;
  size_t seen;
  int calls;
} reentry;

static void reentrant_cb(void *ud) {
  reentry *r = ud;
  r->calls++;
  altsvc_info_list l;
  altsvc_info_list_init(&l);
  assert_int_equal(props_get_alternative_service_infos(r->f->p, &r->o, &l), 0);
  r->seen = l.count;
  altsvc_info_list_free(&l);
}

static void change_callback_runs_after_mutation_and_may_reenter(void **state) {
  fx *f = *state;
  reentry r = {f, O("https", "foo", 443), 0, 0};
  props_set_change_callback(f->p, reentrant_cb, &r);
  assert_int_equal(process(f, &r.o, "h3=\":443\", h2=\":444\""), 1);
  assert_int_equal(r.calls, 1);
  assert_int_equal(r.seen, 2);
  assert_int_equal(process(f, &r.o, "h3=\":443\", h2=\":444\""), 0);
  assert_int_equal(r.calls, 1);
}

/* ---- SPDY, srtt, QUIC worked ------------------------------------------------------------- */

static void supports_spdy_get_set(void **state) {
  fx *f = *state;
  url_origin o = O("https", "foo", 443), other = O("http", "foo", 443);
  assert_false(props_get_supports_spdy(f->p, &o));
  props_set_supports_spdy(f->p, &o, false); /* unset == false: no change */
  assert_int_equal(f->changes, 0);
  props_set_supports_spdy(f->p, &o, true);
  assert_int_equal(f->changes, 1);
  assert_true(props_get_supports_spdy(f->p, &o));
  assert_false(props_get_supports_spdy(f->p, &other));
  props_set_supports_spdy(f->p, &o, true);
  assert_int_equal(f->changes, 1);
  props_set_supports_spdy(f->p, &o, false);
  assert_int_equal(f->changes, 2);
  assert_false(props_get_supports_spdy(f->p, &o));
}

static void srtt_get_set_clear(void **state) {
  fx *f = *state;
  url_origin o = O("https", "foo", 443);
  int64_t v = -1;
  assert_false(props_get_srtt(f->p, &o, &v));
  assert_true(v == -1);
  props_set_srtt(f->p, &o, 42);
  assert_int_equal(f->changes, 1);
  assert_true(props_get_srtt(f->p, &o, &v));
  assert_true(v == 42);
  props_set_srtt(f->p, &o, 42);
  assert_int_equal(f->changes, 1);
  props_set_srtt(f->p, &o, -5); /* refused */
  assert_true(props_get_srtt(f->p, &o, &v) && v == 42);
  props_clear_srtt(f->p, &o);
  assert_int_equal(f->changes, 2);
  assert_false(props_get_srtt(f->p, &o, &v));
  assert_int_equal(props_server_count(f->p), 0);
}

static void alternatives_cleared_keeps_spdy_and_srtt(void **state) {
  fx *f = *state;
  url_origin o = O("https", "foo", 443);
  props_set_supports_spdy(f->p, &o, true);
  props_set_srtt(f->p, &o, 7);
  assert_int_equal(set1(f, &o, I(ALTSVC_PROTO_QUIC, "", 443, now(f) + DAY_US)), 1);
  assert_int_equal(props_set_alternative_services(f->p, &o, NULL, 0), 1);
  assert_true(props_get_supports_spdy(f->p, &o));
  int64_t v;
  assert_true(props_get_srtt(f->p, &o, &v) && v == 7);
  assert_int_equal(props_server_count(f->p), 1);
}

static void supports_request_priority(void **state) {
  fx *f = *state;
  url_origin a = O("https", "a", 443), b = O("https", "b", 443), c = O("https", "c", 443);
  props_set_supports_spdy(f->p, &a, true);
  assert_int_equal(set1(f, &b, I(ALTSVC_PROTO_QUIC, "", 443, now(f) + DAY_US)), 1);
  assert_int_equal(set1(f, &c, I(ALTSVC_PROTO_HTTP2, "", 444, now(f) + DAY_US)), 1);
  assert_true(props_supports_request_priority(f->p, &a));
  assert_true(props_supports_request_priority(f->p, &b));
  assert_false(props_supports_request_priority(f->p, &c));
}

static void quic_worked_address(void **state) {
  fx *f = *state;
  assert_false(props_has_last_local_address_when_quic_worked(f->p));
  props_set_last_local_address_when_quic_worked(f->p, "192.0.2.1");
  assert_int_equal(f->changes, 1);
  assert_true(props_has_last_local_address_when_quic_worked(f->p));
  assert_true(props_was_last_local_address_when_quic_worked(f->p, "192.0.2.1"));
  assert_false(props_was_last_local_address_when_quic_worked(f->p, "192.0.2.2"));
  props_set_last_local_address_when_quic_worked(f->p, "192.0.2.1");
  assert_int_equal(f->changes, 1);
  props_set_last_local_address_when_quic_worked(f->p, NULL);
  assert_int_equal(f->changes, 2);
  assert_false(props_has_last_local_address_when_quic_worked(f->p));
}

/* ---- Snapshots ------------------------------------------------------------------------------ */

static void populate(fx *f) {
  int64_t e = now(f) + DAY_US;
  url_origin a = O("https", "a.example", 443), b = O("https", "b.example", 8443),
             c = O("http", "c.example", 80), bar = O("https", "bar.c.youtube.com", 443);
  altsvc_info av[] = {I(ALTSVC_PROTO_QUIC, "", 443, e),
                      I(ALTSVC_PROTO_HTTP2, "alt.a.example", 444, e)};
  assert_int_equal(props_set_alternative_services(f->p, &a, av, 2), 1);
  assert_int_equal(set1(f, &b, I(ALTSVC_PROTO_QUIC, "", 8443, BASE_TIME_MAX)), 1);
  props_set_supports_spdy(f->p, &b, true);
  props_set_srtt(f->p, &c, 4242);
  assert_int_equal(set1(f, &bar, I(ALTSVC_PROTO_QUIC, "", 443, e)), 1);
  altsvc_service broken = S(ALTSVC_PROTO_HTTP2, "alt.a.example", 444);
  props_mark_alternative_service_broken(f->p, &broken);
  altsvc_service recent = S(ALTSVC_PROTO_QUIC, "b.example", 8443);
  props_mark_alternative_service_recently_broken(f->p, &recent);
  props_set_last_local_address_when_quic_worked(f->p, "10.0.0.1");
}

static void assert_same_reads(fx *f, props *q) {
  url_origin origins[] = {O("https", "a.example", 443), O("https", "b.example", 8443),
                          O("http", "c.example", 80), O("https", "bar.c.youtube.com", 443),
                          O("https", "foo.c.youtube.com", 443)};
  altsvc_info_list l2;
  altsvc_info_list_init(&l2);
  for (size_t i = 0; i < sizeof origins / sizeof origins[0]; i++) {
    assert_int_equal(props_get_alternative_service_infos(f->p, &origins[i], &f->l), 0);
    assert_int_equal(props_get_alternative_service_infos(q, &origins[i], &l2), 0);
    assert_int_equal(f->l.count, l2.count);
    for (size_t k = 0; k < l2.count; k++)
      assert_true(altsvc_info_equal(&f->l.items[k], &l2.items[k]));
    assert_int_equal(props_get_supports_spdy(f->p, &origins[i]),
                     props_get_supports_spdy(q, &origins[i]));
    int64_t v1 = 0, v2 = 0;
    assert_int_equal(props_get_srtt(f->p, &origins[i], &v1), props_get_srtt(q, &origins[i], &v2));
    assert_true(v1 == v2);
  }
  altsvc_info_list_free(&l2);
}

static void snapshot_round_trip(void **state) {
  fx *f = *state;
  populate(f);
  props_snapshot s;
  assert_int_equal(props_take_snapshot(f->p, &s), 0);
  assert_int_equal(s.n_servers, 4);
  assert_true(s.quic_worked);
  assert_string_equal(s.quic_worked_address, "10.0.0.1");
  assert_int_equal(s.n_broken, 2);

  fx g = {0};
  g.mc = f->mc;
  props *q = new_props(&g, NULL, 0, 0);
  assert_non_null(q);
  assert_int_equal(props_apply_snapshot(q, &s), 0);
  assert_int_equal(g.changes, 0);
  assert_int_equal(props_server_count(q), 4);

  /* Same order when taken again. */
  props_snapshot s2;
  assert_int_equal(props_take_snapshot(q, &s2), 0);
  assert_int_equal(s2.n_servers, s.n_servers);
  for (size_t i = 0; i < s.n_servers; i++) {
    assert_true(url_origin_equal(&s.servers[i].origin, &s2.servers[i].origin));
    assert_int_equal(s.servers[i].n_alts, s2.servers[i].n_alts);
  }
  props_snapshot_free(&s2);

  assert_same_reads(f, q);
  altsvc_service broken = S(ALTSVC_PROTO_HTTP2, "alt.a.example", 444);
  altsvc_service recent = S(ALTSVC_PROTO_QUIC, "b.example", 8443);
  assert_true(props_is_alternative_service_broken(q, &broken));
  assert_false(props_is_alternative_service_broken(q, &recent));
  assert_true(props_was_alternative_service_recently_broken(q, &recent));
  assert_true(props_was_last_local_address_when_quic_worked(q, "10.0.0.1"));
  /* Canonical mapping rebuilt. */
  url_origin foo = O("https", "foo.c.youtube.com", 443);
  assert_int_equal(props_get_alternative_service_infos(q, &foo, &f->l), 0);
  assert_int_equal(f->l.count, 1);
  assert_svc(&f->l.items[0], ALTSVC_PROTO_QUIC, "foo.c.youtube.com", 443);
  /* Broken expiry still removes the alternative after reload. */
  g.mc.now_us += 300 * SEC_US;
  g.mc.ticks_us += 300 * SEC_US;
  url_origin a = O("https", "a.example", 443);
  assert_int_equal(props_get_alternative_service_infos(q, &a, &f->l), 0);
  assert_int_equal(f->l.count, 1);
  props_free(q);
  props_snapshot_free(&s);
}

static void snapshot_skips_expired_and_writes_one_server_per_suffix(void **state) {
  fx *f = *state;
  url_origin a = O("https", "a.c.youtube.com", 443), b = O("https", "b.c.youtube.com", 443),
             x = O("https", "x.example", 443);
  assert_int_equal(set1(f, &a, I(ALTSVC_PROTO_QUIC, "", 443, now(f) + DAY_US)), 1);
  assert_int_equal(set1(f, &b, I(ALTSVC_PROTO_QUIC, "", 443, now(f) + DAY_US)), 1);
  props_set_supports_spdy(f->p, &a, true);
  props_set_supports_spdy(f->p, &b, true);
  altsvc_info xv[] = {I(ALTSVC_PROTO_QUIC, "", 443, now(f) + 10),
                      I(ALTSVC_PROTO_HTTP2, "", 444, now(f) + DAY_US)};
  assert_int_equal(props_set_alternative_services(f->p, &x, xv, 2), 1);
  base_manual_clock_advance(&f->mc, 11);
  props_snapshot s;
  assert_int_equal(props_take_snapshot(f->p, &s), 0);
  assert_int_equal(s.n_servers, 3);
  /* LRU first: a, b, x (spdy sets moved a then b; x set last). */
  assert_string_equal(s.servers[0].origin.host, "a.c.youtube.com");
  assert_int_equal(s.servers[0].n_alts, 0); /* b is more recent under the suffix */
  assert_true(s.servers[0].supports_spdy);
  assert_string_equal(s.servers[1].origin.host, "b.c.youtube.com");
  assert_int_equal(s.servers[1].n_alts, 1);
  assert_string_equal(s.servers[2].origin.host, "x.example");
  assert_int_equal(s.servers[2].n_alts, 1);
  assert_int_equal(s.servers[2].alts[0].service.protocol, ALTSVC_PROTO_HTTP2);
  props_snapshot_free(&s);
}

static void snapshot_apply_filters_and_merges(void **state) {
  fx *f = *state;
  url_origin mem = O("https", "mem.example", 443), both = O("https", "both.example", 443),
             ins = O("http", "insecure.example", 80), old = O("https", "old.example", 443);
  assert_int_equal(set1(f, &mem, I(ALTSVC_PROTO_QUIC, "", 443, now(f) + DAY_US)), 1);
  assert_int_equal(set1(f, &both, I(ALTSVC_PROTO_QUIC, "mem", 443, now(f) + DAY_US)), 1);
  props_set_srtt(f->p, &both, 5);

  altsvc_info both_alts[] = {I(ALTSVC_PROTO_HTTP2, "disk", 443, now(f) + DAY_US)};
  altsvc_info ins_alts[] = {I(ALTSVC_PROTO_HTTP2, "", 443, now(f) + DAY_US)};
  altsvc_info old_alts[] = {I(ALTSVC_PROTO_QUIC, "", 443, now(f) - 1),
                            I(ALTSVC_PROTO_UNKNOWN, "", 443, now(f) + DAY_US)};
  props_snapshot_server servers[3] = {
      {.origin = ins, .alts = ins_alts, .n_alts = 1, .supports_spdy = true},
      {.origin = old, .alts = old_alts, .n_alts = 2},
      {.origin = both, .alts = both_alts, .n_alts = 1, .srtt_us = 0},
  };
  props_snapshot s = {.servers = servers, .n_servers = 3};
  assert_int_equal(props_apply_snapshot(f->p, &s), 0);

  assert_int_equal(get(f, &both), 1); /* loaded wins */
  assert_svc(&f->l.items[0], ALTSVC_PROTO_HTTP2, "disk", 443);
  int64_t v;
  assert_true(props_get_srtt(f->p, &both, &v) && v == 5); /* not loaded: kept */
  assert_int_equal(get(f, &ins), 0);                      /* F2: http */
  assert_true(props_get_supports_spdy(f->p, &ins));
  assert_int_equal(get(f, &old), 0); /* expired and unknown dropped, nothing else: absent */
  assert_int_equal(get(f, &mem), 1);
  assert_int_equal(props_server_count(f->p), 3);
}

static void snapshot_apply_order_and_capacity(void **state) {
  fx *f = *state;
  size_t n = 600;
  props_snapshot_server *servers = calloc(n, sizeof *servers);
  assert_non_null(servers);
  for (size_t i = 0; i < n; i++) {
    servers[i].origin = numbered((int)i);
    servers[i].srtt_us = (int64_t)i + 1;
  }
  url_origin mem = O("https", "mem.example", 443);
  props_set_srtt(f->p, &mem, 1);
  props_snapshot s = {.servers = servers, .n_servers = n};
  assert_int_equal(props_apply_snapshot(f->p, &s), 0);
  assert_int_equal(props_server_count(f->p), 500);
  props_snapshot out;
  assert_int_equal(props_take_snapshot(f->p, &out), 0);
  assert_int_equal(out.n_servers, 500);
  /* In-memory first (most recent, last), then loaded ones with the last of
   * the array most recent; the 101 oldest were dropped. */
  assert_string_equal(out.servers[499].origin.host, "mem.example");
  assert_string_equal(out.servers[498].origin.host, "host599.example");
  assert_string_equal(out.servers[0].origin.host, "host101.example");
  props_snapshot_free(&out);
  free(servers);
}

static void snapshot_apply_rejects_bad_input(void **state) {
  fx *f = *state;
  props_snapshot s = {.servers = NULL, .n_servers = 2};
  assert_int_equal(props_apply_snapshot(f->p, &s), CRONC_ERR_INVALID_ARGUMENT);
  assert_int_equal(props_apply_snapshot(f->p, NULL), CRONC_ERR_INVALID_ARGUMENT);
  props_snapshot empty;
  props_snapshot_init(&empty);
  assert_int_equal(props_apply_snapshot(f->p, &empty), 0);
  assert_int_equal(props_take_snapshot(f->p, &empty), 0);
  assert_int_equal(empty.n_servers, 0);
  props_snapshot_free(&empty);
}

/* cronc's departure: a flood of alternatives keeps only the first ten usable
 * ones (skipped entries do not count against the cap). */
static void alternatives_per_origin_are_capped(void **state) {
  fx *f = *state;
  url_origin o = O("https", "example.com", 443);
  char value[4096] = "h3-29=\":1\", ";
  for (int i = 1; i <= 40; i++) {
    char e[32];
    snprintf(e, sizeof e, "h3=\":%d\",", 1000 + i);
    strcat(value, e);
  }
  assert_int_equal(process(f, &o, value), 1);
  assert_int_equal(get(f, &o), PROPS_MAX_ALTERNATIVES_PER_ORIGIN);
  assert_int_equal(f->l.items[0].service.port, 1001);
  assert_int_equal(f->l.items[PROPS_MAX_ALTERNATIVES_PER_ORIGIN - 1].service.port,
                   1000 + PROPS_MAX_ALTERNATIVES_PER_ORIGIN);
}

/* ---- The same Alt-Svc value again: a cheap shortcut, never a stale list -- */

static void same_header_within_a_second_is_not_parsed_again(void **state) {
  fx *f = *state;
  url_origin o = O("https", "example.com", 443);
  assert_int_equal(process(f, &o, "h3=\":443\"; ma=3600"), 1);
  base_manual_clock_advance(&f->mc, SEC_US / 2);
  assert_int_equal(process(f, &o, "h3=\":443\"; ma=3600"), 0);
  assert_int_equal(get(f, &o), 1);
  /* The expiration kept is the first one's: within the second it moved
   * far less than the factor of two that would be worth persisting. */
  assert_true(f->l.items[0].expiration_us == now(f) - SEC_US / 2 + 3600 * SEC_US);
  base_manual_clock_advance(&f->mc, SEC_US);
  assert_int_equal(process(f, &o, "h3=\":443\"; ma=3600"), 0);
  assert_int_equal(get(f, &o), 1);
  assert_true(f->l.items[0].expiration_us == now(f) + 3600 * SEC_US); /* applied again */
}

static void same_header_after_another_change_is_applied(void **state) {
  fx *f = *state;
  url_origin o = O("https", "example.com", 443);
  assert_int_equal(process(f, &o, "h3=\":443\"; ma=3600"), 1);
  /* Something else (an ALTSVC frame, a hint) replaces the list... */
  altsvc_service other = {ALTSVC_PROTO_QUIC, 8443, "other.example"};
  assert_int_equal(
      props_set_quic_alternative_service(f->p, &o, &other, now(f) + 60 * SEC_US, NULL, 0), 1);
  /* ...so the header, even within the second, is applied again. */
  assert_int_equal(process(f, &o, "h3=\":443\"; ma=3600"), 1);
  assert_int_equal(get(f, &o), 1);
  assert_svc(&f->l.items[0], ALTSVC_PROTO_QUIC, "example.com", 443);
  /* A different value is never skipped. */
  assert_int_equal(process(f, &o, "h3=\":444\"; ma=3600"), 1);
  assert_int_equal(get(f, &o), 1);
  assert_int_equal(f->l.items[0].service.port, 444);
}

int main(void) {
  const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
      T(b1_h3_with_max_age_is_stored_as_quic),
      T(same_header_within_a_second_is_not_parsed_again),
      T(same_header_after_another_change_is_applied),
      T(alternatives_per_origin_are_capped),
      T(b2_h2_other_host_default_max_age),
      T(b3_draft_and_gquic_versions_are_dropped),
      T(b4_clear_erases_existing),
      T(b5_only_unsupported_entries_erase_existing),
      T(b6_legacy_quic_and_http11_erase_existing),
      T(b7_unparsable_header_changes_nothing_and_logs),
      T(b8_http_origin_header_is_ignored),
      T(b9_multiple_alternatives_in_header_order),
      T(b11_same_header_again_is_not_worth_persisting),
      T(b12_expiry_moved_three_times_further_is_persisted),
      T(b13_clearing_an_empty_origin_is_nothing),
      T(filter_respects_enable_flags),
      T(filter_saturates_expiration),
      T(c1_h2_alternative_equal_to_origin_is_excluded),
      T(c2_expired_entries_are_dropped),
      T(expiry_boundary_and_removal_of_empty_origin),
      T(c3_canonical_suffix_is_borrowed),
      T(c4_canonical_broken_gives_nothing),
      T(c4_canonical_broken_until_network_change_gives_nothing),
      T(canonical_empty_host_is_checked_as_canonical_host),
      T(c5_latest_canonical_server_wins),
      T(c6_cleared_canonical_server_gives_nothing),
      T(c7_own_broken_entry_shadows_canonical),
      T(c8_c9_broken_is_kept_across_set_and_clear),
      T(c10_empty_host_is_substituted),
      T(c11_expired_brokenness_removes_alternative_everywhere),
      T(expiry_runs_at_any_entry_point_and_drops_canonical),
      T(c12_scheme_is_part_of_the_key),
      T(ws_and_wss_are_normalised),
      T(c13_read_moves_origin_to_front),
      T(mru_bound_evicts_least_recently_used),
      T(mru_read_refreshes_recency),
      T(mru_custom_capacity),
      T(change_detection_factor_of_two_further),
      T(change_detection_factor_of_two_closer),
      T(change_detection_service_alpns_and_length),
      T(change_detection_never_expiring_entries),
      T(set_rejects_bad_input),
      T(custom_canonical_suffix_list),
      T(no_canonical_suffixes),
      T(invalid_suffix_is_refused),
      T(default_suffixes_include_gvt1),
      T(broken_marks_notify_and_confirm_clears),
      T(default_network_change_notifies_only_when_changed),
      T(change_callback_runs_after_mutation_and_may_reenter),
      T(supports_spdy_get_set),
      T(srtt_get_set_clear),
      T(alternatives_cleared_keeps_spdy_and_srtt),
      T(supports_request_priority),
      T(quic_worked_address),
      T(snapshot_round_trip),
      T(snapshot_skips_expired_and_writes_one_server_per_suffix),
      T(snapshot_apply_filters_and_merges),
      T(snapshot_apply_order_and_capacity),
      T(snapshot_apply_rejects_bad_input),
#undef T
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
