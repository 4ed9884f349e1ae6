/* Only a task's submitter (or root) controls it: a client under another
 * uid gets PermissionDenied for cancel, pause and answer, and can still
 * read the task.  The private bus lets every uid connect (and only root
 * own names); the other uid runs busctl and the CLI through setpriv. */
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>

#include "daemon_fixture.h"
#include "tst.h"

static struct dp_fixture fx;
static const char *const nobody[] = { "/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", NULL };
/* Another system user (dbus-daemon refuses uids without a passwd entry). */
static const char *const other[] = { "/usr/bin/setpriv", "--reuid=1", "--regid=1", "--clear-groups", NULL };

#define AS(who, ...) dp_fixture_cli(&fx, (who), (const char *const[]){ __VA_ARGS__, NULL })

static const char *bus_config(const char *dir)
{
	static char path[400];
	char text[1200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/bus.conf", dir);
	snprintf(text, sizeof(text),
		 "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
		 " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
		 "<busconfig>\n"
		 "  <type>session</type>\n"
		 "  <listen>unix:path=%s/bus</listen>\n"
		 "  <auth>EXTERNAL</auth>\n"
		 "  <policy context=\"default\">\n"
		 "    <allow user=\"*\"/>\n"
		 "    <allow send_destination=\"*\" eavesdrop=\"true\"/>\n"
		 "    <allow eavesdrop=\"true\"/>\n"
		 "    <deny own=\"*\"/>\n"
		 "  </policy>\n"
		 "  <policy user=\"root\">\n"
		 "    <allow own=\"*\"/>\n"
		 "  </policy>\n"
		 "</busconfig>\n",
		 dir);
	f = fopen(path, "w");
	if (!f)
		return NULL;
	fputs(text, f);
	fclose(f);
	return path;
}

/* Calls method on the task as uid 65534 (in a child that drops root) and
 * returns the D-Bus error's name ("" when the call succeeded). */
static void call_as_nobody(const char *path, const char *method, char *name, size_t size)
{
	int fds[2];
	pid_t pid;
	ssize_t n;

	*name = '\0';
	if (pipe(fds) < 0)
		return;
	pid = fork();
	if (pid == 0) {
		sd_bus_error error = SD_BUS_ERROR_NULL;
		sd_bus *bus = NULL;
		const char *result = "";

		close(fds[0]);
		if (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
			_exit(1);
		if (sd_bus_new(&bus) < 0 || sd_bus_set_address(bus, fx.bus.address) < 0 ||
		    sd_bus_set_bus_client(bus, 1) < 0 || sd_bus_start(bus) < 0)
			result = "(no connection)";
		else if (strcmp(method, "Answer") == 0 ?
				 sd_bus_call_method(bus, "org.deskpilot.Agent1", path, "org.deskpilot.Agent1.Task", method,
						    &error, NULL, "s", "yes") < 0 :
				 sd_bus_call_method(bus, "org.deskpilot.Agent1", path, "org.deskpilot.Agent1.Task", method,
						    &error, NULL, "") < 0)
			result = error.name ? error.name : "(no name)";
		if (write(fds[1], result, strlen(result)) < 0)
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	n = read(fds[0], name, size - 1);
	name[n > 0 ? n : 0] = '\0';
	close(fds[0]);
	waitpid(pid, NULL, 0);
}

static void long_task(const char *name, const char *const *who, char *id, size_t size)
{
	char text[4096] = "{\"action\":\"ask_user\",\"question\":\"Go on?\"}\n";
	const char *script;

	for (int i = 0; i < 40; i++)
		strcat(text, "{\"action\":\"wait\",\"ms\":200}\n");
	script = dp_fixture_file(&fx, name, text);
	chmod(script, 0644);
	*id = '\0';
	if (AS(who, "submit", "a long task", "--script", script) == 0)
		dp_fixture_id_from(fx.out, id, size);
	else
		fprintf(stderr, "submit failed: %s", fx.err);
}

static void test_another_uid_cannot_control_the_task(void)
{
	char id[64], path[160], address[600];
	cJSON *json;
	const char *busctl[] = { "/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
				 "/usr/bin/busctl", address, "call", "org.deskpilot.Agent1", path,
				 "org.deskpilot.Agent1.Task", "Cancel", NULL };

	long_task("root.jsonl", NULL, id, sizeof(id));
	TST_REQUIRE(*id);
	snprintf(path, sizeof(path), "/org/deskpilot/Agent1/task/%s", id);
	snprintf(address, sizeof(address), "--address=%s", fx.bus.address);

	TST_EQ_INT(AS(nobody, "cancel", id), 9);
	TST_CHECK(strstr(fx.err, "not allowed") != NULL);
	TST_EQ_INT(AS(nobody, "pause", id), 9);
	TST_EQ_INT(AS(nobody, "answer", id, "yes"), 9);
	TST_EQ_INT(AS(nobody, "resume", id), 9);
	TST_CHECK(dp_run(busctl, NULL, fx.out, sizeof(fx.out), fx.err, sizeof(fx.err)) != 0);
	TST_CHECK(strstr(fx.err, "Call failed") != NULL);

	/* The daemon's own answer, by name. */
	for (size_t i = 0; i < 3; i++) {
		static const char *const methods[] = { "Cancel", "Pause", "Answer" };
		char name[256];

		call_as_nobody(path, methods[i], name, sizeof(name));
		TST_EQ_STR(name, "org.deskpilot.Agent1.Error.PermissionDenied");
	}

	/* Reading is open to all. */
	TST_EQ_INT(AS(nobody, "show", id, "--json"), 0);
	json = cJSON_Parse(fx.out);
	TST_REQUIRE(json != NULL);
	TST_CHECK(strcmp(cJSON_GetObjectItem(json, "State")->valuestring, "cancelled") != 0);
	TST_EQ_INT(cJSON_GetArrayItem(cJSON_GetObjectItem(json, "Submitter"), 0)->valuedouble, 0);
	cJSON_Delete(json);
	TST_EQ_INT(AS(nobody, "list"), 0);
	TST_CHECK(strstr(fx.out, id) != NULL);

	/* Its submitter still can. */
	TST_EQ_INT(AS(NULL, "cancel", id), 0);
	TST_EQ_INT(AS(NULL, "follow", id), 11);
}

static void test_root_controls_anyones_task_and_users_only_their_own(void)
{
	char id[64];

	long_task("nobody.jsonl", nobody, id, sizeof(id));
	TST_REQUIRE(*id);
	TST_EQ_INT(AS(nobody, "show", id, "--json"), 0);
	TST_CHECK(strstr(fx.out, "65534") != NULL);
	TST_EQ_INT(AS(other, "answer", id, "yes"), 9);
	TST_CHECK(strstr(fx.err, "not allowed") != NULL);
	TST_EQ_INT(AS(nobody, "answer", id, "yes"), 0);
	TST_EQ_INT(AS(other, "cancel", id), 9);
	TST_EQ_INT(AS(other, "pause", id), 9);
	TST_EQ_INT(AS(nobody, "pause", id), 0);
	TST_EQ_INT(AS(nobody, "resume", id), 0);
	TST_EQ_INT(AS(NULL, "cancel", id), 0);
	TST_EQ_INT(AS(nobody, "follow", id), 11);
}

int main(void)
{
	char dir[256];
	const char *config;
	int rc;

	signal(SIGPIPE, SIG_IGN);
	if (!getenv("DP_DESKPILOTD")) {
		fprintf(stderr, "DP_DESKPILOTD is not set: run through meson test\n");
		return TST_SKIP;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "skipped: running clients under other uids needs root (setpriv)\n");
		return TST_SKIP;
	}
	if (access("/usr/bin/setpriv", X_OK) != 0) {
		fprintf(stderr, "skipped: no /usr/bin/setpriv (apt-get install util-linux)\n");
		return TST_SKIP;
	}
	snprintf(dir, sizeof(dir), "%s/dp-perm-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir) || chmod(dir, 0755) < 0 || !(config = bus_config(dir)))
		return EXIT_FAILURE;
	if (dp_fixture_start(&fx, config) < 0) {
		dp_fixture_stop(&fx);
		return EXIT_FAILURE;
	}
	/* The other uids must be able to run the CLI from where it was built. */
	chmod(fx.dir, 0755);
	rc = AS(nobody, "--help");
	if (rc != 0) {
		fprintf(stderr, "skipped: uid 65534 cannot run %s (exit %d): a folder on its way is private\n",
			getenv("DP_DESKPILOT"), rc);
		dp_fixture_stop(&fx);
		return TST_SKIP;
	}
	TST_RUN(test_another_uid_cannot_control_the_task);
	TST_RUN(test_root_controls_anyones_task_and_users_only_their_own);
	if (tst_failures)
		dp_test_daemon_print_log(&fx.daemon);
	dp_fixture_stop(&fx);
	unlink(config);
	rmdir(dir);
	TST_EXIT();
}
