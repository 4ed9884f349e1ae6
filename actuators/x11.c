/* The X11 actuator: XTest mouse and keys, exact text through the keymap
 * engine, windows through EWMH.  Every action ends with a round trip, so
 * when perform() returns the server has all of it. */
#define DP_LOG_SUBSYS "input"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xcb/xcb.h>
#include <xcb/xtest.h>

#include "actuators/actuator.h"
#include "actuators/keynames.h"
#include "actuators/launch.h"
#include "actuators/x11_clipboard.h"
#include "actuators/x11_keymap.h"
#include "actuators/x11_mapwatch.h"
#include "actuators/x11_windows.h"
#include "engine/log.h"

#define MAX_HELD 64

struct x11_actuator {
	struct dp_actuator base;
	char display[64];
	xcb_connection_t *conn;
	xcb_window_t root;
	int32_t width, height;
	struct dp_x11_mapwatch *watch;
	struct dp_x11_keymap *keymap;
	struct dp_x11_windows *windows;
	struct dp_x11_clipboard *clipboard;
	bool mapping_changed;
	/* What we hold down, in pressing order, so that everything is
	 * released in reverse, also after an error. */
	xcb_keycode_t held_keys[MAX_HELD];
	size_t n_held_keys;
	uint16_t held_buttons; /* bit n: button n */
};

static struct x11_actuator *x11_of(struct dp_actuator *act)
{
	return (struct x11_actuator *)act;
}

/* --- connection ---------------------------------------------------------- */

static void disconnect(struct x11_actuator *self)
{
	dp_x11_keymap_destroy(self->keymap);
	dp_x11_clipboard_destroy(self->clipboard);
	dp_x11_windows_destroy(self->windows);
	dp_x11_mapwatch_destroy(self->watch);
	if (self->conn)
		xcb_disconnect(self->conn);
	self->keymap = NULL;
	self->windows = NULL;
	self->clipboard = NULL;
	self->watch = NULL;
	self->conn = NULL;
	self->n_held_keys = 0;
	self->held_buttons = 0;
}

static void handle_event(void *data, xcb_generic_event_t *ev);

static int connect_display(struct x11_actuator *self, struct dp_error *err)
{
	const xcb_query_extension_reply_t *xtest;
	xcb_screen_t *screen;
	int screen_num = 0, r;

	self->conn = xcb_connect(self->display, &screen_num);
	if (xcb_connection_has_error(self->conn))
		return dp_error_set(err, -ECONNREFUSED,
				    "cannot connect to the X server on %s: is it running, and may this user open "
				    "it (xhost, XAUTHORITY)?", self->display);
	xtest = xcb_get_extension_data(self->conn, &xcb_test_id);
	if (!xtest || !xtest->present)
		return dp_error_set(err, -ENOTSUP, "no XTEST extension on %s: start Xvfb with +extension XTEST "
						   "(or enable it in the X server's configuration)", self->display);
	xcb_screen_iterator_t it = xcb_setup_roots_iterator(xcb_get_setup(self->conn));
	for (int i = 0; i < screen_num && it.rem; i++)
		xcb_screen_next(&it);
	screen = it.data;
	self->root = screen->root;
	self->width = screen->width_in_pixels;
	self->height = screen->height_in_pixels;
	r = dp_x11_mapwatch_create(&self->watch, self->conn, self->display, NULL);
	if (r < 0)
		dp_log_warn("no RECORD extension on %s: text with many distinct symbols may lose characters "
			    "in slow clients (start Xvfb with +extension RECORD)", self->display);
	r = dp_x11_keymap_create(&self->keymap, self->conn, self->watch, err);
	if (r < 0)
		return r;
	r = dp_x11_windows_create(&self->windows, self->conn, self->root, err);
	if (r < 0)
		return r;
	return dp_x11_clipboard_create(&self->clipboard, self->conn, self->root, handle_event, self, err);
}

static int ensure_connected(struct x11_actuator *self, struct dp_error *err)
{
	int r;

	if (self->conn && !xcb_connection_has_error(self->conn))
		return 0;
	if (self->conn)
		dp_log_warn("lost the connection to the X server on %s; reconnecting", self->display);
	disconnect(self);
	r = connect_display(self, err);
	if (r < 0)
		disconnect(self);
	return r;
}

