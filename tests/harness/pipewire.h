/* Test harness: a private PipeWire daemon and WirePlumber session manager
 * (which needs a session bus: it gets a private one too) in a fresh
 * XDG_RUNTIME_DIR, so tests never touch the user's own. */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

struct dp_pipewire {
	pid_t bus, daemon, session_manager;
	char runtime_dir[PATH_MAX];
	char old_runtime_dir[PATH_MAX], old_bus[PATH_MAX];
	bool had_runtime_dir, had_bus;
};

/* Starts them and points this process's XDG_RUNTIME_DIR and
 * DBUS_SESSION_BUS_ADDRESS at them (children started afterwards inherit
 * both).  Returns 0, -ENOENT when pipewire, wireplumber or dbus-daemon is
 * not installed, or another negative errno. */
int dp_pipewire_start(struct dp_pipewire *pw);
void dp_pipewire_stop(struct dp_pipewire *pw);
