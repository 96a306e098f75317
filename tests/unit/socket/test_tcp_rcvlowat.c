/* Tests for socket/tcp_socket's bulk receive: SO_RCVLOWAT raised under a
 * promise (stream_socket_expect).
 *
 * A server thread in this file sends a scripted byte pattern on loopback;
 * the test reads it through a real tcp_socket and looks at the mark in force
 * each time a read has to wait. What must hold:
 *  - a bulk flow under a promise raises the mark, never above the bytes
 *    still promised (so the end of a body is never held back);
 *  - without a promise the mark stays 1;
 *  - bytes that arrive under a raised mark from a sender that then stops are
 *    delivered anyway (the 1 ms timer); a broken timer makes the read wait
 *    for its 5 s bound and the test fail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/thread.h"
#include "socket/stream_socket.h"
#include "socket/tcp_socket.h"
#include "support/net_test_util.h"

#define KIB 1024u

/* ---- the server --------------------------------------------------------- */

/* Sends parts[0], then for each next part waits for one byte from the
 * client before sending it; after the last part waits for a byte and
 * closes. Byte i of the whole stream is (uint8_t)(i * 7 + 3). With pace_us,
 * a part goes out 128 KiB at a time with that pause between: the reader
 * catches up and has to wait (on loopback it otherwise never does). */
typedef struct server {
  int listen_fd;
  uint16_t port;
  pthread_t thread;
  size_t parts[4];
  size_t nparts;
  unsigned pace_us;
  atomic_int parts_sent;
  bool ok;
} server;

static uint8_t pattern(uint64_t i) { return (uint8_t)(i * 7 + 3); }

static bool send_all(int fd, uint64_t from, size_t len, unsigned pace_us) {
  static _Thread_local uint8_t buf[128 * KIB]; /* one send per paced step */
  uint64_t start = from;
  while (len > 0) {
    if (pace_us && from > start && (from - start) % (128 * KIB) == 0)
      usleep(pace_us);
    size_t n = len < sizeof buf ? len : sizeof buf;
    for (size_t i = 0; i < n; i++)
      buf[i] = pattern(from + i);
    size_t off = 0;
    while (off < n) {
      ssize_t w = send(fd, buf + off, n - off, MSG_NOSIGNAL);
      if (w <= 0)
        return false;
      off += (size_t)w;
    }
    from += n;
    len -= n;
  }
  return true;
}

static void *server_main(void *arg) {
  server *sv = arg;
  int fd = accept(sv->listen_fd, NULL, NULL);
  if (fd < 0)
    return NULL;
  struct timeval tv = {.tv_sec = 10};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  uint64_t off = 0;
  bool ok = true;
  for (size_t p = 0; p < sv->nparts && ok; p++) {
    char c;
    if (p > 0)
      ok = recv(fd, &c, 1, 0) == 1;
    ok = ok && send_all(fd, off, sv->parts[p], sv->pace_us);
    off += sv->parts[p];
    atomic_store(&sv->parts_sent, (int)p + 1);
  }
  char c;
  ok = ok && recv(fd, &c, 1, 0) == 1;
  close(fd);
  sv->ok = ok;
  return NULL;
}

