/* socket/tcp_connect: Happy Eyeballs connect job (see tcp_connect.h).
 *
 * Lifetime: the job's memory is reference counted: one reference for the
 * owner, one per open timer and one per attempt whose uv_connect_t has not
 * called back yet (libuv calls it back, with UV_ECANCELED, even after the
 * handle is closed). The memory goes when the last reference does. */
#include "socket/tcp_connect.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/address_list.h"
#include "socket/tcp_socket.h"

typedef struct tcp_attempt tcp_attempt;
struct tcp_attempt {
  tcp_connect_job *job;
  tcp_socket *sock;
  uv_connect_t req;
  tcp_attempt *next;
  bool abandoned; /* the job no longer wants it: just clean up */
};

struct tcp_connect_job {
  base_runner *runner;
  tcp_connect_params params;
  struct sockaddr_storage *addrs;
  size_t count;
  size_t next_index;
  size_t started;
  tcp_attempt *attempts; /* live attempts */
  base_timer delay_timer;
  base_timer timeout_timer;
  tcp_connect_fn cb;
  void *user_data;
  int last_error;
  int deferred_result; /* a failure found inside start, reported later */
  int refs;
  bool done;
  int64_t start_us;
  netlog_source source;
};

void tcp_connect_params_init(tcp_connect_params *p) {
  if (!p)
    return;
  memset(p, 0, sizeof(*p));
  p->attempt_delay_ms = TCP_CONNECT_DEFAULT_ATTEMPT_DELAY_MS;
  p->timeout_ms = TCP_CONNECT_DEFAULT_TIMEOUT_MS;
}

size_t tcp_connect_sort_addresses(const struct sockaddr_storage *in, size_t n,
                                  struct sockaddr_storage *out) {
  size_t i6 = 0, i4 = 0, w = 0;
  bool want6 = true;
  for (;;) {
    int fam = want6 ? AF_INET6 : AF_INET;
    size_t *ip = want6 ? &i6 : &i4;
    while (*ip < n && in[*ip].ss_family != fam)
      (*ip)++;
    if (*ip < n) {
      out[w++] = in[(*ip)++];
    } else {
      /* This family is exhausted: the rest of the other one, in order. */
      int other = want6 ? AF_INET : AF_INET6;
      size_t *op = want6 ? &i4 : &i6;
      for (; *op < n; (*op)++)
        if (in[*op].ss_family == other)
          out[w++] = in[*op];
      break;
    }
    want6 = !want6;
  }
  return w;
}

static void unref(tcp_connect_job *job) {
  if (--job->refs == 0) {
    free(job->addrs);
    free(job);
  }
}

static void on_timer_closed(base_timer *t, void *ud) { unref(ud); }

static void log_error(tcp_connect_job *job, netlog_event_type type, int error) {
  netlog_add_net_error(job->params.netlog, job->source, type, error);
}

/* Stops everything still running (attempts, timers); the job is done. */
static void stop_all(tcp_connect_job *job) {
  job->done = true;
  for (tcp_attempt *a = job->attempts; a; a = a->next) {
    a->abandoned = true;
    stream_socket_free(tcp_socket_stream(a->sock)); /* connect cb: ECANCELED */
    a->sock = NULL;
  }
  job->attempts = NULL;
  base_timer_stop(&job->delay_timer);
  base_timer_stop(&job->timeout_timer);
}

/* Chromium's TCP_CONNECT_ATTEMPT begin: which address is tried. */
static void log_attempt_begin(tcp_connect_job *job, const struct sockaddr_storage *addr) {
  if (!netlog_is_capturing(job->params.netlog))
    return;
  char ip[INET6_ADDRSTRLEN];
  dns_address_to_string(addr, ip, sizeof ip);
  uint16_t port = dns_address_port(addr);
  char params[96];
  snprintf(params, sizeof params,
           addr->ss_family == AF_INET6 ? "{\"address\":\"[%s]:%u\"}" : "{\"address\":\"%s:%u\"}",
           ip, (unsigned)port);
  netlog_add(job->params.netlog, job->source, NETLOG_TYPE_TCP_CONNECT_ATTEMPT, NETLOG_PHASE_BEGIN,
             params);
}

