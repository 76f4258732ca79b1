/* posta_stream: a connection to a mail server, with TLS and other layers
 * stacked on the socket. */
#ifndef POSTA_STREAM_H
#define POSTA_STREAM_H

#include <posta/common.h>
#include <posta/error.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * A stream owns one socket and the layers stacked on it (TLS today; the SASL
 * security layer and DEFLATE stack the same way).  It is non-blocking
 * underneath: posta_stream_read() and posta_stream_write() return
 * POSTA_EAGAIN when they would block, and posta_stream_wants_read() /
 * posta_stream_wants_write() say what to wait for on posta_stream_fd().
 * Blocking helpers (…_read_blocking, …_write_all, posta_stream_connect,
 * posta_stream_starttls) wait with poll(2) under the configured timeouts.
 *
 * A stream is used by one thread at a time.  Options are set before
 * posta_stream_connect(); TLS options before the handshake.
 *
 * Errors: functions return 0 (or a byte count) or a negative posta_error;
 * posta_stream_errmsg() gives a sentence for the last failure, such as
 * "connect 127.0.0.1:1: connection refused" or "certificate verify failed:
 * self-signed certificate".
 */
typedef struct posta_stream posta_stream;

/* Create an unconnected stream with default options: connect timeout
 * 30000 ms per address, read/write timeout 60000 ms, verification on against
 * the system trust store (which honours SSL_CERT_FILE and SSL_CERT_DIR), TLS
 * 1.2 or later, no ALPN.  *s_r receives the handle, owned by the caller and
 * released with posta_stream_free().  Returns 0 or POSTA_ENOMEM. */
POSTA_API int posta_stream_new(posta_stream **s_r);

/* Close (sending TLS close_notify when TLS is up, without waiting for the
 * peer's) and free.  NULL is accepted. */
POSTA_API void posta_stream_free(posta_stream *s);

/* --- options ----------------------------------------------------------- */

/* Per-address connect timeout and the read/write timeout used by the
 * blocking helpers, in milliseconds; a negative value means wait forever. */
POSTA_API void posta_stream_set_timeouts(posta_stream *s, int connect_ms, int io_ms);

/* Trust anchors for verification: a PEM file and/or a hashed directory
 * (either may be NULL).  When any is set the system store is not used.
 * Strings are copied.  Returns 0 or POSTA_ENOMEM. */
POSTA_API int posta_stream_set_ca(posta_stream *s, const char *cafile, const char *capath);

/* A client certificate chain and its key (PEM files; key NULL means the
 * key is in certfile).  Copied; loaded at the handshake, where a bad file is
 * reported.  Returns 0 or POSTA_ENOMEM. */
POSTA_API int posta_stream_set_client_cert(posta_stream *s, const char *certfile,
                                           const char *keyfile);

/* Turn certificate and host name verification off (insecure != 0).  The
 * handshake still completes and posta_stream_tls_verified() reports 0 with
 * the reason the peer would have failed, so callers can say so plainly. */
POSTA_API void posta_stream_set_insecure(posta_stream *s, int insecure);

/* Offer one ALPN protocol id ("imap", "pop3", "smtp"), or none with NULL.
 * When the server selects a protocol other than the one offered, the
 * handshake fails with POSTA_EALPN.  Copied.  Returns 0, POSTA_EINVAL (empty
 * or longer than 255 bytes) or POSTA_ENOMEM. */
POSTA_API int posta_stream_set_alpn(posta_stream *s, const char *proto);

/* The name checked against the certificate and sent as SNI; by default the
 * host given to posta_stream_connect().  An IP address is matched against
 * the certificate's IP SANs and sent without SNI.  Copied. */
POSTA_API int posta_stream_set_tls_name(posta_stream *s, const char *name);

/* --- connecting ---------------------------------------------------------- */

