/* The NetLog file writer: an observer that streams Chrome's netlog JSON.
 *
 * The observer callback runs under the netlog's lock, so the buffer, the file
 * descriptor and the start-time table need no lock of their own; the error
 * and the event count are atomics because other threads may read them. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/json_check.h"
#include "base/net_error_posix.h"
#include "base/netlog.h"
#include "base/netlog_internal.h"
#include "base/strbuf.h"
#include "cronc/cronc.h"

/* Written to disk whenever this much is buffered: a few syscalls per thousand
 * events, and a bounded loss if the process dies. */
#define NETLOG_FILE_FLUSH_BYTES ((size_t)64 * 1024)
/* Start times are remembered for source ids below this (8 bytes each). */
#define NETLOG_FILE_MAX_TRACKED_ID (1u << 20)
#define NETLOG_FILE_NO_START       INT64_MIN

struct netlog_file_writer {
  netlog *nl;
  netlog_observer *obs;
  int fd;
  strbuf buf;
  bool wrote_event;  /* an event precedes: the next one needs a comma */
  int64_t *start_ms; /* first event time per source id, ms */
  size_t start_len;
  atomic_int error;
  atomic_uint_fast64_t events;
};


static void set_error(netlog_file_writer *w, int error) {
  int expected = 0;
  atomic_compare_exchange_strong(&w->error, &expected, error);
}

static void write_all(netlog_file_writer *w, const char *data, size_t len) {
  while (len > 0 && atomic_load(&w->error) == 0) {
    ssize_t n = write(w->fd, data, len);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      set_error(w, base_map_system_error(errno));
      return;
    }
    data += n;
    len -= (size_t)n;
  }
}

static void flush(netlog_file_writer *w) {
  if (strbuf_failed(&w->buf))
    set_error(w, CRONC_ERR_OUT_OF_MEMORY);
  else
    write_all(w, w->buf.data, w->buf.len);
  strbuf_reset(&w->buf);
}

