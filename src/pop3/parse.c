/* The POP3 response parser: finds lines, recognizes status lines and their
 * response codes, and un-stuffs multi-line responses without holding them. */
#include "parse.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Where MODE_BODY is within the current line. */
enum { B_BOL = 0, B_MID, B_DOT, B_DOTCR };

void pop3_parser_init(struct pop3_parser *p, size_t max_line)
{
    memset(p, 0, sizeof(*p));
    posta__buf_init(&p->line, max_line);
}

void pop3_parser_free(struct pop3_parser *p)
{
    posta__buf_free(&p->line);
}

void pop3_parser_reset(struct pop3_parser *p)
{
    posta__buf_reset(&p->line);
    p->mode = POP3_MODE_STATUS;
    p->body = B_BOL;
}

int pop3_parser_idle(const struct pop3_parser *p)
{
    return p->mode == POP3_MODE_STATUS && posta__buf_used(&p->line) == 0;
}

/* A short printable excerpt of hostile bytes for an error sentence. */
static void excerpt(const char *s, size_t n, char *out, size_t outsz)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 5 < outsz; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
            out[o++] = (char)c;
        else
            o += (size_t)snprintf(out + o, outsz - o, "\\x%02x", c);
    }
    out[o] = '\0';
}

static long fail(struct pop3_parser *p, int code, size_t at, const char *fmt, ...)
    POSTA_PRINTF(4, 5);

