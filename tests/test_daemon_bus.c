/* deskpilotd over a private session bus, as its clients use it: tasks
 * submitted from the CLI and from plain busctl, the signals in the order
 * the API promises, cancel, pause and resume, a question answered, and the
 * errors for bad Submit keys.  Real Xvfb, dbus-daemon and deskpilotd; the
 * clicks are checked where the probe app received them. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <systemd/sd-bus.h>
#include <xcb/xcb.h>

#include "daemon_fixture.h"
#include "tst.h"

#define TASK_PREFIX "/org/deskpilot/Agent1/task/"

static struct dp_fixture fx;
static struct dp_test_watch watch;

/* The index of the first recorded signal from `from` on that matches, or -1. */
static int find(const char *member, const char *path, const char *arg, size_t from)
{
	for (size_t i = from; i < watch.n; i++)
		if (strcmp(watch.sig[i].member, member) == 0 && (!path || strcmp(watch.sig[i].path, path) == 0) &&
		    (!arg || strcmp(watch.sig[i].arg, arg) == 0))
			return (int)i;
	return -1;
}

static int count(const char *member, const char *path, size_t from)
{
	int n = 0;

	for (size_t i = from; i < watch.n; i++)
		n += strcmp(watch.sig[i].member, member) == 0 && strcmp(watch.sig[i].path, path) == 0;
	return n;
}

/* Submits with the CLI (no waiting); fills the task's id and path. */
static int submit(const char *instruction, const char *script, char *id, char *path)
{
	int rc = DP_CLI(&fx, "submit", instruction, "--script", script);

	dp_fixture_id_from(fx.out, id, 64);
	snprintf(path, 160, TASK_PREFIX "%s", id);
	if (rc != 0)
		fprintf(stderr, "submit: exit %d: %s%s", rc, fx.out, fx.err);
	return rc;
}

/* A value of deskpilot show --json for the task. */
static cJSON *show(const char *id)
{
	cJSON *json;

	if (DP_CLI(&fx, "show", id, "--json") != 0)
		return NULL;
	json = cJSON_Parse(fx.out);
	return json;
}

static void expect_button(int x, int y)
{
	char line[512];

	TST_REQUIRE(dp_probe_wait(&fx.probe, "button", 5000, line, sizeof(line)) == 0);
	TST_CHECK(strstr(line, "\"press\":true") != NULL);
	TST_EQ_INT(dp_json_int(line, "root_x"), x);
	TST_EQ_INT(dp_json_int(line, "root_y"), y);
	TST_REQUIRE(dp_probe_wait(&fx.probe, "button", 5000, line, sizeof(line)) == 0);
	TST_CHECK(strstr(line, "\"press\":false") != NULL);
}

static void test_signals_in_order_for_a_task_from_the_cli(void)
{
	const char *script = dp_fixture_file(&fx, "clicks.jsonl",
					     "{\"action\":\"click\",\"x\":640,\"y\":400}\n"
					     "{\"action\":\"click\",\"x\":900,\"y\":650}\n");
	char id[64], path[160];
	int added, running, finished, task_finished, last = -1;
	unsigned expect_step = 1;
	size_t start = watch.n;

	TST_EQ_INT(DP_CLI(&fx, "submit", "two clicks", "--script", script, "--wait"), 0);
	dp_fixture_id_from(fx.out, id, sizeof(id));
	snprintf(path, sizeof(path), TASK_PREFIX "%s", id);
	TST_CHECK(strstr(fx.out, "succeeded") != NULL);
	TST_REQUIRE(dp_test_watch_wait(&watch, "TaskFinished", path, start, 10000) >= 0);
	added = find("TaskAdded", path, NULL, start);
	running = find("State", path, "running", start);
	finished = find("Finished", path, NULL, start);
	task_finished = find("TaskFinished", path, NULL, start);
	TST_CHECK(added >= 0 && running > added);
	TST_CHECK(finished > running && task_finished > finished);
	/* StepCompleted 1..n, in order, between running and Finished. */
	for (size_t i = start; i < watch.n; i++) {
		const struct dp_test_signal *s = &watch.sig[i];

		if (strcmp(s->member, "StepCompleted") != 0 || strcmp(s->path, path) != 0)
			continue;
		TST_EQ_INT(s->step, expect_step);
		TST_CHECK((int)i > running && (int)i < finished);
		if (expect_step == 1)
			TST_CHECK(strstr(s->arg, "click") && strstr(s->arg, "640") && strstr(s->arg, "400"));
		if (expect_step == 2)
			TST_CHECK(strstr(s->arg, "click") && strstr(s->arg, "900") && strstr(s->arg, "650"));
		expect_step++;
		last = (int)i;
	}
	TST_CHECK(expect_step >= 3);
	TST_CHECK(last >= 0);
	TST_EQ_STR(watch.sig[finished].arg, "succeeded");
	TST_EQ_STR(watch.sig[task_finished].arg, "succeeded");
	expect_button(640, 400);
	expect_button(900, 650);
}

