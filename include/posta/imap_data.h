/* Typed decoders for IMAP responses: capabilities, response codes, sequence
 * sets, FETCH, LIST, STATUS, SEARCH and the rest, read from the parser's
 * generic tree. */
#ifndef POSTA_IMAP_DATA_H
#define POSTA_IMAP_DATA_H

#include <time.h>

#include <posta/common.h>
#include <posta/error.h>
#include <posta/imap_parser.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * How to use these decoders
 * -------------------------
 * The parser (posta/imap_parser.h) hands each response over as a generic
 * tree of posta_imap_arg nodes.  The functions here turn one response, or
 * one node of it, into C structs: posta_imap_decode_fetch() for
 * "* 12 FETCH (...)", posta_imap_decode_list() for "* LIST ...", and so on.
 * posta_imap_data_type_of() says which decoder fits a response.
 *
 * Every decoder takes a posta_imap_decoder, a small handle that owns:
 *   - an arena from which the arrays and trees of the results are
 *     allocated (address lists, BODYSTRUCTURE, flag arrays, thread trees,
 *     sequence set ranges, decoded mailbox names);
 *   - the sentence describing the last error (posta_imap_decoder_errmsg());
 *   - options: whether mailbox names are UTF-8 (UTF8=ACCEPT enabled) or
 *     modified UTF-7, and whether strings are copied out of the tree.
 *
 * Lifetime.  Results point into two places:
 *   - into the parser's tree (strings, generic nodes), valid only during
 *     the parser's on_response callback, unless POSTA_IMAP_DECODE_COPY is
 *     set, in which case every string is copied into the arena;
 *   - into the decoder's arena, valid until posta_imap_decoder_reset() or
 *     posta_imap_decoder_free().
 * So by default a result is usable until the earlier of the callback's
 * return and the next reset; copy what you keep.  The arena is not reset
 * by the decoders themselves: results of several decoders on one response
 * can be used together.  Call posta_imap_decoder_reset() once per response
 * (e.g. first thing in on_response); the arena has a byte cap and crossing
 * it is POSTA_ELIMIT, so a forgotten reset is reported, not a leak.
 *
 * Strings are posta_imap_str: (pointer, length); they may hold NUL bytes
 * and are also NUL-terminated.  A NIL in the response gives ptr == NULL,
 * len == 0; an empty string gives ptr == "" (non-NULL), len == 0.  Where the
 * RFC allows an astring (mailbox names, flags, rights), an unquoted NIL is
 * the three letters "NIL".
 *
 * Memory.  Decoding never needs a whole message: literals the parser
 * streamed (POSTA_IMAP_ARG_LITERAL_STREAMED) are reported by their size
 * (posta_imap_section.streamed); elsewhere (a huge subject, a huge
 * metadata value) a streamed literal decodes as an empty string.
 *
 * Errors.  Each decoder returns 0 or a negative posta_error:
 *   POSTA_EINVAL  the response is not of the kind the decoder reads (a LIST
 *                 decoder given a FETCH), or a NULL argument;
 *   POSTA_EPROTO  the tree does not have the shape the RFC gives, beyond the
 *                 quirks of real servers that are tolerated (listed at each
 *                 decoder), or a number is out of its range;
 *   POSTA_ENOMEM  an allocation failed;
 *   POSTA_ELIMIT  the arena's byte cap, or the nesting depth cap (256
 *                 levels of BODYSTRUCTURE or THREAD), was crossed.
 * posta_imap_decoder_errmsg() then says what and where, e.g. "FETCH
 * INTERNALDATE: \"32-Jul-1996 02:44:25 -0700\" is not a date-time".  On
 * error the output struct is left zeroed or partially filled: do not use it.
 *
 * Threads: a decoder is used by one thread at a time.
 */

/* --- the decoder handle ------------------------------------------------- */

typedef struct posta_imap_decoder posta_imap_decoder;

/* Option bits for posta_imap_decoder_new() and _set_flags(). */
enum {
    /* Mailbox names are UTF-8 (the client enabled UTF8=ACCEPT, RFC 9051
     * IMAP4rev2 or RFC 6855): they are not decoded from modified UTF-7. */
    POSTA_IMAP_DECODE_UTF8 = 1u << 0,
    /* Copy every string into the arena, so results stay valid after the
     * parser callback returns (until reset/free).  Costs a copy per string;
     * streamed literals are still only reported by size, and the generic
     * nodes handed out as such (posta_imap_item.value,
     * posta_imap_body.extensions) still point into the tree. */
    POSTA_IMAP_DECODE_COPY = 1u << 1
};

/* The default arena cap: 64 MiB, the parser's default max_response. */
#define POSTA_IMAP_DECODER_DEFAULT_LIMIT ((size_t)64 << 20)

/*
 * Create a decoder with the option bits flags and an arena capped at
 * max_bytes (0 for POSTA_IMAP_DECODER_DEFAULT_LIMIT).  *d_r receives a
 * handle owned by the caller, released with posta_imap_decoder_free().
 * Returns 0, POSTA_EINVAL (d_r NULL) or POSTA_ENOMEM.
 */
POSTA_API int posta_imap_decoder_new(posta_imap_decoder **d_r, unsigned flags,
                                     size_t max_bytes);

/* Free the decoder and everything decoded with it.  NULL is accepted. */
POSTA_API void posta_imap_decoder_free(posta_imap_decoder *d);

/* Release everything decoded so far (results become invalid) and clear the
 * last error.  One block of memory is kept for reuse, so a decoder reset
 * per response allocates nothing in the common case. */
POSTA_API void posta_imap_decoder_reset(posta_imap_decoder *d);

/* Replace the option bits (POSTA_IMAP_DECODE_*); takes effect from the next
 * decoder call, e.g. right after "* ENABLED UTF8=ACCEPT". */
POSTA_API void posta_imap_decoder_set_flags(posta_imap_decoder *d, unsigned flags);
POSTA_API unsigned posta_imap_decoder_flags(const posta_imap_decoder *d);

/* Why the last decoder call on d failed (or, after posta_imap_decode_code(),
 * why a code has bad_args); "" when it succeeded.  Every decoder call starts
 * by clearing it.  The string lives until the next call on d. */
