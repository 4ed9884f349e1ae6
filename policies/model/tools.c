#include "policies/model/tools.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/json.h"

struct tool_spec {
	const char *name;
	const char *description; /* %s: the coordinate note */
	const char *parameters;  /* JSON schema; {XMAX}/{YMAX} are not used: ranges are in the text */
};

#define POINT_PROPS                                                                                                  \
	"\"x\": {\"type\": \"integer\", \"description\": \"horizontal position in the screenshot's coordinates\"}, " \
	"\"y\": {\"type\": \"integer\", \"description\": \"vertical position in the screenshot's coordinates\"}"
#define BUTTON_PROP                                                                                                  \
	"\"button\": {\"type\": \"string\", \"enum\": [\"left\", \"middle\", \"right\", \"back\", \"forward\"], "      \
	"\"description\": \"mouse button (default left)\"}"
#define MODIFIERS_PROP                                                                                               \
	"\"modifiers\": {\"type\": \"string\", \"description\": \"keys held meanwhile, such as \\\"ctrl\\\" or "      \
	"\\\"ctrl+shift\\\"\"}"

static const struct tool_spec specs[] = {
	{ "click", "Click at a point. %s",
	  "{\"type\": \"object\", \"properties\": {" POINT_PROPS ", " BUTTON_PROP ", "
	  "\"count\": {\"type\": \"integer\", \"minimum\": 1, \"maximum\": 3, \"description\": \"2 for a double click\"}, "
	  MODIFIERS_PROP "}, \"required\": [\"x\", \"y\"], \"additionalProperties\": false}" },
	{ "move", "Move the mouse pointer to a point (hover). %s",
	  "{\"type\": \"object\", \"properties\": {" POINT_PROPS "}, \"required\": [\"x\", \"y\"], "
	  "\"additionalProperties\": false}" },
	{ "drag", "Press the button at the first point of path, move through the others, release at the last. %s",
	  "{\"type\": \"object\", \"properties\": {\"path\": {\"type\": \"array\", \"minItems\": 2, \"maxItems\": 256, "
	  "\"items\": {\"type\": \"array\", \"items\": {\"type\": \"integer\"}, \"minItems\": 2, \"maxItems\": 2}, "
	  "\"description\": \"[[x, y], ...] in the screenshot's coordinates\"}, " BUTTON_PROP ", " MODIFIERS_PROP
	  "}, \"required\": [\"path\"], \"additionalProperties\": false}" },
	{ "scroll", "Turn the mouse wheel, at a point if given. dy > 0 scrolls down, dx > 0 right, in wheel clicks. %s",
	  "{\"type\": \"object\", \"properties\": {" POINT_PROPS ", "
	  "\"dx\": {\"type\": \"integer\", \"minimum\": -1000, \"maximum\": 1000}, "
	  "\"dy\": {\"type\": \"integer\", \"minimum\": -1000, \"maximum\": 1000}, " MODIFIERS_PROP
	  "}, \"additionalProperties\": false}" },
	{ "type", "Type text exactly (any Unicode) into the focused field. Click the field first.%s",
	  "{\"type\": \"object\", \"properties\": {\"text\": {\"type\": \"string\"}, "
	  "\"method\": {\"type\": \"string\", \"enum\": [\"auto\", \"keys\", \"paste\"]}}, \"required\": [\"text\"], "
	  "\"additionalProperties\": false}" },
	{ "key", "Press a key or chord, such as \"Return\", \"ctrl+s\", \"alt+F4\" (xdotool key names).%s",
	  "{\"type\": \"object\", \"properties\": {\"keys\": {\"type\": \"string\"}, "
	  "\"count\": {\"type\": \"integer\", \"minimum\": 1, \"maximum\": 100}}, \"required\": [\"keys\"], "
	  "\"additionalProperties\": false}" },
	{ "key_down", "Press and keep holding a key (release it with key_up).%s",
	  "{\"type\": \"object\", \"properties\": {\"keys\": {\"type\": \"string\"}}, \"required\": [\"keys\"], "
	  "\"additionalProperties\": false}" },
	{ "key_up", "Release a key held with key_down.%s",
	  "{\"type\": \"object\", \"properties\": {\"keys\": {\"type\": \"string\"}}, \"required\": [\"keys\"], "
	  "\"additionalProperties\": false}" },
	{ "hold", "Hold keys for ms milliseconds.%s",
	  "{\"type\": \"object\", \"properties\": {\"keys\": {\"type\": \"string\"}, "
	  "\"ms\": {\"type\": \"integer\", \"minimum\": 1, \"maximum\": 60000}}, \"required\": [\"keys\", \"ms\"], "
	  "\"additionalProperties\": false}" },
	{ "wait", "Wait: the whole time (until=time), until the screen has changed (change) or is quiet (quiet), at "
		  "most ms milliseconds.%s",
	  "{\"type\": \"object\", \"properties\": {\"ms\": {\"type\": \"integer\", \"minimum\": 0, \"maximum\": 60000}, "
	  "\"until\": {\"type\": \"string\", \"enum\": [\"time\", \"change\", \"quiet\"]}}, \"required\": [\"ms\"], "
	  "\"additionalProperties\": false}" },
	{ "zoom", "Look closer: the region with top-left corner (x, y) and the given width and height comes back as "
		  "the next image at full resolution (for small text). %s",
	  "{\"type\": \"object\", \"properties\": {" POINT_PROPS ", "
	  "\"width\": {\"type\": \"integer\", \"minimum\": 1}, \"height\": {\"type\": \"integer\", \"minimum\": 1}}, "
	  "\"required\": [\"x\", \"y\", \"width\", \"height\"], \"additionalProperties\": false}" },
	{ "window", "List, activate, move, resize, minimize, maximize or close windows, chosen by title (regex), "
		    "class (regex), pid or id. x, y, width, height here are screen pixels.%s",
	  "{\"type\": \"object\", \"properties\": {\"op\": {\"type\": \"string\", \"enum\": [\"list\", \"activate\", "
	  "\"move\", \"resize\", \"minimize\", \"maximize\", \"close\"]}, \"title\": {\"type\": \"string\"}, "
	  "\"class\": {\"type\": \"string\"}, \"pid\": {\"type\": \"integer\"}, \"id\": {\"type\": \"integer\"}, "
	  "\"x\": {\"type\": \"integer\"}, \"y\": {\"type\": \"integer\"}, \"width\": {\"type\": \"integer\"}, "
	  "\"height\": {\"type\": \"integer\"}}, \"required\": [\"op\"], \"additionalProperties\": false}" },
	{ "launch", "Start a program (only those the task allows), argv[0] first; no shell.%s",
	  "{\"type\": \"object\", \"properties\": {\"argv\": {\"type\": \"array\", \"items\": {\"type\": \"string\"}, "
	  "\"minItems\": 1}}, \"required\": [\"argv\"], \"additionalProperties\": false}" },
	{ "done", "The task is complete: say what was done. A check of the final screen follows.%s",
	  "{\"type\": \"object\", \"properties\": {\"summary\": {\"type\": \"string\"}}, \"additionalProperties\": false}" },
	{ "fail", "Give up: the task cannot be done; say why.%s",
	  "{\"type\": \"object\", \"properties\": {\"reason\": {\"type\": \"string\"}}, \"required\": [\"reason\"], "
	  "\"additionalProperties\": false}" },
	{ "ask_user", "Ask the person who gave the task a question and wait for the answer.%s",
	  "{\"type\": \"object\", \"properties\": {\"question\": {\"type\": \"string\"}}, \"required\": [\"question\"], "
	  "\"additionalProperties\": false}" },
};

