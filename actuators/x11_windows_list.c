/* Reading the window list through EWMH/ICCCM on plain XCB.
 *
 * Listing asks the root for the window manager's client list and then asks
 * every window for its properties in one pipelined batch (all requests out,
 * then all replies in), so a list costs about three round trips however many
 * windows are open.  Actions on windows are in x11_windows.c. */
#define DP_LOG_SUBSYS "windows"

#include "actuators/x11_windows_private.h"

#include <errno.h>
#include <inttypes.h>
#include <regex.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/log.h"

#define MAX_TREE_DEPTH 64  /* when walking up from the focus window */

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

int dp_x11w_lost_connection(struct dp_error *err)
{
	return dp_error_set(err, -EPIPE, "lost the connection to the X server; restart deskpilot on a live display");
}

/* ---- properties ---- */

xcb_get_property_cookie_t dp_x11w_get_prop(struct dp_x11_windows *w, xcb_window_t win, xcb_atom_t prop,
					   xcb_atom_t type, uint32_t longs)
{
	return xcb_get_property(w->conn, 0, win, prop, type, 0, longs);
}

size_t dp_x11w_prop_u32_count(const xcb_get_property_reply_t *r)
{
	if (!r || r->format != 32)
		return 0;
	return (size_t)xcb_get_property_value_length(r) / 4;
}

uint32_t dp_x11w_prop_u32(const xcb_get_property_reply_t *r, size_t i, uint32_t fallback)
{
	if (i >= dp_x11w_prop_u32_count(r))
		return fallback;
	return ((const uint32_t *)xcb_get_property_value(r))[i];
}

