/* ENVELOPE and BODY/BODYSTRUCTURE decoding: address lists with groups, and
 * the MIME tree with its extension data, tolerant of real servers' quirks. */
#include "decode_internal.h"

#include <stdio.h>
#include <string.h>

/* --- ENVELOPE -----------------------------------------------------------------
 * envelope    = "(" env-date SP env-subject SP env-from SP env-sender SP
 *               env-reply-to SP env-to SP env-cc SP env-bcc SP
 *               env-in-reply-to SP env-message-id ")"
 * env-from    = "(" 1*address ")" / nil        (same for sender ... bcc)
 * address     = "(" addr-name SP addr-adl SP addr-mailbox SP addr-host ")"
 * A group is "(NIL NIL group-name NIL)" members... "(NIL NIL NIL NIL)"
 * (RFC 9051 7.5.2, from RFC 5322 group syntax). */

static int address(posta_imap_decoder *d, const posta_imap_arg *a, const char *what,
                   posta_imap_address *out)
{
    char b[POSTA_IMAPD_SHOW];
    if (!posta__imapd_is_list(a) || a->count != 4)
        return posta__imapd_proto(d, "ENVELOPE %s: an address must be a list of 4, got %s",
                                  what, posta__imapd_show_arg(a, b));
    posta_imap_str *f[4] = {&out->name, &out->adl, &out->mailbox, &out->host};
    for (size_t i = 0; i < 4; i++) {
        int rc = posta__imapd_nstring(d, &a->list[i], what, f[i]);
        if (rc)
            return rc;
    }
    if (out->host.ptr)
        out->kind = POSTA_IMAP_ADDRESS_MAILBOX;
    else if (out->mailbox.ptr)
        out->kind = POSTA_IMAP_ADDRESS_GROUP_BEGIN;
    else
        out->kind = POSTA_IMAP_ADDRESS_GROUP_END;
    return 0;
}

static int address_list(posta_imap_decoder *d, const posta_imap_arg *a, const char *what,
                        posta_imap_address_list *out)
{
    char b[POSTA_IMAPD_SHOW];
    out->v = NULL;
    out->count = 0;
    /* NIL, "" (a quirk) and () all mean no addresses. */
    if (posta__imapd_is_nil(a) || (posta__imapd_is_text(a) && a->len == 0) ||
        (posta__imapd_is_list(a) && a->count == 0))
        return 0;
    if (!posta__imapd_is_list(a))
        return posta__imapd_proto(d, "ENVELOPE %s: expected an address list or NIL, got %s",
                                  what, posta__imapd_show_arg(a, b));
    posta_imap_address *v = posta__imapd_array(d, a->count, sizeof(*v));
    if (!v)
        return d->err.code;
    size_t n = 0;
    posta_imap_str group = {NULL, 0};
    for (size_t i = 0; i < a->count; i++) {
        const posta_imap_arg *e = &a->list[i];
        if (posta__imapd_is_nil(e) || (posta__imapd_is_text(e) && e->len == 0))
            continue;   /* a quirk: empty entries */
        int rc = address(d, e, what, &v[n]);
        if (rc)
            return rc;
        if (v[n].kind == POSTA_IMAP_ADDRESS_GROUP_BEGIN)
            group = v[n].mailbox;
        else if (v[n].kind == POSTA_IMAP_ADDRESS_GROUP_END)
            group = (posta_imap_str){NULL, 0};
        else
            v[n].group = group;
        n++;
    }
    out->v = v;
    out->count = n;
    return 0;
}

static int envelope(posta_imap_decoder *d, const posta_imap_arg *arg,
                    const posta_imap_envelope **env_r)
{
    char b[POSTA_IMAPD_SHOW];
    if (!posta__imapd_is_list(arg) || arg->count != 10)
        return posta__imapd_proto(d, "ENVELOPE: expected a list of 10 fields, got %s",
                                  posta__imapd_show_arg(arg, b));
    posta_imap_envelope *e = posta__imapd_alloc(d, sizeof(*e));
    if (!e)
        return d->err.code;
    const posta_imap_arg *f = arg->list;
    static const char *const names[6] = {"from", "sender", "reply-to", "to", "cc", "bcc"};
    posta_imap_address_list *lists[6] = {&e->from, &e->sender, &e->reply_to,
                                         &e->to,   &e->cc,     &e->bcc};
    int rc;
    if ((rc = posta__imapd_nstring(d, &f[0], "ENVELOPE date", &e->date)) != 0 ||
        (rc = posta__imapd_nstring(d, &f[1], "ENVELOPE subject", &e->subject)) != 0)
        return rc;
    for (size_t i = 0; i < 6; i++)
        if ((rc = address_list(d, &f[2 + i], names[i], lists[i])) != 0)
            return rc;
    if ((rc = posta__imapd_nstring(d, &f[8], "ENVELOPE in-reply-to", &e->in_reply_to)) != 0 ||
        (rc = posta__imapd_nstring(d, &f[9], "ENVELOPE message-id", &e->message_id)) != 0)
        return rc;
    *env_r = e;
    return 0;
}

