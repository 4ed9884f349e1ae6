#include "stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MS_MAX_RECORDS 4096
#define MS_MAX_VIOLATIONS 1024

struct ms_violation {
	unsigned long request;
	char reason[400];
};

struct ms_stats {
	struct ms_record *records;
	size_t n, cap;
	unsigned long total;
	struct ms_violation *violations;
	size_t n_violations, cap_violations;
};

struct ms_stats *ms_stats_create(void)
{
	return calloc(1, sizeof(struct ms_stats));
}

void ms_stats_destroy(struct ms_stats *s)
{
	if (!s)
		return;
	free(s->records);
	free(s->violations);
	free(s);
}

struct ms_record *ms_stats_add(struct ms_stats *s, int64_t t_ms)
{
	struct ms_record *r;

	if (s->n >= MS_MAX_RECORDS)
		return NULL;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct ms_record *grown = realloc(s->records, cap * sizeof(*grown));

		if (!grown)
			return NULL;
		s->records = grown;
		s->cap = cap;
	}
	r = &s->records[s->n++];
	memset(r, 0, sizeof(*r));
	r->index = ++s->total;
	r->t_ms = t_ms;
	return r;
}

void ms_stats_violation(struct ms_stats *s, unsigned long request, const char *reason)
{
	if (s->n_violations >= MS_MAX_VIOLATIONS)
		return;
	if (s->n_violations == s->cap_violations) {
		size_t cap = s->cap_violations ? s->cap_violations * 2 : 16;
		struct ms_violation *grown = realloc(s->violations, cap * sizeof(*grown));

		if (!grown)
			return;
		s->violations = grown;
		s->cap_violations = cap;
	}
	s->violations[s->n_violations].request = request;
	snprintf(s->violations[s->n_violations++].reason, sizeof(s->violations[0].reason), "%s", reason);
}

size_t ms_stats_violations(const struct ms_stats *s)
{
	return s->n_violations;
}

char *ms_stats_json(const struct ms_stats *s)
{
	cJSON *root = cJSON_CreateObject(), *reqs, *viol;
	int64_t prompt = 0, cached = 0, completion = 0;
	unsigned long tasks = 0, verifiers = 0;
	char *text;

	if (!root)
		return NULL;
	reqs = cJSON_CreateArray();
	for (size_t i = 0; i < s->n; i++) {
		const struct ms_record *r = &s->records[i];
		cJSON *o = cJSON_CreateObject();

		cJSON_AddNumberToObject(o, "index", (double)r->index);
		cJSON_AddNumberToObject(o, "t_ms", (double)r->t_ms);
		cJSON_AddStringToObject(o, "kind", r->kind);
		cJSON_AddNumberToObject(o, "status", r->status);
		cJSON_AddStringToObject(o, "fault", r->fault);
		cJSON_AddNumberToObject(o, "prompt_tokens", (double)r->prompt_tokens);
		cJSON_AddNumberToObject(o, "cached_tokens", (double)r->cached_tokens);
		cJSON_AddNumberToObject(o, "completion_tokens", (double)r->completion_tokens);
		cJSON_AddNumberToObject(o, "think_ms", r->think_ms);
		cJSON_AddNumberToObject(o, "image_width", r->image_w);
		cJSON_AddNumberToObject(o, "image_height", r->image_h);
		cJSON_AddNumberToObject(o, "messages", (double)r->n_messages);
		cJSON_AddBoolToObject(o, "authorized", r->authorized);
		cJSON_AddStringToObject(o, "step", r->step);
		cJSON_AddStringToObject(o, "reply", r->reply);
		cJSON_AddStringToObject(o, "tool_results", r->tool_results);
		cJSON_AddItemToArray(reqs, o);
		if (r->status == 200) {
			prompt += r->prompt_tokens;
			cached += r->cached_tokens;
			completion += r->completion_tokens;
		}
		tasks += !strcmp(r->kind, "task");
		verifiers += !strcmp(r->kind, "verifier");
	}
	viol = cJSON_CreateArray();
	for (size_t i = 0; i < s->n_violations; i++) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddNumberToObject(o, "request", (double)s->violations[i].request);
		cJSON_AddStringToObject(o, "reason", s->violations[i].reason);
		cJSON_AddItemToArray(viol, o);
	}
	cJSON_AddNumberToObject(root, "requests", (double)s->total);
	cJSON_AddNumberToObject(root, "task_requests", (double)tasks);
	cJSON_AddNumberToObject(root, "verifier_requests", (double)verifiers);
	cJSON_AddNumberToObject(root, "prompt_tokens", (double)prompt);
	cJSON_AddNumberToObject(root, "cached_tokens", (double)cached);
	cJSON_AddNumberToObject(root, "completion_tokens", (double)completion);
	if (s->n) {
		cJSON_AddNumberToObject(root, "last_image_width", s->records[s->n - 1].image_w);
		cJSON_AddNumberToObject(root, "last_image_height", s->records[s->n - 1].image_h);
	}
	cJSON_AddItemToObject(root, "violations", viol);
	cJSON_AddItemToObject(root, "log", reqs);
	text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return text;
}
