/* Tests for the test-support proxies: support/udp_fault_proxy (forward, drop,
 * delay of UDP datagrams, used in front of Caddy's HTTP/3 port) and
 * support/tcp_delay_proxy (a latency-adding TCP relay).
 *
 * Targets are plain loopback sockets driven by the test itself (UDP), a
 * small threaded echo server or support/raw_tcp_server (TCP), and, when
 * Caddy is installed, a real HTTP/3 server answering a QUIC probe. Timing
 * checks are generous lower bounds only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "support/caddy_server.h"
#include "support/net_test_util.h"
#include "support/raw_tcp_server.h"
#include "support/tcp_delay_proxy.h"
#include "support/udp_fault_proxy.h"

#define WAIT_MS 3000 /* upper bound for anything that should arrive */

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static struct sockaddr_in loopback(uint16_t port) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

/* ---------------------------------------------------------------------- */
/* UDP helpers                                                             */
/* ---------------------------------------------------------------------- */

static int udp_socket(uint16_t *port) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  assert_true(fd >= 0);
  struct sockaddr_in a = loopback(0);
  assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
  socklen_t al = sizeof a;
  assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
  if (port)
    *port = ntohs(a.sin_port);
  return fd;
}

static void udp_send(int fd, uint16_t port, const void *d, size_t len) {
  struct sockaddr_in a = loopback(port);
  assert_int_equal(sendto(fd, d, len, 0, (struct sockaddr *)&a, sizeof a), (ssize_t)len);
}

/* Receives one datagram within timeout_ms: its length, or -1 (none). */
static ssize_t udp_recv(int fd, void *buf, size_t cap, unsigned timeout_ms,
                        struct sockaddr_in *from) {
  struct pollfd pf = {.fd = fd, .events = POLLIN};
  if (poll(&pf, 1, (int)timeout_ms) != 1)
    return -1;
  struct sockaddr_in tmp;
  socklen_t fl = sizeof tmp;
  return recvfrom(fd, buf, cap, MSG_DONTWAIT, (struct sockaddr *)(from ? from : &tmp), &fl);
}

typedef struct udp_fixture {
  int client, target;
  uint16_t target_port;
  udp_fault_proxy *proxy;
} udp_fixture;

static int udp_setup(void **state) {
  udp_fixture *f = calloc(1, sizeof *f);
  assert_non_null(f);
  f->client = udp_socket(NULL);
  f->target = udp_socket(&f->target_port);
  f->proxy = udp_fault_proxy_new(f->target_port);
  assert_non_null(f->proxy);
  *state = f;
  return 0;
}

static int udp_teardown(void **state) {
  udp_fixture *f = *state;
  udp_fault_proxy_free(f->proxy);
  close(f->client);
  close(f->target);
  free(f);
  return 0;
}

/* Client -> proxy -> target, then target answers to where it came from.
 * Returns true when the answer reaches the client within timeout_ms. */
static bool udp_round_trip(udp_fixture *f, const char *msg, unsigned timeout_ms) {
  char buf[256];
  struct sockaddr_in from;
  udp_send(f->client, udp_fault_proxy_port(f->proxy), msg, strlen(msg));
  ssize_t n = udp_recv(f->target, buf, sizeof buf, timeout_ms, &from);
  if (n != (ssize_t)strlen(msg) || memcmp(buf, msg, (size_t)n) != 0)
    return false;
  assert_int_equal(sendto(f->target, buf, (size_t)n, 0, (struct sockaddr *)&from, sizeof from), n);
  n = udp_recv(f->client, buf, sizeof buf, timeout_ms, NULL);
  return n == (ssize_t)strlen(msg) && memcmp(buf, msg, (size_t)n) == 0;
}

/* ---------------------------------------------------------------------- */
/* UDP tests                                                               */
/* ---------------------------------------------------------------------- */

static void test_udp_new_rejects_port_zero(void **state) {
  assert_null(udp_fault_proxy_new(0));
  udp_fault_proxy_free(NULL); /* no-op */
}

