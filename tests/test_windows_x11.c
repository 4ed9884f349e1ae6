/* Windows through EWMH/ICCCM against real programs: openbox managing xterm,
 * xclock and xmessage on a private Xvfb (list, activate, move, resize,
 * maximize, minimize, close; a window that takes no focus, one that never
 * answers, one that vanishes; bad input), launching programs, and then a
 * bare Xvfb without a window manager. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xcb/xcb.h>

#include "actuators/launch.h"
#include "actuators/x11_windows.h"
#include "engine/clock.h"
#include "harness/xvfb.h"
#include "tst.h"

#define SCREEN_W 1280
#define SCREEN_H 800

static struct dp_xvfb xvfb;
static xcb_connection_t *conn;    /* the module's, as the actuator's would be */
static xcb_connection_t *watcher; /* the test's own view of the server */
static xcb_window_t root;
static struct dp_x11_windows *wins;
static pid_t xterm_pid, xclock_pid, note_pid; /* note: xmessage, which sets no _NET_WM_PID */

/* ---- the test's view of the server ---- */

static xcb_atom_t atom(const char *name)
{
	xcb_intern_atom_reply_t *r =
		xcb_intern_atom_reply(watcher, xcb_intern_atom(watcher, 0, (uint16_t)strlen(name), name), NULL);
	xcb_atom_t a = r ? r->atom : XCB_NONE;

	free(r);
	return a;
}

/* The i-th 32-bit item of a property, or fallback. */
static uint32_t prop32(xcb_window_t win, const char *name, uint32_t i, uint32_t fallback)
{
	xcb_get_property_reply_t *r = xcb_get_property_reply(
		watcher, xcb_get_property(watcher, 0, win, atom(name), XCB_GET_PROPERTY_TYPE_ANY, 0, 64), NULL);
	uint32_t v = fallback;

	if (r && r->format == 32 && (uint32_t)xcb_get_property_value_length(r) / 4 > i)
		v = ((uint32_t *)xcb_get_property_value(r))[i];
	free(r);
	return v;
}

static xcb_window_t active_window(void)
{
	return prop32(root, "_NET_ACTIVE_WINDOW", 0, XCB_NONE);
}

/* The root's child holding win: openbox's frame, or win itself without a WM. */
static xcb_window_t top_level(xcb_window_t win)
{
	for (int i = 0; i < 32 && win != XCB_NONE; i++) {
		xcb_query_tree_reply_t *t = xcb_query_tree_reply(watcher, xcb_query_tree(watcher, win), NULL);
		xcb_window_t parent = t ? t->parent : XCB_NONE;

		free(t);
		if (parent == root)
			return win;
		win = parent;
	}
	return XCB_NONE;
}

/* Where the server has the outer corner of the top level holding win, and
 * its size with the border. */
static struct dp_rect outer_rect(xcb_window_t win)
{
	xcb_get_geometry_reply_t *g =
		xcb_get_geometry_reply(watcher, xcb_get_geometry(watcher, top_level(win)), NULL);
	struct dp_rect r = { -1, -1, -1, -1 };

	if (g)
		r = (struct dp_rect){ g->x, g->y, g->width + 2 * g->border_width, g->height + 2 * g->border_width };
	free(g);
	return r;
}

static xcb_window_t input_focus(void)
{
	xcb_get_input_focus_reply_t *f = xcb_get_input_focus_reply(watcher, xcb_get_input_focus(watcher), NULL);
	xcb_window_t win = f ? f->focus : XCB_NONE;

	free(f);
	return win;
}

/* ---- waiting (test code: bounded, woken by the watcher's events) ---- */

/* Hands the module's connection's events to the module, as the actuator does. */
static void pump(void)
{
	xcb_generic_event_t *ev;

	while ((ev = xcb_poll_for_event(conn))) {
		dp_x11_windows_handle_event(wins, ev);
		free(ev);
	}
}

/* Sleeps until the watcher hears of a change on the root (client list,
 * active window, a top level mapped) or 100 ms pass: changes on client
 * windows reach no one here, so the callers look again anyway. */
static void wait_watcher_event(int64_t deadline)
{
	struct pollfd pfd = { .fd = xcb_get_file_descriptor(watcher), .events = POLLIN };
	int64_t left = (deadline - dp_now_ns()) / DP_NSEC_PER_MSEC;
	xcb_generic_event_t *ev;

	xcb_flush(watcher);
	poll(&pfd, 1, left < 100 ? (int)(left > 0 ? left : 0) : 100);
	while ((ev = xcb_poll_for_event(watcher)))
		free(ev);
}

typedef bool (*cond_fn)(const void *arg);

static bool wait_for(cond_fn cond, const void *arg, int timeout_ms)
{
	int64_t deadline = dp_now_ns() + timeout_ms * DP_NSEC_PER_MSEC;

	for (;;) {
		pump();
		if (cond(arg))
			return true;
		if (dp_now_ns() >= deadline)
			return false;
		wait_watcher_event(deadline);
	}
}

static bool wait_exit(pid_t pid, int timeout_ms)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };

	for (int i = 0; i < timeout_ms / 10; i++) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return true;
		nanosleep(&tick, NULL);
	}
	return false;
}

