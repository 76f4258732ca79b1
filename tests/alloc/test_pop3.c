/* Allocation-failure loops over the POP3 response parser: status lines,
 * multi-line responses as lines and as bytes, fed whole, in pieces and byte
 * by byte (partial lines are what it buffers). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "failmalloc.h"
#include "pop3/parse.h"

static const char *modes;

static int on_status(void *ctx, const struct pop3_status *st)
{
    char m = *modes ? *modes++ : 's';
    fm_puts(st->kind == POP3_OK ? "OK" : st->kind == POP3_ERR ? "ERR" : "CONT");
    if (st->code) {
        fm_puts("[");
        fm_put(st->code, st->code_len);
        fm_puts("]");
    }
    fm_puts("{");
    fm_put(st->text, st->text_len);
    fm_puts("}\n");
    return m == 'l' ? POP3_MODE_LINES : m == 'b' ? POP3_MODE_BODY : POP3_MODE_STATUS;
}

static int on_line(void *ctx, const char *line, size_t len)
{
    fm_puts("L{");
    fm_put(line, len);
    fm_puts("}\n");
    return 0;
}

static int on_data(void *ctx, const char *p, size_t n)
{
    fm_put(p, n);   /* pieces join up whatever the split */
    return 0;
}

static int on_end(void *ctx)
{
    fm_puts("<end>\n");
    return 0;
}

static char input[8192];
static size_t input_len;

static void build(void)
{
    const char *fixed = "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n"
                        "+OK 2 messages (320 octets)\r\n1 120\r\n2 200\r\n..dotted\r\n.\r\n"
                        "+OK message follows\r\nSubject: x\r\n\r\n..leading dot\r\nbody\n.\r\n"
                        "-ERR [AUTH] invalid password\r\n"
                        "+ \r\n"
                        "+OK\n";
    size_t n = strlen(fixed);
    memcpy(input, fixed, n);
    /* a long status line (grows the line buffer) */
    memcpy(input + n, "-ERR [SYS/TEMP] ", 16);
    n += 16;
    memset(input + n, 'e', 900);
    n += 900;
    memcpy(input + n, "\r\n", 2);
    input_len = n + 2;
}

static int run(size_t step)
{
    static const struct pop3_parser_ops ops = {on_status, on_line, on_data, on_end};
    struct pop3_parser p;
    pop3_parser_init(&p, 2048);
    p.allow_cont = 1;
    modes = "slbsss";
    size_t off = 0;
    int rc = 0;
    while (off < input_len) {
        size_t n = step && step < input_len - off ? step : input_len - off;
        long used = pop3_parser_feed(&p, input + off, n, &ops, NULL);
        if (used < 0) {
            rc = (int)used;
            if (rc != POSTA_ENOMEM)
                fprintf(stderr, "pop3: %s\n", posta__err_msg(&p.err));
            break;
        }
        if ((size_t)used != n) {
            rc = FM_WRONG;
            break;
        }
        off += n;
    }
    if (rc == 0 && !pop3_parser_idle(&p))
        rc = FM_WRONG;
    pop3_parser_free(&p);
    return rc ? rc : fm_done();
}

static int whole(void)
{
    return run(0);
}

static int pieces(void)
{
    return run(5);
}

static int bytes(void)
{
    return run(1);
}

static void test_parser(void)
{
    build();
    fm_loop(whole);
    T_CONTAINS(fm_ref(), "L{1 120}\nL{2 200}\nL{.dotted}\n<end>\n");
    T_CONTAINS(fm_ref(), "Subject: x\r\n\r\n.leading dot\r\nbody\n<end>\n");
    T_CONTAINS(fm_ref(), "ERR[AUTH]{invalid password}\n");
    fm_loop(pieces);
    fm_loop(bytes);
}

int main(int argc, char **argv)
{
    static const struct t_case cases[] = {
        {"parser", test_parser},
        {NULL, NULL},
    };
    return t_main(argc, argv, cases);
}
