/* dp_ocr: what Tesseract reads on screen, and the cache that spares it
 * reading the same pixels twice.
 *
 * The cache holds the words read so far (screen coordinates), the areas
 * they were read from ("covered"), and a copy of the frame they came from.
 * A new frame is compared with the copy in 16x16 blocks (the change map);
 * the changed blocks, grown by a margin and by every cached word they
 * touch, are taken out of the covered areas along with those words.  A read
 * then recognizes only what its region has not covered, each such piece
 * with a margin around it so the words at its edges are read whole (large
 * pieces in bands, on several threads: engine/ocr_bands.h); of what comes
 * back, the words whose centre lies in the piece (and was not covered
 * already) are kept.  So a word is read once, from whichever piece holds
 * its centre. */
#include "engine/ocr.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/changemap.h"
#include "engine/ocr_bands.h"
#include "engine/ocr_layout.h"
#include "engine/ocr_workers.h"
#include "engine/rects.h"

#define DEFAULT_SCALE 3
#define DEFAULT_THREADS_MAX 4
#define SCREEN_DPI 96          /* told to Tesseract, times the upscale */
#define CHANGE_MARGIN 16       /* grown around changed blocks, pixels */
#define PIECE_MIN 16           /* thinner pieces are widened to this */
#define COVERED_MAX 256        /* more covered rects than this: start over */

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
	struct dp_ocr_jobs jobs;
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
	if (lang && (!*lang || strlen(lang) >= DP_OCR_LANG_MAX || strspn(lang, "abcdefghijklmnopqrstuvwxyz"
								  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+-") != strlen(lang)))
		return dp_error_set(err, -EINVAL, "ocr: '%s' is no Tesseract language name (such as eng or eng+deu)",
				    lang);
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
	dp_ocr_jobs_free(&ocr->jobs);
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

/* Adds w unless it is mostly inside a cached word, and drops the cached
 * words mostly inside it: read in two contexts, "19 %" may come back as
 * "19" and "%" from one piece and as "19%" from the one beside it, with
 * its centre on its side of the edge. */
static int add_new_word(struct dp_ocr *ocr, const struct dp_ocr_word *w)
{
	int64_t area = dp_rect_area(w->box);

	for (size_t i = 0; i < ocr->n_words;) {
		int64_t both = dp_rect_area(dp_rect_intersect(ocr->words[i].box, w->box));

		if (2 * both > area)
			return 0;
		if (2 * both > dp_rect_area(ocr->words[i].box))
			ocr->words[i] = ocr->words[--ocr->n_words];
		else
			i++;
	}
	return add_word(ocr, w);
}

/* Recognizes the pieces and keeps their new words: those whose centre
 * lies in the piece and was not covered before. */
static int read_pieces(struct dp_ocr *ocr, const struct dp_frame *frame, const struct dp_rects *pieces,
		       struct dp_error *err)
{
	int r = dp_ocr_plan_jobs(&ocr->jobs, frame, pieces, dp_ocr_workers_threads(ocr->workers));

	if (r < 0)
		return dp_error_set(err, r, "ocr: out of memory");
	dp_ocr_workers_run(ocr->workers, frame, ocr->options.scale, SCREEN_DPI * ocr->options.scale, ocr->jobs.v,
			   ocr->jobs.n);
	for (size_t j = 0; j < ocr->jobs.n; j++) {
		const struct dp_ocr_job *job = &ocr->jobs.v[j];

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
			if (add_new_word(ocr, &job->words[i]) < 0)
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
