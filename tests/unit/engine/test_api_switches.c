/* The alternative-service switches of the public API: cronc_engine_params
 * defaults equal Chromium's; each field and each experimental-options key
 * (Cronet's QUIC keys, cronc's own) lands in engine_params; wrong types are
 * ignored; the QUIC host allow-list is split, trimmed and lower-cased as
 * Cronet splits host_whitelist; and cronc_engine_preconnect() checks its
 * arguments (the connections themselves arrive with the job controller). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "cronc/cronc.h"
#include "engine/api_params.h"
#include "engine/api_shared.h"

/* ---- Defaults ----------------------------------------------------------- */

static void test_params_init_sets_chromium_defaults(void **state) {
  (void)state;
  cronc_engine_params p;
  memset(&p, 0xa5, sizeof p);
  cronc_engine_params_init(&p);
  assert_false(p.enable_http2_alternative_service);
  assert_false(p.enable_user_alternate_protocol_ports);
  assert_true(p.allow_remote_alt_svc);
  assert_true(p.allow_remote_h2_alt_svc);
  assert_null(p.quic_host_allowlist);
  assert_int_equal(p.n_quic_host_allowlist, 0);
  assert_false(p.quic_disable_bidirectional_streams);
  assert_false(p.delay_main_job_with_available_spdy_session);
  assert_true(p.retry_without_alt_svc_on_quic_errors);
}

static void assert_switches_equal(const engine_params *a, const engine_params *b) {
  assert_int_equal(a->enable_http2_alternative_service, b->enable_http2_alternative_service);
  assert_int_equal(a->enable_user_alternate_protocol_ports,
                   b->enable_user_alternate_protocol_ports);
  assert_int_equal(a->allow_remote_alt_svc, b->allow_remote_alt_svc);
  assert_int_equal(a->allow_remote_h2_alt_svc, b->allow_remote_h2_alt_svc);
  assert_int_equal(a->n_quic_host_allowlist, b->n_quic_host_allowlist);
  assert_int_equal(a->quic_disable_bidirectional_streams, b->quic_disable_bidirectional_streams);
  assert_int_equal(a->delay_main_job_with_available_spdy_session,
                   b->delay_main_job_with_available_spdy_session);
  assert_int_equal(a->retry_without_alt_svc_on_quic_errors,
                   b->retry_without_alt_svc_on_quic_errors);
}

static void test_default_params_build_the_engines_defaults(void **state) {
  (void)state;
  cronc_engine_params p;
  cronc_engine_params_init(&p);
  engine_params ep, want;
  api_params_owned own;
  assert_int_equal(api_params_build(&p, &ep, &own), CRONC_OK);
  engine_params_init(&want);
  assert_switches_equal(&ep, &want);
  assert_null(ep.quic_host_allowlist);
  api_params_owned_free(&own);
}

/* ---- Fields -------------------------------------------------------------- */

static void test_each_switch_field_is_copied(void **state) {
  (void)state;
  cronc_engine_params p;
  cronc_engine_params_init(&p);
  p.enable_http2_alternative_service = true;
  p.enable_user_alternate_protocol_ports = true;
  p.allow_remote_alt_svc = false;
  p.allow_remote_h2_alt_svc = false;
  p.quic_disable_bidirectional_streams = true;
  p.delay_main_job_with_available_spdy_session = true;
  p.retry_without_alt_svc_on_quic_errors = false;
  engine_params ep;
  api_params_owned own;
  assert_int_equal(api_params_build(&p, &ep, &own), CRONC_OK);
  assert_true(ep.enable_http2_alternative_service);
  assert_true(ep.enable_user_alternate_protocol_ports);
  assert_false(ep.allow_remote_alt_svc);
  assert_false(ep.allow_remote_h2_alt_svc);
  assert_true(ep.quic_disable_bidirectional_streams);
  assert_true(ep.delay_main_job_with_available_spdy_session);
  assert_false(ep.retry_without_alt_svc_on_quic_errors);
  api_params_owned_free(&own);
}

