/* One place that turns a task's description into its decider, so the CLI's
 * foreground run and the daemon build policies the same way. */
#pragma once

#include <stdbool.h>

#include "actuators/actuator.h"
#include "engine/error.h"
#include "engine/policy.h"

struct dp_policy_options {
	const char *kind;           /* "flow", "script" or "model"; NULL: from which path is set */
	/* flow */
	const char *flow_path;
	const char *data_path;      /* overrides the flow's "data" */
	const char *const *vars;    /* "name=value", NULL-terminated */
	/* script */
	const char *script_path;
	/* model */
	const char *profile;        /* a profile name or a profile file */
	const char *endpoint;       /* base URL of an OpenAI-compatible server */
	const char *api_key_file;   /* NULL: the profile's api_key_env, else DESKPILOT_API_KEY */
	const char *model_name;     /* overrides the profile's model name */
	bool no_verify;             /* no fresh-context check before "done" */
	int thinking;               /* 0: as the profile says, 1: on, -1: off */
	long stall_s;               /* a reply with no bytes for this long stalled; 0: 120 */
	long request_timeout_s;     /* 0: 600 */
	struct dp_actuator *actuator; /* window titles for flows; may be NULL */
};

/* Returns 0, -EINVAL for a description that names no policy or the wrong
 * parts for it, -EOPNOTSUPP for a policy this build lacks, or what the
 * policy's own create returns. */
int dp_policy_create(struct dp_policy **out, const struct dp_policy_options *options, struct dp_error *err);
