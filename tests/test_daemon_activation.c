/* D-Bus activation with the packaged service file: the first call to
 * org.deskpilot.Agent1 on a bus that only knows the file starts deskpilotd,
 * which then takes a task. */
#include <errno.h>
#include <libgen.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon_client.h"
#include "harness/bus.h"
#include "harness/xvfb.h"
#include "tst.h"

static char dir[256];

/* The packaged file with @bindir@ pointing at the build. */
static int write_service_file(const char *services)
{
	const char *template = getenv("DP_ACTIVATION_TEMPLATE"), *exe = getenv("DP_DESKPILOTD");
	char *text = template ? dp_read_file(template) : NULL, bindir[512], path[700];
	const char *at;
	FILE *f;

	if (!text || !exe)
		return -ENOENT;
	snprintf(bindir, sizeof(bindir), "%s", exe);
	snprintf(path, sizeof(path), "%s/org.deskpilot.Agent1.service", services);
	f = fopen(path, "w");
	if (!f) {
		free(text);
		return -errno;
	}
	for (const char *p = text; *p; p = at + strlen("@bindir@")) {
		at = strstr(p, "@bindir@");
		if (!at) {
			fputs(p, f);
			break;
		}
		fprintf(f, "%.*s%s", (int)(at - p), p, dirname(bindir));
		snprintf(bindir, sizeof(bindir), "%s", exe);
	}
	fclose(f);
	free(text);
	return 0;
}

static int write_bus_config(const char *services, char *path, size_t size)
{
	FILE *f;

	snprintf(path, size, "%s/bus.conf", dir);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fprintf(f,
		"<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
		" \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
		"<busconfig>\n"
		"  <type>session</type>\n"
		"  <listen>unix:tmpdir=%s</listen>\n"
		"  <servicedir>%s</servicedir>\n"
		"  <policy context=\"default\">\n"
		"    <allow send_destination=\"*\" eavesdrop=\"true\"/>\n"
		"    <allow eavesdrop=\"true\"/>\n"
		"    <allow own=\"*\"/>\n"
		"  </policy>\n"
		"</busconfig>\n",
		dir, services);
	fclose(f);
	return 0;
}

static int fill(sd_bus_message *m, void *data)
{
	return sd_bus_message_append(m, "{sv}{sv}{sv}", "script", "s", (const char *)data, "dry_run", "b", 1, "display",
				     "s", ":0");
}

static void test_first_call_starts_the_daemon(void)
{
	struct dp_test_bus b;
	char services[300], config[400], state_home[300], config_home[300], script[300], path[200], state[64];
	sd_bus *bus;
	sd_bus_message *reply = NULL;
	uint32_t pid = 0;
	FILE *f;

	snprintf(services, sizeof(services), "%s/services", dir);
	snprintf(state_home, sizeof(state_home), "%s/state", dir);
	snprintf(config_home, sizeof(config_home), "%s/config", dir);
	mkdir(services, 0700);
	TST_REQUIRE(write_service_file(services) == 0);
	TST_REQUIRE(write_bus_config(services, config, sizeof(config)) == 0);
	/* An activated service gets the bus's environment. */
	setenv("XDG_STATE_HOME", state_home, 1);
	setenv("XDG_CONFIG_HOME", config_home, 1);
	TST_REQUIRE(dp_test_bus_start(&b, config) == 0);
	TST_CHECK(!dp_test_bus_has_owner(&b, "org.deskpilot.Agent1"));
	bus = dp_tc_connect(b.address);
	TST_REQUIRE(bus);

	snprintf(script, sizeof(script), "%s/one.jsonl", dir);
	f = fopen(script, "w");
	TST_REQUIRE(f);
	fputs("{\"action\":\"click\",\"x\":1,\"y\":1}\n", f);
	fclose(f);
	TST_REQUIRE(dp_tc_submit(bus, fill, script, path, sizeof(path), NULL, 0) == 0);
	TST_CHECK(dp_test_bus_has_owner(&b, "org.deskpilot.Agent1"));
	TST_REQUIRE(dp_tc_wait_final(bus, path, state, sizeof(state), 30000) == 0);
	TST_EQ_STR(state, "succeeded");
	{
		char db[400];

		snprintf(db, sizeof(db), "%s/deskpilot/tasks.db", state_home);
		TST_CHECK(access(db, R_OK) == 0);
	}

	/* Stop the activated daemon: SIGTERM, as systemd would. */
	if (sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
			       "GetConnectionUnixProcessID", NULL, &reply, "s", "org.deskpilot.Agent1") >= 0)
		sd_bus_message_read(reply, "u", &pid);
	sd_bus_message_unref(reply);
	TST_CHECK(pid > 0);
	if (pid > 0) {
		kill((pid_t)pid, SIGTERM);
		for (int i = 0; i < 500 && dp_test_bus_has_owner(&b, "org.deskpilot.Agent1"); i++)
			usleep(10 * 1000);
		TST_CHECK(!dp_test_bus_has_owner(&b, "org.deskpilot.Agent1"));
	}
	sd_bus_flush_close_unref(bus);
	dp_test_bus_stop(&b);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "%s/dp-activation-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir))
		return EXIT_FAILURE;
	TST_RUN(test_first_call_starts_the_daemon);
	if (!getenv("DP_TEST_KEEP")) {
		char *argv[] = { (char *)"rm", (char *)"-rf", dir, NULL };
		char out[64], err[64];

		dp_run((const char *const *)argv, NULL, out, sizeof(out), err, sizeof(err));
	}
	TST_EXIT();
}
