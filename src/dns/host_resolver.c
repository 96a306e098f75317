/* The host resolver: local answers (literal, localhost, cache, hosts file),
 * then jobs on c-ares shared by identical requests.
 *
 * Lifetimes: a job lives from its first request until its c-ares query
 * completes and it has been delivered, even when every request was
 * cancelled (its answer still fills the cache; c-ares 1.18 cannot cancel
 * one query). c-ares callbacks only record the outcome and queue the job on
 * `done`; delivery (drain) runs once c-ares is off the stack, or from a
 * zero-delay timer when the query completed inside dns_resolve(). */
#include "dns/host_resolver.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/strbuf.h"
#include "cronc/cronc.h"
#include "dns/ares_loop.h"
#include "dns/host_cache.h"
#include "dns/host_util.h"
#include "dns/hosts_file.h"
#include "url/url.h"

/* Chromium's kMinimumTTLSeconds for DnsTask results. */
#define DNS_MIN_CACHE_TTL_SEC 60
/* How often the hosts file's identity is checked. */
#define DNS_HOSTS_CHECK_US BASE_US_PER_SEC

typedef struct dns_job dns_job;

struct dns_request {
  dns_job *job;
  dns_request *prev, *next;
  uint16_t port;
  dns_resolve_cb cb;
  void *user_data;
  netlog_source source;
};

struct dns_job {
  dns_resolver *r;
  dns_job *prev, *next; /* in r->jobs, then in r->done */
  bool done;
  char host[URL_MAX_HOST + 1];
  size_t host_len;
  dns_family family;
  netlog_source source;
  dns_request *req_head, *req_tail;
  /* The outcome, set by the c-ares callback. */
  int error; /* detailed; 0 = OK */
  struct sockaddr_storage *addrs;
  size_t count;
  uint32_t ttl_sec;
};

typedef struct job_list {
  dns_job *head, *tail;
} job_list;

typedef struct hosts_identity {
  bool exists;
  struct timespec mtime;
  off_t size;
  ino_t ino;
  dev_t dev;
} hosts_identity;

struct dns_resolver {
  base_runner *runner;
  const base_clock *clock;
  netlog *nl;
  dns_host_cache *cache;
  dns_ares *ares;

  bool use_hosts;
  char *hosts_path;
  dns_hosts *hosts;
  bool hosts_checked_once;
  int64_t hosts_checked_ticks;
  hosts_identity hosts_id;

  job_list jobs; /* queries in flight */
  job_list done; /* completed, not yet delivered */
  base_timer deliver_timer;
  bool deliver_timer_open;

  int busy; /* > 0 while delivering */
  bool free_requested;
  bool destroying;
  int pending_frees; /* ares + deliver timer */
};

/* ---- small helpers ------------------------------------------------------ */

static void list_push(job_list *l, dns_job *j) {
  j->prev = l->tail;
  j->next = NULL;
  if (l->tail)
    l->tail->next = j;
  else
    l->head = j;
  l->tail = j;
}

static void list_remove(job_list *l, dns_job *j) {
  if (j->prev)
    j->prev->next = j->next;
  else
    l->head = j->next;
  if (j->next)
    j->next->prev = j->prev;
  else
    l->tail = j->prev;
  j->prev = j->next = NULL;
}

static void req_unlink(dns_request *req) {
  dns_job *j = req->job;
  if (req->prev)
    req->prev->next = req->next;
  else
    j->req_head = req->next;
  if (req->next)
    req->next->prev = req->prev;
  else
    j->req_tail = req->prev;
  req->prev = req->next = NULL;
}

static const char *family_name(dns_family f) {
  switch (f) {
  case DNS_FAMILY_IPV4:
    return "IPV4";
  case DNS_FAMILY_IPV6:
    return "IPV6";
  default:
    return "UNSPECIFIED";
  }
}

