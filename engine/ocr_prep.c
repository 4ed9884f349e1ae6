#include "engine/ocr_prep.h"

#include <errno.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "engine/gray.h"
#include "engine/ocr_flatten.h"
#include "engine/ocr_rules.h"

#define B DP_OCR_FLATTEN_BLOCK
#define BLANK 224 /* flattened levels this light are no text */

/* Bilinear taps of an integer upscale: output i reads inputs i0[i] and
 * i0[i] + 1 (clamped), the second with weight w[i] / 256. */
struct taps {
	int32_t *i0, *i1;
	int32_t *w;
};

static int make_taps(struct taps *t, int32_t n, int32_t scale)
{
	int32_t out = n * scale;

	t->i0 = malloc((size_t)out * 3 * sizeof(int32_t));
	if (!t->i0)
		return -ENOMEM;
	t->i1 = t->i0 + out;
	t->w = t->i1 + out;
	for (int32_t i = 0; i < out; i++) {
		/* Pixel centres: output i sits at input (i + 0.5) / scale - 0.5;
		 * in 1/(2 * scale) units that is (2i + 1 - scale). */
		int32_t num = 2 * i + 1 - scale, den = 2 * scale;
		int32_t base = num >= 0 ? num / den : -((-num + den - 1) / den);
		int32_t frac = num - base * den;

		t->i0[i] = base < 0 ? 0 : base;
		t->i1[i] = base + 1 > n - 1 ? n - 1 : base + 1;
		t->w[i] = (frac * 256 + den / 2) / den;
	}
	return 0;
}

static int upscale(const struct dp_gray *g, int32_t scale, struct dp_ocr_image *out)
{
	int32_t ow = g->width * scale, oh = g->height * scale;
	struct taps tx, ty;
	uint8_t *wide = malloc((size_t)ow * (size_t)g->height);
	int r = -ENOMEM;

	tx.i0 = ty.i0 = NULL;
	out->pixels = malloc((size_t)ow * (size_t)oh);
	if (!wide || !out->pixels || make_taps(&tx, g->width, scale) < 0 || make_taps(&ty, g->height, scale) < 0)
		goto done;
	for (int32_t y = 0; y < g->height; y++) {
		const uint8_t *src = g->pixels + (size_t)y * (size_t)g->stride;
		uint8_t *dst = wide + (size_t)y * (size_t)ow;

		for (int32_t x = 0; x < ow; x++)
			dst[x] = (uint8_t)((src[tx.i0[x]] * (256 - tx.w[x]) + src[tx.i1[x]] * tx.w[x] + 128) >> 8);
	}
	for (int32_t y = 0; y < oh; y++) {
		const uint8_t *a = wide + (size_t)ty.i0[y] * (size_t)ow;
		const uint8_t *b = wide + (size_t)ty.i1[y] * (size_t)ow;
		uint8_t *dst = out->pixels + (size_t)y * (size_t)ow;
		int32_t wb = ty.w[y], wa = 256 - wb;

		for (int32_t x = 0; x < ow; x++)
			dst[x] = (uint8_t)((a[x] * wa + b[x] * wb + 128) >> 8);
	}
	out->width = ow;
	out->height = oh;
	out->stride = ow;
	r = 0;
done:
	free(tx.i0);
	free(ty.i0);
	free(wide);
	if (r < 0) {
		free(out->pixels);
		out->pixels = NULL;
	}
	return r;
}

/* Whether the flattened row y (or column x, when column) is blank over
 * [from, to). */
static bool blank_line(const struct dp_gray *flat, int32_t at, int32_t from, int32_t to, bool column)
{
	for (int32_t i = from; i < to; i++) {
		uint8_t v = column ? flat->pixels[(size_t)i * (size_t)flat->stride + (size_t)at]
				   : flat->pixels[(size_t)at * (size_t)flat->stride + (size_t)i];

		if (v < BLANK)
			return false;
	}
	return true;
}

/* Moves area's sides (coordinates of flat) towards keep, to the first
 * blank line met; a side with none between stays. */
static struct dp_rect trim_to_blank(const struct dp_gray *flat, struct dp_rect area, struct dp_rect keep)
{
	int32_t top = area.y, bottom = area.y + area.height, left = area.x, right = area.x + area.width;

