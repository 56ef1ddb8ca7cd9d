/* The ICMP echo reply as a decision point: delegate (structured and raw proposals, every invalid
 * reason under both policies, timeout, decider errors, repeats, a full table, a datagram too big
 * to park), shadow grading, completion from inside decide, and native mode untouched. */
#include "decide_harness.h"
#include "iface_internal.h"

/* The same exchange as test_iface_icmp.c: scapy Ether()/IP(src="192.0.2.1", dst="192.0.2.2",
 * id=0x1234, ttl=64)/ICMP(type=8, id=0xbeef, seq=7)/b"slowpath-ping-data" and the native reply
 * (our first IP identifier is 0 with a zero secret). */
static const char PING[] =
    "020000000002 020000000001 0800 4500002e123400004001e497c0000201c0000202"
    "08009a8cbeef0007 736c6f77706174682d70696e672d64617461";
static const char PONG[] =
    "020000000001 020000000002 0800 4500002e000000004001f6cbc0000202c0000201"
    "0000a28cbeef0007 736c6f77706174682d70696e672d64617461";
#define PING_IDENT 0xbeef
#define PING_SEQ 7
#define PING_DATA_LEN 18
#define EVIL_IP 0xcb007109u /* 203.0.113.9 */

static void rx_ping_seq(struct harness *h, sp_time_t now, uint16_t seq)
{
    uint8_t f[H_FRAME_CAP];
    uint8_t data[PING_DATA_LEN];
    memcpy(data, "slowpath-ping-data", PING_DATA_LEN);
    size_t n = h_ping(f, H_IP_PEER, H_IP_US, PING_IDENT, seq, data, sizeof data);
    h_rx(h, now, f, n);
}

static void rx_ping(struct harness *h, sp_time_t now)
{
    uint8_t f[H_FRAME_CAP];
    int n = sp_test_hex(PING, f, sizeof f);
    assert_int_equal(n, 60);
    h_rx(h, now, f, (size_t)n);
}

/* The next frame is the native reply, byte for byte. */
static void expect_pong(struct harness *h)
{
    uint8_t f[H_FRAME_CAP], want[H_FRAME_CAP];
    assert_int_equal(sp_test_hex(PONG, want, sizeof want), 60);
    assert_int_equal(h_take(h, f), 60);
    assert_memory_equal(f, want, 60);
}

static struct sp_decision_proposal good_structured(void)
{
    return (struct sp_decision_proposal){.action = SP_PROPOSE_REPLY, .icmp_dst = H_IP_PEER,
                                         .icmp_ident = PING_IDENT, .icmp_seq = PING_SEQ, .icmp_ttl = 64};
}

/* Rewrites both checksums of a raw echo reply datagram after a test edited it. */
static void fix_sums(uint8_t *d, size_t len)
{
    sp_put16(d + 10, 0);
    sp_put16(d + 10, sp_csum(d, 20));
    sp_put16(d + 22, 0);
    sp_put16(d + 22, sp_csum(d + 20, len - 20));
}

/* A raw proposal: the native reply's bytes, copied into buf for a test to edit. */
static struct sp_decision_proposal raw_from_native(const struct fake_req *r, uint8_t *buf)
{
    memcpy(buf, r->req.native, r->req.native_len);
    return (struct sp_decision_proposal){.action = SP_PROPOSE_REPLY, .raw = true, .raw_bytes = buf,
                                         .raw_len = r->req.native_len};
}

