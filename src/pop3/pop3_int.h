/* Internal view of a posta_pop3 handle, shared by the engine (engine.c), the
 * session sequences (session.c, auth.c), the commands (commands.c) and the
 * driver that binds it all to a stream (client.c). */
#ifndef POSTA_POP3_INT_H
#define POSTA_POP3_INT_H

#include <posta/pop3.h>

#include "parse.h"
#include "util.h"

/* What a queued command is; indexes pop3_cmd_info[]. */
enum pop3_kind {
    K_GREETING = 0, /* not sent: the server speaks first */
    K_CAPA, K_STLS, K_UTF8, K_USER, K_PASS, K_APOP, K_AUTH,
    K_STAT, K_LIST, K_UIDL, K_TOP, K_RETR, K_DELE, K_RSET, K_NOOP, K_QUIT, K_RAW,
    K_COUNT
};

/* Facts about each kind of command (engine.c). */
struct pop3_cmd_info {
    const char *name;
    unsigned states;      /* bit (1 << state) for each state a caller may queue it in */
    unsigned char pipe;   /* may travel with others under PIPELINING */
};
extern const struct pop3_cmd_info pop3_cmd_info[K_COUNT];
#define POP3_BIT(s) (1u << (s))

struct pop3_op;
/* Engine-internal completion, run instead of the caller's done. */
typedef void (*pop3_op_fn)(posta_pop3 *h, struct pop3_op *op, const posta_pop3_result *r);

/* One command from queueing to its answer. */
struct pop3_op {
    struct pop3_op *next;
    enum pop3_kind kind;
    char *line;            /* the command with CRLF (NULL for the greeting) */
    size_t line_len;
    size_t show_len;       /* how much of line the trace and messages may show */
    uint32_t msg;
    enum pop3_mode multi;  /* what follows +OK: nothing, lines, or a body */
    int timeout_ms;        /* 0: the handle's; < 0: none */
    int64_t due;           /* when its answer became the next one expected */
    int receiving;         /* +OK seen, multi-line answer under way */
    int error;             /* an entry or sink callback's stop code */
    uint64_t bytes;        /* body octets delivered */
    posta_pop3_done_fn done;
    posta_pop3_entry_fn entry;
    posta_pop3_sink_fn sink;
    void *user;
    pop3_op_fn internal;
    void *ictx;
};

struct pop3_queue {
    struct pop3_op *head, *tail;
    size_t n;
};

/* The connect or login sequence under way (one at a time). */
enum pop3_job_kind { JOB_NONE = 0, JOB_CONNECT, JOB_LOGIN };

struct pop3_job {
    enum pop3_job_kind kind;
    posta_pop3_done_fn done;
    void *user;
    /* login */
    posta_sasl *sasl;
    int own_sasl;
    posta_pop3_auth method;
    int next;              /* index into the candidate methods */
    posta_pop3_auth order[3];
    int norder;
    int not_offered;       /* the method just skipped is not offered at all */
};

struct posta_pop3 {
    posta_pop3_state state;
    posta_pop3_callbacks cb;
    void *cb_user;
    posta_pop3_limits limits;
    struct posta_err err;
    char srv_code[64];
    char srv_text[512];

    /* options */
    posta_pop3_tls tls_mode;
    int implicit;          /* this connection started with TLS */
    int allow_cleartext;
    int command_ms, silence_ms;

    /* engine */
    struct pop3_parser parser;
    struct pop3_queue pending;   /* queued, not yet written */
    struct pop3_queue inflight;  /* written, answer awaited (head first) */
    struct posta_buf out;        /* bytes to write */
    struct posta_buf reply;      /* the head's status line: code NUL text NUL */
    posta_pop3_result res;       /* the head's result under construction */
    char uidbuf[256];            /* UIDL n's unique-id for the result */
    char entry_uid[256];         /* the unique-id of the UIDL line at hand */
    int close_code;              /* why the connection last ended */
    int64_t last_rx;
    int quit_queued;
    int pause_tls;               /* STLS +OK: stop reading, handshake next */
    int pause_layer;             /* AUTH +OK with a SASL layer to install */

    /* what the server told us */
    char *greeting;
    char *timestamp;
    struct posta_buf capa;       /* capability lines, each NUL-terminated */
    int capa_known;
    int utf8_on;
    const char *auth_method;
    char mech[32];

    /* the scan table; each uid is malloc'd */
    posta_pop3_entry *table;
    size_t ntable;

    struct pop3_job job;

    /* driver */
    posta_stream *stream;
    int64_t hs_start;            /* TLS handshake start, for the command timeout */
    unsigned char *rbuf;
    size_t rbuf_size;

    /* callbacks and deferred free */
    int depth;                   /* public calls under way on the stack */
    int cb_depth;                /* caller callbacks under way */
    int free_pending;
};

/* --- engine.c ----------------------------------------------------------- */

void pop3_set_state(posta_pop3 *h, posta_pop3_state to);
const char *pop3_state_name(posta_pop3_state s);
/* Record an error sentence; returns code. */
int pop3_err(posta_pop3 *h, int code, const char *fmt, ...) POSTA_PRINTF(3, 4);
/* End the connection: close the stream, fail every command (the awaited one
 * with code, the others with POSTA_ECANCELED), finish the job, on_closed.
 * fmt may be NULL to keep the sentence already recorded.  Returns code. */
int pop3_fail(posta_pop3 *h, int code, const char *fmt, ...) POSTA_PRINTF(3, 4);
void pop3_close(posta_pop3 *h, int code);