static const char *busctl_path(void)
{
	static const char *const candidates[] = { "/usr/bin/busctl", "/bin/busctl", "/usr/local/bin/busctl" };

	for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++)
		if (access(candidates[i], X_OK) == 0)
			return candidates[i];
	return "busctl";
}

static void test_submit_with_plain_busctl(void)
{
	const char *script = dp_fixture_file(&fx, "busctl.jsonl", "{\"action\":\"click\",\"x\":300,\"y\":200}\n");
	char address[600], id[64], path[160];
	const char *argv[] = { busctl_path(), address, "call", "org.deskpilot.Agent1", "/org/deskpilot/Agent1",
			       "org.deskpilot.Agent1.Manager", "Submit", "a{sv}", "2", "instruction", "s", "from busctl",
			       "script", "s", script, NULL };
	size_t start = watch.n;
	int rc;

	snprintf(address, sizeof(address), "--address=%s", fx.bus.address);
	rc = dp_run(argv, NULL, fx.out, sizeof(fx.out), fx.err, sizeof(fx.err));
	TST_EQ_INT(rc, 0);
	TST_REQUIRE(strncmp(fx.out, "o \"" TASK_PREFIX, strlen("o \"" TASK_PREFIX)) == 0);
	dp_fixture_id_from(fx.out, id, sizeof(id));
	snprintf(path, sizeof(path), TASK_PREFIX "%s", id);
	/* The object path works where an id does. */
	TST_EQ_INT(DP_CLI(&fx, "follow", path), 0);
	TST_CHECK(strstr(fx.out, "succeeded after") != NULL);
	TST_REQUIRE(dp_test_watch_wait(&watch, "TaskFinished", path, start, 5000) >= 0);
	TST_CHECK(find("TaskAdded", path, NULL, start) >= 0);
	expect_button(300, 200);
}

/* Whether any key or button is down on the display. */
static bool anything_pressed(void)
{
	xcb_connection_t *c = xcb_connect(fx.xvfb.display, NULL);
	xcb_query_keymap_reply_t *keys = xcb_query_keymap_reply(c, xcb_query_keymap(c), NULL);
	bool down = !keys;

	for (int i = 0; keys && i < 32; i++)
		down = down || keys->keys[i];
	free(keys);
	xcb_disconnect(c);
	return down;
}

static char *many_waits(const char *first, int n, int ms)
{
	size_t size = (size_t)n * 48 + 256;
	char *text = malloc(size);
	size_t len;

	snprintf(text, size, "%s", first);
	for (int i = 0; i < n; i++) {
		len = strlen(text);
		snprintf(text + len, size - len, "{\"action\":\"wait\",\"ms\":%d}\n", ms);
	}
	return text;
}

static void test_cancel_a_running_task(void)
{
	char *text = many_waits("{\"action\":\"key_down\",\"keys\":\"shift\"}\n", 80, 250);
	const char *script = dp_fixture_file(&fx, "held.jsonl", text);
	char id[64], path[160];
	size_t start = watch.n;
	int fin;

	free(text);
	TST_REQUIRE(submit("hold shift and wait", script, id, path) == 0);
	TST_REQUIRE(dp_test_watch_wait(&watch, "StepCompleted", path, start, 15000) >= 0);
	TST_REQUIRE(dp_test_watch_wait(&watch, "StepCompleted", path, (size_t)find("StepCompleted", path, NULL, start) + 1,
				       5000) >= 0);
	TST_CHECK(anything_pressed()); /* shift is down while it runs */
	TST_EQ_INT(DP_CLI(&fx, "cancel", id), 0);
	fin = dp_test_watch_wait(&watch, "Finished", path, start, 5000);
	TST_REQUIRE(fin >= 0);
	TST_EQ_STR(watch.sig[fin].arg, "cancelled");
	TST_CHECK(dp_test_watch_wait(&watch, "TaskFinished", path, (size_t)fin, 5000) > fin);
	TST_CHECK(!anything_pressed());
	/* No step after the end. */
	dp_test_watch_drain(&watch, 600);
	TST_EQ_INT(count("StepCompleted", path, (size_t)fin), 0);
	/* Once finished, cancel is refused and says why. */
	TST_EQ_INT(DP_CLI(&fx, "cancel", id), 2);
	TST_CHECK(strstr(fx.err, "finished") != NULL);
}

