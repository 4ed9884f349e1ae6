/* Tasks through deskpilotd on a real display: secrets typed exactly and
 * found nowhere on disk, a dry run that touches nothing, priorities, a
 * flow given as text, and the keyboard map given back after a task. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>
#include <xcb/xcb.h>

#include "daemon_client.h"
#include "daemon_fixture.h"
#include "tst.h"

static struct dp_fixture fx;
static sd_bus *bus;

struct args {
	const char *script, *flow;
	const char *inline_name, *inline_value;
	const char *secret;
	const char *display;
	bool dry_run;
	int priority;
	unsigned timeout;
};

static int fill(sd_bus_message *m, void *data)
{
	const struct args *a = data;
	int r = 0;

	if (a->script)
		r = sd_bus_message_append(m, "{sv}", "script", "s", a->script);
	if (r >= 0 && a->flow)
		r = sd_bus_message_append(m, "{sv}", "flow", "s", a->flow);
	if (r >= 0 && a->inline_name)
		r = sd_bus_message_append(m, "{sv}", "inline_secrets", "a{ss}", 1, a->inline_name, a->inline_value);
	if (r >= 0 && a->secret)
		r = sd_bus_message_append(m, "{sv}", "secrets", "as", 1, a->secret);
	if (r >= 0 && a->display)
		r = sd_bus_message_append(m, "{sv}", "display", "s", a->display);
	if (r >= 0 && a->dry_run)
		r = sd_bus_message_append(m, "{sv}", "dry_run", "b", 1);
	if (r >= 0 && a->timeout)
		r = sd_bus_message_append(m, "{sv}", "timeout", "u", a->timeout);
	if (r >= 0 && a->priority)
		r = sd_bus_message_append(m, "{sv}", "priority", "i", a->priority);
	return r;
}

static int submit(const struct args *a, char *path)
{
	char err[600];
	int r = dp_tc_submit(bus, fill, (void *)a, path, 200, err, sizeof(err));

	if (r < 0)
		fprintf(stderr, "Submit: %s\n", err);
	return r;
}

/* Whether needle is anywhere in the file's bytes. */
static bool file_has(const char *path, const char *needle)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;
	bool found = false;

	if (!f)
		return false;
	buf = malloc(64 << 20);
	n = buf ? fread(buf, 1, (64 << 20) - 1, f) : 0;
	fclose(f);
	for (size_t i = 0; buf && i + strlen(needle) <= n; i++)
		if (memcmp(buf + i, needle, strlen(needle)) == 0) {
			found = true;
			break;
		}
	free(buf);
	return found;
}

static bool probe_clicked(void)
{
	char lines[2048][512];
	size_t n = 0;

	if (dp_app_collect(&fx.probe, lines, 2048, &n) < 0)
		return true;
	for (size_t i = 0; i < n; i++)
		if (strstr(lines[i], "\"event\":\"button\""))
			return true;
	return false;
}

