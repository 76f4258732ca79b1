/* The imclient compatibility library against scripted peers: the exact
 * bytes imclient_send() writes, callback routing and replacement, reply
 * texts, connect's return codes, the caller's select loop, refused calls
 * inside callbacks, EOF completions, STARTTLS's warning, and mechanisms. */
#include <cyrus/imclient.h>
#include <cyrus/sasl.h>
#include <cyrus/xmalloc.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#include "itest.h"
#include "peer.h"
#include "t.h"

static struct peer *peer_with(const char *script, int tls)
{
    struct peer *p = NULL;
    struct peer_opts o = {.timeout_ms = 5000};
    if (tls) {
        o.cert = t_env("SELFSIGNED_CERT");
        o.key = t_env("SELFSIGNED_KEY");
    }
    char full[8192];
    int ends = strstr(script, "!close") || strstr(script, "!expect-close") || strstr(script, "!tls-abort");
    snprintf(full, sizeof(full), "%s%s", script, ends ? "" : "!expect-close\n");
    if (peer_start(&p, full, &o) != 0) {
        fprintf(stderr, "peer_start failed\n");
        exit(1);
    }
    return p;
}

static struct peer *peer(const char *script)
{
    return peer_with(script, 0);
}

static struct imclient *open_peer(struct peer *p)
{
    char port[16];
    struct imclient *im = NULL;
    snprintf(port, sizeof(port), "%d", peer_port(p));
    int rc = imclient_connect(&im, "127.0.0.1", port);
    if (rc != 0 || !im) {
        t_fail(__FILE__, __LINE__, "imclient_connect: %d", rc);
        exit(1);
    }
    return im;
}

#define GREETING "S: * OK [CAPABILITY IMAP4rev1] peer ready\n"

/* --- connect ---------------------------------------------------------------- */

