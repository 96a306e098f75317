/* cronc props ...: server properties and their store, driven through a real
 * engine (network thread, store load at start, flush at shutdown) except for
 * `show`, which reads the store read-only so it works beside a running
 * engine. Output is one JSON document on stdout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "cronc/cronc.h"
#include "cronc_tool.h"
#include "engine/engine.h"
#include "http/altsvc_select.h"
#include "http/server_properties.h"
#include "store/store.h"
#include "url/url.h"

typedef struct props_args {
  const char *storage;
  const char *netlog_path;
  bool enable_http2_alt;
  bool user_ports;
  const char *pos[4];
  int npos;
} props_args;

static int parse_args(int argc, char **argv, props_args *a) {
  memset(a, 0, sizeof *a);
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--storage") == 0 && i + 1 < argc) {
      a->storage = argv[++i];
    } else if (strcmp(argv[i], "--netlog") == 0 && i + 1 < argc) {
      a->netlog_path = argv[++i];
    } else if (strcmp(argv[i], "--enable-http2-alt") == 0) {
      a->enable_http2_alt = true;
    } else if (strcmp(argv[i], "--user-ports") == 0) {
      a->user_ports = true;
    } else if (argv[i][0] == '-' && argv[i][1] == '-') {
      fprintf(stderr, "cronc props: unknown option %s\n", argv[i]);
      return -1;
    } else if (a->npos < 4) {
      a->pos[a->npos++] = argv[i];
    } else {
      fprintf(stderr, "cronc props: too many arguments\n");
      return -1;
    }
  }
  if (!a->storage) {
    fprintf(stderr, "cronc props: --storage DIR is required\n");
    return -1;
  }
  return 0;
}

static int fail(const char *what, int rv) {
  printf("{\"error\":\"%s\",\"net_error\":%d,\"what\":", cronc_error_name(rv), rv);
  strbuf sb = STRBUF_INIT;
  strbuf_json_cstr(&sb, what);
  printf("%s}\n", strbuf_cstr(&sb));
  strbuf_free(&sb);
  return 1;
}

static void json_infos(strbuf *sb, const altsvc_info_list *l) {
  strbuf_append_char(sb, '[');
  for (size_t i = 0; i < l->count; i++) {
    if (i)
      strbuf_append_char(sb, ',');
    altsvc_info_append_json(sb, &l->items[i]);
  }
  strbuf_append_char(sb, ']');
}

static int start_engine(const props_args *a, engine **out) {
  engine_params ep;
  engine_params_init(&ep);
  ep.storage_path = a->storage;
  ep.netlog_path = a->netlog_path;
  return engine_new(&ep, out);
}

/* Parses "https://host[:port]" (any URL: its origin is taken). */
static int origin_arg(const char *s, url_origin *o) {
  url u;
  int rv = url_parse(s, strlen(s), &u);
  if (rv != CRONC_OK)
    return rv;
  rv = url_origin_from_url(&u, o);
  url_free(&u);
  return rv;
}

/* "h3"/"quic"/"h2" and "host:port" ("[v6]:port") into a service. */
static int service_arg(const char *proto, const char *hostport, altsvc_service *s) {
  memset(s, 0, sizeof *s);
  if (strcmp(proto, "h3") == 0 || strcmp(proto, "quic") == 0)
    s->protocol = ALTSVC_PROTO_QUIC;
  else if (strcmp(proto, "h2") == 0)
    s->protocol = ALTSVC_PROTO_HTTP2;
  else
    return CRONC_ERR_INVALID_ARGUMENT;
  const char *colon = strrchr(hostport, ':');
  if (!colon || colon == hostport)
    return CRONC_ERR_INVALID_ARGUMENT;
  char *end = NULL;
  long port = strtol(colon + 1, &end, 10);
  if (*end || port < 1 || port > 65535)
    return CRONC_ERR_INVALID_ARGUMENT;
  s->port = (uint16_t)port;
  url_host_kind kind;
  return url_canon_host(hostport, (size_t)(colon - hostport), s->host, sizeof s->host, &kind);
}

/* ---- Work done on the network thread -------------------------------- */

typedef struct learn_task {
  engine *e;
  url_origin origin;
  const char *value;
  int rv;
  strbuf out;
} learn_task;