/* Each bool alone, so a field copied into the wrong slot shows up. */
static void test_each_switch_field_moves_only_its_own_switch(void **state) {
  (void)state;
  for (int k = 0; k < 7; k++) {
    cronc_engine_params p;
    cronc_engine_params_init(&p);
    engine_params want;
    engine_params_init(&want);
    bool *pf[] = {&p.enable_http2_alternative_service,
                  &p.enable_user_alternate_protocol_ports,
                  &p.allow_remote_alt_svc,
                  &p.allow_remote_h2_alt_svc,
                  &p.quic_disable_bidirectional_streams,
                  &p.delay_main_job_with_available_spdy_session,
                  &p.retry_without_alt_svc_on_quic_errors};
    bool *wf[] = {&want.enable_http2_alternative_service,
                  &want.enable_user_alternate_protocol_ports,
                  &want.allow_remote_alt_svc,
                  &want.allow_remote_h2_alt_svc,
                  &want.quic_disable_bidirectional_streams,
                  &want.delay_main_job_with_available_spdy_session,
                  &want.retry_without_alt_svc_on_quic_errors};
    *pf[k] = !*pf[k];
    *wf[k] = !*wf[k];
    engine_params ep;
    api_params_owned own;
    assert_int_equal(api_params_build(&p, &ep, &own), CRONC_OK);
    assert_switches_equal(&ep, &want);
    api_params_owned_free(&own);
  }
}

static void test_allowlist_field_is_copied_trimmed_and_lower_cased(void **state) {
  (void)state;
  char h0[] = " Example.COM\t", h1[] = "b.test";
  const char *hosts[] = {h0, h1};
  cronc_engine_params p;
  cronc_engine_params_init(&p);
  p.quic_host_allowlist = hosts;
  p.n_quic_host_allowlist = 2;
  engine_params ep;
  api_params_owned own;
  assert_int_equal(api_params_build(&p, &ep, &own), CRONC_OK);
  assert_int_equal(ep.n_quic_host_allowlist, 2);
  assert_ptr_not_equal(ep.quic_host_allowlist, hosts);
  h1[0] = 'X'; /* the caller's strings may change after the call */
  assert_string_equal(ep.quic_host_allowlist[0], "example.com");
  assert_string_equal(ep.quic_host_allowlist[1], "b.test");
  api_params_owned_free(&own);
}

static void test_allowlist_field_with_null_entry_is_refused(void **state) {
  (void)state;
  const char *hosts[] = {"a.test", NULL};
  cronc_engine_params p;
  cronc_engine_params_init(&p);
  p.quic_host_allowlist = hosts;
  p.n_quic_host_allowlist = 2;
  engine_params ep;
  api_params_owned own;
  assert_int_equal(api_params_build(&p, &ep, &own), CRONC_ERR_INVALID_ARGUMENT);
  assert_null(own.quic_host_allowlist);
  assert_null(ep.quic_host_allowlist);
  p.quic_host_allowlist = NULL; /* a count without an array */
  assert_int_equal(api_params_build(&p, &ep, &own), CRONC_ERR_INVALID_ARGUMENT);
  cronc_engine *e = NULL;
  assert_int_equal(cronc_engine_new(&p, &e), CRONC_ERR_INVALID_ARGUMENT);
  assert_null(e);
}

/* A caller built before the switches existed: its struct ends earlier, so
 * whatever lies beyond it is not read and the defaults hold. */
static void test_older_struct_size_keeps_switch_defaults(void **state) {
  (void)state;
  cronc_engine_params p;
  cronc_engine_params_init(&p);
  p.struct_size = (uint32_t)offsetof(cronc_engine_params, enable_http2_alternative_service);
  p.enable_http2_alternative_service = true;
  p.allow_remote_alt_svc = false;
  p.retry_without_alt_svc_on_quic_errors = false;
  p.quic_host_allowlist = (const char *const *)(uintptr_t)1; /* never read */
  p.n_quic_host_allowlist = 3;
  engine_params ep, want;
  api_params_owned own;
  assert_int_equal(api_params_build(&p, &ep, &own), CRONC_OK);
  engine_params_init(&want);
  assert_switches_equal(&ep, &want);
  api_params_owned_free(&own);
}