static void test_delegate_structured_reply_after_completion(void **state)
{
    struct harness *h = *state;
    struct fake *f = fake_install(h, SP_DECISION_ICMP, SP_DECIDE_DELEGATE);
    rx_ping(h, 2000);
    h_assert_silent(h); /* parked: nothing until the proposal */
    assert_int_equal(f->nreq, 1);
    const struct sp_decision_request *r = &f->reqs[0].req;
    assert_int_equal(r->kind, SP_DECISION_ICMP);
    assert_int_equal(r->mode, SP_DECIDE_DELEGATE);
    assert_int_equal(r->flow.protocol, SP_IP_PROTO_ICMP);
    assert_int_equal(r->flow.local_ip, H_IP_US);
    assert_int_equal(r->flow.remote_ip, H_IP_PEER);
    assert_int_equal(r->flow.remote_port, PING_IDENT);
    assert_int_equal(r->deadline, 2000 + SP_DECISION_TIMEOUT_MS);
    assert_true(sp_mac_eq(r->our_mac, H_MAC_US));
    assert_int_equal(r->our_ip, H_IP_US);
    assert_int_equal(r->ttl, SP_DEFAULT_TTL);
    assert_int_equal(r->asked_at, 2000);
    assert_int_equal(r->deadline, 2000 + SP_DECISION_TIMEOUT_MS);
    uint8_t want[H_FRAME_CAP];
    sp_test_hex(PING, want, sizeof want);
    assert_int_equal(r->packet_len, 46);
    assert_memory_equal(r->packet, want + SP_ETH_HDR_LEN, 46);
    assert_int_equal(r->ip.src, H_IP_PEER);
    assert_int_equal(r->icmp.ident, PING_IDENT);
    assert_int_equal(r->icmp.seq, PING_SEQ);
    assert_int_equal(r->icmp.data_len, PING_DATA_LEN);
    assert_memory_equal(r->icmp.data, "slowpath-ping-data", PING_DATA_LEN);
    sp_test_hex(PONG, want, sizeof want);
    assert_int_equal(r->native_len, 46);
    assert_memory_equal(r->native + 20, want + SP_ETH_HDR_LEN + 20, 26); /* ICMP part; IP ident set on output */
    assert_int_equal(sp_iface_poll_at(h->iface), 2000 + SP_DECISION_TIMEOUT_MS);

    struct sp_decision_proposal p = good_structured();
    assert_int_equal(fake_complete(f, 2500, r->id, 0, &p), 0);
    expect_pong(h);
    h_assert_silent(h);
    outcome_is(f, r->id, SP_VERDICT_VALID, 0, SP_ACTION_LLM, true);
    /* The pong: second frame sent (after the gratuitous ARP), third exchanged (after the ping). */
    assert_int_equal(f->outs[0].frame_sent, 2);
    assert_int_equal(f->outs[0].frame_any, 3);
    assert_int_equal(sp_iface_frame_count(h->iface).sent, 2);
    assert_int_equal(sp_iface_frame_count(h->iface).received, 1);
    const struct sp_decision_stats *s = dstats(h, SP_DECISION_ICMP);
    assert_int_equal(s->asked, 1);
    assert_int_equal(s->valid, 1);
    assert_int_equal(s->verdicts[SP_VERDICT_VALID], 1);
    assert_int_equal(s->emitted_llm, 1);
    assert_int_equal(s->invalid + s->fallback + s->dropped + s->timeouts + s->errors, 0);
    assert_int_equal(h_stat(h, SP_STAT_icmp_echo_tx), 1);
    /* Done: the id is unknown now, and no deadline is left. */
    assert_int_equal(fake_complete(f, 2600, r->id, 0, &p), SP_EINVAL);
    assert_true(sp_iface_poll_at(h->iface) > 2000 + SP_DECISION_TIMEOUT_MS);
    test_free(f);
}

/* The TTL is the host's (the prompt tells the model): another one, e.g. obeying an instruction in
 * the payload, is refused and the native reply (TTL 64) goes out instead. */
static void test_delegate_structured_other_ttl_is_refused(void **state)
{
    struct harness *h = *state;
    struct fake *f = fake_install(h, SP_DECISION_ICMP, SP_DECIDE_DELEGATE);
    rx_ping(h, 2000);
    struct sp_decision_proposal p = good_structured();
    p.icmp_ttl = 255;
    assert_int_equal(fake_complete(f, 2001, f->reqs[0].req.id, 0, &p), 0);
    uint8_t fr[H_FRAME_CAP];
    struct h_ip_out o;
    h_take_ip(h, fr, &o);
    outcome_is(f, f->reqs[0].req.id, SP_VERDICT_HEADER, 0, SP_ACTION_FALLBACK, true);
    assert_int_equal(f->outs[0].frame_sent, 2); /* the fallback's frame is numbered the same way */
    assert_int_equal(f->outs[0].frame_any, 3);
    assert_int_equal(o.ip.ttl, SP_DEFAULT_TTL);
    assert_int_equal(o.ip.dst, H_IP_PEER);
    assert_int_equal(sp_csum(o.payload, o.payload_len), 0);
    assert_memory_equal(o.payload + 8, "slowpath-ping-data", PING_DATA_LEN);
    test_free(f);
}

/* The validator reads a raw proposal where the decider keeps it: the bytes stay as they were, and
 * what the stack would emit takes its data from the request's copy, never from the proposal. */
static void test_raw_proposal_is_only_read(void **state)
{
    struct harness *h = *state;
    struct fake *f = fake_install(h, SP_DECISION_ICMP, SP_DECIDE_DELEGATE);
    rx_ping(h, 2000);
    uint8_t raw[SP_DECISION_MAX_PACKET], before[SP_DECISION_MAX_PACKET];
    struct sp_decision_proposal p = raw_from_native(&f->reqs[0], raw);
    memcpy(before, raw, p.raw_len);
    struct sp_decision_built b;
    assert_int_equal(sp_validate_icmp(&f->reqs[0].req, &p, &b), SP_VERDICT_VALID);
    assert_memory_equal(raw, before, p.raw_len);
    assert_ptr_equal(b.ip.l4.icmp.data, f->reqs[0].req.icmp.data);
    assert_int_equal(b.ip.l4.icmp.data_len, PING_DATA_LEN);
    test_free(f);
}

