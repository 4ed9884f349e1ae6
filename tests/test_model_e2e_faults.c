/* The model policy on a model server's bad days, end to end on Xvfb with
 * the probe app: no server, rate limits, errors, stalls, broken replies, a
 * refusal, invalid tool arguments, a model that never ends, a verifier that
 * says no once, a key that must be sent and never shown; and a cancel in the
 * middle of a stalled request. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include "engine/clock.h"
#include "harness/model_server.h"
#include "harness/xvfb.h"
#include "tst.h"

#define TASK "Task: click the middle and type ok\nPlan:\nclick at 0.5 0.5\ntype \"ok\"\ndone \"typed ok\""

static struct dp_xvfb xvfb;
static struct dp_probe probe;
static char dir[256], out[1 << 16], err[1 << 16];
static int run_no;

/* The probe's button presses since the last call. */
static int presses(void)
{
	static char lines[512][512];
	size_t n = 0;
	int k = 0;

	if (dp_app_collect(&probe, lines, 512, &n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		k += strstr(lines[i], "\"event\":\"button\"") && strstr(lines[i], "\"press\":true");
	return k;
}

static char *next_run_dir(void)
{
	static char path[400];

	snprintf(path, sizeof(path), "%s/run-%d", dir, ++run_no);
	return path;
}

/* Starts a server with faults armed, clears the probe. */
static int start(struct dp_model_server *s, const char *control)
{
	const char *extra[] = { "--control", control, NULL };

	dp_probe_send(&probe, "clear");
	presses();
	return dp_model_server_start(s, dir, "minimax-m3", control ? extra : NULL);
}

static int run(struct dp_model_server *s, const char *const *extra)
{
	int status = dp_model_run(&xvfb, s, TASK, "minimax-m3", next_run_dir(), extra, out, sizeof(out), err,
				  sizeof(err));

	fprintf(stderr, "exit %d; stdout: %.300s; stderr: %.600s\n", status, out, err);
	return status;
}

static const cJSON *log_entry(const cJSON *stats, int i)
{
	return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(stats, "log"), i);
}

static double entry_num(const cJSON *e, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, name);

	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static const char *entry_str(const cJSON *e, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, name);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static char *probe_text(void)
{
	static char text[256];

	if (dp_app_text(&probe, text, sizeof(text)) < 0)
		return "(no answer)";
	return text;
}

static void test_connection_refused(void)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	struct dp_model_server none = { 0 };
	socklen_t len = sizeof(addr);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	/* A port nobody listens on: bound, then closed. */
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	TST_REQUIRE(fd >= 0 && bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0 &&
		    getsockname(fd, (struct sockaddr *)&addr, &len) == 0);
	close(fd);
	none.port = ntohs(addr.sin_port);
	snprintf(none.endpoint, sizeof(none.endpoint), "http://127.0.0.1:%d/v1", none.port);
	TST_EQ_INT(run(&none, NULL), 1);
	TST_CHECK(strstr(err, none.endpoint) || strstr(out, none.endpoint));
	TST_CHECK(strcasestr(err, "connect") || strcasestr(out, "connect"));
	TST_EQ_INT(presses(), 0);
}

static void test_rate_limit_is_waited_out(void)
{
	struct dp_model_server s;
	cJSON *stats;

	TST_REQUIRE(start(&s, "{\"rate_limit\": {\"count\": 1, \"retry_after\": 2}}") == 0);
	TST_EQ_INT(run(&s, NULL), 0);
	TST_EQ_STR(probe_text(), "ok");
	stats = dp_model_server_stats(&s);
	TST_REQUIRE(stats);
	TST_EQ_INT(entry_num(log_entry(stats, 0), "status"), 429);
	TST_EQ_INT(entry_num(log_entry(stats, 1), "status"), 200);
	/* Retry-After: 2 was honoured (the times are the server's). */
	fprintf(stderr, "retried after %.0f ms\n", entry_num(log_entry(stats, 1), "t_ms") -
						   entry_num(log_entry(stats, 0), "t_ms"));
	TST_CHECK(entry_num(log_entry(stats, 1), "t_ms") - entry_num(log_entry(stats, 0), "t_ms") >= 1900);
	TST_EQ_INT(dp_model_stats_violations(stats), 0);
	cJSON_Delete(stats);
	dp_model_server_stop(&s);
}