int posta_imap_decode_envelope_arg(posta_imap_decoder *d, const posta_imap_arg *arg,
                                   const posta_imap_envelope **env_r)
{
    if (!d)
        return POSTA_EINVAL;
    if (!arg || !env_r)
        return posta__imapd_fail(d, POSTA_EINVAL, "%s: NULL argument", __func__);
    *env_r = NULL;
    posta__err_clear(&d->err);
    return envelope(d, arg, env_r);
}

/* --- BODYSTRUCTURE --------------------------------------------------------------
 * body            = "(" (body-type-1part / body-type-mpart) ")"
 * body-type-1part = (body-type-basic / body-type-msg / body-type-text)
 *                   [SP body-ext-1part]
 * body-type-basic = media-basic SP body-fields
 * body-type-msg   = media-message SP body-fields SP envelope SP body SP body-fld-lines
 * body-type-text  = media-text SP body-fields SP body-fld-lines
 * body-fields     = body-fld-param SP body-fld-id SP body-fld-desc SP
 *                   body-fld-enc SP body-fld-octets
 * body-type-mpart = 1*body SP media-subtype [SP body-ext-mpart]
 * body-ext-1part  = body-fld-md5 [SP body-fld-dsp [SP body-fld-lang
 *                   [SP body-fld-loc *(SP body-extension)]]]
 * body-ext-mpart  = body-fld-param [SP body-fld-dsp [SP body-fld-lang
 *                   [SP body-fld-loc *(SP body-extension)]]]
 * body-fld-param  = "(" string SP string *(SP string SP string) ")" / nil
 * body-fld-dsp    = "(" string SP body-fld-param ")" / nil
 * body-fld-lang   = nstring / "(" string *(SP string) ")"
 */

/* A number field that must never fail: servers have sent "-1", "NIL" and
 * 25-digit sizes.  Negative and non-numbers give 0, huge values clamp. */
static uint64_t clamp_number(const posta_imap_arg *a)
{
    if (!posta__imapd_is_text(a) || a->len == 0 || a->str[0] == '-')
        return 0;
    uint64_t n = 0;
    for (size_t i = 0; i < a->len; i++) {
        unsigned c = (unsigned char)a->str[i] - '0';
        if (c > 9)
            return 0;
        n = n > (UINT64_MAX - c) / 10 ? UINT64_MAX : n * 10 + c;
    }
    return n;
}

static int empty_ish(const posta_imap_arg *a)
{
    return !a || posta__imapd_is_nil(a) || (posta__imapd_is_text(a) && a->len == 0) ||
           (posta__imapd_is_list(a) && a->count == 0);
}

static int params(posta_imap_decoder *d, const posta_imap_arg *a, const posta_imap_param **v_r,
                  size_t *n_r)
{
    *v_r = NULL;
    *n_r = 0;
    if (empty_ish(a) || !posta__imapd_is_list(a))
        return 0;
    size_t n = a->count / 2;   /* an odd last element is dropped */
    posta_imap_param *v = posta__imapd_array(d, n, sizeof(*v));
    if (!v)
        return d->err.code;
    for (size_t i = 0; i < n; i++) {
        int rc = posta__imapd_nstring_lax(d, &a->list[2 * i], &v[i].name);
        if (rc || (rc = posta__imapd_nstring_lax(d, &a->list[2 * i + 1], &v[i].value)) != 0)
            return rc;
    }
    *v_r = v;
    *n_r = n;
    return 0;
}

static int disposition(posta_imap_decoder *d, const posta_imap_arg *a, posta_imap_body *b)
{
    if (empty_ish(a))
        return 0;
    /* A bare string is the disposition without parameters (a quirk). */
    if (!posta__imapd_is_list(a))
        return posta__imapd_nstring_lax(d, a, &b->disposition);
    int rc = posta__imapd_nstring_lax(d, &a->list[0], &b->disposition);
    if (rc || a->count < 2)
        return rc;
    return params(d, &a->list[1], &b->disposition_params, &b->ndisposition_params);
}

