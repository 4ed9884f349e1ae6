/* When is the screen ready to look at?  The settle rules of DESIGN.md
 * ("Settling") as a pure state machine: a frame source feeds it damage
 * rectangles as they arrive and sleeps (on its own event source) until the
 * deadline it returns.  Keeping the rules apart from X11 lets the PipeWire
 * source reuse them and lets unit tests drive them with a synthetic clock. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "frame.h"

struct dp_settle_options {
	bool expect_change;       /* wait for a first damage before waiting for quiet */
	int32_t response_ms;      /* how long to wait for that first damage (default 2000) */
	int32_t quiet_ms;         /* quiet needed to call the screen settled (default 75) */
	int32_t timeout_ms;       /* give up waiting for quiet after this (default 10000) */
	int64_t small_area;       /* damage whose bounding box within one quiet window stays
	                           * below this many pixels does not break the quiet: a caret,
	                           * a small spinner (default 1024 = 32x32) */
	int interrupt_fd;         /* readable: stop waiting, -ECANCELED (a cancel); -1: none */
};

void dp_settle_options_default(struct dp_settle_options *opts);

enum dp_settle_outcome {
	DP_SETTLE_SETTLED = 0,    /* changed (if expected) and then went quiet */
	DP_SETTLE_NO_EFFECT,      /* a change was expected; none came within response_ms */
	DP_SETTLE_STILL_CHANGING, /* never went quiet before timeout_ms */
};

const char *dp_settle_outcome_name(enum dp_settle_outcome outcome);

struct dp_settle_result {
	enum dp_settle_outcome outcome;
	int64_t first_damage_ns;  /* since the start; -1 when no damage counted */
	int64_t last_damage_ns;   /* since the start, last damage that broke the quiet; -1 if none */
	int64_t elapsed_ns;       /* from the start to the verdict */
	struct dp_rect damage;    /* bounding box of all damage that counted */
	struct dp_rect changing;  /* STILL_CHANGING: where damage kept coming near the end */
	uint32_t events;          /* damage rectangles seen */
	uint32_t ignored;         /* of those, how many were too small to count */
};

/* Small damage seen recently (a blinking caret, a clock): in the response
 * phase it is not mistaken for the app's reaction to an action. */
#define DP_DAMAGE_HISTORY_SIZE 32
#define DP_DAMAGE_HISTORY_NS (INT64_C(2000) * 1000000)

struct dp_damage_history {
	struct dp_rect rects[DP_DAMAGE_HISTORY_SIZE];
	int64_t times[DP_DAMAGE_HISTORY_SIZE];
	uint32_t next;
};

void dp_damage_history_add(struct dp_damage_history *history, struct dp_rect rect, int64_t now_ns);
bool dp_damage_history_covers(const struct dp_damage_history *history, struct dp_rect rect,
			      int64_t now_ns);

enum dp_settle_phase {
	DP_SETTLE_PHASE_RESPONSE,
	DP_SETTLE_PHASE_QUIET,
	DP_SETTLE_PHASE_DONE,
};

struct dp_settle_tracker {
	struct dp_settle_options opts;
	struct dp_damage_history *history; /* may be NULL */
	enum dp_settle_phase phase;
	int64_t start_ns;
	int64_t quiet_since_ns;   /* absolute; start of the current candidate quiet window */
	struct dp_rect window;    /* small damage inside the current quiet window */
	struct dp_settle_result result;
};

/* Starts a wait at now_ns.  Options out of range are clamped. */
void dp_settle_tracker_start(struct dp_settle_tracker *tracker, const struct dp_settle_options *opts,
			     struct dp_damage_history *history, int64_t now_ns);

/* One damaged rectangle (screen coordinates) that arrived at now_ns. */
void dp_settle_tracker_damage(struct dp_settle_tracker *tracker, struct dp_rect rect, int64_t now_ns);

/* Returns true when the wait is over (tracker->result holds the verdict);
 * otherwise sets *deadline_ns to when to ask again if no damage arrives. */
bool dp_settle_tracker_check(struct dp_settle_tracker *tracker, int64_t now_ns, int64_t *deadline_ns);
