/* The packetdrill script language (google/packetdrill's lexer and grammar, read as documentation):
 * a token stream that ignores line breaks, then a recursive-descent parser into events. Errors
 * name the line. Everything the script keeps (words, strings, expressions) lives in the script's
 * own pools, so a parsed script needs no freeing. */
#include <ctype.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "packetdrill.h"

/* --- tokens ------------------------------------------------------------------------------------ */

enum pd_tok_kind { TK_EOF, TK_INT, TK_FLOAT, TK_WORD, TK_STRING, TK_BACKQ, TK_CODE, TK_OPTION, TK_ELLIPSIS,
                   TK_IPV4, TK_PUNCT };

struct pd_tok {
    enum pd_tok_kind kind;
    int line;
    long long num;
    double fnum;
    const char *s;           /* the text (inside the quotes for strings) */
    size_t n;
};

struct pd_parser {
    struct pd_script *s;
    const char *p;           /* lexer position */
    int line;
    struct pd_tok *t;
    int n, cap, i;
    jmp_buf jb;
};

static void perr(struct pd_parser *ps, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4), noreturn));
static void perr(struct pd_parser *ps, int line, const char *fmt, ...)
{
    char m[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    snprintf(ps->s->err, sizeof ps->s->err, "line %d: %s", line, m);
    longjmp(ps->jb, 1);
}

static void push(struct pd_parser *ps, struct pd_tok tk)
{
    if (ps->n == ps->cap) {
        ps->cap = ps->cap ? 2 * ps->cap : 1024;
        struct pd_tok *t = realloc(ps->t, (size_t)ps->cap * sizeof *t);
        if (!t)
            perr(ps, ps->line, "out of memory");
        ps->t = t;
    }
    ps->t[ps->n++] = tk;
}

static const char *pool_dup(struct pd_parser *ps, const char *src, size_t n)
{
    struct pd_script *s = ps->s;
    if (s->ntext + n + 1 > sizeof s->text)
        perr(ps, ps->line, "script too large (text)");
    char *d = s->text + s->ntext;
    memcpy(d, src, n);
    d[n] = 0;
    s->ntext += n + 1;
    return d;
}

/* Skips blanks and comments; counts lines. */
static void skip_space(struct pd_parser *ps)
{
    for (;;) {
        const char *p = ps->p;
        if (*p == '\n')
            ps->line++;
        if (isspace((unsigned char)*p)) {
            ps->p++;
        } else if (p[0] == '/' && p[1] == '/') {
            while (*ps->p && *ps->p != '\n')
                ps->p++;
        } else if (p[0] == '/' && p[1] == '*') {
            const char *e = strstr(p + 2, "*/");
            const char *stop = e ? e + 2 : p + strlen(p);
            for (; ps->p < stop; ps->p++)
                ps->line += *ps->p == '\n';
        } else {
            return;
        }
    }
}

/* Text up to the closing delimiter `close` (a string or code snippet); lines inside counted. */
static const char *delimited(struct pd_parser *ps, const char *from, const char *close, size_t *n)
{
    const char *e = strstr(from, close);
    if (!e)
        perr(ps, ps->line, "unterminated %s", close);
    *n = (size_t)(e - from);
    for (const char *q = from; q < e; q++)
        ps->line += *q == '\n';
    ps->p = e + strlen(close);
    return from;
}

static bool ipv4_at(const char *p, size_t *len)
{
    const char *q = p;
    for (int part = 0; part < 4; part++) {
        if (!isdigit((unsigned char)*q))
            return false;
        while (isdigit((unsigned char)*q))
            q++;
        if (part < 3 && *q++ != '.')
            return false;
    }
    *len = (size_t)(q - p);
    return true;
}

/* INT `[-]?[0-9]+`, FLOAT `[-]?[0-9]*[.][0-9]+`, HEX `0x...`, IPv4 addresses. */
static bool lex_number(struct pd_parser *ps, struct pd_tok *tk)
{
    const char *p = ps->p;
    size_t len;
    if (ipv4_at(p, &len)) {
        *tk = (struct pd_tok){.kind = TK_IPV4, .s = p, .n = len};
        ps->p += len;
        return true;
    }
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && isxdigit((unsigned char)p[2])) {
        char *end;
        tk->kind = TK_INT;
        tk->num = (long long)strtoull(p + 2, &end, 16);
        tk->s = p;
        tk->n = (size_t)(end - p);
        ps->p = end;
        return true;
    }
    const char *q = p + (*p == '-');
    const char *d = q;
    while (isdigit((unsigned char)*d))
        d++;
    bool frac = d[0] == '.' && isdigit((unsigned char)d[1]);
    if (d == q && !frac)
        return false;
    char *end;
    if (frac) {
        tk->kind = TK_FLOAT;
        tk->fnum = strtod(p, &end);
    } else {
        tk->kind = TK_INT;
        tk->num = strtoll(p, &end, 10);
    }
    tk->s = p;
    tk->n = (size_t)(end - p);
    ps->p = end;
    return true;
}

