/* Header processing (libESMTP's rules and posta's additions) and the
 * header API's refusals. */
#include <posta/smtp.h>
#include <posta/util.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/smtp_int.h"
#include "t.h"

static posta_smtp *h;
static char err[400];

static posta_smtp_message *msg(const char *rp)
{
    posta_smtp_message *m;
    T_EQ_INT(posta_smtp_add_message(h, &m), 0);
    T_EQ_INT(posta_smtp_message_set_reverse_path(m, rp), 0);
    T_EQ_INT(posta_smtp_add_recipient(m, "bob@example.org", NULL), 0);
    T_EQ_INT(posta_smtp_add_recipient(m, "carol@example.org", NULL), 0);
    return m;
}

/* Run the processor over in (LF line ends allowed: converted first). */
static char *process(posta_smtp_message *m, const char *in, int utf8, int fold, int *rc_r)
{
    struct posta_buf canon_in, out;
    posta__buf_init(&canon_in, 0);
    posta__buf_init(&out, 0);
    for (const char *p = in; *p; p++) {
        if (*p == '\n')
            posta__buf_append(&canon_in, "\r\n", 2);
        else
            posta__buf_append(&canon_in, p, 1);
    }
    const char *rc_names[16];
    size_t n = 0;
    for (posta_smtp_recipient *r = posta_smtp_first_recipient(m); r; r = posta_smtp_next_recipient(r))
        rc_names[n++] = posta_smtp_recipient_mailbox(r);
    struct smtp_hdr_opts o = {.api = m->hdrs, .reverse_path = m->rp, .rcpts = rc_names, .nrcpt = n,
                              .resent = m->resent, .utf8 = utf8, .fold = fold,
                              .msgid = "<id@posta.test>", .date = "Mon, 1 Jan 2024 00:00:00 +0000"};
    int rc = smtp_headers_process(posta__buf_head(&canon_in), posta__buf_used(&canon_in), &o,
                                  &out, err, sizeof(err));
    if (rc_r)
        *rc_r = rc;
    else if (rc != 0)
        t_fail(__FILE__, __LINE__, "processing failed: %s", err);
    posta__buf_append(&out, "", 1);
    char *s = strdup((const char *)posta__buf_head(&out));
    posta__buf_free(&canon_in);
    posta__buf_free(&out);
    return s;
}

static void test_generated(void)
{
    posta_smtp_message *m = msg("alice@example.org");
    char *s = process(m, "Subject: hi\n", 0, 0, NULL);
    T_EQ_STR(s, "Subject: hi\r\n"
                "Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
                "Message-Id: <id@posta.test>\r\n"
                "From: alice@example.org\r\n"
                "To: bob@example.org, carol@example.org\r\n");
    free(s);
    /* present in the message: nothing generated */
    s = process(m, "From: A <a@x>\nDate: x\nMessage-ID: <m@x>\nCc: c@x\n", 0, 0, NULL);
    T_EQ_STR(s, "From: A <a@x>\r\nDate: x\r\nMessage-ID: <m@x>\r\nCc: c@x\r\n");
    free(s);
}

static void test_stripped(void)
{
    posta_smtp_message *m = msg("alice@example.org");
    char *s = process(m, "Return-Path: <x@y>\nDelivered-To: z@y\nBcc: secret@y,\n other@y\n"
                         "To: t@y\nFrom: f@y\nDate: d\nMessage-Id: <i@y>\nResent-Bcc: r@y\n",
                      0, 0, NULL);
    T_EQ_STR(s, "To: t@y\r\nFrom: f@y\r\nDate: d\r\nMessage-Id: <i@y>\r\n");
    T_ASSERT(!strstr(s, "secret"));
    free(s);
    /* Bcc set through the API never goes out either, and stops To being made. */
    T_EQ_INT(posta_smtp_message_add_address(m, "Bcc", NULL, "hidden@y"), 0);
    s = process(m, "From: f@y\n", 0, 0, NULL);
    T_ASSERT(!strstr(s, "hidden"));
    T_ASSERT(!strstr(s, "\nTo:"));
    free(s);
}

