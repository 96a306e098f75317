/* Cronet_Buffer (memory the application or Cronet owns, freed through a
 * BufferCallback or by Cronet), Cronet_UploadDataSink (answers of an upload
 * provider, forwarded to cronc's sink), runnables and executors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cronet_internal.h"

typedef struct buffer_impl {
  void *data;
  uint64_t size;
  Cronet_BufferCallbackPtr callback;
  bool owned; /* InitWithAlloc: freed here */
} buffer_impl;

static void buffer_destroy(Cronet_BufferPtr self) {
  buffer_impl *b = self->impl;
  if (!b)
    return;
  if (b->callback)
    Cronet_BufferCallback_OnDestroy(b->callback, self);
  if (b->owned)
    free(b->data);
  free(b);
  self->impl = NULL;
}

bool cronet_impl_Buffer_init(Cronet_BufferPtr self) {
  self->impl = calloc(1, sizeof(buffer_impl));
  self->impl_destroy = buffer_destroy;
  return self->impl != NULL;
}

void cronet_impl_Buffer_InitWithDataAndCallback(Cronet_BufferPtr self, Cronet_RawDataPtr data,
                                                uint64_t size, Cronet_BufferCallbackPtr callback) {
  buffer_impl *b = self->impl;
  if (!b || b->data)
    return; /* a buffer is initialised once */
  b->data = data;
  b->size = size;
  b->callback = callback;
}

void cronet_impl_Buffer_InitWithAlloc(Cronet_BufferPtr self, uint64_t size) {
  buffer_impl *b = self->impl;
  if (!b || b->data)
    return;
  b->data = size ? malloc(size) : NULL;
  b->size = b->data ? size : 0;
  b->owned = true;
}

uint64_t cronet_impl_Buffer_GetSize(Cronet_BufferPtr self) {
  buffer_impl *b = self->impl;
  return b ? b->size : 0;
}

Cronet_RawDataPtr cronet_impl_Buffer_GetData(Cronet_BufferPtr self) {
  buffer_impl *b = self->impl;
  return b ? b->data : NULL;
}

/* ---- UploadDataSink: impl is the cronc sink of the read being answered. */

bool cronet_impl_UploadDataSink_init(Cronet_UploadDataSinkPtr self) {
  self->impl = NULL;
  self->impl_destroy = NULL;
  return true;
}

void cronet_impl_UploadDataSink_OnReadSucceeded(Cronet_UploadDataSinkPtr self, uint64_t bytes_read,
                                                bool final_chunk) {
  if (self->impl)
    cronc_upload_sink_read_succeeded(self->impl, (size_t)bytes_read, final_chunk);
}

void cronet_impl_UploadDataSink_OnReadError(Cronet_UploadDataSinkPtr self,
                                            Cronet_String error_message) {
  if (self->impl)
    cronc_upload_sink_read_error(self->impl, error_message);
}

void cronet_impl_UploadDataSink_OnRewindSucceeded(Cronet_UploadDataSinkPtr self) {
  if (self->impl)
    cronc_upload_sink_rewind_succeeded(self->impl);
}

void cronet_impl_UploadDataSink_OnRewindError(Cronet_UploadDataSinkPtr self,
                                              Cronet_String error_message) {
  if (self->impl)
    cronc_upload_sink_rewind_error(self->impl, error_message);
}

/* ---- Runnables carrying a function (and its drop for an unrun destroy) -- */

typedef struct post_impl {
  void (*fn)(void *);
  void (*drop)(void *);
  void *arg;
} post_impl;

static void post_run(Cronet_RunnablePtr self) {
  post_impl *p = self->impl;
  if (!p)
    return;
  self->impl = NULL; /* ran: Destroy drops nothing */
  p->fn(p->arg);
  free(p);
}

static void post_destroy(Cronet_RunnablePtr self) {
  post_impl *p = self->impl;
  if (!p)
    return;
  self->impl = NULL;
  if (p->drop)
    p->drop(p->arg);
  free(p);
}

void cronet_post(Cronet_ExecutorPtr executor, void (*fn)(void *), void (*drop)(void *), void *arg) {
  post_impl *p = malloc(sizeof *p);
  Cronet_RunnablePtr r = p ? Cronet_Runnable_CreateWith(post_run) : NULL;
  if (!r) {
    free(p);
    fn(arg); /* late on the wrong thread beats never */
    return;
  }
  *p = (post_impl){fn, drop, arg};
  r->impl = p;
  r->impl_destroy = post_destroy;
  Cronet_Executor_Execute(executor, r);
}

static void task_run(void *t) { cronc_task_run(t); }
static void task_drop(void *t) { cronc_task_drop(t); }

static void adapter_execute(void *data, cronc_task *task) {
  cronet_post(data, task_run, task_drop, task);
}

cronc_executor cronet_executor_adapter(Cronet_ExecutorPtr executor) {
  return (cronc_executor){adapter_execute, executor};
}

Cronet_RESULT cronet_check(const cronet_engine *e, Cronet_RESULT rv, const char *what) {
  if (rv != Cronet_RESULT_SUCCESS && (!e || e->check_result))
    fprintf(stderr, "cronet: %s failed with result %d\n", what, (int)rv);
  return rv;
}

Cronet_Error_ERROR_CODE cronet_error_code(int e) {
  switch (e) {
  case CRONC_ERR_NAME_NOT_RESOLVED:
    return Cronet_Error_ERROR_CODE_ERROR_HOSTNAME_NOT_RESOLVED;
  case CRONC_ERR_INTERNET_DISCONNECTED:
    return Cronet_Error_ERROR_CODE_ERROR_INTERNET_DISCONNECTED;
  case CRONC_ERR_NETWORK_CHANGED:
    return Cronet_Error_ERROR_CODE_ERROR_NETWORK_CHANGED;
  case CRONC_ERR_TIMED_OUT:
    return Cronet_Error_ERROR_CODE_ERROR_TIMED_OUT;
  case CRONC_ERR_CONNECTION_CLOSED:
    return Cronet_Error_ERROR_CODE_ERROR_CONNECTION_CLOSED;
  case CRONC_ERR_CONNECTION_TIMED_OUT:
    return Cronet_Error_ERROR_CODE_ERROR_CONNECTION_TIMED_OUT;
  case CRONC_ERR_CONNECTION_REFUSED:
    return Cronet_Error_ERROR_CODE_ERROR_CONNECTION_REFUSED;
  case CRONC_ERR_CONNECTION_RESET:
    return Cronet_Error_ERROR_CODE_ERROR_CONNECTION_RESET;
  case CRONC_ERR_ADDRESS_UNREACHABLE:
    return Cronet_Error_ERROR_CODE_ERROR_ADDRESS_UNREACHABLE;
  case CRONC_ERR_QUIC_PROTOCOL_ERROR:
    return Cronet_Error_ERROR_CODE_ERROR_QUIC_PROTOCOL_FAILED;
  default:
    return Cronet_Error_ERROR_CODE_ERROR_OTHER;
  }
}
