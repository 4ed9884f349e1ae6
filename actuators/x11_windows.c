/* Acting on windows through EWMH/ICCCM on plain XCB: activate, move,
 * resize, minimize, maximize, close.
 *
 * Every action waits for the server or the window manager to confirm it
 * through events, with poll() on the connection and a deadline; nothing
 * sleeps.  Reading the window list is in x11_windows_list.c. */
#define DP_LOG_SUBSYS "windows"

#include "actuators/x11_windows_private.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/clock.h"
#include "engine/log.h"

#define ACTIVATE_TIMEOUT_NS (2 * DP_NSEC_PER_SEC)
#define CONFIGURE_TIMEOUT_NS (2 * DP_NSEC_PER_SEC)
#define STATE_TIMEOUT_NS (2 * DP_NSEC_PER_SEC)
#define CLOSE_TIMEOUT_NS (3 * DP_NSEC_PER_SEC)
/* After a ConfigureNotify that does not give the size asked for (size
 * increments, a WM constraint), this much quiet means the WM is done. */
#define CONFIGURE_SETTLE_NS (200 * DP_NSEC_PER_MSEC)

/* EWMH / ICCCM constants (no xcb-ewmh, no Xlib headers). */
#define SOURCE_PAGER 2          /* "source indication": a tool acting for the user */
#define WM_HINTS_INPUT 1        /* WM_HINTS flags: the input field is set */
#define NET_WM_STATE_ADD 1
#define GRAVITY_NORTH_WEST 1
#define MOVERESIZE_X (1u << 8)
#define MOVERESIZE_Y (1u << 9)
#define MOVERESIZE_WIDTH (1u << 10)
#define MOVERESIZE_HEIGHT (1u << 11)
#define MOVERESIZE_SOURCE(s) ((uint32_t)(s) << 12)

static const char *const atom_names[N_ATOMS] = {
	[A_NET_SUPPORTED] = "_NET_SUPPORTED",
	[A_NET_SUPPORTING_WM_CHECK] = "_NET_SUPPORTING_WM_CHECK",
	[A_NET_CLIENT_LIST] = "_NET_CLIENT_LIST",
	[A_NET_CLIENT_LIST_STACKING] = "_NET_CLIENT_LIST_STACKING",
	[A_NET_ACTIVE_WINDOW] = "_NET_ACTIVE_WINDOW",
	[A_NET_WM_NAME] = "_NET_WM_NAME",
	[A_UTF8_STRING] = "UTF8_STRING",
	[A_NET_WM_PID] = "_NET_WM_PID",
	[A_NET_WM_DESKTOP] = "_NET_WM_DESKTOP",
	[A_NET_WM_STATE] = "_NET_WM_STATE",
	[A_NET_WM_STATE_HIDDEN] = "_NET_WM_STATE_HIDDEN",
	[A_NET_WM_STATE_MAXIMIZED_VERT] = "_NET_WM_STATE_MAXIMIZED_VERT",
	[A_NET_WM_STATE_MAXIMIZED_HORZ] = "_NET_WM_STATE_MAXIMIZED_HORZ",
	[A_NET_FRAME_EXTENTS] = "_NET_FRAME_EXTENTS",
	[A_NET_MOVERESIZE_WINDOW] = "_NET_MOVERESIZE_WINDOW",
	[A_NET_CLOSE_WINDOW] = "_NET_CLOSE_WINDOW",
	[A_WM_STATE] = "WM_STATE",
	[A_WM_CHANGE_STATE] = "WM_CHANGE_STATE",
	[A_WM_PROTOCOLS] = "WM_PROTOCOLS",
	[A_WM_DELETE_WINDOW] = "WM_DELETE_WINDOW",
	[A_WM_TAKE_FOCUS] = "WM_TAKE_FOCUS",
};

/* What the events seen while waiting said about the target. */
struct watch {
	xcb_window_t target;
	xcb_window_t frame; /* the WM's frame around it, or 0 */
	uint32_t mask_before, frame_mask_before;
	unsigned configures;
	bool destroyed, unmapped, focused_in;
	bool raise_only; /* activate: the window takes no focus, so raised is done */
};

/* ---- events ---- */

/* Records what ev says about the watched window (wt may be NULL); returns
 * true if the wait should look again. */
