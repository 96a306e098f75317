/* The race story of `cronc -v`, from NetLog events (see fetch_story.h). */
#include "fetch_story.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/netlog.h"
#include "engine/api_internal.h"
#include "engine/engine.h"

/* One recorded event; params copied (the observer's are valid only during
 * the call). */
typedef struct story_event {
  netlog_event_type type;
  netlog_source_type source_type;
  uint32_t source;
  netlog_phase phase;
  int64_t t_us;
  char *params; /* NULL = none */
} story_event;

struct fetch_story {
  netlog *nl;
  netlog_observer *obs;
  pthread_mutex_t mu;
  story_event *ev;
  size_t n, cap;
  size_t background_told; /* events before this were looked at for background lines */
  uint32_t *claimed;      /* URL_REQUEST sources already given to a request */
  size_t n_claimed, cap_claimed;
};

/* The events the story reads; the per-state and per-frame ones are skipped
 * so memory stays small on long runs. */
static bool wanted(netlog_event_type t) {
  switch (t) {
  case NETLOG_TYPE_HTTP_STREAM_JOB_CONTROLLER:
  case NETLOG_TYPE_HTTP_STREAM_JOB_CONTROLLER_BOUND:
  case NETLOG_TYPE_HTTP_STREAM_JOB_CONTROLLER_ALT_SVC_FOUND:
  case NETLOG_TYPE_HTTP_STREAM_JOB:
  case NETLOG_TYPE_HTTP_STREAM_JOB_WAITING:
  case NETLOG_TYPE_HTTP_STREAM_JOB_RESUMED:
  case NETLOG_TYPE_HTTP_STREAM_JOB_BOUND_TO_REQUEST:
  case NETLOG_TYPE_HTTP_STREAM_JOB_ORPHANED:
  case NETLOG_TYPE_CRONC_HTTP_STREAM_JOB_CONTROLLER_QUIC_BROKEN:
  case NETLOG_TYPE_CRONC_HTTP_STREAM_JOB_CONTROLLER_ALT_BROKEN:
  case NETLOG_TYPE_HOST_RESOLVER_MANAGER_REQUEST:
  case NETLOG_TYPE_QUIC_SESSION_POOL_USE_EXISTING_SESSION:
  case NETLOG_TYPE_QUIC_SESSION:
  case NETLOG_TYPE_QUIC_SESSION_HANDSHAKE_CONFIRMED:
  case NETLOG_TYPE_QUIC_SESSION_ZERO_RTT_REJECTED:
  case NETLOG_TYPE_CRONC_ALT_SVC_SET:
    return true;
  default:
    return false;
  }
}

static void observe(const netlog_entry *e, void *ud) {
  fetch_story *st = ud;
  if (!wanted(e->type))
    return;
  pthread_mutex_lock(&st->mu);
  if (st->n == st->cap) {
    size_t cap = st->cap ? st->cap * 2 : 256;
    story_event *ev = realloc(st->ev, cap * sizeof *ev);
    if (!ev) {
      pthread_mutex_unlock(&st->mu);
      return; /* the story misses a line; the request is unaffected */
    }
    st->ev = ev;
    st->cap = cap;
  }
  st->ev[st->n++] = (story_event){e->type,  e->source.type,   e->source.id,
                                  e->phase, e->time_ticks_us, e->params ? strdup(e->params) : NULL};
  pthread_mutex_unlock(&st->mu);
}

fetch_story *fetch_story_attach(cronc_engine *eng) {
  engine *e = eng ? cronc_engine_internal(eng) : NULL;
  netlog *nl = e ? engine_netlog(e) : NULL;
  if (!nl)
    return NULL;
  fetch_story *st = calloc(1, sizeof *st);
  if (!st)
    return NULL;
  pthread_mutex_init(&st->mu, NULL);
  st->nl = nl;
  st->obs = netlog_add_observer(nl, observe, st);
  if (!st->obs) {
    pthread_mutex_destroy(&st->mu);
    free(st);
    return NULL;
  }
  return st;
}

void fetch_story_detach(fetch_story *st) {
  if (!st)
    return;
  netlog_remove_observer(st->nl, st->obs);
  for (size_t i = 0; i < st->n; i++)
    free(st->ev[i].params);
  free(st->ev);
  free(st->claimed);
  pthread_mutex_destroy(&st->mu);
  free(st);
}

size_t fetch_story_mark(fetch_story *st) {
  if (!st)
    return 0;
  pthread_mutex_lock(&st->mu);
  size_t n = st->n;
  pthread_mutex_unlock(&st->mu);
  return n;
}

