/* Message data safety: the canonicalizer and the header scanner, by
 * example and by property over random bytes (no end-of-data sequence or
 * bare CR/LF can reach the wire; un-stuffing gives the canonical input;
 * chunking never changes the result). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/smtp_int.h"
#include "t.h"

/* The reference: every line ending (CRLF, LF, CR) becomes CRLF, and a last
 * line without one gets it. */
static size_t reference(const unsigned char *in, size_t n, unsigned char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (in[i] == '\r') {
            if (i + 1 < n && in[i + 1] == '\n')
                i++;
            out[o++] = '\r';
            out[o++] = '\n';
        } else if (in[i] == '\n') {
            out[o++] = '\r';
            out[o++] = '\n';
        } else {
            out[o++] = in[i];
        }
    }
    if (o && !(o >= 2 && out[o - 2] == '\r' && out[o - 1] == '\n')) {
        out[o++] = '\r';
        out[o++] = '\n';
    }
    return o;
}

/* Canonicalize in pieces whose sizes come from cuts (NULL: whole). */
static int canon(const unsigned char *in, size_t n, int dot, int fold, unsigned seed,
                 struct posta_buf *out)
{
    struct smtp_canon c;
    smtp_canon_init(&c, dot, fold);
    size_t off = 0;
    while (off < n) {
        size_t k = seed ? 1 + (size_t)(rand_r(&seed) % 7) : n - off;
        if (k > n - off)
            k = n - off;
        int rc = smtp_canon_feed(&c, in + off, k, out);
        if (rc < 0)
            return rc;
        off += k;
    }
    return smtp_canon_finish(&c, out);
}

static void expect(const char *in, int dot, const char *want)
{
    struct posta_buf out;
    posta__buf_init(&out, 0);
    T_EQ_INT(canon((const unsigned char *)in, strlen(in), dot, 0, 0, &out), 0);
    T_EQ_MEM(posta__buf_head(&out), posta__buf_used(&out), want, strlen(want));
    posta__buf_free(&out);
}

static void test_examples(void)
{
    expect("a\nb", 1, "a\r\nb\r\n");
    expect("a\r\nb\r\n", 1, "a\r\nb\r\n");
    expect("\r", 1, "\r\n");
    expect("a\r\r\nb", 1, "a\r\n\r\nb\r\n");
    expect(".\n", 1, "..\r\n");
    expect("x\n.\n", 1, "x\r\n..\r\n");
    expect("x\r\n.\r\ny", 1, "x\r\n..\r\ny\r\n");
    expect("x\r.\ry", 1, "x\r\n..\r\ny\r\n");
    expect("x\n.\ry", 1, "x\r\n..\r\ny\r\n");
    expect("x\r\n.\ny", 1, "x\r\n..\r\ny\r\n");
    expect("..a\n", 1, "...a\r\n");
    expect("a.b\n", 1, "a.b\r\n");
    expect(".\n", 0, ".\r\n");
    expect("", 1, "");
}

static void test_long_lines(void)
{
    unsigned char line[2500];
    memset(line, 'a', sizeof(line));
    line[998] = '.';   /* the fold lands before a dot: it must be stuffed */
    struct posta_buf out;
    posta__buf_init(&out, 0);
    T_EQ_INT(canon(line, sizeof(line), 1, 0, 0, &out), POSTA_ELIMIT);
    posta__buf_reset(&out);
    /* exactly 998 octets is fine */
    T_EQ_INT(canon(line, 998, 1, 0, 0, &out), 0);
    T_EQ_INT(posta__buf_used(&out), 1000);
    posta__buf_reset(&out);
    T_EQ_INT(canon(line, sizeof(line), 1, 1, 0, &out), 0);
    const unsigned char *o = posta__buf_head(&out);
    T_ASSERT(memcmp(o + 998, "\r\n..", 4) == 0);
    /* every physical line is at most 998 octets plus the stuffed dot */
    size_t col = 0;
    for (size_t i = 0; i < posta__buf_used(&out); i++) {
        if (o[i] == '\r')
            col = 0, i++;
        else
            T_ASSERT(++col <= 999);
    }
    posta__buf_free(&out);
}

