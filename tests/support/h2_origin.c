/* tests/support/h2_origin: see h2_origin.h. */
#include "support/h2_origin.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <netinet/in.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "support/net_test_util.h"

#define ORIGIN_MAX_CONNS  64
#define ORIGIN_IO_TIMEOUT 5000 /* ms: handshake, a blocked write */
#define ORIGIN_LINGER_MS  2000 /* ms: reading after our FIN before giving up */
#define ORIGIN_MAX_PATH   256

typedef struct ostream {
  struct ostream *next;
  int32_t id;
  char path[ORIGIN_MAX_PATH];
  size_t body_len, sent;
  uint32_t error_code;
  bool answered;  /* the request was complete and acted upon */
  bool held;      /* never answered */
  bool rst_after; /* RST once body_len bytes are out */
  bool want_rst, rst_sent;
  /* An ALTSVC frame to send before the action (see conn_flush). */
  const h2_origin_altsvc *altsvc;
  h2_origin_action pending_action;
} ostream;

typedef struct oconn {
  struct oconn *next;
  h2_origin *o;
  int fd;
  unsigned index;
  gnutls_session_t tls;
  nghttp2_session *ng;
  ostream *streams;
  unsigned requests;
  bool fault;         /* the connection-level fault is armed here */
  bool close_pending; /* the fault fired: close when its condition holds */
  bool lingering;     /* FIN sent: discard input until EOF or the deadline */
  bool dead;          /* to be freed by the loop */
  uint64_t linger_deadline;
} oconn;

typedef struct path_count {
  char path[ORIGIN_MAX_PATH];
  unsigned n;
} path_count;

struct h2_origin {
  h2_origin_options opt;
  h2_origin_rule *rules;    /* copies, paths strdup'd */
  h2_origin_altsvc *altsvc; /* copies, strings strdup'd */
  unsigned *rule_hits;
  char dir[256];
  char ca_path[300];
  gnutls_certificate_credentials_t cred;
  int listen_fd;
  int wake[2];
  uint16_t port;
  pthread_t thread;
  bool thread_started;
  oconn *conns; /* server thread only */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  unsigned accepted, closed, total_requests;
  unsigned per_conn[ORIGIN_MAX_CONNS];
  path_count *paths;
  size_t n_paths, cap_paths;
};

static const unsigned char k_alpn_h2[] = "h2";

void h2_origin_options_init(h2_origin_options *o) {
  memset(o, 0, sizeof *o);
  o->cert = H2_ORIGIN_CERT_VALID;
  o->default_body_len = 16;
  o->fault = H2_ORIGIN_FAULT_NONE;
  o->fault_after_requests = 1;
  o->fault_connections = 1;
}

void h2_origin_body(uint8_t *out, size_t off, size_t len) {
  for (size_t i = 0; i < len; i++)
    out[i] = (uint8_t)((off + i) % 251u);
}

/* ---- Certificates --------------------------------------------------------------- */

