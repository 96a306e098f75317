/* Upload bodies over the application's provider (cronc_upload_provider,
 * and Cronet's UploadDataProvider through the compat layer): an
 * http_upload_body the HTTP streams read from, with Cronet's sink rules.
 *
 * The provider writes into a buffer owned here, never into the stream's
 * buffer: a provider answering late (from its own thread) after the
 * transaction is gone must not write into freed memory. Answers arrive on
 * any thread and are posted to the network thread, so the stream's callback
 * always runs there and never inside read(). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cronc/cronc.h"
#include "engine/api_shared.h"

#define UPLOAD_BUFFER_SIZE 65536

enum { OP_NONE, OP_READ, OP_REWIND };

struct cronc_upload_sink {
  api_upload *u;
};

struct api_upload {
  http_upload_body base;
  cronc_upload_sink sink;
  cronc_engine *ce;
  cronc_upload_provider p;
  cronc_executor ex;
  bool has_ex;
  void (*hold)(void *);
  void (*release)(void *);
  void *owner;
  /* Network thread. */
  uint8_t *buf;
  int op;        /* outstanding provider call */
  size_t op_len; /* bytes asked for */
  http_io_cb cb; /* the stream's callback; NULL when detached */
  void *cb_ud;
  const uint8_t **data; /* where the stream wants the bytes' address */
  /* A rewind asked while a cancelled read is still with the provider. */
  http_io_cb rewind_cb;
  void *rewind_ud;
  int64_t position; /* bytes delivered since the last rewind */
  bool eof;         /* a final chunk was seen */
  bool started;     /* read asked since the last rewind */
  bool close_wanted, closed;
  bool close_at_end; /* the response started: close once the body is sent */
  char *error;       /* the first rule broken or error reported */
};

/* One answer from the application, on its way to the network thread. */
typedef struct answer {
  api_upload *u;
  int op;
  size_t bytes;
  bool final_chunk;
  char *message; /* NULL = success */
} answer;

