/* Allocation-failure loops over the SMTP sans-I/O pieces: the reply parser,
 * the header scanner and canonicalizer, and header processing with the
 * message objects that feed it. */
#include <posta/smtp.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "failmalloc.h"
#include "smtp/smtp_int.h"

/* --- reply parser ------------------------------------------------------------- */

static char replies[16384];
static size_t replies_len;

static void build_replies(void)
{
    const char *fixed = "220 mail.example ESMTP ready\r\n"
                        "250-mx.example\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250 8BITMIME\r\n"
                        "550 5.7.1 relay denied\r\n"
                        "451-4.3.0 one\r\n451 4.3.0 two\n"
                        "354\r\n";
    size_t n = strlen(fixed);
    memcpy(replies, fixed, n);
    /* a long multi-line reply: grows the line and text buffers */
    for (int i = 0; i < 60; i++)
        n += (size_t)snprintf(replies + n, sizeof(replies) - n,
                              "250-%d.x a somewhat long capability line for the text buffer\r\n", i);
    n += (size_t)snprintf(replies + n, sizeof(replies) - n, "250 2.0.0 ");
    memset(replies + n, 'z', 3000);
    n += 3000;
    memcpy(replies + n, "\r\n", 2);
    replies_len = n + 2;
}

static int reply_run(size_t step)
{
    struct smtp_rparser p;
    smtp_rparser_init(&p);
    size_t off = 0;
    int rc = 0;
    while (off < replies_len) {
        size_t n = step && step < replies_len - off ? step : replies_len - off;
        int done = 0;
        long used = smtp_rparser_feed(&p, replies + off, n, &done);
        if (used < 0) {
            rc = (int)used;
            if (rc != POSTA_ENOMEM)
                fprintf(stderr, "reply: %s\n", p.err);
            break;
        }
        off += (size_t)used;
        if (done) {
            fm_putf("%d %d.%d.%d %zu [", p.r.code, p.r.enh[0], p.r.enh[1], p.r.enh[2], p.r.nlines);
            fm_puts((const char *)posta__buf_head(&p.r.text));
            fm_puts("]\n");
        } else if ((size_t)used != n) {
            rc = FM_WRONG;
            break;
        }
    }
    if (rc == 0 && smtp_rparser_buffered(&p) != 0)
        rc = FM_WRONG;
    smtp_rparser_free(&p);
    return rc ? rc : fm_done();
}

static int reply_whole(void)
{
    return reply_run(0);
}

static int reply_pieces(void)
{
    return reply_run(13);
}

static void test_reply(void)
{
    build_replies();
    fm_loop(reply_whole);
    T_CONTAINS(fm_ref(), "250 0.0.0 4 [mx.example\nPIPELINING\nSIZE 1000\n8BITMIME]\n");
    T_CONTAINS(fm_ref(), "451 4.3.0 2 [one\ntwo]\n");
    fm_loop(reply_pieces);
}

/* --- header scan and canonicalization ------------------------------------------- */

static char message[8192];
static size_t message_len;

static void build_message(void)
{
    size_t n = 0;
    const char *head = "From: a@b\nSubject: a folded\n subject line\rX-A: b\r\n\r\n"
                       ".leading dot\r\n..two dots\nbare LF\rbare CR\r\n.\r\n";
    n = strlen(head);
    memcpy(message, head, n);
    memset(message + n, 'L', 2500);   /* a line over 998: folded */
    n += 2500;
    const char *tail = "\n.\nend without newline";
    memcpy(message + n, tail, strlen(tail));
    message_len = n + strlen(tail);
}

static int canon_run(size_t step)
{
    struct posta_buf hdr, out;
    posta__buf_init(&hdr, 0);
    posta__buf_init(&out, 0);
    struct smtp_scan sc;
    smtp_scan_init(&sc, &hdr, 4096);
    const unsigned char *in = (const unsigned char *)message;
    size_t off = 0;
    int rc = 0;
    while (off < message_len && !sc.done) {
        size_t n = step && step < message_len - off ? step : message_len - off;
        long used = smtp_scan_feed(&sc, in + off, n);
        if (used < 0) {
            rc = (int)used;
            goto out;
        }
        off += (size_t)used;
    }
    if (!sc.done && (rc = smtp_scan_eof(&sc)) < 0)
        goto out;
    fm_putf("hdr[%.*s] prefix %zu body at %zu\n", (int)posta__buf_used(&hdr),
            (const char *)posta__buf_head(&hdr), sc.prefix, off);
    for (int dot = 0; dot <= 1; dot++) {
        struct smtp_canon c;
        smtp_canon_init(&c, dot, 1);
        posta__buf_reset(&out);
        for (size_t o = off; o < message_len;) {
            size_t n = step && step < message_len - o ? step : message_len - o;
            if ((rc = smtp_canon_feed(&c, in + o, n, &out)) < 0)
                goto out;
            o += n;
        }
        if ((rc = smtp_canon_finish(&c, &out)) < 0)
            goto out;
        fm_putf("canon dot=%d [", dot);
        fm_put(posta__buf_head(&out), posta__buf_used(&out));
        fm_puts("]\n");
    }
out:
    posta__buf_free(&hdr);
    posta__buf_free(&out);
    return rc ? rc : fm_done();
}

