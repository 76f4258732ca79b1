/* posta connect: connect, upgrade to TLS as asked, and show the greeting,
 * the TLS facts and the verification verdict in words. */
#include <posta/posta.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "tool.h"

enum { EXIT_VERIFY = 1, EXIT_FAIL = 2, EXIT_USAGE = 64 };
enum proto { PROTO_NONE, PROTO_IMAP, PROTO_POP3, PROTO_SMTP };

struct conn {
    posta_stream *s;
    char buf[16384];  /* bytes read but not yet handed out as lines */
    size_t len;
};

static const char usage_text[] =
    "usage: posta connect [--tls | --starttls imap|pop3|smtp] [--cafile F] [--capath D]\n"
    "                     [--cert F [--key F]] [--alpn ID] [--servername NAME]\n"
    "                     [--insecure] [--timeout S] HOST[:PORT]\n"
    "\n"
    "Connect to a mail server, upgrade to TLS as asked, and show the greeting, the\n"
    "TLS protocol, cipher and certificate, and whether the certificate was verified.\n"
    "\n"
    "  --tls               TLS from the first byte (ports 993, 995, 465)\n"
    "  --starttls PROTO    speak imap, pop3 or smtp until the server's go-ahead, then TLS\n"
    "  --cafile F          trust the CA certificates in PEM file F (not the system store)\n"
    "  --capath D          trust the CA certificates in hashed directory D\n"
    "  --cert F, --key F   present the client certificate F with key F\n"
    "  --alpn ID           offer ALPN protocol ID (default: imap or pop3 when known)\n"
    "  --servername NAME   check the certificate for NAME (and send it as SNI)\n"
    "  --insecure          do not verify the certificate (said plainly in the output)\n"
    "  --timeout S         seconds per connect attempt and per read (default 15)\n"
    "\n"
    "The port defaults to 143, 110 or 587 with --starttls imap, pop3 or smtp.\n"
    "Exit status: 0 connected (and verified, unless --insecure); 1 TLS or verification\n"
    "failed; 2 could not connect or the server misbehaved; 64 usage error.\n";

static enum proto parse_proto(const char *p)
{
    if (strcasecmp(p, "imap") == 0)
        return PROTO_IMAP;
    if (strcasecmp(p, "pop3") == 0 || strcasecmp(p, "pop") == 0)
        return PROTO_POP3;
    if (strcasecmp(p, "smtp") == 0 || strcasecmp(p, "submission") == 0 || strcasecmp(p, "lmtp") == 0)
        return PROTO_SMTP;
    return PROTO_NONE;
}

/* Read one line (CRLF or LF ended) into out without its ending.  Returns
 * 0, or a negative posta error (the stream has the sentence). */
static int read_line(struct conn *c, char *out, size_t outsz)
{
    for (;;) {
        char *nl = memchr(c->buf, '\n', c->len);
        if (nl) {
            size_t n = (size_t)(nl - c->buf);
            size_t keep = n > 0 && c->buf[n - 1] == '\r' ? n - 1 : n;
            if (keep >= outsz)
                keep = outsz - 1;
            memcpy(out, c->buf, keep);
            out[keep] = '\0';
            memmove(c->buf, nl + 1, c->len - n - 1);
            c->len -= n + 1;
            return 0;
        }
        if (c->len == sizeof(c->buf)) {
            fprintf(stderr, "posta connect: server line longer than %zu bytes\n", sizeof(c->buf));
            return POSTA_ELIMIT;
        }
        long r = posta_stream_read_blocking(c->s, c->buf + c->len, sizeof(c->buf) - c->len);
        if (r < 0)
            return (int)r;
        c->len += (size_t)r;
    }
}

static int say(struct conn *c, const char *line)
{
    char out[1024];
    printf("C: %s\n", line);
    snprintf(out, sizeof(out), "%s\r\n", line);
    return posta_stream_write_all(c->s, out, strlen(out));
}

/* Print server lines until one satisfies done(); returns 0 and leaves that
 * line in last, or a negative error. */
static int expect_until(struct conn *c, char *last, size_t lastsz, int (*done)(const char *))
{
    for (;;) {
        int rc = read_line(c, last, lastsz);
        if (rc < 0)
            return rc;
        printf("S: %s\n", last);
        if (done(last))
            return 0;
    }
}

static int is_tagged(const char *l) { return strncmp(l, "* ", 2) != 0 && strncmp(l, "+", 1) != 0; }
static int is_smtp_final(const char *l) { return strlen(l) < 4 || l[3] != '-'; }
static int is_pop3_end(const char *l) { return strcmp(l, ".") == 0 || strncmp(l, "-ERR", 4) == 0; }
static int any_line(const char *l) { (void)l; return 1; }

