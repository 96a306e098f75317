/* dns/host_resolver against a tiny UDP DNS server run by the test on the
 * same libuv loop (127.0.0.1, free port). The server answers A/AAAA with
 * chosen TTLs, NXDOMAIN, SERVFAIL, or never, and counts the queries it sees.
 * Waiting runs the loop until the callback fires, bounded by a guard timer
 * that fails the test after a few seconds. Time-dependent state (cache
 * expiry, hosts-file checks) runs on a manual clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "base/clock.h"
#include "base/netlog.h"
#include "base/thread.h"
#include "cronc/cronc.h"
#include "dns/host_resolver.h"

/* ---- the DNS server ------------------------------------------------------ */

enum { MODE_ANSWER = 0, MODE_NXDOMAIN, MODE_SERVFAIL, MODE_IGNORE };

typedef struct zone_entry {
  const char *name;
  int mode;
  const char *a[3];    /* dotted IPv4, NULL-terminated */
  const char *aaaa[3]; /* IPv6 text */
  uint32_t ttl;
  int queries_a, queries_aaaa, queries_other;
} zone_entry;

#define MAX_ZONE 12

typedef struct dns_server {
  uv_udp_t udp;
  uint16_t port;
  zone_entry zone[MAX_ZONE];
  size_t nzone;
  int queries_total;
  int unknown_queries;
} dns_server;

static zone_entry *zone_add(dns_server *s, const char *name, int mode, uint32_t ttl) {
  assert_true(s->nzone < MAX_ZONE);
  zone_entry *z = &s->zone[s->nzone++];
  memset(z, 0, sizeof(*z));
  z->name = name;
  z->mode = mode;
  z->ttl = ttl;
  return z;
}

static zone_entry *zone_find(dns_server *s, const char *name) {
  for (size_t i = 0; i < s->nzone; i++) {
    if (strcasecmp(s->zone[i].name, name) == 0)
      return &s->zone[i];
  }
  return NULL;
}

static void put16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v) {
  put16(p, (uint16_t)(v >> 16));
  put16(p + 2, (uint16_t)v);
}

static size_t add_answer(uint8_t *out, size_t len, uint16_t type, const void *rdata, uint16_t rdlen,
                         uint32_t ttl) {
  out[len++] = 0xc0; /* pointer to the question name */
  out[len++] = 12;
  put16(out + len, type);
  put16(out + len + 2, 1);
  put32(out + len + 4, ttl);
  put16(out + len + 8, rdlen);
  len += 10;
  memcpy(out + len, rdata, rdlen);
  return len + rdlen;
}

static void on_udp_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  (void)h;
  (void)suggested;
  static char storage[4096];
  *buf = uv_buf_init(storage, sizeof(storage));
}

static void on_udp_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
                        const struct sockaddr *from, unsigned flags) {
  (void)flags;
  dns_server *s = h->data;
  if (nread < 12 || !from)
    return;
  const uint8_t *q = (const uint8_t *)buf->base;
  size_t n = (size_t)nread, pos = 12;
  char name[256];
  size_t nl = 0;
  while (pos < n && q[pos] != 0) {
    size_t l = q[pos++];
    if (l > 63 || pos + l > n || nl + l + 2 > sizeof(name))
      return;
    if (nl)
      name[nl++] = '.';
    memcpy(name + nl, q + pos, l);
    nl += l;
    pos += l;
  }
  name[nl] = '\0';
  if (pos + 5 > n)
    return;
  pos++; /* root label */
  uint16_t qtype = (uint16_t)(q[pos] << 8 | q[pos + 1]);
  pos += 4; /* type, class */
  s->queries_total++;
  zone_entry *z = zone_find(s, name);
  if (!z) {
    s->unknown_queries++;
  } else if (qtype == 1) {
    z->queries_a++;
  } else if (qtype == 28) {
    z->queries_aaaa++;
  } else {
    z->queries_other++;
  }
  if (z && z->mode == MODE_IGNORE)
    return;

  uint8_t out[1024];
  memcpy(out, q, pos); /* header + question */
  int rcode = !z ? 3 : z->mode == MODE_NXDOMAIN ? 3 : z->mode == MODE_SERVFAIL ? 2 : 0;
  out[2] = (uint8_t)(0x80 | (q[2] & 0x01)); /* QR, RD copied */
  out[3] = (uint8_t)(0x80 | rcode);         /* RA, rcode */
  put16(out + 4, 1);
  put16(out + 6, 0);
  put16(out + 8, 0);
  put16(out + 10, 0);
  size_t len = pos;
  uint16_t an = 0;
  if (z && z->mode == MODE_ANSWER) {
    for (int i = 0; i < 3; i++) {
      uint8_t a[16];
      if (qtype == 1 && z->a[i] && inet_pton(AF_INET, z->a[i], a) == 1) {
        len = add_answer(out, len, 1, a, 4, z->ttl);
        an++;
      }
      if (qtype == 28 && z->aaaa[i] && inet_pton(AF_INET6, z->aaaa[i], a) == 1) {
        len = add_answer(out, len, 28, a, 16, z->ttl);
        an++;
      }
    }
  }
  put16(out + 6, an);
  uv_buf_t b = uv_buf_init((char *)out, (unsigned)len);
  uv_udp_try_send(h, &b, 1, from);
}

