/* Input on Wayland through a remote-desktop session (remote_input.h:
 * mutter's own or the portal's): the pointer in monitor pixels, keys as
 * keysyms, and text outside the keyboard layout through the session's
 * clipboard, because the compositor silently drops keysyms the current
 * layout lacks; where the session has no clipboard, such text is refused
 * naming the characters.  Windows cannot be managed by another client on
 * Wayland: those actions are refused with the reason. */
#define DP_LOG_SUBSYS "input"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xkbcommon/xkbcommon.h>

#include "actuators/actuator.h"
#include "actuators/keynames.h"
#include "actuators/launch.h"
#include "actuators/remote_input.h"
#include "engine/log.h"

#define MAX_HELD 32
#define PASTE_TIMEOUT_MS 2000
#define OFFER_SETTLE_MS 150
#define XK_Shift_L 0xffe1

struct remote_actuator {
	struct dp_actuator base;
	struct dp_remote_input in;
	struct xkb_context *xkb;
	struct xkb_keymap *keymap;         /* the layout the compositor types with */
	uint32_t held[MAX_HELD];           /* keysyms pressed and not yet released */
	size_t n_held;
	int buttons_held;                  /* bit per button */
	bool pointer_entered;
};

static struct remote_actuator *remote_of(struct dp_actuator *act)
{
	return (struct remote_actuator *)act;
}

static int key(struct remote_actuator *self, uint32_t keysym, bool pressed, struct dp_error *err)
{
	int r = self->in.keysym(self->in.session, keysym, pressed, err);

	if (r < 0)
		return r;
	if (pressed && self->n_held < MAX_HELD) {
		self->held[self->n_held++] = keysym;
	} else if (!pressed) {
		for (size_t i = self->n_held; i-- > 0;)
			if (self->held[i] == keysym) {
				memmove(&self->held[i], &self->held[i + 1], (self->n_held - i - 1) * sizeof(uint32_t));
				self->n_held--;
				break;
			}
	}
	return 0;
}

static void release_keys_since(struct remote_actuator *self, size_t mark)
{
	struct dp_error ignored = { 0 };

	while (self->n_held > mark)
		key(self, self->held[self->n_held - 1], false, &ignored);
}

static int button(struct remote_actuator *self, int b, bool pressed, struct dp_error *err)
{
	int r = self->in.pointer_button(self->in.session, b, pressed, err);

	if (r == 0)
		self->buttons_held = pressed ? self->buttons_held | (1 << b) : self->buttons_held & ~(1 << b);
	return r;
}

/* The pointer's first motion in a session makes the compositor send the
 * surface under it an enter event; a button right behind it arrives
 * before the client has pointer focus and is lost.  So the first move
 * waits a bit. */
static int move_to(struct remote_actuator *self, struct dp_point p, struct dp_error *err)
{
	int r;

	if (self->in.width > 0 && (p.x < 0 || p.x >= self->in.width || p.y < 0 || p.y >= self->in.height))
		return dp_error_set(err, -ERANGE, "point %d,%d is outside the screen 0..%d x 0..%d", p.x, p.y,
				    self->in.width - 1, self->in.height - 1);
	r = self->in.pointer_move(self->in.session, p.x, p.y, err);

	if (r == 0 && !self->pointer_entered) {
		struct timespec ts = { 0, 150 * 1000000L };

		self->pointer_entered = true;
		nanosleep(&ts, NULL);
		r = self->in.pointer_move(self->in.session, p.x, p.y, err);
	}
	return r;
}

static int press_chord(struct remote_actuator *self, const char *chord, struct dp_error *err)
{
	uint32_t syms[DP_CHORD_MAX];
	int n = dp_chord_parse(chord, syms, err), r = 0;

	for (int i = 0; i < n && r == 0; i++)
		r = key(self, syms[i], true, err);
	return n < 0 ? n : r;
}

/* Is there a key for keysym in the layout?  Those are the ones the
 * compositor types; it adds Shift or AltGr itself for higher levels. */
