#include "support/http_origin.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_ROUTES 64
#define MAX_CONNS  32
#define MAX_LOG    256

typedef struct route {
  char *path, *match_header, *match_value, *headers, *body, *etag;
  size_t body_len;
  int status;
  int64_t cut_after;
  unsigned delay_ms;
} route;

typedef struct conn {
  int fd;
  char buf[16384];
  size_t len;
} conn;

struct http_origin {
  int listen_fd;
  uint16_t port;
  pthread_t thread;
  pthread_mutex_t mu;
  _Atomic bool stop;
  route routes[MAX_ROUTES];
  int n_routes;
  char *log[MAX_LOG]; /* request heads */
  int n_log;
  conn conns[MAX_CONNS];
};

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

static bool str_eq(const char *a, const char *b) {
  return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

void http_origin_route_init(http_origin_route *r, const char *path) {
  memset(r, 0, sizeof *r);
  r->path = path;
  r->status = 200;
  r->cut_after = -1;
}

void http_origin_set(http_origin *o, const http_origin_route *r) {
  pthread_mutex_lock(&o->mu);
  int i = 0;
  for (; i < o->n_routes; i++) {
    route *x = &o->routes[i];
    if (str_eq(x->path, r->path) && str_eq(x->match_header, r->match_header) &&
        str_eq(x->match_value, r->match_value))
      break;
  }
  if (i == o->n_routes) {
    if (o->n_routes == MAX_ROUTES) {
      pthread_mutex_unlock(&o->mu);
      return;
    }
    o->n_routes++;
  } else {
    route *x = &o->routes[i];
    free(x->path);
    free(x->match_header);
    free(x->match_value);
    free(x->headers);
    free(x->body);
    free(x->etag);
  }
  route *x = &o->routes[i];
  x->path = dup_or_null(r->path);
  x->match_header = dup_or_null(r->match_header);
  x->match_value = dup_or_null(r->match_value);
  x->headers = dup_or_null(r->headers);
  x->etag = dup_or_null(r->etag);
  x->body_len = r->body ? (r->body_len ? r->body_len : strlen(r->body)) : 0;
  x->body = malloc(x->body_len + 1);
  if (x->body_len)
    memcpy(x->body, r->body, x->body_len);
  x->status = r->status ? r->status : 200;
  x->cut_after = r->cut_after;
  x->delay_ms = r->delay_ms;
  pthread_mutex_unlock(&o->mu);
}

/* The value of header `name` in a request head (NUL-terminated), into out. */
static bool head_header(const char *head, const char *name, char *out, size_t size) {
  size_t nl = strlen(name);
  const char *p = strstr(head, "\r\n");
  while (p && p[2] != '\r') {
    p += 2;
    const char *eol = strstr(p, "\r\n");
    if (!eol)
      break;
    if ((size_t)(eol - p) > nl && p[nl] == ':' && strncasecmp(p, name, nl) == 0) {
      const char *v = p + nl + 1;
      while (*v == ' ' || *v == '\t')
        v++;
      size_t vl = (size_t)(eol - v);
      if (out && size) {
        if (vl >= size)
          vl = size - 1;
        memcpy(out, v, vl);
        out[vl] = '\0';
      }
      return true;
    }
    p = eol;
  }
  return false;
}

static bool write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return false;
    p += w;
    n -= (size_t)w;
  }
  return true;
}

