/* NetLog core: ids, observers, dispatch. The file writer is netlog_file.c. */
#include "base/netlog.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/netlog_internal.h"

struct netlog_observer {
  netlog_observer *next;
  netlog_observer_fn fn;
  void *user_data;
  void (*on_netlog_free)(void *user_data); /* NULL for plain observers */
};

struct netlog {
  const base_clock *clock;
  pthread_mutex_t mu;         /* guards observers and the clock read */
  netlog_observer *observers; /* in registration order */
  atomic_uint_fast32_t next_id;
  /* Read without the lock so that logging with no observer costs one load. */
  atomic_int observer_count;
};

/* The netlog this thread is dispatching an event of, if any: an observer that
 * logs or (un)registers from its callback would deadlock on the lock, so such
 * calls are refused instead (events dropped, registration fails). */
static _Thread_local const netlog *tls_dispatching;

static const char *const source_type_names[] = {
#define NETLOG_SOURCE_TYPE(name) #name,
#include "base/netlog_types.h"
#undef NETLOG_SOURCE_TYPE
};

static const char *const event_type_names[] = {
#define NETLOG_EVENT_TYPE(name) #name,
#include "base/netlog_types.h"
#undef NETLOG_EVENT_TYPE
};

netlog *netlog_new(const base_clock *clock) {
  netlog *nl = calloc(1, sizeof *nl);
  if (!nl)
    return NULL;
  if (pthread_mutex_init(&nl->mu, NULL) != 0) {
    free(nl);
    return NULL;
  }
  nl->clock = clock ? clock : base_clock_system();
  atomic_init(&nl->next_id, 1);
  atomic_init(&nl->observer_count, 0);
  return nl;
}

void netlog_free(netlog *nl) {
  if (!nl)
    return;
  pthread_mutex_lock(&nl->mu);
  netlog_observer *obs = nl->observers;
  nl->observers = NULL;
  atomic_store(&nl->observer_count, 0);
  pthread_mutex_unlock(&nl->mu);
  /* Owners (file writers) finish outside the lock: they may write files. */
  while (obs) {
    netlog_observer *next = obs->next;
    if (obs->on_netlog_free)
      obs->on_netlog_free(obs->user_data);
    free(obs);
    obs = next;
  }
  pthread_mutex_destroy(&nl->mu);
  free(nl);
}

const base_clock *netlog_clock(const netlog *nl) { return nl ? nl->clock : NULL; }

netlog_source netlog_source_new(netlog *nl, netlog_source_type type) {
  netlog_source src = {.type = type, .id = 0};
  if (!nl)
    return src;
  uint32_t id;
  do { /* 0 means "no source"; skip it when the counter wraps */
    id = (uint32_t)atomic_fetch_add_explicit(&nl->next_id, 1, memory_order_relaxed);
  } while (id == 0);
  src.id = id;
  return src;
}

bool netlog_is_capturing(const netlog *nl) {
  return nl && atomic_load_explicit(&((netlog *)nl)->observer_count, memory_order_relaxed) > 0;
}

void netlog_add(netlog *nl, netlog_source source, netlog_event_type type, netlog_phase phase,
                const char *params) {
  if (!netlog_is_capturing(nl) || tls_dispatching == nl)
    return;
  pthread_mutex_lock(&nl->mu);
  if (nl->observers) {
    /* The time is read under the lock so observers see events in time order. */
    netlog_entry e = {
        .type = type,
        .source = source,
        .phase = phase,
        .time_ticks_us = base_clock_ticks(nl->clock),
        .params = params,
    };
    const netlog *outer = tls_dispatching;
    tls_dispatching = nl;
    for (netlog_observer *o = nl->observers; o; o = o->next)
      o->fn(&e, o->user_data);
    tls_dispatching = outer;
  }
  pthread_mutex_unlock(&nl->mu);
}

void netlog_add_event(netlog *nl, netlog_source source, netlog_event_type type,
                      const char *params) {
  netlog_add(nl, source, type, NETLOG_PHASE_NONE, params);
}

void netlog_add_net_error(netlog *nl, netlog_source source, netlog_event_type type, int error) {
  if (!netlog_is_capturing(nl))
    return;
  char params[40];
  snprintf(params, sizeof params, "{\"net_error\":%d}", error);
  netlog_add(nl, source, type, NETLOG_PHASE_NONE, params);
}

void netlog_add_source_dependency(netlog *nl, netlog_source source, netlog_event_type type,
                                  netlog_source dependency) {
  if (!netlog_is_capturing(nl))
    return;
  char params[80];
  snprintf(params, sizeof params, "{\"source_dependency\":{\"id\":%u,\"type\":%d}}",
           (unsigned)dependency.id, (int)dependency.type);
  netlog_add(nl, source, type, NETLOG_PHASE_NONE, params);
}

void netlog_end_net_error(netlog *nl, netlog_source source, netlog_event_type type, int error) {
  if (!netlog_is_capturing(nl))
    return;
  char params[40];
  if (error < 0)
    snprintf(params, sizeof params, "{\"net_error\":%d}", error);
  netlog_add(nl, source, type, NETLOG_PHASE_END, error < 0 ? params : NULL);
}

netlog_observer *netlog_add_owned_observer(netlog *nl, netlog_observer_fn fn,
                                           void (*on_netlog_free)(void *user_data),
                                           void *user_data) {
  if (!nl || !fn || tls_dispatching == nl)
    return NULL;
  netlog_observer *obs = calloc(1, sizeof *obs);
  if (!obs)
    return NULL;
  obs->fn = fn;
  obs->user_data = user_data;
  obs->on_netlog_free = on_netlog_free;
  pthread_mutex_lock(&nl->mu);
  netlog_observer **link = &nl->observers;
  while (*link)
    link = &(*link)->next;
  *link = obs;
  atomic_fetch_add(&nl->observer_count, 1);
  pthread_mutex_unlock(&nl->mu);
  return obs;
}

netlog_observer *netlog_add_observer(netlog *nl, netlog_observer_fn fn, void *user_data) {
  return netlog_add_owned_observer(nl, fn, NULL, user_data);
}

void netlog_remove_observer(netlog *nl, netlog_observer *obs) {
  (void)netlog_remove_owned_observer(nl, obs);
}

bool netlog_remove_owned_observer(netlog *nl, netlog_observer *obs) {
  if (!nl || !obs || tls_dispatching == nl)
    return false;
  pthread_mutex_lock(&nl->mu);
  netlog_observer **link = &nl->observers;
  while (*link && *link != obs)
    link = &(*link)->next;
  bool found = *link != NULL;
  if (found) {
    *link = obs->next;
    atomic_fetch_sub(&nl->observer_count, 1);
  }
  pthread_mutex_unlock(&nl->mu);
  /* An observer not registered here is not ours to free. */
  if (found)
    free(obs);
  return found;
}

const char *netlog_source_type_name(netlog_source_type t) {
  if ((unsigned)t >= sizeof source_type_names / sizeof source_type_names[0])
    return "UNKNOWN";
  return source_type_names[t];
}

const char *netlog_event_type_name(netlog_event_type t) {
  if ((unsigned)t >= sizeof event_type_names / sizeof event_type_names[0])
    return "UNKNOWN";
  return event_type_names[t];
}
