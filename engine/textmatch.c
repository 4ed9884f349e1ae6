#include "engine/textmatch.h"

#include <stdlib.h>
#include <string.h>

#define SIMILARITY_MAX 160 /* code points compared; the rest is ignored */

static uint32_t fold_cp(uint32_t c)
{
	if (c >= 'A' && c <= 'Z')
		return c + 32;
	if (c < 0xc0)
		return c;
	if ((c >= 0xc0 && c <= 0xde && c != 0xd7) || (c >= 0x391 && c <= 0x3ab && c != 0x3a2) ||
	    (c >= 0x410 && c <= 0x42f))
		return c + 32;
	if (c >= 0x400 && c <= 0x40f)
		return c + 80;
	/* Latin Extended-A pairs capitals and small letters, mostly even/odd. */
	if ((c >= 0x100 && c <= 0x137) || (c >= 0x14a && c <= 0x177))
		return c | 1;
	if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e))
		return (c & 1) ? c + 1 : c;
	return c;
}

size_t dp_text_decode(const char *s, size_t len, bool fold, uint32_t *out, size_t max)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	size_t n = 0;

	while (p < end && n < max) {
		uint32_t c = *p;
		int more = c >= 0xf0 && c < 0xf8 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;

		if (c >= 0xf8 || (c >= 0x80 && c < 0xc0) || end - p <= more) {
			more = 0; /* invalid or cut short: the byte stands for itself */
		} else if (more) {
			c &= 0x3f >> more;
			for (int i = 1; i <= more; i++) {
				if ((p[i] & 0xc0) != 0x80) {
					c = *p;
					more = 0;
					break;
				}
				c = (c << 6) | (p[i] & 0x3f);
			}
		}
		out[n++] = fold ? fold_cp(c) : c;
		p += 1 + more;
	}
	return n;
}

static bool is_punct(char c)
{
	return c && strchr(".,:;!?\"'`()[]{}<>*_-", c) != NULL;
}

/* The word without ASCII punctuation at its ends; the whole word if that
 * is all it has. */
static void core(const char *s, size_t *start, size_t *len)
{
	size_t n = strlen(s), a = 0, b = n;

	while (a < n && is_punct(s[a]))
		a++;
	while (b > a && is_punct(s[b - 1]))
		b--;
	if (a == b) {
		a = 0;
		b = n;
	}
	*start = a;
	*len = b - a;
}

static bool same(const char *a, size_t alen, const char *b, size_t blen, bool icase)
{
	uint32_t ca[128], cb[128];
	size_t na, nb;

	if (!icase)
		return alen == blen && memcmp(a, b, alen) == 0;
	if (alen > sizeof(ca) / sizeof(ca[0]) || blen > sizeof(cb) / sizeof(cb[0]))
		return alen == blen && memcmp(a, b, alen) == 0;
	na = dp_text_decode(a, alen, true, ca, 128);
	nb = dp_text_decode(b, blen, true, cb, 128);
	return na == nb && memcmp(ca, cb, na * sizeof(ca[0])) == 0;
}

bool dp_text_word_equal(const char *read, const char *asked, bool icase)
{
	size_t rs, rl, as, al;

	if (same(read, strlen(read), asked, strlen(asked), icase))
		return true;
	for (as = 0; asked[as] && is_punct(asked[as]); as++)
		;
	if (!asked[as]) /* punctuation only: it had to be equal */
		return false;
	core(read, &rs, &rl);
	core(asked, &as, &al);
	return same(read + rs, rl, asked + as, al, icase);
}

double dp_text_similarity(const char *a, const char *b)
{
	uint32_t ca[SIMILARITY_MAX], cb[SIMILARITY_MAX];
	size_t na = dp_text_decode(a, strlen(a), true, ca, SIMILARITY_MAX);
	size_t nb = dp_text_decode(b, strlen(b), true, cb, SIMILARITY_MAX);
	size_t row[SIMILARITY_MAX + 1], longer = na > nb ? na : nb;

	if (longer == 0)
		return 1;
	for (size_t j = 0; j <= nb; j++)
		row[j] = j;
	for (size_t i = 1; i <= na; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= nb; j++) {
			size_t up = row[j], best = diag + (ca[i - 1] != cb[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return 1.0 - (double)row[nb] / (double)longer;
}
