/* tests/support/udp_fault_proxy: a loopback UDP relay that can drop or delay
 * datagrams, put between a QUIC client and a real HTTP/3 server (Caddy).
 *
 * The proxy binds 127.0.0.1:<free port> (udp_fault_proxy_port()) for the
 * client and a second socket connected to 127.0.0.1:<target_port> for the
 * server. A datagram from the client goes out through the second socket; a
 * datagram from the server goes back to the client, i.e. to the most recent
 * source address seen on the client side (a datagram from the server before
 * any client is known is dropped). A real QUIC connection works through it.
 *
 * Faults, switchable at any time from any thread (atomics, no lock):
 *   - mode: UDP_FAULT_FORWARD, UDP_FAULT_DROP (the "blackhole": everything
 *     is swallowed both ways, including datagrams already queued for a
 *     delay), or drop one direction only;
 *   - a delay per direction: each datagram is held for the delay (taken when
 *     it is received) before it is sent on; order is kept per direction. A
 *     new delay applies to datagrams received after the change.
 * Memory is bounded: more than 4 MB queued in one direction drops (counted).
 *
 * Runs on its own pthread (a ppoll loop on CLOCK_MONOTONIC deadlines, no busy
 * loop), so a test running a libuv loop on its own thread is unaffected.
 * new/free on the test's thread; setters and counters from any thread.
 * For tests and benches only. */
#ifndef CRONC_TESTS_SUPPORT_UDP_FAULT_PROXY_H
#define CRONC_TESTS_SUPPORT_UDP_FAULT_PROXY_H

#include <stdint.h>

typedef enum udp_fault_mode {
  UDP_FAULT_FORWARD = 0,        /* relay both ways (with the delays, if any) */
  UDP_FAULT_DROP = 1,           /* swallow everything both ways */
  UDP_FAULT_DROP_TO_TARGET = 2, /* swallow client -> target only */
  UDP_FAULT_DROP_TO_CLIENT = 3, /* swallow target -> client only */
} udp_fault_mode;

typedef struct udp_fault_proxy udp_fault_proxy;

/* Starts a proxy toward 127.0.0.1:target_port in UDP_FAULT_FORWARD mode with
 * no delay. NULL on failure (target_port 0, socket/thread failure). */
udp_fault_proxy *udp_fault_proxy_new(uint16_t target_port);

/* The client-facing port on 127.0.0.1. */
uint16_t udp_fault_proxy_port(const udp_fault_proxy *p);
/* The port of the proxy's socket toward the target (the source port the
 * target sees), for tests that inject datagrams as the server. */
uint16_t udp_fault_proxy_upstream_port(const udp_fault_proxy *p);

/* Sets the mode (a udp_fault_mode); an unknown value is ignored. */
void udp_fault_proxy_set_mode(udp_fault_proxy *p, int mode);
int udp_fault_proxy_mode(const udp_fault_proxy *p);

/* Same delay both ways (ms_each_way; 0 = none). A 25 ms delay each way makes
 * a 50 ms RTT. */
void udp_fault_proxy_set_delay_ms(udp_fault_proxy *p, unsigned ms_each_way);
/* Separate delays: client -> target and target -> client. */
void udp_fault_proxy_set_delays_ms(udp_fault_proxy *p, unsigned to_target_ms,
                                   unsigned to_client_ms);

/* Counters (since new). A datagram is counted before it is sent on, so a
 * test that has received it also sees it counted. */
uint64_t udp_fault_proxy_client_datagrams(const udp_fault_proxy *p); /* received from client */
uint64_t udp_fault_proxy_target_datagrams(const udp_fault_proxy *p); /* received from target */
uint64_t udp_fault_proxy_forwarded(const udp_fault_proxy *p);        /* sent on, both ways */
uint64_t udp_fault_proxy_dropped(const udp_fault_proxy *p);          /* swallowed, both ways */

/* Stops the thread, closes the sockets, frees queued datagrams. NULL: no-op. */
/* Points the relay at another target port (e.g. a server started after the
 * proxy, whose configuration needed the proxy's port). 0 or -1. Any thread. */
int udp_fault_proxy_set_target(udp_fault_proxy *p, uint16_t target_port);

void udp_fault_proxy_free(udp_fault_proxy *p);

#endif /* CRONC_TESTS_SUPPORT_UDP_FAULT_PROXY_H */
