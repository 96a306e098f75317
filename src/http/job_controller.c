#include "http/job_controller.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/strbuf.h"
#include "cronc/cronc.h"

/* Chromium's HttpStreamFactory::Job states, in its order. */
#define JOB_STATES(X)                                                                              \
  X(START)                                                                                         \
  X(RESOLVE_PROXY)                                                                                 \
  X(RESOLVE_PROXY_COMPLETE)                                                                        \
  X(WAIT)                                                                                          \
  X(WAIT_COMPLETE)                                                                                 \
  X(INIT_CONNECTION)                                                                               \
  X(INIT_CONNECTION_COMPLETE)                                                                      \
  X(CREATE_STREAM)                                                                                 \
  X(CREATE_STREAM_COMPLETE)                                                                        \
  X(DONE)                                                                                          \
  X(NONE)

typedef enum job_state {
#define X(name) JOB_STATE_##name,
  JOB_STATES(X)
#undef X
} job_state;

typedef enum job_type { JOB_MAIN, JOB_ALTERNATIVE } job_type;

typedef struct jc_request jc_request;

/* Fields ordered by size: two jobs sit in every jc_request, which must
 * stay within glibc's per-thread cache (1032 bytes) to be cheap to allocate. */
typedef struct jc_job {
  jc_request *ctl;
  netlog_source source;
  /* Main job: held in WAIT until resume_at (ticks µs); INT64_MAX = until
   * the alternative job fails. */
  int64_t resume_at;
  int64_t wait_started;
  /* The connection request underneath. */
  http_stream_request *tcp_req;
  void *quic_req;
  http_stream *stream;
  job_type type;
  job_state next_state;
  int result;
  bool exists; /* this slot holds a job */
  bool done;
  bool cancelled;
  bool waiting;
} jc_job;

struct jc_request {
  jc_factory *f;
  jc_request *prev, *next; /* in f->controllers */
  netlog_source source;
  /* The caller's request without head and body; its URL becomes the
   * controller's own copy u when a job may outlive the caller (own_url). */
  http_request_info req;
  url u;
  url_origin origin;
  /* The caller, until it has its result or went away. */
  http_stream_ready_cb cb;
  void *cb_ud;
  http_stream_request_report *report;
  bool owns_url;    /* req.url is u (else the caller's) */
  bool caller_gone; /* delivered or cancelled */
  bool starting;    /* inside request_stream: results are not delivered yet */
  bool preconnect;

  bool quic_broken;
  altsvc_select_result alt;
  jc_job main, altjob;
  jc_job *bound;
  int64_t main_wait_us; /* -1: held until the alternative fails */
  int alt_error;
  int last_error;
};

struct jc_factory {
  http_stream_factory base;
  jc_params p;
  jc_request head; /* circular list of live controllers */
  size_t count;
  base_timer timer; /* resumes waiting main jobs */
  bool timer_open;
  bool quic_worked;     /* a QUIC handshake was confirmed on this network */
  bool network_changed; /* since start: the persisted record no longer counts */
};

static jc_factory *F(http_stream_factory *b) { return (jc_factory *)b; }

static const char *job_state_name(job_state s) {
  switch (s) {
#define X(name)                                                                                    \
  case JOB_STATE_##name:                                                                           \
    return #name;
    JOB_STATES(X)
#undef X
  }
  return "UNKNOWN";
}

static const char *job_type_name(job_type t) { return t == JOB_MAIN ? "main" : "alternative"; }

void jc_params_init(jc_params *p) {
  memset(p, 0, sizeof *p);
  altsvc_select_params_init(&p->select);
}

static int64_t now_ticks(jc_factory *f) { return base_clock_ticks(f->p.clock); }

/* Appends "alternative_service":"quic localhost:443" for NetLog params. */
static void append_alt_json(strbuf *sb, const altsvc_service *s) {
  char a[URL_MAX_HOST + 32];
  if (altsvc_service_to_string(s, a, sizeof a) < 0)
    a[0] = '\0';
  strbuf_append_str(sb, "\"alternative_service\":");
  strbuf_json_string(sb, a, strlen(a));
}

/* ---- Wait time ----------------------------------------------------------- */

bool jc_factory_quic_known_to_work(jc_factory *f) {
  /* The network is the one since start or since the last change the
   * application reported; until a change, a persisted record of QUIC having
   * worked counts (Chromium: until its startup checks are done). */
  return f->quic_worked ||
         (!f->network_changed && props_has_last_local_address_when_quic_worked(f->p.props));
}