POSTA_API const char *posta_imap_decoder_errmsg(const posta_imap_decoder *d);

/* Bytes the arena holds now (blocks allocated, not only used). */
POSTA_API size_t posta_imap_decoder_memory(const posta_imap_decoder *d);

/* --- common types -------------------------------------------------------- */

typedef struct posta_imap_str {
    const char *ptr;  /* NULL for NIL; otherwise NUL-terminated */
    size_t len;
} posta_imap_str;

/* A mailbox name as the server sent it and as UTF-8.  Without
 * POSTA_IMAP_DECODE_UTF8, raw is decoded from modified UTF-7 (RFC 3501
 * 5.1.3).  Quirk tolerated: a name with 8-bit bytes that form valid UTF-8
 * (a server sending UTF-8 regardless) is taken as UTF-8.  Anything else
 * that is not modified UTF-7 ("&Jjo", "a\xff") is kept as sent with
 * undecoded = 1 (name == raw).  With POSTA_IMAP_DECODE_UTF8, undecoded = 1
 * means the name is not valid UTF-8. */
typedef struct posta_imap_mailbox_name {
    posta_imap_str name;   /* UTF-8 */
    posta_imap_str raw;    /* the bytes sent */
    int undecoded;         /* 1: raw is neither modified UTF-7 nor UTF-8 */
} posta_imap_mailbox_name;

/* An item kept generically: an unknown FETCH item, STATUS item, ESEARCH
 * return datum, LIST extended item.  value points into the tree (valid
 * during the parser callback, also with POSTA_IMAP_DECODE_COPY) and may be
 * NULL when the item had no value. */
typedef struct posta_imap_item {
    posta_imap_str name;
    const posta_imap_arg *value;
} posta_imap_item;

/* --- which decoder fits a response --------------------------------------- */

typedef enum posta_imap_data_type {
    POSTA_IMAP_DATA_OTHER = 0,     /* unknown keyword: no typed decoder */
    POSTA_IMAP_DATA_CONDITION,     /* OK/NO/BAD/PREAUTH/BYE, tagged or not:
                                      posta_imap_decode_code() */
    POSTA_IMAP_DATA_CONTINUATION,  /* "+ ...": code and text as for CONDITION */
    POSTA_IMAP_DATA_CAPABILITY,
    POSTA_IMAP_DATA_ENABLED,
    POSTA_IMAP_DATA_FLAGS,
    POSTA_IMAP_DATA_EXISTS,
    POSTA_IMAP_DATA_RECENT,
    POSTA_IMAP_DATA_EXPUNGE,
    POSTA_IMAP_DATA_FETCH,
    POSTA_IMAP_DATA_LIST,
    POSTA_IMAP_DATA_LSUB,
    POSTA_IMAP_DATA_STATUS,        /* "* STATUS mailbox (...)" */
    POSTA_IMAP_DATA_SEARCH,
    POSTA_IMAP_DATA_SORT,
    POSTA_IMAP_DATA_ESEARCH,
    POSTA_IMAP_DATA_THREAD,
    POSTA_IMAP_DATA_NAMESPACE,
    POSTA_IMAP_DATA_ID,
    POSTA_IMAP_DATA_VANISHED,
    POSTA_IMAP_DATA_QUOTA,
    POSTA_IMAP_DATA_QUOTAROOT,
    POSTA_IMAP_DATA_ACL,
    POSTA_IMAP_DATA_LISTRIGHTS,
    POSTA_IMAP_DATA_MYRIGHTS,
    POSTA_IMAP_DATA_METADATA
} posta_imap_data_type;

/* The kind of r, from its status, keyword and whether it is numbered; never
 * fails (POSTA_IMAP_DATA_OTHER for anything unknown). */
POSTA_API posta_imap_data_type posta_imap_data_type_of(const posta_imap_response *r);
/* "FETCH", "LIST", ... ("OTHER" for unknown values); a static string. */
POSTA_API const char *posta_imap_data_type_name(posta_imap_data_type t);

/* --- sequence sets (RFC 9051 sequence-set, uid-set, known-uids) --------- */

/* Stands for "*" (the largest number in use) in a range; message numbers
 * and UIDs are never 0. */
#define POSTA_IMAP_STAR 0u

/* first..last inclusive, normalized so that first <= last with "*" above
 * every number: "7:3" gives 3..7, "*:5" and "5:*" give 5..STAR, "*" gives
 * STAR..STAR. */
typedef struct posta_imap_range {
    uint32_t first;
    uint32_t last;
} posta_imap_range;

/* The ranges in the order sent; they may overlap (iteration then repeats
 * numbers, as the server said them).  An empty set has count 0. */
typedef struct posta_imap_seqset {
    const posta_imap_range *ranges;  /* in the arena */
    size_t count;
} posta_imap_seqset;

/*
 * Parse a sequence set: sequence-set = (seq-number / seq-range) ["," sequence-set];
 * seq-number = nz-number / "*"; seq-range = seq-number ":" seq-number.
 * Also reads the forms of ESEARCH ALL, COPYUID/APPENDUID uid-set and
 * VANISHED known-uids, which are the same grammar without "*".  The ranges
 * go to the arena.  Numbers must be 1 .. 4294967295: 0, a number above
 * 2^32-1 ("sequence number 4294967296 is above 2^32-1"), an empty element
 * or any other character is POSTA_EPROTO.  len 0 is POSTA_EPROTO too.
 */
POSTA_API int posta_imap_seqset_parse(posta_imap_decoder *d, const char *s, size_t len,
                                      posta_imap_seqset *set_r);

/* Iteration over the numbers of a set, "*" replaced by largest (e.g. the
 * EXISTS count or UIDNEXT-1; a range whose bounds are both above largest
 * after that is skipped).  The struct is public only so that it can live
 * on the stack; its fields are private. */
typedef struct posta_imap_seqset_iter {
    const posta_imap_seqset *set;
    uint32_t largest;
    size_t i;
    uint64_t next;
} posta_imap_seqset_iter;

