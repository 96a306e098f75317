/* fetch: the complete example of docs/API.md. Fetches each URL given on
 * the command line with one cronc engine, body to stdout, a summary of
 * each request on stderr. Callbacks run on an executor the program owns
 * (one thread with a queue); the main thread waits for each request.
 *
 *   cc fetch.c $(pkg-config --cflags --libs cronc) -lpthread -o fetch
 *   ./fetch https://example.org/ */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include <cronc/cronc.h>

/* ---- An executor: one thread running queued tasks in order ---- */
typedef struct job {
  cronc_task *task;
  struct job *next;
} job;

typedef struct executor {
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  job *head, *tail;
  int stop;
} executor;

static void *executor_main(void *arg) {
  executor *x = arg;
  pthread_mutex_lock(&x->mu);
  for (;;) {
    while (!x->head && !x->stop)
      pthread_cond_wait(&x->cv, &x->mu);
    job *j = x->head;
    if (!j)
      break; /* stopping and nothing left */
    x->head = j->next;
    if (!x->head)
      x->tail = NULL;
    pthread_mutex_unlock(&x->mu);
    cronc_task_run(j->task); /* runs one callback, frees the task */
    free(j);
    pthread_mutex_lock(&x->mu);
  }
  pthread_mutex_unlock(&x->mu);
  return NULL;
}

/* Called by cronc (usually on its network thread): queue, never block. */
static void executor_execute(void *data, cronc_task *task) {
  executor *x = data;
  job *j = malloc(sizeof *j);
  if (!j) {
    cronc_task_run(task); /* out of memory: run it here rather than lose it */
    return;
  }
  j->task = task;
  j->next = NULL;
  pthread_mutex_lock(&x->mu);
  if (x->tail)
    x->tail->next = j;
  else
    x->head = j;
  x->tail = j;
  pthread_cond_signal(&x->cv);
  pthread_mutex_unlock(&x->mu);
}

/* ---- One request ---- */
typedef struct fetch {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int done;
  int error;
  int64_t bytes;
  uint8_t buffer[32768]; /* ours; cronc writes into it during a read */
} fetch;

static void finish(fetch *f, int error) {
  pthread_mutex_lock(&f->mu);
  f->error = error;
  f->done = 1;
  pthread_cond_signal(&f->cv);
  pthread_mutex_unlock(&f->mu);
}

static void on_redirect(cronc_request *req, void *ud, const cronc_response_info *info,
                        const char *new_location) {
  fprintf(stderr, "redirect %d -> %s\n", info->http_status, new_location);
  cronc_request_follow_redirect(req); /* or cronc_request_cancel(req) */
}

static void on_response_started(cronc_request *req, void *ud, const cronc_response_info *info) {
  fetch *f = ud;
  fprintf(stderr, "%s %d %s\n", info->negotiated_protocol, info->http_status,
          info->http_status_text);
  for (size_t i = 0; i < info->n_headers; i++)
    fprintf(stderr, "  %s: %s\n", info->headers[i].name, info->headers[i].value);
  cronc_request_read(req, f->buffer, sizeof f->buffer);
}

static void on_read_completed(cronc_request *req, void *ud, const cronc_response_info *info,
                              uint8_t *buffer, size_t bytes_read) {
  fetch *f = ud;
  fwrite(buffer, 1, bytes_read, stdout);
  f->bytes += (int64_t)bytes_read;
  cronc_request_read(req, f->buffer, sizeof f->buffer); /* the next chunk */
}

static void on_succeeded(cronc_request *req, void *ud, const cronc_response_info *info) {
  const cronc_metrics *m = info->metrics;
  fprintf(stderr, "done: %lld body bytes, %lld received, %.1f ms%s\n",
          (long long)((fetch *)ud)->bytes, (long long)info->received_byte_count,
          (m->request_end_us - m->request_start_us) / 1000.0,
          m->socket_reused ? " (reused connection)" : "");
  finish(ud, CRONC_OK);
}

static void on_failed(cronc_request *req, void *ud, const cronc_response_info *info,
                      int net_error) {
  cronc_error_info e;
  if (cronc_request_get_error(req, &e))
    fprintf(stderr, "failed: %s%s\n", e.message,
            e.immediately_retryable ? " (worth retrying)" : "");
  finish(ud, net_error);
}

static void on_canceled(cronc_request *req, void *ud, const cronc_response_info *info) {
  finish(ud, CRONC_ERR_ABORTED);
}

/* Runs after every request of the engine, on the network thread here. */
static void on_request_finished(void *ud, const cronc_request_finished_info *info) {
  fprintf(stderr, "finished %s: %s\n", info->url,
          info->reason == CRONC_FINISHED_SUCCEEDED ? "succeeded"
          : info->reason == CRONC_FINISHED_FAILED  ? "failed"
                                                   : "canceled");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s URL...\n", argv[0]);
    return 2;
  }
  executor x = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
  pthread_create(&x.thread, NULL, executor_main, &x);

  cronc_engine_params params;
  cronc_engine_params_init(&params); /* defaults first, then what we want */
  params.user_agent = "fetch-example/1.0";
  params.experimental_options = "{\"QUIC\":{\"idle_connection_timeout_seconds\":60}}";
  cronc_engine *engine = NULL;
  int rv = cronc_engine_new(&params, &engine);
  if (rv != CRONC_OK) {
    fprintf(stderr, "engine: %s\n", cronc_error_name(rv));
    return 1;
  }
  cronc_engine_add_request_finished_listener(engine, on_request_finished, NULL, NULL);

  static const cronc_request_callbacks callbacks = {
      on_redirect, on_response_started, on_read_completed, on_succeeded, on_failed, on_canceled};
  cronc_executor ex = {executor_execute, &x};
  int status = 0;
  for (int i = 1; i < argc; i++) {
    fetch f = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    cronc_header accept = {"Accept", "*/*"};
    cronc_request_params rp;
    cronc_request_params_init(&rp);
    rp.headers = &accept;
    rp.n_headers = 1;
    rp.executor = &ex;
    rp.priority = CRONC_PRIORITY_HIGHEST;
    cronc_request *req = NULL;
    rv = cronc_request_new(engine, argv[i], &rp, &callbacks, &f, &req);
    if (rv == CRONC_OK)
      rv = cronc_request_start(req);
    if (rv == CRONC_OK) {
      pthread_mutex_lock(&f.mu);
      while (!f.done)
        pthread_cond_wait(&f.cv, &f.mu);
      pthread_mutex_unlock(&f.mu);
      rv = f.error;
    }
    if (rv != CRONC_OK) {
      fprintf(stderr, "%s: %s\n", argv[i], cronc_error_name(rv));
      status = 1;
    }
    cronc_request_free(req); /* after its terminal callback */
  }

  cronc_engine_free(engine); /* shuts down: any running request gets on_canceled first */
  pthread_mutex_lock(&x.mu);
  x.stop = 1; /* the executor runs what is left, then ends */
  pthread_cond_signal(&x.cv);
  pthread_mutex_unlock(&x.mu);
  pthread_join(x.thread, NULL);
  return status;
}
