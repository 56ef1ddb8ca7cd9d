/* The LLM decider in legal authority (the fixture: llm_decider_harness.h): the model's choices
 * reach the wire, and the trace says which. */
#include "llm_decider_harness.h"
#include "slowpath/wire/tcp.h"

/* --- Legal authority: the model's choices reach the wire, and the trace says which --------------- */

#define LEGAL_FRAMES 128
struct captured {
    uint8_t f[LEGAL_FRAMES][H_FRAME_CAP];
    int len[LEGAL_FRAMES];
    int next; /* the number the next frame taken gets (the capture's, sent frames only) */
};

static void take_all(struct fx *f, struct captured *c)
{
    int n;
    while (c->next < LEGAL_FRAMES && (n = sp_mem_take(f->mem, c->f[c->next], H_FRAME_CAP)) > 0)
        c->len[c->next++] = n;
}

static const cJSON *dev_of(const cJSON *rec, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(rec, "deviation"), k);
}

/* An echo reply's IP header has what the deviation says, or the stack's own TTL and DF. */
static void check_icmp_frame(uint8_t *fr, int len, const cJSON *rec)
{
    struct h_ip_out o;
    h_parse_ip(fr, (size_t)len, &o);
    assert_int_equal(o.ip.protocol, SP_IP_PROTO_ICMP);
    assert_int_equal(o.ip.dst, H_IP_PEER); /* never anyone else */
    const cJSON *ttl = dev_of(rec, "ttl"), *id = dev_of(rec, "ip_ident"), *df = dev_of(rec, "df");
    assert_int_equal(o.ip.ttl, ttl ? (int)ttl->valuedouble : SP_DEFAULT_TTL);
    if (id)
        assert_int_equal(o.ip.ident, (int)id->valuedouble);
    assert_int_equal(o.ip.dont_frag, df ? cJSON_IsTrue(df) : false);
}

/* A SYN-ACK carries the deviation's ISS, window, MSS and scale; a refusal is RST-ACK with seq 0. */
static void check_tcp_frame(uint8_t *fr, int len, const cJSON *rec)
{
    struct h_ip_out o;
    struct sp_tcp_view v;
    struct sp_tcp_repr r;
    h_parse_ip(fr, (size_t)len, &o);
    assert_int_equal(sp_tcp_view_init(&v, o.payload, o.payload_len), 0);
    assert_int_equal(sp_tcp_repr_parse(&v, o.ip.src, o.ip.dst, &r), 0);
    const cJSON *act = dev_of(rec, "action"), *iss = dev_of(rec, "iss"), *win = dev_of(rec, "window");
    const cJSON *mss = dev_of(rec, "mss"), *ws = dev_of(rec, "wscale");
    if (act) {
        assert_string_equal(act->valuestring, "rst");
        assert_int_equal(r.flags, SP_TCP_RST | SP_TCP_ACK);
        assert_int_equal(r.seq, 0);
        return;
    }
    if (r.flags == (SP_TCP_RST | SP_TCP_ACK)) /* a closed port's own reset */
        return;
    assert_int_equal(r.flags, SP_TCP_SYN | SP_TCP_ACK);
    if (iss)
        assert_int_equal(r.seq, (uint32_t)iss->valuedouble);
    if (win)
        assert_int_equal(r.window, (int)win->valuedouble);
    if (mss)
        assert_int_equal(r.mss, cJSON_IsNull(mss) ? 0 : (int)mss->valuedouble);
    if (ws)
        assert_int_equal(r.wscale, cJSON_IsNull(ws) ? -1 : (int)ws->valuedouble);
}

/* Pings, SYNs to a listener (some offering window scale) and SYNs to a closed port, in legal
 * authority, answered by a sim that chooses at random: every decision is valid and traced with
 * its deviation, every emitted answer carries what the trace says was chosen, a silence sends
 * nothing, and the stack's per-field counts equal the trace's. */
