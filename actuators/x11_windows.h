/* Windows through EWMH/ICCCM on X11: list, find, activate, move, resize,
 * minimize, maximize, close.  Used by the X11 actuator; every wait is
 * event-driven. */
#pragma once

#include <stddef.h>

#include <xcb/xcb.h>

#include "actuators/actuator.h"

struct dp_x11_windows;

/* conn is the actuator's connection (shared; this module selects
 * PropertyChange on the root and reads events through
 * dp_x11_windows_handle_event, which the actuator calls for every event). */
int dp_x11_windows_create(struct dp_x11_windows **out, xcb_connection_t *conn, xcb_window_t root,
			  struct dp_error *err);
void dp_x11_windows_destroy(struct dp_x11_windows *w);

/* Returns true if the event was this module's (a PropertyNotify on the root,
 * or an event about the window the last action watched); such events need
 * nothing more from the caller.  Events that arrive while perform waits are
 * read by perform itself from conn; those that are not its own are dropped,
 * except that a MappingNotify sets the flag below. */
bool dp_x11_windows_handle_event(struct dp_x11_windows *w, const xcb_generic_event_t *ev);

/* The windows matching match (NULL: all), bottom of the stack first: the
 * WM's _NET_CLIENT_LIST_STACKING, or without a WM the root's mapped children
 * that have a name.  Fills out[0..*count), at most max; more matches are left
 * out.  A bad regex in match is -EINVAL, naming it. */
int dp_x11_windows_list(struct dp_x11_windows *w, const struct dp_window_match *match, struct dp_window_info *out,
			size_t max, size_t *count, struct dp_error *err);

/* Performs a DP_ACTION_WINDOW action other than list on the one window that
 * matches (an error if none or several match: the message lists them).
 * activate returns once the window has the focus (or fails after a timeout);
 * move puts the window's outer corner (WM frame included) at point; resize
 * sets the client area to width x height (the WM may round it to the
 * window's size increments: result->window says what it got);
 * close asks politely (WM_DELETE_WINDOW / _NET_CLOSE_WINDOW) and reports if
 * the window is still there after a timeout; it never kills the program.
 * result->window is the window after the action (before it, for close). */
int dp_x11_windows_perform(struct dp_x11_windows *w, const struct dp_action *action, struct dp_action_result *result,
			   struct dp_error *err);

/* Whether a MappingNotify (keyboard or modifiers) arrived while this module
 * was reading events inside perform; clears the flag.  The actuator reloads
 * its keymap when it is set.  (MappingNotify passed to handle_event is left
 * to the actuator and does not set it.) */
bool dp_x11_windows_take_mapping_changed(struct dp_x11_windows *w);
