/* deskpilotd in a GNOME Wayland session: with WAYLAND_DISPLAY set and no
 * X display named, a submitted task drives the compositor through mutter's
 * remote-desktop API; its click reaches a Wayland app on the exact pixel. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/harness/bus.h"
#include "tests/harness/gnome.h"
#include "tests/harness/xvfb.h"
#include "tst.h"

static void test_task_clicks_on_wayland(void)
{
	const char *app_argv[] = { "/usr/bin/python3", getenv("DP_GTK_WAYLAND"), NULL };
	struct dp_test_bus bus = { 0 };
	struct dp_test_daemon daemon = { 0 };
	struct dp_probe app;
	char script[PATH_MAX], out[4096], errs[4096], line[512];
	FILE *f;

	snprintf(bus.address, sizeof(bus.address), "%s", getenv("DBUS_SESSION_BUS_ADDRESS"));
	snprintf(script, sizeof(script), "%s/click.jsonl", getenv("TMPDIR"));
	f = fopen(script, "w");
	TST_REQUIRE(f);
	fputs("{\"action\": \"click\", \"x\": 555, \"y\": 99}\n", f);
	fclose(f);
	TST_REQUIRE(dp_app_start(&app, NULL, app_argv) == 0);
	if (dp_test_daemon_start(&daemon, &bus, NULL, NULL) < 0) {
		dp_probe_stop(&app);
		TST_REQUIRE(!"deskpilotd starts");
	}
	{
		const char *const argv[] = { getenv("DP_DESKPILOT"), "--bus-address", bus.address, "submit", "--script",
					     script, "--wait", NULL };

		TST_EQ_INT(dp_run(argv, NULL, out, sizeof(out), errs, sizeof(errs)), 0);
	}
	TST_REQUIRE(dp_probe_wait(&app, "button", 5000, line, sizeof(line)) == 0);
	TST_EQ_INT(dp_json_int(line, "x"), 555);
	TST_EQ_INT(dp_json_int(line, "y"), 99);
	if (tst_failures) {
		fprintf(stderr, "submit said: %s%s\n", out, errs);
		dp_test_daemon_print_log(&daemon);
	}
	dp_test_daemon_stop(&daemon, false);
	dp_test_daemon_remove_home(&daemon);
	dp_probe_stop(&app);
}

int main(int argc, char **argv)
{
	struct dp_gnome gnome;

	(void)argc;
	if (!dp_gnome_available(false))
		return TST_SKIP;
	if (getuid() == 0)
		return dp_gnome_rerun_unprivileged(argv);
	if (dp_gnome_start(&gnome, false) < 0)
		return EXIT_FAILURE;
	TST_RUN(test_task_clicks_on_wayland);
	dp_gnome_stop(&gnome);
	TST_EXIT();
}