void jc_factory_on_network_changed(jc_factory *f) {
  if (!f)
    return;
  f->quic_worked = false;
  f->network_changed = true;
}

int64_t jc_factory_main_job_wait_us(jc_factory *f, const url *u, const altsvc_service *alt) {
  if (!f->p.delay_main_job_with_available_spdy_session &&
      stream_factory_has_h2_session(f->p.tcp, u))
    return 0;
  if (!jc_factory_quic_known_to_work(f))
    return 0;
  if (props_was_alternative_service_recently_broken(f->p.props, alt))
    return 0;
  url_origin o;
  if (url_origin_from_url(u, &o) != CRONC_OK)
    return 0;
  int64_t srtt = 0;
  int64_t wait =
      props_get_srtt(f->p.props, &o, &srtt) && srtt > 0 ? srtt + srtt / 2 : JC_DEFAULT_RTT_US;
  return wait < JC_MAX_MAIN_JOB_WAIT_US ? wait : JC_MAX_MAIN_JOB_WAIT_US;
}

/* ---- The resume timer ----------------------------------------------------- */

static void job_run(jc_job *j, int rv);

static void resume_due(jc_factory *f);

static void timer_fired(base_timer *t, void *ud) {
  (void)t;
  resume_due(ud);
}

static void arm(jc_factory *f) {
  if (!f->timer_open)
    return;
  int64_t next = INT64_MAX;
  for (jc_request *r = f->head.next; r != &f->head; r = r->next)
    if (r->main.waiting && r->main.resume_at < next)
      next = r->main.resume_at;
  if (next == INT64_MAX) {
    base_timer_stop(&f->timer);
    return;
  }
  int64_t delta = next - now_ticks(f);
  uint64_t ms = delta <= 0 ? 0 : (uint64_t)((delta + 999) / 1000);
  base_timer_start(&f->timer, ms, 0, timer_fired, f);
}

static void resume_waiting_main(jc_request *r) {
  jc_job *m = &r->main;
  m->waiting = false;
  if (netlog_is_capturing(r->f->p.nl)) {
    char buf[64];
    snprintf(buf, sizeof buf, "{\"waited_us\":%lld}",
             (long long)(now_ticks(r->f) - m->wait_started));
    netlog_add(r->f->p.nl, m->source, NETLOG_TYPE_HTTP_STREAM_JOB_WAITING, NETLOG_PHASE_END, buf);
  }
  netlog_add(r->f->p.nl, m->source, NETLOG_TYPE_HTTP_STREAM_JOB_RESUMED, NETLOG_PHASE_NONE, NULL);
  job_run(m, CRONC_OK);
}

static void resume_due(jc_factory *f) {
  /* Resuming runs a job, which may finish controllers: restart the walk
   * after each one. */
  for (;;) {
    int64_t now = now_ticks(f);
    jc_request *due = NULL;
    for (jc_request *r = f->head.next; r != &f->head; r = r->next)
      if (r->main.waiting && r->main.resume_at <= now) {
        due = r;
        break;
      }
    if (!due)
      break;
    resume_waiting_main(due);
  }
  arm(f);
}

/* Chromium's MaybeResumeMainJob: the main job may go on after delay_us. */
static void resume_main(jc_request *r, int64_t delay_us) {
  jc_job *m = &r->main;
  if (!m->exists || m->done)
    return;
  int64_t at = now_ticks(r->f) + (delay_us > 0 ? delay_us : 0);
  if (at >= m->resume_at)
    return; /* already due sooner */
  m->resume_at = at;
  if (m->waiting) {
    if (delay_us <= 0)
      resume_waiting_main(r);
    else
      arm(r->f);
  }
}

/* ---- Controller lifetime and results --------------------------------------- */

static bool job_live(const jc_job *j) { return j->exists && !j->done; }

/* Closes the job's HTTP_STREAM_JOB span (and a WAITING span still open)
 * with its result, so that every BEGIN has its END in the viewer. */
static void log_job_end(jc_job *j, int rv) {
  netlog *nl = j->ctl->f->p.nl;
  if (!netlog_is_capturing(nl))
    return;
  if (j->waiting)
    netlog_add(nl, j->source, NETLOG_TYPE_HTTP_STREAM_JOB_WAITING, NETLOG_PHASE_END, NULL);
  char buf[40];
  snprintf(buf, sizeof buf, "{\"net_error\":%d}", rv);
  netlog_add(nl, j->source, NETLOG_TYPE_HTTP_STREAM_JOB, NETLOG_PHASE_END, buf);
}

