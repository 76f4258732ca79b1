/* The SMTP reply parser: fixtures fed whole, split at every byte and one
 * byte at a time must give the same replies; malformed input and limits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/smtp_int.h"
#include "t.h"

struct fixture {
    const char *in;
    int code;
    int enh[3];
    const char *text;
    size_t nlines;
};

static const struct fixture fixtures[] = {
    {"220 mail.example ESMTP ready\r\n", 220, {0, 0, 0}, "mail.example ESMTP ready", 1},
    {"250 2.1.0 Ok\r\n", 250, {2, 1, 0}, "Ok", 1},
    {"550 5.7.1 relay denied\r\n", 550, {5, 7, 1}, "relay denied", 1},
    {"250-mx.example\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250 8BITMIME\r\n", 250, {0, 0, 0},
     "mx.example\nPIPELINING\nSIZE 1000\n8BITMIME", 4},
    {"250 \r\n", 250, {0, 0, 0}, "", 1},
    {"354\r\n", 354, {0, 0, 0}, "", 1},
    {"221 Bye\n", 221, {0, 0, 0}, "Bye", 1},                 /* bare LF accepted */
    {"550 4.1.1 x\r\n", 550, {0, 0, 0}, "4.1.1 x", 1},       /* class must match the code */
    {"451-4.3.0 one\r\n451 4.3.0 two\r\n", 451, {4, 3, 0}, "one\ntwo", 2},
    {"250 2.0.0\r\n", 250, {2, 0, 0}, "", 1},
    {"250 2.100.999 big parts\r\n", 250, {2, 100, 999}, "big parts", 1},
    {"250 2.1000.1 too long a part\r\n", 250, {0, 0, 0}, "2.1000.1 too long a part", 1},
    {"334 dGVzdA==\r\n", 334, {0, 0, 0}, "dGVzdA==", 1},
};

/* Feed in pieces: the first cut at split (0: whole), then step bytes at a
 * time; collect the first complete reply. */
static int feed_split(struct smtp_rparser *p, const char *in, size_t split, size_t step)
{
    size_t len = strlen(in), off = 0;
    while (off < len) {
        size_t n = off == 0 && split ? split : step ? step : len - off;
        if (n > len - off)
            n = len - off;
        int done;
        long used = smtp_rparser_feed(p, in + off, n, &done);
        if (used < 0)
            return (int)used;
        off += (size_t)used;
        if (done)
            return off == len ? 1 : 2;
    }
    return 0;
}

static void check(const struct fixture *f, const struct smtp_rparser *p, const char *how)
{
    if (p->r.code != f->code || p->r.enh[0] != f->enh[0] || p->r.enh[1] != f->enh[1] ||
        p->r.enh[2] != f->enh[2] || p->r.nlines != f->nlines ||
        strcmp((const char *)posta__buf_head(&p->r.text), f->text) != 0)
        t_fail(__FILE__, __LINE__, "%s: \"%s\" parsed as %d %d.%d.%d \"%s\" (%zu lines)", how,
               f->in, p->r.code, p->r.enh[0], p->r.enh[1], p->r.enh[2],
               (const char *)posta__buf_head(&p->r.text), p->r.nlines);
}

static void test_fixtures(void)
{
    for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
        const struct fixture *f = &fixtures[i];
        size_t len = strlen(f->in);
        struct smtp_rparser p;
        for (size_t split = 0; split < len; split++) {
            smtp_rparser_init(&p);
            T_EQ_INT(feed_split(&p, f->in, split, 0), 1);
            check(f, &p, "split");
            smtp_rparser_free(&p);
        }
        smtp_rparser_init(&p);
        T_EQ_INT(feed_split(&p, f->in, 0, 1), 1);
        check(f, &p, "byte by byte");
        smtp_rparser_free(&p);
    }
}

/* Several replies in one buffer: the parser stops after each. */
static void test_stops_after_each(void)
{
    const char *in = "250 2.0.0 Ok\r\n250 2.1.0 Ok\r\n354 go\r\n";
    struct smtp_rparser p;
    smtp_rparser_init(&p);
    int done;
    size_t off = 0;
    int codes[3], n = 0;
    while (off < strlen(in)) {
        long used = smtp_rparser_feed(&p, in + off, strlen(in) - off, &done);
        T_ASSERT(used > 0);
        off += (size_t)used;
        if (done)
            codes[n++] = p.r.code;
    }
    T_EQ_INT(n, 3);
    T_EQ_INT(codes[0], 250);
    T_EQ_INT(codes[2], 354);
    T_EQ_INT(smtp_rparser_buffered(&p), 0);
    smtp_rparser_free(&p);
}

