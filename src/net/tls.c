/* TLS on a posta_stream with OpenSSL 3: verification with sentences a
 * user can act on, SNI, ALPN, and the facts reported after the handshake. */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

struct posta__tls {
    SSL_CTX *ctx;
    SSL *ssl;
    int up;           /* handshake completed */
    int closed;       /* close_notify sent */
    int verified;
    int vfail_code;   /* first X509_V_ERR seen by the verify callback; 0 none */
    char verify_result[400];
    char version[32];
    char cipher[96];
    int bits;
    char subject[256];
    char issuer[256];
    char alpn[256];
    int has_alpn;
    char alpn_seen[256]; /* what the server's hello selected, even if refused */
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_result;
static BIO_METHOD *nosig_method;

/* OpenSSL's socket BIO writes with write(2), which raises SIGPIPE when the
 * peer has gone; a library must not kill its caller for that.  This BIO is
 * the socket BIO with writes done by send(MSG_NOSIGNAL). */
static int nosig_write(BIO *b, const char *data, int len)
{
    int fd = -1;
    BIO_get_fd(b, &fd);
    errno = 0;
    int n = (int)send(fd, data, (size_t)len, MSG_NOSIGNAL);
    BIO_clear_retry_flags(b);
    if (n <= 0 && BIO_sock_should_retry(n))
        BIO_set_retry_write(b);
    return n;
}

static int nosig_puts(BIO *b, const char *str)
{
    return nosig_write(b, str, (int)strlen(str));
}

static BIO_METHOD *make_nosig_method(void)
{
    const BIO_METHOD *sock = BIO_s_socket();
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR,
                                 "posta socket");
    if (!m || BIO_meth_set_write(m, nosig_write) != 1 || BIO_meth_set_puts(m, nosig_puts) != 1 ||
        BIO_meth_set_read(m, BIO_meth_get_read(sock)) != 1 ||
        BIO_meth_set_ctrl(m, BIO_meth_get_ctrl(sock)) != 1 ||
        BIO_meth_set_create(m, BIO_meth_get_create(sock)) != 1 ||
        BIO_meth_set_destroy(m, BIO_meth_get_destroy(sock)) != 1) {
        BIO_meth_free(m);
        return NULL;
    }
    return m;
}

int posta__sasl_init(void);  /* src/sasl/init.c */

static void do_init(void)
{
    if (OPENSSL_init_ssl(0, NULL) != 1 || !(nosig_method = make_nosig_method()))
        init_result = POSTA_ETLS;
    /* libsasl2 with its own once: a failure there only disables its mechanisms. */
    (void)posta__sasl_init();
}

int posta_init(void)
{
    pthread_once(&init_once, do_init);
    return init_result;
}

static int is_ip_address(const char *name)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, name, buf) == 1 || inet_pton(AF_INET6, name, buf) == 1;
}

static const char *tls_name(const posta_stream *s)
{
    return s->tls_name ? s->tls_name : s->host;
}

static void name_oneline(X509_NAME *name, char *out, size_t outsz)
{
    out[0] = '\0';
    BIO *b = BIO_new(BIO_s_mem());
    if (!b)
        return;
    X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
    int n = BIO_read(b, out, (int)outsz - 1);
    out[n > 0 ? n : 0] = '\0';
    BIO_free(b);
}

/* "2020-02-01" from an ASN1_TIME. */
static void format_date(const ASN1_TIME *t, char *out, size_t outsz)
{
    struct tm tm;
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1) {
        snprintf(out, outsz, "unknown");
        return;
    }
    strftime(out, outsz, "%Y-%m-%d", &tm);
}

/* The DNS and IP names a certificate is for, comma separated; the subject
 * CN when it has no subjectAltName. */
