/* Internal view of a posta_sasl session shared by the exchange driver, the
 * mechanism drivers (libsasl2, OAuth), the security layer and POP3 helpers. */
#ifndef POSTA_SASL_INT_H
#define POSTA_SASL_INT_H

#include <posta/sasl.h>

#include <sasl/sasl.h>

#include "util.h"

#define MECH_NAME_MAX 20  /* RFC 4422 3.1 */
#define MAX_CANDIDATES 32
#define CB_DATA_MAX 64    /* tls-server-end-point with SHA-512 */

/* Mechanism properties; the table in mechs.c lists them in automatic order. */
enum {
    M_AUTO = 1 << 0,      /* part of automatic choice */
    M_CLEARTEXT = 1 << 1, /* the secret crosses the wire as is */
    M_PLUS = 1 << 2,      /* needs channel-binding data */
    M_IF_TOKEN = 1 << 3,  /* automatic only with a preset token */
    M_IF_CERT = 1 << 4,   /* automatic only with a client certificate */
    M_IF_GSSAPI = 1 << 5, /* automatic only after posta_sasl_set_gssapi() */
    M_SERVER_FIRST = 1 << 6 /* never ask libsasl2 for an initial response */
};

/* What a mechanism driver step produced. */
enum { MECH_CONTINUE = 0, MECH_DONE = 1 };

struct mech_out {
    const unsigned char *data;  /* owned by the driver until its next call */
    size_t len;
    int present;                /* 0: no data at all (no initial response) */
};

/*
 * A mechanism implementation.  begin starts mechanism name (and may give an
 * initial response), step answers one decoded challenge; both return
 * MECH_DONE/MECH_CONTINUE or a negative code: POSTA_ENOTFOUND (a credential
 * is missing), POSTA_EUNSUPPORTED (cannot run it), POSTA_EAUTH (the exchange
 * went wrong; errmsg set), or the credential callback's abort code.  finish
 * (optional) runs after the server's success and records the SSF; end
 * releases the mechanism's state.
 */
struct mech_driver {
    int (*begin)(posta_sasl *s, const char *name, struct mech_out *out);
    int (*step)(posta_sasl *s, const unsigned char *in, size_t len, struct mech_out *out);
    int (*finish)(posta_sasl *s);
    void (*end)(posta_sasl *s);
};

struct mech_info {
    const char *name;
    unsigned flags;
    const struct mech_driver *driver;
};

extern const struct mech_driver posta__sasl_cyrus_driver;
extern const struct mech_driver posta__sasl_xoauth2_driver;
extern const struct mech_driver posta__sasl_oauthbearer_driver;

/* The table entry for name, or NULL (unknown: a libsasl2 plugin maybe). */
const struct mech_info *posta__sasl_mech_find(const char *name);
/* The automatic-choice table, for iteration. */
const struct mech_info *posta__sasl_mech_table(size_t *n_r);

struct cred {
    char *value;  /* NUL-terminated copy, wiped on release */
    size_t len;
    int set;      /* value given (maybe empty) */
    int refused;  /* the callback said POSTA_ENOTFOUND */
};

enum sasl_state {
    SASL_ST_NEW = 0,   /* options may change */
    SASL_ST_EXCHANGE,  /* a mechanism is under way */
    SASL_ST_DONE,      /* authenticated */
    SASL_ST_FAILED     /* gave up; errmsg says why */
};

struct posta_sasl {
    posta_sasl_proto proto;
    char *service, *host;
    unsigned port;

    /* options */
    char *mech_list;          /* caller's list, NULL = automatic */
    int try_next, allow_plain, gssapi, ir_ok;
    unsigned min_ssf, max_ssf, maxbuf;
    int encrypted, client_cert;
    unsigned ext_ssf;
    const char *cb_type;  /* a static name, NULL: no channel binding */
    unsigned char *cb_data;
    size_t cb_len;

    struct cred creds[POSTA_SASL_TOKEN + 1];
    posta_sasl_credential_cb cred_cb;
    void *cred_user;
    posta_sasl_notice_cb notice_cb;
    void *notice_user;
    struct posta_err err;

    /* the exchange */
    enum sasl_state state;
    char offered[MAX_CANDIDATES][MECH_NAME_MAX + 1];
    size_t noffered;
    int offer_known;
    char cand[MAX_CANDIDATES][MECH_NAME_MAX + 1];
    size_t ncand, next_cand;
    char mech[MECH_NAME_MAX + 1];       /* current mechanism, "" before start */
    const struct mech_driver *driver;
    unsigned char *ir;                  /* initial response held back */
    size_t ir_len;
    int ir_pending;
    int mech_done;                      /* client side of the mechanism completed */
    int canceled;                       /* "*" sent */
    int no_next;                        /* do not move on after this failure */
    int abort_code;                     /* the credential callback's abort */
    int cred_missing;                   /* which credential was missing, or 0 */
    char reason[512];                   /* why the client gave up, for the sentence */
    struct posta_buf line;              /* the line handed back; wiped */

    /* libsasl2 */
    sasl_conn_t *conn;
    struct posta__sasl_cbs *cbs;        /* the conn's callbacks; live as long as it */
    sasl_secret_t *secret;              /* SASL_CB_PASS answer; wiped */
    size_t secret_size;

    /* built-in mechanisms */
    unsigned char *oauth_buf;           /* initial response; wiped */
    size_t oauth_len;
    int oauth_errors;                   /* error challenges seen */
    char oauth_status[96];              /* "status" of the server's JSON error */

    unsigned layer_ssf, maxout;
    int layer_installed;
};

/* util for drivers */
int posta__sasl_cred(posta_sasl *s, posta_sasl_credential what, const char **v_r, size_t *len_r);
void posta__sasl_notice(posta_sasl *s, const char *fmt, ...) POSTA_PRINTF(2, 3);
int posta__sasl_error(posta_sasl *s, int code, const char *fmt, ...) POSTA_PRINTF(3, 4);
int posta__sasl_offered(const posta_sasl *s, const char *name);
/* Global libsasl2 client init result (init.c); 0 or POSTA_EUNSUPPORTED. */
int posta__sasl_init(void);
/* libsasl2 calls back into the session through this block, which must live
 * as long as the sasl_conn_t: after the layer takes the conn, s is NULL. */
struct posta__sasl_cbs {
    sasl_callback_t list[8];
    posta_sasl *s;
    /* libsasl2 keeps a pointer to the binding, not a copy. */
    sasl_channel_binding_t binding;
    unsigned char cb_data[CB_DATA_MAX];
};
/* Hand the libsasl2 connection (and its callbacks block) to a stream filter
 * (layer.c); they are freed with the stream, also on failure. */
int posta__sasl_push_layer(posta_stream *st, sasl_conn_t *conn, struct posta__sasl_cbs *cbs,
                           unsigned maxout);
/* Release the libsasl2 state of the current mechanism (cyrus.c). */
void posta__sasl_cyrus_free(posta_sasl *s);

#endif
