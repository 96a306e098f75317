/* The public API's executors: a cronc_task wraps one callback for an
 * application executor (Cronet's Runnable). The task is the only allocation
 * per delivered callback; it is freed by cronc_task_run or cronc_task_drop,
 * whichever the application calls (exactly one, once). */
#include <stdlib.h>

#include "cronc/cronc.h"
#include "engine/api_shared.h"

struct cronc_task {
  void (*fn)(void *);
  void (*drop)(void *);
  void *arg;
};

CRONC_EXPORT void cronc_task_run(cronc_task *t) {
  if (!t)
    return;
  void (*fn)(void *) = t->fn;
  void *arg = t->arg;
  free(t); /* first: fn may end the executor's life */
  fn(arg);
}

CRONC_EXPORT void cronc_task_drop(cronc_task *t) {
  if (!t)
    return;
  void (*drop)(void *) = t->drop;
  void *arg = t->arg;
  free(t);
  if (drop)
    drop(arg);
}

void api_execute(const cronc_executor *ex, void (*fn)(void *), void (*drop)(void *), void *arg) {
  if (!ex || !ex->execute) {
    fn(arg);
    return;
  }
  cronc_task *t = malloc(sizeof *t);
  if (!t) {
    fn(arg);
    return;
  }
  *t = (cronc_task){fn, drop, arg};
  ex->execute(ex->executor_data, t);
}
