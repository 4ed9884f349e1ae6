/* The PipeWire frame source against a real PipeWire daemon and session
 * manager: a producer fixture publishes frames whose every pixel is known,
 * and the source must hand over exactly those pixels, whatever the pixel
 * layout and stride, and settle on the damage the frames carry. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "apps/pw_pattern.h"
#include "capture/capture.h"
#include "tests/harness/pipewire.h"
#include "tests/harness/xvfb.h"
#include "tst.h"

#define W 320
#define H 240

static struct dp_pipewire pw;

/* Pixels of frame that differ from what the producer drew: frame n inside
 * rect (all of it when rect is NULL), frame n-1 outside. */
static long mismatches(const struct dp_frame *frame, uint32_t n, const struct dp_rect *rect)
{
	long bad = 0;

	for (int32_t y = 0; y < frame->height; y++)
		for (int32_t x = 0; x < frame->width; x++) {
			bool inside = !rect || (x >= rect->x && x < rect->x + rect->width && y >= rect->y &&
						y < rect->y + rect->height);
			uint32_t want = pw_pattern_rgb(x + frame->x, y + frame->y, inside ? n : n - 1);

			bad += dp_frame_pixel(frame, x, y) != want;
		}
	return bad;
}

static int start_producer(struct dp_probe *producer, const char *const *extra, uint32_t *node)
{
	const char *argv[16] = { getenv("DP_PW_PRODUCER"), "--size", "320x240" };
	size_t n = 3;
	int r;

	for (; extra && *extra && n < 15; extra++)
		argv[n++] = *extra;
	argv[n] = NULL;
	r = dp_app_start(producer, NULL, argv);
	if (r < 0)
		return r;
	*node = (uint32_t)dp_json_int(producer->ready, "node");
	return 0;
}

static int open_source(struct dp_capture **cap, uint32_t node, struct dp_error *err)
{
	struct dp_capture_config cc = { .backend = "pipewire", .pipewire = { .node = node } };

	return dp_capture_create(cap, &cc, err);
}

static int publish(struct dp_probe *producer, const char *command)
{
	char line[512];

	dp_probe_send(producer, "%s\n", command);
	return dp_probe_wait(producer, "frame", 5000, line, sizeof(line));
}

/* The first frame: the session manager links the stream first, which
 * takes a while on a loaded machine, and a frame sent while the consumer
 * is still setting up its buffers is lost; so it is sent again until one
 * arrives, as a compositor repaints for a new consumer. */
static int publish_first(struct dp_probe *producer, struct dp_capture *cap, const char *command)
{
	struct dp_settle_options so;
	struct dp_settle_result sr;
	struct dp_error err = { 0 };

	dp_settle_options_default(&so);
	so.expect_change = true;
	so.response_ms = 3000;
	for (int tries = 0; tries < 6; tries++) {
		if (publish(producer, command) < 0)
			continue;
		if (dp_capture_settle(cap, &so, &sr, &err) < 0) {
			fprintf(stderr, "no first frame: %s\n", err.message);
			return -EIO;
		}
		if (sr.outcome == DP_SETTLE_SETTLED)
			return 0;
	}
	fprintf(stderr, "no first frame after 6 tries\n");
	return -ETIMEDOUT;
}

/* The first frame arrives exactly, for each pixel layout and row stride. */
static void check_exact(const char *const *extra)
{
	struct dp_probe producer;
	struct dp_capture *cap = NULL;
	struct dp_error err = { 0 };
	struct dp_frame frame = { 0 };
	uint32_t node = 0;

	TST_REQUIRE(start_producer(&producer, extra, &node) == 0);
	TST_CHECK(node > 0);
	if (open_source(&cap, node, &err) < 0) {
		fprintf(stderr, "pipewire source: %s\n", err.message);
		TST_CHECK(!"the source opens");
		dp_probe_stop(&producer);
		return;
	}
	TST_CHECK(publish_first(&producer, cap, "frame 1") == 0);
	if (dp_capture_grab(cap, NULL, 0, &frame, &err) < 0)
		fprintf(stderr, "grab: %s\n", err.message);
	TST_REQUIRE(frame.pixels);
	TST_EQ_INT(frame.width, W);
	TST_EQ_INT(frame.height, H);
	TST_EQ_INT(mismatches(&frame, 1, NULL), 0);
	dp_capture_destroy(cap);
	dp_probe_stop(&producer);
}

