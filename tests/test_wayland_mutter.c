/* deskpilot on GNOME Wayland, end to end on a real headless mutter: a
 * remote-desktop session through mutter's own D-Bus API gives the monitor
 * as a PipeWire stream and takes input; a GTK app in a Wayland window must
 * show up in the frames and receive exactly the clicks and text sent, text
 * outside the keyboard layout included (through the clipboard).
 *
 * mutter refuses to run as root, so as root the test re-runs itself as
 * nobody (setpriv) in a directory of its own. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "actuators/actuator.h"
#include "capture/capture.h"
#include "capture/mutter_session.h"
#include "tests/harness/gnome.h"
#include "tests/harness/xvfb.h"
#include "tst.h"

#define MONITOR_W 1280
#define MONITOR_H 720

static struct dp_gnome gnome;
static struct dp_mutter_session *session;
static struct dp_capture *capture;
static struct dp_actuator *actuator;
static struct dp_probe app;

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static int wait_app_event(const char *event, char *line, size_t size)
{
	int r = dp_probe_wait(&app, event, 5000, line, size);

	if (r < 0)
		fprintf(stderr, "no %s from the app; it said: %.*s\n", event, (int)app.len, app.buf ? app.buf : "");
	return r;
}

static void act(const char *json)
{
	struct dp_action a;
	struct dp_action_result res;
	struct dp_error err = { 0 };

	TST_REQUIRE(dp_action_parse(json, strlen(json), &a, &err) == 0);
	if (dp_actuator_perform(actuator, &a, &res, &err) < 0) {
		fprintf(stderr, "%s: %s\n", json, err.message);
		TST_CHECK(!"the action is performed");
	}
	dp_action_clear(&a);
}

/* The monitor arrives through PipeWire, with the app's red area in it. */
static void test_capture_shows_the_app(void)
{
	struct dp_frame frame;
	struct dp_error err = { 0 };
	long red = 0;

	TST_REQUIRE(dp_capture_grab(capture, NULL, 0, &frame, &err) == 0);
	TST_EQ_INT(frame.width, MONITOR_W);
	TST_EQ_INT(frame.height, MONITOR_H);
	for (int y = 0; y < 280; y += 10)
		for (int x = 0; x < MONITOR_W; x += 10)
			red += dp_frame_pixel(&frame, x, y) == 0xff0000;
	/* All of the area's sampled pixels are pure red. */
	TST_EQ_INT(red, 28 * (MONITOR_W / 10));
}

static void test_click_lands_exactly(void)
{
	static const int points[][2] = { { 100, 100 }, { 1217, 33 }, { 640, 250 } };
	char line[512];

	for (size_t i = 0; i < sizeof(points) / sizeof(points[0]); i++) {
		char json[128];

		snprintf(json, sizeof(json), "{\"action\":\"click\",\"x\":%d,\"y\":%d}", points[i][0], points[i][1]);
		act(json);
		TST_REQUIRE(wait_app_event("button", line, sizeof(line)) == 0);
		TST_EQ_INT(dp_json_int(line, "button"), 1);
		TST_EQ_INT(dp_json_int(line, "x"), points[i][0]);
		TST_EQ_INT(dp_json_int(line, "y"), points[i][1]);
	}
	act("{\"action\":\"click\",\"x\":300,\"y\":200,\"button\":\"right\"}");
	TST_REQUIRE(wait_app_event("button", line, sizeof(line)) == 0);
	TST_EQ_INT(dp_json_int(line, "button"), 3);
}

static void type_and_check(const char *json, const char *want)
{
	char text[1024];

	/* Focus the entry the way a person does: click it. */
	act("{\"action\":\"click\",\"x\":640,\"y\":315}");
	act("{\"action\":\"key\",\"keys\":\"ctrl+a\"}");
	act("{\"action\":\"key\",\"keys\":\"BackSpace\"}");
	act(json);
	sleep_ms(300);
	TST_REQUIRE(dp_app_text(&app, text, sizeof(text)) == 0);
	TST_EQ_STR(text, want);
}

/* Text the us layout has goes as keys (Shift added by mutter). */
static void test_type_layout_text(void)
{
	type_and_check("{\"action\":\"type\",\"text\":\"Hello, World! 42 <a@b.c>\"}", "Hello, World! 42 <a@b.c>");
}

/* Text outside it goes through the remote-desktop clipboard. */
static void test_type_text_outside_the_layout(void)
{
	type_and_check("{\"action\":\"type\",\"text\":\"Grüße — 日本語 😀 Ωμέγα\"}", "Grüße — 日本語 😀 Ωμέγα");
}

/* Clicking moves the keyboard focus: to the red area, then back to the
 * entry, where the next text goes. */
static void test_focus_moves_with_clicks(void)
{
	char line[512] = "", text[256];
	int tries = 0;

	act("{\"action\":\"click\",\"x\":50,\"y\":50}");
	/* Earlier tests' focus lines may still be queued: skip to the area's. */
	while (!strstr(line, "\"area\"") && tries++ < 10)
		TST_REQUIRE(wait_app_event("focus", line, sizeof(line)) == 0);
	TST_REQUIRE(strstr(line, "\"area\"") != NULL);
	act("{\"action\":\"click\",\"x\":640,\"y\":315}");
	TST_REQUIRE(wait_app_event("focus", line, sizeof(line)) == 0);
	TST_CHECK(strstr(line, "\"entry\"") != NULL);
	act("{\"action\":\"key\",\"keys\":\"ctrl+a\"}");
	act("{\"action\":\"type\",\"text\":\"focus\"}");
	sleep_ms(300);
	TST_REQUIRE(dp_app_text(&app, text, sizeof(text)) == 0);
	TST_EQ_STR(text, "focus");
}

