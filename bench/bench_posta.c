/* posta's side of the benchmarks (bench/README.md): IMAP response parsing,
 * IMAP FETCH of a large message with a streaming sink, POP3 RETR, and the
 * generators for the test data.  Results are printed as key=value pairs on
 * one line for bench/run.sh. */
#include <posta/imap.h>
#include <posta/imap_data.h>
#include <posta/imap_parser.h>
#include <posta/pop3.h>
#include <posta/stream.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"

#define FEED_CHUNK 16384 /* what posta's IMAP driver reads at a time */

static void usage(void)
{
    fprintf(stderr,
            "usage: bench_posta imap-parse meta|literals parse|typed N REPS\n"
            "       bench_posta imap-fetch HOST:PORT CAFILE USER PASS UID\n"
            "       bench_posta pop3-retr HOST:PORT CAFILE USER PASS MSGNO\n"
            "       bench_posta gen-message PATH BYTES\n"
            "       bench_posta gen-small PATH BYTES crlf|lf\n"
            "       bench_posta dump-transcript meta|literals N\n");
    exit(2);
}

/* --- IMAP response parsing ----------------------------------------------- */

struct parse_ctx {
    posta_imap_decoder *dec; /* NULL: generic tree only */
    uint64_t responses;
    uint64_t fetches;
    uint64_t uid_sum;
    int failed;
};

/* The UID of a FETCH from the generic tree: the atom after "UID". */
static uint32_t tree_uid(const posta_imap_response *r)
{
    if (r->nargs < 1 || r->args[0].type != POSTA_IMAP_ARG_LIST)
        return 0;
    const posta_imap_arg *l = r->args[0].list;
    for (size_t i = 0; i + 1 < r->args[0].count; i += 2) {
        if (l[i].type == POSTA_IMAP_ARG_ATOM && l[i].len == 3 && memcmp(l[i].str, "UID", 3) == 0)
            return (uint32_t)strtoul(l[i + 1].str, NULL, 10);
    }
    return 0;
}

static int on_response(posta_imap_parser *p, const posta_imap_response *r, void *user)
{
    struct parse_ctx *c = user;
    (void)p;
    c->responses++;
    if (r->kind != POSTA_IMAP_RESP_UNTAGGED || r->keyword_len != 5 ||
        memcmp(r->keyword, "FETCH", 5) != 0)
        return 0;
    c->fetches++;
    if (c->dec == NULL) {
        c->uid_sum += tree_uid(r);
        return 0;
    }
    posta_imap_decoder_reset(c->dec);
    posta_imap_fetch_data f;
    if (posta_imap_decode_fetch(c->dec, r, &f) != 0) {
        if (!c->failed)
            fprintf(stderr, "decode_fetch: %s\n", posta_imap_decoder_errmsg(c->dec));
        c->failed = 1;
        return 0;
    }
    c->uid_sum += f.uid;
    return 0;
}

static int parse_all(const bench_buf *t, struct parse_ctx *c)
{
    posta_imap_parser_callbacks cb = { .on_response = on_response };
    posta_imap_parser *p;
    if (posta_imap_parser_new(&p, &cb, NULL, c) != 0)
        return -1;
    int rc = 0;
    for (size_t off = 0; off < t->len; off += FEED_CHUNK) {
        size_t n = t->len - off < FEED_CHUNK ? t->len - off : FEED_CHUNK;
        long got = posta_imap_parser_feed(p, t->data + off, n);
        if (got != (long)n) {
            fprintf(stderr, "parser: %s\n", posta_imap_parser_errmsg(p));
            rc = -1;
            break;
        }
    }
    posta_imap_parser_free(p);
    return rc;
}

/* The measured functions: callgrind counts instructions from their entry
 * to their return (--toggle-collect=bench_measure_*). */
__attribute__((noinline)) int bench_measure_posta_parse(const bench_buf *t, struct parse_ctx *c)
{
    c->dec = NULL;
    return parse_all(t, c);
}

__attribute__((noinline)) int bench_measure_posta_typed(const bench_buf *t, struct parse_ctx *c)
{
    if (posta_imap_decoder_new(&c->dec, 0, 0) != 0)
        return -1;
    int rc = parse_all(t, c);
    posta_imap_decoder_free(c->dec);
    c->dec = NULL;
    return rc;
}

