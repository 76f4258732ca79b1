/* The decoder handle and its arena, and the tree-reading helpers every
 * typed IMAP decoder shares (strings, numbers, mailbox names, flags). */
#include "decode_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <posta/util.h>

/* --- arena ----------------------------------------------------------------
 * Blocks are chained newest first; allocation bumps within the newest and
 * starts a new block (doubling, up to 1 MiB; bigger requests get a block of
 * their own) when it is full.  Reset keeps one small block, so decoding one
 * response after another settles into zero mallocs. */

struct posta__imapd_block {
    struct posta__imapd_block *next;
    size_t size;   /* bytes of data[] */
    size_t used;
    max_align_t data[];
};

#define BLOCK_FIRST ((size_t)4096)
#define BLOCK_MAX ((size_t)1 << 20)
#define ALIGN (sizeof(max_align_t))

static struct posta__imapd_block *new_block(posta_imap_decoder *d, size_t need)
{
    size_t size = d->blocks ? d->blocks->size * 2 : BLOCK_FIRST;
    if (size > BLOCK_MAX)
        size = BLOCK_MAX;
    if (size < need)
        size = need;
    size_t total;
    if (posta__size_add(size, sizeof(struct posta__imapd_block), &total) < 0 ||
        total > d->limit - d->held) {
        /* Retry with just what is needed before declaring the cap crossed. */
        size = need;
        if (posta__size_add(size, sizeof(struct posta__imapd_block), &total) < 0 ||
            total > d->limit - d->held) {
            posta__err_set(&d->err, POSTA_ELIMIT,
                           "IMAP decoder arena limit of %zu bytes reached (reset the decoder "
                           "once per response, or raise the limit)", d->limit);
            return NULL;
        }
    }
    struct posta__imapd_block *b = malloc(total);
    if (!b) {
        posta__err_set(&d->err, POSTA_ENOMEM, "out of memory decoding an IMAP response");
        return NULL;
    }
    b->size = size;
    b->used = 0;
    b->next = d->blocks;
    d->blocks = b;
    d->held += total;
    return b;
}

void *posta__imapd_alloc(posta_imap_decoder *d, size_t size)
{
    if (d->fail_after >= 0 && d->fail_after-- == 0) {
        posta__err_set(&d->err, POSTA_ENOMEM, "out of memory decoding an IMAP response");
        return NULL;
    }
    size_t rounded;
    if (posta__size_add(size ? size : 1, ALIGN - 1, &rounded) < 0) {
        posta__err_set(&d->err, POSTA_ELIMIT, "IMAP decoder allocation of %zu bytes too large",
                       size);
        return NULL;
    }
    rounded &= ~(ALIGN - 1);
    struct posta__imapd_block *b = d->blocks;
    if (!b || b->size - b->used < rounded) {
        b = new_block(d, rounded);
        if (!b)
            return NULL;
    }
    void *p = (char *)b->data + b->used;
    b->used += rounded;
    memset(p, 0, size);
    return p;
}

void *posta__imapd_array(posta_imap_decoder *d, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) {
        posta__err_set(&d->err, POSTA_ELIMIT, "IMAP decoder array of %zu elements too large", n);
        return NULL;
    }
    return posta__imapd_alloc(d, n * size);
}

void posta__imap_decoder_fail_after(posta_imap_decoder *d, long n)
{
    d->fail_after = n;
}

int posta_imap_decoder_new(posta_imap_decoder **d_r, unsigned flags, size_t max_bytes)
{
    if (!d_r)
        return POSTA_EINVAL;
    *d_r = NULL;
    posta_imap_decoder *d = calloc(1, sizeof(*d));
    if (!d)
        return POSTA_ENOMEM;
    d->flags = flags;
    d->limit = max_bytes ? max_bytes : POSTA_IMAP_DECODER_DEFAULT_LIMIT;
    d->fail_after = -1;
    *d_r = d;
    return 0;
}

void posta_imap_decoder_free(posta_imap_decoder *d)
{
    if (!d)
        return;
    while (d->blocks) {
        struct posta__imapd_block *next = d->blocks->next;
        free(d->blocks);
        d->blocks = next;
    }
    free(d);
}