static int def_index(const struct pd_script *s, const char *w, size_t n)
{
    for (int i = 0; i < s->ndefs; i++)
        if (strlen(s->def_name[i]) == n && strncmp(s->def_name[i], w, n) == 0)
            return i;
    return -1;
}

static void lex_one(struct pd_parser *ps, bool defs);

/* A word defined with --define=NAME=VALUE stands for the tokens of its value. */
static void lex_define(struct pd_parser *ps, const char *value)
{
    const char *save = ps->p;
    int line = ps->line;
    ps->p = value;
    while (*ps->p) {
        lex_one(ps, false);
        ps->t[ps->n - 1].line = line;
        skip_space(ps);
    }
    ps->p = save;
    ps->line = line;
}

/* A digit, or '-' / '.' before one ("-1", ".1", "-.5"): a lone '.' or '-' is a TCP flag. */
static bool starts_number(const char *p)
{
    if (isdigit((unsigned char)p[0]))
        return true;
    if (p[0] != '-' && p[0] != '.')
        return false;
    return isdigit((unsigned char)p[1]) || (p[0] == '-' && p[1] == '.' && isdigit((unsigned char)p[2]));
}

static void lex_one(struct pd_parser *ps, bool defs)
{
    struct pd_tok tk = {.line = ps->line};
    const char *p = ps->p;
    size_t n;
    if (p[0] == '.' && p[1] == '.' && p[2] == '.') {
        tk.kind = TK_ELLIPSIS;
        ps->p += 3;
    } else if (starts_number(p) && lex_number(ps, &tk)) {
        tk.line = ps->line;
    } else if (isalpha((unsigned char)*p) || *p == '_') {
        const char *q = p;
        while (isalnum((unsigned char)*q) || *q == '_')
            q++;
        n = (size_t)(q - p);
        ps->p = q;
        int d = defs ? def_index(ps->s, p, n) : -1;
        if (d >= 0) {
            lex_define(ps, ps->s->def_value[d]);
            return;
        }
        tk.kind = TK_WORD;
        tk.s = p;
        tk.n = n;
    } else if (*p == '"') {
        tk.kind = TK_STRING;
        tk.s = delimited(ps, p + 1, "\"", &tk.n);
    } else if (*p == '`') {
        tk.kind = TK_BACKQ;
        tk.s = delimited(ps, p + 1, "`", &tk.n);
    } else if (p[0] == '%' && p[1] == '{') {
        tk.kind = TK_CODE;
        tk.s = delimited(ps, p + 2, "}%", &tk.n);
    } else if (p[0] == '-' && p[1] == '-' && isalpha((unsigned char)p[2])) {
        tk.kind = TK_OPTION;
        while (*ps->p && !isspace((unsigned char)*ps->p))
            ps->p++;
        tk.s = p + 2;
        tk.n = (size_t)(ps->p - p - 2);
    } else {
        tk.kind = TK_PUNCT;
        tk.s = p;
        tk.n = 1;
        ps->p++;
    }
    push(ps, tk);
}

static void lex_all(struct pd_parser *ps, const char *text, int line)
{
    ps->p = text;
    ps->line = line;
    for (;;) {
        skip_space(ps);
        if (!*ps->p)
            break;
        lex_one(ps, true);
    }
    push(ps, (struct pd_tok){.kind = TK_EOF, .line = ps->line});
}

/* --- token helpers ------------------------------------------------------------------------------ */

static struct pd_tok *cur(struct pd_parser *ps) { return &ps->t[ps->i]; }
static struct pd_tok *at(struct pd_parser *ps, int k)
{
    int j = ps->i + k;
    return &ps->t[j < ps->n ? j : ps->n - 1];
}
static bool is_punct(const struct pd_tok *t, char c) { return t->kind == TK_PUNCT && t->s[0] == c; }
static bool is_word(const struct pd_tok *t, const char *w)
{
    return t->kind == TK_WORD && strlen(w) == t->n && strncmp(t->s, w, t->n) == 0;
}
static struct pd_tok *next_tok(struct pd_parser *ps)
{
    struct pd_tok *t = cur(ps);
    if (t->kind != TK_EOF)
        ps->i++;
    return t;
}

