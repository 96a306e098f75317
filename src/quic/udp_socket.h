/* quic/udp_socket: a connected, non-blocking UDP socket on the loop, built
 * for QUIC's bulk traffic (Chromium's UDPSocketPosix with its batching).
 *
 *  - Large SO_RCVBUF/SO_SNDBUF (best effort; the kernel caps them).
 *  - Sends: udp_socket_send() takes one buffer holding n packets of
 *    `segment` bytes each (the last may be shorter) and hands it to the
 *    kernel in one sendmsg with UDP_SEGMENT (GSO). When the kernel refuses
 *    GSO (EIO/EINVAL/ENOPROTOOPT on the first try) it is switched off for
 *    the socket and the packets go out one sendmsg each (sendmmsg).
 *  - Receives: recvmmsg into preallocated buffers, with UDP_GRO where the
 *    kernel has it (a coalesced datagram is split back at its segment size
 *    before it reaches the callback). No allocation per packet.
 *  - Receive coalescing: once one readable event drains a bulk flow's worth
 *    of datagrams, the next read waits a millisecond and takes everything
 *    that piled up (interrupt moderation, done in user space). A download
 *    otherwise wakes the loop for every few packets, and on a loaded or
 *    virtual machine the wake-ups cost more than the packets: 100 MB over
 *    HTTP/3 took 0.39 s of CPU with ~18k context switches, 0.16 s with
 *    coalescing, and finished sooner. Interactive traffic never trips the
 *    threshold. It stays off where the millisecond's arrivals could
 *    approach the receive buffer, and for good once the kernel reports a
 *    drop (SO_RXQ_OVFL). Chromium reads as packets come; this departs from
 *    it for CPU.
 *  - Errors: ECONNREFUSED (ICMP port unreachable on the connected socket)
 *    is CRONC_ERR_CONNECTION_REFUSED; others map through the posix table.
 *
 * Ownership: the caller owns the socket; udp_socket_close() stops every
 * callback at once and frees the memory once libuv let go of the handle.
 * Thread: the runner's loop thread only. */
#ifndef CRONC_QUIC_UDP_SOCKET_H
#define CRONC_QUIC_UDP_SOCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "base/thread.h"

#define UDP_MAX_GSO_SEGMENTS 64    /* the kernel's UDP_MAX_SEGMENTS */
#define UDP_MAX_DATAGRAM     65527 /* IPv4/IPv6 UDP payload limit */

typedef struct udp_socket udp_socket;

typedef struct udp_socket_callbacks {
  /* One received datagram (a GRO batch is handed over packet by packet).
   * data is valid during the call only. */
  void (*on_datagram)(void *ud, const uint8_t *data, size_t len);
  /* A receive batch ended (the socket has nothing more for now): a good
   * moment to write (ACKs) once for the whole batch. */
  void (*on_batch_done)(void *ud);
  /* The socket became writable after a send returned ERR_IO_PENDING. */
  void (*on_writable)(void *ud);
  /* A receive error (CRONC_ERR_CONNECTION_REFUSED, ...). Reading stops. */
  void (*on_error)(void *ud, int error);
} udp_socket_callbacks;

/* Opens a UDP socket connected to peer on r's loop and starts reading.
 * 0 and *out, or a net error (CRONC_ERR_ADDRESS_INVALID for a bad address,
 * CRONC_ERR_OUT_OF_MEMORY, a mapped errno). cbs is copied. */
int udp_socket_open(base_runner *r, const struct sockaddr *peer, socklen_t peer_len,
                    const udp_socket_callbacks *cbs, void *ud, udp_socket **out);

/* Sends buf (len bytes) as packets of `segment` bytes (the last may be
 * shorter); segment >= len means a single packet. Returns CRONC_OK when
 * the kernel took all of it, CRONC_ERR_IO_PENDING when the socket buffer
 * is full (nothing of this call was sent; on_writable follows), or a net
 * error. */
int udp_socket_send(udp_socket *s, const uint8_t *buf, size_t len, size_t segment);

/* Local and peer addresses (for ngtcp2's path). */
const struct sockaddr *udp_socket_local_addr(const udp_socket *s, socklen_t *len);
const struct sockaddr *udp_socket_peer_addr(const udp_socket *s, socklen_t *len);

/* Whether GSO / GRO are in use (tests, diagnostics). */
bool udp_socket_gso_enabled(const udp_socket *s);
bool udp_socket_gro_enabled(const udp_socket *s);
/* Whether receive coalescing may still engage; whether reading waits now. */
bool udp_socket_coalescing(const udp_socket *s);
bool udp_socket_read_paused(const udp_socket *s);
/* How long a coalesced read waits (default 1 ms); 0 turns coalescing off. */
void udp_socket_set_coalesce_ms(udp_socket *s, unsigned ms);

/* Stops reading and callbacks and closes; the memory is freed on a later
 * loop iteration. NULL: no-op. */
void udp_socket_close(udp_socket *s);

#endif /* CRONC_QUIC_UDP_SOCKET_H */
