/* Legal authority for the echo reply and the ARP reply: a proposal is valid when it is legal and
 * safe, not when it equals native, and the stack sends what the model chose (TTL, IP
 * identification, DF) or keeps the silence it chose; every departure from native is named in the
 * outcome and counted per field. The safety rules stay: only the asker, only our addresses, only
 * the request's data. Exact authority ignores the legal-only fields. */
#include "decide_harness.h"
#include "iface_internal.h"

/* The ping of test_decide_icmp.c and its native reply (our first IP identifier is 0). */
static const char PING[] =
    "020000000002 020000000001 0800 4500002e123400004001e497c0000201c0000202"
    "08009a8cbeef0007 736c6f77706174682d70696e672d64617461";
static const char PONG[] =
    "020000000001 020000000002 0800 4500002e000000004001f6cbc0000202c0000201"
    "0000a28cbeef0007 736c6f77706174682d70696e672d64617461";
/* The same reply with TTL 200, IP identification 0x4242 and DF, header checksum worked out. */
static const char PONG_CHOSEN[] =
    "020000000001 020000000002 0800 4500002e42424000c801ec88c0000202c0000201"
    "0000a28cbeef0007 736c6f77706174682d70696e672d64617461";
#define PING_IDENT 0xbeef
#define PING_SEQ 7
#define PING_DATA_LEN 18
#define EVIL_IP 0xcb007109u
#define EVIL_MAC ((struct sp_mac){{0x02, 0xee, 0, 0, 0, 0x09}})
#define DEV(name) (1u << SP_DEVIATION_##name)

static void rx_ping(struct harness *h, sp_time_t now)
{
    uint8_t f[H_FRAME_CAP];
    int n = sp_test_hex(PING, f, sizeof f);
    assert_int_equal(n, 60);
    h_rx(h, now, f, (size_t)n);
}

static void rx_ping_seq(struct harness *h, sp_time_t now, uint16_t seq)
{
    uint8_t f[H_FRAME_CAP];
    h_rx(h, now, f, h_ping(f, H_IP_PEER, H_IP_US, PING_IDENT, seq, (const uint8_t *)"slowpath-ping-data", 18));
}

/* The next frame is exactly `hex` (60 bytes). */
static void expect_frame(struct harness *h, const char *hex)
{
    uint8_t f[H_FRAME_CAP], want[H_FRAME_CAP];
    assert_int_equal(sp_test_hex(hex, want, sizeof want), 60);
    assert_int_equal(h_take(h, f), 60);
    assert_memory_equal(f, want, 60);
}

static struct fake *legal_fake(struct harness *h, enum sp_decision_kind kind, enum sp_decision_mode mode)
{
    sp_iface_set_authority(h->iface, SP_AUTHORITY_LEGAL);
    return fake_install(h, kind, mode);
}

static struct sp_decision_proposal echo(uint8_t ttl, int32_t ip_ident, int8_t df)
{
    return (struct sp_decision_proposal){.action = SP_PROPOSE_REPLY, .icmp_dst = H_IP_PEER,
                                         .icmp_ident = PING_IDENT, .icmp_seq = PING_SEQ, .icmp_ttl = ttl,
                                         .icmp_ip_ident = ip_ident, .icmp_df = df};
}

static void fix_sums(uint8_t *d, size_t len)
{
    sp_put16(d + 10, 0);
    sp_put16(d + 10, sp_csum(d, 20));
    sp_put16(d + 22, 0);
    sp_put16(d + 22, sp_csum(d + 20, len - 20));
}

/* A raw reply: the native bytes (from the request) edited by the test, checksums fixed. */
static struct sp_decision_proposal raw_reply(const struct fake_req *r, uint8_t *buf, uint8_t ttl, uint16_t ident,
                                             bool df)
{
    memcpy(buf, r->req.native, r->req.native_len);
    buf[8] = ttl;
    sp_put16(buf + 4, ident);
    buf[6] = df ? 0x40 : 0;
    fix_sums(buf, r->req.native_len);
    return (struct sp_decision_proposal){.action = SP_PROPOSE_REPLY, .raw = true, .raw_bytes = buf,
                                         .raw_len = r->req.native_len};
}

