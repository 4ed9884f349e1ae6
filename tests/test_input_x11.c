/* The X11 actuator against the probe on a real Xvfb: clicks, drags and
 * scrolls arrive at the exact coordinates sent, chords arrive as chords,
 * typed text is exactly the text, bad input is refused before anything is
 * sent, and no key or button is ever left pressed. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>

#include <xcb/xcb.h>

#include "actuators/actuator.h"
#include "engine/log.h"
#include "harness/xvfb.h"
#include "tst.h"

#define MAX_LINES 4096

static struct dp_xvfb xvfb;
static struct dp_probe probe;
static struct dp_actuator *act;
static char lines[MAX_LINES][512];
static size_t n_lines;

static int perform(const char *json, struct dp_error *err)
{
	struct dp_action a;
	struct dp_action_result res;
	int r = dp_action_parse(json, strlen(json), &a, err);

	if (r == 0)
		r = dp_actuator_perform(act, &a, &res, err);
	dp_action_clear(&a);
	return r;
}

/* Performs the action and collects what the probe received because of it. */
static int perform_and_collect(const char *json)
{
	struct dp_error err = { 0 };
	int r = perform(json, &err);

	if (r < 0)
		fprintf(stderr, "  %s: %s\n", json, err.message);
	dp_app_collect(&probe, lines, MAX_LINES, &n_lines);
	return r;
}

static size_t count_lines(const char *needle)
{
	size_t n = 0;

	for (size_t i = 0; i < n_lines; i++)
		n += strstr(lines[i], needle) != NULL;
	return n;
}

static const char *nth_line(const char *needle, size_t nth)
{
	for (size_t i = 0; i < n_lines; i++)
		if (strstr(lines[i], needle) && nth-- == 0)
			return lines[i];
	return "";
}

/* No key and no button is down on the server. */
static bool nothing_pressed(void)
{
	xcb_connection_t *c = xcb_connect(xvfb.display, NULL);
	xcb_query_keymap_reply_t *keys = xcb_query_keymap_reply(c, xcb_query_keymap(c), NULL);
	xcb_window_t root = xcb_setup_roots_iterator(xcb_get_setup(c)).data->root;
	xcb_query_pointer_reply_t *ptr = xcb_query_pointer_reply(c, xcb_query_pointer(c, root), NULL);
	bool clear = keys && ptr && (ptr->mask & 0x1fff) == 0;

	for (int i = 0; keys && i < 32; i++)
		clear &= keys->keys[i] == 0;
	free(keys);
	free(ptr);
	xcb_disconnect(c);
	return clear;
}

static void test_click_arrives_at_exact_coordinates(void)
{
	const char *press;

	TST_EQ_INT(perform_and_collect("{\"action\":\"click\",\"x\":123,\"y\":456}"), 0);
	TST_EQ_INT(count_lines("\"event\":\"button\",\"press\":true"), 1);
	press = nth_line("\"event\":\"button\",\"press\":true", 0);
	TST_CHECK(strstr(press, "\"button\":1,") != NULL);
	TST_EQ_INT(dp_json_int(press, "root_x"), 123);
	TST_EQ_INT(dp_json_int(press, "root_y"), 456);
	TST_EQ_INT(dp_json_int(press, "x"), 123 - probe.x);
	TST_EQ_INT(count_lines("\"event\":\"button\",\"press\":false"), 1);
	TST_CHECK(nothing_pressed());
}

static void test_triple_right_click_with_modifiers(void)
{
	TST_EQ_INT(perform_and_collect("{\"action\":\"click\",\"x\":300,\"y\":200,\"button\":\"right\",\"count\":3,"
				       "\"modifiers\":\"ctrl+shift\"}"), 0);
	TST_EQ_INT(count_lines("\"event\":\"button\",\"press\":true,\"button\":3,"), 3);
	for (size_t i = 0; i < 3; i++) {
		const char *press = nth_line("\"event\":\"button\",\"press\":true", i);

		/* ShiftMask 1 | ControlMask 4 held during every press */
		TST_EQ_INT(dp_json_int(press, "state") & 5, 5);
	}
	TST_CHECK(nothing_pressed());
}

