#include "policies/model/uitars.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policies/model/tools.h"

#define MAX_ARGS 4

struct call {
	char name[32];
	struct {
		char key[32];
		char *value; /* unescaped, malloc'ed */
	} args[MAX_ARGS];
	int n_args;
};

static void call_free(struct call *c)
{
	for (int i = 0; i < c->n_args; i++)
		free(c->args[i].value);
	memset(c, 0, sizeof(*c));
}

static const char *arg(const struct call *c, const char *key)
{
	for (int i = 0; i < c->n_args; i++)
		if (!strcmp(c->args[i].key, key))
			return c->args[i].value;
	return NULL;
}

/* A quoted value: '...' or "...", with \' \" \\ \n \t escapes. */
static int read_quoted(const char **pp, char **out, struct dp_error *err)
{
	const char *p = *pp;
	char quote = *p++, *buf;
	size_t n = 0;

	buf = malloc(strlen(p) + 1);
	if (!buf)
		return -ENOMEM;
	while (*p && *p != quote) {
		if (*p == '\\' && p[1]) {
			p++;
			buf[n++] = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p;
			p++;
			continue;
		}
		buf[n++] = *p++;
	}
	if (*p != quote) {
		free(buf);
		return dp_error_set(err, -EINVAL, "a quoted value is not closed (missing %c)", quote);
	}
	buf[n] = '\0';
	*out = buf;
	*pp = p + 1;
	return 0;
}

/* name(key='value', key2='value2') */
static int read_call(const char **pp, struct call *c, struct dp_error *err)
{
	const char *p = *pp;
	size_t n = 0;
	int r;

	memset(c, 0, sizeof(*c));
	while (isalnum((unsigned char)*p) || *p == '_') {
		if (n + 1 < sizeof(c->name))
			c->name[n++] = *p;
		p++;
	}
	c->name[n] = '\0';
	if (!n)
		return dp_error_set(err, -EINVAL, "expected an action such as click(start_box='(x,y)'), got \"%.40s\"", p);
	while (*p == ' ')
		p++;
	if (*p != '(')
		return dp_error_set(err, -EINVAL, "%s: expected '(' after the action's name", c->name);
	p++;
	for (;;) {
		while (isspace((unsigned char)*p) || *p == ',')
			p++;
		if (*p == ')') {
			*pp = p + 1;
			return 0;
		}
		if (c->n_args == MAX_ARGS) {
			r = dp_error_set(err, -EINVAL, "%s: too many arguments", c->name);
			call_free(c);
			return r;
		}
		n = 0;
		while (isalnum((unsigned char)*p) || *p == '_') {
			if (n + 1 < sizeof(c->args[0].key))
				c->args[c->n_args].key[n++] = *p;
			p++;
		}
		c->args[c->n_args].key[n] = '\0';
		while (*p == ' ')
			p++;
		if (!n || *p != '=') {
			r = dp_error_set(err, -EINVAL, "%s: expected key='value' arguments and a closing ')'", c->name);
			call_free(c);
			return r;
		}
		p++;
		while (*p == ' ')
			p++;
		if (*p != '\'' && *p != '"') {
			r = dp_error_set(err, -EINVAL, "%s: the value of %s must be quoted", c->name,
					    c->args[c->n_args].key);
			call_free(c);
			return r;
		}
		r = read_quoted(&p, &c->args[c->n_args].value, err);
		if (r < 0) {
			call_free(c);
			return r;
		}
		c->n_args++;
	}
}

/* "(x,y)", "<|box_start|>(x,y)<|box_end|>", "[x1,y1,x2,y2]" (the box's
 * centre), "<point>x y</point>". */
static int read_point(const char *action, const char *key, const char *value, struct dp_point *pt, struct dp_error *err)
{
	double v[4];
	int n = 0;
	const char *p = value;

	if (!value)
		return dp_error_set(err, -EINVAL, "%s: %s is missing (such as %s='(100,200)')", action, key, key);
	while (*p && n < 5) {
		char *end;
		double d;

		if (!(isdigit((unsigned char)*p) || ((*p == '-' || *p == '.') && isdigit((unsigned char)p[1])))) {
			/* skip the wrapping tokens and separators, not other numbers */
			if (*p == '<') {
				const char *close = strchr(p, '>');

				p = close ? close + 1 : p + 1;
			} else {
				p++;
			}
			continue;
		}
		d = strtod(p, &end);
		if (n < 4)
			v[n] = d;
		n++;
		p = end;
	}
	if (n == 4) {
		v[0] = (v[0] + v[2]) / 2;
		v[1] = (v[1] + v[3]) / 2;
	} else if (n != 2) {
		return dp_error_set(err, -EINVAL, "%s: %s='%.60s' is not a point: expected '(x,y)'", action, key, value);
	}
	if (v[0] < -32768 || v[0] > 32767 || v[1] < -32768 || v[1] > 32767)
		return dp_error_set(err, -ERANGE, "%s: %s='%.60s' is far outside the image", action, key, value);
	pt->x = (int32_t)(v[0] + (v[0] < 0 ? -0.5 : 0.5));
	pt->y = (int32_t)(v[1] + (v[1] < 0 ? -0.5 : 0.5));
	return 0;
}