/* --- ICMP ------------------------------------------------------------------------------------- */

/* The request says what the validator will accept; the chosen TTL, identification and DF go out
 * exactly, and the outcome names all three with their values. */
static void test_icmp_structured_choices_on_the_wire(void **state)
{
    struct harness *h = *state;
    struct fake *f = legal_fake(h, SP_DECISION_ICMP, SP_DECIDE_DELEGATE);
    rx_ping(h, 2000);
    h_assert_silent(h);
    const struct sp_decision_request *r = &f->reqs[0].req;
    assert_int_equal(r->authority, SP_AUTHORITY_LEGAL);
    assert_int_equal(r->mtu, SP_MAX_MTU);
    struct sp_decision_proposal p = echo(200, 0x4242, 1);
    assert_int_equal(fake_complete(f, 2001, r->id, 0, &p), 0);
    expect_frame(h, PONG_CHOSEN);
    h_assert_silent(h);
    outcome_is(f, r->id, SP_VERDICT_VALID, 0, SP_ACTION_LLM, true);
    const struct sp_decision_outcome *o = &f->outs[0];
    assert_int_equal(o->deviations, DEV(TTL) | DEV(IP_IDENT) | DEV(DF));
    assert_int_equal(o->chosen.action, SP_PROPOSE_REPLY);
    assert_int_equal(o->chosen.ttl, 200);
    assert_int_equal(o->chosen.ip_ident, 0x4242);
    assert_int_equal(o->chosen.df, 1);
    const struct sp_decision_stats *s = dstats(h, SP_DECISION_ICMP);
    assert_int_equal(s->valid, 1);
    assert_int_equal(s->emitted_llm, 1);
    assert_int_equal(s->deviations[SP_DEVIATION_TTL], 1);
    assert_int_equal(s->deviations[SP_DEVIATION_IP_IDENT], 1);
    assert_int_equal(s->deviations[SP_DEVIATION_DF], 1);
    assert_int_equal(s->deviations[SP_DEVIATION_SILENCE] + s->deviations[SP_DEVIATION_ACTION], 0);

    /* The chosen identification did not use up the stack's: the next reply, left to the stack
     * (ident and DF -1, the host's TTL), is the native one byte for byte, with no deviation. */
    rx_ping(h, 2100);
    p = echo(64, -1, -1);
    assert_int_equal(fake_complete(f, 2101, f->reqs[1].req.id, 0, &p), 0);
    expect_frame(h, PONG);
    assert_int_equal(f->outs[1].deviations, 0);
    assert_int_equal(f->outs[1].chosen.ttl, 64);
    assert_int_equal(f->outs[1].chosen.ip_ident, 0);
    assert_int_equal(s->deviations[SP_DEVIATION_TTL], 1);
    test_free(f);
}

/* Raw: the model's datagram is parsed and its TTL, identification and DF adopted, so what goes
 * out is its bytes exactly (the stack still builds them from the request). */
static void test_icmp_raw_choices_adopted(void **state)
{
    struct harness *h = *state;
    struct fake *f = legal_fake(h, SP_DECISION_ICMP, SP_DECIDE_DELEGATE);
    rx_ping(h, 2000);
    uint8_t raw[SP_DECISION_MAX_PACKET];
    struct sp_decision_proposal p = raw_reply(&f->reqs[0], raw, 32, 0x7777, true);
    assert_int_equal(fake_complete(f, 2001, f->reqs[0].req.id, 0, &p), 0);
    uint8_t fr[H_FRAME_CAP];
    struct h_ip_out o;
    h_take_ip(h, fr, &o);
    assert_int_equal(o.ip.ttl, 32);
    assert_int_equal(o.ip.ident, 0x7777);
    assert_true(o.ip.dont_frag);
    assert_memory_equal(fr + SP_ETH_HDR_LEN, raw, p.raw_len);
    assert_int_equal(f->outs[0].deviations, DEV(TTL) | DEV(IP_IDENT) | DEV(DF));
    assert_int_equal(f->outs[0].chosen.ttl, 32);
    assert_int_equal(f->outs[0].chosen.ip_ident, 0x7777);

    /* DF clear and the host's TTL: only the identification departs. */
    rx_ping_seq(h, 2100, PING_SEQ + 1);
    p = raw_reply(&f->reqs[1], raw, 64, 0x0101, false);
    assert_int_equal(fake_complete(f, 2101, f->reqs[1].req.id, 0, &p), 0);
    h_take_ip(h, fr, &o);
    assert_false(o.ip.dont_frag);
    assert_int_equal(o.ip.ident, 0x0101);
    assert_int_equal(f->outs[1].deviations, DEV(IP_IDENT));
    test_free(f);
}

