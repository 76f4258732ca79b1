/* UTF-8 validation and IMAP modified UTF-7 mailbox names (RFC 3501 5.1.3),
 * strict both ways so that every name has exactly one spelling. */
#include <posta/util.h>

#include <stdlib.h>

#include "util.h"

/* Modified BASE64: RFC 2045 base64 with "," in place of "/", no padding. */
static const char mb64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";


/* --- UTF-8 ---------------------------------------------------------------- */

/*
 * Decode one code point at s[*i].  The table of RFC 3629 section 4 is
 * applied through the allowed range of the second byte, which is where
 * overlong forms, surrogates and values above U+10FFFF show up.
 */
static const char *utf8_next(const unsigned char *s, size_t len, size_t *i, uint32_t *cp_r)
{
    unsigned char c = s[*i];
    int n;
    uint32_t cp;
    unsigned char lo = 0x80, hi = 0xbf;

    if (c < 0x80) {
        *cp_r = c;
        (*i)++;
        return NULL;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        n = 1;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 2;
        cp = c & 0x0f;
        if (c == 0xe0)
            lo = 0xa0;
        if (c == 0xed)
            hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 3;
        cp = c & 0x07;
        if (c == 0xf0)
            lo = 0x90;
        if (c == 0xf4)
            hi = 0x8f;
    } else {
        return c >= 0x80 && c <= 0xbf ? "UTF-8 continuation byte without a lead byte"
                                      : "invalid UTF-8 lead byte";
    }
    if (len - *i <= (size_t)n) {
        for (size_t k = *i + 1; k < len; k++)
            if ((s[k] & 0xc0) != 0x80)
                return "invalid UTF-8 sequence";
        return "truncated UTF-8 sequence";
    }
    for (int k = 1; k <= n; k++) {
        unsigned char b = s[*i + (size_t)k];
        if (k == 1 ? (b < lo || b > hi) : (b & 0xc0) != 0x80)
            return k == 1 && (b & 0xc0) == 0x80
                       ? "overlong, surrogate or out-of-range UTF-8 sequence"
                       : "invalid UTF-8 sequence";
        cp = (cp << 6) | (b & 0x3f);
    }
    *i += (size_t)n + 1;
    *cp_r = cp;
    return NULL;
}

int posta_utf8_check(const void *data, size_t len, posta_conv_error *err)
{
    const unsigned char *s = data;
    size_t i = 0;
    uint32_t cp;

    if (!data && len)
        return POSTA_EINVAL;
    while (i < len) {
        size_t at = i;
        const char *why = utf8_next(s, len, &i, &cp);
        if (why)
            return posta__conv_fail(err, why, at);
    }
    return 0;
}

