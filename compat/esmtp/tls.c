/* STARTTLS: the libESMTP modes on posta's (which verify the server, send
 * SNI and never go below TLS 1.2), libESMTP's ~/.authenticate files, and
 * its certificate events for handshakes posta refused. */
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "esmtp_int.h"

ESMTP_API int smtp_starttls_enable(smtp_session_t s, enum starttls_option how)
{
    static const posta_smtp_tls map[] = {POSTA_SMTP_TLS_DISABLED, POSTA_SMTP_TLS_ENABLED,
                                         POSTA_SMTP_TLS_REQUIRED};
    if (!s || (unsigned)how > Starttls_REQUIRED)
        return esmtp_fail(SMTP_ERR_INVAL, 0);
    int rc = posta_smtp_set_tls(s->h, map[how]);
    if (rc < 0) {
        esmtp_set_posta_error(rc);
        return 0;
    }
    s->starttls = how;
    return 1;
}

/* posta builds its own TLS context (TLS 1.2 or later, verification, SNI);
 * an application's SSL_CTX cannot be handed to it and is not used. */
ESMTP_API int smtp_starttls_set_ctx(smtp_session_t s, SSL_CTX *ctx)
{
    (void)ctx;
    if (!s)
        return esmtp_fail(SMTP_ERR_INVAL, 0);
    return 1;
}

/* Kept for the application's sake; posta's client key files must not be
 * encrypted (see README.md). */
static smtp_starttls_passwordcb_t password_cb;
static void *password_arg;

ESMTP_API int smtp_starttls_set_password_cb(smtp_starttls_passwordcb_t cb, void *arg)
{
    if (!cb)
        return esmtp_fail(SMTP_ERR_INVAL, 0);
    password_cb = cb;
    password_arg = arg;
    return 1;
}

/* --- ~/.authenticate ------------------------------------------------------------ */

/* libESMTP's rule: a file or directory is used only when the user owns it
 * and nobody else may read it. */
static int private_path(const char *path, int dir)
{
    struct stat st;
    if (stat(path, &st) < 0 || st.st_uid != getuid())
        return 0;
    if (dir)
        return S_ISDIR(st.st_mode) && !(st.st_mode & (S_IRWXG | S_IRWXO));
    return S_ISREG(st.st_mode) && st.st_size > 0 && !(st.st_mode & (S_IXUSR | S_IRWXG | S_IRWXO));
}

static int auth_path(char *buf, size_t n, const char *tail)
{
    const char *home = getenv("HOME");
    if (!home || !*home)
        return 0;
    int len = snprintf(buf, n, "%s/.authenticate/%s", home, tail);
    return len > 0 && (size_t)len < n;
}

static int set_trust(posta_stream *st)
{
    char file[4096], dir[4096];
    int have_file = auth_path(file, sizeof(file), "ca.pem") && private_path(file, 0);
    int have_dir = auth_path(dir, sizeof(dir), "ca") && private_path(dir, 1);
    if (!have_file && !have_dir)
        return 0;
    return posta_stream_set_ca(st, have_file ? file : NULL, have_dir ? dir : NULL);
}

/* A certificate for this server first, then the user's general one. */
static int set_client_cert(smtp_session_t s, posta_stream *st)
{
    char path[4096], tail[1024];
    snprintf(tail, sizeof(tail), "%s/private/smtp-starttls.pem", s->host ? s->host : "");
    if (s->host && strchr(s->host, '/') == NULL && auth_path(path, sizeof(path), tail) &&
        private_path(path, 0))
        return posta_stream_set_client_cert(st, path, NULL);
    if (auth_path(path, sizeof(path), "private/smtp-starttls.pem") && private_path(path, 0))
        return posta_stream_set_client_cert(st, path, NULL);
    return 0;
}

int esmtp_tls_prepare(smtp_session_t s)
{
    if (s->starttls == Starttls_DISABLED)
        return 0;
    posta_stream *st = posta_smtp_stream(s->h);
    int rc = set_trust(st);
    if (rc == 0)
        rc = set_client_cert(s, st);
    return rc;
}

/* --- certificate events ------------------------------------------------------- */

/* The X509_V_ERR code behind posta's sentence about a verification. */
static long verify_code(const char *why)
{
    if (strstr(why, "certificate has expired"))
        return X509_V_ERR_CERT_HAS_EXPIRED;
    if (strstr(why, "certificate is not yet valid"))
        return X509_V_ERR_CERT_NOT_YET_VALID;
    const char *p = strstr(why, "verify failed: ");
    long best = X509_V_ERR_UNSPECIFIED;
    size_t best_len = 0;
    for (long code = 0; p && code < 256; code++) {
        const char *text = X509_verify_cert_error_string(code);
        size_t n = strlen(text);
        if (n > best_len && strncmp(p + 15, text, n) == 0) {
            best = code;
            best_len = n;
        }
    }
    return best;
}

/* Ask the application about a certificate posta refused, with the event
 * libESMTP raises for it; a yes makes the session try once more without
 * verification (see smtp_start_session). */
void esmtp_tls_failed(smtp_session_t s, const posta_smtp_event *ev)
{
    const char *why = ev->name ? ev->name : "";
    int ok = 0;
    if (ev->error != POSTA_EVERIFY) {
        if (s->event_cb && strstr(why, "client certificate"))
            s->event_cb(s, SMTP_EV_UNUSABLE_CLIENT_CERTIFICATE, s->event_arg, NULL);
        return;
    }
    if (s->event_cb && strstr(why, "host name mismatch"))
        s->event_cb(s, SMTP_EV_WRONG_PEER_CERTIFICATE, s->event_arg, &ok, s->host, (void *)NULL);
    else if (s->event_cb && strstr(why, "no certificate"))
        s->event_cb(s, SMTP_EV_NO_PEER_CERTIFICATE, s->event_arg, &ok);
    else if (s->event_cb)
        s->event_cb(s, SMTP_EV_INVALID_PEER_CERTIFICATE, s->event_arg, verify_code(why), &ok,
                    (void *)NULL);
    s->tlsfail.seen = 1;
    s->tlsfail.accepted = ok != 0;
}
