/* posta POP3: a client for RFC 1939 with CAPA and response codes (RFC 2449),
 * AUTH (RFC 5034), STLS (RFC 2595, RFC 8314), UTF8 (RFC 6856), PIPELINING. */
#ifndef POSTA_POP3_H
#define POSTA_POP3_H

#include <posta/common.h>
#include <posta/error.h>
#include <posta/sasl.h>
#include <posta/stream.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * A posta_pop3 handle is one POP3 connection.  Inside is a sans-I/O engine
 * (bytes in, events out) bound to a posta_stream.  Three ways to drive it
 * (DESIGN.md, I/O model):
 *
 *   1. blocking: posta_pop3_connect(), posta_pop3_login(), posta_pop3_stat(),
 *      posta_pop3_retr()… run the connection until their own work is done;
 *   2. posta_pop3_process(h, timeout_ms): one step at a time;
 *   3. the caller's loop: watch posta_pop3_fd() for reading always and for
 *      writing when posta_pop3_wants_write(); call posta_pop3_on_readable(),
 *      posta_pop3_on_writable(), and posta_pop3_on_timeout() after
 *      posta_pop3_next_timeout_ms().  The *_start() calls queue work and do
 *      no I/O themselves: check posta_pop3_wants_write() after them.
 *
 * Each *_start() call takes a completion callback that runs exactly once:
 * with the server's +OK (error 0) or -ERR (POSTA_ENO, or POSTA_EAUTH for a
 * failed login), or, when no answer will come, with the reason: the command
 * whose answer was awaited gets the error that ended the connection
 * (POSTA_ECLOSED, POSTA_ETIMEDOUT, POSTA_EPROTO…), the commands queued
 * behind it POSTA_ECANCELED, as do all commands when the handle is freed.
 * If a *_start() call fails, its callback never runs.  All callbacks run
 * from inside the calls of this header; freeing the handle inside one is
 * allowed (the free happens when the callback returns).  Blocking calls are
 * refused (POSTA_ESTATE) inside callbacks.
 *
 * Deletions: DELE only marks a message.  The server removes marked messages
 * when it receives QUIT after a successful login (RFC 1939's UPDATE state);
 * posta_pop3_quit() returning 0 means they are gone.  A connection that ends
 * any other way (posta_pop3_free() without QUIT, a hang-up, a timeout)
 * removes nothing, and RSET unmarks everything.
 *
 * Pipelining: when the server announces PIPELINING, commands queued in the
 * TRANSACTION state go out together (RETR and DELE for many messages in one
 * write); otherwise each waits for the previous answer.  The answers and the
 * callbacks come in order either way.
 *
 * Security defaults (DESIGN.md): on a plain port STLS is used and required
 * unless the caller allows cleartext; bytes that arrive after STLS's +OK and
 * before the handshake end the connection (POSTA_EPROTO); capabilities are
 * forgotten and asked again after TLS; passwords never go out in cleartext
 * (USER/PASS, SASL PLAIN/LOGIN) on an unencrypted connection unless
 * posta_pop3_set_allow_cleartext() says so.
 *
 * Errors: the handle keeps a sentence for the last failure, with the
 * server's own words when it sent some ("RETR 3 refused by 127.0.0.1:110:
 * [IN-USE] mailbox locked"), and the response code and text themselves
 * (posta_pop3_server_code(), posta_pop3_server_text()).
 *
 * Strings handed to callbacks live until the callback returns; copy what
 * you keep.  Strings passed in are copied unless said otherwise.
 */
typedef struct posta_pop3 posta_pop3;

/* Where the connection is.  Only the engine moves it, one step at a time;
 * callbacks.on_state sees every move. */
typedef enum posta_pop3_state {
    POSTA_POP3_STATE_DISCONNECTED = 0, /* new, or closed: can connect again */
    POSTA_POP3_STATE_CONNECTING,       /* TCP connect under way */
    POSTA_POP3_STATE_TLS_HANDSHAKE,    /* implicit TLS, or after STLS's +OK */
    POSTA_POP3_STATE_GREETING,         /* waiting for the server's greeting */
    POSTA_POP3_STATE_NEGOTIATING,      /* CAPA and STLS before the handle is ready */
    POSTA_POP3_STATE_AUTHORIZATION,    /* ready; not logged in (RFC 1939 section 4) */
    POSTA_POP3_STATE_AUTHENTICATING,   /* USER/PASS, APOP or AUTH under way */
    POSTA_POP3_STATE_TRANSACTION,      /* logged in; the maildrop is locked */
    POSTA_POP3_STATE_QUITTING          /* QUIT queued; after a login the server
                                          commits deletions when it arrives */
} posta_pop3_state;

/* How TLS is used when connecting. */
typedef enum posta_pop3_tls {
    POSTA_POP3_TLS_AUTO = 0,   /* default: implicit TLS on port 995, else STLS required */
    POSTA_POP3_TLS_STLS,       /* STLS required; POSTA_EPOLICY when not offered */
    POSTA_POP3_TLS_IMPLICIT,   /* TLS from the first byte (RFC 8314) */
    POSTA_POP3_TLS_OPTIONAL,   /* STLS when offered, else cleartext (an explicit
                                  choice: a network attacker can strip it) */
    POSTA_POP3_TLS_NONE        /* cleartext; never STLS */
} posta_pop3_tls;

/* How posta_pop3_login() / posta_pop3_authenticate() log in. */
typedef enum posta_pop3_auth {
    POSTA_POP3_AUTH_ANY = 0,   /* the best the server offers: SASL (AUTH) when it
                                  lists mechanisms, then USER/PASS and APOP (APOP
                                  first on an unencrypted connection); only
                                  methods usable without sending anything are
                                  skipped, a refused login is not retried */
    POSTA_POP3_AUTH_SASL,      /* AUTH (RFC 5034) */
    POSTA_POP3_AUTH_APOP,      /* APOP (RFC 1939 section 7) */
    POSTA_POP3_AUTH_USER       /* USER and PASS */
} posta_pop3_auth;

/* The outcome of one command, valid during the completion callback. */
typedef struct posta_pop3_result {
    int error;          /* 0: +OK; POSTA_ENO: -ERR; POSTA_EAUTH: login refused;
                           or why no answer came (POSTA_ECANCELED, POSTA_ECLOSED…);
                           or what an entry or sink callback returned */
    const char *code;   /* the response code without brackets ("IN-USE",
                           "SYS/TEMP", "AUTH", "LOGIN-DELAY"), or NULL */
    size_t code_len;
    const char *text;   /* the server's text after the code, or the error
                           sentence when there was no answer; never NULL */
    size_t text_len;
    /* Parsed from the answer where the command has them, else 0 / NULL: */
    uint32_t count;     /* STAT: number of messages */
    uint64_t size;      /* STAT: maildrop octets; LIST n: message octets;
                           RETR, TOP: octets handed to the sink */
    uint32_t number;    /* LIST n, UIDL n: the message number */
    const char *uid;    /* UIDL n: the unique-id, NUL-terminated */
    size_t uid_len;
} posta_pop3_result;

/* One message of the maildrop, from LIST or UIDL lines or the scan table. */
typedef struct posta_pop3_entry {
    uint32_t number;    /* message number, 1-based, fixed for the session */
    uint64_t size;      /* octets as LIST says (0 from UIDL) */
    const char *uid;    /* UIDL unique-id (NUL-terminated), or NULL when
                           unknown (LIST lines, or no UIDL on the server) */
    size_t uid_len;
    int deleted;        /* scan table: marked by DELE in this session */
} posta_pop3_entry;

typedef void (*posta_pop3_done_fn)(posta_pop3 *h, const posta_pop3_result *r, void *user);
/* One LIST or UIDL line.  Return 0 to go on; a negative posta_error stops
 * the delivery (the rest of the answer is read and dropped) and becomes the
 * command's result; the connection stays usable. */
typedef int (*posta_pop3_entry_fn)(posta_pop3 *h, const posta_pop3_entry *e, void *user);
/* A piece of a message (RETR, TOP, multi-line raw commands): dot-unstuffed
 * bytes with their CRLF line ends, in order, in pieces of any size (at most
 * one read's worth).  Return values as for posta_pop3_entry_fn. */
typedef int (*posta_pop3_sink_fn)(posta_pop3 *h, const void *data, size_t len, void *user);

typedef struct posta_pop3_callbacks {
    /* Every state change (optional). */
    void (*on_state)(posta_pop3 *h, posta_pop3_state from, posta_pop3_state to, void *user);
    /* The transcript (optional): dir 'C' for each command as sent (without
     * CRLF; passwords, APOP digests and SASL responses shown as
     * "<omitted>"), 'S' for each status line and each CAPA/LIST/UIDL line
     * the server sent.  Message data (RETR, TOP) is not traced. */
    void (*on_trace)(posta_pop3 *h, char dir, const char *line, size_t len, void *user);
    /* The connection ended (optional): error 0 after QUIT's +OK. */
    void (*on_closed)(posta_pop3 *h, int error, const char *why, void *user);
} posta_pop3_callbacks;

/* Limits fixed at creation.  Zero fields take the defaults shown. */
typedef struct posta_pop3_limits {
    size_t max_line;     /* one status, CAPA, LIST or UIDL line: 64 KiB
                            (message lines are streamed and never held) */
    size_t max_capa;     /* all capability lines together: 64 KiB */
    size_t max_entries;  /* messages in the scan table: 10,000,000 */
} posta_pop3_limits;

/* Per-command options for posta_pop3_submit(); zero-initialize. */
typedef struct posta_pop3_cmd_opts {
    posta_pop3_done_fn done;   /* completion (optional) */
    posta_pop3_sink_fn sink;   /* multi-line answer data (optional: dropped) */
    void *user;                /* for done and sink */
    int multiline;             /* nonzero: a +OK answer is followed by lines
                                  ending with "." (sent to sink) */
    int timeout_ms;            /* 0: the handle's command timeout; < 0: none */
} posta_pop3_cmd_opts;

/* --- lifetime and options ---------------------------------------------- */

/* Create a handle.  callbacks may be NULL; they are copied, and user is
 * passed to them.  limits may be NULL.  Returns 0 or POSTA_ENOMEM. */
POSTA_API int posta_pop3_new(posta_pop3 **h_r, const posta_pop3_callbacks *callbacks,
                             const posta_pop3_limits *limits, void *user);

/* Cancel every pending command (POSTA_ECANCELED), close the connection
 * WITHOUT sending QUIT (so nothing marked with DELE is deleted), and free.
 * NULL-safe; deferred until the callback returns when called inside one. */
POSTA_API void posta_pop3_free(posta_pop3 *h);

/* The stream underneath, to set TLS options (CA file, client certificate,
 * insecure, TLS name) and connect timeouts before connecting.  Owned by the
 * handle; valid until posta_pop3_free().  ALPN "pop3" is offered by default. */
POSTA_API posta_stream *posta_pop3_stream(posta_pop3 *h);

POSTA_API void posta_pop3_set_tls(posta_pop3 *h, posta_pop3_tls mode);
/* Allow passwords in cleartext (USER/PASS, SASL PLAIN and LOGIN) on an
 * unencrypted connection (default: refused with POSTA_EPOLICY).  Not implied
 * by POSTA_POP3_TLS_NONE: a cleartext connection and a cleartext password
 * are separate choices. */
POSTA_API void posta_pop3_set_allow_cleartext(posta_pop3 *h, int allow);
/*
 * command_ms: how long the server may take to begin answering a command,
 * counted from when the answer is due (the answers before it arrived), and
 * for the greeting and the TLS handshake (default 120000).  silence_ms: how
 * long the server may pause once an answer has begun, as in the middle of a
 * long RETR (default 300000).  < 0 disables either.  Expiry ends the
 * connection with POSTA_ETIMEDOUT: a POP3 session cannot skip an answer.
 */
POSTA_API void posta_pop3_set_timeouts(posta_pop3 *h, int command_ms, int silence_ms);

/* --- connecting ----------------------------------------------------------- */

/*
 * Connect to target ("host", "host:port", "[v6]:port"; the port defaults to
 * 995 with TLS_IMPLICIT, else 110; AUTO uses implicit TLS on 995), read the
 * greeting, ask CAPA, upgrade with STLS as the TLS mode says and ask CAPA
 * again.  Blocking.  Returns 0 in the AUTHORIZATION state, or an error with
 * the sentence in posta_pop3_errmsg(): the stream's (POSTA_ECONNECT,
 * POSTA_EVERIFY…), POSTA_EPOLICY (TLS required, STLS not offered or refused),
 * POSTA_EPROTO (a bad greeting, bytes injected after STLS), POSTA_EBYE (an
 * -ERR greeting).
 */
POSTA_API int posta_pop3_connect(posta_pop3 *h, const char *target);

/* Non-blocking: start connecting (the name lookup itself blocks); done runs
 * once when the handle is ready (r->error 0) or failed.  Refused with
 * POSTA_ESTATE inside this handle's callbacks (as is posta_pop3_attach):
 * reconnect after the callback has returned. */
POSTA_API int posta_pop3_connect_start(posta_pop3 *h, const char *target,
                                       posta_pop3_done_fn done, void *user);

/* Use a stream that is already connected (plain, or with TLS up), e.g. a
 * socketpair or inetd descriptor: the handle takes ownership of s (also
 * when this fails) and frees its own stream.  The greeting is read next;
 * STLS follows as the TLS mode says when s has no TLS.  Returns 0 (done
 * will run) or POSTA_ESTATE when connected already. */
POSTA_API int posta_pop3_attach(posta_pop3 *h, posta_stream *s, posta_pop3_done_fn done,
                                void *user);

/* --- facts ------------------------------------------------------------------ */

POSTA_API posta_pop3_state posta_pop3_get_state(const posta_pop3 *h);
/* The greeting's text ("" before it) and its APOP timestamp ("<…>", with
 * the brackets; NULL when the greeting has none). */
POSTA_API const char *posta_pop3_greeting(const posta_pop3 *h);
POSTA_API const char *posta_pop3_apop_timestamp(const posta_pop3 *h);
/* 1 when the server's CAPA lists name (case-insensitive: "UIDL", "STLS",
 * "PIPELINING", "SASL", "UTF8"…), 0 otherwise and when it has no CAPA. */
POSTA_API int posta_pop3_has_capa(const posta_pop3 *h, const char *name);
/* The arguments of capability name ("SASL" gives "PLAIN SCRAM-SHA-256",
 * "IMPLEMENTATION" the server's name); "" when it has none, NULL when it is
 * not listed.  Valid until the capabilities are asked again. */
POSTA_API const char *posta_pop3_capa_args(const posta_pop3 *h, const char *name);
/* 1 when the server answered CAPA (RFC 2449); old servers do not. */
POSTA_API int posta_pop3_capa_known(const posta_pop3 *h);
/* 1 when TLS is up on the connection. */
POSTA_API int posta_pop3_tls_active(const posta_pop3 *h);
/* The SASL mechanism of the last successful AUTH, "APOP", "USER", or NULL. */
POSTA_API const char *posta_pop3_auth_method(const posta_pop3 *h);
/* Commands queued or awaiting an answer. */
POSTA_API size_t posta_pop3_pending(const posta_pop3 *h);

/* The sentence for the last error; never NULL ("success" when none). */
POSTA_API const char *posta_pop3_errmsg(const posta_pop3 *h);
/* The code of the last error (0 when none). */
POSTA_API int posta_pop3_errcode(const posta_pop3 *h);
/* The response code and the text of the last -ERR the server sent
 * ("IN-USE" and "mailbox locked"); "" when it had none. */
POSTA_API const char *posta_pop3_server_code(const posta_pop3 *h);
POSTA_API const char *posta_pop3_server_text(const posta_pop3 *h);

/* --- logging in (AUTHORIZATION state) -------------------------------------- */

/* Log in as user with password, choosing the method as POSTA_POP3_AUTH_ANY
 * says.  Blocking.  Returns 0 in TRANSACTION state; POSTA_EAUTH (refused;
 * the server's words in errmsg), POSTA_ENO (refused for another reason the
 * server named: [IN-USE], [LOGIN-DELAY], [SYS/TEMP]…), POSTA_EPOLICY
 * (only cleartext methods on an unencrypted connection), POSTA_EUNSUPPORTED
 * (no method in common; a non-ASCII name without UTF8 USER). */
POSTA_API int posta_pop3_login(posta_pop3 *h, const char *user, const char *password);

/*
 * Log in with a SASL session the caller configured (mechanisms, credentials
 * callback, authzid, SSF; posta/sasl.h), by method.  The handle tells the
 * session about TLS (posta_sasl_use_stream), the cleartext policy and the
 * greeting; APOP and USER/PASS take the session's authcid and password.  A
 * negotiated SASL security layer is installed on the stream.  s must stay
 * valid until this returns (or, for the _start form, until done runs).
 */
POSTA_API int posta_pop3_authenticate(posta_pop3 *h, posta_sasl *s, posta_pop3_auth method);
POSTA_API int posta_pop3_authenticate_start(posta_pop3 *h, posta_sasl *s,
                                            posta_pop3_auth method,
                                            posta_pop3_done_fn done, void *user);

/* --- commands: blocking ------------------------------------------------------- */

/* Each runs one command (TRANSACTION state unless said) and returns 0, POSTA_ENO
 * for -ERR (the server's words in errmsg), or another error. */

/* Ask CAPA again (AUTHORIZATION or TRANSACTION). */
POSTA_API int posta_pop3_capa(posta_pop3 *h);
/* Turn on UTF-8 mode (RFC 6856 "UTF8"; AUTHORIZATION state).
 * POSTA_EUNSUPPORTED when the server does not list UTF8. */
POSTA_API int posta_pop3_utf8(posta_pop3 *h);
POSTA_API int posta_pop3_stat(posta_pop3 *h, uint32_t *count_r, uint64_t *size_r);
/* LIST: msg 0 lists every message not marked deleted, one call of fn each;
 * msg n gives the size of message n (fn called once). */
POSTA_API int posta_pop3_list(posta_pop3 *h, uint32_t msg, posta_pop3_entry_fn fn, void *user);
/* UIDL: as LIST, with unique-ids.  POSTA_ENO when the server has no UIDL. */
POSTA_API int posta_pop3_uidl(posta_pop3 *h, uint32_t msg, posta_pop3_entry_fn fn, void *user);
/* RETR msg, streamed to sink; memory stays bounded whatever the size. */
POSTA_API int posta_pop3_retr(posta_pop3 *h, uint32_t msg, posta_pop3_sink_fn sink, void *user);
/* TOP msg lines: the header and the first lines of the body. */
POSTA_API int posta_pop3_top(posta_pop3 *h, uint32_t msg, unsigned long lines,
                             posta_pop3_sink_fn sink, void *user);
/* DELE msg: marks it (see Deletions above). */
POSTA_API int posta_pop3_dele(posta_pop3 *h, uint32_t msg);
/* RSET: unmarks every message marked in this session. */
POSTA_API int posta_pop3_rset(posta_pop3 *h);
POSTA_API int posta_pop3_noop(posta_pop3 *h);
/* QUIT (AUTHORIZATION or TRANSACTION), then close.  After a login, 0 means
 * the server removed the marked messages; POSTA_ENO means it could not
 * (RFC 1939: "some deleted messages not removed").  The handle can connect
 * again afterwards. */
POSTA_API int posta_pop3_quit(posta_pop3 *h);

/*
 * The maildrop at a glance, for mailbox drivers: LIST and UIDL (pipelined
 * when possible; UIDL only when the server has it) into a table the handle
 * keeps, ordered by message number.  DELE and RSET answered +OK update the
 * deleted marks; the next scan replaces the table.
 */
POSTA_API int posta_pop3_scan(posta_pop3 *h);
/* The table: *n_r entries; valid until the next successful scan, the next
 * connect, or free (a failed scan leaves the previous table). */
POSTA_API const posta_pop3_entry *posta_pop3_entries(const posta_pop3 *h, size_t *n_r);
/* The entry with this unique-id, or NULL. */
POSTA_API const posta_pop3_entry *posta_pop3_find_uid(const posta_pop3 *h, const char *uid);

/* Wait until every queued command has completed (after *_start() calls,
 * e.g. many RETR and DELE pipelined).  Returns 0, or the fatal error that
 * ended the connection. */
POSTA_API int posta_pop3_run(posta_pop3 *h);

/* --- commands: non-blocking --------------------------------------------------- */

/* Queue the command; results and errors come through done (may be NULL).
 * Returns 0 (done will run exactly once) or a negative error, nothing
 * queued: POSTA_ESTATE (wrong state, QUIT already queued), POSTA_EINVAL (a
 * message number of 0, an argument with CR, LF or NUL), POSTA_ENOMEM. */
POSTA_API int posta_pop3_capa_start(posta_pop3 *h, posta_pop3_done_fn done, void *user);
POSTA_API int posta_pop3_utf8_start(posta_pop3 *h, posta_pop3_done_fn done, void *user);
POSTA_API int posta_pop3_stat_start(posta_pop3 *h, posta_pop3_done_fn done, void *user);
POSTA_API int posta_pop3_list_start(posta_pop3 *h, uint32_t msg, posta_pop3_entry_fn fn,
                                    posta_pop3_done_fn done, void *user);
POSTA_API int posta_pop3_uidl_start(posta_pop3 *h, uint32_t msg, posta_pop3_entry_fn fn,
                                    posta_pop3_done_fn done, void *user);
POSTA_API int posta_pop3_retr_start(posta_pop3 *h, uint32_t msg, posta_pop3_sink_fn sink,
                                    posta_pop3_done_fn done, void *user);
POSTA_API int posta_pop3_top_start(posta_pop3 *h, uint32_t msg, unsigned long lines,
                                   posta_pop3_sink_fn sink, posta_pop3_done_fn done,
                                   void *user);
POSTA_API int posta_pop3_dele_start(posta_pop3 *h, uint32_t msg, posta_pop3_done_fn done,
                                    void *user);
POSTA_API int posta_pop3_rset_start(posta_pop3 *h, posta_pop3_done_fn done, void *user);
POSTA_API int posta_pop3_noop_start(posta_pop3 *h, posta_pop3_done_fn done, void *user);
POSTA_API int posta_pop3_quit_start(posta_pop3 *h, posta_pop3_done_fn done, void *user);
POSTA_API int posta_pop3_scan_start(posta_pop3 *h, posta_pop3_done_fn done, void *user);
POSTA_API int posta_pop3_login_start(posta_pop3 *h, const char *user, const char *password,
                                     posta_pop3_done_fn done, void *done_user);

/*
 * Any other command (AUTHORIZATION or TRANSACTION state), for tools such as
 * pop3test: line without CRLF, at most 253 octets (RFC 2449: 255 with the
 * CRLF), no CR, LF or NUL.  Never pipelined.  A command that changes the
 * session's state (USER, PASS, AUTH, STLS, QUIT) is refused (POSTA_EINVAL):
 * use the calls above, which keep the handle's state right.
 */
POSTA_API int posta_pop3_submit(posta_pop3 *h, const posta_pop3_cmd_opts *opts,
                                const char *line);

/* --- driving ----------------------------------------------------------------- */

/* Wait up to timeout_ms (< 0: forever) for the connection to make progress
 * and handle it.  Returns 0 (progress or timeout), POSTA_ESTATE when there
 * is no connection, or the fatal error that ended the connection. */
POSTA_API int posta_pop3_process(posta_pop3 *h, int timeout_ms);

/* The descriptor to watch (-1 when not connected). */
POSTA_API int posta_pop3_fd(const posta_pop3 *h);
/* Nonzero when the descriptor should also be watched for writing. */
POSTA_API int posta_pop3_wants_write(const posta_pop3 *h);
/* Handle readiness, or an expired timeout.  0 or the fatal error. */
POSTA_API int posta_pop3_on_readable(posta_pop3 *h);
POSTA_API int posta_pop3_on_writable(posta_pop3 *h);
POSTA_API int posta_pop3_on_timeout(posta_pop3 *h);
/* Milliseconds until posta_pop3_on_timeout() should be called; -1: none. */
POSTA_API int posta_pop3_next_timeout_ms(const posta_pop3 *h);

#ifdef __cplusplus
}
#endif
#endif