static bool note_event(struct dp_x11_windows *w, struct watch *wt, const xcb_generic_event_t *ev)
{
	xcb_window_t target = wt ? wt->target : XCB_NONE;

	switch (ev->response_type & 0x7f) {
	case 0:
		dp_log_debug("X error %u (request %u.%u) while waiting", ((const xcb_generic_error_t *)ev)->error_code,
			     ((const xcb_generic_error_t *)ev)->major_code,
			     ((const xcb_generic_error_t *)ev)->minor_code);
		return false;
	case XCB_MAPPING_NOTIFY:
		/* The actuator asks through take_mapping_changed; pointer maps are no keymap's business. */
		if (((const xcb_mapping_notify_event_t *)(const void *)ev)->request != XCB_MAPPING_POINTER)
			w->mapping_changed = true;
		return false;
	case XCB_PROPERTY_NOTIFY: {
		const xcb_property_notify_event_t *e = (const void *)ev;

		return wt && (e->window == w->root || e->window == target);
	}
	case XCB_CONFIGURE_NOTIFY: {
		const xcb_configure_notify_event_t *e = (const void *)ev;

		/* The frame's too: a WM may resize the client first and its
		 * frame a moment later. */
		if (!wt || e->window != e->event || (e->window != target && (!wt->frame || e->window != wt->frame)))
			return false;
		wt->configures++;
		return true;
	}
	case XCB_DESTROY_NOTIFY: {
		const xcb_destroy_notify_event_t *e = (const void *)ev;

		if (!wt || e->window != target)
			return false;
		wt->destroyed = true;
		return true;
	}
	case XCB_UNMAP_NOTIFY: {
		const xcb_unmap_notify_event_t *e = (const void *)ev;

		if (!wt || e->window != target)
			return false;
		wt->unmapped = true;
		return true;
	}
	case XCB_FOCUS_IN: {
		const xcb_focus_in_event_t *e = (const void *)ev;

		/* Detail Pointer means the focus is PointerRoot, not this window. */
		if (!wt || e->event != target || e->detail == XCB_NOTIFY_DETAIL_POINTER)
			return false;
		wt->focused_in = true;
		return true;
	}
	default:
		return false; /* not ours; the actuator does not need it here */
	}
}

static bool drain_events(struct dp_x11_windows *w, struct watch *wt)
{
	xcb_generic_event_t *ev;
	bool relevant = false;

	while ((ev = xcb_poll_for_event(w->conn))) {
		relevant |= note_event(w, wt, ev);
		free(ev);
	}
	return relevant;
}

/* Waits until an event about the target (or the root) arrives or the
 * deadline (CLOCK_MONOTONIC ns) passes. */
static int wait_event(struct dp_x11_windows *w, struct watch *wt, int64_t deadline)
{
	struct pollfd pfd = { .fd = xcb_get_file_descriptor(w->conn), .events = POLLIN };

	for (;;) {
		int64_t left;

		/* Drain first: a blocking reply may have queued events that
		 * poll() would no longer see on the socket. */
		if (drain_events(w, wt))
			return 0;
		if (xcb_connection_has_error(w->conn))
			return -EPIPE;
		left = deadline - dp_now_ns();
		if (left <= 0)
			return -ETIMEDOUT;
		xcb_flush(w->conn);
		if (poll(&pfd, 1, (int)((left + DP_NSEC_PER_MSEC - 1) / DP_NSEC_PER_MSEC)) < 0 && errno != EINTR)
			return -errno;
	}
}

static int vanished(const struct win *t, const char *done, struct dp_error *err)
{
	return dp_error_set(err, -ENOENT,
			    "window 0x%" PRIx32 " vanished before it could be %s ('%.80s': it was closed or its "
			    "program exited); list the windows again",
			    t->info.id, done, t->info.title);
}

static void set_event_mask_quietly(struct dp_x11_windows *w, xcb_window_t win, uint32_t mask)
{
	xcb_void_cookie_t c = xcb_change_window_attributes_checked(w->conn, win, XCB_CW_EVENT_MASK, &mask);

	/* The window may be gone by now: drop the error, if any. */
	xcb_discard_reply(w->conn, c.sequence);
}

/* StructureNotify on the WM's frame, if there is one: its ConfigureNotify
 * says when the WM has finished moving or resizing it. */
static void watch_frame(struct dp_x11_windows *w, struct watch *wt)
{
	xcb_window_t frame = dp_x11w_top_level_of(w, wt->target);
	xcb_get_window_attributes_reply_t *a;

	w->watched_frame = XCB_NONE;
	if (frame == XCB_NONE || frame == wt->target)
		return;
	a = xcb_get_window_attributes_reply(w->conn, xcb_get_window_attributes(w->conn, frame), NULL);
	if (!a)
		return;
	wt->frame = w->watched_frame = frame;
	wt->frame_mask_before = a->your_event_mask;
	free(a);
	set_event_mask_quietly(w, frame, wt->frame_mask_before | XCB_EVENT_MASK_STRUCTURE_NOTIFY);
}

/* Selects mask on the target (added to what this connection had) and drops
 * stale events, so that what the wait sees follows from the request. */
static int watch_start(struct dp_x11_windows *w, struct watch *wt, const struct win *t, uint32_t mask,
		       const char *done, struct dp_error *err)
{
	xcb_window_t id = t->info.id;
	xcb_get_window_attributes_reply_t *a =
		xcb_get_window_attributes_reply(w->conn, xcb_get_window_attributes(w->conn, id), NULL);
	xcb_generic_error_t *e;
	uint32_t value;

	memset(wt, 0, sizeof(*wt));
	wt->target = id;
	if (!a)
		return xcb_connection_has_error(w->conn) ? dp_x11w_lost_connection(err) : vanished(t, done, err);
	wt->mask_before = a->your_event_mask;
	free(a);
	/* The round trip above brought in every event sent before it. */
	drain_events(w, NULL);
	value = wt->mask_before | mask;
	e = xcb_request_check(w->conn, xcb_change_window_attributes_checked(w->conn, id, XCB_CW_EVENT_MASK, &value));
	if (e) {
		free(e);
		return vanished(t, done, err);
	}
	w->watched = id;
	watch_frame(w, wt);
	return 0;
}

