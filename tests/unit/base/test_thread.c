/* base/thread: the network thread, task posting, shutdown and timers.
 * Waits use condition variables, joins and post_and_wait, never sleeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/thread.h"
#include "cronc/cronc.h"

/* ---- helpers ---------------------------------------------------------- */

typedef struct signal_flag {
  pthread_mutex_t mu;
  pthread_cond_t cond;
  int count;
} signal_flag;

static void flag_init(signal_flag *f) {
  pthread_mutex_init(&f->mu, NULL);
  pthread_cond_init(&f->cond, NULL);
  f->count = 0;
}

static void flag_destroy(signal_flag *f) {
  pthread_cond_destroy(&f->cond);
  pthread_mutex_destroy(&f->mu);
}

static void flag_raise(signal_flag *f) {
  pthread_mutex_lock(&f->mu);
  f->count++;
  pthread_cond_broadcast(&f->cond);
  pthread_mutex_unlock(&f->mu);
}

static void flag_wait(signal_flag *f, int count) {
  pthread_mutex_lock(&f->mu);
  while (f->count < count)
    pthread_cond_wait(&f->cond, &f->mu);
  pthread_mutex_unlock(&f->mu);
}

static void noop(void *arg) { (void)arg; }

/* ---- posting ------------------------------------------------------------ */

#define POSTERS          4
#define TASKS_PER_POSTER 5000

typedef struct fifo_state {
  base_runner *r;
  int next[POSTERS]; /* loop thread only */
  atomic_int off_thread;
  atomic_int out_of_order;
  atomic_int ran;
} fifo_state;

typedef struct fifo_task {
  fifo_state *st;
  int poster;
  int seq;
} fifo_task;

static fifo_task fifo_tasks[POSTERS][TASKS_PER_POSTER];

static void fifo_run(void *arg) {
  fifo_task *t = arg;
  fifo_state *st = t->st;
  if (!base_runner_is_current(st->r))
    atomic_fetch_add(&st->off_thread, 1);
  if (st->next[t->poster] != t->seq)
    atomic_fetch_add(&st->out_of_order, 1);
  st->next[t->poster] = t->seq + 1;
  atomic_fetch_add(&st->ran, 1);
}

typedef struct poster_arg {
  fifo_state *st;
  int poster;
  int failures;
} poster_arg;

static void *poster_main(void *p) {
  poster_arg *a = p;
  for (int i = 0; i < TASKS_PER_POSTER; i++) {
    fifo_task *t = &fifo_tasks[a->poster][i];
    *t = (fifo_task){a->st, a->poster, i};
    if (base_runner_post(a->st->r, fifo_run, t) != 0)
      a->failures++;
  }
  return NULL;
}

static void tasks_from_many_threads_run_in_order_on_the_loop_thread(void **state) {
  (void)state;
  static fifo_state st;
  memset(&st, 0, sizeof st);
  assert_int_equal(base_runner_new_thread(&st.r), 0);
  assert_false(base_runner_is_current(st.r));
  assert_non_null(base_runner_loop(st.r));
  pthread_t th[POSTERS];
  poster_arg args[POSTERS];
  for (int i = 0; i < POSTERS; i++) {
    args[i] = (poster_arg){&st, i, 0};
    assert_int_equal(pthread_create(&th[i], NULL, poster_main, &args[i]), 0);
  }
  for (int i = 0; i < POSTERS; i++) {
    pthread_join(th[i], NULL);
    assert_int_equal(args[i].failures, 0);
  }
  /* FIFO: this runs after every task posted above. */
  assert_int_equal(base_runner_post_and_wait(st.r, noop, NULL), 0);
  assert_int_equal(atomic_load(&st.ran), POSTERS * TASKS_PER_POSTER);
  assert_int_equal(atomic_load(&st.off_thread), 0);
  assert_int_equal(atomic_load(&st.out_of_order), 0);
  for (int i = 0; i < POSTERS; i++)
    assert_int_equal(st.next[i], TASKS_PER_POSTER);
  assert_int_equal(base_runner_free(st.r), 0);
}

typedef struct wait_state {
  base_runner *r;
  int value;
  bool on_loop;
  int nested_rc;
  int shutdown_rc;
  int free_rc;
} wait_state;

static void set_value(void *arg) {
  wait_state *w = arg;
  w->on_loop = base_runner_is_current(w->r);
  w->value = 42;
}

