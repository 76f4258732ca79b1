/* posta_stream against scripted peers: failover, timeouts, address forms,
 * TLS verification verdicts, ALPN, injected bytes, and the non-blocking API. */
#include <posta/stream.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/net.h"
#include "peer.h"
#include "t.h"

/* A port nothing listens on: bind, note the port, close. */
static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    bind(fd, (struct sockaddr *)&a, sizeof(a));
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    return ntohs(a.sin_port);
}

/* A listener whose accept queue is full, so new connects hang: the Linux
 * loopback drops SYNs once a backlog-0 queue holds one connection. */
struct blackhole {
    int listener, filler, port;
};

static void blackhole_open(struct blackhole *b)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    b->listener = socket(AF_INET, SOCK_STREAM, 0);
    T_ASSERT(bind(b->listener, (struct sockaddr *)&a, sizeof(a)) == 0);
    T_ASSERT(listen(b->listener, 0) == 0);
    getsockname(b->listener, (struct sockaddr *)&a, &len);
    b->port = ntohs(a.sin_port);
    b->filler = socket(AF_INET, SOCK_STREAM, 0);
    T_ASSERT(connect(b->filler, (struct sockaddr *)&a, sizeof(a)) == 0);
}

static void blackhole_close(struct blackhole *b)
{
    close(b->filler);
    close(b->listener);
}

static struct stream_addr loopback(int port)
{
    struct stream_addr a;
    struct sockaddr_in *in = (struct sockaddr_in *)&a.ss;
    memset(&a, 0, sizeof(a));
    in->sin_family = AF_INET;
    in->sin_port = htons((uint16_t)port);
    in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.len = sizeof(*in);
    return a;
}

static struct peer *peer(const char *script, const char *cert, const char *key, const char *alpn)
{
    struct peer *p = NULL;
    struct peer_opts o = {.cert = cert, .key = key, .alpn = alpn, .timeout_ms = 5000};
    if (peer_start(&p, script, &o) != 0) {
        t_fail(__FILE__, __LINE__, "peer_start failed");
        exit(1);
    }
    return p;
}

static char *target(int port)
{
    static char buf[64];
    snprintf(buf, sizeof(buf), "127.0.0.1:%d", port);
    return buf;
}

/* Read one CRLF line with the blocking helper. */
static void read_line(posta_stream *s, char *out, size_t outsz)
{
    size_t n = 0;
    while (n + 1 < outsz) {
        long r = posta_stream_read_blocking(s, out + n, 1);
        if (r <= 0) {
            t_fail(__FILE__, __LINE__, "read: %s", posta_stream_errmsg(s));
            break;
        }
        if (out[n] == '\n')
            break;
        n++;
    }
    out[n] = '\0';
    if (n && out[n - 1] == '\r')
        out[n - 1] = '\0';
}

static void test_refused(void)
{
    posta_stream *s;
    int port = closed_port();
    char want[64];
    T_EQ_INT(posta_stream_new(&s), 0);
    T_EQ_INT(posta_stream_connect(s, target(port), NULL), POSTA_ECONNECT);
    snprintf(want, sizeof(want), "connect 127.0.0.1:%d: connection refused", port);
    T_EQ_STR(posta_stream_errmsg(s), want);
    T_EQ_INT(posta_stream_errcode(s), POSTA_ECONNECT);
    posta_stream_free(s);
}

static void test_failover(void)
{
    struct peer *p = peer("S: hello\nC: bye\n", NULL, NULL, NULL);
    struct stream_addr addrs[2] = {loopback(closed_port()), loopback(peer_port(p))};
    posta_stream *s;
    char line[64];
    T_EQ_INT(posta_stream_new(&s), 0);
    int rc = posta__stream_connect_addrs(s, "127.0.0.1", addrs, 2);
    while (rc == POSTA_EAGAIN) {
        posta__stream_poll(s, s->deadline);
        rc = posta_stream_connect_continue(s);
    }
    T_EQ_INT(rc, 0);
    read_line(s, line, sizeof(line));
    T_EQ_STR(line, "hello");
    T_EQ_INT(posta_stream_write_all(s, "bye\r\n", 5), 0);
    posta_stream_free(s);
    peer_ok(p);
}

