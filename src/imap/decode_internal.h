/* Internal pieces shared by the typed IMAP decoders: the decoder handle with
 * its arena, and helpers that read the parser's generic tree. */
#ifndef POSTA_IMAP_DECODE_INTERNAL_H
#define POSTA_IMAP_DECODE_INTERNAL_H

#include <posta/imap_data.h>

#include "util.h"

/* Nesting cap for the recursive decoders (BODYSTRUCTURE, THREAD): the
 * parser caps depth too, but trees can be built by other means and the
 * C stack must never be the limit. */
#define POSTA_IMAPD_MAX_DEPTH 256

struct posta__imapd_block;

struct posta_imap_decoder {
    unsigned flags;
    size_t limit;          /* cap on block bytes held */
    size_t held;           /* block bytes held now */
    struct posta__imapd_block *blocks;  /* newest first */
    unsigned depth;        /* current recursion depth */
    long fail_after;       /* test hook: allocations before failing, -1 never */
    struct posta_err err;
};

/* Arena allocation, zero-filled and aligned for any type.  On failure NULL,
 * with d->err set to POSTA_ENOMEM or POSTA_ELIMIT: callers return
 * d->err.code. */
void *posta__imapd_alloc(posta_imap_decoder *d, size_t size);
/* n elements of size bytes each, overflow-checked; n == 0 gives a valid
 * non-NULL pointer so that empty arrays need no special case. */
void *posta__imapd_array(posta_imap_decoder *d, size_t n, size_t size);

/* Test hook: make the n-th arena allocation from now (0 = the next) fail
 * with POSTA_ENOMEM; -1 turns failures off.  Used by allocation-failure
 * loops in the tests. */
void posta__imap_decoder_fail_after(posta_imap_decoder *d, long n);

/* Record a protocol error sentence and return POSTA_EPROTO. */
int posta__imapd_proto(posta_imap_decoder *d, const char *fmt, ...) POSTA_PRINTF(2, 3);
/* Same with another code. */
int posta__imapd_fail(posta_imap_decoder *d, int code, const char *fmt, ...) POSTA_PRINTF(3, 4);

/* Up to 48 bytes of s as printable text for error sentences (control and
 * 8-bit bytes as \xNN, "..." when cut), NUL-terminated in buf. */
#define POSTA_IMAPD_SHOW 200
const char *posta__imapd_show(const char *s, size_t len, char buf[POSTA_IMAPD_SHOW]);
/* The same for an argument node: its text, or "(list)", "NIL", "{n}". */
const char *posta__imapd_show_arg(const posta_imap_arg *a, char buf[POSTA_IMAPD_SHOW]);

/* --- reading the tree -------------------------------------------------- */

static inline int posta__imapd_is_list(const posta_imap_arg *a)
{
    return a && a->type == POSTA_IMAP_ARG_LIST;
}
static inline int posta__imapd_is_nil(const posta_imap_arg *a)
{
    return a && a->type == POSTA_IMAP_ARG_NIL;
}
/* ATOM, STRING or inline LITERAL: something with bytes. */
static inline int posta__imapd_is_text(const posta_imap_arg *a)
{
    return a && (a->type == POSTA_IMAP_ARG_ATOM || a->type == POSTA_IMAP_ARG_STRING ||
                 a->type == POSTA_IMAP_ARG_LITERAL);
}
/* Any string-like node: text, NIL or a streamed literal. */
static inline int posta__imapd_is_stringish(const posta_imap_arg *a)
{
    return a && a->type != POSTA_IMAP_ARG_LIST;
}

static inline char posta__imapd_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

/* ASCII case-insensitive comparison of (s, len) with the C string lit. */
int posta__imapd_eq(const char *s, size_t len, const char *lit);
/* The node is text equal to lit, ignoring case. */
int posta__imapd_arg_eq(const posta_imap_arg *a, const char *lit);

/* nstring: NIL gives {NULL, 0}; a streamed literal gives "" (the data went
 * to the sink); text gives its bytes, copied when the decoder copies.  A
 * list is POSTA_EPROTO with what in the sentence. */
