/* The sans-I/O IMAP command writer: printf-like formatting in the Cyrus
 * imclient model, producing a command as pieces for the connection driver. */
#ifndef POSTA_IMAP_WRITER_H
#define POSTA_IMAP_WRITER_H

#include <stdarg.h>

#include <posta/common.h>
#include <posta/error.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * A command is formatted once, completely and with every argument checked,
 * by posta_imap_cmd_new(); nothing is sent yet, so a refused argument never
 * leaves half a command on the wire.  The driver then walks the command
 * with posta_imap_cmd_next(), which hands out pieces in order:
 *
 *   BYTES   send these bytes;
 *   WAIT    a synchronizing literal follows: wait for the server's "+"
 *           continuation before going on (a tagged NO/BAD instead ends the
 *           command: stop and free it);
 *   SOURCE  send exactly `size` octets pulled with posta_imap_cmd_read()
 *           from the caller's literal source, in chunks;
 *   END     the command, CRLF included, has been handed out.
 *
 * The writer never does I/O and keeps no reference to the writer handle
 * after posta_imap_cmd_new() returns.
 *
 * The line guarantee: outside literal data, the bytes produced never hold
 * CR, LF or NUL, except the CRLF that ends a literal header ("{5}\r\n") and
 * the CRLF that ends the command.  Every argument is written as an atom, a
 * quoted string or a literal as its bytes require, or refused with
 * POSTA_EINVAL and a sentence in posta_imap_writer_errmsg().
 *
 * Conversions (a "%" in fmt followed by):
 *
 *   %%    a "%".
 *   %a    atom: const char *.  Must be 1*ATOM-CHAR (printable US-ASCII
 *         except SP ( ) { % * " \ ]); anything else is refused.  For
 *         command names, keywords, FETCH/SEARCH/STATUS item names without
 *         brackets.
 *   %F    flag: const char *.  A flag as in STORE and APPEND: "\" atom
 *         (\Seen, \Deleted) or a keyword atom ($Forwarded).  Anything else
 *         is refused.  Which system flags a server accepts is its business.
 *   %s    astring: const char *, NUL-terminated, UTF-8 or any bytes.
 *         Written as
 *           - an atom when every byte is an ATOM-CHAR, it is no longer than
 *             max_quoted octets, and it is not "NIL" in any case (so it
 *             also reads right where the grammar says nstring);
 *           - else a quoted string, "\" escaping "\"" and "\\", when it is no
 *             longer than max_quoted octets and holds no CR or LF, and no
 *             8-bit bytes unless POSTA_IMAP_WRITER_UTF8 is set and the
 *             string is valid UTF-8;
 *           - else a literal ({n} style chosen by the capability flags, see
 *             below).  The empty string is "".
 *   %p    secret astring (password, token): exactly like %s on the wire;
 *         in the redacted rendering (posta_imap_cmd_render with
 *         POSTA_IMAP_RENDER_REDACT) the whole argument, literal header
 *         included, shows as "<omitted>".
 *   %m    mailbox name: const char *, UTF-8.  Refused unless valid UTF-8.
 *         Without POSTA_IMAP_WRITER_UTF8 it is encoded to modified UTF-7
 *         (posta_mutf7_encode()) and written as an astring; with it, sent as
 *         UTF-8, an astring by the rules of %s (quoted UTF-8, or a literal
 *         when long or holding CR/LF).  "INBOX" in any case is sent as given.  A name taken from
 *         a LIST response is already on the wire form: send that with %s.
 *   %v    vector of astrings: const char *const * (a char ** works too),
 *         NULL-terminated; each element as %s, separated by one space;
 *         nothing at all for an empty vector (imclient's %v).
 *   %S    sequence set: const char *, checked against the RFC 9051 grammar:
 *         nz-number / "*" / ranges "a:b", comma-separated, or "$" (the
 *         saved search result, RFC 5182); numbers 1..4294967295, no spaces.
 *   %d    int, %ld long, %lld long long, in decimal.
 *   %u    unsigned, %lu unsigned long, %llu unsigned long long, %zu size_t,
 *         in decimal.  PRIu64 from <inttypes.h> works (it is "lu" or
 *         "llu"), e.g. for MODSEQ values.
 *   %L    literal: const posta_imap_literal *, see below.  Written as a
 *         literal whatever its content; the struct is copied, its buffer or
 *         source is used while the command is being sent.
 *
 *   ".*" may precede s, p, m, a and F: the argument is then an int length
 *   followed by the pointer, and the bytes may hold NUL, which is refused
 *   (use %L with POSTA_IMAP_LITERAL_BINARY for binary data).  Any other
 *   flag, width or length modifier, and any other conversion character, is
 *   refused with POSTA_EINVAL.  C cannot check the argument list against
 *   fmt: a missing argument or one of the wrong type is undefined
 *   behaviour, as for printf.
 *
 *   The text of fmt outside conversions must be printable US-ASCII
 *   (0x20-0x7e); it must not end in something that reads as a literal
 *   header ("{5}", also when made of text and arguments); and after a tag
 *   the command must not be empty.
 *
 * Literal styles (RFC 9051 section 4.3, RFC 7888, RFC 3516), chosen from
 * the capability flags for each literal of n octets:
 *
 *   no flag                     "{n}\r\n", WAIT, data  (synchronizing)
 *   LITERALPLUS                 "{n+}\r\n", data       (any size)
 *   LITERALMINUS, n <= 4096     "{n+}\r\n", data
 *   LITERALMINUS, n > 4096      "{n}\r\n", WAIT, data
 *   binary (%L with POSTA_IMAP_LITERAL_BINARY, needs POSTA_IMAP_WRITER_BINARY):
 *                               "~{n}" or "~{n+}" by the same rules.
 *
 * A literal's size is counted in octets and must not exceed 2^63-1.
 */

/* Capability flags: what the server announced or the client enabled. */
enum {
    POSTA_IMAP_WRITER_LITERALPLUS = 1 << 0,  /* LITERAL+ (RFC 7888) */
    POSTA_IMAP_WRITER_LITERALMINUS = 1 << 1, /* LITERAL- (RFC 7888), part of IMAP4rev2 */
    POSTA_IMAP_WRITER_BINARY = 1 << 2,       /* BINARY (RFC 3516), part of IMAP4rev2:
                                                literal8 allowed */
    POSTA_IMAP_WRITER_UTF8 = 1 << 3          /* UTF8=ACCEPT enabled (RFC 6855) or
                                                IMAP4rev2 selected: quoted strings may
                                                hold UTF-8, mailbox names are UTF-8 */
};

typedef struct posta_imap_writer_opts {
    unsigned caps;       /* POSTA_IMAP_WRITER_* flags */
    size_t max_quoted;   /* longest string written quoted, in octets; longer ones go as
                            literals.  0 means 1024. */
    size_t max_command;  /* most octets one command may hold in memory (the bytes
                            posta_imap_cmd_new copies; %L buffers and sources are not
                            counted).  0 means 64 MiB.  Larger strings are refused:
                            send big data with %L. */
} posta_imap_writer_opts;

typedef struct posta_imap_writer posta_imap_writer;
typedef struct posta_imap_cmd posta_imap_cmd;

/* Literal flags. */
enum {
    POSTA_IMAP_LITERAL_BINARY = 1 << 0, /* literal8 "~{n}": data may hold NUL; needs
                                           POSTA_IMAP_WRITER_BINARY, else POSTA_EUNSUPPORTED */
    POSTA_IMAP_LITERAL_SECRET = 1 << 1  /* shown as "<omitted>" when rendered redacted */
};

/*
 * Pull up to cap octets of literal data into buf.  Returns how many were
 * written (1..cap), 0 at the end of the data, POSTA_EAGAIN when none are
 * available yet (the driver calls posta_imap_cmd_read again later), or
 * another negative posta_error to abort.  The writer never asks for more
 * than the literal still needs; the source must deliver exactly `size`
 * octets in all.  cmd is the command being sent.
 */
typedef long (*posta_imap_source_fn)(posta_imap_cmd *cmd, void *buf, size_t cap, void *user);

/* The argument of %L.  Either data (size octets, which must stay valid and
 * unchanged until the command is freed or has returned END) or read + user. */
typedef struct posta_imap_literal {
    uint64_t size;             /* exact length in octets */
    const void *data;          /* the octets, or NULL to use read */
    posta_imap_source_fn read; /* used when data is NULL */
    void *user;                /* passed to read */
    unsigned flags;            /* POSTA_IMAP_LITERAL_* */
} posta_imap_literal;

typedef enum posta_imap_piece_kind {
    POSTA_IMAP_PIECE_END = 0,
    POSTA_IMAP_PIECE_BYTES,  /* send data[0 .. len) */
    POSTA_IMAP_PIECE_WAIT,   /* wait for a "+" continuation request */
    POSTA_IMAP_PIECE_SOURCE  /* send size octets read with posta_imap_cmd_read() */
} posta_imap_piece_kind;

typedef struct posta_imap_piece {
    posta_imap_piece_kind kind;
    const unsigned char *data; /* BYTES: valid until the next call on the command */
    size_t len;                /* BYTES */
    uint64_t size;             /* SOURCE: octets to pull */
} posta_imap_piece;

/* --- the writer: options and the last error ----------------------------- */

/* Create a writer.  opts is copied and may be NULL for the defaults (no
 * capabilities: synchronizing literals, mailbox names in modified UTF-7).
 * Returns 0, POSTA_EINVAL or POSTA_ENOMEM. */
POSTA_API int posta_imap_writer_new(posta_imap_writer **w_r, const posta_imap_writer_opts *opts);
/* NULL-safe.  Commands already made stay valid. */
POSTA_API void posta_imap_writer_free(posta_imap_writer *w);

/* Replace the capability flags, e.g. after CAPABILITY or ENABLE UTF8=ACCEPT;
 * used by the commands made afterwards. */
POSTA_API void posta_imap_writer_set_caps(posta_imap_writer *w, unsigned caps);
POSTA_API unsigned posta_imap_writer_caps(const posta_imap_writer *w);

/* The sentence for the last failed posta_imap_cmd_new(), e.g. "%s argument 2
 * holds a NUL byte at offset 3"; never NULL. */
POSTA_API const char *posta_imap_writer_errmsg(const posta_imap_writer *w);

/* --- commands --------------------------------------------------------------- */

/*
 * Format one command: tag, a space, fmt with its arguments, CRLF.  tag must
 * be a valid IMAP tag (1*ASTRING-CHAR without "+"), or NULL for a line
 * without a tag (a SASL response, "DONE" ending IDLE).  Arguments are
 * copied except %L buffers and sources, which must outlive the command.
 * *cmd_r receives the command, owned by the caller (posta_imap_cmd_free).
 * Returns 0; POSTA_EINVAL (bad tag, format or argument: see
 * posta_imap_writer_errmsg), POSTA_EUNSUPPORTED (a binary literal without
 * POSTA_IMAP_WRITER_BINARY) or POSTA_ENOMEM.  On failure *cmd_r is NULL.
 */
POSTA_API int posta_imap_cmd_new(posta_imap_writer *w, posta_imap_cmd **cmd_r,
                                 const char *tag, const char *fmt, ...);
POSTA_API int posta_imap_cmd_vnew(posta_imap_writer *w, posta_imap_cmd **cmd_r,
                                  const char *tag, const char *fmt, va_list ap);

/* NULL-safe. */
POSTA_API void posta_imap_cmd_free(posta_imap_cmd *cmd);

/*
 * The next piece to send, into *piece.  Returns 0, or POSTA_ESTATE when
 * called before a SOURCE piece has been read completely.  After END it
 * keeps returning END.
 */
POSTA_API int posta_imap_cmd_next(posta_imap_cmd *cmd, posta_imap_piece *piece);

/*
 * During a SOURCE piece: pull up to cap octets of its data into buf.
 * Returns the number of octets (> 0), 0 when the piece is complete (call
 * posta_imap_cmd_next), POSTA_EAGAIN when the source has nothing yet, or a
 * negative error: the source's own, or POSTA_EINVAL when the source ended
 * early, gave more than asked, or gave a NUL byte to a literal that is not
 * binary (see posta_imap_cmd_errmsg).  After such an error the command is
 * half sent and the connection cannot be used for more commands.
 * POSTA_ESTATE when no SOURCE piece is current.
 */
POSTA_API long posta_imap_cmd_read(posta_imap_cmd *cmd, void *buf, size_t cap);

/* The sentence for the command's last error; never NULL. */
POSTA_API const char *posta_imap_cmd_errmsg(const posta_imap_cmd *cmd);

/* Rendering flags. */
enum {
    POSTA_IMAP_RENDER_REDACT = 1 << 0, /* %p arguments and SECRET literals become "<omitted>" */
    POSTA_IMAP_RENDER_ELIDE = 1 << 1   /* the data of every %L literal becomes "<N octets>" */
};

/*
 * The whole command as one malloc'd buffer (NUL-terminated, the NUL not
 * counted in *len_r; free with free(3)), continuation points left out:
 * with flags 0, the exact bytes that would be sent; for logs, use REDACT
 * and ELIDE.  Independent of the piece iteration.  Returns 0, POSTA_EINVAL
 * when a literal comes from a source and ELIDE is not given, or
 * POSTA_ENOMEM.
 */
POSTA_API int posta_imap_cmd_render(const posta_imap_cmd *cmd, unsigned flags,
                                    char **text_r, size_t *len_r);

#ifdef __cplusplus
}
#endif
#endif
