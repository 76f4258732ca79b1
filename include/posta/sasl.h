/* posta_sasl: one client SASL exchange engine, sans-I/O, shared by the IMAP,
 * SMTP and POP3 engines, with the POP3 APOP and USER/PASS helpers. */
#ifndef POSTA_SASL_H
#define POSTA_SASL_H

#include <posta/common.h>
#include <posta/error.h>
#include <posta/stream.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * A posta_sasl session authenticates one connection.  It does no I/O: the
 * protocol engine feeds it what the server said and writes the lines it
 * returns.  The exchange, for every protocol:
 *
 *   posta_sasl_start(s, offered, ...)        -> first command line
 *   loop on the server's answer:
 *     continuation ("+ ", "334 ", "+ ")      -> posta_sasl_on_continuation()
 *                                               -> response line to send
 *     success (IMAP OK, SMTP 235, POP3 +OK)  -> posta_sasl_on_success()
 *                                               -> 0: authenticated
 *     failure (NO/BAD, 5xx, -ERR)            -> posta_sasl_on_failure()
 *                                               -> next command line (another
 *                                                  mechanism) or the error
 *   then posta_sasl_install_layer(s, stream) when a security layer was
 *   negotiated (the call does nothing otherwise).
 *
 * Lines handed back end in CRLF, are printable ASCII and never contain CR,
 * LF or NUL elsewhere.  For IMAP the command line carries no tag: the engine
 * writes "<tag> " and then the line.  Returned lines live in the session
 * until the next call on it (or its free); write or copy them before that.
 *
 * Mechanisms: PLAIN, LOGIN, CRAM-MD5, DIGEST-MD5, SCRAM-SHA-* (and -PLUS with
 * channel binding), GSSAPI, EXTERNAL, ANONYMOUS and any other client plugin
 * installed for libsasl2; XOAUTH2 and OAUTHBEARER (RFC 7628) are built in.
 *
 * Automatic choice (no posta_sasl_set_mechanisms()): the strongest mechanism
 * the server offers that the client can use, in this order:
 *
 *   EXTERNAL            only when posta_sasl_set_tls() says a client
 *                       certificate was presented
 *   OAUTHBEARER XOAUTH2 only when a token was set with
 *                       posta_sasl_set_credential(POSTA_SASL_TOKEN) before
 *                       start (a token is not something to prompt for)
 *   GSSAPI              only after posta_sasl_set_gssapi(s, 1): a Kerberos
 *                       ticket is an environment fact the caller knows
 *   SCRAM-SHA-512-PLUS SCRAM-SHA-256-PLUS SCRAM-SHA-1-PLUS
 *                       (when channel-binding data is set)
 *   SCRAM-SHA-512 SCRAM-SHA-256 SCRAM-SHA-1 DIGEST-MD5 CRAM-MD5 PLAIN LOGIN
 *
 * ANONYMOUS and unknown plugins are used only when named by the caller.  A
 * mechanism the client cannot run (no plugin, a credential the callback
 * says it lacks, SSF requirements) is skipped before anything is sent.
 *
 * Policy: PLAIN, LOGIN, XOAUTH2 and OAUTHBEARER put the secret on the wire as
 * is, so on a connection that posta_sasl_set_tls() does not call encrypted
 * they are refused (POSTA_EPOLICY, with a sentence saying so, nothing sent)
 * unless posta_sasl_set_allow_plaintext(s, 1); when allowed, the notice
 * callback says the secret went in cleartext.
 *
 * Errors: functions return 0 or a negative posta_error; posta_sasl_errmsg()
 * holds a sentence for the last one with the server's words when there are
 * some, such as "SCRAM-SHA-256 authentication failed: [AUTHENTICATIONFAILED]
 * Authentication failed.".  None of them is fatal to the connection: after a
 * failed exchange the protocol is back in its unauthenticated state.
 *
 * A session is used by one thread at a time; sessions in different threads
 * are independent.  It runs one authentication; make a new one to retry.
 * Its callbacks may call posta_sasl_set_credential() and the getters, but
 * must not free the session or drive the exchange.
 */
typedef struct posta_sasl posta_sasl;

