/* Cutting what is to be read into jobs for the worker threads. */
#include "engine/ocr_bands.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine/gray.h"

/* Large pieces are cut into bands read in parallel: one per thread, more
 * where a band would be larger than BAND_AREA_MAX, none under BAND_ROWS_MIN.
 * Tesseract's time goes with the amount of text, so the cuts share out the
 * edges (a row's pixels that differ from their left neighbour), and move by
 * up to BAND_SNAP rows to the row with the fewest (between text lines). */
#define SPLIT_AREA_MIN (400 * 1000)
#define BAND_AREA_MAX (2500 * 1000)
#define BAND_ROWS_MIN 96
#define BAND_SNAP 24
#define EDGE_STEP 24 /* grey levels between neighbours that make an edge */

static int add_job(struct dp_ocr_jobs *jobs, const struct dp_frame *frame, struct dp_rect piece)
{
	struct dp_rect screen = { frame->x, frame->y, frame->width, frame->height };
	struct dp_ocr_job *job;

	if (jobs->n == jobs->cap) {
		size_t cap = jobs->cap ? jobs->cap * 2 : 16;
		struct dp_ocr_job *v = realloc(jobs->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		memset(v + jobs->cap, 0, (cap - jobs->cap) * sizeof(*v));
		jobs->v = v;
		jobs->cap = cap;
	}
	job = &jobs->v[jobs->n++];
	job->piece = piece;
	/* Read with a margin, so the words at the piece's edges come whole. */
	job->crop = dp_rect_intersect(dp_rect_grow(piece, DP_OCR_READ_MARGIN_X, DP_OCR_READ_MARGIN_Y), screen);
	job->n = 0;
	return 0;
}

/* Each row's weight, for sharing a piece between threads: its edges, and
 * a little for its length (the layout analysis reads every pixel). */
static int64_t *row_weights(const struct dp_frame *frame, struct dp_rect p)
{
	int64_t *w = malloc((size_t)p.height * sizeof(*w));

	if (!w)
		return NULL;
	for (int32_t y = 0; y < p.height; y++) {
		const uint32_t *row = (const uint32_t *)(const void *)(frame->pixels +
			(size_t)(p.y - frame->y + y) * (size_t)frame->stride) + (p.x - frame->x);
		int64_t edges = p.width / 64;
		int prev = dp_luma(row[0]);

		for (int32_t x = 1; x < p.width; x++) {
			int v = dp_luma(row[x]);

			edges += (v - prev > EDGE_STEP) | (prev - v > EDGE_STEP);
			prev = v;
		}
		w[y] = edges;
	}
	return w;
}

/* Cuts p into bands of about equal weight, at light rows nearby. */
static int cut_bands(struct dp_ocr_jobs *jobs, const struct dp_frame *frame, struct dp_rect p, int64_t bands)
{
	int64_t *w = row_weights(frame, p), total = 0, sum = 0;
	int32_t start = 0, y = 0;
	int r = 0;

	if (!w)
		return -ENOMEM;
	for (int32_t i = 0; i < p.height; i++)
		total += w[i];
	for (int64_t b = 1; b <= bands && r == 0; b++) {
		int32_t end = p.height, best;

		if (b < bands) {
			/* The first row past this band's share, then the lightest row near it. */
			while (y < p.height && sum + w[y] <= total * b / bands)
				sum += w[y++];
			best = y;
			for (int32_t k = y - BAND_SNAP; k <= y + BAND_SNAP; k++)
				if (k > start + BAND_ROWS_MIN / 2 && k < p.height - BAND_ROWS_MIN / 2 && w[k] < w[best])
					best = k;
			end = best;
			if (end <= start + BAND_ROWS_MIN / 2 || end >= p.height - BAND_ROWS_MIN / 2)
				continue; /* too thin: this share goes to the next band */
		}
		r = add_job(jobs, frame, (struct dp_rect){ p.x, p.y + start, p.width, end - start });
		start = end;
	}
	free(w);
	return r;
}

int dp_ocr_plan_jobs(struct dp_ocr_jobs *jobs, const struct dp_frame *frame, const struct dp_rects *pieces,
		     int threads)
{
	jobs->n = 0;
	for (size_t i = 0; i < pieces->n; i++) {
		struct dp_rect p = pieces->v[i];
		int64_t area = dp_rect_area(p), bands = 1;
		int r;

		if (threads > 1 && area >= SPLIT_AREA_MIN)
			bands = threads;
		if (bands < (area + BAND_AREA_MAX - 1) / BAND_AREA_MAX)
			bands = (area + BAND_AREA_MAX - 1) / BAND_AREA_MAX;
		if (bands > p.height / BAND_ROWS_MIN)
			bands = p.height / BAND_ROWS_MIN;
		r = bands > 1 ? cut_bands(jobs, frame, p, bands) : add_job(jobs, frame, p);
		if (r < 0)
			return r;
	}
	return 0;
}

void dp_ocr_jobs_free(struct dp_ocr_jobs *jobs)
{
	for (size_t i = 0; i < jobs->cap; i++)
		free(jobs->v[i].words);
	free(jobs->v);
	memset(jobs, 0, sizeof(*jobs));
}
