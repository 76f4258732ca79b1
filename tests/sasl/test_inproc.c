/* posta_sasl against a libsasl2 server in the same process: SCRAM with and
 * without channel binding (and the downgrade it must detect), a forged
 * server signature, proxy authorization, and the DIGEST-MD5 security layer
 * stacked on a posta_stream over a socketpair. */
#include <posta/sasl.h>
#include <posta/stream.h>
#include <posta/util.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sasl/sasl.h>
#include <sasl/saslplug.h>

#include "t.h"

#define PROC(f) ((int (*)(void))(void (*)(void))(f))

/* --- the server: passwords from a table through an auxprop plugin -------- */

static const char *password_of(const char *user, unsigned ulen)
{
    static const char *table[][2] = {{"alice", "alicepw"}, {"master", "masterpw"}};
    size_t n = strcspn(user, "@");
    if (n > ulen)
        n = ulen;
    for (size_t i = 0; i < 2; i++)
        if (strlen(table[i][0]) == n && memcmp(table[i][0], user, n) == 0)
            return table[i][1];
    return NULL;
}

static int aux_lookup(void *glob, sasl_server_params_t *sp, unsigned flags, const char *user,
                      unsigned ulen)
{
    const struct propval *cur = sp->utils->prop_get(sp->propctx);
    const char *pw = password_of(user, ulen);
    if (!cur)
        return SASL_NOMEM;
    if (!pw)
        return SASL_NOUSER;
    for (; cur->name; cur++) {
        const char *name = cur->name;
        int authid = name[0] == '*';
        if (authid == !!(flags & SASL_AUXPROP_AUTHZID))
            continue;
        if (strcmp(name + authid, SASL_AUX_PASSWORD_PROP) != 0)
            continue;
        if (cur->values && !(flags & SASL_AUXPROP_OVERRIDE))
            continue;
        if (cur->values)
            sp->utils->prop_erase(sp->propctx, cur->name);
        sp->utils->prop_set(sp->propctx, cur->name, pw, (int)strlen(pw));
    }
    return SASL_OK;
}

static sasl_auxprop_plug_t aux_plug = {0, 0, NULL, NULL, aux_lookup, "posta-test", NULL};

static int aux_init(const sasl_utils_t *u, int max_version, int *out_version,
                    sasl_auxprop_plug_t **plug, const char *name)
{
    *out_version = SASL_AUXPROP_PLUG_VERSION;
    *plug = &aux_plug;
    return SASL_OK;
}

static int srv_getopt(void *ctx, const char *plugin, const char *option, const char **result,
                      unsigned *len)
{
    if (strcmp(option, "auxprop_plugin") == 0)
        *result = "posta-test";
    else if (strcmp(option, "pwcheck_method") == 0)
        *result = "auxprop";
    else
        return SASL_FAIL;
    if (len)
        *len = (unsigned)strlen(*result);
    return SASL_OK;
}

/* The master may act as anyone; everyone else only as themselves. */
static int srv_authorize(sasl_conn_t *conn, void *ctx, const char *req, unsigned rlen,
                         const char *auth, unsigned alen, const char *realm, unsigned urlen,
                         struct propctx *props)
{
    if ((alen == 6 && memcmp(auth, "master", 6) == 0) ||
        (rlen == alen && memcmp(req, auth, alen) == 0))
        return SASL_OK;
    return SASL_NOAUTHZ;
}

static int srv_log(void *ctx, int level, const char *msg)
{
    return SASL_OK;
}

static const sasl_callback_t srv_callbacks[] = {
    {SASL_CB_GETOPT, PROC(srv_getopt), NULL},
    {SASL_CB_PROXY_POLICY, PROC(srv_authorize), NULL},
    {SASL_CB_LOG, PROC(srv_log), NULL},
    {SASL_CB_LIST_END, NULL, NULL},
};

static pthread_once_t srv_once = PTHREAD_ONCE_INIT;

static void srv_init(void)
{
    posta_init();  /* posta's mutexes and client init come first */
    if (sasl_server_init(srv_callbacks, "posta-test") != SASL_OK ||
        sasl_auxprop_add_plugin("posta-test", aux_init) != SASL_OK) {
        fprintf(stderr, "cannot start the libsasl2 server\n");
        exit(1);
    }
}

static const unsigned char CB_DATA[32] = "posta channel binding test data";