/* Case-insensitive search for a capability word. */
static int has_word(const char *text, const char *word)
{
    size_t wl = strlen(word);
    for (const char *p = text; *p; p++) {
        if (strncasecmp(p, word, wl) == 0 && (p == text || p[-1] == ' ' || p[-1] == '[' || p[-1] == '-') &&
            (p[wl] == '\0' || p[wl] == ' ' || p[wl] == ']'))
            return 1;
    }
    return 0;
}

static int fail_server(const char *what, const char *line)
{
    fprintf(stderr, "posta connect: %s: %s\n", what, line);
    return EXIT_FAIL;
}

/* IMAP: greeting, CAPABILITY when the greeting did not carry it, STARTTLS. */
static int imap_go_ahead(struct conn *c)
{
    char line[4096];
    int rc = expect_until(c, line, sizeof(line), any_line);
    if (rc < 0)
        return rc;
    if (strncasecmp(line, "* PREAUTH", 9) == 0)
        return fail_server("server greeted with PREAUTH, so STARTTLS is impossible; refusing", line);
    if (strncasecmp(line, "* OK", 4) != 0)
        return fail_server("unexpected IMAP greeting", line);
    int starttls = strstr(line, "[CAPABILITY ") && has_word(line, "STARTTLS");
    if (!strstr(line, "[CAPABILITY ")) {
        if ((rc = say(c, "a CAPABILITY")) < 0)
            return rc;
        for (;;) {
            if ((rc = expect_until(c, line, sizeof(line), any_line)) < 0)
                return rc;
            if (strncasecmp(line, "* CAPABILITY ", 13) == 0 && has_word(line, "STARTTLS"))
                starttls = 1;
            if (is_tagged(line))
                break;
        }
    }
    if (!starttls)
        return fail_server("server does not offer STARTTLS", "no STARTTLS capability");
    if ((rc = say(c, "b STARTTLS")) < 0 || (rc = expect_until(c, line, sizeof(line), is_tagged)) < 0)
        return rc;
    if (strncasecmp(line, "b OK", 4) != 0)
        return fail_server("server refused STARTTLS", line);
    return 0;
}

static int pop3_go_ahead(struct conn *c)
{
    char line[4096];
    int rc = expect_until(c, line, sizeof(line), any_line);
    if (rc < 0)
        return rc;
    if (strncmp(line, "+OK", 3) != 0)
        return fail_server("unexpected POP3 greeting", line);
    if ((rc = say(c, "CAPA")) < 0 || (rc = expect_until(c, line, sizeof(line), any_line)) < 0)
        return rc;
    int stls = 0;
    if (strncmp(line, "+OK", 3) == 0) {
        while ((rc = expect_until(c, line, sizeof(line), any_line)) == 0 && !is_pop3_end(line))
            if (strcasecmp(line, "STLS") == 0)
                stls = 1;
        if (rc < 0)
            return rc;
    }
    if (!stls)
        return fail_server("server does not offer STLS", "no STLS in CAPA");
    if ((rc = say(c, "STLS")) < 0 || (rc = expect_until(c, line, sizeof(line), any_line)) < 0)
        return rc;
    if (strncmp(line, "+OK", 3) != 0)
        return fail_server("server refused STLS", line);
    return 0;
}

static int smtp_ehlo(struct conn *c, int *starttls)
{
    char line[4096], ehlo[300], host[256] = "localhost";
    gethostname(host, sizeof(host) - 1);
    snprintf(ehlo, sizeof(ehlo), "EHLO %s", host);
    int rc = say(c, ehlo);
    *starttls = 0;
    while (rc == 0 && (rc = read_line(c, line, sizeof(line))) == 0) {
        printf("S: %s\n", line);
        if (strncmp(line, "250", 3) != 0)
            return fail_server("server refused EHLO", line);
        if (strlen(line) > 4 && strcasecmp(line + 4, "STARTTLS") == 0)
            *starttls = 1;
        if (is_smtp_final(line))
            break;
    }
    return rc;
}