static void add_point(cJSON *o, struct dp_point p)
{
	cJSON_AddNumberToObject(o, "x", p.x);
	cJSON_AddNumberToObject(o, "y", p.y);
}

/* UI-TARS key names (lower case, space separated) to a chord. */
static void chord(const char *keys, char *out, size_t size)
{
	static const struct { const char *from, *to; } names[] = {
		{ "arrowup", "Up" }, { "arrowdown", "Down" }, { "arrowleft", "Left" }, { "arrowright", "Right" },
		{ "pagedown", "Page_Down" }, { "pageup", "Page_Up" }, { "cmd", "super" }, { "command", "super" },
		{ "return", "Return" }, { "backspace", "BackSpace" }, { "capslock", "Caps_Lock" },
	};
	size_t o = 0;
	const char *p = keys;

	out[0] = '\0';
	while (*p) {
		char word[64];
		size_t n = 0;
		const char *name = word;

		while (*p == ' ' || *p == '+')
			p++;
		while (*p && *p != ' ' && (*p != '+' || n == 0)) {
			if (n + 1 < sizeof(word))
				word[n++] = *p;
			p++;
		}
		word[n] = '\0';
		if (!n)
			break;
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (!strcasecmp(word, names[i].from))
				name = names[i].to;
		o += (size_t)snprintf(out + o, o < size ? size - o : 0, "%s%s", o ? "+" : "", name);
	}
}

/* One UI-TARS call to the action JSON of docs/actions.md. */
static int call_to_action(const struct call *c, const struct dp_coord_map *map, struct dp_action *a,
			  struct dp_error *err)
{
	cJSON *o = cJSON_CreateObject();
	struct dp_point p1, p2;
	char *json, keys[256];
	const char *v;
	int r = 0;

	if (!o)
		return -ENOMEM;
	if (!strcmp(c->name, "click") || !strcmp(c->name, "left_single") || !strcmp(c->name, "left_double") ||
	    !strcmp(c->name, "right_single") || !strcmp(c->name, "hover")) {
		r = read_point(c->name, "start_box", arg(c, "start_box") ? arg(c, "start_box") : arg(c, "point"), &p1, err);
		cJSON_AddStringToObject(o, "action", !strcmp(c->name, "hover") ? "move" : "click");
		add_point(o, p1);
		if (!strcmp(c->name, "left_double"))
			cJSON_AddNumberToObject(o, "count", 2);
		if (!strcmp(c->name, "right_single"))
			cJSON_AddStringToObject(o, "button", "right");
	} else if (!strcmp(c->name, "drag")) {
		cJSON *path, *pt;

		r = read_point(c->name, "start_box", arg(c, "start_box") ? arg(c, "start_box") : arg(c, "start_point"),
			       &p1, err);
		if (r == 0)
			r = read_point(c->name, "end_box", arg(c, "end_box") ? arg(c, "end_box") : arg(c, "end_point"),
				       &p2, err);
		cJSON_AddStringToObject(o, "action", "drag");
		path = cJSON_AddArrayToObject(o, "path");
		pt = cJSON_CreateArray();
		cJSON_AddItemToArray(pt, cJSON_CreateNumber(p1.x));
		cJSON_AddItemToArray(pt, cJSON_CreateNumber(p1.y));
		cJSON_AddItemToArray(path, pt);
		pt = cJSON_CreateArray();
		cJSON_AddItemToArray(pt, cJSON_CreateNumber(p2.x));
		cJSON_AddItemToArray(pt, cJSON_CreateNumber(p2.y));
		cJSON_AddItemToArray(path, pt);
	} else if (!strcmp(c->name, "hotkey") || !strcmp(c->name, "press") || !strcmp(c->name, "keydown") ||
		   !strcmp(c->name, "keyup")) {
		v = arg(c, "key") ? arg(c, "key") : arg(c, "hotkey");
		if (!v || !*v) {
			r = dp_error_set(err, -EINVAL, "%s: key is missing (such as key='ctrl s')", c->name);
		} else {
			chord(v, keys, sizeof(keys));
			cJSON_AddStringToObject(o, "action", !strcmp(c->name, "keydown") ? "key_down"
							    : !strcmp(c->name, "keyup")  ? "key_up"
											 : "key");
			cJSON_AddStringToObject(o, "keys", keys);
		}
	} else if (!strcmp(c->name, "type")) {
		v = arg(c, "content");
		if (!v)
			r = dp_error_set(err, -EINVAL, "type: content is missing (such as content='hello')");
		cJSON_AddStringToObject(o, "action", "type");
		cJSON_AddStringToObject(o, "text", v ? v : "");
	} else if (!strcmp(c->name, "scroll")) {
		v = arg(c, "direction");
		cJSON_AddStringToObject(o, "action", "scroll");
		if (arg(c, "start_box") || arg(c, "point")) {
			r = read_point(c->name, "start_box", arg(c, "start_box") ? arg(c, "start_box") : arg(c, "point"),
				       &p1, err);
			add_point(o, p1);
		}
		if (r == 0 && v && !strcasecmp(v, "down"))
			cJSON_AddNumberToObject(o, "dy", 5);
		else if (r == 0 && v && !strcasecmp(v, "up"))
			cJSON_AddNumberToObject(o, "dy", -5);
		else if (r == 0 && v && !strcasecmp(v, "right"))
			cJSON_AddNumberToObject(o, "dx", 5);
		else if (r == 0 && v && !strcasecmp(v, "left"))
			cJSON_AddNumberToObject(o, "dx", -5);
		else if (r == 0)
			r = dp_error_set(err, -EINVAL, "scroll: direction must be 'down', 'up', 'left' or 'right'");
	} else if (!strcmp(c->name, "wait")) {
		cJSON_AddStringToObject(o, "action", "wait");
		cJSON_AddNumberToObject(o, "ms", 5000);
	} else if (!strcmp(c->name, "finished")) {
		cJSON_AddStringToObject(o, "action", "done");
		if (arg(c, "content"))
			cJSON_AddStringToObject(o, "summary", arg(c, "content"));
	} else if (!strcmp(c->name, "call_user")) {
		cJSON_AddStringToObject(o, "action", "ask_user");
		cJSON_AddStringToObject(o, "question", arg(c, "content") ? arg(c, "content")
									  : "The agent needs your help to go on: what should it do?");
	} else {
		r = dp_error_set(err, -EINVAL,
				 "unknown action '%s' (click, left_double, right_single, drag, hotkey, type, scroll, "
				 "wait, finished, call_user; also hover, press, keydown, keyup)", c->name);
	}
	if (r < 0) {
		cJSON_Delete(o);
		return r;
	}
	json = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (!json)
		return -ENOMEM;
	r = dp_action_parse(json, strlen(json), a, err);
	free(json);
	if (r == 0 && map && (r = dp_model_check_points(a, map, err)) < 0)
		dp_action_clear(a);
	return r;
}

