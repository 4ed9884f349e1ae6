/* UI-TARS-1.5 replies, as the model writes them, to actions; garbage to a
 * clear error and no action. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "policies/model/uitars.h"
#include "tst.h"

static struct dp_action acts[8];
static size_t n;

/* A 1932x1092 image (UI-TARS's grid for 1920x1080). */
static int parse(const char *reply, struct dp_error *err)
{
	struct dp_coord_map map;

	for (size_t i = 0; i < n; i++)
		dp_action_clear(&acts[i]);
	n = 0;
	dp_coords_map_init(&map, (struct dp_rect){ 0, 0, 1920, 1080 }, 1932, 1092, DP_COORDS_PIXELS, NULL);
	return dp_uitars_parse(reply, &map, acts, 8, &n, err);
}

static void test_clicks(void)
{
	struct dp_error err = { 0 };

	TST_REQUIRE(parse("Thought: The Save button is in the toolbar at the top left.\n"
			  "Action: click(start_box='(121,37)')", &err) == 0);
	TST_EQ_INT(n, 1);
	TST_EQ_INT(acts[0].type, DP_ACTION_CLICK);
	TST_EQ_INT(acts[0].point.x, 121);
	TST_EQ_INT(acts[0].point.y, 37);
	TST_EQ_INT(acts[0].count, 1);
	TST_REQUIRE(parse("Thought: open it\nAction: left_double(start_box='<|box_start|>(640,400)<|box_end|>')", &err) == 0);
	TST_EQ_INT(acts[0].count, 2);
	TST_EQ_INT(acts[0].point.x, 640);
	TST_EQ_INT(acts[0].point.y, 400);
	TST_REQUIRE(parse("Action: right_single(start_box='[100, 200, 300, 400]')", &err) == 0);
	TST_EQ_INT(acts[0].button, 3);
	TST_EQ_INT(acts[0].point.x, 200); /* the box's centre */
	TST_EQ_INT(acts[0].point.y, 300);
	/* the words "Action:" inside the thought are not the action */
	TST_REQUIRE(parse("Thought: my last Action: was wrong, so\nAction: click(start_box='(1,2)')", &err) == 0);
	TST_EQ_INT(acts[0].point.x, 1);
}

static void test_other_actions(void)
{
	struct dp_error err = { 0 };

	TST_REQUIRE(parse("Thought: drag the file\nAction: drag(start_box='(10,20)', end_box='(300,400)')", &err) == 0);
	TST_EQ_INT(acts[0].type, DP_ACTION_DRAG);
	TST_EQ_INT(acts[0].n_path, 2);
	TST_EQ_INT(acts[0].path[1].x, 300);
	TST_EQ_INT(acts[0].path[1].y, 400);
	TST_REQUIRE(parse("Thought: save\nAction: hotkey(key='ctrl s')", &err) == 0);
	TST_EQ_INT(acts[0].type, DP_ACTION_KEY);
	TST_EQ_STR(acts[0].keys, "ctrl+s");
	TST_REQUIRE(parse("Action: hotkey(key='pagedown')", &err) == 0);
	TST_EQ_STR(acts[0].keys, "Page_Down");
	TST_REQUIRE(parse("Action: press(key='enter')", &err) == 0);
	TST_EQ_INT(acts[0].type, DP_ACTION_KEY);
	TST_EQ_STR(acts[0].keys, "enter");
	TST_REQUIRE(parse("Action: keydown(key='shift')", &err) == 0);
	TST_EQ_INT(acts[0].type, DP_ACTION_KEY_DOWN);
	TST_REQUIRE(parse("Action: hover(start_box='(10,20)')", &err) == 0);
	TST_EQ_INT(acts[0].type, DP_ACTION_MOVE);
	TST_EQ_INT(acts[0].point.y, 20);
	TST_REQUIRE(parse("Thought: type the name\nAction: type(content='O\\'Brien \\\"Jr\\\"\\n')", &err) == 0);
	TST_EQ_INT(acts[0].type, DP_ACTION_TYPE);
	TST_EQ_STR(acts[0].text, "O'Brien \"Jr\"\n");
	TST_REQUIRE(parse("Action: type(content='Grüße 你好')", &err) == 0);
	TST_EQ_STR(acts[0].text, "Grüße 你好");
	TST_REQUIRE(parse("Action: scroll(start_box='(500,500)', direction='down')", &err) == 0);
	TST_EQ_INT(acts[0].type, DP_ACTION_SCROLL);
	TST_CHECK(acts[0].dy > 0 && acts[0].dx == 0);
	TST_REQUIRE(parse("Action: scroll(start_box='(500,500)', direction='left')", &err) == 0);
	TST_CHECK(acts[0].dx < 0);
	TST_REQUIRE(parse("Action: wait()", &err) == 0);
	TST_EQ_INT(acts[0].type, DP_ACTION_WAIT);
	TST_EQ_INT(acts[0].ms, 5000);
	TST_REQUIRE(parse("Thought: all saved\nAction: finished(content='invoice INV-7 saved')", &err) == 0);
	TST_EQ_INT(acts[0].type, DP_ACTION_DONE);
	TST_EQ_STR(acts[0].text, "invoice INV-7 saved");
	TST_REQUIRE(parse("Thought: I need the password\nAction: call_user()", &err) == 0);
	TST_EQ_INT(acts[0].type, DP_ACTION_ASK_USER);
	TST_CHECK(acts[0].text && *acts[0].text);
	/* two actions, one per line */
	TST_REQUIRE(parse("Thought: field then text\nAction: click(start_box='(50,60)')\n\ntype(content='x')", &err) == 0);
	TST_EQ_INT(n, 2);
	TST_EQ_INT(acts[1].type, DP_ACTION_TYPE);
}

