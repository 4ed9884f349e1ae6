/* One running task: a thread with its own capture, actuator and policy for
 * the task's display, running the step loop.  It reports through the
 * mailbox; the main loop controls it with cancel, pause and answer. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "daemon/mailbox.h"
#include "daemon/secrets.h"
#include "daemon/task_spec.h"
#include "engine/error.h"

struct dp_runner_setup {
	struct dp_task *task;              /* posted back with every event */
	const char *task_id;
	const struct dp_task_spec *spec;   /* must outlive the runner */
	const char *flow_path;             /* the flow file (spec->flow, or where its text was saved) */
	const char *run_dir;
	const char *const *allow_launch;   /* the effective lists, NULL-terminated */
	const char *const *deny_window_classes;
	const char *const *confirm;
	const char *model_endpoint, *model_api_key_file, *model_profile;
	struct dp_secret_source secrets;   /* inline values borrowed from spec */
	struct dp_mailbox *mailbox;
};

struct dp_runner;

int dp_runner_start(struct dp_runner **out, const struct dp_runner_setup *setup, struct dp_error *err);
void dp_runner_cancel(struct dp_runner *r);
void dp_runner_pause(struct dp_runner *r, bool pause);
/* Hands the answer to the waiting task; -ENOENT when it asks nothing. */
int dp_runner_answer(struct dp_runner *r, const char *answer);
/* Joins the thread (it has posted DP_EVENT_FINISHED) and frees. */
void dp_runner_destroy(struct dp_runner *r);

/* "click (812,404)", "key ctrl+s; type (12 chars)": never typed text. */
void dp_decision_summary(const struct dp_decision *d, char *buf, size_t size);