static void test_build_refuses_missing_or_tiny_params(void **state) {
  (void)state;
  engine_params ep;
  api_params_owned own;
  assert_int_equal(api_params_build(NULL, &ep, &own), CRONC_ERR_INVALID_ARGUMENT);
  cronc_engine_params p;
  cronc_engine_params_init(&p);
  p.struct_size = 4;
  assert_int_equal(api_params_build(&p, &ep, &own), CRONC_ERR_INVALID_ARGUMENT);
}

/* ---- Experimental options --------------------------------------------------- */

/* Builds from default params plus json. */
static int build_json(const char *json, engine_params *ep, api_params_owned *own) {
  cronc_engine_params p;
  cronc_engine_params_init(&p);
  p.experimental_options = json;
  return api_params_build(&p, ep, own);
}

static void test_cronet_quic_keys_map_to_switches(void **state) {
  (void)state;
  engine_params ep;
  api_params_owned own;
  assert_int_equal(build_json("{\"QUIC\":{\"quic_disable_bidirectional_streams\":true,"
                              "\"retry_without_alt_svc_on_quic_errors\":false,"
                              "\"delay_main_job_with_available_spdy_session\":true,"
                              "\"host_whitelist\":\"a.test,b.test\"}}",
                              &ep, &own),
                   CRONC_OK);
  assert_true(ep.quic_disable_bidirectional_streams);
  assert_false(ep.retry_without_alt_svc_on_quic_errors);
  assert_true(ep.delay_main_job_with_available_spdy_session);
  assert_int_equal(ep.n_quic_host_allowlist, 2);
  assert_string_equal(ep.quic_host_allowlist[0], "a.test");
  assert_string_equal(ep.quic_host_allowlist[1], "b.test");
  /* Untouched switches keep their defaults. */
  assert_false(ep.enable_http2_alternative_service);
  assert_true(ep.allow_remote_alt_svc);
  api_params_owned_free(&own);
  assert_int_equal(build_json("{\"QUIC\":{\"quic_disable_bidirectional_streams\":false,"
                              "\"retry_without_alt_svc_on_quic_errors\":true,"
                              "\"delay_main_job_with_available_spdy_session\":false}}",
                              &ep, &own),
                   CRONC_OK);
  assert_false(ep.quic_disable_bidirectional_streams);
  assert_true(ep.retry_without_alt_svc_on_quic_errors);
  assert_false(ep.delay_main_job_with_available_spdy_session);
  api_params_owned_free(&own);
}

static void test_cronc_keys_map_to_switches_without_cronet_keys(void **state) {
  (void)state;
  engine_params ep;
  api_params_owned own;
  assert_int_equal(build_json("{\"cronc\":{\"enable_http2_alternative_service\":true,"
                              "\"enable_user_alternate_protocol_ports\":true,"
                              "\"allow_remote_alt_svc\":false,"
                              "\"allow_remote_h2_alt_svc\":false}}",
                              &ep, &own),
                   CRONC_OK);
  assert_true(ep.enable_http2_alternative_service);
  assert_true(ep.enable_user_alternate_protocol_ports);
  assert_false(ep.allow_remote_alt_svc);
  assert_false(ep.allow_remote_h2_alt_svc);
  assert_true(ep.retry_without_alt_svc_on_quic_errors);
  api_params_owned_free(&own);
}

/* cronc's keys are not Cronet's: under "QUIC" they mean nothing, and
 * Cronet's QUIC keys under "cronc" mean nothing either. */
static void test_switch_keys_under_the_wrong_object_are_ignored(void **state) {
  (void)state;
  engine_params ep, want;
  api_params_owned own;
  engine_params_init(&want);
  assert_int_equal(build_json("{\"QUIC\":{\"allow_remote_alt_svc\":false,"
                              "\"enable_http2_alternative_service\":true},"
                              "\"cronc\":{\"host_whitelist\":\"a.test\","
                              "\"retry_without_alt_svc_on_quic_errors\":false},"
                              "\"allow_remote_alt_svc\":false}",
                              &ep, &own),
                   CRONC_OK);
  assert_switches_equal(&ep, &want);
  api_params_owned_free(&own);
}

