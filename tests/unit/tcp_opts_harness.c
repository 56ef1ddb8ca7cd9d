/* Segments with TCP options for the SACK and timestamp tests (tcp_opts_harness.h). */
#include "tcp_opts_harness.h"

void pk_send(struct th *t, sp_time_t now, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t win,
             const void *data, size_t len, struct pk_opts o)
{
    struct sp_tcp_repr r;
    memset(&r, 0, sizeof r);
    r.src_port = PEER_PORT;
    r.dst_port = US_PORT;
    r.seq = PEER_ISN + seq;
    r.ack = (flags & SP_TCP_ACK) ? t->iss + ack : 0;
    r.flags = flags;
    r.window = win;
    r.wscale = -1;
    r.has_timestamp = o.ts;
    r.ts_val = o.tsval;
    r.ts_ecr = o.tsecr;
    r.sack_n = o.nsack;
    for (unsigned i = 0; i < o.nsack; i++)
        r.sack[i] = (struct sp_tcp_sack_block){t->iss + o.sack[2 * i], t->iss + o.sack[2 * i + 1]};
    r.payload = data;
    r.payload_len = len;
    static uint8_t buf[70000];
    size_t n = sp_tcp_repr_buffer_len(&r);
    assert_true(n <= sizeof buf);
    sp_tcp_repr_emit(&r, PEER_IP, US_IP, buf);
    struct sp_ipv4_repr ip;
    memset(&ip, 0, sizeof ip);
    ip.src = PEER_IP;
    ip.dst = US_IP;
    ip.protocol = SP_IP_PROTO_TCP;
    ip.ttl = 64;
    ip.payload_len = (uint16_t)n;
    t->now = now;
    sp_tcp_input(t->iface->tcp, now, &ip, buf, n);
}

void pk_sack(struct th *t, sp_time_t now, uint32_t ack, unsigned nblocks, ...)
{
    struct pk_opts o = {.nsack = (uint8_t)nblocks};
    va_list ap;
    va_start(ap, nblocks);
    for (unsigned i = 0; i < 2 * nblocks; i++)
        o.sack[i] = va_arg(ap, uint32_t);
    va_end(ap);
    pk_send(t, now, SP_TCP_ACK, 1, ack, 65535, NULL, 0, o);
}

void pk_expect_blocks(const struct out_seg *o, unsigned nblocks, ...)
{
    assert_int_equal(o->tcp.sack_n, nblocks);
    va_list ap;
    va_start(ap, nblocks);
    for (unsigned i = 0; i < nblocks; i++) {
        uint32_t left = va_arg(ap, uint32_t), right = va_arg(ap, uint32_t);
        assert_int_equal(o->tcp.sack[i].left - PEER_ISN, left);
        assert_int_equal(o->tcp.sack[i].right - PEER_ISN, right);
    }
    va_end(ap);
}

void pk_establish_sack(struct th *t)
{
    struct out_seg *s = th_syn(t, T0, (struct seg_opts){.mss = 1460, .wscale = 0, .sack_perm = true});
    assert_true(s->tcp.sack_perm);
    assert_false(s->tcp.has_timestamp);
    th_send(t, T0, SP_TCP_ACK, 1, 1, 65535, NULL, 0);
    assert_non_null(t->conn);
    assert_true(t->conn->sack.ok);
    th_expect_nothing(t);
}

uint32_t pk_establish_ts(struct th *t, bool sack, uint32_t tsval)
{
    struct out_seg *s = th_syn(t, T0, (struct seg_opts){.mss = 1460, .wscale = 0, .sack_perm = sack, .ts = true});
    assert_true(s->tcp.has_timestamp);
    assert_int_equal(s->tcp.ts_ecr, 12345);
    uint32_t ours = s->tcp.ts_val;
    pk_send(t, T0, SP_TCP_ACK, 1, 1, 65535, NULL, 0, (struct pk_opts){.ts = true, .tsval = tsval, .tsecr = ours});
    assert_non_null(t->conn);
    assert_true(t->conn->ts.ok);
    th_expect_nothing(t);
    return ours;
}
