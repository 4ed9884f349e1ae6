#define DP_LOG_SUBSYS "keymap"

#include "actuators/x11_mapwatch.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <xcb/record.h>
#include <xcb/xcbext.h>

#include "engine/clock.h"
#include "engine/log.h"

#define XKB_GET_MAP 8 /* the XKEYBOARD minor opcode of XkbGetMap */

struct dp_x11_mapwatch {
	xcb_connection_t *conn;     /* ours, for the marker and the context */
	xcb_connection_t *rec_conn; /* carries the RECORD stream */
	xcb_record_context_t context;
	unsigned int stream_sequence;
	uint32_t own_base;          /* our client's resource-id base */
	uint32_t resource_mask;
	uint64_t changes;           /* map changes made */
	uint64_t marker_seen;       /* the change whose marker the stream has shown */
	uint32_t fetched_by[16];    /* clients that fetched since that marker */
	unsigned n_fetched;
};

static int xkb_opcode(xcb_connection_t *conn, uint8_t *opcode)
{
	xcb_query_extension_reply_t *r =
		xcb_query_extension_reply(conn, xcb_query_extension(conn, 9, "XKEYBOARD"), NULL);
	int present = r && r->present;

	if (present)
		*opcode = r->major_opcode;
	free(r);
	return present ? 0 : -ENOTSUP;
}

int dp_x11_mapwatch_create(struct dp_x11_mapwatch **out, xcb_connection_t *conn, const char *display,
			   struct dp_error *err)
{
	const xcb_query_extension_reply_t *ext = xcb_get_extension_data(conn, &xcb_record_id);
	xcb_record_client_spec_t all = XCB_RECORD_CS_ALL_CLIENTS;
	xcb_record_range_t ranges[2];
	struct dp_x11_mapwatch *w;
	xcb_generic_error_t *xerr;
	uint8_t xkb = 0;

	if (!ext || !ext->present)
		return dp_error_set(err, -ENOTSUP, "the X server has no RECORD extension");
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->conn = conn;
	w->own_base = xcb_get_setup(conn)->resource_id_base;
	w->resource_mask = xcb_get_setup(conn)->resource_id_mask;
	w->rec_conn = xcb_connect(display, NULL);
	if (xcb_connection_has_error(w->rec_conn)) {
		dp_x11_mapwatch_destroy(w);
		return dp_error_set(err, -ECONNREFUSED, "cannot open a second connection to %s for RECORD", display);
	}
	memset(ranges, 0, sizeof(ranges));
	ranges[0].core_requests.first = XCB_GET_KEYBOARD_MAPPING;
	ranges[0].core_requests.last = XCB_GET_KEYBOARD_MAPPING;
	int n_ranges = 1;
	if (xkb_opcode(conn, &xkb) == 0) {
		ranges[1].ext_requests.major.first = xkb;
		ranges[1].ext_requests.major.last = xkb;
		ranges[1].ext_requests.minor.first = XKB_GET_MAP;
		ranges[1].ext_requests.minor.last = XKB_GET_MAP;
		n_ranges = 2;
	}
	w->context = xcb_generate_id(conn);
	xerr = xcb_request_check(conn, xcb_record_create_context_checked(conn, w->context, 0, 1, (uint32_t)n_ranges,
									   &all, ranges));
	if (xerr) {
		free(xerr);
		w->context = 0;
		dp_x11_mapwatch_destroy(w);
		return dp_error_set(err, -EIO, "the X server refused a RECORD context");
	}
	w->stream_sequence = xcb_record_enable_context(w->rec_conn, w->context).sequence;
	xcb_flush(w->rec_conn);
	*out = w;
	return 0;
}

void dp_x11_mapwatch_destroy(struct dp_x11_mapwatch *w)
{
	if (!w)
		return;
	if (w->context && !xcb_connection_has_error(w->conn)) {
		xcb_record_disable_context(w->conn, w->context);
		xcb_record_free_context(w->conn, w->context);
		xcb_flush(w->conn);
	}
	if (w->rec_conn)
		xcb_disconnect(w->rec_conn);
	free(w);
}

void dp_x11_mapwatch_changed(struct dp_x11_mapwatch *w)
{
	const xcb_setup_t *setup = xcb_get_setup(w->conn);

	/* Our own (tiny) fetch is the marker: the server handles it after
	 * our change, so what the stream shows after it came after too. */
	w->changes++;
	xcb_discard_reply(w->conn, xcb_get_keyboard_mapping(w->conn, setup->min_keycode, 1).sequence);
	xcb_flush(w->conn);
}

static void note_record(struct dp_x11_mapwatch *w, const xcb_record_enable_context_reply_t *r)
{
	uint32_t client = r->xid_base & ~w->resource_mask;

	if (r->category != 1) /* only requests from clients */
		return;
	if (client == w->own_base) {
		/* Markers arrive in the order of the changes. */
		if (w->marker_seen < w->changes) {
			w->marker_seen++;
			w->n_fetched = 0;
		}
		return;
	}
	if (w->marker_seen == w->changes && w->n_fetched < 16)
		w->fetched_by[w->n_fetched++] = client;
}

static bool fetched(const struct dp_x11_mapwatch *w, uint32_t client)
{
	if (w->marker_seen != w->changes)
		return false;
	for (unsigned i = 0; i < w->n_fetched; i++)
		if (!client || w->fetched_by[i] == client)
			return true;
	return false;
}

int dp_x11_mapwatch_wait(struct dp_x11_mapwatch *w, uint32_t client_window, int timeout_ms)
{
	uint32_t client = client_window & ~w->resource_mask;
	int64_t end = dp_now_ns() + (int64_t)timeout_ms * DP_NSEC_PER_MSEC;

	/* The key events typed so far must reach the client to be read. */
	xcb_flush(w->conn);
	for (;;) {
		void *reply = NULL;
		xcb_generic_error_t *xerr = NULL;
		struct pollfd pfd = { .fd = xcb_get_file_descriptor(w->rec_conn), .events = POLLIN };
		int64_t left;

		while (xcb_poll_for_reply(w->rec_conn, w->stream_sequence, &reply, &xerr) && (reply || xerr)) {
			if (reply)
				note_record(w, reply);
			free(reply);
			free(xerr);
			reply = NULL;
			xerr = NULL;
		}
		if (fetched(w, client))
			return 0;
		if (xcb_connection_has_error(w->rec_conn))
			return -EPIPE;
		left = (end - dp_now_ns()) / DP_NSEC_PER_MSEC;
		if (left <= 0)
			return -ETIMEDOUT;
		poll(&pfd, 1, (int)left + 1);
	}
}
