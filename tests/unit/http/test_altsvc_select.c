/* Alternative-service selection: Chromium's GetAlternativeServiceInfoInternal
 * (CHROMIUM_ALTSVC.md §1.10, table E). Each rule has a case where it applies
 * and one where it does not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "cronc/cronc.h"
#include "http/altsvc_select.h"
#include "http/server_properties.h"

#define START_US (INT64_C(1700000000) * BASE_US_PER_SEC)
#define DAY_US   (INT64_C(86400) * BASE_US_PER_SEC)

typedef struct fx {
  base_manual_clock mc;
  props *p;
  altsvc_select_params params;
  altsvc_select_request req;
  altsvc_select_result res;
} fx;

static url_origin O(const char *scheme, const char *host, uint16_t port) {
  url_origin o;
  url_scheme s = url_scheme_from_string(scheme, strlen(scheme));
  assert_int_equal(url_origin_init(&o, s, host, strlen(host), port), 0);
  return o;
}

static altsvc_info I(altsvc_protocol proto, const char *host, uint16_t port, fx *f) {
  altsvc_info i = {0};
  i.service.protocol = proto;
  i.service.port = port;
  snprintf(i.service.host, sizeof i.service.host, "%s", host);
  i.expiration_us = f->mc.now_us + DAY_US;
  if (proto == ALTSVC_PROTO_QUIC) {
    strcpy(i.alpns[0], "h3");
    i.n_alpns = 1;
  }
  return i;
}

static altsvc_service S(altsvc_protocol proto, const char *host, uint16_t port) {
  altsvc_service s = {0};
  s.protocol = proto;
  s.port = port;
  snprintf(s.host, sizeof s.host, "%s", host);
  return s;
}

static int setup(void **state) {
  fx *f = calloc(1, sizeof *f);
  if (!f)
    return -1;
  base_manual_clock_init(&f->mc, START_US);
  props_params pp;
  props_params_init(&pp);
  pp.clock = &f->mc.base;
  f->p = props_new(&pp);
  altsvc_select_params_init(&f->params);
  url_origin o = O("https", "www.example.org", 443);
  altsvc_select_request_init(&f->req, &o);
  *state = f;
  return f->p ? 0 : -1;
}

static int teardown(void **state) {
  fx *f = *state;
  props_free(f->p);
  free(f);
  return 0;
}

static void set(fx *f, const altsvc_info *v, size_t n) {
  assert_true(props_set_alternative_services(f->p, &f->req.origin, v, n) >= 0);
}

static void set_origin(fx *f, const char *scheme, const char *host, uint16_t port) {
  f->req.origin = O(scheme, host, port);
}

static void sel(fx *f) { assert_int_equal(altsvc_select(f->p, &f->params, &f->req, &f->res), 0); }

static void assert_chosen(fx *f, altsvc_protocol proto, const char *host, uint16_t port) {
  assert_true(f->res.found);
  assert_int_equal(f->res.info.service.protocol, proto);
  assert_string_equal(f->res.info.service.host, host);
  assert_int_equal(f->res.info.service.port, port);
}

/* ---- Defaults ---------------------------------------------------------------- */

static void params_init_has_chromium_defaults(void **state) {
  fx *f = *state;
  assert_true(f->params.enable_quic);
  assert_false(f->params.enable_http2_alternative_service);
  assert_false(f->params.enable_user_alternate_protocol_ports);
  assert_true(f->params.allow_remote_alt_svc);
  assert_false(f->params.disable_bidirectional_streams);
  assert_null(f->params.can_use_existing_quic_session);
  assert_true(f->req.enable_alternative_services);
  assert_false(f->req.is_bidirectional_stream);
}

static void quic_alternative_is_chosen(void **state) {
  fx *f = *state;
  altsvc_info v = I(ALTSVC_PROTO_QUIC, "", 443, f);
  set(f, &v, 1);
  sel(f);
  assert_chosen(f, ALTSVC_PROTO_QUIC, "www.example.org", 443);
  assert_string_equal(f->res.quic_alpn, "h3");
  assert_false(f->res.quic_broken);
  assert_int_equal(f->res.usage, ALTSVC_USAGE_QUIC_SAME_DESTINATION);
}