void posta_imap_decoder_reset(posta_imap_decoder *d)
{
    if (!d)
        return;
    struct posta__imapd_block *keep = NULL;
    while (d->blocks) {
        struct posta__imapd_block *b = d->blocks;
        d->blocks = b->next;
        if (!keep && b->size <= 64 * BLOCK_FIRST) {
            keep = b;
            continue;
        }
        d->held -= b->size + sizeof(*b);
        free(b);
    }
    if (keep) {
        keep->used = 0;
        keep->next = NULL;
    }
    d->blocks = keep;
    d->depth = 0;
    posta__err_clear(&d->err);
}

void posta_imap_decoder_set_flags(posta_imap_decoder *d, unsigned flags)
{
    if (d)
        d->flags = flags;
}

unsigned posta_imap_decoder_flags(const posta_imap_decoder *d)
{
    return d ? d->flags : 0;
}

const char *posta_imap_decoder_errmsg(const posta_imap_decoder *d)
{
    if (!d)
        return "no decoder";
    if (!d->err.code && !d->err.msg[0])
        return "";
    return posta__err_msg(&d->err);
}

size_t posta_imap_decoder_memory(const posta_imap_decoder *d)
{
    return d ? d->held : 0;
}

/* --- errors --------------------------------------------------------------- */

int posta__imapd_fail(posta_imap_decoder *d, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    posta__err_vset(&d->err, code, fmt, ap);
    va_end(ap);
    return code;
}

int posta__imapd_proto(posta_imap_decoder *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    posta__err_vset(&d->err, POSTA_EPROTO, fmt, ap);
    va_end(ap);
    return POSTA_EPROTO;
}

const char *posta__imapd_show(const char *s, size_t len, char buf[POSTA_IMAPD_SHOW])
{
    size_t o = 0;
    const size_t shown = 48;
    buf[o++] = '"';
    for (size_t i = 0; i < len && i < shown; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
            buf[o++] = (char)c;
        else
            o += (size_t)snprintf(buf + o, POSTA_IMAPD_SHOW - o, "\\x%02x", c);
    }
    if (len > shown)
        o += (size_t)snprintf(buf + o, POSTA_IMAPD_SHOW - o, "...");
    buf[o++] = '"';
    buf[o] = '\0';
    return buf;
}

const char *posta__imapd_show_arg(const posta_imap_arg *a, char buf[POSTA_IMAPD_SHOW])
{
    if (!a)
        return "nothing";
    switch (a->type) {
    case POSTA_IMAP_ARG_NIL:
        return "NIL";
    case POSTA_IMAP_ARG_LIST:
        snprintf(buf, POSTA_IMAPD_SHOW, "a list of %zu", a->count);
        return buf;
    case POSTA_IMAP_ARG_LITERAL_STREAMED:
        snprintf(buf, POSTA_IMAPD_SHOW, "a streamed literal of %llu bytes",
                 (unsigned long long)a->size);
        return buf;
    default:
        return posta__imapd_show(a->str ? a->str : "", a->str ? a->len : 0, buf);
    }
}

/* --- strings ----------------------------------------------------------------- */

int posta__imapd_eq(const char *s, size_t len, const char *lit)
{
    size_t i = 0;
    for (; i < len && lit[i]; i++) {
        unsigned char a = (unsigned char)s[i], b = (unsigned char)lit[i];
        if (a >= 'a' && a <= 'z')
            a = (unsigned char)(a - 32);
        if (b >= 'a' && b <= 'z')
            b = (unsigned char)(b - 32);
        if (a != b)
            return 0;
    }
    return i == len && lit[i] == '\0';
}

int posta__imapd_arg_eq(const posta_imap_arg *a, const char *lit)
{
    return posta__imapd_is_text(a) && a->str && posta__imapd_eq(a->str, a->len, lit);
}

int posta__imapd_copy(posta_imap_decoder *d, const char *s, size_t len, posta_imap_str *out)
{
    size_t n;
    if (posta__size_add(len, 1, &n) < 0)
        return posta__imapd_fail(d, POSTA_ELIMIT, "string too large");
    char *p = posta__imapd_alloc(d, n);
    if (!p)
        return d->err.code;
    if (len)
        memcpy(p, s, len);
    p[len] = '\0';
    out->ptr = p;
    out->len = len;
    return 0;
}

