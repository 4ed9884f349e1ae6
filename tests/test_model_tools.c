/* Tool calls to actions: every tool's arguments are the action's JSON,
 * ranges are checked by the engine's parser, points must lie inside the
 * image the model was sent, and each coordinate space maps back to the
 * right screen pixel. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "policies/model/tools.h"
#include "tst.h"

/* A tool call as a server sends it: arguments as a JSON string. */
static cJSON *call(const char *name, const char *args)
{
	cJSON *c = cJSON_CreateObject(), *fn;

	cJSON_AddStringToObject(c, "id", "call_1");
	cJSON_AddStringToObject(c, "type", "function");
	fn = cJSON_AddObjectToObject(c, "function");
	cJSON_AddStringToObject(fn, "name", name);
	if (args)
		cJSON_AddStringToObject(fn, "arguments", args);
	return c;
}

/* 896x504 image of a 1920x1080 screen (M3), or 0-1000 of the same. */
static struct dp_coord_map screen_map(enum dp_coord_space space)
{
	struct dp_coord_map map;

	dp_coords_map_init(&map, (struct dp_rect){ 0, 0, 1920, 1080 }, 896, 504, space, NULL);
	return map;
}

static int parse(const char *name, const char *args, enum dp_coord_space space, struct dp_action *a,
		 struct dp_error *err)
{
	struct dp_coord_map map = screen_map(space);
	cJSON *c = call(name, args);
	int r = dp_model_tool_call_parse(c, &map, a, err);

	cJSON_Delete(c);
	return r;
}

static void test_tools_describe_the_image(void)
{
	cJSON *tools = dp_model_tools_build(DP_COORDS_PIXELS, 896, 504), *t;
	const char *want[] = { "click", "move", "drag", "scroll", "type", "key", "key_down", "key_up",
			       "hold", "wait", "zoom", "window", "launch", "done", "fail", "ask_user" };
	size_t i = 0;

	TST_REQUIRE(tools);
	TST_EQ_INT(cJSON_GetArraySize(tools), 16);
	cJSON_ArrayForEach(t, tools) {
		const cJSON *fn = cJSON_GetObjectItem(t, "function");
		const char *desc = cJSON_GetObjectItem(fn, "description")->valuestring;

		TST_EQ_STR(cJSON_GetObjectItem(t, "type")->valuestring, "function");
		TST_EQ_STR(cJSON_GetObjectItem(fn, "name")->valuestring, want[i]);
		TST_CHECK(cJSON_IsObject(cJSON_GetObjectItem(fn, "parameters")));
		if (!strcmp(want[i], "click"))
			TST_CHECK(strstr(desc, "896x504") && strstr(desc, "x from 0 to 896"));
		i++;
	}
	cJSON_Delete(tools);
	tools = dp_model_tools_build(DP_COORDS_NORM1000, 1344, 768);
	TST_CHECK(strstr(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(tools, 0), "function"),
					     "description")->valuestring, "0-1000"));
	cJSON_Delete(tools);
}