static void server_start(uv_loop_t *loop, dns_server *s) {
  memset(s, 0, sizeof(*s));
  assert_int_equal(uv_udp_init(loop, &s->udp), 0);
  s->udp.data = s;
  struct sockaddr_in sin;
  uv_ip4_addr("127.0.0.1", 0, &sin);
  assert_int_equal(uv_udp_bind(&s->udp, (const struct sockaddr *)&sin, 0), 0);
  struct sockaddr_storage ss;
  int sl = sizeof(ss);
  assert_int_equal(uv_udp_getsockname(&s->udp, (struct sockaddr *)&ss, &sl), 0);
  s->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
  assert_int_equal(uv_udp_recv_start(&s->udp, on_udp_alloc, on_udp_recv), 0);
}

/* ---- fixture --------------------------------------------------------------- */

typedef struct netlog_record {
  int types[256];
  int phases[256];
  size_t n;
} netlog_record;

typedef struct fixture {
  uv_loop_t loop;
  base_runner *runner;
  dns_server srv;
  base_manual_clock clock;
  netlog *nl;
  netlog_record rec;
  dns_resolver *res;
  char hosts_path[64];
  char ns[64];
  dns_resolver_params params;
} fixture;

static void on_netlog(const netlog_entry *e, void *ud) {
  netlog_record *r = ud;
  if (r->n < 256) {
    r->types[r->n] = e->type;
    r->phases[r->n] = e->phase;
    r->n++;
  }
}

static void write_file(const char *path, const char *text) {
  FILE *fp = fopen(path, "w");
  assert_non_null(fp);
  fputs(text, fp);
  fclose(fp);
}

static int setup(void **state) {
  fixture *f = calloc(1, sizeof(*f));
  assert_non_null(f);
  assert_int_equal(uv_loop_init(&f->loop), 0);
  assert_int_equal(base_runner_new_on_loop(&f->loop, &f->runner), 0);
  server_start(&f->loop, &f->srv);
  base_manual_clock_init(&f->clock, INT64_C(1700000000) * BASE_US_PER_SEC);
  f->nl = netlog_new(&f->clock.base);
  assert_non_null(netlog_add_observer(f->nl, on_netlog, &f->rec));
  strcpy(f->hosts_path, "/tmp/cronc_dns_hosts_XXXXXX");
  int fd = mkstemp(f->hosts_path);
  assert_true(fd >= 0);
  close(fd);
  snprintf(f->ns, sizeof(f->ns), "127.0.0.1:%u", (unsigned)f->srv.port);
  dns_resolver_params_init(&f->params);
  f->params.clock = &f->clock.base;
  f->params.nameservers = f->ns;
  f->params.hosts_file_path = f->hosts_path;
  f->params.timeout_ms = 300;
  f->params.tries = 1;
  *state = f;
  return 0;
}

static void start_resolver(fixture *f) {
  assert_int_equal(dns_resolver_new(f->runner, &f->params, f->nl, &f->res), CRONC_OK);
}

static int teardown(void **state) {
  fixture *f = *state;
  dns_resolver_free(f->res);
  uv_close((uv_handle_t *)&f->srv.udp, NULL);
  assert_int_equal(base_runner_free(f->runner), 0);
  uv_run(&f->loop, UV_RUN_DEFAULT);
  /* Every handle (c-ares polls, timers) must be closed by now. */
  assert_int_equal(uv_loop_close(&f->loop), 0);
  netlog_free(f->nl);
  unlink(f->hosts_path);
  free(f);
  return 0;
}

/* ---- helpers ----------------------------------------------------------------- */

typedef struct result {
  int calls;
  int rv;
  dns_address_list list;
  fixture *f;
  bool free_resolver_in_callback;
  bool resolve_again_in_callback;
  int again_rv;
  dns_address_list again;
} result;

static void on_resolved(int rv, dns_address_list *l, void *ud) {
  result *r = ud;
  r->calls++;
  r->rv = rv;
  dns_address_list_reset(&r->list);
  r->list = *l; /* moved out: no copy */
  l->addrs = NULL;
  l->count = 0;
  if (r->resolve_again_in_callback)
    r->again_rv =
        dns_resolve(r->f->res, "a.test", 6, 80, DNS_FAMILY_UNSPEC,
                    (netlog_source){NETLOG_SOURCE_NONE, 0}, on_resolved, NULL, &r->again, NULL);
  if (r->free_resolver_in_callback) {
    dns_resolver_free(r->f->res);
    r->f->res = NULL;
  }
}

static void on_guard(uv_timer_t *t) { *(bool *)t->data = true; }

/* Runs the loop until cond(arg) holds; fails after timeout_ms. */
static void run_until(fixture *f, bool (*cond)(void *), void *arg, unsigned timeout_ms) {
  bool expired = false;
  uv_timer_t guard;
  uv_timer_init(&f->loop, &guard);
  guard.data = &expired;
  uv_timer_start(&guard, on_guard, timeout_ms, 0);
  while (!cond(arg) && !expired)
    uv_run(&f->loop, UV_RUN_ONCE);
  uv_close((uv_handle_t *)&guard, NULL);
  uv_run(&f->loop, UV_RUN_NOWAIT);
  if (!cond(arg))
    fail_msg("timed out after %u ms", timeout_ms);
}

static bool called(void *arg) { return ((result *)arg)->calls > 0; }

