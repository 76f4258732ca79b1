/* FETCH responses: one table of item decoders, body sections with their
 * part numbers and origin, and RFC 9051 date-time. */
#include "decode_internal.h"

#include <string.h>

/* --- date-time ----------------------------------------------------------------
 * date-time      = DQUOTE date-day-fixed "-" date-month "-" date-year
 *                  SP time SP zone DQUOTE
 * date-day-fixed = (SP DIGIT) / 2DIGIT
 * date-month     = "Jan" / "Feb" / "Mar" / "Apr" / "May" / "Jun" /
 *                  "Jul" / "Aug" / "Sep" / "Oct" / "Nov" / "Dec"
 * date-year      = 4DIGIT
 * time           = 2DIGIT ":" 2DIGIT ":" 2DIGIT
 * zone           = ("+" / "-") 4DIGIT
 */

static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* n digits at s[*i] into *v; -1 when they are not all digits. */
static int fixed_digits(const char *s, size_t len, size_t *i, size_t n, int *v)
{
    int x = 0;
    if (len - *i < n)
        return -1;
    for (size_t k = 0; k < n; k++) {
        unsigned c = (unsigned char)s[*i + k] - '0';
        if (c > 9)
            return -1;
        x = x * 10 + (int)c;
    }
    *i += n;
    *v = x;
    return 0;
}

static int expect_char(const char *s, size_t len, size_t *i, char c)
{
    if (*i >= len || s[*i] != c)
        return -1;
    (*i)++;
    return 0;
}

static int leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (the civil-from-days inverse, valid for every year we accept). */
static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int parse_datetime(const char *s, size_t len, posta_imap_datetime *dt)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    size_t i = 0;
    int day, mon = -1, year, hh, mm, ss, zh, zm;
    /* Day: " 7", "07", or the tolerated "7". */
    if (len > 0 && s[0] == ' ')
        i++;
    if (fixed_digits(s, len, &i, 2, &day) < 0) {
        if (fixed_digits(s, len, &i, 1, &day) < 0)
            return -1;
    } else if (s[0] == ' ') {
        return -1;   /* " 17" */
    }
    if (expect_char(s, len, &i, '-') < 0 || len - i < 3)
        return -1;
    for (int k = 0; k < 12; k++)
        if (posta__imapd_eq(s + i, 3, months[k]))
            mon = k;
    if (mon < 0)
        return -1;
    i += 3;
    if (expect_char(s, len, &i, '-') < 0 || fixed_digits(s, len, &i, 4, &year) < 0 ||
        expect_char(s, len, &i, ' ') < 0 || fixed_digits(s, len, &i, 2, &hh) < 0 ||
        expect_char(s, len, &i, ':') < 0 || fixed_digits(s, len, &i, 2, &mm) < 0 ||
        expect_char(s, len, &i, ':') < 0 || fixed_digits(s, len, &i, 2, &ss) < 0 ||
        expect_char(s, len, &i, ' ') < 0 || i >= len || (s[i] != '+' && s[i] != '-'))
        return -1;
    int sign = s[i++] == '-' ? -1 : 1;
    if (fixed_digits(s, len, &i, 2, &zh) < 0 || fixed_digits(s, len, &i, 2, &zm) < 0 ||
        i != len)
        return -1;
    if (year < 1900 || day < 1 || day > mdays[mon] + (mon == 1 && leap(year)) || hh > 23 ||
        mm > 59 || ss > 59 || zh > 23 || zm > 59)
        return -1;
    dt->zone = sign * (zh * 60 + zm);
    int64_t t = days_from_civil(year, mon + 1, day) * 86400 + hh * 3600 + mm * 60 + ss;
    t -= (int64_t)dt->zone * 60;
    if ((int64_t)(time_t)t != t)
        return -1;   /* a 32-bit time_t cannot hold it */
    dt->time = (time_t)t;
    return 0;
}

int posta_imap_datetime_parse(posta_imap_decoder *d, const char *s, size_t len,
                              posta_imap_datetime *dt_r)
{
    char b[POSTA_IMAPD_SHOW];
    POSTA_IMAPD_BEGIN(d, s, dt_r);
    if (parse_datetime(s, len, dt_r) < 0) {
        memset(dt_r, 0, sizeof(*dt_r));
        return posta__imapd_proto(d, "%s is not a date-time", posta__imapd_show(s, len, b));
    }
    return 0;
}

