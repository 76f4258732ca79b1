/* Self-test of the scripted peer: a bare-sockets + OpenSSL client plays
 * against each kind of step, and failing scripts must say what went wrong. */
#include "peer.h"
#include "t.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ssl.h>

/* ---- a minimal client ---- */

struct cli {
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
    char line[4096];
};

static int cli_connect(struct cli *c, int port)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    struct timeval tv = {3, 0}; /* a broken peer must not hang the test */
    memset(c, 0, sizeof(*c));
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(c->fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
        t_fail(__FILE__, __LINE__, "connect to port %d: %s", port, strerror(errno));
        return -1;
    }
    return 0;
}

static void cli_write(struct cli *c, const void *d, size_t n)
{
    int r = c->ssl ? SSL_write(c->ssl, d, (int)n) : (int)send(c->fd, d, n, MSG_NOSIGNAL);
    if (r != (int)n)
        t_fail(__FILE__, __LINE__, "client write of %zu bytes failed", n);
}

static void cli_send(struct cli *c, const char *s)
{
    cli_write(c, s, strlen(s));
}

/* Read up to n bytes, all of them unless EOF or an error comes first. */
static size_t cli_read(struct cli *c, char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        int r = c->ssl ? SSL_read(c->ssl, buf + got, (int)(n - got))
                       : (int)recv(c->fd, buf + got, n - got, 0);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    return got;
}

/* One line, LF included, or "" at EOF. */
static const char *cli_line(struct cli *c)
{
    size_t n = 0;
    while (n + 1 < sizeof(c->line) && cli_read(c, c->line + n, 1) == 1)
        if (c->line[n++] == '\n')
            break;
    c->line[n] = '\0';
    return c->line;
}

static int cli_eof(struct cli *c)
{
    char ch;
    return cli_read(c, &ch, 1) == 0;
}

/* Client handshake offering alpn (wire format, may be NULL): 1 when done. */
static int cli_tls(struct cli *c, const char *alpn, size_t alpnlen)
{
    c->ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(c->ctx, SSL_VERIFY_NONE, NULL); /* a throwaway certificate */
    c->ssl = SSL_new(c->ctx);
    SSL_set_fd(c->ssl, c->fd);
    SSL_set_tlsext_host_name(c->ssl, "localhost");
    if (alpn)
        SSL_set_alpn_protos(c->ssl, (const unsigned char *)alpn, (unsigned)alpnlen);
    return SSL_connect(c->ssl) == 1;
}

/* How a TLS connection ended: SSL_ERROR_ZERO_RETURN after close_notify. */
static int cli_tls_end(struct cli *c)
{
    char ch;
    int r = SSL_read(c->ssl, &ch, 1);
    return r > 0 ? SSL_ERROR_NONE : SSL_get_error(c->ssl, r);
}

static void cli_close(struct cli *c)
{
    if (c->ssl) {
        SSL_shutdown(c->ssl);
        SSL_free(c->ssl);
    }
    SSL_CTX_free(c->ctx);
    close(c->fd);
    c->fd = -1;
}

/* ---- helpers ---- */

static struct peer *start(const char *script, const struct peer_opts *opts)
{
    struct peer *p = NULL;
    if (peer_start(&p, script, opts) != 0)
        t_fail(__FILE__, __LINE__, "peer_start refused the script");
    return p;
}

/* The peer's verdict: NULL when the script was followed, else the message
 * (kept until the next call). */
static const char *verdict(struct peer *p)
{
    static char *last;
    free(last);
    last = NULL;
    if (peer_finish(p, &last) == 0 && last)
        return "success with a message";
    return last;
}

#define T_PEER_OK(p) do { const char *v_ = verdict(p); \
    if (v_) t_fail(__FILE__, __LINE__, "peer failed: %s", v_); } while (0)

static const char *cert_pem;
static const char *key_pem;

/* A throwaway certificate, made once per run with the openssl command. */
static int make_cert(void)
{
    static char cert[300], key[300];
    char cmd[1024];
    if (cert_pem)
        return 0;
    snprintf(cert, sizeof(cert), "%s/cert.pem", t_tmpdir());
    snprintf(key, sizeof(key), "%s/key.pem", t_tmpdir());
    snprintf(cmd, sizeof(cmd), "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
             "-nodes -subj /CN=localhost -days 1 -keyout '%s' -out '%s' 2>/dev/null", key, cert);
    if (system(cmd) != 0) {
        t_fail(__FILE__, __LINE__, "could not make a certificate: %s", cmd);
        return -1;
    }
    cert_pem = cert;
    key_pem = key;
    return 0;
}

