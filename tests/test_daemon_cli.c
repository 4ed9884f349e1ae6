/* The deskpilot commands that talk to deskpilotd, used as a person or a
 * script uses them: list, show, follow, report, doctor, their --json, the
 * plain lines of follow when piped, and the exit codes. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <systemd/sd-bus.h>

#include "daemon_fixture.h"
#include "tst.h"

static struct dp_fixture fx;

static const char *str(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static double num(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static const char *three_clicks(void)
{
	return dp_fixture_file(&fx, "three.jsonl",
			       "{\"action\":\"click\",\"x\":100,\"y\":100}\n"
			       "{\"action\":\"click\",\"x\":200,\"y\":100}\n"
			       "{\"action\":\"click\",\"x\":300,\"y\":100}\n");
}

static void test_submit_wait_list_show(void)
{
	char id[64], path[160], created[16];
	cJSON *json, *item, *found = NULL;

	TST_EQ_INT(DP_CLI(&fx, "submit", "three clicks", "--script", three_clicks(), "--wait"), 0);
	dp_fixture_id_from(fx.out, id, sizeof(id));
	TST_REQUIRE(*id);
	TST_CHECK(strstr(fx.out, "succeeded after 4 steps") != NULL);
	TST_CHECK(strstr(fx.out, "report: ") != NULL);

	/* The table: a header, then the task with its state and steps. */
	TST_EQ_INT(DP_CLI(&fx, "list"), 0);
	TST_CHECK(strncmp(fx.out, "ID", 2) == 0);
	TST_CHECK(strstr(fx.out, id) != NULL);
	TST_CHECK(strstr(fx.out, "succeeded") != NULL);
	TST_CHECK(strstr(fx.out, "three clicks") != NULL);
	TST_CHECK(strstr(fx.out, "4/") != NULL);

	TST_EQ_INT(DP_CLI(&fx, "list", "--json"), 0);
	json = cJSON_Parse(fx.out);
	TST_REQUIRE(cJSON_IsArray(json));
	cJSON_ArrayForEach(item, json)
		if (strcmp(str(item, "Id"), id) == 0)
			found = item;
	TST_REQUIRE(found != NULL);
	TST_EQ_STR(str(found, "State"), "succeeded");
	TST_EQ_STR(str(found, "Instruction"), "three clicks");
	TST_EQ_STR(str(found, "Policy"), "script");
	TST_EQ_INT(num(found, "Step"), 4);
	TST_CHECK(num(found, "Created") > 0 && num(found, "Started") >= num(found, "Created") &&
		  num(found, "Finished") >= num(found, "Started"));
	TST_EQ_INT(cJSON_GetArrayItem(cJSON_GetObjectItem(found, "Submitter"), 0)->valuedouble, getuid());
	cJSON_Delete(json);

	/* show: by id and by object path, as text and as JSON. */
	TST_EQ_INT(DP_CLI(&fx, "show", id), 0);
	TST_CHECK(strstr(fx.out, "State:       succeeded") != NULL);
	TST_CHECK(strstr(fx.out, "Step:        4/") != NULL);
	snprintf(path, sizeof(path), "/org/deskpilot/Agent1/task/%s", id);
	TST_EQ_INT(DP_CLI(&fx, "show", path, "--json"), 0);
	json = cJSON_Parse(fx.out);
	TST_REQUIRE(cJSON_IsObject(json));
	TST_EQ_STR(str(json, "Id"), id);
	TST_EQ_STR(str(json, "Error"), "");
	TST_EQ_STR(str(json, "Question"), "");
	{
		char result[700];
		struct stat st;

		snprintf(result, sizeof(result), "%s/result.json", str(json, "Trajectory"));
		TST_CHECK(stat(result, &st) == 0);
	}
	/* The times are microseconds: the task was created today. */
	snprintf(created, sizeof(created), "%.0f", num(json, "Created") / 1e6);
	TST_CHECK(labs(atol(created) - (long)time(NULL)) < 600);
	cJSON_Delete(json);

	TST_EQ_INT(DP_CLI(&fx, "show", "t19700101_000000_9999"), 8);
	TST_CHECK(strstr(fx.err, "no task t19700101_000000_9999") != NULL);
	TST_EQ_INT(DP_CLI(&fx, "show", "../../etc"), 2);
	TST_EQ_INT(DP_CLI(&fx, "show"), 2);
	TST_EQ_INT(DP_CLI(&fx, "show", id, "--open"), 2);
}

