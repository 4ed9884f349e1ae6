#define DP_LOG_SUBSYS "portal"

#include "capture/portal_session.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#include "engine/clock.h"
#include "engine/log.h"

#define PORTAL_NAME "org.freedesktop.portal.Desktop"
#define PORTAL_PATH "/org/freedesktop/portal/desktop"
#define SCREENCAST "org.freedesktop.portal.ScreenCast"
#define REMOTEDESKTOP "org.freedesktop.portal.RemoteDesktop"
#define REQUEST "org.freedesktop.portal.Request"

#define DEFAULT_TIMEOUT_MS 120000
/* With a restore token the portal answers at once; a Start that takes
 * longer is showing the dialog again. */
#define RESTORE_ANSWER_MS 5000

/* Portal enums (org.freedesktop.portal.ScreenCast / RemoteDesktop). */
#define SOURCE_MONITOR 1u
#define DEVICE_KEYBOARD 1u
#define DEVICE_POINTER 2u
#define CURSOR_METADATA 4u
#define PERSIST_UNTIL_REVOKED 2u

struct dp_portal_session {
	sd_bus *bus;
	char sender[64]; /* unique name as request paths spell it */
	unsigned next_token;
	char *session;
	bool input;
	uint32_t screencast_version;
	uint32_t node;
	int32_t width, height;
	int fd;
	char restore_token[256];
	/* The pending request. */
	bool answered;
	uint32_t response;
	sd_bus_message *results;
};

static int on_response(sd_bus_message *m, void *data, sd_bus_error *ret_error)
{
	struct dp_portal_session *s = data;

	(void)ret_error;
	if (sd_bus_message_read(m, "u", &s->response) < 0)
		s->response = 2;
	s->results = sd_bus_message_ref(m);
	s->answered = true;
	return 0;
}

/* Calls method with its arguments appended by `append`, whose options
 * dictionary is left open for the handle token; then waits for the
 * Request's Response.  The results dictionary is left in s->results. */
typedef int (*append_fn)(sd_bus_message *m, const struct dp_portal_session *s, const void *arg);

static int request(struct dp_portal_session *s, const char *iface, const char *method, append_fn append,
		   const void *arg, int timeout_ms, const struct dp_portal_options *consent, struct dp_error *err)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *m = NULL, *reply = NULL;
	sd_bus_slot *slot = NULL;
	char token[32], path[256];
	int64_t deadline;
	int r;

	snprintf(token, sizeof(token), "deskpilot%u", ++s->next_token);
	snprintf(path, sizeof(path), PORTAL_PATH "/request/%s/%s", s->sender, token);
	s->answered = false;
	s->results = sd_bus_message_unref(s->results);
	/* Subscribe before calling, so a fast answer is not missed. */
	r = sd_bus_match_signal(s->bus, &slot, PORTAL_NAME, path, REQUEST, "Response", on_response, s);
	if (r >= 0)
		r = sd_bus_message_new_method_call(s->bus, &m, PORTAL_NAME, PORTAL_PATH, iface, method);
	if (r >= 0)
		r = append(m, s, arg);
	if (r >= 0)
		r = sd_bus_message_append(m, "{sv}", "handle_token", "s", token);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r >= 0)
		r = sd_bus_call(s->bus, m, 0, &e, &reply);
	if (r < 0) {
		r = dp_error_set(err, r, "%s.%s: %s", iface, method, e.message ? e.message : strerror(-r));
		goto out;
	}
	if (consent && consent->waiting_for_consent)
		consent->waiting_for_consent(consent->data);
	deadline = dp_now_ns() + (int64_t)timeout_ms * 1000000;
	while (!s->answered) {
		int64_t left = deadline - dp_now_ns();

		r = sd_bus_process(s->bus, NULL);
		if (r < 0) {
			r = dp_error_set(err, r, "the session bus: %s", strerror(-r));
			goto out;
		}
		if (r > 0)
			continue;
		if (left <= 0) {
			r = dp_error_set(err, -ETIMEDOUT, "%s.%s: no answer from the portal within %d s", iface,
					 method, timeout_ms / 1000);
			goto out;
		}
		sd_bus_wait(s->bus, (uint64_t)left / 1000);
	}
	/* 0 success, 1 the user cancelled, 2 ended otherwise. */
	if (s->response == 1)
		r = dp_error_set(err, -EACCES, "%s.%s: the user declined to share the screen", iface, method);
	else if (s->response != 0)
		r = dp_error_set(err, -EACCES, "%s.%s: the portal refused (response %u)", iface, method, s->response);
	else
		r = sd_bus_message_enter_container(s->results, 'a', "{sv}") < 0 ? -EBADMSG : 0;