static void no_alternatives_gives_nothing(void **state) {
  fx *f = *state;
  sel(f);
  assert_false(f->res.found);
  assert_false(f->res.quic_broken);
  assert_int_equal(f->res.usage, ALTSVC_USAGE_NO_ALTERNATIVE_SERVICE);
}

/* E1 */
static void e1_http_origin_gets_no_alternative(void **state) {
  fx *f = *state;
  set_origin(f, "http", "www.example.org", 80);
  altsvc_info v = I(ALTSVC_PROTO_QUIC, "", 443, f);
  set(f, &v, 1);
  sel(f);
  assert_false(f->res.found);
  set_origin(f, "wss", "www.example.org", 443); /* normalised to https */
  set(f, &v, 1);
  sel(f);
  assert_true(f->res.found);
}

static void disabled_alternative_services_give_nothing(void **state) {
  fx *f = *state;
  altsvc_info v = I(ALTSVC_PROTO_QUIC, "", 443, f);
  set(f, &v, 1);
  f->req.enable_alternative_services = false;
  sel(f);
  assert_false(f->res.found);
  f->req.enable_alternative_services = true;
  sel(f);
  assert_true(f->res.found);
}

static void broken_alternative_is_skipped(void **state) {
  fx *f = *state;
  altsvc_info v[] = {I(ALTSVC_PROTO_QUIC, "", 443, f),
                     I(ALTSVC_PROTO_QUIC, "alt.example.org", 443, f)};
  set(f, v, 2);
  sel(f);
  assert_chosen(f, ALTSVC_PROTO_QUIC, "www.example.org", 443);
  altsvc_service s = S(ALTSVC_PROTO_QUIC, "www.example.org", 443);
  props_mark_alternative_service_broken(f->p, &s);
  sel(f);
  assert_chosen(f, ALTSVC_PROTO_QUIC, "alt.example.org", 443);
  assert_false(f->res.quic_broken);
  assert_int_equal(f->res.usage, ALTSVC_USAGE_QUIC_DIFFERENT_DESTINATION);
}

/* E2-E5: the restricted-port rule. */
static void e2_restricted_origin_port_blocks_unrestricted_alt_port(void **state) {
  fx *f = *state;
  f->params.enable_http2_alternative_service = true;
  set_origin(f, "https", "www.example.org", 1023);
  altsvc_info v[] = {I(ALTSVC_PROTO_HTTP2, "", 1024, f), I(ALTSVC_PROTO_QUIC, "", 1024, f)};
  set(f, v, 2);
  sel(f);
  assert_false(f->res.found);
  /* As in Chromium, a QUIC alternative skipped by the port rule never
   * reaches the "not all QUIC broken" mark. */
  assert_true(f->res.quic_broken);
}

static void e3_user_alternate_protocol_ports_permit_it(void **state) {
  fx *f = *state;
  f->params.enable_http2_alternative_service = true;
  f->params.enable_user_alternate_protocol_ports = true;
  set_origin(f, "https", "www.example.org", 1023);
  altsvc_info v = I(ALTSVC_PROTO_HTTP2, "", 1024, f);
  set(f, &v, 1);
  sel(f);
  assert_chosen(f, ALTSVC_PROTO_HTTP2, "www.example.org", 1024);
  assert_int_equal(f->res.usage, ALTSVC_USAGE_NOT_QUIC_SAME_DESTINATION);
}

static void e4_restricted_to_restricted_is_allowed(void **state) {
  fx *f = *state;
  f->params.enable_http2_alternative_service = true;
  set_origin(f, "https", "www.example.org", 1023);
  altsvc_info v = I(ALTSVC_PROTO_HTTP2, "", 80, f);
  set(f, &v, 1);
  sel(f);
  assert_chosen(f, ALTSVC_PROTO_HTTP2, "www.example.org", 80);
}

static void e5_unrestricted_origin_port_allows_any(void **state) {
  fx *f = *state;
  f->params.enable_http2_alternative_service = true;
  set_origin(f, "https", "www.example.org", 1024);
  altsvc_info v = I(ALTSVC_PROTO_HTTP2, "", 80, f);
  set(f, &v, 1);
  sel(f);
  assert_chosen(f, ALTSVC_PROTO_HTTP2, "www.example.org", 80);
  v = I(ALTSVC_PROTO_HTTP2, "", 1025, f);
  set(f, &v, 1);
  sel(f);
  assert_chosen(f, ALTSVC_PROTO_HTTP2, "www.example.org", 1025);
}

