/* A scripted test policy: step N performs script[N-1] (JSON actions, one
 * string per action, NULL-terminated), and repeats the last step once the
 * script runs out.  The verifier says no to the first `vetoes` dones. */
#pragma once

#include "engine/policy.h"

struct scripted_policy {
	struct dp_policy base;
	const char *const *const *script; /* steps, NULL-terminated; each a NULL-terminated list */
	unsigned vetoes;
	const char *veto_reason;
	/* Called at each decide, before the actions are returned (to make an
	 * app react, for instance). */
	void (*on_decide)(unsigned step);
	const struct dp_coord_map *coords; /* the actions' points are in this image space */
	unsigned decided, verified;
	struct dp_feedback last_feedback;
	char last_messages[DP_DECISION_MAX_ACTIONS][512];
	enum dp_verdict last_verdicts[DP_DECISION_MAX_ACTIONS];
	size_t last_n;
};

void scripted_policy_init(struct scripted_policy *p, const char *const *const *script);
