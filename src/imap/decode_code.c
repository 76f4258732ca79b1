/* Response codes ("[UIDNEXT 42]", RFC 9051 7.1, RFC 5530 and extensions)
 * and capability lists, with their lookups. */
#include "decode_internal.h"

#include <string.h>

/* --- capabilities ------------------------------------------------------------
 * capability-data = "CAPABILITY" *(SP capability) SP "IMAP4rev2" *(SP capability)
 * capability      = ("AUTH=" auth-type) / atom
 * IMAP4rev1 servers need not list IMAP4rev2, so the mandatory entry is not
 * checked. */

static int caps_from_args(posta_imap_decoder *d, const posta_imap_arg *args, size_t n,
                          const char *what, posta_imap_capset *out)
{
    char b[POSTA_IMAPD_SHOW];
    posta_imap_str *v = posta__imapd_array(d, n, sizeof(*v));
    if (!v)
        return d->err.code;
    for (size_t i = 0; i < n; i++) {
        if (!posta__imapd_is_text(&args[i]) || args[i].len == 0)
            return posta__imapd_proto(d, "%s: capability %zu is %s, not an atom", what, i + 1,
                                      posta__imapd_show_arg(&args[i], b));
        int rc = posta__imapd_ref(d, args[i].str, args[i].len, &v[i]);
        if (rc)
            return rc;
    }
    out->v = v;
    out->count = n;
    return 0;
}

int posta_imap_decode_capability(posta_imap_decoder *d, const posta_imap_response *r,
                                 posta_imap_capset *caps_r)
{
    POSTA_IMAPD_BEGIN(d, r, caps_r);
    if (r->status != POSTA_IMAP_STATUS_NONE || r->kind == POSTA_IMAP_RESP_CONTINUATION) {
        posta_imap_code code;
        int rc = posta_imap_decode_code(d, r, &code);
        if (rc)
            return rc;
        if (code.type != POSTA_IMAP_CODE_CAPABILITY)
            return posta__imapd_fail(d, POSTA_EINVAL, "response has no CAPABILITY code");
        if (code.bad_args)
            return POSTA_EPROTO;   /* the sentence is already in d->err */
        *caps_r = code.caps;
        return 0;
    }
    int rc = posta__imapd_expect(d, r, "CAPABILITY", 0);
    if (rc)
        return rc;
    return caps_from_args(d, r->args, r->nargs, "CAPABILITY", caps_r);
}

int posta_imap_decode_enabled(posta_imap_decoder *d, const posta_imap_response *r,
                              posta_imap_capset *caps_r)
{
    POSTA_IMAPD_BEGIN(d, r, caps_r);
    int rc = posta__imapd_expect(d, r, "ENABLED", 0);
    if (rc)
        return rc;
    return caps_from_args(d, r->args, r->nargs, "ENABLED", caps_r);
}

int posta_imap_capset_has(const posta_imap_capset *caps, const char *name)
{
    if (!caps || !name)
        return 0;
    for (size_t i = 0; i < caps->count; i++)
        if (posta__imapd_eq(caps->v[i].ptr, caps->v[i].len, name))
            return 1;
    return 0;
}

/* Entry i has the form name "=" value: the value's offset, else 0. */
static size_t value_offset(const posta_imap_str *c, const char *name)
{
    size_t n = strlen(name);
    if (c->len <= n || c->ptr[n] != '=' || !posta__imapd_eq(c->ptr, n, name))
        return 0;
    return n + 1;
}

int posta_imap_capset_value(const posta_imap_capset *caps, const char *name,
                                  size_t *pos, posta_imap_str *value_r)
{
    if (!caps || !name || !pos || !value_r)
        return 0;
    for (; *pos < caps->count; (*pos)++) {
        size_t off = value_offset(&caps->v[*pos], name);
        if (off) {
            value_r->ptr = caps->v[*pos].ptr + off;
            value_r->len = caps->v[*pos].len - off;
            (*pos)++;
            return 1;
        }
    }
    return 0;
}