static int cmd_imap_parse(int argc, char **argv)
{
    if (argc != 4)
        usage();
    const char *kind = argv[0];
    int typed = strcmp(argv[1], "typed") == 0;
    if (!typed && strcmp(argv[1], "parse") != 0)
        usage();
    unsigned n = (unsigned)strtoul(argv[2], NULL, 10);
    int reps = atoi(argv[3]);
    if (reps < 1)
        reps = 1;
    bench_buf t = { 0 };
    uint64_t want_sum;
    if (bench_transcript(kind, n, &t, &want_sum) != 0)
        usage();
    long rss0 = bench_maxrss_kib();
    double *secs = calloc((size_t)reps, sizeof *secs);
    struct parse_ctx c;
    for (int r = 0; r < reps; r++) {
        memset(&c, 0, sizeof c);
        double t0 = bench_now();
        int rc = typed ? bench_measure_posta_typed(&t, &c) : bench_measure_posta_parse(&t, &c);
        secs[r] = bench_now() - t0;
        if (rc != 0 || c.failed)
            return 1;
    }
    if (c.fetches != n || c.uid_sum != want_sum) {
        fprintf(stderr, "imap-parse: got %" PRIu64 " FETCH, uid sum %" PRIu64
                        "; want %u, %" PRIu64 "\n", c.fetches, c.uid_sum, n, want_sum);
        return 1;
    }
    double med = bench_median(secs, (size_t)reps);
    printf("bytes=%zu responses=%" PRIu64 " fetches=%" PRIu64 " uid_sum=%" PRIu64
           " seconds=%.6f mbps=%.2f rss_growth_kib=%ld rss_kib=%ld\n",
           t.len, c.responses, c.fetches, c.uid_sum, med, (double)t.len / 1e6 / med,
           bench_maxrss_kib() - rss0, bench_maxrss_kib());
    free(secs);
    bench_buf_free(&t);
    return 0;
}

/* --- IMAP FETCH of a large message ----------------------------------------- */

struct fetch_ctx {
    uint64_t bytes;
    int done;
    int error;
};

static int sink_data(posta_imap *h, const void *buf, size_t len, void *user)
{
    (void)h;
    (void)buf;
    ((struct fetch_ctx *)user)->bytes += len;
    return 0;
}

static void fetch_done(posta_imap *h, const posta_imap_result *r, void *user)
{
    struct fetch_ctx *c = user;
    (void)h;
    c->done = 1;
    c->error = r->error;
    if (r->error)
        fprintf(stderr, "UID FETCH: %.*s\n", (int)r->text_len, r->text);
}

static int cmd_imap_fetch(int argc, char **argv)
{
    if (argc != 5)
        usage();
    unsigned uid = (unsigned)strtoul(argv[4], NULL, 10);
    double t0 = bench_now();
    posta_imap *h;
    if (posta_imap_new(&h, NULL, NULL, NULL) != 0)
        return 1;
    posta_stream_set_ca(posta_imap_stream(h), argv[1], NULL);
    posta_imap_set_tls(h, POSTA_IMAP_TLS_IMPLICIT);
    int rc = posta_imap_connect(h, argv[0]);
    if (rc == 0)
        rc = posta_imap_login(h, argv[2], argv[3]);
    if (rc == 0)
        rc = posta_imap_select(h, "INBOX", 1);
    if (rc != 0) {
        fprintf(stderr, "imap: %s\n", posta_imap_errmsg(h));
        return 1;
    }
    struct fetch_ctx c = { 0 };
    posta_imap_sink sink = { .data = sink_data, .user = &c };
    posta_imap_cmd_opts o = { .done = fetch_done, .sink = &sink, .user = &c, .timeout_ms = -1 };
    rc = posta_imap_submit(h, &o, "UID FETCH %u BODY.PEEK[]", uid);
    while (rc == 0 && !c.done)
        rc = posta_imap_process(h, -1);
    if (rc != 0 || c.error != 0) {
        fprintf(stderr, "imap: %s\n", posta_imap_errmsg(h));
        return 1;
    }
    posta_imap_logout(h);
    posta_imap_free(h);
    double secs = bench_now() - t0;
    printf("bytes=%" PRIu64 " seconds=%.6f rss_kib=%ld\n", c.bytes, secs, bench_maxrss_kib());
    return c.bytes > 0 ? 0 : 1;
}