static bool wm_ready(const void *unused)
{
	xcb_window_t check = prop32(root, "_NET_SUPPORTING_WM_CHECK", 0, XCB_NONE);

	(void)unused;
	return check != XCB_NONE && prop32(check, "_NET_SUPPORTING_WM_CHECK", 0, XCB_NONE) == check;
}

/* ---- the module ---- */

static size_t list(const struct dp_window_match *m, struct dp_window_info *out, size_t max)
{
	struct dp_error err = { 0 };
	size_t n = 0;

	if (dp_x11_windows_list(wins, m, out, max, &n, &err) < 0)
		fprintf(stderr, "list: %s\n", err.message);
	return n;
}

static bool by_pid(pid_t pid, struct dp_window_info *info)
{
	struct dp_window_match m = { .pid = pid };
	struct dp_window_info found[4];

	if (list(&m, found, 4) != 1)
		return false;
	if (info)
		*info = found[0];
	return true;
}

static bool by_title(const char *title, struct dp_window_info *info)
{
	struct dp_window_match m = { .title = (char *)title };
	struct dp_window_info found[4];

	if (list(&m, found, 4) != 1)
		return false;
	if (info)
		*info = found[0];
	return true;
}

static bool pid_listed(const void *pid)
{
	return by_pid(*(const pid_t *)pid, NULL);
}

static bool pid_not_listed(const void *pid)
{
	return !by_pid(*(const pid_t *)pid, NULL);
}

/* Openbox puts a window in _NET_CLIENT_LIST a moment before it has set
 * all of its properties (_NET_WM_DESKTOP last). */
static bool pid_on_first_desktop(const void *pid)
{
	struct dp_window_info info;

	return by_pid(*(const pid_t *)pid, &info) && info.desktop == 0;
}

static bool title_listed(const void *title)
{
	return by_title(title, NULL);
}

static bool n_listed(const void *n)
{
	struct dp_window_info all[16];

	return list(NULL, all, 16) == *(const size_t *)n;
}

static int window_op(enum dp_window_op op, struct dp_window_match m, int32_t a, int32_t b,
		     struct dp_action_result *res, struct dp_error *err)
{
	struct dp_action action = { .type = DP_ACTION_WINDOW, .window_op = op, .match = m };
	int r;

	if (op == DP_WINDOW_MOVE)
		action.point = (struct dp_point){ a, b }, action.has_point = true;
	action.width = a;
	action.height = b;
	memset(res, 0, sizeof(*res));
	memset(err, 0, sizeof(*err));
	r = dp_x11_windows_perform(wins, &action, res, err);
	fprintf(stderr, "  perform -> %d: %s\n", r, r < 0 ? err->message : res->summary);
	return r;
}

static int op_pid(enum dp_window_op op, pid_t pid, int32_t a, int32_t b, struct dp_action_result *res)
{
	struct dp_error err;

	return window_op(op, (struct dp_window_match){ .pid = pid }, a, b, res, &err);
}

static size_t count_focused(xcb_window_t *which)
{
	struct dp_window_info all[16];
	size_t n = list(NULL, all, 16), focused = 0;

	for (size_t i = 0; i < n; i++)
		if (all[i].focused) {
			focused++;
			*which = all[i].id;
		}
	return focused;
}

static int open_display(void)
{
	uint32_t mask = XCB_EVENT_MASK_PROPERTY_CHANGE | XCB_EVENT_MASK_SUBSTRUCTURE_NOTIFY;
	struct dp_error err = { 0 };
	int r;

	conn = xcb_connect(xvfb.display, NULL);
	watcher = xcb_connect(xvfb.display, NULL);
	if (xcb_connection_has_error(conn) || xcb_connection_has_error(watcher))
		return -EPIPE;
	root = xcb_setup_roots_iterator(xcb_get_setup(conn)).data->root;
	xcb_change_window_attributes(watcher, root, XCB_CW_EVENT_MASK, &mask);
	r = dp_x11_windows_create(&wins, conn, root, &err);
	if (r < 0)
		fprintf(stderr, "create: %s\n", err.message);
	return r;
}

static void close_display(void)
{
	dp_x11_windows_destroy(wins);
	wins = NULL;
	xcb_disconnect(conn);
	xcb_disconnect(watcher);
}

static int start_apps(bool with_note)
{
	xterm_pid = dp_spawn_on(&xvfb, (const char *[]){ "xterm", "-title", "term one", "-geometry", "80x24+10+10",
							 NULL });
	xclock_pid = dp_spawn_on(&xvfb, (const char *[]){ "xclock", "-geometry", "164x164+600+100", NULL });
	if (with_note)
		note_pid = dp_spawn_on(&xvfb, (const char *[]){ "xmessage", "-title", "note three", "-geometry",
								"+200+500", "a note", NULL });
	if (!wait_for(pid_listed, &xterm_pid, 10000) || !wait_for(pid_listed, &xclock_pid, 10000) ||
	    (with_note && !wait_for(title_listed, "^note three$", 10000))) {
		fprintf(stderr, "xterm, xclock or xmessage did not show up in the list\n");
		return -ETIMEDOUT;
	}
	return 0;
}

