/* End to end through the public API: the job controller racing an
 * alternative service (HTTP/3 through a UDP fault proxy of our own) against
 * TCP, learning Alt-Svc, falling back, marking broken, persisting, against a
 * real Caddy serving h1/h2/h3 on loopback (issue 7's ten scenarios).
 *
 * Caddy's own HTTP/3 listens on UDP <port>; every response advertises
 * h3=":<proxy port>" instead, so QUIC goes through udp_fault_proxy, which the
 * tests switch between forwarding and swallowing datagrams. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cronc/cronc.h"
#include "engine/api_internal.h"
#include "engine/engine.h"
#include "http/server_properties.h"
#include "quic/quic_session_pool.h"
#include "support/caddy_server.h"
#include "support/fetch_util.h"
#include "support/http_origin.h"
#include "support/net_test_util.h"
#include "support/udp_fault_proxy.h"

#define WAIT_MS 20000

static caddy_server *g_caddy;
static udp_fault_proxy *g_proxy; /* UDP :R -> Caddy's h3 on :P */
static char g_tmp[256];

static uint16_t caddy_port(void) { return caddy_server_port(g_caddy); }
static uint16_t alt_port(void) { return udp_fault_proxy_port(g_proxy); }

static int group_setup(void **state) {
  (void)state;
  g_proxy = udp_fault_proxy_new(9); /* re-targeted at Caddy below */
  if (!g_proxy)
    return -1;
  static char extra[2048];
  unsigned r = alt_port();
  snprintf(extra, sizeof extra,
           "@alt not path /clear/* /short/* /unknown/* /remote/*\n"
           "\theader @alt Alt-Svc `h3=\":%u\"; ma=86400`\n"
           "\theader /clear/* Alt-Svc clear\n"
           "\theader /short/* Alt-Svc `h3=\":%u\"; ma=1`\n"
           "\theader /unknown/* Alt-Svc `h9=\":%u\", foo=\":1\"`\n"
           "\theader /remote/* Alt-Svc `h3=\"127.0.0.1:%u\"; ma=86400`\n"
           "\t@misdirected {\n\t\tpath /misdirected/*\n\t\tprotocol http/3\n\t}\n"
           "\trespond @misdirected 421",
           r, r, r, r);
  caddy_options o;
  caddy_options_init(&o);
  o.protocols = CADDY_PROTO_H1 | CADDY_PROTO_H2 | CADDY_PROTO_H3;
  o.extra_site_config = extra;
  if (caddy_server_start(&o, &g_caddy) != 0)
    return -1;
  udp_fault_proxy_set_target(g_proxy, caddy_port());
  caddy_server_put_file(g_caddy, "a.txt", "alt-svc race\n", 13);
  const char *dirs[] = {"clear", "short", "unknown", "remote", "misdirected"};
  for (size_t i = 0; i < 5; i++) {
    char d[512];
    snprintf(d, sizeof d, "%s/%s", caddy_server_www_dir(g_caddy), dirs[i]);
    mkdir(d, 0755);
    snprintf(d, sizeof d, "%s/x.txt", dirs[i]);
    caddy_server_put_file(g_caddy, d, "x\n", 2);
  }
  snprintf(g_tmp, sizeof g_tmp, "/tmp/cronc-altsvc-XXXXXX");
  if (!mkdtemp(g_tmp))
    return -1;
  return 0;
}

static int group_teardown(void **state) {
  (void)state;
  caddy_server_stop(g_caddy);
  udp_fault_proxy_free(g_proxy);
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf %s", g_tmp);
  if (system(cmd) != 0)
    fprintf(stderr, "could not remove %s\n", g_tmp);
  return 0;
}

static int test_setup(void **state) {
  (void)state;
  udp_fault_proxy_set_mode(g_proxy, UDP_FAULT_FORWARD);
  return 0;
}

typedef struct engine_opts {
  const char *storage;
  const char *json;
  const cronc_quic_hint *hints;
  size_t n_hints;
  const char *rules;
  const char *netlog;
  bool no_quic;
  bool user_ports;
  bool no_remote_alt_svc;
} engine_opts;