static void test_delegate_raw_valid(void **state)
{
    struct harness *h = *state;
    struct fake *f = fake_install(h, SP_DECISION_ICMP, SP_DECIDE_DELEGATE);
    rx_ping(h, 2000);
    uint8_t raw[SP_DECISION_MAX_PACKET];
    struct sp_decision_proposal p = raw_from_native(&f->reqs[0], raw);
    sp_put16(raw + 4, 0x7777);       /* its own identifier: the stack picks its own */
    raw[6] = 0x40;                   /* DF, as Linux sets it: accepted, not carried over */
    fix_sums(raw, p.raw_len);
    assert_int_equal(fake_complete(f, 2001, f->reqs[0].req.id, 0, &p), 0);
    uint8_t fr[H_FRAME_CAP];
    struct h_ip_out o;
    h_take_ip(h, fr, &o);
    h_assert_silent(h);
    assert_int_equal(o.ip.ttl, SP_DEFAULT_TTL);
    assert_false(o.ip.dont_frag);
    assert_int_equal(o.ip.ident, 0); /* the stack's first identifier, not the proposal's */
    assert_int_equal(o.ip.src, H_IP_US);
    assert_int_equal(o.ip.dst, H_IP_PEER);
    assert_int_equal(o.payload_len, 26);
    assert_memory_equal(o.payload, raw + 20, 26);
    outcome_is(f, f->reqs[0].req.id, SP_VERDICT_VALID, 0, SP_ACTION_LLM, true);
    test_free(f);
}

/* --- Every invalid reason, under both policies ---------------------------------------------- */

enum mutation {
    M_DROP_ACTION, M_IDENT, M_SEQ, M_DST, M_TTL0, M_RAW_IP_CHECKSUM, M_RAW_ICMP_CHECKSUM, M_RAW_PAYLOAD,
    M_RAW_SHORT_PAYLOAD, M_RAW_MALFORMED, M_RAW_TRAILING, M_RAW_SRC, M_RAW_DST, M_RAW_TYPE, M_RAW_PROTO,
    M_RAW_MF, M_RAW_TTL0, M_RAW_IDENT, M_RAW_SEQ, M_RAW_DROP, M_COUNT
};

static const enum sp_verdict expected[M_COUNT] = {
    [M_DROP_ACTION] = SP_VERDICT_ACTION, [M_IDENT] = SP_VERDICT_IDENT, [M_SEQ] = SP_VERDICT_SEQUENCE,
    [M_DST] = SP_VERDICT_ADDRESS, [M_TTL0] = SP_VERDICT_HEADER, [M_RAW_IP_CHECKSUM] = SP_VERDICT_CHECKSUM,
    [M_RAW_ICMP_CHECKSUM] = SP_VERDICT_CHECKSUM, [M_RAW_PAYLOAD] = SP_VERDICT_PAYLOAD,
    [M_RAW_SHORT_PAYLOAD] = SP_VERDICT_PAYLOAD, [M_RAW_MALFORMED] = SP_VERDICT_MALFORMED,
    [M_RAW_TRAILING] = SP_VERDICT_MALFORMED, [M_RAW_SRC] = SP_VERDICT_ADDRESS, [M_RAW_DST] = SP_VERDICT_ADDRESS,
    [M_RAW_TYPE] = SP_VERDICT_HEADER, [M_RAW_PROTO] = SP_VERDICT_HEADER, [M_RAW_MF] = SP_VERDICT_HEADER,
    [M_RAW_TTL0] = SP_VERDICT_HEADER, [M_RAW_IDENT] = SP_VERDICT_IDENT, [M_RAW_SEQ] = SP_VERDICT_SEQUENCE,
    [M_RAW_DROP] = SP_VERDICT_ACTION,
};

static struct sp_decision_proposal mutate(const struct fake_req *r, enum mutation m, uint8_t *raw)
{
    struct sp_decision_proposal p = good_structured();
    if (m < M_RAW_IP_CHECKSUM) {
        switch (m) {
        case M_DROP_ACTION: p.action = SP_PROPOSE_DROP; break;
        case M_IDENT: p.icmp_ident ^= 1; break;
        case M_SEQ: p.icmp_seq++; break;
        case M_DST: p.icmp_dst = EVIL_IP; break;
        case M_TTL0: p.icmp_ttl = 0; break;
        default: break;
        }
        return p;
    }
    p = raw_from_native(r, raw);
    switch (m) {
    case M_RAW_IP_CHECKSUM: raw[10] ^= 0xff; return p;
    case M_RAW_ICMP_CHECKSUM: raw[22] ^= 0xff; return p;
    case M_RAW_PAYLOAD: raw[30] ^= 0x20; break; /* "Slowpath": checksums fixed below */
    case M_RAW_SHORT_PAYLOAD: p.raw_len--; sp_put16(raw + 2, (uint16_t)p.raw_len); break;
    case M_RAW_MALFORMED: p.raw_len = 10; return p;
    case M_RAW_TRAILING: raw[p.raw_len++] = 0; return p;
    case M_RAW_SRC: sp_put32(raw + 12, 0xc0000203u); break;
    case M_RAW_DST: sp_put32(raw + 16, EVIL_IP); break;
    case M_RAW_TYPE: raw[20] = SP_ICMP_ECHO_REQUEST; break;
    case M_RAW_PROTO: raw[9] = SP_IP_PROTO_UDP; break;
    case M_RAW_MF: raw[6] = 0x20; break;
    case M_RAW_TTL0: raw[8] = 0; break;
    case M_RAW_IDENT: sp_put16(raw + 24, 0xbeee); break;
    case M_RAW_SEQ: sp_put16(raw + 26, 8); break;
    case M_RAW_DROP: p.action = SP_PROPOSE_DROP; return p;
    default: break;
    }
    fix_sums(raw, p.raw_len);
    return p;
}