static void post_and_wait_returns_after_the_task_ran(void **state) {
  (void)state;
  wait_state w = {0};
  assert_int_equal(base_runner_new_thread(&w.r), 0);
  assert_int_equal(base_runner_post_and_wait(w.r, set_value, &w), 0);
  assert_int_equal(w.value, 42);
  assert_true(w.on_loop);
  assert_int_equal(base_runner_free(w.r), 0);
}

static void try_blocking_calls_on_loop(void *arg) {
  wait_state *w = arg;
  w->nested_rc = base_runner_post_and_wait(w->r, noop, NULL);
  w->shutdown_rc = base_runner_shutdown(w->r);
  w->free_rc = base_runner_free(w->r);
}

static void blocking_calls_from_the_loop_thread_are_refused(void **state) {
  (void)state;
  wait_state w = {0};
  assert_int_equal(base_runner_new_thread(&w.r), 0);
  assert_int_equal(base_runner_post_and_wait(w.r, try_blocking_calls_on_loop, &w), 0);
  assert_int_equal(w.nested_rc, CRONC_ERR_INVALID_ARGUMENT);
  assert_int_equal(w.shutdown_rc, CRONC_ERR_INVALID_ARGUMENT);
  assert_int_equal(w.free_rc, CRONC_ERR_INVALID_ARGUMENT);
  /* The runner still works. */
  assert_int_equal(base_runner_post_and_wait(w.r, set_value, &w), 0);
  assert_int_equal(w.value, 42);
  assert_int_equal(base_runner_free(w.r), 0);
}

static void post_after_shutdown_returns_context_shut_down(void **state) {
  (void)state;
  base_runner *r = NULL;
  assert_int_equal(base_runner_new_thread(&r), 0);
  assert_int_equal(base_runner_shutdown(r), 0);
  assert_int_equal(base_runner_shutdown(r), 0); /* idempotent */
  assert_int_equal(base_runner_post(r, noop, NULL), CRONC_ERR_CONTEXT_SHUT_DOWN);
  assert_int_equal(base_runner_post_and_wait(r, noop, NULL), CRONC_ERR_CONTEXT_SHUT_DOWN);
  assert_int_equal(base_runner_free(r), 0);
}

static void bump(void *arg) { atomic_fetch_add((atomic_int *)arg, 1); }

static void shutdown_runs_every_task_already_posted(void **state) {
  (void)state;
  base_runner *r = NULL;
  atomic_int ran;
  atomic_init(&ran, 0);
  assert_int_equal(base_runner_new_thread(&r), 0);
  for (int i = 0; i < 10000; i++)
    assert_int_equal(base_runner_post(r, bump, &ran), 0);
  assert_int_equal(base_runner_free(r), 0);
  assert_int_equal(atomic_load(&ran), 10000);
}

typedef struct drain_state {
  base_runner *r;
  signal_flag started;
  atomic_int queued; /* posts accepted from inside the task */
  atomic_int ran;    /* of those, how many ran */
  int refused_rc;
} drain_state;

static void count_ran(void *arg) {
  drain_state *d = arg;
  atomic_fetch_add(&d->ran, 1);
}

/* Keeps posting until shutdown starts refusing: tasks posted before that
 * must still run; the post that fails must say why. */
static void post_until_refused(void *arg) {
  drain_state *d = arg;
  flag_raise(&d->started);
  for (;;) {
    int rc = base_runner_post(d->r, count_ran, d);
    if (rc != 0) {
      d->refused_rc = rc;
      return;
    }
    atomic_fetch_add(&d->queued, 1);
    sched_yield();
  }
}

static void *shutdown_main(void *p) {
  drain_state *d = p;
  base_runner_shutdown(d->r);
  return NULL;
}

static void posts_racing_shutdown_either_run_or_fail(void **state) {
  (void)state;
  static drain_state d;
  memset(&d, 0, sizeof d);
  flag_init(&d.started);
  assert_int_equal(base_runner_new_thread(&d.r), 0);
  assert_int_equal(base_runner_post(d.r, post_until_refused, &d), 0);
  flag_wait(&d.started, 1);
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, shutdown_main, &d), 0);
  pthread_join(th, NULL);
  assert_int_equal(d.refused_rc, CRONC_ERR_CONTEXT_SHUT_DOWN);
  assert_int_equal(atomic_load(&d.ran), atomic_load(&d.queued));
  assert_int_equal(base_runner_free(d.r), 0);
  flag_destroy(&d.started);
}

typedef struct order_state {
  base_runner *r;
  char log[8];
  int n;
  int post_rc;
} order_state;

