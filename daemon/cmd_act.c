/* deskpilot act: one action from the command line, or JSON lines from
 * stdin.  Both go through the same JSON parser the engine uses, so the
 * checks and messages are the same everywhere. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actuators/actuator.h"
#include "actuators/desktop.h"
#include "daemon/commands.h"
#include "daemon/exit_codes.h"
#include "engine/action.h"

static void act_usage(FILE *out)
{
	fprintf(out,
		"Usage: deskpilot act ACTION [ARGS]      perform one action\n"
		"       deskpilot act -                  perform JSON actions, one per line, from stdin\n"
		"\n"
		"Actions (coordinates are screen pixels):\n"
		"  click X Y [--button left|middle|right|N] [--count 1-3] [--modifiers ctrl+shift]\n"
		"  move X Y\n"
		"  button-down|button-up [X Y] [--button B]\n"
		"  drag X1 Y1 X2 Y2 [X Y]... [--button B] [--modifiers M]\n"
		"  scroll [X Y] [--dx N] [--dy N]        wheel clicks: +dy down, +dx right\n"
		"  type TEXT [--method keys|paste|auto]  any Unicode text, exactly\n"
		"  key CHORD [--count N]                 ctrl+s, super, Return, F5, KP_Enter (xdotool names)\n"
		"  key-down|key-up CHORD\n"
		"  hold CHORD MS\n"
		"  wait MS\n"
		"  window list|activate|move|resize|minimize|maximize|close\n"
		"         [--title REGEX] [--class REGEX] [--pid N] [--id N] [--x X --y Y] [--width W --height H]\n"
		"  launch PROGRAM [ARG]...               no shell: the arguments are passed as they are\n"
		"\n"
		"JSON form: {\"action\": \"click\", \"x\": 640, \"y\": 400, \"button\": \"left\", \"count\": 2}\n");
}

static bool is_integer(const char *s)
{
	char *end;

	if (!*s)
		return false;
	errno = 0;
	(void)strtol(s, &end, 10);
	return !errno && !*end;
}

/* A word on the command line becomes a JSON number when it is one. */
static void add_value(cJSON *obj, const char *key, const char *value)
{
	if (is_integer(value) && strcmp(key, "text") != 0 && strcmp(key, "keys") != 0 &&
	    strcmp(key, "title") != 0 && strcmp(key, "class") != 0 && strcmp(key, "modifiers") != 0)
		cJSON_AddNumberToObject(obj, key, (double)strtol(value, NULL, 10));
	else
		cJSON_AddStringToObject(obj, key, value);
}

static const char *action_name(const char *word)
{
	static char name[32];

	snprintf(name, sizeof(name), "%s", word);
	for (char *p = name; *p; p++)
		if (*p == '-')
			*p = '_';
	return name;
}

static bool known_action(const char *name)
{
	for (int t = DP_ACTION_CLICK; t <= DP_ACTION_ASK_USER; t++)
		if (strcmp(name, dp_action_type_name((enum dp_action_type)t)) == 0)
			return true;
	return false;
}

/* Positional arguments per action, then --options as fields. */
static cJSON *args_to_json(int argc, char **argv)
{
	cJSON *obj = cJSON_CreateObject();
	const char *name = action_name(argv[0]);
	int i = 1;

	cJSON_AddStringToObject(obj, "action", name);
	if (!known_action(name))
		return obj; /* the parser says what the actions are */
	if (!strcmp(name, "click") || !strcmp(name, "move") || !strcmp(name, "button_down") ||
	    !strcmp(name, "button_up") || !strcmp(name, "scroll")) {
		if (i + 1 < argc && is_integer(argv[i]) && is_integer(argv[i + 1])) {
			add_value(obj, "x", argv[i++]);
			add_value(obj, "y", argv[i++]);
		}
	} else if (!strcmp(name, "drag")) {
		cJSON *path = cJSON_AddArrayToObject(obj, "path");

		for (; i + 1 < argc && is_integer(argv[i]) && is_integer(argv[i + 1]); i += 2) {
			int xy[2] = { atoi(argv[i]), atoi(argv[i + 1]) };

			cJSON_AddItemToArray(path, cJSON_CreateIntArray(xy, 2));
		}
	} else if (!strcmp(name, "type") && i < argc) {
		add_value(obj, "text", argv[i++]);
	} else if ((!strcmp(name, "key") || !strcmp(name, "key_down") || !strcmp(name, "key_up") ||
		    !strcmp(name, "hold")) && i < argc) {
		add_value(obj, "keys", argv[i++]);
		if (!strcmp(name, "hold") && i < argc)
			add_value(obj, "ms", argv[i++]);
	} else if (!strcmp(name, "wait") && i < argc) {
		add_value(obj, "ms", argv[i++]);
	} else if (!strcmp(name, "window") && i < argc) {
		add_value(obj, "op", argv[i++]);
	} else if (!strcmp(name, "launch")) {
		cJSON *list = cJSON_AddArrayToObject(obj, "argv");

		for (; i < argc; i++)
			cJSON_AddItemToArray(list, cJSON_CreateString(argv[i]));
	}
	/* The rest are "--name value" pairs. */
	for (; i < argc; i += 2) {
		if (strncmp(argv[i], "--", 2) != 0 || i + 1 >= argc) {
			fprintf(stderr, "deskpilot act %s: unexpected '%s' (options take a value: --name VALUE)\n",
				argv[0], argv[i]);
			cJSON_Delete(obj);
			return NULL;
		}
		add_value(obj, argv[i] + 2, argv[i + 1]);
	}
	return obj;
}