/* ---- Reading params (cronc writes them compactly) ------------------------ */

static const char *param_at(const char *params, const char *key) {
  if (!params)
    return NULL;
  char pat[64];
  snprintf(pat, sizeof pat, "\"%s\":", key);
  const char *p = strstr(params, pat);
  if (!p)
    return NULL;
  p += strlen(pat);
  while (*p == ' ')
    p++;
  return p;
}

static long long param_int(const char *params, const char *key, long long def) {
  const char *p = param_at(params, key);
  if (!p || (*p != '-' && (*p < '0' || *p > '9')))
    return def;
  return strtoll(p, NULL, 10);
}

static bool param_true(const char *params, const char *key) {
  const char *p = param_at(params, key);
  return p && strncmp(p, "true", 4) == 0;
}

/* A string member (no escapes expected: hosts, names, URLs). */
static bool param_str(const char *params, const char *key, char *out, size_t n) {
  const char *p = param_at(params, key);
  if (!p || *p != '"' || n == 0)
    return false;
  p++;
  size_t i = 0;
  while (*p && *p != '"' && i + 1 < n) {
    if (*p == '\\' && p[1])
      p++;
    out[i++] = *p++;
  }
  out[i] = '\0';
  return true;
}

/* The id in {"source_dependency":{"id":N,...}}. */
static long dep_id(const char *params) {
  const char *p = param_at(params, "source_dependency");
  return p ? (long)param_int(p, "id", 0) : 0;
}

static double ms(int64_t us) { return (double)us / 1000.0; }

/* ---- Telling ------------------------------------------------------------- */

typedef struct job_view {
  long id;
  bool alternative;
  char service[160];
  int64_t begin_us, end_us;
  bool ended;
  long long error;
  bool orphaned;
  bool waited;        /* a WAITING begin */
  bool blocked;       /* held until the alternative fails */
  long long delay_us; /* the planned wait, -1 unknown */
  long long waited_us;
  bool resumed;
  bool bound;
} job_view;

static const char *error_name(long long e) { return cronc_error_name((int)e); }

/* Lines for events that belong to no request in particular. */
static void tell_background(fetch_story *st, size_t from, size_t to, FILE *out) {
  char last_broken[512] = ""; /* several orphaned jobs of one outage: one line */
  for (size_t i = from; i < to; i++) {
    const story_event *e = &st->ev[i];
    char a[200], o[200];
    switch (e->type) {
    case NETLOG_TYPE_CRONC_HTTP_STREAM_JOB_CONTROLLER_ALT_BROKEN:
      if (param_str(e->params, "alternative_service", a, sizeof a) &&
          param_str(e->params, "reason", o, sizeof o)) {
        char line[512];
        snprintf(line, sizeof line, "* %s is now marked broken: %s\n", a, o);
        if (strcmp(line, last_broken) != 0)
          fputs(line, out);
        snprintf(last_broken, sizeof last_broken, "%s", line);
      }
      break;
    case NETLOG_TYPE_CRONC_ALT_SVC_SET:
      if (param_true(e->params, "changed") && param_str(e->params, "origin", o, sizeof o)) {
        const char *list = param_at(e->params, "alternative_services");
        size_t len = list ? strcspn(list, "]") + (list[strcspn(list, "]")] ? 1 : 0) : 0;
        fprintf(out, "* learned Alt-Svc for %s: %.*s\n", o, (int)len, list ? list : "");
      }
      break;
    case NETLOG_TYPE_QUIC_SESSION_HANDSHAKE_CONFIRMED:
      fprintf(out, "* QUIC session #%u: handshake confirmed (smoothed RTT %.2f ms%s%s)\n",
              (unsigned)e->source, ms(param_int(e->params, "srtt_us", 0)),
              param_true(e->params, "resumed") ? ", resumed" : "",
              param_true(e->params, "zero_rtt") ? ", 0-RTT accepted" : "");
      break;
    case NETLOG_TYPE_QUIC_SESSION_ZERO_RTT_REJECTED:
      fprintf(out, "* QUIC session #%u: the server rejected 0-RTT; the request is resent\n",
              (unsigned)e->source);
      break;
    case NETLOG_TYPE_QUIC_SESSION:
      if (e->phase == NETLOG_PHASE_END && param_int(e->params, "net_error", 0) != 0 &&
          param_int(e->params, "net_error", 0) != CRONC_ERR_CONNECTION_CLOSED)
        fprintf(out, "* QUIC session #%u: closed: %s\n", (unsigned)e->source,
                error_name(param_int(e->params, "net_error", 0)));
      if (e->phase == NETLOG_PHASE_BEGIN && param_str(e->params, "dest", a, sizeof a))
        fprintf(out, "* QUIC session #%u: connecting to %s%s\n", (unsigned)e->source, a,
                param_true(e->params, "resumed_attempt") ? " (resuming with a stored ticket)" : "");
      break;
    default:
      break;
    }
  }
}

