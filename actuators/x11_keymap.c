#define DP_LOG_SUBSYS "keymap"

#include "actuators/x11_keymap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actuators/x11_mapwatch.h"
#include "engine/log.h"

#define MAX_SLOTS 160
#define KEYSYM_SHIFT_L 0xffe1
#define VENDOR_KEYSYMS 0x10080000u /* XF86 and other vendor keys: borrowable */
#define FETCH_WAIT_MS 1000
#define FETCH_GRACE_MS 20

struct slot {
	xcb_keycode_t keycode;
	xcb_keysym_t original[8]; /* the first columns before we bound it */
	xcb_keysym_t bound;       /* keysym we bound, 0 when free */
	uint64_t last_used;       /* tick of its last use, 0 never */
	bool in_flight;           /* typed since the last map change */
};

struct dp_x11_keymap {
	xcb_connection_t *conn;
	struct dp_x11_mapwatch *watch;
	xcb_keycode_t min, max;
	uint8_t per;          /* keysyms per keycode */
	xcb_keysym_t *syms;   /* (max - min + 1) * per */
	uint8_t is_modifier[256];
	struct slot slots[MAX_SLOTS];
	size_t n_slots;
	uint64_t tick;
};

static xcb_keysym_t *syms_of(const struct dp_x11_keymap *km, xcb_keycode_t kc)
{
	return km->syms + (size_t)(kc - km->min) * km->per;
}

static int load_modifiers(struct dp_x11_keymap *km)
{
	xcb_get_modifier_mapping_reply_t *r =
		xcb_get_modifier_mapping_reply(km->conn, xcb_get_modifier_mapping(km->conn), NULL);
	xcb_keycode_t *codes;
	int n;

	if (!r)
		return -EPIPE;
	codes = xcb_get_modifier_mapping_keycodes(r);
	n = xcb_get_modifier_mapping_keycodes_length(r);
	memset(km->is_modifier, 0, sizeof(km->is_modifier));
	for (int i = 0; i < n; i++)
		km->is_modifier[codes[i]] = 1;
	free(r);
	return 0;
}

static bool is_spare(const struct dp_x11_keymap *km, xcb_keycode_t kc)
{
	const xcb_keysym_t *s = syms_of(km, kc);

	for (int i = 0; i < km->per; i++)
		if (s[i])
			return false;
	return true;
}

static bool is_borrowable(const struct dp_x11_keymap *km, xcb_keycode_t kc)
{
	const xcb_keysym_t *s = syms_of(km, kc);
	bool any = false;

	if (km->is_modifier[kc])
		return false;
	for (int i = 0; i < km->per; i++) {
		if (s[i] && s[i] < VENDOR_KEYSYMS)
			return false;
		any |= s[i] != 0;
	}
	return any;
}

/* Keeps what a slot knows when the map still shows our binding there. */
static void add_slot(struct dp_x11_keymap *km, xcb_keycode_t kc, const struct slot *previous)
{
	struct slot *s = &km->slots[km->n_slots++];
	const xcb_keysym_t *now = syms_of(km, kc);

	if (previous && previous->bound && now[0] == previous->bound) {
		*s = *previous;
		return;
	}
	memset(s, 0, sizeof(*s));
	s->keycode = kc;
	for (int i = 0; i < km->per && i < 8; i++)
		s->original[i] = now[i];
}

static const struct slot *find_slot(const struct slot *slots, size_t n, xcb_keycode_t kc)
{
	for (size_t i = 0; i < n; i++)
		if (slots[i].keycode == kc)
			return &slots[i];
	return NULL;
}

/* Spare keycodes first, then borrowable ones, so vendor keys are only
 * taken when a text needs more symbols than the spare ones hold. */
static void build_slots(struct dp_x11_keymap *km)
{
	struct slot previous[MAX_SLOTS];
	size_t n_previous = km->n_slots;

	memcpy(previous, km->slots, sizeof(previous));
	km->n_slots = 0;
	for (int pass = 0; pass < 2; pass++) {
		for (unsigned kc = km->min; kc <= km->max && km->n_slots < MAX_SLOTS; kc++) {
			const struct slot *prev = find_slot(previous, n_previous, (xcb_keycode_t)kc);
			bool ours = prev && prev->bound && syms_of(km, (xcb_keycode_t)kc)[0] == prev->bound;
			bool wanted = pass == 0 ? is_spare(km, (xcb_keycode_t)kc) || (ours && !prev->original[0])
						: (is_borrowable(km, (xcb_keycode_t)kc) || ours) && !(ours && !prev->original[0]);

			if (wanted && !find_slot(km->slots, km->n_slots, (xcb_keycode_t)kc))
				add_slot(km, (xcb_keycode_t)kc, prev);
		}
	}
}

