/* Private to engine/ocr.c: what is to be read, as jobs for the threads of
 * engine/ocr_workers.h.  Each piece is read with a margin around it (so the
 * words at its edges come whole, and are kept by the piece that holds their
 * centre); a large piece is cut into bands of about equal work, one per
 * thread, each with the same margins, so a band cut through a line of text
 * still has all of its words read, once. */
#pragma once

#include <stddef.h>

#include "capture/frame.h"
#include "engine/ocr_workers.h"
#include "engine/rects.h"

/* Up to half a word's width and half a line's height beyond a piece. */
#define DP_OCR_READ_MARGIN_X 96
#define DP_OCR_READ_MARGIN_Y 32

struct dp_ocr_jobs {
	struct dp_ocr_job *v;
	size_t n, cap; /* the words buffers of all cap jobs are kept for reuse */
};

/* Replaces jobs' contents with the jobs for pieces (screen coordinates,
 * inside frame), for threads threads.  0 or -ENOMEM. */
int dp_ocr_plan_jobs(struct dp_ocr_jobs *jobs, const struct dp_frame *frame, const struct dp_rects *pieces,
		     int threads);
void dp_ocr_jobs_free(struct dp_ocr_jobs *jobs);
