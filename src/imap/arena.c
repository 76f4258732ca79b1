/* The per-response bump allocator behind the IMAP parser's trees. */
#include "arena.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include <posta/error.h>

/* Why these sizes: the first block holds a typical FETCH response whole;
 * later blocks double so that a big response needs few mallocs; what is
 * kept across a reset stays small per connection. */
#define ARENA_FIRST 8192u
#define ARENA_MAX_BLOCK (1024u * 1024u)
#define ARENA_KEEP (256u * 1024u)

struct posta_arena_block {
    struct posta_arena_block *next;
    size_t size; /* bytes in data[] */
    size_t used;
    alignas(max_align_t) unsigned char data[];
};

void posta__arena_init(struct posta_arena *a, size_t cap)
{
    memset(a, 0, sizeof(*a));
    a->cap = cap;
}

void posta__arena_free(struct posta_arena *a)
{
    struct posta_arena_block *b = a->head;
    while (b) {
        struct posta_arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = a->cur = NULL;
    a->used = 0;
}

void posta__arena_reset(struct posta_arena *a)
{
    struct posta_arena_block **link = &a->head;
    size_t kept = 0;

    while (*link) {
        struct posta_arena_block *b = *link;
        if (kept + b->size <= ARENA_KEEP) {
            kept += b->size;
            b->used = 0;
            link = &b->next;
        } else {
            *link = b->next;
            free(b);
        }
    }
    a->cur = a->head;
    a->used = 0;
}

static struct posta_arena_block *arena_grow(struct posta_arena *a, size_t n)
{
    size_t size = ARENA_FIRST;
    struct posta_arena_block *last = NULL;

    for (struct posta_arena_block *b = a->head; b; b = b->next) {
        last = b;
        if (b->size >= size && size < ARENA_MAX_BLOCK)
            size = b->size * 2 > ARENA_MAX_BLOCK ? ARENA_MAX_BLOCK : b->size * 2;
    }
    if (size < n)
        size = n;
    if (size > SIZE_MAX - sizeof(struct posta_arena_block))
        return NULL;
    struct posta_arena_block *b = malloc(sizeof(*b) + size);
    if (!b)
        return NULL;
    b->next = NULL;
    b->size = size;
    b->used = 0;
    if (last)
        last->next = b;
    else
        a->head = b;
    return b;
}

static int arena_take(struct posta_arena *a, size_t n, size_t align, void **r)
{
    if (a->cap && (n > a->cap || a->used > a->cap - n))
        return POSTA_ELIMIT;
    /* Blocks kept from earlier responses are tried in order before a new
     * one is made; a block too full for this request is left behind. */
    for (; a->cur; a->cur = a->cur->next) {
        size_t at = (a->cur->used + align - 1) & ~(align - 1);
        if (at <= a->cur->size && a->cur->size - at >= n) {
            a->cur->used = at + n;
            a->used += n;
            *r = a->cur->data + at;
            return 0;
        }
    }
    struct posta_arena_block *b = arena_grow(a, n);
    if (!b)
        return POSTA_ENOMEM;
    a->cur = b;
    b->used = n;
    a->used += n;
    *r = b->data;
    return 0;
}

int posta__arena_alloc(struct posta_arena *a, size_t n, void **r)
{
    return arena_take(a, n, alignof(max_align_t), r);
}

int posta__arena_strdup(struct posta_arena *a, const void *p, size_t n, int upper, char **r)
{
    void *mem;
    if (n == SIZE_MAX)
        return POSTA_ELIMIT;
    int rc = arena_take(a, n + 1, 1, &mem);
    if (rc < 0)
        return rc;
    char *s = mem;
    if (n)
        memcpy(s, p, n);
    s[n] = '\0';
    if (upper)
        for (size_t i = 0; i < n; i++)
            if (s[i] >= 'a' && s[i] <= 'z')
                s[i] = (char)(s[i] - 'a' + 'A');
    *r = s;
    return 0;
}
