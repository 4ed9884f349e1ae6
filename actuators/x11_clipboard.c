#define DP_LOG_SUBSYS "clipboard"

#include "actuators/x11_clipboard.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "engine/clock.h"
#include "engine/log.h"

enum atom_index { CLIPBOARD, TARGETS, UTF8_STRING, TEXT, TEXT_PLAIN_UTF8, TIMESTAMP_PROP, N_ATOMS };

static const char *const atom_names[N_ATOMS] = {
	"CLIPBOARD", "TARGETS", "UTF8_STRING", "TEXT", "text/plain;charset=utf-8", "_DESKPILOT_TIMESTAMP",
};

struct dp_x11_clipboard {
	xcb_connection_t *conn;
	xcb_window_t window; /* our invisible owner window */
	xcb_atom_t atoms[N_ATOMS];
	dp_x11_event_fn other;
	void *other_data;
	char *text;
	size_t len;
	xcb_timestamp_t owned_since;
	bool fetched;
};

int dp_x11_clipboard_create(struct dp_x11_clipboard **out, xcb_connection_t *conn, xcb_window_t root,
			    dp_x11_event_fn other, void *other_data, struct dp_error *err)
{
	struct dp_x11_clipboard *cb = calloc(1, sizeof(*cb));
	xcb_intern_atom_cookie_t ck[N_ATOMS];

	if (!cb)
		return dp_error_set(err, -ENOMEM, "out of memory");
	cb->conn = conn;
	cb->other = other;
	cb->other_data = other_data;
	for (int i = 0; i < N_ATOMS; i++)
		ck[i] = xcb_intern_atom(conn, 0, (uint16_t)strlen(atom_names[i]), atom_names[i]);
	for (int i = 0; i < N_ATOMS; i++) {
		xcb_intern_atom_reply_t *r = xcb_intern_atom_reply(conn, ck[i], NULL);

		if (!r) {
			free(cb);
			return dp_error_set(err, -EPIPE, "the X server did not answer");
		}
		cb->atoms[i] = r->atom;
		free(r);
	}
	cb->window = xcb_generate_id(conn);
	xcb_create_window(conn, XCB_COPY_FROM_PARENT, cb->window, root, -10, -10, 1, 1, 0,
			  XCB_WINDOW_CLASS_INPUT_ONLY, XCB_COPY_FROM_PARENT, XCB_CW_EVENT_MASK,
			  (uint32_t[]){ XCB_EVENT_MASK_PROPERTY_CHANGE });
	*out = cb;
	return 0;
}

void dp_x11_clipboard_destroy(struct dp_x11_clipboard *cb)
{
	if (!cb)
		return;
	if (!xcb_connection_has_error(cb->conn))
		xcb_destroy_window(cb->conn, cb->window);
	free(cb->text);
	free(cb);
}

/* Selection ownership wants a real server time, not CurrentTime: an
 * empty append to our own property makes the server tell us the time. */
static int server_time(struct dp_x11_clipboard *cb, xcb_timestamp_t *out)
{
	xcb_generic_event_t *ev;

	xcb_change_property(cb->conn, XCB_PROP_MODE_APPEND, cb->window, cb->atoms[TIMESTAMP_PROP], XCB_ATOM_STRING,
			    8, 0, "");
	xcb_flush(cb->conn);
	while ((ev = xcb_wait_for_event(cb->conn))) {
		if ((ev->response_type & 0x7f) == XCB_PROPERTY_NOTIFY &&
		    ((xcb_property_notify_event_t *)ev)->window == cb->window) {
			*out = ((xcb_property_notify_event_t *)ev)->time;
			free(ev);
			return 0;
		}
		if (!dp_x11_clipboard_handle_event(cb, ev) && cb->other)
			cb->other(cb->other_data, ev);
		free(ev);
	}
	return -EPIPE;
}

