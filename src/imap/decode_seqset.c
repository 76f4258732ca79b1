/* Sequence sets and UID sets: parsing into ranges, iteration, counting. */
#include "decode_internal.h"

#include <string.h>

/*
 * sequence-set = (seq-number / seq-range) ["," sequence-set]
 * seq-range    = seq-number ":" seq-number
 * seq-number   = nz-number / "*"
 * nz-number    = digit-nz *DIGIT    ; 1 .. 4294967295
 *
 * uid-set (RFC 4315/9051) and known-uids (RFC 7162) are the same without
 * "*", so one parser serves them all.
 */

/* One seq-number at s[*i]: STAR for "*", else 1 .. 2^32-1. */
static int seq_number(posta_imap_decoder *d, const char *s, size_t len, size_t *i, uint32_t *n_r)
{
    char b[POSTA_IMAPD_SHOW], num[POSTA_IMAPD_SHOW];
    if (*i < len && s[*i] == '*') {
        (*i)++;
        *n_r = POSTA_IMAP_STAR;
        return 0;
    }
    size_t start = *i;
    uint64_t n = 0;
    while (*i < len && s[*i] >= '0' && s[*i] <= '9') {
        /* Keep reading past the overflow point so the message shows the
         * whole number, but never let n itself overflow. */
        if (n <= UINT32_MAX)
            n = n * 10 + (uint64_t)(s[*i] - '0');
        (*i)++;
    }
    if (*i == start)
        return posta__imapd_proto(d, "sequence set %s: expected a number or \"*\" at offset %zu",
                                  posta__imapd_show(s, len, b), start);
    if (n > UINT32_MAX)
        return posta__imapd_proto(d, "sequence set %s: number %s is above 2^32-1",
                                  posta__imapd_show(s, len, b),
                                  posta__imapd_show(s + start, *i - start, num));
    if (n == 0)
        return posta__imapd_proto(d, "sequence set %s: 0 is not a message number or UID",
                                  posta__imapd_show(s, len, b));
    *n_r = (uint32_t)n;
    return 0;
}

/* "*" orders above every number. */
static int seq_less(uint32_t a, uint32_t b)
{
    if (a == POSTA_IMAP_STAR)
        return 0;
    return b == POSTA_IMAP_STAR || a < b;
}

int posta_imap_seqset_parse(posta_imap_decoder *d, const char *s, size_t len,
                            posta_imap_seqset *set_r)
{
    POSTA_IMAPD_BEGIN(d, s, set_r);
    char b[POSTA_IMAPD_SHOW];
    if (len == 0)
        return posta__imapd_proto(d, "empty sequence set");
    size_t n = 1;
    for (size_t i = 0; i < len; i++)
        n += s[i] == ',';
    posta_imap_range *r = posta__imapd_array(d, n, sizeof(*r));
    if (!r)
        return d->err.code;
    size_t i = 0;
    for (size_t k = 0; k < n; k++) {
        uint32_t a, z;
        int rc = seq_number(d, s, len, &i, &a);
        if (rc)
            return rc;
        z = a;
        if (i < len && s[i] == ':') {
            i++;
            rc = seq_number(d, s, len, &i, &z);
            if (rc)
                return rc;
        }
        if (seq_less(z, a)) {
            uint32_t t = a;
            a = z;
            z = t;
        }
        r[k].first = a;
        r[k].last = z;
        if (k + 1 < n) {
            if (i >= len || s[i] != ',')
                return posta__imapd_proto(d, "sequence set %s: unexpected %s at offset %zu",
                                          posta__imapd_show(s, len, b),
                                          i < len ? "character" : "end", i);
            i++;
        }
    }
    if (i != len)
        return posta__imapd_proto(d, "sequence set %s: unexpected character at offset %zu",
                                  posta__imapd_show(s, len, b), i);
    set_r->ranges = r;
    set_r->count = n;
    return 0;
}

int posta__imapd_seqset_arg(posta_imap_decoder *d, const posta_imap_arg *a, const char *what,
                            posta_imap_seqset *out)
{
    char b[POSTA_IMAPD_SHOW];
    /* A single number comes through as an atom like any set; quoted sets
     * are a quirk we accept. */
    if (!posta__imapd_is_text(a))
        return posta__imapd_proto(d, "%s: expected a sequence set, got %s", what,
                                  posta__imapd_show_arg(a, b));
    int rc = posta_imap_seqset_parse(d, a->str, a->len, out);
    if (rc == POSTA_EPROTO) {
        char msg[sizeof(d->err.msg)];
        memcpy(msg, d->err.msg, sizeof(msg));
        posta__imapd_proto(d, "%s: %s", what, msg);
    }
    return rc;
}

/* --- iteration -------------------------------------------------------------- */

static uint32_t resolve(uint32_t n, uint32_t largest)
{
    return n == POSTA_IMAP_STAR ? largest : n;
}

/* A range with "*" replaced; 0 when nothing of it remains (largest 0). */
static int bounds(const posta_imap_range *r, uint32_t largest, uint32_t *a, uint32_t *z)
{
    *a = resolve(r->first, largest);
    *z = resolve(r->last, largest);
    if (*a > *z) {
        /* "5:*" with largest 3 means 3:5 (RFC 9051 6.4.8 allows the range
         * to be read in either order). */
        uint32_t t = *a;
        *a = *z;
        *z = t;
    }
    return *a != 0;
}

void posta_imap_seqset_iter_init(posta_imap_seqset_iter *it, const posta_imap_seqset *set,
                                 uint32_t largest)
{
    memset(it, 0, sizeof(*it));
    it->set = set;
    it->largest = largest;
    it->i = 0;
    it->next = 0;   /* 0: start of the current range not yet taken */
}

int posta_imap_seqset_next(posta_imap_seqset_iter *it, uint32_t *n_r)
{
    if (!it || !it->set)
        return 0;
    while (it->i < it->set->count) {
        uint32_t a, z;
        if (!bounds(&it->set->ranges[it->i], it->largest, &a, &z)) {
            it->i++;
            continue;
        }
        if (it->next == 0)
            it->next = a;
        if (it->next <= z) {
            *n_r = (uint32_t)it->next++;
            return 1;
        }
        it->i++;
        it->next = 0;
    }
    return 0;
}

uint64_t posta_imap_seqset_count(const posta_imap_seqset *set, uint32_t largest)
{
    uint64_t total = 0;
    if (!set)
        return 0;
    for (size_t i = 0; i < set->count; i++) {
        uint32_t a, z;
        if (!bounds(&set->ranges[i], largest, &a, &z))
            continue;
        uint64_t add = (uint64_t)z - a + 1;
        total = total > UINT64_MAX - add ? UINT64_MAX : total + add;
    }
    return total;
}

int posta_imap_seqset_contains(const posta_imap_seqset *set, uint32_t n, uint32_t largest)
{
    if (!set || n == 0)
        return 0;
    for (size_t i = 0; i < set->count; i++) {
        uint32_t a, z;
        if (bounds(&set->ranges[i], largest, &a, &z) && n >= a && n <= z)
            return 1;
    }
    return 0;
}