static bool no_jobs(void *arg) { return dns_resolver_job_count(((fixture *)arg)->res) == 0; }

static bool server_saw_query(void *arg) { return ((fixture *)arg)->srv.queries_total > 0; }

static netlog_source src(fixture *f) { return netlog_source_new(f->nl, NETLOG_SOURCE_URL_REQUEST); }

static int resolve(fixture *f, const char *host, uint16_t port, dns_family fam, result *r,
                   dns_request **req) {
  memset(r, 0, sizeof(*r));
  r->f = f;
  return dns_resolve(f->res, host, strlen(host), port, fam, src(f), on_resolved, r, &r->list, req);
}

static bool has_addr(const dns_address_list *l, const char *text, uint16_t port) {
  for (size_t i = 0; i < l->count; i++) {
    char b[INET6_ADDRSTRLEN];
    const struct sockaddr_storage *ss = &l->addrs[i];
    uint16_t p = ss->ss_family == AF_INET ? ntohs(((const struct sockaddr_in *)ss)->sin_port)
                                          : ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
    if (strcmp(dns_address_to_string(ss, b, sizeof(b)), text) == 0 && p == port)
      return true;
  }
  return false;
}

static zone_entry *zone_both(fixture *f, const char *name, uint32_t ttl) {
  zone_entry *z = zone_add(&f->srv, name, MODE_ANSWER, ttl);
  z->a[0] = "192.0.2.1";
  z->aaaa[0] = "2001:db8::1";
  return z;
}

/* ---- tests ------------------------------------------------------------------ */

static void test_resolves_both_families_over_dns(void **state) {
  fixture *f = *state;
  zone_both(f, "a.test", 300);
  start_resolver(f);
  result r;
  dns_request *req = NULL;
  assert_int_equal(resolve(f, "a.test", 443, DNS_FAMILY_UNSPEC, &r, &req), CRONC_ERR_IO_PENDING);
  assert_non_null(req);
  assert_int_equal(r.calls, 0); /* never from inside dns_resolve */
  run_until(f, called, &r, 5000);
  assert_int_equal(r.calls, 1);
  assert_int_equal(r.rv, CRONC_OK);
  assert_int_equal(r.list.count, 2);
  assert_true(has_addr(&r.list, "192.0.2.1", 443));
  assert_true(has_addr(&r.list, "2001:db8::1", 443));
  assert_int_equal(r.list.source, DNS_SOURCE_DNS);
  assert_int_equal(r.list.ttl_sec, 300);
  assert_int_equal(r.list.error_info, 0);
  zone_entry *z = zone_find(&f->srv, "a.test");
  assert_int_equal(z->queries_a, 1);
  assert_int_equal(z->queries_aaaa, 1);
  dns_address_list_reset(&r.list);
}

static void test_resolves_one_family_with_one_query(void **state) {
  fixture *f = *state;
  zone_entry *z = zone_both(f, "a.test", 300);
  z->a[1] = "192.0.2.2";
  start_resolver(f);
  result r;
  assert_int_equal(resolve(f, "a.test", 80, DNS_FAMILY_IPV4, &r, NULL), CRONC_ERR_IO_PENDING);
  run_until(f, called, &r, 5000);
  assert_int_equal(r.rv, CRONC_OK);
  assert_int_equal(r.list.count, 2);
  assert_true(has_addr(&r.list, "192.0.2.1", 80));
  assert_true(has_addr(&r.list, "192.0.2.2", 80));
  assert_int_equal(z->queries_a, 1);
  assert_int_equal(z->queries_aaaa, 0);
  dns_address_list_reset(&r.list);

  assert_int_equal(resolve(f, "a.test", 80, DNS_FAMILY_IPV6, &r, NULL), CRONC_ERR_IO_PENDING);
  run_until(f, called, &r, 5000);
  assert_int_equal(r.rv, CRONC_OK);
  assert_int_equal(r.list.count, 1);
  assert_int_equal(r.list.addrs[0].ss_family, AF_INET6);
  assert_int_equal(z->queries_aaaa, 1);
  dns_address_list_reset(&r.list);
}

static void test_second_resolve_is_a_sync_cache_hit(void **state) {
  fixture *f = *state;
  zone_both(f, "a.test", 300);
  start_resolver(f);
  result r;
  assert_int_equal(resolve(f, "a.test", 443, DNS_FAMILY_UNSPEC, &r, NULL), CRONC_ERR_IO_PENDING);
  run_until(f, called, &r, 5000);
  dns_address_list_reset(&r.list);
  assert_int_equal(dns_resolver_cache_size(f->res), 1);

  dns_request *req = (dns_request *)&r; /* must be cleared */
  assert_int_equal(resolve(f, "A.Test", 8443, DNS_FAMILY_UNSPEC, &r, &req), CRONC_OK);
  assert_null(req);
  assert_int_equal(r.calls, 0);
  assert_int_equal(r.list.source, DNS_SOURCE_CACHE);
  assert_int_equal(r.list.count, 2);
  assert_true(has_addr(&r.list, "192.0.2.1", 8443));
  assert_true(has_addr(&r.list, "2001:db8::1", 8443));
  dns_address_list_reset(&r.list);
  /* The server saw one query per family for two resolves. */
  zone_entry *z = zone_find(&f->srv, "a.test");
  assert_int_equal(z->queries_a, 1);
  assert_int_equal(z->queries_aaaa, 1);
  /* Another family is another cache key. */
  assert_int_equal(resolve(f, "a.test", 1, DNS_FAMILY_IPV4, &r, NULL), CRONC_ERR_IO_PENDING);
  run_until(f, called, &r, 5000);
  dns_address_list_reset(&r.list);
}

