/* libetpan's side of the benchmarks (bench/README.md): its IMAP response
 * parser fed the same transcript as posta's, through a public mailimap
 * session over an in-memory mailstream; mailimap_uid_fetch of the large
 * message; mailpop3_retr.  Output as bench_posta's. */
#include <libetpan/libetpan.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"

static void usage(void)
{
    fprintf(stderr,
            "usage: bench_etpan imap-parse meta|literals N REPS\n"
            "       bench_etpan imap-fetch HOST PORT USER PASS UID\n"
            "       bench_etpan pop3-retr HOST PORT USER PASS MSGNO\n");
    exit(2);
}

/* --- an in-memory mailstream: reads serve the transcript, writes vanish --- */

struct mem {
    const char *data;
    size_t len, off;
};

static ssize_t mem_read(mailstream_low *s, void *buf, size_t count)
{
    struct mem *m = s->data;
    size_t n = m->len - m->off;
    if (n > count)
        n = count;
    memcpy(buf, m->data + m->off, n);
    m->off += n;
    return (ssize_t)n;
}

static ssize_t mem_write(mailstream_low *s, const void *buf, size_t count)
{
    (void)s;
    (void)buf;
    return (ssize_t)count;
}

static int mem_close(mailstream_low *s)
{
    (void)s;
    return 0;
}

static int mem_get_fd(mailstream_low *s)
{
    (void)s;
    return -1;
}

static void mem_free(mailstream_low *s)
{
    free(s);
}

static void mem_cancel(mailstream_low *s)
{
    (void)s;
}

static mailstream_low_driver mem_driver = {
    .mailstream_read = mem_read,
    .mailstream_write = mem_write,
    .mailstream_close = mem_close,
    .mailstream_get_fd = mem_get_fd,
    .mailstream_free = mem_free,
    .mailstream_cancel = mem_cancel,
};

struct result {
    uint64_t fetches;
    uint64_t uid_sum;
};

/* One FETCH command answered by the transcript, as an application does it:
 * mailimap_fetch() parses every response into libetpan's typed structures
 * (envelope, bodystructure...) and returns them all in a list. */
__attribute__((noinline)) int bench_measure_etpan(const bench_buf *t, struct result *res)
{
    struct mem m = { t->data, t->len, 0 };
    mailstream_low *low = mailstream_low_new(&m, &mem_driver);
    mailstream *stream = mailstream_new(low, 8192); /* libetpan's socket/TLS streams use 8192 */
    mailimap *imap = mailimap_new(0, NULL);
    int r = mailimap_connect(imap, stream);
    if (r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED) {
        fprintf(stderr, "mailimap_connect: %d\n", r);
        return -1;
    }
    imap->imap_state = MAILIMAP_STATE_SELECTED; /* skip SELECT: the transcript has none */
    struct mailimap_set *set = mailimap_set_new_interval(1, 0);
    struct mailimap_fetch_type *ft = mailimap_fetch_type_new_full();
    clist *list = NULL;
    r = mailimap_fetch(imap, set, ft, &list);
    mailimap_fetch_type_free(ft);
    mailimap_set_free(set);
    if (r != MAILIMAP_NO_ERROR) {
        fprintf(stderr, "mailimap_fetch: %d\n", r);
        return -1;
    }
    for (clistiter *cur = clist_begin(list); cur != NULL; cur = clist_next(cur)) {
        struct mailimap_msg_att *att = clist_content(cur);
        res->fetches++;
        for (clistiter *it = clist_begin(att->att_list); it != NULL; it = clist_next(it)) {
            struct mailimap_msg_att_item *item = clist_content(it);
            if (item->att_type == MAILIMAP_MSG_ATT_ITEM_STATIC &&
                item->att_data.att_static->att_type == MAILIMAP_MSG_ATT_UID)
                res->uid_sum += item->att_data.att_static->att_data.att_uid;
        }
    }
    mailimap_fetch_list_free(list);
    /* Close without LOGOUT (the transcript has no answer to it). */
    mailstream_close(imap->imap_stream);
    imap->imap_stream = NULL;
    mailimap_free(imap);
    return 0;
}

static int cmd_imap_parse(int argc, char **argv)
{
    if (argc != 3)
        usage();
    unsigned n = (unsigned)strtoul(argv[1], NULL, 10);
    int reps = atoi(argv[2]);
    if (reps < 1)
        reps = 1;
    bench_buf t = { 0 };
    uint64_t want_sum;
    if (bench_transcript(argv[0], n, &t, &want_sum) != 0)
        usage();
    long rss0 = bench_maxrss_kib();
    double *secs = calloc((size_t)reps, sizeof *secs);
    struct result res;
    for (int r = 0; r < reps; r++) {
        memset(&res, 0, sizeof res);
        double t0 = bench_now();
        if (bench_measure_etpan(&t, &res) != 0)
            return 1;
        secs[r] = bench_now() - t0;
    }
    if (res.fetches != n || res.uid_sum != want_sum) {
        fprintf(stderr, "imap-parse: got %" PRIu64 " FETCH, uid sum %" PRIu64
                        "; want %u, %" PRIu64 "\n", res.fetches, res.uid_sum, n, want_sum);
        return 1;
    }
    double med = bench_median(secs, (size_t)reps);
    printf("bytes=%zu fetches=%" PRIu64 " uid_sum=%" PRIu64
           " seconds=%.6f mbps=%.2f rss_growth_kib=%ld rss_kib=%ld\n",
           t.len, res.fetches, res.uid_sum, med, (double)t.len / 1e6 / med,
           bench_maxrss_kib() - rss0, bench_maxrss_kib());
    free(secs);
    bench_buf_free(&t);
    return 0;
}