static int make_cert(gnutls_x509_crt_t *crt, gnutls_x509_privkey_t *key, const char *cn, bool ca,
                     gnutls_x509_crt_t issuer, gnutls_x509_privkey_t issuer_key, time_t from,
                     time_t to, unsigned serial) {
  *crt = NULL;
  *key = NULL;
  if (gnutls_x509_privkey_init(key) < 0 ||
      gnutls_x509_privkey_generate(*key, GNUTLS_PK_ECDSA,
                                   GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) < 0 ||
      gnutls_x509_crt_init(crt) < 0)
    return -1;
  unsigned char sn[4] = {0x01, 0x02, (unsigned char)(serial >> 8), (unsigned char)serial};
  int rc = 0;
  rc |= gnutls_x509_crt_set_version(*crt, 3);
  rc |= gnutls_x509_crt_set_serial(*crt, sn, sizeof sn);
  rc |= gnutls_x509_crt_set_activation_time(*crt, from);
  rc |= gnutls_x509_crt_set_expiration_time(*crt, to);
  rc |= gnutls_x509_crt_set_dn_by_oid(*crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn, strlen(cn));
  rc |= gnutls_x509_crt_set_key(*crt, *key);
  if (ca) {
    rc |= gnutls_x509_crt_set_basic_constraints(*crt, 1, -1);
    rc |= gnutls_x509_crt_set_key_usage(*crt, GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN);
  } else {
    rc |= gnutls_x509_crt_set_basic_constraints(*crt, 0, -1);
    rc |= gnutls_x509_crt_set_subject_alt_name(*crt, GNUTLS_SAN_DNSNAME, cn, strlen(cn),
                                               GNUTLS_FSAN_SET);
    rc |= gnutls_x509_crt_set_key_purpose_oid(*crt, GNUTLS_KP_TLS_WWW_SERVER, 0);
    rc |= gnutls_x509_crt_set_key_usage(*crt, GNUTLS_KEY_DIGITAL_SIGNATURE);
  }
  if (rc < 0)
    return -1;
  return gnutls_x509_crt_sign2(*crt, issuer ? issuer : *crt, issuer_key ? issuer_key : *key,
                               GNUTLS_DIG_SHA256, 0) < 0
             ? -1
             : 0;
}

/* A fresh CA (PEM written to o->ca_path) and a leaf as o->opt.cert says. */
static int make_credentials(h2_origin *o) {
  time_t now = time(NULL);
  time_t from = now - 3600, to = now + 86400;
  const char *name = "localhost";
  if (o->opt.cert == H2_ORIGIN_CERT_EXPIRED) {
    from = now - 86400 * 10;
    to = now - 86400;
  } else if (o->opt.cert == H2_ORIGIN_CERT_WRONG_NAME) {
    name = "wrong.example";
  }
  gnutls_x509_crt_t ca = NULL, leaf = NULL;
  gnutls_x509_privkey_t ca_key = NULL, leaf_key = NULL;
  int rc = -1;
  if (make_cert(&ca, &ca_key, "cronc h2_origin CA", true, NULL, NULL, now - 86400 * 30,
                now + 86400 * 30, 1) != 0 ||
      make_cert(&leaf, &leaf_key, name, false, ca, ca_key, from, to, 2) != 0)
    goto out;
  gnutls_datum_t pem = {NULL, 0};
  if (gnutls_x509_crt_export2(ca, GNUTLS_X509_FMT_PEM, &pem) < 0)
    goto out;
  snprintf(o->ca_path, sizeof o->ca_path, "%s/ca.pem", o->dir);
  int w = test_write_file(o->ca_path, pem.data, pem.size);
  gnutls_free(pem.data);
  if (w != 0 || gnutls_certificate_allocate_credentials(&o->cred) < 0)
    goto out;
  gnutls_x509_crt_t chain[2] = {leaf, ca};
  if (gnutls_certificate_set_x509_key(o->cred, chain, 2, leaf_key) < 0)
    goto out;
  rc = 0;
out:
  if (ca)
    gnutls_x509_crt_deinit(ca);
  if (leaf)
    gnutls_x509_crt_deinit(leaf);
  if (ca_key)
    gnutls_x509_privkey_deinit(ca_key);
  if (leaf_key)
    gnutls_x509_privkey_deinit(leaf_key);
  return rc;
}

/* ---- Counters (shared with the test thread) --------------------------------------- */

static void count_request(h2_origin *o, oconn *c, const char *path) {
  pthread_mutex_lock(&o->mu);
  o->total_requests++;
  if (c->index < ORIGIN_MAX_CONNS)
    o->per_conn[c->index]++;
  size_t i = 0;
  while (i < o->n_paths && strcmp(o->paths[i].path, path) != 0)
    i++;
  if (i == o->n_paths) {
    if (o->n_paths == o->cap_paths) {
      size_t cap = o->cap_paths ? o->cap_paths * 2 : 16;
      path_count *p = realloc(o->paths, cap * sizeof *p);
      if (!p)
        goto out;
      o->paths = p;
      o->cap_paths = cap;
    }
    snprintf(o->paths[i].path, sizeof o->paths[i].path, "%s", path);
    o->paths[i].n = 0;
    o->n_paths++;
  }
  o->paths[i].n++;
out:
  pthread_cond_broadcast(&o->cv);
  pthread_mutex_unlock(&o->mu);
}

