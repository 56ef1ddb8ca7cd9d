/* llm-sim's request-head parser (tools/llm-sim/conn.c), on what a client may send: the inputs
 * fuzz_llmsim_http found (tests/fuzz/corpus/llmsim_http) and the plain cases around them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "llm_sim.h"

/* The head parser reads a NUL-terminated buffer, as conn.c keeps what arrived. */
static long parse(const char *text, size_t len, struct request *rq, size_t *clen)
{
    static char buf[4096];
    assert_true(len < sizeof buf);
    memcpy(buf, text, len);
    buf[len] = '\0';
    return conn_parse_head(buf, len, rq, clen);
}

static void test_a_request_head(void **state)
{
    (void)state;
    static const char req[] = "POST /v1/messages HTTP/1.1\r\nx-api-key: k1\r\nanthropic-version: 2023-06-01\r\n"
                              "Content-Length: 2\r\n\r\n{}";
    struct request rq;
    size_t clen;
    assert_int_equal(parse(req, sizeof req - 1, &rq, &clen), sizeof req - 3);
    assert_string_equal(rq.method, "POST");
    assert_string_equal(rq.path, "/v1/messages");
    assert_string_equal(rq.api_key, "k1");
    assert_int_equal(rq.has_anthropic_version, 1);
    assert_int_equal(clen, 2);
    assert_int_equal(parse(req, 40, &rq, &clen), 0); /* incomplete: more is coming */
}

static void test_nul_bytes_in_a_head_are_data(void **state)
{
    (void)state;
    struct request rq;
    size_t clen;
    /* corpus/llmsim_http/nul_in_request_line.http: the request line's NUL once ended the search
     * for its CRLF, and the parser stepped from a null pointer. */
    static const char line[] = "POST /v1/messages HTTP/1.\377\0001\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
    assert_int_equal(parse(line, sizeof line - 1, &rq, &clen), -411);
    /* Elsewhere a NUL ends the name or value it is in. */
    static const char header[] = "GET /health HTTP/1.1\r\nX-A\0: b\r\nContent-Length: 7\0x\r\n\r\n";
    assert_int_equal(parse(header, sizeof header - 1, &rq, &clen), sizeof header - 1);
    assert_int_equal(clen, 7);
    static const char name[] = "GET /health HTTP/1.1\r\nX-\0A: b\r\n\r\n";
    assert_int_equal(parse(name, sizeof name - 1, &rq, &clen), sizeof name - 1);
    assert_string_equal(rq.path, "/health");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_request_head),
        cmocka_unit_test(test_nul_bytes_in_a_head_are_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
