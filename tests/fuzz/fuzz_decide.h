/* fuzz_decisions' input format (the harness and the seed generator share it):
 *
 *   input  := config[FZD_CONFIG] record*          records as in fuzz_host.h
 *   config[0]  the mode of each kind, two bits each (icmp bits 0-1, arp 2-3, tcp 4-5):
 *              0 native, 1 delegate, 2 shadow, 3 delegate
 *   config[1]  bit 0: legal authority (else exact); bit 1: the drop policy (else fallback);
 *              bits 2-4: the decision deadline: 0 the default (10 s), then 1, 10, 100 ms, 1, 5,
 *              30, 60 s
 *   config[2]  bit 0 (FZD_CONFIG_OFFLOAD): a host with offloads, whose records carry metadata
 *              before their frames (fuzz_host.h)
 *
 * A record whose fix has FZD_FIX_DECISION is not a frame but the stub decider's answer to one of
 * the requests it holds: op's low three bits pick it (oldest first, modulo how many; 7 names one
 * that already ended, which the stack must refuse), the rest the proposal (enum fzd_mode), made
 * from the request's native answer and the record's bytes. With FZD_FIX_ARM the answer is kept
 * for the next request and given from inside decide (an error mode then makes decide refuse);
 * FZ_FIX_CSUM repairs the checksums of raw bytes. With FZD_FIX_CONFIG instead, the record's
 * bytes are a new config[0] and config[1] for the requests asked from then on (the decider stays
 * installed, so that requests parked before still report their endings). */
#ifndef SP_FUZZ_DECIDE_H
#define SP_FUZZ_DECIDE_H

#include <stdint.h>

#define FZD_CONFIG 4
#define FZD_FIX_DECISION 0x80
#define FZD_FIX_ARM 0x40
#define FZD_FIX_CONFIG 0x20
#define FZD_CONFIG_OFFLOAD 0x01

enum fzd_mode {
    FZD_ERROR,        /* an error instead of a proposal (bytes[0] picks it) */
    FZD_NATIVE,       /* the native answer, as a structured proposal */
    FZD_PATCHED,      /* the same, then fields set from the bytes: [field u8][value u32be]... */
    FZD_FIELDS,       /* every field from the bytes */
    FZD_NATIVE_RAW,   /* the native answer's bytes, raw */
    FZD_RAW_PATCHED,  /* the same, then bytes set: [offset u16be][value u8]... */
    FZD_RAW,          /* the record's bytes, raw */
    FZD_DROP,         /* no answer (valid in legal only) */
    FZD_WRONG_ACTION, /* the native answer with the action of bytes[0] */
    FZD_MODES
};

static inline uint8_t fzd_op(unsigned which, enum fzd_mode mode) { return (uint8_t)((which & 7) | mode << 3); }

#endif
