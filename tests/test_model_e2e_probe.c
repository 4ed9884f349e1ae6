/* The model policy end to end against the test model server, on a real
 * Xvfb with the probe app: for each model profile the clicks land where the
 * model pointed in the image it was sent (pixels or 0-1000), the text typed
 * is exact, the server saw no protocol violation and the verifier was
 * asked.  Then a 30-step MiniMax M3 conversation into a GTK entry, whose
 * prompt a prefix cache holds for the most part. */
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/model_server.h"
#include "harness/xvfb.h"
#include "tst.h"

#define SCREEN_W 1280
#define SCREEN_H 720

static struct dp_xvfb xvfb;
static struct dp_probe probe;
static char dir[256], out[1 << 16], err[1 << 16];

/* The button presses the probe saw since the last call, as x,y pairs. */
static int presses(int (*xy)[2], int max)
{
	static char lines[512][512];
	size_t n = 0;
	int k = 0;

	if (dp_app_collect(&probe, lines, 512, &n) < 0)
		return -1;
	for (size_t i = 0; i < n && k < max; i++) {
		if (!strstr(lines[i], "\"event\":\"button\"") || !strstr(lines[i], "\"press\":true"))
			continue;
		xy[k][0] = (int)dp_json_int(lines[i], "root_x");
		xy[k][1] = (int)dp_json_int(lines[i], "root_y");
		k++;
	}
	return k;
}

static void run_profile(const char *profile)
{
	struct dp_model_server server;
	char run_dir[400], text[256];
	int xy[8][2], n;
	cJSON *stats;
	const char *task = "Task: click two points, then type a greeting and press Return\n"
			   "Plan:\n"
			   "click at 0.25 0.40\n"
			   "click at 0.75 0.60\n"
			   "type \"Gr\u00fc\u00dfe 7\"\n"
			   "press Return\n"
			   "done \"clicked twice and typed the greeting\"";

	fprintf(stderr, "-- %s\n", profile);
	TST_REQUIRE(dp_model_server_start(&server, dir, profile, NULL) == 0);
	dp_probe_send(&probe, "clear");
	presses(xy, 8); /* forget what came before */
	snprintf(run_dir, sizeof(run_dir), "%s/run-%s", dir, profile);
	TST_EQ_INT(dp_model_run(&xvfb, &server, task, profile, run_dir, NULL, out, sizeof(out), err, sizeof(err)), 0);
	if (!strstr(out, "succeeded"))
		fprintf(stderr, "stdout: %s\nstderr: %s\n", out, err);

	/* Where the clicks landed: the model said 25 % / 40 % and 75 % / 60 %
	 * of the image in its own space; that is this screen pixel, give or
	 * take the rounding of one model unit (1.43 px at 896 wide, 1.28 px for
	 * 0-1000 on 1280). */
	n = presses(xy, 8);
	TST_EQ_INT(n, 2);
	if (n == 2) {
		TST_CHECK(abs(xy[0][0] - 320) <= 2 && abs(xy[0][1] - 288) <= 2);
		TST_CHECK(abs(xy[1][0] - 960) <= 2 && abs(xy[1][1] - 432) <= 2);
		fprintf(stderr, "clicks at %d,%d and %d,%d\n", xy[0][0], xy[0][1], xy[1][0], xy[1][1]);
	}
	TST_EQ_INT(dp_app_text(&probe, text, sizeof(text)), 0);
	TST_EQ_STR(text, "Gr\u00fc\u00dfe 7\n");

	stats = dp_model_server_stats(&server);
	TST_REQUIRE(stats);
	TST_EQ_INT(dp_model_stats_violations(stats), 0);
	TST_CHECK(dp_model_stats_num(stats, "verifier_requests") >= 1);
	TST_CHECK(dp_model_stats_num(stats, "task_requests") >= 5);
	if (!strcmp(profile, "minimax-m3")) {
		/* 1280x720 at M3's grid: 896x504, 576 image tokens. */
		TST_EQ_INT(dp_model_stats_num(stats, "last_image_width"), 896);
		TST_EQ_INT(dp_model_stats_num(stats, "last_image_height"), 504);
	}
	cJSON_Delete(stats);
	dp_model_server_stop(&server);
}

