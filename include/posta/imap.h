/* posta IMAP: the connection driver (tags, pipelining, literals, STARTTLS,
 * IDLE), and the parser, writer and decoders it is built on. */
#ifndef POSTA_IMAP_H
#define POSTA_IMAP_H

#include <posta/common.h>
#include <posta/error.h>
#include <posta/imap_parser.h>
#include <posta/imap_writer.h>
#include <posta/sasl.h>
#include <posta/stream.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * A posta_imap handle is one IMAP connection.  Commands are formatted with
 * the writer's conversions (imap_writer.h: %a %s %m %p %v %S %d %u %L …),
 * tagged, and pipelined: any number may be in flight.  Each command's
 * completion callback runs exactly once: with the server's tagged OK, NO or
 * BAD, or, when no answer will come, with an error (the connection died:
 * its code, e.g. POSTA_ECLOSED, POSTA_EBYE, POSTA_ETIMEDOUT; the handle was
 * freed or closed: POSTA_ECANCELED).  If submitting fails, it never runs.
 *
 * Untagged responses go, in this order, to the in-flight commands'
 * on_untagged callbacks (oldest first) until one claims it, then to the
 * handler registered for its keyword (posta_imap_add_handler, imclient's
 * addcallback), then to callbacks.on_untagged.
 *
 * Three ways to drive the same connection (DESIGN.md, I/O model):
 *   1. blocking: posta_imap_connect(), posta_imap_exec(), posta_imap_login()…
 *      run the connection until their own work is done;
 *   2. posta_imap_process(h, timeout_ms): one step, like imclient's
 *      processoneevent;
 *   3. the caller's loop: watch posta_imap_fd() for reading always and for
 *      writing when posta_imap_wants_write(); call posta_imap_on_readable(),
 *      posta_imap_on_writable(), and posta_imap_on_timeout() after
 *      posta_imap_next_timeout_ms().
 * All callbacks run from inside these calls.  Freeing the handle inside a
 * callback is allowed; the free happens when the callback returns.
 *
 * Security defaults (DESIGN.md): STARTTLS is used and required on a plain
 * port unless the caller allows cleartext; bytes that arrive after the
 * STARTTLS OK and before the handshake end the connection; capabilities are
 * forgotten and asked again after TLS; a PREAUTH greeting on a connection
 * that must use TLS is refused; LOGIN is refused under LOGINDISABLED, and
 * on an unencrypted connection unless cleartext is allowed.  A command
 * submitted while idling ends IDLE, runs, and IDLE resumes after it.
 */
typedef struct posta_imap posta_imap;

typedef enum posta_imap_state {
    POSTA_IMAP_STATE_DISCONNECTED = 0, /* new, or closed: can connect again */
    POSTA_IMAP_STATE_CONNECTING,       /* TCP, TLS, greeting, STARTTLS */
    POSTA_IMAP_STATE_NOT_AUTHENTICATED,
    POSTA_IMAP_STATE_AUTHENTICATED,
    POSTA_IMAP_STATE_SELECTED,
    POSTA_IMAP_STATE_LOGOUT            /* BYE seen or LOGOUT sent */
} posta_imap_state;

/* How TLS is used when connecting. */
typedef enum posta_imap_tls {
    POSTA_IMAP_TLS_STARTTLS = 0,   /* default: upgrade with STARTTLS; fail if impossible */
    POSTA_IMAP_TLS_IMPLICIT,       /* TLS from the first byte (port 993) */
    POSTA_IMAP_TLS_NONE            /* cleartext; also allows LOGIN without TLS */
} posta_imap_tls;

/* The outcome of one command, valid during the completion callback. */
typedef struct posta_imap_result {
    int error;          /* 0: tagged OK; POSTA_ENO, POSTA_EBAD; or the reason no
                           answer came (POSTA_ECANCELED, POSTA_ECLOSED, ...) */
    const posta_imap_response *response; /* the tagged response; NULL when none */
    const char *text;   /* the server's text, or the error sentence; never NULL */
    size_t text_len;
} posta_imap_result;

typedef void (*posta_imap_done_fn)(posta_imap *h, const posta_imap_result *r, void *user);
/* Return 1 to claim the response (no one else sees it), 0 to pass it on. */
typedef int (*posta_imap_untagged_fn)(posta_imap *h, const posta_imap_response *r, void *user);

/* A sink for streamed literals (see imap_parser.h).  data is required, begin
 * and end are optional.  Each returns 0 or a negative error that ends the
 * connection. */
