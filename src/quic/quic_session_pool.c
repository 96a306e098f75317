#include "quic/quic_session_pool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cronc/cronc.h"
#include "quic/quic_connection.h"
#include "url/url.h"

typedef struct pool_session pool_session;

struct quic_pool_request {
  quic_pool_request *next; /* in the session's waiting list or pool->done */
  quic_pool *pool;         /* NULL once the pool is gone */
  pool_session *sess;      /* while waiting for a connection */
  const http_request_info *req;
  http_stream_ready_cb cb;
  void *ud;
  bool cancelled;
  bool posted;
  int result;
  http_stream *stream;
};

struct pool_session {
  pool_session *next;
  quic_pool *pool;
  quic_conn *conn;
  char host[URL_MAX_HOST + 1];
  uint16_t port;
  bool privacy;
  char dest_host[URL_MAX_HOST + 1];
  uint16_t dest_port;
  char connect_host[URL_MAX_HOST + 1]; /* dest after host mapping rules */
  uint16_t connect_port;
  bool observed;   /* the observer heard the outcome */
  bool connecting; /* no stream handed out yet */
  bool active;     /* new streams may go here */
  dns_request *dns;
  dns_address_list addrs;
  size_t idx;
  quic_pool_request *waiting;
};

typedef struct pool_factory {
  http_stream_factory base;
  quic_pool *pool;
} pool_factory;

struct quic_pool {
  quic_pool_params p;
  pool_session *sessions;
  quic_pool_request *done; /* completions posted, not yet run */
  size_t established;
  pool_factory factory;
};

void quic_pool_params_init(quic_pool_params *p) { memset(p, 0, sizeof *p); }

/* ---- request completion (always on a later loop turn) ------------------------------ */

static void request_task(void *arg) {
  quic_pool_request *r = arg;
  if (r->pool) {
    for (quic_pool_request **pp = &r->pool->done; *pp; pp = &(*pp)->next)
      if (*pp == r) {
        *pp = r->next;
        break;
      }
  }
  if (r->cancelled) {
    if (r->stream)
      r->stream->vt->close(r->stream, false);
  } else {
    r->cb(r->ud, r->result, r->stream);
  }
  free(r);
}

static void complete(quic_pool_request *r, int result, http_stream *stream) {
  quic_pool *pool = r->pool;
  r->sess = NULL;
  r->result = result;
  r->stream = stream;
  r->posted = true;
  r->next = pool->done;
  pool->done = r;
  if (base_runner_post(pool->p.runner, request_task, r) != CRONC_OK) {
    /* The loop is shutting down: nobody will run the callback. */
    pool->done = r->next;
    if (stream)
      stream->vt->close(stream, false);
    free(r);
  }
}

/* ---- sessions ---------------------------------------------------------------------- */

static void observe(pool_session *s, int result, int64_t srtt) {
  quic_pool *pool = s->pool;
  if (s->observed || !pool->p.observer)
    return;
  s->observed = true;
  char local[64] = "";
  quic_pool_event ev = {s->host, s->port, s->privacy, s->dest_host, s->dest_port,
                        result,  srtt,    false,      false,        local};
  if (s->conn) {
    ev.resumed = quic_conn_resumed(s->conn);
    ev.zero_rtt = quic_conn_early_data_accepted(s->conn);
    quic_conn_local_address(s->conn, local, sizeof local);
  }
  pool->p.observer(pool->p.observer_ud, &ev);
}

static void session_unlink(pool_session *s) {
  for (pool_session **pp = &s->pool->sessions; *pp; pp = &(*pp)->next)
    if (*pp == s) {
      *pp = s->next;
      break;
    }
}

static void session_free(pool_session *s) {
  session_unlink(s);
  if (s->dns)
    dns_request_cancel(s->dns);
  dns_address_list_reset(&s->addrs);
  if (s->conn)
    quic_conn_release(s->conn);
  free(s);
}

static void fail_waiting(pool_session *s, int error) {
  while (s->waiting) {
    quic_pool_request *r = s->waiting;
    s->waiting = r->next;
    complete(r, error, NULL);
  }
}

