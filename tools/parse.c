/* posta parse: feed a server's byte stream from stdin to a protocol parser
 * and print each response as one JSON object per line. */
#include <posta/imap_parser.h>

#include <openssl/evp.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tool.h"

/*
 * The JSON (one object per response, keys in this order, absent ones left
 * out):
 *
 *   {"kind":"tagged"|"untagged"|"continuation", "tag":"a1",
 *    "status":"OK"|"NO"|"BAD"|"PREAUTH"|"BYE",
 *    "code":"UIDNEXT", "code_args":[...], "code_raw":"UIDNEXT 42",
 *    "text":"...", "number":12, "keyword":"FETCH", "args":[...]}
 *
 * Arguments: NIL is null, a list is an array, an atom is a plain string,
 * a quoted string is {"string":"..."}, an inline literal is
 * {"literal":"..."}, a streamed one {"streamed":SIZE,"sha256":"hex"} (or
 * {"streamed":SIZE,"literal":"..."} with --literals); literal8 adds
 * "literal8":true.  Strings are JSON-escaped (NUL as \u0000); bytes that
 * are not valid UTF-8 are written as \udcXX, the lone-surrogate escape of
 * Python's "surrogateescape", so the output is always valid JSON and the
 * exact bytes can be recovered.
 */

static const char usage_text[] =
    "usage: posta parse imap [options] < bytes\n"
    "\n"
    "Reads what an IMAP server sent from stdin and prints each response as\n"
    "one JSON object per line.  On malformed input it prints the parser's\n"
    "sentence (with the byte offset) to stderr and exits with status 1.\n"
    "\n"
    "  --raw             the generic tree only, no typed decoding\n"
    "  --chunk N         feed the parser N bytes at a time (default: as read)\n"
    "  --seed S          with --chunk N: random chunk sizes 1..N from seed S\n"
    "  --literals        print streamed literals' contents, not their SHA-256\n"
    "  --inline-limit N  stream literals larger than N bytes (default 65536)\n"
    "  --max-line N, --max-item N, --max-depth N, --max-items N,\n"
    "  --max-response N  the parser's other limits (see imap_parser.h)\n"
    "\n"
    "Output: {\"kind\", \"tag\", \"status\", \"code\", \"code_args\", \"code_raw\",\n"
    "\"text\", \"number\", \"keyword\", \"args\"}, absent keys left out.  In --raw\n"
    "trees NIL is null, a list an array, an atom a string, a quoted string\n"
    "{\"string\":...}, a literal {\"literal\":...}, a streamed literal\n"
    "{\"streamed\":size,\"sha256\":hex}; bytes that are not UTF-8 appear as \\udcXX.\n";

/* ---- JSON ---- */

/* ---- IMAP ---- */

struct lit {
    uint64_t size;
    unsigned char digest[32];
    unsigned char *data; /* --literals */
    size_t len;
};

struct imap_run {
    FILE *out;
    int raw, literals;
    EVP_MD_CTX *md;
    struct lit *lits;    /* streamed literals of the response being read */
    size_t nlits, size_lits, next;
    int oom;
};

static int on_lit_begin(posta_imap_parser *p, const posta_imap_literal_info *info, void *user)
{
    struct imap_run *r = user;

    if (r->nlits == r->size_lits) {
        size_t n = r->size_lits ? r->size_lits * 2 : 8;
        struct lit *q = realloc(r->lits, n * sizeof(*q));
        if (!q)
            return POSTA_ENOMEM;
        r->lits = q;
        r->size_lits = n;
    }
    r->lits[r->nlits] = (struct lit){.size = info->size};
    r->nlits++;
    return EVP_DigestInit_ex(r->md, EVP_sha256(), NULL) == 1 ? 0 : POSTA_ENOMEM;
}

static int on_lit_data(posta_imap_parser *p, const void *data, size_t len, void *user)
{
    struct imap_run *r = user;
    struct lit *l = &r->lits[r->nlits - 1];

    if (r->literals) {
        unsigned char *q = realloc(l->data, l->len + len);
        if (!q)
            return POSTA_ENOMEM;
        memcpy(q + l->len, data, len);
        l->data = q;
        l->len += len;
    }
    return EVP_DigestUpdate(r->md, data, len) == 1 ? 0 : POSTA_ENOMEM;
}

static int on_lit_end(posta_imap_parser *p, void *user)
{
    struct imap_run *r = user;
    unsigned int n = 0;
    return EVP_DigestFinal_ex(r->md, r->lits[r->nlits - 1].digest, &n) == 1 ? 0 : POSTA_ENOMEM;
}

static void print_arg(struct imap_run *r, const posta_imap_arg *a);

