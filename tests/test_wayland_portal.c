/* The screen-cast portal on a real headless GNOME: xdg-desktop-portal with
 * its GNOME backend shows a real consent dialog; deskpilot answers it
 * itself (it finds the Share button by OCR on a frame from mutter's own
 * remote-desktop session and clicks it there), then captures through the
 * PipeWire remote the portal opened; the restore token it got lets the
 * next session start with no dialog, and a token the portal no longer
 * honours ends an unattended start with a clear error instead of a dialog
 * nobody will answer. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "actuators/actuator.h"
#include "capture/capture.h"
#include "capture/mutter_session.h"
#include "capture/portal_session.h"
#include "engine/locate.h"
#include "engine/ocr.h"
#include "tests/harness/gnome.h"
#include "tests/harness/xvfb.h"
#include "tst.h"

static struct dp_gnome gnome;
static struct dp_capture *screen; /* through mutter's session */
static struct dp_actuator *input;
static struct dp_ocr *ocr;
static char token[256];

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static int grab_settled(struct dp_frame *frame)
{
	struct dp_settle_options so;
	struct dp_settle_result sr;
	struct dp_error err = { 0 };

	dp_settle_options_default(&so);
	dp_capture_settle(screen, &so, &sr, &err);
	return dp_capture_grab(screen, NULL, 0, frame, &err);
}

/* Waits for text to appear on screen; the box of its rightmost
 * occurrence (a dialog's title may repeat a button's word) in *box. */
static bool find_text(const char *text, struct dp_rect *box)
{
	struct dp_error err = { 0 };

	for (int tries = 0; tries < 20; tries++) {
		struct dp_text_query q = { .text = text, .match = DP_MATCH_EXACT, .nth = 1 };
		struct dp_match m;
		struct dp_frame frame;
		bool found = false;

		if (grab_settled(&frame) < 0)
			break;
		for (; dp_locate_text(ocr, &frame, &q, &m, &err) == 0; q.nth++)
			if (!found || m.box.x > box->x) {
				*box = m.box;
				found = true;
			}
		if (found)
			return true;
		sleep_ms(250);
	}
	fprintf(stderr, "no \"%s\" on screen: %s\n", text, err.message);
	return false;
}

static void click(struct dp_rect box)
{
	struct dp_action a = { .type = DP_ACTION_CLICK, .has_point = true, .button = 1, .count = 1,
			       .point = { box.x + box.width / 2, box.y + box.height / 2 } };
	struct dp_action_result res;
	struct dp_error err = { 0 };

	if (dp_actuator_perform(input, &a, &res, &err) < 0)
		fprintf(stderr, "click: %s\n", err.message);
}

/* A suggested-action button is saturated blue while it can be pressed and
 * pale while it cannot; a pixel of its padding, left of the label, tells. */
static bool button_enabled(struct dp_point center)
{
	struct dp_frame frame;
	uint32_t px;

	if (grab_settled(&frame) < 0)
		return false;
	px = dp_frame_pixel(&frame, center.x - 32, center.y);
	return ((px >> 16) & 0xff) < 110 && (px & 0xff) > 180;
}

/* A switch that is on shows a blue trough left of its knob. */
static bool switch_on(struct dp_point center)
{
	struct dp_frame frame;
	uint32_t px;

	if (grab_settled(&frame) < 0)
		return false;
	px = dp_frame_pixel(&frame, center.x - 12, center.y);
	return ((px >> 16) & 0xff) < 110 && (px & 0xff) > 180;
}

static void click_at(struct dp_point p)
{
	click((struct dp_rect){ p.x, p.y, 1, 1 });
}

/* The dialog as a person answers it: pick the monitor (the headless
 * compositor's virtual one is "MetaVendor"), then Share.  OCR reads
 * Cancel but not the white-on-blue Share; the dialog is centred and its
 * header bar symmetric, so Share is Cancel's mirror image.  As the step
 * loop does, a click that did not do what it should is tried again: in
 * GTK 4 a click right after the pointer arrived can go unseen. */
static bool want_input;