/* --- POP3 RETR ---------------------------------------------------------------- */

static int pop3_sink(posta_pop3 *h, const void *data, size_t len, void *user)
{
    (void)h;
    (void)data;
    *(uint64_t *)user += len;
    return 0;
}

static int cmd_pop3_retr(int argc, char **argv)
{
    if (argc != 5)
        usage();
    uint32_t msg = (uint32_t)strtoul(argv[4], NULL, 10);
    double t0 = bench_now();
    posta_pop3 *h;
    if (posta_pop3_new(&h, NULL, NULL, NULL) != 0)
        return 1;
    posta_stream_set_ca(posta_pop3_stream(h), argv[1], NULL);
    posta_pop3_set_tls(h, POSTA_POP3_TLS_IMPLICIT);
    posta_pop3_set_timeouts(h, -1, -1);
    uint64_t bytes = 0;
    int rc = posta_pop3_connect(h, argv[0]);
    if (rc == 0)
        rc = posta_pop3_login(h, argv[2], argv[3]);
    if (rc == 0)
        rc = posta_pop3_retr(h, msg, pop3_sink, &bytes);
    if (rc != 0) {
        fprintf(stderr, "pop3: %s\n", posta_pop3_errmsg(h));
        return 1;
    }
    posta_pop3_quit(h);
    posta_pop3_free(h);
    double secs = bench_now() - t0;
    printf("bytes=%" PRIu64 " seconds=%.6f rss_kib=%ld\n", bytes, secs, bench_maxrss_kib());
    return bytes > 0 ? 0 : 1;
}

/* --- generators ------------------------------------------------------------ */

static int cmd_gen_message(int argc, char **argv)
{
    if (argc != 2)
        usage();
    if (bench_write_message(argv[0], strtoull(argv[1], NULL, 10)) != 0) {
        perror(argv[0]);
        return 1;
    }
    return 0;
}

/* The SMTP benchmark's message as a file, for curl (crlf) and smtp-source -F
 * (lf: it appends CRLF to each line itself, so both send the same bytes). */
static int cmd_gen_small(int argc, char **argv)
{
    if (argc != 3)
        usage();
    bench_buf m = { 0 };
    bench_small_message(&m, (size_t)strtoul(argv[1], NULL, 10), 1);
    int lf = strcmp(argv[2], "lf") == 0;
    FILE *f = fopen(argv[0], "wb");
    if (f == NULL) {
        perror(argv[0]);
        return 1;
    }
    for (size_t i = 0; i < m.len; i++)
        if (!(lf && m.data[i] == '\r'))
            fputc(m.data[i], f);
    bench_buf_free(&m);
    return fclose(f) == 0 ? 0 : 1;
}

static int cmd_dump(int argc, char **argv)
{
    if (argc != 2)
        usage();
    bench_buf t = { 0 };
    uint64_t sum;
    if (bench_transcript(argv[0], (unsigned)strtoul(argv[1], NULL, 10), &t, &sum) != 0)
        usage();
    fwrite(t.data, 1, t.len, stdout);
    bench_buf_free(&t);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        usage();
    const char *cmd = argv[1];
    argc -= 2;
    argv += 2;
    if (strcmp(cmd, "imap-parse") == 0)
        return cmd_imap_parse(argc, argv);
    if (strcmp(cmd, "imap-fetch") == 0)
        return cmd_imap_fetch(argc, argv);
    if (strcmp(cmd, "pop3-retr") == 0)
        return cmd_pop3_retr(argc, argv);
    if (strcmp(cmd, "gen-message") == 0)
        return cmd_gen_message(argc, argv);
    if (strcmp(cmd, "gen-small") == 0)
        return cmd_gen_small(argc, argv);
    if (strcmp(cmd, "dump-transcript") == 0)
        return cmd_dump(argc, argv);
    usage();
    return 2;
}
