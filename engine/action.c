#include "engine/action.h"
#include "engine/json.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const type_names[] = {
	[DP_ACTION_CLICK] = "click",
	[DP_ACTION_MOVE] = "move",
	[DP_ACTION_BUTTON_DOWN] = "button_down",
	[DP_ACTION_BUTTON_UP] = "button_up",
	[DP_ACTION_DRAG] = "drag",
	[DP_ACTION_SCROLL] = "scroll",
	[DP_ACTION_TYPE] = "type",
	[DP_ACTION_KEY] = "key",
	[DP_ACTION_KEY_DOWN] = "key_down",
	[DP_ACTION_KEY_UP] = "key_up",
	[DP_ACTION_HOLD] = "hold",
	[DP_ACTION_WAIT] = "wait",
	[DP_ACTION_ZOOM] = "zoom",
	[DP_ACTION_WINDOW] = "window",
	[DP_ACTION_LAUNCH] = "launch",
	[DP_ACTION_DONE] = "done",
	[DP_ACTION_FAIL] = "fail",
	[DP_ACTION_ASK_USER] = "ask_user",
};
#define N_TYPES (sizeof(type_names) / sizeof(type_names[0]))

/* The fields each action takes, besides "action" itself. */
static const char *const allowed_fields[N_TYPES][9] = {
	[DP_ACTION_CLICK] = { "x", "y", "button", "count", "modifiers" },
	[DP_ACTION_MOVE] = { "x", "y" },
	[DP_ACTION_BUTTON_DOWN] = { "x", "y", "button" },
	[DP_ACTION_BUTTON_UP] = { "x", "y", "button" },
	[DP_ACTION_DRAG] = { "path", "button", "modifiers" },
	[DP_ACTION_SCROLL] = { "x", "y", "dx", "dy", "modifiers" },
	[DP_ACTION_TYPE] = { "text", "method" },
	[DP_ACTION_KEY] = { "keys", "count" },
	[DP_ACTION_KEY_DOWN] = { "keys" },
	[DP_ACTION_KEY_UP] = { "keys" },
	[DP_ACTION_HOLD] = { "keys", "ms" },
	[DP_ACTION_WAIT] = { "ms", "until" },
	[DP_ACTION_ZOOM] = { "x", "y", "width", "height" },
	[DP_ACTION_WINDOW] = { "op", "title", "class", "pid", "id", "x", "y", "width", "height" },
	[DP_ACTION_LAUNCH] = { "argv" },
	[DP_ACTION_DONE] = { "summary" },
	[DP_ACTION_FAIL] = { "reason" },
	[DP_ACTION_ASK_USER] = { "question" },
};

static const char *const window_ops[] = {
	[DP_WINDOW_LIST] = "list",
	[DP_WINDOW_ACTIVATE] = "activate",
	[DP_WINDOW_MOVE] = "move",
	[DP_WINDOW_RESIZE] = "resize",
	[DP_WINDOW_MINIMIZE] = "minimize",
	[DP_WINDOW_MAXIMIZE] = "maximize",
	[DP_WINDOW_CLOSE] = "close",
};

static const char *const text_methods[] = {
	[DP_TEXT_AUTO] = "auto",
	[DP_TEXT_KEYS] = "keys",
	[DP_TEXT_PASTE] = "paste",
};

const char *dp_action_type_name(enum dp_action_type type)
{
	return (size_t)type < N_TYPES ? type_names[type] : "unknown";
}

struct reader {
	const cJSON *obj;
	const char *name; /* the action's name, first part of every path */
	struct dp_error *err;
};

static int field_error(const struct reader *r, const char *field, const char *msg)
{
	return dp_error_set(r->err, -EINVAL, "%s.%s: %s", r->name, field, msg);
}

static bool is_allowed(enum dp_action_type type, const char *field)
{
	for (size_t i = 0; i < 9 && allowed_fields[type][i]; i++)
		if (strcmp(allowed_fields[type][i], field) == 0)
			return true;
	return false;
}

static int check_fields(const struct reader *r, enum dp_action_type type)
{
	const cJSON *item;

	cJSON_ArrayForEach(item, r->obj) {
		char allowed[160] = "";

		if (strcmp(item->string, "action") == 0 || is_allowed(type, item->string))
			continue;
		for (size_t i = 0; i < 9 && allowed_fields[type][i]; i++) {
			if (i)
				strcat(allowed, ", ");
			strcat(allowed, allowed_fields[type][i]);
		}
		return dp_error_set(r->err, -EINVAL, "%s.%s: unknown field (%s takes: %s)", r->name,
				    item->string, r->name, allowed[0] ? allowed : "nothing else");
	}
	return 0;
}

