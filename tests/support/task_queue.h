/* tests/support/task_queue: a thread that runs posted functions in order,
 * the executor tests hand to cronc (cronc_executor) and to the Cronet API
 * (Cronet_Executor). Header-only (static inline) so a test links nothing
 * more for it.
 *
 * task_queue_stop() runs what is still queued, then joins the thread, so
 * no posted task is lost (a lost callback would leak its request). Thread:
 * post from any thread; start/stop on the test's thread. */
#ifndef CRONC_TESTS_SUPPORT_TASK_QUEUE_H
#define CRONC_TESTS_SUPPORT_TASK_QUEUE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

typedef struct task_queue_item {
  void (*fn)(void *);
  void *arg;
  struct task_queue_item *next;
} task_queue_item;

typedef struct task_queue {
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  task_queue_item *head, *tail;
  bool stop;
  unsigned ran;
} task_queue;

static inline void *task_queue_main(void *arg) {
  task_queue *q = arg;
  pthread_mutex_lock(&q->mu);
  for (;;) {
    while (!q->head && !q->stop)
      pthread_cond_wait(&q->cv, &q->mu);
    task_queue_item *it = q->head;
    if (!it)
      break; /* stop and empty */
    q->head = it->next;
    if (!q->head)
      q->tail = NULL;
    pthread_mutex_unlock(&q->mu);
    it->fn(it->arg);
    free(it);
    pthread_mutex_lock(&q->mu);
    q->ran++;
  }
  pthread_mutex_unlock(&q->mu);
  return NULL;
}

static inline task_queue *task_queue_start(void) {
  task_queue *q = calloc(1, sizeof *q);
  if (!q)
    return NULL;
  pthread_mutex_init(&q->mu, NULL);
  pthread_cond_init(&q->cv, NULL);
  if (pthread_create(&q->thread, NULL, task_queue_main, q) != 0) {
    free(q);
    return NULL;
  }
  return q;
}

static inline void task_queue_post(task_queue *q, void (*fn)(void *), void *arg) {
  task_queue_item *it = calloc(1, sizeof *it);
  if (!it)
    abort(); /* tests only */
  it->fn = fn;
  it->arg = arg;
  pthread_mutex_lock(&q->mu);
  if (q->tail)
    q->tail->next = it;
  else
    q->head = it;
  q->tail = it;
  pthread_cond_signal(&q->cv);
  pthread_mutex_unlock(&q->mu);
}

static inline bool task_queue_is_current(task_queue *q) {
  return pthread_equal(pthread_self(), q->thread);
}

/* Runs the rest of the queue, joins and frees. */
static inline void task_queue_stop(task_queue *q) {
  pthread_mutex_lock(&q->mu);
  q->stop = true;
  pthread_cond_signal(&q->cv);
  pthread_mutex_unlock(&q->mu);
  pthread_join(q->thread, NULL);
  pthread_cond_destroy(&q->cv);
  pthread_mutex_destroy(&q->mu);
  free(q);
}

#endif /* CRONC_TESTS_SUPPORT_TASK_QUEUE_H */
