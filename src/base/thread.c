/* The network thread: a task queue drained by a uv_async_t, and timers.
 *
 * Posting appends to `pending` under the mutex and wakes the loop only when
 * the queue was empty (a wake-up is already due otherwise), so a burst of
 * posts costs one eventfd write. A task posted from the loop thread itself
 * (a callback reading on, a stream finishing) needs no wake-up at all: an
 * idle handle makes the loop run the queue on its next turn without the
 * eventfd write and read. The loop thread swaps `pending` with its
 * `running` array under the mutex and runs the batch without it: tasks may
 * post, and steady state allocates nothing. */
#include "base/thread.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

#include "cronc/cronc.h"

typedef struct base_task {
  base_task_fn fn;
  void *arg;
} base_task;

typedef struct task_vec {
  base_task *items;
  size_t len;
  size_t cap;
} task_vec;

struct base_runner {
  uv_loop_t *loop;
  uv_loop_t own_loop;
  bool owns_thread;
  uv_thread_t thread;      /* own thread: for the join */
  uv_thread_t loop_thread; /* the thread that runs the loop */
  uv_async_t async;
  uv_idle_t idle; /* runs tasks posted from the loop thread (no eventfd) */

  uv_mutex_t mu; /* guards the fields down to `started` */
  uv_cond_t cond;
  task_vec pending;
  bool accepting; /* false once shutdown began */
  bool started;   /* own thread: the thread has set loop_thread */

  /* Loop thread only. */
  task_vec running;
  size_t run_pos;
  bool async_closing;
  bool async_closed;
  bool idle_closed;
  bool free_requested; /* caller's loop: release in the close callback */

  /* The thread calling shutdown/free only. */
  bool shut_down;
};

static void release(base_runner *r) {
  free(r->pending.items);
  free(r->running.items);
  uv_cond_destroy(&r->cond);
  uv_mutex_destroy(&r->mu);
  free(r);
}

/* Runs the current batch from where it stopped; a task that shuts a
 * caller-loop runner down re-enters here and finishes the batch in order. */
static void run_batch(base_runner *r) {
  while (r->run_pos < r->running.len) {
    base_task t = r->running.items[r->run_pos++];
    t.fn(t.arg);
  }
  r->running.len = 0;
  r->run_pos = 0;
}

/* Takes the pending tasks as the next batch. Called with r->mu held and the
 * running batch finished. */
static void take_pending(base_runner *r) {
  task_vec tmp = r->running;
  r->running = r->pending;
  r->pending = tmp;
  r->pending.len = 0;
  r->run_pos = 0;
}

/* Runs everything posted so far, including tasks those tasks post while the
 * runner still accepts them. */
static void drain_all(base_runner *r) {
  for (;;) {
    run_batch(r);
    uv_mutex_lock(&r->mu);
    if (r->pending.len == 0) {
      uv_mutex_unlock(&r->mu);
      return;
    }
    take_pending(r);
    uv_mutex_unlock(&r->mu);
  }
}

static void on_async_closed(uv_handle_t *h) {
  base_runner *r = h->data;
  r->async_closed = true;
  if (r->free_requested && r->idle_closed)
    release(r);
}

static void on_idle_closed(uv_handle_t *h) {
  base_runner *r = h->data;
  r->idle_closed = true;
  if (r->free_requested && r->async_closed)
    release(r);
}

static void close_stray(uv_handle_t *h, void *arg) {
  (void)arg;
  if (!uv_is_closing(h))
    uv_close(h, NULL);
}

/* Loop thread, accepting already false: last tasks, then close the wake-up
 * (and, on our own loop, every other handle so uv_run can return). */
static void finish_on_loop(base_runner *r) {
  if (r->async_closing)
    return;
  drain_all(r);
  r->async_closing = true;
  uv_close((uv_handle_t *)&r->idle, on_idle_closed);
  uv_close((uv_handle_t *)&r->async, on_async_closed);
  if (r->owns_thread)
    uv_walk(r->loop, close_stray, NULL);
}

static void on_async(uv_async_t *h) {
  base_runner *r = h->data;
  if (r->async_closing)
    return;
  run_batch(r);
  uv_mutex_lock(&r->mu);
  take_pending(r);
  bool stopping = !r->accepting;
  uv_mutex_unlock(&r->mu);
  run_batch(r);
  if (stopping && r->owns_thread)
    finish_on_loop(r);
}

static void on_idle(uv_idle_t *h) {
  uv_idle_stop(h);
  base_runner *r = h->data;
  on_async(&r->async);
}

static void thread_main(void *arg) {
  base_runner *r = arg;
  /* Writes to a closed peer must fail with EPIPE, not kill the process. */
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  pthread_setname_np(pthread_self(), "cronc-network");

  uv_mutex_lock(&r->mu);
  r->loop_thread = uv_thread_self();
  r->started = true;
  uv_cond_signal(&r->cond);
  uv_mutex_unlock(&r->mu);

  /* A task calling uv_stop() must not end the thread: only shutdown does. */
  while (!r->async_closed || !r->idle_closed)
    uv_run(r->loop, UV_RUN_DEFAULT);
}

