/* The step loop on a real Xvfb against the probe, driven by a scripted
 * policy: budgets, cancel, verdicts, the verifier's veto, timings,
 * secrets, and policies that misbehave. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <xcb/xcb.h>

#include "engine/loop.h"
#include "harness/xvfb.h"
#include "scripted_policy.h"
#include "tst.h"

#define SECRET_VALUE "hunter2-Zx9!"

static struct dp_xvfb xvfb;
static struct dp_probe probe;
static struct dp_capture *capture;
static struct dp_actuator *actuator;
static char run_root[256];

static struct dp_loop_config config(const char *name)
{
	static char dir[512];
	struct dp_loop_config c = { .task_id = name, .instruction = "test", .max_steps = 10 };

	dp_settle_options_default(&c.settle);
	c.settle.response_ms = 500;
	snprintf(dir, sizeof(dir), "%s/%s", run_root, name);
	c.run_dir = dir;
	return c;
}

static char *slurp(const char *dir, const char *file)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return dp_read_file(path);
}

static size_t count(const char *haystack, const char *needle)
{
	size_t n = 0;

	for (const char *p = haystack; p && (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static bool nothing_pressed(void)
{
	xcb_connection_t *c = xcb_connect(xvfb.display, NULL);
	xcb_query_keymap_reply_t *keys = xcb_query_keymap_reply(c, xcb_query_keymap(c), NULL);
	bool clear = keys != NULL;

	for (int i = 0; keys && i < 32; i++)
		clear &= keys->keys[i] == 0;
	free(keys);
	xcb_disconnect(c);
	return clear;
}

static const char *const move_only[] = { "{\"action\":\"move\",\"x\":10,\"y\":10}", NULL };

static void test_budget_ends_at_exactly_max_steps(void)
{
	const char *const *script[] = { move_only, NULL };
	struct scripted_policy policy;
	struct dp_loop_config c = config("budget");
	struct dp_loop_result res;
	char *traj;

	scripted_policy_init(&policy, script);
	c.max_steps = 5;
	TST_EQ_INT(dp_loop_run(&c, capture, actuator, &policy.base, NULL, &res, NULL), 0);
	TST_EQ_INT(res.outcome, DP_TASK_OUT_OF_STEPS);
	TST_EQ_INT(res.steps, 5);
	TST_EQ_INT(policy.decided, 5);
	traj = slurp(c.run_dir, "traj.jsonl");
	TST_EQ_INT(count(traj, "\"step\":"), 5);
	TST_EQ_INT(res.tokens, 5 * 110);
	free(traj);
	c.max_steps = 201;
	TST_EQ_INT(dp_loop_run(&c, capture, actuator, &policy.base, NULL, &res, NULL), -EINVAL);
}

static void probe_redraws(unsigned step)
{
	(void)step;
	dp_probe_send(&probe, "redraw 150 1"); /* the probe repaints 40,40 320x240 */
}

static void test_verdicts_where_and_whether_it_changed(void)
{
	static const char *const near[] = { "{\"action\":\"click\",\"x\":300,\"y\":200}", NULL };
	static const char *const far[] = { "{\"action\":\"click\",\"x\":1500,\"y\":900}", NULL };
	const char *const *script_near[] = { near, NULL };
	const char *const *script_far[] = { far, NULL };
	struct scripted_policy policy;
	struct dp_loop_config c = config("verdicts");
	struct dp_loop_result res;
	char line[256];

	c.max_steps = 1;
	/* Nothing reacts to the click: no visible effect. */
	scripted_policy_init(&policy, script_far);
	TST_EQ_INT(dp_loop_run(&c, capture, actuator, &policy.base, NULL, &res, NULL), 0);
	TST_EQ_INT(policy.last_verdicts[0], DP_VERDICT_NO_EFFECT);
	/* The app redraws around the click: changed where expected. */
	scripted_policy_init(&policy, script_near);
	policy.on_decide = probe_redraws;
	TST_EQ_INT(dp_loop_run(&c, capture, actuator, &policy.base, NULL, &res, NULL), 0);
	TST_EQ_INT(policy.last_verdicts[0], DP_VERDICT_CHANGED);
	dp_probe_wait(&probe, "idle", 5000, line, sizeof(line));
	/* The app redraws far from the click: changed elsewhere. */
	scripted_policy_init(&policy, script_far);
	policy.on_decide = probe_redraws;
	TST_EQ_INT(dp_loop_run(&c, capture, actuator, &policy.base, NULL, &res, NULL), 0);
	TST_EQ_INT(policy.last_verdicts[0], DP_VERDICT_ELSEWHERE);
	dp_probe_wait(&probe, "idle", 5000, line, sizeof(line));
}