static void fail(api_upload *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#include <stdarg.h>
static void fail(api_upload *u, const char *fmt, ...) {
  if (u->error)
    return;
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  u->error = strdup(msg);
  if (!u->error)
    u->error = strdup("out of memory");
}

typedef struct call_task {
  api_upload *u;
  int op; /* OP_READ, OP_REWIND, or OP_NONE for close */
} call_task;

static void call_run(void *arg) {
  call_task *t = arg;
  api_upload *u = t->u;
  int op = t->op;
  free(t);
  if (op == OP_READ)
    u->p.read(u->p.user_data, &u->sink, u->buf, u->op_len);
  else if (op == OP_REWIND)
    u->p.rewind(u->p.user_data, &u->sink);
  else if (u->p.close)
    u->p.close(u->p.user_data);
  u->release(u->owner);
}

static void call_drop(void *arg) {
  call_task *t = arg;
  t->u->release(t->u->owner);
  free(t);
}

static int call_provider(api_upload *u, int op) {
  call_task *t = malloc(sizeof *t);
  if (!t)
    return CRONC_ERR_OUT_OF_MEMORY;
  t->u = u;
  t->op = op;
  u->hold(u->owner);
  api_execute(u->has_ex ? &u->ex : NULL, call_run, call_drop, t);
  return CRONC_OK;
}

static bool body_complete(const api_upload *u) {
  return u->eof || (u->base.length >= 0 && u->position >= u->base.length);
}

static void maybe_close(api_upload *u) {
  if (u->close_at_end && body_complete(u))
    u->close_wanted = true;
  if (u->close_wanted && !u->closed && u->op == OP_NONE) {
    u->closed = true;
    call_provider(u, OP_NONE);
  }
}

static int start_rewind(api_upload *u, http_io_cb cb, void *ud);

static void complete(api_upload *u, int rv) {
  http_io_cb cb = u->cb;
  void *ud = u->cb_ud;
  u->cb = NULL;
  if (u->rewind_cb && u->op == OP_NONE) {
    /* The cancelled read is answered: now the rewind that waited. */
    http_io_cb rcb = u->rewind_cb;
    void *rud = u->rewind_ud;
    u->rewind_cb = NULL;
    int r = start_rewind(u, rcb, rud);
    if (r != CRONC_ERR_IO_PENDING)
      rcb(rud, r);
    return;
  }
  maybe_close(u);
  if (cb)
    cb(ud, rv);
}

static void answer_run(void *arg) {
  answer *a = arg;
  api_upload *u = a->u;
  if (u->op != a->op) {
    fail(u, "Upload data sink answered a call that was not made");
  } else if (a->op == OP_READ) {
    u->op = OP_NONE;
    int rv;
    if (a->message) {
      fail(u, "%s", a->message);
      rv = CRONC_ERR_FAILED;
    } else if (a->bytes > u->op_len) {
      fail(u, "Read upload data length %zu exceeds buffer length %zu", a->bytes, u->op_len);
      rv = CRONC_ERR_FAILED;
    } else if (a->final_chunk && u->base.length >= 0) {
      fail(u, "Non-chunked upload can't have last chunk");
      rv = CRONC_ERR_FAILED;
    } else if (u->base.length >= 0 && u->position + (int64_t)a->bytes > u->base.length) {
      fail(u, "Read upload data length %" PRId64 " exceeds expected length %" PRId64,
           u->position + (int64_t)a->bytes, u->base.length);
      rv = CRONC_ERR_FAILED;
    } else if (a->bytes == 0 && !a->final_chunk) {
      fail(u, "Upload data provider read 0 bytes without the final chunk");
      rv = CRONC_ERR_FAILED;
    } else {
      u->eof = a->final_chunk;
      u->position += (int64_t)a->bytes;
      if (u->cb && u->data)
        *u->data = u->buf;
      rv = (int)a->bytes;
    }
    complete(u, rv);
  } else {
    u->op = OP_NONE;
    int rv = CRONC_OK;
    if (a->message) {
      fail(u, "%s", a->message);
      rv = CRONC_ERR_FAILED;
    } else {
      u->position = 0;
      u->eof = false;
      u->started = false;
    }
    complete(u, rv);
  }
  free(a->message);
  u->release(u->owner);
  free(a);
}

static void post_answer(cronc_upload_sink *sink, int op, size_t bytes, bool final_chunk,
                        const char *message) {
  if (!sink)
    return;
  api_upload *u = sink->u;
  answer *a = calloc(1, sizeof *a);
  if (!a)
    return;
  *a = (answer){u, op, bytes, final_chunk, NULL};
  if (op != OP_NONE && message && !(a->message = strdup(message))) {
    free(a);
    return;
  }
  u->hold(u->owner);
  if (api_engine_post(u->ce, answer_run, a) != CRONC_OK) {
    /* The engine is gone: nothing waits for this answer any more. */
    u->release(u->owner);
    free(a->message);
    free(a);
  }
}

CRONC_EXPORT void cronc_upload_sink_read_succeeded(cronc_upload_sink *sink, size_t bytes_read,
                                                   bool final_chunk) {
  post_answer(sink, OP_READ, bytes_read, final_chunk, NULL);
}

CRONC_EXPORT void cronc_upload_sink_read_error(cronc_upload_sink *sink, const char *message) {
  char buf[600];
  snprintf(buf, sizeof buf, "Failure from UploadDataProvider: %s", message ? message : "");
  post_answer(sink, OP_READ, 0, false, buf);
}

CRONC_EXPORT void cronc_upload_sink_rewind_succeeded(cronc_upload_sink *sink) {
  post_answer(sink, OP_REWIND, 0, false, NULL);
}

CRONC_EXPORT void cronc_upload_sink_rewind_error(cronc_upload_sink *sink, const char *message) {
  char buf[600];
  snprintf(buf, sizeof buf, "Failure from UploadDataProvider: %s", message ? message : "");
  post_answer(sink, OP_REWIND, 0, false, buf);
}

static int body_read(http_upload_body *b, const uint8_t **data, http_io_cb cb, void *ud) {
  api_upload *u = (api_upload *)b;
  if (u->error)
    return CRONC_ERR_FAILED;
  if (u->op != OP_NONE || u->closed)
    return CRONC_ERR_UNEXPECTED;
  if (body_complete(u)) {
    maybe_close(u);
    return 0;
  }
  /* The whole buffer, as Cronet offers: a provider that writes more than
   * it announced is caught below instead of being cut short silently. */
  size_t n = UPLOAD_BUFFER_SIZE;
  u->op = OP_READ;
  u->op_len = n;
  u->data = data;
  u->cb = cb;
  u->cb_ud = ud;
  u->started = true;
  int rv = call_provider(u, OP_READ);
  if (rv != CRONC_OK) {
    u->op = OP_NONE;
    u->cb = NULL;
    return rv;
  }
  return CRONC_ERR_IO_PENDING;
}

static void body_cancel_read(http_upload_body *b) {
  api_upload *u = (api_upload *)b;
  u->cb = NULL; /* the provider's answer still comes and is dropped */
  u->data = NULL;
}

static int start_rewind(api_upload *u, http_io_cb cb, void *ud) {
  if (u->error)
    return CRONC_ERR_FAILED;
  if (u->closed)
    return CRONC_ERR_UNEXPECTED;
  /* Nothing read yet: nothing to rewind (some providers never answer a
   * rewind, so none is asked on a first attempt). */
  if (!u->started)
    return CRONC_OK;
  if (!u->p.rewind)
    return CRONC_ERR_UPLOAD_STREAM_REWIND_NOT_SUPPORTED;
  u->op = OP_REWIND;
  u->cb = cb;
  u->cb_ud = ud;
  int rv = call_provider(u, OP_REWIND);
  if (rv != CRONC_OK) {
    u->op = OP_NONE;
    u->cb = NULL;
    return rv;
  }
  return CRONC_ERR_IO_PENDING;
}

static int body_rewind(http_upload_body *b, http_io_cb cb, void *ud) {
  api_upload *u = (api_upload *)b;
  if (u->op == OP_READ && !u->cb && !u->rewind_cb) {
    /* A read the stream gave up on is still with the provider (Cronet
     * answers every read): rewind once it is answered. */
    u->rewind_cb = cb;
    u->rewind_ud = ud;
    return CRONC_ERR_IO_PENDING;
  }
  if (u->op != OP_NONE)
    return CRONC_ERR_UNEXPECTED;
  return start_rewind(u, cb, ud);
}

static const http_upload_body_vtable UPLOAD_VT = {body_read, body_cancel_read, body_rewind};

int api_upload_new(cronc_engine *ce, const cronc_upload_provider *p, const cronc_executor *ex,
                   void (*hold)(void *), void (*release)(void *), void *owner, api_upload **out) {
  *out = NULL;
  if (!p->read)
    return CRONC_ERR_INVALID_ARGUMENT;
  int64_t len = p->get_length ? p->get_length(p->user_data) : -1;
  if (len < -1)
    return CRONC_ERR_INVALID_ARGUMENT;
  api_upload *u = calloc(1, sizeof *u);
  if (!u || !(u->buf = malloc(UPLOAD_BUFFER_SIZE))) {
    free(u);
    return CRONC_ERR_OUT_OF_MEMORY;
  }
  u->base.vt = &UPLOAD_VT;
  u->base.length = len;
  u->sink.u = u;
  u->ce = ce;
  u->p = *p;
  if (ex && ex->execute) {
    u->ex = *ex;
    u->has_ex = true;
  }
  u->hold = hold;
  u->release = release;
  u->owner = owner;
  *out = u;
  return CRONC_OK;
}

http_upload_body *api_upload_body(api_upload *u) { return &u->base; }
bool api_upload_started(const api_upload *u) { return u->started; }
void api_upload_detach(api_upload *u) {
  u->cb = NULL;
  u->data = NULL;
  u->rewind_cb = NULL;
}
const char *api_upload_error(const api_upload *u) { return u->error; }

void api_upload_response_started(api_upload *u) {
  /* Cronet closes the provider when the response starts. A server may
   * answer before it has the whole body, and HTTP/2 and HTTP/3 streams go
   * on sending it: then the close waits for the body's end (or for the
   * request's end, api_upload_close) instead of failing the stream. */
  u->close_at_end = true;
  maybe_close(u);
}

void api_upload_close(api_upload *u) {
  u->close_wanted = true;
  maybe_close(u);
}

void api_upload_free(api_upload *u) {
  if (!u)
    return;
  free(u->buf);
  free(u->error);
  free(u);
}
