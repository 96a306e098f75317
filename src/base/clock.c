#include "base/clock.h"

#include <time.h>

static int64_t read_clock(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (int64_t)ts.tv_sec * BASE_US_PER_SEC + ts.tv_nsec / 1000;
}

static int64_t system_now(const base_clock *c) {
  (void)c;
  return read_clock(CLOCK_REALTIME);
}

static int64_t system_ticks(const base_clock *c) {
  (void)c;
  return read_clock(CLOCK_MONOTONIC);
}

static const base_clock_vtable system_vt = {system_now, system_ticks};
static const base_clock system_clock = {&system_vt};

const base_clock *base_clock_system(void) { return &system_clock; }

static int64_t manual_now(const base_clock *c) { return ((const base_manual_clock *)c)->now_us; }
static int64_t manual_ticks(const base_clock *c) {
  return ((const base_manual_clock *)c)->ticks_us;
}

static const base_clock_vtable manual_vt = {manual_now, manual_ticks};

void base_manual_clock_init(base_manual_clock *mc, int64_t now_us) {
  mc->base.vt = &manual_vt;
  mc->now_us = now_us;
  /* A non-zero origin catches code that treats ticks 0 as "unset". */
  mc->ticks_us = INT64_C(1000) * BASE_US_PER_SEC;
}

void base_manual_clock_advance(base_manual_clock *mc, int64_t delta_us) {
  mc->now_us += delta_us;
  mc->ticks_us += delta_us;
}
