/* The decider behind one interface: a model or a flow chooses the next
 * actions from what is on screen, hears how they went, and (for a model)
 * a fresh-context verifier confirms "done" before the task may end. */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture/frame.h"
#include "engine/action.h"
#include "engine/coords.h"
#include "engine/error.h"

#define DP_DECISION_MAX_ACTIONS 16

struct dp_task_info {
	const char *id;
	const char *instruction;
	uint32_t max_steps;
	/* Set when the task is cancelled: a policy waiting on a model ends
	 * its request at once.  NULL when the task cannot be cancelled. */
	const atomic_bool *cancel;
};

struct dp_observation {
	uint32_t step;                /* 1-based: the step being decided */
	const struct dp_frame *frame; /* the settled screen */
	const uint8_t *jpeg;          /* the same frame as JPEG, as a model is sent it */
	size_t jpeg_size;
};

/* What the policy chose for one step; the loop frees it with
 * dp_decision_clear() once performed. */
struct dp_decision {
	struct dp_action actions[DP_DECISION_MAX_ACTIONS];
	size_t n_actions;
	char *reasoning;      /* may be NULL */
	uint64_t tokens_in, tokens_out;
	uint64_t tokens_cached; /* of tokens_in, those the server had cached */
	/* No action to perform, and that is not an error: the model's reply was
	 * invalid, the policy has told it why, and the step still counts. */
	bool nothing_valid;
	/* The actions' points are in the model's image space when set (the
	 * loop maps them to screen pixels); screen pixels otherwise. */
	bool has_coords;
	struct dp_coord_map coords;
};

void dp_decision_clear(struct dp_decision *d);

/* How each action of the last decision went, in order. */
enum dp_verdict {
	DP_VERDICT_CHANGED,     /* the screen changed (where the action was, if it has a point) */
	DP_VERDICT_ELSEWHERE,   /* it changed, but not near the action's point */
	DP_VERDICT_NO_EFFECT,   /* a change was expected and none came */
	DP_VERDICT_UNCHECKED,   /* no change expected (move, wait) */
	DP_VERDICT_REJECTED,    /* the guard refused it; not performed */
	DP_VERDICT_FAILED,      /* performing it failed */
};

const char *dp_verdict_name(enum dp_verdict verdict);

struct dp_action_feedback {
	enum dp_verdict verdict;
	struct dp_rect changed; /* bounding box of the change, screen pixels */
	char message[512];      /* the summary, or why it was rejected or failed */
};

struct dp_feedback {
	const struct dp_action_feedback *actions;
	size_t n_actions;
};

struct dp_policy;

struct dp_policy_impl {
	const char *name;
	int (*start)(struct dp_policy *policy, const struct dp_task_info *task, struct dp_error *err);
	/* Fills decision; no actions at all is an error the loop reports. */
	int (*decide)(struct dp_policy *policy, const struct dp_observation *obs, struct dp_decision *decision,
		      struct dp_error *err);
	void (*feedback)(struct dp_policy *policy, const struct dp_feedback *feedback);
	/* Asked when the policy says done: *agree, and when not, *reason
	 * (malloc'ed) says why, and the loop goes on. NULL: always agrees. */
	int (*verify)(struct dp_policy *policy, const struct dp_observation *obs, const char *summary, bool *agree,
		      char **reason, struct dp_error *err);
	void (*destroy)(struct dp_policy *policy);
};

struct dp_policy {
	const struct dp_policy_impl *impl;
};
