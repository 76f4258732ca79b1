/* Parsed responses for the decoder tests, copied out of the parser's arena. */
#include "dt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void **allocs;
static size_t nallocs;

static void free_all(void)
{
    for (size_t i = 0; i < nallocs; i++)
        free(allocs[i]);
    free(allocs);
}

static void *keep(size_t n)
{
    static int registered;
    void *p = calloc(1, n ? n : 1);
    void **q = realloc(allocs, (nallocs + 1) * sizeof(*allocs));
    if (!p || !q) {
        fprintf(stderr, "dt: out of memory\n");
        exit(2);
    }
    allocs = q;
    allocs[nallocs++] = p;
    if (!registered) {
        registered = 1;
        atexit(free_all);
    }
    return p;
}

static const char *dup_bytes(const char *s, size_t len)
{
    if (!s)
        return NULL;
    char *p = keep(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

static void copy_into(posta_imap_arg *dst, const posta_imap_arg *src)
{
    *dst = *src;
    dst->str = dup_bytes(src->str, src->len);
    if (src->type == POSTA_IMAP_ARG_LIST) {
        posta_imap_arg *kids = keep(src->count * sizeof(*kids));
        for (size_t i = 0; i < src->count; i++)
            copy_into(&kids[i], &src->list[i]);
        dst->list = kids;
    }
}

posta_imap_arg *dt_copy_arg(const posta_imap_arg *a)
{
    posta_imap_arg *c = keep(sizeof(*c));
    copy_into(c, a);
    return c;
}

static posta_imap_arg *copy_args(const posta_imap_arg *a, size_t n)
{
    if (!a)
        return NULL;
    posta_imap_arg *v = keep(n * sizeof(*v));
    for (size_t i = 0; i < n; i++)
        copy_into(&v[i], &a[i]);
    return v;
}

struct capture {
    size_t want, seen;
    posta_imap_response *resp;
};

static int on_response(posta_imap_parser *p, const posta_imap_response *r, void *user)
{
    struct capture *c = user;
    if (c->seen++ != c->want)
        return 0;
    posta_imap_response *x = keep(sizeof(*x));
    *x = *r;
    x->tag = dup_bytes(r->tag, r->tag_len);
    x->code = dup_bytes(r->code, r->code_len);
    x->code_raw = dup_bytes(r->code_raw, r->code_raw_len);
    x->code_args = copy_args(r->code_args, r->code_nargs);
    x->text = dup_bytes(r->text, r->text_len);
    x->keyword = dup_bytes(r->keyword, r->keyword_len);
    x->args = copy_args(r->args, r->nargs);
    c->resp = x;
    return 0;
}

static size_t run(const char *text, size_t len, struct capture *c, size_t inline_literal)
{
    posta_imap_parser_callbacks cb = {.on_response = on_response};
    posta_imap_limits lim = {.inline_literal = inline_literal};
    posta_imap_parser *p;
    if (posta_imap_parser_new(&p, &cb, &lim, c) != 0) {
        fprintf(stderr, "dt: parser_new failed\n");
        exit(2);
    }
    long r = posta_imap_parser_feed(p, text, len);
    if (r < 0) {
        fprintf(stderr, "dt: parse failed: %s\n  input: %s\n", posta_imap_parser_errmsg(p), text);
        exit(2);
    }
    posta_imap_parser_free(p);
    return c->seen;
}

const posta_imap_response *dt_parse_n(const char *text, size_t index, size_t inline_literal)
{
    return dt_parse_len(text, strlen(text), index, inline_literal);
}

const posta_imap_response *dt_parse_len(const char *text, size_t len, size_t index,
                                        size_t inline_literal)
{
    struct capture c = {.want = index};
    run(text, len, &c, inline_literal);
    if (!c.resp) {
        fprintf(stderr, "dt: no response %zu in: %s\n", index, text);
        exit(2);
    }
    return c.resp;
}

size_t dt_count(const char *text)
{
    struct capture c = {.want = (size_t)-1};
    return run(text, strlen(text), &c, 0);
}

static posta_imap_decoder *decoders[64];
static size_t ndecoders;

static void free_decoders(void)
{
    for (size_t i = 0; i < ndecoders; i++)
        posta_imap_decoder_free(decoders[i]);
}

posta_imap_decoder *dt_decoder(unsigned flags)
{
    posta_imap_decoder *d;
    if (ndecoders == sizeof(decoders) / sizeof(decoders[0]) ||
        posta_imap_decoder_new(&d, flags, 0) != 0) {
        fprintf(stderr, "dt: decoder_new failed\n");
        exit(2);
    }
    if (ndecoders == 0)
        atexit(free_decoders);
    decoders[ndecoders++] = d;
    return d;
}

const char *dt_cstr(posta_imap_str s)
{
    return s.ptr ? s.ptr : "(NIL)";
}