static long long ms_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- cases ---- */

static void test_basic(void)
{
    struct peer *p = start("# a greeting, then one command\n"
                           "S: * OK ready\n"
                           "\n"
                           "C: a1 NOOP\n"
                           "  S: a1 OK done\n"
                           "S+ raw\\x00\\t\\\\bytes\\n\n"
                           "C: a2 LOGOUT\n"
                           "S: * BYE\n", NULL);
    struct cli c;
    char raw[16];
    if (!p || cli_connect(&c, peer_port(p)) != 0)
        return;
    T_EQ_STR(cli_line(&c), "* OK ready\r\n");
    cli_send(&c, "a1 NOOP\r\n");
    T_EQ_STR(cli_line(&c), "a1 OK done\r\n");
    T_EQ_MEM(raw, cli_read(&c, raw, 12), "raw\0\t\\bytes\n", 12);
    cli_send(&c, "a2 LOGOUT\r\n");
    T_EQ_STR(cli_line(&c), "* BYE\r\n");
    T_ASSERT(cli_eof(&c)); /* the script's end closes the connection */
    cli_close(&c);
    T_PEER_OK(p);
}

static void test_mismatch(void)
{
    struct peer *p = start("S: * OK\n"
                           "C: a001 CAPABILITY\n"
                           "C: a002 LOGIN alice alicepw\n"
                           "S: a002 OK\n", NULL);
    struct cli c;
    if (!p || cli_connect(&c, peer_port(p)) != 0)
        return;
    cli_line(&c);
    cli_send(&c, "a001 CAPABILITY\r\na002 LOGIN alice \"alicepw\"\r\n");
    T_ASSERT(cli_eof(&c)); /* a failed peer hangs up */
    cli_close(&c);
    T_EQ_STR(verdict(p),
             "peer script line 3: expected \"a002 LOGIN alice alicepw\", "
             "got \"a002 LOGIN alice \\\"alicepw\\\"\"");
}

static void test_bare_lf(void)
{
    struct peer *p = start("C: a1 NOOP\n", NULL);
    struct cli c;
    if (!p || cli_connect(&c, peer_port(p)) != 0)
        return;
    cli_send(&c, "a1 NOOP\n");
    cli_eof(&c);
    cli_close(&c);
    T_EQ_STR(verdict(p), "peer script line 1: expected \"a1 NOOP\", got \"a1 NOOP\\n\" "
                         "(a bare LF ends it)");
}

static void test_regex(void)
{
    struct peer *p = start("S: * OK\n"
                           "C~ ([A-Za-z0-9]+) LOGIN ([^ ]+) .*\n"
                           "S: \\1 OK welcome \\2\n"
                           "C*\n"
                           "C~ [a-z]+ NOOP\n", NULL);
    struct cli c;
    if (!p || cli_connect(&c, peer_port(p)) != 0)
        return;
    cli_line(&c);
    cli_send(&c, "Xy7 LOGIN bob s3cret\r\n");
    T_EQ_STR(cli_line(&c), "Xy7 OK welcome bob\r\n");
    cli_send(&c, "anything at all\r\nA9 NOOP\r\n");
    cli_eof(&c);
    cli_close(&c);
    T_EQ_STR(verdict(p), "peer script line 5: expected a line matching /[a-z]+ NOOP/, "
                         "got \"A9 NOOP\"");
}

static void test_literals(void)
{
    struct peer *p = start("C: a1 APPEND INBOX {5}\n"
                           "S: + go\n"
                           "C+ he\\x00lo\n"
                           "C:\n"
                           "C: a2 APPEND INBOX {100000}\n"
                           "S: + go\n"
                           "!recv 100000\n"
                           "C: \n"
                           "S: a2 OK\n"
                           "C+ raw\\r\n", NULL);
    struct cli c;
    static char junk[100000];
    if (!p || cli_connect(&c, peer_port(p)) != 0)
        return;
    cli_send(&c, "a1 APPEND INBOX {5}\r\n");
    T_EQ_STR(cli_line(&c), "+ go\r\n");
    cli_write(&c, "he\0lo\r\n", 7);
    cli_send(&c, "a2 APPEND INBOX {100000}\r\n");
    T_EQ_STR(cli_line(&c), "+ go\r\n");
    memset(junk, '\n', sizeof(junk));
    cli_write(&c, junk, sizeof(junk));
    cli_send(&c, "\r\n");
    T_EQ_STR(cli_line(&c), "a2 OK\r\n");
    cli_send(&c, "rax\r");
    cli_eof(&c);
    cli_close(&c);
    T_EQ_STR(verdict(p), "peer script line 10: expected \"raw\\r\", got \"rax\\r\"");
}