/* Reads an integer field within [min, max]; *present says if it was there. */
static int read_int(const struct reader *r, const char *field, bool required, int64_t min, int64_t max,
		    int32_t *out, bool *present)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(r->obj, field);
	double v;

	if (present)
		*present = item != NULL;
	if (!item)
		return required ? field_error(r, field, "missing (required)") : 0;
	if (!cJSON_IsNumber(item))
		return field_error(r, field, "expected an integer");
	v = item->valuedouble;
	/* Range first: converting a huge double to an integer is undefined. */
	if (!(v >= (double)min && v <= (double)max))
		return dp_error_set(r->err, -EINVAL, "%s.%s: %.15g is outside %" PRId64 "..%" PRId64, r->name,
				    field, v, min, max);
	if (v != (double)(int64_t)v)
		return field_error(r, field, "expected an integer, not a fraction");
	*out = (int32_t)v;
	return 0;
}

static int read_string(const struct reader *r, const char *field, bool required, char **out)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(r->obj, field);

	if (!item)
		return required ? field_error(r, field, "missing (required)") : 0;
	if (!cJSON_IsString(item))
		return field_error(r, field, "expected a string");
	if (strlen(item->valuestring) > DP_ACTION_MAX_TEXT)
		return field_error(r, field, "longer than the limit of 1 MiB");
	*out = strdup(item->valuestring);
	return *out ? 0 : -ENOMEM;
}

static int read_enum(const struct reader *r, const char *field, const char *const *names, size_t n,
		     int *out)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(r->obj, field);
	char list[160] = "";

	if (!item)
		return 0;
	if (cJSON_IsString(item)) {
		for (size_t i = 0; i < n; i++) {
			if (strcmp(item->valuestring, names[i]) == 0) {
				*out = (int)i;
				return 0;
			}
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (i)
			strcat(list, ", ");
		strcat(list, names[i]);
	}
	return dp_error_set(r->err, -EINVAL, "%s.%s: expected one of %s", r->name, field, list);
}

/* "left", "middle", "right", "back", "forward" or a number 1..9. */
static int read_button(const struct reader *r, struct dp_action *a)
{
	static const char *const names[] = { "left", "middle", "right", "back", "forward" };
	static const uint8_t numbers[] = { 1, 2, 3, 8, 9 };
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(r->obj, "button");
	int32_t v;

	a->button = 1;
	if (!item)
		return 0;
	if (cJSON_IsString(item)) {
		for (size_t i = 0; i < 5; i++) {
			if (strcmp(item->valuestring, names[i]) == 0) {
				a->button = numbers[i];
				return 0;
			}
		}
		return field_error(r, "button", "expected left, middle, right, back, forward or 1..9");
	}
	if (read_int(r, "button", false, 1, 9, &v, NULL) < 0)
		return -EINVAL;
	a->button = (uint8_t)v;
	return 0;
}

static int read_point(const struct reader *r, struct dp_action *a, bool required)
{
	bool has_x = false, has_y = false;

	if (read_int(r, "x", required, INT16_MIN, INT16_MAX, &a->point.x, &has_x) < 0 ||
	    read_int(r, "y", required, INT16_MIN, INT16_MAX, &a->point.y, &has_y) < 0)
		return -EINVAL;
	if (has_x != has_y)
		return field_error(r, has_x ? "y" : "x", "missing (x and y go together)");
	a->has_point = has_x;
	return 0;
}