int dp_uitars_parse(const char *reply, const struct dp_coord_map *map, struct dp_action *actions, size_t max,
		    size_t *n, struct dp_error *err)
{
	const char *p = reply ? strstr(reply, "Action:") : NULL;
	int r = 0;

	/* The Action: line, not those words inside the thought. */
	while (p && p != reply && p[-1] != '\n')
		p = strstr(p + 1, "Action:");
	*n = 0;
	if (!p)
		return dp_error_set(err, -EINVAL, "no \"Action:\" line: answer with Thought: ... then Action: ...");
	p += strlen("Action:");
	for (;;) {
		struct call c;

		while (*p && (isspace((unsigned char)*p) || *p == ';'))
			p++;
		if (!*p)
			break;
		if (!strncmp(p, "Action:", 7)) {
			p += 7;
			continue;
		}
		if (*n == max) {
			r = dp_error_set(err, -E2BIG, "more than %zu actions in one reply", max);
			break;
		}
		r = read_call(&p, &c, err);
		if (r < 0)
			break;
		r = call_to_action(&c, map, &actions[*n], err);
		call_free(&c);
		if (r < 0)
			break;
		(*n)++;
	}
	if (r == 0 && *n == 0)
		r = dp_error_set(err, -EINVAL, "the Action: line is empty");
	if (r < 0) {
		for (size_t i = 0; i < *n; i++)
			dp_action_clear(&actions[i]);
		*n = 0;
	}
	return r;
}

int dp_uitars_verdict(const char *reply, bool *done, char **reason, struct dp_error *err)
{
	const char *p = reply ? reply : "";

	*reason = NULL;
	while (isspace((unsigned char)*p) || *p == '*')
		p++;
	if (!strncasecmp(p, "YES", 3)) {
		*done = true;
		p += 3;
	} else if (!strncasecmp(p, "NO", 2)) {
		*done = false;
		p += 2;
	} else {
		return dp_error_set(err, -EINVAL, "expected YES or NO: reason, got \"%.60s\"", p);
	}
	while (*p == ':' || *p == ',' || *p == '.' || isspace((unsigned char)*p))
		p++;
	if (*p && !(*reason = strdup(p)))
		return -ENOMEM;
	return 0;
}