/* Start iterating set (which must outlive the iteration). */
POSTA_API void posta_imap_seqset_iter_init(posta_imap_seqset_iter *it,
                                           const posta_imap_seqset *set, uint32_t largest);
/* Store the next number in *n_r and return 1, or return 0 at the end. */
POSTA_API int posta_imap_seqset_next(posta_imap_seqset_iter *it, uint32_t *n_r);
/* How many numbers iteration would give (overlaps counted twice). */
POSTA_API uint64_t posta_imap_seqset_count(const posta_imap_seqset *set, uint32_t largest);
/* 1 when n is in the set ("*" meaning largest), else 0. */
POSTA_API int posta_imap_seqset_contains(const posta_imap_seqset *set, uint32_t n,
                                         uint32_t largest);

/* --- flags ---------------------------------------------------------------- */

/* Bits for posta_imap_flagset.bits on message flags (FLAGS, FETCH FLAGS,
 * PERMANENTFLAGS); case-insensitive matches of the system flags. */
enum {
    POSTA_IMAP_FLAG_SEEN = 1u << 0,
    POSTA_IMAP_FLAG_ANSWERED = 1u << 1,
    POSTA_IMAP_FLAG_FLAGGED = 1u << 2,
    POSTA_IMAP_FLAG_DELETED = 1u << 3,
    POSTA_IMAP_FLAG_DRAFT = 1u << 4,
    POSTA_IMAP_FLAG_RECENT = 1u << 5,
    POSTA_IMAP_FLAG_ANY = 1u << 6    /* "\*": new keywords may be created */
};

/* Bits for posta_imap_flagset.bits on mailbox attributes (LIST, LSUB). */
enum {
    POSTA_IMAP_ATTR_NOINFERIORS = 1u << 0,
    POSTA_IMAP_ATTR_NOSELECT = 1u << 1,
    POSTA_IMAP_ATTR_MARKED = 1u << 2,
    POSTA_IMAP_ATTR_UNMARKED = 1u << 3,
    POSTA_IMAP_ATTR_NONEXISTENT = 1u << 4,
    POSTA_IMAP_ATTR_SUBSCRIBED = 1u << 5,
    POSTA_IMAP_ATTR_REMOTE = 1u << 6,
    POSTA_IMAP_ATTR_HASCHILDREN = 1u << 7,
    POSTA_IMAP_ATTR_HASNOCHILDREN = 1u << 8,
    /* special-use, RFC 6154 (and \Important, RFC 8457) */
    POSTA_IMAP_ATTR_ALL = 1u << 9,
    POSTA_IMAP_ATTR_ARCHIVE = 1u << 10,
    POSTA_IMAP_ATTR_DRAFTS = 1u << 11,
    POSTA_IMAP_ATTR_FLAGGED = 1u << 12,
    POSTA_IMAP_ATTR_JUNK = 1u << 13,
    POSTA_IMAP_ATTR_SENT = 1u << 14,
    POSTA_IMAP_ATTR_TRASH = 1u << 15,
    POSTA_IMAP_ATTR_IMPORTANT = 1u << 16
};

/* A flag or attribute list as sent (v in the arena, strings per the
 * lifetime rules), and the bits of the well-known ones found in it. */
typedef struct posta_imap_flagset {
    const posta_imap_str *v;
    size_t count;
    unsigned bits;   /* POSTA_IMAP_FLAG_* or POSTA_IMAP_ATTR_* */
} posta_imap_flagset;

/* 1 when flags holds flag (ASCII case-insensitive, e.g. "\\Seen" or
 * "$Forwarded"), else 0. */
POSTA_API int posta_imap_flagset_has(const posta_imap_flagset *flags, const char *flag);

/* --- dates ------------------------------------------------------------------ */

/* A date-time: the instant (UTC seconds since the epoch) and the zone the
 * server wrote it in, in minutes east of UTC (-0700 gives -420). */
typedef struct posta_imap_datetime {
    time_t time;
    int zone;
} posta_imap_datetime;

/*
 * Parse an RFC 9051 date-time: DQUOTE date-day-fixed "-" date-month "-"
 * date-year SP time SP zone DQUOTE, without the quotes, e.g.
 * "17-Jul-1996 02:44:25 -0700".  Tolerated: a day of one digit without the
 * leading space, month names in any case.  Refused (POSTA_EPROTO): anything
 * else, including day 31 of a 30-day month, years before 1900 or after 9999,
 * zones beyond +-2359, leap seconds.
 */
POSTA_API int posta_imap_datetime_parse(posta_imap_decoder *d, const char *s, size_t len,
                                        posta_imap_datetime *dt_r);

/* --- CAPABILITY and ENABLED -------------------------------------------- */

/* Capability names as sent ("IMAP4rev1", "AUTH=PLAIN", "APPENDLIMIT=35000"). */
typedef struct posta_imap_capset {
    const posta_imap_str *v;
    size_t count;
} posta_imap_capset;

/*
 * Decode "* CAPABILITY ..." or the [CAPABILITY ...] code of a status
 * response (e.g. the greeting "* OK [CAPABILITY IMAP4rev1 ...] ready" or a
 * tagged OK after LOGIN).  With POSTA_IMAP_DECODE_COPY the set outlives the
 * callback, so a decoder kept for this purpose can hold a session's
 * capabilities.  Tolerated: capabilities sent as quoted strings.
 * POSTA_EINVAL when r is neither.
 */
POSTA_API int posta_imap_decode_capability(posta_imap_decoder *d, const posta_imap_response *r,
                                           posta_imap_capset *caps_r);

/* "* ENABLED CONDSTORE QRESYNC" (RFC 5161): the extensions enabled, in the
 * same struct so that posta_imap_capset_has() works on it. */
POSTA_API int posta_imap_decode_enabled(posta_imap_decoder *d, const posta_imap_response *r,
                                        posta_imap_capset *caps_r);

/* 1 when caps holds name, compared ASCII case-insensitively as a whole
 * ("IDLE", "AUTH=PLAIN"), else 0. */
POSTA_API int posta_imap_capset_has(const posta_imap_capset *caps, const char *name);