static void test_values_of_the_wrong_type_are_ignored(void **state) {
  (void)state;
  engine_params ep, want;
  api_params_owned own;
  engine_params_init(&want);
  assert_int_equal(build_json("{\"QUIC\":{\"host_whitelist\":5,"
                              "\"quic_disable_bidirectional_streams\":\"true\","
                              "\"retry_without_alt_svc_on_quic_errors\":0,"
                              "\"delay_main_job_with_available_spdy_session\":null,"
                              "\"idle_connection_timeout_seconds\":7},"
                              "\"cronc\":{\"enable_http2_alternative_service\":[true],"
                              "\"enable_user_alternate_protocol_ports\":{\"a\":true},"
                              "\"allow_remote_alt_svc\":\"false\","
                              "\"allow_remote_h2_alt_svc\":1.5}}",
                              &ep, &own),
                   CRONC_OK);
  assert_switches_equal(&ep, &want);
  assert_null(ep.quic_host_allowlist);
  /* The well-typed key beside them still applies. */
  assert_int_equal(ep.quic_idle_timeout_ms, 7000);
  api_params_owned_free(&own);
  /* A whole object of the wrong type. */
  assert_int_equal(build_json("{\"QUIC\":\"host_whitelist\",\"cronc\":[1]}", &ep, &own), CRONC_OK);
  assert_switches_equal(&ep, &want);
  api_params_owned_free(&own);
}

static void test_host_whitelist_is_split_trimmed_and_lower_cased(void **state) {
  (void)state;
  engine_params ep;
  api_params_owned own;
  assert_int_equal(
      build_json("{\"QUIC\":{\"host_whitelist\":\" A.Test ,b.TEST,\\tc.test\\n\"}}", &ep, &own),
      CRONC_OK);
  assert_int_equal(ep.n_quic_host_allowlist, 3);
  assert_string_equal(ep.quic_host_allowlist[0], "a.test");
  assert_string_equal(ep.quic_host_allowlist[1], "b.test");
  assert_string_equal(ep.quic_host_allowlist[2], "c.test");
  api_params_owned_free(&own);
  /* JSON escapes are read before splitting. */
  assert_int_equal(
      build_json("{\"QUIC\":{\"host_whitelist\":\"x\\u002eTEST\\u002cy.test\"}}", &ep, &own),
      CRONC_OK);
  assert_int_equal(ep.n_quic_host_allowlist, 2);
  assert_string_equal(ep.quic_host_allowlist[0], "x.test");
  assert_string_equal(ep.quic_host_allowlist[1], "y.test");
  api_params_owned_free(&own);
}

/* base::SplitString(SPLIT_WANT_ALL) as Cronet calls it: "" is no entry at
 * all (any host); empty pieces are kept, so " " is one empty entry, which
 * matches no host. */
static void test_host_whitelist_empty_pieces_split_as_cronet_does(void **state) {
  (void)state;
  engine_params ep;
  api_params_owned own;
  assert_int_equal(build_json("{\"QUIC\":{\"host_whitelist\":\"\"}}", &ep, &own), CRONC_OK);
  assert_int_equal(ep.n_quic_host_allowlist, 0);
  api_params_owned_free(&own);
  assert_int_equal(build_json("{\"QUIC\":{\"host_whitelist\":\" \"}}", &ep, &own), CRONC_OK);
  assert_int_equal(ep.n_quic_host_allowlist, 1);
  assert_string_equal(ep.quic_host_allowlist[0], "");
  api_params_owned_free(&own);
  assert_int_equal(build_json("{\"QUIC\":{\"host_whitelist\":\"a.test,,b.test,\"}}", &ep, &own),
                   CRONC_OK);
  assert_int_equal(ep.n_quic_host_allowlist, 4);
  assert_string_equal(ep.quic_host_allowlist[0], "a.test");
  assert_string_equal(ep.quic_host_allowlist[1], "");
  assert_string_equal(ep.quic_host_allowlist[2], "b.test");
  assert_string_equal(ep.quic_host_allowlist[3], "");
  api_params_owned_free(&own);
}