static int datetime_arg(posta_imap_decoder *d, const posta_imap_arg *a, const char *what,
                        posta_imap_datetime *dt)
{
    char b[POSTA_IMAPD_SHOW];
    if (!posta__imapd_is_text(a) || parse_datetime(a->str, a->len, dt) < 0)
        return posta__imapd_proto(d, "%s: %s is not a date-time", what,
                                  posta__imapd_show_arg(a, b));
    return 0;
}

/* --- sections -------------------------------------------------------------------
 * section         = "[" [section-spec] "]"
 * section-spec    = section-msgtext / (section-part ["." section-text])
 * section-msgtext = "HEADER" / "HEADER.FIELDS" [".NOT"] SP header-list / "TEXT"
 * section-part    = nz-number *("." nz-number)
 * section-text    = section-msgtext / "MIME"
 * section-binary  = "[" [section-part] "]"
 * msg-att-static  =/ "BODY" section ["<" number ">"] SP nstring /
 *                    "BINARY" section-binary SP (nstring / literal8) /
 *                    "BINARY.SIZE" section-binary SP number
 */

struct section_name {
    posta_imap_str section;
    const uint32_t *part;
    size_t nparts;
    posta_imap_str spec;
    int has_origin;
    uint64_t origin;
};

/* Split the item name after its prefix ("BODY[" etc.) into the parts of a
 * section.  The header list may contain anything but "]", so the section
 * ends at the last "]". */
static int split_section(posta_imap_decoder *d, const posta_imap_arg *name, size_t prefix,
                         int binary, struct section_name *out)
{
    char b[POSTA_IMAPD_SHOW];
    const char *s = name->str;
    size_t len = name->len, close = len;
    int rc;
    while (close > prefix && s[close - 1] != ']')
        close--;
    if (close == prefix)
        return posta__imapd_proto(d, "FETCH item %s: no closing \"]\"",
                                  posta__imapd_show_arg(name, b));
    close--;   /* index of "]" */
    memset(out, 0, sizeof(*out));
    /* A copy, small, so that section and spec end in NUL like every string. */
    if ((rc = posta__imapd_copy(d, s + prefix, close - prefix, &out->section)) != 0)
        return rc;
    /* "<" number ">" after the section */
    size_t i = close + 1;
    if (i < len) {
        if (s[i] != '<' || s[len - 1] != '>' ||
            posta__imapd_digits(s + i + 1, len - i - 2, UINT64_MAX, &out->origin) < 0)
            return posta__imapd_proto(d, "FETCH item %s: malformed origin",
                                      posta__imapd_show_arg(name, b));
        out->has_origin = 1;
    }
    /* part numbers: count dots for the array size */
    const char *p = out->section.ptr;
    size_t plen = out->section.len, n = 1, k = 0, j = 0;
    for (size_t x = 0; x < plen; x++)
        n += p[x] == '.';
    uint32_t *parts = posta__imapd_array(d, n, sizeof(*parts));
    if (!parts)
        return d->err.code;
    while (j < plen && p[j] >= '0' && p[j] <= '9') {
        size_t start = j;
        uint64_t v;
        while (j < plen && p[j] >= '0' && p[j] <= '9')
            j++;
        if (posta__imapd_digits(p + start, j - start, UINT32_MAX, &v) < 0 || v == 0)
            return posta__imapd_proto(d, "FETCH item %s: part number out of range",
                                      posta__imapd_show_arg(name, b));
        parts[k++] = (uint32_t)v;
        if (j < plen) {
            if (p[j] != '.' || j + 1 == plen)
                return posta__imapd_proto(d, "FETCH item %s: malformed section",
                                          posta__imapd_show_arg(name, b));
            j++;
        }
    }
    out->part = parts;
    out->nparts = k;
    out->spec.ptr = p + j;
    out->spec.len = plen - j;
    /* section-msgtext and "MIME" start with a letter: "1..2" is no section */
    if (out->spec.len && !((p[j] | 0x20) >= 'a' && (p[j] | 0x20) <= 'z'))
        return posta__imapd_proto(d, "FETCH item %s: malformed section",
                                  posta__imapd_show_arg(name, b));
    if (binary && out->spec.len)
        return posta__imapd_proto(d, "FETCH item %s: a BINARY section has part numbers only",
                                  posta__imapd_show_arg(name, b));
    return 0;
}

