/* tests/support/raw_tcp_server: a scripted TCP server for fault tests.
 *
 * Listens on a loopback address and runs a fixed script of actions on its
 * own thread: accept a connection, read until a delimiter or a byte count,
 * write bytes, sleep, close cleanly, or reset (RST via SO_LINGER 0). A test
 * uses it to make a peer misbehave in an exact way (cut a response short,
 * close before answering, answer slowly). Every blocking step is bounded
 * (5 s by default) so a broken test never hangs.
 *
 * Ownership: raw_tcp_server_free() stops the thread (at its next poll),
 * closes every socket and frees the server. The script array and its data
 * must outlive the server. Thread: start/wait/free on the test's thread;
 * the script runs on the server's thread. */
#ifndef CRONC_TESTS_SUPPORT_RAW_TCP_SERVER_H
#define CRONC_TESTS_SUPPORT_RAW_TCP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum raw_action_type {
  RAW_ACCEPT,     /* accept the next connection (it becomes current) */
  RAW_READ_UNTIL, /* read until `data` (len bytes) has been received */
  RAW_READ_BYTES, /* read exactly len bytes (data unused) */
  RAW_WRITE,      /* write data[0..len) */
  RAW_SLEEP_MS,   /* sleep ms */
  RAW_CLOSE,      /* close the current connection (FIN) */
  RAW_RESET,      /* close the current connection with RST */
  RAW_WAIT_CLOSE, /* read and discard until the peer closes */
  RAW_READ_SOME,  /* wait for data, then read once what is there (up to 64 KB) */
} raw_action_type;

typedef struct raw_action {
  raw_action_type type;
  const char *data;
  size_t len;
  unsigned ms;
} raw_action;

typedef struct raw_tcp_server raw_tcp_server;

/* Starts listening on ip ("127.0.0.1", "::1"), port 0 = a free port, and
 * runs script[0..n) on a thread. NULL on failure. */
raw_tcp_server *raw_tcp_server_start(const char *ip, uint16_t port, const raw_action *script,
                                     size_t n);
uint16_t raw_tcp_server_port(const raw_tcp_server *s);
/* Waits (up to timeout_ms) for the script to finish. Returns 0 when every
 * action succeeded, -1 on a failed action or timeout. */
int raw_tcp_server_wait(raw_tcp_server *s, unsigned timeout_ms);
/* Everything read from clients so far (NUL-terminated copy owned by s; valid
 * until the next call or free; call after wait()). */
const char *raw_tcp_server_received(raw_tcp_server *s, size_t *len);
/* Number of connections accepted. */
int raw_tcp_server_accepted(raw_tcp_server *s);
void raw_tcp_server_free(raw_tcp_server *s);

#endif /* CRONC_TESTS_SUPPORT_RAW_TCP_SERVER_H */
