/* Tests of the IMAP response parser's API: every fixture gives the same
 * events however its bytes are split, callbacks can pause, stop and free,
 * limits hold, and huge literals and lines cost linear time and bounded
 * memory. */
#include <posta/imap_parser.h>

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "t.h"

/* ---- a canonical record of everything the parser reports ---- */

struct rec {
    char *s;
    size_t len, size;
    uint64_t lit_sum;   /* FNV-1a of the streamed literal in progress */
    uint64_t lit_bytes;
    posta_imap_parser *p;
    int stop_after;     /* on_response returns stop_rc after this many */
    int stop_rc;
    int nresp;
    int free_in_cb;
    long reenter_rc;
};

static void rec_add(struct rec *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rec_add(struct rec *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (r->len + (size_t)n + 1 > r->size) {
        r->size = (r->len + (size_t)n + 1) * 2;
        r->s = realloc(r->s, r->size);
        if (!r->s)
            abort();
    }
    va_start(ap, fmt);
    vsnprintf(r->s + r->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    r->len += (size_t)n;
}

static void rec_reserve(struct rec *r, size_t n)
{
    if (r->len + n + 1 > r->size) {
        r->size = (r->len + n + 1) * 2;
        r->s = realloc(r->s, r->size);
        if (!r->s)
            abort();
    }
}

/* The hot paths below append without printf: the record is built for
 * every one of thousands of runs per fixture. */
static void rec_num(struct rec *r, char tag, uint64_t v)
{
    char tmp[24];
    size_t n = 0;
    do
        tmp[n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    rec_reserve(r, n + 1);
    r->s[r->len++] = tag;
    while (n)
        r->s[r->len++] = tmp[--n];
    r->s[r->len] = '\0';
}

static void rec_bytes(struct rec *r, const char *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    rec_num(r, ' ', n);
    rec_reserve(r, 2 * n + 1);
    r->s[r->len++] = ':';
    for (size_t i = 0; i < n; i++) {
        r->s[r->len++] = hex[(unsigned char)p[i] >> 4];
        r->s[r->len++] = hex[(unsigned char)p[i] & 15];
    }
    r->s[r->len] = '\0';
    if (p && p[n] != '\0')
        rec_add(r, "!unterminated");
}

static void rec_args(struct rec *r, const posta_imap_arg *a, size_t n)
{
    rec_num(r, '(', n);
    for (size_t i = 0; i < n; i++) {
        rec_num(r, 't', a[i].type);
        switch (a[i].type) {
        case POSTA_IMAP_ARG_ATOM:
        case POSTA_IMAP_ARG_STRING:
        case POSTA_IMAP_ARG_LITERAL:
            rec_bytes(r, a[i].str, a[i].len);
            rec_num(r, '/', a[i].size);
            rec_num(r, '/', (uint64_t)a[i].literal8);
            break;
        case POSTA_IMAP_ARG_LITERAL_STREAMED:
            rec_num(r, '/', a[i].size);
            rec_num(r, '/', (uint64_t)a[i].literal8);
            break;
        case POSTA_IMAP_ARG_LIST:
            rec_args(r, a[i].list, a[i].count);
            break;
        case POSTA_IMAP_ARG_NIL:
            break;
        }
    }
    rec_num(r, ')', 0);
}

static int on_response(posta_imap_parser *p, const posta_imap_response *x, void *user)
{
    struct rec *r = user;
    rec_add(r, "R k%d s%d @%llu tag=", (int)x->kind, (int)x->status, (unsigned long long)x->offset);
    rec_bytes(r, x->tag, x->tag_len);
    rec_add(r, " code=");
    rec_bytes(r, x->code, x->code_len);
    rec_add(r, " raw=");
    rec_bytes(r, x->code_raw, x->code_raw_len);
    rec_args(r, x->code_args, x->code_nargs);
    rec_add(r, " text=");
    rec_bytes(r, x->text, x->text_len);
    rec_add(r, " n%d/%u kw=", x->has_number, x->number);
    rec_bytes(r, x->keyword, x->keyword_len);
    rec_args(r, x->args, x->nargs);
    rec_add(r, "\n");
    r->nresp++;
    if (r->reenter_rc == 0)
        r->reenter_rc = posta_imap_parser_feed(p, "x", 1);
    if (r->free_in_cb && r->nresp == r->free_in_cb)
        posta_imap_parser_free(p);
    if (r->stop_after && r->nresp == r->stop_after)
        return r->stop_rc;
    return 0;
}

static int on_begin(posta_imap_parser *p, const posta_imap_literal_info *i, void *user)
{
    struct rec *r = user;
    rec_add(r, "B n%d/%u kw=%s item=", i->has_number, i->number, i->keyword);
    rec_bytes(r, i->item, i->item_len);
    rec_add(r, " size=%llu l8=%d @%llu\n", (unsigned long long)i->size, i->literal8,
            (unsigned long long)i->offset);
    r->lit_sum = 1469598103934665603ull;
    r->lit_bytes = 0;
    return 0;
}

static int on_data(posta_imap_parser *p, const void *data, size_t len, void *user)
{
    struct rec *r = user;
    const unsigned char *d = data;
    for (size_t i = 0; i < len; i++)
        r->lit_sum = (r->lit_sum ^ d[i]) * 1099511628211ull;
    r->lit_bytes += len;
    return 0;
}

static int on_end(posta_imap_parser *p, void *user)
{
    struct rec *r = user;
    rec_add(r, "E %llu %016llx\n", (unsigned long long)r->lit_bytes, (unsigned long long)r->lit_sum);
    return 0;
}

static const posta_imap_parser_callbacks all_cb = {on_response, on_begin, on_data, on_end};

/* Feed data in the pieces cuts[] gives (ascending offsets); returns the
 * record, ending with the final status. */
static char *run(const char *data, size_t n, const size_t *cuts, size_t ncuts,
                 const posta_imap_limits *lim)
{
    struct rec r = {.reenter_rc = 1};
    posta_imap_parser *p;
    if (posta_imap_parser_new(&p, &all_cb, lim, &r) != 0)
        abort();
    size_t from = 0;
    long rc = 0;
    for (size_t k = 0; k <= ncuts && rc >= 0; k++) {
        size_t to = k < ncuts ? cuts[k] : n;
        rc = posta_imap_parser_feed(p, data + from, to - from);
        if (rc >= 0 && (size_t)rc != to - from)
            rec_add(&r, "short feed %ld of %zu\n", rc, to - from);
        from = to;
    }
    rec_add(&r, "= %ld %s @%llu idle=%d\n", rc < 0 ? rc : 0, rc < 0 ? posta_imap_parser_errmsg(p) : "",
            (unsigned long long)posta_imap_parser_offset(p), posta_imap_parser_idle(p));
    posta_imap_parser_free(p);
    if (!r.s)
        r.s = strdup("");
    return r.s;
}

static int check_same(const char *what, const char *name, const char *want, char *got)
{
    int same = strcmp(want, got) == 0;
    if (!same) {
        t_fail(__FILE__, __LINE__, "%s: %s differs from the whole feed", name, what);
        fprintf(stderr, "--- whole\n%.2000s\n--- %s\n%.2000s\n", want, what, got);
    }
    free(got);
    return same;
}

/* Whole, split at every byte into two, one byte at a time, random chunks.
 * Past 4 KiB the two-piece splits take the first and last 256 bytes and
 * some 600 points between, or the run would be quadratic in the size. */
static int check_splits(const char *name, const char *data, size_t n, const posta_imap_limits *lim)
{
    char *want = run(data, n, NULL, 0, lim);
    size_t *cuts = malloc((n + 1) * sizeof(*cuts));
    int ok = 1;
    char what[64];

    size_t stride = n > 4096 ? n / 600 + 1 : 1;
    for (size_t k = 0; k <= n && ok; k++) {
        if (k > 256 && k + 256 < n && k % stride)
            continue;
        cuts[0] = k;
        snprintf(what, sizeof(what), "split at byte %zu", k);
        ok = check_same(what, name, want, run(data, n, cuts, 1, lim));
    }
    for (size_t k = 0; k < n; k++)
        cuts[k] = k + 1;
    if (ok && n)
        ok = check_same("one byte at a time", name, want, run(data, n, cuts, n - 1, lim));
    unsigned seed = 1;
    for (int round = 0; round < 8 && ok; round++) {
        size_t nc = 0;
        for (size_t at = 0;;) {
            seed = seed * 1103515245u + 12345u;
            at += 1 + (seed >> 16) % (round < 4 ? 7 : 300);
            if (at >= n)
                break;
            cuts[nc++] = at;
        }
        snprintf(what, sizeof(what), "random chunks, round %d", round);
        ok = check_same(what, name, want, run(data, n, cuts, nc, lim));
    }
    free(cuts);
    free(want);
    return ok;
}

static void t_fixtures(void)
{
    const char *src = getenv("POSTA_SOURCE_DIR");
    char dir[1024], path[1024 + 300];
    snprintf(dir, sizeof(dir), "%s/tests/imap/fixtures", src ? src : ".");
    DIR *d = opendir(dir);
    struct dirent *e;
    int count = 0;
    posta_imap_limits streamy = {.inline_literal = 3};

    T_ASSERT(d != NULL);
    while (d && (e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l < 4 || strcmp(e->d_name + l - 3, ".in") != 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        size_t n;
        char *data = t_read_file(path, &n);
        T_ASSERT(data != NULL);
        if (data) {
            check_splits(e->d_name, data, n, NULL);
            check_splits(e->d_name, data, n, &streamy);
        }
        free(data);
        count++;
    }
    if (d)
        closedir(d);
    T_ASSERT(count >= 80);
}

/* ---- the API ---- */

static char *run_str(const char *s, const posta_imap_limits *lim)
{
    return run(s, strlen(s), NULL, 0, lim);
}

static void t_literal_context(void)
{
    posta_imap_limits lim = {.inline_literal = 2};
    char *got = run_str("* 12 FETCH (UID 9 BODY[1.2]<0> {3}\r\nabc BINARY[2] ~{4}\r\nwxyz ENVELOPE (NIL {5}\r\n"
                        "hello))\r\n* METADATA INBOX (/private/comment {5}\r\nhello)\r\n", &lim);
    T_CONTAINS(got, "B n1/12 kw=FETCH item= 12:424f44595b312e325d3c303e size=3 l8=0 @36\n");
    T_CONTAINS(got, "B n1/12 kw=FETCH item= 9:42494e4152595b325d size=4 l8=1 @56\n");
    T_CONTAINS(got, "B n1/12 kw=FETCH item= 8:454e56454c4f5045 size=5 l8=0 @80\n");
    T_CONTAINS(got, "B n0/0 kw=METADATA item= 0: size=5 l8=0");
    free(got);
}

static void t_offsets(void)
{
    char *got = run_str("* OK hi\r\n\r\na1 OK\n* 2 EXISTS\r\n", NULL);
    T_CONTAINS(got, "R k2 s1 @0 ");
    T_CONTAINS(got, "R k1 s1 @11 ");
    T_CONTAINS(got, "R k2 s0 @17 ");
    T_CONTAINS(got, "= 0  @29 idle=1\n");
    free(got);
}

static void t_pause(void)
{
    struct rec r = {.stop_after = 1, .stop_rc = POSTA_EAGAIN, .reenter_rc = 1};
    posta_imap_parser *p;
    const char *in = "* 1 EXISTS\r\n* 2 EXISTS\r\n";

    T_EQ_INT(posta_imap_parser_new(&p, &all_cb, NULL, &r), 0);
    T_EQ_INT(posta_imap_parser_feed(p, in, strlen(in)), 12);
    T_EQ_INT(r.nresp, 1);
    T_EQ_INT(posta_imap_parser_idle(p), 1);
    T_EQ_INT(posta_imap_parser_feed(p, in + 12, strlen(in) - 12), 12);
    T_EQ_INT(r.nresp, 2);
    posta_imap_parser_free(p);
    free(r.s);
}

static int pause_data(posta_imap_parser *p, const void *data, size_t len, void *user)
{
    (void)on_data(p, data, len, user);
    return POSTA_EAGAIN;
}

static void t_pause_literal(void)
{
    struct rec r = {.reenter_rc = 1};
    posta_imap_parser_callbacks cb = {on_response, on_begin, pause_data, on_end};
    posta_imap_limits lim = {.inline_literal = 1};
    posta_imap_parser *p;
    const char *in = "* 1 FETCH (BODY[] {6}\r\nabcdef)\r\n";
    size_t at = 0, len = strlen(in);
    int feeds = 0;

    T_EQ_INT(posta_imap_parser_new(&p, &cb, &lim, &r), 0);
    /* The header then every chunk pauses: feed the rest in pieces of 4. */
    while (at < len && feeds < 100) {
        size_t n = len - at < 4 ? len - at : 4;
        long rc = posta_imap_parser_feed(p, in + at, n);
        T_ASSERT(rc >= 0);
        if (rc < 0)
            break;
        at += (size_t)rc;
        feeds++;
    }
    T_EQ_INT(at, len);
    T_EQ_INT(r.nresp, 1);
    T_EQ_INT(r.lit_bytes, 6);
    posta_imap_parser_free(p);
    free(r.s);
}

static void t_stop(void)
{
    struct rec r = {.stop_after = 1, .stop_rc = POSTA_ENO, .reenter_rc = 1};
    posta_imap_parser *p;
    T_EQ_INT(posta_imap_parser_new(&p, &all_cb, NULL, &r), 0);
    T_EQ_INT(posta_imap_parser_feed(p, "* 1 EXISTS\r\n* 2", 16), POSTA_ENO);
    T_CONTAINS(posta_imap_parser_errmsg(p), "stopped by its callback");
    T_EQ_INT(posta_imap_parser_feed(p, "x", 1), POSTA_ENO);
    posta_imap_parser_free(p);
    free(r.s);
}

static void t_free_in_callback(void)
{
    struct rec r = {.free_in_cb = 1, .reenter_rc = 1};
    posta_imap_parser *p;
    T_EQ_INT(posta_imap_parser_new(&p, &all_cb, NULL, &r), 0);
    T_EQ_INT(posta_imap_parser_feed(p, "* 1 EXISTS\r\n* 2 EXISTS\r\n", 24), POSTA_ECANCELED);
    T_EQ_INT(r.nresp, 1);
    free(r.s);
}

static void t_reentry(void)
{
    struct rec r = {0};
    posta_imap_parser *p;
    T_EQ_INT(posta_imap_parser_new(&p, &all_cb, NULL, &r), 0);
    T_EQ_INT(posta_imap_parser_feed(p, "* 1 EXISTS\r\n", 12), 12);
    T_EQ_INT(r.reenter_rc, POSTA_ESTATE);
    posta_imap_parser_free(p);
    free(r.s);
}

static void t_args(void)
{
    posta_imap_parser *p = NULL;
    T_EQ_INT(posta_imap_parser_new(NULL, NULL, NULL, NULL), POSTA_EINVAL);
    T_EQ_INT(posta_imap_parser_new(&p, NULL, NULL, NULL), 0);
    T_EQ_INT(posta_imap_parser_feed(p, NULL, 1), POSTA_EINVAL);
    T_EQ_INT(posta_imap_parser_feed(p, NULL, 0), 0);
    T_EQ_INT(posta_imap_parser_feed(NULL, "x", 1), POSTA_EINVAL);
    /* No callbacks: everything parsed and dropped, streamed literals too. */
    const char *in = "* 1 FETCH (BODY[] {100000}\r\n";
    T_EQ_INT(posta_imap_parser_feed(p, in, strlen(in)), (long)strlen(in));
    T_EQ_INT(posta_imap_parser_idle(p), 0);
    posta_imap_parser_free(p);
    posta_imap_parser_free(NULL);
    T_ASSERT(posta_imap_parser_errmsg(NULL) != NULL);
    T_EQ_INT(posta_imap_parser_offset(NULL), 0);
}

/* Each limit: the right code, a sentence naming it and the offset. */
static void t_limits(void)
{
    static const struct {
        posta_imap_limits lim;
        const char *in;
        const char *want;
    } cases[] = {
        {{.max_line = 10}, "* SEARCH 1 2 3\r\n", "-110 IMAP limit exceeded at byte 10: response line longer than 10"},
        {{.max_item = 3}, "* X 1234\r\n", "-110 IMAP limit exceeded at byte 7: atom longer than 3 bytes (max_item)"},
        {{.max_item = 3}, "* X \"1234\"\r\n", "-110 IMAP limit exceeded at byte 8: quoted string longer than 3"},
        {{.max_item = 3}, "* SEARCH 1\r\n", "-110 IMAP limit exceeded at byte 5: keyword longer than 3"},
        {{.max_item = 3}, "abcd OK\r\n", "-110 IMAP limit exceeded at byte 3: tag longer than 3"},
        {{.max_depth = 2}, "* X (((a)))\r\n", "-110 IMAP limit exceeded at byte 6: lists nested deeper than 2"},
        {{.max_items = 2}, "* X a b c\r\n", "-110 IMAP limit exceeded at byte 8: more than 2 nodes"},
        {{.max_response = 40}, "* X {30}\r\n012345678901234567890123456789 {30}\r\n012345678901234567890123456789\r\n",
         "-110 IMAP limit exceeded at byte 41: response larger than 40 bytes (max_response)"},
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        char *got = run_str(cases[k].in, &cases[k].lim);
        T_CONTAINS(got, cases[k].want);
        free(got);
    }
}

static void t_huge_literal_sizes(void)
{
    static const char *const bad[] = {
        "* 1 FETCH (BODY[] {18446744073709551616}\r\n", "* 1 FETCH (BODY[] {9223372036854775808}\r\n",
        "* 1 FETCH (BODY[] {-5}\r\n", "* 1 FETCH (BODY[] {5x}\r\n", "* 1 FETCH (BODY[] {}\r\n",
        "* 1 FETCH (BODY[] ~{+}\r\n",
    };
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        char *got = run_str(bad[k], NULL);
        T_CONTAINS(got, "= -109 IMAP protocol error at byte ");
        free(got);
    }
    /* The largest size allowed is accepted and streamed. */
    char *got = run_str("* 1 FETCH (BODY[] {9223372036854775807}\r\nab", NULL);
    T_CONTAINS(got, "size=9223372036854775807");
    T_CONTAINS(got, "= 0  @43 idle=0");
    free(got);
}

/* ---- scale: 3 GiB streamed, 1 MiB lines byte by byte ---- */

struct count {
    uint64_t bytes, streamed_size;
    int begins, ends, responses;
};

static int c_begin(posta_imap_parser *p, const posta_imap_literal_info *i, void *u)
{
    ((struct count *)u)->begins++;
    return 0;
}
static int c_data(posta_imap_parser *p, const void *d, size_t n, void *u)
{
    ((struct count *)u)->bytes += n;
    return 0;
}
static int c_end(posta_imap_parser *p, void *u)
{
    ((struct count *)u)->ends++;
    return 0;
}
static int c_resp(posta_imap_parser *p, const posta_imap_response *r, void *u)
{
    struct count *c = u;
    c->responses++;
    if (r->nargs == 1 && r->args[0].type == POSTA_IMAP_ARG_LIST && r->args[0].count == 2)
        c->streamed_size = r->args[0].list[1].size;
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long max_rss_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static void t_three_gib_literal(void)
{
    static char chunk[64 * 1024];
    const uint64_t size = 3ull << 30;
    struct count c = {0};
    posta_imap_parser_callbacks cb = {c_resp, c_begin, c_data, c_end};
    posta_imap_parser *p;
    char head[64];
    int hl = snprintf(head, sizeof(head), "* 1 FETCH (BODY[] {%llu}\r\n", (unsigned long long)size);

    memset(chunk, 'x', sizeof(chunk));
    T_EQ_INT(posta_imap_parser_new(&p, &cb, NULL, &c), 0);
    long rss0 = max_rss_kib();
    double t0 = now_s();
    T_EQ_INT(posta_imap_parser_feed(p, head, (size_t)hl), hl);
    for (uint64_t left = size; left;) {
        size_t n = left < sizeof(chunk) ? (size_t)left : sizeof(chunk);
        if (posta_imap_parser_feed(p, chunk, n) != (long)n) {
            T_ASSERT(!"feed failed");
            break;
        }
        left -= n;
    }
    T_EQ_INT(posta_imap_parser_feed(p, ")\r\n", 3), 3);
    long grown = max_rss_kib() - rss0;
    fprintf(stderr, "3 GiB literal in 64 KiB chunks: %.2f s, peak RSS grew %ld KiB\n", now_s() - t0, grown);
    T_ASSERT(grown < 16 * 1024);  /* bounded by the limits, not by the literal */
    T_EQ_INT(c.bytes, size);
    T_EQ_INT(c.begins, 1);
    T_EQ_INT(c.ends, 1);
    T_EQ_INT(c.responses, 1);
    T_EQ_INT(c.streamed_size, size);
    T_EQ_INT(posta_imap_parser_offset(p), (uint64_t)hl + size + 3);
    posta_imap_parser_free(p);
}

/* Linear, not quadratic: the time is printed for bench-style reading, the
 * test itself only checks the result (timed asserts flake). */
static void one_big_line(const char *what, const char *line, size_t n)
{
    posta_imap_limits lim = {.max_line = 4u << 20, .max_item = 4u << 20};
    struct count c = {0};
    posta_imap_parser_callbacks cb = {c_resp, NULL, NULL, NULL};
    posta_imap_parser *p;
    double t[2];

    for (int byte = 0; byte < 2; byte++) {
        T_EQ_INT(posta_imap_parser_new(&p, &cb, &lim, &c), 0);
        double t0 = now_s();
        if (byte) {
            for (size_t i = 0; i < n; i++)
                if (posta_imap_parser_feed(p, line + i, 1) != 1) {
                    T_ASSERT(!"feed failed");
                    break;
                }
        } else
            T_EQ_INT(posta_imap_parser_feed(p, line, n), (long)n);
        t[byte] = now_s() - t0;
        posta_imap_parser_free(p);
    }
    T_EQ_INT(c.responses, 2);
    fprintf(stderr, "1 MiB %s: whole %.3f s, byte by byte %.3f s\n", what, t[0], t[1]);
}

static void t_big_lines(void)
{
    size_t n = 1u << 20;
    char *line = malloc(n + 16);

    /* SEARCH with ~150,000 numbers */
    size_t at = (size_t)sprintf(line, "* SEARCH");
    for (unsigned k = 1; at < n - 16; k++)
        at += (size_t)sprintf(line + at, " %u", k);
    at += (size_t)sprintf(line + at, "\r\n");
    one_big_line("SEARCH line", line, at);
    /* one quoted string, one atom, one status text */
    static const char *const shapes[][3] = {
        {"quoted string", "* LIST () \"/\" \"", "\"\r\n"},
        {"atom", "* LIST () \"/\" ", "\r\n"},
        {"status text", "* OK ", "\r\n"},
    };
    for (size_t s = 0; s < 3; s++) {
        size_t h = strlen(shapes[s][1]);
        memcpy(line, shapes[s][1], h);
        memset(line + h, 'm', n - h - 4);
        memcpy(line + n - 4, shapes[s][2], strlen(shapes[s][2]));
        one_big_line(shapes[s][0], line, n - 4 + strlen(shapes[s][2]));
    }
    free(line);
}

static const struct t_case cases[] = {
    {"fixtures", t_fixtures},
    {"literal_context", t_literal_context},
    {"offsets", t_offsets},
    {"pause", t_pause},
    {"pause_literal", t_pause_literal},
    {"stop", t_stop},
    {"free_in_callback", t_free_in_callback},
    {"reentry", t_reentry},
    {"args", t_args},
    {"limits", t_limits},
    {"huge_literal_sizes", t_huge_literal_sizes},
    {"three_gib_literal", t_three_gib_literal},
    {"big_lines", t_big_lines},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return t_main(argc, argv, cases);
}
