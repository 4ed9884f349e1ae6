/* Windows through EWMH/ICCCM on plain XCB.
 *
 * Listing asks the root for the window manager's client list and then asks
 * every window for its properties in one pipelined batch (all requests out,
 * then all replies in), so a list costs about three round trips however many
 * windows are open.  Every action waits for the server or the window manager
 * to confirm it through events, with poll() on the connection and a
 * deadline; nothing sleeps. */
#define DP_LOG_SUBSYS "windows"

#include "actuators/x11_windows.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/clock.h"
#include "engine/log.h"

extern char **environ;

#define ACTIVATE_TIMEOUT_NS (2 * DP_NSEC_PER_SEC)
#define CONFIGURE_TIMEOUT_NS (2 * DP_NSEC_PER_SEC)
#define STATE_TIMEOUT_NS (2 * DP_NSEC_PER_SEC)
#define CLOSE_TIMEOUT_NS (3 * DP_NSEC_PER_SEC)
/* After a ConfigureNotify that does not give the size asked for (size
 * increments, a WM constraint), this much quiet means the WM is done. */
#define CONFIGURE_SETTLE_NS (200 * DP_NSEC_PER_MSEC)

#define MAX_WINDOWS 4096   /* longs read from _NET_CLIENT_LIST(_STACKING) */
#define MAX_TREE_DEPTH 64  /* when walking up from the focus window */

/* EWMH / ICCCM constants (no xcb-ewmh, no Xlib headers). */
#define SOURCE_PAGER 2          /* "source indication": a tool acting for the user */
#define ICONIC_STATE 3          /* WM_STATE / WM_CHANGE_STATE */
#define WM_HINTS_INPUT 1        /* WM_HINTS flags: the input field is set */
#define NET_WM_STATE_ADD 1
#define GRAVITY_NORTH_WEST 1
#define MOVERESIZE_X (1u << 8)
#define MOVERESIZE_Y (1u << 9)
#define MOVERESIZE_WIDTH (1u << 10)
#define MOVERESIZE_HEIGHT (1u << 11)
#define MOVERESIZE_SOURCE(s) ((uint32_t)(s) << 12)

enum atom_id {
	A_NET_SUPPORTED,
	A_NET_SUPPORTING_WM_CHECK,
	A_NET_CLIENT_LIST,
	A_NET_CLIENT_LIST_STACKING,
	A_NET_ACTIVE_WINDOW,
	A_NET_WM_NAME,
	A_UTF8_STRING,
	A_NET_WM_PID,
	A_NET_WM_DESKTOP,
	A_NET_WM_STATE,
	A_NET_WM_STATE_HIDDEN,
	A_NET_WM_STATE_MAXIMIZED_VERT,
	A_NET_WM_STATE_MAXIMIZED_HORZ,
	A_NET_FRAME_EXTENTS,
	A_NET_MOVERESIZE_WINDOW,
	A_NET_CLOSE_WINDOW,
	A_WM_STATE,
	A_WM_CHANGE_STATE,
	A_WM_PROTOCOLS,
	A_WM_DELETE_WINDOW,
	A_WM_TAKE_FOCUS,
	N_ATOMS,
};

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

struct dp_x11_windows {
	xcb_connection_t *conn; /* the actuator's; not ours to close */
	xcb_window_t root;
	uint32_t root_mask_before; /* our connection's event mask on the root before create */
	xcb_atom_t atoms[N_ATOMS];
	xcb_window_t watched;      /* the window the last action selected events on */
	xcb_window_t watched_frame; /* and the WM's frame around it */
	bool mapping_changed;
};

/* What the root says about the session, read once per list or action. */
struct root_state {
	bool wm;                  /* an EWMH window manager is running */
	bool supported[N_ATOMS];  /* atoms the WM lists in _NET_SUPPORTED */
	xcb_window_t active;      /* the focused top-level window, or 0 */
	xcb_window_t *windows;    /* candidates, bottom of the stack first */
	size_t n_windows;
};

/* One window as listed, plus what actions need beyond dp_window_info. */
struct win {
	struct dp_window_info info;
	/* Decorations + border on each side: the outer corner is the client
	 * origin minus left and top. */
	int32_t frame_left, frame_right, frame_top, frame_bottom;
	bool gone, viewable, named;
};

/* The requests of one pipelined batch for one window. */
struct win_cookies {
	xcb_get_property_cookie_t net_name, name, class_, pid, desktop, net_state, wm_state, extents;
	xcb_get_geometry_cookie_t geometry;
	xcb_translate_coordinates_cookie_t origin;
	xcb_get_window_attributes_cookie_t attributes;
};

