/* Header processing as libESMTP documents it: delivery-time headers and Bcc
 * removed, API headers as defaults or overrides, Date, Message-Id, From and
 * To generated when missing, long lines folded or refused.  A pure function
 * of its input (fuzzed by fuzz/fuzz_smtp_headers.c). */
#include "smtp_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HARD_COLS 998u

/* One field of the message: [start, end) in the input, CRLF included. */
struct field {
    const unsigned char *name;
    size_t name_len;
    size_t start, end;
    int long_line;
};

enum {
    HF_STRIP = 1,    /* never transmitted */
    HF_DELIVERY = 2, /* added at delivery: cannot be set */
    HF_REQUIRED = 4, /* RFC 5322 requires it: cannot be prohibited */
    HF_RESENT = 8
};

static const struct {
    const char *name;
    unsigned flags;
} known[] = {
    {"Return-Path", HF_STRIP | HF_DELIVERY},
    {"Delivered-To", HF_STRIP | HF_DELIVERY},
    {"Bcc", HF_STRIP},
    {"Resent-Bcc", HF_STRIP | HF_RESENT},
    {"Date", HF_REQUIRED},
    {"From", HF_REQUIRED},
    {"Resent-Date", HF_RESENT},
    {"Resent-From", HF_RESENT},
    {"Resent-Sender", HF_RESENT},
    {"Resent-To", HF_RESENT},
    {"Resent-Cc", HF_RESENT},
    {"Resent-Message-Id", HF_RESENT},
};

static unsigned flags_of(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (strlen(known[i].name) == len && strncasecmp(known[i].name, name, len) == 0)
            return known[i].flags;
    if (len >= 7 && strncasecmp(name, "Resent-", 7) == 0)
        return HF_RESENT;
    return 0;
}

const struct smtp_hdr *smtp_hdr_find(const struct smtp_hdr *list, const char *name, size_t len)
{
    for (; list; list = list->next)
        if (strlen(list->name) == len && strncasecmp(list->name, name, len) == 0)
            return list;
    return NULL;
}

void smtp_hdr_free_list(struct smtp_hdr *h)
{
    while (h) {
        struct smtp_hdr *next = h->next;
        for (struct smtp_addr *a = h->addrs; a;) {
            struct smtp_addr *an = a->next;
            free(a->phrase);
            free(a->mailbox);
            free(a);
            a = an;
        }
        free(h->name);
        free(h->text);
        free(h);
        h = next;
    }
}

/* --- parsing the message's fields ---------------------------------------- */

struct ctx {
    const unsigned char *in;
    size_t len;
    const struct smtp_hdr_opts *o;
    struct posta_buf *out;
    struct field *f;
    size_t nf;
    char *err;
    size_t errsz;
};

static void warn(struct ctx *c, const char *what)
{
    if (c->o->warn)
        c->o->warn(c->o->ctx, what);
}

static int fail(struct ctx *c, int code, const char *fmt, ...) POSTA_PRINTF(3, 4);
static int fail(struct ctx *c, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, c->errsz, fmt, ap);
    va_end(ap);
    return code;
}

static size_t line_end(const unsigned char *in, size_t len, size_t i)
{
    const unsigned char *nl = memchr(in + i, '\n', len - i);
    return nl ? (size_t)(nl - in) + 1 : len;
}

static int parse_fields(struct ctx *c)
{
    size_t cap = 0;
    size_t i = 0;
    while (i < c->len) {
        size_t e = line_end(c->in, c->len, i);
        size_t body = e - i;
        if (body >= 2 && c->in[e - 2] == '\r')
            body -= 2;
        else if (body >= 1 && c->in[e - 1] == '\n')
            body -= 1;
        int cont = c->in[i] == ' ' || c->in[i] == '\t';
        if (cont && c->nf > 0) {
            c->f[c->nf - 1].end = e;
            c->f[c->nf - 1].long_line |= body > HARD_COLS;
            i = e;
            continue;
        }
        const unsigned char *colon = memchr(c->in + i, ':', body);
        size_t nl = colon ? (size_t)(colon - (c->in + i)) : 0;
        while (nl > 0 && (c->in[i + nl - 1] == ' ' || c->in[i + nl - 1] == '\t'))
            nl--;
        if (cont || !colon || nl == 0) {
            warn(c, "a line in the header section is not a header field; dropped");
            i = e;
            continue;
        }
        if (c->nf == cap) {
            size_t ncap = cap ? cap * 2 : 32;
            struct field *nf = realloc(c->f, ncap * sizeof(*nf));
            if (!nf)
                return POSTA_ENOMEM;
            c->f = nf;
            cap = ncap;
        }
        c->f[c->nf++] = (struct field){c->in + i, nl, i, e, body > HARD_COLS};
        i = e;
    }
    return 0;
}