int posta__imapd_ref(posta_imap_decoder *d, const char *s, size_t len, posta_imap_str *out)
{
    if (d->flags & POSTA_IMAP_DECODE_COPY)
        return posta__imapd_copy(d, s, len, out);
    out->ptr = s;
    out->len = len;
    return 0;
}

static int text_of(posta_imap_decoder *d, const posta_imap_arg *a, posta_imap_str *out)
{
    if (a->type == POSTA_IMAP_ARG_LITERAL_STREAMED) {
        out->ptr = "";
        out->len = 0;
        return 0;
    }
    if (!a->str) {
        out->ptr = "";
        out->len = 0;
        return 0;
    }
    return posta__imapd_ref(d, a->str, a->len, out);
}

int posta__imapd_nstring(posta_imap_decoder *d, const posta_imap_arg *a, const char *what,
                         posta_imap_str *out)
{
    char b[POSTA_IMAPD_SHOW];
    out->ptr = NULL;
    out->len = 0;
    if (!a || a->type == POSTA_IMAP_ARG_LIST)
        return posta__imapd_proto(d, "%s: expected a string or NIL, got %s", what,
                                  posta__imapd_show_arg(a, b));
    if (a->type == POSTA_IMAP_ARG_NIL)
        return 0;
    return text_of(d, a, out);
}

int posta__imapd_astring(posta_imap_decoder *d, const posta_imap_arg *a, const char *what,
                         posta_imap_str *out)
{
    char b[POSTA_IMAPD_SHOW];
    if (a && a->type == POSTA_IMAP_ARG_NIL)
        return posta__imapd_ref(d, "NIL", 3, out);
    int rc = posta__imapd_nstring(d, a, what, out);
    if (rc == POSTA_EPROTO)
        posta__imapd_proto(d, "%s: expected a string, got %s", what,
                           posta__imapd_show_arg(a, b));
    return rc;
}

int posta__imapd_nstring_lax(posta_imap_decoder *d, const posta_imap_arg *a, posta_imap_str *out)
{
    out->ptr = NULL;
    out->len = 0;
    if (a && a->type != POSTA_IMAP_ARG_LIST && a->type != POSTA_IMAP_ARG_NIL)
        return text_of(d, a, out);
    return 0;
}

/* --- numbers ------------------------------------------------------------------ */

int posta__imapd_digits(const char *s, size_t len, uint64_t max, uint64_t *n_r)
{
    uint64_t n = 0;
    if (!s || len == 0)
        return -1;
    for (size_t i = 0; i < len; i++) {
        unsigned c = (unsigned char)s[i] - '0';
        if (c > 9)
            return -1;
        if (n > (max - c) / 10)
            return -1;
        n = n * 10 + c;
    }
    *n_r = n;
    return 0;
}

int posta__imapd_u64(const posta_imap_arg *a, uint64_t max, uint64_t *n_r)
{
    if (!posta__imapd_is_text(a))
        return -1;
    return posta__imapd_digits(a->str, a->len, max, n_r);
}

static int all_digits(const posta_imap_arg *a)
{
    if (!posta__imapd_is_text(a) || !a->str || a->len == 0)
        return 0;
    for (size_t i = 0; i < a->len; i++)
        if (a->str[i] < '0' || a->str[i] > '9')
            return 0;
    return 1;
}

static int checked(posta_imap_decoder *d, const posta_imap_arg *a, const char *what,
                   uint64_t min, uint64_t max, uint64_t *n_r)
{
    char b[POSTA_IMAPD_SHOW];
    uint64_t n;
    if (!all_digits(a))
        return posta__imapd_proto(d, "%s: expected a number, got %s", what,
                                  posta__imapd_show_arg(a, b));
    if (posta__imapd_digits(a->str, a->len, UINT64_MAX, &n) < 0)
        return posta__imapd_proto(d, "%s: %s is above 2^64-1", what,
                                  posta__imapd_show_arg(a, b));
    if (n < min || n > max)
        return posta__imapd_proto(d, "%s: %llu is out of range (%llu .. %llu)", what,
                                  (unsigned long long)n, (unsigned long long)min,
                                  (unsigned long long)max);
    *n_r = n;
    return 0;
}

