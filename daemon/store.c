#include "daemon/store.h"

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#define DP_LOG_SUBSYS "store"
#include "engine/log.h"

struct dp_store {
	sqlite3 *db;
	sqlite3_stmt *insert, *update, *add_step, *set_step;
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS tasks ("
	" seq INTEGER PRIMARY KEY,"
	" id TEXT NOT NULL UNIQUE,"
	" spec TEXT NOT NULL,"
	" state TEXT NOT NULL,"
	" step INTEGER NOT NULL DEFAULT 0,"
	" max_steps INTEGER NOT NULL,"
	" instruction TEXT NOT NULL DEFAULT '',"
	" policy TEXT NOT NULL DEFAULT '',"
	" result TEXT NOT NULL DEFAULT '',"
	" error TEXT NOT NULL DEFAULT '',"
	" submitter_uid INTEGER NOT NULL,"
	" submitter_name TEXT NOT NULL DEFAULT '',"
	" submitter_gone INTEGER NOT NULL DEFAULT 0,"
	" created INTEGER NOT NULL,"
	" started INTEGER NOT NULL DEFAULT 0,"
	" finished INTEGER NOT NULL DEFAULT 0,"
	" run_dir TEXT NOT NULL,"
	" priority INTEGER NOT NULL DEFAULT 0,"
	" display TEXT NOT NULL DEFAULT '',"
	" inline_secrets INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE IF NOT EXISTS steps ("
	" task TEXT NOT NULL,"
	" n INTEGER NOT NULL,"
	" action TEXT NOT NULL,"
	" verdict TEXT NOT NULL,"
	" message TEXT NOT NULL,"
	" duration_ms INTEGER NOT NULL,"
	" PRIMARY KEY (task, n));"
	"CREATE INDEX IF NOT EXISTS tasks_state ON tasks (state);";

#define FINAL_STATES "('succeeded','failed','cancelled','interrupted')"

bool dp_task_state_is_final(const char *s)
{
	return strcmp(s, "succeeded") == 0 || strcmp(s, "failed") == 0 || strcmp(s, "cancelled") == 0 ||
	       strcmp(s, "interrupted") == 0;
}

void dp_task_record_release(struct dp_task_record *r)
{
	free(r->id);
	free(r->spec_json);
	free(r->state);
	free(r->instruction);
	free(r->policy);
	free(r->result);
	free(r->error);
	free(r->submitter_name);
	free(r->run_dir);
	free(r->display);
	memset(r, 0, sizeof(*r));
}

static int db_error(struct dp_store *s, struct dp_error *err, const char *what)
{
	return dp_error_set(err, -EIO, "task store: %s: %s", what, sqlite3_errmsg(s->db));
}

static int exec(struct dp_store *s, const char *sql, struct dp_error *err)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		dp_error_set(err, -EIO, "task store: %s", msg ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		return -EIO;
	}
	return 0;
}

static int mkdir_p(const char *dir)
{
	char buf[PATH_MAX];

	if (snprintf(buf, sizeof(buf), "%s", dir) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int dp_store_open(struct dp_store **out, const char *dir, struct dp_error *err)
{
	struct dp_store *s = calloc(1, sizeof(*s));
	char path[PATH_MAX];
	int r;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	if ((r = mkdir_p(dir)) < 0) {
		free(s);
		return dp_error_set(err, r, "cannot create the state folder %s: %s", dir, strerror(-r));
	}
	snprintf(path, sizeof(path), "%s/tasks.db", dir);
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		r = dp_error_set(err, -EIO, "cannot open the task store %s: %s", path,
				 s->db ? sqlite3_errmsg(s->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(s->db, 5000);
	/* WAL: a crash never leaves a half-written task; FULL: a commit is on
	 * disk before the client hears of it.  A small page cache: the daemon
	 * reads the store only at start-up. */
	if ((r = exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=-512;", err)) < 0 ||
	    (r = exec(s, schema, err)) < 0)
		goto fail;
	if (sqlite3_prepare_v2(s->db,
			       "INSERT INTO tasks (seq, id, spec, state, step, max_steps, instruction, policy, result,"
			       " error,"
			       " submitter_uid, submitter_name, submitter_gone, created, started, finished, run_dir,"
			       " priority, display, inline_secrets)"
			       " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
			       -1, &s->insert, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db,
			       "UPDATE tasks SET state=?, step=?, result=?, error=?, started=?, finished=?,"
			       " submitter_gone=? WHERE id=?",
			       -1, &s->update, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db,
			       "INSERT OR REPLACE INTO steps (task, n, action, verdict, message, duration_ms)"
			       " VALUES (?,?,?,?,?,?)",
			       -1, &s->add_step, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db, "UPDATE tasks SET step=? WHERE id=?", -1, &s->set_step, NULL) != SQLITE_OK) {
		r = db_error(s, err, "preparing statements");
		goto fail;
	}
	*out = s;
	return 0;
fail:
	dp_store_close(s);
	return r;
}

void dp_store_close(struct dp_store *s)
{
	if (!s)
		return;
	sqlite3_finalize(s->insert);
	sqlite3_finalize(s->update);
	sqlite3_finalize(s->add_step);
	sqlite3_finalize(s->set_step);
	sqlite3_close(s->db);
	free(s);
}

static const char *nz(const char *s)
{
	return s ? s : "";
}

static int step_done(struct dp_store *s, sqlite3_stmt *st, struct dp_error *err, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : db_error(s, err, what);
}

int dp_store_insert(struct dp_store *s, const struct dp_task_record *r, struct dp_error *err)
{
	sqlite3_stmt *st = s->insert;

	sqlite3_bind_int64(st, 1, (sqlite3_int64)r->seq);
	sqlite3_bind_text(st, 2, r->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, nz(r->spec_json), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, r->state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, r->step);
	sqlite3_bind_int64(st, 6, r->max_steps);
	sqlite3_bind_text(st, 7, nz(r->instruction), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, nz(r->policy), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, nz(r->result), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, nz(r->error), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 11, r->submitter_uid);
	sqlite3_bind_text(st, 12, nz(r->submitter_name), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 13, (sqlite3_int64)r->submitter_gone);
	sqlite3_bind_int64(st, 14, (sqlite3_int64)r->created);
	sqlite3_bind_int64(st, 15, (sqlite3_int64)r->started);
	sqlite3_bind_int64(st, 16, (sqlite3_int64)r->finished);
	sqlite3_bind_text(st, 17, nz(r->run_dir), -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 18, r->priority);
	sqlite3_bind_text(st, 19, nz(r->display), -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 20, r->inline_secrets);
	return step_done(s, st, err, "adding a task");
}

int dp_store_update(struct dp_store *s, const struct dp_task_record *r, struct dp_error *err)
{
	sqlite3_stmt *st = s->update;

	sqlite3_bind_text(st, 1, r->state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, r->step);
	sqlite3_bind_text(st, 3, nz(r->result), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, nz(r->error), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)r->started);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)r->finished);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)r->submitter_gone);
	sqlite3_bind_text(st, 8, r->id, -1, SQLITE_STATIC);
	return step_done(s, st, err, "updating a task");
}

int dp_store_add_step(struct dp_store *s, const char *task_id, const struct dp_step_row *row, struct dp_error *err)
{
	sqlite3_stmt *st = s->add_step;
	int r;

	/* The step and the task's step count in one commit: a crash between
	 * them would leave the task a step behind its own steps. */
	if ((r = exec(s, "BEGIN IMMEDIATE", err)) < 0)
		return r;
	sqlite3_bind_text(st, 1, task_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, row->n);
	sqlite3_bind_text(st, 3, nz(row->action), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, nz(row->verdict), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, nz(row->message), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, row->duration_ms);
	if ((r = step_done(s, st, err, "adding a step")) < 0)
		goto fail;
	st = s->set_step;
	sqlite3_bind_int64(st, 1, row->n);
	sqlite3_bind_text(st, 2, task_id, -1, SQLITE_STATIC);
	if ((r = step_done(s, st, err, "counting a step")) < 0)
		goto fail;
	return exec(s, "COMMIT", err);
fail:
	exec(s, "ROLLBACK", NULL);
	return r;
}

int dp_store_recover(struct dp_store *s, uint64_t now_us, struct dp_error *err)
{
	sqlite3_stmt *st = NULL;
	int changed = 0, r;

	if ((r = exec(s, "BEGIN IMMEDIATE", err)) < 0)
		return r;
	if (sqlite3_prepare_v2(s->db,
			       "UPDATE tasks SET state='interrupted', finished=?1,"
			       " error='the daemon stopped while the task ran (after step ' || step || ');"
			       " submit it again'"
			       " WHERE state IN ('running','paused','waiting_user')",
			       -1, &st, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)now_us);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto fail;
	changed += sqlite3_changes(s->db);
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(s->db,
			       "UPDATE tasks SET state='interrupted', finished=?1,"
			       " error='inline secrets are not kept across restarts of the daemon:"
			       " submit the task again"
			       " (or keep the secret in secrets.json or a systemd credential)'"
			       " WHERE state='queued' AND inline_secrets != 0",
			       -1, &st, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)now_us);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto fail;
	changed += sqlite3_changes(s->db);
	sqlite3_finalize(st);
	if ((r = exec(s, "COMMIT", err)) < 0)
		return r;
	return changed;
fail:
	r = db_error(s, err, "recovering tasks at start-up");
	sqlite3_finalize(st);
	exec(s, "ROLLBACK", NULL);
	return r;
}