static int lost(struct x11_actuator *self, struct dp_error *err)
{
	return dp_error_set(err, -EPIPE, "lost the connection to the X server on %s (did it exit?)", self->display);
}

/* One event from the server: a keyboard map changed by someone else
 * (setxkbmap) makes us reread ours; the modules get their own. */
static void handle_event(void *data, xcb_generic_event_t *ev)
{
	struct x11_actuator *self = data;
	uint8_t type = ev->response_type & 0x7f;

	if (type == XCB_MAPPING_NOTIFY) {
		self->mapping_changed |= ((xcb_mapping_notify_event_t *)ev)->request != XCB_MAPPING_POINTER;
	} else if (type == XCB_CONFIGURE_NOTIFY && ((xcb_configure_notify_event_t *)ev)->window == self->root) {
		self->width = ((xcb_configure_notify_event_t *)ev)->width;
		self->height = ((xcb_configure_notify_event_t *)ev)->height;
	} else if (!(self->clipboard && dp_x11_clipboard_handle_event(self->clipboard, ev))) {
		dp_x11_windows_handle_event(self->windows, ev);
	}
}

static void drain_events(struct x11_actuator *self)
{
	xcb_generic_event_t *ev;

	while ((ev = xcb_poll_for_event(self->conn))) {
		handle_event(self, ev);
		free(ev);
	}
	if (self->mapping_changed || dp_x11_windows_take_mapping_changed(self->windows))
		dp_x11_keymap_reload(self->keymap);
	self->mapping_changed = false;
}

static int round_trip(struct x11_actuator *self, struct dp_error *err)
{
	xcb_get_input_focus_reply_t *r =
		xcb_get_input_focus_reply(self->conn, xcb_get_input_focus(self->conn), NULL);

	if (!r)
		return lost(self, err);
	free(r);
	return 0;
}

static uint32_t focus_window(struct x11_actuator *self)
{
	xcb_get_input_focus_reply_t *r =
		xcb_get_input_focus_reply(self->conn, xcb_get_input_focus(self->conn), NULL);
	uint32_t w = r && r->focus > XCB_INPUT_FOCUS_POINTER_ROOT ? r->focus : 0;

	free(r);
	return w;
}

/* --- raw input ----------------------------------------------------------- */

static void fake(struct x11_actuator *self, uint8_t type, uint8_t detail, int16_t x, int16_t y)
{
	xcb_test_fake_input(self->conn, type, detail, XCB_CURRENT_TIME, self->root, x, y, 0);
}

static void key_down(struct x11_actuator *self, xcb_keycode_t kc)
{
	fake(self, XCB_KEY_PRESS, kc, 0, 0);
	if (self->n_held_keys < MAX_HELD)
		self->held_keys[self->n_held_keys++] = kc;
}

static void key_up(struct x11_actuator *self, xcb_keycode_t kc)
{
	fake(self, XCB_KEY_RELEASE, kc, 0, 0);
	for (size_t i = self->n_held_keys; i-- > 0;) {
		if (self->held_keys[i] == kc) {
			memmove(&self->held_keys[i], &self->held_keys[i + 1],
				(self->n_held_keys - i - 1) * sizeof(xcb_keycode_t));
			self->n_held_keys--;
			break;
		}
	}
}

static void button(struct x11_actuator *self, uint8_t b, bool down)
{
	fake(self, down ? XCB_BUTTON_PRESS : XCB_BUTTON_RELEASE, b, 0, 0);
	if (down)
		self->held_buttons |= (uint16_t)(1u << b);
	else
		self->held_buttons &= (uint16_t)~(1u << b);
}

static void move_to(struct x11_actuator *self, struct dp_point p)
{
	fake(self, XCB_MOTION_NOTIFY, 0, (int16_t)p.x, (int16_t)p.y);
}

/* Releases the keys pressed since `mark` (an index into held_keys), last
 * pressed first: nothing stays stuck when an action fails half-way. */