static void log_end(tcp_connect_job *job, netlog_event_type type, int result) {
  if (!netlog_is_capturing(job->params.netlog))
    return;
  char params[48];
  if (result != CRONC_OK)
    snprintf(params, sizeof params, "{\"net_error\":%d}", result);
  netlog_add(job->params.netlog, job->source, type, NETLOG_PHASE_END,
             result != CRONC_OK ? params : NULL);
}

static void finish(tcp_connect_job *job, int result, stream_socket *sock) {
  stop_all(job);
  if (result != CRONC_OK)
    log_error(job, NETLOG_TYPE_FAILED, result);
  log_end(job, NETLOG_TYPE_TCP_CONNECT, result);
  job->refs++; /* the owner may free the job inside cb */
  job->cb(result, sock, job->user_data);
  unref(job);
}

static void remove_attempt(tcp_connect_job *job, tcp_attempt *a) {
  for (tcp_attempt **pp = &job->attempts; *pp; pp = &(*pp)->next) {
    if (*pp == a) {
      *pp = a->next;
      return;
    }
  }
}

static void start_next(tcp_connect_job *job);

static void on_connect(uv_connect_t *req, int status) {
  tcp_attempt *a = req->data;
  tcp_connect_job *job = a->job;
  if (a->abandoned) {
    free(a);
    unref(job);
    return;
  }
  remove_attempt(job, a);
  tcp_socket *sock = a->sock;
  free(a);
  log_end(job, NETLOG_TYPE_TCP_CONNECT_ATTEMPT,
          status == 0 ? CRONC_OK : socket_map_connect_error(status));
  if (status == 0) {
    int64_t now = base_clock_ticks(job->params.clock);
    int rc = tcp_socket_set_connected(sock, job->start_us, now);
    if (rc == CRONC_OK) {
      unref(job); /* the attempt's reference; the owner's keeps job alive */
      finish(job, CRONC_OK, tcp_socket_stream(sock));
      return;
    }
    job->last_error = rc;
  } else {
    job->last_error = socket_map_connect_error(status);
  }
  stream_socket_free(tcp_socket_stream(sock));
  unref(job);
  if (job->done)
    return;
  if (job->next_index < job->count) {
    /* A failed attempt starts the next one at once (RFC 8305 §5). */
    base_timer_stop(&job->delay_timer);
    start_next(job);
  } else if (!job->attempts) {
    finish(job, job->last_error, NULL);
  }
}

/* Starts one attempt; 0 or a net error (nothing left running). */
static int start_attempt(tcp_connect_job *job, const struct sockaddr_storage *addr) {
  tcp_attempt *a = calloc(1, sizeof(*a));
  if (!a)
    return CRONC_ERR_OUT_OF_MEMORY;
  int rc = tcp_socket_new(job->runner, job->params.clock, &a->sock);
  if (rc) {
    free(a);
    return rc;
  }
  a->job = job;
  a->req.data = a;
  job->started++;
  log_attempt_begin(job, addr);
  rc = uv_tcp_connect(&a->req, tcp_socket_handle(a->sock), (const struct sockaddr *)addr,
                      on_connect);
  if (rc) {
    stream_socket_free(tcp_socket_stream(a->sock));
    free(a);
    return socket_map_connect_error(rc);
  }
  job->refs++;
  a->next = job->attempts;
  job->attempts = a;
  return CRONC_OK;
}

static void on_delay(base_timer *t, void *ud) { start_next(ud); }

static void on_deferred(base_timer *t, void *ud) {
  tcp_connect_job *job = ud;
  finish(job, job->deferred_result, NULL);
}

/* Starts the next address that can be started; arms the attempt delay for
 * the one after. With nothing left and nothing running, the job fails. */
static void start_next(tcp_connect_job *job) {
  while (job->next_index < job->count) {
    int rc = start_attempt(job, &job->addrs[job->next_index++]);
    if (rc == CRONC_OK) {
      if (job->next_index < job->count)
        base_timer_start(&job->delay_timer, job->params.attempt_delay_ms, 0, on_delay, job);
      return;
    }
    job->last_error = rc;
  }
  if (!job->attempts) {
    /* Never report inside the caller's frame: a 0 ms timer does it. */
    job->deferred_result = job->last_error;
    base_timer_start(&job->delay_timer, 0, 0, on_deferred, job);
  }
}

