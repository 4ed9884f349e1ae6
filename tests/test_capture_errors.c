/* Bad situations end in clear errors, never a crash: no DISPLAY, a display
 * nobody serves, a server killed mid-capture (and back again), a server
 * without DAMAGE or MIT-SHM. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "capture/capture.h"
#include "harness/xvfb.h"
#include "tst.h"

static void test_no_display(void)
{
	struct dp_capture_config config = { 0 };
	struct dp_capture *cap = NULL;
	struct dp_error err = { 0 };
	char *saved = getenv("DISPLAY") ? strdup(getenv("DISPLAY")) : NULL;

	unsetenv("DISPLAY");
	TST_EQ_INT(dp_capture_create(&cap, &config, &err), -EDESTADDRREQ);
	TST_CHECK(cap == NULL);
	TST_CHECK(strstr(err.message, "DISPLAY is not set") != NULL);
	if (saved) {
		setenv("DISPLAY", saved, 1);
		free(saved);
	}
}

static void test_display_nobody_serves(void)
{
	struct dp_capture_config config = { .display = ":4711" };
	struct dp_capture *cap = NULL;
	struct dp_error err = { 0 };

	TST_EQ_INT(dp_capture_create(&cap, &config, &err), -ECONNREFUSED);
	TST_CHECK(cap == NULL);
	TST_CHECK(strstr(err.message, ":4711") && strstr(err.message, "Xvfb"));
}

static void test_server_killed_mid_capture_then_back(void)
{
	struct dp_xvfb xvfb, again;
	struct dp_capture_config config = { 0 };
	struct dp_capture *cap = NULL;
	struct dp_settle_result res;
	struct dp_error err = { 0 };
	struct dp_frame frame;
	char number[16];
	const char *same_display[] = { number, NULL };
	int r;

	TST_REQUIRE(dp_xvfb_start(&xvfb, 800, 600, NULL) == 0);
	config.display = xvfb.display;
	TST_REQUIRE(dp_capture_create(&cap, &config, &err) == 0);
	TST_EQ_INT(dp_capture_grab(cap, NULL, 0, &frame, &err), 0);

	kill(xvfb.pid, SIGKILL);
	waitpid(xvfb.pid, NULL, 0);
	r = dp_capture_grab(cap, NULL, 0, &frame, &err);
	TST_CHECK(r == -EPIPE || r == -ECONNREFUSED);
	TST_CHECK(strstr(err.message, xvfb.display) != NULL);
	/* Still down: each call says so, none crashes. */
	TST_EQ_INT(dp_capture_settle(cap, NULL, &res, &err), -ECONNREFUSED);
	TST_EQ_INT(dp_capture_grab(cap, NULL, 0, &frame, &err), -ECONNREFUSED);

	/* The server comes back on the same display: the source reconnects. */
	snprintf(number, sizeof(number), "%s", xvfb.display);
	TST_REQUIRE(dp_xvfb_start(&again, 1024, 768, same_display) == 0);
	TST_EQ_INT(dp_capture_grab(cap, NULL, 0, &frame, &err), 0);
	TST_EQ_INT(frame.width, 1024);
	TST_EQ_INT(frame.height, 768);
	dp_capture_destroy(cap);
	dp_xvfb_stop(&again);
}

static void test_server_without_damage(void)
{
	const char *no_damage[] = { "-extension", "DAMAGE", NULL };
	struct dp_xvfb xvfb;
	struct dp_capture_config config = { 0 };
	struct dp_capture *cap = NULL;
	struct dp_settle_result res;
	struct dp_error err = { 0 };
	struct dp_frame frame;

	TST_REQUIRE(dp_xvfb_start(&xvfb, 640, 480, no_damage) == 0);
	config.display = xvfb.display;
	TST_REQUIRE(dp_capture_create(&cap, &config, &err) == 0);
	TST_EQ_INT(dp_capture_grab(cap, NULL, 0, &frame, &err), 0);
	TST_EQ_INT(dp_capture_settle(cap, NULL, &res, &err), -ENOTSUP);
	TST_CHECK(strstr(err.message, "+extension DAMAGE") != NULL);
	dp_capture_destroy(cap);
	dp_xvfb_stop(&xvfb);
}

static void test_server_without_shm_still_grabs(void)
{
	const char *no_shm[] = { "-extension", "MIT-SHM", NULL };
	struct dp_xvfb xvfb;
	struct dp_capture_config config = { 0 };
	struct dp_capture *cap = NULL;
	struct dp_error err = { 0 };
	struct dp_frame frame;

	TST_REQUIRE(dp_xvfb_start(&xvfb, 640, 480, no_shm) == 0);
	config.display = xvfb.display;
	TST_REQUIRE(dp_capture_create(&cap, &config, &err) == 0);
	TST_EQ_INT(dp_capture_grab(cap, NULL, 0, &frame, &err), 0);
	TST_EQ_INT(frame.width, 640);
	dp_capture_destroy(cap);
	dp_xvfb_stop(&xvfb);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	TST_RUN(test_no_display);
	TST_RUN(test_display_nobody_serves);
	TST_RUN(test_server_killed_mid_capture_then_back);
	TST_RUN(test_server_without_damage);
	TST_RUN(test_server_without_shm_still_grabs);
	TST_EXIT();
}
