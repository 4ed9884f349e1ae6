/* Test harness: a headless GNOME compositor (mutter) with its own session
 * bus, PipeWire and WirePlumber, and optionally xdg-desktop-portal with
 * the GNOME backend (started by the bus on first use), all in a private
 * XDG_RUNTIME_DIR.  Mutter refuses to
 * run as root: tests re-run themselves unprivileged first. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "tests/harness/pipewire.h"

struct dp_mutter_session;

struct dp_gnome {
	struct dp_pipewire pw;
	pid_t mutter;
	/* A remote-desktop session on the compositor, open once it is up. */
	struct dp_mutter_session *session;
};

/* Whether mutter, pipewire, wireplumber, python3-gi (and, with portals,
 * xdg-desktop-portal-gnome) are installed; prints what is missing. */
bool dp_gnome_available(bool portals);
/* As root: runs argv[0] again as nobody in a directory of its own (HOME,
 * TMPDIR, XDG_CONFIG_HOME) and returns its exit status; otherwise -1. */
int dp_gnome_rerun_unprivileged(char **argv);
/* Starts everything with a 1280x720 virtual monitor and sets
 * WAYLAND_DISPLAY for children.  Returns 0 or a negative errno. */
int dp_gnome_start(struct dp_gnome *g, bool portals);
void dp_gnome_stop(struct dp_gnome *g);
