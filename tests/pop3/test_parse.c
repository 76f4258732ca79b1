/* The POP3 response parser on fixtures, each fed whole, split at every byte
 * and one byte at a time, which must all give the same events. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pop3/parse.h"
#include "t.h"

/* Records events as text; adjacent data pieces are merged so that the
 * way the input was split does not show. */
struct rec {
    char log[8192];
    size_t len;
    const char *modes;   /* what each status line returns: s l b p (pause) */
    int in_data;
    int paused;
};

static void put(struct rec *r, const char *s, size_t n)
{
    for (size_t i = 0; i < n && r->len + 5 < sizeof(r->log); i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\r')
            r->len += (size_t)snprintf(r->log + r->len, sizeof(r->log) - r->len, "\\r");
        else if (c == '\n')
            r->len += (size_t)snprintf(r->log + r->len, sizeof(r->log) - r->len, "\\n");
        else
            r->log[r->len++] = (char)c;
    }
    r->log[r->len] = '\0';
}

static void event(struct rec *r, const char *s)
{
    r->in_data = 0;
    put(r, s, strlen(s));
}

static int rec_status(void *ctx, const struct pop3_status *st)
{
    struct rec *r = ctx;
    char m = *r->modes ? *r->modes++ : 's';
    event(r, st->kind == POP3_OK ? "OK" : st->kind == POP3_ERR ? "ERR" : "CONT");
    if (st->code) {
        event(r, "[");
        put(r, st->code, st->code_len);
        event(r, "]");
    }
    event(r, "{");
    put(r, st->text, st->text_len);
    event(r, "} ");
    r->paused = m == 'p';
    return m == 'l' ? POP3_MODE_LINES : m == 'b' ? POP3_MODE_BODY : m == 'p' ? POP3_PAUSE
                                                                             : POP3_MODE_STATUS;
}

static int rec_line(void *ctx, const char *line, size_t len)
{
    struct rec *r = ctx;
    event(r, "L{");
    put(r, line, len);
    event(r, "} ");
    return 0;
}

static int rec_data(void *ctx, const char *p, size_t n)
{
    struct rec *r = ctx;
    if (!r->in_data) {
        event(r, "D{");
        r->in_data = 1;
    } else {
        r->len -= 2;   /* reopen the previous "} " */
    }
    put(r, p, n);
    put(r, "} ", 2);
    return 0;
}

static int rec_end(void *ctx)
{
    event(ctx, "E ");
    return 0;
}

static const struct pop3_parser_ops ops = {rec_status, rec_line, rec_data, rec_end};

struct fixture {
    const char *in;
    const char *modes;
    const char *want;      /* event log; for errors "!" and the error code */
    int allow_cont;
};