static void test_verifier_can_veto_done(void)
{
	static const char *const done[] = { "{\"action\":\"done\",\"summary\":\"all invoices entered\"}", NULL };
	const char *const *script[] = { done, NULL };
	struct scripted_policy policy;
	struct dp_loop_config c = config("veto");
	struct dp_loop_result res;
	char *traj;

	scripted_policy_init(&policy, script);
	policy.vetoes = 2;
	policy.veto_reason = "invoice 3 is missing";
	TST_EQ_INT(dp_loop_run(&c, capture, actuator, &policy.base, NULL, &res, NULL), 0);
	TST_EQ_INT(res.outcome, DP_TASK_SUCCEEDED);
	TST_EQ_INT(res.steps, 3);
	TST_EQ_STR(res.message, "all invoices entered");
	traj = slurp(c.run_dir, "traj.jsonl");
	TST_EQ_INT(count(traj, "not done yet, says the verifier: invoice 3 is missing"), 2);
	free(traj);
}

static void test_timings_and_files_are_recorded(void)
{
	static const char *const step[] = { "{\"action\":\"click\",\"x\":300,\"y\":200}",
					     "{\"action\":\"fail\",\"reason\":\"cannot find the form\"}", NULL };
	const char *const *script[] = { step, NULL };
	struct scripted_policy policy;
	struct dp_loop_config c = config("timings");
	struct dp_loop_result res;
	cJSON *line, *timings;
	char *traj, *result;

	scripted_policy_init(&policy, script);
	TST_EQ_INT(dp_loop_run(&c, capture, actuator, &policy.base, NULL, &res, NULL), 0);
	TST_EQ_INT(res.outcome, DP_TASK_FAILED);
	TST_EQ_STR(res.message, "cannot find the form");
	traj = slurp(c.run_dir, "traj.jsonl");
	line = cJSON_Parse(traj);
	TST_REQUIRE(line);
	timings = cJSON_GetObjectItem(line, "timings_us");
	TST_CHECK(cJSON_GetObjectItem(timings, "observe")->valuedouble > 0);
	TST_CHECK(cJSON_GetObjectItem(timings, "act")->valuedouble > 0);
	TST_CHECK(cJSON_GetObjectItem(timings, "settle")->valuedouble > 0);
	TST_CHECK(cJSON_GetObjectItem(timings, "check")->valuedouble > 0);
	TST_EQ_STR(cJSON_GetObjectItem(line, "image")->valuestring, "step_001.jpg");
	cJSON_Delete(line);
	free(traj);
	result = slurp(c.run_dir, "result.json");
	TST_CHECK(result && strstr(result, "\"outcome\":\t\"failed\""));
	free(result);
	free(slurp(c.run_dir, "step_001.jpg"));
	TST_CHECK(access(c.run_dir, R_OK) == 0);
}

static void *cancel_soon(void *data)
{
	struct timespec t = { 0, 400 * 1000 * 1000 };

	nanosleep(&t, NULL);
	dp_loop_control_cancel(data);
	return NULL;
}