static void stop_apps(void)
{
	dp_reap(xterm_pid);
	dp_reap(xclock_pid);
	dp_reap(note_pid);
	xterm_pid = xclock_pid = note_pid = 0;
}

/* ---- with openbox ---- */

static void test_lists_both_apps(void)
{
	bool managed = wait_for(pid_on_first_desktop, &xterm_pid, 5000) &&
		       wait_for(pid_on_first_desktop, &xclock_pid, 5000);
	xcb_window_t active_before = active_window();
	struct dp_window_info all[16], term, clock, note;
	struct dp_window_match m = { 0 };
	size_t n = list(NULL, all, 16), focused = 0;
	xcb_window_t active_after = active_window();
	struct dp_rect frame;

	TST_CHECK(managed);
	TST_EQ_INT(n, 3);
	TST_REQUIRE(by_pid(xterm_pid, &term) && by_pid(xclock_pid, &clock) && by_title("^note three$", &note));
	TST_EQ_STR(note.instance, "xmessage");
	TST_EQ_STR(note.class_name, "Xmessage");
	TST_EQ_INT(note.pid, 0); /* xmessage sets no _NET_WM_PID */
	TST_EQ_STR(term.title, "term one");
	TST_EQ_STR(term.instance, "xterm");
	TST_EQ_STR(term.class_name, "XTerm");
	TST_EQ_INT(term.pid, xterm_pid);
	TST_EQ_INT(term.desktop, 0);
	TST_EQ_STR(clock.title, "xclock");
	TST_EQ_STR(clock.instance, "xclock");
	TST_EQ_STR(clock.class_name, "XClock");
	TST_EQ_INT(clock.pid, xclock_pid);
	TST_CHECK(!term.minimized && !term.maximized && !clock.minimized);
	/* -geometry +10+10 places openbox's frame there; the client area sits
	 * inside by the frame extents (left, right, top, bottom). */
	frame = outer_rect(term.id);
	TST_EQ_INT(frame.x, 10);
	TST_EQ_INT(frame.y, 10);
	TST_EQ_INT(term.geometry.x, 10 + (int32_t)prop32(term.id, "_NET_FRAME_EXTENTS", 0, 0));
	TST_EQ_INT(term.geometry.y, 10 + (int32_t)prop32(term.id, "_NET_FRAME_EXTENTS", 2, 0));
	TST_CHECK(term.geometry.width > 400 && term.geometry.height > 250);
	/* At most one is focused: the one openbox calls active.  (Openbox may
	 * still be focusing the apps just started: compare only if the
	 * active window stayed the same around the list.) */
	for (size_t i = 0; i < n; i++) {
		focused += all[i].focused;
		if (all[i].focused && active_before == active_after)
			TST_EQ_INT(all[i].id, active_after);
	}
	TST_CHECK(focused <= 1);

	m.class_re = "^XTerm$"; /* the class */
	TST_EQ_INT(list(&m, all, 16), 1);
	TST_EQ_INT(all[0].id, term.id);
	m.class_re = "^xclock$"; /* the instance */
	TST_EQ_INT(list(&m, all, 16), 1);
	TST_EQ_INT(all[0].id, clock.id);
	m = (struct dp_window_match){ .title = "^term", .pid = xterm_pid };
	TST_EQ_INT(list(&m, all, 16), 1);
	m.pid = xclock_pid; /* all given criteria must match */
	TST_EQ_INT(list(&m, all, 16), 0);
	m = (struct dp_window_match){ .id = clock.id };
	TST_EQ_INT(list(&m, all, 16), 1);
	TST_EQ_INT(list(NULL, all, 1), 1); /* max is respected */
}

static void test_activate_each_in_turn(void)
{
	const char *order[] = { "^term one$", "^note three$", "^term one$", "^note three$" };

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		struct dp_window_match m = { .title = (char *)order[i] };
		struct dp_action_result res;
		struct dp_error err;
		xcb_window_t focused = XCB_NONE;

		TST_EQ_INT(window_op(DP_WINDOW_ACTIVATE, m, 0, 0, &res, &err), 0);
		TST_CHECK(res.window.focused);
		TST_EQ_INT(active_window(), res.window.id);
		TST_EQ_INT(count_focused(&focused), 1);
		TST_EQ_INT(focused, res.window.id);
		TST_CHECK(strstr(res.summary, "activated") != NULL);
	}
}

/* xclock sets WM_HINTS input=False and no WM_TAKE_FOCUS (ICCCM "No Input"):
 * openbox raises it but never makes it active.  That is success, said so,
 * and not a 2 s timeout. */
