/* Internal view of posta_stream shared by the socket and TLS code. */
#ifndef POSTA_NET_H
#define POSTA_NET_H

#include <posta/stream.h>
#include <sys/socket.h>

#include "util.h"

struct posta__tls;
struct posta__filter;

/*
 * A filter stacked on the transport (socket or TLS): the SASL security
 * layer, DEFLATE.  Filters form a list from the top (what the caller
 * reads and writes) down to the transport.
 *
 * read: fill buf with decoded bytes, reading from below with
 *   posta__filter_read_below(); POSTA_EAGAIN/ECLOSED/errors as usual.
 * write: accept up to len bytes (encode and buffer them), trying to send
 *   buffered output down with posta__filter_write_below(); return the
 *   count accepted, or POSTA_EAGAIN when the buffer is full and below
 *   blocks.
 * flush: push buffered output down; 0 when all is sent, POSTA_EAGAIN.
 * pending: decoded bytes ready without reading below.
 * free: release ctx.
 */
struct posta__filter_ops {
    const char *name;
    long (*read)(posta_stream *s, struct posta__filter *f, void *buf, size_t len);
    long (*write)(posta_stream *s, struct posta__filter *f, const void *buf, size_t len);
    int (*flush)(posta_stream *s, struct posta__filter *f);
    size_t (*pending)(const posta_stream *s, const struct posta__filter *f);
    void (*free)(void *ctx);
};

struct posta__filter {
    const struct posta__filter_ops *ops;
    void *ctx;
    struct posta__filter *below;  /* NULL: the transport */
};

/* Stack a filter on top; it owns ctx from now on (freed with the stream,
 * also when pushing fails).  Pending output below is flushed first, so
 * the filter starts at a clean boundary.  0, POSTA_ESTATE or POSTA_ENOMEM. */
int posta__stream_push_filter(posta_stream *s, const struct posta__filter_ops *ops, void *ctx);
long posta__filter_read_below(posta_stream *s, struct posta__filter *f, void *buf, size_t len);
long posta__filter_write_below(posta_stream *s, struct posta__filter *f, const void *buf, size_t len);
int posta__filter_flush_below(posta_stream *s, struct posta__filter *f);
size_t posta__filter_pending_below(const posta_stream *s, const struct posta__filter *f);
/* Record an error on the stream; returns code. */
int posta__stream_error(posta_stream *s, int code, const char *fmt, ...) POSTA_PRINTF(3, 4);
/* The peer's "addr:port", for messages. */
const char *posta__stream_peer(const posta_stream *s);

/* Where a stream is in its life. */
enum stream_state {
    STREAM_IDLE = 0,    /* not connected */
    STREAM_CONNECTING,  /* non-blocking connect under way */
    STREAM_OPEN,        /* connected (maybe with TLS) */
    STREAM_CLOSED       /* closed by posta_stream_close or a fatal error */
};

/* One address to try, in the order getaddrinfo gave them. */
struct stream_addr {
    struct sockaddr_storage ss;
    socklen_t len;
};

struct posta_stream {
    int fd;
    enum stream_state state;
    struct posta_err err;

    int connect_ms, io_ms;
    int insecure;
    char *cafile, *capath, *certfile, *keyfile, *alpn, *tls_name;

    char host[256];         /* the host part of the target, for TLS and messages */
    char peer[300];         /* "addr:port" of the current address */

    /* Non-blocking connect: the addresses and where we are in them. */
    struct stream_addr *addrs;
    size_t naddrs, next_addr;
    int64_t deadline;       /* of the address being tried; 0 = none */
    char first_err[512];    /* why the first address failed, for the sentence */

    int want_read, want_write;
    struct posta__tls *tls;
    struct posta__filter *filters;  /* top of the filter stack, or NULL */
};

/* Start connecting to the given addresses (tests use this to inject a list
 * that getaddrinfo would not produce).  host names the target in messages. */
int posta__stream_connect_addrs(posta_stream *s, const char *host,
                                const struct stream_addr *addrs, size_t n);

/* Raw socket I/O beneath TLS. */
long posta__sock_read(posta_stream *s, void *buf, size_t len);
long posta__sock_write(posta_stream *s, const void *buf, size_t len);

/* TLS (tls.c). */
int posta__tls_start(posta_stream *s);
int posta__tls_continue(posta_stream *s);
long posta__tls_read(posta_stream *s, void *buf, size_t len);
long posta__tls_write(posta_stream *s, const void *buf, size_t len);
size_t posta__tls_pending(const posta_stream *s);
void posta__tls_close(posta_stream *s);  /* close_notify, keeps facts */
void posta__tls_free(posta_stream *s);
int posta__tls_up(const posta_stream *s);

/* Wait with poll for the directions the stream wants, until deadline_ms
 * (monotonic; 0 = forever).  1 ready, POSTA_ETIMEDOUT, or POSTA_EIO. */
int posta__stream_poll(posta_stream *s, int64_t deadline_ms);

/* Channel binding (tls_cb.c, for SASL -PLUS mechanisms).  type NULL picks
 * "tls-exporter" (RFC 9266) with TLS 1.3 and "tls-unique" (RFC 5929) below;
 * "tls-server-end-point" may be asked for.  The name goes to type_r, the
 * data to out (outsz >= 64).  0, POSTA_ESTATE (no TLS), POSTA_EUNSUPPORTED. */
int posta__tls_channel_binding(const posta_stream *s, const char *type, char type_r[32],
                               unsigned char *out, size_t outsz, size_t *len_r);
/* The OpenSSL SSL object once the handshake is done, else NULL (tls.c). */
void *posta__tls_ssl(const posta_stream *s);

#endif