static void job_cancel(jc_job *j) {
  jc_factory *f = j->ctl->f;
  if (!job_live(j))
    return;
  if (j->tcp_req) {
    stream_factory_cancel(f->p.tcp, j->tcp_req);
    j->tcp_req = NULL;
  }
  if (j->quic_req) {
    f->p.quic.cancel(f->p.quic.ud, j->quic_req);
    j->quic_req = NULL;
  }
  log_job_end(j, CRONC_ERR_ABORTED);
  j->waiting = false;
  j->done = true;
  j->cancelled = true;
  j->result = CRONC_ERR_ABORTED;
}

static void controller_free(jc_request *r) {
  jc_factory *f = r->f;
  r->prev->next = r->next;
  r->next->prev = r->prev;
  f->count--;
  netlog_add(f->p.nl, r->source, NETLOG_TYPE_HTTP_STREAM_JOB_CONTROLLER, NETLOG_PHASE_END, NULL);
  if (r->owns_url)
    url_free(&r->u);
  free(r);
}

/* An alternative job may be orphaned and a preconnect has no caller: the
 * controller then keeps a URL of its own (the common no-alternative request
 * skips the copy). */
static int own_url(jc_request *r) {
  if (r->owns_url)
    return CRONC_OK;
  int rv = url_parse(r->req.url->spec, strlen(r->req.url->spec), &r->u);
  if (rv != CRONC_OK)
    return rv;
  r->owns_url = true;
  r->req.url = &r->u;
  return CRONC_OK;
}

/* Chromium's MaybeReportBrokenAlternativeService, once both jobs are done. */
static void maybe_report_broken(jc_request *r) {
  if (!r->altjob.exists || r->altjob.cancelled || r->altjob.result == CRONC_OK)
    return;
  if (!r->main.exists || r->main.result != CRONC_OK)
    return; /* the main job failed too: nothing is known about the alternative */
  int e = r->altjob.result;
  const altsvc_service *alt = &r->alt.info.service;
  if (e == CRONC_ERR_NETWORK_CHANGED || e == CRONC_ERR_INTERNET_DISCONNECTED ||
      (e == CRONC_ERR_NAME_NOT_RESOLVED && strcmp(alt->host, r->origin.host) == 0))
    return;
  jc_factory *f = r->f;
  if (netlog_is_capturing(f->p.nl)) {
    strbuf sb = STRBUF_INIT;
    strbuf_append_char(&sb, '{');
    append_alt_json(&sb, alt);
    strbuf_appendf(&sb,
                   ",\"net_error\":%d,\"reason\":\"the alternative job failed (%s) and the main "
                   "job succeeded\"}",
                   e, cronc_error_name(e));
    if (!strbuf_failed(&sb))
      netlog_add_event(f->p.nl, r->source, NETLOG_TYPE_CRONC_HTTP_STREAM_JOB_CONTROLLER_ALT_BROKEN,
                       strbuf_cstr(&sb));
    strbuf_free(&sb);
  }
  props_mark_alternative_service_broken(f->p.props, alt);
}

/* Frees the controller when nothing of it is left running. */
static void maybe_finish(jc_request *r) {
  if (job_live(&r->main) || job_live(&r->altjob) || !r->caller_gone)
    return;
  maybe_report_broken(r);
  controller_free(r);
}

static void fill_report(jc_request *r) {
  http_stream_request_report *rep = r->report;
  if (!rep)
    return;
  rep->quic_broken = r->quic_broken;
  rep->main_wait_us = r->main_wait_us;
  rep->alt_error = r->alt_error;
  if (r->altjob.exists) {
    rep->alt = r->alt.info.service;
    rep->winner = r->bound == &r->altjob ? HTTP_JOB_WINNER_ALTERNATIVE
                  : r->bound == &r->main ? HTTP_JOB_WINNER_MAIN
                                         : HTTP_JOB_WINNER_NONE;
  }
}

/* The caller's one result: from the loop (job callbacks), never inside
 * request_stream. */
static void deliver(jc_request *r, int rv, http_stream *stream) {
  fill_report(r);
  http_stream_ready_cb cb = r->cb;
  void *ud = r->cb_ud;
  r->caller_gone = true;
  r->cb = NULL;
  r->report = NULL;
  if (cb)
    cb(ud, rv, stream);
}

