/* tests/support/tcp_delay_proxy: see tcp_delay_proxy.h. */
#include "support/tcp_delay_proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TDP_DEFAULT_MAX_QUEUED (4u * 1024 * 1024)
#define TDP_READ_SIZE          65536
#define TDP_READ_BURST         16 /* reads per socket per wakeup */

/* Bytes (or, with len 0, the FIN) held until due_us; data follows. */
typedef struct tdp_chunk {
  struct tdp_chunk *next;
  uint64_t due_us;
  size_t len, off;
  uint8_t data[];
} tdp_chunk;

/* One direction of a connection: read from src, held, written to dst. */
typedef struct tdp_dir {
  tdp_chunk *head, *tail;
  size_t bytes;        /* unsent bytes queued */
  uint64_t not_before; /* earliest due time (handshake emulation) */
  bool src_eof;        /* FIN read from the source (queued as a marker) */
  bool dst_shut;       /* FIN written to the destination */
  bool blocked;        /* last write hit EAGAIN: wait for POLLOUT */
} tdp_dir;

typedef struct tdp_conn {
  int cfd, tfd;    /* client side, target side */
  bool connecting; /* non-blocking connect to the target in progress */
  bool dead;
  tdp_dir c2t, t2c;
} tdp_conn;

struct tcp_delay_proxy {
  tcp_delay_proxy_options opt;
  struct sockaddr_in target;
  int listen_fd;
  int wake_rd, wake_wr;
  uint16_t port;
  pthread_t thread;
  bool thread_started;
  atomic_bool stop;
  atomic_uint_fast64_t n_accepted, n_open, n_bytes;
  /* Proxy thread only. */
  tdp_conn **conns;
  size_t n_conns, cap_conns;
  struct pollfd *pfds;
  size_t cap_pfds;
  uint8_t buf[TDP_READ_SIZE];
};

static uint64_t mono_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void tcp_delay_proxy_options_init(tcp_delay_proxy_options *o) {
  memset(o, 0, sizeof *o);
  o->emulate_tcp_handshake = true;
  o->max_queued_bytes = TDP_DEFAULT_MAX_QUEUED;
}

static void dir_clear(tdp_dir *d) {
  while (d->head) {
    tdp_chunk *c = d->head;
    d->head = c->next;
    free(c);
  }
  d->tail = NULL;
  d->bytes = 0;
}

static void set_rst(int fd) {
  struct linger l = {1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
}

static void conn_close(tcp_delay_proxy *p, tdp_conn *c, bool abort) {
  if (abort) {
    set_rst(c->cfd);
    if (c->tfd >= 0)
      set_rst(c->tfd);
  }
  close(c->cfd);
  if (c->tfd >= 0)
    close(c->tfd);
  dir_clear(&c->c2t);
  dir_clear(&c->t2c);
  free(c);
  atomic_fetch_sub(&p->n_open, 1);
}

/* Queues a chunk of len bytes from p->buf (len 0: the FIN). false when out
 * of memory. */
static bool dir_push(tcp_delay_proxy *p, tdp_dir *d, size_t len, uint64_t now) {
  tdp_chunk *c = malloc(sizeof *c + len);
  if (!c)
    return false;
  c->next = NULL;
  c->len = len;
  c->off = 0;
  c->due_us = now + (uint64_t)p->opt.delay_ms_each_way * 1000u;
  if (c->due_us < d->not_before)
    c->due_us = d->not_before;
  if (d->tail && c->due_us < d->tail->due_us)
    c->due_us = d->tail->due_us;
  if (len)
    memcpy(c->data, p->buf, len);
  if (d->tail)
    d->tail->next = c;
  else
    d->head = c;
  d->tail = c;
  d->bytes += len;
  return true;
}

/* Reads what src has (bounded). 0 ok, -1 error (abort the connection). */
static int dir_read(tcp_delay_proxy *p, tdp_dir *d, int src, uint64_t now) {
  for (int i = 0; i < TDP_READ_BURST && !d->src_eof && d->bytes < p->opt.max_queued_bytes; i++) {
    ssize_t n = recv(src, p->buf, sizeof p->buf, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
    }
    if (!dir_push(p, d, (size_t)n, now))
      return -1;
    if (n == 0)
      d->src_eof = true;
  }
  return 0;
}

/* Writes every due chunk to dst; lowers *next to the next due time. 0 ok,
 * -1 error (abort the connection). */
static int dir_flush(tcp_delay_proxy *p, tdp_dir *d, int dst, uint64_t now, uint64_t *next) {
  d->blocked = false;
  while (d->head && d->head->due_us <= now) {
    tdp_chunk *c = d->head;
    if (c->len == 0) {
      if (shutdown(dst, SHUT_WR) != 0 && errno != ENOTCONN)
        return -1;
      d->dst_shut = true;
    } else {
      ssize_t n = send(dst, c->data + c->off, c->len - c->off, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EINTR)
          continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          d->blocked = true;
          return 0;
        }
        return -1;
      }
      c->off += (size_t)n;
      d->bytes -= (size_t)n;
      atomic_fetch_add(&p->n_bytes, (uint64_t)n);
      if (c->off < c->len)
        continue;
    }
    d->head = c->next;
    if (!d->head)
      d->tail = NULL;
    free(c);
  }
  if (d->head && d->head->due_us < *next)
    *next = d->head->due_us;
  return 0;
}