static void test_udp_forward_round_trips_datagram(void **state) {
  udp_fixture *f = *state;
  char buf[64];
  struct sockaddr_in from;
  udp_send(f->client, udp_fault_proxy_port(f->proxy), "ping", 4);
  ssize_t n = udp_recv(f->target, buf, sizeof buf, WAIT_MS, &from);
  assert_int_equal(n, 4);
  assert_memory_equal(buf, "ping", 4);
  /* The target sees the proxy's own upstream socket, not the client. */
  assert_int_not_equal(ntohs(from.sin_port), udp_fault_proxy_port(f->proxy));
  assert_int_equal(sendto(f->target, "pong", 4, 0, (struct sockaddr *)&from, sizeof from), 4);
  n = udp_recv(f->client, buf, sizeof buf, WAIT_MS, &from);
  assert_int_equal(n, 4);
  assert_memory_equal(buf, "pong", 4);
  /* The answer comes from the proxy's public port. */
  assert_int_equal(ntohs(from.sin_port), udp_fault_proxy_port(f->proxy));
  assert_int_equal(udp_fault_proxy_client_datagrams(f->proxy), 1);
  assert_int_equal(udp_fault_proxy_target_datagrams(f->proxy), 1);
  assert_int_equal(udp_fault_proxy_forwarded(f->proxy), 2);
  assert_int_equal(udp_fault_proxy_dropped(f->proxy), 0);
}

static void test_udp_drop_swallows_both_ways_and_counts(void **state) {
  udp_fixture *f = *state;
  char buf[64];
  struct sockaddr_in upstream;
  /* Learn the proxy's upstream address with one forwarded datagram. */
  udp_send(f->client, udp_fault_proxy_port(f->proxy), "a", 1);
  assert_int_equal(udp_recv(f->target, buf, sizeof buf, WAIT_MS, &upstream), 1);

  udp_fault_proxy_set_mode(f->proxy, UDP_FAULT_DROP);
  assert_int_equal(udp_fault_proxy_mode(f->proxy), UDP_FAULT_DROP);
  udp_send(f->client, udp_fault_proxy_port(f->proxy), "b", 1);
  assert_int_equal(sendto(f->target, "c", 1, 0, (struct sockaddr *)&upstream, sizeof upstream), 1);
  assert_int_equal(udp_recv(f->target, buf, sizeof buf, 200, NULL), -1);
  assert_int_equal(udp_recv(f->client, buf, sizeof buf, 200, NULL), -1);
  assert_int_equal(udp_fault_proxy_client_datagrams(f->proxy), 2);
  assert_int_equal(udp_fault_proxy_target_datagrams(f->proxy), 1);
  assert_int_equal(udp_fault_proxy_forwarded(f->proxy), 1);
  assert_int_equal(udp_fault_proxy_dropped(f->proxy), 2);
}

static void test_udp_forward_works_again_after_drop(void **state) {
  udp_fixture *f = *state;
  udp_fault_proxy_set_mode(f->proxy, UDP_FAULT_DROP);
  assert_false(udp_round_trip(f, "lost", 200));
  udp_fault_proxy_set_mode(f->proxy, UDP_FAULT_FORWARD);
  assert_true(udp_round_trip(f, "back", WAIT_MS));
  assert_int_equal(udp_fault_proxy_dropped(f->proxy), 1);
}

static void test_udp_unknown_mode_is_ignored(void **state) {
  udp_fixture *f = *state;
  udp_fault_proxy_set_mode(f->proxy, 42);
  udp_fault_proxy_set_mode(f->proxy, -1);
  assert_int_equal(udp_fault_proxy_mode(f->proxy), UDP_FAULT_FORWARD);
  assert_true(udp_round_trip(f, "still", WAIT_MS));
}

static void test_udp_drop_to_client_only_keeps_upstream(void **state) {
  udp_fixture *f = *state;
  char buf[64];
  struct sockaddr_in upstream;
  udp_fault_proxy_set_mode(f->proxy, UDP_FAULT_DROP_TO_CLIENT);
  udp_send(f->client, udp_fault_proxy_port(f->proxy), "up", 2);
  assert_int_equal(udp_recv(f->target, buf, sizeof buf, WAIT_MS, &upstream), 2);
  assert_int_equal(sendto(f->target, "down", 4, 0, (struct sockaddr *)&upstream, sizeof upstream),
                   4);
  assert_int_equal(udp_recv(f->client, buf, sizeof buf, 200, NULL), -1);

  udp_fault_proxy_set_mode(f->proxy, UDP_FAULT_DROP_TO_TARGET);
  udp_send(f->client, udp_fault_proxy_port(f->proxy), "up2", 3);
  assert_int_equal(udp_recv(f->target, buf, sizeof buf, 200, NULL), -1);
  assert_int_equal(sendto(f->target, "down2", 5, 0, (struct sockaddr *)&upstream, sizeof upstream),
                   5);
  assert_int_equal(udp_recv(f->client, buf, sizeof buf, WAIT_MS, NULL), 5);
  assert_memory_equal(buf, "down2", 5);
  assert_int_equal(udp_fault_proxy_dropped(f->proxy), 2);
}

