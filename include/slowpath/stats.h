/* Counters of the native stack. Every drop has a reason and each reason its own counter: these
 * are what SIGUSR1, the HTTP status page and the tests read. */
#ifndef SLOWPATH_STATS_H
#define SLOWPATH_STATS_H

#include "slowpath/layer_stack.h"

#include <stdint.h>

#define SP_STATS_MAP(X)                                                                   \
    /* link */                                                                            \
    X(rx_frames) X(rx_bytes) X(tx_frames) X(tx_bytes) X(tx_errors)                        \
    X(drop_eth_truncated) X(drop_eth_not_for_us) X(drop_eth_unknown_type)                 \
    X(drop_eth_bad_src_mac)                                                               \
    X(drop_raw_not_ipv4)     /* raw-IP link (TUN): a frame to send that is no IPv4 datagram */ \
    /* device offloads: super-segments in and out (each also counted as the wire frames it \
     * stands for), checksums the device vouched for, frames with metadata we cannot take */ \
    X(rx_super_segments) X(tx_super_segments) X(rx_csum_offloaded) X(drop_offload_bad_meta) \
    /* ARP and the neighbour cache */                                                     \
    X(arp_rx) X(arp_tx_request) X(arp_tx_reply) X(arp_tx_gratuitous)                      \
    X(arp_learned) X(arp_expired) X(arp_evicted) X(arp_evicted_in_use)                    \
    X(arp_learn_skipped)                                                                  \
    X(drop_arp_truncated) X(drop_arp_unsupported) X(drop_arp_malformed)                   \
    X(drop_arp_not_for_us) X(drop_arp_bad_sender)                                         \
    X(drop_arp_queue_full) X(drop_arp_unresolved)                                         \
    /* IPv4 */                                                                            \
    X(ip_rx) X(ip_tx) X(ip_frag_tx) X(ip_reasm_ok)                                        \
    X(drop_ip_truncated) X(drop_ip_bad_version) X(drop_ip_bad_header)                     \
    X(drop_ip_bad_checksum) X(drop_ip_not_for_us) X(drop_ip_bad_src)                      \
    X(drop_ip_unknown_proto) X(drop_ip_no_route) X(drop_ip_too_big)                       \
    X(drop_reasm_evicted) X(drop_reasm_too_big) X(drop_reasm_overlap)                     \
    X(drop_reasm_timeout) X(drop_reasm_bad)                                               \
    /* ICMP */                                                                            \
    X(icmp_rx) X(icmp_echo_rx) X(icmp_echo_tx) X(icmp_unreach_tx) X(icmp_error_rx)        \
    X(icmp_error_ratelimited)                                                             \
    X(drop_icmp_truncated) X(drop_icmp_bad_checksum) X(drop_icmp_unhandled)               \
    X(drop_icmp_broadcast_echo)                                                           \
    /* UDP */                                                                             \
    X(udp_rx) X(udp_tx) X(drop_udp_truncated) X(drop_udp_malformed)                       \
    X(drop_udp_bad_checksum) X(drop_udp_no_port) X(drop_udp_rx_dropped)                   \
    /* TCP: text on a SYN, ICMP errors, path MTU, keepalive (tcp_syntext/icmp/keepalive.c) */ \
    X(tcp_syn_text_queued)                                                                \
    X(tcp_icmp_rx) X(tcp_icmp_soft_error) X(tcp_icmp_aborted) X(tcp_pmtu_lowered)         \
    X(drop_icmp_bad_quote) X(drop_tcp_icmp_no_conn) X(drop_tcp_icmp_bad_seq)              \
    X(drop_tcp_icmp_pmtu) X(drop_tcp_icmp_ignored)                                        \
    X(tcp_keepalive_probe) X(tcp_keepalive_timeout)                                       \
    /* TCP */                                                                             \
    X(tcp_rx) X(tcp_tx) X(tcp_rst_tx) X(tcp_retransmit) X(tcp_fast_retransmit)            \
    X(tcp_challenge_ack) X(tcp_challenge_ack_limited)                                     \
    X(tcp_conn_opened) X(tcp_conn_closed) X(tcp_conn_reset)                               \
    X(tcp_time_wait) X(tcp_time_wait_reused) X(tcp_time_wait_expired)                     \
    X(tcp_time_wait_evicted) X(tcp_syncookie_sent) X(tcp_syncookie_ok)                    \
    X(drop_tcp_truncated) X(drop_tcp_malformed) X(drop_tcp_bad_checksum)                  \
    X(drop_tcp_bad_flags) X(drop_tcp_out_of_window) X(drop_tcp_backlog_full)              \
    X(drop_tcp_table_full) X(drop_tcp_no_memory) X(drop_tcp_ooo_full) X(drop_tcp_no_port) \
    X(drop_tcp_time_wait_rst) X(drop_tcp_syncookie_bad)                                   \
    /* TCP SACK (RFC 2018, 2883, 6675) and timestamps (RFC 7323) */                      \
    X(tcp_sack_recovery) X(tcp_sack_rescue) X(tcp_sack_bad_block)                         \
    X(tcp_dsack_rx) X(tcp_dsack_tx)                                                       \
    X(drop_tcp_paws) X(drop_tcp_no_timestamp)

enum sp_stat {
#define SP_STAT_ENUM(name) SP_STAT_##name,
    SP_STATS_MAP(SP_STAT_ENUM)
#undef SP_STAT_ENUM
    SP_STAT_COUNT
};

struct sp_stats {
    uint64_t v[SP_STAT_COUNT];
};

/* The counter's name as printed ("drop_ip_bad_checksum"). */
const char *sp_stat_name(enum sp_stat s);

#endif