static void server_start(server *sv) {
  sv->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(sv->listen_fd >= 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  assert_int_equal(bind(sv->listen_fd, (struct sockaddr *)&a, sizeof a), 0);
  assert_int_equal(listen(sv->listen_fd, 1), 0);
  socklen_t len = sizeof a;
  assert_int_equal(getsockname(sv->listen_fd, (struct sockaddr *)&a, &len), 0);
  sv->port = ntohs(a.sin_port);
  assert_int_equal(pthread_create(&sv->thread, NULL, server_main, sv), 0);
}

static void server_join(server *sv) {
  pthread_join(sv->thread, NULL);
  close(sv->listen_fd);
}

/* ---- the client --------------------------------------------------------- */

typedef struct fixture {
  uv_loop_t loop;
  base_runner *runner;
} fixture;

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

typedef struct io_result {
  bool done;
  int result;
} io_result;

static void on_io(int result, void *ud) {
  io_result *r = ud;
  r->done = true;
  r->result = result;
}

static void on_connected(uv_connect_t *req, int status) {
  io_result *r = req->data;
  r->done = true;
  r->result = status;
}

static tcp_socket *connect_to(fixture *f, uint16_t port) {
  tcp_socket *t = NULL;
  assert_int_equal(tcp_socket_new(f->runner, NULL, &t), 0);
  struct sockaddr_storage ss;
  assert_true(test_sockaddr(&ss, "127.0.0.1", port));
  uv_connect_t req;
  io_result r = {0};
  req.data = &r;
  assert_int_equal(
      uv_tcp_connect(&req, tcp_socket_handle(t), (const struct sockaddr *)&ss, on_connected), 0);
  assert_true(test_loop_run_until(&f->loop, &r.done, 5000));
  assert_int_equal(r.result, 0);
  assert_int_equal(tcp_socket_set_connected(t, 1, 2), 0);
  return t;
}

static void send_byte(fixture *f, stream_socket *s) {
  static const uint8_t one = '!';
  io_result r = {0};
  int rc = stream_socket_write(s, &one, 1, on_io, &r);
  if (rc == CRONC_ERR_IO_PENDING) {
    assert_true(test_loop_run_until(&f->loop, &r.done, 5000));
    rc = r.result;
  }
  assert_int_equal(rc, 1);
}

/* What the reader saw. */
typedef struct reading {
  uint64_t total;
  int waits;
  int max_lowat;
} reading;

/* Reads until `upto` bytes in total (or the end), checking the pattern.
 * Before each wait, calls check(t, rd, ud) with the mark in force. */
typedef void (*wait_check_fn)(tcp_socket *t, const reading *rd, int lowat, void *ud);

static int read_upto(fixture *f, tcp_socket *t, reading *rd, uint64_t upto, wait_check_fn check,
                     void *ud) {
  static uint8_t buf[64 * KIB];
  stream_socket *s = tcp_socket_stream(t);
  while (rd->total < upto) {
    io_result r = {0};
    size_t want = upto - rd->total < sizeof buf ? (size_t)(upto - rd->total) : sizeof buf;
    int rc = stream_socket_read(s, buf, want, on_io, &r);
    if (rc == CRONC_ERR_IO_PENDING) {
      int lowat = tcp_socket_rcvlowat(t);
      rd->waits++;
      if (lowat > rd->max_lowat)
        rd->max_lowat = lowat;
      if (check)
        check(t, rd, lowat, ud);
      if (!test_loop_run_until(&f->loop, &r.done, 5000))
        return -9999; /* the read never completed */
      rc = r.result;
    }
    if (rc <= 0)
      return rc;
    for (int i = 0; i < rc; i++)
      if (buf[i] != pattern(rd->total + (uint64_t)i))
        return -8888;
    rd->total += (uint64_t)rc;
  }
  return 1;
}

/* The mark never exceeds what is still promised (the bytes the peer will
 * certainly send): promise - read so far. */
static void check_within_promise(tcp_socket *t, const reading *rd, int lowat, void *ud) {
  uint64_t promise = *(const uint64_t *)ud;
  uint64_t left = promise > rd->total ? promise - rd->total : 0;
  assert_true(lowat == 1 || (uint64_t)lowat <= left);
}

#define PACED_BODY (4 * 1024 * KIB)

/* A 4 MiB body from a paced sender, read with a promise (0: none); the mark
 * is checked against the promise at every wait. After the body, one more
 * read waits for the server's close, with nothing promised. */
static reading paced_download(fixture *f, uint64_t promise) {
  server sv = {.parts = {PACED_BODY}, .nparts = 1, .pace_us = 2000};
  server_start(&sv);
  tcp_socket *t = connect_to(f, sv.port);
  stream_socket *s = tcp_socket_stream(t);
  stream_socket_expect(s, promise);
  reading rd = {0};
  assert_int_equal(read_upto(f, t, &rd, PACED_BODY, check_within_promise, &promise), 1);
  send_byte(f, s);
  reading end = {.total = PACED_BODY};
  assert_int_equal(read_upto(f, t, &end, PACED_BODY + 1, NULL, NULL), 0); /* EOF */
  assert_int_equal(tcp_socket_rcvlowat(t), 1);
  stream_socket_free(s);
  server_join(&sv);
  assert_true(sv.ok);
  return rd;
}

static void test_bulk_flow_under_a_promise_raises_the_mark_within_it(void **state) {
  reading rd = paced_download(*state, PACED_BODY);
  assert_int_equal(rd.total, PACED_BODY);
  assert_int_equal(rd.max_lowat, 256 * KIB);
}

static void test_without_a_promise_the_mark_stays_one(void **state) {
  reading rd = paced_download(*state, 0);
  assert_int_equal(rd.total, PACED_BODY);
  assert_int_equal(rd.max_lowat, 1);
  assert_true(rd.waits > 0);
}

/* The sender sends 1 MiB, then 256 KiB, then a last 1000 bytes, each after
 * the client's go, and then stops; the promise says 8 MiB. The last bytes
 * arrive while the mark is raised and must still be delivered. */
typedef struct stall_ctx {
  fixture *f;
  server *sv;
  uint64_t first, second;
  bool asked_second, asked_third;
  int lowat_before_third;
  bool withdraw; /* take the promise back while waiting */
  int lowat_after_withdraw;
} stall_ctx;

static void ask_for_more(tcp_socket *t, const reading *rd, int lowat, void *ud) {
  stall_ctx *c = ud;
  stream_socket *s = tcp_socket_stream(t);
  if (!c->asked_second && rd->total == c->first) {
    c->asked_second = true;
    send_byte(c->f, s);
    /* The next wake-up must find the whole second part queued: a bulk
     * read that raises the mark for the wait after it. */
    for (int i = 0; i < 500 && atomic_load(&c->sv->parts_sent) < 2; i++)
      usleep(10 * 1000);
    usleep(50 * 1000);
  } else if (!c->asked_third && rd->total == c->first + c->second) {
    c->asked_third = true;
    c->lowat_before_third = lowat;
    if (c->withdraw) {
      stream_socket_expect(s, 0);
      c->lowat_after_withdraw = tcp_socket_rcvlowat(t);
    }
    send_byte(c->f, s);
  }
}

static stall_ctx stalled_sender(fixture *f, bool withdraw) {
  server sv = {.parts = {1024 * KIB, 256 * KIB, 1000}, .nparts = 3};
  server_start(&sv);
  tcp_socket *t = connect_to(f, sv.port);
  stream_socket *s = tcp_socket_stream(t);
  stream_socket_expect(s, 8 * 1024 * KIB);
  stall_ctx c = {.f = f, .sv = &sv, .first = 1024 * KIB, .second = 256 * KIB, .withdraw = withdraw};
  reading rd = {0};
  uint64_t all = c.first + c.second + 1000;
  assert_int_equal(read_upto(f, t, &rd, all, ask_for_more, &c), 1);
  assert_int_equal(rd.total, all);
  assert_true(c.asked_third);
  assert_int_equal(tcp_socket_rcvlowat(t), 1);
  send_byte(f, s);
  stream_socket_free(s);
  server_join(&sv);
  assert_true(sv.ok);
  return c;
}

static void test_bytes_under_a_raised_mark_from_a_stopped_sender_arrive(void **state) {
  stall_ctx c = stalled_sender(*state, false);
  /* The last part was requested while waiting under a raised mark: only the
   * timer could deliver it (a broken timer fails the read after 5 s). */
  assert_int_equal(c.lowat_before_third, 256 * KIB);
}

/* A promise taken back during a wait lowers the mark at once, so the last
 * part is not even held for the timer. */
static void test_a_withdrawn_promise_lowers_the_mark_at_once(void **state) {
  stall_ctx c = stalled_sender(*state, true);
  assert_int_equal(c.lowat_before_third, 256 * KIB);
  assert_int_equal(c.lowat_after_withdraw, 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_bulk_flow_under_a_promise_raises_the_mark_within_it,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_without_a_promise_the_mark_stays_one, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bytes_under_a_raised_mark_from_a_stopped_sender_arrive,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_a_withdrawn_promise_lowers_the_mark_at_once, setup,
                                      teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
