/* deskpilotd dies (kill -9, then SIGTERM) with a task running and tasks
 * queued.  After a restart: the running one is interrupted with its last
 * step, the queued ones run to success (their clicks reach the app), the
 * finished ones are still listed with their trajectories, the store is
 * intact and every trajectory line is JSON. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "daemon_client.h"
#include "daemon_fixture.h"
#include "tst.h"

static struct dp_fixture fx;
static sd_bus *bus;

struct submit_args {
	const char *script;
	bool inline_pin;
};

static int fill(sd_bus_message *m, void *data)
{
	const struct submit_args *a = data;
	int r = sd_bus_message_append(m, "{sv}", "script", "s", a->script);

	if (r >= 0 && a->inline_pin)
		r = sd_bus_message_append(m, "{sv}", "inline_secrets", "a{ss}", 1, "pin", "4711");
	return r;
}

static int submit(const char *script, bool inline_pin, char *path, size_t size)
{
	struct submit_args a = { script, inline_pin };
	char err[600];
	int r = dp_tc_submit(bus, fill, &a, path, size, err, sizeof(err));

	if (r < 0)
		fprintf(stderr, "Submit: %s\n", err);
	return r;
}

/* A script of n steps: a click at (x + 10 i, y), then a wait of ms. */
static const char *long_script(const char *name, int n, int x, int y, int ms)
{
	static char text[8192];
	size_t len = 0;

	text[0] = '\0';
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
					"[{\"action\":\"click\",\"x\":%d,\"y\":%d},{\"action\":\"wait\",\"ms\":%d}]\n",
					x + 10 * i, y, ms);
	return dp_fixture_file(&fx, name, text);
}

static bool wait_step(const char *path, uint32_t at_least, int timeout_ms)
{
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	uint32_t step = 0;

	for (int waited = 0; waited < timeout_ms; waited += 20) {
		if (dp_tc_get_u32(bus, path, "Step", &step) >= 0 && step >= at_least)
			return true;
		nanosleep(&pause, NULL);
	}
	return false;
}

static void restart(void)
{
	sd_bus_flush_close_unref(bus);
	bus = NULL;
	if (dp_test_daemon_start(&fx.daemon, &fx.bus, fx.xvfb.display, NULL) < 0)
		return;
	bus = dp_tc_connect(fx.bus.address);
}

static int count_lines_as_json(const char *path, int *bad)
{
	char *text = dp_read_file(path), *save = NULL;
	int n = 0;

	*bad = 0;
	if (!text)
		return -1;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		cJSON *j = cJSON_Parse(line);

		if (!cJSON_IsObject(j)) {
			fprintf(stderr, "%s: line %d is not a JSON object\n", path, n + 1);
			(*bad)++;
		}
		cJSON_Delete(j);
		n++;
	}
	free(text);
	return n;
}

