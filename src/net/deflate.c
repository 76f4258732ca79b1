/* COMPRESS=DEFLATE (RFC 4978) as a stream filter: raw DEFLATE both ways,
 * a sync flush at the end of each write burst, and one bounded buffer per
 * direction. */
#include "net.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define CHUNK 16384

struct deflate_ctx {
    z_stream inf, def;
    int inf_ok, def_ok;
    unsigned char in[CHUNK];   /* compressed bytes read, not yet inflated */
    size_t in_off, in_len;
    unsigned char out[CHUNK];  /* compressed bytes not yet written below */
    size_t out_off, out_len;
    int inf_full;              /* inflate filled the caller's buffer: it may hold more */
    int need_sync;             /* input was deflated since the last sync flush */
    int ended;                 /* the peer finished its stream (before closing) */
};

static void ctx_free(void *p)
{
    struct deflate_ctx *c = p;
    if (!c)
        return;
    if (c->inf_ok)
        inflateEnd(&c->inf);
    if (c->def_ok)
        deflateEnd(&c->def);
    free(c);
}

static long zfail(posta_stream *s, const char *what, const z_stream *z, int r)
{
    return posta__stream_error(s, POSTA_EPROTO, "DEFLATE: %s failed: %s", what,
                               z->msg ? z->msg : zError(r));
}

/* Inflate what is buffered into buf; 0 when it needs more input. */
static long inflate_some(posta_stream *s, struct deflate_ctx *c, void *buf, size_t len)
{
    c->inf.next_in = c->in + c->in_off;
    c->inf.avail_in = (uInt)(c->in_len - c->in_off);
    c->inf.next_out = buf;
    c->inf.avail_out = len > CHUNK * 4 ? CHUNK * 4 : (uInt)len;
    uInt asked = c->inf.avail_out;
    int r = inflate(&c->inf, Z_SYNC_FLUSH);
    c->in_off = c->in_len - c->inf.avail_in;
    if (c->in_off == c->in_len)
        c->in_off = c->in_len = 0;
    if (r != Z_OK && r != Z_BUF_ERROR && r != Z_STREAM_END)
        return zfail(s, "inflate", &c->inf, r);
    size_t got = asked - c->inf.avail_out;
    /* Servers finish the stream when they log out; what follows is the end. */
    c->ended = r == Z_STREAM_END;
    if (c->ended && got == 0)
        return posta__stream_error(s, POSTA_ECLOSED, "%s closed the connection (end of the compressed stream)",
                                   posta__stream_peer(s));
    c->inf_full = got > 0 && c->inf.avail_out == 0;
    return (long)got;
}

static long f_read(posta_stream *s, struct posta__filter *f, void *buf, size_t len)
{
    struct deflate_ctx *c = f->ctx;
    for (;;) {
        if (c->ended)
            return posta__stream_error(s, POSTA_ECLOSED, "%s closed the connection (end of the compressed "
                                       "stream)", posta__stream_peer(s));
        if (c->in_len > c->in_off || c->inf_full) {
            long got = inflate_some(s, c, buf, len);
            if (got != 0)
                return got;
        }
        if (c->in_off > 0) {
            memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
            c->in_len -= c->in_off;
            c->in_off = 0;
        }
        if (c->in_len == sizeof(c->in))
            return posta__stream_error(s, POSTA_EPROTO, "DEFLATE: inflate made no progress");
        long n = posta__filter_read_below(s, f, c->in + c->in_len, sizeof(c->in) - c->in_len);
        if (n < 0)
            return n;
        c->in_len += (size_t)n;
    }
}

/* Hand compressed bytes down; 0 when none are left, POSTA_EAGAIN. */
static int send_out(posta_stream *s, struct posta__filter *f, struct deflate_ctx *c)
{
    while (c->out_len > c->out_off) {
        long n = posta__filter_write_below(s, f, c->out + c->out_off, c->out_len - c->out_off);
        if (n < 0)
            return (int)n;
        c->out_off += (size_t)n;
    }
    c->out_off = c->out_len = 0;
    return 0;
}

/* Deflate into the free end of out. */
static int deflate_into_out(posta_stream *s, struct deflate_ctx *c, int mode)
{
    if (c->out_off > 0) {
        memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
        c->out_len -= c->out_off;
        c->out_off = 0;
    }
    c->def.next_out = c->out + c->out_len;
    c->def.avail_out = (uInt)(sizeof(c->out) - c->out_len);
    int r = deflate(&c->def, mode);
    c->out_len = sizeof(c->out) - c->def.avail_out;
    if (r != Z_OK && r != Z_BUF_ERROR)
        return (int)zfail(s, "deflate", &c->def, r);
    return 0;
}

static long f_write(posta_stream *s, struct posta__filter *f, const void *buf, size_t len)
{
    struct deflate_ctx *c = f->ctx;
    int rc = send_out(s, f, c);
    if (rc < 0 && rc != POSTA_EAGAIN)
        return rc;
    if (c->out_len == sizeof(c->out))
        return POSTA_EAGAIN;
    c->def.next_in = (unsigned char *)(uintptr_t)buf;
    c->def.avail_in = len > CHUNK ? CHUNK : (uInt)len;
    uInt offered = c->def.avail_in;
    if ((rc = deflate_into_out(s, c, Z_NO_FLUSH)) < 0)
        return rc;
    size_t taken = offered - c->def.avail_in;
    c->def.avail_in = 0;
    c->need_sync |= taken > 0;
    rc = send_out(s, f, c);
    if (rc < 0 && rc != POSTA_EAGAIN)
        return rc;
    return taken > 0 ? (long)taken : POSTA_EAGAIN;
}

/* The end of a burst: a sync flush puts everything written so far on the
 * wire in a form the peer can inflate completely. */
static int f_flush(posta_stream *s, struct posta__filter *f)
{
    struct deflate_ctx *c = f->ctx;
    for (;;) {
        int rc = send_out(s, f, c);
        if (rc < 0)
            return rc;
        if (!c->need_sync)
            return 0;
        c->def.avail_in = 0;
        if ((rc = deflate_into_out(s, c, Z_SYNC_FLUSH)) < 0)
            return rc;
        /* Output space left over means zlib has finished the flush. */
        c->need_sync = c->def.avail_out == 0;
    }
}

/* Compressed input or held output may decode without reading below; a
 * caller told so and then given POSTA_EAGAIN simply waits for the socket. */
static size_t f_pending(const posta_stream *s, const struct posta__filter *f)
{
    const struct deflate_ctx *c = f->ctx;
    return (c->in_len - c->in_off) + (size_t)c->inf_full + posta__filter_pending_below(s, f);
}

static const struct posta__filter_ops deflate_ops = {
    "DEFLATE", f_read, f_write, f_flush, f_pending, ctx_free,
};

int posta_stream_start_deflate(posta_stream *s)
{
    struct deflate_ctx *c = calloc(1, sizeof(*c));
    if (!c)
        return posta__stream_error(s, POSTA_ENOMEM, "out of memory");
    /* Raw DEFLATE (negative window bits): no zlib header, as RFC 4978 says. */
    c->inf_ok = inflateInit2(&c->inf, -15) == Z_OK;
    c->def_ok = c->inf_ok && deflateInit2(&c->def, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8,
                                          Z_DEFAULT_STRATEGY) == Z_OK;
    if (!c->def_ok) {
        ctx_free(c);
        return posta__stream_error(s, POSTA_ENOMEM, "DEFLATE: out of memory");
    }
    return posta__stream_push_filter(s, &deflate_ops, c);
}
