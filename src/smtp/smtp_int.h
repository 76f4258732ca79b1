/* Internal view of the SMTP layer, shared by the reply parser, the message
 * pipeline (source, header scan, header processing, canonicalization), the
 * protocol engine and the driver that binds it to a stream. */
#ifndef POSTA_SMTP_INT_H
#define POSTA_SMTP_INT_H

#include <posta/smtp.h>
#include <sys/types.h>

#include "util.h"

/* --- reply parser (reply.c) ------------------------------------------------- */

/* RFC 5321 4.5.3.1.5 says 512 octets per reply line; real servers send longer
 * EHLO and error lines, so the caps are generous yet bound memory. */
#define SMTP_REPLY_MAX_LINE 8192u
#define SMTP_REPLY_MAX_TOTAL 65536u
#define SMTP_REPLY_MAX_LINES 1000u

/* One complete reply.  text holds each line's text (after the code and, when
 * the line carries one matching the code's class, the enhanced code) joined
 * with '\n' and NUL-terminated. */
struct smtp_reply {
    int code;
    int enh[3];            /* RFC 3463 class.subject.detail; all 0 when absent */
    struct posta_buf text;
    size_t nlines;
};

struct smtp_rparser {
    struct posta_buf line; /* the line being assembled */
    struct smtp_reply r;
    int partial;           /* a "ddd-" line was seen: the reply goes on */
    int have;              /* r holds a complete reply not yet taken */
    char err[160];
};

void smtp_rparser_init(struct smtp_rparser *p);
void smtp_rparser_free(struct smtp_rparser *p);
/* Forget everything buffered (a new connection). */
void smtp_rparser_reset(struct smtp_rparser *p);
/* Feed bytes.  Returns the count consumed; *done is set when p->r holds a
 * complete reply (the parser stops right after it so the caller can act
 * before the next byte, e.g. STARTTLS).  Negative: POSTA_EPROTO,
 * POSTA_ELIMIT or POSTA_ENOMEM with the reason in p->err.  Each call after a reply first
 * clears it. */
long smtp_rparser_feed(struct smtp_rparser *p, const void *data, size_t len, int *done);
/* Bytes held in a partial line. */
size_t smtp_rparser_buffered(const struct smtp_rparser *p);
/* The n-th line of r's text (pointer, length); 0 when n is out of range. */
int smtp_reply_line(const struct smtp_reply *r, size_t n, const char **p, size_t *len);

/* --- statuses (objects.c) ------------------------------------------------- */

struct smtp_st {
    posta_smtp_status pub;
    char *text;            /* owned; pub.text points here or to "" */
};
void st_clear(struct smtp_st *s);
void st_set_reply(struct smtp_st *s, const struct smtp_reply *r);
void st_set_local(struct smtp_st *s, int code, const char *enh, int error, const char *fmt, ...)
    POSTA_PRINTF(5, 6);
void st_copy(struct smtp_st *dst, const struct smtp_st *src);
/* 2xx, or 5xx: decided for good. */
static inline int st_final(const struct smtp_st *s)
{
    return (s->pub.code >= 200 && s->pub.code < 300) || (s->pub.code >= 500 && s->pub.code < 600);
}

/* --- encoding helpers (encode.c) ------------------------------------------ */

/* Envelope mailbox check: 0, or POSTA_EINVAL with why in err.  *utf8 set when
 * it holds non-ASCII (needs SMTPUTF8). */
int smtp_check_mailbox(const char *mb, int allow_empty, int *utf8, char *err, size_t errsz);
/* esmtp-param "KEY[=VALUE]" check. */
int smtp_check_param(const char *param);
/* Append xtext (RFC 3461 4) of s to b. */
int smtp_xtext(struct posta_buf *b, const char *s, size_t len);
/* Nonzero when s[0..len) is valid UTF-8 (any code point, no overlongs). */
int smtp_utf8_valid(const unsigned char *s, size_t len);
/* Nonzero when s holds a byte >= 0x80. */
int smtp_non_ascii(const char *s, size_t len);
/* RFC 5322 date-time of t in local time into out (>= 40 bytes). */
void smtp_format_date(time_t t, char *out, size_t outsz);
/* A fresh Message-Id "<...@host>" into out (>= 300 bytes). */
void smtp_make_msgid(const char *host, char *out, size_t outsz);
/* A header field name check (printable, no colon, 1..76). */
int smtp_check_field_name(const char *name);