struct win_replies {
	xcb_get_property_reply_t *net_name, *name, *class_, *pid, *desktop, *net_state, *wm_state, *extents;
	xcb_get_geometry_reply_t *geometry;
	xcb_translate_coordinates_reply_t *origin;
	xcb_get_window_attributes_reply_t *attributes;
	bool failed; /* an error, nearly always BadWindow: the window is gone */
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

struct matcher {
	const struct dp_window_match *m; /* NULL: every window */
	regex_t title, class_re;
	bool has_title, has_class;
};

/* A bounded message under construction. */
struct text {
	char s[448];
	size_t len;
};

__attribute__((format(printf, 2, 3))) static void text_add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->len >= sizeof(t->s) - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->s + t->len, sizeof(t->s) - t->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		t->len = t->len + (size_t)n < sizeof(t->s) ? t->len + (size_t)n : sizeof(t->s) - 1;
}

static int lost_connection(struct dp_error *err)
{
	return dp_error_set(err, -EPIPE, "lost the connection to the X server; restart deskpilot on a live display");
}

/* ---- properties ---- */

static xcb_get_property_cookie_t get_prop(struct dp_x11_windows *w, xcb_window_t win, xcb_atom_t prop,
					  xcb_atom_t type, uint32_t longs)
{
	return xcb_get_property(w->conn, 0, win, prop, type, 0, longs);
}

static size_t prop_u32_count(const xcb_get_property_reply_t *r)
{
	if (!r || r->format != 32)
		return 0;
	return (size_t)xcb_get_property_value_length(r) / 4;
}

static uint32_t prop_u32(const xcb_get_property_reply_t *r, size_t i, uint32_t fallback)
{
	if (i >= prop_u32_count(r))
		return fallback;
	return ((const uint32_t *)xcb_get_property_value(r))[i];
}

static bool prop_has_atom(const xcb_get_property_reply_t *r, xcb_atom_t atom)
{
	for (size_t i = 0; i < prop_u32_count(r); i++)
		if (prop_u32(r, i, 0) == atom)
			return true;
	return false;
}

/* Copies at most size-1 bytes of UTF-8 without cutting a character. */
static void copy_utf8(char *dst, size_t size, const char *src, size_t len)
{
	size_t n = len < size - 1 ? len : size - 1;

	if (n < len)
		while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
			n--;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* WM_NAME of type STRING is Latin-1; everything we hand out is UTF-8. */
static void copy_latin1(char *dst, size_t size, const char *src, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < len && src[i]; i++) {
		unsigned char c = (unsigned char)src[i];
		size_t need = c < 0x80 ? 1 : 2;

		if (o + need >= size)
			break;
		if (c < 0x80) {
			dst[o++] = (char)c;
		} else {
			dst[o++] = (char)(0xC0 | (c >> 6));
			dst[o++] = (char)(0x80 | (c & 0x3F));
		}
	}
	dst[o] = '\0';
}

/* ---- the root: window manager, client list, focus ---- */

static void root_state_clear(struct root_state *rs)
{
	free(rs->windows);
	memset(rs, 0, sizeof(*rs));
}

static int set_windows(struct root_state *rs, const xcb_window_t *ids, size_t n)
{
	rs->windows = malloc((n ? n : 1) * sizeof(*rs->windows));
	if (!rs->windows)
		return -ENOMEM;
	if (n)
		memcpy(rs->windows, ids, n * sizeof(*ids));
	rs->n_windows = n;
	return 0;
}

/* A WM proves it is alive: its check window exists and points at itself
 * (a WM that died leaves the root property behind). */
static bool wm_is_alive(struct dp_x11_windows *w, xcb_window_t check)
{
	xcb_atom_t a = w->atoms[A_NET_SUPPORTING_WM_CHECK];
	xcb_get_property_reply_t *r;
	bool alive;

	if (!check)
		return false;
	r = xcb_get_property_reply(w->conn, get_prop(w, check, a, XCB_ATOM_WINDOW, 1), NULL);
	alive = prop_u32(r, 0, 0) == check;
	free(r);
	return alive;
}

static xcb_window_t parent_of(struct dp_x11_windows *w, xcb_window_t win)
{
	xcb_query_tree_reply_t *t = xcb_query_tree_reply(w->conn, xcb_query_tree(w->conn, win), NULL);
	xcb_window_t parent = t ? t->parent : XCB_NONE;

	free(t);
	return parent;
}

