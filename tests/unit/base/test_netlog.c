/* base/netlog: ids, observers, thread safety, and the JSON file writer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/json_check.h"
#include "base/netlog.h"
#include "cronc/cronc.h"

#define WALL_US INT64_C(1700000000000000) /* 2023-11-14, in µs */

/* ---- helpers ---------------------------------------------------------- */

#define MAX_SEEN 16

typedef struct recorder {
  int count;
  netlog_entry seen[MAX_SEEN];
  char params[MAX_SEEN][64];
} recorder;

static void record(const netlog_entry *e, void *user_data) {
  recorder *r = user_data;
  if (r->count < MAX_SEEN) {
    r->seen[r->count] = *e;
    snprintf(r->params[r->count], sizeof r->params[0], "%s", e->params ? e->params : "(null)");
    r->seen[r->count].params = NULL; /* only valid during the call */
  }
  r->count++;
}

static char tmpdir[64];

static int make_tmpdir(void **state) {
  (void)state;
  snprintf(tmpdir, sizeof tmpdir, "/tmp/cronc_netlog_XXXXXX");
  return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state) {
  (void)state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  return system(cmd) == 0 ? 0 : -1;
}

static void tmp_path(char *out, size_t n, const char *name) {
  snprintf(out, n, "%s/%s", tmpdir, name);
}

static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  if (buf) {
    buf[n] = '\0';
    *len = (size_t)n;
  }
  return buf;
}

