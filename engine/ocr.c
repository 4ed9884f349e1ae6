/* dp_ocr: what Tesseract reads on screen, and the cache that spares it
 * reading the same pixels twice.
 *
 * The cache holds the words read so far (screen coordinates), the areas
 * they were read from ("covered"), and a copy of the frame they came from.
 * A new frame is compared with the copy in 16x16 blocks (the change map);
 * the changed blocks, grown by a margin and by every cached word they
 * touch, are taken out of the covered areas along with those words.  A read
 * then recognizes only what its region has not covered, each such piece
 * with a margin around it so the words at its edges are read whole; of what
 * comes back, the words whose centre lies in the piece (and was not covered
 * already) are kept.  So a word is read once, from whichever piece holds
 * its centre. */
#include "engine/ocr.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/changemap.h"
#include "engine/gray.h"
#include "engine/ocr_layout.h"
#include "engine/ocr_workers.h"
#include "engine/rects.h"

#define DEFAULT_SCALE 3
#define DEFAULT_THREADS_MAX 4
#define SCREEN_DPI 96          /* told to Tesseract, times the upscale */
#define CHANGE_MARGIN 16       /* grown around changed blocks, pixels */
#define READ_MARGIN_X 96       /* read around a piece so words at its edges come whole */
#define READ_MARGIN_Y 32
#define PIECE_MIN 16           /* thinner pieces are widened to this */
#define COVERED_MAX 256        /* more covered rects than this: start over */
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

struct dp_ocr {
	struct dp_ocr_workers *workers;
	struct dp_ocr_options options;
	struct dp_ocr_stats stats;

	bool cached;
	struct dp_rect geometry;    /* of the cached frame, screen coordinates */
	uint8_t *pixels;            /* its copy, rows of 4 * width bytes */
	size_t pixels_size;
	struct dp_changemap map;
	struct dp_ocr_word *words;  /* screen coordinates; line unused */
	size_t n_words, cap_words;
	struct dp_rects covered;

	struct dp_rects work;
	struct dp_ocr_job *jobs;
	size_t cap_jobs;
};

static int default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > DEFAULT_THREADS_MAX ? DEFAULT_THREADS_MAX : (int)n;
}

int dp_ocr_create(struct dp_ocr **out, const char *lang, struct dp_error *err)
{
	struct dp_ocr *ocr;
	int r;

	*out = NULL;
	ocr = calloc(1, sizeof(*ocr));
	if (!ocr)
		return dp_error_set(err, -ENOMEM, "ocr: out of memory");
	r = dp_ocr_workers_create(&ocr->workers, lang ? lang : "eng", default_threads(), err);
	if (r < 0) {
		free(ocr);
		return r;
	}
	ocr->options = (struct dp_ocr_options){ .scale = DEFAULT_SCALE, .psm = DP_OCR_PSM_SPARSE };
	*out = ocr;
	return 0;
}

static void forget(struct dp_ocr *ocr)
{
	ocr->cached = false;
	ocr->n_words = 0;
	ocr->covered.n = 0;
}

void dp_ocr_destroy(struct dp_ocr *ocr)
{
	if (!ocr)
		return;
	dp_ocr_workers_destroy(ocr->workers);
	free(ocr->pixels);
	dp_changemap_release(&ocr->map);
	free(ocr->words);
	for (size_t i = 0; i < ocr->cap_jobs; i++)
		free(ocr->jobs[i].words);
	free(ocr->jobs);
	dp_rects_free(&ocr->covered);
	dp_rects_free(&ocr->work);
	free(ocr);
}

int dp_ocr_set_options(struct dp_ocr *ocr, const struct dp_ocr_options *options, struct dp_error *err)
{
	if (options->scale < 1 || options->scale > 4)
		return dp_error_set(err, -EINVAL, "ocr: scale %d is outside 1..4", options->scale);
	if (options->psm != DP_OCR_PSM_SPARSE && options->psm != DP_OCR_PSM_AUTO)
		return dp_error_set(err, -EINVAL, "ocr: unknown page segmentation mode %d", (int)options->psm);
	if (options->threads < 0 || options->threads > 16)
		return dp_error_set(err, -EINVAL, "ocr: %d threads is outside 0..16", options->threads);
	ocr->options = *options;
	dp_ocr_workers_set_psm(ocr->workers, options->psm);
	dp_ocr_workers_set_threads(ocr->workers, options->threads ? options->threads : default_threads());
	forget(ocr);
	return 0;
}

