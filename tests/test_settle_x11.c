/* Settle against the probe on a real Xvfb.  Every check is about order
 * and outcome (was the probe's last draw in the settled frame?), never
 * about elapsed time. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>

#include "apps/probe_pattern.h"
#include "capture/capture.h"
#include "harness/xvfb.h"
#include "tst.h"

static struct dp_xvfb xvfb;
static struct dp_probe probe;
static struct dp_capture *cap;

static struct dp_settle_options options(bool expect_change)
{
	struct dp_settle_options o;

	dp_settle_options_default(&o);
	o.expect_change = expect_change;
	o.quiet_ms = 150; /* well above the probe's 20 ms between draws */
	return o;
}

static uint32_t stamp_in_frame(void)
{
	struct dp_rect corner = { (int32_t)probe.x, (int32_t)probe.y, 1, 1 };
	struct dp_frame frame;

	if (dp_capture_grab(cap, &corner, 0, &frame, NULL) < 0)
		return 0;
	return dp_frame_pixel(&frame, 0, 0);
}

static void quiesce(void)
{
	struct dp_settle_options o = options(false);
	struct dp_settle_result res;
	struct dp_frame frame;

	dp_capture_settle(cap, &o, &res, NULL);
	dp_capture_grab(cap, NULL, 0, &frame, NULL);
}

/* A slow app: the reaction comes 300-1500 ms after the action, in three
 * draws.  Settle must return only after the last one is on screen. */
static void test_late_redraw_settles_after_last_draw(void)
{
	struct dp_settle_options o = options(true);
	struct dp_settle_result res;
	char line[256];

	for (int round = 0; round < 3; round++) {
		int delay = 300 + rand() % 1201;
		struct dp_frame frame;

		quiesce();
		TST_EQ_INT(dp_capture_grab(cap, NULL, 0, &frame, NULL), 0);
		dp_probe_send(&probe, "redraw %d 3 20", delay);
		TST_EQ_INT(dp_capture_settle(cap, &o, &res, NULL), 0);
		TST_EQ_INT(res.outcome, DP_SETTLE_SETTLED);
		TST_CHECK(res.first_damage_ns >= 0);
		TST_REQUIRE(dp_probe_wait(&probe, "idle", 5000, line, sizeof(line)) == 0);
		TST_EQ_INT(stamp_in_frame(), dp_probe_stamp_color((uint32_t)dp_json_int(line, "counter")));
	}
}

static void test_blinking_caret_does_not_hold_settle(void)
{
	struct dp_settle_options o = options(true);
	struct dp_settle_result res;
	char line[256];

	dp_probe_send(&probe, "blink 60");
	quiesce();
	dp_probe_send(&probe, "redraw 400 2 20");
	TST_EQ_INT(dp_capture_settle(cap, &o, &res, NULL), 0);
	TST_EQ_INT(res.outcome, DP_SETTLE_SETTLED);
	TST_CHECK(res.ignored > 0); /* the caret was seen, and ignored */
	TST_REQUIRE(dp_probe_wait(&probe, "idle", 5000, line, sizeof(line)) == 0);
	TST_EQ_INT(stamp_in_frame(), dp_probe_stamp_color((uint32_t)dp_json_int(line, "counter")));

	/* With no change expected, the caret alone settles too. */
	o.expect_change = false;
	TST_EQ_INT(dp_capture_settle(cap, &o, &res, NULL), 0);
	TST_EQ_INT(res.outcome, DP_SETTLE_SETTLED);
	dp_probe_send(&probe, "blink 0");
}

static void test_endless_animation_is_still_changing(void)
{
	struct dp_settle_options o = options(true);
	struct dp_settle_result res;
	struct dp_rect animated = { (int32_t)probe.x + 400, (int32_t)probe.y + 40, 200, 200 };
	char line[256];

	quiesce();
	dp_probe_send(&probe, "animate 0");
	o.timeout_ms = 2500;
	TST_EQ_INT(dp_capture_settle(cap, &o, &res, NULL), 0);
	TST_EQ_INT(res.outcome, DP_SETTLE_STILL_CHANGING);
	/* The region that kept changing is the animated square (and the
	 * counter stamp in the corner, which changes with every draw). */
	TST_CHECK(!dp_rect_empty(dp_rect_intersect(res.changing, animated)));
	dp_probe_send(&probe, "stop");
	TST_REQUIRE(dp_probe_wait(&probe, "idle", 5000, line, sizeof(line)) == 0);
}

static void test_nothing_drawn_is_no_visible_effect(void)
{
	struct dp_settle_options o = options(true);
	struct dp_settle_result res;

	quiesce();
	o.response_ms = 600;
	TST_EQ_INT(dp_capture_settle(cap, &o, &res, NULL), 0);
	TST_EQ_INT(res.outcome, DP_SETTLE_NO_EFFECT);
	TST_EQ_INT(res.first_damage_ns, -1);
}

int main(void)
{
	struct dp_capture_config config = { 0 };
	struct dp_error err = { 0 };
	int r;

	signal(SIGPIPE, SIG_IGN);
	srand((unsigned)time(NULL));
	r = dp_xvfb_start(&xvfb, 1920, 1080, NULL);
	if (r < 0) {
		fprintf(stderr, "cannot start Xvfb: %s\n", strerror(-r));
		return TST_SKIP;
	}
	if (dp_probe_start(&probe, &xvfb, 100, 50, 900, 600) < 0) {
		dp_xvfb_stop(&xvfb);
		return EXIT_FAILURE;
	}
	config.display = xvfb.display;
	if (dp_capture_create(&cap, &config, &err) < 0) {
		fprintf(stderr, "%s\n", err.message);
		return EXIT_FAILURE;
	}
	TST_RUN(test_late_redraw_settles_after_last_draw);
	TST_RUN(test_blinking_caret_does_not_hold_settle);
	TST_RUN(test_endless_animation_is_still_changing);
	TST_RUN(test_nothing_drawn_is_no_visible_effect);
	dp_capture_destroy(cap);
	dp_probe_stop(&probe);
	dp_xvfb_stop(&xvfb);
	TST_EXIT();
}