bool dp_x11w_prop_has_atom(const xcb_get_property_reply_t *r, xcb_atom_t atom)
{
	for (size_t i = 0; i < dp_x11w_prop_u32_count(r); i++)
		if (dp_x11w_prop_u32(r, i, 0) == atom)
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

void dp_x11w_root_state_clear(struct root_state *rs)
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
	r = xcb_get_property_reply(w->conn, dp_x11w_get_prop(w, check, a, XCB_ATOM_WINDOW, 1), NULL);
	alive = dp_x11w_prop_u32(r, 0, 0) == check;
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

xcb_window_t dp_x11w_top_level_of(struct dp_x11_windows *w, xcb_window_t win)
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

xcb_window_t dp_x11w_focused_top_level(struct dp_x11_windows *w)
{
	xcb_get_input_focus_reply_t *f = xcb_get_input_focus_reply(w->conn, xcb_get_input_focus(w->conn), NULL);
	xcb_window_t win = f ? f->focus : XCB_NONE;

	free(f);
	if (win == XCB_NONE || win == XCB_INPUT_FOCUS_POINTER_ROOT || win == w->root)
		return XCB_NONE;
	return dp_x11w_top_level_of(w, win);
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
	rs->active = dp_x11w_focused_top_level(w);
	return r;
}

static void note_supported(struct dp_x11_windows *w, struct root_state *rs, const xcb_get_property_reply_t *r)
{
	for (size_t i = 0; i < N_ATOMS; i++)
		rs->supported[i] = dp_x11w_prop_has_atom(r, w->atoms[i]);
}

static int read_client_list(struct root_state *rs, const xcb_get_property_reply_t *stacking,
			    const xcb_get_property_reply_t *list)
{
	/* The stacking list gives the order callers want; the plain one is
	 * in mapping order, for WMs that lack the other. */
	const xcb_get_property_reply_t *use = stacking && stacking->type == XCB_ATOM_WINDOW ? stacking : list;
	size_t n = dp_x11w_prop_u32_count(use);

	return set_windows(rs, n ? xcb_get_property_value(use) : NULL, n);
}

static int read_root_state(struct dp_x11_windows *w, struct root_state *rs, struct dp_error *err)
{
	xcb_get_property_cookie_t c_check, c_active, c_stacking, c_list, c_supported;
	xcb_get_property_reply_t *check, *active, *stacking, *list, *supported;
	int r;

	memset(rs, 0, sizeof(*rs));
	c_check = dp_x11w_get_prop(w, w->root, w->atoms[A_NET_SUPPORTING_WM_CHECK], XCB_ATOM_WINDOW, 1);
	c_active = dp_x11w_get_prop(w, w->root, w->atoms[A_NET_ACTIVE_WINDOW], XCB_ATOM_WINDOW, 1);
	c_stacking = dp_x11w_get_prop(w, w->root, w->atoms[A_NET_CLIENT_LIST_STACKING], XCB_ATOM_WINDOW, MAX_WINDOWS);
	c_list = dp_x11w_get_prop(w, w->root, w->atoms[A_NET_CLIENT_LIST], XCB_ATOM_WINDOW, MAX_WINDOWS);
	c_supported = dp_x11w_get_prop(w, w->root, w->atoms[A_NET_SUPPORTED], XCB_ATOM_ATOM, 1024);
	check = xcb_get_property_reply(w->conn, c_check, NULL);
	active = xcb_get_property_reply(w->conn, c_active, NULL);
	stacking = xcb_get_property_reply(w->conn, c_stacking, NULL);
	list = xcb_get_property_reply(w->conn, c_list, NULL);
	supported = xcb_get_property_reply(w->conn, c_supported, NULL);

	if (!check || !active || !stacking || !list || !supported)
		r = -EPIPE;
	else if ((rs->wm = wm_is_alive(w, dp_x11w_prop_u32(check, 0, 0)))) {
		note_supported(w, rs, supported);
		rs->active = dp_x11w_prop_u32(active, 0, XCB_NONE);
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
		return dp_x11w_lost_connection(err);
	if (r < 0)
		return dp_error_set(err, r, "out of memory reading the window list");
	return r;
}

/* ---- windows: one pipelined batch ---- */

static void send_window_requests(struct dp_x11_windows *w, bool wm, xcb_window_t win, struct win_cookies *c)
{
	c->net_name = dp_x11w_get_prop(w, win, w->atoms[A_NET_WM_NAME], w->atoms[A_UTF8_STRING], 64);
	c->name = dp_x11w_get_prop(w, win, XCB_ATOM_WM_NAME, XCB_GET_PROPERTY_TYPE_ANY, 64);
	c->class_ = dp_x11w_get_prop(w, win, XCB_ATOM_WM_CLASS, XCB_ATOM_STRING, 64);
	c->pid = dp_x11w_get_prop(w, win, w->atoms[A_NET_WM_PID], XCB_ATOM_CARDINAL, 1);
	c->desktop = dp_x11w_get_prop(w, win, w->atoms[A_NET_WM_DESKTOP], XCB_ATOM_CARDINAL, 1);
	c->net_state = dp_x11w_get_prop(w, win, w->atoms[A_NET_WM_STATE], XCB_ATOM_ATOM, 32);
	c->wm_state = dp_x11w_get_prop(w, win, w->atoms[A_WM_STATE], w->atoms[A_WM_STATE], 2);
	c->extents = dp_x11w_get_prop(w, win, w->atoms[A_NET_FRAME_EXTENTS], XCB_ATOM_CARDINAL, 4);
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
	uint32_t desktop = dp_x11w_prop_u32(r->desktop, 0, UINT32_MAX);

	out->info.pid = (int32_t)dp_x11w_prop_u32(r->pid, 0, 0);
	out->info.desktop = desktop == UINT32_MAX ? -1 : (int32_t)desktop;
	out->info.minimized = dp_x11w_prop_has_atom(r->net_state, w->atoms[A_NET_WM_STATE_HIDDEN]) ||
			      dp_x11w_prop_u32(r->wm_state, 0, 0) == ICONIC_STATE;
	out->info.maximized = dp_x11w_prop_has_atom(r->net_state, w->atoms[A_NET_WM_STATE_MAXIMIZED_VERT]) &&
			      dp_x11w_prop_has_atom(r->net_state, w->atoms[A_NET_WM_STATE_MAXIMIZED_HORZ]);
}

/* The client area in root coordinates, and how far the outer corner
 * (frame and border included) lies up and left of it. */
static void fill_geometry(const struct win_replies *r, struct win *out)
{
	int32_t border = r->geometry->border_width;

	out->info.geometry = (struct dp_rect){ r->origin->dst_x, r->origin->dst_y, r->geometry->width,
					       r->geometry->height };
	out->frame_left = (int32_t)dp_x11w_prop_u32(r->extents, 0, 0) + border;
	out->frame_right = (int32_t)dp_x11w_prop_u32(r->extents, 1, 0) + border;
	out->frame_top = (int32_t)dp_x11w_prop_u32(r->extents, 2, 0) + border;
	out->frame_bottom = (int32_t)dp_x11w_prop_u32(r->extents, 3, 0) + border;
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
		return dp_x11w_lost_connection(err);
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

int dp_x11w_collect_windows(struct dp_x11_windows *w, struct root_state *rs, struct win **out, size_t *n,
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

int dp_x11w_refresh(struct dp_x11_windows *w, const struct root_state *rs, struct win *win, struct dp_error *err)
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

int dp_x11w_matcher_init(struct matcher *mt, const struct dp_window_match *m, struct dp_error *err)
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

void dp_x11w_matcher_fini(struct matcher *mt)
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

int dp_x11w_find_one(const struct matcher *mt, const struct win *wins, size_t n, size_t *found, struct dp_error *err)
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
	r = dp_x11w_matcher_init(&mt, match, err);
	if (r < 0)
		return r;
	r = dp_x11w_collect_windows(w, &rs, &wins, &n, err);
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
	dp_x11w_root_state_clear(&rs);
	dp_x11w_matcher_fini(&mt);
	return r;
}

