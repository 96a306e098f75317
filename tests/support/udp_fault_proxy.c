/* tests/support/udp_fault_proxy: see udp_fault_proxy.h. */
#include "support/udp_fault_proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define UFP_MAX_QUEUED   (4u * 1024 * 1024) /* bytes per direction */
#define UFP_MAX_DATAGRAM 65536
#define UFP_READ_BURST   64 /* datagrams read per socket per wakeup */
#define UFP_SOCKBUF      (1 << 20)

/* One held datagram; data follows the header. */
typedef struct ufp_dgram {
  struct ufp_dgram *next;
  uint64_t due_us;
  size_t len;
  uint8_t data[];
} ufp_dgram;

typedef struct ufp_queue {
  ufp_dgram *head, *tail;
  size_t bytes;
  bool blocked; /* last send hit EAGAIN: wait for POLLOUT */
} ufp_queue;

struct udp_fault_proxy {
  int client_fd; /* bound to the public port; talks to the client */
  int target_fd; /* connected to the target */
  int wake_rd, wake_wr;
  uint16_t port, upstream_port;
  pthread_t thread;
  bool thread_started;
  atomic_bool stop;
  atomic_int mode;
  atomic_uint delay_to_target_ms, delay_to_client_ms;
  atomic_uint_fast64_t n_client, n_target, n_forwarded, n_dropped;
  /* Proxy thread only. */
  struct sockaddr_in client_addr;
  bool have_client;
  ufp_queue to_target, to_client;
  uint8_t buf[UFP_MAX_DATAGRAM];
};

static uint64_t mono_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static bool dropping(const udp_fault_proxy *p, bool toward_target) {
  int m = atomic_load(&p->mode);
  return m == UDP_FAULT_DROP || (toward_target && m == UDP_FAULT_DROP_TO_TARGET) ||
         (!toward_target && m == UDP_FAULT_DROP_TO_CLIENT);
}

static void count(atomic_uint_fast64_t *c) { atomic_fetch_add(c, 1); }

static void queue_clear(ufp_queue *q) {
  while (q->head) {
    ufp_dgram *d = q->head;
    q->head = d->next;
    free(d);
  }
  q->tail = NULL;
  q->bytes = 0;
}

/* Sends one datagram toward the target or the client. 1 sent, 0 would block,
 * -1 failed (the datagram is lost, as it would be on a network). Counts it
 * as forwarded just before the send (and undoes that if it does not go), so
 * whoever receives it already sees it counted; a failure counts as dropped. */
static int send_one(udp_fault_proxy *p, bool toward_target, const uint8_t *d, size_t len) {
  atomic_fetch_add(&p->n_forwarded, 1);
  for (;;) {
    ssize_t n;
    if (toward_target)
      n = send(p->target_fd, d, len, MSG_DONTWAIT);
    else
      n = sendto(p->client_fd, d, len, MSG_DONTWAIT, (const struct sockaddr *)&p->client_addr,
                 sizeof p->client_addr);
    if (n >= 0)
      return 1;
    if (errno == EINTR)
      continue;
    atomic_fetch_sub(&p->n_forwarded, 1);
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
      return 0;
    count(&p->n_dropped); /* e.g. ECONNREFUSED: nobody on the target port */
    return -1;
  }
}

/* Sends every due datagram at the head of q (dropping them when the mode says
 * so). Returns the earliest due time still queued, or UINT64_MAX. */
static uint64_t queue_flush(udp_fault_proxy *p, ufp_queue *q, bool toward_target, uint64_t now) {
  q->blocked = false;
  while (q->head && q->head->due_us <= now) {
    ufp_dgram *d = q->head;
    if (dropping(p, toward_target) || (!toward_target && !p->have_client)) {
      count(&p->n_dropped);
    } else {
      int r = send_one(p, toward_target, d->data, d->len);
      if (r == 0) {
        q->blocked = true;
        return UINT64_MAX;
      }
    }
    q->head = d->next;
    if (!q->head)
      q->tail = NULL;
    q->bytes -= d->len;
    free(d);
  }
  return q->head ? q->head->due_us : UINT64_MAX;
}