static void test_udp_delay_holds_each_way(void **state) {
  udp_fixture *f = *state;
  const unsigned delay = 30;
  udp_fault_proxy_set_delay_ms(f->proxy, delay);
  char buf[64];
  struct sockaddr_in upstream;
  uint64_t t0 = now_ms();
  udp_send(f->client, udp_fault_proxy_port(f->proxy), "slow", 4);
  assert_int_equal(udp_recv(f->target, buf, sizeof buf, WAIT_MS, &upstream), 4);
  uint64_t t1 = now_ms();
  assert_true(t1 - t0 >= delay - 1); /* ms rounding of the two clock reads */
  assert_int_equal(sendto(f->target, "slow", 4, 0, (struct sockaddr *)&upstream, sizeof upstream),
                   4);
  assert_int_equal(udp_recv(f->client, buf, sizeof buf, WAIT_MS, NULL), 4);
  uint64_t t2 = now_ms();
  assert_true(t2 - t1 >= delay - 1);
  assert_true(t2 - t0 >= 2 * delay - 1);
}

static void test_udp_separate_delays_per_direction(void **state) {
  udp_fixture *f = *state;
  udp_fault_proxy_set_delays_ms(f->proxy, 0, 60);
  char buf[64];
  struct sockaddr_in upstream;
  udp_send(f->client, udp_fault_proxy_port(f->proxy), "x", 1);
  assert_int_equal(udp_recv(f->target, buf, sizeof buf, WAIT_MS, &upstream), 1);
  uint64_t t0 = now_ms();
  assert_int_equal(sendto(f->target, "y", 1, 0, (struct sockaddr *)&upstream, sizeof upstream), 1);
  assert_int_equal(udp_recv(f->client, buf, sizeof buf, WAIT_MS, NULL), 1);
  assert_true(now_ms() - t0 >= 59);
}

static void test_udp_delay_keeps_order(void **state) {
  udp_fixture *f = *state;
  udp_fault_proxy_set_delay_ms(f->proxy, 20);
  enum { N = 100 };
  for (uint32_t i = 0; i < N; i++) {
    udp_send(f->client, udp_fault_proxy_port(f->proxy), &i, sizeof i);
    if (i == N / 2)
      udp_fault_proxy_set_delay_ms(f->proxy, 0); /* shorter delay must not reorder */
  }
  for (uint32_t i = 0; i < N; i++) {
    uint32_t got = UINT32_MAX;
    assert_int_equal(udp_recv(f->target, &got, sizeof got, WAIT_MS, NULL), sizeof got);
    assert_int_equal(got, i);
  }
  assert_int_equal(udp_fault_proxy_forwarded(f->proxy), N);
}

static void test_udp_drop_discards_datagrams_already_held(void **state) {
  udp_fixture *f = *state;
  char buf[64];
  udp_fault_proxy_set_delay_ms(f->proxy, 100);
  udp_send(f->client, udp_fault_proxy_port(f->proxy), "held", 4);
  /* Wait until the proxy has it, then switch to the blackhole. */
  uint64_t deadline = now_ms() + WAIT_MS;
  while (udp_fault_proxy_client_datagrams(f->proxy) == 0 && now_ms() < deadline) {
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
  }
  udp_fault_proxy_set_mode(f->proxy, UDP_FAULT_DROP);
  assert_int_equal(udp_recv(f->target, buf, sizeof buf, 300, NULL), -1);
  assert_int_equal(udp_fault_proxy_dropped(f->proxy), 1);
}

static void test_udp_replies_go_to_most_recent_client(void **state) {
  udp_fixture *f = *state;
  int other = udp_socket(NULL);
  char buf[64];
  struct sockaddr_in upstream;
  udp_send(f->client, udp_fault_proxy_port(f->proxy), "1", 1);
  assert_int_equal(udp_recv(f->target, buf, sizeof buf, WAIT_MS, &upstream), 1);
  udp_send(other, udp_fault_proxy_port(f->proxy), "2", 1); /* e.g. a migrated client */
  assert_int_equal(udp_recv(f->target, buf, sizeof buf, WAIT_MS, NULL), 1);
  assert_int_equal(sendto(f->target, "r", 1, 0, (struct sockaddr *)&upstream, sizeof upstream), 1);
  assert_int_equal(udp_recv(other, buf, sizeof buf, WAIT_MS, NULL), 1);
  assert_int_equal(udp_recv(f->client, buf, sizeof buf, 100, NULL), -1);
  close(other);
}