int posta_imap_capset_number(const posta_imap_capset *caps, const char *name,
                                   uint64_t *n_r)
{
    size_t pos = 0;
    posta_imap_str v;
    if (!n_r || !posta_imap_capset_value(caps, name, &pos, &v))
        return POSTA_ENOTFOUND;
    return posta__imapd_digits(v.ptr, v.len, UINT64_MAX, n_r) == 0 ? 0 : POSTA_EPROTO;
}

/* --- response codes -------------------------------------------------------------
 * resp-text-code = "ALERT" / "BADCHARSET" [SP "(" charset *(SP charset) ")" ] /
 *                  capability-data / "PARSE" /
 *                  "PERMANENTFLAGS" SP "(" [flag-perm *(SP flag-perm)] ")" /
 *                  "READ-ONLY" / "READ-WRITE" / "TRYCREATE" /
 *                  "UIDNEXT" SP nz-number / "UIDVALIDITY" SP nz-number /
 *                  "UNSEEN" SP nz-number /
 *                  "APPENDUID" SP nz-number SP append-uid /
 *                  "COPYUID" SP nz-number SP uid-set SP uid-set /
 *                  "UIDNOTSTICKY" / "CLOSED" / "HIGHESTMODSEQ" SP mod-sequence-value /
 *                  "NOMODSEQ" / "MODIFIED" SP sequence-set /
 *                  "METADATA" SP ("LONGENTRIES" SP number / "MAXSIZE" SP number /
 *                                 "TOOMANY" / "NOPRIVATE") /
 *                  "MAILBOXID" SP "(" objectid ")" / "REFERRAL" SP imap-url /
 *                  atom [SP 1*<any TEXT-CHAR except "]">]
 * Each known code names how its arguments are read; the readers below
 * fill the struct and report malformed arguments as bad_args. */

enum code_args {
    ARGS_NONE = 0,    /* arguments, if any, are ignored */
    ARGS_NZ32,        /* nz-number */
    ARGS_N32,         /* number */
    ARGS_N64,         /* mod-sequence-value */
    ARGS_CHARSETS,    /* optional "(" charset *(SP charset) ")" */
    ARGS_CAPS,
    ARGS_FLAGS,
    ARGS_APPENDUID,
    ARGS_COPYUID,
    ARGS_SET,
    ARGS_URL,         /* the raw text */
    ARGS_OBJECTID,    /* "(" objectid ")" */
    ARGS_METADATA     /* a sub-keyword picks the type */
};

