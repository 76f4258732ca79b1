/* Property tests through the whole engine: hundreds of random messages in
 * one pipelined session to an in-process server that ends each message at
 * the first end-of-data it sees.  What arrives must be exactly the
 * canonical input, dot-stuffed (DATA) or not (BDAT), byte for byte: a
 * smuggled end-of-data would cut a message short and derail the session. */
#include <posta/smtp.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "t.h"
#include "util.h"

#define NMSG 300
#define MAXLEN 3000

/* --- the server ------------------------------------------------------------------ */

struct srv {
    int fd;
    int chunking, binary;
    unsigned char buf[65536];
    size_t have, off;
    struct posta_buf got[NMSG + 1];
    int n;
    int bad;
};

static int fill(struct srv *s)
{
    if (s->off < s->have)
        return 1;
    ssize_t r = read(s->fd, s->buf, sizeof(s->buf));
    if (r <= 0)
        return 0;
    s->have = (size_t)r;
    s->off = 0;
    return 1;
}

/* One line with its CRLF into line (NUL-terminated); 0 at the end. */
static size_t read_line(struct srv *s, char *line, size_t max)
{
    size_t n = 0;
    while (n + 1 < max && fill(s)) {
        line[n++] = (char)s->buf[s->off++];
        if (n >= 2 && line[n - 2] == '\r' && line[n - 1] == '\n')
            break;
    }
    line[n] = '\0';
    return n;
}

static void say(struct srv *s, const char *text)
{
    size_t n = strlen(text);
    if (write(s->fd, text, n) != (ssize_t)n)
        s->bad = 1;
}

/* DATA: every line up to the first one that is a lone dot. */
static void read_data(struct srv *s, struct posta_buf *b)
{
    char line[4096];
    size_t n;
    while ((n = read_line(s, line, sizeof(line))) > 0) {
        if (strcmp(line, ".\r\n") == 0)
            return;
        posta__buf_append(b, line, n);
    }
}

static void read_bytes(struct srv *s, struct posta_buf *b, size_t n)
{
    while (n > 0 && fill(s)) {
        size_t k = s->have - s->off < n ? s->have - s->off : n;
        posta__buf_append(b, s->buf + s->off, k);
        s->off += k;
        n -= k;
    }
}

static void *serve(void *arg)
{
    struct srv *s = arg;
    char line[4096];
    say(s, "220 fake ESMTP\r\n");
    while (read_line(s, line, sizeof(line)) > 0) {
        if (strncmp(line, "EHLO", 4) == 0) {
            say(s, "250-fake\r\n250-PIPELINING\r\n250-8BITMIME\r\n");
            if (s->chunking)
                say(s, "250-CHUNKING\r\n250-BINARYMIME\r\n");
            say(s, "250 SIZE\r\n");
        } else if (strncmp(line, "MAIL", 4) == 0 || strncmp(line, "RCPT", 4) == 0) {
            say(s, "250 ok\r\n");
        } else if (strcmp(line, "DATA\r\n") == 0) {
            say(s, "354 go\r\n");
            if (s->n < NMSG)
                read_data(s, &s->got[s->n++]);
            say(s, "250 ok\r\n");
        } else if (strncmp(line, "BDAT ", 5) == 0) {
            size_t n = strtoul(line + 5, NULL, 10);
            if (s->n >= NMSG)
                break;
            read_bytes(s, &s->got[s->n], n);
            if (strstr(line, "LAST"))
                s->n++;
            say(s, "250 ok\r\n");
        } else if (strcmp(line, "QUIT\r\n") == 0) {
            say(s, "221 bye\r\n");
            break;
        } else {
            s->bad = 1;
            say(s, "500 what\r\n");
        }
    }
    close(s->fd);
    return NULL;
}

/* --- messages ----------------------------------------------------------------------- */

static size_t random_bytes(unsigned *seed, unsigned char *buf, size_t max)
{
    static const unsigned char alpha[] = {'\r', '\n', '.', 'a', 'b', ' ', 0, 0xff, '.', '\n'};
    size_t n = (size_t)rand_r(seed) % max;
    for (size_t i = 0; i < n; i++) {
        unsigned r = (unsigned)rand_r(seed);
        buf[i] = r % 5 == 0 ? (unsigned char)(r >> 8) : alpha[(r >> 3) % sizeof(alpha)];
    }
    return n;
}

