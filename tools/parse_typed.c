/* Typed printing of parsed IMAP responses for `posta parse imap`: each
 * response a decoder exists for becomes one JSON object of its typed data. */
#include <posta/imap_data.h>
#include <posta/imap_parser.h>

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

/*
 * The object (one line per response):
 *
 *   {"kind":"tagged"|"untagged"|"continuation", "tag":"a1", "status":"OK",
 *    "type":"FETCH"|"LIST"|...|"CONDITION"|"CONTINUATION", <typed fields>}
 *
 * Strings are JSON strings (bytes that are not UTF-8 as \udcXX, as the
 * generic printer does), NIL is null, numbers are numbers.  When a decoder
 * refuses a response, the object holds "decode_error" (the decoder's
 * sentence) and "args" (the generic tree) instead of typed fields, so no
 * response is ever lost.  Streamed literals appear as {"streamed":SIZE}.
 */

struct out {
    FILE *f;
    int n;   /* members written in the current object/array */
};

/* --- small JSON writer: key() opens a member, the value printers follow --- */

static void sep(struct out *o)
{
    if (o->n++)
        fputc(',', o->f);
}

static void key(struct out *o, const char *k)
{
    sep(o);
    fprintf(o->f, "\"%s\":", k);
}

static void str(struct out *o, posta_imap_str s)
{
    if (s.ptr)
        tool_json_str(o->f, s.ptr, s.len);
    else
        fputs("null", o->f);
}

static void kstr(struct out *o, const char *k, posta_imap_str s)
{
    key(o, k);
    str(o, s);
}

static void knum(struct out *o, const char *k, uint64_t v)
{
    key(o, k);
    fprintf(o->f, "%" PRIu64, v);
}

static void kcstr(struct out *o, const char *k, const char *s)
{
    key(o, k);
    tool_json_str(o->f, s, strlen(s));
}

/* Open "{" or "[" as a value; returns the outer count to restore. */
static int open_(struct out *o, char c)
{
    fputc(c, o->f);
    int saved = o->n;
    o->n = 0;
    return saved;
}

static void close_(struct out *o, char c, int saved)
{
    fputc(c, o->f);
    o->n = saved;
}

static void strs(struct out *o, const char *k, const posta_imap_str *v, size_t n)
{
    key(o, k);
    int s = open_(o, '[');
    for (size_t i = 0; i < n; i++) {
        sep(o);
        str(o, v[i]);
    }
    close_(o, ']', s);
}

static void params(struct out *o, const char *k, const posta_imap_param *v, size_t n)
{
    key(o, k);
    int s = open_(o, '[');
    for (size_t i = 0; i < n; i++) {
        sep(o);
        fputc('[', o->f);
        str(o, v[i].name);
        fputc(',', o->f);
        str(o, v[i].value);
        fputc(']', o->f);
    }
    close_(o, ']', s);
}

static void arg(struct out *o, const posta_imap_arg *a)
{
    switch (a->type) {
    case POSTA_IMAP_ARG_NIL:
        fputs("null", o->f);
        break;
    case POSTA_IMAP_ARG_ATOM:
        tool_json_str(o->f, a->str, a->len);
        break;
    case POSTA_IMAP_ARG_STRING:
    case POSTA_IMAP_ARG_LITERAL:
        fputs(a->type == POSTA_IMAP_ARG_STRING ? "{\"string\":" : "{\"literal\":", o->f);
        tool_json_str(o->f, a->str, a->len);
        fputc('}', o->f);
        break;
    case POSTA_IMAP_ARG_LITERAL_STREAMED:
        fprintf(o->f, "{\"streamed\":%" PRIu64 "}", a->size);
        break;
    case POSTA_IMAP_ARG_LIST: {
        int s = open_(o, '[');
        for (size_t i = 0; i < a->count; i++) {
            sep(o);
            arg(o, &a->list[i]);
        }
        close_(o, ']', s);
        break;
    }
    }
}

static void args(struct out *o, const char *k, const posta_imap_arg *v, size_t n)
{
    key(o, k);
    int s = open_(o, '[');
    for (size_t i = 0; i < n; i++) {
        sep(o);
        arg(o, &v[i]);
    }
    close_(o, ']', s);
}