void dp_ocr_stats(const struct dp_ocr *ocr, struct dp_ocr_stats *stats)
{
	*stats = ocr->stats;
}

void dp_ocr_result_clear(struct dp_ocr_result *r)
{
	free(r->words);
	free(r->lines);
	memset(r, 0, sizeof(*r));
}

static struct dp_rect word_centre_box(const struct dp_ocr_word *w)
{
	return (struct dp_rect){ w->box.x + w->box.width / 2, w->box.y + w->box.height / 2, 1, 1 };
}

static int keep_frame(struct dp_ocr *ocr, const struct dp_frame *frame)
{
	size_t row = (size_t)frame->width * 4, need = row * (size_t)frame->height;

	if (need > ocr->pixels_size) {
		uint8_t *p = realloc(ocr->pixels, need);

		if (!p)
			return -ENOMEM;
		ocr->pixels = p;
		ocr->pixels_size = need;
	}
	for (int32_t y = 0; y < frame->height; y++)
		memcpy(ocr->pixels + (size_t)y * row, frame->pixels + (size_t)y * (size_t)frame->stride, row);
	ocr->geometry = (struct dp_rect){ frame->x, frame->y, frame->width, frame->height };
	ocr->cached = true;
	return 0;
}

/* The changed blocks as rects in screen coordinates, grown by the margin
 * and merged: one run of changed blocks per block row (gaps of up to two
 * blocks bridged). */
static int changed_areas(struct dp_ocr *ocr, const struct dp_frame *frame, struct dp_rects *dirty)
{
	const struct dp_changemap *m = &ocr->map;
	struct dp_rect screen = ocr->geometry;

	dirty->n = 0;
	for (int32_t row = 0; row < m->rows; row++) {
		for (int32_t c = 0; c < m->cols;) {
			struct dp_rect run;
			int32_t end;

			if (!dp_changemap_at(m, c, row)) {
				c++;
				continue;
			}
			end = c + 1;
			for (int32_t k = end; k < m->cols && k <= end + 2; k++)
				if (dp_changemap_at(m, k, row))
					end = k + 1;
			run = (struct dp_rect){ frame->x + c * DP_CHANGEMAP_BLOCK, frame->y + row * DP_CHANGEMAP_BLOCK,
						(end - c) * DP_CHANGEMAP_BLOCK, DP_CHANGEMAP_BLOCK };
			run = dp_rect_intersect(dp_rect_grow(run, CHANGE_MARGIN, CHANGE_MARGIN), screen);
			if (dp_rects_push(dirty, run) < 0)
				return -ENOMEM;
			c = end;
		}
	}
	dp_rects_merge(dirty, 0);
	return 0;
}

/* Drops the cached words a dirty area touches, growing the area over
 * them (so the words are read again whole), until no cached word touches
 * one; then the areas are no longer covered. */
static int invalidate(struct dp_ocr *ocr, struct dp_rects *dirty)
{
	bool grown = true;

	while (grown) {
		grown = false;
		for (size_t i = 0; i < ocr->n_words;) {
			ptrdiff_t d = dp_rects_find_intersecting(dirty, ocr->words[i].box);

			if (d < 0) {
				i++;
				continue;
			}
			dirty->v[d] = dp_rect_union(dirty->v[d], ocr->words[i].box);
			ocr->words[i] = ocr->words[--ocr->n_words];
			grown = true;
		}
		if (grown)
			dp_rects_merge(dirty, 0);
	}
	for (size_t i = 0; i < dirty->n; i++)
		if (dp_rects_subtract(&ocr->covered, dirty->v[i]) < 0)
			return -ENOMEM;
	return 0;
}