static void watch_stop(struct dp_x11_windows *w, const struct watch *wt)
{
	set_event_mask_quietly(w, wt->target, wt->mask_before);
	if (wt->frame)
		set_event_mask_quietly(w, wt->frame, wt->frame_mask_before);
	xcb_flush(w->conn);
}

/* ---- requests ---- */

static void send_root_message(struct dp_x11_windows *w, xcb_window_t win, enum atom_id type, const uint32_t data[5])
{
	xcb_client_message_event_t ev;

	memset(&ev, 0, sizeof(ev));
	ev.response_type = XCB_CLIENT_MESSAGE;
	ev.format = 32;
	ev.window = win;
	ev.type = w->atoms[type];
	memcpy(ev.data.data32, data, 5 * sizeof(uint32_t));
	xcb_send_event(w->conn, 0, w->root,
		       XCB_EVENT_MASK_SUBSTRUCTURE_REDIRECT | XCB_EVENT_MASK_SUBSTRUCTURE_NOTIFY, (const char *)&ev);
	xcb_flush(w->conn);
}

/* Waits for a checked request's outcome: 0, or the X error code. */
static int check_request(struct dp_x11_windows *w, xcb_void_cookie_t cookie)
{
	xcb_generic_error_t *e = xcb_request_check(w->conn, cookie);
	int code = e ? e->error_code : 0;

	free(e);
	return code;
}

static bool ewmh_supports(const struct root_state *rs, enum atom_id a)
{
	return rs->wm && rs->supported[a];
}

/* ---- activate ---- */

static int request_activate(struct dp_x11_windows *w, const struct root_state *rs, const struct win *t,
			    struct dp_error *err)
{
	xcb_window_t id = t->info.id;
	uint32_t above = XCB_STACK_MODE_ABOVE;
	int code;

	/* A minimized window is unmapped; mapping it asks for it back. */
	if (t->info.minimized && check_request(w, xcb_map_window_checked(w->conn, id)))
		return vanished(t, "activated", err);
	if (ewmh_supports(rs, A_NET_ACTIVE_WINDOW)) {
		send_root_message(w, id, A_NET_ACTIVE_WINDOW, (const uint32_t[5]){ SOURCE_PAGER, XCB_CURRENT_TIME });
		return 0;
	}
	code = check_request(w, xcb_set_input_focus_checked(w->conn, XCB_INPUT_FOCUS_PARENT, id, XCB_CURRENT_TIME));
	if (code == XCB_MATCH)
		return dp_error_set(err, -EINVAL, "window 0x%" PRIx32 " '%.80s' is not viewable, so it cannot take "
				    "the focus; is it on another screen or hidden by its program?", id, t->info.title);
	if (code)
		return vanished(t, "activated", err);
	xcb_discard_reply(w->conn,
			  xcb_configure_window_checked(w->conn, id, XCB_CONFIG_WINDOW_STACK_MODE, &above).sequence);
	return 0;
}

/* ICCCM's "No Input" model: WM_HINTS says input is false and the window
 * does not take the focus itself (no WM_TAKE_FOCUS).  A WM raises such a
 * window (xclock is one) but never focuses it. */
static bool takes_no_focus(struct dp_x11_windows *w, xcb_window_t id)
{
	xcb_get_property_cookie_t hc = dp_x11w_get_prop(w, id, XCB_ATOM_WM_HINTS, XCB_ATOM_WM_HINTS, 2);
	xcb_get_property_cookie_t pc = dp_x11w_get_prop(w, id, w->atoms[A_WM_PROTOCOLS], XCB_ATOM_ATOM, 32);
	xcb_get_property_reply_t *hints = xcb_get_property_reply(w->conn, hc, NULL);
	xcb_get_property_reply_t *protocols = xcb_get_property_reply(w->conn, pc, NULL);
	bool no_input = (dp_x11w_prop_u32(hints, 0, 0) & WM_HINTS_INPUT) && dp_x11w_prop_u32(hints, 1, 1) == 0 &&
			!dp_x11w_prop_has_atom(protocols, w->atoms[A_WM_TAKE_FOCUS]);

	free(hints);
	free(protocols);
	return no_input;
}

static xcb_window_t root_window_prop(struct dp_x11_windows *w, enum atom_id a, bool last)
{
	xcb_get_property_reply_t *r = xcb_get_property_reply(
		w->conn, dp_x11w_get_prop(w, w->root, w->atoms[a], XCB_ATOM_WINDOW, last ? MAX_WINDOWS : 1), NULL);
	size_t n = dp_x11w_prop_u32_count(r);
	xcb_window_t win = n ? dp_x11w_prop_u32(r, last ? n - 1 : 0, XCB_NONE) : XCB_NONE;

	free(r);
	return win;
}

/* The WM's word when it speaks EWMH, the input focus otherwise; for a window
 * that takes no focus, being on top of the stack. */
