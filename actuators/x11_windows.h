/* Windows through EWMH/ICCCM on X11: list, find, activate, move, resize,
 * minimize, maximize, close; and launching a program (an explicit argv,
 * never a shell).  Used by the X11 actuator; every wait is event-driven. */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include <xcb/xcb.h>

#include "actuators/actuator.h"

struct dp_x11_windows;

/* conn is the actuator's connection (shared; this module selects
 * PropertyChange on the root and reads events through
 * dp_x11_windows_handle_event, which the actuator calls for every event). */
int dp_x11_windows_create(struct dp_x11_windows **out, xcb_connection_t *conn, xcb_window_t root,
			  struct dp_error *err);
void dp_x11_windows_destroy(struct dp_x11_windows *w);

/* Returns true if the event was this module's. */
bool dp_x11_windows_handle_event(struct dp_x11_windows *w, const xcb_generic_event_t *ev);

int dp_x11_windows_list(struct dp_x11_windows *w, const struct dp_window_match *match, struct dp_window_info *out,
			size_t max, size_t *count, struct dp_error *err);

/* Performs a DP_ACTION_WINDOW action other than list on the one window that
 * matches (an error if none or several match: the message lists them).
 * activate returns once the window has the focus (or fails after a timeout);
 * close asks politely (WM_DELETE_WINDOW / _NET_CLOSE_WINDOW) and reports if
 * the window is still there after a timeout. */
int dp_x11_windows_perform(struct dp_x11_windows *w, const struct dp_action *action, struct dp_action_result *result,
			   struct dp_error *err);

/* Starts argv[0] (looked up in PATH) with argv, with DISPLAY set to display;
 * no shell.  Fills *pid. */
int dp_launch(char *const argv[], const char *display, pid_t *pid, struct dp_error *err);
bool dp_x11_windows_take_mapping_changed(struct dp_x11_windows *w);