static void test_udp_reply_before_any_client_is_dropped(void **state) {
  udp_fixture *f = *state;
  char buf[64];
  /* The server speaks first: nobody to send it to, so it is dropped. */
  udp_send(f->target, udp_fault_proxy_upstream_port(f->proxy), "early", 5);
  uint64_t deadline = now_ms() + WAIT_MS;
  while (udp_fault_proxy_dropped(f->proxy) == 0 && now_ms() < deadline) {
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
  }
  assert_int_equal(udp_fault_proxy_target_datagrams(f->proxy), 1);
  assert_int_equal(udp_fault_proxy_dropped(f->proxy), 1);
  assert_int_equal(udp_fault_proxy_forwarded(f->proxy), 0);
  /* Once the client has spoken, answers reach it. */
  assert_true(udp_round_trip(f, "late", WAIT_MS));
  assert_int_equal(udp_recv(f->client, buf, sizeof buf, 50, NULL), -1);
}

/* A QUIC long-header packet with a reserved (greasing) version, padded to
 * 1200 bytes: a QUIC server answers with a Version Negotiation packet
 * (RFC 9000 6.1), which needs no crypto to check. */
static void test_udp_quic_probe_flows_through_caddy(void **state) {
  (void)state;
  if (!caddy_available()) {
    skip();
    return;
  }
  caddy_options o;
  caddy_options_init(&o);
  o.protocols = CADDY_PROTO_H1 | CADDY_PROTO_H2 | CADDY_PROTO_H3;
  caddy_server *c = NULL;
  assert_int_equal(caddy_server_start(&o, &c), 0);
  udp_fault_proxy *p = udp_fault_proxy_new(caddy_server_port(c));
  assert_non_null(p);
  udp_fault_proxy_set_delay_ms(p, 5);
  int client = udp_socket(NULL);
  uint8_t pkt[1200] = {0};
  size_t i = 0;
  pkt[i++] = 0xc0;                                /* long header, Initial */
  memcpy(pkt + i, "\x1a\x2a\x3a\x4a", 4), i += 4; /* reserved version */
  pkt[i++] = 8;                                   /* DCID length */
  memcpy(pkt + i, "\x01\x02\x03\x04\x05\x06\x07\x08", 8), i += 8;
  pkt[i++] = 8; /* SCID length */
  memcpy(pkt + i, "\x11\x12\x13\x14\x15\x16\x17\x18", 8), i += 8;
  uint8_t buf[1500];
  ssize_t n = -1;
  /* Caddy may still be binding its UDP socket: retry a few times. */
  for (int attempt = 0; attempt < 10 && n < 0; attempt++) {
    udp_send(client, udp_fault_proxy_port(p), pkt, sizeof pkt);
    n = udp_recv(client, buf, sizeof buf, 500, NULL);
  }
  assert_true(n >= 7);
  assert_true((buf[0] & 0x80) != 0);           /* long header */
  assert_memory_equal(buf + 1, "\0\0\0\0", 4); /* version 0 = Version Negotiation */
  assert_true(udp_fault_proxy_target_datagrams(p) >= 1);
  assert_true(udp_fault_proxy_forwarded(p) >= 2);

  /* Blackhole: the same probe now gets nothing back. */
  udp_fault_proxy_set_mode(p, UDP_FAULT_DROP);
  udp_send(client, udp_fault_proxy_port(p), pkt, sizeof pkt);
  assert_int_equal(udp_recv(client, buf, sizeof buf, 300, NULL), -1);
  close(client);
  udp_fault_proxy_free(p);
  caddy_server_stop(c);
}

/* ---------------------------------------------------------------------- */
/* TCP helpers: a threaded echo server                                     */
/* ---------------------------------------------------------------------- */

#define ECHO_MAX_CONNS 64

typedef struct echo_server {
  int lfd;
  uint16_t port;
  pthread_t thread;
  atomic_bool stop;
  pthread_t conn_threads[ECHO_MAX_CONNS];
  int conn_fds[ECHO_MAX_CONNS];
  atomic_int n_conns;
} echo_server;

typedef struct echo_conn_arg {
  echo_server *s;
  int fd;
} echo_conn_arg;