int posta__imapd_number(posta_imap_decoder *d, const posta_imap_arg *a, const char *what,
                        uint32_t *n_r)
{
    uint64_t n;
    int rc = checked(d, a, what, 0, UINT32_MAX, &n);
    if (rc == 0)
        *n_r = (uint32_t)n;
    return rc;
}

int posta__imapd_nz_number(posta_imap_decoder *d, const posta_imap_arg *a, const char *what,
                           uint32_t *n_r)
{
    uint64_t n;
    int rc = checked(d, a, what, 1, UINT32_MAX, &n);
    if (rc == 0)
        *n_r = (uint32_t)n;
    return rc;
}

int posta__imapd_number64(posta_imap_decoder *d, const posta_imap_arg *a, const char *what,
                          uint64_t *n_r)
{
    return checked(d, a, what, 0, INT64_MAX, n_r);
}

/* --- mailbox names --------------------------------------------------------------- */

int posta__imapd_mailbox_bytes(posta_imap_decoder *d, const char *s, size_t len,
                               posta_imap_mailbox_name *out)
{
    int rc = posta__imapd_ref(d, s, len, &out->raw);
    if (rc)
        return rc;
    out->name = out->raw;
    out->undecoded = 0;
    if (d->flags & POSTA_IMAP_DECODE_UTF8) {
        out->undecoded = posta_utf8_check(s, len, NULL) != 0;
        return 0;
    }
    /* Pure printable ASCII without "&" is its own decoding: the common
     * case, with no allocation. */
    size_t i = 0;
    while (i < len && s[i] >= 0x20 && s[i] < 0x7f && s[i] != '&')
        i++;
    if (i == len)
        return 0;
    char *utf8 = NULL;
    size_t ulen = 0;
    rc = posta_mutf7_decode(s, len, &utf8, &ulen, NULL);
    if (rc == 0) {
        rc = posta__imapd_copy(d, utf8, ulen, &out->name);
        free(utf8);
        return rc;
    }
    if (rc == POSTA_ENOMEM)
        return posta__imapd_fail(d, rc, "out of memory decoding a mailbox name");
    /* Modified UTF-7 is 7-bit: 8-bit bytes that form UTF-8 are a server
     * sending UTF-8 without UTF8=ACCEPT, which exists; take it as is. */
    int eightbit = 0;
    for (size_t k = 0; k < len; k++)
        eightbit |= (unsigned char)s[k] >= 0x80;
    out->undecoded = !eightbit || posta_utf8_check(s, len, NULL) != 0;
    return 0;
}

int posta__imapd_mailbox(posta_imap_decoder *d, const posta_imap_arg *a, const char *what,
                         posta_imap_mailbox_name *out)
{
    posta_imap_str s;
    int rc = posta__imapd_astring(d, a, what, &s);
    if (rc)
        return rc;
    /* Decode from the tree's bytes, not a copy, to copy at most once. */
    if (a->type == POSTA_IMAP_ARG_NIL || a->type == POSTA_IMAP_ARG_LITERAL_STREAMED || !a->str)
        return posta__imapd_mailbox_bytes(d, s.ptr, s.len, out);
    return posta__imapd_mailbox_bytes(d, a->str, a->len, out);
}

int posta__imapd_delimiter(posta_imap_decoder *d, const posta_imap_arg *a, const char *what,
                           char *out)
{
    char b[POSTA_IMAPD_SHOW];
    *out = 0;
    if (posta__imapd_is_nil(a))
        return 0;
    if (!posta__imapd_is_text(a) || a->len > 1)
        return posta__imapd_proto(d, "%s: expected a one-character delimiter or NIL, got %s",
                                  what, posta__imapd_show_arg(a, b));
    *out = a->len ? a->str[0] : 0;
    return 0;
}

/* --- flags ------------------------------------------------------------------------ */