/* Builds one header field with folding: tokens are appended; a fold (CRLF
 * SP) replaces a space when the line would pass soft characters; no physical
 * line ever passes 998.  POSTA_ELIMIT when a token cannot fit. */
struct smtp_fold {
    struct posta_buf *out;
    size_t col;            /* octets on the current physical line */
    size_t soft;           /* preferred limit (78) */
};
void smtp_fold_begin(struct smtp_fold *f, struct posta_buf *out, const char *name);
/* Append a token; sep: put one space before it (a fold point). */
int smtp_fold_token(struct smtp_fold *f, const char *tok, size_t len, int sep);
int smtp_fold_end(struct smtp_fold *f);
/* Unstructured text (RFC 5322 3.2.5), RFC 2047-encoded when non-ASCII and
 * not utf8. */
int smtp_fold_text(struct smtp_fold *f, const char *text, int utf8);
/* A display name: atoms, a quoted-string, or encoded-words. */
int smtp_fold_phrase(struct smtp_fold *f, const char *phrase, int utf8);

/* --- header processing (headers.c) ------------------------------------------ */

enum smtp_hkind { HK_TEXT = 0, HK_DATE, HK_ADDR, HK_MSGID };

struct smtp_addr {
    struct smtp_addr *next;
    char *phrase;          /* NULL: none */
    char *mailbox;
};

/* A header set through the API (value and/or options). */
struct smtp_hdr {
    struct smtp_hdr *next;
    char *name;
    unsigned opts;         /* POSTA_SMTP_HDR_* */
    enum smtp_hkind kind;
    int has_value;
    char *text;            /* HK_TEXT, HK_MSGID (NULL: generate) */
    time_t when;           /* HK_DATE */
    struct smtp_addr *addrs, *addrs_tail; /* HK_ADDR */
};

struct smtp_hdr_opts {
    const struct smtp_hdr *api;
    const char *reverse_path;          /* "" for <> */
    const char *const *rcpts;          /* for a generated To: */
    size_t nrcpt;
    int resent;
    int utf8;                          /* SMTPUTF8: UTF-8 may stay raw */
    int fold;                          /* POSTA_SMTP_LONG_FOLD */
    const char *msgid;                 /* used when one is generated */
    const char *date;                  /* used when one is generated */
    void (*warn)(void *ctx, const char *what);
    void *ctx;
    /* Header monitor: called with each field as it will be sent. */
};

/* Process the header section in (canonical CRLF lines, without the blank
 * line) into out (fields, each CRLF-terminated; no blank line).  0, or
 * POSTA_EINVAL / POSTA_ELIMIT / POSTA_ENOMEM with err. */
int smtp_headers_process(const unsigned char *in, size_t len, const struct smtp_hdr_opts *o,
                         struct posta_buf *out, char *err, size_t errsz);
/* Does the API list name this header? */
const struct smtp_hdr *smtp_hdr_find(const struct smtp_hdr *list, const char *name, size_t len);
void smtp_hdr_free_list(struct smtp_hdr *h);

/* --- header scan and canonicalization (canon.c) ----------------------------- */

/* Splits the start of a message into its header section, canonical CRLF,
 * byte-exact about where the body starts in the raw input. */
struct smtp_scan {
    struct posta_buf *hdr;  /* receives the field lines, CRLF each */
    size_t line_start;      /* where the current line began in hdr */
    size_t prefix;          /* body prefix start in hdr (an invalid line),
                               or SIZE_MAX */
    size_t limit;
    int cr;                 /* a CR was the last byte */
    int have_field;         /* a field line was seen (continuations ok) */
    int done;
};
void smtp_scan_init(struct smtp_scan *s, struct posta_buf *hdr, size_t limit);
/* Consume raw bytes; returns the count consumed (stops at the end of the
 * header section: s->done), or POSTA_ELIMIT / POSTA_ENOMEM. */
