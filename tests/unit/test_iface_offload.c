/* Device offloads through the real interface, on a memory device that carries virtio-style
 * metadata: the checksum rules a NIC driver applies (NEEDS_CSUM and DATA_VALID are trusted, a bad
 * checksum without them is dropped and counted), a TCPv4 super-segment taken as one segment with
 * one ACK, TCP sending super-segments the device (here: the test) cuts, and the pcap writer and
 * fault injector treating super-segments as the wire frames they stand for. */
#include <unistd.h>

#include "iface_harness.h"
#include "slowpath/tcp.h"
#include "slowpath/wire/offload.h"
#include "slowpath/wire/tcp.h"

#define O_PORT 9
#define O_PEER_PORT 40000
#define O_ISN 1000000u
#define O_MSS 1448

struct ofx {
    struct sp_device *dev;   /* the memory device (possibly wrapped: see open_on) */
    struct sp_device *mem;
    struct sp_iface *iface;
    struct sp_tcp *conn;     /* the accepted connection */
    uint32_t our_isn;
    uint8_t f[SP_OFFLOAD_MAX_FRAME];
    uint8_t g[SP_OFFLOAD_MAX_FRAME];
};

static void on_accept(struct sp_tcp *l, struct sp_tcp *c)
{
    struct ofx *x = sp_tcp_get_data(l);
    x->conn = c;
}

static struct ofx *open_on(struct sp_device *dev, struct sp_device *mem)
{
    struct ofx *x = test_calloc(1, sizeof *x);
    assert_non_null(x);
    x->dev = dev;
    x->mem = mem;
    struct sp_iface_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.mac = H_MAC_US;
    cfg.ip = H_IP_US;
    cfg.prefix_len = 24;
    x->iface = sp_iface_new(&cfg, dev, H_T0);
    assert_non_null(x->iface);
    sp_tcp_set_timestamps(x->iface, false);   /* a 20-byte header: the arithmetic stays plain */
    struct sp_frame_meta m;
    assert_true(sp_mem_take_meta(mem, x->f, sizeof x->f, &m) > 0);   /* the gratuitous ARP */
    struct sp_tcp *l;
    assert_int_equal(sp_tcp_listen(x->iface, O_PORT, 0, on_accept, x, &l), 0);
    return x;
}

static struct ofx *open_offload(void)
{
    struct sp_device *mem = sp_mem_open_offload(SP_MAX_MTU, 64, SP_OFFLOAD_CSUM | SP_OFFLOAD_TSO4);
    assert_non_null(mem);
    return open_on(mem, mem);
}

static void close_ofx(struct ofx *x)
{
    sp_iface_free(x->iface);
    sp_device_close(x->dev);
    test_free(x);
}

/* A segment from the peer: checksum complete (csum 0), partial (1: the pseudo-header sum, as a
 * NEEDS_CSUM frame carries it) or wrong (2). */
static size_t peer_seg_win(uint8_t *f, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
                           const uint8_t *data, size_t len, int csum, uint16_t mss, uint16_t window)
{
    struct sp_tcp_repr r = {.src_port = O_PEER_PORT, .dst_port = dport, .seq = seq, .ack = ack, .flags = flags,
                            .window = window, .wscale = -1, .payload = data, .payload_len = len};
    if (flags & SP_TCP_SYN)
        r.mss = mss;
    size_t tcp_len = sp_tcp_repr_buffer_len(&r);
    uint8_t *seg = f + SP_ETH_HDR_LEN + SP_IPV4_MIN_HDR_LEN;
    if (csum == 1)
        sp_tcp_repr_emit_partial(&r, H_IP_PEER, H_IP_US, seg);
    else
        sp_tcp_repr_emit(&r, H_IP_PEER, H_IP_US, seg);
    if (csum == 2)
        seg[SP_TCP_CSUM_OFFSET] ^= 0x5a;
    h_eth(f, H_MAC_PEER, H_MAC_US, SP_ETHERTYPE_IPV4);
    struct sp_ipv4_repr ip = h_ip(H_IP_PEER, H_IP_US, SP_IP_PROTO_TCP, tcp_len);
    ip.dont_frag = true;
    sp_ipv4_repr_emit(&ip, f + SP_ETH_HDR_LEN);
    return SP_ETH_HDR_LEN + SP_IPV4_MIN_HDR_LEN + tcp_len;
}

