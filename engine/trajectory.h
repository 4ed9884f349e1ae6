/* A task's trajectory on disk: runs/<task>/traj.jsonl (one line per step),
 * step_NNN.jpg (what the policy saw), result.json, and report.html.
 * Actions are recorded as the policy gave them: secret placeholders stay
 * placeholders. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "engine/error.h"
#include "engine/policy.h"

enum dp_phase {
	DP_PHASE_OBSERVE,
	DP_PHASE_DECIDE,
	DP_PHASE_GUARD,
	DP_PHASE_ACT,
	DP_PHASE_SETTLE,
	DP_PHASE_CHECK,
	DP_PHASE_RECORD,
	DP_PHASE_COUNT,
};

const char *dp_phase_name(enum dp_phase phase);

struct dp_step_record {
	uint32_t step;
	const uint8_t *jpeg;
	size_t jpeg_size;
	int32_t width, height; /* of the screenshot */
	const struct dp_decision *decision;
	const struct dp_action_feedback *feedback;
	size_t n_feedback;
	int64_t phase_us[DP_PHASE_COUNT];
};

struct dp_trajectory;

/* Creates dir (and its parents) and starts traj.jsonl. */
int dp_trajectory_open(struct dp_trajectory **out, const char *dir, const char *task_id, const char *instruction,
		       struct dp_error *err);
int dp_trajectory_add_step(struct dp_trajectory *traj, const struct dp_step_record *record, struct dp_error *err);
/* Writes result.json and report.html, and frees. */
int dp_trajectory_close(struct dp_trajectory *traj, const char *outcome, const char *message, uint32_t steps,
			uint64_t tokens, struct dp_error *err);
