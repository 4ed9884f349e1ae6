/* Watching a task of deskpilotd to its end: deskpilot follow, and submit
 * with --follow or --wait.  Signals are matched before the task is looked
 * at (or submitted), so no step is missed. */
#pragma once

#include <stdbool.h>

#include <systemd/sd-bus.h>

struct dp_follow;

enum dp_follow_mode {
	DP_FOLLOW_LIVE,  /* steps as they come: a progress line on a terminal, plain lines otherwise */
	DP_FOLLOW_QUIET, /* only questions (on stderr) and the outcome */
};

/* Starts matching the signals of every task object; call before Submit. */
int dp_follow_watch(const char *cmd, sd_bus *bus, struct dp_follow **out);

/* Follows the task at path until it has finished; prints the outcome (as
 * JSON with json: every property of the task).  Returns the exit code of
 * the outcome (dp_task_exit_code) or of what went wrong. */
int dp_follow_run(struct dp_follow *f, const char *path, enum dp_follow_mode mode, bool json);

void dp_follow_free(struct dp_follow *f);