/* Random bytes drawn mostly from the characters that matter. */
static size_t random_message(unsigned *seed, unsigned char *buf, size_t max)
{
    static const unsigned char alpha[] = {'\r', '\n', '.', 'a', 'b', ' ', 0, 0xff, 0xc3, '\t'};
    size_t n = (size_t)rand_r(seed) % max;
    for (size_t i = 0; i < n; i++) {
        unsigned r = (unsigned)rand_r(seed);
        buf[i] = r % 4 == 0 ? (unsigned char)(r >> 8) : alpha[(r >> 3) % sizeof(alpha)];
    }
    return n;
}

static void check_wire(const unsigned char *w, size_t n, const unsigned char *canon_in, size_t cn)
{
    /* No bare CR or LF. */
    for (size_t i = 0; i < n; i++) {
        if (w[i] == '\r' && (i + 1 >= n || w[i + 1] != '\n'))
            t_fail(__FILE__, __LINE__, "bare CR at %zu", i);
        if (w[i] == '\n' && (i == 0 || w[i - 1] != '\r'))
            t_fail(__FILE__, __LINE__, "bare LF at %zu", i);
    }
    /* With the terminator the engine adds, the first end-of-data is the
     * real one: "\r\n.\r\n" cannot occur earlier (the DATA command's own
     * CRLF counts as the start of the first line). */
    if (n > (size_t)1 << 30) {
        t_fail(__FILE__, __LINE__, "canonical output of %zu bytes is implausible", n);
        return;
    }
    unsigned char *full = malloc(n + 5);
    if (!full) {
        t_fail(__FILE__, __LINE__, "out of memory");
        return;
    }
    memcpy(full, "\r\n", 2);
    memcpy(full + 2, w, n);
    memcpy(full + 2 + n, ".\r\n", 3);
    size_t total = n + 5;
    for (size_t i = 0; i + 5 <= total; i++)
        if (memcmp(full + i, "\r\n.\r\n", 5) == 0 && i + 5 != total)
            t_fail(__FILE__, __LINE__, "end of data inside the message at %zu", i);
    free(full);
    /* Un-stuffing gives back the canonical input. */
    unsigned char *un = malloc(n + 1);
    if (!un) {
        t_fail(__FILE__, __LINE__, "out of memory");
        return;
    }
    size_t u = 0;
    int bol = 1;
    for (size_t i = 0; i < n; i++) {
        if (bol && w[i] == '.') {
            bol = 0;
            continue;   /* every line that starts with a dot was stuffed */
        }
        un[u++] = w[i];
        bol = w[i] == '\n';
    }
    T_EQ_MEM(un, u, canon_in, cn);
    free(un);
}

static void test_property(void)
{
    unsigned seed = 20240131;
    unsigned char *in = malloc(4096), *ref = malloc(8200);
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = random_message(&seed, in, 4096);
        size_t rn = reference(in, n, ref);
        struct posta_buf whole, pieces, bdat;
        posta__buf_init(&whole, 0);
        posta__buf_init(&pieces, 0);
        posta__buf_init(&bdat, 0);
        T_EQ_INT(canon(in, n, 1, 0, 0, &whole), 0);
        T_EQ_INT(canon(in, n, 1, 0, (unsigned)iter + 1, &pieces), 0);
        T_EQ_INT(canon(in, n, 0, 0, (unsigned)iter + 7, &bdat), 0);
        T_EQ_MEM(posta__buf_head(&whole), posta__buf_used(&whole), posta__buf_head(&pieces),
                 posta__buf_used(&pieces));
        T_EQ_MEM(posta__buf_head(&bdat), posta__buf_used(&bdat), ref, rn);
        check_wire(posta__buf_head(&whole), posta__buf_used(&whole), ref, rn);
        posta__buf_free(&whole);
        posta__buf_free(&pieces);
        posta__buf_free(&bdat);
        if (t_failures)
            break;
    }
    free(in);
    free(ref);
}

