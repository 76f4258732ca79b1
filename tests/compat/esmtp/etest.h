/* Helpers for the libESMTP compatibility tests: scripted peers, finding a
 * transaction in the smtp-sink's directory, and recording events and
 * monitor output as libESMTP applications receive them. */
#ifndef POSTA_ETEST_H
#define POSTA_ETEST_H

#include <libesmtp.h>

#include "peer.h"

/* Start a scripted peer (with the test server certificate for !starttls);
 * aborts the test when it cannot. */
struct peer *etest_peer(const char *script);
/* The peer must have followed its script. */
void etest_peer_ok_at(struct peer *p, const char *file, int line);
#define etest_peer_ok(p) etest_peer_ok_at((p), __FILE__, __LINE__)
/* "127.0.0.1:PORT" of the peer (a static buffer). */
const char *etest_target(const struct peer *p);

/* A word unique to this process and call, to find one's own messages in the
 * shared sink. */
const char *etest_token(void);
/* The sink file holding token (waits up to 5 s for it), malloc'd; NULL
 * when none came. */
char *etest_sink_find(const char *token);

/* Events as the application saw them, one line each ("MAILSTATUS a@b"),
 * appended to a buffer; set with smtp_set_eventcb(s, etest_event_cb, rec). */
struct etest_events {
    char log[8192];
    size_t len;
    smtp_message_t last_message;   /* the message argument of the latest event */
    smtp_recipient_t last_recipient;
    long long data_octets;         /* sum of SMTP_EV_MESSAGEDATA lengths */
    int quit_extna;                /* what to answer in *quit for EXTNA events (-1: leave) */
    int ok_certificate;            /* what to answer in *ok for certificate events */
    long verify_result;            /* from SMTP_EV_INVALID_PEER_CERTIFICATE */
    char cipher[128];              /* from SMTP_EV_STARTTLS_OK */
    int bits;
};
void etest_event_cb(smtp_session_t session, int event_no, void *arg, ...);

/* The monitor output, with the direction of each call. */
struct etest_monitor {
    char writes[16384], reads[16384], headers[8192];
    size_t wlen, rlen, hlen;
    int pipelined;   /* one write held both MAIL FROM and RCPT TO */
};
void etest_monitor_cb(const char *buf, int buflen, int writing, void *arg);

#endif
