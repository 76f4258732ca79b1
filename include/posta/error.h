/* posta error codes: one negative enum shared by every layer. */
#ifndef POSTA_ERROR_H
#define POSTA_ERROR_H

#include <posta/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Every fallible posta call returns 0 (POSTA_OK) or one of these negative
 * codes.  Codes at or below POSTA_EFATAL mean the connection (or handle) can
 * no longer be used; codes above it leave the handle usable.  Each handle
 * also keeps a sentence describing its last error (posta_stream_errmsg(),
 * and the matching function of every other layer).
 */
typedef enum posta_error {
    POSTA_OK = 0,
    POSTA_EAGAIN = -1,    /* would block: wait for the fd, then call again */
    POSTA_EINVAL = -2,    /* bad argument from the caller */
    POSTA_ESTATE = -3,    /* call not allowed in the handle's current state */
    POSTA_ENOMEM = -4,    /* out of memory */
    POSTA_ECANCELED = -5, /* operation canceled (handle freed or closed) */
    POSTA_ENOTFOUND = -6, /* the requested item does not exist */
    POSTA_EUNSUPPORTED = -7, /* the peer or the build cannot do this */
    POSTA_ENO = -8,       /* the server refused (IMAP NO, SMTP 5xx, POP3 -ERR) */
    POSTA_EBAD = -9,      /* the server rejected the command as invalid */
    POSTA_EAUTH = -10,    /* authentication failed */
    POSTA_EPOLICY = -11,  /* refused by posta's security policy */

    POSTA_EFATAL = -100,  /* threshold: this code and all below are fatal */
    POSTA_ERESOLVE = -101,  /* host name or service could not be resolved */
    POSTA_ECONNECT = -102,  /* no address accepted the connection */
    POSTA_ETIMEDOUT = -103, /* a connect, read or write timeout expired */
    POSTA_EIO = -104,       /* a system call failed on the socket */
    POSTA_ECLOSED = -105,   /* the peer closed the connection */
    POSTA_ETLS = -106,      /* TLS handshake or record layer failure */
    POSTA_EVERIFY = -107,   /* the peer's certificate was not accepted */
    POSTA_EALPN = -108,     /* the server selected an ALPN protocol not offered */
    POSTA_EPROTO = -109,    /* the peer violated the protocol */
    POSTA_ELIMIT = -110,    /* a configured limit (line, literal, depth) was crossed */
    POSTA_EBYE = -111       /* the server ended the session (IMAP BYE, SMTP 421) */
} posta_error;

/* A short constant description of code ("connection refused" style words);
 * never NULL, also for unknown codes. */
POSTA_API const char *posta_strerror(int code);

/* Nonzero when code ends the usability of a connection. */
POSTA_API int posta_error_is_fatal(int code);

#ifdef __cplusplus
}
#endif
#endif