static sasl_conn_t *server(unsigned max_ssf, unsigned maxbuf, const unsigned char *cb)
{
    sasl_conn_t *c = NULL;
    pthread_once(&srv_once, srv_init);
    T_EQ_INT(sasl_server_new("imap", "localhost", NULL, NULL, NULL, NULL, 0, &c), SASL_OK);
    sasl_security_properties_t sp = {0, max_ssf, maxbuf, 0, NULL, NULL};
    T_EQ_INT(sasl_setprop(c, SASL_SEC_PROPS, &sp), SASL_OK);
    if (cb) {
        static sasl_channel_binding_t b;
        b.name = "tls-exporter";
        b.critical = 0;
        b.len = sizeof(CB_DATA);
        b.data = cb;
        T_EQ_INT(sasl_setprop(c, SASL_CHANNEL_BINDING, &b), SASL_OK);
    }
    return c;
}

static void show_notice(posta_sasl *s, const char *msg, void *user)
{
    if (getenv("POSTA_TEST_VERBOSE"))
        fprintf(stderr, "notice: %s\n", msg);
}

static posta_sasl *client(const char *authcid, const char *pass)
{
    posta_sasl *s = NULL;
    T_EQ_INT(posta_sasl_new(&s, POSTA_SASL_IMAP, "imap", "localhost"), 0);
    posta_sasl_set_initial_response(s, 1);
    posta_sasl_set_notice_cb(s, show_notice, NULL);
    T_EQ_INT(posta_sasl_set_credential(s, POSTA_SASL_AUTHCID, authcid, strlen(authcid)), 0);
    T_EQ_INT(posta_sasl_set_credential(s, POSTA_SASL_PASSWORD, pass, strlen(pass)), 0);
    return s;
}

/* --- the exchange, IMAP-shaped, in memory ----------------------------------- */

struct log {
    char lines[8192];   /* every client line */
    char last[2048];    /* the last client line */
};

static void note(struct log *lg, const char *line, size_t n)
{
    size_t used = strlen(lg->lines);
    snprintf(lg->lines + used, sizeof(lg->lines) - used, "%.*s", (int)n, line);
    snprintf(lg->last, sizeof(lg->last), "%.*s", (int)n, line);
}

static unsigned char *unb64(const char *p, size_t n, size_t *len)
{
    unsigned char *d = NULL;
    T_EQ_INT(posta_base64_decode(p, n, &d, len, NULL), 0);
    return d;
}

/* A server challenge as the client sees it; tamper may change it. */
static int challenge(posta_sasl *c, const char *out, unsigned outlen, struct log *lg,
                     void (*tamper)(char *, size_t), const char **line, size_t *n)
{
    char *b64 = NULL, copy[4096];
    size_t bn = 0;
    snprintf(copy, sizeof(copy), "%.*s", (int)outlen, out ? out : "");
    if (tamper)
        tamper(copy, outlen);
    T_EQ_INT(posta_base64_encode(copy, outlen, &b64, &bn), 0);
    int rc = posta_sasl_on_continuation(c, b64, bn, line, n);
    free(b64);
    if (rc == 0)
        note(lg, *line, *n);
    return rc;
}

/* Run "AUTHENTICATE M [IR]" and its continuations against srv.  Returns
 * what the client's last call returned. */
static int exchange(posta_sasl *c, sasl_conn_t *srv, const char *offered, struct log *lg,
                    void (*tamper)(char *, size_t))
{
    const char *line, *out = NULL;
    size_t n, dn = 0;
    unsigned outlen = 0;
    char mech[32];
    int rc = posta_sasl_start(c, offered, strlen(offered), &line, &n);
    if (rc < 0)
        return rc;
    note(lg, line, n);
    T_EQ_INT(sscanf(line, "AUTHENTICATE %31[A-Z0-9-]", mech), 1);
    const char *ir = line + 13 + strlen(mech);
    unsigned char *d = *ir == ' ' ? unb64(ir + 1, n - 16 - strlen(mech), &dn) : NULL;
    int r = sasl_server_start(srv, mech, (const char *)d, (unsigned)dn, &out, &outlen);
    free(d);
    while (r == SASL_CONTINUE) {
        if ((rc = challenge(c, out, outlen, lg, tamper, &line, &n)) < 0)
            return rc;
        if (strcmp(lg->last, "*\r\n") == 0)
            break;
        d = unb64(line, n - 2, &dn);
        r = sasl_server_step(srv, (const char *)d, (unsigned)dn, &out, &outlen);
        free(d);
    }
    if (r == SASL_OK)
        return posta_sasl_on_success(c, NULL, 0);
    const char *why = strcmp(lg->last, "*\r\n") == 0 ? "canceled" : sasl_errdetail(srv);
    return posta_sasl_on_failure(c, POSTA_SASL_REJECTED, why, strlen(why), &line, &n);
}