/* ---- Connections ------------------------------------------------------------------ */

static int tls_write_all(oconn *c, const uint8_t *p, size_t n) {
  while (n) {
    ssize_t w = gnutls_record_send(c->tls, p, n);
    if (w == GNUTLS_E_AGAIN || w == GNUTLS_E_INTERRUPTED) {
      struct pollfd pfd = {c->fd, POLLOUT, 0};
      if (poll(&pfd, 1, ORIGIN_IO_TIMEOUT) <= 0)
        return -1;
      continue;
    }
    if (w < 0)
      return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static ssize_t body_read(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
                         nghttp2_data_source *src, void *ud) {
  (void)ng;
  (void)id;
  (void)ud;
  ostream *st = src->ptr;
  if (st->rst_after && st->sent == st->body_len) {
    st->want_rst = true; /* submitted by the loop once this DATA is out */
    return NGHTTP2_ERR_DEFERRED;
  }
  size_t left = st->body_len - st->sent;
  size_t n = left < len ? left : len;
  h2_origin_body(buf, st->sent, n);
  st->sent += n;
  if (!st->rst_after && st->sent == st->body_len)
    *flags |= NGHTTP2_DATA_FLAG_EOF;
  return (ssize_t)n;
}

#define NV(n, v, vl)                                                                               \
  { (uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, (vl), NGHTTP2_NV_FLAG_NONE }

static void submit_response(oconn *c, ostream *st, bool with_length) {
  char len[32];
  int ll = snprintf(len, sizeof len, "%zu", st->body_len);
  nghttp2_nv hdrs[] = {
      NV(":status", "200", 3),
      NV("content-type", "application/octet-stream", 24),
      NV("content-length", len, (size_t)ll),
  };
  nghttp2_data_provider prd = {.source.ptr = st, .read_callback = body_read};
  nghttp2_submit_response(c->ng, st->id, hdrs, with_length ? 3 : 2, &prd);
}

static const h2_origin_rule *match_rule(h2_origin *o, const char *path, bool *use_action) {
  for (size_t i = 0; i < o->opt.n_rules; i++) {
    const h2_origin_rule *r = &o->rules[i];
    if (r->path && strcmp(r->path, path) != 0)
      continue;
    o->rule_hits[i]++;
    *use_action = r->times == 0 || o->rule_hits[i] <= r->times;
    return r;
  }
  return NULL;
}

static void apply_action(oconn *c, ostream *st, h2_origin_action action) {
  switch (action) {
  case H2_ORIGIN_RESPOND:
    submit_response(c, st, true);
    break;
  case H2_ORIGIN_RST_BEFORE_HEADERS:
    nghttp2_submit_rst_stream(c->ng, NGHTTP2_FLAG_NONE, st->id, st->error_code);
    break;
  case H2_ORIGIN_RST_AFTER_BODY:
    st->rst_after = true;
    submit_response(c, st, false);
    break;
  case H2_ORIGIN_HOLD:
    st->held = true;
    break;
  }
}

static const h2_origin_altsvc *match_altsvc(h2_origin *o, const char *path) {
  for (size_t i = 0; i < o->opt.n_altsvc; i++)
    if (!o->altsvc[i].path || strcmp(o->altsvc[i].path, path) == 0)
      return &o->altsvc[i];
  return NULL;
}

/* A complete request: count it, then answer it as scripted. */
static void on_request(oconn *c, ostream *st) {
  h2_origin *o = c->o;
  st->answered = true;
  c->requests++;
  count_request(o, c, st->path);
  bool fault_now = c->fault && c->requests == o->opt.fault_after_requests;
  if (c->fault && o->opt.fault == H2_ORIGIN_FAULT_CLOSE_ON_REQUEST && fault_now) {
    c->close_pending = true;
    return;
  }
  bool use_action = false;
  const h2_origin_rule *r = match_rule(o, st->path, &use_action);
  h2_origin_action action = r && use_action ? r->action : H2_ORIGIN_RESPOND;
  st->body_len = r ? r->body_len : o->opt.default_body_len;
  st->error_code = r ? r->error_code : 0;
  if (c->fault && o->opt.fault == H2_ORIGIN_FAULT_GOAWAY && !c->close_pending &&
      st->id > o->opt.goaway_last_stream_id)
    action = H2_ORIGIN_HOLD; /* left unprocessed by the coming GOAWAY */
  const h2_origin_altsvc *as = match_altsvc(o, st->path);
  if (as) {
    /* The frame must reach the client before the response ends the
     * stream: the action waits in conn_flush until the frame is out. */
    st->altsvc = as;
    st->pending_action = action;
  } else {
    apply_action(c, st, action);
  }
  if (fault_now && o->opt.fault == H2_ORIGIN_FAULT_GOAWAY) {
    nghttp2_submit_goaway(c->ng, NGHTTP2_FLAG_NONE, o->opt.goaway_last_stream_id,
                          o->opt.goaway_error_code, NULL, 0);
    c->close_pending = true;
  } else if (fault_now && o->opt.fault == H2_ORIGIN_FAULT_CLOSE_AFTER_ANSWER) {
    c->close_pending = true;
  }
}

static int cb_begin_headers(nghttp2_session *ng, const nghttp2_frame *f, void *ud) {
  if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
    return 0;
  oconn *c = ud;
  ostream *st = calloc(1, sizeof *st);
  if (!st)
    return NGHTTP2_ERR_CALLBACK_FAILURE;
  st->id = f->hd.stream_id;
  st->next = c->streams;
  c->streams = st;
  nghttp2_session_set_stream_user_data(ng, st->id, st);
  return 0;
}

static int cb_header(nghttp2_session *ng, const nghttp2_frame *f, const uint8_t *name,
                     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
                     void *ud) {
  (void)flags;
  (void)ud;
  if (f->hd.type != NGHTTP2_HEADERS)
    return 0;
  ostream *st = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);
  if (st && namelen == 5 && memcmp(name, ":path", 5) == 0) {
    size_t n = valuelen < ORIGIN_MAX_PATH - 1 ? valuelen : ORIGIN_MAX_PATH - 1;
    memcpy(st->path, value, n);
    st->path[n] = '\0';
  }
  return 0;
}

static int cb_frame_recv(nghttp2_session *ng, const nghttp2_frame *f, void *ud) {
  if ((f->hd.type != NGHTTP2_HEADERS && f->hd.type != NGHTTP2_DATA) ||
      !(f->hd.flags & NGHTTP2_FLAG_END_STREAM))
    return 0;
  ostream *st = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);
  if (st && !st->answered)
    on_request(ud, st);
  return 0;
}

static int cb_stream_close(nghttp2_session *ng, int32_t id, uint32_t code, void *ud) {
  (void)ng;
  (void)code;
  oconn *c = ud;
  for (ostream **pp = &c->streams; *pp; pp = &(*pp)->next) {
    if ((*pp)->id == id) {
      ostream *st = *pp;
      *pp = st->next;
      free(st);
      break;
    }
  }
  return 0;
}

static void conn_mark_dead(oconn *c) { c->dead = true; }

/* The fault's close: RST, or FIN then a lingering read so that the client
 * reads what was sent before it sees the close (closing with unread input
 * would make the kernel send RST and could destroy the GOAWAY in flight). */
static void conn_shutdown(oconn *c) {
  c->close_pending = false;
  if (c->o->opt.close_with_reset) {
    struct linger l = {1, 0};
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    conn_mark_dead(c);
    return;
  }
  shutdown(c->fd, SHUT_WR);
  c->lingering = true;
  c->linger_deadline = test_now_ms() + ORIGIN_LINGER_MS;
}

static bool close_condition(oconn *c) {
  h2_origin *o = c->o;
  switch (o->opt.fault) {
  case H2_ORIGIN_FAULT_GOAWAY:
    for (ostream *st = c->streams; st; st = st->next)
      if (st->id <= o->opt.goaway_last_stream_id && !st->held)
        return false;
    return true;
  case H2_ORIGIN_FAULT_CLOSE_AFTER_ANSWER:
    for (ostream *st = c->streams; st; st = st->next)
      if (!st->held)
        return false;
    return true;
  case H2_ORIGIN_FAULT_CLOSE_ON_REQUEST:
    return true;
  default:
    return false;
  }
}

/* A raw ALTSVC frame (for the forms nghttp2 will not send). */
static int write_raw_altsvc(oconn *c, int32_t stream_id, const h2_origin_altsvc *r) {
  size_t olen = r->origin ? strlen(r->origin) : 0;
  size_t vlen = strlen(r->value);
  size_t plen = 2 + olen + vlen;
  uint8_t *f = malloc(9 + plen);
  if (!f)
    return -1;
  f[0] = (uint8_t)(plen >> 16);
  f[1] = (uint8_t)(plen >> 8);
  f[2] = (uint8_t)plen;
  f[3] = NGHTTP2_ALTSVC;
  f[4] = 0;
  f[5] = (uint8_t)((uint32_t)stream_id >> 24 & 0x7f);
  f[6] = (uint8_t)(stream_id >> 16);
  f[7] = (uint8_t)(stream_id >> 8);
  f[8] = (uint8_t)stream_id;
  size_t claimed = r->malformed ? plen : olen; /* past the payload's end */
  f[9] = (uint8_t)(claimed >> 8);
  f[10] = (uint8_t)claimed;
  if (olen)
    memcpy(f + 11, r->origin, olen);
  memcpy(f + 11 + olen, r->value, vlen);
  int rc = tls_write_all(c, f, 9 + plen);
  free(f);
  return rc;
}

/* Sends a stream's ALTSVC frame (everything nghttp2 queued before it is
 * already out), then submits the action it held back. */
static int send_altsvc(oconn *c, ostream *st) {
  const h2_origin_altsvc *r = st->altsvc;
  st->altsvc = NULL;
  int32_t sid = r->stream_zero ? 0 : st->id;
  const char *origin = r->origin ? r->origin : "";
  int rc = r->malformed
               ? -1
               : nghttp2_submit_altsvc(c->ng, NGHTTP2_FLAG_NONE, sid, (const uint8_t *)origin,
                                       strlen(origin), (const uint8_t *)r->value, strlen(r->value));
  if (rc != 0) {
    /* Refused by nghttp2 (or malformed on purpose): written raw. */
    if (write_raw_altsvc(c, sid, r) != 0)
      return -1;
    apply_action(c, st, st->pending_action);
    return 0;
  }
  /* Queued: out before the action's frames. */
  const uint8_t *data;
  ssize_t n;
  while ((n = nghttp2_session_mem_send(c->ng, &data)) > 0)
    if (tls_write_all(c, data, (size_t)n) != 0)
      return -1;
  if (n < 0)
    return -1;
  apply_action(c, st, st->pending_action);
  return 0;
}

/* Writes everything nghttp2 has to send, submitting the pending RSTs after
 * the DATA they follow and the held-back actions after their ALTSVC frames;
 * then applies a pending close. */
static void conn_flush(oconn *c) {
  if (c->dead || c->lingering)
    return;
  for (;;) {
    const uint8_t *data;
    ssize_t n;
    while ((n = nghttp2_session_mem_send(c->ng, &data)) > 0) {
      if (tls_write_all(c, data, (size_t)n) != 0) {
        conn_mark_dead(c);
        return;
      }
    }
    if (n < 0) {
      conn_mark_dead(c);
      return;
    }
    bool more = false;
    for (ostream *st = c->streams; st; st = st->next) {
      if (st->altsvc) {
        if (send_altsvc(c, st) != 0) {
          conn_mark_dead(c);
          return;
        }
        more = true;
      }
      if (st->want_rst && !st->rst_sent) {
        st->rst_sent = true;
        nghttp2_submit_rst_stream(c->ng, NGHTTP2_FLAG_NONE, st->id, st->error_code);
        more = true;
      }
    }
    if (!more)
      break;
  }
  if (c->close_pending && close_condition(c))
    conn_shutdown(c);
  else if (!nghttp2_session_want_read(c->ng) && !nghttp2_session_want_write(c->ng))
    conn_mark_dead(c);
}

static void conn_on_readable(oconn *c) {
  uint8_t buf[16384];
  if (c->lingering) {
    ssize_t r = recv(c->fd, buf, sizeof buf, MSG_DONTWAIT);
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
      conn_mark_dead(c);
    return;
  }
  for (;;) {
    ssize_t r = gnutls_record_recv(c->tls, buf, sizeof buf);
    if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
      break;
    if (r <= 0) {
      conn_mark_dead(c);
      return;
    }
    if (nghttp2_session_mem_recv(c->ng, buf, (size_t)r) < 0) {
      conn_mark_dead(c);
      return;
    }
    if (c->close_pending)
      break; /* the fault fired: stop reading, flush and close */
  }
  conn_flush(c);
}

static void conn_free(h2_origin *o, oconn *c) {
  if (c->ng)
    nghttp2_session_del(c->ng); /* no callback touches the streams from here */
  while (c->streams) {
    ostream *st = c->streams;
    c->streams = st->next;
    free(st);
  }
  if (c->tls)
    gnutls_deinit(c->tls);
  close(c->fd);
  free(c);
  pthread_mutex_lock(&o->mu);
  o->closed++;
  pthread_cond_broadcast(&o->cv);
  pthread_mutex_unlock(&o->mu);
}

static void conn_accept(h2_origin *o) {
  int fd = accept4(o->listen_fd, NULL, NULL, SOCK_CLOEXEC);
  if (fd < 0)
    return;
  oconn *c = calloc(1, sizeof *c);
  if (!c) {
    close(fd);
    return;
  }
  c->o = o;
  c->fd = fd;
  pthread_mutex_lock(&o->mu);
  c->index = o->accepted++;
  pthread_cond_broadcast(&o->cv);
  pthread_mutex_unlock(&o->mu);
  unsigned nfault = o->opt.fault_connections ? o->opt.fault_connections : 1;
  c->fault = o->opt.fault != H2_ORIGIN_FAULT_NONE && c->index < nfault;

  /* A blocking handshake (bounded): clients here handshake at once. */
  struct timeval tv = {ORIGIN_IO_TIMEOUT / 1000, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  gnutls_datum_t alpn = {(unsigned char *)k_alpn_h2, 2};
  int rc;
  if (gnutls_init(&c->tls, GNUTLS_SERVER) < 0) {
    c->tls = NULL;
    goto fail;
  }
  gnutls_set_default_priority(c->tls);
  gnutls_credentials_set(c->tls, GNUTLS_CRD_CERTIFICATE, o->cred);
  gnutls_alpn_set_protocols(c->tls, &alpn, 1, GNUTLS_ALPN_SERVER_PRECEDENCE);
  gnutls_transport_set_int(c->tls, fd);
  gnutls_handshake_set_timeout(c->tls, ORIGIN_IO_TIMEOUT);
  do {
    rc = gnutls_handshake(c->tls);
  } while (rc < 0 && !gnutls_error_is_fatal(rc));
  if (rc < 0)
    goto fail; /* e.g. the client refused our certificate */
  gnutls_datum_t sel = {NULL, 0};
  if (gnutls_alpn_get_selected_protocol(c->tls, &sel) < 0 || sel.size != 2 ||
      memcmp(sel.data, "h2", 2) != 0)
    goto fail;
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);

  nghttp2_session_callbacks *cbs;
  if (nghttp2_session_callbacks_new(&cbs) != 0)
    goto fail;
  nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, cb_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(cbs, cb_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, cb_frame_recv);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, cb_stream_close);
  rc = nghttp2_session_server_new(&c->ng, cbs, c);
  nghttp2_session_callbacks_del(cbs);
  if (rc != 0) {
    c->ng = NULL;
    goto fail;
  }
  nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100}};
  nghttp2_submit_settings(c->ng, NGHTTP2_FLAG_NONE, iv, 1);
  c->next = o->conns;
  o->conns = c;
  conn_flush(c);
  return;