static void items(struct out *o, const char *k, const posta_imap_item *v, size_t n)
{
    if (!n)
        return;
    key(o, k);
    int s = open_(o, '[');
    for (size_t i = 0; i < n; i++) {
        sep(o);
        int t = open_(o, '{');
        kstr(o, "name", v[i].name);
        key(o, "value");
        if (v[i].value)
            arg(o, v[i].value);
        else
            fputs("null", o->f);
        close_(o, '}', t);
    }
    close_(o, ']', s);
}

static void set(struct out *o, const char *k, const posta_imap_seqset *v)
{
    key(o, k);
    fputc('"', o->f);
    for (size_t i = 0; i < v->count; i++) {
        const posta_imap_range *r = &v->ranges[i];
        if (i)
            fputc(',', o->f);
        if (r->first == POSTA_IMAP_STAR)
            fputc('*', o->f);
        else
            fprintf(o->f, "%" PRIu32, r->first);
        if (r->last != r->first)
            r->last == POSTA_IMAP_STAR ? (void)fputs(":*", o->f)
                                       : (void)fprintf(o->f, ":%" PRIu32, r->last);
    }
    fputc('"', o->f);
}

static void flags(struct out *o, const char *k, const posta_imap_flagset *f)
{
    strs(o, k, f->v, f->count);
}

static void mailbox(struct out *o, const char *k, const posta_imap_mailbox_name *m)
{
    kstr(o, k, m->name);
    if (m->raw.len != m->name.len || (m->raw.ptr && memcmp(m->raw.ptr, m->name.ptr, m->raw.len))) {
        char rk[40];
        snprintf(rk, sizeof(rk), "%s_raw", k);
        kstr(o, rk, m->raw);
    }
    if (m->undecoded) {
        char uk[40];
        snprintf(uk, sizeof(uk), "%s_undecoded", k);
        key(o, uk);
        fputs("true", o->f);
    }
}

static void delimiter(struct out *o, char c)
{
    key(o, "delimiter");
    if (c)
        tool_json_str(o->f, &c, 1);
    else
        fputs("null", o->f);
}

static void datetime(struct out *o, const char *k, const posta_imap_datetime *dt)
{
    int z = dt->zone < 0 ? -dt->zone : dt->zone;
    key(o, k);
    fprintf(o->f, "{\"time\":%lld,\"zone\":\"%c%02d%02d\"}", (long long)dt->time,
            dt->zone < 0 ? '-' : '+', z / 60, z % 60);
}

/* --- typed printers, one per data type ------------------------------------ */

static void addresses(struct out *o, const char *k, const posta_imap_address_list *l)
{
    static const char *const kinds[] = {"mailbox", "group_begin", "group_end"};
    key(o, k);
    int s = open_(o, '[');
    for (size_t i = 0; i < l->count; i++) {
        const posta_imap_address *a = &l->v[i];
        sep(o);
        int t = open_(o, '{');
        if (a->kind != POSTA_IMAP_ADDRESS_MAILBOX)
            kcstr(o, "kind", kinds[a->kind]);
        kstr(o, "name", a->name);
        if (a->adl.ptr)
            kstr(o, "adl", a->adl);
        kstr(o, "mailbox", a->mailbox);
        kstr(o, "host", a->host);
        if (a->group.ptr)
            kstr(o, "group", a->group);
        close_(o, '}', t);
    }
    close_(o, ']', s);
}

static void envelope(struct out *o, const posta_imap_envelope *e)
{
    key(o, "envelope");
    int s = open_(o, '{');
    kstr(o, "date", e->date);
    kstr(o, "subject", e->subject);
    addresses(o, "from", &e->from);
    addresses(o, "sender", &e->sender);
    addresses(o, "reply_to", &e->reply_to);
    addresses(o, "to", &e->to);
    addresses(o, "cc", &e->cc);
    addresses(o, "bcc", &e->bcc);
    kstr(o, "in_reply_to", e->in_reply_to);
    kstr(o, "message_id", e->message_id);
    close_(o, '}', s);
}

static void body_value(struct out *o, const posta_imap_body *b);

static void body(struct out *o, const char *k, const posta_imap_body *b)
{
    key(o, k);
    body_value(o, b);
}