static void test_all_fail_sentence(void)
{
    int p1 = closed_port(), p2 = closed_port();
    struct stream_addr addrs[2] = {loopback(p1), loopback(p2)};
    posta_stream *s;
    char want[128];
    T_EQ_INT(posta_stream_new(&s), 0);
    int rc = posta__stream_connect_addrs(s, "example", addrs, 2);
    while (rc == POSTA_EAGAIN) {
        posta__stream_poll(s, s->deadline);
        rc = posta_stream_connect_continue(s);
    }
    T_EQ_INT(rc, POSTA_ECONNECT);
    snprintf(want, sizeof(want), "connect 127.0.0.1:%d: connection refused (and 1 more address of example failed)", p1);
    T_EQ_STR(posta_stream_errmsg(s), want);
    posta_stream_free(s);
}

static void test_connect_timeout(void)
{
    struct blackhole b;
    posta_stream *s;
    char want[96];
    blackhole_open(&b);
    T_EQ_INT(posta_stream_new(&s), 0);
    posta_stream_set_timeouts(s, 300, 1000);
    T_EQ_INT(posta_stream_connect(s, target(b.port), NULL), POSTA_ETIMEDOUT);
    snprintf(want, sizeof(want), "connect 127.0.0.1:%d: timed out after 300 ms", b.port);
    T_EQ_STR(posta_stream_errmsg(s), want);
    posta_stream_free(s);
    blackhole_close(&b);
}

static void test_failover_after_timeout(void)
{
    struct blackhole b;
    blackhole_open(&b);
    struct peer *p = peer("S: second\n", NULL, NULL, NULL);
    struct stream_addr addrs[2] = {loopback(b.port), loopback(peer_port(p))};
    posta_stream *s;
    char line[64];
    T_EQ_INT(posta_stream_new(&s), 0);
    posta_stream_set_timeouts(s, 200, 2000);
    int rc = posta__stream_connect_addrs(s, "127.0.0.1", addrs, 2);
    while (rc == POSTA_EAGAIN) {
        posta__stream_poll(s, s->deadline);
        rc = posta_stream_connect_continue(s);
    }
    T_EQ_INT(rc, 0);
    read_line(s, line, sizeof(line));
    T_EQ_STR(line, "second");
    posta_stream_free(s);
    peer_ok(p);
    blackhole_close(&b);
}

static void test_read_timeout(void)
{
    struct peer *p = peer("!sleep 1500\n", NULL, NULL, NULL);
    posta_stream *s;
    char buf[16], want[96];
    T_EQ_INT(posta_stream_new(&s), 0);
    posta_stream_set_timeouts(s, 1000, 200);
    T_EQ_INT(posta_stream_connect(s, target(peer_port(p)), NULL), 0);
    T_EQ_INT(posta_stream_read_blocking(s, buf, sizeof(buf)), POSTA_ETIMEDOUT);
    snprintf(want, sizeof(want), "read from 127.0.0.1:%d: timed out after 200 ms", peer_port(p));
    T_EQ_STR(posta_stream_errmsg(s), want);
    posta_stream_free(s);
    peer_ok(p);
}

static void test_peer_closes(void)
{
    struct peer *p = peer("S: bye\n!close\n", NULL, NULL, NULL);
    posta_stream *s;
    char line[16], buf[16];
    T_EQ_INT(posta_stream_new(&s), 0);
    T_EQ_INT(posta_stream_connect(s, target(peer_port(p)), NULL), 0);
    read_line(s, line, sizeof(line));
    T_EQ_INT(posta_stream_read_blocking(s, buf, sizeof(buf)), POSTA_ECLOSED);
    T_CONTAINS(posta_stream_errmsg(s), "closed the connection");
    posta_stream_free(s);
    peer_ok(p);
}