/* E7 */
static void e7_h2_alternative_off_by_default(void **state) {
  fx *f = *state;
  altsvc_info v = I(ALTSVC_PROTO_HTTP2, "alt.example.org", 443, f);
  set(f, &v, 1);
  sel(f);
  assert_false(f->res.found);
  assert_false(f->res.quic_broken); /* no QUIC advertised */
  f->params.enable_http2_alternative_service = true;
  sel(f);
  assert_chosen(f, ALTSVC_PROTO_HTTP2, "alt.example.org", 443);
  assert_int_equal(f->res.usage, ALTSVC_USAGE_NOT_QUIC_DIFFERENT_DESTINATION);
  assert_string_equal(f->res.quic_alpn, "");
}

static void first_usable_alternative_wins(void **state) {
  fx *f = *state;
  f->params.enable_http2_alternative_service = true;
  altsvc_info v[] = {I(ALTSVC_PROTO_HTTP2, "a.example.org", 443, f),
                     I(ALTSVC_PROTO_QUIC, "b.example.org", 443, f)};
  set(f, v, 2);
  sel(f);
  assert_chosen(f, ALTSVC_PROTO_HTTP2, "a.example.org", 443);
}

static void remote_quic_needs_allow_remote_alt_svc(void **state) {
  fx *f = *state;
  altsvc_info v = I(ALTSVC_PROTO_QUIC, "alt.example.org", 443, f);
  set(f, &v, 1);
  sel(f);
  assert_chosen(f, ALTSVC_PROTO_QUIC, "alt.example.org", 443);
  f->params.allow_remote_alt_svc = false;
  sel(f);
  assert_false(f->res.found);
  assert_false(f->res.quic_broken);
  /* Same host is still fine. */
  altsvc_info same = I(ALTSVC_PROTO_QUIC, "", 444, f);
  set(f, &same, 1);
  sel(f);
  assert_chosen(f, ALTSVC_PROTO_QUIC, "www.example.org", 444);
}

static void quic_disabled_skips_quic(void **state) {
  fx *f = *state;
  altsvc_info v = I(ALTSVC_PROTO_QUIC, "", 443, f);
  set(f, &v, 1);
  f->params.enable_quic = false;
  sel(f);
  assert_false(f->res.found);
  assert_false(f->res.quic_broken);
  f->params.enable_quic = true;
  sel(f);
  assert_true(f->res.found);
}

static void quic_host_allowlist(void **state) {
  fx *f = *state;
  altsvc_info v = I(ALTSVC_PROTO_QUIC, "Alt.Example.org", 443, f);
  set(f, &v, 1);
  const char *deny[] = {"other.example.org"};
  f->params.quic_host_allowlist = deny;
  f->params.n_quic_host_allowlist = 1;
  sel(f);
  assert_false(f->res.found);
  const char *allow[] = {"other.example.org", "alt.example.org"};
  f->params.quic_host_allowlist = allow;
  f->params.n_quic_host_allowlist = 2;
  sel(f);
  assert_chosen(f, ALTSVC_PROTO_QUIC, "Alt.Example.org", 443);
}

static void bidirectional_streams_may_opt_out_of_quic(void **state) {
  fx *f = *state;
  altsvc_info v = I(ALTSVC_PROTO_QUIC, "", 443, f);
  set(f, &v, 1);
  f->req.is_bidirectional_stream = true;
  f->params.disable_bidirectional_streams = true;
  sel(f);
  assert_false(f->res.found);
  f->req.is_bidirectional_stream = false;
  sel(f);
  assert_true(f->res.found);
  f->req.is_bidirectional_stream = true;
  f->params.disable_bidirectional_streams = false;
  sel(f);
  assert_true(f->res.found);
}

static void quic_disabled_port_is_skipped(void **state) {
  fx *f = *state;
  altsvc_info v[] = {I(ALTSVC_PROTO_QUIC, "", 443, f), I(ALTSVC_PROTO_QUIC, "", 444, f)};
  set(f, v, 2);
  const uint16_t ports[] = {443};
  f->params.quic_disabled_ports = ports;
  f->params.n_quic_disabled_ports = 1;
  sel(f);
  assert_chosen(f, ALTSVC_PROTO_QUIC, "www.example.org", 444);
  f->params.n_quic_disabled_ports = 0;
  sel(f);
  assert_chosen(f, ALTSVC_PROTO_QUIC, "www.example.org", 443);
}

