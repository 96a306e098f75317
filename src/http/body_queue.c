#include "http/body_queue.h"

#include <stdlib.h>
#include <string.h>

#include "cronc/cronc.h"

struct http_body_chunk {
  http_body_chunk *next;
  size_t len, off;
  uint8_t data[];
};

int http_body_queue_push(http_body_queue *q, const uint8_t *data, size_t len) {
  http_body_chunk *ch = malloc(sizeof *ch + len);
  if (!ch)
    return CRONC_ERR_OUT_OF_MEMORY;
  ch->next = NULL;
  ch->len = len;
  ch->off = 0;
  memcpy(ch->data, data, len);
  if (q->tail)
    q->tail->next = ch;
  else
    q->head = ch;
  q->tail = ch;
  return CRONC_OK;
}

size_t http_body_queue_take(http_body_queue *q, uint8_t *buf, size_t len) {
  size_t got = 0;
  while (q->head && got < len) {
    http_body_chunk *ch = q->head;
    size_t take = ch->len - ch->off;
    if (take > len - got)
      take = len - got;
    memcpy(buf + got, ch->data + ch->off, take);
    ch->off += take;
    got += take;
    if (ch->off == ch->len) {
      q->head = ch->next;
      if (!q->head)
        q->tail = NULL;
      free(ch);
    }
  }
  return got;
}

void http_body_queue_clear(http_body_queue *q) {
  while (q->head) {
    http_body_chunk *ch = q->head;
    q->head = ch->next;
    free(ch);
  }
  q->tail = NULL;
}