static cronc_engine *new_engine(const engine_opts *eo) {
  cronc_engine_params p;
  cronc_engine_params_init(&p);
  p.extra_ca_file = caddy_server_root_ca(g_caddy);
  p.storage_path = eo->storage;
  p.experimental_options = eo->json;
  p.quic_hints = eo->hints;
  p.n_quic_hints = eo->n_hints;
  p.host_resolver_rules = eo->rules;
  p.netlog_path = eo->netlog;
  p.enable_quic = !eo->no_quic;
  p.enable_user_alternate_protocol_ports = eo->user_ports;
  p.allow_remote_alt_svc = !eo->no_remote_alt_svc;
  cronc_engine *e = NULL;
  assert_int_equal(cronc_engine_new(&p, &e), CRONC_OK);
  return e;
}

static fetch_result *fetch_url(cronc_engine *e, const char *u) {
  fetch_result *r = fetch_result_new();
  cronc_request *q = fetch_start(e, u, NULL, r);
  assert_non_null(q);
  assert_true(fetch_wait(r, WAIT_MS));
  cronc_request_free(q);
  return r;
}

static fetch_result *fetch_path(cronc_engine *e, const char *path) {
  char u[256];
  snprintf(u, sizeof u, "https://localhost:%u%s", (unsigned)caddy_port(), path);
  return fetch_url(e, u);
}

/* Fetches path until the response came over h3 (an orphaned alternative
 * job's session is confirmed a little after the h2 response that raced
 * it). Returns the h3 result or fails the test. */
static fetch_result *fetch_until_h3(cronc_engine *e, const char *path) {
  for (int i = 0; i < 40; i++) {
    fetch_result *r = fetch_path(e, path);
    assert_int_equal(r->error, 0);
    assert_int_equal(r->status, 200);
    if (strcmp(r->protocol, "h3") == 0)
      return r;
    fetch_result_free(r);
    usleep(50 * 1000);
  }
  fail_msg("never switched to h3");
  return NULL;
}

static void sleep_ms(unsigned ms) { usleep(ms * 1000u); }

/* Reads engine-internal counters on the network thread. */
typedef struct counters {
  engine *e;
  size_t quic_established;
  size_t tcp_connects;
  size_t h2_connections;
} counters;

static void read_counters(void *arg) {
  counters *c = arg;
  quic_pool *qp = engine_quic_pool(c->e);
  c->quic_established = qp ? quic_pool_connections_established(qp) : 0;
  c->tcp_connects = stream_factory_connects_started(engine_stream_factory_impl(c->e));
  c->h2_connections = stream_factory_h2_connection_count(engine_stream_factory_impl(c->e));
}

static counters get_counters(cronc_engine *ce) {
  counters c = {.e = cronc_engine_internal(ce)};
  assert_int_equal(engine_run(c.e, read_counters, &c), CRONC_OK);
  return c;
}

static char *read_file(const char *path) {
  FILE *fp = fopen(path, "rb");
  if (!fp)
    return NULL;
  fseek(fp, 0, SEEK_END);
  long n = ftell(fp);
  fseek(fp, 0, SEEK_SET);
  char *s = malloc((size_t)n + 1);
  size_t got = s ? fread(s, 1, (size_t)n, fp) : 0;
  fclose(fp);
  if (s)
    s[got] = '\0';
  return s;
}

/* 1. A fresh engine: the first request goes over h2 and learns Caddy's h3
 * alternative; the next ones race it, and once its session is confirmed,
 * requests go over h3. */
static void test_first_request_h2_learns_alt_svc_then_h3(void **state) {
  (void)state;
  engine_opts eo = {0};
  cronc_engine *e = new_engine(&eo);
  fetch_result *r = fetch_path(e, "/a.txt");
  assert_int_equal(r->error, 0);
  assert_string_equal(r->protocol, "h2");
  assert_int_equal(r->job_winner, CRONC_JOB_WINNER_NONE); /* nothing known yet */
  assert_string_equal(r->alternative_service, "");
  /* Byte counts include the framing: more than the 13-byte body in, a
   * request's HEADERS frame out. */
  assert_true(r->metrics.received_byte_count > 13 + 9);
  assert_true(r->metrics.sent_byte_count > 9);
  fetch_result_free(r);

  r = fetch_path(e, "/a.txt");
  assert_int_equal(r->error, 0);
  /* The alternative was raced: the h2 session made the main job start at
   * once, so either may have won. */
  assert_int_not_equal(r->job_winner, CRONC_JOB_WINNER_NONE);
  fetch_result_free(r);

  r = fetch_until_h3(e, "/a.txt");
  char want[64];
  snprintf(want, sizeof want, "h3 localhost:%u", (unsigned)alt_port());
  assert_string_equal(r->alternative_service, want);
  assert_int_equal(r->job_winner, CRONC_JOB_WINNER_ALTERNATIVE);
  assert_false(r->quic_broken);
  assert_true(r->metrics.received_byte_count > 13);
  assert_true(r->metrics.sent_byte_count > 0);
  fetch_result_free(r);
  counters c = get_counters(e);
  assert_int_equal(c.quic_established, 1);
  cronc_engine_free(e);
}