static bool echo_wait(echo_server *s, int fd, short ev) {
  while (!atomic_load(&s->stop)) {
    struct pollfd pf = {.fd = fd, .events = ev};
    int rc = poll(&pf, 1, 50);
    if (rc > 0)
      return true;
    if (rc < 0 && errno != EINTR)
      return false;
  }
  return false;
}

static void *echo_conn_main(void *arg) {
  echo_conn_arg a = *(echo_conn_arg *)arg;
  free(arg);
  char buf[16384];
  for (;;) {
    if (!echo_wait(a.s, a.fd, POLLIN))
      break;
    ssize_t n = recv(a.fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
      continue;
    if (n <= 0) {
      if (n == 0)
        shutdown(a.fd, SHUT_WR); /* echo the half-close */
      break;
    }
    for (ssize_t off = 0; off < n;) {
      if (!echo_wait(a.s, a.fd, POLLOUT))
        return NULL;
      ssize_t w = send(a.fd, buf + off, (size_t)(n - off), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (w < 0 && (errno == EAGAIN || errno == EINTR))
        continue;
      if (w < 0)
        return NULL;
      off += w;
    }
  }
  return NULL;
}

static void *echo_main(void *arg) {
  echo_server *s = arg;
  while (echo_wait(s, s->lfd, POLLIN)) {
    int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
      continue;
    int i = atomic_load(&s->n_conns);
    echo_conn_arg *a = malloc(sizeof *a);
    if (i >= ECHO_MAX_CONNS || !a) {
      free(a);
      close(fd);
      continue;
    }
    a->s = s;
    a->fd = fd;
    s->conn_fds[i] = fd;
    if (pthread_create(&s->conn_threads[i], NULL, echo_conn_main, a) != 0) {
      free(a);
      close(fd);
      continue;
    }
    atomic_store(&s->n_conns, i + 1);
  }
  return NULL;
}

static echo_server *echo_server_start(void) {
  echo_server *s = calloc(1, sizeof *s);
  assert_non_null(s);
  s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  assert_true(s->lfd >= 0);
  struct sockaddr_in a = loopback(0);
  assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof a), 0);
  assert_int_equal(listen(s->lfd, 64), 0);
  socklen_t al = sizeof a;
  assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&a, &al), 0);
  s->port = ntohs(a.sin_port);
  assert_int_equal(pthread_create(&s->thread, NULL, echo_main, s), 0);
  return s;
}

static void echo_server_stop(echo_server *s) {
  atomic_store(&s->stop, true);
  pthread_join(s->thread, NULL);
  int n = atomic_load(&s->n_conns);
  for (int i = 0; i < n; i++) {
    pthread_join(s->conn_threads[i], NULL);
    close(s->conn_fds[i]);
  }
  close(s->lfd);
  free(s);
}

static int tcp_connect_to(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  assert_true(fd >= 0);
  struct sockaddr_in a = loopback(port);
  assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
  return fd;
}

/* Reads exactly len bytes within timeout_ms. true on success. */
static bool read_exact(int fd, void *buf, size_t len, unsigned timeout_ms) {
  uint64_t deadline = now_ms() + timeout_ms;
  size_t got = 0;
  while (got < len) {
    uint64_t now = now_ms();
    if (now >= deadline)
      return false;
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    if (poll(&pf, 1, (int)(deadline - now)) != 1)
      return false;
    ssize_t n = recv(fd, (char *)buf + got, len - got, MSG_DONTWAIT);
    if (n <= 0)
      return false;
    got += (size_t)n;
  }
  return true;
}

/* Waits for EOF within timeout_ms: 0 on EOF, -errno on an error, 1 when data
 * arrived instead, -ETIMEDOUT when nothing happened. */
static int wait_eof(int fd, unsigned timeout_ms) {
  struct pollfd pf = {.fd = fd, .events = POLLIN};
  if (poll(&pf, 1, (int)timeout_ms) != 1)
    return -ETIMEDOUT;
  char c;
  ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);
  return n == 0 ? 0 : n < 0 ? -errno : 1;
}

/* Sends len pattern bytes while reading the echo, half-closes, and checks
 * the echo is byte-exact and ends with EOF. */