static int smtp_go_ahead(struct conn *c)
{
    char line[4096];
    int starttls = 0;
    int rc = expect_until(c, line, sizeof(line), is_smtp_final);
    if (rc < 0)
        return rc;
    if (strncmp(line, "220", 3) != 0)
        return fail_server("unexpected SMTP greeting", line);
    if ((rc = smtp_ehlo(c, &starttls)) != 0)
        return rc;
    if (!starttls)
        return fail_server("server does not offer STARTTLS", "no STARTTLS in the EHLO reply");
    if ((rc = say(c, "STARTTLS")) < 0 || (rc = expect_until(c, line, sizeof(line), is_smtp_final)) < 0)
        return rc;
    if (strncmp(line, "220", 3) != 0)
        return fail_server("server refused STARTTLS", line);
    return 0;
}

/* After TLS: show what the server offers now, then say goodbye politely. */
static int after_tls(struct conn *c, enum proto proto)
{
    char line[4096];
    int rc = 0, dummy;
    switch (proto) {
    case PROTO_IMAP:
        if ((rc = say(c, "c CAPABILITY")) == 0 && (rc = expect_until(c, line, sizeof(line), is_tagged)) == 0 &&
            (rc = say(c, "d LOGOUT")) == 0)
            rc = expect_until(c, line, sizeof(line), is_tagged);
        break;
    case PROTO_POP3:
        if ((rc = say(c, "CAPA")) == 0 && (rc = expect_until(c, line, sizeof(line), is_pop3_end)) == 0 &&
            (rc = say(c, "QUIT")) == 0)
            rc = expect_until(c, line, sizeof(line), any_line);
        break;
    case PROTO_SMTP:
        if ((rc = smtp_ehlo(c, &dummy)) == 0 && (rc = say(c, "QUIT")) == 0)
            rc = expect_until(c, line, sizeof(line), is_smtp_final);
        break;
    case PROTO_NONE:
        break;
    }
    return rc;
}

/* With implicit TLS or no TLS the server speaks first: show its greeting. */
static int show_greeting(struct conn *c)
{
    char line[4096];
    return expect_until(c, line, sizeof(line), is_smtp_final);
}

static void print_tls(posta_stream *s, int insecure, const char *cafile, const char *capath)
{
    const char *alpn = posta_stream_tls_alpn(s);
    printf("TLS: %s, cipher %s (%d bits)\n", posta_stream_tls_version(s), posta_stream_tls_cipher(s),
           posta_stream_tls_bits(s));
    printf("ALPN: %s\n", alpn ? alpn : "none selected");
    printf("Peer certificate: %s\n", posta_stream_tls_peer_subject(s));
    printf("Issuer: %s\n", posta_stream_tls_peer_issuer(s));
    if (posta_stream_tls_verified(s))
        printf("Verification: ok (trusted by %s; host name matches)\n",
               cafile ? cafile : capath ? capath : "the system trust store");
    else if (insecure)
        printf("Verification: NOT VERIFIED (--insecure was given); verification would have %s%s\n",
               strcmp(posta_stream_tls_verify_result(s), "ok") == 0 ? "succeeded" : "failed: ",
               strcmp(posta_stream_tls_verify_result(s), "ok") == 0
                   ? ""
                   : posta_stream_tls_verify_result(s));
}

static int exit_for(posta_stream *s, int rc)
{
    fprintf(stderr, "posta connect: %s\n", posta_stream_errmsg(s));
    return rc == POSTA_EVERIFY || rc == POSTA_ETLS || rc == POSTA_EALPN ? EXIT_VERIFY : EXIT_FAIL;
}

struct connect_opts {
    int tls, insecure, timeout_s;
    enum proto proto;
    const char *cafile, *capath, *cert, *key, *alpn, *servername, *target;
};