static const struct {
    const char *name;
    unsigned bit;
} message_flags[] = {
    {"\\Seen", POSTA_IMAP_FLAG_SEEN},       {"\\Answered", POSTA_IMAP_FLAG_ANSWERED},
    {"\\Flagged", POSTA_IMAP_FLAG_FLAGGED}, {"\\Deleted", POSTA_IMAP_FLAG_DELETED},
    {"\\Draft", POSTA_IMAP_FLAG_DRAFT},     {"\\Recent", POSTA_IMAP_FLAG_RECENT},
    {"\\*", POSTA_IMAP_FLAG_ANY},
}, mailbox_attrs[] = {
    {"\\Noinferiors", POSTA_IMAP_ATTR_NOINFERIORS}, {"\\Noselect", POSTA_IMAP_ATTR_NOSELECT},
    {"\\Marked", POSTA_IMAP_ATTR_MARKED},           {"\\Unmarked", POSTA_IMAP_ATTR_UNMARKED},
    {"\\NonExistent", POSTA_IMAP_ATTR_NONEXISTENT}, {"\\Subscribed", POSTA_IMAP_ATTR_SUBSCRIBED},
    {"\\Remote", POSTA_IMAP_ATTR_REMOTE},           {"\\HasChildren", POSTA_IMAP_ATTR_HASCHILDREN},
    {"\\HasNoChildren", POSTA_IMAP_ATTR_HASNOCHILDREN},
    {"\\All", POSTA_IMAP_ATTR_ALL},                 {"\\Archive", POSTA_IMAP_ATTR_ARCHIVE},
    {"\\Drafts", POSTA_IMAP_ATTR_DRAFTS},           {"\\Flagged", POSTA_IMAP_ATTR_FLAGGED},
    {"\\Junk", POSTA_IMAP_ATTR_JUNK},               {"\\Sent", POSTA_IMAP_ATTR_SENT},
    {"\\Trash", POSTA_IMAP_ATTR_TRASH},             {"\\Important", POSTA_IMAP_ATTR_IMPORTANT},
};

static unsigned flag_bit(const posta_imap_str *f, int attrs)
{
    size_t n = attrs ? sizeof(mailbox_attrs) / sizeof(mailbox_attrs[0])
                     : sizeof(message_flags) / sizeof(message_flags[0]);
    for (size_t i = 0; i < n; i++) {
        const char *name = attrs ? mailbox_attrs[i].name : message_flags[i].name;
        if (posta__imapd_eq(f->ptr, f->len, name))
            return attrs ? mailbox_attrs[i].bit : message_flags[i].bit;
    }
    return 0;
}

/* flag-list = "(" [flag *(SP flag)] ")"
 * flag      = "\Answered" / "\Flagged" / "\Deleted" / "\Seen" / "\Draft" /
 *             flag-keyword / flag-extension
 * mbx-list-flags = *(mbx-list-oflag SP) mbx-list-sflag *(SP mbx-list-oflag) /
 *                  mbx-list-oflag *(SP mbx-list-oflag) */
int posta__imapd_flag_list(posta_imap_decoder *d, const posta_imap_arg *a, const char *what,
                           int attrs, posta_imap_flagset *out)
{
    char b[POSTA_IMAPD_SHOW];
    memset(out, 0, sizeof(*out));
    if (posta__imapd_is_nil(a) || (posta__imapd_is_text(a) && a->len == 0)) {
        out->v = posta__imapd_array(d, 0, sizeof(posta_imap_str));
        return out->v ? 0 : d->err.code;
    }
    if (!posta__imapd_is_list(a))
        return posta__imapd_proto(d, "%s: expected a flag list, got %s", what,
                                  posta__imapd_show_arg(a, b));
    posta_imap_str *v = posta__imapd_array(d, a->count, sizeof(*v));
    if (!v)
        return d->err.code;
    for (size_t i = 0; i < a->count; i++) {
        const posta_imap_arg *f = &a->list[i];
        if (!posta__imapd_is_text(f) && !posta__imapd_is_nil(f))
            return posta__imapd_proto(d, "%s: flag %zu is %s, not a flag", what, i + 1,
                                      posta__imapd_show_arg(f, b));
        int rc = posta__imapd_astring(d, f, what, &v[i]);
        if (rc)
            return rc;
        out->bits |= flag_bit(&v[i], attrs);
    }
    out->v = v;
    out->count = a->count;
    return 0;
}

int posta_imap_flagset_has(const posta_imap_flagset *flags, const char *flag)
{
    if (!flags || !flag)
        return 0;
    for (size_t i = 0; i < flags->count; i++)
        if (flags->v[i].ptr && posta__imapd_eq(flags->v[i].ptr, flags->v[i].len, flag))
            return 1;
    return 0;
}