typedef struct srtt_query {
  engine *e;
  bool found;
  int64_t srtt_us;
} srtt_query;

static void query_srtt(void *arg) {
  srtt_query *q = arg;
  url_origin o;
  url_origin_init(&o, URL_SCHEME_HTTPS, "localhost", 9, caddy_port());
  q->found = props_get_srtt(engine_props(q->e), &o, &q->srtt_us);
}

/* 2. After QUIC worked, an engine restarted on the same storage goes to h3
 * with 0-RTT on its first request; the main job waited (QUIC known to work
 * from the persisted record, 1.5 x the persisted smoothed RTT). */
static void test_restart_after_quic_worked_uses_h3_with_zero_rtt(void **state) {
  (void)state;
  char dir[300], nl[320];
  snprintf(dir, sizeof dir, "%s/restart", g_tmp);
  snprintf(nl, sizeof nl, "%s/restart.netlog.json", g_tmp);
  engine_opts eo = {.storage = dir};
  cronc_engine *e = new_engine(&eo);
  fetch_result *r = fetch_path(e, "/a.txt");
  fetch_result_free(r);
  r = fetch_until_h3(e, "/a.txt");
  fetch_result_free(r);
  /* A couple more so the session ticket has surely arrived. */
  for (int i = 0; i < 3; i++) {
    r = fetch_path(e, "/a.txt");
    fetch_result_free(r);
  }
  cronc_engine_free(e);

  eo.netlog = nl;
  e = new_engine(&eo);
  /* Server network stats survived the restart. */
  srtt_query sq = {.e = cronc_engine_internal(e)};
  assert_int_equal(engine_run(sq.e, query_srtt, &sq), CRONC_OK);
  assert_true(sq.found && sq.srtt_us > 0);
  r = fetch_path(e, "/a.txt");
  assert_int_equal(r->error, 0);
  assert_string_equal(r->protocol, "h3");
  assert_true(r->zero_rtt);
  assert_int_equal(r->job_winner, CRONC_JOB_WINNER_ALTERNATIVE);
  fetch_result_free(r);
  cronc_engine_free(e);
  char *log = read_file(nl);
  assert_non_null(log);
  /* The main job was told to wait a positive time, at most 3 s. */
  const char *d = strstr(log, "\"delay_us\":");
  assert_non_null(d);
  long long us = atoll(d + strlen("\"delay_us\":"));
  assert_true(us > 0 && us <= 3000000);
  free(log);
}

/* 3. UDP to the alternative swallowed: the request succeeds over h2, the
 * alternative is marked broken, the next request does not try QUIC, and
 * after the (1 s) backoff QUIC is tried again and, working, confirmed. */
static void test_blackholed_alternative_falls_back_marks_broken_and_recovers(void **state) {
  (void)state;
  engine_opts eo = {.json = "{\"QUIC\":{\"max_time_before_crypto_handshake_seconds\":1,"
                            "\"initial_delay_for_broken_alternative_service_seconds\":1}}"};
  cronc_engine *e = new_engine(&eo);
  fetch_result *r = fetch_path(e, "/a.txt"); /* learn */
  assert_string_equal(r->protocol, "h2");
  fetch_result_free(r);
  udp_fault_proxy_set_mode(g_proxy, UDP_FAULT_DROP);

  r = fetch_path(e, "/a.txt");
  assert_int_equal(r->error, 0);
  assert_string_equal(r->protocol, "h2");
  assert_int_equal(r->job_winner, CRONC_JOB_WINNER_MAIN);
  fetch_result_free(r);
  /* The orphaned alternative job times out after 1 s and is marked
   * broken; from then on requests report QUIC broken and do not race. */
  bool broken = false;
  for (int i = 0; i < 40 && !broken; i++) {
    sleep_ms(100);
    r = fetch_path(e, "/a.txt");
    assert_int_equal(r->error, 0);
    broken = r->quic_broken;
    fetch_result_free(r);
  }
  assert_true(broken);
  uint64_t before = udp_fault_proxy_client_datagrams(g_proxy);
  r = fetch_path(e, "/a.txt");
  assert_string_equal(r->protocol, "h2");
  assert_int_equal(r->job_winner, CRONC_JOB_WINNER_NONE);
  assert_true(r->quic_broken);
  fetch_result_free(r);
  assert_true(udp_fault_proxy_client_datagrams(g_proxy) == before); /* QUIC not tried */

  /* The backoff (1 s) expires; the alternative must be advertised again
   * (the next response does), then it is raced, works, and is used. */
  udp_fault_proxy_set_mode(g_proxy, UDP_FAULT_FORWARD);
  sleep_ms(1200);
  r = fetch_until_h3(e, "/a.txt");
  assert_false(r->quic_broken);
  fetch_result_free(r);
  cronc_engine_free(e);
}

