/* libFuzzer target for the IMAP response parser: any bytes, fed whole, split
 * at a point the data picks and (when short) one byte at a time, must give
 * the same events and never crash, leak or read out of bounds.  The first
 * two bytes of an input are settings (split point, tight limits, pauses);
 * the seed corpus is the test fixtures with two such bytes in front. */
#include <posta/imap_parser.h>

#include <stdlib.h>
#include <string.h>

/* What a run reports, folded into one FNV-1a hash: every field of every
 * response and every tree node is read, so over-reads show under ASan. */
struct run {
    uint64_t h;
    int pause;      /* callbacks return POSTA_EAGAIN now and then */
    unsigned calls;
};

static void mix(struct run *r, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++)
        r->h = (r->h ^ s[i]) * 1099511628211ull;
}

static void mix_u(struct run *r, uint64_t v)
{
    mix(r, &v, sizeof(v));
}

static void mix_str(struct run *r, const char *s, size_t n)
{
    mix_u(r, n);
    if (s) {
        mix(r, s, n);
        if (s[n] != '\0')  /* the contract: NUL-terminated */
            abort();
    } else if (n)
        abort();
}

static void mix_args(struct run *r, const posta_imap_arg *a, size_t n)
{
    mix_u(r, n);
    for (size_t i = 0; i < n; i++) {
        mix_u(r, a[i].type);
        mix_u(r, a[i].size);
        mix_u(r, (uint64_t)a[i].literal8);
        if (a[i].type == POSTA_IMAP_ARG_LIST)
            mix_args(r, a[i].list, a[i].count);
        else if (a[i].type != POSTA_IMAP_ARG_NIL && a[i].type != POSTA_IMAP_ARG_LITERAL_STREAMED)
            mix_str(r, a[i].str, a[i].len);
    }
}

static int paused(struct run *r)
{
    return r->pause && (++r->calls % 3) == 0 ? POSTA_EAGAIN : 0;
}

static int on_response(posta_imap_parser *p, const posta_imap_response *x, void *user)
{
    struct run *r = user;
    mix_u(r, x->kind);
    mix_u(r, x->status);
    mix_u(r, x->offset);
    mix_str(r, x->tag, x->tag_len);
    mix_str(r, x->code, x->code_len);
    mix_str(r, x->code_raw, x->code_raw_len);
    mix_args(r, x->code_args, x->code_nargs);
    mix_str(r, x->text, x->text_len);
    mix_u(r, (uint64_t)x->has_number);
    mix_u(r, x->number);
    mix_str(r, x->keyword, x->keyword_len);
    mix_args(r, x->args, x->nargs);
    return paused(r);
}

static int on_begin(posta_imap_parser *p, const posta_imap_literal_info *i, void *user)
{
    struct run *r = user;
    mix_u(r, 0xb);
    mix_u(r, i->size);
    mix_u(r, i->offset);
    mix_u(r, i->number);
    mix_str(r, i->keyword, i->keyword_len);
    mix_str(r, i->item, i->item_len);
    return paused(r);
}

static int on_data(posta_imap_parser *p, const void *d, size_t n, void *user)
{
    struct run *r = user;
    mix(r, d, n);  /* chunk boundaries differ between runs: bytes only */
    return paused(r);
}

static int on_end(posta_imap_parser *p, void *user)
{
    struct run *r = user;
    mix_u(r, 0xe);
    return paused(r);
}

static const posta_imap_parser_callbacks cb = {on_response, on_begin, on_data, on_end};

/* Feed data[0..n) in pieces of at most step bytes; pauses resume. */
static uint64_t run(const uint8_t *data, size_t n, size_t split, size_t step,
                    const posta_imap_limits *lim, int pause)
{
    struct run r = {.h = 1469598103934665603ull, .pause = pause};
    posta_imap_parser *p;
    long rc = 0;

    if (posta_imap_parser_new(&p, &cb, lim, &r) != 0)
        abort();
    for (size_t at = 0; at < n;) {
        size_t end = at < split ? split : n;
        size_t len = end - at < step ? end - at : step;
        rc = posta_imap_parser_feed(p, data + at, len);
        if (rc < 0)
            break;
        if (rc == 0 || (size_t)rc > len)
            abort();  /* no progress, or more than was given */
        at += (size_t)rc;
    }
    mix_u(&r, rc < 0 ? (uint64_t)-rc : 0);
    if (rc < 0) {
        const char *m = posta_imap_parser_errmsg(p);
        mix(&r, m, strlen(m));
    }
    mix_u(&r, posta_imap_parser_offset(p));
    mix_u(&r, (uint64_t)posta_imap_parser_idle(p));
    posta_imap_parser_free(p);
    return r.h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    /* Two leading bytes choose the split point, the limits and pausing. */
    size_t pick = (size_t)data[0] << 8 | data[1];
    int small = data[0] & 1, pause = (data[0] >> 1) & 1;
    static const posta_imap_limits tight = {
        .max_line = 200, .inline_literal = 12, .max_item = 40,
        .max_depth = 6, .max_items = 60, .max_response = 1024,
    };
    const posta_imap_limits *lim = small ? &tight : NULL;
    data += 2;
    size -= 2;
    size_t split = pick % (size + 1);

    uint64_t whole = run(data, size, 0, size, lim, pause);
    if (run(data, size, split, size, lim, pause) != whole)
        abort();
    if (size <= 2048 && run(data, size, 0, 1, lim, !pause) != whole)
        abort();
    return 0;
}