int posta__imapd_nstring(posta_imap_decoder *d, const posta_imap_arg *a, const char *what,
                         posta_imap_str *out);
/* astring: as nstring, but an unquoted NIL is the text "NIL". */
int posta__imapd_astring(posta_imap_decoder *d, const posta_imap_arg *a, const char *what,
                         posta_imap_str *out);
/* Tolerant nstring for BODYSTRUCTURE fields: a list or anything odd gives
 * NIL instead of an error.  Fails only when a copy cannot be allocated. */
int posta__imapd_nstring_lax(posta_imap_decoder *d, const posta_imap_arg *a,
                             posta_imap_str *out);
/* Copy (s, len) into the arena (NUL-terminated). */
int posta__imapd_copy(posta_imap_decoder *d, const char *s, size_t len, posta_imap_str *out);
/* Point out at (s, len), copying when the decoder copies strings. */
int posta__imapd_ref(posta_imap_decoder *d, const char *s, size_t len, posta_imap_str *out);

/* Numbers from digits only (atom or quoted string): 0 on success, -1 when
 * the node is not 1*DIGIT or the value exceeds max. */
int posta__imapd_u64(const posta_imap_arg *a, uint64_t max, uint64_t *n_r);
int posta__imapd_digits(const char *s, size_t len, uint64_t max, uint64_t *n_r);
/* Checked decoders that record "<what>: ... is not a number" sentences:
 * number (0 .. 2^32-1), nz-number (1 .. 2^32-1), number64 and mod-sequence
 * values (0 .. 2^63-1). */
int posta__imapd_number(posta_imap_decoder *d, const posta_imap_arg *a, const char *what,
                        uint32_t *n_r);
int posta__imapd_nz_number(posta_imap_decoder *d, const posta_imap_arg *a, const char *what,
                           uint32_t *n_r);
int posta__imapd_number64(posta_imap_decoder *d, const posta_imap_arg *a, const char *what,
                          uint64_t *n_r);

/* A mailbox name (astring) decoded per the decoder's UTF8 option. */
int posta__imapd_mailbox(posta_imap_decoder *d, const posta_imap_arg *a, const char *what,
                         posta_imap_mailbox_name *out);
/* The same from bytes already in hand. */
int posta__imapd_mailbox_bytes(posta_imap_decoder *d, const char *s, size_t len,
                               posta_imap_mailbox_name *out);
/* A hierarchy delimiter: QUOTED-CHAR or NIL ("" tolerated as NIL). */
int posta__imapd_delimiter(posta_imap_decoder *d, const posta_imap_arg *a, const char *what,
                           char *out);

/* A flag list "(" [flag *(SP flag)] ")": attrs selects mailbox attribute
 * bits instead of message flag bits.  NIL and "" are tolerated as (). */
int posta__imapd_flag_list(posta_imap_decoder *d, const posta_imap_arg *a, const char *what,
                           int attrs, posta_imap_flagset *out);

/* A response's keyword check: r is untagged data with this keyword (and a
 * number when numbered), else POSTA_EINVAL with a sentence. */
int posta__imapd_expect(posta_imap_decoder *d, const posta_imap_response *r,
                        const char *keyword, int numbered);

/* Common start of every decoder: reject NULL arguments, zero *out. */
#define POSTA_IMAPD_BEGIN(d, x, out) do { \
        if (!(d)) return POSTA_EINVAL; \
        if (!(x) || !(out)) \
            return posta__imapd_fail((d), POSTA_EINVAL, "%s: NULL argument", __func__); \
        memset((out), 0, sizeof(*(out))); \
        posta__err_clear(&(d)->err); \
    } while (0)

/* Seq-set parsing shared with ESEARCH PARTIAL. */
int posta__imapd_seqset_arg(posta_imap_decoder *d, const posta_imap_arg *a, const char *what,
                            posta_imap_seqset *out);

#endif
