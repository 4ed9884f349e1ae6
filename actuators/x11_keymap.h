/* deskpilot's keymap engine: any keysym to a key press, exactly.
 *
 * Keysyms on the keyboard map are pressed where they are (with Shift for the
 * second level).  Any other keysym gets a slot: a spare keycode (no symbols)
 * or, when those run out, one borrowed from vendor keys (XF86*).  Slots are
 * bound in one request before typing, kept as a cache (least recently used
 * rebinds first), never rebound before the client has read the map that
 * their last key events were typed with, and restored on restore/destroy. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xcb/xcb.h>

#include "engine/error.h"

struct dp_x11_keymap;
struct dp_x11_mapwatch;

struct dp_keystroke {
	xcb_keycode_t keycode;
	bool shift; /* press Shift around it (the keysym is on the second level) */
};

int dp_x11_keymap_create(struct dp_x11_keymap **out, xcb_connection_t *conn, struct dp_x11_mapwatch *watch,
			 struct dp_error *err);
/* Restores every borrowed keycode (waiting, bounded, for clients to read
 * the map first) and frees. */
void dp_x11_keymap_destroy(struct dp_x11_keymap *km);

/* Rereads the map after someone else changed it (setxkbmap, xmodmap). */
int dp_x11_keymap_reload(struct dp_x11_keymap *km);

/* How many keysyms off the map one batch can bind. */
size_t dp_x11_keymap_slots(const struct dp_x11_keymap *km);

/* Where keysym is on the current map, without binding anything. */
bool dp_x11_keymap_find(const struct dp_x11_keymap *km, uint32_t keysym, struct dp_keystroke *out);

/* The same, but only on the layout's own keys, not in deskpilot's slots:
 * what a text needs beyond this takes a slot. */
bool dp_x11_keymap_find_on_layout(const struct dp_x11_keymap *km, uint32_t keysym, struct dp_keystroke *out);

/* Resolves n keysyms to keystrokes, binding slots for those off the map (at
 * most dp_x11_keymap_slots() distinct ones).  focus_window tells whose map
 * fetch to wait for before a slot is rebound (0: any client).  Returns 0,
 * -E2BIG if too many distinct keysyms, or another negative errno. */
int dp_x11_keymap_resolve(struct dp_x11_keymap *km, const uint32_t *keysyms, size_t n,
			  struct dp_keystroke *out, uint32_t focus_window, struct dp_error *err);

/* Marks the keystrokes as typed (their slots are now in flight). */
void dp_x11_keymap_typed(struct dp_x11_keymap *km, const struct dp_keystroke *strokes, size_t n);

/* Puts every slot back as it was before deskpilot borrowed it. */
int dp_x11_keymap_restore(struct dp_x11_keymap *km, uint32_t focus_window);

/* The keycode of a modifier keysym (Shift_L, Control_L, ...), or 0. */
xcb_keycode_t dp_x11_keymap_shift_keycode(const struct dp_x11_keymap *km);
