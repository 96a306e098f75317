#include "support/fetch_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>

static void note(fetch_result *r, const cronc_response_info *info) {
  if (!info)
    return;
  r->status = info->http_status;
  r->metrics = *info->metrics;
  r->zero_rtt = info->zero_rtt;
  r->was_cached = info->was_cached;
  r->cache_validated = info->cache_validated;
  r->quic_broken = info->quic_broken;
  r->job_winner = info->job_winner;
  snprintf(r->alternative_service, sizeof r->alternative_service, "%s",
           info->alternative_service ? info->alternative_service : "");
  snprintf(r->protocol, sizeof r->protocol, "%s", info->negotiated_protocol);
  for (size_t i = 0; i < info->n_headers; i++)
    if (strcasecmp(info->headers[i].name, "content-encoding") == 0)
      snprintf(r->encoding, sizeof r->encoding, "%s", info->headers[i].value);
}

static void done(fetch_result *r, const cronc_response_info *info, int error) {
  note(r, info);
  pthread_mutex_lock(&r->mu);
  gnutls_hash_output(r->sha, r->sha256);
  r->error = error;
  r->done = true;
  pthread_cond_signal(&r->cv);
  pthread_mutex_unlock(&r->mu);
}

static void cb_redirect(cronc_request *q, void *ud, const cronc_response_info *i, const char *l) {
  (void)i;
  (void)l;
  fetch_result *r = ud;
  r->redirects++;
  if (r->follow_redirects)
    cronc_request_follow_redirect(q);
  else
    cronc_request_cancel(q);
}

static void cb_started(cronc_request *q, void *ud, const cronc_response_info *i) {
  fetch_result *r = ud;
  note(r, i);
  cronc_request_read(q, r->buf, sizeof r->buf);
}

static void cb_read(cronc_request *q, void *ud, const cronc_response_info *i, uint8_t *b,
                    size_t n) {
  (void)i;
  fetch_result *r = ud;
  if (r->check && !r->check(b, n, r->bytes))
    r->body_ok = false;
  r->bytes += (int64_t)n;
  gnutls_hash(r->sha, b, n);
  cronc_request_read(q, r->buf, sizeof r->buf);
}

static void cb_ok(cronc_request *q, void *ud, const cronc_response_info *i) {
  (void)q;
  done(ud, i, CRONC_OK);
}

static void cb_failed(cronc_request *q, void *ud, const cronc_response_info *i, int e) {
  (void)q;
  done(ud, i, e);
}

static void cb_canceled(cronc_request *q, void *ud, const cronc_response_info *i) {
  (void)q;
  done(ud, i, CRONC_ERR_ABORTED);
}

static const cronc_request_callbacks CBS = {cb_redirect, cb_started, cb_read,
                                            cb_ok,       cb_failed,  cb_canceled};

fetch_result *fetch_result_new(void) {
  fetch_result *r = calloc(1, sizeof *r);
  assert_non_null(r);
  pthread_mutex_init(&r->mu, NULL);
  pthread_cond_init(&r->cv, NULL);
  assert_int_equal(gnutls_hash_init(&r->sha, GNUTLS_DIG_SHA256), 0);
  r->follow_redirects = true;
  r->body_ok = true;
  return r;
}

cronc_request *fetch_start(cronc_engine *e, const char *url, const cronc_request_params *params,
                           fetch_result *r) {
  cronc_request *q = NULL;
  assert_int_equal(cronc_request_new(e, url, params, &CBS, r, &q), CRONC_OK);
  assert_int_equal(cronc_request_start(q), CRONC_OK);
  return q;
}

bool fetch_wait(fetch_result *r, unsigned timeout_ms) {
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += timeout_ms / 1000;
  until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
  if (until.tv_nsec >= 1000000000L) {
    until.tv_sec++;
    until.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&r->mu);
  int rc = 0;
  while (!r->done && rc != ETIMEDOUT)
    rc = timeout_ms ? pthread_cond_timedwait(&r->cv, &r->mu, &until)
                    : pthread_cond_wait(&r->cv, &r->mu);
  bool ok = r->done;
  pthread_mutex_unlock(&r->mu);
  return ok;
}

void fetch_result_free(fetch_result *r) {
  uint8_t tmp[32];
  gnutls_hash_deinit(r->sha, tmp);
  pthread_cond_destroy(&r->cv);
  pthread_mutex_destroy(&r->mu);
  free(r);
}