int dp_x11_clipboard_offer(struct dp_x11_clipboard *cb, const char *text, struct dp_error *err)
{
	xcb_atom_t selections[2] = { cb->atoms[CLIPBOARD], XCB_ATOM_PRIMARY };
	char *copy = strdup(text);

	if (!copy)
		return dp_error_set(err, -ENOMEM, "out of memory");
	free(cb->text);
	cb->text = copy;
	cb->len = strlen(text);
	cb->fetched = false;
	if (server_time(cb, &cb->owned_since) < 0)
		return dp_error_set(err, -EPIPE, "lost the X connection while taking the clipboard");
	for (int i = 0; i < 2; i++) {
		xcb_get_selection_owner_reply_t *owner;

		xcb_set_selection_owner(cb->conn, cb->window, selections[i], cb->owned_since);
		owner = xcb_get_selection_owner_reply(cb->conn, xcb_get_selection_owner(cb->conn, selections[i]), NULL);
		if (!owner || owner->owner != cb->window) {
			free(owner);
			return dp_error_set(err, -EBUSY, "could not take the %s selection",
					    i == 0 ? "CLIPBOARD" : "PRIMARY");
		}
		free(owner);
	}
	return 0;
}

static bool is_text_target(const struct dp_x11_clipboard *cb, xcb_atom_t target)
{
	return target == cb->atoms[UTF8_STRING] || target == cb->atoms[TEXT] ||
	       target == cb->atoms[TEXT_PLAIN_UTF8];
}

static void serve(struct dp_x11_clipboard *cb, const xcb_selection_request_event_t *req)
{
	xcb_atom_t property = req->property ? req->property : req->target; /* pre-ICCCM clients */
	xcb_selection_notify_event_t note = {
		.response_type = XCB_SELECTION_NOTIFY,
		.time = req->time,
		.requestor = req->requestor,
		.selection = req->selection,
		.target = req->target,
		.property = property,
	};

	if (req->target == cb->atoms[TARGETS]) {
		xcb_atom_t targets[] = { cb->atoms[TARGETS], cb->atoms[UTF8_STRING], cb->atoms[TEXT],
					 cb->atoms[TEXT_PLAIN_UTF8] };

		xcb_change_property(cb->conn, XCB_PROP_MODE_REPLACE, req->requestor, property, XCB_ATOM_ATOM, 32,
				    sizeof(targets) / sizeof(targets[0]), targets);
	} else if (is_text_target(cb, req->target) && cb->text) {
		xcb_change_property(cb->conn, XCB_PROP_MODE_REPLACE, req->requestor, property, cb->atoms[UTF8_STRING], 8,
				    (uint32_t)cb->len, cb->text);
		cb->fetched = true;
	} else {
		note.property = XCB_NONE; /* a target we do not offer (STRING: not all text is Latin-1) */
	}
	xcb_send_event(cb->conn, 0, req->requestor, XCB_EVENT_MASK_NO_EVENT, (const char *)&note);
	xcb_flush(cb->conn);
}

bool dp_x11_clipboard_handle_event(struct dp_x11_clipboard *cb, const xcb_generic_event_t *ev)
{
	uint8_t type = ev->response_type & 0x7f;

	if (type == XCB_SELECTION_REQUEST && ((const xcb_selection_request_event_t *)ev)->owner == cb->window) {
		serve(cb, (const xcb_selection_request_event_t *)ev);
		return true;
	}
	if (type == XCB_SELECTION_CLEAR && ((const xcb_selection_clear_event_t *)ev)->owner == cb->window) {
		dp_log_debug("another client took the selection");
		return true;
	}
	return type == XCB_PROPERTY_NOTIFY && ((const xcb_property_notify_event_t *)ev)->window == cb->window;
}

int dp_x11_clipboard_wait_fetched(struct dp_x11_clipboard *cb, int timeout_ms)
{
	int64_t end = dp_now_ns() + (int64_t)timeout_ms * DP_NSEC_PER_MSEC;

	xcb_flush(cb->conn);
	while (!cb->fetched) {
		struct pollfd pfd = { .fd = xcb_get_file_descriptor(cb->conn), .events = POLLIN };
		xcb_generic_event_t *ev;
		int64_t left;

		while ((ev = xcb_poll_for_event(cb->conn))) {
			if (!dp_x11_clipboard_handle_event(cb, ev) && cb->other)
				cb->other(cb->other_data, ev);
			free(ev);
		}
		if (cb->fetched)
			break;
		if (xcb_connection_has_error(cb->conn))
			return -EPIPE;
		left = (end - dp_now_ns()) / DP_NSEC_PER_MSEC;
		if (left <= 0)
			return -ETIMEDOUT;
		poll(&pfd, 1, (int)left + 1);
	}
	return 0;
}
