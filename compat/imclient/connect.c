/* The connection's life: imclient_connect() with the man page's return
 * codes, the flags, the select(2) helpers and event processing, close. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sysexits.h>
#include <unistd.h>

#include "imclient_int.h"

/* --- resolving and connecting ------------------------------------------- */

/* The port of service (a number or a name in services(5)), or -1. */
static int service_port(const char *service)
{
    const char *p = service;
    long n = 0;
    while (*p >= '0' && *p <= '9' && n <= 65535)
        n = n * 10 + (*p++ - '0');
    if (*service && !*p)
        return n >= 1 && n <= 65535 ? (int)n : -1;
    struct servent *se = getservbyname(service, "tcp");
    return se ? ntohs((uint16_t)se->s_port) : -1;
}

static void set_port(struct sockaddr *sa, int port)
{
    if (sa->sa_family == AF_INET)
        ((struct sockaddr_in *)(void *)sa)->sin_port = htons((uint16_t)port);
    else if (sa->sa_family == AF_INET6)
        ((struct sockaddr_in6 *)(void *)sa)->sin6_port = htons((uint16_t)port);
}

/* Try every address in turn (blocking, as Cyrus does); the socket, or -1
 * with the errno of the last failure in *err. */
static int connect_any(struct addrinfo *res, int port, int *err)
{
    *err = ECONNREFUSED;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            *err = errno;
            continue;
        }
        set_port(ai->ai_addr, port);
        int rc;
        do
            rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
        while (rc < 0 && errno == EINTR);
        if (rc == 0)
            return fd;
        *err = errno;
        close(fd);
    }
    return -1;
}

/* --- the connection record ----------------------------------------------- */

static void setup_done(posta_imap *h, const posta_imap_result *r, void *user)
{
    struct imclient *im = user;
    (void)h;
    im->ready = 1;
    im->setup_error = r->error;
}

static void free_record(struct imclient *im)
{
    imc_drop_deferred(im);
    imc_free_callbacks(im);
    imc_raw_free(&im->raw);
    free(im->servername);
    if (im->nullfd >= 0)
        close(im->nullfd);
    free(im);
}

/* Bind a connected socket to a new posta handle; 0 or a posta error. */
static int start_session(struct imclient *im, int fd, const char *host)
{
    static const posta_imap_callbacks cb = {.on_untagged = imc_on_untagged, .on_trace = imc_on_trace};
    posta_stream *s = NULL;
    int rc = posta_imap_new(&im->h, &cb, NULL, im);
    if (rc == 0)
        rc = posta_stream_new(&s);
    if (rc == 0)
        rc = posta_stream_attach_fd(s, fd, host);
    if (rc < 0) {
        posta_stream_free(s);
        close(fd);
        return rc;
    }
    /* The application decides about TLS (imclient_starttls); Cyrus has no
     * timeouts, so neither has this connection. */
    posta_imap_set_tls(im->h, POSTA_IMAP_TLS_NONE);
    posta_imap_set_timeouts(im->h, -1, -1);
    return posta_imap_attach(im->h, s, setup_done, im);
}

/* The record for a connected socket, or NULL (fd closed) when memory runs
 * out.  name is taken over. */
static struct imclient *new_record(int fd, const char *host, char *name)
{
    struct imclient *im = calloc(1, sizeof(*im));
    if (!im || !name) {
        free(name);
        free(im);
        close(fd);
        return NULL;
    }
    im->nullfd = -1;
    im->servername = name;
    if (imc_default_callbacks(im) < 0) {
        close(fd);
        free_record(im);
        return NULL;
    }
    if (start_session(im, fd, host) < 0) {
        posta_imap_free(im->h);
        free_record(im);
        return NULL;
    }
    return im;
}

IMC_API int imclient_connect(struct imclient **imclient, const char *host, const char *port)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_CANONNAME;
    if (!imclient || !host)
        return -1;
    int rc = getaddrinfo(host, NULL, &hints, &res);
    if (rc != 0)
        return rc == EAI_SYSTEM && errno ? errno : -1;
    int portnum = service_port(port ? port : "imap"), err = 0;
    int fd = portnum < 0 ? -1 : connect_any(res, portnum, &err);
    char *name = fd < 0 ? NULL : strdup(res->ai_canonname ? res->ai_canonname : host);
    freeaddrinfo(res);
    if (portnum < 0)
        return -2;
    if (fd < 0)
        return err;
    struct imclient *im = new_record(fd, host, name);
    if (!im) {
        imc_fatal("Virtual memory exhausted", EX_TEMPFAIL);
        return ENOMEM;
    }
    *imclient = im;
    return 0;
}

IMC_API void imclient_close(struct imclient *im)
{
    if (!im || imc_forbidden(im, "imclient_close"))
        return;
    /* Waiting commands hear "EOF" from here, as in Cyrus, and refused ones
     * still queued get their "BAD".  What those callbacks queue in turn
     * (refused too: they run inside callbacks) is dropped with the record. */
    posta_imap_free(im->h);
    im->h = NULL;
    imc_deliver_deferred(im);
    free_record(im);
}

/* --- flags and facts ---------------------------------------------------------- */

/* NONSYNCLITERAL says the server takes LITERAL+ literals: send them
 * non-synchronizing.  Cleared, posta follows what the server announces. */
static void apply_literal_flag(struct imclient *im)
{
    if (im->h)
        posta_imap_set_literals(im->h, im->flags & IMCLIENT_CONN_NONSYNCLITERAL ? POSTA_IMAP_LITERALS_NONSYNC
                                                                             : POSTA_IMAP_LITERALS_AUTO);
}

IMC_API void imclient_setflags(struct imclient *im, int flags)
{
    if (im) {
        im->flags |= flags;
        apply_literal_flag(im);
    }
}

IMC_API void imclient_clearflags(struct imclient *im, int flags)
{
    if (im) {
        im->flags &= ~flags;
        apply_literal_flag(im);
    }
}

IMC_API int imclient_getflags(struct imclient *im)
{
    return im ? im->flags : 0;
}

IMC_API char *imclient_servername(struct imclient *im)
{
    return im ? im->servername : NULL;
}

IMC_API int imclient_havetls(void)
{
    return 1;
}

/* --- events -------------------------------------------------------------------- */

IMC_API void imclient_getselectinfo(struct imclient *im, int *fd, int *wanttowrite)
{
    int sock = posta_imap_fd(im->h);
    if (sock < 0) {
        /* After the end: something always readable, like Cyrus's socket at
         * EOF, rather than a descriptor select(2) would refuse. */
        if (im->nullfd < 0)
            im->nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        sock = im->nullfd;
    }
    *fd = sock;
    *wanttowrite = posta_imap_wants_write(im->h) || im->deferred != NULL ||
                   posta_stream_pending(posta_imap_stream(im->h)) > 0;
}

IMC_API void imclient_processoneevent(struct imclient *im)
{
    if (!im || imc_forbidden(im, "imclient_processoneevent"))
        return;
    if (imc_deliver_deferred(im) > 0)
        return;
    if (posta_imap_get_state(im->h) != POSTA_IMAP_STATE_DISCONNECTED)
        posta_imap_process(im->h, -1);
}

int imc_wait_ready(struct imclient *im)
{
    while (!im->ready && posta_imap_get_state(im->h) != POSTA_IMAP_STATE_DISCONNECTED)
        posta_imap_process(im->h, -1);
    return im->ready && im->setup_error == 0 && posta_imap_get_state(im->h) != POSTA_IMAP_STATE_DISCONNECTED
               ? 0
               : -1;
}