long smtp_scan_feed(struct smtp_scan *s, const unsigned char *in, size_t len);
/* The source ended. */
int smtp_scan_eof(struct smtp_scan *s);

/* Streams message data to CRLF with dot-stuffing (DATA) or without (BDAT),
 * or as is (a BINARYMIME body). */
struct smtp_canon {
    int dot;                /* dot-stuff lines starting with '.' */
    int binary;             /* pass bytes through unchanged */
    int fold;               /* break lines over 998 instead of failing */
    int cr;                 /* a CR waits for its LF */
    size_t col;             /* octets on the current line */
};
void smtp_canon_init(struct smtp_canon *c, int dot, int fold);
/* Canonicalize in into out; out must have room for 2 * len + 4 bytes (it is
 * reserved here).  0, POSTA_ELIMIT (a line over 998 without folding) or
 * POSTA_ENOMEM. */
int smtp_canon_feed(struct smtp_canon *c, const unsigned char *in, size_t len,
                    struct posta_buf *out);
/* End of data: a pending CR and an unterminated last line get their CRLF. */
int smtp_canon_finish(struct smtp_canon *c, struct posta_buf *out);

/* --- objects (objects.c) -------------------------------------------------- */

struct smtp_param {
    struct smtp_param *next;
    char s[];
};

enum smtp_src_kind { SRC_NONE = 0, SRC_CB, SRC_FILE, SRC_FD, SRC_BUF };

struct smtp_src {
    enum smtp_src_kind kind;
    posta_smtp_source cb;
    FILE *fp;
    int fd;
    off_t start;            /* FILE/fd position at set time; -1: not seekable */
    const unsigned char *buf;
    size_t len, pos;
    unsigned char *io;      /* read buffer for FILE/fd */
    unsigned passes;        /* passes begun */
};

struct posta_smtp_recipient {
    posta_smtp_recipient *next;
    posta_smtp_message *m;
    char *mailbox;
    int utf8;
    unsigned notify;
    char *orcpt_type, *orcpt;
    struct smtp_param *params, *params_tail;
    struct smtp_st st;
    void *user;
};

struct posta_smtp_message {
    posta_smtp_message *next;
    posta_smtp *h;
    char *rp;
    int rp_utf8;
    posta_smtp_recipient *rcpts, *rcpts_tail;
    size_t nrcpt;
    struct smtp_src src;
    unsigned long long size;
    posta_smtp_body body;
    int smtputf8;
    posta_smtp_dsn_ret ret;
    char *envid;
    long by_time;
    posta_smtp_by_mode by_mode;
    int by_trace;
    int has_prio, prio;
    long holdfor;
    time_t holduntil;
    int requiretls;
    struct smtp_param *params, *params_tail;
    posta_smtp_long_lines long_lines;
    int hdr_on, resent;
    struct smtp_hdr *hdrs;
    struct smtp_st st, mail_st;
    void *user;
    unsigned st_gen;        /* the run in which st was last set */
    posta_smtp_recipient *cursor; /* next recipient for a transaction this run */
    int in_run;             /* selected for the current run */
};

struct posta_smtp_etrn {
    posta_smtp_etrn *next;
    int option;
    char *node;
    struct smtp_st st;
    void *user;
};

void smtp_message_free(posta_smtp_message *m);
void smtp_etrn_free(posta_smtp_etrn *n);

/* Source passes (source.c). */
int smtp_src_rewind(posta_smtp_message *m);
/* Next raw chunk: 0 with *len 0 at the end, or a negative error. */
int smtp_src_read(posta_smtp_message *m, const unsigned char **p, size_t *len);
void smtp_src_release(posta_smtp_message *m);
/* Octets the source holds from its start, or -1 when unknown. */
long long smtp_src_length(const posta_smtp_message *m);

/* --- the engine ------------------------------------------------------------ */

/* Internal connection states; conn_names[] and the move table in engine.c. */
enum smtp_cstate {
    CS_IDLE = 0,
    CS_CONNECTING,
    CS_TLS,            /* TLS handshake (implicit, or after STARTTLS's 220) */
    CS_GREETING,
    CS_HELLO,          /* EHLO/LHLO/HELO */
    CS_STARTTLS,
    CS_AUTH,
    CS_READY,          /* transactions */
    CS_QUIT,
    CS_CLOSED
};