static bool has_coords(const char *name)
{
	return !strcmp(name, "click") || !strcmp(name, "move") || !strcmp(name, "drag") || !strcmp(name, "scroll") ||
	       !strcmp(name, "zoom");
}

cJSON *dp_model_tools_build(enum dp_coord_space space, int32_t image_w, int32_t image_h)
{
	cJSON *tools = cJSON_CreateArray();
	char note[256], desc[1024];

	if (space == DP_COORDS_NORM1000)
		snprintf(note, sizeof(note),
			 "Coordinates are normalized to 0-1000 on both axes of the screenshot (the %dx%d image): "
			 "(0,0) is its top-left corner, (1000,1000) its bottom-right.",
			 image_w, image_h);
	else
		snprintf(note, sizeof(note),
			 "Coordinates are pixels of the screenshot image you were sent (%dx%d): x from 0 to %d, y from 0 "
			 "to %d, (0,0) at the top-left.",
			 image_w, image_h, image_w, image_h);
	for (size_t i = 0; tools && i < sizeof(specs) / sizeof(specs[0]); i++) {
		cJSON *tool = cJSON_CreateObject(), *fn, *params = cJSON_Parse(specs[i].parameters);

		snprintf(desc, sizeof(desc), specs[i].description, has_coords(specs[i].name) ? note : "");
		if (!tool || !params) {
			cJSON_Delete(tool);
			cJSON_Delete(params);
			cJSON_Delete(tools);
			return NULL;
		}
		cJSON_AddStringToObject(tool, "type", "function");
		fn = cJSON_AddObjectToObject(tool, "function");
		cJSON_AddStringToObject(fn, "name", specs[i].name);
		cJSON_AddStringToObject(fn, "description", desc);
		cJSON_AddItemToObject(fn, "parameters", params);
		cJSON_AddItemToArray(tools, tool);
	}
	return tools;
}