/* Not answering is legal: nothing is sent, the request is over, and the silence is a deviation. */
static void test_icmp_silence(void **state)
{
    struct harness *h = *state;
    struct fake *f = legal_fake(h, SP_DECISION_ICMP, SP_DECIDE_DELEGATE);
    rx_ping(h, 2000);
    struct sp_decision_proposal p = {.action = SP_PROPOSE_DROP};
    assert_int_equal(fake_complete(f, 2001, f->reqs[0].req.id, 0, &p), 0);
    h_assert_silent(h);
    outcome_is(f, f->reqs[0].req.id, SP_VERDICT_VALID, 0, SP_ACTION_LLM, false);
    assert_int_equal(f->outs[0].deviations, DEV(SILENCE));
    assert_int_equal(f->outs[0].chosen.action, SP_PROPOSE_DROP);
    assert_int_equal(f->outs[0].frame_sent, 0);
    const struct sp_decision_stats *s = dstats(h, SP_DECISION_ICMP);
    assert_int_equal(s->valid, 1);
    assert_int_equal(s->emitted_llm, 1);
    assert_int_equal(s->fallback + s->dropped, 0);
    assert_int_equal(s->deviations[SP_DEVIATION_SILENCE], 1);
    assert_int_equal(h_stat(h, SP_STAT_icmp_echo_tx), 0);
    /* A raw answer may say drop too. */
    rx_ping(h, 2100);
    p = (struct sp_decision_proposal){.action = SP_PROPOSE_DROP, .raw = true};
    assert_int_equal(fake_complete(f, 2101, f->reqs[1].req.id, 0, &p), 0);
    h_assert_silent(h);
    assert_int_equal(f->outs[1].verdict, SP_VERDICT_VALID);
    assert_int_equal(s->deviations[SP_DEVIATION_SILENCE], 2);
    test_free(f);
}

/* What stays refused under legal authority, with its verdict, and the native reply instead. */
enum icmp_bad {
    B_TTL0, B_IDENT_HIGH, B_IDENT_LOW, B_DF, B_ICMP_IDENT, B_SEQ, B_DST, B_RAW_TTL0, B_RAW_PAYLOAD, B_RAW_IDENT,
    B_RAW_SEQ, B_RAW_DST, B_RAW_SRC, B_RAW_RESERVED, B_RAW_TOS, B_COUNT
};

static const enum sp_verdict icmp_expected[B_COUNT] = {
    [B_TTL0] = SP_VERDICT_HEADER, [B_IDENT_HIGH] = SP_VERDICT_HEADER, [B_IDENT_LOW] = SP_VERDICT_HEADER,
    [B_DF] = SP_VERDICT_HEADER, [B_ICMP_IDENT] = SP_VERDICT_IDENT, [B_SEQ] = SP_VERDICT_SEQUENCE,
    [B_DST] = SP_VERDICT_ADDRESS, [B_RAW_TTL0] = SP_VERDICT_HEADER, [B_RAW_PAYLOAD] = SP_VERDICT_PAYLOAD,
    [B_RAW_IDENT] = SP_VERDICT_IDENT, [B_RAW_SEQ] = SP_VERDICT_SEQUENCE, [B_RAW_DST] = SP_VERDICT_ADDRESS,
    [B_RAW_SRC] = SP_VERDICT_ADDRESS, [B_RAW_RESERVED] = SP_VERDICT_HEADER, [B_RAW_TOS] = SP_VERDICT_HEADER,
};

