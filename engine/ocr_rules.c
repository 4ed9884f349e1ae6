#include "engine/ocr_rules.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#define INK 200          /* flattened levels darker than this are drawn */
#define THICK_MAX 3      /* a rule is at most this thick */
#define H_RULE_MIN 24    /* horizontal rules at least this long */
#define V_SIDE_MIN 8     /* vertical rules ending on a horizontal one */
#define V_RULE_MIN 32    /* other vertical rules */

struct image {
	uint8_t *p;
	int32_t w, h, stride;
	uint8_t *rule; /* w * h: 1 where a rule was found */
};

static bool ink(const struct image *im, int32_t x, int32_t y)
{
	return x >= 0 && y >= 0 && x < im->w && y < im->h && im->p[(size_t)y * (size_t)im->stride + (size_t)x] < INK;
}

/* The length of the run of ink through x, y along (dx, dy). */
static int32_t thickness(const struct image *im, int32_t x, int32_t y, int32_t dx, int32_t dy)
{
	int32_t n = 1;

	for (int32_t k = 1; n <= THICK_MAX && ink(im, x + k * dx, y + k * dy); k++)
		n++;
	for (int32_t k = 1; n <= THICK_MAX && ink(im, x - k * dx, y - k * dy); k++)
		n++;
	return n;
}

static bool marked(const struct image *im, int32_t x, int32_t y)
{
	return x >= 0 && y >= 0 && x < im->w && y < im->h && im->rule[(size_t)y * (size_t)im->w + (size_t)x] == 1;
}

/* Whether a rule pixel was found at or next to x, y. */
static bool rule_near(const struct image *im, int32_t x, int32_t y)
{
	for (int32_t yy = y - 1; yy <= y + 1; yy++)
		for (int32_t xx = x - 1; xx <= x + 1; xx++)
			if (xx >= 0 && yy >= 0 && xx < im->w && yy < im->h && im->rule[(size_t)yy * (size_t)im->w + (size_t)xx])
				return true;
	return false;
}

/* Runs along rows (vertical false) or columns of ink, one-pixel gaps
 * bridged; each long enough is marked where it is thin. */
static void find_runs(struct image *im, bool vertical)
{
	int32_t lines = vertical ? im->w : im->h, len = vertical ? im->h : im->w;

	for (int32_t l = 0; l < lines; l++) {
		for (int32_t i = 0; i < len;) {
			int32_t start, end, x0, y0, x1, y1, min;

			if (!(vertical ? ink(im, l, i) : ink(im, i, l))) {
				i++;
				continue;
			}
			start = i;
			end = i + 1;
			while (end < len && ((vertical ? ink(im, l, end) : ink(im, end, l)) ||
					     (end + 1 < len && (vertical ? ink(im, l, end + 1) : ink(im, end + 1, l)))))
				end++;
			i = end;
			x0 = vertical ? l : start;
			y0 = vertical ? start : l;
			x1 = vertical ? l : end - 1;
			y1 = vertical ? end - 1 : l;
			min = H_RULE_MIN;
			if (vertical) /* a frame's side ends on its top or bottom */
				min = rule_near(im, x0, y0) || rule_near(im, x1, y1) ? V_SIDE_MIN : V_RULE_MIN;
			if (end - start < min)
				continue;
			for (int32_t k = start; k < end; k++) {
				int32_t x = vertical ? l : k, y = vertical ? k : l;

				if (ink(im, x, y) && thickness(im, x, y, vertical ? 1 : 0, vertical ? 0 : 1) <= THICK_MAX)
					im->rule[(size_t)y * (size_t)im->w + (size_t)x] = 1;
			}
		}
	}
}

int dp_ocr_remove_rules(uint8_t *flat, int32_t width, int32_t height, int32_t stride)
{
	struct image im = { flat, width, height, stride, calloc((size_t)width * (size_t)height, 1) };

	if (!im.rule)
		return -ENOMEM;
	find_runs(&im, false);
	find_runs(&im, true);
	/* Corners and crossings: thick both ways, between rule pixels both ways. */
	for (int32_t y = 0; y < height; y++) {
		for (int32_t x = 0; x < width; x++) {
			uint8_t *m = &im.rule[(size_t)y * (size_t)width + (size_t)x];

			if (!*m && ink(&im, x, y) && (marked(&im, x - 1, y) || marked(&im, x + 1, y)) &&
			    (marked(&im, x, y - 1) || marked(&im, x, y + 1)))
				*m = 2;
		}
	}
	for (int32_t y = 0; y < height; y++)
		for (int32_t x = 0; x < width; x++)
			if (im.rule[(size_t)y * (size_t)width + (size_t)x])
				flat[(size_t)y * (size_t)stride + (size_t)x] = 255;
	free(im.rule);
	return 0;
}
