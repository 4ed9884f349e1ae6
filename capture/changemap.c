#include "changemap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* OR of a ^ b over one block row of 16 pixels.  A fixed trip count and a
 * plain OR reduction are what the auto-vectorizer turns into SIMD code. */
static inline uint32_t diff16(const uint32_t *restrict a, const uint32_t *restrict b)
{
	uint32_t acc = 0;

	for (int i = 0; i < DP_CHANGEMAP_BLOCK; i++)
		acc |= a[i] ^ b[i];
	return acc;
}

static uint32_t diff_tail(const uint32_t *a, const uint32_t *b, int32_t n)
{
	uint32_t acc = 0;

	for (int32_t i = 0; i < n; i++)
		acc |= a[i] ^ b[i];
	return acc;
}

/* Marks the changed blocks of one band of up to 16 pixel rows. */
static void diff_band(uint8_t *marks, const struct dp_frame *before, const struct dp_frame *after,
		      int32_t y0, int32_t y1, int32_t full_cols, int32_t tail)
{
	for (int32_t y = y0; y < y1; y++) {
		const uint32_t *a = (const uint32_t *)(const void *)(before->pixels + (size_t)y * (size_t)before->stride);
		const uint32_t *b = (const uint32_t *)(const void *)(after->pixels + (size_t)y * (size_t)after->stride);

		/* Most rows of two screens are identical: libc's memcmp
		 * clears them at full memory speed; only rows that differ
		 * (or differ in the undefined X byte) are looked at block by
		 * block. */
		if (memcmp(a, b, (size_t)before->width * 4) == 0)
			continue;
		for (int32_t col = 0; col < full_cols; col++) {
			/* Once a block is marked its remaining rows cannot unmark it. */
			if (marks[col])
				continue;
			marks[col] = (diff16(a + col * DP_CHANGEMAP_BLOCK, b + col * DP_CHANGEMAP_BLOCK) & 0x00ffffffu) != 0;
		}
		if (tail && !marks[full_cols])
			marks[full_cols] = (diff_tail(a + full_cols * DP_CHANGEMAP_BLOCK,
						      b + full_cols * DP_CHANGEMAP_BLOCK, tail) & 0x00ffffffu) != 0;
	}
}

static void update_bbox(struct dp_changemap *map, int32_t width, int32_t height)
{
	int32_t min_c = map->cols, max_c = -1, min_r = map->rows, max_r = -1;

	map->changed = 0;
	for (int32_t r = 0; r < map->rows; r++) {
		for (int32_t c = 0; c < map->cols; c++) {
			if (!dp_changemap_at(map, c, r))
				continue;
			map->changed++;
			if (c < min_c) min_c = c;
			if (c > max_c) max_c = c;
			if (r < min_r) min_r = r;
			if (r > max_r) max_r = r;
		}
	}
	if (!map->changed) {
		map->bbox = (struct dp_rect){ 0, 0, 0, 0 };
		return;
	}
	map->bbox = dp_rect_intersect(
		(struct dp_rect){ min_c * DP_CHANGEMAP_BLOCK, min_r * DP_CHANGEMAP_BLOCK,
				  (max_c - min_c + 1) * DP_CHANGEMAP_BLOCK,
				  (max_r - min_r + 1) * DP_CHANGEMAP_BLOCK },
		(struct dp_rect){ 0, 0, width, height });
}

int dp_changemap_compute(struct dp_changemap *map, const struct dp_frame *before,
			 const struct dp_frame *after)
{
	int32_t width = after->width, height = after->height;
	int32_t full_cols = width / DP_CHANGEMAP_BLOCK, tail = width % DP_CHANGEMAP_BLOCK;
	size_t need;

	if (before->width != width || before->height != height || width <= 0 || height <= 0)
		return -EINVAL;
	map->cols = full_cols + (tail ? 1 : 0);
	map->rows = (height + DP_CHANGEMAP_BLOCK - 1) / DP_CHANGEMAP_BLOCK;
	need = (size_t)map->cols * (size_t)map->rows;
	if (need > map->capacity) {
		uint8_t *blocks = realloc(map->blocks, need);

		if (!blocks)
			return -ENOMEM;
		map->blocks = blocks;
		map->capacity = need;
	}
	memset(map->blocks, 0, need);
	for (int32_t r = 0; r < map->rows; r++) {
		int32_t y0 = r * DP_CHANGEMAP_BLOCK;
		int32_t y1 = y0 + DP_CHANGEMAP_BLOCK < height ? y0 + DP_CHANGEMAP_BLOCK : height;

		diff_band(map->blocks + (size_t)r * (size_t)map->cols, before, after, y0, y1, full_cols, tail);
	}
	update_bbox(map, width, height);
	return 0;
}

void dp_changemap_release(struct dp_changemap *map)
{
	free(map->blocks);
	map->blocks = NULL;
	map->capacity = 0;
	map->cols = map->rows = map->changed = 0;
}
