/* The scripted peer: a fake server on 127.0.0.1 that follows a conversation
 * script, for the faults and quirks real servers will not produce.  It runs
 * in a thread of the test process (peer_start) or as the posta-peer command
 * for shell tests.
 *
 * A script is one step per line; blank lines and lines starting with # are
 * ignored, leading blanks are skipped, a trailing CR (CRLF script file) is
 * dropped.  After the two-character prefix one space is skipped, the rest of
 * the line is taken literally (trailing blanks included).
 *
 *   S: text      send text + CRLF
 *   S+ text      send text as is, no CRLF added (partial lines, bare LF, ...)
 *   C: text      expect the client to send exactly the line text + CRLF
 *   C+ text      expect exactly these bytes, no CRLF implied
 *   C~ regex     expect one CRLF-terminated line whose content (without the
 *                CRLF) matches the POSIX extended regex as a whole; its groups
 *                become \1..\9 for the steps after it
 *   C*           expect any one CRLF-terminated line
 *
 *   Escapes in S:, S+, C:, C+ text: \r \n \t \\ \xHH, and \1..\9 for the
 *   groups of the latest C~ match (empty when unset).  C~ regexes are passed
 *   to regcomp untouched.
 *
 *   !tls             implicit TLS: server handshake as soon as the client
 *                    connects (first step of a connection only)
 *   !starttls        server handshake now on the same connection; the rest
 *                    of the conversation is over TLS.  Plaintext the client
 *                    sent ahead of the handshake is a failure.
 *   !tls-abort       server handshake that the client must refuse: passes if
 *                    the handshake fails or the client hangs up right after
 *                    it, fails if the client sends data over it
 *   !sleep MS        pause
 *   !close           hang up now (over TLS: no close_notify)
 *   !reset           hang up with a TCP RST
 *   !shutdown-write  half close: no more data from the peer (over TLS: sends
 *                    close_notify first); the client may still send
 *   !expect-close    wait for the client to hang up; data or timeout fails
 *   !expect-close-notify  the same over TLS, and the client must send a TLS
 *                    close_notify before hanging up
 *   !accept          close the connection and accept the next one
 *   !send-file PATH  send a file's bytes as is (PATH relative to the cwd)
 *   !sendbig N       send N bytes of peer_bigdata() without holding them
 *   !recv N          expect N bytes of anything (a literal), discarded
 *
 * A connection ending after the last step is closed cleanly (close_notify
 * over TLS, then FIN) and what the client still sends is read and ignored.
 * On the first failed step the peer hangs up at once.  Lines the client
 * sends must end in CRLF for C:, C~ and C*; a bare LF is reported.
 * Each expectation waits at most timeout_ms; sends, !recv and !sendbig fail
 * when no byte moves for timeout_ms.  POSTA_PEER_TRACE=1 in the environment
 * prints the conversation to stderr. */
#ifndef POSTA_PEER_H
#define POSTA_PEER_H

#include <stddef.h>

struct peer;

struct peer_opts {
    const char *cert;     /* PEM certificate chain for !starttls / !tls, or NULL */
    const char *key;      /* its key, or NULL when in cert */
    const char *alpn;     /* ALPN id the server selects, whatever is offered (NULL: none) */
    const char *client_ca; /* when set, the TLS server demands a client certificate
                            * signed by this CA (PEM file) and fails the handshake
                            * without one */
    int timeout_ms;       /* how long an expectation waits for the client; 0 = 10000 */
    int linger;           /* after the last step, wait for the client to hang up
                           * (up to timeout_ms) even when peer_finish is called;
                           * otherwise peer_finish cuts that wait short */
};

/* Listen on 127.0.0.1 on a free port and follow script in a thread.  The
 * script is copied.  opts may be NULL.  Returns 0, or -1 with a message on
 * stderr (script syntax errors name the line). */
int peer_start(struct peer **p_r, const char *script, const struct peer_opts *opts);
/* The port it listens on. */
int peer_port(const struct peer *p);
/* Wait for the script to end (at most the timeout per step) and free the
 * peer.  Returns 0 when every step was followed, else -1 and, if errmsg is
 * not NULL, a malloc'd sentence saying which line of the script failed,
 * what was expected and what arrived. */
int peer_finish(struct peer *p, char **errmsg);

/* The bytes !sendbig sends, from offset off: an endless series of 80-byte
 * lines, line k being k as 10 decimal digits, 68 times the letter
 * 'a' + k % 26, then CRLF.  !sendbig N sends the first N of them. */
void peer_bigdata(unsigned long long off, char *buf, size_t n);

#endif
