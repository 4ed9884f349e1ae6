#include "engine/ocr_prep.h"

#include <errno.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "engine/gray.h"

#define BINS 16
#define B DP_OCR_PREP_BLOCK
#define SAME 24           /* grey levels apart that still count as one background */
#define MAX_CANDIDATES 9  /* a block and its 8 neighbours */

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

/* The background levels a block's pixels may sit on: its own and its 8
 * neighbours' (levels within SAME of one another count once). */
static int candidates(const uint8_t *bg, int32_t bw, int32_t bh, int32_t bx, int32_t by, uint8_t *c)
{
	int n = 0;

	c[n++] = bg[(size_t)by * (size_t)bw + (size_t)bx];
	for (int32_t y = by - 1; y <= by + 1; y++) {
		for (int32_t x = bx - 1; x <= bx + 1; x++) {
			uint8_t v;
			bool seen = false;

			if (x < 0 || y < 0 || x >= bw || y >= bh)
				continue;
			v = bg[(size_t)y * (size_t)bw + (size_t)x];
			for (int k = 0; k < n && !seen; k++)
				seen = abs(v - c[k]) <= SAME;
			if (!seen)
				c[n++] = v;
		}
	}
	return n;
}

/* The candidate closest to level v, if within SAME of it; else -1. */
static int closest(const uint8_t *c, int n, int v)
{
	int best = -1, dist = SAME + 1;

	for (int k = 0; k < n; k++) {
		if (abs(v - c[k]) < dist) {
			dist = abs(v - c[k]);
			best = k;
		}
	}
	return best;
}

/* A block on the edge between areas of different backgrounds (a window on
 * the desktop, a dark terminal beside a light one): which background is
 * each pixel on?  Each neighbouring block's background flows in across the
 * block's border through the pixels close to it, as a flood fill; pixels
 * left over (text) take the background next to them.  So text two pixels
 * inside a window edge stays on its window's background even when the
 * block holds more desktop than window, and even when the text has the
 * desktop's colour: the window's own background separates them. */
static void flatten_edge_block(const struct dp_gray *g, const uint8_t *bg, int32_t bw, uint8_t *out, int32_t bx,
			       int32_t by, const uint8_t *c, int n)
{
	static const int dx[4] = { -1, 1, 0, 0 }, dy[4] = { 0, 0, -1, 1 };
	int32_t x0 = bx * B, y0 = by * B;
	int32_t w = x0 + B <= g->width ? B : g->width - x0, h = y0 + B <= g->height ? B : g->height - y0;
	int8_t label[B][B];
	uint8_t queue[B * B][2];
	int head = 0, tail = 0, left = w * h;

#define PIX(x, y) g->pixels[(size_t)(y) * (size_t)g->stride + (size_t)(x)]
	memset(label, -1, sizeof(label));
	/* Seeds: border pixels next to a neighbour's pixel that is on its block's
	 * background, both close to that background. */
	for (int32_t y = 0; y < h; y++) {
		for (int32_t x = 0; x < w; x++) {
			if (x > 0 && x < w - 1 && y > 0 && y < h - 1)
				continue;
			for (int d = 0; d < 4 && label[y][x] < 0; d++) {
				int32_t qx = x0 + x + dx[d], qy = y0 + y + dy[d];
				int nbg, k;

				if (qx < 0 || qy < 0 || qx >= g->width || qy >= g->height ||
				    (qx >= x0 && qx < x0 + w && qy >= y0 && qy < y0 + h))
					continue;
				nbg = bg[(size_t)(qy / B) * (size_t)bw + (size_t)(qx / B)];
				if (abs(PIX(qx, qy) - nbg) > SAME || abs(PIX(x0 + x, y0 + y) - nbg) > SAME)
					continue;
				k = closest(c, n, nbg);
				if (k < 0)
					continue;
				label[y][x] = (int8_t)k;
				queue[tail][0] = (uint8_t)x;
				queue[tail++][1] = (uint8_t)y;
				left--;
			}
		}
	}
	/* Flood: through pixels close to the background that reached them. */
	while (head < tail) {
		int32_t x = queue[head][0], y = queue[head++][1];
		int k = label[y][x];

		for (int d = 0; d < 4; d++) {
			int32_t nx = x + dx[d], ny = y + dy[d];

			if (nx < 0 || ny < 0 || nx >= w || ny >= h || label[ny][nx] >= 0 ||
			    abs(PIX(x0 + nx, y0 + ny) - c[k]) > SAME)
				continue;
			label[ny][nx] = (int8_t)k;
			queue[tail][0] = (uint8_t)nx;
			queue[tail++][1] = (uint8_t)ny;
			left--;
		}
	}
	/* The rest (text, or a block nothing flowed into) takes a neighbour's. */
	for (bool grew = true; left > 0 && grew;) {
		grew = false;
		for (int32_t y = 0; y < h; y++) {
			for (int32_t x = 0; x < w; x++) {
				if (label[y][x] >= 0)
					continue;
				for (int d = 0; d < 4; d++) {
					int32_t nx = x + dx[d], ny = y + dy[d];

					if (nx >= 0 && ny >= 0 && nx < w && ny < h && label[ny][nx] >= 0) {
						label[y][x] = label[ny][nx];
						left--;
						grew = true;
						break;
					}
				}
			}
		}
	}
	for (int32_t y = 0; y < h; y++) {
		uint8_t *dst = out + (size_t)(y0 + y) * (size_t)g->width + (size_t)x0;

		for (int32_t x = 0; x < w; x++) {
			int d = PIX(x0 + x, y0 + y) - c[label[y][x] >= 0 ? label[y][x] : 0];

			dst[x] = (uint8_t)(255 - (d < 0 ? -d : d));
		}
	}
#undef PIX
}

/* Each pixel becomes 255 - |grey - background|: text dark on white
 * whatever its polarity, its contrast kept.  Written to out. */
static int flatten(const struct dp_gray *g, uint8_t *out, struct dp_ocr_image *stats)
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
	for (int32_t by = 0; by < bh; by++) {
		for (int32_t bx = 0; bx < bw; bx++) {
			uint8_t c[MAX_CANDIDATES];
			int n = candidates(bg, bw, bh, bx, by, c);

			if (n > 1) {
				flatten_edge_block(g, bg, bw, out, bx, by, c, n);
				continue;
			}
			for (int32_t y = by * B; y < (by + 1) * B && y < g->height; y++) {
				const uint8_t *row = g->pixels + (size_t)y * (size_t)g->stride;
				uint8_t *dst = out + (size_t)y * (size_t)g->width;

				for (int32_t x = bx * B; x < (bx + 1) * B && x < g->width; x++) {
					int d = row[x] - c[0];

					dst[x] = (uint8_t)(255 - (d < 0 ? -d : d));
				}
			}
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
	struct dp_gray g, flat;
	int r;

	memset(out, 0, sizeof(*out));
	if (scale < 1 || scale > 4)
		return -EINVAL;
	r = dp_gray_from_frame(&g, frame, area);
	if (r < 0)
		return r;
	flat = (struct dp_gray){ g.width, g.height, g.width, malloc((size_t)g.width * (size_t)g.height) };
	r = flat.pixels ? flatten(&g, flat.pixels, out) : -ENOMEM;
	if (r == 0)
		r = upscale(&flat, scale, out);
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
