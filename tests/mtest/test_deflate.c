/* posta_stream_start_deflate (RFC 4978) against a raw zlib peer on a
 * socketpair: each write burst inflates completely at the peer, the peer's
 * stream is read whole, fed one byte at a time, in bulk, and corrupt. */
#include <posta/stream.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include "t.h"

struct pair {
    posta_stream *s;  /* posta's end, deflating */
    int peer;         /* the raw end */
    z_stream inf, def;
};

static void pair_open(struct pair *p)
{
    int sv[2];
    memset(p, 0, sizeof(*p));
    T_ASSERT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    T_EQ_INT(posta_stream_new(&p->s), 0);
    T_EQ_INT(posta_stream_attach_fd(p->s, sv[0], "pair"), 0);
    T_EQ_INT(posta_stream_start_deflate(p->s), 0);
    p->peer = sv[1];
    T_EQ_INT(inflateInit2(&p->inf, -15), Z_OK);
    T_EQ_INT(deflateInit2(&p->def, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
}

static void pair_close(struct pair *p)
{
    posta_stream_free(p->s);
    close(p->peer);
    inflateEnd(&p->inf);
    deflateEnd(&p->def);
}

/* The peer reads until it has inflated want bytes (or gives up). */
static size_t peer_read(struct pair *p, unsigned char *out, size_t want)
{
    size_t got = 0;
    unsigned char raw[4096];
    while (got < want) {
        ssize_t n = read(p->peer, raw, sizeof(raw));
        if (n <= 0)
            break;
        p->inf.next_in = raw;
        p->inf.avail_in = (uInt)n;
        while (p->inf.avail_in > 0 && got < want) {
            p->inf.next_out = out + got;
            p->inf.avail_out = (uInt)(want - got);
            int r = inflate(&p->inf, Z_SYNC_FLUSH);
            if (r != Z_OK && r != Z_BUF_ERROR)
                return got;
            got = want - p->inf.avail_out;
        }
    }
    return got;
}

/* The peer deflates data with a sync flush; returns the compressed size. */
static size_t peer_compress(struct pair *p, const void *data, size_t len, unsigned char *out, size_t cap)
{
    p->def.next_in = (unsigned char *)(uintptr_t)data;
    p->def.avail_in = (uInt)len;
    p->def.next_out = out;
    p->def.avail_out = (uInt)cap;
    T_EQ_INT(deflate(&p->def, Z_SYNC_FLUSH), Z_OK);
    return cap - p->def.avail_out;
}

static size_t read_all(posta_stream *s, char *buf, size_t want)
{
    size_t got = 0;
    while (got < want) {
        long n = posta_stream_read_blocking(s, buf + got, want - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    return got;
}

static void test_write_burst(void)
{
    struct pair p;
    unsigned char out[64];
    pair_open(&p);
    T_EQ_INT(posta_stream_write_all(p.s, "a NOOP\r\n", 8), 0);
    T_EQ_INT(peer_read(&p, out, 8), 8);
    T_EQ_MEM(out, 8, "a NOOP\r\n", 8);
    /* A second burst inflates on its own too. */
    T_EQ_INT(posta_stream_write_all(p.s, "b LOGOUT\r\n", 10), 0);
    T_EQ_INT(peer_read(&p, out, 10), 10);
    T_EQ_MEM(out, 10, "b LOGOUT\r\n", 10);
    pair_close(&p);
}

static void test_read(void)
{
    struct pair p;
    unsigned char z[256];
    char buf[64];
    static const char line[] = "* OK [CAPABILITY IMAP4rev1] ready\r\n";
    pair_open(&p);
    size_t n = peer_compress(&p, line, sizeof(line) - 1, z, sizeof(z));
    T_EQ_INT(write(p.peer, z, n), (long)n);
    T_EQ_INT(read_all(p.s, buf, sizeof(line) - 1), sizeof(line) - 1);
    T_EQ_MEM(buf, sizeof(line) - 1, line, sizeof(line) - 1);
    pair_close(&p);
}

/* The compressed stream split at every byte gives the same text. */
static void test_read_bytewise(void)
{
    struct pair p;
    unsigned char z[512];
    char buf[128];
    static const char text[] = "* 1 FETCH (FLAGS (\\Seen))\r\na OK done\r\n";
    pair_open(&p);
    size_t n = peer_compress(&p, text, sizeof(text) - 1, z, sizeof(z));
    size_t got = 0;
    for (size_t i = 0; i < n; i++) {
        T_EQ_INT(write(p.peer, z + i, 1), 1);
        long r;
        while ((r = posta_stream_read(p.s, buf + got, sizeof(buf) - got)) > 0)
            got += (size_t)r;
        T_ASSERT(r == POSTA_EAGAIN);
    }
    T_EQ_MEM(buf, got, text, sizeof(text) - 1);
    pair_close(&p);
}

struct bulk {
    struct pair *p;
    unsigned char *data;
    size_t len, got;
};

static void *bulk_reader(void *arg)
{
    struct bulk *b = arg;
    unsigned char *out = malloc(b->len);
    b->got = peer_read(b->p, out, b->len);
    if (b->got == b->len && memcmp(out, b->data, b->len) != 0)
        b->got = 0;
    free(out);
    return NULL;
}

/* Much more than the buffers: memory stays bounded, bytes arrive intact. */
static void test_bulk(void)
{
    struct pair p;
    struct bulk b = {&p, NULL, 4u << 20, 0};
    pthread_t t;
    pair_open(&p);
    b.data = malloc(b.len);
    uint32_t x = 12345;
    for (size_t i = 0; i < b.len; i++) {
        x = x * 1103515245u + 12345u;
        b.data[i] = (i / 4096) % 2 ? (unsigned char)(x >> 24) : (unsigned char)('a' + i % 7);
    }
    T_EQ_INT(pthread_create(&t, NULL, bulk_reader, &b), 0);
    T_EQ_INT(posta_stream_write_all(p.s, b.data, b.len), 0);
    pthread_join(t, NULL);
    T_EQ_INT(b.got, b.len);
    free(b.data);
    pair_close(&p);
}

static void test_corrupt(void)
{
    struct pair p;
    char buf[64];
    pair_open(&p);
    static const unsigned char junk[] = {0xff, 0xff, 0xff, 0xff, 0x00, 0x12, 0x34};
    T_EQ_INT(write(p.peer, junk, sizeof(junk)), (long)sizeof(junk));
    long r = posta_stream_read_blocking(p.s, buf, sizeof(buf));
    T_EQ_INT(r, POSTA_EPROTO);
    T_CONTAINS(posta_stream_errmsg(p.s), "DEFLATE");
    pair_close(&p);
}

/* The peer closing is reported as such through the filter. */
static void test_closed(void)
{
    struct pair p;
    char buf[16];
    pair_open(&p);
    shutdown(p.peer, SHUT_WR);
    T_EQ_INT(posta_stream_read_blocking(p.s, buf, sizeof(buf)), POSTA_ECLOSED);
    pair_close(&p);
}

/* A server finishing its stream when it logs out: the text, then the end. */
static void test_stream_end(void)
{
    struct pair p;
    unsigned char z[256];
    char buf[64];
    static const char bye[] = "* BYE Logging out\r\na OK done\r\n";
    pair_open(&p);
    p.def.next_in = (unsigned char *)(uintptr_t)bye;
    p.def.avail_in = sizeof(bye) - 1;
    p.def.next_out = z;
    p.def.avail_out = sizeof(z);
    T_EQ_INT(deflate(&p.def, Z_FINISH), Z_STREAM_END);
    size_t n = sizeof(z) - p.def.avail_out;
    T_EQ_INT(write(p.peer, z, n), (long)n);
    T_EQ_INT(read_all(p.s, buf, sizeof(bye) - 1), sizeof(bye) - 1);
    T_EQ_MEM(buf, sizeof(bye) - 1, bye, sizeof(bye) - 1);
    T_EQ_INT(posta_stream_read_blocking(p.s, buf, sizeof(buf)), POSTA_ECLOSED);
    pair_close(&p);
}

static void test_not_connected(void)
{
    posta_stream *s;
    T_EQ_INT(posta_stream_new(&s), 0);
    T_EQ_INT(posta_stream_start_deflate(s), POSTA_ESTATE);
    posta_stream_free(s);
}

int main(int argc, char **argv)
{
    static const struct t_case cases[] = {
        {"write_burst", test_write_burst}, {"read", test_read},       {"read_bytewise", test_read_bytewise},
        {"bulk", test_bulk},               {"corrupt", test_corrupt}, {"closed", test_closed},
        {"stream_end", test_stream_end},   {"not_connected", test_not_connected}, {NULL, NULL},
    };
    return t_main(argc, argv, cases);
}