static const struct code_def {
    const char *name;
    posta_imap_code_type type;
    enum code_args args;
} code_defs[] = {
    {"ALERT", POSTA_IMAP_CODE_ALERT, ARGS_NONE},
    {"PARSE", POSTA_IMAP_CODE_PARSE, ARGS_NONE},
    {"BADCHARSET", POSTA_IMAP_CODE_BADCHARSET, ARGS_CHARSETS},
    {"CAPABILITY", POSTA_IMAP_CODE_CAPABILITY, ARGS_CAPS},
    {"PERMANENTFLAGS", POSTA_IMAP_CODE_PERMANENTFLAGS, ARGS_FLAGS},
    {"READ-ONLY", POSTA_IMAP_CODE_READ_ONLY, ARGS_NONE},
    {"READ-WRITE", POSTA_IMAP_CODE_READ_WRITE, ARGS_NONE},
    {"TRYCREATE", POSTA_IMAP_CODE_TRYCREATE, ARGS_NONE},
    {"UIDNEXT", POSTA_IMAP_CODE_UIDNEXT, ARGS_NZ32},
    {"UIDVALIDITY", POSTA_IMAP_CODE_UIDVALIDITY, ARGS_NZ32},
    {"UNSEEN", POSTA_IMAP_CODE_UNSEEN, ARGS_NZ32},
    {"APPENDUID", POSTA_IMAP_CODE_APPENDUID, ARGS_APPENDUID},
    {"COPYUID", POSTA_IMAP_CODE_COPYUID, ARGS_COPYUID},
    {"UIDNOTSTICKY", POSTA_IMAP_CODE_UIDNOTSTICKY, ARGS_NONE},
    {"HIGHESTMODSEQ", POSTA_IMAP_CODE_HIGHESTMODSEQ, ARGS_N64},
    {"NOMODSEQ", POSTA_IMAP_CODE_NOMODSEQ, ARGS_NONE},
    {"MODIFIED", POSTA_IMAP_CODE_MODIFIED, ARGS_SET},
    {"CLOSED", POSTA_IMAP_CODE_CLOSED, ARGS_NONE},
    {"REFERRAL", POSTA_IMAP_CODE_REFERRAL, ARGS_URL},
    {"OVERQUOTA", POSTA_IMAP_CODE_OVERQUOTA, ARGS_NONE},
    {"AUTHENTICATIONFAILED", POSTA_IMAP_CODE_AUTHENTICATIONFAILED, ARGS_NONE},
    {"AUTHORIZATIONFAILED", POSTA_IMAP_CODE_AUTHORIZATIONFAILED, ARGS_NONE},
    {"EXPIRED", POSTA_IMAP_CODE_EXPIRED, ARGS_NONE},
    {"PRIVACYREQUIRED", POSTA_IMAP_CODE_PRIVACYREQUIRED, ARGS_NONE},
    {"CONTACTADMIN", POSTA_IMAP_CODE_CONTACTADMIN, ARGS_NONE},
    {"NOPERM", POSTA_IMAP_CODE_NOPERM, ARGS_NONE},
    {"INUSE", POSTA_IMAP_CODE_INUSE, ARGS_NONE},
    {"EXPUNGEISSUED", POSTA_IMAP_CODE_EXPUNGEISSUED, ARGS_NONE},
    {"CORRUPTION", POSTA_IMAP_CODE_CORRUPTION, ARGS_NONE},
    {"SERVERBUG", POSTA_IMAP_CODE_SERVERBUG, ARGS_NONE},
    {"CLIENTBUG", POSTA_IMAP_CODE_CLIENTBUG, ARGS_NONE},
    {"CANNOT", POSTA_IMAP_CODE_CANNOT, ARGS_NONE},
    {"LIMIT", POSTA_IMAP_CODE_LIMIT, ARGS_NONE},
    {"ALREADYEXISTS", POSTA_IMAP_CODE_ALREADYEXISTS, ARGS_NONE},
    {"NONEXISTENT", POSTA_IMAP_CODE_NONEXISTENT, ARGS_NONE},
    {"UNAVAILABLE", POSTA_IMAP_CODE_UNAVAILABLE, ARGS_NONE},
    {"HASCHILDREN", POSTA_IMAP_CODE_HASCHILDREN, ARGS_NONE},
    {"COMPRESSIONACTIVE", POSTA_IMAP_CODE_COMPRESSIONACTIVE, ARGS_NONE},
    {"USEATTR", POSTA_IMAP_CODE_USEATTR, ARGS_NONE},
    {"MAILBOXID", POSTA_IMAP_CODE_MAILBOXID, ARGS_OBJECTID},
    {"METADATA", POSTA_IMAP_CODE_OTHER, ARGS_METADATA},
    {"NOTSAVED", POSTA_IMAP_CODE_NOTSAVED, ARGS_NONE},
    {"UNKNOWN-CTE", POSTA_IMAP_CODE_UNKNOWN_CTE, ARGS_NONE},
};

static const struct {
    const char *name;
    posta_imap_code_type type;
    int numbered;
} metadata_defs[] = {
    {"LONGENTRIES", POSTA_IMAP_CODE_METADATA_LONGENTRIES, 1},
    {"MAXSIZE", POSTA_IMAP_CODE_METADATA_MAXSIZE, 1},
    {"TOOMANY", POSTA_IMAP_CODE_METADATA_TOOMANY, 0},
    {"NOPRIVATE", POSTA_IMAP_CODE_METADATA_NOPRIVATE, 0},
};

const char *posta_imap_code_type_name(posta_imap_code_type t)
{
    if (t == POSTA_IMAP_CODE_NONE)
        return "";
    for (size_t i = 0; i < sizeof(code_defs) / sizeof(code_defs[0]); i++)
        if (code_defs[i].type == t && t != POSTA_IMAP_CODE_OTHER)
            return code_defs[i].name;
    switch (t) {
    case POSTA_IMAP_CODE_METADATA_LONGENTRIES:
        return "METADATA LONGENTRIES";
    case POSTA_IMAP_CODE_METADATA_MAXSIZE:
        return "METADATA MAXSIZE";
    case POSTA_IMAP_CODE_METADATA_TOOMANY:
        return "METADATA TOOMANY";
    case POSTA_IMAP_CODE_METADATA_NOPRIVATE:
        return "METADATA NOPRIVATE";
    default:
        return "OTHER";
    }
}

