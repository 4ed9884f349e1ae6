#include "engine/rects.h"

#include <errno.h>
#include <stdlib.h>

int dp_rects_push(struct dp_rects *s, struct dp_rect r)
{
	if (dp_rect_empty(r))
		return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct dp_rect *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = r;
	return 0;
}

void dp_rects_free(struct dp_rects *s)
{
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

bool dp_rects_contain_point(const struct dp_rects *s, int32_t x, int32_t y)
{
	for (size_t i = 0; i < s->n; i++)
		if (dp_rect_contains_point(s->v[i], x, y))
			return true;
	return false;
}

ptrdiff_t dp_rects_find_intersecting(const struct dp_rects *s, struct dp_rect r)
{
	for (size_t i = 0; i < s->n; i++)
		if (!dp_rect_empty(dp_rect_intersect(s->v[i], r)))
			return (ptrdiff_t)i;
	return -1;
}

int dp_rects_subtract(struct dp_rects *s, struct dp_rect r)
{
	size_t n = s->n;

	/* Pieces are appended; the rect cut is replaced by the last one kept. */
	for (size_t i = 0; i < n;) {
		struct dp_rect a = s->v[i], c = dp_rect_intersect(a, r);
		int32_t ax1 = a.x + a.width, ay1 = a.y + a.height, cx1 = c.x + c.width, cy1 = c.y + c.height;
		struct dp_rect piece[4] = {
			{ a.x, a.y, a.width, c.y - a.y },     /* above */
			{ a.x, cy1, a.width, ay1 - cy1 },     /* below */
			{ a.x, c.y, c.x - a.x, c.height },    /* left */
			{ cx1, c.y, ax1 - cx1, c.height },    /* right */
		};

		if (dp_rect_empty(c)) {
			i++;
			continue;
		}
		for (int k = 0; k < 4; k++)
			if (dp_rects_push(s, piece[k]) < 0)
				return -ENOMEM;
		s->v[i] = s->v[--n];
		s->v[n] = s->v[--s->n];
		/* s->v[i] is now an uncut rect (or a piece when n reached i). */
		if (n == i)
			break;
	}
	return 0;
}

int dp_rects_difference(struct dp_rects *out, struct dp_rect r, const struct dp_rects *s)
{
	int ret;

	out->n = 0;
	ret = dp_rects_push(out, r);
	for (size_t i = 0; ret == 0 && i < s->n && out->n > 0; i++)
		ret = dp_rects_subtract(out, s->v[i]);
	return ret;
}

void dp_rects_merge(struct dp_rects *s, int32_t gap)
{
	bool merged = true;

	while (merged) {
		merged = false;
		for (size_t i = 0; i < s->n; i++) {
			for (size_t j = i + 1; j < s->n; j++) {
				if (dp_rect_empty(dp_rect_intersect(dp_rect_grow(s->v[i], gap, gap), s->v[j])))
					continue;
				s->v[i] = dp_rect_union(s->v[i], s->v[j]);
				s->v[j--] = s->v[--s->n];
				merged = true;
			}
		}
	}
}

static bool contains(struct dp_rect a, struct dp_rect b)
{
	return b.x >= a.x && b.y >= a.y && b.x + b.width <= a.x + a.width && b.y + b.height <= a.y + a.height;
}

void dp_rects_drop_contained(struct dp_rects *s)
{
	size_t kept = 0;

	/* A rect inside another is marked empty (width -1); a marked rect's
	 * container contains all it did. */
	for (size_t i = 0; i < s->n; i++) {
		for (size_t j = 0; j < s->n; j++) {
			if (j == i || s->v[j].width < 0 || !contains(s->v[j], s->v[i]))
				continue;
			if (j < i || !contains(s->v[i], s->v[j])) { /* of equal rects the first stays */
				s->v[i].width = -1;
				break;
			}
		}
	}
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].width >= 0)
			s->v[kept++] = s->v[i];
	s->n = kept;
}