/* The protocol adapter: how to start, continue, cancel; limits. */
typedef enum posta_sasl_proto {
    POSTA_SASL_IMAP = 1, /* "AUTHENTICATE M [IR]" (IR only with SASL-IR),
                          * continuation "+ ", command line (without the tag)
                          * at most 8000 octets with an IR */
    POSTA_SASL_SMTP = 2, /* "AUTH M [IR]", continuation "334 ", the whole command
                          * line at most 512 octets (RFC 5321 4.5.3.1.4); LMTP too */
    POSTA_SASL_POP3 = 3  /* "AUTH M [IR]", continuation "+ ", the whole command
                          * line at most 255 octets (RFC 5034 4) */
} posta_sasl_proto;

/* What the credential callback is asked for. */
typedef enum posta_sasl_credential {
    POSTA_SASL_AUTHCID = 1, /* authentication identity: whose secret is used */
    POSTA_SASL_AUTHZID,     /* authorization identity: who to act as; empty =
                             * the same as the authcid (no proxy authorization) */
    POSTA_SASL_PASSWORD,    /* the authcid's password */
    POSTA_SASL_REALM,       /* DIGEST-MD5 realm; unset = the server's first */
    POSTA_SASL_TOKEN        /* OAuth 2.0 bearer token (XOAUTH2, OAUTHBEARER) */
} posta_sasl_credential;

/*
 * Asked when a mechanism needs a credential that has not been set.  mech is
 * the mechanism asking ("SCRAM-SHA-256"), valid during the call.  Answer by
 * calling posta_sasl_set_credential(s, what, ...) and returning 0 (returning
 * 0 without setting it means an empty value).  Return POSTA_ENOTFOUND when
 * you do not have it: the mechanism is given up (canceled with "*" if under
 * way) and, when allowed, the next one is tried, as c-client does when it
 * has no Kerberos ticket.  Any other negative code ends the authentication
 * with that code (POSTA_ECANCELED for a user who gave up).  Each credential
 * is asked at most once per session: the answer is kept.
 */
typedef int (*posta_sasl_credential_cb)(posta_sasl *s, posta_sasl_credential what,
                                        const char *mech, void *user);

/* A sentence worth showing the user (a secret sent in cleartext because that
 * was allowed; a rejected mechanism and the next one tried; a server
 * offering PLAIN on an unencrypted connection).  msg is valid during the
 * call. */
typedef void (*posta_sasl_notice_cb)(posta_sasl *s, const char *msg, void *user);

/* --- session ------------------------------------------------------------- */

/*
 * Create a session.  service is the SASL/GSSAPI service name ("imap", "smtp",
 * "pop"); host the server's name as the user gave it (GSSAPI principal,
 * DIGEST-MD5 digest-uri, OAUTHBEARER host).  Both are copied; host may be
 * NULL.  Defaults: automatic choice, try the next mechanism after a
 * rejection, SSF 0..256, no plaintext on unencrypted connections, not
 * encrypted, no channel binding, an initial response whenever the protocol
 * takes one (for IMAP only after posta_sasl_set_initial_response(s, 1)).
 * Returns 0, POSTA_EINVAL (bad proto or service) or POSTA_ENOMEM.
 */
POSTA_API int posta_sasl_new(posta_sasl **s_r, posta_sasl_proto proto, const char *service,
                             const char *host);

/* Free the session, wiping every secret it holds.  NULL is accepted. */
POSTA_API void posta_sasl_free(posta_sasl *s);

/* The sentence for the last error; never NULL. */
POSTA_API const char *posta_sasl_errmsg(const posta_sasl *s);

/* --- options (before posta_sasl_start) ---------------------------------- */

/* The caller's mechanisms in order of preference, separated by spaces or
 * commas ("SCRAM-SHA-256 PLAIN"); case does not matter.  NULL or "" restores
 * automatic choice.  Copied.  POSTA_EINVAL for a malformed name (RFC 4422:
 * 1-20 characters of A-Z 0-9 - _), POSTA_ESTATE after start. */
POSTA_API int posta_sasl_set_mechanisms(posta_sasl *s, const char *list);

