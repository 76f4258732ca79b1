/* posta SMTP: mail submission (RFC 5321, RFC 6409) and LMTP (RFC 2033) in the
 * libESMTP model: a session holds messages, each with a reverse path,
 * recipients, options and a streamed source. */
#ifndef POSTA_SMTP_H
#define POSTA_SMTP_H

#include <stdio.h>
#include <time.h>

#include <posta/common.h>
#include <posta/error.h>
#include <posta/sasl.h>
#include <posta/stream.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The model (libESMTP's, see seeds/004): build a session, add messages to it,
 * add recipients to each message, give each message a source, then run the
 * session.  A run connects, says EHLO (LHLO in LMTP mode; HELO when EHLO is
 * refused), upgrades with STARTTLS as the TLS mode says, authenticates when
 * asked, sends every message that still needs sending, and QUITs.  Afterwards
 * the status of every message and recipient says what happened; a second run
 * sends only what is not complete.
 *
 * Three ways to drive a run (DESIGN.md, I/O model):
 *   1. blocking: posta_smtp_run();
 *   2. posta_smtp_run_start(), then posta_smtp_process(h, timeout_ms) until
 *      the done callback has run;
 *   3. posta_smtp_run_start(), then the caller's loop: watch posta_smtp_fd()
 *      for reading always and for writing when posta_smtp_wants_write();
 *      call posta_smtp_on_readable(), posta_smtp_on_writable(), and
 *      posta_smtp_on_timeout() after posta_smtp_next_timeout_ms().
 * The done callback of a run runs exactly once: when the run ends, fails, or
 * the handle is freed (POSTA_ECANCELED); if posta_smtp_run_start() fails it
 * never runs.  Every callback runs from inside the calls of this header;
 * freeing the handle inside one is allowed (the free happens when the
 * callback returns).  Blocking calls are refused (POSTA_ESTATE) inside
 * callbacks.  The name lookup of the connect step blocks (getaddrinfo).
 *
 * Protocol: commands are pipelined when the server offers PIPELINING
 * (RFC 2920): MAIL, every RCPT and DATA go out in one write, and the next
 * transaction's commands follow the final dot at once (see
 * posta_smtp_set_pipeline_transactions).  CHUNKING (BDAT, RFC 3030) is used
 * when offered, and needed for BINARYMIME; with BDAT the chunks follow the
 * RCPT replies (so no data goes to a transaction without recipients) and
 * are pipelined with each other.  SIZE is
 * declared and the server's limit checked before MAIL; SMTPUTF8, 8BITMIME,
 * DSN, DELIVERBY, MT-PRIORITY, FUTURERELEASE and REQUIRETLS parameters are
 * sent as the message asks; RFC 9422 LIMITS (RCPTMAX: further transactions
 * carry the recipients beyond it; MAILMAX: a new connection after that many
 * transactions) are honoured.  Each phase has the RFC 5321 4.5.3.2 timeout.
 *
 * Security defaults (DESIGN.md): on a plain port STARTTLS is used and
 * required (POSTA_SMTP_TLS_REQUIRED) and port 465 means implicit TLS; bytes
 * the server sent after its 220 to STARTTLS end the connection (POSTA_EPROTO);
 * the EHLO answer is forgotten and asked again after TLS; PLAIN, LOGIN and
 * other cleartext mechanisms are not used on an unencrypted connection unless
 * allowed.  Nothing the caller passes can split a command or end DATA early:
 * CR, LF and NUL are refused in addresses, parameters and header values (and
 * the call fails with POSTA_EINVAL); message data is canonicalized to CRLF and
 * dot-stuffed, so no input makes posta send an end-of-data sequence inside a
 * message (SMTP smuggling, CVE-2023-51764).
 *
 * Statuses: a message counts as sent only after the reply to its final dot
 * (or BDAT LAST).  A recipient is complete when it succeeded or failed
 * permanently; complete recipients are not sent to again, and a message whose
 * transfer failed permanently is not sent again, on a later run (libESMTP's
 * semantics; posta_smtp_message_reset_status() and
 * posta_smtp_recipient_reset_status() undo that).  When the data phase of a
 * transaction fails (reply to the dot, or the connection died before it), the
 * recipients accepted in it take that status, so a temporary failure is
 * retried by the next run and a permanent one is final; a message that
 * fails before MAIL (too large, unreadable, a needed extension missing)
 * gives its batch of recipients its own status.
 *
 * Errors: calls return 0 or a negative posta_error; posta_smtp_errmsg() has
 * a sentence for the last failure with the server's words where there are
 * some ("MAIL FROM:<a@b> refused by mail.example:587: 550 5.7.1 relay
 * denied").  Strings passed in are copied unless said otherwise; strings
 * handed to callbacks live until the callback returns.
 *
 * One thread at a time per handle; handles in different threads are
 * independent.  Messages, recipients and ETRN nodes belong to their session
 * and are freed with it.  None of their setters may be called while a run
 * is under way (POSTA_ESTATE).
 */
typedef struct posta_smtp posta_smtp;                   /* a session */
typedef struct posta_smtp_message posta_smtp_message;   /* one message in it */
typedef struct posta_smtp_recipient posta_smtp_recipient; /* one envelope recipient */
typedef struct posta_smtp_etrn posta_smtp_etrn;         /* one ETRN node */

/* --- statuses --------------------------------------------------------------- */

/*
 * A reply, as libESMTP's smtp_status_t plus two facts.  code is the three-digit
 * reply code, 0 when there is none yet (not attempted).  enh_* is the RFC 3463
 * enhanced status code (all 0 when the server sent none).  text is the
 * server's text: each line after the code (and after the enhanced code when
 * the line starts with one of the reply's class, as RFC 2034 servers send
 * it), lines joined with "\n", never NULL.
 * local is 1 when posta decided the status itself rather than the server
 * (the message is larger than the server's SIZE, a needed extension is not
 * offered, a line too long, the connection died before the answer: code then
 * is 554/552 for permanent, 451/421 for temporary, and text says why).
 * Control characters the server put in its text are shown as '?'.  error
 * is the posta_error behind a local status (0 otherwise).
 * A status pointer stays valid until the status changes (a later run, a
 * reset) or its owner is freed.
 */
typedef struct posta_smtp_status {
    int code;
    int enh_class;
    int enh_subject;
    int enh_detail;
    const char *text;
    int local;
    int error;
} posta_smtp_status;

/* --- enumerations ------------------------------------------------------------ */

/* How TLS is used (libESMTP's starttls_option, plus implicit TLS). */
typedef enum posta_smtp_tls {
    POSTA_SMTP_TLS_REQUIRED = 0, /* default: STARTTLS, and fail when the server
                                  * does not offer it; port 465 (or service
                                  * "submissions"/"smtps") means implicit TLS */
    POSTA_SMTP_TLS_ENABLED,      /* STARTTLS when offered, else go on in
                                  * cleartext; port 465 as above */
    POSTA_SMTP_TLS_DISABLED,     /* never TLS */
    POSTA_SMTP_TLS_IMPLICIT      /* TLS from the first byte, whatever the port */
} posta_smtp_tls;

/* The service extensions posta knows, as bits (posta_smtp_extensions()) and
 * as the subject of POSTA_SMTP_EV_EXTNA events. */
typedef enum posta_smtp_ext {
    POSTA_SMTP_EXT_PIPELINING = 1u << 0,
    POSTA_SMTP_EXT_SIZE = 1u << 1,
    POSTA_SMTP_EXT_8BITMIME = 1u << 2,
    POSTA_SMTP_EXT_SMTPUTF8 = 1u << 3,
    POSTA_SMTP_EXT_BINARYMIME = 1u << 4,
    POSTA_SMTP_EXT_CHUNKING = 1u << 5,
    POSTA_SMTP_EXT_DSN = 1u << 6,
    POSTA_SMTP_EXT_DELIVERBY = 1u << 7,
    POSTA_SMTP_EXT_ENHANCEDSTATUSCODES = 1u << 8,
    POSTA_SMTP_EXT_REQUIRETLS = 1u << 9,
    POSTA_SMTP_EXT_ETRN = 1u << 10,
    POSTA_SMTP_EXT_MTPRIORITY = 1u << 11,
    POSTA_SMTP_EXT_FUTURERELEASE = 1u << 12,
    POSTA_SMTP_EXT_LIMITS = 1u << 13,
    POSTA_SMTP_EXT_STARTTLS = 1u << 14,
    POSTA_SMTP_EXT_AUTH = 1u << 15
} posta_smtp_ext;

/* The body type declared with MAIL FROM (BODY=, RFC 6152 and RFC 3030). */
typedef enum posta_smtp_body {
    POSTA_SMTP_BODY_NOTSET = 0, /* no BODY parameter */
    POSTA_SMTP_BODY_7BIT,       /* BODY=7BIT when 8BITMIME is offered */
    POSTA_SMTP_BODY_8BITMIME,   /* BODY=8BITMIME; without the extension an
                                 * EXTNA event and the message is sent anyway
                                 * unless the event asks to quit (libESMTP) */
    POSTA_SMTP_BODY_BINARYMIME  /* BODY=BINARYMIME over BDAT: the body is sent
                                 * byte for byte (no CRLF canonicalization, no
                                 * line limit; the header section still is);
                                 * without BINARYMIME and CHUNKING the message
                                 * fails (local 554) */
} posta_smtp_body;

/* DSN RET (RFC 3461). */
typedef enum posta_smtp_dsn_ret {
    POSTA_SMTP_RET_NOTSET = 0,
    POSTA_SMTP_RET_FULL,
    POSTA_SMTP_RET_HDRS
} posta_smtp_dsn_ret;

/* DSN NOTIFY bits (RFC 3461); 0 = not set.  NEVER excludes the others. */
enum {
    POSTA_SMTP_NOTIFY_NEVER = 1,
    POSTA_SMTP_NOTIFY_SUCCESS = 2,
    POSTA_SMTP_NOTIFY_FAILURE = 4,
    POSTA_SMTP_NOTIFY_DELAY = 8
};

/* DELIVERBY mode (RFC 2852). */
typedef enum posta_smtp_by_mode {
    POSTA_SMTP_BY_NOTSET = 0,
    POSTA_SMTP_BY_NOTIFY, /* ;N: notify the sender when the time passes */
    POSTA_SMTP_BY_RETURN  /* ;R: return the message when the time passes */
} posta_smtp_by_mode;

/* What to do with a line longer than 998 octets (RFC 5322 2.1.1) in the
 * message data (not with BINARYMIME bodies). */
typedef enum posta_smtp_long_lines {
    POSTA_SMTP_LONG_REFUSE = 0, /* default: the message fails (local 554
                                 * 5.6.0, error POSTA_ELIMIT); when the line is
                                 * found after the data phase began the
                                 * connection is dropped so the server
                                 * discards the partial message */
    POSTA_SMTP_LONG_FOLD        /* header lines are folded at white space (or
                                 * refused when they have none); body lines
                                 * are broken with CRLF every 998 octets */
} posta_smtp_long_lines;

/* Header options (libESMTP's Hdr_OVERRIDE, Hdr_PROHIBIT), as bits. */
enum {
    POSTA_SMTP_HDR_OVERRIDE = 1, /* the value set through the API replaces the
                                  * message's own header of that name */
    POSTA_SMTP_HDR_PROHIBIT = 2  /* the header is removed and never generated */
};

/* Per-phase timeouts, RFC 5321 4.5.3.2 (defaults in brackets). */
typedef enum posta_smtp_timeout {
    POSTA_SMTP_TIMEOUT_CONNECT = 0, /* per address tried [30 s] */
    POSTA_SMTP_TIMEOUT_GREETING,    /* the 220 greeting [5 min] */
    POSTA_SMTP_TIMEOUT_MAIL,        /* reply to MAIL [5 min] */
    POSTA_SMTP_TIMEOUT_RCPT,        /* reply to each RCPT [5 min] */
    POSTA_SMTP_TIMEOUT_DATA,        /* reply to DATA (354) [2 min] */
    POSTA_SMTP_TIMEOUT_BLOCK,       /* each data block written, each
                                     * non-final BDAT reply [3 min] */
    POSTA_SMTP_TIMEOUT_DOT,         /* reply to the final dot or BDAT LAST
                                     * (every LMTP reply) [10 min] */
    POSTA_SMTP_TIMEOUT_COMMAND      /* EHLO, STARTTLS and the TLS handshake,
                                     * AUTH, RSET, ETRN, QUIT [5 min] */
} posta_smtp_timeout;

/* The coarse state of a session, for posta_smtp_get_state(). */
typedef enum posta_smtp_state {
    POSTA_SMTP_STATE_IDLE = 0,   /* no run under way */
    POSTA_SMTP_STATE_CONNECTING, /* TCP connect, implicit TLS handshake */
    POSTA_SMTP_STATE_GREETING,   /* waiting for the 220 */
    POSTA_SMTP_STATE_HELLO,      /* EHLO/LHLO/HELO, STARTTLS and the handshake */
    POSTA_SMTP_STATE_AUTH,       /* AUTH exchange */
    POSTA_SMTP_STATE_READY,      /* between transactions */
    POSTA_SMTP_STATE_ENVELOPE,   /* MAIL, RCPT, DATA/BDAT commands and replies */
    POSTA_SMTP_STATE_DATA,       /* message data going out */
    POSTA_SMTP_STATE_QUIT        /* QUIT sent, or closing */
} posta_smtp_state;

/* --- events and monitor --------------------------------------------------- */

/*
 * Progress events, libESMTP's set (SMTP_EV_*) with the same meaning; the
 * fields of posta_smtp_event each event fills are listed (others are NULL/0).
 */
typedef enum posta_smtp_event_type {
    POSTA_SMTP_EV_CONNECT = 1,   /* greeting received: status (the 220) */
    POSTA_SMTP_EV_MAILSTATUS,    /* reply to MAIL: message, status, name =
                                  * the reverse path ("" for <>) */
    POSTA_SMTP_EV_RCPTSTATUS,    /* reply to RCPT: message, recipient, status,
                                  * name = the mailbox.  In LMTP also after
                                  * the dot, with the recipient's delivery
                                  * reply (value = 1 then, 0 for RCPT) */
    POSTA_SMTP_EV_MESSAGEDATA,   /* message data written: message, value =
                                  * octets in this step, total = octets of
                                  * this message so far (on the wire, after
                                  * canonicalization and dot-stuffing) */
    POSTA_SMTP_EV_MESSAGESENT,   /* the reply to the final dot or BDAT LAST (in
                                  * LMTP after the last recipient's): message,
                                  * status.  Also when the message failed
                                  * before data (status then says why) */
    POSTA_SMTP_EV_DISCONNECT,    /* the connection ended: error = 0 after QUIT,
                                  * else the reason; name = the sentence */
    POSTA_SMTP_EV_SYNTAXWARNING, /* a malformed header line in a message or a
                                  * malformed reply line tolerated: message or
                                  * NULL, name = what */
    POSTA_SMTP_EV_ETRNSTATUS,    /* reply to ETRN: etrn, status, name = node,
                                  * value = the option ('@', '#' or 0) */
    POSTA_SMTP_EV_EXTNA,         /* an extension the caller asked for is not
                                  * offered: extension, message (NULL for
                                  * STARTTLS, ETRN), name = its keyword; quit.
                                  * What happens next: DSN, 8BITMIME,
                                  * MT-PRIORITY: sent without the parameter;
                                  * SMTPUTF8, BINARYMIME, CHUNKING, REQUIRETLS,
                                  * FUTURERELEASE, DELIVERBY with RETURN: the
                                  * message fails (local 554 5.3.3); STARTTLS
                                  * when REQUIRED: the run fails; ETRN: the
                                  * nodes fail (local 502).  Setting *quit = 1
                                  * ends the session instead (QUIT). */
    POSTA_SMTP_EV_DELIVERBY_EXPIRED, /* the by-time is below the server's DELIVERBY
                                  * minimum: message, value = seconds short; quit.
                                  * Without quit the parameter is sent as set */
    POSTA_SMTP_EV_STARTTLS_OK,   /* the handshake succeeded (STARTTLS or
                                  * implicit): name = cipher, value = bits,
                                  * and posta_smtp_stream() has the facts */
    POSTA_SMTP_EV_TLS_FAILED,    /* the handshake or verification failed: error
                                  * (POSTA_EVERIFY for the certificate,
                                  * POSTA_ETLS, POSTA_EALPN...), name = why.
                                  * The run then fails; to accept an
                                  * unverified peer set posta_stream_set_insecure()
                                  * beforehand */
    POSTA_SMTP_EV_WEAK_CIPHER,   /* the cipher has fewer than 128 key bits:
                                  * value = bits; quit (default: go on) */
    POSTA_SMTP_EV_AUTH_OK,       /* AUTH succeeded: name = mechanism, status */
    POSTA_SMTP_EV_AUTH_FAILED    /* AUTH failed: name = mechanism (or NULL),
                                  * status (NULL when no reply), error */
} posta_smtp_event_type;

/* One event; valid during the callback only. */
typedef struct posta_smtp_event {
    posta_smtp_event_type type;
    posta_smtp_message *message;
    posta_smtp_recipient *recipient;
    posta_smtp_etrn *etrn;
    const posta_smtp_status *status;
    const char *name;
    unsigned extension;          /* a posta_smtp_ext bit (EXTNA) */
    long long value;
    long long total;
    int error;
    int *quit;                   /* when not NULL: set *quit = 1 to end the
                                  * session (QUIT, then the run fails with
                                  * POSTA_ECANCELED) */
} posta_smtp_event;

/* Monitor directions (libESMTP's SMTP_CB_READING/WRITING/HEADERS). */
enum {
    POSTA_SMTP_MON_READ = 0,    /* bytes read from the server */
    POSTA_SMTP_MON_WRITE = 1,   /* commands as buffered for one write, so a
                                 * pipelined group arrives in one call
                                 * (message data excluded but for the final
                                 * ".", BDAT chunks shown by their command;
                                 * AUTH responses shown as "<omitted>") */
    POSTA_SMTP_MON_HEADERS = 2  /* one message header as sent, CRLF included
                                 * (only after posta_smtp_set_monitor_headers) */
};

typedef struct posta_smtp_callbacks {
    /* Progress (optional). */
    void (*on_event)(posta_smtp *h, const posta_smtp_event *ev, void *user);
    /* The exchange in clear text (optional): data as read or as written,
     * which may hold several commands or replies; dir is a POSTA_SMTP_MON_*
     * value. */
    void (*on_monitor)(posta_smtp *h, const char *data, size_t len, int dir, void *user);
} posta_smtp_callbacks;

/* The end of a run: error 0 when the session ended with QUIT (individual
 * messages may still have failed: see their statuses), otherwise what ended
 * it (as posta_smtp_run() returns). */
typedef void (*posta_smtp_done_fn)(posta_smtp *h, int error, void *user);

/*
 * A message source.  read hands out the next chunk of the message (RFC 5322
 * header section, blank line, body; any line ending): return 0 with *data_r,
 * *len_r set (len > 0), or 0 with *len_r = 0 at the end, or a negative error
 * (the message fails with it; when data had already gone out the connection
 * is dropped).  The chunk must stay valid until the next call of read or
 * rewind.  rewind (may be NULL) goes back to the start; it is called before
 * every pass over the message, the first included, and a NULL rewind means
 * the source can be read only once (a second pass fails the message with
 * POSTA_ESTATE).  release (may be NULL) is called once when the source is
 * replaced or the message freed.  The callbacks may not call into the
 * session.
 */
typedef struct posta_smtp_source {
    int (*read)(posta_smtp_message *m, const void **data_r, size_t *len_r, void *user);
    int (*rewind)(posta_smtp_message *m, void *user);
    void (*release)(posta_smtp_message *m, void *user);
    void *user;
} posta_smtp_source;

/* An authentication factory: asked once per connection that authenticates,
 * after EHLO (and after STARTTLS), for a SASL session made with
 * posta_sasl_new(&s, POSTA_SASL_SMTP, "smtp", host) and prepared with
 * credentials, mechanisms and policy.  The session takes ownership of *s_r
 * and frees it when the connection ends.  Return 0, or a negative error that
 * fails the run. */
typedef int (*posta_smtp_sasl_fn)(posta_smtp *h, const char *host, posta_sasl **s_r,
                                  void *user);

/* --- session --------------------------------------------------------------- */

/*
 * Create a session.  callbacks may be NULL; they are copied; user is passed
 * to them.  Defaults: server "localhost:587", TLS REQUIRED, verification on,
 * the EHLO name from gethostname(3) when it holds a dot, else the address
 * literal of the local end ("[127.0.0.1]"), pipelining and chunking used when
 * offered, no authentication, the RFC 5321 timeouts, header limit 256 KiB.
 * Returns 0 or POSTA_ENOMEM.
 */
POSTA_API int posta_smtp_new(posta_smtp **h_r, const posta_smtp_callbacks *callbacks,
                             void *user);

/* Free the session with every message, recipient and ETRN node in it.  A run
 * under way is abandoned (its done callback gets POSTA_ECANCELED; the
 * connection is closed without QUIT).  NULL-safe; deferred when called
 * inside a callback of this session. */
POSTA_API void posta_smtp_free(posta_smtp *h);

/* Replace the callbacks (copied; NULL removes them) and their user pointer. */
POSTA_API void posta_smtp_set_callbacks(posta_smtp *h, const posta_smtp_callbacks *callbacks,
                                        void *user);

/* Show each message header to on_monitor with POSTA_SMTP_MON_HEADERS. */
POSTA_API void posta_smtp_set_monitor_headers(posta_smtp *h, int on);

/* The stream used for the next or current connection, to set TLS options
 * (CA, client certificate, insecure, ALPN, TLS name) before a run.  Owned by
 * the session; valid until the session is freed or posta_smtp_attach(). */
POSTA_API posta_stream *posta_smtp_stream(posta_smtp *h);

/*
 * The server: "host", "host:port", "[v6]:port"; the port (number or service
 * name) defaults to 587, or 24 in LMTP mode.  Every address of the name is
 * tried in turn.  In LMTP mode "unix:/path" or an absolute path names a UNIX
 * socket; such a connection counts as local: TLS is not asked for and
 * cleartext mechanisms are allowed.  Copied.  POSTA_EINVAL, POSTA_ENOMEM.
 */
POSTA_API int posta_smtp_set_server(posta_smtp *h, const char *target);

/* The name sent with EHLO/LHLO/HELO: a domain name or an address literal
 * ("[192.0.2.1]"); NULL restores the default.  POSTA_EINVAL for a name with
 * white space or controls. */
POSTA_API int posta_smtp_set_hostname(posta_smtp *h, const char *fqdn);

/* LMTP mode (on != 0): LHLO, and one reply per accepted recipient after the
 * final dot, each becoming that recipient's status.  Before a run only. */
POSTA_API int posta_smtp_set_lmtp(posta_smtp *h, int on);

/* How TLS is used (see posta_smtp_tls). */
POSTA_API int posta_smtp_set_tls(posta_smtp *h, posta_smtp_tls mode);

/* Use an already connected stream for the next run instead of connecting
 * (socketpairs, tests, inetd).  The session takes ownership of s and frees
 * its own stream; the greeting is read next, and STARTTLS happens as the TLS
 * mode says unless s already has TLS.  One run only: a later run connects to
 * the server again.  POSTA_ESTATE during a run. */
POSTA_API int posta_smtp_attach(posta_smtp *h, posta_stream *s);

/* Set a timeout (see posta_smtp_timeout) in milliseconds; a negative value
 * means none.  Returns the previous value, or POSTA_EINVAL for an unknown
 * which. */
POSTA_API int posta_smtp_set_timeout(posta_smtp *h, posta_smtp_timeout which, int ms);

/* libESMTP's smtp_option_require_all_recipients: when on, a transaction in
 * which any recipient was refused gets no data: RSET instead, and the
 * message's status is local (554 5.5.0, or 451 4.5.0 when every refusal was
 * temporary, error POSTA_ENO).  DATA then waits for the RCPT replies
 * instead of being pipelined. */
POSTA_API void posta_smtp_set_require_all_recipients(posta_smtp *h, int on);

/* Use PIPELINING / CHUNKING when offered (both on by default).  Without
 * CHUNKING a BINARYMIME message fails. */
POSTA_API void posta_smtp_set_pipelining(posta_smtp *h, int on);
POSTA_API void posta_smtp_set_chunking(posta_smtp *h, int on);

/* With PIPELINING, send the next transaction's MAIL, RCPT and DATA right
 * after the previous message's final dot or BDAT LAST, before its reply (on,
 * the default; RFC 2920 3.1), or wait for that reply first (off; libESMTP
 * waits).  Known interop problem: Dovecot 2.3's submission service aborts
 * the session (an assertion in smtp-server-transaction.c) when the next
 * RCPTs arrive while it still relays the previous message; turn this off for
 * such servers. */
POSTA_API void posta_smtp_set_pipeline_transactions(posta_smtp *h, int on);

/* Octets of message per BDAT chunk (default 65536; 512 .. 16 MiB). */
POSTA_API int posta_smtp_set_chunk_size(posta_smtp *h, size_t octets);

/* Most octets of a message's header section read ahead for header
 * processing (default 262144; at least 1024).  A longer header section fails
 * the message with POSTA_ELIMIT before MAIL is sent. */
POSTA_API int posta_smtp_set_header_limit(posta_smtp *h, size_t octets);

/* --- authentication -------------------------------------------------------- */

/*
 * Authenticate with these credentials, copied (password wiped on free):
 * posta makes a POSTA_SASL_SMTP session per connection with authcid,
 * password and the mechanisms list ("SCRAM-SHA-256 PLAIN", NULL: automatic
 * choice; see sasl.h).  NULL authcid turns authentication off.
 * POSTA_EINVAL (CR, LF or NUL inside), POSTA_ENOMEM.
 */
POSTA_API int posta_smtp_set_auth(posta_smtp *h, const char *authcid, const char *password,
                                  const char *mechanisms);

/* Authenticate through a factory that makes each connection's SASL session
 * (see posta_smtp_sasl_fn); replaces posta_smtp_set_auth().  NULL fn turns
 * authentication off. */
POSTA_API void posta_smtp_set_sasl_factory(posta_smtp *h, posta_smtp_sasl_fn fn, void *user);

/* Allow PLAIN, LOGIN, XOAUTH2, OAUTHBEARER on an unencrypted connection
 * (default: refused; the run then fails with POSTA_EPOLICY). */
POSTA_API void posta_smtp_set_allow_cleartext_auth(posta_smtp *h, int allow);

/* When authentication is configured and the server offers no AUTH, fail
 * the run with POSTA_EUNSUPPORTED (required != 0, the default) or go on
 * unauthenticated (libESMTP's behaviour). */
POSTA_API void posta_smtp_set_auth_required(posta_smtp *h, int required);

/* The SASL session of the current connection after AUTH, for
 * posta_sasl_mechanism() and posta_sasl_ssf(); NULL when none.  Valid until
 * the connection ends. */
POSTA_API posta_sasl *posta_smtp_sasl(posta_smtp *h);

/* --- running ---------------------------------------------------------------- */

/*
 * Run the session, blocking: connect, send every message that needs it, run
 * the ETRN nodes, QUIT.  Returns 0 when the session ended with QUIT (see the
 * statuses for each message: some may have failed), or what ended it early:
 * POSTA_ENOTFOUND (nothing to send: no message or node needs a run),
 * POSTA_ERESOLVE, POSTA_ECONNECT, POSTA_ETIMEDOUT, POSTA_ECLOSED, POSTA_EBYE
 * (421), POSTA_EPROTO, POSTA_ETLS / POSTA_EVERIFY, POSTA_EPOLICY (TLS
 * required but not offered, cleartext auth refused), POSTA_EAUTH,
 * POSTA_EUNSUPPORTED, POSTA_ECANCELED (an event asked to quit), POSTA_ENO
 * (the greeting or EHLO and HELO refused), with the sentence in
 * posta_smtp_errmsg().  A run that needs a new connection for MAILMAX does
 * so within the call.  POSTA_ESTATE inside a callback or during a run.
 */
POSTA_API int posta_smtp_run(posta_smtp *h);

/* Start a run without blocking (except for the name lookup); done runs
 * exactly once when it ends.  Returns 0, or POSTA_ENOTFOUND/POSTA_ESTATE/
 * POSTA_ENOMEM and done never runs.  Drive with posta_smtp_process() or the
 * loop calls. */
POSTA_API int posta_smtp_run_start(posta_smtp *h, posta_smtp_done_fn done, void *user);

/* Wait up to timeout_ms (< 0: forever) for the run to make progress and
 * handle it.  Returns 0 (progress, timeout, or no run), or the error that
 * ended the run. */
POSTA_API int posta_smtp_process(posta_smtp *h, int timeout_ms);

/* The socket of the run under way; -1 when none. */
POSTA_API int posta_smtp_fd(const posta_smtp *h);
/* Nonzero when the run needs the fd to become writable (output waiting, a
 * connect or handshake in progress). */
POSTA_API int posta_smtp_wants_write(const posta_smtp *h);
/* Handle readiness / an expired timeout.  0 or the error that ended the
 * run (the done callback has then run). */
POSTA_API int posta_smtp_on_readable(posta_smtp *h);
POSTA_API int posta_smtp_on_writable(posta_smtp *h);
POSTA_API int posta_smtp_on_timeout(posta_smtp *h);
/* Milliseconds until posta_smtp_on_timeout() should be called; -1: none.
 * 0 also when bytes already decrypted wait inside the stream (they do not
 * make the socket readable); on_timeout reads them. */
POSTA_API int posta_smtp_next_timeout_ms(const posta_smtp *h);

/* --- facts ------------------------------------------------------------------ */

POSTA_API posta_smtp_state posta_smtp_get_state(const posta_smtp *h);
/* The sentence for the last error; never NULL. */
POSTA_API const char *posta_smtp_errmsg(const posta_smtp *h);
/* The code of the last error (0: none). */
POSTA_API int posta_smtp_errcode(const posta_smtp *h);
/* The greeting's text ("" before one); valid until the next run. */
POSTA_API const char *posta_smtp_greeting(const posta_smtp *h);
/* The extensions of the last EHLO/LHLO answer, as posta_smtp_ext bits. */
POSTA_API unsigned posta_smtp_extensions(const posta_smtp *h);
/* The parameters of an EHLO keyword ("SIZE" -> "10240000", "AUTH" -> "PLAIN
 * LOGIN", "" when it has none), NULL when not offered.  Case-insensitive;
 * valid until the next EHLO. */
POSTA_API const char *posta_smtp_extension_params(const posta_smtp *h, const char *keyword);

/* Application data (libESMTP's smtp_set_application_data): returns the old
 * pointer. */
POSTA_API void *posta_smtp_set_user(posta_smtp *h, void *user);
POSTA_API void *posta_smtp_get_user(const posta_smtp *h);

/* --- messages --------------------------------------------------------------- */

/* Add an empty message (null reverse path, no recipients, no source) at the
 * end of the session.  *m_r is owned by the session.  POSTA_ENOMEM,
 * POSTA_ESTATE. */
POSTA_API int posta_smtp_add_message(posta_smtp *h, posta_smtp_message **m_r);

/* Iterate: the first message (NULL when none), the next (NULL at the end). */
POSTA_API posta_smtp_message *posta_smtp_first_message(const posta_smtp *h);
POSTA_API posta_smtp_message *posta_smtp_next_message(const posta_smtp_message *m);
POSTA_API posta_smtp *posta_smtp_message_session(const posta_smtp_message *m);

/* The envelope sender: an RFC 5321 mailbox without angle brackets
 * ("a@example.org"; a UTF-8 local part or domain needs SMTPUTF8), NULL or ""
 * for the null reverse path <>.  POSTA_EINVAL (controls, CR, LF, NUL, <, >,
 * white space outside a quoted local part, invalid UTF-8), POSTA_ENOMEM. */
POSTA_API int posta_smtp_message_set_reverse_path(posta_smtp_message *m, const char *mailbox);
/* The reverse path as set ("" for <>). */
POSTA_API const char *posta_smtp_message_reverse_path(const posta_smtp_message *m);

/* Sources (see posta_smtp_source).  Each replaces the previous source.
 *   set_source: the callbacks, copied.
 *   set_file:   fp is borrowed (not closed) and must stay open until the
 *               session is freed or the source replaced; passes start at
 *               fp's position at this call (fseeko), so a pipe is read once.
 *   set_fd:     likewise for a descriptor (lseek; not closed).
 *   set_buffer: len octets at data, borrowed: they must stay unchanged until
 *               the session is freed or the source replaced. */
POSTA_API int posta_smtp_message_set_source(posta_smtp_message *m, const posta_smtp_source *src);
POSTA_API int posta_smtp_message_set_file(posta_smtp_message *m, FILE *fp);
POSTA_API int posta_smtp_message_set_fd(posta_smtp_message *m, int fd);
POSTA_API int posta_smtp_message_set_buffer(posta_smtp_message *m, const void *data, size_t len);

/* The size declared with SIZE= (RFC 1870), in octets.  0 (the default) means
 * posta's estimate: the buffer or regular file's length plus generated
 * headers; callback sources without a size declare none.  A declared size
 * above the server's SIZE limit fails the message before MAIL (local 552
 * 5.3.4, POSTA_ELIMIT). */
POSTA_API void posta_smtp_message_set_size(posta_smtp_message *m, unsigned long long octets);

/* BODY= (see posta_smtp_body). */
POSTA_API int posta_smtp_message_set_body(posta_smtp_message *m, posta_smtp_body body);

/* Ask for SMTPUTF8 (RFC 6531).  Also implied by a non-ASCII reverse path or
 * recipient.  Without the extension the message fails (local 554 5.6.7). */
POSTA_API void posta_smtp_message_set_smtputf8(posta_smtp_message *m, int on);

/* DSN (RFC 3461): RET and ENVID (sent as xtext; printable ASCII, at most 100
 * octets; NULL clears).  POSTA_EINVAL. */
POSTA_API int posta_smtp_message_set_dsn_ret(posta_smtp_message *m, posta_smtp_dsn_ret ret);
POSTA_API int posta_smtp_message_set_dsn_envid(posta_smtp_message *m, const char *envid);

/* DELIVERBY (RFC 2852): BY=seconds;N|R[T].  mode NOTSET clears. */
POSTA_API int posta_smtp_message_set_deliverby(posta_smtp_message *m, long seconds,
                                               posta_smtp_by_mode mode, int trace);

/* MT-PRIORITY (RFC 6710), -9 .. 9; sent only when offered. POSTA_EINVAL. */
POSTA_API int posta_smtp_message_set_priority(posta_smtp_message *m, int priority);
POSTA_API void posta_smtp_message_clear_priority(posta_smtp_message *m);

/* FUTURERELEASE (RFC 4865): hold for seconds (HOLDFOR) or until an absolute
 * time (HOLDUNTIL, sent in UTC); 0 clears.  Beyond the server's maximum the
 * message fails (local 554 5.3.3). */
POSTA_API int posta_smtp_message_set_holdfor(posta_smtp_message *m, long seconds);
POSTA_API int posta_smtp_message_set_holduntil(posta_smtp_message *m, time_t when);

/* REQUIRETLS (RFC 8689): the message may travel only over verified TLS.
 * Needs a TLS connection whose server offers REQUIRETLS, else the message
 * fails (local 554 5.7.10). */
POSTA_API void posta_smtp_message_set_requiretls(posta_smtp_message *m, int on);

/* An extra MAIL FROM parameter, "KEY" or "KEY=VALUE" (esmtp-param of
 * RFC 5321: printable ASCII without space or '='-less garbage), sent as is
 * after posta's own.  POSTA_EINVAL, POSTA_ENOMEM. */
POSTA_API int posta_smtp_message_add_mail_param(posta_smtp_message *m, const char *param);

/* Over-long lines (see posta_smtp_long_lines). */
POSTA_API void posta_smtp_message_set_long_lines(posta_smtp_message *m,
                                                 posta_smtp_long_lines policy);

/* --- message headers ----------------------------------------------------- */

/*
 * Header processing, on by default, as libESMTP documents it: the header
 * section is read ahead (bounded by the header limit) and
 *   Date, Message-Id, From are generated when missing (From from the reverse
 *   path; a null reverse path and no From fails the message), To from the
 *   envelope recipients when the message has none of To, Cc and Bcc;
 *   Return-Path, Delivered-To and other delivery-time headers are removed;
 *   Bcc and Resent-Bcc are never transmitted;
 *   headers set through the API are defaults, or replace the message's with
 *   POSTA_SMTP_HDR_OVERRIDE; POSTA_SMTP_HDR_PROHIBIT removes a header;
 *   non-ASCII phrases and unstructured values given through the API are
 *   encoded per RFC 2047 (kept as UTF-8 with SMTPUTF8), long ones folded;
 *   MIME headers (MIME-Version, Content-*) pass unchanged and cannot be set.
 * The body is passed through (canonicalized and dot-stuffed).  Off: the
 * message is sent as given (still canonicalized and dot-stuffed).
 */
POSTA_API void posta_smtp_message_set_header_processing(posta_smtp_message *m, int on);

/* Resent headers (libESMTP's smtp_set_resent_headers): generate
 * Resent-Date, Resent-Message-Id, Resent-From instead of Date, Message-Id,
 * From. */
POSTA_API void posta_smtp_message_set_resent(posta_smtp_message *m, int on);

/*
 * Set a header's value through the API.  name is the field name without the
 * colon; value is the unstructured or raw field body (UTF-8; copied).  For
 * Message-Id a NULL value means "generate one".  Address lists are better
 * built with posta_smtp_message_add_address().  Errors: POSTA_EINVAL (CR,
 * LF, NUL or other controls in value, a bad name, a MIME header or a
 * delivery-time header, a second value for a header that allows one),
 * POSTA_ENOMEM.
 */
POSTA_API int posta_smtp_message_set_header(posta_smtp_message *m, const char *name,
                                            const char *value);

/* Date (or Resent-Date; name NULL means Date) from a time, formatted per
 * RFC 5322 in local time. */
POSTA_API int posta_smtp_message_set_date(posta_smtp_message *m, const char *name, time_t when);

/*
 * Add an address to an address header (From, Sender, Reply-To, To, Cc, Bcc
 * and their Resent- forms): phrase (display name, UTF-8, may be NULL) and
 * mailbox ("a@example.org").  Calls for the same header build one header
 * listing every value; Sender takes one.  The phrase is quoted or
 * RFC 2047-encoded as needed.  POSTA_EINVAL, POSTA_ENOMEM.
 */
POSTA_API int posta_smtp_message_add_address(posta_smtp_message *m, const char *name,
                                             const char *phrase, const char *mailbox);

/* Header options: POSTA_SMTP_HDR_* bits for name (0 clears).  PROHIBIT on a
 * header RFC 5322 requires (Date, From) is POSTA_EINVAL. */
POSTA_API int posta_smtp_message_set_header_option(posta_smtp_message *m, const char *name,
                                                   unsigned options);

/* --- recipients ----------------------------------------------------------- */

/* Add an envelope recipient (mailbox rules as for the reverse path; in LMTP
 * a bare local user such as "bob" is allowed).  *r_r (may be NULL) is owned
 * by the message.  POSTA_EINVAL, POSTA_ENOMEM, POSTA_ESTATE. */
POSTA_API int posta_smtp_add_recipient(posta_smtp_message *m, const char *mailbox,
                                       posta_smtp_recipient **r_r);

POSTA_API posta_smtp_recipient *posta_smtp_first_recipient(const posta_smtp_message *m);
POSTA_API posta_smtp_recipient *posta_smtp_next_recipient(const posta_smtp_recipient *r);
POSTA_API posta_smtp_message *posta_smtp_recipient_message(const posta_smtp_recipient *r);
POSTA_API const char *posta_smtp_recipient_mailbox(const posta_smtp_recipient *r);

/* DSN NOTIFY (POSTA_SMTP_NOTIFY_* bits; 0 clears; NEVER with others is
 * POSTA_EINVAL) and ORCPT (addr_type such as "rfc822", address sent as
 * xtext; NULL clears). */
POSTA_API int posta_smtp_recipient_set_dsn_notify(posta_smtp_recipient *r, unsigned flags);
POSTA_API int posta_smtp_recipient_set_dsn_orcpt(posta_smtp_recipient *r, const char *addr_type,
                                                 const char *address);

/* An extra RCPT TO parameter, as for posta_smtp_message_add_mail_param(). */
POSTA_API int posta_smtp_recipient_add_param(posta_smtp_recipient *r, const char *param);

/* --- results -------------------------------------------------------------- */

/* The transfer status: the reply to the final dot or BDAT LAST (LMTP: the
 * first successful recipient's delivery reply, else the last failure), or a
 * local status (see posta_smtp_status).  Code 0 before any attempt. */
POSTA_API const posta_smtp_status *posta_smtp_message_status(const posta_smtp_message *m);
/* The reply to MAIL FROM. */
POSTA_API const posta_smtp_status *posta_smtp_message_mail_status(const posta_smtp_message *m);
/* 1 when the transfer status is a success (2xx). */
POSTA_API int posta_smtp_message_sent(const posta_smtp_message *m);
/* Forget the message's transfer and MAIL statuses (not its recipients'), so
 * a later run sends it again.  POSTA_ESTATE during a run. */
POSTA_API int posta_smtp_message_reset_status(posta_smtp_message *m);

/* The recipient's status: the reply to RCPT TO, replaced by the data-phase
 * outcome when that failed, and in LMTP by its delivery reply. */
POSTA_API const posta_smtp_status *posta_smtp_recipient_status(const posta_smtp_recipient *r);
/* 1 when the recipient succeeded or failed permanently (not sent again). */
POSTA_API int posta_smtp_recipient_complete(const posta_smtp_recipient *r);
POSTA_API int posta_smtp_recipient_reset_status(posta_smtp_recipient *r);

/* Application data on messages and recipients; each returns the old one. */
POSTA_API void *posta_smtp_message_set_user(posta_smtp_message *m, void *user);
POSTA_API void *posta_smtp_message_get_user(const posta_smtp_message *m);
POSTA_API void *posta_smtp_recipient_set_user(posta_smtp_recipient *r, void *user);
POSTA_API void *posta_smtp_recipient_get_user(const posta_smtp_recipient *r);

/* --- ETRN (RFC 1985) ---------------------------------------------------- */

/* Ask the server to start its queue for node: option 0 (a domain), '@'
 * (the domain and its subdomains) or '#' (a queue name).  Sent after the
 * messages of a run.  POSTA_EINVAL, POSTA_ENOMEM. */
POSTA_API int posta_smtp_add_etrn(posta_smtp *h, int option, const char *node,
                                  posta_smtp_etrn **n_r);
POSTA_API posta_smtp_etrn *posta_smtp_first_etrn(const posta_smtp *h);
POSTA_API posta_smtp_etrn *posta_smtp_next_etrn(const posta_smtp_etrn *n);
POSTA_API int posta_smtp_etrn_option(const posta_smtp_etrn *n);
POSTA_API const char *posta_smtp_etrn_node(const posta_smtp_etrn *n);
POSTA_API const posta_smtp_status *posta_smtp_etrn_status(const posta_smtp_etrn *n);
POSTA_API void *posta_smtp_etrn_set_user(posta_smtp_etrn *n, void *user);
POSTA_API void *posta_smtp_etrn_get_user(const posta_smtp_etrn *n);

#ifdef __cplusplus
}
#endif
#endif