static void accept_dialog(void *data)
{
	bool *clicked = data;
	struct dp_rect monitor, cancel;
	struct dp_frame frame;
	struct dp_point share;

	if (!find_text("MetaVendor", &monitor) || !find_text("Cancel", &cancel) || grab_settled(&frame) < 0)
		return;
	share.x = frame.width - (cancel.x + cancel.width / 2);
	share.y = cancel.y + cancel.height / 2;
	for (int tries = 0; tries < 4 && !button_enabled(share); tries++)
		click(monitor);
	/* The remote-desktop dialog also asks whether input is allowed: its
	 * switch sits at the row's right end, mirroring the label's start. */
	if (want_input) {
		struct dp_rect label;
		struct dp_point toggle;

		if (!find_text("Allow remote interaction", &label))
			return;
		toggle.x = frame.width - label.x - 24;
		toggle.y = label.y + label.height / 2;
		for (int tries = 0; tries < 4 && !switch_on(toggle); tries++)
			click_at(toggle);
	}
	for (int tries = 0; tries < 4 && button_enabled(share); tries++) {
		click_at(share);
		*clicked = true;
	}
	*clicked = *clicked && !button_enabled(share);
}

static int grab_through(struct dp_portal_session *s, struct dp_frame *copy_of)
{
	struct dp_capture_config cc = { .backend = "pipewire" };
	struct dp_capture *cap = NULL;
	struct dp_error err = { 0 };
	struct dp_frame frame;
	int r;

	cc.pipewire.node = dp_portal_session_node(s);
	cc.pipewire.fd = dp_portal_session_take_fd(s);
	cc.pipewire.use_fd = true;
	r = dp_capture_create(&cap, &cc, &err);
	if (r == 0)
		r = dp_capture_grab(cap, NULL, 0, &frame, &err);
	if (r < 0)
		fprintf(stderr, "capture through the portal: %s\n", err.message);
	else
		*copy_of = (struct dp_frame){ .width = frame.width, .height = frame.height };
	dp_capture_destroy(cap);
	return r;
}

static void test_consent_then_capture(void)
{
	bool clicked = false;
	struct dp_portal_options o = { .waiting_for_consent = accept_dialog, .data = &clicked, .timeout_ms = 30000 };
	struct dp_portal_session *s = NULL;
	struct dp_error err = { 0 };
	struct dp_frame frame = { 0 };
	uint32_t sc, rd;

	if (dp_portal_session_create(&s, &o, &err) < 0) {
		fprintf(stderr, "portal: %s\n", err.message);
		TST_REQUIRE(!"the portal session starts");
	}
	TST_CHECK(clicked);
	TST_CHECK(dp_portal_session_node(s) > 0);
	TST_CHECK(grab_through(s, &frame) == 0);
	TST_EQ_INT(frame.width, 1280);
	TST_EQ_INT(frame.height, 720);
	dp_portal_versions(&sc, &rd);
	if (sc >= 4)
		TST_CHECK(dp_portal_session_restore_token(s)[0] != '\0');
	snprintf(token, sizeof(token), "%s", dp_portal_session_restore_token(s));
	dp_portal_session_destroy(s);
}

/* The saved consent: no dialog, even with nobody to answer one. */
static void test_restore_token_starts_unattended(void)
{
	struct dp_portal_options o = { .restore_token = token };
	struct dp_portal_session *s = NULL;
	struct dp_error err = { 0 };
	struct dp_frame frame = { 0 };

	if (!token[0]) {
		fprintf(stderr, "skip %s: this portal gives no restore tokens\n", __func__);
		return;
	}
	if (dp_portal_session_create(&s, &o, &err) < 0) {
		fprintf(stderr, "portal: %s\n", err.message);
		TST_REQUIRE(!"the portal session starts from the token");
	}
	TST_CHECK(grab_through(s, &frame) == 0);
	TST_EQ_INT(frame.width, 1280);
	TST_CHECK(dp_portal_session_restore_token(s)[0] != '\0');
	dp_portal_session_destroy(s);
}

/* A token the portal does not know (a well-formed UUID it never issued,
 * as after the user revoked it): it would ask again; unattended, that is
 * an error that says what to do, within seconds. */
static void test_revoked_token_is_reported(void)
{
	struct dp_portal_options o = { .restore_token = "3f0c2a8e-1b7d-4c55-9e2a-7d1f00c0ffee" };
	struct dp_portal_session *s = NULL;
	struct dp_error err = { 0 };

	TST_EQ_INT(dp_portal_session_create(&s, &o, &err), -ESTALE);
	TST_CHECK(strstr(err.message, "consent") != NULL);
}

/* Input through the portal's RemoteDesktop session into a Wayland app:
 * clicks and layout text arrive exactly; text outside the layout is
 * refused naming the characters (this portal has no clipboard). */
