/* The sans-I/O IMAP response parser: bytes in, parsed responses out. */
#ifndef POSTA_IMAP_PARSER_H
#define POSTA_IMAP_PARSER_H

#include <posta/common.h>
#include <posta/error.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The parser reads what an IMAP server sends (RFC 9051, RFC 3501 and
 * extensions) incrementally: feed it bytes as they arrive, split anywhere,
 * and it calls on_response once per complete response.  It never does I/O.
 *
 * A response is handed over as a generic tree of posta_imap_arg nodes that
 * lives in a per-response arena: valid only during the on_response callback
 * (copy what you keep); the arena is reset for the next response, so common
 * paths allocate nothing per token.  Strings are (pointer, length), may hold
 * NUL, and are also NUL-terminated for convenience.
 *
 * Literals ({n} and literal8 ~{n}) up to limits.inline_literal bytes are kept
 * inline in the tree.  Larger ones are streamed: on_literal_begin is called
 * with the context (message number, FETCH item name), then on_literal_data
 * with chunks as they arrive, then on_literal_end; the tree then holds a
 * POSTA_IMAP_ARG_LITERAL_STREAMED node carrying only the size.  Memory stays
 * bounded by the limits whatever the literal's size (2 GiB and more).
 */

typedef enum posta_imap_arg_type {
    POSTA_IMAP_ARG_NIL = 0,
    POSTA_IMAP_ARG_ATOM,     /* atoms, numbers, flags (\Seen, \*), and FETCH item
                                names with their section and partial, e.g.
                                "BODY[HEADER.FIELDS (From To)]<0>", as one atom */
    POSTA_IMAP_ARG_STRING,   /* quoted string, unescaped */
    POSTA_IMAP_ARG_LITERAL,  /* literal kept inline; literal8 says ~{n} */
    POSTA_IMAP_ARG_LITERAL_STREAMED, /* literal sent to the sink; only .size is set */
    POSTA_IMAP_ARG_LIST      /* parenthesized list; children in .list[0 .. count) */
} posta_imap_arg_type;

typedef struct posta_imap_arg {
    posta_imap_arg_type type;
    const char *str;   /* ATOM, STRING, LITERAL: the bytes (NUL-terminated) */
    size_t len;        /* their length */
    uint64_t size;     /* LITERAL, LITERAL_STREAMED: the literal's size */
    int literal8;      /* LITERAL*: nonzero for ~{n} */
    const struct posta_imap_arg *list; /* LIST: the children */
    size_t count;      /* LIST: how many */
} posta_imap_arg;

typedef enum posta_imap_resp_kind {
    POSTA_IMAP_RESP_TAGGED = 1,  /* "a001 OK ..." */
    POSTA_IMAP_RESP_UNTAGGED,    /* "* ..." */
    POSTA_IMAP_RESP_CONTINUATION /* "+ ..." */
} posta_imap_resp_kind;

typedef enum posta_imap_status {
    POSTA_IMAP_STATUS_NONE = 0,  /* not a status response (data) */
    POSTA_IMAP_STATUS_OK,
    POSTA_IMAP_STATUS_NO,
    POSTA_IMAP_STATUS_BAD,
    POSTA_IMAP_STATUS_PREAUTH,
    POSTA_IMAP_STATUS_BYE
} posta_imap_status;

typedef struct posta_imap_response {
    posta_imap_resp_kind kind;
    const char *tag;            /* TAGGED: the tag; else NULL */
    size_t tag_len;
    posta_imap_status status;   /* OK/NO/BAD/PREAUTH/BYE, or NONE for data */

    /* Status responses: the response code, e.g. "[UIDNEXT 42]" gives
     * code = "UIDNEXT" and code_args = the arguments after it, parsed
     * generically ("UIDNEXT" -> one ATOM "42").  code_raw holds the exact
     * bytes between the brackets, for codes whose arguments are not
     * well-formed IMAP (their code_args are then empty).  The code is
     * upper-cased.  NULL / 0 when there is no code. */
    const char *code;
    size_t code_len;
    const posta_imap_arg *code_args;
    size_t code_nargs;
    const char *code_raw;
    size_t code_raw_len;
    /* Status responses and continuations: the human text after the code
     * (may be empty).  For continuations this is also where base64
     * challenges appear. */
    const char *text;
    size_t text_len;

    /* Untagged data: "* 12 FETCH (...)" gives has_number = 1, number = 12,
     * keyword = "FETCH"; "* CAPABILITY ..." gives has_number = 0.  The
     * keyword is upper-cased.  args are the rest of the line. */
    int has_number;
    uint32_t number;
    const char *keyword;
    size_t keyword_len;
    const posta_imap_arg *args;
    size_t nargs;

    uint64_t offset;            /* byte offset of the response in the stream */
} posta_imap_response;