static void release_keys_since(struct x11_actuator *self, size_t mark)
{
	while (self->n_held_keys > mark)
		key_up(self, self->held_keys[self->n_held_keys - 1]);
}

static void release_all(struct x11_actuator *self)
{
	release_keys_since(self, 0);
	for (uint8_t b = 1; b < 16; b++)
		if (self->held_buttons & (1u << b))
			button(self, b, false);
}

/* --- checks -------------------------------------------------------------- */

static int check_point(struct x11_actuator *self, const char *what, struct dp_point p, struct dp_error *err)
{
	if (p.x < 0 || p.x >= self->width)
		return dp_error_set(err, -ERANGE, "%s.x = %d is outside the screen 0..%d", what, p.x, self->width - 1);
	if (p.y < 0 || p.y >= self->height)
		return dp_error_set(err, -ERANGE, "%s.y = %d is outside the screen 0..%d", what, p.y, self->height - 1);
	return 0;
}

/* Keysyms of a chord to keystrokes; a keysym on the second level brings
 * Shift along unless the chord has it already. */
static int resolve_chord(struct x11_actuator *self, const char *chord, struct dp_keystroke *strokes,
			 struct dp_error *err)
{
	uint32_t keysyms[DP_CHORD_MAX];
	int n = dp_chord_parse(chord, keysyms, err);
	int r;

	if (n < 0)
		return n;
	r = dp_x11_keymap_resolve(self->keymap, keysyms, (size_t)n, strokes, focus_window(self), err);
	return r < 0 ? r : n;
}

static bool chord_has_shift(const struct x11_actuator *self, const struct dp_keystroke *s, int n)
{
	xcb_keycode_t shift = dp_x11_keymap_shift_keycode(self->keymap);

	for (int i = 0; i < n; i++)
		if (s[i].keycode == shift)
			return true;
	return false;
}

static void press_chord(struct x11_actuator *self, const struct dp_keystroke *s, int n)
{
	bool need_shift = false;

	for (int i = 0; i < n; i++)
		need_shift |= s[i].shift;
	if (need_shift && !chord_has_shift(self, s, n))
		key_down(self, dp_x11_keymap_shift_keycode(self->keymap));
	for (int i = 0; i < n; i++)
		key_down(self, s[i].keycode);
}

/* --- text ---------------------------------------------------------------- */

/* How many keysyms from the start fit one batch of slots. */
static size_t batch_length(struct x11_actuator *self, const uint32_t *syms, size_t n)
{
	size_t slots = dp_x11_keymap_slots(self->keymap), distinct = 0;
	uint32_t seen[256];
	struct dp_keystroke ks;

	for (size_t i = 0; i < n; i++) {
		bool known = dp_x11_keymap_find_on_layout(self->keymap, syms[i], &ks);

		for (size_t j = 0; j < distinct && !known; j++)
			known = seen[j] == syms[i];
		if (known)
			continue;
		if (distinct == slots || distinct == 256)
			return i;
		seen[distinct++] = syms[i];
	}
	return n;
}

static int type_keys(struct x11_actuator *self, const char *text, struct dp_action_result *res,
		     struct dp_error *err)
{
	xcb_keycode_t shift = dp_x11_keymap_shift_keycode(self->keymap);
	struct dp_keystroke *strokes = NULL;
	uint32_t *syms = NULL, focus = focus_window(self);
	size_t n = 0, done = 0, batches = 0;
	int r = dp_text_keysyms(text, &syms, &n, err);

	if (r < 0)
		return r;
	strokes = malloc((n + 1) * sizeof(*strokes));
	if (!strokes) {
		free(syms);
		return -ENOMEM;
	}
	while (done < n) {
		size_t len = batch_length(self, syms + done, n - done);

		r = dp_x11_keymap_resolve(self->keymap, syms + done, len, strokes, focus, err);
		if (r < 0)
			break;
		for (size_t i = 0; i < len; i++) {
			if (strokes[i].shift)
				key_down(self, shift);
			key_down(self, strokes[i].keycode);
			key_up(self, strokes[i].keycode);
			if (strokes[i].shift)
				key_up(self, shift);
		}
		dp_x11_keymap_typed(self->keymap, strokes, len);
		done += len;
		batches++;
	}
	free(strokes);
	free(syms);
	if (r < 0)
		return r;
	snprintf(res->summary, sizeof(res->summary), "typed %zu characters in %zu keymap batch%s", n, batches,
		 batches == 1 ? "" : "es");
	return 0;
}