static void test_bgrx_exact(void)
{
	check_exact(NULL);
}

static void test_rgbx_padded_stride_exact(void)
{
	static const char *const extra[] = { "--format", "RGBx", "--stride-pad", "64", NULL };

	check_exact(extra);
}

static void test_xrgb_zero_stride_exact(void)
{
	static const char *const extra[] = { "--format", "xRGB", "--stride-zero", NULL };

	check_exact(extra);
}

static void test_xbgr_exact(void)
{
	static const char *const extra[] = { "--format", "xBGR", NULL };

	check_exact(extra);
}

/* A partial update: settle reports where it changed (from the damage
 * metadata when the producer sends it, from the pixels otherwise), the
 * grab holds the new pixels there and the old ones elsewhere, and a
 * region grab cuts the same pixels out. */
static void check_partial_update(bool damage_meta)
{
	static const char *const meta[] = { "--damage-meta", NULL };
	const struct dp_rect rect = { 40, 50, 30, 20 };
	struct dp_probe producer;
	struct dp_capture *cap = NULL;
	struct dp_error err = { 0 };
	struct dp_settle_options so;
	struct dp_settle_result sr;
	struct dp_frame frame;
	uint32_t node = 0;

	TST_REQUIRE(start_producer(&producer, damage_meta ? meta : NULL, &node) == 0);
	if (open_source(&cap, node, &err) < 0) {
		fprintf(stderr, "pipewire source: %s\n", err.message);
		TST_CHECK(!"the source opens");
		dp_probe_stop(&producer);
		return;
	}
	TST_CHECK(publish_first(&producer, cap, "frame 1") == 0);
	TST_REQUIRE(dp_capture_grab(cap, NULL, 0, &frame, &err) == 0);
	dp_settle_options_default(&so);
	so.expect_change = true;

	TST_CHECK(publish(&producer, "frame 2 40 50 30 20") == 0);
	TST_REQUIRE(dp_capture_settle(cap, &so, &sr, &err) == 0);
	TST_EQ_INT(sr.outcome, DP_SETTLE_SETTLED);
	if (damage_meta) {
		TST_EQ_INT(sr.damage.x, rect.x);
		TST_EQ_INT(sr.damage.y, rect.y);
		TST_EQ_INT(sr.damage.width, rect.width);
		TST_EQ_INT(sr.damage.height, rect.height);
	} else {
		/* From the 16x16 block diff: the blocks holding the rectangle. */
		TST_EQ_INT(sr.damage.x, 32);
		TST_EQ_INT(sr.damage.y, 48);
		TST_EQ_INT(sr.damage.width, 48);
		TST_EQ_INT(sr.damage.height, 32);
	}
	TST_REQUIRE(dp_capture_grab(cap, NULL, 0, &frame, &err) == 0);
	TST_EQ_INT(mismatches(&frame, 2, &rect), 0);
	TST_CHECK(!dp_rect_empty(frame.damage));

	TST_REQUIRE(dp_capture_grab(cap, &rect, 0, &frame, &err) == 0);
	TST_EQ_INT(frame.x, rect.x);
	TST_EQ_INT(frame.width, rect.width);
	TST_EQ_INT(mismatches(&frame, 2, NULL), 0);
	/* Nothing new since: no damage, and no effect when one was expected. */
	TST_CHECK(dp_rect_empty(frame.damage));
	so.response_ms = 300;
	TST_CHECK(dp_capture_settle(cap, &so, &sr, &err) == 0);
	TST_EQ_INT(sr.outcome, DP_SETTLE_NO_EFFECT);
	dp_capture_destroy(cap);
	dp_probe_stop(&producer);
}

static void test_partial_update_with_damage_meta(void)
{
	check_partial_update(true);
}

