/* X11 capture against a real Xvfb: pixels exactly as the probe painted
 * them, through MIT-SHM and through the GetImage fallback; regions; the
 * pointer; damage since the previous grab. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>

#include <xcb/xcb.h>

#include "apps/probe_pattern.h"
#include "capture/capture.h"
#include "harness/xvfb.h"
#include "tst.h"

static struct dp_xvfb xvfb;
static struct dp_probe probe;

static long mismatches(const struct dp_frame *f, uint32_t stamp_counter)
{
	return dp_probe_mismatches(&probe, f, stamp_counter);
}

static struct dp_capture *open_capture(bool no_shm)
{
	struct dp_capture_config config = { .display = xvfb.display, .no_shm = no_shm };
	struct dp_capture *cap = NULL;
	struct dp_error err = { 0 };
	int r = dp_capture_create(&cap, &config, &err);

	if (r < 0)
		fprintf(stderr, "capture: %s\n", err.message);
	return cap;
}

static void test_full_screen_is_exact(void)
{
	struct dp_capture *cap = open_capture(false);
	struct dp_frame frame;

	TST_REQUIRE(cap);
	TST_EQ_INT(dp_capture_grab(cap, NULL, 0, &frame, NULL), 0);
	TST_EQ_INT(frame.width, 1920);
	TST_EQ_INT(frame.height, 1080);
	TST_CHECK(frame.stride >= 1920 * 4);
	TST_EQ_INT(frame.sequence, 1);
	TST_EQ_INT(mismatches(&frame, 1), 0);
	TST_EQ_INT(dp_capture_grab(cap, NULL, 0, &frame, NULL), 0);
	TST_EQ_INT(frame.sequence, 2);
	dp_capture_destroy(cap);
}

static void test_getimage_fallback_is_exact(void)
{
	struct dp_capture *cap = open_capture(true);
	struct dp_frame frame;

	TST_REQUIRE(cap);
	TST_EQ_INT(dp_capture_grab(cap, NULL, 0, &frame, NULL), 0);
	TST_EQ_INT(mismatches(&frame, 1), 0);
	dp_capture_destroy(cap);
}

static void test_region_is_exact(void)
{
	struct dp_capture *cap = open_capture(false);
	struct dp_rect region = { 1001, 333, 517, 211 };
	struct dp_frame frame;

	TST_REQUIRE(cap);
	TST_EQ_INT(dp_capture_grab(cap, &region, 0, &frame, NULL), 0);
	TST_EQ_INT(frame.x, 1001);
	TST_EQ_INT(frame.y, 333);
	TST_EQ_INT(frame.width, 517);
	TST_EQ_INT(frame.height, 211);
	TST_EQ_INT(mismatches(&frame, 1), 0);
	dp_capture_destroy(cap);
}

static void test_region_off_screen_is_refused(void)
{
	struct dp_capture *cap = open_capture(false);
	struct dp_rect region = { 1800, 0, 200, 100 };
	struct dp_error err = { 0 };
	struct dp_frame frame;

	TST_REQUIRE(cap);
	TST_EQ_INT(dp_capture_grab(cap, &region, 0, &frame, &err), -ERANGE);
	TST_CHECK(strstr(err.message, "200x100+1800+0") && strstr(err.message, "1920x1080"));
	dp_capture_destroy(cap);
}

static void test_cursor_is_drawn_on_request(void)
{
	struct dp_capture *cap = open_capture(false);
	xcb_connection_t *conn = xcb_connect(xvfb.display, NULL);
	xcb_screen_t *screen = xcb_setup_roots_iterator(xcb_get_setup(conn)).data;
	struct dp_rect around = { 480, 480, 64, 64 };
	struct dp_frame frame;

	TST_REQUIRE(cap);
	xcb_warp_pointer(conn, XCB_NONE, screen->root, 0, 0, 0, 0, 500, 500);
	free(xcb_get_input_focus_reply(conn, xcb_get_input_focus(conn), NULL));

	TST_EQ_INT(dp_capture_grab(cap, &around, 0, &frame, NULL), 0);
	TST_CHECK(!frame.cursor_drawn);
	TST_EQ_INT(mismatches(&frame, 1), 0);
	TST_EQ_INT(dp_capture_grab(cap, &around, DP_GRAB_CURSOR, &frame, NULL), 0);
	TST_CHECK(frame.cursor_drawn);
	/* The pointer changed pixels next to its hotspot, not elsewhere. */
	TST_CHECK(mismatches(&frame, 1) > 0);
	for (int y = 0; y < 8; y++)
		TST_EQ_INT(dp_frame_pixel(&frame, 0, y), dp_probe_pattern(480, 480 + y));
	xcb_disconnect(conn);
	dp_capture_destroy(cap);
}