static bool in_layout(struct remote_actuator *self, uint32_t keysym)
{
	xkb_keycode_t min = xkb_keymap_min_keycode(self->keymap), max = xkb_keymap_max_keycode(self->keymap);

	for (xkb_keycode_t kc = min; kc <= max; kc++) {
		xkb_level_index_t levels = xkb_keymap_num_levels_for_key(self->keymap, kc, 0);

		for (xkb_level_index_t level = 0; level < levels; level++) {
			const xkb_keysym_t *syms;
			int n = xkb_keymap_key_get_syms_by_level(self->keymap, kc, 0, level, &syms);

			for (int i = 0; i < n; i++)
				if (syms[i] == keysym)
					return true;
		}
	}
	return false;
}

static int type_paste(struct remote_actuator *self, const char *text, const char *why, struct dp_action_result *res,
		      struct dp_error *err)
{
	size_t mark = self->n_held;
	int before, r = self->in.clipboard_offer(self->in.session, text, err);

	/* Let the offer reach the focused client (and the compositor's
	 * clipboard manager read it) before the paste chord asks for it. */
	before = r < 0 ? r : self->in.clipboard_serve(self->in.session, OFFER_SETTLE_MS, INT32_MAX, err);
	if (before < 0)
		return before;
	r = press_chord(self, "ctrl+v", err);
	release_keys_since(self, mark);
	if (r < 0)
		return r;
	r = self->in.clipboard_serve(self->in.session, PASTE_TIMEOUT_MS, before + 1, err);
	if (r < 0)
		return r;
	if (r <= before)
		return dp_error_set(err, -ETIMEDOUT, "pressed ctrl+v but no application asked for the text within "
						     "%d ms: is a text field focused?", PASTE_TIMEOUT_MS);
	snprintf(res->summary, sizeof(res->summary), "pasted %zu bytes through the clipboard%s", strlen(text), why);
	return 0;
}

/* No clipboard in this session: name what cannot be typed. */
static int refuse_unlayouted(struct remote_actuator *self, const uint32_t *syms, size_t n, struct dp_error *err)
{
	char list[160] = "";
	size_t used = 0, count = 0;

	for (size_t i = 0; i < n; i++) {
		char utf8[8];

		if (in_layout(self, syms[i]))
			continue;
		count++;
		if (xkb_keysym_to_utf8(syms[i], utf8, sizeof(utf8)) > 0 && used + strlen(utf8) + 2 < sizeof(list))
			used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", used ? " " : "", utf8);
	}
	if (!count)
		return dp_error_set(err, -ENOTSUP, "%s offers no clipboard to paste through; type it as keys",
				    self->in.name);
	return dp_error_set(err, -ENOTSUP,
			    "%zu characters are not in the keyboard layout and %s offers no clipboard to paste them "
			    "through (xdg-desktop-portal's RemoteDesktop has one from version 2): %s",
			    count, self->in.name, list);
}

static int type_text(struct remote_actuator *self, const char *text, enum dp_text_method method,
		     struct dp_action_result *res, struct dp_error *err)
{
	uint32_t *syms;
	size_t n, missing = 0;
	int r = dp_text_keysyms(text, &syms, &n, err);

	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		missing += !in_layout(self, syms[i]);
	if ((method == DP_TEXT_PASTE || missing) && !self->in.clipboard_offer) {
		r = refuse_unlayouted(self, syms, n, err);
		free(syms);
		return r;
	}
	if (method == DP_TEXT_PASTE || missing) {
		char why[96] = "";

		if (method != DP_TEXT_PASTE)
			snprintf(why, sizeof(why), " (%zu characters are not in the keyboard layout)", missing);
		free(syms);
		return type_paste(self, text, why, res, err);
	}
	for (size_t i = 0; i < n && r == 0; i++) {
		r = key(self, syms[i], true, err);
		if (r == 0)
			r = key(self, syms[i], false, err);
	}
	free(syms);
	if (r == 0)
		snprintf(res->summary, sizeof(res->summary), "typed %zu characters as keys", n);
	return r;
}

static int do_pointer(struct remote_actuator *self, const struct dp_action *a, struct dp_action_result *res,
		      struct dp_error *err)
{
	size_t mark = self->n_held;
	int r = 0;