static int runner_alloc(base_runner **out) {
  base_runner *r = calloc(1, sizeof *r);
  if (!r)
    return CRONC_ERR_OUT_OF_MEMORY;
  if (uv_mutex_init(&r->mu) != 0) {
    free(r);
    return CRONC_ERR_INSUFFICIENT_RESOURCES;
  }
  if (uv_cond_init(&r->cond) != 0) {
    uv_mutex_destroy(&r->mu);
    free(r);
    return CRONC_ERR_INSUFFICIENT_RESOURCES;
  }
  r->accepting = true;
  *out = r;
  return 0;
}

int base_runner_new_thread(base_runner **out) {
  if (!out)
    return CRONC_ERR_INVALID_ARGUMENT;
  *out = NULL;
  base_runner *r;
  int err = runner_alloc(&r);
  if (err)
    return err;
  r->owns_thread = true;
  r->loop = &r->own_loop;
  if (uv_loop_init(r->loop) != 0) {
    release(r);
    return CRONC_ERR_INSUFFICIENT_RESOURCES;
  }
  if (uv_async_init(r->loop, &r->async, on_async) != 0) {
    uv_loop_close(r->loop);
    release(r);
    return CRONC_ERR_INSUFFICIENT_RESOURCES;
  }
  r->async.data = r;
  uv_idle_init(r->loop, &r->idle); /* cannot fail on Unix */
  r->idle.data = r;
  if (uv_thread_create(&r->thread, thread_main, r) != 0) {
    uv_close((uv_handle_t *)&r->idle, NULL);
    uv_close((uv_handle_t *)&r->async, NULL);
    uv_run(r->loop, UV_RUN_DEFAULT); /* completes the close */
    uv_loop_close(r->loop);
    release(r);
    return CRONC_ERR_INSUFFICIENT_RESOURCES;
  }
  /* Wait until loop_thread is set, so is_current is right from the start. */
  uv_mutex_lock(&r->mu);
  while (!r->started)
    uv_cond_wait(&r->cond, &r->mu);
  uv_mutex_unlock(&r->mu);
  *out = r;
  return 0;
}

int base_runner_new_on_loop(uv_loop_t *loop, base_runner **out) {
  if (!out)
    return CRONC_ERR_INVALID_ARGUMENT;
  *out = NULL;
  if (!loop)
    return CRONC_ERR_INVALID_ARGUMENT;
  base_runner *r;
  int err = runner_alloc(&r);
  if (err)
    return err;
  r->loop = loop;
  r->loop_thread = uv_thread_self();
  r->started = true;
  if (uv_async_init(loop, &r->async, on_async) != 0) {
    release(r);
    return CRONC_ERR_INSUFFICIENT_RESOURCES;
  }
  r->async.data = r;
  uv_idle_init(loop, &r->idle);
  r->idle.data = r;
  *out = r;
  return 0;
}

int base_runner_post(base_runner *r, base_task_fn fn, void *arg) {
  if (!r || !fn)
    return CRONC_ERR_INVALID_ARGUMENT;
  uv_mutex_lock(&r->mu);
  if (!r->accepting) {
    uv_mutex_unlock(&r->mu);
    return CRONC_ERR_CONTEXT_SHUT_DOWN;
  }
  task_vec *q = &r->pending;
  if (q->len == q->cap) {
    size_t cap = q->cap ? q->cap * 2 : 16;
    base_task *items =
        cap <= SIZE_MAX / sizeof *items ? realloc(q->items, cap * sizeof *items) : NULL;
    if (!items) {
      uv_mutex_unlock(&r->mu);
      return CRONC_ERR_OUT_OF_MEMORY;
    }
    q->items = items;
    q->cap = cap;
  }
  q->items[q->len++] = (base_task){fn, arg};
  /* Sent under the lock: shutdown closes the handle only after it has seen
   * accepting == false under this lock, so the handle is alive here. */
  if (q->len == 1) {
    uv_thread_t self = uv_thread_self();
    if (uv_thread_equal(&self, &r->loop_thread))
      uv_idle_start(&r->idle, on_idle); /* the loop thread: no wake-up needed */
    else
      uv_async_send(&r->async);
  }
  uv_mutex_unlock(&r->mu);
  return 0;
}

typedef struct waiter {
  base_task_fn fn;
  void *arg;
  uv_mutex_t mu;
  uv_cond_t cond;
  bool done;
} waiter;

static void run_waiter(void *arg) {
  waiter *w = arg;
  w->fn(w->arg);
  uv_mutex_lock(&w->mu);
  w->done = true;
  uv_cond_signal(&w->cond); /* under the lock: w lives on the waiting stack */
  uv_mutex_unlock(&w->mu);
}