static size_t peer_seg(uint8_t *f, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags, const uint8_t *data,
                       size_t len, int csum)
{
    return peer_seg_win(f, dport, seq, ack, flags, data, len, csum, O_MSS, 65535);
}

static const struct sp_frame_meta needs_csum = {
    .flags = SP_FRAME_NEEDS_CSUM, .csum_start = SP_ETH_HDR_LEN + SP_IPV4_MIN_HDR_LEN, .csum_offset = SP_TCP_CSUM_OFFSET};

static void feed(struct ofx *x, sp_time_t now, size_t len, const struct sp_frame_meta *m)
{
    assert_int_equal(sp_mem_inject_meta(x->mem, x->f, len, m), 0);
    assert_true(sp_iface_poll_device(x->iface, now, 64) >= 1);
}

/* Takes the next sent frame and parses its TCP segment (checksum left to the caller). */
static size_t take_seg(struct ofx *x, struct sp_frame_meta *m, struct sp_tcp_repr *r)
{
    int n = sp_mem_take_meta(x->mem, x->g, sizeof x->g, m);
    assert_true(n > 0);
    struct sp_tcp_view v;
    size_t l4 = SP_ETH_HDR_LEN + SP_IPV4_MIN_HDR_LEN;
    struct sp_ipv4_view ipv;
    assert_int_equal(sp_ipv4_view_init(&ipv, x->g + SP_ETH_HDR_LEN, (size_t)n - SP_ETH_HDR_LEN), 0);
    assert_int_equal(sp_tcp_view_init(&v, x->g + l4, sp_ipv4_payload_len(&ipv)), 0);
    assert_int_equal(sp_tcp_repr_parse_unchecked(&v, r), 0);
    return (size_t)n;
}

/* The handshake with the listener: SYN in, SYN-ACK out, ACK in. */
static void establish(struct ofx *x)
{
    feed(x, H_T0, peer_seg(x->f, O_PORT, O_ISN, 0, SP_TCP_SYN, NULL, 0, 0), NULL);
    struct sp_frame_meta m;
    struct sp_tcp_repr r;
    take_seg(x, &m, &r);
    assert_int_equal(r.flags, SP_TCP_SYN | SP_TCP_ACK);
    x->our_isn = r.seq;
    feed(x, H_T0 + 1, peer_seg(x->f, O_PORT, O_ISN + 1, x->our_isn + 1, SP_TCP_ACK, NULL, 0, 0), NULL);
    assert_non_null(x->conn);
    assert_int_equal(sp_tcp_get_state(x->conn), SP_TCP_ESTABLISHED);
    assert_int_equal(sp_mem_pending_tx(x->mem), 0);
}

/* A segment to a closed port earns a reset when its checksum holds: complete and right, partial
 * with NEEDS_CSUM, or vouched for by DATA_VALID even when the field is garbage (the device checked
 * it). Wrong without either flag: dropped and counted, as without offloads. */
static void test_checksum_rules(void **state)
{
    (void)state;
    struct ofx *x = open_offload();
    const struct sp_stats *st = sp_iface_stats(x->iface);
    struct sp_frame_meta m;
    struct sp_tcp_repr r;

    feed(x, H_T0, peer_seg(x->f, 5555, O_ISN, 0, SP_TCP_SYN, NULL, 0, 2), NULL);
    assert_int_equal(st->v[SP_STAT_drop_tcp_bad_checksum], 1);
    assert_int_equal(sp_mem_pending_tx(x->mem), 0);

    feed(x, H_T0, peer_seg(x->f, 5555, O_ISN, 0, SP_TCP_SYN, NULL, 0, 1), &needs_csum);
    take_seg(x, &m, &r);
    assert_true(r.flags & SP_TCP_RST);

    struct sp_frame_meta valid = {.flags = SP_FRAME_DATA_VALID};
    feed(x, H_T0, peer_seg(x->f, 5555, O_ISN, 0, SP_TCP_SYN, NULL, 0, 2), &valid);
    take_seg(x, &m, &r);
    assert_true(r.flags & SP_TCP_RST);
    assert_int_equal(st->v[SP_STAT_drop_tcp_bad_checksum], 1);
    assert_int_equal(st->v[SP_STAT_rx_csum_offloaded], 2);

    /* A plain frame with a partial checksum (no flag) is just a bad checksum. */
    feed(x, H_T0, peer_seg(x->f, 5555, O_ISN, 0, SP_TCP_SYN, NULL, 0, 1), NULL);
    assert_int_equal(st->v[SP_STAT_drop_tcp_bad_checksum], 2);
    assert_int_equal(sp_mem_pending_tx(x->mem), 0);
    close_ofx(x);
}