/* Makes QUIC "known to work" with a 2 s smoothed RTT for the Caddy origin,
 * so a main job racing it would wait the 3 s cap. */
static void poke_slow_working_quic(void *arg) {
  engine *e = arg;
  url_origin o;
  url_origin_init(&o, URL_SCHEME_HTTPS, "localhost", 9, caddy_port());
  props_set_last_local_address_when_quic_worked(engine_props(e), "127.0.0.1");
  props_set_srtt(engine_props(e), &o, 2 * 1000 * 1000);
}

typedef struct broken_query {
  engine *e;
  altsvc_service alt;
  bool broken;
} broken_query;

static void query_broken(void *arg) {
  broken_query *q = arg;
  q->broken = props_is_alternative_service_broken(engine_props(q->e), &q->alt);
}

static long long netlog_number_after(const char *log, const char *key) {
  const char *d = strstr(log, key);
  return d ? atoll(d + strlen(key)) : -1;
}

/* 4. Nothing listens on the alternative's UDP port: the alternative job is
 * refused and the main job goes at once, not after its wait time. */
static void test_closed_alternative_port_falls_back_immediately(void **state) {
  (void)state;
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
  socklen_t len = sizeof sa;
  getsockname(fd, (struct sockaddr *)&sa, &len);
  close(fd); /* the port is now closed */
  char nl[320];
  snprintf(nl, sizeof nl, "%s/closed.netlog.json", g_tmp);
  cronc_quic_hint hint = {"localhost", caddy_port(), ntohs(sa.sin_port)};
  engine_opts eo = {.hints = &hint, .n_hints = 1, .netlog = nl};
  cronc_engine *e = new_engine(&eo);
  assert_int_equal(
      engine_run(cronc_engine_internal(e), poke_slow_working_quic, cronc_engine_internal(e)),
      CRONC_OK);
  fetch_result *r = fetch_path(e, "/a.txt");
  assert_int_equal(r->error, 0);
  assert_string_equal(r->protocol, "h2");
  assert_int_equal(r->job_winner, CRONC_JOB_WINNER_MAIN);
  fetch_result_free(r);
  /* The refused alternative is marked broken (the response's own Alt-Svc
   * has replaced the hint by then, so ask server properties). */
  broken_query bq = {.e = cronc_engine_internal(e)};
  bq.alt = (altsvc_service){.protocol = ALTSVC_PROTO_QUIC, .port = ntohs(sa.sin_port)};
  snprintf(bq.alt.host, sizeof bq.alt.host, "localhost");
  assert_int_equal(engine_run(bq.e, query_broken, &bq), CRONC_OK);
  assert_true(bq.broken);
  cronc_engine_free(e);
  char *log = read_file(nl);
  assert_non_null(log);
  /* The main job was to wait the 3 s cap, and was resumed long before. */
  assert_int_equal(netlog_number_after(log, "\"delay_us\":"), 3000000);
  long long waited = netlog_number_after(log, "\"waited_us\":");
  assert_true(waited >= 0 && waited < 1000000);
  assert_non_null(strstr(log, "the alternative job failed"));
  free(log);
}

/* 5. Alt-Svc: clear removes the entries; ma expiry is respected; a header
 * whose protocols cronc does not speak removes them too. */
