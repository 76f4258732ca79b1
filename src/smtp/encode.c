/* Text that goes into commands and headers: mailbox and parameter checks,
 * xtext (RFC 3461), RFC 2047 encoded-words, phrases, header folding, dates
 * and Message-Ids. */
#include "smtp_int.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <posta/util.h>

#define SOFT_COLS 78u
#define HARD_COLS 998u

/* --- checks -------------------------------------------------------------------- */

int smtp_non_ascii(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] >= 0x80)
            return 1;
    return 0;
}

int smtp_utf8_valid(const unsigned char *s, size_t len)
{
    return posta_utf8_check(s, len, NULL) == 0;
}

/*
 * An RFC 5321 path without its angle brackets.  posta does not parse the
 * full grammar (servers are the judges of syntax); it refuses what would
 * break the command line or the path's framing: controls (CR, LF, NUL
 * among them), angle brackets, and white space outside a quoted local part.
 */
int smtp_check_mailbox(const char *mb, int allow_empty, int *utf8, char *err, size_t errsz)
{
    size_t len = mb ? strlen(mb) : 0;
    int quoted = 0;

    *utf8 = 0;
    if (len == 0) {
        if (allow_empty)
            return 0;
        snprintf(err, errsz, "empty mailbox");
        return POSTA_EINVAL;
    }
    if (len > 512) {
        snprintf(err, errsz, "mailbox longer than 512 octets");
        return POSTA_EINVAL;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)mb[i];
        if (c < 0x20 || c == 0x7f) {
            snprintf(err, errsz, "control character 0x%02x in mailbox", c);
            return POSTA_EINVAL;
        }
        if (c == '"')
            quoted = !quoted;
        else if (c == '\\' && quoted && i + 1 < len)
            i++;
        else if (!quoted && (c == '<' || c == '>' || c == ' ')) {
            snprintf(err, errsz, "'%c' in mailbox outside a quoted local part", c);
            return POSTA_EINVAL;
        }
        if (c >= 0x80)
            *utf8 = 1;
    }
    if (quoted) {
        snprintf(err, errsz, "unterminated quoted local part in mailbox");
        return POSTA_EINVAL;
    }
    if (*utf8 && !smtp_utf8_valid((const unsigned char *)mb, len)) {
        snprintf(err, errsz, "mailbox is not valid UTF-8");
        return POSTA_EINVAL;
    }
    return 0;
}

/* esmtp-keyword ["=" esmtp-value]: keyword is ALPHA / DIGIT / "-" starting
 * with a letter or digit; value is %d33-60 / %d62-126. */
int smtp_check_param(const char *param)
{
    const char *p = param;
    if (!p || !((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
        return POSTA_EINVAL;
    while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
           *p == '-')
        p++;
    if (*p == '\0')
        return 0;
    if (*p++ != '=' || *p == '\0')
        return POSTA_EINVAL;
    for (; *p; p++)
        if ((unsigned char)*p < 33 || (unsigned char)*p > 126 || *p == '=')
            return POSTA_EINVAL;
    return 0;
}

int smtp_check_field_name(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 76)
        return POSTA_EINVAL;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)name[i] <= 32 || (unsigned char)name[i] >= 127 || name[i] == ':')
            return POSTA_EINVAL;
    return 0;
}

/* --- xtext ---------------------------------------------------------------------- */

int smtp_xtext(struct posta_buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        int rc;
        if (c >= 33 && c <= 126 && c != '+' && c != '=') {
            rc = posta__buf_append(b, &s[i], 1);
        } else {
            char e[3] = {'+', hex[c >> 4], hex[c & 15]};
            rc = posta__buf_append(b, e, 3);
        }
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* --- dates and ids ---------------------------------------------------------------- */

void smtp_format_date(time_t t, char *out, size_t outsz)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm tm;
    localtime_r(&t, &tm);
    long off = tm.tm_gmtoff / 60;
    char sign = off < 0 ? '-' : '+';
    if (off < 0)
        off = -off;
    snprintf(out, outsz, "%s, %d %s %04d %02d:%02d:%02d %c%02ld%02ld", days[tm.tm_wday % 7],
             tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
             tm.tm_sec, sign, off / 60, off % 60);
}