/* --- response kinds ----------------------------------------------------------- */

static const struct {
    const char *keyword;
    posta_imap_data_type type;
    int numbered;   /* "* n KEYWORD" */
} data_types[] = {
    {"CAPABILITY", POSTA_IMAP_DATA_CAPABILITY, 0}, {"ENABLED", POSTA_IMAP_DATA_ENABLED, 0},
    {"FLAGS", POSTA_IMAP_DATA_FLAGS, 0},           {"EXISTS", POSTA_IMAP_DATA_EXISTS, 1},
    {"RECENT", POSTA_IMAP_DATA_RECENT, 1},         {"EXPUNGE", POSTA_IMAP_DATA_EXPUNGE, 1},
    {"FETCH", POSTA_IMAP_DATA_FETCH, 1},           {"LIST", POSTA_IMAP_DATA_LIST, 0},
    {"LSUB", POSTA_IMAP_DATA_LSUB, 0},             {"STATUS", POSTA_IMAP_DATA_STATUS, 0},
    {"SEARCH", POSTA_IMAP_DATA_SEARCH, 0},         {"SORT", POSTA_IMAP_DATA_SORT, 0},
    {"ESEARCH", POSTA_IMAP_DATA_ESEARCH, 0},       {"THREAD", POSTA_IMAP_DATA_THREAD, 0},
    {"NAMESPACE", POSTA_IMAP_DATA_NAMESPACE, 0},   {"ID", POSTA_IMAP_DATA_ID, 0},
    {"VANISHED", POSTA_IMAP_DATA_VANISHED, 0},     {"QUOTA", POSTA_IMAP_DATA_QUOTA, 0},
    {"QUOTAROOT", POSTA_IMAP_DATA_QUOTAROOT, 0},   {"ACL", POSTA_IMAP_DATA_ACL, 0},
    {"LISTRIGHTS", POSTA_IMAP_DATA_LISTRIGHTS, 0}, {"MYRIGHTS", POSTA_IMAP_DATA_MYRIGHTS, 0},
    {"METADATA", POSTA_IMAP_DATA_METADATA, 0},
};

posta_imap_data_type posta_imap_data_type_of(const posta_imap_response *r)
{
    if (!r)
        return POSTA_IMAP_DATA_OTHER;
    if (r->kind == POSTA_IMAP_RESP_CONTINUATION)
        return POSTA_IMAP_DATA_CONTINUATION;
    if (r->status != POSTA_IMAP_STATUS_NONE)
        return POSTA_IMAP_DATA_CONDITION;
    if (r->kind != POSTA_IMAP_RESP_UNTAGGED || !r->keyword)
        return POSTA_IMAP_DATA_OTHER;
    for (size_t i = 0; i < sizeof(data_types) / sizeof(data_types[0]); i++)
        if (posta__imapd_eq(r->keyword, r->keyword_len, data_types[i].keyword))
            return !data_types[i].numbered == !r->has_number ? data_types[i].type
                                                              : POSTA_IMAP_DATA_OTHER;
    return POSTA_IMAP_DATA_OTHER;
}

const char *posta_imap_data_type_name(posta_imap_data_type t)
{
    switch (t) {
    case POSTA_IMAP_DATA_CONDITION:
        return "CONDITION";
    case POSTA_IMAP_DATA_CONTINUATION:
        return "CONTINUATION";
    default:
        break;
    }
    for (size_t i = 0; i < sizeof(data_types) / sizeof(data_types[0]); i++)
        if (data_types[i].type == t)
            return data_types[i].keyword;
    return "OTHER";
}

int posta__imapd_expect(posta_imap_decoder *d, const posta_imap_response *r,
                        const char *keyword, int numbered)
{
    if (r->kind != POSTA_IMAP_RESP_UNTAGGED || r->status != POSTA_IMAP_STATUS_NONE ||
        !r->keyword || !posta__imapd_eq(r->keyword, r->keyword_len, keyword))
        return posta__imapd_fail(d, POSTA_EINVAL, "not a %s response", keyword);
    if (!numbered != !r->has_number)
        return posta__imapd_fail(d, POSTA_EINVAL, numbered ? "%s response without a number"
                                                           : "%s response with a number",
                                 keyword);
    return 0;
}