static void second(void *arg) {
  order_state *o = arg;
  o->log[o->n++] = 'b';
}

static void first(void *arg) {
  order_state *o = arg;
  o->post_rc = base_runner_post(o->r, second, o);
  o->log[o->n++] = 'a'; /* the posted task has not run inside post */
}

static void task_posted_from_a_task_runs_after_it(void **state) {
  (void)state;
  order_state o = {0};
  assert_int_equal(base_runner_new_thread(&o.r), 0);
  assert_int_equal(base_runner_post(o.r, first, &o), 0);
  assert_int_equal(base_runner_post_and_wait(o.r, noop, NULL), 0);
  /* `second` was queued behind the noop; wait once more. */
  assert_int_equal(base_runner_post_and_wait(o.r, noop, NULL), 0);
  assert_int_equal(o.post_rc, 0);
  assert_string_equal(o.log, "ab");
  assert_int_equal(base_runner_free(o.r), 0);
}

static void stop_loop(void *arg) { uv_stop(base_runner_loop(arg)); }

static void uv_stop_in_a_task_does_not_end_the_thread(void **state) {
  (void)state;
  base_runner *r = NULL;
  wait_state w = {0};
  assert_int_equal(base_runner_new_thread(&r), 0);
  w.r = r;
  assert_int_equal(base_runner_post_and_wait(r, stop_loop, r), 0);
  assert_int_equal(base_runner_post_and_wait(r, set_value, &w), 0);
  assert_int_equal(w.value, 42);
  assert_int_equal(base_runner_free(r), 0);
}

static void bad_arguments_are_refused(void **state) {
  (void)state;
  assert_int_equal(base_runner_new_thread(NULL), CRONC_ERR_INVALID_ARGUMENT);
  base_runner *r = (base_runner *)&r;
  assert_int_equal(base_runner_new_on_loop(NULL, &r), CRONC_ERR_INVALID_ARGUMENT);
  assert_null(r);
  assert_int_equal(base_runner_post(NULL, noop, NULL), CRONC_ERR_INVALID_ARGUMENT);
  assert_int_equal(base_runner_post_and_wait(NULL, noop, NULL), CRONC_ERR_INVALID_ARGUMENT);
  assert_false(base_runner_is_current(NULL));
  assert_null(base_runner_loop(NULL));
  assert_int_equal(base_runner_free(NULL), 0);
  assert_int_equal(base_runner_new_thread(&r), 0);
  assert_int_equal(base_runner_post(r, NULL, NULL), CRONC_ERR_INVALID_ARGUMENT);
  base_timer t;
  assert_int_equal(base_timer_init(r, &t), CRONC_ERR_INVALID_ARGUMENT); /* off loop */
  assert_int_equal(base_runner_free(r), 0);
}

/* ---- timers on the own thread ----------------------------------------- */

typedef struct timer_state {
  base_runner *r;
  base_timer once;
  base_timer repeat;
  base_timer stopped;
  int once_fired;
  int repeat_fired;
  int stopped_fired;
  bool running_in_cb;
  bool running_after_stop;
  int closed;
  int failed_checks;
  signal_flag done;
} timer_state;

static void timer_closed(base_timer *t, void *ud) {
  (void)t;
  timer_state *s = ud;
  if (++s->closed == 3)
    flag_raise(&s->done);
}

static void on_repeat(base_timer *t, void *ud) {
  timer_state *s = ud;
  if (++s->repeat_fired < 3)
    return;
  base_timer_stop(t);
  s->running_after_stop = base_timer_is_running(t);
  /* Everything has fired or was stopped: close all three. */
  base_timer_close(&s->once, timer_closed, s);
  base_timer_close(&s->repeat, timer_closed, s);
  base_timer_close(&s->stopped, timer_closed, s);
}

static void on_once(base_timer *t, void *ud) {
  timer_state *s = ud;
  s->once_fired++;
  s->running_in_cb = base_timer_is_running(t); /* a one-shot is done */
}

static void on_stopped(base_timer *t, void *ud) {
  (void)t;
  timer_state *s = ud;
  s->stopped_fired++;
}

/* cmocka's asserts must not fire on another thread: loop-thread checks are
 * counted here and asserted on the test thread. */
#define CHECK(s, cond)                                                                             \
  do {                                                                                             \
    if (!(cond))                                                                                   \
      (s)->failed_checks++;                                                                        \
  } while (0)