static void set_port(struct sockaddr_storage *ss, uint16_t port) {
  if (ss->ss_family == AF_INET)
    ((struct sockaddr_in *)ss)->sin_port = htons(port);
  else if (ss->ss_family == AF_INET6)
    ((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

static void make_v4(struct sockaddr_storage *ss, const void *addr4) {
  memset(ss, 0, sizeof(*ss));
  struct sockaddr_in *sin = (struct sockaddr_in *)ss;
  sin->sin_family = AF_INET;
  memcpy(&sin->sin_addr, addr4, 4);
}

static void make_v6(struct sockaddr_storage *ss, const void *addr16) {
  memset(ss, 0, sizeof(*ss));
  struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
  sin6->sin6_family = AF_INET6;
  memcpy(&sin6->sin6_addr, addr16, 16);
}

/* Fills out with a copy of addrs (ports set). */
static int fill_list(dns_address_list *out, const struct sockaddr_storage *addrs, size_t count,
                     uint16_t port, uint32_t ttl, dns_source source) {
  memset(out, 0, sizeof(*out));
  if (count) {
    out->addrs = malloc(count * sizeof(*addrs));
    if (!out->addrs)
      return CRONC_ERR_OUT_OF_MEMORY;
    memcpy(out->addrs, addrs, count * sizeof(*addrs));
    for (size_t i = 0; i < count; i++)
      set_port(&out->addrs[i], port);
  }
  out->count = count;
  out->ttl_sec = ttl;
  out->source = source;
  return CRONC_OK;
}

/* Chromium's SquashErrorCode, for the errors the resolver produces. */
static int squash(int error) { return error == CRONC_OK ? CRONC_OK : CRONC_ERR_NAME_NOT_RESOLVED; }

/* ---- NetLog --------------------------------------------------------------- */

static void log_request_begin(dns_resolver *r, netlog_source src, const char *host, size_t len,
                              dns_family family) {
  if (src.id == 0 || !netlog_is_capturing(r->nl))
    return;
  strbuf sb;
  strbuf_init(&sb);
  strbuf_append_str(&sb, "{\"host\":");
  strbuf_json_string(&sb, host, len);
  strbuf_appendf(&sb, ",\"address_family\":\"%s\"}", family_name(family));
  netlog_add(r->nl, src, NETLOG_TYPE_HOST_RESOLVER_MANAGER_REQUEST, NETLOG_PHASE_BEGIN,
             strbuf_failed(&sb) ? NULL : strbuf_cstr(&sb));
  strbuf_free(&sb);
}

static void log_error_event(dns_resolver *r, netlog_source src, netlog_event_type type,
                            netlog_phase phase, int error) {
  if (src.id == 0 || !netlog_is_capturing(r->nl))
    return;
  char buf[48];
  if (error != CRONC_OK)
    snprintf(buf, sizeof(buf), "{\"net_error\":%d}", error);
  netlog_add(r->nl, src, type, phase, error != CRONC_OK ? buf : NULL);
}

static void log_results(dns_resolver *r, netlog_source src, netlog_event_type type,
                        const struct sockaddr_storage *addrs, size_t count) {
  if (src.id == 0 || !netlog_is_capturing(r->nl))
    return;
  strbuf sb;
  strbuf_init(&sb);
  strbuf_append_str(&sb, "{\"address_list\":[");
  for (size_t i = 0; i < count; i++) {
    char a[INET6_ADDRSTRLEN];
    strbuf_appendf(&sb, "%s\"%s\"", i ? "," : "", dns_address_to_string(&addrs[i], a, sizeof(a)));
  }
  strbuf_append_str(&sb, "]}");
  netlog_add_event(r->nl, src, type, strbuf_failed(&sb) ? NULL : strbuf_cstr(&sb));
  strbuf_free(&sb);
}

static void log_source_dep(dns_resolver *r, netlog_source src, netlog_event_type type,
                           netlog_source dep) {
  if (src.id != 0)
    netlog_add_source_dependency(r->nl, src, type, dep);
}

/* ---- hosts file ------------------------------------------------------------ */

static hosts_identity stat_hosts(const char *path) {
  hosts_identity id;
  memset(&id, 0, sizeof(id));
  struct stat st;
  if (stat(path, &st) == 0) {
    id.exists = true;
    id.mtime = st.st_mtim;
    id.size = st.st_size;
    id.ino = st.st_ino;
    id.dev = st.st_dev;
  }
  return id;
}

static bool same_identity(const hosts_identity *a, const hosts_identity *b) {
  return a->exists == b->exists && a->mtime.tv_sec == b->mtime.tv_sec &&
         a->mtime.tv_nsec == b->mtime.tv_nsec && a->size == b->size && a->ino == b->ino &&
         a->dev == b->dev;
}

/* Rereads the hosts file when it changed; checks at most once a second. */
static void maybe_reload_hosts(dns_resolver *r) {
  if (!r->use_hosts)
    return;
  int64_t now = base_clock_ticks(r->clock);
  if (r->hosts_checked_once && now - r->hosts_checked_ticks < DNS_HOSTS_CHECK_US)
    return;
  bool first = !r->hosts_checked_once;
  r->hosts_checked_once = true;
  r->hosts_checked_ticks = now;
  hosts_identity id = stat_hosts(r->hosts_path);
  if (!first && same_identity(&id, &r->hosts_id))
    return;
  r->hosts_id = id;
  dns_hosts *h = NULL;
  int rv = dns_hosts_read_file(r->hosts_path, &h);
  dns_hosts_free(r->hosts);
  r->hosts = rv == CRONC_OK ? h : NULL;
  if (!first)
    dns_host_cache_clear(r->cache); /* a config change invalidates answers */
  if (netlog_is_capturing(r->nl)) {
    char buf[96];
    snprintf(buf, sizeof(buf), "{\"net_error\":%d,\"entries\":%zu}", rv, dns_hosts_count(r->hosts));
    netlog_add_event(r->nl, (netlog_source){NETLOG_SOURCE_NONE, 0},
                     NETLOG_TYPE_CRONC_HOSTS_FILE_LOADED, buf);
  }
}

/* Hosts answers: IPv6 first, as Chromium's ServeFromHosts. Returns the
 * number of addresses written (0..2). */
static size_t lookup_hosts(dns_resolver *r, const char *host, size_t len, dns_family family,
                           struct sockaddr_storage out[2]) {
  size_t n = 0;
  uint8_t a[16];
  if (!r->hosts)
    return 0;
  if (family != DNS_FAMILY_IPV4 && dns_hosts_lookup(r->hosts, host, len, AF_INET6, a))
    make_v6(&out[n++], a);
  if (family != DNS_FAMILY_IPV6 && dns_hosts_lookup(r->hosts, host, len, AF_INET, a))
    make_v4(&out[n++], a);
  return n;
}

/* ---- local answers ------------------------------------------------------- */

static bool ends_with(const char *s, size_t len, const char *suffix) {
  size_t n = strlen(suffix);
  return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

/* Chromium's IsLocalHostname: localhost, localhost., *.localhost, *.localhost. */
static bool is_localhost(const char *h, size_t len) {
  if (len > 0 && h[len - 1] == '.')
    len--;
  return (len == 9 && memcmp(h, "localhost", 9) == 0) || ends_with(h, len, ".localhost");
}

static size_t localhost_addrs(dns_family family, struct sockaddr_storage out[2]) {
  size_t n = 0;
  if (family != DNS_FAMILY_IPV4)
    make_v6(&out[n++], &in6addr_loopback);
  if (family != DNS_FAMILY_IPV6) {
    uint32_t lo = htonl(INADDR_LOOPBACK);
    make_v4(&out[n++], &lo);
  }
  return n;
}

/* ---- delivery ------------------------------------------------------------ */

static void destroy(dns_resolver *r);

static void free_job(dns_job *j) {
  while (j->req_head) {
    dns_request *req = j->req_head;
    req_unlink(req);
    free(req);
  }
  free(j->addrs);
  free(j);
}

/* Caches the answer and hands it to every request still attached. Stops
 * (dropping the rest, callbacks unrun) if a callback frees the resolver. */
static void complete_job(dns_resolver *r, dns_job *j) {
  log_error_event(r, j->source, NETLOG_TYPE_HOST_RESOLVER_MANAGER_DNS_TASK, NETLOG_PHASE_END,
                  j->error);
  log_error_event(r, j->source, NETLOG_TYPE_HOST_RESOLVER_MANAGER_JOB, NETLOG_PHASE_END, j->error);
  if (j->error == CRONC_OK) {
    uint32_t bounded = j->ttl_sec < DNS_MIN_CACHE_TTL_SEC ? DNS_MIN_CACHE_TTL_SEC : j->ttl_sec;
    int64_t expires = base_clock_ticks(r->clock) + (int64_t)bounded * BASE_US_PER_SEC;
    dns_host_cache_set(r->cache, j->host, j->host_len, j->family, j->addrs, j->count, j->ttl_sec,
                       expires); /* a failed insert only costs a later query */
  }
  while (j->req_head && !r->free_requested) {
    dns_request *req = j->req_head;
    req_unlink(req);
    dns_address_list list;
    int result = squash(j->error);
    if (result == CRONC_OK &&
        fill_list(&list, j->addrs, j->count, req->port, j->ttl_sec, DNS_SOURCE_DNS) != CRONC_OK) {
      result = CRONC_ERR_NAME_NOT_RESOLVED;
      memset(&list, 0, sizeof(list));
      list.error_info = CRONC_ERR_OUT_OF_MEMORY;
    } else if (result != CRONC_OK) {
      memset(&list, 0, sizeof(list));
      list.error_info = j->error;
    }
    log_source_dep(r, j->source, NETLOG_TYPE_HOST_RESOLVER_MANAGER_JOB_REQUEST_DETACH, req->source);
    log_error_event(r, req->source, NETLOG_TYPE_HOST_RESOLVER_MANAGER_REQUEST, NETLOG_PHASE_END,
                    result);
    dns_resolve_cb cb = req->cb;
    void *ud = req->user_data;
    free(req);
    cb(result, &list, ud);
    dns_address_list_reset(&list);
  }
  free_job(j);
}

static void drain(void *ctx) {
  dns_resolver *r = ctx;
  r->busy++;
  while (r->done.head && !r->free_requested) {
    dns_job *j = r->done.head;
    list_remove(&r->done, j);
    complete_job(r, j);
  }
  r->busy--;
  if (r->busy == 0 && r->free_requested && !r->destroying)
    destroy(r);
}

static void on_deliver_timer(base_timer *t, void *ud) {
  (void)t;
  drain(ud);
}

static int ares_to_net_error(int status) {
  switch (status) {
  case ARES_SUCCESS:
    return CRONC_OK;
  case ARES_ETIMEOUT:
    return CRONC_ERR_DNS_TIMED_OUT;
  case ARES_ESERVFAIL:
  case ARES_EREFUSED:
  case ARES_ECONNREFUSED:
    return CRONC_ERR_DNS_SERVER_FAILED;
  case ARES_EFORMERR:
  case ARES_EBADRESP:
    return CRONC_ERR_DNS_MALFORMED_RESPONSE;
  case ARES_ENOMEM:
    return CRONC_ERR_OUT_OF_MEMORY;
  case ARES_ECANCELLED:
    return CRONC_ERR_DNS_REQUEST_CANCELLED;
  default: /* ENOTFOUND (NXDOMAIN), ENODATA, ENONAME, ... */
    return CRONC_ERR_NAME_NOT_RESOLVED;
  }
}

static void on_addrinfo(void *arg, int status, int timeouts, struct ares_addrinfo *res) {
  (void)timeouts;
  dns_job *j = arg;
  dns_resolver *r = j->r;
  if (status == ARES_EDESTRUCTION || r->destroying) {
    if (res)
      ares_freeaddrinfo(res);
    return;
  }
  j->error = ares_to_net_error(status);
  if (status == ARES_SUCCESS && res) {
    size_t n = 0;
    int64_t ttl = INT64_MAX;
    for (struct ares_addrinfo_node *nd = res->nodes; nd; nd = nd->ai_next) {
      if ((nd->ai_family == AF_INET && j->family != DNS_FAMILY_IPV6 &&
           nd->ai_addrlen >= (ares_socklen_t)sizeof(struct sockaddr_in)) ||
          (nd->ai_family == AF_INET6 && j->family != DNS_FAMILY_IPV4 &&
           nd->ai_addrlen >= (ares_socklen_t)sizeof(struct sockaddr_in6)))
        n++;
    }
    j->addrs = n ? calloc(n, sizeof(*j->addrs)) : NULL;
    if (n && !j->addrs) {
      j->error = CRONC_ERR_OUT_OF_MEMORY;
    } else {
      size_t k = 0;
      for (struct ares_addrinfo_node *nd = res->nodes; nd; nd = nd->ai_next) {
        if (nd->ai_family == AF_INET && j->family != DNS_FAMILY_IPV6 &&
            nd->ai_addrlen >= (ares_socklen_t)sizeof(struct sockaddr_in))
          make_v4(&j->addrs[k++], &((struct sockaddr_in *)(void *)nd->ai_addr)->sin_addr);
        else if (nd->ai_family == AF_INET6 && j->family != DNS_FAMILY_IPV4 &&
                 nd->ai_addrlen >= (ares_socklen_t)sizeof(struct sockaddr_in6))
          make_v6(&j->addrs[k++], &((struct sockaddr_in6 *)(void *)nd->ai_addr)->sin6_addr);
        else
          continue;
        if (nd->ai_ttl >= 0 && nd->ai_ttl < ttl)
          ttl = nd->ai_ttl;
      }
      /* Chromium's TTL is the smallest of every record, CNAMEs included. */
      for (struct ares_addrinfo_cname *c = res->cnames; c; c = c->next) {
        if (c->ttl >= 0 && c->ttl < ttl)
          ttl = c->ttl;
      }
      j->count = k;
      j->ttl_sec = ttl == INT64_MAX ? 0 : (uint32_t)ttl;
      if (k == 0)
        j->error = CRONC_ERR_NAME_NOT_RESOLVED; /* no address of the family asked */
    }
  } else if (j->error == CRONC_OK) {
    j->error = CRONC_ERR_NAME_NOT_RESOLVED;
  }
  if (res)
    ares_freeaddrinfo(res);
  if (!j->done) {
    j->done = true;
    list_remove(&r->jobs, j);
    list_push(&r->done, j);
  }
}

/* ---- lifetime ---------------------------------------------------------------- */

void dns_resolver_params_init(dns_resolver_params *p) {
  if (!p)
    return;
  memset(p, 0, sizeof(*p));
  p->cache_size = DNS_HOST_CACHE_DEFAULT_SIZE;
  p->use_hosts_file = true;
}

static void release_if_done(dns_resolver *r) {
  if (--r->pending_frees > 0)
    return;
  free(r);
}

static void ares_freed(void *ctx) { release_if_done(ctx); }

static void deliver_timer_closed(base_timer *t, void *ud) {
  (void)t;
  release_if_done(ud);
}

int dns_resolver_new(base_runner *runner, const dns_resolver_params *params, netlog *nl,
                     dns_resolver **out) {
  if (!out)
    return CRONC_ERR_INVALID_ARGUMENT;
  *out = NULL;
  if (!runner || !base_runner_is_current(runner))
    return CRONC_ERR_INVALID_ARGUMENT;
  dns_resolver_params defaults;
  if (!params) {
    dns_resolver_params_init(&defaults);
    params = &defaults;
  }
  dns_resolver *r = calloc(1, sizeof(*r));
  if (!r)
    return CRONC_ERR_OUT_OF_MEMORY;
  r->runner = runner;
  r->clock = params->clock ? params->clock : base_clock_system();
  r->nl = nl;
  r->use_hosts = params->use_hosts_file;
  r->cache = dns_host_cache_new(params->cache_size);
  r->hosts_path = strdup(params->hosts_file_path ? params->hosts_file_path : "/etc/hosts");
  if (!r->cache || !r->hosts_path) {
    dns_host_cache_free(r->cache);
    free(r->hosts_path);
    free(r);
    return CRONC_ERR_OUT_OF_MEMORY;
  }
  int rv = base_timer_init(runner, &r->deliver_timer);
  if (rv == CRONC_OK) {
    r->deliver_timer_open = true;
    dns_ares_options ao = {params->nameservers, params->timeout_ms, params->tries};
    rv = dns_ares_new(runner, &ao, drain, r, &r->ares);
  }
  if (rv != CRONC_OK) {
    dns_host_cache_free(r->cache);
    free(r->hosts_path);
    if (r->deliver_timer_open) {
      /* The timer's memory must outlive its close: hand it its own block. */
      r->pending_frees = 1;
      base_timer_close(&r->deliver_timer, deliver_timer_closed, r);
    } else {
      free(r);
    }
    return rv;
  }
  maybe_reload_hosts(r);
  *out = r;
  return CRONC_OK;
}

static void destroy(dns_resolver *r) {
  r->destroying = true;
  for (dns_job *j = r->jobs.head; j; j = j->next) {
    if (j->req_head)
      netlog_add_event(r->nl, j->source, NETLOG_TYPE_CANCELLED, NULL);
    while (j->req_head) {
      dns_request *req = j->req_head;
      req_unlink(req);
      free(req);
    }
  }
  /* Pending query callbacks run inside with ARES_EDESTRUCTION and are
   * ignored; jobs stay allocated until it returns. */
  r->pending_frees = 2;
  dns_ares_destroy(r->ares, ares_freed, r);
  r->ares = NULL;
  while (r->jobs.head) {
    dns_job *j = r->jobs.head;
    list_remove(&r->jobs, j);
    free_job(j);
  }
  while (r->done.head) {
    dns_job *j = r->done.head;
    list_remove(&r->done, j);
    free_job(j);
  }
  dns_host_cache_free(r->cache);
  r->cache = NULL;
  dns_hosts_free(r->hosts);
  r->hosts = NULL;
  free(r->hosts_path);
  r->hosts_path = NULL;
  r->deliver_timer_open = false;
  base_timer_close(&r->deliver_timer, deliver_timer_closed, r);
}

void dns_resolver_free(dns_resolver *r) {
  if (!r || r->free_requested)
    return;
  r->free_requested = true;
  if (r->busy == 0)
    destroy(r);
}

/* ---- resolving ------------------------------------------------------------- */

/* A sync answer: fills results, logs the request's end. */
static int finish_sync(dns_resolver *r, netlog_source src, int error,
                       const struct sockaddr_storage *addrs, size_t count, uint16_t port,
                       uint32_t ttl, dns_source source, dns_address_list *results) {
  if (error == CRONC_OK && fill_list(results, addrs, count, port, ttl, source) != CRONC_OK)
    error = CRONC_ERR_OUT_OF_MEMORY;
  if (error != CRONC_OK) {
    memset(results, 0, sizeof(*results));
    results->error_info = error;
  }
  int result = squash(error);
  log_error_event(r, src, NETLOG_TYPE_HOST_RESOLVER_MANAGER_REQUEST, NETLOG_PHASE_END, result);
  return result;
}

static dns_job *find_job(dns_resolver *r, const char *host, size_t len, dns_family family) {
  for (dns_job *j = r->jobs.head; j; j = j->next) {
    if (j->family == family && j->host_len == len && memcmp(j->host, host, len) == 0)
      return j;
  }
  return NULL;
}

static dns_job *start_job(dns_resolver *r, const char *host, size_t len, dns_family family) {
  dns_job *j = calloc(1, sizeof(*j));
  if (!j)
    return NULL;
  j->r = r;
  memcpy(j->host, host, len);
  j->host[len] = '\0';
  j->host_len = len;
  j->family = family;
  j->source = netlog_source_new(r->nl, NETLOG_SOURCE_HOST_RESOLVER_IMPL_JOB);
  if (netlog_is_capturing(r->nl)) {
    strbuf sb;
    strbuf_init(&sb);
    strbuf_append_str(&sb, "{\"host\":");
    strbuf_json_string(&sb, host, len);
    strbuf_appendf(&sb, ",\"address_family\":\"%s\"}", family_name(family));
    netlog_add(r->nl, j->source, NETLOG_TYPE_HOST_RESOLVER_MANAGER_JOB, NETLOG_PHASE_BEGIN,
               strbuf_failed(&sb) ? NULL : strbuf_cstr(&sb));
    strbuf_free(&sb);
  }
  netlog_add(r->nl, j->source, NETLOG_TYPE_HOST_RESOLVER_MANAGER_DNS_TASK, NETLOG_PHASE_BEGIN,
             NULL);
  list_push(&r->jobs, j);
  return j;
}

static void submit_job(dns_resolver *r, dns_job *j) {
  struct ares_addrinfo_hints hints;
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = j->family == DNS_FAMILY_IPV4   ? AF_INET
                    : j->family == DNS_FAMILY_IPV6 ? AF_INET6
                                                   : AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM; /* one node per address */
  /* May complete inside (then the job is on `done` already). */
  ares_getaddrinfo(dns_ares_channel(r->ares), j->host, NULL, &hints, on_addrinfo, j);
  dns_ares_update_timer(r->ares);
  if (r->done.head && r->deliver_timer_open)
    base_timer_start(&r->deliver_timer, 0, 0, on_deliver_timer, r);
}

int dns_resolve(dns_resolver *r, const char *host, size_t host_len, uint16_t port,
                dns_family family, netlog_source source, dns_resolve_cb cb, void *user_data,
                dns_address_list *results, dns_request **out_req) {
  if (out_req)
    *out_req = NULL;
  if (!r || !host || !cb || !results || r->free_requested || !base_runner_is_current(r->runner) ||
      (family != DNS_FAMILY_UNSPEC && family != DNS_FAMILY_IPV4 && family != DNS_FAMILY_IPV6))
    return CRONC_ERR_INVALID_ARGUMENT;
  memset(results, 0, sizeof(*results));
  log_request_begin(r, source, host, host_len, family);

  char canon[URL_MAX_HOST + 1];
  url_host_kind kind;
  if (dns_canon_host(host, host_len, canon, &kind) != CRONC_OK)
    return finish_sync(r, source, CRONC_ERR_NAME_NOT_RESOLVED, NULL, 0, port, 0, DNS_SOURCE_NONE,
                       results);
  size_t len = strlen(canon);
  struct sockaddr_storage local[2];

  /* IP literals never reach DNS. */
  if (kind == URL_HOST_IPV4 || kind == URL_HOST_IPV6) {
    bool v6 = kind == URL_HOST_IPV6;
    if ((v6 && family == DNS_FAMILY_IPV4) || (!v6 && family == DNS_FAMILY_IPV6))
      return finish_sync(r, source, CRONC_ERR_NAME_NOT_RESOLVED, NULL, 0, port, 0,
                         DNS_SOURCE_IP_LITERAL, results);
    uint8_t a[16];
    if (v6) {
      canon[len - 1] = '\0'; /* drop the brackets */
      if (inet_pton(AF_INET6, canon + 1, a) != 1)
        return finish_sync(r, source, CRONC_ERR_NAME_NOT_RESOLVED, NULL, 0, port, 0,
                           DNS_SOURCE_IP_LITERAL, results);
      make_v6(&local[0], a);
    } else {
      if (inet_pton(AF_INET, canon, a) != 1)
        return finish_sync(r, source, CRONC_ERR_NAME_NOT_RESOLVED, NULL, 0, port, 0,
                           DNS_SOURCE_IP_LITERAL, results);
      make_v4(&local[0], a);
    }
    return finish_sync(r, source, CRONC_OK, local, 1, port, 0, DNS_SOURCE_IP_LITERAL, results);
  }

  if (!dns_host_is_compliant(canon, len))
    return finish_sync(r, source, CRONC_ERR_NAME_NOT_RESOLVED, NULL, 0, port, 0, DNS_SOURCE_NONE,
                       results);

  if (is_localhost(canon, len)) {
    size_t n = localhost_addrs(family, local);
    return finish_sync(r, source, CRONC_OK, local, n, port, 0, DNS_SOURCE_LOCALHOST, results);
  }

  /* The hosts file is part of the DNS config: a change to it drops the
   * cache, so check it before the cache is consulted. */
  maybe_reload_hosts(r);
  int64_t now = base_clock_ticks(r->clock);
  const dns_host_cache_entry *e = dns_host_cache_lookup(r->cache, canon, len, family, now);
  if (e) {
    log_results(r, source, NETLOG_TYPE_HOST_RESOLVER_MANAGER_CACHE_HIT, e->addrs, e->count);
    int64_t left = (e->expires_ticks_us - now + BASE_US_PER_SEC - 1) / BASE_US_PER_SEC;
    uint32_t ttl = left > (int64_t)e->ttl_sec ? e->ttl_sec : (uint32_t)left;
    return finish_sync(r, source, CRONC_OK, e->addrs, e->count, port, ttl, DNS_SOURCE_CACHE,
                       results);
  }

  size_t n = lookup_hosts(r, canon, len, family, local);
  if (n > 0) {
    log_results(r, source, NETLOG_TYPE_HOST_RESOLVER_MANAGER_HOSTS_HIT, local, n);
    return finish_sync(r, source, CRONC_OK, local, n, port, 0, DNS_SOURCE_HOSTS, results);
  }

  dns_request *req = calloc(1, sizeof(*req));
  if (!req) {
    log_error_event(r, source, NETLOG_TYPE_HOST_RESOLVER_MANAGER_REQUEST, NETLOG_PHASE_END,
                    CRONC_ERR_OUT_OF_MEMORY);
    return CRONC_ERR_OUT_OF_MEMORY;
  }
  dns_job *j = find_job(r, canon, len, family);
  bool fresh = j == NULL;
  if (fresh && !(j = start_job(r, canon, len, family))) {
    free(req);
    log_error_event(r, source, NETLOG_TYPE_HOST_RESOLVER_MANAGER_REQUEST, NETLOG_PHASE_END,
                    CRONC_ERR_OUT_OF_MEMORY);
    return CRONC_ERR_OUT_OF_MEMORY;
  }
  req->job = j;
  req->port = port;
  req->cb = cb;
  req->user_data = user_data;
  req->source = source;
  req->prev = j->req_tail;
  if (j->req_tail)
    j->req_tail->next = req;
  else
    j->req_head = req;
  j->req_tail = req;
  log_source_dep(r, source, NETLOG_TYPE_HOST_RESOLVER_MANAGER_JOB_ATTACH, j->source);
  log_source_dep(r, j->source, NETLOG_TYPE_HOST_RESOLVER_MANAGER_JOB_REQUEST_ATTACH, source);
  if (fresh)
    submit_job(r, j);
  if (out_req)
    *out_req = req;
  return CRONC_ERR_IO_PENDING;
}

void dns_request_cancel(dns_request *req) {
  if (!req)
    return;
  dns_job *j = req->job;
  dns_resolver *r = j->r;
  req_unlink(req);
  log_source_dep(r, j->source, NETLOG_TYPE_HOST_RESOLVER_MANAGER_JOB_REQUEST_DETACH, req->source);
  netlog_add_event(r->nl, req->source.id ? req->source : j->source, NETLOG_TYPE_CANCELLED, NULL);
  log_error_event(r, req->source, NETLOG_TYPE_HOST_RESOLVER_MANAGER_REQUEST, NETLOG_PHASE_END,
                  CRONC_ERR_ABORTED);
  free(req);
}

size_t dns_resolver_cache_size(const dns_resolver *r) {
  return r ? dns_host_cache_size(r->cache) : 0;
}

size_t dns_resolver_job_count(const dns_resolver *r) {
  size_t n = 0;
  if (r) {
    for (const dns_job *j = r->jobs.head; j; j = j->next)
      n++;
  }
  return n;
}

void dns_resolver_clear_cache(dns_resolver *r) {
  if (r)
    dns_host_cache_clear(r->cache);
}