	if (a->keys && *a->keys)
		r = press_chord(self, a->keys, err);
	if (r == 0 && a->has_point)
		r = move_to(self, a->point, err);
	switch (r == 0 ? a->type : DP_ACTION_WAIT) {
	case DP_ACTION_CLICK:
		for (int i = 0; i < a->count && r == 0; i++) {
			r = button(self, a->button, true, err);
			if (r == 0)
				r = button(self, a->button, false, err);
		}
		snprintf(res->summary, sizeof(res->summary), "clicked button %d x%d at %d,%d", a->button, a->count,
			 a->point.x, a->point.y);
		break;
	case DP_ACTION_MOVE:
		snprintf(res->summary, sizeof(res->summary), "moved to %d,%d", a->point.x, a->point.y);
		break;
	case DP_ACTION_BUTTON_DOWN:
	case DP_ACTION_BUTTON_UP:
		r = button(self, a->button, a->type == DP_ACTION_BUTTON_DOWN, err);
		snprintf(res->summary, sizeof(res->summary), "button %d %s", a->button,
			 a->type == DP_ACTION_BUTTON_DOWN ? "down" : "up");
		break;
	case DP_ACTION_DRAG:
		r = move_to(self, a->path[0], err);
		if (r == 0)
			r = button(self, a->button, true, err);
		for (size_t i = 1; i < a->n_path && r == 0; i++)
			r = move_to(self, a->path[i], err);
		if (self->buttons_held & (1 << a->button)) {
			struct dp_error ignored = { 0 };
			int up = button(self, a->button, false, r < 0 ? &ignored : err);

			if (r == 0)
				r = up;
		}
		snprintf(res->summary, sizeof(res->summary), "dragged from %d,%d to %d,%d", a->path[0].x,
			 a->path[0].y, a->path[a->n_path - 1].x, a->path[a->n_path - 1].y);
		break;
	case DP_ACTION_SCROLL:
		r = self->in.pointer_scroll(self->in.session, a->dx, a->dy, err);
		snprintf(res->summary, sizeof(res->summary), "scrolled dx=%d dy=%d", a->dx, a->dy);
		break;
	default:
		break;
	}
	release_keys_since(self, mark);
	return r;
}

static int do_keys(struct remote_actuator *self, const struct dp_action *a, struct dp_action_result *res,
		   struct dp_error *err)
{
	size_t mark = self->n_held;
	uint32_t syms[DP_CHORD_MAX];
	int n, r = 0;

	switch (a->type) {
	case DP_ACTION_KEY:
		for (int i = 0; i < a->count && r == 0; i++) {
			r = press_chord(self, a->keys, err);
			release_keys_since(self, mark);
		}
		snprintf(res->summary, sizeof(res->summary), "pressed %s%s", a->keys, a->count > 1 ? " repeatedly" : "");
		return r;
	case DP_ACTION_KEY_DOWN:
		r = press_chord(self, a->keys, err);
		snprintf(res->summary, sizeof(res->summary), "holding %s", a->keys);
		return r;
	case DP_ACTION_KEY_UP:
		n = dp_chord_parse(a->keys, syms, err);
		for (int i = n; i-- > 0 && r == 0;)
			r = key(self, syms[i], false, err);
		snprintf(res->summary, sizeof(res->summary), "released %s", a->keys);
		return n < 0 ? n : r;
	case DP_ACTION_HOLD: {
		struct timespec ts = { a->ms / 1000, (long)(a->ms % 1000) * 1000000L };

		r = press_chord(self, a->keys, err);
		if (r == 0)
			nanosleep(&ts, NULL);
		release_keys_since(self, mark);
		snprintf(res->summary, sizeof(res->summary), "held %s for %d ms", a->keys, a->ms);
		return r;
	}
	default:
		return -EINVAL;
	}
}

static int remote_perform(struct dp_actuator *act, const struct dp_action *a, struct dp_action_result *res,
			  struct dp_error *err)
{
	struct remote_actuator *self = remote_of(act);

