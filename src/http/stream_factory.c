#include "http/stream_factory.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "cronc/cronc.h"
#include "http/h1_stream.h"
#include "http/h2_connection.h"
#include "socket/tcp_connect.h"
#include "socket/tls_socket.h"

/* ---- Data ----------------------------------------------------------------- */

typedef struct idle_socket {
  stream_socket *sock;
  int64_t since_ticks;
  bool used; /* carried a request before */
  struct idle_socket *next;
} idle_socket;

typedef struct sf_job sf_job;

/* A group: sockets to one (scheme, origin, destination). */
typedef struct sf_group {
  stream_factory *f; /* the owner: a released socket finds its pool */
  char key[2 * URL_MAX_HOST + 48];
  size_t active; /* handed out or connecting */
  /* A connect that may produce an HTTP/2 connection is running: the group's
   * other requests wait for its outcome instead of opening connections of
   * their own (Chromium's blocking SpdySessionRequest). */
  bool h2_probe;
  idle_socket *idle;
  struct sf_group *next;
} sf_group;

/* An HTTP/2 connection in the pool, by origin. */
typedef struct sf_h2 {
  char origin[URL_MAX_HOST + 32];
  h2_conn *conn;
  bool alias; /* another origin pooled onto conn (IP pooling): holds no reference */
  struct sf_h2 *next;
} sf_h2;

struct sf_job {
  stream_factory *f;
  const http_request_info *req;
  sf_group *group;
  char dest_host[URL_MAX_HOST + 1];
  uint16_t dest_port;
  char origin_key[URL_MAX_HOST + 32];
  http_stream_ready_cb cb;
  void *ud;
  dns_request *dns;
  tcp_connect_job *tcp;
  stream_socket *sock;        /* while the TLS handshake runs */
  bool waiting;               /* queued behind a socket limit */
  bool counted;               /* holds one of the group's active slots */
  bool posted;                /* a result is posted to the loop */
  bool probe;                 /* this job is its group's h2_probe */
  struct sf_preconnect *pc;   /* a preconnect job: the socket goes idle */
  int64_t dns_start, dns_end; /* ticks µs */
  int result;
  http_stream *stream;
  sf_job *next; /* in the factory's job list */
};

struct stream_factory {
  http_stream_factory base;
  stream_factory_params p;
  sf_group *groups;
  sf_h2 *h2;
  sf_job *jobs;
  size_t total_sockets; /* active + idle, all groups */
  size_t connects;
  base_timer cleanup;
  bool cleanup_open;
};

static stream_factory *F(http_stream_factory *b) { return (stream_factory *)b; }

/* Key building on the per-request path without printf (which cost more
 * than the rest of the lookup together). Appends s at *pos within cap,
 * truncating safely. */
static void key_put(char *buf, size_t cap, size_t *pos, const char *s) {
  size_t n = strlen(s);
  if (*pos + n >= cap)
    n = *pos < cap - 1 ? cap - 1 - *pos : 0;
  memcpy(buf + *pos, s, n);
  *pos += n;
  buf[*pos] = '\0';
}

