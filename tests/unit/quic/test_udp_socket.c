/* Tests of quic/udp_socket on loopback: a GSO batch arrives as separate
 * datagrams, received batches come through recvmmsg/GRO split back into
 * packets, a bulk burst pauses reading for a moment without losing what
 * arrives meanwhile, and a port with nothing listening reports
 * ERR_CONNECTION_REFUSED. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/thread.h"
#include "cronc/cronc.h"
#include "quic/udp_socket.h"
#include "support/net_test_util.h"

typedef struct fixture {
  uv_loop_t loop;
  base_runner *runner;
} fixture;

typedef struct sink {
  size_t datagrams, bytes, batches;
  size_t sizes[256];
  int error;
  bool got_error;
  bool enough;
  size_t want;
} sink;

static void on_dgram(void *ud, const uint8_t *d, size_t len) {
  sink *s = ud;
  if (s->datagrams < 256)
    s->sizes[s->datagrams] = len;
  s->datagrams++;
  s->bytes += len;
  if (s->datagrams >= s->want)
    s->enough = true;
}
static void on_batch(void *ud) { ((sink *)ud)->batches++; }
static void on_writable(void *ud) { (void)ud; }
static void on_error(void *ud, int err) {
  sink *s = ud;
  s->error = err;
  s->got_error = true;
}

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
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

static const udp_socket_callbacks k_cbs = {on_dgram, on_batch, on_writable, on_error};

static void test_gso_batch_arrives_as_separate_datagrams(void **state) {
  fixture *f = *state;
  /* receiver: a plain bound udp_socket connected to the sender's address */
  int probe = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in ra = {.sin_family = AF_INET};
  ra.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t rl = sizeof ra;
  assert_int_equal(bind(probe, (struct sockaddr *)&ra, sizeof ra), 0);
  getsockname(probe, (struct sockaddr *)&ra, &rl);
  sink tx = {0};
  udp_socket *sender = NULL;
  assert_int_equal(
      udp_socket_open(f->runner, (struct sockaddr *)&ra, sizeof ra, &k_cbs, &tx, &sender), 0);
  /* 9 packets of 1200 bytes and a last one of 500, in one call */
  size_t len = 9 * 1200 + 500;
  uint8_t *buf = malloc(len);
  for (size_t i = 0; i < len; i++)
    buf[i] = (uint8_t)i;
  assert_int_equal(udp_socket_send(sender, buf, len, 1200), 0);
  size_t got = 0, bytes = 0;
  uint8_t in[2048];
  for (int i = 0; i < 10; i++) {
    ssize_t n = recv(probe, in, sizeof in, 0);
    assert_true(n > 0);
    assert_int_equal(n, i < 9 ? 1200 : 500);
    assert_memory_equal(in, buf + (size_t)i * 1200, (size_t)n);
    got++;
    bytes += (size_t)n;
  }
  assert_int_equal(got, 10);
  assert_int_equal(bytes, len);
  /* Now the other way: 10 packets sent back arrive one by one (GRO or
   * not) through recvmmsg. */
  socklen_t sl;
  const struct sockaddr *saddr = udp_socket_local_addr(sender, &sl);
  assert_int_equal(connect(probe, saddr, sl), 0);
  for (int i = 0; i < 10; i++)
    assert_int_equal(send(probe, buf, 1200, 0), 1200);
  tx.want = 10;
  assert_true(test_loop_run_until(&f->loop, &tx.enough, 2000));
  assert_int_equal(tx.datagrams, 10);
  for (int i = 0; i < 10; i++)
    assert_int_equal(tx.sizes[i], 1200);
  assert_true(tx.batches >= 1);
  free(buf);
  close(probe);
  udp_socket_close(sender);
  test_loop_run_for(&f->loop, 10);
}

static void test_nothing_listening_is_connection_refused(void **state) {
  fixture *f = *state;
  uint16_t port = test_free_port("127.0.0.1", true);
  struct sockaddr_storage ss;
  assert_true(test_sockaddr(&ss, "127.0.0.1", port));
  sink s = {0};
  udp_socket *u = NULL;
  assert_int_equal(udp_socket_open(f->runner, (struct sockaddr *)&ss, sizeof(struct sockaddr_in),
                                   &k_cbs, &s, &u),
                   0);
  assert_int_equal(udp_socket_send(u, (const uint8_t *)"ping", 4, 4), 0);
  assert_true(test_loop_run_until(&f->loop, &s.got_error, 2000));
  assert_int_equal(s.error, CRONC_ERR_CONNECTION_REFUSED);
  udp_socket_close(u);
  test_loop_run_for(&f->loop, 10);
}