static void do_learn(void *arg) {
  learn_task *t = arg;
  props *p = engine_props(t->e);
  t->rv = props_process_alt_svc_header(p, &t->origin, t->value, strlen(t->value),
                                       engine_enable_http2(t->e), engine_enable_quic(t->e));
  altsvc_info_list l;
  altsvc_info_list_init(&l);
  props_get_alternative_service_infos(p, &t->origin, &l);
  strbuf_append_str(&t->out, "{\"origin\":");
  char o[URL_MAX_HOST + 32];
  url_origin_to_string(&t->origin, o, sizeof o);
  strbuf_json_cstr(&t->out, o);
  strbuf_appendf(&t->out, ",\"accepted\":%s,\"worth_persisting\":%s,\"alternative_services\":",
                 t->rv >= 0 ? "true" : "false", t->rv > 0 ? "true" : "false");
  json_infos(&t->out, &l);
  if (t->rv < 0) {
    strbuf_append_str(&t->out, ",\"error\":");
    strbuf_json_cstr(&t->out, cronc_error_name(t->rv));
  }
  strbuf_append_char(&t->out, '}');
  altsvc_info_list_free(&l);
}

typedef struct select_task {
  engine *e;
  const props_args *a;
  url_origin origin;
  int rv;
  strbuf out;
} select_task;

static void do_select(void *arg) {
  select_task *t = arg;
  altsvc_select_params sp;
  altsvc_select_params_init(&sp);
  sp.enable_quic = engine_enable_quic(t->e);
  sp.enable_http2_alternative_service = t->a->enable_http2_alt;
  sp.enable_user_alternate_protocol_ports = t->a->user_ports;
  altsvc_select_request req;
  altsvc_select_request_init(&req, &t->origin);
  altsvc_select_result r;
  t->rv = altsvc_select(engine_props(t->e), &sp, &req, &r);
  if (t->rv != CRONC_OK)
    return;
  char o[URL_MAX_HOST + 32];
  url_origin_to_string(&t->origin, o, sizeof o);
  strbuf_append_str(&t->out, "{\"origin\":");
  strbuf_json_cstr(&t->out, o);
  strbuf_append_str(&t->out, ",\"alternative\":");
  if (r.found) {
    altsvc_info_append_json(&t->out, &r.info);
    if (r.info.service.protocol == ALTSVC_PROTO_QUIC) {
      strbuf_append_str(&t->out, ",\"quic_alpn\":");
      strbuf_json_cstr(&t->out, r.quic_alpn);
    }
  } else {
    strbuf_append_str(&t->out, "null");
  }
  strbuf_appendf(&t->out, ",\"quic_broken\":%s,\"usage\":", r.quic_broken ? "true" : "false");
  strbuf_json_cstr(&t->out, altsvc_usage_name(r.usage));
  strbuf_append_char(&t->out, '}');
}

typedef struct broken_task {
  engine *e;
  altsvc_service svc;
  bool confirm;
  strbuf out;
} broken_task;

static void do_broken(void *arg) {
  broken_task *t = arg;
  props *p = engine_props(t->e);
  if (t->confirm)
    props_confirm_alternative_service(p, &t->svc);
  else
    props_mark_alternative_service_broken(p, &t->svc);
  int64_t expiry = 0;
  bool broken = broken_altsvc_is_broken(props_broken(p), &t->svc, &expiry);
  char s[URL_MAX_HOST + 32];
  altsvc_service_to_string(&t->svc, s, sizeof s);
  strbuf_append_str(&t->out, "{\"alternative_service\":");
  strbuf_json_cstr(&t->out, s);
  strbuf_appendf(&t->out, ",\"broken\":%s,\"recently_broken\":%s,\"broken_count\":%d",
                 broken ? "true" : "false",
                 props_was_alternative_service_recently_broken(p, &t->svc) ? "true" : "false",
                 broken_altsvc_broken_count(props_broken(p), &t->svc));
  if (broken) {
    int64_t secs = (expiry - base_clock_ticks(base_clock_system()) + 500000) / 1000000;
    strbuf_appendf(&t->out, ",\"broken_for_s\":%lld", (long long)secs);
  }
  strbuf_append_char(&t->out, '}');
}

/* ---- Subcommands ------------------------------------------------------ */