static void test_address_forms(void)
{
    posta_stream *s;
    T_EQ_INT(posta_stream_new(&s), 0);
    /* Default port as a service name, resolved by getaddrinfo. */
    int rc = posta_stream_connect(s, "127.0.0.1", "imap");
    T_ASSERT(rc == 0 || rc == POSTA_ECONNECT);
    if (rc == POSTA_ECONNECT)
        T_CONTAINS(posta_stream_errmsg(s), "127.0.0.1:143");
    posta_stream_close(s);
    T_EQ_INT(posta_stream_connect(s, "[::1", NULL), POSTA_EINVAL);
    T_CONTAINS(posta_stream_errmsg(s), "expected [IPv6]:port");
    T_EQ_INT(posta_stream_connect(s, "127.0.0.1:", NULL), POSTA_EINVAL);
    T_CONTAINS(posta_stream_errmsg(s), "empty port");
    T_EQ_INT(posta_stream_connect(s, "127.0.0.1", NULL), POSTA_EINVAL);
    T_CONTAINS(posta_stream_errmsg(s), "no port given");
    T_EQ_INT(posta_stream_connect(s, "127.0.0.1:no-such-service", NULL), POSTA_ERESOLVE);
    T_CONTAINS(posta_stream_errmsg(s), "unknown port or service \"no-such-service\"");
    T_EQ_INT(posta_stream_connect(s, "no-such-host.invalid:143", NULL), POSTA_ERESOLVE);
    T_CONTAINS(posta_stream_errmsg(s), "cannot resolve no-such-host.invalid");
    posta_stream_free(s);
}

static void test_ipv6_brackets(void)
{
    /* [::1]:port is parsed and tried as IPv6, whether or not this machine
     * has IPv6 loopback; the sentence names the bracketed address. */
    posta_stream *s;
    int port = closed_port();
    char t[64];
    snprintf(t, sizeof(t), "[::1]:%d", port);
    T_EQ_INT(posta_stream_new(&s), 0);
    int rc = posta_stream_connect(s, t, NULL);
    T_ASSERT(rc == POSTA_ECONNECT || rc == POSTA_ERESOLVE);
    if (rc == POSTA_ECONNECT)
        T_CONTAINS(posta_stream_errmsg(s), "connect [::1]:");
    posta_stream_free(s);
}

/* Connect to a peer doing implicit TLS with cert and return the result. */
static int tls_to(struct peer *p, posta_stream **s_r, int insecure, const char *alpn)
{
    posta_stream *s;
    T_EQ_INT(posta_stream_new(&s), 0);
    posta_stream_set_timeouts(s, 2000, 2000);
    T_EQ_INT(posta_stream_set_ca(s, t_env("CA_FILE"), NULL), 0);
    posta_stream_set_insecure(s, insecure);
    if (alpn)
        T_EQ_INT(posta_stream_set_alpn(s, alpn), 0);
    T_EQ_INT(posta_stream_connect(s, target(peer_port(p)), NULL), 0);
    *s_r = s;
    return posta_stream_starttls(s);
}

static void test_tls_verified(void)
{
    struct peer *p = peer("!tls\nS: * OK ready\nC: a LOGOUT\n", t_env("SERVER_CERT"), t_env("SERVER_KEY"), NULL);
    posta_stream *s;
    char line[64];
    T_EQ_INT(tls_to(p, &s, 0, NULL), 0);
    T_EQ_INT(posta_stream_tls_active(s), 1);
    T_EQ_INT(posta_stream_tls_verified(s), 1);
    T_EQ_STR(posta_stream_tls_verify_result(s), "ok");
    T_CONTAINS(posta_stream_tls_version(s), "TLSv1.");
    T_ASSERT(posta_stream_tls_bits(s) >= 128);
    T_CONTAINS(posta_stream_tls_peer_subject(s), "CN=localhost");
    T_CONTAINS(posta_stream_tls_peer_issuer(s), "CN=posta test CA");
    T_ASSERT(posta_stream_tls_alpn(s) == NULL);
    read_line(s, line, sizeof(line));
    T_EQ_STR(line, "* OK ready");
    T_EQ_INT(posta_stream_write_all(s, "a LOGOUT\r\n", 10), 0);
    posta_stream_free(s);
    peer_ok(p);
}

