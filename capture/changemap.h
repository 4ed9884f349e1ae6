/* Which 16x16 blocks differ between two frames of the same size.
 *
 * The pixel-level half of the visual self-check: after an action, the map
 * between the frame before and the settled frame after says whether (and
 * where) the screen changed. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "frame.h"

#define DP_CHANGEMAP_BLOCK 16

struct dp_changemap {
	int32_t cols, rows;   /* blocks across and down (edge blocks may be partial) */
	uint8_t *blocks;      /* cols * rows, row-major: 1 where any pixel differs */
	size_t capacity;      /* allocated bytes of blocks, reused between calls */
	int32_t changed;      /* number of changed blocks */
	struct dp_rect bbox;  /* changed blocks' bounding box in frame pixels, clipped
	                       * to the frame; empty when nothing changed */
};

/* Compares before and after (same width and height; the X byte is ignored).
 * Returns 0, -EINVAL for frames of different sizes, -ENOMEM. */
int dp_changemap_compute(struct dp_changemap *map, const struct dp_frame *before,
			 const struct dp_frame *after);

static inline int dp_changemap_at(const struct dp_changemap *map, int32_t col, int32_t row)
{
	return map->blocks[(size_t)row * (size_t)map->cols + (size_t)col];
}

/* Frees the block buffer; the map may be computed again afterwards. */
void dp_changemap_release(struct dp_changemap *map);