static void body_value(struct out *o, const posta_imap_body *b)
{
    int s = open_(o, '{');
    kstr(o, "section", b->section);
    kstr(o, "type", b->type);
    kstr(o, "subtype", b->subtype);
    params(o, "params", b->params, b->nparams);
    if (b->multipart) {
        key(o, "parts");
        int t = open_(o, '[');
        for (size_t i = 0; i < b->nparts; i++) {
            sep(o);
            body_value(o, &b->parts[i]);
        }
        close_(o, ']', t);
    } else {
        kstr(o, "id", b->id);
        kstr(o, "description", b->description);
        kstr(o, "encoding", b->encoding);
        knum(o, "size", b->size);
        knum(o, "lines", b->lines);
        if (b->envelope)
            envelope(o, b->envelope);
        if (b->body)
            body(o, "body", b->body);
    }
    if (b->has_ext) {
        if (!b->multipart)
            kstr(o, "md5", b->md5);
        kstr(o, "disposition", b->disposition);
        if (b->ndisposition_params)
            params(o, "disposition_params", b->disposition_params, b->ndisposition_params);
        strs(o, "language", b->language, b->nlanguage);
        kstr(o, "location", b->location);
        if (b->nextensions)
            args(o, "extensions", b->extensions, b->nextensions);
    }
    close_(o, '}', s);
}

static void section(struct out *o, const posta_imap_section *x)
{
    static const char *const kinds[] = {"BODY", "BINARY", "RFC822", "RFC822.HEADER",
                                        "RFC822.TEXT"};
    int s = open_(o, '{');
    kcstr(o, "kind", kinds[x->kind]);
    kstr(o, "section", x->section);
    if (x->nparts) {
        key(o, "part");
        int t = open_(o, '[');
        for (size_t i = 0; i < x->nparts; i++) {
            sep(o);
            fprintf(o->f, "%" PRIu32, x->part[i]);
        }
        close_(o, ']', t);
    }
    if (x->spec.len)
        kstr(o, "spec", x->spec);
    if (x->has_origin)
        knum(o, "origin", x->origin);
    knum(o, "size", x->size);
    if (x->literal8) {
        key(o, "literal8");
        fputs("true", o->f);
    }
    if (x->streamed) {
        key(o, "streamed");
        fputs("true", o->f);
    } else {
        kstr(o, "data", x->data);
    }
    close_(o, '}', s);
}

/* Each printer decodes r and writes its members; a negative return is
 * the decoder's error, printed by the caller. */
typedef int printer(posta_imap_decoder *d, const posta_imap_response *r, struct out *o);

static void code_members(struct out *o, const posta_imap_code *c)
{
    key(o, "code");
    int s = open_(o, '{');
    kcstr(o, "type", posta_imap_code_type_name(c->type));
    if (c->type == POSTA_IMAP_CODE_OTHER || c->bad_args) {
        kstr(o, "name", c->name);
        kstr(o, "raw", c->raw);
    }
    if (c->bad_args) {
        key(o, "bad_args");
        fputs("true", o->f);
    }
    switch (c->type) {
    case POSTA_IMAP_CODE_UIDNEXT:
    case POSTA_IMAP_CODE_UIDVALIDITY:
    case POSTA_IMAP_CODE_UNSEEN:
    case POSTA_IMAP_CODE_HIGHESTMODSEQ:
    case POSTA_IMAP_CODE_METADATA_LONGENTRIES:
    case POSTA_IMAP_CODE_METADATA_MAXSIZE:
        if (!c->bad_args)
            knum(o, "number", c->number);
        break;
    case POSTA_IMAP_CODE_APPENDUID:
    case POSTA_IMAP_CODE_COPYUID:
        if (c->bad_args)
            break;
        knum(o, "uidvalidity", c->number);
        set(o, c->type == POSTA_IMAP_CODE_COPYUID ? "source" : "uids", &c->set);
        if (c->type == POSTA_IMAP_CODE_COPYUID)
            set(o, "destination", &c->set2);
        break;
    case POSTA_IMAP_CODE_MODIFIED:
        if (!c->bad_args)
            set(o, "set", &c->set);
        break;
    case POSTA_IMAP_CODE_PERMANENTFLAGS:
        flags(o, "flags", &c->flags);
        break;
    case POSTA_IMAP_CODE_CAPABILITY:
        strs(o, "capabilities", c->caps.v, c->caps.count);
        break;
    case POSTA_IMAP_CODE_BADCHARSET:
        strs(o, "charsets", c->strings, c->nstrings);
        break;
    case POSTA_IMAP_CODE_REFERRAL:
    case POSTA_IMAP_CODE_MAILBOXID:
        if (!c->bad_args)
            kstr(o, c->type == POSTA_IMAP_CODE_REFERRAL ? "url" : "mailboxid", c->str);
        break;
    default:
        break;
    }
    close_(o, '}', s);
}