/* Terminals paste with shift+Insert (from PRIMARY, which we own too);
 * everything else with ctrl+v.  Told by the focused window's WM_CLASS. */
static const char *paste_chord(struct x11_actuator *self)
{
	xcb_window_t w = focus_window(self);

	for (int depth = 0; w && w != self->root && depth < 8; depth++) {
		xcb_get_property_reply_t *prop = xcb_get_property_reply(
			self->conn, xcb_get_property(self->conn, 0, w, XCB_ATOM_WM_CLASS, XCB_ATOM_STRING, 0, 64), NULL);
		xcb_query_tree_reply_t *tree;

		if (prop && xcb_get_property_value_length(prop) > 0) {
			char cls[257] = "";
			int len = xcb_get_property_value_length(prop);

			memcpy(cls, xcb_get_property_value(prop), (size_t)(len < 256 ? len : 256));
			for (int i = 0; i < len && i < 256; i++)
				cls[i] = cls[i] ? (char)(cls[i] | 0x20) : ' ';
			free(prop);
			return strstr(cls, "term") || strstr(cls, "rxvt") || strstr(cls, "konsole") ? "shift+Insert"
													: "ctrl+v";
		}
		free(prop);
		tree = xcb_query_tree_reply(self->conn, xcb_query_tree(self->conn, w), NULL);
		w = tree ? tree->parent : 0;
		free(tree);
	}
	return "ctrl+v";
}

static int type_paste(struct x11_actuator *self, const char *text, struct dp_action_result *res,
		      struct dp_error *err)
{
	struct dp_keystroke chord[DP_CHORD_MAX];
	const char *keys = paste_chord(self);
	size_t mark = self->n_held_keys, n_syms;
	uint32_t *syms;
	int n, r;

	/* The same check as typed text: valid UTF-8, no control characters. */
	r = dp_text_keysyms(text, &syms, &n_syms, err);
	if (r < 0)
		return r;
	free(syms);
	r = dp_x11_clipboard_offer(self->clipboard, text, err);
	if (r < 0)
		return r;
	n = resolve_chord(self, keys, chord, err);
	if (n < 0)
		return n;
	press_chord(self, chord, n);
	release_keys_since(self, mark);
	r = dp_x11_clipboard_wait_fetched(self->clipboard, 2000);
	if (r == -ETIMEDOUT)
		return dp_error_set(err, -ETIMEDOUT, "pressed %s but no application asked for the text within 2 s: "
						      "is a text field focused, and does it paste with %s?", keys, keys);
	if (r < 0)
		return lost(self, err);
	snprintf(res->summary, sizeof(res->summary), "pasted %zu bytes with %s", strlen(text), keys);
	return 0;
}

/* --- actions ------------------------------------------------------------- */

static int with_modifiers(struct x11_actuator *self, const char *mods, struct dp_keystroke *s, int *n,
			  struct dp_error *err)
{
	*n = 0;
	if (!mods || !*mods)
		return 0;
	*n = resolve_chord(self, mods, s, err);
	return *n < 0 ? *n : 0;
}

static int do_pointer(struct x11_actuator *self, const struct dp_action *a, struct dp_action_result *res,
		      struct dp_error *err)
{
	struct dp_keystroke mods[DP_CHORD_MAX];
	const char *name = dp_action_type_name(a->type);
	size_t mark = self->n_held_keys;
	int n_mods = 0, r;