/* A job has its result (Chromium's OnStreamReady / OnStreamFailed). */
static void job_complete(jc_job *j, int rv, http_stream *stream) {
  jc_request *r = j->ctl;
  jc_factory *f = r->f;
  j->done = true;
  j->result = rv;

  if (rv == CRONC_OK && r->starting) {
    /* The pools never hand out a stream inside the call that asked (their
     * callbacks run from the loop); should one do so anyway, the stream is
     * refused rather than delivered inside request_stream. */
    if (stream)
      stream->vt->close(stream, true);
    rv = j->result = CRONC_ERR_UNEXPECTED;
  }
  log_job_end(j, rv);
  if (rv == CRONC_OK) {
    if (r->caller_gone || r->bound || r->preconnect) {
      /* An orphan (or a preconnect) finished: its connection stays in its
       * pool for later requests. */
      if (stream)
        stream->vt->close(stream, false);
      maybe_finish(r);
      return;
    }
    r->bound = j;
    netlog_add_source_dependency(f->p.nl, j->source, NETLOG_TYPE_HTTP_STREAM_JOB_BOUND_TO_REQUEST,
                                 r->source);
    jc_job *other = j == &r->main ? &r->altjob : &r->main;
    if (job_live(other)) {
      if (j == &r->altjob) {
        job_cancel(other); /* Chromium cancels the main job (crbug 757548) */
      } else {
        /* The alternative job runs on: its session stays, its failure counts. */
        netlog_add(f->p.nl, other->source, NETLOG_TYPE_HTTP_STREAM_JOB_ORPHANED, NETLOG_PHASE_NONE,
                   NULL);
      }
    }
    deliver(r, CRONC_OK, stream);
    maybe_finish(r);
    return;
  }

  r->last_error = rv;
  if (j == &r->altjob) {
    r->alt_error = rv;
    resume_main(r, 0); /* the alternative failed: the main job goes now */
  }
  /* A failure while the other job runs is not reported; the last one is. */
  if (!r->caller_gone && !r->starting && !job_live(&r->main) && !job_live(&r->altjob) && !r->bound)
    deliver(r, rv, NULL);
  if (!r->starting)
    maybe_finish(r);
}

static void on_job_stream(void *ud, int rv, http_stream *stream) {
  jc_job *j = ud;
  j->tcp_req = NULL;
  j->quic_req = NULL;
  j->stream = rv == CRONC_OK ? stream : NULL;
  job_run(j, rv);
}

/* ---- Job states (Chromium's Job::DoLoop) ----------------------------------- */

static int do_start(jc_job *j) {
  j->next_state = JOB_STATE_RESOLVE_PROXY;
  return CRONC_OK;
}

/* No proxies yet: DIRECT. */
static int do_resolve_proxy(jc_job *j) {
  j->next_state = JOB_STATE_RESOLVE_PROXY_COMPLETE;
  return CRONC_OK;
}

static int do_resolve_proxy_complete(jc_job *j, int rv) {
  if (rv == CRONC_OK)
    j->next_state = JOB_STATE_WAIT;
  return rv;
}

/* Chromium's ShouldWait: only a blocked or delayed main job waits. */
static int do_wait(jc_job *j) {
  j->next_state = JOB_STATE_WAIT_COMPLETE;
  jc_request *r = j->ctl;
  jc_factory *f = r->f;
  if (j->type != JOB_MAIN || j->resume_at <= now_ticks(f))
    return CRONC_OK;
  j->waiting = true;
  j->wait_started = now_ticks(f);
  if (netlog_is_capturing(f->p.nl)) {
    char buf[64];
    if (j->resume_at == INT64_MAX)
      snprintf(buf, sizeof buf, "{\"blocked\":true}");
    else /* the wait chosen when the alternative job started */
      snprintf(buf, sizeof buf, "{\"delay_us\":%lld}", (long long)r->main_wait_us);
    netlog_add(f->p.nl, j->source, NETLOG_TYPE_HTTP_STREAM_JOB_WAITING, NETLOG_PHASE_BEGIN, buf);
  }
  arm(f);
  return CRONC_ERR_IO_PENDING;
}

static int do_wait_complete(jc_job *j, int rv) {
  if (rv == CRONC_OK)
    j->next_state = JOB_STATE_INIT_CONNECTION;
  return rv;
}