static void test_calls_become_actions(void)
{
	struct dp_action a;
	struct dp_error err = { 0 };

	TST_REQUIRE(parse("click", "{\"x\": 448, \"y\": 252, \"count\": 2, \"button\": \"right\"}", DP_COORDS_PIXELS, &a,
			  &err) == 0);
	TST_EQ_INT(a.type, DP_ACTION_CLICK);
	TST_EQ_INT(a.point.x, 448);
	TST_EQ_INT(a.count, 2);
	TST_EQ_INT(a.button, 3);
	dp_action_clear(&a);
	/* decimals are rounded to the nearest unit */
	TST_REQUIRE(parse("click", "{\"x\": 447.5, \"y\": 100.2}", DP_COORDS_PIXELS, &a, &err) == 0);
	TST_EQ_INT(a.point.x, 448);
	TST_EQ_INT(a.point.y, 100);
	dp_action_clear(&a);
	TST_REQUIRE(parse("drag", "{\"path\": [[10.4, 10.6], [800, 500.5]]}", DP_COORDS_PIXELS, &a, &err) == 0);
	TST_EQ_INT(a.path[0].x, 10);
	TST_EQ_INT(a.path[0].y, 11);
	TST_EQ_INT(a.path[1].y, 501);
	dp_action_clear(&a);
	TST_REQUIRE(parse("type", "{\"text\": \"Grüße 你好\"}", DP_COORDS_PIXELS, &a, &err) == 0);
	TST_EQ_STR(a.text, "Grüße 你好");
	dp_action_clear(&a);
	TST_REQUIRE(parse("drag", "{\"path\": [[10, 10], [800, 500]]}", DP_COORDS_PIXELS, &a, &err) == 0);
	TST_EQ_INT(a.n_path, 2);
	TST_EQ_INT(a.path[1].x, 800);
	dp_action_clear(&a);
	TST_REQUIRE(parse("key", "{\"keys\": \"ctrl+s\"}", DP_COORDS_PIXELS, &a, &err) == 0);
	TST_EQ_STR(a.keys, "ctrl+s");
	dp_action_clear(&a);
	/* no arguments at all: done takes an optional summary */
	TST_REQUIRE(parse("done", NULL, DP_COORDS_PIXELS, &a, &err) == 0);
	TST_EQ_INT(a.type, DP_ACTION_DONE);
	dp_action_clear(&a);
	TST_REQUIRE(parse("done", "", DP_COORDS_PIXELS, &a, &err) == 0);
	dp_action_clear(&a);
	TST_REQUIRE(parse("zoom", "{\"x\": 400, \"y\": 200, \"width\": 100, \"height\": 50}", DP_COORDS_PIXELS, &a,
			  &err) == 0);
	TST_EQ_INT(a.width, 100);
	dp_action_clear(&a);
	/* window geometry is in screen pixels: not checked against the image */
	TST_REQUIRE(parse("window", "{\"op\": \"move\", \"title\": \"Acme\", \"x\": 1500, \"y\": 900}", DP_COORDS_PIXELS,
			  &a, &err) == 0);
	dp_action_clear(&a);
}

static void expect_invalid(const char *name, const char *args, enum dp_coord_space space, const char *want)
{
	struct dp_action a;
	struct dp_error err = { 0 };

	TST_CHECK(parse(name, args, space, &a, &err) < 0);
	if (!strstr(err.message, want)) {
		fprintf(stderr, "  %s(%s): got \"%s\", wanted \"%s\"\n", name, args ? args : "", err.message, want);
		TST_CHECK(strstr(err.message, want));
	}
	TST_EQ_INT(a.type, 0);
	TST_CHECK(a.text == NULL && a.path == NULL);
}

static void test_invalid_calls_say_what_is_wrong(void)
{
	expect_invalid("click", "{\"x\": 448}", DP_COORDS_PIXELS, "click.y");
	expect_invalid("click", "{\"x\": 448, \"y\": 252, \"count\": 4}", DP_COORDS_PIXELS, "click.count: 4 is outside 1..3");
	expect_invalid("click", "{\"x\": 900, \"y\": 10}", DP_COORDS_PIXELS,
		       "click: point (900, 10) is outside the image: x goes from 0 to 896, y from 0 to 504");
	expect_invalid("click", "{\"x\": 500, \"y\": 1001}", DP_COORDS_NORM1000, "x goes from 0 to 1000");
	expect_invalid("click", "{\"x\": \"10\", \"y\": 5}", DP_COORDS_PIXELS, "click.x: expected an integer");
	expect_invalid("click", "{\"x\": 10, \"y\": 5, \"colour\": 1}", DP_COORDS_PIXELS, "click.colour: unknown field");
	expect_invalid("click", "{\"x\": 10, ", DP_COORDS_PIXELS, "the arguments are not JSON (line 1, column");
	expect_invalid("click", "[1, 2]", DP_COORDS_PIXELS, "the arguments must be a JSON object");
	expect_invalid("click", "{\"action\": \"type\", \"x\": 1, \"y\": 1}", DP_COORDS_PIXELS,
		       "\"action\" is not an argument");
	expect_invalid("explode", "{}", DP_COORDS_PIXELS, "unknown action 'explode'");
	expect_invalid("button_down", "{}", DP_COORDS_PIXELS, "not a tool here");
	expect_invalid("drag", "{\"path\": [[10, 10], [10, 600]]}", DP_COORDS_PIXELS, "drag.path[1]: point (10, 600)");
	expect_invalid("zoom", "{\"x\": 800, \"y\": 10, \"width\": 200, \"height\": 10}", DP_COORDS_PIXELS,
		       "zoom: the region's bottom-right corner");
	expect_invalid("type", "{}", DP_COORDS_PIXELS, "type.text");
	expect_invalid("wait", "{\"ms\": 70000}", DP_COORDS_PIXELS, "wait.ms");
}

