/* The IMAP command writer: exact bytes of every conversion and literal
 * style, continuation points, sources, redaction, refusals, and random
 * strings that must never break the command line. */
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <posta/imap_writer.h>
#include <posta/util.h>

#include "t.h"
#include "wire_check.h"

enum {
    LPLUS = POSTA_IMAP_WRITER_LITERALPLUS,
    LMINUS = POSTA_IMAP_WRITER_LITERALMINUS,
    BINARY = POSTA_IMAP_WRITER_BINARY,
    UTF8 = POSTA_IMAP_WRITER_UTF8
};

/* The last fmt() call: its return code, error sentence and length. */
static int last_rc;
static char last_err[600];
static size_t last_len;

/* Format with the given capabilities and return the exact rendering
 * (malloc'd), or NULL with last_rc and last_err set. */
static char *vfmt(const posta_imap_writer_opts *opts, const char *tag, const char *format,
                  va_list ap)
{
    posta_imap_writer *w;
    posta_imap_cmd *cmd;
    char *text = NULL;

    T_EQ_INT(posta_imap_writer_new(&w, opts), 0);
    last_rc = posta_imap_cmd_vnew(w, &cmd, tag, format, ap);
    snprintf(last_err, sizeof(last_err), "%s", posta_imap_writer_errmsg(w));
    last_len = 0;
    if (last_rc == 0) {
        T_ASSERT(cmd != NULL);
        T_EQ_INT(posta_imap_cmd_render(cmd, 0, &text, &last_len), 0);
        const char *why = wire_check((const unsigned char *)text, last_len);
        if (why)
            t_fail(__FILE__, __LINE__, "wire check of \"%s\": %s", text, why);
        posta_imap_cmd_free(cmd);
    } else {
        T_ASSERT(cmd == NULL);
    }
    posta_imap_writer_free(w);
    return text;
}

static char *fmt_caps(unsigned caps, const char *tag, const char *format, ...)
{
    posta_imap_writer_opts o = {.caps = caps};
    va_list ap;
    va_start(ap, format);
    char *s = vfmt(&o, tag, format, ap);
    va_end(ap);
    return s;
}

/* Check that formatting gives exactly `want`. */
#define T_FMT(caps, want, ...) do { char *got_ = fmt_caps((caps), __VA_ARGS__); \
    if (!got_) t_fail(__FILE__, __LINE__, "refused (%d): %s", last_rc, last_err); \
    else T_EQ_MEM(got_, last_len, (want), strlen(want)); \
    if (got_ && (last_len != strlen(want) || memcmp(got_, (want), last_len))) \
        fprintf(stderr, "   got: \"%s\"\n  want: \"%s\"\n", got_, (want)); \
    free(got_); } while (0)

/* Check that formatting is refused with `code` and a sentence holding `words`. */
#define T_REFUSED(caps, code, words, ...) do { char *got_ = fmt_caps((caps), __VA_ARGS__); \
    if (got_) t_fail(__FILE__, __LINE__, "accepted: \"%s\"", got_); \
    else { T_EQ_INT(last_rc, (code)); T_CONTAINS(last_err, (words)); } \
    free(got_); } while (0)

static void test_atom(void)
{
    T_FMT(0, "a1 SELECT INBOX\r\n", "a1", "SELECT %a", "INBOX");
    T_FMT(0, "a1 FETCH 1 (UID RFC822.SIZE)\r\n", "a1", "FETCH 1 (%a %a)", "UID", "RFC822.SIZE");
    T_FMT(0, "a1 X ab\r\n", "a1", "X %.*a", 2, "abc");
    T_REFUSED(0, POSTA_EINVAL, "argument 1 (%a) is not an atom", "a1", "X %a", "a b");
    T_REFUSED(0, POSTA_EINVAL, "at offset 1", "a1", "X %a", "a b");
    T_REFUSED(0, POSTA_EINVAL, "is empty", "a1", "X %a", "");
    T_REFUSED(0, POSTA_EINVAL, "not an atom", "a1", "X %a", "(");
    T_REFUSED(0, POSTA_EINVAL, "not an atom", "a1", "X %a", "x]");
    T_REFUSED(0, POSTA_EINVAL, "not an atom", "a1", "X %a", "\\Seen");
    T_REFUSED(0, POSTA_EINVAL, "not an atom", "a1", "X %a", "a\r\nb");
    T_REFUSED(0, POSTA_EINVAL, "not an atom", "a1", "X %a", "caf\xc3\xa9");
    T_REFUSED(0, POSTA_EINVAL, "argument 2 (%a) is a NULL pointer", "a1", "X %a %a", "ok", (char *)NULL);
}

static void test_flag(void)
{
    T_FMT(0, "a1 STORE 1 +FLAGS (\\Seen $Forwarded)\r\n", "a1", "STORE %S +FLAGS (%F %F)", "1",
          "\\Seen", "$Forwarded");
    T_REFUSED(0, POSTA_EINVAL, "not a flag", "a1", "X %F", "\\");
    T_REFUSED(0, POSTA_EINVAL, "not a flag", "a1", "X %F", "");
    T_REFUSED(0, POSTA_EINVAL, "not a flag", "a1", "X %F", "\\Se en");
    T_REFUSED(0, POSTA_EINVAL, "not a flag", "a1", "X %F", "\\\\Seen");
    T_REFUSED(0, POSTA_EINVAL, "not a flag", "a1", "X %F", "a)");
}