static char *col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return strdup(t ? (const char *)t : "");
}

int dp_store_load(struct dp_store *s, int (*fn)(void *data, struct dp_task_record *rec), void *data,
		  struct dp_error *err)
{
	sqlite3_stmt *st;
	int rc, r = 0;

	if (sqlite3_prepare_v2(s->db,
			       "SELECT seq, id, spec, state, step, max_steps, instruction, policy, result, error,"
			       " submitter_uid, submitter_name, submitter_gone, created, started, finished, run_dir,"
			       " priority, display, inline_secrets FROM tasks ORDER BY seq",
			       -1, &st, NULL) != SQLITE_OK)
		return db_error(s, err, "reading tasks");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct dp_task_record rec = {
			.seq = (uint64_t)sqlite3_column_int64(st, 0),
			.id = col_text(st, 1),
			.spec_json = col_text(st, 2),
			.state = col_text(st, 3),
			.step = (uint32_t)sqlite3_column_int64(st, 4),
			.max_steps = (uint32_t)sqlite3_column_int64(st, 5),
			.instruction = col_text(st, 6),
			.policy = col_text(st, 7),
			.result = col_text(st, 8),
			.error = col_text(st, 9),
			.submitter_uid = (uint32_t)sqlite3_column_int64(st, 10),
			.submitter_name = col_text(st, 11),
			.submitter_gone = (uint64_t)sqlite3_column_int64(st, 12),
			.created = (uint64_t)sqlite3_column_int64(st, 13),
			.started = (uint64_t)sqlite3_column_int64(st, 14),
			.finished = (uint64_t)sqlite3_column_int64(st, 15),
			.run_dir = col_text(st, 16),
			.priority = sqlite3_column_int(st, 17),
			.display = col_text(st, 18),
			.inline_secrets = sqlite3_column_int(st, 19) != 0,
		};