out:
	sd_bus_slot_unref(slot);
	sd_bus_message_unref(m);
	sd_bus_message_unref(reply);
	sd_bus_error_free(&e);
	return r;
}

/* Finds key in the open results dictionary and enters its variant; after
 * reading the value, leave_result() steps back out to the dictionary. */
static bool find_result(sd_bus_message *results, const char *key, const char *type)
{
	const char *k;

	sd_bus_message_rewind(results, false);
	while (sd_bus_message_enter_container(results, 'e', "sv") > 0) {
		if (sd_bus_message_read(results, "s", &k) >= 0 && strcmp(k, key) == 0 &&
		    sd_bus_message_enter_container(results, 'v', type) > 0)
			return true;
		sd_bus_message_skip(results, "v");
		sd_bus_message_exit_container(results);
	}
	return false;
}

static void leave_result(sd_bus_message *results)
{
	sd_bus_message_exit_container(results); /* the variant */
	sd_bus_message_exit_container(results); /* the dictionary entry */
}

static int append_create(sd_bus_message *m, const struct dp_portal_session *s, const void *arg)
{
	(void)s, (void)arg;
	return sd_bus_message_open_container(m, 'a', "{sv}") < 0 ? -ENOMEM
		: sd_bus_message_append(m, "{sv}", "session_handle_token", "s", "deskpilot");
}

static int append_select_devices(sd_bus_message *m, const struct dp_portal_session *s, const void *arg)
{
	int r;

	(void)arg;
	r = sd_bus_message_append(m, "o", s->session);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "{sv}");
	if (r >= 0)
		r = sd_bus_message_append(m, "{sv}", "types", "u", DEVICE_KEYBOARD | DEVICE_POINTER);
	return r;
}

static int append_select_sources(sd_bus_message *m, const struct dp_portal_session *s, const void *arg)
{
	const struct dp_portal_options *o = arg;
	int r;

	r = sd_bus_message_append(m, "o", s->session);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "{sv}");
	if (r >= 0)
		r = sd_bus_message_append(m, "{sv}{sv}{sv}", "types", "u", SOURCE_MONITOR, "multiple", "b", 0,
					  "cursor_mode", "u", CURSOR_METADATA);
	/* Consent that outlives the session: ScreenCast version 4, and not for
	 * remote-desktop sessions in this portal generation. */
	if (r >= 0 && s->screencast_version >= 4 && !o->input) {
		r = sd_bus_message_append(m, "{sv}", "persist_mode", "u", PERSIST_UNTIL_REVOKED);
		if (r >= 0 && o->restore_token && *o->restore_token)
			r = sd_bus_message_append(m, "{sv}", "restore_token", "s", o->restore_token);
	}
	return r;
}

static int append_start(sd_bus_message *m, const struct dp_portal_session *s, const void *arg)
{
	int r;

	(void)arg;
	r = sd_bus_message_append(m, "os", s->session, "");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "{sv}");
	return r;
}

static uint32_t interface_version(sd_bus *bus, const char *iface)
{
	uint32_t version = 0;
	sd_bus_message *reply = NULL;

	if (sd_bus_get_property(bus, PORTAL_NAME, PORTAL_PATH, iface, "version", NULL, &reply, "u") >= 0)
		sd_bus_message_read(reply, "u", &version);
	sd_bus_message_unref(reply);
	return version;
}

void dp_portal_versions(uint32_t *screencast, uint32_t *remote_desktop)
{
	sd_bus *bus = NULL;

	*screencast = *remote_desktop = 0;
	if (sd_bus_open_user(&bus) < 0)
		return;
	*screencast = interface_version(bus, SCREENCAST);
	*remote_desktop = interface_version(bus, REMOTEDESKTOP);
	sd_bus_flush_close_unref(bus);
}