static void test_timeout(void)
{
    struct peer_opts o = {.timeout_ms = 150};
    struct peer *p = start("S: * OK\nC: a1 NOOP\n", &o);
    struct cli c;
    if (!p || cli_connect(&c, peer_port(p)) != 0)
        return;
    cli_line(&c);
    cli_send(&c, "a1 NO");
    long long t0 = ms_now();
    T_EQ_STR(verdict(p), "peer script line 2: timed out waiting for \"a1 NOOP\" (150 ms); "
                         "received only \"a1 NO\"");
    T_ASSERT(ms_now() - t0 < 1000);
    cli_close(&c);
}

static void test_no_client(void)
{
    struct peer_opts o = {.timeout_ms = 100};
    struct peer *p = start("\nS: * OK\n", &o);
    if (p)
        T_EQ_STR(verdict(p), "peer script line 2: timed out waiting for a client to connect (100 ms)");
}

static void test_early_close(void)
{
    struct peer *p = start("S: * OK\nC: a1 NOOP\n", NULL);
    struct cli c;
    if (!p || cli_connect(&c, peer_port(p)) != 0)
        return;
    cli_line(&c);
    cli_send(&c, "a1 NO");
    cli_close(&c);
    T_EQ_STR(verdict(p), "peer script line 2: expected \"a1 NOOP\", but the client closed the "
                         "connection after sending \"a1 NO\"");
}

static void test_expect_close(void)
{
    struct peer *p = start("S: * BYE\n!expect-close\n", NULL);
    struct cli c;
    if (!p || cli_connect(&c, peer_port(p)) != 0)
        return;
    cli_line(&c);
    cli_close(&c);
    T_PEER_OK(p);

    p = start("S: * BYE\n!expect-close\n", NULL);
    if (!p || cli_connect(&c, peer_port(p)) != 0)
        return;
    cli_line(&c);
    cli_send(&c, "oops\r\n");
    cli_eof(&c);
    cli_close(&c);
    T_EQ_STR(verdict(p), "peer script line 2: expected the client to close the connection, got \"oops\"");
}

static void test_trailing_data(void)
{
    struct peer *p = start("S: * OK\n", NULL);
    struct cli c;
    if (!p || cli_connect(&c, peer_port(p)) != 0)
        return;
    cli_send(&c, "a1 LOGOUT\r\n");
    T_EQ_STR(cli_line(&c), "* OK\r\n");
    T_ASSERT(cli_eof(&c));
    cli_close(&c);
    T_PEER_OK(p);
}

static void test_hangups(void)
{
    struct peer *p = start("S: one\n!shutdown-write\nC: two\n!close\n"
                           "!accept\nS: three\n!reset\n", NULL);
    struct cli c;
    char ch;
    if (!p || cli_connect(&c, peer_port(p)) != 0)
        return;
    T_EQ_STR(cli_line(&c), "one\r\n");
    T_ASSERT(cli_eof(&c));
    cli_send(&c, "two\r\n"); /* the peer still reads after its half close */
    cli_close(&c);
    if (cli_connect(&c, peer_port(p)) != 0)
        return;
    T_EQ_STR(cli_line(&c), "three\r\n");
    errno = 0;
    T_ASSERT(recv(c.fd, &ch, 1, 0) < 0 && errno == ECONNRESET);
    cli_close(&c);
    T_PEER_OK(p);
}

static void test_accept(void)
{
    struct peer *p = start("S: first\n!close\n!accept\nS: second\nC: bye\n", NULL);
    struct cli c;
    if (!p || cli_connect(&c, peer_port(p)) != 0)
        return;
    T_EQ_STR(cli_line(&c), "first\r\n");
    T_ASSERT(cli_eof(&c));
    cli_close(&c);
    if (cli_connect(&c, peer_port(p)) != 0)
        return;
    T_EQ_STR(cli_line(&c), "second\r\n");
    cli_send(&c, "bye\r\n");
    cli_close(&c);
    T_PEER_OK(p);
}

