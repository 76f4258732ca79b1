/* A bump allocator for one parsed response: many small allocations, all
 * released at once by a reset, with a hard cap on the bytes handed out. */
#ifndef POSTA_IMAP_ARENA_H
#define POSTA_IMAP_ARENA_H

#include <stddef.h>

struct posta_arena_block;

struct posta_arena {
    struct posta_arena_block *head; /* blocks in allocation order */
    struct posta_arena_block *cur;  /* the block allocations come from */
    size_t used;                    /* bytes handed out since the last reset */
    size_t cap;                     /* limit on used; 0 = none */
};

void posta__arena_init(struct posta_arena *a, size_t cap);
/* Frees every block; the arena may be used again afterwards. */
void posta__arena_free(struct posta_arena *a);
/* Forget every allocation.  Small blocks are kept for the next response so
 * that a steady stream of ordinary responses allocates nothing; big ones
 * are returned to the system so one huge response does not pin memory. */
void posta__arena_reset(struct posta_arena *a);
/* n bytes aligned for any object (n may be 0).  Returns 0, POSTA_ELIMIT when
 * the cap would be crossed, or POSTA_ENOMEM. */
int posta__arena_alloc(struct posta_arena *a, size_t n, void **r);
/* A NUL-terminated copy of n bytes (which may hold NUL); upper-cases ASCII
 * letters when upper is nonzero.  Same returns as posta__arena_alloc. */
int posta__arena_strdup(struct posta_arena *a, const void *p, size_t n, int upper, char **r);

#endif
