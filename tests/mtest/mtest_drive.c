/* mtest-drive: plays a small send/expect script against a command run on a
 * pseudo-terminal, or against a Unix socket, so that the terminal and -x
 * sides of posta imtest can be tested without expect(1) or python.
 *
 *   mtest-drive [--timeout MS] SCRIPT -- CMD [ARG...]   command on a pty
 *   mtest-drive [--timeout MS] --unix PATH SCRIPT       client of a socket
 *
 * SCRIPT lines: "send TEXT", "expect TEXT", "sleep MS", "close" (stop
 * writing; on a pty that sends ^D), "wait" (read until the end, then print
 * "[exit N]" for a command).  TEXT takes \r \n \t \e \\ \xHH escapes.
 * Everything read is copied to stdout.  Exit status 0 when the script ran
 * to its end, 1 when an expect timed out or something failed. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char seen[1 << 20];
static size_t seen_len, mark;  /* expect looks at seen[mark..] */
static int fd = -1, eof;
static pid_t child = -1;
static int timeout_ms = 10000;

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

/* Read what is there within ms; returns 0, or -1 at the end. */
static int pump(int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (eof || poll(&p, 1, ms) <= 0)
        return eof ? -1 : 0;
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) {
        eof = 1;  /* a pty reports EIO once the command is gone */
        return -1;
    }
    fwrite(buf, 1, (size_t)n, stdout);
    fflush(stdout);
    size_t room = sizeof(seen) - seen_len;
    memcpy(seen + seen_len, buf, (size_t)n < room ? (size_t)n : room);
    seen_len += (size_t)n < room ? (size_t)n : room;
    return 0;
}

static size_t unescape(const char *in, char *out)
{
    size_t n = 0;
    for (; *in; in++) {
        if (*in != '\\' || !in[1]) {
            out[n++] = *in;
            continue;
        }
        switch (*++in) {
        case 'r': out[n++] = '\r'; break;
        case 'n': out[n++] = '\n'; break;
        case 't': out[n++] = '\t'; break;
        case 'e': out[n++] = 0x1b; break;
        case 'x': {
            char hex[3] = {in[1], in[1] ? in[2] : 0, 0};
            out[n++] = (char)strtol(hex, NULL, 16);
            in += 2;
            break;
        }
        default: out[n++] = *in; break;
        }
    }
    out[n] = '\0';
    return n;
}

static int expect(const char *text)
{
    long end = now_ms() + timeout_ms;
    for (;;) {
        seen[seen_len < sizeof(seen) ? seen_len : sizeof(seen) - 1] = '\0';
        char *hit = strstr(seen + mark, text);
        if (hit) {
            mark = (size_t)(hit - seen) + strlen(text);
            return 0;
        }
        long left = end - now_ms();
        if (left <= 0 || pump((int)left) < 0) {
            if (!eof || !strstr(seen + mark, text)) {
                fprintf(stderr, "mtest-drive: expected \"%s\", not seen\n", text);
                return -1;
            }
        }
    }
}

static int run_line(char *line)
{
    char text[4096];
    line[strcspn(line, "\n")] = '\0';
    if (strncmp(line, "send ", 5) == 0) {
        size_t n = unescape(line + 5, text);
        return write(fd, text, n) == (ssize_t)n ? 0 : -1;
    }
    if (strncmp(line, "expect ", 7) == 0) {
        unescape(line + 7, text);
        return expect(text);
    }
    if (strncmp(line, "sleep ", 6) == 0) {
        long end = now_ms() + atol(line + 6);
        while (now_ms() < end && pump((int)(end - now_ms())) == 0)
            ;
        return 0;
    }
    if (strcmp(line, "close") == 0) {
        if (child > 0)
            return write(fd, "\x04", 1) == 1 ? 0 : -1;
        return shutdown(fd, SHUT_WR);
    }
    if (strcmp(line, "wait") == 0) {
        long end = now_ms() + timeout_ms;
        while (!eof && now_ms() < end)
            pump(100);
        return eof ? 0 : -1;
    }
    return line[0] == '\0' || line[0] == '#' ? 0 : -1;
}

static int start_command(char **argv)
{
    struct winsize ws = {.ws_row = 24, .ws_col = 200};
    child = forkpty(&fd, NULL, NULL, &ws);
    if (child < 0)
        return -1;
    if (child == 0) {
        execvp(argv[0], argv);
        _exit(127);
    }
    return 0;
}

static int connect_unix(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    long end = now_ms() + timeout_ms;
    while (now_ms() < end) {
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
            return 0;
        close(fd);
        usleep(20000);
    }
    return -1;
}

int main(int argc, char **argv)
{
    int i = 1;
    const char *unix_path = NULL;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0 && argv[i][2]; i += 2) {
        if (i + 1 >= argc)
            return 1;
        if (strcmp(argv[i], "--timeout") == 0)
            timeout_ms = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--unix") == 0)
            unix_path = argv[i + 1];
    }
    if (i >= argc)
        return 1;
    FILE *script = fopen(argv[i], "r");
    if (!script)
        return 1;
    if (unix_path ? connect_unix(unix_path) : (i + 2 < argc ? start_command(argv + i + 2) : -1)) {
        fprintf(stderr, "mtest-drive: cannot start: %s\n", strerror(errno));
        return 1;
    }
    char line[4200];
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof(line), script))
        rc = run_line(line);
    fclose(script);
    if (child > 0) {
        int status = 0;
        if (rc != 0)
            kill(child, SIGKILL);
        waitpid(child, &status, 0);
        if (rc == 0)
            printf("[exit %d]\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    }
    return rc == 0 ? 0 : 1;
}