static void tune(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void accept_all(tcp_delay_proxy *p) {
  for (;;) {
    int cfd = accept4(p->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (cfd < 0) {
      if (errno == EINTR || errno == ECONNABORTED)
        continue;
      return; /* EAGAIN, or out of fds: the next poll retries */
    }
    atomic_fetch_add(&p->n_accepted, 1);
    atomic_fetch_add(&p->n_open, 1);
    tdp_conn *c = calloc(1, sizeof *c);
    if (p->n_conns == p->cap_conns) {
      size_t cap = p->cap_conns ? p->cap_conns * 2 : 16;
      tdp_conn **nc = realloc(p->conns, cap * sizeof *nc);
      if (nc) {
        p->conns = nc;
        p->cap_conns = cap;
      }
    }
    if (!c || p->n_conns == p->cap_conns) {
      free(c);
      set_rst(cfd);
      close(cfd);
      atomic_fetch_sub(&p->n_open, 1);
      continue;
    }
    c->cfd = cfd;
    c->tfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    p->conns[p->n_conns++] = c;
    tune(cfd);
    if (c->tfd < 0) {
      c->dead = true;
      continue;
    }
    tune(c->tfd);
    if (p->opt.emulate_tcp_handshake)
      c->c2t.not_before = mono_us() + 3u * (uint64_t)p->opt.delay_ms_each_way * 1000u;
    int rc;
    do {
      rc = connect(c->tfd, (struct sockaddr *)&p->target, sizeof p->target);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0 && errno == EINPROGRESS)
      c->connecting = true;
    else if (rc != 0)
      c->dead = true; /* refused: the client gets a RST */
  }
}

/* Handles poll results for one connection. */
static void conn_events(tcp_delay_proxy *p, tdp_conn *c, short crev, short trev, uint64_t now) {
  if (c->connecting && trev) {
    int err = 0;
    socklen_t el = sizeof err;
    if (getsockopt(c->tfd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err != 0) {
      c->dead = true;
      return;
    }
    c->connecting = false;
    trev &= (short)~POLLOUT;
  }
  if ((crev & (POLLIN | POLLHUP | POLLERR)) && dir_read(p, &c->c2t, c->cfd, now) != 0)
    c->dead = true;
  if (!c->connecting && (trev & (POLLIN | POLLHUP | POLLERR)) &&
      dir_read(p, &c->t2c, c->tfd, now) != 0)
    c->dead = true;
}

static bool reading(const tcp_delay_proxy *p, const tdp_dir *d) {
  return !d->src_eof && d->bytes < p->opt.max_queued_bytes;
}

/* Flushes every connection, closes the finished ones, and returns the next
 * due time (UINT64_MAX: none). */
static uint64_t flush_all(tcp_delay_proxy *p, uint64_t now) {
  uint64_t next = UINT64_MAX;
  size_t w = 0;
  for (size_t i = 0; i < p->n_conns; i++) {
    tdp_conn *c = p->conns[i];
    if (!c->dead && !c->connecting && dir_flush(p, &c->c2t, c->tfd, now, &next) != 0)
      c->dead = true;
    if (!c->dead && dir_flush(p, &c->t2c, c->cfd, now, &next) != 0)
      c->dead = true;
    if (c->dead || (c->c2t.dst_shut && c->t2c.dst_shut)) {
      conn_close(p, c, c->dead);
      continue;
    }
    p->conns[w++] = c;
  }
  p->n_conns = w;
  return next;
}

static void *proxy_main(void *arg) {
  tcp_delay_proxy *p = arg;
  while (!atomic_load(&p->stop)) {
    uint64_t now = mono_us();
    uint64_t next = flush_all(p, now);
    size_t need = 2 + 2 * p->n_conns;
    if (need > p->cap_pfds) {
      struct pollfd *np = realloc(p->pfds, need * sizeof *np);
      if (!np)
        break;
      p->pfds = np;
      p->cap_pfds = need;
    }
    struct pollfd *f = p->pfds;
    f[0] = (struct pollfd){.fd = p->wake_rd, .events = POLLIN};
    f[1] = (struct pollfd){.fd = p->listen_fd, .events = POLLIN};
    size_t polled = p->n_conns;
    for (size_t i = 0; i < polled; i++) {
      tdp_conn *c = p->conns[i];
      short ce = (short)((reading(p, &c->c2t) ? POLLIN : 0) | (c->t2c.blocked ? POLLOUT : 0));
      short te = c->connecting
                     ? POLLOUT
                     : (short)((reading(p, &c->t2c) ? POLLIN : 0) | (c->c2t.blocked ? POLLOUT : 0));
      /* fd -1 when nothing is wanted: a hung-up socket would otherwise
       * report POLLHUP forever and spin the loop. */
      f[2 + 2 * i] = (struct pollfd){.fd = ce ? c->cfd : -1, .events = ce};
      f[3 + 2 * i] = (struct pollfd){.fd = te ? c->tfd : -1, .events = te};
    }
    struct timespec ts, *tsp = NULL;
    if (next != UINT64_MAX) {
      uint64_t wait = next > now ? next - now : 0;
      ts.tv_sec = (time_t)(wait / 1000000u);
      ts.tv_nsec = (long)(wait % 1000000u) * 1000;
      tsp = &ts;
    }
    int rc = ppoll(f, 2 + 2 * polled, tsp, NULL);
    if (rc < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    if (f[0].revents)
      break; /* free() wrote to the wake pipe */
    now = mono_us();
    for (size_t i = 0; i < polled; i++)
      conn_events(p, p->conns[i], f[2 + 2 * i].revents, f[3 + 2 * i].revents, now);
    if (f[1].revents & POLLIN)
      accept_all(p);
  }
  return NULL;
}

tcp_delay_proxy *tcp_delay_proxy_new(uint16_t target_port, unsigned delay_ms_each_way) {
  tcp_delay_proxy_options o;
  tcp_delay_proxy_options_init(&o);
  o.delay_ms_each_way = delay_ms_each_way;
  return tcp_delay_proxy_new_ex(target_port, &o);
}

tcp_delay_proxy *tcp_delay_proxy_new_ex(uint16_t target_port, const tcp_delay_proxy_options *o) {
  if (target_port == 0)
    return NULL;
  tcp_delay_proxy *p = calloc(1, sizeof *p);
  if (!p)
    return NULL;
  if (o)
    p->opt = *o;
  else
    tcp_delay_proxy_options_init(&p->opt);
  if (p->opt.max_queued_bytes == 0)
    p->opt.max_queued_bytes = TDP_DEFAULT_MAX_QUEUED;
  p->target = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons(target_port)};
  p->target.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  p->wake_rd = p->wake_wr = -1;
  p->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) == 0) {
    p->wake_rd = pipefd[0];
    p->wake_wr = pipefd[1];
  }
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t al = sizeof a;
  if (p->listen_fd < 0 || p->wake_rd < 0 ||
      bind(p->listen_fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(p->listen_fd, 128) != 0 ||
      getsockname(p->listen_fd, (struct sockaddr *)&a, &al) != 0) {
    tcp_delay_proxy_free(p);
    return NULL;
  }
  p->port = ntohs(a.sin_port);
  if (pthread_create(&p->thread, NULL, proxy_main, p) != 0) {
    tcp_delay_proxy_free(p);
    return NULL;
  }
  p->thread_started = true;
  return p;
}

uint16_t tcp_delay_proxy_port(const tcp_delay_proxy *p) { return p->port; }

/* atomic_load through a const pointer: cast (see udp_fault_proxy.c). */
uint64_t tcp_delay_proxy_connections(const tcp_delay_proxy *p) {
  return atomic_load(&((tcp_delay_proxy *)p)->n_accepted);
}
uint64_t tcp_delay_proxy_open_connections(const tcp_delay_proxy *p) {
  return atomic_load(&((tcp_delay_proxy *)p)->n_open);
}
uint64_t tcp_delay_proxy_bytes(const tcp_delay_proxy *p) {
  return atomic_load(&((tcp_delay_proxy *)p)->n_bytes);
}

void tcp_delay_proxy_free(tcp_delay_proxy *p) {
  if (!p)
    return;
  if (p->thread_started) {
    atomic_store(&p->stop, true);
    ssize_t w;
    do {
      w = write(p->wake_wr, "x", 1);
    } while (w < 0 && errno == EINTR);
    pthread_join(p->thread, NULL);
  }
  for (size_t i = 0; i < p->n_conns; i++)
    conn_close(p, p->conns[i], false);
  free(p->conns);
  free(p->pfds);
  if (p->listen_fd >= 0)
    close(p->listen_fd);
  if (p->wake_rd >= 0)
    close(p->wake_rd);
  if (p->wake_wr >= 0)
    close(p->wake_wr);
  free(p);
}