static int canon_whole(void)
{
    return canon_run(0);
}

static int canon_pieces(void)
{
    return canon_run(11);
}

static void test_canon(void)
{
    build_message();
    fm_loop(canon_whole);
    T_CONTAINS(fm_ref(), "canon dot=1 [..leading dot\r\n...two dots\r\nbare LF\r\nbare CR\r\n..\r\n");
    T_CONTAINS(fm_ref(), "end without newline\r\n]");
    fm_loop(canon_pieces);
}

/* --- header processing ----------------------------------------------------------- */

static int headers(void)
{
    posta_smtp *h = NULL;
    posta_smtp_message *m;
    struct posta_buf in, out;
    char err[400] = "";
    int rc = posta_smtp_new(&h, NULL, NULL);
    if (rc != 0)
        return rc;
    posta__buf_init(&in, 0);
    posta__buf_init(&out, 0);
    if ((rc = posta_smtp_add_message(h, &m)) != 0 ||
        (rc = posta_smtp_message_set_reverse_path(m, "alice@example.org")) != 0 ||
        (rc = posta_smtp_add_recipient(m, "bob@example.org", NULL)) != 0 ||
        (rc = posta_smtp_add_recipient(m, "carol@example.org", NULL)) != 0 ||
        (rc = posta_smtp_message_set_header(m, "Subject", "caf\xc3\xa9 \xe2\x80\x94 a subject "
                                            "long enough to need folding at least once or twice "
                                            "when it is encoded")) != 0 ||
        (rc = posta_smtp_message_set_header(m, "X-Mailer", "posta")) != 0 ||
        (rc = posta_smtp_message_set_header_option(m, "Subject", POSTA_SMTP_HDR_OVERRIDE)) != 0 ||
        (rc = posta_smtp_message_set_header_option(m, "X-Spam", POSTA_SMTP_HDR_PROHIBIT)) != 0 ||
        (rc = posta_smtp_message_add_address(m, "Cc", "J\xc3\xb6rg \"Q\" M", "j@example.org")) != 0 ||
        (rc = posta_smtp_message_add_address(m, "Cc", NULL, "k@example.org")) != 0 ||
        (rc = posta_smtp_message_add_address(m, "Bcc", NULL, "hidden@example.org")) != 0)
        goto out;
    const char *src = "Subject: from the message\r\nX-Spam: yes\r\nReturn-Path: <x@y>\r\n"
                      "Bcc: secret@y,\r\n other@y\r\nComments: a\r\n folded\r\n";
    if ((rc = posta__buf_append(&in, src, strlen(src))) != 0)
        goto out;
    const char *rcpts[] = {"bob@example.org", "carol@example.org"};
    struct smtp_hdr_opts o = {.api = m->hdrs, .reverse_path = m->rp, .rcpts = rcpts, .nrcpt = 2,
                              .msgid = "<id@posta.test>", .date = "Mon, 1 Jan 2024 00:00:00 +0000"};
    rc = smtp_headers_process(posta__buf_head(&in), posta__buf_used(&in), &o, &out, err,
                              sizeof(err));
    if (rc == 0) {
        fm_put(posta__buf_head(&out), posta__buf_used(&out));
    } else if (rc != POSTA_ENOMEM) {
        fprintf(stderr, "headers: %s\n", err);
    }
out:
    posta__buf_free(&in);
    posta__buf_free(&out);
    posta_smtp_free(h);
    return rc ? rc : fm_done();
}

static void test_headers(void)
{
    fm_loop(headers);
    T_CONTAINS(fm_ref(), "Subject:\r\n =?UTF-8?B?Y2Fmw6kg");
    T_CONTAINS(fm_ref(), "X-Mailer: posta\r\n");
    T_CONTAINS(fm_ref(), "Comments: a\r\n folded\r\n");
    T_ASSERT(!strstr(fm_ref(), "secret"));
    T_ASSERT(!strstr(fm_ref(), "hidden"));
    T_ASSERT(!strstr(fm_ref(), "X-Spam"));
}

int main(int argc, char **argv)
{
    static const struct t_case cases[] = {
        {"reply", test_reply},
        {"canon", test_canon},
        {"headers", test_headers},
        {NULL, NULL},
    };
    return t_main(argc, argv, cases);
}
