/* cronet_internal.h: what the hand-written parts of libcronet share: the
 * engine's state behind a Cronet_Engine, Cronet runnables that carry cronc
 * tasks or plain functions, and the mapping of cronc's results to Cronet's.
 * libcronet uses cronc only through its public header (cronc/cronc.h).
 *
 * Threads: the engine state is guarded by its mutex; everything else is
 * stated per function. */
#ifndef CRONC_COMPAT_CRONET_INTERNAL_H
#define CRONC_COMPAT_CRONET_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>

#include "cronc/cronc.h"
#include "cronet_generated.h"

typedef struct cronet_listener {
  Cronet_RequestFinishedInfoListenerPtr listener;
  Cronet_ExecutorPtr executor;
} cronet_listener;

typedef struct cronet_engine {
  pthread_mutex_t mu;
  cronc_engine *ce; /* set by StartWithParams; freed by Destroy */
  bool started;
  bool shut_down;
  bool check_result;
  bool netlog_on;
  cronet_listener *listeners;
  size_t n_listeners, cap_listeners;
} cronet_engine;

/* The engine behind a Cronet engine made by Cronet_Engine_Create (NULL for
 * one made with CreateWith). */
cronet_engine *cronet_engine_of(Cronet_EnginePtr e);

/* A cronc executor that hands each task to a Cronet executor as a
 * Cronet_Runnable (destroying the runnable unrun drops the task). */
cronc_executor cronet_executor_adapter(Cronet_ExecutorPtr executor);

/* Posts fn(arg) to a Cronet executor as a runnable; drop(arg) runs instead
 * when the executor destroys the runnable without running it. */
void cronet_post(Cronet_ExecutorPtr executor, void (*fn)(void *), void (*drop)(void *), void *arg);

/* Logs a non-SUCCESS result on stderr when the engine asked for result
 * checks (Cronet aborts there; cronc never aborts). Returns rv. */
Cronet_RESULT cronet_check(const cronet_engine *e, Cronet_RESULT rv, const char *what);

/* Cronet's error code for a net error (url_request.cc NetErrorToCronetErrorCode). */
Cronet_Error_ERROR_CODE cronet_error_code(int net_error);

/* A snapshot of the engine's request-finished listeners (caller frees). */
cronet_listener *cronet_engine_listeners(cronet_engine *e, size_t *n);

#endif /* CRONC_COMPAT_CRONET_INTERNAL_H */