static int is_active(struct dp_x11_windows *w, struct root_state *rs, struct watch *wt)
{
	struct win now = { .info.id = wt->target };
	xcb_window_t active;
	int r;

	if (rs->wm) {
		/* A WM may call a window active before it has restored it. */
		r = dp_x11w_refresh(w, rs, &now, NULL);
		if (r < 0 || now.info.minimized)
			return r;
	}
	if (wt->raise_only)
		active = root_window_prop(w, A_NET_CLIENT_LIST_STACKING, true);
	else if (ewmh_supports(rs, A_NET_ACTIVE_WINDOW))
		active = root_window_prop(w, A_NET_ACTIVE_WINDOW, false);
	else
		active = wt->focused_in ? wt->target : dp_x11w_focused_top_level(w);
	if (active == wt->target && !wt->raise_only)
		rs->active = active;
	return active == wt->target;
}

typedef int (*done_fn)(struct dp_x11_windows *w, struct root_state *rs, struct watch *wt);

/* Checks done after every event about the target until it says yes. */
static int wait_until(struct dp_x11_windows *w, struct root_state *rs, struct watch *wt, done_fn done,
		      int64_t timeout_ns)
{
	int64_t deadline = dp_now_ns() + timeout_ns;

	for (;;) {
		int r = done(w, rs, wt);

		if (r != 0)
			return r < 0 ? r : 0;
		if (wt->destroyed)
			return -ENOENT;
		r = wait_event(w, wt, deadline);
		if (r < 0)
			return r;
	}
}

static int finish_error(const struct win *t, int r, const char *done, const char *timeout_msg, struct dp_error *err)
{
	if (r == -ENOENT)
		return vanished(t, done, err);
	if (r == -EPIPE)
		return dp_x11w_lost_connection(err);
	if (r == -ETIMEDOUT)
		return dp_error_set(err, -ETIMEDOUT, "window 0x%" PRIx32 " '%.80s' %s", t->info.id, t->info.title,
				    timeout_msg);
	return dp_error_set(err, r, "window 0x%" PRIx32 ": %s", t->info.id, strerror(-r));
}

static int activate(struct dp_x11_windows *w, struct root_state *rs, struct win *t, struct dp_action_result *res,
		    struct dp_error *err)
{
	uint32_t mask = XCB_EVENT_MASK_FOCUS_CHANGE | XCB_EVENT_MASK_STRUCTURE_NOTIFY | XCB_EVENT_MASK_PROPERTY_CHANGE;
	struct watch wt;
	int r = watch_start(w, &wt, t, mask, "activated", err);

	if (r < 0)
		return r;
	wt.raise_only = ewmh_supports(rs, A_NET_ACTIVE_WINDOW) && takes_no_focus(w, t->info.id);
	r = request_activate(w, rs, t, err);
	if (r == 0)
		r = wait_until(w, rs, &wt, is_active, ACTIVATE_TIMEOUT_NS);
	if (r == 0)
		r = dp_x11w_refresh(w, rs, t, err);
	watch_stop(w, &wt);
	if (r < 0 && err && err->code == r)
		return r; /* request_activate or dp_x11w_refresh said why */
	if (r < 0)
		return finish_error(t, r, "activated",
				    wt.raise_only
					    ? "was not raised within 2 s: the window manager ignored "
					      "_NET_ACTIVE_WINDOW (is another window kept above it?)"
					    : "did not get the focus within 2 s: the window manager would not "
					      "activate it (a modal dialog may hold the focus); try again, or click it",
				    err);
	if (wt.raise_only)
		snprintf(res->summary, sizeof(res->summary),
			 "raised 0x%" PRIx32 " '%.100s'; it takes no keyboard focus (WM_HINTS input is false)",
			 t->info.id, t->info.title);
	else
		snprintf(res->summary, sizeof(res->summary), "activated 0x%" PRIx32 " '%.100s'", t->info.id,
			 t->info.title);
	return 0;
}

/* ---- move, resize ---- */

/* Whether the WM has finished: the frame's outer rectangle is the client
 * area grown by _NET_FRAME_EXTENTS.  Openbox grows the client first and its
 * frame a moment later; in between, the client's position is stale. */
static int frame_matches(struct dp_x11_windows *w, const struct root_state *rs, const struct watch *wt,
			 const struct win *t)
{
	const struct dp_rect *c = &t->info.geometry;
	xcb_get_geometry_reply_t *g;
	bool same;

	if (!wt->frame || !ewmh_supports(rs, A_NET_FRAME_EXTENTS))
		return 1;
	g = xcb_get_geometry_reply(w->conn, xcb_get_geometry(w->conn, wt->frame), NULL);
	if (!g)
		return 1; /* the WM let go of it: nothing to wait for */
	same = g->x == c->x - t->frame_left && g->y == c->y - t->frame_top &&
	       g->width + 2 * g->border_width == c->width + t->frame_left + t->frame_right &&
	       g->height + 2 * g->border_width == c->height + t->frame_top + t->frame_bottom;
	free(g);
	return same;
}

/* Waits until frame_matches; a WM that never makes it match (one that
 * publishes odd extents) costs the time left, not an error. */
