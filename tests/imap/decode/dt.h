/* Helpers for the decoder tests: responses parsed from text by the real
 * parser and kept after its callback, and checks on posta_imap_str. */
#ifndef POSTA_TEST_DT_H
#define POSTA_TEST_DT_H

#include <posta/imap_data.h>
#include <posta/imap_parser.h>

#include "t.h"

/* Parse text (one or more complete responses) and return response number
 * index (0-based), deep-copied so it outlives the parser; freed at exit.
 * inline_literal > 0 sets the parser's streaming threshold.  Aborts the
 * test program when the parser fails or there is no such response. */
const posta_imap_response *dt_parse_n(const char *text, size_t index, size_t inline_literal);
#define dt_parse(text) dt_parse_n((text), 0, 0)
/* The same for bytes that may hold NUL (a string literal: sizeof - 1). */
const posta_imap_response *dt_parse_len(const char *text, size_t len, size_t index,
                                        size_t inline_literal);
#define dt_parse_lit(lit) dt_parse_len((lit), sizeof(lit) - 1, 0, 0)
/* How many responses text holds. */
size_t dt_count(const char *text);

/* A decoder freed at exit. */
posta_imap_decoder *dt_decoder(unsigned flags);

/* A deep copy of a tree node (for hand-made quirk trees built from parsed
 * ones); freed at exit. */
posta_imap_arg *dt_copy_arg(const posta_imap_arg *a);

/* s as a C string for messages: "(NIL)" for NIL. */
const char *dt_cstr(posta_imap_str s);

#define T_EQ_PSTR(s, lit) do { posta_imap_str s_ = (s); const char *l_ = (lit); \
    if (!l_ ? s_.ptr != NULL : (!s_.ptr || s_.len != strlen(l_) || memcmp(s_.ptr, l_, s_.len))) \
        t_fail(__FILE__, __LINE__, "%s is \"%s\", expected \"%s\"", #s, dt_cstr(s_), \
               l_ ? l_ : "(NIL)"); } while (0)
#define T_NIL(s) T_EQ_PSTR((s), NULL)

#endif
