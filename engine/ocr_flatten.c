#include "engine/ocr_flatten.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define BINS 16
#define B DP_OCR_FLATTEN_BLOCK
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
static void estimate_backgrounds(const struct block_hist *h, int32_t bw, int32_t bh, uint8_t *bg)
{
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

/* Whether the pixel at x, y and the 8 around it are all close to level v:
 * inside an area of that background, not on a stroke of text that happens
 * to have its colour. */
static bool amid(const struct dp_gray *g, int32_t x, int32_t y, int v)
{
	for (int32_t yy = y - 1; yy <= y + 1; yy++) {
		for (int32_t xx = x - 1; xx <= x + 1; xx++) {
			if (xx < 0 || yy < 0 || xx >= g->width || yy >= g->height)
				continue;
			if (abs(g->pixels[(size_t)yy * (size_t)g->stride + (size_t)xx] - v) > SAME)
				return false;
		}
	}
	return true;
}

/* A block on the edge between areas of different backgrounds (a window on
 * the desktop, a dark terminal beside a light one): which background is
 * each pixel on?  Each neighbouring block's background flows in across the
 * block's border (from pixels well inside that background) through the
 * pixels close to it, as a flood fill; pixels left over (text) take the
 * background next to them.  So text two pixels
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
				if (abs(PIX(x0 + x, y0 + y) - nbg) > SAME || !amid(g, qx, qy, nbg))
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
int dp_ocr_flatten(const struct dp_gray *g, uint8_t *out)
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
	estimate_backgrounds(h, bw, bh, bg);
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