/* --- the item table ------------------------------------------------------------- */

struct fetch_ctx {
    posta_imap_fetch_data *f;
    posta_imap_section *sections;
    posta_imap_binary_size *binary_sizes;
    posta_imap_item *other;
};

typedef int item_fn(posta_imap_decoder *d, const posta_imap_arg *name, const posta_imap_arg *v,
                    struct fetch_ctx *c);

static int item_flags(posta_imap_decoder *d, const posta_imap_arg *name,
                      const posta_imap_arg *v, struct fetch_ctx *c)
{
    return posta__imapd_flag_list(d, v, "FETCH FLAGS", 0, &c->f->flags);
}

static int item_uid(posta_imap_decoder *d, const posta_imap_arg *name, const posta_imap_arg *v,
                    struct fetch_ctx *c)
{
    return posta__imapd_nz_number(d, v, "FETCH UID", &c->f->uid);
}

static int item_internaldate(posta_imap_decoder *d, const posta_imap_arg *name,
                             const posta_imap_arg *v, struct fetch_ctx *c)
{
    return datetime_arg(d, v, "FETCH INTERNALDATE", &c->f->internaldate);
}

static int item_savedate(posta_imap_decoder *d, const posta_imap_arg *name,
                         const posta_imap_arg *v, struct fetch_ctx *c)
{
    c->f->savedate_nil = posta__imapd_is_nil(v);
    if (c->f->savedate_nil)
        return 0;
    return datetime_arg(d, v, "FETCH SAVEDATE", &c->f->savedate);
}

static int item_size(posta_imap_decoder *d, const posta_imap_arg *name, const posta_imap_arg *v,
                     struct fetch_ctx *c)
{
    return posta__imapd_number64(d, v, "FETCH RFC822.SIZE", &c->f->rfc822_size);
}

static int item_envelope(posta_imap_decoder *d, const posta_imap_arg *name,
                         const posta_imap_arg *v, struct fetch_ctx *c)
{
    return posta_imap_decode_envelope_arg(d, v, &c->f->envelope);
}

static int item_body(posta_imap_decoder *d, const posta_imap_arg *name, const posta_imap_arg *v,
                     struct fetch_ctx *c)
{
    return posta_imap_decode_body_arg(d, v, &c->f->body);
}

/* "(" value ")" with one element; a bare value is tolerated. */
static const posta_imap_arg *single(const posta_imap_arg *v)
{
    return posta__imapd_is_list(v) && v->count == 1 ? &v->list[0] : v;
}

/* fetch-mod-resp = "MODSEQ" SP "(" permsg-modsequence ")" */
static int item_modseq(posta_imap_decoder *d, const posta_imap_arg *name,
                       const posta_imap_arg *v, struct fetch_ctx *c)
{
    return posta__imapd_number64(d, single(v), "FETCH MODSEQ", &c->f->modseq);
}

/* "EMAILID" SP "(" objectid ")" / "THREADID" SP ("(" objectid ")" / nil) */
static int objectid(posta_imap_decoder *d, const posta_imap_arg *v, const char *what,
                    int nil_ok, posta_imap_str *out)
{
    char b[POSTA_IMAPD_SHOW];
    const posta_imap_arg *a = single(v);
    if (nil_ok && posta__imapd_is_nil(a)) {
        out->ptr = NULL;
        out->len = 0;
        return 0;
    }
    if (!posta__imapd_is_text(a) || a->len == 0)
        return posta__imapd_proto(d, "%s: expected an object id, got %s", what,
                                  posta__imapd_show_arg(v, b));
    return posta__imapd_ref(d, a->str, a->len, out);
}

static int item_emailid(posta_imap_decoder *d, const posta_imap_arg *name,
                        const posta_imap_arg *v, struct fetch_ctx *c)
{
    return objectid(d, v, "FETCH EMAILID", 0, &c->f->emailid);
}

