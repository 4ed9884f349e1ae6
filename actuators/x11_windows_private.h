/* What the two halves of the windows module share: x11_windows_list.c reads
 * the window list, x11_windows.c acts on windows.  Not for other modules:
 * they use actuators/x11_windows.h. */
#pragma once

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xcb/xcb.h>

#include "actuators/x11_windows.h"

#define MAX_WINDOWS 4096 /* longs read from _NET_CLIENT_LIST(_STACKING) */
#define ICONIC_STATE 3   /* ICCCM's WM_STATE / WM_CHANGE_STATE */

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

/* A dp_window_match with its regexes compiled. */
struct matcher {
	const struct dp_window_match *m; /* NULL: every window */
	regex_t title, class_re;
	bool has_title, has_class;
};

int dp_x11w_lost_connection(struct dp_error *err);

/* Properties. */
xcb_get_property_cookie_t dp_x11w_get_prop(struct dp_x11_windows *w, xcb_window_t win, xcb_atom_t prop,
					   xcb_atom_t type, uint32_t longs);
size_t dp_x11w_prop_u32_count(const xcb_get_property_reply_t *r);
uint32_t dp_x11w_prop_u32(const xcb_get_property_reply_t *r, size_t i, uint32_t fallback);
bool dp_x11w_prop_has_atom(const xcb_get_property_reply_t *r, xcb_atom_t atom);

void dp_x11w_root_state_clear(struct root_state *rs);
/* The root's child holding win: a WM's frame, or win itself; 0 if gone. */
xcb_window_t dp_x11w_top_level_of(struct dp_x11_windows *w, xcb_window_t win);
/* The root's child that holds the input focus, or 0 (PointerRoot, None). */
xcb_window_t dp_x11w_focused_top_level(struct dp_x11_windows *w);

/* Every window, bottom of the stack first. */
int dp_x11w_collect_windows(struct dp_x11_windows *w, struct root_state *rs, struct win **out, size_t *n,
			    struct dp_error *err);
/* Reads one window again; -ENOENT if it is gone. */
int dp_x11w_refresh(struct dp_x11_windows *w, const struct root_state *rs, struct win *win, struct dp_error *err);

int dp_x11w_matcher_init(struct matcher *mt, const struct dp_window_match *m, struct dp_error *err);
void dp_x11w_matcher_fini(struct matcher *mt);
/* The index of the one window that matches. */
int dp_x11w_find_one(const struct matcher *mt, const struct win *wins, size_t n, size_t *found, struct dp_error *err);