static void test_activate_raises_a_window_that_takes_no_focus(void)
{
	struct dp_action_result res;
	xcb_window_t before = active_window();
	int64_t start = dp_now_ns();
	uint32_t n;

	TST_EQ_INT(op_pid(DP_WINDOW_ACTIVATE, xclock_pid, 0, 0, &res), 0);
	TST_CHECK(dp_now_ns() - start < 1000 * DP_NSEC_PER_MSEC);
	TST_CHECK(!res.window.focused);
	TST_CHECK(strstr(res.summary, "raised") && strstr(res.summary, "no keyboard focus"));
	n = 0;
	while (prop32(root, "_NET_CLIENT_LIST_STACKING", n, XCB_NONE) != XCB_NONE)
		n++;
	TST_REQUIRE(n > 0);
	TST_EQ_INT(prop32(root, "_NET_CLIENT_LIST_STACKING", n - 1, 0), res.window.id); /* on top */
	TST_EQ_INT(active_window(), before);
}

static void test_move_places_the_frame_at_the_point(void)
{
	struct dp_window_info before, after;
	struct dp_action_result res;
	struct dp_error err;
	struct dp_window_match m = { .title = "^term one$" };
	int32_t left, top;

	TST_REQUIRE(by_pid(xterm_pid, &before));
	TST_EQ_INT(window_op(DP_WINDOW_MOVE, m, 300, 200, &res, &err), 0);
	/* We ask with NorthWest gravity, so openbox puts the frame's outer
	 * corner exactly at (300,200); the client area is then offset by the
	 * frame extents openbox publishes.  Both are exact, no tolerance. */
	left = (int32_t)prop32(before.id, "_NET_FRAME_EXTENTS", 0, 0);
	top = (int32_t)prop32(before.id, "_NET_FRAME_EXTENTS", 2, 0);
	TST_CHECK(top > left); /* a title bar: the offset is not just a border */
	TST_EQ_INT(outer_rect(before.id).x, 300);
	TST_EQ_INT(outer_rect(before.id).y, 200);
	TST_EQ_INT(res.window.geometry.x, 300 + left);
	TST_EQ_INT(res.window.geometry.y, 200 + top);
	TST_EQ_INT(res.window.geometry.width, before.geometry.width);
	TST_EQ_INT(res.window.geometry.height, before.geometry.height);
	TST_REQUIRE(by_pid(xterm_pid, &after));
	TST_EQ_INT(after.geometry.x, res.window.geometry.x);
	TST_EQ_INT(after.geometry.y, res.window.geometry.y);
	TST_CHECK(strstr(res.summary, "adjusted") == NULL);
}

static void test_resize_sets_the_client_area(void)
{
	struct dp_window_info before;
	struct dp_action_result res;
	struct dp_rect frame_before;

	TST_REQUIRE(by_pid(xclock_pid, &before));
	frame_before = outer_rect(before.id);
	TST_EQ_INT(op_pid(DP_WINDOW_RESIZE, xclock_pid, 300, 240, &res), 0);
	TST_EQ_INT(res.window.geometry.width, 300);
	TST_EQ_INT(res.window.geometry.height, 240);
	/* NorthWest gravity: the outer corner stays put. */
	TST_EQ_INT(outer_rect(before.id).x, frame_before.x);
	TST_EQ_INT(outer_rect(before.id).y, frame_before.y);
	TST_CHECK(strstr(res.summary, "adjusted") == NULL);

	/* xterm resizes in character cells (WM_NORMAL_HINTS increments 6x13
	 * on base 4x4 with its default font): openbox rounds down, and the
	 * result says what it got. */
	TST_EQ_INT(op_pid(DP_WINDOW_RESIZE, xterm_pid, 500, 300, &res), 0);
	TST_CHECK(res.window.geometry.width <= 500 && res.window.geometry.width > 500 - 6 - 1);
	TST_CHECK(res.window.geometry.height <= 300 && res.window.geometry.height > 300 - 13 - 1);
	TST_CHECK(res.window.geometry.width != 500 || res.window.geometry.height != 300);
	TST_CHECK(strstr(res.summary, "adjusted") != NULL);
}

static void test_maximize_fills_the_screen(void)
{
	struct dp_action_result res;
	struct dp_rect frame;

	TST_EQ_INT(op_pid(DP_WINDOW_MAXIMIZE, xclock_pid, 0, 0, &res), 0);
	TST_CHECK(res.window.maximized);
	/* No panels on this screen: the frame covers all of it. */
	frame = outer_rect(res.window.id);
	TST_EQ_INT(frame.x, 0);
	TST_EQ_INT(frame.y, 0);
	TST_EQ_INT(frame.width, SCREEN_W);
	TST_EQ_INT(frame.height, SCREEN_H);
	TST_CHECK(res.window.geometry.width > SCREEN_W - 20 && res.window.geometry.height > SCREEN_H - 40);
	/* Asking again is already done. */
	TST_EQ_INT(op_pid(DP_WINDOW_MAXIMIZE, xclock_pid, 0, 0, &res), 0);
	/* Openbox keeps a maximized window's size and answers a resize with
	 * nothing at all: a timeout that says why. */
	TST_EQ_INT(op_pid(DP_WINDOW_RESIZE, xclock_pid, 200, 200, &res), -ETIMEDOUT);
}