static const struct fixture fixtures[] = {
    /* status lines */
    {"+OK\r\n", "", "OK{} ", 0},
    {"+OK POP3 ready <1896.697170952@dbc.mtview.ca.us>\r\n", "",
     "OK{POP3 ready <1896.697170952@dbc.mtview.ca.us>} ", 0},
    {"-ERR\r\n", "", "ERR{} ", 0},
    {"-ERR [IN-USE] mailbox locked\r\n", "", "ERR[IN-USE]{mailbox locked} ", 0},
    {"-ERR [SYS/TEMP] try later\r\n", "", "ERR[SYS/TEMP]{try later} ", 0},
    {"-ERR [AUTH]\r\n", "", "ERR[AUTH]{} ", 0},
    {"-ERR [] empty\r\n", "", "ERR{[] empty} ", 0},
    {"-ERR [unterminated code\r\n", "", "ERR{[unterminated code} ", 0},
    {"-ERR text [NOT-A-CODE]\r\n", "", "ERR{text [NOT-A-CODE]} ", 0},
    {"+ok lower case\n", "", "OK{lower case} ", 0},
    {"+OK 2 320\r\n-ERR no\r\n", "", "OK{2 320} ERR{no} ", 0},
    /* continuations only when allowed */
    {"+ dGVzdA==\r\n+\r\n+OK\r\n", "", "CONT{dGVzdA==} CONT{} OK{} ", 1},
    {"+ dGVzdA==\r\n", "", "!-109", 0},
    /* malformed status lines */
    {"OK\r\n", "", "!-109", 0},
    {"+OKAY\r\n", "", "!-109", 0},
    {"-ERROR\r\n", "", "!-109", 0},
    {"\r\n", "", "!-109", 0},
    /* multi-line, line by line */
    {"+OK 2 messages\r\n1 120\r\n2 200\r\n.\r\n", "l", "OK{2 messages} L{1 120} L{2 200} E ", 0},
    {"+OK\r\n..dot\r\n.\r\n+OK next\r\n", "l", "OK{} L{.dot} E OK{next} ", 0},
    {"+OK\r\n.\r\n", "l", "OK{} E ", 0},
    {"+OK\nTOP\nUSER\n.\n", "l", "OK{} L{TOP} L{USER} E ", 0},
    /* multi-line, streamed */
    {"+OK 5 octets\r\nhello\r\n.\r\n", "b", "OK{5 octets} D{hello\\r\\n} E ", 0},
    {"+OK\r\n..leading dot\r\n.\r\n", "b", "OK{} D{.leading dot\\r\\n} E ", 0},
    {"+OK\r\n...\r\n..\r\n.x\r\n.\r\n", "b", "OK{} D{..\\r\\n.\\r\\n" "x\\r\\n} E ", 0},
    {"+OK\r\nend.\r\n.\r\n", "b", "OK{} D{end.\\r\\n} E ", 0},
    {"+OK\r\n\r\n\r\n.\r\n", "b", "OK{} D{\\r\\n\\r\\n} E ", 0},
    {"+OK\r\n.\r\n", "b", "OK{} E ", 0},
    {"+OK\r\na\r\n.\r\r\n.\r\n", "b", "OK{} D{a\\r\\n\\r\\r\\n} E ", 0},
    {"+OK\r\nbare\nlf\n.\n-ERR x\r\n", "b", "OK{} D{bare\\nlf\\n} E ERR{x} ", 0},
    {"+OK\r\nline\r\n. \r\n.\r\n", "b", "OK{} D{line\\r\\n \\r\\n} E ", 0},
    /* a body line may hold anything, even what looks like status */
    {"+OK\r\n+OK not status\r\n-ERR neither\r\n.\r\n", "b",
     "OK{} D{+OK not status\\r\\n-ERR neither\\r\\n} E ", 0},
    /* pause stops right after the line */
    {"+OK Begin TLS\r\nINJECTED\r\n", "p", "OK{Begin TLS} ", 0},
};

/* Feed in pieces of sizes cut1 and the rest (cut1 0: whole; step 1: one
 * byte at a time).  Returns the error or the bytes consumed. */
static long run(const struct fixture *f, size_t cut, int bytewise, struct rec *r, size_t *used)
{
    struct pop3_parser p;
    size_t len = strlen(f->in), at = 0;
    long rc = 0;

    memset(r, 0, sizeof(*r));
    r->modes = f->modes;
    pop3_parser_init(&p, 1000);
    p.allow_cont = f->allow_cont;
    while (at < len) {
        size_t n = bytewise ? 1 : cut && at == 0 ? cut : len - at;
        /* Each piece in its own allocation so an over-read shows under ASan. */
        char *piece = malloc(n);
        memcpy(piece, f->in + at, n);
        rc = pop3_parser_feed(&p, piece, n, &ops, r);
        free(piece);
        if (rc < 0)
            break;
        at += (size_t)rc;
        if (r->paused)
            break;
    }
    *used = at;
    pop3_parser_free(&p);
    return rc;
}

static void check_fixture(const struct fixture *f, size_t idx)
{
    struct rec r;
    size_t used;
    char want_err[32];

    for (size_t cut = 0; cut < strlen(f->in) + 2; cut++) {
        int bytewise = cut == strlen(f->in) + 1;
        long rc = run(f, cut, bytewise, &r, &used);
        if (f->want[0] == '!') {
            snprintf(want_err, sizeof(want_err), "!%ld", rc < 0 ? rc : 0L);
            if (strcmp(want_err, f->want) != 0)
                t_fail(__FILE__, __LINE__, "fixture %zu cut %zu: got %ld, expected %s", idx, cut,
                       rc, f->want);
            continue;
        }
        if (rc < 0 || strcmp(r.log, f->want) != 0)
            t_fail(__FILE__, __LINE__, "fixture %zu cut %zu%s: rc %ld\n  got  %s\n  want %s", idx,
                   cut, bytewise ? " (bytewise)" : "", rc, r.log, f->want);
    }
}