static int do_init_connection(jc_job *j) {
  j->next_state = JOB_STATE_INIT_CONNECTION_COMPLETE;
  jc_request *r = j->ctl;
  jc_factory *f = r->f;
  if (j->type == JOB_ALTERNATIVE) {
    const altsvc_service *alt = &r->alt.info.service;
    if (alt->protocol == ALTSVC_PROTO_QUIC) {
      int rv = f->p.quic.request_stream(f->p.quic.ud, &r->req, alt->host, alt->port, on_job_stream,
                                        j, &j->quic_req);
      if (rv == CRONC_ERR_IO_PENDING) {
        /* Chromium's MaybeSetWaitTimeForMainJob: the QUIC job is under way;
         * the main job gets its wait unless a session is being reused. */
        if (r->alt.uses_existing_quic_session) {
          r->main_wait_us = -1;
        } else {
          r->main_wait_us = jc_factory_main_job_wait_us(f, r->req.url, alt);
          resume_main(r, r->main_wait_us);
        }
      }
      return rv;
    }
    /* An h2 alternative holds the main job until it fails. */
    r->main_wait_us = -1;
    return stream_factory_request_stream_to(f->p.tcp, &r->req, alt->host, alt->port, on_job_stream,
                                            j, &j->tcp_req);
  }
  return stream_factory_request_stream_to(f->p.tcp, &r->req, NULL, 0, on_job_stream, j,
                                          &j->tcp_req);
}

static int do_init_connection_complete(jc_job *j, int rv) {
  if (rv == CRONC_OK)
    j->next_state = JOB_STATE_CREATE_STREAM;
  return rv;
}

/* The pools hand out streams ready to use: nothing left to create. */
static int do_create_stream(jc_job *j) {
  j->next_state = JOB_STATE_CREATE_STREAM_COMPLETE;
  return CRONC_OK;
}

static int do_create_stream_complete(jc_job *j, int rv) {
  if (rv == CRONC_OK)
    j->next_state = JOB_STATE_DONE;
  return rv;
}

static void log_job_state(jc_job *j, job_state s, int rv) {
  netlog *nl = j->ctl->f->p.nl;
  if (!netlog_is_capturing(nl))
    return;
  char buf[96];
  snprintf(buf, sizeof buf, "{\"state\":\"%s\",\"rv\":%d}", job_state_name(s), rv);
  netlog_add_event(nl, j->source, NETLOG_TYPE_CRONC_HTTP_STREAM_JOB_STATE, buf);
}

static int job_do_loop(jc_job *j, int rv) {
  do {
    job_state s = j->next_state;
    j->next_state = JOB_STATE_NONE;
    log_job_state(j, s, rv);
    switch (s) {
    case JOB_STATE_START:
      rv = do_start(j);
      break;
    case JOB_STATE_RESOLVE_PROXY:
      rv = do_resolve_proxy(j);
      break;
    case JOB_STATE_RESOLVE_PROXY_COMPLETE:
      rv = do_resolve_proxy_complete(j, rv);
      break;
    case JOB_STATE_WAIT:
      rv = do_wait(j);
      break;
    case JOB_STATE_WAIT_COMPLETE:
      rv = do_wait_complete(j, rv);
      break;
    case JOB_STATE_INIT_CONNECTION:
      rv = do_init_connection(j);
      break;
    case JOB_STATE_INIT_CONNECTION_COMPLETE:
      rv = do_init_connection_complete(j, rv);
      break;
    case JOB_STATE_CREATE_STREAM:
      rv = do_create_stream(j);
      break;
    case JOB_STATE_CREATE_STREAM_COMPLETE:
      rv = do_create_stream_complete(j, rv);
      break;
    case JOB_STATE_DONE:
    case JOB_STATE_NONE:
    default:
      rv = CRONC_ERR_UNEXPECTED;
      break;
    }
  } while (rv != CRONC_ERR_IO_PENDING && j->next_state != JOB_STATE_NONE &&
           j->next_state != JOB_STATE_DONE);
  return rv;
}

/* Runs the job's states; a finished job reports to its controller. The
 * stream of a successful connection request is held in j->stream. */
static void job_run(jc_job *j, int rv) {
  if (!job_live(j))
    return;
  rv = job_do_loop(j, rv);
  if (rv == CRONC_ERR_IO_PENDING)
    return;
  http_stream *st = j->stream;
  j->stream = NULL;
  job_complete(j, rv, rv == CRONC_OK ? st : NULL);
}

/* ---- Starting ------------------------------------------------------------ */

