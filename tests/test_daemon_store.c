/* The task store on a real SQLite file: tasks and steps written and read
 * back, start-up recovery after a crash, and pruning of old runs. */
#include <errno.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "daemon/store.h"
#include "tst.h"

static char dir[256];

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st, (void)type, (void)ftw;
	return remove(path) < 0 ? -1 : 0;
}

/* A new folder per test; the last one is removed. */
static void fresh_dir(void)
{
	if (dir[0])
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	snprintf(dir, sizeof(dir), "%s/dp-store-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir))
		abort();
}

static struct dp_task_record rec(uint64_t seq, const char *state, bool inline_secrets)
{
	static char ids[64][32], runs[64][300];
	struct dp_task_record r = {
		.seq = seq,
		.id = ids[seq % 64],
		.spec_json = (char *)"{\"script\":\"/s.jsonl\"}",
		.state = (char *)state,
		.max_steps = 10,
		.instruction = (char *)"enter the invoices",
		.policy = (char *)"script",
		.submitter_uid = 1000,
		.submitter_name = (char *)":1.42",
		.created = 1000000 * seq,
		.run_dir = runs[seq % 64],
		.display = (char *)":5",
		.inline_secrets = inline_secrets,
	};

	snprintf(ids[seq % 64], sizeof(ids[0]), "t_%04llu", (unsigned long long)seq);
	snprintf(runs[seq % 64], sizeof(runs[0]), "%s/runs/t_%04llu", dir, (unsigned long long)seq);
	return r;
}

struct loaded {
	struct dp_task_record v[64];
	size_t n;
};

static int keep(void *data, struct dp_task_record *r)
{
	struct loaded *l = data;

	if (l->n == 64)
		return -E2BIG;
	l->v[l->n++] = *r;
	memset(r, 0, sizeof(*r)); /* taken */
	return 0;
}

static void loaded_release(struct loaded *l)
{
	for (size_t i = 0; i < l->n; i++)
		dp_task_record_release(&l->v[i]);
	l->n = 0;
}

static int count_steps(void *data, const struct dp_step_row *row)
{
	int *n = data;

	(*n)++;
	TST_EQ_INT(row->n, (unsigned)*n);
	return 0;
}

static void test_write_and_read_back(void)
{
	struct dp_store *s;
	struct dp_error err = { 0 };
	struct loaded l = { 0 };
	struct dp_task_record r1, r2;
	struct dp_step_row st = { .n = 1, .action = "click (812,404)", .verdict = "changed", .message = "ok",
				  .duration_ms = 120 };
	int steps = 0;

	fresh_dir();
	TST_REQUIRE(dp_store_open(&s, dir, &err) == 0);
	r1 = rec(1, "queued", false);
	r2 = rec(2, "queued", false);
	TST_EQ_INT(dp_store_insert(s, &r1, &err), 0);
	TST_EQ_INT(dp_store_insert(s, &r2, &err), 0);
	/* The same id twice is refused, not overwritten. */
	TST_CHECK(dp_store_insert(s, &r1, &err) < 0);
	r1.state = (char *)"running";
	r1.started = 5;
	r1.step = 2;
	TST_EQ_INT(dp_store_update(s, &r1, &err), 0);
	TST_EQ_INT(dp_store_add_step(s, r1.id, &st, &err), 0);
	st.n = 2;
	st.action = "type (5 bytes)";
	TST_EQ_INT(dp_store_add_step(s, r1.id, &st, &err), 0);
	dp_store_close(s);

	TST_REQUIRE(dp_store_open(&s, dir, &err) == 0);
	TST_EQ_INT(dp_store_max_seq(s), 2);
	TST_EQ_INT(dp_store_load(s, keep, &l, &err), 0);
	TST_EQ_INT(l.n, 2);
	TST_EQ_STR(l.v[0].id, "t_0001");
	TST_EQ_STR(l.v[0].state, "running");
	TST_EQ_INT(l.v[0].step, 2);
	TST_EQ_INT(l.v[0].started, 5);
	TST_EQ_STR(l.v[0].instruction, "enter the invoices");
	TST_EQ_INT(l.v[0].submitter_uid, 1000);
	TST_EQ_STR(l.v[0].submitter_name, ":1.42");
	TST_EQ_STR(l.v[1].id, "t_0002");
	TST_EQ_STR(l.v[1].state, "queued");
	TST_EQ_INT(dp_store_steps(s, "t_0001", count_steps, &steps, &err), 0);
	TST_EQ_INT(steps, 2);
	loaded_release(&l);
	dp_store_close(s);
}

static void test_recovery_after_a_crash(void)
{
	struct dp_store *s;
	struct dp_error err = { 0 };
	struct loaded l = { 0 };
	const char *states[] = { "succeeded", "running", "paused", "waiting_user", "queued", "queued", "failed" };
	sqlite3 *db;
	char path[300], *msg = NULL;
	int steps = 0;

	fresh_dir();
	TST_REQUIRE(dp_store_open(&s, dir, &err) == 0);
	for (int i = 0; i < 7; i++) {
		struct dp_task_record r = rec((uint64_t)i + 1, states[i], i == 5);

		r.step = (uint32_t)i;
		TST_EQ_INT(dp_store_insert(s, &r, &err), 0);
	}
	{
		struct dp_step_row st = { .n = 1, .action = "click (1,1)", .verdict = "changed", .message = "" };

		TST_EQ_INT(dp_store_add_step(s, "t_0002", &st, &err), 0);
	}
	/* No close: as after kill -9, the next process opens the same file. */
	{
		struct dp_store *s2;

		TST_REQUIRE(dp_store_open(&s2, dir, &err) == 0);
		TST_EQ_INT(dp_store_recover(s2, 99, &err), 4);
		TST_EQ_INT(dp_store_load(s2, keep, &l, &err), 0);
		dp_store_close(s2);
	}
	dp_store_close(s);
	TST_REQUIRE(l.n == 7);
	TST_EQ_STR(l.v[0].state, "succeeded");
	for (int i = 1; i <= 3; i++) {
		TST_EQ_STR(l.v[i].state, "interrupted");
		TST_EQ_INT(l.v[i].step, i); /* the last step stays */
		TST_EQ_INT(l.v[i].finished, 99);
		TST_CHECK(strstr(l.v[i].error, "the daemon stopped while the task ran") != NULL);
	}
	TST_EQ_STR(l.v[4].state, "queued");
	TST_EQ_STR(l.v[5].state, "interrupted");
	TST_CHECK(strstr(l.v[5].error, "inline secrets are not kept across restarts") != NULL);
	TST_EQ_STR(l.v[6].state, "failed");
	loaded_release(&l);

	TST_REQUIRE(dp_store_open(&s, dir, &err) == 0);
	TST_EQ_INT(dp_store_steps(s, "t_0002", count_steps, &steps, &err), 0);
	TST_EQ_INT(steps, 1);
	TST_EQ_INT(dp_store_recover(s, 100, &err), 0); /* nothing more to do */
	dp_store_close(s);

	snprintf(path, sizeof(path), "%s/tasks.db", dir);
	TST_REQUIRE(sqlite3_open(path, &db) == SQLITE_OK);
	{
		sqlite3_stmt *st;

		TST_REQUIRE(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK);
		TST_EQ_INT(sqlite3_step(st), SQLITE_ROW);
		TST_EQ_STR((const char *)sqlite3_column_text(st, 0), "ok");
		sqlite3_finalize(st);
		TST_REQUIRE(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL) == SQLITE_OK);
		TST_EQ_INT(sqlite3_step(st), SQLITE_ROW);
		TST_EQ_STR((const char *)sqlite3_column_text(st, 0), "wal");
		sqlite3_finalize(st);
	}
	sqlite3_free(msg);
	sqlite3_close(db);
}

