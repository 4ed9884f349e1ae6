/* Text on screen: OCR of a frame, or of a region of it, with Tesseract.
 *
 * Screen text is small (9-13 px) and often light on dark; each area read is
 * made grey, its text dark on white whatever the background it sits on (see
 * engine/ocr_prep.h), and upscaled 3x before Tesseract (sparse-text page
 * segmentation) sees it.  Words come back in screen coordinates, their
 * boxes tight around their ink, in reading order (top to bottom, then left
 * to right), grouped into lines.  Large areas are cut into bands read on
 * several threads (one Tesseract each, up to 4 by default).
 *
 * A dp_ocr keeps what it read: reading an unchanged screen again costs a
 * comparison of the two frames (16x16 blocks) and no recognition; after a
 * change only the changed blocks, grown over the words they touch, are read
 * again.  One dp_ocr is used by one thread at a time.
 *
 * Without Tesseract at build time (-Dtesseract=disabled) dp_ocr_create
 * fails with -ENOTSUP, and everything else here still links. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "capture/frame.h"
#include "engine/error.h"

struct dp_ocr;

struct dp_ocr_word {
	char text[128];        /* UTF-8, no spaces */
	struct dp_rect box;    /* screen coordinates, the ink's bounding box */
	float confidence;      /* 0..1, Tesseract's word confidence / 100 */
	uint32_t line;         /* index into dp_ocr_result.lines */
};

struct dp_ocr_line {
	char text[512];        /* its words joined by single spaces (those past 511 bytes left out) */
	struct dp_rect box;    /* union of its words */
	float confidence;      /* mean of its words' */
};

struct dp_ocr_result {
	struct dp_ocr_word *words; /* reading order; a line's words are consecutive */
	size_t n_words;
	struct dp_ocr_line *lines; /* reading order */
	size_t n_lines;
};

/* Loads Tesseract's model for lang (NULL: "eng"; "eng+deu" reads both).
 * -ENOTSUP when deskpilot was built without Tesseract, -ENOENT when the
 * language data is not installed (the message names the package), -EINVAL
 * for a name that is none. */
int dp_ocr_create(struct dp_ocr **out, const char *lang, struct dp_error *err);
void dp_ocr_destroy(struct dp_ocr *ocr);

/* Reads text in region of frame (NULL: all of it); boxes in screen
 * coordinates (frame->x/y offset applied).  region is in screen coordinates
 * too, and is clipped to the frame (-EINVAL if nothing is left); the words
 * whose box centre lies in it are returned.  *out is overwritten: clear a
 * previous result with dp_ocr_result_clear first.  Frames of any source may
 * be passed; the cache compares each with the previous one. */
int dp_ocr_read(struct dp_ocr *ocr, const struct dp_frame *frame, const struct dp_rect *region,
		struct dp_ocr_result *out, struct dp_error *err);
void dp_ocr_result_clear(struct dp_ocr_result *r);

/* What the cache saved. */
struct dp_ocr_stats {
	uint64_t recognitions; /* Tesseract runs (one per area read) */
	uint64_t pixels_read;  /* screen pixels handed to them (before upscaling) */
	uint64_t cache_hits;   /* dp_ocr_read calls answered without any recognition */
};

void dp_ocr_stats(const struct dp_ocr *ocr, struct dp_ocr_stats *stats);

/* Tuning, for measurements (bench/ocr_bench.c).  Forgets the cache. */
enum dp_ocr_psm { DP_OCR_PSM_SPARSE, DP_OCR_PSM_AUTO };
struct dp_ocr_options {
	int scale;           /* upscale before recognition, 1-4 (default 3) */
	enum dp_ocr_psm psm; /* Tesseract's page segmentation (default sparse text) */
	int threads;         /* recognitions at once, 1-16; 0: the processors online, at most 4 (default) */
};
int dp_ocr_set_options(struct dp_ocr *ocr, const struct dp_ocr_options *options, struct dp_error *err);