static void print_window(const struct dp_window_info *w)
{
	printf("0x%08x pid=%d desktop=%d %dx%d+%d+%d%s%s%s class=%s.%s title=%s\n", w->id, w->pid, w->desktop,
	       w->geometry.width, w->geometry.height, w->geometry.x, w->geometry.y, w->focused ? " focused" : "",
	       w->minimized ? " minimized" : "", w->maximized ? " maximized" : "", w->instance, w->class_name,
	       w->title);
}

static int list_windows(struct dp_actuator *act, const struct dp_action *a, struct dp_error *err)
{
	struct dp_window_info windows[256];
	size_t n = 0;
	int r = dp_actuator_windows(act, &a->match, windows, 256, &n, err);

	for (size_t i = 0; r == 0 && i < n; i++)
		print_window(&windows[i]);
	return r;
}

/* Parses and performs one action given as JSON (line `line` of stdin, or 0
 * for the command line); prints what happened. */
static int run_json(struct dp_actuator *act, const char *json, size_t len, int line)
{
	struct dp_action action;
	struct dp_action_result res;
	struct dp_error err = { 0 };
	int r = dp_action_parse_line(json, len, line ? line : 1, &action, &err);

	if (r == 0) {
		if (action.type == DP_ACTION_WINDOW && action.window_op == DP_WINDOW_LIST)
			r = list_windows(act, &action, &err);
		else if ((r = dp_actuator_perform(act, &action, &res, &err)) == 0)
			printf("%s\n", res.summary);
		dp_action_clear(&action);
	}
	if (r < 0) {
		/* Syntax errors carry their line already; others get it here. */
		if (line && strncmp(err.message, "line ", 5) != 0)
			fprintf(stderr, "deskpilot act: line %d: %s\n", line, err.message);
		else
			fprintf(stderr, "deskpilot act: %s\n", err.message);
		return dp_exit_code_from_errno(r);
	}
	return DP_EXIT_OK;
}

static int run_stdin(struct dp_actuator *act)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int lineno = 0, code = DP_EXIT_OK;

	while (code == DP_EXIT_OK && (len = getline(&line, &cap, stdin)) >= 0) {
		lineno++;
		if (len == 0 || line[strspn(line, " \t\r\n")] == '\0')
			continue;
		code = run_json(act, line, (size_t)len, lineno);
		fflush(stdout);
	}
	free(line);
	return code;
}

int dp_cmd_act(struct dp_cli *cli, int argc, char **argv)
{
	struct dp_desktop_config config = { .backend = cli->backend, .display = cli->display };
	struct dp_desktop desk = { 0 };
	struct dp_actuator *act = NULL;
	struct dp_error err = { 0 };
	int code, r;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		act_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? DP_EXIT_USAGE : DP_EXIT_OK;
	}
	r = dp_desktop_open(&desk, &config, DP_DESKTOP_INPUT, &err);
	act = desk.actuator;
	if (r < 0) {
		fprintf(stderr, "deskpilot act: %s\n", err.message);
		return dp_exit_code_from_errno(r);
	}
	if (!strcmp(argv[1], "-")) {
		code = run_stdin(act);
	} else {
		cJSON *obj = args_to_json(argc - 1, argv + 1);
		char *json = obj ? cJSON_PrintUnformatted(obj) : NULL;

		code = json ? run_json(act, json, strlen(json), 0) : DP_EXIT_USAGE;
		free(json);
		cJSON_Delete(obj);
	}
	dp_desktop_close(&desk);
	return code;
}
