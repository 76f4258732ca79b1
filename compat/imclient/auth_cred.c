/* Where imclient_authenticate() finds who "the current user" is and the
 * secrets: the application's password procedure, or the terminal. */
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "imclient_int.h"

IMC_API void imclient_setpasswordproc(struct imclient *im, imclient_getpass_t *proc, void *rock)
{
    if (!im)
        return;
    im->getpass = proc;
    im->getpass_rock = rock;
}

const char *imc_current_user(char *buf, size_t size)
{
    const char *env = getenv("LOGNAME");
    if (!env || !*env)
        env = getenv("USER");
    if (env && *env && strlen(env) < size) {
        memcpy(buf, env, strlen(env) + 1);
        return buf;
    }
    struct passwd pw, *res = NULL;
    char pwbuf[4096];
    if (getpwuid_r(getuid(), &pw, pwbuf, sizeof(pwbuf), &res) != 0 || !res || strlen(res->pw_name) >= size)
        return NULL;
    memcpy(buf, res->pw_name, strlen(res->pw_name) + 1);
    return buf;
}

/* Read one line from the terminal without echo; 0, or -1 without a
 * terminal or at end of input. */
static int read_tty_line(int fd, char *buf, size_t size)
{
    size_t n = 0;
    char c;
    ssize_t r;
    while ((r = read(fd, &c, 1)) == 1 && c != '\n') {
        if (c != '\r' && n + 1 < size)
            buf[n++] = c;
    }
    buf[n] = '\0';
    return r == 1 || n > 0 ? 0 : -1;
}

static int ask_terminal(const char *prompt, char *buf, size_t size)
{
    int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct termios saved, quiet;
    int have_termios = tcgetattr(fd, &saved) == 0;
    if (have_termios) {
        quiet = saved;
        quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
        quiet.c_lflag |= ICANON;
        tcsetattr(fd, TCSANOW, &quiet);
    }
    ssize_t w = write(fd, prompt, strlen(prompt));
    int rc = read_tty_line(fd, buf, size);
    if (have_termios)
        tcsetattr(fd, TCSANOW, &saved);
    w = write(fd, "\n", 1);
    (void)w;
    close(fd);
    return rc;
}

int imc_get_secret(struct imclient *im, const char *mech, const char *user, char *buf, size_t size)
{
    if (size == 0)
        return -1;
    buf[0] = '\0';
    if (im->getpass) {
        im->in_callback++;
        int rc = im->getpass(im, im->getpass_rock, mech, user, buf, size);
        im->in_callback--;
        buf[size - 1] = '\0';
        return rc == 0 ? 0 : -1;
    }
    char prompt[300];
    int token = strcmp(mech, "XOAUTH2") == 0 || strcmp(mech, "OAUTHBEARER") == 0;
    snprintf(prompt, sizeof(prompt), "%s for %s: ", token ? "OAuth token" : "Password", user ? user : "");
    return ask_terminal(prompt, buf, size);
}