static void print_list(struct imap_run *r, const posta_imap_arg *list, size_t n)
{
    fputc('[', r->out);
    for (size_t i = 0; i < n; i++) {
        if (i)
            fputc(',', r->out);
        print_arg(r, &list[i]);
    }
    fputc(']', r->out);
}

static void print_streamed(struct imap_run *r, const posta_imap_arg *a)
{
    FILE *f = r->out;
    fprintf(f, "{\"streamed\":%" PRIu64, a->size);
    if (r->next >= r->nlits) {
        fputc('}', f);  /* no callback saw it: cannot happen */
        return;
    }
    struct lit *l = &r->lits[r->next++];
    if (r->literals) {
        fputs(",\"literal\":", f);
        tool_json_str(f, l->data, l->len);
    } else {
        fputs(",\"sha256\":\"", f);
        for (int k = 0; k < 32; k++)
            fprintf(f, "%02x", l->digest[k]);
        fputc('"', f);
    }
    if (a->literal8)
        fputs(",\"literal8\":true", f);
    fputc('}', f);
}

static void print_arg(struct imap_run *r, const posta_imap_arg *a)
{
    FILE *f = r->out;

    switch (a->type) {
    case POSTA_IMAP_ARG_NIL:
        fputs("null", f);
        break;
    case POSTA_IMAP_ARG_ATOM:
        tool_json_str(f, a->str, a->len);
        break;
    case POSTA_IMAP_ARG_STRING:
        fputs("{\"string\":", f);
        tool_json_str(f, a->str, a->len);
        fputc('}', f);
        break;
    case POSTA_IMAP_ARG_LITERAL:
        fputs("{\"literal\":", f);
        tool_json_str(f, a->str, a->len);
        fputs(a->literal8 ? ",\"literal8\":true}" : "}", f);
        break;
    case POSTA_IMAP_ARG_LITERAL_STREAMED:
        print_streamed(r, a);
        break;
    case POSTA_IMAP_ARG_LIST:
        print_list(r, a->list, a->count);
        break;
    }
}

static const char *kind_name(posta_imap_resp_kind k)
{
    switch (k) {
    case POSTA_IMAP_RESP_TAGGED: return "tagged";
    case POSTA_IMAP_RESP_UNTAGGED: return "untagged";
    case POSTA_IMAP_RESP_CONTINUATION: return "continuation";
    }
    return "?";
}

static const char *status_name(posta_imap_status s)
{
    static const char *const names[] = {"", "OK", "NO", "BAD", "PREAUTH", "BYE"};
    return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

static void print_response(struct imap_run *r, const posta_imap_response *resp)
{
    FILE *f = r->out;

    fprintf(f, "{\"kind\":\"%s\"", kind_name(resp->kind));
    if (resp->tag) {
        fputs(",\"tag\":", f);
        tool_json_str(f, resp->tag, resp->tag_len);
    }
    if (resp->status != POSTA_IMAP_STATUS_NONE)
        fprintf(f, ",\"status\":\"%s\"", status_name(resp->status));
    if (resp->code) {
        fputs(",\"code\":", f);
        tool_json_str(f, resp->code, resp->code_len);
        fputs(",\"code_args\":", f);
        print_list(r, resp->code_args, resp->code_nargs);
        fputs(",\"code_raw\":", f);
        tool_json_str(f, resp->code_raw, resp->code_raw_len);
    }
    if (resp->text) {
        fputs(",\"text\":", f);
        tool_json_str(f, resp->text, resp->text_len);
    }
    if (resp->has_number)
        fprintf(f, ",\"number\":%" PRIu32, resp->number);
    if (resp->keyword) {
        fputs(",\"keyword\":", f);
        tool_json_str(f, resp->keyword, resp->keyword_len);
        fputs(",\"args\":", f);
        print_list(r, resp->args, resp->nargs);
    }
    fputs("}\n", f);
}

static int on_response(posta_imap_parser *p, const posta_imap_response *resp, void *user)
{
    struct imap_run *r = user;

    if (r->raw || parse_print_typed(r->out, resp) == 0)
        print_response(r, resp);
    for (size_t i = 0; i < r->nlits; i++)
        free(r->lits[i].data);
    r->nlits = r->next = 0;
    return ferror(r->out) ? POSTA_EIO : 0;
}

/* ---- options and the read loop ---- */

struct opts {
    int raw, literals, seeded;
    size_t chunk;
    uint64_t seed;
    posta_imap_limits lim;
};

static int parse_size(const char *s, size_t *r)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v == 0 || v > SIZE_MAX)
        return -1;
    *r = (size_t)v;
    return 0;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
    static const struct {
        const char *name;
        size_t offset;
    } sizes[] = {
        {"--inline-limit", offsetof(posta_imap_limits, inline_literal)},
        {"--max-line", offsetof(posta_imap_limits, max_line)},
        {"--max-item", offsetof(posta_imap_limits, max_item)},
        {"--max-depth", offsetof(posta_imap_limits, max_depth)},
        {"--max-items", offsetof(posta_imap_limits, max_items)},
        {"--max-response", offsetof(posta_imap_limits, max_response)},
    };
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        size_t v, k;
        if (strcmp(a, "--raw") == 0) {
            o->raw = 1;
            continue;
        }
        if (strcmp(a, "--literals") == 0) {
            o->literals = 1;
            continue;
        }
        if (i + 1 >= argc || parse_size(argv[i + 1], &v) < 0) {
            tool_err("parse", "%s: unknown option or missing number", a);
            return -1;
        }
        i++;
        if (strcmp(a, "--chunk") == 0)
            o->chunk = v;
        else if (strcmp(a, "--seed") == 0)
            o->seed = v, o->seeded = 1;
        else {
            for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++)
                if (strcmp(a, sizes[k].name) == 0)
                    break;
            if (k == sizeof(sizes) / sizeof(sizes[0])) {
                tool_err("parse", "unknown option %s", a);
                return -1;
            }
            *(size_t *)((char *)&o->lim + sizes[k].offset) = v;
        }
    }
    return 0;
}

