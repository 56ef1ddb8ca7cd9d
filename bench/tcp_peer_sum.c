/* See tcp_peer_sum.h: a four-lane multiply-xorshift over 32-byte blocks with a carried tail. */
#include "tcp_peer_sum.h"

#include <string.h>

#define MUL 0x9e3779b97f4a7c15ULL   /* odd, so multiplying is a bijection */

static uint64_t step(uint64_t h, uint64_t w)
{
    h = (h ^ w) * MUL;
    return h ^ (h >> 31);
}

static void block(struct tcp_peer_sum *s, const unsigned char *p)
{
    uint64_t w[4];
    memcpy(w, p, sizeof w);   /* any alignment; the compiler makes it plain loads */
    for (int k = 0; k < 4; k++)
        s->lane[k] = step(s->lane[k], w[k]);
}

void tcp_peer_sum_init(struct tcp_peer_sum *s)
{
    memset(s, 0, sizeof *s);
    for (int k = 0; k < 4; k++)
        s->lane[k] = (uint64_t)(k + 1) * 0x0123456789abcdefULL;   /* lanes start apart */
}

void tcp_peer_sum_add(struct tcp_peer_sum *s, const void *data, size_t len)
{
    const unsigned char *p = data;
    s->len += len;
    if (s->ntail > 0) {
        size_t take = TCP_PEER_SUM_BLOCK - s->ntail;
        if (take > len)
            take = len;
        memcpy(s->tail + s->ntail, p, take);
        s->ntail += take;
        p += take;
        len -= take;
        if (s->ntail < TCP_PEER_SUM_BLOCK)
            return;
        block(s, s->tail);
        s->ntail = 0;
    }
    for (; len >= TCP_PEER_SUM_BLOCK; p += TCP_PEER_SUM_BLOCK, len -= TCP_PEER_SUM_BLOCK)
        block(s, p);
    memcpy(s->tail, p, len);
    s->ntail = len;
}

/* The tail is zero-padded into one last block; the length tells "ab" from "ab\0". */
uint64_t tcp_peer_sum_final(struct tcp_peer_sum *s)
{
    if (s->ntail > 0) {
        memset(s->tail + s->ntail, 0, TCP_PEER_SUM_BLOCK - s->ntail);
        block(s, s->tail);
        s->ntail = 0;
    }
    uint64_t h = s->len;
    for (int k = 0; k < 4; k++)
        h = step(h, s->lane[k]);
    return h;
}
