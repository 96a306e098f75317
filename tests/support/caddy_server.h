/* tests/support/caddy_server: a real Caddy (h1/h2/h3) on a free loopback port.
 *
 * caddy_server_start() writes a Caddyfile into a fresh temp dir and runs
 * /usr/bin/caddy on it:
 *   global: admin off, auto_https disable_redirects, skip_install_trust,
 *           ocsp_stapling off, storage under the temp dir, default_sni <name>,
 *           servers { protocols ... }
 *   site:   https://<name>:<port>, bound to 127.0.0.1, `tls internal`
 *           (Caddy's own local CA: nothing ever goes to the network), a
 *           file_server rooted in <tmp>/www, optional extra headers.
 * HOME, XDG_DATA_HOME and XDG_CONFIG_HOME point into the temp dir so Caddy
 * never touches the real home. Start returns once the port accepts
 * connections and the site certificate exists; the local root CA
 * (<tmp>/data/pki/authorities/local/root.crt) is then ready to be used as an
 * extra trust anchor. caddy_server_stop() sends SIGTERM (SIGKILL after 5 s),
 * reaps the process and removes the temp dir.
 *
 * Thread: the test's thread. Caddy's log is <tmp>/caddy.log (kept on
 * failure when CRONC_KEEP_CADDY is set in the environment). */
#ifndef CRONC_TESTS_SUPPORT_CADDY_SERVER_H
#define CRONC_TESTS_SUPPORT_CADDY_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CADDY_BINARY "/usr/bin/caddy"

enum {
  CADDY_PROTO_H1 = 1 << 0,
  CADDY_PROTO_H2 = 1 << 1,
  CADDY_PROTO_H3 = 1 << 2, /* Caddy also binds UDP <port> */
};

typedef struct caddy_options {
  unsigned protocols;            /* CADDY_PROTO_* mask; 0 = h1 + h2 */
  const char *site_name;         /* certificate / site name; NULL = "localhost" */
  const char *const *headers;    /* NULL-terminated "Name: value" list, or NULL */
  const char *extra_site_config; /* raw Caddyfile lines inside the site, or NULL */
  unsigned start_timeout_ms;     /* 0 = 20000 */
} caddy_options;

/* Fills the defaults (h1 + h2, "localhost"). */
void caddy_options_init(caddy_options *o);

typedef struct caddy_server caddy_server;

/* True when the Caddy binary is installed (tests skip otherwise). */
bool caddy_available(void);

/* 0 and *out, or -1 (Caddy missing, no free port, did not come up; the log
 * is printed to stderr in that case). */
int caddy_server_start(const caddy_options *o, caddy_server **out);
uint16_t caddy_server_port(const caddy_server *c);
const char *caddy_server_site_name(const caddy_server *c);
/* Path of Caddy's local root CA certificate (PEM). */
const char *caddy_server_root_ca(const caddy_server *c);
/* The directory served as the site root. */
const char *caddy_server_www_dir(const caddy_server *c);
/* Writes <www>/<name> (name without leading '/'). 0 or -1. */
int caddy_server_put_file(caddy_server *c, const char *name, const void *data, size_t len);
/* Stops Caddy and removes its temp dir. NULL: no-op. */
void caddy_server_stop(caddy_server *c);

#endif /* CRONC_TESTS_SUPPORT_CADDY_SERVER_H */