	switch (a->type) {
	case DP_ACTION_CLICK:
	case DP_ACTION_MOVE:
	case DP_ACTION_BUTTON_DOWN:
	case DP_ACTION_BUTTON_UP:
	case DP_ACTION_DRAG:
	case DP_ACTION_SCROLL:
		return do_pointer(self, a, res, err);
	case DP_ACTION_KEY:
	case DP_ACTION_KEY_DOWN:
	case DP_ACTION_KEY_UP:
	case DP_ACTION_HOLD:
		return do_keys(self, a, res, err);
	case DP_ACTION_TYPE:
		return type_text(self, a->text, a->method, res, err);
	case DP_ACTION_WAIT: {
		struct timespec ts = { a->ms / 1000, (long)(a->ms % 1000) * 1000000L };

		nanosleep(&ts, NULL);
		snprintf(res->summary, sizeof(res->summary), "waited %d ms", a->ms);
		return 0;
	}
	case DP_ACTION_WINDOW:
		return dp_error_set(err, -ENOTSUP, "window actions are not possible on Wayland: the compositor lets no "
						   "other client list, focus or move windows; click the window instead");
	case DP_ACTION_LAUNCH: {
		int r = dp_launch(a->argv, NULL, &res->pid, err);

		if (r == 0)
			snprintf(res->summary, sizeof(res->summary), "started %s (pid %d)", a->argv[0], (int)res->pid);
		return r;
	}
	default:
		return dp_error_set(err, -EINVAL, "%s is not an input action; the engine handles it",
				    dp_action_type_name(a->type));
	}
}

static int remote_windows(struct dp_actuator *act, const struct dp_window_match *match, struct dp_window_info *out,
			  size_t max, size_t *count, struct dp_error *err)
{
	(void)act, (void)match, (void)out, (void)max;
	*count = 0;
	return dp_error_set(err, -ENOTSUP, "listing windows is not possible on Wayland: the compositor shows no "
					   "client the others' windows");
}

static void remote_release_all(struct dp_actuator *act)
{
	struct remote_actuator *self = remote_of(act);
	struct dp_error ignored = { 0 };

	release_keys_since(self, 0);
	for (int b = 1; b <= 9; b++)
		if (self->buttons_held & (1 << b))
			button(self, b, false, &ignored);
}

static void remote_destroy(struct dp_actuator *act)
{
	struct remote_actuator *self = remote_of(act);

	if (self->in.session)
		remote_release_all(act);
	xkb_keymap_unref(self->keymap);
	xkb_context_unref(self->xkb);
	free(self);
}

static int remote_create(struct dp_actuator **out, const struct dp_actuator_config *config, struct dp_error *err);

const struct dp_actuator_impl dp_actuator_remote = {
	.name = "remote-desktop",
	.create = remote_create,
	.perform = remote_perform,
	.windows = remote_windows,
	.release_all = remote_release_all,
	.destroy = remote_destroy,
};

static int remote_create(struct dp_actuator **out, const struct dp_actuator_config *config, struct dp_error *err)
{
	struct remote_actuator *self;
	struct xkb_rule_names names = { .layout = config->keyboard_layout };
	int r;

	if (!config->remote || !config->remote->keysym)
		return dp_error_set(err, -EINVAL, "the remote-desktop input backend needs a session");
	self = calloc(1, sizeof(*self));
	if (!self)
		return dp_error_set(err, -ENOMEM, "out of memory");
	self->base.impl = &dp_actuator_remote;
	self->xkb = xkb_context_new(XKB_CONTEXT_NO_FLAGS);
	/* NULL names take XKB_DEFAULT_LAYOUT and friends, else "us". */
	self->keymap = self->xkb ? xkb_keymap_new_from_names(self->xkb, &names, XKB_KEYMAP_COMPILE_NO_FLAGS) : NULL;
	if (!self->keymap) {
		remote_destroy(&self->base);
		return dp_error_set(err, -EINVAL, "cannot compile the keyboard layout '%s' (is xkb-data installed?)",
				    config->keyboard_layout ? config->keyboard_layout : "default");
	}
	self->in = *config->remote;
	/* The compositor can drop the first key after a session starts: a
	 * harmless Shift tap goes first. */
	r = self->in.keysym(self->in.session, XK_Shift_L, true, err);
	if (r == 0)
		r = self->in.keysym(self->in.session, XK_Shift_L, false, err);
	if (r < 0) {
		self->in.session = NULL;
		remote_destroy(&self->base);
		return r;
	}
	*out = &self->base;
	return 0;
}