/* After the server rejects a mechanism, or the client gives one up (no
 * credential, a Kerberos ticket missing), go on with the next one the server
 * offers (on != 0, the default) or fail at once.  A failure the server
 * attributes to the credentials never moves on: another mechanism with the
 * same wrong password would only count against the account. */
POSTA_API void posta_sasl_set_try_next(posta_sasl *s, int on);

/* Minimum and maximum security strength factor, as imtest -k / -l: 0 none,
 * 1 integrity only, more is confidentiality with that many key bits.  They
 * count the TLS strength given to posta_sasl_set_tls(): with TLS of 256 bits,
 * min 128 is met without a SASL layer.  A mechanism that cannot reach min is
 * skipped.  Defaults 0 and 256. */
POSTA_API void posta_sasl_set_ssf(posta_sasl *s, unsigned min_ssf, unsigned max_ssf);

/* Largest security-layer packet the client accepts (default 65536; at least
 * 1024).  The server's own limit bounds what the client sends. */
POSTA_API void posta_sasl_set_maxbuf(posta_sasl *s, unsigned maxbuf);

/* Allow PLAIN, LOGIN, XOAUTH2, OAUTHBEARER (and the POP3 USER/PASS helpers)
 * on an unencrypted connection.  Off by default. */
POSTA_API void posta_sasl_set_allow_plaintext(posta_sasl *s, int allow);

/* Let automatic choice use GSSAPI (Kerberos).  Off by default. */
POSTA_API void posta_sasl_set_gssapi(posta_sasl *s, int on);

/* Whether an initial response may go on the command line.  For IMAP turn it
 * on when the server has SASL-IR; SMTP and POP3 default to on.  An initial
 * response too long for the protocol's line limit is sent after the first
 * (empty) continuation instead. */
POSTA_API void posta_sasl_set_initial_response(posta_sasl *s, int on);

/* The server's port, sent in the OAUTHBEARER gs2 header (0: omitted). */
POSTA_API void posta_sasl_set_port(posta_sasl *s, unsigned port);

/*
 * The connection's TLS state.  encrypted: the bytes are encrypted, so PLAIN
 * and friends are fine.  ssf: the external security strength factor (the
 * cipher's key bits), counted by the SSF limits and reported by
 * posta_sasl_ssf().  client_cert: a client certificate was presented, which
 * makes EXTERNAL part of automatic choice.  Call again after STARTTLS.
 */
POSTA_API void posta_sasl_set_tls(posta_sasl *s, int encrypted, unsigned ssf, int client_cert);

/* Channel-binding data for the -PLUS mechanisms: type is "tls-exporter"
 * (RFC 9266), "tls-unique" or "tls-server-end-point" (RFC 5929), data 1 to 64
 * bytes.  Copied.  NULL type clears it.  With data set, SCRAM without -PLUS
 * says "y" (client could bind) when the server offers no -PLUS variant, so
 * that a server which can bind detects a stripped offer.  POSTA_EINVAL
 * (another type, bad size), POSTA_ENOMEM. */
POSTA_API int posta_sasl_set_channel_binding(posta_sasl *s, const char *type, const void *data,
                                             size_t len);

/*
 * Take the TLS facts from a connected stream: posta_sasl_set_tls() with
 * encrypted = TLS is up, its cipher bits, and whether a client certificate
 * is configured; and channel-binding data: tls-exporter with TLS 1.3,
 * tls-unique below.  On a stream without TLS it sets "not encrypted".
 * Returns 0 or POSTA_ENOMEM.
 */
POSTA_API int posta_sasl_use_stream(posta_sasl *s, posta_stream *st);

/* --- credentials ------------------------------------------------------- */

/* Where missing credentials come from; user is passed back.  Without a
 * callback an unset credential is "not available" (an unset authzid and
 * realm are simply empty). */
POSTA_API void posta_sasl_set_credential_cb(posta_sasl *s, posta_sasl_credential_cb cb,
                                            void *user);

/* Set a credential ahead of time, or from inside the credential callback.
 * The value is copied (and wiped when replaced or freed); it may not contain
 * NUL, CR or LF (POSTA_EINVAL).  value NULL clears it.  POSTA_ENOMEM. */
