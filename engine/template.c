/* Image templates found by normalized cross-correlation, coarse to fine.
 *
 * Template and screen become grey pyramids (each level half the size of the
 * one below, 2x2 means).  The search runs over every position of the
 * coarsest level where the template still has some detail, keeps the best
 * local maxima there (48), and refines them one level down at a time in a
 * small window around twice their position, keeping the best 8 at each
 * level; the score is the NCC at full resolution.
 *
 * The inner loop is a dot product of two int16 rows in chunks of 16 (the
 * template rows are padded with zeros to a multiple of 16): a fixed trip
 * count that GCC and clang turn into pmaddwd at -O2.  The template is stored
 * minus its rounded mean, and the rounding is corrected exactly with the
 * window's sum, so a window's covariance needs no second pass. */
#include "engine/locate.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/gray.h"
#include "engine/image_read.h"

#define LEVELS_MAX 5
#define CHUNK 16
#define SIDE_MAX 4096
#define CANDIDATES 48 /* local maxima kept from the coarsest level */
#define REFINED 8      /* of those, kept after each finer level */
/* The coarsest level searched still has the template at least this big. */
#define COARSE_MIN_SIDE 6
#define COARSE_MIN_AREA 36

struct tlevel {
	int32_t width, height;
	int32_t padded;   /* width rounded up to CHUNK */
	int16_t *t;       /* height rows of padded values: grey - round(mean), zeros after width */
	double mean_fix;  /* round(mean) - mean */
	double norm;      /* sqrt(sum of (grey - mean)^2) */
};

struct dp_template {
	char name[256];
	int32_t width, height;
	int levels; /* lv[0 .. levels-1] hold a template with contrast */
	struct tlevel lv[LEVELS_MAX];
};

/* A grey level of the screen as int16, rows padded with CHUNK zeros so a
 * padded template row can be read at any position. */
struct plane {
	int32_t width, height, stride;
	int16_t *v;
};

struct candidate {
	int32_t x, y;
	double score;
};

static int level_from_gray(struct tlevel *lv, const struct dp_gray *g)
{
	double sum = 0, sq = 0, mean;
	int32_t rmean;
	size_t n = (size_t)g->width * (size_t)g->height;

	lv->width = g->width;
	lv->height = g->height;
	lv->padded = (g->width + CHUNK - 1) / CHUNK * CHUNK;
	lv->t = calloc((size_t)lv->padded * (size_t)g->height, sizeof(int16_t));
	if (!lv->t)
		return -ENOMEM;
	for (int32_t y = 0; y < g->height; y++)
		for (int32_t x = 0; x < g->width; x++)
			sum += g->pixels[(size_t)y * (size_t)g->stride + (size_t)x];
	mean = sum / (double)n;
	rmean = (int32_t)lround(mean);
	lv->mean_fix = rmean - mean;
	for (int32_t y = 0; y < g->height; y++) {
		for (int32_t x = 0; x < g->width; x++) {
			int32_t v = g->pixels[(size_t)y * (size_t)g->stride + (size_t)x];

			lv->t[(size_t)y * (size_t)lv->padded + (size_t)x] = (int16_t)(v - rmean);
			sq += (v - mean) * (v - mean);
		}
	}
	lv->norm = sqrt(sq);
	return 0;
}

static int template_from_gray(struct dp_template **out, const struct dp_gray *g0, const char *name,
			      struct dp_error *err)
{
	struct dp_template *t;
	struct dp_gray cur = *g0, next;
	bool owned = false; /* cur is a level made here, not g0 */
	int r = 0;

	*out = NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return dp_error_set(err, -ENOMEM, "template %s: out of memory", name);
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->width = g0->width;
	t->height = g0->height;
	for (int l = 0; l < LEVELS_MAX; l++) {
		r = level_from_gray(&t->lv[l], &cur);
		if (r < 0)
			break;
		if (t->lv[l].norm < 1e-6) /* no contrast left at this level */
			break;
		t->levels = l + 1;
		if (l + 1 == LEVELS_MAX || cur.width < 2 || cur.height < 2)
			break;
		r = dp_gray_half(&next, &cur);
		if (owned)
			dp_gray_free(&cur);
		owned = false;
		if (r < 0)
			break;
		cur = next;
		owned = true;
	}
	if (owned)
		dp_gray_free(&cur);
	if (r < 0)
		r = dp_error_set(err, r, "template %s: out of memory", name);
	else if (t->levels == 0)
		r = dp_error_set(err, -EINVAL, "template %s is a single colour: nothing to match (NCC needs contrast)",
				 name);
	if (r < 0) {
		dp_template_destroy(t);
		return r;
	}
	*out = t;
	return 0;
}

