/* Helpers shared by posta's benchmark drivers: see bench_util.h. */
#include "bench_util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

long bench_maxrss_kib(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return -1;
    return ru.ru_maxrss;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double bench_median(double *v, size_t n)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void bench_buf_add(bench_buf *b, const void *data, size_t len)
{
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + len + 1)
            cap *= 2;
        char *p = realloc(b->data, cap);
        if (p == NULL) {
            perror("realloc");
            exit(3);
        }
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void bench_buf_printf(bench_buf *b, const char *fmt, ...)
{
    char tmp[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        fprintf(stderr, "bench_buf_printf: line too long\n");
        exit(3);
    }
    bench_buf_add(b, tmp, (size_t)n);
}

void bench_buf_free(bench_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* --- deterministic variety ------------------------------------------------ */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
    /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

static unsigned pick(unsigned n) { return rnd() % n; }

static const char *const words[] = {
    "meeting", "minutes", "quarterly", "report", "draft", "review", "IMAP",
    "server", "upgrade", "lunch", "tomorrow", "budget", "invoice", "project",
    "status", "update", "release", "notes", "question", "about", "the",
    "new", "schedule", "Re:", "Fwd:", "urgent", "plan", "summary", "v2",
    "photos", "trip", "contract",
};
static const char *const first_names[] = {
    "Terry", "Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace",
    "Heidi", "Ivan", "Judy", "Mallory", "Niaj", "Olivia", "Peggy", "Rupert",
};
static const char *const last_names[] = {
    "Gray", "Smith", "Jones", "Crispin", "Klensin", "Myers", "Newman",
    "Resnick", "Melnikov", "Leiba", "Gulbrandsen", "Venema",
};
static const char *const hosts[] = {
    "example.org", "example.com", "mail.example.net", "cac.washington.edu",
    "lists.example.org", "corp.example",
};
static const char *const months[] = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};
static const char *const days[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
static const char *const flag_sets[] = {
    "()", "(\\Seen)", "(\\Seen \\Answered)", "(\\Seen $Forwarded $MDNSent)",
    "(\\Flagged \\Seen)", "(\\Seen NonJunk)", "(\\Draft)",
};

static void subject(bench_buf *b)
{
    unsigned n = 2 + pick(8);
    bench_buf_add(b, "\"", 1);
    for (unsigned i = 0; i < n; i++) {
        const char *w = words[pick(sizeof words / sizeof *words)];
        if (i)
            bench_buf_add(b, " ", 1);
        bench_buf_add(b, w, strlen(w));
    }
    /* Now and then a quoted word, which needs escapes. */
    if (pick(8) == 0)
        bench_buf_add(b, " \\\"final\\\"", 10);
    bench_buf_add(b, "\"", 1);
}

static void address(bench_buf *b)
{
    const char *fn = first_names[pick(sizeof first_names / sizeof *first_names)];
    const char *ln = last_names[pick(sizeof last_names / sizeof *last_names)];
    const char *h = hosts[pick(sizeof hosts / sizeof *hosts)];
    if (pick(4) == 0)
        bench_buf_printf(b, "(NIL NIL \"%c%s\" \"%s\")", fn[0] | 0x20, ln, h);
    else
        bench_buf_printf(b, "(\"%s %s\" NIL \"%c.%s\" \"%s\")", fn, ln, fn[0] | 0x20, ln, h);
}

static void address_list(bench_buf *b, unsigned n)
{
    if (n == 0) {
        bench_buf_add(b, "NIL", 3);
        return;
    }
    bench_buf_add(b, "(", 1);
    for (unsigned i = 0; i < n; i++)
        address(b);
    bench_buf_add(b, ")", 1);
}

static void rfc822_date(bench_buf *b)
{
    bench_buf_printf(b, "\"%s, %u %s 2023 %02u:%02u:%02u %s\"", days[pick(7)], 1 + pick(28),
                     months[pick(12)], pick(24), pick(60), pick(60),
                     pick(2) ? "+0000" : "-0700");
}

static void text_part(bench_buf *b, const char *subtype, const char *enc)
{
    bench_buf_printf(b, "(\"text\" \"%s\" (\"charset\" \"%s\") NIL NIL \"%s\" %u %u NIL NIL NIL NIL)",
                     subtype, pick(3) ? "utf-8" : "us-ascii", enc, 200 + pick(20000),
                     5 + pick(400));
}

static void bodystructure(bench_buf *b, unsigned i)
{
    switch (pick(4)) {
    case 0:
        text_part(b, "plain", "7bit");
        break;
    case 1:
    case 2:
        bench_buf_add(b, "(", 1);
        text_part(b, "plain", "quoted-printable");
        text_part(b, "html", "quoted-printable");
        bench_buf_printf(b, " \"alternative\" (\"boundary\" \"----=_Part_%u_%u\") NIL NIL NIL)",
                         i, rnd() % 100000);
        break;
    default:
        bench_buf_add(b, "((", 2);
        text_part(b, "plain", "7bit");
        text_part(b, "html", "quoted-printable");
        bench_buf_printf(b, " \"alternative\" (\"boundary\" \"alt-%u\") NIL NIL NIL)", i);
        bench_buf_printf(b, "(\"application\" \"pdf\" (\"name\" \"report-%u.pdf\") NIL NIL "
                            "\"base64\" %u NIL (\"attachment\" (\"filename\" \"report-%u.pdf\")) "
                            "NIL NIL)",
                         i, 10000 + pick(500000), i);
        bench_buf_printf(b, " \"mixed\" (\"boundary\" \"mix-%u\") NIL NIL NIL)", i);
        break;
    }
}

static void meta_response(bench_buf *b, unsigned i, uint32_t uid)
{
    bench_buf_printf(b, "* %u FETCH (UID %u FLAGS %s INTERNALDATE \"%02u-%s-2023 %02u:%02u:%02u +0000\" "
                        "RFC822.SIZE %u ENVELOPE (",
                     i, uid, flag_sets[pick(sizeof flag_sets / sizeof *flag_sets)], 1 + pick(28),
                     months[pick(12)], pick(24), pick(60), pick(60), 1000 + pick(2000000));
    rfc822_date(b);
    bench_buf_add(b, " ", 1);
    subject(b);
    bench_buf_add(b, " ", 1);
    /* from, sender, reply-to: the same address, as servers usually repeat it */
    bench_buf from = { 0 };
    address_list(&from, 1);
    for (int k = 0; k < 3; k++) {
        bench_buf_add(b, from.data, from.len);
        bench_buf_add(b, " ", 1);
    }
    bench_buf_free(&from);
    address_list(b, 1 + pick(3));        /* to */
    bench_buf_add(b, " ", 1);
    address_list(b, pick(3) == 0 ? 1 + pick(2) : 0); /* cc */
    bench_buf_add(b, " NIL ", 5);                     /* bcc */
    if (pick(3) == 0)
        bench_buf_printf(b, "\"<%08x.%u@example.org>\" ", rnd(), i - 1);
    else
        bench_buf_add(b, "NIL ", 4);
    bench_buf_printf(b, "\"<%08x.%u@example.org>\") BODYSTRUCTURE ", rnd(), i);
    bodystructure(b, i);
    bench_buf_add(b, ")\r\n", 3);
}

static void literal_response(bench_buf *b, unsigned i, uint32_t uid)
{
    bench_buf hdr = { 0 };
    const char *fn = first_names[pick(sizeof first_names / sizeof *first_names)];
    const char *ln = last_names[pick(sizeof last_names / sizeof *last_names)];
    bench_buf_printf(&hdr, "From: %s %s <%c.%s@%s>\r\n", fn, ln, fn[0] | 0x20, ln,
                     hosts[pick(sizeof hosts / sizeof *hosts)]);
    bench_buf_printf(&hdr, "To: %s <%s@%s>\r\n", first_names[pick(16)], "someone",
                     hosts[pick(sizeof hosts / sizeof *hosts)]);
    if (pick(3) == 0)
        bench_buf_printf(&hdr, "Cc: team@%s\r\n", hosts[pick(sizeof hosts / sizeof *hosts)]);
    bench_buf_add(&hdr, "Subject: ", 9);
    unsigned n = 2 + pick(8);
    for (unsigned k = 0; k < n; k++) {
        const char *w = words[pick(sizeof words / sizeof *words)];
        if (k)
            bench_buf_add(&hdr, " ", 1);
        bench_buf_add(&hdr, w, strlen(w));
    }
    bench_buf_add(&hdr, "\r\n", 2);
    bench_buf_printf(&hdr, "Date: %s, %u %s 2023 %02u:%02u:%02u +0000\r\n", days[pick(7)],
                     1 + pick(28), months[pick(12)], pick(24), pick(60), pick(60));
    bench_buf_printf(&hdr, "Message-ID: <%08x.%u@example.org>\r\n\r\n", rnd(), i);
    bench_buf_printf(b, "* %u FETCH (UID %u RFC822.SIZE %u FLAGS %s "
                        "BODY[HEADER.FIELDS (FROM TO CC SUBJECT DATE MESSAGE-ID)] {%zu}\r\n",
                     i, uid, 1000 + pick(2000000),
                     flag_sets[pick(sizeof flag_sets / sizeof *flag_sets)], hdr.len);
    bench_buf_add(b, hdr.data, hdr.len);
    bench_buf_add(b, ")\r\n", 3);
    bench_buf_free(&hdr);
}

int bench_transcript(const char *kind, unsigned n, bench_buf *out, uint64_t *uid_sum_r)
{
    int meta;
    if (strcmp(kind, "meta") == 0)
        meta = 1;
    else if (strcmp(kind, "literals") == 0)
        meta = 0;
    else
        return -1;
    rng_state = 0x9e3779b97f4a7c15ull;
    uint64_t sum = 0;
    bench_buf_printf(out, "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE "
                          "LITERAL+ AUTH=PLAIN] Dovecot ready.\r\n");
    for (unsigned i = 1; i <= n; i++) {
        uint32_t uid = 1000 + 3 * i + pick(3);
        sum += uid;
        if (meta)
            meta_response(out, i, uid);
        else
            literal_response(out, i, uid);
    }
    bench_buf_printf(out, "1 OK Fetch completed (0.012 + 0.000 + 0.011 secs).\r\n");
    *uid_sum_r = sum;
    return 0;
}

int bench_write_message(const char *path, uint64_t size)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    static char buf[1 << 16];
    setvbuf(f, buf, _IOFBF, sizeof buf);
    int hl = fprintf(f,
                     "From: Bench Sender <sender@example.org>\n"
                     "To: Alice <alice@example.org>\n"
                     "Subject: posta benchmark message of %llu bytes\n"
                     "Date: Mon, 6 Nov 2023 10:00:00 +0000\n"
                     "Message-ID: <bench-large@example.org>\n"
                     "MIME-Version: 1.0\n"
                     "Content-Type: text/plain; charset=us-ascii\n"
                     "\n",
                     (unsigned long long)size);
    if (hl < 0) {
        fclose(f);
        return -1;
    }
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    uint64_t written = (uint64_t)hl;
    char line[77];
    rng_state = 0x1234567887654321ull;
    while (written < size) {
        uint64_t left = size - written;
        size_t n = left >= 77 ? 76 : (size_t)left - 1;
        for (size_t k = 0; k < n; k++)
            line[k] = alphabet[rnd() & 63];
        line[n] = '\n';
        if (fwrite(line, 1, n + 1, f) != n + 1) {
            fclose(f);
            return -1;
        }
        written += n + 1;
    }
    return fclose(f) == 0 ? 0 : -1;
}

void bench_small_message(bench_buf *out, size_t len, unsigned seq)
{
    out->len = 0;
    bench_buf_printf(out,
                     "From: Bench Sender <sender@example.org>\r\n"
                     "To: Sink <sink@example.org>\r\n"
                     "Subject: posta benchmark message %u\r\n"
                     "Date: Mon, 6 Nov 2023 10:00:00 +0000\r\n"
                     "Message-ID: <bench-%u@example.org>\r\n"
                     "\r\n",
                     seq, seq);
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz ";
    char line[80];
    size_t left;
    while ((left = len > out->len ? len - out->len : 0) > 0) {
        /* Lines of 70 characters + CRLF; the last one takes what is left
         * (at least 3 bytes remain whenever a line starts). */
        size_t n = left > 75 ? 70 : left - 2;
        for (size_t k = 0; k < n; k++)
            line[k] = alphabet[(seq + out->len + k) % 27];
        line[n] = '\r';
        line[n + 1] = '\n';
        bench_buf_add(out, line, n + 2);
    }
}
