/* The blocking POP3 calls: each starts the non-blocking form and runs the
 * connection until its completion callback has run. */
#include "pop3_int.h"

#include <string.h>

/* What a blocking call learns from its completion. */
struct sync {
    int done;
    int error;
    uint32_t count;
    uint64_t size;
    /* the caller's own callbacks, behind ours */
    posta_pop3_entry_fn entry;
    posta_pop3_sink_fn sink;
    void *user;
};

static int sync_entry(posta_pop3 *h, const posta_pop3_entry *e, void *user)
{
    struct sync *s = user;
    return s->entry ? s->entry(h, e, s->user) : 0;
}

static int sync_sink(posta_pop3 *h, const void *data, size_t len, void *user)
{
    struct sync *s = user;
    return s->sink ? s->sink(h, data, len, s->user) : 0;
}

static void sync_done(posta_pop3 *h, const posta_pop3_result *r, void *user)
{
    struct sync *s = user;
    s->done = 1;
    s->error = r->error;
    s->count = r->count;
    s->size = r->size;
}

/* Blocking inside a callback would feed the parser from within itself. */
static int sync_begin(posta_pop3 *h)
{
    if (h->cb_depth > 0)
        return pop3_err(h, POSTA_ESTATE, "blocking POP3 call inside a callback");
    pop3_enter(h);
    return 0;
}

/* started is the *_start() result.  The handle may be freed by the leave
 * (when a callback asked for it); s lives on the caller's stack. */
static int sync_end(posta_pop3 *h, struct sync *s, int started)
{
    if (started == 0)
        pop3_wait(h, &s->done);
    pop3_leave(h, 0);
    if (started < 0)
        return started;
    return s->done ? s->error : POSTA_ECANCELED;
}

#define SYNC(h, s, start_call)                      \
    do {                                            \
        int rc_ = sync_begin(h);                    \
        if (rc_ < 0)                                \
            return rc_;                             \
        return sync_end(h, &(s), (start_call));     \
    } while (0)

int posta_pop3_connect(posta_pop3 *h, const char *target)
{
    struct sync s = {0};
    SYNC(h, s, posta_pop3_connect_start(h, target, sync_done, &s));
}

int posta_pop3_login(posta_pop3 *h, const char *user, const char *password)
{
    struct sync s = {0};
    SYNC(h, s, posta_pop3_login_start(h, user, password, sync_done, &s));
}

int posta_pop3_authenticate(posta_pop3 *h, posta_sasl *sasl, posta_pop3_auth method)
{
    struct sync s = {0};
    SYNC(h, s, posta_pop3_authenticate_start(h, sasl, method, sync_done, &s));
}

int posta_pop3_capa(posta_pop3 *h)
{
    struct sync s = {0};
    SYNC(h, s, posta_pop3_capa_start(h, sync_done, &s));
}

int posta_pop3_utf8(posta_pop3 *h)
{
    struct sync s = {0};
    SYNC(h, s, posta_pop3_utf8_start(h, sync_done, &s));
}

int posta_pop3_stat(posta_pop3 *h, uint32_t *count_r, uint64_t *size_r)
{
    struct sync s = {0};
    int rc = sync_begin(h);
    if (rc < 0)
        return rc;
    rc = sync_end(h, &s, posta_pop3_stat_start(h, sync_done, &s));
    if (rc == 0 && count_r)
        *count_r = s.count;
    if (rc == 0 && size_r)
        *size_r = s.size;
    return rc;
}

int posta_pop3_list(posta_pop3 *h, uint32_t msg, posta_pop3_entry_fn fn, void *user)
{
    struct sync s = {.entry = fn, .user = user};
    SYNC(h, s, posta_pop3_list_start(h, msg, sync_entry, sync_done, &s));
}

int posta_pop3_uidl(posta_pop3 *h, uint32_t msg, posta_pop3_entry_fn fn, void *user)
{
    struct sync s = {.entry = fn, .user = user};
    SYNC(h, s, posta_pop3_uidl_start(h, msg, sync_entry, sync_done, &s));
}

int posta_pop3_retr(posta_pop3 *h, uint32_t msg, posta_pop3_sink_fn sink, void *user)
{
    struct sync s = {.sink = sink, .user = user};
    SYNC(h, s, posta_pop3_retr_start(h, msg, sync_sink, sync_done, &s));
}

int posta_pop3_top(posta_pop3 *h, uint32_t msg, unsigned long lines, posta_pop3_sink_fn sink,
                   void *user)
{
    struct sync s = {.sink = sink, .user = user};
    SYNC(h, s, posta_pop3_top_start(h, msg, lines, sync_sink, sync_done, &s));
}

int posta_pop3_dele(posta_pop3 *h, uint32_t msg)
{
    struct sync s = {0};
    SYNC(h, s, posta_pop3_dele_start(h, msg, sync_done, &s));
}

int posta_pop3_rset(posta_pop3 *h)
{
    struct sync s = {0};
    SYNC(h, s, posta_pop3_rset_start(h, sync_done, &s));
}

int posta_pop3_noop(posta_pop3 *h)
{
    struct sync s = {0};
    SYNC(h, s, posta_pop3_noop_start(h, sync_done, &s));
}

int posta_pop3_quit(posta_pop3 *h)
{
    struct sync s = {0};
    SYNC(h, s, posta_pop3_quit_start(h, sync_done, &s));
}

int posta_pop3_scan(posta_pop3 *h)
{
    struct sync s = {0};
    SYNC(h, s, posta_pop3_scan_start(h, sync_done, &s));
}
