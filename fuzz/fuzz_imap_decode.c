/* libFuzzer target: parse the input as a server's byte stream and run every
 * typed decoder on every response (and the argument-level decoders on every
 * node), reading every result so that a bad pointer shows up under ASan. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <posta/imap_data.h>
#include <posta/imap_parser.h>

#include "imap/decode_internal.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "invariant failed: %s (%s:%d)\n", #c, \
    __FILE__, __LINE__); abort(); } } while (0)

/* Touch every byte a result points at; the sum keeps the reads alive. */
static volatile unsigned sink;

static void touch(posta_imap_str s)
{
    CHECK(s.ptr || s.len == 0);
    if (!s.ptr)
        return;
    for (size_t i = 0; i < s.len; i++)
        sink += (unsigned char)s.ptr[i];
    CHECK(s.ptr[s.len] == '\0');
}

static void touch_mailbox(const posta_imap_mailbox_name *m)
{
    touch(m->name);
    touch(m->raw);
}

static void touch_flags(const posta_imap_flagset *f)
{
    for (size_t i = 0; i < f->count; i++)
        touch(f->v[i]);
}

static void touch_set(const posta_imap_seqset *s)
{
    posta_imap_seqset_iter it;
    uint32_t n;
    size_t k = 0;
    for (size_t i = 0; i < s->count; i++) {
        CHECK(s->ranges[i].first == POSTA_IMAP_STAR || s->ranges[i].last == POSTA_IMAP_STAR ||
              s->ranges[i].first <= s->ranges[i].last);
        CHECK(s->ranges[i].first != POSTA_IMAP_STAR || s->ranges[i].last == POSTA_IMAP_STAR);
    }
    posta_imap_seqset_iter_init(&it, s, 100);
    while (k++ < 1000 && posta_imap_seqset_next(&it, &n))
        CHECK(n >= 1 && posta_imap_seqset_contains(s, n, 100));
    sink += (unsigned)posta_imap_seqset_count(s, 100);
}

static void touch_addresses(const posta_imap_address_list *l)
{
    for (size_t i = 0; i < l->count; i++) {
        touch(l->v[i].name);
        touch(l->v[i].adl);
        touch(l->v[i].mailbox);
        touch(l->v[i].host);
        touch(l->v[i].group);
    }
}

static void touch_envelope(const posta_imap_envelope *e)
{
    if (!e)
        return;
    touch(e->date);
    touch(e->subject);
    touch_addresses(&e->from);
    touch_addresses(&e->sender);
    touch_addresses(&e->reply_to);
    touch_addresses(&e->to);
    touch_addresses(&e->cc);
    touch_addresses(&e->bcc);
    touch(e->in_reply_to);
    touch(e->message_id);
}

static void touch_params(const posta_imap_param *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        touch(p[i].name);
        touch(p[i].value);
    }
}

static void touch_body(const posta_imap_body *b)
{
    if (!b)
        return;
    touch(b->type);
    touch(b->subtype);
    touch_params(b->params, b->nparams);
    touch(b->id);
    touch(b->description);
    touch(b->encoding);
    touch(b->section);
    touch(b->md5);
    touch(b->disposition);
    touch_params(b->disposition_params, b->ndisposition_params);
    for (size_t i = 0; i < b->nlanguage; i++)
        touch(b->language[i]);
    touch(b->location);
    touch_envelope(b->envelope);
    touch_body(b->body);
    for (size_t i = 0; i < b->nparts; i++)
        touch_body(&b->parts[i]);
}

static void touch_thread(const posta_imap_thread_node *t)
{
    /* chains are long and shallow: walk them without recursing per link */
    while (t) {
        sink += t->id;
        for (size_t i = 1; i < t->nchildren; i++)
            touch_thread(&t->children[i]);
        t = t->nchildren ? &t->children[0] : NULL;
    }
}

static void touch_fetch(const posta_imap_fetch_data *f)
{
    touch_flags(&f->flags);
    touch_envelope(f->envelope);
    touch_body(f->body);
    touch(f->emailid);
    touch(f->threadid);
    touch(f->preview);
    for (size_t i = 0; i < f->nx_gm_labels; i++)
        touch(f->x_gm_labels[i]);
    for (size_t i = 0; i < f->nsections; i++) {
        const posta_imap_section *s = &f->sections[i];
        touch(s->item);
        touch(s->section);
        touch(s->spec);
        touch(s->data);
        for (size_t k = 0; k < s->nparts; k++)
            CHECK(s->part[k] != 0);
        CHECK(s->streamed || s->nil || s->size == s->data.len);
    }
    for (size_t i = 0; i < f->nbinary_sizes; i++)
        touch(f->binary_sizes[i].section);
    for (size_t i = 0; i < f->nother; i++)
        touch(f->other[i].name);
}