/* --- re-reading arguments from the raw text ---------------------------------
 * When a server puts something in a code that is not well-formed IMAP, the
 * parser keeps only the raw bytes.  This small tokenizer turns them into
 * nodes again: atoms (any run of bytes without SP, parentheses or quotes),
 * quoted strings with backslash escapes, and parenthesized lists. */

#define RAW_MAX_DEPTH 8

static size_t raw_skip_quoted(const char *s, size_t len, size_t i)
{
    for (i++; i < len && s[i] != '"'; i++)
        if (s[i] == '\\' && i + 1 < len)
            i++;
    return i < len ? i + 1 : len;
}

/* Count the elements of one level starting at s[i], up to ")" or the end. */
static size_t raw_count(const char *s, size_t len, size_t i)
{
    size_t n = 0;
    int depth = 0;
    while (i < len) {
        char c = s[i];
        if (c == ' ') {
            i++;
            continue;
        }
        if (c == ')') {
            if (depth == 0)
                break;
            depth--;
            i++;
            continue;
        }
        if (depth == 0)
            n++;
        if (c == '(') {
            depth++;
            i++;
        } else if (c == '"') {
            i = raw_skip_quoted(s, len, i);
        } else {
            while (i < len && s[i] != ' ' && s[i] != '(' && s[i] != ')' && s[i] != '"')
                i++;
        }
    }
    return n;
}

static int raw_level(posta_imap_decoder *d, const char *s, size_t len, size_t *i, int depth,
                     posta_imap_arg **args_r, size_t *n_r)
{
    size_t n = raw_count(s, len, *i);
    posta_imap_arg *v = posta__imapd_array(d, n, sizeof(*v));
    if (!v)
        return d->err.code;
    for (size_t k = 0; k < n; k++) {
        while (*i < len && s[*i] == ' ')
            (*i)++;
        posta_imap_arg *a = &v[k];
        char c = s[*i];
        if (c == '(') {
            posta_imap_arg *kids;
            size_t nk;
            (*i)++;
            if (depth >= RAW_MAX_DEPTH)
                return posta__imapd_proto(d, "response code nested too deeply");
            int rc = raw_level(d, s, len, i, depth + 1, &kids, &nk);
            if (rc)
                return rc;
            if (*i < len && s[*i] == ')')
                (*i)++;
            a->type = POSTA_IMAP_ARG_LIST;
            a->list = kids;
            a->count = nk;
        } else if (c == '"') {
            size_t end = raw_skip_quoted(s, len, *i);
            char *p = posta__imapd_alloc(d, end - *i + 1);
            if (!p)
                return d->err.code;
            size_t o = 0;
            for (size_t j = *i + 1; j < end && !(s[j] == '"' && j + 1 == end); j++) {
                if (s[j] == '\\' && j + 1 < end - 1)
                    j++;
                p[o++] = s[j];
            }
            p[o] = '\0';
            a->type = POSTA_IMAP_ARG_STRING;
            a->str = p;
            a->len = o;
            *i = end;
        } else {
            size_t start = *i;
            while (*i < len && s[*i] != ' ' && s[*i] != '(' && s[*i] != ')' && s[*i] != '"')
                (*i)++;
            posta_imap_str t;
            int rc = posta__imapd_copy(d, s + start, *i - start, &t);
            if (rc)
                return rc;
            a->type = posta__imapd_eq(t.ptr, t.len, "NIL") ? POSTA_IMAP_ARG_NIL
                                                           : POSTA_IMAP_ARG_ATOM;
            a->str = t.ptr;
            a->len = t.len;
        }
    }
    *args_r = v;
    *n_r = n;
    return 0;
}

/* The arguments of r's code: the parser's, or re-read from the raw text
 * when the parser had none but text follows the name. */