/* A udp_socket and a plain socket connected to each other. */
static udp_socket *open_pair(fixture *f, sink *rx, int *peer_fd) {
  int probe = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in ra = {.sin_family = AF_INET};
  ra.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t rl = sizeof ra;
  assert_int_equal(bind(probe, (struct sockaddr *)&ra, sizeof ra), 0);
  getsockname(probe, (struct sockaddr *)&ra, &rl);
  udp_socket *u = NULL;
  assert_int_equal(udp_socket_open(f->runner, (struct sockaddr *)&ra, sizeof ra, &k_cbs, rx, &u),
                   0);
  socklen_t sl;
  const struct sockaddr *ua = udp_socket_local_addr(u, &sl);
  assert_int_equal(connect(probe, ua, sl), 0);
  *peer_fd = probe;
  return u;
}

static void close_pair(fixture *f, udp_socket *u, int peer_fd) {
  close(peer_fd);
  udp_socket_close(u);
  test_loop_run_for(&f->loop, 10);
}

static void send_n(int fd, int n) {
  uint8_t buf[1200];
  for (int i = 0; i < n; i++) {
    memset(buf, i, sizeof buf);
    assert_int_equal(send(fd, buf, sizeof buf, 0), (ssize_t)sizeof buf);
  }
}

/* Sends n datagrams, lets them all reach the socket (so one readable event
 * sees them all) and runs the loop until they came through. */
static void deliver_n(fixture *f, sink *rx, int peer, int n) {
  rx->enough = false;
  rx->want = rx->datagrams + (size_t)n;
  send_n(peer, n);
  usleep(50 * 1000);
  assert_true(test_loop_run_until(&f->loop, &rx->enough, 2000));
}

static void test_bulk_burst_pauses_reading_and_loses_nothing(void **state) {
  fixture *f = *state;
  sink rx = {0};
  int peer;
  udp_socket *u = open_pair(f, &rx, &peer);
  assert_true(udp_socket_coalescing(u));
  udp_socket_set_coalesce_ms(u, 300); /* long enough to look at */
  deliver_n(f, &rx, peer, 40);
  assert_int_equal(rx.datagrams, 40);
  assert_int_equal(rx.batches, 1);
  assert_true(udp_socket_read_paused(u));
  /* Arrivals during the pause wait in the kernel, then come in one batch. */
  rx.enough = false;
  rx.want = 45;
  send_n(peer, 5);
  test_loop_run_for(&f->loop, 50);
  assert_int_equal(rx.datagrams, 40);
  assert_true(test_loop_run_until(&f->loop, &rx.enough, 2000));
  assert_int_equal(rx.datagrams, 45);
  assert_int_equal(rx.batches, 2);
  for (size_t i = 0; i < 45; i++)
    assert_int_equal(rx.sizes[i], 1200);
  assert_false(udp_socket_read_paused(u)); /* 5 is no bulk flow: read as they come */
  /* And reading goes on as usual. */
  deliver_n(f, &rx, peer, 3);
  assert_false(udp_socket_read_paused(u));
  close_pair(f, u, peer);
}

static void test_few_datagrams_or_coalescing_off_never_pause(void **state) {
  fixture *f = *state;
  sink rx = {0};
  int peer;
  udp_socket *u = open_pair(f, &rx, &peer);
  deliver_n(f, &rx, peer, 4);
  assert_false(udp_socket_read_paused(u));
  /* Nor does a burst once coalescing is off. */
  udp_socket_set_coalesce_ms(u, 0);
  deliver_n(f, &rx, peer, 40);
  assert_false(udp_socket_read_paused(u));
  close_pair(f, u, peer);
}

/* Closing while paused stops the wait: no callback after close, no leak. */
static void test_close_while_paused(void **state) {
  fixture *f = *state;
  sink rx = {0};
  int peer;
  udp_socket *u = open_pair(f, &rx, &peer);
  udp_socket_set_coalesce_ms(u, 300);
  deliver_n(f, &rx, peer, 20);
  assert_true(udp_socket_read_paused(u));
  send_n(peer, 2);
  udp_socket_close(u);
  test_loop_run_for(&f->loop, 20);
  assert_int_equal(rx.datagrams, 20);
  close(peer);
}

static void test_bad_address_rejected(void **state) {
  fixture *f = *state;
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  ss.ss_family = AF_UNIX;
  sink s = {0};
  udp_socket *u = (udp_socket *)1;
  assert_int_equal(udp_socket_open(f->runner, (struct sockaddr *)&ss, sizeof ss, &k_cbs, &s, &u),
                   CRONC_ERR_ADDRESS_INVALID);
  assert_null(u);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_gso_batch_arrives_as_separate_datagrams, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_nothing_listening_is_connection_refused, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_bad_address_rejected, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bulk_burst_pauses_reading_and_loses_nothing, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_few_datagrams_or_coalescing_off_never_pause, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_close_while_paused, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
