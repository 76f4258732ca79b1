/* Terminal input for the mail test tools: the password prompt without echo,
 * and a small line editor with history (no readline dependency), redrawn
 * around whatever the server prints meanwhile. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "mtest.h"

/* --- the password ------------------------------------------------------- */

static struct termios pw_saved;
static volatile int pw_fd = -1;

/* ^C at the prompt must not leave the terminal without echo. */
static void pw_sigint(int sig)
{
    if (pw_fd >= 0)
        tcsetattr(pw_fd, TCSANOW, &pw_saved);
    signal(sig, SIG_DFL);
    raise(sig);
}

/* One line from fd, byte by byte so nothing after it is taken. */
static int read_line_fd(int fd, char *buf, size_t bufsz)
{
    size_t n = 0;
    for (;;) {
        char c;
        ssize_t r = read(fd, &c, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        if (c == '\n')
            break;
        if (n + 1 < bufsz)
            buf[n++] = c;
    }
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    buf[n] = '\0';
    return 0;
}

int mt_read_password(const char *prompt, char *buf, size_t bufsz)
{
    int fd = open("/dev/tty", O_RDWR | O_NOCTTY);
    mt_flush();
    if (fd < 0 || tcgetattr(fd, &pw_saved) < 0) {
        /* No terminal: the next line of the input is the password. */
        if (fd >= 0)
            close(fd);
        fputs(prompt, stdout);
        mt_flush();
        read_line_fd(0, buf, bufsz);
        fputc('\n', stdout);
        return 0;
    }
    struct termios quiet = pw_saved;
    quiet.c_lflag &= (tcflag_t)~ECHO;
    quiet.c_lflag |= ECHONL;
    pw_fd = fd;
    void (*old)(int) = signal(SIGINT, pw_sigint);
    /* Echo goes off before the prompt shows, so nothing typed after it is
     * ever echoed; what was typed ahead is kept (TCSANOW), not flushed. */
    if (tcsetattr(fd, TCSANOW, &quiet) < 0 || write(fd, prompt, strlen(prompt)) < 0) {
        close(fd);
        pw_fd = -1;
        signal(SIGINT, old);
        return -1;
    }
    read_line_fd(fd, buf, bufsz);
    tcsetattr(fd, TCSANOW, &pw_saved);
    pw_fd = -1;
    signal(SIGINT, old);
    close(fd);
    return 0;
}

/* --- the line editor ------------------------------------------------------- */

#define LINE_MAX_BYTES 4096
#define HISTORY 500

struct mt_edit {
    struct termios saved;
    char line[LINE_MAX_BYTES];
    size_t len, pos;          /* bytes; pos is on a character boundary */
    size_t scroll;            /* first character shown */
    char *hist[HISTORY];
    int nhist, hpos;          /* hpos == nhist: the line being typed */
    char stash[LINE_MAX_BYTES];
    char esc[8];
    size_t esclen;            /* inside an escape sequence */
    int shown;
};

static struct mt_edit *active;

static void restore(void)
{
    if (active)
        tcsetattr(0, TCSANOW, &active->saved);
}

struct mt_edit *mt_edit_open(void)
{
    struct mt_edit *e = calloc(1, sizeof(*e));
    if (!e || tcgetattr(0, &e->saved) < 0) {
        free(e);
        return NULL;
    }
    struct termios raw = e->saved;
    /* Keys one by one, no echo; ^C still interrupts; ^Z is a key here
     * (a suspended raw terminal would be unusable). */
    raw.c_lflag &= (tcflag_t) ~(ICANON | ECHO | IEXTEN);
    /* ^C must not make the kernel discard the LOGOUT we show for it. */
    raw.c_lflag |= NOFLSH;
    raw.c_iflag &= (tcflag_t) ~(IXON);
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    raw.c_cc[VSUSP] = _POSIX_VDISABLE;
    if (tcsetattr(0, TCSANOW, &raw) < 0) {
        free(e);
        return NULL;
    }
    active = e;
    atexit(restore);
    return e;
}

void mt_edit_close(struct mt_edit *e)
{
    if (!e)
        return;
    mt_edit_hide(e);
    tcsetattr(0, TCSANOW, &e->saved);
    active = NULL;
    for (int i = 0; i < e->nhist; i++)
        free(e->hist[i]);
    free(e);
}

static int is_cont(char c)
{
    return ((unsigned char)c & 0xc0) == 0x80;
}

/* Characters (not bytes) in line[from, to). */
static size_t chars(const struct mt_edit *e, size_t from, size_t to)
{
    size_t n = 0;
    for (size_t i = from; i < to; i++)
        n += !is_cont(e->line[i]);
    return n;
}

static size_t byte_of_char(const struct mt_edit *e, size_t ch)
{
    size_t i = 0;
    for (size_t n = 0; i < e->len; i++)
        if (!is_cont(e->line[i]) && n++ == ch)
            return i;
    return e->len;
}

static size_t columns(void)
{
    struct winsize ws;
    if (ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 10)
        return ws.ws_col;
    return 80;
}

/* Redraw the line, scrolled sideways so the cursor stays visible. */
static void draw(struct mt_edit *e)
{
    size_t width = columns() - 1, cur = chars(e, 0, e->pos);
    if (cur < e->scroll)
        e->scroll = cur;
    if (cur >= e->scroll + width)
        e->scroll = cur - width + 1;
    size_t from = byte_of_char(e, e->scroll), to = byte_of_char(e, e->scroll + width);
    fputs("\r", stdout);
    fwrite(e->line + from, 1, to - from, stdout);
    fputs("\033[K\r", stdout);
    if (cur > e->scroll)
        printf("\033[%zuC", cur - e->scroll);
    fflush(stdout);
    e->shown = 1;
}

void mt_edit_hide(struct mt_edit *e)
{
    if (!e || !e->shown)
        return;
    fputs("\r\033[K", stdout);
    fflush(stdout);
    e->shown = 0;
}

void mt_edit_show(struct mt_edit *e)
{
    if (e && e->len > 0)
        draw(e);
}

static void set_line(struct mt_edit *e, const char *text)
{
    size_t n = strlen(text);
    if (n >= sizeof(e->line))
        n = sizeof(e->line) - 1;
    memcpy(e->line, text, n);
    e->len = e->pos = n;
}

static void history_move(struct mt_edit *e, int delta)
{
    int to = e->hpos + delta;
    if (to < 0 || to > e->nhist)
        return;
    if (e->hpos == e->nhist) {
        memcpy(e->stash, e->line, e->len);
        e->stash[e->len] = '\0';
    }
    e->hpos = to;
    set_line(e, to == e->nhist ? e->stash : e->hist[to]);
}

static void history_add(struct mt_edit *e)
{
    if (e->len == 0 || (e->nhist && strlen(e->hist[e->nhist - 1]) == e->len &&
                        memcmp(e->hist[e->nhist - 1], e->line, e->len) == 0))
        return;
    if (e->nhist == HISTORY) {
        free(e->hist[0]);
        memmove(e->hist, e->hist + 1, sizeof(e->hist[0]) * (HISTORY - 1));
        e->nhist--;
    }
    char *h = malloc(e->len + 1);
    if (!h)
        return;
    memcpy(h, e->line, e->len);
    h[e->len] = '\0';
    e->hist[e->nhist++] = h;
}

static void delete_range(struct mt_edit *e, size_t from, size_t to)
{
    memmove(e->line + from, e->line + to, e->len - to);
    e->len -= to - from;
    e->pos = from;
}

static size_t prev_char(const struct mt_edit *e, size_t i)
{
    while (i > 0 && is_cont(e->line[--i]))
        ;
    return i;
}

static size_t next_char(const struct mt_edit *e, size_t i)
{
    if (i < e->len)
        i++;
    while (i < e->len && is_cont(e->line[i]))
        i++;
    return i;
}

static void insert(struct mt_edit *e, char c)
{
    if (e->len + 1 >= sizeof(e->line))
        return;
    memmove(e->line + e->pos + 1, e->line + e->pos, e->len - e->pos);
    e->line[e->pos] = c;
    e->len++;
    e->pos++;
    /* Inside a multi-byte character the cursor waits for its last byte. */
}

static void kill_word(struct mt_edit *e)
{
    size_t i = e->pos;
    while (i > 0 && e->line[i - 1] == ' ')
        i--;
    while (i > 0 && e->line[i - 1] != ' ')
        i--;
    delete_range(e, i, e->pos);
}

/* Escape sequences: arrows, Home, End, Delete. */
static void escape(struct mt_edit *e, char c)
{
    e->esc[e->esclen++] = c;
    if (e->esclen == 1 || (e->esclen == 2 && (c == '[' || c == 'O')) ||
        (c >= '0' && c <= '9' && e->esclen < sizeof(e->esc)))
        return;
    char last = c, first = e->esclen > 2 ? e->esc[2] : 0;
    e->esclen = 0;
    switch (last) {
    case 'A': history_move(e, -1); break;
    case 'B': history_move(e, 1); break;
    case 'C': e->pos = next_char(e, e->pos); break;
    case 'D': e->pos = prev_char(e, e->pos); break;
    case 'H': e->pos = 0; break;
    case 'F': e->pos = e->len; break;
    case '~':
        if (first == '1' || first == '7')
            e->pos = 0;
        else if (first == '4' || first == '8')
            e->pos = e->len;
        else if (first == '3' && e->pos < e->len)
            delete_range(e, e->pos, next_char(e, e->pos));
        break;
    default: break;
    }
}

/* One key; returns 1 when the line is complete. */
static int key(struct mt_edit *e, char c, int *eof)
{
    if (e->esclen) {
        escape(e, c);
        return 0;
    }
    switch (c) {
    case '\r': case '\n': return 1;
    case 0x1b: escape(e, c); break;
    case 0x7f: case 0x08:
        if (e->pos > 0)
            delete_range(e, prev_char(e, e->pos), e->pos);
        break;
    case 0x01: e->pos = 0; break;
    case 0x05: e->pos = e->len; break;
    case 0x02: e->pos = prev_char(e, e->pos); break;
    case 0x06: e->pos = next_char(e, e->pos); break;
    case 0x0b: e->len = e->pos; break;
    case 0x15: delete_range(e, 0, e->pos); break;
    case 0x17: kill_word(e); break;
    case 0x10: history_move(e, -1); break;
    case 0x0e: history_move(e, 1); break;
    case 0x0c: fputs("\033[H\033[2J", stdout); break;
    case 0x04:
        if (e->len == 0)
            *eof = 1;
        else if (e->pos < e->len)
            delete_range(e, e->pos, next_char(e, e->pos));
        break;
    default:
        if ((unsigned char)c >= 0x20 || c == '\t')
            insert(e, c);
        break;
    }
    return 0;
}

size_t mt_edit_feed(struct mt_edit *e, const char *in, size_t n, char *out, size_t outsz, int *eof)
{
    size_t used = 0;
    for (size_t i = 0; i < n && !*eof; i++) {
        if (!key(e, in[i], eof))
            continue;
        /* The typed line stays on the screen, as in cooked mode. */
        e->pos = e->len;
        draw(e);
        fputs("\n", stdout);
        fflush(stdout);
        e->shown = 0;
        if (used + e->len + 1 <= outsz) {
            memcpy(out + used, e->line, e->len);
            out[used + e->len] = '\n';
            used += e->len + 1;
        }
        history_add(e);
        e->len = e->pos = e->scroll = 0;
        e->hpos = e->nhist;
    }
    if (!*eof)
        draw(e);
    else
        fputs("\n", stdout);
    return used;
}