static const char *server_user(sasl_conn_t *srv)
{
    const void *u = NULL;
    T_EQ_INT(sasl_getprop(srv, SASL_USERNAME, &u), SASL_OK);
    return u;
}

/* --- SCRAM ---------------------------------------------------------------- */

static void test_scram(void)
{
    struct log lg = {{0}, {0}};
    sasl_conn_t *srv = server(256, 65536, NULL);
    posta_sasl *c = client("alice", "alicepw");
    T_EQ_INT(exchange(c, srv, "SCRAM-SHA-256", &lg, NULL), 0);
    T_EQ_INT(posta_sasl_authenticated(c), 1);
    /* server-final came as a continuation: answered with an empty line */
    T_EQ_STR(lg.last, "\r\n");
    T_EQ_STR(server_user(srv), "alice");
    T_EQ_INT(posta_sasl_ssf(c), 0);
    posta_sasl_free(c);
    sasl_dispose(&srv);
}

static void test_scram_plus(void)
{
    struct log lg = {{0}, {0}};
    sasl_conn_t *srv = server(256, 65536, CB_DATA);
    posta_sasl *c = client("alice", "alicepw");
    T_EQ_INT(posta_sasl_set_channel_binding(c, "tls-exporter", CB_DATA, sizeof(CB_DATA)), 0);
    T_EQ_INT(exchange(c, srv, "SCRAM-SHA-256 SCRAM-SHA-256-PLUS", &lg, NULL), 0);
    T_EQ_STR(posta_sasl_mechanism(c), "SCRAM-SHA-256-PLUS");
    posta_sasl_free(c);
    sasl_dispose(&srv);

    /* Different TLS channels (a man in the middle): the server refuses. */
    unsigned char other[32];
    memcpy(other, CB_DATA, sizeof(other));
    other[0] ^= 1;
    srv = server(256, 65536, CB_DATA);
    c = client("alice", "alicepw");
    T_EQ_INT(posta_sasl_set_channel_binding(c, "tls-exporter", other, sizeof(other)), 0);
    T_EQ_INT(exchange(c, srv, "SCRAM-SHA-256-PLUS", &lg, NULL), POSTA_EAUTH);
    T_EQ_INT(posta_sasl_authenticated(c), 0);
    posta_sasl_free(c);
    sasl_dispose(&srv);
}

/* Someone stripped -PLUS from the offer: the client says "y", and a server
 * that can bind notices. */
static void test_scram_downgrade(void)
{
    struct log lg = {{0}, {0}};
    sasl_conn_t *srv = server(256, 65536, CB_DATA);
    posta_sasl *c = client("alice", "alicepw");
    T_EQ_INT(posta_sasl_set_channel_binding(c, "tls-exporter", CB_DATA, sizeof(CB_DATA)), 0);
    T_EQ_INT(exchange(c, srv, "SCRAM-SHA-256", &lg, NULL), POSTA_EAUTH);
    T_CONTAINS(lg.lines, "AUTHENTICATE SCRAM-SHA-256 eSws");  /* "y,," */
    posta_sasl_free(c);
    sasl_dispose(&srv);
}

/* Flip a character of the server signature "v=...". */
static void forge_signature(char *p, size_t n)
{
    if (n > 3 && p[0] == 'v' && p[1] == '=')
        p[2] = p[2] == 'A' ? 'B' : 'A';
}

static void test_scram_forged_server(void)
{
    struct log lg = {{0}, {0}};
    sasl_conn_t *srv = server(256, 65536, NULL);
    posta_sasl *c = client("alice", "alicepw");
    /* PLAIN is offered too, but an impostor must not get the password. */
    T_EQ_INT(exchange(c, srv, "SCRAM-SHA-256 PLAIN", &lg, forge_signature), POSTA_EAUTH);
    T_EQ_STR(lg.last, "*\r\n");
    T_CONTAINS(posta_sasl_errmsg(c), "SCRAM-SHA-256 was canceled by the client");
    T_ASSERT(strstr(lg.lines, "PLAIN") == NULL);
    posta_sasl_free(c);
    sasl_dispose(&srv);
}