static int language(posta_imap_decoder *d, const posta_imap_arg *a, posta_imap_body *b)
{
    if (empty_ish(a))
        return 0;
    const posta_imap_arg *v = a;
    size_t n = 1;
    if (posta__imapd_is_list(a)) {
        v = a->list;
        n = a->count;
    }
    posta_imap_str *s = posta__imapd_array(d, n, sizeof(*s));
    if (!s)
        return d->err.code;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int rc = posta__imapd_nstring_lax(d, &v[i], &s[k]);
        if (rc)
            return rc;
        if (s[k].ptr)
            k++;
    }
    b->language = s;
    b->nlanguage = k;
    return 0;
}

/* Extension data from index e: first (md5 or params), disposition,
 * language, location, then anything more kept generically. */
static int extensions(posta_imap_decoder *d, const posta_imap_arg *a, size_t e,
                      posta_imap_body *b)
{
    int rc;
    if (e >= a->count)
        return 0;
    b->has_ext = 1;
    const posta_imap_arg *x = &a->list[e];
    size_t n = a->count - e;
    if (b->multipart)
        rc = params(d, &x[0], &b->params, &b->nparams);
    else
        rc = posta__imapd_nstring_lax(d, &x[0], &b->md5);
    if (rc == 0 && n > 1)
        rc = disposition(d, &x[1], b);
    if (rc == 0 && n > 2)
        rc = language(d, &x[2], b);
    if (rc == 0 && n > 3)
        rc = posta__imapd_nstring_lax(d, &x[3], &b->location);
    if (rc == 0 && n > 4) {
        b->extensions = &x[4];
        b->nextensions = n - 4;
    }
    return rc;
}

static int section_name(posta_imap_decoder *d, const posta_imap_str *parent, size_t index,
                        posta_imap_str *out)
{
    char num[24];
    int k = snprintf(num, sizeof(num), "%zu", index);
    size_t plen = parent->len;
    size_t len = plen + (plen ? 1 : 0) + (size_t)k;
    char *p = posta__imapd_alloc(d, len + 1);
    if (!p)
        return d->err.code;
    if (plen) {
        memcpy(p, parent->ptr, plen);
        p[plen] = '.';
    }
    memcpy(p + len - (size_t)k, num, (size_t)k + 1);
    out->ptr = p;
    out->len = len;
    return 0;
}

static int body_node(posta_imap_decoder *d, const posta_imap_arg *a, posta_imap_str sec_multi,
                     posta_imap_str sec_leaf, posta_imap_body *b);

static int multipart(posta_imap_decoder *d, const posta_imap_arg *a, size_t nparts,
                     posta_imap_str sec, posta_imap_body *b)
{
    b->multipart = 1;
    b->type.ptr = "MULTIPART";
    b->type.len = 9;
    b->section = sec;
    posta_imap_body *parts = posta__imapd_array(d, nparts, sizeof(*parts));
    if (!parts)
        return d->err.code;
    for (size_t i = 0; i < nparts; i++) {
        posta_imap_str child;
        int rc = section_name(d, &sec, i + 1, &child);
        if (rc == 0)
            rc = body_node(d, &a->list[i], child, child, &parts[i]);
        if (rc)
            return rc;
    }
    b->parts = parts;
    b->nparts = nparts;
    /* The subtype follows the parts; an empty multipart ("(\"MIXED\")", a
     * quirk) has only the subtype.  Anything odd there is taken as NIL. */
    if (nparts < a->count) {
        int rc = posta__imapd_nstring_lax(d, &a->list[nparts], &b->subtype);
        if (rc)
            return rc;
    }
    return extensions(d, a, nparts + 1, b);
}