static void test_cache_entry_expires_after_ttl(void **state) {
  fixture *f = *state;
  zone_both(f, "a.test", 300);
  start_resolver(f);
  result r;
  assert_int_equal(resolve(f, "a.test", 443, DNS_FAMILY_IPV4, &r, NULL), CRONC_ERR_IO_PENDING);
  run_until(f, called, &r, 5000);
  dns_address_list_reset(&r.list);

  base_manual_clock_advance(&f->clock, 299 * BASE_US_PER_SEC);
  assert_int_equal(resolve(f, "a.test", 443, DNS_FAMILY_IPV4, &r, NULL), CRONC_OK);
  assert_int_equal(r.list.source, DNS_SOURCE_CACHE);
  assert_int_equal(r.list.ttl_sec, 1); /* what is left */
  dns_address_list_reset(&r.list);
  zone_entry *z = zone_find(&f->srv, "a.test");
  assert_int_equal(z->queries_a, 1);

  base_manual_clock_advance(&f->clock, 1 * BASE_US_PER_SEC);
  assert_int_equal(resolve(f, "a.test", 443, DNS_FAMILY_IPV4, &r, NULL), CRONC_ERR_IO_PENDING);
  run_until(f, called, &r, 5000);
  assert_int_equal(r.rv, CRONC_OK);
  dns_address_list_reset(&r.list);
  assert_int_equal(z->queries_a, 2);
}

static void test_short_ttls_are_cached_for_a_minute(void **state) {
  fixture *f = *state;
  zone_both(f, "a.test", 5);
  start_resolver(f);
  result r;
  assert_int_equal(resolve(f, "a.test", 443, DNS_FAMILY_IPV4, &r, NULL), CRONC_ERR_IO_PENDING);
  run_until(f, called, &r, 5000);
  assert_int_equal(r.list.ttl_sec, 5); /* the answer's TTL is reported as is */
  dns_address_list_reset(&r.list);
  /* Chromium's kMinimumTTLSeconds: 60 s in the cache. */
  base_manual_clock_advance(&f->clock, 59 * BASE_US_PER_SEC);
  assert_int_equal(resolve(f, "a.test", 443, DNS_FAMILY_IPV4, &r, NULL), CRONC_OK);
  dns_address_list_reset(&r.list);
  base_manual_clock_advance(&f->clock, 1 * BASE_US_PER_SEC);
  assert_int_equal(resolve(f, "a.test", 443, DNS_FAMILY_IPV4, &r, NULL), CRONC_ERR_IO_PENDING);
  run_until(f, called, &r, 5000);
  dns_address_list_reset(&r.list);
  assert_int_equal(zone_find(&f->srv, "a.test")->queries_a, 2);
}

static void test_nxdomain_is_name_not_resolved_and_not_cached(void **state) {
  fixture *f = *state;
  zone_add(&f->srv, "missing.test", MODE_NXDOMAIN, 0);
  start_resolver(f);
  result r;
  assert_int_equal(resolve(f, "missing.test", 443, DNS_FAMILY_UNSPEC, &r, NULL),
                   CRONC_ERR_IO_PENDING);
  run_until(f, called, &r, 5000);
  assert_int_equal(r.rv, CRONC_ERR_NAME_NOT_RESOLVED);
  assert_int_equal(r.list.count, 0);
  assert_null(r.list.addrs);
  assert_int_equal(r.list.error_info, CRONC_ERR_NAME_NOT_RESOLVED);
  assert_int_equal(dns_resolver_cache_size(f->res), 0);
  int before = f->srv.queries_total;
  assert_int_equal(resolve(f, "missing.test", 443, DNS_FAMILY_UNSPEC, &r, NULL),
                   CRONC_ERR_IO_PENDING);
  run_until(f, called, &r, 5000);
  assert_int_equal(r.rv, CRONC_ERR_NAME_NOT_RESOLVED);
  assert_true(f->srv.queries_total > before);
}

static void test_name_without_addresses_is_name_not_resolved(void **state) {
  fixture *f = *state;
  zone_entry *z = zone_add(&f->srv, "v6only.test", MODE_ANSWER, 300);
  z->aaaa[0] = "2001:db8::6";
  start_resolver(f);
  result r;
  assert_int_equal(resolve(f, "v6only.test", 443, DNS_FAMILY_IPV4, &r, NULL), CRONC_ERR_IO_PENDING);
  run_until(f, called, &r, 5000);
  assert_int_equal(r.rv, CRONC_ERR_NAME_NOT_RESOLVED);
  assert_int_equal(r.list.count, 0);
  /* The other family exists. */
  assert_int_equal(resolve(f, "v6only.test", 443, DNS_FAMILY_UNSPEC, &r, NULL),
                   CRONC_ERR_IO_PENDING);
  run_until(f, called, &r, 5000);
  assert_int_equal(r.rv, CRONC_OK);
  assert_int_equal(r.list.count, 1);
  assert_true(has_addr(&r.list, "2001:db8::6", 443));
  dns_address_list_reset(&r.list);
}