static void test_minimize_then_activate_restores(void)
{
	struct dp_action_result res;
	struct dp_window_info info;

	TST_EQ_INT(op_pid(DP_WINDOW_MINIMIZE, xterm_pid, 0, 0, &res), 0);
	TST_CHECK(res.window.minimized);
	TST_REQUIRE(by_pid(xterm_pid, &info));
	TST_CHECK(info.minimized);
	TST_EQ_INT(prop32(info.id, "WM_STATE", 0, 0), 3); /* IconicState */

	TST_EQ_INT(op_pid(DP_WINDOW_ACTIVATE, xterm_pid, 0, 0, &res), 0);
	TST_CHECK(res.window.focused);
	TST_CHECK(!res.window.minimized);
	TST_EQ_INT(active_window(), info.id);
}

/* Someone rewrites one keycode with what it already has: every client gets
 * a MappingNotify, which perform reads and must pass on. */
static void test_mapping_notify_is_passed_on(void)
{
	const xcb_setup_t *setup = xcb_get_setup(watcher);
	xcb_keycode_t code = setup->max_keycode;
	xcb_get_keyboard_mapping_reply_t *map =
		xcb_get_keyboard_mapping_reply(watcher, xcb_get_keyboard_mapping(watcher, code, 1), NULL);
	struct dp_action_result res;

	TST_REQUIRE(map);
	pump();
	dp_x11_windows_take_mapping_changed(wins);
	xcb_change_keyboard_mapping(watcher, 1, code, map->keysyms_per_keycode,
				    xcb_get_keyboard_mapping_keysyms(map));
	free(map);
	free(xcb_get_input_focus_reply(watcher, xcb_get_input_focus(watcher), NULL)); /* processed */
	TST_EQ_INT(op_pid(DP_WINDOW_ACTIVATE, xterm_pid, 0, 0, &res), 0);
	TST_CHECK(dp_x11_windows_take_mapping_changed(wins));
	TST_CHECK(!dp_x11_windows_take_mapping_changed(wins));
}

static void test_handle_event_claims_its_own(void)
{
	xcb_property_notify_event_t prop = { .response_type = XCB_PROPERTY_NOTIFY, .window = 0 };
	xcb_configure_notify_event_t conf = { .response_type = XCB_CONFIGURE_NOTIFY };
	xcb_mapping_notify_event_t mapping = { .response_type = XCB_MAPPING_NOTIFY };
	xcb_key_press_event_t key = { .response_type = XCB_KEY_PRESS };
	struct dp_action_result res;

	TST_EQ_INT(op_pid(DP_WINDOW_ACTIVATE, xclock_pid, 0, 0, &res), 0); /* now the watched window */
	prop.window = root;
	TST_CHECK(dp_x11_windows_handle_event(wins, (xcb_generic_event_t *)&prop));
	conf.event = conf.window = res.window.id;
	TST_CHECK(dp_x11_windows_handle_event(wins, (xcb_generic_event_t *)&conf));
	conf.event = conf.window = 0x1234567;
	TST_CHECK(!dp_x11_windows_handle_event(wins, (xcb_generic_event_t *)&conf));
	TST_CHECK(!dp_x11_windows_handle_event(wins, (xcb_generic_event_t *)&mapping));
	TST_CHECK(!dp_x11_windows_handle_event(wins, (xcb_generic_event_t *)&key));
	TST_CHECK(!dp_x11_windows_take_mapping_changed(wins)); /* the actuator's, when fed to it */
}

static void test_bad_regex_is_named(void)
{
	struct dp_window_match m = { .title = "(" };
	struct dp_window_info out[4];
	struct dp_action_result res;
	struct dp_error err = { 0 };
	size_t n = 99;

	TST_EQ_INT(dp_x11_windows_list(wins, &m, out, 4, &n, &err), -EINVAL);
	TST_EQ_INT(n, 0);
	fprintf(stderr, "  list -> %s\n", err.message);
	TST_CHECK(strstr(err.message, "title regex '('") != NULL);
	m = (struct dp_window_match){ .class_re = "[a" };
	TST_EQ_INT(window_op(DP_WINDOW_ACTIVATE, m, 0, 0, &res, &err), -EINVAL);
	TST_CHECK(strstr(err.message, "class regex '[a'") != NULL);
}

static void test_no_match_lists_what_is_open(void)
{
	struct dp_window_match m = { .title = "^no such window$" };
	struct dp_action_result res;
	struct dp_error err;

	TST_EQ_INT(window_op(DP_WINDOW_ACTIVATE, m, 0, 0, &res, &err), -ENOENT);
	TST_CHECK(strstr(err.message, "no window matches title~'^no such window$'") != NULL);
	TST_CHECK(strstr(err.message, "3 windows open") != NULL);
	TST_CHECK(strstr(err.message, "'term one'") && strstr(err.message, "'xclock'") &&
		  strstr(err.message, "'note three'"));
}