static int msg_has(const struct ctx *c, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < c->nf; i++)
        if (c->f[i].name_len == n && strncasecmp((const char *)c->f[i].name, name, n) == 0)
            return 1;
    return 0;
}

static unsigned api_opts(const struct ctx *c, const char *name, size_t len)
{
    const struct smtp_hdr *h = smtp_hdr_find(c->o->api, name, len);
    return h ? h->opts : 0;
}

static int api_has_value(const struct ctx *c, const char *name)
{
    const struct smtp_hdr *h = smtp_hdr_find(c->o->api, name, strlen(name));
    return h && h->has_value;
}

/* --- output ----------------------------------------------------------------- */

/* A field of the message with a physical line over 998 octets, folded anew
 * at white space (unfolded first, RFC 5322 2.2.3). */
static int refold(struct ctx *c, const struct field *f)
{
    char name[80];
    snprintf(name, sizeof(name), "%.*s", (int)f->name_len, (const char *)f->name);
    struct posta_buf flat;
    posta__buf_init(&flat, 0);
    int rc = 0;
    /* After the colon, without line breaks; a NUL would end the text early,
     * so it becomes a space. */
    for (size_t i = f->start + f->name_len; rc == 0 && i < f->end; i++) {
        unsigned char b = c->in[i];
        if (b != '\r' && b != '\n')
            rc = posta__buf_append(&flat, b ? (const char *)&c->in[i] : " ", 1);
    }
    if (rc == 0)
        rc = posta__buf_append(&flat, "\0", 1);
    if (rc == 0) {
        const char *colon = strchr((const char *)posta__buf_head(&flat), ':');
        struct smtp_fold fo;
        smtp_fold_begin(&fo, c->out, name);
        fo.soft = HARD_COLS - 20;   /* keep the sender's layout where it fits */
        rc = colon ? smtp_fold_text(&fo, colon + 1, 1) : POSTA_EINVAL;
        if (rc == 0)
            rc = smtp_fold_end(&fo);
    }
    posta__buf_free(&flat);
    if (rc == POSTA_ELIMIT || rc == POSTA_EINVAL)
        return fail(c, POSTA_ELIMIT, "header %s: has a word longer than 998 octets", name);
    return rc;
}

static int emit_field(struct ctx *c, const struct field *f)
{
    if (!f->long_line)
        return posta__buf_append(c->out, c->in + f->start, f->end - f->start);
    if (!c->o->fold) {
        char name[80];
        snprintf(name, sizeof(name), "%.*s", (int)f->name_len, (const char *)f->name);
        return fail(c, POSTA_ELIMIT, "header %s: has a line longer than 998 octets", name);
    }
    return refold(c, f);
}

static int emit_addrs(struct ctx *c, const char *name, const struct smtp_addr *a)
{
    struct smtp_fold fo;
    smtp_fold_begin(&fo, c->out, name);
    int rc = 0;
    for (; rc == 0 && a; a = a->next) {
        char tok[600];
        if (a->phrase && a->phrase[0])
            rc = smtp_fold_phrase(&fo, a->phrase, c->o->utf8);
        int n = snprintf(tok, sizeof(tok), a->phrase && a->phrase[0] ? "<%s>%s" : "%s%s",
                         a->mailbox, a->next ? "," : "");
        if (rc == 0)
            rc = smtp_fold_token(&fo, tok, (size_t)n < sizeof(tok) ? (size_t)n : sizeof(tok) - 1, 1);
    }
    return rc ? rc : smtp_fold_end(&fo);
}

static int emit_text(struct ctx *c, const char *name, const char *text, int raw)
{
    struct smtp_fold fo;
    smtp_fold_begin(&fo, c->out, name);
    int rc = raw ? smtp_fold_token(&fo, text, strlen(text), 1)
                 : smtp_fold_text(&fo, text, c->o->utf8);
    return rc ? rc : smtp_fold_end(&fo);
}

static int emit_api(struct ctx *c, const struct smtp_hdr *h)
{
    char date[64];
    switch (h->kind) {
    case HK_DATE:
        smtp_format_date(h->when, date, sizeof(date));
        return emit_text(c, h->name, date, 1);
    case HK_ADDR:
        return emit_addrs(c, h->name, h->addrs);
    case HK_MSGID:
        return emit_text(c, h->name, h->text ? h->text : c->o->msgid, 1);
    default:
        return emit_text(c, h->name, h->text ? h->text : "", 0);
    }
}

/* API headers of one group (resent or not) that the message lacks or that
 * override it. */