static int wait_frame_matches(struct dp_x11_windows *w, const struct root_state *rs, struct watch *wt,
			      struct win *t, int64_t deadline, struct dp_error *err)
{
	for (;;) {
		int r = dp_x11w_refresh(w, rs, t, err);

		if (r < 0 || frame_matches(w, rs, wt, t))
			return r;
		r = wait_event(w, wt, deadline);
		if (r == -ETIMEDOUT) {
			dp_log_debug("window 0x%" PRIx32 ": its frame does not match _NET_FRAME_EXTENTS", t->info.id);
			return dp_x11w_refresh(w, rs, t, err);
		}
		if (r < 0)
			return r;
	}
}

static bool geometry_reached(const struct win *t, const struct dp_action *a)
{
	const struct dp_rect *g = &t->info.geometry;

	if (a->window_op == DP_WINDOW_MOVE)
		return g->x - t->frame_left == a->point.x && g->y - t->frame_top == a->point.y;
	return g->width == a->width && g->height == a->height;
}

/* x, y place the outer corner (frame included): NorthWest gravity says so
 * to the WM; width and height are the client area's. */
static int request_configure(struct dp_x11_windows *w, const struct root_state *rs, const struct win *t,
			     const struct dp_action *a, struct dp_error *err)
{
	bool move = a->window_op == DP_WINDOW_MOVE;
	uint32_t values[2] = { move ? (uint32_t)a->point.x : (uint32_t)a->width,
			       move ? (uint32_t)a->point.y : (uint32_t)a->height };
	uint16_t mask = move ? XCB_CONFIG_WINDOW_X | XCB_CONFIG_WINDOW_Y
			     : XCB_CONFIG_WINDOW_WIDTH | XCB_CONFIG_WINDOW_HEIGHT;

	if (ewmh_supports(rs, A_NET_MOVERESIZE_WINDOW)) {
		uint32_t flags = GRAVITY_NORTH_WEST | MOVERESIZE_SOURCE(SOURCE_PAGER) |
				 (move ? MOVERESIZE_X | MOVERESIZE_Y : MOVERESIZE_WIDTH | MOVERESIZE_HEIGHT);

		send_root_message(w, t->info.id, A_NET_MOVERESIZE_WINDOW,
				  move ? (const uint32_t[5]){ flags, values[0], values[1] }
				       : (const uint32_t[5]){ flags, 0, 0, values[0], values[1] });
		return 0;
	}
	if (check_request(w, xcb_configure_window_checked(w->conn, t->info.id, mask, values)))
		return vanished(t, move ? "moved" : "resized", err);
	return 0;
}

/* Done when the window has the geometry asked for, or when the WM has
 * answered (a ConfigureNotify) and then gone quiet: it may have adjusted the
 * request to size increments or its own limits. */
static int wait_configured(struct dp_x11_windows *w, const struct root_state *rs, struct watch *wt, struct win *t,
			   const struct dp_action *a, struct dp_error *err)
{
	int64_t deadline = dp_now_ns() + CONFIGURE_TIMEOUT_NS, quiet_until = 0;
	unsigned seen = 0;

	for (;;) {
		int r = wt->destroyed ? -ENOENT : dp_x11w_refresh(w, rs, t, err);

		if (r < 0 || (geometry_reached(t, a) && frame_matches(w, rs, wt, t)))
			return r;
		if (wt->configures != seen) {
			seen = wt->configures;
			quiet_until = dp_now_ns() + CONFIGURE_SETTLE_NS;
		}
		r = wait_event(w, wt, seen && quiet_until < deadline ? quiet_until : deadline);
		if (r == -ETIMEDOUT && seen)
			return wait_frame_matches(w, rs, wt, t, deadline, err);
		if (r < 0)
			return r;
	}
}

static void configure_summary(const struct win *t, const struct dp_action *a, struct dp_action_result *res)
{
	const struct dp_rect *g = &t->info.geometry;
	bool move = a->window_op == DP_WINDOW_MOVE;
	size_t n;

	n = (size_t)snprintf(res->summary, sizeof(res->summary),
			     "%s 0x%" PRIx32 " '%.80s': client area %" PRId32 "x%" PRId32 "+%" PRId32 "+%" PRId32,
			     move ? "moved" : "resized", t->info.id, t->info.title, g->width, g->height, g->x, g->y);
	if (!geometry_reached(t, a) && n < sizeof(res->summary))
		snprintf(res->summary + n, sizeof(res->summary) - n,
			 " (asked for %s %" PRId32 ",%" PRId32 "; the window manager or the window's size hints "
			 "adjusted it)",
			 move ? "position" : "size", move ? a->point.x : a->width, move ? a->point.y : a->height);
}

static int configure(struct dp_x11_windows *w, struct root_state *rs, struct win *t, const struct dp_action *a,
		     struct dp_action_result *res, struct dp_error *err)
{
	bool move = a->window_op == DP_WINDOW_MOVE;
	const char *done = move ? "moved" : "resized";
	struct watch wt;
	int r;