static void hand_out(pool_session *s) {
  if (s->connecting)
    s->pool->established++;
  s->connecting = false;
  s->active = true;
  while (s->waiting) {
    quic_pool_request *r = s->waiting;
    s->waiting = r->next;
    http_stream *st = quic_conn_new_stream(s->conn);
    complete(r, st ? CRONC_OK : CRONC_ERR_CONNECTION_CLOSED, st);
  }
}

static int start_connect(pool_session *s);

static void on_handshake(void *ud, quic_conn *c, int result) {
  (void)c;
  pool_session *s = ud;
  if (result == CRONC_OK) {
    if (s->connecting)
      hand_out(s);
    return;
  }
  if (s->connecting &&
      (result == CRONC_ERR_CONNECTION_REFUSED || result == CRONC_ERR_ADDRESS_UNREACHABLE) &&
      s->idx + 1 < s->addrs.count) {
    /* This address refuses: the next one (Chromium tries one address;
     * "localhost" resolving to ::1 first makes the fallback worth it). */
    quic_conn_release(s->conn);
    s->conn = NULL;
    s->idx++;
    if (start_connect(s) == CRONC_OK)
      return;
    result = CRONC_ERR_CONNECTION_REFUSED;
  }
  observe(s, result, 0);
  fail_waiting(s, result);
  session_free(s);
}

static void on_confirmed(void *ud, quic_conn *c, int64_t srtt_us) {
  (void)c;
  observe(ud, CRONC_OK, srtt_us);
}

static void on_ticket(void *ud, quic_conn *c, const uint8_t *blob, size_t len) {
  (void)c;
  pool_session *s = ud;
  const quic_ticket_store *ts = &s->pool->p.tickets;
  if (ts->save)
    ts->save(ts->ud, s->host, s->port, s->privacy, blob, len);
}

static void on_unusable(void *ud, quic_conn *c) {
  (void)c;
  pool_session *s = ud;
  /* Lost before its handshake was confirmed (Chromium marks the
   * alternative recently broken then). */
  observe(s, CRONC_ERR_QUIC_PROTOCOL_ERROR, 0);
  s->active = false;
  if (s->waiting)
    fail_waiting(s, CRONC_ERR_CONNECTION_CLOSED);
  session_free(s); /* the connection lives on while its streams do */
}

static int start_connect(pool_session *s) {
  quic_pool *pool = s->pool;
  for (; s->idx < s->addrs.count; s->idx++) {
    const struct sockaddr_storage *ss = &s->addrs.addrs[s->idx];
    uint8_t *blob = NULL;
    size_t blen = 0;
    const quic_ticket_store *ts = &pool->p.tickets;
    if (ts->load && !ts->load(ts->ud, s->host, s->port, s->privacy, &blob, &blen)) {
      blob = NULL;
      blen = 0;
    }
    quic_conn_params cp = {
        .runner = pool->p.runner,
        .clock = pool->p.clock,
        .netlog = pool->p.netlog,
        .tls = pool->p.tls,
        .host = s->host,
        .port = s->port,
        .peer = (const struct sockaddr *)ss,
        .peer_len =
            ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in),
        .handshake_timeout_ms = pool->p.handshake_timeout_ms,
        .idle_timeout_ms = pool->p.idle_timeout_ms,
        .initial_rtt_us = pool->p.initial_rtt_us
                              ? pool->p.initial_rtt_us(pool->p.initial_rtt_ud, s->host, s->port)
                              : 0,
        .ticket = blob,
        .ticket_len = blen,
        .cbs = {on_handshake, on_confirmed, on_ticket, on_unusable},
        .ud = s,
    };
    int rv = quic_conn_new(&cp, &s->conn);
    free(blob);
    if (rv == CRONC_OK) {
      /* 0-RTT: streams go now and requests as early data, unless another
       * address is left to try should this one refuse (the fallback needs
       * the streams not handed out yet). */
      bool must_confirm =
          pool->p.require_confirmation &&
          pool->p.require_confirmation(pool->p.require_confirmation_ud, s->dest_host, s->dest_port);
      if (!must_confirm && quic_conn_is_usable(s->conn) && s->idx + 1 >= s->addrs.count)
        hand_out(s);
      return CRONC_OK;
    }
    s->conn = NULL;
    if (s->idx + 1 >= s->addrs.count)
      return rv;
  }
  return CRONC_ERR_NAME_NOT_RESOLVED;
}

