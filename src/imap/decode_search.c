/* Search results: SEARCH and SORT, ESEARCH, THREAD trees and VANISHED. */
#include "decode_internal.h"

#include <string.h>

/* search-sort-mod-seq = "(" "MODSEQ" SP mod-sequence-value ")" */
static int modseq_tail(posta_imap_decoder *d, const posta_imap_arg *a, const char *what,
                       posta_imap_search_data *s)
{
    char b[POSTA_IMAPD_SHOW];
    if (a->count != 2 || !posta__imapd_arg_eq(&a->list[0], "MODSEQ"))
        return posta__imapd_proto(d, "%s: expected (MODSEQ n), got %s", what,
                                  posta__imapd_show_arg(a, b));
    s->has_modseq = 1;
    return posta__imapd_number64(d, &a->list[1], what, &s->modseq);
}

/* mailbox-data =/ "SEARCH" *(SP nz-number) [SP search-sort-mod-seq]
 * sort-data    = "SORT" *(SP nz-number) [SP search-sort-mod-seq] */
int posta_imap_decode_search(posta_imap_decoder *d, const posta_imap_response *r,
                             posta_imap_search_data *search_r)
{
    POSTA_IMAPD_BEGIN(d, r, search_r);
    const char *what = "SEARCH";
    int rc = posta__imapd_expect(d, r, what, 0);
    if (rc == POSTA_EINVAL) {
        what = "SORT";
        rc = posta__imapd_expect(d, r, what, 0);
        if (rc)
            return posta__imapd_fail(d, POSTA_EINVAL, "not a SEARCH or SORT response");
    }
    size_t n = r->nargs;
    if (n > 0 && posta__imapd_is_list(&r->args[n - 1])) {
        if ((rc = modseq_tail(d, &r->args[n - 1], what, search_r)) != 0)
            return rc;
        n--;
    }
    uint32_t *v = posta__imapd_array(d, n, sizeof(*v));
    if (!v)
        return d->err.code;
    for (size_t i = 0; i < n; i++)
        if ((rc = posta__imapd_nz_number(d, &r->args[i], what, &v[i])) != 0)
            return rc;
    search_r->v = v;
    search_r->count = n;
    return 0;
}

/* --- ESEARCH -------------------------------------------------------------------------
 * esearch-response   = "ESEARCH" [search-correlator] [SP "UID"] *(SP search-return-data)
 * search-correlator  = SP "(" "TAG" SP tag-string ")"
 *                      ; RFC 7377 adds SP "MAILBOX" SP mailbox SP "UIDVALIDITY" SP nz-number
 * search-return-data = "MIN" SP nz-number / "MAX" SP nz-number /
 *                      "ALL" SP sequence-set / "COUNT" SP number /
 *                      "MODSEQ" SP mod-sequence-value /
 *                      "PARTIAL" SP "(" partial-range SP partial-results ")" /
 *                      search-ret-data-ext
 * partial-range      = partial-range-first / partial-range-last
 * partial-range-first = nz-number ":" nz-number
 * partial-range-last = MINUS nz-number ":" MINUS nz-number
 * partial-results    = sequence-set / "NIL"
 */

static int correlator(posta_imap_decoder *d, const posta_imap_arg *a, posta_imap_esearch_data *e)
{
    char b[POSTA_IMAPD_SHOW];
    int rc;
    for (size_t i = 0; i + 1 < a->count; i += 2) {
        const posta_imap_arg *k = &a->list[i], *v = &a->list[i + 1];
        if (posta__imapd_arg_eq(k, "TAG"))
            rc = posta__imapd_astring(d, v, "ESEARCH TAG", &e->tag);
        else if (posta__imapd_arg_eq(k, "MAILBOX"))
            rc = posta__imapd_mailbox(d, v, "ESEARCH MAILBOX", &e->mailbox);
        else if (posta__imapd_arg_eq(k, "UIDVALIDITY"))
            rc = posta__imapd_nz_number(d, v, "ESEARCH UIDVALIDITY", &e->uidvalidity);
        else
            rc = 0;   /* unknown correlator parts: ignored */
        if (rc)
            return rc;
    }
    if (a->count % 2)
        return posta__imapd_proto(d, "ESEARCH correlator %s has an odd element",
                                  posta__imapd_show_arg(a, b));
    return 0;
}