static int leaf(posta_imap_decoder *d, const posta_imap_arg *a, posta_imap_str sec,
                posta_imap_body *b)
{
    char s[POSTA_IMAPD_SHOW];
    const posta_imap_arg *f = a->list;
    int rc;
    if (a->count < 7)
        return posta__imapd_proto(d, "BODYSTRUCTURE part %s: %zu fields, a part needs 7",
                                  sec.ptr, a->count);
    b->section = sec;
    if ((rc = posta__imapd_nstring_lax(d, &f[0], &b->type)) != 0 ||
        (rc = posta__imapd_nstring_lax(d, &f[1], &b->subtype)) != 0 ||
        (rc = params(d, &f[2], &b->params, &b->nparams)) != 0 ||
        (rc = posta__imapd_nstring_lax(d, &f[3], &b->id)) != 0 ||
        (rc = posta__imapd_nstring_lax(d, &f[4], &b->description)) != 0 ||
        (rc = posta__imapd_nstring_lax(d, &f[5], &b->encoding)) != 0)
        return rc;
    b->size = clamp_number(&f[6]);
    size_t e = 7;
    int is_text = b->type.ptr && posta__imapd_eq(b->type.ptr, b->type.len, "TEXT");
    int is_msg = b->type.ptr && posta__imapd_eq(b->type.ptr, b->type.len, "MESSAGE") &&
                 b->subtype.ptr && (posta__imapd_eq(b->subtype.ptr, b->subtype.len, "RFC822") ||
                                    posta__imapd_eq(b->subtype.ptr, b->subtype.len, "GLOBAL"));
    if (is_msg && a->count >= 10 && posta__imapd_is_list(&f[7]) && posta__imapd_is_list(&f[8])) {
        posta_imap_body *inner = posta__imapd_alloc(d, sizeof(*inner));
        posta_imap_str inner_leaf;
        if (!inner)
            return d->err.code;
        if ((rc = envelope(d, &f[7], &b->envelope)) != 0 ||
            (rc = section_name(d, &sec, 1, &inner_leaf)) != 0 ||
            (rc = body_node(d, &f[8], sec, inner_leaf, inner)) != 0)
            return rc;
        b->body = inner;
        b->lines = clamp_number(&f[9]);
        e = 10;
    } else if (is_text) {
        if (a->count < 8)
            return posta__imapd_proto(d, "BODYSTRUCTURE part %s: a TEXT part needs its line "
                                         "count", sec.ptr);
        if (!posta__imapd_is_text(&f[7]))
            return posta__imapd_proto(d, "BODYSTRUCTURE part %s: line count is %s", sec.ptr,
                                      posta__imapd_show_arg(&f[7], s));
        b->lines = clamp_number(&f[7]);
        e = 8;
    }
    return extensions(d, a, e, b);
}

/* sec_multi is the node's section if it turns out to be a multipart,
 * sec_leaf if it is a leaf: they differ only at the top and inside a
 * message/rfc822 part. */
static int body_node(posta_imap_decoder *d, const posta_imap_arg *a, posta_imap_str sec_multi,
                     posta_imap_str sec_leaf, posta_imap_body *b)
{
    char s[POSTA_IMAPD_SHOW];
    if (!posta__imapd_is_list(a) || a->count == 0)
        return posta__imapd_proto(d, "BODYSTRUCTURE part %s: expected a body list, got %s",
                                  sec_leaf.ptr, posta__imapd_show_arg(a, s));
    if (d->depth >= POSTA_IMAPD_MAX_DEPTH)
        return posta__imapd_fail(d, POSTA_ELIMIT, "BODYSTRUCTURE nested more than %d levels",
                                 POSTA_IMAPD_MAX_DEPTH);
    size_t nparts = 0;
    while (nparts < a->count && posta__imapd_is_list(&a->list[nparts]))
        nparts++;
    int rc;
    d->depth++;
    if (nparts > 0)
        rc = multipart(d, a, nparts, sec_multi, b);
    else if (a->count >= 2 && posta__imapd_is_text(&a->list[1]))
        rc = leaf(d, a, sec_leaf, b);    /* type SP subtype SP ... */
    else
        rc = multipart(d, a, 0, sec_multi, b);   /* subtype SP params ...: no parts */
    d->depth--;
    return rc;
}

int posta_imap_decode_body_arg(posta_imap_decoder *d, const posta_imap_arg *arg,
                               const posta_imap_body **body_r)
{
    if (!d)
        return POSTA_EINVAL;
    if (!arg || !body_r)
        return posta__imapd_fail(d, POSTA_EINVAL, "%s: NULL argument", __func__);
    *body_r = NULL;
    posta__err_clear(&d->err);
    posta_imap_body *b = posta__imapd_alloc(d, sizeof(*b));
    if (!b)
        return d->err.code;
    unsigned depth = d->depth;
    int rc = body_node(d, arg, (posta_imap_str){"", 0}, (posta_imap_str){"1", 1}, b);
    d->depth = depth;
    if (rc)
        return rc;
    *body_r = b;
    return 0;
}