static void test_minimax_m3(void)
{
	run_profile("minimax-m3");
}

static void test_qwen3_vl(void)
{
	run_profile("qwen3-vl");
}

static void test_ui_tars(void)
{
	run_profile("ui-tars-1.5");
}

static void test_generic_openai(void)
{
	run_profile("generic-openai");
}

/* 30 steps, each typing a piece into a GTK entry: the text arrives whole,
 * and the server's prefix cache holds at least 90 % of the prompt tokens,
 * as it does only if the history is append-only. */
static void test_thirty_steps_are_cached(void)
{
	const char *argv[] = { getenv("DP_GTK_ENTRY"), "--x", "0", "--y", "300", "--width", "1000", NULL };
	char task[4096], expect[512] = "", run_dir[400], text[512];
	struct dp_model_server server;
	struct dp_probe entry;
	size_t len = 0;
	double prompt, cached;
	cJSON *stats;

	len += (size_t)snprintf(task + len, sizeof(task) - len, "Task: type the numbers one by one\nPlan:\n");
	for (int i = 1; i <= 29; i++) {
		char piece[16];

		snprintf(piece, sizeof(piece), "%d ", i);
		strcat(expect, piece);
		len += (size_t)snprintf(task + len, sizeof(task) - len, "type \"%s\"\n", piece);
	}
	snprintf(task + len, sizeof(task) - len, "done \"typed 1 to 29\"");
	TST_REQUIRE(dp_app_start(&entry, &xvfb, argv) == 0);
	TST_REQUIRE(dp_model_server_start(&server, dir, "minimax-m3", NULL) == 0);
	snprintf(run_dir, sizeof(run_dir), "%s/run-thirty", dir);
	TST_EQ_INT(dp_model_run(&xvfb, &server, task, "minimax-m3", run_dir, NULL, out, sizeof(out), err, sizeof(err)),
		   0);
	TST_EQ_INT(dp_app_text(&entry, text, sizeof(text)), 0);
	TST_EQ_STR(text, expect);
	stats = dp_model_server_stats(&server);
	TST_REQUIRE(stats);
	TST_EQ_INT(dp_model_stats_violations(stats), 0);
	TST_CHECK(dp_model_stats_num(stats, "task_requests") >= 30);
	prompt = dp_model_stats_num(stats, "prompt_tokens");
	cached = dp_model_stats_num(stats, "cached_tokens");
	fprintf(stderr, "30 steps: %.0f prompt tokens, %.0f cached (%.1f %%)\n", prompt, cached,
		prompt > 0 ? 100 * cached / prompt : 0);
	TST_CHECK(prompt > 0 && cached / prompt >= 0.90);
	cJSON_Delete(stats);
	dp_model_server_stop(&server);
	dp_probe_stop(&entry);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");

	signal(SIGPIPE, SIG_IGN);
	if (!getenv("DP_MODEL_SERVER") || !getenv("DP_DESKPILOT")) {
		fprintf(stderr, "no model server or deskpilot in this build\n");
		return TST_SKIP;
	}
	snprintf(dir, sizeof(dir), "%s/dp-model-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir) || dp_probe_start_focused(&probe, &xvfb, SCREEN_W, SCREEN_H) < 0)
		return TST_SKIP;
	TST_RUN(test_minimax_m3);
	TST_RUN(test_qwen3_vl);
	TST_RUN(test_ui_tars);
	TST_RUN(test_generic_openai);
	dp_probe_stop(&probe);
	TST_RUN(test_thirty_steps_are_cached);
	dp_xvfb_stop(&xvfb);
	TST_EXIT();
}