static void test_fixtures(void)
{
    for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++)
        check_fixture(&fixtures[i], i);
}

static void test_pause_position(void)
{
    const struct fixture f = {"+OK Begin TLS\r\nINJECTED\r\n", "p", "", 0};
    struct rec r;
    size_t used;
    run(&f, 0, 0, &r, &used);
    T_EQ_INT(used, 15);
    run(&f, 0, 1, &r, &used);
    T_EQ_INT(used, 15);
}

static void test_line_limit(void)
{
    struct pop3_parser p;
    struct rec r = {.modes = "l"};
    char line[200];
    pop3_parser_init(&p, 64);
    T_EQ_INT(pop3_parser_feed(&p, "+OK\r\n", 5, &ops, &r), 5);
    memset(line, 'x', sizeof(line));
    /* In pieces: the limit holds for held bytes too. */
    T_EQ_INT(pop3_parser_feed(&p, line, 40, &ops, &r), 40);
    T_EQ_INT(pop3_parser_feed(&p, line, 40, &ops, &r), POSTA_ELIMIT);
    T_CONTAINS(p.err.msg, "line longer than 64 bytes");
    T_CONTAINS(p.err.msg, "at byte 45");
    /* Unusable afterwards. */
    T_EQ_INT(pop3_parser_feed(&p, "\r\n", 2, &ops, &r), POSTA_ELIMIT);
    pop3_parser_free(&p);

    /* A body line is never held, whatever its length. */
    struct rec r2 = {.modes = "b"};
    pop3_parser_init(&p, 64);
    T_EQ_INT(pop3_parser_feed(&p, "+OK\r\n", 5, &ops, &r2), 5);
    for (int i = 0; i < 100; i++)
        T_EQ_INT(pop3_parser_feed(&p, line, sizeof(line), &ops, &r2), (long)sizeof(line));
    T_EQ_INT(pop3_parser_feed(&p, "\r\n.\r\n", 5, &ops, &r2), 5);
    T_ASSERT(pop3_parser_idle(&p));
    T_ASSERT(p.line.size <= 64);
    pop3_parser_free(&p);
}

static void test_error_excerpt(void)
{
    struct pop3_parser p;
    struct rec r = {.modes = ""};
    pop3_parser_init(&p, 1000);
    T_EQ_INT(pop3_parser_feed(&p, "* OK IMAP\x01\r\n", 12, &ops, &r), POSTA_EPROTO);
    T_CONTAINS(p.err.msg, "expected +OK or -ERR, got \"* OK IMAP\\x01\"");
    pop3_parser_free(&p);
}

static void test_status_direct(void)
{
    struct pop3_status st;
    T_EQ_INT(pop3_parse_status("-ERR [LOGIN-DELAY] wait", 23, 0, &st), 0);
    T_EQ_INT(st.kind, POP3_ERR);
    T_EQ_MEM(st.code, st.code_len, "LOGIN-DELAY", 11);
    T_EQ_MEM(st.text, st.text_len, "wait", 4);
    T_EQ_INT(pop3_parse_status("+", 1, 0, &st), POSTA_EPROTO);
    T_EQ_INT(pop3_parse_status("+", 1, 1, &st), 0);
    T_EQ_INT(st.kind, POP3_CONT);
    T_EQ_INT(pop3_parse_status("+OK", 3, 1, &st), 0);
    T_EQ_INT(st.kind, POP3_OK);
}

int main(int argc, char **argv)
{
    static const struct t_case cases[] = {
        {"fixtures", test_fixtures},
        {"pause_position", test_pause_position},
        {"line_limit", test_line_limit},
        {"error_excerpt", test_error_excerpt},
        {"status_direct", test_status_direct},
        {NULL, NULL},
    };
    return t_main(argc, argv, cases);
}