/* The root's child holding win: a WM's frame, or win itself; 0 if gone. */
static xcb_window_t top_level_of(struct dp_x11_windows *w, xcb_window_t win)
{
	for (int depth = 0; depth < MAX_TREE_DEPTH; depth++) {
		xcb_window_t parent = parent_of(w, win);

		if (parent == XCB_NONE)
			return XCB_NONE;
		if (parent == w->root)
			return win;
		win = parent;
	}
	return XCB_NONE;
}

/* The root's child that holds the input focus, or 0 (PointerRoot, None). */
static xcb_window_t focused_top_level(struct dp_x11_windows *w)
{
	xcb_get_input_focus_reply_t *f = xcb_get_input_focus_reply(w->conn, xcb_get_input_focus(w->conn), NULL);
	xcb_window_t win = f ? f->focus : XCB_NONE;

	free(f);
	if (win == XCB_NONE || win == XCB_INPUT_FOCUS_POINTER_ROOT || win == w->root)
		return XCB_NONE;
	return top_level_of(w, win);
}

/* Without a WM the candidates are the root's children (bottom first);
 * fetch_windows keeps those mapped and named. */
static int read_tree(struct dp_x11_windows *w, struct root_state *rs)
{
	xcb_query_tree_reply_t *t = xcb_query_tree_reply(w->conn, xcb_query_tree(w->conn, w->root), NULL);
	int r;

	if (!t)
		return -EPIPE;
	r = set_windows(rs, xcb_query_tree_children(t), (size_t)xcb_query_tree_children_length(t));
	free(t);
	rs->active = focused_top_level(w);
	return r;
}

static void note_supported(struct dp_x11_windows *w, struct root_state *rs, const xcb_get_property_reply_t *r)
{
	for (size_t i = 0; i < N_ATOMS; i++)
		rs->supported[i] = prop_has_atom(r, w->atoms[i]);
}

static int read_client_list(struct root_state *rs, const xcb_get_property_reply_t *stacking,
			    const xcb_get_property_reply_t *list)
{
	/* The stacking list gives the order callers want; the plain one is
	 * in mapping order, for WMs that lack the other. */
	const xcb_get_property_reply_t *use = stacking && stacking->type == XCB_ATOM_WINDOW ? stacking : list;
	size_t n = prop_u32_count(use);

	return set_windows(rs, n ? xcb_get_property_value(use) : NULL, n);
}

static int read_root_state(struct dp_x11_windows *w, struct root_state *rs, struct dp_error *err)
{
	xcb_get_property_cookie_t c_check, c_active, c_stacking, c_list, c_supported;
	xcb_get_property_reply_t *check, *active, *stacking, *list, *supported;
	int r;

	memset(rs, 0, sizeof(*rs));
	c_check = get_prop(w, w->root, w->atoms[A_NET_SUPPORTING_WM_CHECK], XCB_ATOM_WINDOW, 1);
	c_active = get_prop(w, w->root, w->atoms[A_NET_ACTIVE_WINDOW], XCB_ATOM_WINDOW, 1);
	c_stacking = get_prop(w, w->root, w->atoms[A_NET_CLIENT_LIST_STACKING], XCB_ATOM_WINDOW, MAX_WINDOWS);
	c_list = get_prop(w, w->root, w->atoms[A_NET_CLIENT_LIST], XCB_ATOM_WINDOW, MAX_WINDOWS);
	c_supported = get_prop(w, w->root, w->atoms[A_NET_SUPPORTED], XCB_ATOM_ATOM, 1024);
	check = xcb_get_property_reply(w->conn, c_check, NULL);
	active = xcb_get_property_reply(w->conn, c_active, NULL);
	stacking = xcb_get_property_reply(w->conn, c_stacking, NULL);
	list = xcb_get_property_reply(w->conn, c_list, NULL);
	supported = xcb_get_property_reply(w->conn, c_supported, NULL);

	if (!check || !active || !stacking || !list || !supported)
		r = -EPIPE;
	else if ((rs->wm = wm_is_alive(w, prop_u32(check, 0, 0)))) {
		note_supported(w, rs, supported);
		rs->active = prop_u32(active, 0, XCB_NONE);
		r = read_client_list(rs, stacking, list);
	} else {
		dp_log_debug("no EWMH window manager: listing the root's mapped, named children");
		r = read_tree(w, rs);
	}
	free(check);
	free(active);
	free(stacking);
	free(list);
	free(supported);
	if (r == -EPIPE || xcb_connection_has_error(w->conn))
		return lost_connection(err);
	if (r < 0)
		return dp_error_set(err, r, "out of memory reading the window list");
	return r;
}

/* ---- windows: one pipelined batch ---- */

