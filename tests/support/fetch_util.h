/* tests/support/fetch_util: a blocking fetch over cronc's asynchronous
 * request API, for tests that drive the whole stack. The result records what
 * the callbacks saw: status, protocol, Content-Encoding, body size and
 * SHA-256, redirects, metrics and the terminal error; an optional check
 * validates every body chunk at its offset.
 *
 * Threads: callbacks run on the engine's network thread and fill the result
 * under its mutex; the test thread waits with fetch_wait() and reads the
 * result after it returned. Only linked into tests that use it. */
#ifndef CRONC_TESTS_SUPPORT_FETCH_UTIL_H
#define CRONC_TESTS_SUPPORT_FETCH_UTIL_H

#include <gnutls/crypto.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "cronc/cronc.h"

/* Returns false when data (n bytes at body offset) is not what was sent. */
typedef bool (*fetch_body_check_fn)(const uint8_t *data, size_t n, int64_t offset);

typedef struct fetch_result {
  /* Set before fetch_start(). */
  bool follow_redirects;     /* default true; false cancels at a redirect */
  fetch_body_check_fn check; /* NULL = none */
  /* Read after fetch_wait() returned true. */
  int error; /* 0 or the net error of on_failed; ERR_ABORTED for on_canceled */
  int status;
  char protocol[16];
  char encoding[16]; /* the response's Content-Encoding, "" if none */
  int64_t bytes;
  int redirects;
  bool body_ok; /* every chunk passed `check` */
  cronc_metrics metrics;
  bool zero_rtt;        /* the request went out as accepted early data */
  bool was_cached;      /* served from the HTTP cache */
  bool cache_validated; /* ...after a 304 */
  bool quic_broken;     /* every advertised QUIC alternative was broken */
  cronc_job_winner job_winner;
  char alternative_service[300]; /* "h3 host:port" or "" */
  uint8_t sha256[32]; /* of the whole body */
  /* Private. */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool done;
  gnutls_hash_hd_t sha;
  uint8_t buf[65536];
} fetch_result;

fetch_result *fetch_result_new(void);
/* Starts a request for url (params NULL = defaults) reporting into r; fails
 * the test if it cannot start. The caller frees the request after the wait. */
cronc_request *fetch_start(cronc_engine *e, const char *url, const cronc_request_params *params,
                           fetch_result *r);
/* Waits for the terminal callback; timeout_ms 0 = no limit. False on a time-out. */
bool fetch_wait(fetch_result *r, unsigned timeout_ms);
void fetch_result_free(fetch_result *r);

#endif /* CRONC_TESTS_SUPPORT_FETCH_UTIL_H */