fail:
  conn_free(o, c);
}

static void *origin_main(void *arg) {
  h2_origin *o = arg;
  for (;;) {
    struct pollfd pfd[2 + ORIGIN_MAX_CONNS];
    oconn *who[2 + ORIGIN_MAX_CONNS];
    nfds_t n = 0;
    pfd[n] = (struct pollfd){o->wake[0], POLLIN, 0};
    who[n++] = NULL;
    pfd[n] = (struct pollfd){o->listen_fd, POLLIN, 0};
    who[n++] = NULL;
    for (oconn *c = o->conns; c && n < 2 + ORIGIN_MAX_CONNS; c = c->next) {
      pfd[n] = (struct pollfd){c->fd, POLLIN, 0};
      who[n++] = c;
    }
    /* A short timeout only to end lingering closes; events wake us at once. */
    int rc = poll(pfd, n, 100);
    if (rc < 0 && errno != EINTR)
      break;
    if (pfd[0].revents)
      break; /* stop */
    for (nfds_t i = 2; i < n; i++)
      if (pfd[i].revents)
        conn_on_readable(who[i]);
    uint64_t now = test_now_ms();
    for (oconn **pp = &o->conns; *pp;) {
      oconn *c = *pp;
      if (c->lingering && now >= c->linger_deadline)
        c->dead = true;
      if (c->dead) {
        *pp = c->next;
        conn_free(o, c);
      } else {
        pp = &c->next;
      }
    }
    if (pfd[1].revents & POLLIN)
      conn_accept(o);
  }
  while (o->conns) {
    oconn *c = o->conns;
    o->conns = c->next;
    conn_free(o, c);
  }
  return NULL;
}

