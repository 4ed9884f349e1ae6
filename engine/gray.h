/* Grey images for the locators (OCR preparation, template matching). */
#pragma once

#include <stdint.h>

#include "capture/frame.h"

struct dp_gray {
	int32_t width, height;
	int32_t stride; /* bytes per row */
	uint8_t *pixels;
};

/* Luma (BT.601 weights, 8-bit fixed point) of the pixel BGRX p. */
static inline uint8_t dp_luma(uint32_t p)
{
	return (uint8_t)((((p >> 16) & 0xff) * 77 + ((p >> 8) & 0xff) * 150 + (p & 0xff) * 29 + 128) >> 8);
}

/* The grey levels of rect (frame coordinates, inside the frame) into a
 * new image.  Returns 0, -EINVAL (rect empty or outside), -ENOMEM. */
int dp_gray_from_frame(struct dp_gray *out, const struct dp_frame *frame, struct dp_rect rect);

/* Half the size in each direction (odd last rows and columns dropped), each
 * pixel the rounded mean of 2x2.  Returns 0, -EINVAL (under 2x2), -ENOMEM. */
int dp_gray_half(struct dp_gray *out, const struct dp_gray *in);

void dp_gray_free(struct dp_gray *g);
