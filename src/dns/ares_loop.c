/* c-ares on libuv: socket watchers from the sock-state callback, a timer
 * from ares_timeout(), and ares_process_fd() when either fires. Written for
 * c-ares 1.18 (Debian 12): no event thread, no ares_process_fds(). */
#include "dns/ares_loop.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cronc/cronc.h"

typedef struct sock_watch {
  uv_poll_t poll;
  ares_socket_t fd;
  dns_ares *owner;
  struct sock_watch *next;
} sock_watch;

struct dns_ares {
  base_runner *runner;
  ares_channel channel;
  bool channel_ok;
  base_timer timer;
  bool timer_open;
  sock_watch *watches;
  dns_ares_fn after;
  void *ctx;
  bool destroying;
  int pending_closes;
  dns_ares_fn freed;
  void *freed_ctx;
};

static pthread_once_t g_ares_once = PTHREAD_ONCE_INIT;
static int g_ares_init_status;

/* ares_library_init is not thread-safe in 1.18: run it once per process. */
static void ares_global_init(void) { g_ares_init_status = ares_library_init(ARES_LIB_INIT_ALL); }

static void maybe_release(dns_ares *a) {
  if (!a->destroying || a->pending_closes > 0)
    return;
  dns_ares_fn freed = a->freed;
  void *ctx = a->freed_ctx;
  free(a);
  if (freed)
    freed(ctx);
}

static void watch_closed(uv_handle_t *h) {
  sock_watch *w = h->data;
  dns_ares *a = w->owner;
  free(w);
  a->pending_closes--;
  maybe_release(a);
}

static void close_watch(dns_ares *a, sock_watch *w) {
  for (sock_watch **pp = &a->watches; *pp; pp = &(*pp)->next) {
    if (*pp == w) {
      *pp = w->next;
      break;
    }
  }
  uv_poll_stop(&w->poll);
  a->pending_closes++;
  uv_close((uv_handle_t *)&w->poll, watch_closed);
}

static void on_timer(base_timer *t, void *ud);

void dns_ares_update_timer(dns_ares *a) {
  if (!a || a->destroying || !a->timer_open)
    return;
  struct timeval tvbuf;
  struct timeval *tv = ares_timeout(a->channel, NULL, &tvbuf);
  if (!tv) {
    base_timer_stop(&a->timer);
    return;
  }
  uint64_t ms = (uint64_t)tv->tv_sec * 1000u + ((uint64_t)tv->tv_usec + 999u) / 1000u;
  base_timer_start(&a->timer, ms, 0, on_timer, a);
}

/* Runs after c-ares processed something; `after` may destroy a, so it is the
 * last thing done. */
static void processed(dns_ares *a) {
  dns_ares_update_timer(a);
  if (a->after)
    a->after(a->ctx);
}