static int code_args(posta_imap_decoder *d, const posta_imap_response *r, posta_imap_str raw,
                     const posta_imap_arg **args_r, size_t *n_r)
{
    *args_r = r->code_args;
    *n_r = r->code_args ? r->code_nargs : 0;
    if (*n_r > 0 || raw.len == 0)
        return 0;
    size_t i = 0;
    posta_imap_arg *args;
    int rc = raw_level(d, raw.ptr, raw.len, &i, 0, &args, n_r);
    if (rc)
        return rc;
    *args_r = args;
    return 0;
}

/* The text after the name in code_raw (which may or may not start with the
 * name itself). */
static posta_imap_str raw_after_name(const posta_imap_response *r)
{
    posta_imap_str s = {r->code_raw ? r->code_raw : "", r->code_raw ? r->code_raw_len : 0};
    size_t n = r->code_len;
    if (n && s.len >= n && (s.len == n || s.ptr[n] == ' ')) {
        size_t k = 0;
        while (k < n && posta__imapd_lower(s.ptr[k]) == posta__imapd_lower(r->code[k]))
            k++;
        if (k == n) {
            s.ptr += n;
            s.len -= n;
        }
    }
    while (s.len && s.ptr[0] == ' ') {
        s.ptr++;
        s.len--;
    }
    return s;
}

/* A number argument; quoted strings tolerated. */
static int code_number(posta_imap_decoder *d, const posta_imap_arg *a, enum code_args kind,
                       const char *name, uint64_t *n_r)
{
    uint32_t n32;
    int rc;
    switch (kind) {
    case ARGS_NZ32:
        rc = posta__imapd_nz_number(d, a, name, &n32);
        *n_r = n32;
        return rc;
    case ARGS_N32:
        rc = posta__imapd_number(d, a, name, &n32);
        *n_r = n32;
        return rc;
    default:
        return posta__imapd_number64(d, a, name, n_r);
    }
}