int dp_template_from_frame(struct dp_template **out, const struct dp_frame *frame, const struct dp_rect *rect,
			   const char *name, struct dp_error *err)
{
	struct dp_rect r = { rect->x - frame->x, rect->y - frame->y, rect->width, rect->height };
	struct dp_gray g;
	int ret;

	*out = NULL;
	if (dp_rect_empty(r) || r.x < 0 || r.y < 0 || r.x + r.width > frame->width || r.y + r.height > frame->height)
		return dp_error_set(err, -EINVAL,
				    "template %s: %dx%d at %d,%d is not inside the frame (%dx%d at %d,%d)", name,
				    rect->width, rect->height, rect->x, rect->y, frame->width, frame->height,
				    frame->x, frame->y);
	if (rect->width > SIDE_MAX || rect->height > SIDE_MAX)
		return dp_error_set(err, -E2BIG, "template %s: %dx%d is too large (at most %dx%d)", name,
				    rect->width, rect->height, SIDE_MAX, SIDE_MAX);
	ret = dp_gray_from_frame(&g, frame, r);
	if (ret < 0)
		return dp_error_set(err, ret, "template %s: out of memory", name);
	ret = template_from_gray(out, &g, name, err);
	dp_gray_free(&g);
	return ret;
}

int dp_template_load(struct dp_template **out, const char *png_path, struct dp_error *err)
{
	struct dp_frame image;
	struct dp_rect all;
	int r;

	*out = NULL;
	r = dp_image_read(png_path, &image, err);
	if (r < 0)
		return r;
	all = (struct dp_rect){ 0, 0, image.width, image.height };
	r = dp_template_from_frame(out, &image, &all, png_path, err);
	dp_image_free(&image);
	return r;
}

void dp_template_destroy(struct dp_template *t)
{
	if (!t)
		return;
	for (int l = 0; l < LEVELS_MAX; l++)
		free(t->lv[l].t);
	free(t);
}

/* ---------- the screen side ---------- */

static int plane_from_gray(struct plane *p, const struct dp_gray *g)
{
	p->width = g->width;
	p->height = g->height;
	p->stride = g->width + CHUNK;
	p->v = calloc((size_t)p->stride * (size_t)p->height + CHUNK, sizeof(int16_t));
	if (!p->v)
		return -ENOMEM;
	for (int32_t y = 0; y < g->height; y++) {
		const uint8_t *src = g->pixels + (size_t)y * (size_t)g->stride;
		int16_t *dst = p->v + (size_t)y * (size_t)p->stride;

		for (int32_t x = 0; x < g->width; x++)
			dst[x] = src[x];
	}
	return 0;
}

/* Levels 0..top of the area of frame (frame coordinates). */
static int build_pyramid(struct plane *planes, int top, const struct dp_frame *frame, struct dp_rect area)
{
	struct dp_gray cur, next;
	int r = dp_gray_from_frame(&cur, frame, area);

	for (int l = 0; r == 0; l++) {
		r = plane_from_gray(&planes[l], &cur);
		if (r < 0 || l == top)
			break;
		r = dp_gray_half(&next, &cur);
		dp_gray_free(&cur);
		cur = next;
	}
	dp_gray_free(&cur);
	return r;
}

static inline int32_t row_dot(const int16_t *restrict a, const int16_t *restrict b, int32_t chunks)
{
	int32_t acc = 0;

	for (int32_t c = 0; c < chunks; c++) {
		for (int k = 0; k < CHUNK; k++)
			acc += (int32_t)a[c * CHUNK + k] * b[c * CHUNK + k];
	}
	return acc;
}

static int64_t window_dot(const struct tlevel *lv, const struct plane *p, int32_t x, int32_t y)
{
	const int16_t *img = p->v + (size_t)y * (size_t)p->stride + (size_t)x;
	int64_t acc = 0;

	for (int32_t ty = 0; ty < lv->height; ty++)
		acc += row_dot(lv->t + (size_t)ty * (size_t)lv->padded, img + (size_t)ty * (size_t)p->stride,
			       lv->padded / CHUNK);
	return acc;
}

static double ncc(const struct tlevel *lv, int64_t dot, double sum, double sumsq)
{
	double n = (double)lv->width * lv->height;
	double var = sumsq - sum * sum / n;
	double cov = (double)dot + lv->mean_fix * sum, s;

	if (var <= 1e-6 * n)
		return 0; /* a window of one colour: no correlation defined */
	s = cov / (lv->norm * sqrt(var));
	return s > 1 ? 1 : s < -1 ? -1 : s;
}