/* Metadata the device was not allowed to give (a super-segment on a device without TSO) is
 * dropped and counted, never parsed. */
static void test_unexpected_metadata_dropped(void **state)
{
    (void)state;
    struct sp_device *mem = sp_mem_open_offload(SP_MAX_MTU, 64, SP_OFFLOAD_CSUM);
    struct ofx *x = open_on(mem, mem);
    struct sp_frame_meta gso = needs_csum;
    gso.gso_type = SP_GSO_TCPV4;
    gso.gso_size = O_MSS;
    feed(x, H_T0, peer_seg(x->f, O_PORT, O_ISN, 0, SP_TCP_SYN, NULL, 0, 1), &gso);
    assert_int_equal(sp_iface_stats(x->iface)->v[SP_STAT_drop_offload_bad_meta], 1);
    assert_int_equal(sp_mem_pending_tx(x->mem), 0);
    close_ofx(x);
}

/* A 30,000-byte super-segment is one segment for TCP: all of it readable, one ACK for all of it. */
static void test_super_segment_in(void **state)
{
    (void)state;
    struct ofx *x = open_offload();
    establish(x);
    static uint8_t data[30000], got[30000];
    h_fill(data, sizeof data, 3);
    struct sp_frame_meta gso = needs_csum;
    gso.gso_type = SP_GSO_TCPV4;
    gso.gso_size = O_MSS;
    feed(x, H_T0 + 2, peer_seg(x->f, O_PORT, O_ISN + 1, x->our_isn + 1, SP_TCP_ACK | SP_TCP_PSH, data, sizeof data, 1),
         &gso);
    assert_int_equal(sp_iface_stats(x->iface)->v[SP_STAT_rx_super_segments], 1);
    assert_int_equal(sp_tcp_recv(x->conn, got, sizeof got), (long)sizeof data);
    assert_memory_equal(got, data, sizeof data);
    struct sp_frame_meta m;
    struct sp_tcp_repr r;
    take_seg(x, &m, &r);
    assert_int_equal(r.flags, SP_TCP_ACK);
    assert_int_equal(r.ack, O_ISN + 1 + sizeof data);
    assert_int_equal(m.gso_type, SP_GSO_NONE);
    /* The frames a capture would count: the 21 segments it stands for. */
    assert_int_equal(sp_iface_frame_count(x->iface).received, 2 + (sizeof data + O_MSS - 1) / O_MSS);
    assert_int_equal(sp_mem_pending_tx(x->mem), 0);
    close_ofx(x);
}

/* TCP sends what the window allows as one super-segment: gso_size the MSS, a partial checksum that
 * completes to the right one, and cut the way the kernel cuts it, the pieces carry the bytes in
 * order in frames no larger than the MTU, with PSH on the last piece only. */
