/* A two-monitor RandR layout on a 3840x1080 Xvfb: both monitors reported
 * with their names and rectangles, and a monitor's grab is exact. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/uio.h>

#include <xcb/randr.h>
#include <xcb/xcbext.h>

#include "capture/capture.h"
#include "harness/xvfb.h"
#include "tst.h"

static struct dp_xvfb xvfb;
static struct dp_probe probe;

/* RandR 1.5 SetMonitor, sent by hand: libxcb 1.15's generated
 * xcb_randr_set_monitor() miscounts the request length.  The server drops
 * a client's monitors when it disconnects, so conn must stay open. */
static int set_monitor(xcb_connection_t *conn, xcb_window_t root, const char *name, struct dp_rect r,
		       bool primary, xcb_randr_output_t output)
{
	xcb_intern_atom_reply_t *atom =
		xcb_intern_atom_reply(conn, xcb_intern_atom(conn, 0, (uint16_t)strlen(name), name), NULL);
	struct {
		uint32_t header; /* filled in by xcb */
		xcb_window_t window;
		xcb_randr_monitor_info_t info;
		xcb_randr_output_t outputs[1];
	} req = { 0 };
	struct iovec parts[3];
	xcb_protocol_request_t proto = { .count = 1, .ext = &xcb_randr_id, .opcode = XCB_RANDR_SET_MONITOR,
					 .isvoid = 1 };
	xcb_generic_error_t *xerr;
	unsigned int seq;

	if (!atom)
		return -EIO;
	req.window = root;
	req.info.name = atom->atom;
	req.info.primary = primary;
	req.info.nOutput = output ? 1 : 0;
	req.info.x = (int16_t)r.x;
	req.info.y = (int16_t)r.y;
	req.info.width = (uint16_t)r.width;
	req.info.height = (uint16_t)r.height;
	req.info.width_in_millimeters = (uint32_t)r.width * 254 / 960;
	req.info.height_in_millimeters = (uint32_t)r.height * 254 / 960;
	req.outputs[0] = output;
	free(atom);
	parts[2].iov_base = &req;
	parts[2].iov_len = 8 + sizeof(req.info) + (output ? 4 : 0);
	seq = xcb_send_request(conn, XCB_REQUEST_CHECKED, parts + 2, &proto);
	xerr = xcb_request_check(conn, (xcb_void_cookie_t){ seq });
	free(xerr);
	return xerr ? -EIO : 0;
}

static void test_two_monitors(void)
{
	xcb_connection_t *conn = xcb_connect(xvfb.display, NULL);
	xcb_window_t root = xcb_setup_roots_iterator(xcb_get_setup(conn)).data->root;
	xcb_randr_get_screen_resources_current_reply_t *res;
	struct dp_capture_config config = { .display = xvfb.display };
	struct dp_capture *cap = NULL;
	struct dp_geometry g;
	struct dp_frame frame;
	xcb_randr_output_t output;

	free(xcb_randr_query_version_reply(conn, xcb_randr_query_version(conn, 1, 5), NULL));
	res = xcb_randr_get_screen_resources_current_reply(conn, xcb_randr_get_screen_resources_current(conn, root), NULL);
	TST_REQUIRE(res && xcb_randr_get_screen_resources_current_outputs_length(res) > 0);
	output = xcb_randr_get_screen_resources_current_outputs(res)[0];
	free(res);
	/* "left" takes over Xvfb's one output, so its automatic monitor goes. */
	TST_REQUIRE(set_monitor(conn, root, "left", (struct dp_rect){ 0, 0, 1920, 1080 }, true, output) == 0);
	TST_REQUIRE(set_monitor(conn, root, "right", (struct dp_rect){ 1920, 0, 1920, 1080 }, false, 0) == 0);

	TST_REQUIRE(dp_capture_create(&cap, &config, NULL) == 0);
	TST_EQ_INT(dp_capture_geometry(cap, &g, NULL), 0);
	TST_EQ_INT(g.width, 3840);
	TST_EQ_INT(g.n_monitors, 2);
	TST_EQ_STR(g.monitors[0].name, "left");
	TST_CHECK(g.monitors[0].primary);
	TST_EQ_INT(g.monitors[0].rect.x, 0);
	TST_EQ_INT(g.monitors[0].rect.width, 1920);
	TST_EQ_STR(g.monitors[1].name, "right");
	TST_CHECK(!g.monitors[1].primary);
	TST_EQ_INT(g.monitors[1].rect.x, 1920);
	TST_EQ_INT(g.monitors[1].rect.width, 1920);
	TST_EQ_INT(g.monitors[1].rect.height, 1080);

	for (size_t i = 0; i < g.n_monitors; i++) {
		TST_EQ_INT(dp_capture_grab(cap, &g.monitors[i].rect, 0, &frame, NULL), 0);
		TST_EQ_INT(frame.x, g.monitors[i].rect.x);
		TST_EQ_INT(frame.width, 1920);
		TST_EQ_INT(dp_probe_mismatches(&probe, &frame, 1), 0);
	}
	dp_capture_destroy(cap);
	xcb_disconnect(conn);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	if (dp_xvfb_start(&xvfb, 3840, 1080, NULL) < 0)
		return TST_SKIP;
	if (dp_probe_start(&probe, &xvfb, 0, 0, 3840, 1080) < 0) {
		dp_xvfb_stop(&xvfb);
		return EXIT_FAILURE;
	}
	TST_RUN(test_two_monitors);
	dp_probe_stop(&probe);
	dp_xvfb_stop(&xvfb);
	TST_EXIT();
}
