/* Conversations as a server with prefix caching sees them.
 *
 * A conversation is named by the hash of its first two messages (system
 * and the first user message).  For each the server keeps the previous
 * request's messages (to check that the history only grows and to count the
 * prefix a cache would hold) and the assistant messages it sent (to check
 * that each comes back whole).
 *
 * Tokens, the rule of this server (documented in README.md of this folder):
 *  - each message costs 4, plus ceil(bytes / 4) for each text in it (a
 *    string content, each text part, each tool call's name, arguments and
 *    id, a tool message's tool_call_id, each reasoning text);
 *  - each image costs its grid: (width / factor) * (height / factor);
 *  - the tools array costs ceil(bytes of its canonical JSON / 4);
 *  - cached tokens are those of the leading segments (tools, then whole
 *    messages) identical to the previous request of the conversation. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "tests/model_server/profile.h"

/* One request cut into cacheable segments: [0] the tools, then each message. */
struct ms_segments {
	size_t n;
	char **canon;    /* canonical JSON of each ("" for no tools) */
	int64_t *tokens;
	uint64_t *norm;  /* hash of each with images and dropped-image notes made equal */
};

int ms_segments_build(const cJSON *tools, const cJSON *messages, const struct ms_profile *p,
		      struct ms_segments *s);
void ms_segments_clear(struct ms_segments *s);
int64_t ms_segments_total(const struct ms_segments *s);

/* Tokens of a text: ceil(bytes / 4). */
int64_t ms_text_tokens(const char *s);

/* The tokens of a message of a reply (completion tokens). */
int64_t ms_message_tokens(const cJSON *message, const struct ms_profile *p);

/* The key of the history before message i: what the reply that became
 * message i was sent for. */
uint64_t ms_prefix_key(const struct ms_segments *s, size_t i);

/* Whether text is exactly a dropped-screenshot note "[screenshot of step N dropped]". */
bool ms_is_dropped_note(const char *text);

struct ms_convo {
	uint64_t id;
	struct ms_segments prev;  /* the previous request (empty before the first) */
	cJSON *prev_messages;
	size_t n_requests;
	struct ms_sent {
		uint64_t key;
		char *canon; /* content, tool_calls, reasoning_details of what was sent */
	} *sent;
	size_t n_sent;
};

struct ms_convos;

struct ms_convos *ms_convos_create(void);
void ms_convos_destroy(struct ms_convos *c);
/* The conversation with id, created when new (NULL only when out of memory). */
struct ms_convo *ms_convos_get(struct ms_convos *c, uint64_t id);

/* What of an assistant message must come back: content (null and absent
 * are the same), tool_calls, reasoning_details; canonical JSON, malloc'ed. */
char *ms_assistant_essence(const cJSON *message);

/* Remembers a reply sent for the history with key. */
int ms_convo_sent(struct ms_convo *cv, uint64_t key, const cJSON *message);
/* Whether a reply with this essence was sent for key; *any_for_key tells
 * whether anything was. */
bool ms_convo_was_sent(const struct ms_convo *cv, uint64_t key, const char *essence, bool *any_for_key);

/* Replaces the remembered previous request. */
int ms_convo_remember(struct ms_convo *cv, struct ms_segments *s, const cJSON *messages);