static void test_astring(void)
{
    T_FMT(0, "a1 LOGIN fred secret\r\n", "a1", "LOGIN %s %s", "fred", "secret");
    T_FMT(0, "a1 X \"\"\r\n", "a1", "X %s", "");
    T_FMT(0, "a1 X \"NIL\" \"nil\" NILS\r\n", "a1", "X %s %s %s", "NIL", "nil", "NILS");
    T_FMT(0, "a1 X \"a b\"\r\n", "a1", "X %s", "a b");
    T_FMT(0, "a1 X \"a\\\"b\\\\c\"\r\n", "a1", "X %s", "a\"b\\c");
    T_FMT(0, "a1 X \"x]\" \"(\" \"{\" \"%\" \"*\"\r\n", "a1", "X %s %s %s %s %s", "x]", "(",
          "{", "%", "*");
    T_FMT(0, "a1 X \"a\tb\x01\x7f\"\r\n", "a1", "X %s", "a\tb\x01\x7f");
    T_FMT(0, "a1 X }a&-~/.+=\r\n", "a1", "X %s", "}a&-~/.+=");
    /* CR or LF anywhere: a literal. */
    T_FMT(0, "a1 X {4}\r\na\r\nb\r\n", "a1", "X %s", "a\r\nb");
    T_FMT(0, "a1 X {1}\r\n\n\r\n", "a1", "X %s", "\n");
    T_FMT(0, "a1 X {1}\r\n\r\r\n", "a1", "X %s", "\r");
    /* 8-bit: a literal, or quoted UTF-8 when UTF8=ACCEPT is on. */
    T_FMT(0, "a1 X {5}\r\ncaf\xc3\xa9\r\n", "a1", "X %s", "caf\xc3\xa9");
    T_FMT(UTF8, "a1 X \"caf\xc3\xa9\"\r\n", "a1", "X %s", "caf\xc3\xa9");
    T_FMT(UTF8, "a1 X {4}\r\ncaf\xe9\r\n", "a1", "X %s", "caf\xe9");
    T_FMT(UTF8 | LPLUS, "a1 X {4+}\r\ncaf\xe9\r\n", "a1", "X %s", "caf\xe9");
    /* Counted strings, and NUL refused. */
    T_FMT(0, "a1 X ab\r\n", "a1", "X %.*s", 2, "abc");
    T_FMT(0, "a1 X \"\"\r\n", "a1", "X %.*s", 0, (char *)NULL);
    T_REFUSED(0, POSTA_EINVAL, "argument 1 (%s) holds a NUL byte", "a1", "X %.*s", 3, "a\0b");
    T_REFUSED(0, POSTA_EINVAL, "at offset 1", "a1", "X %.*s", 3, "a\0b");
    T_REFUSED(0, POSTA_EINVAL, "negative length", "a1", "X %.*s", -1, "a");
    T_REFUSED(0, POSTA_EINVAL, "NULL", "a1", "X %s", (char *)NULL);
}

static void test_astring_long(void)
{
    char s[1100];
    char want[1200];

    memset(s, 'a', sizeof(s));
    s[1024] = '\0';
    snprintf(want, sizeof(want), "a1 X %s\r\n", s);
    T_FMT(0, want, "a1", "X %s", s);
    s[1024] = 'a';
    s[1025] = '\0';
    snprintf(want, sizeof(want), "a1 X {1025}\r\n%s\r\n", s);
    T_FMT(0, want, "a1", "X %s", s);
    snprintf(want, sizeof(want), "a1 X {1025+}\r\n%s\r\n", s);
    T_FMT(LMINUS, want, "a1", "X %s", s);

    posta_imap_writer_opts o = {.max_quoted = 4};
    posta_imap_writer *w;
    posta_imap_cmd *cmd;
    char *text;
    size_t len;
    T_EQ_INT(posta_imap_writer_new(&w, &o), 0);
    T_EQ_INT(posta_imap_cmd_new(w, &cmd, "a1", "X %s %s", "a b ", "a b c"), 0);
    T_EQ_INT(posta_imap_cmd_render(cmd, 0, &text, &len), 0);
    T_EQ_STR(text, "a1 X \"a b \" {5}\r\na b c\r\n");
    free(text);
    posta_imap_cmd_free(cmd);

    /* max_command bounds what a command copies. */
    posta_imap_writer_free(w);
    o = (posta_imap_writer_opts){.max_command = 16};
    T_EQ_INT(posta_imap_writer_new(&w, &o), 0);
    T_EQ_INT(posta_imap_cmd_new(w, &cmd, "a1", "X %s", "0123456789"), POSTA_EINVAL);
    T_CONTAINS(posta_imap_writer_errmsg(w), "max_command");
    T_EQ_INT(posta_imap_cmd_new(w, &cmd, "a1", "X %s", "0123456"), 0);
    posta_imap_cmd_free(cmd);
    posta_imap_writer_free(w);
}