static void test_cancel_mid_step_leaves_nothing_pressed(void)
{
	static const char *const hold[] = { "{\"action\":\"key_down\",\"keys\":\"shift+ctrl\"}",
					     "{\"action\":\"wait\",\"ms\":30000}", NULL };
	const char *const *script[] = { hold, NULL };
	struct scripted_policy policy;
	struct dp_loop_config c = config("cancel");
	struct dp_loop_control control;
	struct dp_loop_result res;
	pthread_t thread;

	scripted_policy_init(&policy, script);
	TST_REQUIRE(dp_loop_control_init(&control) == 0);
	pthread_create(&thread, NULL, cancel_soon, &control);
	TST_EQ_INT(dp_loop_run(&c, capture, actuator, &policy.base, &control, &res, NULL), 0);
	pthread_join(thread, NULL);
	TST_EQ_INT(res.outcome, DP_TASK_CANCELLED);
	TST_EQ_INT(res.steps, 1);
	TST_CHECK(nothing_pressed());
	dp_loop_control_release(&control);
}

static void test_timeout(void)
{
	static const char *const slow[] = { "{\"action\":\"wait\",\"ms\":200}", NULL };
	const char *const *script[] = { slow, NULL };
	struct scripted_policy policy;
	struct dp_loop_config c = config("timeout");
	struct dp_loop_result res;

	scripted_policy_init(&policy, script);
	c.timeout_ms = 500;
	c.max_steps = 200;
	TST_EQ_INT(dp_loop_run(&c, capture, actuator, &policy.base, NULL, &res, NULL), 0);
	TST_EQ_INT(res.outcome, DP_TASK_TIMED_OUT);
	TST_CHECK(res.steps < 200);
}

static int lookup_secret(void *data, const char *name, char *value, size_t size)
{
	(void)data;
	if (strcmp(name, "erp_password") != 0)
		return -ENOENT;
	snprintf(value, size, "%s", SECRET_VALUE);
	return 0;
}

static int secret_hits;

static int grep_file(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	int fd;
	char *buf;

	(void)ftw;
	if (type != FTW_F)
		return 0;
	buf = malloc((size_t)st->st_size + 1);
	fd = open(path, O_RDONLY);
	if (buf && fd >= 0 && read(fd, buf, (size_t)st->st_size) == st->st_size) {
		buf[st->st_size] = '\0';
		secret_hits += memmem(buf, (size_t)st->st_size, SECRET_VALUE, strlen(SECRET_VALUE)) != NULL;
	}
	if (fd >= 0)
		close(fd);
	free(buf);
	return 0;
}

static void test_secrets_are_typed_but_never_written(void)
{
	static const char *const login[] = { "{\"action\":\"type\",\"text\":\"pw: {{secret:erp_password}}\"}",
					      "{\"action\":\"type\",\"text\":\"{{secret:nope}}\"}",
					      "{\"action\":\"done\"}", NULL };
	const char *const *script[] = { login, NULL };
	struct scripted_policy policy;
	struct dp_loop_config c = config("secrets");
	struct dp_loop_result res;
	char text[256], line[256];
	char *traj;

	dp_probe_send(&probe, "clear");
	dp_probe_wait(&probe, "cleared", 5000, line, sizeof(line));
	scripted_policy_init(&policy, script);
	c.secrets = lookup_secret;
	TST_EQ_INT(dp_loop_run(&c, capture, actuator, &policy.base, NULL, &res, NULL), 0);
	TST_EQ_INT(dp_app_text(&probe, text, sizeof(text)), 0);
	TST_EQ_STR(text, "pw: " SECRET_VALUE);
	TST_EQ_INT(policy.last_verdicts[1], DP_VERDICT_FAILED);
	TST_CHECK(strstr(policy.last_messages[1], "no secret called 'nope'") != NULL);
	traj = slurp(c.run_dir, "traj.jsonl");
	TST_CHECK(strstr(traj, "{{secret:erp_password}}") != NULL);
	free(traj);
	secret_hits = 0;
	nftw(run_root, grep_file, 16, FTW_PHYS);
	TST_EQ_INT(secret_hits, 0);
}