static long long sql_int(sqlite3 *db, const char *sql, const char *arg)
{
	sqlite3_stmt *st;
	long long v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (arg)
		sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void check_store(void)
{
	char path[600];
	sqlite3 *db;
	sqlite3_stmt *st;

	snprintf(path, sizeof(path), "%s/deskpilot/tasks.db", fx.daemon.state_home);
	TST_REQUIRE(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
	TST_REQUIRE(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK);
	TST_EQ_INT(sqlite3_step(st), SQLITE_ROW);
	TST_EQ_STR((const char *)sqlite3_column_text(st, 0), "ok");
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* Every traj.jsonl of every task parses, line by line. */
static void check_trajectories(void)
{
	char **paths;
	size_t n;

	TST_REQUIRE(dp_tc_list(bus, &paths, &n) == 0);
	for (size_t i = 0; i < n; i++) {
		char dir[600], file[700];
		int bad;

		TST_REQUIRE(dp_tc_get_string(bus, paths[i], "Trajectory", dir, sizeof(dir)) >= 0);
		snprintf(file, sizeof(file), "%s/traj.jsonl", dir);
		if (access(file, F_OK) < 0)
			continue; /* a task that never started has none */
		TST_CHECK(count_lines_as_json(file, &bad) >= 0);
		TST_EQ_INT(bad, 0);
	}
	dp_tc_free_list(paths, n);
}

static bool probe_saw_click(int x, int y)
{
	static char lines[4096][512];
	static size_t total;
	size_t n = 0;

	/* The probe's lines accumulate: collect what is new, then search all. */
	if (dp_app_collect(&fx.probe, lines + total, 4096 - total, &n) == 0)
		total += n;
	for (size_t i = 0; i < total; i++)
		if (strstr(lines[i], "\"event\":\"button\"") && strstr(lines[i], "\"press\":true") &&
		    dp_json_int(lines[i], "root_x") == x && dp_json_int(lines[i], "root_y") == y)
			return true;
	return false;
}

static void test_kill_9_mid_task(void)
{
	char done_path[200], run_path[200], q1[200], q2[200], q3[200], state[64], error[600], dir[600], file[700];
	uint32_t step = 0;
	int bad;

	/* One task that finished before the crash. */
	TST_REQUIRE(submit(long_script("done.jsonl", 1, 20, 20, 0), false, done_path, sizeof(done_path)) == 0);
	TST_REQUIRE(dp_tc_wait_final(bus, done_path, state, sizeof(state), 30000) == 0);
	TST_EQ_STR(state, "succeeded");
	/* A slow one running, three queued behind it on the same display. */
	TST_REQUIRE(submit(long_script("slow.jsonl", 12, 500, 500, 800), false, run_path, sizeof(run_path)) == 0);
	TST_REQUIRE(submit(long_script("q1.jsonl", 1, 100, 200, 0), false, q1, sizeof(q1)) == 0);
	TST_REQUIRE(submit(long_script("q2.jsonl", 1, 300, 400, 0), false, q2, sizeof(q2)) == 0);
	TST_REQUIRE(submit(long_script("q3.jsonl", 1, 700, 100, 0), true, q3, sizeof(q3)) == 0);
	TST_REQUIRE(wait_step(run_path, 2, 30000));
	TST_EQ_INT(dp_tc_get_string(bus, q1, "State", state, sizeof(state)) >= 0, 1);
	TST_EQ_STR(state, "queued");

	dp_test_daemon_stop(&fx.daemon, true); /* kill -9 */
	restart();
	TST_REQUIRE(bus);

	TST_REQUIRE(dp_tc_wait_final(bus, q1, state, sizeof(state), 60000) == 0);
	TST_EQ_STR(state, "succeeded");
	TST_REQUIRE(dp_tc_wait_final(bus, q2, state, sizeof(state), 60000) == 0);
	TST_EQ_STR(state, "succeeded");
	TST_CHECK(probe_saw_click(100, 200));
	TST_CHECK(probe_saw_click(300, 400));

	/* The running one: interrupted, with its last step. */
	TST_EQ_INT(dp_tc_get_string(bus, run_path, "State", state, sizeof(state)) >= 0, 1);
	TST_EQ_STR(state, "interrupted");
	TST_EQ_INT(dp_tc_get_u32(bus, run_path, "Step", &step) >= 0, 1);
	TST_CHECK(step >= 2 && step < 12);
	dp_tc_get_string(bus, run_path, "Error", error, sizeof(error));
	TST_CHECK(strstr(error, "the daemon stopped while the task ran") != NULL);
	dp_tc_get_string(bus, run_path, "Trajectory", dir, sizeof(dir));
	snprintf(file, sizeof(file), "%s/traj.jsonl", dir);
	{
		/* The store may lag the file by the step being written at the kill. */
		int lines = count_lines_as_json(file, &bad);

		TST_CHECK(lines >= (int)step && lines <= (int)step + 1);
	}
	{
		char db_path[600];
		sqlite3 *db;
		char id[100];

		dp_fixture_id_from(run_path, id, sizeof(id));
		snprintf(db_path, sizeof(db_path), "%s/deskpilot/tasks.db", fx.daemon.state_home);
		TST_REQUIRE(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
		TST_EQ_INT(sql_int(db, "SELECT COUNT(*) FROM steps WHERE task=?", id), step);
		sqlite3_close(db);
	}

	/* Queued with an inline secret: not kept across the restart, never run. */
	TST_EQ_INT(dp_tc_get_string(bus, q3, "State", state, sizeof(state)) >= 0, 1);
	TST_EQ_STR(state, "interrupted");
	dp_tc_get_string(bus, q3, "Error", error, sizeof(error));
	TST_CHECK(strstr(error, "inline secrets are not kept across restarts") != NULL);
	TST_CHECK(!probe_saw_click(700, 100));

	/* The finished one is still there, with its trajectory and report. */
	TST_EQ_INT(dp_tc_get_string(bus, done_path, "State", state, sizeof(state)) >= 0, 1);
	TST_EQ_STR(state, "succeeded");
	dp_tc_get_string(bus, done_path, "Trajectory", dir, sizeof(dir));
	snprintf(file, sizeof(file), "%s/traj.jsonl", dir);
	TST_EQ_INT(count_lines_as_json(file, &bad), 2); /* the click and the end of the script */
	snprintf(file, sizeof(file), "%s/report.html", dir);
	TST_CHECK(access(file, R_OK) == 0);
	{
		char **paths;
		size_t n;

		TST_REQUIRE(dp_tc_list(bus, &paths, &n) == 0);
		TST_EQ_INT(n, 5);
		if (n == 5) {
			TST_EQ_STR(paths[0], done_path);
			TST_EQ_STR(paths[1], run_path);
			TST_EQ_STR(paths[4], q3);
		}
		dp_tc_free_list(paths, n);
	}
	check_store();
	check_trajectories();
}

static void test_sigterm_mid_task(void)
{
	char run_path[200], queued[200], state[64], error[600];
	int status = -1;

	TST_REQUIRE(submit(long_script("slow2.jsonl", 12, 500, 600, 800), false, run_path, sizeof(run_path)) == 0);
	TST_REQUIRE(submit(long_script("q4.jsonl", 1, 900, 300, 0), false, queued, sizeof(queued)) == 0);
	TST_REQUIRE(wait_step(run_path, 1, 30000));
	kill(fx.daemon.pid, SIGTERM);
	TST_EQ_INT(waitpid(fx.daemon.pid, &status, 0), fx.daemon.pid);
	fx.daemon.pid = 0;
	TST_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	restart();
	TST_REQUIRE(bus);
	TST_EQ_INT(dp_tc_get_string(bus, run_path, "State", state, sizeof(state)) >= 0, 1);
	TST_EQ_STR(state, "interrupted");
	dp_tc_get_string(bus, run_path, "Error", error, sizeof(error));
	TST_CHECK(strstr(error, "the daemon was stopped") != NULL);
	TST_REQUIRE(dp_tc_wait_final(bus, queued, state, sizeof(state), 60000) == 0);
	TST_EQ_STR(state, "succeeded");
	TST_CHECK(probe_saw_click(900, 300));
	check_store();
	check_trajectories();
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
	TST_RUN(test_kill_9_mid_task);
	TST_RUN(test_sigterm_mid_task);
	if (tst_failures)
		dp_test_daemon_print_log(&fx.daemon);
	sd_bus_flush_close_unref(bus);
	dp_fixture_stop(&fx);
	TST_EXIT();
}
