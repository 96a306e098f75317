/* The cronc command's subcommands. Each returns the process exit status.
 *
 * Exit codes (curl's numbers where curl has the same meaning; also in
 * `cronc --help` and docs/cronc.1):
 *   0  success (a redirect not followed without -L is a success too)
 *   1  another failure reported by the stack (or a bad input to a subcommand)
 *   2  usage error
 *   3  a local file cannot be read or written (-o, -O, --data-binary @FILE)
 *   6  DNS: the host name did not resolve
 *   7  the connection could not be made (refused, unreachable)
 *   8  protocol error (HTTP/1.1, HTTP/2 or QUIC framing, a reset or closed
 *      connection, undecodable content)
 *   22 HTTP status >= 400 with --fail
 *   28 timeout (a connect, TLS or QUIC handshake timeout, or --max-time)
 *   35 TLS handshake failure
 *   47 too many redirects
 *   60 certificate or public-key pin check failed */
#ifndef CRONC_TOOL_H
#define CRONC_TOOL_H

#include <stdio.h>

enum {
  CRONC_EXIT_OK = 0,
  CRONC_EXIT_FAILURE = 1,
  CRONC_EXIT_USAGE = 2,
  CRONC_EXIT_LOCAL_FILE = 3,
  CRONC_EXIT_DNS = 6,
  CRONC_EXIT_CONNECT = 7,
  CRONC_EXIT_PROTOCOL = 8,
  CRONC_EXIT_HTTP_ERROR = 22,
  CRONC_EXIT_TIMEOUT = 28,
  CRONC_EXIT_TLS = 35,
  CRONC_EXIT_REDIRECTS = 47,
  CRONC_EXIT_CERT = 60,
};

int cmd_alt_svc(int argc, char **argv);
int cmd_props(int argc, char **argv);
int cmd_fetch(int argc, char **argv);
/* The fetch options and exit codes, for --help. */
void cmd_fetch_usage(FILE *f);

#endif
