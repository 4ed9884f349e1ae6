/* The demo's flow end to end on a real Xvfb: the ERP app, OCR locators,
 * the step loop and the app's own database as the judge.  Also the flow's
 * bad days: a row the app refuses, CSV data that does not fit the flow, a
 * target that never appears, an app that goes away mid-flow. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness/xvfb.h"
#include "tst.h"

static struct dp_xvfb xvfb;
static char dir[256], db[300], out[1 << 16], err[1 << 16], dump[1 << 16];

static char *source_path(const char *rel)
{
	static char path[2][512];
	static int which;

	which ^= 1;
	snprintf(path[which], sizeof(path[which]), "%s/../%s", getenv("DP_TESTS_SOURCE"), rel);
	return path[which];
}

static int start_erp(struct dp_probe *app, const char *name, const char *seed)
{
	const char *argv[] = { getenv("DP_ERP"), "--db", db, "--seed", seed, "--slow-ms", "200,900", NULL };

	snprintf(db, sizeof(db), "%s/%s.db", dir, name);
	return dp_app_start(app, &xvfb, argv);
}

static int run_flow(const char *flow, const char *data, const char *run_dir, const char *extra)
{
	const char *argv[] = { getenv("DP_DESKPILOT"), "--display", xvfb.display, "run", "--flow", flow, "--data",
			       data, "--run-dir", run_dir, extra, NULL };

	return dp_run(argv, NULL, out, sizeof(out), err, sizeof(err));
}

static void dump_db(void)
{
	const char *argv[] = { getenv("DP_ERP"), "--db", db, "--dump", NULL };
	char e[1024];

	dp_run(argv, NULL, dump, sizeof(dump), e, sizeof(e));
}

/* The dump's first five columns, to compare with the input CSV. */
static void first_columns(const char *csv, char *outbuf, size_t size)
{
	size_t len = 0;
	int commas = 0;

	for (const char *p = csv; *p && len + 1 < size; p++) {
		if (*p == '\n') {
			commas = 0;
			outbuf[len++] = '\n';
		} else if (*p == ',' && ++commas >= 5) {
			continue;
		} else if (commas < 5) {
			outbuf[len++] = *p;
		}
	}
	outbuf[len] = '\0';
}

static void test_all_twenty_invoices(void)
{
	struct dp_probe erp;
	char seed[32], run_dir[400], got[1 << 16];
	char *csv = dp_read_file(source_path("examples/invoices.csv"));

	/* A new seed each run: the reminder dialog comes at a different point. */
	snprintf(seed, sizeof(seed), "%ld", (long)time(NULL) % 100000);
	fprintf(stderr, "reminder seed %s\n", seed);
	TST_REQUIRE(csv && start_erp(&erp, "all", seed) == 0);
	snprintf(run_dir, sizeof(run_dir), "%s/run-all", dir);
	TST_EQ_INT(run_flow(source_path("examples/invoice-entry.flow.json"), source_path("examples/invoices.csv"),
			    run_dir, NULL), 0);
	TST_CHECK(strstr(out, "succeeded") && strstr(out, "20 of 20 rows entered"));
	dump_db();
	first_columns(dump, got, sizeof(got));
	TST_EQ_STR(got, csv);
	dp_probe_stop(&erp);
	free(csv);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
}

static void test_a_refused_row_is_skipped_and_reported(void)
{
	struct dp_probe erp;
	char data[300], run_dir[400];

	snprintf(data, sizeof(data), "%s/broken.csv", dir);
	write_file(data, "number,date,customer,net,vat\n"
			 "INV-2001,2026-06-01,Good Row One,10.00,19\n"
			 "INV-2002,2026-06-02,Broken Amount,12x34,7\n"
			 "INV-2003,2026-06-03,Good Row Three,30.50,0\n");
	TST_REQUIRE(start_erp(&erp, "broken", "5") == 0);
	snprintf(run_dir, sizeof(run_dir), "%s/run-broken", dir);
	TST_EQ_INT(run_flow(source_path("examples/invoice-entry.flow.json"), data, run_dir, NULL), 0);
	TST_CHECK(strstr(out, "2 of 3 rows entered; 1 skipped: row 2 (line 3)") != NULL);
	dump_db();
	TST_CHECK(strstr(dump, "INV-2001,2026-06-01,Good Row One,10.00,19") != NULL);
	TST_CHECK(strstr(dump, "INV-2003,2026-06-03,Good Row Three,30.50,0") != NULL);
	TST_CHECK(strstr(dump, "INV-2002") == NULL);
	dp_probe_stop(&erp);
}

static void test_data_that_does_not_fit(void)
{
	char data[300], run_dir[400];

	snprintf(run_dir, sizeof(run_dir), "%s/run-bad-data", dir);
	TST_EQ_INT(run_flow(source_path("examples/invoice-entry.flow.json"), "/nonexistent/invoices.csv", run_dir,
			    NULL), 8);
	TST_CHECK(strstr(err, "cannot read the CSV file /nonexistent/invoices.csv") != NULL);
	snprintf(data, sizeof(data), "%s/novat.csv", dir);
	write_file(data, "number,date,customer,net\nINV-1,2026-01-01,A,1.00\n");
	TST_EQ_INT(run_flow(source_path("examples/invoice-entry.flow.json"), data, run_dir, NULL), 2);
	TST_CHECK(strstr(err, "${row.vat}: the CSV") && strstr(err, "has no column 'vat' (it has: number, date, customer, net)"));
}

