/* imclient_starttls(): STARTTLS through posta's driver, with the man page's
 * certificate arguments and its warning on stdout when the server's
 * certificate cannot be validated. */
#include <stdio.h>
#include <string.h>

#include "imclient_int.h"

/* Cyrus treats "" like NULL for every file argument. */
static const char *given(const char *s)
{
    return s && s[0] ? s : NULL;
}

/* Set up the stream's TLS options; returns whether the certificate is to
 * be verified (a CA was given) rather than only checked and warned about. */
static int configure(posta_stream *s, const char *cert, const char *key, const char *cafile,
                     const char *capath)
{
    if (cert)
        posta_stream_set_client_cert(s, cert, key);
    if (cafile || capath) {
        posta_stream_set_ca(s, cafile, capath);
        posta_stream_set_insecure(s, 0);
        return 1;
    }
    /* The man page: without a CA the connection may succeed with a
     * warning.  The system trust store still gives the verdict. */
    posta_stream_set_insecure(s, 1);
    return 0;
}

IMC_API int imclient_starttls(struct imclient *im, char *cert_file, char *key_file, char *CAfile, char *CApath)
{
    if (!im || imc_forbidden(im, "imclient_starttls"))
        return 1;
    if (imc_wait_ready(im) < 0) {
        printf("[ TLS negotiation did not succeed: not connected ]\n");
        return 1;
    }
    posta_stream *s = posta_imap_stream(im->h);
    int verify = configure(s, given(cert_file), given(key_file), given(CAfile), given(CApath));
    if (posta_imap_starttls(im->h) != 0) {
        printf("[ TLS negotiation did not succeed: %s ]\n", posta_imap_errmsg(im->h));
        fflush(stdout);
        return 1;
    }
    const char *verdict = posta_stream_tls_verify_result(s);
    if (!verify && (!verdict || strcmp(verdict, "ok") != 0)) {
        printf("[ TLS warning: the server's certificate could not be validated (%s); "
               "the connection is encrypted but the server is not authenticated ]\n",
               verdict ? verdict : "no verdict");
        fflush(stdout);
    }
    return 0;
}