static struct sp_decision_proposal icmp_bad(const struct fake_req *r, enum icmp_bad b, uint8_t *raw)
{
    struct sp_decision_proposal p = echo(100, 5, 0);
    switch (b) {
    case B_TTL0: p.icmp_ttl = 0; return p;
    case B_IDENT_HIGH: p.icmp_ip_ident = 0x10000; return p;
    case B_IDENT_LOW: p.icmp_ip_ident = -2; return p;
    case B_DF: p.icmp_df = 2; return p;
    case B_ICMP_IDENT: p.icmp_ident ^= 1; return p;
    case B_SEQ: p.icmp_seq++; return p;
    case B_DST: p.icmp_dst = EVIL_IP; return p;
    default: break;
    }
    p = raw_reply(r, raw, 100, 5, false);
    switch (b) {
    case B_RAW_TTL0: raw[8] = 0; break;
    case B_RAW_PAYLOAD: raw[28] ^= 0x20; break;
    case B_RAW_IDENT: sp_put16(raw + 24, 0xbeee); break;
    case B_RAW_SEQ: sp_put16(raw + 26, PING_SEQ + 1); break;
    case B_RAW_DST: sp_put32(raw + 16, EVIL_IP); break;
    case B_RAW_SRC: sp_put32(raw + 12, 0xc0000203u); break;
    case B_RAW_RESERVED: raw[6] = 0x80; break;
    case B_RAW_TOS: raw[1] = 0x10; break;
    default: break;
    }
    fix_sums(raw, p.raw_len);
    return p;
}

static void test_icmp_refused_in_legal(void **state)
{
    (void)state;
    for (int b = 0; b < B_COUNT; b++) {
        struct harness *h = h_open();
        struct fake *f = legal_fake(h, SP_DECISION_ICMP, SP_DECIDE_DELEGATE);
        rx_ping(h, 2000);
        uint8_t raw[SP_DECISION_MAX_PACKET];
        struct sp_decision_proposal p = icmp_bad(&f->reqs[0], (enum icmp_bad)b, raw);
        assert_int_equal(sp_validate_proposal(&f->reqs[0].req, &p), icmp_expected[b]);
        assert_int_equal(fake_complete(f, 2001, f->reqs[0].req.id, 0, &p), 0);
        outcome_is(f, f->reqs[0].req.id, icmp_expected[b], 0, SP_ACTION_FALLBACK, true);
        assert_int_equal(f->outs[0].deviations, 0);
        expect_frame(h, PONG);
        h_assert_silent(h);
        const struct sp_decision_stats *s = dstats(h, SP_DECISION_ICMP);
        assert_int_equal(s->verdicts[icmp_expected[b]], 1);
        for (int d = 0; d < SP_DEVIATION_COUNT; d++)
            assert_int_equal(s->deviations[d], 0);
        test_free(f);
        h_close(h);
    }
}

/* DF on a reply that cannot cross our link unfragmented would make it unsendable: refused. */
static void test_icmp_df_must_fit_the_mtu(void **state)
{
    struct harness *h = *state;
    struct fake *f = legal_fake(h, SP_DECISION_ICMP, SP_DECIDE_DELEGATE);
    rx_ping(h, 2000);
    struct sp_decision_request r = f->reqs[0].req;
    struct sp_decision_proposal p = echo(64, -1, 1);
    r.mtu = 46; /* exactly the reply */
    assert_int_equal(sp_validate_proposal(&r, &p), SP_VERDICT_VALID);
    r.mtu = 45;
    assert_int_equal(sp_validate_proposal(&r, &p), SP_VERDICT_HEADER);
    p.icmp_df = 0;
    assert_int_equal(sp_validate_proposal(&r, &p), SP_VERDICT_VALID);
    uint8_t raw[SP_DECISION_MAX_PACKET];
    p = raw_reply(&f->reqs[0], raw, 64, 1, true);
    assert_int_equal(sp_validate_proposal(&r, &p), SP_VERDICT_HEADER);
    test_free(f);
}

/* Exact is what it was: the legal-only fields are ignored, a TTL of its own and silence are
 * refused, and no deviation is ever reported. */
