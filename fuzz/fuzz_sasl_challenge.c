/* libFuzzer target for what a server can throw at the SASL layer: the
 * mechanism list, continuation lines (marker parsing, base64, the built-in
 * mechanisms' steps and JSON errors), results, and APOP greetings.
 *
 * Input: byte 0 picks the protocol and mechanism, byte 1 the options; the
 * rest is lines separated by LF.  Line 1 is the offered list (and an APOP
 * greeting); each later line is a continuation when it parses as one,
 * a success when it starts with 'O' (the rest as success data), else a
 * failure (credentials when its first byte is odd). */
#include <posta/sasl.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *mechs[] = {"OAUTHBEARER", "XOAUTH2", "PLAIN", "LOGIN", "EXTERNAL",
                              "OAUTHBEARER PLAIN LOGIN", NULL};

/* Every line handed back must be one protocol line: CRLF at the end and
 * nowhere else, no NUL. */
static void check_line(const char *line, size_t n)
{
    if (n < 2 || line[n - 2] != '\r' || line[n - 1] != '\n')
        __builtin_trap();
    for (size_t i = 0; i + 2 < n; i++)
        if (line[i] == '\r' || line[i] == '\n' || line[i] == '\0')
            __builtin_trap();
}

static posta_sasl *make(uint8_t sel, uint8_t opt)
{
    posta_sasl *s = NULL;
    posta_sasl_proto proto = (posta_sasl_proto)(1 + sel % 3);
    if (posta_sasl_new(&s, proto, "imap", (opt & 0x40) ? "mail.example" : NULL) < 0)
        return NULL;
    posta_sasl_set_tls(s, opt & 1, (opt & 1) ? 256 : 0, opt & 0x20);
    posta_sasl_set_allow_plaintext(s, opt & 2);
    posta_sasl_set_initial_response(s, opt & 4);
    posta_sasl_set_try_next(s, opt & 8);
    posta_sasl_set_port(s, 993);
    posta_sasl_set_mechanisms(s, mechs[(sel / 3) % (sizeof(mechs) / sizeof(mechs[0]))]);
    posta_sasl_set_credential(s, POSTA_SASL_AUTHCID, "alice", 5);
    posta_sasl_set_credential(s, POSTA_SASL_PASSWORD, "alicepw", 7);
    posta_sasl_set_credential(s, POSTA_SASL_TOKEN, "token", 5);
    if (opt & 0x80)
        posta_sasl_set_credential(s, POSTA_SASL_AUTHZID, "bob,=x", 6);
    return s;
}

/* One server line; returns nonzero when the exchange is over. */
static int feed(posta_sasl *s, posta_sasl_proto proto, const char *p, size_t n)
{
    const char *text, *line;
    size_t tn, ln;
    if (posta_sasl_parse_continuation(proto, p, n, &text, &tn)) {
        if (text < p || text + tn > p + n)
            __builtin_trap();
        if (posta_sasl_on_continuation(s, text, tn, &line, &ln) < 0)
            return 1;
        check_line(line, ln);
        return 0;
    }
    if (n > 0 && p[0] == 'O')
        return posta_sasl_on_success(s, p + 1, n - 1), 1;
    posta_sasl_failure kind = (n > 0 && (p[0] & 1)) ? POSTA_SASL_CREDENTIALS : POSTA_SASL_REJECTED;
    if (posta_sasl_on_failure(s, kind, p, n, &line, &ln) < 0)
        return 1;
    check_line(line, ln);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    posta_sasl *s = make(data[0], data[1]);
    if (!s)
        return 0;
    posta_sasl_proto proto = (posta_sasl_proto)(1 + data[0] % 3);
    const char *p = (const char *)data + 2, *end = (const char *)data + size;
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t first = nl ? (size_t)(nl - p) : (size_t)(end - p);
    const char *line;
    size_t ln;

    if (posta_sasl_apop_command(s, p, first, &line, &ln) == 0)
        check_line(line, ln);
    int rc = posta_sasl_start(s, (data[1] & 0x10) ? NULL : p, first, &line, &ln);
    if (rc == 0) {
        check_line(line, ln);
        p = nl ? nl + 1 : end;
        while (p < end) {
            nl = memchr(p, '\n', (size_t)(end - p));
            size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
            if (feed(s, proto, p, n))
                break;
            p = nl ? nl + 1 : end;
        }
    }
    posta_sasl_free(s);
    return 0;
}
