/* The model's answer: the next move of the plan, found on the image it was
 * sent, written as tool calls or as UI-TARS text in the profile's
 * coordinate space. */
#pragma once

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "capture/frame.h"
#include "tests/model_server/plan.h"
#include "tests/model_server/profile.h"
#include "tests/model_server/screen.h"

/* Where in the plan a conversation is, from its own history: each reply's
 * content starts with a marker "[step N.K of T]" (move K of step N),
 * "[step N.K of T, waiting]" when the target was not on screen yet and
 * "[step N.K of T, again]" when the reply was broken on purpose; both of
 * those make the next request do N.K again.  waits counts all the replies
 * that waited at that move. */
struct ms_pos {
	int step, move; /* 1-based */
	int waits;      /* replies in a row that waited for this move's target */
};

void ms_pos_from_history(const cJSON *messages, const struct ms_plan *plan, struct ms_pos *pos);

/* Replies in messages that waited at move K of step N. */
int ms_count_waits(const cJSON *messages, int step, int move);

enum ms_break {
	MS_BREAK_NONE,
	MS_BREAK_REFUSAL,       /* content says it cannot help, no tool calls */
	MS_BREAK_ARG_STRING,    /* a click with x as a string */
	MS_BREAK_ARG_OUTSIDE,   /* a click outside the image */
	MS_BREAK_ENDLESS,       /* clicks the middle of the image, never done */
};

struct ms_reply_ctx {
	const struct ms_profile *profile;
	const struct ms_plan *plan;
	struct ms_screen *screen;      /* NULL: no OCR (text targets are not found) */
	const struct dp_frame *image;  /* the last screenshot; NULL if the request had none */
	const cJSON *messages;         /* the request's history */
	struct ms_pos pos;
	enum ms_break brk;
	int max_waits;                 /* a missing target is waited for this often, then the reply is fail */
	unsigned long serial;          /* makes tool call ids unique */
};

/* The assistant message (role, content, tool_calls, reasoning_details as
 * the profile has them).  NULL only when out of memory. */
cJSON *ms_reply_build(struct ms_reply_ctx *ctx);

/* The verifier's answer: a verdict tool call (or "YES" / "NO: reason" text
 * for text-action profiles).  done: the verdict; reason: why. */
cJSON *ms_reply_verdict(const struct ms_profile *p, bool done, const char *reason, unsigned long serial);