	if (!move && (a->width <= 0 || a->height <= 0 || a->width > INT16_MAX || a->height > INT16_MAX))
		return dp_error_set(err, -EINVAL, "resize needs a width and height in 1..%d (got %" PRId32
				    "x%" PRId32 ")", INT16_MAX, a->width, a->height);
	if (move && (a->point.x < INT16_MIN || a->point.x > INT16_MAX || a->point.y < INT16_MIN ||
		     a->point.y > INT16_MAX))
		return dp_error_set(err, -EINVAL, "move needs x and y in %d..%d", INT16_MIN, INT16_MAX);
	r = watch_start(w, &wt, t, XCB_EVENT_MASK_STRUCTURE_NOTIFY, done, err);
	if (r < 0)
		return r;
	r = request_configure(w, rs, t, a, err);
	if (r == 0)
		r = wait_configured(w, rs, &wt, t, a, err);
	watch_stop(w, &wt);
	if (r < 0 && err && err->code == r)
		return r;
	if (r < 0)
		return finish_error(t, r, done,
				    t->info.maximized ? "is maximized and the window manager kept it as it was "
							"for 2 s; it ignores moves and resizes of maximized windows"
				    : move ? "did not move within 2 s: the window manager ignored the request"
					   : "did not change size within 2 s: the window manager ignored the request",
				    err);
	configure_summary(t, a, res);
	return 0;
}

/* ---- minimize, maximize ---- */

static int is_minimized(struct dp_x11_windows *w, struct root_state *rs, struct watch *wt)
{
	struct win now = { .info.id = wt->target };
	int r = dp_x11w_refresh(w, rs, &now, NULL);

	return r < 0 ? r : now.info.minimized;
}

static int is_maximized(struct dp_x11_windows *w, struct root_state *rs, struct watch *wt)
{
	struct win now = { .info.id = wt->target };
	int r = dp_x11w_refresh(w, rs, &now, NULL);

	return r < 0 ? r : now.info.maximized;
}

static int state_supported(const struct root_state *rs, const struct win *t, bool minimize, struct dp_error *err)
{
	if (!rs->wm)
		return dp_error_set(err, -ENOTSUP,
				    "cannot %s window 0x%" PRIx32 " '%.80s': no window manager is running on this "
				    "display (start one, or use move and resize)",
				    minimize ? "minimize" : "maximize", t->info.id, t->info.title);
	if (!minimize && (!ewmh_supports(rs, A_NET_WM_STATE) || !ewmh_supports(rs, A_NET_WM_STATE_MAXIMIZED_VERT) ||
			  !ewmh_supports(rs, A_NET_WM_STATE_MAXIMIZED_HORZ)))
		return dp_error_set(err, -ENOTSUP,
				    "the window manager does not support _NET_WM_STATE_MAXIMIZED_*: resize "
				    "the window instead");
	return 0;
}

/* WM_CHANGE_STATE is ICCCM's iconify request; _NET_WM_STATE adds both
 * maximized states in one message. */
static void request_state(struct dp_x11_windows *w, const struct win *t, bool minimize)
{
	if (minimize)
		send_root_message(w, t->info.id, A_WM_CHANGE_STATE, (const uint32_t[5]){ ICONIC_STATE });
	else
		send_root_message(w, t->info.id, A_NET_WM_STATE,
				  (const uint32_t[5]){ NET_WM_STATE_ADD, w->atoms[A_NET_WM_STATE_MAXIMIZED_VERT],
						       w->atoms[A_NET_WM_STATE_MAXIMIZED_HORZ], SOURCE_PAGER });
}

/* A WM sets the state first and then does it: the unmap of a minimized
 * window, the ConfigureNotify of a maximized one.  Wait briefly for that
 * too (a WM that keeps minimized windows mapped, or a window that already
 * had the size, sends nothing). */
static int wait_follow_up(struct dp_x11_windows *w, struct watch *wt, bool minimize)
{
	int64_t deadline = dp_now_ns() + CONFIGURE_SETTLE_NS;

	for (;;) {
		int r;

		if (minimize ? wt->unmapped : wt->configures > 0)
			return 0;
		r = wait_event(w, wt, deadline);
		if (r == -ETIMEDOUT)
			return 0;
		if (r < 0)
			return r;
	}
}

static int set_state(struct dp_x11_windows *w, struct root_state *rs, struct win *t, bool minimize,
		     struct dp_action_result *res, struct dp_error *err)
{
	const char *done = minimize ? "minimized" : "maximized";
	struct watch wt;
	int r = state_supported(rs, t, minimize, err);

	if (r < 0)
		return r;
	/* Watch before asking, so the WM's answer cannot be missed. */
	r = watch_start(w, &wt, t, XCB_EVENT_MASK_PROPERTY_CHANGE | XCB_EVENT_MASK_STRUCTURE_NOTIFY, done, err);
	if (r < 0)
		return r;
	request_state(w, t, minimize);
	r = wait_until(w, rs, &wt, minimize ? is_minimized : is_maximized, STATE_TIMEOUT_NS);
	if (r == 0 && (minimize ? !t->info.minimized : !t->info.maximized))
		r = wait_follow_up(w, &wt, minimize);
	if (r == 0 && !minimize)
		r = wait_frame_matches(w, rs, &wt, t, dp_now_ns() + STATE_TIMEOUT_NS, err);
	else if (r == 0)
		r = dp_x11w_refresh(w, rs, t, err);
	watch_stop(w, &wt);
	if (r < 0 && err && err->code == r)
		return r;
	if (r < 0)
		return finish_error(t, r, done,
				    minimize ? "was not minimized within 2 s: the window manager ignored the request"
					     : "was not maximized within 2 s: the window manager ignored the request",
				    err);
	snprintf(res->summary, sizeof(res->summary), "%s 0x%" PRIx32 " '%.100s'", done, t->info.id, t->info.title);
	return 0;
}

