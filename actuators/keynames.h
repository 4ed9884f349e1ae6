/* Key names as xdotool users write them ("ctrl+shift+t", "super", "Return",
 * "KP_Enter", "F5"), and text, to X keysyms.  Pure: no X connection. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "engine/error.h"

#define DP_CHORD_MAX 8

/* One key name to its keysym: the xdotool aliases (ctrl, alt, shift, super,
 * meta, ...) and a few common spellings (enter, esc, pgup), then every
 * keysym name (exact case first, then any case), then a single character.
 * On failure returns -ENOENT and err names the closest known names. */
int dp_keyname_lookup(const char *name, uint32_t *keysym, struct dp_error *err);

/* A chord such as "ctrl+shift+t" (or "ctrl+plus", "ctrl++") to keysyms in
 * pressing order.  Returns the count, or a negative errno with err set. */
int dp_chord_parse(const char *chord, uint32_t keysyms[DP_CHORD_MAX], struct dp_error *err);

/* A text (UTF-8) to the keysym of each character, in order: newline and
 * carriage return to Return, tab to Tab.  Invalid UTF-8 and other control
 * characters are errors that give the byte offset.  *out is malloc'ed. */
int dp_text_keysyms(const char *text, uint32_t **out, size_t *n, struct dp_error *err);
