/* Private to engine/ocr*.c: a screen area made ready for Tesseract.
 *
 * Tesseract reads dark text on a light page at 20-40 px per line; screen
 * text is 9-13 px, and as often light on dark (terminals, dark themes,
 * selected rows) as dark on light.  So the area is made grey, each pixel is
 * replaced by its distance from the local background (the commonest grey
 * level around it, per 16x16 block over the 3x3 blocks around), which turns
 * text of either polarity dark on white, and the result is upscaled. */
#pragma once

#include <stdint.h>

#include "capture/frame.h"

#define DP_OCR_PREP_BLOCK 16

struct dp_ocr_image {
	int32_t width, height, stride; /* stride in bytes */
	uint8_t *pixels;               /* grey, text dark on white */
	int32_t scale;                 /* image pixels per screen pixel */
	int32_t inverted_blocks;       /* blocks whose background was dark */
	int32_t blocks;
};

/* area: frame coordinates, inside the frame; scale 1-4.  Returns 0,
 * -EINVAL or -ENOMEM. */
int dp_ocr_prepare(const struct dp_frame *frame, struct dp_rect area, int32_t scale, struct dp_ocr_image *out);
void dp_ocr_image_free(struct dp_ocr_image *img);

/* The bounding box of the ink (pixels darker than mid-grey) inside box
 * (image pixels); box itself where it holds none.  Tesseract's word boxes
 * are at times a few pixels taller than the word (the line's). */
struct dp_rect dp_ocr_image_ink(const struct dp_ocr_image *img, struct dp_rect box);
