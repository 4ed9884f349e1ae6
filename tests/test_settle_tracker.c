/* The settle rules on a synthetic clock: order and outcome only. */
#include "capture/settle.h"
#include "tst.h"

#define MS(n) ((int64_t)(n) * 1000000)

static const struct dp_rect big = { 100, 100, 300, 200 };
static const struct dp_rect caret = { 40, 300, 2, 20 };

static struct dp_settle_options options(bool expect_change)
{
	struct dp_settle_options o;

	dp_settle_options_default(&o);
	o.expect_change = expect_change;
	o.response_ms = 2000;
	o.quiet_ms = 100;
	o.timeout_ms = 5000;
	return o;
}

/* Runs the tracker to its verdict, feeding damage at the given times and
 * jumping the clock to each deadline in between, as a real source would. */
static int64_t run(struct dp_settle_tracker *t, const int64_t *times, const struct dp_rect *rects, size_t n)
{
	int64_t now = 0, deadline = 0;
	size_t i = 0;

	for (;;) {
		if (dp_settle_tracker_check(t, now, &deadline))
			return now;
		if (i < n && times[i] < deadline) {
			now = times[i];
			dp_settle_tracker_damage(t, rects[i], now);
			i++;
		} else {
			now = deadline;
		}
	}
}

static void test_late_response_then_quiet(void)
{
	struct dp_settle_options o = options(true);
	struct dp_settle_tracker t;
	int64_t times[] = { MS(700), MS(760), MS(820) };
	struct dp_rect rects[] = { big, big, big };
	int64_t end;

	dp_settle_tracker_start(&t, &o, NULL, 0);
	end = run(&t, times, rects, 3);
	TST_EQ_INT(t.result.outcome, DP_SETTLE_SETTLED);
	TST_EQ_INT(t.result.first_damage_ns, MS(700));
	TST_EQ_INT(t.result.last_damage_ns, MS(820));
	TST_EQ_INT(end, MS(920)); /* the last draw plus the quiet window, not sooner */
	TST_EQ_INT(t.result.events, 3);
}

static void test_nothing_drawn_is_no_effect(void)
{
	struct dp_settle_options o = options(true);
	struct dp_settle_tracker t;

	dp_settle_tracker_start(&t, &o, NULL, 0);
	TST_EQ_INT(run(&t, NULL, NULL, 0), MS(2000));
	TST_EQ_INT(t.result.outcome, DP_SETTLE_NO_EFFECT);
	TST_EQ_INT(t.result.first_damage_ns, -1);
}

static void test_no_change_expected_waits_only_for_quiet(void)
{
	struct dp_settle_options o = options(false);
	struct dp_settle_tracker t;

	dp_settle_tracker_start(&t, &o, NULL, 0);
	TST_EQ_INT(run(&t, NULL, NULL, 0), MS(100));
	TST_EQ_INT(t.result.outcome, DP_SETTLE_SETTLED);
}

static void test_blinking_caret_does_not_hold_quiet(void)
{
	struct dp_settle_options o = options(true);
	struct dp_settle_tracker t;
	int64_t times[] = { MS(300), MS(330), MS(360), MS(390), MS(420), MS(450), MS(480) };
	struct dp_rect rects[] = { big, caret, caret, caret, caret, caret, caret };

	dp_settle_tracker_start(&t, &o, NULL, 0);
	TST_EQ_INT(run(&t, times, rects, 7), MS(400));
	TST_EQ_INT(t.result.outcome, DP_SETTLE_SETTLED);
	TST_EQ_INT(t.result.ignored, 3); /* the carets at 330-390 ms; settled before the rest */
}

static void test_small_changes_far_apart_do_count(void)
{
	struct dp_settle_options o = options(true);
	struct dp_settle_tracker t;
	/* Two carets far apart span a large box: that is real activity. */
	struct dp_rect far = { 1500, 900, 2, 20 };
	int64_t times[] = { MS(300), MS(350), MS(380) };
	struct dp_rect rects[] = { big, caret, far };

	dp_settle_tracker_start(&t, &o, NULL, 0);
	TST_EQ_INT(run(&t, times, rects, 3), MS(480));
	TST_EQ_INT(t.result.last_damage_ns, MS(380));
}

static void test_endless_animation_is_still_changing(void)
{
	struct dp_settle_options o = options(true);
	struct dp_settle_tracker t;
	int64_t times[400];
	struct dp_rect rects[400];

	for (int i = 0; i < 400; i++) {
		times[i] = MS(16 * (i + 1));
		rects[i] = (struct dp_rect){ 400, 40, 200, 200 };
	}
	dp_settle_tracker_start(&t, &o, NULL, 0);
	TST_EQ_INT(run(&t, times, rects, 400), MS(5000));
	TST_EQ_INT(t.result.outcome, DP_SETTLE_STILL_CHANGING);
	TST_EQ_INT(t.result.changing.x, 400);
	TST_EQ_INT(t.result.changing.width, 200);
}

static void test_known_caret_is_not_a_response(void)
{
	struct dp_settle_options o = options(true);
	struct dp_damage_history history = { 0 };
	struct dp_settle_tracker t;
	int64_t times[] = { MS(1500) };
	struct dp_rect rects[] = { caret };

	/* The caret blinked before the action: its next blink is no answer. */
	dp_damage_history_add(&history, caret, -MS(500));
	dp_settle_tracker_start(&t, &o, &history, 0);
	TST_EQ_INT(run(&t, times, rects, 1), MS(2000));
	TST_EQ_INT(t.result.outcome, DP_SETTLE_NO_EFFECT);

	/* A small change somewhere new (a typed character) is one. */
	struct dp_rect glyph = { 600, 300, 8, 14 };

	rects[0] = glyph;
	dp_settle_tracker_start(&t, &o, &history, 0);
	TST_EQ_INT(run(&t, times, rects, 1), MS(1600));
	TST_EQ_INT(t.result.outcome, DP_SETTLE_SETTLED);
}

static void test_out_of_range_options_are_clamped(void)
{
	struct dp_settle_options o = options(true);
	struct dp_settle_tracker t;

	o.quiet_ms = 0;
	o.timeout_ms = 10; /* shorter than the response window */
	o.small_area = -5;
	dp_settle_tracker_start(&t, &o, NULL, 0);
	TST_EQ_INT(t.opts.quiet_ms, 1);
	TST_EQ_INT(t.opts.timeout_ms, 2001);
	TST_EQ_INT(t.opts.small_area, 0);
}

int main(void)
{
	TST_RUN(test_late_response_then_quiet);
	TST_RUN(test_nothing_drawn_is_no_effect);
	TST_RUN(test_no_change_expected_waits_only_for_quiet);
	TST_RUN(test_blinking_caret_does_not_hold_quiet);
	TST_RUN(test_small_changes_far_apart_do_count);
	TST_RUN(test_endless_animation_is_still_changing);
	TST_RUN(test_known_caret_is_not_a_response);
	TST_RUN(test_out_of_range_options_are_clamped);
	TST_EXIT();
}