	if (a->has_point && (r = check_point(self, name, a->point, err)) < 0)
		return r;
	for (size_t i = 0; i < a->n_path; i++) {
		char what[48];

		snprintf(what, sizeof(what), "drag.path[%zu]", i);
		if ((r = check_point(self, what, a->path[i], err)) < 0)
			return r;
	}
	if ((r = with_modifiers(self, a->keys, mods, &n_mods, err)) < 0)
		return r;
	press_chord(self, mods, n_mods);
	if (a->has_point)
		move_to(self, a->point);
	switch (a->type) {
	case DP_ACTION_CLICK:
		for (int i = 0; i < a->count; i++) {
			button(self, a->button, true);
			button(self, a->button, false);
		}
		snprintf(res->summary, sizeof(res->summary), "clicked button %d x%d at %d,%d", a->button, a->count,
			 a->point.x, a->point.y);
		break;
	case DP_ACTION_MOVE:
		snprintf(res->summary, sizeof(res->summary), "moved to %d,%d", a->point.x, a->point.y);
		break;
	case DP_ACTION_BUTTON_DOWN:
	case DP_ACTION_BUTTON_UP:
		button(self, a->button, a->type == DP_ACTION_BUTTON_DOWN);
		snprintf(res->summary, sizeof(res->summary), "button %d %s", a->button,
			 a->type == DP_ACTION_BUTTON_DOWN ? "down" : "up");
		break;
	case DP_ACTION_DRAG:
		move_to(self, a->path[0]);
		button(self, a->button, true);
		for (size_t i = 1; i < a->n_path; i++)
			move_to(self, a->path[i]);
		button(self, a->button, false);
		snprintf(res->summary, sizeof(res->summary), "dragged from %d,%d to %d,%d", a->path[0].x,
			 a->path[0].y, a->path[a->n_path - 1].x, a->path[a->n_path - 1].y);
		break;
	case DP_ACTION_SCROLL:
		/* Wheel buttons: 4 up, 5 down, 6 left, 7 right; one press per click. */
		for (int i = 0; i < abs(a->dy); i++) {
			button(self, a->dy > 0 ? 5 : 4, true);
			button(self, a->dy > 0 ? 5 : 4, false);
		}
		for (int i = 0; i < abs(a->dx); i++) {
			button(self, a->dx > 0 ? 7 : 6, true);
			button(self, a->dx > 0 ? 7 : 6, false);
		}
		snprintf(res->summary, sizeof(res->summary), "scrolled dx=%d dy=%d", a->dx, a->dy);
		break;
	default:
		break;
	}
	release_keys_since(self, mark);
	return 0;
}

static int do_keys(struct x11_actuator *self, const struct dp_action *a, struct dp_action_result *res,
		   struct dp_error *err)
{
	struct dp_keystroke s[DP_CHORD_MAX];
	size_t mark = self->n_held_keys;
	int n = resolve_chord(self, a->keys, s, err);

	if (n < 0)
		return n;
	switch (a->type) {
	case DP_ACTION_KEY:
		for (int i = 0; i < a->count; i++) {
			press_chord(self, s, n);
			release_keys_since(self, mark);
		}
		snprintf(res->summary, sizeof(res->summary), "pressed %s%s", a->keys, a->count > 1 ? " repeatedly" : "");
		return 0;
	case DP_ACTION_KEY_DOWN:
		press_chord(self, s, n);
		snprintf(res->summary, sizeof(res->summary), "holding %s", a->keys);
		return 0;
	case DP_ACTION_KEY_UP: {
		bool added_shift = false;

		for (int i = n; i-- > 0;) {
			key_up(self, s[i].keycode);
			added_shift |= s[i].shift;
		}
		if (added_shift && !chord_has_shift(self, s, n))
			key_up(self, dp_x11_keymap_shift_keycode(self->keymap));
		snprintf(res->summary, sizeof(res->summary), "released %s", a->keys);
		return 0;
	}
	case DP_ACTION_HOLD: {
		struct timespec ts = { a->ms / 1000, (long)(a->ms % 1000) * 1000000L };

		press_chord(self, s, n);
		xcb_flush(self->conn);
		/* Holding is the action itself: the server has the presses, now time passes. */
		nanosleep(&ts, NULL);
		release_keys_since(self, mark);
		snprintf(res->summary, sizeof(res->summary), "held %s for %d ms", a->keys, a->ms);
		return 0;
	}
	default:
		return -EINVAL;
	}
}

static int x11_perform(struct dp_actuator *act, const struct dp_action *a, struct dp_action_result *res,
		       struct dp_error *err)
{
	struct x11_actuator *self = x11_of(act);
	int r = ensure_connected(self, err);

