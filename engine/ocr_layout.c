#include "engine/ocr_layout.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct key {
	int64_t a, b; /* sort keys */
	int64_t centre;
	size_t i;
};

static int by_key(const void *pa, const void *pb)
{
	const struct key *x = pa, *y = pb;

	if (x->a != y->a)
		return x->a < y->a ? -1 : 1;
	if (x->b != y->b)
		return x->b < y->b ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* dp_reading_order, and the row of each box in order (rows may be NULL). */
static int reading_order_rows(const struct dp_rect *boxes, size_t n, size_t *order, size_t *rows)
{
	struct key *k = malloc((n ? n : 1) * sizeof(*k));
	size_t start = 0;
	int64_t row = 0;

	if (!k)
		return -ENOMEM;
	/* By vertical centre (in half pixels), then x. */
	for (size_t i = 0; i < n; i++)
		k[i] = (struct key){ 2 * (int64_t)boxes[i].y + boxes[i].height, boxes[i].x, 0, i };
	for (size_t i = 0; i < n; i++)
		k[i].centre = k[i].a;
	qsort(k, n, sizeof(*k), by_key);
	/* Rows: each box joins the row of the first box still within reach;
	 * then each row is sorted by x. */
	for (size_t i = 0; i < n; i++) {
		const struct dp_rect *first = &boxes[k[start].i], *b = &boxes[k[i].i];
		int64_t h = first->height < b->height ? first->height : b->height;

		if (i > start && k[i].centre - k[start].centre > (h > 1 ? h : 1)) /* centres > h/2 apart */
			start = i, row++;
		k[i].a = row;
		k[i].b = b->x;
	}
	qsort(k, n, sizeof(*k), by_key);
	for (size_t i = 0; i < n; i++) {
		order[i] = k[i].i;
		if (rows)
			rows[i] = (size_t)k[i].a;
	}
	free(k);
	return 0;
}

int dp_reading_order(const struct dp_rect *boxes, size_t n, size_t *order)
{
	return reading_order_rows(boxes, n, order, NULL);
}

/* Copies src after dst's used bytes when it fits whole (with a space
 * before it unless dst is empty); a word that does not fit ends the text. */
static void append_word(char *dst, size_t size, size_t *len, const char *src, bool *full)
{
	size_t n = strlen(src), need = n + (*len ? 1 : 0);

	if (*full || *len + need >= size) {
		*full = true;
		return;
	}
	if (*len)
		dst[(*len)++] = ' ';
	memcpy(dst + *len, src, n + 1);
	*len += n;
}

int dp_ocr_layout(struct dp_ocr_word *words, size_t n, struct dp_ocr_line **lines, size_t *n_lines)
{
	struct dp_rect *boxes = malloc((n ? n : 1) * sizeof(*boxes));
	size_t *order = malloc((n ? n : 1) * 2 * sizeof(*order)), *rows = order ? order + (n ? n : 1) : NULL;
	struct dp_ocr_word *sorted = malloc((n ? n : 1) * sizeof(*sorted));
	struct dp_ocr_line *out = calloc(n ? n : 1, sizeof(*out));
	size_t nl = 0, len = 0, in_line = 0;
	bool full = false;
	int r = -ENOMEM;

	if (!boxes || !order || !sorted || !out)
		goto done;
	for (size_t i = 0; i < n; i++)
		boxes[i] = words[i].box;
	r = reading_order_rows(boxes, n, order, rows);
	if (r < 0)
		goto done;
	for (size_t i = 0; i < n; i++)
		sorted[i] = words[order[i]];
	memcpy(words, sorted, n * sizeof(*words));
	for (size_t i = 0; i < n; i++) {
		struct dp_ocr_word *w = &words[i];
		bool same = false;

		if (i > 0) {
			const struct dp_rect *a = &words[i - 1].box, *b = &w->box;
			int32_t tall = a->height > b->height ? a->height : b->height;
			int32_t gap = b->x - (a->x + a->width);

			same = rows[i] == rows[i - 1] && 2 * gap <= 3 * tall;
		}
		if (!same) {
			if (i > 0)
				out[nl - 1].confidence /= (float)in_line;
			nl++;
			len = 0;
			in_line = 0;
			full = false;
			out[nl - 1].box = w->box;
		}
		out[nl - 1].box = dp_rect_union(out[nl - 1].box, w->box);
		out[nl - 1].confidence += w->confidence;
		append_word(out[nl - 1].text, sizeof(out[nl - 1].text), &len, w->text, &full);
		in_line++;
		w->line = (uint32_t)(nl - 1);
	}
	if (nl > 0)
		out[nl - 1].confidence /= (float)in_line;
	*lines = out;
	*n_lines = nl;
	out = NULL;
	r = 0;
done:
	free(boxes);
	free(order);
	free(sorted);
	free(out);
	return r;
}