static void legal_choices(enum sp_llm_format fmt)
{
    struct fx_opts o = {.format = fmt, .authority = SP_AUTHORITY_LEGAL, .choices = SP_LLM_SIM_CHOOSE_RANDOM,
                        .refuse_rate = 0.15, .ignore_rate = 0.15};
    struct fx *f = fx_open(&o);
    struct captured *c = test_calloc(1, sizeof *c);
    struct sp_tcp *l;
    uint8_t fr[H_FRAME_CAP];
    c->next = 2; /* frame 1, the gratuitous ARP, was taken */
    assert_int_equal(sp_tcp_listen(f->iface, 80, 0, fx_on_accept, NULL, &l), 0);
    sp_llm_decider_install(f->dec, SP_DECISION_ICMP, SP_DECIDE_DELEGATE);
    sp_llm_decider_install(f->dec, SP_DECISION_TCP, SP_DECIDE_DELEGATE);
    fx_rx(f, fr, h_arp_request(fr, H_MAC_PEER, H_IP_PEER, H_IP_US)); /* the peer's MAC, natively */
    take_all(f, c);
    for (uint16_t i = 0; i < 16; i++) {
        fx_ping(f, PING_IDENT, i, PING_DATA);
        fx_settle(f);
        take_all(f, c);
    }
    for (uint16_t i = 0; i < 20; i++) {
        struct sp_tcp_repr syn = {.src_port = (uint16_t)(41000 + i), .dst_port = i < 16 ? 80 : 81,
                                  .seq = 1000u * i, .flags = SP_TCP_SYN, .window = 64240, .mss = 1460,
                                  .wscale = (int8_t)(i % 2 ? 7 : -1)};
        fx_tcp(f, &syn);
        fx_settle(f);
        take_all(f, c);
    }
    struct lines lines;
    read_trace(f, &lines);
    assert_int_equal(lines.n, 36);
    uint64_t per_field[SP_DEVIATION_COUNT] = {0};
    unsigned departed = 0, silent = 0;
    for (int i = 0; i < lines.n; i++) {
        const cJSON *rec = lines.v[i], *dev = cJSON_GetObjectItemCaseSensitive(rec, "deviation");
        assert_string_equal(str_of(rec, "authority"), "legal");
        assert_string_equal(str_of(rec, "verdict"), "valid");
        assert_string_equal(str_of(rec, "action"), "llm");
        assert_true(cJSON_IsObject(dev));
        for (int d = 0; d < SP_DEVIATION_COUNT; d++)
            per_field[d] += cJSON_GetObjectItemCaseSensitive(dev, sp_deviation_name((enum sp_deviation)d)) != NULL;
        departed += cJSON_GetArraySize(dev) > 0;
        const cJSON *frame = cJSON_GetObjectItemCaseSensitive(rec, "frame");
        if (cJSON_IsNull(frame)) { /* nothing sent: only a chosen silence */
            assert_true(cJSON_IsTrue(dev_of(rec, "silence")));
            silent++;
            continue;
        }
        int n = (int)frame->valuedouble;
        assert_true(n >= 2 && n < c->next);
        if (strcmp(str_of(rec, "kind"), "icmp") == 0)
            check_icmp_frame(c->f[n], c->len[n], rec);
        else
            check_tcp_frame(c->f[n], c->len[n], rec);
    }
    assert_true(departed > (unsigned)lines.n / 2);
    assert_true(silent > 0);
    for (int d = 0; d < SP_DEVIATION_COUNT; d++) {
        uint64_t stack = sp_iface_decision_stats(f->iface, SP_DECISION_ICMP)->deviations[d] +
                         sp_iface_decision_stats(f->iface, SP_DECISION_TCP)->deviations[d];
        assert_int_equal(stack, per_field[d]);
    }
    assert_true(per_field[SP_DEVIATION_ISS] > 0 && per_field[SP_DEVIATION_TTL] > 0);
    free_lines(&lines);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    sp_llm_decider_print_stats(f->dec, out);
    fclose(out);
    assert_non_null(strstr(text, "       deviations: "));
    assert_non_null(strstr(text, " iss "));
    free(text);
    test_free(c);
    sp_tcp_close(l);
    fx_close(f);
}

static void test_legal_choices_structured(void **state)
{
    (void)state;
    legal_choices(SP_LLM_FMT_STRUCTURED);
}

static void test_legal_choices_raw(void **state)
{
    (void)state;
    legal_choices(SP_LLM_FMT_RAW);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_legal_choices_structured),
        cmocka_unit_test(test_legal_choices_raw),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
