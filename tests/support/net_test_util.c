/* tests/support/net_test_util: see net_test_util.h. */
#include "support/net_test_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool test_sockaddr(struct sockaddr_storage *ss, const char *ip, uint16_t port) {
  memset(ss, 0, sizeof(*ss));
  struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
  struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
  if (inet_pton(AF_INET, ip, &in4->sin_addr) == 1) {
    in4->sin_family = AF_INET;
    in4->sin_port = htons(port);
    return true;
  }
  if (inet_pton(AF_INET6, ip, &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    return true;
  }
  return false;
}

static socklen_t sa_len(const struct sockaddr_storage *ss) {
  return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

static uint16_t sa_port(const struct sockaddr_storage *ss) {
  if (ss->ss_family == AF_INET6)
    return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
  return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

static int bind_socket(const char *ip, uint16_t port, int type) {
  struct sockaddr_storage ss;
  if (!test_sockaddr(&ss, ip, port))
    return -1;
  int fd = socket(ss.ss_family, type | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  if (ss.ss_family == AF_INET6) {
    int one = 1;
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  }
  if (bind(fd, (struct sockaddr *)&ss, sa_len(&ss)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

uint16_t test_free_port(const char *ip, bool also_udp) {
  for (int tries = 0; tries < 50; tries++) {
    int fd = bind_socket(ip, 0, SOCK_STREAM);
    if (fd < 0)
      return 0;
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    getsockname(fd, (struct sockaddr *)&ss, &len);
    uint16_t port = sa_port(&ss);
    bool ok = true;
    if (also_udp) {
      int u = bind_socket(ip, port, SOCK_DGRAM);
      if (u < 0)
        ok = false;
      else
        close(u);
    }
    close(fd);
    if (ok)
      return port;
  }
  return 0;
}

uint64_t test_now_ms(void) { return uv_hrtime() / 1000000u; }

static void on_tick(uv_timer_t *t) { (void)t; }

bool test_loop_run_until(uv_loop_t *loop, const bool *flag, uint64_t timeout_ms) {
  uv_timer_t tick;
  uv_timer_init(loop, &tick);
  uv_timer_start(&tick, on_tick, 10, 10); /* never block longer than 10 ms */
  uint64_t deadline = test_now_ms() + timeout_ms;
  while (!*flag && test_now_ms() < deadline)
    uv_run(loop, UV_RUN_ONCE);
  uv_close((uv_handle_t *)&tick, NULL);
  uv_run(loop, UV_RUN_NOWAIT); /* completes the close */
  return *flag;
}

void test_loop_run_for(uv_loop_t *loop, uint64_t ms) {
  bool never = false;
  test_loop_run_until(loop, &never, ms);
}

/* ---- blackhole listener --------------------------------------------------- */

#define BLACKHOLE_MAX_FILL 256

struct test_blackhole {
  int listen_fd;
  uint16_t port;
  int fill[BLACKHOLE_MAX_FILL];
  int nfill;
};

/* Connects a non-blocking client; true if it completed within wait_ms. */
static bool connect_within(const struct sockaddr_storage *ss, int wait_ms, int *fd_out) {
  int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return false;
  *fd_out = fd;
  int rc = connect(fd, (const struct sockaddr *)ss, sa_len(ss));
  if (rc == 0)
    return true;
  if (errno != EINPROGRESS)
    return false;
  struct pollfd p = {.fd = fd, .events = POLLOUT};
  if (poll(&p, 1, wait_ms) != 1)
    return false;
  int err = 0;
  socklen_t el = sizeof(err);
  getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
  return err == 0;
}

test_blackhole *test_blackhole_new(const char *ip, uint16_t port) {
  test_blackhole *b = calloc(1, sizeof(*b));
  if (!b)
    return NULL;
  b->listen_fd = bind_socket(ip, port, SOCK_STREAM);
  if (b->listen_fd < 0 || listen(b->listen_fd, 0) != 0) {
    if (b->listen_fd >= 0)
      close(b->listen_fd);
    free(b);
    return NULL;
  }
  struct sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  getsockname(b->listen_fd, (struct sockaddr *)&ss, &len);
  b->port = sa_port(&ss);
  /* Fill the accept queue until a connect no longer completes. */
  bool full = false;
  while (b->nfill < BLACKHOLE_MAX_FILL) {
    int fd = -1;
    bool ok = connect_within(&ss, 100, &fd);
    if (fd >= 0)
      b->fill[b->nfill++] = fd; /* keep the hanging one too: its SYN retries */
    if (!ok) {
      full = true;
      break;
    }
  }
  if (!full) {
    test_blackhole_free(b);
    return NULL;
  }
  return b;
}

uint16_t test_blackhole_port(const test_blackhole *b) { return b->port; }

void test_blackhole_free(test_blackhole *b) {
  if (!b)
    return;
  for (int i = 0; i < b->nfill; i++)
    close(b->fill[i]);
  close(b->listen_fd);
  free(b);
}

/* ---- files ---------------------------------------------------------------- */

bool test_make_temp_dir(const char *prefix, char *out, size_t out_size) {
  const char *tmp = getenv("TMPDIR");
  if (!tmp || !*tmp)
    tmp = "/tmp";
  int n = snprintf(out, out_size, "%s/%s.XXXXXX", tmp, prefix);
  if (n < 0 || (size_t)n >= out_size)
    return false;
  return mkdtemp(out) != NULL;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(path);
}

int test_remove_tree(const char *path) {
  return nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}

int test_write_file(const char *path, const void *data, size_t len) {
  FILE *f = fopen(path, "wb");
  if (!f)
    return -1;
  size_t w = fwrite(data, 1, len, f);
  int rc = fclose(f);
  return (w == len && rc == 0) ? 0 : -1;
}