static void cert_names(X509 *cert, char *out, size_t outsz)
{
    size_t used = 0;
    out[0] = '\0';
    GENERAL_NAMES *sans = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans); i++) {
        const GENERAL_NAME *gn = sk_GENERAL_NAME_value(sans, i);
        char one[INET6_ADDRSTRLEN + 8] = "";
        if (gn->type == GEN_DNS) {
            const unsigned char *d = ASN1_STRING_get0_data(gn->d.dNSName);
            snprintf(one, sizeof(one), "%.*s", ASN1_STRING_length(gn->d.dNSName), (const char *)d);
        } else if (gn->type == GEN_IPADD) {
            int len = ASN1_STRING_length(gn->d.iPAddress);
            const unsigned char *d = ASN1_STRING_get0_data(gn->d.iPAddress);
            if (len == 4 || len == 16)
                inet_ntop(len == 4 ? AF_INET : AF_INET6, d, one, sizeof(one));
        }
        if (one[0] && used + strlen(one) + 3 < outsz)
            used += (size_t)snprintf(out + used, outsz - used, "%s%s", used ? ", " : "", one);
    }
    GENERAL_NAMES_free(sans);
    if (!out[0]) {
        int idx = X509_NAME_get_index_by_NID(X509_get_subject_name(cert), NID_commonName, -1);
        X509_NAME_ENTRY *e = idx >= 0 ? X509_NAME_get_entry(X509_get_subject_name(cert), idx) : NULL;
        if (e) {
            ASN1_STRING *d = X509_NAME_ENTRY_get_data(e);
            snprintf(out, outsz, "%.*s", ASN1_STRING_length(d), (const char *)ASN1_STRING_get0_data(d));
        } else {
            snprintf(out, outsz, "no name at all");
        }
    }
}

/* Describe a verification failure the way a user can act on it. */
static void describe_failure(posta_stream *s, int code, X509 *cert, char *out, size_t outsz)
{
    char buf[300];
    switch (code) {
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
        cert_names(cert, buf, sizeof(buf));
        snprintf(out, outsz, "host name mismatch: certificate is for %s, not %s", buf, tls_name(s));
        break;
    case X509_V_ERR_CERT_HAS_EXPIRED:
        format_date(X509_get0_notAfter(cert), buf, sizeof(buf));
        snprintf(out, outsz, "certificate has expired (notAfter %s)", buf);
        break;
    case X509_V_ERR_CERT_NOT_YET_VALID:
        format_date(X509_get0_notBefore(cert), buf, sizeof(buf));
        snprintf(out, outsz, "certificate is not yet valid (notBefore %s)", buf);
        break;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
        name_oneline(X509_get_issuer_name(cert), buf, sizeof(buf));
        snprintf(out, outsz, "certificate verify failed: %s (issuer %s is not a trusted CA)",
                 X509_verify_cert_error_string(code), buf);
        break;
    default:
        snprintf(out, outsz, "certificate verify failed: %s", X509_verify_cert_error_string(code));
        break;
    }
}

/* Record the first failure; fail the handshake unless insecure. */
static int verify_cb(int ok, X509_STORE_CTX *xs)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
    posta_stream *s = ssl ? SSL_get_app_data(ssl) : NULL;
    if (!s)
        return ok;
    if (!ok && !s->tls->vfail_code) {
        int code = X509_STORE_CTX_get_error(xs);
        X509 *cert = X509_STORE_CTX_get_current_cert(xs);
        s->tls->vfail_code = code ? code : X509_V_ERR_UNSPECIFIED;
        if (cert)
            describe_failure(s, code, cert, s->tls->verify_result, sizeof(s->tls->verify_result));
        else
            snprintf(s->tls->verify_result, sizeof(s->tls->verify_result),
                     "certificate verify failed: %s", X509_verify_cert_error_string(code));
    }
    return s->insecure ? 1 : ok;
}

/* The newest OpenSSL error as words, or fallback. */
static void ssl_error_words(char *out, size_t outsz, const char *fallback)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    snprintf(out, outsz, "%s", r ? r : fallback);
    ERR_clear_error();
}