/* ---- close ---- */

static bool accepts_delete(struct dp_x11_windows *w, xcb_window_t id)
{
	xcb_get_property_reply_t *r = xcb_get_property_reply(
		w->conn, dp_x11w_get_prop(w, id, w->atoms[A_WM_PROTOCOLS], XCB_ATOM_ATOM, 32), NULL);
	bool yes = dp_x11w_prop_has_atom(r, w->atoms[A_WM_DELETE_WINDOW]);

	free(r);
	return yes;
}

/* WM_DELETE_WINDOW lets the program ask about unsaved work; _NET_CLOSE_WINDOW
 * lets the WM do what its close button does. */
static int request_close(struct dp_x11_windows *w, const struct root_state *rs, const struct win *t,
			 struct dp_error *err)
{
	xcb_window_t id = t->info.id;
	xcb_client_message_event_t ev;

	if (accepts_delete(w, id)) {
		memset(&ev, 0, sizeof(ev));
		ev.response_type = XCB_CLIENT_MESSAGE;
		ev.format = 32;
		ev.window = id;
		ev.type = w->atoms[A_WM_PROTOCOLS];
		ev.data.data32[0] = w->atoms[A_WM_DELETE_WINDOW];
		ev.data.data32[1] = XCB_CURRENT_TIME;
		if (check_request(w, xcb_send_event_checked(w->conn, 0, id, XCB_EVENT_MASK_NO_EVENT,
							    (const char *)&ev)))
			return vanished(t, "closed", err);
		return 0;
	}
	if (ewmh_supports(rs, A_NET_CLOSE_WINDOW)) {
		send_root_message(w, id, A_NET_CLOSE_WINDOW, (const uint32_t[5]){ XCB_CURRENT_TIME, SOURCE_PAGER });
		return 0;
	}
	return dp_error_set(err, -ENOTSUP,
			    "window 0x%" PRIx32 " '%.80s' does not accept WM_DELETE_WINDOW and no window manager "
			    "can close it; deskpilot never kills programs: close it from its own menu",
			    id, t->info.title);
}

static int is_closed(struct dp_x11_windows *w, struct root_state *rs, struct watch *wt)
{
	(void)w;
	(void)rs;
	return wt->destroyed || wt->unmapped;
}

static int close_window(struct dp_x11_windows *w, struct root_state *rs, struct win *t,
			struct dp_action_result *res, struct dp_error *err)
{
	struct watch wt;
	int r = watch_start(w, &wt, t, XCB_EVENT_MASK_STRUCTURE_NOTIFY, "closed", err);

	if (r < 0)
		return r;
	r = request_close(w, rs, t, err);
	if (r == 0)
		r = wait_until(w, rs, &wt, is_closed, CLOSE_TIMEOUT_NS);
	watch_stop(w, &wt);
	if (r == -ETIMEDOUT)
		return dp_error_set(err, -EBUSY,
				    "window 0x%" PRIx32 " '%.80s' is still open 3 s after a polite close (it may be "
				    "asking to save): look at the screen and answer it",
				    t->info.id, t->info.title);
	if (r == -EPIPE)
		return dp_x11w_lost_connection(err);
	if (r < 0)
		return r;
	snprintf(res->summary, sizeof(res->summary), "closed 0x%" PRIx32 " '%.100s'", t->info.id, t->info.title);
	return 0;
}

/* ---- the public functions ---- */

static int intern_atoms(struct dp_x11_windows *w)
{
	xcb_intern_atom_cookie_t cookies[N_ATOMS];
	int r = 0;

	for (size_t i = 0; i < N_ATOMS; i++)
		cookies[i] = xcb_intern_atom(w->conn, 0, (uint16_t)strlen(atom_names[i]), atom_names[i]);
	for (size_t i = 0; i < N_ATOMS; i++) {
		xcb_intern_atom_reply_t *reply = xcb_intern_atom_reply(w->conn, cookies[i], NULL);

		if (!reply)
			r = -EPIPE;
		else
			w->atoms[i] = reply->atom;
		free(reply);
	}
	return r;
}

/* PropertyChange on the root brings _NET_ACTIVE_WINDOW's changes; added to
 * whatever else this connection selected there. */
static int watch_root(struct dp_x11_windows *w)
{
	xcb_get_window_attributes_reply_t *a =
		xcb_get_window_attributes_reply(w->conn, xcb_get_window_attributes(w->conn, w->root), NULL);
	uint32_t value;

	if (!a)
		return -EPIPE;
	w->root_mask_before = a->your_event_mask;
	free(a);
	value = w->root_mask_before | XCB_EVENT_MASK_PROPERTY_CHANGE;
	return check_request(w, xcb_change_window_attributes_checked(w->conn, w->root, XCB_CW_EVENT_MASK, &value))
		       ? -EPIPE
		       : 0;
}