static void on_timeout(base_timer *t, void *ud) {
  finish(ud, CRONC_ERR_CONNECTION_TIMED_OUT, NULL);
}

int tcp_connect_start(base_runner *r, const struct sockaddr_storage *addrs, size_t n, uint16_t port,
                      const tcp_connect_params *params, tcp_connect_fn cb, void *user_data,
                      tcp_connect_job **out) {
  if (out)
    *out = NULL;
  if (!r || !cb || !out || (!addrs && n))
    return CRONC_ERR_INVALID_ARGUMENT;
  tcp_connect_job *job = calloc(1, sizeof(*job));
  if (!job)
    return CRONC_ERR_OUT_OF_MEMORY;
  if (params)
    job->params = *params;
  else
    tcp_connect_params_init(&job->params);
  if (!job->params.clock)
    job->params.clock = base_clock_system();
  if (job->params.timeout_ms == 0)
    job->params.timeout_ms = TCP_CONNECT_DEFAULT_TIMEOUT_MS;
  job->addrs = n ? calloc(n, sizeof(*job->addrs)) : NULL;
  if (n && !job->addrs) {
    free(job);
    return CRONC_ERR_OUT_OF_MEMORY;
  }
  job->count = tcp_connect_sort_addresses(addrs, n, job->addrs);
  if (job->count == 0) {
    free(job->addrs);
    free(job);
    return CRONC_ERR_INVALID_ARGUMENT;
  }
  for (size_t i = 0; i < job->count && port; i++) {
    if (job->addrs[i].ss_family == AF_INET6)
      ((struct sockaddr_in6 *)&job->addrs[i])->sin6_port = htons(port);
    else
      ((struct sockaddr_in *)&job->addrs[i])->sin_port = htons(port);
  }
  job->runner = r;
  job->cb = cb;
  job->user_data = user_data;
  job->refs = 1;
  job->last_error = CRONC_ERR_CONNECTION_FAILED;
  job->source = netlog_source_new(job->params.netlog, NETLOG_SOURCE_TRANSPORT_CONNECT_JOB);
  if (base_timer_init(r, &job->delay_timer) != CRONC_OK) {
    free(job->addrs);
    free(job);
    return CRONC_ERR_INVALID_ARGUMENT; /* not on the loop thread */
  }
  job->refs++;
  if (base_timer_init(r, &job->timeout_timer) != CRONC_OK) {
    base_timer_close(&job->delay_timer, on_timer_closed, job);
    unref(job);
    return CRONC_ERR_INVALID_ARGUMENT;
  }
  job->refs++;
  job->start_us = base_clock_ticks(job->params.clock);
  if (netlog_is_capturing(job->params.netlog)) {
    char js[48];
    snprintf(js, sizeof js, "{\"address_count\":%zu}", job->count);
    netlog_add(job->params.netlog, job->source, NETLOG_TYPE_TCP_CONNECT, NETLOG_PHASE_BEGIN, js);
  }
  /* Timers count from the loop's cached time, which may be stale when the
   * job starts from a task after a long callback: refresh it. */
  uv_update_time(base_runner_loop(r));
  base_timer_start(&job->timeout_timer, job->params.timeout_ms, 0, on_timeout, job);
  start_next(job);
  *out = job;
  return CRONC_OK;
}

void tcp_connect_job_free(tcp_connect_job *job) {
  if (!job)
    return;
  if (!job->done) {
    log_error(job, NETLOG_TYPE_CANCELLED, CRONC_ERR_ABORTED);
    log_end(job, NETLOG_TYPE_TCP_CONNECT, CRONC_ERR_ABORTED);
  }
  stop_all(job);
  base_timer_close(&job->delay_timer, on_timer_closed, job);
  base_timer_close(&job->timeout_timer, on_timer_closed, job);
  unref(job);
}

size_t tcp_connect_job_attempts_started(const tcp_connect_job *job) {
  return job ? job->started : 0;
}