static int read_streams(struct dp_portal_session *s, struct dp_error *err)
{
	const char *token;

	if (find_result(s->results, "restore_token", "s")) {
		if (sd_bus_message_read(s->results, "s", &token) >= 0)
			snprintf(s->restore_token, sizeof(s->restore_token), "%s", token);
		leave_result(s->results);
	}
	if (!find_result(s->results, "streams", "a(ua{sv})") ||
	    sd_bus_message_enter_container(s->results, 'a', "(ua{sv})") <= 0 ||
	    sd_bus_message_enter_container(s->results, 'r', "ua{sv}") <= 0 ||
	    sd_bus_message_read(s->results, "u", &s->node) < 0)
		return dp_error_set(err, -EBADMSG, "the portal started the screen cast but named no stream");
	/* The stream's properties: its "size" bounds the input's points. */
	if (sd_bus_message_enter_container(s->results, 'a', "{sv}") > 0) {
		const char *key;

		while (sd_bus_message_enter_container(s->results, 'e', "sv") > 0) {
			if (sd_bus_message_read(s->results, "s", &key) >= 0 && strcmp(key, "size") == 0 &&
			    sd_bus_message_enter_container(s->results, 'v', "(ii)") > 0) {
				sd_bus_message_read(s->results, "(ii)", &s->width, &s->height);
				sd_bus_message_exit_container(s->results);
			} else {
				sd_bus_message_skip(s->results, "v");
			}
			sd_bus_message_exit_container(s->results);
		}
	}
	return 0;
}

static int open_remote(struct dp_portal_session *s, struct dp_error *err)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	int fd = -1, r;

	r = sd_bus_call_method(s->bus, PORTAL_NAME, PORTAL_PATH, SCREENCAST, "OpenPipeWireRemote", &e, &reply, "oa{sv}",
			       s->session, 0);
	if (r >= 0)
		r = sd_bus_message_read(reply, "h", &fd);
	if (r >= 0) {
		/* The fd belongs to the message: keep a copy of our own. */
		s->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		if (s->fd < 0)
			r = -errno;
	}
	if (r < 0)
		r = dp_error_set(err, r, "OpenPipeWireRemote: %s", e.message ? e.message : strerror(-r));
	sd_bus_message_unref(reply);
	sd_bus_error_free(&e);
	return r;
}

int dp_portal_session_create(struct dp_portal_session **out, const struct dp_portal_options *o, struct dp_error *err)
{
	struct dp_portal_session *s = calloc(1, sizeof(*s));
	const char *unique, *session;
	int timeout = o->timeout_ms > 0 ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
	bool unattended_restore = o->restore_token && *o->restore_token && !o->waiting_for_consent;
	int r;

	if (!s)
		return dp_error_set(err, -ENOMEM, "out of memory");
	s->fd = -1;
	s->input = o->input;
	r = sd_bus_open_user(&s->bus);
	if (r < 0) {
		r = dp_error_set(err, r, "cannot connect to the session bus: %s", strerror(-r));
		goto fail;
	}
	s->screencast_version = interface_version(s->bus, SCREENCAST);
	if (!s->screencast_version) {
		r = dp_error_set(err, -ENOENT, "no screen-cast portal (%s on %s) on the session bus: install "
					       "xdg-desktop-portal and a backend for this desktop", SCREENCAST, PORTAL_NAME);
		goto fail;
	}
	if ((r = sd_bus_get_unique_name(s->bus, &unique)) < 0)
		goto fail;
	/* ":1.42" is spelled "1_42" in request paths. */
	snprintf(s->sender, sizeof(s->sender), "%s", unique + 1);
	for (char *p = s->sender; *p; p++)
		if (*p == '.')
			*p = '_';
	r = request(s, o->input ? REMOTEDESKTOP : SCREENCAST, "CreateSession", append_create, NULL, timeout, NULL, err);
	if (r < 0)
		goto fail;
	if (!find_result(s->results, "session_handle", "s") || sd_bus_message_read(s->results, "s", &session) < 0 ||
	    !(s->session = strdup(session))) {
		r = dp_error_set(err, -EBADMSG, "the portal created a session but gave no handle");
		goto fail;
	}
	if (o->input && (r = request(s, REMOTEDESKTOP, "SelectDevices", append_select_devices, NULL, timeout, NULL,
				     err)) < 0)
		goto fail;
	r = request(s, SCREENCAST, "SelectSources", append_select_sources, o, timeout, NULL, err);
	if (r < 0)
		goto fail;
	r = request(s, o->input ? REMOTEDESKTOP : SCREENCAST, "Start", append_start, NULL,
		    unattended_restore ? RESTORE_ANSWER_MS : timeout, o, err);
	if (r == -ETIMEDOUT && unattended_restore) {
		r = dp_error_set(err, -ESTALE, "the portal asks for consent again: the saved permission was revoked "
					       "or has expired. Share the screen once interactively to renew it");
		goto fail;
	}
	if (r < 0 || (r = read_streams(s, err)) < 0 || (r = open_remote(s, err)) < 0)
		goto fail;
	dp_log_info("portal session %s: PipeWire node %u%s", s->session, s->node,
		    s->restore_token[0] ? ", consent saved for next time" : "");
	*out = s;
	return 0;
fail:
	dp_portal_session_destroy(s);
	return r;
}

