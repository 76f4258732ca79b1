/* libESMTP's SASL client interface (auth_context), implemented by
 * posta-esmtp on posta's SASL engine; give a context to a session with
 * smtp_auth_set_context(). */
#ifndef _auth_client_h
#define _auth_client_h

#if defined(POSTA_ESMTP_BUILDING) && defined(__GNUC__)
#define AUTH_CLIENT_API __attribute__((visibility("default")))
#else
#define AUTH_CLIENT_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef struct auth_context *auth_context_t;

/* Flags of a request: what is asked for */
#define AUTH_USER 0x0001
#define AUTH_REALM 0x0002
#define AUTH_PASS 0x0004
/* ... and that the answer will cross the wire as is (PLAIN, LOGIN) */
#define AUTH_CLEARTEXT 0x0008

/* One field the interaction callback is asked to fill. */
struct auth_client_request {
    const char *name;   /* "user", "passphrase", "realm" */
    unsigned flags;     /* AUTH_USER, AUTH_PASS, AUTH_REALM, AUTH_CLEARTEXT */
    const char *prompt; /* text to show when asking */
    unsigned size;      /* longest answer accepted; 0: no limit */
};
typedef const struct auth_client_request *auth_client_request_t;

/* Fill result[0..fields-1] (strings that stay valid until the callback is
 * called again or the session ends) and return nonzero, or return 0 to give
 * up. */
typedef int (*auth_interact_t)(auth_client_request_t request, char **result, int fields,
                               void *arg);
typedef const char *(*auth_response_t)(void *ctx, const char *challenge, int *len,
                                       auth_interact_t interact, void *arg);
typedef int (*auth_recode_t)(void *ctx, char **dstbuf, int *dstlen, const char *srcbuf,
                             int srclen);

/* Mechanism classes a context accepts (auth_set_mechanism_flags) */
#define AUTH_PLUGIN_ANONYMOUS 0x01 /* ANONYMOUS */
#define AUTH_PLUGIN_PLAIN 0x02     /* the password crosses the wire (PLAIN, LOGIN) */
#define AUTH_PLUGIN_EXTERNAL 0x04  /* EXTERNAL (set by auth_set_external_id) */

AUTH_CLIENT_API void auth_client_init(void);
AUTH_CLIENT_API void auth_client_exit(void);
AUTH_CLIENT_API auth_context_t auth_create_context(void);
AUTH_CLIENT_API int auth_destroy_context(auth_context_t context);
AUTH_CLIENT_API int auth_set_mechanism_flags(auth_context_t context, unsigned set,
                                             unsigned clear);
AUTH_CLIENT_API int auth_set_mechanism_ssf(auth_context_t context, int min_ssf);
AUTH_CLIENT_API int auth_set_interact_cb(auth_context_t context, auth_interact_t interact,
                                         void *arg);
AUTH_CLIENT_API int auth_client_enabled(auth_context_t context);
AUTH_CLIENT_API int auth_set_mechanism(auth_context_t context, const char *name);
AUTH_CLIENT_API const char *auth_mechanism_name(auth_context_t context);
AUTH_CLIENT_API const char *auth_response(auth_context_t context, const char *challenge,
                                          int *len);
AUTH_CLIENT_API int auth_get_ssf(auth_context_t context);
AUTH_CLIENT_API void auth_encode(char **dstbuf, int *dstlen, const char *srcbuf, int srclen,
                                 void *arg);
AUTH_CLIENT_API void auth_decode(char **dstbuf, int *dstlen, const char *srcbuf, int srclen,
                                 void *arg);
AUTH_CLIENT_API int auth_set_external_id(auth_context_t context, const char *identity);

#ifdef __cplusplus
}
#endif

#endif
