/* Allocation-failure loops over the IMAP command writer: writer creation,
 * commands with every kind of argument (atoms, quoted strings, literals of
 * each style, mailbox names through modified UTF-7, vectors, %L buffers and
 * sources), walked piece by piece and rendered. */
#include <posta/imap_writer.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "failmalloc.h"

/* What *cmd_r holds before a call: a failure must reset it to NULL. */
static char poison_byte;
static void *volatile poison = &poison_byte;

static const char source_text[] = "Subject: streamed\r\n\r\nbody from a source\r\n";

static long source(posta_imap_cmd *cmd, void *buf, size_t cap, void *user)
{
    size_t *pos = user, left = sizeof(source_text) - 1 - *pos;
    size_t n = left < 5 ? left : 5;   /* small chunks */
    if (n > cap)
        n = cap;
    memcpy(buf, source_text + *pos, n);
    *pos += n;
    return (long)n;
}

/* Walk cmd's pieces into the log, then its renderings. */
static int walk(posta_imap_cmd *cmd, int can_render_raw)
{
    for (;;) {
        posta_imap_piece pc;
        int rc = posta_imap_cmd_next(cmd, &pc);
        if (rc != 0)
            return rc;
        if (pc.kind == POSTA_IMAP_PIECE_END)
            break;
        if (pc.kind == POSTA_IMAP_PIECE_BYTES) {
            fm_put(pc.data, pc.len);
        } else if (pc.kind == POSTA_IMAP_PIECE_WAIT) {
            fm_puts("<WAIT>");
        } else {
            char buf[16];
            long n;
            while ((n = posta_imap_cmd_read(cmd, buf, sizeof(buf))) > 0)
                fm_put(buf, (size_t)n);
            if (n < 0)
                return (int)n;
        }
    }
    static const unsigned flags[] = {POSTA_IMAP_RENDER_REDACT | POSTA_IMAP_RENDER_ELIDE,
                                     POSTA_IMAP_RENDER_ELIDE, 0};
    for (size_t i = 0; i < 3; i++) {
        if (flags[i] == 0 && !can_render_raw)
            continue;
        char *text = NULL;
        size_t len = 99;
        int rc = posta_imap_cmd_render(cmd, flags[i], &text, &len);
        if (rc != 0) {
            if (text)
                return FM_WRONG;
            return rc;
        }
        fm_putf("\n[render %u] ", flags[i]);
        fm_put(text, len);
        free(text);
    }
    fm_puts("\n----\n");
    return 0;
}

static int one(posta_imap_writer *w, int raw, const char *tag, const char *fmt, ...)
{
    posta_imap_cmd *cmd = poison;
    va_list ap;
    va_start(ap, fmt);
    int rc = posta_imap_cmd_vnew(w, &cmd, tag, fmt, ap);
    va_end(ap);
    if (rc != 0) {
        if (cmd != NULL)
            return FM_WRONG;
        if (rc == POSTA_ENOMEM && !strstr(posta_imap_writer_errmsg(w), "out of memory")) {
            t_fail(__FILE__, __LINE__, "ENOMEM sentence: %s", posta_imap_writer_errmsg(w));
            return FM_WRONG;
        }
        if (rc != POSTA_ENOMEM)
            fprintf(stderr, "%s: %s\n", tag ? tag : "-", posta_imap_writer_errmsg(w));
        return rc;
    }
    rc = walk(cmd, raw);
    posta_imap_cmd_free(cmd);
    return rc;
}

static int commands(void)
{
    posta_imap_writer_opts o = {.caps = 0, .max_quoted = 32};
    posta_imap_writer *w = NULL;
    int rc = posta_imap_writer_new(&w, &o);
    if (rc != 0)
        return rc;
    static const char *vec[] = {"one", "two words", "th\"ree", "", NULL};
    char big[200];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    size_t pos = 0;
    posta_imap_literal lit_buf = {.size = 11, .data = "hello\r\nwrld", .flags = POSTA_IMAP_LITERAL_SECRET};
    posta_imap_literal lit_src = {.size = sizeof(source_text) - 1, .read = source, .user = &pos};
    posta_imap_literal lit_bin = {.size = 4, .data = "a\0bc", .flags = POSTA_IMAP_LITERAL_BINARY};

    if ((rc = one(w, 1, "a1", "LOGIN %s %p", "alice", "pass \"word\"")) != 0 ||
        (rc = one(w, 1, "a2", "SELECT %m", "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/&x")) != 0 ||
        (rc = one(w, 1, "a3", "SEARCH CHARSET UTF-8 TEXT %s SUBJECT %s", big, "two\r\nlines")) != 0 ||
        (rc = one(w, 1, "a4", "UID FETCH %S (%a BODY.PEEK[HEADER]) %d %lu %zu %%", "1:*,5", "FLAGS",
                  -3, 42ul, (size_t)7)) != 0 ||
        (rc = one(w, 1, "a5", "STORE 1 +FLAGS (%F %F) %v", "\\Seen", "$Forwarded", vec)) != 0 ||
        (rc = one(w, 1, "a6", "APPEND INBOX %L", &lit_buf)) != 0 ||
        (rc = one(w, 0, "a7", "APPEND Drafts %L", &lit_src)) != 0 ||
        (rc = one(w, 1, NULL, "%.*s", 5, "DONE!")) != 0)
        goto out;
    posta_imap_writer_set_caps(w, POSTA_IMAP_WRITER_LITERALPLUS | POSTA_IMAP_WRITER_UTF8 |
                                      POSTA_IMAP_WRITER_BINARY);
    if ((rc = one(w, 1, "b1", "SELECT %m", "\xe5\x8f\xb0\xe5\x8c\x97")) != 0 ||
        (rc = one(w, 1, "b2", "LOGIN %s %p", "\xc3\xa9l\xc3\xa8ve", big)) != 0 ||
        (rc = one(w, 1, "b3", "APPEND INBOX %L %L", &lit_bin, &lit_buf)) != 0)
        goto out;
    /* A refused argument is POSTA_EINVAL, never a half command. */
    posta_imap_cmd *cmd = NULL;
    rc = posta_imap_cmd_new(w, &cmd, "c1", "SELECT %a", "not an atom");
    if (rc == POSTA_EINVAL && !cmd) {
        fm_putf("refused: %s\n", posta_imap_writer_errmsg(w));
        rc = 0;
    } else if (rc != POSTA_ENOMEM) {
        posta_imap_cmd_free(cmd);
        rc = FM_WRONG;
    }
out:
    posta_imap_writer_free(w);
    return rc ? rc : fm_done();
}

static void test_writer(void)
{
    fm_loop(commands);
    T_CONTAINS(fm_ref(), "a1 LOGIN alice \"pass \\\"word\\\"\"\r\n");
    T_CONTAINS(fm_ref(), "a2 SELECT ~peter/mail/&U,BTFw-/&-x\r\n");
    T_CONTAINS(fm_ref(), "a6 APPEND INBOX {11}\r\n<WAIT>hello\r\nwrld\r\n");
    T_CONTAINS(fm_ref(), "a7 APPEND Drafts {41}\r\n<WAIT>Subject: streamed");
    T_CONTAINS(fm_ref(), "b3 APPEND INBOX ~{4+}\r\n");
    T_CONTAINS(fm_ref(), "refused: ");
}

int main(int argc, char **argv)
{
    static const struct t_case cases[] = {
        {"writer", test_writer},
        {NULL, NULL},
    };
    return t_main(argc, argv, cases);
}