static void run_invalid(enum mutation m, enum sp_invalid_policy policy)
{
    struct harness *h = h_open();
    struct fake *f = fake_install(h, SP_DECISION_ICMP, SP_DECIDE_DELEGATE);
    sp_iface_set_invalid_policy(h->iface, policy);
    rx_ping(h, 2000);
    assert_int_equal(f->nreq, 1);
    uint8_t raw[SP_DECISION_MAX_PACKET + 1];
    struct sp_decision_proposal p = mutate(&f->reqs[0], m, raw);
    assert_int_equal(sp_validate_proposal(&f->reqs[0].req, &p), expected[m]);
    assert_int_equal(fake_complete(f, 2001, f->reqs[0].req.id, 0, &p), 0);
    const struct sp_decision_stats *s = dstats(h, SP_DECISION_ICMP);
    assert_int_equal(s->invalid, 1);
    assert_int_equal(s->valid, 0);
    assert_int_equal(s->verdicts[expected[m]], 1);
    assert_int_equal(s->emitted_llm, 0);
    if (policy == SP_INVALID_FALLBACK) {
        expect_pong(h); /* exactly the native reply: nothing of the proposal */
        assert_int_equal(s->fallback, 1);
        outcome_is(f, f->reqs[0].req.id, expected[m], 0, SP_ACTION_FALLBACK, true);
    } else {
        assert_int_equal(s->dropped, 1);
        outcome_is(f, f->reqs[0].req.id, expected[m], 0, SP_ACTION_DROP, false);
    }
    h_assert_silent(h);
    test_free(f);
    h_close(h);
}

static void test_invalid_falls_back_to_native(void **state)
{
    (void)state;
    for (int m = 0; m < M_COUNT; m++)
        run_invalid((enum mutation)m, SP_INVALID_FALLBACK);
}

static void test_invalid_dropped_sends_nothing(void **state)
{
    (void)state;
    for (int m = 0; m < M_COUNT; m++)
        run_invalid((enum mutation)m, SP_INVALID_DROP);
}

/* An injected destination never gets a frame, not even an ARP request. */
static void test_injected_destination_is_refused(void **state)
{
    struct harness *h = *state;
    struct fake *f = fake_install(h, SP_DECISION_ICMP, SP_DECIDE_DELEGATE);
    sp_iface_set_invalid_policy(h->iface, SP_INVALID_DROP);
    rx_ping_seq(h, 2000, 1);
    rx_ping_seq(h, 2000, 2);
    struct sp_decision_proposal p = good_structured();
    p.icmp_seq = 1;
    p.icmp_dst = EVIL_IP;
    assert_int_equal(fake_complete(f, 2001, f->reqs[0].req.id, 0, &p), 0);
    uint8_t raw[SP_DECISION_MAX_PACKET];
    p = raw_from_native(&f->reqs[1], raw);
    sp_put32(raw + 16, EVIL_IP);
    fix_sums(raw, p.raw_len);
    assert_int_equal(fake_complete(f, 2001, f->reqs[1].req.id, 0, &p), 0);
    h_assert_silent(h);
    assert_int_equal(h_stat(h, SP_STAT_arp_tx_request), 0);
    assert_int_equal(dstats(h, SP_DECISION_ICMP)->verdicts[SP_VERDICT_ADDRESS], 2);

    /* Under fallback the native reply goes to the requester, never to the injected address. */
    sp_iface_set_invalid_policy(h->iface, SP_INVALID_FALLBACK);
    rx_ping_seq(h, 3000, 3);
    p = good_structured();
    p.icmp_seq = 3;
    p.icmp_dst = EVIL_IP;
    assert_int_equal(fake_complete(f, 3001, f->reqs[2].req.id, 0, &p), 0);
    uint8_t fr[H_FRAME_CAP];
    struct h_ip_out o;
    h_take_ip(h, fr, &o);
    assert_int_equal(o.ip.dst, H_IP_PEER);
    h_assert_silent(h);
    test_free(f);
}