static void test_misbehaving_policies(void)
{
	static const char *const launch[] = { "{\"action\":\"launch\",\"argv\":[\"xterm\"]}", NULL };
	const char *const *nothing[] = { NULL };
	const char *const *script[] = { launch, NULL };
	struct scripted_policy policy;
	struct dp_loop_config c = config("misbehaving");
	struct dp_loop_result res;

	scripted_policy_init(&policy, nothing);
	TST_EQ_INT(dp_loop_run(&c, capture, actuator, &policy.base, NULL, &res, NULL), 0);
	TST_EQ_INT(res.outcome, DP_TASK_ERROR);
	TST_CHECK(strstr(res.message, "chose no action") != NULL);

	scripted_policy_init(&policy, script);
	c.max_steps = 2;
	TST_EQ_INT(dp_loop_run(&c, capture, actuator, &policy.base, NULL, &res, NULL), 0);
	TST_EQ_INT(res.outcome, DP_TASK_OUT_OF_STEPS);
	TST_EQ_INT(policy.last_verdicts[0], DP_VERDICT_REJECTED);
	TST_CHECK(strstr(policy.last_messages[0], "launch of 'xterm' is not allowed") != NULL);
}

static int answer_yes(void *data, const char *question, char *answer, size_t size)
{
	(void)data, (void)question;
	snprintf(answer, size, "yes");
	return 0;
}

static int answer_no(void *data, const char *question, char *answer, size_t size)
{
	(void)data;
	snprintf(answer, size, "%s", strstr(question, "(yes/no)") ? "no" : "the second one");
	return 0;
}

static void test_confirmations_and_questions(void)
{
	static const char *const step[] = { "{\"action\":\"key\",\"keys\":\"ctrl+s\"}",
					     "{\"action\":\"ask_user\",\"question\":\"Which invoice?\"}", NULL };
	const char *const *script[] = { step, NULL };
	const char *confirm[] = { "key:ctrl+s", NULL };
	struct scripted_policy policy;
	struct dp_loop_config c = config("confirm");
	struct dp_loop_result res;

	c.max_steps = 1;
	c.confirm_actions = confirm;
	scripted_policy_init(&policy, script);
	TST_EQ_INT(dp_loop_run(&c, capture, actuator, &policy.base, NULL, &res, NULL), 0);
	TST_EQ_INT(policy.last_verdicts[0], DP_VERDICT_REJECTED);
	TST_CHECK(strstr(policy.last_messages[0], "key:ctrl+s needs a confirmation and no one can give it") != NULL);
	TST_CHECK(strstr(policy.last_messages[1], "no one can answer") != NULL);

	c.ask = answer_no;
	scripted_policy_init(&policy, script);
	TST_EQ_INT(dp_loop_run(&c, capture, actuator, &policy.base, NULL, &res, NULL), 0);
	TST_CHECK(strstr(policy.last_messages[0], "the user said no") != NULL);
	TST_CHECK(strstr(policy.last_messages[1], "the user answered: the second one") != NULL);

	c.ask = answer_yes;
	scripted_policy_init(&policy, script);
	TST_EQ_INT(dp_loop_run(&c, capture, actuator, &policy.base, NULL, &res, NULL), 0);
	TST_CHECK(policy.last_verdicts[0] != DP_VERDICT_REJECTED);
	TST_CHECK(strstr(policy.last_messages[0], "pressed ctrl+s") != NULL);
}

/* A model that points on a 0..1000 scale of the image it was sent: the
 * click lands on the screen pixel under that point. */