static void test_follow_prints_plain_lines_when_piped(void)
{
	char id[64];
	const char *script = dp_fixture_file(&fx, "slow.jsonl",
					     "{\"action\":\"wait\",\"ms\":300}\n"
					     "{\"action\":\"click\",\"x\":640,\"y\":400}\n"
					     "{\"action\":\"wait\",\"ms\":300}\n");
	char *step1, *step2, *end;

	TST_EQ_INT(DP_CLI(&fx, "submit", "--script", script), 0);
	dp_fixture_id_from(fx.out, id, sizeof(id));
	TST_REQUIRE(*id);
	TST_CHECK(strlen(fx.out) == strlen(id) + 1); /* the id alone on its line */
	TST_EQ_INT(DP_CLI(&fx, "follow", id), 0);
	/* No terminal: no carriage returns or escapes, one line per step. */
	TST_CHECK(strchr(fx.out, '\r') == NULL && strchr(fx.out, '\033') == NULL);
	step1 = strstr(fx.out, "step 1/");
	step2 = strstr(fx.out, "step 2/");
	end = strstr(fx.out, "succeeded after 4 steps");
	TST_CHECK(step2 && strstr(step2, "click") && strstr(step2, "640"));
	TST_CHECK(step1 && step2 && end && step1 < step2 && step2 < end);
	TST_CHECK(strstr(fx.out, "report: ") != NULL);

	/* Following a task that has ended prints its outcome at once. */
	TST_EQ_INT(DP_CLI(&fx, "follow", id), 0);
	TST_CHECK(strncmp(fx.out, "succeeded after 4 steps", 23) == 0);
	TST_EQ_INT(DP_CLI(&fx, "follow", id, "--json"), 0);
	{
		cJSON *json = cJSON_Parse(fx.out);

		TST_CHECK(json && strcmp(str(json, "State"), "succeeded") == 0);
		cJSON_Delete(json);
	}

	/* submit --follow: the id, the steps, the outcome. */
	TST_EQ_INT(DP_CLI(&fx, "submit", "--script", three_clicks(), "--follow"), 0);
	TST_CHECK(strstr(fx.out, "step 3/") && strstr(fx.out, "succeeded after 4 steps"));
}

/* On a terminal: one line, redrawn in place, then the outcome. */
static void test_follow_redraws_one_line_on_a_terminal(void)
{
	const char *script = dp_fixture_file(&fx, "tty.jsonl",
					     "{\"action\":\"wait\",\"ms\":400}\n{\"action\":\"wait\",\"ms\":400}\n"
					     "{\"action\":\"wait\",\"ms\":400}\n");
	static char screen[1 << 16];
	size_t len = 0;
	char id[64];
	int master, status = -1;
	pid_t pid;

	TST_EQ_INT(DP_CLI(&fx, "submit", "--script", script), 0);
	dp_fixture_id_from(fx.out, id, sizeof(id));
	pid = forkpty(&master, NULL, NULL, NULL);
	TST_REQUIRE(pid >= 0);
	if (pid == 0) {
		execl(getenv("DP_DESKPILOT"), "deskpilot", "follow", id, (char *)NULL);
		_exit(127);
	}
	for (;;) {
		struct pollfd pfd = { .fd = master, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, 30000) <= 0)
			break;
		n = read(master, screen + len, sizeof(screen) - 1 - len);
		if (n <= 0) /* EIO once the other side is closed */
			break;
		len += (size_t)n;
	}
	screen[len] = '\0';
	close(master);
	for (int i = 0; i < 50 && waitpid(pid, &status, WNOHANG) == 0; i++)
		usleep(100000);
	if (kill(pid, 0) == 0 && waitpid(pid, &status, WNOHANG) == 0) { /* hung */
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	TST_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	TST_CHECK(strstr(screen, "\r[") != NULL);        /* redrawn from the line's start */
	TST_CHECK(strstr(screen, "\033[K") != NULL);     /* and cleared to its end */
	TST_CHECK(strstr(screen, "] 3/200") != NULL);     /* the bar, then step/max */
	TST_CHECK(strstr(screen, "step 1/") == NULL);     /* not the piped format */
	TST_CHECK(strstr(screen, "succeeded after 4 steps") != NULL);
}