static int code_fill(posta_imap_decoder *d, const struct code_def *def, const char *name,
                     const posta_imap_arg *args, size_t n, posta_imap_code *c)
{
    char b[POSTA_IMAPD_SHOW];
    int rc;
    switch (def->args) {
    case ARGS_NONE:
        return 0;
    case ARGS_NZ32:
    case ARGS_N32:
    case ARGS_N64:
        if (n < 1)
            return posta__imapd_proto(d, "[%s] without its number", name);
        return code_number(d, &args[0], def->args, name, &c->number);
    case ARGS_CHARSETS: {
        const posta_imap_arg *v = args;
        size_t nv = n;
        if (n == 1 && posta__imapd_is_list(&args[0])) {
            v = args[0].list;
            nv = args[0].count;
        }
        posta_imap_str *s = posta__imapd_array(d, nv, sizeof(*s));
        if (!s)
            return d->err.code;
        for (size_t i = 0; i < nv; i++) {
            if (!posta__imapd_is_text(&v[i]))
                return posta__imapd_proto(d, "[%s]: charset %s is not a string", name,
                                          posta__imapd_show_arg(&v[i], b));
            if ((rc = posta__imapd_ref(d, v[i].str, v[i].len, &s[i])) != 0)
                return rc;
        }
        c->strings = s;
        c->nstrings = nv;
        return 0;
    }
    case ARGS_CAPS:
        return caps_from_args(d, args, n, "[CAPABILITY]", &c->caps);
    case ARGS_FLAGS:
        if (n < 1)
            return posta__imapd_proto(d, "[%s] without its flag list", name);
        return posta__imapd_flag_list(d, &args[0], "[PERMANENTFLAGS]", 0, &c->flags);
    case ARGS_APPENDUID:
    case ARGS_COPYUID:
        if (n < (def->args == ARGS_COPYUID ? 3u : 2u))
            return posta__imapd_proto(d, "[%s] needs a UIDVALIDITY and %s", name,
                                      def->args == ARGS_COPYUID ? "two UID sets" : "a UID set");
        if ((rc = code_number(d, &args[0], ARGS_NZ32, name, &c->number)) != 0)
            return rc;
        if ((rc = posta__imapd_seqset_arg(d, &args[1], name, &c->set)) != 0)
            return rc;
        if (def->args == ARGS_APPENDUID)
            return 0;
        if ((rc = posta__imapd_seqset_arg(d, &args[2], name, &c->set2)) != 0)
            return rc;
        /* RFC 4315: the sets pair up one to one; refuse a mismatch rather
         * than let a client map UIDs wrongly. */
        if (posta_imap_seqset_count(&c->set, 0) != posta_imap_seqset_count(&c->set2, 0))
            return posta__imapd_proto(d, "[COPYUID]: the source and destination sets differ "
                                         "in size");
        return 0;
    case ARGS_SET:
        if (n < 1)
            return posta__imapd_proto(d, "[%s] without its set", name);
        return posta__imapd_seqset_arg(d, &args[0], name, &c->set);
    case ARGS_URL:
        if (c->raw.len == 0)
            return posta__imapd_proto(d, "[%s] without its URL", name);
        /* A quoted URL is a quirk seen in the wild: unquote it. */
        if (n == 1 && args[0].type == POSTA_IMAP_ARG_STRING)
            return posta__imapd_ref(d, args[0].str, args[0].len, &c->str);
        return posta__imapd_ref(d, c->raw.ptr, c->raw.len, &c->str);
    case ARGS_OBJECTID: {
        const posta_imap_arg *a = n ? &args[0] : NULL;
        if (a && posta__imapd_is_list(a) && a->count == 1)
            a = &a->list[0];
        if (!posta__imapd_is_text(a) || a->len == 0)
            return posta__imapd_proto(d, "[%s] without its object id", name);
        return posta__imapd_ref(d, a->str, a->len, &c->str);
    }
    case ARGS_METADATA:
        c->type = POSTA_IMAP_CODE_OTHER;
        if (n < 1)
            return posta__imapd_proto(d, "[METADATA] without its kind");
        for (size_t i = 0; i < sizeof(metadata_defs) / sizeof(metadata_defs[0]); i++) {
            if (!posta__imapd_arg_eq(&args[0], metadata_defs[i].name))
                continue;
            c->type = metadata_defs[i].type;
            if (!metadata_defs[i].numbered)
                return 0;
            if (n < 2)
                return posta__imapd_proto(d, "[METADATA %s] without its number",
                                          metadata_defs[i].name);
            return code_number(d, &args[1], ARGS_N32, name, &c->number);
        }
        return 0;   /* an unknown METADATA code stays OTHER */
    }
    return 0;
}

int posta_imap_decode_code(posta_imap_decoder *d, const posta_imap_response *r,
                           posta_imap_code *code_r)
{
    POSTA_IMAPD_BEGIN(d, r, code_r);
    if (!r->code || r->code_len == 0)
        return 0;
    posta_imap_code *c = code_r;
    int rc;
    c->type = POSTA_IMAP_CODE_OTHER;
    if ((rc = posta__imapd_ref(d, r->code, r->code_len, &c->name)) != 0)
        return rc;
    posta_imap_str raw = raw_after_name(r);
    if ((rc = posta__imapd_ref(d, raw.ptr, raw.len, &c->raw)) != 0)
        return rc;
    const struct code_def *def = NULL;
    for (size_t i = 0; i < sizeof(code_defs) / sizeof(code_defs[0]); i++)
        if (posta__imapd_eq(r->code, r->code_len, code_defs[i].name))
            def = &code_defs[i];
    if (!def)
        return 0;
    c->type = def->type;
    const posta_imap_arg *args;
    size_t n;
    rc = code_args(d, r, raw, &args, &n);
    if (rc == 0)
        rc = code_fill(d, def, def->name, args, n, c);
    if (rc == POSTA_EPROTO) {
        /* Malformed arguments never fail a status response: keep the
         * code's meaning, zero its values, and say why. */
        posta_imap_code_type t = c->type;
        posta_imap_str nm = c->name, rw = c->raw;
        memset(c, 0, sizeof(*c));
        c->type = t;
        c->name = nm;
        c->raw = rw;
        c->bad_args = 1;
        return 0;
    }
    return rc;
}