static void test_proxy_authorization(void)
{
    static const char *mechs[] = {"SCRAM-SHA-1", "PLAIN", "DIGEST-MD5", NULL};
    for (int i = 0; mechs[i]; i++) {
        struct log lg = {{0}, {0}};
        sasl_conn_t *srv = server(0, 65536, NULL);
        posta_sasl *c = client("master", "masterpw");
        posta_sasl_set_tls(c, 1, 256, 0);
        T_EQ_INT(posta_sasl_set_credential(c, POSTA_SASL_AUTHZID, "alice", 5), 0);
        T_EQ_INT(posta_sasl_set_mechanisms(c, mechs[i]), 0);
        int rc = exchange(c, srv, mechs[i], &lg, NULL);
        if (rc)
            fprintf(stderr, "%s: %s\n", mechs[i], posta_sasl_errmsg(c));
        T_EQ_INT(rc, 0);
        T_EQ_STR(server_user(srv), "alice");
        posta_sasl_free(c);
        sasl_dispose(&srv);
    }
}

/* --- the security layer ------------------------------------------------------ */

#define LAYER_BYTES 300000

static void pattern(unsigned char *p, size_t n, size_t off)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)("posta security layer test "[(off + i) % 26]);
}

struct far_end {
    sasl_conn_t *srv;
    int fd;
    int ok_in;          /* decoded input matched the pattern */
    int plaintext_seen; /* the pattern crossed the wire in clear */
    int corrupt;        /* send a damaged packet back */
};

static int contains(const unsigned char *p, size_t n, const char *s)
{
    size_t k = strlen(s);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(p + i, s, k) == 0)
            return 1;
    return 0;
}