int dp_x11_keymap_reload(struct dp_x11_keymap *km)
{
	const xcb_setup_t *setup = xcb_get_setup(km->conn);
	xcb_get_keyboard_mapping_reply_t *r;
	size_t n;

	km->min = setup->min_keycode;
	km->max = setup->max_keycode;
	r = xcb_get_keyboard_mapping_reply(km->conn,
					   xcb_get_keyboard_mapping(km->conn, km->min, (uint8_t)(km->max - km->min + 1)),
					   NULL);
	if (!r)
		return -EPIPE;
	km->per = r->keysyms_per_keycode;
	n = (size_t)(km->max - km->min + 1) * km->per;
	free(km->syms);
	km->syms = malloc(n * sizeof(xcb_keysym_t));
	if (!km->syms) {
		free(r);
		return -ENOMEM;
	}
	memcpy(km->syms, xcb_get_keyboard_mapping_keysyms(r), n * sizeof(xcb_keysym_t));
	free(r);
	if (load_modifiers(km) < 0)
		return -EPIPE;
	build_slots(km);
	return 0;
}

int dp_x11_keymap_create(struct dp_x11_keymap **out, xcb_connection_t *conn, struct dp_x11_mapwatch *watch,
			 struct dp_error *err)
{
	struct dp_x11_keymap *km = calloc(1, sizeof(*km));
	int r;

	if (!km)
		return -ENOMEM;
	km->conn = conn;
	km->watch = watch;
	r = dp_x11_keymap_reload(km);
	if (r < 0) {
		free(km);
		return dp_error_set(err, r, "cannot read the keyboard map from the X server");
	}
	if (km->per < 2) {
		int per = km->per;

		free(km->syms);
		free(km);
		return dp_error_set(err, -ENOTSUP, "the keyboard map has %d symbol per key; 2 or more needed", per);
	}
	dp_log_debug("%zu slots for keysyms off the map", km->n_slots);
	*out = km;
	return 0;
}

size_t dp_x11_keymap_slots(const struct dp_x11_keymap *km)
{
	return km->n_slots;
}

static bool is_slot(const struct dp_x11_keymap *km, xcb_keycode_t kc)
{
	for (size_t i = 0; i < km->n_slots; i++)
		if (km->slots[i].keycode == kc && km->slots[i].bound)
			return true;
	return false;
}

static bool find(const struct dp_x11_keymap *km, uint32_t keysym, bool slots_too, struct dp_keystroke *out)
{
	/* Two passes: an unshifted place beats a shifted one. */
	for (int col = 0; col < 2; col++) {
		for (unsigned kc = km->min; kc <= km->max; kc++) {
			if (syms_of(km, (xcb_keycode_t)kc)[col] != keysym)
				continue;
			if (!slots_too && is_slot(km, (xcb_keycode_t)kc))
				continue;
			out->keycode = (xcb_keycode_t)kc;
			out->shift = col == 1;
			return true;
		}
	}
	return false;
}

bool dp_x11_keymap_find(const struct dp_x11_keymap *km, uint32_t keysym, struct dp_keystroke *out)
{
	return find(km, keysym, true, out);
}

bool dp_x11_keymap_find_on_layout(const struct dp_x11_keymap *km, uint32_t keysym, struct dp_keystroke *out)
{
	return find(km, keysym, false, out);
}

xcb_keycode_t dp_x11_keymap_shift_keycode(const struct dp_x11_keymap *km)
{
	struct dp_keystroke ks;

	return dp_x11_keymap_find(km, KEYSYM_SHIFT_L, &ks) ? ks.keycode : 0;
}

/* Rebinding a slot whose keystrokes may not have been read yet must wait
 * until the client has fetched the map they were typed with.  A fetch
 * happens at the client's first key lookup after the change; the grace
 * after it covers the rest of the keystrokes already in its queue. */
static int wait_for_fetch(struct dp_x11_keymap *km, uint32_t focus_window)
{
	struct timespec grace = { 0, FETCH_GRACE_MS * 1000000L };
	int r = -ETIMEDOUT;

	if (km->watch)
		r = dp_x11_mapwatch_wait(km->watch, focus_window, FETCH_WAIT_MS);
	if (r == -EPIPE)
		return r;
	if (r == -ETIMEDOUT)
		dp_log_info("no client fetched the keyboard map within %d ms; rebinding anyway",
			    km->watch ? FETCH_WAIT_MS : 0);
	nanosleep(&grace, NULL);
	for (size_t i = 0; i < km->n_slots; i++)
		km->slots[i].in_flight = false;
	return 0;
}

/* Writes the columns of the keycodes [first, last] in one request. */
static int write_range(struct dp_x11_keymap *km, xcb_keycode_t first, xcb_keycode_t last)
{
	xcb_generic_error_t *xerr = xcb_request_check(
		km->conn, xcb_change_keyboard_mapping_checked(km->conn, (uint8_t)(last - first + 1), first, km->per,
							       syms_of(km, first)));

	if (xerr) {
		free(xerr);
		return -EIO;
	}
	if (km->watch)
		dp_x11_mapwatch_changed(km->watch);
	return 0;
}

