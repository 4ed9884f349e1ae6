/* A captured frame and the rectangles every capture module speaks in. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dp_rect {
	int32_t x, y;
	int32_t width, height;
};

static inline bool dp_rect_empty(struct dp_rect r)
{
	return r.width <= 0 || r.height <= 0;
}

static inline int64_t dp_rect_area(struct dp_rect r)
{
	return dp_rect_empty(r) ? 0 : (int64_t)r.width * r.height;
}

/* The smallest rectangle holding both (an empty one is ignored). */
struct dp_rect dp_rect_union(struct dp_rect a, struct dp_rect b);
struct dp_rect dp_rect_intersect(struct dp_rect a, struct dp_rect b);

/* Pixels are BGRX: one little-endian uint32 per pixel, 0x??RRGGBB; the X byte
 * is undefined.  The pixels belong to the frame source and stay valid until
 * its next grab (the X11 source reuses one shared-memory segment). */
struct dp_frame {
	int32_t width, height;
	int32_t stride;        /* bytes per row, >= 4 * width */
	uint8_t *pixels;
	int32_t x, y;          /* where the frame's top-left corner is on the screen */
	int64_t timestamp_ns;  /* CLOCK_MONOTONIC, when the grab completed */
	uint64_t sequence;     /* 1 for the first grab of a source, then +1 */
	struct dp_rect damage; /* screen area damaged since the previous grab
	                        * (bounding box; empty when nothing changed) */
	bool cursor_drawn;
};

static inline uint32_t dp_frame_pixel(const struct dp_frame *f, int x, int y)
{
	const uint32_t *row = (const uint32_t *)(const void *)(f->pixels + (size_t)y * (size_t)f->stride);

	return row[x] & 0x00ffffffu;
}