/* --- Timeouts, errors, repeats, limits -------------------------------------------------------- */

static void test_timeout_applies_policy_at_the_deadline(void **state)
{
    struct harness *h = *state;
    struct fake *f = fake_install(h, SP_DECISION_ICMP, SP_DECIDE_DELEGATE);
    rx_ping(h, 2000);
    sp_time_t deadline = 2000 + SP_DECISION_TIMEOUT_MS;
    assert_int_equal(sp_iface_poll_at(h->iface), deadline);
    sp_iface_poll(h->iface, deadline - 1);
    h_assert_silent(h);
    assert_int_equal(f->nout, 0);
    sp_iface_poll(h->iface, deadline);
    expect_pong(h);
    outcome_is(f, f->reqs[0].req.id, SP_VERDICT_VALID, SP_ETIMEDOUT, SP_ACTION_FALLBACK, true);
    assert_int_equal(dstats(h, SP_DECISION_ICMP)->timeouts, 1);
    assert_int_equal(dstats(h, SP_DECISION_ICMP)->fallback, 1);
    /* A late proposal finds nothing. */
    struct sp_decision_proposal p = good_structured();
    assert_int_equal(fake_complete(f, deadline + 5, f->reqs[0].req.id, 0, &p), SP_EINVAL);
    h_assert_silent(h);
    test_free(f);
}

static void test_timeout_with_drop_policy_and_short_timeout(void **state)
{
    struct harness *h = *state;
    struct fake *f = fake_install(h, SP_DECISION_ICMP, SP_DECIDE_DELEGATE);
    sp_iface_set_invalid_policy(h->iface, SP_INVALID_DROP);
    sp_iface_set_decision_timeout(h->iface, 500);
    rx_ping(h, 2000);
    assert_int_equal(f->reqs[0].req.deadline, 2500);
    assert_int_equal(sp_iface_poll_at(h->iface), 2500);
    sp_iface_poll(h->iface, 2500);
    h_assert_silent(h);
    outcome_is(f, f->reqs[0].req.id, SP_VERDICT_VALID, SP_ETIMEDOUT, SP_ACTION_DROP, false);
    assert_int_equal(dstats(h, SP_DECISION_ICMP)->dropped, 1);
    test_free(f);
}

static void test_decide_error_applies_policy_at_once(void **state)
{
    struct harness *h = *state;
    struct fake *f = fake_install(h, SP_DECISION_ICMP, SP_DECIDE_DELEGATE);
    f->decide_rc = SP_EBUSY;
    rx_ping(h, 2000);
    expect_pong(h);
    outcome_is(f, f->reqs[0].req.id, SP_VERDICT_VALID, SP_EBUSY, SP_ACTION_FALLBACK, true);
    assert_int_equal(dstats(h, SP_DECISION_ICMP)->errors, 1);

    sp_iface_set_invalid_policy(h->iface, SP_INVALID_DROP);
    rx_ping_seq(h, 2100, 8);
    h_assert_silent(h);
    outcome_is(f, f->reqs[1].req.id, SP_VERDICT_VALID, SP_EBUSY, SP_ACTION_DROP, false);
    assert_int_equal(dstats(h, SP_DECISION_ICMP)->errors, 2);
    assert_true(sp_iface_poll_at(h->iface) != 2100 + SP_DECISION_TIMEOUT_MS); /* nothing parked */
    test_free(f);
}

static void test_completion_with_an_error(void **state)
{
    struct harness *h = *state;
    struct fake *f = fake_install(h, SP_DECISION_ICMP, SP_DECIDE_DELEGATE);
    rx_ping(h, 2000);
    assert_int_equal(fake_complete(f, 2300, f->reqs[0].req.id, SP_EIO, NULL), 0);
    expect_pong(h);
    outcome_is(f, f->reqs[0].req.id, SP_VERDICT_VALID, SP_EIO, SP_ACTION_FALLBACK, true);
    assert_int_equal(dstats(h, SP_DECISION_ICMP)->errors, 1);
    test_free(f);
}