static void test_drag_follows_the_path(void)
{
	const char *press, *release;

	TST_EQ_INT(perform_and_collect("{\"action\":\"drag\",\"path\":[[200,150],[250,170],[400,300],[401,301]]}"), 0);
	press = nth_line("\"event\":\"button\",\"press\":true", 0);
	release = nth_line("\"event\":\"button\",\"press\":false", 0);
	TST_EQ_INT(dp_json_int(press, "root_x"), 200);
	TST_EQ_INT(dp_json_int(press, "root_y"), 150);
	TST_EQ_INT(dp_json_int(release, "root_x"), 401);
	TST_EQ_INT(dp_json_int(release, "root_y"), 301);
	/* The button is held (Button1Mask 256) through the motion to 400,300. */
	TST_CHECK(count_lines("\"root_x\":400,\"root_y\":300,\"state\":256") == 1);
	TST_CHECK(nothing_pressed());
}

static void test_scroll_counts_on_both_axes(void)
{
	TST_EQ_INT(perform_and_collect("{\"action\":\"scroll\",\"x\":500,\"y\":300,\"dy\":3,\"dx\":-2}"), 0);
	TST_EQ_INT(count_lines("\"press\":true,\"button\":5,"), 3);
	TST_EQ_INT(count_lines("\"press\":true,\"button\":6,"), 2);
	TST_EQ_INT(count_lines("\"press\":true,\"button\":4,"), 0);
	TST_EQ_INT(dp_json_int(nth_line("\"press\":true,\"button\":5,", 0), "root_x"), 500);
}

static void test_chord_arrives_as_chord(void)
{
	const char *t;

	TST_EQ_INT(perform_and_collect("{\"action\":\"key\",\"keys\":\"ctrl+shift+t\"}"), 0);
	TST_EQ_INT(count_lines("\"event\":\"key\",\"press\":true"), 3);
	TST_CHECK(strstr(nth_line("\"event\":\"key\",\"press\":true", 0), "\"name\":\"Control_L\""));
	TST_CHECK(strstr(nth_line("\"event\":\"key\",\"press\":true", 1), "\"name\":\"Shift_L\""));
	t = nth_line("\"event\":\"key\",\"press\":true", 2);
	TST_CHECK(strstr(t, "\"name\":\"T\"") != NULL);
	TST_EQ_INT(dp_json_int(t, "state") & 5, 5);
	/* Released in reverse: t, then Shift, then Control. */
	TST_CHECK(strstr(nth_line("\"event\":\"key\",\"press\":false", 1), "Shift_L") != NULL);
	TST_CHECK(strstr(nth_line("\"event\":\"key\",\"press\":false", 2), "Control_L") != NULL);
	TST_CHECK(nothing_pressed());
}

static void expect_text(const char *sent)
{
	static char got[1 << 16];
	char json[1 << 16];
	struct dp_error err = { 0 };

	dp_probe_send(&probe, "clear");
	TST_REQUIRE(dp_probe_wait(&probe, "cleared", 5000, got, sizeof(got)) == 0);
	snprintf(json, sizeof(json), "{\"action\":\"type\",\"text\":\"%s\"}", sent);
	TST_EQ_INT(perform(json, &err), 0);
	TST_REQUIRE(dp_app_text(&probe, got, sizeof(got)) == 0);
	TST_EQ_STR(got, sent);
}

static void test_typed_text_is_exact(void)
{
	expect_text("Hello, World! 0123456789 ~`@#$%^&*()_+-=[]{}|;:',.<>/?");
	expect_text("Grüße aus Köln: Äpfel, Öl, Übermaß, ß");
	expect_text("Ωμέγα αβγ ΔΘΛ שלום עולם 你好世界 こんにちは 😀🎉");
	expect_text("e\xcc\x81 a\xcc\x8a n\xcc\x83"); /* combining marks */
	TST_CHECK(nothing_pressed());
}

/* More distinct symbols than the keymap's slots: the text goes in
 * batches, and the probe (which fetches the map lazily, like Xlib) still
 * reads every character right. */
