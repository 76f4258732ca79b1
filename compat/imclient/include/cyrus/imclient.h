/* Cyrus imclient, the callback interface to IMAP servers, as the imclient(3)
 * man page describes it, implemented by posta on its own IMAP driver. */
#ifndef INCLUDED_IMCLIENT_H
#define INCLUDED_IMCLIENT_H

#include <stddef.h>

#ifndef CYRUS_IMCLIENT_API
#if defined(POSTA_IMCLIENT_BUILDING) && defined(__GNUC__)
#define CYRUS_IMCLIENT_API __attribute__((visibility("default")))
#else
#define CYRUS_IMCLIENT_API
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Programs written against imclient(3) compile and run unchanged: link with
 * $(pkg-config --libs posta-imclient) and supply the function fatal(), as
 * the man page says:
 *
 *     void fatal(char *message, int code);
 *
 * It is called, with a sysexits(3) code, when
 *   - memory runs out (xmalloc() and the library itself; EX_TEMPFAIL);
 *   - imclient_send() meets a %-sequence it does not know, or more than
 *     IMCLIENT_MAX_ARGS %s/%v sequences (EX_SOFTWARE);
 *   - a callback calls a function the man page forbids there:
 *     imclient_close(), imclient_send(), imclient_processoneevent(),
 *     imclient_authenticate(), and also imclient_starttls() (EX_SOFTWARE).
 * fatal() is expected not to return.  If it does, the call that failed has
 * no effect: imclient_send() completes the command with keyword "BAD",
 * imclient_authenticate() and imclient_starttls() return 1, xmalloc()
 * returns NULL.
 *
 * Where the man page is silent, posta does what Cyrus's imclient.c does:
 * command completions carry keyword "OK", "NO" or "BAD" and msgno -1, and
 * keyword "EOF" with text "" when the connection ends first (every
 * finishproc runs exactly once); the reply text is the rest of the
 * response after the keyword as the server sent it, literals included,
 * without the final CRLF; imclient_connect() does not wait for the
 * greeting, which reaches the "OK" (or "PREAUTH", "BYE") callback.
 *
 * Differences from Cyrus, all deliberate (compat/imclient/README.md):
 *   - literals: with IMCLIENT_CONN_NONSYNCLITERAL set, literals are
 *     non-synchronizing as in Cyrus; with it clear, posta still uses
 *     non-synchronizing literals when the server announced LITERAL+ (or
 *     LITERAL- for small ones), where Cyrus would synchronize;
 *   - imclient_send() never blocks: a synchronizing literal is sent when
 *     the server's "+" arrives, during imclient_processoneevent();
 *   - strings for %s and %v that hold '"' or '\' are sent as quoted strings
 *     with escapes (Cyrus sends a literal); "NIL" and names with ']' are
 *     quoted; %a must be printable US-ASCII, and a command that would hold
 *     CR, LF or NUL outside literals is not sent (finishproc gets "BAD");
 *   - untagged keywords match callbacks case-insensitively (IMAP keywords
 *     are case-insensitive); responses are framed by posta's parser, so
 *     CALLBACK_NOLITERAL changes nothing;
 *   - commands are tagged "a0001", "a0002", ... rather than "1", "2", ...;
 *   - the driver asks CAPABILITY itself when the greeting lists none and
 *     after STARTTLS; a CAPABILITY callback sees those answers too;
 *   - imclient_starttls() with a CAfile or CApath fails (returns 1) when
 *     the certificate does not verify; with neither, the system trust
 *     store is tried and a failure prints the warning and goes on;
 *   - imclient_starttls() returns 1 while commands are in flight or after
 *     authentication;
 *   - imclient_authenticate(): see <cyrus/sasl.h>;
 *   - not provided: imclient_eof() (internal to Cyrus), imclient_write().
 */

struct imclient;
struct sasl_client;

struct imclient_reply {
    char *keyword; /* "FETCH", "OK", ...; "EOF" when the connection ended */
    long msgno;    /* message number, or -1 when the response has none */
    char *text;    /* the rest of the response; callbacks may write into it */
};

/* Flags for imclient_addcallback(). */
#define CALLBACK_NUMBERED 1  /* the untagged data carries a message number */
#define CALLBACK_NOLITERAL 2 /* the data cannot contain a literal */

