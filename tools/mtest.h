/* Shared pieces of posta imtest, pop3test, smtptest and lmtptest: the
 * options, the login-phase transcript, authentication and the interactive
 * phase, with one table of hooks per protocol. */
#ifndef POSTA_MTEST_H
#define POSTA_MTEST_H

#include <posta/posta.h>

#include <stddef.h>
#include <stdint.h>

/* Exit statuses: Cyrus exits 1 on any fatal error and 0 otherwise; posta
 * keeps 1 for fatal errors and says with 2 that authentication failed. */
enum { MT_EXIT_OK = 0, MT_EXIT_FAIL = 1, MT_EXIT_AUTH = 2, MT_EXIT_USAGE = 64 };

/* A failure that ends the tool (connect, TLS, protocol); its sentence has
 * been printed already. */
#define MT_FATAL (-1000)

struct mt_opts {
    const char *host;
    const char *port;
    int ssl;               /* -s: TLS from the first byte */
    int tls_given;         /* -t given */
    const char *keyfile;   /* -t FILE: client certificate and key; "" none */
    const char *authzid;   /* -u */
    const char *authcid;   /* -a */
    const char *password;  /* -w, or the one typed at the prompt */
    const char *mech;      /* -m */
    const char *file;      /* -f */
    const char *realm;     /* -r */
    unsigned min_ssf, max_ssf;
    int ssf_given;
    int challenge;         /* -c: accepted, see the man page */
    int attempts;          /* -n */
    int compress;          /* -q */
    int timing;            /* -z */
    int verbose;           /* -v */
    int no_ir;             /* -i */
    const char *pidfile;   /* -I */
    const char *socket;    /* -x / -X */
    int daemonize;         /* -X */
    int insecure;          /* --insecure */
    int cleartext;         /* --cleartext */
    int no_edit;           /* --no-edit */
    const char *cafile, *capath;
    int timeout_ms;
    char typed_password[1024]; /* kept for -n: asked once */
    int have_typed;
};

struct mt;

/* One protocol: its names, ports, and the steps of its login phase.  Each
 * step returns 0, a negative posta error for an authentication outcome, or
 * MT_FATAL after printing why the session cannot go on. */
struct mt_proto {
    const char *tool;          /* "imtest" */
    const char *name;          /* "imap", for the usage text */
    const char *port, *sport;  /* default port; with -s (NULL: no -s) */
    const char *service;       /* SASL service name */
    const char *alpn;          /* ALPN id to offer, or NULL */
    posta_sasl_proto sasl;
    const char *sasl_tag;      /* "A01 " or "" */
    const char *mech_help;     /* extra usage line under -m, or NULL */
    int literals;              /* IMAP: user-typed literals wait for "+" */
    int dot_data;              /* SMTP/LMTP: DATA runs until a "." line */
    const char *logout;        /* "Q01 LOGOUT" */
    const char *logout_reply;  /* what ends its answer: "Q01 ", "+OK", "221" */
    int (*greet)(struct mt *m);      /* greeting, and capabilities if needed */
    int (*capa)(struct mt *m);       /* ask the capabilities (again) */
    int (*starttls)(struct mt *m);   /* STARTTLS command up to the go-ahead */
    int (*auth)(struct mt *m);       /* choose and run the authentication */
    int (*sasl_reply)(const char *line, size_t len); /* classify, see MT_R_* */
    int (*after)(struct mt *m);      /* after all attempts (COMPRESS); may be NULL */
    /* -x: a client line is LOGOUT/QUIT (close the client instead), and the
     * reset run when a client goes away (NULL: end the session). */
    int (*is_quit)(const char *line, size_t len);
    int (*reset)(struct mt *m);
};

/* What a server line is during SASL. */
enum { MT_R_OTHER = 0, MT_R_CONT, MT_R_OK, MT_R_NO, MT_R_NO_CREDS };

struct mt {
    const struct mt_proto *p;
    struct mt_opts *o;
    posta_stream *s;
    char buf[65536];       /* server bytes read, not yet taken as lines */
    size_t start, len;     /* consumed up to start; valid up to len */
    size_t taken;          /* length of the line handed out last */
    const char *line;      /* that line, until the next read */
    size_t line_len;

    /* What the capabilities said. */
    char caps[8192];       /* IMAP: " CAP1 CAP2 " upper case */
    int have_caps;
    char mechs[1024];      /* offered SASL mechanisms, space separated */
    int mechs_known;
    int starttls_ok, login_ok, compress_ok, sasl_ir, preauth;
    char greeting[1024];   /* POP3: for APOP */