static void expect_error(const char *reply, const char *want)
{
	struct dp_error err = { 0 };

	TST_CHECK(parse(reply, &err) < 0);
	TST_EQ_INT(n, 0);
	if (!strstr(err.message, want)) {
		fprintf(stderr, "  \"%s\": got \"%s\", wanted \"%s\"\n", reply, err.message, want);
		TST_CHECK(strstr(err.message, want));
	}
}

static void test_garbage(void)
{
	expect_error("", "no \"Action:\" line");
	expect_error("I think I should click the button.", "no \"Action:\" line");
	expect_error("Action: ", "the Action: line is empty");
	expect_error("Action: click(start_box='(1,2)'", "expected key='value' arguments and a closing ')'");
	expect_error("Action: click(start_box='(1,2)", "a quoted value is not closed");
	expect_error("Action: click(start_box=(1,2))", "the value of start_box must be quoted");
	expect_error("Action: click()", "click: start_box is missing");
	expect_error("Action: click(start_box='here')", "is not a point");
	expect_error("Action: click(start_box='(5000,10)')", "outside the image: x goes from 0 to 1932");
	expect_error("Action: explode(start_box='(1,2)')", "unknown action 'explode'");
	expect_error("Action: scroll(start_box='(1,2)', direction='sideways')", "direction must be");
	expect_error("Action: hotkey()", "hotkey: key is missing");
	expect_error("Action: click start_box='(1,2)'", "expected '(' after the action's name");
	expect_error("Action: (1,2)", "expected an action such as click");
	expect_error("Action: click(start_box='(1,2)') click(start_box='(9,9)') click(start_box='(9,9)') "
		     "click(start_box='(9,9)') click(start_box='(9,9)') click(start_box='(9,9)') "
		     "click(start_box='(9,9)') click(start_box='(9,9)') click(start_box='(9,9)')",
		     "more than 8 actions");
}

static void test_verifier_answers(void)
{
	struct dp_error err = { 0 };
	bool done = false;
	char *reason = NULL;

	TST_EQ_INT(dp_uitars_verdict("YES", &done, &reason, &err), 0);
	TST_CHECK(done && !reason);
	TST_EQ_INT(dp_uitars_verdict("NO: the invoice list is still empty", &done, &reason, &err), 0);
	TST_CHECK(!done);
	TST_EQ_STR(reason, "the invoice list is still empty");
	free(reason);
	TST_EQ_INT(dp_uitars_verdict("Maybe", &done, &reason, &err), -EINVAL);
	TST_CHECK(strstr(err.message, "expected YES or NO"));
}

int main(void)
{
	TST_RUN(test_clicks);
	TST_RUN(test_other_actions);
	TST_RUN(test_garbage);
	TST_RUN(test_verifier_answers);
	for (size_t i = 0; i < n; i++)
		dp_action_clear(&acts[i]);
	TST_EXIT();
}