static void job_init(jc_request *r, jc_job *j, job_type type) {
  jc_factory *f = r->f;
  j->ctl = r;
  j->type = type;
  j->exists = true;
  j->next_state = JOB_STATE_START;
  j->resume_at = INT64_MIN;
  j->source = netlog_source_new(f->p.nl, NETLOG_SOURCE_HTTP_STREAM_JOB);
  if (netlog_is_capturing(f->p.nl)) {
    strbuf sb = STRBUF_INIT;
    strbuf_append_str(&sb, "{\"original_url\":");
    strbuf_json_string(&sb, r->req.url->spec, strlen(r->req.url->spec));
    strbuf_appendf(&sb, ",\"type\":\"%s\"", job_type_name(type));
    if (type == JOB_ALTERNATIVE) {
      strbuf_append_char(&sb, ',');
      append_alt_json(&sb, &r->alt.info.service);
    }
    strbuf_appendf(&sb, ",\"source_dependency\":{\"id\":%u,\"type\":%d}}", (unsigned)r->source.id,
                   (int)r->source.type);
    if (!strbuf_failed(&sb))
      netlog_add(f->p.nl, j->source, NETLOG_TYPE_HTTP_STREAM_JOB, NETLOG_PHASE_BEGIN,
                 strbuf_cstr(&sb));
    strbuf_free(&sb);
  }
}

static bool select_can_use_session(void *ud, const url_origin *origin, const altsvc_service *alt) {
  jc_factory *f = ud;
  return f->p.quic.can_use_existing_session &&
         f->p.quic.can_use_existing_session(f->p.quic.ud, origin->host, origin->port, alt->host,
                                            alt->port);
}

static void find_alternative(jc_request *r) {
  jc_factory *f = r->f;
  altsvc_select_params sp = f->p.select;
  if (!f->p.quic.request_stream)
    sp.enable_quic = false;
  sp.can_use_existing_quic_session = select_can_use_session;
  sp.quic_session_user_data = f;
  altsvc_select_request sr;
  altsvc_select_request_init(&sr, &r->origin);
  sr.enable_alternative_services = r->req.enable_alternative_services;
  if (altsvc_select(f->p.props, &sp, &sr, &r->alt) != CRONC_OK)
    memset(&r->alt, 0, sizeof r->alt);
  r->quic_broken = r->alt.quic_broken;
  if (r->quic_broken) /* Chromium's OnQuicBroken */
    netlog_add_event(f->p.nl, r->source, NETLOG_TYPE_CRONC_HTTP_STREAM_JOB_CONTROLLER_QUIC_BROKEN,
                     "{\"reason\":\"every advertised QUIC alternative is broken\"}");
  if (r->alt.found && netlog_is_capturing(f->p.nl)) {
    strbuf sb = STRBUF_INIT;
    strbuf_append_char(&sb, '{');
    append_alt_json(&sb, &r->alt.info.service);
    strbuf_appendf(&sb, ",\"uses_existing_quic_session\":%s,\"usage\":\"%s\"}",
                   r->alt.uses_existing_quic_session ? "true" : "false",
                   altsvc_usage_name(r->alt.usage));
    if (!strbuf_failed(&sb))
      netlog_add_event(f->p.nl, r->source, NETLOG_TYPE_HTTP_STREAM_JOB_CONTROLLER_ALT_SVC_FOUND,
                       strbuf_cstr(&sb));
    strbuf_free(&sb);
  }
}

static jc_request *controller_new(jc_factory *f, const http_request_info *req) {
  _Static_assert(sizeof(jc_request) <= BASE_TCACHE_MAX, "see base/alloc.h");
  jc_request *r = base_zalloc(sizeof *r);
  if (!r)
    return NULL;
  if (url_origin_from_url(req->url, &r->origin) != CRONC_OK) {
    free(r);
    return NULL;
  }
  r->f = f;
  /* The jobs need the destination and connection options only; the head
   * and body go with the transaction's own request info. The URL stays the
   * caller's until a job may outlive the caller (own_url). */
  r->req = *req;
  r->req.headers = NULL;
  r->req.body = NULL;
  r->req.body_len = 0;
  r->req.upload = NULL;
  r->main_wait_us = 0;
  r->next = &f->head;
  r->prev = f->head.prev;
  f->head.prev->next = r;
  f->head.prev = r;
  f->count++;
  r->source = netlog_source_new(f->p.nl, NETLOG_SOURCE_HTTP_STREAM_JOB_CONTROLLER);
  if (netlog_is_capturing(f->p.nl)) {
    strbuf sb = STRBUF_INIT;
    strbuf_append_str(&sb, "{\"url\":");
    strbuf_json_string(&sb, r->req.url->spec, strlen(r->req.url->spec));
    strbuf_appendf(&sb, ",\"source_dependency\":{\"id\":%u,\"type\":%d}}", (unsigned)req->source.id,
                   (int)req->source.type);
    if (!strbuf_failed(&sb))
      netlog_add(f->p.nl, r->source, NETLOG_TYPE_HTTP_STREAM_JOB_CONTROLLER, NETLOG_PHASE_BEGIN,
                 strbuf_cstr(&sb));
    strbuf_free(&sb);
  }
  netlog_add_source_dependency(f->p.nl, req->source, NETLOG_TYPE_HTTP_STREAM_JOB_CONTROLLER_BOUND,
                               r->source);
  return r;
}