static void test_super_segment_out(void **state)
{
    (void)state;
    struct ofx *x = open_offload();
    establish(x);
    static uint8_t data[20000];
    h_fill(data, sizeof data, 5);
    assert_int_equal(sp_tcp_send(x->conn, data, sizeof data), (long)sizeof data);
    struct sp_frame_meta m;
    struct sp_tcp_repr r;
    size_t len = take_seg(x, &m, &r);
    uint32_t cwnd = 10u * O_MSS;   /* the initial window (RFC 6928) of this MSS */
    assert_int_equal(m.gso_type, SP_GSO_TCPV4);
    assert_int_equal(m.gso_size, O_MSS);
    assert_true(m.flags & SP_FRAME_NEEDS_CSUM);
    assert_int_equal(r.payload_len, cwnd);
    assert_int_equal(r.seq, x->our_isn + 1);
    assert_int_equal(sp_iface_stats(x->iface)->v[SP_STAT_tx_super_segments], 1);

    struct sp_frame_meta done = m;
    assert_int_equal(sp_offload_csum_complete(x->g, len, &done), 0);
    struct sp_tcp_view v;
    assert_int_equal(sp_tcp_view_init(&v, x->g + SP_ETH_HDR_LEN + SP_IPV4_MIN_HDR_LEN,
                                      len - SP_ETH_HDR_LEN - SP_IPV4_MIN_HDR_LEN), 0);
    assert_int_equal(sp_tcp_repr_parse(&v, H_IP_US, H_IP_PEER, &r), 0);

    struct sp_offload_cut cut;
    assert_int_equal(sp_offload_cut_init(&cut, x->g, len, &m), 0);
    static uint8_t piece[SP_MAX_FRAME];
    size_t off = 0;
    unsigned n = 0;
    int plen;
    while ((plen = sp_offload_cut_next(&cut, piece, sizeof piece)) > 0) {
        struct h_ip_out o;
        h_parse_ip(piece, (size_t)plen, &o);
        assert_true((size_t)plen <= SP_MAX_FRAME);
        struct sp_tcp_view pv;
        assert_int_equal(sp_tcp_view_init(&pv, o.payload, o.payload_len), 0);
        struct sp_tcp_repr pr;
        assert_int_equal(sp_tcp_repr_parse(&pv, H_IP_US, H_IP_PEER, &pr), 0);
        assert_int_equal(pr.seq, x->our_isn + 1 + off);
        assert_memory_equal(pr.payload, data + off, pr.payload_len);
        off += pr.payload_len;
        n++;
        if (off < cwnd)
            assert_false(pr.flags & SP_TCP_PSH);   /* only where the super-segment ended */
    }
    assert_int_equal(off, cwnd);
    assert_int_equal(n, 10);
    assert_int_equal(sp_mem_pending_tx(x->mem), 0);
    /* Counted as the ten frames a capture records. */
    assert_int_equal(sp_iface_frame_count(x->iface).sent, 2 + 10);
    close_ofx(x);
}

/* Found by fuzz_frames with offloads (corpus/frames/offload_small_mss_whole_segment.bin): with a
 * peer's MSS of 536 and a window of 1100, two segments' worth of text fits in one frame, and went
 * out as one 1072-byte segment, twice what the peer takes. It must go as a super-segment cut at
 * the MSS. */
static void test_small_mss_fits_one_frame(void **state)
{
    (void)state;
    struct ofx *x = open_offload();
    feed(x, H_T0, peer_seg_win(x->f, O_PORT, O_ISN, 0, SP_TCP_SYN, NULL, 0, 0, 536, 1100), NULL);
    struct sp_frame_meta m;
    struct sp_tcp_repr r;
    take_seg(x, &m, &r);
    x->our_isn = r.seq;
    feed(x, H_T0 + 1, peer_seg_win(x->f, O_PORT, O_ISN + 1, x->our_isn + 1, SP_TCP_ACK, NULL, 0, 0, 0, 1100), NULL);
    assert_non_null(x->conn);
    static uint8_t data[4000];
    h_fill(data, sizeof data, 7);
    assert_int_equal(sp_tcp_send(x->conn, data, sizeof data), (long)sizeof data);
    take_seg(x, &m, &r);
    assert_int_equal(r.payload_len, 2 * 536);
    assert_int_equal(m.gso_type, SP_GSO_TCPV4);
    assert_int_equal(m.gso_size, 536);
    assert_int_equal(sp_mem_pending_tx(x->mem), 0);
    close_ofx(x);
}

/* A pcap writer records a super-segment as the MSS-sized frames it stands for, with valid
 * checksums: reading the capture back gives plain, wire-sized frames only. */