static int p_condition(posta_imap_decoder *d, const posta_imap_response *r, struct out *o)
{
    posta_imap_code c;
    int rc = posta_imap_decode_code(d, r, &c);
    if (rc)
        return rc;
    if (c.type != POSTA_IMAP_CODE_NONE)
        code_members(o, &c);
    kstr(o, "text", (posta_imap_str){r->text ? r->text : "", r->text ? r->text_len : 0});
    return 0;
}

static int p_capability(posta_imap_decoder *d, const posta_imap_response *r, struct out *o)
{
    posta_imap_capset c;
    int rc = r->keyword && strcmp(r->keyword, "ENABLED") == 0
                 ? posta_imap_decode_enabled(d, r, &c)
                 : posta_imap_decode_capability(d, r, &c);
    if (rc == 0)
        strs(o, "capabilities", c.v, c.count);
    return rc;
}

static int p_flags(posta_imap_decoder *d, const posta_imap_response *r, struct out *o)
{
    posta_imap_flagset f;
    int rc = posta_imap_decode_flags(d, r, &f);
    if (rc == 0)
        flags(o, "flags", &f);
    return rc;
}

static int p_number(posta_imap_decoder *d, const posta_imap_response *r, struct out *o)
{
    uint32_t n;
    int rc;
    switch (posta_imap_data_type_of(r)) {
    case POSTA_IMAP_DATA_EXPUNGE:
        rc = posta_imap_decode_expunge(d, r, &n);
        break;
    case POSTA_IMAP_DATA_RECENT:
        rc = posta_imap_decode_recent(d, r, &n);
        break;
    default:
        rc = posta_imap_decode_exists(d, r, &n);
        break;
    }
    if (rc == 0)
        knum(o, "number", n);
    return rc;
}

static void fetch_members(struct out *o, const posta_imap_fetch_data *f)
{
    knum(o, "seq", f->seq);
    if (f->present & POSTA_IMAP_FETCH_UID)
        knum(o, "uid", f->uid);
    if (f->present & POSTA_IMAP_FETCH_FLAGS)
        flags(o, "flags", &f->flags);
    if (f->present & POSTA_IMAP_FETCH_INTERNALDATE)
        datetime(o, "internaldate", &f->internaldate);
    if (f->present & POSTA_IMAP_FETCH_RFC822_SIZE)
        knum(o, "rfc822_size", f->rfc822_size);
    if (f->present & POSTA_IMAP_FETCH_MODSEQ)
        knum(o, "modseq", f->modseq);
    if (f->present & POSTA_IMAP_FETCH_EMAILID)
        kstr(o, "emailid", f->emailid);
    if (f->present & POSTA_IMAP_FETCH_THREADID)
        kstr(o, "threadid", f->threadid);
    if (f->present & POSTA_IMAP_FETCH_SAVEDATE) {
        if (f->savedate_nil) {
            key(o, "savedate");
            fputs("null", o->f);
        } else {
            datetime(o, "savedate", &f->savedate);
        }
    }
    if (f->present & POSTA_IMAP_FETCH_PREVIEW)
        kstr(o, "preview", f->preview);
    if (f->present & POSTA_IMAP_FETCH_X_GM_MSGID)
        knum(o, "x_gm_msgid", f->x_gm_msgid);
    if (f->present & POSTA_IMAP_FETCH_X_GM_THRID)
        knum(o, "x_gm_thrid", f->x_gm_thrid);
    if (f->present & POSTA_IMAP_FETCH_X_GM_LABELS)
        strs(o, "x_gm_labels", f->x_gm_labels, f->nx_gm_labels);
    if (f->present & POSTA_IMAP_FETCH_ENVELOPE)
        envelope(o, f->envelope);
    if (f->present & (POSTA_IMAP_FETCH_BODY | POSTA_IMAP_FETCH_BODYSTRUCTURE))
        body(o, f->present & POSTA_IMAP_FETCH_BODY ? "body" : "bodystructure", f->body);
    if (f->nsections) {
        key(o, "sections");
        int s = open_(o, '[');
        for (size_t i = 0; i < f->nsections; i++) {
            sep(o);
            section(o, &f->sections[i]);
        }
        close_(o, ']', s);
    }
    if (f->nbinary_sizes) {
        key(o, "binary_sizes");
        int s = open_(o, '[');
        for (size_t i = 0; i < f->nbinary_sizes; i++) {
            sep(o);
            int t = open_(o, '{');
            kstr(o, "section", f->binary_sizes[i].section);
            knum(o, "size", f->binary_sizes[i].size);
            close_(o, '}', t);
        }
        close_(o, ']', s);
    }
    items(o, "other", f->other, f->nother);
}