static void test_report(void)
{
	char id[64], report[600], bin[300], args[300], fake[700];
	const char *saved_path = getenv("PATH");
	char path_env[2048];
	char *recorded;

	TST_EQ_INT(DP_CLI(&fx, "submit", "--script", three_clicks(), "--wait", "--json"), 0);
	{
		cJSON *json = cJSON_Parse(fx.out);

		TST_REQUIRE(json != NULL);
		snprintf(id, sizeof(id), "%s", str(json, "Id"));
		TST_EQ_STR(str(json, "State"), "succeeded");
		cJSON_Delete(json);
	}
	TST_EQ_INT(DP_CLI(&fx, "report", id), 0);
	{
		size_t n = strcspn(fx.out, "\n");

		n = n < sizeof(report) ? n : sizeof(report) - 1;
		memcpy(report, fx.out, n);
		report[n] = '\0';
	}
	TST_CHECK(strlen(report) > 12 && strcmp(report + strlen(report) - 12, "/report.html") == 0);
	TST_CHECK(access(report, R_OK) == 0);

	/* --open hands the path to xdg-open as one argument: a stand-in
	 * xdg-open on PATH records what it was given. */
	snprintf(bin, sizeof(bin), "%s/bin", fx.dir);
	mkdir(bin, 0755);
	snprintf(args, sizeof(args), "%s/xdg-open-args", fx.dir);
	snprintf(fake, sizeof(fake), "#!/bin/sh\nprintf '%%s|' \"$#\" \"$@\" > '%s'\n", args);
	dp_fixture_file(&fx, "bin/xdg-open", fake);
	snprintf(fake, sizeof(fake), "%s/xdg-open", bin);
	chmod(fake, 0755);
	snprintf(path_env, sizeof(path_env), "%s:%s", bin, saved_path ? saved_path : "/usr/bin:/bin");
	setenv("PATH", path_env, 1);
	TST_EQ_INT(DP_CLI(&fx, "report", id, "--open"), 0);
	setenv("PATH", saved_path ? saved_path : "/usr/bin:/bin", 1);
	recorded = dp_read_file(args);
	snprintf(fake, sizeof(fake), "1|%s|", report);
	TST_CHECK(recorded && strcmp(recorded, fake) == 0);
	free(recorded);
}

