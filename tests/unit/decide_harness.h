/* A fake decider for the decision-point tests: it records every request (with copies of its
 * packet and native answer, which are only lent during the call) and every outcome, and either
 * answers later (the test calls fake_complete) or at once from inside decide. Outcomes come both
 * ways: returned by sp_decision_complete, or told through the callback for the endings the stack
 * starts itself; outs[] holds them in the order they came. */
#ifndef SP_DECIDE_HARNESS_H
#define SP_DECIDE_HARNESS_H

#include "iface_harness.h"
#include "slowpath/decide.h"

#define F_MAX 80

struct fake_req {
    struct sp_decision_request req; /* packet/native/icmp.data repointed at the copies below */
    uint8_t packet[SP_DECISION_MAX_PACKET];
    uint8_t native[SP_DECISION_MAX_PACKET];
};

struct fake {
    struct sp_iface *iface;
    int nreq, nout;
    struct fake_req reqs[F_MAX];
    struct sp_decision_outcome outs[F_MAX];
    int decide_rc;                       /* what decide returns */
    bool sync;                           /* complete from inside decide with sync_prop */
    int sync_error;
    struct sp_decision_proposal sync_prop;
    sp_time_t sync_now;
};

/* Completes a request as a decider does, keeping the outcome it returns with the others. */
int fake_complete(struct fake *f, sp_time_t now, uint64_t id, int error,
                  const struct sp_decision_proposal *p);

int fake_decide(void *ctx, const struct sp_decision_request *req);

void fake_outcome(void *ctx, const struct sp_decision_outcome *out);

/* Installs a fresh fake for kind in mode. */
struct fake *fake_install(struct harness *h, enum sp_decision_kind kind, enum sp_decision_mode mode);

const struct sp_decision_stats *dstats(const struct harness *h, enum sp_decision_kind k);

/* The latest outcome the decider got has these fields. */
void outcome_is(const struct fake *f, uint64_t id, enum sp_verdict v, int error,
                enum sp_decision_action a, bool emitted);

#endif
