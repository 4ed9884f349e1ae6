/* The desktop deskpilot works on: a frame source and an input backend that
 * belong together, chosen by what the session offers.  On X11 both talk
 * to the X server; on Wayland both go through one remote-desktop session,
 * mutter's own (GNOME, no dialog) or xdg-desktop-portal's (the user
 * consents): frames as a PipeWire stream, input over D-Bus. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "actuators/actuator.h"
#include "actuators/remote_input.h"
#include "capture/capture.h"
#include "engine/error.h"

struct dp_mutter_session;
struct dp_portal_session;

struct dp_desktop_config {
	const char *backend; /* "x11", "mutter" or "portal"; NULL: chosen (dp_desktop_choose) */
	const char *display; /* X display; NULL: $DISPLAY */
};

enum dp_desktop_parts {
	DP_DESKTOP_CAPTURE = 1 << 0,
	DP_DESKTOP_INPUT = 1 << 1,
};

struct dp_desktop {
	struct dp_capture *capture;   /* NULL unless asked for */
	struct dp_actuator *actuator; /* NULL unless asked for */
	struct dp_mutter_session *mutter;
	struct dp_portal_session *portal;
	struct dp_remote_input remote;
	char backend[16];
	char why[256]; /* why this backend: for logs and `deskpilot doctor` */
};

/* Which backend config leads to, and why, without opening anything but
 * (on Wayland) a look at the session bus:
 *   an explicit backend, or an explicit X display: that;
 *   a Wayland session (WAYLAND_DISPLAY, or XDG_SESSION_TYPE=wayland): mutter
 *   when GNOME's remote-desktop API is on the session bus, else the portal
 *   when it has ScreenCast and RemoteDesktop, else an error (X11 through
 *   XWayland would see and reach only X clients);
 *   otherwise x11 (whose errors explain a missing DISPLAY). */
int dp_desktop_choose(const struct dp_desktop_config *config, char *backend, size_t backend_size, char *why,
		      size_t why_size, struct dp_error *err);

int dp_desktop_open(struct dp_desktop *desktop, const struct dp_desktop_config *config, unsigned parts,
		    struct dp_error *err);
void dp_desktop_close(struct dp_desktop *desktop);
