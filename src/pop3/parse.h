/* The sans-I/O POP3 response parser: status lines, multi-line responses
 * split into lines or streamed as dot-unstuffed bytes. */
#ifndef POSTA_POP3_PARSE_H
#define POSTA_POP3_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

/*
 * The grammar it reads (RFC 1939 section 3, RFC 2449 section 8, RFC 5034):
 *
 *   status    = ("+OK" / "-ERR") [SP [resp-code SP] text] CRLF
 *   resp-code = "[" resp-level *("/" resp-level) "]"
 *   continue  = "+" [SP base64] CRLF             ; only during AUTH
 *   multi     = *(line CRLF) "." CRLF            ; after +OK when the
 *                                                 ; command has a list
 *   line      = a line starting with "." carries one extra "." (stuffing)
 *
 * A POP3 parser cannot know on its own whether a +OK starts a multi-line
 * response: that depends on the command.  So after each status line the
 * consumer says how to read what follows (its status callback returns a
 * mode), and the parser carries on in that mode until the terminating ".".
 *
 * Tolerated because real servers send them: lower-case status words, a bare
 * LF instead of CRLF, "+OK" and "-ERR" with nothing after them.
 */

/* What follows a status line; returned by the status callback. */
enum pop3_mode {
    POP3_MODE_STATUS = 0, /* another status line */
    POP3_MODE_LINES,      /* multi-line response handed over line by line */
    POP3_MODE_BODY        /* multi-line response streamed as bytes */
};

/* A callback's way to say "stop after this event": the feed returns the
 * bytes consumed so far (up to the end of the line just handed over). */
#define POP3_PAUSE 100

enum pop3_status_kind { POP3_OK = 1, POP3_ERR, POP3_CONT };

/* One status line.  Pointers go into the parser's or the caller's buffer
 * and live until the callback returns. */
struct pop3_status {
    enum pop3_status_kind kind;
    const char *code;   /* the response code without brackets, or NULL */
    size_t code_len;
    const char *text;   /* the text after the code (for CONT: the base64) */
    size_t text_len;
    const char *line;   /* the whole line without its line end */
    size_t line_len;
};

/* Each callback returns 0 to go on, POP3_PAUSE, or a negative posta_error
 * that stops the feed and is returned by it.  status returns a pop3_mode
 * (or POP3_PAUSE, meaning POP3_MODE_STATUS and pause). */
struct pop3_parser_ops {
    int (*status)(void *ctx, const struct pop3_status *st);
    /* MODE_LINES: one line, unstuffed, without its line end. */
    int (*line)(void *ctx, const char *line, size_t len);
    /* MODE_BODY: unstuffed bytes, line ends kept as they came. */
    int (*data)(void *ctx, const char *p, size_t n);
    /* The "." that ends a multi-line response; the mode is STATUS again. */
    int (*end)(void *ctx);
};

struct pop3_parser {
    enum pop3_mode mode;
    int body;             /* where MODE_BODY is within a line */
    int allow_cont;       /* accept "+ " continuations as status lines */
    struct posta_buf line;/* a line that arrived in pieces; capped */
    uint64_t offset;      /* bytes consumed since creation */
    struct posta_err err;
};

/* max_line bounds one line (status or list line; body lines are never held). */
void pop3_parser_init(struct pop3_parser *p, size_t max_line);
void pop3_parser_free(struct pop3_parser *p);
/* Forget any partial line and go back to MODE_STATUS (after STLS). */
void pop3_parser_reset(struct pop3_parser *p);

/*
 * Feed len bytes.  Returns the count consumed (len, or less after a
 * POP3_PAUSE), or a negative error: POSTA_EPROTO for a malformed status
 * line, POSTA_ELIMIT for a line longer than max_line (p->err says which and
 * where), or the error a callback returned.  After an error the parser is
 * unusable.
 */
long pop3_parser_feed(struct pop3_parser *p, const char *data, size_t len,
                      const struct pop3_parser_ops *ops, void *ctx);

/* Nonzero when no partial line or multi-line response is held. */
int pop3_parser_idle(const struct pop3_parser *p);

/* Parse one status line (without line end) into st; allow_cont accepts
 * continuations.  0 or POSTA_EPROTO. */
int pop3_parse_status(const char *line, size_t len, int allow_cont, struct pop3_status *st);

#endif