static int parse_args(int argc, char **argv, struct connect_opts *o)
{
    static const struct option longopts[] = {
        {"tls", no_argument, NULL, 'T'},        {"starttls", required_argument, NULL, 'S'},
        {"cafile", required_argument, NULL, 'c'}, {"capath", required_argument, NULL, 'C'},
        {"cert", required_argument, NULL, 'e'},   {"key", required_argument, NULL, 'k'},
        {"alpn", required_argument, NULL, 'a'},   {"servername", required_argument, NULL, 'n'},
        {"insecure", no_argument, NULL, 'i'},     {"timeout", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    int ch;
    memset(o, 0, sizeof(*o));
    o->timeout_s = 15;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'T': o->tls = 1; break;
        case 'S':
            if ((o->proto = parse_proto(optarg)) == PROTO_NONE) {
                tool_err("connect", "--starttls takes imap, pop3 or smtp, not \"%s\"", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'c': o->cafile = optarg; break;
        case 'C': o->capath = optarg; break;
        case 'e': o->cert = optarg; break;
        case 'k': o->key = optarg; break;
        case 'a': o->alpn = optarg; break;
        case 'n': o->servername = optarg; break;
        case 'i': o->insecure = 1; break;
        case 't':
            o->timeout_s = atoi(optarg);
            if (o->timeout_s <= 0) {
                tool_err("connect", "--timeout takes a positive number of seconds");
                return EXIT_USAGE;
            }
            break;
        case 'h': fputs(usage_text, stdout); return 0;
        default: fputs(usage_text, stderr); return EXIT_USAGE;
        }
    }
    if (optind != argc - 1 || (o->tls && o->proto != PROTO_NONE) || (o->key && !o->cert)) {
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    o->target = argv[optind];
    return -1;
}

static const char *default_port(const struct connect_opts *o)
{
    switch (o->proto) {
    case PROTO_IMAP: return "143";
    case PROTO_POP3: return "110";
    case PROTO_SMTP: return "587";
    case PROTO_NONE: break;
    }
    return NULL;
}

/* Offer "imap"/"pop3" for the protocol spoken (or implied by a well-known
 * implicit-TLS port); never "smtp" unless asked, as it is not registered. */
static const char *default_alpn(const struct connect_opts *o, const char *peer)
{
    if (o->alpn)
        return strcmp(o->alpn, "none") == 0 ? NULL : o->alpn;
    if (o->proto == PROTO_IMAP)
        return "imap";
    if (o->proto == PROTO_POP3)
        return "pop3";
    const char *colon = strrchr(peer, ':');
    if (o->tls && colon && strcmp(colon, ":993") == 0)
        return "imap";
    if (o->tls && colon && strcmp(colon, ":995") == 0)
        return "pop3";
    return NULL;
}

static int run(struct conn *c, const struct connect_opts *o)
{
    posta_stream *s = c->s;
    int rc;

    posta_stream_set_timeouts(s, o->timeout_s * 1000, o->timeout_s * 1000);
    if ((o->cafile || o->capath) && posta_stream_set_ca(s, o->cafile, o->capath) < 0)
        return exit_for(s, POSTA_ENOMEM);
    if (o->cert && posta_stream_set_client_cert(s, o->cert, o->key) < 0)
        return exit_for(s, POSTA_ENOMEM);
    if (o->servername && posta_stream_set_tls_name(s, o->servername) < 0)
        return exit_for(s, POSTA_ENOMEM);
    posta_stream_set_insecure(s, o->insecure);
    if ((rc = posta_stream_connect(s, o->target, default_port(o))) < 0)
        return exit_for(s, rc);
    printf("Connected to %s\n", posta_stream_peer(s));
    if (!o->tls && o->proto == PROTO_NONE) {
        rc = show_greeting(c);
        printf("TLS: none (the connection is not encrypted)\n");
        return rc < 0 ? exit_for(s, rc) : 0;
    }
    if (o->proto == PROTO_IMAP)
        rc = imap_go_ahead(c);
    else if (o->proto == PROTO_POP3)
        rc = pop3_go_ahead(c);
    else if (o->proto == PROTO_SMTP)
        rc = smtp_go_ahead(c);
    if (rc > 0)
        return rc;
    if (rc < 0)
        return exit_for(s, rc);
    if (c->len > 0) {
        /* Bytes after the go-ahead, before our ClientHello: injected. */
        fprintf(stderr, "posta connect: %s sent %zu unexpected bytes after the STARTTLS go-ahead; "
                        "refusing to continue (possible injection attack)\n",
                posta_stream_peer(s), c->len);
        return EXIT_FAIL;
    }
    const char *alpn = default_alpn(o, posta_stream_peer(s));
    if (alpn && posta_stream_set_alpn(s, alpn) < 0)
        return exit_for(s, POSTA_EINVAL);
    if ((rc = posta_stream_starttls(s)) < 0)
        return exit_for(s, rc);
    print_tls(s, o->insecure, o->cafile, o->capath);
    rc = o->proto == PROTO_NONE ? show_greeting(c) : after_tls(c, o->proto);
    if (rc < 0)
        return exit_for(s, rc);
    return 0;
}

int cmd_connect(int argc, char **argv)
{
    struct connect_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0)
        return rc;
    struct conn *c = calloc(1, sizeof(*c));
    if (!c || posta_stream_new(&c->s) < 0) {
        tool_err("connect", "out of memory");
        free(c);
        return EXIT_FAIL;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    rc = run(c, &o);
    posta_stream_free(c->s);
    free(c);
    return rc;
}