static int read_path(const struct reader *r, struct dp_action *a)
{
	const cJSON *path = cJSON_GetObjectItemCaseSensitive(r->obj, "path"), *pt;
	size_t i = 0;

	if (!path)
		return field_error(r, "path", "missing (required: [[x, y], [x, y], ...])");
	if (!cJSON_IsArray(path) || cJSON_GetArraySize(path) < 2 || cJSON_GetArraySize(path) > DP_ACTION_MAX_POINTS)
		return field_error(r, "path", "expected an array of 2 to 256 [x, y] points");
	a->n_path = (size_t)cJSON_GetArraySize(path);
	a->path = calloc(a->n_path, sizeof(*a->path));
	if (!a->path)
		return -ENOMEM;
	cJSON_ArrayForEach(pt, path) {
		const cJSON *x = cJSON_GetArrayItem(pt, 0), *y = cJSON_GetArrayItem(pt, 1);

		if (!cJSON_IsArray(pt) || cJSON_GetArraySize(pt) != 2 || !cJSON_IsNumber(x) || !cJSON_IsNumber(y) ||
		    x->valuedouble != (double)x->valueint || y->valuedouble != (double)y->valueint ||
		    x->valueint < INT16_MIN || x->valueint > INT16_MAX || y->valueint < INT16_MIN ||
		    y->valueint > INT16_MAX)
			return dp_error_set(r->err, -EINVAL, "%s.path[%zu]: expected [x, y] with integers", r->name, i);
		a->path[i++] = (struct dp_point){ x->valueint, y->valueint };
	}
	return 0;
}

static int read_argv(const struct reader *r, struct dp_action *a)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(r->obj, "argv"), *item;
	size_t i = 0, n;

	if (!list)
		return field_error(r, "argv", "missing (required: [\"program\", \"arg\", ...])");
	n = cJSON_IsArray(list) ? (size_t)cJSON_GetArraySize(list) : 0;
	if (n < 1 || n > DP_ACTION_MAX_ARGS)
		return field_error(r, "argv", "expected an array of 1 to 64 strings");
	a->argv = calloc(n + 1, sizeof(char *));
	if (!a->argv)
		return -ENOMEM;
	cJSON_ArrayForEach(item, list) {
		if (!cJSON_IsString(item) || !item->valuestring[0])
			return dp_error_set(r->err, -EINVAL, "%s.argv[%zu]: expected a non-empty string", r->name, i);
		a->argv[i] = strdup(item->valuestring);
		if (!a->argv[i++])
			return -ENOMEM;
	}
	return 0;
}

static int read_window(const struct reader *r, struct dp_action *a)
{
	int op = DP_WINDOW_LIST, r2;
	int32_t id = 0;
	bool has_w = false, has_h = false;

	if (!cJSON_GetObjectItemCaseSensitive(r->obj, "op"))
		return field_error(r, "op", "missing (one of list, activate, move, resize, minimize, maximize, close)");
	if (read_enum(r, "op", window_ops, sizeof(window_ops) / sizeof(window_ops[0]), &op) < 0)
		return -EINVAL;
	a->window_op = (enum dp_window_op)op;
	r2 = read_string(r, "title", false, &a->match.title);
	if (r2 == 0)
		r2 = read_string(r, "class", false, &a->match.class_re);
	if (r2 == 0)
		r2 = read_int(r, "pid", false, 1, INT32_MAX, &a->match.pid, NULL);
	if (r2 == 0)
		r2 = read_int(r, "id", false, 1, INT32_MAX, &id, NULL);
	if (r2 < 0)
		return r2;
	a->match.id = (uint32_t)id;
	if (read_point(r, a, a->window_op == DP_WINDOW_MOVE) < 0 ||
	    read_int(r, "width", a->window_op == DP_WINDOW_RESIZE, 1, INT16_MAX, &a->width, &has_w) < 0 ||
	    read_int(r, "height", a->window_op == DP_WINDOW_RESIZE, 1, INT16_MAX, &a->height, &has_h) < 0)
		return -EINVAL;
	if (a->window_op != DP_WINDOW_LIST && !a->match.title && !a->match.class_re && !a->match.pid && !a->match.id)
		return dp_error_set(r->err, -EINVAL, "%s: say which window: title, class, pid or id", r->name);
	return 0;
}