static void test_secrets_typed_and_kept_nowhere(void)
{
	char path[200], state[64], dir[600], file[800], text[256];
	const char *script;
	struct args a = { 0 };

	/* secrets.json: must be 0600; the inline value is memory only. */
	snprintf(file, sizeof(file), "%s/deskpilot/secrets.json", fx.daemon.config_home);
	{
		FILE *f = fopen(file, "w");

		TST_REQUIRE(f);
		fputs("{\"erp_password\": \"Grüße-Pa55\"}\n", f);
		fclose(f);
		chmod(file, 0644);
	}
	script = dp_fixture_file(&fx, "secret.jsonl",
				 "{\"action\":\"click\",\"x\":960,\"y\":540}\n"
				 "{\"action\":\"type\",\"text\":\"{{secret:erp_password}}/{{secret:pin}}\"}\n");
	a.script = script;
	a.secret = "erp_password";
	a.inline_name = "pin";
	a.inline_value = "X7q9";
	/* Readable by others: refused, saying how to fix it. */
	{
		char err[600];

		TST_CHECK(dp_tc_submit(bus, fill, &a, path, sizeof(path), err, sizeof(err)) < 0);
		TST_CHECK(strstr(err, "chmod 600") != NULL);
		TST_CHECK(strstr(err, "secrets: the secrets file ") != NULL);
	}
	chmod(file, 0600);
	dp_probe_send(&fx.probe, "clear");
	TST_REQUIRE(submit(&a, path) == 0);
	TST_REQUIRE(dp_tc_wait_final(bus, path, state, sizeof(state), 30000) == 0);
	TST_EQ_STR(state, "succeeded");
	TST_EQ_INT(dp_app_text(&fx.probe, text, sizeof(text)), 0);
	TST_EQ_STR(text, "Grüße-Pa55/X7q9");

	/* Neither value is in the store, the run folder or the log. */
	dp_tc_get_string(bus, path, "Trajectory", dir, sizeof(dir));
	{
		const char *files[] = { "traj.jsonl", "result.json", "report.html" };

		for (size_t i = 0; i < 3; i++) {
			snprintf(file, sizeof(file), "%s/%s", dir, files[i]);
			TST_CHECK(access(file, R_OK) == 0);
			TST_CHECK(!file_has(file, "Pa55"));
			TST_CHECK(!file_has(file, "X7q9"));
		}
		/* The trajectory keeps the placeholder the script gave. */
		snprintf(file, sizeof(file), "%s/traj.jsonl", dir);
		TST_CHECK(file_has(file, "{{secret:erp_password}}"));
	}
	{
		const char *files[] = { "tasks.db", "tasks.db-wal" };

		for (size_t i = 0; i < 2; i++) {
			snprintf(file, sizeof(file), "%s/deskpilot/%s", fx.daemon.state_home, files[i]);
			TST_CHECK(!file_has(file, "Pa55"));
			TST_CHECK(!file_has(file, "X7q9"));
		}
	}
	TST_CHECK(!file_has(fx.daemon.log, "Pa55"));
	TST_CHECK(!file_has(fx.daemon.log, "X7q9"));
}

static void test_dry_run_touches_nothing(void)
{
	char path[200], state[64], result[600];
	struct args a = { .dry_run = true };
	uint32_t step = 99;

	a.script = dp_fixture_file(&fx, "dry.jsonl", "{\"action\":\"click\",\"x\":100,\"y\":100}\n");
	probe_clicked(); /* forget what came before */
	TST_REQUIRE(submit(&a, path) == 0);
	TST_REQUIRE(dp_tc_wait_final(bus, path, state, sizeof(state), 30000) == 0);
	TST_EQ_STR(state, "succeeded");
	dp_tc_get_string(bus, path, "Result", result, sizeof(result));
	TST_CHECK(strncmp(result, "dry run: ", 9) == 0);
	dp_tc_get_u32(bus, path, "Step", &step);
	TST_EQ_INT(step, 0);
	TST_CHECK(!probe_clicked());
}

static uint64_t started(const char *path)
{
	uint64_t t = 0;

	sd_bus_get_property_trivial(bus, "org.deskpilot.Agent1", path, "org.deskpilot.Agent1.Task", "Started", NULL,
				    't', &t);
	return t;
}

static void test_priority_then_order(void)
{
	char slow[200], low[200], high[200], mid1[200], mid2[200], state[64];
	struct args a = { 0 };

	/* Keep the display busy while the others queue up. */
	a.script = dp_fixture_file(&fx, "busy.jsonl", "{\"action\":\"wait\",\"ms\":1500}\n");
	TST_REQUIRE(submit(&a, slow) == 0);
	a.script = dp_fixture_file(&fx, "short.jsonl", "{\"action\":\"wait\",\"ms\":10}\n");
	a.priority = -5;
	TST_REQUIRE(submit(&a, low) == 0);
	a.priority = 0;
	TST_REQUIRE(submit(&a, mid1) == 0);
	a.priority = 50;
	TST_REQUIRE(submit(&a, high) == 0);
	a.priority = 0;
	TST_REQUIRE(submit(&a, mid2) == 0);
	TST_REQUIRE(dp_tc_wait_final(bus, low, state, sizeof(state), 60000) == 0);
	TST_EQ_STR(state, "succeeded");
	TST_CHECK(started(slow) < started(high));
	TST_CHECK(started(high) < started(mid1));
	TST_CHECK(started(mid1) < started(mid2));
	TST_CHECK(started(mid2) < started(low));
}

/* The Running property: how many tasks run now. */
static int running_count(void)
{
	sd_bus_message *reply = NULL;
	const char *p;
	int n = 0, r = sd_bus_get_property(bus, "org.deskpilot.Agent1", "/org/deskpilot/Agent1",
					    "org.deskpilot.Agent1.Manager", "Running", NULL, &reply, "ao");

	if (r >= 0 && sd_bus_message_enter_container(reply, 'a', "o") >= 0)
		while (sd_bus_message_read_basic(reply, 'o', &p) > 0)
			n++;
	sd_bus_message_unref(reply);
	return r < 0 ? r : n;
}

