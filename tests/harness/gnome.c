#include "tests/harness/gnome.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#include "capture/mutter_session.h"
#include "capture/portal_session.h"
#include "tests/harness/xvfb.h"

#define UNPRIVILEGED "65534"

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

bool dp_gnome_available(bool portals)
{
	static const char *const needed[] = { "/usr/bin/mutter", "/usr/bin/pipewire", "/usr/bin/wireplumber",
					      "/usr/bin/dbus-daemon", "/usr/lib/python3/dist-packages/gi", NULL };
	static const char *const for_portals[] = { "/usr/libexec/xdg-desktop-portal",
						   "/usr/libexec/xdg-desktop-portal-gnome", NULL };

	for (const char *const *p = needed; *p; p++)
		if (access(*p, F_OK) < 0) {
			fprintf(stderr, "%s is not installed (scripts/deps test)\n", *p);
			return false;
		}
	for (const char *const *p = for_portals; portals && *p; p++)
		if (access(*p, F_OK) < 0) {
			fprintf(stderr, "%s is not installed (scripts/deps test)\n", *p);
			return false;
		}
	return true;
}

int dp_gnome_rerun_unprivileged(char **argv)
{
	char dir[] = "/tmp/dp-gnome-XXXXXX";
	const char *const rm[] = { "/bin/rm", "-rf", "--", dir, NULL };
	char out[64], errs[64];
	int status = 0;
	pid_t pid;

	if (getuid() != 0)
		return -1;
	if (!mkdtemp(dir) || chown(dir, 65534, 65534) < 0) {
		perror("test directory");
		return EXIT_FAILURE;
	}
	pid = fork();
	if (pid == 0) {
		setenv("HOME", dir, 1);
		setenv("TMPDIR", dir, 1);
		setenv("XDG_CONFIG_HOME", dir, 1);
		execlp("setpriv", "setpriv", "--reuid=" UNPRIVILEGED, "--regid=" UNPRIVILEGED, "--clear-groups", "--",
		       argv[0], (char *)NULL);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	dp_run(rm, NULL, out, sizeof(out), errs, sizeof(errs));
	return WIFEXITED(status) ? WEXITSTATUS(status) : EXIT_FAILURE;
}

static int wait_for_mutter(struct dp_gnome *g)
{
	char socket[PATH_MAX + 16];
	struct dp_error err = { 0 };
	int r = -ETIMEDOUT;

	snprintf(socket, sizeof(socket), "%s/wayland-0", getenv("XDG_RUNTIME_DIR"));
	/* Ready when its remote-desktop API answers. */
	for (int waited = 0; waited < 20000; waited += 100) {
		if (access(socket, F_OK) == 0 && (r = dp_mutter_session_create(&g->session, NULL, &err)) == 0)
			return 0;
		sleep_ms(100);
	}
	fprintf(stderr, "mutter did not come up: %s\n", err.message);
	return r;
}

/* The bus starts the portal and its GNOME backend on first use; they find
 * each other by XDG_CURRENT_DESKTOP and the compositor by WAYLAND_DISPLAY,
 * which the bus did not have when it started: hand them over. */
static int start_portals(void)
{
	sd_bus *bus = NULL;
	sd_bus_message *m = NULL;
	sd_bus_error e = SD_BUS_ERROR_NULL;
	uint32_t sc = 0, rd = 0;
	int r = sd_bus_open_user(&bus);

	if (r >= 0)
		r = sd_bus_message_new_method_call(bus, &m, "org.freedesktop.DBus", "/org/freedesktop/DBus",
						   "org.freedesktop.DBus", "UpdateActivationEnvironment");
	if (r >= 0)
		r = sd_bus_message_append(m, "a{ss}", 2, "WAYLAND_DISPLAY", "wayland-0", "XDG_CURRENT_DESKTOP", "GNOME");
	if (r >= 0)
		r = sd_bus_call(bus, m, 0, &e, NULL);
	if (r < 0)
		fprintf(stderr, "UpdateActivationEnvironment: %s\n", e.message ? e.message : strerror(-r));
	sd_bus_message_unref(m);
	sd_bus_error_free(&e);
	sd_bus_flush_close_unref(bus);
	if (r < 0)
		return r;
	/* Asking for the version activates the portal. */
	for (int waited = 0; waited < 20000 && !sc; waited += 200) {
		dp_portal_versions(&sc, &rd);
		if (!sc)
			sleep_ms(200);
	}
	if (!sc)
		fprintf(stderr, "xdg-desktop-portal did not come up\n");
	return sc ? 0 : -ETIMEDOUT;
}

int dp_gnome_start(struct dp_gnome *g, bool portals)
{
	static const char *const argv[] = { "mutter", "--headless", "--virtual-monitor", "1280x720",
					    "--wayland", "--no-x11", NULL };
	int r;

	memset(g, 0, sizeof(*g));
	unsetenv("WAYLAND_DISPLAY");
	unsetenv("DISPLAY");
	setenv("XDG_CURRENT_DESKTOP", "GNOME", 1);
	r = dp_pipewire_start(&g->pw);
	if (r < 0) {
		fprintf(stderr, "cannot start PipeWire: %s\n", strerror(-r));
		return r;
	}
	g->mutter = dp_spawn_on(NULL, argv);
	r = wait_for_mutter(g);
	setenv("WAYLAND_DISPLAY", "wayland-0", 1);
	if (r == 0 && portals)
		r = start_portals();
	if (r < 0)
		dp_gnome_stop(g);
	return r;
}

void dp_gnome_stop(struct dp_gnome *g)
{
	dp_mutter_session_destroy(g->session);
	dp_reap(g->mutter);
	dp_pipewire_stop(&g->pw);
	memset(g, 0, sizeof(*g));
}