struct pop3_op *pop3_op_new(enum pop3_kind kind, const char *fmt, ...) POSTA_PRINTF(2, 3);
struct pop3_op *pop3_op_new_line(enum pop3_kind kind, const char *line, size_t len,
                                 size_t show_len);
void pop3_op_free(struct pop3_op *op);
/* Queue op (taking it) and move what may go out into the output buffer. */
void pop3_queue_op(posta_pop3 *h, struct pop3_op *op);
/* Start expecting the greeting. */
void pop3_expect_greeting(posta_pop3 *h, pop3_op_fn on_greeting);
/* Write an AUTH continuation answer for the head command. */
int pop3_send_continuation(posta_pop3 *h, const char *line, size_t len);
/* Move queued commands into the output buffer as pipelining allows. */
void pop3_pump(posta_pop3 *h);
/* Feed received bytes: consumed count (less than len after a pause) or a
 * negative error (the connection was failed already). */
long pop3_feed(posta_pop3 *h, const void *data, size_t len);
/* Check command and silence timeouts at now; fails the connection on
 * expiry.  Returns 0 or POSTA_ETIMEDOUT. */
int pop3_check_timeouts(posta_pop3 *h, int64_t now);
/* The next deadline (monotonic ms), 0 when none. */
int64_t pop3_next_deadline(const posta_pop3 *h);
/* Run a caller callback's bookkeeping around fn. */
#define POP3_CALLBACK(h, call) do { (h)->cb_depth++; call; (h)->cb_depth--; } while (0)
/* Nonzero when the handle must stop processing (free requested). */
static inline int pop3_stopped(const posta_pop3 *h) { return h->free_pending; }
void pop3_trace(posta_pop3 *h, char dir, const char *line, size_t len);
/* Forget capabilities (after STLS). */
void pop3_capa_reset(posta_pop3 *h);
int pop3_capa_add(posta_pop3 *h, const char *line, size_t len);
/* Finish the job with error (0: success); text for the result. */
void pop3_job_finish(posta_pop3 *h, int error);
/* Nonzero when TLS is up. */
int pop3_tls_active(const posta_pop3 *h);
/* A result carrying only an error and the handle's sentence. */
void pop3_error_result(const posta_pop3 *h, int error, posta_pop3_result *r);
/* "127.0.0.1:110", or "the server" without a transport, for sentences. */
const char *pop3_peer(const posta_pop3 *h);

/* --- session.c: connect sequence ---------------------------------------- */

/* Forget everything learned on the previous connection. */
void pop3_session_reset(posta_pop3 *h);
/* The transport is ready (after TCP, or implicit TLS): await the greeting. */
void pop3_session_greet(posta_pop3 *h);
/* The driver finished the TLS handshake that followed STLS's +OK. */
void pop3_session_tls_done(posta_pop3 *h);

/* --- auth.c --------------------------------------------------------------- */

int pop3_login_begin(posta_pop3 *h, posta_sasl *s, int own, posta_pop3_auth method,
                     posta_pop3_done_fn done, void *user);
void pop3_login_cleanup(posta_pop3 *h);
/* AUTH's +OK negotiated a security layer: install it on the stream (the
 * driver calls this once no byte is left unread) and finish the login. */
int pop3_login_layer(posta_pop3 *h);
/* AUTH continuation from the server (head op is K_AUTH). */
int pop3_auth_continuation(posta_pop3 *h, const char *text, size_t len);

/* --- commands.c ------------------------------------------------------------ */

/* A decimal number at *p (advanced past it); -1 when none or too big. */
static inline int pop3_parse_u64(const char **p, const char *end, uint64_t *v)
{
    const char *s = *p;
    uint64_t x = 0;
    if (s >= end || *s < '0' || *s > '9')
        return -1;
    for (; s < end && *s >= '0' && *s <= '9'; s++) {
        if (x > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
            return -1;
        x = x * 10 + (uint64_t)(*s - '0');
    }
    *p = s;
    *v = x;
    return 0;
}

/* Parse one LIST or UIDL line into e (uid pointing into line copy buf). */
int pop3_parse_entry(posta_pop3 *h, enum pop3_kind kind, const char *line, size_t len,
                     posta_pop3_entry *e);
/* Mark message msg deleted (or, msg 0, unmark all) in the scan table. */
void pop3_table_mark(posta_pop3 *h, uint32_t msg, int deleted);
void pop3_table_clear(posta_pop3 *h);
/* Queue a user command after the state check; op freed on failure. */
int pop3_submit_op(posta_pop3 *h, struct pop3_op *op);

/* --- client.c: the driver -------------------------------------------------- */

void pop3_io_close(posta_pop3 *h);
/* Run the connection until *flag is set or it fails; for blocking calls. */
int pop3_wait(posta_pop3 *h, const int *flag);
/* Guard for public calls that may run callbacks: enter, then leave (which
 * performs a deferred free; h must not be used after). */
void pop3_enter(posta_pop3 *h);
int pop3_leave(posta_pop3 *h, int rc);

/* --- test hooks (internal, for tests/pop3) ------------------------------- */

/* Start a session on no transport: the greeting is expected next and the
 * caller feeds bytes and takes output itself.  TLS mode must be NONE. */
int posta__pop3_open_detached(posta_pop3 *h, posta_pop3_done_fn done, void *user);
long posta__pop3_feed(posta_pop3 *h, const void *data, size_t len);
const unsigned char *posta__pop3_output(const posta_pop3 *h, size_t *len_r);
void posta__pop3_output_consume(posta_pop3 *h, size_t n);
size_t posta__pop3_buffered(const posta_pop3 *h);  /* bytes held by the engine */

#endif