static void expect_punct(struct pd_parser *ps, char c)
{
    struct pd_tok *t = next_tok(ps);
    if (!is_punct(t, c))
        perr(ps, t->line, "expected '%c' at '%.*s'", c, (int)t->n, t->s ? t->s : "end");
}

static long long expect_int(struct pd_parser *ps, const char *what)
{
    struct pd_tok *t = next_tok(ps);
    if (t->kind != TK_INT)
        perr(ps, t->line, "expected %s at '%.*s'", what, (int)t->n, t->s ? t->s : "end");
    return t->num;
}

static const char *tok_text(struct pd_parser *ps, const struct pd_tok *t) { return pool_dup(ps, t->s, t->n); }

/* No script waits longer than this (11.6 days): times and their sums stay far inside a long of
 * microseconds. */
#define PD_MAX_TIME_S 1e6

/* Seconds (an INT or a FLOAT) as microseconds. */
static long expect_time(struct pd_parser *ps)
{
    struct pd_tok *t = next_tok(ps);
    double v;
    if (t->kind == TK_INT)
        v = (double)t->num;
    else if (t->kind == TK_FLOAT)
        v = t->fnum;
    else
        perr(ps, t->line, "expected a time at '%.*s'", (int)t->n, t->s ? t->s : "end");
    if (v < 0)
        perr(ps, t->line, "negative time");
    if (!(v <= PD_MAX_TIME_S))
        perr(ps, t->line, "time %.*s beyond %.0f s", (int)t->n, t->s, PD_MAX_TIME_S);
    return (long)llround(v * 1e6);
}

/* --- expressions (system call arguments and results) -------------------------------------------- */

static struct pd_expr *new_expr(struct pd_parser *ps, enum pd_expr_kind kind)
{
    struct pd_script *s = ps->s;
    if (s->nexprs >= PD_MAX_EXPRS)
        perr(ps, cur(ps)->line, "script too large (expressions)");
    struct pd_expr *x = &s->exprs[s->nexprs++];
    memset(x, 0, sizeof *x);
    x->kind = kind;
    return x;
}

static struct pd_expr *parse_expr(struct pd_parser *ps);

/* Elements up to the closing punctuation, comma separated; returns the first, counts them. */
static struct pd_expr *parse_list(struct pd_parser *ps, char close, int *count)
{
    struct pd_expr *first = NULL, **tail = &first;
    int n = 0;
    while (!is_punct(cur(ps), close)) {
        if (n && !is_punct(next_tok(ps), ','))
            perr(ps, at(ps, -1)->line, "expected ',' or '%c'", close);
        *tail = parse_expr(ps);
        tail = &(*tail)->next;
        n++;
    }
    next_tok(ps);
    if (count)
        *count = n;
    return first;
}

static struct pd_expr *parse_strings(struct pd_parser *ps)
{
    struct pd_expr *x = new_expr(ps, PD_X_STRING);
    char buf[1024];
    size_t len = 0;
    while (cur(ps)->kind == TK_STRING) {
        struct pd_tok *t = next_tok(ps);
        size_t take = t->n < sizeof buf - 1 - len ? t->n : sizeof buf - 1 - len;
        memcpy(buf + len, t->s, take);
        len += take;
    }
    x->text = pool_dup(ps, buf, len);
    if (cur(ps)->kind == TK_ELLIPSIS)
        next_tok(ps);   /* "prefix"... : a string and whatever follows */
    return x;
}

static struct pd_expr *parse_primary(struct pd_parser *ps)
{
    struct pd_tok *t = cur(ps);
    struct pd_expr *x;
    switch (t->kind) {
    case TK_ELLIPSIS:
        next_tok(ps);
        return new_expr(ps, PD_X_ELLIPSIS);
    case TK_INT:
        next_tok(ps);
        x = new_expr(ps, PD_X_INT);
        x->num = t->num;
        return x;
    case TK_STRING:
        return parse_strings(ps);
    case TK_IPV4:
        next_tok(ps);
        x = new_expr(ps, PD_X_WORD);
        x->text = tok_text(ps, t);
        return x;
    case TK_WORD:
        next_tok(ps);
        x = new_expr(ps, PD_X_WORD);
        x->text = tok_text(ps, t);
        if (is_punct(cur(ps), '(')) {
            next_tok(ps);
            x->kind = PD_X_CALL;
            x->kid = parse_list(ps, ')', NULL);
        }
        return x;
    case TK_PUNCT:
        if (is_punct(t, '[') || is_punct(t, '{')) {
            next_tok(ps);
            x = new_expr(ps, is_punct(t, '[') ? PD_X_LIST : PD_X_STRUCT);
            x->kid = parse_list(ps, is_punct(t, '[') ? ']' : '}', NULL);
            return x;
        }
        break;
    default:
        break;
    }
    perr(ps, t->line, "unexpected '%.*s' in an expression", (int)t->n, t->s ? t->s : "end");
}