/* Brings the cache up to frame: forgets what changed. */
static int update_cache(struct dp_ocr *ocr, const struct dp_frame *frame, struct dp_error *err)
{
	struct dp_frame before;
	int r;

	if (!ocr->cached || ocr->geometry.x != frame->x || ocr->geometry.y != frame->y ||
	    ocr->geometry.width != frame->width || ocr->geometry.height != frame->height) {
		forget(ocr);
		goto keep;
	}
	before = (struct dp_frame){ .width = frame->width, .height = frame->height, .stride = frame->width * 4,
				    .pixels = ocr->pixels };
	r = dp_changemap_compute(&ocr->map, &before, frame);
	if (r < 0)
		return dp_error_set(err, r, "ocr: out of memory comparing frames");
	if (ocr->map.changed == 0)
		return 0;
	if (2 * (int64_t)ocr->map.changed > (int64_t)ocr->map.cols * ocr->map.rows) {
		forget(ocr); /* most of it: read it all again */
	} else {
		r = changed_areas(ocr, frame, &ocr->work);
		if (r == 0)
			r = invalidate(ocr, &ocr->work);
		if (r < 0)
			return dp_error_set(err, r, "ocr: out of memory tracking changes");
	}
keep:
	r = keep_frame(ocr, frame);
	if (r < 0) {
		forget(ocr);
		return dp_error_set(err, r, "ocr: out of memory for a %dx%d frame", frame->width, frame->height);
	}
	return 0;
}

