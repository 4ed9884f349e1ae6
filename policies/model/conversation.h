/* The message history sent to the model, as cJSON: append-only, so each
 * request starts with the previous one byte for byte and the server's
 * prompt cache keeps working.  The one exception, for profiles with a
 * small context: the oldest screenshots are dropped in chunks, each image
 * part replaced by the text "[screenshot of step N dropped]". */
#pragma once

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

struct dp_conversation;

/* keep: newest screenshots always kept (0: all); chunk: how many older
 * ones go at once when keep + chunk are reached. */
int dp_conversation_create(struct dp_conversation **out, uint32_t keep, uint32_t chunk);
void dp_conversation_destroy(struct dp_conversation *c);

int dp_conversation_add_system(struct dp_conversation *c, const char *text);

/* A user message of text parts (note and text, each may be NULL), then,
 * when data_url is set, the screenshot taken after step `step` (0: before
 * the first step). */
int dp_conversation_add_user(struct dp_conversation *c, const char *note, const char *text, const char *data_url,
			     uint32_t step);

/* The assistant message as the server sent it (copied whole: content,
 * tool_calls, reasoning_details). */
int dp_conversation_add_assistant(struct dp_conversation *c, const cJSON *message);

int dp_conversation_add_tool_result(struct dp_conversation *c, const char *tool_call_id, const char *text);

/* The messages array (owned by c). */
const cJSON *dp_conversation_messages(const struct dp_conversation *c);

/* The same array as JSON text (owned by c, valid until the next change),
 * byte for byte what cJSON_PrintUnformatted gives, but only the messages
 * added since the last call are printed: the history is append-only.
 * NULL when out of memory. */
const char *dp_conversation_json(struct dp_conversation *c, size_t *len);

/* Screenshots now in the history, and how many were dropped so far. */
uint32_t dp_conversation_images(const struct dp_conversation *c);
uint32_t dp_conversation_dropped(const struct dp_conversation *c);