static void test_tls_capath(void)
{
    struct peer *p = peer("!tls\nS: ok\n", t_env("SERVER_CERT"), t_env("SERVER_KEY"), NULL);
    posta_stream *s;
    char line[16];
    T_EQ_INT(posta_stream_new(&s), 0);
    T_EQ_INT(posta_stream_set_ca(s, NULL, t_env("CA_DIR")), 0);
    T_EQ_INT(posta_stream_connect(s, target(peer_port(p)), NULL), 0);
    T_EQ_INT(posta_stream_starttls(s), 0);
    T_EQ_INT(posta_stream_tls_verified(s), 1);
    read_line(s, line, sizeof(line));
    posta_stream_free(s);
    peer_ok(p);
}

/* A verification failure: the error code and the exact sentence. */
static void expect_verify_failure(const char *certkey, const char *want)
{
    char certvar[64], keyvar[64];
    snprintf(certvar, sizeof(certvar), "%s_CERT", certkey);
    snprintf(keyvar, sizeof(keyvar), "%s_KEY", certkey);
    struct peer *p = peer("!tls-abort\n", t_env(certvar), t_env(keyvar), NULL);
    posta_stream *s;
    T_EQ_INT(tls_to(p, &s, 0, NULL), POSTA_EVERIFY);
    T_EQ_STR(posta_stream_errmsg(s), want);
    T_EQ_INT(posta_stream_tls_verified(s), 0);
    posta_stream_free(s);
    peer_ok(p);
}

static void test_tls_expired(void)
{
    expect_verify_failure("EXPIRED", "certificate has expired (notAfter 2020-02-01)");
}

static void test_tls_wrong_host(void)
{
    expect_verify_failure("WRONGHOST", "host name mismatch: certificate is for other.example, not 127.0.0.1");
}

static void test_tls_self_signed(void)
{
    expect_verify_failure("SELFSIGNED", "certificate verify failed: self-signed certificate");
}

static void test_tls_unknown_ca(void)
{
    expect_verify_failure("OTHERCA_SERVER",
                          "certificate verify failed: unable to get local issuer certificate "
                          "(issuer CN=posta unknown test CA is not a trusted CA)");
}

static void test_tls_insecure_reports(void)
{
    struct peer *p = peer("!tls\nS: hi\n", t_env("SELFSIGNED_CERT"), t_env("SELFSIGNED_KEY"), NULL);
    posta_stream *s;
    char line[16];
    T_EQ_INT(tls_to(p, &s, 1, NULL), 0);
    T_EQ_INT(posta_stream_tls_verified(s), 0);
    T_EQ_STR(posta_stream_tls_verify_result(s), "certificate verify failed: self-signed certificate");
    read_line(s, line, sizeof(line));
    T_EQ_STR(line, "hi");
    posta_stream_free(s);
    peer_ok(p);
}

static void test_tls_name_override(void)
{
    /* The wrong-host certificate verifies when the caller names its host. */
    struct peer *p = peer("!tls\nS: hi\n", t_env("WRONGHOST_CERT"), t_env("WRONGHOST_KEY"), NULL);
    posta_stream *s;
    char line[16];
    T_EQ_INT(posta_stream_new(&s), 0);
    T_EQ_INT(posta_stream_set_ca(s, t_env("CA_FILE"), NULL), 0);
    T_EQ_INT(posta_stream_set_tls_name(s, "other.example"), 0);
    T_EQ_INT(posta_stream_connect(s, target(peer_port(p)), NULL), 0);
    T_EQ_INT(posta_stream_starttls(s), 0);
    T_EQ_INT(posta_stream_tls_verified(s), 1);
    read_line(s, line, sizeof(line));
    posta_stream_free(s);
    peer_ok(p);
}

