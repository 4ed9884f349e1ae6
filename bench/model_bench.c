/* bench-model: what deskpilot itself costs per step of a model task, with
 * a model that answers at once.
 *
 * Starts a private 1920x1080 Xvfb with a GTK entry and, for each profile,
 * the test model server (tests/model_server, without OCR) playing a plan of
 * N steps that each type a few characters (default 30; --quick: 10).  The
 * model policy runs in this process through the step loop, trajectory on.
 * Per step it prints
 * the harness overhead: the whole step less the HTTP round trip (the
 * server's time) and the quiet window settle waits by design; and its
 * parts: observe, image (resize to the grid + encode), request build,
 * reply parse, act, settle, check, record; plus the bytes sent and the
 * image tokens.
 *
 * Run: meson test -C build --benchmark model, or
 *   DP_MODEL_SERVER=build/tests/model_server/model-server build/bench/bench-model [--quick] [--results]
 *   [PROFILE...] */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "engine/clock.h"
#include "engine/loop.h"
#include "policies/model/conversation.h"
#include "policies/model/model_policy.h"
#include "tests/harness/model_server.h"
#include "tests/harness/xvfb.h"
#include "stats.h"

#define QUIET_MS 75
#define MAX_STEPS 200

enum column { C_OVERHEAD, C_OBSERVE, C_IMAGE, C_BUILD, C_PARSE, C_ROUND_TRIP, C_ACT, C_SETTLE, C_CHECK, C_RECORD,
	      C_COUNT };

/* --results: RESULT lines for bench/run too. */
static bool print_results;

static const char *const column_names[C_COUNT] = {
	"harness overhead per step", "  observe (grab + JPEG)", "  image (grid + encode)", "  request build",
	"  reply parse", "round trip (server incl.)", "  act", "  settle (less quiet)", "  check", "  record",
};

struct run_data {
	struct dp_policy *policy;
	int64_t samples[C_COUNT][MAX_STEPS];
	int64_t request_bytes[MAX_STEPS], image_bytes[MAX_STEPS];
	uint32_t step[MAX_STEPS];
	uint64_t image_tokens;
	int32_t image_w, image_h;
	size_t n;
};

static void on_step(void *data, const struct dp_step_record *rec)
{
	struct run_data *d = data;
	struct dp_model_step_stats st;
	int64_t total = 0;
	size_t i = d->n;

	/* The last step (done) types nothing: it is not counted. */
	if (d->n == MAX_STEPS || rec->n_feedback != 1 || rec->decision->actions[0].type != DP_ACTION_TYPE ||
	    dp_model_policy_step_stats(d->policy, &st) < 0)
		return;
	for (int p = 0; p < DP_PHASE_COUNT; p++)
		total += rec->phase_us[p] * 1000;
	d->samples[C_OBSERVE][i] = rec->phase_us[DP_PHASE_OBSERVE] * 1000;
	d->samples[C_IMAGE][i] = st.image_ns;
	d->samples[C_BUILD][i] = st.build_ns;
	d->samples[C_PARSE][i] = st.parse_ns;
	d->samples[C_ROUND_TRIP][i] = st.round_trip_ns;
	d->samples[C_ACT][i] = (rec->phase_us[DP_PHASE_GUARD] + rec->phase_us[DP_PHASE_ACT]) * 1000;
	d->samples[C_SETTLE][i] = rec->phase_us[DP_PHASE_SETTLE] * 1000 - QUIET_MS * 1000000LL;
	d->samples[C_CHECK][i] = rec->phase_us[DP_PHASE_CHECK] * 1000;
	d->step[i] = rec->step;
	d->samples[C_OVERHEAD][i] = total - st.round_trip_ns - QUIET_MS * 1000000LL;
	/* record: the trajectory times itself; read back from traj.jsonl */
	d->request_bytes[d->n] = (int64_t)st.request_bytes;
	d->image_bytes[d->n] = (int64_t)st.image_bytes;
	d->image_tokens = st.image_tokens;
	d->image_w = st.image_w;
	d->image_h = st.image_h;
	d->n++;
}