static void make_run_dir(const char *run)
{
	char file[400];
	FILE *f;

	mkdir(dir, 0700);
	snprintf(file, sizeof(file), "%s/runs", dir);
	mkdir(file, 0700);
	mkdir(run, 0700);
	snprintf(file, sizeof(file), "%s/traj.jsonl", run);
	f = fopen(file, "w");
	if (f) {
		fputs("{}\n", f);
		fclose(f);
	}
}

struct removed {
	char ids[16][32];
	int n;
};

static void on_removed(void *data, const char *id)
{
	struct removed *r = data;

	if (r->n < 16)
		snprintf(r->ids[r->n++], sizeof(r->ids[0]), "%s", id);
}

static void test_prune(void)
{
	struct dp_store *s;
	struct dp_error err = { 0 };
	struct loaded l = { 0 };
	struct removed gone = { 0 };
	const uint64_t day = 86400ULL * 1000000, now = 100 * day;
	/* seq: state, finished */
	const char *states[] = { "succeeded", "failed", "running", "succeeded", "cancelled", "succeeded", "queued" };
	const uint64_t finished[] = { 50 * day, 98 * day, 0, 99 * day, 99 * day, 99 * day, 0 };

	fresh_dir();
	TST_REQUIRE(dp_store_open(&s, dir, &err) == 0);
	for (int i = 0; i < 7; i++) {
		struct dp_task_record r = rec((uint64_t)i + 1, states[i], false);

		r.finished = finished[i];
		make_run_dir(r.run_dir);
		TST_EQ_INT(dp_store_insert(s, &r, &err), 0);
	}
	/* Older than 30 days: t_0001.  Beyond the newest 3 finished: t_0002. */
	TST_EQ_INT(dp_store_prune(s, now, 30, 3, on_removed, &gone, &err), 2);
	TST_EQ_INT(gone.n, 2);
	TST_EQ_STR(gone.ids[0], "t_0001");
	TST_EQ_STR(gone.ids[1], "t_0002");
	TST_EQ_INT(dp_store_load(s, keep, &l, &err), 0);
	TST_EQ_INT(l.n, 5);
	TST_EQ_STR(l.v[0].id, "t_0003"); /* running: never pruned */
	for (size_t i = 0; i < l.n; i++)
		TST_CHECK(access(l.v[i].run_dir, F_OK) == 0);
	loaded_release(&l);
	{
		char run[300];

		snprintf(run, sizeof(run), "%s/runs/t_0001", dir);
		TST_CHECK(access(run, F_OK) < 0 && errno == ENOENT);
		snprintf(run, sizeof(run), "%s/runs/t_0002", dir);
		TST_CHECK(access(run, F_OK) < 0 && errno == ENOENT);
	}
	/* Again: nothing left to prune. */
	TST_EQ_INT(dp_store_prune(s, now, 30, 3, on_removed, &gone, &err), 0);
	dp_store_close(s);
	/* A path that is not a run folder is never removed. */
	TST_EQ_INT(dp_remove_tree(dir), -EINVAL);
}

static void test_unwritable_state_dir(void)
{
	struct dp_store *s = NULL;
	struct dp_error err = { 0 };

	TST_CHECK(dp_store_open(&s, "/proc/deskpilot-state", &err) < 0);
	TST_CHECK(s == NULL);
	TST_CHECK(strstr(err.message, "/proc/deskpilot-state") != NULL);
}

int main(void)
{
	TST_RUN(test_write_and_read_back);
	TST_RUN(test_recovery_after_a_crash);
	TST_RUN(test_prune);
	TST_RUN(test_unwritable_state_dir);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	TST_EXIT();
}
