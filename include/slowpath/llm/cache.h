/* The per-flow context cache: what the model is told about a flow. Each flow (protocol +
 * addresses + ports, or the ICMP id) keeps a compact state summary and its last K exchanges
 * (question, answer). All flows share one byte budget with LRU eviction, idle flows expire
 * after a TTL, lookups are O(1) (chained hash + intrusive LRU list), and time is an argument
 * (milliseconds on the caller's monotonic clock), so tests control it. */
#ifndef SLOWPATH_LLM_CACHE_H
#define SLOWPATH_LLM_CACHE_H

#include "slowpath/layer_llm.h"

#include <stddef.h>
#include <stdint.h>

#include "slowpath/llm/opts.h"

/* 16 bytes, no implicit padding: build it with the helpers so unused bytes are zero. */
struct sp_llm_flow_key {
    uint8_t proto;      /* 1 ICMP, 6 TCP, 17 UDP; 0 for ARP (keyed by the asker's IP) */
    uint8_t zero[3];
    uint8_t src[4], dst[4];
    uint16_t sport, dport; /* host order; ICMP: sport = echo identifier, dport = 0 */
};

struct sp_llm_flow_key sp_llm_flow_key_tcp(const uint8_t src[4], uint16_t sport, const uint8_t dst[4],
                                           uint16_t dport);
struct sp_llm_flow_key sp_llm_flow_key_icmp(const uint8_t src[4], const uint8_t dst[4], uint16_t ident);
struct sp_llm_flow_key sp_llm_flow_key_arp(const uint8_t asker_ip[4]);

struct sp_llm_cache_opts {
    size_t budget_bytes; /* 0: SP_LLM_CACHE_DEFAULT_BUDGET; counts every flow's entry + strings */
    uint64_t ttl_ms;     /* 0: SP_LLM_CACHE_DEFAULT_TTL_MS */
    unsigned k;          /* exchanges kept per flow; 0: SP_LLM_CACHE_DEFAULT_K, max SP_LLM_CACHE_MAX_K */
};

struct sp_llm_cache_stats {
    uint64_t hits, misses;   /* sp_llm_cache_get() outcomes */
    uint64_t evictions;      /* flows dropped for the budget (LRU) */
    uint64_t expirations;    /* flows dropped for idling past the TTL */
    uint64_t flows;          /* live flows */
    uint64_t bytes;          /* accounted bytes of live flows (<= budget) */
    uint64_t table_bytes;    /* the hash table itself, outside the budget */
};

struct sp_llm_flow; /* opaque; valid until the next call that modifies the cache */

typedef struct sp_llm_cache {
    void *data; /* user */
    /* private */
    struct sp_llm_cache_opts opts_;
    struct sp_llm_flow **buckets_;
    size_t nbuckets_;
    struct sp_llm_flow *lru_head_, *lru_tail_; /* head: most recently used */
    struct sp_llm_cache_stats stats_;
} sp_llm_cache;

int sp_llm_cache_init(sp_llm_cache *c, const struct sp_llm_cache_opts *opts);
void sp_llm_cache_free(sp_llm_cache *c);

/* The flow, made most recently used; NULL on a miss (an idle-expired flow is removed and misses). */
const struct sp_llm_flow *sp_llm_cache_get(sp_llm_cache *c, const struct sp_llm_flow_key *key, uint64_t now);

/* Replace the flow's summary (creating the flow). Returns 0, SP_LLM_EINVAL (NULL or longer than
 * SP_LLM_CACHE_MAX_SUMMARY), SP_LLM_ETOOBIG (the flow alone exceeds the budget) or
 * SP_LLM_ENOMEM. Other flows may be evicted to make room. */
int sp_llm_cache_set_summary(sp_llm_cache *c, const struct sp_llm_flow_key *key, const char *summary,
                             uint64_t now);

/* Append an exchange (creating the flow), dropping the oldest beyond K. Same returns. */
int sp_llm_cache_add_exchange(sp_llm_cache *c, const struct sp_llm_flow_key *key, const char *question,
                              const char *answer, uint64_t now);

/* Remove a flow (e.g. TCP CLOSED). Returns 0 or SP_LLM_EINVAL when absent. */
int sp_llm_cache_remove(sp_llm_cache *c, const struct sp_llm_flow_key *key);

/* Drops every flow idle for longer than the TTL; returns how many. O(expired). */
size_t sp_llm_cache_expire(sp_llm_cache *c, uint64_t now);

void sp_llm_cache_stats(const sp_llm_cache *c, struct sp_llm_cache_stats *out);

/* Read access to a flow. Exchanges are numbered oldest (0) to newest (count-1). */
const struct sp_llm_flow_key *sp_llm_flow_key_of(const struct sp_llm_flow *f);
const char *sp_llm_flow_summary(const struct sp_llm_flow *f); /* "" when none */
unsigned sp_llm_flow_exchanges(const struct sp_llm_flow *f);
int sp_llm_flow_exchange(const struct sp_llm_flow *f, unsigned i, const char **question, const char **answer);
size_t sp_llm_flow_bytes(const struct sp_llm_flow *f);

/* The flow as the "state" object of a decision request, compact and in a fixed key order:
 * {"summary":"...","recent":[{"q":"...","a":"..."},...]} (oldest first). Returns a malloc'd
 * string or NULL. */
char *sp_llm_flow_state_json(const struct sp_llm_flow *f);

#endif