static void test_several_matches_are_listed(void)
{
	struct dp_window_match m = { .class_re = "^X" };
	struct dp_window_info term, clock;
	struct dp_action_result res;
	struct dp_error err;
	char id[32];

	TST_REQUIRE(by_pid(xterm_pid, &term) && by_pid(xclock_pid, &clock));
	TST_EQ_INT(window_op(DP_WINDOW_CLOSE, m, 0, 0, &res, &err), -EINVAL);
	TST_CHECK(strstr(err.message, "3 windows match class~'^X'") != NULL);
	snprintf(id, sizeof(id), "0x%" PRIx32 " 'term one'", term.id);
	TST_CHECK(strstr(err.message, id) != NULL);
	snprintf(id, sizeof(id), "0x%" PRIx32 " 'xclock'", clock.id);
	TST_CHECK(strstr(err.message, id) != NULL);
	TST_CHECK(strstr(err.message, "pid or id") != NULL);
	TST_EQ_INT(waitpid(xclock_pid, NULL, WNOHANG), 0); /* nothing was closed */
}

static void test_close_asks_politely(void)
{
	struct dp_action_result res;

	TST_EQ_INT(op_pid(DP_WINDOW_CLOSE, xclock_pid, 0, 0, &res), 0);
	TST_EQ_INT(res.window.pid, xclock_pid);
	TST_CHECK(strstr(res.summary, "closed") != NULL);
	/* xclock quits on WM_DELETE_WINDOW; openbox drops it from its list
	 * once it has seen the window go (a moment after we did). */
	TST_CHECK(wait_exit(xclock_pid, 3000));
	TST_CHECK(wait_for(pid_not_listed, &xclock_pid, 2000));
	xclock_pid = 0;
}

/* The program dies between being found and being activated.  Whether the
 * server has destroyed its window by the time perform looks (no match) or
 * only while perform waits (vanished), the answer is -ENOENT naming it. */
static void test_killed_window_is_enoent(void)
{
	pid_t pid = dp_spawn_on(&xvfb, (const char *[]){ "xmessage", "-title", "doomed", "bye", NULL });
	struct dp_window_info info;
	struct dp_action_result res;
	struct dp_error err;
	char id[16];

	TST_REQUIRE(wait_for(title_listed, "^doomed$", 10000));
	TST_REQUIRE(by_title("^doomed$", &info));
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	TST_EQ_INT(window_op(DP_WINDOW_ACTIVATE, (struct dp_window_match){ .id = info.id }, 0, 0, &res, &err),
		   -ENOENT);
	snprintf(id, sizeof(id), "0x%" PRIx32, info.id);
	TST_CHECK(strstr(err.message, id) != NULL);
	TST_CHECK(strstr(err.message, "vanished") || strstr(err.message, "no window matches"));
	TST_CHECK(xcb_connection_has_error(conn) == 0);
}

/* A window of the test's own that never answers: it asks to be given the
 * focus through WM_TAKE_FOCUS (input false) and to be told of a close
 * through WM_DELETE_WINDOW, and ignores both, like a hung program. */
static xcb_window_t make_unresponsive_window(void)
{
	xcb_window_t win = xcb_generate_id(watcher);
	uint32_t hints[9] = { 1, 0 }; /* InputHint; input = False */
	xcb_atom_t protocols[2] = { atom("WM_TAKE_FOCUS"), atom("WM_DELETE_WINDOW") };
	const char *name = "unresponsive";

	xcb_create_window(watcher, XCB_COPY_FROM_PARENT, win, root, 700, 400, 200, 100, 0,
			  XCB_WINDOW_CLASS_INPUT_OUTPUT, XCB_COPY_FROM_PARENT, 0, NULL);
	xcb_change_property(watcher, XCB_PROP_MODE_REPLACE, win, XCB_ATOM_WM_NAME, XCB_ATOM_STRING, 8,
			    (uint32_t)strlen(name), name);
	xcb_change_property(watcher, XCB_PROP_MODE_REPLACE, win, XCB_ATOM_WM_HINTS, XCB_ATOM_WM_HINTS, 32, 9, hints);
	xcb_change_property(watcher, XCB_PROP_MODE_REPLACE, win, atom("WM_PROTOCOLS"), XCB_ATOM_ATOM, 32, 2,
			    protocols);
	xcb_map_window(watcher, win);
	xcb_flush(watcher);
	return wait_for(title_listed, "^unresponsive$", 5000) ? win : XCB_NONE;
}

/* Another client destroys win after delay_ms, while perform waits. */
static pid_t destroy_later(xcb_window_t win, int delay_ms)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct timespec delay = { 0, delay_ms * 1000L * 1000L };
		xcb_connection_t *c = xcb_connect(xvfb.display, NULL);

		nanosleep(&delay, NULL);
		xcb_destroy_window(c, win);
		free(xcb_get_input_focus_reply(c, xcb_get_input_focus(c), NULL));
		_exit(0);
	}
	return pid;
}