static void test_icmp_exact_unchanged(void **state)
{
    struct harness *h = *state;
    struct fake *f = fake_install(h, SP_DECISION_ICMP, SP_DECIDE_DELEGATE);
    rx_ping(h, 2000);
    assert_int_equal(f->reqs[0].req.authority, SP_AUTHORITY_EXACT);
    struct sp_decision_proposal p = echo(64, 0x4242, 1);
    assert_int_equal(fake_complete(f, 2001, f->reqs[0].req.id, 0, &p), 0);
    expect_frame(h, PONG);
    outcome_is(f, f->reqs[0].req.id, SP_VERDICT_VALID, 0, SP_ACTION_LLM, true);
    assert_int_equal(f->outs[0].deviations, 0);
    assert_int_equal(f->outs[0].chosen.ttl, 0); /* nothing adopted, nothing reported */
    assert_int_equal(f->outs[0].chosen.wscale, 0);
    const struct sp_decision_request *r = &f->reqs[0].req;
    p = echo(200, -1, -1);
    assert_int_equal(sp_validate_proposal(r, &p), SP_VERDICT_HEADER);
    p = (struct sp_decision_proposal){.action = SP_PROPOSE_DROP};
    assert_int_equal(sp_validate_proposal(r, &p), SP_VERDICT_ACTION);
    for (int d = 0; d < SP_DEVIATION_COUNT; d++)
        assert_int_equal(dstats(h, SP_DECISION_ICMP)->deviations[d], 0);
    /* The authority is the one set when the request was asked. */
    rx_ping_seq(h, 2100, 50);
    sp_iface_set_authority(h->iface, SP_AUTHORITY_LEGAL);
    p = echo(200, -1, -1);
    p.icmp_seq = 50;
    assert_int_equal(fake_complete(f, 2101, f->reqs[1].req.id, 0, &p), 0);
    outcome_is(f, f->reqs[1].req.id, SP_VERDICT_HEADER, 0, SP_ACTION_FALLBACK, true);
    test_free(f);
}

/* Shadow with legal authority: graded valid or not, and matching native or not; the IP
 * identification alone never makes a mismatch. Nothing of the proposal is sent. */
static void test_icmp_shadow_legal(void **state)
{
    struct harness *h = *state;
    struct fake *f = legal_fake(h, SP_DECISION_ICMP, SP_DECIDE_SHADOW);
    rx_ping_seq(h, 2000, 1);
    rx_ping_seq(h, 2000, 2);
    rx_ping_seq(h, 2000, 3);
    rx_ping_seq(h, 2000, 4);
    assert_int_equal(h_pending(h), 4);
    h_drain(h);
    struct sp_decision_proposal p = echo(64, 0x1111, 0);
    p.icmp_seq = 1;
    assert_int_equal(fake_complete(f, 2001, f->reqs[0].req.id, 0, &p), 0);
    assert_true(f->outs[0].matches_native);
    assert_int_equal(f->outs[0].deviations, DEV(IP_IDENT));
    p = echo(128, -1, -1);
    p.icmp_seq = 2;
    assert_int_equal(fake_complete(f, 2001, f->reqs[1].req.id, 0, &p), 0);
    assert_false(f->outs[1].matches_native);
    assert_int_equal(f->outs[1].verdict, SP_VERDICT_VALID);
    assert_int_equal(f->outs[1].deviations, DEV(TTL));
    p = (struct sp_decision_proposal){.action = SP_PROPOSE_DROP};
    assert_int_equal(fake_complete(f, 2001, f->reqs[2].req.id, 0, &p), 0);
    assert_false(f->outs[2].matches_native);
    assert_int_equal(f->outs[2].deviations, DEV(SILENCE));
    p = echo(0, -1, -1);
    p.icmp_seq = 4;
    assert_int_equal(fake_complete(f, 2001, f->reqs[3].req.id, 0, &p), 0);
    outcome_is(f, f->reqs[3].req.id, SP_VERDICT_HEADER, 0, SP_ACTION_SHADOW, false);
    h_assert_silent(h);
    const struct sp_decision_stats *s = dstats(h, SP_DECISION_ICMP);
    assert_int_equal(s->shadow_match, 1);
    assert_int_equal(s->shadow_mismatch, 3);
    assert_int_equal(s->deviations[SP_DEVIATION_TTL], 1);
    assert_int_equal(s->deviations[SP_DEVIATION_SILENCE], 1);
    assert_int_equal(s->deviations[SP_DEVIATION_IP_IDENT], 1);
    assert_int_equal(s->emitted_llm, 0);
    test_free(f);
}