static int read_fields(const struct reader *r, struct dp_action *a)
{
	int method = DP_TEXT_AUTO;
	int32_t count = 1;

	switch (a->type) {
	case DP_ACTION_CLICK:
		if (read_point(r, a, true) < 0 || read_button(r, a) < 0 ||
		    read_int(r, "count", false, 1, 3, &count, NULL) < 0)
			return -EINVAL;
		a->count = (uint8_t)count;
		return read_string(r, "modifiers", false, &a->keys);
	case DP_ACTION_MOVE:
		return read_point(r, a, true);
	case DP_ACTION_BUTTON_DOWN:
	case DP_ACTION_BUTTON_UP:
		return read_point(r, a, false) < 0 ? -EINVAL : read_button(r, a);
	case DP_ACTION_DRAG:
		if (read_path(r, a) < 0 || read_button(r, a) < 0)
			return -EINVAL;
		return read_string(r, "modifiers", false, &a->keys);
	case DP_ACTION_SCROLL:
		if (read_point(r, a, false) < 0 || read_int(r, "dx", false, -1000, 1000, &a->dx, NULL) < 0 ||
		    read_int(r, "dy", false, -1000, 1000, &a->dy, NULL) < 0)
			return -EINVAL;
		if (!a->dx && !a->dy)
			return field_error(r, "dy", "give dx or dy (wheel clicks; +dy scrolls down)");
		return read_string(r, "modifiers", false, &a->keys);
	case DP_ACTION_TYPE:
		if (read_enum(r, "method", text_methods, 3, &method) < 0)
			return -EINVAL;
		a->method = (enum dp_text_method)method;
		return read_string(r, "text", true, &a->text);
	case DP_ACTION_KEY:
		if (read_int(r, "count", false, 1, 100, &count, NULL) < 0)
			return -EINVAL;
		a->count = (uint8_t)count;
		return read_string(r, "keys", true, &a->keys);
	case DP_ACTION_KEY_DOWN:
	case DP_ACTION_KEY_UP:
		return read_string(r, "keys", true, &a->keys);
	case DP_ACTION_HOLD:
		if (read_int(r, "ms", true, 1, 60000, &a->ms, NULL) < 0)
			return -EINVAL;
		return read_string(r, "keys", true, &a->keys);
	case DP_ACTION_WAIT: {
		static const char *const untils[] = { "time", "change", "quiet" };
		int until = 0;

		if (read_enum(r, "until", untils, 3, &until) < 0)
			return -EINVAL;
		a->until = (enum dp_wait_until)until;
		return read_int(r, "ms", true, 0, 60000, &a->ms, NULL);
	}
	case DP_ACTION_ZOOM:
		if (read_point(r, a, true) < 0)
			return -EINVAL;
		if (read_int(r, "width", true, 1, INT16_MAX, &a->width, NULL) < 0)
			return -EINVAL;
		return read_int(r, "height", true, 1, INT16_MAX, &a->height, NULL);
	case DP_ACTION_WINDOW:
		return read_window(r, a);
	case DP_ACTION_LAUNCH:
		return read_argv(r, a);
	case DP_ACTION_DONE:
		return read_string(r, "summary", false, &a->text);
	case DP_ACTION_FAIL:
		return read_string(r, "reason", true, &a->text);
	case DP_ACTION_ASK_USER:
		return read_string(r, "question", true, &a->text);
	}
	return -EINVAL;
}

int dp_action_parse(const char *json, size_t len, struct dp_action *a, struct dp_error *err)
{
	return dp_action_parse_line(json, len, 1, a, err);
}

int dp_action_parse_line(const char *json, size_t len, int line, struct dp_action *a, struct dp_error *err)
{
	cJSON *root = NULL;
	const cJSON *name;
	struct reader r = { .err = err };
	int ret = -EINVAL;

	memset(a, 0, sizeof(*a));
	if (dp_json_parse(json, len, line, &root, err) < 0)
		return -EINVAL;
	if (!cJSON_IsObject(root)) {
		dp_error_set(err, -EINVAL, "expected a JSON object such as {\"action\": \"click\", \"x\": 10, \"y\": 20}");
		goto out;
	}
	name = cJSON_GetObjectItemCaseSensitive(root, "action");
	if (!cJSON_IsString(name)) {
		dp_error_set(err, -EINVAL, "action: missing or not a string (click, move, type, key, ...)");
		goto out;
	}
	for (size_t i = 0; i < N_TYPES; i++) {
		if (strcmp(name->valuestring, type_names[i]) == 0) {
			a->type = (enum dp_action_type)i;
			r.obj = root;
			r.name = type_names[i];
			ret = check_fields(&r, a->type);
			if (ret == 0)
				ret = read_fields(&r, a);
			goto out;
		}
	}
	dp_error_set(err, -EINVAL,
		     "action: unknown action '%s' (one of click, move, button_down, button_up, drag, scroll, "
		     "type, key, key_down, key_up, hold, wait, zoom, window, launch, done, fail, ask_user)",
		     name->valuestring);
out:
	cJSON_Delete(root);
	if (ret < 0)
		dp_action_clear(a);
	return ret;
}