/* A decoder call's result: 0 or one of the documented errors, and a
 * sentence whenever it failed. */
static void check_rc(posta_imap_decoder *d, int rc)
{
    CHECK(rc == 0 || rc == POSTA_EINVAL || rc == POSTA_EPROTO || rc == POSTA_ENOMEM ||
          rc == POSTA_ELIMIT);
    if (rc)
        CHECK(posta_imap_decoder_errmsg(d)[0] != '\0');
}

static void every_decoder(posta_imap_decoder *d, const posta_imap_response *r)
{
    union {
        posta_imap_capset caps;
        posta_imap_code code;
        posta_imap_flagset flags;
        posta_imap_fetch_data fetch;
        posta_imap_list_data list;
        posta_imap_status_data status;
        posta_imap_search_data search;
        posta_imap_esearch_data esearch;
        posta_imap_thread_data threads;
        posta_imap_vanished_data vanished;
        posta_imap_namespace_data ns;
        posta_imap_id_data id;
        posta_imap_quota_data quota;
        posta_imap_quotaroot_data qr;
        posta_imap_acl_data acl;
        posta_imap_listrights_data lr;
        posta_imap_myrights_data mr;
        posta_imap_metadata_data md;
        uint32_t n;
    } u;
    int rc;
    (void)posta_imap_data_type_name(posta_imap_data_type_of(r));

    if ((rc = posta_imap_decode_code(d, r, &u.code)) == 0) {
        touch(u.code.name);
        touch(u.code.raw);
        touch(u.code.str);
        touch_set(&u.code.set);
        touch_set(&u.code.set2);
        touch_flags(&u.code.flags);
        for (size_t i = 0; i < u.code.caps.count; i++)
            touch(u.code.caps.v[i]);
        for (size_t i = 0; i < u.code.nstrings; i++)
            touch(u.code.strings[i]);
        (void)posta_imap_code_type_name(u.code.type);
    }
    check_rc(d, rc);
    if ((rc = posta_imap_decode_capability(d, r, &u.caps)) == 0) {
        posta_imap_str v;
        size_t pos = 0;
        uint64_t n;
        CHECK(posta_imap_capset_has(&u.caps, "IMAP4rev1") <= 1);
        while (posta_imap_capset_value(&u.caps, "AUTH", &pos, &v))
            touch(v);
        (void)posta_imap_capset_number(&u.caps, "APPENDLIMIT", &n);
    }
    check_rc(d, rc);
    if ((rc = posta_imap_decode_enabled(d, r, &u.caps)) == 0)
        for (size_t i = 0; i < u.caps.count; i++)
            touch(u.caps.v[i]);
    check_rc(d, rc);
    if ((rc = posta_imap_decode_flags(d, r, &u.flags)) == 0)
        touch_flags(&u.flags);
    check_rc(d, rc);
    check_rc(d, posta_imap_decode_exists(d, r, &u.n));
    check_rc(d, posta_imap_decode_recent(d, r, &u.n));
    check_rc(d, posta_imap_decode_expunge(d, r, &u.n));
    if ((rc = posta_imap_decode_fetch(d, r, &u.fetch)) == 0)
        touch_fetch(&u.fetch);
    check_rc(d, rc);
    if ((rc = posta_imap_decode_list(d, r, &u.list)) == 0) {
        touch_flags(&u.list.attributes);
        touch_mailbox(&u.list.mailbox);
        touch_mailbox(&u.list.oldname);
        for (size_t i = 0; i < u.list.nchildinfo; i++)
            touch(u.list.childinfo[i]);
    }
    check_rc(d, rc);
    if ((rc = posta_imap_decode_status(d, r, &u.status)) == 0) {
        touch_mailbox(&u.status.mailbox);
        touch(u.status.mailboxid);
    }
    check_rc(d, rc);
    if ((rc = posta_imap_decode_search(d, r, &u.search)) == 0)
        for (size_t i = 0; i < u.search.count; i++)
            CHECK(u.search.v[i] != 0);
    check_rc(d, rc);
    if ((rc = posta_imap_decode_esearch(d, r, &u.esearch)) == 0) {
        touch(u.esearch.tag);
        touch_mailbox(&u.esearch.mailbox);
        touch_set(&u.esearch.all);
        touch_set(&u.esearch.partial);
    }
    check_rc(d, rc);
    if ((rc = posta_imap_decode_thread(d, r, &u.threads)) == 0)
        for (size_t i = 0; i < u.threads.count; i++)
            touch_thread(&u.threads.v[i]);
    check_rc(d, rc);
    if ((rc = posta_imap_decode_vanished(d, r, &u.vanished)) == 0)
        touch_set(&u.vanished.uids);
    check_rc(d, rc);
    if ((rc = posta_imap_decode_namespace(d, r, &u.ns)) == 0) {
        const posta_imap_namespace_list *l[3] = {&u.ns.personal, &u.ns.other, &u.ns.shared};
        for (int k = 0; k < 3; k++)
            for (size_t i = 0; i < l[k]->count; i++) {
                touch_mailbox(&l[k]->v[i].prefix);
                for (size_t j = 0; j < l[k]->v[i].next; j++)
                    for (size_t m = 0; m < l[k]->v[i].ext[j].nvalues; m++)
                        touch(l[k]->v[i].ext[j].values[m]);
            }
    }
    check_rc(d, rc);
    if ((rc = posta_imap_decode_id(d, r, &u.id)) == 0)
        touch_params(u.id.v, u.id.count);
    check_rc(d, rc);
    if ((rc = posta_imap_decode_quota(d, r, &u.quota)) == 0)
        for (size_t i = 0; i < u.quota.count; i++)
            touch(u.quota.v[i].name);
    check_rc(d, rc);
    if ((rc = posta_imap_decode_quotaroot(d, r, &u.qr)) == 0)
        for (size_t i = 0; i < u.qr.count; i++)
            touch(u.qr.roots[i]);
    check_rc(d, rc);
    if ((rc = posta_imap_decode_acl(d, r, &u.acl)) == 0)
        touch_params(u.acl.v, u.acl.count);
    check_rc(d, rc);
    if ((rc = posta_imap_decode_listrights(d, r, &u.lr)) == 0)
        for (size_t i = 0; i < u.lr.count; i++)
            touch(u.lr.optional[i]);
    check_rc(d, rc);
    if ((rc = posta_imap_decode_myrights(d, r, &u.mr)) == 0)
        touch(u.mr.rights);
    check_rc(d, rc);
    if ((rc = posta_imap_decode_metadata(d, r, &u.md)) == 0)
        for (size_t i = 0; i < u.md.count; i++) {
            touch(u.md.v[i].name);
            touch(u.md.v[i].value);
        }
    check_rc(d, rc);
}

