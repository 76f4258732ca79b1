/* The SASL security layer as a stream filter: sasl_encode on the way out in
 * packets no larger than the peer accepts, sasl_decode on the way in, with
 * at most one packet of each direction buffered. */
#include "sasl_int.h"
#include "net/net.h"

#include <stdlib.h>
#include <string.h>

#define READ_CHUNK 16384

struct layer {
    sasl_conn_t *conn;
    struct posta__sasl_cbs *cbs;
    unsigned maxout;         /* largest plaintext per sasl_encode call */
    struct posta_buf dec;    /* decoded bytes not yet read */
    struct posta_buf enc;    /* encoded bytes not yet sent */
};

static void layer_free(void *ctx)
{
    struct layer *l = ctx;
    if (!l)
        return;
    if (l->conn)
        sasl_dispose(&l->conn);
    free(l->cbs);
    posta__buf_free(&l->dec);
    posta__buf_free(&l->enc);
    free(l);
}

static long layer_fail(posta_stream *s, struct layer *l, const char *what, int r)
{
    return posta__stream_error(s, POSTA_EPROTO, "SASL security layer: %s failed: %s", what,
                               l->conn ? sasl_errdetail(l->conn) : sasl_errstring(r, NULL, NULL));
}

static long take_decoded(struct layer *l, void *buf, size_t len)
{
    size_t n = posta__buf_used(&l->dec);
    if (n > len)
        n = len;
    memcpy(buf, posta__buf_head(&l->dec), n);
    posta__buf_consume(&l->dec, n);
    return (long)n;
}

/* Read below until a whole packet decodes; sasl_decode keeps partial
 * packets itself (and refuses ones above the maxbuf we announced). */
static long layer_read(posta_stream *s, struct posta__filter *f, void *buf, size_t len)
{
    struct layer *l = f->ctx;
    unsigned char raw[READ_CHUNK];
    while (posta__buf_used(&l->dec) == 0) {
        long n = posta__filter_read_below(s, f, raw, sizeof(raw));
        if (n < 0)
            return n;
        const char *out = NULL;
        unsigned outlen = 0;
        int r = sasl_decode(l->conn, (const char *)raw, (unsigned)n, &out, &outlen);
        if (r != SASL_OK)
            return layer_fail(s, l, "decoding", r);
        int rc = posta__buf_append(&l->dec, out, outlen);
        if (rc < 0)
            return posta__stream_error(s, rc, "SASL security layer: out of memory");
    }
    return take_decoded(l, buf, len);
}

static int send_encoded(posta_stream *s, struct posta__filter *f, struct layer *l)
{
    while (posta__buf_used(&l->enc) > 0) {
        long n = posta__filter_write_below(s, f, posta__buf_head(&l->enc),
                                           posta__buf_used(&l->enc));
        if (n < 0)
            return (int)n;
        posta__buf_consume(&l->enc, (size_t)n);
    }
    return 0;
}

/* Accept at most one packet's worth, and only once the previous packet is
 * on its way: memory stays bounded by maxout plus the encoding overhead. */
static long layer_write(posta_stream *s, struct posta__filter *f, const void *buf, size_t len)
{
    struct layer *l = f->ctx;
    int rc = send_encoded(s, f, l);
    if (rc < 0)
        return rc;
    size_t n = len < l->maxout ? len : l->maxout;
    const char *out = NULL;
    unsigned outlen = 0;
    int r = sasl_encode(l->conn, buf, (unsigned)n, &out, &outlen);
    if (r != SASL_OK)
        return layer_fail(s, l, "encoding", r);
    if ((rc = posta__buf_append(&l->enc, out, outlen)) < 0)
        return posta__stream_error(s, rc, "SASL security layer: out of memory");
    rc = send_encoded(s, f, l);
    if (rc < 0 && rc != POSTA_EAGAIN)
        return rc;
    return (long)n;
}

static int layer_flush(posta_stream *s, struct posta__filter *f)
{
    return send_encoded(s, f, f->ctx);
}

/* Decoded bytes, plus what the layer below holds: those may complete a
 * packet without the socket becoming readable again. */
static size_t layer_pending(const posta_stream *s, const struct posta__filter *f)
{
    const struct layer *l = f->ctx;
    return posta__buf_used(&l->dec) + posta__filter_pending_below(s, f);
}

static const struct posta__filter_ops layer_ops = {
    "SASL security layer", layer_read, layer_write, layer_flush, layer_pending, layer_free,
};

int posta__sasl_push_layer(posta_stream *st, sasl_conn_t *conn, struct posta__sasl_cbs *cbs,
                           unsigned maxout)
{
    struct layer *l = calloc(1, sizeof(*l));
    if (!l) {
        sasl_dispose(&conn);
        free(cbs);
        return posta__stream_error(st, POSTA_ENOMEM, "out of memory");
    }
    l->conn = conn;
    l->cbs = cbs;
    /* A peer announcing no limit still gets packets of a sane size. */
    l->maxout = maxout && maxout < 65536 ? maxout : 65536;
    posta__buf_init(&l->dec, 0);
    posta__buf_init(&l->enc, 0);
    return posta__stream_push_filter(st, &layer_ops, l);
}