static void test_one_task_per_display(void)
{
	struct dp_xvfb second;
	char a1[200], a2[200], b1[200], state[64];
	struct args a = { 0 };
	int most = 0;

	TST_REQUIRE(dp_xvfb_start(&second, 800, 600, NULL) == 0);
	a.script = dp_fixture_file(&fx, "busy2.jsonl", "{\"action\":\"wait\",\"ms\":1500}\n");
	TST_REQUIRE(submit(&a, a1) == 0);
	TST_REQUIRE(submit(&a, a2) == 0);
	a.display = second.display;
	TST_REQUIRE(submit(&a, b1) == 0);
	/* The two displays run at once; the second task of the first waits. */
	for (int i = 0; i < 100; i++) {
		int n = running_count();

		if (n > most)
			most = n;
		if (most == 2)
			break;
		usleep(20 * 1000);
	}
	TST_EQ_INT(most, 2);
	TST_EQ_INT(dp_tc_get_string(bus, a2, "State", state, sizeof(state)) >= 0, 1);
	TST_EQ_STR(state, "queued");
	TST_REQUIRE(dp_tc_wait_final(bus, b1, state, sizeof(state), 30000) == 0);
	TST_EQ_STR(state, "succeeded");
	TST_REQUIRE(dp_tc_wait_final(bus, a2, state, sizeof(state), 30000) == 0);
	TST_EQ_STR(state, "succeeded");
	TST_CHECK(started(b1) < started(a2));
	dp_xvfb_stop(&second);
}

static int call(const char *path, const char *method, const char *answer)
{
	sd_bus_error error = SD_BUS_ERROR_NULL;
	int r = answer ? sd_bus_call_method(bus, "org.deskpilot.Agent1", path, "org.deskpilot.Agent1.Task", method,
					    &error, NULL, "s", answer)
		       : sd_bus_call_method(bus, "org.deskpilot.Agent1", path, "org.deskpilot.Agent1.Task", method,
					    &error, NULL, "");

	if (r < 0)
		fprintf(stderr, "%s: %s: %s\n", method, error.name, error.message);
	sd_bus_error_free(&error);
	return r < 0 ? r : 0;
}

static bool wait_state(const char *path, const char *want, int timeout_ms)
{
	char state[64] = "";

	for (int waited = 0; waited < timeout_ms; waited += 20) {
		if (dp_tc_get_string(bus, path, "State", state, sizeof(state)) >= 0 && strcmp(state, want) == 0)
			return true;
		usleep(20 * 1000);
	}
	fprintf(stderr, "%s: still %s, not %s\n", path, state, want);
	return false;
}

static void test_paused_while_asking(void)
{
	char path[200], state[64], question[300], text[64];
	struct args a = { 0 };
	uint32_t step = 0, later = 0;

	a.script = dp_fixture_file(&fx, "ask.jsonl",
				   "{\"action\":\"ask_user\",\"question\":\"Which invoice?\"}\n"
				   "{\"action\":\"click\",\"x\":960,\"y\":540}\n"
				   "{\"action\":\"type\",\"text\":\"ok\"}\n");
	dp_probe_send(&fx.probe, "clear");
	TST_REQUIRE(submit(&a, path) == 0);
	TST_REQUIRE(wait_state(path, "waiting_user", 30000));
	dp_tc_get_string(bus, path, "Question", question, sizeof(question));
	TST_EQ_STR(question, "Which invoice?");
	/* Paused while it asks: the question still shows. */
	TST_EQ_INT(call(path, "Pause", NULL), 0);
	dp_tc_get_string(bus, path, "State", state, sizeof(state));
	TST_EQ_STR(state, "waiting_user");
	/* Answered: it stays paused and does nothing more. */
	TST_EQ_INT(call(path, "Answer", "the first"), 0);
	dp_tc_get_string(bus, path, "State", state, sizeof(state));
	TST_EQ_STR(state, "paused");
	dp_tc_get_u32(bus, path, "Step", &step);
	usleep(500 * 1000);
	dp_tc_get_u32(bus, path, "Step", &later);
	TST_EQ_INT(later, step);
	TST_CHECK(call(path, "Answer", "again") < 0); /* nothing asked now */
	TST_EQ_INT(call(path, "Resume", NULL), 0);
	TST_REQUIRE(dp_tc_wait_final(bus, path, state, sizeof(state), 30000) == 0);
	TST_EQ_STR(state, "succeeded");
	TST_EQ_INT(dp_app_text(&fx.probe, text, sizeof(text)), 0);
	TST_EQ_STR(text, "ok");
	TST_CHECK(call(path, "Cancel", NULL) < 0); /* finished already */
}

