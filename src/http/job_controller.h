/* http/job_controller: the stream factory requests go through, Chromium's
 * HttpStreamFactory with one JobController per stream request
 * (CHROMIUM_ALTSVC.md §1.10-1.11, DESIGN.md "The path of one request").
 *
 * For each request the controller asks the selection rules (altsvc_select)
 * for an alternative service. Without one it runs the main job alone (TCP,
 * TLS, HTTP/1.1 or HTTP/2: stream_factory). With one it starts an
 * alternative job first (QUIC through the hooks the engine fills from
 * quic/, or HTTP/2 to the alternative's host and port) and holds the main
 * job: until the alternative job fails, or for a wait time (Chromium's
 * QuicSessionPool::GetTimeDelayForWaitingJob): 0 when QUIC is not known to
 * work on this network, when the alternative was recently broken, or when
 * an HTTP/2 session to the origin is open; else 1.5 x the server's smoothed
 * RTT, 300 ms without one, at most 3 s. An alternative that can use an
 * existing QUIC session (and an h2 alternative) holds the main job until it
 * fails.
 *
 * The first job with a stream serves the request. An alternative job that
 * wins cancels the main job; a main job that wins leaves the alternative
 * job running ("orphaned") so its session stays for later requests and its
 * failure still counts. A failure while the other job runs is not reported;
 * when both fail the request gets the last error. When both are done and
 * the alternative failed while the main job succeeded, the alternative is
 * marked broken (except for network-change, disconnected, and
 * name-not-resolved on the origin's own host), with a NetLog event saying
 * why.
 *
 * QUIC sessions report their outcome (jc_factory_on_quic_session): a
 * confirmed handshake confirms the alternative service, records the
 * server's smoothed RTT and that QUIC works on this network; a session lost
 * before confirmation marks the alternative recently broken (no 0-RTT next
 * time, main job not delayed).
 *
 * Jobs are do_loop() state machines with Chromium's Job states (start,
 * resolve proxy, wait, init connection, create stream and their
 * completions); each transition is a CRONC_HTTP_STREAM_JOB_STATE event on
 * the job's HTTP_STREAM_JOB source, and the controller logs on its own
 * HTTP_STREAM_JOB_CONTROLLER source, bound from the request's source.
 *
 * Ownership and threads: the factory owns its controllers; a controller
 * whose request got its stream lives on until its orphaned job ends.
 * Network thread only; callbacks never run inside request_stream. */
#ifndef CRONC_HTTP_JOB_CONTROLLER_H
#define CRONC_HTTP_JOB_CONTROLLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/clock.h"
#include "base/netlog.h"
#include "base/thread.h"
#include "http/altsvc_select.h"
#include "http/http_stream.h"
#include "http/server_properties.h"
#include "http/stream_factory.h"

/* Chromium's kMaxDelayTimeForMainJobSecs and kDefaultRTT. */
#define JC_MAX_MAIN_JOB_WAIT_US (3 * BASE_US_PER_SEC)
#define JC_DEFAULT_RTT_US       (300 * 1000)

/* QUIC as the controller reaches it (the engine fills these from the QUIC
 * session pool, which lives in a layer above http/). */
typedef struct jc_quic_ops {
  /* A stream to req's origin over dest (the alternative's host and port,
   * before host mapping rules). CRONC_ERR_IO_PENDING with *handle and
   * cb(cb_ud, result, stream) later, or a net error. */
  int (*request_stream)(void *ud, const http_request_info *req, const char *dest_host,
                        uint16_t dest_port, http_stream_ready_cb cb, void *cb_ud, void **handle);
  void (*cancel)(void *ud, void *handle);
  /* Chromium's CanUseExistingSession. */
  bool (*can_use_existing_session)(void *ud, const char *host, uint16_t port, const char *dest_host,
                                   uint16_t dest_port);
  void *ud;
} jc_quic_ops;

typedef struct jc_params {
  base_runner *runner;     /* required */
  const base_clock *clock; /* NULL = system */
  netlog *nl;              /* may be NULL */
  props *props;            /* required */
  stream_factory *tcp;     /* required: main jobs and h2 alternative jobs */
  jc_quic_ops quic;        /* request_stream NULL: no QUIC jobs */
  /* The switches of the selection rules (its can_use_existing_quic_session
   * is filled by the controller from quic). */
  altsvc_select_params select;
  bool delay_main_job_with_available_spdy_session; /* default false */
} jc_params;

/* Chromium's defaults (altsvc_select_params_init for select). */
void jc_params_init(jc_params *p);

typedef struct jc_factory jc_factory;

/* 0 and *out, or CRONC_ERR_INVALID_ARGUMENT / CRONC_ERR_OUT_OF_MEMORY. */
int jc_factory_new(const jc_params *p, jc_factory **out);
/* Cancels every job (no callbacks). Memory goes once the timer closed. */
void jc_factory_free(jc_factory *f);
/* The http_stream_factory the network transaction uses. */
http_stream_factory *jc_factory_base(jc_factory *f);

/* A QUIC connection's outcome (the QUIC session pool's observer). */
typedef struct jc_quic_outcome {
  const char *host; /* server id: the origin's host and port */
  uint16_t port;
  const char *dest_host; /* the destination: the alternative service */
  uint16_t dest_port;
  int result;                /* CRONC_OK: handshake confirmed */
  int64_t srtt_us;           /* on confirmation */
  const char *local_address; /* may be NULL or "" */
} jc_quic_outcome;
void jc_factory_on_quic_session(jc_factory *f, const jc_quic_outcome *o);

/* The default network changed (Chromium's OnIPAddressChanged): QUIC is no
 * longer known to work here, and a persisted record of it having worked
 * no longer counts, until a QUIC handshake is confirmed again. */
void jc_factory_on_network_changed(jc_factory *f);

/* The main job's wait when it races `alt` for the origin of u (Chromium's
 * GetTimeDelayForWaitingJob plus the controller's HTTP/2 and 3 s rules). */
int64_t jc_factory_main_job_wait_us(jc_factory *f, const url *u, const altsvc_service *alt);
/* QUIC worked since start, or a record of it was loaded (Chromium's
 * IsQuicKnownToWorkOnCurrentNetwork with the persisted address). */
bool jc_factory_quic_known_to_work(jc_factory *f);

/* Chromium's PreconnectStreams: up to num_streams connections to u's
 * origin ahead of requests. With a usable QUIC alternative and no session
 * for it yet, one QUIC session to the alternative instead of TCP; else TCP
 * (an HTTP/2 connection counts for all). Completes in the background.
 * Returns CRONC_OK (started), CRONC_ERR_INVALID_ARGUMENT or
 * CRONC_ERR_OUT_OF_MEMORY. */
int jc_factory_preconnect(jc_factory *f, const url *u, int num_streams, bool allow_http2);

/* For tests: controllers alive (running jobs, orphans included). */
size_t jc_factory_controller_count(const jc_factory *f);

#endif /* CRONC_HTTP_JOB_CONTROLLER_H */
