/* socket/tcp_connect: TCP connect with Happy Eyeballs (RFC 8305).
 *
 * Chromium's TransportConnectJob for already-resolved addresses: the list is
 * reordered to alternate address families starting with IPv6 (RFC 8305 §4,
 * First Address Family Count 1), the first attempt starts at once, the next
 * one after the connection attempt delay (250 ms) or as soon as the previous
 * attempt fails; the first attempt to connect wins and every other attempt is
 * closed. An overall timeout (Chromium's 4 minutes by default) ends the job
 * with CRONC_ERR_CONNECTION_TIMED_OUT. Errors are Chromium's
 * (socket_map_connect_error); when every address failed, the last failure is
 * reported.
 *
 * Ownership: tcp_connect_start() returns a job owned by the caller, who
 * releases it with tcp_connect_job_free() at any time: before the callback
 * that cancels the job and guarantees the callback never runs; in or after
 * the callback it just releases it. The callback hands over the connected
 * socket (the caller then owns it).
 *
 * Thread: the runner's loop thread, for every function and callback. The
 * callback never runs inside tcp_connect_start(). */
#ifndef CRONC_SOCKET_TCP_CONNECT_H
#define CRONC_SOCKET_TCP_CONNECT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "base/clock.h"
#include "base/netlog.h"
#include "base/thread.h"
#include "socket/stream_socket.h"

/* RFC 8305 §5 recommends 250 ms; Chromium's IPv6 fallback timer is 300 ms,
 * its newer Happy Eyeballs v3 work uses 250 ms. */
#define TCP_CONNECT_DEFAULT_ATTEMPT_DELAY_MS 250
/* Chromium's TransportConnectJob connection timeout (4 minutes). */
#define TCP_CONNECT_DEFAULT_TIMEOUT_MS (4 * 60 * 1000)

typedef struct tcp_connect_params {
  uint64_t attempt_delay_ms; /* between attempt starts; default 250 */
  uint64_t timeout_ms;       /* whole job; default 4 minutes; 0 = default */
  const base_clock *clock;   /* connection_info times; NULL = system */
  netlog *netlog;            /* may be NULL */
} tcp_connect_params;

/* Fills the defaults above. */
void tcp_connect_params_init(tcp_connect_params *p);

typedef struct tcp_connect_job tcp_connect_job;

/* result 0: socket is connected and now owned by the callee. Otherwise socket
 * is NULL and result a net error. The job may be freed inside. */
typedef void (*tcp_connect_fn)(int result, stream_socket *socket, void *user_data);

/* Starts connecting to addrs[0..n) (AF_INET / AF_INET6 entries; others are
 * skipped). port != 0 overrides every address's port; port 0 keeps each
 * address's own port. params NULL = defaults. Returns 0 and *out, after
 * which cb runs exactly once unless the job is freed first; or an error at
 * once (no job, cb never runs): CRONC_ERR_INVALID_ARGUMENT (NULL runner,
 * cb or out, or no usable address), CRONC_ERR_OUT_OF_MEMORY. */
int tcp_connect_start(base_runner *r, const struct sockaddr_storage *addrs, size_t n, uint16_t port,
                      const tcp_connect_params *params, tcp_connect_fn cb, void *user_data,
                      tcp_connect_job **out);

/* Cancels (if still running: no callback, every attempt closed) and releases
 * the job. NULL: no-op. */
void tcp_connect_job_free(tcp_connect_job *job);

/* How many connection attempts the job has started so far (tests, NetLog). */
size_t tcp_connect_job_attempts_started(const tcp_connect_job *job);

/* RFC 8305 §4 ordering: copies the AF_INET/AF_INET6 entries of in[0..n) to
 * out, alternating families starting with IPv6 and keeping the order within
 * each family. Returns the number written (<= n). */
size_t tcp_connect_sort_addresses(const struct sockaddr_storage *in, size_t n,
                                  struct sockaddr_storage *out);

#endif /* CRONC_SOCKET_TCP_CONNECT_H */
