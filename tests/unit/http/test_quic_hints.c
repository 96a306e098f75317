/* QUIC hints: Cronet's validation and their storage as never-expiring QUIC
 * alternative services (CHROMIUM_ALTSVC.md §1.14). */
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
#include "http/quic_hints.h"
#include "http/server_properties.h"

#define START_US (INT64_C(1700000000) * BASE_US_PER_SEC)

typedef struct captured {
  int n;
  netlog_event_type type;
  char params[512];
} captured;

typedef struct fx {
  base_manual_clock mc;
  netlog *nl;
  props *p;
  captured c;
  altsvc_info_list l;
  int changes;
} fx;

static void capture(const netlog_entry *e, void *ud) {
  captured *c = ud;
  if (e->type != NETLOG_TYPE_CRONC_QUIC_HINT_INVALID &&
      e->type != NETLOG_TYPE_CRONC_QUIC_HINT_ADDED)
    return;
  c->n++;
  c->type = e->type;
  snprintf(c->params, sizeof c->params, "%s", e->params ? e->params : "");
}

static void on_changed(void *ud) { ((fx *)ud)->changes++; }

static int setup(void **state) {
  fx *f = calloc(1, sizeof *f);
  if (!f)
    return -1;
  base_manual_clock_init(&f->mc, START_US);
  f->nl = netlog_new(&f->mc.base);
  if (!f->nl || !netlog_add_observer(f->nl, capture, &f->c))
    return -1;
  props_params pp;
  props_params_init(&pp);
  pp.clock = &f->mc.base;
  pp.nl = f->nl;
  pp.on_changed = on_changed;
  pp.user_data = f;
  f->p = props_new(&pp);
  altsvc_info_list_init(&f->l);
  *state = f;
  return f->p ? 0 : -1;
}

static int teardown(void **state) {
  fx *f = *state;
  props_free(f->p);
  netlog_free(f->nl);
  altsvc_info_list_free(&f->l);
  free(f);
  return 0;
}

static url_origin https(const char *host, uint16_t port) {
  url_origin o;
  assert_int_equal(url_origin_init(&o, URL_SCHEME_HTTPS, host, strlen(host), port), 0);
  return o;
}

static void assert_invalid(fx *f, const char *host, int32_t port, int32_t alt, const char *reason) {
  f->c.n = 0;
  size_t before = props_server_count(f->p);
  assert_int_equal(props_add_quic_hint(f->p, host, port, alt), CRONC_ERR_INVALID_ARGUMENT);
  assert_int_equal(props_server_count(f->p), before);
  assert_int_equal(f->c.n, 1);
  assert_int_equal(f->c.type, NETLOG_TYPE_CRONC_QUIC_HINT_INVALID);
  char expect[256];
  snprintf(expect, sizeof expect, "\"port\":%ld,\"alternate_port\":%ld,\"reason\":\"%s\"",
           (long)port, (long)alt, reason);
  assert_non_null(strstr(f->c.params, expect));
  assert_non_null(strstr(f->c.params, "\"host\":"));
  const char *why = NULL;
  assert_int_equal(props_quic_hint_validate(host, port, alt, NULL, 0, &why),
                   CRONC_ERR_INVALID_ARGUMENT);
  assert_string_equal(why, reason);
}

static void valid_name_becomes_never_expiring_quic_alternative(void **state) {
  fx *f = *state;
  assert_int_equal(props_add_quic_hint(f->p, "WWW.Example.com", 443, 8443), 0);
  assert_int_equal(f->changes, 1);
  assert_int_equal(f->c.n, 1);
  assert_int_equal(f->c.type, NETLOG_TYPE_CRONC_QUIC_HINT_ADDED);
  url_origin o = https("www.example.com", 443);
  assert_int_equal(props_get_alternative_service_infos(f->p, &o, &f->l), 0);
  assert_int_equal(f->l.count, 1);
  const altsvc_info *i = &f->l.items[0];
  assert_int_equal(i->service.protocol, ALTSVC_PROTO_QUIC);
  assert_string_equal(i->service.host, "www.example.com"); /* stored "" */
  assert_int_equal(i->service.port, 8443);
  assert_true(i->expiration_us == BASE_TIME_MAX);
  assert_int_equal(i->n_alpns, 0);
  /* Never expires. */
  base_manual_clock_advance(&f->mc, INT64_C(3650) * 86400 * BASE_US_PER_SEC);
  assert_int_equal(props_get_alternative_service_infos(f->p, &o, &f->l), 0);
  assert_int_equal(f->l.count, 1);
  /* Only for https. */
  url_origin http;
  assert_int_equal(url_origin_init(&http, URL_SCHEME_HTTP, "www.example.com", 15, 443), 0);
  assert_int_equal(props_get_alternative_service_infos(f->p, &http, &f->l), 0);
  assert_int_equal(f->l.count, 0);
}

static void same_hint_twice_is_no_change(void **state) {
  fx *f = *state;
  assert_int_equal(props_add_quic_hint(f->p, "example.com", 443, 443), 0);
  assert_int_equal(props_add_quic_hint(f->p, "example.com", 443, 443), 0);
  assert_int_equal(f->changes, 1);
}

