/* base/thread: the network thread, task posting and timers on libuv.
 *
 * A base_runner is where network objects live: one libuv loop, run either on
 * a thread the runner starts and owns (base_runner_new_thread) or on a loop
 * the application owns and runs itself (base_runner_new_on_loop). Every
 * network object is created, used and destroyed on the runner's loop thread;
 * other threads reach it only by posting tasks (base_runner_post), which run
 * on the loop thread in the order they were posted (FIFO across all posters).
 *
 * Ownership: the runner owns its uv_async_t (the wake-up) and, for an own
 * thread, the loop. Handles created by others (sockets, base_timer) belong to
 * their creators, who close them on the loop thread before shutdown (the
 * engine does it in a task run with base_runner_post_and_wait). libuv handles
 * need uv_close() and its callback before their memory is freed.
 *
 * Threads: post, post_and_wait, is_current, loop and shutdown/free (for an own
 * thread) may be called from any thread except where stated. Thread-affinity
 * violations that are cheap to see (a pthread comparison) are refused with
 * CRONC_ERR_INVALID_ARGUMENT instead of deadlocking or corrupting state.
 * Errors are negative CRONC_ERR_* codes. */
#ifndef CRONC_BASE_THREAD_H
#define CRONC_BASE_THREAD_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

typedef struct base_runner base_runner;
typedef void (*base_task_fn)(void *arg);

/* Starts a thread ("cronc-network", SIGPIPE blocked) running a new uv loop
 * and returns once it runs. 0, CRONC_ERR_OUT_OF_MEMORY,
 * CRONC_ERR_INSUFFICIENT_RESOURCES (libuv or thread creation failed) or
 * CRONC_ERR_INVALID_ARGUMENT (out NULL). On error *out is NULL. */
int base_runner_new_thread(base_runner **out);

/* A runner on `loop`, owned and run by the caller. Call on the thread that
 * runs `loop`; that thread becomes the runner's loop thread. The loop must be
 * run (uv_run) for posted tasks to execute. The runner's wake-up handle is
 * active, so uv_run(UV_RUN_DEFAULT) returns only after base_runner_shutdown()
 * (use UV_RUN_ONCE/NOWAIT or uv_stop() to step out earlier). Errors as
 * above. */
int base_runner_new_on_loop(uv_loop_t *loop, base_runner **out);

/* Queues fn(arg) to run on the loop thread, after every task posted before
 * it. Any thread, including the loop thread (the task then runs on a later
 * loop iteration, never inside this call). Returns 0, or an error and fn will
 * never run (the caller still owns arg): CRONC_ERR_CONTEXT_SHUT_DOWN once
 * shutdown has begun, CRONC_ERR_OUT_OF_MEMORY, CRONC_ERR_INVALID_ARGUMENT
 * (r or fn NULL). */
int base_runner_post(base_runner *r, base_task_fn fn, void *arg);

/* Posts fn(arg) and blocks until it has run on the loop thread. Refused with
 * CRONC_ERR_INVALID_ARGUMENT on the loop thread itself (it would deadlock);
 * other errors as base_runner_post (fn then has not run). For a caller-owned
 * loop, the loop must be running on its thread meanwhile. */
int base_runner_post_and_wait(base_runner *r, base_task_fn fn, void *arg);

/* True on the runner's loop thread. Any thread. */
bool base_runner_is_current(const base_runner *r);

/* The runner's loop; use it only on the loop thread. */
uv_loop_t *base_runner_loop(base_runner *r);

/* Stops accepting tasks (later posts return CRONC_ERR_CONTEXT_SHUT_DOWN),
 * runs every task already posted, in order, and closes the runner's wake-up
 * handle. The runner's memory stays valid (posts keep failing cleanly) until
 * base_runner_free(). Idempotent; call it from one thread at a time.
 *  - Own thread: call off the loop thread (refused with
 *    CRONC_ERR_INVALID_ARGUMENT on it). Handles still open on the loop are
 *    then closed without their close callbacks (their memory must stay
 *    valid until this returns), the thread is joined and the loop closed.
 *  - Caller's loop: call on the loop thread (refused elsewhere); the
 *    remaining tasks run inside this call; the caller's own handles are left
 *    alone. The wake-up handle's close completes on the caller's next loop
 *    iteration, so keep running the loop (uv_run) before uv_loop_close(). */
int base_runner_shutdown(base_runner *r);

/* base_runner_shutdown() if not done, then frees the runner (NULL: 0). Same
 * thread rules and errors; on error nothing was freed. For a caller's loop
 * the memory is released in the wake-up handle's close callback, i.e. on a
 * later iteration of the caller's loop (or at once if that already ran). The
 * pointer is invalid after a 0 return in both cases. */
int base_runner_free(base_runner *r);

/* ---- Timers ------------------------------------------------------------
 * A base_timer is a one-shot or repeating timer on a runner's loop (a
 * uv_timer_t underneath, in the loop's millisecond time). The caller owns the
 * struct's memory (embed it anywhere) and must not free it until it is closed:
 * base_timer_close() and then its closed callback, or base_runner_shutdown()
 * for an own thread. Every function must be called on the runner's loop
 * thread (refused with CRONC_ERR_INVALID_ARGUMENT elsewhere, and for a
 * timer that is not open). A timer keeps no pointer to its runner, so on a
 * caller's loop it may be used and closed after the runner is freed. Fields
 * are private. */
typedef struct base_timer base_timer;
typedef void (*base_timer_fn)(base_timer *timer, void *user_data);

struct base_timer {
  uv_timer_t handle;
  uv_thread_t loop_thread; /* a copy: a timer never touches its runner again */
  base_timer_fn fn;
  void *user_data;
  base_timer_fn closed_fn;
  void *closed_data;
  int state; /* 0 = not open, 1 = open, 2 = closing */
};

/* Opens the timer on r's loop (not started). t may hold garbage. */
int base_timer_init(base_runner *r, base_timer *t);

/* (Re)starts the timer: fn(t, user_data) runs on the loop thread after
 * delay_ms, then every repeat_ms if repeat_ms > 0. Restarting a running timer
 * replaces its schedule and callback. fn may stop, restart or close t. */
int base_timer_start(base_timer *t, uint64_t delay_ms, uint64_t repeat_ms, base_timer_fn fn,
                     void *user_data);

/* Stops the timer; fn will not run until it is started again. */
int base_timer_stop(base_timer *t);

/* True while started and not yet fired (one-shot) or stopped. Loop thread. */
bool base_timer_is_running(const base_timer *t);

/* Stops and closes the timer. closed(t, user_data), if not NULL, runs on a
 * later loop iteration once libuv is done with the handle; only then may the
 * memory be freed (closed may free it). With closed NULL the memory must stay
 * valid until the loop has run once more. */
int base_timer_close(base_timer *t, base_timer_fn closed, void *user_data);

#endif /* CRONC_BASE_THREAD_H */
