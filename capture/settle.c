#include "settle.h"

#include <string.h>

#include "engine/clock.h"

static int32_t clamp32(int32_t v, int32_t lo, int32_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

void dp_settle_options_default(struct dp_settle_options *opts)
{
	*opts = (struct dp_settle_options){
		.expect_change = true,
		.response_ms = 2000,
		.quiet_ms = 75,
		.timeout_ms = 10000,
		.small_area = 32 * 32,
		.interrupt_fd = -1,
	};
}

const char *dp_settle_outcome_name(enum dp_settle_outcome outcome)
{
	switch (outcome) {
	case DP_SETTLE_SETTLED: return "settled";
	case DP_SETTLE_NO_EFFECT: return "no visible effect";
	case DP_SETTLE_STILL_CHANGING: return "still changing";
	}
	return "unknown";
}

void dp_damage_history_add(struct dp_damage_history *history, struct dp_rect rect, int64_t now_ns)
{
	uint32_t slot = history->next++ % DP_DAMAGE_HISTORY_SIZE;

	history->rects[slot] = rect;
	history->times[slot] = now_ns;
}

bool dp_damage_history_covers(const struct dp_damage_history *history, struct dp_rect rect,
			      int64_t now_ns)
{
	for (uint32_t i = 0; i < DP_DAMAGE_HISTORY_SIZE; i++) {
		if (dp_rect_empty(history->rects[i]) || now_ns - history->times[i] > DP_DAMAGE_HISTORY_NS)
			continue;
		if (!dp_rect_empty(dp_rect_intersect(history->rects[i], rect)))
			return true;
	}
	return false;
}

void dp_settle_tracker_start(struct dp_settle_tracker *tracker, const struct dp_settle_options *opts,
			     struct dp_damage_history *history, int64_t now_ns)
{
	memset(tracker, 0, sizeof(*tracker));
	tracker->opts = *opts;
	tracker->opts.response_ms = clamp32(opts->response_ms, 0, 600000);
	tracker->opts.quiet_ms = clamp32(opts->quiet_ms, 1, 60000);
	/* Quiet must be possible after the response window, or every wait
	 * with a late response would end as "still changing". */
	tracker->opts.timeout_ms = clamp32(opts->timeout_ms,
					   tracker->opts.response_ms + tracker->opts.quiet_ms, 3600000);
	if (tracker->opts.small_area < 0)
		tracker->opts.small_area = 0;
	tracker->history = history;
	tracker->start_ns = now_ns;
	tracker->quiet_since_ns = now_ns;
	tracker->phase = opts->expect_change ? DP_SETTLE_PHASE_RESPONSE : DP_SETTLE_PHASE_QUIET;
	tracker->result.first_damage_ns = -1;
	tracker->result.last_damage_ns = -1;
}

static bool is_small(const struct dp_settle_tracker *tracker, struct dp_rect rect)
{
	return dp_rect_area(rect) < tracker->opts.small_area;
}

static void count_damage(struct dp_settle_tracker *tracker, struct dp_rect rect, int64_t now_ns)
{
	int64_t since_start = now_ns - tracker->start_ns;
	int64_t end_ns = tracker->start_ns + (int64_t)tracker->opts.timeout_ms * DP_NSEC_PER_MSEC;
	/* "Where it kept changing" is the damage of the last stretch before
	 * the timeout: two quiet windows, at least a quarter second. */
	int64_t tail_ns = 2 * (int64_t)tracker->opts.quiet_ms * DP_NSEC_PER_MSEC;

	if (tail_ns < 250 * DP_NSEC_PER_MSEC)
		tail_ns = 250 * DP_NSEC_PER_MSEC;
	if (tracker->result.first_damage_ns < 0)
		tracker->result.first_damage_ns = since_start;
	tracker->result.last_damage_ns = since_start;
	tracker->result.damage = dp_rect_union(tracker->result.damage, rect);
	if (now_ns >= end_ns - tail_ns)
		tracker->result.changing = dp_rect_union(tracker->result.changing, rect);
	tracker->quiet_since_ns = now_ns;
	tracker->window = (struct dp_rect){ 0, 0, 0, 0 };
}

void dp_settle_tracker_damage(struct dp_settle_tracker *tracker, struct dp_rect rect, int64_t now_ns)
{
	struct dp_rect grown;

	if (tracker->phase == DP_SETTLE_PHASE_DONE || dp_rect_empty(rect))
		return;
	tracker->result.events++;
	if (tracker->phase == DP_SETTLE_PHASE_RESPONSE) {
		/* Small damage where small damage was seen before the action
		 * is background (a caret blinking), not the app's reaction. */
		bool background = is_small(tracker, rect) && tracker->history &&
				  dp_damage_history_covers(tracker->history, rect, now_ns);

		if (tracker->history && is_small(tracker, rect))
			dp_damage_history_add(tracker->history, rect, now_ns);
		if (background) {
			tracker->result.ignored++;
			return;
		}
		tracker->phase = DP_SETTLE_PHASE_QUIET;
		count_damage(tracker, rect, now_ns);
		return;
	}
	if (tracker->history && is_small(tracker, rect))
		dp_damage_history_add(tracker->history, rect, now_ns);
	/* In the quiet phase, damage breaks the quiet only once everything
	 * damaged within the current window spans small_area or more. */
	grown = dp_rect_union(tracker->window, rect);
	if (is_small(tracker, grown)) {
		tracker->window = grown;
		tracker->result.ignored++;
		return;
	}
	count_damage(tracker, rect, now_ns);
}

static bool finish(struct dp_settle_tracker *tracker, enum dp_settle_outcome outcome, int64_t now_ns)
{
	tracker->phase = DP_SETTLE_PHASE_DONE;
	tracker->result.outcome = outcome;
	tracker->result.elapsed_ns = now_ns - tracker->start_ns;
	return true;
}

bool dp_settle_tracker_check(struct dp_settle_tracker *tracker, int64_t now_ns, int64_t *deadline_ns)
{
	int64_t response_end = tracker->start_ns + (int64_t)tracker->opts.response_ms * DP_NSEC_PER_MSEC;
	int64_t end = tracker->start_ns + (int64_t)tracker->opts.timeout_ms * DP_NSEC_PER_MSEC;
	int64_t quiet_end;

	switch (tracker->phase) {
	case DP_SETTLE_PHASE_DONE:
		return true;
	case DP_SETTLE_PHASE_RESPONSE:
		if (now_ns >= response_end)
			return finish(tracker, DP_SETTLE_NO_EFFECT, now_ns);
		*deadline_ns = response_end;
		return false;
	case DP_SETTLE_PHASE_QUIET:
		quiet_end = tracker->quiet_since_ns + (int64_t)tracker->opts.quiet_ms * DP_NSEC_PER_MSEC;
		if (now_ns >= quiet_end)
			return finish(tracker, DP_SETTLE_SETTLED, now_ns);
		if (now_ns >= end)
			return finish(tracker, DP_SETTLE_STILL_CHANGING, now_ns);
		*deadline_ns = quiet_end < end ? quiet_end : end;
		return false;
	}
	return true;
}
