/* Private to engine/ocr*.c: a screen area made ready for Tesseract.
 *
 * Tesseract reads dark text on a light page at 20-40 px per line; screen
 * text is 9-13 px, and as often light on dark (terminals, dark themes,
 * selected rows) as dark on light.  So the area is made grey, each pixel is
 * replaced by its distance from the background it lies on, which turns text
 * of either polarity dark on white and makes the edges between windows
 * vanish (engine/ocr_flatten.h), lines that frame or underline text are
 * taken out (engine/ocr_rules.h), and the result is upscaled (bilinear). */
#pragma once

#include <stdint.h>

#include "capture/frame.h"

struct dp_ocr_image {
	int32_t width, height, stride; /* stride in bytes */
	uint8_t *pixels;               /* grey, text dark on white */
	int32_t scale;                 /* image pixels per screen pixel */
	struct dp_rect area;           /* what of the frame it shows (frame coordinates) */
};

/* area: frame coordinates, inside the frame, holding keep; scale 1-4.
 * Each side of area between it and keep moves to the blank row or column
 * (no text) nearest the side, where there is one: text cut by the edge of
 * an image is read as garbage, and can change how Tesseract reads the rest.
 * Returns 0, -EINVAL or -ENOMEM. */
int dp_ocr_prepare(const struct dp_frame *frame, struct dp_rect area, struct dp_rect keep, int32_t scale,
		   struct dp_ocr_image *out);
void dp_ocr_image_free(struct dp_ocr_image *img);

/* The bounding box of the ink (pixels darker than mid-grey) inside box
 * (image pixels); box itself where it holds none.  Tesseract's word boxes
 * are at times a few pixels taller than the word (the line's). */
struct dp_rect dp_ocr_image_ink(const struct dp_ocr_image *img, struct dp_rect box);