/* --- IMAP FETCH of a large message: libetpan holds it in memory ------------ */

static int cmd_imap_fetch(int argc, char **argv)
{
    if (argc != 5)
        usage();
    double t0 = bench_now();
    mailimap *imap = mailimap_new(0, NULL);
    int r = mailimap_ssl_connect(imap, argv[0], (uint16_t)atoi(argv[1]));
    if (r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED && r != MAILIMAP_NO_ERROR) {
        fprintf(stderr, "mailimap_ssl_connect: %d\n", r);
        return 1;
    }
    if ((r = mailimap_login(imap, argv[2], argv[3])) != MAILIMAP_NO_ERROR) {
        fprintf(stderr, "mailimap_login: %d\n", r);
        return 1;
    }
    if ((r = mailimap_examine(imap, "INBOX")) != MAILIMAP_NO_ERROR) {
        fprintf(stderr, "mailimap_examine: %d\n", r);
        return 1;
    }
    struct mailimap_set *set = mailimap_set_new_single((uint32_t)strtoul(argv[4], NULL, 10));
    struct mailimap_section *section = mailimap_section_new(NULL);
    struct mailimap_fetch_att *fa = mailimap_fetch_att_new_body_peek_section(section);
    struct mailimap_fetch_type *ft = mailimap_fetch_type_new_fetch_att(fa);
    clist *list = NULL;
    r = mailimap_uid_fetch(imap, set, ft, &list);
    mailimap_fetch_type_free(ft);
    mailimap_set_free(set);
    if (r != MAILIMAP_NO_ERROR) {
        fprintf(stderr, "mailimap_uid_fetch: %d\n", r);
        return 1;
    }
    uint64_t bytes = 0;
    for (clistiter *cur = clist_begin(list); cur != NULL; cur = clist_next(cur)) {
        struct mailimap_msg_att *att = clist_content(cur);
        for (clistiter *it = clist_begin(att->att_list); it != NULL; it = clist_next(it)) {
            struct mailimap_msg_att_item *item = clist_content(it);
            if (item->att_type == MAILIMAP_MSG_ATT_ITEM_STATIC &&
                item->att_data.att_static->att_type == MAILIMAP_MSG_ATT_BODY_SECTION)
                bytes += item->att_data.att_static->att_data.att_body_section->sec_length;
        }
    }
    mailimap_fetch_list_free(list);
    mailimap_logout(imap);
    mailimap_free(imap);
    double secs = bench_now() - t0;
    printf("bytes=%" PRIu64 " seconds=%.6f rss_kib=%ld\n", bytes, secs, bench_maxrss_kib());
    return bytes > 0 ? 0 : 1;
}

/* --- POP3 RETR: libetpan returns the whole message in one string ------------ */

static int cmd_pop3_retr(int argc, char **argv)
{
    if (argc != 5)
        usage();
    double t0 = bench_now();
    mailpop3 *pop = mailpop3_new(0, NULL);
    int r = mailpop3_ssl_connect(pop, argv[0], (uint16_t)atoi(argv[1]));
    if (r != MAILPOP3_NO_ERROR) {
        fprintf(stderr, "mailpop3_ssl_connect: %d\n", r);
        return 1;
    }
    if ((r = mailpop3_user(pop, argv[2])) != MAILPOP3_NO_ERROR ||
        (r = mailpop3_pass(pop, argv[3])) != MAILPOP3_NO_ERROR) {
        fprintf(stderr, "mailpop3 login: %d\n", r);
        return 1;
    }
    char *msg = NULL;
    size_t len = 0;
    r = mailpop3_retr(pop, (unsigned)strtoul(argv[4], NULL, 10), &msg, &len);
    if (r != MAILPOP3_NO_ERROR) {
        fprintf(stderr, "mailpop3_retr: %d\n", r);
        return 1;
    }
    mailpop3_retr_free(msg);
    mailpop3_quit(pop);
    mailpop3_free(pop);
    double secs = bench_now() - t0;
    printf("bytes=%zu seconds=%.6f rss_kib=%ld\n", len, secs, bench_maxrss_kib());
    return len > 0 ? 0 : 1;
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
    usage();
    return 2;
}