static void test_host_list_split_and_copy_directly(void **state) {
  (void)state;
  char **list = NULL;
  size_t n = 99;
  assert_int_equal(api_host_list_split("A,b", 3, &list, &n), CRONC_OK);
  assert_int_equal(n, 2);
  assert_string_equal(list[0], "a");
  assert_string_equal(list[1], "b");
  free(list);
  /* Only len bytes are read. */
  assert_int_equal(api_host_list_split("a.test,zzz", 6, &list, &n), CRONC_OK);
  assert_int_equal(n, 1);
  assert_string_equal(list[0], "a.test");
  free(list);
  assert_int_equal(api_host_list_split("", 0, &list, &n), CRONC_OK);
  assert_int_equal(n, 0);
  assert_null(list);
  const char *hosts[] = {"  ", "Q.Test"};
  assert_int_equal(api_host_list_copy(hosts, 2, &list), CRONC_OK);
  assert_string_equal(list[0], "");
  assert_string_equal(list[1], "q.test");
  free(list);
  assert_int_equal(api_host_list_copy(NULL, 0, &list), CRONC_OK);
  assert_null(list);
  assert_int_equal(api_host_list_copy(NULL, 1, &list), CRONC_ERR_INVALID_ARGUMENT);
}

/* Cronet applies experimental options over the builder's settings: a key
 * present wins over the field, host_whitelist replaces the field's list
 * (even with "", which clears it), and a key absent leaves the field. */
static void test_experimental_options_win_over_fields(void **state) {
  (void)state;
  const char *hosts[] = {"field.test"};
  cronc_engine_params p;
  cronc_engine_params_init(&p);
  p.allow_remote_alt_svc = false;
  p.retry_without_alt_svc_on_quic_errors = false;
  p.enable_user_alternate_protocol_ports = true;
  p.quic_host_allowlist = hosts;
  p.n_quic_host_allowlist = 1;
  p.experimental_options = "{\"cronc\":{\"allow_remote_alt_svc\":true},"
                           "\"QUIC\":{\"retry_without_alt_svc_on_quic_errors\":true,"
                           "\"host_whitelist\":\"json.test\"}}";
  engine_params ep;
  api_params_owned own;
  assert_int_equal(api_params_build(&p, &ep, &own), CRONC_OK);
  assert_true(ep.allow_remote_alt_svc);
  assert_true(ep.retry_without_alt_svc_on_quic_errors);
  assert_true(ep.enable_user_alternate_protocol_ports); /* no key: the field */
  assert_int_equal(ep.n_quic_host_allowlist, 1);
  assert_string_equal(ep.quic_host_allowlist[0], "json.test");
  api_params_owned_free(&own);
  p.experimental_options = "{\"QUIC\":{\"host_whitelist\":\"\"}}";
  assert_int_equal(api_params_build(&p, &ep, &own), CRONC_OK);
  assert_int_equal(ep.n_quic_host_allowlist, 0);
  api_params_owned_free(&own);
  p.experimental_options = "{\"QUIC\":{\"host_whitelist\":7}}"; /* ignored: the field stays */
  assert_int_equal(api_params_build(&p, &ep, &own), CRONC_OK);
  assert_int_equal(ep.n_quic_host_allowlist, 1);
  assert_string_equal(ep.quic_host_allowlist[0], "field.test");
  api_params_owned_free(&own);
}

static void test_repeated_key_last_value_wins(void **state) {
  (void)state;
  engine_params ep;
  api_params_owned own;
  assert_int_equal(build_json("{\"QUIC\":{\"host_whitelist\":\"a.test,b.test\","
                              "\"host_whitelist\":\"c.test\"},"
                              "\"cronc\":{\"allow_remote_alt_svc\":false},"
                              "\"cronc\":{\"allow_remote_alt_svc\":true}}",
                              &ep, &own),
                   CRONC_OK);
  assert_int_equal(ep.n_quic_host_allowlist, 1);
  assert_string_equal(ep.quic_host_allowlist[0], "c.test");
  assert_true(ep.allow_remote_alt_svc);
  api_params_owned_free(&own);
}