static bool claimed(const fetch_story *st, uint32_t id) {
  for (size_t i = 0; i < st->n_claimed; i++)
    if (st->claimed[i] == id)
      return true;
  return false;
}

static void claim(fetch_story *st, uint32_t id) {
  if (st->n_claimed == st->cap_claimed) {
    size_t cap = st->cap_claimed ? st->cap_claimed * 2 : 64;
    uint32_t *c = realloc(st->claimed, cap * sizeof *c);
    if (!c)
      return;
    st->claimed = c;
    st->cap_claimed = cap;
  }
  st->claimed[st->n_claimed++] = id;
}

static void tell_jobs(const fetch_story *st, const story_event *ctl, size_t from, FILE *out) {
  uint32_t cid = ctl->source;
  job_view jobs[4];
  size_t nj = 0;
  bool quic_broken = false;
  char found[160] = "";
  bool existing = false;
  for (size_t i = from; i < st->n; i++) {
    const story_event *e = &st->ev[i];
    if (e->source == cid && e->type == NETLOG_TYPE_CRONC_HTTP_STREAM_JOB_CONTROLLER_QUIC_BROKEN)
      quic_broken = true;
    if (e->source == cid && e->type == NETLOG_TYPE_HTTP_STREAM_JOB_CONTROLLER_ALT_SVC_FOUND) {
      param_str(e->params, "alternative_service", found, sizeof found);
      existing = param_true(e->params, "uses_existing_quic_session");
    }
    if (e->type == NETLOG_TYPE_HTTP_STREAM_JOB && e->phase == NETLOG_PHASE_BEGIN &&
        dep_id(e->params) == (long)cid && nj < 4) {
      job_view *j = &jobs[nj++];
      memset(j, 0, sizeof *j);
      j->id = (long)e->source;
      j->begin_us = e->t_us;
      j->delay_us = -1;
      char type[32] = "";
      param_str(e->params, "type", type, sizeof type);
      j->alternative = strcmp(type, "alternative") == 0;
      param_str(e->params, "alternative_service", j->service, sizeof j->service);
      continue;
    }
    for (size_t k = 0; k < nj; k++) {
      job_view *j = &jobs[k];
      if ((long)e->source != j->id)
        continue;
      switch (e->type) {
      case NETLOG_TYPE_HTTP_STREAM_JOB:
        if (!j->ended && (e->phase == NETLOG_PHASE_END || param_at(e->params, "net_error"))) {
          j->ended = true;
          j->end_us = e->t_us;
          j->error = param_int(e->params, "net_error", 0);
        }
        break;
      case NETLOG_TYPE_HTTP_STREAM_JOB_WAITING:
        if (e->phase == NETLOG_PHASE_BEGIN) {
          j->waited = true;
          j->blocked = param_true(e->params, "blocked");
          j->delay_us = param_int(e->params, "delay_us", -1);
        } else {
          j->waited_us = param_int(e->params, "waited_us", 0);
        }
        break;
      case NETLOG_TYPE_HTTP_STREAM_JOB_RESUMED:
        j->resumed = true;
        break;
      case NETLOG_TYPE_HTTP_STREAM_JOB_ORPHANED:
        j->orphaned = true;
        break;
      case NETLOG_TYPE_HTTP_STREAM_JOB_BOUND_TO_REQUEST:
        j->bound = true;
        break;
      default:
        break;
      }
    }
  }
  job_view *alt = NULL, *main_job = NULL;
  for (size_t k = 0; k < nj; k++) {
    if (jobs[k].alternative)
      alt = &jobs[k];
    else
      main_job = &jobs[k];
  }
  if (quic_broken)
    fprintf(out, "* QUIC broken: every QUIC alternative is marked broken; TCP only\n");
  if (!alt) {
    if (!quic_broken)
      fprintf(out, "* no race: main job only (no usable alternative service)\n");
    if (main_job && main_job->ended && main_job->error)
      fprintf(out, "* main job failed: %s\n", error_name(main_job->error));
    return;
  }
  int64_t t0 = ctl->t_us;
  fprintf(out, "* race: alternative job to %s%s started first\n",
          alt->service[0] ? alt->service : found, existing ? " (an open QUIC session)" : "");
  if (main_job) {
    if (!main_job->waited)
      fprintf(out, "* main job (TCP) not held (wait time 0: QUIC not yet known to work on this "
                   "network, an HTTP/2 session is open, or the alternative was recently broken)\n");
    else if (main_job->blocked)
      fprintf(out, "* main job (TCP) held until the alternative job fails\n");
    else
      fprintf(out, "* main job (TCP) held for up to %.1f ms (1.5 x smoothed RTT, capped)%s\n",
              ms(main_job->delay_us),
              main_job->resumed ? "; resumed when it ran out or the alternative failed" : "");
  }
  if (alt->bound) {
    fprintf(out, "* alternative job won after %.2f ms; main job %s\n", ms(alt->end_us - t0),
            !main_job                                                 ? "not started"
            : main_job->ended && main_job->error == CRONC_ERR_ABORTED ? "cancelled"
            : main_job->ended && main_job->error                      ? "had failed"
                                                                      : "cancelled");
  } else if (main_job && main_job->bound) {
    if (alt->ended && alt->error && alt->end_us <= main_job->end_us)
      fprintf(out, "* alternative job failed (%s) after %.2f ms; main job won after %.2f ms\n",
              error_name(alt->error), ms(alt->end_us - t0), ms(main_job->end_us - t0));
    else
      fprintf(out,
              "* main job won after %.2f ms; alternative job kept running (its session stays "
              "for later requests; if it fails the service is marked broken)\n",
              ms(main_job->end_us - t0));
  } else {
    fprintf(out, "* neither job produced a stream%s%s\n", alt->ended ? ": alternative " : "",
            alt->ended ? error_name(alt->error) : "");
  }
}

