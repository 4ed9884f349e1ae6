/* The model policy enters an invoice into the sample ERP app (examples/erp)
 * for each model profile, driven by the test model server reading the
 * screenshots it is sent (OCR): the row is in the app's SQLite database,
 * exactly; the server saw no protocol violation; the verifier was asked. */
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/model_server.h"
#include "harness/xvfb.h"
#include "tst.h"

static struct dp_xvfb xvfb;
static struct dp_probe erp;
static char dir[256], db[300], out[1 << 16], err[1 << 16];

static const char *dump(void)
{
	static char text[1 << 16];
	const char *argv[] = { getenv("DP_ERP"), "--db", db, "--dump", NULL };
	char e[1024];

	if (dp_run(argv, NULL, text, sizeof(text), e, sizeof(e)) != 0)
		return "(dump failed)";
	return text;
}

/* zoom: look at the Save button at full resolution first, and click it in
 * the zoomed image's coordinates. */
static void enter_invoice(const char *profile, const char *number, bool zoom)
{
	struct dp_model_server server;
	char task[2048], run_dir[400], row[256];
	cJSON *stats;

	fprintf(stderr, "-- %s\n", profile);
	snprintf(task, sizeof(task),
		 "Task: enter invoice %s of 2026-03-15 for M\u00fcller GmbH, 100.00 net at 19 %% VAT, into Acme ERP\n"
		 "Plan:\n"
		 "click \"New invoice\"\n"
		 "type \"%s\" into \"Invoice number\"\n"
		 "type \"2026-03-15\" into \"Date\"\n"
		 "type \"M\u00fcller GmbH\" into \"Customer\"\n"
		 "type \"100.00\" into \"Net amount\"\n"
		 "press Tab\n"
		 "press End\n"
		 "%s"
		 "click \"Save\"\n"
		 "press Return\n"
		 "done \"invoice %s saved\"\n"
		 "verify \"%s\"\n",
		 number, number, zoom ? "zoom \"Save\"\n" : "", number, number);
	TST_REQUIRE(dp_model_server_start(&server, dir, profile, NULL) == 0);
	snprintf(run_dir, sizeof(run_dir), "%s/run-%s", dir, profile);
	TST_EQ_INT(dp_model_run(&xvfb, &server, task, profile, run_dir, NULL, out, sizeof(out), err, sizeof(err)), 0);
	if (!strstr(out, "succeeded"))
		fprintf(stderr, "stdout: %s\nstderr: %s\n(server log: %s)\n", out, err, server.log);
	snprintf(row, sizeof(row), "%s,2026-03-15,M\u00fcller GmbH,100.00,19,119.00\n", number);
	TST_CHECK(strstr(dump(), row) != NULL);
	if (!strstr(dump(), row))
		fprintf(stderr, "expected the row %sin:\n%s", row, dump());
	stats = dp_model_server_stats(&server);
	TST_REQUIRE(stats);
	TST_EQ_INT(dp_model_stats_violations(stats), 0);
	TST_CHECK(dp_model_stats_num(stats, "verifier_requests") >= 1);
	cJSON_Delete(stats);
	dp_model_server_stop(&server);
}

static void test_minimax_m3(void)
{
	enter_invoice("minimax-m3", "INV-7101", true);
}

static void test_qwen3_vl(void)
{
	enter_invoice("qwen3-vl", "INV-7102", true);
}

static void test_ui_tars(void)
{
	enter_invoice("ui-tars-1.5", "INV-7103", false);
}

static void test_generic_openai(void)
{
	enter_invoice("generic-openai", "INV-7104", false);
}

/* At 1920x1080 the image M3 is sent (896x504) has text too small to read:
 * the model zooms on the app's window before each step that needs text,
 * and acts in the zoomed image's coordinates. */
static void test_minimax_m3_zooms_at_1080p(void)
{
	const char *argv[] = { getenv("DP_ERP"), "--db", db, "--no-reminder", "--slow-ms", "100,400", "--seed", "4",
			       NULL };
	const char *zoom = "zoom at 0 0 0.55 0.67\n";
	struct dp_model_server server;
	char task[2048], run_dir[400];
	cJSON *stats;

	snprintf(db, sizeof(db), "%s/invoices-1080.db", dir);
	TST_REQUIRE(dp_xvfb_start(&xvfb, 1920, 1080, NULL) == 0);
	if (dp_app_start(&erp, &xvfb, argv) < 0) {
		dp_xvfb_stop(&xvfb);
		TST_REQUIRE(!"deskpilot-erp did not start");
	}
	snprintf(task, sizeof(task),
		 "Task: enter invoice INV-7201 of 2026-03-15 for Kowalski Sp., 250.50 net at 19 %% VAT\n"
		 "Plan:\n"
		 "%sclick \"New invoice\"\n"
		 "%stype \"INV-7201\" into \"Invoice number\"\n"
		 "%stype \"2026-03-15\" into \"Date\"\n"
		 "%stype \"Kowalski Sp.\" into \"Customer\"\n"
		 "%stype \"250.50\" into \"Net amount\"\n"
		 "press Tab\n"
		 "press End\n"
		 "%sclick \"Save\"\n"
		 "press Return\n"
		 "done \"invoice INV-7201 saved\"\n",
		 zoom, zoom, zoom, zoom, zoom, zoom);
	if (dp_model_server_start(&server, dir, "minimax-m3", NULL) == 0) {
		snprintf(run_dir, sizeof(run_dir), "%s/run-1080", dir);
		TST_EQ_INT(dp_model_run(&xvfb, &server, task, "minimax-m3", run_dir, NULL, out, sizeof(out), err,
					sizeof(err)),
			   0);
		if (!strstr(out, "succeeded"))
			fprintf(stderr, "stdout: %s\nstderr: %s\n(server log: %s)\n", out, err, server.log);
		TST_CHECK(strstr(dump(), "INV-7201,2026-03-15,Kowalski Sp.,250.50,19,298.10\n") != NULL);
		stats = dp_model_server_stats(&server);
		TST_CHECK(stats && dp_model_stats_violations(stats) == 0);
		cJSON_Delete(stats);
		dp_model_server_stop(&server);
	} else {
		TST_CHECK(!"the model server did not start");
	}
	dp_probe_stop(&erp);
	dp_xvfb_stop(&xvfb);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");
	const char *argv[] = { getenv("DP_ERP"), "--db", db, "--no-reminder", "--slow-ms", "100,400", "--seed", "3",
			       NULL };

	signal(SIGPIPE, SIG_IGN);
	if (!getenv("DP_MODEL_SERVER") || !getenv("DP_DESKPILOT") || !argv[0]) {
		fprintf(stderr, "no model server, deskpilot or sample ERP app in this build\n");
		return TST_SKIP;
	}
	snprintf(dir, sizeof(dir), "%s/dp-model-erp-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir) || dp_xvfb_start(&xvfb, 1280, 720, NULL) < 0)
		return TST_SKIP;
	snprintf(db, sizeof(db), "%s/invoices.db", dir);
	if (dp_app_start(&erp, &xvfb, argv) < 0) {
		fprintf(stderr, "deskpilot-erp did not start\n");
		dp_xvfb_stop(&xvfb);
		return EXIT_FAILURE;
	}
	TST_RUN(test_minimax_m3);
	TST_RUN(test_qwen3_vl);
	TST_RUN(test_ui_tars);
	TST_RUN(test_generic_openai);
	dp_probe_stop(&erp);
	dp_xvfb_stop(&xvfb);
	TST_RUN(test_minimax_m3_zooms_at_1080p);
	TST_EXIT();
}