/*
 * Resolve target and connect, blocking.  target is "host", "host:port",
 * "[v6addr]:port" or "[v6addr]"; the port may be a number or a service name
 * (getaddrinfo(3)).  default_port (a number or service name) is used when
 * target has none.  Every address is tried in turn, each with the connect
 * timeout, until one accepts.  Returns 0; POSTA_ERESOLVE, POSTA_ECONNECT,
 * POSTA_ETIMEDOUT or POSTA_EINVAL with the sentence in posta_stream_errmsg().
 */
POSTA_API int posta_stream_connect(posta_stream *s, const char *target,
                                   const char *default_port);

/* Non-blocking connect: start with posta_stream_connect_start(), then, each
 * time posta_stream_fd() is writable or posta_stream_next_timeout_ms()
 * expires, call posta_stream_connect_continue() until it returns 0 (or an
 * error).  POSTA_EAGAIN means in progress.  The resolver call itself blocks. */
POSTA_API int posta_stream_connect_start(posta_stream *s, const char *target,
                                         const char *default_port);
POSTA_API int posta_stream_connect_continue(posta_stream *s);

/* Adopt an already connected socket (for tests, socketpairs and inetd use).
 * The stream takes ownership of fd and makes it non-blocking.  name is used
 * in messages and as the default TLS name; may be NULL.  Returns 0,
 * POSTA_ESTATE if already connected, or POSTA_ENOMEM. */
POSTA_API int posta_stream_attach_fd(posta_stream *s, int fd, const char *name);

/* "host:port" of the connected peer address as text ("[::1]:143"), or "" */
POSTA_API const char *posta_stream_peer(const posta_stream *s);

/* --- TLS ----------------------------------------------------------------- */

/* Start TLS on the connected stream, blocking until the handshake ends
 * (implicit TLS right after connect, or STARTTLS/STLS after the server's
 * go-ahead).  Returns 0 when the handshake succeeded and, unless insecure,
 * the peer was verified; otherwise POSTA_ETLS, POSTA_EVERIFY, POSTA_EALPN,
 * POSTA_ETIMEDOUT or POSTA_ECLOSED; POSTA_ESTATE when TLS is already on.
 * POSTA_EPROTO when bytes are already waiting on the socket before the
 * ClientHello: a server sends nothing between its go-ahead and the
 * handshake, so they were injected (the STARTTLS injection attacks); the
 * caller must also refuse bytes it had buffered after the go-ahead.
 * After a failed handshake the stream is closed; free it or connect again.
 */
POSTA_API int posta_stream_starttls(posta_stream *s);

/* Non-blocking handshake: call posta_stream_tls_start() once, then
 * posta_stream_tls_continue() whenever the fd is ready as
 * posta_stream_wants_read()/wants_write() say, until it returns 0 or an
 * error other than POSTA_EAGAIN. */
POSTA_API int posta_stream_tls_start(posta_stream *s);
POSTA_API int posta_stream_tls_continue(posta_stream *s);

/* TLS facts after a successful handshake; NULL / 0 when TLS is not up.
 * Strings live until the stream is freed. */
POSTA_API int posta_stream_tls_active(const posta_stream *s);
POSTA_API const char *posta_stream_tls_version(const posta_stream *s);  /* "TLSv1.3" */
POSTA_API const char *posta_stream_tls_cipher(const posta_stream *s);
POSTA_API int posta_stream_tls_bits(const posta_stream *s);             /* cipher key bits */
POSTA_API const char *posta_stream_tls_peer_subject(const posta_stream *s);
POSTA_API const char *posta_stream_tls_peer_issuer(const posta_stream *s);
POSTA_API const char *posta_stream_tls_alpn(const posta_stream *s);     /* NULL: none */
/* 1 when the chain and the name were verified; 0 otherwise (insecure mode) */
POSTA_API int posta_stream_tls_verified(const posta_stream *s);
/* The verification verdict in words: "ok", or why it failed, e.g.
 * "self-signed certificate" or "host name mismatch: ...". */