static void test_exit_codes_from_outcomes(void)
{
	const char *fail = dp_fixture_file(&fx, "fail.jsonl", "{\"action\":\"fail\",\"reason\":\"the form is gone\"}\n");
	const char *moves = dp_fixture_file(&fx, "moves.jsonl",
					    "{\"action\":\"move\",\"x\":1,\"y\":1}\n{\"action\":\"move\",\"x\":2,\"y\":2}\n"
					    "{\"action\":\"move\",\"x\":3,\"y\":3}\n");
	char *waits = malloc(64 * 40);
	char id[64];

	TST_EQ_INT(DP_CLI(&fx, "submit", "--script", fail, "--wait"), 1);
	TST_CHECK(strstr(fx.out, "failed after 1 step: the form is gone") != NULL);
	TST_EQ_INT(DP_CLI(&fx, "submit", "--script", moves, "--max-steps", "2", "--wait"), 6);
	TST_CHECK(strstr(fx.out, "failed after 2 steps") != NULL);

	/* Cancelled while followed: 11. */
	snprintf(waits, 64 * 40, "%s", "");
	for (int i = 0; i < 30; i++)
		strcat(waits, "{\"action\":\"wait\",\"ms\":200}\n");
	TST_EQ_INT(DP_CLI(&fx, "submit", "--script", dp_fixture_file(&fx, "long.jsonl", waits)), 0);
	free(waits);
	dp_fixture_id_from(fx.out, id, sizeof(id));
	TST_EQ_INT(DP_CLI(&fx, "cancel", id), 0);
	TST_CHECK(strstr(fx.out, "cancelled") != NULL);
	TST_EQ_INT(DP_CLI(&fx, "follow", id), 11);
	TST_CHECK(strstr(fx.out, "cancelled") != NULL);

	/* Dry run: checked, not run. */
	TST_EQ_INT(DP_CLI(&fx, "submit", "--script", moves, "--dry-run", "--wait"), 0);
	TST_CHECK(strstr(fx.out, "dry run") != NULL);

	/* The daemon's errors, by name. */
	TST_EQ_INT(DP_CLI(&fx, "submit", "--script", "no-such-script.jsonl", "--wait"), 8);
	TST_CHECK(strstr(fx.err, "no-such-script.jsonl") != NULL);
	TST_CHECK(strstr(fx.err, "/no-such-script.jsonl") != NULL); /* made absolute */
	TST_EQ_INT(DP_CLI(&fx, "cancel", "t19700101_000000_9999"), 8);
	TST_EQ_INT(DP_CLI(&fx, "submit", "--script", moves, "--max-steps", "201"), 2);
	TST_EQ_INT(DP_CLI(&fx, "submit", "--script", moves, "--var", "novalue"), 2);
	TST_EQ_INT(DP_CLI(&fx, "submit"), 2);
	TST_EQ_INT(DP_CLI(&fx, "submit", "bad \xff text", "--script", moves), 2);
	TST_CHECK(strstr(fx.err, "valid UTF-8") != NULL);
	TST_EQ_INT(DP_CLI(&fx, "submit", "--script", moves, "--follow", "--wait"), 2);

	/* No daemon on the bus: 10. */
	TST_EQ_INT(DP_CLI(&fx, "--bus-address", "unix:path=/nonexistent/bus", "list"), 10);
	TST_CHECK(strstr(fx.err, "cannot connect") != NULL);
}

/* deskpilotd going away under follow: exit 10, and after its restart the
 * task it was running is interrupted (exit 11). */
static void test_follow_when_the_daemon_goes_away(void)
{
	char *text = malloc(64 * 100), id[64], log[700];
	int fd, status = -1;
	pid_t pid;
	char *seen;

	snprintf(text, 64 * 100, "%s", "");
	for (int i = 0; i < 80; i++)
		strcat(text, "{\"action\":\"wait\",\"ms\":200}\n");
	TST_EQ_INT(DP_CLI(&fx, "submit", "--script", dp_fixture_file(&fx, "doomed.jsonl", text)), 0);
	free(text);
	dp_fixture_id_from(fx.out, id, sizeof(id));
	snprintf(log, sizeof(log), "%s/follow.out", fx.dir);
	pid = fork();
	TST_REQUIRE(pid >= 0);
	if (pid == 0) {
		fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		execl(getenv("DP_DESKPILOT"), "deskpilot", "follow", id, (char *)NULL);
		_exit(127);
	}
	/* Once a step is shown, the daemon dies. */
	for (int i = 0; i < 150; i++) {
		seen = dp_read_file(log);
		if (seen && strstr(seen, "step 2/")) {
			free(seen);
			break;
		}
		free(seen);
		usleep(100000);
	}
	dp_test_daemon_stop(&fx.daemon, true);
	/* follow must notice by itself; a hang is a failure, not a stuck test. */
	for (int i = 0; i < 100 && waitpid(pid, &status, WNOHANG) == 0; i++)
		usleep(100000);
	if (kill(pid, 0) == 0 && waitpid(pid, &status, WNOHANG) == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	TST_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 10);
	seen = dp_read_file(log);
	TST_CHECK(seen && strstr(seen, "deskpilotd stopped while task") != NULL);
	free(seen);
	TST_EQ_INT(DP_CLI(&fx, "list"), 10);

	TST_REQUIRE(dp_test_daemon_start(&fx.daemon, &fx.bus, fx.xvfb.display, NULL) == 0);
	TST_EQ_INT(DP_CLI(&fx, "follow", id), 11);
	TST_CHECK(strstr(fx.out, "interrupted") != NULL);
	TST_EQ_INT(DP_CLI(&fx, "show", id), 0);
	TST_CHECK(strstr(fx.out, "State:       interrupted") != NULL);
}