/* The record phase of each counted step, from the trajectory. */
static void add_record_times(struct run_data *d, const char *run_dir)
{
	char path[400], *text, *line, *save = NULL;

	snprintf(path, sizeof(path), "%s/traj.jsonl", run_dir);
	text = dp_read_file(path);
	for (line = text ? strtok_r(text, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
		cJSON *j = cJSON_Parse(line);
		const cJSON *step = cJSON_GetObjectItem(j, "step");
		const cJSON *us = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "timings_us"), "record");

		for (size_t i = 0; cJSON_IsNumber(step) && cJSON_IsNumber(us) && i < d->n; i++) {
			if (d->step[i] == (uint32_t)step->valuedouble) {
				d->samples[C_RECORD][i] = (int64_t)us->valuedouble * 1000;
				d->samples[C_OVERHEAD][i] += d->samples[C_RECORD][i];
			}
		}
		cJSON_Delete(j);
	}
	free(text);
}

static int bench_profile(const char *profile, uint32_t steps, struct dp_capture *capture, struct dp_actuator *actuator,
			 const char *dir)
{
	static struct run_data d;
	const char *extra[] = { "--no-ocr", NULL };
	struct dp_model_server server;
	struct dp_model_options mo = { .profile = profile, .no_verify = true };
	struct dp_loop_config lc = { .task_id = "bench", .max_steps = steps + 1, .on_step = on_step, .on_step_data = &d };
	struct dp_loop_result res;
	struct dp_error err = { 0 };
	char run_dir[300], *task, *p;
	struct dp_stats st;

	memset(&d, 0, sizeof(d));
	if (dp_model_server_start(&server, dir, profile, extra) < 0)
		return -1;
	task = malloc(64 + 24 * (size_t)steps);
	if (!task) {
		dp_model_server_stop(&server);
		return -1;
	}
	p = task + sprintf(task, "type %u pieces of text\nPlan:\n", steps);
	for (uint32_t i = 0; i < steps; i++)
		p += sprintf(p, "type \"%u \"\n", i + 1);
	sprintf(p, "done \"typed\"");
	mo.endpoint = server.endpoint;
	if (dp_model_policy_create(&d.policy, &mo, &err) < 0) {
		fprintf(stderr, "bench-model: %s\n", err.message);
		dp_model_server_stop(&server);
		free(task);
		return -1;
	}
	snprintf(run_dir, sizeof(run_dir), "%s/run-%s", dir, profile);
	lc.instruction = task;
	lc.run_dir = run_dir;
	dp_settle_options_default(&lc.settle);
	lc.settle.quiet_ms = QUIET_MS;
	dp_loop_run(&lc, capture, actuator, d.policy, NULL, &res, &err);
	add_record_times(&d, run_dir);
	printf("\n%s: %u typing steps (%s after %u steps), image %dx%d = %llu image tokens per step\n", profile,
	       (unsigned)d.n, dp_task_outcome_name(res.outcome), res.steps, d.image_w, d.image_h,
	       (unsigned long long)d.image_tokens);
	printf("%-28s %10s %10s %10s\n", "", "median ms", "p10 ms", "p90 ms");
	for (int c = 0; c < C_COUNT && d.n; c++) {
		dp_stats_summarize(d.samples[c], d.n, 1e6, &st);
		printf("%-28s %10.2f %10.2f %10.2f\n", column_names[c], st.median, st.p10, st.p90);
		if (c == 0 && print_results) {
			char name[96];

			snprintf(name, sizeof(name), "model.%s.overhead_per_step", profile);
			dp_stats_print_result(name, &st, "ms", -1);
		}
	}
	if (d.n) {
		dp_stats_summarize(d.image_bytes, d.n, 1024.0, &st);
		printf("%-28s %10.1f %10.1f %10.1f\n", "image sent, KiB", st.median, st.p10, st.p90);
		printf("%-28s %10.1f (first) %6.1f (last)\n", "request body, KiB", (double)d.request_bytes[0] / 1024.0,
		       (double)d.request_bytes[d.n - 1] / 1024.0);
	}
	d.policy->impl->destroy(d.policy);
	dp_model_server_stop(&server);
	free(task);
	return res.outcome == DP_TASK_SUCCEEDED ? 0 : -1;
}

/* Printing the history for each request: only the new messages (what the
 * policy does) against the whole history, over 200 steps of 16 KB
 * screenshots (MiniMax M3's grid as base64 JPEG). */