/* --- the header scanner ------------------------------------------------------- */

struct scanned {
    char hdr[512];
    size_t prefix;      /* SIZE_MAX: none */
    size_t body_at;     /* raw offset where the body starts */
};

static int scan(const char *in, size_t cut, struct scanned *s)
{
    struct posta_buf b;
    struct smtp_scan sc;
    posta__buf_init(&b, 0);
    smtp_scan_init(&sc, &b, 4096);
    size_t n = strlen(in), off = 0;
    while (off < n && !sc.done) {
        size_t k = cut ? cut : n;
        if (k > n - off)
            k = n - off;
        long used = smtp_scan_feed(&sc, (const unsigned char *)in + off, k);
        if (used < 0) {
            posta__buf_free(&b);
            return (int)used;
        }
        off += (size_t)used;
        if ((size_t)used < k && !sc.done)
            return -999;
    }
    if (!sc.done)
        smtp_scan_eof(&sc);
    snprintf(s->hdr, sizeof(s->hdr), "%.*s", (int)posta__buf_used(&b),
             b.data ? (const char *)posta__buf_head(&b) : "");
    s->prefix = sc.prefix;
    s->body_at = off;
    posta__buf_free(&b);
    return 0;
}

static void expect_scan(const char *in, const char *hdr, size_t prefix, size_t body_at)
{
    for (size_t cut = 0; cut <= strlen(in); cut++) {
        struct scanned s;
        T_EQ_INT(scan(in, cut, &s), 0);
        if (strcmp(s.hdr, hdr) != 0 || s.prefix != prefix || s.body_at != body_at)
            t_fail(__FILE__, __LINE__, "scan of \"%s\" (cut %zu): \"%s\" prefix %zu body %zu", in,
                   cut, s.hdr, s.prefix, s.body_at);
    }
}

static void test_scan(void)
{
    const size_t none = SIZE_MAX;
    expect_scan("A: b\r\n\r\nbody", "A: b\r\n", none, 8);
    expect_scan("A: b\n\nbody", "A: b\r\n", none, 6);
    expect_scan("A: b\n X\n\nbody", "A: b\r\n X\r\n", none, 9);
    expect_scan("A: b\r\rbody", "A: b\r\n", none, 6);           /* bare CR line ends */
    expect_scan("A: b\n\r\n.\r\n", "A: b\r\n", none, 7);
    expect_scan("A: b\nnot a header\nmore", "A: b\r\nnot a header\r\n", 6, 18);
    expect_scan(".\r\nrest", ".\r\n", 0, 3);                     /* a dot line is body */
    expect_scan("A: b", "A: b\r\n", none, 4);                     /* no body at all */
    expect_scan("", "", none, 0);
    expect_scan("Subject : obsolete\n\nx", "Subject : obsolete\r\n", none, 20);
    expect_scan(" leading continuation\n\n", " leading continuation\r\n", 0, 22);
}

static void test_scan_limit(void)
{
    char big[3000];
    memset(big, 'x', sizeof(big));
    memcpy(big, "X-Big: ", 7);
    big[sizeof(big) - 1] = '\0';
    struct posta_buf b;
    struct smtp_scan sc;
    posta__buf_init(&b, 0);
    smtp_scan_init(&sc, &b, 1024);
    T_EQ_INT(smtp_scan_feed(&sc, (const unsigned char *)big, strlen(big)), POSTA_ELIMIT);
    posta__buf_free(&b);
}

int main(int argc, char **argv)
{
    static const struct t_case cases[] = {
        {"examples", test_examples},
        {"long_lines", test_long_lines},
        {"property", test_property},
        {"scan", test_scan},
        {"scan_limit", test_scan_limit},
        {NULL, NULL},
    };
    return t_main(argc, argv, cases);
}