static long fail(struct pop3_parser *p, int code, size_t at, const char *fmt, ...)
{
    char what[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    return posta__err_set(&p->err, code, "POP3 %s at byte %llu: %s",
                          code == POSTA_ELIMIT ? "limit exceeded" : "protocol error",
                          (unsigned long long)(p->offset + at), what);
}

int pop3_parse_status(const char *line, size_t len, int allow_cont, struct pop3_status *st)
{
    size_t k;

    memset(st, 0, sizeof(*st));
    st->line = line;
    st->line_len = len;
    /* "+ challenge" and a bare "+" (an empty challenge, RFC 5034 section 4). */
    if (allow_cont && len >= 1 && line[0] == '+' && (len == 1 || line[1] == ' ')) {
        st->kind = POP3_CONT;
        st->text = line + (len > 1 ? 2 : 1);
        st->text_len = len - (len > 1 ? 2 : 1);
        return 0;
    }
    if (len >= 3 && strncasecmp(line, "+OK", 3) == 0) {
        st->kind = POP3_OK;
        k = 3;
    } else if (len >= 4 && strncasecmp(line, "-ERR", 4) == 0) {
        st->kind = POP3_ERR;
        k = 4;
    } else {
        return POSTA_EPROTO;
    }
    if (k < len && line[k++] != ' ')
        return POSTA_EPROTO;
    const char *rest = line + k;
    size_t rlen = len - k;
    /* RFC 2449 section 8: a code is only a code right at the start. */
    const char *close = rlen > 2 && rest[0] == '[' ? memchr(rest, ']', rlen) : NULL;
    if (close && close > rest + 1) {
        st->code = rest + 1;
        st->code_len = (size_t)(close - rest - 1);
        rlen -= (size_t)(close + 1 - rest);
        rest = close + 1;
        if (rlen && rest[0] == ' ')
            rest++, rlen--;
    }
    st->text = rest;
    st->text_len = rlen;
    return 0;
}

static long on_status_line(struct pop3_parser *p, const char *line, size_t len, size_t at,
                           const struct pop3_parser_ops *ops, void *ctx)
{
    struct pop3_status st;
    char ex[256];

    if (pop3_parse_status(line, len, p->allow_cont, &st) < 0) {
        excerpt(line, len < 60 ? len : 60, ex, sizeof(ex));
        return fail(p, POSTA_EPROTO, at, "expected +OK or -ERR, got \"%s%s\"", ex,
                    len > 60 ? "..." : "");
    }
    int r = ops->status(ctx, &st);
    if (r < 0)
        return r;
    if (r == POP3_PAUSE || r == POP3_MODE_STATUS) {
        p->mode = POP3_MODE_STATUS;
        return r == POP3_PAUSE ? POP3_PAUSE : 0;
    }
    p->mode = r == POP3_MODE_BODY ? POP3_MODE_BODY : POP3_MODE_LINES;
    p->body = B_BOL;
    return 0;
}

static long on_list_line(struct pop3_parser *p, const char *line, size_t len,
                         const struct pop3_parser_ops *ops, void *ctx)
{
    if (len == 1 && line[0] == '.') {
        p->mode = POP3_MODE_STATUS;
        return ops->end(ctx);
    }
    if (len > 0 && line[0] == '.')
        line++, len--;
    return ops->line(ctx, line, len);
}

/* One line in MODE_STATUS or MODE_LINES, held in p->line only when it
 * arrives in pieces. */
static long feed_line(struct pop3_parser *p, const char *data, size_t len, size_t *i,
                      const struct pop3_parser_ops *ops, void *ctx)
{
    size_t start = *i, held = posta__buf_used(&p->line);
    const char *nl = memchr(data + start, '\n', len - start);
    size_t n = nl ? (size_t)(nl - data) - start + 1 : len - start;

    if (p->line.cap && n > p->line.cap - held)
        return fail(p, POSTA_ELIMIT, start, "line longer than %zu bytes", p->line.cap);
    if (!nl) {
        int rc = posta__buf_append(&p->line, data + start, n);
        *i = len;
        return rc;
    }
    const char *line = data + start;
    if (held) {
        int rc = posta__buf_append(&p->line, data + start, n);
        if (rc < 0)
            return rc;
        line = (const char *)posta__buf_head(&p->line);
        n += held;
    }
    *i = start + (size_t)(nl - (data + start)) + 1;
    n--;                       /* the LF */
    if (n > 0 && line[n - 1] == '\r')
        n--;
    long r = p->mode == POP3_MODE_STATUS ? on_status_line(p, line, n, start, ops, ctx)
                                         : on_list_line(p, line, n, ops, ctx);
    posta__buf_reset(&p->line);
    return r;
}

static long body_end(struct pop3_parser *p, const struct pop3_parser_ops *ops, void *ctx)
{
    p->mode = POP3_MODE_STATUS;
    p->body = B_BOL;
    return ops->end(ctx);
}

/* Bytes from the middle of a line up to the next line that starts with a
 * dot (or the end of the input), handed over in one piece: most messages
 * then cost one callback per read, not one per line. */
static long body_run(struct pop3_parser *p, const char *data, size_t len, size_t *i,
                     const struct pop3_parser_ops *ops, void *ctx)
{
    size_t s = *i, j = s;
    for (;;) {
        const char *nl = memchr(data + j, '\n', len - j);
        if (!nl) {
            *i = len;
            return ops->data(ctx, data + s, len - s);
        }
        j = (size_t)(nl - data) + 1;
        if (j == len || data[j] == '.') {
            *i = j;
            p->body = B_BOL;
            return ops->data(ctx, data + s, j - s);
        }
    }
}

static long feed_body(struct pop3_parser *p, const char *data, size_t len, size_t *i,
                      const struct pop3_parser_ops *ops, void *ctx)
{
    char c = data[*i];
    switch (p->body) {
    case B_BOL:
        if (c == '.') {
            p->body = B_DOT;
            (*i)++;
            return 0;
        }
        p->body = B_MID;
        return 0;
    case B_DOT:
        if (c == '\r') {
            p->body = B_DOTCR;
            (*i)++;
            return 0;
        }
        if (c == '\n') {
            (*i)++;
            return body_end(p, ops, ctx);
        }
        p->body = B_MID;   /* the stuffing dot is dropped */
        return 0;
    case B_DOTCR:
        if (c == '\n') {
            (*i)++;
            return body_end(p, ops, ctx);
        }
        /* ".\r" then something else: not the end; keep the CR. */
        p->body = B_MID;
        return ops->data(ctx, "\r", 1);
    default:
        return body_run(p, data, len, i, ops, ctx);
    }
}

long pop3_parser_feed(struct pop3_parser *p, const char *data, size_t len,
                      const struct pop3_parser_ops *ops, void *ctx)
{
    size_t i = 0;

    if (p->err.code)
        return p->err.code;
    if (len > LONG_MAX)
        len = LONG_MAX;
    while (i < len) {
        long r = p->mode == POP3_MODE_BODY ? feed_body(p, data, len, &i, ops, ctx)
                                           : feed_line(p, data, len, &i, ops, ctx);
        if (r == POP3_PAUSE)
            break;
        if (r < 0) {
            p->offset += i;
            if (!p->err.code)
                p->err.code = (int)r;
            return r;
        }
    }
    p->offset += i;
    return (long)i;
}