	while (top < keep.y && !blank_line(flat, top, left, right, false))
		top++;
	if (top == keep.y)
		top = area.y;
	while (bottom > keep.y + keep.height && !blank_line(flat, bottom - 1, left, right, false))
		bottom--;
	if (bottom == keep.y + keep.height)
		bottom = area.y + area.height;
	while (left < keep.x && !blank_line(flat, left, top, bottom, true))
		left++;
	if (left == keep.x)
		left = area.x;
	while (right > keep.x + keep.width && !blank_line(flat, right - 1, top, bottom, true))
		right--;
	if (right == keep.x + keep.width)
		right = area.x + area.width;
	return (struct dp_rect){ left, top, right - left, bottom - top };
}

int dp_ocr_prepare(const struct dp_frame *frame, struct dp_rect area, struct dp_rect keep, int32_t scale,
		   struct dp_ocr_image *out)
{
	struct dp_rect outer, in_outer;
	struct dp_gray g, flat, part;
	int32_t x0, y0, x1, y1;
	int r;

	memset(out, 0, sizeof(*out));
	keep = dp_rect_intersect(keep, area);
	if (scale < 1 || scale > 4 || dp_rect_empty(keep) || area.x < 0 || area.y < 0 ||
	    area.x + area.width > frame->width || area.y + area.height > frame->height)
		return -EINVAL;
	/* The blocks sit on the frame's 16x16 grid, and two rings of them
	 * around the area are looked at too: an area comes out the same
	 * whether it is read alone or as part of a larger one. */
	x0 = (area.x - 2 * B) / B * B;
	y0 = (area.y - 2 * B) / B * B;
	x1 = area.x + area.width + 3 * B - 1;
	y1 = area.y + area.height + 3 * B - 1;
	outer = dp_rect_intersect((struct dp_rect){ x0, y0, x1 / B * B - x0, y1 / B * B - y0 },
				  (struct dp_rect){ 0, 0, frame->width, frame->height });
	r = dp_gray_from_frame(&g, frame, outer);
	if (r < 0)
		return r;
	flat = (struct dp_gray){ g.width, g.height, g.width, malloc((size_t)g.width * (size_t)g.height) };
	r = flat.pixels ? dp_ocr_flatten(&g, flat.pixels) : -ENOMEM;
	if (r == 0)
		r = dp_ocr_remove_rules(flat.pixels, flat.width, flat.height, flat.stride);
	if (r == 0) {
		in_outer = trim_to_blank(&flat, (struct dp_rect){ area.x - outer.x, area.y - outer.y, area.width,
								  area.height },
					 (struct dp_rect){ keep.x - outer.x, keep.y - outer.y, keep.width, keep.height });
		part = (struct dp_gray){ in_outer.width, in_outer.height, flat.stride,
					 flat.pixels + (size_t)in_outer.y * (size_t)flat.stride + (size_t)in_outer.x };
		out->area = (struct dp_rect){ in_outer.x + outer.x, in_outer.y + outer.y, in_outer.width,
					      in_outer.height };
		r = upscale(&part, scale, out);
	}
	out->scale = scale;
	dp_gray_free(&g);
	dp_gray_free(&flat);
	return r;
}

void dp_ocr_image_free(struct dp_ocr_image *img)
{
	free(img->pixels);
	img->pixels = NULL;
}

struct dp_rect dp_ocr_image_ink(const struct dp_ocr_image *img, struct dp_rect box)
{
	struct dp_rect r = dp_rect_intersect(box, (struct dp_rect){ 0, 0, img->width, img->height });
	int32_t x0 = INT32_MAX, y0 = INT32_MAX, x1 = -1, y1 = -1;

	for (int32_t y = r.y; y < r.y + r.height; y++) {
		const uint8_t *row = img->pixels + (size_t)y * (size_t)img->stride;

		for (int32_t x = r.x; x < r.x + r.width; x++) {
			if (row[x] >= 128)
				continue;
			x0 = x < x0 ? x : x0;
			x1 = x > x1 ? x : x1;
			y0 = y < y0 ? y : y0;
			y1 = y;
		}
	}
	return x1 < 0 ? box : (struct dp_rect){ x0, y0, x1 - x0 + 1, y1 - y0 + 1 };
}
