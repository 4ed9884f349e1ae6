/* Finding targets on screen: text (through OCR) and image templates.
 *
 * These are what RPA flows click on: "the button that says Save", "the
 * third row with INV-\d+", "this icon".  Each call returns 0 and the
 * target's box, or a negative errno with a message written for the flow's
 * author: what was read instead, where the candidates are, how close the
 * best template match came. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "capture/frame.h"
#include "engine/error.h"
#include "engine/ocr.h"

enum dp_text_match { DP_MATCH_EXACT, DP_MATCH_ICASE, DP_MATCH_REGEX };

struct dp_text_query {
	const char *text;          /* a word or a phrase ("New invoice"), or a POSIX extended regex */
	enum dp_text_match match;
	uint32_t nth;              /* 0: exactly one match expected (several is an ambiguity error); k>=1: the k-th in reading order */
	bool has_region; struct dp_rect region; /* search only there (screen coordinates) */
};

struct dp_match {
	struct dp_rect box;  /* screen coordinates */
	char text[512];      /* the words matched, as read */
	float score;         /* text: mean confidence of the words (0..1); template: the NCC */
};

/* Phrases: the words of one OCR line, joined by single spaces, compared
 * with the query's words (whitespace collapsed); EXACT compares bytes,
 * ICASE folds case (ASCII, Latin-1, Latin Extended-A, Greek, Cyrillic).  A
 * word read with punctuation around it ("Save:", "(Draft)") matches the
 * query word without it.  REGEX searches each line's text (case-sensitive;
 * every match in a line counts), the box covering the words the match
 * touches.  Reading order: top to bottom, then left to right; a region
 * keeps the words whose box centre is in it.
 *
 * Returns 0 and *out; -ENOENT when nothing matches (the message lists the
 * most similar text read, with positions), or when nth is beyond the number
 * of matches; -EINVAL with the candidates' boxes listed when several match
 * and nth is 0, or for a bad query (empty text, a regex that does not
 * compile); what dp_ocr_read returns otherwise. */
int dp_locate_text(struct dp_ocr *ocr, const struct dp_frame *frame, const struct dp_text_query *q,
		   struct dp_match *out, struct dp_error *err);

/* The same search in an OCR result already read (no OCR runs). */
int dp_locate_text_in(const struct dp_ocr_result *result, const struct dp_text_query *q, struct dp_match *out,
		      struct dp_error *err);

/* Image templates, matched by normalized cross-correlation (NCC) of the
 * grey levels, coarse to fine: the best candidates of a search on a reduced
 * image are refined at each finer level, and the score returned is the NCC
 * at full resolution.  Colour is ignored, so is alpha.  A template of a
 * single colour is refused (NCC needs contrast). */
struct dp_template;

/* Loads a PNG (or JPEG) file. */
int dp_template_load(struct dp_template **out, const char *png_path, struct dp_error *err);
/* Cuts one from a frame: rect in screen coordinates, inside the frame.
 * name is used in messages. */
int dp_template_from_frame(struct dp_template **out, const struct dp_frame *frame, const struct dp_rect *rect,
			   const char *name, struct dp_error *err);
void dp_template_destroy(struct dp_template *t);

/* The best match of t in region (screen coordinates; NULL: the whole
 * frame).  0 and *out (score = NCC, box in screen coordinates) when its
 * score reaches threshold (0..1, e.g. 0.9); -ENOENT when it does not (the
 * message gives the best score and where), or when the region is smaller
 * than the template; -EINVAL for a threshold outside 0..1 or a region
 * outside the frame.  Of equal scores the first in reading order wins. */
int dp_locate_template(const struct dp_frame *frame, const struct dp_template *t, double threshold,
		       const struct dp_rect *region, struct dp_match *out, struct dp_error *err);