static int emit_api_group(struct ctx *c, int resent)
{
    for (const struct smtp_hdr *h = c->o->api; h; h = h->next) {
        size_t n = strlen(h->name);
        unsigned fl = flags_of(h->name, n);
        if (!h->has_value || (h->opts & POSTA_SMTP_HDR_PROHIBIT) || (fl & HF_STRIP))
            continue;
        if (!!(fl & HF_RESENT) != resent)
            continue;
        if (msg_has(c, h->name) && !(h->opts & POSTA_SMTP_HDR_OVERRIDE))
            continue;
        int rc = emit_api(c, h);
        if (rc < 0)
            return rc == POSTA_ELIMIT ? fail(c, rc, "header %s is too long to fold", h->name) : rc;
    }
    return 0;
}

/* May posta generate name?  Not when the message or the API has it, nor
 * when prohibited. */
static int may_generate(const struct ctx *c, const char *name)
{
    return !msg_has(c, name) && !api_has_value(c, name) &&
           !(api_opts(c, name, strlen(name)) & POSTA_SMTP_HDR_PROHIBIT);
}

static int generate_from(struct ctx *c, const char *name)
{
    if (!may_generate(c, name))
        return 0;
    if (!c->o->reverse_path || !c->o->reverse_path[0])
        return fail(c, POSTA_EINVAL, "the message has no %s: header and the reverse path is "
                    "null, so none can be made", name);
    return emit_text(c, name, c->o->reverse_path, 1);
}

static int generate_to(struct ctx *c)
{
    static const char *const dest[] = {"To", "Cc", "Bcc"};
    for (size_t i = 0; i < 3; i++)
        if (msg_has(c, dest[i]) || api_has_value(c, dest[i]))
            return 0;
    if ((api_opts(c, "To", 2) & POSTA_SMTP_HDR_PROHIBIT) || c->o->nrcpt == 0)
        return 0;
    struct smtp_fold fo;
    smtp_fold_begin(&fo, c->out, "To");
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < c->o->nrcpt; i++) {
        char tok[600];
        int n = snprintf(tok, sizeof(tok), "%s%s", c->o->rcpts[i], i + 1 < c->o->nrcpt ? "," : "");
        rc = smtp_fold_token(&fo, tok, (size_t)n < sizeof(tok) ? (size_t)n : sizeof(tok) - 1, 1);
    }
    return rc ? rc : smtp_fold_end(&fo);
}

static int generated(struct ctx *c, const char *date_name, const char *id_name,
                     const char *from_name)
{
    int rc = 0;
    if (may_generate(c, date_name))
        rc = emit_text(c, date_name, c->o->date, 1);
    if (rc == 0 && !msg_has(c, id_name) &&
        !(api_opts(c, id_name, strlen(id_name)) & POSTA_SMTP_HDR_PROHIBIT) &&
        !api_has_value(c, id_name))
        rc = emit_text(c, id_name, c->o->msgid, 1);
    if (rc == 0)
        rc = generate_from(c, from_name);
    return rc;
}

static int process(struct ctx *c)
{
    int rc = parse_fields(c);
    if (rc < 0)
        return rc;
    if (c->o->resent) {
        rc = emit_api_group(c, 1);
        if (rc == 0)
            rc = generated(c, "Resent-Date", "Resent-Message-Id", "Resent-From");
        if (rc < 0)
            return rc;
    }
    for (size_t i = 0; i < c->nf; i++) {
        const struct field *f = &c->f[i];
        const struct smtp_hdr *h = smtp_hdr_find(c->o->api, (const char *)f->name, f->name_len);
        if (flags_of((const char *)f->name, f->name_len) & HF_STRIP)
            continue;
        if (h && (h->opts & POSTA_SMTP_HDR_PROHIBIT))
            continue;
        if (h && h->has_value && (h->opts & POSTA_SMTP_HDR_OVERRIDE))
            continue;
        rc = emit_field(c, f);
        if (rc < 0)
            return rc;
    }
    if (!c->o->resent && (rc = emit_api_group(c, 1)) < 0)
        return rc;
    rc = emit_api_group(c, 0);
    if (rc == 0)
        rc = generated(c, "Date", "Message-Id", "From");
    if (rc == 0)
        rc = generate_to(c);
    return rc;
}

int smtp_headers_process(const unsigned char *in, size_t len, const struct smtp_hdr_opts *o,
                         struct posta_buf *out, char *err, size_t errsz)
{
    struct ctx c = {.in = in, .len = len, .o = o, .out = out, .err = err, .errsz = errsz};
    if (errsz)
        err[0] = '\0';
    int rc = process(&c);
    free(c.f);
    if (rc < 0 && errsz && !err[0])
        snprintf(err, errsz, "header processing failed: %s", posta_strerror(rc));
    return rc;
}