/* ---- Lifetime and getters ---------------------------------------------------------- */

h2_origin *h2_origin_start(const h2_origin_options *opt) {
  h2_origin *o = calloc(1, sizeof *o);
  if (!o)
    return NULL;
  o->opt = *opt;
  o->listen_fd = -1;
  o->wake[0] = o->wake[1] = -1;
  pthread_mutex_init(&o->mu, NULL);
  pthread_cond_init(&o->cv, NULL);
  if (opt->n_rules) {
    o->rules = calloc(opt->n_rules, sizeof *o->rules);
    o->rule_hits = calloc(opt->n_rules, sizeof *o->rule_hits);
    if (!o->rules || !o->rule_hits)
      goto fail;
    for (size_t i = 0; i < opt->n_rules; i++) {
      o->rules[i] = opt->rules[i];
      if (opt->rules[i].path && !(o->rules[i].path = strdup(opt->rules[i].path)))
        goto fail;
    }
  }
  o->opt.rules = o->rules;
  if (opt->n_altsvc) {
    o->altsvc = calloc(opt->n_altsvc, sizeof *o->altsvc);
    if (!o->altsvc)
      goto fail;
    for (size_t i = 0; i < opt->n_altsvc; i++) {
      const h2_origin_altsvc *a = &opt->altsvc[i];
      h2_origin_altsvc *b = &o->altsvc[i];
      b->stream_zero = a->stream_zero;
      b->malformed = a->malformed;
      if ((a->path && !(b->path = strdup(a->path))) ||
          !(b->value = strdup(a->value ? a->value : "")) ||
          (a->origin && !(b->origin = strdup(a->origin))))
        goto fail;
    }
  }
  o->opt.altsvc = o->altsvc;
  if (!test_make_temp_dir("cronc-h2origin", o->dir, sizeof o->dir)) {
    o->dir[0] = '\0';
    goto fail;
  }
  if (make_credentials(o) != 0) {
    fprintf(stderr, "h2_origin: cannot make certificates\n");
    goto fail;
  }
  if (pipe2(o->wake, O_CLOEXEC) != 0)
    goto fail;
  o->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_storage ss;
  test_sockaddr(&ss, "127.0.0.1", 0);
  socklen_t len = sizeof(struct sockaddr_in);
  if (o->listen_fd < 0 || bind(o->listen_fd, (struct sockaddr *)&ss, len) != 0 ||
      listen(o->listen_fd, 64) != 0 ||
      getsockname(o->listen_fd, (struct sockaddr *)&ss, &len) != 0) {
    fprintf(stderr, "h2_origin: cannot listen: %s\n", strerror(errno));
    goto fail;
  }
  o->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
  if (pthread_create(&o->thread, NULL, origin_main, o) != 0)
    goto fail;
  o->thread_started = true;
  return o;
fail:
  h2_origin_stop(o);
  return NULL;
}

