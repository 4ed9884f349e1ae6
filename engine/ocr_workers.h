/* Private to engine/ocr.c: recognition of several areas at once, one
 * Tesseract per thread (an instance is not thread-safe; separate instances
 * are).  The first instance is made with the pool; the others when a read
 * first has work for them, by their own threads, in parallel. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "capture/frame.h"
#include "engine/error.h"
#include "engine/ocr.h"

struct dp_ocr_job {
	struct dp_rect piece;      /* screen coordinates: the words whose centre is here are kept */
	struct dp_rect crop;       /* screen coordinates, inside the frame: what is recognized */
	struct dp_ocr_word *words; /* out: screen coordinates (line: Tesseract's, per job) */
	size_t n, cap;
	int r;                     /* out: 0 or a negative errno, with err */
	struct dp_error err;
};

struct dp_ocr_workers;

#define DP_OCR_LANG_MAX 64 /* bytes of a language name, with its NUL */

/* threads: at most this many run at once (1 or more). */
int dp_ocr_workers_create(struct dp_ocr_workers **out, const char *lang, int threads, struct dp_error *err);
void dp_ocr_workers_destroy(struct dp_ocr_workers *w);
void dp_ocr_workers_set_psm(struct dp_ocr_workers *w, enum dp_ocr_psm psm);
void dp_ocr_workers_set_threads(struct dp_ocr_workers *w, int threads);
int dp_ocr_workers_threads(const struct dp_ocr_workers *w);

/* Recognizes each job's crop of frame, upscaled by scale and told dpi,
 * on up to the pool's threads (this one among them); sets each job's words
 * and r. */
void dp_ocr_workers_run(struct dp_ocr_workers *w, const struct dp_frame *frame, int32_t scale, int dpi,
			struct dp_ocr_job *jobs, size_t n);