cJSON *dp_model_verdict_tool(void)
{
	static const char tool[] =
		"{\"type\": \"function\", \"function\": {\"name\": \"verdict\", \"description\": \"Whether the final "
		"screenshot shows the task done.\", \"parameters\": {\"type\": \"object\", \"properties\": {\"done\": "
		"{\"type\": \"boolean\"}, \"reason\": {\"type\": \"string\", \"description\": \"what on the screen shows "
		"it, or what is still missing\"}}, \"required\": [\"done\", \"reason\"], \"additionalProperties\": "
		"false}}}";

	return cJSON_Parse(tool);
}

/* The function name and the arguments object of a tool call. */
static int call_parts(const cJSON *call, const char **name, cJSON **args, struct dp_error *err)
{
	const cJSON *fn = cJSON_GetObjectItemCaseSensitive(call, "function");
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(fn, "name");
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(fn, "arguments");
	struct dp_error jerr = { 0 };

	*args = NULL;
	if (!cJSON_IsObject(fn) || !cJSON_IsString(n))
		return dp_error_set(err, -EINVAL, "a tool call without a function name");
	*name = n->valuestring;
	if (!a || cJSON_IsNull(a) || (cJSON_IsString(a) && a->valuestring[strspn(a->valuestring, " \t\r\n")] == '\0')) {
		*args = cJSON_CreateObject();
	} else if (cJSON_IsString(a)) {
		if (dp_json_parse(a->valuestring, strlen(a->valuestring), 1, args, &jerr) < 0)
			return dp_error_set(err, -EINVAL, "%s: the arguments are not JSON (%s)", *name, jerr.message);
	} else if (cJSON_IsObject(a)) {
		*args = cJSON_Duplicate(a, 1);
	} else {
		return dp_error_set(err, -EINVAL, "%s: the arguments must be a JSON object", *name);
	}
	if (!*args)
		return dp_error_set(err, -ENOMEM, "out of memory");
	if (!cJSON_IsObject(*args)) {
		cJSON_Delete(*args);
		*args = NULL;
		return dp_error_set(err, -EINVAL, "%s: the arguments must be a JSON object", *name);
	}
	return 0;
}

static int check_point(const struct dp_coord_map *map, const char *what, struct dp_point p, struct dp_error *err)
{
	struct dp_error cerr = { 0 };
	int32_t sx, sy;

	if (dp_coords_to_screen(map, p.x, p.y, &sx, &sy, &cerr) < 0)
		return dp_error_set(err, -ERANGE, "%s: %s", what, cerr.message);
	return 0;
}

