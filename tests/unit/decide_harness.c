/* The decide harness (decide_harness.h). */
#include "decide_harness.h"

int fake_complete(struct fake *f, sp_time_t now, uint64_t id, int error,
                  const struct sp_decision_proposal *p)
{
    struct sp_decision_outcome out;
    memset(&out, 0xa5, sizeof out);
    int told = f->nout;
    int rc = sp_decision_complete(f->iface, now, id, error, p, &out);
    assert_int_equal(f->nout, told); /* the callback is only for endings the stack starts */
    if (rc == 0) {
        assert_int_equal(out.id, id);
        assert_true(f->nout < F_MAX);
        f->outs[f->nout++] = out;
    }
    return rc;
}

int fake_decide(void *ctx, const struct sp_decision_request *req)
{
    struct fake *f = ctx;
    assert_true(f->nreq < F_MAX);
    struct fake_req *r = &f->reqs[f->nreq++];
    r->req = *req;
    assert_true(req->packet_len <= SP_DECISION_MAX_PACKET && req->native_len <= SP_DECISION_MAX_PACKET);
    memcpy(r->packet, req->packet, req->packet_len);
    memcpy(r->native, req->native, req->native_len);
    r->req.packet = r->packet;
    r->req.native = r->native;
    if (req->icmp.data)
        r->req.icmp.data = r->packet + (req->icmp.data - req->packet);
    if (f->sync)
        assert_int_equal(fake_complete(f, f->sync_now, req->id, f->sync_error, f->sync_error ? NULL : &f->sync_prop),
                         0);
    return f->decide_rc;
}

void fake_outcome(void *ctx, const struct sp_decision_outcome *out)
{
    struct fake *f = ctx;
    assert_true(f->nout < F_MAX);
    f->outs[f->nout++] = *out;
}

struct fake *fake_install(struct harness *h, enum sp_decision_kind kind, enum sp_decision_mode mode)
{
    struct fake *f = test_calloc(1, sizeof *f);
    assert_non_null(f);
    f->iface = h->iface;
    struct sp_decider d = {.decide = fake_decide, .outcome = fake_outcome, .ctx = f};
    sp_iface_set_decider(h->iface, kind, mode, &d);
    return f;
}

const struct sp_decision_stats *dstats(const struct harness *h, enum sp_decision_kind k)
{
    return sp_iface_decision_stats(h->iface, k);
}

void outcome_is(const struct fake *f, uint64_t id, enum sp_verdict v, int error,
                enum sp_decision_action a, bool emitted)
{
    assert_true(f->nout > 0);
    const struct sp_decision_outcome *o = &f->outs[f->nout - 1];
    assert_int_equal(o->id, id);
    assert_int_equal(o->verdict, v);
    assert_int_equal(o->error, error);
    assert_int_equal(o->action, a);
    assert_int_equal(o->emitted, emitted);
}
