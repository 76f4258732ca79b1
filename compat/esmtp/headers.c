/* smtp_set_header() and its options: libESMTP's per-header argument
 * conventions mapped onto posta's header API, which refuses anything that
 * could split a header (CR, LF, NUL, controls). */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "esmtp_int.h"

/* How a header's value is passed to smtp_set_header(). */
enum hkind {
    HK_TEXT,   /* const char *value */
    HK_DATE,   /* const time_t * */
    HK_MSGID,  /* const char * or NULL (generate) */
    HK_FROM,   /* phrase, mailbox; both NULL: from the reverse path */
    HK_SENDER, /* phrase, mailbox; one value */
    HK_TO,     /* phrase, mailbox; both NULL: from the recipients */
    HK_CC,     /* phrase, mailbox; mailbox required */
    HK_DNT     /* phrase, mailbox; both NULL: to the reverse path */
};

static const struct {
    const char *name;
    enum hkind kind;
} kinds[] = {
    {"Date", HK_DATE},     {"Message-Id", HK_MSGID}, {"From", HK_FROM},
    {"Sender", HK_SENDER}, {"To", HK_TO},            {"Cc", HK_CC},
    {"Bcc", HK_CC},        {"Reply-To", HK_CC},      {"Disposition-Notification-To", HK_DNT},
};

/* Resent- forms take the arguments of their plain counterparts. */
static enum hkind kind_of(const char *name)
{
    if (strncasecmp(name, "Resent-", 7) == 0)
        name += 7;
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strcasecmp(name, kinds[i].name) == 0)
            return kinds[i].kind;
    return HK_TEXT;
}

/* Headers libESMTP passes through untouched or strips: they take neither a
 * value nor an option through the API. */
static int untouchable(const char *name)
{
    return strncasecmp(name, "Content-", 8) == 0 || strncasecmp(name, "MIME-", 5) == 0 ||
           strcasecmp(name, "Return-Path") == 0 || strcasecmp(name, "Received") == 0 ||
           strcasecmp(name, "Original-Recipient") == 0;
}

static int result(int rc)
{
    if (rc < 0) {
        esmtp_set_posta_error(rc);
        return 0;
    }
    return 1;
}

/* "phrase" <mailbox>, or the mailbox alone, as a header value. */
static char *mailbox_text(const char *phrase, const char *mailbox)
{
    size_t n = strlen(mailbox) + (phrase ? 2 * strlen(phrase) + 6 : 0) + 1;
    char *out = malloc(n), *o = out;
    if (!out)
        return NULL;
    if (phrase) {
        *o++ = '"';
        for (const char *p = phrase; *p; p++) {
            if (*p == '"' || *p == '\\')
                *o++ = '\\';
            *o++ = *p;
        }
        memcpy(o, "\" <", 3);
        o += 3;
    }
    size_t mlen = strlen(mailbox);
    memcpy(o, mailbox, mlen);
    o += mlen;
    if (phrase)
        *o++ = '>';
    *o = '\0';
    return out;
}

static int set_dnt(smtp_message_t m, const char *name, const char *phrase, const char *mailbox)
{
    if (!phrase && !mailbox) {
        m->dnt_default = 1;
        return 1;
    }
    if (!mailbox)
        return esmtp_fail(SMTP_ERR_INVAL, 0);
    char *text = mailbox_text(phrase, mailbox);
    if (!text)
        return esmtp_fail(-ENOMEM, 0);
    int rc = posta_smtp_message_set_header(m->m, name, text);
    free(text);
    return result(rc);
}

static int set_address(smtp_message_t m, const char *name, enum hkind kind, const char *phrase,
                       const char *mailbox)
{
    /* NULL, NULL asks for the default, which posta generates anyway. */
    if (!phrase && !mailbox && (kind == HK_FROM || kind == HK_TO))
        return 1;
    if (kind == HK_DNT)
        return set_dnt(m, name, phrase, mailbox);
    if (!mailbox)
        return esmtp_fail(SMTP_ERR_INVAL, 0);
    return result(posta_smtp_message_add_address(m->m, name, phrase, mailbox));
}

static int set_one(smtp_message_t m, const char *name, va_list ap)
{
    enum hkind kind = kind_of(name);
    if (kind == HK_DATE) {
        const time_t *when = va_arg(ap, const time_t *);
        if (!when)
            return esmtp_fail(SMTP_ERR_INVAL, 0);
        return result(posta_smtp_message_set_date(m->m, name, *when));
    }
    if (kind == HK_TEXT || kind == HK_MSGID) {
        const char *value = va_arg(ap, const char *);
        if (!value && kind == HK_TEXT)
            return esmtp_fail(SMTP_ERR_INVAL, 0);
        return result(posta_smtp_message_set_header(m->m, name, value));
    }
    const char *phrase = va_arg(ap, const char *);
    const char *mailbox = va_arg(ap, const char *);
    return set_address(m, name, kind, phrase, mailbox);
}

ESMTP_API int smtp_set_header(smtp_message_t m, const char *header, ...)
{
    if (!m || !header || untouchable(header))
        return esmtp_fail(SMTP_ERR_INVAL, 0);
    va_list ap;
    va_start(ap, header);
    int ok = set_one(m, header, ap);
    va_end(ap);
    return ok;
}

/* --- options ------------------------------------------------------------------- */

static struct esmtp_hdropt *option_entry(smtp_message_t m, const char *name)
{
    for (struct esmtp_hdropt *o = m->hdropts; o; o = o->next)
        if (strcasecmp(o->name, name) == 0)
            return o;
    struct esmtp_hdropt *o = calloc(1, sizeof(*o));
    if (!o || !(o->name = strdup(name))) {
        free(o);
        return NULL;
    }
    o->next = m->hdropts;
    m->hdropts = o;
    return o;
}

static int set_option(smtp_message_t m, const char *name, enum header_option option, int on)
{
    struct esmtp_hdropt *o = option_entry(m, name);
    if (!o)
        return esmtp_fail(-ENOMEM, 0);
    unsigned bit = option == Hdr_OVERRIDE ? POSTA_SMTP_HDR_OVERRIDE : POSTA_SMTP_HDR_PROHIBIT;
    /* libESMTP: a prohibited header cannot be overridden. */
    if (option == Hdr_OVERRIDE && on && (o->bits & POSTA_SMTP_HDR_PROHIBIT))
        return esmtp_fail(SMTP_ERR_INVAL, 0);
    unsigned bits = on ? o->bits | bit : o->bits & ~bit;
    int rc = posta_smtp_message_set_header_option(m->m, name, bits);
    if (rc < 0)
        return result(rc);
    o->bits = bits;
    return 1;
}

ESMTP_API int smtp_set_header_option(smtp_message_t m, const char *header,
                                     enum header_option option, ...)
{
    if (!m || !header || untouchable(header) ||
        (option != Hdr_OVERRIDE && option != Hdr_PROHIBIT))
        return esmtp_fail(SMTP_ERR_INVAL, 0);
    va_list ap;
    va_start(ap, option);
    int on = va_arg(ap, int);
    va_end(ap);
    return set_option(m, header, option, on != 0);
}

ESMTP_API int smtp_set_resent_headers(smtp_message_t m, int onoff)
{
    if (!m)
        return esmtp_fail(SMTP_ERR_INVAL, 0);
    posta_smtp_message_set_resent(m->m, onoff != 0);
    return 1;
}