static void test_alpn_match(void)
{
    struct peer *p = peer("!tls\nS: hi\n", t_env("SERVER_CERT"), t_env("SERVER_KEY"), "imap");
    posta_stream *s;
    char line[16];
    T_EQ_INT(tls_to(p, &s, 0, "imap"), 0);
    T_EQ_STR(posta_stream_tls_alpn(s), "imap");
    read_line(s, line, sizeof(line));
    posta_stream_free(s);
    peer_ok(p);
}

static void test_alpn_mismatch_aborts(void)
{
    struct peer *p = peer("!tls-abort\n", t_env("SERVER_CERT"), t_env("SERVER_KEY"), "pop3");
    posta_stream *s;
    int rc = tls_to(p, &s, 0, "imap");
    T_EQ_INT(rc, POSTA_EALPN);
    T_CONTAINS(posta_stream_errmsg(s), "\"pop3\"");
    T_CONTAINS(posta_stream_errmsg(s), "\"imap\"");
    posta_stream_free(s);
    peer_ok(p);
}

static void test_injected_bytes_refused(void)
{
    /* The go-ahead and an injected line arrive together, before the
     * handshake: the stream must refuse to start TLS. */
    struct peer *p = peer("S+ a OK Begin TLS\\r\\n* OK injected\\r\\n\n!expect-close\n", NULL, NULL, NULL);
    posta_stream *s;
    char line[64];
    T_EQ_INT(posta_stream_new(&s), 0);
    T_EQ_INT(posta_stream_connect(s, target(peer_port(p)), NULL), 0);
    read_line(s, line, sizeof(line));
    T_EQ_STR(line, "a OK Begin TLS");
    usleep(100000);
    T_EQ_INT(posta_stream_starttls(s), POSTA_EPROTO);
    T_CONTAINS(posta_stream_errmsg(s), "bytes before the TLS handshake began");
    posta_stream_free(s);
    peer_ok(p);
}

static void test_handshake_timeout(void)
{
    struct peer *p = peer("!sleep 1500\n", NULL, NULL, NULL);
    posta_stream *s;
    T_EQ_INT(posta_stream_new(&s), 0);
    posta_stream_set_timeouts(s, 1000, 250);
    posta_stream_set_insecure(s, 1);
    T_EQ_INT(posta_stream_connect(s, target(peer_port(p)), NULL), 0);
    T_EQ_INT(posta_stream_starttls(s), POSTA_ETIMEDOUT);
    T_CONTAINS(posta_stream_errmsg(s), "TLS handshake with 127.0.0.1:");
    T_CONTAINS(posta_stream_errmsg(s), "timed out after 250 ms");
    posta_stream_free(s);
    peer_ok(p);
}

static void test_bad_client_cert(void)
{
    struct peer *p = peer("!sleep 200\n", NULL, NULL, NULL);
    posta_stream *s;
    T_EQ_INT(posta_stream_new(&s), 0);
    T_EQ_INT(posta_stream_set_client_cert(s, "/nonexistent/cert.pem", NULL), 0);
    T_EQ_INT(posta_stream_connect(s, target(peer_port(p)), NULL), 0);
    T_EQ_INT(posta_stream_starttls(s), POSTA_ETLS);
    T_CONTAINS(posta_stream_errmsg(s), "cannot load client certificate /nonexistent/cert.pem");
    posta_stream_free(s);
    peer_ok(p);
}

static struct peer *peer_client_ca(const char *script)
{
    struct peer *p = NULL;
    struct peer_opts o = {.cert = t_env("SERVER_CERT"), .key = t_env("SERVER_KEY"),
                          .client_ca = t_env("CA_FILE"), .timeout_ms = 5000};
    if (peer_start(&p, script, &o) != 0)
        exit(1);
    return p;
}