static void add_point(cJSON *obj, const struct dp_action *a)
{
	if (!a->has_point)
		return;
	cJSON_AddNumberToObject(obj, "x", a->point.x);
	cJSON_AddNumberToObject(obj, "y", a->point.y);
}

char *dp_action_to_json(const struct dp_action *a)
{
	cJSON *obj = cJSON_CreateObject();
	char *out;

	if (!obj)
		return NULL;
	cJSON_AddStringToObject(obj, "action", dp_action_type_name(a->type));
	add_point(obj, a);
	switch (a->type) {
	case DP_ACTION_CLICK:
		cJSON_AddNumberToObject(obj, "button", a->button);
		cJSON_AddNumberToObject(obj, "count", a->count);
		break;
	case DP_ACTION_BUTTON_DOWN:
	case DP_ACTION_BUTTON_UP:
	case DP_ACTION_DRAG:
		cJSON_AddNumberToObject(obj, "button", a->button);
		break;
	case DP_ACTION_SCROLL:
		cJSON_AddNumberToObject(obj, "dx", a->dx);
		cJSON_AddNumberToObject(obj, "dy", a->dy);
		break;
	case DP_ACTION_TYPE:
		cJSON_AddStringToObject(obj, "text", a->text);
		cJSON_AddStringToObject(obj, "method", text_methods[a->method]);
		break;
	case DP_ACTION_KEY:
		cJSON_AddNumberToObject(obj, "count", a->count);
		break;
	case DP_ACTION_HOLD:
	case DP_ACTION_WAIT:
		cJSON_AddNumberToObject(obj, "ms", a->ms);
		if (a->until != DP_WAIT_TIME)
			cJSON_AddStringToObject(obj, "until", a->until == DP_WAIT_CHANGE ? "change" : "quiet");
		break;
	case DP_ACTION_ZOOM:
		cJSON_AddNumberToObject(obj, "width", a->width);
		cJSON_AddNumberToObject(obj, "height", a->height);
		break;
	case DP_ACTION_WINDOW:
		cJSON_AddStringToObject(obj, "op", window_ops[a->window_op]);
		if (a->match.title)
			cJSON_AddStringToObject(obj, "title", a->match.title);
		if (a->match.class_re)
			cJSON_AddStringToObject(obj, "class", a->match.class_re);
		if (a->match.pid)
			cJSON_AddNumberToObject(obj, "pid", a->match.pid);
		if (a->match.id)
			cJSON_AddNumberToObject(obj, "id", a->match.id);
		if (a->width)
			cJSON_AddNumberToObject(obj, "width", a->width);
		if (a->height)
			cJSON_AddNumberToObject(obj, "height", a->height);
		break;
	case DP_ACTION_LAUNCH: {
		cJSON *argv = cJSON_AddArrayToObject(obj, "argv");

		for (size_t i = 0; a->argv && a->argv[i]; i++)
			cJSON_AddItemToArray(argv, cJSON_CreateString(a->argv[i]));
		break;
	}
	case DP_ACTION_DONE:
		if (a->text)
			cJSON_AddStringToObject(obj, "summary", a->text);
		break;
	case DP_ACTION_FAIL:
		cJSON_AddStringToObject(obj, "reason", a->text);
		break;
	case DP_ACTION_ASK_USER:
		cJSON_AddStringToObject(obj, "question", a->text);
		break;
	default:
		break;
	}
	if (a->keys)
		cJSON_AddStringToObject(obj, a->type == DP_ACTION_CLICK || a->type == DP_ACTION_DRAG ||
						     a->type == DP_ACTION_SCROLL ? "modifiers" : "keys", a->keys);
	if (a->type == DP_ACTION_DRAG) {
		cJSON *path = cJSON_AddArrayToObject(obj, "path");

		for (size_t i = 0; i < a->n_path; i++) {
			int xy[2] = { a->path[i].x, a->path[i].y };

			cJSON_AddItemToArray(path, cJSON_CreateIntArray(xy, 2));
		}
	}
	out = cJSON_PrintUnformatted(obj);
	cJSON_Delete(obj);
	return out;
}

void dp_action_clear(struct dp_action *a)
{
	free(a->keys);
	free(a->text);
	free(a->path);
	free(a->match.title);
	free(a->match.class_re);
	for (size_t i = 0; a->argv && a->argv[i]; i++)
		free(a->argv[i]);
	free(a->argv);
	memset(a, 0, sizeof(*a));
}
