/* base/clock: the one source of time for cronc's logic.
 *
 * Chromium keeps two clocks and so do we: wall time (base::Time; what
 * Alt-Svc expirations and persisted timestamps use) and monotonic ticks
 * (base::TimeTicks; what broken-service backoff and timers use). Every module
 * that depends on time takes a base_clock so tests inject a manual clock and
 * never sleep. All values are microseconds. A clock is read on the network
 * thread; the manual clock is not thread-safe. */
#ifndef CRONC_BASE_CLOCK_H
#define CRONC_BASE_CLOCK_H

#include <stdint.h>

#define BASE_US_PER_MS INT64_C(1000)
#define BASE_US_PER_SEC INT64_C(1000000)
/* A time that never comes (Chromium's base::Time::Max()). */
#define BASE_TIME_MAX INT64_MAX

typedef struct base_clock base_clock;

typedef struct base_clock_vtable {
  /* Wall-clock microseconds since the Unix epoch. */
  int64_t (*now_us)(const base_clock *clock);
  /* Monotonic microseconds from an arbitrary origin. */
  int64_t (*ticks_us)(const base_clock *clock);
} base_clock_vtable;

struct base_clock {
  const base_clock_vtable *vt;
};

static inline int64_t base_clock_now(const base_clock *c) { return c->vt->now_us(c); }
static inline int64_t base_clock_ticks(const base_clock *c) { return c->vt->ticks_us(c); }

/* The process-wide real clock (CLOCK_REALTIME / CLOCK_MONOTONIC). */
const base_clock *base_clock_system(void);

/* A manual clock for tests: both readings move only when advanced. */
typedef struct base_manual_clock {
  base_clock base; /* first member: pass &mc->base where a base_clock is wanted */
  int64_t now_us;
  int64_t ticks_us;
} base_manual_clock;

/* Starts at wall time `now_us` and ticks at an arbitrary non-zero origin. */
void base_manual_clock_init(base_manual_clock *mc, int64_t now_us);
void base_manual_clock_advance(base_manual_clock *mc, int64_t delta_us);

#endif /* CRONC_BASE_CLOCK_H */
