/* A chat-completions reply: the message, why it ended, the token counts,
 * and its reasoning as text for the trajectory. */
#pragma once

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/error.h"

struct dp_model_reply {
	cJSON *root;
	const cJSON *message;      /* choices[0].message, inside root */
	const char *finish_reason; /* "" if none */
	uint64_t tokens_in, tokens_out, tokens_cached;
};

/* -EPROTO with what is wrong for a body that is not a reply (not JSON, no
 * choices[0].message; the server's own error message when it sent one). */
int dp_model_reply_parse(const char *body, size_t len, struct dp_model_reply *reply, struct dp_error *err);
void dp_model_reply_clear(struct dp_model_reply *reply);

/* reasoning_details texts, reasoning_content (vLLM) and content, joined;
 * NULL if none (malloc'ed). */
char *dp_model_reply_reasoning(const cJSON *message);
