/* Internals shared by the files of posta-esmtp: the libESMTP handles as
 * wrappers around posta's SMTP objects, and the helpers they all use. */
#ifndef POSTA_ESMTP_INT_H
#define POSTA_ESMTP_INT_H

#include <posta/sasl.h>
#include <posta/smtp.h>

#include "auth-client.h"
#include "libesmtp.h"

#define ESMTP_API LIBESMTP_API

/* A status as the application sees it, rebuilt from posta's only when
 * posta's changed, so that a pointer the application holds stays valid
 * while the status does. */
struct esmtp_status {
    smtp_status_t pub;
    char *text;  /* owned; pub.text points here */
    int local;   /* posta decided the status itself */
};

/* Application data with its release function. */
struct esmtp_appdata {
    void *data;
    void (*release)(void *);
};

/* One header option set through the API: posta takes all bits at once. */
struct esmtp_hdropt {
    struct esmtp_hdropt *next;
    char *name;
    unsigned bits;
};

struct smtp_recipient {
    smtp_recipient_t next;
    smtp_message_t message;
    posta_smtp_recipient *r;
    char *mailbox;
    struct esmtp_status status;
    struct esmtp_appdata app;
};

struct smtp_message {
    smtp_message_t next;
    smtp_session_t session;
    posta_smtp_message *m;
    smtp_recipient_t rcpts, rcpts_tail;
    char *reverse_path;          /* as the application set it, NULL when unset */
    smtp_messagecb_t cb;
    void *cb_arg;
    void *cb_ctx;                /* the callback's *buf, freed at each rewind */
    struct esmtp_status transfer, mail;
    struct esmtp_appdata app;
    struct esmtp_hdropt *hdropts;
    int dnt_default;             /* Disposition-Notification-To from the reverse path */
    int dnt_applied;
};

struct smtp_etrn_node {
    struct smtp_etrn_node *next;
    smtp_session_t session;
    posta_smtp_etrn *n;
    struct esmtp_status status;
    struct esmtp_appdata app;
};

/* The TLS verdict of a failed handshake, as libESMTP's events name it. */
struct esmtp_tlsfail {
    int seen;     /* a certificate problem was reported */
    int accepted; /* ... and the application's event handler accepted it */
};

struct smtp_session {
    posta_smtp *h;
    char *server;                /* as set, for smtp_get_server_name() */
    char *host;                  /* its host part */
    smtp_message_t msgs, msgs_tail;
    struct smtp_etrn_node *etrn, *etrn_tail;
    smtp_eventcb_t event_cb;
    void *event_arg;
    smtp_monitorcb_t monitor_cb;
    void *monitor_arg;
    struct esmtp_appdata app;
    auth_context_t auth;
    enum starttls_option starttls;
    unsigned extna_seen;         /* EXTNA events already given in this run */
    int extna_quit;              /* ... and one of them ended it */
    struct esmtp_tlsfail tlsfail;
    int insecure_retry;          /* the application accepted a bad certificate */
};

/* --- errors.c ------------------------------------------------------------ */

/* Set this thread's smtp_errno() and return ret (for one-line failures). */
int esmtp_fail(int code, int ret);
void *esmtp_fail_null(int code);
/* Record a posta error as the matching libESMTP code. */
void esmtp_set_posta_error(int code);
int esmtp_from_posta(int code);

/* --- status.c ------------------------------------------------------------- */

/* Refresh st from posta's status p (NULL: none yet); returns &st->pub, or
 * NULL when out of memory. */
const smtp_status_t *esmtp_status_update(struct esmtp_status *st, const posta_smtp_status *p);
void esmtp_status_free(struct esmtp_status *st);
void esmtp_appdata_set(struct esmtp_appdata *a, void *data, void (*release)(void *));
void esmtp_appdata_free(struct esmtp_appdata *a);

/* --- events.c ------------------------------------------------------------- */

extern const posta_smtp_callbacks esmtp_callbacks;

/* --- message.c ------------------------------------------------------------ */

/* Hand the message's callback to posta as its source. */
int esmtp_message_bind_source(smtp_message_t msg);
/* Apply what is resolved at run time (headers that follow the reverse
 * path). */
int esmtp_message_prepare(smtp_message_t msg);
void esmtp_message_free(smtp_message_t msg);

/* --- tls.c ----------------------------------------------------------------- */

/* Configure posta's stream for the next run as libESMTP would (trust and
 * client certificate under ~/.authenticate). */
int esmtp_tls_prepare(smtp_session_t s);
/* A failed handshake reported by posta: ask the application as libESMTP's
 * certificate events do. */
void esmtp_tls_failed(smtp_session_t s, const posta_smtp_event *ev);

/* --- auth.c ---------------------------------------------------------------- */

/* Install (or remove) the SASL factory for the session's context. */
void esmtp_auth_prepare(smtp_session_t s);
/* AUTH succeeded: remember the mechanism in the context. */
void esmtp_auth_done(smtp_session_t s, const char *mech, unsigned ssf);
/* The run is over: forget the user name and password it was given. */
void esmtp_auth_end(smtp_session_t s);

#endif
