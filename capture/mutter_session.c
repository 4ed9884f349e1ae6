#define DP_LOG_SUBSYS "mutter"

#include "capture/mutter_session.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#include "engine/clock.h"
#include "engine/log.h"

#define RD_NAME "org.gnome.Mutter.RemoteDesktop"
#define RD_PATH "/org/gnome/Mutter/RemoteDesktop"
#define RD_SESSION RD_NAME ".Session"
#define SC_NAME "org.gnome.Mutter.ScreenCast"
#define SC_PATH "/org/gnome/Mutter/ScreenCast"
#define SC_SESSION SC_NAME ".Session"
#define SC_STREAM SC_NAME ".Stream"

#define START_TIMEOUT_MS 10000

struct dp_mutter_session {
	sd_bus *bus;
	char *rd_session, *sc_session, *stream;
	sd_bus_slot *stream_added, *closed_rd, *transfer;
	uint32_t node;
	int32_t width, height;
	bool closed;
	char *clipboard; /* the text offered, wiped when replaced */
	int reads_served;
};

static int bus_error(struct dp_error *err, int r, const sd_bus_error *e, const char *what)
{
	return dp_error_set(err, r, "%s: %s", what, e && e->message ? e->message : strerror(-r));
}

static int on_stream_added(sd_bus_message *m, void *data, sd_bus_error *ret_error)
{
	struct dp_mutter_session *s = data;

	(void)ret_error;
	if (sd_bus_message_read(m, "u", &s->node) < 0)
		s->node = 0;
	dp_log_debug("stream added: PipeWire node %u", s->node);
	return 0;
}

static int on_closed(sd_bus_message *m, void *data, sd_bus_error *ret_error)
{
	struct dp_mutter_session *s = data;

	(void)m;
	(void)ret_error;
	s->closed = true;
	dp_log_warn("mutter closed the remote-desktop session");
	return 0;
}

/* An application pastes: write the offered text into the fd mutter gives. */
static int on_selection_transfer(sd_bus_message *m, void *data, sd_bus_error *ret_error)
{
	struct dp_mutter_session *s = data;
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	const char *mime = NULL;
	uint32_t serial = 0;
	bool ok = false;
	int fd = -1, r;

	(void)ret_error;
	if (sd_bus_message_read(m, "su", &mime, &serial) < 0)
		return 0;
	r = sd_bus_call_method(s->bus, RD_NAME, s->rd_session, RD_SESSION, "SelectionWrite", &e, &reply, "u", serial);
	if (r >= 0 && sd_bus_message_read(reply, "h", &fd) >= 0 && s->clipboard) {
		size_t left = strlen(s->clipboard);
		const char *p = s->clipboard;

		ok = true;
		while (left > 0) {
			ssize_t n = write(fd, p, left);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				ok = false;
				break;
			}
			p += n;
			left -= (size_t)n;
		}
	} else {
		dp_log_warn("cannot answer a paste (%s): %s", mime, e.message ? e.message : strerror(-r));
	}
	sd_bus_message_unref(reply);
	sd_bus_error_free(&e);
	/* The fd was borrowed from the message: it closes with reply. */
	sd_bus_call_method(s->bus, RD_NAME, s->rd_session, RD_SESSION, "SelectionWriteDone", NULL, NULL, "ub", serial,
			   ok);
	if (ok)
		s->reads_served++;
	return 0;
}

static int call_simple(struct dp_mutter_session *s, const char *path, const char *iface, const char *method,
		       struct dp_error *err)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	int r = sd_bus_call_method(s->bus, RD_NAME, path, iface, method, &e, NULL, "");

	if (r < 0)
		r = bus_error(err, r, &e, method);
	sd_bus_error_free(&e);
	return r;
}

