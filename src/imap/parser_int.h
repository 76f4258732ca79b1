/* The IMAP response parser's state, shared by its two halves: parser.c (the
 * response frame: tag, status, code, text) and parser_args.c (the generic
 * argument tokenizer: atoms, strings, literals, lists). */
#ifndef POSTA_IMAP_PARSER_INT_H
#define POSTA_IMAP_PARSER_INT_H

#include <posta/imap_parser.h>

#include "arena.h"
#include "util.h"

/* One state per place the byte stream can stop; every state has a step
 * function (a row in parser.c's table) that consumes bytes from there. */
enum pstate {
    ST_START,       /* first byte of a response */
    ST_START_LF,    /* a blank line's CR: expect LF */
    ST_TAG,         /* the tag, "*" or "+" */
    ST_WORD,        /* a head word after the tag: status, number, keyword */
    ST_TEXT,        /* resp-text up to the end of the line, kept raw */
    ST_ARGS,        /* between arguments */
    ST_ATOM,
    ST_TILDE,       /* "~": a literal8 or an atom */
    ST_QUOTED,
    ST_QUOTED_ESC,
    ST_LIT_SIZE,    /* "{" digits */
    ST_LIT_CLOSE,   /* "{" digits "+": expect "}" */
    ST_LIT_EOL,     /* after "}": expect CRLF (or bare LF) */
    ST_LIT_LF,      /* after "}" CR: expect LF */
    ST_LIT_INLINE,  /* literal data kept in the tree */
    ST_LIT_STREAM,  /* literal data handed to the sink */
    ST_EOL_LF,      /* CR after the arguments: expect LF */
    ST_FAILED,
    ST_COUNT
};

/* Which head word ST_WORD is reading. */
enum phead {
    HEAD_STATUS,    /* tagged: OK / NO / BAD */
    HEAD_UNTAGGED,  /* "*" then: a number, a status or a keyword */
    HEAD_KEYWORD    /* "*" number then: the keyword */
};

struct posta_imap_parser {
    posta_imap_parser_callbacks cb;
    void *user;
    posta_imap_limits lim;
    size_t inline_max;      /* literals up to this stay in the tree */
    struct posta_err err;
    int failed;             /* the error once the parser is unusable */
    uint64_t err_at;        /* stream offset the error sentence names */

    enum pstate state;
    enum phead head;
    int code_mode;          /* tokenizing a response code's arguments */
    uint64_t offset;        /* stream bytes consumed before this step */
    uint64_t base;          /* stream offset of the step's first byte */
    uint64_t resp_start;    /* stream offset of this response */
    uint64_t lit_bytes;     /* literal data bytes in this response */
    uint64_t text_off;      /* stream offset of the resp-text */
    uint64_t tok_off;       /* stream offset where the token began */

    struct posta_arena arena;
    struct posta_buf tok;   /* the token being read, across feeds */
    posta_imap_arg *stack;  /* finished nodes of the lists still open */
    size_t nstack, stack_size;
    size_t *frames;         /* where each open list's nodes start in stack */
    size_t nframes, frames_size;
    size_t nodes;           /* nodes made in this response */
    posta_imap_response resp;

    size_t bracket;         /* ST_ATOM: '[' not yet closed */
    uint64_t lit_size;      /* literal: its size, then bytes still due */
    uint64_t lit_total;     /* streamed literal: its size */
    int lit8, lit_overflow;
    size_t lit_ndigits;
    char lit_digits[33];    /* the size as sent, for the error sentence */

    int in_callback;
    int pause;              /* a callback returned POSTA_EAGAIN */
    int doomed;             /* freed from inside a callback */
};

typedef long (*posta__step_fn)(posta_imap_parser *p, const unsigned char *s, size_t n);

/* Record an error at byte s[i] of the current step (or at stream offset
 * at); returns code. */
long posta__imap_fail(posta_imap_parser *p, int code, size_t i, const char *fmt, ...)
    POSTA_PRINTF(4, 5);
long posta__imap_fail_at(posta_imap_parser *p, int code, uint64_t at, const char *fmt, ...)
    POSTA_PRINTF(4, 5);
/* Append the n token bytes at s, which is s[i] of the step; what names the
 * token for the max_item error, NULL for tokens max_item does not bound. */
long posta__imap_tok_add(posta_imap_parser *p, const void *s, size_t n, size_t i, const char *what);
/* A byte for an error sentence: 'x' when printable, else 0xNN. */
const char *posta__imap_byte_name(unsigned char c, char buf[8]);
/* The untagged data line is complete (its LF is s[i]): emit it. */
long posta__imap_args_done(posta_imap_parser *p, size_t i);
/* What a callback's return means: 0 go on (POSTA_EAGAIN also, after noting
 * the pause), or the negative error that stops the parser. */
int posta__imap_cb_result(posta_imap_parser *p, int rc);

/* The argument tokenizer's step functions (parser_args.c). */
long posta__imap_st_args(posta_imap_parser *p, const unsigned char *s, size_t n);
long posta__imap_st_atom(posta_imap_parser *p, const unsigned char *s, size_t n);
long posta__imap_st_tilde(posta_imap_parser *p, const unsigned char *s, size_t n);
long posta__imap_st_quoted(posta_imap_parser *p, const unsigned char *s, size_t n);
long posta__imap_st_quoted_esc(posta_imap_parser *p, const unsigned char *s, size_t n);
long posta__imap_st_lit_size(posta_imap_parser *p, const unsigned char *s, size_t n);
long posta__imap_st_lit_close(posta_imap_parser *p, const unsigned char *s, size_t n);
long posta__imap_st_lit_eol(posta_imap_parser *p, const unsigned char *s, size_t n);
long posta__imap_st_lit_lf(posta_imap_parser *p, const unsigned char *s, size_t n);
long posta__imap_st_lit_inline(posta_imap_parser *p, const unsigned char *s, size_t n);
long posta__imap_st_lit_stream(posta_imap_parser *p, const unsigned char *s, size_t n);
long posta__imap_st_eol_lf(posta_imap_parser *p, const unsigned char *s, size_t n);

/* Move the top-level nodes into the arena as the response's arguments;
 * EPROTO when a list is still open.  i is for the error's offset. */
long posta__imap_args_collect(posta_imap_parser *p, const posta_imap_arg **args_r, size_t *n_r,
                              size_t i);
/* Finish the token in progress at the end of a code's arguments (which
 * have no line end of their own), then collect them.  EPROTO when the
 * arguments do not close. */
long posta__imap_args_end(posta_imap_parser *p, const posta_imap_arg **args_r, size_t *n_r);
/* Forget the tree being built (between responses). */
void posta__imap_args_reset(posta_imap_parser *p);

#endif