static int print_and_free(strbuf *sb) {
  if (strbuf_failed(sb)) {
    strbuf_free(sb);
    return fail("out of memory", CRONC_ERR_OUT_OF_MEMORY);
  }
  printf("%s\n", strbuf_cstr(sb));
  strbuf_free(sb);
  return 0;
}

static int props_show(const props_args *a) {
  store *s = NULL;
  int rv = store_open(a->storage, STORE_OPEN_READ_ONLY, NULL, &s);
  if (rv != CRONC_OK)
    return fail("open store", rv);
  strbuf sb = STRBUF_INIT;
  rv = store_to_json(s, &sb);
  store_close(s);
  if (rv != CRONC_OK) {
    strbuf_free(&sb);
    return fail("read store", rv);
  }
  return print_and_free(&sb);
}

static int props_clear(const props_args *a) {
  store *s = NULL;
  int rv = store_open(a->storage, STORE_OPEN_READ_WRITE, NULL, &s);
  if (rv != CRONC_OK)
    return fail("open store", rv);
  rv = store_clear(s);
  store_close(s);
  if (rv != CRONC_OK)
    return fail("clear store", rv);
  printf("{\"cleared\":true}\n");
  return 0;
}

static int props_learn(const props_args *a) {
  learn_task t = {.value = a->pos[1], .out = STRBUF_INIT};
  int rv = origin_arg(a->pos[0], &t.origin);
  if (rv != CRONC_OK)
    return fail("origin", rv);
  if ((rv = start_engine(a, &t.e)) != CRONC_OK)
    return fail("start engine", rv);
  rv = engine_run(t.e, do_learn, &t);
  engine_free(t.e); /* flushes the store */
  if (rv != CRONC_OK) {
    strbuf_free(&t.out);
    return fail("run", rv);
  }
  int status = print_and_free(&t.out);
  return status ? status : (t.rv < 0 ? 1 : 0);
}

static int props_select(const props_args *a) {
  select_task t = {.a = a, .out = STRBUF_INIT};
  int rv = origin_arg(a->pos[0], &t.origin);
  if (rv != CRONC_OK)
    return fail("url", rv);
  if ((rv = start_engine(a, &t.e)) != CRONC_OK)
    return fail("start engine", rv);
  rv = engine_run(t.e, do_select, &t);
  engine_free(t.e);
  if (rv == CRONC_OK)
    rv = t.rv;
  if (rv != CRONC_OK) {
    strbuf_free(&t.out);
    return fail("select", rv);
  }
  return print_and_free(&t.out);
}

static int props_broken_cmd(const props_args *a, bool confirm) {
  broken_task t = {.confirm = confirm, .out = STRBUF_INIT};
  url_origin origin;
  int rv = origin_arg(a->pos[0], &origin);
  if (rv != CRONC_OK)
    return fail("origin", rv);
  if ((rv = service_arg(a->pos[1], a->pos[2], &t.svc)) != CRONC_OK)
    return fail("alternative service (PROTOCOL HOST:PORT)", rv);
  if ((rv = start_engine(a, &t.e)) != CRONC_OK)
    return fail("start engine", rv);
  rv = engine_run(t.e, do_broken, &t);
  engine_free(t.e);
  if (rv != CRONC_OK) {
    strbuf_free(&t.out);
    return fail("run", rv);
  }
  return print_and_free(&t.out);
}

int cmd_props(int argc, char **argv) {
  if (argc < 1) {
    fprintf(stderr, "usage: cronc props show|clear|learn|select|mark-broken|confirm ...\n");
    return 2;
  }
  const char *sub = argv[0];
  props_args a;
  if (parse_args(argc - 1, argv + 1, &a) != 0)
    return 2;
  if (strcmp(sub, "show") == 0 && a.npos == 0)
    return props_show(&a);
  if (strcmp(sub, "clear") == 0 && a.npos == 0)
    return props_clear(&a);
  if (strcmp(sub, "learn") == 0 && a.npos == 2)
    return props_learn(&a);
  if (strcmp(sub, "select") == 0 && a.npos == 1)
    return props_select(&a);
  if (strcmp(sub, "mark-broken") == 0 && a.npos == 3)
    return props_broken_cmd(&a, false);
  if (strcmp(sub, "confirm") == 0 && a.npos == 3)
    return props_broken_cmd(&a, true);
  fprintf(stderr, "cronc props: bad subcommand or arguments (see cronc --help)\n");
  return 2;
}