static int create_sessions(struct dp_mutter_session *s, const char *connector, struct dp_error *err)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	char *session_id = NULL;
	const char *path;
	int r;

	r = sd_bus_call_method(s->bus, RD_NAME, RD_PATH, RD_NAME, "CreateSession", &e, &reply, "");
	if (r < 0) {
		if (sd_bus_error_has_name(&e, SD_BUS_ERROR_SERVICE_UNKNOWN) ||
		    sd_bus_error_has_name(&e, SD_BUS_ERROR_NAME_HAS_NO_OWNER))
			r = dp_error_set(err, -ENOENT,
					 "no GNOME remote-desktop API on the session bus (%s): is this a GNOME "
					 "(mutter) session, and DBUS_SESSION_BUS_ADDRESS its bus?", RD_NAME);
		else
			r = bus_error(err, r, &e, "RemoteDesktop.CreateSession");
		goto out;
	}
	if ((r = sd_bus_message_read(reply, "o", &path)) < 0 || !(s->rd_session = strdup(path)))
		goto out;
	reply = sd_bus_message_unref(reply);
	r = sd_bus_get_property_string(s->bus, RD_NAME, s->rd_session, RD_SESSION, "SessionId", &e, &session_id);
	if (r < 0) {
		r = bus_error(err, r, &e, "RemoteDesktop.Session.SessionId");
		goto out;
	}
	r = sd_bus_call_method(s->bus, SC_NAME, SC_PATH, SC_NAME, "CreateSession", &e, &reply, "a{sv}", 1,
			       "remote-desktop-session-id", "s", session_id);
	if (r < 0) {
		r = bus_error(err, r, &e, "ScreenCast.CreateSession");
		goto out;
	}
	if ((r = sd_bus_message_read(reply, "o", &path)) < 0 || !(s->sc_session = strdup(path)))
		goto out;
	reply = sd_bus_message_unref(reply);
	/* cursor-mode 2: the pointer as stream metadata, not drawn into frames. */
	r = sd_bus_call_method(s->bus, SC_NAME, s->sc_session, SC_SESSION, "RecordMonitor", &e, &reply, "sa{sv}",
			       connector ? connector : "", 1, "cursor-mode", "u", 2u);
	if (r < 0) {
		r = bus_error(err, r, &e, "ScreenCast.Session.RecordMonitor");
		goto out;
	}
	if ((r = sd_bus_message_read(reply, "o", &path)) < 0 || !(s->stream = strdup(path)))
		goto out;
	r = 0;
out:
	if (r == -ENOMEM || (r < 0 && !err->message[0]))
		dp_error_set(err, r, "talking to mutter: %s", strerror(-r));
	free(session_id);
	sd_bus_message_unref(reply);
	sd_bus_error_free(&e);
	return r;
}

/* The stream's size: its "Parameters" property holds "size" (ii). */
static void read_stream_size(struct dp_mutter_session *s)
{
	sd_bus_message *reply = NULL;
	const char *key;
	int r;

	r = sd_bus_get_property(s->bus, SC_NAME, s->stream, SC_STREAM, "Parameters", NULL, &reply, "a{sv}");
	if (r < 0 || sd_bus_message_enter_container(reply, 'a', "{sv}") < 0)
		goto out;
	while (sd_bus_message_enter_container(reply, 'e', "sv") > 0) {
		if (sd_bus_message_read(reply, "s", &key) < 0)
			break;
		if (strcmp(key, "size") == 0 && sd_bus_message_enter_container(reply, 'v', "(ii)") > 0) {
			sd_bus_message_read(reply, "(ii)", &s->width, &s->height);
			sd_bus_message_exit_container(reply);
		} else {
			sd_bus_message_skip(reply, "v");
		}
		sd_bus_message_exit_container(reply);
	}
out:
	sd_bus_message_unref(reply);
}

static int wait_for_node(struct dp_mutter_session *s, struct dp_error *err)
{
	int64_t deadline = dp_now_ns() + (int64_t)START_TIMEOUT_MS * 1000000;

	while (!s->node && !s->closed) {
		int64_t left = deadline - dp_now_ns();
		int r = sd_bus_process(s->bus, NULL);

		if (r < 0)
			return dp_error_set(err, r, "the session bus: %s", strerror(-r));
		if (r > 0)
			continue;
		if (left <= 0)
			return dp_error_set(err, -ETIMEDOUT, "mutter started the session but announced no PipeWire "
							     "stream within %d ms: is pipewire running for this user?",
					    START_TIMEOUT_MS);
		sd_bus_wait(s->bus, (uint64_t)left / 1000);
	}
	if (s->closed)
		return dp_error_set(err, -ECONNRESET, "mutter closed the session while starting it");
	return 0;
}

bool dp_mutter_available(void)
{
	sd_bus *bus = NULL;
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	int has = 0;

	if (sd_bus_open_user(&bus) >= 0 &&
	    sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
			       "NameHasOwner", &e, &reply, "s", RD_NAME) >= 0)
		sd_bus_message_read(reply, "b", &has);
	sd_bus_message_unref(reply);
	sd_bus_error_free(&e);
	sd_bus_flush_close_unref(bus);
	return has;
}

