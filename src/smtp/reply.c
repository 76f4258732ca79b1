/* The SMTP reply parser (RFC 5321 4.2): bytes in, complete replies out, with
 * the enhanced status code (RFC 3463) split off; no I/O, bounded memory.
 *
 *   Reply-line = *( Reply-code "-" [ textstring ] CRLF )
 *                   Reply-code [ SP textstring ] CRLF
 *   Reply-code = %x32-35 %x30-35 %x30-39
 *
 * Lines ending in a bare LF are accepted (the CR is optional on input); a
 * line whose code differs from the reply's first line is a protocol error,
 * as is a NUL; other control characters in the text become '?'.
 */
#include "smtp_int.h"

#include <stdio.h>
#include <string.h>

void smtp_rparser_init(struct smtp_rparser *p)
{
    memset(p, 0, sizeof(*p));
    posta__buf_init(&p->line, SMTP_REPLY_MAX_LINE + 2);
    posta__buf_init(&p->r.text, SMTP_REPLY_MAX_TOTAL + 1);
}

void smtp_rparser_free(struct smtp_rparser *p)
{
    posta__buf_free(&p->line);
    posta__buf_free(&p->r.text);
}

static void clear_reply(struct smtp_rparser *p)
{
    posta__buf_reset(&p->r.text);
    p->r.code = 0;
    p->r.enh[0] = p->r.enh[1] = p->r.enh[2] = 0;
    p->r.nlines = 0;
    p->partial = 0;
    p->have = 0;
}

void smtp_rparser_reset(struct smtp_rparser *p)
{
    posta__buf_reset(&p->line);
    clear_reply(p);
    p->err[0] = '\0';
}

size_t smtp_rparser_buffered(const struct smtp_rparser *p)
{
    return posta__buf_used(&p->line) + (p->partial ? 1 : 0);
}

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* "d.ddd.ddd" at s; returns its length (the SP after it excluded) or 0. */
static size_t enh_code(const char *s, size_t len, int code_class, int out[3])
{
    size_t i = 0;
    int v[3];
    for (int part = 0; part < 3; part++) {
        size_t start = i;
        int x = 0;
        while (i < len && is_digit((unsigned char)s[i]) && i - start < 3)
            x = x * 10 + (s[i++] - '0');
        if (i == start || (part == 0 && i - start != 1))
            return 0;
        v[part] = x;
        if (part < 2) {
            if (i >= len || s[i] != '.')
                return 0;
            i++;
        }
    }
    if (i < len && s[i] != ' ')
        return 0;
    if (v[0] != code_class)
        return 0;
    memcpy(out, v, sizeof(v));
    return i;
}

static int fail(struct smtp_rparser *p, int code, const char *what)
{
    snprintf(p->err, sizeof(p->err), "%s", what);
    return code;
}

/* A buffer could not grow: past its cap (what), or out of memory. */
static int fail_buf(struct smtp_rparser *p, int code, const char *what)
{
    return code == POSTA_ENOMEM ? fail(p, code, "out of memory") : fail(p, POSTA_ELIMIT, what);
}

/* One line without its line ending. */
static int take_line(struct smtp_rparser *p, const char *s, size_t len)
{
    if (len < 3 || s[0] < '2' || s[0] > '5' || s[1] < '0' || s[1] > '5' || !is_digit((unsigned char)s[2]))
        return fail(p, POSTA_EPROTO, "malformed reply line (no reply code)");
    if (len > 3 && s[3] != ' ' && s[3] != '-')
        return fail(p, POSTA_EPROTO, "malformed reply line (no space or hyphen after the code)");
    int code = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
    if (p->partial && code != p->r.code)
        return fail(p, POSTA_EPROTO, "reply lines with different codes in one reply");
    if (p->r.nlines >= SMTP_REPLY_MAX_LINES)
        return fail(p, POSTA_ELIMIT, "reply has too many lines");
    const char *text = len > 4 ? s + 4 : "";
    size_t tlen = len > 4 ? len - 4 : 0;
    int enh[3];
    size_t e = enh_code(text, tlen, code / 100, enh);
    if (e) {
        if (p->r.nlines == 0)
            memcpy(p->r.enh, enh, sizeof(enh));
        text += e;
        tlen -= e;
        if (tlen && text[0] == ' ') {
            text++;
            tlen--;
        }
    }
    int rc;
    if (p->r.nlines > 0 && (rc = posta__buf_append(&p->r.text, "\n", 1)) < 0)
        return fail_buf(p, rc, "reply too long");
    size_t at = posta__buf_used(&p->r.text);
    if ((rc = posta__buf_append(&p->r.text, text, tlen)) < 0)
        return fail_buf(p, rc, "reply too long");
    /* The text ends up in logs and on terminals: no control characters
     * (a stray CR, an escape sequence) survive; UTF-8 does. */
    unsigned char *t = posta__buf_head(&p->r.text) + at;
    for (size_t i = 0; i < tlen; i++)
        if ((t[i] < 0x20 && t[i] != '\t') || t[i] == 0x7f)
            t[i] = '?';
    p->r.code = code;
    p->r.nlines++;
    p->partial = len > 3 && s[3] == '-';
    if (!p->partial) {
        /* NUL-terminate without counting it as text. */
        if ((rc = posta__buf_reserve(&p->r.text, 1)) < 0)
            return fail_buf(p, rc, "reply too long");
        p->r.text.data[p->r.text.len] = '\0';
        p->have = 1;
    }
    return 0;
}

long smtp_rparser_feed(struct smtp_rparser *p, const void *data, size_t len, int *done)
{
    const unsigned char *in = data;
    size_t i = 0;

    *done = 0;
    if (p->have)
        clear_reply(p);
    while (i < len) {
        const unsigned char *nl = memchr(in + i, '\n', len - i);
        size_t n = nl ? (size_t)(nl - (in + i)) : len - i;
        int grown = posta__buf_append(&p->line, in + i, n);
        if (grown < 0)
            return fail_buf(p, grown, "reply line too long");
        i += n;
        if (!nl)
            break;
        i++;   /* the LF */
        size_t l = posta__buf_used(&p->line);
        const char *s = (const char *)posta__buf_head(&p->line);
        if (l && s[l - 1] == '\r')
            l--;
        if (l && memchr(s, '\0', l))
            return fail(p, POSTA_EPROTO, "NUL in a reply line");
        int rc = take_line(p, s, l);
        posta__buf_reset(&p->line);
        if (rc < 0)
            return rc;
        if (p->have) {
            *done = 1;
            break;
        }
    }
    return (long)i;
}

int smtp_reply_line(const struct smtp_reply *r, size_t n, const char **p, size_t *len)
{
    if (r->nlines == 0 || !r->text.data)
        return 0;
    const char *s = (const char *)posta__buf_head(&r->text);
    const char *end = s + posta__buf_used(&r->text);
    for (size_t k = 0; k < r->nlines; k++) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *e = nl ? nl : end;
        if (k == n) {
            *p = s;
            *len = (size_t)(e - s);
            return 1;
        }
        if (!nl)
            break;
        s = nl + 1;
    }
    return 0;
}