/* a | b | c, and NAME = value (a struct field, or a msghdr's msg_iov(1) = [...]). */
static struct pd_expr *parse_expr(struct pd_parser *ps)
{
    struct pd_expr *x = parse_primary(ps);
    while (is_punct(cur(ps), '|')) {
        next_tok(ps);
        struct pd_expr *o = new_expr(ps, PD_X_OR);
        o->kid = x;
        x->next = parse_primary(ps);
        x = o;
    }
    if (is_punct(cur(ps), '=') && (x->kind == PD_X_WORD || x->kind == PD_X_CALL)) {
        next_tok(ps);
        struct pd_expr *a = new_expr(ps, PD_X_ASSIGN);
        a->kid = x;
        x->next = parse_expr(ps);
        x = a;
    }
    return x;
}

/* --- packets ------------------------------------------------------------------------------------ */

static void parse_flags(struct pd_parser *ps, struct pd_pkt *k)
{
    struct pd_tok *t = next_tok(ps);
    char f[24] = "";
    /* Room for the word and a '.' after it: no flags are longer, and a cut one would mean less. */
    if (t->n > sizeof f - 2)
        perr(ps, t->line, "TCP flags '%.*s' too long", (int)t->n, t->s);
    if (t->kind == TK_WORD || t->kind == TK_INT)
        snprintf(f, sizeof f, "%.*s", (int)t->n, t->s);
    else if (is_punct(t, '.'))
        snprintf(f, sizeof f, ".");
    else if (t->kind == TK_FLOAT && t->s[0] == '.')
        snprintf(f, sizeof f, "%.*s", (int)t->n, t->s);   /* ".5": ACK and an ACE value */
    else if (!is_punct(t, '-'))
        perr(ps, t->line, "expected TCP flags at '%.*s'", (int)t->n, t->s ? t->s : "end");
    if (t->kind == TK_WORD && is_punct(cur(ps), '.')) {
        next_tok(ps);
        strcat(f, ".");
    }
    for (const char *c = f; *c; c++) {
        switch (*c) {
        case 'S': k->flags |= SP_TCP_SYN; break;
        case 'F': k->flags |= SP_TCP_FIN; break;
        case 'R': k->flags |= SP_TCP_RST; break;
        case 'P': k->flags |= SP_TCP_PSH; break;
        case '.': k->flags |= SP_TCP_ACK; break;
        case 'U': k->flags |= SP_TCP_URG; break;
        case 'E': k->flags |= SP_TCP_ECE; break;
        case 'W': k->flags |= SP_TCP_CWR; break;
        case 'A': k->ae = true; break;
        default:
            if (*c >= '0' && *c <= '7') {
                k->ae = true;
                break;
            }
            perr(ps, t->line, "invalid TCP flag '%c'", *c);
        }
    }
}

static void opt_value(struct pd_parser *ps, struct pd_opt *o, const char *what)
{
    o->v[o->nv++] = (uint32_t)expect_int(ps, what);
}

/* A hex blob (md5 digest, Fast Open cookie), two digits a byte: WORD and INT tokens with nothing
 * between them, since one that starts with digits (0123abcd) is lexed as a number and a word. */
static void opt_hex(struct pd_parser *ps, struct pd_opt *o, bool optional)
{
    struct pd_tok *t = cur(ps);
    if (t->kind != TK_WORD && t->kind != TK_INT) {
        if (!optional)
            perr(ps, t->line, "expected a hex string");
        return;
    }
    const char *s = t->s;
    size_t n = 0;
    for (struct pd_tok *k = t; (k->kind == TK_WORD || k->kind == TK_INT) && k->s == s + n; k = cur(ps)) {
        n += k->n;
        next_tok(ps);
    }
    if (n % 2 || n / 2 > sizeof o->data)
        perr(ps, t->line, "bad hex string '%.*s'", (int)n, s);
    for (size_t i = 0; i < n; i += 2) {
        char b[3] = {s[i], s[i + 1], 0};
        if (!isxdigit((unsigned char)b[0]) || !isxdigit((unsigned char)b[1]))
            perr(ps, t->line, "bad hex string '%.*s'", (int)n, s);
        o->data[o->ndata++] = (uint8_t)strtoul(b, NULL, 16);
    }
}