static void test_unresponsive_window_times_out_and_stays(void)
{
	struct dp_window_match m = { .title = "^unresponsive$" };
	xcb_window_t win = make_unresponsive_window();
	struct dp_action_result res;
	struct dp_error err;
	int64_t start;
	char id[16];

	TST_REQUIRE(win != XCB_NONE);
	snprintf(id, sizeof(id), "0x%" PRIx32, win);
	start = dp_now_ns();
	TST_EQ_INT(window_op(DP_WINDOW_ACTIVATE, m, 0, 0, &res, &err), -ETIMEDOUT);
	TST_CHECK(dp_now_ns() - start >= 2 * DP_NSEC_PER_SEC);
	TST_CHECK(strstr(err.message, id) && strstr(err.message, "did not get the focus within 2 s"));
	start = dp_now_ns();
	TST_EQ_INT(window_op(DP_WINDOW_CLOSE, m, 0, 0, &res, &err), -EBUSY);
	TST_CHECK(dp_now_ns() - start >= 3 * DP_NSEC_PER_SEC);
	TST_CHECK(strstr(err.message, id) &&
		  strstr(err.message, "'unresponsive' is still open 3 s after a polite close"));
	TST_CHECK(by_title("^unresponsive$", NULL)); /* never killed */
	xcb_destroy_window(watcher, win);
	TST_CHECK(wait_for(n_listed, &(size_t){ 2 }, 2000)); /* xterm and xmessage are left */
}

/* The window goes while perform waits for the WM: -ENOENT at once, not the
 * 2 s timeout, and the connection is fine. */
static void test_window_destroyed_while_waiting_is_enoent(void)
{
	struct dp_window_match m = { .title = "^unresponsive$" };
	xcb_window_t win = make_unresponsive_window();
	struct dp_action_result res;
	struct dp_error err;
	int64_t start;
	pid_t killer;
	char id[16];

	TST_REQUIRE(win != XCB_NONE);
	snprintf(id, sizeof(id), "0x%" PRIx32, win);
	killer = destroy_later(win, 300);
	start = dp_now_ns();
	TST_EQ_INT(window_op(DP_WINDOW_ACTIVATE, m, 0, 0, &res, &err), -ENOENT);
	TST_CHECK(dp_now_ns() - start < 1500 * DP_NSEC_PER_MSEC);
	TST_CHECK(strstr(err.message, id) && strstr(err.message, "vanished"));
	waitpid(killer, NULL, 0);
	TST_CHECK(!xcb_connection_has_error(conn));
	TST_CHECK(wait_for(n_listed, &(size_t){ 2 }, 2000)); /* xterm and xmessage are left */
}

static void test_launch_missing_program(void)
{
	char *argv[] = { "deskpilot-no-such-program", NULL };
	char *path_argv[] = { "/nonexistent/deskpilot", NULL };
	struct dp_error err = { 0 };
	pid_t pid = 0;

	TST_EQ_INT(dp_launch(argv, xvfb.display, &pid, &err), -ENOENT);
	TST_CHECK(strstr(err.message, "'deskpilot-no-such-program'") && strstr(err.message, "PATH"));
	TST_EQ_INT(dp_launch(path_argv, xvfb.display, &pid, &err), -ENOENT);
	TST_CHECK(strstr(err.message, "/nonexistent/deskpilot") != NULL);
	TST_EQ_INT(pid, 0);
}

static void test_launch_real_program(void)
{
	char *argv[] = { "xclock", "-title", "launched by deskpilot", NULL };
	struct dp_window_info info;
	struct dp_action_result res;
	struct dp_error err = { 0 };
	pid_t pid = 0;

	/* DISPLAY of our own environment is wrong on purpose: launch sets it. */
	setenv("DISPLAY", ":4242", 1);
	TST_EQ_INT(dp_launch(argv, xvfb.display, &pid, &err), 0);
	unsetenv("DISPLAY");
	TST_REQUIRE(pid > 0);
	/* xclock sets _NET_WM_PID: the pid we got is the window's. */
	TST_REQUIRE(wait_for(pid_listed, &pid, 10000));
	TST_REQUIRE(by_pid(pid, &info));
	TST_EQ_STR(info.title, "launched by deskpilot");
	TST_EQ_STR(info.class_name, "XClock");
	TST_EQ_INT(op_pid(DP_WINDOW_CLOSE, pid, 0, 0, &res), 0);
	TST_CHECK(wait_exit(pid, 3000));
}

static void run_wm_tests(void)
{
	TST_RUN(test_lists_both_apps);
	TST_RUN(test_activate_each_in_turn);
	TST_RUN(test_activate_raises_a_window_that_takes_no_focus);
	TST_RUN(test_move_places_the_frame_at_the_point);
	TST_RUN(test_resize_sets_the_client_area);
	TST_RUN(test_maximize_fills_the_screen);
	TST_RUN(test_minimize_then_activate_restores);
	TST_RUN(test_mapping_notify_is_passed_on);
	TST_RUN(test_handle_event_claims_its_own);
	TST_RUN(test_bad_regex_is_named);
	TST_RUN(test_no_match_lists_what_is_open);
	TST_RUN(test_several_matches_are_listed);
	TST_RUN(test_close_asks_politely);
	TST_RUN(test_killed_window_is_enoent);
	TST_RUN(test_unresponsive_window_times_out_and_stays);
	TST_RUN(test_window_destroyed_while_waiting_is_enoent);
	TST_RUN(test_launch_missing_program);
	TST_RUN(test_launch_real_program);
}

