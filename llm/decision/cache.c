/* Context cache: a chained hash table over flows plus an intrusive doubly-linked LRU list.
 * Every byte a flow owns is accounted (entry, ring of K exchanges, strings), so the budget is a
 * real bound on memory, not an entry count. */
#include "slowpath/llm/cache.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "slowpath/llm/error.h"

struct exchange {
    char *q, *a;
};

struct sp_llm_flow {
    struct sp_llm_flow_key key;
    struct sp_llm_flow *hnext;
    struct sp_llm_flow *prev, *next; /* LRU */
    uint64_t last_used;
    size_t bytes;
    char *summary;
    uint8_t k, count, first; /* ring of K exchanges */
    struct exchange ex[];
};

struct sp_llm_flow_key sp_llm_flow_key_tcp(const uint8_t src[4], uint16_t sport, const uint8_t dst[4],
                                           uint16_t dport)
{
    struct sp_llm_flow_key k;
    memset(&k, 0, sizeof k);
    k.proto = 6;
    memcpy(k.src, src, 4);
    memcpy(k.dst, dst, 4);
    k.sport = sport;
    k.dport = dport;
    return k;
}

struct sp_llm_flow_key sp_llm_flow_key_icmp(const uint8_t src[4], const uint8_t dst[4], uint16_t ident)
{
    struct sp_llm_flow_key k;
    memset(&k, 0, sizeof k);
    k.proto = 1;
    memcpy(k.src, src, 4);
    memcpy(k.dst, dst, 4);
    k.sport = ident;
    return k;
}

struct sp_llm_flow_key sp_llm_flow_key_arp(const uint8_t ip[4])
{
    struct sp_llm_flow_key k;
    memset(&k, 0, sizeof k);
    memcpy(k.src, ip, 4);
    return k;
}

static uint64_t hash_key(const struct sp_llm_flow_key *k)
{
    uint64_t a, b;
    memcpy(&a, k, 8);
    memcpy(&b, (const char *)k + 8, 8);
    a ^= b * 0x9e3779b97f4a7c15ull;
    a ^= a >> 33;
    a *= 0xff51afd7ed558ccdull;
    a ^= a >> 33;
    a *= 0xc4ceb9fe1a85ec53ull;
    return a ^ (a >> 33);
}

static size_t base_bytes(const sp_llm_cache *c)
{
    return sizeof(struct sp_llm_flow) + c->opts_.k * sizeof(struct exchange);
}

int sp_llm_cache_init(sp_llm_cache *c, const struct sp_llm_cache_opts *o)
{
    if (!c) return SP_LLM_EINVAL;
    memset(c, 0, sizeof *c);
    if (o) c->opts_ = *o;
    if (!c->opts_.budget_bytes) c->opts_.budget_bytes = SP_LLM_CACHE_DEFAULT_BUDGET;
    if (!c->opts_.ttl_ms) c->opts_.ttl_ms = SP_LLM_CACHE_DEFAULT_TTL_MS;
    if (!c->opts_.k) c->opts_.k = SP_LLM_CACHE_DEFAULT_K;
    if (c->opts_.k > SP_LLM_CACHE_MAX_K) return SP_LLM_EINVAL;
    c->nbuckets_ = 64;
    c->buckets_ = calloc(c->nbuckets_, sizeof *c->buckets_);
    if (!c->buckets_) return SP_LLM_ENOMEM;
    c->stats_.table_bytes = c->nbuckets_ * sizeof *c->buckets_;
    return 0;
}

static void lru_unlink(sp_llm_cache *c, struct sp_llm_flow *f)
{
    if (f->prev) f->prev->next = f->next;
    else c->lru_head_ = f->next;
    if (f->next) f->next->prev = f->prev;
    else c->lru_tail_ = f->prev;
    f->prev = f->next = NULL;
}

static void lru_push_head(sp_llm_cache *c, struct sp_llm_flow *f)
{
    f->next = c->lru_head_;
    f->prev = NULL;
    if (c->lru_head_) c->lru_head_->prev = f;
    c->lru_head_ = f;
    if (!c->lru_tail_) c->lru_tail_ = f;
}

static struct sp_llm_flow **slot_of(sp_llm_cache *c, const struct sp_llm_flow_key *k)
{
    struct sp_llm_flow **pp = &c->buckets_[hash_key(k) & (c->nbuckets_ - 1)];
    while (*pp && memcmp(&(*pp)->key, k, sizeof *k) != 0) pp = &(*pp)->hnext;
    return pp;
}