static void test_repeat_joins_new_sequence_is_separate(void **state)
{
    struct harness *h = *state;
    struct fake *f = fake_install(h, SP_DECISION_ICMP, SP_DECIDE_DELEGATE);
    rx_ping(h, 2000);
    rx_ping(h, 2100); /* the same (ident, seq): joins */
    h_assert_silent(h);
    assert_int_equal(f->nreq, 1);
    assert_int_equal(dstats(h, SP_DECISION_ICMP)->joined, 1);
    rx_ping_seq(h, 2200, PING_SEQ + 1);
    assert_int_equal(f->nreq, 2);
    assert_int_not_equal(f->reqs[0].req.id, f->reqs[1].req.id);
    assert_int_equal(dstats(h, SP_DECISION_ICMP)->asked, 2);
    h_assert_silent(h);

    struct sp_decision_proposal p = good_structured();
    assert_int_equal(fake_complete(f, 2300, f->reqs[0].req.id, 0, &p), 0);
    expect_pong(h); /* one reply for the request and its repeat */
    h_assert_silent(h);
    p.icmp_seq = PING_SEQ + 1;
    assert_int_equal(fake_complete(f, 2300, f->reqs[1].req.id, 0, &p), 0);
    uint8_t fr[H_FRAME_CAP];
    struct h_ip_out o;
    h_take_ip(h, fr, &o);
    assert_int_equal(sp_get16(o.payload + 6), PING_SEQ + 1);
    h_assert_silent(h);
    /* Once completed, the same (ident, seq) is a new request again. */
    rx_ping(h, 2400);
    assert_int_equal(f->nreq, 3);
    test_free(f);
}

static void test_full_table_answers_natively(void **state)
{
    struct harness *h = *state;
    struct fake *f = fake_install(h, SP_DECISION_ICMP, SP_DECIDE_DELEGATE);
    for (unsigned i = 0; i < SP_DECISION_PENDING; i++)
        rx_ping_seq(h, 2000, (uint16_t)(100 + i));
    h_assert_silent(h);
    assert_int_equal(f->nreq, SP_DECISION_PENDING);
    rx_ping(h, 2001);
    expect_pong(h);
    assert_int_equal(f->nreq, SP_DECISION_PENDING);
    assert_int_equal(dstats(h, SP_DECISION_ICMP)->pending_full, 1);
    /* A completion frees a slot for the next request. */
    struct sp_decision_proposal p = good_structured();
    p.icmp_seq = 100;
    assert_int_equal(fake_complete(f, 2002, f->reqs[0].req.id, 0, &p), 0);
    h_drain(h);
    rx_ping(h, 2003);
    h_assert_silent(h);
    assert_int_equal(f->nreq, SP_DECISION_PENDING + 1);
    test_free(f);
}

/* A 4000-byte ping arrives in three fragments; reassembled, it is too big to park. */
static void test_too_big_answers_natively(void **state)
{
    struct harness *h = *state;
    struct fake *f = fake_install(h, SP_DECISION_ICMP, SP_DECIDE_DELEGATE);
    static uint8_t data[4000], icmp[4008];
    h_fill(data, sizeof data, 5);
    size_t len = h_icmp_echo(icmp, SP_ICMP_ECHO_REQUEST, 0x0101, 1, data, sizeof data);
    for (size_t off = 0; off < len; off += 1480) {
        size_t n = len - off < 1480 ? len - off : 1480;
        struct sp_ipv4_repr ip = h_ip(H_IP_PEER, H_IP_US, SP_IP_PROTO_ICMP, n);
        ip.frag_offset = (uint16_t)off;
        ip.more_frags = off + n < len;
        uint8_t fr[H_FRAME_CAP];
        h_rx(h, 2000, fr, h_ip_frame(fr, &ip, icmp + off, n));
    }
    assert_int_equal(f->nreq, 0);
    assert_int_equal(dstats(h, SP_DECISION_ICMP)->too_big, 1);
    assert_int_equal(h_pending(h), 3); /* the native reply, fragmented */
    assert_int_equal(h_stat(h, SP_STAT_icmp_echo_tx), 1);
    test_free(f);
}

/* --- Shadow ------------------------------------------------------------------------------------ */

