/* posta's progress events and monitor output, handed to the application's
 * callbacks with the arguments libESMTP passes for each event. */
#include <string.h>

#include "esmtp_int.h"

#define EXTNA_BIT(ev) (1u << ((ev) - SMTP_EV_EXTNA_DSN))

static smtp_message_t msg_of(const posta_smtp_message *m)
{
    return m ? posta_smtp_message_get_user(m) : NULL;
}

static void mail_status(smtp_session_t s, const posta_smtp_event *ev)
{
    smtp_message_t msg = msg_of(ev->message);
    if (msg)
        s->event_cb(s, SMTP_EV_MAILSTATUS, s->event_arg, msg->reverse_path, msg);
}

/* LMTP's second round (value 1) has no libESMTP counterpart. */
static void rcpt_status(smtp_session_t s, const posta_smtp_event *ev)
{
    smtp_recipient_t r = ev->recipient ? posta_smtp_recipient_get_user(ev->recipient) : NULL;
    if (r && ev->value == 0)
        s->event_cb(s, SMTP_EV_RCPTSTATUS, s->event_arg, r->mailbox, r);
}

static void message_data(smtp_session_t s, const posta_smtp_event *ev)
{
    smtp_message_t msg = msg_of(ev->message);
    long long n = ev->value > 0x7fffffff ? 0x7fffffff : ev->value;
    if (msg)
        s->event_cb(s, SMTP_EV_MESSAGEDATA, s->event_arg, msg, (int)n);
}

static void message_sent(smtp_session_t s, const posta_smtp_event *ev)
{
    smtp_message_t msg = msg_of(ev->message);
    if (msg)
        s->event_cb(s, SMTP_EV_MESSAGESENT, s->event_arg, msg);
}

static void etrn_status(smtp_session_t s, const posta_smtp_event *ev)
{
    struct smtp_etrn_node *n = ev->etrn ? posta_smtp_etrn_get_user(ev->etrn) : NULL;
    if (n)
        s->event_cb(s, SMTP_EV_ETRNSTATUS, s->event_arg, posta_smtp_etrn_option(ev->etrn),
                    posta_smtp_etrn_node(ev->etrn));
}

static void syntax_warning(smtp_session_t s, const posta_smtp_event *ev)
{
    int quit = 0;
    s->event_cb(s, SMTP_EV_SYNTAXWARNING, s->event_arg, &quit);
    if (quit && ev->quit)
        *ev->quit = 1;
}

/* libESMTP's event for an extension posta reports missing, or -1 for those
 * libESMTP does not know. */
static int extna_event(unsigned ext)
{
    switch (ext) {
    case POSTA_SMTP_EXT_DSN: return SMTP_EV_EXTNA_DSN;
    case POSTA_SMTP_EXT_8BITMIME: return SMTP_EV_EXTNA_8BITMIME;
    case POSTA_SMTP_EXT_STARTTLS: return SMTP_EV_EXTNA_STARTTLS;
    case POSTA_SMTP_EXT_ETRN: return SMTP_EV_EXTNA_ETRN;
    case POSTA_SMTP_EXT_CHUNKING: return SMTP_EV_EXTNA_CHUNKING;
    case POSTA_SMTP_EXT_BINARYMIME: return SMTP_EV_EXTNA_BINARYMIME;
    default: return -1;
    }
}

/* libESMTP reports each missing extension once per session.  8BITMIME and
 * BINARYMIME always end it (a message needing an 8-bit path must not go
 * over a 7-bit one); for DSN and CHUNKING the application may end it; for
 * ETRN it ends unless the application says otherwise. */