static int p_fetch(posta_imap_decoder *d, const posta_imap_response *r, struct out *o)
{
    posta_imap_fetch_data f;
    int rc = posta_imap_decode_fetch(d, r, &f);
    if (rc == 0)
        fetch_members(o, &f);
    return rc;
}

static int p_list(posta_imap_decoder *d, const posta_imap_response *r, struct out *o)
{
    posta_imap_list_data l;
    int rc = posta_imap_decode_list(d, r, &l);
    if (rc)
        return rc;
    flags(o, "attributes", &l.attributes);
    delimiter(o, l.delimiter);
    mailbox(o, "mailbox", &l.mailbox);
    if (l.nchildinfo)
        strs(o, "childinfo", l.childinfo, l.nchildinfo);
    if (l.has_oldname)
        mailbox(o, "oldname", &l.oldname);
    items(o, "extended", l.ext, l.next);
    return 0;
}

static int p_status(posta_imap_decoder *d, const posta_imap_response *r, struct out *o)
{
    static const struct {
        unsigned bit;
        const char *name;
        size_t offset;
        int wide;
    } fields[] = {
        {POSTA_IMAP_STATUS_ITEM_MESSAGES, "messages",
         offsetof(posta_imap_status_data, messages), 0},
        {POSTA_IMAP_STATUS_ITEM_RECENT, "recent", offsetof(posta_imap_status_data, recent), 0},
        {POSTA_IMAP_STATUS_ITEM_UIDNEXT, "uidnext", offsetof(posta_imap_status_data, uidnext), 0},
        {POSTA_IMAP_STATUS_ITEM_UIDVALIDITY, "uidvalidity",
         offsetof(posta_imap_status_data, uidvalidity), 0},
        {POSTA_IMAP_STATUS_ITEM_UNSEEN, "unseen", offsetof(posta_imap_status_data, unseen), 0},
        {POSTA_IMAP_STATUS_ITEM_DELETED, "deleted", offsetof(posta_imap_status_data, deleted), 0},
        {POSTA_IMAP_STATUS_ITEM_SIZE, "size", offsetof(posta_imap_status_data, size), 1},
        {POSTA_IMAP_STATUS_ITEM_HIGHESTMODSEQ, "highestmodseq",
         offsetof(posta_imap_status_data, highestmodseq), 1},
        {POSTA_IMAP_STATUS_ITEM_DELETED_STORAGE, "deleted_storage",
         offsetof(posta_imap_status_data, deleted_storage), 1},
    };
    posta_imap_status_data st;
    int rc = posta_imap_decode_status(d, r, &st);
    if (rc)
        return rc;
    mailbox(o, "mailbox", &st.mailbox);
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (!(st.present & fields[i].bit))
            continue;
        const char *p = (const char *)&st + fields[i].offset;
        knum(o, fields[i].name, fields[i].wide ? *(const uint64_t *)(const void *)p
                                               : *(const uint32_t *)(const void *)p);
    }
    if (st.present & POSTA_IMAP_STATUS_ITEM_APPENDLIMIT) {
        key(o, "appendlimit");
        if (st.appendlimit == UINT64_MAX)
            fputs("null", o->f);
        else
            fprintf(o->f, "%" PRIu64, st.appendlimit);
    }
    if (st.present & POSTA_IMAP_STATUS_ITEM_MAILBOXID)
        kstr(o, "mailboxid", st.mailboxid);
    items(o, "other", st.other, st.nother);
    return 0;
}