static void test_frame_reports_damage_since_previous_grab(void)
{
	struct dp_capture *cap = open_capture(false);
	struct dp_frame frame;
	char line[256];

	TST_REQUIRE(cap);
	TST_EQ_INT(dp_capture_grab(cap, NULL, 0, &frame, NULL), 0);
	dp_probe_send(&probe, "fill 600 500 100 50 ff0000");
	TST_REQUIRE(dp_probe_wait(&probe, "draw", 5000, line, sizeof(line)) == 0);
	TST_EQ_INT(dp_capture_grab(cap, NULL, 0, &frame, NULL), 0);
	/* The fill and the counter stamp in the corner. */
	TST_CHECK(frame.damage.x <= 600 && frame.damage.y <= 500);
	TST_CHECK(frame.damage.x + frame.damage.width >= 700 && frame.damage.y + frame.damage.height >= 550);
	TST_EQ_INT(dp_frame_pixel(&frame, 650, 520), 0xff0000);
	TST_EQ_INT(dp_frame_pixel(&frame, 0, 0), dp_probe_stamp_color((uint32_t)dp_json_int(line, "counter")));
	/* Nothing drawn since: no damage. */
	TST_EQ_INT(dp_capture_grab(cap, NULL, 0, &frame, NULL), 0);
	TST_CHECK(dp_rect_empty(frame.damage));
	dp_probe_send(&probe, "pattern");
	TST_REQUIRE(dp_probe_wait(&probe, "draw", 5000, line, sizeof(line)) == 0);
	dp_capture_destroy(cap);
}

static void test_geometry_of_one_screen(void)
{
	struct dp_capture *cap = open_capture(false);
	struct dp_geometry g;

	TST_REQUIRE(cap);
	TST_EQ_INT(dp_capture_geometry(cap, &g, NULL), 0);
	TST_EQ_INT(g.width, 1920);
	TST_EQ_INT(g.height, 1080);
	TST_EQ_INT(g.n_monitors, 1);
	TST_EQ_INT(g.monitors[0].rect.width, 1920);
	TST_EQ_INT(g.monitors[0].rect.height, 1080);
	dp_capture_destroy(cap);
}

int main(void)
{
	int r;

	signal(SIGPIPE, SIG_IGN);
	r = dp_xvfb_start(&xvfb, 1920, 1080, NULL);
	if (r < 0) {
		fprintf(stderr, "cannot start Xvfb: %s\n", strerror(-r));
		return TST_SKIP;
	}
	r = dp_probe_start(&probe, &xvfb, 0, 0, 1920, 1080);
	if (r < 0) {
		fprintf(stderr, "cannot start the probe: %s\n", strerror(-r));
		dp_xvfb_stop(&xvfb);
		return EXIT_FAILURE;
	}
	TST_RUN(test_full_screen_is_exact);
	TST_RUN(test_getimage_fallback_is_exact);
	TST_RUN(test_region_is_exact);
	TST_RUN(test_region_off_screen_is_refused);
	TST_RUN(test_cursor_is_drawn_on_request);
	TST_RUN(test_frame_reports_damage_since_previous_grab);
	TST_RUN(test_geometry_of_one_screen);
	dp_probe_stop(&probe);
	dp_xvfb_stop(&xvfb);
	TST_EXIT();
}
