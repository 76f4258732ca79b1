/* Internal view of posta_stream shared by the socket and TLS code. */
#ifndef POSTA_NET_H
#define POSTA_NET_H

#include <posta/stream.h>
#include <sys/socket.h>

#include "util.h"

struct posta__tls;

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

#endif