static void free_flow(sp_llm_cache *c, struct sp_llm_flow *f)
{
    for (unsigned i = 0; i < c->opts_.k; i++) {
        free(f->ex[i].q);
        free(f->ex[i].a);
    }
    free(f->summary);
    free(f);
}

static void drop(sp_llm_cache *c, struct sp_llm_flow *f)
{
    struct sp_llm_flow **pp = slot_of(c, &f->key);
    *pp = f->hnext;
    lru_unlink(c, f);
    c->stats_.bytes -= f->bytes;
    c->stats_.flows--;
    free_flow(c, f);
}

void sp_llm_cache_free(sp_llm_cache *c)
{
    if (!c || !c->buckets_) return;
    while (c->lru_head_) {
        struct sp_llm_flow *f = c->lru_head_;
        lru_unlink(c, f);
        free_flow(c, f);
    }
    free(c->buckets_);
    memset(c, 0, sizeof *c);
}

size_t sp_llm_cache_expire(sp_llm_cache *c, uint64_t now)
{
    size_t n = 0;
    while (c->lru_tail_ && now > c->lru_tail_->last_used &&
           now - c->lru_tail_->last_used > c->opts_.ttl_ms) {
        drop(c, c->lru_tail_);
        c->stats_.expirations++;
        n++;
    }
    return n;
}

static int grow(sp_llm_cache *c)
{
    size_t n = c->nbuckets_ * 2;
    struct sp_llm_flow **b = calloc(n, sizeof *b);
    if (!b) return SP_LLM_ENOMEM;
    for (size_t i = 0; i < c->nbuckets_; i++) {
        struct sp_llm_flow *f = c->buckets_[i], *next;
        for (; f; f = next) {
            size_t j = hash_key(&f->key) & (n - 1);
            next = f->hnext;
            f->hnext = b[j];
            b[j] = f;
        }
    }
    free(c->buckets_);
    c->buckets_ = b;
    c->nbuckets_ = n;
    c->stats_.table_bytes = n * sizeof *b;
    return 0;
}

const struct sp_llm_flow *sp_llm_cache_get(sp_llm_cache *c, const struct sp_llm_flow_key *key, uint64_t now)
{
    struct sp_llm_flow *f;
    if (!c || !key) return NULL;
    f = *slot_of(c, key);
    if (f && now > f->last_used && now - f->last_used > c->opts_.ttl_ms) {
        drop(c, f);
        c->stats_.expirations++;
        f = NULL;
    }
    if (!f) {
        c->stats_.misses++;
        return NULL;
    }
    c->stats_.hits++;
    f->last_used = now;
    lru_unlink(c, f);
    lru_push_head(c, f);
    return f;
}

/* The flow for key, created if needed, made most recently used. */
static struct sp_llm_flow *touch(sp_llm_cache *c, const struct sp_llm_flow_key *key, uint64_t now, int *err)
{
    struct sp_llm_flow **pp, *f;
    sp_llm_cache_expire(c, now);
    pp = slot_of(c, key);
    if ((f = *pp) != NULL) {
        f->last_used = now;
        lru_unlink(c, f);
        lru_push_head(c, f);
        return f;
    }
    if (base_bytes(c) > c->opts_.budget_bytes) {
        *err = SP_LLM_ETOOBIG;
        return NULL;
    }
    if (c->stats_.flows >= c->nbuckets_ && grow(c) == 0) pp = slot_of(c, key);
    f = calloc(1, base_bytes(c));
    if (!f) {
        *err = SP_LLM_ENOMEM;
        return NULL;
    }
    f->key = *key;
    f->k = (uint8_t)c->opts_.k;
    f->last_used = now;
    f->bytes = base_bytes(c);
    f->hnext = NULL;
    *pp = f;
    lru_push_head(c, f);
    c->stats_.flows++;
    c->stats_.bytes += f->bytes;
    return f;
}

/* Evicts least recently used flows other than keep until the budget holds. */
static void fit(sp_llm_cache *c, const struct sp_llm_flow *keep)
{
    while (c->stats_.bytes > c->opts_.budget_bytes && c->lru_tail_ && c->lru_tail_ != keep) {
        drop(c, c->lru_tail_);
        c->stats_.evictions++;
    }
}

static void account(sp_llm_cache *c, struct sp_llm_flow *f, size_t old, size_t now_bytes)
{
    f->bytes = f->bytes - old + now_bytes;
    c->stats_.bytes = c->stats_.bytes - old + now_bytes;
}

static size_t slen(const char *s)
{
    return s ? strlen(s) + 1 : 0;
}