POSTA_API int posta_sasl_set_credential(posta_sasl *s, posta_sasl_credential what,
                                        const char *value, size_t len);

/* A credential's value, asking the callback when it is unset (for engines
 * that log in without SASL: IMAP LOGIN).  *value_r stays valid until the
 * credential is set again or the session is freed.  POSTA_ENOTFOUND when
 * unavailable, or the callback's error. */
POSTA_API int posta_sasl_get_credential(posta_sasl *s, posta_sasl_credential what,
                                        const char **value_r, size_t *len_r);

/* Where notices go (none by default); user is passed back. */
POSTA_API void posta_sasl_set_notice_cb(posta_sasl *s, posta_sasl_notice_cb cb, void *user);

/* --- the exchange ------------------------------------------------------ */

/*
 * Choose a mechanism among those the server offers and make the command that
 * starts it.  offered lists the server's mechanisms separated by spaces (an
 * "AUTH=" prefix on each, as IMAP capabilities have, is accepted), as
 * (ptr,len); NULL means the server did not say (a POP3 server without CAPA):
 * the candidates are then tried as if offered.  *line_r receives e.g.
 * "AUTHENTICATE SCRAM-SHA-256 biwsbj1hbGljZSxyPW...\r\n", "AUTH PLAIN =\r\n"
 * or "AUTH CRAM-MD5\r\n".
 * Errors: POSTA_EUNSUPPORTED (no mechanism in common), POSTA_EPOLICY (only
 * cleartext ones on an unencrypted connection), POSTA_EAUTH (a needed
 * credential is not available), the credential callback's code,
 * POSTA_ESTATE (already started), POSTA_ENOMEM.  Nothing is to be sent then.
 */
POSTA_API int posta_sasl_start(posta_sasl *s, const char *offered, size_t offered_len,
                               const char **line_r, size_t *len_r);

/*
 * The server sent a continuation; text is what follows the marker (base64,
 * possibly empty; see posta_sasl_parse_continuation).  *line_r receives the
 * response: base64 + CRLF, a bare CRLF (an empty response, e.g. after
 * SCRAM's server-final), or "*\r\n" when the client gives up (bad base64 from
 * the server, the server failed mutual authentication, a credential is
 * missing); the server then answers with a failure, which goes to
 * posta_sasl_on_failure() as usual (which then returns the reason, e.g. the
 * credential callback's own code, and tries no other mechanism when the
 * callback aborted).  POSTA_ESTATE when no exchange is under way,
 * POSTA_ENOMEM.
 */
POSTA_API int posta_sasl_on_continuation(posta_sasl *s, const char *text, size_t len,
                                         const char **line_r, size_t *len_r);

/*
 * The server reported success.  data is base64 additional data with success
 * when the protocol carries one (NULL/0 otherwise).  Returns 0 when the
 * client side agrees: the mechanism completed, the server proved its
 * identity where the mechanism demands it (SCRAM, DIGEST-MD5 rspauth), and
 * the SSF is at least the minimum.  Otherwise POSTA_EAUTH (do not trust the
 * connection; close it) or POSTA_EPOLICY.
 */
POSTA_API int posta_sasl_on_success(posta_sasl *s, const char *data, size_t len);

/* How the server's failure reads, as far as the engine can tell. */
typedef enum posta_sasl_failure {
    POSTA_SASL_REJECTED = 0,   /* the mechanism or the exchange was refused, or
                                * the client's "*" acknowledged (IMAP NO/BAD,
                                * SMTP 504/534/501, POP3 -ERR) */
    POSTA_SASL_CREDENTIALS = 1 /* the server says the credentials are wrong
                                * (IMAP [AUTHENTICATIONFAILED] or
                                * [AUTHORIZATIONFAILED], SMTP 535, POP3 [AUTH]) */
} posta_sasl_failure;

/*
 * The server reported failure; text is its human text (for the sentence), as
 * (ptr,len).  When another mechanism may be tried, returns 0 with its command
 * line in *line_r (and a notice); otherwise POSTA_EAUTH (POSTA_EPOLICY, …
 * when the remaining ones were unusable) with the sentence in errmsg.
 */