static void ipv4_literal_is_valid(void **state) {
  fx *f = *state;
  assert_int_equal(props_add_quic_hint(f->p, "192.0.2.7", 443, 443), 0);
  url_origin o = https("192.0.2.7", 443);
  assert_int_equal(props_get_alternative_service_infos(f->p, &o, &f->l), 0);
  assert_int_equal(f->l.count, 1);
}

static void ipv6_literal_is_valid(void **state) {
  fx *f = *state;
  char canon[URL_MAX_HOST + 1];
  assert_int_equal(props_quic_hint_validate("[2001:DB8::1]", 443, 443, canon, sizeof canon, NULL),
                   0);
  assert_string_equal(canon, "[2001:db8::1]");
  assert_int_equal(props_add_quic_hint(f->p, "[2001:db8::1]", 443, 4433), 0);
  url_origin o = https("[2001:db8::1]", 443);
  assert_int_equal(props_get_alternative_service_infos(f->p, &o, &f->l), 0);
  assert_int_equal(f->l.count, 1);
  assert_int_equal(f->l.items[0].service.port, 4433);
}

static void empty_host_is_invalid(void **state) {
  fx *f = *state;
  assert_invalid(f, "", 443, 443, "empty host");
  assert_invalid(f, NULL, 443, 443, "empty host");
}

static void host_with_slash_is_invalid(void **state) {
  fx *f = *state;
  assert_invalid(f, "example.com/path", 443, 443, "host contains '/'");
}

static void host_with_spaces_is_invalid(void **state) {
  fx *f = *state;
  assert_invalid(f, "bad host name", 443, 443, "invalid host");
  assert_invalid(f, "exa!mple.com", 443, 443, "invalid host");
  assert_invalid(f, "-leading.example.-x", 443, 443, "invalid host");
}

static void compliant_host_rules(void **state) {
  (void)state;
  assert_int_equal(props_quic_hint_validate("under_score.example", 1, 1, NULL, 0, NULL), 0);
  assert_int_equal(props_quic_hint_validate("trailing.dot.", 1, 1, NULL, 0, NULL), 0);
  char label64[80];
  memset(label64, 'a', 64);
  strcpy(label64 + 64, ".com");
  assert_int_equal(props_quic_hint_validate(label64, 1, 1, NULL, 0, NULL),
                   CRONC_ERR_INVALID_ARGUMENT);
  assert_int_equal(props_quic_hint_validate(label64 + 1, 1, 1, NULL, 0, NULL), 0); /* 63 */
}

static void port_zero_is_invalid(void **state) {
  fx *f = *state;
  assert_invalid(f, "example.com", 0, 443, "invalid port");
}

static void port_65536_is_invalid(void **state) {
  fx *f = *state;
  assert_invalid(f, "example.com", 65536, 443, "invalid port");
  assert_invalid(f, "example.com", -1, 443, "invalid port");
}

static void alternate_port_zero_is_invalid(void **state) {
  fx *f = *state;
  assert_invalid(f, "example.com", 443, 0, "invalid alternate port");
  assert_invalid(f, "example.com", 443, 65536, "invalid alternate port");
}

static void port_bounds_are_valid(void **state) {
  fx *f = *state;
  assert_int_equal(props_add_quic_hint(f->p, "example.com", 1, 65535), 0);
  assert_int_equal(props_add_quic_hint(f->p, "example.com", 65535, 1), 0);
  assert_int_equal(props_server_count(f->p), 2);
}

static void invalid_hint_keeps_existing_state(void **state) {
  fx *f = *state;
  assert_int_equal(props_add_quic_hint(f->p, "example.com", 443, 8443), 0);
  assert_int_equal(props_add_quic_hint(f->p, "example.com", 443, 0), CRONC_ERR_INVALID_ARGUMENT);
  url_origin o = https("example.com", 443);
  assert_int_equal(props_get_alternative_service_infos(f->p, &o, &f->l), 0);
  assert_int_equal(f->l.count, 1);
  assert_int_equal(f->l.items[0].service.port, 8443);
  assert_int_equal(props_add_quic_hint(NULL, "example.com", 443, 443), CRONC_ERR_INVALID_ARGUMENT);
}

static void hint_replaces_the_origins_list(void **state) {
  fx *f = *state;
  url_origin o = https("example.com", 443);
  const char *h = "h3=\":443\", h2=\":444\"";
  assert_int_equal(props_process_alt_svc_header(f->p, &o, h, strlen(h), true, true), 1);
  assert_int_equal(props_add_quic_hint(f->p, "example.com", 443, 8443), 0);
  assert_int_equal(props_get_alternative_service_infos(f->p, &o, &f->l), 0);
  assert_int_equal(f->l.count, 1);
  assert_int_equal(f->l.items[0].service.port, 8443);
}

int main(void) {
  const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
      T(valid_name_becomes_never_expiring_quic_alternative),
      T(same_hint_twice_is_no_change),
      T(ipv4_literal_is_valid),
      T(ipv6_literal_is_valid),
      T(empty_host_is_invalid),
      T(host_with_slash_is_invalid),
      T(host_with_spaces_is_invalid),
      T(compliant_host_rules),
      T(port_zero_is_invalid),
      T(port_65536_is_invalid),
      T(alternate_port_zero_is_invalid),
      T(port_bounds_are_valid),
      T(invalid_hint_keeps_existing_state),
      T(hint_replaces_the_origins_list),
#undef T
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