/* Relays or queues one received datagram. */
static void relay(udp_fault_proxy *p, ufp_queue *q, bool toward_target, size_t len, uint64_t now) {
  if (dropping(p, toward_target) || (!toward_target && !p->have_client)) {
    count(&p->n_dropped);
    return;
  }
  unsigned delay = atomic_load(toward_target ? &p->delay_to_target_ms : &p->delay_to_client_ms);
  if (delay == 0 && !q->head) {
    /* Fast path: nothing held, no delay: no copy. */
    if (send_one(p, toward_target, p->buf, len) != 0)
      return;
  }
  if (q->bytes + len > UFP_MAX_QUEUED) {
    count(&p->n_dropped);
    return;
  }
  ufp_dgram *d = malloc(sizeof *d + len);
  if (!d) {
    count(&p->n_dropped);
    return;
  }
  d->next = NULL;
  d->len = len;
  d->due_us = now + (uint64_t)delay * 1000u;
  /* Keep order when the delay was shortened while datagrams were held. */
  if (q->tail && d->due_us < q->tail->due_us)
    d->due_us = q->tail->due_us;
  memcpy(d->data, p->buf, len);
  if (q->tail)
    q->tail->next = d;
  else
    q->head = d;
  q->tail = d;
  q->bytes += len;
}

static void read_client(udp_fault_proxy *p) {
  for (int i = 0; i < UFP_READ_BURST; i++) {
    struct sockaddr_in from;
    socklen_t fl = sizeof from;
    ssize_t n =
        recvfrom(p->client_fd, p->buf, sizeof p->buf, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return; /* EAGAIN, or an ICMP error for an earlier send */
    }
    count(&p->n_client);
    if (fl == sizeof from && from.sin_family == AF_INET) {
      p->client_addr = from;
      p->have_client = true;
    }
    relay(p, &p->to_target, true, (size_t)n, mono_us());
  }
}

static void read_target(udp_fault_proxy *p) {
  for (int i = 0; i < UFP_READ_BURST; i++) {
    ssize_t n = recv(p->target_fd, p->buf, sizeof p->buf, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR || errno == ECONNREFUSED)
        continue; /* ECONNREFUSED: ICMP for an earlier send; keep reading */
      return;
    }
    count(&p->n_target);
    relay(p, &p->to_client, false, (size_t)n, mono_us());
  }
}

static void *proxy_main(void *arg) {
  udp_fault_proxy *p = arg;
  while (!atomic_load(&p->stop)) {
    uint64_t now = mono_us();
    uint64_t next = queue_flush(p, &p->to_target, true, now);
    uint64_t next2 = queue_flush(p, &p->to_client, false, now);
    if (next2 < next)
      next = next2;
    struct pollfd fds[3] = {
        {.fd = p->wake_rd, .events = POLLIN},
        {.fd = p->client_fd, .events = (short)(POLLIN | (p->to_client.blocked ? POLLOUT : 0))},
        {.fd = p->target_fd, .events = (short)(POLLIN | (p->to_target.blocked ? POLLOUT : 0))},
    };
    struct timespec ts, *tsp = NULL;
    if (next != UINT64_MAX) {
      uint64_t wait = next > now ? next - now : 0;
      ts.tv_sec = (time_t)(wait / 1000000u);
      ts.tv_nsec = (long)(wait % 1000000u) * 1000;
      tsp = &ts;
    }
    int rc = ppoll(fds, 3, tsp, NULL);
    if (rc < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    if (fds[0].revents)
      break; /* free() wrote to the wake pipe */
    if (fds[1].revents & (POLLIN | POLLERR))
      read_client(p);
    if (fds[2].revents & (POLLIN | POLLERR))
      read_target(p);
  }
  return NULL;
}

static int bind_loopback(int fd, uint16_t port) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return bind(fd, (struct sockaddr *)&a, sizeof a);
}

static void set_bufs(int fd) {
  int sz = UFP_SOCKBUF;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
}