static void test_shadow_answers_natively_and_grades(void **state)
{
    struct harness *h = *state;
    struct fake *f = fake_install(h, SP_DECISION_ICMP, SP_DECIDE_SHADOW);
    rx_ping(h, 2000);
    expect_pong(h); /* at once */
    assert_int_equal(f->nreq, 1);
    assert_int_equal(f->reqs[0].req.mode, SP_DECIDE_SHADOW);
    rx_ping(h, 2001); /* a repeat is still answered natively, and joins */
    h_drain(h);
    assert_int_equal(f->nreq, 1);
    assert_int_equal(dstats(h, SP_DECISION_ICMP)->joined, 1);

    struct sp_decision_proposal p = good_structured();
    assert_int_equal(fake_complete(f, 2100, f->reqs[0].req.id, 0, &p), 0);
    h_assert_silent(h);
    outcome_is(f, f->reqs[0].req.id, SP_VERDICT_VALID, 0, SP_ACTION_SHADOW, false);
    assert_true(f->outs[0].matches_native);

    /* Valid but not what native says (another TTL): a mismatch, still never sent. */
    rx_ping_seq(h, 2200, 20);
    h_drain(h);
    p.icmp_seq = 20;
    p.icmp_ttl = 1;
    assert_int_equal(fake_complete(f, 2300, f->reqs[1].req.id, 0, &p), 0);
    h_assert_silent(h);
    assert_false(f->outs[1].matches_native);

    /* Raw: the native bytes with another identifier and DF still match. */
    rx_ping_seq(h, 2400, 21);
    h_drain(h);
    uint8_t raw[SP_DECISION_MAX_PACKET];
    p = raw_from_native(&f->reqs[2], raw);
    sp_put16(raw + 4, 0x4242);
    raw[6] = 0x40;
    fix_sums(raw, p.raw_len);
    assert_int_equal(fake_complete(f, 2500, f->reqs[2].req.id, 0, &p), 0);
    assert_true(f->outs[2].matches_native);

    /* Invalid: counted by reason, a mismatch, never sent (no fallback either). */
    rx_ping_seq(h, 2600, 22);
    h_drain(h);
    p = good_structured();
    p.icmp_seq = 22;
    p.icmp_dst = EVIL_IP;
    assert_int_equal(fake_complete(f, 2700, f->reqs[3].req.id, 0, &p), 0);
    h_assert_silent(h);
    outcome_is(f, f->reqs[3].req.id, SP_VERDICT_ADDRESS, 0, SP_ACTION_SHADOW, false);

    /* A timeout in shadow mode sends nothing more. */
    rx_ping_seq(h, 2800, 23);
    h_drain(h);
    sp_iface_poll(h->iface, 2800 + SP_DECISION_TIMEOUT_MS);
    h_assert_silent(h);
    outcome_is(f, f->reqs[4].req.id, SP_VERDICT_VALID, SP_ETIMEDOUT, SP_ACTION_SHADOW, false);

    const struct sp_decision_stats *s = dstats(h, SP_DECISION_ICMP);
    assert_int_equal(s->shadow_match, 2);
    assert_int_equal(s->shadow_mismatch, 3); /* the timeout matched nothing either */
    assert_int_equal(s->emitted_llm + s->fallback + s->dropped, 0);
    assert_int_equal(s->timeouts, 1);
    assert_int_equal(h_stat(h, SP_STAT_icmp_echo_tx), 6);
    test_free(f);
}

/* --- Re-entrancy and native mode ---------------------------------------------------------------- */

static void test_synchronous_completion_inside_decide(void **state)
{
    struct harness *h = *state;
    struct fake *f = fake_install(h, SP_DECISION_ICMP, SP_DECIDE_DELEGATE);
    f->sync = true;
    f->sync_now = 2000;
    f->sync_prop = good_structured();
    rx_ping(h, 2000);
    expect_pong(h);
    h_assert_silent(h);
    assert_int_equal(f->nout, 1);
    outcome_is(f, f->reqs[0].req.id, SP_VERDICT_VALID, 0, SP_ACTION_LLM, true);
    assert_int_equal(fake_complete(f, 2001, f->reqs[0].req.id, 0, &f->sync_prop), SP_EINVAL);

    /* Completed inside, then decide reports an error anyway: the request is not ended twice. */
    f->decide_rc = SP_EIO;
    f->sync_prop.icmp_seq = 9;
    rx_ping_seq(h, 2100, 9);
    assert_int_equal(h_pending(h), 1);
    h_drain(h);
    assert_int_equal(f->nout, 2);
    assert_int_equal(dstats(h, SP_DECISION_ICMP)->errors, 0);

    /* An error completion inside decide: the policy, once. */
    f->decide_rc = 0;
    f->sync_error = SP_EIO;
    rx_ping_seq(h, 2200, 10);
    assert_int_equal(h_pending(h), 1);
    h_drain(h);
    assert_int_equal(f->nout, 3);
    outcome_is(f, f->reqs[2].req.id, SP_VERDICT_VALID, SP_EIO, SP_ACTION_FALLBACK, true);
    test_free(f);
}

static void test_native_mode_asks_nobody(void **state)
{
    struct harness *h = *state;
    struct fake *f = fake_install(h, SP_DECISION_ICMP, SP_DECIDE_NATIVE);
    rx_ping(h, 2000);
    expect_pong(h);
    assert_int_equal(f->nreq, 0);
    /* Delegate without a decider is native too. */
    sp_iface_set_decider(h->iface, SP_DECISION_ICMP, SP_DECIDE_DELEGATE, NULL);
    rx_ping(h, 2001);
    assert_int_equal(h_pending(h), 1);
    h_drain(h);
    const struct sp_decision_stats *s = dstats(h, SP_DECISION_ICMP);
    assert_int_equal(s->asked + s->joined + s->pending_full + s->too_big, 0);
    /* Back to delegate, then native again: a parked request still completes. */
    struct sp_decider d = {.decide = fake_decide, .outcome = fake_outcome, .ctx = f};
    sp_iface_set_decider(h->iface, SP_DECISION_ICMP, SP_DECIDE_DELEGATE, &d);
    rx_ping(h, 2002);
    h_assert_silent(h);
    sp_iface_set_decider(h->iface, SP_DECISION_ICMP, SP_DECIDE_NATIVE, NULL);
    rx_ping(h, 2003); /* native now: answered at once, not joined */
    assert_int_equal(h_pending(h), 1);
    h_drain(h);
    sp_iface_poll(h->iface, 2002 + SP_DECISION_TIMEOUT_MS);
    assert_int_equal(h_pending(h), 1); /* the parked one falls back at its deadline */
    h_drain(h);
    test_free(f);
}

