#define DP_LOG_SUBSYS "desktop"

#include "actuators/desktop.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "engine/file.h"
#include "engine/log.h"
#if HAVE_WAYLAND
#include "capture/mutter_session.h"
#include "capture/portal_session.h"
#endif

static const char *const backends[] = { "x11", "mutter", "portal", NULL };

static bool wayland_session(const char **what)
{
	const char *wayland = getenv("WAYLAND_DISPLAY"), *type = getenv("XDG_SESSION_TYPE");

	if (wayland && *wayland) {
		*what = "WAYLAND_DISPLAY is set";
		return true;
	}
	if (type && strcmp(type, "wayland") == 0) {
		*what = "XDG_SESSION_TYPE=wayland";
		return true;
	}
	return false;
}

static bool known_backend(const char *name)
{
	for (size_t i = 0; backends[i]; i++)
		if (strcmp(name, backends[i]) == 0)
			return true;
	return false;
}

int dp_desktop_choose(const struct dp_desktop_config *config, char *backend, size_t backend_size, char *why,
		      size_t why_size, struct dp_error *err)
{
	const char *what;

	if (config->backend && *config->backend) {
		if (!known_backend(config->backend))
			return dp_error_set(err, -EINVAL, "unknown backend '%s': use x11, mutter or portal",
					    config->backend);
		snprintf(backend, backend_size, "%s", config->backend);
		snprintf(why, why_size, "asked for");
		return 0;
	}
	if (config->display && *config->display) {
		snprintf(backend, backend_size, "x11");
		snprintf(why, why_size, "an X display (%s) was given", config->display);
		return 0;
	}
	if (wayland_session(&what)) {
#if HAVE_WAYLAND
		uint32_t screencast, remote_desktop;

		if (dp_mutter_available()) {
			snprintf(backend, backend_size, "mutter");
			snprintf(why, why_size, "a Wayland session (%s) with GNOME's remote-desktop API on the session bus",
				 what);
			return 0;
		}
		dp_portal_versions(&screencast, &remote_desktop);
		if (screencast && remote_desktop) {
			snprintf(backend, backend_size, "portal");
			snprintf(why, why_size, "a Wayland session (%s) with xdg-desktop-portal (ScreenCast %u, "
						"RemoteDesktop %u); the user consents in a dialog", what, screencast,
				 remote_desktop);
			return 0;
		}
#endif
		return dp_error_set(err, -ENOTSUP,
				    "this is a Wayland session (%s) but neither GNOME's remote-desktop API nor a "
				    "screen-cast and remote-desktop portal is on the session bus%s. wlroots compositors "
				    "such as sway are not supported yet: they have no RemoteDesktop portal. Use "
				    "--backend x11 to drive only the X clients of XWayland",
				    what, HAVE_WAYLAND ? "" : " (and this build lacks PipeWire or sd-bus)");
	}
	snprintf(backend, backend_size, "x11");
	snprintf(why, why_size, "no Wayland session; X11 on %s", getenv("DISPLAY") ? getenv("DISPLAY") : "$DISPLAY");
	return 0;
}

#if HAVE_WAYLAND
/* Where the portal's consent for the next session is kept. */
static int token_path(char *buf, size_t size)
{
	const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");

	if (state && *state)
		return snprintf(buf, size, "%s/deskpilot/portal-restore-token", state) < (int)size ? 0 : -ENAMETOOLONG;
	if (home && *home)
		return snprintf(buf, size, "%s/.local/state/deskpilot/portal-restore-token", home) < (int)size
			       ? 0 : -ENAMETOOLONG;
	return -ENOENT;
}

static void load_token(char *token, size_t size)
{
	char path[PATH_MAX];
	FILE *f;

	token[0] = '\0';
	if (token_path(path, sizeof(path)) < 0 || !(f = fopen(path, "re")))
		return;
	if (!fgets(token, (int)size, f))
		token[0] = '\0';
	token[strcspn(token, "\r\n")] = '\0';
	fclose(f);
}

static void save_token(const char *token)
{
	char path[PATH_MAX], dir[PATH_MAX];
	struct dp_error err = { 0 };

	if (!*token || token_path(path, sizeof(path)) < 0)
		return;
	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	mkdir(dir, 0700);
	if (dp_file_write_atomic(path, token, strlen(token), &err) < 0)
		dp_log_warn("cannot keep the portal's consent for next time: %s", err.message);
}

static int open_mutter(struct dp_desktop *d, struct dp_capture_config *cc, struct dp_actuator_config *ac,
		       struct dp_error *err)
{
	int r = dp_mutter_session_create(&d->mutter, NULL, err);

	if (r < 0)
		return r;
	cc->backend = "pipewire";
	cc->pipewire.node = dp_mutter_session_node(d->mutter);
	dp_mutter_session_input(d->mutter, &d->remote);
	ac->backend = "remote-desktop";
	ac->remote = &d->remote;
	return 0;
}

static int open_portal(struct dp_desktop *d, unsigned parts, struct dp_capture_config *cc,
		       struct dp_actuator_config *ac, struct dp_error *err)
{
	char token[256];
	struct dp_portal_options o = { .input = parts & DP_DESKTOP_INPUT, .restore_token = token };
	int r;

	load_token(token, sizeof(token));
	r = dp_portal_session_create(&d->portal, &o, err);
	if (r < 0)
		return r;
	save_token(dp_portal_session_restore_token(d->portal));
	cc->backend = "pipewire";
	cc->pipewire.node = dp_portal_session_node(d->portal);
	cc->pipewire.fd = dp_portal_session_take_fd(d->portal);
	cc->pipewire.use_fd = true;
	dp_portal_session_input(d->portal, &d->remote);
	ac->backend = "remote-desktop";
	ac->remote = &d->remote;
	return 0;
}
#endif

int dp_desktop_open(struct dp_desktop *d, const struct dp_desktop_config *config, unsigned parts,
		    struct dp_error *err)
{
	struct dp_capture_config cc = { .backend = "x11", .display = config->display };
	struct dp_actuator_config ac = { .backend = "x11", .display = config->display };
	int r;

	memset(d, 0, sizeof(*d));
	r = dp_desktop_choose(config, d->backend, sizeof(d->backend), d->why, sizeof(d->why), err);
	if (r < 0)
		return r;
	dp_log_debug("backend %s: %s", d->backend, d->why);
	if (strcmp(d->backend, "x11") != 0) {
#if HAVE_WAYLAND
		r = strcmp(d->backend, "mutter") == 0 ? open_mutter(d, &cc, &ac, err) : open_portal(d, parts, &cc, &ac, err);
		if (r < 0) {
			dp_desktop_close(d);
			return r;
		}
#else
		return dp_error_set(err, -ENOTSUP, "this deskpilot was built without PipeWire or sd-bus, so it "
						   "cannot use %s", d->backend);
#endif
	}
	if (parts & DP_DESKTOP_CAPTURE)
		r = dp_capture_create(&d->capture, &cc, err);
	if (r == 0 && (parts & DP_DESKTOP_INPUT))
		r = dp_actuator_create(&d->actuator, &ac, err);
	if (r < 0)
		dp_desktop_close(d);
	return r;
}

void dp_desktop_close(struct dp_desktop *d)
{
	dp_actuator_destroy(d->actuator);
	dp_capture_destroy(d->capture);
#if HAVE_WAYLAND
	dp_mutter_session_destroy(d->mutter);
	dp_portal_session_destroy(d->portal);
#endif
	d->actuator = NULL;
	d->capture = NULL;
	d->mutter = NULL;
	d->portal = NULL;
}