static int item_threadid(posta_imap_decoder *d, const posta_imap_arg *name,
                         const posta_imap_arg *v, struct fetch_ctx *c)
{
    return objectid(d, v, "FETCH THREADID", 1, &c->f->threadid);
}

static int item_preview(posta_imap_decoder *d, const posta_imap_arg *name,
                        const posta_imap_arg *v, struct fetch_ctx *c)
{
    return posta__imapd_nstring(d, v, "FETCH PREVIEW", &c->f->preview);
}

static int item_gm_msgid(posta_imap_decoder *d, const posta_imap_arg *name,
                         const posta_imap_arg *v, struct fetch_ctx *c)
{
    char b[POSTA_IMAPD_SHOW];
    if (posta__imapd_u64(v, UINT64_MAX, &c->f->x_gm_msgid) < 0)
        return posta__imapd_proto(d, "FETCH X-GM-MSGID: %s is not a number",
                                  posta__imapd_show_arg(v, b));
    return 0;
}

static int item_gm_thrid(posta_imap_decoder *d, const posta_imap_arg *name,
                         const posta_imap_arg *v, struct fetch_ctx *c)
{
    char b[POSTA_IMAPD_SHOW];
    if (posta__imapd_u64(v, UINT64_MAX, &c->f->x_gm_thrid) < 0)
        return posta__imapd_proto(d, "FETCH X-GM-THRID: %s is not a number",
                                  posta__imapd_show_arg(v, b));
    return 0;
}

static int item_gm_labels(posta_imap_decoder *d, const posta_imap_arg *name,
                          const posta_imap_arg *v, struct fetch_ctx *c)
{
    posta_imap_flagset labels;
    int rc = posta__imapd_flag_list(d, v, "FETCH X-GM-LABELS", 0, &labels);
    if (rc)
        return rc;
    c->f->x_gm_labels = labels.v;
    c->f->nx_gm_labels = labels.count;
    return 0;
}

static int section_data(posta_imap_decoder *d, const posta_imap_arg *name,
                        const posta_imap_arg *v, posta_imap_section *s)
{
    char b[POSTA_IMAPD_SHOW], c[POSTA_IMAPD_SHOW];
    switch (v->type) {
    case POSTA_IMAP_ARG_NIL:
        s->nil = 1;
        return 0;
    case POSTA_IMAP_ARG_LITERAL_STREAMED:
        s->streamed = 1;
        s->literal8 = v->literal8;
        s->size = v->size;
        s->data.ptr = "";
        return 0;
    case POSTA_IMAP_ARG_LIST:
        return posta__imapd_proto(d, "FETCH %s: expected a string, got %s",
                                  posta__imapd_show_arg(name, b),
                                  posta__imapd_show_arg(v, c));
    default:
        s->literal8 = v->type == POSTA_IMAP_ARG_LITERAL && v->literal8;
        s->size = v->len;
        return posta__imapd_ref(d, v->str ? v->str : "", v->str ? v->len : 0, &s->data);
    }
}

static int add_section(posta_imap_decoder *d, const posta_imap_arg *name,
                       const posta_imap_arg *v, struct fetch_ctx *c,
                       posta_imap_section_kind kind, size_t prefix)
{
    posta_imap_section *s = &c->sections[c->f->nsections];
    int rc;
    s->kind = kind;
    if ((rc = posta__imapd_ref(d, name->str, name->len, &s->item)) != 0)
        return rc;
    if (prefix) {
        struct section_name sn;
        rc = split_section(d, name, prefix, kind == POSTA_IMAP_SECTION_BINARY, &sn);
        if (rc)
            return rc;
        s->section = sn.section;
        s->part = sn.part;
        s->nparts = sn.nparts;
        s->spec = sn.spec;
        s->has_origin = sn.has_origin;
        s->origin = sn.origin;
    } else {
        /* RFC822, RFC822.HEADER, RFC822.TEXT: BODY[], BODY[HEADER], BODY[TEXT] */
        static const char *const spec[] = {"", "HEADER", "TEXT"};
        const char *sp = spec[kind - POSTA_IMAP_SECTION_RFC822];
        s->section.ptr = s->spec.ptr = sp;
        s->section.len = s->spec.len = strlen(sp);
    }
    if ((rc = section_data(d, name, v, s)) != 0)
        return rc;
    c->f->nsections++;
    return 0;
}

