/* The simulated provider prompt cache (see sim_cache.h): prefixes are hashed as they stream past,
 * so a request costs one pass over its bytes whatever its size, and only hashes are kept. */
#include "slowpath/llm/sim_cache.h"

#include <endian.h>
#include <string.h>

#include "slowpath/llm/tokens.h"

/* A streaming hash over bytes, 8 at a time: the value at any point is the hash of everything fed
 * so far, however the bytes were split into parts. */
struct hasher {
    uint64_t h, carry;
    unsigned nc; /* bytes waiting in carry */
    uint64_t n;  /* bytes fed */
};

static uint64_t mix(uint64_t h, uint64_t w)
{
    h = (h ^ w) * 0x9e3779b97f4a7c15ull;
    return h ^ (h >> 29);
}

static uint64_t le64(const unsigned char *p)
{
    uint64_t w;
    memcpy(&w, p, sizeof w);
    return le64toh(w); /* the same words on any host, as the carried bytes are */
}

static void feed(struct hasher *s, const char *text, size_t len)
{
    const unsigned char *p = (const unsigned char *)text;
    s->n += len;
    while (len && s->nc) { /* finish a word begun by an earlier part */
        s->carry |= (uint64_t)*p++ << (8 * s->nc++);
        len--;
        if (s->nc == 8) {
            s->h = mix(s->h, s->carry);
            s->carry = 0;
            s->nc = 0;
        }
    }
    for (; len >= 8; p += 8, len -= 8) s->h = mix(s->h, le64(p));
    while (len--) s->carry |= (uint64_t)*p++ << (8 * s->nc++);
}

static uint64_t value(const struct hasher *s)
{
    uint64_t h = mix(mix(s->h, s->carry ^ (uint64_t)s->nc << 56), s->n);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h ? h : 1; /* 0 marks an empty entry */
}

/* Every key starts from the model and the behaviour: a cache is never shared across models. */
static struct hasher seeded(enum sp_llm_cache_style style, const char *model)
{
    struct hasher s;
    char tag = style == SP_LLM_CACHE_AUTO ? 'a' : 'e';
    memset(&s, 0, sizeof s);
    if (model) feed(&s, model, strlen(model) + 1);
    feed(&s, &tag, 1);
    return s;
}

void sp_llm_sim_cache_init(struct sp_llm_sim_cache *c, uint32_t min_tokens, uint64_t ttl_ms)
{
    memset(c, 0, sizeof *c);
    c->min_tokens = min_tokens;
    c->ttl_ms = ttl_ms ? ttl_ms : SP_LLM_SIM_CACHE_TTL_MS;
}

static struct sp_llm_sim_cache_entry *set_of(struct sp_llm_sim_cache *c, uint64_t key)
{
    return c->e[(key >> 7) % SP_LLM_SIM_CACHE_SETS];
}

static void touch(struct sp_llm_sim_cache *c, struct sp_llm_sim_cache_entry *e, uint64_t key, uint64_t now_ms)
{
    e->key = key;
    e->expires_ms = now_ms + c->ttl_ms;
    e->used = ++c->uses;
}

static int live(const struct sp_llm_sim_cache_entry *e, uint64_t now_ms)
{
    return e->key && e->expires_ms > now_ms;
}

/* A live entry for key renews its lifetime and returns 1; otherwise key takes its own expired
 * entry, or the set's first dead one, or its least recently used one, and 0 is returned. */
static int lookup_or_store(struct sp_llm_sim_cache *c, uint64_t key, uint64_t now_ms)
{
    struct sp_llm_sim_cache_entry *set = set_of(c, key), *victim = NULL;
    for (int i = 0; i < SP_LLM_SIM_CACHE_WAYS; i++) {
        if (set[i].key == key) {
            int hit = live(&set[i], now_ms);
            touch(c, &set[i], key, now_ms);
            return hit;
        }
    }
    for (int i = 0; i < SP_LLM_SIM_CACHE_WAYS && !victim; i++)
        if (!live(&set[i], now_ms)) victim = &set[i];
    if (!victim) {
        victim = &set[0];
        for (int i = 1; i < SP_LLM_SIM_CACHE_WAYS; i++)
            if (set[i].used < victim->used) victim = &set[i];
    }
    touch(c, victim, key, now_ms);
    return 0;
}

static void account_explicit(struct sp_llm_sim_cache *c, struct hasher s, const struct sp_llm_cache_part *parts,
                             unsigned nparts, uint64_t now_ms, struct sp_llm_usage *u)
{
    uint64_t base = s.n, bytes = 0;
    uint32_t read = 0, end = 0;
    unsigned nbp = 0;
    for (unsigned i = 0; i < nparts; i++) {
        feed(&s, parts[i].text, parts[i].len);
        bytes += parts[i].len;
        if (!parts[i].breakpoint || nbp++ >= SP_LLM_SIM_CACHE_BREAKPOINTS) continue;
        uint32_t t = sp_llm_tokens_estimate(s.n - base);
        if (t < c->min_tokens) continue; /* too short to cache: silently not cached */
        if (lookup_or_store(c, value(&s), now_ms)) read = t;
        end = t;
    }
    u->input_tokens = sp_llm_tokens_estimate(bytes);
    u->cache_read_tokens = read;
    u->cache_write_tokens = end > read ? end - read : 0;
}

static void account_auto(struct sp_llm_sim_cache *c, struct hasher s, const struct sp_llm_cache_part *parts,
                         unsigned nparts, uint64_t now_ms, struct sp_llm_usage *u)
{
    uint64_t base = s.n, bytes = 0;
    uint32_t first = c->min_tokens ? c->min_tokens : SP_LLM_SIM_CACHE_STEP_TOKENS;
    uint64_t next = sp_llm_tokens_bytes(first), step = sp_llm_tokens_bytes(SP_LLM_SIM_CACHE_STEP_TOKENS);
    uint32_t hit = 0;
    for (unsigned i = 0; i < nparts; i++) {
        size_t off = 0;
        while (off < parts[i].len) {
            uint64_t room = next - (s.n - base);
            size_t k = parts[i].len - off < room ? parts[i].len - off : (size_t)room;
            feed(&s, parts[i].text + off, k);
            off += k;
            if (s.n - base < next) continue;
            /* a step boundary: the prefix so far is a cacheable block */
            if (lookup_or_store(c, value(&s), now_ms)) hit = (uint32_t)(next / SP_LLM_TOKEN_BYTES);
            next += step;
        }
        bytes += parts[i].len;
    }
    u->input_tokens = sp_llm_tokens_estimate(bytes);
    u->cache_read_tokens = hit;
    u->cache_write_tokens = 0; /* OpenAI does not report writes */
}

void sp_llm_sim_cache_account(struct sp_llm_sim_cache *c, enum sp_llm_cache_style style, const char *model,
                              const struct sp_llm_cache_part *parts, unsigned nparts, uint64_t now_ms,
                              struct sp_llm_usage *u)
{
    struct hasher s = seeded(style, model);
    if (style == SP_LLM_CACHE_AUTO) account_auto(c, s, parts, nparts, now_ms, u);
    else account_explicit(c, s, parts, nparts, now_ms, u);
}