/* Answers one request head; returns false when the connection must close. */
static bool respond(http_origin *o, int fd, const char *head) {
  char method[16] = "", target[1024] = "";
  sscanf(head, "%15s %1023s", method, target);
  pthread_mutex_lock(&o->mu);
  if (o->n_log < MAX_LOG)
    o->log[o->n_log++] = strdup(head);
  route r = {0};
  bool found = false;
  for (int i = 0; i < o->n_routes && !found; i++) {
    route *x = &o->routes[i];
    if (strcmp(x->path, target) != 0)
      continue;
    if (x->match_header) {
      char v[512];
      bool has = head_header(head, x->match_header, v, sizeof v);
      if (x->match_value ? !(has && strcmp(v, x->match_value) == 0) : has)
        continue;
    }
    r = *x;
    r.headers = dup_or_null(x->headers);
    r.etag = dup_or_null(x->etag);
    r.body = malloc(x->body_len + 1);
    if (x->body_len)
      memcpy(r.body, x->body, x->body_len);
    found = true;
  }
  pthread_mutex_unlock(&o->mu);
  if (!found) {
    const char *nf = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
    return write_all(fd, nf, strlen(nf));
  }
  if (r.delay_ms) {
    struct timespec ts = {r.delay_ms / 1000, (long)(r.delay_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
  }
  char inm[256];
  bool not_modified =
      r.etag && head_header(head, "If-None-Match", inm, sizeof inm) && strcmp(inm, r.etag) == 0;
  bool is_head = strcmp(method, "HEAD") == 0;
  char hdr[8192];
  int n = snprintf(hdr, sizeof hdr, "HTTP/1.1 %d %s\r\n%s%s%s%s", not_modified ? 304 : r.status,
                   not_modified ? "Not Modified" : "OK", r.headers ? r.headers : "",
                   r.etag ? "ETag: " : "", r.etag ? r.etag : "", r.etag ? "\r\n" : "");
  if (!not_modified)
    n += snprintf(hdr + n, sizeof hdr - (size_t)n, "Content-Length: %zu\r\n", r.body_len);
  n += snprintf(hdr + n, sizeof hdr - (size_t)n, "\r\n");
  bool ok = write_all(fd, hdr, (size_t)n);
  if (ok && !not_modified && !is_head) {
    size_t send_len = r.body_len;
    if (r.cut_after >= 0 && (size_t)r.cut_after < send_len) {
      send_len = (size_t)r.cut_after;
      ok = false; /* close after the partial body */
      write_all(fd, r.body, send_len);
    } else {
      ok = write_all(fd, r.body, send_len);
    }
  }
  free(r.headers);
  free(r.etag);
  free(r.body);
  return ok;
}

static void close_conn(conn *c) {
  if (c->fd >= 0)
    close(c->fd);
  c->fd = -1;
  c->len = 0;
}

static void handle_input(http_origin *o, conn *c) {
  ssize_t r = recv(c->fd, c->buf + c->len, sizeof c->buf - 1 - c->len, 0);
  if (r <= 0) {
    close_conn(c);
    return;
  }
  c->len += (size_t)r;
  c->buf[c->len] = '\0';
  for (;;) {
    char *end = strstr(c->buf, "\r\n\r\n");
    if (!end)
      break;
    size_t head_len = (size_t)(end - c->buf) + 4;
    char cl[32];
    size_t body = 0;
    char saved = c->buf[head_len];
    c->buf[head_len] = '\0';
    if (head_header(c->buf, "Content-Length", cl, sizeof cl))
      body = (size_t)strtoul(cl, NULL, 10);
    c->buf[head_len] = saved;
    if (c->len < head_len + body)
      break; /* wait for the upload body */
    char *head = strndup(c->buf, head_len);
    memmove(c->buf, c->buf + head_len + body, c->len - head_len - body);
    c->len -= head_len + body;
    c->buf[c->len] = '\0';
    bool keep = head && respond(o, c->fd, head);
    free(head);
    if (!keep) {
      close_conn(c);
      return;
    }
  }
  if (c->len >= sizeof c->buf - 1)
    close_conn(c);
}

static void *run(void *arg) {
  http_origin *o = arg;
  while (!o->stop) {
    struct pollfd pf[MAX_CONNS + 1];
    int map[MAX_CONNS + 1];
    int n = 0;
    pf[n].fd = o->listen_fd;
    pf[n].events = POLLIN;
    map[n++] = -1;
    for (int i = 0; i < MAX_CONNS; i++) {
      if (o->conns[i].fd >= 0) {
        pf[n].fd = o->conns[i].fd;
        pf[n].events = POLLIN;
        map[n++] = i;
      }
    }
    int rc = poll(pf, (nfds_t)n, 50);
    if (rc <= 0)
      continue;
    for (int k = 0; k < n; k++) {
      if (!(pf[k].revents & (POLLIN | POLLHUP | POLLERR)))
        continue;
      if (map[k] < 0) {
        int fd = accept(o->listen_fd, NULL, NULL);
        if (fd < 0)
          continue;
        int slot = -1;
        for (int i = 0; i < MAX_CONNS; i++)
          if (o->conns[i].fd < 0) {
            slot = i;
            break;
          }
        if (slot < 0) {
          close(fd);
          continue;
        }
        o->conns[slot].fd = fd;
        o->conns[slot].len = 0;
      } else {
        handle_input(o, &o->conns[map[k]]);
      }
    }
  }
  return NULL;
}

http_origin *http_origin_start(void) {
  http_origin *o = calloc(1, sizeof *o);
  if (!o)
    return NULL;
  for (int i = 0; i < MAX_CONNS; i++)
    o->conns[i].fd = -1;
  pthread_mutex_init(&o->mu, NULL);
  o->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int one = 1;
  setsockopt(o->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  socklen_t sl = sizeof sa;
  if (o->listen_fd < 0 || bind(o->listen_fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
      listen(o->listen_fd, 64) != 0 ||
      getsockname(o->listen_fd, (struct sockaddr *)&sa, &sl) != 0) {
    if (o->listen_fd >= 0)
      close(o->listen_fd);
    pthread_mutex_destroy(&o->mu);
    free(o);
    return NULL;
  }
  o->port = ntohs(sa.sin_port);
  if (pthread_create(&o->thread, NULL, run, o) != 0) {
    close(o->listen_fd);
    pthread_mutex_destroy(&o->mu);
    free(o);
    return NULL;
  }
  return o;
}

uint16_t http_origin_port(const http_origin *o) { return o->port; }

void http_origin_url(const http_origin *o, const char *path, char *out, size_t size) {
  snprintf(out, size, "http://127.0.0.1:%u%s", (unsigned)o->port, path);
}

int http_origin_requests(http_origin *o) {
  pthread_mutex_lock(&o->mu);
  int n = o->n_log;
  pthread_mutex_unlock(&o->mu);
  return n;
}

int http_origin_requests_for(http_origin *o, const char *path) {
  pthread_mutex_lock(&o->mu);
  int n = 0;
  for (int i = 0; i < o->n_log; i++) {
    char target[1024] = "";
    sscanf(o->log[i], "%*s %1023s", target);
    n += strcmp(target, path) == 0;
  }
  pthread_mutex_unlock(&o->mu);
  return n;
}

bool http_origin_request_header(http_origin *o, int n, const char *name, char *out, size_t size) {
  pthread_mutex_lock(&o->mu);
  bool ok = n >= 0 && n < o->n_log && head_header(o->log[n], name, out, size);
  pthread_mutex_unlock(&o->mu);
  return ok;
}

bool http_origin_request_method(http_origin *o, int n, char *out, size_t size) {
  pthread_mutex_lock(&o->mu);
  bool ok = n >= 0 && n < o->n_log;
  if (ok) {
    char m[16] = "";
    sscanf(o->log[n], "%15s", m);
    snprintf(out, size, "%s", m);
  }
  pthread_mutex_unlock(&o->mu);
  return ok;
}

void http_origin_stop(http_origin *o) {
  if (!o)
    return;
  o->stop = true;
  pthread_join(o->thread, NULL);
  close(o->listen_fd);
  for (int i = 0; i < MAX_CONNS; i++)
    close_conn(&o->conns[i]);
  for (int i = 0; i < o->n_routes; i++) {
    route *x = &o->routes[i];
    free(x->path);
    free(x->match_header);
    free(x->match_value);
    free(x->headers);
    free(x->body);
    free(x->etag);
  }
  for (int i = 0; i < o->n_log; i++)
    free(o->log[i]);
  pthread_mutex_destroy(&o->mu);
  free(o);
}