static void test_unanswered_question_times_out(void)
{
	char path[200], state[64], error[600];
	struct args a = { .timeout = 2 };

	a.script = dp_fixture_file(&fx, "ask-timeout.jsonl",
				   "{\"action\":\"ask_user\",\"question\":\"Anyone there?\"}\n"
				   "{\"action\":\"click\",\"x\":444,\"y\":333}\n");
	probe_clicked();
	TST_REQUIRE(submit(&a, path) == 0);
	TST_REQUIRE(wait_state(path, "waiting_user", 30000));
	TST_REQUIRE(dp_tc_wait_final(bus, path, state, sizeof(state), 30000) == 0);
	TST_EQ_STR(state, "failed");
	dp_tc_get_string(bus, path, "Error", error, sizeof(error));
	TST_CHECK(strstr(error, "timed out") != NULL);
	TST_CHECK(!probe_clicked());
}

static void test_flow_given_as_text(void)
{
	char path[200], state[64], dir[600], file[800];
	struct args a = { .flow = "{\"name\": \"click once\", \"steps\": [{\"click\": {\"x\": 333, \"y\": 222}}]}" };
	char lines[2048][512];
	size_t n = 0;
	bool clicked = false;

	probe_clicked();
	TST_REQUIRE(submit(&a, path) == 0);
	TST_REQUIRE(dp_tc_wait_final(bus, path, state, sizeof(state), 30000) == 0);
	TST_EQ_STR(state, "succeeded");
	TST_EQ_INT(dp_app_collect(&fx.probe, lines, 2048, &n), 0);
	for (size_t i = 0; i < n; i++)
		if (strstr(lines[i], "\"event\":\"button\"") && dp_json_int(lines[i], "root_x") == 333 &&
		    dp_json_int(lines[i], "root_y") == 222)
			clicked = true;
	TST_CHECK(clicked);
	dp_tc_get_string(bus, path, "Trajectory", dir, sizeof(dir));
	snprintf(file, sizeof(file), "%s/flow.json", dir);
	TST_CHECK(file_has(file, "click once"));
	/* A flow with a mistake is refused at Submit, naming where. */
	{
		struct args bad = { .flow = "{\"steps\": [{\"clack\": {\"x\": 1, \"y\": 1}}]}" };
		char err[600];

		TST_CHECK(dp_tc_submit(bus, fill, &bad, path, sizeof(path), err, sizeof(err)) < 0);
		TST_CHECK(strstr(err, "InvalidArgument: flow: ") && strstr(err, "steps[0]"));
	}
}

/* The keysyms of the whole keyboard map, to compare. */
static char *keymap(void)
{
	xcb_connection_t *c = xcb_connect(fx.xvfb.display, NULL);
	const xcb_setup_t *setup = xcb_get_setup(c);
	xcb_get_keyboard_mapping_reply_t *r = xcb_get_keyboard_mapping_reply(
		c, xcb_get_keyboard_mapping(c, setup->min_keycode,
					    (uint8_t)(setup->max_keycode - setup->min_keycode + 1)),
		NULL);
	char *copy = NULL;

	if (r) {
		size_t n = (size_t)xcb_get_keyboard_mapping_keysyms_length(r) * sizeof(xcb_keysym_t);

		copy = malloc(n + sizeof(size_t));
		if (copy) {
			memcpy(copy, &n, sizeof(n));
			memcpy(copy + sizeof(n), xcb_get_keyboard_mapping_keysyms(r), n);
		}
		free(r);
	}
	xcb_disconnect(c);
	return copy;
}