static void key_put_u(char *buf, size_t cap, size_t *pos, unsigned v) {
  char digits[12];
  size_t i = sizeof digits;
  digits[--i] = '\0';
  do {
    digits[--i] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  key_put(buf, cap, pos, digits + i);
}

void stream_factory_params_init(stream_factory_params *p) {
  memset(p, 0, sizeof *p);
  p->enable_http2 = true;
}

/* ---- Groups and the idle pool ----------------------------------------------- */

static sf_group *group_get(stream_factory *f, const char *key) {
  for (sf_group *g = f->groups; g; g = g->next)
    if (strcmp(g->key, key) == 0)
      return g;
  sf_group *g = calloc(1, sizeof *g);
  if (!g)
    return NULL;
  g->f = f;
  snprintf(g->key, sizeof g->key, "%s", key);
  g->next = f->groups;
  f->groups = g;
  return g;
}

static void idle_close(stream_factory *f, idle_socket *is) {
  stream_socket_free(is->sock);
  free(is);
  f->total_sockets--;
}

/* Pops a usable idle socket of the group (closing stale ones). */
static stream_socket *idle_pop(stream_factory *f, sf_group *g, bool *used) {
  while (g->idle) {
    idle_socket *is = g->idle;
    g->idle = is->next;
    if (stream_socket_is_connected_and_idle(is->sock)) {
      stream_socket *s = is->sock;
      *used = is->used;
      free(is);
      f->total_sockets--;
      return s;
    }
    idle_close(f, is);
  }
  return NULL;
}

/* Closes one idle socket of any group, the oldest found, to make room. */
static bool close_one_idle(stream_factory *f) {
  idle_socket **best = NULL;
  for (sf_group *g = f->groups; g; g = g->next)
    for (idle_socket **pp = &g->idle; *pp; pp = &(*pp)->next)
      if (!best || (*pp)->since_ticks < (*best)->since_ticks)
        best = pp;
  if (!best)
    return false;
  idle_socket *is = *best;
  *best = is->next;
  idle_close(f, is);
  return true;
}

static void cleanup_fired(base_timer *t, void *ud) {
  (void)t;
  stream_factory *f = ud;
  int64_t now = base_clock_ticks(f->p.clock);
  for (sf_group *g = f->groups; g; g = g->next) {
    idle_socket **pp = &g->idle;
    while (*pp) {
      idle_socket *is = *pp;
      int64_t limit_ms =
          is->used ? STREAM_FACTORY_USED_IDLE_TIMEOUT_MS : STREAM_FACTORY_UNUSED_IDLE_TIMEOUT_MS;
      if (now - is->since_ticks >= limit_ms * 1000 ||
          !stream_socket_is_connected_and_idle(is->sock)) {
        *pp = is->next;
        idle_close(f, is);
      } else {
        pp = &is->next;
      }
    }
  }
  if (stream_factory_idle_socket_count(f) == 0)
    base_timer_stop(&f->cleanup);
}

static void dispatch_waiting(stream_factory *f);

/* Puts a connected socket into the group's idle list (it keeps its place
 * in total_sockets). False on allocation failure. */
static bool idle_push(sf_group *g, stream_socket *sock, bool used) {
  stream_factory *f = g->f;
  idle_socket *is = calloc(1, sizeof *is);
  if (!is)
    return false;
  is->sock = sock;
  is->since_ticks = base_clock_ticks(f->p.clock);
  is->used = used;
  is->next = g->idle;
  g->idle = is;
  if (f->cleanup_open && !base_timer_is_running(&f->cleanup))
    base_timer_start(&f->cleanup, STREAM_FACTORY_CLEANUP_INTERVAL_MS,
                     STREAM_FACTORY_CLEANUP_INTERVAL_MS, cleanup_fired, f);
  return true;
}

/* An HTTP/1.1 stream is done with its socket. */
static void on_socket_release(void *ud, stream_socket *sock, bool reusable) {
  sf_group *g = ud;
  stream_factory *f = g->f;
  g->active--;
  if (reusable && idle_push(g, sock, true)) {
    dispatch_waiting(f);
    return;
  }
  stream_socket_free(sock);
  f->total_sockets--;
  dispatch_waiting(f);
}

/* A preconnect's HTTP/1.1 socket: idle and unused, for the next request
 * (Chromium's preconnected sockets use the 10 s unused timeout). */
static void preconnect_park(sf_job *j, stream_socket *sock) {
  sf_group *g = j->group;
  j->counted = false;
  g->active--;
  if (!idle_push(g, sock, false)) {
    stream_socket_free(sock);
    j->f->total_sockets--;
  }
  dispatch_waiting(j->f);
}

/* Groups live as long as the factory, so the stream can point at its own. */
static http_stream *make_h1_stream(sf_group *g, stream_socket *sock, bool reused) {
  return h1_stream_new(sock, reused, on_socket_release, g);
}

/* ---- HTTP/2 pool -------------------------------------------------------------- */

/* The connection stopped taking streams: every origin entry for it goes,
 * and the pool's one reference is dropped. */
static void h2_unusable(void *ud, h2_conn *c) {
  stream_factory *f = ud;
  bool owned = false;
  sf_h2 **pp = &f->h2;
  while (*pp) {
    sf_h2 *e = *pp;
    if (e->conn == c) {
      owned |= !e->alias;
      *pp = e->next;
      free(e);
    } else {
      pp = &e->next;
    }
  }
  if (owned)
    h2_conn_release(c);
}

static bool same_endpoint(const struct sockaddr_storage *a, const struct sockaddr_storage *b) {
  if (a->ss_family != b->ss_family)
    return false;
  if (a->ss_family == AF_INET) {
    const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
    return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
  }
  if (a->ss_family == AF_INET6) {
    const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
    return x->sin6_port == y->sin6_port &&
           memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
  }
  return false;
}

/* Chromium's IP pooling (SpdySessionPool::FindAvailableSession with
 * aliases): an HTTP/2 connection to one of the addresses the new origin
 * resolved to, whose verified certificate also covers the new origin's name,
 * serves it too. addrs carry the destination port. */
static h2_conn *h2_find_by_ip(stream_factory *f, const dns_address_list *addrs, const char *host) {
  for (sf_h2 *e = f->h2; e; e = e->next) {
    if (e->alias || !h2_conn_is_usable(e->conn))
      continue;
    stream_socket *sock = h2_conn_socket(e->conn);
    struct sockaddr_storage peer;
    if (stream_socket_peer_address(sock, &peer) != CRONC_OK)
      continue;
    for (size_t i = 0; i < addrs->count; i++)
      if (same_endpoint(&peer, &addrs->addrs[i]) && tls_socket_covers_host(sock, host))
        return e->conn;
  }
  return NULL;
}

static h2_conn *h2_find(stream_factory *f, const char *origin) {
  for (sf_h2 *e = f->h2; e; e = e->next)
    if (strcmp(e->origin, origin) == 0 && h2_conn_is_usable(e->conn))
      return e->conn;
  return NULL;
}

/* ---- Jobs ----------------------------------------------------------------------- */

static void job_unlink(stream_factory *f, sf_job *j) {
  for (sf_job **pp = &f->jobs; *pp; pp = &(*pp)->next)
    if (*pp == j) {
      *pp = j->next;
      return;
    }
}

static void job_free(sf_job *j) {
  dns_request_cancel(j->dns);
  tcp_connect_job_free(j->tcp);
  stream_socket_free(j->sock);
  free(j);
}

/* Delivers the job's result; always from the loop, never inside
 * request_stream(). */
static void job_deliver(void *arg) {
  sf_job *j = arg;
  stream_factory *f = j->f;
  if (!f) { /* cancelled while the result was posted */
    if (j->stream)
      j->stream->vt->close(j->stream, true);
    free(j);
    return;
  }
  job_unlink(f, j);
  stream_socket_free(j->sock);
  j->sock = NULL;
  http_stream_ready_cb cb = j->cb;
  void *ud = j->ud;
  int rv = j->result;
  http_stream *st = j->stream;
  if (rv != CRONC_OK && j->counted) {
    j->group->active--;
    f->total_sockets--;
    dispatch_waiting(f);
  }
  free(j);
  cb(ud, rv, st);
}

/* The probing connect is over (an HTTP/2 connection is pooled, or it was
 * HTTP/1.1, or it failed): the requests that waited for it go on. */
static void end_probe(sf_job *j) {
  if (!j->probe)
    return;
  j->probe = false;
  j->group->h2_probe = false;
  dispatch_waiting(j->f);
}

static void job_finish(sf_job *j, int rv, http_stream *st) {
  j->result = rv;
  j->stream = st;
  j->posted = true;
  if (base_runner_post(j->f->p.runner, job_deliver, j) != CRONC_OK) {
    /* Shutting down: nobody will read the result. */
    j->posted = false;
  }
  end_probe(j);
}

/* The new connection's timing: DNS from the job, TCP/TLS from the socket. */
static http_load_timing job_timing(sf_job *j, stream_socket *sock) {
  socket_connection_info ci;
  stream_socket_connection_info(sock, &ci);
  http_load_timing t = {
      .dns_start = j->dns_start,
      .dns_end = j->dns_end,
      .connect_start = ci.connect_start_us,
      .connect_end = ci.connect_end_us,
      .ssl_start = ci.tls_start_us,
      .ssl_end = ci.tls_end_us,
  };
  return t;
}

/* An ALTSVC frame the connection accepted: a stream-0 origin must be one
 * this connection could serve. */
static void on_h2_altsvc(void *ud, h2_conn *c, const url_origin *origin, bool on_stream_zero,
                         const char *value, size_t len) {
  stream_factory *f = ud;
  if (!f->p.on_alt_svc)
    return;
  if (on_stream_zero && !tls_socket_covers_host(h2_conn_socket(c), origin->host)) {
    netlog_add_event(f->p.nl, netlog_source_new(f->p.nl, NETLOG_SOURCE_NONE),
                     NETLOG_TYPE_CRONC_HTTP2_ALTSVC_IGNORED,
                     "{\"reason\":\"the certificate does not cover the frame's origin\"}");
    return;
  }
  f->p.on_alt_svc(f->p.alt_svc_ud, origin, value, len);
}

static void on_tls_done(int rv, void *ud) {
  sf_job *j = ud;
  stream_factory *f = j->f;
  stream_socket *sock = j->sock;
  if (rv != CRONC_OK) {
    stream_socket_free(sock); /* the TLS socket owns the TCP one */
    j->sock = NULL;
    job_finish(j, rv, NULL);
    return;
  }
  j->sock = NULL;
  if (strcmp(stream_socket_alpn(sock), "h2") == 0) {
    /* One HTTP/2 connection serves every request to the origin: it leaves
     * the per-group socket accounting. */
    http_load_timing timing = job_timing(j, sock);
    h2_conn *c = h2_conn_new(f->p.runner, sock, f->p.nl, h2_unusable, f);
    if (!c) {
      stream_socket_free(sock);
      job_finish(j, CRONC_ERR_OUT_OF_MEMORY, NULL);
      return;
    }
    h2_conn_set_load_timing(c, &timing);
    h2_conn_set_altsvc_callback(c, on_h2_altsvc, f);
    sf_h2 *e = calloc(1, sizeof *e);
    http_stream *st = e ? h2_conn_new_stream(c) : NULL;
    if (!e || !st) {
      free(e);
      h2_conn_release(c);
      job_finish(j, CRONC_ERR_OUT_OF_MEMORY, NULL);
      return;
    }
    snprintf(e->origin, sizeof e->origin, "%s", j->origin_key);
    e->conn = c;
    e->next = f->h2;
    f->h2 = e;
    j->group->active--;
    f->total_sockets--;
    j->counted = false;
    job_finish(j, CRONC_OK, st);
    dispatch_waiting(f);
    return;
  }
  if (j->pc) {
    preconnect_park(j, sock);
    job_finish(j, CRONC_OK, NULL);
    return;
  }
  http_load_timing timing = job_timing(j, sock);
  http_stream *st = make_h1_stream(j->group, sock, false);
  if (!st) {
    stream_socket_free(sock);
    job_finish(j, CRONC_ERR_OUT_OF_MEMORY, NULL);
    return;
  }
  h1_stream_set_load_timing(st, &timing);
  j->counted = false; /* the stream's release returns the slot */
  job_finish(j, CRONC_OK, st);
}

static void on_tcp_done(int rv, stream_socket *sock, void *ud) {
  sf_job *j = ud;
  tcp_connect_job_free(j->tcp); /* allowed inside its callback; the socket is ours */
  j->tcp = NULL;
  if (rv != CRONC_OK) {
    job_finish(j, rv, NULL);
    return;
  }
  stream_factory *f = j->f;
  const url *u = j->req->url;
  if (u->scheme != URL_SCHEME_HTTPS && u->scheme != URL_SCHEME_WSS) {
    if (j->pc) {
      preconnect_park(j, sock);
      job_finish(j, CRONC_OK, NULL);
      return;
    }
    http_load_timing timing = job_timing(j, sock);
    http_stream *st = make_h1_stream(j->group, sock, false);
    if (!st) {
      stream_socket_free(sock);
      job_finish(j, CRONC_ERR_OUT_OF_MEMORY, NULL);
      return;
    }
    h1_stream_set_load_timing(st, &timing);
    j->counted = false;
    job_finish(j, CRONC_OK, st);
    return;
  }
  static const char *const alpn_h2[] = {"h2", "http/1.1"};
  static const char *const alpn_h1[] = {"http/1.1"};
  bool h2 = f->p.enable_http2 && j->req->allow_http2;
  tls_socket_params tp = {
      .host = u->host, .port = u->port, .alpn = h2 ? alpn_h2 : alpn_h1, .alpn_count = h2 ? 2 : 1};
  stream_socket *tls = NULL;
  rv = tls_socket_new(f->p.tls, sock, &tp, &tls);
  if (rv != CRONC_OK) {
    stream_socket_free(sock);
    job_finish(j, rv, NULL);
    return;
  }
  j->sock = tls;
  rv = tls_socket_connect(tls, on_tls_done, j);
  if (rv != CRONC_ERR_IO_PENDING)
    on_tls_done(rv, j);
}

static void on_dns_done(int rv, dns_address_list *addrs, void *ud) {
  sf_job *j = ud;
  j->dns = NULL;
  j->dns_end = base_clock_ticks(j->f->p.clock);
  if (rv != CRONC_OK) {
    job_finish(j, rv, NULL);
    return;
  }
  const url *u = j->req->url;
  if (u->scheme == URL_SCHEME_HTTPS && j->f->p.enable_http2 && j->req->allow_http2) {
    h2_conn *c = h2_find_by_ip(j->f, addrs, u->host);
    sf_h2 *alias = c ? calloc(1, sizeof *alias) : NULL;
    http_stream *st = alias ? h2_conn_new_stream(c) : NULL;
    if (st) {
      snprintf(alias->origin, sizeof alias->origin, "%s", j->origin_key);
      alias->conn = c;
      alias->alias = true;
      alias->next = j->f->h2;
      j->f->h2 = alias;
      j->group->active--; /* no socket of its own after all */
      j->f->total_sockets--;
      j->counted = false;
      job_finish(j, CRONC_OK, st);
      dispatch_waiting(j->f);
      return;
    }
    free(alias);
  }
  tcp_connect_params tp;
  tcp_connect_params_init(&tp);
  tp.clock = j->f->p.clock;
  tp.netlog = j->f->p.nl;
  if (j->f->p.connect_timeout_ms)
    tp.timeout_ms = j->f->p.connect_timeout_ms;
  j->f->connects++;
  rv = tcp_connect_start(j->f->p.runner, addrs->addrs, addrs->count, j->dest_port, &tp, on_tcp_done,
                         j, &j->tcp);
  if (rv != CRONC_OK)
    job_finish(j, rv, NULL);
}

static bool preconnect_satisfied(const sf_job *j);

/* Tries to serve the job now: an HTTP/2 connection, an idle socket, or a
 * new connection if the limits allow. Returns false when it must wait. */
static bool job_try(sf_job *j) {
  stream_factory *f = j->f;
  h2_conn *c = h2_find(f, j->origin_key);
  if (j->pc && (c || preconnect_satisfied(j))) {
    /* Already connected: an HTTP/2 connection serves every stream; idle and
     * connecting sockets count toward the number asked for (Chromium's
     * RequestSockets). */
    job_finish(j, CRONC_OK, NULL);
    return true;
  }
  if (c) {
    http_stream *st = h2_conn_new_stream(c);
    job_finish(j, st ? CRONC_OK : CRONC_ERR_OUT_OF_MEMORY, st);
    return true;
  }
  bool used = false;
  stream_socket *sock = idle_pop(f, j->group, &used);
  if (sock) {
    j->group->active++;
    f->total_sockets++;
    http_stream *st = make_h1_stream(j->group, sock, used);
    if (!st) {
      j->group->active--;
      f->total_sockets--;
      stream_socket_free(sock);
    }
    job_finish(j, st ? CRONC_OK : CRONC_ERR_OUT_OF_MEMORY, st);
    return true;
  }
  size_t per_group = f->p.max_sockets_per_group ? f->p.max_sockets_per_group
                                                : STREAM_FACTORY_MAX_SOCKETS_PER_GROUP;
  size_t total = f->p.max_sockets ? f->p.max_sockets : STREAM_FACTORY_MAX_SOCKETS;
  bool may_be_h2 =
      (j->req->url->scheme == URL_SCHEME_HTTPS) && f->p.enable_http2 && j->req->allow_http2;
  if (may_be_h2 && j->group->h2_probe)
    return false; /* wait: the running connect may give an HTTP/2 connection */
  if (j->group->active >= per_group)
    return false;
  if (f->total_sockets >= total && !close_one_idle(f))
    return false;
  j->group->active++;
  f->total_sockets++;
  j->counted = true;
  if (may_be_h2) {
    j->group->h2_probe = true;
    j->probe = true;
  }
  j->dns_start = base_clock_ticks(f->p.clock);
  dns_address_list results = {0};
  int rv = dns_resolve(f->p.resolver, j->dest_host, strlen(j->dest_host), j->dest_port,
                       DNS_FAMILY_UNSPEC, j->req->source, on_dns_done, j, &results, &j->dns);
  if (rv == CRONC_ERR_IO_PENDING)
    return true;
  if (rv == CRONC_OK)
    on_dns_done(rv, &results, j);
  else
    job_finish(j, rv, NULL);
  dns_address_list_reset(&results);
  return true;
}

/* A socket slot freed up: serve the oldest waiting jobs that now fit. */
static void dispatch_waiting(stream_factory *f) {
  for (sf_job *j = f->jobs; j; j = j->next) {
    if (!j->waiting)
      continue;
    j->waiting = false;
    if (!job_try(j)) {
      j->waiting = true;
      continue;
    }
  }
}

static void origin_key_of(const url *u, char *key, size_t cap) {
  size_t pos = 0;
  key[0] = '\0';
  key_put(key, cap, &pos, url_scheme_name(u->scheme));
  key_put(key, cap, &pos, "://");
  key_put(key, cap, &pos, u->host);
  key_put(key, cap, &pos, ":");
  key_put_u(key, cap, &pos, u->port);
}

bool stream_factory_has_h2_session(stream_factory *f, const url *u) {
  char key[URL_MAX_HOST + 32];
  origin_key_of(u, key, sizeof key);
  return f->p.enable_http2 && h2_find(f, key) != NULL;
}

typedef struct sf_preconnect {
  url u;
  http_request_info req;
  int pending; /* jobs not finished */
  int wanted;  /* connections asked for */
} sf_preconnect;

static bool preconnect_satisfied(const sf_job *j) {
  size_t have = j->group->active;
  for (const idle_socket *is = j->group->idle; is; is = is->next)
    have++;
  return have >= (size_t)j->pc->wanted;
}

static void preconnect_release(sf_preconnect *pc) {
  if (--pc->pending > 0)
    return;
  url_free(&pc->u);
  free(pc);
}

static int start_job(stream_factory *f, const http_request_info *req, const char *alt_host,
                     uint16_t alt_port, http_stream_ready_cb cb, void *ud,
                     http_stream_request **out, sf_preconnect *pc);

static void preconnect_done(void *ud, int rv, http_stream *st) {
  (void)rv;
  if (st) /* an HTTP/2 stream made on the way: the connection stays pooled */
    st->vt->close(st, false);
  preconnect_release(ud);
}

int stream_factory_preconnect(stream_factory *f, const http_request_info *req, int num_streams) {
  if (!f || !req || !req->url || num_streams < 1)
    return CRONC_ERR_INVALID_ARGUMENT;
  sf_preconnect *pc = calloc(1, sizeof *pc);
  if (!pc)
    return CRONC_ERR_OUT_OF_MEMORY;
  if (url_parse(req->url->spec, strlen(req->url->spec), &pc->u) != CRONC_OK) {
    free(pc);
    return CRONC_ERR_OUT_OF_MEMORY;
  }
  pc->req = *req;
  pc->req.url = &pc->u;
  pc->req.headers = NULL;
  pc->req.body = NULL;
  pc->req.upload = NULL;
  pc->pending = 1; /* held while starting */
  pc->wanted = num_streams;
  int rv = CRONC_OK;
  for (int i = 0; i < num_streams; i++) {
    http_stream_request *h = NULL;
    pc->pending++;
    int jrv = start_job(f, &pc->req, NULL, 0, preconnect_done, pc, &h, pc);
    if (jrv != CRONC_ERR_IO_PENDING) {
      pc->pending--;
      rv = jrv;
      break;
    }
  }
  preconnect_release(pc);
  return rv;
}

int stream_factory_request_stream_to(stream_factory *f, const http_request_info *req,
                                     const char *alt_host, uint16_t alt_port,
                                     http_stream_ready_cb cb, void *ud, http_stream_request **out) {
  return start_job(f, req, alt_host, alt_port, cb, ud, out, NULL);
}

static int start_job(stream_factory *f, const http_request_info *req, const char *alt_host,
                     uint16_t alt_port, http_stream_ready_cb cb, void *ud,
                     http_stream_request **out, sf_preconnect *pc) {
  const url *u = req->url;
  if (alt_host && strlen(alt_host) > URL_MAX_HOST)
    return CRONC_ERR_INVALID_ARGUMENT;
  sf_job *j = base_zalloc(sizeof *j);
  if (!j)
    return CRONC_ERR_OUT_OF_MEMORY;
  j->f = f;
  j->req = req;
  j->cb = cb;
  j->ud = ud;
  j->pc = pc;
  /* The destination is the origin, or an alternative service's host and
   * port; host mapping rules then change where we connect, never whom we
   * talk to (TLS still checks the origin's name). */
  const char *dhost = alt_host ? alt_host : u->host;
  uint16_t dport = alt_host ? alt_port : u->port;
  size_t dpos = 0;
  j->dest_host[0] = '\0';
  key_put(j->dest_host, sizeof j->dest_host, &dpos, dhost);
  j->dest_port = dport;
  if (dns_host_mapping_rules_rewrite(f->p.rules, dhost, strlen(dhost), dport, j->dest_host,
                                     sizeof j->dest_host, &j->dest_port) == DNS_MAPPING_INVALID) {
    free(j);
    return CRONC_ERR_NAME_NOT_RESOLVED;
  }
  origin_key_of(u, j->origin_key, sizeof j->origin_key);
  char gkey[sizeof((sf_group *)0)->key];
  size_t pos = 0;
  gkey[0] = '\0';
  key_put(gkey, sizeof gkey, &pos, j->origin_key);
  key_put(gkey, sizeof gkey, &pos, "/");
  key_put(gkey, sizeof gkey, &pos, j->dest_host);
  key_put(gkey, sizeof gkey, &pos, ":");
  key_put_u(gkey, sizeof gkey, &pos, j->dest_port);
  key_put(gkey, sizeof gkey, &pos, req->allow_http2 ? "/2" : "/1");
  j->group = group_get(f, gkey);
  if (!j->group) {
    free(j);
    return CRONC_ERR_OUT_OF_MEMORY;
  }
  j->next = f->jobs;
  f->jobs = j;
  if (!job_try(j))
    j->waiting = true;
  *out = (http_stream_request *)j;
  return CRONC_ERR_IO_PENDING;
}

static int sf_request_stream(http_stream_factory *b, const http_request_info *req,
                             http_stream_request_report *report, http_stream_ready_cb cb, void *ud,
                             http_stream_request **out) {
  if (report)
    memset(report, 0, sizeof *report);
  return stream_factory_request_stream_to(F(b), req, NULL, 0, cb, ud, out);
}

void stream_factory_cancel(stream_factory *f, http_stream_request *r) {
  f->base.vt->cancel(&f->base, r);
}

static void sf_cancel(http_stream_factory *b, http_stream_request *r) {
  stream_factory *f = F(b);
  sf_job *j = (sf_job *)r;
  job_unlink(f, j);
  if (j->probe) {
    j->probe = false;
    j->group->h2_probe = false;
  }
  if (j->counted) {
    j->group->active--;
    f->total_sockets--;
  }
  sf_preconnect *pc = j->pc;
  if (j->posted) {
    /* The delivery task owns it now: it closes the stream and frees. */
    j->f = NULL;
    dns_request_cancel(j->dns);
    j->dns = NULL;
  } else {
    job_free(j);
  }
  if (pc)
    preconnect_release(pc);
  dispatch_waiting(f);
}

static const http_stream_factory_vtable sf_vt = {sf_request_stream, sf_cancel};

stream_factory *stream_factory_new(const stream_factory_params *p) {
  if (!p || !p->runner || !p->resolver)
    return NULL;
  stream_factory *f = calloc(1, sizeof *f);
  if (!f)
    return NULL;
  f->base.vt = &sf_vt;
  f->p = *p;
  if (!f->p.clock)
    f->p.clock = base_clock_system();
  if (base_timer_init(p->runner, &f->cleanup) == CRONC_OK)
    f->cleanup_open = true;
  return f;
}

static void cleanup_closed(base_timer *t, void *ud) {
  (void)t;
  free(ud);
}

void stream_factory_free(stream_factory *f) {
  if (!f)
    return;
  while (f->jobs) {
    sf_job *j = f->jobs;
    sf_cancel(&f->base, (http_stream_request *)j);
  }
  while (f->h2) {
    sf_h2 *e = f->h2;
    f->h2 = e->next;
    if (!e->alias)
      h2_conn_release(e->conn);
    free(e);
  }
  while (f->groups) {
    sf_group *g = f->groups;
    f->groups = g->next;
    while (g->idle) {
      idle_socket *is = g->idle;
      g->idle = is->next;
      idle_close(f, is);
    }
    free(g);
  }
  if (f->cleanup_open)
    base_timer_close(&f->cleanup, cleanup_closed, f); /* frees f when libuv is done */
  else
    free(f);
}

http_stream_factory *stream_factory_base(stream_factory *f) { return &f->base; }

size_t stream_factory_idle_socket_count(const stream_factory *f) {
  size_t n = 0;
  for (sf_group *g = f->groups; g; g = g->next)
    for (idle_socket *is = g->idle; is; is = is->next)
      n++;
  return n;
}

size_t stream_factory_connects_started(const stream_factory *f) { return f->connects; }

size_t stream_factory_h2_connection_count(const stream_factory *f) {
  size_t n = 0;
  for (sf_h2 *e = f->h2; e; e = e->next)
    n += !e->alias;
  return n;
}

void stream_factory_close_idle(stream_factory *f) {
  while (close_one_idle(f)) {
  }
}