static void test_api_default_and_override(void)
{
    posta_smtp_message *m = msg("alice@example.org");
    T_EQ_INT(posta_smtp_message_set_header(m, "Subject", "from the API"), 0);
    T_EQ_INT(posta_smtp_message_set_header(m, "X-Mailer", "posta"), 0);
    char *s = process(m, "Subject: from the message\n", 0, 0, NULL);
    T_CONTAINS(s, "Subject: from the message\r\n");
    T_ASSERT(!strstr(s, "from the API"));
    T_CONTAINS(s, "X-Mailer: posta\r\n");
    free(s);
    T_EQ_INT(posta_smtp_message_set_header_option(m, "Subject", POSTA_SMTP_HDR_OVERRIDE), 0);
    s = process(m, "Subject: from the message\n", 0, 0, NULL);
    T_CONTAINS(s, "Subject: from the API\r\n");
    T_ASSERT(!strstr(s, "from the message"));
    free(s);
    T_EQ_INT(posta_smtp_message_set_header_option(m, "Message-Id", POSTA_SMTP_HDR_PROHIBIT), 0);
    T_EQ_INT(posta_smtp_message_set_header_option(m, "X-Spam", POSTA_SMTP_HDR_PROHIBIT), 0);
    s = process(m, "X-Spam: yes\nMessage-Id: <x@y>\n", 0, 0, NULL);
    T_ASSERT(!strstr(s, "Message-Id"));
    T_ASSERT(!strstr(s, "X-Spam"));
    free(s);
}

static void test_addresses(void)
{
    posta_smtp_message *m = msg("alice@example.org");
    T_EQ_INT(posta_smtp_message_add_address(m, "From", "Doe, John", "john@example.org"), 0);
    T_EQ_INT(posta_smtp_message_add_address(m, "To", "Bob", "bob@example.org"), 0);
    T_EQ_INT(posta_smtp_message_add_address(m, "To", NULL, "carol@example.org"), 0);
    T_EQ_INT(posta_smtp_message_add_address(m, "Cc", "Jürgen Groß", "jg@example.org"), 0);
    T_EQ_INT(posta_smtp_message_add_address(m, "Reply-To", "a \"quoted\" \\ name", "r@example.org"), 0);
    char *s = process(m, "", 0, 0, NULL);
    T_CONTAINS(s, "From: \"Doe, John\" <john@example.org>\r\n");
    T_CONTAINS(s, "To: Bob <bob@example.org>, carol@example.org\r\n");
    T_CONTAINS(s, "Cc: =?UTF-8?B?SsO8cmdlbiBHcm/Dnw==?= <jg@example.org>\r\n");
    T_CONTAINS(s, "Reply-To: \"a \\\"quoted\\\" \\\\ name\" <r@example.org>\r\n");
    free(s);
    /* With SMTPUTF8 the phrase stays UTF-8. */
    s = process(m, "", 1, 0, NULL);
    T_CONTAINS(s, "Cc: Jürgen Groß <jg@example.org>\r\n");
    free(s);
    T_EQ_INT(posta_smtp_message_add_address(m, "Sender", NULL, "s@example.org"), 0);
    T_EQ_INT(posta_smtp_message_add_address(m, "Sender", NULL, "t@example.org"), POSTA_EINVAL);
}

/* Decode every encoded-word of one folded header back to the original. */
static void check_encoded(const char *s, const char *name, const char *want)
{
    const char *p = strstr(s, name);
    T_ASSERT(p != NULL);
    if (!p)
        return;
    const char *end = p;
    while ((end = strstr(end, "\r\n")) && (end[2] == ' ' || end[2] == '\t'))
        end += 2;
    char out[2048] = "";
    for (const char *w = strstr(p, "=?UTF-8?B?"); w && w < end; w = strstr(w, "=?UTF-8?B?")) {
        const char *e = strstr(w + 10, "?=");
        unsigned char *dec;
        size_t dn;
        T_EQ_INT(posta_base64_decode(w + 10, (size_t)(e - w - 10), &dec, &dn, NULL), 0);
        T_ASSERT(e - w + 2 <= 75);
        strncat(out, (const char *)dec, dn);
        free(dec);
        w = e;
    }
    T_EQ_STR(out, want);
    /* physical lines stay short */
    for (const char *l = p; l < end;) {
        const char *nl = strstr(l, "\r\n");
        T_ASSERT(nl - l <= 78);
        l = nl + 2;
    }
}