static void set_columns(struct dp_x11_keymap *km, struct slot *s, xcb_keysym_t keysym)
{
	xcb_keysym_t *cols = syms_of(km, s->keycode);

	for (int i = 0; i < km->per; i++)
		cols[i] = i < 4 ? keysym : 0; /* both levels of both groups */
	if (!keysym)
		for (int i = 0; i < km->per && i < 8; i++)
			cols[i] = s->original[i];
	s->bound = keysym;
}

static struct slot *least_recently_used(struct dp_x11_keymap *km, const uint32_t *keep, size_t n_keep)
{
	struct slot *best = NULL;

	for (size_t i = 0; i < km->n_slots; i++) {
		struct slot *s = &km->slots[i];
		bool needed = false;

		for (size_t j = 0; j < n_keep && !needed; j++)
			needed = s->bound && s->bound == keep[j];
		if (!needed && (!best || s->last_used < best->last_used))
			best = s;
	}
	return best;
}

int dp_x11_keymap_resolve(struct dp_x11_keymap *km, const uint32_t *keysyms, size_t n,
			  struct dp_keystroke *out, uint32_t focus_window, struct dp_error *err)
{
	xcb_keycode_t first = 255, last = 0;
	bool rebinding_in_flight = false;
	size_t missing = 0;
	int r;

	/* Plan: which keysyms need a slot, and which slot each takes. */
	struct slot *plan[MAX_SLOTS];
	uint32_t plan_sym[MAX_SLOTS];

	for (size_t i = 0; i < n; i++) {
		bool planned = false;

		if (dp_x11_keymap_find(km, keysyms[i], &out[i]))
			continue;
		for (size_t j = 0; j < missing && !planned; j++)
			planned = plan_sym[j] == keysyms[i];
		if (planned)
			continue;
		if (missing == km->n_slots)
			return dp_error_set(err, -E2BIG, "more distinct symbols than the %zu free keycodes", km->n_slots);
		plan_sym[missing++] = keysyms[i];
	}
	for (size_t j = 0; j < missing; j++) {
		struct slot *s = least_recently_used(km, keysyms, n);

		if (!s)
			return dp_error_set(err, -E2BIG, "no free keycode left for this text");
		plan[j] = s;
		rebinding_in_flight |= s->in_flight;
		s->last_used = ++km->tick; /* reserve it for this batch */
		s->bound = plan_sym[j];    /* provisional, so the next pick skips it */
	}
	if (missing) {
		if (rebinding_in_flight) {
			dp_log_debug("rebinding %zu keycodes in flight: waiting for window 0x%x to read the map", missing, focus_window);
			r = wait_for_fetch(km, focus_window);
			if (r < 0)
				return dp_error_set(err, r, "lost the X connection while waiting for a client");
		}
		for (size_t j = 0; j < missing; j++) {
			set_columns(km, plan[j], plan_sym[j]);
			if (plan[j]->keycode < first)
				first = plan[j]->keycode;
			if (plan[j]->keycode > last)
				last = plan[j]->keycode;
		}
		r = write_range(km, first, last);
		if (r < 0)
			return dp_error_set(err, r, "the X server refused to change the keyboard map");
	}
	for (size_t i = 0; i < n; i++)
		if (!dp_x11_keymap_find(km, keysyms[i], &out[i]))
			return dp_error_set(err, -EIO, "keysym 0x%x did not reach the keyboard map", keysyms[i]);
	return 0;
}

void dp_x11_keymap_typed(struct dp_x11_keymap *km, const struct dp_keystroke *strokes, size_t n)
{
	km->tick++;
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < km->n_slots; j++) {
			if (km->slots[j].keycode == strokes[i].keycode && km->slots[j].bound) {
				km->slots[j].last_used = km->tick;
				km->slots[j].in_flight = true;
			}
		}
	}
}

int dp_x11_keymap_restore(struct dp_x11_keymap *km, uint32_t focus_window)
{
	xcb_keycode_t first = 255, last = 0;
	bool in_flight = false;

	for (size_t i = 0; i < km->n_slots; i++) {
		if (!km->slots[i].bound)
			continue;
		in_flight |= km->slots[i].in_flight;
		if (km->slots[i].keycode < first)
			first = km->slots[i].keycode;
		if (km->slots[i].keycode > last)
			last = km->slots[i].keycode;
	}
	if (first > last)
		return 0;
	if (in_flight && wait_for_fetch(km, focus_window) < 0)
		return -EPIPE;
	for (size_t i = 0; i < km->n_slots; i++)
		if (km->slots[i].bound)
			set_columns(km, &km->slots[i], 0);
	return write_range(km, first, last);
}

void dp_x11_keymap_destroy(struct dp_x11_keymap *km)
{
	if (!km)
		return;
	if (!xcb_connection_has_error(km->conn))
		dp_x11_keymap_restore(km, 0);
	free(km->syms);
	free(km);
}