    unsigned ext_ssf;      /* TLS cipher bits */
    posta_sasl *sasl;      /* this attempt's session, or NULL */
    int attempted;         /* an authentication command was sent */
    int authenticated;
    char why[1024];        /* why authentication failed */
};

/* --- mtest_main.c ---------------------------------------------------------- */

/* The whole tool: options, connection(s), authentication, interaction. */
int mt_main(const struct mt_proto *p, int argc, char **argv);

/* --- mtest_conn.c ---------------------------------------------------------- */

/* Connect (and TLS with -s).  MT_FATAL after printing why. */
int mt_connect(struct mt *m);
/* Start TLS after the go-ahead: refuse bytes that came with it, hand over
 * to the stream, print the Cyrus line and, with -v, the details. */
int mt_tls(struct mt *m);
/* Read one server line (with its line end) into *line_r/len_r, valid until
 * the next call; MT_FATAL at end of stream or on error (printed). */
int mt_getline(struct mt *m, const char **line_r, size_t *len_r);
/* Read a line and print it as "S: line". */
int mt_getline_show(struct mt *m, const char **line_r, size_t *len_r);
/* Print "C: shown" and send "line\r\n" (shown NULL: the line itself). */
int mt_send(struct mt *m, const char *line, const char *shown);
/* Send raw bytes (already ended with CRLF). */
int mt_write(struct mt *m, const void *data, size_t len);
/* Print server lines until one starts with prefix (or prefix2); the last
 * one stays in *line_r. */
int mt_wait_for(struct mt *m, const char *prefix, const char *prefix2, int echo,
                const char **line_r, size_t *len_r);
/* Hand over the server bytes read but not yet taken as lines (valid until
 * the next read), forgetting them here. */
size_t mt_take_buffered(struct mt *m, const char **data_r);
/* Nonzero when unread server bytes are buffered (ours or the stream's). */
int mt_buffered(struct mt *m);
/* Print an error for the session, "posta imtest: ...", on stderr. */
void mt_err(const struct mt *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Case-insensitive prefix test. */
int mt_prefix(const char *line, size_t len, const char *prefix);
void mt_flush(void);

/* --- mtest_auth.c ---------------------------------------------------------- */

/* A SASL session for this attempt with the options' credentials, SSF
 * limits and policy, told about the stream's TLS.  0 or MT_FATAL. */
int mt_sasl_new(struct mt *m);
/* A SASL exchange: mech NULL for automatic choice; offered NULL when the
 * server did not say.  0 authenticated, else a negative error with the
 * reason in m->why. */
int mt_sasl_auth(struct mt *m, const char *mech, const char *offered);
/* The password from -w or the prompt (asked once).  NULL if unavailable. */
const char *mt_password(struct mt *m);
/* The authentication identity from -a or the login name. */
const char *mt_authcid(struct mt *m);
/* Record why authentication failed (printed after "Authentication failed."). */
int mt_fail_auth(struct mt *m, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A login without SASL (what: "LOGIN", "APOP") meets -k with TLS alone. */
int mt_check_ssf(struct mt *m, const char *what);
/* A cleartext login (IMAP LOGIN, POP3 USER/PASS) is allowed here: the
 * policy of posta_sasl_check_cleartext(), and -k. */
int mt_cleartext_ok(struct mt *m, const char *what);

/* --- mtest_interact.c ------------------------------------------------------- */

/* The interactive phase: typed lines (or -f, or -x clients) go to the
 * server, the server's bytes to the output.  Prints "Connection closed.". */
void mt_interact(struct mt *m);

/* --- mtest_edit.c --------------------------------------------------------- */

/* Read a password without echo from the terminal, or a line from stdin
 * when there is no terminal.  Returns 0 or -1. */
int mt_read_password(const char *prompt, char *buf, size_t bufsz);

/* A small line editor with history for a terminal on fd 0. */
struct mt_edit;
struct mt_edit *mt_edit_open(void);
void mt_edit_close(struct mt_edit *e);
/* Feed the bytes read from the terminal; complete lines (with "\n") are
 * appended to out (up to outsz); sets *eof at ^D on an empty line.
 * Returns the bytes stored in out. */
size_t mt_edit_feed(struct mt_edit *e, const char *in, size_t n, char *out, size_t outsz, int *eof);
/* Around printing other output: hide the line being edited, then redraw. */
void mt_edit_hide(struct mt_edit *e);
void mt_edit_show(struct mt_edit *e);

/* --- the protocols ----------------------------------------------------------- */

extern const struct mt_proto mt_imap, mt_pop3, mt_smtp, mt_lmtp;
/* imtest -z */
int mt_imap_timing(struct mt *m);

#endif
