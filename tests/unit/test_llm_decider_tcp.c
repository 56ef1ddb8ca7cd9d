/* The LLM decider and TCP (the fixture: llm_decider_harness.h): a delegated SYN answered by the
 * model, and a connection that goes away while the model still thinks. */
#include "llm_decider_harness.h"
#include "slowpath/wire/tcp.h"

/* A SYN to a listener, delegated: the SYN-ACK comes from the model's proposal once the loop ran. */
static void test_tcp_syn_answered_by_model(void **state)
{
    (void)state;
    struct fx_opts o = {.format = SP_LLM_FMT_STRUCTURED};
    struct fx *f = fx_open(&o);
    struct sp_tcp *l;
    assert_int_equal(sp_tcp_listen(f->iface, 80, 0, fx_on_accept, NULL, &l), 0);
    sp_llm_decider_install(f->dec, SP_DECISION_TCP, SP_DECIDE_DELEGATE);
    uint8_t fr[H_FRAME_CAP], seg[64];
    size_t n = h_arp_request(fr, H_MAC_PEER, H_IP_PEER, H_IP_US); /* the peer's MAC, natively */
    fx_rx(f, fr, n);
    assert_true(sp_mem_take(f->mem, fr, sizeof fr) > 0);
    struct sp_tcp_repr syn = {.src_port = 40000, .dst_port = 80, .seq = 1000, .flags = SP_TCP_SYN,
                              .window = 64240, .mss = 1460, .wscale = -1};
    size_t sl = sp_tcp_repr_buffer_len(&syn);
    sp_tcp_repr_emit(&syn, H_IP_PEER, H_IP_US, seg);
    struct sp_ipv4_repr ip = h_ip(H_IP_PEER, H_IP_US, SP_IP_PROTO_TCP, sl);
    n = h_ip_frame(fr, &ip, seg, sl);
    fx_rx(f, fr, n);
    assert_int_equal(fx_pending(f), 0);
    fx_settle(f);
    int len = sp_mem_take(f->mem, fr, sizeof fr);
    assert_true(len > 0);
    struct h_ip_out out;
    h_parse_ip(fr, (size_t)len, &out);
    struct sp_tcp_view v;
    struct sp_tcp_repr r;
    assert_int_equal(sp_tcp_view_init(&v, out.payload, out.payload_len), 0);
    assert_int_equal(sp_tcp_repr_parse(&v, out.ip.src, out.ip.dst, &r), 0);
    assert_int_equal(r.flags, SP_TCP_SYN | SP_TCP_ACK);
    assert_int_equal(r.ack, 1001);
    assert_int_equal(r.src_port, 80);
    assert_int_equal(r.dst_port, 40000);
    struct lines lines;
    read_trace(f, &lines);
    assert_int_equal(lines.n, 1);
    check_shape(lines.v[0], "tcp", "llm", "structured");
    assert_string_equal(str_of(lines.v[0], "flow"), "tcp 192.0.2.1:40000>192.0.2.2:80");
    assert_string_equal(str_of(lines.v[0], "verdict"), "valid");
    assert_string_equal(str_of(lines.v[0], "action"), "llm");
    assert_int_equal((int)num_of(lines.v[0], "frame"), 3);
    free_lines(&lines);
    sp_tcp_close(l);
    fx_close(f);
}

/* The peer gives up (RST) while the model still thinks: the stack abandons the request and tells
 * the decider through its callback (error:closed, dropped); the answer that comes later is late.
 * The printed statistics say the same as the trace. */
static void test_tcp_connection_gone_while_asking(void **state)
{
    (void)state;
    struct fx_opts o = {.format = SP_LLM_FMT_STRUCTURED, .latency_ms = 20};
    struct fx *f = fx_open(&o);
    struct sp_tcp *l;
    assert_int_equal(sp_tcp_listen(f->iface, 80, 0, fx_on_accept, NULL, &l), 0);
    sp_llm_decider_install(f->dec, SP_DECISION_TCP, SP_DECIDE_DELEGATE);
    uint8_t fr[H_FRAME_CAP];
    fx_rx(f, fr, h_arp_request(fr, H_MAC_PEER, H_IP_PEER, H_IP_US));
    assert_true(sp_mem_take(f->mem, fr, sizeof fr) > 0);
    struct sp_tcp_repr syn = {.src_port = 40000, .dst_port = 80, .seq = 1000, .flags = SP_TCP_SYN,
                              .window = 64240, .mss = 1460, .wscale = -1};
    fx_tcp(f, &syn);
    struct sp_tcp_repr rst = {.src_port = 40000, .dst_port = 80, .seq = 1001, .flags = SP_TCP_RST, .wscale = -1};
    fx_tcp(f, &rst);
    fx_settle(f);
    assert_int_equal(fx_pending(f), 0);

    struct lines lines;
    read_trace(f, &lines);
    assert_int_equal(lines.n, 1);
    check_shape(lines.v[0], "tcp", "llm", "structured");
    assert_string_equal(str_of(lines.v[0], "verdict"), "error:closed");
    assert_string_equal(str_of(lines.v[0], "action"), "drop");
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(lines.v[0], "frame")));
    free_lines(&lines);
    const struct sp_decision_stats *ds = sp_iface_decision_stats(f->iface, SP_DECISION_TCP);
    assert_int_equal(ds->cancelled, 1);
    assert_int_equal(ds->errors, 0);
    assert_int_equal(sp_llm_decider_stats(f->dec, SP_DECISION_TCP)->late, 1);

    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    sp_llm_decider_print_stats(f->dec, out);
    fclose(out);
    assert_non_null(strstr(text, "  tcp  asked 1, valid 0, invalid 0, timeouts 0, errors 1; llm 0, fallback 0, "
                                 "dropped 1, late answers 1\n"));
    assert_null(strstr(text, "  icmp "));
    free(text);
    sp_tcp_close(l);
    fx_close(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tcp_syn_answered_by_model),
        cmocka_unit_test(test_tcp_connection_gone_while_asking),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