static double ncc_at(const struct tlevel *lv, const struct plane *p, int32_t x, int32_t y)
{
	int64_t sum = 0, sumsq = 0;

	for (int32_t ty = 0; ty < lv->height; ty++) {
		const int16_t *row = p->v + (size_t)(y + ty) * (size_t)p->stride + (size_t)x;
		int32_t s = 0, s2 = 0;

		for (int32_t tx = 0; tx < lv->width; tx++) {
			s += row[tx];
			s2 += row[tx] * row[tx];
		}
		sum += s;
		sumsq += s2;
	}
	return ncc(lv, window_dot(lv, p, x, y), (double)sum, (double)sumsq);
}

/* Better: higher score, then earlier in reading order. */
static bool better(double s, int32_t x, int32_t y, const struct candidate *c)
{
	if (s != c->score)
		return s > c->score;
	return y != c->y ? y < c->y : x < c->x;
}

static void keep_best(struct candidate *best, int *n, int max, struct candidate c)
{
	int i;

	if (*n == max && !better(c.score, c.x, c.y, &best[max - 1]))
		return;
	i = *n < max ? (*n)++ : max - 1;
	while (i > 0 && better(c.score, c.x, c.y, &best[i - 1])) {
		best[i] = best[i - 1];
		i--;
	}
	best[i] = c;
}

/* Every position of the coarsest level: window sums slide along columns
 * and then rows; the best local maxima go to best. */
static int search_all(const struct tlevel *lv, const struct plane *p, struct candidate *best, int *n_best)
{
	int32_t nx = p->width - lv->width + 1, ny = p->height - lv->height + 1;
	int64_t *col = calloc((size_t)p->width * 2, sizeof(int64_t));
	float *map = malloc((size_t)nx * (size_t)ny * sizeof(float));
	int64_t *colsq = col + p->width;

	if (!col || !map) {
		free(col);
		free(map);
		return -ENOMEM;
	}
	for (int32_t ty = 0; ty < lv->height; ty++) {
		const int16_t *row = p->v + (size_t)ty * (size_t)p->stride;

		for (int32_t x = 0; x < p->width; x++) {
			col[x] += row[x];
			colsq[x] += row[x] * row[x];
		}
	}
	for (int32_t y = 0; y < ny; y++) {
		int64_t sum = 0, sumsq = 0;

		if (y > 0) { /* slide the column sums down one row */
			const int16_t *gone = p->v + (size_t)(y - 1) * (size_t)p->stride;
			const int16_t *come = p->v + (size_t)(y - 1 + lv->height) * (size_t)p->stride;

			for (int32_t x = 0; x < p->width; x++) {
				col[x] += come[x] - gone[x];
				colsq[x] += come[x] * come[x] - gone[x] * gone[x];
			}
		}
		for (int32_t x = 0; x < lv->width; x++) {
			sum += col[x];
			sumsq += colsq[x];
		}
		for (int32_t x = 0; x < nx; x++) {
			if (x > 0) {
				sum += col[x - 1 + lv->width] - col[x - 1];
				sumsq += colsq[x - 1 + lv->width] - colsq[x - 1];
			}
			map[(size_t)y * (size_t)nx + (size_t)x] =
				(float)ncc(lv, window_dot(lv, p, x, y), (double)sum, (double)sumsq);
		}
	}
	/* Local maxima: not below any neighbour, and above those scanned before. */
	for (int32_t y = 0; y < ny; y++) {
		for (int32_t x = 0; x < nx; x++) {
			float s = map[(size_t)y * (size_t)nx + (size_t)x];
			bool peak = true;

			for (int32_t dy = -1; dy <= 1 && peak; dy++) {
				for (int32_t dx = -1; dx <= 1 && peak; dx++) {
					int32_t xx = x + dx, yy = y + dy;
					float o;

					if ((!dx && !dy) || xx < 0 || yy < 0 || xx >= nx || yy >= ny)
						continue;
					o = map[(size_t)yy * (size_t)nx + (size_t)xx];
					peak = (dy < 0 || (dy == 0 && dx < 0)) ? s > o : s >= o;
				}
			}
			if (peak)
				keep_best(best, n_best, CANDIDATES, (struct candidate){ x, y, s });
		}
	}
	free(col);
	free(map);
	return 0;
}