static void test_options_that_are_not_an_object_fail_the_build(void **state) {
  (void)state;
  const char *hosts[] = {"a.test"};
  cronc_engine_params p;
  cronc_engine_params_init(&p);
  p.quic_host_allowlist = hosts;
  p.n_quic_host_allowlist = 1;
  p.experimental_options = "{\"QUIC\":{\"host_whitelist\":\"x\"}";
  engine_params ep;
  api_params_owned own;
  assert_int_equal(api_params_build(&p, &ep, &own), CRONC_ERR_INVALID_ARGUMENT);
  assert_null(own.quic_host_allowlist); /* nothing left to free */
  assert_null(own.json.quic_host_allowlist);
  assert_null(ep.quic_host_allowlist);
  cronc_engine *e = NULL;
  assert_int_equal(cronc_engine_new(&p, &e), CRONC_ERR_INVALID_ARGUMENT);
  assert_null(e);
}

/* The older entry point (the fuzz target's) applies every key but cannot
 * hand back the allow-list's memory: it leaves the caller's list alone. */
static void test_legacy_apply_leaves_the_allowlist_alone(void **state) {
  (void)state;
  const char *mine[] = {"mine.test"};
  engine_params ep;
  engine_params_init(&ep);
  ep.quic_host_allowlist = mine;
  ep.n_quic_host_allowlist = 1;
  char *rules = NULL, *ca = NULL;
  assert_int_equal(api_json_options_apply("{\"QUIC\":{\"host_whitelist\":\"a,b\","
                                          "\"delay_main_job_with_available_spdy_session\":true},"
                                          "\"HostResolverRules\":{\"host_resolver_rules\":\"X\"}}",
                                          &ep, &rules, &ca),
                   CRONC_OK);
  assert_ptr_equal(ep.quic_host_allowlist, mine);
  assert_int_equal(ep.n_quic_host_allowlist, 1);
  assert_true(ep.delay_main_job_with_available_spdy_session);
  assert_string_equal(rules, "X");
  assert_null(ca);
  free(rules);
}

/* The whole path through cronc_engine_new(): memory handed to the engine
 * and released after (ASan checks the ownership). */
static void test_engine_starts_with_every_switch_set(void **state) {
  (void)state;
  const char *hosts[] = {"A.test", "b.test"};
  cronc_engine_params p;
  cronc_engine_params_init(&p);
  p.enable_http2_alternative_service = true;
  p.enable_user_alternate_protocol_ports = true;
  p.allow_remote_alt_svc = false;
  p.allow_remote_h2_alt_svc = false;
  p.quic_host_allowlist = hosts;
  p.n_quic_host_allowlist = 2;
  p.quic_disable_bidirectional_streams = true;
  p.delay_main_job_with_available_spdy_session = true;
  p.retry_without_alt_svc_on_quic_errors = false;
  p.experimental_options = "{\"QUIC\":{\"host_whitelist\":\"c.test\"},"
                           "\"HostResolverRules\":{\"host_resolver_rules\":\"MAP * ~NOTFOUND\"}}";
  cronc_engine *e = NULL;
  assert_int_equal(cronc_engine_new(&p, &e), CRONC_OK);
  assert_non_null(e);
  cronc_engine_free(e);
}

/* ---- Preconnect ------------------------------------------------------------ */

static cronc_engine *offline_engine(void) {
  cronc_engine_params p;
  cronc_engine_params_init(&p);
  /* Nothing resolves: a preconnect never reaches the network. */
  p.host_resolver_rules = "MAP * ~NOTFOUND";
  cronc_engine *e = NULL;
  assert_int_equal(cronc_engine_new(&p, &e), CRONC_OK);
  return e;
}

