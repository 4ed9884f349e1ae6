/* Actions from JSON: every field checked, every error pointing at the input. */
#include <errno.h>

#include "engine/action.h"
#include "tst.h"

static int parse(const char *json, struct dp_action *a, struct dp_error *err)
{
	return dp_action_parse(json, strlen(json), a, err);
}

static void test_click(void)
{
	struct dp_action a;

	TST_EQ_INT(parse("{\"action\":\"click\",\"x\":640,\"y\":400,\"button\":\"right\",\"count\":2,"
			 "\"modifiers\":\"ctrl+shift\"}", &a, NULL), 0);
	TST_EQ_INT(a.type, DP_ACTION_CLICK);
	TST_EQ_INT(a.point.x, 640);
	TST_EQ_INT(a.point.y, 400);
	TST_EQ_INT(a.button, 3);
	TST_EQ_INT(a.count, 2);
	TST_EQ_STR(a.keys, "ctrl+shift");
	dp_action_clear(&a);
	TST_EQ_INT(parse("{\"action\":\"click\",\"x\":1,\"y\":2}", &a, NULL), 0);
	TST_EQ_INT(a.button, 1);
	TST_EQ_INT(a.count, 1);
	dp_action_clear(&a);
}

static void test_type_keeps_unicode_exactly(void)
{
	struct dp_action a;
	char *json;

	TST_EQ_INT(parse("{\"action\":\"type\",\"text\":\"Gr\\u00fc\\u00dfe \\u4f60\\u597d \\ud83d\\ude00\"}", &a, NULL), 0);
	TST_EQ_STR(a.text, "Grüße 你好 😀");
	json = dp_action_to_json(&a);
	dp_action_clear(&a);
	TST_EQ_INT(parse(json, &a, NULL), 0);
	TST_EQ_STR(a.text, "Grüße 你好 😀");
	free(json);
	dp_action_clear(&a);
}

static void test_drag_window_launch(void)
{
	struct dp_action a;

	TST_EQ_INT(parse("{\"action\":\"drag\",\"path\":[[1,2],[3,4],[5,6]]}", &a, NULL), 0);
	TST_EQ_INT(a.n_path, 3);
	TST_EQ_INT(a.path[2].y, 6);
	dp_action_clear(&a);
	TST_EQ_INT(parse("{\"action\":\"window\",\"op\":\"activate\",\"class\":\"Gnumeric\"}", &a, NULL), 0);
	TST_EQ_INT(a.window_op, DP_WINDOW_ACTIVATE);
	TST_EQ_STR(a.match.class_re, "Gnumeric");
	dp_action_clear(&a);
	TST_EQ_INT(parse("{\"action\":\"launch\",\"argv\":[\"xterm\",\"-e\",\"rm -rf /; echo\"]}", &a, NULL), 0);
	TST_EQ_STR(a.argv[2], "rm -rf /; echo"); /* one argument, never a shell line */
	TST_CHECK(a.argv[3] == NULL);
	dp_action_clear(&a);
}

static void expect_error(const char *json, const char *message)
{
	struct dp_action a;
	struct dp_error err = { 0 };

	TST_EQ_INT(parse(json, &a, &err), -EINVAL);
	if (!strstr(err.message, message))
		fprintf(stderr, "  %s\n  gave: %s\n  want: %s\n", json, err.message, message);
	TST_CHECK(strstr(err.message, message) != NULL);
}

static void test_errors_point_at_the_input(void)
{
	expect_error("{\"action\":\"click\",\"x\":1,\n \"y\":}", "line 2, column 6");
	expect_error("{\"action\":\"click\",\"x\":\"ten\",\"y\":2}", "click.x: expected an integer");
	expect_error("{\"action\":\"click\",\"x\":1.5,\"y\":2}", "click.x: expected an integer, not a fraction");
	expect_error("{\"action\":\"click\",\"x\":1,\"y\":2,\"count\":4}", "click.count: 4 is outside 1..3");
	expect_error("{\"action\":\"click\",\"x\":1,\"y\":2,\"colour\":1}", "click.colour: unknown field");
	expect_error("{\"action\":\"click\",\"x\":1}", "click.y: missing");
	expect_error("{\"action\":\"click\",\"x\":1,\"y\":2,\"button\":\"thumb\"}", "click.button: expected left");
	expect_error("{\"action\":\"teleport\"}", "unknown action 'teleport'");
	expect_error("{\"x\":1}", "action: missing");
	expect_error("[1,2]", "expected a JSON object");
	expect_error("{\"action\":\"type\"}", "type.text: missing");
	expect_error("{\"action\":\"type\",\"text\":\"a\",\"method\":\"fax\"}", "type.method: expected one of auto, keys, paste");
	expect_error("{\"action\":\"drag\",\"path\":[[1,2]]}", "drag.path: expected an array of 2 to 256");
	expect_error("{\"action\":\"drag\",\"path\":[[1,2],[3]]}", "drag.path[1]: expected [x, y]");
	expect_error("{\"action\":\"window\",\"op\":\"activate\"}", "window: say which window");
	expect_error("{\"action\":\"launch\",\"argv\":[]}", "launch.argv: expected an array of 1 to 64");
	expect_error("{\"action\":\"scroll\",\"x\":1,\"y\":1}", "scroll.dy: give dx or dy");
	expect_error("{\"action\":\"wait\",\"ms\":-1}", "wait.ms: -1 is outside 0..60000");
	expect_error("{\"action\":\"hold\",\"keys\":\"a\",\"ms\":1e300}", "hold.ms: 1e+300 is outside 1..60000");
	expect_error("{\"action\":\"click\",\"x\":1,\"y\":2,\"count\":2.5}", "click.count: expected an integer, not a fraction");
	expect_error("{\"action\":\"move\",\"x\":1,\"y\":2} trailing", "line 1, column 31");
}

int main(void)
{
	TST_RUN(test_click);
	TST_RUN(test_type_keeps_unicode_exactly);
	TST_RUN(test_drag_window_launch);
	TST_RUN(test_errors_point_at_the_input);
	TST_EXIT();
}