/* What a reply answers; kind_info[] in engine.c. */
enum smtp_xk {
    XK_GREETING = 0, XK_EHLO, XK_HELO, XK_STARTTLS, XK_AUTH, XK_MAIL, XK_RCPT, XK_DATA,
    XK_DOT, XK_BDAT, XK_RSET, XK_ETRN, XK_QUIT, XK_COUNT
};

struct smtp_txn;

struct smtp_exp {
    enum smtp_xk kind;
    struct smtp_txn *t;
    posta_smtp_recipient *r;
    posta_smtp_etrn *n;
};

enum smtp_tstate {
    TX_ENVELOPE = 0,   /* MAIL/RCPT(/DATA) written or being written; replies due */
    TX_DATA,           /* message data being produced */
    TX_SENT,           /* the end of data is written; final replies due */
    TX_DONE
};

/* One MAIL transaction: a message and a batch of its recipients. */
struct smtp_txn {
    struct smtp_txn *next;
    posta_smtp_message *m;
    enum smtp_tstate state;
    posta_smtp_recipient **rcpts;
    size_t nrcpt;
    posta_smtp_recipient **acc;  /* accepted, in RCPT order (LMTP replies) */
    size_t nacc;
    size_t step;           /* envelope commands written: 0 MAIL, 1.. RCPT, then DATA */
    size_t nsteps;
    size_t rcpt_replies;
    size_t dot_replies;
    int mail_ok, mail_done;
    int refused_perm, refused_temp;
    int pending;           /* expectations outstanding for this txn */
    int data_in_envelope;  /* DATA pipelined with the envelope */
    int bdat;              /* data via BDAT */
    int binary;            /* BINARYMIME body */
    int failed;            /* the outcome is decided: no (more) data */
    int bdat_wait;         /* no PIPELINING: a BDAT reply is due first */
    int decided;           /* the message status was set by this txn */
    int lmtp_ok;           /* LMTP: a recipient was delivered */
    struct smtp_st fail;   /* why the data phase failed (BDAT) */
    unsigned long long declared;
    unsigned long long bytes;
    /* the data producer */
    struct posta_buf hdr;  /* processed header section + blank line + prefix */
    size_t hdr_off, body_at; /* emitted so far; where the body starts */
    const unsigned char *chunk; /* current raw source chunk */
    size_t clen, coff;
    int src_eof;
    int shown;             /* headers shown to the monitor */
    struct smtp_canon cn;
    struct posta_buf bbuf; /* BDAT chunk being filled */
};

struct posta_smtp {
    posta_smtp_callbacks cb;
    void *cb_user;
    void *app_user;
    struct posta_err err;

    /* options */
    char *server;
    char *hostname;
    int lmtp;
    posta_smtp_tls tls;
    int timeouts[8];
    int require_all, pipelining_on, chunking_on, monitor_headers, pipe_txns;
    size_t chunk_size, header_limit;
    char *auth_user, *auth_pass, *auth_mechs;
    posta_smtp_sasl_fn sasl_fn;
    void *sasl_user;
    int allow_cleartext_auth, auth_required;

    /* the work */
    posta_smtp_message *msgs, *msgs_tail;
    posta_smtp_etrn *etrns, *etrns_tail;

    /* the run */
    int running;
    posta_smtp_done_fn done;
    void *done_user;
    int run_error;         /* the first error that will end the run */
    unsigned run_gen;
    enum smtp_cstate cs;
    posta_stream *stream;
    posta_stream *attached;
    int implicit, local;
    struct smtp_rparser rp;
    struct posta_buf out;
    struct posta_buf mon;  /* commands written since the last monitor call */
    struct smtp_exp *exp;
    size_t exp_head, exp_n, exp_cap;
    int64_t io_mark;
    int pause_tls, pause_layer;
    int quit_req;          /* an event asked to end the session */
    int restart;           /* reconnect after this connection (MAILMAX, abort) */
    unsigned char *rbuf;

