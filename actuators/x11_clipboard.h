/* The paste path: deskpilot owns CLIPBOARD and PRIMARY with a text and
 * hands it to whichever client asks, then the actuator presses the paste
 * chord.  For long text and targets that take pasting well. */
#pragma once

#include <stdbool.h>

#include <xcb/xcb.h>

#include "engine/error.h"

struct dp_x11_clipboard;

/* Events read while waiting that are not the clipboard's go here. */
typedef void (*dp_x11_event_fn)(void *data, xcb_generic_event_t *ev);

int dp_x11_clipboard_create(struct dp_x11_clipboard **out, xcb_connection_t *conn, xcb_window_t root,
			    dp_x11_event_fn other, void *other_data, struct dp_error *err);
void dp_x11_clipboard_destroy(struct dp_x11_clipboard *cb);

/* Owns both selections with text (UTF-8) from now on. */
int dp_x11_clipboard_offer(struct dp_x11_clipboard *cb, const char *text, struct dp_error *err);

/* Serves a SelectionRequest or notes a SelectionClear; false if not ours. */
bool dp_x11_clipboard_handle_event(struct dp_x11_clipboard *cb, const xcb_generic_event_t *ev);

/* Waits, on X events, until a client has fetched the text; -ETIMEDOUT. */
int dp_x11_clipboard_wait_fetched(struct dp_x11_clipboard *cb, int timeout_ms);
