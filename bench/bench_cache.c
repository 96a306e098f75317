/* bench_cache: 10,000 cache hits of a 10 KB entry through the real stack
 * (http_cache over the network layer), with the memory and the disk
 * backend, next to network round trips to the same loopback origin (a small
 * HTTP/1.1 server on a thread of this program, keep-alive). Prints requests
 * per second, mean latency per request and the ratio to the network. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cache/http_cache.h"
#include "cronc/cronc.h"
#include "dns/host_resolver.h"
#include "http/stream_factory.h"

#define BODY_SIZE 10240
#define HITS      10000
#define NET_REQS  2000

static int g_listen = -1;
static uint16_t g_port;

static void *serve(void *arg) {
  (void)arg;
  /* Head and body in one send: two small writes would meet Nagle and
   * delayed ACKs (40 ms per response). */
  static char resp[BODY_SIZE + 256];
  int hl = snprintf(resp, 256,
                    "HTTP/1.1 200 OK\r\nCache-Control: max-age=3600\r\nContent-Length: %d\r\n\r\n",
                    BODY_SIZE);
  memset(resp + hl, 'c', BODY_SIZE);
  for (;;) {
    int fd = accept(g_listen, NULL, NULL);
    if (fd < 0)
      return NULL;
    char buf[8192];
    size_t have = 0;
    for (;;) {
      ssize_t r = recv(fd, buf + have, sizeof buf - 1 - have, 0);
      if (r <= 0)
        break;
      have += (size_t)r;
      buf[have] = '\0';
      char *end;
      while ((end = strstr(buf, "\r\n\r\n")) != NULL) {
        size_t used = (size_t)(end - buf) + 4;
        memmove(buf, buf + used, have - used + 1);
        have -= used;
        if (send(fd, resp, (size_t)hl + BODY_SIZE, MSG_NOSIGNAL) < 0)
          break;
      }
    }
    close(fd);
  }
}

typedef struct op {
  bool done;
  int rv;
} op;

static void on_done(void *ud, int rv) {
  op *o = ud;
  o->done = true;
  o->rv = rv;
}

static uv_loop_t g_loop;

static int wait_op(op *o, int rv) {
  if (rv != CRONC_ERR_IO_PENDING)
    return rv;
  while (!o->done)
    uv_run(&g_loop, UV_RUN_ONCE);
  return o->rv;
}

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* One request to its end; returns body bytes or a negative error. */
static int64_t fetch(http_transaction_factory *f, const url *u, int flags, bool *was_cached) {
  http_transaction *t = NULL;
  if (f->vt->create_transaction(f, NULL, &t) != CRONC_OK)
    return -1;
  h1_headers h;
  h1_headers_init(&h);
  http_request_info ri = {.url = u, .method = "GET", .headers = &h, .load_flags = flags};
  op o = {0};
  int rv = wait_op(&o, t->vt->start(t, &ri, on_done, &o));
  int64_t total = 0;
  static uint8_t buf[16384];
  while (rv == CRONC_OK) {
    op r = {0};
    int n = wait_op(&r, t->vt->read(t, buf, sizeof buf, on_done, &r));
    if (n <= 0) {
      rv = n;
      break;
    }
    total += n;
  }
  http_transaction_info info;
  t->vt->get_info(t, &info);
  *was_cached = info.was_cached;
  t->vt->free(t);
  h1_headers_free(&h);
  return rv < 0 ? rv : total;
}

typedef struct row {
  const char *name;
  int n;
  double secs;
} row;

static row run(const char *name, http_transaction_factory *f, const url *u, int flags, int n,
               bool expect_cached) {
  bool cached = false;
  fetch(f, u, flags, &cached); /* prime (and warm the connection) */
  int64_t t0 = now_ns();
  for (int i = 0; i < n; i++) {
    int64_t got = fetch(f, u, flags, &cached);
    if (got != BODY_SIZE || cached != expect_cached) {
      fprintf(stderr, "%s: request %d failed (%lld, cached %d)\n", name, i, (long long)got, cached);
      exit(1);
    }
  }
  return (row){name, n, (double)(now_ns() - t0) / 1e9};
}

int main(void) {
  g_listen = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t sl = sizeof sa;
  if (bind(g_listen, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(g_listen, 16) != 0 ||
      getsockname(g_listen, (struct sockaddr *)&sa, &sl) != 0)
    return 1;
  g_port = ntohs(sa.sin_port);
  pthread_t th;
  pthread_create(&th, NULL, serve, NULL);
  pthread_detach(th);

  uv_loop_init(&g_loop);
  base_runner *runner = NULL;
  dns_resolver *dns = NULL;
  if (base_runner_new_on_loop(&g_loop, &runner) != 0 ||
      dns_resolver_new(runner, NULL, NULL, &dns) != 0)
    return 1;
  stream_factory_params sp;
  stream_factory_params_init(&sp);
  sp.runner = runner;
  sp.resolver = dns;
  stream_factory *sf = stream_factory_new(&sp);
  http_network_layer *net = http_network_layer_new(stream_factory_base(sf));
  char spec[128];
  snprintf(spec, sizeof spec, "http://127.0.0.1:%u/bench", (unsigned)g_port);
  url u;
  if (!sf || !net || url_parse(spec, strlen(spec), &u) != 0)
    return 1;

  char dir[] = "/tmp/cronc-bench-cache.XXXXXX";
  if (!mkdtemp(dir))
    return 1;
  row rows[3];
  rows[0] = run("network (no cache)", http_network_layer_base(net), &u, HTTP_LOAD_DISABLE_CACHE,
                NET_REQS, false);
  for (int k = 0; k < 2; k++) {
    cache_backend *b = NULL;
    if (k == 0)
      b = cache_mem_backend_new(64 << 20);
    else if (cache_disk_backend_new(dir, 64 << 20, NULL, &b) != 0)
      return 1;
    http_cache_params p;
    http_cache_params_init(&p);
    p.network = http_network_layer_base(net);
    p.backend = b;
    p.runner = runner;
    http_cache *c = NULL;
    if (http_cache_new(&p, &c) != 0)
      return 1;
    rows[1 + k] = run(k == 0 ? "cache hit, memory" : "cache hit, disk", http_cache_base(c), &u, 0,
                      HITS, true);
    http_cache_free(c);
  }
  double net_us = rows[0].secs * 1e6 / rows[0].n;
  printf("bench_cache: %d B body, %d hits per backend, %d network requests (loopback h1)\n",
         BODY_SIZE, HITS, NET_REQS);
  printf("%-22s %10s %12s %14s\n", "path", "req/s", "us/request", "vs network");
  for (int i = 0; i < 3; i++) {
    double us = rows[i].secs * 1e6 / rows[i].n;
    printf("%-22s %10.0f %12.2f %13.1fx\n", rows[i].name, rows[i].n / rows[i].secs, us,
           net_us / us);
  }
  url_free(&u);
  http_network_layer_free(net);
  stream_factory_free(sf);
  dns_resolver_free(dns);
  for (int i = 0; i < 10; i++)
    uv_run(&g_loop, UV_RUN_NOWAIT);
  base_runner_free(runner);
  for (int i = 0; i < 10; i++)
    uv_run(&g_loop, UV_RUN_NOWAIT);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0)
    return 1;
  return 0;
}