int dp_x11_windows_create(struct dp_x11_windows **out, xcb_connection_t *conn, xcb_window_t root,
			  struct dp_error *err)
{
	struct dp_x11_windows *w = calloc(1, sizeof(*w));

	*out = NULL;
	if (!w)
		return dp_error_set(err, -ENOMEM, "out of memory");
	w->conn = conn;
	w->root = root;
	if (intern_atoms(w) < 0 || watch_root(w) < 0) {
		free(w);
		return dp_x11w_lost_connection(err);
	}
	*out = w;
	return 0;
}

void dp_x11_windows_destroy(struct dp_x11_windows *w)
{
	uint32_t value;

	if (!w)
		return;
	if (!xcb_connection_has_error(w->conn)) {
		value = w->root_mask_before;
		xcb_change_window_attributes(w->conn, w->root, XCB_CW_EVENT_MASK, &value);
		xcb_flush(w->conn);
	}
	free(w);
}

bool dp_x11_windows_handle_event(struct dp_x11_windows *w, const xcb_generic_event_t *ev)
{
	uint8_t type = ev->response_type & 0x7f;
	xcb_window_t win;

	/* Nothing is waiting while idle: these are leftovers of the root's
	 * PropertyChange and of the last action's window. */
	switch (type) {
	case XCB_PROPERTY_NOTIFY:
		win = ((const xcb_property_notify_event_t *)(const void *)ev)->window;
		return win == w->root || (w->watched && win == w->watched);
	case XCB_CONFIGURE_NOTIFY:
		win = ((const xcb_configure_notify_event_t *)(const void *)ev)->event;
		break;
	case XCB_DESTROY_NOTIFY:
		win = ((const xcb_destroy_notify_event_t *)(const void *)ev)->event;
		break;
	case XCB_UNMAP_NOTIFY:
		win = ((const xcb_unmap_notify_event_t *)(const void *)ev)->event;
		break;
	case XCB_MAP_NOTIFY:
		win = ((const xcb_map_notify_event_t *)(const void *)ev)->event;
		break;
	case XCB_REPARENT_NOTIFY:
		win = ((const xcb_reparent_notify_event_t *)(const void *)ev)->event;
		break;
	case XCB_GRAVITY_NOTIFY:
		win = ((const xcb_gravity_notify_event_t *)(const void *)ev)->event;
		break;
	case XCB_FOCUS_IN:
	case XCB_FOCUS_OUT:
		win = ((const xcb_focus_in_event_t *)(const void *)ev)->event;
		break;
	default:
		return false;
	}
	return win && (win == w->watched || win == w->watched_frame);
}

bool dp_x11_windows_take_mapping_changed(struct dp_x11_windows *w)
{
	bool changed = w->mapping_changed;

	w->mapping_changed = false;
	return changed;
}

static int run_op(struct dp_x11_windows *w, struct root_state *rs, struct win *t, const struct dp_action *a,
		  struct dp_action_result *res, struct dp_error *err)
{
	switch (a->window_op) {
	case DP_WINDOW_ACTIVATE:
		return activate(w, rs, t, res, err);
	case DP_WINDOW_MOVE:
	case DP_WINDOW_RESIZE:
		return configure(w, rs, t, a, res, err);
	case DP_WINDOW_MINIMIZE:
		return set_state(w, rs, t, true, res, err);
	case DP_WINDOW_MAXIMIZE:
		return set_state(w, rs, t, false, res, err);
	case DP_WINDOW_CLOSE:
		return close_window(w, rs, t, res, err);
	case DP_WINDOW_LIST:
		break;
	}
	return dp_error_set(err, -EINVAL, "unknown window op %d", (int)a->window_op);
}

int dp_x11_windows_perform(struct dp_x11_windows *w, const struct dp_action *action, struct dp_action_result *result,
			   struct dp_error *err)
{
	struct root_state rs;
	struct matcher mt;
	struct win *wins, target;
	size_t n, found = 0;
	int r;

	dp_error_clear(err);
	if (action->type != DP_ACTION_WINDOW || action->window_op == DP_WINDOW_LIST)
		return dp_error_set(err, -EINVAL, "window actions here are activate, move, resize, minimize, "
						  "maximize and close; list windows with dp_x11_windows_list");
	r = dp_x11w_matcher_init(&mt, &action->match, err);
	if (r < 0)
		return r;
	r = dp_x11w_collect_windows(w, &rs, &wins, &n, err);
	if (r == 0)
		r = dp_x11w_find_one(&mt, wins, n, &found, err);
	if (r == 0) {
		target = wins[found];
		result->window = target.info;
		r = run_op(w, &rs, &target, action, result, err);
		result->window = target.info; /* after the action (as it was, for close) */
	}
	free(wins);
	dp_x11w_root_state_clear(&rs);
	dp_x11w_matcher_fini(&mt);
	return r;
}