int dp_mutter_session_create(struct dp_mutter_session **out, const char *connector, struct dp_error *err)
{
	struct dp_mutter_session *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return dp_error_set(err, -ENOMEM, "out of memory");
	r = sd_bus_open_user(&s->bus);
	if (r < 0) {
		r = dp_error_set(err, r, "cannot connect to the session bus: %s (is DBUS_SESSION_BUS_ADDRESS set?)",
				 strerror(-r));
		goto fail;
	}
	r = create_sessions(s, connector, err);
	if (r < 0)
		goto fail;
	r = sd_bus_match_signal(s->bus, &s->stream_added, SC_NAME, s->stream, SC_STREAM, "PipeWireStreamAdded",
				on_stream_added, s);
	if (r >= 0)
		r = sd_bus_match_signal(s->bus, &s->closed_rd, RD_NAME, s->rd_session, RD_SESSION, "Closed", on_closed,
					s);
	if (r >= 0)
		r = sd_bus_match_signal(s->bus, &s->transfer, RD_NAME, s->rd_session, RD_SESSION, "SelectionTransfer",
					on_selection_transfer, s);
	if (r < 0) {
		r = dp_error_set(err, r, "cannot watch mutter's signals: %s", strerror(-r));
		goto fail;
	}
	/* Starting the remote-desktop session starts the screen cast too. */
	r = call_simple(s, s->rd_session, RD_SESSION, "Start", err);
	if (r < 0)
		goto fail;
	r = wait_for_node(s, err);
	if (r < 0)
		goto fail;
	read_stream_size(s);
	dp_log_info("session %s: monitor %s as PipeWire node %u (%dx%d)", s->rd_session,
		    connector && *connector ? connector : "(primary)", s->node, s->width, s->height);
	*out = s;
	return 0;
fail:
	dp_mutter_session_destroy(s);
	return r;
}

void dp_mutter_session_destroy(struct dp_mutter_session *s)
{
	if (!s)
		return;
	if (s->bus && s->rd_session && !s->closed)
		sd_bus_call_method(s->bus, RD_NAME, s->rd_session, RD_SESSION, "Stop", NULL, NULL, "");
	sd_bus_slot_unref(s->stream_added);
	sd_bus_slot_unref(s->closed_rd);
	sd_bus_slot_unref(s->transfer);
	sd_bus_flush_close_unref(s->bus);
	if (s->clipboard) {
		explicit_bzero(s->clipboard, strlen(s->clipboard));
		free(s->clipboard);
	}
	free(s->rd_session);
	free(s->sc_session);
	free(s->stream);
	free(s);
}

uint32_t dp_mutter_session_node(const struct dp_mutter_session *s)
{
	return s->node;
}

void dp_mutter_session_size(const struct dp_mutter_session *s, int32_t *width, int32_t *height)
{
	*width = s->width;
	*height = s->height;
}

static int check_open(struct dp_mutter_session *s, struct dp_error *err)
{
	sd_bus_process(s->bus, NULL);
	if (s->closed)
		return dp_error_set(err, -ENOTCONN, "mutter closed the remote-desktop session");
	return 0;
}

/* Input notifications are fire-and-forget on the wire, but a call lets
 * mutter's error (a stopped session, a bad argument) reach the caller. */
static int notify(struct dp_mutter_session *s, const char *method, struct dp_error *err, const char *types, ...)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *m = NULL, *reply = NULL;
	va_list ap;
	int r = check_open(s, err);

	if (r < 0)
		return r;
	r = sd_bus_message_new_method_call(s->bus, &m, RD_NAME, s->rd_session, RD_SESSION, method);
	if (r >= 0) {
		va_start(ap, types);
		r = sd_bus_message_appendv(m, types, ap);
		va_end(ap);
	}
	if (r >= 0)
		r = sd_bus_call(s->bus, m, 0, &e, &reply);
	if (r < 0)
		r = bus_error(err, r, &e, method);
	sd_bus_message_unref(m);
	sd_bus_message_unref(reply);
	sd_bus_error_free(&e);
	return r < 0 ? r : 0;
}

int dp_mutter_pointer_move(struct dp_mutter_session *s, double x, double y, struct dp_error *err)
{
	return notify(s, "NotifyPointerMotionAbsolute", err, "sdd", s->stream, x, y);
}