/* A flow with its CSV given by relative paths, and a --var: the daemon
 * reads the files from the submitter's folder and types the values. */
static void test_flow_with_relative_paths_and_variables(void)
{
	char cwd[4096], text[256], line[256];

	dp_fixture_file(&fx, "greet.flow.json",
			"{\"steps\": [{\"for_each\": \"rows\", \"do\": [\n"
			"  {\"type\": \"${greeting} ${row.name};\", \"into\": {\"x\": 640, \"y\": 400}}]}]}\n");
	dp_fixture_file(&fx, "names.csv", "name\nJürgen\nAnna\n");
	dp_probe_send(&fx.probe, "clear");
	TST_REQUIRE(dp_probe_wait(&fx.probe, "cleared", 5000, line, sizeof(line)) == 0);
	TST_REQUIRE(getcwd(cwd, sizeof(cwd)) != NULL);
	TST_REQUIRE(chdir(fx.dir) == 0);
	TST_EQ_INT(DP_CLI(&fx, "submit", "greet", "--flow", "greet.flow.json", "--data", "names.csv", "--var",
			  "greeting=Grüß", "--wait"), 0);
	TST_CHECK(chdir(cwd) == 0);
	TST_CHECK(strstr(fx.out, "succeeded") != NULL);
	TST_EQ_INT(dp_app_text(&fx.probe, text, sizeof(text)), 0);
	TST_EQ_STR(text, "Grüß Jürgen;Grüß Anna;");
}

/* --secret names a secret of the daemon's store; its value is typed and
 * written nowhere the client can read it back. */
static void test_secret_by_name(void)
{
	char secrets[500], line[256], text[256], id[64], traj[700];
	const char *script = dp_fixture_file(&fx, "secret.jsonl",
					     "{\"action\":\"click\",\"x\":640,\"y\":400}\n"
					     "{\"action\":\"type\",\"text\":\"{{secret:erp_password}}\"}\n");
	FILE *f;
	char *lines;
	cJSON *json;

	snprintf(secrets, sizeof(secrets), "%s/deskpilot/secrets.json", fx.daemon.config_home);
	f = fopen(secrets, "w");
	TST_REQUIRE(f != NULL);
	fputs("{\"erp_password\": \"S3cr3t-Pässwort\"}\n", f);
	fclose(f);
	chmod(secrets, 0600);
	dp_probe_send(&fx.probe, "clear");
	TST_REQUIRE(dp_probe_wait(&fx.probe, "cleared", 5000, line, sizeof(line)) == 0);
	TST_EQ_INT(DP_CLI(&fx, "submit", "log in", "--script", script, "--secret", "erp_password", "--wait"), 0);
	dp_fixture_id_from(fx.out, id, sizeof(id));
	TST_EQ_INT(dp_app_text(&fx.probe, text, sizeof(text)), 0);
	TST_EQ_STR(text, "S3cr3t-Pässwort");
	TST_EQ_INT(DP_CLI(&fx, "show", id, "--json"), 0);
	TST_CHECK(strstr(fx.out, "S3cr3t") == NULL);
	json = cJSON_Parse(fx.out);
	snprintf(traj, sizeof(traj), "%s/traj.jsonl", json ? str(json, "Trajectory") : "");
	cJSON_Delete(json);
	lines = dp_read_file(traj);
	TST_CHECK(lines && strstr(lines, "{{secret:erp_password}}") && !strstr(lines, "S3cr3t"));
	free(lines);
	/* A name the store lacks is refused at once, by name. */
	TST_EQ_INT(DP_CLI(&fx, "submit", "--script", script, "--secret", "no_such_secret"), 8);
	TST_CHECK(strstr(fx.err, "no_such_secret") != NULL);
	unlink(secrets);
}