static void test_model_coordinates_are_mapped(void)
{
	static const char *const click[] = { "{\"action\":\"click\",\"x\":500,\"y\":250}", NULL };
	static const char *const outside[] = { "{\"action\":\"click\",\"x\":1001,\"y\":250}", NULL };
	const char *const *script[] = { click, NULL };
	const char *const *script_outside[] = { outside, NULL };
	struct scripted_policy policy;
	struct dp_loop_config c = config("coords");
	struct dp_coord_map map;
	struct dp_loop_result res;
	char line[512];

	TST_REQUIRE(dp_coords_map_init(&map, (struct dp_rect){ 0, 0, 1920, 1080 }, 896, 504, DP_COORDS_NORM1000,
				       NULL) == 0);
	c.max_steps = 1;
	scripted_policy_init(&policy, script);
	policy.coords = &map;
	dp_app_collect(&probe, NULL, 0, &(size_t){ 0 });
	TST_EQ_INT(dp_loop_run(&c, capture, actuator, &policy.base, NULL, &res, NULL), 0);
	TST_REQUIRE(dp_probe_wait(&probe, "button", 5000, line, sizeof(line)) == 0);
	TST_EQ_INT(dp_json_int(line, "root_x"), 960);
	TST_EQ_INT(dp_json_int(line, "root_y"), 270);

	scripted_policy_init(&policy, script_outside);
	policy.coords = &map;
	TST_EQ_INT(dp_loop_run(&c, capture, actuator, &policy.base, NULL, &res, NULL), 0);
	TST_EQ_INT(policy.last_verdicts[0], DP_VERDICT_REJECTED);
	TST_CHECK(strstr(policy.last_messages[0], "1000") != NULL);
}

static void *pause_then_resume(void *data)
{
	struct timespec t = { 0, 300 * 1000 * 1000 };

	dp_loop_control_pause(data, true);
	nanosleep(&t, NULL);
	dp_loop_control_pause(data, false);
	return NULL;
}

static void test_pause_and_resume(void)
{
	const char *const *script[] = { move_only, NULL };
	struct scripted_policy policy;
	struct dp_loop_config c = config("pause");
	struct dp_loop_control control;
	struct dp_loop_result res;
	pthread_t thread;

	scripted_policy_init(&policy, script);
	c.max_steps = 3;
	TST_REQUIRE(dp_loop_control_init(&control) == 0);
	pthread_create(&thread, NULL, pause_then_resume, &control);
	TST_EQ_INT(dp_loop_run(&c, capture, actuator, &policy.base, &control, &res, NULL), 0);
	pthread_join(thread, NULL);
	/* Paused, then resumed: the task still runs to its end. */
	TST_EQ_INT(res.outcome, DP_TASK_OUT_OF_STEPS);
	TST_EQ_INT(res.steps, 3);
	dp_loop_control_release(&control);
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st, (void)type, (void)ftw;
	return remove(path);
}

int main(void)
{
	struct dp_capture_config cc = { 0 };
	struct dp_actuator_config ac = { 0 };

	signal(SIGPIPE, SIG_IGN);
	if (dp_probe_start_focused(&probe, &xvfb, 1920, 1080) < 0)
		return EXIT_FAILURE;
	cc.display = ac.display = xvfb.display;
	if (dp_capture_create(&capture, &cc, NULL) < 0 || dp_actuator_create(&actuator, &ac, NULL) < 0)
		return EXIT_FAILURE;
	snprintf(run_root, sizeof(run_root), "%s/dp-loop-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(run_root))
		return EXIT_FAILURE;
	TST_RUN(test_budget_ends_at_exactly_max_steps);
	TST_RUN(test_verdicts_where_and_whether_it_changed);
	TST_RUN(test_verifier_can_veto_done);
	TST_RUN(test_timings_and_files_are_recorded);
	TST_RUN(test_cancel_mid_step_leaves_nothing_pressed);
	TST_RUN(test_timeout);
	TST_RUN(test_secrets_are_typed_but_never_written);
	TST_RUN(test_misbehaving_policies);
	TST_RUN(test_confirmations_and_questions);
	TST_RUN(test_model_coordinates_are_mapped);
	TST_RUN(test_pause_and_resume);
	nftw(run_root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	dp_actuator_destroy(actuator);
	dp_capture_destroy(capture);
	dp_probe_stop(&probe);
	dp_xvfb_stop(&xvfb);
	TST_EXIT();
}
