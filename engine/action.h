/* The action set: what a policy asks the actuators to do.
 *
 * One action is a tagged union, read from and written to JSON objects of the
 * form {"action": "click", "x": 640, "y": 400, ...}.  Parsing checks every
 * field (type, range, unknown keys) and names the offending one by its path,
 * such as "click.count: 4 is outside 1..3". */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/error.h"

enum dp_action_type {
	DP_ACTION_CLICK,
	DP_ACTION_MOVE,
	DP_ACTION_BUTTON_DOWN,
	DP_ACTION_BUTTON_UP,
	DP_ACTION_DRAG,
	DP_ACTION_SCROLL,
	DP_ACTION_TYPE,
	DP_ACTION_KEY,
	DP_ACTION_KEY_DOWN,
	DP_ACTION_KEY_UP,
	DP_ACTION_HOLD,
	DP_ACTION_WAIT,
	DP_ACTION_ZOOM,
	DP_ACTION_WINDOW,
	DP_ACTION_LAUNCH,
	DP_ACTION_DONE,
	DP_ACTION_FAIL,
	DP_ACTION_ASK_USER,
};

#define DP_ACTION_MAX_POINTS 256
#define DP_ACTION_MAX_ARGS 64
#define DP_ACTION_MAX_TEXT (1 << 20) /* bytes of UTF-8 in one type action */

struct dp_point {
	int32_t x, y;
};

enum dp_text_method {
	DP_TEXT_AUTO,  /* keys, or paste when the text is long or needs many symbols */
	DP_TEXT_KEYS,  /* key events through deskpilot's keymap engine */
	DP_TEXT_PASTE, /* own the clipboard and press the paste chord */
};

enum dp_window_op {
	DP_WINDOW_LIST,
	DP_WINDOW_ACTIVATE,
	DP_WINDOW_MOVE,
	DP_WINDOW_RESIZE,
	DP_WINDOW_MINIMIZE,
	DP_WINDOW_MAXIMIZE,
	DP_WINDOW_CLOSE,
};

/* Which window(s) a window action is about: all given criteria must match. */
struct dp_window_match {
	char *title;    /* POSIX extended regex on the title, or NULL */
	char *class_re; /* regex on WM_CLASS (instance or class), or NULL */
	int32_t pid;    /* 0: any */
	uint32_t id;    /* 0: any */
};

struct dp_action {
	enum dp_action_type type;
	bool has_point;          /* x, y given (optional for button_down/up, scroll) */
	struct dp_point point;
	uint8_t button;          /* 1 left, 2 middle, 3 right, 8 back, 9 forward */
	uint8_t count;           /* click count 1..3, key repeat 1..100 */
	char *keys;              /* key, key_down, key_up, hold: "ctrl+shift+t"; click, drag: modifiers "ctrl+shift" or NULL */
	char *text;              /* type: UTF-8; done: summary; fail: reason; ask_user: question */
	enum dp_text_method method;
	int32_t dx, dy;          /* scroll, in wheel clicks: +dy down, +dx right */
	int32_t ms;              /* wait, hold */
	enum dp_wait_until { DP_WAIT_TIME, DP_WAIT_CHANGE, DP_WAIT_QUIET } until;
	                         /* wait: the whole time; or until the screen has changed
	                          * and settled; or until it is quiet (at most ms) */
	int32_t width, height;   /* zoom region (at point); window move/resize */
	struct dp_point *path;   /* drag: n_path points, the first is where the button goes down */
	size_t n_path;
	enum dp_window_op window_op;
	struct dp_window_match match;
	char **argv;             /* launch: NULL-terminated */
};

const char *dp_action_type_name(enum dp_action_type type);

/* Parses one action from a JSON object (text of length len).  On error
 * returns -EINVAL and err says where: "line 1, column 17: ..." for a syntax
 * error, "click.x: expected an integer" otherwise. */
int dp_action_parse(const char *json, size_t len, struct dp_action *action, struct dp_error *err);

/* The same for one line of a JSON-lines stream: syntax errors name that
 * line number. */
int dp_action_parse_line(const char *json, size_t len, int line, struct dp_action *action, struct dp_error *err);

/* Writes the action as one line of JSON; the caller frees the result.
 * The text of a type action is written as given: secret values never reach
 * an action (they are substituted in the actuator). */
char *dp_action_to_json(const struct dp_action *action);

/* Frees what the action owns and zeroes it. */
void dp_action_clear(struct dp_action *action);
