#include "engine/ocr_prep.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine/gray.h"

#define BINS 16
#define B DP_OCR_PREP_BLOCK

/* Grey-level histogram of one block, in 16 bins, with each bin's sum. */
struct block_hist {
	uint16_t count[BINS];
	uint32_t sum[BINS];
};

static int dominant_bin(const uint32_t *count)
{
	int best = 0;

	for (int b = 1; b < BINS; b++)
		if (count[b] > count[best])
			best = b;
	return best;
}

/* The background grey level of each block: its own commonest level where
 * that covers at least half the block (grey levels within one bin either
 * side count), or else the commonest level of the 3x3 blocks around it
 * (a block crossed by a large glyph or by the edge between two areas). */
static void estimate_backgrounds(const struct block_hist *h, int32_t bw, int32_t bh, uint8_t *bg,
				 int32_t *inverted)
{
	*inverted = 0;
	for (int32_t by = 0; by < bh; by++) {
		for (int32_t bx = 0; bx < bw; bx++) {
			const struct block_hist *own = &h[(size_t)by * (size_t)bw + (size_t)bx];
			uint32_t count[BINS] = { 0 }, sum[BINS] = { 0 }, total = 0, near = 0;
			int d;

			for (int b = 0; b < BINS; b++) {
				count[b] = own->count[b];
				total += own->count[b];
			}
			d = dominant_bin(count);
			for (int b = d - 1; b <= d + 1; b++)
				near += (b >= 0 && b < BINS) ? count[b] : 0;
			if (2 * near >= total) {
				sum[d] = own->sum[d];
			} else {
				memset(count, 0, sizeof(count));
				for (int32_t y = by - 1; y <= by + 1; y++) {
					for (int32_t x = bx - 1; x <= bx + 1; x++) {
						const struct block_hist *o;

						if (x < 0 || y < 0 || x >= bw || y >= bh)
							continue;
						o = &h[(size_t)y * (size_t)bw + (size_t)x];
						for (int b = 0; b < BINS; b++) {
							count[b] += o->count[b];
							sum[b] += o->sum[b];
						}
					}
				}
				d = dominant_bin(count);
			}
			bg[(size_t)by * (size_t)bw + (size_t)bx] = (uint8_t)((sum[d] + count[d] / 2) / count[d]);
			*inverted += bg[(size_t)by * (size_t)bw + (size_t)bx] < 128;
		}
	}
}

/* Each pixel becomes 255 - |grey - background|: text dark on white
 * whatever its polarity, its contrast kept. */
static int flatten(struct dp_gray *g, struct dp_ocr_image *stats)
{
	int32_t bw = (g->width + B - 1) / B, bh = (g->height + B - 1) / B;
	struct block_hist *h = calloc((size_t)bw * (size_t)bh, sizeof(*h));
	uint8_t *bg = malloc((size_t)bw * (size_t)bh);

	if (!h || !bg) {
		free(h);
		free(bg);
		return -ENOMEM;
	}
	for (int32_t y = 0; y < g->height; y++) {
		const uint8_t *row = g->pixels + (size_t)y * (size_t)g->stride;
		struct block_hist *hrow = h + (size_t)(y / B) * (size_t)bw;

		for (int32_t x = 0; x < g->width; x++) {
			struct block_hist *bl = &hrow[x / B];

			bl->count[row[x] >> 4]++;
			bl->sum[row[x] >> 4] += row[x];
		}
	}
	estimate_backgrounds(h, bw, bh, bg, &stats->inverted_blocks);
	stats->blocks = bw * bh;
	for (int32_t y = 0; y < g->height; y++) {
		uint8_t *row = g->pixels + (size_t)y * (size_t)g->stride;
		const uint8_t *bgrow = bg + (size_t)(y / B) * (size_t)bw;

		for (int32_t x = 0; x < g->width; x++) {
			int d = row[x] - bgrow[x / B];

			row[x] = (uint8_t)(255 - (d < 0 ? -d : d));
		}
	}
	free(h);
	free(bg);
	return 0;
}

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

int dp_ocr_prepare(const struct dp_frame *frame, struct dp_rect area, int32_t scale, struct dp_ocr_image *out)
{
	struct dp_gray g;
	int r;

	memset(out, 0, sizeof(*out));
	if (scale < 1 || scale > 4)
		return -EINVAL;
	r = dp_gray_from_frame(&g, frame, area);
	if (r < 0)
		return r;
	r = flatten(&g, out);
	if (r == 0)
		r = upscale(&g, scale, out);
	out->scale = scale;
	dp_gray_free(&g);
	return r;
}

void dp_ocr_image_free(struct dp_ocr_image *img)
{
	free(img->pixels);
	img->pixels = NULL;
}