static void start_timers(void *arg) {
  timer_state *s = arg;
  CHECK(s, base_timer_init(s->r, &s->once) == 0);
  CHECK(s, base_timer_init(s->r, &s->repeat) == 0);
  CHECK(s, base_timer_init(s->r, &s->stopped) == 0);
  CHECK(s, !base_timer_is_running(&s->once));
  CHECK(s, base_timer_start(&s->once, 1, 0, on_once, s) == 0);
  CHECK(s, base_timer_is_running(&s->once));
  CHECK(s, base_timer_start(&s->stopped, 2, 0, on_stopped, s) == 0);
  CHECK(s, base_timer_stop(&s->stopped) == 0);
  CHECK(s, !base_timer_is_running(&s->stopped));
  CHECK(s, base_timer_start(&s->repeat, 3, 1, on_repeat, s) == 0);
}

static void timers_fire_repeat_and_stop_on_the_loop_thread(void **state) {
  (void)state;
  static timer_state s;
  memset(&s, 0, sizeof s);
  flag_init(&s.done);
  assert_int_equal(base_runner_new_thread(&s.r), 0);
  assert_int_equal(base_runner_post_and_wait(s.r, start_timers, &s), 0);
  /* Off the loop thread every timer call is refused. */
  assert_int_equal(base_timer_stop(&s.once), CRONC_ERR_INVALID_ARGUMENT);
  assert_int_equal(base_timer_start(&s.once, 1, 0, on_once, &s), CRONC_ERR_INVALID_ARGUMENT);
  flag_wait(&s.done, 1);
  assert_int_equal(s.failed_checks, 0);
  assert_int_equal(s.once_fired, 1);
  assert_false(s.running_in_cb);
  assert_int_equal(s.repeat_fired, 3);
  assert_false(s.running_after_stop);
  assert_int_equal(s.stopped_fired, 0);
  assert_int_equal(s.closed, 3);
  assert_int_equal(base_runner_free(s.r), 0);
  flag_destroy(&s.done);
}

static void use_closed_timer(void *arg) {
  timer_state *s = arg;
  CHECK(s, base_timer_init(s->r, &s->once) == 0);
  CHECK(s, base_timer_close(&s->once, NULL, NULL) == 0);
  /* Closing or closed: refused, not corrupted. */
  CHECK(s, base_timer_start(&s->once, 1, 0, on_once, s) == CRONC_ERR_INVALID_ARGUMENT);
  CHECK(s, base_timer_stop(&s->once) == CRONC_ERR_INVALID_ARGUMENT);
  CHECK(s, base_timer_close(&s->once, NULL, NULL) == CRONC_ERR_INVALID_ARGUMENT);
  CHECK(s, !base_timer_is_running(&s->once));
  /* A timer left open is closed by shutdown. */
  CHECK(s, base_timer_init(s->r, &s->repeat) == 0);
  CHECK(s, base_timer_start(&s->repeat, 100000, 0, on_repeat, s) == 0);
  CHECK(s, base_timer_start(&s->repeat, 100000, 0, NULL, s) == CRONC_ERR_INVALID_ARGUMENT);
}

static void closed_timer_is_refused_and_open_ones_do_not_block_shutdown(void **state) {
  (void)state;
  static timer_state s;
  memset(&s, 0, sizeof s);
  assert_int_equal(base_runner_new_thread(&s.r), 0);
  assert_int_equal(base_runner_post_and_wait(s.r, use_closed_timer, &s), 0);
  assert_int_equal(base_runner_free(s.r), 0); /* returns: the loop ended */
  assert_int_equal(s.failed_checks, 0);
  assert_int_equal(s.repeat_fired, 0);
}

/* ---- a loop the caller owns --------------------------------------------- */

#define CALLER_TASKS 1000

typedef struct caller_state {
  uv_loop_t loop;
  base_runner *r;
  int next;
  int out_of_order;
  int off_thread;
  int wait_rc;
  int free_rc;
  int value;
  int timer_fired;
} caller_state;

typedef struct caller_task {
  caller_state *s;
  int seq;
} caller_task;

static caller_task caller_tasks[CALLER_TASKS];

static void caller_run(void *arg) {
  caller_task *t = arg;
  if (t->s->next != t->seq)
    t->s->out_of_order++;
  if (!base_runner_is_current(t->s->r))
    t->s->off_thread++;
  t->s->next = t->seq + 1;
}

static void caller_set(void *arg) { ((caller_state *)arg)->value = 7; }

static void caller_stop(void *arg) { uv_stop(&((caller_state *)arg)->loop); }