static void bench_history(void)
{
	static int64_t inc[DP_MAX_STEPS], whole[DP_MAX_STEPS];
	struct dp_conversation *c;
	struct dp_stats a, b;
	char *img = malloc(16 * 1024 + 32);
	size_t len = 0;

	if (!img || dp_conversation_create(&c, 0, 0) < 0)
		return;
	strcpy(img, "data:image/jpeg;base64,");
	memset(img + 23, 'A', 16 * 1024);
	img[23 + 16 * 1024] = '\0';
	dp_conversation_add_system(c, "system prompt");
	for (int i = 0; i < DP_MAX_STEPS; i++) {
		int64_t t;
		char *text;

		dp_conversation_add_user(c, NULL, "Screenshot after step N (896x504):", img, (uint32_t)i);
		t = dp_now_ns();
		dp_conversation_json(c, &len);
		inc[i] = dp_now_ns() - t;
		t = dp_now_ns();
		text = cJSON_PrintUnformatted(dp_conversation_messages(c));
		whole[i] = dp_now_ns() - t;
		free(text);
	}
	printf("\nthe history printed for each of %d requests (16 KiB screenshots, %.1f MiB at the end):\n",
	       DP_MAX_STEPS, (double)len / (1 << 20));
	printf("%-28s %10s %10s %10s %10s\n", "", "median ms", "p10 ms", "p90 ms", "max ms");
	dp_stats_summarize(inc, DP_MAX_STEPS, 1e6, &a);
	dp_stats_summarize(whole, DP_MAX_STEPS, 1e6, &b);
	printf("%-28s %10.3f %10.3f %10.3f %10.3f\n", "new messages only (used)", a.median, a.p10, a.p90, a.max);
	printf("%-28s %10.3f %10.3f %10.3f %10.3f\n", "whole history each time", b.median, b.p10, b.p90, b.max);
	dp_conversation_destroy(c);
	free(img);
}

int main(int argc, char **argv)
{
	const char *all[] = { "minimax-m3", "qwen3-vl", "ui-tars-1.5", "generic-openai", NULL };
	const char *chosen[8] = { NULL };
	const char *const *profiles = all;
	uint32_t steps = 30;
	struct dp_capture_config cc = { 0 };
	struct dp_actuator_config ac = { 0 };
	struct dp_capture *capture = NULL;
	struct dp_actuator *actuator = NULL;
	struct dp_error err = { 0 };
	struct dp_xvfb xvfb;
	static struct dp_probe entry;
	const char *entry_argv[] = { getenv("DP_GTK_ENTRY") ? getenv("DP_GTK_ENTRY") : DP_SOURCE_TESTS "/apps/gtk_entry.py",
				     "--x", "0", "--y", "300", "--width", "1000", NULL };
	char dir[] = "/tmp/deskpilot-bench-model-XXXXXX";
	int n = 0, failed = 0;

	signal(SIGPIPE, SIG_IGN);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick"))
			steps = 10;
		else if (!strcmp(argv[i], "--results"))
			print_results = true;
		else if (n < 7)
			chosen[n++] = argv[i];
	}
	if (n)
		profiles = chosen;
	if (!getenv("DESKPILOT_PROFILE_DIR"))
		setenv("DESKPILOT_PROFILE_DIR", DP_SOURCE_PROFILES, 1);
	if (!mkdtemp(dir) || dp_xvfb_start(&xvfb, 1920, 1080, NULL) < 0 || dp_app_start(&entry, &xvfb, entry_argv) < 0) {
		fprintf(stderr, "bench-model: cannot start Xvfb and the GTK entry (%s)\n", entry_argv[0]);
		return 1;
	}
	cc.display = ac.display = xvfb.display;
	if (dp_capture_create(&capture, &cc, &err) < 0 || dp_actuator_create(&actuator, &ac, &err) < 0) {
		fprintf(stderr, "bench-model: %s\n", err.message);
		return 1;
	}
	printf("bench-model: 1920x1080 screen with a GTK entry, a test model server on the loopback that answers at once, quiet window "
	       "%d ms, trajectory written\n", QUIET_MS);
	for (int i = 0; profiles[i]; i++)
		failed |= bench_profile(profiles[i], steps, capture, actuator, dir) < 0;
	bench_history();
	dp_actuator_destroy(actuator);
	dp_capture_destroy(capture);
	dp_probe_stop(&entry);
	dp_xvfb_stop(&xvfb);
	printf("\n(run folders and server logs in %s)\n", dir);
	return failed;
}