static void send_window_requests(struct dp_x11_windows *w, bool wm, xcb_window_t win, struct win_cookies *c)
{
	c->net_name = get_prop(w, win, w->atoms[A_NET_WM_NAME], w->atoms[A_UTF8_STRING], 64);
	c->name = get_prop(w, win, XCB_ATOM_WM_NAME, XCB_GET_PROPERTY_TYPE_ANY, 64);
	c->class_ = get_prop(w, win, XCB_ATOM_WM_CLASS, XCB_ATOM_STRING, 64);
	c->pid = get_prop(w, win, w->atoms[A_NET_WM_PID], XCB_ATOM_CARDINAL, 1);
	c->desktop = get_prop(w, win, w->atoms[A_NET_WM_DESKTOP], XCB_ATOM_CARDINAL, 1);
	c->net_state = get_prop(w, win, w->atoms[A_NET_WM_STATE], XCB_ATOM_ATOM, 32);
	c->wm_state = get_prop(w, win, w->atoms[A_WM_STATE], w->atoms[A_WM_STATE], 2);
	c->extents = get_prop(w, win, w->atoms[A_NET_FRAME_EXTENTS], XCB_ATOM_CARDINAL, 4);
	c->geometry = xcb_get_geometry(w->conn, win);
	c->origin = xcb_translate_coordinates(w->conn, win, w->root, 0, 0);
	if (!wm)
		c->attributes = xcb_get_window_attributes(w->conn, win);
}

static void note_error(struct win_replies *r, xcb_generic_error_t *e)
{
	if (e) {
		r->failed = true;
		free(e);
	}
}

static xcb_get_property_reply_t *take_prop(struct dp_x11_windows *w, xcb_get_property_cookie_t c,
					   struct win_replies *r)
{
	xcb_generic_error_t *e = NULL;
	xcb_get_property_reply_t *reply = xcb_get_property_reply(w->conn, c, &e);

	note_error(r, e);
	return reply;
}

/* Takes every reply of the batch, even after an error: an untaken reply
 * would stay queued in xcb. */
static void take_window_replies(struct dp_x11_windows *w, bool wm, const struct win_cookies *c,
				struct win_replies *r)
{
	xcb_generic_error_t *e = NULL;

	memset(r, 0, sizeof(*r));
	r->net_name = take_prop(w, c->net_name, r);
	r->name = take_prop(w, c->name, r);
	r->class_ = take_prop(w, c->class_, r);
	r->pid = take_prop(w, c->pid, r);
	r->desktop = take_prop(w, c->desktop, r);
	r->net_state = take_prop(w, c->net_state, r);
	r->wm_state = take_prop(w, c->wm_state, r);
	r->extents = take_prop(w, c->extents, r);
	r->geometry = xcb_get_geometry_reply(w->conn, c->geometry, &e);
	note_error(r, e);
	e = NULL;
	r->origin = xcb_translate_coordinates_reply(w->conn, c->origin, &e);
	note_error(r, e);
	if (!wm) {
		e = NULL;
		r->attributes = xcb_get_window_attributes_reply(w->conn, c->attributes, &e);
		note_error(r, e);
	}
	if (!r->geometry || !r->origin || (!wm && !r->attributes))
		r->failed = true;
}

static void free_window_replies(struct win_replies *r)
{
	free(r->net_name);
	free(r->name);
	free(r->class_);
	free(r->pid);
	free(r->desktop);
	free(r->net_state);
	free(r->wm_state);
	free(r->extents);
	free(r->geometry);
	free(r->origin);
	free(r->attributes);
}

static void fill_title(struct dp_x11_windows *w, const struct win_replies *r, struct win *out)
{
	char *title = out->info.title;
	size_t size = sizeof(out->info.title);

	if (r->net_name && r->net_name->type == w->atoms[A_UTF8_STRING] &&
	    xcb_get_property_value_length(r->net_name) > 0)
		copy_utf8(title, size, xcb_get_property_value(r->net_name),
			  (size_t)xcb_get_property_value_length(r->net_name));
	else if (r->name && r->name->type == XCB_ATOM_STRING)
		copy_latin1(title, size, xcb_get_property_value(r->name),
			    (size_t)xcb_get_property_value_length(r->name));
	else if (r->name && r->name->type != XCB_NONE) /* UTF8_STRING, or COMPOUND_TEXT's ASCII part */
		copy_utf8(title, size, xcb_get_property_value(r->name),
			  (size_t)xcb_get_property_value_length(r->name));
	out->named = (r->net_name && r->net_name->type != XCB_NONE) || (r->name && r->name->type != XCB_NONE);
}