static void test_secret(void)
{
    posta_imap_writer *w;
    posta_imap_cmd *cmd;
    char *text;
    size_t len;

    T_EQ_INT(posta_imap_writer_new(&w, NULL), 0);
    T_EQ_INT(posta_imap_cmd_new(w, &cmd, "a1", "LOGIN %s %p", "fred", "pa ss"), 0);
    T_EQ_INT(posta_imap_cmd_render(cmd, 0, &text, &len), 0);
    T_EQ_STR(text, "a1 LOGIN fred \"pa ss\"\r\n");
    free(text);
    T_EQ_INT(posta_imap_cmd_render(cmd, POSTA_IMAP_RENDER_REDACT, &text, &len), 0);
    T_EQ_STR(text, "a1 LOGIN fred <omitted>\r\n");
    T_EQ_INT(len, strlen(text));
    free(text);
    posta_imap_cmd_free(cmd);

    /* A secret sent as a synchronizing literal hides its length too. */
    T_EQ_INT(posta_imap_cmd_new(w, &cmd, "a1", "LOGIN %p %p", "fred", "p\r\nw"), 0);
    T_EQ_INT(posta_imap_cmd_render(cmd, 0, &text, &len), 0);
    T_EQ_STR(text, "a1 LOGIN fred {4}\r\np\r\nw\r\n");
    free(text);
    T_EQ_INT(posta_imap_cmd_render(cmd, POSTA_IMAP_RENDER_REDACT, &text, &len), 0);
    T_EQ_STR(text, "a1 LOGIN <omitted> <omitted>\r\n");
    free(text);
    posta_imap_cmd_free(cmd);

    posta_imap_literal lit = {.size = 6, .data = "s3cr3t", .flags = POSTA_IMAP_LITERAL_SECRET};
    T_EQ_INT(posta_imap_cmd_new(w, &cmd, "a2", "AUTH %L X", &lit), 0);
    T_EQ_INT(posta_imap_cmd_render(cmd, POSTA_IMAP_RENDER_REDACT | POSTA_IMAP_RENDER_ELIDE, &text,
                                   &len), 0);
    T_EQ_STR(text, "a2 AUTH <omitted> X\r\n");
    free(text);
    posta_imap_cmd_free(cmd);
    posta_imap_writer_free(w);
}