static void test_errors_until_the_retry_bound(void)
{
	struct dp_model_server s;
	cJSON *stats;
	int n;

	TST_REQUIRE(start(&s, "{\"http_500\": 1000}") == 0);
	TST_EQ_INT(run(&s, NULL), 1);
	TST_CHECK(strstr(out, "500") || strstr(err, "500"));
	stats = dp_model_server_stats(&s);
	TST_REQUIRE(stats);
	n = (int)dp_model_stats_num(stats, "requests");
	fprintf(stderr, "%d attempts\n", n);
	TST_CHECK(n >= 2 && n <= 10); /* retried, and bounded */
	for (int i = 0; i < n; i++)
		TST_EQ_INT(entry_num(log_entry(stats, i), "status"), 500);
	TST_EQ_INT(presses(), 0);
	cJSON_Delete(stats);
	dp_model_server_stop(&s);
}

/* A reply that is slow to come is waited for (within the stall limit). */
static void slow_reply(const char *mode)
{
	struct dp_model_server s;
	int64_t t0 = dp_now_ns();
	char control[128];

	snprintf(control, sizeof(control), "{\"stall\": {\"count\": 1, \"seconds\": 3, \"mode\": \"%s\"}}", mode);
	TST_REQUIRE(start(&s, control) == 0);
	TST_EQ_INT(run(&s, NULL), 0);
	TST_EQ_STR(probe_text(), "ok");
	TST_CHECK(dp_now_ns() - t0 >= 3 * DP_NSEC_PER_SEC);
	dp_model_server_stop(&s);
}

static void test_a_slow_reply_is_waited_for(void)
{
	slow_reply("headers");
}

static void test_a_silent_server_is_waited_for(void)
{
	slow_reply("silent");
}

/* A reply that stops coming is given up after the stall limit and asked
 * again: the task succeeds long before the stall would end. */
static void test_a_stalled_reply_is_retried(void)
{
	const char *argv[] = { getenv("DP_DESKPILOT"), "run", "--help", NULL };
	const char *extra[] = { "--stall-timeout", "2", NULL };
	struct dp_model_server s;
	int64_t t0;
	cJSON *stats;

	dp_run(argv, NULL, out, sizeof(out), err, sizeof(err));
	if (!strstr(out, "--stall-timeout") && !strstr(err, "--stall-timeout")) {
		fprintf(stderr, "skipped: deskpilot run has no --stall-timeout (its default is 120 s)\n");
		return;
	}
	TST_REQUIRE(start(&s, "{\"stall\": {\"count\": 1, \"seconds\": 60, \"mode\": \"headers\"}}") == 0);
	t0 = dp_now_ns();
	TST_EQ_INT(run(&s, extra), 0);
	TST_EQ_STR(probe_text(), "ok");
	TST_CHECK(dp_now_ns() - t0 < 30 * DP_NSEC_PER_SEC);
	stats = dp_model_server_stats(&s);
	TST_REQUIRE(stats);
	TST_EQ_STR(entry_str(log_entry(stats, 0), "fault"), "stall");
	TST_EQ_INT(dp_model_stats_violations(stats), 0);
	cJSON_Delete(stats);
	dp_model_server_stop(&s);
}

/* Broken replies end the task with a message that says what was wrong;
 * nothing is done on the screen. */
static void broken_reply(const char *control, const char *says)
{
	struct dp_model_server s;

	TST_REQUIRE(start(&s, control) == 0);
	TST_EQ_INT(run(&s, NULL), 1);
	TST_CHECK(strstr(out, s.endpoint) || strstr(err, s.endpoint));
	TST_CHECK(strcasestr(out, says) || strcasestr(err, says));
	TST_EQ_INT(presses(), 0);
	dp_model_server_stop(&s);
}

static void test_malformed_json(void)
{
	broken_reply("{\"malformed\": 1}", "JSON");
}

