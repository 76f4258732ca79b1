/* Message sources: the caller's callbacks, a FILE, a descriptor or a
 * buffer, read in chunks and rewound for each pass, never held whole. */
#include "smtp_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define IO_CHUNK (64u * 1024u)

static int ensure_io(struct smtp_src *s)
{
    if (!s->io)
        s->io = malloc(IO_CHUNK);
    return s->io ? 0 : POSTA_ENOMEM;
}

int smtp_src_rewind(posta_smtp_message *m)
{
    struct smtp_src *s = &m->src;
    unsigned first = s->passes++ == 0;

    switch (s->kind) {
    case SRC_CB:
        if (s->cb.rewind)
            return s->cb.rewind(m, s->cb.user);
        return first ? 0 : POSTA_ESTATE;
    case SRC_FILE:
        if (s->start < 0)
            return first ? 0 : POSTA_ESTATE;
        clearerr(s->fp);
        return fseeko(s->fp, s->start, SEEK_SET) == 0 ? 0 : POSTA_EIO;
    case SRC_FD:
        if (s->start < 0)
            return first ? 0 : POSTA_ESTATE;
        return lseek(s->fd, s->start, SEEK_SET) == s->start ? 0 : POSTA_EIO;
    case SRC_BUF:
        s->pos = 0;
        return 0;
    default:
        return POSTA_EINVAL;
    }
}

static int read_file(struct smtp_src *s, const unsigned char **p, size_t *len)
{
    int rc = ensure_io(s);
    if (rc < 0)
        return rc;
    size_t n = fread(s->io, 1, IO_CHUNK, s->fp);
    if (n == 0 && ferror(s->fp))
        return POSTA_EIO;
    *p = s->io;
    *len = n;
    return 0;
}

static int read_fd(struct smtp_src *s, const unsigned char **p, size_t *len)
{
    int rc = ensure_io(s);
    if (rc < 0)
        return rc;
    for (;;) {
        ssize_t n = read(s->fd, s->io, IO_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return POSTA_EIO;
        *p = s->io;
        *len = (size_t)n;
        return 0;
    }
}

int smtp_src_read(posta_smtp_message *m, const unsigned char **p, size_t *len)
{
    struct smtp_src *s = &m->src;
    *p = NULL;
    *len = 0;
    switch (s->kind) {
    case SRC_CB: {
        const void *d = NULL;
        size_t n = 0;
        int rc = s->cb.read(m, &d, &n, s->cb.user);
        if (rc < 0)
            return rc;
        if (n && !d)
            return POSTA_EINVAL;
        *p = d;
        *len = n;
        return 0;
    }
    case SRC_FILE:
        return read_file(s, p, len);
    case SRC_FD:
        return read_fd(s, p, len);
    case SRC_BUF: {
        /* Chunks keep the canonicalizer's output bounded. */
        size_t n = s->len - s->pos < IO_CHUNK ? s->len - s->pos : IO_CHUNK;
        *p = s->buf + s->pos;
        *len = n;
        s->pos += n;
        return 0;
    }
    default:
        return POSTA_EINVAL;
    }
}

void smtp_src_release(posta_smtp_message *m)
{
    struct smtp_src *s = &m->src;
    if (s->kind == SRC_CB && s->cb.release)
        s->cb.release(m, s->cb.user);
    free(s->io);
    memset(s, 0, sizeof(*s));
    s->fd = -1;
}

long long smtp_src_length(const posta_smtp_message *m)
{
    const struct smtp_src *s = &m->src;
    struct stat st;
    switch (s->kind) {
    case SRC_BUF:
        return (long long)s->len;
    case SRC_FILE:
        if (s->start >= 0 && fstat(fileno(s->fp), &st) == 0 && S_ISREG(st.st_mode))
            return (long long)st.st_size - (long long)s->start;
        return -1;
    case SRC_FD:
        if (s->start >= 0 && fstat(s->fd, &st) == 0 && S_ISREG(st.st_mode))
            return (long long)st.st_size - (long long)s->start;
        return -1;
    default:
        return -1;
    }
}