static int item_body_section(posta_imap_decoder *d, const posta_imap_arg *name,
                             const posta_imap_arg *v, struct fetch_ctx *c)
{
    return add_section(d, name, v, c, POSTA_IMAP_SECTION_BODY, 5);   /* "BODY[" */
}

static int item_binary_section(posta_imap_decoder *d, const posta_imap_arg *name,
                               const posta_imap_arg *v, struct fetch_ctx *c)
{
    return add_section(d, name, v, c, POSTA_IMAP_SECTION_BINARY, 7);   /* "BINARY[" */
}

static int item_rfc822(posta_imap_decoder *d, const posta_imap_arg *name,
                       const posta_imap_arg *v, struct fetch_ctx *c)
{
    posta_imap_section_kind k = posta__imapd_arg_eq(name, "RFC822") ? POSTA_IMAP_SECTION_RFC822
                                : posta__imapd_arg_eq(name, "RFC822.HEADER")
                                    ? POSTA_IMAP_SECTION_RFC822_HEADER
                                    : POSTA_IMAP_SECTION_RFC822_TEXT;
    return add_section(d, name, v, c, k, 0);
}

static int item_binary_size(posta_imap_decoder *d, const posta_imap_arg *name,
                            const posta_imap_arg *v, struct fetch_ctx *c)
{
    posta_imap_binary_size *bs = &c->binary_sizes[c->f->nbinary_sizes];
    struct section_name sn;
    int rc = split_section(d, name, 12, 1, &sn);   /* "BINARY.SIZE[" */
    if (rc)
        return rc;
    if (sn.has_origin)
        return posta__imapd_proto(d, "FETCH BINARY.SIZE with an origin");
    bs->section = sn.section;
    bs->part = sn.part;
    bs->nparts = sn.nparts;
    if ((rc = posta__imapd_number64(d, v, "FETCH BINARY.SIZE", &bs->size)) != 0)
        return rc;
    c->f->nbinary_sizes++;
    return 0;
}

static const struct fetch_item {
    const char *name;     /* exact name, or prefix when prefix is set */
    int prefix;
    unsigned bit;         /* POSTA_IMAP_FETCH_*, 0 for array items */
    item_fn *fn;
} fetch_items[] = {
    {"FLAGS", 0, POSTA_IMAP_FETCH_FLAGS, item_flags},
    {"UID", 0, POSTA_IMAP_FETCH_UID, item_uid},
    {"INTERNALDATE", 0, POSTA_IMAP_FETCH_INTERNALDATE, item_internaldate},
    {"RFC822.SIZE", 0, POSTA_IMAP_FETCH_RFC822_SIZE, item_size},
    {"ENVELOPE", 0, POSTA_IMAP_FETCH_ENVELOPE, item_envelope},
    {"BODY", 0, POSTA_IMAP_FETCH_BODY, item_body},
    {"BODYSTRUCTURE", 0, POSTA_IMAP_FETCH_BODYSTRUCTURE, item_body},
    {"MODSEQ", 0, POSTA_IMAP_FETCH_MODSEQ, item_modseq},
    {"EMAILID", 0, POSTA_IMAP_FETCH_EMAILID, item_emailid},
    {"THREADID", 0, POSTA_IMAP_FETCH_THREADID, item_threadid},
    {"PREVIEW", 0, POSTA_IMAP_FETCH_PREVIEW, item_preview},
    {"SAVEDATE", 0, POSTA_IMAP_FETCH_SAVEDATE, item_savedate},
    {"X-GM-MSGID", 0, POSTA_IMAP_FETCH_X_GM_MSGID, item_gm_msgid},
    {"X-GM-THRID", 0, POSTA_IMAP_FETCH_X_GM_THRID, item_gm_thrid},
    {"X-GM-LABELS", 0, POSTA_IMAP_FETCH_X_GM_LABELS, item_gm_labels},
    {"RFC822", 0, 0, item_rfc822},
    {"RFC822.HEADER", 0, 0, item_rfc822},
    {"RFC822.TEXT", 0, 0, item_rfc822},
    {"BODY[", 1, 0, item_body_section},
    {"BINARY[", 1, 0, item_binary_section},
    {"BINARY.SIZE[", 1, 0, item_binary_size},
};

