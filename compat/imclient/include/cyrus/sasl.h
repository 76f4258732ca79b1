/* Cyrus's client-side SASL mechanism descriptors, the kind
 * imclient_authenticate() takes, with one descriptor per mechanism posta
 * can run. */
#ifndef INCLUDED_SASL_H
#define INCLUDED_SASL_H

#include <time.h>

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
 * This is the old Cyrus interface (before libsasl2): a mechanism is a
 * struct sasl_client, and imclient_authenticate() tries those it is given
 * in order.  Do not include this header together with libsasl2's
 * <sasl/sasl.h>: both define SASL_FAIL.
 *
 * The descriptors below are run by posta's SASL engine (libsasl2 and
 * posta's own OAuth mechanisms), which also installs a negotiated security
 * layer.  Only auth_type, can_send_initial_response and rock mean anything
 * in them; rock is left to the application.  A descriptor of the
 * application's own, with start() and auth() as below, is run by
 * imclient_authenticate() itself, offered SASL_PROT_NONE only (its
 * encode/decode functions cannot be stacked on the connection).
 *
 * How imclient_authenticate() uses them, beyond the man page:
 *   - a mechanism the server does not announce (AUTH=), or one that cannot
 *     run (no Kerberos ticket, no password, protallowed not met) is skipped
 *     before anything is sent; NO moves on to the next one; BAD ends the
 *     attempt (return 1) unless it answers the client's own "*";
 *   - user NULL: the current user is $LOGNAME, else $USER, else the
 *     password database's name for the real uid; for Kerberos no name is
 *     sent and the ticket's principal is used;
 *   - PLAIN, LOGIN, XOAUTH2 and OAUTHBEARER are refused on a connection
 *     without TLS unless IMCLIENT_CONN_PLAINTEXT is set;
 *   - protallowed maps to SASL security strength factors: the minimum is 0
 *     with SASL_PROT_NONE, else 1 with SASL_PROT_INTEGRITY, else 2; the
 *     maximum is 256 with SASL_PROT_PRIVACY, else 1 with INTEGRITY, else 0.
 *     TLS counts towards them.
 *   - an initial response is sent when the descriptor can send one and the
 *     server announced SASL-IR or IMCLIENT_CONN_INITIALRESPONSE is set.
 */

struct sockaddr;

typedef const char *sasl_encodefunc_t(void *state, char *input, int inputlen, char *output, int *outputlen);
typedef const char *sasl_decodefunc_t(void *state, char *input, int inputlen, char **output, int *outputlen);

struct sasl_client {
    char *auth_type;               /* the SASL mechanism name */
    int can_send_initial_response;
    /* Prepare an exchange: 0, or SASL_FAIL to skip this mechanism. */
    int (*start)(void *rock, const char *service, const char *host, const char *user, int protallowed,
                 int maxbufsize, struct sockaddr *localaddr, struct sockaddr *remoteaddr, void **state);
    /* One step: the server's decoded challenge in, the response out (the
     * output stays the mechanism's).  0 to go on, SASL_DONE when this
     * response completes the exchange, SASL_FAIL to give up. */
    int (*auth)(void *state, int inputlen, char *input, int *outputlen, char **output);
    void (*query_state)(void *state, char **user, int *protlevel, sasl_encodefunc_t **encodefunc,
                        sasl_decodefunc_t **decodefunc, int *maxplain);
    void (*free_state)(void *state);
    const char *(*new_cred)(const char *service, time_t *lifetime);
    void (*free_cred)(void);
    void *rock;                    /* for the application */
};

/* Protection mechanisms (protallowed bits). */
#define SASL_PROT_NONE 1
#define SASL_PROT_INTEGRITY 2
#define SASL_PROT_PRIVACY 4
#define SASL_PROT_ANY (SASL_PROT_NONE | SASL_PROT_INTEGRITY | SASL_PROT_PRIVACY)

#define SASL_FAIL 1 /* authentication failed */
#define SASL_DONE 3 /* the exchange is complete */

/* "no protection", "integrity protection", "privacy protection", "unknown". */
CYRUS_IMCLIENT_API char *sasl_prottostring(int protlevel);

/*
 * Kerberos, as in the man page's example: Kerberos V5 through GSSAPI (the
 * KERBEROS_V4 mechanism of old is gone from servers and from libsasl2).
 * Needs a ticket (kinit).
 */
CYRUS_IMCLIENT_API extern struct sasl_client krb_sasl_client;

/* One descriptor for each other mechanism.  LOGIN's is loginmech_ because
 * the man page's example names its own array login_sasl_client. */
CYRUS_IMCLIENT_API extern struct sasl_client gssapi_sasl_client;
CYRUS_IMCLIENT_API extern struct sasl_client external_sasl_client;
CYRUS_IMCLIENT_API extern struct sasl_client scram_sha_512_plus_sasl_client;
CYRUS_IMCLIENT_API extern struct sasl_client scram_sha_384_plus_sasl_client;
CYRUS_IMCLIENT_API extern struct sasl_client scram_sha_256_plus_sasl_client;
CYRUS_IMCLIENT_API extern struct sasl_client scram_sha_224_plus_sasl_client;
CYRUS_IMCLIENT_API extern struct sasl_client scram_sha_1_plus_sasl_client;
CYRUS_IMCLIENT_API extern struct sasl_client scram_sha_512_sasl_client;
CYRUS_IMCLIENT_API extern struct sasl_client scram_sha_384_sasl_client;
CYRUS_IMCLIENT_API extern struct sasl_client scram_sha_256_sasl_client;
CYRUS_IMCLIENT_API extern struct sasl_client scram_sha_224_sasl_client;
CYRUS_IMCLIENT_API extern struct sasl_client scram_sha_1_sasl_client;
CYRUS_IMCLIENT_API extern struct sasl_client digest_md5_sasl_client;
CYRUS_IMCLIENT_API extern struct sasl_client cram_md5_sasl_client;
CYRUS_IMCLIENT_API extern struct sasl_client plain_sasl_client;
CYRUS_IMCLIENT_API extern struct sasl_client loginmech_sasl_client;
CYRUS_IMCLIENT_API extern struct sasl_client oauthbearer_sasl_client;
CYRUS_IMCLIENT_API extern struct sasl_client xoauth2_sasl_client;
CYRUS_IMCLIENT_API extern struct sasl_client anonymous_sasl_client;

#ifdef __cplusplus
}
#endif
#endif /* INCLUDED_SASL_H */