static void on_timer(base_timer *t, void *ud) {
  (void)t;
  dns_ares *a = ud;
  if (a->destroying)
    return;
  ares_process_fd(a->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
  processed(a);
}

static void on_poll(uv_poll_t *h, int status, int events) {
  sock_watch *w = h->data;
  dns_ares *a = w->owner;
  if (a->destroying)
    return;
  ares_socket_t fd = w->fd;
  ares_socket_t rfd = ARES_SOCKET_BAD, wfd = ARES_SOCKET_BAD;
  if (status < 0) {
    /* Let c-ares find the error on the socket itself. */
    rfd = wfd = fd;
  } else {
    if (events & UV_READABLE)
      rfd = fd;
    if (events & UV_WRITABLE)
      wfd = fd;
  }
  /* w may be closed (by the sock-state callback) inside: do not touch it. */
  ares_process_fd(a->channel, rfd, wfd);
  processed(a);
}

static void sock_state_cb(void *data, ares_socket_t fd, int readable, int writable) {
  dns_ares *a = data;
  if (a->destroying)
    return;
  sock_watch *w = a->watches;
  while (w && w->fd != fd)
    w = w->next;
  if (!readable && !writable) {
    /* c-ares closes fd right after this: stop watching it first. */
    if (w)
      close_watch(a, w);
    return;
  }
  if (!w) {
    w = calloc(1, sizeof(*w));
    if (!w)
      return; /* the query will time out */
    if (uv_poll_init_socket(base_runner_loop(a->runner), &w->poll, fd) != 0) {
      free(w);
      return;
    }
    w->fd = fd;
    w->owner = a;
    w->poll.data = w;
    w->next = a->watches;
    a->watches = w;
  }
  int ev = (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0);
  if (uv_poll_start(&w->poll, ev, on_poll) != 0)
    close_watch(a, w);
}

static void timer_closed(base_timer *t, void *ud) {
  (void)t;
  dns_ares *a = ud;
  a->pending_closes--;
  maybe_release(a);
}

int dns_ares_new(base_runner *r, const dns_ares_options *opts, dns_ares_fn after, void *ctx,
                 dns_ares **out) {
  if (!r || !out)
    return CRONC_ERR_INVALID_ARGUMENT;
  *out = NULL;
  pthread_once(&g_ares_once, ares_global_init);
  if (g_ares_init_status != ARES_SUCCESS)
    return CRONC_ERR_FAILED;
  dns_ares *a = calloc(1, sizeof(*a));
  if (!a)
    return CRONC_ERR_OUT_OF_MEMORY;
  a->runner = r;
  a->after = after;
  a->ctx = ctx;

  struct ares_options o;
  memset(&o, 0, sizeof(o));
  int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_LOOKUPS;
  o.sock_state_cb = sock_state_cb;
  o.sock_state_cb_data = a;
  o.lookups = (char *)"b"; /* DNS only: the resolver reads the hosts file itself */
  if (opts && opts->timeout_ms > 0) {
    o.timeout = opts->timeout_ms;
    mask |= ARES_OPT_TIMEOUTMS;
  }
  if (opts && opts->tries > 0) {
    o.tries = opts->tries;
    mask |= ARES_OPT_TRIES;
  }
  if (opts && opts->nameservers) {
    /* Exactly the servers given and exactly the name asked. */
    o.ndomains = 0;
    o.domains = NULL;
    mask |= ARES_OPT_DOMAINS;
  }
  int st = ares_init_options(&a->channel, &o, mask);
  if (st != ARES_SUCCESS) {
    free(a);
    return st == ARES_ENOMEM ? CRONC_ERR_OUT_OF_MEMORY : CRONC_ERR_FAILED;
  }
  a->channel_ok = true;
  if (opts && opts->nameservers) {
    st = ares_set_servers_ports_csv(a->channel, opts->nameservers);
    if (st != ARES_SUCCESS) {
      ares_destroy(a->channel);
      free(a);
      return st == ARES_ENOMEM ? CRONC_ERR_OUT_OF_MEMORY : CRONC_ERR_INVALID_ARGUMENT;
    }
  }
  int rv = base_timer_init(r, &a->timer);
  if (rv != CRONC_OK) {
    ares_destroy(a->channel);
    free(a);
    return rv;
  }
  a->timer_open = true;
  *out = a;
  return CRONC_OK;
}

ares_channel dns_ares_channel(dns_ares *a) { return a->channel; }

void dns_ares_destroy(dns_ares *a, dns_ares_fn freed, void *ctx) {
  if (!a)
    return;
  /* Stop watching while the fds are still open, then let c-ares close them
   * (its sock-state calls are ignored from here on). */
  while (a->watches)
    close_watch(a, a->watches);
  a->destroying = true;
  a->freed = freed;
  a->freed_ctx = ctx;
  if (a->channel_ok) {
    ares_destroy(a->channel);
    a->channel_ok = false;
  }
  if (a->timer_open) {
    a->timer_open = false;
    a->pending_closes++;
    base_timer_close(&a->timer, timer_closed, a);
  }
  maybe_release(a);
}