static void parse_option(struct pd_parser *ps, struct pd_opt *o)
{
    struct pd_tok *t = next_tok(ps);
    memset(o, 0, sizeof *o);
    if (is_word(t, "nop")) {
        o->kind = 1;
    } else if (is_word(t, "eol")) {
        o->kind = 0;
    } else if (is_word(t, "mss")) {
        o->kind = 2;
        opt_value(ps, o, "an MSS");
    } else if (is_word(t, "wscale")) {
        o->kind = 3;
        opt_value(ps, o, "a shift count");
    } else if (is_word(t, "sackOK")) {
        o->kind = 4;
    } else if (is_word(t, "sack")) {
        o->kind = 5;
        do {
            if (o->nv >= 8)
                perr(ps, t->line, "more than 4 SACK blocks");
            opt_value(ps, o, "a SACK block");
            expect_punct(ps, ':');
            opt_value(ps, o, "a SACK block");
        } while (cur(ps)->kind == TK_INT);
    } else if (is_word(t, "TS")) {
        o->kind = 8;
        if (!is_word(next_tok(ps), "val"))
            perr(ps, t->line, "expected TS val");
        opt_value(ps, o, "a TS value");
        if (!is_word(next_tok(ps), "ecr"))
            perr(ps, t->line, "expected ecr");
        opt_value(ps, o, "a TS echo reply");
    } else if (is_word(t, "md5")) {
        o->kind = 19;
        opt_hex(ps, o, false);
    } else if (is_word(t, "FO") || is_word(t, "FOEXP")) {
        o->kind = is_word(t, "FO") ? 34 : 254;
        opt_hex(ps, o, true);
    } else {
        perr(ps, t->line, "unknown TCP option '%.*s'", (int)t->n, t->s ? t->s : "end");
    }
}

static void parse_options(struct pd_parser *ps, struct pd_pkt *k)
{
    next_tok(ps);   /* < */
    if (cur(ps)->kind == TK_ELLIPSIS) {
        next_tok(ps);
        k->any_opts = true;
        expect_punct(ps, '>');
        return;
    }
    for (;;) {
        if (k->nopts >= PD_MAX_OPTS)
            perr(ps, cur(ps)->line, "too many TCP options");
        parse_option(ps, &k->opts[k->nopts++]);
        struct pd_tok *t = next_tok(ps);
        if (is_punct(t, '>'))
            return;
        if (!is_punct(t, ','))
            perr(ps, t->line, "expected ',' or '>' in TCP options");
    }
}

/* `{mut tcp mss; ...}`: packetdrill's fuzzing of outgoing fields, skipped whole. */
static void skip_group(struct pd_parser *ps, char open, char close)
{
    int depth = 0;
    do {
        struct pd_tok *t = next_tok(ps);
        if (t->kind == TK_EOF)
            perr(ps, t->line, "unterminated '%c'", open);
        depth += is_punct(t, open) - is_punct(t, close);
    } while (depth > 0);
}

static void parse_tcp(struct pd_parser *ps, struct pd_pkt *k)
{
    k->proto = PD_P_TCP;
    parse_flags(ps, k);
    long long start = expect_int(ps, "a sequence number");
    expect_punct(ps, ':');
    long long end = expect_int(ps, "a sequence number");
    expect_punct(ps, '(');
    long long len = expect_int(ps, "a payload length");
    expect_punct(ps, ')');
    if (end - start != len || len < 0 || len > 65535)
        perr(ps, at(ps, -1)->line, "inconsistent TCP sequence numbers and payload size");
    k->seq = (uint32_t)start;
    k->len = (uint32_t)len;
    for (;;) {
        struct pd_tok *t = cur(ps);
        if (is_word(t, "ack")) {
            next_tok(ps);
            k->has_ack = true;
            k->ack = (uint32_t)expect_int(ps, "an ack number");
        } else if (is_word(t, "win")) {
            next_tok(ps);
            k->win = (long)expect_int(ps, "a window");
            if (k->win < 0 || k->win > 65535)
                perr(ps, t->line, "TCP window value out of range");
        } else if (is_word(t, "urg")) {
            next_tok(ps);
            k->urg = (uint16_t)expect_int(ps, "an urgent pointer");
        } else if (is_punct(t, '<')) {
            parse_options(ps, k);
        } else if (is_punct(t, '{')) {
            skip_group(ps, '{', '}');
        } else {
            break;
        }
    }
    if (k->inbound && k->win < 0)
        perr(ps, cur(ps)->line, "window must be specified for inbound packets");
    if (k->inbound && k->any_opts)
        perr(ps, cur(ps)->line, "<...> for TCP options can only be used with outbound packets");
}

