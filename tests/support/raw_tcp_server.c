/* tests/support/raw_tcp_server: see raw_tcp_server.h. */
#include "support/raw_tcp_server.h"

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

#include "support/net_test_util.h"

#define RAW_STEP_TIMEOUT_MS 5000

struct raw_tcp_server {
  int listen_fd;
  int conn_fd;
  uint16_t port;
  const raw_action *script;
  size_t n;
  pthread_t thread;
  bool thread_started;
  atomic_bool stop;
  atomic_bool finished;
  atomic_int accepted;
  int result;
  pthread_mutex_t mu;
  char *recv;
  size_t recv_len, recv_cap;
  char *copy;
};

static void append(raw_tcp_server *s, const char *d, size_t len) {
  pthread_mutex_lock(&s->mu);
  if (s->recv_len + len + 1 > s->recv_cap) {
    size_t cap = (s->recv_cap ? s->recv_cap * 2 : 4096);
    while (cap < s->recv_len + len + 1)
      cap *= 2;
    char *p = realloc(s->recv, cap);
    if (!p) {
      pthread_mutex_unlock(&s->mu);
      return;
    }
    s->recv = p;
    s->recv_cap = cap;
  }
  memcpy(s->recv + s->recv_len, d, len);
  s->recv_len += len;
  s->recv[s->recv_len] = 0;
  pthread_mutex_unlock(&s->mu);
}

/* Polls fd for events in 50 ms slices so stop is honoured. 1 ready, 0
 * timeout/stop, -1 error. */
static int wait_fd(raw_tcp_server *s, int fd, short events, unsigned timeout_ms) {
  uint64_t deadline = test_now_ms() + timeout_ms;
  while (!atomic_load(&s->stop) && test_now_ms() < deadline) {
    struct pollfd p = {.fd = fd, .events = events};
    int rc = poll(&p, 1, 50);
    if (rc > 0)
      return 1;
    if (rc < 0 && errno != EINTR)
      return -1;
  }
  return 0;
}

static int do_read(raw_tcp_server *s, const raw_action *a) {
  size_t got = 0;
  size_t start = s->recv_len;
  for (;;) {
    if (a->type == RAW_READ_BYTES && got >= a->len)
      return 0;
    if (a->type == RAW_READ_UNTIL && a->len) {
      pthread_mutex_lock(&s->mu);
      bool found = s->recv_len - start >= a->len &&
                   memmem(s->recv + start, s->recv_len - start, a->data, a->len) != NULL;
      pthread_mutex_unlock(&s->mu);
      if (found)
        return 0;
    }
    if (wait_fd(s, s->conn_fd, POLLIN, RAW_STEP_TIMEOUT_MS) != 1)
      return -1;
    char buf[4096];
    size_t want = sizeof(buf);
    if (a->type == RAW_READ_BYTES && a->len - got < want)
      want = a->len - got;
    ssize_t n = recv(s->conn_fd, buf, want, 0);
    if (n <= 0)
      return a->type == RAW_WAIT_CLOSE && n == 0 ? 0 : -1;
    append(s, buf, (size_t)n);
    got += (size_t)n;
  }
}

static int run_action(raw_tcp_server *s, const raw_action *a) {
  switch (a->type) {
  case RAW_ACCEPT: {
    if (wait_fd(s, s->listen_fd, POLLIN, RAW_STEP_TIMEOUT_MS) != 1)
      return -1;
    int fd = accept(s->listen_fd, NULL, NULL);
    if (fd < 0)
      return -1;
    if (s->conn_fd >= 0)
      close(s->conn_fd);
    s->conn_fd = fd;
    atomic_fetch_add(&s->accepted, 1);
    return 0;
  }
  case RAW_READ_UNTIL:
  case RAW_READ_BYTES:
    return s->conn_fd < 0 ? -1 : do_read(s, a);
  case RAW_WAIT_CLOSE: {
    if (s->conn_fd < 0)
      return -1;
    for (;;) {
      if (wait_fd(s, s->conn_fd, POLLIN, RAW_STEP_TIMEOUT_MS) != 1)
        return -1;
      char buf[4096];
      ssize_t n = recv(s->conn_fd, buf, sizeof(buf), 0);
      if (n == 0)
        return 0;
      if (n < 0)
        return errno == ECONNRESET ? 0 : -1;
      append(s, buf, (size_t)n);
    }
  }
  case RAW_READ_SOME: {
    if (s->conn_fd < 0 || wait_fd(s, s->conn_fd, POLLIN, RAW_STEP_TIMEOUT_MS) != 1)
      return -1;
    char buf[65536];
    ssize_t n = recv(s->conn_fd, buf, sizeof(buf), 0);
    if (n < 0)
      return -1;
    append(s, buf, (size_t)n);
    return 0;
  }
  case RAW_WRITE: {
    size_t off = 0;
    while (off < a->len) {
      ssize_t n = send(s->conn_fd, a->data + off, a->len - off, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR)
          continue;
        return -1;
      }
      off += (size_t)n;
    }
    return 0;
  }
  case RAW_SLEEP_MS: {
    uint64_t until = test_now_ms() + a->ms;
    while (!atomic_load(&s->stop) && test_now_ms() < until) {
      struct timespec ts = {0, 5 * 1000 * 1000};
      nanosleep(&ts, NULL);
    }
    return 0;
  }
  case RAW_CLOSE:
    if (s->conn_fd >= 0)
      close(s->conn_fd);
    s->conn_fd = -1;
    return 0;
  case RAW_RESET: {
    if (s->conn_fd < 0)
      return -1;
    struct linger l = {1, 0};
    setsockopt(s->conn_fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    close(s->conn_fd);
    s->conn_fd = -1;
    return 0;
  }
  }
  return -1;
}