static void test_a_target_that_never_appears(void)
{
	struct dp_probe erp;
	char flow[300], data[300], run_dir[400], shot[500];

	snprintf(flow, sizeof(flow), "%s/never.flow.json", dir);
	snprintf(data, sizeof(data), "%s/one.csv", dir);
	write_file(flow, "{\"steps\": [{\"wait_for\": \"Quarterly close\", \"timeout_ms\": 1500}, {\"click\": \"Refresh\"}]}");
	write_file(data, "a\n1\n");
	TST_REQUIRE(start_erp(&erp, "never", "5") == 0);
	snprintf(run_dir, sizeof(run_dir), "%s/run-never", dir);
	TST_EQ_INT(run_flow(flow, data, run_dir, NULL), 1);
	TST_CHECK(strstr(out, "failed") && strstr(out, "waited 1500 ms for the target to appear") &&
		  strstr(out, "\"Quarterly close\" not found"));
	/* The step that gave up is recorded with its screenshot. */
	snprintf(shot, sizeof(shot), "%s/step_001.jpg", run_dir);
	TST_CHECK(access(shot, R_OK) == 0);
	dp_probe_stop(&erp);
}

/* set reads the screen into a variable; retry tries a block again, then
 * gives up with the reason. */
static void test_set_and_retry(void)
{
	struct dp_probe erp;
	char flow[300], data[300], run_dir[400], traj_path[500];
	char *traj;

	snprintf(flow, sizeof(flow), "%s/set.flow.json", dir);
	snprintf(data, sizeof(data), "%s/one.csv", dir);
	write_file(flow, "{\"steps\": [\n"
			 " {\"wait_for\": {\"screen\": \"settles\"}, \"timeout_ms\": 3000},\n"
			 " {\"set\": \"status\", \"from_text\": {\"region\": [16, 667, 700, 24]}},\n"
			 " {\"note\": \"the status line says ${status}\"},\n"
			 " {\"if_present\": \"Period closed\", \"then\": [{\"fail\": \"not expected\"}]},\n"
			 " {\"retry\": {\"times\": 2, \"backoff_ms\": 100}, \"do\": [\n"
			 "   {\"wait_for\": {\"screen\": \"changes\"}, \"timeout_ms\": 500}]}\n"
			 "]}");
	write_file(data, "a\n1\n");
	TST_REQUIRE(start_erp(&erp, "set", "5") == 0);
	snprintf(run_dir, sizeof(run_dir), "%s/run-set", dir);
	TST_EQ_INT(run_flow(flow, data, run_dir, NULL), 1);
	TST_CHECK(strstr(out, "failed") && strstr(out, "steps[4].do[0]: the screen did not change within 500 ms"));
	snprintf(traj_path, sizeof(traj_path), "%s/traj.jsonl", run_dir);
	traj = dp_read_file(traj_path);
	TST_CHECK(traj && strstr(traj, "the status line says Ready"));
	TST_CHECK(traj && strstr(traj, "trying again (attempt 2 of 2)"));
	free(traj);
	dp_probe_stop(&erp);
}

static void test_the_app_goes_away_mid_flow(void)
{
	struct dp_probe erp;
	char run_dir[400];
	pid_t runner;
	int status = 0;

	TST_REQUIRE(start_erp(&erp, "gone", "5") == 0);
	snprintf(run_dir, sizeof(run_dir), "%s/run-gone", dir);
	runner = fork();
	if (runner == 0) {
		_exit(run_flow(source_path("examples/invoice-entry.flow.json"), source_path("examples/invoices.csv"),
			       run_dir, NULL));
	}
	sleep(4);
	kill(erp.pid, SIGKILL);
	waitpid(runner, &status, 0);
	/* No crash: the task ends with rows skipped or failed, and says so. */
	TST_CHECK(WIFEXITED(status));
	TST_CHECK(WIFEXITED(status) && WEXITSTATUS(status) <= 6);
	erp.pid = 0;
	dp_probe_stop(&erp);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	if (!getenv("DP_ERP")) {
		fprintf(stderr, "no sample ERP app in this build (it needs gtk+-3.0 and sqlite3)\n");
		return TST_SKIP;
	}
	snprintf(dir, sizeof(dir), "%s/dp-flow-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir) || dp_xvfb_start(&xvfb, 1920, 1080, NULL) < 0)
		return TST_SKIP;
	TST_RUN(test_data_that_does_not_fit);
	TST_RUN(test_a_target_that_never_appears);
	TST_RUN(test_set_and_retry);
	TST_RUN(test_a_refused_row_is_skipped_and_reported);
	TST_RUN(test_the_app_goes_away_mid_flow);
	TST_RUN(test_all_twenty_invoices);
	dp_xvfb_stop(&xvfb);
	TST_EXIT();
}