static void test_preconnect_refuses_bad_arguments(void **state) {
  (void)state;
  cronc_engine *e = offline_engine();
  assert_int_equal(cronc_engine_preconnect(NULL, "https://a.test/", 1), CRONC_ERR_INVALID_ARGUMENT);
  assert_int_equal(cronc_engine_preconnect(e, NULL, 1), CRONC_ERR_INVALID_ARGUMENT);
  assert_int_equal(cronc_engine_preconnect(e, "https://a.test/", 0), CRONC_ERR_INVALID_ARGUMENT);
  assert_int_equal(cronc_engine_preconnect(e, "https://a.test/", -3), CRONC_ERR_INVALID_ARGUMENT);
  assert_int_equal(cronc_engine_preconnect(e, "", 1), CRONC_ERR_INVALID_URL);
  assert_int_equal(cronc_engine_preconnect(e, "not a url", 1), CRONC_ERR_INVALID_URL);
  assert_int_equal(cronc_engine_preconnect(e, "https://", 1), CRONC_ERR_INVALID_URL);
  assert_int_equal(cronc_engine_preconnect(e, "ftp://a.test/", 1), CRONC_ERR_UNKNOWN_URL_SCHEME);
  assert_int_equal(cronc_engine_preconnect(e, "wss://a.test/", 1), CRONC_ERR_DISALLOWED_URL_SCHEME);
  cronc_engine_free(e);
}

/* Valid calls are queued (the network thread runs engine_preconnect();
 * until the job controller lands it opens nothing). Freeing the engine
 * right after must neither leak nor touch freed memory. */
static void test_preconnect_queues_valid_requests(void **state) {
  (void)state;
  cronc_engine *e = offline_engine();
  assert_int_equal(cronc_engine_preconnect(e, "https://a.test/x?y#z", 1), CRONC_OK);
  assert_int_equal(cronc_engine_preconnect(e, "http://a.test:8080/", 2), CRONC_OK);
  assert_int_equal(cronc_engine_preconnect(e, "https://a.test/", 1000), CRONC_OK); /* clamped */
  assert_int_equal(cronc_engine_preconnect(e, "https://a.test/", CRONC_PRECONNECT_MAX_STREAMS),
                   CRONC_OK);
  cronc_engine_free(e);
}

static void test_preconnect_after_shutdown_is_refused(void **state) {
  (void)state;
  cronc_engine *e = offline_engine();
  assert_int_equal(cronc_engine_shutdown(e), CRONC_OK);
  assert_int_equal(cronc_engine_preconnect(e, "https://a.test/", 1), CRONC_ERR_CONTEXT_SHUT_DOWN);
  /* Argument errors still come first. */
  assert_int_equal(cronc_engine_preconnect(e, "https://a.test/", 0), CRONC_ERR_INVALID_ARGUMENT);
  cronc_engine_free(e);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_params_init_sets_chromium_defaults),
      cmocka_unit_test(test_default_params_build_the_engines_defaults),
      cmocka_unit_test(test_each_switch_field_is_copied),
      cmocka_unit_test(test_each_switch_field_moves_only_its_own_switch),
      cmocka_unit_test(test_allowlist_field_is_copied_trimmed_and_lower_cased),
      cmocka_unit_test(test_allowlist_field_with_null_entry_is_refused),
      cmocka_unit_test(test_older_struct_size_keeps_switch_defaults),
      cmocka_unit_test(test_build_refuses_missing_or_tiny_params),
      cmocka_unit_test(test_cronet_quic_keys_map_to_switches),
      cmocka_unit_test(test_cronc_keys_map_to_switches_without_cronet_keys),
      cmocka_unit_test(test_switch_keys_under_the_wrong_object_are_ignored),
      cmocka_unit_test(test_values_of_the_wrong_type_are_ignored),
      cmocka_unit_test(test_host_whitelist_is_split_trimmed_and_lower_cased),
      cmocka_unit_test(test_host_whitelist_empty_pieces_split_as_cronet_does),
      cmocka_unit_test(test_host_list_split_and_copy_directly),
      cmocka_unit_test(test_experimental_options_win_over_fields),
      cmocka_unit_test(test_repeated_key_last_value_wins),
      cmocka_unit_test(test_options_that_are_not_an_object_fail_the_build),
      cmocka_unit_test(test_legacy_apply_leaves_the_allowlist_alone),
      cmocka_unit_test(test_engine_starts_with_every_switch_set),
      cmocka_unit_test(test_preconnect_refuses_bad_arguments),
      cmocka_unit_test(test_preconnect_queues_valid_requests),
      cmocka_unit_test(test_preconnect_after_shutdown_is_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
