/* What the server saw, for tests: GET /stats. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

struct ms_record {
	unsigned long index;    /* 1-based, over all chat requests */
	int64_t t_ms;           /* since the server started */
	char kind[12];          /* "task", "verifier" or "invalid" */
	int status;             /* HTTP status answered */
	char fault[24];         /* the fault played, or "" */
	int64_t prompt_tokens, cached_tokens, completion_tokens;
	int32_t image_w, image_h; /* the last image of the request (0 if none) */
	double think_ms;        /* reading the screenshot and choosing the reply */
	size_t n_messages;
	bool authorized;        /* an Authorization header was sent */
	char step[64];          /* the plan position answered, "[step 3.1 of 9]" */
	char reply[600];        /* the reply's actions, or its text */
	char tool_results[1200]; /* the tool messages after the last assistant message, " | " between */
};

struct ms_stats;

struct ms_stats *ms_stats_create(void);
void ms_stats_destroy(struct ms_stats *s);
/* A new record (zeroed, index and time set); NULL when out of memory. */
struct ms_record *ms_stats_add(struct ms_stats *s, int64_t t_ms);
void ms_stats_violation(struct ms_stats *s, unsigned long request, const char *reason);
size_t ms_stats_violations(const struct ms_stats *s);
/* The whole as JSON (malloc'ed). */
char *ms_stats_json(const struct ms_stats *s);
