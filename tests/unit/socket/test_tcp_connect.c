/* Tests for socket/tcp_connect (Happy Eyeballs) and socket/tcp_socket.
 *
 * Everything stays on loopback. A "slow" address is simulated with a
 * listener whose accept queue is full (support/net_test_util.h blackhole):
 * the kernel drops our SYN, so the attempt neither succeeds nor fails
 * until the first SYN retransmission (~1 s), long after the test's
 * attempt delay / timeout. A refused address is a loopback port nobody
 * listens on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "base/thread.h"
#include "socket/stream_socket.h"
#include "socket/tcp_connect.h"
#include "support/net_test_util.h"
#include "support/raw_tcp_server.h"

typedef struct fixture {
  uv_loop_t loop;
  base_runner *runner;
} fixture;

typedef struct connect_result {
  bool done;
  int calls;
  int result;
  stream_socket *sock;
  tcp_connect_job *free_job_in_cb;
} connect_result;

static void on_connect(int result, stream_socket *sock, void *ud) {
  connect_result *r = ud;
  r->done = true;
  r->calls++;
  r->result = result;
  r->sock = sock;
  if (r->free_job_in_cb) {
    tcp_connect_job_free(r->free_job_in_cb);
    r->free_job_in_cb = NULL;
  }
}

typedef struct io_result {
  bool done;
  int calls;
  int result;
} io_result;

static void on_io(int result, void *ud) {
  io_result *r = ud;
  r->done = true;
  r->calls++;
  r->result = result;
}

/* Runs a read to completion (sync or async); returns its result. */
static int read_sync(uv_loop_t *loop, stream_socket *s, uint8_t *buf, size_t len) {
  io_result r = {0};
  int rc = stream_socket_read(s, buf, len, on_io, &r);
  if (rc == CRONC_ERR_IO_PENDING) {
    if (!test_loop_run_until(loop, &r.done, 5000))
      return -9999;
    rc = r.result;
  }
  return rc;
}

static int setup(void **state) {
  fixture *f = calloc(1, sizeof(*f));
  assert_non_null(f);
  assert_int_equal(uv_loop_init(&f->loop), 0);
  assert_int_equal(base_runner_new_on_loop(&f->loop, &f->runner), 0);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  assert_int_equal(base_runner_free(f->runner), 0);
  test_loop_run_for(&f->loop, 20);
  assert_int_equal(uv_loop_close(&f->loop), 0);
  free(f);
  return 0;
}

static tcp_connect_params fast_params(uint64_t delay_ms, uint64_t timeout_ms) {
  tcp_connect_params p;
  tcp_connect_params_init(&p);
  p.attempt_delay_ms = delay_ms;
  p.timeout_ms = timeout_ms;
  return p;
}