udp_fault_proxy *udp_fault_proxy_new(uint16_t target_port) {
  if (target_port == 0)
    return NULL;
  udp_fault_proxy *p = calloc(1, sizeof *p);
  if (!p)
    return NULL;
  p->wake_rd = p->wake_wr = -1;
  p->client_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  p->target_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) == 0) {
    p->wake_rd = pipefd[0];
    p->wake_wr = pipefd[1];
  }
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(target_port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t al = sizeof a;
  if (p->client_fd < 0 || p->target_fd < 0 || p->wake_rd < 0 ||
      bind_loopback(p->client_fd, 0) != 0 || bind_loopback(p->target_fd, 0) != 0 ||
      connect(p->target_fd, (struct sockaddr *)&a, sizeof a) != 0 ||
      getsockname(p->client_fd, (struct sockaddr *)&a, &al) != 0) {
    udp_fault_proxy_free(p);
    return NULL;
  }
  p->port = ntohs(a.sin_port);
  al = sizeof a;
  if (getsockname(p->target_fd, (struct sockaddr *)&a, &al) != 0) {
    udp_fault_proxy_free(p);
    return NULL;
  }
  p->upstream_port = ntohs(a.sin_port);
  set_bufs(p->client_fd);
  set_bufs(p->target_fd);
  if (pthread_create(&p->thread, NULL, proxy_main, p) != 0) {
    udp_fault_proxy_free(p);
    return NULL;
  }
  p->thread_started = true;
  return p;
}

uint16_t udp_fault_proxy_port(const udp_fault_proxy *p) { return p->port; }
uint16_t udp_fault_proxy_upstream_port(const udp_fault_proxy *p) { return p->upstream_port; }

void udp_fault_proxy_set_mode(udp_fault_proxy *p, int mode) {
  if (mode >= UDP_FAULT_FORWARD && mode <= UDP_FAULT_DROP_TO_CLIENT)
    atomic_store(&p->mode, mode);
}

int udp_fault_proxy_mode(const udp_fault_proxy *p) {
  return atomic_load(&((udp_fault_proxy *)p)->mode);
}

void udp_fault_proxy_set_delay_ms(udp_fault_proxy *p, unsigned ms_each_way) {
  udp_fault_proxy_set_delays_ms(p, ms_each_way, ms_each_way);
}

void udp_fault_proxy_set_delays_ms(udp_fault_proxy *p, unsigned to_target_ms,
                                   unsigned to_client_ms) {
  atomic_store(&p->delay_to_target_ms, to_target_ms);
  atomic_store(&p->delay_to_client_ms, to_client_ms);
}

/* The counters are atomics read through a const pointer; C17 atomic_load
 * takes a non-const pointer, hence the casts. */
uint64_t udp_fault_proxy_client_datagrams(const udp_fault_proxy *p) {
  return atomic_load(&((udp_fault_proxy *)p)->n_client);
}
uint64_t udp_fault_proxy_target_datagrams(const udp_fault_proxy *p) {
  return atomic_load(&((udp_fault_proxy *)p)->n_target);
}
uint64_t udp_fault_proxy_forwarded(const udp_fault_proxy *p) {
  return atomic_load(&((udp_fault_proxy *)p)->n_forwarded);
}
uint64_t udp_fault_proxy_dropped(const udp_fault_proxy *p) {
  return atomic_load(&((udp_fault_proxy *)p)->n_dropped);
}

void udp_fault_proxy_free(udp_fault_proxy *p) {
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
  if (p->client_fd >= 0)
    close(p->client_fd);
  if (p->target_fd >= 0)
    close(p->target_fd);
  if (p->wake_rd >= 0)
    close(p->wake_rd);
  if (p->wake_wr >= 0)
    close(p->wake_wr);
  queue_clear(&p->to_target);
  queue_clear(&p->to_client);
  free(p);
}

int udp_fault_proxy_set_target(udp_fault_proxy *p, uint16_t target_port) {
  if (!p || target_port == 0)
    return -1;
  /* Re-connecting a UDP socket swaps its peer atomically in the kernel, so
   * the relay thread needs no lock. */
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(target_port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return connect(p->target_fd, (struct sockaddr *)&a, sizeof a) == 0 ? 0 : -1;
}