/* --- ARP -------------------------------------------------------------------------------------- */

static void rx_arp_request(struct harness *h, sp_time_t now)
{
    uint8_t f[H_FRAME_CAP];
    h_rx(h, now, f, h_arp_request(f, H_MAC_PEER, H_IP_PEER, H_IP_US));
}

static struct sp_decision_proposal arp_reply(void)
{
    return (struct sp_decision_proposal){
        .action = SP_PROPOSE_REPLY,
        .arp = {.op = SP_ARP_OP_REPLY, .sha = H_MAC_US, .spa = H_IP_US, .tha = H_MAC_PEER, .tpa = H_IP_PEER},
    };
}

static void expect_arp_reply(struct harness *h)
{
    uint8_t f[H_FRAME_CAP], want[H_FRAME_CAP];
    size_t n = h_arp(want, H_MAC_PEER, SP_ARP_OP_REPLY, H_MAC_US, H_IP_US, H_MAC_PEER, H_IP_PEER);
    assert_int_equal(h_take(h, f), n);
    assert_memory_equal(f, want, n);
}

/* A reply for our address with our MAC, or none at all; each one departing only by silence. */
static void test_arp_reply_or_silence(void **state)
{
    struct harness *h = *state;
    struct fake *f = legal_fake(h, SP_DECISION_ARP, SP_DECIDE_DELEGATE);
    rx_arp_request(h, 2000);
    struct sp_decision_proposal p = arp_reply();
    assert_int_equal(fake_complete(f, 2001, f->reqs[0].req.id, 0, &p), 0);
    expect_arp_reply(h);
    outcome_is(f, f->reqs[0].req.id, SP_VERDICT_VALID, 0, SP_ACTION_LLM, true);
    assert_int_equal(f->outs[0].deviations, 0);

    rx_arp_request(h, 3000);
    p = (struct sp_decision_proposal){.action = SP_PROPOSE_DROP};
    assert_int_equal(fake_complete(f, 3001, f->reqs[1].req.id, 0, &p), 0);
    h_assert_silent(h);
    outcome_is(f, f->reqs[1].req.id, SP_VERDICT_VALID, 0, SP_ACTION_LLM, false);
    assert_int_equal(f->outs[1].deviations, DEV(SILENCE));

    /* Raw: the frame as a model writes it, or a raw drop. */
    rx_arp_request(h, 4000);
    uint8_t raw[SP_ETH_MIN_FRAME];
    h_arp(raw, H_MAC_PEER, SP_ARP_OP_REPLY, H_MAC_US, H_IP_US, H_MAC_PEER, H_IP_PEER);
    p = (struct sp_decision_proposal){.action = SP_PROPOSE_REPLY, .raw = true, .raw_bytes = raw,
                                      .raw_len = SP_ETH_HDR_LEN + SP_ARP_LEN};
    assert_int_equal(fake_complete(f, 4001, f->reqs[2].req.id, 0, &p), 0);
    expect_arp_reply(h);
    rx_arp_request(h, 5000);
    p = (struct sp_decision_proposal){.action = SP_PROPOSE_DROP, .raw = true};
    assert_int_equal(fake_complete(f, 5001, f->reqs[3].req.id, 0, &p), 0);
    h_assert_silent(h);
    const struct sp_decision_stats *s = dstats(h, SP_DECISION_ARP);
    assert_int_equal(s->valid, 4);
    assert_int_equal(s->emitted_llm, 4);
    assert_int_equal(s->deviations[SP_DEVIATION_SILENCE], 2);
    assert_int_equal(h_stat(h, SP_STAT_arp_tx_reply), 2);
    test_free(f);
}

/* Never another host's MAC, never for another address, never to another asker: the native
 * reply instead (or nothing, under the drop policy). */