static int p_search(posta_imap_decoder *d, const posta_imap_response *r, struct out *o)
{
    posta_imap_search_data s;
    int rc = posta_imap_decode_search(d, r, &s);
    if (rc)
        return rc;
    key(o, "numbers");
    int t = open_(o, '[');
    for (size_t i = 0; i < s.count; i++) {
        sep(o);
        fprintf(o->f, "%" PRIu32, s.v[i]);
    }
    close_(o, ']', t);
    if (s.has_modseq)
        knum(o, "modseq", s.modseq);
    return 0;
}

static int p_esearch(posta_imap_decoder *d, const posta_imap_response *r, struct out *o)
{
    posta_imap_esearch_data e;
    int rc = posta_imap_decode_esearch(d, r, &e);
    if (rc)
        return rc;
    if (e.tag.ptr)
        kstr(o, "search_tag", e.tag);
    if (e.mailbox.raw.ptr)
        mailbox(o, "mailbox", &e.mailbox);
    if (e.uidvalidity)
        knum(o, "uidvalidity", e.uidvalidity);
    key(o, "uid");
    fputs(e.uid ? "true" : "false", o->f);
    if (e.present & POSTA_IMAP_ESEARCH_MIN)
        knum(o, "min", e.min);
    if (e.present & POSTA_IMAP_ESEARCH_MAX)
        knum(o, "max", e.max);
    if (e.present & POSTA_IMAP_ESEARCH_COUNT)
        knum(o, "count", e.count);
    if (e.present & POSTA_IMAP_ESEARCH_ALL)
        set(o, "all", &e.all);
    if (e.present & POSTA_IMAP_ESEARCH_MODSEQ)
        knum(o, "modseq", e.modseq);
    if (e.present & POSTA_IMAP_ESEARCH_PARTIAL) {
        char range[64];
        snprintf(range, sizeof(range), "%lld:%lld", (long long)e.partial_first,
                 (long long)e.partial_last);
        key(o, "partial");
        int s = open_(o, '{');
        kcstr(o, "range", range);
        if (e.partial.count) {
            set(o, "results", &e.partial);
        } else {
            key(o, "results");
            fputs("null", o->f);
        }
        close_(o, '}', s);
    }
    items(o, "other", e.other, e.nother);
    return 0;
}

static void thread(struct out *o, const posta_imap_thread_node *t)
{
    /* [id, child...]: a chain of single children stays flat, as sent */
    int s = open_(o, '[');
    while (t) {
        sep(o);
        fprintf(o->f, "%" PRIu32, t->id);
        if (t->nchildren == 1) {
            t = &t->children[0];
            continue;
        }
        for (size_t i = 0; i < t->nchildren; i++) {
            sep(o);
            thread(o, &t->children[i]);
        }
        t = NULL;
    }
    close_(o, ']', s);
}

static int p_thread(posta_imap_decoder *d, const posta_imap_response *r, struct out *o)
{
    posta_imap_thread_data t;
    int rc = posta_imap_decode_thread(d, r, &t);
    if (rc)
        return rc;
    key(o, "threads");
    int s = open_(o, '[');
    for (size_t i = 0; i < t.count; i++) {
        sep(o);
        thread(o, &t.v[i]);
    }
    close_(o, ']', s);
    return 0;
}

static void namespaces(struct out *o, const char *k, const posta_imap_namespace_list *l)
{
    key(o, k);
    if (!l->count) {
        fputs("null", o->f);
        return;
    }
    int s = open_(o, '[');
    for (size_t i = 0; i < l->count; i++) {
        sep(o);
        int t = open_(o, '{');
        mailbox(o, "prefix", &l->v[i].prefix);
        delimiter(o, l->v[i].delimiter);
        if (l->v[i].next) {
            key(o, "extensions");
            int u = open_(o, '[');
            for (size_t j = 0; j < l->v[i].next; j++) {
                sep(o);
                int v = open_(o, '{');
                kstr(o, "name", l->v[i].ext[j].name);
                strs(o, "values", l->v[i].ext[j].values, l->v[i].ext[j].nvalues);
                close_(o, '}', v);
            }
            close_(o, ']', u);
        }
        close_(o, '}', t);
    }
    close_(o, ']', s);
}