static void extension_missing(smtp_session_t s, const posta_smtp_event *ev)
{
    int e = extna_event(ev->extension);
    if (e < 0 || (s->extna_seen & EXTNA_BIT(e)))
        return;
    s->extna_seen |= EXTNA_BIT(e);
    int quit = e == SMTP_EV_EXTNA_ETRN;
    if (e == SMTP_EV_EXTNA_8BITMIME || e == SMTP_EV_EXTNA_BINARYMIME) {
        if (s->event_cb)
            s->event_cb(s, e, s->event_arg);
        quit = 1;
    } else if (e == SMTP_EV_EXTNA_STARTTLS) {
        if (s->event_cb)
            s->event_cb(s, e, s->event_arg, NULL);
    } else if (s->event_cb) {
        s->event_cb(s, e, s->event_arg, &quit);
    }
    if (quit && ev->quit) {
        *ev->quit = 1;
        s->extna_quit = 1;
    }
}

/* libESMTP rejects ciphers of 40 bits or less unless the application
 * accepts them; posta asks below 128, where libESMTP would just go on. */
static void weak_cipher(smtp_session_t s, const posta_smtp_event *ev)
{
    if (ev->value > 40)
        return;
    int ok = 0;
    if (s->event_cb)
        s->event_cb(s, SMTP_EV_WEAK_CIPHER, s->event_arg, (long)ev->value, &ok);
    if (!ok && ev->quit)
        *ev->quit = 1;
}

static void starttls_ok(smtp_session_t s, const posta_smtp_event *ev)
{
    if (s->event_cb)
        s->event_cb(s, SMTP_EV_STARTTLS_OK, s->event_arg, (void *)NULL,
                    ev->name ? ev->name : "", (int)ev->value);
}

static void deliverby_expired(smtp_session_t s, const posta_smtp_event *ev)
{
    int adjust = 0;
    s->event_cb(s, SMTP_EV_DELIVERBY_EXPIRED, s->event_arg, (long)ev->value, &adjust);
}

/* Events every application sees only with a callback set. */
static void plain_event(smtp_session_t s, const posta_smtp_event *ev)
{
    switch (ev->type) {
    case POSTA_SMTP_EV_CONNECT: s->event_cb(s, SMTP_EV_CONNECT, s->event_arg); break;
    case POSTA_SMTP_EV_DISCONNECT: s->event_cb(s, SMTP_EV_DISCONNECT, s->event_arg); break;
    case POSTA_SMTP_EV_MAILSTATUS: mail_status(s, ev); break;
    case POSTA_SMTP_EV_RCPTSTATUS: rcpt_status(s, ev); break;
    case POSTA_SMTP_EV_MESSAGEDATA: message_data(s, ev); break;
    case POSTA_SMTP_EV_MESSAGESENT: message_sent(s, ev); break;
    case POSTA_SMTP_EV_ETRNSTATUS: etrn_status(s, ev); break;
    case POSTA_SMTP_EV_SYNTAXWARNING: syntax_warning(s, ev); break;
    case POSTA_SMTP_EV_DELIVERBY_EXPIRED: deliverby_expired(s, ev); break;
    default: break;
    }
}

static void on_event(posta_smtp *h, const posta_smtp_event *ev, void *user)
{
    smtp_session_t s = user;
    (void)h;
    switch (ev->type) {
    case POSTA_SMTP_EV_EXTNA: extension_missing(s, ev); return;
    case POSTA_SMTP_EV_WEAK_CIPHER: weak_cipher(s, ev); return;
    case POSTA_SMTP_EV_STARTTLS_OK: starttls_ok(s, ev); return;
    case POSTA_SMTP_EV_TLS_FAILED: esmtp_tls_failed(s, ev); return;
    case POSTA_SMTP_EV_AUTH_OK: esmtp_auth_done(s, ev->name, 0); return;
    default: break;
    }
    if (s->event_cb)
        plain_event(s, ev);
}

static void on_monitor(posta_smtp *h, const char *data, size_t len, int dir, void *user)
{
    smtp_session_t s = user;
    (void)h;
    if (s->monitor_cb && len > 0)
        s->monitor_cb(data, len > 0x7fffffff ? 0x7fffffff : (int)len, dir, s->monitor_arg);
}

const posta_smtp_callbacks esmtp_callbacks = {.on_event = on_event, .on_monitor = on_monitor};