struct pd_name {
    const char *name;
    int value;
};
static const struct pd_name icmp_types[] = {
    {"echo_reply", 0}, {"unreachable", 3}, {"source_quench", 4}, {"redirect", 5}, {"echo_request", 8},
    {"time_exceeded", 11}, {"parameter_problem", 12}, {"timestamp_request", 13}, {"timestamp_reply", 14},
    {"information_request", 15}, {"information_reply", 16}, {"address_mask_request", 17},
    {"address_mask_reply", 18}, {NULL, 0}};
static const struct pd_name icmp_codes[] = {
    {"net_unreachable", 0}, {"host_unreachable", 1}, {"protocol_unreachable", 2}, {"port_unreachable", 3},
    {"frag_needed", 4}, {"source_route_failed", 5}, {"net_unknown", 6}, {"host_unknown", 7},
    {"source_host_isolated", 8}, {"net_prohibited", 9}, {"host_prohibited", 10},
    {"net_unreachable_for_tos", 11}, {"host_unreachable_for_tos", 12}, {"packet_filtered", 13},
    {"precedence_violation", 14}, {"precedence_cutoff", 15}, {NULL, 0}};

static int icmp_lookup(const struct pd_name *t, const struct pd_tok *tk, const char *num_prefix)
{
    for (; t->name; t++)
        if (is_word(tk, t->name))
            return t->value;
    size_t n = strlen(num_prefix);
    if (tk->kind == TK_WORD && tk->n > n && strncmp(tk->s, num_prefix, n) == 0 && isdigit((unsigned char)tk->s[n]))
        return atoi(tk->s + n);
    return -1;
}

/* The segment an ICMP message echoes: `[1:1461(1460)]`, or `[udp (N)]` / `[raw (N)]` (bytes of
 * another protocol). */
static void parse_icmp_echoed(struct pd_parser *ps, struct pd_pkt *k)
{
    expect_punct(ps, '[');
    if (cur(ps)->kind == TK_INT) {
        k->icmp_echo_seq = true;
        k->icmp_seq = (uint32_t)expect_int(ps, "a sequence number");
        expect_punct(ps, ':');
        expect_int(ps, "a sequence number");
        expect_punct(ps, '(');
        expect_int(ps, "a payload length");
        expect_punct(ps, ')');
    } else {
        next_tok(ps);
        skip_group(ps, '(', ')');
    }
    expect_punct(ps, ']');
}

/* True at `[` opening an echoed segment rather than IP information (`[ect0]`, `[tos 0x1]`). */
static bool at_icmp_echoed(struct pd_parser *ps)
{
    if (!is_punct(cur(ps), '['))
        return false;
    return (at(ps, 1)->kind == TK_INT && is_punct(at(ps, 2), ':')) || is_word(at(ps, 1), "udp") ||
           is_word(at(ps, 1), "raw");
}

/* `icmp unreachable frag_needed mtu 1234 [1:1461(1460)]`, `icmp echo_reply`, `icmp type_1 code_0` */
static void parse_icmp(struct pd_parser *ps, struct pd_pkt *k)
{
    k->proto = PD_P_ICMP;
    struct pd_tok *t = next_tok(ps);
    int type = icmp_lookup(icmp_types, t, "type_");
    if (type < 0 || type > 255)
        perr(ps, t->line, "unknown ICMP type '%.*s'", (int)t->n, t->s ? t->s : "end");
    k->icmp_type = (uint8_t)type;
    t = cur(ps);
    if (t->kind == TK_WORD && !is_word(t, "mtu") && !is_word(t, "id")) {
        next_tok(ps);
        int code = icmp_lookup(icmp_codes, t, "code_");
        if (code < 0 || code > 255)
            perr(ps, t->line, "unknown ICMP code '%.*s'", (int)t->n, t->s);
        k->icmp_code = (uint8_t)code;
    }
    if (is_word(cur(ps), "mtu")) {
        next_tok(ps);
        k->icmp_mtu = (long)expect_int(ps, "an MTU");
    }
    if (is_word(cur(ps), "id")) {
        next_tok(ps);
        expect_int(ps, "an ICMP id");
    }
    if (is_punct(cur(ps), '['))
        parse_icmp_echoed(ps, k);
}

