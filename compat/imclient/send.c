/* imclient_send(): Cyrus's %-sequences translated into posta's command
 * writer, completions routed back to the finishproc, and the rules about
 * what callbacks may do. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "imclient_int.h"

/* --- fatal(), callbacks, and what they may call ------------------------- */

void imc_fatal(const char *message, int code)
{
    /* fatal() takes a char * and may scribble on it: give it a copy. */
    char buf[512];
    snprintf(buf, sizeof(buf), "%s", message);
    fatal(buf, code);
}

int imc_forbidden(struct imclient *im, const char *what)
{
    if (!im || im->in_callback == 0)
        return 0;
    char msg[160];
    snprintf(msg, sizeof(msg), "imclient: %s() may not be called from a callback; call refused", what);
    imc_fatal(msg, EX_SOFTWARE);
    return 1;
}

void imc_call(struct imclient *im, imclient_proc_t *proc, void *rock, char *keyword, long msgno, char *text)
{
    struct imclient_reply reply = {keyword, msgno, text};
    im->in_callback++;
    proc(im, rock, &reply);
    im->in_callback--;
}

/* --- completions that happen without the server ------------------------- */

void imc_defer(struct imclient *im, imclient_proc_t *proc, void *rock, const char *keyword, const char *text)
{
    if (!proc)
        return;
    struct imc_deferred *d = calloc(1, sizeof(*d));
    char *kw = strdup(keyword), *tx = strdup(text);
    if (!d || !kw || !tx) {
        free(d);
        free(kw);
        free(tx);
        imc_fatal("Virtual memory exhausted", EX_TEMPFAIL);
        return;
    }
    d->keyword = kw;
    d->text = tx;
    d->proc = proc;
    d->rock = rock;
    if (im->deferred_tail)
        im->deferred_tail->next = d;
    else
        im->deferred = d;
    im->deferred_tail = d;
}

static void free_deferred(struct imc_deferred *d)
{
    free(d->keyword);
    free(d->text);
    free(d);
}

void imc_drop_deferred(struct imclient *im)
{
    while (im->deferred) {
        struct imc_deferred *next = im->deferred->next;
        free_deferred(im->deferred);
        im->deferred = next;
    }
    im->deferred_tail = NULL;
}

int imc_deliver_deferred(struct imclient *im)
{
    /* Only those queued before now: a callback that queues more (a refused
     * send) must not keep this loop going. */
    struct imc_deferred *d = im->deferred;
    im->deferred = im->deferred_tail = NULL;
    int n = 0;
    while (d) {
        struct imc_deferred *next = d->next;
        imc_call(im, d->proc, d->rock, d->keyword, -1, d->text);
        free_deferred(d);
        d = next;
        n++;
    }
    return n;
}

/* --- translating the format -------------------------------------------- */

/* The command in the writer's terms: the text, with every %s and %v of
 * imclient as a %v of the writer (a one-element vector for %s), so that
 * all arguments have one type. */
struct wfmt {
    char *text;
    size_t len, cap;
    const char *const *args[IMCLIENT_MAX_ARGS];
    const char *single[IMCLIENT_MAX_ARGS][2];
    int nargs;
    const char *refused; /* why the command cannot be sent, for "BAD" */
    int failed;          /* fatal() was told */
};

static void put(struct wfmt *f, const char *s, size_t n)
{
    if (f->failed || f->refused)
        return;
    if (f->len + n + 1 > f->cap) {
        size_t cap = f->cap ? f->cap : 128;
        while (cap < f->len + n + 1)
            cap *= 2;
        char *p = realloc(f->text, cap);
        if (!p) {
            imc_fatal("Virtual memory exhausted", EX_TEMPFAIL);
            f->failed = 1;
            return;
        }
        f->text = p;
        f->cap = cap;
    }
    memcpy(f->text + f->len, s, n);
    f->len += n;
    f->text[f->len] = '\0';
}

/* Text that goes on the wire as is: the writer reads "%" as a conversion. */
static void put_verbatim(struct wfmt *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '%')
            put(f, "%%", 2);
        else
            put(f, s, 1);
    }
}

static void put_atom(struct wfmt *f, const char *s)
{
    if (!s) {
        f->refused = "imclient_send: %a argument is NULL";
        return;
    }
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e) {
            f->refused = "imclient_send: %a argument holds a byte that is not printable US-ASCII";
            return;
        }
    put_verbatim(f, s);
}

/* Room for one more %s/%v argument? */
static int room(struct wfmt *f)
{
    if (f->nargs < IMCLIENT_MAX_ARGS)
        return 1;
    imc_fatal("internal error: too many %s/%v sequences in imclient_send", EX_SOFTWARE);
    f->failed = 1;
    return 0;
}

static void put_vector(struct wfmt *f, const char *const *v)
{
    if (!v) {
        f->refused = "imclient_send: %s or %v argument is NULL";
        return;
    }
    if (!room(f))
        return;
    f->args[f->nargs++] = v;
    put(f, "%v", 2);
}