static uint16_t port_of(const struct sockaddr_storage *ss) {
  if (ss->ss_family == AF_INET6)
    return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
  return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

/* ---- pure functions ------------------------------------------------------- */

static void test_sort_interleaves_families_starting_with_ipv6(void **state) {
  struct sockaddr_storage in[5], out[5];
  test_sockaddr(&in[0], "127.0.0.1", 1);
  test_sockaddr(&in[1], "127.0.0.2", 2);
  test_sockaddr(&in[2], "::1", 3);
  test_sockaddr(&in[3], "127.0.0.3", 4);
  test_sockaddr(&in[4], "::2", 5);
  assert_int_equal(tcp_connect_sort_addresses(in, 5, out), 5);
  uint16_t want[] = {3, 1, 5, 2, 4};
  for (int i = 0; i < 5; i++)
    assert_int_equal(port_of(&out[i]), want[i]);
}

static void test_sort_single_family_keeps_order_and_skips_unknown(void **state) {
  struct sockaddr_storage in[3], out[3];
  test_sockaddr(&in[0], "127.0.0.1", 1);
  memset(&in[1], 0, sizeof(in[1]));
  in[1].ss_family = AF_UNIX;
  test_sockaddr(&in[2], "127.0.0.2", 2);
  assert_int_equal(tcp_connect_sort_addresses(in, 3, out), 2);
  assert_int_equal(port_of(&out[0]), 1);
  assert_int_equal(port_of(&out[1]), 2);
}

static void test_system_errors_map_to_chromium_codes(void **state) {
  assert_int_equal(socket_map_connect_error(ECONNREFUSED), CRONC_ERR_CONNECTION_REFUSED);
  assert_int_equal(socket_map_connect_error(-ECONNREFUSED), CRONC_ERR_CONNECTION_REFUSED);
  assert_int_equal(socket_map_connect_error(ETIMEDOUT), CRONC_ERR_CONNECTION_TIMED_OUT);
  assert_int_equal(socket_map_connect_error(ENETUNREACH), CRONC_ERR_ADDRESS_UNREACHABLE);
  assert_int_equal(socket_map_connect_error(EHOSTUNREACH), CRONC_ERR_ADDRESS_UNREACHABLE);
  assert_int_equal(socket_map_connect_error(EACCES), CRONC_ERR_NETWORK_ACCESS_DENIED);
  assert_int_equal(socket_map_connect_error(EPROTO), CRONC_ERR_CONNECTION_FAILED);
  assert_int_equal(socket_map_system_error(ECONNRESET), CRONC_ERR_CONNECTION_RESET);
  assert_int_equal(socket_map_system_error(EPIPE), CRONC_ERR_CONNECTION_RESET);
  assert_int_equal(socket_map_system_error(ETIMEDOUT), CRONC_ERR_TIMED_OUT);
  assert_int_equal(socket_map_system_error(EADDRNOTAVAIL), CRONC_ERR_ADDRESS_INVALID);
  assert_int_equal(socket_map_system_error(0), CRONC_OK);
  assert_int_equal(socket_map_system_error(EPROTO), CRONC_ERR_FAILED);
}

/* ---- connect -------------------------------------------------------------- */

static void test_connect_rejects_bad_arguments(void **state) {
  fixture *f = *state;
  struct sockaddr_storage a;
  test_sockaddr(&a, "127.0.0.1", 1);
  tcp_connect_job *job = (tcp_connect_job *)1;
  connect_result r = {0};
  assert_int_equal(tcp_connect_start(NULL, &a, 1, 0, NULL, on_connect, &r, &job),
                   CRONC_ERR_INVALID_ARGUMENT);
  assert_null(job);
  assert_int_equal(tcp_connect_start(f->runner, &a, 0, 0, NULL, on_connect, &r, &job),
                   CRONC_ERR_INVALID_ARGUMENT);
  assert_int_equal(tcp_connect_start(f->runner, &a, 1, 0, NULL, NULL, &r, &job),
                   CRONC_ERR_INVALID_ARGUMENT);
  struct sockaddr_storage unix_addr = {.ss_family = AF_UNIX};
  assert_int_equal(tcp_connect_start(f->runner, &unix_addr, 1, 0, NULL, on_connect, &r, &job),
                   CRONC_ERR_INVALID_ARGUMENT);
  test_loop_run_for(&f->loop, 10);
  assert_int_equal(r.calls, 0);
}

static void test_connect_succeeds_and_exchanges_bytes(void **state) {
  fixture *f = *state;
  const raw_action script[] = {
      {RAW_ACCEPT, NULL, 0, 0},
      {RAW_READ_UNTIL, "ping\n", 5, 0},
      {RAW_WRITE, "pong\n", 5, 0},
      {RAW_CLOSE, NULL, 0, 0},
  };
  raw_tcp_server *srv = raw_tcp_server_start("127.0.0.1", 0, script, 4);
  assert_non_null(srv);
  struct sockaddr_storage a;
  test_sockaddr(&a, "127.0.0.1", 0);
  connect_result r = {0};
  tcp_connect_job *job;
  assert_int_equal(
      tcp_connect_start(f->runner, &a, 1, raw_tcp_server_port(srv), NULL, on_connect, &r, &job), 0);
  assert_false(r.done); /* never inside start */
  assert_true(test_loop_run_until(&f->loop, &r.done, 5000));
  assert_int_equal(r.result, CRONC_OK);
  assert_non_null(r.sock);
  tcp_connect_job_free(job);

  stream_socket *s = r.sock;
  assert_true(stream_socket_is_connected(s));
  assert_false(stream_socket_was_ever_used(s));
  assert_string_equal(stream_socket_alpn(s), "");
  struct sockaddr_storage peer;
  assert_int_equal(stream_socket_peer_address(s, &peer), 0);
  assert_int_equal(port_of(&peer), raw_tcp_server_port(srv));
  socket_connection_info info;
  stream_socket_connection_info(s, &info);
  assert_true(info.connect_start_us > 0);
  assert_true(info.connect_end_us >= info.connect_start_us);
  assert_int_equal(info.tls_start_us, 0);

  /* Two slices, one writev. */
  socket_iovec iov[2] = {{(const uint8_t *)"pi", 2}, {(const uint8_t *)"ng\n", 3}};
  io_result w = {0};
  int rc = stream_socket_writev(s, iov, 2, on_io, &w);
  assert_int_equal(rc, 5);
  assert_false(w.done);
  assert_true(stream_socket_was_ever_used(s));

  uint8_t buf[64];
  size_t got = 0;
  for (int i = 0; i < 100 && got < 5; i++) {
    rc = read_sync(&f->loop, s, buf + got, sizeof(buf) - got);
    assert_true(rc > 0);
    got += (size_t)rc;
  }
  assert_memory_equal(buf, "pong\n", 5);
  /* Then EOF: 0. */
  assert_int_equal(read_sync(&f->loop, s, buf, sizeof(buf)), 0);
  assert_false(stream_socket_is_connected(s));
  assert_int_equal(raw_tcp_server_wait(srv, 5000), 0);
  stream_socket_free(s);
  raw_tcp_server_free(srv);
}

static void test_connect_to_closed_port_is_refused(void **state) {
  fixture *f = *state;
  uint16_t port = test_free_port("127.0.0.1", false);
  assert_true(port != 0);
  struct sockaddr_storage a;
  test_sockaddr(&a, "127.0.0.1", port);
  connect_result r = {0};
  tcp_connect_job *job;
  assert_int_equal(tcp_connect_start(f->runner, &a, 1, 0, NULL, on_connect, &r, &job), 0);
  assert_true(test_loop_run_until(&f->loop, &r.done, 5000));
  assert_int_equal(r.result, CRONC_ERR_CONNECTION_REFUSED);
  assert_null(r.sock);
  assert_int_equal(r.calls, 1);
  tcp_connect_job_free(job);
  test_loop_run_for(&f->loop, 10);
  assert_int_equal(r.calls, 1);
}

typedef struct log_rec {
  char seq[512]; /* "TCP_CONNECT+ TCP_CONNECT_ATTEMPT+{...} ..." */
} log_rec;

static void on_log(const netlog_entry *e, void *ud) {
  log_rec *r = ud;
  size_t n = strlen(r->seq);
  snprintf(r->seq + n, sizeof r->seq - n, "%s%s%s ", netlog_event_type_name(e->type),
           e->phase == NETLOG_PHASE_BEGIN ? "+"
           : e->phase == NETLOG_PHASE_END ? "-"
                                          : "",
           e->params ? e->params : "");
}

/* Chromium's TCP_CONNECT / TCP_CONNECT_ATTEMPT: each attempt's address and
 * result, then the connect's end with the final error. */
static void test_connect_logs_attempts_and_result(void **state) {
  fixture *f = *state;
  uint16_t port = test_free_port("127.0.0.1", false);
  struct sockaddr_storage a;
  test_sockaddr(&a, "127.0.0.1", port);
  netlog *nl = netlog_new(NULL);
  log_rec rec = {{0}};
  netlog_observer *obs = netlog_add_observer(nl, on_log, &rec);
  tcp_connect_params p = fast_params(250, 5000);
  p.netlog = nl;
  connect_result r = {0};
  tcp_connect_job *job;
  assert_int_equal(tcp_connect_start(f->runner, &a, 1, 0, &p, on_connect, &r, &job), 0);
  assert_true(test_loop_run_until(&f->loop, &r.done, 5000));
  tcp_connect_job_free(job);
  char want[256];
  snprintf(want, sizeof want,
           "TCP_CONNECT+{\"address_count\":1} TCP_CONNECT_ATTEMPT+{\"address\":\"127.0.0.1:%u\"} "
           "TCP_CONNECT_ATTEMPT-{\"net_error\":-102} FAILED{\"net_error\":-102} "
           "TCP_CONNECT-{\"net_error\":-102} ",
           (unsigned)port);
  assert_string_equal(rec.seq, want);
  netlog_remove_observer(nl, obs);
  netlog_free(nl);
}

static void test_all_addresses_refused_reports_refused(void **state) {
  fixture *f = *state;
  uint16_t p4 = test_free_port("127.0.0.1", false);
  uint16_t p6 = test_free_port("::1", false);
  struct sockaddr_storage a[2];
  test_sockaddr(&a[0], "127.0.0.1", p4);
  test_sockaddr(&a[1], "::1", p6);
  tcp_connect_params p = fast_params(10000, 5000);
  connect_result r = {0};
  tcp_connect_job *job;
  assert_int_equal(tcp_connect_start(f->runner, a, 2, 0, &p, on_connect, &r, &job), 0);
  assert_true(test_loop_run_until(&f->loop, &r.done, 3000)); /* not the 10 s delay */
  assert_int_equal(r.result, CRONC_ERR_CONNECTION_REFUSED);
  assert_int_equal(tcp_connect_job_attempts_started(job), 2);
  tcp_connect_job_free(job);
}

/* The first (IPv6) address hangs; after the attempt delay the IPv4 address
 * is tried and wins. The hanging attempt is closed. */
static void test_happy_eyeballs_falls_back_after_attempt_delay(void **state) {
  fixture *f = *state;
  test_blackhole *bh = test_blackhole_new("::1", 0);
  if (!bh) {
    skip();
  }
  const raw_action script[] = {{RAW_ACCEPT, NULL, 0, 0}, {RAW_WAIT_CLOSE, NULL, 0, 0}};
  raw_tcp_server *srv = raw_tcp_server_start("127.0.0.1", 0, script, 2);
  assert_non_null(srv);
  struct sockaddr_storage a[2];
  /* Given IPv4 first: the sort puts IPv6 (the blackhole) first anyway. */
  test_sockaddr(&a[0], "127.0.0.1", raw_tcp_server_port(srv));
  test_sockaddr(&a[1], "::1", test_blackhole_port(bh));
  tcp_connect_params p = fast_params(150, 10000);
  connect_result r = {0};
  tcp_connect_job *job;
  uint64_t t0 = test_now_ms();
  assert_int_equal(tcp_connect_start(f->runner, a, 2, 0, &p, on_connect, &r, &job), 0);
  assert_int_equal(tcp_connect_job_attempts_started(job), 1);
  assert_true(test_loop_run_until(&f->loop, &r.done, 5000));
  uint64_t elapsed = test_now_ms() - t0;
  assert_int_equal(r.result, CRONC_OK);
  assert_int_equal(tcp_connect_job_attempts_started(job), 2);
  assert_true(elapsed >= 140);
  assert_true(elapsed < 900); /* before the blackholed SYN is retried */
  struct sockaddr_storage peer;
  assert_int_equal(stream_socket_peer_address(r.sock, &peer), 0);
  assert_int_equal(peer.ss_family, AF_INET);
  tcp_connect_job_free(job);
  stream_socket_free(r.sock);
  assert_int_equal(raw_tcp_server_wait(srv, 5000), 0);
  raw_tcp_server_free(srv);
  test_blackhole_free(bh);
}

/* A failed attempt starts the next one at once, not after the delay. */
static void test_happy_eyeballs_failure_starts_next_attempt_immediately(void **state) {
  fixture *f = *state;
  const raw_action script[] = {{RAW_ACCEPT, NULL, 0, 0}, {RAW_WAIT_CLOSE, NULL, 0, 0}};
  raw_tcp_server *srv = raw_tcp_server_start("127.0.0.1", 0, script, 2);
  assert_non_null(srv);
  struct sockaddr_storage a[2];
  test_sockaddr(&a[0], "::1", test_free_port("::1", false)); /* refused */
  test_sockaddr(&a[1], "127.0.0.1", raw_tcp_server_port(srv));
  tcp_connect_params p = fast_params(10000, 20000);
  connect_result r = {0};
  tcp_connect_job *job;
  assert_int_equal(tcp_connect_start(f->runner, a, 2, 0, &p, on_connect, &r, &job), 0);
  assert_true(test_loop_run_until(&f->loop, &r.done, 3000));
  assert_int_equal(r.result, CRONC_OK);
  assert_int_equal(tcp_connect_job_attempts_started(job), 2);
  tcp_connect_job_free(job);
  stream_socket_free(r.sock);
  assert_int_equal(raw_tcp_server_wait(srv, 5000), 0);
  raw_tcp_server_free(srv);
}

static void test_connect_times_out(void **state) {
  fixture *f = *state;
  test_blackhole *bh = test_blackhole_new("127.0.0.1", 0);
  if (!bh) {
    skip();
  }
  struct sockaddr_storage a;
  test_sockaddr(&a, "127.0.0.1", test_blackhole_port(bh));
  tcp_connect_params p = fast_params(250, 200);
  connect_result r = {0};
  tcp_connect_job *job;
  uint64_t t0 = test_now_ms();
  assert_int_equal(tcp_connect_start(f->runner, &a, 1, 0, &p, on_connect, &r, &job), 0);
  assert_true(test_loop_run_until(&f->loop, &r.done, 5000));
  assert_int_equal(r.result, CRONC_ERR_CONNECTION_TIMED_OUT);
  assert_null(r.sock);
  assert_true(test_now_ms() - t0 >= 190);
  tcp_connect_job_free(job);
  test_loop_run_for(&f->loop, 20);
  assert_int_equal(r.calls, 1);
  test_blackhole_free(bh);
}

static void test_cancel_never_calls_back(void **state) {
  fixture *f = *state;
  test_blackhole *bh = test_blackhole_new("127.0.0.1", 0);
  if (!bh) {
    skip();
  }
  struct sockaddr_storage a[2];
  test_sockaddr(&a[0], "127.0.0.1", test_blackhole_port(bh));
  test_sockaddr(&a[1], "127.0.0.1", test_free_port("127.0.0.1", false));
  tcp_connect_params p = fast_params(50, 150);
  connect_result r = {0};
  tcp_connect_job *job;
  assert_int_equal(tcp_connect_start(f->runner, a, 2, 0, &p, on_connect, &r, &job), 0);
  test_loop_run_for(&f->loop, 20);
  tcp_connect_job_free(job); /* attempt pending, delay and timeout timers armed */
  test_loop_run_for(&f->loop, 300);
  assert_int_equal(r.calls, 0);
  test_blackhole_free(bh);
}

static void test_cancel_right_after_start_never_calls_back(void **state) {
  fixture *f = *state;
  struct sockaddr_storage a;
  test_sockaddr(&a, "127.0.0.1", test_free_port("127.0.0.1", false));
  connect_result r = {0};
  tcp_connect_job *job;
  assert_int_equal(tcp_connect_start(f->runner, &a, 1, 0, NULL, on_connect, &r, &job), 0);
  tcp_connect_job_free(job);
  test_loop_run_for(&f->loop, 50);
  assert_int_equal(r.calls, 0);
}

static void test_job_may_be_freed_inside_callback(void **state) {
  fixture *f = *state;
  struct sockaddr_storage a;
  test_sockaddr(&a, "127.0.0.1", test_free_port("127.0.0.1", false));
  connect_result r = {0};
  tcp_connect_job *job;
  assert_int_equal(tcp_connect_start(f->runner, &a, 1, 0, NULL, on_connect, &r, &job), 0);
  r.free_job_in_cb = job;
  assert_true(test_loop_run_until(&f->loop, &r.done, 5000));
  assert_int_equal(r.result, CRONC_ERR_CONNECTION_REFUSED);
  test_loop_run_for(&f->loop, 20);
  assert_int_equal(r.calls, 1);
}

/* Connects to a raw server and returns the socket (asserting success). */
static stream_socket *connect_to(fixture *f, uint16_t port) {
  struct sockaddr_storage a;
  test_sockaddr(&a, "127.0.0.1", port);
  connect_result r = {0};
  tcp_connect_job *job;
  assert_int_equal(tcp_connect_start(f->runner, &a, 1, 0, NULL, on_connect, &r, &job), 0);
  assert_true(test_loop_run_until(&f->loop, &r.done, 5000));
  assert_int_equal(r.result, 0);
  tcp_connect_job_free(job);
  return r.sock;
}

static void test_read_after_peer_reset_reports_connection_reset(void **state) {
  fixture *f = *state;
  const raw_action script[] = {
      {RAW_ACCEPT, NULL, 0, 0},
      {RAW_READ_BYTES, NULL, 1, 0},
      {RAW_RESET, NULL, 0, 0},
  };
  raw_tcp_server *srv = raw_tcp_server_start("127.0.0.1", 0, script, 3);
  assert_non_null(srv);
  stream_socket *s = connect_to(f, raw_tcp_server_port(srv));
  uint8_t buf[16];
  io_result rr = {0};
  /* Read pending first, then the reset arrives: the callback reports it. */
  assert_int_equal(stream_socket_read(s, buf, sizeof(buf), on_io, &rr), CRONC_ERR_IO_PENDING);
  io_result w = {0};
  assert_int_equal(stream_socket_write(s, (const uint8_t *)"x", 1, on_io, &w), 1);
  assert_true(test_loop_run_until(&f->loop, &rr.done, 5000));
  assert_int_equal(rr.result, CRONC_ERR_CONNECTION_RESET);
  assert_false(w.done);
  assert_int_equal(raw_tcp_server_wait(srv, 5000), 0);
  stream_socket_free(s);
  raw_tcp_server_free(srv);
}

/* A write too large for the socket buffers goes pending and completes with
 * the total; the server sees every byte in order. */
static void test_large_writev_completes_asynchronously_in_order(void **state) {
  fixture *f = *state;
  size_t big = 8u << 20;
  const raw_action script[] = {
      {RAW_ACCEPT, NULL, 0, 0},
      {RAW_SLEEP_MS, NULL, 0, 100}, /* let the kernel buffers fill */
      {RAW_READ_BYTES, NULL, 3 + big, 0},
      {RAW_CLOSE, NULL, 0, 0},
  };
  raw_tcp_server *srv = raw_tcp_server_start("127.0.0.1", 0, script, 4);
  assert_non_null(srv);
  stream_socket *s = connect_to(f, raw_tcp_server_port(srv));
  uint8_t *body = malloc(big);
  assert_non_null(body);
  for (size_t i = 0; i < big; i++)
    body[i] = (uint8_t)(i * 7 + 1);
  socket_iovec iov[2] = {{(const uint8_t *)"HDR", 3}, {body, big}};
  io_result w = {0};
  int rc = stream_socket_writev(s, iov, 2, on_io, &w);
  assert_int_equal(rc, CRONC_ERR_IO_PENDING);
  /* A second write while one is pending is refused. */
  io_result w2 = {0};
  assert_int_equal(stream_socket_write(s, (const uint8_t *)"x", 1, on_io, &w2),
                   CRONC_ERR_INVALID_ARGUMENT);
  assert_true(test_loop_run_until(&f->loop, &w.done, 10000));
  assert_int_equal(w.result, (int)(3 + big));
  assert_int_equal(raw_tcp_server_wait(srv, 10000), 0);
  size_t len;
  const char *got = raw_tcp_server_received(srv, &len);
  assert_int_equal(len, 3 + big);
  assert_memory_equal(got, "HDR", 3);
  assert_memory_equal(got + 3, body, big);
  free(body);
  stream_socket_free(s);
  raw_tcp_server_free(srv);
}

static void test_read_if_ready_notifies_without_consuming(void **state) {
  fixture *f = *state;
  const raw_action script[] = {
      {RAW_ACCEPT, NULL, 0, 0},
      {RAW_SLEEP_MS, NULL, 0, 50},
      {RAW_WRITE, "hello", 5, 0},
      {RAW_WAIT_CLOSE, NULL, 0, 0},
  };
  raw_tcp_server *srv = raw_tcp_server_start("127.0.0.1", 0, script, 4);
  assert_non_null(srv);
  stream_socket *s = connect_to(f, raw_tcp_server_port(srv));
  uint8_t buf[16];
  io_result rr = {0};
  assert_int_equal(stream_socket_read_if_ready(s, buf, sizeof(buf), on_io, &rr),
                   CRONC_ERR_IO_PENDING);
  assert_true(test_loop_run_until(&f->loop, &rr.done, 5000));
  assert_int_equal(rr.result, CRONC_OK);
  assert_false(stream_socket_is_connected_and_idle(s)); /* bytes waiting */
  io_result rr2 = {0};
  assert_int_equal(stream_socket_read_if_ready(s, buf, sizeof(buf), on_io, &rr2), 5);
  assert_memory_equal(buf, "hello", 5);
  assert_true(stream_socket_is_connected_and_idle(s));
  /* Cancelled notification never arrives. */
  io_result rr3 = {0};
  assert_int_equal(stream_socket_read_if_ready(s, buf, sizeof(buf), on_io, &rr3),
                   CRONC_ERR_IO_PENDING);
  stream_socket_cancel_read_if_ready(s);
  stream_socket_free(s);
  assert_int_equal(raw_tcp_server_wait(srv, 5000), 0);
  test_loop_run_for(&f->loop, 20);
  assert_int_equal(rr3.calls, 0);
  raw_tcp_server_free(srv);
}

static void test_free_with_pending_read_never_calls_back(void **state) {
  fixture *f = *state;
  const raw_action script[] = {{RAW_ACCEPT, NULL, 0, 0}, {RAW_WAIT_CLOSE, NULL, 0, 0}};
  raw_tcp_server *srv = raw_tcp_server_start("127.0.0.1", 0, script, 2);
  assert_non_null(srv);
  stream_socket *s = connect_to(f, raw_tcp_server_port(srv));
  uint8_t buf[16];
  io_result rr = {0};
  assert_int_equal(stream_socket_read(s, buf, sizeof(buf), on_io, &rr), CRONC_ERR_IO_PENDING);
  stream_socket_free(s);
  assert_int_equal(raw_tcp_server_wait(srv, 5000), 0);
  test_loop_run_for(&f->loop, 20);
  assert_int_equal(rr.calls, 0);
  raw_tcp_server_free(srv);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sort_interleaves_families_starting_with_ipv6),
      cmocka_unit_test(test_sort_single_family_keeps_order_and_skips_unknown),
      cmocka_unit_test(test_system_errors_map_to_chromium_codes),
      cmocka_unit_test_setup_teardown(test_connect_rejects_bad_arguments, setup, teardown),
      cmocka_unit_test_setup_teardown(test_connect_succeeds_and_exchanges_bytes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_connect_to_closed_port_is_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_connect_logs_attempts_and_result, setup, teardown),
      cmocka_unit_test_setup_teardown(test_all_addresses_refused_reports_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_happy_eyeballs_falls_back_after_attempt_delay, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_happy_eyeballs_failure_starts_next_attempt_immediately,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_connect_times_out, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cancel_never_calls_back, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cancel_right_after_start_never_calls_back, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_job_may_be_freed_inside_callback, setup, teardown),
      cmocka_unit_test_setup_teardown(test_read_after_peer_reset_reports_connection_reset, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_large_writev_completes_asynchronously_in_order, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_read_if_ready_notifies_without_consuming, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_free_with_pending_read_never_calls_back, setup,
                                      teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