static int p_namespace(posta_imap_decoder *d, const posta_imap_response *r, struct out *o)
{
    posta_imap_namespace_data ns;
    int rc = posta_imap_decode_namespace(d, r, &ns);
    if (rc)
        return rc;
    namespaces(o, "personal", &ns.personal);
    namespaces(o, "other", &ns.other);
    namespaces(o, "shared", &ns.shared);
    return 0;
}

static int p_id(posta_imap_decoder *d, const posta_imap_response *r, struct out *o)
{
    posta_imap_id_data id;
    int rc = posta_imap_decode_id(d, r, &id);
    if (rc)
        return rc;
    if (id.nil) {
        key(o, "fields");
        fputs("null", o->f);
    } else {
        params(o, "fields", id.v, id.count);
    }
    return 0;
}

static int p_vanished(posta_imap_decoder *d, const posta_imap_response *r, struct out *o)
{
    posta_imap_vanished_data v;
    int rc = posta_imap_decode_vanished(d, r, &v);
    if (rc)
        return rc;
    key(o, "earlier");
    fputs(v.earlier ? "true" : "false", o->f);
    set(o, "uids", &v.uids);
    return 0;
}

static int p_quota(posta_imap_decoder *d, const posta_imap_response *r, struct out *o)
{
    posta_imap_quota_data q;
    int rc = posta_imap_decode_quota(d, r, &q);
    if (rc)
        return rc;
    kstr(o, "root", q.root);
    key(o, "resources");
    int s = open_(o, '[');
    for (size_t i = 0; i < q.count; i++) {
        sep(o);
        int t = open_(o, '{');
        kstr(o, "name", q.v[i].name);
        knum(o, "usage", q.v[i].usage);
        knum(o, "limit", q.v[i].limit);
        close_(o, '}', t);
    }
    close_(o, ']', s);
    return 0;
}

static int p_quotaroot(posta_imap_decoder *d, const posta_imap_response *r, struct out *o)
{
    posta_imap_quotaroot_data q;
    int rc = posta_imap_decode_quotaroot(d, r, &q);
    if (rc)
        return rc;
    mailbox(o, "mailbox", &q.mailbox);
    strs(o, "roots", q.roots, q.count);
    return 0;
}

static int p_acl(posta_imap_decoder *d, const posta_imap_response *r, struct out *o)
{
    posta_imap_acl_data a;
    int rc = posta_imap_decode_acl(d, r, &a);
    if (rc)
        return rc;
    mailbox(o, "mailbox", &a.mailbox);
    params(o, "rights", a.v, a.count);
    return 0;
}

static int p_listrights(posta_imap_decoder *d, const posta_imap_response *r, struct out *o)
{
    posta_imap_listrights_data l;
    int rc = posta_imap_decode_listrights(d, r, &l);
    if (rc)
        return rc;
    mailbox(o, "mailbox", &l.mailbox);
    kstr(o, "identifier", l.identifier);
    kstr(o, "required", l.required);
    strs(o, "optional", l.optional, l.count);
    return 0;
}

static int p_myrights(posta_imap_decoder *d, const posta_imap_response *r, struct out *o)
{
    posta_imap_myrights_data m;
    int rc = posta_imap_decode_myrights(d, r, &m);
    if (rc)
        return rc;
    mailbox(o, "mailbox", &m.mailbox);
    kstr(o, "rights", m.rights);
    return 0;
}

static int p_metadata(posta_imap_decoder *d, const posta_imap_response *r, struct out *o)
{
    posta_imap_metadata_data m;
    int rc = posta_imap_decode_metadata(d, r, &m);
    if (rc)
        return rc;
    mailbox(o, "mailbox", &m.mailbox);
    key(o, "entries");
    int s = open_(o, '[');
    for (size_t i = 0; i < m.count; i++) {
        sep(o);
        int t = open_(o, '{');
        kstr(o, "name", m.v[i].name);
        if (m.has_values) {
            if (m.v[i].streamed)
                knum(o, "streamed", m.v[i].size);
            else
                kstr(o, "value", m.v[i].value);
        }
        close_(o, '}', t);
    }
    close_(o, ']', s);
    return 0;
}