/* Values of name=value capabilities: for name "AUTH" each call stores the
 * next mechanism of AUTH=... in *value_r (pointing into caps' strings) and
 * returns 1, or returns 0 when there are no more.  *pos is the cursor:
 * set it to 0 before the first call. */
POSTA_API int posta_imap_capset_value(const posta_imap_capset *caps, const char *name,
                                            size_t *pos, posta_imap_str *value_r);

/* The number of name=n ("APPENDLIMIT=35000" for "APPENDLIMIT").  Returns 0,
 * POSTA_ENOTFOUND when there is no name=value (also for a bare
 * "APPENDLIMIT"), POSTA_EPROTO when the value is not a number below 2^64. */
POSTA_API int posta_imap_capset_number(const posta_imap_capset *caps,
                                             const char *name, uint64_t *n_r);

/* --- response codes (RFC 9051 7.1, RFC 5530 and extensions) ------------ */

typedef enum posta_imap_code_type {
    POSTA_IMAP_CODE_NONE = 0,     /* the response has no code */
    POSTA_IMAP_CODE_OTHER,        /* unknown: name and raw kept */
    POSTA_IMAP_CODE_ALERT,
    POSTA_IMAP_CODE_PARSE,
    POSTA_IMAP_CODE_BADCHARSET,   /* strings: the charsets (may be none) */
    POSTA_IMAP_CODE_CAPABILITY,   /* caps */
    POSTA_IMAP_CODE_PERMANENTFLAGS, /* flags */
    POSTA_IMAP_CODE_READ_ONLY,
    POSTA_IMAP_CODE_READ_WRITE,
    POSTA_IMAP_CODE_TRYCREATE,
    POSTA_IMAP_CODE_UIDNEXT,      /* number */
    POSTA_IMAP_CODE_UIDVALIDITY,  /* number */
    POSTA_IMAP_CODE_UNSEEN,       /* number */
    POSTA_IMAP_CODE_APPENDUID,    /* number = uidvalidity, set = the UIDs (RFC 4315) */
    POSTA_IMAP_CODE_COPYUID,      /* number = uidvalidity, set = source, set2 = dest */
    POSTA_IMAP_CODE_UIDNOTSTICKY,
    POSTA_IMAP_CODE_HIGHESTMODSEQ, /* number (RFC 7162) */
    POSTA_IMAP_CODE_NOMODSEQ,
    POSTA_IMAP_CODE_MODIFIED,     /* set */
    POSTA_IMAP_CODE_CLOSED,
    POSTA_IMAP_CODE_REFERRAL,     /* str = the IMAP URL (RFC 2221) */
    POSTA_IMAP_CODE_OVERQUOTA,
    POSTA_IMAP_CODE_AUTHENTICATIONFAILED,
    POSTA_IMAP_CODE_AUTHORIZATIONFAILED,
    POSTA_IMAP_CODE_EXPIRED,
    POSTA_IMAP_CODE_PRIVACYREQUIRED,
    POSTA_IMAP_CODE_CONTACTADMIN,
    POSTA_IMAP_CODE_NOPERM,
    POSTA_IMAP_CODE_INUSE,
    POSTA_IMAP_CODE_EXPUNGEISSUED,
    POSTA_IMAP_CODE_CORRUPTION,
    POSTA_IMAP_CODE_SERVERBUG,
    POSTA_IMAP_CODE_CLIENTBUG,
    POSTA_IMAP_CODE_CANNOT,
    POSTA_IMAP_CODE_LIMIT,
    POSTA_IMAP_CODE_ALREADYEXISTS,
    POSTA_IMAP_CODE_NONEXISTENT,
    POSTA_IMAP_CODE_UNAVAILABLE,
    POSTA_IMAP_CODE_HASCHILDREN,
    POSTA_IMAP_CODE_COMPRESSIONACTIVE,
    POSTA_IMAP_CODE_USEATTR,
    POSTA_IMAP_CODE_MAILBOXID,    /* str = the object id (RFC 8474) */
    POSTA_IMAP_CODE_METADATA_LONGENTRIES, /* number (RFC 5464) */
    POSTA_IMAP_CODE_METADATA_MAXSIZE,     /* number */
    POSTA_IMAP_CODE_METADATA_TOOMANY,
    POSTA_IMAP_CODE_METADATA_NOPRIVATE,
    POSTA_IMAP_CODE_NOTSAVED,     /* RFC 5182 */
    POSTA_IMAP_CODE_UNKNOWN_CTE   /* RFC 3516 */
} posta_imap_code_type;

/* A decoded response code.  Only the fields named beside its type in the
 * enum above are set; the others are zero. */
typedef struct posta_imap_code {
    posta_imap_code_type type;
    posta_imap_str name;     /* the code's name as sent, e.g. "UIDNEXT" */
    posta_imap_str raw;      /* the text after the name, up to "]" (may be empty) */
    /* 1 when the arguments the RFC requires were missing or malformed
     * ("[UIDNEXT]", "[UIDNEXT abc]"): the typed fields are then zero and
     * errmsg says what was wrong.  Not an error: the code's meaning (e.g.
     * TRYCREATE-like semantics) still holds. */
    int bad_args;
    uint64_t number;
    posta_imap_seqset set;
    posta_imap_seqset set2;
    posta_imap_flagset flags;
    posta_imap_capset caps;
    const posta_imap_str *strings;
    size_t nstrings;
    posta_imap_str str;
} posta_imap_code;

/*
 * Decode the response code of r (a status response or continuation).  Gives
 * type POSTA_IMAP_CODE_NONE when r has none.  Tolerated: arguments written
 * as quoted strings ("[UIDNEXT \"42\"]", "[BADCHARSET (\"UTF-8\")]"), a
 * BADCHARSET charset list without parentheses, missing or malformed
 * arguments (bad_args); the arguments are re-read from the raw text when
 * the parser could not split them.  Errors: POSTA_ENOMEM, POSTA_ELIMIT.
 */
POSTA_API int posta_imap_decode_code(posta_imap_decoder *d, const posta_imap_response *r,
                                     posta_imap_code *code_r);

/* "UIDNEXT", "READ-ONLY", "METADATA LONGENTRIES", ...; "OTHER" for OTHER,
 * "" for NONE.  A static string. */