static void test_truncated_json(void)
{
	broken_reply("{\"truncated\": 1}", "JSON");
}

static void test_empty_choices(void)
{
	broken_reply("{\"empty_choices\": 1}", "choices");
}

/* A refusal (text, no tool call) is answered with a note and the task goes on. */
static void test_refusal(void)
{
	struct dp_model_server s;
	cJSON *stats;

	TST_REQUIRE(start(&s, "{\"refusal\": 1}") == 0);
	TST_EQ_INT(run(&s, NULL), 0);
	TST_EQ_INT(presses(), 1);
	TST_EQ_STR(probe_text(), "ok");
	stats = dp_model_server_stats(&s);
	TST_REQUIRE(stats);
	TST_EQ_STR(entry_str(log_entry(stats, 0), "fault"), "refusal");
	/* The refusal went back to the model whole, with the next request. */
	TST_EQ_INT(dp_model_stats_violations(stats), 0);
	TST_CHECK(dp_model_stats_num(stats, "task_requests") >= 4);
	cJSON_Delete(stats);
	dp_model_server_stop(&s);
}

/* Invalid tool arguments go back to the model as the tool's result; the
 * call is not performed, the model tries again, the task succeeds. */
static void invalid_arguments(const char *kind)
{
	struct dp_model_server s;
	char control[128];
	cJSON *stats;

	snprintf(control, sizeof(control), "{\"bad_arguments\": {\"count\": 1, \"kind\": \"%s\"}}", kind);
	TST_REQUIRE(start(&s, control) == 0);
	TST_EQ_INT(run(&s, NULL), 0);
	TST_EQ_INT(presses(), 1); /* the good click only */
	TST_EQ_STR(probe_text(), "ok");
	stats = dp_model_server_stats(&s);
	TST_REQUIRE(stats);
	fprintf(stderr, "tool result after the bad call: %s\n", entry_str(log_entry(stats, 1), "tool_results"));
	TST_CHECK(strstr(entry_str(log_entry(stats, 1), "tool_results"), "invalid call") != NULL);
	TST_EQ_INT(dp_model_stats_violations(stats), 0);
	cJSON_Delete(stats);
	dp_model_server_stop(&s);
}

static void test_invalid_arguments_string(void)
{
	invalid_arguments("string");
}

static void test_invalid_arguments_outside(void)
{
	invalid_arguments("outside");
}

static void test_endless_conversation_runs_out_of_steps(void)
{
	const char *extra[] = { "--max-steps", "5", NULL };
	struct dp_model_server s;
	cJSON *stats;

	TST_REQUIRE(start(&s, "{\"endless\": true}") == 0);
	TST_EQ_INT(run(&s, extra), 6);
	TST_EQ_INT(presses(), 5);
	stats = dp_model_server_stats(&s);
	TST_REQUIRE(stats);
	TST_EQ_INT(dp_model_stats_num(stats, "task_requests"), 5);
	TST_EQ_INT(dp_model_stats_num(stats, "verifier_requests"), 0);
	TST_EQ_INT(dp_model_stats_violations(stats), 0);
	cJSON_Delete(stats);
	dp_model_server_stop(&s);
}

/* The task's token budget ends a model that goes on and on, long before
 * its steps would. */
static void test_token_budget_ends_the_task(void)
{
	const char *extra[] = { "--max-steps", "50", "--token-budget", "3000", NULL };
	struct dp_model_server s;

	TST_REQUIRE(start(&s, "{\"endless\": true}") == 0);
	TST_EQ_INT(run(&s, extra), 6);
	/* Each request counts its whole prompt (every screenshot so far is
	 * 576 tokens): 3000 tokens last two or three steps. */
	TST_CHECK(presses() >= 1 && presses() <= 4);
	dp_model_server_stop(&s);
}