static void test_client_cert_presented(void)
{
    /* The peer demands a certificate signed by the test CA. */
    struct peer *p = peer_client_ca("!tls\nS: welcome\n!expect-close-notify\n");
    posta_stream *s;
    char line[32];
    T_EQ_INT(posta_stream_new(&s), 0);
    T_EQ_INT(posta_stream_set_ca(s, t_env("CA_FILE"), NULL), 0);
    T_EQ_INT(posta_stream_set_client_cert(s, t_env("CLIENT_CERT"), t_env("CLIENT_KEY")), 0);
    T_EQ_INT(posta_stream_connect(s, target(peer_port(p)), NULL), 0);
    T_EQ_INT(posta_stream_starttls(s), 0);
    read_line(s, line, sizeof(line));
    T_EQ_STR(line, "welcome");
    posta_stream_free(s);
    peer_ok(p);
}

static void test_client_cert_missing(void)
{
    struct peer *p = peer_client_ca("!tls-abort\n");
    posta_stream *s;
    char buf[16];
    T_EQ_INT(posta_stream_new(&s), 0);
    T_EQ_INT(posta_stream_set_ca(s, t_env("CA_FILE"), NULL), 0);
    T_EQ_INT(posta_stream_connect(s, target(peer_port(p)), NULL), 0);
    /* TLS 1.3 reports the server's refusal on the first read. */
    int rc = posta_stream_starttls(s);
    if (rc == 0)
        rc = (int)posta_stream_read_blocking(s, buf, sizeof(buf));
    T_ASSERT(rc == POSTA_ETLS || rc == POSTA_ECLOSED);
    T_CONTAINS(posta_stream_errmsg(s), "certificate");
    posta_stream_free(s);
    peer_ok(p);
}

static void test_close_notify_sent(void)
{
    struct peer *p = peer("!tls\nS: hi\n!expect-close-notify\n", t_env("SERVER_CERT"), t_env("SERVER_KEY"), NULL);
    posta_stream *s;
    char line[16];
    T_EQ_INT(tls_to(p, &s, 0, NULL), 0);
    read_line(s, line, sizeof(line));
    posta_stream_close(s);
    posta_stream_close(s); /* twice is fine */
    posta_stream_free(s);
    peer_ok(p);
}

static void test_no_sigpipe_after_reset(void)
{
    /* The peer resets the connection; closing TLS (close_notify into the
     * dead socket) must not raise SIGPIPE, even when the caller has not
     * ignored it. */
    struct peer *p = peer("!tls\nS: hi\n!reset\n", t_env("SERVER_CERT"), t_env("SERVER_KEY"), NULL);
    posta_stream *s;
    char line[16], buf[16];
    signal(SIGPIPE, SIG_DFL);
    T_EQ_INT(tls_to(p, &s, 0, NULL), 0);
    read_line(s, line, sizeof(line));
    usleep(100000);
    /* The read sees the reset; closing then writes close_notify. */
    T_ASSERT(posta_stream_read_blocking(s, buf, sizeof(buf)) < 0);
    posta_stream_free(s);
    signal(SIGPIPE, SIG_IGN);
    peer_ok(p);
}

static void test_starttls_upgrade(void)
{
    struct peer *p = peer("S: * OK hi\nC: a STARTTLS\nS: a OK go\n!starttls\nC: b NOOP\nS: b OK done\n",
                          t_env("SERVER_CERT"), t_env("SERVER_KEY"), NULL);
    posta_stream *s;
    char line[64];
    T_EQ_INT(posta_stream_new(&s), 0);
    T_EQ_INT(posta_stream_set_ca(s, t_env("CA_FILE"), NULL), 0);
    T_EQ_INT(posta_stream_connect(s, target(peer_port(p)), NULL), 0);
    read_line(s, line, sizeof(line));
    T_EQ_INT(posta_stream_write_all(s, "a STARTTLS\r\n", 12), 0);
    read_line(s, line, sizeof(line));
    T_EQ_STR(line, "a OK go");
    T_EQ_INT(posta_stream_starttls(s), 0);
    T_EQ_INT(posta_stream_tls_verified(s), 1);
    T_EQ_INT(posta_stream_starttls(s), POSTA_ESTATE);
    T_EQ_INT(posta_stream_write_all(s, "b NOOP\r\n", 8), 0);
    read_line(s, line, sizeof(line));
    T_EQ_STR(line, "b OK done");
    posta_stream_free(s);
    peer_ok(p);
}