static void put_string(struct wfmt *f, const char *s)
{
    if (!s) {
        f->refused = "imclient_send: %s argument is NULL";
        return;
    }
    if (!room(f))
        return;
    f->single[f->nargs][0] = s;
    f->single[f->nargs][1] = NULL;
    put_vector(f, f->single[f->nargs]);
}

static void put_int(struct wfmt *f, int n)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%d", n);
    put(f, buf, strlen(buf));
}

static void put_unsigned(struct wfmt *f, unsigned n)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%u", n);
    put(f, buf, strlen(buf));
}

/* One %-sequence; returns the character after it. */
static const char *conversion(struct wfmt *f, const char *p, va_list *ap)
{
    switch (*p) {
    case '%':
        put(f, "%%", 2);
        break;
    case 'a':
        put_atom(f, va_arg(*ap, const char *));
        break;
    case 's':
        put_string(f, va_arg(*ap, const char *));
        break;
    case 'd':
        put_int(f, va_arg(*ap, int));
        break;
    case 'u':
        put_unsigned(f, va_arg(*ap, unsigned));
        break;
    case 'v':
        put_vector(f, (const char *const *)va_arg(*ap, char **));
        break;
    default:
        imc_fatal("internal error: invalid format specifier in imclient_send", EX_SOFTWARE);
        f->failed = 1;
        return *p ? p + 1 : p;
    }
    return p + 1;
}

static void translate(struct wfmt *f, const char *fmt, va_list *ap)
{
    const char *p = fmt;
    put(f, "", 0); /* an empty command still needs a format, for the writer to refuse */
    while (*p && !f->failed && !f->refused) {
        const char *pct = strchr(p, '%');
        size_t n = pct ? (size_t)(pct - p) : strlen(p);
        put(f, p, n);
        p += n;
        if (pct)
            p = conversion(f, pct + 1, ap);
    }
}

/* --- sending ---------------------------------------------------------------- */

struct imc_cmd {
    struct imclient *im;
    imclient_proc_t *proc;
    void *rock;
};

static void command_done(posta_imap *h, const posta_imap_result *r, void *user)
{
    struct imc_cmd *c = user;
    (void)h;
    if (r->response) {
        imc_deliver_tagged(c->im, c->proc, c->rock, r->response);
    } else {
        /* No answer will come (the connection ended or is being closed). */
        char kw[] = "EOF", text[] = "";
        imc_call(c->im, c->proc, c->rock, kw, -1, text);
    }
    free(c);
}

#define A(i) f->args[i]
static int submit(struct imclient *im, const posta_imap_cmd_opts *o, struct wfmt *f)
{
    /* Every slot is passed; the writer reads as many as the format names. */
    return posta_imap_submit(im->h, o, f->text, A(0), A(1), A(2), A(3), A(4), A(5), A(6), A(7), A(8), A(9),
                             A(10), A(11), A(12), A(13), A(14), A(15), A(16), A(17), A(18), A(19), A(20),
                             A(21), A(22), A(23), A(24), A(25), A(26), A(27), A(28), A(29), A(30), A(31));
}
#undef A

/* Queue the formatted command; on failure the finishproc is told later. */
static void send_formatted(struct imclient *im, imclient_proc_t *proc, void *rock, struct wfmt *f)
{
    struct imc_cmd *c = NULL;
    posta_imap_cmd_opts o = {0};
    if (proc) {
        if (!(c = malloc(sizeof(*c)))) {
            imc_fatal("Virtual memory exhausted", EX_TEMPFAIL);
            imc_defer(im, proc, rock, "BAD", "out of memory");
            return;
        }
        *c = (struct imc_cmd){im, proc, rock};
        o.done = command_done;
        o.user = c;
    }
    int rc = submit(im, &o, f);
    if (rc == 0)
        return;
    free(c);
    if (rc == POSTA_ESTATE)
        imc_defer(im, proc, rock, "EOF", "");
    else
        imc_defer(im, proc, rock, "BAD", posta_imap_errmsg(im->h));
}

IMC_API void imclient_send(struct imclient *im, imclient_proc_t *finishproc, void *finishrock, const char *fmt,
                           ...)
{
    if (!im)
        return;
    if (imc_forbidden(im, "imclient_send")) {
        imc_defer(im, finishproc, finishrock, "BAD", "imclient_send() called from a callback: refused");
        return;
    }
    struct wfmt f;
    memset(&f, 0, sizeof(f));
    va_list ap;
    va_start(ap, fmt);
    if (fmt)
        translate(&f, fmt, &ap);
    else
        f.refused = "imclient_send: no format";
    va_end(ap);
    if (f.failed || f.refused)
        imc_defer(im, finishproc, finishrock, "BAD", f.refused ? f.refused : "imclient_send: refused");
    else
        send_formatted(im, finishproc, finishrock, &f);
    free(f.text);
}