static void test_server_failure_is_name_not_resolved_with_detail(void **state) {
  fixture *f = *state;
  zone_add(&f->srv, "broken.test", MODE_SERVFAIL, 0);
  start_resolver(f);
  result r;
  assert_int_equal(resolve(f, "broken.test", 443, DNS_FAMILY_IPV4, &r, NULL), CRONC_ERR_IO_PENDING);
  run_until(f, called, &r, 5000);
  assert_int_equal(r.rv, CRONC_ERR_NAME_NOT_RESOLVED);
  assert_int_equal(r.list.error_info, CRONC_ERR_DNS_SERVER_FAILED);
}

static void test_unanswered_query_times_out_as_name_not_resolved(void **state) {
  fixture *f = *state;
  zone_add(&f->srv, "silent.test", MODE_IGNORE, 0);
  start_resolver(f);
  result r;
  uint64_t t0 = uv_now(&f->loop);
  assert_int_equal(resolve(f, "silent.test", 443, DNS_FAMILY_UNSPEC, &r, NULL),
                   CRONC_ERR_IO_PENDING);
  run_until(f, called, &r, 5000);
  uint64_t took = uv_now(&f->loop) - t0;
  assert_int_equal(r.rv, CRONC_ERR_NAME_NOT_RESOLVED);
  assert_int_equal(r.list.error_info, CRONC_ERR_DNS_TIMED_OUT);
  assert_true(took >= 250 && took < 3000); /* one 300 ms try */
  assert_int_equal(dns_resolver_job_count(f->res), 0);
  /* The job's NetLog end event carries the detail. */
  bool saw_job_end = false;
  for (size_t i = 0; i < f->rec.n; i++) {
    if (f->rec.types[i] == NETLOG_TYPE_HOST_RESOLVER_MANAGER_JOB &&
        f->rec.phases[i] == NETLOG_PHASE_END)
      saw_job_end = true;
  }
  assert_true(saw_job_end);
}

static void test_cancelled_request_never_calls_back(void **state) {
  fixture *f = *state;
  zone_both(f, "a.test", 300);
  start_resolver(f);
  result r;
  dns_request *req = NULL;
  assert_int_equal(resolve(f, "a.test", 443, DNS_FAMILY_UNSPEC, &r, &req), CRONC_ERR_IO_PENDING);
  dns_request_cancel(req);
  /* The job still completes (filling the cache), without calling back. */
  run_until(f, no_jobs, f, 5000);
  uv_run(&f->loop, UV_RUN_NOWAIT);
  assert_int_equal(r.calls, 0);
  assert_int_equal(resolve(f, "a.test", 443, DNS_FAMILY_UNSPEC, &r, NULL), CRONC_OK);
  assert_int_equal(r.list.source, DNS_SOURCE_CACHE);
  dns_address_list_reset(&r.list);
  dns_request_cancel(NULL);
}

static void test_cancel_of_one_merged_request_keeps_the_other(void **state) {
  fixture *f = *state;
  zone_both(f, "a.test", 300);
  start_resolver(f);
  result r1, r2;
  dns_request *q1 = NULL, *q2 = NULL;
  assert_int_equal(resolve(f, "a.test", 1, DNS_FAMILY_IPV4, &r1, &q1), CRONC_ERR_IO_PENDING);
  assert_int_equal(resolve(f, "a.test", 2, DNS_FAMILY_IPV4, &r2, &q2), CRONC_ERR_IO_PENDING);
  dns_request_cancel(q1);
  run_until(f, called, &r2, 5000);
  assert_int_equal(r1.calls, 0);
  assert_int_equal(r2.rv, CRONC_OK);
  assert_true(has_addr(&r2.list, "192.0.2.1", 2));
  dns_address_list_reset(&r2.list);
}

static void test_identical_requests_share_one_query(void **state) {
  fixture *f = *state;
  zone_entry *z = zone_both(f, "a.test", 300);
  start_resolver(f);
  result r[3];
  assert_int_equal(resolve(f, "a.test", 80, DNS_FAMILY_IPV4, &r[0], NULL), CRONC_ERR_IO_PENDING);
  assert_int_equal(resolve(f, "a.test", 443, DNS_FAMILY_IPV4, &r[1], NULL), CRONC_ERR_IO_PENDING);
  assert_int_equal(dns_resolver_job_count(f->res), 1);
  /* A different family is a different job. */
  assert_int_equal(resolve(f, "a.test", 443, DNS_FAMILY_IPV6, &r[2], NULL), CRONC_ERR_IO_PENDING);
  assert_int_equal(dns_resolver_job_count(f->res), 2);
  run_until(f, called, &r[0], 5000);
  run_until(f, called, &r[1], 5000);
  run_until(f, called, &r[2], 5000);
  assert_int_equal(z->queries_a, 1);
  assert_int_equal(z->queries_aaaa, 1);
  assert_true(has_addr(&r[0].list, "192.0.2.1", 80));
  assert_true(has_addr(&r[1].list, "192.0.2.1", 443));
  assert_true(has_addr(&r[2].list, "2001:db8::1", 443));
  for (int i = 0; i < 3; i++) {
    assert_int_equal(r[i].calls, 1);
    dns_address_list_reset(&r[i].list);
  }
}