static void test_rfc2047_and_folding(void)
{
    posta_smtp_message *m = msg("alice@example.org");
    const char *subj = "Grüße aus Köln, und noch ein recht langer Betreff mit Umlauten: äöüÄÖÜß "
                       "und Zeichen wie € und 日本語 damit mehrere Wörter nötig sind";
    T_EQ_INT(posta_smtp_message_set_header(m, "Subject", subj), 0);
    char long_ascii[400] = "";
    for (int i = 0; i < 40; i++)
        strcat(long_ascii, "word1234 ");
    T_EQ_INT(posta_smtp_message_set_header(m, "X-Long", long_ascii), 0);
    char *s = process(m, "", 0, 0, NULL);
    check_encoded(s, "Subject:", subj);
    const char *x = strstr(s, "X-Long:");
    T_ASSERT(x != NULL);
    for (const char *l = x; l && *l && strncmp(l, "\r\n", 2) != 0;) {
        const char *nl = strstr(l, "\r\n");
        T_ASSERT(nl - l <= 78);
        l = nl + 2;
        if (*l != ' ')
            break;
    }
    free(s);
}

static void test_long_message_lines(void)
{
    posta_smtp_message *m = msg("alice@example.org");
    char in[3000];
    strcpy(in, "X-Huge:");
    for (int i = 0; i < 200; i++)
        strcat(in, " abcdefghij");
    strcat(in, "\n");
    int rc;
    char *s = process(m, in, 0, 0, &rc);
    T_EQ_INT(rc, POSTA_ELIMIT);
    T_CONTAINS(err, "X-Huge");
    free(s);
    s = process(m, in, 0, 1, &rc);
    T_EQ_INT(rc, 0);
    for (const char *l = s; *l;) {
        const char *nl = strstr(l, "\r\n");
        T_ASSERT(nl - l <= 998);
        l = nl + 2;
    }
    T_ASSERT(strstr(s, "X-Huge: abcdefghij") == s);
    free(s);
    /* a single word over 998 octets cannot be folded */
    char word[1200];
    memset(word, 'w', sizeof(word));
    memcpy(word, "X-W: ", 5);
    word[sizeof(word) - 2] = '\n';
    word[sizeof(word) - 1] = '\0';
    s = process(m, word, 0, 1, &rc);
    T_EQ_INT(rc, POSTA_ELIMIT);
    free(s);
}

static void test_null_reverse_path(void)
{
    posta_smtp_message *m = msg("");
    int rc;
    char *s = process(m, "Subject: x\n", 0, 0, &rc);
    T_EQ_INT(rc, POSTA_EINVAL);
    T_CONTAINS(err, "From");
    free(s);
    s = process(m, "From: someone@x\n", 0, 0, &rc);
    T_EQ_INT(rc, 0);
    free(s);
}

static void test_resent(void)
{
    posta_smtp_message *m = msg("alice@example.org");
    posta_smtp_message_set_resent(m, 1);
    char *s = process(m, "From: f@y\nDate: d\nMessage-Id: <i@y>\nTo: t@y\n", 0, 0, NULL);
    T_EQ_STR(s, "Resent-Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
                "Resent-Message-Id: <id@posta.test>\r\n"
                "Resent-From: alice@example.org\r\n"
                "From: f@y\r\nDate: d\r\nMessage-Id: <i@y>\r\nTo: t@y\r\n");
    free(s);
}