int dp_model_check_points(const struct dp_action *a, const struct dp_coord_map *map, struct dp_error *err)
{
	const char *name = dp_action_type_name(a->type);
	char what[64];
	int r = 0;

	if (a->type == DP_ACTION_WINDOW)
		return 0; /* screen pixels */
	if (a->has_point)
		r = check_point(map, name, a->point, err);
	for (size_t i = 0; r == 0 && i < a->n_path; i++) {
		snprintf(what, sizeof(what), "%s.path[%zu]", name, i);
		r = check_point(map, what, a->path[i], err);
	}
	if (r == 0 && a->type == DP_ACTION_ZOOM) {
		struct dp_point far = { a->point.x + a->width, a->point.y + a->height };

		r = check_point(map, "zoom: the region's bottom-right corner", far, err);
	}
	return r;
}

/* Models often give coordinates with decimals (448.5): the nearest whole
 * pixel or unit is what they mean.  Other numbers stay as they are. */
static void round_number(cJSON *v)
{
	if (cJSON_IsNumber(v) && isfinite(v->valuedouble) && fabs(v->valuedouble) < 1e9 &&
	    v->valuedouble != floor(v->valuedouble))
		cJSON_SetNumberValue(v, floor(v->valuedouble + 0.5));
}

static void round_coordinates(cJSON *args)
{
	static const char *const keys[] = { "x", "y", "width", "height" };
	cJSON *pt, *v;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		round_number(cJSON_GetObjectItemCaseSensitive(args, keys[i]));
	cJSON_ArrayForEach(pt, cJSON_GetObjectItemCaseSensitive(args, "path"))
		cJSON_ArrayForEach(v, pt)
			round_number(v);
}

int dp_model_tool_call_parse(const cJSON *call, const struct dp_coord_map *map, struct dp_action *action,
			     struct dp_error *err)
{
	const char *name = NULL;
	cJSON *args = NULL, *type;
	char *json;
	int r;

	memset(action, 0, sizeof(*action));
	r = call_parts(call, &name, &args, err);
	if (r < 0)
		return r;
	if (cJSON_GetObjectItemCaseSensitive(args, "action")) {
		cJSON_Delete(args);
		return dp_error_set(err, -EINVAL, "%s: \"action\" is not an argument: the tool's name says it", name);
	}
	if (!strcmp(name, "button_down") || !strcmp(name, "button_up")) {
		cJSON_Delete(args);
		return dp_error_set(err, -EINVAL, "%s: not a tool here; use click, drag or move", name);
	}
	round_coordinates(args);
	type = cJSON_CreateString(name);
	if (!type || !cJSON_AddItemToObject(args, "action", type)) {
		cJSON_Delete(type);
		cJSON_Delete(args);
		return dp_error_set(err, -ENOMEM, "out of memory");
	}
	json = cJSON_PrintUnformatted(args);
	cJSON_Delete(args);
	if (!json)
		return dp_error_set(err, -ENOMEM, "out of memory");
	r = dp_action_parse(json, strlen(json), action, err);
	free(json);
	if (r < 0)
		return r;
	if (map && (r = dp_model_check_points(action, map, err)) < 0)
		dp_action_clear(action);
	return r;
}

int dp_model_verdict_parse(const cJSON *call, bool *done, char **reason, struct dp_error *err)
{
	const char *name = NULL;
	cJSON *args = NULL;
	const cJSON *d, *why;
	int r = call_parts(call, &name, &args, err);

	*reason = NULL;
	if (r < 0)
		return r;
	d = cJSON_GetObjectItemCaseSensitive(args, "done");
	why = cJSON_GetObjectItemCaseSensitive(args, "reason");
	if (strcmp(name, "verdict") != 0)
		r = dp_error_set(err, -EINVAL, "the verifier called '%s', not verdict", name);
	else if (!cJSON_IsBool(d))
		r = dp_error_set(err, -EINVAL, "verdict.done: expected true or false");
	else if (why && !cJSON_IsString(why))
		r = dp_error_set(err, -EINVAL, "verdict.reason: expected a string");
	if (r == 0) {
		*done = cJSON_IsTrue(d);
		if (why && !(*reason = strdup(why->valuestring)))
			r = -ENOMEM;
	}
	cJSON_Delete(args);
	return r;
}