static void test_clear_ma_and_unknown_protocols(void **state) {
  (void)state;
  engine_opts eo = {0};
  cronc_engine *e = new_engine(&eo);
  fetch_result *r = fetch_path(e, "/a.txt"); /* learns h3 */
  fetch_result_free(r);
  r = fetch_path(e, "/clear/x.txt"); /* races; its response clears */
  assert_int_not_equal(r->job_winner, CRONC_JOB_WINNER_NONE);
  fetch_result_free(r);
  r = fetch_path(e, "/clear/x.txt");
  assert_int_equal(r->job_winner, CRONC_JOB_WINNER_NONE);
  fetch_result_free(r);

  r = fetch_path(e, "/short/x.txt"); /* h3 with ma=1 */
  fetch_result_free(r);
  sleep_ms(2100);
  r = fetch_path(e, "/unknown/x.txt"); /* expired: no race */
  assert_int_equal(r->job_winner, CRONC_JOB_WINNER_NONE);
  fetch_result_free(r);

  r = fetch_path(e, "/a.txt"); /* learn again */
  fetch_result_free(r);
  r = fetch_path(e, "/unknown/x.txt"); /* races; h9 and foo are dropped: removed */
  assert_int_not_equal(r->job_winner, CRONC_JOB_WINNER_NONE);
  fetch_result_free(r);
  r = fetch_path(e, "/unknown/x.txt");
  assert_int_equal(r->job_winner, CRONC_JOB_WINNER_NONE);
  fetch_result_free(r);
  cronc_engine_free(e);
}

typedef struct props_query {
  engine *e;
  url_origin origin;
  size_t count;
} props_query;

static void count_alternatives(void *arg) {
  props_query *q = arg;
  altsvc_info_list l;
  altsvc_info_list_init(&l);
  props_get_alternative_service_infos(engine_props(q->e), &q->origin, &l);
  q->count = l.count;
  altsvc_info_list_free(&l);
}

/* 6a. Alt-Svc on a plain-http response is ignored. */
static void test_alt_svc_on_plain_http_is_ignored(void **state) {
  (void)state;
  http_origin *o = http_origin_start();
  assert_non_null(o);
  char hdr[96];
  snprintf(hdr, sizeof hdr, "Alt-Svc: h3=\":%u\"; ma=86400\r\n", (unsigned)alt_port());
  http_origin_route rt;
  http_origin_route_init(&rt, "/p");
  rt.headers = hdr;
  rt.body = "plain\n";
  http_origin_set(o, &rt);
  engine_opts eo = {0};
  cronc_engine *e = new_engine(&eo);
  char u[128];
  http_origin_url(o, "/p", u, sizeof u);
  for (int i = 0; i < 2; i++) {
    fetch_result *r = fetch_url(e, u);
    assert_int_equal(r->error, 0);
    assert_string_equal(r->protocol, "http/1.1");
    assert_int_equal(r->job_winner, CRONC_JOB_WINNER_NONE);
    fetch_result_free(r);
  }
  props_query q = {.e = cronc_engine_internal(e)};
  assert_int_equal(url_origin_init(&q.origin, URL_SCHEME_HTTP, "127.0.0.1", 9, http_origin_port(o)),
                   0);
  assert_int_equal(engine_run(q.e, count_alternatives, &q), CRONC_OK);
  assert_int_equal(q.count, 0);
  cronc_engine_free(e);
  http_origin_stop(o);
}

/* 6b. An origin on port 443 (mapped to Caddy by host rules) advertising an
 * alternative on a port >= 1024: ignored, unless user ports are allowed. */
static void test_user_port_alternative_for_privileged_origin(void **state) {
  (void)state;
  char rules[96];
  snprintf(rules, sizeof rules, "MAP localhost 127.0.0.1:%u", (unsigned)caddy_port());
  for (int allow = 0; allow < 2; allow++) {
    engine_opts eo = {.rules = rules, .user_ports = allow == 1};
    cronc_engine *e = new_engine(&eo);
    fetch_result *r = fetch_url(e, "https://localhost/a.txt");
    assert_int_equal(r->error, 0);
    assert_int_equal(r->status, 200);
    fetch_result_free(r);
    r = fetch_url(e, "https://localhost/a.txt");
    assert_int_equal(r->error, 0);
    if (allow)
      assert_int_not_equal(r->job_winner, CRONC_JOB_WINNER_NONE);
    else
      assert_int_equal(r->job_winner, CRONC_JOB_WINNER_NONE);
    fetch_result_free(r);
    cronc_engine_free(e);
  }
}

/* 7. An alternative on another host (127.0.0.1 for origin localhost): used
 * only when the switch allows it, and only with a certificate valid for the
 * origin. */