static int write_full(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Read and decode until all bytes arrived, then echo them encoded in
 * packets as large as the client accepts. */
static void *far_end_run(void *arg)
{
    struct far_end *fe = arg;
    unsigned char raw[8192], want[8192];
    size_t got = 0;
    fe->ok_in = 1;
    while (got < LAYER_BYTES) {
        ssize_t r = read(fe->fd, raw, sizeof(raw));
        if (r <= 0) {
            fe->ok_in = 0;
            return NULL;
        }
        if (contains(raw, (size_t)r, "security layer"))
            fe->plaintext_seen = 1;
        const char *out;
        unsigned outlen;
        if (sasl_decode(fe->srv, (const char *)raw, (unsigned)r, &out, &outlen) != SASL_OK) {
            fe->ok_in = 0;
            return NULL;
        }
        for (unsigned done = 0; done < outlen;) {
            unsigned k = outlen - done < sizeof(want) ? outlen - done : (unsigned)sizeof(want);
            pattern(want, k, got);
            fe->ok_in &= memcmp(out + done, want, k) == 0;
            done += k;
            got += k;
        }
    }
    const void *mo;
    sasl_getprop(fe->srv, SASL_MAXOUTBUF, &mo);
    unsigned maxout = *(const unsigned *)mo;
    for (size_t sent = 0; sent < LAYER_BYTES;) {
        unsigned char chunk[8192];
        size_t k = LAYER_BYTES - sent;
        if (k > maxout)
            k = maxout;
        if (k > sizeof(chunk))
            k = sizeof(chunk);
        pattern(chunk, k, sent);
        const char *out;
        unsigned outlen;
        if (sasl_encode(fe->srv, (const char *)chunk, (unsigned)k, &out, &outlen) != SASL_OK)
            return NULL;
        char copy[20000];
        memcpy(copy, out, outlen);
        if (fe->corrupt && sent > 0)
            copy[outlen / 2] ^= 0x20;
        if (write_full(fe->fd, copy, outlen) < 0)
            return NULL;
        sent += k;
    }
    return NULL;
}

/* DIGEST-MD5 with a layer (qop auth-int when max is 1, else auth-conf),
 * small buffers both ways, then 300000 bytes each way through the stream. */
static void layer_roundtrip(unsigned max_ssf, int corrupt)
{
    struct log lg = {{0}, {0}};
    sasl_conn_t *srv = server(256, 1024, NULL);
    posta_sasl *c = client("alice", "alicepw");
    posta_sasl_set_ssf(c, 1, max_ssf);
    posta_sasl_set_maxbuf(c, 2048);
    T_EQ_INT(exchange(c, srv, "DIGEST-MD5 SCRAM-SHA-256 PLAIN", &lg, NULL), 0);
    T_EQ_STR(posta_sasl_mechanism(c), "DIGEST-MD5");
    unsigned ssf = posta_sasl_layer_ssf(c);
    if (max_ssf == 1)
        T_EQ_INT(ssf, 1);
    else
        T_ASSERT(ssf > 1);
    T_EQ_INT(posta_sasl_ssf(c), ssf);

    int sv[2];
    T_EQ_INT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    posta_stream *st = NULL;
    T_EQ_INT(posta_stream_new(&st), 0);
    posta_stream_set_timeouts(st, 10000, 10000);
    T_EQ_INT(posta_stream_attach_fd(st, sv[0], "localhost"), 0);
    T_EQ_INT(posta_sasl_install_layer(c, st), 0);
    T_EQ_INT(posta_sasl_install_layer(c, st), POSTA_ESTATE);

    struct far_end fe = {srv, sv[1], 0, 0, corrupt};
    pthread_t th;
    T_EQ_INT(pthread_create(&th, NULL, far_end_run, &fe), 0);
    unsigned char *buf = malloc(LAYER_BYTES), *back = malloc(LAYER_BYTES);
    pattern(buf, LAYER_BYTES, 0);
    T_EQ_INT(posta_stream_write_all(st, buf, LAYER_BYTES), 0);
    size_t got = 0;
    long r = 0;
    while (got < LAYER_BYTES && (r = posta_stream_read_blocking(st, back + got, LAYER_BYTES - got)) > 0)
        got += (size_t)r;
    if (corrupt) {
        T_EQ_INT(r, POSTA_EPROTO);
        T_CONTAINS(posta_stream_errmsg(st), "SASL security layer: decoding failed");
    } else {
        T_EQ_INT(got, LAYER_BYTES);
        T_ASSERT(memcmp(buf, back, LAYER_BYTES) == 0);
    }
    posta_stream_free(st);  /* closes sv[0]: the far end stops */
    pthread_join(th, NULL);
    T_EQ_INT(fe.ok_in, 1);
    T_EQ_INT(fe.plaintext_seen, max_ssf > 1 ? 0 : 1);
    close(sv[1]);
    free(buf);
    free(back);
    posta_sasl_free(c);
    sasl_dispose(&srv);
}

static void test_layer_integrity(void) { layer_roundtrip(1, 0); }
static void test_layer_confidentiality(void) { layer_roundtrip(256, 0); }
static void test_layer_tampered(void) { layer_roundtrip(1, 1); }

/* The minimum is checked after success too: an SSF of 0 against min 1 is
 * refused by libsasl2 before anything is sent. */
static void test_layer_required(void)
{
    struct log lg = {{0}, {0}};
    sasl_conn_t *srv = server(0, 65536, NULL);  /* a server without layers */
    posta_sasl *c = client("alice", "alicepw");
    posta_sasl_set_ssf(c, 1, 256);
    int rc = exchange(c, srv, "DIGEST-MD5", &lg, NULL);
    T_ASSERT(rc < 0);
    T_EQ_INT(posta_sasl_authenticated(c), 0);
    posta_sasl_free(c);
    sasl_dispose(&srv);
}

int main(int argc, char **argv)
{
    static const struct t_case cases[] = {
        {"scram", test_scram},
        {"scram_plus", test_scram_plus},
        {"scram_downgrade", test_scram_downgrade},
        {"scram_forged_server", test_scram_forged_server},
        {"proxy_authorization", test_proxy_authorization},
        {"layer_integrity", test_layer_integrity},
        {"layer_confidentiality", test_layer_confidentiality},
        {"layer_tampered", test_layer_tampered},
        {"layer_required", test_layer_required},
        {NULL, NULL},
    };
    /* No sasl_server_done(): the plugins stay mapped, so that LeakSanitizer
     * can name libdigestmd5.so in its report (see tests/lsan.supp). */
    return t_main(argc, argv, cases);
}
