#define DP_LOG_SUBSYS "desktop"

#include "actuators/desktop.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "engine/log.h"
#if HAVE_MUTTER
#include "capture/mutter_session.h"
#endif

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

int dp_desktop_choose(const struct dp_desktop_config *config, char *backend, size_t backend_size, char *why,
		      size_t why_size, struct dp_error *err)
{
	const char *what;

	if (config->backend && *config->backend) {
		if (strcmp(config->backend, "x11") != 0 && strcmp(config->backend, "mutter") != 0)
			return dp_error_set(err, -EINVAL, "unknown backend '%s': use x11 or mutter", config->backend);
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
#if HAVE_MUTTER
		if (dp_mutter_available()) {
			snprintf(backend, backend_size, "mutter");
			snprintf(why, why_size, "a Wayland session (%s) with GNOME's remote-desktop API on the session bus",
				 what);
			return 0;
		}
#endif
		return dp_error_set(err, -ENOTSUP,
				    "this is a Wayland session (%s) but GNOME's remote-desktop API "
				    "(org.gnome.Mutter.RemoteDesktop) is not on the session bus%s; deskpilot works on "
				    "GNOME (mutter) Wayland and on X11. wlroots compositors such as sway are not "
				    "supported yet: they have no RemoteDesktop portal. Use --backend x11 to drive "
				    "only the X clients of XWayland",
				    what, HAVE_MUTTER ? "" : " (and this build lacks PipeWire or sd-bus)");
	}
	snprintf(backend, backend_size, "x11");
	snprintf(why, why_size, "no Wayland session; X11 on %s", getenv("DISPLAY") ? getenv("DISPLAY") : "$DISPLAY");
	return 0;
}

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
	if (strcmp(d->backend, "mutter") == 0) {
#if HAVE_MUTTER
		r = dp_mutter_session_create(&d->mutter, NULL, err);
		if (r < 0)
			return r;
		cc.backend = "pipewire";
		cc.pipewire.node = dp_mutter_session_node(d->mutter);
		ac.backend = "mutter";
		ac.mutter = d->mutter;
#else
		return dp_error_set(err, -ENOTSUP, "this deskpilot was built without PipeWire or sd-bus, "
						   "so it cannot use mutter");
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
#if HAVE_MUTTER
	dp_mutter_session_destroy(d->mutter);
#endif
	d->actuator = NULL;
	d->capture = NULL;
	d->mutter = NULL;
}