POSTA_API int posta_sasl_on_failure(posta_sasl *s, posta_sasl_failure kind, const char *text,
                                    size_t len, const char **line_r, size_t *len_r);

/* Give up the exchange under way: *line_r receives "*\r\n"; the server
 * answers with a failure, for posta_sasl_on_failure().  POSTA_ESTATE when no
 * exchange is under way. */
POSTA_API int posta_sasl_cancel(posta_sasl *s, const char **line_r, size_t *len_r);

/*
 * Is line a continuation request of proto?  line is one server line with or
 * without its CRLF.  IMAP and POP3: "+" alone or "+ " text; SMTP: "334" alone
 * or "334 " text.  Returns 1 and the text after the marker in *text_r/len_r
 * (pointing into line), or 0.
 */
POSTA_API int posta_sasl_parse_continuation(posta_sasl_proto proto, const char *line, size_t len,
                                            const char **text_r, size_t *text_len_r);

/* --- after the exchange ------------------------------------------------ */

/* 1 once posta_sasl_on_success() returned 0. */
POSTA_API int posta_sasl_authenticated(const posta_sasl *s);

/* The mechanism in use or last used ("SCRAM-SHA-256"); NULL before start.
 * Valid until the session is freed. */
POSTA_API const char *posta_sasl_mechanism(const posta_sasl *s);

/* The security strength factor in force, as imtest prints it: the TLS ssf
 * plus the SASL layer's.  posta_sasl_layer_ssf() is the SASL layer's alone
 * (0: no layer; 1: integrity; more: confidentiality). */
POSTA_API unsigned posta_sasl_ssf(const posta_sasl *s);
POSTA_API unsigned posta_sasl_layer_ssf(const posta_sasl *s);

/*
 * After success: when the mechanism negotiated a security layer, stack it on
 * the stream so that every later byte is protected (the session hands its
 * libsasl2 connection to the stream, which frees it).  Call it right after
 * the success reply was read and before anything else is written; bytes
 * already buffered unread make it fail (POSTA_ESTATE).  Returns 0 (also when
 * there is no layer to install), POSTA_ESTATE (not authenticated, or already
 * installed), POSTA_ENOMEM.
 */
POSTA_API int posta_sasl_install_layer(posta_sasl *s, posta_stream *st);

/* --- POP3 helpers --------------------------------------------------------- */

/* The APOP digest (RFC 1939 7): MD5 over timestamp (with its angle brackets)
 * followed by password, as 32 lowercase hex digits and a NUL in hex_r.
 * Returns 0 or POSTA_ENOMEM. */
POSTA_API int posta_sasl_apop_digest(const char *timestamp, size_t tlen, const char *password,
                                     size_t plen, char hex_r[33]);

/*
 * Build "APOP <authcid> <digest>\r\n" from the server's greeting (as
 * (ptr,len), with or without CRLF), using the session's credentials (asking
 * the callback).  POSTA_EUNSUPPORTED when the greeting has no <timestamp>,
 * POSTA_EINVAL when the name contains a space, POSTA_EAUTH/ENOTFOUND when a
 * credential is missing.  The line lives as for the exchange calls.
 */
POSTA_API int posta_sasl_apop_command(posta_sasl *s, const char *greeting, size_t len,
                                      const char **line_r, size_t *len_r);

/* The policy check for any cleartext login (POP3 USER/PASS, IMAP LOGIN):
 * 0 on an encrypted connection or when plaintext is allowed (then with a
 * notice naming what, e.g. "USER/PASS"); POSTA_EPOLICY with a sentence
 * otherwise. */
POSTA_API int posta_sasl_check_cleartext(posta_sasl *s, const char *what);

/* "USER <authcid>\r\n" and "PASS <password>\r\n", after
 * posta_sasl_check_cleartext(s, "USER/PASS").  Errors as above. */
POSTA_API int posta_sasl_user_command(posta_sasl *s, const char **line_r, size_t *len_r);
POSTA_API int posta_sasl_pass_command(posta_sasl *s, const char **line_r, size_t *len_r);

#ifdef __cplusplus
}
#endif
#endif