POSTA_API const char *posta_imap_code_type_name(posta_imap_code_type t);

/* --- FLAGS, EXISTS, RECENT, EXPUNGE --------------------------------------- */

/* "* FLAGS (\Answered \Flagged \Deleted \Seen \Draft)": the flags that
 * apply in the selected mailbox.  Tolerated: NIL or "" for (). */
POSTA_API int posta_imap_decode_flags(posta_imap_decoder *d, const posta_imap_response *r,
                                      posta_imap_flagset *flags_r);

/* "* 23 EXISTS", "* 5 RECENT": the count.  "* 44 EXPUNGE": the message
 * sequence number, which must not be 0. */
POSTA_API int posta_imap_decode_exists(posta_imap_decoder *d, const posta_imap_response *r,
                                       uint32_t *n_r);
POSTA_API int posta_imap_decode_recent(posta_imap_decoder *d, const posta_imap_response *r,
                                       uint32_t *n_r);
POSTA_API int posta_imap_decode_expunge(posta_imap_decoder *d, const posta_imap_response *r,
                                        uint32_t *n_r);

/* --- ENVELOPE and BODYSTRUCTURE ------------------------------------------- */

typedef enum posta_imap_address_kind {
    POSTA_IMAP_ADDRESS_MAILBOX = 0,   /* an address */
    POSTA_IMAP_ADDRESS_GROUP_BEGIN,   /* mailbox holds the group's display name */
    POSTA_IMAP_ADDRESS_GROUP_END
} posta_imap_address_kind;

/* One entry of an address list as RFC 9051 sends it: ("name" adl "mailbox"
 * "host"), a group begin (NIL NIL "group" NIL) or a group end (NIL NIL NIL
 * NIL).  Members of a group also carry the group's name in group. */
typedef struct posta_imap_address {
    posta_imap_address_kind kind;
    posta_imap_str name;     /* display name, may be NIL (not decoded from RFC 2047) */
    posta_imap_str adl;      /* source route, normally NIL */
    posta_imap_str mailbox;  /* local part, or the group's name */
    posta_imap_str host;
    posta_imap_str group;    /* the enclosing group's name, NIL outside groups */
} posta_imap_address;

typedef struct posta_imap_address_list {
    const posta_imap_address *v;
    size_t count;            /* 0 for NIL */
} posta_imap_address_list;

/* ENVELOPE fields, as sent: header values are not decoded from RFC 2047. */
typedef struct posta_imap_envelope {
    posta_imap_str date;     /* the Date: header text */
    posta_imap_str subject;
    posta_imap_address_list from, sender, reply_to, to, cc, bcc;
    posta_imap_str in_reply_to;
    posta_imap_str message_id;
} posta_imap_envelope;

/*
 * Decode an envelope list (the value after "ENVELOPE").  *env_r points into
 * the arena.  Tolerated: "" or () where an address list or NIL is expected
 * (an empty list), NIL or "" entries inside an address list (skipped), a
 * group that is not ended.  POSTA_EPROTO: not a list of 10 fields, an
 * address that is not a list of 4.
 */
POSTA_API int posta_imap_decode_envelope_arg(posta_imap_decoder *d, const posta_imap_arg *arg,
                                             const posta_imap_envelope **env_r);

typedef struct posta_imap_param {
    posta_imap_str name;
    posta_imap_str value;
} posta_imap_param;

/*
 * One node of a BODY or BODYSTRUCTURE tree.  For a multipart node,
 * multipart = 1, type = "MULTIPART" (a static string), subtype as sent and
 * parts holds the children; a message/rfc822 (or message/global) node has
 * envelope and body (the encapsulated message); others are leaves.
 * Extension data (BODYSTRUCTURE only) is there when has_ext is 1.
 */
typedef struct posta_imap_body {
    int multipart;
    posta_imap_str type;         /* "TEXT", "image", ... as sent */
    posta_imap_str subtype;
    const posta_imap_param *params; /* body-fld-param; multipart: in the extension data */
    size_t nparams;
    posta_imap_str id;
    posta_imap_str description;
    posta_imap_str encoding;     /* "7BIT", "BASE64", ... */
    uint64_t size;               /* body-fld-octets */
    uint64_t lines;              /* TEXT and MESSAGE/RFC822: body-fld-lines, else 0 */
    const posta_imap_envelope *envelope;    /* message/rfc822, else NULL */
    const struct posta_imap_body *body;     /* message/rfc822, else NULL */
    const struct posta_imap_body *parts;    /* multipart: parts[0 .. nparts) */
    size_t nparts;
    /* The part's section for BODY[...]: "" for the top multipart, "1" for a
     * top-level leaf, "1.2" for the second part of the first, "3.1" for
     * the body of a message/rfc822 leaf at "3". */
    posta_imap_str section;
    /* extension data */
    int has_ext;
    posta_imap_str md5;          /* single part only */
    posta_imap_str disposition;  /* "inline", "attachment", or NIL */
    const posta_imap_param *disposition_params;
    size_t ndisposition_params;
    const posta_imap_str *language;
    size_t nlanguage;
    posta_imap_str location;
    const posta_imap_arg *extensions;   /* further body-extension data, generic;
                                           in the tree, also with DECODE_COPY */
    size_t nextensions;
} posta_imap_body;

/*
 * Decode a BODY or BODYSTRUCTURE value (the list after the item name) into
 * a tree in the arena.  Tolerated quirks of real servers: NIL, "" and ()
 * in place of one another in parameter lists, dispositions, languages and
 * strings; a disposition given as a bare string; a parameter list with an
 * odd element (the last is dropped); negative sizes or line counts (0) and
 * ones above 2^64-1 (clamped to UINT64_MAX); a non-number size (0);
 * multiparts with no parts ("(\"MIXED\")"), and message/rfc822 parts
 * without envelope and body (decoded as a leaf).  POSTA_EPROTO: not a list,
 * fewer fields than the RFC requires for a leaf (7, or 8 for TEXT), a nested
 * part that is not a list; POSTA_ELIMIT beyond 256 levels of nesting.
 */
POSTA_API int posta_imap_decode_body_arg(posta_imap_decoder *d, const posta_imap_arg *arg,
                                         const posta_imap_body **body_r);