uint16_t h2_origin_port(const h2_origin *s) { return s->port; }
const char *h2_origin_ca_file(const h2_origin *s) { return s->ca_path; }

void h2_origin_stop(h2_origin *o) {
  if (!o)
    return;
  if (o->thread_started) {
    ssize_t w;
    do {
      w = write(o->wake[1], "x", 1);
    } while (w < 0 && errno == EINTR);
    pthread_join(o->thread, NULL);
  }
  if (o->listen_fd >= 0)
    close(o->listen_fd);
  for (int i = 0; i < 2; i++)
    if (o->wake[i] >= 0)
      close(o->wake[i]);
  if (o->cred)
    gnutls_certificate_free_credentials(o->cred);
  if (o->dir[0])
    test_remove_tree(o->dir);
  if (o->rules)
    for (size_t i = 0; i < o->opt.n_rules; i++)
      free((char *)o->rules[i].path);
  if (o->altsvc)
    for (size_t i = 0; i < o->opt.n_altsvc; i++) {
      free((char *)o->altsvc[i].path);
      free((char *)o->altsvc[i].value);
      free((char *)o->altsvc[i].origin);
    }
  free(o->altsvc);
  free(o->rules);
  free(o->rule_hits);
  free(o->paths);
  pthread_cond_destroy(&o->cv);
  pthread_mutex_destroy(&o->mu);
  free(o);
}