static void test_keymap_given_back(void)
{
	char path[200], state[64], text[256];
	char *before = keymap(), *after;
	struct args a = { 0 };

	TST_REQUIRE(before);
	a.script = dp_fixture_file(&fx, "unicode.jsonl",
				   "{\"action\":\"click\",\"x\":960,\"y\":540}\n"
				   "{\"action\":\"type\",\"text\":\"ĳ€你好\",\"method\":\"keys\"}\n");
	dp_probe_send(&fx.probe, "clear");
	TST_REQUIRE(submit(&a, path) == 0);
	TST_REQUIRE(dp_tc_wait_final(bus, path, state, sizeof(state), 30000) == 0);
	TST_EQ_STR(state, "succeeded");
	TST_EQ_INT(dp_app_text(&fx.probe, text, sizeof(text)), 0);
	TST_EQ_STR(text, "ĳ€你好");
	after = keymap();
	TST_REQUIRE(after);
	TST_CHECK(memcmp(before, after, sizeof(size_t)) == 0 &&
		  memcmp(before + sizeof(size_t), after + sizeof(size_t), *(size_t *)before) == 0);
	free(before);
	free(after);
}

static void test_submitter_leaves(void)
{
	char path[200], state[64], id[100], db_path[600];
	sd_bus *own = dp_tc_connect(fx.bus.address), *saved = bus;
	struct args a = { 0 };

	TST_REQUIRE(own);
	a.script = dp_fixture_file(&fx, "leave.jsonl", "{\"action\":\"wait\",\"ms\":800}\n");
	bus = own;
	TST_REQUIRE(submit(&a, path) == 0);
	bus = saved;
	sd_bus_flush_close_unref(own); /* the submitter goes away; the task goes on */
	TST_REQUIRE(dp_tc_wait_final(bus, path, state, sizeof(state), 30000) == 0);
	TST_EQ_STR(state, "succeeded");
	dp_fixture_id_from(path, id, sizeof(id));
	snprintf(db_path, sizeof(db_path), "%s/deskpilot/tasks.db", fx.daemon.state_home);
	TST_CHECK(file_has(fx.daemon.log, "its submitter"));
	/* When it left is in the store. */
	{
		sqlite3 *db;
		sqlite3_stmt *st;

		TST_REQUIRE(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
		TST_REQUIRE(sqlite3_prepare_v2(db, "SELECT submitter_gone FROM tasks WHERE id=?", -1, &st, NULL) ==
			    SQLITE_OK);
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		TST_EQ_INT(sqlite3_step(st), SQLITE_ROW);
		TST_CHECK(sqlite3_column_int64(st, 0) > 0);
		sqlite3_finalize(st);
		sqlite3_close(db);
	}
}

static void test_bad_config_stops_the_start(void)
{
	struct dp_test_daemon other = { 0 };
	struct dp_test_bus other_bus;
	char config[600];
	const char *extra[] = { "--config", config, NULL };
	FILE *f;

	TST_REQUIRE(dp_test_daemon_home(&other) == 0);
	snprintf(config, sizeof(config), "%s/bad.json", other.home);
	f = fopen(config, "w");
	TST_REQUIRE(f);
	fputs("{\n  \"max_steps\": 50,\n  \"retention\": {\"max_runs\": \"many\"}\n}\n", f);
	fclose(f);
	/* On a bus of its own, it exits before it owns the name, saying
	 * where the mistake is. */
	TST_REQUIRE(dp_test_bus_start(&other_bus, NULL) == 0);
	TST_CHECK(dp_test_daemon_start(&other, &other_bus, fx.xvfb.display, extra) < 0);
	TST_CHECK(file_has(other.log, "bad.json: line 3: retention.max_runs: expected a whole number"));
	dp_test_daemon_stop(&other, true);
	dp_test_daemon_remove_home(&other);
	dp_test_bus_stop(&other_bus);
}

int main(void)
{
	if (dp_fixture_start(&fx, NULL) < 0) {
		dp_fixture_stop(&fx);
		return EXIT_FAILURE;
	}
	bus = dp_tc_connect(fx.bus.address);
	if (!bus)
		return EXIT_FAILURE;
	TST_RUN(test_secrets_typed_and_kept_nowhere);
	TST_RUN(test_dry_run_touches_nothing);
	TST_RUN(test_priority_then_order);
	TST_RUN(test_one_task_per_display);
	TST_RUN(test_paused_while_asking);
	TST_RUN(test_unanswered_question_times_out);
	TST_RUN(test_flow_given_as_text);
	TST_RUN(test_keymap_given_back);
	TST_RUN(test_submitter_leaves);
	TST_RUN(test_bad_config_stops_the_start);
	if (tst_failures)
		dp_test_daemon_print_log(&fx.daemon);
	sd_bus_flush_close_unref(bus);
	dp_fixture_stop(&fx);
	TST_EXIT();
}
