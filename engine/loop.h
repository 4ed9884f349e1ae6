/* The step loop: observe → decide → guard → act → settle → check → record,
 * one iteration per step, within the task's budgets.  The daemon's runner
 * thread calls dp_loop_run(); another thread may cancel or pause it. */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "actuators/actuator.h"
#include "capture/capture.h"
#include "engine/policy.h"
#include "engine/trajectory.h"

#define DP_MAX_STEPS 200

/* Asks the person behind the task (ask_user, confirmations): fills answer
 * and returns 0, or -ENOTCONN when no one can answer. */
typedef int (*dp_ask_fn)(void *data, const char *question, char *answer, size_t size);

/* Secret values for {{secret:name}} placeholders, looked up at the moment
 * of typing.  Fills value (NUL-terminated) or returns -ENOENT. */
typedef int (*dp_secret_lookup_fn)(void *data, const char *name, char *value, size_t size);

struct dp_loop_config {
	const char *task_id;
	const char *instruction;
	uint32_t max_steps;            /* 1..200; 0 means 200 */
	int64_t timeout_ms;            /* wall clock for the whole task; 0: none */
	uint64_t token_budget;         /* 0: none */
	struct dp_settle_options settle;
	const char *run_dir;           /* trajectory folder; NULL: none written */
	const char *const *allow_launch;          /* programs launch may start (NULL-terminated); NULL: none */
	const char *const *deny_window_classes;   /* WM_CLASS values window actions must not touch */
	dp_secret_lookup_fn secrets;
	void *secrets_data;
	/* Actions that need a yes first: shell patterns over "type" or
	 * "type:detail" (key:ctrl+s, launch:gnumeric, window:close, click). */
	const char *const *confirm_actions;
	dp_ask_fn ask;
	void *ask_data;
	int jpeg_quality;              /* 0: 85 */
	/* Called after each step is recorded (progress, D-Bus signals). */
	void (*on_step)(void *data, const struct dp_step_record *record);
	void *on_step_data;
};

/* Shared with the threads that control a running task. */
struct dp_loop_control {
	atomic_bool cancel;
	atomic_bool pause;
	int wake_fd; /* an eventfd: written to cancel or resume; -1 if unused */
};

int dp_loop_control_init(struct dp_loop_control *control);
void dp_loop_control_cancel(struct dp_loop_control *control);
void dp_loop_control_pause(struct dp_loop_control *control, bool pause);
void dp_loop_control_release(struct dp_loop_control *control);

enum dp_task_outcome {
	DP_TASK_SUCCEEDED,
	DP_TASK_FAILED,       /* the policy gave up (fail action) */
	DP_TASK_CANCELLED,
	DP_TASK_OUT_OF_STEPS,
	DP_TASK_TIMED_OUT,
	DP_TASK_OUT_OF_TOKENS,
	DP_TASK_ERROR,        /* deskpilot could not go on (display gone, policy error) */
};

const char *dp_task_outcome_name(enum dp_task_outcome outcome);

struct dp_loop_result {
	enum dp_task_outcome outcome;
	uint32_t steps;
	uint64_t tokens;
	char message[512]; /* the done summary, the fail reason, or the error */
};

/* Runs the task to its end.  Returns 0 with result filled whatever the
 * outcome; a negative errno only for bad arguments. */
int dp_loop_run(const struct dp_loop_config *config, struct dp_capture *capture, struct dp_actuator *actuator,
		struct dp_policy *policy, struct dp_loop_control *control, struct dp_loop_result *result,
		struct dp_error *err);
