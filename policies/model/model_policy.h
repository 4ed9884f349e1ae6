/* The model policy: a multimodal model behind an OpenAI-compatible
 * chat-completions endpoint (MiniMax's API, vLLM, SGLang) chooses the
 * actions from screenshots sent at its native image grid. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/error.h"
#include "engine/policy.h"

enum dp_model_thinking_override {
	DP_MODEL_THINKING_PROFILE, /* as the profile says */
	DP_MODEL_THINKING_ON,
	DP_MODEL_THINKING_OFF,
};

struct dp_model_options {
	const char *profile;      /* a profile name or file */
	const char *endpoint;     /* base URL; NULL: the profile's */
	const char *model_name;   /* NULL: the profile's */
	const char *api_key_file; /* NULL: the profile's api_key_env, else DESKPILOT_API_KEY */
	bool no_verify;           /* skip the fresh-context check of "done" */
	enum dp_model_thinking_override thinking;
	int attempts;             /* per request, 0: 4 */
	long stall_s;             /* no reply bytes for this long: the request stalled; 0: 120 */
	long request_timeout_s;   /* 0: 600 */
};

/* What the last decide cost and sent, for benchmarks and debugging. */
struct dp_model_step_stats {
	int64_t image_ns;        /* resize to the grid and encode */
	int64_t build_ns;        /* the request body */
	int64_t round_trip_ns;   /* HTTP, server time included */
	int64_t parse_ns;        /* the reply to actions */
	size_t request_bytes, image_bytes;
	uint64_t image_tokens;
	int32_t image_w, image_h;
};

int dp_model_policy_create(struct dp_policy **out, const struct dp_model_options *options, struct dp_error *err);

/* Fills stats for the last decide of a model policy; -EINVAL for another
 * policy. */
int dp_model_policy_step_stats(const struct dp_policy *policy, struct dp_model_step_stats *stats);