static void test_mailbox(void)
{
    T_FMT(0, "a1 SELECT INBOX\r\n", "a1", "SELECT %m", "INBOX");
    T_FMT(0, "a1 SELECT inBox\r\n", "a1", "SELECT %m", "inBox");
    T_FMT(UTF8, "a1 SELECT inbox\r\n", "a1", "SELECT %m", "inbox");
    /* RFC 3501 section 5.1.3's example. */
    T_FMT(0, "a1 CREATE ~peter/mail/&U,BTFw-/&ZeVnLIqe-\r\n", "a1", "CREATE %m",
          "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
    T_FMT(UTF8, "a1 CREATE \"~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\"\r\n",
          "a1", "CREATE %m",
          "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
    T_FMT(0, "a1 SELECT \"Sent Items\"\r\n", "a1", "SELECT %m", "Sent Items");
    T_FMT(0, "a1 SELECT \"a b&-c\"\r\n", "a1", "SELECT %m", "a b&c");
    T_FMT(0, "a1 SELECT &AOk-t&AOk-\r\n", "a1", "SELECT %m", "\xc3\xa9t\xc3\xa9");
    T_FMT(0, "a1 SELECT \"\"\r\n", "a1", "SELECT %m", "");
    T_FMT(0, "a1 SELECT &AA0ACg-\r\n", "a1", "SELECT %m", "\r\n");
    T_FMT(UTF8, "a1 SELECT {2}\r\n\r\n\r\n", "a1", "SELECT %m", "\r\n");
    T_FMT(UTF8, "a1 SELECT \"a\\\"b\"\r\n", "a1", "SELECT %m", "a\"b");
    T_REFUSED(0, POSTA_EINVAL, "argument 1 (%m) is not a valid mailbox name: truncated UTF-8 sequence at offset 3", "a1", "SELECT %m", "caf\xe9");
    T_REFUSED(UTF8, POSTA_EINVAL, "argument 1 (%m)", "a1", "SELECT %m", "caf\xe9");
    T_REFUSED(UTF8, POSTA_EINVAL, "at offset 3", "a1", "SELECT %m", "caf\xe9");
    T_REFUSED(0, POSTA_EINVAL, "NUL", "a1", "SELECT %.*m", 3, "a\0b");
    T_REFUSED(UTF8, POSTA_EINVAL, "NUL", "a1", "SELECT %.*m", 3, "a\0b");
}

static void test_vector(void)
{
    const char *v[] = {"a", "b c", "", "\r", NULL};
    const char *empty[] = {NULL};

    T_FMT(0, "a1 X (a \"b c\" \"\" {1}\r\n\r)\r\n", "a1", "X (%v)", v);
    T_FMT(0, "a1 X ()\r\n", "a1", "X (%v)", empty);
    T_REFUSED(0, POSTA_EINVAL, "NULL vector", "a1", "X (%v)", (char **)NULL);
    T_REFUSED(0, POSTA_EINVAL, "empty", "a1", "%v", empty);
}

static void test_seqset(void)
{
    static const char *good[] = {"1", "*", "$", "1:*", "*:1", "1,3:5,7", "4294967295",
                                 "1:4294967295,*", NULL};
    static const char *bad[] = {"", "0", "1:", ":1", "1 2", "4294967296", "1,,2", "a", "1,",
                                "01", "$,1", "1:0", "-1", "1:*:2", NULL};
    char want[100];

    for (int i = 0; good[i]; i++) {
        snprintf(want, sizeof(want), "a1 FETCH %s FLAGS\r\n", good[i]);
        T_FMT(0, want, "a1", "FETCH %S FLAGS", good[i]);
    }
    for (int i = 0; bad[i]; i++)
        T_REFUSED(0, POSTA_EINVAL, "is not a sequence set", "a1", "FETCH %S FLAGS", bad[i]);
    T_REFUSED(0, POSTA_EINVAL, "NULL", "a1", "FETCH %S FLAGS", (char *)NULL);
}

static void test_numbers(void)
{
    char want[200];

    T_FMT(0, "a1 X 0 -1 2147483647 -2147483648\r\n", "a1", "X %d %d %d %d", 0, -1, INT_MAX,
          INT_MIN);
    T_FMT(0, "a1 X 0 4294967295\r\n", "a1", "X %u %u", 0u, UINT_MAX);
    snprintf(want, sizeof(want), "a1 X %ld %lu %lld %llu %zu\r\n", LONG_MIN, ULONG_MAX,
             LLONG_MIN, ULLONG_MAX, (size_t)SIZE_MAX);
    T_FMT(0, want, "a1", "X %ld %lu %lld %llu %zu", LONG_MIN, ULONG_MAX, LLONG_MIN, ULLONG_MAX,
          (size_t)SIZE_MAX);
    T_FMT(0, "a1 FETCH 1 (FLAGS) (CHANGEDSINCE 18446744073709551615)\r\n", "a1",
          "FETCH %u (FLAGS) (CHANGEDSINCE %" PRIu64 ")", 1u, UINT64_MAX);
    T_FMT(0, "a1 X 100% %d\r\n", "a1", "X %d%% %%d", 100);
}

static void test_bad_format(void)
{
    T_REFUSED(0, POSTA_EINVAL, "\"%x\" at offset 2", "a1", "X %x", 1);
    T_REFUSED(0, POSTA_EINVAL, "\"%5\" at offset 2", "a1", "X %5d", 1);
    T_REFUSED(0, POSTA_EINVAL, "\"%ls\"", "a1", "X %ls", "a");
    T_REFUSED(0, POSTA_EINVAL, "\"%.*d\"", "a1", "X %.*d", 1, 1);
    T_REFUSED(0, POSTA_EINVAL, "\"%zd\"", "a1", "X %zd", (size_t)1);
    T_REFUSED(0, POSTA_EINVAL, "\"%\" at offset 2", "a1", "X %");
    T_REFUSED(0, POSTA_EINVAL, "\"%l\"", "a1", "X %l");
    T_REFUSED(0, POSTA_EINVAL, "\"%.*v\"", "a1", "X %.*v", 1, (char **)NULL);
    /* Format text stays one printable line. */
    T_REFUSED(0, POSTA_EINVAL, "byte 0x0d at offset 1", "a1", "X\r\nY");
    T_REFUSED(0, POSTA_EINVAL, "byte 0x0a", "a1", "X\nY");
    T_REFUSED(0, POSTA_EINVAL, "byte 0x09", "a1", "X\tY");
    T_REFUSED(0, POSTA_EINVAL, "byte 0xc3", "a1", "X caf\xc3\xa9");
    /* ... and must not end in a literal header. */
    T_REFUSED(0, POSTA_EINVAL, "literal header", "a1", "X {5}");
    T_REFUSED(0, POSTA_EINVAL, "literal header", "a1", "X {5+}");
    T_REFUSED(0, POSTA_EINVAL, "literal header", "a1", "X {%u}", 5u);
    T_REFUSED(0, POSTA_EINVAL, "literal header", "a1", "X {%a", "5}");
    T_REFUSED(0, POSTA_EINVAL, "literal header", NULL, "{12}");
    T_FMT(0, "a1 X {}\r\n", "a1", "X {}");
    T_FMT(0, "a1 X {a}\r\n", "a1", "X {a}");
    T_FMT(0, "a1 X 5}\r\n", "a1", "X 5}");
    /* Literal data that happens to end like a header is fine: it is counted. */
    T_FMT(0, "a1 X {5}\r\n\r\n{5}\r\n", "a1", "X %s", "\r\n{5}");
}

static void test_tag(void)
{
    T_FMT(0, "A]1 NOOP\r\n", "A]1", "NOOP");
    T_FMT(0, "DONE\r\n", NULL, "DONE");
    T_FMT(0, "\r\n", NULL, "");
    T_FMT(0, "dGVzdA==\r\n", NULL, "%a", "dGVzdA==");
    T_REFUSED(0, POSTA_EINVAL, "tag is empty", "", "NOOP");
    T_REFUSED(0, POSTA_EINVAL, "byte 0x2b at offset 1", "a+1", "NOOP");
    T_REFUSED(0, POSTA_EINVAL, "byte 0x20", "a 1", "NOOP");
    T_REFUSED(0, POSTA_EINVAL, "byte 0x0d", "a\r\n", "NOOP");
    T_REFUSED(0, POSTA_EINVAL, "byte 0x2a", "a*", "NOOP");
    T_REFUSED(0, POSTA_EINVAL, "empty", "a1", "");
    T_REFUSED(0, POSTA_EINVAL, "format is NULL", "a1", NULL);
}

static long src_read(posta_imap_cmd *cmd, void *buf, size_t cap, void *user);

/* One buffer literal in every style. */
static void literal_case(unsigned caps, size_t n, unsigned lflags, const char *hdr)
{
    char *data = malloc(n + 1);
    char *want = malloc(n + 64);
    memset(data, 'x', n);
    data[n] = '\0';
    posta_imap_literal lit = {.size = n, .data = data, .flags = lflags};
    int len = snprintf(want, n + 64, "a1 APPEND INBOX %s\r\n%s\r\n", hdr, data);
    char *got = fmt_caps(caps, "a1", "APPEND %m %L", "INBOX", &lit);
    if (!got)
        t_fail(__FILE__, __LINE__, "caps %u size %zu refused: %s", caps, n, last_err);
    else if (last_len != (size_t)len || memcmp(got, want, last_len) != 0)
        t_fail(__FILE__, __LINE__, "caps %u size %zu: expected header %s", caps, n, hdr);
    free(got);
    free(want);
    free(data);
}

static void test_literal_styles(void)
{
    literal_case(0, 0, 0, "{0}");
    literal_case(0, 5, 0, "{5}");
    literal_case(LPLUS, 5, 0, "{5+}");
    literal_case(LPLUS, 100000, 0, "{100000+}");
    literal_case(LMINUS, 4096, 0, "{4096+}");
    literal_case(LMINUS, 4097, 0, "{4097}");
    literal_case(LMINUS | LPLUS, 4097, 0, "{4097+}");
    literal_case(BINARY, 5, POSTA_IMAP_LITERAL_BINARY, "~{5}");
    literal_case(BINARY | LPLUS, 5, POSTA_IMAP_LITERAL_BINARY, "~{5+}");
    literal_case(BINARY | LMINUS, 4096, POSTA_IMAP_LITERAL_BINARY, "~{4096+}");
    literal_case(BINARY | LMINUS, 4097, POSTA_IMAP_LITERAL_BINARY, "~{4097}");
    literal_case(BINARY, 5, 0, "{5}");

    posta_imap_literal lit = {.size = 3, .data = "a\0b"};
    T_REFUSED(0, POSTA_EINVAL, "NUL byte but not flagged", "a1", "APPEND x %L", &lit);
    T_REFUSED(0, POSTA_EINVAL, "at offset 1", "a1", "APPEND x %L", &lit);
    lit.flags = POSTA_IMAP_LITERAL_BINARY;
    T_REFUSED(0, POSTA_EUNSUPPORTED, "BINARY capability", "a1", "APPEND x %L", &lit);
    char *got = fmt_caps(BINARY, "a1", "APPEND x %L", &lit);
    static const char want[] = "a1 APPEND x ~{3}\r\na\0b\r\n";
    T_ASSERT(got != NULL);
    if (got)
        T_EQ_MEM(got, last_len, want, sizeof(want) - 1);
    free(got);
    lit = (posta_imap_literal){.size = 3};
    T_REFUSED(0, POSTA_EINVAL, "neither data nor read", "a1", "APPEND x %L", &lit);
    lit = (posta_imap_literal){.size = (uint64_t)INT64_MAX + 1, .read = src_read};
    T_REFUSED(0, POSTA_EINVAL, "larger than 2^63-1", "a1", "APPEND x %L", &lit);
    T_REFUSED(0, POSTA_EINVAL, "NULL", "a1", "APPEND x %L", (posta_imap_literal *)NULL);
}

/* Collects the pieces of a command as text: BYTES as is, WAIT as "<W>",
 * SOURCE data pulled chunk by chunk wrapped as "<S" ... ">". */
static char *walk(posta_imap_cmd *cmd, size_t chunk, int marks, size_t *len_r)
{
    size_t cap = 1 << 16, len = 0;
    char *out = malloc(cap);
    posta_imap_piece pc;
    char buf[64];

    for (;;) {
        T_EQ_INT(posta_imap_cmd_next(cmd, &pc), 0);
        if (pc.kind == POSTA_IMAP_PIECE_END)
            break;
        if (pc.kind == POSTA_IMAP_PIECE_BYTES) {
            memcpy(out + len, pc.data, pc.len);
            len += pc.len;
        } else if (pc.kind == POSTA_IMAP_PIECE_WAIT) {
            if (marks)
                len += (size_t)sprintf(out + len, "<W>");
        } else {
            if (marks)
                len += (size_t)sprintf(out + len, "<S%llu:", (unsigned long long)pc.size);
            long r;
            while ((r = posta_imap_cmd_read(cmd, buf, chunk)) != 0) {
                if (r == POSTA_EAGAIN)
                    continue;
                T_ASSERT(r > 0 && (size_t)r <= chunk);
                if (r < 0)
                    break;
                memcpy(out + len, buf, (size_t)r);
                len += (size_t)r;
            }
            if (marks)
                out[len++] = '>';
        }
    }
    T_EQ_INT(posta_imap_cmd_next(cmd, &pc), 0);
    T_EQ_INT(pc.kind, POSTA_IMAP_PIECE_END);
    out[len] = '\0';
    *len_r = len;
    return out;
}

static void test_pieces(void)
{
    posta_imap_writer *w;
    posta_imap_cmd *cmd;
    size_t len;
    char *s;
    posta_imap_literal lit = {.size = 5, .data = "hello"};

    T_EQ_INT(posta_imap_writer_new(&w, NULL), 0);
    T_EQ_INT(posta_imap_cmd_new(w, &cmd, "a1", "APPEND %m (%F) %L", "Drafts", "\\Draft", &lit), 0);
    s = walk(cmd, 64, 1, &len);
    T_EQ_STR(s, "a1 APPEND Drafts (\\Draft) {5}\r\n<W>hello\r\n");
    free(s);
    posta_imap_cmd_free(cmd);

    /* Two synchronizing literals from strings: two waits. */
    T_EQ_INT(posta_imap_cmd_new(w, &cmd, "a2", "LOGIN %s %p", "a\nb", "c\nd"), 0);
    s = walk(cmd, 64, 1, &len);
    T_EQ_STR(s, "a2 LOGIN {3}\r\n<W>a\nb {3}\r\n<W>c\nd\r\n");
    free(s);
    posta_imap_cmd_free(cmd);

    posta_imap_writer_set_caps(w, LPLUS);
    T_EQ_INT(posta_imap_writer_caps(w), LPLUS);
    T_EQ_INT(posta_imap_cmd_new(w, &cmd, "a3", "APPEND %m %L", "Drafts", &lit), 0);
    s = walk(cmd, 64, 1, &len);
    T_EQ_STR(s, "a3 APPEND Drafts {5+}\r\nhello\r\n");
    free(s);
    /* Rendering does not disturb or depend on the iteration. */
    T_EQ_INT(posta_imap_cmd_render(cmd, POSTA_IMAP_RENDER_ELIDE, &s, &len), 0);
    T_EQ_STR(s, "a3 APPEND Drafts {5+}\r\n<5 octets>\r\n");
    free(s);
    posta_imap_cmd_free(cmd);
    posta_imap_writer_free(w);
}

/* A source: deliver `total` bytes of a pattern, at most `step` at a time,
 * with EAGAIN every other call when `flaky`; `lie` changes the ending. */
struct src {
    size_t total, given, step;
    int flaky, calls;
    int lie;  /* 1: end early, 2: give too much, 3: a NUL, 4: error */
};

static long src_read(posta_imap_cmd *cmd, void *buf, size_t cap, void *user)
{
    struct src *s = user;
    T_ASSERT(cmd != NULL);
    T_ASSERT(cap > 0 && cap <= s->total - s->given);
    if (s->flaky && s->calls++ % 2 == 0)
        return POSTA_EAGAIN;
    if (s->lie == 1 && s->given >= s->total / 2)
        return 0;
    if (s->lie == 4 && s->given > 0)
        return POSTA_EIO;
    size_t n = cap < s->step ? cap : s->step;
    if (s->lie == 2)
        n = cap + 1;
    for (size_t i = 0; i < n; i++)
        ((char *)buf)[i] = (char)('a' + (s->given + i) % 26);
    if (s->lie == 3 && s->given > 0)
        ((char *)buf)[0] = '\0';
    s->given += n;
    return (long)n;
}

static void test_source(void)
{
    posta_imap_writer *w;
    posta_imap_cmd *cmd;
    posta_imap_piece pc;
    size_t len;
    char buf[64], *s; /* room for the source that gives too much */
    struct src src = {.total = 30, .step = 7, .flaky = 1};
    posta_imap_literal lit = {.size = 30, .read = src_read, .user = &src};

    T_EQ_INT(posta_imap_writer_new(&w, NULL), 0);
    T_EQ_INT(posta_imap_cmd_new(w, &cmd, "a1", "APPEND INBOX %L", &lit), 0);
    T_EQ_INT(posta_imap_cmd_render(cmd, 0, &s, &len), POSTA_EINVAL);
    T_EQ_INT(posta_imap_cmd_render(cmd, POSTA_IMAP_RENDER_ELIDE, &s, &len), 0);
    T_EQ_STR(s, "a1 APPEND INBOX {30}\r\n<30 octets>\r\n");
    free(s);
    T_EQ_INT(posta_imap_cmd_read(cmd, buf, sizeof(buf)), POSTA_ESTATE);
    s = walk(cmd, 5, 1, &len);
    T_EQ_STR(s, "a1 APPEND INBOX {30}\r\n<W><S30:abcdefghijklmnopqrstuvwxyzabcd>\r\n");
    T_EQ_INT(src.given, 30);
    free(s);
    posta_imap_cmd_free(cmd);

    /* next() before the source is drained is refused. */
    src = (struct src){.total = 30, .step = 30};
    T_EQ_INT(posta_imap_cmd_new(w, &cmd, "a1", "APPEND INBOX %L", &lit), 0);
    T_EQ_INT(posta_imap_cmd_next(cmd, &pc), 0);
    T_EQ_INT(posta_imap_cmd_next(cmd, &pc), 0);
    T_EQ_INT(pc.kind, POSTA_IMAP_PIECE_WAIT);
    T_EQ_INT(posta_imap_cmd_next(cmd, &pc), 0);
    T_EQ_INT(pc.kind, POSTA_IMAP_PIECE_SOURCE);
    T_EQ_INT(pc.size, 30);
    T_EQ_INT(posta_imap_cmd_read(cmd, buf, 10), 10);
    T_EQ_INT(posta_imap_cmd_next(cmd, &pc), POSTA_ESTATE);
    T_CONTAINS(posta_imap_cmd_errmsg(cmd), "20 octets");
    T_EQ_INT(posta_imap_cmd_read(cmd, buf, 0), POSTA_EINVAL);
    T_EQ_INT(posta_imap_cmd_read(cmd, buf, 16), 16);
    T_EQ_INT(posta_imap_cmd_read(cmd, buf, 16), 4);
    T_EQ_INT(posta_imap_cmd_read(cmd, buf, 16), 0);
    T_EQ_INT(posta_imap_cmd_next(cmd, &pc), 0);
    T_EQ_INT(pc.kind, POSTA_IMAP_PIECE_BYTES);
    T_EQ_MEM(pc.data, pc.len, "\r\n", 2);
    T_EQ_INT(posta_imap_cmd_read(cmd, buf, 16), POSTA_ESTATE);
    posta_imap_cmd_free(cmd);

    /* Sources that misbehave: the command is marked failed for good. */
    static const struct {
        int lie;
        int code;
        const char *words;
    } lies[] = {
        {1, POSTA_EINVAL, "ended after 21 of 30 octets"},
        {2, POSTA_EINVAL, "gave 17 octets when asked for 16"},
        {3, POSTA_EINVAL, "NUL byte at octet 7 of 30"},
        {4, POSTA_EIO, "failed after 7 of 30 octets"},
    };
    for (size_t i = 0; i < sizeof(lies) / sizeof(lies[0]); i++) {
        src = (struct src){.total = 30, .step = 7, .lie = lies[i].lie};
        T_EQ_INT(posta_imap_cmd_new(w, &cmd, "a1", "APPEND INBOX %L", &lit), 0);
        for (int k = 0; k < 3; k++)
            T_EQ_INT(posta_imap_cmd_next(cmd, &pc), 0);
        long r;
        while ((r = posta_imap_cmd_read(cmd, buf, 16)) > 0)
            ;
        T_EQ_INT(r, lies[i].code);
        T_CONTAINS(posta_imap_cmd_errmsg(cmd), lies[i].words);
        T_EQ_INT(posta_imap_cmd_next(cmd, &pc), lies[i].code);
        T_EQ_INT(posta_imap_cmd_read(cmd, buf, 16), lies[i].code);
        posta_imap_cmd_free(cmd);
    }

    /* A binary source may hold NUL; size 0 pulls nothing. */
    posta_imap_writer_set_caps(w, BINARY | LPLUS);
    src = (struct src){.total = 30, .step = 7, .lie = 3};
    lit.flags = POSTA_IMAP_LITERAL_BINARY;
    T_EQ_INT(posta_imap_cmd_new(w, &cmd, "a1", "APPEND INBOX %L", &lit), 0);
    s = walk(cmd, 16, 1, &len);
    T_EQ_INT(len, strlen("a1 APPEND INBOX ~{30+}\r\n<S30:>\r\n") + 30);
    free(s);
    posta_imap_cmd_free(cmd);
    lit.size = 0;
    T_EQ_INT(posta_imap_cmd_new(w, &cmd, "a1", "APPEND INBOX %L", &lit), 0);
    s = walk(cmd, 16, 1, &len);
    T_EQ_STR(s, "a1 APPEND INBOX ~{0+}\r\n\r\n");
    free(s);
    posta_imap_cmd_free(cmd);
    posta_imap_writer_free(w);
}

/* --- random strings ---------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 11);
}

/* Random bytes biased toward what is dangerous in a command line. */
static size_t random_string(char *s, size_t max, int allow_nul)
{
    static const char risky[] = "\r\n\"\\ (){}%*]+~&-,/\t\x7f\x01{5}";
    static const char *utf8[] = {"\xc3\xa9", "\xe5\x8f\xb0", "\xf0\x9f\x98\x80", "\xed\xa0\x80",
                                 "\xc0\xaf", "\xff", "\x80", "NIL", "INBOX"};
    size_t n = rnd() % max, i = 0;

    while (i < n) {
        uint32_t k = rnd() % 10;
        if (k < 3) {
            s[i++] = risky[rnd() % (sizeof(risky) - 1)];
        } else if (k < 5) {
            const char *u = utf8[rnd() % (sizeof(utf8) / sizeof(utf8[0]))];
            size_t ul = strlen(u);
            if (i + ul > n)
                break;
            memcpy(s + i, u, ul);
            i += ul;
        } else if (k < 9) {
            s[i++] = (char)('a' + rnd() % 26);
        } else {
            s[i++] = (char)(rnd() % 256);
        }
        if (!allow_nul && s[i - 1] == '\0')
            s[i - 1] = 'z';
    }
    s[i] = '\0';
    return i;
}

/* Pieces joined must equal the exact rendering. */
static void check_pieces_match(posta_imap_cmd *cmd, const char *text, size_t len)
{
    size_t plen;
    char *joined = walk(cmd, 64, 0, &plen);
    T_EQ_MEM(joined, plen, text, len);
    free(joined);
}

/* Parse "t X <astring>\r\n" back and compare. */
static void check_round_trip(const char *text, size_t len, const char *want, size_t wlen)
{
    size_t pos = 4;
    unsigned char *got;
    size_t glen;

    T_ASSERT(memcmp(text, "t X ", 4) == 0);
    if (wire_astring((const unsigned char *)text, len, &pos, &got, &glen) < 0) {
        t_fail(__FILE__, __LINE__, "cannot parse back \"%s\"", text);
        return;
    }
    T_EQ_MEM(got, glen, want, wlen);
    T_EQ_INT(pos + 2, len);
    free(got);
}

static void random_one(posta_imap_writer *w, unsigned caps, const char *conv, char *s, size_t n,
                       int counted)
{
    posta_imap_cmd *cmd;
    char format[16];
    int rc;

    snprintf(format, sizeof(format), "X %s", conv);
    if (counted)
        rc = posta_imap_cmd_new(w, &cmd, "t", format, (int)n, s);
    else
        rc = posta_imap_cmd_new(w, &cmd, "t", format, s);
    int has_nul = memchr(s, 0, n) != NULL;
    int is_mailbox = conv[strlen(conv) - 1] == 'm';
    if (rc < 0) {
        T_EQ_INT(rc, POSTA_EINVAL);
        /* Only NUL, or bad UTF-8 in a mailbox name, is a reason to refuse. */
        T_ASSERT(has_nul || is_mailbox);
        if (!has_nul && is_mailbox)
            T_EQ_INT(posta_utf8_check(s, n, NULL), POSTA_EINVAL);
        return;
    }
    T_ASSERT(!has_nul);
    char *text;
    size_t len;
    T_EQ_INT(posta_imap_cmd_render(cmd, 0, &text, &len), 0);
    const char *why = wire_check((const unsigned char *)text, len);
    if (why)
        t_fail(__FILE__, __LINE__, "%s with caps %u: %s", conv, caps, why);
    check_pieces_match(cmd, text, len);
    if (!is_mailbox || (caps & UTF8) || (n == 5 && !strncasecmp(s, "INBOX", 5))) {
        check_round_trip(text, len, s, n);
    } else {
        size_t pos = 4, glen, dlen;
        unsigned char *got;
        char *dec;
        if (wire_astring((const unsigned char *)text, len, &pos, &got, &glen) < 0) {
            t_fail(__FILE__, __LINE__, "cannot parse back \"%s\"", text);
            free(text);
            posta_imap_cmd_free(cmd);
            return;
        }
        T_EQ_INT(posta_mutf7_decode((char *)got, glen, &dec, &dlen, NULL), 0);
        T_EQ_MEM(dec, dlen, s, n);
        free(dec);
        free(got);
    }
    free(text);
    posta_imap_cmd_free(cmd);
}

static void test_random_strings(void)
{
    static const unsigned caps_list[] = {0, LPLUS, LMINUS, UTF8, UTF8 | LPLUS, BINARY | LMINUS};
    posta_imap_writer_opts o = {.max_quoted = 40};
    char s[200];

    for (size_t c = 0; c < sizeof(caps_list) / sizeof(caps_list[0]); c++) {
        o.caps = caps_list[c];
        posta_imap_writer *w;
        T_EQ_INT(posta_imap_writer_new(&w, &o), 0);
        for (int i = 0; i < 3000 && !t_failures; i++) {
            size_t n = random_string(s, 120, 0);
            random_one(w, o.caps, "%s", s, n, 0);
            random_one(w, o.caps, "%p", s, n, 0);
            random_one(w, o.caps, "%m", s, n, 0);
            n = random_string(s, 120, 1);
            random_one(w, o.caps, "%.*s", s, n, 1);
            random_one(w, o.caps, "%.*m", s, n, 1);
        }
        posta_imap_writer_free(w);
    }
}

/* Vectors of random strings: the whole line must still hold. */
static void test_random_vectors(void)
{
    char store[8][200];
    const char *v[9];
    posta_imap_writer *w;
    posta_imap_cmd *cmd;

    T_EQ_INT(posta_imap_writer_new(&w, NULL), 0);
    for (int i = 0; i < 2000 && !t_failures; i++) {
        size_t k = rnd() % 8;
        random_string(store[0], 150, 0);
        for (size_t j = 0; j < k; j++) {
            random_string(store[j], 150, 0);
            v[j] = store[j];
        }
        v[k] = NULL;
        posta_imap_writer_set_caps(w, rnd() % 16);
        T_EQ_INT(posta_imap_cmd_new(w, &cmd, "t", "X (%v) %s", v, store[0]), 0);
        char *text;
        size_t len;
        T_EQ_INT(posta_imap_cmd_render(cmd, 0, &text, &len), 0);
        const char *why = wire_check((const unsigned char *)text, len);
        if (why)
            t_fail(__FILE__, __LINE__, "vector: %s", why);
        check_pieces_match(cmd, text, len);
        size_t pos = 4;
        T_EQ_INT(text[pos++], '(');
        for (size_t j = 0; j < k; j++) {
            unsigned char *got;
            size_t glen;
            if (j > 0)
                T_EQ_INT(text[pos++], ' ');
            if (wire_astring((const unsigned char *)text, len, &pos, &got, &glen) < 0) {
                t_fail(__FILE__, __LINE__, "cannot parse back element %zu of \"%s\"", j, text);
                break;
            }
            T_EQ_MEM(got, glen, v[j], strlen(v[j]));
            free(got);
        }
        T_EQ_INT(text[pos], ')');
        free(text);
        posta_imap_cmd_free(cmd);
    }
    posta_imap_writer_free(w);
}

int main(int argc, char **argv)
{
    static const struct t_case cases[] = {
        {"atom", test_atom},
        {"flag", test_flag},
        {"astring", test_astring},
        {"astring_long", test_astring_long},
        {"secret", test_secret},
        {"mailbox", test_mailbox},
        {"vector", test_vector},
        {"seqset", test_seqset},
        {"numbers", test_numbers},
        {"bad_format", test_bad_format},
        {"tag", test_tag},
        {"literal_styles", test_literal_styles},
        {"pieces", test_pieces},
        {"source", test_source},
        {"random_strings", test_random_strings},
        {"random_vectors", test_random_vectors},
        {NULL, NULL},
    };
    return t_main(argc, argv, cases);
}
