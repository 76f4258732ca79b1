/* Message data safety: the header-section scanner and the canonicalizer that
 * turns any bytes into CRLF lines, dot-stuffed for DATA, so no input can put
 * an end-of-data sequence inside a message (SMTP smuggling, CVE-2023-51764).
 *
 * Every line ending the input may use (CRLF, bare LF, bare CR) becomes CRLF;
 * a CR is held until the next byte shows whether an LF follows, also across
 * chunks.  After canonicalization "CRLF . CRLF" can only arise from a line
 * consisting of one dot, and dot-stuffing doubles every leading dot, so the
 * only end-of-data on the wire is the one the engine appends. */
#include "smtp_int.h"

#include <stdint.h>
#include <string.h>

#define LINE_MAX_OCTETS 998u

/* --- header scan ------------------------------------------------------------ */

void smtp_scan_init(struct smtp_scan *s, struct posta_buf *hdr, size_t limit)
{
    memset(s, 0, sizeof(*s));
    s->hdr = hdr;
    s->prefix = SIZE_MAX;
    s->limit = limit;
    s->line_start = posta__buf_used(hdr);
}

/* A field line: a name of printable characters but colon, optional white
 * space (obsolete syntax), then the colon. */
static int field_line(const unsigned char *l, size_t n)
{
    size_t i = 0;
    while (i < n && l[i] > 32 && l[i] < 127 && l[i] != ':')
        i++;
    if (i == 0)
        return 0;
    while (i < n && (l[i] == ' ' || l[i] == '\t'))
        i++;
    return i < n && l[i] == ':';
}

static int end_line(struct smtp_scan *s)
{
    const unsigned char *base = posta__buf_head(s->hdr);
    size_t end = posta__buf_used(s->hdr);
    const unsigned char *l = base ? base + s->line_start : NULL;
    size_t n = end - s->line_start;

    if (n == 0) {
        s->done = 1;   /* the blank line: not kept, the engine adds its own */
        return 0;
    }
    int cont = l[0] == ' ' || l[0] == '\t';
    if (!(cont ? s->have_field : field_line(l, n))) {
        /* Not a header: the body starts here without a blank line.  Keep the
         * line as the body's first and end the header section. */
        s->prefix = s->line_start;
        s->done = 1;
    } else {
        s->have_field = 1;
    }
    int rc = posta__buf_append(s->hdr, "\r\n", 2);
    if (rc < 0)
        return rc;
    s->line_start = posta__buf_used(s->hdr);
    if (s->limit && s->line_start > s->limit)
        return POSTA_ELIMIT;
    return 0;
}

long smtp_scan_feed(struct smtp_scan *s, const unsigned char *in, size_t len)
{
    size_t i = 0;
    while (i < len && !s->done) {
        unsigned char b = in[i];
        int rc = 0;
        if (s->cr) {
            s->cr = 0;
            if (b == '\n')
                i++;
            rc = end_line(s);   /* CRLF, or a bare CR: b is looked at again */
        } else if (b == '\r') {
            s->cr = 1;
            i++;
        } else if (b == '\n') {
            i++;
            rc = end_line(s);
        } else {
            size_t j = i;
            while (j < len && in[j] != '\r' && in[j] != '\n')
                j++;
            rc = posta__buf_append(s->hdr, in + i, j - i);
            i = j;
            if (rc == 0 && s->limit && posta__buf_used(s->hdr) > s->limit)
                rc = POSTA_ELIMIT;
        }
        if (rc < 0)
            return rc;
    }
    return (long)i;
}

int smtp_scan_eof(struct smtp_scan *s)
{
    if (s->done)
        return 0;
    s->cr = 0;
    if (posta__buf_used(s->hdr) > s->line_start || !s->have_field) {
        /* An unterminated last line, or nothing at all. */
        if (posta__buf_used(s->hdr) > s->line_start) {
            int rc = end_line(s);
            if (rc < 0)
                return rc;
        }
    }
    s->done = 1;
    return 0;
}

/* --- canonicalization ------------------------------------------------------- */

void smtp_canon_init(struct smtp_canon *c, int dot, int fold)
{
    memset(c, 0, sizeof(*c));
    c->dot = dot;
    c->fold = fold;
}

static void put(struct posta_buf *out, const void *p, size_t n)
{
    memcpy(out->data + out->len, p, n);
    out->len += n;
}

static void eol(struct smtp_canon *c, struct posta_buf *out)
{
    put(out, "\r\n", 2);
    c->col = 0;
}

/* A run of ordinary bytes (no CR, no LF) on the current line. */
static int run(struct smtp_canon *c, const unsigned char *p, size_t n, struct posta_buf *out)
{
    while (n > 0) {
        if (c->col == 0 && c->dot && p[0] == '.')
            put(out, ".", 1);
        size_t room = LINE_MAX_OCTETS - c->col;
        if (room == 0) {
            if (!c->fold)
                return POSTA_ELIMIT;
            eol(c, out);
            continue;
        }
        size_t k = n < room ? n : room;
        put(out, p, k);
        c->col += k;
        p += k;
        n -= k;
    }
    return 0;
}

int smtp_canon_feed(struct smtp_canon *c, const unsigned char *in, size_t len,
                    struct posta_buf *out)
{
    size_t need;
    /* Worst case: each byte doubles (bare LF, a stuffed dot), folds add
     * CRLF every 998 octets; 2 * len + 4 covers all of them. */
    if (len > (SIZE_MAX - 4) / 2)
        return POSTA_ELIMIT;
    need = 2 * len + 4;
    int rc = posta__buf_reserve(out, need);
    if (rc < 0)
        return rc;
    if (c->binary) {
        put(out, in, len);
        return 0;
    }
    size_t i = 0;
    while (i < len) {
        unsigned char b = in[i];
        if (c->cr) {
            c->cr = 0;
            eol(c, out);
            if (b == '\n')
                i++;
            continue;
        }
        if (b == '\r') {
            c->cr = 1;
            i++;
            continue;
        }
        if (b == '\n') {
            eol(c, out);
            i++;
            continue;
        }
        size_t j = i + 1;
        while (j < len && in[j] != '\r' && in[j] != '\n')
            j++;
        rc = run(c, in + i, j - i, out);
        if (rc < 0)
            return rc;
        i = j;
    }
    return 0;
}

int smtp_canon_finish(struct smtp_canon *c, struct posta_buf *out)
{
    int rc = posta__buf_reserve(out, 2);
    if (rc < 0)
        return rc;
    if (c->binary)
        return 0;
    if (c->cr || c->col > 0) {
        c->cr = 0;
        eol(c, out);
    }
    return 0;
}
