/* Knowing when a client has read the keyboard map (X RECORD).
 *
 * After deskpilot rebinds spare keycodes, a client learns of it from a
 * MappingNotify and fetches the map when it next looks a key up.  Rebinding
 * a keycode again before that fetch makes the client read the newer symbol
 * for older key events: xdotool's lost characters.  The watch sees every
 * client's GetKeyboardMapping and XkbGetMap request through RECORD, so a
 * rebind can wait until the client has really read the map. */
#pragma once

#include <stdint.h>

#include <xcb/xcb.h>

#include "engine/error.h"

struct dp_x11_mapwatch;

/* Opens a second connection to display for the RECORD stream.  Returns
 * -ENOTSUP when the server has no RECORD extension. */
int dp_x11_mapwatch_create(struct dp_x11_mapwatch **out, xcb_connection_t *conn, const char *display,
			   struct dp_error *err);
void dp_x11_mapwatch_destroy(struct dp_x11_mapwatch *watch);

/* Call right after changing the map: sends a marker request on conn so that
 * only fetches the server handles after the change count. */
void dp_x11_mapwatch_changed(struct dp_x11_mapwatch *watch);

/* Waits until a client other than us (the client owning `client_window`
 * when not 0) has fetched the map since the last change, up to timeout_ms.
 * Returns 0, or -ETIMEDOUT. */
int dp_x11_mapwatch_wait(struct dp_x11_mapwatch *watch, uint32_t client_window, int timeout_ms);
