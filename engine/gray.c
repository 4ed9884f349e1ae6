#include "engine/gray.h"

#include <errno.h>
#include <stdlib.h>

static int gray_alloc(struct dp_gray *g, int32_t width, int32_t height)
{
	g->width = width;
	g->height = height;
	g->stride = width;
	g->pixels = malloc((size_t)width * (size_t)height);
	return g->pixels ? 0 : -ENOMEM;
}

int dp_gray_from_frame(struct dp_gray *out, const struct dp_frame *frame, struct dp_rect rect)
{
	int r;

	if (dp_rect_empty(rect) || rect.x < 0 || rect.y < 0 || rect.x + rect.width > frame->width ||
	    rect.y + rect.height > frame->height)
		return -EINVAL;
	r = gray_alloc(out, rect.width, rect.height);
	if (r < 0)
		return r;
	for (int32_t y = 0; y < rect.height; y++) {
		const uint32_t *src = (const uint32_t *)(const void *)(frame->pixels +
			(size_t)(rect.y + y) * (size_t)frame->stride) + rect.x;
		uint8_t *dst = out->pixels + (size_t)y * (size_t)out->stride;

		for (int32_t x = 0; x < rect.width; x++)
			dst[x] = dp_luma(src[x]);
	}
	return 0;
}

int dp_gray_half(struct dp_gray *out, const struct dp_gray *in)
{
	int32_t w = in->width / 2, h = in->height / 2;
	int r;

	if (w < 1 || h < 1)
		return -EINVAL;
	r = gray_alloc(out, w, h);
	if (r < 0)
		return r;
	for (int32_t y = 0; y < h; y++) {
		const uint8_t *a = in->pixels + (size_t)(2 * y) * (size_t)in->stride;
		const uint8_t *b = a + in->stride;
		uint8_t *dst = out->pixels + (size_t)y * (size_t)out->stride;

		for (int32_t x = 0; x < w; x++)
			dst[x] = (uint8_t)((a[2 * x] + a[2 * x + 1] + b[2 * x] + b[2 * x + 1] + 2) >> 2);
	}
	return 0;
}

void dp_gray_free(struct dp_gray *g)
{
	free(g->pixels);
	g->pixels = NULL;
	g->width = g->height = g->stride = 0;
}