static void expect_error(const char *in, int code)
{
    struct smtp_rparser p;
    smtp_rparser_init(&p);
    int rc = feed_split(&p, in, 0, 0);
    if (rc != code)
        t_fail(__FILE__, __LINE__, "\"%s\": %d, expected %d", in, rc, code);
    T_ASSERT(p.err[0] != '\0');
    smtp_rparser_free(&p);
}

static void test_errors(void)
{
    expect_error("hello\r\n", POSTA_EPROTO);
    expect_error("25\r\n", POSTA_EPROTO);
    expect_error("650 no such class\r\n", POSTA_EPROTO);
    expect_error("260 second digit\r\n", POSTA_EPROTO);
    expect_error("250x\r\n", POSTA_EPROTO);
    expect_error("250-one\r\n251 two\r\n", POSTA_EPROTO);
    expect_error("\r\n", POSTA_EPROTO);
    char nul[] = "250 a\0b\r\n";
    struct smtp_rparser p;
    smtp_rparser_init(&p);
    int done;
    T_EQ_INT(smtp_rparser_feed(&p, nul, sizeof(nul) - 1, &done), POSTA_EPROTO);
    smtp_rparser_free(&p);
}

static void test_limits(void)
{
    struct smtp_rparser p;
    int done;
    /* A line longer than the cap, never terminated. */
    char *big = malloc(SMTP_REPLY_MAX_LINE + 100);
    memset(big, 'x', SMTP_REPLY_MAX_LINE + 100);
    memcpy(big, "250 ", 4);
    smtp_rparser_init(&p);
    T_EQ_INT(smtp_rparser_feed(&p, big, SMTP_REPLY_MAX_LINE + 100, &done), POSTA_ELIMIT);
    smtp_rparser_free(&p);
    free(big);
    /* Too many lines. */
    smtp_rparser_init(&p);
    long rc = 0;
    for (unsigned i = 0; i <= SMTP_REPLY_MAX_LINES && rc >= 0; i++)
        rc = smtp_rparser_feed(&p, "250-x\r\n", 7, &done);
    T_EQ_INT(rc, POSTA_ELIMIT);
    smtp_rparser_free(&p);
    /* Too much text in total. */
    smtp_rparser_init(&p);
    char line[4000];
    memset(line, 'y', sizeof(line));
    memcpy(line, "250-", 4);
    memcpy(line + sizeof(line) - 2, "\r\n", 2);
    rc = 0;
    for (int i = 0; i < 40 && rc >= 0; i++)
        rc = smtp_rparser_feed(&p, line, sizeof(line), &done);
    T_EQ_INT(rc, POSTA_ELIMIT);
    smtp_rparser_free(&p);
}

static void test_reply_lines(void)
{
    struct smtp_rparser p;
    smtp_rparser_init(&p);
    T_EQ_INT(feed_split(&p, "250-a b\r\n250-\r\n250 last\r\n", 0, 0), 1);
    const char *l;
    size_t n;
    T_ASSERT(smtp_reply_line(&p.r, 0, &l, &n) && n == 3 && memcmp(l, "a b", 3) == 0);
    T_ASSERT(smtp_reply_line(&p.r, 1, &l, &n) && n == 0);
    T_ASSERT(smtp_reply_line(&p.r, 2, &l, &n) && n == 4 && memcmp(l, "last", 4) == 0);
    T_ASSERT(!smtp_reply_line(&p.r, 3, &l, &n));
    smtp_rparser_free(&p);
}

int main(int argc, char **argv)
{
    static const struct t_case cases[] = {
        {"fixtures", test_fixtures},
        {"stops_after_each", test_stops_after_each},
        {"errors", test_errors},
        {"limits", test_limits},
        {"reply_lines", test_reply_lines},
        {NULL, NULL},
    };
    return t_main(argc, argv, cases);
}