/* `< [ect0] 40000>8080 S 0:0(0) win 100 <mss 1460>`, `> icmp ...`, `< udp (100)` */
static void parse_packet(struct pd_parser *ps, struct pd_event *e)
{
    struct pd_pkt *k = &e->pkt;
    memset(k, 0, sizeof *k);
    k->win = -1;
    k->icmp_mtu = -1;
    k->inbound = is_punct(next_tok(ps), '<');
    if (at_icmp_echoed(ps)) {
        /* `< [1:1461(1460)] icmp ...`: the echoed segment first, as packetdrill's older grammar
         * (and the FreeBSD suite's scripts) write it */
        parse_icmp_echoed(ps, k);
        if (!is_word(cur(ps), "icmp"))
            perr(ps, cur(ps)->line, "an echoed segment must be followed by icmp");
    } else if (is_punct(cur(ps), '(') || is_punct(cur(ps), '[')) {
        skip_group(ps, cur(ps)->s[0], is_punct(cur(ps), '(') ? ')' : ']');   /* tos, ECN marks, ttl */
    }
    struct pd_tok *t = cur(ps);
    if (is_word(t, "ipv4") || is_word(t, "ipv6") || is_word(t, "gre") || is_word(t, "GREv0") || is_word(t, "mpls"))
        perr(ps, t->line, "encapsulated packets are not supported");
    if (t->kind == TK_INT && is_punct(at(ps, 1), '>') && at(ps, 2)->kind == TK_INT) {
        k->has_ports = true;
        k->sport = (uint16_t)next_tok(ps)->num;
        next_tok(ps);
        k->dport = (uint16_t)next_tok(ps)->num;
    }
    if (is_word(cur(ps), "icmp")) {
        next_tok(ps);
        parse_icmp(ps, k);
    } else if (is_word(cur(ps), "udp")) {
        next_tok(ps);
        k->proto = PD_P_UDP;
        skip_group(ps, '(', ')');
    } else {
        parse_tcp(ps, k);
    }
}

/* --- events ------------------------------------------------------------------------------------- */

/* `name(args) = ret [ERRNO] [(note)]`, after an optional `...end` for a blocking call. */
static void parse_syscall(struct pd_parser *ps, struct pd_event *e)
{
    struct pd_syscall *sc = &e->sc;
    if (cur(ps)->kind == TK_ELLIPSIS) {
        next_tok(ps);
        sc->blocking = true;
        sc->end_us = expect_time(ps);
    }
    struct pd_tok *t = next_tok(ps);
    if (t->kind != TK_WORD || !is_punct(cur(ps), '('))
        perr(ps, t->line, "expected a system call at '%.*s'", (int)t->n, t->s ? t->s : "end");
    sc->name = tok_text(ps, t);
    next_tok(ps);
    sc->args = parse_list(ps, ')', &sc->nargs);
    expect_punct(ps, '=');
    sc->ret = parse_primary(ps);
    if (cur(ps)->kind == TK_WORD)
        sc->errno_name = tok_text(ps, next_tok(ps));
    if (is_punct(cur(ps), '('))
        skip_group(ps, '(', ')');   /* strace's note: "(Operation now in progress)" */
}

static void parse_time(struct pd_parser *ps, struct pd_event *e)
{
    if (is_punct(cur(ps), '*')) {
        next_tok(ps);
        e->tkind = PD_T_ANY;
        return;
    }
    bool rel = is_punct(cur(ps), '+');
    if (rel)
        next_tok(ps);
    e->t_us = expect_time(ps);
    e->tkind = rel ? PD_T_REL : PD_T_ABS;
    if (!is_punct(cur(ps), '~'))
        return;
    next_tok(ps);
    if (rel && !is_punct(next_tok(ps), '+'))
        perr(ps, e->line, "a relative time range needs + on both ends");
    e->t_end_us = expect_time(ps);
    e->tkind = rel ? PD_T_REL_RANGE : PD_T_ABS_RANGE;
    if (e->t_end_us < e->t_us)
        perr(ps, e->line, "time range is backwards");
}

static void parse_event(struct pd_parser *ps)
{
    struct pd_script *s = ps->s;
    if (s->nevents >= PD_MAX_EVENTS)
        perr(ps, cur(ps)->line, "too many events");
    struct pd_event *e = &s->ev[s->nevents];
    memset(e, 0, sizeof *e);
    e->line = cur(ps)->line;
    parse_time(ps, e);
    struct pd_tok *t = cur(ps);
    if (is_punct(t, '<') || is_punct(t, '>')) {
        e->kind = PD_EV_PACKET;
        parse_packet(ps, e);
    } else if (t->kind == TK_BACKQ || t->kind == TK_CODE) {
        e->kind = t->kind == TK_BACKQ ? PD_EV_COMMAND : PD_EV_CODE;
        e->text = tok_text(ps, next_tok(ps));
    } else {
        e->kind = PD_EV_SYSCALL;
        parse_syscall(ps, e);
    }
    bool ranged = e->tkind != PD_T_ABS && e->tkind != PD_T_REL;
    if (ranged && (e->kind != PD_EV_PACKET || e->pkt.inbound))
        perr(ps, e->line, "time ranges and * can only be used with outbound packets");
    s->nevents++;
}