static void test_sleep(void)
{
    struct peer *p = start("S: now\n!sleep 80\nS: later\n", NULL);
    struct cli c;
    if (!p || cli_connect(&c, peer_port(p)) != 0)
        return;
    T_EQ_STR(cli_line(&c), "now\r\n");
    long long t0 = ms_now();
    T_EQ_STR(cli_line(&c), "later\r\n");
    T_ASSERT(ms_now() - t0 >= 60);
    cli_close(&c);
    T_PEER_OK(p);
}

static void test_big(void)
{
    enum { N = 1000003 };
    char script[600], path[300];
    snprintf(path, sizeof(path), "%s/data.bin", t_tmpdir());
    FILE *f = fopen(path, "wb");
    T_ASSERT(f && fwrite("fi\0le\r\n", 1, 7, f) == 7 && fclose(f) == 0);
    snprintf(script, sizeof(script), "S: * 1 FETCH (BODY[] {%d}\n!sendbig %d\nS: )\n"
             "!send-file %s  \n", N, N, path);
    struct peer *p = start(script, NULL);
    struct cli c;
    char *got = malloc(N), *want = malloc(N);
    if (p && cli_connect(&c, peer_port(p)) == 0) {
        T_EQ_STR(cli_line(&c), "* 1 FETCH (BODY[] {1000003}\r\n");
        T_EQ_INT(cli_read(&c, got, N), N);
        peer_bigdata(0, want, N);
        T_ASSERT(memcmp(got, want, N) == 0);
        T_ASSERT(memcmp(want + 80 * 12345, "0000012345vvvv", 14) == 0);
        T_EQ_STR(cli_line(&c), ")\r\n");
        T_EQ_MEM(got, cli_read(&c, got, 7), "fi\0le\r\n", 7);
        cli_close(&c);
        T_PEER_OK(p);
    }
    free(got);
    free(want);
}

static void test_starttls(void)
{
    static const char script[] = "S: * OK\n"
                                 "C: a1 STARTTLS\n"
                                 "S: a1 OK begin\n"
                                 "!starttls\n"
                                 "C: a2 NOOP\n"
                                 "S: a2 OK\n";
    struct peer_opts o = {.cert = cert_pem, .key = key_pem};
    struct peer *p;
    struct cli c;
    if (make_cert() != 0)
        return;
    o.cert = cert_pem;
    o.key = key_pem;
    if (!(p = start(script, &o)) || cli_connect(&c, peer_port(p)) != 0)
        return;
    cli_line(&c);
    cli_send(&c, "a1 STARTTLS\r\n");
    T_EQ_STR(cli_line(&c), "a1 OK begin\r\n");
    T_ASSERT(cli_tls(&c, NULL, 0));
    cli_send(&c, "a2 NOOP\r\n");
    T_EQ_STR(cli_line(&c), "a2 OK\r\n");
    T_EQ_INT(cli_tls_end(&c), SSL_ERROR_ZERO_RETURN); /* close_notify at the script's end */
    cli_close(&c);
    T_PEER_OK(p);

    /* Plaintext pipelined behind STARTTLS must be caught. */
    if (!(p = start(script, &o)) || cli_connect(&c, peer_port(p)) != 0)
        return;
    cli_line(&c);
    cli_send(&c, "a1 STARTTLS\r\na2 NOOP\r\n");
    cli_line(&c);
    cli_close(&c);
    T_EQ_STR(verdict(p), "peer script line 4: the client sent \"a2 NOOP\\r\\n\" before the TLS handshake");
}

static void test_implicit_tls(void)
{
    struct peer_opts o = {0};
    struct peer *p;
    struct cli c;
    if (make_cert() != 0)
        return;
    o.cert = cert_pem;
    o.key = key_pem;
    if (!(p = start("!tls\nS: * OK tls\nC: a1 LOGOUT\n!close\n", &o)) || cli_connect(&c, peer_port(p)) != 0)
        return;
    T_ASSERT(cli_tls(&c, NULL, 0));
    T_EQ_STR(cli_line(&c), "* OK tls\r\n");
    cli_send(&c, "a1 LOGOUT\r\n");
    T_ASSERT(cli_tls_end(&c) != SSL_ERROR_ZERO_RETURN); /* !close: no close_notify */
    cli_close(&c);
    T_PEER_OK(p);
}