/* Limits fixed at creation.  Zero fields take the defaults shown. */
typedef struct posta_imap_limits {
    size_t max_line;        /* bytes of one response outside literal data (all
                               its lines, CRLF included): 1 MiB */
    size_t inline_literal;  /* literals larger than this (or than max_item)
                               are streamed: 64 KiB */
    size_t max_item;        /* any single non-streamed string or atom: 1 MiB */
    size_t max_depth;       /* list nesting depth: 64 */
    size_t max_items;       /* total nodes in one response: 1,000,000 */
    size_t max_response;    /* arena bytes of one response (strings + nodes): 64 MiB */
} posta_imap_limits;

/* Where a streamed literal sits: it starts inside response number
 * (has_number) keyword (e.g. FETCH), under the item named item (e.g.
 * "BODY[1.2]<0>" or "BINARY[2]"; empty when not in a FETCH item). */
typedef struct posta_imap_literal_info {
    int has_number;
    uint32_t number;
    const char *keyword;
    size_t keyword_len;
    const char *item;
    size_t item_len;
    uint64_t size;
    int literal8;
    uint64_t offset;  /* byte offset of the literal's first data byte */
} posta_imap_literal_info;

typedef struct posta_imap_parser posta_imap_parser;

typedef struct posta_imap_parser_callbacks {
    /* One complete response; resp and everything it points to live until
     * the callback returns.  Return 0 to go on, or a negative posta_error to
     * stop: posta_imap_parser_feed() then returns that error. */
    int (*on_response)(posta_imap_parser *p, const posta_imap_response *resp, void *user);
    /* A streamed literal begins / continues / ends.  Optional: when NULL
     * the data is discarded (and only the size reported in the tree).
     * Return 0 or a negative posta_error to stop. */
    int (*on_literal_begin)(posta_imap_parser *p, const posta_imap_literal_info *info, void *user);
    int (*on_literal_data)(posta_imap_parser *p, const void *data, size_t len, void *user);
    int (*on_literal_end)(posta_imap_parser *p, void *user);
} posta_imap_parser_callbacks;

/* Create a parser.  callbacks are copied; user is passed to each; limits
 * may be NULL for the defaults.  Returns 0, POSTA_EINVAL or POSTA_ENOMEM. */
POSTA_API int posta_imap_parser_new(posta_imap_parser **p_r,
                                    const posta_imap_parser_callbacks *callbacks,
                                    const posta_imap_limits *limits, void *user);
/* NULL-safe. */
POSTA_API void posta_imap_parser_free(posta_imap_parser *p);

/*
 * Feed len bytes.  Returns len when every byte was consumed, or a negative
 * error: POSTA_EPROTO (malformed input) or POSTA_ELIMIT (a limit crossed),
 * after which the parser is unusable and posta_imap_parser_errmsg() says
 * what and at which byte offset, e.g. "IMAP protocol error at byte 1234:
 * literal size 99999999999999999999 overflows".
 *
 * A callback returning a negative error stops the parser and feed returns
 * that error, except POSTA_EAGAIN, which pauses: feed returns the number of
 * bytes consumed so far (up to the end of the response or chunk just
 * delivered) and the caller feeds the rest later.  A callback may free the
 * parser: feed then returns POSTA_ECANCELED without touching it again.
 * Calling feed from inside a callback returns POSTA_ESTATE.
 */
POSTA_API long posta_imap_parser_feed(posta_imap_parser *p, const void *data, size_t len);

/* The sentence for the last error; never NULL. */
POSTA_API const char *posta_imap_parser_errmsg(const posta_imap_parser *p);

/* Total bytes consumed so far (the stream offset); after an error, the
 * offset the error sentence names, however the input was split. */
POSTA_API uint64_t posta_imap_parser_offset(const posta_imap_parser *p);

/* Nonzero when the parser is between responses (no partial response held). */
POSTA_API int posta_imap_parser_idle(const posta_imap_parser *p);

#ifdef __cplusplus
}
#endif
#endif