	if (r < 0)
		return r;
	drain_events(self);
	switch (a->type) {
	case DP_ACTION_CLICK:
	case DP_ACTION_MOVE:
	case DP_ACTION_BUTTON_DOWN:
	case DP_ACTION_BUTTON_UP:
	case DP_ACTION_DRAG:
	case DP_ACTION_SCROLL:
		r = do_pointer(self, a, res, err);
		break;
	case DP_ACTION_KEY:
	case DP_ACTION_KEY_DOWN:
	case DP_ACTION_KEY_UP:
	case DP_ACTION_HOLD:
		r = do_keys(self, a, res, err);
		break;
	case DP_ACTION_TYPE:
		/* auto types keys: the keymap engine is exact everywhere, while
		 * pasting depends on the target taking the clipboard. */
		r = a->method == DP_TEXT_PASTE ? type_paste(self, a->text, res, err) : type_keys(self, a->text, res, err);
		break;
	case DP_ACTION_WAIT: {
		struct timespec ts = { a->ms / 1000, (long)(a->ms % 1000) * 1000000L };

		nanosleep(&ts, NULL);
		snprintf(res->summary, sizeof(res->summary), "waited %d ms", a->ms);
		break;
	}
	case DP_ACTION_WINDOW:
		if (a->window_op == DP_WINDOW_LIST)
			return dp_error_set(err, -EINVAL, "window.op = list: use dp_actuator_windows() to list");
		r = dp_x11_windows_perform(self->windows, a, res, err);
		break;
	case DP_ACTION_LAUNCH:
		r = dp_launch(a->argv, self->display, &res->pid, err);
		if (r == 0)
			snprintf(res->summary, sizeof(res->summary), "started %s (pid %d)", a->argv[0], (int)res->pid);
		break;
	default:
		return dp_error_set(err, -EINVAL, "%s is not an input action; the engine handles it",
				    dp_action_type_name(a->type));
	}
	if (r < 0 && xcb_connection_has_error(self->conn))
		return lost(self, err);
	if (r == 0)
		r = round_trip(self, err);
	return r;
}

static int x11_windows(struct dp_actuator *act, const struct dp_window_match *match, struct dp_window_info *out,
		       size_t max, size_t *count, struct dp_error *err)
{
	struct x11_actuator *self = x11_of(act);
	int r = ensure_connected(self, err);

	if (r < 0)
		return r;
	drain_events(self);
	return dp_x11_windows_list(self->windows, match, out, max, count, err);
}

static void x11_release_all(struct dp_actuator *act)
{
	struct x11_actuator *self = x11_of(act);

	if (self->conn && !xcb_connection_has_error(self->conn)) {
		release_all(self);
		round_trip(self, NULL); /* done when we return, even if we exit next */
	}
}

static void x11_destroy(struct dp_actuator *act)
{
	struct x11_actuator *self = x11_of(act);

	x11_release_all(act);
	disconnect(self);
	free(self);
}

static int x11_create(struct dp_actuator **out, const struct dp_actuator_config *config, struct dp_error *err);

const struct dp_actuator_impl dp_actuator_x11 = {
	.name = "x11",
	.create = x11_create,
	.perform = x11_perform,
	.windows = x11_windows,
	.release_all = x11_release_all,
	.destroy = x11_destroy,
};

static int x11_create(struct dp_actuator **out, const struct dp_actuator_config *config, struct dp_error *err)
{
	const char *display = config->display ? config->display : getenv("DISPLAY");
	struct x11_actuator *self;
	int r;

	if (!display || !*display)
		return dp_error_set(err, -EDESTADDRREQ,
				    "no X display given: DISPLAY is not set; pass --display :N or export DISPLAY=:N");
	self = calloc(1, sizeof(*self));
	if (!self)
		return dp_error_set(err, -ENOMEM, "out of memory");
	self->base.impl = &dp_actuator_x11;
	snprintf(self->display, sizeof(self->display), "%s", display);
	r = ensure_connected(self, err);
	if (r < 0) {
		x11_destroy(&self->base);
		return r;
	}
	*out = &self->base;
	return 0;
}