static void test_pause_and_resume(void)
{
	char *text = many_waits("", 10, 150);
	const char *script = dp_fixture_file(&fx, "waits.jsonl", text);
	char id[64], path[160];
	size_t start = watch.n;
	int paused, resumed, fin, steps_while_paused;
	unsigned expect = 1;
	cJSON *props;

	free(text);
	TST_REQUIRE(submit("ten waits", script, id, path) == 0);
	TST_REQUIRE(dp_test_watch_wait(&watch, "StepCompleted", path, start, 15000) >= 0);
	TST_EQ_INT(DP_CLI(&fx, "pause", id), 0);
	paused = dp_test_watch_wait(&watch, "State", path, start, 5000);
	while (paused >= 0 && strcmp(watch.sig[paused].arg, "paused") != 0)
		paused = dp_test_watch_wait(&watch, "State", path, (size_t)paused + 1, 5000);
	TST_REQUIRE(paused >= 0);
	/* The step under way when the pause came may end; then nothing. */
	dp_test_watch_drain(&watch, 300);
	steps_while_paused = count("StepCompleted", path, (size_t)paused);
	TST_CHECK(steps_while_paused <= 1);
	dp_test_watch_drain(&watch, 1500);
	TST_EQ_INT(count("StepCompleted", path, (size_t)paused), steps_while_paused);
	props = show(id);
	TST_CHECK(props && strcmp(cJSON_GetObjectItem(props, "State")->valuestring, "paused") == 0);
	cJSON_Delete(props);

	TST_EQ_INT(DP_CLI(&fx, "resume", id), 0);
	resumed = find("State", path, "running", (size_t)paused);
	if (resumed < 0)
		resumed = dp_test_watch_wait(&watch, "State", path, (size_t)paused + 1, 5000);
	TST_CHECK(resumed > paused);
	fin = dp_test_watch_wait(&watch, "Finished", path, start, 15000);
	TST_REQUIRE(fin >= 0);
	TST_EQ_STR(watch.sig[fin].arg, "succeeded");
	/* Every step once, in order, none lost to the pause. */
	for (size_t i = start; i < (size_t)fin; i++)
		if (strcmp(watch.sig[i].member, "StepCompleted") == 0 && strcmp(watch.sig[i].path, path) == 0)
			TST_EQ_INT(watch.sig[i].step, expect++);
	TST_CHECK(expect >= 11);
}

static void test_answer_a_question(void)
{
	const char *script = dp_fixture_file(&fx, "ask.jsonl",
					     "{\"action\":\"ask_user\",\"question\":\"Which customer number?\"}\n"
					     "{\"action\":\"click\",\"x\":500,\"y\":500}\n");
	char id[64], path[160], traj[600];
	size_t start = watch.n;
	int asked, fin;
	cJSON *props;
	char *lines;

	TST_REQUIRE(submit("ask first", script, id, path) == 0);
	asked = dp_test_watch_wait(&watch, "NeedsInput", path, start, 15000);
	TST_REQUIRE(asked >= 0);
	TST_EQ_STR(watch.sig[asked].arg, "Which customer number?");
	props = show(id);
	TST_REQUIRE(props != NULL);
	TST_EQ_STR(cJSON_GetObjectItem(props, "State")->valuestring, "waiting_user");
	TST_EQ_STR(cJSON_GetObjectItem(props, "Question")->valuestring, "Which customer number?");
	snprintf(traj, sizeof(traj), "%s/traj.jsonl", cJSON_GetObjectItem(props, "Trajectory")->valuestring);
	cJSON_Delete(props);

	TST_EQ_INT(DP_CLI(&fx, "answer", id, "K-4711 Müller"), 0);
	fin = dp_test_watch_wait(&watch, "Finished", path, start, 15000);
	TST_REQUIRE(fin >= 0);
	TST_EQ_STR(watch.sig[fin].arg, "succeeded");
	expect_button(500, 500);
	lines = dp_read_file(traj);
	TST_CHECK(lines && strstr(lines, "K-4711 Müller") != NULL);
	free(lines);
	/* Nothing is asked any more. */
	TST_EQ_INT(DP_CLI(&fx, "answer", id, "again"), 2);
}