static void test_ip_literals_are_answered_synchronously(void **state) {
  fixture *f = *state;
  start_resolver(f);
  result r;
  assert_int_equal(resolve(f, "192.0.2.5", 443, DNS_FAMILY_UNSPEC, &r, NULL), CRONC_OK);
  assert_int_equal(r.list.source, DNS_SOURCE_IP_LITERAL);
  assert_int_equal(r.list.count, 1);
  assert_true(has_addr(&r.list, "192.0.2.5", 443));
  dns_address_list_reset(&r.list);
  assert_int_equal(resolve(f, "[2001:DB8::5]", 80, DNS_FAMILY_IPV6, &r, NULL), CRONC_OK);
  assert_true(has_addr(&r.list, "2001:db8::5", 80));
  dns_address_list_reset(&r.list);
  assert_int_equal(resolve(f, "::1", 80, DNS_FAMILY_UNSPEC, &r, NULL), CRONC_OK);
  assert_true(has_addr(&r.list, "::1", 80));
  dns_address_list_reset(&r.list);
  /* A literal of the other family cannot be resolved for this one. */
  assert_int_equal(resolve(f, "192.0.2.5", 443, DNS_FAMILY_IPV6, &r, NULL),
                   CRONC_ERR_NAME_NOT_RESOLVED);
  assert_int_equal(r.list.count, 0);
  assert_int_equal(resolve(f, "[::1]", 443, DNS_FAMILY_IPV4, &r, NULL),
                   CRONC_ERR_NAME_NOT_RESOLVED);
  assert_int_equal(f->srv.queries_total, 0);
  assert_int_equal(r.calls, 0);
}

static void test_localhost_names_resolve_to_loopback_without_dns(void **state) {
  fixture *f = *state;
  start_resolver(f);
  result r;
  assert_int_equal(resolve(f, "localhost", 80, DNS_FAMILY_UNSPEC, &r, NULL), CRONC_OK);
  assert_int_equal(r.list.source, DNS_SOURCE_LOCALHOST);
  assert_int_equal(r.list.count, 2);
  assert_int_equal(r.list.addrs[0].ss_family, AF_INET6); /* IPv6 first, as Chromium */
  assert_true(has_addr(&r.list, "::1", 80));
  assert_true(has_addr(&r.list, "127.0.0.1", 80));
  dns_address_list_reset(&r.list);
  assert_int_equal(resolve(f, "Foo.LocalHost.", 81, DNS_FAMILY_IPV4, &r, NULL), CRONC_OK);
  assert_int_equal(r.list.count, 1);
  assert_true(has_addr(&r.list, "127.0.0.1", 81));
  dns_address_list_reset(&r.list);
  assert_int_equal(resolve(f, "localhost.", 82, DNS_FAMILY_IPV6, &r, NULL), CRONC_OK);
  assert_int_equal(r.list.count, 1);
  assert_true(has_addr(&r.list, "::1", 82));
  dns_address_list_reset(&r.list);
  /* Not a localhost name. */
  zone_add(&f->srv, "notlocalhost.test", MODE_NXDOMAIN, 0);
  assert_int_equal(resolve(f, "notlocalhost.test", 82, DNS_FAMILY_IPV4, &r, NULL),
                   CRONC_ERR_IO_PENDING);
  run_until(f, called, &r, 5000);
  assert_int_equal(f->srv.queries_total, 1);
}

static void test_invalid_hosts_fail_synchronously(void **state) {
  fixture *f = *state;
  start_resolver(f);
  result r;
  static const char *bad[] = {"", "bad..name", "a b", "a.-b", "under_.-x", "1.2.3.256", "a,b.test"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    int rv = resolve(f, bad[i], 80, DNS_FAMILY_UNSPEC, &r, NULL);
    if (rv != CRONC_ERR_NAME_NOT_RESOLVED)
      fail_msg("\"%s\" gave %d", bad[i], rv);
    assert_int_equal(r.list.error_info, CRONC_ERR_NAME_NOT_RESOLVED);
  }
  assert_int_equal(f->srv.queries_total, 0);
  assert_int_equal(
      dns_resolve(f->res, "a.test", 6, 80, (dns_family)9, src(f), on_resolved, &r, &r.list, NULL),
      CRONC_ERR_INVALID_ARGUMENT);
  assert_int_equal(
      dns_resolve(f->res, "a.test", 6, 80, DNS_FAMILY_UNSPEC, src(f), NULL, &r, &r.list, NULL),
      CRONC_ERR_INVALID_ARGUMENT);
}

