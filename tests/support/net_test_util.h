/* tests/support/net_test_util: small helpers for tests that touch the network
 * stack on loopback only.
 *
 * - free ports (TCP, optionally the same UDP port too, for HTTP/3),
 * - sockaddr construction from an IP literal,
 * - running a libuv loop until a flag is set (bounded by a deadline),
 * - a "blackhole" listener: a loopback listening socket whose accept queue
 *   is full, so a new connect() to it neither succeeds nor fails (the kernel
 *   drops the SYN and the client retransmits after ~1 s). It simulates a
 *   slow/unresponsive address without sending anything off the machine.
 *
 * Everything is for tests: failures return -1/NULL/false, nothing aborts.
 * Thread: any; the loop helpers on the loop's thread. */
#ifndef CRONC_TESTS_SUPPORT_NET_TEST_UTIL_H
#define CRONC_TESTS_SUPPORT_NET_TEST_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

/* A port that was free on `ip` (e.g. "127.0.0.1", "::1") for TCP, and also
 * for UDP when also_udp. Returns the port, or 0 on failure. (Racy by nature:
 * another process may take it before the caller binds.) */
uint16_t test_free_port(const char *ip, bool also_udp);

/* Fills ss from an IPv4 or IPv6 literal and a port. false if not a literal. */
bool test_sockaddr(struct sockaddr_storage *ss, const char *ip, uint16_t port);

/* Runs the loop (UV_RUN_ONCE steps) until *flag is true or timeout_ms of
 * real time passed. Returns *flag. A timer keeps the loop from blocking
 * forever. */
bool test_loop_run_until(uv_loop_t *loop, const bool *flag, uint64_t timeout_ms);

/* Runs the loop for about ms milliseconds of real time (lets close callbacks
 * and stray timers run; used to check that no callback arrives). */
void test_loop_run_for(uv_loop_t *loop, uint64_t ms);

/* Monotonic milliseconds (uv_hrtime based). */
uint64_t test_now_ms(void);

typedef struct test_blackhole test_blackhole;
/* A listener on ip:port (port 0 = any free port) whose backlog is filled, so
 * further connects hang. NULL on failure. */
test_blackhole *test_blackhole_new(const char *ip, uint16_t port);
uint16_t test_blackhole_port(const test_blackhole *b);
void test_blackhole_free(test_blackhole *b);

/* Makes a temporary directory under $TMPDIR (or /tmp) named prefix.XXXXXX;
 * writes its path to out (size >= 256). false on failure. */
bool test_make_temp_dir(const char *prefix, char *out, size_t out_size);
/* Removes a directory tree (rm -rf). Returns 0 or -1. */
int test_remove_tree(const char *path);
/* Writes a file (creates/truncates). Returns 0 or -1. */
int test_write_file(const char *path, const void *data, size_t len);

#endif /* CRONC_TESTS_SUPPORT_NET_TEST_UTIL_H */