/* xorshift64*: reproducible chunk sizes for a seed. */
static size_t next_chunk(struct opts *o)
{
    if (!o->chunk)
        return SIZE_MAX;
    if (!o->seeded)
        return o->chunk;
    o->seed ^= o->seed >> 12;
    o->seed ^= o->seed << 25;
    o->seed ^= o->seed >> 27;
    return 1 + (size_t)((o->seed * UINT64_C(2685821657736338717)) >> 33) % o->chunk;
}

static int feed_all(posta_imap_parser *p, struct opts *o)
{
    static unsigned char buf[64 * 1024];
    ssize_t got;

    if (o->seeded && o->seed == 0)
        o->seed = 1;  /* xorshift stays at 0 otherwise */
    while ((got = read(0, buf, sizeof(buf))) != 0) {
        if (got < 0) {
            if (errno == EINTR)
                continue;
            tool_err("parse", "read: %s", strerror(errno));
            return 2;
        }
        for (size_t pos = 0; pos < (size_t)got;) {
            size_t n = next_chunk(o);
            if (n > (size_t)got - pos)
                n = (size_t)got - pos;
            long rc = posta_imap_parser_feed(p, buf + pos, n);
            if (rc < 0) {
                fflush(stdout);
                tool_err("parse", "%s", posta_imap_parser_errmsg(p));
                return 1;
            }
            pos += (size_t)rc;
        }
    }
    if (!posta_imap_parser_idle(p)) {
        fflush(stdout);
        tool_err("parse", "input ends inside a response (at byte %" PRIu64 ")",
                 posta_imap_parser_offset(p));
        return 1;
    }
    return 0;
}

static int parse_imap(int argc, char **argv)
{
    struct opts o = {0};
    struct imap_run r = {.out = stdout};
    posta_imap_parser *p = NULL;
    posta_imap_parser_callbacks cb = {
        .on_response = on_response,
        .on_literal_begin = on_lit_begin,
        .on_literal_data = on_lit_data,
        .on_literal_end = on_lit_end,
    };

    if (parse_opts(argc, argv, &o) < 0) {
        fputs(usage_text, stderr);
        return 64;
    }
    r.raw = o.raw;
    r.literals = o.literals;
    r.md = EVP_MD_CTX_new();
    int rc = r.md ? posta_imap_parser_new(&p, &cb, &o.lim, &r) : POSTA_ENOMEM;
    if (rc < 0) {
        tool_err("parse", "%s", posta_strerror(rc));
        EVP_MD_CTX_free(r.md);
        return 2;
    }
    rc = feed_all(p, &o);
    posta_imap_parser_free(p);
    for (size_t i = 0; i < r.nlits; i++)
        free(r.lits[i].data);
    free(r.lits);
    EVP_MD_CTX_free(r.md);
    if (fflush(stdout) != 0 && rc == 0) {
        tool_err("parse", "write: %s", strerror(errno));
        rc = 2;
    }
    return rc;
}

int cmd_parse(int argc, char **argv)
{
    static const struct {
        const char *protocol;
        int (*fn)(int, char **);
    } parsers[] = {
        {"imap", parse_imap},
    };

    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(usage_text, stdout);
        return 0;
    }
    for (int i = 2; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage_text, stdout);
            return 0;
        }
    for (size_t k = 0; argc >= 2 && k < sizeof(parsers) / sizeof(parsers[0]); k++)
        if (strcmp(argv[1], parsers[k].protocol) == 0)
            return parsers[k].fn(argc, argv);
    tool_err("parse", "say which protocol: posta parse imap [options] < bytes");
    fputs(usage_text, stderr);
    return 64;
}