static void echo_bulk(uint16_t port, size_t len) {
  int fd = tcp_connect_to(port);
  uint8_t *out = malloc(len), *in = malloc(len);
  assert_non_null(out);
  assert_non_null(in);
  for (size_t i = 0; i < len; i++)
    out[i] = (uint8_t)(i * 31u + (i >> 8));
  size_t sent = 0, got = 0;
  bool shut = false, eof = false;
  uint64_t deadline = now_ms() + 20000;
  while (!eof && now_ms() < deadline) {
    struct pollfd pf = {.fd = fd, .events = (short)(POLLIN | (sent < len ? POLLOUT : 0))};
    assert_true(poll(&pf, 1, 200) >= 0);
    if (sent < len && (pf.revents & POLLOUT)) {
      ssize_t w = send(fd, out + sent, len - sent > 65536 ? 65536 : len - sent,
                       MSG_NOSIGNAL | MSG_DONTWAIT);
      if (w > 0)
        sent += (size_t)w;
    }
    if (sent == len && !shut) {
      assert_int_equal(shutdown(fd, SHUT_WR), 0);
      shut = true;
    }
    if (pf.revents & (POLLIN | POLLHUP)) {
      ssize_t r = recv(fd, in + got, got < len ? len - got : 1, MSG_DONTWAIT);
      if (r == 0)
        eof = true;
      else if (r > 0)
        got += (size_t)r;
      else
        assert_true(errno == EAGAIN || errno == EINTR);
    }
  }
  assert_true(eof);
  assert_int_equal(got, len);
  assert_memory_equal(in, out, len);
  free(out);
  free(in);
  close(fd);
}

/* Waits until the proxy has closed every connection (bounded). */
static bool wait_closed(tcp_delay_proxy *p, unsigned timeout_ms) {
  uint64_t deadline = now_ms() + timeout_ms;
  while (tcp_delay_proxy_open_connections(p) != 0 && now_ms() < deadline) {
    struct timespec ts = {0, 2000000};
    nanosleep(&ts, NULL);
  }
  return tcp_delay_proxy_open_connections(p) == 0;
}

/* ---------------------------------------------------------------------- */
/* TCP tests                                                               */
/* ---------------------------------------------------------------------- */

static void test_tcp_new_rejects_port_zero(void **state) {
  (void)state;
  assert_null(tcp_delay_proxy_new(0, 10));
  assert_null(tcp_delay_proxy_new_ex(0, NULL));
  tcp_delay_proxy_free(NULL); /* no-op */
}

static void test_tcp_relays_1mb_byte_exact(void **state) {
  (void)state;
  echo_server *e = echo_server_start();
  tcp_delay_proxy *p = tcp_delay_proxy_new(e->port, 2);
  assert_non_null(p);
  echo_bulk(tcp_delay_proxy_port(p), 1u << 20);
  assert_int_equal(tcp_delay_proxy_connections(p), 1);
  assert_true(wait_closed(p, WAIT_MS));
  assert_int_equal(tcp_delay_proxy_bytes(p), 2u << 20);
  tcp_delay_proxy_free(p);
  echo_server_stop(e);
}

static void test_tcp_small_queue_bound_still_byte_exact(void **state) {
  (void)state;
  echo_server *e = echo_server_start();
  tcp_delay_proxy_options o;
  tcp_delay_proxy_options_init(&o);
  o.delay_ms_each_way = 1;
  o.max_queued_bytes = 4096; /* reading pauses constantly */
  tcp_delay_proxy *p = tcp_delay_proxy_new_ex(e->port, &o);
  assert_non_null(p);
  echo_bulk(tcp_delay_proxy_port(p), 1u << 20);
  tcp_delay_proxy_free(p);
  echo_server_stop(e);
}

static void test_tcp_round_trip_delayed_by_both_ways(void **state) {
  (void)state;
  const unsigned delay = 25;
  echo_server *e = echo_server_start();
  tcp_delay_proxy_options o;
  tcp_delay_proxy_options_init(&o);
  o.delay_ms_each_way = delay;
  o.emulate_tcp_handshake = false;
  tcp_delay_proxy *p = tcp_delay_proxy_new_ex(e->port, &o);
  assert_non_null(p);
  int fd = tcp_connect_to(tcp_delay_proxy_port(p));
  for (int i = 0; i < 3; i++) {
    char c = (char)('a' + i), r = 0;
    uint64_t t0 = now_ms();
    assert_int_equal(send(fd, &c, 1, MSG_NOSIGNAL), 1);
    assert_true(read_exact(fd, &r, 1, WAIT_MS));
    assert_int_equal(r, c);
    assert_true(now_ms() - t0 >= 2 * delay - 1);
  }
  close(fd);
  tcp_delay_proxy_free(p);
  echo_server_stop(e);
}