		if (!rec.id || !rec.spec_json || !rec.state || !rec.instruction || !rec.policy || !rec.result ||
		    !rec.error || !rec.submitter_name || !rec.run_dir || !rec.display) {
			dp_task_record_release(&rec);
			r = -ENOMEM;
			break;
		}
		/* fn takes the record's strings, or leaves them to us. */
		r = fn(data, &rec);
		dp_task_record_release(&rec);
		if (r < 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_error(s, err, "reading tasks");
	sqlite3_finalize(st);
	return r;
}

uint64_t dp_store_max_seq(struct dp_store *s)
{
	sqlite3_stmt *st;
	uint64_t seq = 0;

	if (sqlite3_prepare_v2(s->db, "SELECT COALESCE(MAX(seq), 0) FROM tasks", -1, &st, NULL) != SQLITE_OK)
		return 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		seq = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return seq;
}

int dp_store_steps(struct dp_store *s, const char *task_id, int (*fn)(void *data, const struct dp_step_row *step),
		   void *data, struct dp_error *err)
{
	sqlite3_stmt *st;
	int rc, r = 0;

	if (sqlite3_prepare_v2(s->db,
			       "SELECT n, action, verdict, message, duration_ms FROM steps WHERE task=? ORDER BY n", -1,
			       &st, NULL) != SQLITE_OK)
		return db_error(s, err, "reading steps");
	sqlite3_bind_text(st, 1, task_id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct dp_step_row row = {
			.n = (uint32_t)sqlite3_column_int64(st, 0),
			.action = (const char *)sqlite3_column_text(st, 1),
			.verdict = (const char *)sqlite3_column_text(st, 2),
			.message = (const char *)sqlite3_column_text(st, 3),
			.duration_ms = (uint32_t)sqlite3_column_int64(st, 4),
		};

		if ((r = fn(data, &row)) < 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_error(s, err, "reading steps");
	sqlite3_finalize(st);
	return r;
}

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	if (remove(path) < 0 && errno != ENOENT)
		dp_log_warn("cannot remove %s: %s", path, strerror(errno));
	return 0;
}

int dp_remove_tree(const char *path)
{
	if (!path || !strstr(path, "/runs/"))
		return -EINVAL;
	if (nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS) < 0)
		return errno == ENOENT ? 0 : -errno;
	return 0;
}

struct doomed {
	char *id, *dir;
};

int dp_store_prune(struct dp_store *s, uint64_t now_us, uint32_t max_age_days, uint32_t max_runs,
		   void (*removed)(void *data, const char *id), void *data, struct dp_error *err)
{
	sqlite3_stmt *st = NULL, *del_task = NULL, *del_steps = NULL;
	uint64_t age = (uint64_t)max_age_days * 86400 * 1000000;
	uint64_t cutoff = now_us > age ? now_us - age : 0;
	struct doomed *v = NULL;
	size_t n = 0, cap = 0;
	int rc, r;

	if (sqlite3_prepare_v2(s->db,
			       /* Old ones, and every finished one past the newest max_runs. */
			       "SELECT id, run_dir FROM tasks WHERE state IN " FINAL_STATES
			       " AND (finished < ?1 OR seq NOT IN (SELECT seq FROM tasks WHERE state IN " FINAL_STATES
			       " ORDER BY seq DESC LIMIT ?2)) ORDER BY seq",
			       -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db, "DELETE FROM tasks WHERE id=?", -1, &del_task, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db, "DELETE FROM steps WHERE task=?", -1, &del_steps, NULL) != SQLITE_OK) {
		r = db_error(s, err, "pruning");
		goto out;
	}
	sqlite3_bind_int64(st, 1, (sqlite3_int64)cutoff);
	sqlite3_bind_int64(st, 2, max_runs);
	/* Collect first: deleting rows while a scan of them steps is undefined. */
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			struct doomed *grown = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof(*v));