static const struct fetch_item *find_item(const posta_imap_arg *name)
{
    for (size_t i = 0; i < sizeof(fetch_items) / sizeof(fetch_items[0]); i++) {
        const struct fetch_item *it = &fetch_items[i];
        size_t n = strlen(it->name);
        if (it->prefix ? name->len >= n && posta__imapd_eq(name->str, n, it->name)
                       : posta__imapd_eq(name->str, name->len, it->name))
            return it;
    }
    return NULL;
}

/* Size the arrays: every item could be a section, a BINARY.SIZE or an
 * unknown one, so half the list bounds each; one allocation each keeps
 * the arena simple. */
static int fetch_arrays(posta_imap_decoder *d, size_t npairs, struct fetch_ctx *c)
{
    c->sections = posta__imapd_array(d, npairs, sizeof(*c->sections));
    c->binary_sizes = c->sections ? posta__imapd_array(d, npairs, sizeof(*c->binary_sizes))
                                  : NULL;
    c->other = c->binary_sizes ? posta__imapd_array(d, npairs, sizeof(*c->other)) : NULL;
    return c->other ? 0 : d->err.code;
}

/*
 * message-data = nz-number SP ("EXPUNGE" / ("FETCH" SP msg-att))
 * msg-att      = "(" (msg-att-dynamic / msg-att-static)
 *                    *(SP (msg-att-dynamic / msg-att-static)) ")"
 */
int posta_imap_decode_fetch(posta_imap_decoder *d, const posta_imap_response *r,
                            posta_imap_fetch_data *fetch_r)
{
    char b[POSTA_IMAPD_SHOW];
    POSTA_IMAPD_BEGIN(d, r, fetch_r);
    int rc = posta__imapd_expect(d, r, "FETCH", 1);
    if (rc)
        return rc;
    posta_imap_fetch_data *f = fetch_r;
    if (r->number == 0)
        return posta__imapd_proto(d, "FETCH for message number 0");
    f->seq = r->number;
    if (r->nargs < 1 || !posta__imapd_is_list(&r->args[0]))
        return posta__imapd_proto(d, "FETCH %u: expected a parenthesized item list", r->number);
    const posta_imap_arg *l = &r->args[0];
    struct fetch_ctx c = {.f = f};
    if ((rc = fetch_arrays(d, l->count / 2 + 1, &c)) != 0)
        return rc;
    f->sections = c.sections;
    f->binary_sizes = c.binary_sizes;
    f->other = c.other;
    for (size_t i = 0; i < l->count; i += 2) {
        const posta_imap_arg *name = &l->list[i];
        if (!posta__imapd_is_text(name) || name->type != POSTA_IMAP_ARG_ATOM)
            return posta__imapd_proto(d, "FETCH %u: expected an item name, got %s", r->number,
                                      posta__imapd_show_arg(name, b));
        if (i + 1 >= l->count)
            return posta__imapd_proto(d, "FETCH %u: item %s has no value", r->number,
                                      posta__imapd_show_arg(name, b));
        const posta_imap_arg *v = &l->list[i + 1];
        const struct fetch_item *it = find_item(name);
        if (it && it->bit == POSTA_IMAP_FETCH_PREVIEW && posta__imapd_is_list(v) &&
            i + 2 < l->count && posta__imapd_is_stringish(&l->list[i + 2])) {
            v = &l->list[++i + 1];   /* draft form: PREVIEW (FUZZY) "text" */
        }
        if (!it) {
            posta_imap_item *o = &c.other[f->nother];
            if ((rc = posta__imapd_ref(d, name->str, name->len, &o->name)) != 0)
                return rc;
            o->value = v;
            f->nother++;
            continue;
        }
        if ((rc = it->fn(d, name, v, &c)) != 0)
            return rc;
        if (it->fn == item_body)   /* one body field: the last of the two wins */
            f->present &= ~(POSTA_IMAP_FETCH_BODY | POSTA_IMAP_FETCH_BODYSTRUCTURE);
        f->present |= it->bit;
    }
    return 0;
}