static void on_resolved(int result, dns_address_list *addrs, void *ud) {
  pool_session *s = ud;
  s->dns = NULL;
  if (result == CRONC_OK) {
    s->addrs = *addrs;
    addrs->addrs = NULL;
    addrs->count = 0;
    result = start_connect(s);
  }
  if (result != CRONC_OK) {
    observe(s, result, 0);
    fail_waiting(s, result);
    session_free(s);
  }
}

static bool host_eq(const char *a, const char *b) { return strcmp(a, b) == 0; }

static pool_session *find_usable(quic_pool *pool, const char *host, uint16_t port, bool privacy,
                                 const char *dest_host, uint16_t dest_port) {
  for (pool_session *s = pool->sessions; s; s = s->next)
    if (s->active && s->conn && quic_conn_is_usable(s->conn) && s->privacy == privacy &&
        s->port == port && host_eq(s->host, host))
      return s;
  if (!dest_host)
    return NULL;
  for (pool_session *s = pool->sessions; s; s = s->next)
    if (s->active && s->conn && quic_conn_is_usable(s->conn) && s->privacy == privacy &&
        s->dest_port == dest_port && host_eq(s->dest_host, dest_host) &&
        quic_conn_cert_covers(s->conn, host))
      return s;
  return NULL;
}

/* ---- public --------------------------------------------------------------------------- */

int quic_pool_request_stream(quic_pool *pool, const http_request_info *req, bool privacy_mode,
                             const char *dest_host, uint16_t dest_port, http_stream_ready_cb cb,
                             void *ud, quic_pool_request **out) {
  if (!pool || !req || !req->url || !req->url->host || !dest_host || !cb || !out)
    return CRONC_ERR_INVALID_ARGUMENT;
  *out = NULL;
  const char *host = req->url->host;
  uint16_t port = req->url->port;
  if (strlen(host) > URL_MAX_HOST || strlen(dest_host) > URL_MAX_HOST)
    return CRONC_ERR_INVALID_ARGUMENT;
  quic_pool_request *r = calloc(1, sizeof *r);
  if (!r)
    return CRONC_ERR_OUT_OF_MEMORY;
  r->pool = pool;
  r->req = req;
  r->cb = cb;
  r->ud = ud;
  pool_session *s = find_usable(pool, host, port, privacy_mode, dest_host, dest_port);
  if (s) {
    http_stream *st = quic_conn_new_stream(s->conn);
    if (!st) {
      free(r);
      return CRONC_ERR_OUT_OF_MEMORY;
    }
    netlog_add_source_dependency(pool->p.netlog, req->source,
                                 NETLOG_TYPE_QUIC_SESSION_POOL_USE_EXISTING_SESSION,
                                 quic_conn_source(s->conn));
    complete(r, CRONC_OK, st);
    *out = r;
    return CRONC_ERR_IO_PENDING;
  }
  for (s = pool->sessions; s; s = s->next)
    if (s->connecting && s->privacy == privacy_mode && s->port == port && host_eq(s->host, host))
      break;
  if (!s) {
    s = calloc(1, sizeof *s);
    if (!s) {
      free(r);
      return CRONC_ERR_OUT_OF_MEMORY;
    }
    s->pool = pool;
    strcpy(s->host, host);
    s->port = port;
    s->privacy = privacy_mode;
    strcpy(s->dest_host, dest_host);
    s->dest_port = dest_port;
    strcpy(s->connect_host, dest_host);
    s->connect_port = dest_port;
    s->connecting = true;
    s->next = pool->sessions;
    pool->sessions = s;
    int rv = CRONC_OK;
    /* Host mapping rules change where we connect, never whom we talk to. */
    if (dns_host_mapping_rules_rewrite(pool->p.rules, dest_host, strlen(dest_host), dest_port,
                                       s->connect_host, sizeof s->connect_host,
                                       &s->connect_port) == DNS_MAPPING_INVALID)
      rv = CRONC_ERR_NAME_NOT_RESOLVED;
    dns_address_list res = {0};
    if (rv == CRONC_OK)
      rv = dns_resolve(pool->p.resolver, s->connect_host, strlen(s->connect_host), s->connect_port,
                       DNS_FAMILY_UNSPEC, req->source, on_resolved, s, &res, &s->dns);
    if (rv == CRONC_OK) {
      s->addrs = res;
      rv = start_connect(s);
    }
    if (rv != CRONC_OK && rv != CRONC_ERR_IO_PENDING) {
      session_free(s);
      free(r);
      return rv;
    }
  }
  if (!s->connecting) {
    /* 0-RTT made it usable within start_connect. */
    http_stream *st = quic_conn_new_stream(s->conn);
    complete(r, st ? CRONC_OK : CRONC_ERR_CONNECTION_CLOSED, st);
  } else {
    r->sess = s;
    r->next = s->waiting;
    s->waiting = r;
  }
  *out = r;
  return CRONC_ERR_IO_PENDING;
}