/* WM_CLASS is "instance\0class\0". */
static void fill_class(const xcb_get_property_reply_t *r, struct win *out)
{
	const char *v = r ? xcb_get_property_value(r) : NULL;
	size_t len = r ? (size_t)xcb_get_property_value_length(r) : 0;
	size_t first = v ? strnlen(v, len) : 0;

	if (!v || r->format != 8)
		return;
	copy_latin1(out->info.instance, sizeof(out->info.instance), v, first);
	if (first < len)
		copy_latin1(out->info.class_name, sizeof(out->info.class_name), v + first + 1, len - first - 1);
}

static void fill_state(struct dp_x11_windows *w, const struct win_replies *r, struct win *out)
{
	uint32_t desktop = prop_u32(r->desktop, 0, UINT32_MAX);

	out->info.pid = (int32_t)prop_u32(r->pid, 0, 0);
	out->info.desktop = desktop == UINT32_MAX ? -1 : (int32_t)desktop;
	out->info.minimized = prop_has_atom(r->net_state, w->atoms[A_NET_WM_STATE_HIDDEN]) ||
			      prop_u32(r->wm_state, 0, 0) == ICONIC_STATE;
	out->info.maximized = prop_has_atom(r->net_state, w->atoms[A_NET_WM_STATE_MAXIMIZED_VERT]) &&
			      prop_has_atom(r->net_state, w->atoms[A_NET_WM_STATE_MAXIMIZED_HORZ]);
}

/* The client area in root coordinates, and how far the outer corner
 * (frame and border included) lies up and left of it. */
static void fill_geometry(const struct win_replies *r, struct win *out)
{
	int32_t border = r->geometry->border_width;

	out->info.geometry = (struct dp_rect){ r->origin->dst_x, r->origin->dst_y, r->geometry->width,
					       r->geometry->height };
	out->frame_left = (int32_t)prop_u32(r->extents, 0, 0) + border;
	out->frame_right = (int32_t)prop_u32(r->extents, 1, 0) + border;
	out->frame_top = (int32_t)prop_u32(r->extents, 2, 0) + border;
	out->frame_bottom = (int32_t)prop_u32(r->extents, 3, 0) + border;
}

static void fill_window(struct dp_x11_windows *w, const struct root_state *rs, xcb_window_t id,
			const struct win_replies *r, struct win *out)
{
	memset(out, 0, sizeof(*out));
	out->info.id = id;
	if (r->failed) {
		out->gone = true;
		return;
	}
	fill_title(w, r, out);
	fill_class(r->class_, out);
	fill_state(w, r, out);
	fill_geometry(r, out);
	out->info.focused = rs->active != XCB_NONE && id == rs->active;
	out->viewable = rs->wm || r->attributes->map_state == XCB_MAP_STATE_VIEWABLE;
}

/* Fills out[i] for each of ids; a window that is gone has out[i].gone. */
static int fetch_windows(struct dp_x11_windows *w, const struct root_state *rs, const xcb_window_t *ids, size_t n,
			 struct win *out, struct dp_error *err)
{
	struct win_cookies *cookies = calloc(n ? n : 1, sizeof(*cookies));

	if (!cookies)
		return dp_error_set(err, -ENOMEM, "out of memory asking about %zu windows", n);
	for (size_t i = 0; i < n; i++)
		send_window_requests(w, rs->wm, ids[i], &cookies[i]);
	for (size_t i = 0; i < n; i++) {
		struct win_replies r;

		take_window_replies(w, rs->wm, &cookies[i], &r);
		fill_window(w, rs, ids[i], &r, &out[i]);
		free_window_replies(&r);
	}
	free(cookies);
	if (xcb_connection_has_error(w->conn))
		return lost_connection(err);
	return 0;
}

/* Without a WM, only mapped windows with a name count as windows. */
static bool is_listed(const struct root_state *rs, const struct win *win)
{
	if (win->gone) {
		dp_log_debug("window 0x%" PRIx32 " vanished while being listed; skipped", win->info.id);
		return false;
	}
	return rs->wm || (win->viewable && win->named);
}

/* Every window, bottom of the stack first. */
static int collect_windows(struct dp_x11_windows *w, struct root_state *rs, struct win **out, size_t *n,
			   struct dp_error *err)
{
	struct win *wins;
	size_t kept = 0;
	int r = read_root_state(w, rs, err);

	*out = NULL;
	*n = 0;
	if (r < 0)
		return r;
	wins = calloc(rs->n_windows ? rs->n_windows : 1, sizeof(*wins));
	if (!wins)
		return dp_error_set(err, -ENOMEM, "out of memory listing %zu windows", rs->n_windows);
	r = fetch_windows(w, rs, rs->windows, rs->n_windows, wins, err);
	if (r < 0) {
		free(wins);
		return r;
	}
	for (size_t i = 0; i < rs->n_windows; i++)
		if (is_listed(rs, &wins[i]))
			wins[kept++] = wins[i];
	*out = wins;
	*n = kept;
	return 0;
}