    /* what the server said */
    char *greeting;
    int greeted;           /* the 220 arrived on this connection */
    int esmtp;
    unsigned ext;
    struct posta_buf ehlo; /* "KEYWORD\0params\0" pairs */
    unsigned long long size_limit;
    unsigned long rcptmax, mailmax;
    long by_min;
    long fr_interval;
    int did_tls;           /* TLS up on this connection (STARTTLS or implicit) */
    int tls_refused;       /* STARTTLS refused, going on in cleartext (ENABLED) */
    int helo_tried;
    char ehlo_name[300];   /* the name said with EHLO on this connection */
    int pre_connected;     /* the stream was connected before the run (attach, UNIX) */
    unsigned conn_gen;     /* counts connections, to notice a new one mid-loop */
    unsigned finished;     /* counts finished runs */
    int last_code;         /* how the last run ended */

    /* authentication */
    posta_sasl *sasl;
    int authed;

    /* transactions */
    struct smtp_txn *txns, *txns_tail;
    struct smtp_txn *producer;
    posta_smtp_message *cursor;
    posta_smtp_etrn *etrn_cursor;
    unsigned long ntxn;    /* transactions begun on this connection */
    int need_rset;

    /* callbacks and deferred free */
    int depth, cb_depth, free_pending;
};

/* engine.c */
int smtp_err(posta_smtp *h, int code, const char *fmt, ...) POSTA_PRINTF(3, 4);
const char *smtp_peer(const posta_smtp *h);
void smtp_set_cs(posta_smtp *h, enum smtp_cstate to);
void smtp_emit(posta_smtp *h, posta_smtp_event *ev);
void smtp_monitor(posta_smtp *h, const char *data, size_t len, int dir);
/* Append a command (without CRLF) to the output; shown is what the monitor
 * may see (NULL: the command itself). */
int smtp_write_cmd(posta_smtp *h, const char *shown, const char *fmt, ...) POSTA_PRINTF(3, 4);
int smtp_expect(posta_smtp *h, enum smtp_xk kind, struct smtp_txn *t, posta_smtp_recipient *r,
                posta_smtp_etrn *n);
/* Handle one complete reply. */
void smtp_on_reply(posta_smtp *h, const struct smtp_reply *r);
/* The connection is usable and talking: start (greeting awaited). */
void smtp_begin_session(posta_smtp *h);
/* The TLS handshake after STARTTLS ended. */
void smtp_tls_done(posta_smtp *h);
/* AUTH's 235 with a security layer: install it now. */
int smtp_install_layer(posta_smtp *h);
/* End the connection with code (0: after QUIT): statuses of work in flight,
 * DISCONNECT, then finish or restart the run. */
void smtp_conn_end(posta_smtp *h, int code, const char *fmt, ...) POSTA_PRINTF(3, 4);
/* Move work forward: data, next transactions, ETRN, QUIT. */
void smtp_pump(posta_smtp *h);
int64_t smtp_deadline(const posta_smtp *h);
/* What the head of the queue waits for, for timeout sentences. */
const char *smtp_waiting_for(const posta_smtp *h);
int smtp_timeout_of(const posta_smtp *h, enum smtp_xk kind);
int smtp_has_work(posta_smtp *h);
void smtp_run_finish(posta_smtp *h, int code);
#define SMTP_CALLBACK(h, call) do { (h)->cb_depth++; call; (h)->cb_depth--; } while (0)

/* txn.c */
/* Start the next transaction if one may start; 1 when one did. */
int smtp_txn_next(posta_smtp *h);
void smtp_txn_reply(posta_smtp *h, const struct smtp_exp *e, const struct smtp_reply *r);
/* Produce message data while the output is below its mark. */
void smtp_txn_produce(posta_smtp *h);
/* The connection died: settle every live transaction. */
void smtp_txn_abandon(posta_smtp *h, int code, const char *why);
void smtp_txn_free_all(posta_smtp *h);
int smtp_txn_can_start(const posta_smtp *h);
/* Does this message still need a transaction this run? */
int smtp_msg_needs_run(const posta_smtp_message *m);

/* driver.c */
int smtp_connect(posta_smtp *h);
void smtp_io_close(posta_smtp *h);
void smtp_enter(posta_smtp *h);
int smtp_leave(posta_smtp *h, int rc);

#define SMTP_OUT_HIGH (64u * 1024u)

#endif