typedef struct session_cb {
  const char *usable_host;
  int calls;
  url_origin seen_origin;
} session_cb;

static bool can_use(void *ud, const url_origin *origin, const altsvc_service *alt) {
  session_cb *c = ud;
  c->calls++;
  c->seen_origin = *origin;
  return strcmp(alt->host, c->usable_host) == 0;
}

static void existing_quic_session_is_preferred(void **state) {
  fx *f = *state;
  altsvc_info v[] = {I(ALTSVC_PROTO_QUIC, "a.example.org", 443, f),
                     I(ALTSVC_PROTO_QUIC, "b.example.org", 443, f)};
  set(f, v, 2);
  session_cb c = {"b.example.org", 0, {0}};
  f->params.can_use_existing_quic_session = can_use;
  f->params.quic_session_user_data = &c;
  /* Even a host not in the allowlist: the session check comes first. */
  const char *allow[] = {"a.example.org"};
  f->params.quic_host_allowlist = allow;
  f->params.n_quic_host_allowlist = 1;
  sel(f);
  assert_chosen(f, ALTSVC_PROTO_QUIC, "b.example.org", 443);
  assert_true(f->res.uses_existing_quic_session);
  assert_int_equal(c.calls, 2);
  assert_string_equal(c.seen_origin.host, "www.example.org");
  c.usable_host = "none";
  sel(f);
  assert_chosen(f, ALTSVC_PROTO_QUIC, "a.example.org", 443);
  assert_false(f->res.uses_existing_quic_session);
}

/* E10 and version (ALPN) selection. */
static void e10_unsupported_advertised_versions_are_skipped(void **state) {
  fx *f = *state;
  altsvc_info v = I(ALTSVC_PROTO_QUIC, "", 443, f);
  strcpy(v.alpns[0], "h3-29");
  set(f, &v, 1);
  sel(f);
  assert_false(f->res.found);
  /* Supported when it is in the supported list. */
  const char *sup[] = {"h3", "h3-29"};
  f->params.supported_quic_alpns = sup;
  f->params.n_supported_quic_alpns = 2;
  sel(f);
  assert_true(f->res.found);
  assert_string_equal(f->res.quic_alpn, "h3-29");
}

static void advertised_order_wins_and_empty_uses_first_supported(void **state) {
  fx *f = *state;
  const char *sup[] = {"h3", "h3-29"};
  f->params.supported_quic_alpns = sup;
  f->params.n_supported_quic_alpns = 2;
  altsvc_info v = I(ALTSVC_PROTO_QUIC, "", 443, f);
  strcpy(v.alpns[0], "h3-29");
  strcpy(v.alpns[1], "h3");
  v.n_alpns = 2;
  set(f, &v, 1);
  sel(f);
  assert_string_equal(f->res.quic_alpn, "h3-29");
  v.n_alpns = 0; /* a QUIC hint */
  set(f, &v, 1);
  sel(f);
  assert_string_equal(f->res.quic_alpn, "h3");
}

/* E25 */
static void e25_all_quic_broken_is_reported(void **state) {
  fx *f = *state;
  f->params.enable_http2_alternative_service = true;
  altsvc_info v[] = {I(ALTSVC_PROTO_QUIC, "", 443, f), I(ALTSVC_PROTO_HTTP2, "", 444, f),
                     I(ALTSVC_PROTO_QUIC, "alt.example.org", 443, f)};
  set(f, v, 3);
  altsvc_service q1 = S(ALTSVC_PROTO_QUIC, "www.example.org", 443);
  altsvc_service q2 = S(ALTSVC_PROTO_QUIC, "alt.example.org", 443);
  props_mark_alternative_service_broken(f->p, &q1);
  sel(f);
  assert_false(f->res.quic_broken); /* IdentifyQuicNotBroken */
  assert_chosen(f, ALTSVC_PROTO_HTTP2, "www.example.org", 444);
  props_mark_alternative_service_broken(f->p, &q2);
  sel(f);
  assert_true(f->res.quic_broken); /* IdentifyQuicBroken */
  assert_chosen(f, ALTSVC_PROTO_HTTP2, "www.example.org", 444);
}