/* Reads one window again; -ENOENT if it is gone. */
static int refresh(struct dp_x11_windows *w, const struct root_state *rs, struct win *win, struct dp_error *err)
{
	xcb_window_t id = win->info.id;
	struct win now;
	int r = fetch_windows(w, rs, &id, 1, &now, err);

	if (r < 0)
		return r;
	if (now.gone)
		return -ENOENT;
	*win = now;
	return 0;
}

/* ---- matching ---- */

static int compile_regex(regex_t *re, const char *pattern, const char *what, struct dp_error *err)
{
	int code = regcomp(re, pattern, REG_EXTENDED | REG_NOSUB);
	char why[128];

	if (code == 0)
		return 0;
	regerror(code, re, why, sizeof(why));
	return dp_error_set(err, -EINVAL,
			    "the %s regex '%.200s' is not a valid POSIX extended regex (%s): fix it, or put a "
			    "backslash before ( ) [ ] { } . * + ? | ^ $ to match them literally",
			    what, pattern, why);
}

static int matcher_init(struct matcher *mt, const struct dp_window_match *m, struct dp_error *err)
{
	int r;

	memset(mt, 0, sizeof(*mt));
	mt->m = m;
	if (m && m->title) {
		r = compile_regex(&mt->title, m->title, "title", err);
		if (r < 0)
			return r;
		mt->has_title = true;
	}
	if (m && m->class_re) {
		r = compile_regex(&mt->class_re, m->class_re, "class", err);
		if (r < 0) {
			if (mt->has_title)
				regfree(&mt->title);
			mt->has_title = false;
			return r;
		}
		mt->has_class = true;
	}
	return 0;
}

static void matcher_fini(struct matcher *mt)
{
	if (mt->has_title)
		regfree(&mt->title);
	if (mt->has_class)
		regfree(&mt->class_re);
	mt->has_title = mt->has_class = false;
}

static bool matcher_accepts(const struct matcher *mt, const struct dp_window_info *info)
{
	const struct dp_window_match *m = mt->m;

	if (!m)
		return true;
	if (m->id && info->id != m->id)
		return false;
	if (m->pid && info->pid != m->pid)
		return false;
	if (mt->has_title && regexec(&mt->title, info->title, 0, NULL, 0) != 0)
		return false;
	if (mt->has_class && regexec(&mt->class_re, info->instance, 0, NULL, 0) != 0 &&
	    regexec(&mt->class_re, info->class_name, 0, NULL, 0) != 0)
		return false;
	return true;
}

static void describe_match(const struct dp_window_match *m, struct text *t)
{
	size_t start = t->len;

	if (m && m->title)
		text_add(t, "title~'%.100s' ", m->title);
	if (m && m->class_re)
		text_add(t, "class~'%.60s' ", m->class_re);
	if (m && m->pid)
		text_add(t, "pid=%" PRId32 " ", m->pid);
	if (m && m->id)
		text_add(t, "id=0x%" PRIx32 " ", m->id);
	if (t->len == start)
		text_add(t, "(any window) ");
	t->s[--t->len] = '\0'; /* the trailing space */
}

static int no_match_error(const struct dp_window_match *m, const struct win *wins, size_t n, struct dp_error *err)
{
	struct text t = { .len = 0 };

	text_add(&t, "no window matches ");
	describe_match(m, &t);
	if (n == 0)
		text_add(&t, " (no windows are open)");
	else
		text_add(&t, " (%zu window%s open:", n, n == 1 ? "" : "s");
	for (size_t i = 0; i < n && i < 5; i++)
		text_add(&t, "%s '%.48s'", i ? "," : "", wins[i].info.title);
	if (n > 5)
		text_add(&t, ", ...");
	if (n)
		text_add(&t, ")");
	return dp_error_set(err, -ENOENT, "%s", t.s);
}

static int several_match_error(const struct dp_window_match *m, const struct win *wins, const size_t *idx,
			       size_t n, struct dp_error *err)
{
	struct text t = { .len = 0 };

	text_add(&t, "%zu windows match ", n);
	describe_match(m, &t);
	text_add(&t, ":");
	for (size_t i = 0; i < n && i < 5; i++)
		text_add(&t, "%s 0x%" PRIx32 " '%.40s' (pid %" PRId32 ")", i ? "," : "", wins[idx[i]].info.id,
			 wins[idx[i]].info.title, wins[idx[i]].info.pid);
	if (n > 5)
		text_add(&t, ", ...");
	return dp_error_set(err, -EINVAL, "%s; add pid or id to pick one", t.s);
}