static void test_partial_update_by_pixels(void)
{
	check_partial_update(false);
}

/* A producer that sends the same picture again (a fixed cadence) is not
 * a change: the screen counts as settled. */
static void test_repeated_frames_are_quiet(void)
{
	struct dp_probe producer;
	struct dp_capture *cap = NULL;
	struct dp_error err = { 0 };
	struct dp_settle_options so;
	struct dp_settle_result sr;
	uint32_t node = 0;

	TST_REQUIRE(start_producer(&producer, NULL, &node) == 0);
	TST_REQUIRE(open_source(&cap, node, &err) == 0);
	TST_CHECK(publish_first(&producer, cap, "frame 5") == 0);
	dp_settle_options_default(&so);
	for (int i = 0; i < 5; i++)
		TST_CHECK(publish(&producer, "frame 5") == 0);
	so.expect_change = true;
	so.response_ms = 300;
	TST_CHECK(dp_capture_settle(cap, &so, &sr, &err) == 0);
	TST_EQ_INT(sr.outcome, DP_SETTLE_NO_EFFECT);
	dp_capture_destroy(cap);
	dp_probe_stop(&producer);
}

/* The producer goes away: grab and settle say so, nothing crashes. */
static void test_producer_vanishes(void)
{
	struct dp_probe producer;
	struct dp_capture *cap = NULL;
	struct dp_error err = { 0 };
	struct dp_settle_options so;
	struct dp_settle_result sr;
	struct dp_frame frame;
	uint32_t node = 0;
	int r = 0;

	TST_REQUIRE(start_producer(&producer, NULL, &node) == 0);
	TST_REQUIRE(open_source(&cap, node, &err) == 0);
	TST_CHECK(publish_first(&producer, cap, "frame 1") == 0);
	TST_CHECK(dp_capture_grab(cap, NULL, 0, &frame, &err) == 0);
	kill(producer.pid, SIGKILL);
	dp_probe_stop(&producer);
	dp_settle_options_default(&so);
	so.expect_change = true;
	so.response_ms = 2000;
	r = dp_capture_settle(cap, &so, &sr, &err);
	TST_CHECK(r == -EPIPE || (r == 0 && sr.outcome == DP_SETTLE_NO_EFFECT));
	if (r < 0)
		TST_CHECK(strstr(err.message, "node") != NULL);
	dp_capture_destroy(cap);
}

/* No such node: a clear error, not a hang. */
static void test_missing_node(void)
{
	struct dp_capture *cap = NULL;
	struct dp_error err = { 0 };
	struct dp_frame frame;

	TST_REQUIRE(open_source(&cap, 999999, &err) == 0);
	TST_CHECK(dp_capture_grab(cap, NULL, 0, &frame, &err) < 0);
	TST_CHECK(strstr(err.message, "999999") != NULL);
	dp_capture_destroy(cap);
}

int main(void)
{
	int r;

	if (!getenv("DP_PW_PRODUCER")) {
		fprintf(stderr, "DP_PW_PRODUCER is not set\n");
		return EXIT_FAILURE;
	}
	r = dp_pipewire_start(&pw);
	if (r == -ENOENT) {
		fprintf(stderr, "skipped: pipewire or wireplumber is not installed (scripts/deps test)\n");
		return TST_SKIP;
	}
	if (r < 0) {
		fprintf(stderr, "cannot start a private PipeWire: %s\n", strerror(-r));
		return EXIT_FAILURE;
	}
	TST_RUN(test_bgrx_exact);
	TST_RUN(test_rgbx_padded_stride_exact);
	TST_RUN(test_xrgb_zero_stride_exact);
	TST_RUN(test_xbgr_exact);
	TST_RUN(test_partial_update_with_damage_meta);
	TST_RUN(test_partial_update_by_pixels);
	TST_RUN(test_repeated_frames_are_quiet);
	TST_RUN(test_producer_vanishes);
	TST_RUN(test_missing_node);
	dp_pipewire_stop(&pw);
	TST_EXIT();
}