/* Submit with one entry built by add; returns the error's name and message. */
static int submit_raw(sd_bus *bus, int (*add)(sd_bus_message *m, const char *script), const char *script,
		      sd_bus_error *error)
{
	sd_bus_message *m = NULL, *reply = NULL;
	int r = sd_bus_message_new_method_call(bus, &m, "org.deskpilot.Agent1", "/org/deskpilot/Agent1",
					       "org.deskpilot.Agent1.Manager", "Submit");

	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "{sv}");
	if (r >= 0)
		r = add(m, script);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r >= 0)
		r = sd_bus_call(bus, m, 0, error, &reply);
	sd_bus_message_unref(m);
	sd_bus_message_unref(reply);
	return r;
}

static int add_steps_as_string(sd_bus_message *m, const char *script)
{
	return sd_bus_message_append(m, "{sv}{sv}", "script", "s", script, "max_steps", "s", "12");
}

static int add_unknown_key(sd_bus_message *m, const char *script)
{
	return sd_bus_message_append(m, "{sv}{sv}", "script", "s", script, "frobnicate", "s", "x");
}

static int add_priority_unsigned(sd_bus_message *m, const char *script)
{
	return sd_bus_message_append(m, "{sv}{sv}", "script", "s", script, "priority", "u", 5);
}

static int add_variables_as_list(sd_bus_message *m, const char *script)
{
	return sd_bus_message_append(m, "{sv}{sv}", "script", "s", script, "variables", "as", 1, "a=b");
}

static int add_too_many_steps(sd_bus_message *m, const char *script)
{
	return sd_bus_message_append(m, "{sv}{sv}", "script", "s", script, "max_steps", "u", 500);
}

static int add_missing_secret(sd_bus_message *m, const char *script)
{
	return sd_bus_message_append(m, "{sv}{sv}", "script", "s", script, "secrets", "as", 1, "no_such_secret");
}

static void test_bad_submit_keys_are_named(void)
{
	static const struct {
		int (*add)(sd_bus_message *m, const char *script);
		const char *error, *mentions;
	} cases[] = {
		{ add_steps_as_string, "org.deskpilot.Agent1.Error.InvalidArgument", "max_steps" },
		{ add_unknown_key, "org.deskpilot.Agent1.Error.InvalidArgument", "frobnicate" },
		{ add_priority_unsigned, "org.deskpilot.Agent1.Error.InvalidArgument", "priority" },
		{ add_variables_as_list, "org.deskpilot.Agent1.Error.InvalidArgument", "variables" },
		{ add_too_many_steps, "org.deskpilot.Agent1.Error.InvalidArgument", "max_steps" },
		{ add_missing_secret, "org.deskpilot.Agent1.Error.NotFound", "no_such_secret" },
	};
	const char *script = dp_fixture_file(&fx, "one.jsonl", "{\"action\":\"move\",\"x\":1,\"y\":1}\n");
	sd_bus *bus = NULL;
	size_t start = watch.n;

	TST_REQUIRE(sd_bus_new(&bus) >= 0 && sd_bus_set_address(bus, fx.bus.address) >= 0 &&
		    sd_bus_set_bus_client(bus, 1) >= 0 && sd_bus_start(bus) >= 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sd_bus_error error = SD_BUS_ERROR_NULL;

		TST_CHECK(submit_raw(bus, cases[i].add, script, &error) < 0);
		TST_EQ_STR(error.name, cases[i].error);
		if (!error.message || !strstr(error.message, cases[i].mentions)) {
			fprintf(stderr, "case %zu: \"%s\" does not name %s\n", i, error.message ? error.message : "",
				cases[i].mentions);
			TST_CHECK(false);
		}
		sd_bus_error_free(&error);
	}
	sd_bus_flush_close_unref(bus);
	/* None of them became a task. */
	dp_test_watch_drain(&watch, 200);
	TST_EQ_INT(find("TaskAdded", NULL, NULL, start), -1);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	if (!getenv("DP_DESKPILOTD")) {
		fprintf(stderr, "DP_DESKPILOTD is not set: run through meson test\n");
		return TST_SKIP;
	}
	if (dp_fixture_start(&fx, NULL) < 0 || dp_test_watch_start(&watch, &fx.bus) < 0) {
		dp_fixture_stop(&fx);
		return EXIT_FAILURE;
	}
	TST_RUN(test_signals_in_order_for_a_task_from_the_cli);
	TST_RUN(test_submit_with_plain_busctl);
	TST_RUN(test_cancel_a_running_task);
	TST_RUN(test_pause_and_resume);
	TST_RUN(test_answer_a_question);
	TST_RUN(test_bad_submit_keys_are_named);
	if (tst_failures)
		dp_test_daemon_print_log(&fx.daemon);
	dp_test_watch_stop(&watch);
	dp_fixture_stop(&fx);
	TST_EXIT();
}