/* Connection flags for imclient_setflags() and imclient_clearflags(). */
#define IMCLIENT_CONN_NONSYNCLITERAL 1  /* the server supports LITERAL+ */
#define IMCLIENT_CONN_INITIALRESPONSE 2 /* the server takes a SASL initial response
                                           (Cyrus gives it bit 1, NONSYNCLITERAL's) */
/* posta extension: allow PLAIN, LOGIN, XOAUTH2 and OAUTHBEARER, which put
 * the secret on the wire as is, on a connection without TLS. */
#define IMCLIENT_CONN_PLAINTEXT 0x100

/* How many %s and %v sequences one imclient_send() format may hold. */
#define IMCLIENT_MAX_ARGS 32

typedef void imclient_proc_t(struct imclient *imclient, void *rock, struct imclient_reply *reply);

/*
 * Connect to port (a number or a service name; NULL means "imap") on host.
 * Returns 0 and sets *imclient; the current errno when a system call failed
 * (ECONNREFUSED, ...), -1 when the host name was not found, -2 when the
 * service name was not found.
 */
CYRUS_IMCLIENT_API int imclient_connect(struct imclient **imclient, const char *host, const char *port);

/* Close and free the connection.  Every command still waiting has its
 * finishproc called with keyword "EOF" first.  No LOGOUT is sent. */
CYRUS_IMCLIENT_API void imclient_close(struct imclient *imclient);

CYRUS_IMCLIENT_API void imclient_setflags(struct imclient *imclient, int flags);
CYRUS_IMCLIENT_API void imclient_clearflags(struct imclient *imclient, int flags);
/* posta extension: the flags now set. */
CYRUS_IMCLIENT_API int imclient_getflags(struct imclient *imclient);

/* The server's name (the canonical name of the host given to connect). */
CYRUS_IMCLIENT_API char *imclient_servername(struct imclient *imclient);

/*
 * After imclient, zero or more groups of
 *     const char *keyword, int flags, imclient_proc_t *proc, void *rock
 * ended by a NULL keyword.  Each group adds the callback for untagged data
 * with that keyword, or changes it when one with the same keyword and
 * flags exists.  With CALLBACK_NUMBERED the callback sees only responses
 * with a message number ("* 3 EXISTS"), without it only those without.  The
 * keyword "" names the default callback for responses no other callback
 * takes.  proc may be NULL: no function is called.
 */
CYRUS_IMCLIENT_API void imclient_addcallback(struct imclient *imclient, ...);

/*
 * Send a command (the tag is added).  finishproc(imclient, finishrock,
 * reply) runs once when it completes (may be NULL).  fmt is printf-like:
 *   %%  "%"
 *   %a  an atom (const char *), sent as is
 *   %s  an astring (const char *): atom, quoted string or literal as needed
 *   %d  int, %u unsigned, in decimal
 *   %v  char ** ending with NULL: astrings separated by spaces
 */
CYRUS_IMCLIENT_API void imclient_send(struct imclient *imclient, imclient_proc_t *finishproc,
                                      void *finishrock, const char *fmt, ...);

/* For select(2): *fd to watch for reading, *wanttowrite nonzero when it
 * must be watched for writing too.  posta also sets *wanttowrite when it
 * has work that needs no I/O (data TLS already decrypted, a completion to
 * deliver), so that select returns at once.  After the connection ended,
 * *fd is a descriptor that is always readable. */
CYRUS_IMCLIENT_API void imclient_getselectinfo(struct imclient *imclient, int *fd, int *wanttowrite);

/* Handle one input or output event, waiting for it as long as it takes. */
CYRUS_IMCLIENT_API void imclient_processoneevent(struct imclient *imclient);

/*
 * Authenticate with the first mechanism in availmech (NULL-terminated) that
 * works; user NULL means the current user.  protallowed: SASL_PROT_* bits.
 * Returns 0 on success; 1 on failure (a BAD, or no mechanism worked); 2 on
 * extreme failure: the server said OK before the mechanism completed or
 * without proving itself.  Passwords come from the procedure set with
 * imclient_setpasswordproc(), else from the terminal.
 */
CYRUS_IMCLIENT_API int imclient_authenticate(struct imclient *imclient, struct sasl_client **availmech,
                                             const char *service, const char *user, int protallowed);

/*
 * posta extension: where imclient_authenticate() gets passwords (and OAuth
 * tokens): proc writes the NUL-terminated secret for user and mechanism
 * mech into buf (size bytes) and returns 0, or returns -1 to give that
 * mechanism up.  proc NULL restores the default, a prompt on /dev/tty.
 */
typedef int imclient_getpass_t(struct imclient *imclient, void *rock, const char *mech, const char *user,
                               char *buf, size_t size);
#define IMCLIENT_HAVE_PASSWORDPROC 1
CYRUS_IMCLIENT_API void imclient_setpasswordproc(struct imclient *imclient, imclient_getpass_t *proc,
                                                 void *rock);

/* Nonzero: this library has TLS (it always has). */
CYRUS_IMCLIENT_API int imclient_havetls(void);

/*
 * STARTTLS and the handshake.  cert_file and key_file: the client
 * certificate and key (NULL when not needed; key_file NULL means the key is
 * in cert_file).  CAfile, CApath: where the CA certificates are
 * (SSL_CTX_load_verify_locations(3)).  Returns 0, or 1 on failure.
 */
CYRUS_IMCLIENT_API int imclient_starttls(struct imclient *imclient, char *cert_file, char *key_file,
                                         char *CAfile, char *CApath);

#ifdef __cplusplus
}
#endif
#endif /* INCLUDED_IMCLIENT_H */