static void test_api_refusals(void)
{
    posta_smtp_message *m = msg("alice@example.org");
    T_EQ_INT(posta_smtp_message_set_header(m, "Subject", "a\r\nBcc: x@y"), POSTA_EINVAL);
    T_EQ_INT(posta_smtp_message_set_header(m, "Subject", "a\nb"), POSTA_EINVAL);
    T_EQ_INT(posta_smtp_message_set_header(m, "Subject", "a\rb"), POSTA_EINVAL);
    T_EQ_INT(posta_smtp_message_set_header(m, "Subject", "bad \xff utf8"), POSTA_EINVAL);
    T_EQ_INT(posta_smtp_message_set_header(m, "Content-Type", "text/plain"), POSTA_EINVAL);
    T_EQ_INT(posta_smtp_message_set_header(m, "MIME-Version", "1.0"), POSTA_EINVAL);
    T_EQ_INT(posta_smtp_message_set_header(m, "Return-Path", "<x@y>"), POSTA_EINVAL);
    T_EQ_INT(posta_smtp_message_set_header(m, "Bad Name", "x"), POSTA_EINVAL);
    T_EQ_INT(posta_smtp_message_set_header(m, "Bad:Name", "x"), POSTA_EINVAL);
    T_EQ_INT(posta_smtp_message_set_header(m, "Subject", "ok"), 0);
    T_EQ_INT(posta_smtp_message_set_header(m, "Subject", "twice"), POSTA_EINVAL);
    T_EQ_INT(posta_smtp_message_set_header_option(m, "Date", POSTA_SMTP_HDR_PROHIBIT), POSTA_EINVAL);
    T_EQ_INT(posta_smtp_message_set_header_option(m, "From", POSTA_SMTP_HDR_PROHIBIT), POSTA_EINVAL);
    T_EQ_INT(posta_smtp_message_add_address(m, "To", "x\ny", "a@b"), POSTA_EINVAL);
    T_EQ_INT(posta_smtp_message_add_address(m, "To", NULL, "a@b>\r\nRCPT TO:<c@d"), POSTA_EINVAL);
    T_EQ_INT(posta_smtp_message_add_address(m, "Subject", NULL, "a@b"), POSTA_EINVAL);
    /* envelope and parameters */
    T_EQ_INT(posta_smtp_message_set_reverse_path(m, "a@b>\r\nRSET"), POSTA_EINVAL);
    T_EQ_INT(posta_smtp_message_set_reverse_path(m, "a b@c"), POSTA_EINVAL);
    T_EQ_INT(posta_smtp_message_set_reverse_path(m, "\"a b\"@c"), 0);
    T_EQ_INT(posta_smtp_add_recipient(m, "x@y\n", NULL), POSTA_EINVAL);
    T_EQ_INT(posta_smtp_add_recipient(m, "", NULL), POSTA_EINVAL);
    T_EQ_INT(posta_smtp_add_recipient(m, "x@y\x01", NULL), POSTA_EINVAL);
    T_EQ_INT(posta_smtp_add_recipient(m, "jürgen@bücher.example", NULL), 0);
    T_EQ_INT(posta_smtp_add_recipient(m, "bad\xc3(@x", NULL), POSTA_EINVAL);
    T_EQ_INT(posta_smtp_message_add_mail_param(m, "X-OK=1"), 0);
    T_EQ_INT(posta_smtp_message_add_mail_param(m, "X-BAD=a b"), POSTA_EINVAL);
    T_EQ_INT(posta_smtp_message_add_mail_param(m, "X-BAD=a\r\nRSET"), POSTA_EINVAL);
    T_EQ_INT(posta_smtp_message_add_mail_param(m, "=x"), POSTA_EINVAL);
    T_EQ_INT(posta_smtp_message_set_dsn_envid(m, "a\nb"), POSTA_EINVAL);
    posta_smtp_recipient *r;
    T_EQ_INT(posta_smtp_add_recipient(m, "z@y", &r), 0);
    T_EQ_INT(posta_smtp_recipient_set_dsn_orcpt(r, "rfc822", "a\r\nb"), POSTA_EINVAL);
    T_EQ_INT(posta_smtp_recipient_set_dsn_notify(r, POSTA_SMTP_NOTIFY_NEVER | POSTA_SMTP_NOTIFY_DELAY),
             POSTA_EINVAL);
    T_EQ_INT(posta_smtp_recipient_add_param(r, "X=\x7f"), POSTA_EINVAL);
    T_EQ_INT(posta_smtp_set_hostname(h, "bad name"), POSTA_EINVAL);
    T_EQ_INT(posta_smtp_set_hostname(h, "ok.example\r\n"), POSTA_EINVAL);
    T_EQ_INT(posta_smtp_add_etrn(h, '@', "ex ample", NULL), POSTA_EINVAL);
}

static void test_xtext(void)
{
    struct posta_buf b;
    posta__buf_init(&b, 0);
    T_EQ_INT(smtp_xtext(&b, "a+b=c d\xc3\xa9", 9), 0);
    posta__buf_append(&b, "", 1);
    T_EQ_STR((const char *)posta__buf_head(&b), "a+2Bb+3Dc+20d+C3+A9");
    posta__buf_free(&b);
}

int main(int argc, char **argv)
{
    static const struct t_case cases[] = {
        {"generated", test_generated},
        {"stripped", test_stripped},
        {"api_default_and_override", test_api_default_and_override},
        {"addresses", test_addresses},
        {"rfc2047_and_folding", test_rfc2047_and_folding},
        {"long_message_lines", test_long_message_lines},
        {"null_reverse_path", test_null_reverse_path},
        {"resent", test_resent},
        {"api_refusals", test_api_refusals},
        {"xtext", test_xtext},
        {NULL, NULL},
    };
    posta_smtp_new(&h, NULL, NULL);
    int rc = t_main(argc, argv, cases);
    posta_smtp_free(h);
    return rc;
}