static void test_hosts_file_answers_and_reloads_on_change(void **state) {
  fixture *f = *state;
  write_file(f->hosts_path, "192.0.2.99 hosted.test\n::99 hosted.test\n");
  zone_both(f, "hosted.test", 300);
  start_resolver(f);
  result r;
  assert_int_equal(resolve(f, "hosted.test", 443, DNS_FAMILY_UNSPEC, &r, NULL), CRONC_OK);
  assert_int_equal(r.list.source, DNS_SOURCE_HOSTS);
  assert_int_equal(r.list.count, 2);
  assert_int_equal(r.list.addrs[0].ss_family, AF_INET6);
  assert_true(has_addr(&r.list, "192.0.2.99", 443));
  assert_true(has_addr(&r.list, "::99", 443));
  dns_address_list_reset(&r.list);
  assert_int_equal(dns_resolver_cache_size(f->res), 0); /* hosts answers are not cached */

  write_file(f->hosts_path, "192.0.2.100 hosted.test other.test\n");
  /* Within the second, the file is not checked again. */
  base_manual_clock_advance(&f->clock, 500 * BASE_US_PER_MS);
  assert_int_equal(resolve(f, "hosted.test", 443, DNS_FAMILY_IPV4, &r, NULL), CRONC_OK);
  assert_true(has_addr(&r.list, "192.0.2.99", 443));
  dns_address_list_reset(&r.list);
  base_manual_clock_advance(&f->clock, 500 * BASE_US_PER_MS);
  assert_int_equal(resolve(f, "hosted.test", 443, DNS_FAMILY_IPV4, &r, NULL), CRONC_OK);
  assert_true(has_addr(&r.list, "192.0.2.100", 443));
  dns_address_list_reset(&r.list);
  assert_int_equal(resolve(f, "other.test", 443, DNS_FAMILY_IPV4, &r, NULL), CRONC_OK);
  dns_address_list_reset(&r.list);
  /* The IPv6 line is gone: that family now goes to DNS. */
  assert_int_equal(resolve(f, "hosted.test", 443, DNS_FAMILY_IPV6, &r, NULL), CRONC_ERR_IO_PENDING);
  run_until(f, called, &r, 5000);
  assert_true(has_addr(&r.list, "2001:db8::1", 443));
  dns_address_list_reset(&r.list);

  /* A removed file is an empty table. */
  unlink(f->hosts_path);
  base_manual_clock_advance(&f->clock, 2 * BASE_US_PER_SEC);
  assert_int_equal(resolve(f, "hosted.test", 443, DNS_FAMILY_IPV4, &r, NULL), CRONC_ERR_IO_PENDING);
  run_until(f, called, &r, 5000);
  assert_true(has_addr(&r.list, "192.0.2.1", 443));
  dns_address_list_reset(&r.list);
}

static void test_hosts_file_change_drops_cached_answers(void **state) {
  fixture *f = *state;
  zone_both(f, "a.test", 300);
  start_resolver(f);
  result r;
  assert_int_equal(resolve(f, "a.test", 443, DNS_FAMILY_IPV4, &r, NULL), CRONC_ERR_IO_PENDING);
  run_until(f, called, &r, 5000);
  dns_address_list_reset(&r.list);
  assert_int_equal(dns_resolver_cache_size(f->res), 1);
  write_file(f->hosts_path, "192.0.2.77 a.test\n");
  base_manual_clock_advance(&f->clock, 1 * BASE_US_PER_SEC); /* well within the TTL */
  assert_int_equal(resolve(f, "a.test", 443, DNS_FAMILY_IPV4, &r, NULL), CRONC_OK);
  assert_int_equal(r.list.source, DNS_SOURCE_HOSTS);
  assert_true(has_addr(&r.list, "192.0.2.77", 443));
  dns_address_list_reset(&r.list);
  assert_int_equal(dns_resolver_cache_size(f->res), 0);
}

static void test_hosts_file_can_be_disabled(void **state) {
  fixture *f = *state;
  write_file(f->hosts_path, "192.0.2.99 hosted.test\n");
  zone_both(f, "hosted.test", 300);
  f->params.use_hosts_file = false;
  start_resolver(f);
  result r;
  assert_int_equal(resolve(f, "hosted.test", 443, DNS_FAMILY_IPV4, &r, NULL), CRONC_ERR_IO_PENDING);
  run_until(f, called, &r, 5000);
  assert_true(has_addr(&r.list, "192.0.2.1", 443));
  dns_address_list_reset(&r.list);
}

static void test_callback_may_resolve_again_and_free_the_resolver(void **state) {
  fixture *f = *state;
  zone_both(f, "a.test", 300);
  start_resolver(f);
  result r1, r2;
  assert_int_equal(resolve(f, "a.test", 1, DNS_FAMILY_UNSPEC, &r1, NULL), CRONC_ERR_IO_PENDING);
  assert_int_equal(resolve(f, "a.test", 2, DNS_FAMILY_UNSPEC, &r2, NULL), CRONC_ERR_IO_PENDING);
  r1.resolve_again_in_callback = true; /* answered from the cache, in the callback */
  r1.free_resolver_in_callback = true; /* r2's callback must then never run */
  run_until(f, called, &r1, 5000);
  assert_int_equal(r1.again_rv, CRONC_OK);
  assert_int_equal(r1.again.source, DNS_SOURCE_CACHE);
  dns_address_list_reset(&r1.again);
  dns_address_list_reset(&r1.list);
  for (int i = 0; i < 5; i++)
    uv_run(&f->loop, UV_RUN_NOWAIT);
  assert_int_equal(r2.calls, 0);
  assert_null(f->res);
}

static void test_free_with_pending_requests_drops_their_callbacks(void **state) {
  fixture *f = *state;
  zone_add(&f->srv, "silent.test", MODE_IGNORE, 0);
  start_resolver(f);
  result r;
  assert_int_equal(resolve(f, "silent.test", 443, DNS_FAMILY_UNSPEC, &r, NULL),
                   CRONC_ERR_IO_PENDING);
  /* Let the queries reach the server, then free. */
  run_until(f, server_saw_query, f, 5000);
  dns_resolver_free(f->res);
  f->res = NULL;
  for (int i = 0; i < 5; i++)
    uv_run(&f->loop, UV_RUN_NOWAIT);
  assert_int_equal(r.calls, 0);
}

