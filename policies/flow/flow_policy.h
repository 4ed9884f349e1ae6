/* The flow policy: runs an RPA flow (flow.h) as the decider of the step
 * loop.  Each loop step performs the flow's next action step, resolving
 * its target on the screen the loop just observed; steps that only look
 * (wait_for, expect, if_present, set) cost no loop step unless they wait. */
#pragma once

#include "actuators/actuator.h"
#include "engine/error.h"
#include "engine/policy.h"

struct dp_flow_options {
	const char *flow_path;
	const char *data_path;   /* overrides the flow's "data" */
	const char *const *vars; /* "name=value" pairs, NULL-terminated, override the flow's variables */
	struct dp_actuator *actuator; /* for window titles and window-relative points; may be NULL */
};

/* Loads and checks the flow and its CSV data before anything runs: a
 * missing file, a column the flow names but the CSV lacks, an unknown
 * variable or a flow that reads text without OCR built in are errors. */
int dp_flow_policy_create(struct dp_policy **out, const struct dp_flow_options *options, struct dp_error *err);

/* What the flow did with its rows, for the task's result. */
void dp_flow_policy_summary(const struct dp_policy *policy, char *buf, size_t size);