			if (!grown) {
				r = -ENOMEM;
				goto out;
			}
			v = grown;
		}
		v[n].id = strdup((const char *)sqlite3_column_text(st, 0));
		v[n].dir = strdup((const char *)sqlite3_column_text(st, 1));
		n++;
		if (!v[n - 1].id || !v[n - 1].dir) {
			r = -ENOMEM;
			goto out;
		}
	}
	if (rc != SQLITE_DONE) {
		r = db_error(s, err, "pruning");
		goto out;
	}
	if (n == 0) {
		r = 0;
		goto out;
	}
	if ((r = exec(s, "BEGIN IMMEDIATE", err)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		sqlite3_bind_text(del_steps, 1, v[i].id, -1, SQLITE_STATIC);
		sqlite3_bind_text(del_task, 1, v[i].id, -1, SQLITE_STATIC);
		if (sqlite3_step(del_steps) != SQLITE_DONE || sqlite3_step(del_task) != SQLITE_DONE) {
			r = db_error(s, err, "pruning");
			exec(s, "ROLLBACK", NULL);
			goto out;
		}
		sqlite3_reset(del_steps);
		sqlite3_reset(del_task);
	}
	if ((r = exec(s, "COMMIT", err)) < 0)
		goto out;
	/* The rows are gone for good: now the folders and the objects. */
	for (size_t i = 0; i < n; i++) {
		if (removed)
			removed(data, v[i].id);
		if (*v[i].dir && dp_remove_tree(v[i].dir) < 0)
			dp_log_warn("cannot remove the run folder %s", v[i].dir);
	}
	r = (int)n;
out:
	for (size_t i = 0; i < n; i++) {
		free(v[i].id);
		free(v[i].dir);
	}
	free(v);
	sqlite3_finalize(st);
	sqlite3_finalize(del_task);
	sqlite3_finalize(del_steps);
	return r;
}