void smtp_make_msgid(const char *host, char *out, size_t outsz)
{
    unsigned char r[12];
    char hex[25];
    if (RAND_bytes(r, sizeof(r)) != 1) {
        /* Uniqueness, not secrecy, is what matters here. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        memcpy(r, &ts.tv_nsec, sizeof(ts.tv_nsec) < sizeof(r) ? sizeof(ts.tv_nsec) : sizeof(r));
    }
    for (size_t i = 0; i < sizeof(r); i++)
        snprintf(hex + 2 * i, 3, "%02x", r[i]);
    /* An address literal is not a valid id-right: the host name, else a
     * name that cannot clash with a real one. */
    char name[256] = "";
    const char *right = host;
    if (!host || !host[0] || host[0] == '[') {
        if (gethostname(name, sizeof(name)) != 0 || !name[0] || strpbrk(name, "[]<>@ \t"))
            snprintf(name, sizeof(name), "posta.invalid");
        name[sizeof(name) - 1] = '\0';
        right = name;
    }
    snprintf(out, outsz, "<%lld.%s@%s>", (long long)time(NULL), hex, right);
}

/* --- folding --------------------------------------------------------------------- */

void smtp_fold_begin(struct smtp_fold *f, struct posta_buf *out, const char *name)
{
    f->out = out;
    f->soft = SOFT_COLS;
    f->col = 0;
    posta__buf_appendf(out, "%s:", name);
    f->col = strlen(name) + 1;
}

int smtp_fold_token(struct smtp_fold *f, const char *tok, size_t len, int sep)
{
    int rc;
    if (sep && f->col + 1 + len > f->soft) {
        rc = posta__buf_append(f->out, "\r\n ", 3);
        f->col = 1;
    } else if (sep) {
        rc = posta__buf_append(f->out, " ", 1);
        f->col++;
    } else {
        rc = 0;
    }
    if (rc < 0)
        return rc;
    if (f->col + len > HARD_COLS)
        return POSTA_ELIMIT;
    f->col += len;
    return posta__buf_append(f->out, tok, len);
}

int smtp_fold_end(struct smtp_fold *f)
{
    return posta__buf_append(f->out, "\r\n", 2);
}

/* Length of the longest prefix of s[0..len) not over max bytes that ends
 * on a UTF-8 character boundary. */
static size_t utf8_cut(const unsigned char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    size_t n = max;
    while (n > 0 && (s[n] & 0xC0) == 0x80)
        n--;
    return n ? n : max;
}

static void b64(const unsigned char *in, size_t n, char *out)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        out[o++] = tab[(v >> 18) & 63];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? tab[v & 63] : '=';
    }
    out[o] = '\0';
}

/* The whole of s as B encoded-words (RFC 2047 5(1) and 5(3)): each at most
 * 75 characters, cut on character boundaries, separated by folding white
 * space that decoders drop between adjacent encoded-words. */
static int fold_encoded(struct smtp_fold *f, const char *s, size_t len, int sep)
{
    const unsigned char *p = (const unsigned char *)s;
    while (len > 0) {
        size_t n = utf8_cut(p, len, 45);   /* 45 octets -> 60 base64 -> 72 total */
        char word[96];
        memcpy(word, "=?UTF-8?B?", 10);
        b64(p, n, word + 10);
        size_t wl = strlen(word);
        memcpy(word + wl, "?=", 3);
        int rc = smtp_fold_token(f, word, wl + 2, sep);
        if (rc < 0)
            return rc;
        sep = 1;
        p += n;
        len -= n;
    }
    return 0;
}

int smtp_fold_text(struct smtp_fold *f, const char *text, int utf8)
{
    size_t len = strlen(text);
    if (!utf8 && smtp_non_ascii(text, len))
        return fold_encoded(f, text, len, 1);
    /* Words separated by white space; each space is a fold point. */
    const char *p = text;
    int any = 0;
    while (*p) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        const char *w = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        int rc = smtp_fold_token(f, w, (size_t)(p - w), 1);
        if (rc < 0)
            return rc;
        any = 1;
    }
    return any ? 0 : smtp_fold_token(f, "", 0, 1);
}

static int atext(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-/=?^_`{|}~", c)) || c >= 0x80;
}

int smtp_fold_phrase(struct smtp_fold *f, const char *phrase, int utf8)
{
    size_t len = strlen(phrase);
    int plain = len > 0;
    for (size_t i = 0; i < len; i++)
        if (!atext((unsigned char)phrase[i]) && phrase[i] != ' ')
            plain = 0;
    int non_ascii = smtp_non_ascii(phrase, len);
    if (non_ascii && !utf8)
        return fold_encoded(f, phrase, len, 1);
    if (plain && phrase[0] != ' ' && phrase[len - 1] != ' ' && !strstr(phrase, "  "))
        return smtp_fold_text(f, phrase, 1);
    /* A quoted-string: backslash before '"' and '\'. */
    struct posta_buf q;
    posta__buf_init(&q, 0);
    int rc = posta__buf_append(&q, "\"", 1);
    for (size_t i = 0; rc == 0 && i < len; i++) {
        if (phrase[i] == '"' || phrase[i] == '\\')
            rc = posta__buf_append(&q, "\\", 1);
        if (rc == 0)
            rc = posta__buf_append(&q, &phrase[i], 1);
    }
    if (rc == 0)
        rc = posta__buf_append(&q, "\"", 1);
    if (rc == 0)
        rc = smtp_fold_token(f, (const char *)posta__buf_head(&q), posta__buf_used(&q), 1);
    posta__buf_free(&q);
    return rc;
}