static void test_different_host_alternative(void **state) {
  (void)state;
  engine_opts eo = {.no_remote_alt_svc = true};
  cronc_engine *e = new_engine(&eo);
  for (int i = 0; i < 3; i++) {
    fetch_result *r = fetch_path(e, "/remote/x.txt");
    assert_int_equal(r->error, 0);
    assert_int_equal(r->job_winner, CRONC_JOB_WINNER_NONE);
    fetch_result_free(r);
  }
  cronc_engine_free(e);

  eo.no_remote_alt_svc = false;
  e = new_engine(&eo);
  fetch_result *r = fetch_path(e, "/remote/x.txt");
  fetch_result_free(r);
  r = fetch_until_h3(e, "/remote/x.txt");
  char want[64];
  snprintf(want, sizeof want, "h3 127.0.0.1:%u", (unsigned)alt_port());
  assert_string_equal(r->alternative_service, want);
  fetch_result_free(r);
  cronc_engine_free(e);

  /* A different host whose certificate is not valid for the origin (another
   * Caddy, another CA): the alternative fails, TCP serves, it is broken. */
  caddy_options o;
  caddy_options_init(&o);
  o.protocols = CADDY_PROTO_H3;
  caddy_server *other = NULL;
  assert_int_equal(caddy_server_start(&o, &other), 0);
  cronc_quic_hint hint = {"localhost", caddy_port(), caddy_server_port(other)};
  engine_opts eo2 = {.hints = &hint, .n_hints = 1};
  e = new_engine(&eo2);
  r = fetch_path(e, "/a.txt");
  assert_int_equal(r->error, 0);
  assert_string_equal(r->protocol, "h2");
  assert_int_equal(r->job_winner, CRONC_JOB_WINNER_MAIN);
  fetch_result_free(r);
  cronc_engine_free(e);
  caddy_server_stop(other);
}

/* 8. A QUIC hint makes the very first request race QUIC; an invalid hint
 * is skipped with a NetLog error. */
static void test_quic_hint_races_first_request(void **state) {
  (void)state;
  char nl[320];
  snprintf(nl, sizeof nl, "%s/hint.netlog.json", g_tmp);
  cronc_quic_hint hints[] = {{"bad/host", 443, 443}, {"localhost", caddy_port(), alt_port()}};
  engine_opts eo = {.hints = hints, .n_hints = 2, .netlog = nl};
  cronc_engine *e = new_engine(&eo);
  fetch_result *r = fetch_path(e, "/a.txt");
  assert_int_equal(r->error, 0);
  assert_int_not_equal(r->job_winner, CRONC_JOB_WINNER_NONE);
  fetch_result_free(r);
  cronc_engine_free(e);
  char *log = read_file(nl);
  assert_non_null(log);
  assert_non_null(strstr(log, "host contains '/'"));
  free(log);
}

/* 9. QUIC disabled: never QUIC, even with stored alternative services. */
static void test_quic_disabled_never_uses_quic(void **state) {
  (void)state;
  char dir[300];
  snprintf(dir, sizeof dir, "%s/noquic", g_tmp);
  engine_opts eo = {.storage = dir};
  cronc_engine *e = new_engine(&eo);
  fetch_result *r = fetch_path(e, "/a.txt"); /* learns and stores */
  fetch_result_free(r);
  cronc_engine_free(e);

  eo.no_quic = true;
  cronc_quic_hint hint = {"localhost", caddy_port(), alt_port()};
  eo.hints = &hint;
  eo.n_hints = 1;
  e = new_engine(&eo);
  uint64_t before = udp_fault_proxy_client_datagrams(g_proxy);
  for (int i = 0; i < 3; i++) {
    r = fetch_path(e, "/a.txt");
    assert_int_equal(r->error, 0);
    assert_string_equal(r->protocol, "h2");
    assert_int_equal(r->job_winner, CRONC_JOB_WINNER_NONE);
    fetch_result_free(r);
  }
  assert_true(udp_fault_proxy_client_datagrams(g_proxy) == before);
  cronc_engine_free(e);
}

/* 10. 50 concurrent first requests to a fresh origin with a known
 * alternative: one QUIC session, at most one TCP connection, all served. */