/* "-1:-100" or "1:100" */
static int partial_range(posta_imap_decoder *d, const posta_imap_arg *a, posta_imap_esearch_data *e)
{
    char b[POSTA_IMAPD_SHOW];
    int64_t v[2];
    if (!posta__imapd_is_text(a))
        goto bad;
    const char *s = a->str, *end = a->str + a->len;
    int neg = s < end && *s == '-';
    for (int k = 0; k < 2; k++) {
        if (neg) {
            if (s >= end || *s != '-')
                goto bad;
            s++;
        }
        const char *start = s;
        while (s < end && *s >= '0' && *s <= '9')
            s++;
        uint64_t n;
        if (posta__imapd_digits(start, (size_t)(s - start), UINT32_MAX, &n) < 0 || n == 0)
            goto bad;
        v[k] = neg ? -(int64_t)n : (int64_t)n;
        if (k == 0) {
            if (s >= end || *s != ':')
                goto bad;
            s++;
        }
    }
    if (s != end)
        goto bad;
    e->partial_first = v[0];
    e->partial_last = v[1];
    return 0;
bad:
    return posta__imapd_proto(d, "ESEARCH PARTIAL: %s is not a partial range",
                              posta__imapd_show_arg(a, b));
}

static int partial(posta_imap_decoder *d, const posta_imap_arg *a, posta_imap_esearch_data *e)
{
    char b[POSTA_IMAPD_SHOW];
    if (!posta__imapd_is_list(a) || a->count != 2)
        return posta__imapd_proto(d, "ESEARCH PARTIAL: expected (range results), got %s",
                                  posta__imapd_show_arg(a, b));
    int rc = partial_range(d, &a->list[0], e);
    if (rc || posta__imapd_is_nil(&a->list[1]))
        return rc;
    return posta__imapd_seqset_arg(d, &a->list[1], "ESEARCH PARTIAL", &e->partial);
}

static int return_datum(posta_imap_decoder *d, const posta_imap_arg *k, const posta_imap_arg *v,
                        posta_imap_esearch_data *e, posta_imap_item *other)
{
    static const struct {
        const char *name;
        unsigned bit;
    } names[] = {
        {"MIN", POSTA_IMAP_ESEARCH_MIN},       {"MAX", POSTA_IMAP_ESEARCH_MAX},
        {"COUNT", POSTA_IMAP_ESEARCH_COUNT},   {"ALL", POSTA_IMAP_ESEARCH_ALL},
        {"MODSEQ", POSTA_IMAP_ESEARCH_MODSEQ}, {"PARTIAL", POSTA_IMAP_ESEARCH_PARTIAL},
    };
    unsigned bit = 0;
    int rc = 0;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (posta__imapd_arg_eq(k, names[i].name))
            bit = names[i].bit;
    switch (bit) {
    case POSTA_IMAP_ESEARCH_MIN:
        rc = posta__imapd_nz_number(d, v, "ESEARCH MIN", &e->min);
        break;
    case POSTA_IMAP_ESEARCH_MAX:
        rc = posta__imapd_nz_number(d, v, "ESEARCH MAX", &e->max);
        break;
    case POSTA_IMAP_ESEARCH_COUNT:
        rc = posta__imapd_number(d, v, "ESEARCH COUNT", &e->count);
        break;
    case POSTA_IMAP_ESEARCH_ALL:
        rc = posta__imapd_seqset_arg(d, v, "ESEARCH ALL", &e->all);
        break;
    case POSTA_IMAP_ESEARCH_MODSEQ:
        rc = posta__imapd_number64(d, v, "ESEARCH MODSEQ", &e->modseq);
        break;
    case POSTA_IMAP_ESEARCH_PARTIAL:
        rc = partial(d, v, e);
        break;
    default: {
        posta_imap_item *o = &other[e->nother];
        if ((rc = posta__imapd_ref(d, k->str, k->len, &o->name)) != 0)
            return rc;
        o->value = v;
        e->nother++;
        return 0;
    }
    }
    if (rc == 0)
        e->present |= bit;
    return rc;
}

int posta_imap_decode_esearch(posta_imap_decoder *d, const posta_imap_response *r,
                              posta_imap_esearch_data *esearch_r)
{
    char b[POSTA_IMAPD_SHOW];
    POSTA_IMAPD_BEGIN(d, r, esearch_r);
    int rc = posta__imapd_expect(d, r, "ESEARCH", 0);
    if (rc)
        return rc;
    posta_imap_esearch_data *e = esearch_r;
    size_t i = 0;
    if (i < r->nargs && posta__imapd_is_list(&r->args[i])) {
        if ((rc = correlator(d, &r->args[i], e)) != 0)
            return rc;
        i++;
    }
    if (i < r->nargs && posta__imapd_arg_eq(&r->args[i], "UID")) {
        e->uid = 1;
        i++;
    }
    posta_imap_item *other = posta__imapd_array(d, (r->nargs - i) / 2 + 1, sizeof(*other));
    if (!other)
        return d->err.code;
    e->other = other;
    for (; i < r->nargs; i += 2) {
        const posta_imap_arg *k = &r->args[i];
        if (!posta__imapd_is_text(k) || k->type != POSTA_IMAP_ARG_ATOM)
            return posta__imapd_proto(d, "ESEARCH: expected a return datum name, got %s",
                                      posta__imapd_show_arg(k, b));
        if (i + 1 >= r->nargs)
            return posta__imapd_proto(d, "ESEARCH: %s has no value",
                                      posta__imapd_show_arg(k, b));
        if ((rc = return_datum(d, k, &r->args[i + 1], e, other)) != 0)
            return rc;
    }
    return 0;
}

