/* Statuses in libESMTP's form (text lines ending in CRLF, NULL before any
 * reply) and application data with release functions. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "esmtp_int.h"

/* posta joins reply lines with "\n" and drops the last line end; libESMTP
 * hands out each line followed by CRLF. */
static char *crlf_text(const char *text)
{
    size_t lines = 1;
    for (const char *p = text; *p; p++)
        lines += *p == '\n';
    size_t n = strlen(text);
    char *out = malloc(n + lines + 2);
    if (!out)
        return NULL;
    char *o = out;
    for (const char *p = text; *p; p++) {
        if (*p == '\n')
            *o++ = '\r';
        *o++ = *p;
    }
    memcpy(o, "\r\n", 3);
    return out;
}

static int same(const struct esmtp_status *st, const posta_smtp_status *p, const char *text)
{
    const smtp_status_t *s = &st->pub;
    return s->code == p->code && s->enh_class == p->enh_class &&
           s->enh_subject == p->enh_subject && s->enh_detail == p->enh_detail &&
           st->local == p->local && s->text && strcmp(s->text, text) == 0;
}

const smtp_status_t *esmtp_status_update(struct esmtp_status *st, const posta_smtp_status *p)
{
    if (!p || p->code == 0) {
        esmtp_status_free(st);
        return &st->pub;
    }
    char *text = crlf_text(p->text ? p->text : "");
    if (!text)
        return esmtp_fail_null(-ENOMEM);
    if (same(st, p, text)) {
        free(text);
        return &st->pub;
    }
    esmtp_status_free(st);
    st->text = text;
    st->local = p->local;
    st->pub = (smtp_status_t){.code = p->code, .text = text, .enh_class = p->enh_class,
                              .enh_subject = p->enh_subject, .enh_detail = p->enh_detail};
    return &st->pub;
}

void esmtp_status_free(struct esmtp_status *st)
{
    free(st->text);
    memset(st, 0, sizeof(*st));
}

void esmtp_appdata_set(struct esmtp_appdata *a, void *data, void (*release)(void *))
{
    if (a->data && a->release)
        a->release(a->data);
    a->data = data;
    a->release = release;
}

void esmtp_appdata_free(struct esmtp_appdata *a)
{
    esmtp_appdata_set(a, NULL, NULL);
}