static void test_fifty_concurrent_first_requests_share_connections(void **state) {
  (void)state;
  cronc_quic_hint hint = {"localhost", caddy_port(), alt_port()};
  engine_opts eo = {.hints = &hint, .n_hints = 1};
  cronc_engine *e = new_engine(&eo);
  enum { N = 50 };
  fetch_result *rs[N];
  cronc_request *qs[N];
  char u[256];
  snprintf(u, sizeof u, "https://localhost:%u/a.txt", (unsigned)caddy_port());
  for (int i = 0; i < N; i++) {
    rs[i] = fetch_result_new();
    qs[i] = fetch_start(e, u, NULL, rs[i]);
    assert_non_null(qs[i]);
  }
  for (int i = 0; i < N; i++) {
    assert_true(fetch_wait(rs[i], WAIT_MS));
    assert_int_equal(rs[i]->error, 0);
    assert_int_equal(rs[i]->status, 200);
    cronc_request_free(qs[i]);
    fetch_result_free(rs[i]);
  }
  counters c = get_counters(e);
  assert_int_equal(c.quic_established, 1);
  assert_true(c.tcp_connects <= 1);
  cronc_engine_free(e);
}

/* A 421 over the alternative: the request is retried without alternative
 * services (over h2) and nothing is marked broken. */
static void test_misdirected_421_retries_over_tcp_without_marking(void **state) {
  (void)state;
  engine_opts eo = {0};
  cronc_engine *e = new_engine(&eo);
  fetch_result *r = fetch_path(e, "/a.txt");
  fetch_result_free(r);
  r = fetch_until_h3(e, "/a.txt");
  fetch_result_free(r);
  r = fetch_path(e, "/misdirected/x.txt"); /* h3 answers 421 */
  assert_int_equal(r->error, 0);
  assert_int_equal(r->status, 200);
  assert_string_equal(r->protocol, "h2");
  fetch_result_free(r);
  broken_query bq = {.e = cronc_engine_internal(e)};
  bq.alt = (altsvc_service){.protocol = ALTSVC_PROTO_QUIC, .port = alt_port()};
  snprintf(bq.alt.host, sizeof bq.alt.host, "localhost");
  assert_int_equal(engine_run(bq.e, query_broken, &bq), CRONC_OK);
  assert_false(bq.broken);
  r = fetch_path(e, "/a.txt"); /* and h3 keeps serving */
  assert_string_equal(r->protocol, "h3");
  fetch_result_free(r);
  cronc_engine_free(e);
}

/* Preconnect: without an alternative, a TCP (h2) connection the first
 * request then reuses; with a QUIC hint, a QUIC session the first request
 * goes over. */
static void test_preconnect_opens_tcp_or_quic_ahead_of_requests(void **state) {
  (void)state;
  char u[256];
  snprintf(u, sizeof u, "https://localhost:%u/a.txt", (unsigned)caddy_port());
  engine_opts eo = {0};
  cronc_engine *e = new_engine(&eo);
  assert_int_equal(cronc_engine_preconnect(e, u, 2), CRONC_OK);
  counters c = {0};
  for (int i = 0; i < 200; i++) {
    c = get_counters(e);
    if (c.h2_connections == 1)
      break;
    sleep_ms(10);
  }
  assert_int_equal(c.h2_connections, 1);
  assert_int_equal(c.tcp_connects, 1); /* h2: one connection serves both */
  fetch_result *r = fetch_url(e, u);
  assert_int_equal(r->error, 0);
  assert_true(r->metrics.socket_reused);
  fetch_result_free(r);
  assert_int_equal(get_counters(e).tcp_connects, 1);
  cronc_engine_free(e);

  cronc_quic_hint hint = {"localhost", caddy_port(), alt_port()};
  engine_opts eq = {.hints = &hint, .n_hints = 1};
  e = new_engine(&eq);
  assert_int_equal(cronc_engine_preconnect(e, u, 1), CRONC_OK);
  for (int i = 0; i < 200; i++) {
    c = get_counters(e);
    if (c.quic_established == 1)
      break;
    sleep_ms(10);
  }
  assert_int_equal(c.quic_established, 1);
  assert_int_equal(c.tcp_connects, 0);
  r = fetch_url(e, u);
  assert_int_equal(r->error, 0);
  assert_string_equal(r->protocol, "h3");
  assert_int_equal(r->job_winner, CRONC_JOB_WINNER_ALTERNATIVE);
  fetch_result_free(r);
  cronc_engine_free(e);
}

/* QUIC worked before a restart, then UDP is blackholed: the first request
 * goes out as 0-RTT on a resumed session that never completes its
 * handshake; it fails as a handshake failure, is retried, and TCP serves
 * it (not ERR_TIMED_OUT). */