static int utf8_put(struct posta_buf *b, uint32_t cp)
{
    unsigned char u[4];
    size_t n;

    if (cp < 0x80) {
        u[0] = (unsigned char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (unsigned char)(0xc0 | (cp >> 6));
        u[1] = (unsigned char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (unsigned char)(0xe0 | (cp >> 12));
        u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        u[2] = (unsigned char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        u[0] = (unsigned char)(0xf0 | (cp >> 18));
        u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
        u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        u[3] = (unsigned char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    return posta__buf_append(b, u, n);
}

/* Hand the buffer over as a NUL-terminated malloc'd result. */
static int finish(struct posta_buf *b, char **out_r, size_t *out_len_r)
{
    int rc = posta__buf_append(b, "", 1);
    if (rc < 0) {
        posta__buf_free(b);
        return rc;
    }
    *out_r = (char *)b->data;
    *out_len_r = b->len - 1;
    return 0;
}

static int printable(uint32_t c)
{
    return c >= 0x20 && c <= 0x7e;
}

/* --- encoder -------------------------------------------------------------- */

/* An open "&..." section: bits not yet written as a character. */
struct b64_state {
    int open;
    uint32_t bits;
    int nbits;
};

static int b64_put16(struct posta_buf *b, struct b64_state *st, uint32_t unit)
{
    char out[3];
    size_t n = 0;

    st->bits = (st->bits << 16) | unit;
    st->nbits += 16;
    while (st->nbits >= 6) {
        st->nbits -= 6;
        out[n++] = mb64_alphabet[(st->bits >> st->nbits) & 63];
    }
    st->bits &= (1u << st->nbits) - 1;
    return posta__buf_append(b, out, n);
}

static int b64_close(struct posta_buf *b, struct b64_state *st)
{
    char out[2];
    size_t n = 0;

    if (!st->open)
        return 0;
    if (st->nbits > 0)
        out[n++] = mb64_alphabet[(st->bits << (6 - st->nbits)) & 63];
    out[n++] = '-';
    st->open = 0;
    st->bits = 0;
    st->nbits = 0;
    return posta__buf_append(b, out, n);
}

static int encode_cp(struct posta_buf *b, struct b64_state *st, uint32_t cp)
{
    int rc;

    if (printable(cp)) {
        if ((rc = b64_close(b, st)) < 0)
            return rc;
        return cp == '&' ? posta__buf_append(b, "&-", 2) : posta__buf_append(b, &(char){(char)cp}, 1);
    }
    if (!st->open) {
        if ((rc = posta__buf_append(b, "&", 1)) < 0)
            return rc;
        st->open = 1;
    }
    if (cp < 0x10000)
        return b64_put16(b, st, cp);
    cp -= 0x10000;
    if ((rc = b64_put16(b, st, 0xd800 | (cp >> 10))) < 0)
        return rc;
    return b64_put16(b, st, 0xdc00 | (cp & 0x3ff));
}

int posta_mutf7_encode(const char *utf8, size_t len, char **out_r, size_t *out_len_r,
                       posta_conv_error *err)
{
    const unsigned char *s = (const unsigned char *)utf8;
    struct posta_buf b;
    struct b64_state st = {0, 0, 0};
    size_t i = 0;
    int rc = 0;

    if (!out_r || !out_len_r || (!utf8 && len))
        return POSTA_EINVAL;
    *out_r = NULL;
    *out_len_r = 0;
    posta__buf_init(&b, 0);
    while (i < len && rc == 0) {
        size_t at = i;
        uint32_t cp;
        const char *why = utf8_next(s, len, &i, &cp);
        if (why)
            rc = posta__conv_fail(err, why, at);
        else if (cp == 0)
            rc = posta__conv_fail(err, "NUL in a mailbox name", at);
        else
            rc = encode_cp(&b, &st, cp);
    }
    if (rc == 0)
        rc = b64_close(&b, &st);
    if (rc < 0) {
        posta__buf_free(&b);
        return rc;
    }
    return finish(&b, out_r, out_len_r);
}

/* --- decoder -------------------------------------------------------------- */

/* Decoding state of one "&...-" section. */
struct section {
    uint32_t bits;
    int nbits;
    uint32_t high;      /* a high surrogate waiting for its low half, or 0 */
};

/* One UTF-16 unit out of a section: pair surrogates, refuse what the
 * encoder would have written differently. */
static int decode_unit(struct posta_buf *b, struct section *sec, uint32_t unit,
                       size_t at, posta_conv_error *err)
{
    if (sec->high) {
        if (unit < 0xdc00 || unit > 0xdfff)
            return posta__conv_fail(err, "UTF-16 high surrogate not followed by a low surrogate", at);
        uint32_t cp = 0x10000 + ((sec->high - 0xd800) << 10) + (unit - 0xdc00);
        sec->high = 0;
        return utf8_put(b, cp);
    }
    if (unit >= 0xd800 && unit <= 0xdbff) {
        sec->high = unit;
        return 0;
    }
    if (unit >= 0xdc00 && unit <= 0xdfff)
        return posta__conv_fail(err, "UTF-16 low surrogate without a high surrogate", at);
    if (printable(unit))
        return posta__conv_fail(err, "printable ASCII encoded in modified BASE64", at);
    if (unit == 0)
        return posta__conv_fail(err, "NUL in a mailbox name", at);
    return utf8_put(b, unit);
}

/* Decode the section starting after the "&" at s[*i]; leaves *i after its
 * "-". */
static int decode_section(struct posta_buf *b, const unsigned char *s, size_t len,
                          size_t *i, posta_conv_error *err)
{
    struct section sec = {0, 0, 0};
    size_t start = *i - 1;

    for (;; (*i)++) {
        if (*i >= len)
            return posta__conv_fail(err, "modified BASE64 section not terminated by \"-\"", start);
        if (s[*i] == '-')
            break;
        int v = posta__b64_value(s[*i], ',');
        if (v < 0)
            return posta__conv_fail(err, "invalid character in a modified BASE64 section", *i);
        sec.bits = (sec.bits << 6) | (uint32_t)v;
        sec.nbits += 6;
        if (sec.nbits >= 16) {
            sec.nbits -= 16;
            int rc = decode_unit(b, &sec, (sec.bits >> sec.nbits) & 0xffff, *i, err);
            if (rc < 0)
                return rc;
            sec.bits &= (1u << sec.nbits) - 1;
        }
    }
    if (sec.high)
        return posta__conv_fail(err, "UTF-16 high surrogate at the end of a section", *i - 1);
    if (sec.nbits >= 6)
        return posta__conv_fail(err, "modified BASE64 section has a superfluous character", *i - 1);
    if (sec.bits != 0)
        return posta__conv_fail(err, "nonzero padding bits at the end of a modified BASE64 section", *i - 1);
    (*i)++;
    return 0;
}

static int decode_all(struct posta_buf *b, const unsigned char *s, size_t len,
                      posta_conv_error *err)
{
    size_t i = 0;
    int after_section = 0;

    while (i < len) {
        unsigned char c = s[i];
        int rc;
        if (!printable(c))
            return posta__conv_fail(err, "byte outside printable US-ASCII in a modified UTF-7 name", i);
        if (c != '&') {
            rc = posta__buf_append(b, &c, 1);
            i++;
            after_section = 0;
        } else if (i + 1 < len && s[i + 1] == '-') {
            rc = posta__buf_append(b, "&", 1);
            i += 2;
            after_section = 0;
        } else if (after_section) {
            return posta__conv_fail(err, "two modified BASE64 sections in a row must be one", i);
        } else {
            i++;
            rc = decode_section(b, s, len, &i, err);
            after_section = 1;
        }
        if (rc < 0)
            return rc;
    }
    return 0;
}

int posta_mutf7_decode(const char *mutf7, size_t len, char **out_r, size_t *out_len_r,
                       posta_conv_error *err)
{
    struct posta_buf b;

    if (!out_r || !out_len_r || (!mutf7 && len))
        return POSTA_EINVAL;
    *out_r = NULL;
    *out_len_r = 0;
    posta__buf_init(&b, 0);
    int rc = decode_all(&b, (const unsigned char *)mutf7, len, err);
    if (rc < 0) {
        posta__buf_free(&b);
        return rc;
    }
    return finish(&b, out_r, out_len_r);
}