static void test_help(void)
{
	static const char *const commands[] = { "submit", "list", "show", "follow", "cancel",
						"pause", "resume", "answer", "report", "doctor" };

	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		char usage[64];

		snprintf(usage, sizeof(usage), "Usage: deskpilot %s", commands[i]);
		TST_EQ_INT(DP_CLI(&fx, commands[i], "--help"), 0);
		TST_CHECK(strstr(fx.out, usage) != NULL);
		TST_EQ_INT(DP_CLI(&fx, "help", commands[i]), 0);
		TST_CHECK(strstr(fx.out, usage) != NULL);
	}
	TST_EQ_INT(DP_CLI(&fx, "--help"), 0);
	TST_CHECK(strstr(fx.out, "submit") && strstr(fx.out, "doctor"));
	TST_EQ_INT(DP_CLI(&fx, "help", "frobnicate"), 2);
}

static const cJSON *check_named(const cJSON *doctor, const char *name)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, cJSON_GetObjectItem(doctor, "checks"))
		if (strcmp(str(c, "check"), name) == 0)
			return c;
	return NULL;
}

static void test_doctor(void)
{
	char config_home[400], conf[500], key[600], text[800];
	const char *saved_config = getenv("XDG_CONFIG_HOME"), *saved_state = getenv("XDG_STATE_HOME");
	cJSON *json;

	snprintf(config_home, sizeof(config_home), "%s/doctor-config", fx.dir);
	mkdir(config_home, 0700);
	snprintf(conf, sizeof(conf), "%s/deskpilot", config_home);
	mkdir(conf, 0700);
	setenv("XDG_CONFIG_HOME", config_home, 1);
	setenv("XDG_STATE_HOME", fx.daemon.state_home, 1);

	/* All is well: display, bus, deskpilotd, OCR, store. */
	TST_EQ_INT(DP_CLI(&fx, "doctor", "--json"), 0);
	json = cJSON_Parse(fx.out);
	TST_REQUIRE(json != NULL);
	TST_EQ_INT(num(json, "failed"), 0);
	TST_EQ_STR(str(check_named(json, "display"), "status"), "ok");
	TST_EQ_STR(str(check_named(json, "bus"), "status"), "ok");
	TST_EQ_STR(str(check_named(json, "deskpilotd"), "status"), "ok");
	TST_CHECK(strstr(str(check_named(json, "deskpilotd"), "finding"), "running") != NULL);
	TST_EQ_STR(str(check_named(json, "store"), "status"), "ok");
	TST_EQ_STR(str(check_named(json, "model"), "status"), "warn");
	cJSON_Delete(json);
	TST_EQ_INT(DP_CLI(&fx, "doctor"), 0);
	TST_CHECK(strstr(fx.out, "ok   display") != NULL);
	TST_CHECK(strstr(fx.out, "0 failed") != NULL);

	/* A config with an error fails, naming where; the key stays secret. */
	snprintf(key, sizeof(key), "%s/key", conf);
	dp_fixture_file(&fx, "doctor-config/deskpilot/key", "sk-do-not-print-4711\n");
	snprintf(text, sizeof(text), "{\"model\": {\"endpoint\": \"http://127.0.0.1:9/v1\", \"api_key_file\": \"%s\"}}\n",
		 key);
	dp_fixture_file(&fx, "doctor-config/deskpilot/config.json", text);
	TST_EQ_INT(DP_CLI(&fx, "doctor"), 0);
	TST_CHECK(strstr(fx.out, "ok   model") && strstr(fx.out, "http://127.0.0.1:9/v1"));
	TST_CHECK(strstr(fx.out, "sk-do-not-print") == NULL);
	dp_fixture_file(&fx, "doctor-config/deskpilot/config.json", "{\"max_steps\": 20,\n \"colour\": 1}\n");
	TST_EQ_INT(DP_CLI(&fx, "doctor"), 1);
	TST_CHECK(strstr(fx.out, "fail config") && strstr(fx.out, "colour"));

	/* A secrets file others can read. */
	dp_fixture_file(&fx, "doctor-config/deskpilot/config.json", "{}\n");
	snprintf(text, sizeof(text), "%s/secrets.json", conf);
	dp_fixture_file(&fx, "doctor-config/deskpilot/secrets.json", "{\"erp_password\": \"hunter2\"}\n");
	chmod(text, 0644);
	TST_EQ_INT(DP_CLI(&fx, "doctor"), 1);
	TST_CHECK(strstr(fx.out, "fail secrets") && strstr(fx.out, "chmod 600"));
	TST_CHECK(strstr(fx.out, "hunter2") == NULL);
	chmod(text, 0600);
	TST_EQ_INT(DP_CLI(&fx, "doctor"), 0);
	TST_CHECK(strstr(fx.out, "1 secret,") != NULL);

	/* A display without XTEST (input needs it). */
	{
		struct dp_xvfb bare;
		const char *const extra[] = { "-extension", "XTEST", NULL };

		TST_REQUIRE(dp_xvfb_start(&bare, 640, 480, extra) == 0);
		TST_EQ_INT(DP_CLI(&fx, "--display", bare.display, "doctor"), 1);
		TST_CHECK(strstr(fx.out, "fail display") && strstr(fx.out, "lacks XTEST") &&
			  strstr(fx.out, "+extension"));
		dp_xvfb_stop(&bare);
	}

	/* No display, no daemon. */
	unsetenv("DISPLAY");
	TST_EQ_INT(DP_CLI(&fx, "--bus-address", "unix:path=/nonexistent/bus", "doctor"), 1);
	TST_CHECK(strstr(fx.out, "fail display") && strstr(fx.out, "DISPLAY is not set"));
	TST_CHECK(strstr(fx.out, "fail bus") != NULL);
	setenv("DISPLAY", fx.xvfb.display, 1);

	setenv("XDG_CONFIG_HOME", saved_config ? saved_config : config_home, 1);
	if (saved_state)
		setenv("XDG_STATE_HOME", saved_state, 1);
	else
		unsetenv("XDG_STATE_HOME");
}