static void test_tcp_handshake_emulation_adds_one_rtt_to_first_bytes(void **state) {
  (void)state;
  const unsigned delay = 25;
  echo_server *e = echo_server_start();
  tcp_delay_proxy *p = tcp_delay_proxy_new(e->port, delay); /* default: emulate */
  assert_non_null(p);
  uint64_t t0 = now_ms();
  int fd = tcp_connect_to(tcp_delay_proxy_port(p));
  char r = 0;
  assert_int_equal(send(fd, "1", 1, MSG_NOSIGNAL), 1);
  assert_true(read_exact(fd, &r, 1, WAIT_MS));
  uint64_t t1 = now_ms();
  assert_true(t1 - t0 >= 4 * delay - 1); /* SYN/SYN-ACK, then data both ways */
  assert_int_equal(send(fd, "2", 1, MSG_NOSIGNAL), 1);
  assert_true(read_exact(fd, &r, 1, WAIT_MS));
  assert_int_equal(r, '2');
  assert_true(now_ms() - t1 >= 2 * delay - 1);
  close(fd);
  tcp_delay_proxy_free(p);
  echo_server_stop(e);
}

static void test_tcp_target_close_gives_client_eof(void **state) {
  (void)state;
  const raw_action script[] = {
      {RAW_ACCEPT, NULL, 0, 0},
      {RAW_WRITE, "bye", 3, 0},
      {RAW_CLOSE, NULL, 0, 0},
  };
  raw_tcp_server *s = raw_tcp_server_start("127.0.0.1", 0, script, 3);
  assert_non_null(s);
  tcp_delay_proxy *p = tcp_delay_proxy_new(raw_tcp_server_port(s), 10);
  assert_non_null(p);
  int fd = tcp_connect_to(tcp_delay_proxy_port(p));
  char buf[3];
  assert_true(read_exact(fd, buf, 3, WAIT_MS));
  assert_memory_equal(buf, "bye", 3);
  assert_int_equal(wait_eof(fd, WAIT_MS), 0);
  assert_int_equal(raw_tcp_server_wait(s, WAIT_MS), 0);
  close(fd);
  /* Client closed too: the proxy closes both sides and forgets the pair. */
  assert_true(wait_closed(p, WAIT_MS));
  tcp_delay_proxy_free(p);
  raw_tcp_server_free(s);
}

static void test_tcp_client_half_close_reaches_target(void **state) {
  (void)state;
  const raw_action script[] = {
      {RAW_ACCEPT, NULL, 0, 0},
      {RAW_WAIT_CLOSE, NULL, 0, 0}, /* reads "hello" then the FIN */
      {RAW_WRITE, "answer", 6, 0},  /* still able to answer */
      {RAW_CLOSE, NULL, 0, 0},
  };
  raw_tcp_server *s = raw_tcp_server_start("127.0.0.1", 0, script, 4);
  assert_non_null(s);
  tcp_delay_proxy *p = tcp_delay_proxy_new(raw_tcp_server_port(s), 5);
  assert_non_null(p);
  int fd = tcp_connect_to(tcp_delay_proxy_port(p));
  assert_int_equal(send(fd, "hello", 5, MSG_NOSIGNAL), 5);
  assert_int_equal(shutdown(fd, SHUT_WR), 0);
  char buf[6];
  assert_true(read_exact(fd, buf, 6, WAIT_MS));
  assert_memory_equal(buf, "answer", 6);
  assert_int_equal(wait_eof(fd, WAIT_MS), 0);
  assert_int_equal(raw_tcp_server_wait(s, WAIT_MS), 0);
  size_t len = 0;
  const char *got = raw_tcp_server_received(s, &len);
  assert_int_equal(len, 5);
  assert_memory_equal(got, "hello", 5);
  assert_true(wait_closed(p, WAIT_MS));
  close(fd);
  tcp_delay_proxy_free(p);
  raw_tcp_server_free(s);
}

static void test_tcp_refused_target_resets_client(void **state) {
  (void)state;
  uint16_t port = test_free_port("127.0.0.1", false); /* nobody listens */
  assert_int_not_equal(port, 0);
  tcp_delay_proxy *p = tcp_delay_proxy_new(port, 5);
  assert_non_null(p);
  int fd = tcp_connect_to(tcp_delay_proxy_port(p));
  int r = wait_eof(fd, WAIT_MS);
  assert_true(r == -ECONNRESET || r == 0);
  assert_true(wait_closed(p, WAIT_MS));
  assert_int_equal(tcp_delay_proxy_connections(p), 1);
  close(fd);
  tcp_delay_proxy_free(p);
}