static void test_pcap_writer_cuts(void **state)
{
    (void)state;
    char path[] = "/tmp/sp-offload-XXXXXX.pcap";
    int fd = mkstemps(path, 5);
    assert_true(fd >= 0);
    close(fd);
    struct sp_device *mem = sp_mem_open_offload(SP_MAX_MTU, 64, SP_OFFLOAD_CSUM | SP_OFFLOAD_TSO4);
    struct sp_device *w = sp_pcap_writer_open(mem, path, SP_PCAP_RX | SP_PCAP_TX, NULL, 0);
    assert_non_null(w);
    assert_int_equal(w->offloads, mem->offloads);
    struct ofx *x = open_on(w, mem);
    establish(x);
    static uint8_t data[20000];
    h_fill(data, sizeof data, 7);
    assert_int_equal(sp_tcp_send(x->conn, data, sizeof data), (long)sizeof data);
    struct sp_frame_count fc = sp_iface_frame_count(x->iface);
    sp_pcap_writer_flush(w);
    assert_int_equal(sp_pcap_writer_count(w), fc.received + fc.sent);
    close_ofx(x);

    struct sp_device *rd = sp_pcap_replay_open(path, SP_MAX_MTU, NULL, 0);
    assert_non_null(rd);
    static uint8_t f[SP_OFFLOAD_MAX_FRAME];
    uint64_t frames = 0;
    size_t text = 0;
    int n;
    while ((n = sp_device_recv(rd, f, sizeof f)) > 0) {
        frames++;
        assert_true((size_t)n <= SP_MAX_FRAME);
        struct h_ip_out o;
        struct sp_eth_view eth;
        assert_int_equal(sp_eth_view_init(&eth, f, (size_t)n), 0);
        if (sp_eth_type(&eth) != SP_ETHERTYPE_IPV4)
            continue;   /* the gratuitous ARP */
        struct sp_ipv4_view ipv;
        struct sp_ipv4_repr ip;
        assert_int_equal(sp_ipv4_view_init(&ipv, sp_eth_payload(&eth), sp_eth_payload_len(&eth)), 0);
        assert_int_equal(sp_ipv4_repr_parse(&ipv, &ip), 0);
        if (ip.src == H_IP_US)
            h_parse_ip(f, (size_t)n, &o);
        struct sp_tcp_view v;
        struct sp_tcp_repr r;
        assert_int_equal(sp_tcp_view_init(&v, sp_ipv4_payload(&ipv), ip.payload_len), 0);
        assert_int_equal(sp_tcp_repr_parse(&v, ip.src, ip.dst, &r), 0);
        if (ip.src == H_IP_US)
            text += r.payload_len;
    }
    assert_int_equal(n, SP_EOF);
    assert_int_equal(frames, fc.received + fc.sent);
    assert_int_equal(text, 10u * O_MSS);
    sp_device_close(rd);
    unlink(path);
}

/* A corrupted super-segment must still be caught: the fault injector completes its checksum and
 * takes the device's word away before it flips a bit, so the stack checks it and drops it. */
static void test_fault_corrupts_whole(void **state)
{
    (void)state;
    struct sp_device *mem = sp_mem_open_offload(SP_MAX_MTU, 64, SP_OFFLOAD_CSUM | SP_OFFLOAD_TSO4);
    struct sp_fault_opts fo = {.corrupt_chance = 1.0, .seed = 3};
    struct sp_device *fd = sp_fault_open(mem, &fo);
    assert_non_null(fd);
    assert_int_equal(fd->offloads, mem->offloads);
    struct sp_iface_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.mac = H_MAC_US;
    cfg.ip = H_IP_US;
    cfg.prefix_len = 24;
    struct sp_iface *iface = sp_iface_new(&cfg, fd, H_T0);
    assert_non_null(iface);
    static uint8_t f[SP_OFFLOAD_MAX_FRAME], data[30000];
    h_fill(data, sizeof data, 9);
    struct sp_frame_meta gso = needs_csum;
    gso.gso_type = SP_GSO_TCPV4;
    gso.gso_size = O_MSS;
    size_t len = peer_seg(f, O_PORT, O_ISN, 0, SP_TCP_ACK, data, sizeof data, 1);
    assert_int_equal(sp_mem_inject_meta(mem, f, len, &gso), 0);
    assert_int_equal(sp_iface_poll_device(iface, H_T0, 64), 1);
    const struct sp_stats *st = sp_iface_stats(iface);
    /* Wherever the bit fell (the IP header or the segment), a check drops the frame, counted. */
    uint64_t drops = 0;
    for (int i = 0; i < SP_STAT_COUNT; i++)
        if (strncmp(sp_stat_name((enum sp_stat)i), "drop_", 5) == 0)
            drops += st->v[i];
    assert_int_equal(drops, 1);
    assert_int_equal(st->v[SP_STAT_rx_csum_offloaded], 0);
    struct sp_fault_stats fs;
    sp_fault_get_stats(fd, &fs);
    assert_int_equal(fs.rx_corrupted, 1);
    sp_iface_free(iface);
    sp_device_close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checksum_rules),
        cmocka_unit_test(test_unexpected_metadata_dropped),
        cmocka_unit_test(test_super_segment_in),
        cmocka_unit_test(test_super_segment_out),
        cmocka_unit_test(test_small_mss_fits_one_frame),
        cmocka_unit_test(test_pcap_writer_cuts),
        cmocka_unit_test(test_fault_corrupts_whole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