static void test_portal_input(void)
{
	const char *app_argv[] = { "/usr/bin/python3", getenv("DP_GTK_WAYLAND"), NULL };
	bool clicked = false;
	struct dp_portal_options o = { .input = true, .waiting_for_consent = accept_dialog, .data = &clicked,
				       .timeout_ms = 30000 };
	struct dp_actuator_config ac = { .backend = "remote-desktop", .keyboard_layout = "us" };
	struct dp_portal_session *s = NULL;
	struct dp_actuator *keys = NULL;
	struct dp_remote_input remote;
	struct dp_error err = { 0 };
	struct dp_action_result res;
	struct dp_action a = { .type = DP_ACTION_CLICK, .has_point = true, .button = 1, .count = 1 };
	struct dp_probe app;
	char line[512], text[256];

	TST_REQUIRE(dp_app_start(&app, NULL, app_argv) == 0);
	want_input = true;
	if (dp_portal_session_create(&s, &o, &err) < 0) {
		fprintf(stderr, "portal: %s\n", err.message);
		dp_probe_stop(&app);
		TST_REQUIRE(!"the remote-desktop portal session starts");
	}
	dp_portal_session_input(s, &remote);
	ac.remote = &remote;
	if (dp_actuator_create(&keys, &ac, &err) < 0)
		fprintf(stderr, "portal input: %s\n", err.message);
	TST_REQUIRE(keys);
	/* The dialog's clicks reached the app's area too: start afresh. */
	while (dp_probe_wait(&app, "button", 300, line, sizeof(line)) == 0)
		;
	a.point = (struct dp_point){ 777, 111 };
	TST_CHECK(dp_actuator_perform(keys, &a, &res, &err) == 0);
	TST_REQUIRE(dp_probe_wait(&app, "button", 5000, line, sizeof(line)) == 0);
	TST_EQ_INT(dp_json_int(line, "x"), 777);
	TST_EQ_INT(dp_json_int(line, "y"), 111);

	a.point = (struct dp_point){ 640, 315 };
	TST_CHECK(dp_actuator_perform(keys, &a, &res, &err) == 0);
	a = (struct dp_action){ .type = DP_ACTION_TYPE, .text = "Portal typed: 7 <ok>" };
	TST_CHECK(dp_actuator_perform(keys, &a, &res, &err) == 0);
	sleep_ms(300);
	TST_REQUIRE(dp_app_text(&app, text, sizeof(text)) == 0);
	TST_EQ_STR(text, "Portal typed: 7 <ok>");

	a.text = "naïve 日本";
	TST_EQ_INT(dp_actuator_perform(keys, &a, &res, &err), -ENOTSUP);
	TST_CHECK(strstr(err.message, "ï 日 本") != NULL);
	dp_actuator_destroy(keys);
	dp_portal_session_destroy(s);
	dp_probe_stop(&app);
}

static int run_tests(void)
{
	struct dp_capture_config cc = { .backend = "pipewire" };
	struct dp_actuator_config ac = { .backend = "remote-desktop", .keyboard_layout = "us" };
	struct dp_remote_input remote;
	struct dp_error err = { 0 };

	if (dp_gnome_start(&gnome, true) < 0)
		return EXIT_FAILURE;
	cc.pipewire.node = dp_mutter_session_node(gnome.session);
	dp_mutter_session_input(gnome.session, &remote);
	ac.remote = &remote;
	if (dp_capture_create(&screen, &cc, &err) < 0 || dp_actuator_create(&input, &ac, &err) < 0 ||
	    dp_ocr_create(&ocr, "eng", &err) < 0) {
		fprintf(stderr, "%s\n", err.message);
		TST_CHECK(!"set up");
	} else {
		TST_RUN(test_consent_then_capture);
		TST_RUN(test_restore_token_starts_unattended);
		TST_RUN(test_portal_input);
		/* Last: xdg-desktop-portal-gnome 43 exits when a session is
		 * closed under its open dialog, as this test does. */
		TST_RUN(test_revoked_token_is_reported);
	}
	dp_ocr_destroy(ocr);
	dp_actuator_destroy(input);
	dp_capture_destroy(screen);
	dp_gnome_stop(&gnome);
	TST_EXIT();
}

int main(int argc, char **argv)
{
	(void)argc;
	if (!dp_gnome_available(true))
		return TST_SKIP;
	if (getuid() == 0)
		return dp_gnome_rerun_unprivileged(argv);
	return run_tests();
}
