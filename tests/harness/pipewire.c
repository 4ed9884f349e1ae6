#include "tests/harness/pipewire.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tests/harness/xvfb.h"

static bool on_path(const char *program)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];

	for (const char *p = path ? path : "/usr/bin"; *p;) {
		size_t n = strcspn(p, ":");

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, p, program);
		if (access(buf, X_OK) == 0)
			return true;
		p += n + (p[n] == ':');
	}
	return false;
}

static int wait_for_socket(const char *path, int timeout_ms)
{
	struct timespec tick = { 0, 10 * 1000000 };

	for (int waited = 0; waited < timeout_ms; waited += 10) {
		if (access(path, F_OK) == 0)
			return 0;
		nanosleep(&tick, NULL);
	}
	return -ETIMEDOUT;
}

int dp_pipewire_start(struct dp_pipewire *pw)
{
	static const char *const daemon_argv[] = { "pipewire", NULL };
	static const char *const session_argv[] = { "wireplumber", NULL };
	const char *old = getenv("XDG_RUNTIME_DIR"), *old_bus = getenv("DBUS_SESSION_BUS_ADDRESS");
	char socket[PATH_MAX + 16], address[PATH_MAX + 32];
	const char *bus_argv[] = { "dbus-daemon", "--session", "--nofork", "--nopidfile", address, NULL };

	memset(pw, 0, sizeof(*pw));
	if (!on_path("pipewire") || !on_path("wireplumber") || !on_path("dbus-daemon"))
		return -ENOENT;
	pw->had_runtime_dir = old != NULL;
	if (old)
		snprintf(pw->old_runtime_dir, sizeof(pw->old_runtime_dir), "%s", old);
	pw->had_bus = old_bus != NULL;
	if (old_bus)
		snprintf(pw->old_bus, sizeof(pw->old_bus), "%s", old_bus);
	snprintf(pw->runtime_dir, sizeof(pw->runtime_dir), "%s/dp-pipewire-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(pw->runtime_dir))
		return -errno;
	chmod(pw->runtime_dir, 0700);
	setenv("XDG_RUNTIME_DIR", pw->runtime_dir, 1);
	/* The user's PIPEWIRE_REMOTE would send clients elsewhere. */
	unsetenv("PIPEWIRE_REMOTE");
	snprintf(address, sizeof(address), "--address=unix:path=%s/bus", pw->runtime_dir);
	pw->bus = dp_spawn_on(NULL, bus_argv);
	snprintf(socket, sizeof(socket), "%s/bus", pw->runtime_dir);
	if (pw->bus < 0 || wait_for_socket(socket, 10000) < 0) {
		dp_pipewire_stop(pw);
		return -ETIMEDOUT;
	}
	setenv("DBUS_SESSION_BUS_ADDRESS", address + strlen("--address="), 1);
	pw->daemon = dp_spawn_on(NULL, daemon_argv);
	snprintf(socket, sizeof(socket), "%s/pipewire-0", pw->runtime_dir);
	if (pw->daemon < 0 || wait_for_socket(socket, 10000) < 0) {
		dp_pipewire_stop(pw);
		return -ETIMEDOUT;
	}
	pw->session_manager = dp_spawn_on(NULL, session_argv);
	if (pw->session_manager < 0) {
		dp_pipewire_stop(pw);
		return -ECHILD;
	}
	return 0;
}

static void remove_tree(const char *dir)
{
	const char *const argv[] = { "/bin/rm", "-rf", "--", dir, NULL };
	char out[256], err[256];

	dp_run(argv, NULL, out, sizeof(out), err, sizeof(err));
}

void dp_pipewire_stop(struct dp_pipewire *pw)
{
	dp_reap(pw->session_manager);
	dp_reap(pw->daemon);
	dp_reap(pw->bus);
	pw->session_manager = pw->daemon = pw->bus = 0;
	if (pw->runtime_dir[0])
		remove_tree(pw->runtime_dir);
	pw->runtime_dir[0] = '\0';
	if (pw->had_runtime_dir)
		setenv("XDG_RUNTIME_DIR", pw->old_runtime_dir, 1);
	else
		unsetenv("XDG_RUNTIME_DIR");
	if (pw->had_bus)
		setenv("DBUS_SESSION_BUS_ADDRESS", pw->old_bus, 1);
	else
		unsetenv("DBUS_SESSION_BUS_ADDRESS");
}
