/* The plan a test writes into its task, which the server follows the way a
 * model would follow its own: one step per line after a line "Plan:".
 *
 *   click "New invoice"            click the text (found by OCR on the image)
 *   click at 0.25 0.40             click a point given as fractions of the
 *                                  image's width and height (for apps without text)
 *   type "INV-7" into "Invoice number"  click the field right of the label, then type
 *   type "text"                    type into whatever has the focus
 *   press ctrl+s                   a key chord
 *   wait 500                       milliseconds
 *   zoom "Total"                   ask for that area at full resolution
 *   zoom at 0 0 0.5 0.6            the same for a region given as fractions of the
 *                                  image (x, y, width, height): the next image is it
 *   ask "Which vendor?"            ask the user
 *   done "saved"                   finish (the verifier is asked next)
 *   fail "reason"                  give up
 *   verify "Invoice INV-7 saved"   not a step: the verifier answers yes only
 *                                  when this text is on the final screenshot
 *
 * Quoted text takes \" \\ \n and \t escapes; a blank line ends the plan. */
#pragma once

#include <stddef.h>

enum ms_step_kind {
	MS_STEP_CLICK,
	MS_STEP_CLICK_AT,
	MS_STEP_TYPE,
	MS_STEP_TYPE_INTO,
	MS_STEP_PRESS,
	MS_STEP_WAIT,
	MS_STEP_ZOOM,
	MS_STEP_ZOOM_AT,
	MS_STEP_ASK,
	MS_STEP_DONE,
	MS_STEP_FAIL,
};

struct ms_step {
	enum ms_step_kind kind;
	char target[256]; /* text to find on screen (click, zoom, the label of type into) */
	char text[1024];  /* what to type, the chord, the question, the summary or reason */
	double fx, fy;    /* click at, zoom at: fractions 0..1 */
	double fw, fh;    /* zoom at */
	int ms;           /* wait */
};

#define MS_PLAN_MAX_STEPS 200
#define MS_PLAN_MAX_VERIFY 8

struct ms_plan {
	struct ms_step steps[MS_PLAN_MAX_STEPS];
	size_t n;
	char verify[MS_PLAN_MAX_VERIFY][256];
	size_t n_verify;
	char error[320]; /* set when a line could not be read ("" otherwise) */
};

/* Reads the plan out of a task text.  A task without "Plan:" gives an empty
 * plan and an error saying so. */
void ms_plan_parse(const char *task, struct ms_plan *plan);

/* Actions a step takes: 2 for type into (click, type), 1 otherwise. */
int ms_step_moves(const struct ms_step *s);

const char *ms_step_name(enum ms_step_kind kind);
