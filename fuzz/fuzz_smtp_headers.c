/* libFuzzer target: the start of a message through the header scanner and
 * the header processor, then the DATA canonicalizer.  Whatever the input,
 * a processed header section is CRLF lines of at most 998 octets that
 * never carries Bcc or Return-Path and always has Date, Message-Id and
 * From; and the bytes for the wire hold no bare CR or LF and no
 * end-of-data before the real one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "smtp/smtp_int.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "invariant failed: %s (%s:%d)\n", #c, \
    __FILE__, __LINE__); abort(); } } while (0)

static int starts_field(const unsigned char *p, size_t n, const char *name)
{
    size_t k = strlen(name);
    if (n <= k || strncasecmp((const char *)p, name, k) != 0)
        return 0;
    while (k < n && (p[k] == ' ' || p[k] == '\t'))
        k++;   /* obsolete syntax: white space before the colon */
    return k < n && p[k] == ':';
}

static void check_section(const unsigned char *s, size_t n, int *date, int *id, int *from)
{
    size_t i = 0;
    while (i < n) {
        const unsigned char *nl = memchr(s + i, '\n', n - i);
        CHECK(nl != NULL);
        size_t e = (size_t)(nl - s);
        CHECK(e > i && s[e - 1] == '\r');
        CHECK(e - 1 - i <= 998);
        CHECK(memchr(s + i, '\r', e - 1 - i) == NULL);
        CHECK(!starts_field(s + i, e - i, "Bcc") && !starts_field(s + i, e - i, "Return-Path"));
        *date |= starts_field(s + i, e - i, "Date");
        *id |= starts_field(s + i, e - i, "Message-Id");
        *from |= starts_field(s + i, e - i, "From");
        i = e + 1;
    }
}

static void check_wire(const struct posta_buf *w)
{
    const unsigned char *p = posta__buf_head(w);
    size_t n = posta__buf_used(w);
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\r')
            CHECK(i + 1 < n && p[i + 1] == '\n');
        if (p[i] == '\n')
            CHECK(i > 0 && p[i - 1] == '\r');
        if (i + 3 <= n && p[i] == '.' && (i == 0 || p[i - 1] == '\n'))
            CHECK(!(p[i + 1] == '\r'));   /* a lone dot line would end DATA */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned flags = data[0];
    data++, size--;

    /* The API side: a session with headers set, some from the input. */
    posta_smtp *h;
    posta_smtp_message *m;
    if (posta_smtp_new(&h, NULL, NULL) < 0)
        return 0;
    posta_smtp_add_message(h, &m);
    posta_smtp_message_set_reverse_path(m, flags & 1 ? "" : "sender@example.org");
    posta_smtp_add_recipient(m, "rcpt@example.org", NULL);
    posta_smtp_message_set_resent(m, (flags & 2) != 0);
    posta_smtp_message_set_header(m, "X-Api", "Grüße, \"quoted\" text that is long enough to need "
                                  "folding at some point on the line, or so one hopes");
    posta_smtp_message_add_address(m, "Cc", flags & 4 ? "Jürgen" : "Doe, John", "jd@example.org");
    if (flags & 8)
        posta_smtp_message_set_header_option(m, "Subject", POSTA_SMTP_HDR_PROHIBIT);
    if (flags & 16)
        posta_smtp_message_set_header_option(m, "X-Api", POSTA_SMTP_HDR_OVERRIDE);

    struct posta_buf fields, out, wire;
    struct smtp_scan sc;
    posta__buf_init(&fields, 0);
    posta__buf_init(&out, 0);
    posta__buf_init(&wire, 0);
    smtp_scan_init(&sc, &fields, 65536);
    long used = smtp_scan_feed(&sc, data, size);
    if (used >= 0 && !sc.done)
        smtp_scan_eof(&sc);
    if (used >= 0) {
        size_t fend = sc.prefix != SIZE_MAX ? sc.prefix : posta__buf_used(&fields);
        const char *rcpts[] = {"rcpt@example.org"};
        struct smtp_hdr_opts o = {.api = m->hdrs, .reverse_path = m->rp, .rcpts = rcpts,
                                  .nrcpt = 1, .resent = m->resent, .utf8 = (flags & 32) != 0,
                                  .fold = (flags & 64) != 0, .msgid = "<id@fuzz>",
                                  .date = "Mon, 1 Jan 2024 00:00:00 +0000"};
        char err[400];
        int rc = smtp_headers_process(posta__buf_head(&fields), fend, &o, &out, err, sizeof(err));
        if (rc == 0) {
            int date = 0, id = 0, from = 0;
            check_section(posta__buf_head(&out), posta__buf_used(&out), &date, &id, &from);
            CHECK(date && from && (id || (flags & 2)));
            struct smtp_canon c;
            smtp_canon_init(&c, 1, (flags & 64) != 0);
            posta__buf_append(&out, "\r\n", 2);
            if (sc.prefix != SIZE_MAX)
                posta__buf_append(&out, posta__buf_head(&fields) + sc.prefix,
                                  posta__buf_used(&fields) - sc.prefix);
            if (smtp_canon_feed(&c, posta__buf_head(&out), posta__buf_used(&out), &wire) == 0 &&
                smtp_canon_feed(&c, data + used, size - (size_t)used, &wire) == 0 &&
                smtp_canon_finish(&c, &wire) == 0)
                check_wire(&wire);
        } else {
            CHECK(err[0] != '\0');
            CHECK(rc == POSTA_EINVAL || rc == POSTA_ELIMIT || rc == POSTA_ENOMEM);
        }
    }
    posta__buf_free(&fields);
    posta__buf_free(&out);
    posta__buf_free(&wire);
    posta_smtp_free(h);
    return 0;
}