/* Returns 0 when the tests ran, TST_SKIP or EXIT_FAILURE when they could not. */
static int run_with_wm(void)
{
	pid_t wm = 0;
	int r = dp_xvfb_start(&xvfb, SCREEN_W, SCREEN_H, NULL);

	if (r < 0) {
		fprintf(stderr, "cannot start Xvfb: %s\n", strerror(-r));
		return TST_SKIP;
	}
	r = open_display() < 0 ? EXIT_FAILURE : 0;
	if (r == 0) {
		wm = dp_spawn_on(&xvfb, (const char *[]){ "openbox", "--sm-disable", NULL });
		if (!wait_for(wm_ready, NULL, 10000)) {
			fprintf(stderr, "openbox did not start (is it installed?): skipping the tests with a WM\n");
			r = TST_SKIP;
		}
	}
	if (r == 0 && start_apps(true) < 0)
		r = EXIT_FAILURE;
	if (r == 0)
		run_wm_tests();
	stop_apps();
	dp_reap(wm);
	close_display();
	dp_xvfb_stop(&xvfb);
	return r;
}

/* ---- without a window manager ---- */

static void test_bare_lists_top_levels(void)
{
	struct dp_window_info all[16], term, clock;

	TST_EQ_INT(list(NULL, all, 16), 2);
	TST_REQUIRE(by_pid(xterm_pid, &term) && by_pid(xclock_pid, &clock));
	TST_EQ_STR(term.title, "term one");
	TST_EQ_STR(term.class_name, "XTerm");
	TST_EQ_STR(clock.instance, "xclock");
	TST_EQ_INT(term.desktop, -1);
	TST_EQ_INT(top_level(term.id), term.id); /* not reparented: the client is the top level */
	/* The outer corner is where -geometry put it; the client area starts
	 * inside the window's own border. */
	TST_EQ_INT(outer_rect(term.id).x, 10);
	TST_EQ_INT(term.geometry.x, 10 + (outer_rect(term.id).width - term.geometry.width) / 2);
}

static void test_bare_activate_sets_the_focus(void)
{
	pid_t order[] = { xterm_pid, xclock_pid };

	for (size_t i = 0; i < 2; i++) {
		struct dp_action_result res;
		xcb_window_t focused = XCB_NONE;

		TST_EQ_INT(op_pid(DP_WINDOW_ACTIVATE, order[i], 0, 0, &res), 0);
		TST_CHECK(res.window.focused);
		TST_EQ_INT(top_level(input_focus()), res.window.id);
		TST_EQ_INT(count_focused(&focused), 1);
		TST_EQ_INT(focused, res.window.id);
	}
}

static void test_bare_move_and_resize(void)
{
	struct dp_action_result res;

	TST_EQ_INT(op_pid(DP_WINDOW_MOVE, xterm_pid, 300, 200, &res), 0);
	TST_EQ_INT(outer_rect(res.window.id).x, 300);
	TST_EQ_INT(outer_rect(res.window.id).y, 200);
	/* No WM to round to increments: the server takes the size as given. */
	TST_EQ_INT(op_pid(DP_WINDOW_RESIZE, xclock_pid, 250, 150, &res), 0);
	TST_EQ_INT(res.window.geometry.width, 250);
	TST_EQ_INT(res.window.geometry.height, 150);
}

static void test_bare_minimize_needs_a_wm(void)
{
	struct dp_action_result res;
	struct dp_error err;

	TST_EQ_INT(window_op(DP_WINDOW_MINIMIZE, (struct dp_window_match){ .pid = xterm_pid }, 0, 0, &res, &err),
		   -ENOTSUP);
	TST_CHECK(strstr(err.message, "no window manager") != NULL);
}

static void test_bare_close_asks_politely(void)
{
	struct dp_action_result res;

	TST_EQ_INT(op_pid(DP_WINDOW_CLOSE, xclock_pid, 0, 0, &res), 0);
	TST_CHECK(wait_exit(xclock_pid, 3000));
	TST_CHECK(wait_for(n_listed, &(size_t){ 1 }, 2000));
	xclock_pid = 0;
}

static int run_without_wm(void)
{
	int r = dp_xvfb_start(&xvfb, SCREEN_W, SCREEN_H, NULL);

	if (r < 0) {
		fprintf(stderr, "cannot start Xvfb: %s\n", strerror(-r));
		return TST_SKIP;
	}
	r = open_display() < 0 || start_apps(false) < 0 ? EXIT_FAILURE : 0;
	if (r == 0) {
		TST_RUN(test_bare_lists_top_levels);
		TST_RUN(test_bare_activate_sets_the_focus);
		TST_RUN(test_bare_move_and_resize);
		TST_RUN(test_bare_minimize_needs_a_wm);
		TST_RUN(test_bare_close_asks_politely);
	}
	stop_apps();
	close_display();
	dp_xvfb_stop(&xvfb);
	return r;
}

int main(void)
{
	int with_wm, without_wm;

	signal(SIGPIPE, SIG_IGN);
	with_wm = run_with_wm();
	without_wm = run_without_wm();
	if (with_wm == EXIT_FAILURE || without_wm == EXIT_FAILURE || tst_failures)
		return EXIT_FAILURE;
	/* Some tests did not run (no Xvfb, no openbox): say so rather than pass. */
	if (with_wm == TST_SKIP || without_wm == TST_SKIP)
		return TST_SKIP;
	TST_EXIT();
}
