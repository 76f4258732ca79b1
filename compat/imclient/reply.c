/* Replies: the server's bytes as sent, cut into responses with the framing
 * posta's parser found, split into keyword, msgno and text the way Cyrus
 * does, and routed to the callbacks imclient_addcallback() registered. */
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include "imclient_int.h"

/* --- the raw bytes ------------------------------------------------------ */

void imc_raw_free(struct imc_raw *raw)
{
    free(raw->data);
    memset(raw, 0, sizeof(*raw));
}

static int raw_append(struct imc_raw *raw, const char *data, size_t len)
{
    if (raw->len + len > raw->cap) {
        size_t cap = raw->cap ? raw->cap : 4096;
        while (cap < raw->len + len)
            cap *= 2;
        char *p = realloc(raw->data, cap);
        if (!p)
            return -1;
        raw->data = p;
        raw->cap = cap;
    }
    memcpy(raw->data + raw->len, data, len);
    raw->len += len;
    return 0;
}

/* Forget the first n bytes. */
static void raw_consume(struct imc_raw *raw, size_t n)
{
    memmove(raw->data, raw->data + n, raw->len - n);
    raw->len -= n;
    raw->base += n;
}

void imc_on_trace(posta_imap *h, char dir, const char *data, size_t len, void *user)
{
    struct imclient *im = user;
    if (dir != 'S')
        return;
    /* The first bytes under TLS start a new parser, counting from 0. */
    int tls = posta_stream_tls_active(posta_imap_stream(h));
    if (tls != im->raw.tls) {
        im->raw.tls = tls;
        im->raw.len = 0;
        im->raw.base = 0;
    }
    if (raw_append(&im->raw, data, len) < 0)
        imc_fatal("Virtual memory exhausted", EX_TEMPFAIL);
}

/* The size of a literal header ("{12}", "{12+}", "~{12}") ending line, or
 * -1 when the line does not end in one. */
static long long literal_at_end(const char *line, size_t len)
{
    if (len < 3 || line[len - 1] != '}')
        return -1;
    size_t j = len - 1;
    if (line[j - 1] == '+')
        j--;
    size_t digits_end = j;
    while (j > 0 && isdigit((unsigned char)line[j - 1]))
        j--;
    if (j == 0 || j == digits_end || line[j - 1] != '{' || digits_end - j > 18)
        return -1;
    long long n = 0;
    for (size_t k = j; k < digits_end; k++)
        n = n * 10 + (line[k] - '0');
    return n;
}

/* Where the response starting at p ends (just after its last LF): lines
 * ending in a literal header continue past the literal, except in status
 * responses, whose text holds no literals. */
static size_t frame_end(const char *p, size_t n, int textual)
{
    size_t i = 0;
    for (;;) {
        const char *nl = memchr(p + i, '\n', n - i);
        if (!nl)
            return n;
        size_t e = (size_t)(nl - p), line_end = e;
        if (line_end > i && p[line_end - 1] == '\r')
            line_end--;
        long long lit = textual ? -1 : literal_at_end(p + i, line_end - i);
        if (lit < 0 || (unsigned long long)lit > n - e - 1)
            return e + 1;
        i = e + 1 + (size_t)lit;
    }
}

/* A writable copy of response r as the server sent it, without the final
 * CRLF; NULL when its bytes are not at hand (then the caller makes do with
 * the parsed form).  The bytes up to its end are forgotten. */
static char *raw_take(struct imclient *im, const posta_imap_response *r)
{
    struct imc_raw *raw = &im->raw;
    if (r->offset < raw->base || r->offset - raw->base >= raw->len)
        return NULL;
    size_t start = (size_t)(r->offset - raw->base);
    int textual = r->status != POSTA_IMAP_STATUS_NONE || r->kind == POSTA_IMAP_RESP_TAGGED;
    size_t end = start + frame_end(raw->data + start, raw->len - start, textual);
    size_t len = end - start;
    while (len > 0 && (raw->data[start + len - 1] == '\n' || raw->data[start + len - 1] == '\r'))
        len--;
    char *copy = malloc(len + 1);
    if (!copy) {
        imc_fatal("Virtual memory exhausted", EX_TEMPFAIL);
        return NULL;
    }
    memcpy(copy, raw->data + start, len);
    copy[len] = '\0';
    raw_consume(raw, end);
    return copy;
}

/* The parsed form, for when the raw bytes are missing (memory ran out):
 * "* keyword", and the human text of status responses. */
static char *from_tree(const posta_imap_response *r)
{
    static const char *const words[] = {"", "OK", "NO", "BAD", "PREAUTH", "BYE"};
    const char *kw = r->keyword ? r->keyword : words[r->status];
    int kwlen = (int)(r->keyword ? r->keyword_len : strlen(kw));
    int tlen = (int)(r->status != POSTA_IMAP_STATUS_NONE ? r->text_len : 0);
    size_t size = (size_t)kwlen + (size_t)tlen + 4;
    char *s = malloc(size);
    if (s)
        snprintf(s, size, "* %.*s %.*s", kwlen, kw, tlen, r->text ? r->text : "");
    return s;
}

/* --- splitting a response ---------------------------------------------- */

struct split {
    char *keyword;
    long msgno;
    char *text;
};

/* "keyword text" at p: the keyword is NUL-terminated in place; the text is
 * what follows one space ("" when nothing does). */