static void *server_main(void *arg) {
  raw_tcp_server *s = arg;
  int result = 0;
  for (size_t i = 0; i < s->n && !atomic_load(&s->stop); i++) {
    if (run_action(s, &s->script[i]) != 0) {
      result = -1;
      break;
    }
  }
  s->result = result;
  atomic_store(&s->finished, true);
  return NULL;
}

raw_tcp_server *raw_tcp_server_start(const char *ip, uint16_t port, const raw_action *script,
                                     size_t n) {
  struct sockaddr_storage ss;
  if (!test_sockaddr(&ss, ip, port))
    return NULL;
  raw_tcp_server *s = calloc(1, sizeof(*s));
  if (!s)
    return NULL;
  s->conn_fd = -1;
  s->script = script;
  s->n = n;
  pthread_mutex_init(&s->mu, NULL);
  s->listen_fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(s->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (ss.ss_family == AF_INET6)
    setsockopt(s->listen_fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  socklen_t len =
      ss.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
  if (s->listen_fd < 0 || bind(s->listen_fd, (struct sockaddr *)&ss, len) != 0 ||
      listen(s->listen_fd, 16) != 0) {
    raw_tcp_server_free(s);
    return NULL;
  }
  len = sizeof(ss);
  getsockname(s->listen_fd, (struct sockaddr *)&ss, &len);
  s->port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                     : ntohs(((struct sockaddr_in *)&ss)->sin_port);
  if (pthread_create(&s->thread, NULL, server_main, s) != 0) {
    raw_tcp_server_free(s);
    return NULL;
  }
  s->thread_started = true;
  return s;
}

uint16_t raw_tcp_server_port(const raw_tcp_server *s) { return s->port; }

int raw_tcp_server_wait(raw_tcp_server *s, unsigned timeout_ms) {
  uint64_t deadline = test_now_ms() + timeout_ms;
  while (!atomic_load(&s->finished) && test_now_ms() < deadline) {
    struct timespec ts = {0, 2 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  return atomic_load(&s->finished) ? s->result : -1;
}

const char *raw_tcp_server_received(raw_tcp_server *s, size_t *len) {
  pthread_mutex_lock(&s->mu);
  free(s->copy);
  s->copy = malloc(s->recv_len + 1);
  if (s->copy) {
    if (s->recv_len)
      memcpy(s->copy, s->recv, s->recv_len);
    s->copy[s->recv_len] = 0;
  }
  if (len)
    *len = s->copy ? s->recv_len : 0;
  pthread_mutex_unlock(&s->mu);
  return s->copy ? s->copy : "";
}

int raw_tcp_server_accepted(raw_tcp_server *s) { return atomic_load(&s->accepted); }

void raw_tcp_server_free(raw_tcp_server *s) {
  if (!s)
    return;
  atomic_store(&s->stop, true);
  if (s->thread_started)
    pthread_join(s->thread, NULL);
  if (s->conn_fd >= 0)
    close(s->conn_fd);
  if (s->listen_fd >= 0)
    close(s->listen_fd);
  pthread_mutex_destroy(&s->mu);
  free(s->recv);
  free(s->copy);
  free(s);
}