static int make_ctx(posta_stream *s)
{
    struct posta__tls *t = s->tls;
    char why[256];

    t->ctx = SSL_CTX_new(TLS_client_method());
    if (!t->ctx)
        return posta__err_set(&s->err, POSTA_ENOMEM, "cannot create TLS context");
    SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(t->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    /* Mail servers often close without close_notify; their protocols
     * frame their own data, so treat that as an ordinary close. */
    SSL_CTX_set_options(t->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_COMPRESSION |
                                    SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, verify_cb);

    if (s->cafile || s->capath) {
        if (SSL_CTX_load_verify_locations(t->ctx, s->cafile, s->capath) != 1) {
            ssl_error_words(why, sizeof(why), "unreadable");
            return posta__err_set(&s->err, POSTA_ETLS, "cannot load trusted CAs from %s: %s",
                                  s->cafile ? s->cafile : s->capath, why);
        }
    } else if (SSL_CTX_set_default_verify_paths(t->ctx) != 1) {
        ssl_error_words(why, sizeof(why), "unreadable");
        return posta__err_set(&s->err, POSTA_ETLS, "cannot load the system trust store: %s", why);
    }
    if (s->certfile) {
        const char *key = s->keyfile ? s->keyfile : s->certfile;
        if (SSL_CTX_use_certificate_chain_file(t->ctx, s->certfile) != 1) {
            ssl_error_words(why, sizeof(why), "unreadable");
            return posta__err_set(&s->err, POSTA_ETLS, "cannot load client certificate %s: %s",
                                  s->certfile, why);
        }
        if (SSL_CTX_use_PrivateKey_file(t->ctx, key, SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_check_private_key(t->ctx) != 1) {
            ssl_error_words(why, sizeof(why), "unreadable");
            return posta__err_set(&s->err, POSTA_ETLS, "cannot use client key %s: %s", key, why);
        }
    }
    return 0;
}

/* Find the ALPN extension (type 16) in a ServerHello (2) or
 * EncryptedExtensions (8) message and copy the protocol it names.  OpenSSL
 * refuses a protocol we did not offer without saying which it was; this
 * lets the error name it. */
static void note_alpn(struct posta__tls *t, const unsigned char *m, size_t len)
{
    size_t i = 4;
    if (len < 4)
        return;
    if (m[0] == 2) {
        /* version, random, session id, cipher suite, compression */
        i += 2 + 32;
        if (i >= len)
            return;
        i += 1 + (size_t)m[i] + 2 + 1;
    } else if (m[0] != 8) {
        return;
    }
    if (i + 2 > len)
        return;
    size_t end = i + 2 + ((size_t)m[i] << 8 | m[i + 1]);
    if (end > len)
        return;
    for (i += 2; i + 4 <= end;) {
        size_t type = (size_t)m[i] << 8 | m[i + 1], elen = (size_t)m[i + 2] << 8 | m[i + 3];
        i += 4;
        if (i + elen > end)
            return;
        if (type == 16 && elen >= 3 && (size_t)m[i + 2] + 3 <= elen) {
            snprintf(t->alpn_seen, sizeof(t->alpn_seen), "%.*s", (int)m[i + 2], (const char *)m + i + 3);
            return;
        }
        i += elen;
    }
}

static void msg_cb(int write_p, int version, int content_type, const void *buf, size_t len,
                   SSL *ssl, void *arg)
{
    posta_stream *s = arg;
    (void)version;
    (void)ssl;
    if (!write_p && content_type == SSL3_RT_HANDSHAKE && s->tls)
        note_alpn(s->tls, buf, len);
}

static int make_ssl(posta_stream *s)
{
    struct posta__tls *t = s->tls;
    const char *name = tls_name(s);

    t->ssl = SSL_new(t->ctx);
    BIO *bio = t->ssl ? BIO_new(nosig_method) : NULL;
    if (!bio)
        return posta__err_set(&s->err, POSTA_ENOMEM, "cannot create TLS connection");
    BIO_set_fd(bio, s->fd, BIO_NOCLOSE);
    SSL_set_bio(t->ssl, bio, bio);
    SSL_set_app_data(t->ssl, s);
    if (!name[0] && !s->insecure)
        return posta__err_set(&s->err, POSTA_EINVAL,
                              "no host name to check the server certificate against");
    if (name[0]) {
        X509_VERIFY_PARAM *vp = SSL_get0_param(t->ssl);
        X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        if (is_ip_address(name)) {
            /* No SNI for addresses (RFC 6066 section 3). */
            X509_VERIFY_PARAM_set1_ip_asc(vp, name);
        } else {
            SSL_set_tlsext_host_name(t->ssl, name);
            X509_VERIFY_PARAM_set1_host(vp, name, 0);
        }
    }
    if (s->alpn) {
        unsigned char wire[256];
        size_t len = strlen(s->alpn);
        wire[0] = (unsigned char)len;
        memcpy(wire + 1, s->alpn, len);
        if (SSL_set_alpn_protos(t->ssl, wire, (unsigned)(len + 1)) != 0)
            return posta__err_set(&s->err, POSTA_ETLS, "cannot set ALPN");
        SSL_set_msg_callback(t->ssl, msg_cb);
        SSL_set_msg_callback_arg(t->ssl, s);
    }
    return 0;
}

int posta__tls_up(const posta_stream *s)
{
    return s->tls && s->tls->up;
}

void *posta__tls_ssl(const posta_stream *s)
{
    return posta__tls_up(s) ? s->tls->ssl : NULL;
}

int posta_stream_tls_start(posta_stream *s)
{
    if (s->state != STREAM_OPEN || s->fd < 0)
        return posta__err_set(&s->err, POSTA_ESTATE, "stream is not connected");
    if (s->tls)
        return posta__err_set(&s->err, POSTA_ESTATE, "TLS is already active on %s", s->peer);
    /* A server sends nothing between its go-ahead and our ClientHello, so
     * bytes waiting now were injected by someone (the STARTTLS command
     * injection attacks): never let them be read as either side's data. */
    int avail = 0;
    if (ioctl(s->fd, FIONREAD, &avail) == 0 && avail > 0)
        return posta__err_set(&s->err, POSTA_EPROTO,
                              "%s sent %d bytes before the TLS handshake began: a plaintext "
                              "server on a TLS port, or data injected after the STARTTLS "
                              "go-ahead; refusing to continue",
                              s->peer, avail);
    s->tls = calloc(1, sizeof(*s->tls));
    if (!s->tls)
        return posta__err_set(&s->err, POSTA_ENOMEM, "out of memory");
    int rc = make_ctx(s);
    if (rc == 0)
        rc = make_ssl(s);
    if (rc < 0) {
        posta__tls_free(s);
        return rc;
    }
    return posta_stream_tls_continue(s);
}

static void collect_facts(posta_stream *s)
{
    struct posta__tls *t = s->tls;
    const unsigned char *alpn = NULL;
    unsigned alpnlen = 0;

    snprintf(t->version, sizeof(t->version), "%s", SSL_get_version(t->ssl));
    snprintf(t->cipher, sizeof(t->cipher), "%s", SSL_get_cipher_name(t->ssl));
    t->bits = SSL_get_cipher_bits(t->ssl, NULL);
    X509 *peer = SSL_get0_peer_certificate(t->ssl);
    if (peer) {
        name_oneline(X509_get_subject_name(peer), t->subject, sizeof(t->subject));
        name_oneline(X509_get_issuer_name(peer), t->issuer, sizeof(t->issuer));
    }
    SSL_get0_alpn_selected(t->ssl, &alpn, &alpnlen);
    if (alpn && alpnlen) {
        snprintf(t->alpn, sizeof(t->alpn), "%.*s", (int)alpnlen, (const char *)alpn);
        t->has_alpn = 1;
    }
    if (t->vfail_code == 0 && SSL_get_verify_result(t->ssl) == X509_V_OK && peer) {
        t->verified = !s->insecure;
        snprintf(t->verify_result, sizeof(t->verify_result), "ok");
    } else if (!t->verify_result[0]) {
        snprintf(t->verify_result, sizeof(t->verify_result), "certificate verify failed: %s",
                 peer ? X509_verify_cert_error_string(SSL_get_verify_result(t->ssl))
                      : "no certificate");
    }
}

/* The handshake failed; close the stream and explain. */
static int handshake_failed(posta_stream *s, int sslerr)
{
    struct posta__tls *t = s->tls;
    char why[256];
    int code;

    if (t->vfail_code && !s->insecure) {
        code = posta__err_set(&s->err, POSTA_EVERIFY, "%s", t->verify_result);
    } else if (s->alpn && t->alpn_seen[0] && strcmp(t->alpn_seen, s->alpn) != 0) {
        ERR_clear_error();
        code = posta__err_set(&s->err, POSTA_EALPN,
                              "server selected ALPN protocol \"%s\", but only \"%s\" was offered",
                              t->alpn_seen, s->alpn);
    } else if (sslerr == SSL_ERROR_SYSCALL || sslerr == SSL_ERROR_ZERO_RETURN ||
               (sslerr == SSL_ERROR_SSL &&
                ERR_GET_REASON(ERR_peek_last_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING)) {
        ERR_clear_error();
        code = posta__err_set(&s->err, POSTA_ECLOSED,
                              "%s closed the connection during the TLS handshake", s->peer);
    } else {
        ssl_error_words(why, sizeof(why), "unknown error");
        code = posta__err_set(&s->err, POSTA_ETLS, "TLS handshake with %s failed: %s", s->peer, why);
    }
    s->state = STREAM_CLOSED;
    return code;
}

int posta_stream_tls_continue(posta_stream *s)
{
    struct posta__tls *t = s->tls;
    if (!t || !t->ssl)
        return posta__err_set(&s->err, POSTA_ESTATE, "no TLS handshake in progress");
    if (t->up)
        return 0;
    ERR_clear_error();
    int r = SSL_connect(t->ssl);
    if (r != 1) {
        int e = SSL_get_error(t->ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            s->want_read = e == SSL_ERROR_WANT_READ;
            s->want_write = e == SSL_ERROR_WANT_WRITE;
            return POSTA_EAGAIN;
        }
        return handshake_failed(s, e);
    }
    s->want_read = s->want_write = 0;
    t->up = 1;
    collect_facts(s);
    if (s->alpn && t->has_alpn && strcmp(t->alpn, s->alpn) != 0) {
        s->state = STREAM_CLOSED;
        return posta__err_set(&s->err, POSTA_EALPN,
                              "server selected ALPN protocol \"%s\", but only \"%s\" was offered",
                              t->alpn, s->alpn);
    }
    return 0;
}

int posta_stream_starttls(posta_stream *s)
{
    int rc = posta_stream_tls_start(s);
    int64_t deadline = s->io_ms < 0 ? 0 : posta__now_ms() + s->io_ms;
    while (rc == POSTA_EAGAIN) {
        int w = posta__stream_poll(s, deadline);
        if (w == POSTA_ETIMEDOUT) {
            s->state = STREAM_CLOSED;
            return posta__err_set(&s->err, POSTA_ETIMEDOUT,
                                  "TLS handshake with %s: timed out after %d ms", s->peer, s->io_ms);
        }
        if (w < 0)
            return w;
        rc = posta_stream_tls_continue(s);
    }
    return rc;
}

/* Map a failed SSL_read/SSL_write to posta's codes. */
static long io_failed(posta_stream *s, int r, const char *op)
{
    int e = SSL_get_error(s->tls->ssl, r);
    char why[256];

    switch (e) {
    case SSL_ERROR_WANT_READ:
        s->want_read = 1;
        return POSTA_EAGAIN;
    case SSL_ERROR_WANT_WRITE:
        s->want_write = 1;
        return POSTA_EAGAIN;
    case SSL_ERROR_ZERO_RETURN:
        return posta__err_set(&s->err, POSTA_ECLOSED, "%s closed the connection", s->peer);
    case SSL_ERROR_SYSCALL:
        if (errno == 0 || errno == ECONNRESET || errno == EPIPE)
            return posta__err_set(&s->err, POSTA_ECLOSED, "%s closed the connection", s->peer);
        snprintf(why, sizeof(why), "%s", strerror(errno));
        break;
    default:
        ssl_error_words(why, sizeof(why), "TLS error");
        break;
    }
    s->state = STREAM_CLOSED;
    return posta__err_set(&s->err, POSTA_ETLS, "TLS %s %s: %s", op, s->peer, why);
}

long posta__tls_read(posta_stream *s, void *buf, size_t len)
{
    size_t n = 0;
    if (!s->tls->up)
        return posta__err_set(&s->err, POSTA_ESTATE, "TLS handshake not finished");
    ERR_clear_error();
    s->want_read = s->want_write = 0;
    int r = SSL_read_ex(s->tls->ssl, buf, len, &n);
    if (r == 1)
        return (long)n;
    return io_failed(s, r, "read from");
}

long posta__tls_write(posta_stream *s, const void *buf, size_t len)
{
    size_t n = 0;
    if (!s->tls->up)
        return posta__err_set(&s->err, POSTA_ESTATE, "TLS handshake not finished");
    ERR_clear_error();
    s->want_read = s->want_write = 0;
    int r = SSL_write_ex(s->tls->ssl, buf, len, &n);
    if (r == 1)
        return (long)n;
    return io_failed(s, r, "write to");
}

size_t posta__tls_pending(const posta_stream *s)
{
    return s->tls && s->tls->up ? (size_t)SSL_pending(s->tls->ssl) : 0;
}

void posta__tls_close(posta_stream *s)
{
    struct posta__tls *t = s->tls;
    if (!t || !t->ssl || !t->up || t->closed || s->fd < 0)
        return;
    /* One call sends our close_notify; we do not wait for the peer's. */
    ERR_clear_error();
    SSL_shutdown(t->ssl);
    ERR_clear_error();
    t->closed = 1;
}

void posta__tls_free(posta_stream *s)
{
    struct posta__tls *t = s->tls;
    if (!t)
        return;
    SSL_free(t->ssl);
    SSL_CTX_free(t->ctx);
    free(t);
    s->tls = NULL;
}

/* --- facts ---------------------------------------------------------------- */

int posta_stream_tls_active(const posta_stream *s)
{
    return posta__tls_up(s);
}

#define FACT(field) (posta__tls_up(s) ? s->tls->field : NULL)

const char *posta_stream_tls_version(const posta_stream *s) { return FACT(version); }
const char *posta_stream_tls_cipher(const posta_stream *s) { return FACT(cipher); }
const char *posta_stream_tls_peer_subject(const posta_stream *s) { return FACT(subject); }
const char *posta_stream_tls_peer_issuer(const posta_stream *s) { return FACT(issuer); }
int posta_stream_tls_bits(const posta_stream *s) { return posta__tls_up(s) ? s->tls->bits : 0; }
int posta_stream_tls_verified(const posta_stream *s) { return posta__tls_up(s) && s->tls->verified; }

const char *posta_stream_tls_alpn(const posta_stream *s)
{
    return posta__tls_up(s) && s->tls->has_alpn ? s->tls->alpn : NULL;
}

const char *posta_stream_tls_verify_result(const posta_stream *s)
{
    return s->tls && s->tls->verify_result[0] ? s->tls->verify_result : NULL;
}
