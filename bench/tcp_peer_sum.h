/* The checksum tcp-peer --sum prints: whether the bytes a stack delivered are the file it was
 * given, in order. Not cryptographic; fast enough (several GB/s, four independent lanes) that a
 * receiver computing it is still not the bottleneck. Each step is a bijection of the lane for a
 * fixed input word, so a change in one 32-byte block always changes the result; swapped blocks
 * change it with overwhelming probability. Reads may split the stream anywhere: the result
 * depends only on the bytes and their order. */
#ifndef TCP_PEER_SUM_H
#define TCP_PEER_SUM_H

#include <stddef.h>
#include <stdint.h>

#define TCP_PEER_SUM_BLOCK 32

struct tcp_peer_sum {
    uint64_t lane[4];
    uint64_t len;
    unsigned char tail[TCP_PEER_SUM_BLOCK];   /* the start of a block a read cut short */
    size_t ntail;
};

void tcp_peer_sum_init(struct tcp_peer_sum *s);
void tcp_peer_sum_add(struct tcp_peer_sum *s, const void *data, size_t len);
uint64_t tcp_peer_sum_final(struct tcp_peer_sum *s);

#endif