/* --- FETCH --------------------------------------------------------------------- */

typedef enum posta_imap_section_kind {
    POSTA_IMAP_SECTION_BODY = 0,     /* BODY[section]<origin> */
    POSTA_IMAP_SECTION_BINARY,       /* BINARY[part]<origin> (RFC 3516) */
    POSTA_IMAP_SECTION_RFC822,       /* RFC822 (RFC 3501), i.e. BODY[] */
    POSTA_IMAP_SECTION_RFC822_HEADER,/* RFC822.HEADER, i.e. BODY[HEADER] */
    POSTA_IMAP_SECTION_RFC822_TEXT   /* RFC822.TEXT, i.e. BODY[TEXT] */
} posta_imap_section_kind;

/*
 * A body section's data.  section is the text between the brackets
 * ("1.2.HEADER.FIELDS (From To)"); it is split into part numbers
 * (part[0 .. nparts): 1, 2) and spec ("HEADER.FIELDS (From To)", "TEXT",
 * "MIME", or empty).  The data is in data, unless the parser streamed the
 * literal to its sink (streamed = 1, data empty) or the server sent NIL
 * (nil = 1); size is the data's length in all cases.
 */
typedef struct posta_imap_section {
    posta_imap_section_kind kind;
    posta_imap_str item;         /* the item name as sent, "BODY[1.2]<0>" */
    posta_imap_str section;
    const uint32_t *part;
    size_t nparts;
    posta_imap_str spec;
    int has_origin;
    uint64_t origin;             /* "<0>": the offset of the first byte */
    int nil;
    int streamed;
    int literal8;                /* sent as ~{n} */
    uint64_t size;
    posta_imap_str data;
} posta_imap_section;

/* BINARY.SIZE[part] (RFC 3516). */
typedef struct posta_imap_binary_size {
    posta_imap_str section;
    const uint32_t *part;
    size_t nparts;
    uint64_t size;
} posta_imap_binary_size;

/* Bits of posta_imap_fetch_data.present: which items the response carried. */
enum {
    POSTA_IMAP_FETCH_FLAGS = 1u << 0,
    POSTA_IMAP_FETCH_UID = 1u << 1,
    POSTA_IMAP_FETCH_INTERNALDATE = 1u << 2,
    POSTA_IMAP_FETCH_RFC822_SIZE = 1u << 3,
    POSTA_IMAP_FETCH_ENVELOPE = 1u << 4,
    POSTA_IMAP_FETCH_BODY = 1u << 5,           /* BODY (non-extensible) */
    POSTA_IMAP_FETCH_BODYSTRUCTURE = 1u << 6,
    POSTA_IMAP_FETCH_MODSEQ = 1u << 7,
    POSTA_IMAP_FETCH_EMAILID = 1u << 8,
    POSTA_IMAP_FETCH_THREADID = 1u << 9,
    POSTA_IMAP_FETCH_PREVIEW = 1u << 10,
    POSTA_IMAP_FETCH_SAVEDATE = 1u << 11,
    POSTA_IMAP_FETCH_X_GM_MSGID = 1u << 12,
    POSTA_IMAP_FETCH_X_GM_THRID = 1u << 13,
    POSTA_IMAP_FETCH_X_GM_LABELS = 1u << 14
};

/* One FETCH response.  A field is meaningful when its bit is in present;
 * sections, binary sizes and unknown items are arrays (count 0 when none).
 * Items sent twice: the last wins. */
typedef struct posta_imap_fetch_data {
    uint32_t seq;                    /* message sequence number */
    unsigned present;
    posta_imap_flagset flags;
    uint32_t uid;
    posta_imap_datetime internaldate;
    uint64_t rfc822_size;
    const posta_imap_envelope *envelope;
    const posta_imap_body *body;     /* BODY or BODYSTRUCTURE (has_ext set when sent) */
    uint64_t modseq;                 /* RFC 7162 */
    posta_imap_str emailid;          /* RFC 8474 */
    posta_imap_str threadid;         /* NIL when the server has no thread */
    posta_imap_str preview;          /* RFC 8970; NIL when none */
    int savedate_nil;                /* RFC 8514: SAVEDATE NIL */
    posta_imap_datetime savedate;
    uint64_t x_gm_msgid, x_gm_thrid; /* Gmail */
    const posta_imap_str *x_gm_labels;
    size_t nx_gm_labels;
    const posta_imap_section *sections;      /* BODY[], BINARY[], RFC822* */
    size_t nsections;
    const posta_imap_binary_size *binary_sizes;
    size_t nbinary_sizes;
    const posta_imap_item *other;            /* unknown items, in order */
    size_t nother;
} posta_imap_fetch_data;

/*
 * Decode "* n FETCH (item value ...)".  Item names are matched
 * case-insensitively.  Tolerated: PREVIEW written with the draft's
 * "(FUZZY)" modifier, UID and sizes sent as quoted strings, the quirks
 * listed at posta_imap_decode_envelope_arg() and _body_arg().
 * POSTA_EPROTO: message number 0, no item list, an item without a value, a
 * value of the wrong kind (UID 0 or above 2^32-1, a malformed date-time or
 * section), with the item named in the sentence.
 */
POSTA_API int posta_imap_decode_fetch(posta_imap_decoder *d, const posta_imap_response *r,
                                      posta_imap_fetch_data *fetch_r);

/* --- LIST, LSUB ------------------------------------------------------------- */

typedef struct posta_imap_list_data {
    int lsub;                        /* the response was LSUB */
    posta_imap_flagset attributes;     /* bits: POSTA_IMAP_ATTR_* */
    char delimiter;                  /* hierarchy delimiter, 0 for NIL */
    posta_imap_mailbox_name mailbox;
    const posta_imap_str *childinfo; /* LIST-EXTENDED CHILDINFO, e.g. "SUBSCRIBED" */
    size_t nchildinfo;
    int has_oldname;
    posta_imap_mailbox_name oldname; /* RFC 9051 OLDNAME after a RENAME */
    const posta_imap_item *ext;      /* other extended items */
    size_t next;
} posta_imap_list_data;