void quic_pool_cancel(quic_pool_request *r) {
  if (!r)
    return;
  if (r->posted) {
    r->cancelled = true; /* the task frees it (and closes a stream) */
    return;
  }
  if (r->sess) {
    for (quic_pool_request **pp = &r->sess->waiting; *pp; pp = &(*pp)->next)
      if (*pp == r) {
        *pp = r->next;
        break;
      }
  }
  free(r);
}

bool quic_pool_can_use_existing_session(quic_pool *pool, const char *host, uint16_t port,
                                        bool privacy_mode, const char *dest_host,
                                        uint16_t dest_port) {
  return find_usable(pool, host, port, privacy_mode, dest_host, dest_port) != NULL;
}

static int factory_request(http_stream_factory *f, const http_request_info *req,
                           http_stream_request_report *report, http_stream_ready_cb cb, void *ud,
                           http_stream_request **out) {
  quic_pool *pool = ((pool_factory *)f)->pool;
  if (report)
    memset(report, 0, sizeof *report);
  if (!req || !req->url)
    return CRONC_ERR_INVALID_ARGUMENT;
  return quic_pool_request_stream(pool, req, false, req->url->host, req->url->port, cb, ud,
                                  (quic_pool_request **)out);
}

static void factory_cancel(http_stream_factory *f, http_stream_request *r) {
  (void)f;
  quic_pool_cancel((quic_pool_request *)r);
}

static const http_stream_factory_vtable factory_vt = {factory_request, factory_cancel};

int quic_pool_new(const quic_pool_params *p, quic_pool **out) {
  if (!p || !out || !p->runner || !p->tls || !p->resolver)
    return CRONC_ERR_INVALID_ARGUMENT;
  quic_pool *pool = calloc(1, sizeof *pool);
  if (!pool)
    return CRONC_ERR_OUT_OF_MEMORY;
  pool->p = *p;
  pool->factory.base.vt = &factory_vt;
  pool->factory.pool = pool;
  *out = pool;
  return CRONC_OK;
}

void quic_pool_free(quic_pool *pool) {
  if (!pool)
    return;
  while (pool->sessions) {
    pool_session *s = pool->sessions;
    while (s->waiting) {
      quic_pool_request *r = s->waiting;
      s->waiting = r->next;
      free(r);
    }
    session_free(s);
  }
  for (quic_pool_request *r = pool->done; r; r = r->next) {
    r->cancelled = true;
    r->pool = NULL;
  }
  free(pool);
}

http_stream_factory *quic_pool_stream_factory(quic_pool *pool) { return &pool->factory.base; }

size_t quic_pool_session_count(const quic_pool *pool) {
  size_t n = 0;
  for (pool_session *s = pool->sessions; s; s = s->next)
    if (s->active)
      n++;
  return n;
}

size_t quic_pool_connections_established(const quic_pool *pool) { return pool->established; }