/* An option's number, refused unless within [0, max]: the runner computes with it. */
static double option_number(struct pd_parser *ps, int line, const char *name, const char *val, double max)
{
    char *end;
    double v = strtod(val, &end);
    if (end == val || *end || !(v >= 0 && v <= max))
        perr(ps, line, "--%s=%s: not a number in [0, %.0f]", name, val, max);
    return v;
}

/* `--name=value` before the events; the ones that change how the script runs are kept. */
static void parse_option_line(struct pd_parser *ps)
{
    struct pd_tok *t = next_tok(ps);
    char o[200];
    snprintf(o, sizeof o, "%.*s", (int)t->n, t->s);
    char *eq = strchr(o, '=');
    char *val = eq ? eq + 1 : o + strlen(o);
    if (eq)
        *eq = 0;
    struct pd_script *s = ps->s;
    if (strcmp(o, "tolerance_usecs") == 0)
        s->tolerance_us = (long)option_number(ps, t->line, o, val, PD_MAX_TIME_S * 1e6);
    else if (strcmp(o, "tolerance_percent") == 0)
        s->tolerance_pct = option_number(ps, t->line, o, val, 100);
    else if (strcmp(o, "mtu") == 0)
        s->mtu = (int)option_number(ps, t->line, o, val, 65535);
    else if (strcmp(o, "ip_version") == 0)
        s->ipv4 = strcmp(val, "ipv4") == 0;
    else if (strcmp(o, "bind_port") == 0)
        s->bind_port = (uint16_t)atoi(val);
    else if (strcmp(o, "connect_port") == 0)
        s->connect_port = (uint16_t)atoi(val);
    else if (strcmp(o, "define") == 0) {
        char *eq2 = strchr(val, '=');
        if (!eq2 || s->ndefs >= PD_MAX_DEFS)
            perr(ps, t->line, "bad --define");
        s->def_name[s->ndefs] = pool_dup(ps, val, (size_t)(eq2 - val));
        const char *v = eq2 + 1;
        size_t vn = strlen(v);
        if (vn >= 2 && v[0] == '"' && v[vn - 1] == '"') {
            v++;
            vn -= 2;
        }
        s->def_value[s->ndefs++] = pool_dup(ps, v, vn);
    }
    /* anything else (addresses, wire mode, speeds, ...) has no meaning in virtual time */
}

static void parse_script(struct pd_parser *ps)
{
    for (;;) {
        struct pd_tok *t = cur(ps);
        if (t->kind == TK_EOF)
            return;
        if (t->kind == TK_OPTION) {
            /* Options take effect before the text after them is read (--define). */
            parse_option_line(ps);
            continue;
        }
        if (t->kind == TK_BACKQ || t->kind == TK_CODE) {
            next_tok(ps);   /* the init or cleanup command: shell work of the original OS */
            ps->s->ncommands++;
            continue;
        }
        parse_event(ps);
    }
}

/* Options must be read before later tokens are lexed (a --define changes them): the options at
 * the top are lexed and read first, then the rest. */
static const char *lex_leading_options(struct pd_parser *ps, const char *text)
{
    ps->p = text;
    ps->line = 1;
    for (;;) {
        skip_space(ps);
        if (!(ps->p[0] == '-' && ps->p[1] == '-' && isalpha((unsigned char)ps->p[2])))
            break;
        int before = ps->n;
        lex_one(ps, false);
        ps->i = before;
        parse_option_line(ps);
    }
    return ps->p;
}

int pd_parse(const char *text, struct pd_script *s)
{
    memset(s, 0, sizeof *s);
    s->tolerance_us = 4000; /* packetdrill's default */
    s->ipv4 = true;
    struct pd_parser ps = {.s = s};
    if (setjmp(ps.jb)) {
        free(ps.t);
        return -1;
    }
    const char *rest = lex_leading_options(&ps, text);
    ps.n = 0;
    lex_all(&ps, rest, ps.line);
    ps.i = 0;
    parse_script(&ps);
    free(ps.t);
    return 0;
}