unsigned h2_origin_connections(h2_origin *s) {
  pthread_mutex_lock(&s->mu);
  unsigned n = s->accepted;
  pthread_mutex_unlock(&s->mu);
  return n;
}

unsigned h2_origin_connections_closed(h2_origin *s) {
  pthread_mutex_lock(&s->mu);
  unsigned n = s->closed;
  pthread_mutex_unlock(&s->mu);
  return n;
}

unsigned h2_origin_requests_on(h2_origin *s, unsigned index) {
  if (index >= ORIGIN_MAX_CONNS)
    return 0;
  pthread_mutex_lock(&s->mu);
  unsigned n = s->per_conn[index];
  pthread_mutex_unlock(&s->mu);
  return n;
}

unsigned h2_origin_requests(h2_origin *s) {
  pthread_mutex_lock(&s->mu);
  unsigned n = s->total_requests;
  pthread_mutex_unlock(&s->mu);
  return n;
}

unsigned h2_origin_requests_for(h2_origin *s, const char *path) {
  unsigned n = 0;
  pthread_mutex_lock(&s->mu);
  for (size_t i = 0; i < s->n_paths; i++)
    if (strcmp(s->paths[i].path, path) == 0)
      n = s->paths[i].n;
  pthread_mutex_unlock(&s->mu);
  return n;
}

bool h2_origin_wait_closed(h2_origin *s, unsigned n, unsigned timeout_ms) {
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += timeout_ms / 1000;
  until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
  if (until.tv_nsec >= 1000000000L) {
    until.tv_sec++;
    until.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&s->mu);
  int rc = 0;
  while (s->closed < n && rc == 0)
    rc = pthread_cond_timedwait(&s->cv, &s->mu, &until);
  bool ok = s->closed >= n;
  pthread_mutex_unlock(&s->mu);
  return ok;
}