/* From level l+1 down to l: the best position around twice c's. */
static struct candidate refine(const struct tlevel *lv, const struct plane *p, struct candidate c)
{
	struct candidate best = { -1, -1, -2 };

	for (int32_t y = 2 * c.y - 2; y <= 2 * c.y + 3; y++) {
		for (int32_t x = 2 * c.x - 2; x <= 2 * c.x + 3; x++) {
			double s;

			if (x < 0 || y < 0 || x > p->width - lv->width || y > p->height - lv->height)
				continue;
			s = ncc_at(lv, p, x, y);
			if (better(s, x, y, &best))
				best = (struct candidate){ x, y, s };
		}
	}
	return best;
}

/* The coarsest level worth searching for an area of w x h. */
static int pick_top(const struct dp_template *t, int32_t w, int32_t h)
{
	int limit = t->levels < LEVELS_MAX ? t->levels : LEVELS_MAX;
	int top = 0;

	for (int next = 1; next < limit; next++) {
		const struct tlevel *lv = &t->lv[next];
		int32_t side = lv->width < lv->height ? lv->width : lv->height;

		/* The area halves at each level, as the template does. */
		w /= 2;
		h /= 2;
		if (side < COARSE_MIN_SIDE || lv->width * lv->height < COARSE_MIN_AREA || w < lv->width || h < lv->height)
			break;
		top = next;
	}
	return top;
}

int dp_locate_template(const struct dp_frame *frame, const struct dp_template *t, double threshold,
		       const struct dp_rect *region, struct dp_match *out, struct dp_error *err)
{
	struct dp_rect area = { 0, 0, frame->width, frame->height };
	struct plane planes[LEVELS_MAX] = { 0 };
	struct candidate cand[CANDIDATES], best = { -1, -1, -2 };
	int n_cand = 0, top, r;

	if (!(threshold >= 0 && threshold <= 1))
		return dp_error_set(err, -EINVAL, "template %s: threshold %g is outside 0..1", t->name, threshold);
	if (region) {
		area = dp_rect_intersect(area, (struct dp_rect){ region->x - frame->x, region->y - frame->y,
								 region->width, region->height });
		if (dp_rect_empty(area))
			return dp_error_set(err, -EINVAL,
					    "template %s: region %dx%d at %d,%d is outside the screen (%dx%d at %d,%d)",
					    t->name, region->width, region->height, region->x, region->y,
					    frame->width, frame->height, frame->x, frame->y);
	}
	if (area.width < t->width || area.height < t->height)
		return dp_error_set(err, -ENOENT, "template %s (%dx%d) is larger than the area searched (%dx%d at %d,%d)",
				    t->name, t->width, t->height, area.width, area.height, area.x + frame->x,
				    area.y + frame->y);
	top = pick_top(t, area.width, area.height);
	r = build_pyramid(planes, top, frame, area);
	if (r == 0)
		r = search_all(&t->lv[top], &planes[top], cand, &n_cand);
	for (int l = top - 1; r == 0 && l >= 0; l--) {
		struct candidate kept[CANDIDATES];
		int n_kept = 0;

		for (int i = 0; i < n_cand; i++) {
			struct candidate c = refine(&t->lv[l], &planes[l], cand[i]);

			if (c.x >= 0)
				keep_best(kept, &n_kept, REFINED, c);
		}
		memcpy(cand, kept, (size_t)n_kept * sizeof(*kept));
		n_cand = n_kept;
	}
	for (int i = 0; r == 0 && i < n_cand; i++)
		if (better(cand[i].score, cand[i].x, cand[i].y, &best))
			best = cand[i];
	for (int l = 0; l < LEVELS_MAX; l++)
		free(planes[l].v);
	if (r < 0)
		return dp_error_set(err, r, "template %s: out of memory", t->name);
	if (best.x < 0 || best.score < threshold) {
		if (best.x < 0)
			return dp_error_set(err, -ENOENT, "template %s: no match in %dx%d at %d,%d", t->name,
					    area.width, area.height, area.x + frame->x, area.y + frame->y);
		return dp_error_set(err, -ENOENT,
				    "template %s not found: best match %.3f at %d,%d is below the threshold %.3f",
				    t->name, best.score, best.x + area.x + frame->x, best.y + area.y + frame->y,
				    threshold);
	}
	*out = (struct dp_match){
		.box = { best.x + area.x + frame->x, best.y + area.y + frame->y, t->width, t->height },
		.score = (float)best.score,
	};
	snprintf(out->text, sizeof(out->text), "%s", t->name);
	return 0;
}