static void test_arp_refused_in_legal(void **state)
{
    (void)state;
    const enum sp_verdict want[] = {SP_VERDICT_MAC, SP_VERDICT_ADDRESS, SP_VERDICT_TARGET, SP_VERDICT_TARGET,
                                    SP_VERDICT_MAC, SP_VERDICT_TARGET};
    for (int i = 0; i < 6; i++) {
        struct harness *h = h_open();
        struct fake *f = legal_fake(h, SP_DECISION_ARP, SP_DECIDE_DELEGATE);
        rx_arp_request(h, 2000);
        struct sp_decision_proposal p = arp_reply();
        uint8_t raw[SP_ETH_MIN_FRAME];
        h_arp(raw, H_MAC_PEER, SP_ARP_OP_REPLY, H_MAC_US, H_IP_US, H_MAC_PEER, H_IP_PEER);
        switch (i) {
        case 0: p.arp.sha = EVIL_MAC; break;
        case 1: p.arp.spa = 0xc0000209u; break;
        case 2: p.arp.tha = EVIL_MAC; break;
        case 3: p.arp.tpa = EVIL_IP; break;
        default:
            if (i == 4)
                memcpy(raw + 22, EVIL_MAC.b, 6); /* the sender hardware address */
            else
                memcpy(raw, sp_mac_broadcast.b, 6); /* to everyone, not the asker */
            p = (struct sp_decision_proposal){.action = SP_PROPOSE_REPLY, .raw = true, .raw_bytes = raw,
                                              .raw_len = SP_ETH_HDR_LEN + SP_ARP_LEN};
            break;
        }
        assert_int_equal(fake_complete(f, 2001, f->reqs[0].req.id, 0, &p), 0);
        outcome_is(f, f->reqs[0].req.id, want[i], 0, SP_ACTION_FALLBACK, true);
        expect_arp_reply(h);
        h_assert_silent(h);
        test_free(f);
        h_close(h);
    }
}

/* Exact: silence is still not an answer. */
static void test_arp_exact_unchanged(void **state)
{
    struct harness *h = *state;
    struct fake *f = fake_install(h, SP_DECISION_ARP, SP_DECIDE_DELEGATE);
    sp_iface_set_invalid_policy(h->iface, SP_INVALID_DROP);
    rx_arp_request(h, 2000);
    struct sp_decision_proposal p = {.action = SP_PROPOSE_DROP};
    assert_int_equal(fake_complete(f, 2001, f->reqs[0].req.id, 0, &p), 0);
    outcome_is(f, f->reqs[0].req.id, SP_VERDICT_ACTION, 0, SP_ACTION_DROP, false);
    assert_int_equal(f->outs[0].deviations, 0);
    assert_int_equal(dstats(h, SP_DECISION_ARP)->deviations[SP_DEVIATION_SILENCE], 0);
    test_free(f);
}

static void test_authority_names(void **state)
{
    (void)state;
    assert_string_equal(sp_authority_name(SP_AUTHORITY_EXACT), "exact");
    assert_string_equal(sp_authority_name(SP_AUTHORITY_LEGAL), "legal");
    enum sp_authority a = SP_AUTHORITY_EXACT;
    assert_int_equal(sp_authority_parse("legal", &a), 0);
    assert_int_equal(a, SP_AUTHORITY_LEGAL);
    assert_int_equal(sp_authority_parse("Legal", &a), SP_EINVAL);
    assert_int_equal(sp_authority_parse(NULL, &a), SP_EINVAL);
    const char *names[SP_DEVIATION_COUNT] = {"action", "silence", "ttl", "ip_ident", "df", "iss", "window", "mss",
                                             "wscale"};
    for (int d = 0; d < SP_DEVIATION_COUNT; d++)
        assert_string_equal(sp_deviation_name((enum sp_deviation)d), names[d]);
    assert_string_equal(sp_deviation_name(SP_DEVIATION_COUNT), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_icmp_structured_choices_on_the_wire, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_icmp_raw_choices_adopted, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_icmp_silence, h_setup, h_teardown),
        cmocka_unit_test(test_icmp_refused_in_legal),
        cmocka_unit_test_setup_teardown(test_icmp_df_must_fit_the_mtu, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_icmp_exact_unchanged, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_icmp_shadow_legal, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_arp_reply_or_silence, h_setup, h_teardown),
        cmocka_unit_test(test_arp_refused_in_legal),
        cmocka_unit_test_setup_teardown(test_arp_exact_unchanged, h_setup, h_teardown),
        cmocka_unit_test(test_authority_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