static void *caller_poster(void *p) {
  caller_state *s = p;
  for (int i = 0; i < CALLER_TASKS; i++) {
    caller_tasks[i] = (caller_task){s, i};
    base_runner_post(s->r, caller_run, &caller_tasks[i]);
  }
  s->wait_rc = base_runner_post_and_wait(s->r, caller_set, s);
  s->free_rc = base_runner_free(s->r); /* off the loop thread: refused */
  base_runner_post(s->r, caller_stop, s);
  return NULL;
}

static void runner_on_caller_loop_runs_posted_tasks(void **state) {
  (void)state;
  static caller_state s;
  memset(&s, 0, sizeof s);
  assert_int_equal(uv_loop_init(&s.loop), 0);
  assert_int_equal(base_runner_new_on_loop(&s.loop, &s.r), 0);
  assert_true(base_runner_is_current(s.r));
  assert_ptr_equal(base_runner_loop(s.r), &s.loop);
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, caller_poster, &s), 0);
  uv_run(&s.loop, UV_RUN_DEFAULT); /* until caller_stop */
  pthread_join(th, NULL);
  assert_int_equal(s.next, CALLER_TASKS);
  assert_int_equal(s.out_of_order, 0);
  assert_int_equal(s.off_thread, 0);
  assert_int_equal(s.wait_rc, 0);
  assert_int_equal(s.value, 7);
  assert_int_equal(s.free_rc, CRONC_ERR_INVALID_ARGUMENT);

  /* Tasks still queued at free run inside free, on this thread. */
  s.value = 0;
  assert_int_equal(base_runner_post(s.r, caller_set, &s), 0);
  assert_int_equal(base_runner_free(s.r), 0);
  assert_int_equal(s.value, 7);
  /* The close completes on the next loop run; then the loop is empty. */
  assert_int_equal(uv_run(&s.loop, UV_RUN_DEFAULT), 0);
  assert_int_equal(uv_loop_close(&s.loop), 0);
}

static void caller_timer_fired(base_timer *t, void *ud) {
  caller_state *s = ud;
  s->timer_fired++;
  base_timer_close(t, NULL, NULL);
}

static void caller_free_inside(void *arg) {
  caller_state *s = arg;
  s->free_rc = base_runner_free(s->r);
}

static void caller_count(void *arg) { ((caller_state *)arg)->value++; }

static void runner_on_caller_loop_can_be_freed_from_a_task(void **state) {
  (void)state;
  static caller_state s;
  static base_timer timer;
  memset(&s, 0, sizeof s);
  assert_int_equal(uv_loop_init(&s.loop), 0);
  assert_int_equal(base_runner_new_on_loop(&s.loop, &s.r), 0);
  assert_int_equal(base_timer_init(s.r, &timer), 0);
  assert_int_equal(base_timer_start(&timer, 1, 0, caller_timer_fired, &s), 0);
  assert_int_equal(base_runner_post(s.r, caller_count, &s), 0);
  assert_int_equal(base_runner_post(s.r, caller_free_inside, &s), 0);
  assert_int_equal(base_runner_post(s.r, caller_count, &s), 0); /* runs during free */
  /* Returns once the timer fired and closed and the runner released itself. */
  assert_int_equal(uv_run(&s.loop, UV_RUN_DEFAULT), 0);
  assert_int_equal(s.free_rc, 0);
  assert_int_equal(s.value, 2);
  assert_int_equal(s.timer_fired, 1);
  assert_int_equal(uv_loop_close(&s.loop), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(tasks_from_many_threads_run_in_order_on_the_loop_thread),
      cmocka_unit_test(post_and_wait_returns_after_the_task_ran),
      cmocka_unit_test(blocking_calls_from_the_loop_thread_are_refused),
      cmocka_unit_test(post_after_shutdown_returns_context_shut_down),
      cmocka_unit_test(shutdown_runs_every_task_already_posted),
      cmocka_unit_test(posts_racing_shutdown_either_run_or_fail),
      cmocka_unit_test(task_posted_from_a_task_runs_after_it),
      cmocka_unit_test(uv_stop_in_a_task_does_not_end_the_thread),
      cmocka_unit_test(bad_arguments_are_refused),
      cmocka_unit_test(timers_fire_repeat_and_stop_on_the_loop_thread),
      cmocka_unit_test(closed_timer_is_refused_and_open_ones_do_not_block_shutdown),
      cmocka_unit_test(runner_on_caller_loop_runs_posted_tasks),
      cmocka_unit_test(runner_on_caller_loop_can_be_freed_from_a_task),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