/*
 * Decode "* LIST (\HasNoChildren) \"/\" INBOX" or LSUB, with LIST-EXTENDED
 * data (RFC 5258) after the name.  The name is decoded per the decoder's
 * UTF8 option.  Tolerated: an empty string for NIL delimiter, extended
 * data with unknown tags (kept in ext).  POSTA_EPROTO: fewer than three
 * arguments, attributes not a list, a delimiter of more than one byte.
 */
POSTA_API int posta_imap_decode_list(posta_imap_decoder *d, const posta_imap_response *r,
                                     posta_imap_list_data *list_r);

/* --- STATUS ---------------------------------------------------------------- */

/* Bits of posta_imap_status_data.present. */
enum {
    POSTA_IMAP_STATUS_ITEM_MESSAGES = 1u << 0,
    POSTA_IMAP_STATUS_ITEM_RECENT = 1u << 1,
    POSTA_IMAP_STATUS_ITEM_UIDNEXT = 1u << 2,
    POSTA_IMAP_STATUS_ITEM_UIDVALIDITY = 1u << 3,
    POSTA_IMAP_STATUS_ITEM_UNSEEN = 1u << 4,
    POSTA_IMAP_STATUS_ITEM_SIZE = 1u << 5,
    POSTA_IMAP_STATUS_ITEM_HIGHESTMODSEQ = 1u << 6,
    POSTA_IMAP_STATUS_ITEM_APPENDLIMIT = 1u << 7,
    POSTA_IMAP_STATUS_ITEM_MAILBOXID = 1u << 8,
    POSTA_IMAP_STATUS_ITEM_DELETED = 1u << 9,
    POSTA_IMAP_STATUS_ITEM_DELETED_STORAGE = 1u << 10
};

typedef struct posta_imap_status_data {
    posta_imap_mailbox_name mailbox;
    unsigned present;
    uint32_t messages, recent, uidnext, uidvalidity, unseen, deleted;
    uint64_t size;             /* RFC 8438 */
    uint64_t highestmodseq;    /* RFC 7162 */
    uint64_t appendlimit;      /* RFC 7889; UINT64_MAX for NIL (no limit) */
    uint64_t deleted_storage;  /* RFC 9208 */
    posta_imap_str mailboxid;  /* RFC 8474 */
    const posta_imap_item *other;
    size_t nother;
} posta_imap_status_data;

/* Decode "* STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292)".  Unknown
 * items go to other.  POSTA_EPROTO: no mailbox or list, an item without a
 * value, a value that is not a number in the item's range. */
POSTA_API int posta_imap_decode_status(posta_imap_decoder *d, const posta_imap_response *r,
                                       posta_imap_status_data *status_r);

/* --- SEARCH, SORT, ESEARCH, THREAD, VANISHED ------------------------------- */

typedef struct posta_imap_search_data {
    const uint32_t *v;         /* message numbers or UIDs, in the order sent */
    size_t count;
    int has_modseq;            /* "(MODSEQ n)" at the end (RFC 7162) */
    uint64_t modseq;
} posta_imap_search_data;

/* Decode "* SEARCH 2 3 6" or "* SORT 2 84 882" (RFC 5256), each optionally
 * ending in "(MODSEQ 917162500)".  POSTA_EPROTO: an element that is not a
 * number 1 .. 2^32-1. */
POSTA_API int posta_imap_decode_search(posta_imap_decoder *d, const posta_imap_response *r,
                                       posta_imap_search_data *search_r);

/* Bits of posta_imap_esearch_data.present. */
enum {
    POSTA_IMAP_ESEARCH_MIN = 1u << 0,
    POSTA_IMAP_ESEARCH_MAX = 1u << 1,
    POSTA_IMAP_ESEARCH_COUNT = 1u << 2,
    POSTA_IMAP_ESEARCH_ALL = 1u << 3,
    POSTA_IMAP_ESEARCH_MODSEQ = 1u << 4,
    POSTA_IMAP_ESEARCH_PARTIAL = 1u << 5
};

typedef struct posta_imap_esearch_data {
    posta_imap_str tag;        /* search correlator TAG, NIL when none */
    posta_imap_mailbox_name mailbox; /* RFC 7377 correlator, raw NIL when none */
    uint32_t uidvalidity;      /* RFC 7377 correlator, 0 when none */
    int uid;                   /* results are UIDs */
    unsigned present;
    uint32_t min, max, count;
    posta_imap_seqset all;
    uint64_t modseq;
    /* PARTIAL (RFC 9394): the range asked for (negative: counted from the
     * end, "-1:-100" gives -1, -100) and the results in it. */
    int64_t partial_first, partial_last;
    posta_imap_seqset partial;
    const posta_imap_item *other;   /* unknown return data */
    size_t nother;
} posta_imap_esearch_data;

/* Decode "* ESEARCH (TAG \"a567\") UID COUNT 17 ALL 4:18,21,28" (RFC 4731,
 * RFC 9051).  Tolerated: a TAG given as an atom.  POSTA_EPROTO: a return
 * datum without value, a malformed number or set. */
POSTA_API int posta_imap_decode_esearch(posta_imap_decoder *d, const posta_imap_response *r,
                                        posta_imap_esearch_data *esearch_r);

/* A THREAD tree node.  id 0 is a placeholder parent the server did not
 * name: "((3)(5))" gives a node 0 with children 3 and 5. */
typedef struct posta_imap_thread_node {
    uint32_t id;
    const struct posta_imap_thread_node *children;
    size_t nchildren;
} posta_imap_thread_node;

typedef struct posta_imap_thread_data {
    const posta_imap_thread_node *v;  /* one root per top-level thread */
    size_t count;
} posta_imap_thread_data;

/* Decode "* THREAD (2)(3 6 (4 23)(44 7 96))" (RFC 5256) into a tree in the
 * arena: 3 -> 6 -> {4 -> 23, 44 -> 7 -> 96}.  Tolerated: an empty thread
 * "()" (a placeholder with no children), one nested thread where the RFC
 * requires two.  POSTA_EPROTO: a number after a nested thread, a number
 * out of range; POSTA_ELIMIT: nesting beyond 256. */