/* --- THREAD -------------------------------------------------------------------------
 * thread-data    = "THREAD" [SP 1*thread-list]
 * thread-list    = "(" (thread-members / thread-nested) ")"
 * thread-members = nz-number *(SP nz-number) [SP thread-nested]
 * thread-nested  = 2*thread-list
 * Members form a chain (each the child of the one before); nested lists
 * are the children of the last member, or of a placeholder (id 0) when
 * there are no members. */

static int thread_list(posta_imap_decoder *d, const posta_imap_arg *a, posta_imap_thread_node *node)
{
    char b[POSTA_IMAPD_SHOW];
    if (!posta__imapd_is_list(a))
        return posta__imapd_proto(d, "THREAD: expected a thread list, got %s",
                                  posta__imapd_show_arg(a, b));
    if (d->depth >= POSTA_IMAPD_MAX_DEPTH)
        return posta__imapd_fail(d, POSTA_ELIMIT, "THREAD nested more than %d levels",
                                 POSTA_IMAPD_MAX_DEPTH);
    size_t members = 0;
    while (members < a->count && !posta__imapd_is_list(&a->list[members]))
        members++;
    posta_imap_thread_node *cur = node;
    int rc;
    for (size_t i = 0; i < members; i++) {
        if (i > 0) {
            posta_imap_thread_node *child = posta__imapd_alloc(d, sizeof(*child));
            if (!child)
                return d->err.code;
            cur->children = child;
            cur->nchildren = 1;
            cur = child;
        }
        if ((rc = posta__imapd_nz_number(d, &a->list[i], "THREAD", &cur->id)) != 0)
            return rc;
    }
    size_t nested = a->count - members;
    if (nested == 0)
        return 0;
    posta_imap_thread_node *kids = posta__imapd_array(d, nested, sizeof(*kids));
    if (!kids)
        return d->err.code;
    cur->children = kids;
    cur->nchildren = nested;
    d->depth++;
    for (size_t i = 0; i < nested; i++) {
        const posta_imap_arg *k = &a->list[members + i];
        if (!posta__imapd_is_list(k)) {
            d->depth--;
            return posta__imapd_proto(d, "THREAD: message number %s after a nested thread",
                                      posta__imapd_show_arg(k, b));
        }
        if ((rc = thread_list(d, k, &kids[i])) != 0) {
            d->depth--;
            return rc;
        }
    }
    d->depth--;
    return 0;
}

int posta_imap_decode_thread(posta_imap_decoder *d, const posta_imap_response *r,
                             posta_imap_thread_data *threads_r)
{
    POSTA_IMAPD_BEGIN(d, r, threads_r);
    int rc = posta__imapd_expect(d, r, "THREAD", 0);
    if (rc)
        return rc;
    posta_imap_thread_node *v = posta__imapd_array(d, r->nargs, sizeof(*v));
    if (!v)
        return d->err.code;
    unsigned depth = d->depth;
    for (size_t i = 0; i < r->nargs; i++)
        if ((rc = thread_list(d, &r->args[i], &v[i])) != 0)
            break;
    d->depth = depth;
    if (rc)
        return rc;
    threads_r->v = v;
    threads_r->count = r->nargs;
    return 0;
}

/* --- VANISHED --------------------------------------------------------------------------
 * expunged-resp = "VANISHED" [SP "(EARLIER)"] SP known-uids */
int posta_imap_decode_vanished(posta_imap_decoder *d, const posta_imap_response *r,
                               posta_imap_vanished_data *vanished_r)
{
    char b[POSTA_IMAPD_SHOW];
    POSTA_IMAPD_BEGIN(d, r, vanished_r);
    int rc = posta__imapd_expect(d, r, "VANISHED", 0);
    if (rc)
        return rc;
    size_t i = 0;
    if (r->nargs > 1 && posta__imapd_is_list(&r->args[0])) {
        const posta_imap_arg *m = &r->args[0];
        if (m->count != 1 || !posta__imapd_arg_eq(&m->list[0], "EARLIER"))
            return posta__imapd_proto(d, "VANISHED: unknown modifier %s",
                                      posta__imapd_show_arg(m, b));
        vanished_r->earlier = 1;
        i = 1;
    }
    if (r->nargs != i + 1)
        return posta__imapd_proto(d, "VANISHED: expected one UID set, got %zu arguments",
                                  r->nargs - i);
    return posta__imapd_seqset_arg(d, &r->args[i], "VANISHED", &vanished_r->uids);
}