void dp_portal_session_destroy(struct dp_portal_session *s)
{
	if (!s)
		return;
	if (s->bus && s->session)
		sd_bus_call_method(s->bus, PORTAL_NAME, s->session, "org.freedesktop.portal.Session", "Close", NULL, NULL,
				   "");
	if (s->fd >= 0)
		close(s->fd);
	sd_bus_message_unref(s->results);
	sd_bus_flush_close_unref(s->bus);
	free(s->session);
	free(s);
}

uint32_t dp_portal_session_node(const struct dp_portal_session *s)
{
	return s->node;
}

int dp_portal_session_take_fd(struct dp_portal_session *s)
{
	int fd = s->fd;

	s->fd = -1;
	return fd;
}

const char *dp_portal_session_restore_token(const struct dp_portal_session *s)
{
	return s->restore_token;
}

/* --- input through the RemoteDesktop portal ------------------------------ */

static int notify(struct dp_portal_session *s, const char *method, struct dp_error *err, const char *types, ...)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *m = NULL;
	va_list ap;
	int r;

	if (!s->input)
		return dp_error_set(err, -ENOTSUP, "this portal session was started without input");
	r = sd_bus_message_new_method_call(s->bus, &m, PORTAL_NAME, PORTAL_PATH, REMOTEDESKTOP, method);
	if (r >= 0)
		r = sd_bus_message_append(m, "oa{sv}", s->session, 0);
	if (r >= 0) {
		va_start(ap, types);
		r = sd_bus_message_appendv(m, types, ap);
		va_end(ap);
	}
	if (r >= 0)
		r = sd_bus_call(s->bus, m, 0, &e, NULL);
	if (r < 0)
		r = dp_error_set(err, r, "%s: %s", method, e.message ? e.message : strerror(-r));
	sd_bus_message_unref(m);
	sd_bus_error_free(&e);
	return r < 0 ? r : 0;
}

static int input_move(void *data, double x, double y, struct dp_error *err)
{
	struct dp_portal_session *s = data;

	return notify(s, "NotifyPointerMotionAbsolute", err, "udd", s->node, x, y);
}

static int input_button(void *data, int button, bool pressed, struct dp_error *err)
{
	int code = dp_evdev_button(button);

	if (!code)
		return dp_error_set(err, -EINVAL, "button %d: the portal takes 1 (left), 2 (middle), 3 (right), 8 or 9",
				    button);
	return notify(data, "NotifyPointerButton", err, "iu", code, (uint32_t)pressed);
}

static int input_scroll(void *data, int dx, int dy, struct dp_error *err)
{
	int r = 0;

	/* Axis 0 is vertical, 1 horizontal; steps are wheel clicks. */
	if (dy)
		r = notify(data, "NotifyPointerAxisDiscrete", err, "ui", 0u, dy);
	if (r == 0 && dx)
		r = notify(data, "NotifyPointerAxisDiscrete", err, "ui", 1u, dx);
	return r;
}

static int input_keysym(void *data, uint32_t keysym, bool pressed, struct dp_error *err)
{
	return notify(data, "NotifyKeyboardKeysym", err, "iu", (int32_t)keysym, (uint32_t)pressed);
}

void dp_portal_session_input(struct dp_portal_session *s, struct dp_remote_input *out)
{
	*out = (struct dp_remote_input){
		.name = "the portal",
		.session = s,
		.width = s->width,
		.height = s->height,
		.pointer_move = input_move,
		.pointer_button = input_button,
		.pointer_scroll = input_scroll,
		.keysym = input_keysym,
	};
}