POSTA_API const char *posta_stream_tls_verify_result(const posta_stream *s);

/* --- I/O ----------------------------------------------------------------- */

/* The socket, for poll/select/epoll; -1 when not connected. */
POSTA_API int posta_stream_fd(const posta_stream *s);

/* What the last operation is waiting for.  TLS may need to write while the
 * caller reads and the reverse, so wait for what these say, not for what
 * the caller is doing. */
POSTA_API int posta_stream_wants_read(const posta_stream *s);
POSTA_API int posta_stream_wants_write(const posta_stream *s);

/* Bytes readable without touching the socket (buffered or decrypted). */
POSTA_API size_t posta_stream_pending(const posta_stream *s);

/* Non-blocking read of up to len bytes.  Returns the count (> 0),
 * POSTA_EAGAIN, POSTA_ECLOSED at end of stream, or a fatal error. */
POSTA_API long posta_stream_read(posta_stream *s, void *buf, size_t len);

/* Non-blocking write.  Returns the count accepted (> 0), POSTA_EAGAIN or a
 * fatal error. */
POSTA_API long posta_stream_write(posta_stream *s, const void *buf, size_t len);

/* Send output that stacked layers (DEFLATE, a SASL security layer) still
 * buffer.  posta_stream_write() hands bytes to the top layer, which may
 * hold them; call this after each complete command (write_all does).
 * Returns 0 when everything is on the wire below the layers, POSTA_EAGAIN
 * (wait for posta_stream_wants_write) or a fatal error. */
POSTA_API int posta_stream_flush(posta_stream *s);

/* Blocking variants under the read/write timeout: read returns > 0 bytes or
 * an error (POSTA_ETIMEDOUT, POSTA_ECLOSED, …); write_all writes every byte
 * (and flushes the layers) or fails. */
POSTA_API long posta_stream_read_blocking(posta_stream *s, void *buf, size_t len);
POSTA_API int posta_stream_write_all(posta_stream *s, const void *buf, size_t len);

/* Wait until the stream can make progress in the direction(s) it wants, or
 * timeout_ms passes (negative: forever).  Returns 1 ready, 0 timeout, or an
 * error. */
POSTA_API int posta_stream_wait(posta_stream *s, int timeout_ms);

/* Close gracefully: TLS close_notify (not waiting for the peer's), then
 * shutdown and close the socket.  The stream can be freed or reused for a
 * new connect afterwards.  Safe to call twice. */
POSTA_API void posta_stream_close(posta_stream *s);

/* The sentence describing the last error on this stream; never NULL. */
POSTA_API const char *posta_stream_errmsg(const posta_stream *s);
/* The code of the last error (0 when none). */
POSTA_API int posta_stream_errcode(const posta_stream *s);

/* --- compression -------------------------------------------------------- */

/*
 * Start COMPRESS=DEFLATE (RFC 4978, IMAP; also usable by any protocol that
 * negotiates raw DEFLATE) on a connected stream: from now on every byte
 * written is compressed and every byte read inflated, stacked above TLS and
 * any SASL security layer.  Call it right after the server's OK, before
 * writing anything else.  posta_stream_flush() (which write_all calls) ends
 * each burst with a sync flush so the peer can read all of it.  Memory is
 * bounded: one 16 KiB buffer per direction plus zlib's state.
 * posta_stream_pending() may report compressed bytes that decode to
 * nothing; a read then returns POSTA_EAGAIN.
 * Returns 0; POSTA_ESTATE when unread bytes are buffered (they arrived
 * uncompressed) or output could not be flushed, or the stream is not
 * connected; POSTA_ENOMEM.  A corrupt compressed stream later makes reads
 * fail with POSTA_EPROTO.
 */
POSTA_API int posta_stream_start_deflate(posta_stream *s);

#ifdef __cplusplus
}
#endif
#endif