void fetch_story_tell(fetch_story *st, size_t mark, const char *request_url,
                      fetch_story_cursor *cur, FILE *out) {
  if (!st || !cur)
    return;
  pthread_mutex_lock(&st->mu);
  size_t end = st->n;
  /* Find the request: the first controller for request_url after mark whose
   * request no other request claimed. */
  if (!cur->request_id && request_url) {
    for (size_t i = mark; i < end; i++) {
      const story_event *e = &st->ev[i];
      char u[2048];
      if (e->type != NETLOG_TYPE_HTTP_STREAM_JOB_CONTROLLER || e->phase != NETLOG_PHASE_BEGIN ||
          !param_str(e->params, "url", u, sizeof u) || strcmp(u, request_url) != 0)
        continue;
      long r = dep_id(e->params);
      if (r > 0 && !claimed(st, (uint32_t)r)) {
        cur->request_id = r;
        claim(st, (uint32_t)r);
        break;
      }
    }
  }
  tell_background(st, st->background_told, end, out);
  st->background_told = end;
  if (!cur->request_id) {
    pthread_mutex_unlock(&st->mu);
    return;
  }
  /* DNS and session reuse on the request's own source. */
  size_t nctl = 0;
  for (size_t i = mark; i < end; i++) {
    const story_event *e = &st->ev[i];
    if ((long)e->source == cur->request_id &&
        e->type == NETLOG_TYPE_HOST_RESOLVER_MANAGER_REQUEST && e->phase == NETLOG_PHASE_BEGIN &&
        nctl >= cur->controllers_told) {
      char host[256] = "";
      param_str(e->params, "host", host, sizeof host);
      for (size_t k = i + 1; k < end; k++) {
        const story_event *x = &st->ev[k];
        if (x->source == e->source && x->type == e->type && x->phase == NETLOG_PHASE_END) {
          long long err = param_int(x->params, "net_error", 0);
          fprintf(out, "* DNS %s: %s in %.2f ms\n", host, err ? error_name(err) : "resolved",
                  ms(x->t_us - e->t_us));
          break;
        }
      }
    }
    if ((long)e->source == cur->request_id &&
        e->type == NETLOG_TYPE_QUIC_SESSION_POOL_USE_EXISTING_SESSION &&
        nctl >= cur->controllers_told)
      fprintf(out, "* reusing QUIC session #%ld\n", dep_id(e->params));
    if (e->type == NETLOG_TYPE_HTTP_STREAM_JOB_CONTROLLER && e->phase == NETLOG_PHASE_BEGIN &&
        dep_id(e->params) == cur->request_id) {
      if (nctl++ < cur->controllers_told)
        continue;
      tell_jobs(st, e, i, out);
    }
  }
  cur->controllers_told = nctl;
  pthread_mutex_unlock(&st->mu);
}