/* An answer that must wait for its next hop's address has no frame number yet: what went out
 * meanwhile was the ARP request. Frames handed to the interface directly never passed the device
 * and are not numbered. */
static void test_frame_numbers(void **state)
{
    struct harness *h = *state;
    struct fake *f = fake_install(h, SP_DECISION_ICMP, SP_DECIDE_DELEGATE);
    rx_ping(h, 2000);
    struct sp_decision_proposal p = good_structured();
    sp_time_t later = 2000 + SP_ARP_ENTRY_TTL_MS + 1; /* the peer's entry has lapsed */
    assert_int_equal(fake_complete(f, later, f->reqs[0].req.id, 0, &p), 0);
    outcome_is(f, f->reqs[0].req.id, SP_VERDICT_VALID, 0, SP_ACTION_LLM, true);
    h_expect_arp_request(h, H_IP_PEER);
    assert_int_equal(f->outs[0].frame_sent, 0);
    assert_int_equal(f->outs[0].frame_any, 0);

    uint8_t fr[H_FRAME_CAP];
    size_t n = h_ping(fr, H_IP_PEER, H_IP_US, PING_IDENT, PING_SEQ + 1, (const uint8_t *)"x", 1);
    struct sp_frame_count before = sp_iface_frame_count(h->iface);
    sp_iface_ingress(h->iface, later + 1, fr, n);
    assert_int_equal(sp_iface_frame_count(h->iface).received, before.received);
    test_free(f);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(sp_decision_kind_name(SP_DECISION_ARP), "arp");
    assert_string_equal(sp_decision_mode_name(SP_DECIDE_DELEGATE), "llm");
    assert_string_equal(sp_verdict_name(SP_VERDICT_CHECKSUM), "invalid:checksum");
    assert_string_equal(sp_verdict_name(SP_VERDICT_DATA), "invalid:data");
    assert_string_equal(sp_decision_action_name(SP_ACTION_FALLBACK), "fallback");
    assert_string_equal(sp_hs_state_name(SP_HS_SYN_RECEIVED), "SYN-RECEIVED");
    assert_string_equal(sp_proposal_action_name(SP_PROPOSE_SYN_ACK), "syn_ack");
    assert_string_equal(sp_proposal_action_name(SP_PROPOSE_DROP), "drop");
    /* Every name reads back as its value; anything else is refused. */
    for (int k = 0; k < SP_DECISION_KINDS; k++) {
        enum sp_decision_kind got;
        assert_int_equal(sp_decision_kind_parse(sp_decision_kind_name((enum sp_decision_kind)k), &got), 0);
        assert_int_equal(got, k);
    }
    for (int s = SP_HS_LISTEN; s <= SP_HS_CLOSED; s++) {
        enum sp_hs_state got;
        assert_int_equal(sp_hs_state_parse(sp_hs_state_name((enum sp_hs_state)s), &got), 0);
        assert_int_equal(got, s);
    }
    enum sp_decision_kind k = SP_DECISION_TCP;
    assert_int_equal(sp_decision_kind_parse("ICMP", &k), SP_EINVAL);
    assert_int_equal(sp_decision_kind_parse(NULL, &k), SP_EINVAL);
    assert_int_equal(k, SP_DECISION_TCP);
    enum sp_hs_state st = SP_HS_LISTEN;
    assert_int_equal(sp_hs_state_parse("TIME-WAIT", &st), SP_EINVAL);
    assert_int_equal(sp_hs_state_parse("syn-sent", &st), SP_EINVAL);
    assert_int_equal(st, SP_HS_LISTEN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_delegate_structured_reply_after_completion, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_delegate_structured_other_ttl_is_refused, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_delegate_raw_valid, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_raw_proposal_is_only_read, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_frame_numbers, h_setup, h_teardown),
        cmocka_unit_test(test_invalid_falls_back_to_native),
        cmocka_unit_test(test_invalid_dropped_sends_nothing),
        cmocka_unit_test_setup_teardown(test_injected_destination_is_refused, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_timeout_applies_policy_at_the_deadline, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_timeout_with_drop_policy_and_short_timeout, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_decide_error_applies_policy_at_once, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_completion_with_an_error, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_repeat_joins_new_sequence_is_separate, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_full_table_answers_natively, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_too_big_answers_natively, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_shadow_answers_natively_and_grades, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_synchronous_completion_inside_decide, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_native_mode_asks_nobody, h_setup, h_teardown),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