/* Where a model's point lands on the screen, as the loop maps it. */
static void landing(const char *args, enum dp_coord_space space, int32_t want_x, int32_t want_y)
{
	struct dp_coord_map map = screen_map(space);
	struct dp_action a;
	struct dp_error err = { 0 };
	int32_t x = -1, y = -1;

	TST_REQUIRE(parse("click", args, space, &a, &err) == 0);
	TST_REQUIRE(dp_coords_to_screen(&map, a.point.x, a.point.y, &x, &y, &err) == 0);
	if (x != want_x || y != want_y)
		fprintf(stderr, "  %s: landed at %d,%d, wanted %d,%d\n", args, x, y, want_x, want_y);
	TST_EQ_INT(x, want_x);
	TST_EQ_INT(y, want_y);
	dp_action_clear(&a);
}

static void test_coordinates_map_per_space(void)
{
	/* pixels of an 896x504 image of 1920x1080: 15/7 screen pixels per image pixel */
	landing("{\"x\": 0, \"y\": 0}", DP_COORDS_PIXELS, 0, 0);
	landing("{\"x\": 448, \"y\": 252}", DP_COORDS_PIXELS, 960, 540);
	landing("{\"x\": 896, \"y\": 504}", DP_COORDS_PIXELS, 1919, 1079);
	landing("{\"x\": 100, \"y\": 50}", DP_COORDS_PIXELS, 214, 107);
	/* 0-1000 of the same screen */
	landing("{\"x\": 500, \"y\": 500}", DP_COORDS_NORM1000, 960, 540);
	landing("{\"x\": 250, \"y\": 100}", DP_COORDS_NORM1000, 480, 108);
	landing("{\"x\": 1000, \"y\": 1000}", DP_COORDS_NORM1000, 1919, 1079);
}

static void test_verdict_tool(void)
{
	cJSON *tool = dp_model_verdict_tool(), *c;
	bool done = false;
	char *reason = NULL;
	struct dp_error err = { 0 };

	TST_REQUIRE(tool);
	TST_EQ_STR(cJSON_GetObjectItem(cJSON_GetObjectItem(tool, "function"), "name")->valuestring, "verdict");
	cJSON_Delete(tool);
	c = call("verdict", "{\"done\": false, \"reason\": \"the total is not saved\"}");
	TST_EQ_INT(dp_model_verdict_parse(c, &done, &reason, &err), 0);
	TST_CHECK(!done);
	TST_EQ_STR(reason, "the total is not saved");
	free(reason);
	cJSON_Delete(c);
	c = call("verdict", "{\"done\": \"yes\"}");
	TST_EQ_INT(dp_model_verdict_parse(c, &done, &reason, &err), -EINVAL);
	TST_CHECK(strstr(err.message, "verdict.done: expected true or false"));
	cJSON_Delete(c);
}

int main(void)
{
	TST_RUN(test_tools_describe_the_image);
	TST_RUN(test_calls_become_actions);
	TST_RUN(test_invalid_calls_say_what_is_wrong);
	TST_RUN(test_coordinates_map_per_space);
	TST_RUN(test_verdict_tool);
	TST_EXIT();
}