static void test_verifier_says_no_once(void)
{
	struct dp_model_server s;
	cJSON *stats;

	TST_REQUIRE(start(&s, "{\"verifier_no\": 1}") == 0);
	TST_EQ_INT(run(&s, NULL), 0);
	TST_EQ_STR(probe_text(), "ok");
	stats = dp_model_server_stats(&s);
	TST_REQUIRE(stats);
	TST_EQ_INT(dp_model_stats_num(stats, "verifier_requests"), 2);
	/* Click, type, done; after the no, the loop asked the model again. */
	TST_CHECK(dp_model_stats_num(stats, "task_requests") >= 4);
	TST_EQ_INT(dp_model_stats_violations(stats), 0);
	cJSON_Delete(stats);
	dp_model_server_stop(&s);
}

/* A verifier that looks: the text the plan says must be on the final
 * screen is not there, so each done is refused and the task runs out of
 * steps instead of ending as done. */
static void test_the_verifier_looks_at_the_screen(void)
{
	const char *extra[] = { "--max-steps", "4", NULL };
	struct dp_model_server s;
	cJSON *stats;
	int status;

	TST_REQUIRE(start(&s, NULL) == 0);
	status = dp_model_run(&xvfb, &s,
			      "Task: type ok and save\nPlan:\ntype \"ok\"\ndone \"saved\"\nverify \"Invoice saved\"",
			      "minimax-m3", next_run_dir(), extra, out, sizeof(out), err, sizeof(err));
	TST_EQ_INT(status, 6);
	TST_EQ_STR(probe_text(), "ok");
	stats = dp_model_server_stats(&s);
	TST_REQUIRE(stats);
	TST_CHECK(dp_model_stats_num(stats, "verifier_requests") >= 2);
	TST_EQ_INT(dp_model_stats_violations(stats), 0);
	cJSON_Delete(stats);
	dp_model_server_stop(&s);
}

static bool file_has(const char *path, const char *needle)
{
	char *text = dp_read_file(path);
	bool has = text && strstr(text, needle);

	free(text);
	return has;
}

static void test_the_key_is_sent_and_never_shown(void)
{
	const char *key = "sk-test-7f3a9c1e5b";
	const char *server_extra[] = { "--require-key", key, NULL };
	char key_file[300], run_dir[400], path[500];
	const char *extra[] = { "--api-key-file", key_file, NULL };
	struct dp_model_server s;
	cJSON *stats;
	FILE *f;
	int fd;

	snprintf(key_file, sizeof(key_file), "%s/key", dir);
	fd = open(key_file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	TST_REQUIRE(f);
	fprintf(f, "%s\n", key);
	fclose(f);
	dp_probe_send(&probe, "clear");
	presses();
	TST_REQUIRE(dp_model_server_start(&s, dir, "minimax-m3", server_extra) == 0);

	/* Without the key: 401, recorded, the task fails saying so. */
	TST_EQ_INT(run(&s, NULL), 1);
	TST_CHECK(strstr(out, "401") || strstr(err, "401"));
	stats = dp_model_server_stats(&s);
	TST_REQUIRE(stats);
	TST_CHECK(dp_model_stats_violations(stats) >= 1);
	TST_CHECK(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(log_entry(stats, 0), "authorized")));
	cJSON_Delete(stats);
	dp_model_server_stop(&s);

	TST_REQUIRE(dp_model_server_start(&s, dir, "minimax-m3", server_extra) == 0);
	TST_EQ_INT(run(&s, extra), 0);
	snprintf(run_dir, sizeof(run_dir), "%s/run-%d", dir, run_no);
	TST_EQ_STR(probe_text(), "ok");
	stats = dp_model_server_stats(&s);
	TST_REQUIRE(stats);
	TST_EQ_INT(dp_model_stats_violations(stats), 0);
	TST_CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(log_entry(stats, 0), "authorized")));
	cJSON_Delete(stats);
	dp_model_server_stop(&s);
	/* Neither the server's log nor the trajectory nor the output shows it. */
	TST_CHECK(!file_has(s.log, key));
	snprintf(path, sizeof(path), "%s/traj.jsonl", run_dir);
	TST_CHECK(!file_has(path, key));
	snprintf(path, sizeof(path), "%s/report.html", run_dir);
	TST_CHECK(!file_has(path, key));
	TST_CHECK(!strstr(out, key) && !strstr(err, key));
}

