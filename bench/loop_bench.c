/* bench-loop: what deskpilot's step loop costs per step, apart from the app.
 *
 * Starts a private 1920x1080 Xvfb with the probe full screen and runs one
 * task of N steps (default 100; --quick: 20) whose policy does nothing but
 * move the pointer (a no-op for the app: no change expected, so settle only
 * waits for its quiet window).  Per step it prints each phase and the step
 * overhead: the whole step less the quiet window (75 ms) that settle waits
 * by design.  Goal: step overhead under 15 ms.
 *
 * Run: DP_PROBE=build/tests/probe build/bench/bench-loop [--quick] [--results] */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/loop.h"
#include "tests/harness/xvfb.h"
#include "stats.h"

#define QUIET_MS 75

static int64_t *samples[DP_PHASE_COUNT + 1]; /* per phase, then the overhead */
static size_t n_samples;
static struct dp_stats results_st[DP_PHASE_COUNT + 1];
static char results_name[DP_PHASE_COUNT + 1][64];

static int decide(struct dp_policy *policy, const struct dp_observation *obs, struct dp_decision *d,
		  struct dp_error *err)
{
	char json[96];

	(void)policy;
	snprintf(json, sizeof(json), "{\"action\":\"move\",\"x\":%u,\"y\":%u}", 100 + obs->step % 50, 100 + obs->step % 40);
	d->n_actions = 1;
	return dp_action_parse(json, strlen(json), &d->actions[0], err);
}

static const struct dp_policy_impl noop_impl = { .name = "no-op", .decide = decide };

static void on_step(void *data, const struct dp_step_record *rec)
{
	int64_t total = 0;

	(void)data;
	for (int p = 0; p < DP_PHASE_COUNT; p++) {
		samples[p][n_samples] = rec->phase_us[p];
		total += rec->phase_us[p];
	}
	samples[DP_PHASE_COUNT][n_samples++] = total - QUIET_MS * 1000;
}

int main(int argc, char **argv)
{
	uint32_t steps = 100;
	bool results = false;
	struct dp_policy policy = { .impl = &noop_impl };
	struct dp_capture_config cc = { 0 };
	struct dp_actuator_config ac = { 0 };
	struct dp_loop_config lc = { .task_id = "bench", .instruction = "no-op", .max_steps = steps,
				     .on_step = on_step };
	struct dp_capture *capture = NULL;
	struct dp_actuator *actuator = NULL;
	struct dp_loop_result res;
	struct dp_error err = { 0 };
	struct dp_xvfb xvfb;
	static struct dp_probe probe;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick"))
			steps = 20;
		else if (!strcmp(argv[i], "--results"))
			results = true;
		else
			return fprintf(stderr, "usage: %s [--quick] [--results]\n", argv[0]), 2;
	}
	lc.max_steps = steps;
	signal(SIGPIPE, SIG_IGN);
	for (int p = 0; p <= DP_PHASE_COUNT; p++)
		samples[p] = calloc(steps, sizeof(int64_t));
	if (dp_xvfb_start(&xvfb, 1920, 1080, NULL) < 0 || dp_probe_start(&probe, &xvfb, 0, 0, 1920, 1080) < 0) {
		fprintf(stderr, "bench-loop: cannot start Xvfb and the probe (DP_PROBE=build/tests/probe)\n");
		return 1;
	}
	cc.display = ac.display = xvfb.display;
	if (dp_capture_create(&capture, &cc, &err) < 0 || dp_actuator_create(&actuator, &ac, &err) < 0) {
		fprintf(stderr, "bench-loop: %s\n", err.message);
		return 1;
	}
	dp_settle_options_default(&lc.settle);
	lc.settle.quiet_ms = QUIET_MS;
	/* No trajectory: what is measured is the loop; recording is a
	 * disk write, reported by the trajectory itself. */
	dp_loop_run(&lc, capture, actuator, &policy, NULL, &res, &err);
	printf("%u steps of a no-op policy (move), 1920x1080, quiet window %d ms: %s\n\n", res.steps, QUIET_MS,
	       dp_task_outcome_name(res.outcome));
	printf("%-28s %10s %10s %10s\n", "phase", "median ms", "p10 ms", "p90 ms");
	for (int p = 0; p <= DP_PHASE_COUNT && n_samples; p++) {
		struct dp_stats st;

		dp_stats_summarize(samples[p], n_samples, 1000.0, &st); /* samples are in us */
		printf("%-28s %10.2f %10.2f %10.2f%s\n",
		       p < DP_PHASE_COUNT ? dp_phase_name((enum dp_phase)p) : "step overhead (less quiet)", st.median,
		       st.p10, st.p90, p == DP_PHASE_COUNT ? "   goal < 15 ms" : "");
		if (results) {
			char name[64];

			snprintf(name, sizeof(name), "loop.%s", p < DP_PHASE_COUNT ? dp_phase_name((enum dp_phase)p) : "step_overhead");
			results_st[p] = st;
			snprintf(results_name[p], sizeof(results_name[p]), "%s", name);
		}
		free(samples[p]);
	}
	for (int p = 0; results && p <= DP_PHASE_COUNT && n_samples; p++)
		dp_stats_print_result(results_name[p], &results_st[p], "ms", -1);
	dp_actuator_destroy(actuator);
	dp_capture_destroy(capture);
	dp_probe_stop(&probe);
	dp_xvfb_stop(&xvfb);
	return 0;
}
