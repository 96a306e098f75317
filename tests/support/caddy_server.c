/* tests/support/caddy_server: see caddy_server.h. */
#include "support/caddy_server.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "support/net_test_util.h"

#define PATH_SIZE 512

struct caddy_server {
  pid_t pid;
  uint16_t port;
  char name[256];
  char dir[256];
  char www[PATH_SIZE];
  char root_ca[PATH_SIZE];
  char log[PATH_SIZE];
};

void caddy_options_init(caddy_options *o) {
  memset(o, 0, sizeof(*o));
  o->protocols = CADDY_PROTO_H1 | CADDY_PROTO_H2;
  o->site_name = "localhost";
}

bool caddy_available(void) { return access(CADDY_BINARY, X_OK) == 0; }

static bool file_exists(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && st.st_size > 0;
}

static bool port_accepts(uint16_t port) {
  struct sockaddr_storage ss;
  test_sockaddr(&ss, "127.0.0.1", port);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return false;
  bool ok = connect(fd, (struct sockaddr *)&ss, sizeof(struct sockaddr_in)) == 0;
  close(fd);
  return ok;
}

static void sleep_ms(unsigned ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static void dump_log(const caddy_server *c) {
  FILE *f = fopen(c->log, "r");
  if (!f)
    return;
  char line[1024];
  fprintf(stderr, "---- caddy log (%s) ----\n", c->log);
  while (fgets(line, sizeof(line), f))
    fputs(line, stderr);
  fclose(f);
}

/* Writes the Caddyfile; 0 or -1. */
static int write_caddyfile(const caddy_server *c, const caddy_options *o, const char *path) {
  FILE *f = fopen(path, "w");
  if (!f)
    return -1;
  unsigned p = o->protocols ? o->protocols : (CADDY_PROTO_H1 | CADDY_PROTO_H2);
  fprintf(f,
          "{\n"
          "\tadmin off\n"
          "\tauto_https disable_redirects\n"
          "\tskip_install_trust\n"
          "\tocsp_stapling off\n"
          "\tstorage file_system %s/data\n"
          "\tdefault_sni %s\n"
          "\tservers {\n"
          "\t\tprotocols%s%s%s\n"
          "\t}\n"
          "}\n",
          c->dir, c->name, (p & CADDY_PROTO_H1) ? " h1" : "", (p & CADDY_PROTO_H2) ? " h2" : "",
          (p & CADDY_PROTO_H3) ? " h3" : "");
  fprintf(f,
          "https://%s:%u {\n"
          "\tbind 127.0.0.1\n"
          "\ttls internal\n"
          "\troot * %s\n"
          "\tfile_server\n",
          c->name, c->port, c->www);
  for (const char *const *h = o->headers; h && *h; h++) {
    const char *colon = strchr(*h, ':');
    if (!colon)
      continue;
    const char *v = colon + 1;
    while (*v == ' ')
      v++;
    fprintf(f, "\theader %.*s \"", (int)(colon - *h), *h);
    for (; *v; v++) {
      if (*v == '"' || *v == '\\')
        fputc('\\', f);
      fputc(*v, f);
    }
    fprintf(f, "\"\n");
  }
  if (o->extra_site_config)
    fprintf(f, "%s\n", o->extra_site_config);
  fprintf(f, "}\n");
  return fclose(f) == 0 ? 0 : -1;
}

static pid_t spawn(const caddy_server *c, const char *caddyfile) {
  char home[PATH_SIZE + 16], xdg_data[PATH_SIZE + 32], xdg_config[PATH_SIZE + 32];
  snprintf(home, sizeof(home), "HOME=%s", c->dir);
  snprintf(xdg_data, sizeof(xdg_data), "XDG_DATA_HOME=%s/xdg-data", c->dir);
  snprintf(xdg_config, sizeof(xdg_config), "XDG_CONFIG_HOME=%s/xdg-config", c->dir);
  char *const envp[] = {home, xdg_data, xdg_config, "PATH=/usr/bin:/bin", NULL};
  char *const argv[] = {CADDY_BINARY, "run",       "--config", (char *)caddyfile,
                        "--adapter",  "caddyfile", NULL};
  pid_t pid = fork();
  if (pid != 0)
    return pid;
  /* Child: own process group (so a stray signal to the test does not hit
   * it twice), log to a file, no stdin. */
  setpgid(0, 0);
  int devnull = open("/dev/null", O_RDONLY);
  int logfd = open(c->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (devnull >= 0)
    dup2(devnull, 0);
  if (logfd >= 0) {
    dup2(logfd, 1);
    dup2(logfd, 2);
  }
  execve(CADDY_BINARY, argv, envp);
  _exit(127);
}

int caddy_server_start(const caddy_options *opts, caddy_server **out) {
  *out = NULL;
  caddy_options defaults;
  caddy_options_init(&defaults);
  const caddy_options *o = opts ? opts : &defaults;
  if (!caddy_available()) {
    fprintf(stderr, "caddy_server: %s not installed\n", CADDY_BINARY);
    return -1;
  }
  caddy_server *c = calloc(1, sizeof(*c));
  if (!c)
    return -1;
  c->pid = -1;
  snprintf(c->name, sizeof(c->name), "%s", o->site_name ? o->site_name : "localhost");
  if (!test_make_temp_dir("cronc-caddy", c->dir, sizeof(c->dir))) {
    free(c);
    return -1;
  }
  snprintf(c->www, sizeof(c->www), "%s/www", c->dir);
  snprintf(c->root_ca, sizeof(c->root_ca), "%s/data/pki/authorities/local/root.crt", c->dir);
  snprintf(c->log, sizeof(c->log), "%s/caddy.log", c->dir);
  char caddyfile[PATH_SIZE + 16], site_crt[PATH_SIZE + 600];
  snprintf(caddyfile, sizeof(caddyfile), "%s/Caddyfile", c->dir);
  /* Caddy stores a wildcard name "*.x" as "wildcard_.x". */
  char stored[sizeof c->name + 16];
  if (c->name[0] == '*' && c->name[1] == '.')
    snprintf(stored, sizeof stored, "wildcard_%s", c->name + 1);
  else
    snprintf(stored, sizeof stored, "%s", c->name);
  snprintf(site_crt, sizeof(site_crt), "%s/data/certificates/local/%s/%s.crt", c->dir, stored,
           stored);
  mkdir(c->www, 0755);
  c->port = test_free_port("127.0.0.1", (o->protocols & CADDY_PROTO_H3) != 0);
  if (c->port == 0 || write_caddyfile(c, o, caddyfile) != 0) {
    caddy_server_stop(c);
    return -1;
  }
  c->pid = spawn(c, caddyfile);
  if (c->pid < 0) {
    caddy_server_stop(c);
    return -1;
  }
  unsigned timeout = o->start_timeout_ms ? o->start_timeout_ms : 20000;
  uint64_t deadline = test_now_ms() + timeout;
  bool ready = false;
  while (test_now_ms() < deadline) {
    int status;
    if (waitpid(c->pid, &status, WNOHANG) == c->pid) {
      c->pid = -1; /* exited early: bad config or port taken */
      break;
    }
    if (file_exists(c->root_ca) && file_exists(site_crt) && port_accepts(c->port)) {
      ready = true;
      break;
    }
    sleep_ms(20);
  }
  if (!ready) {
    fprintf(stderr, "caddy_server: Caddy did not come up on port %u\n", c->port);
    dump_log(c);
    caddy_server_stop(c);
    return -1;
  }
  *out = c;
  return 0;
}

uint16_t caddy_server_port(const caddy_server *c) { return c->port; }
const char *caddy_server_site_name(const caddy_server *c) { return c->name; }
const char *caddy_server_root_ca(const caddy_server *c) { return c->root_ca; }
const char *caddy_server_www_dir(const caddy_server *c) { return c->www; }

int caddy_server_put_file(caddy_server *c, const char *name, const void *data, size_t len) {
  char path[PATH_SIZE * 2];
  while (*name == '/')
    name++;
  int n = snprintf(path, sizeof(path), "%s/%s", c->www, name);
  if (n < 0 || (size_t)n >= sizeof(path))
    return -1;
  return test_write_file(path, data, len);
}

void caddy_server_stop(caddy_server *c) {
  if (!c)
    return;
  if (c->pid > 0) {
    kill(c->pid, SIGTERM);
    uint64_t deadline = test_now_ms() + 5000;
    bool reaped = false;
    while (test_now_ms() < deadline) {
      int status;
      pid_t r = waitpid(c->pid, &status, WNOHANG);
      if (r == c->pid || (r < 0 && errno == ECHILD)) {
        reaped = true;
        break;
      }
      sleep_ms(10);
    }
    if (!reaped) {
      kill(c->pid, SIGKILL);
      waitpid(c->pid, NULL, 0);
    }
  }
  if (!getenv("CRONC_KEEP_CADDY"))
    test_remove_tree(c->dir);
  free(c);
}
