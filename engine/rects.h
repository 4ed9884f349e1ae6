/* Sets of rectangles: the areas the OCR cache has read, the areas that
 * changed, what is left to read. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "capture/frame.h"

struct dp_rects {
	struct dp_rect *v;
	size_t n, cap;
};

int dp_rects_push(struct dp_rects *s, struct dp_rect r); /* empty rects are not kept; 0 or -ENOMEM */
void dp_rects_free(struct dp_rects *s);

bool dp_rects_contain_point(const struct dp_rects *s, int32_t x, int32_t y);
/* The index of the first rect that intersects r, or -1. */
ptrdiff_t dp_rects_find_intersecting(const struct dp_rects *s, struct dp_rect r);

/* Removes area r from the set: each rect it cuts splits into up to four. */
int dp_rects_subtract(struct dp_rects *s, struct dp_rect r);
/* What of r no rect of s covers, as rects (out is emptied first). */
int dp_rects_difference(struct dp_rects *out, struct dp_rect r, const struct dp_rects *s);
/* Replaces rects that overlap, or have fewer than gap pixels between them,
 * by their bounding box, until none do. */
void dp_rects_merge(struct dp_rects *s, int32_t gap);
/* Drops the rects that another one contains. */
void dp_rects_drop_contained(struct dp_rects *s);

static inline bool dp_rect_contains_point(struct dp_rect r, int32_t x, int32_t y)
{
	return x >= r.x && y >= r.y && x < r.x + r.width && y < r.y + r.height;
}

static inline struct dp_rect dp_rect_grow(struct dp_rect r, int32_t dx, int32_t dy)
{
	return (struct dp_rect){ r.x - dx, r.y - dy, r.width + 2 * dx, r.height + 2 * dy };
}