int base_runner_post_and_wait(base_runner *r, base_task_fn fn, void *arg) {
  if (!r || !fn || base_runner_is_current(r))
    return CRONC_ERR_INVALID_ARGUMENT;
  waiter w = {.fn = fn, .arg = arg, .done = false};
  if (uv_mutex_init(&w.mu) != 0)
    return CRONC_ERR_INSUFFICIENT_RESOURCES;
  if (uv_cond_init(&w.cond) != 0) {
    uv_mutex_destroy(&w.mu);
    return CRONC_ERR_INSUFFICIENT_RESOURCES;
  }
  /* Once posted it runs: shutdown runs every accepted task. */
  int err = base_runner_post(r, run_waiter, &w);
  if (err == 0) {
    uv_mutex_lock(&w.mu);
    while (!w.done)
      uv_cond_wait(&w.cond, &w.mu);
    uv_mutex_unlock(&w.mu);
  }
  uv_cond_destroy(&w.cond);
  uv_mutex_destroy(&w.mu);
  return err;
}

bool base_runner_is_current(const base_runner *r) {
  if (!r)
    return false;
  uv_thread_t self = uv_thread_self();
  return uv_thread_equal(&self, &r->loop_thread) != 0;
}

uv_loop_t *base_runner_loop(base_runner *r) { return r ? r->loop : NULL; }

int base_runner_shutdown(base_runner *r) {
  if (!r)
    return CRONC_ERR_INVALID_ARGUMENT;
  bool current = base_runner_is_current(r);
  if (r->owns_thread ? current : !current)
    return CRONC_ERR_INVALID_ARGUMENT;
  if (r->shut_down)
    return 0;
  uv_mutex_lock(&r->mu);
  r->accepting = false;
  if (r->owns_thread)
    uv_async_send(&r->async); /* the loop thread finishes in on_async */
  uv_mutex_unlock(&r->mu);
  if (r->owns_thread) {
    uv_thread_join(&r->thread);
    /* Every handle was closed and uv_run returned, so this succeeds. */
    uv_loop_close(r->loop);
  } else {
    finish_on_loop(r);
  }
  r->shut_down = true;
  return 0;
}

int base_runner_free(base_runner *r) {
  if (!r)
    return 0;
  int err = base_runner_shutdown(r);
  if (err)
    return err;
  if (r->owns_thread || (r->async_closed && r->idle_closed))
    release(r);
  else
    r->free_requested = true;
  return 0;
}

/* ---- Timers ------------------------------------------------------------ */

enum { TIMER_NOT_OPEN = 0, TIMER_OPEN = 1, TIMER_CLOSING = 2 };

/* The thread is checked first: state is written on the loop thread only, so
 * a caller on the wrong thread must not even read it. */
static bool timer_usable(const base_timer *t) {
  if (!t)
    return false;
  uv_thread_t self = uv_thread_self();
  return uv_thread_equal(&self, &t->loop_thread) != 0 && t->state == TIMER_OPEN;
}

static void on_timer(uv_timer_t *h) {
  base_timer *t = h->data;
  t->fn(t, t->user_data);
}

static void on_timer_closed(uv_handle_t *h) {
  base_timer *t = h->data;
  t->state = TIMER_NOT_OPEN;
  base_timer_fn closed = t->closed_fn;
  if (closed)
    closed(t, t->closed_data); /* may free t: nothing after this */
}

int base_timer_init(base_runner *r, base_timer *t) {
  if (!t || !r || !base_runner_is_current(r))
    return CRONC_ERR_INVALID_ARGUMENT;
  *t = (base_timer){.loop_thread = r->loop_thread};
  if (uv_timer_init(r->loop, &t->handle) != 0)
    return CRONC_ERR_INSUFFICIENT_RESOURCES;
  t->handle.data = t;
  t->state = TIMER_OPEN;
  return 0;
}

int base_timer_start(base_timer *t, uint64_t delay_ms, uint64_t repeat_ms, base_timer_fn fn,
                     void *user_data) {
  if (!timer_usable(t) || !fn)
    return CRONC_ERR_INVALID_ARGUMENT;
  t->fn = fn;
  t->user_data = user_data;
  if (uv_timer_start(&t->handle, on_timer, delay_ms, repeat_ms) != 0)
    return CRONC_ERR_FAILED;
  return 0;
}

int base_timer_stop(base_timer *t) {
  if (!timer_usable(t))
    return CRONC_ERR_INVALID_ARGUMENT;
  uv_timer_stop(&t->handle);
  return 0;
}

bool base_timer_is_running(const base_timer *t) {
  return t && t->state == TIMER_OPEN && uv_is_active((const uv_handle_t *)&t->handle);
}

int base_timer_close(base_timer *t, base_timer_fn closed, void *user_data) {
  if (!timer_usable(t))
    return CRONC_ERR_INVALID_ARGUMENT;
  uv_timer_stop(&t->handle);
  t->closed_fn = closed;
  t->closed_data = user_data;
  t->state = TIMER_CLOSING;
  uv_close((uv_handle_t *)&t->handle, on_timer_closed);
  return 0;
}