static void test_netlog_records_request_job_and_cache_hit(void **state) {
  fixture *f = *state;
  zone_both(f, "a.test", 300);
  start_resolver(f);
  result r;
  assert_int_equal(resolve(f, "a.test", 443, DNS_FAMILY_UNSPEC, &r, NULL), CRONC_ERR_IO_PENDING);
  run_until(f, called, &r, 5000);
  dns_address_list_reset(&r.list);
  assert_int_equal(resolve(f, "a.test", 443, DNS_FAMILY_UNSPEC, &r, NULL), CRONC_OK);
  dns_address_list_reset(&r.list);
  int req_begin = 0, req_end = 0, job_begin = 0, job_end = 0, hit = 0, attach = 0;
  for (size_t i = 0; i < f->rec.n; i++) {
    int t = f->rec.types[i], p = f->rec.phases[i];
    req_begin += t == NETLOG_TYPE_HOST_RESOLVER_MANAGER_REQUEST && p == NETLOG_PHASE_BEGIN;
    req_end += t == NETLOG_TYPE_HOST_RESOLVER_MANAGER_REQUEST && p == NETLOG_PHASE_END;
    job_begin += t == NETLOG_TYPE_HOST_RESOLVER_MANAGER_JOB && p == NETLOG_PHASE_BEGIN;
    job_end += t == NETLOG_TYPE_HOST_RESOLVER_MANAGER_JOB && p == NETLOG_PHASE_END;
    hit += t == NETLOG_TYPE_HOST_RESOLVER_MANAGER_CACHE_HIT;
    attach += t == NETLOG_TYPE_HOST_RESOLVER_MANAGER_JOB_ATTACH;
  }
  assert_int_equal(req_begin, 2);
  assert_int_equal(req_end, 2);
  assert_int_equal(job_begin, 1);
  assert_int_equal(job_end, 1);
  assert_int_equal(hit, 1);
  assert_int_equal(attach, 1);
  assert_string_equal(netlog_event_type_name(NETLOG_TYPE_HOST_RESOLVER_MANAGER_JOB),
                      "HOST_RESOLVER_MANAGER_JOB");
}

static void test_zero_cache_size_disables_caching(void **state) {
  fixture *f = *state;
  zone_entry *z = zone_both(f, "a.test", 300);
  f->params.cache_size = 0;
  start_resolver(f);
  result r;
  for (int i = 0; i < 2; i++) {
    assert_int_equal(resolve(f, "a.test", 443, DNS_FAMILY_IPV4, &r, NULL), CRONC_ERR_IO_PENDING);
    run_until(f, called, &r, 5000);
    dns_address_list_reset(&r.list);
  }
  assert_int_equal(z->queries_a, 2);
}

static void test_bad_parameters_are_refused(void **state) {
  fixture *f = *state;
  dns_resolver *res = (dns_resolver *)f;
  assert_int_equal(dns_resolver_new(NULL, NULL, NULL, &res), CRONC_ERR_INVALID_ARGUMENT);
  assert_null(res);
  assert_int_equal(dns_resolver_new(f->runner, NULL, NULL, NULL), CRONC_ERR_INVALID_ARGUMENT);
  f->params.nameservers = "not an address";
  assert_int_equal(dns_resolver_new(f->runner, &f->params, NULL, &res), CRONC_ERR_INVALID_ARGUMENT);
  assert_null(res);
  /* Defaults work (system resolv.conf), and free releases everything. */
  assert_int_equal(dns_resolver_new(f->runner, NULL, NULL, &res), CRONC_OK);
  dns_resolver_free(res);
  dns_resolver_free(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_resolves_both_families_over_dns, setup, teardown),
      cmocka_unit_test_setup_teardown(test_resolves_one_family_with_one_query, setup, teardown),
      cmocka_unit_test_setup_teardown(test_second_resolve_is_a_sync_cache_hit, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cache_entry_expires_after_ttl, setup, teardown),
      cmocka_unit_test_setup_teardown(test_short_ttls_are_cached_for_a_minute, setup, teardown),
      cmocka_unit_test_setup_teardown(test_nxdomain_is_name_not_resolved_and_not_cached, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_name_without_addresses_is_name_not_resolved, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_server_failure_is_name_not_resolved_with_detail, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_unanswered_query_times_out_as_name_not_resolved, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_cancelled_request_never_calls_back, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cancel_of_one_merged_request_keeps_the_other, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_identical_requests_share_one_query, setup, teardown),
      cmocka_unit_test_setup_teardown(test_ip_literals_are_answered_synchronously, setup, teardown),
      cmocka_unit_test_setup_teardown(test_localhost_names_resolve_to_loopback_without_dns, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_invalid_hosts_fail_synchronously, setup, teardown),
      cmocka_unit_test_setup_teardown(test_hosts_file_answers_and_reloads_on_change, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_hosts_file_change_drops_cached_answers, setup, teardown),
      cmocka_unit_test_setup_teardown(test_hosts_file_can_be_disabled, setup, teardown),
      cmocka_unit_test_setup_teardown(test_callback_may_resolve_again_and_free_the_resolver, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_free_with_pending_requests_drops_their_callbacks, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_netlog_records_request_job_and_cache_hit, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_zero_cache_size_disables_caching, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bad_parameters_are_refused, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