/* The index of the one window that matches. */
static int find_one(const struct matcher *mt, const struct win *wins, size_t n, size_t *found, struct dp_error *err)
{
	size_t idx[6], hits = 0;

	for (size_t i = 0; i < n; i++) {
		if (!matcher_accepts(mt, &wins[i].info))
			continue;
		if (hits < sizeof(idx) / sizeof(idx[0]))
			idx[hits] = i;
		hits++;
	}
	if (hits == 0)
		return no_match_error(mt->m, wins, n, err);
	if (hits > 1)
		return several_match_error(mt->m, wins, idx, hits, err);
	*found = idx[0];
	return 0;
}

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
	xcb_window_t frame = top_level_of(w, wt->target);
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
		return xcb_connection_has_error(w->conn) ? lost_connection(err) : vanished(t, done, err);
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
	xcb_get_property_cookie_t hc = get_prop(w, id, XCB_ATOM_WM_HINTS, XCB_ATOM_WM_HINTS, 2);
	xcb_get_property_cookie_t pc = get_prop(w, id, w->atoms[A_WM_PROTOCOLS], XCB_ATOM_ATOM, 32);
	xcb_get_property_reply_t *hints = xcb_get_property_reply(w->conn, hc, NULL);
	xcb_get_property_reply_t *protocols = xcb_get_property_reply(w->conn, pc, NULL);
	bool no_input = (prop_u32(hints, 0, 0) & WM_HINTS_INPUT) && prop_u32(hints, 1, 1) == 0 &&
			!prop_has_atom(protocols, w->atoms[A_WM_TAKE_FOCUS]);

	free(hints);
	free(protocols);
	return no_input;
}

static xcb_window_t root_window_prop(struct dp_x11_windows *w, enum atom_id a, bool last)
{
	xcb_get_property_reply_t *r = xcb_get_property_reply(
		w->conn, get_prop(w, w->root, w->atoms[a], XCB_ATOM_WINDOW, last ? MAX_WINDOWS : 1), NULL);
	size_t n = prop_u32_count(r);
	xcb_window_t win = n ? prop_u32(r, last ? n - 1 : 0, XCB_NONE) : XCB_NONE;

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
		r = refresh(w, rs, &now, NULL);
		if (r < 0 || now.info.minimized)
			return r;
	}
	if (wt->raise_only)
		active = root_window_prop(w, A_NET_CLIENT_LIST_STACKING, true);
	else if (ewmh_supports(rs, A_NET_ACTIVE_WINDOW))
		active = root_window_prop(w, A_NET_ACTIVE_WINDOW, false);
	else
		active = wt->focused_in ? wt->target : focused_top_level(w);
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
		return lost_connection(err);
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
		r = refresh(w, rs, t, err);
	watch_stop(w, &wt);
	if (r < 0 && err && err->code == r)
		return r; /* request_activate or refresh said why */
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
		int r = refresh(w, rs, t, err);

		if (r < 0 || frame_matches(w, rs, wt, t))
			return r;
		r = wait_event(w, wt, deadline);
		if (r == -ETIMEDOUT) {
			dp_log_debug("window 0x%" PRIx32 ": its frame does not match _NET_FRAME_EXTENTS", t->info.id);
			return refresh(w, rs, t, err);
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
		int r = wt->destroyed ? -ENOENT : refresh(w, rs, t, err);

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
	int r = refresh(w, rs, &now, NULL);

	return r < 0 ? r : now.info.minimized;
}

static int is_maximized(struct dp_x11_windows *w, struct root_state *rs, struct watch *wt)
{
	struct win now = { .info.id = wt->target };
	int r = refresh(w, rs, &now, NULL);

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
		r = refresh(w, rs, t, err);
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
		w->conn, get_prop(w, id, w->atoms[A_WM_PROTOCOLS], XCB_ATOM_ATOM, 32), NULL);
	bool yes = prop_has_atom(r, w->atoms[A_WM_DELETE_WINDOW]);

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
		return lost_connection(err);
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
		return lost_connection(err);
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