static void test_restart_with_blackholed_quic_falls_back_to_tcp(void **state) {
  (void)state;
  char dir[300];
  snprintf(dir, sizeof dir, "%s/restart-blackhole", g_tmp);
  engine_opts eo = {.storage = dir,
                    .json = "{\"QUIC\":{\"max_time_before_crypto_handshake_seconds\":1}}"};
  cronc_engine *e = new_engine(&eo);
  fetch_result *r = fetch_path(e, "/a.txt");
  fetch_result_free(r);
  r = fetch_until_h3(e, "/a.txt");
  fetch_result_free(r);
  for (int i = 0; i < 3; i++) {
    r = fetch_path(e, "/a.txt");
    fetch_result_free(r);
  }
  cronc_engine_free(e);

  udp_fault_proxy_set_mode(g_proxy, UDP_FAULT_DROP);
  e = new_engine(&eo);
  r = fetch_path(e, "/a.txt");
  assert_int_equal(r->error, 0);
  assert_int_equal(r->status, 200);
  assert_string_equal(r->protocol, "h2");
  fetch_result_free(r);
  cronc_engine_free(e);
}

/* After a restart QUIC counts as working (persisted record) and the main
 * job waits; once the application reports a network change it no longer
 * does: the main job of the next race is not delayed. */
static void test_network_change_stops_delaying_tcp(void **state) {
  (void)state;
  char dir[300], nl[320];
  snprintf(dir, sizeof dir, "%s/netchange", g_tmp);
  snprintf(nl, sizeof nl, "%s/netchange.netlog.json", g_tmp);
  engine_opts eo = {.storage = dir};
  cronc_engine *e = new_engine(&eo);
  fetch_result *r = fetch_path(e, "/a.txt");
  fetch_result_free(r);
  r = fetch_until_h3(e, "/a.txt");
  fetch_result_free(r);
  cronc_engine_free(e);

  eo.netlog = nl;
  e = new_engine(&eo);
  assert_int_equal(cronc_engine_notify_network_changed(e), CRONC_OK);
  r = fetch_path(e, "/a.txt");
  assert_int_equal(r->error, 0);
  assert_int_not_equal(r->job_winner, CRONC_JOB_WINNER_NONE);
  fetch_result_free(r);
  cronc_engine_shutdown(e);
  assert_int_equal(cronc_engine_notify_network_changed(e), CRONC_ERR_CONTEXT_SHUT_DOWN);
  cronc_engine_free(e);
  assert_int_equal(cronc_engine_notify_network_changed(NULL), CRONC_ERR_INVALID_ARGUMENT);
  char *log = read_file(nl);
  assert_non_null(log);
  /* The main job raced without a wait (a delayed one logs WAITING with
   * its delay_us). */
  assert_null(strstr(log, "\"delay_us\":"));
  assert_non_null(strstr(log, "\"type\":\"main\""));
  free(log);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(test_first_request_h2_learns_alt_svc_then_h3, test_setup),
      cmocka_unit_test_setup(test_restart_after_quic_worked_uses_h3_with_zero_rtt, test_setup),
      cmocka_unit_test_setup(test_blackholed_alternative_falls_back_marks_broken_and_recovers,
                             test_setup),
      cmocka_unit_test_setup(test_closed_alternative_port_falls_back_immediately, test_setup),
      cmocka_unit_test_setup(test_clear_ma_and_unknown_protocols, test_setup),
      cmocka_unit_test_setup(test_alt_svc_on_plain_http_is_ignored, test_setup),
      cmocka_unit_test_setup(test_user_port_alternative_for_privileged_origin, test_setup),
      cmocka_unit_test_setup(test_different_host_alternative, test_setup),
      cmocka_unit_test_setup(test_quic_hint_races_first_request, test_setup),
      cmocka_unit_test_setup(test_quic_disabled_never_uses_quic, test_setup),
      cmocka_unit_test_setup(test_fifty_concurrent_first_requests_share_connections, test_setup),
      cmocka_unit_test_setup(test_misdirected_421_retries_over_tcp_without_marking, test_setup),
      cmocka_unit_test_setup(test_preconnect_opens_tcp_or_quic_ahead_of_requests, test_setup),
      cmocka_unit_test_setup(test_restart_with_blackholed_quic_falls_back_to_tcp, test_setup),
      cmocka_unit_test_setup(test_network_change_stops_delaying_tcp, test_setup),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
