/* The task store: one SQLite database (WAL) under the state folder,
 * $XDG_STATE_HOME/deskpilot/tasks.db.  Every write happens on the daemon's
 * main thread, so one connection serves all.  A write returns once it is
 * committed: a task acknowledged to a client is on disk. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "engine/error.h"

struct dp_store;

/* A task as stored.  Strings are owned by the record (see
 * dp_task_record_release) when they come from dp_store_load. */
struct dp_task_record {
	uint64_t seq;            /* order of submission; also the row id */
	char *id;
	char *spec_json;         /* without secret values */
	char *state;
	uint32_t step, max_steps;
	char *instruction, *policy, *result, *error;
	uint32_t submitter_uid;
	char *submitter_name;    /* the submitter's unique bus name */
	uint64_t submitter_gone; /* when that name left the bus (µs since the epoch), 0: never seen leaving */
	uint64_t created, started, finished; /* µs since the epoch, 0: not yet */
	char *run_dir;
	int32_t priority;
	char *display;
	bool inline_secrets;     /* the task had values held only in memory */
};

void dp_task_record_release(struct dp_task_record *rec);

struct dp_step_row {
	uint32_t n;
	const char *action, *verdict, *message;
	uint32_t duration_ms;
};

/* Opens (creating) dir/tasks.db.  dir is created if missing. */
int dp_store_open(struct dp_store **out, const char *dir, struct dp_error *err);
void dp_store_close(struct dp_store *store);

/* Start-up recovery, one transaction: tasks that were running, paused or
 * waiting for an answer become interrupted (keeping their last step);
 * queued tasks with inline secrets become interrupted, saying why.  Returns
 * how many it changed, or a negative errno. */
int dp_store_recover(struct dp_store *store, uint64_t now_us, struct dp_error *err);

/* Calls fn for every task, oldest first; stops at fn's first error. */
int dp_store_load(struct dp_store *store, int (*fn)(void *data, struct dp_task_record *rec), void *data,
		  struct dp_error *err);
uint64_t dp_store_max_seq(struct dp_store *store);

int dp_store_insert(struct dp_store *store, const struct dp_task_record *rec, struct dp_error *err);
/* Writes the record's changing fields: state, step, result, error,
 * started, finished, submitter_gone. */
int dp_store_update(struct dp_store *store, const struct dp_task_record *rec, struct dp_error *err);
/* Adds a step and sets the task's step to its number, in one commit. */
int dp_store_add_step(struct dp_store *store, const char *task_id, const struct dp_step_row *step,
		      struct dp_error *err);
/* Steps of a task, in order (for tests and reports). */
int dp_store_steps(struct dp_store *store, const char *task_id,
		   int (*fn)(void *data, const struct dp_step_row *step), void *data, struct dp_error *err);

/* Deletes finished tasks that finished before now - max_age_days, and the
 * oldest finished ones beyond max_runs, with their steps and run folders.
 * removed(data, id) is called for each (before the row goes).  Returns how
 * many went, or a negative errno. */
int dp_store_prune(struct dp_store *store, uint64_t now_us, uint32_t max_age_days, uint32_t max_runs,
		   void (*removed)(void *data, const char *id), void *data, struct dp_error *err);

/* rm -r of a run folder; refuses a path without "/runs/" in it. */
int dp_remove_tree(const char *path);

bool dp_task_state_is_final(const char *state);