/* CRLF everywhere, a last line terminated; stuffed when dot. */
static void expected(const unsigned char *in, size_t n, int dot, struct posta_buf *out)
{
    int bol = 1;
    for (size_t i = 0; i < n; i++) {
        if (in[i] == '\r' || in[i] == '\n') {
            if (in[i] == '\r' && i + 1 < n && in[i + 1] == '\n')
                i++;
            posta__buf_append(out, "\r\n", 2);
            bol = 1;
            continue;
        }
        if (bol && dot && in[i] == '.')
            posta__buf_append(out, ".", 1);
        posta__buf_append(out, &in[i], 1);
        bol = 0;
    }
    if (!bol)
        posta__buf_append(out, "\r\n", 2);
}

static void run_case(int chunking, int binary, unsigned seed)
{
    int sv[2];
    T_EQ_INT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct srv *s = calloc(1, sizeof(*s));
    s->fd = sv[1];
    s->chunking = chunking;
    s->binary = binary;
    pthread_t th;
    pthread_create(&th, NULL, serve, s);

    posta_smtp *h;
    posta_stream *st;
    T_EQ_INT(posta_smtp_new(&h, NULL, NULL), 0);
    T_EQ_INT(posta_stream_new(&st), 0);
    T_EQ_INT(posta_stream_attach_fd(st, sv[0], "fake"), 0);
    T_EQ_INT(posta_smtp_attach(h, st), 0);
    posta_smtp_set_tls(h, POSTA_SMTP_TLS_DISABLED);
    posta_smtp_set_chunk_size(h, 1024);   /* many chunks per message */

    unsigned char **msgs = calloc(NMSG, sizeof(*msgs));
    size_t *lens = calloc(NMSG, sizeof(*lens));
    for (int i = 0; i < NMSG; i++) {
        msgs[i] = malloc(MAXLEN + 32);
        size_t off = 0;
        if (binary) {
            memcpy(msgs[i], "X-Bin: y\r\n\r\n", 12);
            off = 12;
        }
        lens[i] = off + random_bytes(&seed, msgs[i] + off, MAXLEN);
        posta_smtp_message *m;
        posta_smtp_add_message(h, &m);
        posta_smtp_message_set_reverse_path(m, "a@x");
        posta_smtp_add_recipient(m, "b@x", NULL);
        posta_smtp_message_set_buffer(m, msgs[i], lens[i]);
        posta_smtp_message_set_header_processing(m, 0);
        if (binary)
            posta_smtp_message_set_body(m, POSTA_SMTP_BODY_BINARYMIME);
    }
    T_EQ_INT(posta_smtp_run(h), 0);
    pthread_join(th, NULL);
    T_EQ_INT(s->bad, 0);
    T_EQ_INT(s->n, NMSG);
    int i = 0;
    for (posta_smtp_message *m = posta_smtp_first_message(h); m; m = posta_smtp_next_message(m), i++) {
        T_EQ_INT(posta_smtp_message_status(m)->code, 250);
        struct posta_buf want;
        posta__buf_init(&want, 0);
        if (binary)
            posta__buf_append(&want, msgs[i], lens[i]);
        else
            expected(msgs[i], lens[i], !chunking, &want);
        T_EQ_MEM(posta__buf_head(&s->got[i]), posta__buf_used(&s->got[i]), posta__buf_head(&want),
                 posta__buf_used(&want));
        posta__buf_free(&want);
        if (t_failures)
            break;
    }
    for (int k = 0; k < NMSG; k++) {
        free(msgs[k]);
        posta__buf_free(&s->got[k]);
    }
    free(msgs);
    free(lens);
    free(s);
    posta_smtp_free(h);
}

static void test_data(void)
{
    run_case(0, 0, 11);
    run_case(0, 0, 12345);
}

static void test_bdat(void)
{
    run_case(1, 0, 77);
}

static void test_binarymime(void)
{
    run_case(1, 1, 99);
}

int main(int argc, char **argv)
{
    static const struct t_case cases[] = {
        {"data", test_data},
        {"bdat", test_bdat},
        {"binarymime", test_binarymime},
        {NULL, NULL},
    };
    return t_main(argc, argv, cases);
}