static void split_keyword(char *p, struct split *sp)
{
    sp->keyword = p;
    while (*p && *p != ' ')
        p++;
    if (*p == ' ')
        *p++ = '\0';
    sp->text = p;
}

/* "* [n ]keyword text" */
static void split_untagged(char *line, struct split *sp)
{
    char *p = line;
    if (p[0] == '*' && p[1] == ' ')
        p += 2;
    sp->msgno = -1;
    if (isdigit((unsigned char)*p)) {
        char *q = p;
        long n = 0;
        while (isdigit((unsigned char)*q) && n <= (LONG_MAX - 9) / 10)
            n = n * 10 + (*q++ - '0');
        if (*q == ' ') {
            sp->msgno = n;
            p = q + 1;
        }
    }
    split_keyword(p, sp);
}

/* "tag keyword text" */
static void split_tagged(char *line, struct split *sp)
{
    char *p = strchr(line, ' ');
    sp->msgno = -1;
    split_keyword(p ? p + 1 : line + strlen(line), sp);
}

/* --- routing ------------------------------------------------------------- */

/* Cyrus's rule: the first callback with the keyword, a procedure, and a
 * CALLBACK_NUMBERED flag that agrees with the response; else the default. */
static const struct imc_callback *find_callback(const struct imclient *im, const struct split *sp)
{
    for (size_t i = 1; i < im->ncbs; i++) {
        const struct imc_callback *cb = &im->cbs[i];
        if (((cb->flags & CALLBACK_NUMBERED) != 0) != (sp->msgno != -1))
            continue;
        if (cb->proc && strcasecmp(cb->keyword, sp->keyword) == 0)
            return cb;
    }
    return im->ncbs ? &im->cbs[0] : NULL;
}

void imc_on_untagged(posta_imap *h, const posta_imap_response *r, void *user)
{
    struct imclient *im = user;
    (void)h;
    char *line = raw_take(im, r);
    if (!line && !(line = from_tree(r)))
        return;
    struct split sp;
    split_untagged(line, &sp);
    const struct imc_callback *cb = find_callback(im, &sp);
    if (cb && cb->proc)
        imc_call(im, cb->proc, cb->rock, sp.keyword, sp.msgno, sp.text);
    free(line);
}

void imc_deliver_tagged(struct imclient *im, imclient_proc_t *proc, void *rock, const posta_imap_response *r)
{
    char *line = raw_take(im, r);
    if (!proc) {
        free(line);
        return;
    }
    if (!line) {
        static const char *const words[] = {"BAD", "OK", "NO", "BAD", "BAD", "BAD"};
        char *kw = strdup(words[r->status]);
        if (kw)
            imc_call(im, proc, rock, kw, -1, kw + strlen(kw));
        free(kw);
        return;
    }
    struct split sp;
    split_tagged(line, &sp);
    imc_call(im, proc, rock, sp.keyword, -1, sp.text);
    free(line);
}

/* --- registering ----------------------------------------------------------- */

/* Add or change the callback for keyword with these flags. */
static int set_callback(struct imclient *im, const char *keyword, int flags, imclient_proc_t *proc, void *rock)
{
    size_t i = 0;
    while (i < im->ncbs && !(im->cbs[i].flags == flags && strcmp(im->cbs[i].keyword, keyword) == 0))
        i++;
    if (i == im->ncbs) {
        if (im->ncbs == im->acbs) {
            size_t n = im->acbs ? im->acbs * 2 : 8;
            struct imc_callback *p = realloc(im->cbs, n * sizeof(*p));
            if (!p)
                return -1;
            im->cbs = p;
            im->acbs = n;
        }
        char *kw = strdup(keyword);
        if (!kw)
            return -1;
        im->cbs[i].keyword = kw;
        im->cbs[i].flags = flags;
        im->ncbs++;
    }
    im->cbs[i].proc = proc;
    im->cbs[i].rock = rock;
    return 0;
}

IMC_API void imclient_addcallback(struct imclient *im, ...)
{
    va_list ap;
    const char *keyword;
    va_start(ap, im);
    while ((keyword = va_arg(ap, const char *)) != NULL) {
        int flags = va_arg(ap, int);
        imclient_proc_t *proc = va_arg(ap, imclient_proc_t *);
        void *rock = va_arg(ap, void *);
        if (im && set_callback(im, keyword, flags, proc, rock) < 0)
            imc_fatal("Virtual memory exhausted", EX_TEMPFAIL);
    }
    va_end(ap);
}

int imc_default_callbacks(struct imclient *im)
{
    /* As Cyrus: the default first, then the status words, all silent. */
    static const struct {
        const char *kw;
        int flags;
    } defaults[] = {{"", 0}, {"OK", CALLBACK_NOLITERAL}, {"NO", CALLBACK_NOLITERAL},
                    {"BAD", CALLBACK_NOLITERAL}, {"BYE", CALLBACK_NOLITERAL}};
    for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
        if (set_callback(im, defaults[i].kw, defaults[i].flags, NULL, NULL) < 0)
            return -1;
    return 0;
}

void imc_free_callbacks(struct imclient *im)
{
    for (size_t i = 0; i < im->ncbs; i++)
        free(im->cbs[i].keyword);
    free(im->cbs);
    im->cbs = NULL;
    im->ncbs = im->acbs = 0;
}