typedef struct posta_imap_sink {
    int (*begin)(posta_imap *h, const posta_imap_literal_info *info, void *user);
    int (*data)(posta_imap *h, const void *buf, size_t len, void *user);
    int (*end)(posta_imap *h, void *user);
    void *user;
} posta_imap_sink;

typedef struct posta_imap_callbacks {
    /* Untagged responses nobody claimed (optional). */
    void (*on_untagged)(posta_imap *h, const posta_imap_response *r, void *user);
    /* Every state change (optional). */
    void (*on_state)(posta_imap *h, posta_imap_state from, posta_imap_state to, void *user);
    /* The transcript (optional): dir 'S' for bytes the server sent, 'C' for
     * each command as sent, with %p secrets shown as "<omitted>" and literal
     * data from sources elided.  For logs and imtest-style output. */
    void (*on_trace)(posta_imap *h, char dir, const char *data, size_t len, void *user);
    /* The connection ended (optional): error is 0 after a clean LOGOUT. */
    void (*on_closed)(posta_imap *h, int error, const char *why, void *user);
} posta_imap_callbacks;

/* Per-command options for posta_imap_submit(); zero-initialize and set
 * what you need. */
typedef struct posta_imap_cmd_opts {
    posta_imap_done_fn done;          /* completion (optional) */
    posta_imap_untagged_fn on_untagged; /* offered untagged responses while in flight */
    /* Continuations for this command other than literal go-aheads
     * (AUTHENTICATE challenges): text is the bytes after "+ ".  Answer
     * with posta_imap_continue(). */
    void (*on_continuation)(posta_imap *h, const char *text, size_t len, void *user);
    const posta_imap_sink *sink;      /* streamed literals while in flight (copied) */
    void *user;                       /* for done, on_untagged, on_continuation */
    int timeout_ms;                   /* 0: the handle's default; < 0: none */
} posta_imap_cmd_opts;

/* --- lifetime and options ---------------------------------------------- */

/* Create a handle.  callbacks may be NULL; they are copied.  limits (may be
 * NULL) bound the response parser.  Returns 0 or POSTA_ENOMEM. */
POSTA_API int posta_imap_new(posta_imap **h_r, const posta_imap_callbacks *callbacks,
                             const posta_imap_limits *limits, void *user);

/* Cancel every pending command (POSTA_ECANCELED), close the connection
 * without LOGOUT, and free.  NULL-safe; deferred when called inside a
 * callback of this handle. */
POSTA_API void posta_imap_free(posta_imap *h);

/* The stream underneath, to set TLS options (CA, client certificate,
 * insecure, ALPN) and timeouts before connecting.  Owned by the handle. */
POSTA_API posta_stream *posta_imap_stream(posta_imap *h);

POSTA_API void posta_imap_set_tls(posta_imap *h, posta_imap_tls mode);
/* Allow LOGIN and cleartext SASL mechanisms on an unencrypted connection
 * (default: refused).  Implied by POSTA_IMAP_TLS_NONE. */
POSTA_API void posta_imap_set_allow_cleartext(posta_imap *h, int allow);
/* Which literals commands use.  AUTO (default) follows the server:
 * non-synchronizing under LITERAL+ (any size) or LITERAL- and IMAP4rev2 (up
 * to 4096 octets), else synchronizing.  SYNC always waits for the server's
 * go-ahead.  NONSYNC sends non-synchronizing literals even when the server
 * did not announce LITERAL+ (the caller knows better, as imclient's
 * IMCLIENT_CONN_NONSYNCLITERAL says).  Applies to commands submitted
 * afterwards. */
typedef enum posta_imap_literals {
    POSTA_IMAP_LITERALS_AUTO = 0,
    POSTA_IMAP_LITERALS_SYNC,
    POSTA_IMAP_LITERALS_NONSYNC
} posta_imap_literals;
POSTA_API void posta_imap_set_literals(posta_imap *h, posta_imap_literals mode);

/* Default per-command timeout (default 120000 ms) and how long a server
 * may stay silent while commands wait (default 300000 ms); < 0 disables. */
POSTA_API void posta_imap_set_timeouts(posta_imap *h, int command_ms, int silence_ms);
/* When IDLE is re-issued (default 29 minutes: servers log out idle clients
 * after 30, the UW FAQ's autologout timer). */
POSTA_API void posta_imap_set_idle_restart(posta_imap *h, int ms);

/* --- connecting ----------------------------------------------------------- */

