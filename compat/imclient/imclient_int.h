/* Internals shared by the files of libposta-imclient: the connection
 * record and the helpers that run application callbacks. */
#ifndef POSTA_IMCLIENT_INT_H
#define POSTA_IMCLIENT_INT_H

#include <stdint.h>

#include <posta/imap.h>

#include "cyrus/imclient.h"
#include "cyrus/sasl.h"

#define IMC_API CYRUS_IMCLIENT_API

/* One untagged-data callback, as imclient_addcallback() registered it. */
struct imc_callback {
    char *keyword;
    int flags;
    imclient_proc_t *proc;
    void *rock;
};

/* The bytes the server sent, kept from the start of the oldest response not
 * yet delivered: reply texts are cut from here, exactly as sent.  base is
 * the parser's stream offset of data[0]; the parser counts from 0 again
 * after STARTTLS, which tls records. */
struct imc_raw {
    char *data;
    size_t len, cap;
    uint64_t base;
    int tls;
};

/* A completion to deliver from the next imclient_processoneevent(): a
 * command that was refused before anything was sent. */
struct imc_deferred {
    struct imc_deferred *next;
    imclient_proc_t *proc;
    void *rock;
    char *keyword;
    char *text;
};

struct imclient {
    posta_imap *h;
    char *servername;
    int flags;
    int ready;          /* the greeting (and capabilities) have been handled */
    int setup_error;    /* why that failed; 0 when it did not */
    int in_callback;    /* application code running under us */
    int nullfd;         /* /dev/null for getselectinfo after the end; -1 */
    struct imc_callback *cbs; /* cbs[0] is the default ("") callback */
    size_t ncbs, acbs;
    struct imc_raw raw;
    struct imc_deferred *deferred, *deferred_tail;
    imclient_getpass_t *getpass;
    void *getpass_rock;
};

/* fatal(), the application's: the man page's signature. */
extern void fatal(char *message, int code);

/* Call fatal() with a constant message (it takes a char *). */
void imc_fatal(const char *message, int code);

/* Nonzero, after telling fatal(), when what is called from a callback. */
int imc_forbidden(struct imclient *im, const char *what);

/* Run an application callback with the reply fields; text is writable. */
void imc_call(struct imclient *im, imclient_proc_t *proc, void *rock, char *keyword, long msgno, char *text);

/* Queue a completion for the next event; deliver the queued ones (returns
 * how many ran). */
void imc_defer(struct imclient *im, imclient_proc_t *proc, void *rock, const char *keyword, const char *text);
int imc_deliver_deferred(struct imclient *im);
/* Forget the queued ones without calling them. */
void imc_drop_deferred(struct imclient *im);

/* Process events until the greeting has been handled: 0 when the
 * connection is usable, -1 when it ended. */
int imc_wait_ready(struct imclient *im);

/* The driver callbacks behind replies (reply.c). */
void imc_on_trace(posta_imap *h, char dir, const char *data, size_t len, void *user);
void imc_on_untagged(posta_imap *h, const posta_imap_response *r, void *user);
/* Deliver a tagged reply to finishproc (NULL: just forget its bytes). */
void imc_deliver_tagged(struct imclient *im, imclient_proc_t *proc, void *rock, const posta_imap_response *r);
void imc_raw_free(struct imc_raw *raw);

/* The callbacks every connection starts with (reply.c). */
int imc_default_callbacks(struct imclient *im);
void imc_free_callbacks(struct imclient *im);

/* Get the password (or token) for user and mech into buf (auth_cred.c). */
int imc_get_secret(struct imclient *im, const char *mech, const char *user, char *buf, size_t size);
/* The current user's name, or NULL. */
const char *imc_current_user(char *buf, size_t size);

/* Descriptors run by posta's SASL engine (mechs.c). */
int imc_mech_is_posta(const struct sasl_client *m);

#endif