static void test_tls_half_close(void)
{
    struct peer_opts o = {0};
    struct peer *p;
    struct cli c;
    if (make_cert() != 0)
        return;
    o.cert = cert_pem;
    o.key = key_pem;
    p = start("S: plain\n!close\n!accept\n!tls\nS: * BYE\n!shutdown-write\nC: a1 late\n", &o);
    if (!p || cli_connect(&c, peer_port(p)) != 0)
        return;
    T_EQ_STR(cli_line(&c), "plain\r\n");
    cli_close(&c);
    if (cli_connect(&c, peer_port(p)) != 0)
        return;
    T_ASSERT(cli_tls(&c, NULL, 0));
    T_EQ_STR(cli_line(&c), "* BYE\r\n");
    T_EQ_INT(cli_tls_end(&c), SSL_ERROR_ZERO_RETURN);
    cli_send(&c, "a1 late\r\n"); /* TLS 1.3 lets the client go on after close_notify */
    cli_close(&c);
    T_PEER_OK(p);
}

static void test_alpn(void)
{
    static const char offer[] = "\x04imap\x04pop3";
    struct peer_opts o = {.alpn = "pop3"};
    struct peer *p;
    struct cli c;
    const unsigned char *sel;
    unsigned int sellen;
    if (make_cert() != 0)
        return;
    o.cert = cert_pem;
    o.key = key_pem;
    /* Forced: the client prefers imap, the peer picks pop3 anyway. */
    if (!(p = start("!tls\nS: hi\n", &o)) || cli_connect(&c, peer_port(p)) != 0)
        return;
    T_ASSERT(cli_tls(&c, offer, sizeof(offer) - 1));
    SSL_get0_alpn_selected(c.ssl, &sel, &sellen);
    T_EQ_MEM(sel, sellen, "pop3", 4);
    T_EQ_STR(cli_line(&c), "hi\r\n");
    cli_close(&c);
    T_PEER_OK(p);

    /* An id the client never offered: OpenSSL's client refuses it. */
    o.alpn = "h2";
    if (!(p = start("!tls-abort\n", &o)) || cli_connect(&c, peer_port(p)) != 0)
        return;
    T_ASSERT(!cli_tls(&c, offer, sizeof(offer) - 1));
    cli_close(&c);
    T_PEER_OK(p);

    /* !tls-abort fails when the client carries on. */
    o.alpn = NULL;
    if (!(p = start("!tls-abort\n", &o)) || cli_connect(&c, peer_port(p)) != 0)
        return;
    T_ASSERT(cli_tls(&c, NULL, 0));
    cli_send(&c, "hello\r\n");
    cli_eof(&c);
    cli_close(&c);
    T_EQ_STR(verdict(p), "peer script line 1: expected the client to abort the TLS handshake, "
                         "but it completed it and sent \"hello\"");
}

static void test_bad_scripts(void)
{
    static const char *const bad[] = {
        "S: a\\q\n", "!bogus\n", "C~ (\n", "S: x\n!close\nS: y\n", "!starttls\n",
        "!sleep x\n", "!sleep\n", "X: y\n", "C* text\n", "!close now\n", "S: a\n!tls\n",
        "!shutdown-write\nS: more\n", "!send-file\n", "C: \\x4\n", NULL,
    };
    struct peer *p;
    /* The refusals print to stderr; keep the test's own output readable. */
    int saved = dup(2), null = open("/dev/null", O_WRONLY);
    fflush(stderr);
    dup2(null, 2);
    for (const char *const *s = bad; *s; s++) {
        p = NULL;
        int r = peer_start(&p, *s, NULL);
        fflush(stderr);
        dup2(saved, 2);
        if (r != -1 || p)
            t_fail(__FILE__, __LINE__, "accepted a bad script: \"%s\"", *s);
        if (p)
            peer_finish(p, NULL);
        dup2(null, 2);
    }
    dup2(saved, 2);
    close(saved);
    close(null);
}

int main(int argc, char **argv)
{
    static const struct t_case cases[] = {
        {"basic", test_basic},
        {"mismatch", test_mismatch},
        {"bare_lf", test_bare_lf},
        {"regex", test_regex},
        {"literals", test_literals},
        {"timeout", test_timeout},
        {"no_client", test_no_client},
        {"early_close", test_early_close},
        {"expect_close", test_expect_close},
        {"trailing_data", test_trailing_data},
        {"hangups", test_hangups},
        {"accept", test_accept},
        {"sleep", test_sleep},
        {"big", test_big},
        {"starttls", test_starttls},
        {"implicit_tls", test_implicit_tls},
        {"tls_half_close", test_tls_half_close},
        {"alpn", test_alpn},
        {"bad_scripts", test_bad_scripts},
        {NULL, NULL},
    };
    return t_main(argc, argv, cases);
}