/*
 * Connect to target ("host", "host:port", "[v6]:port"; the port defaults
 * to 993 with TLS_IMPLICIT, else 143), read the greeting, upgrade with
 * STARTTLS as the TLS mode says, and learn the capabilities.  Blocking.
 * Returns 0 in NOT_AUTHENTICATED or (PREAUTH) AUTHENTICATED state, or an
 * error with the sentence in posta_imap_errmsg().
 */
POSTA_API int posta_imap_connect(posta_imap *h, const char *target);

/* Non-blocking: start connecting; done runs once when the connection is
 * ready (r->error 0) or failed.  Drive with process or the loop calls. */
POSTA_API int posta_imap_connect_start(posta_imap *h, const char *target,
                                       posta_imap_done_fn done, void *user);

/* Use a stream that is already connected (plain or TLS), e.g. a socketpair
 * or inetd descriptor; the handle takes ownership of s and frees its own
 * stream.  The greeting is read next; STARTTLS happens if the TLS mode asks
 * and the stream has no TLS yet. */
POSTA_API int posta_imap_attach(posta_imap *h, posta_stream *s,
                                posta_imap_done_fn done, void *user);

/* --- commands -------------------------------------------------------------- */

/*
 * Queue a command: the tag is generated ("a0001"…), fmt and its arguments
 * are formatted now with the writer's conversions (imap_writer.h), so a bad
 * argument is refused here and nothing is sent.  Commands submitted while
 * connecting are held until the connection is ready (greeting read, TLS
 * up, capabilities known).  A LOGIN command is refused at the moment it
 * would be sent (done gets POSTA_EPOLICY) under LOGINDISABLED, or on an
 * unencrypted connection unless cleartext is allowed.  The command's
 * timeout counts from when it has been sent completely.  Returns 0 (the done
 * callback will run exactly once) or a negative error: POSTA_EINVAL with the
 * writer's sentence in posta_imap_errmsg(), POSTA_ESTATE when the connection
 * is not usable or a STARTTLS is under way.  Data of %L buffers and
 * sources must stay valid until done runs.
 */
POSTA_API int posta_imap_submit(posta_imap *h, const posta_imap_cmd_opts *opts,
                                const char *fmt, ...);
POSTA_API int posta_imap_vsubmit(posta_imap *h, const posta_imap_cmd_opts *opts,
                                 const char *fmt, va_list ap);

/*
 * Blocking: send one command and run the connection until its tagged reply.
 * Untagged responses go to on_untagged (may be NULL) first, then as for
 * posta_imap_submit.  Returns 0 for OK, POSTA_ENO or POSTA_EBAD (the
 * server's text in posta_imap_errmsg()), or another error.
 */
POSTA_API int posta_imap_exec(posta_imap *h, posta_imap_untagged_fn on_untagged, void *user,
                              const char *fmt, ...);

/* Answer the current continuation request of a command that asked for
 * them (AUTHENTICATE): line is sent followed by CRLF and must hold no CR,
 * LF or NUL.  Returns 0, POSTA_EINVAL, or POSTA_ESTATE when no command
 * waits for an answer. */
POSTA_API int posta_imap_continue(posta_imap *h, const void *line, size_t len);

/* Register the handler for untagged responses with this keyword ("FETCH",
 * "EXISTS", "CAPABILITY", "OK", "BYE", …; case-insensitive).  A second call
 * for the same keyword replaces it; fn NULL removes it.  keyword copied. */
POSTA_API int posta_imap_add_handler(posta_imap *h, const char *keyword,
                                     posta_imap_untagged_fn fn, void *user);

/* A sink for streamed literals that no in-flight command's sink takes
 * (copied; NULL: such literals are read and dropped). */
POSTA_API void posta_imap_set_default_sink(posta_imap *h, const posta_imap_sink *sink);

/* --- common commands (blocking) ------------------------------------------ */

/* Ask CAPABILITY again (blocking). */
POSTA_API int posta_imap_capability(posta_imap *h);
/* Nonzero when the server announced cap (case-insensitive, e.g. "IDLE",
 * "AUTH=PLAIN", "LITERAL+"). */
POSTA_API int posta_imap_has_capability(const posta_imap *h, const char *cap);
/* The capabilities as one space-separated string ("" when unknown). */
POSTA_API const char *posta_imap_capabilities(const posta_imap *h);

/* LOGIN user password (blocking; quoted or sent as literals as needed).
 * Refused with POSTA_EPOLICY under LOGINDISABLED, and on an unencrypted
 * connection unless cleartext is allowed.  On success the capabilities
 * are refreshed unless the server sent them with its OK. */
