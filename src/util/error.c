/* posta_strerror and the library version. */
#include <posta/error.h>

#include "config.h"

const char *posta_version(void)
{
    return POSTA_VERSION_STRING;
}

int posta_error_is_fatal(int code)
{
    return code <= POSTA_EFATAL;
}

const char *posta_strerror(int code)
{
    switch ((posta_error)code) {
    case POSTA_OK: return "success";
    case POSTA_EAGAIN: return "operation would block";
    case POSTA_EINVAL: return "invalid argument";
    case POSTA_ESTATE: return "not allowed in the current state";
    case POSTA_ENOMEM: return "out of memory";
    case POSTA_ECANCELED: return "operation canceled";
    case POSTA_ENOTFOUND: return "not found";
    case POSTA_EUNSUPPORTED: return "not supported";
    case POSTA_ENO: return "refused by the server";
    case POSTA_EBAD: return "rejected by the server as invalid";
    case POSTA_EAUTH: return "authentication failed";
    case POSTA_EPOLICY: return "refused by security policy";
    case POSTA_EFATAL: return "fatal error";
    case POSTA_ERESOLVE: return "host name could not be resolved";
    case POSTA_ECONNECT: return "connection failed";
    case POSTA_ETIMEDOUT: return "timed out";
    case POSTA_EIO: return "input/output error";
    case POSTA_ECLOSED: return "connection closed by peer";
    case POSTA_ETLS: return "TLS error";
    case POSTA_EVERIFY: return "certificate verify failed";
    case POSTA_EALPN: return "ALPN protocol mismatch";
    case POSTA_EPROTO: return "protocol error";
    case POSTA_ELIMIT: return "limit exceeded";
    case POSTA_EBYE: return "server ended the session";
    }
    return "unknown error";
}