static printer *const printers[] = {
    [POSTA_IMAP_DATA_CONDITION] = p_condition,   [POSTA_IMAP_DATA_CONTINUATION] = p_condition,
    [POSTA_IMAP_DATA_CAPABILITY] = p_capability, [POSTA_IMAP_DATA_ENABLED] = p_capability,
    [POSTA_IMAP_DATA_FLAGS] = p_flags,           [POSTA_IMAP_DATA_EXISTS] = p_number,
    [POSTA_IMAP_DATA_RECENT] = p_number,         [POSTA_IMAP_DATA_EXPUNGE] = p_number,
    [POSTA_IMAP_DATA_FETCH] = p_fetch,           [POSTA_IMAP_DATA_LIST] = p_list,
    [POSTA_IMAP_DATA_LSUB] = p_list,             [POSTA_IMAP_DATA_STATUS] = p_status,
    [POSTA_IMAP_DATA_SEARCH] = p_search,         [POSTA_IMAP_DATA_SORT] = p_search,
    [POSTA_IMAP_DATA_ESEARCH] = p_esearch,       [POSTA_IMAP_DATA_THREAD] = p_thread,
    [POSTA_IMAP_DATA_NAMESPACE] = p_namespace,   [POSTA_IMAP_DATA_ID] = p_id,
    [POSTA_IMAP_DATA_VANISHED] = p_vanished,     [POSTA_IMAP_DATA_QUOTA] = p_quota,
    [POSTA_IMAP_DATA_QUOTAROOT] = p_quotaroot,   [POSTA_IMAP_DATA_ACL] = p_acl,
    [POSTA_IMAP_DATA_LISTRIGHTS] = p_listrights, [POSTA_IMAP_DATA_MYRIGHTS] = p_myrights,
    [POSTA_IMAP_DATA_METADATA] = p_metadata,
};

static const char *kind_name(posta_imap_resp_kind k)
{
    return k == POSTA_IMAP_RESP_TAGGED ? "tagged"
           : k == POSTA_IMAP_RESP_CONTINUATION ? "continuation" : "untagged";
}

static const char *status_name(posta_imap_status s)
{
    static const char *const names[] = {"", "OK", "NO", "BAD", "PREAUTH", "BYE"};
    return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

/* The decoder is made once and reset per response: the arena then settles
 * into one reused block. */
static posta_imap_decoder *decoder;

static void free_decoder(void)
{
    posta_imap_decoder_free(decoder);
}

int parse_print_typed(FILE *out, const posta_imap_response *r)
{
    posta_imap_data_type t = posta_imap_data_type_of(r);
    printer *fn = (size_t)t < sizeof(printers) / sizeof(printers[0]) ? printers[t] : NULL;
    if (!fn)
        return 0;
    if (!decoder) {
        if (posta_imap_decoder_new(&decoder, 0, 0) != 0)
            return 0;
        atexit(free_decoder);
    }
    posta_imap_decoder_reset(decoder);
    /* Decode first into a memory stream, so that a refusal can still be
     * printed as one well-formed object. */
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (!mem)
        return 0;
    struct out o = {.f = mem, .n = 1};
    int rc = fn(decoder, r, &o);
    fclose(mem);

    struct out w = {.f = out, .n = 0};
    int s = open_(&w, '{');
    kcstr(&w, "kind", kind_name(r->kind));
    if (r->tag)
        kstr(&w, "tag", (posta_imap_str){r->tag, r->tag_len});
    if (r->status != POSTA_IMAP_STATUS_NONE)
        kcstr(&w, "status", status_name(r->status));
    kcstr(&w, "type", posta_imap_data_type_name(t));
    if (rc == 0) {
        fwrite(buf, 1, len, out);   /* members, each led by "," */
    } else {
        kcstr(&w, "decode_error", posta_imap_decoder_errmsg(decoder));
        if (r->has_number)
            knum(&w, "number", r->number);
        if (r->keyword)
            args(&w, "args", r->args, r->nargs);
    }
    close_(&w, '}', s);
    fputc('\n', out);
    free(buf);
    return ferror(out) ? -1 : 1;
}