static int add_word(struct dp_ocr *ocr, const struct dp_ocr_word *w)
{
	if (ocr->n_words == ocr->cap_words) {
		size_t cap = ocr->cap_words ? ocr->cap_words * 2 : 256;
		struct dp_ocr_word *v = realloc(ocr->words, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		ocr->words = v;
		ocr->cap_words = cap;
	}
	ocr->words[ocr->n_words++] = *w;
	return 0;
}

static int add_job(struct dp_ocr *ocr, size_t *n, struct dp_rect piece)
{
	struct dp_ocr_job *job;

	if (*n == ocr->cap_jobs) {
		size_t cap = ocr->cap_jobs ? ocr->cap_jobs * 2 : 16;
		struct dp_ocr_job *v = realloc(ocr->jobs, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		memset(v + ocr->cap_jobs, 0, (cap - ocr->cap_jobs) * sizeof(*v));
		ocr->jobs = v;
		ocr->cap_jobs = cap;
	}
	job = &ocr->jobs[(*n)++];
	job->piece = piece;
	/* Read with a margin, so the words at the piece's edges come whole. */
	job->crop = dp_rect_intersect(dp_rect_grow(piece, READ_MARGIN_X, READ_MARGIN_Y), ocr->geometry);
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
static int cut_bands(struct dp_ocr *ocr, const struct dp_frame *frame, struct dp_rect p, int64_t bands,
		     size_t *n_jobs)
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
		r = add_job(ocr, n_jobs, (struct dp_rect){ p.x, p.y + start, p.width, end - start });
		start = end;
	}
	free(w);
	return r;
}

/* The pieces as jobs: large ones cut into bands for the threads. */
static int plan_jobs(struct dp_ocr *ocr, const struct dp_frame *frame, const struct dp_rects *pieces,
		     size_t *n_jobs)
{
	int64_t threads = dp_ocr_workers_threads(ocr->workers);

	*n_jobs = 0;
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
		r = bands > 1 ? cut_bands(ocr, frame, p, bands, n_jobs) : add_job(ocr, n_jobs, p);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Recognizes the pieces and keeps their new words: those whose centre
 * lies in the piece and was not covered before. */
static int read_pieces(struct dp_ocr *ocr, const struct dp_frame *frame, const struct dp_rects *pieces,
		       struct dp_error *err)
{
	size_t n_jobs = 0;
	int r = plan_jobs(ocr, frame, pieces, &n_jobs);

	if (r < 0)
		return dp_error_set(err, r, "ocr: out of memory");
	dp_ocr_workers_run(ocr->workers, frame, ocr->options.scale, SCREEN_DPI * ocr->options.scale, ocr->jobs,
			   n_jobs);
	for (size_t j = 0; j < n_jobs; j++) {
		const struct dp_ocr_job *job = &ocr->jobs[j];

		ocr->stats.recognitions++;
		ocr->stats.pixels_read += (uint64_t)dp_rect_area(job->crop);
		if (job->r < 0) {
			if (err)
				*err = job->err;
			return job->r;
		}
		for (size_t i = 0; i < job->n; i++) {
			struct dp_rect c = word_centre_box(&job->words[i]);

			if (dp_rects_contain_point(&ocr->covered, c.x, c.y))
				continue;
			if (add_word(ocr, &job->words[i]) < 0)
				return dp_error_set(err, -ENOMEM, "ocr: out of memory for words");
		}
	}
	for (size_t i = 0; i < pieces->n; i++)
		if (dp_rects_push(&ocr->covered, pieces->v[i]) < 0)
			return dp_error_set(err, -ENOMEM, "ocr: out of memory");
	return 0;
}

/* The parts of region no read has covered yet, none thinner than
 * PIECE_MIN (widened inside the frame), overlapping ones merged. */
static int pieces_to_read(struct dp_ocr *ocr, struct dp_rect region, struct dp_rects *todo)
{
	int r = dp_rects_difference(todo, region, &ocr->covered);

	if (r < 0)
		return r;
	for (size_t i = 0; i < todo->n; i++) {
		struct dp_rect *p = &todo->v[i];
		int32_t gx = p->width < PIECE_MIN ? (PIECE_MIN - p->width + 1) / 2 : 0;
		int32_t gy = p->height < PIECE_MIN ? (PIECE_MIN - p->height + 1) / 2 : 0;

		*p = dp_rect_intersect(dp_rect_grow(*p, gx, gy), ocr->geometry);
	}
	dp_rects_merge(todo, 0);
	return 0;
}

static int answer(struct dp_ocr *ocr, struct dp_rect region, struct dp_ocr_result *out, struct dp_error *err)
{
	size_t n = 0;
	int r;

	memset(out, 0, sizeof(*out));
	out->words = malloc((ocr->n_words ? ocr->n_words : 1) * sizeof(*out->words));
	if (!out->words)
		return dp_error_set(err, -ENOMEM, "ocr: out of memory for words");
	for (size_t i = 0; i < ocr->n_words; i++) {
		struct dp_rect c = word_centre_box(&ocr->words[i]);

		if (dp_rect_contains_point(region, c.x, c.y))
			out->words[n++] = ocr->words[i];
	}
	out->n_words = n;
	r = dp_ocr_layout(out->words, n, &out->lines, &out->n_lines);
	if (r < 0) {
		dp_ocr_result_clear(out);
		return dp_error_set(err, r, "ocr: out of memory for lines");
	}
	return 0;
}

int dp_ocr_read(struct dp_ocr *ocr, const struct dp_frame *frame, const struct dp_rect *region,
		struct dp_ocr_result *out, struct dp_error *err)
{
	struct dp_rect all = { frame->x, frame->y, frame->width, frame->height }, want = all;
	uint64_t recognitions = ocr->stats.recognitions;
	int r;

	memset(out, 0, sizeof(*out));
	if (dp_rect_empty(all) || !frame->pixels)
		return dp_error_set(err, -EINVAL, "ocr: the frame is empty");
	if (region) {
		want = dp_rect_intersect(*region, all);
		if (dp_rect_empty(want))
			return dp_error_set(err, -EINVAL,
					    "ocr: region %dx%d at %d,%d is outside the screen (%dx%d at %d,%d)",
					    region->width, region->height, region->x, region->y, all.width,
					    all.height, all.x, all.y);
	}
	r = update_cache(ocr, frame, err);
	if (r < 0)
		return r;
	r = pieces_to_read(ocr, want, &ocr->work);
	if (r < 0)
		return dp_error_set(err, r, "ocr: out of memory");
	if (ocr->work.n > 0) {
		r = read_pieces(ocr, frame, &ocr->work, err);
		if (r < 0) {
			forget(ocr);
			return r;
		}
	}
	dp_rects_drop_contained(&ocr->covered);
	if (ocr->stats.recognitions == recognitions)
		ocr->stats.cache_hits++;
	r = answer(ocr, want, out, err);
	if (ocr->covered.n > COVERED_MAX)
		forget(ocr); /* a patchwork: the next read starts over */
	return r;
}
