/* Input injection through a remote-desktop session, whoever hosts it:
 * mutter's own API or the xdg-desktop-portal RemoteDesktop interface.
 * Coordinates are in the recorded stream's pixels; buttons 1 left,
 * 2 middle, 3 right, 8 back, 9 forward; scroll in wheel clicks (+dy down,
 * +dx right); keys as X keysyms. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "engine/error.h"

/* deskpilot's button numbers to the Linux input codes (BTN_LEFT...)
 * remote-desktop APIs take; 0 for none. */
static inline int dp_evdev_button(int button)
{
	switch (button) {
	case 1: return 0x110; /* BTN_LEFT */
	case 2: return 0x112; /* BTN_MIDDLE */
	case 3: return 0x111; /* BTN_RIGHT */
	case 8: return 0x113; /* BTN_SIDE */
	case 9: return 0x114; /* BTN_EXTRA */
	default: return 0;
	}
}

struct dp_remote_input {
	const char *name; /* for messages: "mutter", "the portal" */
	void *session;
	int32_t width, height; /* the stream's size: points must lie inside; 0: unknown */
	int (*pointer_move)(void *session, double x, double y, struct dp_error *err);
	int (*pointer_button)(void *session, int button, bool pressed, struct dp_error *err);
	int (*pointer_scroll)(void *session, int dx, int dy, struct dp_error *err);
	int (*keysym)(void *session, uint32_t keysym, bool pressed, struct dp_error *err);
	/* Text through the clipboard, NULL where the session has none: offer
	 * it, then serve reads until `reads` were served or timeout_ms passed
	 * (returns the count served so far). */
	int (*clipboard_offer)(void *session, const char *text, struct dp_error *err);
	int (*clipboard_serve)(void *session, int timeout_ms, int reads, struct dp_error *err);
};