/* Starts the jobs: the alternative first, then the main job, which waits in
 * WAIT while it is held. A job that finishes synchronously (an immediate
 * error) only records its result: the caller hears from the loop. */
static void start_jobs(jc_request *r) {
  if (r->alt.found) {
    job_init(r, &r->altjob, JOB_ALTERNATIVE);
    r->main.resume_at = INT64_MAX; /* blocked until told otherwise */
  }
  if (r->altjob.exists)
    job_run(&r->altjob, CRONC_OK);
  job_init(r, &r->main, JOB_MAIN);
  if (r->altjob.exists) {
    r->main.resume_at = r->altjob.done ? INT64_MIN : INT64_MAX;
    if (!r->altjob.done && r->main_wait_us >= 0)
      r->main.resume_at = now_ticks(r->f) + r->main_wait_us;
  }
  job_run(&r->main, CRONC_OK);
}

static int jc_request_stream(http_stream_factory *b, const http_request_info *req,
                             http_stream_request_report *report, http_stream_ready_cb cb, void *ud,
                             http_stream_request **out) {
  jc_factory *f = F(b);
  if (report)
    memset(report, 0, sizeof *report);
  if (!req || !req->url || !cb || !out)
    return CRONC_ERR_INVALID_ARGUMENT;
  jc_request *r = controller_new(f, req);
  if (!r)
    return CRONC_ERR_OUT_OF_MEMORY;
  r->cb = cb;
  r->cb_ud = ud;
  r->report = report;
  find_alternative(r);
  if (r->alt.found && own_url(r) != CRONC_OK) {
    r->cb = NULL;
    r->report = NULL;
    r->caller_gone = true;
    controller_free(r);
    return CRONC_ERR_OUT_OF_MEMORY;
  }
  r->starting = true;
  start_jobs(r);
  r->starting = false;
  if (!job_live(&r->main) && !job_live(&r->altjob)) {
    /* Both failed at once (e.g. a host rule to an invalid host). */
    int rv = r->last_error ? r->last_error : CRONC_ERR_FAILED;
    fill_report(r);
    r->cb = NULL;
    r->report = NULL;
    r->caller_gone = true;
    maybe_report_broken(r);
    controller_free(r);
    return rv;
  }
  *out = (http_stream_request *)r;
  return CRONC_ERR_IO_PENDING;
}

static void jc_cancel(http_stream_factory *b, http_stream_request *h) {
  (void)b;
  jc_request *r = (jc_request *)h;
  if (!r || r->caller_gone)
    return;
  r->caller_gone = true;
  r->cb = NULL;
  r->report = NULL;
  /* Chromium resets the jobs of a request that goes away unbound. */
  job_cancel(&r->altjob);
  job_cancel(&r->main);
  maybe_finish(r);
  arm(F(b));
}

static const http_stream_factory_vtable jc_vt = {jc_request_stream, jc_cancel};

/* ---- QUIC outcomes ------------------------------------------------------- */