/* A point off the monitor is refused before anything moves. */
static void test_point_outside_the_screen(void)
{
	static const char click[] = "{\"action\":\"click\",\"x\":1280,\"y\":10}";
	struct dp_action a;
	struct dp_action_result res;
	struct dp_error err = { 0 };

	TST_REQUIRE(dp_action_parse(click, strlen(click), &a, &err) == 0);
	TST_EQ_INT(dp_actuator_perform(actuator, &a, &res, &err), -ERANGE);
	TST_CHECK(strstr(err.message, "outside the screen 0..1279") != NULL);
	dp_action_clear(&a);
}

static void test_window_actions_say_why_not(void)
{
	static const char win[] = "{\"action\":\"window\",\"op\":\"activate\",\"title\":\"x\"}";
	struct dp_action a;
	struct dp_action_result res;
	struct dp_error err = { 0 };

	TST_REQUIRE(dp_action_parse(win, strlen(win), &a, &err) == 0);
	TST_EQ_INT(dp_actuator_perform(actuator, &a, &res, &err), -ENOTSUP);
	TST_CHECK(strstr(err.message, "Wayland") != NULL);
	dp_action_clear(&a);
}

/* The CLI finds the GNOME session by itself (WAYLAND_DISPLAY, mutter on
 * the bus) and works through its own remote-desktop session. */
static void test_cli_chooses_mutter(void)
{
	const char *deskpilot = getenv("DP_DESKPILOT");
	char path[PATH_MAX], out[4096], errs[4096], line[512];

	if (!deskpilot) {
		fprintf(stderr, "skip %s: DP_DESKPILOT is not set\n", __func__);
		return;
	}
	snprintf(path, sizeof(path), "%s/shot.png", getenv("TMPDIR"));
	{
		const char *const argv[] = { deskpilot, "shot", path, NULL };

		TST_EQ_INT(dp_run(argv, NULL, out, sizeof(out), errs, sizeof(errs)), 0);
		TST_CHECK(strstr(out, "1280x720") != NULL);
	}
	{
		const char *const argv[] = { deskpilot, "doctor", NULL };

		dp_run(argv, NULL, out, sizeof(out), errs, sizeof(errs));
		TST_CHECK(strstr(out, "desktop    mutter: a Wayland session") != NULL);
	}
	{
		const char *const argv[] = { deskpilot, "-v", "-v", "act", "click", "321", "123", NULL };

		TST_EQ_INT(dp_run(argv, NULL, out, sizeof(out), errs, sizeof(errs)), 0);
		TST_CHECK(strstr(errs, "mutter") != NULL);
		TST_REQUIRE(wait_app_event("button", line, sizeof(line)) == 0);
		TST_EQ_INT(dp_json_int(line, "x"), 321);
		TST_EQ_INT(dp_json_int(line, "y"), 123);
	}
}

static int run_tests(void)
{
	const char *fixture = getenv("DP_GTK_WAYLAND");
	const char *app_argv[] = { "/usr/bin/python3", fixture, NULL };
	struct dp_capture_config cc = { .backend = "pipewire" };
	struct dp_actuator_config ac = { .backend = "remote-desktop" };
	struct dp_remote_input remote;
	struct dp_error err = { 0 };
	int r;

	r = dp_gnome_start(&gnome, false);
	if (r < 0)
		return EXIT_FAILURE;
	session = gnome.session;
	cc.pipewire.node = dp_mutter_session_node(session);
	dp_mutter_session_input(session, &remote);
	ac.remote = &remote;
	ac.keyboard_layout = "us";
	if (dp_app_start(&app, NULL, app_argv) < 0) {
		fprintf(stderr, "the GTK Wayland fixture did not start\n");
		r = -1;
	} else if (dp_capture_create(&capture, &cc, &err) < 0 || dp_actuator_create(&actuator, &ac, &err) < 0) {
		fprintf(stderr, "%s\n", err.message);
		r = -1;
	}
	if (r == 0) {
		struct dp_settle_options so;
		struct dp_settle_result sr;

		/* Mutter sends frames on change only: the first one comes when
		 * the stream starts. */
		dp_settle_options_default(&so);
		dp_capture_settle(capture, &so, &sr, &err);
		TST_RUN(test_capture_shows_the_app);
		TST_RUN(test_click_lands_exactly);
		TST_RUN(test_type_layout_text);
		TST_RUN(test_type_text_outside_the_layout);
		TST_RUN(test_focus_moves_with_clicks);
		TST_RUN(test_window_actions_say_why_not);
		TST_RUN(test_point_outside_the_screen);
		TST_RUN(test_cli_chooses_mutter);
	}
	dp_actuator_destroy(actuator);
	dp_capture_destroy(capture);
	dp_probe_stop(&app);
	dp_gnome_stop(&gnome);
	return r < 0 ? EXIT_FAILURE : (tst_failures ? EXIT_FAILURE : EXIT_SUCCESS);
}

int main(int argc, char **argv)
{
	(void)argc;
	if (!dp_gnome_available(false))
		return TST_SKIP;
	if (!getenv("DP_GTK_WAYLAND")) {
		fprintf(stderr, "DP_GTK_WAYLAND is not set\n");
		return EXIT_FAILURE;
	}
	if (getuid() == 0)
		return dp_gnome_rerun_unprivileged(argv);
	return run_tests();
}