/* The argument-level decoders on every node, a bounded number of them. */
static void every_node(posta_imap_decoder *d, const posta_imap_arg *a, size_t n, size_t *budget)
{
    for (size_t i = 0; i < n && *budget > 0; i++, (*budget)--) {
        const posta_imap_arg *x = &a[i];
        const posta_imap_envelope *e;
        const posta_imap_body *b;
        int rc;
        if (x->type == POSTA_IMAP_ARG_LIST) {
            if ((rc = posta_imap_decode_envelope_arg(d, x, &e)) == 0)
                touch_envelope(e);
            check_rc(d, rc);
            if ((rc = posta_imap_decode_body_arg(d, x, &b)) == 0)
                touch_body(b);
            check_rc(d, rc);
            every_node(d, x->list, x->count, budget);
        } else if (x->str) {
            posta_imap_seqset s;
            posta_imap_datetime dt;
            if ((rc = posta_imap_seqset_parse(d, x->str, x->len, &s)) == 0)
                touch_set(&s);
            check_rc(d, rc);
            check_rc(d, posta_imap_datetime_parse(d, x->str, x->len, &dt));
        }
    }
}

struct run {
    posta_imap_decoder *d;
    long fail_after;
};

static int on_response(posta_imap_parser *p, const posta_imap_response *r, void *user)
{
    struct run *run = user;
    size_t budget = 2000;
    posta_imap_decoder_reset(run->d);
    posta__imap_decoder_fail_after(run->d, run->fail_after);
    every_decoder(run->d, r);
    every_node(run->d, r->args, r->nargs, &budget);
    every_node(run->d, r->code_args, r->code_args ? r->code_nargs : 0, &budget);
    return 0;
}

/* The first byte picks the options: bit 0 COPY, bit 1 UTF8, bit 2 a small
 * arena cap, bit 3 small inline literals (streaming), bits 4-7 an
 * allocation to fail (0: none). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned ctl = data[0];
    struct run run = {.fail_after = (ctl >> 4) ? (long)(ctl >> 4) * 3 - 3 : -1};
    if (posta_imap_decoder_new(&run.d, (ctl & 1 ? POSTA_IMAP_DECODE_COPY : 0) |
                                           (ctl & 2 ? POSTA_IMAP_DECODE_UTF8 : 0),
                               ctl & 4 ? 4096 : 0) != 0)
        return 0;
    posta_imap_parser_callbacks cb = {.on_response = on_response};
    posta_imap_limits lim = {.inline_literal = ctl & 8 ? 16 : 0};
    posta_imap_parser *p;
    if (posta_imap_parser_new(&p, &cb, &lim, &run) == 0) {
        (void)posta_imap_parser_feed(p, data + 1, size - 1);
        posta_imap_parser_free(p);
    }
    posta_imap_decoder_free(run.d);
    return 0;
}
