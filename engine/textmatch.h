/* Comparing what OCR read with what a flow asks for: case folding,
 * punctuation at word ends, similarity for "did you mean" messages. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decodes UTF-8 into at most max code points (an invalid byte counts as
 * itself), folding case when fold is set: ASCII, Latin-1, Latin
 * Extended-A, Greek and Cyrillic capitals to small letters.  Returns the
 * number written. */
size_t dp_text_decode(const char *s, size_t len, bool fold, uint32_t *out, size_t max);

/* Whether a word read equals a word asked for, bytes or folded case, after
 * ASCII punctuation at either end of both is set aside (a word that is
 * punctuation only must match exactly). */
bool dp_text_word_equal(const char *read, const char *asked, bool icase);

/* 1 - Levenshtein distance / longer length, on case-folded code points
 * (1: equal, 0: nothing in common). */
double dp_text_similarity(const char *a, const char *b);