static void append_constants(strbuf *sb, const base_clock *clock) {
  strbuf_append_str(sb, "{\"constants\": {");
  strbuf_append_str(sb, "\"activeFieldTrialGroups\":[],");
  strbuf_append_str(sb, "\"addressFamily\":{\"ADDRESS_FAMILY_UNSPECIFIED\":0,"
                        "\"ADDRESS_FAMILY_IPV4\":1,\"ADDRESS_FAMILY_IPV6\":2},");
  strbuf_append_str(sb, "\"certStatusFlag\":{},");
  strbuf_append_str(sb, "\"clientInfo\":{\"name\":\"cronc\",\"version\":");
  strbuf_json_cstr(sb, cronc_version());
  strbuf_append_str(sb, "},\"loadFlag\":{},\"loadState\":{},");
  strbuf_appendf(sb, "\"logEventPhase\":{\"PHASE_BEGIN\":%d,\"PHASE_END\":%d,\"PHASE_NONE\":%d},",
                 NETLOG_PHASE_BEGIN, NETLOG_PHASE_END, NETLOG_PHASE_NONE);
  strbuf_append_str(sb, "\"logEventTypes\":{");
  for (int t = 0; t < NETLOG_EVENT_TYPE_COUNT; t++)
    strbuf_appendf(sb, "%s\"%s\":%d", t ? "," : "", netlog_event_type_name(t), t);
  strbuf_append_str(sb, "},\"logFormatVersion\":1,\"logSourceType\":{");
  for (int t = 0; t < NETLOG_SOURCE_TYPE_COUNT; t++)
    strbuf_appendf(sb, "%s\"%s\":%d", t ? "," : "", netlog_source_type_name(t), t);
  strbuf_append_str(sb, "},\"netError\":{");
  bool first = true;
#define NET_ERROR(name, value)                                                                     \
  strbuf_appendf(sb, "%s\"ERR_" #name "\":%d", first ? "" : ",", (value));                         \
  first = false;
#include "cronc/net_error_list.h"
#undef NET_ERROR
  strbuf_append_str(sb, "},\"quicError\":{},\"quicRstStreamError\":{},");
  /* Wall ms minus ticks ms: the viewer adds it to every event time. */
  int64_t offset_ms =
      base_clock_now(clock) / BASE_US_PER_MS - base_clock_ticks(clock) / BASE_US_PER_MS;
  strbuf_appendf(sb, "\"timeTickOffset\":\"%lld\"", (long long)offset_ms);
  strbuf_append_str(sb, "},\n\"events\": [\n");
}

/* The source's start time: the first event of that source this writer saw. */
static int64_t source_start_ms(netlog_file_writer *w, uint32_t id, int64_t now_ms) {
  if (id == 0 || id >= NETLOG_FILE_MAX_TRACKED_ID)
    return now_ms;
  if (id >= w->start_len) {
    size_t len = w->start_len ? w->start_len : 256;
    while (len <= id)
      len *= 2;
    int64_t *p = realloc(w->start_ms, len * sizeof *p);
    if (!p)
      return now_ms; /* only the start time suffers */
    for (size_t i = w->start_len; i < len; i++)
      p[i] = NETLOG_FILE_NO_START;
    w->start_ms = p;
    w->start_len = len;
  }
  if (w->start_ms[id] == NETLOG_FILE_NO_START)
    w->start_ms[id] = now_ms;
  return w->start_ms[id];
}

static void on_entry(const netlog_entry *e, void *user_data) {
  netlog_file_writer *w = user_data;
  if (atomic_load(&w->error) != 0)
    return;
  strbuf *sb = &w->buf;
  int64_t time_ms = e->time_ticks_us / BASE_US_PER_MS;
  int64_t start_ms = source_start_ms(w, e->source.id, time_ms);
  if (w->wrote_event)
    strbuf_append_str(sb, ",\n");
  strbuf_append_char(sb, '{');
  if (e->params) {
    size_t n = strlen(e->params);
    strbuf_append_str(sb, "\"params\":");
    if (base_json_is_object(e->params, n)) {
      strbuf_append(sb, e->params, n);
    } else {
      strbuf_append_str(sb, "{\"cronc_invalid_params\":");
      strbuf_json_string(sb, e->params, n);
      strbuf_append_char(sb, '}');
    }
    strbuf_append_char(sb, ',');
  }
  strbuf_appendf(sb,
                 "\"phase\":%d,\"source\":{\"id\":%u,\"start_time\":\"%lld\",\"type\":%d},"
                 "\"time\":\"%lld\",\"type\":%d}",
                 (int)e->phase, (unsigned)e->source.id, (long long)start_ms, (int)e->source.type,
                 (long long)time_ms, (int)e->type);
  w->wrote_event = true;
  atomic_fetch_add(&w->events, 1);
  if (strbuf_failed(sb) || sb->len >= NETLOG_FILE_FLUSH_BYTES)
    flush(w);
}

/* Flushes, ends the JSON and closes the file; returns the first error. */
static int finish_file(netlog_file_writer *w) {
  flush(w);
  /* Written directly: the buffer may be the thing that failed. Events end at
   * a flush boundary, so the file is valid JSON unless a write failed. */
  static const char tail[] = "\n]}\n";
  if (atomic_load(&w->error) == 0)
    write_all(w, tail, sizeof tail - 1);
  if (close(w->fd) != 0 && errno != EINTR)
    set_error(w, base_map_system_error(errno));
  w->fd = -1;
  return atomic_load(&w->error);
}

static void destroy(netlog_file_writer *w) {
  strbuf_free(&w->buf);
  free(w->start_ms);
  free(w);
}

static void on_netlog_free(void *user_data) {
  netlog_file_writer *w = user_data;
  finish_file(w);
  destroy(w);
}

int netlog_file_writer_open(netlog *nl, const char *path, netlog_file_writer **out) {
  if (out)
    *out = NULL;
  if (!nl || !path || !out)
    return CRONC_ERR_INVALID_ARGUMENT;
  netlog_file_writer *w = calloc(1, sizeof *w);
  if (!w)
    return CRONC_ERR_OUT_OF_MEMORY;
  strbuf_init(&w->buf);
  atomic_init(&w->error, 0);
  atomic_init(&w->events, 0);
  w->nl = nl;
  w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (w->fd < 0) {
    int err = base_map_system_error(errno);
    destroy(w);
    return err;
  }
  if (!strbuf_reserve(&w->buf, NETLOG_FILE_FLUSH_BYTES + 4096))
    set_error(w, CRONC_ERR_OUT_OF_MEMORY);
  /* The constants go out at once so a bad destination (full disk) shows now. */
  append_constants(&w->buf, netlog_clock(nl));
  flush(w);
  int err = atomic_load(&w->error);
  if (err == 0) {
    w->obs = netlog_add_owned_observer(nl, on_entry, on_netlog_free, w);
    if (!w->obs)
      err = CRONC_ERR_OUT_OF_MEMORY;
  }
  if (err != 0) {
    close(w->fd);
    destroy(w);
    return err;
  }
  *out = w;
  return 0;
}

int netlog_file_writer_finish(netlog_file_writer *w) {
  if (!w)
    return CRONC_ERR_INVALID_ARGUMENT;
  /* After removal no callback is running (removal takes the netlog's lock).
   * Refused from inside an observer callback: the writer then stays
   * registered and netlog_free() finishes it. */
  if (!netlog_remove_owned_observer(w->nl, w->obs))
    return CRONC_ERR_INVALID_ARGUMENT;
  int err = finish_file(w);
  destroy(w);
  return err;
}

void netlog_file_writer_close(netlog_file_writer *w) { (void)netlog_file_writer_finish(w); }

int netlog_file_writer_error(netlog_file_writer *w) { return w ? atomic_load(&w->error) : 0; }

uint64_t netlog_file_writer_event_count(netlog_file_writer *w) {
  return w ? (uint64_t)atomic_load(&w->events) : 0;
}