int dp_x11_windows_list(struct dp_x11_windows *w, const struct dp_window_match *match, struct dp_window_info *out,
			size_t max, size_t *count, struct dp_error *err)
{
	struct root_state rs;
	struct matcher mt;
	struct win *wins;
	size_t n, left_out = 0;
	int r;

	*count = 0;
	dp_error_clear(err);
	r = matcher_init(&mt, match, err);
	if (r < 0)
		return r;
	r = collect_windows(w, &rs, &wins, &n, err);
	for (size_t i = 0; r == 0 && i < n; i++) {
		if (!matcher_accepts(&mt, &wins[i].info))
			continue;
		if (*count < max)
			out[(*count)++] = wins[i].info;
		else
			left_out++;
	}
	if (left_out)
		dp_log_debug("%zu matching windows left out: room for %zu", left_out, max);
	free(wins);
	root_state_clear(&rs);
	matcher_fini(&mt);
	return r;
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
	r = matcher_init(&mt, &action->match, err);
	if (r < 0)
		return r;
	r = collect_windows(w, &rs, &wins, &n, err);
	if (r == 0)
		r = find_one(&mt, wins, n, &found, err);
	if (r == 0) {
		target = wins[found];
		result->window = target.info;
		r = run_op(w, &rs, &target, action, result, err);
		result->window = target.info; /* after the action (as it was, for close) */
	}
	free(wins);
	root_state_clear(&rs);
	matcher_fini(&mt);
	return r;
}

/* ---- launch ---- */

static bool is_executable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* posix_spawnp reports a missing program only as ENOENT; finding it first
 * lets the message name it and the PATH searched. */
static bool find_in_path(const char *name, const char *path)
{
	char candidate[4096];

	if (strchr(name, '/'))
		return is_executable(name);
	for (const char *dir = path; dir; dir = strchr(dir, ':') ? strchr(dir, ':') + 1 : NULL) {
		size_t len = strcspn(dir, ":");

		if (len == 0)
			snprintf(candidate, sizeof(candidate), "./%s", name);
		else
			snprintf(candidate, sizeof(candidate), "%.*s/%s", (int)len, dir, name);
		if (is_executable(candidate))
			return true;
	}
	return false;
}

/* environ with DISPLAY replaced; the array is the caller's to free, the
 * strings stay environ's except *display_var. */
static char **environment_for(const char *display, char **display_var)
{
	size_t n = 0, k = 0;
	char **env;

	while (environ && environ[n])
		n++;
	env = calloc(n + 2, sizeof(*env));
	if (!env)
		return NULL;
	*display_var = NULL;
	if (display && asprintf(display_var, "DISPLAY=%s", display) < 0) {
		free(env);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		if (!*display_var || strncmp(environ[i], "DISPLAY=", 8) != 0)
			env[k++] = environ[i];
	if (*display_var)
		env[k++] = *display_var;
	env[k] = NULL;
	return env;
}

/* The child starts clean: no blocked signals, default dispositions (an
 * ignored SIGPIPE would otherwise survive exec), and its own process group
 * so a Ctrl-C meant for the daemon does not reach it. */
static int spawn_attributes(posix_spawnattr_t *attr)
{
	sigset_t none, all;
	int r = posix_spawnattr_init(attr);

	if (r)
		return -r;
	sigemptyset(&none);
	sigfillset(&all);
	sigdelset(&all, SIGKILL);
	sigdelset(&all, SIGSTOP);
	r = posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
	if (!r)
		r = posix_spawnattr_setsigmask(attr, &none);
	if (!r)
		r = posix_spawnattr_setsigdefault(attr, &all);
	if (!r)
		r = posix_spawnattr_setpgroup(attr, 0);
	if (r)
		posix_spawnattr_destroy(attr);
	return -r;
}

int dp_launch(char *const argv[], const char *display, pid_t *pid, struct dp_error *err)
{
	const char *path = getenv("PATH");
	char **env, *display_var = NULL;
	posix_spawnattr_t attr;
	int r;

	if (!argv || !argv[0] || !argv[0][0])
		return dp_error_set(err, -EINVAL, "launch needs a program: argv[0] is empty");
	if (!path || !*path)
		path = "/bin:/usr/bin"; /* what posix_spawnp searches then */
	if (!find_in_path(argv[0], path))
		return dp_error_set(err, -ENOENT, "cannot launch '%.100s': %s (PATH is %.200s); install it or give "
				    "its full path", argv[0], strchr(argv[0], '/') ? "no such executable file" :
				    "not found in PATH", path);
	env = environment_for(display, &display_var);
	if (!env)
		return dp_error_set(err, -ENOMEM, "out of memory");
	r = spawn_attributes(&attr);
	if (r == 0) {
		r = -posix_spawnp(pid, argv[0], NULL, &attr, argv, env);
		posix_spawnattr_destroy(&attr);
	}
	free(display_var);
	free(env);
	if (r < 0)
		return dp_error_set(err, r, "cannot launch '%.100s': %s", argv[0], strerror(-r));
	dp_log_debug("launched %s as pid %d", argv[0], (int)*pid);
	return 0;
}