/* A flow alone over the budget gives up its oldest exchanges (keeping keep of them). */
static void trim_self(sp_llm_cache *c, struct sp_llm_flow *f, unsigned keep)
{
    while (f->bytes > c->opts_.budget_bytes && f->count > keep) {
        struct exchange *old = &f->ex[f->first];
        account(c, f, slen(old->q) + slen(old->a), 0);
        free(old->q);
        free(old->a);
        old->q = old->a = NULL;
        f->first = (uint8_t)((f->first + 1) % f->k);
        f->count--;
    }
}

int sp_llm_cache_set_summary(sp_llm_cache *c, const struct sp_llm_flow_key *key, const char *summary,
                             uint64_t now)
{
    struct sp_llm_flow *f;
    char *s;
    int err = 0;
    if (!c || !key || !summary || strlen(summary) > SP_LLM_CACHE_MAX_SUMMARY) return SP_LLM_EINVAL;
    if (base_bytes(c) + strlen(summary) + 1 > c->opts_.budget_bytes) return SP_LLM_ETOOBIG;
    if (!(f = touch(c, key, now, &err))) return err;
    if (!(s = strdup(summary))) return SP_LLM_ENOMEM;
    account(c, f, slen(f->summary), slen(s));
    free(f->summary);
    f->summary = s;
    trim_self(c, f, 0);
    fit(c, f);
    return 0;
}

int sp_llm_cache_add_exchange(sp_llm_cache *c, const struct sp_llm_flow_key *key, const char *question,
                              const char *answer, uint64_t now)
{
    struct sp_llm_flow *f;
    struct exchange *slot;
    char *q, *a;
    int err = 0;
    if (!c || !key || !question || !answer) return SP_LLM_EINVAL;
    if (base_bytes(c) + slen(question) + slen(answer) > c->opts_.budget_bytes) return SP_LLM_ETOOBIG;
    if (!(f = touch(c, key, now, &err))) return err;
    q = strdup(question);
    a = strdup(answer);
    if (!q || !a) {
        free(q);
        free(a);
        return SP_LLM_ENOMEM;
    }
    if (f->count == c->opts_.k) { /* ring full: the oldest goes */
        slot = &f->ex[f->first];
        f->first = (uint8_t)((f->first + 1) % c->opts_.k);
    } else {
        slot = &f->ex[(f->first + f->count) % c->opts_.k];
        f->count++;
    }
    account(c, f, slen(slot->q) + slen(slot->a), slen(q) + slen(a));
    free(slot->q);
    free(slot->a);
    slot->q = q;
    slot->a = a;
    trim_self(c, f, 1);
    fit(c, f);
    return 0;
}

int sp_llm_cache_remove(sp_llm_cache *c, const struct sp_llm_flow_key *key)
{
    struct sp_llm_flow *f;
    if (!c || !key || !(f = *slot_of(c, key))) return SP_LLM_EINVAL;
    drop(c, f);
    return 0;
}

void sp_llm_cache_stats(const sp_llm_cache *c, struct sp_llm_cache_stats *out)
{
    *out = c->stats_;
}

const struct sp_llm_flow_key *sp_llm_flow_key_of(const struct sp_llm_flow *f)
{
    return &f->key;
}

const char *sp_llm_flow_summary(const struct sp_llm_flow *f)
{
    return f->summary ? f->summary : "";
}

unsigned sp_llm_flow_exchanges(const struct sp_llm_flow *f)
{
    return f->count;
}

size_t sp_llm_flow_bytes(const struct sp_llm_flow *f)
{
    return f->bytes;
}

int sp_llm_flow_exchange(const struct sp_llm_flow *f, unsigned i, const char **q, const char **a)
{
    const struct exchange *e;
    if (!f || i >= f->count) return SP_LLM_EINVAL;
    e = &f->ex[(f->first + i) % f->k];
    *q = e->q;
    *a = e->a;
    return 0;
}

char *sp_llm_flow_state_json(const struct sp_llm_flow *f)
{
    cJSON *o = cJSON_CreateObject(), *arr;
    char *s;
    if (!o || !f) return cJSON_Delete(o), NULL;
    cJSON_AddStringToObject(o, "summary", sp_llm_flow_summary(f));
    arr = cJSON_AddArrayToObject(o, "recent");
    for (unsigned i = 0; i < f->count; i++) {
        const struct exchange *e = &f->ex[(f->first + i) % f->k];
        cJSON *x = cJSON_CreateObject();
        cJSON_AddItemToArray(arr, x);
        cJSON_AddStringToObject(x, "q", e->q);
        cJSON_AddStringToObject(x, "a", e->a);
    }
    s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}