static void test_connect_codes(void)
{
    struct imclient *im = NULL;
    T_EQ_INT(imclient_connect(&im, "no-such-host.invalid", "143"), -1);
    T_EQ_INT(imclient_connect(&im, "127.0.0.1", "no-such-service-posta"), -2);
    T_EQ_INT(imclient_connect(&im, "127.0.0.1", "0"), -2);

    /* A port nobody listens on: the errno of connect(2). */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    T_EQ_INT(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
    T_EQ_INT(getsockname(s, (struct sockaddr *)&sa, &len), 0);
    close(s);
    char port[16];
    snprintf(port, sizeof(port), "%d", ntohs(sa.sin_port));
    T_EQ_INT(imclient_connect(&im, "127.0.0.1", port), ECONNREFUSED);
    T_ASSERT(im == NULL);
}

/* The greeting reaches an "OK" callback registered after connecting, and
 * servername is the host's canonical name. */
static void test_greeting_and_servername(void)
{
    struct peer *p = peer(GREETING);
    struct imclient *im = open_peer(p);
    struct rec ok = {0};
    T_EQ_STR(imclient_servername(im), "127.0.0.1");
    imclient_addcallback(im, "OK", 0, rec_proc, &ok, NULL);
    run_until(im, &ok.calls, 1);
    T_EQ_STR(ok.keyword, "OK");
    T_EQ_INT(ok.msgno, -1);
    T_EQ_STR(ok.text, "[CAPABILITY IMAP4rev1] peer ready");
    imclient_close(im);
    peer_ok(p);
}

/* --- callbacks ---------------------------------------------------------------- */

static void scribble(struct imclient *im, void *rock, struct imclient_reply *reply)
{
    rec_proc(im, rock, reply);
    /* The man page lets callbacks overwrite the text. */
    memset(reply->text, 'x', strlen(reply->text));
}

static void test_callback_routing(void)
{
    struct peer *p = peer(GREETING "C: a0001 NOOP\n"
                                   "S: * 3 EXISTS\n"
                                   "S: * 0 RECENT\n"
                                   "S: * FLAGS (\\\\Seen \\\\Deleted)\n"
                                   "S: * 1 FETCH (FLAGS (\\\\Seen))\n"
                                   "S: * XSTRANGE some text\n"
                                   "S: * B not registered\n"
                                   "S: * 2 FETCH (BODY[] {5}\n"
                                   "S+ hello)\\r\\n\n"
                                   "S: * 4 expunge\n"
                                   "S: a0001 OK NOOP done\n");
    struct imclient *im = open_peer(p);
    struct rec exists = {0}, recent = {0}, flags1 = {0}, flags2 = {0}, dflt = {0}, fetch = {0}, b = {0},
               expunge = {0}, done = {0};
    imclient_addcallback(im, "EXISTS", CALLBACK_NUMBERED, rec_proc, &exists,
                         "RECENT", CALLBACK_NUMBERED, (imclient_proc_t *)NULL, &recent,
                         "FLAGS", 0, rec_proc, &flags1,
                         "", 0, rec_proc, &dflt,
                         /* unnumbered: not for "* 1 FETCH" */
                         "FETCH", 0, rec_proc, &fetch,
                         NULL,
                         "B", 0, rec_proc, &b);
    /* A second call for the same keyword and flags changes it. */
    imclient_addcallback(im, "FLAGS", 0, scribble, &flags2, "EXPUNGE", CALLBACK_NUMBERED, rec_proc, &expunge,
                         NULL);
    imclient_send(im, rec_proc, &done, "NOOP");
    run_until(im, &done.calls, 1);

    T_EQ_INT(exists.calls, 1);
    T_EQ_STR(exists.keyword, "EXISTS");
    T_EQ_INT(exists.msgno, 3);
    T_EQ_STR(exists.text, "");
    T_EQ_INT(recent.calls, 0);
    T_EQ_INT(flags1.calls, 0);
    T_EQ_INT(flags2.calls, 1);
    T_EQ_INT(flags2.msgno, -1);
    T_EQ_STR(flags2.text, "(\\Seen \\Deleted)");
    T_EQ_INT(fetch.calls, 0);
    T_EQ_INT(b.calls, 0);
    /* Keywords match whatever their case. */
    T_EQ_INT(expunge.calls, 1);
    T_EQ_STR(expunge.keyword, "expunge");
    /* The default saw the greeting ("OK" has no procedure), RECENT (NULL
     * proc), both FETCHes, XSTRANGE and B, the last being the literal
     * FETCH, text as sent. */
    T_EQ_INT(dflt.calls, 6);
    T_EQ_STR(dflt.keyword, "FETCH");
    T_EQ_INT(dflt.msgno, 2);
    T_EQ_STR(dflt.text, "(BODY[] {5}\r\nhello)");
    T_EQ_INT(done.calls, 1);
    T_EQ_STR(done.keyword, "OK");
    T_EQ_INT(done.msgno, -1);
    T_EQ_STR(done.text, "NOOP done");
    imclient_close(im);
    peer_ok(p);
}

/* --- sending ------------------------------------------------------------------- */

static void test_send_formats(void)
{
    struct peer *p = peer(GREETING "C: a0001 CREATE \"a b\"\n"
                                   "S: a0001 OK\n"
                                   "C: a0002 CREATE \"q\\\\\"uote\" \"back\\\\\\\\slash\" \"p%c*t\" \"{br}ace\"\n"
                                   "S: a0002 OK\n"
                                   "C: a0003 STORE 1 +FLAGS (\\\\Seen) -5 4000000000 100%\n"
                                   "S: a0003 OK\n"
                                   "C: a0004 LIST INBOX \"a b\" \"\" x\n"
                                   "S: a0004 OK\n"
                                   "C: a0005 LIST  x\n"
                                   "S: a0005 OK\n"
                                   "C: a0006 CREATE {5}\n"
                                   "S: + go ahead\n"
                                   "C+ caf\\xc3\\xa9\\r\\n\n"
                                   "S: a0006 NO no 8-bit names here\n");
    struct imclient *im = open_peer(p);
    struct rec r[6];
    memset(r, 0, sizeof(r));
    char *vec[] = {"INBOX", "a b", "", NULL}, *empty[] = {NULL};
    imclient_send(im, rec_proc, &r[0], "CREATE %s", "a b");
    imclient_send(im, rec_proc, &r[1], "CREATE %s %s %s %s", "q\"uote", "back\\slash", "p%c*t", "{br}ace");
    imclient_send(im, rec_proc, &r[2], "STORE %d +FLAGS %a %d %u 100%%", 1, "(\\Seen)", -5, 4000000000u);
    imclient_send(im, rec_proc, &r[3], "LIST %v x", vec);
    imclient_send(im, rec_proc, &r[4], "LIST %v x", empty);
    imclient_send(im, rec_proc, &r[5], "CREATE %s", "caf\xc3\xa9");
    run_until(im, &r[5].calls, 1);
    for (int i = 0; i < 5; i++)
        T_EQ_STR(r[i].keyword, "OK");
    T_EQ_STR(r[5].keyword, "NO");
    T_EQ_STR(r[5].text, "no 8-bit names here");
    imclient_close(im);
    peer_ok(p);
}

/* A synchronizing literal waits for "+"; a NO instead ends the command
 * without its data. */
static void test_literal_refused(void)
{
    struct peer *p = peer(GREETING "C: a0001 CREATE {5}\n"
                                   "S: a0001 NO too long\n"
                                   "C: a0002 NOOP\n"
                                   "S: a0002 OK\n");
    struct imclient *im = open_peer(p);
    struct rec a = {0}, b = {0};
    imclient_send(im, rec_proc, &a, "CREATE %s", "caf\xc3\xa9");
    imclient_send(im, rec_proc, &b, "NOOP");
    run_until(im, &b.calls, 1);
    T_EQ_STR(a.keyword, "NO");
    T_EQ_STR(b.keyword, "OK");
    imclient_close(im);
    peer_ok(p);
}

/* With LITERAL+ announced and the flag set, literals do not wait. */
static void test_nonsync_literal(void)
{
    struct peer *p = peer("S: * OK [CAPABILITY IMAP4rev1 LITERAL+] hi\n"
                          "C: a0001 CREATE {5+}\n"
                          "C+ caf\\xc3\\xa9\\r\\n\n"
                          "S: a0001 OK\n");
    struct imclient *im = open_peer(p);
    struct rec a = {0}, hi = {0};
    /* Literal styles follow the capabilities: known once the greeting is. */
    imclient_addcallback(im, "OK", 0, rec_proc, &hi, NULL);
    run_until(im, &hi.calls, 1);
    imclient_setflags(im, IMCLIENT_CONN_NONSYNCLITERAL);
    T_EQ_INT(imclient_getflags(im), IMCLIENT_CONN_NONSYNCLITERAL);
    imclient_send(im, rec_proc, &a, "CREATE %s", "caf\xc3\xa9");
    run_until(im, &a.calls, 1);
    T_EQ_STR(a.keyword, "OK");
    imclient_clearflags(im, IMCLIENT_CONN_NONSYNCLITERAL);
    T_EQ_INT(imclient_getflags(im), 0);
    imclient_close(im);
    peer_ok(p);
}

/* The flag says the server takes LITERAL+ even when it did not announce
 * it: the literal goes out without waiting for "+". */
static void test_nonsync_flag_forces(void)
{
    struct peer *p = peer(GREETING "C: a0001 CREATE {5+}\n"
                                   "C+ caf\\xc3\\xa9\\r\\n\n"
                                   "S: a0001 OK\n");
    struct imclient *im = open_peer(p);
    struct rec a = {0}, hi = {0};
    imclient_addcallback(im, "OK", 0, rec_proc, &hi, NULL);
    run_until(im, &hi.calls, 1);
    imclient_setflags(im, IMCLIENT_CONN_NONSYNCLITERAL);
    imclient_send(im, rec_proc, &a, "CREATE %s", "caf\xc3\xa9");
    run_until(im, &a.calls, 1);
    T_EQ_STR(a.keyword, "OK");
    imclient_close(im);
    peer_ok(p);
}

/* Commands that cannot be sent safely are not sent: BAD for the finishproc;
 * an unknown %-sequence also goes to fatal(). */
static void test_send_refused(void)
{
    struct peer *p = peer(GREETING "C: a0001 NOOP\n"
                                   "S: a0001 OK\n");
    struct imclient *im = open_peer(p);
    struct rec bad1 = {0}, bad2 = {0}, bad3 = {0}, ok = {0};
    int before = itest_fatal_calls;
    imclient_send(im, rec_proc, &bad1, "SELECT %a", "INBOX\r\nX LOGOUT");
    imclient_send(im, rec_proc, &bad2, "SELECT %q", "INBOX");
    T_EQ_INT(itest_fatal_calls, before + 1);
    T_CONTAINS(itest_fatal_msg, "invalid format specifier");
    imclient_send(im, rec_proc, &bad3, "SELECT %s", (char *)NULL);
    imclient_send(im, rec_proc, &ok, "NOOP");
    run_until(im, &ok.calls, 1);
    T_EQ_STR(bad1.keyword, "BAD");
    T_EQ_STR(bad2.keyword, "BAD");
    T_EQ_STR(bad3.keyword, "BAD");
    T_EQ_STR(ok.keyword, "OK");
    imclient_close(im);
    peer_ok(p);
}

/* --- forbidden calls, EOF --------------------------------------------------------- */

struct misbehave {
    struct rec inner;
    int auth_rc, tls_rc;
};

static void misbehaving(struct imclient *im, void *rock, struct imclient_reply *reply)
{
    struct misbehave *m = rock;
    struct sasl_client *mechs[] = {&plain_sasl_client, NULL};
    (void)reply;
    imclient_send(im, rec_proc, &m->inner, "NOOP");
    imclient_processoneevent(im);
    m->auth_rc = imclient_authenticate(im, mechs, "imap", "u", SASL_PROT_ANY);
    m->tls_rc = imclient_starttls(im, NULL, NULL, NULL, NULL);
    imclient_close(im);
}

static void test_forbidden_in_callbacks(void)
{
    struct peer *p = peer(GREETING "C: a0001 NOOP\n"
                                   "S: a0001 OK\n"
                                   "C: a0002 NOOP\n"
                                   "S: a0002 OK\n");
    struct imclient *im = open_peer(p);
    struct misbehave m = {{0}, 0, 0};
    struct rec after = {0};
    int before = itest_fatal_calls;
    imclient_send(im, misbehaving, &m, "NOOP");
    run_until(im, &m.inner.calls, 1);
    T_EQ_INT(itest_fatal_calls, before + 5);
    T_CONTAINS(itest_fatal_msg, "imclient_close");
    T_EQ_INT(m.auth_rc, 1);
    T_EQ_INT(m.tls_rc, 1);
    T_EQ_STR(m.inner.keyword, "BAD");
    /* Nothing happened to the connection. */
    imclient_send(im, rec_proc, &after, "NOOP");
    run_until(im, &after.calls, 1);
    T_EQ_STR(after.keyword, "OK");
    imclient_close(im);
    peer_ok(p);
}

static void test_eof(void)
{
    struct peer *p = peer(GREETING "C: a0001 NOOP\n"
                                   "C: a0002 NOOP\n"
                                   "!close\n");
    struct imclient *im = open_peer(p);
    struct rec a = {0}, b = {0}, c = {0};
    imclient_send(im, rec_proc, &a, "NOOP");
    imclient_send(im, rec_proc, &b, "NOOP");
    run_until(im, &b.calls, 1);
    T_EQ_STR(a.keyword, "EOF");
    T_EQ_STR(a.text, "");
    T_EQ_STR(b.keyword, "EOF");
    /* After the end, a command completes with EOF too. */
    imclient_send(im, rec_proc, &c, "NOOP");
    run_until(im, &c.calls, 1);
    T_EQ_STR(c.keyword, "EOF");
    imclient_close(im);
    peer_ok(p);
}

static void test_close_pending(void)
{
    struct peer *p = peer(GREETING "C: a0001 NOOP\n");
    struct imclient *im = open_peer(p);
    struct rec a = {0};
    imclient_send(im, rec_proc, &a, "NOOP");
    /* Commands wait for the greeting: read it, let the command reach the
     * peer, then close with it pending. */
    int fd, ww;
    imclient_processoneevent(im);
    for (int i = 0; i < 20; i++) {
        imclient_getselectinfo(im, &fd, &ww);
        if (!ww)
            break;
        imclient_processoneevent(im);
    }
    imclient_close(im);
    T_EQ_INT(a.calls, 1);
    T_EQ_STR(a.keyword, "EOF");
    peer_ok(p);
}

/* --- the caller's select loop ------------------------------------------------------- */

static void test_select_loop(void)
{
    struct peer *p = peer(GREETING "C: a0001 NOOP\n"
                                   "S: * 5 EXISTS\n"
                                   "S: a0001 OK\n"
                                   "C: a0002 CHECK\n"
                                   "S: a0002 OK checked\n");
    struct imclient *im = open_peer(p);
    struct rec ex = {0}, a = {0}, b = {0};
    imclient_addcallback(im, "EXISTS", CALLBACK_NUMBERED, rec_proc, &ex, NULL);
    imclient_send(im, rec_proc, &a, "NOOP");
    imclient_send(im, rec_proc, &b, "CHECK");
    int rounds = 0;
    while (b.calls == 0 && rounds++ < 200) {
        int fd, ww;
        fd_set r, w;
        struct timeval tv = {5, 0};
        imclient_getselectinfo(im, &fd, &ww);
        FD_ZERO(&r);
        FD_ZERO(&w);
        FD_SET(fd, &r);
        if (ww)
            FD_SET(fd, &w);
        if (select(fd + 1, &r, &w, NULL, &tv) <= 0)
            break;
        imclient_processoneevent(im);
    }
    T_EQ_INT(ex.msgno, 5);
    T_EQ_STR(a.keyword, "OK");
    T_EQ_STR(b.text, "checked");
    imclient_close(im);
    peer_ok(p);
}

/* --- STARTTLS ------------------------------------------------------------------------ */

struct tls_call {
    struct imclient *im;
    char *cafile;
    int rc;
};

static void call_starttls(void *arg)
{
    struct tls_call *c = arg;
    c->rc = imclient_starttls(c->im, NULL, NULL, c->cafile, NULL);
}

static void test_starttls_warning(void)
{
    struct peer *p = peer_with("S: * OK [CAPABILITY IMAP4rev1 STARTTLS] hi\n"
                               "C: a0001 STARTTLS\n"
                               "S: a0001 OK begin\n"
                               "!starttls\n"
                               "C: a0002 CAPABILITY\n"
                               "S: * CAPABILITY IMAP4rev1\n"
                               "S: a0002 OK\n"
                               "C: a0003 NOOP\n"
                               "S: a0003 OK over TLS\n",
                               1);
    struct imclient *im = open_peer(p);
    struct tls_call c = {im, NULL, -1};
    struct rec r = {0};
    T_EQ_INT(imclient_havetls(), 1);
    const char *out = capture_stdout(call_starttls, &c);
    T_EQ_INT(c.rc, 0);
    T_CONTAINS(out, "could not be validated");
    T_CONTAINS(out, "self-signed");
    imclient_send(im, rec_proc, &r, "NOOP");
    run_until(im, &r.calls, 1);
    T_EQ_STR(r.text, "over TLS");
    imclient_close(im);
    peer_ok(p);
}

/* With a CA given, a certificate it did not sign fails the handshake. */
static void test_starttls_verify_fails(void)
{
    struct peer *p = peer_with("S: * OK [CAPABILITY IMAP4rev1 STARTTLS] hi\n"
                               "C: a0001 STARTTLS\n"
                               "S: a0001 OK begin\n"
                               "!tls-abort\n",
                               1);
    struct imclient *im = open_peer(p);
    struct tls_call c = {im, (char *)t_env("CA_FILE"), -1};
    const char *out = capture_stdout(call_starttls, &c);
    T_EQ_INT(c.rc, 1);
    T_CONTAINS(out, "did not succeed");
    imclient_close(im);
    peer_ok(p);
}

/* --- mechanisms ---------------------------------------------------------------------- */

struct xtest_state {
    int steps;
    int done_at;
};

static int xtest_start(void *rock, const char *service, const char *host, const char *user, int protallowed,
                       int maxbufsize, struct sockaddr *la, struct sockaddr *ra, void **state)
{
    (void)service, (void)host, (void)user, (void)maxbufsize, (void)la, (void)ra;
    static struct xtest_state st;
    st.steps = 0;
    st.done_at = *(int *)rock;
    *state = &st;
    return protallowed == SASL_PROT_NONE ? 0 : SASL_FAIL;
}

static int xtest_auth(void *state, int inputlen, char *input, int *outputlen, char **output)
{
    struct xtest_state *st = state;
    static char reply[64];
    snprintf(reply, sizeof(reply), "step%d:%.*s", ++st->steps, inputlen, input);
    *output = reply;
    *outputlen = (int)strlen(reply);
    return st->steps >= st->done_at ? SASL_DONE : 0;
}

static void xtest_free(void *state)
{
    (void)state;
}

static void test_application_mechanism(void)
{
    /* step1:hi = c3RlcDE6aGk=, step2: = c3RlcDI6 */
    struct peer *p = peer(GREETING "C: a0001 AUTHENTICATE XBROKEN\n"
                                   "S: a0001 NO unknown mechanism\n"
                                   "C: a0002 AUTHENTICATE XTEST\n"
                                   "S: + aGk=\n"
                                   "C: c3RlcDE6aGk=\n"
                                   "S: + \n"
                                   "C: c3RlcDI6\n"
                                   "S: a0002 OK welcome\n");
    struct imclient *im = open_peer(p);
    int two = 2;
    struct sasl_client broken = {"XBROKEN", 0, xtest_start, xtest_auth, NULL, xtest_free, NULL, NULL, &two};
    struct sasl_client xtest = {"XTEST", 0, xtest_start, xtest_auth, NULL, xtest_free, NULL, NULL, &two};
    struct sasl_client *mechs[] = {&broken, &xtest, NULL};
    T_EQ_INT(imclient_authenticate(im, mechs, "imap", NULL, SASL_PROT_ANY), 0);
    imclient_close(im);
    peer_ok(p);
}

static void test_premature_ok_and_bad(void)
{
    struct peer *p = peer(GREETING "C: a0001 AUTHENTICATE XTEST\n"
                                   "S: + aGk=\n"
                                   "C: c3RlcDE6aGk=\n"
                                   "S: a0001 OK too early\n"
                                   "C: a0002 AUTHENTICATE XTEST\n"
                                   "S: a0002 BAD no\n");
    struct imclient *im = open_peer(p);
    int two = 2;
    struct sasl_client xtest = {"XTEST", 0, xtest_start, xtest_auth, NULL, xtest_free, NULL, NULL, &two};
    struct sasl_client *mechs[] = {&xtest, &xtest, NULL};
    T_EQ_INT(imclient_authenticate(im, mechs, "imap", NULL, SASL_PROT_ANY), 2);
    /* BAD ends the attempt: the second XTEST is not tried. */
    T_EQ_INT(imclient_authenticate(im, mechs, "imap", NULL, SASL_PROT_ANY), 1);
    /* Without SASL_PROT_NONE nothing can be offered to it: nothing sent. */
    T_EQ_INT(imclient_authenticate(im, mechs, "imap", NULL, SASL_PROT_PRIVACY), 1);
    imclient_close(im);
    peer_ok(p);
}

static int password_proc(struct imclient *im, void *rock, const char *mech, const char *user, char *buf,
                         size_t size)
{
    (void)im;
    snprintf((char *)rock, 64, "%s/%s", mech, user);
    snprintf(buf, size, "%s", "alicepw");
    return 0;
}

static void test_plain_descriptor(void)
{
    /* AGFsaWNlAGFsaWNlcHc= is "\0alice\0alicepw". */
    struct peer *p = peer("S: * OK [CAPABILITY IMAP4rev1 AUTH=PLAIN AUTH=SCRAM-SHA-256] hi\n"
                          "C: a0001 AUTHENTICATE PLAIN\n"
                          "S: + \n"
                          "C: AGFsaWNlAGFsaWNlcHc=\n"
                          "S: a0001 OK [CAPABILITY IMAP4rev1] logged in\n");
    struct imclient *im = open_peer(p);
    struct sasl_client *mechs[] = {&krb_sasl_client, &plain_sasl_client, NULL};
    char asked[64] = "";
    imclient_setpasswordproc(im, password_proc, asked);
    /* Cleartext PLAIN needs the explicit flag. */
    T_EQ_INT(imclient_authenticate(im, mechs, "imap", "alice", SASL_PROT_ANY), 1);
    T_EQ_STR(asked, "");
    imclient_setflags(im, IMCLIENT_CONN_PLAINTEXT);
    T_EQ_INT(imclient_authenticate(im, mechs, "imap", "alice", SASL_PROT_ANY), 0);
    T_EQ_STR(asked, "PLAIN/alice");
    imclient_close(im);
    peer_ok(p);
}

/* The server says OK before SCRAM has proved it knows the password. */
static void test_scram_premature_ok(void)
{
    struct peer *p = peer("S: * OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=SCRAM-SHA-256] hi\n"
                          "C~ a0001 AUTHENTICATE SCRAM-SHA-256 [A-Za-z0-9+/=]+\n"
                          "S: a0001 OK sure\n");
    struct imclient *im = open_peer(p);
    struct sasl_client *mechs[] = {&scram_sha_256_sasl_client, NULL};
    char asked[64] = "";
    imclient_setpasswordproc(im, password_proc, asked);
    T_EQ_INT(imclient_authenticate(im, mechs, "imap", "alice", SASL_PROT_ANY), 2);
    imclient_close(im);
    peer_ok(p);
}

static void test_xmalloc(void)
{
    char *s = xstrdup("abc");
    T_EQ_STR(s, "abc");
    free(s);
    s = xstrndup("abcdef", 3);
    T_EQ_STR(s, "abc");
    free(s);
    T_ASSERT(xstrdupnull(NULL) == NULL);
    s = xstrdupsafe(NULL);
    T_EQ_STR(s, "");
    free(s);
    char *z = xzmalloc(16);
    T_EQ_INT(z[15], 0);
    z = xrealloc(z, 32);
    free(z);
    free(xmalloc(0));
    T_EQ_STR(sasl_prottostring(SASL_PROT_PRIVACY), "privacy protection");
}

int main(int argc, char **argv)
{
    static const struct t_case cases[] = {
        {"connect_codes", test_connect_codes},
        {"greeting_and_servername", test_greeting_and_servername},
        {"callback_routing", test_callback_routing},
        {"send_formats", test_send_formats},
        {"literal_refused", test_literal_refused},
        {"nonsync_literal", test_nonsync_literal},
        {"nonsync_flag_forces", test_nonsync_flag_forces},
        {"send_refused", test_send_refused},
        {"forbidden_in_callbacks", test_forbidden_in_callbacks},
        {"eof", test_eof},
        {"close_pending", test_close_pending},
        {"select_loop", test_select_loop},
        {"starttls_warning", test_starttls_warning},
        {"starttls_verify_fails", test_starttls_verify_fails},
        {"application_mechanism", test_application_mechanism},
        {"premature_ok_and_bad", test_premature_ok_and_bad},
        {"plain_descriptor", test_plain_descriptor},
        {"scram_premature_ok", test_scram_premature_ok},
        {"xmalloc", test_xmalloc},
        {NULL, NULL},
    };
    return t_main(argc, argv, cases);
}
