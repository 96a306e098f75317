/* engine/api_shared: what the files of the public API (api.c requests,
 * api_engine.c engines and listeners, api_upload.c upload bodies,
 * api_executor.c tasks, api_json_options.c experimental options) share.
 * Not installed; nothing outside src/engine/api*.c uses it.
 *
 * Ownership: a cronc_engine is reference counted: the application holds one
 * reference (dropped by cronc_engine_free) and every request holds one, so
 * a late call on a request (an upload sink answer from an application
 * thread, a cancel) after the engine is gone fails cleanly instead of
 * touching freed memory. The engine inside (`e`) is used only while
 * `e_alive` is set, under `mu`.
 *
 * Threads: api_engine_post() any thread; the listener report runs on the
 * network thread. */
#ifndef CRONC_ENGINE_API_SHARED_H
#define CRONC_ENGINE_API_SHARED_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/netlog.h"
#include "cronc/cronc.h"
#include "engine/engine.h"
#include "http/http_stream.h"

typedef struct api_listener {
  struct api_listener *next;
  cronc_request_finished_fn fn;
  void *user_data;
  cronc_executor executor;
  bool has_executor;
} api_listener;

struct cronc_engine {
  atomic_int refs;
  pthread_mutex_t mu;
  engine *e;    /* valid while e_alive */
  bool e_alive; /* false once shut down: posts fail with CONTEXT_SHUT_DOWN */
  bool shut_down;
  char *accept_language; /* NULL = none */
  bool enable_brotli;
  netlog_file_writer *nl_writer; /* started by cronc_engine_start_netlog */
  api_listener *listeners;       /* under mu */
};

/* Posts fn(arg) to the network thread. CRONC_ERR_CONTEXT_SHUT_DOWN once the
 * engine is shut down (fn then never runs). Any thread. */
int api_engine_post(cronc_engine *ce, void (*fn)(void *), void *arg);
void api_engine_ref(cronc_engine *ce);
void api_engine_unref(cronc_engine *ce);

/* Runs fn(arg) through ex: a task handed to ex->execute, or at once when ex
 * is NULL (direct: the caller's thread, normally the network thread).
 * When the task is dropped, drop(arg) runs instead (may be NULL). If no
 * task can be allocated fn runs at once (a callback late on the wrong
 * thread beats a lost one). */
void api_execute(const cronc_executor *ex, void (*fn)(void *), void (*drop)(void *), void *arg);

/* Reports a finished request to every listener of ce (network thread).
 * hold/release keep the info's memory alive until every listener ran. */
void api_report_finished(cronc_engine *ce, const cronc_request_finished_info *info,
                         void (*hold)(void *), void (*release)(void *), void *owner);

/* ---- Upload bodies (api_upload.c) -------------------------------------- */
typedef struct api_upload api_upload;
/* A body over an application provider; length from get_length (called
 * here). ex: the upload executor (NULL = network thread). hold/release keep
 * the owner (the request) alive while a task or an answer is in flight.
 * Returns CRONC_ERR_INVALID_ARGUMENT (no read function, length < -1) or
 * CRONC_ERR_OUT_OF_MEMORY. */
int api_upload_new(cronc_engine *ce, const cronc_upload_provider *p, const cronc_executor *ex,
                   void (*hold)(void *), void (*release)(void *), void *owner, api_upload **out);
http_upload_body *api_upload_body(api_upload *u);
/* True when a read happened since the last rewind (a resend needs one). */
bool api_upload_started(const api_upload *u);
/* The transaction that used the body is gone: drop its callback (network
 * thread). */
void api_upload_detach(api_upload *u);
/* The response started: closes the provider once the body has been sent
 * (network thread). */
void api_upload_response_started(api_upload *u);
/* Closes the provider once no read or rewind is outstanding (network
 * thread). Idempotent. */
void api_upload_close(api_upload *u);
/* The provider broke a rule or reported an error: its message (owned by
 * u), else NULL. */
const char *api_upload_error(const api_upload *u);
void api_upload_free(api_upload *u);

/* ---- Experimental options (api_json_options.c) ------------------------- */
/* Applies the keys cronc maps to ep (see cronc.h). *rules_out and *ca_out
 * get allocated strings when the JSON has host resolver rules or
 * cronc.extra_ca_file (caller frees). CRONC_ERR_INVALID_ARGUMENT when json
 * is not an object. */
int api_json_options_apply(const char *json, engine_params *ep, char **rules_out, char **ca_out);

#endif /* CRONC_ENGINE_API_SHARED_H */