POSTA_API int posta_imap_login(posta_imap *h, const char *user, const char *password);

/*
 * AUTHENTICATE with a SASL session the caller prepared (mechanisms,
 * credentials callback, SSF limits, plaintext policy; posta_sasl_new with
 * POSTA_SASL_IMAP).  Blocking.  posta does the rest: it tells the session
 * the connection's TLS facts, offers the server's AUTH= mechanisms, uses an
 * initial response when the server has SASL-IR, answers every challenge,
 * tries the next mechanism after a rejection when the session allows it,
 * checks the server's proof, installs a negotiated security layer on the
 * stream, and refreshes the capabilities unless they came with the OK.
 * The session stays the caller's (posta_sasl_ssf(), _mechanism() tell what
 * was used).  Returns 0, or POSTA_EAUTH / POSTA_EPOLICY / POSTA_EUNSUPPORTED
 * (the sentence in posta_imap_errmsg()), or a connection error.  Refused
 * under LOGINDISABLED only for the mechanisms the session's policy refuses.
 */
POSTA_API int posta_imap_authenticate(posta_imap *h, posta_sasl *sasl);

/* SELECT (readonly 0) or EXAMINE (readonly 1) mailbox (UTF-8; encoded as
 * the server needs).  Blocking. */
POSTA_API int posta_imap_select(posta_imap *h, const char *mailbox, int readonly);

/* LOGOUT and close (blocking).  The handle can connect again afterwards. */
POSTA_API int posta_imap_logout(posta_imap *h);

/*
 * STARTTLS on a connected, not yet authenticated handle (posta_imap_connect
 * does this itself unless the TLS mode is NONE or IMPLICIT).  Refused while
 * other commands are in flight (nothing may be pipelined with it).
 * Blocking.  Afterwards the capabilities are asked again.
 */
POSTA_API int posta_imap_starttls(posta_imap *h);

/* --- IDLE ------------------------------------------------------------------ */

/* Start IDLE (RFC 2177): untagged updates arrive through the handlers while
 * idling; done runs once after posta_imap_idle_done() (or when the
 * connection ends).  IDLE is ended and re-issued transparently before the
 * idle-restart interval.  Returns 0, POSTA_EUNSUPPORTED without the IDLE
 * capability, POSTA_ESTATE when already idling. */
POSTA_API int posta_imap_idle(posta_imap *h, posta_imap_done_fn done, void *user);
/* End IDLE (sends DONE).  Returns 0 or POSTA_ESTATE when not idling. */
POSTA_API int posta_imap_idle_done(posta_imap *h);
/* Nonzero while the server has acknowledged IDLE and it was not ended. */
POSTA_API int posta_imap_idling(const posta_imap *h);

/* --- driving ----------------------------------------------------------------- */

/* Wait up to timeout_ms (< 0: forever) for the connection to make progress
 * and handle it.  Returns 0 (progress or timeout), or the fatal error that
 * ended the connection. */
POSTA_API int posta_imap_process(posta_imap *h, int timeout_ms);

POSTA_API int posta_imap_fd(const posta_imap *h);
/* Nonzero when the connection has something to write.  While a %L literal
 * source returns POSTA_EAGAIN this is 0: call posta_imap_on_writable() when
 * the source has data again. */
POSTA_API int posta_imap_wants_write(const posta_imap *h);
/* Handle readiness / an expired timeout.  0 or the fatal error. */
POSTA_API int posta_imap_on_readable(posta_imap *h);
POSTA_API int posta_imap_on_writable(posta_imap *h);
POSTA_API int posta_imap_on_timeout(posta_imap *h);
/* Milliseconds until posta_imap_on_timeout() should be called; -1: none. */
POSTA_API int posta_imap_next_timeout_ms(const posta_imap *h);

/* --- facts -------------------------------------------------------------------- */

POSTA_API posta_imap_state posta_imap_get_state(const posta_imap *h);
/* Commands submitted and not yet completed. */
POSTA_API size_t posta_imap_pending(const posta_imap *h);
/* The sentence for the last error (with the server's own words where
 * there are some); never NULL. */
POSTA_API const char *posta_imap_errmsg(const posta_imap *h);
/* The greeting's text and the last BYE's text ("" when none). */
POSTA_API const char *posta_imap_greeting(const posta_imap *h);
POSTA_API const char *posta_imap_bye_text(const posta_imap *h);

#ifdef __cplusplus
}
#endif
#endif