/* Drive connect and handshake with the caller's own poll loop. */
static int drive(posta_stream *s, int rc, int (*step)(posta_stream *))
{
    while (rc == POSTA_EAGAIN) {
        struct pollfd pfd = {.fd = posta_stream_fd(s), .events = 0};
        if (posta_stream_wants_read(s))
            pfd.events |= POLLIN;
        if (posta_stream_wants_write(s))
            pfd.events |= POLLOUT;
        T_ASSERT(pfd.events != 0);
        if (poll(&pfd, 1, 2000) <= 0)
            return POSTA_ETIMEDOUT;
        rc = step(s);
    }
    return rc;
}

static void test_nonblocking_api(void)
{
    struct peer *p = peer("!tls\nS: * OK nb\nC: x\n", t_env("SERVER_CERT"), t_env("SERVER_KEY"), NULL);
    posta_stream *s;
    char buf[64];
    size_t got = 0;
    T_EQ_INT(posta_stream_new(&s), 0);
    T_EQ_INT(posta_stream_set_ca(s, t_env("CA_FILE"), NULL), 0);
    T_EQ_INT(drive(s, posta_stream_connect_start(s, target(peer_port(p)), NULL),
                   posta_stream_connect_continue), 0);
    T_EQ_INT(drive(s, posta_stream_tls_start(s), posta_stream_tls_continue), 0);
    T_EQ_INT(posta_stream_tls_verified(s), 1);
    while (got < 9) {
        long n = posta_stream_read(s, buf + got, sizeof(buf) - got);
        if (n == POSTA_EAGAIN) {
            struct pollfd pfd = {.fd = posta_stream_fd(s),
                                 .events = (short)(posta_stream_wants_write(s) ? POLLOUT : POLLIN)};
            T_ASSERT(poll(&pfd, 1, 2000) == 1);
            continue;
        }
        T_ASSERT(n > 0);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    T_EQ_MEM(buf, got, "* OK nb\r\n", 9);
    T_EQ_INT(posta_stream_write(s, "x\r\n", 3), 3);
    posta_stream_free(s);
    peer_ok(p);
}

int main(int argc, char **argv)
{
    static const struct t_case cases[] = {
        {"refused", test_refused},
        {"failover", test_failover},
        {"all_fail_sentence", test_all_fail_sentence},
        {"connect_timeout", test_connect_timeout},
        {"failover_after_timeout", test_failover_after_timeout},
        {"read_timeout", test_read_timeout},
        {"peer_closes", test_peer_closes},
        {"address_forms", test_address_forms},
        {"ipv6_brackets", test_ipv6_brackets},
        {"tls_verified", test_tls_verified},
        {"tls_capath", test_tls_capath},
        {"tls_expired", test_tls_expired},
        {"tls_wrong_host", test_tls_wrong_host},
        {"tls_self_signed", test_tls_self_signed},
        {"tls_unknown_ca", test_tls_unknown_ca},
        {"tls_insecure_reports", test_tls_insecure_reports},
        {"tls_name_override", test_tls_name_override},
        {"alpn_match", test_alpn_match},
        {"alpn_mismatch_aborts", test_alpn_mismatch_aborts},
        {"injected_bytes_refused", test_injected_bytes_refused},
        {"handshake_timeout", test_handshake_timeout},
        {"bad_client_cert", test_bad_client_cert},
        {"starttls_upgrade", test_starttls_upgrade},
        {"nonblocking_api", test_nonblocking_api},
        {"client_cert_presented", test_client_cert_presented},
        {"client_cert_missing", test_client_cert_missing},
        {"close_notify_sent", test_close_notify_sent},
        {"no_sigpipe_after_reset", test_no_sigpipe_after_reset},
        {NULL, NULL}};
    return t_main(argc, argv, cases);
}