static void usage_classification(void **state) {
  fx *f = *state;
  url_origin o = O("https", "www.example.org", 443);
  altsvc_info q_same = I(ALTSVC_PROTO_QUIC, "www.example.org", 8443, f);
  altsvc_info q_other = I(ALTSVC_PROTO_QUIC, "alt.example.org", 443, f);
  altsvc_info h_same = I(ALTSVC_PROTO_HTTP2, "", 444, f);
  altsvc_info h_other = I(ALTSVC_PROTO_HTTP2, "alt.example.org", 443, f);
  assert_int_equal(altsvc_usage_classify(&o, &q_same), ALTSVC_USAGE_QUIC_SAME_DESTINATION);
  assert_int_equal(altsvc_usage_classify(&o, &q_other), ALTSVC_USAGE_QUIC_DIFFERENT_DESTINATION);
  assert_int_equal(altsvc_usage_classify(&o, &h_same), ALTSVC_USAGE_NOT_QUIC_SAME_DESTINATION);
  assert_int_equal(altsvc_usage_classify(&o, &h_other),
                   ALTSVC_USAGE_NOT_QUIC_DIFFERENT_DESTINATION);
  assert_int_equal(altsvc_usage_classify(&o, NULL), ALTSVC_USAGE_NO_ALTERNATIVE_SERVICE);
  assert_string_equal(altsvc_usage_name(ALTSVC_USAGE_QUIC_DIFFERENT_DESTINATION),
                      "QUIC_DIFFERENT_DESTINATION");
  assert_string_equal(altsvc_usage_name(ALTSVC_USAGE_NO_ALTERNATIVE_SERVICE),
                      "NO_ALTERNATIVE_SERVICE");
}

static void canonical_alternative_is_selectable(void **state) {
  fx *f = *state;
  set_origin(f, "https", "bar.c.youtube.com", 443);
  altsvc_info v = I(ALTSVC_PROTO_QUIC, "", 443, f);
  set(f, &v, 1);
  set_origin(f, "https", "foo.c.youtube.com", 443);
  sel(f);
  assert_chosen(f, ALTSVC_PROTO_QUIC, "foo.c.youtube.com", 443);
}

static void bad_arguments_are_errors(void **state) {
  fx *f = *state;
  assert_int_equal(altsvc_select(NULL, &f->params, &f->req, &f->res), CRONC_ERR_INVALID_ARGUMENT);
  assert_false(f->res.found);
  assert_int_equal(altsvc_select(f->p, NULL, &f->req, &f->res), CRONC_ERR_INVALID_ARGUMENT);
  assert_int_equal(altsvc_select(f->p, &f->params, NULL, &f->res), CRONC_ERR_INVALID_ARGUMENT);
  assert_int_equal(altsvc_select(f->p, &f->params, &f->req, NULL), CRONC_ERR_INVALID_ARGUMENT);
  f->req.origin.host[0] = '\0';
  assert_int_equal(altsvc_select(f->p, &f->params, &f->req, &f->res), CRONC_ERR_INVALID_ARGUMENT);
  assert_false(f->res.found);
}

int main(void) {
  const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
      T(params_init_has_chromium_defaults),
      T(quic_alternative_is_chosen),
      T(no_alternatives_gives_nothing),
      T(e1_http_origin_gets_no_alternative),
      T(disabled_alternative_services_give_nothing),
      T(broken_alternative_is_skipped),
      T(e2_restricted_origin_port_blocks_unrestricted_alt_port),
      T(e3_user_alternate_protocol_ports_permit_it),
      T(e4_restricted_to_restricted_is_allowed),
      T(e5_unrestricted_origin_port_allows_any),
      T(e7_h2_alternative_off_by_default),
      T(first_usable_alternative_wins),
      T(remote_quic_needs_allow_remote_alt_svc),
      T(quic_disabled_skips_quic),
      T(quic_host_allowlist),
      T(bidirectional_streams_may_opt_out_of_quic),
      T(quic_disabled_port_is_skipped),
      T(existing_quic_session_is_preferred),
      T(e10_unsupported_advertised_versions_are_skipped),
      T(advertised_order_wins_and_empty_uses_first_supported),
      T(e25_all_quic_broken_is_reported),
      T(usage_classification),
      T(canonical_alternative_is_selectable),
      T(bad_arguments_are_errors),
#undef T
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
