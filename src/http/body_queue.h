/* http/body_queue: response body bytes that arrived while no read was
 * waiting, kept in arrival order until the caller reads them. Shared by the
 * HTTP/2 and HTTP/3 streams, which both put body bytes straight into a
 * waiting read buffer and queue only the rest. One owner, one thread. */
#ifndef CRONC_HTTP_BODY_QUEUE_H
#define CRONC_HTTP_BODY_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct http_body_chunk http_body_chunk;

typedef struct http_body_queue {
  http_body_chunk *head, *tail;
} http_body_queue; /* zero-initialised = empty */

static inline bool http_body_queue_empty(const http_body_queue *q) { return q->head == NULL; }

/* Appends a copy of data[0..len). CRONC_OK or CRONC_ERR_OUT_OF_MEMORY
 * (nothing queued). */
int http_body_queue_push(http_body_queue *q, const uint8_t *data, size_t len);
/* Moves up to len queued bytes into buf; returns how many. */
size_t http_body_queue_take(http_body_queue *q, uint8_t *buf, size_t len);
/* Drops everything queued. */
void http_body_queue_clear(http_body_queue *q);

#endif /* CRONC_HTTP_BODY_QUEUE_H */