/* SIGINT while the model request hangs: deskpilot ends promptly, says the
 * task was cancelled, and writes its trajectory. */
static void cancel_during_stall(int sig)
{
	struct dp_model_server s;
	char path[500], *run_dir = next_run_dir();
	int64_t t0, waited;
	int status = 0;
	pid_t pid;
	cJSON *stats;

	TST_REQUIRE(start(&s, "{\"stall\": {\"count\": 100, \"seconds\": 60, \"mode\": \"headers\"}}") == 0);
	pid = fork();
	if (pid == 0) {
		int devnull = open("/dev/null", 1);

		dup2(devnull, 1);
		dup2(devnull, 2);
		execl(getenv("DP_DESKPILOT"), "deskpilot", "--display", xvfb.display, "run", TASK, "--model",
		      "minimax-m3", "--endpoint", s.endpoint, "--run-dir", run_dir, (char *)NULL);
		_exit(127);
	}
	/* Until the server holds the first request. */
	for (int i = 0; i < 200; i++) {
		stats = dp_model_server_stats(&s);
		double n = dp_model_stats_num(stats, "requests");

		cJSON_Delete(stats);
		if (n >= 1)
			break;
		usleep(50 * 1000);
	}
	usleep(500 * 1000);
	t0 = dp_now_ns();
	kill(pid, sig);
	for (int i = 0; i < 200 && waitpid(pid, &status, WNOHANG) == 0; i++)
		usleep(50 * 1000);
	waited = (dp_now_ns() - t0) / DP_NSEC_PER_MSEC;
	fprintf(stderr, "signal %d: deskpilot ended %lld ms later\n", sig, (long long)waited);
	if (waitpid(pid, &status, WNOHANG) == 0) {
		TST_CHECK(!"deskpilot did not end within 10 s of the signal");
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	TST_CHECK(WIFEXITED(status) && WEXITSTATUS(status) != 0);
	snprintf(path, sizeof(path), "%s/result.json", run_dir);
	TST_CHECK(file_has(path, "cancel"));
	TST_EQ_INT(presses(), 0);
	dp_model_server_stop(&s);
}

static void test_sigint_during_a_stall(void)
{
	cancel_during_stall(SIGINT);
}

static void test_sigterm_during_a_stall(void)
{
	cancel_during_stall(SIGTERM);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");

	signal(SIGPIPE, SIG_IGN);
	unsetenv("MINIMAX_API_KEY");
	unsetenv("DESKPILOT_API_KEY");
	if (!getenv("DP_MODEL_SERVER") || !getenv("DP_DESKPILOT")) {
		fprintf(stderr, "no model server or deskpilot in this build\n");
		return TST_SKIP;
	}
	snprintf(dir, sizeof(dir), "%s/dp-model-faults-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir) || dp_probe_start_focused(&probe, &xvfb, 1280, 720) < 0)
		return TST_SKIP;
	TST_RUN(test_connection_refused);
	TST_RUN(test_rate_limit_is_waited_out);
	TST_RUN(test_errors_until_the_retry_bound);
	TST_RUN(test_a_slow_reply_is_waited_for);
	TST_RUN(test_a_silent_server_is_waited_for);
	TST_RUN(test_a_stalled_reply_is_retried);
	TST_RUN(test_malformed_json);
	TST_RUN(test_truncated_json);
	TST_RUN(test_empty_choices);
	TST_RUN(test_refusal);
	TST_RUN(test_invalid_arguments_string);
	TST_RUN(test_invalid_arguments_outside);
	TST_RUN(test_endless_conversation_runs_out_of_steps);
	TST_RUN(test_token_budget_ends_the_task);
	TST_RUN(test_verifier_says_no_once);
	TST_RUN(test_the_verifier_looks_at_the_screen);
	TST_RUN(test_the_key_is_sent_and_never_shown);
	TST_RUN(test_sigint_during_a_stall);
	TST_RUN(test_sigterm_during_a_stall);
	dp_probe_stop(&probe);
	dp_xvfb_stop(&xvfb);
	TST_EXIT();
}
