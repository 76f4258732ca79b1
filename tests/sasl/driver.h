/* A small blocking line-protocol client for the SASL tests: connects (plain,
 * implicit TLS or STARTTLS), gathers the offered mechanisms and runs a
 * posta_sasl exchange the way the IMAP, SMTP and POP3 engines do. */
#ifndef POSTA_TEST_SASL_DRIVER_H
#define POSTA_TEST_SASL_DRIVER_H

#include <posta/sasl.h>
#include <posta/stream.h>

enum drv_tls { DRV_PLAIN, DRV_TLS, DRV_STARTTLS };

struct drv {
    posta_stream *st;
    posta_sasl_proto proto;
    char line[8192];      /* the last line read, without CRLF */
    size_t len;
    char in[16384];       /* bytes read but not yet split into lines */
    size_t inlen;
    char caps[4096];      /* the mechanisms offered, space separated */
    int caps_known;
    int sasl_ir;          /* IMAP: SASL-IR offered */
    char greeting[1024];
    int tag;              /* IMAP: the next tag number */
    char sent[16384];     /* every line the client sent, for checks */
    size_t nsent;
};

/* Connect to host:port and do what the protocol needs before AUTH: read the
 * greeting, STARTTLS if asked (verifying against $CA_FILE when set), then
 * CAPABILITY / EHLO / CAPA.  Returns 0 or a negative code (message on
 * stderr). */
int drv_open(struct drv *d, posta_sasl_proto proto, const char *host, const char *port,
             enum drv_tls tls);
void drv_close(struct drv *d);

/* Read one line into d->line; 0 or a negative code. */
int drv_read_line(struct drv *d);
/* Send bytes as is (a complete line with CRLF), remembering them in d->sent. */
int drv_send(struct drv *d, const char *p, size_t n);
/* Send a command: IMAP gets "<tag> " in front. */
int drv_command(struct drv *d, const char *line, size_t n);
/* Send a command and read up to its final reply; for IMAP returns 0 for OK,
 * POSTA_ENO otherwise; for SMTP 2xx/3xx; POP3 +OK. */
int drv_simple(struct drv *d, const char *cmd);

/*
 * Run the whole exchange with s (offered = d->caps unless offered_override is
 * not NULL; "" = unknown/NULL).  Returns what the posta_sasl calls returned
 * last: 0 authenticated, else the error (posta_sasl_errmsg has the sentence).
 */
int drv_auth(struct drv *d, posta_sasl *s, const char *offered_override);

/* A session for d's protocol with TLS facts from the stream (use_stream)
 * and SASL-IR as offered. */
posta_sasl *drv_sasl(struct drv *d, const char *host);

#endif