static void test_text_larger_than_the_keymap(void)
{
	char text[3 * 400 + 1];
	size_t len = 0;

	for (uint32_t cp = 0x4e00; cp < 0x4e00 + 400; cp++) {
		text[len++] = (char)(0xe0 | (cp >> 12));
		text[len++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		text[len++] = (char)(0x80 | (cp & 0x3f));
	}
	text[len] = '\0';
	expect_text(text);
}

static void test_bad_input_sends_nothing(void)
{
	struct dp_error err = { 0 };

	TST_EQ_INT(perform("{\"action\":\"click\",\"x\":5000,\"y\":10}", &err), -ERANGE);
	TST_CHECK(strstr(err.message, "click.x = 5000 is outside the screen 0..1919") != NULL);
	TST_EQ_INT(perform("{\"action\":\"drag\",\"path\":[[1,1],[1,2000]]}", &err), -ERANGE);
	TST_CHECK(strstr(err.message, "drag.path[1].y = 2000") != NULL);
	TST_EQ_INT(perform("{\"action\":\"key\",\"keys\":\"ctrl+Retrun\"}", &err), -ENOENT);
	TST_CHECK(strstr(err.message, "Return") != NULL);
	TST_EQ_INT(perform("{\"action\":\"click\",\"x\":5,\"y\":5,\"modifiers\":\"ctrl+hyperdrive\"}", &err), -ENOENT);
	TST_EQ_INT(perform("{\"action\":\"type\",\"text\":\"\"}", &err), 0); /* empty text: nothing to do */
	TST_EQ_INT(perform("{\"action\":\"type\",\"text\":\"ab\\u0007c\"}", &err), -EINVAL);
	TST_CHECK(strstr(err.message, "U+0007") != NULL);
	dp_app_collect(&probe, lines, MAX_LINES, &n_lines);
	TST_EQ_INT(count_lines("\"event\":\"button\""), 0);
	TST_EQ_INT(count_lines("\"event\":\"key\""), 0);
	TST_CHECK(nothing_pressed());
}

static void test_invalid_utf8_is_refused(void)
{
	struct dp_action a = { .type = DP_ACTION_TYPE, .text = (char *)"ok\xc3(" };
	struct dp_action_result res;
	struct dp_error err = { 0 };

	TST_EQ_INT(dp_actuator_perform(act, &a, &res, &err), -EILSEQ);
	TST_CHECK(strstr(err.message, "invalid UTF-8 at byte 2") != NULL);
	TST_CHECK(nothing_pressed());
}

static void test_held_keys_are_released_on_destroy(void)
{
	struct dp_actuator_config config = { .display = xvfb.display };
	struct dp_actuator *other = NULL;
	struct dp_action a = { .type = DP_ACTION_KEY_DOWN, .keys = (char *)"shift+ctrl" };
	struct dp_action_result res;

	TST_REQUIRE(dp_actuator_create(&other, &config, NULL) == 0);
	TST_EQ_INT(dp_actuator_perform(other, &a, &res, NULL), 0);
	TST_CHECK(!nothing_pressed());
	dp_actuator_destroy(other);
	TST_CHECK(nothing_pressed());
}

int main(void)
{
	struct dp_actuator_config config = { 0 };
	struct dp_error err = { 0 };
	char line[256];

	signal(SIGPIPE, SIG_IGN);
	dp_log_init_from_env();
	if (dp_xvfb_start(&xvfb, 1920, 1080, NULL) < 0)
		return TST_SKIP;
	if (dp_probe_start(&probe, &xvfb, 100, 50, 900, 600) < 0) {
		dp_xvfb_stop(&xvfb);
		return EXIT_FAILURE;
	}
	dp_probe_send(&probe, "focus");
	dp_probe_wait(&probe, "focused", 5000, line, sizeof(line));
	config.display = xvfb.display;
	if (dp_actuator_create(&act, &config, &err) < 0) {
		fprintf(stderr, "%s\n", err.message);
		return EXIT_FAILURE;
	}
	TST_RUN(test_click_arrives_at_exact_coordinates);
	TST_RUN(test_triple_right_click_with_modifiers);
	TST_RUN(test_drag_follows_the_path);
	TST_RUN(test_scroll_counts_on_both_axes);
	TST_RUN(test_chord_arrives_as_chord);
	TST_RUN(test_typed_text_is_exact);
	TST_RUN(test_text_larger_than_the_keymap);
	TST_RUN(test_bad_input_sends_nothing);
	TST_RUN(test_invalid_utf8_is_refused);
	TST_RUN(test_held_keys_are_released_on_destroy);
	dp_actuator_destroy(act);
	dp_probe_stop(&probe);
	dp_xvfb_stop(&xvfb);
	TST_EXIT();
}