POSTA_API int posta_imap_decode_thread(posta_imap_decoder *d, const posta_imap_response *r,
                                       posta_imap_thread_data *threads_r);

typedef struct posta_imap_vanished_data {
    int earlier;               /* "(EARLIER)": answer to a FETCH/SELECT, not news */
    posta_imap_seqset uids;
} posta_imap_vanished_data;

/* Decode "* VANISHED (EARLIER) 300:310,405,411" (RFC 7162). */
POSTA_API int posta_imap_decode_vanished(posta_imap_decoder *d, const posta_imap_response *r,
                                         posta_imap_vanished_data *vanished_r);

/* --- NAMESPACE, ID --------------------------------------------------------- */

typedef struct posta_imap_namespace_ext {
    posta_imap_str name;
    const posta_imap_str *values;
    size_t nvalues;
} posta_imap_namespace_ext;

typedef struct posta_imap_namespace_desc {
    posta_imap_mailbox_name prefix;
    char delimiter;            /* 0 for NIL */
    const posta_imap_namespace_ext *ext;
    size_t next;
} posta_imap_namespace_desc;

typedef struct posta_imap_namespace_list {
    const posta_imap_namespace_desc *v;
    size_t count;              /* 0 for NIL */
} posta_imap_namespace_list;

typedef struct posta_imap_namespace_data {
    posta_imap_namespace_list personal, other, shared;
} posta_imap_namespace_data;

/* Decode "* NAMESPACE ((\"\" \"/\")) NIL ((\"Public/\" \"/\" \"X-EXT\"
 * (\"a\" \"b\")))" (RFC 2342, RFC 9051).  Tolerated: "" or () for NIL.
 * POSTA_EPROTO: not three lists, a namespace of fewer than two fields. */
POSTA_API int posta_imap_decode_namespace(posta_imap_decoder *d, const posta_imap_response *r,
                                          posta_imap_namespace_data *ns_r);

typedef struct posta_imap_id_data {
    int nil;                   /* "* ID NIL" */
    const posta_imap_param *v; /* field/value pairs; a value may be NIL */
    size_t count;
} posta_imap_id_data;

/* Decode "* ID (\"name\" \"Cyrus\" \"version\" \"1.5\")" or "* ID NIL"
 * (RFC 2971).  Tolerated: an odd last field (dropped). */
POSTA_API int posta_imap_decode_id(posta_imap_decoder *d, const posta_imap_response *r,
                                   posta_imap_id_data *id_r);

/* --- QUOTA (RFC 9208), ACL (RFC 4314), METADATA (RFC 5464) --------------- */

typedef struct posta_imap_quota_resource {
    posta_imap_str name;       /* "STORAGE", "MESSAGE", ... */
    uint64_t usage;
    uint64_t limit;
} posta_imap_quota_resource;

typedef struct posta_imap_quota_data {
    posta_imap_str root;
    const posta_imap_quota_resource *v;
    size_t count;
} posta_imap_quota_data;

/* Decode "* QUOTA \"\" (STORAGE 10 512)".  POSTA_EPROTO: a resource not
 * followed by two numbers. */
POSTA_API int posta_imap_decode_quota(posta_imap_decoder *d, const posta_imap_response *r,
                                      posta_imap_quota_data *quota_r);

typedef struct posta_imap_quotaroot_data {
    posta_imap_mailbox_name mailbox;
    const posta_imap_str *roots;
    size_t count;
} posta_imap_quotaroot_data;

/* Decode "* QUOTAROOT INBOX \"\"". */
POSTA_API int posta_imap_decode_quotaroot(posta_imap_decoder *d, const posta_imap_response *r,
                                          posta_imap_quotaroot_data *qr_r);

typedef struct posta_imap_acl_data {
    posta_imap_mailbox_name mailbox;
    const posta_imap_param *v; /* name = identifier, value = rights */
    size_t count;
} posta_imap_acl_data;

/* Decode "* ACL INBOX Fred rwipsldexta".  Tolerated: an odd last
 * identifier (dropped). */
POSTA_API int posta_imap_decode_acl(posta_imap_decoder *d, const posta_imap_response *r,
                                    posta_imap_acl_data *acl_r);

typedef struct posta_imap_listrights_data {
    posta_imap_mailbox_name mailbox;
    posta_imap_str identifier;
    posta_imap_str required;   /* rights always granted */
    const posta_imap_str *optional; /* groups of rights that may be granted */
    size_t count;
} posta_imap_listrights_data;

/* Decode "* LISTRIGHTS ~/Mailbox/ smith la r swicdkxte". */
POSTA_API int posta_imap_decode_listrights(posta_imap_decoder *d, const posta_imap_response *r,
                                           posta_imap_listrights_data *lr_r);

typedef struct posta_imap_myrights_data {
    posta_imap_mailbox_name mailbox;
    posta_imap_str rights;
} posta_imap_myrights_data;

/* Decode "* MYRIGHTS INBOX rwiptsldaex". */
POSTA_API int posta_imap_decode_myrights(posta_imap_decoder *d, const posta_imap_response *r,
                                         posta_imap_myrights_data *mr_r);

typedef struct posta_imap_metadata_entry {
    posta_imap_str name;       /* "/private/comment" */
    posta_imap_str value;      /* NIL when unset or in the unsolicited form */
    int streamed;              /* the value's literal went to the sink */
    uint64_t size;             /* the value's length */
} posta_imap_metadata_entry;

typedef struct posta_imap_metadata_data {
    posta_imap_mailbox_name mailbox; /* "" for server annotations */
    int has_values;            /* 0: the unsolicited "entry-list" form */
    const posta_imap_metadata_entry *v;
    size_t count;
} posta_imap_metadata_data;

/* Decode "* METADATA INBOX (/private/comment \"My comment\")" or the
 * unsolicited "* METADATA \"\" /shared/comment /private/comment".
 * POSTA_EPROTO: an entry without a value in the first form. */
POSTA_API int posta_imap_decode_metadata(posta_imap_decoder *d, const posta_imap_response *r,
                                         posta_imap_metadata_data *md_r);

#ifdef __cplusplus
}
#endif
#endif