int dp_mutter_pointer_button(struct dp_mutter_session *s, int button, bool pressed, struct dp_error *err)
{
	int code = dp_evdev_button(button);

	if (!code)
		return dp_error_set(err, -EINVAL, "button %d: mutter takes 1 (left), 2 (middle), 3 (right), 8 or 9",
				    button);
	return notify(s, "NotifyPointerButton", err, "ib", code, pressed);
}

int dp_mutter_pointer_scroll(struct dp_mutter_session *s, int dx, int dy, struct dp_error *err)
{
	int r = 0;

	/* Axis 0 is vertical, 1 horizontal; steps are wheel clicks. */
	if (dy)
		r = notify(s, "NotifyPointerAxisDiscrete", err, "ui", 0u, dy);
	if (r == 0 && dx)
		r = notify(s, "NotifyPointerAxisDiscrete", err, "ui", 1u, dx);
	return r;
}

int dp_mutter_keysym(struct dp_mutter_session *s, uint32_t keysym, bool pressed, struct dp_error *err)
{
	return notify(s, "NotifyKeyboardKeysym", err, "ub", keysym, pressed);
}

int dp_mutter_clipboard_offer(struct dp_mutter_session *s, const char *text, struct dp_error *err)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	char *copy = strdup(text);
	int r = check_open(s, err);

	if (r < 0 || !copy) {
		free(copy);
		return r < 0 ? r : dp_error_set(err, -ENOMEM, "out of memory");
	}
	if (!s->clipboard) {
		r = sd_bus_call_method(s->bus, RD_NAME, s->rd_session, RD_SESSION, "EnableClipboard", &e, NULL,
				       "a{sv}", 0);
		if (r < 0) {
			free(copy);
			r = bus_error(err, r, &e, "EnableClipboard (mutter 41 or later has it)");
			sd_bus_error_free(&e);
			return r;
		}
	} else {
		explicit_bzero(s->clipboard, strlen(s->clipboard));
		free(s->clipboard);
	}
	s->clipboard = copy;
	s->reads_served = 0;
	r = sd_bus_call_method(s->bus, RD_NAME, s->rd_session, RD_SESSION, "SetSelection", &e, NULL, "a{sv}", 1,
			       "mime-types", "as", 2, "text/plain;charset=utf-8", "text/plain");
	if (r < 0)
		r = bus_error(err, r, &e, "SetSelection");
	sd_bus_error_free(&e);
	return r < 0 ? r : 0;
}

int dp_mutter_session_serve(struct dp_mutter_session *s, int timeout_ms, int reads, struct dp_error *err)
{
	int64_t deadline = dp_now_ns() + (int64_t)timeout_ms * 1000000;

	for (;;) {
		int64_t left = deadline - dp_now_ns();
		int r = sd_bus_process(s->bus, NULL);

		if (r < 0)
			return dp_error_set(err, r, "the session bus: %s", strerror(-r));
		if (s->closed)
			return dp_error_set(err, -ENOTCONN, "mutter closed the remote-desktop session");
		if (r > 0)
			continue;
		if (left <= 0 || s->reads_served >= reads)
			return s->reads_served;
		sd_bus_wait(s->bus, (uint64_t)left / 1000);
	}
}

/* The remote-desktop input interface: the functions above, untyped. */
static int input_move(void *s, double x, double y, struct dp_error *err)
{
	return dp_mutter_pointer_move(s, x, y, err);
}

static int input_button(void *s, int button, bool pressed, struct dp_error *err)
{
	return dp_mutter_pointer_button(s, button, pressed, err);
}

static int input_scroll(void *s, int dx, int dy, struct dp_error *err)
{
	return dp_mutter_pointer_scroll(s, dx, dy, err);
}

static int input_keysym(void *s, uint32_t keysym, bool pressed, struct dp_error *err)
{
	return dp_mutter_keysym(s, keysym, pressed, err);
}

static int input_offer(void *s, const char *text, struct dp_error *err)
{
	return dp_mutter_clipboard_offer(s, text, err);
}

static int input_serve(void *s, int timeout_ms, int reads, struct dp_error *err)
{
	return dp_mutter_session_serve(s, timeout_ms, reads, err);
}

void dp_mutter_session_input(struct dp_mutter_session *s, struct dp_remote_input *out)
{
	*out = (struct dp_remote_input){
		.name = "mutter",
		.session = s,
		.width = s->width,
		.height = s->height,
		.pointer_move = input_move,
		.pointer_button = input_button,
		.pointer_scroll = input_scroll,
		.keysym = input_keysym,
		.clipboard_offer = input_offer,
		.clipboard_serve = input_serve,
	};
}