void jc_factory_on_quic_session(jc_factory *f, const jc_quic_outcome *o) {
  if (!f || !o || !o->dest_host || !o->dest_host[0])
    return;
  altsvc_service alt = {.protocol = ALTSVC_PROTO_QUIC, .port = o->dest_port};
  snprintf(alt.host, sizeof alt.host, "%s", o->dest_host);
  if (o->result == CRONC_OK) {
    f->quic_worked = true;
    props_set_last_local_address_when_quic_worked(
        f->p.props, o->local_address && o->local_address[0] ? o->local_address : "unknown");
    props_confirm_alternative_service(f->p.props, &alt);
    url_origin origin;
    if (o->srtt_us > 0 && o->host &&
        url_origin_init(&origin, URL_SCHEME_HTTPS, o->host, strlen(o->host), o->port) == CRONC_OK)
      props_set_srtt(f->p.props, &origin, o->srtt_us);
  } else {
    /* Lost before its handshake was confirmed (Chromium's
     * ProcessGoingAwaySession): recently broken, and the server's smoothed
     * RTT is forgotten so the next main job is not delayed by it. */
    props_mark_alternative_service_recently_broken(f->p.props, &alt);
    url_origin origin;
    if (o->host &&
        url_origin_init(&origin, URL_SCHEME_HTTPS, o->host, strlen(o->host), o->port) == CRONC_OK)
      props_clear_srtt(f->p.props, &origin);
  }
}

/* ---- Preconnect ------------------------------------------------------------ */

int jc_factory_preconnect(jc_factory *f, const url *u, int num_streams, bool allow_http2) {
  if (!f || !u || num_streams < 1)
    return CRONC_ERR_INVALID_ARGUMENT;
  http_request_info req = {
      .url = u,
      .method = "GET",
      .allow_http2 = allow_http2,
      .enable_alternative_services = true,
  };
  jc_request *r = controller_new(f, &req);
  if (!r)
    return CRONC_ERR_OUT_OF_MEMORY;
  r->preconnect = true;
  r->caller_gone = true; /* nobody waits for a result */
  if (own_url(r) != CRONC_OK) {
    controller_free(r);
    return CRONC_ERR_OUT_OF_MEMORY;
  }
  find_alternative(r);
  const altsvc_service *alt = &r->alt.info.service;
  bool quic = r->alt.found && alt->protocol == ALTSVC_PROTO_QUIC;
  if (netlog_is_capturing(f->p.nl)) {
    char buf[96];
    snprintf(buf, sizeof buf, "{\"num_streams\":%d,\"over\":\"%s\"}", num_streams,
             quic ? (r->alt.uses_existing_quic_session ? "existing QUIC session" : "QUIC") : "TCP");
    netlog_add_event(f->p.nl, r->source, NETLOG_TYPE_CRONC_HTTP_STREAM_JOB_CONTROLLER_PRECONNECT,
                     buf);
  }
  int rv = CRONC_OK;
  if (quic) {
    /* Chromium: a valid QUIC alternative takes the preconnect (one session
     * carries every stream); nothing to do when a session is there. */
    if (!r->alt.uses_existing_quic_session) {
      job_init(r, &r->altjob, JOB_ALTERNATIVE);
      r->starting = true;
      job_run(&r->altjob, CRONC_OK);
      r->starting = false;
    }
  } else {
    rv = stream_factory_preconnect(f->p.tcp, &r->req, num_streams);
  }
  maybe_finish(r);
  return rv;
}

/* ---- Factory --------------------------------------------------------------- */

int jc_factory_new(const jc_params *p, jc_factory **out) {
  if (!p || !out || !p->runner || !p->props || !p->tcp)
    return CRONC_ERR_INVALID_ARGUMENT;
  if (p->quic.request_stream && !p->quic.cancel)
    return CRONC_ERR_INVALID_ARGUMENT;
  jc_factory *f = calloc(1, sizeof *f);
  if (!f)
    return CRONC_ERR_OUT_OF_MEMORY;
  f->base.vt = &jc_vt;
  f->p = *p;
  if (!f->p.clock)
    f->p.clock = base_clock_system();
  f->head.next = f->head.prev = &f->head;
  if (base_timer_init(p->runner, &f->timer) == CRONC_OK)
    f->timer_open = true;
  *out = f;
  return CRONC_OK;
}

static void timer_closed(base_timer *t, void *ud) {
  (void)t;
  free(ud);
}

void jc_factory_free(jc_factory *f) {
  if (!f)
    return;
  while (f->head.next != &f->head) {
    jc_request *r = f->head.next;
    r->cb = NULL;
    r->report = NULL;
    r->caller_gone = true;
    job_cancel(&r->altjob);
    job_cancel(&r->main);
    controller_free(r);
  }
  if (f->timer_open)
    base_timer_close(&f->timer, timer_closed, f);
  else
    free(f);
}

http_stream_factory *jc_factory_base(jc_factory *f) { return &f->base; }

size_t jc_factory_controller_count(const jc_factory *f) { return f->count; }
