/* smtp_errno() per thread, smtp_strerror(), and how posta's error codes
 * read as libESMTP's. */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>

#include "esmtp_int.h"

/* libESMTP keeps its error per thread; C11 says so directly. */
static _Thread_local int last_error;

int esmtp_fail(int code, int ret)
{
    last_error = code;
    return ret;
}

void *esmtp_fail_null(int code)
{
    last_error = code;
    return NULL;
}

int esmtp_from_posta(int e)
{
    switch (e) {
    case POSTA_ENOTFOUND: return SMTP_ERR_NOTHING_TO_DO;
    case POSTA_EINVAL:
    case POSTA_ESTATE: return SMTP_ERR_INVAL;
    case POSTA_ENOMEM: return -ENOMEM;
    case POSTA_ERESOLVE: return SMTP_ERR_EAI_NONAME;
    case POSTA_ECONNECT: return -ECONNREFUSED;
    case POSTA_ETIMEDOUT: return -ETIMEDOUT;
    case POSTA_EIO: return -EIO;
    case POSTA_ECLOSED:
    case POSTA_EBYE:
    case POSTA_ENO: return SMTP_ERR_DROPPED_CONNECTION;
    case POSTA_EPROTO:
    case POSTA_EBAD: return SMTP_ERR_INVALID_RESPONSE_SYNTAX;
    case POSTA_ELIMIT: return SMTP_ERR_UNTERMINATED_RESPONSE;
    case POSTA_EUNSUPPORTED:
    case POSTA_EPOLICY: return SMTP_ERR_EXTENSION_NOT_AVAILABLE;
    default: return SMTP_ERR_CLIENT_ERROR;
    }
}

void esmtp_set_posta_error(int code)
{
    last_error = esmtp_from_posta(code);
}

ESMTP_API int smtp_errno(void)
{
    return last_error;
}

/* getaddrinfo's code for one of libESMTP's, or 0. */
static int eai_code(int error)
{
    switch (error) {
#ifdef EAI_ADDRFAMILY
    case SMTP_ERR_EAI_ADDRFAMILY: return EAI_ADDRFAMILY;
#endif
#ifdef EAI_NODATA
    case SMTP_ERR_EAI_NODATA: return EAI_NODATA;
#endif
    case SMTP_ERR_EAI_FAIL: return EAI_FAIL;
    case SMTP_ERR_EAI_AGAIN: return EAI_AGAIN;
    case SMTP_ERR_EAI_MEMORY: return EAI_MEMORY;
    case SMTP_ERR_EAI_FAMILY: return EAI_FAMILY;
    case SMTP_ERR_EAI_BADFLAGS: return EAI_BADFLAGS;
    case SMTP_ERR_EAI_NONAME: return EAI_NONAME;
    case SMTP_ERR_EAI_SERVICE: return EAI_SERVICE;
    case SMTP_ERR_EAI_SOCKTYPE: return EAI_SOCKTYPE;
    default: return 0;
    }
}

static const char *own_text(int error)
{
    switch (error) {
    case 0: return "no error";
    case SMTP_ERR_NOTHING_TO_DO: return "nothing to do: no message or ETRN node needs sending";
    case SMTP_ERR_DROPPED_CONNECTION: return "the SMTP server ended the connection";
    case SMTP_ERR_INVALID_RESPONSE_SYNTAX: return "the server's reply is not valid SMTP";
    case SMTP_ERR_STATUS_MISMATCH: return "the lines of a multiline reply have different codes";
    case SMTP_ERR_INVALID_RESPONSE_STATUS: return "the server's reply code is not valid here";
    case SMTP_ERR_INVAL: return "invalid argument to a libESMTP function";
    case SMTP_ERR_EXTENSION_NOT_AVAILABLE: return "a required SMTP extension is not available";
    case SMTP_ERR_UNTERMINATED_RESPONSE: return "the server's reply is unterminated or too long";
    case SMTP_ERR_EAI_ADDRFAMILY: return "the host has no address in the requested family";
    case SMTP_ERR_EAI_NODATA: return "the host has no address";
    case SMTP_ERR_CLIENT_ERROR: return "client error (TLS or authentication failed)";
    default: return NULL;
    }
}

/* Copy text into buf, truncated to fit. */
static char *copy_out(const char *text, char *buf, size_t buflen)
{
    size_t n = strlen(text);
    if (n >= buflen)
        n = buflen - 1;
    memcpy(buf, text, n);
    buf[n] = '\0';
    return buf;
}

ESMTP_API char *smtp_strerror(int error, char buf[], size_t buflen)
{
    if (!buf || buflen == 0)
        return esmtp_fail_null(SMTP_ERR_INVAL);
    if (error < 0) {
        /* The XSI strerror_r (we do not ask for GNU's). */
        char tmp[256];
        if (strerror_r(-error, tmp, sizeof(tmp)) != 0)
            snprintf(tmp, sizeof(tmp), "Unknown error %d", -error);
        return copy_out(tmp, buf, buflen);
    }
    int eai = eai_code(error);
    const char *text = eai ? gai_strerror(eai) : own_text(error);
    if (!text) {
        snprintf(buf, buflen, "Error %d", error);
        return buf;
    }
    return copy_out(text, buf, buflen);
}