/* A bus that starts deskpilotd on demand (D-Bus activation), as the
 * packaged service file does: doctor calls it activatable, and the first
 * submit starts it. */
static void test_activation(void)
{
	char services[400], service[500], conf_path[400], conf[1200], text[600], home[300];
	const char *saved_state = getenv("XDG_STATE_HOME"), *saved_config = getenv("XDG_CONFIG_HOME");
	struct dp_test_bus bus;
	cJSON *json;
	sd_bus *client = NULL;
	sd_bus_message *reply = NULL;
	uint32_t pid = 0;
	const char *moves = dp_fixture_file(&fx, "act.jsonl", "{\"action\":\"move\",\"x\":7,\"y\":7}\n");

	snprintf(services, sizeof(services), "%s/services", fx.dir);
	snprintf(home, sizeof(home), "%s/activated", fx.dir);
	mkdir(services, 0755);
	mkdir(home, 0700);
	snprintf(service, sizeof(service), "services/org.deskpilot.Agent1.service");
	snprintf(text, sizeof(text), "[D-BUS Service]\nName=org.deskpilot.Agent1\nExec=%s\n", getenv("DP_DESKPILOTD"));
	dp_fixture_file(&fx, service, text);
	snprintf(conf, sizeof(conf),
		 "<busconfig><type>session</type><listen>unix:tmpdir=%s</listen><auth>EXTERNAL</auth>"
		 "<servicedir>%s</servicedir><policy context=\"default\"><allow send_destination=\"*\" eavesdrop=\"true\"/>"
		 "<allow eavesdrop=\"true\"/><allow own=\"*\"/></policy></busconfig>\n",
		 fx.dir, services);
	snprintf(conf_path, sizeof(conf_path), "%s", dp_fixture_file(&fx, "activation.conf", conf));
	/* What the bus starts inherits the bus's environment. */
	setenv("XDG_STATE_HOME", home, 1);
	setenv("XDG_CONFIG_HOME", home, 1);
	TST_REQUIRE(dp_test_bus_start(&bus, conf_path) == 0);
	if (saved_state)
		setenv("XDG_STATE_HOME", saved_state, 1);
	else
		unsetenv("XDG_STATE_HOME");
	if (saved_config)
		setenv("XDG_CONFIG_HOME", saved_config, 1);
	else
		unsetenv("XDG_CONFIG_HOME");

	TST_CHECK(!dp_test_bus_has_owner(&bus, "org.deskpilot.Agent1"));
	TST_EQ_INT(DP_CLI(&fx, "--bus-address", bus.address, "doctor", "--json"), 0);
	json = cJSON_Parse(fx.out);
	TST_CHECK(json && strstr(str(check_named(json, "deskpilotd"), "finding"), "starts it on the first request"));
	cJSON_Delete(json);
	TST_EQ_INT(DP_CLI(&fx, "--bus-address", bus.address, "submit", "--script", moves, "--wait"), 0);
	TST_CHECK(strstr(fx.out, "succeeded") != NULL);
	TST_CHECK(dp_test_bus_has_owner(&bus, "org.deskpilot.Agent1"));
	TST_EQ_INT(DP_CLI(&fx, "--bus-address", bus.address, "doctor"), 0);
	TST_CHECK(strstr(fx.out, "ok   deskpilotd running") != NULL);

	/* The bus started it: stop it by its pid before the bus goes. */
	if (sd_bus_new(&client) >= 0 && sd_bus_set_address(client, bus.address) >= 0 &&
	    sd_bus_set_bus_client(client, 1) >= 0 && sd_bus_start(client) >= 0 &&
	    sd_bus_call_method(client, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
			       "GetConnectionUnixProcessID", NULL, &reply, "s", "org.deskpilot.Agent1") >= 0)
		sd_bus_message_read(reply, "u", &pid);
	sd_bus_message_unref(reply);
	sd_bus_flush_close_unref(client);
	TST_CHECK(pid > 0);
	/* Not our child: wait for it to be gone rather than reap it. */
	if (pid > 0 && kill((pid_t)pid, SIGTERM) == 0)
		for (int i = 0; i < 200 && kill((pid_t)pid, 0) == 0; i++)
			usleep(20000);
	dp_test_bus_stop(&bus);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	if (!getenv("DP_DESKPILOTD")) {
		fprintf(stderr, "DP_DESKPILOTD is not set: run through meson test\n");
		return TST_SKIP;
	}
	if (dp_fixture_start(&fx, NULL) < 0) {
		dp_fixture_stop(&fx);
		return EXIT_FAILURE;
	}
	TST_RUN(test_submit_wait_list_show);
	TST_RUN(test_follow_prints_plain_lines_when_piped);
	TST_RUN(test_follow_redraws_one_line_on_a_terminal);
	TST_RUN(test_report);
	TST_RUN(test_exit_codes_from_outcomes);
	TST_RUN(test_flow_with_relative_paths_and_variables);
	TST_RUN(test_secret_by_name);
	TST_RUN(test_help);
	TST_RUN(test_follow_when_the_daemon_goes_away);
	TST_RUN(test_doctor);
	TST_RUN(test_activation);
	if (tst_failures)
		dp_test_daemon_print_log(&fx.daemon);
	dp_fixture_stop(&fx);
	TST_EXIT();
}