static void test_tcp_many_connections_at_once(void **state) {
  (void)state;
  enum { N = 16 };
  echo_server *e = echo_server_start();
  tcp_delay_proxy *p = tcp_delay_proxy_new(e->port, 10);
  assert_non_null(p);
  int fds[N];
  for (int i = 0; i < N; i++)
    fds[i] = tcp_connect_to(tcp_delay_proxy_port(p));
  for (int i = 0; i < N; i++) {
    char msg[8];
    snprintf(msg, sizeof msg, "c%02d", i);
    assert_int_equal(send(fds[i], msg, 3, MSG_NOSIGNAL), 3);
  }
  for (int i = 0; i < N; i++) {
    char want[8], got[3];
    snprintf(want, sizeof want, "c%02d", i);
    assert_true(read_exact(fds[i], got, 3, WAIT_MS));
    assert_memory_equal(got, want, 3);
  }
  assert_int_equal(tcp_delay_proxy_connections(p), N);
  assert_int_equal(tcp_delay_proxy_open_connections(p), N);
  for (int i = 0; i < N; i++)
    close(fds[i]);
  assert_true(wait_closed(p, WAIT_MS));
  tcp_delay_proxy_free(p);
  echo_server_stop(e);
}

static void test_tcp_free_with_open_connections(void **state) {
  (void)state;
  echo_server *e = echo_server_start();
  tcp_delay_proxy *p = tcp_delay_proxy_new(e->port, 50);
  assert_non_null(p);
  int fd = tcp_connect_to(tcp_delay_proxy_port(p));
  assert_int_equal(send(fd, "pending", 7, MSG_NOSIGNAL), 7); /* still held */
  uint64_t deadline = now_ms() + WAIT_MS;
  while (tcp_delay_proxy_connections(p) == 0 && now_ms() < deadline) {
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
  }
  tcp_delay_proxy_free(p); /* frees held bytes, closes both sides */
  int r = wait_eof(fd, WAIT_MS);
  assert_true(r == 0 || r == -ECONNRESET);
  close(fd);
  echo_server_stop(e);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_udp_new_rejects_port_zero),
      cmocka_unit_test_setup_teardown(test_udp_forward_round_trips_datagram, udp_setup,
                                      udp_teardown),
      cmocka_unit_test_setup_teardown(test_udp_drop_swallows_both_ways_and_counts, udp_setup,
                                      udp_teardown),
      cmocka_unit_test_setup_teardown(test_udp_forward_works_again_after_drop, udp_setup,
                                      udp_teardown),
      cmocka_unit_test_setup_teardown(test_udp_unknown_mode_is_ignored, udp_setup, udp_teardown),
      cmocka_unit_test_setup_teardown(test_udp_drop_to_client_only_keeps_upstream, udp_setup,
                                      udp_teardown),
      cmocka_unit_test_setup_teardown(test_udp_delay_holds_each_way, udp_setup, udp_teardown),
      cmocka_unit_test_setup_teardown(test_udp_separate_delays_per_direction, udp_setup,
                                      udp_teardown),
      cmocka_unit_test_setup_teardown(test_udp_delay_keeps_order, udp_setup, udp_teardown),
      cmocka_unit_test_setup_teardown(test_udp_drop_discards_datagrams_already_held, udp_setup,
                                      udp_teardown),
      cmocka_unit_test_setup_teardown(test_udp_replies_go_to_most_recent_client, udp_setup,
                                      udp_teardown),
      cmocka_unit_test_setup_teardown(test_udp_reply_before_any_client_is_dropped, udp_setup,
                                      udp_teardown),
      cmocka_unit_test(test_udp_quic_probe_flows_through_caddy),
      cmocka_unit_test(test_tcp_new_rejects_port_zero),
      cmocka_unit_test(test_tcp_relays_1mb_byte_exact),
      cmocka_unit_test(test_tcp_small_queue_bound_still_byte_exact),
      cmocka_unit_test(test_tcp_round_trip_delayed_by_both_ways),
      cmocka_unit_test(test_tcp_handshake_emulation_adds_one_rtt_to_first_bytes),
      cmocka_unit_test(test_tcp_target_close_gives_client_eof),
      cmocka_unit_test(test_tcp_client_half_close_reaches_target),
      cmocka_unit_test(test_tcp_refused_target_resets_client),
      cmocka_unit_test(test_tcp_many_connections_at_once),
      cmocka_unit_test(test_tcp_free_with_open_connections),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