static long file_size(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static bool have_python(void) {
  static int cached = -1;
  if (cached < 0)
    cached = system("python3 -c '' >/dev/null 2>&1") == 0;
  return cached == 1;
}

/* Checks the file with our validator and, when python3 exists, with Python's
 * json module plus the viewer's structural expectations. */
static void assert_valid_netlog_file(const char *path, long expect_events) {
  size_t len = 0;
  char *text = read_file(path, &len);
  assert_non_null(text);
  assert_true(base_json_is_object(text, len));
  free(text);
  if (!have_python())
    return;
  char cmd[1024];
  snprintf(cmd, sizeof cmd,
           "python3 -c '"
           "import json,sys\n"
           "d=json.load(open(sys.argv[1]))\n"
           "c=d[\"constants\"]\n"
           "assert c[\"logEventPhase\"]=={\"PHASE_BEGIN\":1,\"PHASE_END\":2,\"PHASE_NONE\":0}\n"
           "assert c[\"logFormatVersion\"]==1\n"
           "assert c[\"clientInfo\"][\"name\"]==\"cronc\"\n"
           "assert c[\"activeFieldTrialGroups\"]==[]\n"
           "for k in (\"loadFlag\",\"certStatusFlag\",\"addressFamily\"): "
           "assert isinstance(c[k],dict)\n"
           "int(c[\"timeTickOffset\"])\n"
           "assert c[\"netError\"][\"ERR_NAME_NOT_RESOLVED\"]==-105\n"
           "assert c[\"logSourceType\"][\"URL_REQUEST\"]==1\n"
           "ev=d[\"events\"]\n"
           "n=int(sys.argv[2])\n"
           "assert n<0 or len(ev)==n, len(ev)\n"
           "for e in ev:\n"
           " assert set(e)<= {\"params\",\"phase\",\"source\",\"time\",\"type\"}\n"
           " int(e[\"time\"]); int(e[\"source\"][\"start_time\"])\n"
           " assert isinstance(e[\"type\"],int) and isinstance(e[\"phase\"],int)\n"
           " assert isinstance(e[\"source\"][\"id\"],int)\n"
           "' '%s' %ld",
           path, expect_events);
  assert_int_equal(system(cmd), 0);
}

/* ---- the netlog ----------------------------------------------------------- */

static void observer_sees_phase_source_time_and_params(void **state) {
  (void)state;
  base_manual_clock mc;
  base_manual_clock_init(&mc, WALL_US);
  netlog *nl = netlog_new(&mc.base);
  assert_non_null(nl);
  assert_ptr_equal(netlog_clock(nl), &mc.base);
  recorder rec = {0};
  netlog_observer *obs = netlog_add_observer(nl, record, &rec);
  assert_non_null(obs);

  netlog_source src = netlog_source_new(nl, NETLOG_SOURCE_URL_REQUEST);
  int64_t t0 = mc.ticks_us;
  netlog_add(nl, src, NETLOG_TYPE_CRONC_ENGINE_START, NETLOG_PHASE_BEGIN, "{\"a\":1}");
  base_manual_clock_advance(&mc, 2500);
  netlog_add(nl, src, NETLOG_TYPE_CRONC_ENGINE_START, NETLOG_PHASE_END, NULL);
  netlog_add_event(nl, src, NETLOG_TYPE_CANCELLED, NULL);
  netlog_add_net_error(nl, src, NETLOG_TYPE_FAILED, CRONC_ERR_NAME_NOT_RESOLVED);

  assert_int_equal(rec.count, 4);
  assert_int_equal(rec.seen[0].type, NETLOG_TYPE_CRONC_ENGINE_START);
  assert_int_equal(rec.seen[0].phase, NETLOG_PHASE_BEGIN);
  assert_int_equal(rec.seen[0].source.type, NETLOG_SOURCE_URL_REQUEST);
  assert_int_equal(rec.seen[0].source.id, src.id);
  assert_true(rec.seen[0].time_ticks_us == t0);
  assert_string_equal(rec.params[0], "{\"a\":1}");
  assert_int_equal(rec.seen[1].phase, NETLOG_PHASE_END);
  assert_true(rec.seen[1].time_ticks_us == t0 + 2500);
  assert_string_equal(rec.params[1], "(null)");
  assert_int_equal(rec.seen[2].type, NETLOG_TYPE_CANCELLED);
  assert_int_equal(rec.seen[2].phase, NETLOG_PHASE_NONE);
  assert_int_equal(rec.seen[3].type, NETLOG_TYPE_FAILED);
  assert_string_equal(rec.params[3], "{\"net_error\":-105}");
  netlog_free(nl);
}

static void source_ids_start_at_one_and_increase(void **state) {
  (void)state;
  netlog *nl = netlog_new(NULL);
  assert_non_null(nl);
  assert_ptr_equal(netlog_clock(nl), base_clock_system());
  netlog_source a = netlog_source_new(nl, NETLOG_SOURCE_SOCKET);
  netlog_source b = netlog_source_new(nl, NETLOG_SOURCE_QUIC_SESSION);
  assert_int_equal(a.id, 1);
  assert_int_equal(a.type, NETLOG_SOURCE_SOCKET);
  assert_int_equal(b.id, 2);
  assert_int_equal(b.type, NETLOG_SOURCE_QUIC_SESSION);
  netlog_free(nl);
}

static void capturing_only_while_an_observer_listens(void **state) {
  (void)state;
  netlog *nl = netlog_new(NULL);
  assert_false(netlog_is_capturing(nl));
  recorder rec = {0};
  netlog_observer *obs = netlog_add_observer(nl, record, &rec);
  assert_true(netlog_is_capturing(nl));
  netlog_remove_observer(nl, obs);
  assert_false(netlog_is_capturing(nl));
  netlog_free(nl);
}

static void removed_observer_sees_no_more_events(void **state) {
  (void)state;
  netlog *nl = netlog_new(NULL);
  recorder a = {0}, b = {0};
  netlog_observer *oa = netlog_add_observer(nl, record, &a);
  netlog_observer *ob = netlog_add_observer(nl, record, &b);
  netlog_source src = netlog_source_new(nl, NETLOG_SOURCE_NONE);
  netlog_add_event(nl, src, NETLOG_TYPE_CANCELLED, NULL);
  netlog_remove_observer(nl, oa);
  netlog_add_event(nl, src, NETLOG_TYPE_FAILED, NULL);
  assert_int_equal(a.count, 1);
  assert_int_equal(b.count, 2);
  netlog_remove_observer(nl, ob);
  netlog_add_event(nl, src, NETLOG_TYPE_FAILED, NULL);
  assert_int_equal(b.count, 2);
  netlog_free(nl);
}

static void removing_unknown_observer_is_harmless(void **state) {
  (void)state;
  netlog *nl1 = netlog_new(NULL);
  netlog *nl2 = netlog_new(NULL);
  recorder rec = {0};
  netlog_observer *obs = netlog_add_observer(nl1, record, &rec);
  netlog_remove_observer(nl2, obs); /* not nl2's: left alone, not freed */
  netlog_remove_observer(nl1, NULL);
  netlog_add_event(nl1, netlog_source_new(nl1, NETLOG_SOURCE_NONE), NETLOG_TYPE_FAILED, NULL);
  assert_int_equal(rec.count, 1);
  netlog_free(nl2);
  netlog_free(nl1); /* frees the still-registered observer */
}

typedef struct order_log {
  char seq[8];
  int n;
} order_log;

static void mark_first(const netlog_entry *e, void *ud) {
  (void)e;
  order_log *o = ud;
  o->seq[o->n++] = '1';
}

static void mark_second(const netlog_entry *e, void *ud) {
  (void)e;
  order_log *o = ud;
  o->seq[o->n++] = '2';
}

static void observers_run_in_registration_order(void **state) {
  (void)state;
  netlog *nl = netlog_new(NULL);
  order_log o = {{0}, 0};
  assert_non_null(netlog_add_observer(nl, mark_first, &o));
  assert_non_null(netlog_add_observer(nl, mark_second, &o));
  netlog_add_event(nl, netlog_source_new(nl, NETLOG_SOURCE_NONE), NETLOG_TYPE_CANCELLED, NULL);
  assert_string_equal(o.seq, "12");
  netlog_free(nl);
}

static void null_netlog_is_a_noop(void **state) {
  (void)state;
  netlog_source src = netlog_source_new(NULL, NETLOG_SOURCE_URL_REQUEST);
  assert_int_equal(src.id, 0);
  assert_int_equal(src.type, NETLOG_SOURCE_URL_REQUEST);
  assert_false(netlog_is_capturing(NULL));
  netlog_add(NULL, src, NETLOG_TYPE_CANCELLED, NETLOG_PHASE_BEGIN, "{}");
  netlog_add_event(NULL, src, NETLOG_TYPE_CANCELLED, NULL);
  netlog_add_net_error(NULL, src, NETLOG_TYPE_FAILED, -2);
  recorder rec = {0};
  assert_null(netlog_add_observer(NULL, record, &rec));
  netlog_remove_observer(NULL, NULL);
  assert_null(netlog_clock(NULL));
  netlog_free(NULL);
  netlog_file_writer *w = (netlog_file_writer *)&rec;
  assert_int_equal(netlog_file_writer_open(NULL, "/tmp/x", &w), CRONC_ERR_INVALID_ARGUMENT);
  assert_null(w);
  netlog_file_writer_close(NULL);
  assert_int_equal(netlog_file_writer_finish(NULL), CRONC_ERR_INVALID_ARGUMENT);
  assert_int_equal(netlog_file_writer_error(NULL), 0);
  assert_int_equal(rec.count, 0);
}

static void null_observer_function_is_refused(void **state) {
  (void)state;
  netlog *nl = netlog_new(NULL);
  assert_null(netlog_add_observer(nl, NULL, NULL));
  assert_false(netlog_is_capturing(nl));
  netlog_free(nl);
}

typedef struct reentrant {
  netlog *nl;
  int calls;
  netlog_observer *added;
} reentrant;

static void log_from_inside(const netlog_entry *e, void *ud) {
  (void)e;
  reentrant *r = ud;
  r->calls++;
  /* Each of these would deadlock on the netlog's lock: they are refused. */
  netlog_add_event(r->nl, netlog_source_new(r->nl, NETLOG_SOURCE_NONE), NETLOG_TYPE_FAILED, NULL);
  r->added = netlog_add_observer(r->nl, log_from_inside, r);
  netlog_remove_observer(r->nl, r->added);
}

static void observer_logging_from_its_callback_is_refused_not_deadlocked(void **state) {
  (void)state;
  netlog *nl = netlog_new(NULL);
  reentrant r = {nl, 0, NULL};
  assert_non_null(netlog_add_observer(nl, log_from_inside, &r));
  netlog_add_event(nl, netlog_source_new(nl, NETLOG_SOURCE_NONE), NETLOG_TYPE_CANCELLED, NULL);
  assert_int_equal(r.calls, 1);
  assert_null(r.added);
  netlog_free(nl);
}

static void type_names_match_chromium(void **state) {
  (void)state;
  assert_string_equal(netlog_event_type_name(NETLOG_TYPE_CANCELLED), "CANCELLED");
  assert_string_equal(netlog_event_type_name(NETLOG_TYPE_HTTP_SERVER_PROPERTIES_UPDATE_PREFS),
                      "HTTP_SERVER_PROPERTIES_UPDATE_PREFS");
  assert_string_equal(netlog_source_type_name(NETLOG_SOURCE_URL_REQUEST), "URL_REQUEST");
  assert_string_equal(netlog_source_type_name(NETLOG_SOURCE_NONE), "NONE");
  assert_string_equal(netlog_event_type_name(NETLOG_EVENT_TYPE_COUNT), "UNKNOWN");
  assert_string_equal(netlog_source_type_name((netlog_source_type)-1), "UNKNOWN");
}

#define THREADS           4
#define EVENTS_PER_THREAD 2000

typedef struct counter {
  long events; /* under the netlog's lock: observers are serialised */
  uint32_t max_id;
} counter;

static void count(const netlog_entry *e, void *ud) {
  counter *c = ud;
  c->events++;
  if (e->source.id > c->max_id)
    c->max_id = e->source.id;
}

typedef struct worker_arg {
  netlog *nl;
  uint32_t ids[EVENTS_PER_THREAD];
} worker_arg;

static void *log_worker(void *p) {
  worker_arg *a = p;
  for (int i = 0; i < EVENTS_PER_THREAD; i++) {
    netlog_source s = netlog_source_new(a->nl, NETLOG_SOURCE_SOCKET);
    a->ids[i] = s.id;
    netlog_add(a->nl, s, NETLOG_TYPE_CANCELLED, NETLOG_PHASE_NONE, "{\"k\":true}");
  }
  return NULL;
}

static int cmp_u32(const void *x, const void *y) {
  uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
  return a < b ? -1 : a > b;
}

static void events_from_many_threads_all_arrive_with_unique_ids(void **state) {
  (void)state;
  netlog *nl = netlog_new(NULL);
  counter c = {0, 0};
  assert_non_null(netlog_add_observer(nl, count, &c));
  char path[128];
  tmp_path(path, sizeof path, "threads.json");
  netlog_file_writer *w = NULL;
  assert_int_equal(netlog_file_writer_open(nl, path, &w), 0);

  pthread_t th[THREADS];
  static worker_arg args[THREADS];
  for (int i = 0; i < THREADS; i++) {
    args[i].nl = nl;
    assert_int_equal(pthread_create(&th[i], NULL, log_worker, &args[i]), 0);
  }
  for (int i = 0; i < THREADS; i++)
    pthread_join(th[i], NULL);

  assert_int_equal(c.events, THREADS * EVENTS_PER_THREAD);
  assert_int_equal(c.max_id, THREADS * EVENTS_PER_THREAD);
  static uint32_t all[THREADS * EVENTS_PER_THREAD];
  for (int i = 0; i < THREADS; i++)
    memcpy(all + i * EVENTS_PER_THREAD, args[i].ids, sizeof args[i].ids);
  qsort(all, THREADS * EVENTS_PER_THREAD, sizeof all[0], cmp_u32);
  for (int i = 0; i < THREADS * EVENTS_PER_THREAD; i++)
    assert_int_equal(all[i], (uint32_t)i + 1);

  assert_int_equal(netlog_file_writer_event_count(w), THREADS * EVENTS_PER_THREAD);
  assert_int_equal(netlog_file_writer_finish(w), 0);
  assert_valid_netlog_file(path, THREADS * EVENTS_PER_THREAD);
  netlog_free(nl);
}

/* ---- the file writer ------------------------------------------------------- */

static void file_writer_writes_chromium_shaped_events(void **state) {
  (void)state;
  base_manual_clock mc;
  base_manual_clock_init(&mc, WALL_US);
  netlog *nl = netlog_new(&mc.base);
  char path[128];
  tmp_path(path, sizeof path, "shape.json");
  netlog_file_writer *w = NULL;
  assert_int_equal(netlog_file_writer_open(nl, path, &w), 0);
  assert_non_null(w);

  netlog_source src = netlog_source_new(nl, NETLOG_SOURCE_URL_REQUEST);
  netlog_add(nl, src, NETLOG_TYPE_CRONC_ENGINE_START, NETLOG_PHASE_BEGIN, "{\"url\":\"x\"}");
  base_manual_clock_advance(&mc, 7 * BASE_US_PER_MS);
  netlog_add(nl, src, NETLOG_TYPE_CRONC_ENGINE_START, NETLOG_PHASE_END, NULL);
  netlog_add_net_error(nl, netlog_source_new(nl, NETLOG_SOURCE_SOCKET), NETLOG_TYPE_FAILED,
                       CRONC_ERR_CONNECTION_REFUSED);
  assert_int_equal(netlog_file_writer_event_count(w), 3);
  netlog_file_writer_close(w);

  size_t len = 0;
  char *text = read_file(path, &len);
  assert_non_null(text);
  assert_true(base_json_is_object(text, len));
  assert_non_null(strstr(text, "{\"constants\": {"));
  assert_non_null(strstr(text, "},\n\"events\": [\n"));
  assert_non_null(strstr(text, "\"logEventTypes\":{\"CANCELLED\":0,\"FAILED\":1,"));
  assert_non_null(strstr(text, "\"CRONC_ALT_SVC_SET\":"));
  assert_non_null(strstr(text, "\"logSourceType\":{\"NONE\":0,\"URL_REQUEST\":1,"));
  assert_non_null(strstr(text, "\"logEventPhase\":{\"PHASE_BEGIN\":1,\"PHASE_END\":2,"
                               "\"PHASE_NONE\":0}"));
  assert_non_null(strstr(text, "\"ERR_NAME_NOT_RESOLVED\":-105"));
  assert_non_null(strstr(text, "\"ERR_IO_PENDING\":-1,"));
  assert_non_null(
      strstr(text, "\"clientInfo\":{\"name\":\"cronc\",\"version\":\"" CRONC_VERSION_STRING "\"}"));
  /* Wall ms minus ticks ms: 1700000000000 - 1000000. */
  assert_non_null(strstr(text, "\"timeTickOffset\":\"1699999000000\""));
  char expect[512];
  snprintf(expect, sizeof expect,
           "{\"params\":{\"url\":\"x\"},\"phase\":1,\"source\":{\"id\":1,\"start_time\":"
           "\"1000000\",\"type\":1},\"time\":\"1000000\",\"type\":%d},\n"
           "{\"phase\":2,\"source\":{\"id\":1,\"start_time\":\"1000000\",\"type\":1},"
           "\"time\":\"1000007\",\"type\":%d},\n"
           "{\"params\":{\"net_error\":-102},\"phase\":0,\"source\":{\"id\":2,\"start_time\":"
           "\"1000007\",\"type\":%d},\"time\":\"1000007\",\"type\":%d}\n]}\n",
           NETLOG_TYPE_CRONC_ENGINE_START, NETLOG_TYPE_CRONC_ENGINE_START, NETLOG_SOURCE_SOCKET,
           NETLOG_TYPE_FAILED);
  char *events = strstr(text, "\"events\": [\n");
  assert_non_null(events);
  assert_string_equal(events + strlen("\"events\": [\n"), expect);
  free(text);
  assert_valid_netlog_file(path, 3);
  netlog_free(nl);
}

static void file_writer_net_errors_cover_the_whole_list(void **state) {
  (void)state;
  netlog *nl = netlog_new(NULL);
  char path[128];
  tmp_path(path, sizeof path, "errors.json");
  netlog_file_writer *w = NULL;
  assert_int_equal(netlog_file_writer_open(nl, path, &w), 0);
  assert_int_equal(netlog_file_writer_finish(w), 0);
  size_t len = 0;
  char *text = read_file(path, &len);
  assert_non_null(text);
  char needle[128];
#define NET_ERROR(name, value)                                                                     \
  snprintf(needle, sizeof needle, "\"ERR_%s\":%d", #name, (value));                                \
  if (!strstr(text, needle))                                                                       \
    fail_msg("netError lacks %s", needle);
#include "cronc/net_error_list.h"
#undef NET_ERROR
  free(text);
  netlog_free(nl);
}

static void file_writer_with_zero_events_is_valid_json(void **state) {
  (void)state;
  netlog *nl = netlog_new(NULL);
  char path[128];
  tmp_path(path, sizeof path, "empty.json");
  netlog_file_writer *w = NULL;
  assert_int_equal(netlog_file_writer_open(nl, path, &w), 0);
  assert_int_equal(netlog_file_writer_finish(w), 0);
  assert_valid_netlog_file(path, 0);
  size_t len = 0;
  char *text = read_file(path, &len);
  assert_non_null(strstr(text, "\"events\": [\n\n]}\n"));
  free(text);
  netlog_free(nl);
}

static void file_writer_wraps_invalid_params_to_stay_valid(void **state) {
  (void)state;
  netlog *nl = netlog_new(NULL);
  char path[128];
  tmp_path(path, sizeof path, "badparams.json");
  netlog_file_writer *w = NULL;
  assert_int_equal(netlog_file_writer_open(nl, path, &w), 0);
  netlog_source s = netlog_source_new(nl, NETLOG_SOURCE_NONE);
  netlog_add_event(nl, s, NETLOG_TYPE_FAILED, "{\"unterminated\":");
  netlog_add_event(nl, s, NETLOG_TYPE_FAILED, "[1,2]");
  netlog_add_event(nl, s, NETLOG_TYPE_FAILED, "bytes \"\xff\x01");
  netlog_add_event(nl, s, NETLOG_TYPE_FAILED, "");
  assert_int_equal(netlog_file_writer_finish(w), 0);
  assert_valid_netlog_file(path, 4);
  size_t len = 0;
  char *text = read_file(path, &len);
  assert_non_null(strstr(text, "\"params\":{\"cronc_invalid_params\":\"{\\\"unterminated\\\":\"}"));
  assert_non_null(strstr(text, "{\"cronc_invalid_params\":\"bytes \\\"\\u00ff\\u0001\"}"));
  free(text);
  netlog_free(nl);
}

static void file_writer_buffers_events_before_writing(void **state) {
  (void)state;
  netlog *nl = netlog_new(NULL);
  char path[128];
  tmp_path(path, sizeof path, "buffered.json");
  netlog_file_writer *w = NULL;
  assert_int_equal(netlog_file_writer_open(nl, path, &w), 0);
  long after_open = file_size(path);
  assert_true(after_open > 0); /* the constants went out at once */
  netlog_source s = netlog_source_new(nl, NETLOG_SOURCE_NONE);
  for (int i = 0; i < 50; i++)
    netlog_add_event(nl, s, NETLOG_TYPE_CANCELLED, "{\"n\":1}");
  assert_int_equal(file_size(path), after_open); /* still in memory */
  /* Enough to pass the flush threshold several times. */
  for (int i = 0; i < 5000; i++)
    netlog_add_event(nl, s, NETLOG_TYPE_CANCELLED, "{\"n\":1}");
  assert_true(file_size(path) > after_open);
  assert_int_equal(netlog_file_writer_finish(w), 0);
  assert_valid_netlog_file(path, 5050);
  netlog_free(nl);
}

static void netlog_free_finishes_open_file_writer(void **state) {
  (void)state;
  netlog *nl = netlog_new(NULL);
  char path[128];
  tmp_path(path, sizeof path, "freed.json");
  netlog_file_writer *w = NULL;
  assert_int_equal(netlog_file_writer_open(nl, path, &w), 0);
  netlog_add_event(nl, netlog_source_new(nl, NETLOG_SOURCE_NONE), NETLOG_TYPE_CANCELLED, NULL);
  netlog_free(nl); /* w is finished and freed with it */
  assert_valid_netlog_file(path, 1);
}

static void two_file_writers_each_get_every_event(void **state) {
  (void)state;
  netlog *nl = netlog_new(NULL);
  char p1[128], p2[128];
  tmp_path(p1, sizeof p1, "one.json");
  tmp_path(p2, sizeof p2, "two.json");
  netlog_file_writer *w1 = NULL, *w2 = NULL;
  assert_int_equal(netlog_file_writer_open(nl, p1, &w1), 0);
  netlog_add_event(nl, netlog_source_new(nl, NETLOG_SOURCE_NONE), NETLOG_TYPE_CANCELLED, NULL);
  assert_int_equal(netlog_file_writer_open(nl, p2, &w2), 0);
  netlog_add_event(nl, netlog_source_new(nl, NETLOG_SOURCE_NONE), NETLOG_TYPE_CANCELLED, NULL);
  netlog_file_writer_close(w1);
  netlog_add_event(nl, netlog_source_new(nl, NETLOG_SOURCE_NONE), NETLOG_TYPE_CANCELLED, NULL);
  netlog_file_writer_close(w2);
  assert_false(netlog_is_capturing(nl));
  assert_valid_netlog_file(p1, 2);
  assert_valid_netlog_file(p2, 2);
  netlog_free(nl);
}

static void file_writer_reports_unusable_paths(void **state) {
  (void)state;
  netlog *nl = netlog_new(NULL);
  netlog_file_writer *w = NULL;
  char path[160];
  tmp_path(path, sizeof path, "no/such/dir/log.json");
  assert_int_equal(netlog_file_writer_open(nl, path, &w), CRONC_ERR_FILE_NOT_FOUND);
  assert_null(w);
  /* A directory cannot be opened for writing. */
  assert_int_equal(netlog_file_writer_open(nl, tmpdir, &w), CRONC_ERR_ACCESS_DENIED);
  assert_null(w);
  /* A device that is always full: the constants cannot be written. */
  if (access("/dev/full", W_OK) == 0) {
    assert_int_equal(netlog_file_writer_open(nl, "/dev/full", &w), CRONC_ERR_FILE_NO_SPACE);
    assert_null(w);
  }
  assert_int_equal(netlog_file_writer_open(nl, NULL, &w), CRONC_ERR_INVALID_ARGUMENT);
  assert_int_equal(netlog_file_writer_open(nl, path, NULL), CRONC_ERR_INVALID_ARGUMENT);
  assert_false(netlog_is_capturing(nl)); /* no observer left behind */
  netlog_free(nl);
}

static void file_writer_remembers_write_failure(void **state) {
  (void)state;
  /* Cap the size of files this process may write: writes past it fail with
   * EFBIG (SIGXFSZ is ignored so it does not kill the test). */
  struct rlimit old;
  assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
  void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
  struct rlimit lim = {256 * 1024, old.rlim_max};
  assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);

  netlog *nl = netlog_new(NULL);
  char path[128];
  tmp_path(path, sizeof path, "toobig.json");
  netlog_file_writer *w = NULL;
  int open_err = netlog_file_writer_open(nl, path, &w);
  netlog_source s = netlog_source_new(nl, NETLOG_SOURCE_NONE);
  for (int i = 0; i < 20000 && open_err == 0; i++)
    netlog_add_event(nl, s, NETLOG_TYPE_CANCELLED, "{\"padding\":\"xxxxxxxxxxxxxxxxxxxxxxxx\"}");
  int seen = open_err == 0 ? netlog_file_writer_error(w) : open_err;
  int finish = open_err == 0 ? netlog_file_writer_finish(w) : open_err;

  setrlimit(RLIMIT_FSIZE, &old);
  signal(SIGXFSZ, old_handler);
  assert_int_equal(open_err, 0);
  assert_int_equal(seen, CRONC_ERR_FILE_TOO_BIG);
  assert_int_equal(finish, CRONC_ERR_FILE_TOO_BIG);
  netlog_free(nl);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(observer_sees_phase_source_time_and_params),
      cmocka_unit_test(source_ids_start_at_one_and_increase),
      cmocka_unit_test(capturing_only_while_an_observer_listens),
      cmocka_unit_test(removed_observer_sees_no_more_events),
      cmocka_unit_test(removing_unknown_observer_is_harmless),
      cmocka_unit_test(observers_run_in_registration_order),
      cmocka_unit_test(null_netlog_is_a_noop),
      cmocka_unit_test(null_observer_function_is_refused),
      cmocka_unit_test(observer_logging_from_its_callback_is_refused_not_deadlocked),
      cmocka_unit_test(type_names_match_chromium),
      cmocka_unit_test(events_from_many_threads_all_arrive_with_unique_ids),
      cmocka_unit_test(file_writer_writes_chromium_shaped_events),
      cmocka_unit_test(file_writer_net_errors_cover_the_whole_list),
      cmocka_unit_test(file_writer_with_zero_events_is_valid_json),
      cmocka_unit_test(file_writer_wraps_invalid_params_to_stay_valid),
      cmocka_unit_test(file_writer_buffers_events_before_writing),
      cmocka_unit_test(netlog_free_finishes_open_file_writer),
      cmocka_unit_test(two_file_writers_each_get_every_event),
      cmocka_unit_test(file_writer_reports_unusable_paths),
      cmocka_unit_test(file_writer_remembers_write_failure),
  };
  return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
